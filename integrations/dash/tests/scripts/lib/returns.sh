# Sourced by dot_source.sh: `return` ends the sourced file.
echo "in returns.sh"
return 6
echo "not reached"
