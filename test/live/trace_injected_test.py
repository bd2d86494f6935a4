#!/usr/bin/env python3
"""trace_injected_test.py: traces say what happened (docs/trace.md).

usage: trace_injected_test.py FI_RUN

A call fi changed carries "injected": true, its args and path are what the
program passed, and what fi gave the kernel instead is in fields of its
own (short_to, redirected_to, ran_instead, poked). A successful execve's record names the
path and the argv it ran; a long argv is cut and said to be.
"""
import json, os, subprocess, sys, tempfile

fi_run = sys.argv[1]
work = tempfile.mkdtemp(prefix="fi-trace-inj.")
os.environ["FI_CACHE_DIR"] = os.path.join(work, "cache")
fails = []


def bad(msg):
    fails.append(msg)


def run(rules, argv):
    tr = os.path.join(work, "t.trace")
    cmd = [fi_run, "-q", "--record", tr]
    for r in rules:
        cmd += ["-r", r]
    p = subprocess.run(cmd + ["--"] + argv, capture_output=True, timeout=60)
    recs = [json.loads(l) for l in open(tr, "rb").read().splitlines() if l]
    return p, recs


src = os.path.join(work, "asked.txt")
dst = os.path.join(work, "given.txt")
open(src, "w").write("asked\n")
open(dst, "w").write("given\n")

# redirect=: the program's path stays in path, the one used in redirected_to
p, recs = run(["openat path=%s redirect=%s" % (src, dst)], ["cat", src])
if p.stdout != b"given\n":
    bad("redirect: cat printed %r" % p.stdout)
opens = [r for r in recs if r["name"] == "openat" and r.get("path") == src]
if len(opens) != 1:
    bad("redirect: %d openat records of %s" % (len(opens), src))
else:
    r = opens[0]
    if r.get("injected") is not True or r.get("redirected_to") != dst:
        bad("redirect: record %r" % r)
    if r["ret"] < 0:
        bad("redirect: the redirected open failed: %r" % r)
plain = [r for r in recs if "injected" in r and r not in opens]
if plain:
    bad("redirect: calls fi did not change say injected: %r" % plain[:2])

# short=: args say the program's count, short_to what the kernel got
p, recs = run(["write fd=1 short=4"], ["/bin/echo", "0123456789"])
if p.stdout != b"0123456789\n":
    bad("short: echo printed %r" % p.stdout)
ws = [r for r in recs if r["name"] == "write" and r["args"][0] == 1]
got = [(r["args"][2], r.get("short_to"), r["ret"], r.get("injected"))
       for r in ws]
if got != [(11, 4, 4, True), (7, 4, 4, True), (3, 3, 3, True)]:
    bad("short: writes (count, short_to, ret, injected) %r" % got)

# retval= and error=: fi's result, the program's args
p, recs = run(["write fd=1 retval=11", "openat path=%s error=EACCES" % dst],
              ["sh", "-c", "/bin/echo 0123456789; cat %s" % dst])
if p.stdout != b"":
    bad("retval: echo printed %r" % p.stdout)
w = [r for r in recs if r["name"] == "write" and r["args"][0] == 1]
if [(r["args"][2], r["ret"], r.get("injected")) for r in w] != [(11, 11, True)]:
    bad("retval: %r" % w)
o = [r for r in recs if r["name"] == "openat" and r.get("path") == dst]
if [(r["ret"], r.get("errno"), r.get("injected")) for r in o] != \
        [(-13, "EACCES", True)]:
    bad("error: %r" % o)

# syscall=: the rule's result, and the syscall the kernel ran instead
p, recs = run(["write fd=1 syscall=getppid retval=11"], ["/bin/echo", "0123456789"])
w = [r for r in recs if r["name"] == "write" and r["args"][0] == 1]
if p.stdout != b"" or [(r["args"][2], r["ret"], r.get("injected"),
                        r.get("ran_instead")) for r in w] != \
        [(11, 11, True, "getppid")]:
    bad("syscall=: stdout %r, %r" % (p.stdout, w))

