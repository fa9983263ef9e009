#!/bin/sh
# Builds the enlightened perl: Debian's perl source with mayexec.patch,
# configured exactly as Debian configures its /usr/bin/perl (the "static"
# flavour of debian/config.debian: libperl linked into the binary, the
# system's @INC, its XS modules), libmayexec linked statically, installed at
#
#     target/perl-mayexec/bin/perl        (relative to the repository root)
#
# and perl from the same source without the patch, for comparing perl's own
# tests (integrations/perl/suite.sh) and the benchmarks:
#
#     target/perl-stock/bin/perl
#
# Neither is installed into /usr: both are drop-ins for /usr/bin/perl that
# use the system's library (/usr/share/perl/5.36, the XS modules under
# /usr/lib/x86_64-linux-gnu/perl/5.36 …).
#
# Steps (each skipped when its result is already there, so a second run is
# quick and changes nothing):
#   1. install the build tools with apt-get when missing (dpkg-dev, the C
#      toolchain, and the libraries of Debian's Build-Depends that the core
#      extensions need: libdb-dev, libgdbm-dev, libgdbm-compat-dev,
#      zlib1g-dev, libbz2-dev; netbase and procps for the core tests);
#   2. fetch Debian's perl source with `apt-get source perl`, through a
#      private apt configuration under target/perl-build/apt
#      (integrations/debian-source.sh, shared by every integration);
#   3. install libmayexec with `make install PREFIX=target/libmayexec`
#      (or use MAYEXEC_PREFIX=DIR, a finished `make install PREFIX=DIR`);
#   4. stock: configure a copy of the source with `debian/config.debian
#      --static`, Debian's own script (its Configure options, dpkg-buildflags,
#      the build date and patch list perl -V shows), and `make` it all (the
#      binary, the extensions and the library perl's tests need);
#   5. enlightened: a copy of the built stock tree, mayexec.patch applied,
#      `make` again: only the patched files recompile (perl.c, toke.c,
#      pp_ctl.c, DynaLoader), libmayexec.a's members are added to
#      libperl.a, and perl links libmayexec.a (`pkg-config --static`).
#
# The build trees stay in target/perl-build/{stock,mayexec}/build-static,
# where suite.sh runs perl's own tests.
#
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/perl-build
patchfile=$here/mayexec.patch
name="perl build"
. "$root/scripts/lib/debian-source.sh"
. "$root/scripts/lib/build-common.sh"

case ${1:-} in
"" | --stock) ;; # the stock perl is always built: the enlightened one starts from it
*)
	echo "usage: $0 [--stock]" >&2
	exit 2
	;;
esac

started=$(date +%s)
# One build at a time (tests or CI steps may start it concurrently).
build_lock "$work"

# --- 1. build tools -----------------------------------------------------

# dpkg-dev: dpkg-source for `apt-get source`, dpkg-buildflags and
# dpkg-architecture (debian/config.debian); patch; the C toolchain; the
# libraries of Debian's Build-Depends (config.over refuses a perl without
# Berkeley DB); netbase and procps: the core tests read /etc/protocols and
# run ps.
build_tools dpkg-dev patch gcc libc6-dev make pkg-config file cpio \
	libdb-dev libgdbm-dev libgdbm-compat-dev zlib1g-dev libbz2-dev netbase procps

# --- 2. Debian's perl source, cached under target/ ---------------------------

srcdir=$work/debian-src
if [ ! -f "$srcdir/.complete" ]; then
	say "fetching Debian's perl source"
	if ! debian_source perl "$work" "$srcdir"; then
		# A mirror of the release's security archive may list a newer
		# source than it serves: then the release's own archive.
		codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
		say "retrying from Debian $codename's main archive alone"
		debian_source_suite perl "$codename" "$work" "$srcdir" ||
			die "could not fetch Debian's perl source"
	fi
	[ -f "$srcdir/perl.c" ] && [ -f "$srcdir/debian/config.debian" ] ||
		die "Debian's perl source in $srcdir has no perl.c or debian/config.debian"
	(cd "$srcdir" && dpkg-parsechangelog -S Version) >"$srcdir/.version"
	mv "$srcdir/.version" "$srcdir/.complete"
fi
version=$(cat "$srcdir/.complete")
say "Debian perl $version (source in ${srcdir#"$root"/})"

# --- 3. libmayexec ---------------------------------------------------------

libmayexec_static

# --- 4. and 5. configure, build, install -------------------------------------

# The tools' output goes to a log, shown when a step fails.
step_log "$work/build.log"

# Debian's build environment (debian/rules): the system's zlib and bzip2
# for Compress-Raw-*, no tests upstream marks as useless for packagers.
BUILD_ZLIB=False ZLIB_INCLUDE=/usr/include ZLIB_LIB=/usr/lib
BUILD_BZIP2=0 BZIP2_INCLUDE=/usr/include BZIP2_LIB=/usr/lib
PERL_BUILD_PACKAGING=1
export BUILD_ZLIB ZLIB_INCLUDE ZLIB_LIB BUILD_BZIP2 BZIP2_INCLUDE BZIP2_LIB PERL_BUILD_PACKAGING
# debian/rules sets no hardening options: plain dpkg-buildflags.
unset DEB_BUILD_MAINT_OPTIONS DEB_CFLAGS_MAINT_APPEND || true

