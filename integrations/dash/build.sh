#!/bin/sh
# Builds the enlightened dash: Debian's dash source with mayexec.patch,
# linked statically against libmayexec, installed at
#
#     target/dash-mayexec/bin/dash        (relative to the repository root)
#
# Steps (each skipped when its result is already there, so a second run is
# quick and changes nothing):
#   1. install the build tools with apt-get when missing (dpkg-dev for
#      `apt-get source`, a C toolchain, autoconf/automake, pkg-config);
#   2. fetch Debian's dash source with `apt-get source dash`, through a
#      private apt configuration under target/dash-build/apt (a deb-src list
#      made from this machine's Debian release and mirror in /etc/apt, by
#      integrations/debian-source.sh, shared by every integration);
#      nothing global is changed;
#   3. install libmayexec with `make install PREFIX=target/libmayexec`
#      (or use MAYEXEC_PREFIX=DIR, a finished `make install PREFIX=DIR`);
#   4. apply mayexec.patch to a fresh copy of the source, configure it the
#      way Debian does (same configure options, dpkg-buildflags with
#      hardening=+all), link libmayexec.a (`pkg-config --static`), install.
#
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/dash-build
prefix=$root/target/dash-mayexec
patchfile=$here/mayexec.patch
. "$here/../debian-source.sh"

say() {
	printf 'dash build: %s\n' "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

started=$(date +%s)
mkdir -p "$work"

# One build at a time (tests or CI steps may start it concurrently).
exec 9>"$work/.lock"
flock 9

# --- 1. build tools -----------------------------------------------------

# dpkg-dev: dpkg-source for `apt-get source`; patch; the C toolchain;
# autoconf/automake: Debian's own patches change configure.ac and
# Makefile.am, so the tree is regenerated as dh_autoreconf does.
packages="dpkg-dev patch gcc libc6-dev make autoconf automake pkg-config"
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
command -v cargo >/dev/null || die "cargo is needed to build libmayexec"

# --- 2. Debian's dash source, cached under target/ -------------------------

srcdir=$work/debian-src
if [ ! -f "$srcdir/.complete" ]; then
	say "fetching Debian's dash source"
	debian_source dash "$work" "$srcdir" || die "could not fetch Debian's dash source"
	[ -f "$srcdir/src/main.c" ] || die "Debian's dash source in $srcdir has no src/main.c"
	(cd "$srcdir" && dpkg-parsechangelog -S Version) >"$srcdir/.version"
	mv "$srcdir/.version" "$srcdir/.complete"
fi
version=$(cat "$srcdir/.complete")
say "Debian dash $version (source in ${srcdir#"$root"/})"

# --- 3. libmayexec ---------------------------------------------------------

if [ -n "${MAYEXEC_PREFIX:-}" ]; then
	libprefix=$MAYEXEC_PREFIX
else
	libprefix=$root/target/libmayexec
	[ -f "$root/Makefile" ] || die "no Makefile at $root to install libmayexec (or set MAYEXEC_PREFIX)"
	say "installing libmayexec into ${libprefix#"$root"/}"
	make -C "$root" -s install PREFIX="$libprefix" >&2
fi
export PKG_CONFIG_PATH="$libprefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists mayexec || die "no mayexec.pc in $libprefix/lib/pkgconfig"
libdir=$(pkg-config --variable=libdir mayexec)
archive=$libdir/libmayexec.a
[ -f "$archive" ] || die "$archive is missing"
# The static link: libmayexec.a by path (a plain -lmayexec would pick the
# shared library next to it), then what it needs from the system. Rust's
# unwinder comes from libgcc_eh.a rather than libgcc_s.so: it is never
# used (panic = "abort"), and loading libgcc_s.so costs every start of
# the shell its CPU probe (cpuid; about 0.5 ms in a virtual machine).
libs=
for word in $(pkg-config --static --libs mayexec); do
	case $word in
	-lmayexec) libs="$libs $archive" ;;
	-lgcc_s) libs="$libs -lgcc_eh" ;;
	-L*) ;;
	*) libs="$libs $word" ;;
	esac
done
case $libs in
*"$archive"*) ;;
*) die "pkg-config --static --libs mayexec does not name -lmayexec" ;;
esac

# --- 4. patch, configure, build, install ------------------------------------

stamp=$(cat "$patchfile" "$here/build.sh" "$archive" | sha256sum | cut -d' ' -f1)-$version
if [ -x "$prefix/bin/dash" ] && [ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ]; then
	say "up to date: ${prefix#"$root"/}/bin/dash"
	exit 0
fi

build=$work/build
rm -rf "$build"
cp -a "$srcdir" "$build"
rm -f "$build/.complete"
say "applying $(basename "$patchfile")"
patch -d "$build" -p1 --no-backup-if-mismatch --forward --batch --quiet <"$patchfile" ||
	die "$(basename "$patchfile") does not apply to Debian dash $version"

# The tools' output goes to a log, shown when a step fails.
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

say "configuring (autoreconf, then Debian's configure options)"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
step autoreconf sh -c 'cd "$1" && autoreconf -fi' sh "$build"
step configure sh -c 'cd "$1" && shift && ./configure "$@"' sh "$build" \
	--prefix="$prefix" \
	--disable-fnmatch --disable-lineno --disable-glob \
	CFLAGS="$(dpkg-buildflags --get CFLAGS)" \
	CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS) $(pkg-config --cflags mayexec)" \
	LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
	LIBS="$libs"

say "compiling"
step make make -C "$build" -j2
rm -rf "$prefix"
step "make install" make -C "$build" install-strip

# libmayexec must be inside the binary, not a run-time dependency.
if readelf -d "$prefix/bin/dash" | grep -Eq 'NEEDED.*(libmayexec|libgcc_s)'; then
	die "$prefix/bin/dash links libmayexec or libgcc_s dynamically"
fi
grep -q 'script execution denied' "$prefix/bin/dash" ||
	die "$prefix/bin/dash does not contain libmayexec"

printf '%s\n' "$stamp" >"$prefix/.stamp"
say "installed ${prefix#"$root"/}/bin/dash (Debian dash $version + mayexec.patch) in $(($(date +%s) - started)) s"
