#!/bin/sh
# What the enlightened perl costs: perl built from the same source without
# the patch (the baseline, target/perl-stock/bin/perl) and the enlightened
# perl side by side, in the same run, on the same files.
#
#   integrations/perl/bench.sh [ROUNDS] [REPEATS]
#
# Needs integrations/perl/build.sh's two builds and the mayexec command
# (cargo build -p mayexec-cli). Each measurement is a loop of ROUNDS
# operations (default 1000); the loops of all measurements are interleaved
# and repeated REPEATS times (default 7) so that the machine's drift hits
# them alike; the median is printed, in microseconds per operation. A start
# is timed from a loop in the stock perl (fork and exec with `system`);
# `require` of one file inside one perl. Results go in docs/performance.md.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-1000}
repeats=${2:-7}
stock=$root/target/perl-stock/bin/perl
ours=${MAYEXEC_PERL:-$root/target/perl-mayexec/bin/perl}
mayexec=${MAYEXEC:-$root/target/debug/mayexec}
[ -x "$stock" ] || { echo "bench: $stock is not built: run integrations/perl/build.sh" >&2; exit 1; }
[ -x "$ours" ] || { echo "bench: $ours is not built: run integrations/perl/build.sh" >&2; exit 1; }
[ -x "$mayexec" ] || { echo "bench: $mayexec is not built: cargo build -p mayexec-cli" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '$x = 1;\n' >"$dir/script.pl"
printf '$y = 2;\n1;\n' >"$dir/lib.pl"
chmod 0755 "$dir" "$dir/script.pl" "$dir/lib.pl"

# The loops (run by the stock perl); every operation must succeed, or the
# timing is of something else.
spawn_loop='my ($n, $perl, @args) = @ARGV; for (1 .. $n) { system($perl, @args) == 0 or exit 1 }'
require_loop='my ($n, $lib) = @ARGV; for (1 .. $n) { delete $INC{$lib}; require $lib } $y == 2 or exit 1'

labels='perl -e 1: stock build
perl -e 1: enlightened, no policy
perl -e 1: /usr/bin/perl (Debian)
perl script.pl: stock build
perl script.pl: enlightened, no policy
perl script.pl: enlightened, mayexec run -f
require FILE (in one perl): stock build
require FILE (in one perl): enlightened, no policy
require FILE (in one perl): enlightened, mayexec run -f'

# variant N: measurement N of $labels, as one command.
variant() {
	case $1 in
	1) "$stock" -e "$spawn_loop" "$rounds" "$stock" -e 1 ;;
	2) "$stock" -e "$spawn_loop" "$rounds" "$ours" -e 1 ;;
	3) "$stock" -e "$spawn_loop" "$rounds" /usr/bin/perl -e 1 ;;
	4) "$stock" -e "$spawn_loop" "$rounds" "$stock" "$dir/script.pl" ;;
	5) "$stock" -e "$spawn_loop" "$rounds" "$ours" "$dir/script.pl" ;;
	6) "$mayexec" run -f -- "$stock" -e "$spawn_loop" "$rounds" "$ours" "$dir/script.pl" ;;
	7) "$stock" -e "$require_loop" "$rounds" "$dir/lib.pl" ;;
	8) "$ours" -e "$require_loop" "$rounds" "$dir/lib.pl" ;;
	9) "$mayexec" run -f -- "$ours" -e "$require_loop" "$rounds" "$dir/lib.pl" ;;
	esac
}

. "$root/scripts/lib/bench-common.sh"
heading="baseline $stock; "
bench_run
