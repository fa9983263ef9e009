# A syntax error on line 4: the shell reports it and stops.
echo "line 2 runs"
if true; then
	echo "then" ; fi fi
echo "not reached"
