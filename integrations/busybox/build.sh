#!/bin/sh
# Builds BusyBox from Debian's source with Debian's configuration (the
# busybox package's), twice:
#
#     target/busybox-stock/bin/busybox      the stock build, the baseline
#                                           (BusyBox's ash test suite, bench)
#     target/busybox-mayexec/bin/busybox    with mayexec.patch (the applets
#                                           that interpret a program:
#                                           shell/ash.c, editors/awk.c,
#                                           editors/vi.c, networking/ifupdown.c,
#                                           and libbb/mayexec.c) configured
#                                           with FEATURE_MAYEXEC=y and
#                                           libmayexec linked statically:
#                                           sh, ash, awk, vi, ifup, ifdown
#                                           and mim obey the policy
#
# The enlightened tree is a fresh copy of the source, patched, configured
# as Debian's plus the patch's option, and built with the same flags.
# Before it, the patched source with the option off (upstream's default)
# must build without libmayexec (check_without_libmayexec): a copy of the
# built stock tree, so that make compiles only the patched applets.
# scripts/lib/integration.sh does what every
# integration does (the tools, Debian's source, the stamps, the patch, the
# checks, the cache; `--fetch`); this file says how BusyBox is configured,
# compiled and installed. docs/busybox.md: the steps in detail.
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
package=busybox
program=bin/busybox
has="shell/ash.c debian/config/pkg/deb"
# dpkg-dev: dpkg-source for `apt-get source`, dpkg-buildflags; patch; the
# C toolchain; BusyBox's own Kbuild needs nothing more.
tools="dpkg-dev patch gcc libc6-dev make pkg-config"
from=source
# Without a timestamp the configuration compares with Debian's file: a
# difference is an option the source added or changed.
KCONFIG_NOTIMESTAMP=1
export KCONFIG_NOTIMESTAMP

# debian_config [LINE]: .config as debian/rules configures the busybox
# package (debian/config/os/linux + debian/config/pkg/deb, then oldconfig,
# which must change nothing), plus LINE, the setting of the patch's
# FEATURE_MAYEXEC (libbb/mayexec.c), which must be the only difference.
debian_config() {
	cat debian/config/os/linux debian/config/pkg/deb >.config
	[ $# = 0 ] || printf '%s\n' "$1" >>.config
	step oldconfig sh -c 'yes "" | make silentoldconfig'
	if [ $# = 0 ]; then
		step "Debian's configuration check" diff -u debian/config/pkg/deb .config
	else
		step "Debian's configuration check" sh -c \
			'grep -qxF "$1" .config && grep -vxF "$1" .config | diff -u debian/config/pkg/deb -' \
			sh "$1"
	fi
}

# The stock tree is configured as Debian's; the enlightened one also sets
# FEATURE_MAYEXEC (off by default, as upstream would have it).
configure() {
	if [ "$variant" = stock ]; then
		debian_config
	else
		debian_config CONFIG_FEATURE_MAYEXEC=y
	fi
}

# make_busybox WHAT [VARIABLE=VALUE...]: make all, as debian/rules builds
# the busybox package: Debian's flags (dpkg-buildflags, hardening=+all)
# without -O2, left to BusyBox's own -Os.
make_busybox() {
	_what=$1
	shift
	debian_buildflags
	cflags=
	for word in $deb_cflags; do
		[ "$word" = -O2 ] || cflags="$cflags $word"
	done
	step "make ($_what)" make -j2 all \
		BB_EXTRA_VERSION="Debian $version" \
		CONFIG_EXTRA_CFLAGS="$cflags $deb_cppflags" \
		CONFIG_EXTRA_LDFLAGS="$cflags $deb_ldflags" \
		V=1 "$@"
}

# check_without_libmayexec: the patched source with FEATURE_MAYEXEC off
# builds and links as before, with libmayexec nowhere (no PKG_CONFIG_PATH,
# nothing on the include or library path), and its binary has none of it.
# It is a copy of the built stock tree, patched and made again with the
# same flags: make compiles only the patched applets. Run in the
# enlightened tree before its own build; the copy is removed.
check_without_libmayexec() {
	_off=$work/nomayexec
	rm -rf "$_off"
	cp -a --reflink=auto "$work/stock" "$_off"
	rm -f "$_off/.stamp" "$_off/busybox" "$_off/busybox_unstripped"
	patch -d "$_off" -p1 --no-backup-if-mismatch --forward --batch --quiet <"$patchfile" ||
		die "$(basename "$patchfile") does not apply to Debian $package $version"
	(
		cd "$_off"
		unset PKG_CONFIG_PATH
		debian_config '# CONFIG_FEATURE_MAYEXEC is not set'
		make_busybox "FEATURE_MAYEXEC off"
	)
	stock_check "$_off/busybox"
	if nm "$_off/busybox_unstripped" | grep -qi mayexec; then
		die "the build with FEATURE_MAYEXEC off has mayexec's symbols"
	fi
	say "the patched source builds without libmayexec (FEATURE_MAYEXEC off)"
	rm -rf "$_off"
}

# The enlightened build links libmayexec statically: the patch's
# Makefile.flags asks pkg-config (whose -lmayexec would pick the shared
# library next to the archive), MAYEXEC_LIBS on make's command line names
# libmayexec.a instead (-l:FILE); what it needs from the system goes
# through CONFIG_EXTRA_LDLIBS, which trylink always keeps (-lgcc_eh, not
# libgcc_s).
compile() {
	if [ "$variant" = stock ]; then
		make_busybox stock
		return 0
	fi
	check_without_libmayexec
	make_busybox mayexec \
		MAYEXEC_LIBS="-L$(dirname "$mayexec_archive") -l:$(basename "$mayexec_archive")" \
		CONFIG_EXTRA_LDLIBS="$(printf '%s\n' "$libs" | sed "s|$mayexec_archive||")"
}

install_to() {
	mkdir -p "$prefix/bin"
	install -m 0755 busybox "$prefix/bin/busybox"
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
