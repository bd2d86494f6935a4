#!/usr/bin/env python3
"""sweep_bench.py: what a sweep costs over the bare runs it stands for
(issue 17, part 9). One run, side by side, in interleaved rounds:

  bare  N runs of the program, one after the other, each from a fresh
        copy of the work directory (the copy is not timed);
  -j1   fi-run --sweep -j 1 over the same command, N = the runs the sweep
        made (faults and streaks; its three baseline runs are overhead);
  -j2   the same sweep with -j 2;
  bare-j2  the bare runs two at a time (every copy made first,
        untimed): what this machine gives -j2 with no fi at all.

It prints the medians over the rounds and the goals' ratios: -j1 / bare
(goal at most 1.2) and -j2 / -j1 (goal at most 0.6 on 2 cores), plus the
time each sweep run costs over a bare one.

    python3 bench/sweep_bench.py --build build [--program gzip|sqlite3]

The patch-plan cache (FI_CACHE_DIR) is the run's own, filled by one
untimed sweep first: the figures are for a warm cache. Other work on the
machine shows up in the figures; run it several times.

Everything goes under $TMPDIR: the bare runs' copies and the sweeps'
scratch directories alike, so `TMPDIR=/dev/shm python3 bench/...`
measures both on a tmpfs (no disk, no ext4 inode scans, no discards).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# A deterministic text of about `size` bytes that compresses like prose.
WORDS = ("the sweep fails every syscall site in turn and sorts each run "
         "into handled recovered ignored crash hang or sanitizer report "
         "while the patch plan cache keeps start up short").split()


def text(size):
    out, x = [], 12345
    n = 0
    while n < size:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        w = WORDS[x % len(WORDS)]
        out.append(w)
        n += len(w) + 1
        if x % 11 == 0:
            out.append("\n")
    return " ".join(out)[:size]


SQL = """
create table t(id integer primary key, name text, n integer);
begin;
{inserts}
commit;
create index t_n on t(n);
select count(*), sum(n) from t where n % 7 = 3;
update t set n = n + 1 where id % 5 = 0;
delete from t where id % 13 = 0;
select name, n from t order by n desc limit 3;
"""


def make_workdir(program, d, size):
    os.makedirs(d)
    if program == "gzip":
        with open(os.path.join(d, "f.txt"), "w") as f:
            f.write(text(size))
        return ["gzip", "-kf", "f.txt"]
    rows = "\n".join("insert into t(name, n) values('row%d', %d);" %
                     (i, (i * 7919) % 1000) for i in range(size // 40))
    with open(os.path.join(d, "s.sql"), "w") as f:
        f.write(SQL.format(inserts=rows))
    return ["sqlite3", "t.db", ".read s.sql"]


def bare(argv, src, scratch, n):
    """n runs, each in a fresh copy of src; the seconds of the runs."""
    total = 0.0
    null = os.open(os.devnull, os.O_RDWR)
    for i in range(n):
        d = os.path.join(scratch, "bare")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d, symlinks=True)
        # posix_spawn (vfork-like, as fi-run starts its runs), in d: a
        # fork of this Python process would cost more than gzip itself.
        os.chdir(d)
        t = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
            (os.POSIX_SPAWN_DUP2, null, 2)])
        _, st = os.waitpid(pid, 0)
        total += time.perf_counter() - t
        os.chdir(scratch)
        if st != 0:
            sys.exit("sweep_bench.py: the bare run failed: status %d" % st)
    os.close(null)
    return total


def bare_j2(argv, src, scratch, n):
    """n runs two at a time, each in a fresh copy of src (all the copies
    made first, untimed): what this machine gives -j2 with no fi at all."""
    dirs = []
    for i in range(n):
        d = os.path.join(scratch, "bare2-%d" % i)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d, symlinks=True)
        dirs.append(d)
    null = os.open(os.devnull, os.O_RDWR)
    running, nxt = {}, 0
    t = time.perf_counter()
    while nxt < n or running:
        while nxt < n and len(running) < 2:
            os.chdir(dirs[nxt])
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
                (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                (os.POSIX_SPAWN_DUP2, null, 2)])
            running[pid] = nxt
            nxt += 1
        pid, st = os.wait()
        if pid in running:
            del running[pid]
            if st != 0:
                sys.exit("sweep_bench.py: a bare run failed: status %d" % st)
    dt = time.perf_counter() - t
    os.chdir(scratch)
    os.close(null)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
    return dt


def sweep(fi_run, argv, src, jobs, out):
    cmd = [fi_run, "-q", "--sweep", "-j", str(jobs), "--workdir", src,
           "--json", out, "--"] + argv
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit("sweep_bench.py: %s exited %d: %s" %
                 (" ".join(cmd), r.returncode,
                  r.stderr.decode(errors="replace")))
    with open(out) as f:
        rep = json.load(f)
    return dt, rep["summary"]["runs"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the build directory")
    ap.add_argument("--fi-run", help="fi-run to measure (default: BUILD/cli/fi-run)")
    ap.add_argument("--base", help="another fi-run, swept at -j1 in the same "
                    "rounds (before/after a change)")
    ap.add_argument("--program", default="gzip", choices=("gzip", "sqlite3"))
    ap.add_argument("--size", type=int, default=65536,
                    help="bytes of input (gzip) or of inserts (sqlite3)")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    fi_run = os.path.abspath(a.fi_run or os.path.join(a.build, "cli", "fi-run"))
    if a.base:
        a.base = os.path.abspath(a.base)
    if not os.access(fi_run, os.X_OK):
        sys.exit("sweep_bench.py: %s is missing (ninja -C %s)" % (fi_run, a.build))
    if not shutil.which(a.program):
        sys.exit("sweep_bench.py: %s is not installed" % a.program)

    tmp = tempfile.mkdtemp(prefix="fi-sweep-bench.")
    try:
        os.environ["FI_CACHE_DIR"] = os.path.join(tmp, "cache")
        src = os.path.join(tmp, "src")
        argv = make_workdir(a.program, src, a.size)
        out = os.path.join(tmp, "r.json")
        _, n = sweep(fi_run, argv, src, 1, out)  # fills the cache
        order = ["bare", "bare-j2", "j1", "j2"] + (["base-j1"] if a.base else [])
        res = {k: [] for k in order}
        for r in range(a.rounds):
            for k in order[r % len(order):] + order[:r % len(order)]:
                if k == "bare":
                    res[k].append(bare(argv, src, tmp, n))
                elif k == "bare-j2":
                    res[k].append(bare_j2(argv, src, tmp, n))
                else:
                    dt, runs = sweep(a.base if k == "base-j1" else fi_run,
                                     argv, src, int(k[-1]), out)
                    if runs != n:
                        sys.exit("sweep_bench.py: the sweep made %d runs, "
                                 "then %d" % (n, runs))
                    res[k].append(dt)
        med = {k: statistics.median(v) for k, v in res.items()}
        print("program: %s (%s), %d sweep runs (+3 baseline), %d rounds, "
              "fi-run %s" % (" ".join(argv), a.program, n, a.rounds, fi_run))
        for k in order:
            print("%-7s median %7.3f s  (min %.3f, max %.3f)  %.2f ms a run"
                  % (k, med[k], min(res[k]), max(res[k]), med[k] / n * 1e3))
        print("-j1 / bare: %.2f (goal <= 1.2)" % (med["j1"] / med["bare"]))
        print("-j2 / -j1:  %.2f (goal <= 0.6)" % (med["j2"] / med["j1"]))
        print("bare two at a time / bare: %.2f (what the machine gives)" %
              (med["bare-j2"] / med["bare"]))
        print("a sweep run over a bare one at -j1: %+.2f ms" %
              ((med["j1"] - med["bare"]) / n * 1e3))
        if a.base:
            print("base -j1 / bare: %.2f (%s)" % (med["base-j1"] / med["bare"],
                                                a.base))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
