#!/bin/sh
# Builds perl from Debian's source, configured exactly as Debian configures
# its /usr/bin/perl (the "static" flavour of debian/config.debian: libperl
# linked into the binary, the system's @INC, its XS modules), twice:
#
#     target/perl-stock/bin/perl      the stock build, the baseline
#     target/perl-mayexec/bin/perl    with mayexec.patch, libmayexec linked
#                                     statically
#
# Neither is installed into /usr: both are drop-ins for /usr/bin/perl that
# use the system's library (/usr/share/perl/5.36, the XS modules under
# /usr/lib/x86_64-linux-gnu/perl/5.36 …). The enlightened tree is a copy of
# the built stock one, patched: the patch changes proto.h and embed.h,
# so perl's sources and extensions compile again (Configure does not run
# again). The build trees stay in
# target/perl-build/{stock,mayexec}/build-static, where perl's own tests
# run (integrations/perl/suite.sh). scripts/lib/integration.sh does what
# every integration does (the tools, Debian's source, the stamps, the
# patch, the checks, the cache; `--fetch`); this file says how perl is
# configured, compiled and installed. docs/perl.md: the steps in detail.
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
package=perl
program=bin/perl
has="perl.c debian/config.debian"
# dpkg-dev: dpkg-source for `apt-get source`, dpkg-buildflags and
# dpkg-architecture (debian/config.debian); patch; the C toolchain; the
# libraries of Debian's Build-Depends (config.over refuses a perl without
# Berkeley DB); netbase and procps: the core tests read /etc/protocols and
# run ps.
tools="dpkg-dev patch gcc libc6-dev make pkg-config file cpio
	libdb-dev libgdbm-dev libgdbm-compat-dev zlib1g-dev libbz2-dev netbase procps"
from=stock

# Debian's build environment (debian/rules): the system's zlib and bzip2
# for Compress-Raw-*, no tests upstream marks as useless for packagers.
BUILD_ZLIB=False ZLIB_INCLUDE=/usr/include ZLIB_LIB=/usr/lib
BUILD_BZIP2=0 BZIP2_INCLUDE=/usr/include BZIP2_LIB=/usr/lib
PERL_BUILD_PACKAGING=1
export BUILD_ZLIB ZLIB_INCLUDE ZLIB_LIB BUILD_BZIP2 BZIP2_INCLUDE BZIP2_LIB PERL_BUILD_PACKAGING
# debian/rules sets no hardening options: plain dpkg-buildflags.
unset DEB_BUILD_MAINT_OPTIONS DEB_CFLAGS_MAINT_APPEND || true

# stock: Debian's patch list in patchlevel-debian.h (perl -V shows it),
# then Debian's own configuration script, debian/config.debian --static
# (its Configure options, dpkg-buildflags, the build date).
# mayexec: Configure's -Dmksymlinks made build-static of links to the
# source by absolute path: they are pointed at this copy's source; then
# libmayexec's header next to perl's own (perl.c includes it).
configure() {
	if [ "$variant" = stock ]; then
		{ debian/gen-patchlevel -p DEBPKG: -v "$version" debian/patches/series >patchlevel-debian.h &&
			touch --date="@$(debian/gen-patchlevel -d)" patchlevel.h; } ||
			die "debian/gen-patchlevel failed"
		step configure bash debian/config.debian --static
		ln -s ../patchlevel-debian.h build-static/patchlevel-debian.h
		return 0
	fi
	(cd build-static && find . -type l -lname "$work/stock/*" -print0 |
		FROM=$work/stock TO=$tree /usr/bin/perl -0 -ne '
			chomp;
			my $to = readlink $_;
			$to =~ s{^\Q$ENV{FROM}\E/}{$ENV{TO}/};
			unlink $_ and symlink $to, $_ or die "$_: $!\n";') ||
		die "could not relink the copied build tree"
	cp "$(pkg-config --variable=includedir mayexec)/mayexec.h" build-static/mayexec.h
}

# stock: make (the binary, the extensions, the library perl's tests need).
# mayexec: make again with libmayexec.a on perl's link; its members are
# also added to libperl.a, so that whatever links libperl.a with perl's own
# options (ExtUtils::Embed, its core test) links as with stock perl.
compile() {
	if [ "$variant" = stock ]; then
		step make make -C build-static -j2
		return 0
	fi
	perl_libs="$(sed -n 's/^libs = //p' build-static/Makefile) $libs"
	step "make libperl.a" make -C build-static -j2 libs="$perl_libs" libperl.a
	printf 'OPEN libperl.a\nADDLIB %s\nSAVE\nEND\n' "$mayexec_archive" >"$work/libperl.mri"
	step "ar libmayexec.a into libperl.a" sh -c 'cd build-static && ar -M <"$1"' sh "$work/libperl.mri"
	step make make -C build-static -j2 libs="$perl_libs"
}

install_to() {
	mkdir -p "$prefix/bin"
	install -m 0755 -s build-static/perl "$prefix/bin/perl"
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
