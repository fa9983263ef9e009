#!/bin/sh
# OpenJDK's own launcher tests (test/jdk/tools/launcher of Debian's
# openjdk-17 source, the tests of `java`'s options, argument files,
# JDK_JAVA_OPTIONS, -jar, source mode, modules, messages and exit
# statuses) run with Debian's jtreg through both private homes of
# build.sh, the stock relink and the enlightened one, without a policy:
# every test must pass, fail or be left out alike.
#
#   integrations/java/suite.sh
#
# jtreg runs them as OpenJDK's `make test TEST=jdk_launcher` would: the
# automatic tests, the problem list excluded, in agent JVMs that compile and
# start the tests (jtreg's agentvm mode, make test's default for test/jdk:
# 40 % faster here than a JVM per action), two at a time, with the
# native test program they need (exeJliLaunchTest.c, a launcher of its own
# linked to the home's libjli.so) built as OpenJDK's test makefiles build
# it. Records, under target/java-build/:
#   suite-NAME.txt   "pass TEST" or "FAIL TEST" (jtreg's Passed, or Failed
#                    and Error) per test run; a test whose requirements the
#                    machine does not meet (@requires) is not listed
#   suite-NAME.log   jtreg's output
#   suite-NAME.jtr/  jtreg's work directory (each test's .jtr: its output)
# (NAME: stock, mayexec). Exits 1 when a test's verdict differs and running
# it again in both homes, twice, does not make them agree, unless the test
# is in the allow-list below.
#
# The stock home's results are cached (scripts/lib/suite-cache.sh);
# SUITE_STOCK_CACHE=0 runs them even when they are cached.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${MAYEXEC_BUILDS:-$root/target}/java-build
name="java suite"
jdk=/usr/lib/jvm/java-17-openjdk-amd64

# Tests whose verdicts may differ between the homes, and why. Keep it
# short: a test goes here only when it cannot be made to agree; each is
# still reported.
# TEST	REASON
allowed='
'

. "$root/scripts/lib/build-common.sh"

sh "$here/build.sh"
# jtreg 7 (OpenJDK 17's test/jdk/TEST.ROOT asks for it), run by Debian's
# JDK; gcc for the native test program.
build_tools jtreg7 gcc libc6-dev
tests=$work/suite-src
[ -f "$tests/.complete" ] || die "$tests is not there: integrations/java/build.sh fetches it"
# jtreg reads test/jdk/TEST.groups, which names directories of the whole
# test tree: only the launcher's are here, and no group is used.
[ -f "$tests/test/jdk/TEST.groups" ] ||
	printf '# The launcher tests alone (integrations/java/suite.sh): no groups.\n' \
		>"$tests/test/jdk/TEST.groups"

# The native test program, as make/test/JtregNativeJdk.gmk builds it
# (libjli's headers, -ljli); each home's libjli.so is the one it runs
# with (the test sets LD_LIBRARY_PATH to the home's lib).
native=$work/suite-native
jli=$work/jli-src/src
mkdir -p "$native"
gcc -O2 -o "$native/JliLaunchTest" "$tests/test/jdk/tools/launcher/exeJliLaunchTest.c" \
	-I"$jli/java.base/share/native/libjli" -I"$jli/java.base/unix/native/libjli" \
	-I"$jli/java.base/share/native/include" -I"$jli/java.base/unix/native/include" \
	-I"$jli/hotspot/share/include" -I"$jli/hotspot/os/posix/include" \
	-I"$jdk/include" -I"$jdk/include/linux" \
	-L"$root/target/java-stock/lib" -ljli ||
	die "could not build the native test program JliLaunchTest"

# run_suite NAME OUT [TEST...]: jtreg with NAME's home on TESTs (as jtreg
# names them, "tools/launcher/X.java", or "X.java#id" of a file with
# several) or on every launcher test; writes OUT.txt, OUT.log, OUT.jtr/.
run_suite() {
	home=$root/target/java-$1
	out=$2
	shift 2
	[ -x "$home/bin/java" ] || die "$home/bin/java is not built"
	if [ $# = 0 ]; then
		set -- "$tests/test/jdk/tools/launcher"
	else
		_files=
		for _t in "$@"; do
			_files="$_files $tests/test/jdk/${_t%%#*}"
		done
		# shellcheck disable=SC2086 # one word per test file
		set -- $(printf '%s\n' $_files | LC_ALL=C sort -u)
	fi
	rm -rf "$out.jtr" "$out.report"
	# Without a policy: no securebits from a caller, no /etc/mayexec.conf
	# is needed; whatever the machine has applies to both homes alike.
	# jtreg exits 1 when a test fails: the lists say which.
	env -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS -u JDK_JAVA_OPTIONS -u CLASSPATH JT_JAVA="$jdk" \
		jtreg -jdk:"$home" -nativepath:"$native" -agentvm -automatic -ignore:quiet -concurrency:2 \
		-timeoutFactor:4 -exclude:"$tests/test/jdk/ProblemList.txt" -verbose:summary \
		-workDir:"$out.jtr" -reportDir:"$out.report" "$@" </dev/null >"$out.log" 2>&1 || :
	# summary.txt: "TEST   Passed. …", "TEST   Failed. …", "TEST   Error. …".
	awk '$2 == "Passed." { print "pass", $1; next }
	     $2 == "Failed." || $2 == "Error." { print "FAIL", $1 }' \
		"$out.report/text/summary.txt" 2>/dev/null | LC_ALL=C sort -k2 >"$out.txt"
	rm -rf "$out.report"
}

# --- The stock results ------------------------------------------------------
#
# Cached, keyed by the stock home's own files (the launchers, the image,
# libjli, the JVM and its archives), the Debian JDK whose files it links
# to, the tests, jtreg, the native program and this script. Only a run
# in which every test file has a verdict is stored.
. "$root/scripts/lib/suite-cache.sh"
suite_cache_open java-suite "$root" "$(
	echo "java launcher suite stock results"
	(cd "$root/target/java-stock" && find . -type f ! -name .stamp | LC_ALL=C sort | xargs sha256sum)
	dpkg-query -W -f='${Version}\n' openjdk-17-jdk-headless jtreg7
	cat "$tests/.complete"
	sha256sum <"$native/JliLaunchTest"
	sha256sum <"$here/suite.sh"
)"
started=$(date +%s)
if suite_cache_fetch "$work/suite-stock" .txt .log; then
	say "the stock home's results from $suite_cache_entry"
	rm -rf "$work/suite-stock.jtr"
