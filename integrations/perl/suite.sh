#!/bin/sh
# perl's own tests (the core tests of Debian's source, as `make test` runs
# them: t/base, t/comp, t/run, t/cmd, t/io, t/re, t/opbasic, t/op, t/uni,
# t/mro, t/lib, and every lib/**/*.t) through perl built from the
# same source stock and enlightened (build.sh's two trees), without a
# policy: every test file must pass or fail alike in both, and run as
# many subtests, skip as many and mark as many TODO in both.
#
#   integrations/perl/suite.sh
#
# Runs perl's own t/harness in each build tree (TEST_JOBS=2, as `make
# test_harness` would), with the harness's copy of each file's TAP
# (PERL_TEST_HARNESS_DUMP_TAP), and records per test file, under
# target/perl-build/:
#   suite-NAME.txt     "pass FILE", "skip FILE" or "FAIL FILE"
#   suite-NAME.counts  "FILE TESTS SKIPPED TODO FAILED": the file's
#                      top-level `ok`/`not ok` lines, as TAP::Parser counts
#                      them (their sum is the harness's "Tests="), those
#                      with a `# SKIP` or `# TODO` directive, the other
#                      `not ok` ones
#   suite-NAME.txt.log the harness's output; suite-NAME.tap/ the TAP
# (NAME: stock, mayexec). Exits 1 when a file's verdict or counts differ
# and running that file again in both builds, twice, does not make them
# agree, unless the file is in the allow-list below.
#
# The stock build's results are cached: see "The stock results" below.
# SUITE_STOCK_CACHE=0 runs the stock suite even when they are cached.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${MAYEXEC_BUILDS:-$root/target}/perl-build

# Files whose counts may differ between the builds, and why. Keep it
# short: a file goes here only when its count cannot be made to agree
# (random cases with no seed to fix, the policy's doing); each is still
# reported. Tests with a seed get it fixed instead (see run_suite).
# FILE	REASON
allowed='
'

sh "$here/build.sh"

# run_suite NAME OUT [FILE...]: perl's harness in NAME's build tree, on
# FILEs (as the harness names them) or on the whole suite; writes
# OUT{.txt,.counts,.txt.log,.tap}.
run_suite() {
	tdir=$work/$1/build-static/t
	out=$2
	shift 2
	[ -x "$tdir/../perl" ] || { echo "suite: $tdir/../perl is not built" >&2; exit 1; }
	rm -rf "$out.tap"
	mkdir -p "$out.tap/t"
	if [ $# = 0 ]; then
		# As `make test_harness` does first: t/perl and the test files made.
		make -s -C "$tdir/.." test-prep >"$out.txt.log" 2>&1 ||
			{ echo "suite: make test-prep failed in $tdir/.. (see $out.txt.log)" >&2; exit 1; }
		set -- base/*.t comp/*.t run/*.t cmd/*.t io/*.t re/*.t opbasic/*.t op/*.t uni/*.t mro/*.t lib/*.t \
			$(cd "$tdir" && find ../lib -name '*.t' | LC_ALL=C sort)
	else
		: >"$out.txt.log"
	fi
	# Without a policy: no securebits from a caller, no /etc/mayexec.conf
	# is needed; whatever the machine has applies to both builds alike.
	# The harness exits 1 when a test fails: the lists say which.
	# lib/charnames.t checks a random sample of Unicode's names (their
	# number changes with the sample, by a few hundred) unless given a
	# seed: both builds check the same sample.
	(
		cd "$tdir" &&
			env -u PERL5OPT -u PERL5LIB -u PERLLIB -u PERL5DB HARNESS_NOTTY=1 TEST_JOBS=2 \
				PERL_BUILD_PACKAGING=1 LC_ALL=C PERL_TEST_HARNESS_DUMP_TAP="$out.tap/t" \
				PERL_TEST_CHARNAMES_SEED=20261207 \
				./perl harness "$@" </dev/null
	) >>"$out.txt.log" 2>&1 || true
	# The formatter's line per test file: "op/foo.t ...... ok", "skipped: …";
	# a failing one ends in dots, its verdict on the next line ("Failed
	# 1/10 subtests", "Dubious, test returned …").
	awk 'file != "" { verdict($0); next }
	     /^[^ ]+\.t \.\.+/ {
		file = $1; rest = $0
		sub(/^[^ ]+ \.+ ?/, "", rest)
		if (rest != "") verdict(rest)
	     }
	     function verdict(v) {
		print (v == "ok" ? "pass" : v ~ /^skipped/ ? "skip" : "FAIL"), file
		file = ""
	     }' "$out.txt.log" | LC_ALL=C sort -k2 >"$out.txt"
	# The TAP of "op/foo.t" is in .tap/t/op/foo.t, of "../lib/x.t" in
	# .tap/lib/x.t. A top-level test line is "ok" or "not ok" then a
	# word boundary (TAP::Parser's grammar); its directive is what
	# follows the first unescaped "#".
	(cd "$out.tap/t" && find . ../lib -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' '\0' |
		xargs -0 -r awk '
		BEGIN { for (i = 1; i < ARGC; i++) tests[ARGV[i]] = skipped[ARGV[i]] = todo[ARGV[i]] = failed[ARGV[i]] = 0 }
		/^(not )?ok($|[^A-Za-z0-9_])/ {
			tests[FILENAME]++
			directive = ""
			for (i = 1; i <= length($0); i++) {
				c = substr($0, i, 1)
				if (c == "\\") i++
				else if (c == "#") { directive = tolower(substr($0, i + 1)); break }
			}
			sub(/^[ \t]*/, "", directive)
			if (directive ~ /^skip($|[^a-z0-9_])/) skipped[FILENAME]++
			else if (directive ~ /^todo($|[^a-z0-9_])/) todo[FILENAME]++
			else if (/^not /) failed[FILENAME]++
		}
		END { for (i = 1; i < ARGC; i++) print ARGV[i], tests[ARGV[i]], skipped[ARGV[i]], todo[ARGV[i]], failed[ARGV[i]] }'
	) >"$out.counts"
}

