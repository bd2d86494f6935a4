#!/usr/bin/env python3
"""run_live.py: the driver of fi's live tests (registered by
test/live/CMakeLists.txt, ctest label `live`).

  run_live.py same   --libfi SO -- PROG [ARGS...]
      PROG bare, under LD_PRELOAD=SO and under LD_PRELOAD=SO FI_TRACE=FILE:
      stdout, stderr and exit status must be identical; the trace must be
      well-formed and must have seen main() (its getppid marker).
  run_live.py strace --libfi SO [--strace PATH] [--volatile NAME]...
              [--optional NAME]... -- PROG
      per-syscall-name counts of `strace -f` against libfi's FI_TRACE.
  run_live.py strace-twice [--strace PATH] [--volatile NAME]... -- PROG
      two strace runs against each other: is PROG syscall-deterministic?
  run_live.py selftest --perturb SO [--strace PATH] -- PROG
      the driver reports differences it is shown on purpose.

Exit status: 0 all equal, 1 something differed (what, on stdout), 77 the
test cannot run here (ctest SKIP_RETURN_CODE), 2 bad usage.
"""

import argparse
import collections
import difflib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

SKIP = 77
RUN_TIMEOUT = 25

# The alignment marker: every live target calls getppid() first thing in
# main() (live.h: live_begin), and neither ld.so nor libc start-up call it.
MARKER = "getppid"

CLONE_NAMES = ("clone", "clone3", "fork", "vfork")


class Result:
    def __init__(self, status, out, err):
        self.status = status  # exit code, -N for signal N, None for a timeout
        self.out = out
        self.err = err


def describe_status(status):
    if status is None:
        return "timed out after %d s" % RUN_TIMEOUT
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = "?"
        return "killed by signal %d (%s)" % (-status, name)
    return "exit %d" % status


def clean_env(extra=None):
    """The inherited environment without fi's own variables, plus extra.
    LD_PRELOAD in extra is put in front of an inherited one."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FI_") and k != "LIVE_PERTURB"}
    for k, v in (extra or {}).items():
        if k == "LD_PRELOAD" and env.get("LD_PRELOAD"):
            v = v + ":" + env["LD_PRELOAD"]
        env[k] = v
    return env


def run(argv, extra=None):
    try:
        p = subprocess.run(argv, env=clean_env(extra), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT)
        return Result(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        return Result(None, e.stdout or b"", e.stderr or b"")


def text_diff(a, b, label_a, label_b):
    lines = difflib.unified_diff(a.decode(errors="replace").splitlines(True),
                                 b.decode(errors="replace").splitlines(True),
                                 label_a, label_b)
    return "".join("    " + l if l.endswith("\n") else "    " + l + "\n" for l in lines)


def compare_runs(ref, other, ref_label, other_label):
    """What differs between two runs, as a list of messages (empty: same)."""
    problems = []
    if ref.status != other.status:
        problems.append("exit status differs: %s %s, %s %s" % (
            ref_label, describe_status(ref.status), other_label, describe_status(other.status)))
    for what, a, b in (("stdout", ref.out, other.out), ("stderr", ref.err, other.err)):
        if a != b:
            problems.append("%s differs between %s and %s:\n%s" % (
                what, ref_label, other_label, text_diff(a, b, ref_label, other_label)))
    return problems


# ---------------------------------------------------------------------------
# Logs: strace's and fi's, both read into one stream of calls.

class Call:
    """One syscall as a log shows it."""
    __slots__ = ("tid", "name", "ret", "err", "text", "pos")

    def __init__(self, tid, name, text, pos):
        self.tid = tid
        self.name = name
        self.ret = None    # int, or None when unknown ("?")
        self.err = None    # errno name or ERESTART* from strace
        self.text = text   # strace: the arguments as printed; fi: ""
        self.pos = pos     # line number, for messages


class Signal:
    __slots__ = ("tid", "sig")

    def __init__(self, tid, sig):
        self.tid = tid
        self.sig = sig


_RE_PID = re.compile(r"^(\d+)\s+(.*)$")
_RE_CALL = re.compile(r"^([A-Za-z_0-9?]+)\((.*)$")
_RE_RESUMED = re.compile(r"^<\.\.\. ([A-Za-z_0-9?]+) resumed>(.*)$")
_RE_RESULT = re.compile(r"^(.*)\)\s+= (.*)$")   # greedy: the last ") = "
_RE_SIG = re.compile(r"^--- (\w+) ")
_UNFINISHED = " <unfinished ...>"


def _set_result(call, result):
    """Fills ret/err from strace's text after ' = '."""
    tok = result.split()
    if not tok:
        return
    if tok[0] != "?":
        try:
            call.ret = int(tok[0], 0)
        except ValueError:
            call.ret = None
    if len(tok) > 1 and re.match(r"^E[A-Z0-9_]+$", tok[1]):
        call.err = tok[1]


