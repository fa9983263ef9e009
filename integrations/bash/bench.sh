#!/bin/sh
# What the enlightened bash costs: stock bash (the baseline) and the
# enlightened bash side by side, in the same run, on the same files.
#
#   integrations/bash/bench.sh [ROUNDS] [REPEATS]
#
# Needs integrations/bash/build.sh's shell and the mayexec command
# (cargo build -p mayexec-cli). The baseline is /bin/bash, or
# target/bash-stock/bin/bash (the same source, unpatched: build.sh --stock)
# with STOCK=stock. Each measurement is a loop of ROUNDS operations
# (default 1000); the loops of all measurements are interleaved and
# repeated REPEATS times (default 7) so that the machine's drift hits them
# alike; the median is printed, in microseconds per operation. Results go
# in docs/performance.md.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-1000}
repeats=${2:-7}
case ${STOCK:-} in
stock) stock=$root/target/bash-stock/bin/bash ;;
*) stock=/bin/bash ;;
esac
ours=${MAYEXEC_BASH:-$root/target/bash-mayexec/bin/bash}
mayexec=${MAYEXEC:-$root/target/debug/mayexec}
[ -x "$stock" ] || { echo "bench: $stock is not built: run integrations/bash/build.sh --stock" >&2; exit 1; }
[ -x "$ours" ] || { echo "bench: $ours is not built: run integrations/bash/build.sh" >&2; exit 1; }
[ -x "$mayexec" ] || { echo "bench: $mayexec is not built: cargo build -p mayexec-cli" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'x=1\n' >"$dir/script.sh"
printf 'y=2\n' >"$dir/lib.sh"
chmod 0755 "$dir" "$dir/script.sh" "$dir/lib.sh"

# The loops (run by the stock bash); every operation must succeed, or the
# timing is of something else.
spawn_loop='for ((i = 0; i < n; i++)); do "$sh" "$@" || exit 1; done'
source_loop='for ((i = 0; i < n; i++)); do source "$lib"; done; [ "$y" = 2 ]'

labels='bash -c true: stock
bash -c true: enlightened, no policy
bash script: stock
bash script: enlightened, no policy
bash script: enlightened, mayexec run -f
source file (in one shell): stock
source file (in one shell): enlightened, no policy
source file (in one shell): enlightened, mayexec run -f'

# variant N: measurement N of $labels, as one command.
variant() {
	case $1 in
	1) "$stock" -c "n=$rounds sh=$stock; $spawn_loop" loop -c true ;;
	2) "$stock" -c "n=$rounds sh=$ours; $spawn_loop" loop -c true ;;
	3) "$stock" -c "n=$rounds sh=$stock; $spawn_loop" loop "$dir/script.sh" ;;
	4) "$stock" -c "n=$rounds sh=$ours; $spawn_loop" loop "$dir/script.sh" ;;
	5) "$mayexec" run -f -- "$stock" -c "n=$rounds sh=$ours; $spawn_loop" loop "$dir/script.sh" ;;
	6) "$stock" -c "n=$rounds lib=$dir/lib.sh; $source_loop" ;;
	7) "$ours" -c "n=$rounds lib=$dir/lib.sh; $source_loop" ;;
	8) "$mayexec" run -f -- "$ours" -c "n=$rounds lib=$dir/lib.sh; $source_loop" ;;
	esac
}

. "$root/scripts/lib/bench-common.sh"
heading="baseline $stock; "
bench_run
