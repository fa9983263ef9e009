# Traps: EXIT, signals delivered to the shell itself, resetting a trap.
trap 'echo "exit trap, status $?"' EXIT
trap 'echo "caught USR1"' USR1
kill -USR1 $$
trap 'echo "caught HUP"; hup=1' HUP
kill -HUP $$
echo "hup=${hup-unset}"
trap - USR1
trap 'echo "caught TERM"' TERM
kill -TERM $$
trap
exit 3
