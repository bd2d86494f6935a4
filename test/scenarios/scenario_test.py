#!/usr/bin/env python3
"""scenario_test.py: a bundled scenario, run under fi-run on real programs,
does what its header says (scenarios/NAME.fi). Where strace can inject the
same fault, strace 6.1 runs the same program too and must agree.

    scenario_test.py FI_RUN SCENARIOS_DIR NAME

Exit 0 when every check holds, 1 otherwise, 77 when a program it needs is
missing (ci/setup.sh installs them)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

FI_RUN, SCN_DIR, NAME = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3]
SCN = os.path.join(os.path.realpath(SCN_DIR), NAME + ".fi")
# The system's python3, not a wrapper script (pyenv's shim is bash).
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else None
STRACE = shutil.which("strace")
failed = []
checks = 0


def need(*progs):
    for p in progs:
        if not (shutil.which(p) if "/" not in p else os.access(p, os.X_OK)):
            print(f"SKIP: {p} is not installed (ci/setup.sh installs it)")
            sys.exit(77)


def run(argv, fi=True, seed=None, record=None, stdin=None, timeout=60, env=None):
    """argv under fi-run -s NAME (or bare, or under strace when fi is a
    list of strace options): (status, stdout bytes, stderr text, seconds)."""
    if fi is True:
        cmd = [FI_RUN, "-s", SCN]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        if record:
            cmd += ["--record", record]
        cmd += ["--"] + argv
    elif fi:
        cmd = [STRACE, "-f", "-qq", "-o", "/dev/null"] + fi + argv
    else:
        cmd = argv
    t = time.monotonic()
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, env=env)
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return rc, p.stdout, p.stderr.decode(errors="replace"), time.monotonic() - t


def check(ok, what, detail=""):
    global checks
    checks += 1
    if not ok:
        failed.append(f"{what}{': ' + detail if detail else ''}")


def program_lines(err):
    """stderr without fi's summary lines."""
    return "\n".join(l for l in err.splitlines() if not l.startswith("fi: "))


def expect(argv, status, message, **kw):
    """argv under the scenario exits `status` and says `message` on stderr."""
    rc, out, err, _ = run(argv, **kw)
    check(rc == status and message in err,
          f"-s {NAME} -- {' '.join(argv)}",
          f"status {rc} (expected {status}), stderr {err!r} (expected it to say {message!r})")
    return rc, out, err


def same_as_strace(argv, opts):
    """fi and strace with `opts` (-e ... as strace takes them) agree on
    argv's status and the first line of its own stderr (dd's next ones
    hold its speed)."""
    if not STRACE:
        print("note: strace not installed, comparison skipped")
        return
    a = run(argv)
    b = run(argv, fi=opts)
    first = [program_lines(x[2]).split("\n")[0] for x in (a, b)]
    check(a[0] == b[0] and first[0] == first[1],
          f"-s {NAME} -- {' '.join(argv)} against strace {' '.join(opts)}",
          f"fi: status {a[0]}, {first[0]!r}; strace: status {b[0]}, {first[1]!r}")


def trace(path, pid=None):
    recs = [json.loads(l) for l in open(path) if l.strip()]
    if pid is None and recs:
        pid = recs[0]["pid"]
    return [r for r in recs if r["pid"] == pid]


def summary(err):
    """fi's summary, pids left out: what must repeat with the seed."""
    return [re.sub(r"pid \d+", "pid P", l) for l in err.splitlines() if l.startswith("fi: ")]


# --- one function per scenario -------------------------------------------

def disk_full():
    # "Every write from the 3rd on fails with ENOSPC, as do the calls that
    # copy into ... a file ... `cp a b` ends in 'No space left on device'."
    need("cp", "dd")
    expect(["cp", "big", "out"], 1, "No space left on device")
    expect(["dd", "if=big", "of=out", "bs=1k"], 1, "No space left on device")
    # Writes to stderr pass: dd's own report of what it copied is there.
    rc, _, err = expect(["dd", "if=big", "of=out", "bs=1k"], 1, "records in")
    same_as_strace(["dd", "if=big", "of=out", "bs=1k"],
                   ["-e", "inject=write:error=ENOSPC:when=3+", "-P", os.path.abspath("out")])


