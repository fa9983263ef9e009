# `.` sourcing: functions and variables from a file, its return status.
. ./lib/helpers.sh
echo "helpers say: $HELPER_GREETING"
shout "sourced function"
. ./lib/helpers.sh
echo "sourced twice, loaded=$HELPER_LOADS"
status_of_dot() {
	. ./lib/returns.sh
	echo "the dot returned $?"
}
status_of_dot
