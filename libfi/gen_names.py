#!/usr/bin/env python3
"""gen_names.py: write libfi's name tables (names_table.c).

Syscall numbers come from <asm/unistd_64.h>, errno names from <errno.h>
and signal names from <signal.h>, each read through the compiler's
preprocessor (`CC -E -dM`), so the tables always match the system headers.
Prototypes, classes and families come from syscalls.spec, the one
hand-written source. A spec line that names a syscall the headers do not
know, or that does not parse, fails the build.
"""

import argparse
import re
import subprocess
import sys

ARG_KINDS = {
    "int": "FI_ARG_INT",
    "fd": "FI_ARG_FD",
    "dirfd": "FI_ARG_DIRFD",
    "path": "FI_ARG_PATH",
    "buf": "FI_ARG_BUF",
    "outbuf": "FI_ARG_OUTBUF",
    "count": "FI_ARG_COUNT",
    "iov": "FI_ARG_IOV",
    "iovcnt": "FI_ARG_IOVCNT",
    "ptr": "FI_ARG_PTR",
    "oflags": "FI_ARG_OFLAGS",
}

# Class names as rules spell them (%file); aliases last.
CLASSES = {
    "file": "FI_CLASS_FILE",
    "desc": "FI_CLASS_DESC",
    "net": "FI_CLASS_NET",
    "process": "FI_CLASS_PROCESS",
    "memory": "FI_CLASS_MEMORY",
    "signal": "FI_CLASS_SIGNAL",
    "ipc": "FI_CLASS_IPC",
    "creds": "FI_CLASS_CREDS",
    "clock": "FI_CLASS_CLOCK",
    "stat": "FI_CLASS_STAT",
}
# Facts fi itself needs about a call (!fact in syscalls.spec); no rule
# names them.
FACTS = {
    "fdclose": "FI_FACT_FDCLOSE",
    "fdunseen": "FI_FACT_FDUNSEEN",
}
CLASS_ALIASES = {"network": "net", "%stat": "stat"}

# Where the headers define two names for one number, the name a numeric
# definition carries is canonical (EAGAIN, not EWOULDBLOCK), except for
# these, which strace prints.
PREFERRED = {"SIGIO"}

NR_MAX = 512
SIG_MAX = 64


def fail(msg):
    sys.stderr.write("gen_names.py: error: %s\n" % msg)
    sys.exit(1)