def read_strace(path):
    """strace -f -o log: a list of Call and Signal in log order. A call split
    into `<unfinished ...>` and `<... resumed>` is one Call, placed where it
    started. `+++` lines (exits) are not syscalls."""
    events, problems = [], []
    open_calls = {}  # tid -> Call waiting for its resumed line
    with open(path, errors="replace") as f:
        for pos, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = _RE_PID.match(line)
            if not m:
                if line.strip():
                    problems.append("%s:%d: no pid: %r" % (path, pos, line[:120]))
                continue
            tid, rest = int(m.group(1)), m.group(2)
            if rest.startswith("+++"):
                continue
            ms = _RE_SIG.match(rest)
            if ms:
                events.append(Signal(tid, ms.group(1)))
                continue
            mr = _RE_RESUMED.match(rest)
            if mr:
                call = open_calls.pop(tid, None)
                if call is None or call.name != mr.group(1):
                    problems.append("%s:%d: resumed without a start: %r" % (path, pos, line[:120]))
                    continue
                tail = mr.group(2)
                res = _RE_RESULT.match(tail)
                call.text += " " + (res.group(1) if res else tail)
                if res:
                    _set_result(call, res.group(2))
                continue
            mc = _RE_CALL.match(rest)
            if not mc:
                problems.append("%s:%d: not understood: %r" % (path, pos, line[:120]))
                continue
            name, tail = mc.group(1), mc.group(2)
            call = Call(tid, name, "", pos)
            events.append(call)
            if tail.endswith(_UNFINISHED):
                call.text = tail[:-len(_UNFINISHED)]
                open_calls[tid] = call
                continue
            res = _RE_RESULT.match(tail)
            if res:
                call.text = res.group(1)
                _set_result(call, res.group(2))
            else:
                call.text = tail
    return events, problems


def read_fi_trace(path):
    """fi's FI_TRACE JSON Lines: a list of Call in file order."""
    events, problems = [], []
    by_seq = {}  # (pid, seq) -> the Call, for "resumed" completions
    with open(path, "rb") as f:
        for pos, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except ValueError as e:
                problems.append("%s:%d: not JSON (%s): %r" % (path, pos, e, raw[:120]))
                continue
            if pos == 1 and "fi_trace" in rec:
                continue  # the header of a mapped trace (docs/trace.md)
            missing = [k for k in ("seq", "pid", "tid", "nr", "name", "args", "ret")
                       if k not in rec]
            if missing:
                problems.append("%s:%d: record without %s: %r" % (
                    path, pos, ", ".join(missing), raw[:120]))
                continue
            key = (rec["pid"], rec["seq"])
            if rec.get("resumed"):
                # An execve recorded before it ran came back (it failed):
                # this completes that record; it is not another call.
                call = by_seq.get(key)
                if call is None:
                    problems.append("%s:%d: resumed record without its start" % (path, pos))
                    continue
                call.ret = rec["ret"] if isinstance(rec["ret"], int) else None
                call.err = rec.get("errno")
                continue
            call = Call(int(rec["tid"]), str(rec["name"]), "", pos)
            by_seq[key] = call
            ret = rec["ret"]
            call.ret = ret if isinstance(ret, int) else None
            if call.name in ("execve", "execveat") and ret is None:
                call.ret = 0  # written before the call: it did not return
            if isinstance(call.ret, int) and call.ret < 0:
                call.err = rec.get("errno")
            events.append(call)
    return events, problems


