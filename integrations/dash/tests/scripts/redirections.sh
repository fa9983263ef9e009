# Redirections: files, descriptors, exec, noclobber.
tmp=${TMPDIR:-/tmp}/mayexec-dash-redir.$$
echo "to a file" >"$tmp"
echo "appended" >>"$tmp"
cat <"$tmp"
exec 3<"$tmp"
read -r first <&3
exec 3<&-
echo "read from fd 3: $first"
echo "to stderr" >&2
set -C
( echo clobber >"$tmp" ) 2>/dev/null || echo "noclobber refused"
set +C
{ echo grouped; echo output; } | sort -r
rm -f "$tmp"