def eintr_storm():
    # "Half of the slow calls return EINTR at random (seeded: FI_SEED
    # repeats a run); code that does not retry loses data."
    need(PY or "/usr/bin/python3")
    reader = ["import os",
              "fd = os.open('big', os.O_RDONLY); n = 0",
              "while True:",
              "    b = os.read(fd, 1000)   # retries EINTR (PEP 475)",
              "    if not b: break",
              "    n += len(b)",
              "print(n)"]
    argv = [PY, "-c", "\n".join(reader)]
    rc, out, err, _ = run(argv, seed=7, record="t.jsonl")
    check(rc == 0 and out == b"100000\n", "a reader that retries gets every byte",
          f"status {rc}, {out!r}, {err!r}")
    reads = [r for r in trace("t.jsonl") if r["name"] == "read"]
    eintr = sum(1 for r in reads if r.get("errno") == "EINTR")
    check(len(reads) > 40 and 0.25 < eintr / len(reads) < 0.75,
          "about half the reads return EINTR", f"{eintr} of {len(reads)}")
    # The same seed repeats the run, through FI_SEED as through --seed.
    env = dict(os.environ, FI_SEED="7")
    runs = [summary(run(argv, seed=7)[2]), summary(run(argv, env=env)[2]),
            summary(run(argv, seed=8)[2])]
    check(runs[0] == runs[1], "FI_SEED=7 repeats --seed 7", f"{runs[0]} != {runs[1]}")
    check(runs[0] != runs[2], "another seed, another run", f"{runs[0]}")
    # Python retries by itself unless a signal handler raises: a raw
    # read through ctypes does not.
    raw = ["import ctypes, os",
           "libc = ctypes.CDLL(None, use_errno=True)",
           "fd = os.open('big', os.O_RDONLY); buf = ctypes.create_string_buffer(1000); n = 0",
           "while True:",
           "    r = libc.read(fd, buf, 1000)",
           "    if r <= 0: break",
           "    n += r",
           "print(n, os.strerror(ctypes.get_errno()) if r < 0 else 'end')"]
    rc, out, err, _ = run([PY, "-c", "\n".join(raw)], seed=7)
    check(rc == 0 and out.endswith(b"Interrupted system call\n") and not out.startswith(b"100000 "),
          "a reader that does not retry loses data", f"status {rc}, {out!r}")


def first_read_interrupted():
    # "the first read is interrupted, the second finds no data yet, then
    # the data arrives; later a write hits a full pipe once ...
    # Deterministic." The first close is pretended.
    need(PY or "/usr/bin/python3")
    prog = ["import os",
            "for c in (b'a', b'b', b'c'):",
            "    while True:",
            "        try:",
            "            os.write(1, c); break",
            "        except BlockingIOError: pass",
            ]
    argv = [PY, "-c", "\n".join(prog)]
    seqs = []
    for i in range(2):
        rc, out, err, _ = run(argv, record=f"t{i}.jsonl")
        check(rc == 0 and out == b"abc", "a writer that retries EAGAIN writes all",
              f"status {rc}, {out!r}, {err!r}")
        recs = trace(f"t{i}.jsonl")
        res = {n: [r.get("errno", "ok") for r in recs if r["name"] == n][:3]
               for n in ("read", "write", "close")}
        check(res["read"] == ["EINTR", "EAGAIN", "ok"], "reads: EINTR, EAGAIN, then data",
              str(res["read"]))
        check(res["write"] == ["ok", "EAGAIN", "ok"], "writes: ok, EAGAIN, ok", str(res["write"]))
        first_close = next(r for r in recs if r["name"] == "close")
        check(first_close.get("injected") and first_close["ret"] == 0,
              "the first close is pretended", str(first_close))
        seqs.append([(r["name"], r["ret"] if r["ret"] is None or r["ret"] < 0 else "ok")
                     for r in recs if r["name"] in ("read", "write", "close")])
    check(seqs[0] == seqs[1], "two runs, the same results")