# ---------------------------------------------------------------------------
# Alignment and counting.
#
# The two runs differ in how much of start-up each log can see: strace sees
# every syscall from its own execve of the program on; libfi records only
# after its constructor has patched the process, so ld.so's loading and
# libc's early start-up are missing from the trace, in the first image and
# again in every image that an execve starts. The same holds for every exec'd
# image: the live targets only exec themselves.
#
# So each log is cut into process images, and each image into two parts at
# its marker, the first getppid() of the image (main() starts with it):
#   - from the marker on (marker included) every call is counted, per
#     syscall name, summed over all images, and the two sums must be equal;
#   - before the marker, fi's part must be a suffix (by syscall names) of
#     strace's part of a corresponding image: libfi may have seen less of
#     start-up, never something else. Images are paired by sorting each
#     log's pre-marker sequences, since pids differ between runs.
# A thread or forked child belongs to its parent's image from its creation
# (it inherits "after the marker"); a successful execve starts a new image
# of that process, "before the marker". strace's execve of the program
# itself is thus in the first image's pre-marker part and never counted.
#
# strace shows some things that are not separate calls for the program:
#   - a call interrupted by a signal shows as `= ? ERESTART...`. If the
#     kernel restarts it (no handler ran; or SA_RESTART for ERESTARTSYS; or
#     always for ERESTARTNOINTR) the restarted call is shown again, or as
#     restart_syscall. The program, and libfi's stub, made one call: the
#     kernel re-executes the stub's own syscall instruction. So the
#     interrupted line counts once and its continuation not at all. Which
#     way the kernel went follows from the signal's disposition, which is
#     tracked from the rt_sigaction lines (per signal-handler table: shared
#     with CLONE_SIGHAND, copied otherwise, handlers reset by execve).
#   - under ptrace, a signal the program ignores (SIGCHLD by default) is
#     still delivered, so it can interrupt and restart a call that runs
#     undisturbed without strace; the same rule covers it.
# A VOLATILE name's count depends on timing (futex in pthread_join, a spin
# loop's rounds): it must appear in both logs, its numbers may differ.

ERESTARTS = ("ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ERESTART_RESTARTBLOCK")
_RE_SIGACTION = re.compile(
    r"^(\w+), \{sa_handler=([^,]+), sa_mask=(?:\[[^\]]*\]|~\[[^\]]*\]), sa_flags=([^,}]+)")


def clone_children(events):
    """tid -> (parent tid, flags text) for every child a clone-family call
    made, from the parent's record of it (ret > 0)."""
    parent = {}
    for ev in events:
        if isinstance(ev, Call) and ev.name in CLONE_NAMES and ev.ret and ev.ret > 0:
            parent.setdefault(ev.ret, (ev.tid, ev.text))
    return parent


class _Thread:
    def __init__(self, image, counting, sighand):
        self.image = image          # key of the process image
        self.counting = counting    # past the marker of its image
        self.sighand = sighand      # dict: signal -> (has_handler, sa_restart)
        self.depth = 0              # signal handlers running on it
        self.pending = None         # (name, ERESTART*) awaiting the signal
        self.skip = {}              # depth -> name of a kernel restart to skip
        self.seen = False           # has made a call


def count_calls(events):
    """Returns (Counter of names counted from the markers on, dict image ->
    list of pre-marker names, problems)."""
    parents = clone_children(events)
    threads = {}
    counts = collections.Counter()
    pre = collections.OrderedDict()
    images = collections.Counter()
    root = None

    def thread(tid):
        nonlocal root
        t = threads.get(tid)
        if t is not None:
            return t
        if root is None:
            root = tid
            t = _Thread((tid, 0), False, {})
            pre[t.image] = []
        else:
            # A thread or child: its own key, but no new image; it goes on
            # from where its parent was (before or after the marker).
            ptid, flags = parents.get(tid, (None, ""))
            p = threads.get(ptid)
            if p is None:
                # Not created by a call we saw (cannot happen with -f); it
                # can only come from code that runs after a marker.
                t = _Thread((tid, 0), True, {})
            else:
                table = p.sighand if "CLONE_SIGHAND" in flags else dict(p.sighand)
                t = _Thread((tid, 0), p.counting, table)
        threads[tid] = t
        return t

    for ev in events:
        t = thread(ev.tid)
        if isinstance(ev, Signal):
            handler, restart = t.sighand.get(ev.sig, (False, False))
            if t.pending:
                name, kind = t.pending
                t.pending = None
                if not handler or kind == "ERESTARTNOINTR" or (
                        kind == "ERESTARTSYS" and restart):
                    t.skip[t.depth] = name
            if handler:
                t.depth += 1
            continue
        call = ev
        if t.pending:
            # Interrupted, then restarted without any handler running.
            t.skip[t.depth] = t.pending[0]
            t.pending = None
        if call.name == "restart_syscall":
            t.skip.pop(t.depth, None)
            continue
        if t.skip.get(t.depth) == call.name:
            del t.skip[t.depth]
            continue
        t.skip.pop(t.depth, None)
        if call.name == "rt_sigreturn" and t.depth > 0:
            t.depth -= 1
        if not t.counting and call.name == MARKER:
            t.counting = True
        if t.counting:
            counts[call.name] += 1
        else:
            pre.setdefault(t.image, []).append(call.name)
        if call.err in ERESTARTS:
            t.pending = (call.name, call.err)
        if call.name == "rt_sigaction" and call.ret == 0:
            m = _RE_SIGACTION.match(call.text)
            if m:
                t.sighand[m.group(1)] = (m.group(2) not in ("SIG_DFL", "SIG_IGN"),
                                         "SA_RESTART" in m.group(3))
        first_of_root = call.tid == root and not t.seen
        t.seen = True
        if call.name in ("execve", "execveat") and call.ret == 0 and not first_of_root:
            # (The root's first call, when it is an execve, is strace's exec
            # of the program: part of the first image's start-up.)
            images[call.tid] += 1
            t.image = (call.tid, images[call.tid])
            t.counting = False
            t.depth = 0
            t.skip = {}
            t.sighand = {s: (False, False) if h else (h, r)
                         for s, (h, r) in t.sighand.items()}
            pre.setdefault(t.image, [])
    return counts, pre, []


