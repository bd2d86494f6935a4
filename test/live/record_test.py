#!/usr/bin/env python3
"""record_test.py: the mapped recorder (libfi/tracebuf.c, fdpath.c).

usage: record_test.py FI_RUN LIBFI T_RECORD CASE
  sigkill     SIGKILL mid-run, under fi-run and under plain FI_TRACE: every
              record up to the kill is there and whole, numbered 1..N
  tree        fork + exec + threads: every process and thread recorded
  fdreuse     a reused fd number's records name its new file
  concurrent  8 threads recording at once: no record torn or lost
"""
import json, os, signal, subprocess, sys, tempfile, time

fi_run, libfi, prog, case = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="fi-record.")
fails = []


def bad(msg):
    fails.append(msg)


def records(path, raw=False):
    """Records of a trace; raw: libfi's file as it was left (the reader's
    rule of docs/trace.md: skip NULs, keep pieces from '{' to newline)."""
    data = open(path, "rb").read()
    out, torn = [], 0
    if not raw:
        if b"\0" in data:
            bad("%s: NUL bytes in a trace fi-run tidied" % path)
        if data.startswith(b'{"fi_trace"'):
            bad("%s: the header is still there" % path)
    i = 0
    while i < len(data):
        if data[i] == 0:
            i += 1
            continue
        j = i
        while j < len(data) and data[j] not in (0, 10):
            j += 1
        if j < len(data) and data[j] == 10:
            j += 1
        piece = data[i:j]
        i = j
        if not (piece.startswith(b"{") and piece.endswith(b"\n")):
            torn += 1
            continue
        try:
            rec = json.loads(piece)
        except ValueError:
            bad("%s: a piece that is not JSON: %r" % (path, piece[:100]))
            continue
        if "fi_trace" in rec:
            if not raw:
                bad("%s: a header in the middle" % path)
            continue
        out.append(rec)
    return out, torn


def writes_of(recs, pid=None):
    return [r for r in recs if r["name"] == "write" and r.get("path") == "/dev/null"
            and (pid is None or r["pid"] == pid)]


def whole_numbering(recs, what, first=1):
    """Per process, seq runs first, first+1, ... without a gap."""
    by_pid = {}
    for r in recs:
        by_pid.setdefault(r["pid"], []).append(r["seq"])
    for pid, seqs in by_pid.items():
        seqs.sort()
        start = seqs[0] if first is None else first
        if seqs != list(range(start, start + len(seqs))):
            missing = sorted(set(range(start, seqs[-1] + 1)) - set(seqs))
            bad("%s: pid %d: records missing: seq %s" % (what, pid, missing[:10]))


def kill_when(cmd, env, marker):
    p = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while not os.path.exists(os.path.join(work, marker)):
        if time.time() > deadline or p.poll() is not None:
            bad("%s: no marker (status %s)" % (marker, p.poll()))
            p.kill()
            return p.communicate()[1]
        time.sleep(0.01)
    time.sleep(0.05)
    return p


def program_pid(parent):
    """The program fi-run started: its child running t_record."""
    for pid in os.listdir("/proc"):
        try:
            st = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        if pid.isdigit() and int(st.rsplit(")", 1)[1].split()[1]) == parent:
            return int(pid)
    return None


env = dict(os.environ)
for k in ("FI_TRACE", "FI_TRACE_APPEND", "FI_RULES", "FI_SCENARIO", "LD_PRELOAD"):
    env.pop(k, None)

