#!/usr/bin/env python3
"""forkserver_test.py: libfi's fork server (libfi/forkserver.h), spoken
to directly, as fi-run's sweep does (cli/sweep_server.c).

usage: forkserver_test.py FI_RUN T_FORKSERVER

The probe is started once with FI_FORKSERVER; each request forks a run
that must look like an exec'd one: its constructor runs in it, in its
own directory, process group and streams, with glibc's thread id right,
with its own rules (in its environment for what it execs) and report.
Without the early start the server refuses and the program never runs.
"""
import os, re, signal, struct, subprocess, sys, tempfile, time

fi_run, probe = sys.argv[1:3]
work = tempfile.mkdtemp(prefix="fi-forkserver.")
fails = []


def bad(msg):
    fails.append(msg)
    print("FAIL:", msg)


def early_env():
    """LD_PRELOAD, LD_AUDIT and GLIBC_TUNABLES as fi-run sets them."""
    r = subprocess.run([fi_run, "-v", "--", "/bin/true"], capture_output=True,
                       text=True, timeout=60)
    lib = re.search(r"libfi: (\S+)", r.stderr)
    early = re.search(r"early start with (\S+) \((\S+)\)", r.stderr)
    if not lib or not early:
        print("no early start in fi-run -v:", r.stderr)
        sys.exit(1)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("FI_") and k != "FI_CACHE_DIR":
            del env[k]
    env["LD_PRELOAD"] = lib.group(1)
    env["LD_AUDIT"] = early.group(1)
    env["GLIBC_TUNABLES"] = early.group(2)
    return env


def read_int(fd, timeout=30):
    end = time.time() + timeout
    data = b""
    while len(data) < 4:
        if time.time() > end:
            return None
        chunk = os.read(fd, 4 - len(data))
        if not chunk:
            return None
        data += chunk
    return struct.unpack("i", data)[0]


def start_server(env, args=()):
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    env = dict(env)
    env["FI_FORKSERVER"] = "%d,%d,%d" % (req_r, rep_w, os.getpid())
    out = open(os.path.join(work, "server.out"), "wb")
    # in a process group of its own, as fi-run starts it
    p = subprocess.Popen([probe, *args], env=env, cwd=work,
                         pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.STDOUT,
                         preexec_fn=os.setpgrp)
    os.close(req_r)
    os.close(rep_w)
    return p, req_w, rep_r


def request(req_w, rep_r, rules, report, cwd, out, err):
    fields = [rules, report, cwd, out, err]
    body = b"".join(f.encode() + b"\0" for f in fields)
    os.write(req_w, struct.pack("I", len(body)) + body)
    return read_int(rep_r)


def run_dir(name):
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, "work"))
    with open(os.path.join(d, "work", "probe.in"), "w") as f:
        f.write("x\n")
    return d


def served():
    env = early_env()
    server, req_w, rep_r = start_server(env)
    ready = read_int(rep_r)
    if not ready or ready != server.pid:
        bad("the server's first reply is %r, not its pid %d" %
            (ready, server.pid))
        server.kill()
        return
    runs = [("", "plain"), ("openat path=*probe.in error=EACCES", "ruled")]
    for rules, name in runs:
        d = run_dir(name)
        pid = request(req_w, rep_r, rules, d + "/report", d + "/work",
                      d + "/out", d + "/err")
        if not pid or pid <= 0:
            bad("%s: no run forked: %r" % (name, pid))
            continue
        # CLONE_PARENT: the run is this process's own child
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            bad("%s: run %d is not a child of the requester" % (name, pid))
            continue
        out = open(d + "/out").read()
        err = open(d + "/err").read()
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 3:
            bad("%s: status %#x, not exit 3; out %r err %r" %
                (name, status, out, err))
        want = [
            "ctor in run: yes",
            "cwd: %s/work" % d,
            "own group: yes",
            "pdeathsig: %d" % signal.SIGKILL,
            "tid: glibc's",
            "robust list: set",
            "thread: ok",
            "FI_FORKSERVER: unset",
            "FI_RULES: %s" % rules,
            "run open: %s" % ("EACCES" if rules else "ok"),
            "child open: %s" % ("EACCES" if rules else "ok"),
        ]
        for w in want:
            if w not in out.splitlines():
                bad("%s: no line %r in its stdout:\n%s" % (name, w, out))
        if err != "to stderr\n":
            bad("%s: stderr %r" % (name, err))
        report = open(d + "/report").read() if os.path.exists(
            d + "/report") else ""
        if rules and '"fired":1' not in report.replace(" ", ""):
            bad("%s: the report does not say the rule fired once: %r" %
                (name, report))
    # A request that is not five strings is refused, the server goes on.
    bogus = b"only\0two\0"
    os.write(req_w, struct.pack("I", len(bogus)) + bogus)
    if read_int(rep_r) != -22:
        bad("a malformed request is not refused with -EINVAL")
    d = run_dir("after")
    pid = request(req_w, rep_r, "", d + "/report", d + "/work", d + "/out",
                  d + "/err")
    if not pid or pid <= 0:
        bad("no run after a malformed request")
    else:
        os.waitpid(pid, 0)
    # A run that cannot start in its directory says why, status 125.
    pid = request(req_w, rep_r, "", work + "/r", work + "/missing/dir",
                  work + "/o", work + "/e")
    if pid and pid > 0:
        _, status = os.waitpid(pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 125:
            bad("a run with no directory ended %#x, not 125" % status)
    os.close(req_w)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        bad("the server did not end when its pipe closed")
        server.kill()
    if server.returncode != 0:
        bad("the server ended %r" % server.returncode)
    # Nothing of the server's outlives it: the run it forked ahead, which
    # waits for its request in the server's group, ends with it (it is
    # this process's child, CLONE_PARENT: reap it).
    end = time.time() + 10
    while True:
        try:
            while os.waitpid(-server.pid, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            break
        if time.time() > end:
            bad("a process of the server's group outlived it")
            break
        time.sleep(0.05)
    so = open(os.path.join(work, "server.out")).read()
    if "cannot change to " + work + "/missing/dir" not in so:
        bad("the failed run's reason is not on stderr: %r" % so)
    if "ctor in run" in so:
        bad("the server itself ran main: %r" % so)


def refused():
    env = early_env()
    del env["LD_AUDIT"]  # constructors run before libfi's: too late
    server, req_w, rep_r = start_server(env)
    if read_int(rep_r) != 0:
        bad("without the early start the server does not refuse")
    server.wait(timeout=30)
    so = open(os.path.join(work, "server.out")).read()
    if server.returncode != 0 or so:
        bad("a refusing server ended %r with output %r" %
            (server.returncode, so))


served()
refused()
if fails:
    print("%d failure(s); files in %s" % (len(fails), work))
    sys.exit(1)
print("ok")
