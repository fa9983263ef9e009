#!/bin/sh
# The benches of the enlightened interpreters: what the enlightened build
# costs next to the stock build of the same source, in the same run, on the
# same files. Sourced by integrations/PACKAGE/bench.sh, which sets `rounds`
# (its default), then declares its measurements with bench_case (or
# bench_shell) and ends with bench_run:
#
#   integrations/PACKAGE/bench.sh [ROUNDS] [REPEATS]
#
# Each measurement is one command of ROUNDS operations; all of them run
# once (a failing one stops the bench), then interleaved, REPEATS times
# (default 7), so that the machine's drift hits them alike; each one's
# median is printed in microseconds per operation. Results go in
# docs/performance.md.
#
# The builds (integrations/PACKAGE/build.sh makes both):
#   stock     target/PACKAGE-stock/PROGRAM, or MAYEXEC_PACKAGE_STOCK=PATH
#   ours      target/PACKAGE-mayexec/PROGRAM, or MAYEXEC_PACKAGE=PATH
#   mayexec   target/debug/mayexec (cargo build -p mayexec-cli), or MAYEXEC=PATH
# (PACKAGE in capitals: MAYEXEC_DASH, MAYEXEC_BASH_STOCK.) `dir` is a
# scratch directory (mode 0755, removed at the end) for the bench's files.

root=$(cd "$(dirname "$0")/../.." && pwd)
package=$(basename "$(cd "$(dirname "$0")" && pwd)")
program=bin/$package
rounds=${1:-$rounds}
repeats=${2:-7}
case $rounds$repeats in
*[!0-9]*)
	echo "usage: $0 [ROUNDS] [REPEATS]" >&2
	exit 2
	;;
esac
_var=MAYEXEC_$(printf '%s' "$package" | tr '[:lower:]' '[:upper:]')
eval "stock=\${${_var}_STOCK:-\$root/target/\$package-stock/\$program}"
eval "ours=\${${_var}:-\$root/target/\$package-mayexec/\$program}"
mayexec=${MAYEXEC:-$root/target/debug/mayexec}

# bench_need PATH HOW: PATH must be built (HOW says how).
bench_need() {
	[ -x "$1" ] || {
		echo "bench: $1 is not built: $2" >&2
		exit 1
	}
}

bench_need "$stock" "run integrations/$package/build.sh"
bench_need "$ours" "run integrations/$package/build.sh"
bench_need "$mayexec" "cargo build -p mayexec-cli"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 0755 "$dir"

# bench_file NAME TEXT: $dir/NAME holds TEXT (and a newline), mode 0755.
bench_file() {
	printf '%s\n' "$2" >"$dir/$1"
	chmod 0755 "$dir/$1"
}

labels=
count=0

# bench_case LABEL COMMAND...: a measurement; COMMAND runs $rounds
# operations, each of which must succeed (or the timing is of something
# else).
bench_case() {
	count=$((count + 1))
	if [ "$count" = 1 ]; then
		labels=$1
	else
		labels="$labels
$1"
	fi
	shift
	_cmd=
	for _arg in "$@"; do
		_cmd="$_cmd '$(printf '%s' "$_arg" | sed "s/'/'\\\\''/g")'"
	done
	eval "bench_cmd_$count=\$_cmd"
}

# bench_floor LABEL OURS BASE CHECK: after the medians, LABEL: what
# measurement OURS costs per operation over the floor of a design that
# checks one file per operation, measurement BASE (the stock build in the
# same conditions) plus measurement CHECK (the kernel check alone). OURS,
# BASE and CHECK are measurement numbers (`$count` after each bench_case).
floors=
bench_floor() {
	floors="$floors$1|$2|$3|$4
"
}

# bench_check FILE: two measurements of the kernel check alone, in one
# perl (Debian's, scripts/lib/check-loop.pl): `execveat(fd, "", argv, envp,
# AT_EMPTY_PATH | AT_EXECVE_CHECK)` on an open FILE, ROUNDS times;
# without a policy and under `mayexec run -f` (whose seccomp filter every
# system call pays). Sets check_run_f to the second one's number.
bench_check() {
	_check=$root/scripts/lib/check-loop.pl
	[ "$(uname -m)" = x86_64 ] || {
		echo "bench: the kernel check's measurement knows execveat's number on x86_64 only" >&2
		exit 1
	}
	bench_case "kernel check alone (AT_EXECVE_CHECK, one perl)" /usr/bin/perl "$_check" "$rounds" "$1"
	bench_case "kernel check alone, mayexec run -f" \
		"$mayexec" run -f -- /usr/bin/perl "$_check" "$rounds" "$1"
	check_run_f=$count
}

