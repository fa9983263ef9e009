# Functions: arguments, local variables, recursion, return statuses.
fib() {
	if [ "$1" -lt 2 ]; then
		echo "$1"
		return
	fi
	echo $(( $(fib $(($1 - 1))) + $(fib $(($1 - 2))) ))
}
counter=0
bump() {
	local step
	step=${1:-1}
	counter=$((counter + step))
	return $((counter % 3))
}
echo "fib 10 = $(fib 10)"
bump; echo "bump -> $? counter=$counter"
bump 4; echo "bump 4 -> $? counter=$counter"
echo "step outside: ${step-unset}"
greet() { printf '%s, %s!\n' "$1" "${2:-world}"; }
greet Hello
greet Bonjour monde
unset -f greet
greet 2>/dev/null || echo "greet is gone ($?)"
