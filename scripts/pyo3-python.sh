# Sourced by the build scripts: mayexec-python embeds the CPython that
# `python3` runs (pyenv's 3.11 on the project's machines, with its Lib/test
# for the regression-test comparison). Name it, so that every cargo command
# builds against the same interpreter whatever PATH a shell sets up.
if [ -z "${PYO3_PYTHON:-}" ]; then
    PYO3_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
    export PYO3_PYTHON
fi