# bench_measure N: runs measurement N.
bench_measure() {
	eval "eval \"\$bench_cmd_$1\""
}

# bench_shell SPAWN LOAD WHAT: a shell's measurements (dash's, bash's):
# starts of `PACKAGE -c true` and of a script, from the loop SPAWN (run by
# the stock shell, with $n, $sh and the arguments), stock, enlightened and
# under `mayexec run -f`; WHAT of a file inside one shell, the loop LOAD
# (with $n and $lib), alike; the kernel check alone (bench_check); and the
# floors under `mayexec run -f` (bench_floor): the stock shell in the same
# conditions plus one check per script or file.
bench_shell() {
	bench_file script.sh 'x=1'
	bench_file lib.sh 'y=2'
	bench_case "$package -c true: stock" "$stock" -c "n=$rounds sh=$stock; $1" loop -c true
	bench_case "$package -c true: enlightened, no policy" "$stock" -c "n=$rounds sh=$ours; $1" loop -c true
	bench_case "$package script: stock" "$stock" -c "n=$rounds sh=$stock; $1" loop "$dir/script.sh"
	bench_case "$package script: enlightened, no policy" "$stock" -c "n=$rounds sh=$ours; $1" loop "$dir/script.sh"
	bench_case "$package script: enlightened, mayexec run -f" \
		"$mayexec" run -f -- "$stock" -c "n=$rounds sh=$ours; $1" loop "$dir/script.sh"
	_start=$count
	bench_case "$package script: stock, mayexec run -f" \
		"$mayexec" run -f -- "$stock" -c "n=$rounds sh=$stock; $1" loop "$dir/script.sh"
	_start_base=$count
	bench_case "$3 (in one shell): stock" "$stock" -c "n=$rounds lib=$dir/lib.sh; $2"
	bench_case "$3 (in one shell): enlightened, no policy" "$ours" -c "n=$rounds lib=$dir/lib.sh; $2"
	bench_case "$3 (in one shell): enlightened, mayexec run -f" \
		"$mayexec" run -f -- "$ours" -c "n=$rounds lib=$dir/lib.sh; $2"
	_ours=$count
	bench_case "$3 (in one shell): stock, mayexec run -f" \
		"$mayexec" run -f -- "$stock" -c "n=$rounds lib=$dir/lib.sh; $2"
	_base=$count
	bench_check "$dir/lib.sh"
	bench_floor "$package script, mayexec run -f" "$_start" "$_start_base" "$check_run_f"
	bench_floor "$3, mayexec run -f" "$_ours" "$_base" "$check_run_f"
}

# bench_run: every measurement once, then interleaved; the medians.
bench_run() {
	n=1
	while [ "$n" -le "$count" ]; do
		bench_measure "$n" || {
			echo "bench: measurement $n fails" >&2
			exit 1
		}
		n=$((n + 1))
	done

	rep=1
	while [ "$rep" -le "$repeats" ]; do
		n=1
		while [ "$n" -le "$count" ]; do
			start=$(date +%s%N)
			bench_measure "$n"
			end=$(date +%s%N)
			echo "$n $(((end - start) / 1000))"
			n=$((n + 1))
		done
		rep=$((rep + 1))
	done >"$dir/times"

	echo "baseline $stock; rounds: $rounds; median of $repeats interleaved repeats; Linux $(uname -r); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	n=1
	printf '%s\n' "$labels" | while IFS= read -r label; do
		awk -v label="$label" -v us="$(bench_median "$n")" -v r="$rounds" \
			'BEGIN { printf "%-50s %8.1f us/op\n", label, us / r }'
		n=$((n + 1))
	done
	printf '%s' "$floors" | while IFS='|' read -r label ours base check; do
		awk -v label="$label" -v o="$(bench_median "$ours")" -v b="$(bench_median "$base")" \
			-v c="$(bench_median "$check")" -v r="$rounds" 'BEGIN {
			printf "%s: %.1f us/op = stock %.1f + check %.1f (the floor, %.3fx stock) + %.1f\n",
				label, o / r, b / r, c / r, (b + c) / b, (o - b - c) / r }'
	done
}

# bench_median N: measurement N's median time (microseconds per run).
bench_median() {
	awk -v n="$1" '$1 == n { print $2 }' "$dir/times" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
