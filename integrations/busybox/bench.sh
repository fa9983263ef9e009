#!/bin/sh
# What the enlightened BusyBox ash costs next to the stock build of the
# same source: starts of `busybox sh -c true` and of a script (driven by
# one loop in /bin/sh, the same for both builds), and `.` of a file inside
# one shell, also with the kernel's AT_EXECVE_CHECK hidden (seccomp: the
# library then uses the emulated rules, a check of about 1.4 us).
#
#   integrations/busybox/bench.sh [ROUNDS] [REPEATS]
#
# ROUNDS defaults to 2000. The builds, the options and the output:
# scripts/lib/bench.sh; the hiding tool is target/debug/without-execve-check
# (cargo build -p mayexec-testkit), or MAYEXEC_WITHOUT_CHECK=PATH.

set -eu

rounds=2000
. "$(dirname "$0")/../../scripts/lib/bench.sh"
emulated=${MAYEXEC_WITHOUT_CHECK:-$root/target/debug/without-execve-check}
bench_need "$emulated" "cargo build -p mayexec-testkit"

bench_file script.sh 'x=1'
bench_file lib.sh 'y=2'
spawn='i=0; while [ $i -lt $n ]; do "$bb" sh "$@" || exit 1; i=$((i + 1)); done'
dot='i=0; while [ $i -lt $n ]; do . "$lib"; i=$((i + 1)); done; [ "$y" = 2 ]'

bench_case 'busybox sh -c true: stock' /bin/sh -c "n=$rounds bb=$stock; $spawn" loop -c true
bench_case 'busybox sh -c true: enlightened, no policy' /bin/sh -c "n=$rounds bb=$ours; $spawn" loop -c true
bench_case 'busybox sh script: stock' /bin/sh -c "n=$rounds bb=$stock; $spawn" loop "$dir/script.sh"
bench_case 'busybox sh script: enlightened, no policy' /bin/sh -c "n=$rounds bb=$ours; $spawn" loop "$dir/script.sh"
bench_case 'busybox sh script: enlightened, mayexec run -f' \
	"$mayexec" run -f -- /bin/sh -c "n=$rounds bb=$ours; $spawn" loop "$dir/script.sh"
start=$count
bench_case 'busybox sh script: stock, mayexec run -f' \
	"$mayexec" run -f -- /bin/sh -c "n=$rounds bb=$stock; $spawn" loop "$dir/script.sh"
start_base=$count
bench_case '. file (in one shell): stock' "$stock" sh -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_case '. file (in one shell): enlightened, no policy' "$ours" sh -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_case '. file (in one shell): enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$ours" sh -c "n=$rounds lib=$dir/lib.sh; $dot"
load=$count
bench_case '. file (in one shell): stock, mayexec run -f' \
	"$mayexec" run -f -- "$stock" sh -c "n=$rounds lib=$dir/lib.sh; $dot"
load_base=$count
bench_case '. file (in one shell): stock, kernel check hidden' \
	"$emulated" "$stock" sh -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_case '. file (in one shell): enlightened, emulated check' \
	"$emulated" "$ours" sh -c "n=$rounds lib=$dir/lib.sh; $dot"
bench_check "$dir/lib.sh"
bench_floor 'busybox sh script, mayexec run -f' "$start" "$start_base" "$check_run_f"
bench_floor '. file, mayexec run -f' "$load" "$load_base" "$check_run_f"
bench_run
