#!/usr/bin/env bash
# mayexec-python for every CPython it supports, one binary per version:
#
#     target/debug/mayexec-python3.X     (and target/debug/mayexec-python,
#                                         the default, built by cargo as usual)
#
#   bash scripts/python-versions.sh build [3.X ...]   build them
#   bash scripts/python-versions.sh test  [3.X ...]   build them and run the
#                                                     whole mayexec-python suite
#                                                     against each
#   bash scripts/python-versions.sh interpreter 3.X   print the python3.X used
#   bash scripts/python-versions.sh in-root 3.X       exit 0 if 3.X is built
#                                                     and run in a Debian root
#
# With no version named: every supported one but the default. The default
# (3.11, the `python3` that scripts/pyo3-python.sh picks) is what
# `cargo build --workspace` builds; it is also copied as mayexec-python3.11.
#
# pyo3 resolves one interpreter per target directory, so each version is
# built in target/python3.X (PYO3_PYTHON set to that version's python3.X).
# The interpreter is this machine's shared-library build under
# ~/.pyenv/versions when there is one. Else:
#   - 3.14: Debian sid's python3.14 packages, in a cached sid root
#     (crates/mayexec-python/debian-root.sh): mayexec-python3.14 is built
#     and tested in that root, and only runs there (target/python3.14/debug/).
#     No 3.14 source is reachable from here, and sid's binaries need a newer
#     glibc than Debian 12's;
#   - another version: one built from Debian's source into a cache
#     (crates/mayexec-python/cpython-build.sh; trixie has 3.13's).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

default=3.11
supported="3.11 3.12 3.13 3.14"
# The versions that, with no pyenv build, come from a Debian root.
in_root="3.14"

say() {
    printf 'python-versions: %s\n' "$*" >&2
}

# The python3.X to embed: pyenv's newest 3.X.* with its shared library, or
# a build from Debian's source.
interpreter() {
    local version=$1 dir best=
    for dir in "$HOME"/.pyenv/versions/"$version".*; do
        [[ $dir =~ /$version\.[0-9]+$ ]] || continue
        [ -x "$dir/bin/python$version" ] || continue
        ls "$dir"/lib/libpython"$version".so* >/dev/null 2>&1 || continue
        best=$dir
    done
    if [ -n "$best" ]; then
        printf '%s\n' "$best/bin/python$version"
    elif [ "${MAYEXEC_DEBIAN_ROOT:-}" = "$version" ]; then
        # Inside debian-root.sh's root: Debian's own.
        printf '%s\n' "/usr/bin/python$version"
    else
        bash crates/mayexec-python/cpython-build.sh "$version"
    fi
}

# has_pyenv 3.X: this machine has a pyenv build of 3.X.
has_pyenv() {
    local dir
    for dir in "$HOME"/.pyenv/versions/"$1".*; do
        [[ $dir =~ /$1\.[0-9]+$ ]] && [ -x "$dir/bin/python$1" ] &&
            ls "$dir"/lib/libpython"$1".so* >/dev/null 2>&1 && return 0
    done
    return 1
}

mode=${1:-}
case $mode in
build | test) shift ;;
interpreter)
    # The python3.X it builds against (the bench uses it).
    interpreter "${2:?usage: $0 interpreter 3.X}"
    exit
    ;;
in-root)
    # Exit status 0 if 3.X is built and run in a Debian root here.
    version=${2:?usage: $0 in-root 3.X}
    [ "${MAYEXEC_DEBIAN_ROOT:-}" != "$version" ] && ! has_pyenv "$version" &&
        [[ " $in_root " == *" $version "* ]]
    exit
    ;;
*)
    echo "usage: $0 build|test [3.X ...] | interpreter 3.X | in-root 3.X" >&2
    exit 2
    ;;
esac
versions=${*:-}
if [ -z "$versions" ]; then
    for v in $supported; do
        [ "$v" = "$default" ] || versions="$versions $v"
    done
fi

status=0
for version in $versions; do
    case " $supported " in
    *" $version "*) ;;
    *)
        say "CPython $version is not supported (only $supported)"
        exit 2
        ;;
    esac
    if [ "$version" = "$default" ]; then
        # The workspace build's own; tested by `cargo test --workspace`.
        . scripts/pyo3-python.sh
        cargo build -p mayexec-python
        ln -f target/debug/mayexec-python target/debug/mayexec-python"$version"
        continue
    fi
    started=$(date +%s)
    if bash scripts/python-versions.sh in-root "$version"; then
        # Built and tested inside the root, with the helper binaries built
        # here (they run there too: the root's glibc is newer).
        cargo build -p mayexec-cli -p mayexec-testkit --bins
        sh crates/mayexec-python/debian-root.sh "$version" \
            bash scripts/python-versions.sh "$mode" "$version" || status=$?
        say "CPython $version (Debian sid root): $mode done in $(($(date +%s) - started))s"
        continue
    fi
    python=$(interpreter "$version") || {
        say "no CPython $version: neither in ~/.pyenv/versions nor built from Debian's source"
        status=1
        continue
    }
    say "CPython $version: $python"
    dir=$root/target/python$version
    mkdir -p "$dir/debug"
    # The tests run these from their own target directory: the ones the
    # workspace build made serve every version (nothing in them embeds
    # CPython). In a Debian root they were built outside, by the caller.
    [ -n "${MAYEXEC_DEBIAN_ROOT:-}" ] || cargo build -p mayexec-cli -p mayexec-testkit --bins
    for bin in mayexec without-execve-check failing-execve-check; do
        ln -sf "$root/target/debug/$bin" "$dir/debug/$bin"
    done
    export PYO3_PYTHON=$python CARGO_TARGET_DIR=$dir
    if [ "$mode" = test ]; then
        # The per-version pieces (#[cfg(Py_3_1X)]) are only compiled here:
        # lint them here too.
        cargo clippy -p mayexec-python --all-targets -- -D warnings || status=$?
        cargo test -p mayexec-python --all-targets --no-fail-fast || status=$?
    else
        cargo build -p mayexec-python
    fi
    unset PYO3_PYTHON CARGO_TARGET_DIR
    # (In a Debian root the binary only runs there: it stays in its own
    # target directory.)
    [ -n "${MAYEXEC_DEBIAN_ROOT:-}" ] || ln -f "$dir/debug/mayexec-python" target/debug/mayexec-python"$version"
    say "CPython $version: $mode done in $(($(date +%s) - started))s"
done
exit "$status"