def macros(cc, header):
    """Return {name: value-text} of every object-like macro of header."""
    try:
        out = subprocess.run(
            [cc, "-E", "-dM", "-x", "c", "-"],
            input="#include <%s>\n" % header,
            capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        fail("cannot preprocess <%s> with %s: %s" % (header, cc, e))
    defs = {}
    for line in out.splitlines():
        m = re.match(r"#define ([A-Za-z_][A-Za-z0-9_]*) (.*)$", line)
        if m:
            defs[m.group(1)] = m.group(2).strip()
    return defs


def resolve(defs, name, depth=0):
    """The integer value of macro `name`, following aliases; None if not a
    plain number."""
    v = defs.get(name)
    if v is None or depth > 8:
        return None
    v = v.strip("()").strip()
    if re.fullmatch(r"[0-9]+", v):
        return int(v)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
        return resolve(defs, v, depth + 1)
    return None


def numbered(defs, pattern, lo, hi):
    """{name: number} for macros matching pattern with lo <= value <= hi,
    and {number: canonical name}."""
    names = {}
    canon = {}
    for name, text in defs.items():
        if not re.fullmatch(pattern, name):
            continue
        n = resolve(defs, name)
        if n is None or n < lo or n > hi:
            continue
        names[name] = n
        direct = re.fullmatch(r"\(?[0-9]+\)?", text) is not None
        prev = canon.get(n)
        if prev is None:
            canon[n] = (name, direct)
        elif name in PREFERRED or (direct and not prev[1] and
                                   prev[0] not in PREFERRED):
            canon[n] = (name, direct)
        elif direct == prev[1] and prev[0] not in PREFERRED and name < prev[0]:
            canon[n] = (name, direct)
    return names, {n: v[0] for n, v in canon.items()}


def parse_spec(path, sysnr):
    entries = {}
    families = {}
    line_re = re.compile(r"([a-z_][a-z0-9_]*)\(([^)]*)\)((?:\s+[%@!][a-z0-9_]+)*)\s*$")
    try:
        text = open(path).read()
    except OSError as e:
        fail("cannot read %s: %s" % (path, e.strerror))
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = "%s:%d" % (path, lineno)
        m = line_re.fullmatch(line)
        if not m:
            fail("%s: cannot parse: %s" % (where, raw))
        name, args, tags = m.group(1), m.group(2).strip(), m.group(3).split()
        if name not in sysnr:
            fail("%s: syscall '%s' is not in <asm/unistd_64.h>" % (where, name))
        if name in entries:
            fail("%s: syscall '%s' is listed twice" % (where, name))
        kinds = [a.strip() for a in args.split(",")] if args else []
        if len(kinds) > 6:
            fail("%s: '%s' has more than 6 arguments" % (where, name))
        for k in kinds:
            if k not in ARG_KINDS:
                fail("%s: unknown argument kind '%s'" % (where, k))
        classes = []
        facts = []
        for t in tags:
            if t[0] == "!":
                if t[1:] not in FACTS:
                    fail("%s: unknown fact '%s'" % (where, t))
                facts.append(FACTS[t[1:]])
            elif t[0] == "%":
                if t[1:] not in CLASSES:
                    fail("%s: unknown class '%s'" % (where, t))
                classes.append(CLASSES[t[1:]])
            else:
                families.setdefault(t[1:], []).append(sysnr[name])
        entries[name] = (kinds, classes, facts)
    return entries, families


# The names are kept in arrays of these sizes (names_gen.h, names.h), not
# as pointers: a table of pointers needs a relocation per entry, which
# ld.so writes into libfi's pages at every start (a page fault per page).
NAME_MAX = {"sys": 32, "name": 32, "errno": 16, "signal": 16, "class": 16}


def cstr(s, kind="name"):
    if len(s) >= NAME_MAX[kind]:
        fail("name %s is longer than its table allows (%d bytes); raise "
             "the size in names_gen.h, names.h and gen_names.py" %
             (s, NAME_MAX[kind] - 1))
    return '"%s"' % s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--strict", action="store_true",
                    help="fail when a syscall of the headers has no spec line")
    a = ap.parse_args()

    sysdefs = macros(a.cc, "asm/unistd_64.h")
    sysnr = {}
    for name, text in sysdefs.items():
        if name.startswith("__NR_"):
            n = resolve(sysdefs, name)
            if n is not None:
                sysnr[name[5:]] = n
    if not sysnr:
        fail("no __NR_ definitions in <asm/unistd_64.h>")
    for name, n in sysnr.items():
        if n >= NR_MAX:
            fail("syscall %s has number %d >= FI_NR_MAX" % (name, n))

    errnames, errcanon = numbered(macros(a.cc, "errno.h"), r"E[A-Z0-9]+", 1, 4095)
    signames, sigcanon = numbered(macros(a.cc, "signal.h"), r"SIG[A-Z0-9]+", 1, SIG_MAX)
    if "ENOSPC" not in errnames or "SIGSEGV" not in signames:
        fail("errno or signal names missing from the headers")

    spec, families = parse_spec(a.spec, sysnr)
    missing = sorted(set(sysnr) - set(spec))
    if missing and a.strict:
        fail("no spec line for: %s" % " ".join(missing))

    o = []
    o.append("/* names_table.c: generated by libfi/gen_names.py from <asm/unistd_64.h>,")
    o.append(" * <errno.h>, <signal.h> and libfi/syscalls.spec. Do not edit. */")
    o.append('#include "names_gen.h"')
    o.append("")
    o.append("const struct fi__sysinfo fi__names_sys_tab[FI_NR_MAX] = {")
    for name, n in sorted(sysnr.items(), key=lambda kv: kv[1]):
        kinds, classes, facts = spec.get(name, (None, [], []))
        if kinds is None:
            # Not in the spec: a name, and all six registers as integers.
            kinds = ["int"] * 6
        args = ", ".join(ARG_KINDS[k] for k in kinds) or "0"
        cls = " | ".join(classes) or "0"
        fct = " | ".join(facts) or "0"
        o.append("\t[%d] = {%s, %d, {%s}, %s, %s}," % (n, cstr(name, "sys"), len(kinds), args, cls, fct))
    o.append("};")
    o.append("")

    def byname(var, pairs):
        o.append("const struct fi__name_nr %s[] = {" % var)
        for name, n in sorted(pairs):
            o.append("\t{%s, %d}," % (cstr(name), n))
        o.append("};")
        o.append("const unsigned %s_len = %d;" % (var, len(pairs)))
        o.append("")

    byname("fi__names_sys_byname", list(sysnr.items()))

    emax = max(errcanon)
    o.append("const unsigned fi__names_errno_max = %d;" % emax)
    o.append("const char fi__names_errno_tab[][FI__ERRNO_NAME] = {")
    for n in sorted(errcanon):
        o.append("\t[%d] = %s," % (n, cstr(errcanon[n], "errno")))
    o.append("};")
    o.append("")
    byname("fi__names_errno_byname", list(errnames.items()))

    o.append("const char fi__names_signal_tab[FI__SIG_MAX + 1][FI__SIGNAL_NAME] = {")
    for n in sorted(sigcanon):
        o.append("\t[%d] = %s," % (n, cstr(sigcanon[n], "signal")))
    o.append("};")
    o.append("")
    byname("fi__names_signal_byname", list(signames.items()))

    pairs = [(k, v) for k, v in CLASSES.items()]
    pairs += [(k, CLASSES[v]) for k, v in CLASS_ALIASES.items()]
    o.append("const struct fi__name_bits fi__names_class_byname[] = {")
    for name, bits in sorted(pairs):
        o.append("\t{%s, %s}," % (cstr(name, "class"), bits))
    o.append("};")
    o.append("const unsigned fi__names_class_byname_len = %d;" % len(pairs))
    o.append("")

    o.append("const unsigned short fi__names_family_nrs[] = {")
    first = {}
    at = 0
    for fam, nrs in sorted(families.items()):
        first[fam] = at
        at += len(nrs)
        o.append("\t/* %s */ %s," % (fam, ", ".join(str(n) for n in sorted(nrs))))
    o.append("};")
    o.append("const struct fi__family fi__names_families[] = {")
    for fam, nrs in sorted(families.items()):
        o.append("\t{%s, %d, %d}," % (cstr(fam, "class"), len(nrs), first[fam]))
    o.append("};")
    o.append("const unsigned fi__names_families_len = %d;" % len(families))
    if missing:
        o.append("")
        o.append("/* Without a spec line (six integer arguments): %s */" %
                 " ".join(missing))

    text = "\n".join(o) + "\n"
    try:
        with open(a.out, "w") as f:
            f.write(text)
    except OSError as e:
        fail("cannot write %s: %s" % (a.out, e.strerror))


if __name__ == "__main__":
    main()
