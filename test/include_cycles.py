#!/usr/bin/env python3
"""include_cycles.py DIR: fails when two stages of DIR need each other.

A stage is a file name without its extension: x.c, x.h and x.S are the
stage x (docs/architecture.md: one file per stage). Stage x needs stage y
when a file of x has #include "y.h", declares a function of y by hand
instead, or, in assembly, names a symbol of y (entry.S calls fi__dispatch:
STYLE.md's fi__<file>_ names tell whose it is). A cycle such as image.c including patch.h while patch.c includes
image.h means neither can be read, tested or changed alone; each cycle
found is printed with the includes that make it, and the exit status is 1.

A few files are parts of one stage, kept apart only for size; PARTS names
them. `include_cycles.py --selftest` checks that cycles are found."""

import os
import re
import sys
import tempfile

# Files that belong to another stage (their headers say "Internal").
PARTS = {
    'names_gen': 'names',       # the generated tables, as names.c reads them
    'rule_model': 'rules',      # a compiled rule, shared with the parser
    'scn_value': 'scenario',    # the .fi language's value parsers
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SYMBOL = re.compile(r'\bfi__([a-z0-9_]+)')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
# A prototype at file scope: "void fi__entry(void);"
PROTOTYPE = re.compile(r'^[a-z][^#;{}()]*\bfi__([a-z0-9_]+)\s*\([^;{}]*\)\s*;',
                       re.M)


def stage(name):
    s = os.path.splitext(name)[0]
    return PARTS.get(s, s)


def owner(symbol, stems):
    """The stage whose fi__<stage>_ prefix symbol has, longest first."""
    words = symbol.split('_')
    for k in range(len(words), 0, -1):
        s = '_'.join(words[:k])
        if s in stems:
            return PARTS.get(s, s)
    return None


def graph(d):
    files = sorted(f for f in os.listdir(d)
                   if os.path.splitext(f)[1] in ('.c', '.h', '.S'))
    names = set(files)
    stems = {os.path.splitext(f)[0] for f in files}
    edges = {}  # stage -> {stage: why}

    def add(a, b, why):
        if a != b:
            edges.setdefault(a, {}).setdefault(b, why)

    for f in files:
        with open(os.path.join(d, f), encoding='utf-8') as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            if inc in names:
                add(stage(f), stage(inc), '%s includes "%s"' % (f, inc))
        code = COMMENT.sub(' ', text)
        if f.endswith('.S'):
            for sym in SYMBOL.findall(code):
                s = owner(sym, stems)
                if s:
                    add(stage(f), s, '%s uses fi__%s' % (f, sym))
        elif f.endswith('.c'):
            for sym in PROTOTYPE.findall(code):
                s = owner(sym, stems)
                if s:
                    add(stage(f), s, '%s declares fi__%s' % (f, sym))
    return edges


def cycles(edges):
    """Strongly connected components of more than one stage (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check(d, out=sys.stdout):
    edges = graph(d)
    found = cycles(edges)
    for comp in found:
        print('cycle among %s:' % ', '.join(comp), file=out)
        for v in comp:
            for w, why in sorted(edges.get(v, {}).items()):
                if w in comp:
                    print('  ' + why, file=out)
    return not found


def selftest():
    cases = [
        ({'a.c': '#include "b.h"\n', 'b.c': '#include "a.h"\n',
          'a.h': '', 'b.h': ''}, False),
        ({'a.c': '#include "b.h"\n', 'b.h': '#include "c.h"\n',
          'c.c': '#include "a.h"\n', 'a.h': '', 'c.h': ''}, False),
        ({'e.S': '\tcall fi__d_run /* fi__x */\n', 'd.c': '#include "p.h"\n',
          'p.c': '#include "e.h"\n', 'd.h': '', 'p.h': '', 'e.h': ''},
         False),
        ({'e.S': '\tcall fi__d_run\n', 'd.c': '#include "a.h"\n',
          'a.c': 'long fi__x;\nvoid fi__e_go(void);\nint f(void)\n{\n}\n',
          'd.h': '', 'a.h': '', 'e.h': ''}, False),
        ({'a.c': '#include "b.h"\n#include "a.h"\n', 'b.c': '#include "b.h"\n',
          'a.h': '#include "b.h"\n', 'b.h': '', 'e.S': '/* fi__a */\n'},
         True),
    ]
    for i, (files, ok) in enumerate(cases):
        with tempfile.TemporaryDirectory() as d:
            for name, text in files.items():
                with open(os.path.join(d, name), 'w') as fh:
                    fh.write(text)
            with open(os.devnull, 'w') as null:
                if check(d, null) != ok:
                    print('selftest case %d: expected %s' %
                          (i, 'no cycle' if ok else 'a cycle'))
                    return False
    print('selftest: %d cases' % len(cases))
    return True


def main():
    if sys.argv[1:] == ['--selftest']:
        sys.exit(0 if selftest() else 1)
    if len(sys.argv) != 2:
        sys.exit('usage: include_cycles.py DIR | --selftest')
    if not check(sys.argv[1]):
        sys.exit(1)
    print('no include cycle among the stages of %s' % sys.argv[1])


if __name__ == '__main__':
    main()
