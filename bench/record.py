#!/usr/bin/env python3
"""record.py: what --record costs (issue 16, part 1). One run, side by side:
fi_record_bench (N one-byte writes to /dev/null) bare, under
`fi-run -q --record FILE` and under `strace -f -o FILE`, in interleaved
rounds (wall seconds of the whole command, median), then user-space
instructions per recorded write with callgrind (FI_TRACE and LD_PRELOAD,
the loop at two sizes, the difference divided by the extra iterations, so
start-up cancels out).

    python3 bench/record.py --build build
    python3 bench/record.py --build build --base ../old/build  # A/B
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def wall(argv, env):
    """Wall seconds, CPU seconds (user + system) and minor page faults of
    the command's whole process tree (its rusage, which counts the
    children it waited for)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("record.py: %s failed (%d): %s" %
                 (argv[0], p.returncode, err.decode(errors="replace")))
    return dt, ru.ru_utime + ru.ru_stime, ru.ru_minflt


def callgrind_total(argv, env, out):
    subprocess.run(["valgrind", "--tool=callgrind", "--smc-check=all",
                    "--callgrind-out-file=" + out] + argv, env=env,
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    sys.exit("record.py: no totals in " + out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the build directory")
    ap.add_argument("-n", type=int, default=200000, help="writes per run")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cg-n", type=int, default=20000,
                    help="callgrind: the loop at this size and twice it")
    ap.add_argument("--skip", default="", help="comma list: strace,callgrind")
    ap.add_argument("--base", metavar="BUILD",
                    help="also time fi-run of another build directory "
                    "(an older commit), in the same rounds")
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    prog = os.path.join(a.build, "bench", "fi_record_bench")
    fi_run = os.path.join(a.build, "cli", "fi-run")
    libfi = os.path.join(a.build, "libfi", "libfi.so")
    for p in (prog, fi_run, libfi):
        if not os.path.exists(p):
            sys.exit("record.py: %s is missing (ninja -C %s bench)" % (p, a.build))
    if "strace" not in skip and not shutil.which("strace"):
        skip.add("strace")
    tmp = tempfile.mkdtemp(prefix="fi-record-")
    env = dict(os.environ)
    env.setdefault("FI_CACHE_DIR", os.path.join(tmp, "cache"))
    n = str(a.n)
    trace = os.path.join(tmp, "t.jsonl")
    cmds = {
        "bare": [prog, n],
        "fi-run --record": [fi_run, "-q", "--record", trace, "--", prog, n],
        "strace -f -o": ["strace", "-f", "-o", os.path.join(tmp, "s.log"),
                         prog, n],
    }
    if a.base:
        cmds["fi-run --record (base)"] = [
            os.path.join(a.base, "cli", "fi-run"), "-q", "--record",
            os.path.join(tmp, "b.jsonl"), "--", prog, n]
    if "strace" in skip:
        del cmds["strace -f -o"]
    wall(cmds["fi-run --record"], env)  # warm the plan cache
    times = {k: [] for k in cmds}
    for _ in range(a.rounds):
        for k, argv in cmds.items():
            times[k].append(wall(argv, env))
    with open(trace) as f:
        records = sum(1 for _ in f)
    if records < a.n:
        sys.exit("record.py: the trace holds %d records, fewer than %d writes"
                 % (records, a.n))

    cg = {}
    if "callgrind" not in skip and shutil.which("valgrind"):
        small, large = str(a.cg_n), str(2 * a.cg_n)
        for k, extra in (("bare", {}),
                         ("fi-run --record",
                          {"FI_TRACE": os.path.join(tmp, "cg.jsonl"),
                           "LD_PRELOAD": os.path.abspath(libfi)})):
            e = dict(env, **extra)
            lo = callgrind_total([prog, small], e, os.path.join(tmp, "cg.s"))
            hi = callgrind_total([prog, large], e, os.path.join(tmp, "cg.l"))
            cg[k] = (hi - lo) / a.cg_n

    def med(k, i):
        return statistics.median(t[i] for t in times[k])

    bare = med("bare", 0)
    print("fi_record_bench: %d one-byte writes to /dev/null; median of %d "
          "interleaved rounds, wall seconds of the whole command; CPU "
          "seconds and minor faults of its process tree" % (a.n, a.rounds))
    print()
    print("| configuration | median s | min s | ratio to bare | us per record | CPU s | CPU ratio | minor faults | instructions per write |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in cmds:
        m = med(k, 0)
        per = "" if k == "bare" else "%.2f" % ((m - bare) / a.n * 1e6)
        ins = cg.get(k)
        ins = "" if ins is None else "%.0f" % ins
        print("| %s | %.3f | %.3f | %.2fx | %s | %.3f | %.2fx | %d | %s |" %
              (k, m, min(t[0] for t in times[k]), m / bare, per, med(k, 1),
               med(k, 1) / med("bare", 1), med(k, 2), ins))
    print()
    print("rounds: " + "; ".join(
        "%s %s" % (k, " ".join("%.2f" % t[0] for t in v))
        for k, v in times.items()))
    print("load average at the end: " + " ".join(
        open("/proc/loadavg").read().split()[:3]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
