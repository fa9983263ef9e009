#!/bin/sh
# Work that runs beside the rest (sourced, POSIX sh): a download beside a
# compile, on a machine with few cores. Its output does not mix with the
# foreground's: it goes to a log of its own and is shown as one block
# afterwards, with its exact exit status.
#
#   bg_start NAME COMMAND...   starts COMMAND (a command or a function) in
#                              the background; NAME: letters, digits, _
#   bg_wait NAME               waits for it (in the shell that started it:
#                              not in a pipeline or a subshell) and keeps
#                              its status and how long it took
#   bg_report NAME             prints its output (each line "NAME| …") and
#                              how it ended, and returns its status (may
#                              run in a pipeline)

bg_start() {
	_name=$1
	shift
	_log=$(mktemp "${TMPDIR:-/tmp}/bg-$_name.XXXXXX")
	"$@" </dev/null >"$_log" 2>&1 &
	eval "bg_pid_$_name=\$! bg_log_$_name=\$_log bg_started_$_name=\$(date +%s)"
}

bg_wait() {
	eval "_pid=\${bg_pid_$1:-} _started=\${bg_started_$1:-}"
	[ -n "$_pid" ] || {
		echo "bg_wait: no job $1" >&2
		return 2
	}
	_rc=0
	wait "$_pid" || _rc=$?
	eval "bg_pid_$1= bg_status_$1=\$_rc bg_took_$1=\$((\$(date +%s) - _started))"
}

bg_report() {
	eval "_log=\${bg_log_$1:-} _rc=\${bg_status_$1:-} _took=\${bg_took_$1:-}"
	[ -n "$_rc" ] || {
		echo "bg_report: job $1 was not waited for" >&2
		return 2
	}
	sed "s/^/$1| /" "$_log"
	rm -f "$_log"
	if [ "$_rc" = 0 ]; then
		echo "$1: done in $_took s"
	else
		echo "$1: failed (status $_rc) after $_took s"
	fi
	return "$_rc"
}
