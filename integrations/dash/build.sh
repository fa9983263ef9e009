#!/bin/sh
# Builds dash from Debian's source, configured as Debian configures it, twice:
#
#     target/dash-stock/bin/dash      the stock build, the baseline
#     target/dash-mayexec/bin/dash    with mayexec.patch, libmayexec linked
#                                     statically
#
# (relative to the repository root). scripts/lib/integration.sh does what
# every integration does (the tools, Debian's source, the stamps, the
# patch, the checks, the cache; `--fetch`); this file says how dash is
# configured, compiled and installed. docs/dash.md: the steps in detail.
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
package=dash
program=bin/dash
has=src/main.c
# dpkg-dev: dpkg-source for `apt-get source`; patch; the C toolchain;
# autoconf/automake: Debian's own patches change configure.ac and
# Makefile.am, so the tree is regenerated as dh_autoreconf does.
tools="dpkg-dev patch gcc libc6-dev make autoconf automake pkg-config"
# The patch adds a file to src/Makefile.am: each tree from the source.
from=source

# The enlightened build's link only: what libmayexec.a adds to every start
# of the shell, made smaller (docs/performance.md, "Nothing in force"): its
# unused sections dropped, its symbols kept out of the dynamic symbol table,
# the relative relocations of its data packed (DT_RELR, glibc 2.36).
lean_link="-Wl,--gc-sections -Wl,--exclude-libs,libmayexec.a -Wl,-z,pack-relative-relocs"

# Debian's configure options, dpkg-buildflags with hardening=+all.
configure() {
	debian_buildflags
	step autoreconf autoreconf -fi
	step configure ./configure --prefix="$prefix" \
		--disable-fnmatch --disable-lineno --disable-glob \
		CFLAGS="$deb_cflags" \
		CPPFLAGS="$deb_cppflags $mayexec_cflags" \
		LDFLAGS="$deb_ldflags" \
		LIBS="$libs${libs:+ $lean_link}"
}

compile() {
	step make make -j2
}

install_to() {
	step "make install" make install-strip
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
