#!/bin/sh
# bash's tests/run-all, recording each test's result: run by suite.sh as
# `make tests TESTSCRIPT=…/run-suite.sh` (in the build's tests/ directory,
# with THIS_SH, BUILD_DIR and PATH as `make check` sets them). Writes
# "pass run-NAME" or "FAIL run-NAME" per test to $SUITE_RESULTS and each
# failing test's output to $SUITE_RESULTS.d/run-NAME. Runs the tests named
# in $SUITE_ONLY (run-NAME …), or all.

: ${TMPDIR:=/tmp}
export TMPDIR
: ${SUITE_RESULTS:?}

BASH_TSTOUT=${TMPDIR}/bashtst-$$
export BASH_TSTOUT
trap 'rm -f $BASH_TSTOUT' 0

# As run-all does.
PATH=.:$PATH
export PATH
[ "${BASH_ENV+set}" = "set" ] && unset BASH_ENV
[ "${SHELLOPTS+set}" = "set" ] && unset SHELLOPTS 2>/dev/null
: ${THIS_SH:=../bash}
export THIS_SH
: ${BUILD_DIR:=..}
export BUILD_DIR

: >"$SUITE_RESULTS"
rm -rf "$SUITE_RESULTS.d"
mkdir -p "$SUITE_RESULTS.d"
for x in ${SUITE_ONLY:-run-*}; do
	case $x in
	run-all | run-minimal | run-gprof | *.orig | *~) continue ;;
	esac
	# A test passes when it exits 0 and prints nothing but its notes
	# (run-all: "Any output from any test, unless otherwise noted,
	# indicates a possible anomaly"; the notes are the run-* scripts'
	# "warning: ..." lines). One that hangs is stopped after a minute.
	out=$SUITE_RESULTS.d/$x
	timeout -k 5 60 sh "$x" </dev/null >"$out" 2>&1
	status=$?
	rm -f "$BASH_TSTOUT"
	if [ "$status" = 0 ] && ! grep -qv '^warning:' "$out"; then
		echo "pass $x" >>"$SUITE_RESULTS"
		rm -f "$out"
	else
		echo "FAIL $x" >>"$SUITE_RESULTS"
	fi
done
exit 0
