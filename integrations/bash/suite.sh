#!/bin/sh
# bash's own test suite (the tests/ of Debian's source, run as `make check`
# runs it) through stock bash built from the same source and through the
# enlightened bash, without a policy: the sets of passing and failing tests
# must be identical.
#
#   integrations/bash/suite.sh
#
# Builds both with build.sh --stock (cached). A test passes when it prints
# nothing but its "warning:" notes (run-all's rule).
# Results: target/bash-build/suite-{stock,mayexec}.txt, and the output of
# each failing test under suite-NAME.txt.d/. Exits 1 when the sets differ.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/bash-build

sh "$here/build.sh" --stock

started=$(date +%s)
for name in stock mayexec; do
	tree=$work/$name
	results=$work/suite-$name.txt
	[ -x "$tree/bash" ] || { echo "suite: $tree/bash is not built" >&2; exit 1; }
	echo "suite: running bash's tests with the $name build" >&2
	# Without a policy: no securebits from a caller, no /etc/mayexec.conf
	# is needed; whatever the machine has applies to both builds alike.
	SUITE_RESULTS=$results make -s -C "$tree" tests TESTSCRIPT="$here/run-suite.sh" >/dev/null 2>&1 ||
		{ echo "suite: make tests failed for the $name build" >&2; exit 1; }
done

stock=$work/suite-stock.txt
ours=$work/suite-mayexec.txt
pass=$(grep -c '^pass' "$ours" || true)
fail=$(grep -c '^FAIL' "$ours" || true)
echo "suite: $pass passed, $fail failed (the same tests fail with stock bash: $(grep '^FAIL' "$stock" | cut -d' ' -f2 | tr '\n' ' '))" >&2
echo "suite: $(($(date +%s) - started)) s for both runs" >&2
if ! diff -u "$stock" "$ours" >&2; then
	echo "suite: the enlightened bash passes or fails other tests than stock bash" >&2
	exit 1
fi
[ "$pass" -gt 0 ] || { echo "suite: no test passed: the suite did not run" >&2; exit 1; }
echo "bash suite: identical results with stock bash ($pass tests pass, $fail fail in both)"
