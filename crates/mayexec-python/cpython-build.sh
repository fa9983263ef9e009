#!/bin/sh
# A CPython 3.X with its shared library, for mayexec-python to embed on a
# machine that has none (no ~/.pyenv build, no Debian package of that
# version): Debian's python3.X source, built with only what embedding and
# the tests need, into a cache. Prints the interpreter's path on stdout:
#
#     sh crates/mayexec-python/cpython-build.sh 3.13
#     /var/cache/mayexec/cpython/3.13.x-y/bin/python3.13
#
# scripts/python-versions.sh uses it for a version with no pyenv build,
# except 3.14: on this project's machines no 3.14 source can be fetched
# (sid's python3.14 source files answer 404), so 3.14 comes from sid's
# binary packages in a Debian root (debian-root.sh) instead. This script
# stays for machines that reach Debian's sources; CI does not run it.
#
# Steps (each skipped when its result is already there):
#   1. fetch Debian's python3.X source with `apt-get source` through a
#      private apt configuration (scripts/lib/debian-source.sh), from the
#      Debian suite that has it (CPYTHON_SUITE, default: trixie for 3.13,
#      sid otherwise);
#   2. configure --enable-shared (the library, with an rpath so that its
#      python3.X finds it), no PGO, no LTO, no ensurepip; build; install
#      (`make install`: the standard library, its caches, its test suite,
#      the internal headers mayexec-python's build reads).
#
# The cache is $MAYEXEC_CACHE, else /var/cache/mayexec when it can be
# written, else target/cpython-cache: outside the checkout when there is
# one, so that CI on a machine that keeps it builds CPython once. One
# build at a time (a lock per version).
set -eu

version=${1:?usage: $0 3.X}
case $version in
3.1[1-9]) ;;
*)
	echo "cpython-build: $version: not a CPython 3.X version" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/lib/debian-source.sh"

say() {
	printf 'cpython-build %s: %s\n' "$version" "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

if [ -n "${MAYEXEC_CACHE:-}" ]; then
	cache=$MAYEXEC_CACHE
elif mkdir -p /var/cache/mayexec 2>/dev/null && [ -w /var/cache/mayexec ]; then
	cache=/var/cache/mayexec
else
	cache=$root/target/cpython-cache
fi
work=$cache/cpython/build-$version
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

# --- 1. Debian's source --------------------------------------------------

case $version in
3.13) suite=${CPYTHON_SUITE:-trixie} ;;
*) suite=${CPYTHON_SUITE:-sid} ;;
esac
srcdir=$work/debian-src
if [ ! -f "$srcdir/.complete" ]; then
	packages="dpkg-dev gcc make libffi-dev zlib1g-dev libssl-dev libexpat1-dev libbz2-dev liblzma-dev libreadline-dev"
	missing=
	for p in $packages; do
		if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
			missing="$missing $p"
		fi
	done
	if [ -n "$missing" ]; then
		[ "$(id -u)" = 0 ] || die "missing packages:$missing (run this script as root, or install them)"
		say "installing:$missing"
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
	fi
	say "fetching Debian's python$version source ($suite)"
	debian_source_suite "python$version" "$suite" "$work" "$srcdir" ||
		die "could not fetch Debian's python$version source from $suite"
	[ -f "$srcdir/Modules/main.c" ] || die "Debian's python$version source has no Modules/main.c"
	(cd "$srcdir" && dpkg-parsechangelog -S Version) >"$srcdir/.version"
	mv "$srcdir/.version" "$srcdir/.complete"
fi
debversion=$(cat "$srcdir/.complete")
prefix=$cache/cpython/$debversion
python=$prefix/bin/python$version

# --- 2. configure, build, install -------------------------------------------

stamp=$(sha256sum <"$here/cpython-build.sh" | cut -d' ' -f1)-$debversion
if [ -x "$python" ] && [ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ]; then
	say "up to date: $python"
	printf '%s\n' "$python"
	exit 0
fi
started=$(date +%s)
build=$work/build
rm -rf "$build"
mkdir -p "$build"
log=$work/build.log
: >"$log"
step() {
	what=$1
	shift
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "$what failed (full log: $log)"
	fi
}
say "configuring Debian python$version $debversion (--enable-shared, no PGO/LTO)"
step configure sh -c 'cd "$1" && shift && "$@"' sh "$build" "$srcdir/configure" \
	--prefix="$prefix" \
	--enable-shared \
	--without-ensurepip \
	--with-system-ffi \
	LDFLAGS="-Wl,-rpath,$prefix/lib"
say "compiling"
step make make -C "$build" -j"$(nproc)"
rm -rf "$prefix"
say "installing into $prefix"
step "make install" make -C "$build" install
[ -x "$python" ] || die "make install left no $python"
"$python" -c 'import sysconfig, sys; sys.exit(not sysconfig.get_config_var("Py_ENABLE_SHARED"))' ||
	die "$python has no shared library"
printf '%s\n' "$stamp" >"$prefix/.stamp"
rm -rf "$build"
say "built $python in $(($(date +%s) - started)) s"
printf '%s\n' "$python"