# poke_exit=: the bytes written where the argument points, after the call
p = subprocess.run([fi_run, "-q", "--record", os.path.join(work, "t.trace"),
                    "-r", "getcwd poke_exit=@arg1=2f6e6f6e65", "--", "pwd", "-P"],
                   capture_output=True, timeout=60, cwd=work)
recs = [json.loads(l) for l in open(os.path.join(work, "t.trace"), "rb")]
g = [r for r in recs if r["name"] == "getcwd"]
if not p.stdout.startswith(b"/none") or len(g) != 1 or \
        g[0].get("injected") is not True or g[0]["ret"] <= 0 or \
        g[0].get("poked") != [{"arg": 1, "at": "exit", "len": 5,
                               "data": "2f6e6f6e65"}]:
    bad("poke_exit: pwd printed %r, %r" % (p.stdout, g))
# poke_enter=: before the call; an argument the call lacks is not written
p, recs = run(["write fd=1 poke_enter=@arg2=5a5a,@arg5=41"],
              ["/bin/echo", "hello"])
w = [r for r in recs if r["name"] == "write" and r["args"][0] == 1]
if p.stdout != b"ZZllo\n" or [(r["ret"], r.get("injected"), r.get("poked"))
                               for r in w] != \
        [(6, True, [{"arg": 2, "at": "enter", "len": 2, "data": "5a5a"},
                    {"arg": 5, "at": "enter", "len": 1, "data": "41",
                     "failed": True}])]:
    bad("poke_enter: echo printed %r, %r" % (p.stdout, w))
# a bad pointer: nothing written, the program goes on
p, recs = run(["write fd=1 poke_enter=@arg1=41"], ["/bin/echo", "hello"])
w = [r for r in recs if r["name"] == "write" and r["args"][0] == 1]
if p.stdout != b"hello\n" or p.returncode != 0 or \
        [r.get("poked", [{}])[0].get("failed") for r in w] != [True]:
    bad("poke bad pointer: echo printed %r, status %d, %r" %
        (p.stdout, p.returncode, w))

# execve: path and argv, even with nothing else recorded about it
p, recs = run([], ["sh", "-c", 'exec /bin/echo a "b c" ""'])
ex = [r for r in recs if r["name"] == "execve" and r.get("path") == "/bin/echo"]
if len(ex) != 1 or ex[0].get("argv") != ["/bin/echo", "a", "b c", ""] \
        or ex[0]["ret"] is not None or "argv_truncated" in ex[0]:
    bad("execve: %r" % ex)
# a failed one: both records say it
p, recs = run([], ["sh", "-c", "exec /nonexistent/x y"])
ex = [r for r in recs if r["name"] == "execve" and
      r.get("path") == "/nonexistent/x"]
if [(r["ret"], r.get("argv")) for r in ex] != \
        [(None, ["/nonexistent/x", "y"]), (-2, ["/nonexistent/x", "y"])]:
    bad("execve failed: %r" % ex)
# a long argv: cut, said so, and the path is still there
many = ["x" * 100] * 300
p, recs = run([], ["sh", "-c", 'exec /bin/true "$@"', "sh"] + many)
ex = [r for r in recs if r["name"] == "execve" and r.get("path") == "/bin/true"]
if p.returncode != 0 or len(ex) != 1 or ex[0].get("argv_truncated") is not True \
        or ex[0]["argv"][:3] != ["/bin/true", "x" * 100, "x" * 100] \
        or len(ex[0]["argv"]) >= 301:
    bad("execve long argv: %r" % [(r.get("path"), len(r.get("argv", [])),
                                    r.get("argv_truncated")) for r in ex])

if fails:
    for f in fails:
        print("FAIL:", f)
    sys.exit(1)
print("PASS")