def compare_counts(ref_events, fi_events, ref_label, fi_label, volatile=(), optional=()):
    ref_counts, ref_pre, _ = count_calls(ref_events)
    fi_counts, fi_pre, _ = count_calls(fi_events)
    problems = []
    if ref_counts[MARKER] == 0:
        problems.append("%s has no %s marker: was main() reached?" % (ref_label, MARKER))
    if fi_counts[MARKER] == 0:
        problems.append("%s has no %s marker: was main() traced?" % (fi_label, MARKER))
    rows = []
    for name in sorted(set(ref_counts) | set(fi_counts)):
        if name == "rt_sigreturn":
            # fi never intercepts rt_sigreturn: its site stays unpatched
            # because unwinders recognise a signal frame by those very
            # bytes (docs/architecture.md). Every other name must match.
            continue
        a, b = ref_counts[name], fi_counts[name]
        if name in optional:
            continue  # whether it happens at all depends on timing
        if name in volatile:
            if (a > 0) != (b > 0):
                rows.append((name, a, b, "volatile, but missing from one log"))
        elif a != b:
            rows.append((name, a, b, ""))
    if rows:
        lines = ["  %-20s %8s %8s" % ("syscall", ref_label[:8], fi_label[:8])]
        lines += ["  %-20s %8d %8d  %s" % r for r in rows]
        problems.append("per-syscall counts after the %s marker differ:\n%s" % (
            MARKER, "\n".join(lines)))
    # Pre-marker parts: same number of images; fi's a suffix of strace's.
    if len(ref_pre) != len(fi_pre):
        problems.append("%s shows %d process images, %s %d" % (
            ref_label, len(ref_pre), fi_label, len(fi_pre)))
    else:
        for a, b in zip(sorted(ref_pre.values()), sorted(fi_pre.values())):
            if b and a[len(a) - len(b):] != b:
                problems.append(
                    "before main(), %s's calls are not the tail of %s's:\n  %s: %s\n  %s: %s" % (
                        fi_label, ref_label, fi_label, " ".join(b), ref_label,
                        " ".join(a[-len(b) - 5:])))
    summary = "%d calls of %d syscall names counted after the markers (%s), %d (%s)" % (
        sum(ref_counts.values()), len(ref_counts), ref_label, sum(fi_counts.values()), fi_label)
    return problems, summary


# ---------------------------------------------------------------------------
# Commands.

def fail(problems, what):
    print("FAIL: %s" % what)
    for p in problems:
        print("  - " + p.rstrip("\n").replace("\n", "\n    "))
    return 1


def need_libfi(path):
    if not path:
        print("SKIP: no libfi.so given (configure with -DFI_LIVE_LIBFI=...)")
        sys.exit(SKIP)
    if not os.path.exists(path):
        print("FAIL: libfi.so not found: %s" % path)
        sys.exit(1)


