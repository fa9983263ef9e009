#!/bin/sh
# BusyBox's own ash test suite (shell/ash_test of Debian's busybox source)
# through the stock and the enlightened build of that source, without a
# policy: both must give the same result for every test.
#
#   integrations/busybox/ash-test.sh [STOCK ENLIGHTENED]
#
# Defaults: target/busybox-stock/bin/busybox and
# target/busybox-mayexec/bin/busybox, built with the source by
# integrations/busybox/build.sh. Each build runs the suite in its own copy
# of shell/ash_test (the suite writes its outputs there), through its
# `ash` applet, with run-all as upstream ships it. Prints both results
# side by side where they differ; exits 1 then, 0 when they are the same.
#
# The suite's tests have no subtests: each runs a script and compares all
# its output with a .right file (run-all's diff -u). The output line is
# the smallest thing both builds share, and a passing test printed every
# line its .right expects; what can differ is how a failing test fails.
# So a test's result is "ok", or "fail" with the number of lines its
# diff adds or removes (all the lines of a run-* script's output) and
# that diff, with the suite's directory and the diff's dates masked: both
# must be the same in the two builds.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/busybox-build
stock=${1:-$root/target/busybox-stock/bin/busybox}
ours=${2:-$root/target/busybox-mayexec/bin/busybox}
suite=$work/debian-src/shell/ash_test
config=$work/stock/.config

for f in "$stock" "$ours"; do
	[ -x "$f" ] || { echo "ash-test: $f is not built: run integrations/busybox/build.sh" >&2; exit 1; }
done
[ -d "$suite" ] && [ -f "$config" ] ||
	{ echo "ash-test: no $suite or $config: run integrations/busybox/build.sh" >&2; exit 1; }

# Tests that race a background `kill $$ &` against the shell forking a
# subshell: whether the trap runs before or during the subshell depends on
# how fast the shell forks, so on a loaded machine the smaller stock binary
# loses the race more often than the enlightened one, in a row. Their
# results are printed, not compared.
racy='ash-misc/exitcode_trap2.tests ash-misc/exitcode_trap6.tests'

# Seconds one run of the suite may take (about 1 minute here).
limit=${ASH_TEST_LIMIT:-900}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%s: \n' $racy >"$dir/racy"

# suite NAME [MODULE...]: runs run-all (on MODULEs, or all) in $dir/NAME
# and adds its lines ("ash-x/y.tests: ok") to $dir/NAME.lines.
suite() {
	name=$1
	shift
	# Signals ignored on entry cannot be trapped (the ash-signals tests
	# trap SIGINT): they get their default back, as in a terminal. A
	# suite that hangs is ended: the results then differ or are missing.
	(cd "$dir/$name" && timeout -k 10 "$limit" env --default-signal=INT,QUIT sh ./run-all "$@" \
		</dev/null >"$dir/$name.out" 2>&1) || :
	grep -E '^ash-[^ ]*: (ok|fail)$' "$dir/$name.out" >>"$dir/$name.lines" || :
}

# results NAME: each test once, "ok" if any run of it passed, else "fail
# LINES SUM": its last failure's lines and the checksum of its diff,
# masked (kept in $dir/NAME.fails/).
results() {
	sort -u "$dir/$1.lines" | awk -F': ' '
		{ if (!($1 in r) || $2 == "ok") r[$1] = $2 }
		END { for (t in r) print t ": " r[t] }' | sort >"$dir/$1.all"
	rm -rf "$dir/$1.fails"
	mkdir "$dir/$1.fails"
	grep -v -F -f "$dir/racy" "$dir/$1.all" | while IFS= read -r line; do
		test=${line%: *}
		[ "${line##*: }" = fail ] || { echo "$line"; continue; }
		# run-all writes DIR/TEST's output or diff to DIR-TEST.fail.
		fail=$dir/$1/$(echo "$test" | sed 's|/|-|').fail
		masked=$dir/$1.fails/$(echo "$test" | sed 's|/|-|')
		[ -f "$fail" ] && sed -e "s|$dir/$1|SUITE|g" -e 's/^\(---\|+++\) \([^\t]*\)\t.*/\1 \2/' "$fail" >"$masked" || : >"$masked"
		case $test in
		*.tests) diff=1 ;; # diff -u of its output and .right
		*) diff=0 ;;       # a run-* script's output
		esac
		echo "$line $(awk -v diff=$diff '!diff || /^[-+]/ && !/^(---|\+\+\+) / { n++ }
			END { print n + 0 }' "$masked") $(cksum <"$masked" | cut -d' ' -f1)"
	done >"$dir/$1.results"
}

# run NAME BUSYBOX: a copy of the suite for BUSYBOX's ash, and one run.
run() {
	cp -a "$suite" "$dir/$1"
	ln -s "$2" "$dir/$1/ash"
	cp "$config" "$dir/$1/.config"
	: >"$dir/$1.lines"
	# run-all reports each test as "DIR/TEST: ok" or "DIR/TEST: fail";
	# its exit status only says whether some test failed.
	suite "$1"
	results "$1"
	[ -s "$dir/$1.results" ] || {
		echo "ash-test: the suite reported nothing with $2:" >&2
		tail -n 20 "$dir/$1.out" >&2
		exit 1
	}
}

run stock "$stock"
run enlightened "$ours"

# A few tests depend on timing (signals, sleeps) and fail now and then on
# a loaded machine: the modules of the tests whose results differ (or
# whose failures differ) run again in both builds, up to twice, and a
# test that passed once passes.
retry=1
while [ "$retry" -le 2 ] && ! cmp -s "$dir/stock.results" "$dir/enlightened.results"; do
	modules=$(diff "$dir/stock.results" "$dir/enlightened.results" |
		sed -n 's|^[<>] \(ash-[^/]*\)/.*|\1|p' | sort -u)
	echo "ash-test: results differ in $(echo $modules); running them again" >&2
	for name in stock enlightened; do
		# shellcheck disable=SC2086 # one word per module
		suite "$name" $modules
		results "$name"
	done
	retry=$((retry + 1))
done

count() {
	printf '%s ok, %s fail (%s lines of diff)' "$(grep -c ': ok$' "$1")" "$(grep -c ': fail ' "$1")" \
		"$(awk '$2 == "fail" { n += $3 } END { print n + 0 }' "$1")"
}
echo "ash test suite, stock:       $(count "$dir/stock.results") (not counting $(echo $racy | wc -w) racy tests)"
echo "ash test suite, enlightened: $(count "$dir/enlightened.results")"
for name in stock enlightened; do
	echo "racy tests, $name: $(grep -F -f "$dir/racy" "$dir/$name.all" | tr '\n' ' ')"
done
if ! cmp -s "$dir/stock.results" "$dir/enlightened.results"; then
	echo "ash-test: the results differ (stock, then enlightened):" >&2
	diff "$dir/stock.results" "$dir/enlightened.results" >&2 || :
	for f in "$dir"/enlightened.fails/*; do
		[ -f "$f" ] || continue
		echo "--- $(basename "$f") (the diff of its failures in the two builds, when it failed in both)" >&2
		if [ -f "$dir/stock.fails/${f##*/}" ]; then
			diff "$dir/stock.fails/${f##*/}" "$f" | head -n 20 >&2 || :
		else
			head -n 20 "$f" >&2
		fi
	done
	exit 1
fi
echo "ash-test: identical results, failures on the same lines; failing in both builds:"
sed -n 's/: fail \([0-9]*\) .*/ (\1 lines)/p' "$dir/stock.results" | sed 's/^/    /'