install_perl() {
	rm -rf "$1"
	mkdir -p "$1/bin"
	install -m 0755 -s "$2/build-static/perl" "$1/bin/perl"
}

# The stock perl: Debian's own configuration script, then make.
stock_prefix=$root/target/perl-stock
stock_tree=$work/stock
# The stock recipe's own version (bump it when the steps below change):
# rebuilding stock perl takes minutes, and editing the enlightened steps
# must not cost them.
stock_recipe=1
stock_stamp=debian-config-static-$stock_recipe-$version
if [ -x "$stock_prefix/bin/perl" ] && [ "$(cat "$stock_prefix/.stamp" 2>/dev/null)" = "$stock_stamp" ]; then
	say "up to date: ${stock_prefix#"$root"/}/bin/perl"
else
	rm -rf "$stock_tree" "$work/mayexec"
	cp -a "$srcdir" "$stock_tree"
	rm -f "$stock_tree/.complete"
	# debian/rules: the patch list perl -V shows, in patchlevel-debian.h.
	(cd "$stock_tree" &&
		debian/gen-patchlevel -p DEBPKG: -v "$version" debian/patches/series >patchlevel-debian.h &&
		touch --date="@$(debian/gen-patchlevel -d)" patchlevel.h) ||
		die "debian/gen-patchlevel failed"
	say "configuring stock perl (debian/config.debian --static)"
	step configure sh -c 'cd "$1" && bash debian/config.debian --static' sh "$stock_tree"
	ln -s ../patchlevel-debian.h "$stock_tree/build-static/patchlevel-debian.h"
	say "compiling stock perl (the binary, the extensions, the library)"
	step make make -C "$stock_tree/build-static" -j2
	install_perl "$stock_prefix" "$stock_tree"
	printf '%s\n' "$stock_stamp" >"$stock_prefix/.stamp"
	say "installed ${stock_prefix#"$root"/}/bin/perl (Debian perl $version)"
fi

# The enlightened perl: the stock tree, patched and made again.
prefix=$root/target/perl-mayexec
tree=$work/mayexec
stamp=$(cat "$patchfile" "$here/build.sh" "$mayexec_archive" | sha256sum | cut -d' ' -f1)-$version
if [ -x "$prefix/bin/perl" ] && [ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ]; then
	say "up to date: ${prefix#"$root"/}/bin/perl"
else
	rm -rf "$tree"
	say "copying the stock build tree"
	cp -a --reflink=auto "$stock_tree" "$tree"
	# Configure's -Dmksymlinks made build-static of links to the source by
	# absolute path: point them at this copy's source.
	(cd "$tree/build-static" && find . -type l -lname "$stock_tree/*" -print0 |
		FROM=$stock_tree TO=$tree /usr/bin/perl -0 -ne '
			chomp;
			my $to = readlink $_;
			$to =~ s{^\Q$ENV{FROM}\E/}{$ENV{TO}/};
			unlink $_ and symlink $to, $_ or die "$_: $!\n";') ||
		die "could not relink the copied build tree"
	say "applying $(basename "$patchfile")"
	patch -d "$tree" -p1 --no-backup-if-mismatch --forward --batch --quiet <"$patchfile" ||
		die "$(basename "$patchfile") does not apply to Debian perl $version"
	ln -s "$tree/execcheck.h" "$tree/build-static/execcheck.h"
	# libmayexec's header next to perl's own (perl.c, pp_ctl.c and
	# DynaLoader include it), its archive on perl's link line.
	cp "$(pkg-config --variable=includedir mayexec)/mayexec.h" "$tree/build-static/mayexec.h"
	libs="$(sed -n 's/^libs = //p' "$tree/build-static/Makefile") $mayexec_libs"
	say "compiling mayexec (the patched files)"
	step "make libperl.a" make -C "$tree/build-static" -j2 libs="$libs" libperl.a
	# libperl.a now needs libmayexec: put it inside, so that whatever links
	# libperl.a with perl's own options (ExtUtils::Embed, its core test)
	# links as with stock perl.
	printf 'OPEN libperl.a\nADDLIB %s\nSAVE\nEND\n' "$mayexec_archive" >"$work/libperl.mri"
	step "ar libmayexec.a into libperl.a" sh -c 'cd "$1" && ar -M <"$2"' sh "$tree/build-static" "$work/libperl.mri"
	step make make -C "$tree/build-static" -j2 libs="$libs"
	install_perl "$prefix" "$tree"
	printf '%s\n' "$stamp" >"$prefix/.stamp"
	say "installed ${prefix#"$root"/}/bin/perl (Debian perl $version + $(basename "$patchfile"))"
fi
static_check "$prefix/bin/perl"

say "done in $(($(date +%s) - started)) s"
