# Signals: a trapped INT, an ignored QUIT, then death by TERM.
trap 'echo "INT trapped"' INT
kill -INT $$
trap '' QUIT
kill -QUIT $$
echo "QUIT ignored"
trap - INT
echo "about to die"
kill -TERM $$
echo "not reached"
