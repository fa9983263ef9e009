#!/bin/bash
# mayexec-python against the python3 it embeds, in one run: start-up
# (`-c pass`) and an import-heavy program (BENCH_MODULES modules in a tree
# marked executable), without enforcement, under `mayexec run -f` (the
# full check, the kernel's, for every file loaded as code), and under a
# system policy of level 2 (the emulated check) and of level 3 (the
# kernel's check without `mayexec run`), set in a private mount namespace
# (the real /etc is not touched); and mayexec-python under
# level 1 with and without content trust (a private trust database: the
# real /var/lib is not touched either).
#
#   bash crates/mayexec-python/bench/bench.sh [results.md]
#   BENCH_PYTHON=3.12 bash crates/mayexec-python/bench/bench.sh [results.md]
#   BENCH_BASELINE=OLD/mayexec-python bash crates/mayexec-python/bench/bench.sh
#
# BENCH_BASELINE names another mayexec-python of the same CPython (an
# earlier commit's release build): the two are run alternated, run by run
# (bench/alternate.py; BENCH_BASELINE_RUNS each, default 100), wall and
# CPU time, for start-up and the import-heavy program without enforcement,
# under `mayexec run -f` and under a level-3 policy; a last table compares
# them.
#
# BENCH_PYTHON names the CPython (default: the workspace's, 3.11); another
# version's mayexec-python is built in target/python3.X, as
# scripts/python-versions.sh builds it, against the interpreter that script
# finds; for a version that script builds in a Debian root (3.14 here), the
# bench runs in that root (results also in target/bench-python3.X.md), its
# python3.X being Debian's (a static executable: see docs/performance.md).
#
# Installs hyperfine and strace (Debian) if missing; builds the release binaries.
# Needs root only for apt-get. The standard library is copied, with its
# cached bytecode, into a scratch tree marked executable (the machine's is
# mode 0644, which the full check refuses): both interpreters use that copy
# as PYTHONHOME, so they read the same files.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-}
runs=${BENCH_RUNS:-60}
modules=${BENCH_MODULES:-150}
trust_runs=${BENCH_TRUST_RUNS:-200}
baseline=${BENCH_BASELINE:-}
baseline_runs=${BENCH_BASELINE_RUNS:-100}
[ -z "$baseline" ] || [ -x "$baseline" ] || {
    echo "BENCH_BASELINE: $baseline is not an executable" >&2
    exit 1
}

if ! command -v hyperfine >/dev/null || ! command -v strace >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq hyperfine strace >/dev/null
fi

if [ -n "${BENCH_PYTHON:-}" ] && bash "$root/scripts/python-versions.sh" in-root "$BENCH_PYTHON"; then
    # A version built in a Debian root (scripts/python-versions.sh): the
    # bench runs there, with the mayexec command built here.
    cargo build --release -p mayexec-cli --manifest-path "$root/Cargo.toml" -j2 >&2
    results="$root/target/bench-python$BENCH_PYTHON.md"
    sh "$root/crates/mayexec-python/debian-root.sh" "$BENCH_PYTHON" \
        env BENCH_PYTHON="$BENCH_PYTHON" BENCH_RUNS="$runs" BENCH_MODULES="$modules" \
        bash crates/mayexec-python/bench/bench.sh "$results" >/dev/null
    [ -z "$out" ] || cp "$results" "$out"
    cat "$results"
    exit
fi
# The interpreter the default build embeds (pinned, as the other scripts pin it).
# shellcheck source=scripts/pyo3-python.sh
. "$root/scripts/pyo3-python.sh"
# (In a Debian root the mayexec command was built outside.)
[ -n "${MAYEXEC_DEBIAN_ROOT:-}" ] ||
    cargo build --release -p mayexec-python -p mayexec-cli --manifest-path "$root/Cargo.toml" -j2 >&2
