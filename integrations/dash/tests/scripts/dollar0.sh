# $0 and friends: the script's name as given, and parameter expansions.
echo "dollar0 basename: ${0##*/}"
case $0 in
*/dollar0.sh) echo "dollar0 ends with the script's name" ;;
*) echo "dollar0 is the shell: ${0##*/}" ;;
esac
path=/usr/local/lib/file.tar.gz
echo "${path%/*} ${path##*/} ${path%%.*} ${path#*.}"
echo "length ${#path}"
unset nothing
echo "${nothing:-default} ${nothing-unset} ${path:+set}"
