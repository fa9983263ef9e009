#!/bin/sh
# bash's own test suite (the tests/ of Debian's source, run as `make check`
# runs it) through stock bash built from the same source and through the
# enlightened bash, without a policy: the sets of passing and failing tests
# must be identical, and a test that fails must fail on the same lines.
#
#   integrations/bash/suite.sh
#
# Builds both with build.sh (cached). A test passes when it prints
# nothing but its "warning:" notes (run-all's rule).
# Results under target/bash-build/: suite-{stock,mayexec}.txt ("pass
# run-NAME" or "FAIL run-NAME"), the output of each failing test under
# suite-NAME.txt.d/, and suite-NAME.counts ("run-NAME LINES").
#
# bash's tests have no subtests: a test runs a script and compares all its
# output with a .right file of the source. A line of that output is the
# smallest thing both builds share, so a passing test printed every line
# its .right expects, in both builds. What can differ is how a failing
# test fails: LINES counts the lines of its output that are not notes
# (the diff against its .right, 0 for a passing test), and the outputs
# themselves are compared with each build's directory and process ids
# masked. A test whose verdict, count or output differs runs again in
# both builds, up to twice (timing); one that still differs fails the
# comparison, unless it is in the allow-list below. Exits 1 then.
#
# The stock build's results are cached: see "The stock results" below.
# SUITE_STOCK_CACHE=0 runs the stock suite even when they are cached.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${MAYEXEC_BUILDS:-$root/target}/bash-build

# Tests whose failure output may differ between the builds, and why (each
# is still reported). None today.
# TEST	REASON
allowed='
'

sh "$here/build.sh"

# run NAME RESULTS [TEST...]: bash's tests (TESTs, or all) with NAME's build,
# results in RESULTS and RESULTS.d/, counts in RESULTS's .counts.
run() {
	tree=$work/$1
	[ -x "$tree/bash" ] || { echo "suite: $tree/bash is not built" >&2; exit 1; }
	# Without a policy: no securebits from a caller, no /etc/mayexec.conf
	# is needed; whatever the machine has applies to both builds alike.
	SUITE_RESULTS=$2 SUITE_ONLY="$(shift 2 && echo "$@")" \
		make -s -C "$tree" tests TESTSCRIPT="$here/run-suite.sh" >/dev/null 2>&1 ||
		{ echo "suite: make tests failed for the $1 build" >&2; exit 1; }
	while read -r verdict test; do
		lines=0
		[ "$verdict" = pass ] || lines=$(grep -cv '^warning:' "$2.d/$test" || :)
		echo "$test $lines"
	done <"$2" >"${2%.txt}.counts"
}

# masked NAME RESULTS TEST: TEST's failure output with NAME's build
# directory and the process ids of bash's messages masked.
masked() {
	dir=$(printf '%s\n' "$work/$1" | sed 's/[].|*^$[\\]/\\&/g')
	[ -f "$2.d/$3" ] || return 0
	sed -e "s|$dir|BUILD_DIR|g" -e 's/process group ([0-9]*)/process group (PID)/g' "$2.d/$3"
}

# differing SUFFIX: the tests whose count or masked output differs between
# $work/suite-stock$SUFFIX.txt and $work/suite-mayexec$SUFFIX.txt.
differing() {
	for test in $(cut -d' ' -f2 "$work/suite-stock$1.txt"); do
		for name in stock mayexec; do
			grep "^$test " "$work/suite-$name$1.counts" >"$work/suite-$name.masked" || :
			masked "$name" "$work/suite-$name$1.txt" "$test" >>"$work/suite-$name.masked"
		done
		cmp -s "$work/suite-stock.masked" "$work/suite-mayexec.masked" || echo "$test"
	done
}

# The stock results: cached (scripts/lib/suite-cache.sh), keyed by the
# stock binary, the Debian source version (the tests), these scripts and
# the build directory (the failures' outputs name it). A run with fewer
# than 70 tests is not stored.
. "$root/scripts/lib/suite-cache.sh"
suite_cache_open bash-suite "$root" "$(
	echo "bash suite stock results"
	sha256sum <"$work/stock/bash"
	cat "$work/debian-src/.complete"
	cat "$here/suite.sh" "$here/run-suite.sh" | sha256sum
	echo "$work"
)"
started=$(date +%s)
if suite_cache_fetch "$work/suite-stock" .txt .counts .txt.d; then
	echo "suite: the stock build's results from $suite_cache_entry" >&2
else
	echo "suite: running bash's tests with the stock build" >&2
	run stock "$work/suite-stock.txt"
	if [ "$(grep -c '' "$work/suite-stock.txt")" -ge 70 ]; then
		suite_cache_store "$work/suite-stock" .txt .counts .txt.d || :
	else
		echo "suite: the stock run is incomplete: not cached" >&2
	fi
fi
echo "suite: running bash's tests with the mayexec build" >&2
run mayexec "$work/suite-mayexec.txt"

stock=$work/suite-stock.txt
ours=$work/suite-mayexec.txt
pass=$(grep -c '^pass' "$ours" || true)
fail=$(grep -c '^FAIL' "$ours" || true)
echo "suite: $pass passed, $fail failed (the same tests fail with stock bash: $(grep '^FAIL' "$stock" | cut -d' ' -f2 | tr '\n' ' '))" >&2
status=0
if ! diff -u "$stock" "$ours" >&2; then
	echo "suite: the enlightened bash passes or fails other tests than stock bash: those run again" >&2
fi
[ "$pass" -gt 0 ] || { echo "suite: no test passed: the suite did not run" >&2; exit 1; }

# A test that passes in one build and fails in the other has other counts:
# it runs again with those whose failures differ.
{
	again=
	for test in $(differing ""); do
		why=$(printf '%s\n' "$allowed" | awk -F'\t' -v t="$test" '$1 == t { print $2 }')
		if [ -n "$why" ]; then
			echo "suite: $test: fails otherwise (allowed: $why)" >&2
		else
			again="$again $test"
		fi
	done
	retry=1
	while [ -n "$again" ] && [ "$retry" -le 2 ]; do
		echo "suite: the failures of$again differ; running them again in both builds" >&2
		for name in stock mayexec; do
			# shellcheck disable=SC2086 # one word per test
			run "$name" "$work/suite-$name.again.txt" $again
		done
		still=$(differing .again | tr '\n' ' ')
		for test in $again; do
			case " $still " in
			*" $test "*) ;;
			*) echo "suite: $test: failed otherwise, then alike on run $((retry + 1)) (noise)" >&2 ;;
			esac
		done
		again=${still% }
		retry=$((retry + 1))
	done
	for test in $again; do
		echo "suite: $test fails otherwise in the two builds (stock, then mayexec; masked):" >&2
		masked stock "$work/suite-stock.again.txt" "$test" >"$work/suite-stock.masked"
		masked mayexec "$work/suite-mayexec.again.txt" "$test" >"$work/suite-mayexec.masked"
		diff "$work/suite-stock.masked" "$work/suite-mayexec.masked" | head -n 40 >&2 || :
		status=1
	done
	rm -f "$work/suite-stock.masked" "$work/suite-mayexec.masked"
}
echo "suite: lines of failure output: $(awk '{ n += $2 } END { print n + 0 }' "$work/suite-stock.counts") with stock bash, $(awk '{ n += $2 } END { print n + 0 }' "$work/suite-mayexec.counts") with the enlightened one" >&2
echo "suite: $(($(date +%s) - started)) s" >&2
[ "$status" = 0 ] || exit 1
echo "bash suite: identical results with stock bash ($pass tests pass, $fail fail in both, on the same lines)"
