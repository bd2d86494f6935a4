#!/usr/bin/env python3
"""bench/run.py: fi's overhead per syscall, start-up cost and user-space
instructions per call, side by side with bare runs, strace and libfiu.

Three parts, all in one run (about two to three minutes):
  1. ns per call: every configuration x case, in interleaved rounds
     (round 1 runs every cell once in a shuffled order, then round 2 ...);
     the table gives medians over the rounds.
  2. start-up: /bin/true spawned bare and under each preload, interleaved
     (bench/startup_bench.c does the spawning and timing).
  3. instructions per call: callgrind with --smc-check=all at two loop
     sizes; the difference divided by the size difference cancels start-up.

Every timed run reports how many calls failed and with which errno, and the
driver checks it: a pass-through configuration must fail nothing and an
injecting one must fail every call with the right errno. A cell that does
not is printed as FAILED with what happened, never silently.

Run nothing else on the machine meanwhile; the figures are only comparable
within one run.
"""

import argparse
import datetime
import errno as errno_mod
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The cases of fi_syscall_bench: (name, what it calls).
CASES = [
    ("syscall-getppid", "syscall(SYS_getppid)"),
    ("getppid", "getppid()"),
    ("read", "read(/dev/zero, 1 byte)"),
    ("write", "write(/dev/null, 1 byte)"),
]

# The kernel syscall each case makes, and the error injected into it.
INJECT = {
    "syscall-getppid": ("getppid", "EPERM"),
    "getppid": ("getppid", "EPERM"),
    "read": ("read", "EIO"),
    "write": ("write", "ENOSPC"),
}

# A rule on a syscall that the case's loop never makes.
OTHER = {
    "syscall-getppid": ("read", "EIO"),
    "getppid": ("read", "EIO"),
    "read": ("getppid", "EPERM"),
    "write": ("getppid", "EPERM"),
}

# libfiu's failure points for the libc functions it wraps (fiu-ls / the
# function_list of fiu-utils). getppid is not wrapped.
FIU_POINT = {"read": "posix/io/rw/read", "write": "posix/io/rw/write"}
FIU_LIBDIR = "/usr/lib/fiu"

# Goals from DESIGN.md ("Performance budget") and the bench brief.
GOAL_NS = {"fi": 3.0, "fi-other": 5.0}          # delta vs bare, ns
GOAL_NS_INJECT_TOTAL = 15.0                      # ns per injected call, all in
GOAL_INSN = {"fi": 8, "fi-other": 12}            # added instructions per call
GOAL_INSN_INJECT_TOTAL = 120                     # instructions per iteration


class Config:
    """One way of running the bench: a command prefix and environment per
    case, and what the run must show (pass, or inject ERRNO)."""

    def __init__(self, name, title, build, expect, note=""):
        self.name = name
        self.title = title
        self.build = build    # case -> (argv prefix, env dict) or str (why n/a)
        self.expect = expect  # case -> None (pass) or errno name
        self.note = note


def fi_rule(case, table):
    nr, err = table[case]
    return "%s error=%s" % (nr, err)


