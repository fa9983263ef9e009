# Sourced by dot_source.sh.
HELPER_GREETING="hi from helpers"
HELPER_LOADS=$(( ${HELPER_LOADS:-0} + 1 ))
shout() { echo "$*" | tr a-z A-Z; }
