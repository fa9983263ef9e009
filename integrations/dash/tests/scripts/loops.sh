# Loops and case: for, while, until, break, continue, nested loops.
for i in 1 2 3 4 5 6; do
	[ "$i" = 2 ] && continue
	[ "$i" = 5 ] && break
	echo "for $i"
done
n=0
while [ $n -lt 3 ]; do
	n=$((n + 1))
	echo "while $n"
done
until [ $n -eq 0 ]; do
	n=$((n - 1))
done
echo "until done at $n"
for a in x y; do
	for b in 1 2 3; do
		[ "$b" = 3 ] && continue 2
		echo "$a$b"
	done
done
for word in apple banana cherry 42 ''; do
	case $word in
	a*) echo "$word starts with a" ;;
	*an*) echo "$word has an" ;;
	[0-9]*) echo "$word is a number" ;;
	'') echo "empty word" ;;
	*) echo "$word is something else" ;;
	esac
done