def make_configs(args, strace_offsets):
    libfi = args.libfi
    have_fi = libfi is not None
    # libfi's patch-plan cache lives in the run's own directory: the first
    # (calibration) run fills it, the measured runs start warm, and the
    # user's ~/.cache/fi is neither used nor touched.
    cache = {"FI_CACHE_DIR": args.fi_cache_dir}
    configs = [
        Config("bare", "bare", lambda c: ([], {}), lambda c: None),
    ]
    if have_fi:
        configs += [
            Config("fi", "libfi, no rule",
                   lambda c: ([], dict(cache, LD_PRELOAD=libfi)), lambda c: None),
            Config("fi-other", "libfi, rule on another syscall",
                   lambda c: ([], dict(cache, LD_PRELOAD=libfi, FI_RULES=fi_rule(c, OTHER))),
                   lambda c: None),
            Config("fi-inject", "libfi, injecting",
                   lambda c: ([], dict(cache, LD_PRELOAD=libfi, FI_RULES=fi_rule(c, INJECT))),
                   lambda c: INJECT[c][1]),
        ]
    if shutil.which("strace"):
        def strace_inject(c):
            nr, err = INJECT[c]
            when = strace_offsets.get(c)
            if when is None:
                return "could not count the %s calls made before main" % nr
            spec = "inject=%s:error=%s:when=%d+" % (nr, err, when)
            return (["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + nr,
                     "-e", spec], {})
        configs += [
            Config("strace", "strace -e trace=none",
                   lambda c: (["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=none"], {}),
                   lambda c: None),
            Config("strace-inject", "strace -e inject", strace_inject,
                   lambda c: INJECT[c][1]),
        ]
    if shutil.which("fiu-run") and os.path.exists(os.path.join(FIU_LIBDIR, "fiu_posix_preload.so")):
        def fiu(c, enable):
            if enable is None:
                return (["fiu-run", "-x", "-f", ""], {})
            if c not in FIU_POINT:
                return "libfiu does not wrap getppid"
            return (["fiu-run", "-x", "-f", "", "-c", enable], {})

        def fiu_other(c):
            other = {"read": "write", "write": "read"}.get(c)
            if other is None:
                return "libfiu does not wrap getppid"
            return fiu(c, "enable name=%s" % FIU_POINT[other])

        def fiu_inject(c):
            if c not in FIU_POINT:
                return "libfiu does not wrap getppid"
            err = getattr(errno_mod, INJECT[c][1])
            return fiu(c, "enable name=%s,failinfo=%d" % (FIU_POINT[c], err))

        configs += [
            Config("fiu", "fiu-run -x", lambda c: fiu(c, None), lambda c: None),
            Config("fiu-other", "fiu-run -x, other point on", fiu_other, lambda c: None),
            Config("fiu-inject", "fiu-run -x, injecting", fiu_inject,
                   lambda c: INJECT[c][1]),
        ]
    return configs


def base_env():
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("FI_") and not k.startswith("FIU_")}
    env["LC_ALL"] = "C"
    return env


class RunError(Exception):
    pass


def parse_report(text):
    fields = {}
    for item in text.split():
        if "=" in item:
            k, v = item.split("=", 1)
            fields[k] = v
    if "ns_per_call" not in fields:
        raise RunError("no report line")
    return fields


def describe_status(rc):
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %d" % rc