# total FILE: the sum of a counts file's TESTS column.
total() {
	awk '{ n += $2 } END { print n + 0 }' "$1"
}

# --- The stock results ------------------------------------------------------
#
# Cached (scripts/lib/suite-cache.sh), keyed by the stock binary and its XS
# libraries, the Debian source version (the tests) and this script. Only a
# complete run is stored: every file has a verdict, and the TAP's counts
# add up to the harness's total.
. "$root/scripts/lib/suite-cache.sh"
suite_cache_open perl-suite "$root" "$(
	echo "perl suite stock results"
	sha256sum <"$work/stock/build-static/perl"
	(cd "$work/stock/build-static" && find lib -name '*.so' | LC_ALL=C sort | xargs -r sha256sum)
	cat "$work/debian-src/.complete"
	sha256sum <"$here/suite.sh"
)"
started=$(date +%s)
if suite_cache_fetch "$work/suite-stock" .txt .counts .txt.log; then
	echo "suite: the stock build's results from $suite_cache_entry" >&2
	rm -rf "$work/suite-stock.tap"
else
	echo "suite: running perl's tests with the stock build" >&2
	run_suite stock "$work/suite-stock"
	files=$(grep -c '' "$work/suite-stock.txt" || true)
	if [ "$files" -gt 550 ] &&
		grep -q "^Files=$files, Tests=$(total "$work/suite-stock.counts")," "$work/suite-stock.txt.log"; then
		suite_cache_store "$work/suite-stock" .txt .counts .txt.log || :
	else
		echo "suite: the stock run is incomplete ($files files, TAP and harness totals differ?): not cached" >&2
	fi
fi
echo "suite: running perl's tests with the mayexec build" >&2
run_suite mayexec "$work/suite-mayexec"

stock=$work/suite-stock.txt
ours=$work/suite-mayexec.txt
pass=$(grep -c '^pass' "$ours" || true)
skip=$(grep -c '^skip' "$ours" || true)
fail=$(grep -c '^FAIL' "$ours" || true)
echo "suite: $pass test files passed, $skip skipped, $fail failed (with stock perl: $(grep '^FAIL' "$stock" | cut -d' ' -f2 | tr '\n' ' '))" >&2
grep -h '^Files=' "$work/suite-stock.txt.log" "$work/suite-mayexec.txt.log" | sed 's/^/suite: /' >&2 || true
[ "$pass" -gt 550 ] || {
	echo "suite: only $pass test files passed: the suite did not run; the end of its log:" >&2
	tail -n 30 "$work/suite-mayexec.txt.log" >&2
	exit 1
}

