#!/bin/sh
# Builds bash from Debian's source, configured as debian/rules configures
# it, twice:
#
#     target/bash-stock/bin/bash      the stock build, the baseline
#     target/bash-mayexec/bin/bash    with mayexec.patch, libmayexec linked
#                                     statically
#
# each with the example loadable builtins (Debian's bash-builtins) in
# PREFIX/lib/bash/, for `enable -f`. The build trees stay in
# target/bash-build/{stock,mayexec}, where bash's own tests run
# (integrations/bash/suite.sh). scripts/lib/integration.sh does what every
# integration does (the tools, Debian's source, the stamps, the patch, the
# checks, the cache; `--fetch`); this file says how bash is configured,
# compiled and installed. docs/bash.md: the steps in detail.
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
package=bash
program=bin/bash
has=shell.c
# dpkg-dev: dpkg-source for `apt-get source` and dpkg-buildflags; patch;
# the C toolchain; bison (Debian's patches touch parse.y) and
# libncurses-dev (-ltinfo), from Debian's Build-Depends.
tools="dpkg-dev patch gcc libc6-dev make bison libncurses-dev pkg-config"
# The patch adds a file to Makefile.in: each tree from the source.
from=source

# debian/rules: dpkg-buildflags with hardening=+all and -Wall appended.
flags() {
	DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_CFLAGS_MAINT_APPEND=-Wall dpkg-buildflags --get "$1"
}

# The enlightened build's link only: what libmayexec.a adds to every start
# of the shell, made smaller (docs/performance.md, "Nothing in force"): its
# unused sections dropped, its symbols kept out of the dynamic symbol table,
# the relative relocations of its data packed (DT_RELR, glibc 2.36).
lean_link="-Wl,--gc-sections -Wl,--exclude-libs,libmayexec.a -Wl,-z,pack-relative-relocs"

# Debian's configure options. --prefix=/usr, as debian/rules has it: the
# paths compiled in (the locale directory bash reads its message formats
# from, bashdb's) must be the system's, never the build tree's, which the
# installed package would otherwise trust. install_to installs by hand.
configure() {
	step configure ./configure \
		--enable-largefile \
		--prefix=/usr \
		--without-bash-malloc \
		--build "$(dpkg-architecture -qDEB_HOST_GNU_TYPE)" \
		CFLAGS="$(flags CFLAGS)" \
		CPPFLAGS="$(flags CPPFLAGS) $mayexec_cflags" \
		LDFLAGS="$(flags LDFLAGS)" \
		LIBS="$libs${libs:+ $lean_link}"
}

compile() {
	step make make -j2 YACC="bison -y" TERMCAP_LIB=-ltinfo
	step "make loadables" make -C examples/loadables -j2
}

install_to() {
	mkdir -p "$prefix/bin" "$prefix/lib/bash"
	install -m 0755 -s bash "$prefix/bin/bash"
	for o in examples/loadables/*.o; do
		f=${o%.o}
		[ -f "$f" ] || continue
		install -m 0755 "$f" "$prefix/lib/bash/"
	done
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