def run_bench(args, tmpdir, prefix, env, case, n, mode="time", wrapper=None):
    """Runs fi_syscall_bench once; returns the parsed report fields."""
    report = os.path.join(tmpdir, "report")
    if os.path.exists(report):
        os.unlink(report)
    argv = list(wrapper or []) + list(prefix) + [args.syscall_bench, "-o", report, case, str(n), mode]
    full_env = base_env()
    full_env.update(env)
    try:
        p = subprocess.run(argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise RunError("timed out after %ds: %s" % (args.timeout, shlex.join(argv)))
    text = ""
    if os.path.exists(report):
        with open(report, "rb") as f:
            text = f.read().split(b"\0", 1)[0].decode(errors="replace")
    if p.returncode != 0:
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RunError("%s: %s%s" % (describe_status(p.returncode), shlex.join(argv),
                                     ("; stderr: " + " | ".join(tail)) if tail else ""))
    try:
        return parse_report(text)
    except RunError:
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RunError("no report from %s%s" % (shlex.join(argv),
                                               ("; stderr: " + " | ".join(tail)) if tail else ""))


def check_expectation(case, expect, fields):
    """None when the run did what the configuration promises, else why not."""
    n = int(fields["n"])
    fails = int(fields["fails"])
    err = int(fields["errno"])
    last = int(fields["last_ret"])
    if expect is None:
        if fails:
            return "expected no failure, got %d of %d calls failing (errno=%s, last_ret=%d)" % (
                fails, n, errno_mod.errorcode.get(err, err), last)
        return None
    want = getattr(errno_mod, expect)
    # getppid() cannot fail, so glibc returns the raw value and leaves errno.
    got_err = err == want or (case == "getppid" and last == -want)
    if fails != n or not got_err:
        return "expected all %d calls to fail with %s, got %d failing, errno=%s, last_ret=%d" % (
            n, expect, fails, errno_mod.errorcode.get(err, err), last)
    return None


def count_preloop_calls(args, tmpdir, case):
    """How many calls of the injected syscall happen before the loop (the
    loader's reads, for instance): strace's when= must skip them."""
    nr = INJECT[case][0]
    log = os.path.join(tmpdir, "strace.log")
    try:
        run_bench(args, tmpdir, ["strace", "-f", "-qq", "-o", log, "-e", "trace=" + nr],
                  {}, case, 0)
        with open(log) as f:
            calls = sum(1 for line in f if line.split(" ", 1)[-1].lstrip().startswith(nr + "("))
    except (RunError, OSError):
        return None
    return calls + 1


def nice_round(n):
    digits = len(str(int(n))) - 2
    return max(1, int(round(n / 10 ** digits)) * 10 ** digits) if digits > 0 else int(n)


def fmt_ns(x):
    if x is None:
        return "n/a"
    if abs(x) >= 10000:
        return "%.0f" % x
    return "%.1f" % x


def fmt_delta(x):
    if x is None:
        return "n/a"
    return ("+" if x >= 0 else "") + fmt_ns(x)


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    meltdown = "?"
    try:
        with open("/sys/devices/system/cpu/vulnerabilities/meltdown") as f:
            meltdown = f.read().strip()
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout.strip()
    except OSError:
        rev = "?"
    return [
        "load average at start: %s" % loadavg(),
        "date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine: %d CPUs (nproc), kernel %s, CPU %s" % (os.cpu_count(), platform.release(), cpu),
        "meltdown mitigation: %s" % meltdown,
        "fi commit: %s" % (rev or "?"),
    ]


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def print_table(out, header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |"
    out.append(line)
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")


# ---------------------------------------------------------------- timing

def part_timing(args, tmpdir, configs, out, notes):
    cases = [c for c, _ in CASES if c in args.cases]
    cells = []  # (config, case, prefix, env, n)
    na = {}
    failed = {}
    for cfg in configs:
        for case in cases:
            built = cfg.build(case)
            if isinstance(built, str):
                na[(cfg.name, case)] = built
                continue
            prefix, env = built
            # Calibrate: choose n so that one timed loop lasts about target-ms.
            try:
                f = run_bench(args, tmpdir, prefix, env, case, args.calib_n)
                why = check_expectation(case, cfg.expect(case), f)
                if why:
                    raise RunError(why)
            except RunError as e:
                failed[(cfg.name, case)] = str(e)
                notes.append("FAILED %s / %s: %s" % (cfg.name, case, e))
                continue
            ns = max(float(f["ns_per_call"]), 1.0)
            n = nice_round(min(max(args.target_ms * 1e6 / ns, args.min_n), args.max_n))
            cells.append((cfg, case, prefix, env, n))

    samples = {(cfg.name, case): [] for cfg, case, _, _, _ in cells}
    rng = random.Random(args.seed)
    for rnd in range(args.rounds):
        order = list(cells)
        rng.shuffle(order)
        for cfg, case, prefix, env, n in order:
            key = (cfg.name, case)
            if key in failed:
                continue
            try:
                f = run_bench(args, tmpdir, prefix, env, case, n)
                why = check_expectation(case, cfg.expect(case), f)
                if why:
                    raise RunError(why)
            except RunError as e:
                failed[key] = "round %d: %s" % (rnd + 1, e)
                notes.append("FAILED %s / %s in round %d: %s" % (cfg.name, case, rnd + 1, e))
                continue
            samples[key].append((float(f["ns_per_call"]), float(f["ns_best_chunk"])))
        sys.stderr.write("\rtiming: round %d/%d" % (rnd + 1, args.rounds))
        sys.stderr.flush()
    sys.stderr.write("\n")

    ns_of = {}
    for key, s in samples.items():
        if s and key not in failed:
            ns_of[key] = s
    iters = {(cfg.name, case): n for cfg, case, _, _, n in cells}

    out.append("")
    out.append("## ns per call (median of %d interleaved rounds)" % args.rounds)
    out.append("")
    out.append("ns/call: whole timed loop; IQR: interquartile range of ns/call over the "
               "rounds; delta and ratio: against the bare median of the same case; best: the "
               "fastest of the 10 slices of each loop (least disturbed), median over the rounds.")
    out.append("")
    header = ["case", "configuration", "ns/call", "IQR", "delta vs bare", "ratio",
              "best", "best delta", "n/run", "goal"]
    rows = []
    for case, what in CASES:
        if case not in cases:
            continue
        bare = ns_of.get(("bare", case))
        bare_med = statistics.median(x for x, _ in bare) if bare else None
        bare_best = statistics.median(b for _, b in bare) if bare else None
        bare_iqr = iqr([x for x, _ in bare]) if bare else 0.0
        for cfg in configs:
            key = (cfg.name, case)
            label = cfg.title
            if key in na:
                rows.append([what, label, "n/a", "", "n/a", "n/a", "", "", "", na[key]])
                continue
            if key in failed:
                rows.append([what, label, "FAILED", "", "", "", "", "", "", "see notes"])
                continue
            s = ns_of.get(key)
            if not s:
                continue
            whole = [x for x, _ in s]
            med = statistics.median(whole)
            best = statistics.median(b for _, b in s)
            spread = iqr(whole)
            is_bare = cfg.name == "bare"
            delta = med - bare_med if bare_med is not None and not is_bare else None
            best_delta = best - bare_best if bare_best is not None and not is_bare else None
            goal = ""
            if cfg.name in GOAL_NS and delta is not None:
                g = GOAL_NS[cfg.name]
                noise = max(bare_iqr, spread)
                if delta <= g:
                    verdict = "met" if noise <= g else "met, within noise (IQR %s)" % fmt_ns(noise)
                elif delta > noise:
                    verdict = "not met (delta above the IQR %s)" % fmt_ns(noise)
                else:
                    verdict = "unresolved: IQR %s ns; see instructions" % fmt_ns(noise)
                goal = "<= +%g ns: %s" % (g, verdict)
            elif cfg.name == "fi-inject":
                goal = "<= %g ns: %s" % (GOAL_NS_INJECT_TOTAL,
                                         "met" if med <= GOAL_NS_INJECT_TOTAL else "not met")
            rows.append([what, label, fmt_ns(med), fmt_ns(spread),
                         "" if is_bare else fmt_delta(delta),
                         "" if is_bare or not bare_med else "%.2fx" % (med / bare_med),
                         fmt_ns(best), "" if is_bare else fmt_delta(best_delta),
                         iters[key], goal])
    print_table(out, header, rows)


def iqr(values):
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


# ---------------------------------------------------------------- start-up

def part_startup(args, tmpdir, out, notes):
    target = args.startup_program
    cmd = [args.startup_bench, "-n", str(args.startup_runs), "-w", "3",
           "-t", str(args.startup_budget)]
    labels = []

    def add(label, env, argv):
        labels.append(label)
        cmd.extend(["-l", label])
        for k, v in env.items():
            cmd.extend(["-e", "%s=%s" % (k, v)])
        for a in argv:
            cmd.extend(["-x", a])

    add("bare", {}, [target])
    if args.libfi:
        # Warm: the plan cache (filled by the warm-up rounds); cold: no cache.
        cache = args.fi_cache_dir
        add("libfi", {"LD_PRELOAD": args.libfi, "FI_CACHE_DIR": cache}, [target])
        add("libfi+rule", {"LD_PRELOAD": args.libfi, "FI_CACHE_DIR": cache,
                           "FI_RULES": "getppid error=EPERM"}, [target])
        add("libfi-cold", {"LD_PRELOAD": args.libfi, "FI_CACHE_DIR": "off"}, [target])
    fiu_pre = os.path.join(FIU_LIBDIR, "fiu_posix_preload.so")
    if os.path.exists(fiu_pre):
        add("libfiu", {"LD_PRELOAD": "%s %s" % (os.path.join(FIU_LIBDIR, "fiu_run_preload.so"), fiu_pre),
                       "FIU_CTRL_FIFO": "", "FIU_ENABLE": ""}, [target])
    strace = shutil.which("strace")
    if strace:
        add("strace", {}, [strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=none", target])
    sys.stderr.write("start-up: %d runs x %d configurations\n" % (args.startup_runs, len(labels)))
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=args.startup_budget * 3 + args.timeout)
    except subprocess.TimeoutExpired:
        notes.append("FAILED start-up bench: timed out: %s" % shlex.join(cmd))
        return
    if p.returncode != 0:
        notes.append("FAILED start-up bench: %s: %s" % (describe_status(p.returncode), p.stderr.strip()))
        return
    res = {}
    for line in p.stdout.splitlines():
        f = parse_kv(line)
        res[f["label"]] = f
    out.append("")
    runs = min(int(f["runs"]) + int(f["failed"]) for f in res.values())
    out.append("## start-up of %s (median of %d interleaved spawns each, microseconds)"
               % (target, runs))
    out.append("")
    header = ["configuration", "median us", "p10", "p90", "delta vs bare", "failed runs", "goal"]
    rows = []
    bare = float(res["bare"]["median_us"])
    for label in labels:
        f = res[label]
        med = float(f["median_us"])
        delta = med - bare
        goal = ""
        if label.startswith("libfi") and label != "libfi-cold":
            goal = "<= +2000 us: %s" % ("met" if delta <= 2000 else "not met")
        elif label == "libfi-cold":
            goal = "cold, under syscall_intercept's 80 ms: %s" % (
                "met" if delta <= 80000 else "not met")
        failed_runs = int(f["failed"])
        if failed_runs:
            notes.append("start-up %s: %d runs did not exit 0" % (label, failed_runs))
        rows.append([label, f["median_us"], f["p10_us"], f["p90_us"],
                     "" if label == "bare" else fmt_delta(delta), failed_runs, goal])
    print_table(out, header, rows)


def parse_kv(line):
    return dict(item.split("=", 1) for item in line.split() if "=" in item)


# ---------------------------------------------------------------- callgrind

def callgrind_total(path):
    """The instruction total of a callgrind.out file: its "totals:" line
    (with --instr-atstart=no the "summary:" line stays 0)."""
    found = {}
    with open(path) as f:
        for line in f:
            for key in ("totals:", "summary:"):
                if line.startswith(key):
                    found[key] = int(line.split()[1])
    for key in ("totals:", "summary:"):
        if key in found:
            return found[key]
    raise RunError("no totals line in %s" % path)


def part_callgrind(args, tmpdir, configs, out, notes):
    vg = shutil.which("valgrind.bin") or shutil.which("valgrind")
    if not vg:
        notes.append("callgrind part skipped: valgrind not installed")
        return
    small, large = args.cg_n, 2 * args.cg_n
    probe = subprocess.run([args.syscall_bench, "getppid", "0", "loop"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True).stdout
    toggle = parse_kv(probe).get("cg_toggle") == "1"
    # libfiu's "other point on" costs the same as no point at all (checked by
    # hand: 1145 instructions either way), so callgrind skips it.
    wanted = ["bare", "fi", "fi-other", "fi-inject", "fiu", "fiu-inject"]
    cg_configs = [c for c in configs if c.name in wanted]
    cases = [c for c, _ in CASES if c in args.cases]
    result = {}
    na = {}
    profiles = []
    total = len(cg_configs) * len(cases)
    done = 0
    for cfg in cg_configs:
        for case in cases:
            done += 1
            sys.stderr.write("\rcallgrind: %d/%d" % (done, total))
            sys.stderr.flush()
            built = cfg.build(case)
            if cfg.name.startswith("fiu") and case not in FIU_POINT:
                built = "libfiu does not wrap getppid: nothing added"
            if isinstance(built, str):
                na[(cfg.name, case)] = built
                continue
            prefix, env = built
            if prefix and prefix[0] == "fiu-run":
                # Set fiu-run's environment directly, so that callgrind sees
                # the bench itself and not the fiu-run shell script.
                env = dict(env)
                env["LD_PRELOAD"] = "%s/fiu_run_preload.so %s/fiu_posix_preload.so" % (FIU_LIBDIR, FIU_LIBDIR)
                env["FIU_CTRL_FIFO"] = ""
                env["FIU_ENABLE"] = prefix[prefix.index("-c") + 1] if "-c" in prefix else ""
                prefix = []
            totals = []
            outs = []
            try:
                base = os.path.join(tmpdir, "callgrind.%s.%s" % (cfg.name, case))
                wrapper = [vg, "--tool=callgrind", "--smc-check=all",
                           "--callgrind-out-file=" + base]
                if toggle:
                    # One process: the bench warms up uninstrumented, then
                    # instruments and dumps a loop of N and a loop of 2N.
                    wrapper.append("--instr-atstart=no")
                    f = run_bench(args, tmpdir, prefix, env, case, small, mode="pair",
                                  wrapper=wrapper)
                    outs = [base + ".1", base + ".2"]
                    runs = [f]
                else:
                    runs = []
                    for n in (small, large):
                        wrapper[-1] = "--callgrind-out-file=%s.%d" % (base, n)
                        runs.append(run_bench(args, tmpdir, prefix, env, case, n, mode="loop",
                                              wrapper=wrapper))
                        outs.append("%s.%d" % (base, n))
                for f in runs:
                    why = check_expectation(case, cfg.expect(case), f)
                    if why:
                        raise RunError("under callgrind: " + why)
                totals = [callgrind_total(o) for o in outs]
            except (RunError, OSError) as e:
                notes.append("FAILED callgrind %s / %s: %s" % (cfg.name, case, e))
                result[(cfg.name, case)] = None
                continue
            result[(cfg.name, case)] = (totals[1] - totals[0]) / (large - small)
            if cfg.name.startswith("fi"):
                prof = function_profile(outs[0], outs[1], large - small)
                if prof:
                    profiles.append((cfg.title, case, prof))
            for o in os.listdir(tmpdir):
                if o.startswith("callgrind."):
                    os.unlink(os.path.join(tmpdir, o))
    sys.stderr.write("\n")

    out.append("")
    out.append("## user-space instructions per call (callgrind --smc-check=all%s, "
               "(I(%d) - I(%d)) / %d)" % (" --instr-atstart=no, one process per cell" if toggle
                                          else "", large, small, large - small))
    out.append("")
    header = ["case", "configuration", "instr/call", "delta vs bare", "goal"]
    rows = []
    for case, what in CASES:
        if case not in cases:
            continue
        bare = result.get(("bare", case))
        for cfg in cg_configs:
            key = (cfg.name, case)
            if key in na:
                rows.append([what, cfg.title, "n/a", "n/a", na[key]])
                continue
            v = result.get(key)
            if v is None:
                rows.append([what, cfg.title, "FAILED", "", "see notes"])
                continue
            delta = v - bare if bare is not None else None
            goal = ""
            if cfg.name in GOAL_INSN and delta is not None:
                goal = "<= +%d: %s" % (GOAL_INSN[cfg.name], "met" if delta <= GOAL_INSN[cfg.name] else "not met")
            elif cfg.name == "fi-inject":
                goal = "<= %d in all: %s" % (GOAL_INSN_INJECT_TOTAL,
                                             "met" if v <= GOAL_INSN_INJECT_TOTAL else "not met")
            rows.append([what, cfg.title, "%.2f" % v,
                         "" if cfg.name == "bare" else ("%+.2f" % delta if delta is not None else "n/a"), goal])
    print_table(out, header, rows)
    if profiles:
        out.append("")
        out.append("Where the instructions per call go (self cost per function, "
                   "same two-size difference; functions under 0.5 left out):")
        out.append("")
        for title, case, prof in profiles:
            out.append("- %s, %s: %s" % (title, case, ", ".join(
                "%s %.1f" % (fn, v) for fn, v in prof)))


def annotate(path):
    """Self cost per function from callgrind_annotate, keyed by
    'function (object)'."""
    p = subprocess.run(["callgrind_annotate", "--inclusive=no", "--auto=no", "--threshold=100",
                        path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    costs = {}
    in_table = False
    for line in p.stdout.splitlines():
        if line.rstrip().endswith("file:function"):
            in_table = True
            continue
        if not in_table:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not parts[0].replace(",", "").isdigit():
            continue
        rest = parts[1]
        if rest.startswith("("):
            rest = rest.split(")", 1)[1].strip()
        if "PROGRAM TOTALS" in rest:
            continue
        obj = ""
        if rest.endswith("]") and " [" in rest:
            rest, obj = rest.rsplit(" [", 1)
            obj = os.path.basename(obj[:-1])
        fn = rest.rsplit(":", 1)[-1]
        if fn.startswith("0x"):
            fn = "?"
        if fn == "?" and obj in ("", "???"):
            key = "code outside any object (stubs)"
        else:
            key = "%s (%s)" % (fn, obj) if obj and obj != "???" else fn
        costs[key] = costs.get(key, 0) + int(parts[0].replace(",", ""))
    return costs


def function_profile(small_out, large_out, diff_n):
    if not shutil.which("callgrind_annotate"):
        return None
    a, b = annotate(small_out), annotate(large_out)
    per = [(k, (b.get(k, 0) - a.get(k, 0)) / diff_n) for k in set(a) | set(b)]
    per = [(k, v) for k, v in per if abs(v) >= 0.5]
    per.sort(key=lambda kv: -kv[1])
    return per[:12]


# ---------------------------------------------------------------- main

def find_bin_dir(given):
    candidates = [given] if given else [
        os.path.join(ROOT, "build-bench", "bench"), os.path.join(ROOT, "build-bench"),
        os.path.join(ROOT, "build", "bench")]
    for d in candidates:
        if d and os.path.exists(os.path.join(d, "fi_syscall_bench")):
            return os.path.abspath(d)
    sys.exit("run.py: fi_syscall_bench not found in %s; build it with `ninja -C BUILD bench`"
             % ", ".join(c for c in candidates if c))


def find_libfi(given, bin_dir):
    if given:
        return os.path.abspath(given) if os.path.exists(given) else None
    for d in (os.path.join(bin_dir, "..", "libfi"), os.path.join(ROOT, "build-bench", "libfi"),
              os.path.join(ROOT, "build", "libfi")):
        p = os.path.join(d, "libfi.so")
        if os.path.exists(p):
            return os.path.abspath(p)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", help="where fi_syscall_bench and fi_startup_bench are")
    ap.add_argument("--libfi", help="path of libfi.so (default: BUILD/libfi/libfi.so)")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--target-ms", type=float, default=60.0, help="length of one timed loop")
    ap.add_argument("--calib-n", type=int, default=3000)
    ap.add_argument("--min-n", type=int, default=2000)
    ap.add_argument("--max-n", type=int, default=5000000)
    ap.add_argument("--cases", default=",".join(c for c, _ in CASES))
    ap.add_argument("--startup-runs", type=int, default=400, help="at most this many per configuration")
    ap.add_argument("--startup-budget", type=int, default=30, help="seconds for the start-up part")
    ap.add_argument("--startup-program", default="/bin/true")
    ap.add_argument("--cg-n", type=int, default=25000,
                    help="callgrind compares loops of N and 2N calls (counts are exact, "
                         "so small is enough)")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: timing,startup,callgrind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=120, help="seconds per single run")
    ap.add_argument("--output", help="also write the report to this file")
    args = ap.parse_args()

    bin_dir = find_bin_dir(args.bin_dir)
    args.syscall_bench = os.path.join(bin_dir, "fi_syscall_bench")
    args.startup_bench = os.path.join(bin_dir, "fi_startup_bench")
    wanted_libfi = args.libfi
    args.libfi = find_libfi(args.libfi, bin_dir)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    skip = set(s.strip() for s in args.skip.split(",") if s.strip())

    out = ["# fi bench", ""]
    out += ["- " + m for m in machine_info()]
    out.append("- command: %s" % shlex.join([sys.executable] + sys.argv))
    out.append("- libfi: %s" % (args.libfi or "not built (%s): its configurations are skipped"
                                 % (wanted_libfi or "no BUILD/libfi/libfi.so")))
    notes = []
    if not args.libfi:
        notes.append("libfi.so not found: the libfi configurations were skipped")

    with tempfile.TemporaryDirectory(prefix="fi-bench.") as tmpdir:
        args.fi_cache_dir = os.path.join(tmpdir, "fi-cache")
        os.mkdir(args.fi_cache_dir)
        strace_offsets = {}
        if shutil.which("strace") and "timing" not in skip:
            for case in args.cases:
                strace_offsets[case] = count_preloop_calls(args, tmpdir, case)
        configs = make_configs(args, strace_offsets)
        parts = [("timing", lambda: part_timing(args, tmpdir, configs, out, notes)),
                 ("startup", lambda: part_startup(args, tmpdir, out, notes)),
                 ("callgrind", lambda: part_callgrind(args, tmpdir, configs, out, notes))]
        took = []
        for name, run in parts:
            if name in skip:
                continue
            t0 = time.monotonic()
            run()
            took.append("%s %.0f s" % (name, time.monotonic() - t0))

    out.append("")
    out.append("load average at the end: %s; time taken: %s" % (loadavg(), ", ".join(took)))
    out.append("")
    out.append("## notes")
    out.append("")
    out.append("- strace -e inject uses when=K+ so that the calls the loader makes "
               "before main (counted with strace first) are not failed.")
    out.append("- libfiu wraps libc functions, not getppid or syscall(2): its "
               "getppid cells only show that they are untouched; injection there is n/a.")
    for n in notes:
        out.append("- " + n)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    return 1 if any(n.startswith("FAILED") for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
