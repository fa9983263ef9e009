#!/bin/sh
# perl's own tests (the core tests of Debian's source, as `make test` runs
# them: t/base, t/comp, t/run, t/cmd, t/io, t/re, t/opbasic, t/op, t/uni,
# t/mro, t/lib, and every lib/**/*.t) through perl built from the
# same source stock and enlightened (build.sh's two trees), without a
# policy: every test file must pass or fail alike in both.
#
#   integrations/perl/suite.sh
#
# Runs perl's own t/harness in each build tree (TEST_JOBS=2, as `make
# test_harness` would) and records one line per test file: "pass FILE" or
# "FAIL FILE". Results: target/perl-build/suite-{stock,mayexec}.txt, the
# harness's output next to them (.log). Exits 1 when the lists differ.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/perl-build

sh "$here/build.sh"

started=$(date +%s)
for name in stock mayexec; do
	tdir=$work/$name/build-static/t
	results=$work/suite-$name.txt
	log=$results.log
	[ -x "$tdir/../perl" ] || { echo "suite: $tdir/../perl is not built" >&2; exit 1; }
	echo "suite: running perl's tests with the $name build" >&2
	# As `make test_harness` does first: t/perl and the test files made.
	make -s -C "$tdir/.." test-prep >"$log" 2>&1 ||
		{ echo "suite: make test-prep failed for the $name build (see $log)" >&2; exit 1; }
	# Without a policy: no securebits from a caller, no /etc/mayexec.conf
	# is needed; whatever the machine has applies to both builds alike.
	# The harness exits 1 when a test fails: the lists say which.
	(
		cd "$tdir" &&
			env -u PERL5OPT -u PERL5LIB -u PERLLIB -u PERL5DB HARNESS_NOTTY=1 TEST_JOBS=2 \
				PERL_BUILD_PACKAGING=1 LC_ALL=C \
				./perl harness base/*.t comp/*.t run/*.t cmd/*.t io/*.t re/*.t opbasic/*.t op/*.t uni/*.t mro/*.t lib/*.t \
				$(cd "$tdir" && find ../lib -name '*.t' | sort) </dev/null
	) >>"$log" 2>&1 || true
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
	     }' "$log" | sort -k2 >"$results"
done

stock=$work/suite-stock.txt
ours=$work/suite-mayexec.txt
pass=$(grep -c '^pass' "$ours" || true)
skip=$(grep -c '^skip' "$ours" || true)
fail=$(grep -c '^FAIL' "$ours" || true)
echo "suite: $pass test files passed, $skip skipped, $fail failed (with stock perl: $(grep '^FAIL' "$stock" | cut -d' ' -f2 | tr '\n' ' '))" >&2
grep -h '^Files=' "$work/suite-stock.txt.log" "$work/suite-mayexec.txt.log" | sed 's/^/suite: /' >&2 || true
echo "suite: $(($(date +%s) - started)) s for both runs" >&2
if ! diff -u "$stock" "$ours" >&2; then
	echo "suite: the enlightened perl passes or fails other tests than stock perl" >&2
	exit 1
fi
[ "$pass" -gt 550 ] || { echo "suite: only $pass test files passed: the suite did not run" >&2; exit 1; }
echo "perl suite: identical results with stock perl ($pass test files pass, $skip skip, $fail fail in both)"
