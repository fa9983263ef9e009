#!/bin/sh
# Work that runs beside the rest (sourced, POSIX sh): a download beside a
# compile, on a machine with few cores. Its output does not mix with the
# foreground's: it goes to a log of its own and is shown as one block when
# it is waited for, with its exact exit status.
#
#   bg_start NAME COMMAND...   starts COMMAND (a command or a function) in
#                              the background; NAME: letters, digits, _
#   bg_wait NAME               waits for it, prints its output (each line
#                              "NAME| …") and how long it took, and returns
#                              its status
#   bg_stop                    ends the jobs not waited for (for a trap)

bg_jobs=

bg_start() {
	_name=$1
	shift
	_log=$(mktemp "${TMPDIR:-/tmp}/bg-$_name.XXXXXX")
	"$@" </dev/null >"$_log" 2>&1 &
	eval "bg_pid_$_name=\$! bg_log_$_name=\$_log bg_started_$_name=\$(date +%s)"
	bg_jobs="$bg_jobs $_name"
}

bg_wait() {
	eval "_pid=\${bg_pid_$1:-} _log=\${bg_log_$1:-} _started=\${bg_started_$1:-}"
	[ -n "$_pid" ] || {
		echo "bg_wait: no job $1" >&2
		return 2
	}
	_rc=0
	wait "$_pid" || _rc=$?
	sed "s/^/$1| /" "$_log"
	rm -f "$_log"
	if [ "$_rc" = 0 ]; then
		echo "$1: done in $(($(date +%s) - _started)) s"
	else
		echo "$1: failed (status $_rc) after $(($(date +%s) - _started)) s"
	fi
	eval "bg_pid_$1="
	return "$_rc"
}

bg_stop() {
	for _name in $bg_jobs; do
		eval "_pid=\${bg_pid_$_name:-} _log=\${bg_log_$_name:-}"
		[ -n "$_pid" ] || continue
		kill "$_pid" 2>/dev/null || :
		wait "$_pid" 2>/dev/null || :
		rm -f "$_log"
	done
}
