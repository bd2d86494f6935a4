#!/usr/bin/env python3
"""badptr_test.py: bad pointers under fi (test/live/CMakeLists.txt, ctest
label `live`).

  badptr_test.py --fi-run FI_RUN --case CASE -- T_BADPTR [ARGS...]

Runs T_BADPTR (t_badptr.c) bare, then under `fi-run` with the rules of
CASE. The program prints one line per syscall it makes with a bad pointer
(or a good path whose NUL is the last byte before a PROT_NONE page) and
that call's result. Under fi every line must read as in the bare run, but
for the calls a rule of CASE is meant to act on, and the program must exit
as it did bare: never killed. fi may read the program's memory only
through its safe copies; where the pointer is bad, the kernel answers.

With --record, the trace must hold one record of every call that failed
with EFAULT, with ret -14 and no "path", and the good paths in full.

Exit status: 0 as expected, 1 something differed (what, on stdout).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

TIMEOUT = 20

PATH_RULES = ["openat path=/etc/* error=EACCES",
              "%file path=/etc/fi-* error=EPERM"]

# CASE: (fi-run options, whether to record, {label suffix: result}
# for the lines a rule acts on; every other line reads as bare).
PATH_ACTS = {
    # its whole path is read, up to the page's last byte, and matched
    "/edge-etc": "EACCES (13)",
    "/edge-none": "EPERM (1)",
}
CASES = {
    # path= rules: a path that cannot be read whole matches none of them
    "path": (PATH_RULES, False, PATH_ACTS),
    # fd= rules: on the *at calls the fd is the directory fd (42 in
    # t_badptr), and with path= too only the paths read whole can match;
    # on calls with bad buffers, the fd's own path
    "fd": (["openat,newfstatat,unlinkat fd=42 path=/* error=EACCES",
            "read,readv,write,writev,openat fd=900 error=EIO",
            "read,readv,write,writev path=/nowhere/* error=EIO"], False,
           {"/dirfd/edge-etc": "EACCES (13)", "/dirfd/edge-dev": "EACCES (13)",
            "/dirfd/edge-none": "EACCES (13)"}),
    # the recorder alone (dispatch's general path, the post hook)
    "record": ([], True, {}),
    # the recorder and path= rules together
    "record-path": (PATH_RULES, True, PATH_ACTS),
    # clone3 with a bad struct (`t_badptr clone3`), under a rule and the
    # recorder: the post-syscall hook asks whether the child shares memory
    "clone3": (PATH_RULES, True, {}),
    # short= on calls with a bad buffer or iovec array: what is cut short
    # must first be read safely, and a call the kernel refuses whole
    # (a bad array, a bad count) still is
    "short": (["readv,writev short=1", "read,write short=1"], False, {}),
}

PATH_SYSCALLS = {"openat", "open", "stat", "newfstatat", "access", "unlink",
                 "unlinkat"}
BAD_CASES = ("unmapped", "kernel", "straddle")


def run(argv):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        return p.returncode, p.stdout.decode(errors="replace"), \
            p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % TIMEOUT


def status_text(st, through_fi_run):
    if st is None:
        return "timed out"
    if st < 0:
        return "killed by %s" % signal.Signals(-st).name
    if through_fi_run and st > 128 and st - 128 < 65:
        try:
            return "exit %d (killed by %s)" % (st, signal.Signals(st - 128).name)
        except ValueError:
            pass
    return "exit %d" % st


def transcript(out):
    """[(label, result)] from the program's stdout."""
    lines = []
    for line in out.splitlines():
        label, sep, result = line.partition(": ")
        lines.append((label, result) if sep else (line, None))
    return lines


def check_bare(lines):
    """The bare run must exercise what the test is about."""
    problems = []
    for label, result in lines:
        parts = label.split("/")
        if len(parts) == 3 and parts[0] in PATH_SYSCALLS and \
                parts[2] in BAD_CASES and result != "EFAULT (14)":
            problems.append("bare: %s gave %s, not EFAULT: the test does "
                            "not reach the kernel's bad-pointer answer" %
                            (label, result))
        if parts[0] == "clone3" and result not in ("EFAULT (14)",
                                                  "ENOSYS (38)"):
            problems.append("bare: %s gave %s, not EFAULT" % (label, result))
    if not lines or lines[-1][0] != "done":
        problems.append("bare: the program did not finish")
    return problems