if case == "sigkill":
    # Under fi-run: the program is killed, fi-run tidies the trace.
    t = os.path.join(work, "run.jsonl")
    p = kill_when([fi_run, "-q", "--record", t, "--", prog, "spin", "m1"], env, "m1")
    if not isinstance(p, bytes):
        child = program_pid(p.pid)
        if child is None:
            bad("fi-run's program not found")
        else:
            os.kill(child, signal.SIGKILL)
        err = p.communicate(timeout=30)[1].decode()
        if p.returncode != 128 + signal.SIGKILL:
            bad("fi-run exited %d, not %d: %s" % (p.returncode, 128 + 9, err))
        recs, torn = records(t)
        if len(writes_of(recs)) < 5000:
            bad("fi-run: %d writes recorded, at least 5000 made" % len(writes_of(recs)))
        whole_numbering(recs, "fi-run")
    # Plain FI_TRACE: the file as libfi left it, read by the rule.
    t = os.path.join(work, "plain.jsonl")
    e = dict(env, LD_PRELOAD=libfi, FI_TRACE=t)
    p = kill_when([prog, "spin", "m2"], e, "m2")
    if not isinstance(p, bytes):
        p.kill()
        p.wait()
        head = open(t, "rb").read(16)
        if not head.startswith(b'{"fi_trace":1,'):
            bad("plain: no header line: %r" % head)
        recs, torn = records(t, raw=True)
        if torn > 1:
            bad("plain: %d torn records (one at most: the one being written)" % torn)
        if len(writes_of(recs)) < 5000:
            bad("plain: %d writes recorded, at least 5000 made" % len(writes_of(recs)))
        whole_numbering(recs, "plain")
elif case == "tree":
    t = os.path.join(work, "tree.jsonl")
    r = subprocess.run([fi_run, "-q", "--record", t, "--", prog, "tree", prog],
                       env=env, cwd=work, capture_output=True)
    if r.returncode:
        bad("exit %d: %s" % (r.returncode, r.stderr.decode()))
    recs, torn = records(t)
    pids = sorted({x["pid"] for x in recs})
    if len(pids) != 2:
        bad("%d processes recorded, expected 2 (parent, child)" % len(pids))
    parent = recs[0]["pid"]
    whole_numbering([x for x in recs if x["pid"] == parent], "tree: parent")
    tids = {}
    for x in writes_of(recs, parent):
        tids[x["tid"]] = tids.get(x["tid"], 0) + 1
    if sorted(tids.values()) != [1000, 1000]:
        bad("the parent's threads recorded %s writes, expected 1000 each" % sorted(tids.values()))
    child = [x for x in recs if x["pid"] != parent]
    execs = [i for i, x in enumerate(child) if x["name"] == "execve"]
    if len(execs) != 1:
        bad("the child's execve recorded %d times" % len(execs))
    else:
        # A forked child goes on with its parent's numbering; the exec'd
        # image starts again at 1.
        whole_numbering(child[:execs[0] + 1], "tree: child", first=None)
        whole_numbering(child[execs[0] + 1:], "tree: exec'd child")
        before = len(writes_of(child[:execs[0]]))
        after = len(writes_of(child[execs[0]:]))
        if (before, after) != (1000, 1000):
            bad("the child recorded %d writes before exec, %d after: expected 1000, 1000"
                % (before, after))
elif case == "fdreuse":
    t = os.path.join(work, "fd.jsonl")
    d = os.path.join(work, "d")
    os.mkdir(d)
    r = subprocess.run([fi_run, "-q", "--record", t, "--", prog, "fdreuse", d],
                       env=env, cwd=work, capture_output=True)
    if r.returncode:
        bad("exit %d: %s" % (r.returncode, r.stderr.decode()))
    fd, dfd = (list(map(int, r.stdout.split())) + [-1, -1])[:2]
    recs, torn = records(t)
    got = [x.get("path") for x in recs if x["name"] == "write" and x["args"][0] == fd]
    want = [os.path.join(d, n) for n in ("a", "b", "c")]
    if got != want:
        bad("writes on fd %d name %s, expected %s" % (fd, got, want))
    # a close names the file it closed, read before the call; dup2 the
    # file it copies; a close that fails on a closed fd names none
    first = next((i for i, x in enumerate(recs) if x["name"] == "close"
                  and x["args"][0] == fd and x["ret"] == 0), len(recs))
    got = [(x["name"], x["ret"], x.get("path")) for x in recs[first:]
           if x["name"] in ("close", "dup2")]
    want = [("close", 0, os.path.join(d, "a")), ("dup2", fd, os.path.join(d, "c")),
            ("close", 0, os.path.join(d, "c")), ("close", 0, os.path.join(d, "c")),
            ("close", 0, os.path.join(d, "d")), ("close", -9, None)]
    if got[:6] != want or dfd < 0:
        bad("closes and dup2 from fd %d on: %s, expected %s" % (fd, got[:6], want))