else
	say "running the launcher's tests with the stock home"
	run_suite stock "$work/suite-stock"
	if [ "$(grep -c '' "$work/suite-stock.txt" || true)" -gt 50 ] &&
		grep -q '^Test results: ' "$work/suite-stock.log"; then
		suite_cache_store "$work/suite-stock" .txt .log || :
	else
		say "the stock run is incomplete: not cached"
	fi
fi
say "running the launcher's tests with the enlightened home"
run_suite mayexec "$work/suite-mayexec"

stock=$work/suite-stock.txt
ours=$work/suite-mayexec.txt
pass=$(grep -c '^pass' "$ours" || true)
fail=$(grep -c '^FAIL' "$ours" || true)
say "$pass tests passed, $fail failed (with the stock home: $(grep '^FAIL' "$stock" | cut -d' ' -f2 | tr '\n' ' '))"
grep -h '^Test results:' "$work/suite-stock.log" "$work/suite-mayexec.log" | sed 's/^/java suite: /' >&2 || :
[ "$pass" -gt 50 ] || {
	say "only $pass tests passed: the suite did not run; the end of its log:"
	tail -n 30 "$ours" "$work/suite-mayexec.log" >&2
	exit 1
}

# --- The comparison ---------------------------------------------------------
#
# differing A B: the tests whose verdicts (A.txt, B.txt) differ (a test
# missing from one differs).
differing() {
	LC_ALL=C join -a1 -a2 -1 2 -2 2 -e - -o 0,1.1,2.1 "$1.txt" "$2.txt" |
		awk '$2 != $3 { print $1 }'
}
# A test in the allow-list is reported and left; the others run again in
# both homes, up to twice: one whose verdicts then agree was noise (a
# timeout on a loaded machine), one that differs every time is a change of
# the enlightened home.
status=0
differ=$(differing "$work/suite-stock" "$work/suite-mayexec")
same="the same tests in each"
for test in $differ; do
	why=$(printf '%s\n' "$allowed" | awk -F'\t' -v t="$test" '$1 == t { print $2 }')
	[ -n "$why" ] || continue
	say "$test: results differ (allowed: $why)"
	same="the same tests in each but the allowed $test"
done
again=$(for test in $differ; do
	printf '%s\n' "$allowed" | cut -f1 | grep -qxF -- "$test" || echo "$test"
done)
run=1
while [ -n "$again" ] && [ "$run" -le 2 ]; do
	say "results differ for $(echo $again); running them again in both homes"
	# shellcheck disable=SC2086 # one word per test
	run_suite stock "$work/suite-stock.again" $again
	# shellcheck disable=SC2086
	run_suite mayexec "$work/suite-mayexec.again" $again
	still=$(differing "$work/suite-stock.again" "$work/suite-mayexec.again" |
		while read -r test; do echo "$again" | grep -qxF -- "$test" && echo "$test"; done)
	for test in $again; do
		echo "$still" | grep -qxF -- "$test" ||
			say "$test: results differed, then agreed on run $((run + 1)) (noise)"
	done
	again=$still
	run=$((run + 1))
done
for test in $again; do
	say "$test: the homes give other results (stock, then enlightened):"
	for variant in stock mayexec; do
		awk -v t="$test" '$2 == t { print "    " $1 }' "$work/suite-$variant.again.txt" >&2
	done
	# What the enlightened home's run of it said (its .jtr's end).
	jtr=$work/suite-mayexec.again.jtr/$(echo "$test" | sed 's/\.java#/_/; s/\.[a-z]*$//').jtr
	[ -f "$jtr" ] && tail -n 40 "$jtr" >&2
	status=1
done

say "$(($(date +%s) - started)) s"
[ "$status" = 0 ] || exit 1
echo "java suite: identical results with the stock home ($pass tests pass, $fail fail in both; $same)"