def flaky_network():
    # "Connections are refused now and then, established ones reset, sends
    # see a broken pipe and reads time out. ... FI_SEED repeats a run."
    need(PY or "/usr/bin/python3")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    port = srv.getsockname()[1]

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                d = c.recv(4)
                if d:
                    c.sendall(d)
            except OSError:
                pass
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    client = ["import errno, json, socket, time",
              "out = []",
              "for i in range(40):",
              "    t = time.monotonic(); s = socket.socket()",
              "    try:",
              f"        s.connect(('127.0.0.1', {port}))",
              "        s.sendall(b'ping')",
              "        r = s.recv(4)",
              "        out.append(['ok' if r == b'ping' else repr(r), 0])",
              "    except OSError as e:",
              "        out.append([errno.errorcode.get(e.errno, str(e.errno)), time.monotonic() - t])",
              "    s.close()",
              "print(json.dumps(out))"]
    argv = [PY, "-c", "\n".join(client)]
    rc, out, err, _ = run(argv, seed=3)
    srv_ok = rc == 0
    check(srv_ok, "the client runs", f"status {rc}, {err!r}")
    if not srv_ok:
        return
    res = json.loads(out)
    kinds = [k for k, _ in res]
    allowed = {"ok", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE", "ECONNRESET", "EAGAIN"}
    check(kinds[0] == "ECONNREFUSED", "the first connect is refused", str(kinds))
    check(set(kinds) <= allowed, "only the header's errors", str(set(kinds) - allowed))
    check("ok" in kinds and len(set(kinds) - {"ok"}) >= 3,
          "some exchanges work, and several kinds of failure show", str(kinds))
    slow = [s for k, s in res if k == "EHOSTUNREACH"]
    check(all(s >= 0.18 for s in slow), "EHOSTUNREACH comes after 200 ms", str(slow))
    again = json.loads(run(argv, seed=3)[1])
    check([k for k, _ in again] == kinds, "the same seed repeats the run",
          f"{kinds} != {[k for k, _ in again]}")
    srv.close()


def fork_fails():
    # "fork, vfork, clone and clone3 (so posix_spawn, system() and
    # pthread_create too) fail with EAGAIN; the program must report it."
    need("dash", "bash")
    # A command before another: the shell must fork for it.
    expect(["dash", "-c", "/bin/true; echo done"], 2, "Cannot fork")
    same_as_strace(["dash", "-c", "/bin/true; echo done"],
                   ["-e", "inject=fork,vfork,clone,clone3:error=EAGAIN"])
    # bash retries for about 15 s (1+2+4+8), then gives up.
    expect(["bash", "-c", "/bin/true; echo done"], 254, "fork: Resource temporarily unavailable",
           timeout=100)
    if PY:
        expect([PY, "-c", "import subprocess; subprocess.run(['true'])"], 1,
               "BlockingIOError: [Errno 11] Resource temporarily unavailable")
        expect([PY, "-c", "import threading; threading.Thread(target=print).start()"], 1,
               "can't start new thread")


def no_memory():
    # "New mappings and heap growth fail with ENOMEM from the 10th on, so
    # start-up still works ...; malloc returns NULL and the program must cope."
    need(PY or "/usr/bin/python3", "sort")
    expect([PY, "-c", "l = [bytearray(1 << 20) for _ in range(20)]"], 1, "MemoryError")
    rc, out, err, _ = run(["sort", "nums"])
    want = run(["sort", "nums"], fi=False)[1]
    check(rc == 0 and out == want, "sort copes with less memory", f"status {rc}, {err!r}")
    check(re.search(r"mmap .*: fired \d+ time", err) is not None,
          "sort's own mappings were refused", err)


def permission_denied():
    # "Opening, creating and removing under /etc and /var/lib fail with
    # EACCES; removing or chmod'ing anything fails with EPERM."
    need("cat", "ls", "mkdir", "rm", "chmod", "dash")
    expect(["cat", "/etc/hostname"], 1, "/etc/hostname: Permission denied")
    same_as_strace(["cat", "/etc/hostname"],
                   ["-P", "/etc/hostname", "-e", "inject=openat:error=EACCES"])
    expect(["ls", "/var/lib/dpkg"], 2, "cannot open directory '/var/lib/dpkg': Permission denied")
    expect(["dash", "-c", "test -r /etc/hostname || echo no >&2; exit 3"], 3, "no")
    expect(["mkdir", "newdir"], 1, "Permission denied")
    expect(["rm", "small"], 1, "Operation not permitted")
    same_as_strace(["rm", "small"], ["-e", "inject=unlinkat:error=EPERM"])
    expect(["chmod", "600", "small"], 1, "Operation not permitted")
    rc, out, err, _ = run(["cat", "small"])
    check(rc == 0 and out == b"hello\n", "files elsewhere still open", f"status {rc}, {err!r}")


def readonly_fs():
    # "Every call that changes the file system ... fails with EROFS. Opens
    # for reading, and reads, keep working."
    need("cp", "cat", "rm", "mkdir", "mv", "touch", "ln", "chmod", "dash")
    ro = "Read-only file system"
    expect(["cp", "small", "out"], 1, ro)
    expect(["dash", "-c", "echo x >c"], 2, ro)
    for argv in (["rm", "small"], ["mkdir", "d"], ["mv", "small", "moved"],
                 ["touch", "new"], ["ln", "-s", "small", "l"], ["chmod", "600", "small"],
                 ["truncate", "-s", "0", "small"]):
        expect(argv, 1, ro)
    same_as_strace(["rm", "small"], ["-e", "inject=unlinkat:error=EROFS"])
    same_as_strace(["mkdir", "d"], ["-e", "inject=mkdir:error=EROFS"])
    rc, out, err, _ = run(["cat", "small"])
    check(rc == 0 and out == b"hello\n", "reads keep working", f"status {rc}, {err!r}")
    check(os.path.exists("small") and not os.path.exists("d") and not os.path.exists("new"),
          "nothing changed on disk")


def short_io():
    # "Every read and write is cut to a few bytes; code that assumes one
    # call moves the whole buffer corrupts or truncates its data."
    need("cat", "dd")
    data = open("mid", "rb").read()
    rc, out, err, _ = run(["cat"], stdin=data)
    check(rc == 0 and out == data, "cat loops, and copies all", f"status {rc}, {len(out)} bytes")
    # dd takes one read per block: a short read is a short block.
    rc, out, err, _ = run(["dd", "if=mid", "of=o1", f"bs={len(data)}", "count=1"])
    check(rc == 0 and os.path.getsize("o1") == 3 and "0+1 records in" in err,
          "dd count=1 copies what one short read gave", f"status {rc}, {err!r}")
    rc, out, err, _ = run(["dd", "if=mid", "of=o2", f"bs={len(data)}", "count=1", "iflag=fullblock"])
    check(rc == 0 and open("o2", "rb").read() == data, "dd iflag=fullblock copies all",
          f"status {rc}, {err!r}")
    if PY:
        rc, out, err, _ = run([PY, "-c", "import os; print(os.write(1, b'hello world'))"])
        check(rc == 0 and out == b"h1\n", "one write moves 1 byte", f"{out!r}")


def slow_disk():
    # "Nothing fails; every file read and write waits first, and syncs
    # wait longer."
    need("dd")
    n = 8  # blocks
    rc, out, err, took = run(["dd", "if=mid", "of=o", "bs=1k", f"count={n}", "conv=fsync",
                              "status=none"])
    check(rc == 0 and open("o", "rb").read() == open("mid", "rb").read()[:n * 1024],
          "nothing fails", f"status {rc}, {err!r}")
    # n reads and n writes of 20 ms, one fsync of 500 ms, at the least.
    check(took >= 0.5 + 2 * n * 0.02, "the calls waited", f"{took:.2f} s")
    check(re.search(r"@sync .*: fired 1 time", err) is not None, "the fsync waited", err)
    check(re.search(r"@read .*path=/\*.*: fired (\d+) time", err) is not None,
          "file reads waited", err)


def strace_compat():
    # "strace's own -e inject= and -e fault= syntax, as is": each line,
    # given to strace after -e, does the same.
    need("cat")
    opts = []
    for line in open(SCN):
        line = line.split("#")[0].strip()
        if line:
            opts += ["-e", line]
    # The first openat raises SIGUSR1, which ends the program before it
    # can report (the summary says "no report from the program").
    expect(["cat", "/etc/hostname"], 128 + 10, "")
    same_as_strace(["cat", "/etc/hostname"], opts)


def main():
    work = tempfile.mkdtemp(prefix="fi-scenario-")
    os.environ["FI_CACHE_DIR"] = os.path.join(work, "cache")
    os.chdir(work)
    try:
        with open("big", "wb") as f:
            f.write(b"\0" * 100000)
        with open("mid", "wb") as f:
            f.write(os.urandom(10000))
        with open("small", "w") as f:
            f.write("hello\n")
        with open("nums", "w") as f:
            f.write("".join(f"{(i * 7919) % 200000}\n" for i in range(200000)))
        globals()[NAME]()
    except subprocess.TimeoutExpired as e:
        failed.append(f"timed out: {e.cmd}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failed:
        print("FAIL:", f)
    if not failed:
        print(f"PASS {NAME} ({checks} checks)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
