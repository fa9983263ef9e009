#!/bin/sh
# What the enlightened perl costs next to the stock build of the same
# source (and Debian's /usr/bin/perl): starts of `perl -e 1` and of a
# script (driven by a loop in the stock perl: fork and exec with `system`),
# and `require` of one file inside one perl.
#
#   integrations/perl/bench.sh [ROUNDS] [REPEATS]
#
# ROUNDS defaults to 1000. The builds, the options and the output:
# scripts/lib/bench.sh.

set -eu

rounds=1000
. "$(dirname "$0")/../../scripts/lib/bench.sh"

bench_file script.pl '$x = 1;'
bench_file lib.pl '$y = 2;
1;'
spawn='my ($n, $perl, @args) = @ARGV; for (1 .. $n) { system($perl, @args) == 0 or exit 1 }'
require='my ($n, $lib) = @ARGV; for (1 .. $n) { delete $INC{$lib}; require $lib } $y == 2 or exit 1'

bench_case 'perl -e 1: stock build' "$stock" -e "$spawn" "$rounds" "$stock" -e 1
bench_case 'perl -e 1: enlightened, no policy' "$stock" -e "$spawn" "$rounds" "$ours" -e 1
bench_case 'perl -e 1: /usr/bin/perl (Debian)' "$stock" -e "$spawn" "$rounds" /usr/bin/perl -e 1
bench_case 'perl script.pl: stock build' "$stock" -e "$spawn" "$rounds" "$stock" "$dir/script.pl"
bench_case 'perl script.pl: enlightened, no policy' "$stock" -e "$spawn" "$rounds" "$ours" "$dir/script.pl"
bench_case 'perl script.pl: enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$stock" -e "$spawn" "$rounds" "$ours" "$dir/script.pl"
start=$count
bench_case 'perl script.pl: stock build, mayexec run -f' \
	"$mayexec" run -f -- "$stock" -e "$spawn" "$rounds" "$stock" "$dir/script.pl"
start_base=$count
bench_case 'require FILE (in one perl): stock build' "$stock" -e "$require" "$rounds" "$dir/lib.pl"
bench_case 'require FILE (in one perl): enlightened, no policy' "$ours" -e "$require" "$rounds" "$dir/lib.pl"
bench_case 'require FILE (in one perl): enlightened, mayexec run -f' \
	"$mayexec" run -f -- "$ours" -e "$require" "$rounds" "$dir/lib.pl"
load=$count
bench_case 'require FILE (in one perl): stock build, mayexec run -f' \
	"$mayexec" run -f -- "$stock" -e "$require" "$rounds" "$dir/lib.pl"
load_base=$count
bench_check "$dir/lib.pl"
bench_floor 'perl script.pl, mayexec run -f' "$start" "$start_base" "$check_run_f"
bench_floor 'require FILE, mayexec run -f' "$load" "$load_base" "$check_run_f"
bench_run