def cmd_same(args):
    need_libfi(args.libfi)
    prog = args.prog
    bare = run(prog)
    if bare.status != 0:
        return fail(["bare run: %s\n%s" % (describe_status(bare.status),
                                          bare.err.decode(errors="replace"))],
                    "%s fails without libfi" % prog[0])
    problems = []
    with tempfile.TemporaryDirectory(prefix="fi-live-") as tmp:
        trace = os.path.join(tmp, "trace.jsonl")
        for label, extra in (("libfi", {"LD_PRELOAD": args.libfi}),
                             ("libfi+FI_TRACE", {"LD_PRELOAD": args.libfi, "FI_TRACE": trace})):
            problems += compare_runs(bare, run(prog, extra), "bare", label)
        if not os.path.exists(trace):
            problems.append("FI_TRACE=%s: no trace written" % trace)
        else:
            events, bad = read_fi_trace(trace)
            problems += bad[:10]
            if not any(e.name == MARKER for e in events):
                problems.append("the trace (%d records) has no %s record: main() was not traced"
                                % (len(events), MARKER))
    if problems:
        return fail(problems, "%s differs under libfi" % os.path.basename(prog[0]))
    print("ok: %s: same stdout, stderr and %s bare, under libfi, and under FI_TRACE" % (
        os.path.basename(prog[0]), describe_status(bare.status)))
    return 0


def strace_run(strace, prog, log):
    if not strace or not os.path.exists(strace):
        print("SKIP: strace not found")
        sys.exit(SKIP)
    r = run([strace, "-f", "-qq", "-o", log, "-e", "trace=all", "--"] + prog)
    if r.status != 0 and b"ptrace" in r.err:
        print("SKIP: strace cannot trace here: %s" % r.err.decode(errors="replace").strip())
        sys.exit(SKIP)
    return r


def cmd_strace(args):
    need_libfi(args.libfi)
    prog = args.prog
    name = os.path.basename(prog[0])
    problems = []
    with tempfile.TemporaryDirectory(prefix="fi-live-") as tmp:
        log = os.path.join(tmp, "strace.log")
        trace = os.path.join(tmp, "trace.jsonl")
        st = strace_run(args.strace, prog, log)
        if st.status != 0:
            return fail([describe_status(st.status), st.err.decode(errors="replace")],
                        "%s fails under strace" % name)
        fr = run(prog, {"LD_PRELOAD": args.libfi, "FI_TRACE": trace})
        problems += compare_runs(st, fr, "strace", "libfi+FI_TRACE")
        if not os.path.exists(trace):
            problems.append("no trace written")
            return fail(problems, name)
        s_events, bad1 = read_strace(log)
        f_events, bad2 = read_fi_trace(trace)
        problems += (bad1 + bad2)[:10]
        more, summary = compare_counts(s_events, f_events, "strace", "fi", args.volatile,
                                       args.optional)
        problems += more
        if problems and args.keep:
            import shutil
            shutil.copy(log, args.keep + ".strace")
            shutil.copy(trace, args.keep + ".jsonl")
    if problems:
        return fail(problems, "%s: strace and the fi recorder disagree" % name)
    print("ok: %s: %s" % (name, summary))
    return 0


