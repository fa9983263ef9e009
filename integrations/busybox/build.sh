#!/bin/sh
# Builds BusyBox from Debian's source with Debian's configuration twice in
# the same tree: stock, then with mayexec.patch (the applets that
# interpret a program: shell/ash.c, editors/awk.c, editors/vi.c,
# networking/ifupdown.c) and libmayexec linked statically. Installs (relative to the repository root)
#
#     target/busybox-mayexec/bin/busybox    the enlightened build: every
#                                           applet that interprets a program
#                                           obeys the policy (sh, ash, awk,
#                                           vi, ifup, ifdown, mim)
#     target/busybox-stock/bin/busybox      the stock build, for comparison
#                                           (BusyBox's ash test suite, bench)
#
# Steps (each skipped when its result is already there, so a second run is
# quick and changes nothing):
#   1. install the build tools with apt-get when missing (dpkg-dev for
#      `apt-get source`, a C toolchain, pkg-config);
#   2. fetch Debian's busybox source with `apt-get source busybox`, through
#      a private apt configuration under target/busybox-build/apt
#      (integrations/debian-source.sh); nothing global is changed;
#   3. install libmayexec (integrations/build-common.sh: `make install
#      PREFIX=target/libmayexec`, or MAYEXEC_PREFIX=DIR);
#   4. configure the tree as debian/rules does for the busybox package
#      (debian/config/os/linux + debian/config/pkg/deb, then oldconfig) and
#      build it with Debian's flags (dpkg-buildflags, hardening=+all, -O2
#      left to BusyBox's -Os); install the stock binary;
#   5. apply mayexec.patch in the same tree and build again: only the
#      patched applets (ash.o, awk.o, vi.o, ifupdown.o) are compiled
#      again, and the link adds libmayexec.a; install.
#
# Both builds get the same compiler flags (mayexec.h's directory is on the
# include path of both), so the second build recompiles only what the patch
# changes.
#
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/busybox-build
prefix=$root/target/busybox-mayexec
stock=$root/target/busybox-stock
patchfile=$here/mayexec.patch
name="busybox build"
. "$root/scripts/lib/debian-source.sh"
. "$root/scripts/lib/build-common.sh"

started=$(date +%s)
build_lock "$work"

# --- 1. build tools -----------------------------------------------------

# dpkg-dev: dpkg-source for `apt-get source`, dpkg-buildflags; patch; the
# C toolchain; BusyBox's own Kbuild needs nothing more.
build_tools dpkg-dev patch gcc libc6-dev make pkg-config

# --- 2. Debian's busybox source, cached under target/ -----------------------

srcdir=$work/debian-src
if [ ! -f "$srcdir/.complete" ]; then
	say "fetching Debian's busybox source"
	debian_source busybox "$work" "$srcdir" || die "could not fetch Debian's busybox source"
	[ -f "$srcdir/shell/ash.c" ] || die "Debian's busybox source in $srcdir has no shell/ash.c"
	[ -f "$srcdir/debian/config/pkg/deb" ] || die "Debian's busybox source in $srcdir has no debian/config/pkg/deb"
	(cd "$srcdir" && dpkg-parsechangelog -S Version) >"$srcdir/.version"
	mv "$srcdir/.version" "$srcdir/.complete"
fi
version=$(cat "$srcdir/.complete")
say "Debian busybox $version (source in ${srcdir#"$root"/})"

# --- 3. libmayexec ---------------------------------------------------------

libmayexec_static

stock_stamp=$(cat "$here/build.sh" "$root/scripts/lib/build-common.sh" | sha256sum | cut -d' ' -f1)-$version
stamp=$(cat "$patchfile" "$here/build.sh" "$root/scripts/lib/build-common.sh" "$mayexec_archive" | sha256sum | cut -d' ' -f1)-$version
if [ -x "$prefix/bin/busybox" ] && [ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -x "$stock/bin/busybox" ] && [ "$(cat "$stock/.stamp" 2>/dev/null)" = "$stock_stamp" ]; then
	say "up to date: ${prefix#"$root"/}/bin/busybox, ${stock#"$root"/}/bin/busybox"
	exit 0
