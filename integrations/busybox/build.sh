#!/bin/sh
# Builds BusyBox from Debian's source with Debian's configuration (the
# busybox package's), twice:
#
#     target/busybox-stock/bin/busybox      the stock build, the baseline
#                                           (BusyBox's ash test suite, bench)
#     target/busybox-mayexec/bin/busybox    with mayexec.patch (the applets
#                                           that interpret a program:
#                                           shell/ash.c, editors/awk.c,
#                                           editors/vi.c, networking/ifupdown.c)
#                                           and libmayexec linked statically:
#                                           sh, ash, awk, vi, ifup, ifdown
#                                           and mim obey the policy
#
# The enlightened tree is a copy of the built stock one, patched: only the
# patched applets compile again, and the link adds libmayexec.a (both
# builds get the same compiler flags; mayexec.h's directory is on the
# include path of both). scripts/lib/integration.sh does what every
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
from=stock
# Without a timestamp the configuration compares with Debian's file: a
# difference is an option the source added or changed.
KCONFIG_NOTIMESTAMP=1
export KCONFIG_NOTIMESTAMP

# As debian/rules configures the busybox package: debian/config/os/linux +
# debian/config/pkg/deb, then oldconfig, which must change nothing. The
# enlightened tree is the configured stock one.
configure() {
	[ "$variant" = stock ] || return 0
	cat debian/config/os/linux debian/config/pkg/deb >.config
	step oldconfig sh -c 'yes "" | make silentoldconfig'
	step "Debian's configuration check" diff -u debian/config/pkg/deb .config
}

# make all, as debian/rules builds the busybox package: Debian's flags
# (dpkg-buildflags, hardening=+all) without -O2, left to BusyBox's own
# -Os; libmayexec on the link through EXTRA_LDLIBS (trylink keeps them:
# -Wl,FILE passes an archive by path).
compile() {
	debian_buildflags
	cflags=
	for word in $deb_cflags; do
		[ "$word" = -O2 ] || cflags="$cflags $word"
	done
	ldlibs=
	if [ -n "$libs" ]; then
		ldlibs="-Wl,$mayexec_archive $(printf '%s\n' "$libs" | sed "s|$mayexec_archive||")"
	fi
	step "make ($variant)" make -j2 all \
		BB_EXTRA_VERSION="Debian $version" \
		CONFIG_EXTRA_CFLAGS="$cflags $deb_cppflags $mayexec_cflags" \
		CONFIG_EXTRA_LDFLAGS="$cflags $deb_ldflags" \
		CONFIG_EXTRA_LDLIBS="$ldlibs" \
		V=1
}

install_to() {
	mkdir -p "$prefix/bin"
	install -m 0755 busybox "$prefix/bin/busybox"
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