mx="$root/target/release/mayexec-python"
mayexec="$root/target/release/mayexec"
py=
if [ -n "${BENCH_PYTHON:-}" ]; then
    bench_py=$(bash "$root/scripts/python-versions.sh" interpreter "$BENCH_PYTHON")
    PYO3_PYTHON=$bench_py CARGO_TARGET_DIR="$root/target/python$BENCH_PYTHON" \
        cargo build --release -p mayexec-python --manifest-path "$root/Cargo.toml" -j2 >&2
    mx="$root/target/python$BENCH_PYTHON/release/mayexec-python"
    py=$bench_py
fi
# The interpreter the default build embeds (linked statically or not, the
# binary need not name it).
[ -n "$py" ] || py=$PYO3_PYTHON
[ -x "$py" ] || { echo "no python3 for $mx" >&2; exit 1; }
stdlib=$("$py" -S -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')

work=$(mktemp -d /tmp/mayexec-python-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A PYTHONHOME marked executable: .py and __pycache__/*.pyc, mtimes kept
# (the .pyc files record them), mode 0755; lib-dynload is the machine's.
home="$work/home/lib/$(basename "$stdlib")"
tag=$("$py" -S -c 'import sys; print(sys.implementation.cache_tag)')
mkdir -p "$home"
(cd "$stdlib" && find . \( -path ./test -o -path ./site-packages -o -path ./idlelib \
        -o -path ./tkinter -o -path ./turtledemo -o -path ./lib2to3 -o -path ./ensurepip \
        -o -path ./lib-dynload -o -path './config-*' \) -prune \
        -o \( -name '*.py' -o -name "*.$tag.pyc" \) -print0 \
    | tar --null -cf - -T - | tar -xpf - -C "$home")
ln -s "$stdlib/lib-dynload" "$home/lib-dynload"
chmod -R a+rX,a+x "$work/home"

# The import-heavy program: $modules modules in 10 packages, each with a
# little code (a class, a function, constants), imported by main.py.
app="$work/app"
mkdir -p "$app"
for p in $(seq 0 9); do
    mkdir -p "$app/pkg$p"
    echo "\"\"\"Package $p.\"\"\"" > "$app/pkg$p/__init__.py"
done
: > "$app/main.py"
for m in $(seq 0 $((modules - 1))); do
    p=$((m % 10))
    cat > "$app/pkg$p/mod$m.py" <<EOF
"""Module $m."""
import os
CONSTANT_$m = $m
TABLE = {str(i): i * $m for i in range(20)}

class Thing$m:
    def __init__(self, value=$m):
        self.value = value

    def double(self):
        return self.value * 2

def work(n=$m):
    return sum(Thing$m(i).double() for i in range(n % 7))
EOF
    echo "import pkg$p.mod$m" >> "$app/main.py"
done
echo "print('imported', len([m for m in __import__('sys').modules if m.startswith('pkg')]), 'modules')" >> "$app/main.py"

clean_env=(env -i PATH=/usr/bin:/bin PYTHONHOME="$work/home")
# Compile every cache once, then mark the whole tree executable: that is
# what docs/deployment.md asks of a deployment under the full check.
"${clean_env[@]}" "$py" -m compileall -q "$app" >/dev/null
chmod -R a+rX,a+x "$app"
# ... and, as docs/deployment.md says after marking, the caches' ctime past
# their sources' (chmod -R walks them in directory order): under a policy
# file a cached module's source then gets the emulated rules, its cache the
# kernel's check (docs/semantics.md §3.2).
find "$work/home" "$app" -path '*/__pycache__/*.pyc' -exec touch -c {} +
"${clean_env[@]}" "$mayexec" run -f -- "$mx" "$app/main.py"

# The floor (issue #25, docs/performance.md): what any design that makes one
# kernel check per file read as code costs over python3 is python3's time
# plus the checks. The kernel check alone, in the same runs: a perl loop
# (scripts/lib/check-loop.pl) of $checks checks on one of the program's
# caches, less the same loop making none. The checks one run of the program makes are counted
# with strace (execveat with AT_EXECVE_CHECK; below, per policy).
checks=2000
check_file=$(find "$app/pkg0/__pycache__" -name '*.pyc' | head -n 1)
check_loop=$root/scripts/lib/check-loop.pl
[ "$(uname -m)" = x86_64 ] || { echo "the check loop knows execveat's number on x86_64 only" >&2; exit 1; }
# count_checks FILE COMMAND...: the kernel checks COMMAND makes, into FILE.
count_checks() {
    local out=$1
    shift
    strace -f -qq -y -e trace=execveat -o "$out.trace" "$@" >/dev/null
    kernel_checks "$out.trace" >"$out"
}
# kernel_checks TRACE: the checks of files in an strace -y trace: not the
# library's probe (descriptor -1) nor its proof of the flag on a memfd
# (once per process).
kernel_checks() {
    awk '/AT_EXECVE_CHECK|0x10000/ && !/execveat\(-1,|memfd:/ { n++ } END { print n + 0 }' "$1"
}
count_checks "$work/checks-run-f" "${clean_env[@]}" "$mayexec" run -f -- "$mx" "$app/main.py"

cd "$app"
hyperfine -N --warmup 5 --runs "$runs" --export-markdown "$work/results.md" --export-json "$work/results.json" \
    -n 'python3 -c pass' "${clean_env[*]} $py -c pass" \
    -n 'mayexec-python -c pass' "${clean_env[*]} $mx -c pass" \
    -n 'mayexec run -f -- python3 -c pass' "${clean_env[*]} $mayexec run -f -- $py -c pass" \
    -n 'mayexec run -f -- mayexec-python -c pass' "${clean_env[*]} $mayexec run -f -- $mx -c pass" \
    -n "python3 main.py ($modules modules)" "${clean_env[*]} $py main.py" \
    -n "mayexec-python main.py" "${clean_env[*]} $mx main.py" \
    -n "mayexec run -f -- python3 main.py" "${clean_env[*]} $mayexec run -f -- $py main.py" \
    -n "mayexec run -f -- mayexec-python main.py" "${clean_env[*]} $mayexec run -f -- $mx main.py" \
    -n "mayexec run -f -- no check" "$mayexec run -f -- /usr/bin/perl $check_loop 0 $check_file" \
    -n "mayexec run -f -- $checks checks" "$mayexec run -f -- /usr/bin/perl $check_loop $checks $check_file" \
    >&2

# /etc/mayexec.conf with level 2 (the emulated check), then with level 3
# (the kernel's check, as under `mayexec run -f`, but with no no_new_privs:
# a cached module's source may get the emulated rules, docs/semantics.md),
# each in a mount namespace of the bench's own.
# policy_etc DIR LEVEL: the lines of a `sh -ec` script, run in a mount
# namespace of its own, that put over /etc one with `interpreted_access =
# LEVEL` (an overlay; DIR, a scratch directory, holds its upper layer).
policy_etc() {
    mkdir -p "$1"
    cat <<EOF
mount -t tmpfs -o mode=0755 tmpfs '$1'
mkdir '$1/upper' '$1/work'
echo 'interpreted_access = $2' > '$1/upper/mayexec.conf'
chmod 0644 '$1/upper/mayexec.conf'
mount -t overlay overlay -o 'lowerdir=/etc,upperdir=$1/upper,workdir=$1/work' /etc
EOF
}
for level in 2 3; do
unshare --mount --propagation private -- sh -ec "
    $(policy_etc "$work/policy$level" "$level")
    strace -f -qq -y -e trace=execveat -o '$work/checks-level$level.trace' ${clean_env[*]} $mx main.py >/dev/null
    exec hyperfine -N --warmup 5 --runs '$runs' --export-markdown '$work/level$level.md' --export-json '$work/level$level.json' \
        -n 'python3 -c pass (level $level policy)' '${clean_env[*]} $py -c pass' \
        -n 'mayexec-python -c pass (level $level policy)' '${clean_env[*]} $mx -c pass' \
        -n 'python3 main.py (level $level policy)' '${clean_env[*]} $py main.py' \
        -n 'mayexec-python main.py (level $level policy)' '${clean_env[*]} $mx main.py' \
        -n 'no check (level $level policy)' '/usr/bin/perl $check_loop 0 $check_file' \
        -n '$checks checks (level $level policy)' '/usr/bin/perl $check_loop $checks $check_file'
" >&2
kernel_checks "$work/checks-level$level.trace" >"$work/checks-level$level"
done

# Content trust (docs/trust.md), issue #23's target: mayexec-python under
# level 1 + trust = "required" against level 1 alone, side by side, the
# runs alternated (bench/alternate.py; BENCH_TRUST_RUNS, default 200 each),
# wall and CPU time. Each policy lives in a mount namespace of its own, kept
# (unshare --mount=FILE) and entered by every run (nsenter), so every case
# pays the same entry; the trust database is in a
# private /var/lib (overlay), never the machine's. Trusted: every file of
# the scratch standard library (sources and caches), its lib-dynload and
# the program; a third namespace trusts the sources but not the caches
# (what an untrusted cache costs: the source is compiled instead).
trust_policy="$work/trust-policy"
mkdir -p "$trust_policy"
mounts="\"/\""
work_mount=$(findmnt -no TARGET -T "$work")
[ "$work_mount" = / ] || mounts="$mounts, \"$work_mount\""
unshare --mount --propagation private -- bash -ec '
    dir=$1 mounts=$2 mayexec=$3 mx=$4 home=$5 dynload=$6 app=$7 runs=$8 out=$9 env=${10} py=${11} here=${12}
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
    mount --make-private "$dir"
    # One namespace per case: /etc with its policy, /var/lib private.
    setup() {
        name=$1 conf=$2 caches=$3
        mkdir -p "$dir/$name/etc-upper" "$dir/$name/etc-work" "$dir/$name/lib-upper" "$dir/$name/lib-work"
        printf "%b" "$conf" > "$dir/$name/etc-upper/mayexec.conf"
        chmod 0644 "$dir/$name/etc-upper/mayexec.conf"
        touch "$dir/$name.ns"
        # (util-linux 2.38 sometimes binds the namespace before it exists:
        # EINVAL, nothing done; try again.)
        tries=0
        until unshare --mount="$dir/$name.ns" --propagation private true 2>/dev/null; do
            tries=$((tries + 1))
            [ $tries -lt 20 ] || { echo "cannot keep a mount namespace" >&2; exit 1; }
            sleep 0.1
        done
        nsenter --mount="$dir/$name.ns" sh -ec "
            mount -t overlay overlay -o lowerdir=/etc,upperdir=$dir/$name/etc-upper,workdir=$dir/$name/etc-work /etc
            mount -t overlay overlay -o lowerdir=/var/lib,upperdir=$dir/$name/lib-upper,workdir=$dir/$name/lib-work /var/lib
            if [ $caches != none ]; then
                find $home $dynload/ $app -type f \( -name \"*.py\" -o -name \"*.so\" \) -print0 |
                    xargs -0 $mayexec trust add >/dev/null
                [ $caches = untrusted ] ||
                    find $home $app -type f -name \"*.pyc\" -print0 | xargs -0 $mayexec trust add >/dev/null
            fi
        "
    }
    setup level1 "interpreted_access = 1\n" none
    setup trust "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [$mounts]\n" trusted
    setup trust-nocache "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [$mounts]\n" untrusted
    # (Entering a mount namespace moves to its root: the program by its path.)
    in_ns() { printf "nsenter --mount=%s %s %s %s/main.py" "$dir/$1.ns" "$env" "$mx" "$app"; }
    # Every case must run the program (a refusal would be fast).
    for ns in level1 trust trust-nocache; do
        nsenter --mount="$dir/$ns.ns" $env "$mx" "$app/main.py" >/dev/null
    done
    # Alternated run by run (a few per cent is the question: see alternate.py).
    exec "$py" "$here/alternate.py" --runs "$runs" --out "$out" \
        "mayexec-python main.py (level 1)=$(in_ns level1)" \
        "mayexec-python main.py (level 1 + trust)=$(in_ns trust)" \
        "mayexec-python main.py (level 1 + trust, caches untrusted)=$(in_ns trust-nocache)"
' bash "$trust_policy" "$mounts" "$mayexec" "$mx" "$work/home" "$stdlib/lib-dynload" "$app" "$trust_runs" "$work/trust" "${clean_env[*]}" "$py" "$here" >&2

# This build against BENCH_BASELINE, alternated (see the top): without
# enforcement and under `mayexec run -f` here, under a level-3 policy in a
# mount namespace of its own.
baseline_json=
if [ -n "$baseline" ]; then
    "${clean_env[@]}" "$baseline" main.py >/dev/null
    "$py" "$here/alternate.py" --runs "$baseline_runs" --out "$work/baseline" \
        "baseline -c pass=${clean_env[*]} $baseline -c pass" \
        "this -c pass=${clean_env[*]} $mx -c pass" \
        "baseline main.py=${clean_env[*]} $baseline main.py" \
        "this main.py=${clean_env[*]} $mx main.py" \
        "baseline main.py (run -f)=${clean_env[*]} $mayexec run -f -- $baseline main.py" \
        "this main.py (run -f)=${clean_env[*]} $mayexec run -f -- $mx main.py" >&2
    unshare --mount --propagation private -- sh -ec "
        $(policy_etc "$work/policy-baseline" 3)
        exec '$py' '$here/alternate.py' --runs '$baseline_runs' --out '$work/baseline-level3' \
            'baseline main.py (level 3 policy)=${clean_env[*]} $baseline main.py' \
            'this main.py (level 3 policy)=${clean_env[*]} $mx main.py'
    " >&2
    baseline_json="$work/baseline.json $work/baseline-level3.json"
fi

# mayexec-python against python3 in the same conditions: ratios of medians
# and of minimums (they resist the noise of a shared machine better than
# the mean does).
summary=$("$py" - "$checks" "$(cat "$work/checks-run-f")" "$(cat "$work/checks-level3")" \
    "$work/results.json" "$work/level2.json" "$work/level3.json" "$work/trust.json" $baseline_json <<'PYEOF'
import json, sys
checks, checks_run_f, checks_level3 = (int(a) for a in sys.argv[1:4])
results = {}
for path in sys.argv[4:]:
    for r in json.load(open(path))["results"]:
        if "summary" in r:
            # hyperfine 1.20 (Debian sid): the name apart, times in a summary.
            wall = r["summary"]["time_wall_clock"]
            r = {"command": r["name"], "median": wall["median"], "min": wall["min"]}
        results[r["command"]] = r
heavy = next(c for c in results if c.startswith("python3 main.py (") and "policy" not in c)
pairs = [
    ("start-up, no enforcement", "python3 -c pass", "mayexec-python -c pass"),
    ("start-up, mayexec run -f (kernel check)", "mayexec run -f -- python3 -c pass", "mayexec run -f -- mayexec-python -c pass"),
    ("start-up, level 2 policy (emulated check)", "python3 -c pass (level 2 policy)", "mayexec-python -c pass (level 2 policy)"),
    ("import-heavy, no enforcement", heavy, "mayexec-python main.py"),
    ("import-heavy, mayexec run -f (kernel check)", "mayexec run -f -- python3 main.py", "mayexec run -f -- mayexec-python main.py"),
    ("import-heavy, level 2 policy (emulated check)", "python3 main.py (level 2 policy)", "mayexec-python main.py (level 2 policy)"),
    ("start-up, level 3 policy (kernel check)", "python3 -c pass (level 3 policy)", "mayexec-python -c pass (level 3 policy)"),
    ("import-heavy, level 3 policy (kernel check)", "python3 main.py (level 3 policy)", "mayexec-python main.py (level 3 policy)"),
]
print("| case | python3 median [ms] | mayexec-python median [ms] | ratio of medians | ratio of minimums |")
print("|:---|---:|---:|---:|---:|")
for label, base, ours in pairs:
    b, o = results[base], results[ours]
    print(f"| {label} | {b['median']*1e3:.1f} | {o['median']*1e3:.1f} | {o['median']/b['median']:.3f} | {o['min']/b['min']:.3f} |")
print()
print("The floor: python3's median plus one kernel check per file the program's run checks (counted with strace),")
print("the check's cost measured in the same runs (a loop of checks less a loop of none).")
print()
print("| import-heavy | kernel checks per run | one check [µs] | python3 median [ms] | floor [ms] | floor ratio | measured ratio | over the floor [ms] |")
print("|:---|---:|---:|---:|---:|---:|---:|---:|")
for label, n, base, ours, none, many in (
    ("mayexec run -f", checks_run_f, "mayexec run -f -- python3 main.py", "mayexec run -f -- mayexec-python main.py",
     "mayexec run -f -- no check", f"mayexec run -f -- {checks} checks"),
    ("level 3 policy", checks_level3, "python3 main.py (level 3 policy)", "mayexec-python main.py (level 3 policy)",
     "no check (level 3 policy)", f"{checks} checks (level 3 policy)"),
):
    one = (results[many]["median"] - results[none]["median"]) / checks
    b, o = results[base]["median"], results[ours]["median"]
    floor = b + n * one
    print(f"| {label} | {n} | {one*1e6:.1f} | {b*1e3:.1f} | {floor*1e3:.1f} | {floor/b:.3f} | {o/b:.3f} | {(o-floor)*1e3:.1f} |")
print()
print("| content trust, mayexec-python main.py (alternated) | wall median [ms] | wall min [ms] | ratio of medians | ratio of minimums | CPU-time ratio of medians | CPU-time ratio of minimums |")
print("|:---|---:|---:|---:|---:|---:|---:|")
base = results["mayexec-python main.py (level 1)"]
for case in ("level 1", "level 1 + trust", "level 1 + trust, caches untrusted"):
    r = results[f"mayexec-python main.py ({case})"]
    print(f"| {case} | {r['median']*1e3:.1f} | {r['min']*1e3:.1f} | {r['median']/base['median']:.3f} | {r['min']/base['min']:.3f} "
          f"| {r['cpu_median']/base['cpu_median']:.3f} | {r['cpu_min']/base['cpu_min']:.3f} |")
if "baseline main.py" in results:
    print()
    print("| this build against BENCH_BASELINE (alternated) | baseline wall median [ms] | this wall median [ms] | ratio of medians | ratio of minimums | CPU-time ratio of medians | CPU-time ratio of minimums |")
    print("|:---|---:|---:|---:|---:|---:|---:|")
    for label, case in (
        ("start-up, no enforcement", "-c pass"),
        ("import-heavy, no enforcement", "main.py"),
        ("import-heavy, mayexec run -f", "main.py (run -f)"),
        ("import-heavy, level 3 policy", "main.py (level 3 policy)"),
    ):
        b, o = results[f"baseline {case}"], results[f"this {case}"]
        print(f"| {label} | {b['median']*1e3:.1f} | {o['median']*1e3:.1f} | {o['median']/b['median']:.3f} | {o['min']/b['min']:.3f} "
              f"| {o['cpu_median']/b['cpu_median']:.3f} | {o['cpu_min']/b['cpu_min']:.3f} |")
PYEOF
)

{
    echo "Machine: $(nproc) cores, Linux $(uname -r), $("$py" -V), hyperfine $(hyperfine --version | cut -d' ' -f2), $runs runs each after 5 warm-ups; $modules modules in the import-heavy program (plus the standard library's)."
    echo
    echo "$summary"
    echo
    cat "$work/results.md"
    echo
    cat "$work/level2.md"
    echo
    cat "$work/level3.md"
    echo
    cat "$work/trust.md"
    echo
    if [ -n "$baseline" ]; then
        cat "$work/baseline.md"
        echo
        cat "$work/baseline-level3.md"
        echo
    fi
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee ${out:+"$out"}
