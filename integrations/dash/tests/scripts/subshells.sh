# Subshells, command substitution, pipelines and their statuses.
x=outer
(x=inner; echo "in subshell: $x")
echo "after subshell: $x"
y=$(x=substituted; echo "$x")
echo "substitution: $y, x still $x"
(exit 5)
echo "subshell exit: $?"
echo one two three | { read -r a b c; echo "read in a pipeline: $c $b $a"; }
false | true
echo "pipeline status is the last command's: $?"
true | false
echo "and now: $?"
count=$(printf 'a\nb\nc\n' | wc -l)
echo "lines: $count"
echo "nested: $(echo "$(echo "$(echo deep)")")"
