# Exit statuses: commands, negation, not found, nested shells.
true; echo "true: $?"
false; echo "false: $?"
! false; echo "negated false: $?"
no_such_command_here 2>/dev/null; echo "not found: $?"
sh -c 'exit 9'; echo "child: $?"
( exit 300 ); echo "wraps: $?"
test 1 -eq 2; echo "test: $?"
[ -n "x" ] && echo "and-list: $?"
exit 42
