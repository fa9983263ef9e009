# set -e: which failures end the script, and with what status.
set -e
false || echo "a failing left side of || is fine"
if false; then echo never; else echo "a failing if condition is fine"; fi
! true
echo "a negated command is fine"
f() { false; echo "set -e does not apply inside f in an && list"; }
f && echo "so f succeeded"
(exit 7) || echo "subshell status $?"
echo "about to fail"
sh_fail() { return 4; }
sh_fail
echo "not reached"
