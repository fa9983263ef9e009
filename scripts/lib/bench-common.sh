#!/bin/sh
# Shared by the integrations' bench.sh scripts (sourced, POSIX sh).
#
# bench_run
# Runs every measurement once (a failing one stops the bench), then all of
# them interleaved, $repeats times, so that the machine's drift hits them
# alike, and prints each one's median in microseconds per operation. The
# caller sets `labels` (one line per measurement), `rounds`, `repeats`,
# `dir` (a scratch directory) and `heading` (printed before the figures,
# may be empty), and defines `variant N`, which runs measurement N as one
# command of $rounds operations.
bench_run() {
	count=$(printf '%s\n' "$labels" | wc -l)
	n=1
	while [ "$n" -le "$count" ]; do
		variant "$n" || { echo "bench: measurement $n fails" >&2; exit 1; }
		n=$((n + 1))
	done

	rep=1
	while [ "$rep" -le "$repeats" ]; do
		n=1
		while [ "$n" -le "$count" ]; do
			start=$(date +%s%N)
			variant "$n"
			end=$(date +%s%N)
			echo "$n $(((end - start) / 1000))"
			n=$((n + 1))
		done
		rep=$((rep + 1))
	done >"$dir/times"

	echo "${heading}rounds: $rounds; median of $repeats interleaved repeats; Linux $(uname -r); $(nproc) CPUs"
	n=1
	printf '%s\n' "$labels" | while IFS= read -r label; do
		us=$(awk -v n="$n" '$1 == n { print $2 }' "$dir/times" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		awk -v label="$label" -v us="$us" -v r="$rounds" \
			'BEGIN { printf "%-50s %8.1f us/op\n", label, us / r }'
		n=$((n + 1))
	done
}
