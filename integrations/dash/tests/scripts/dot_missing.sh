# `.` of a missing file: a special builtin's error ends the script.
echo "before"
. ./lib/no-such-file.sh
echo "not reached"