def expected(bare, acts):
    want = []
    for label, result in bare:
        for suffix, r in acts.items():
            if label.endswith(suffix):
                result = r
        want.append((label, result))
    return want


def check_trace(path, lines, acts):
    """The trace holds the EFAULT calls (ret -14, no path) and the good
    edge paths whole."""
    problems = []
    try:
        data = open(path, "rb").read().decode()
    except OSError as e:
        return ["no trace: %s" % e]
    records = []
    for n, line in enumerate(data.splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            problems.append("trace line %d is not JSON: %r" % (n, line[:80]))
    want_fault, want_path = {}, {}
    for label, result in lines:
        name = label.split("/")[0]
        if result == "EFAULT (14)":
            want_fault[name] = want_fault.get(name, 0) + 1
        if label.endswith("/edge-dev"):
            key = (name, "/dev/null")
            want_path[key] = want_path.get(key, 0) + 1
        if label.endswith("/edge-etc") and "/edge-etc" in acts:
            key = (name, "/etc/passwd")
            want_path[key] = want_path.get(key, 0) + 1
    got_fault, got_path = {}, {}
    for r in records:
        name = r.get("name")
        if r.get("ret") == -14:
            got_fault[name] = got_fault.get(name, 0) + 1
            if name in PATH_SYSCALLS and "path" in r:
                problems.append("trace: %s failed with EFAULT but has a "
                                "path: %s" % (name, json.dumps(r)))
        if "path" in r:
            key = (name, r["path"])
            got_path[key] = got_path.get(key, 0) + 1
    for name in sorted(set(want_fault) | set(got_fault)):
        if want_fault.get(name, 0) != got_fault.get(name, 0):
            problems.append("trace: %d %s records with ret -14, the program "
                            "saw %d EFAULT" % (got_fault.get(name, 0), name,
                                               want_fault.get(name, 0)))
    for key, n in sorted(want_path.items()):
        if got_path.get(key, 0) < n:
            problems.append("trace: %d %s records with path %s, expected at "
                            "least %d" % (got_path.get(key, 0), key[0], key[1],
                                          n))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fi-run", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("prog", nargs="+")
    a = ap.parse_args()
    rules, record, acts = CASES[a.case]

    st, out, err = run(a.prog)
    bare = transcript(out)
    problems = []
    if st != 0:
        problems.append("bare: %s\n%s" % (status_text(st, False), err))
    problems += check_bare(bare)
    if problems:
        print("\n".join(problems))
        return 1

    with tempfile.TemporaryDirectory(prefix="fi-badptr.") as tmp:
        trace = os.path.join(tmp, "trace.jsonl")
        argv = [a.fi_run, "-q"]
        for r in rules:
            argv += ["-r", r]
        if record:
            argv += ["--record", trace]
        st_fi, out_fi, err_fi = run(argv + ["--"] + a.prog)
        got = transcript(out_fi)
        print("$ %s" % " ".join(repr(x) if " " in x else x for x in argv))
        if st_fi != st:
            problems.append("under fi-run: %s, bare: %s" % (
                status_text(st_fi, True), status_text(st, False)))
        want = expected(bare, acts)
        for i, w in enumerate(want):
            g = got[i] if i < len(got) else None
            if g != w:
                problems.append("%s: bare-derived %s, under fi %s" % (
                    w[0], w[1], "nothing (the program stopped)"
                    if g is None else g[1] if g[0] == w[0] else repr(g)))
        if len(got) > len(want):
            problems.append("under fi, extra lines: %r" % got[len(want):])
        if record and not problems:
            problems += check_trace(trace, want, acts)
        if problems and err_fi:
            problems.append("fi-run's stderr:\n" + err_fi)
    if problems:
        print("FAIL (%s):\n  %s" % (a.case, "\n  ".join(problems)))
        return 1
    print("ok (%s): %d calls read as bare%s" % (
        a.case, len(want) - 1,
        ", %d as the rules say" % sum(1 for l, _ in want if any(
            l.endswith(s) for s in acts)) if acts else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
