# Positional parameters: $#, "$@" and $*, shift, set --, getopts.
echo "count: $#"
for arg in "$@"; do echo "arg: [$arg]"; done
IFS=,
echo "star: $*"
IFS=' '
shift
echo "after shift: $# first=[$1]"
set -- -a -b value rest
while getopts ab: opt; do
	case $opt in
	a) echo "option a" ;;
	b) echo "option b=$OPTARG" ;;
	esac
done
shift $((OPTIND - 1))
echo "operands: $*"
set --
echo "cleared: $#"