# --- The comparison ---------------------------------------------------------
#
# differing A B: the test files whose verdicts (A.txt, B.txt) or counts
# (A.counts, B.counts) differ between two runs (a file missing from one
# differs).
differing() {
	{
		LC_ALL=C join -a1 -a2 -1 2 -2 2 -e - -o 0,1.1,2.1 "$1.txt" "$2.txt" |
			awk '$2 != $3 { print $1 }'
		LC_ALL=C join -a1 -a2 -e - -o 0,1.2,1.3,1.4,1.5,2.2,2.3,2.4,2.5 "$1.counts" "$2.counts" |
			awk '$2 != $6 || $3 != $7 || $4 != $8 || $5 != $9 { print $1 }'
	} | LC_ALL=C sort -u
}
# A file in the allow-list is reported and left; the others run again in
# both builds, up to twice: a file whose verdict and counts then agree was
# noise (a test whose number of cases depends on time or chance, or one
# that times out on a loaded machine), one that differs every time is a
# change of the enlightened build.
status=0
differ=$(differing "$work/suite-stock" "$work/suite-mayexec")
same="the same subtests in each"
for file in $differ; do
	why=$(printf '%s\n' "$allowed" | awk -F'\t' -v f="$file" '$1 == f { print $2 }')
	[ -n "$why" ] || continue
	echo "suite: $file: results differ (allowed: $why)" >&2
	same="the same subtests in each but the allowed $file"
done
again=$(for file in $differ; do
	printf '%s\n' "$allowed" | cut -f1 | grep -qxF -- "$file" || echo "$file"
done)
run=1
while [ -n "$again" ] && [ "$run" -le 2 ]; do
	echo "suite: results differ for $(echo $again); running them again in both builds" >&2
	# shellcheck disable=SC2086 # one word per file
	run_suite stock "$work/suite-stock.again" $again
	# shellcheck disable=SC2086
	run_suite mayexec "$work/suite-mayexec.again" $again
	still=$(differing "$work/suite-stock.again" "$work/suite-mayexec.again")
	for file in $again; do
		echo "$still" | grep -qxF -- "$file" ||
			echo "suite: $file: results differed, then agreed on run $((run + 1)) (noise)" >&2
	done
	again=$still
	run=$((run + 1))
done
for file in $again; do
	echo "suite: $file: the builds give other results (verdict, then FILE TESTS SKIPPED TODO FAILED; stock then mayexec):" >&2
	for name in stock mayexec; do
		awk -v f="$file" '$2 == f { print "    " $1 }' "$work/suite-$name.again.txt" >&2
		awk -v f="$file" '$1 == f { print "    " $0 }' "$work/suite-$name.again.counts" >&2
	done
	# The test lines that differ, numbers aside.
	tap=$file
	case $tap in ../*) tap=${tap#../} ;; *) tap=t/$tap ;; esac
	for name in stock mayexec; do
		sed -n 's/^\(not \)\{0,1\}ok [0-9]*/\1ok/p' "$work/suite-$name.again.tap/$tap" >"$work/suite-$name.again.lines" 2>/dev/null || :
	done
	diff "$work/suite-stock.again.lines" "$work/suite-mayexec.again.lines" | grep '^[<>]' | head -n 40 >&2 || :
	# And what the harness said of it.
	grep -A3 -F -- "$file" "$work/suite-mayexec.again.txt.log" | head -n 20 >&2 || :
	status=1
done

echo "suite: subtests: $(total "$work/suite-stock.counts") with stock perl, $(total "$work/suite-mayexec.counts") with the enlightened one" >&2
echo "suite: $(($(date +%s) - started)) s" >&2
[ "$status" = 0 ] || exit 1
echo "perl suite: identical results with stock perl ($pass test files pass, $skip skip, $fail fail in both; $same)"