elif case == "concurrent":
    t = os.path.join(work, "c.jsonl")
    r = subprocess.run([fi_run, "-q", "--record", t, "--", prog, "threads", "8", "20000"],
                       env=env, cwd=work, capture_output=True)
    if r.returncode:
        bad("exit %d: %s" % (r.returncode, r.stderr.decode()))
    recs, torn = records(t)
    if torn:
        bad("%d torn records" % torn)
    tids = {}
    for x in writes_of(recs):
        tids[x["tid"]] = tids.get(x["tid"], 0) + 1
    if sorted(tids.values()) != [20000] * 8:
        bad("writes per thread: %s, expected 8 x 20000" % sorted(tids.values()))
    whole_numbering(recs, "concurrent")
elif case == "signals":
    # handlers that record land while the file grows: plain FI_TRACE, so
    # that nothing tidies what libfi left
    t = os.path.join(work, "s.jsonl")
    e = dict(env, FI_TRACE=t, LD_PRELOAD=libfi)
    r = subprocess.run([prog, "signals", "60000"], env=e, cwd=work, capture_output=True)
    if r.returncode or r.stderr:
        bad("exit %d: %s" % (r.returncode, r.stderr.decode()))
    recs, torn = records(t, raw=True)
    if torn:
        bad("%d torn records" % torn)
    if b"\0" in open(t, "rb").read():
        bad("NUL bytes: records reserved and never written")
    if len(writes_of(recs)) != 60000:
        bad("%d writes recorded, expected 60000" % len(writes_of(recs)))
    handled = int(r.stdout.split()[-1]) if r.stdout.split() else -1
    ppids = len([x for x in recs if x["name"] == "getppid"])
    if ppids != handled:
        bad("%d getppid records, the handler ran %d times" % (ppids, handled))
    whole_numbering(recs, "signals")
elif case == "closesig":
    # a signal handler's close between a close and its post hook keeps
    # its own path, and leaves the interrupted close its own: plain
    # FI_TRACE, as for signals
    t = os.path.join(work, "cs.jsonl")
    d = os.path.join(work, "cs")
    os.mkdir(d)
    e = dict(env, FI_TRACE=t, LD_PRELOAD=libfi)
    r = subprocess.run([prog, "closesig", "3000", d], env=e, cwd=work,
                       capture_output=True)
    if r.returncode or r.stderr:
        bad("exit %d: %s" % (r.returncode, r.stderr.decode()))
    recs, torn = records(t, raw=True)
    handled = int(r.stdout.split()[-1]) if r.stdout.split() else -1
    by_site = {}
    for x in recs:
        if x["name"] == "close" and x["ret"] == 0:
            by_site.setdefault(x.get("site"), []).append(x.get("path"))
    main = os.path.join(d, "main")
    hand = os.path.join(d, "handler")
    got = sorted((len(v), sorted(set(map(str, v)))) for v in by_site.values()
                 if set(v) & {main, hand})
    want = sorted([(3000, [main]), (handled, [hand]), (1, [hand])])
    if got != want:
        bad("close records by site (count, paths): %s, expected %s" % (got, want))
else:
    bad("unknown case %s" % case)

subprocess.run(["rm", "-rf", work])
for f in fails:
    print("FAIL (%s): %s" % (case, f))
if fails:
    sys.exit(1)
print("PASS (%s)" % case)
