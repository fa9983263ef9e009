#!/bin/sh
# What the enlightened BusyBox ash costs: the stock build of the same
# source (the baseline) and the enlightened build side by side, in the
# same run, on the same files.
#
#   integrations/busybox/bench.sh [ROUNDS] [REPEATS]
#
# Needs integrations/busybox/build.sh's two builds and the mayexec command
# (cargo build -p mayexec-cli). Each measurement is a loop of ROUNDS
# operations (default 2000); the loops of all measurements are interleaved
# and repeated REPEATS times (default 7) so that the machine's drift hits
# them alike; the median is printed, in microseconds per operation. Shell
# starts are driven by one loop in /bin/sh (the same for both builds); `.`
# is measured inside one shell. Results go in docs/performance.md.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-2000}
repeats=${2:-7}
driver=/bin/sh
stock=${MAYEXEC_BUSYBOX_STOCK:-$root/target/busybox-stock/bin/busybox}
ours=${MAYEXEC_BUSYBOX:-$root/target/busybox-mayexec/bin/busybox}
mayexec=${MAYEXEC:-$root/target/debug/mayexec}
# Runs a command with the kernel's AT_EXECVE_CHECK hidden (seccomp): the
# library then uses the emulated rules, a check of about 1.4 us.
emulated=${MAYEXEC_WITHOUT_CHECK:-$root/target/debug/without-execve-check}
for f in "$stock" "$ours"; do
	[ -x "$f" ] || { echo "bench: $f is not built: run integrations/busybox/build.sh" >&2; exit 1; }
done
[ -x "$mayexec" ] || { echo "bench: $mayexec is not built: cargo build -p mayexec-cli" >&2; exit 1; }
[ -x "$emulated" ] || { echo "bench: $emulated is not built: cargo build -p mayexec-testkit" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'x=1\n' >"$dir/script.sh"
printf 'y=2\n' >"$dir/lib.sh"
chmod 0755 "$dir" "$dir/script.sh" "$dir/lib.sh"

# The loops; every operation must succeed, or the timing is of something else.
spawn_loop='i=0; while [ $i -lt $n ]; do "$bb" sh "$@" || exit 1; i=$((i + 1)); done'
dot_loop='i=0; while [ $i -lt $n ]; do . "$lib"; i=$((i + 1)); done; [ "$y" = 2 ]'

labels='busybox sh -c true: stock
busybox sh -c true: enlightened, no policy
busybox sh script: stock
busybox sh script: enlightened, no policy
busybox sh script: enlightened, mayexec run -f
. file (in one shell): stock
. file (in one shell): enlightened, no policy
. file (in one shell): enlightened, mayexec run -f
. file (in one shell): stock, kernel check hidden
. file (in one shell): enlightened, emulated check'

# variant N: measurement N of $labels, as one command.
variant() {
	case $1 in
	1) "$driver" -c "n=$rounds bb=$stock; $spawn_loop" loop -c true ;;
	2) "$driver" -c "n=$rounds bb=$ours; $spawn_loop" loop -c true ;;
	3) "$driver" -c "n=$rounds bb=$stock; $spawn_loop" loop "$dir/script.sh" ;;
	4) "$driver" -c "n=$rounds bb=$ours; $spawn_loop" loop "$dir/script.sh" ;;
	5) "$mayexec" run -f -- "$driver" -c "n=$rounds bb=$ours; $spawn_loop" loop "$dir/script.sh" ;;
	6) "$stock" sh -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	7) "$ours" sh -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	8) "$mayexec" run -f -- "$ours" sh -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	9) "$emulated" "$stock" sh -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	10) "$emulated" "$ours" sh -c "n=$rounds lib=$dir/lib.sh; $dot_loop" ;;
	esac
}

. "$root/scripts/lib/bench-common.sh"
heading=""
bench_run