fi

step_log "$work/build.log"
debian_buildflags
# As debian/rules: -O2 is left out for BusyBox's own -Os.
cflags=
for word in $deb_cflags; do
	[ "$word" = -O2 ] || cflags="$cflags $word"
done
tree=$work/tree

# make -C TREE all, as debian/rules builds the busybox package, with
# EXTRA_LDLIBS (trylink keeps them: -Wl,FILE passes an archive by path).
bbmake() {
	step "make ($1)" make -C "$tree" -j2 all \
		BB_EXTRA_VERSION="Debian $version" \
		CONFIG_EXTRA_CFLAGS="$cflags $deb_cppflags $mayexec_cflags" \
		CONFIG_EXTRA_LDFLAGS="$cflags $deb_ldflags" \
		CONFIG_EXTRA_LDLIBS="$2" \
		V=1
}

# --- 4. the stock build ------------------------------------------------------

if [ ! -x "$stock/bin/busybox" ] || [ "$(cat "$stock/.stamp" 2>/dev/null)" != "$stock_stamp" ] ||
	[ "$(cat "$tree/.stock-stamp" 2>/dev/null)" != "$stock_stamp" ]; then
	rm -rf "$tree" "$stock"
	cp -a "$srcdir" "$tree"
	rm -f "$tree/.complete"
	say "configuring with Debian's configuration (debian/config/pkg/deb)"
	cat "$tree/debian/config/os/linux" "$tree/debian/config/pkg/deb" >"$tree/.config"
	# Without a timestamp the result compares with Debian's file: a
	# difference is an option the source added or changed.
	export KCONFIG_NOTIMESTAMP=1
	step oldconfig sh -c 'yes "" | make -C "$1" silentoldconfig' sh "$tree"
	step "Debian's configuration check" diff -u "$tree/debian/config/pkg/deb" "$tree/.config"
	say "compiling the stock build"
	bbmake stock ""
	mkdir -p "$stock/bin"
	install -m 0755 "$tree/busybox" "$stock/bin/busybox"
	printf '%s\n' "$stock_stamp" >"$tree/.stock-stamp"
	printf '%s\n' "$stock_stamp" >"$stock/.stamp"
	say "installed ${stock#"$root"/}/bin/busybox (stock Debian busybox $version)"
fi

# --- 5. the enlightened build -------------------------------------------------

# A patch applied before (another version of it) comes out first.
if [ -f "$tree/.mayexec.patch" ]; then
	patch -d "$tree" -p1 -R --no-backup-if-mismatch --batch --quiet <"$tree/.mayexec.patch" ||
		die "the previous mayexec.patch does not come out of $tree (rm -rf $tree)"
	rm -f "$tree/.mayexec.patch"
fi
say "applying $(basename "$patchfile")"
patch -d "$tree" -p1 --no-backup-if-mismatch --forward --batch --quiet <"$patchfile" ||
	die "$(basename "$patchfile") does not apply to Debian busybox $version"
cp "$patchfile" "$tree/.mayexec.patch"
say "compiling the enlightened build (the patched applets and the link)"
bbmake enlightened "-Wl,$mayexec_archive $(printf '%s\n' "$mayexec_libs" | sed "s|$mayexec_archive||")"
rm -rf "$prefix"
mkdir -p "$prefix/bin"
install -m 0755 "$tree/busybox" "$prefix/bin/busybox"
static_check "$prefix/bin/busybox"
printf '%s\n' "$stamp" >"$prefix/.stamp"
say "installed ${prefix#"$root"/}/bin/busybox (Debian busybox $version + mayexec.patch) in $(($(date +%s) - started)) s"
