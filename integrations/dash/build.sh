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
name="dash build"
. "$root/scripts/lib/debian-source.sh"
. "$root/scripts/lib/build-common.sh"

started=$(date +%s)
build_lock "$work"

# --- 1. build tools -----------------------------------------------------

# dpkg-dev: dpkg-source for `apt-get source`; patch; the C toolchain;
# autoconf/automake: Debian's own patches change configure.ac and
# Makefile.am, so the tree is regenerated as dh_autoreconf does.
build_tools dpkg-dev patch gcc libc6-dev make autoconf automake pkg-config

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

libmayexec_static

# --- 4. patch, configure, build, install ------------------------------------

stamp=$(cat "$patchfile" "$here/build.sh" "$root/scripts/lib/build-common.sh" "$mayexec_archive" | sha256sum | cut -d' ' -f1)-$version
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

step_log "$work/build.log"

say "configuring (autoreconf, then Debian's configure options)"
debian_buildflags
step autoreconf sh -c 'cd "$1" && autoreconf -fi' sh "$build"
step configure sh -c 'cd "$1" && shift && ./configure "$@"' sh "$build" \
	--prefix="$prefix" \
	--disable-fnmatch --disable-lineno --disable-glob \
	CFLAGS="$deb_cflags" \
	CPPFLAGS="$deb_cppflags $mayexec_cflags" \
	LDFLAGS="$deb_ldflags" \
	LIBS="$mayexec_libs"

say "compiling"
step make make -C "$build" -j2
rm -rf "$prefix"
step "make install" make -C "$build" install-strip

static_check "$prefix/bin/dash"

printf '%s\n' "$stamp" >"$prefix/.stamp"
say "installed ${prefix#"$root"/}/bin/dash (Debian dash $version + mayexec.patch) in $(($(date +%s) - started)) s"