def cmd_strace_twice(args):
    prog = args.prog
    name = os.path.basename(prog[0])
    with tempfile.TemporaryDirectory(prefix="fi-live-") as tmp:
        logs = [os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")]
        runs = [strace_run(args.strace, prog, l) for l in logs]
        problems = compare_runs(runs[0], runs[1], "strace#1", "strace#2")
        (a, b1), (b, b2) = read_strace(logs[0]), read_strace(logs[1])
        more, summary = compare_counts(a, b, "strace#1", "strace#2", args.volatile,
                                       args.optional)
        problems += b1[:5] + b2[:5] + more
        if problems and args.keep:
            import shutil
            shutil.copy(logs[0], args.keep + ".1")
            shutil.copy(logs[1], args.keep + ".2")
    if problems:
        return fail(problems, "%s is not syscall-deterministic under strace" % name)
    print("ok: %s: %s" % (name, summary))
    return 0


# A small strace log with the cases the parser must get right, and the fi
# trace that the same program gives: they must compare equal.
SELFTEST_STRACE = """\
100 execve("./t", ["./t"], 0x7ffc /* 9 vars */) = 0
100 brk(NULL)                         = 0x5600
100 getppid()                         = 1
100 rt_sigaction(SIGALRM, {sa_handler=0x4011, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f}, NULL, 8) = 0
100 read(3,  <unfinished ...>
100 <... read resumed>0x7ffd, 1)      = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
100 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---
100 write(4, "r", 1)                  = 1
100 rt_sigreturn({mask=[]})           = 0
100 read(3, "r", 1)                   = 1
100 rt_sigaction(SIGALRM, {sa_handler=0x4022, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f}, NULL, 8) = 0
100 read(3, 0x7ffd, 1)                = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
100 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---
100 getpid()                          = 100
100 rt_sigreturn({mask=[]})           = -1 EINTR (Interrupted system call)
100 read(3, "z", 1)                   = 1
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
101 write(1, "a) = 5\\n", 7)           = 7
100 <... clone resumed>, child_tidptr=0x7f) = 101
101 exit_group(0)                     = ?
101 +++ exited with 0 +++
100 wait4(101,  <unfinished ...>
100 <... wait4 resumed>0x7ffd, 0, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
100 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=0} ---
100 wait4(101, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 101
100 exit_group(0)                     = ?
100 +++ exited with 0 +++
"""

SELFTEST_FI = [
    # pid, tid, name, ret: what libfi records of the same run, from the
    # point its constructor had patched the process.
    (500, 500, "getppid", 1),
    (500, 500, "rt_sigaction", 0),
    (500, 500, "write", 1),         # in the handler, before the read returns
    (500, 500, "rt_sigreturn", 0),
    (500, 500, "read", 1),          # restarted by the kernel: one call
    (500, 500, "rt_sigaction", 0),
    (500, 500, "getpid", 500),
    (500, 500, "rt_sigreturn", -4),
    (500, 500, "read", -4),         # EINTR
    (500, 500, "read", 1),
    (500, 500, "clone", 501),
    (501, 501, "write", 7),
    (501, 501, "exit_group", 0),
    (500, 500, "wait4", 501),
    (500, 500, "exit_group", 0),
]


def write_fi_trace(path, rows):
    with open(path, "w") as f:
        for seq, (pid, tid, name, ret) in enumerate(rows):
            rec = {"seq": seq, "pid": pid, "tid": tid, "nr": 0, "name": name,
                   "args": [0] * 6, "ret": ret}
            if ret < 0:
                rec["errno"] = "EINTR"
            f.write(json.dumps(rec) + "\n")


def cmd_selftest(args):
    prog = args.prog
    checks = 0
    problems = []

    def expect(cond, what):
        nonlocal checks
        checks += 1
        if not cond:
            problems.append(what)

    # 1. Outputs: a preloaded library that changes them must be reported.
    bare = run(prog)
    expect(bare.status == 0, "the self-test program fails bare: %s" % describe_status(bare.status))
    same = compare_runs(bare, run(prog, {"LD_PRELOAD": args.perturb}), "bare", "perturb")
    expect(same == [], "a harmless preload was reported: %s" % same)
    for kind, needle in (("stdout", "stdout differs"),
                         ("status", "exit status differs: bare exit 0, perturb exit 3"),
                         ("signal", "perturb killed by signal 11 (SIGSEGV)")):
        diff = compare_runs(bare, run(prog, {"LD_PRELOAD": args.perturb, "LIVE_PERTURB": kind}),
                            "bare", "perturb")
        expect(any(needle in d for d in diff),
               "LIVE_PERTURB=%s: expected %r, got %r" % (kind, needle, diff))

    with tempfile.TemporaryDirectory(prefix="fi-live-") as tmp:
        # 2. The parsers and the alignment, on a log with restarts, EINTR,
        # an interleaved clone and an ignored SIGCHLD.
        slog = os.path.join(tmp, "s.log")
        ftr = os.path.join(tmp, "f.jsonl")
        with open(slog, "w") as f:
            f.write(SELFTEST_STRACE)
        write_fi_trace(ftr, SELFTEST_FI)
        s_ev, bad = read_strace(slog)
        f_ev, bad2 = read_fi_trace(ftr)
        expect(bad == [] and bad2 == [], "parse problems: %s %s" % (bad, bad2))
        diff, _ = compare_counts(s_ev, f_ev, "strace", "fi")
        expect(diff == [], "equal logs reported as different: %s" % diff)
        # One read less in the trace: reported, by name and both counts.
        write_fi_trace(ftr, [r for i, r in enumerate(SELFTEST_FI) if i != 9])
        diff, _ = compare_counts(s_ev, read_fi_trace(ftr)[0], "strace", "fi")
        expect(any(re.search(r"\n  read +3 +2", d) for d in diff),
               "a missing read was not reported as 'read 3 2': %s" % diff)
        # One extra wait4, e.g. a restart counted twice.
        write_fi_trace(ftr, SELFTEST_FI[:13] + [SELFTEST_FI[13]] + SELFTEST_FI[13:])
        diff, _ = compare_counts(s_ev, read_fi_trace(ftr)[0], "strace", "fi")
        expect(any(re.search(r"\n  wait4 +1 +2", d) for d in diff),
               "an extra wait4 was not reported: %s" % diff)
        # A volatile name may differ in number, but not be missing.
        diff, _ = compare_counts(s_ev, read_fi_trace(ftr)[0], "strace", "fi", ["wait4"])
        expect(diff == [], "a volatile name was reported: %s" % diff)
        write_fi_trace(ftr, [r for r in SELFTEST_FI if r[2] != "getpid"])
        diff, _ = compare_counts(s_ev, read_fi_trace(ftr)[0], "strace", "fi", ["getpid"])
        expect(any("missing from one log" in d for d in diff),
               "a volatile name missing from the trace was not reported: %s" % diff)
        # An optional name may be missing from one log.
        diff, _ = compare_counts(s_ev, read_fi_trace(ftr)[0], "strace", "fi", (), ["getpid"])
        expect(diff == [], "an optional name was reported: %s" % diff)
        # A trace without the marker.
        write_fi_trace(ftr, SELFTEST_FI[1:])
        diff, _ = compare_counts(s_ev, read_fi_trace(ftr)[0], "strace", "fi")
        expect(any("no getppid marker" in d for d in diff),
               "a trace without the marker was not reported: %s" % diff)
        # A broken trace line.
        with open(ftr, "a") as f:
            f.write('{"seq": 99, "name": "write"\n')
        expect(len(read_fi_trace(ftr)[1]) == 1, "a broken JSON line was not reported")

        # 3. A real strace log of the program: equal to itself; a call line
        # dropped after the marker is reported.
        if args.strace and os.path.exists(args.strace):
            real = os.path.join(tmp, "real.log")
            strace_run(args.strace, prog, real)
            ev, bad = read_strace(real)
            expect(bad == [], "parse problems in a real log: %s" % bad[:5])
            diff, _ = compare_counts(ev, ev, "strace", "strace")
            expect(diff == [], "a log differs from itself: %s" % diff)
            with open(real) as f:
                lines = f.readlines()
            marker = next(i for i, l in enumerate(lines) if " getppid()" in l)
            victim = next(i for i in range(marker + 1, len(lines))
                          if re.match(r"^\d+\s+write\(", lines[i]))
            cut = os.path.join(tmp, "cut.log")
            with open(cut, "w") as f:
                f.writelines(lines[:victim] + lines[victim + 1:])
            diff, _ = compare_counts(ev, read_strace(cut)[0], "strace", "cut")
            expect(any(re.search(r"\n  write +\d+ +\d+", d) for d in diff),
                   "a dropped write line was not reported: %s" % diff)
            # Lines before the marker are not counted: dropping one is not a
            # count difference (but the pre-marker tail check sees it).
            first = 1
            with open(cut, "w") as f:
                f.writelines(lines[:first] + lines[first + 1:])
            diff, _ = compare_counts(ev, read_strace(cut)[0], "strace", "cut")
            expect(not any("counts" in d for d in diff),
                   "a start-up line was counted: %s" % diff)

    if problems:
        return fail(problems, "the driver's self-test (%d of %d checks failed)" % (
            len(problems), checks))
    print("ok: driver self-test, %d checks" % checks)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("same", "strace", "strace-twice", "selftest"))
    ap.add_argument("--libfi", default="")
    ap.add_argument("--strace", default="/usr/bin/strace")
    ap.add_argument("--perturb", default="")
    ap.add_argument("--volatile", action="append", default=[])
    ap.add_argument("--optional", action="append", default=[])
    ap.add_argument("--keep", default="", help="on failure, copy the logs to KEEP.*")
    ap.add_argument("prog", nargs="+")
    args = ap.parse_args()
    return {"same": cmd_same, "strace": cmd_strace, "strace-twice": cmd_strace_twice,
            "selftest": cmd_selftest}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
