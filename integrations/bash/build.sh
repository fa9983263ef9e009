#!/bin/sh
# Builds the enlightened bash: Debian's bash source with mayexec.patch,
# linked statically against libmayexec, installed at
#
#     target/bash-mayexec/bin/bash        (relative to the repository root)
#
# and, with --stock, also bash from the same source without the patch
# (same options and flags), for comparing bash's own test suite:
#
#     target/bash-stock/bin/bash
#
# Each tree keeps its build directory (target/bash-build/{mayexec,stock}),
# where `make check` runs bash's own tests (integrations/bash/suite.sh).
#
# Steps (each skipped when its result is already there, so a second run is
# quick and changes nothing):
#   1. install the build tools with apt-get when missing (dpkg-dev for
#      `apt-get source`, a C toolchain, bison and libncurses-dev, as
#      Debian's Build-Depends name them, pkg-config);
#   2. fetch Debian's bash source with `apt-get source bash`, through a
#      private apt configuration under target/bash-build/apt
#      (integrations/debian-source.sh, shared by every integration);
#   3. install libmayexec with `make install PREFIX=target/libmayexec`
#      (or use MAYEXEC_PREFIX=DIR, a finished `make install PREFIX=DIR`);
#   4. apply mayexec.patch to a fresh copy of the source, configure it the
#      way debian/rules does (the same configure options, dpkg-buildflags
#      with hardening=+all and -Wall, bison -y, -ltinfo), link
#      libmayexec.a (`pkg-config --static`), install the shell and the
#      example loadable builtins.
#
# Runs as root on a fresh Debian machine without a terminal (CI); as
# another user it works when the tools are already installed.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$root/target/bash-build
patchfile=$here/mayexec.patch
name="bash build"
. "$root/scripts/lib/debian-source.sh"
. "$root/scripts/lib/build-common.sh"

stock=no
case ${1:-} in
--stock) stock=yes ;;
"") ;;
*)
	echo "usage: $0 [--stock]" >&2
	exit 2
	;;
esac

started=$(date +%s)
# One build at a time (tests or CI steps may start it concurrently).
build_lock "$work"

# --- 1. build tools -----------------------------------------------------

# dpkg-dev: dpkg-source for `apt-get source` and dpkg-buildflags; patch;
# the C toolchain; bison (Debian's patches touch parse.y) and
# libncurses-dev (-ltinfo), from Debian's Build-Depends.
build_tools dpkg-dev patch gcc libc6-dev make bison libncurses-dev pkg-config

# --- 2. Debian's bash source, cached under target/ -------------------------

srcdir=$work/debian-src
if [ ! -f "$srcdir/.complete" ]; then
	say "fetching Debian's bash source"
	debian_source bash "$work" "$srcdir" || die "could not fetch Debian's bash source"
	[ -f "$srcdir/shell.c" ] || die "Debian's bash source in $srcdir has no shell.c"
	(cd "$srcdir" && dpkg-parsechangelog -S Version) >"$srcdir/.version"
	mv "$srcdir/.version" "$srcdir/.complete"
fi
version=$(cat "$srcdir/.complete")
say "Debian bash $version (source in ${srcdir#"$root"/})"

# --- 3. libmayexec ---------------------------------------------------------

libmayexec_static

# --- 4. patch, configure, build, install ------------------------------------

# The tools' output goes to a log, shown when a step fails.
step_log "$work/build.log"

# debian/rules: dpkg-buildflags with hardening=+all and -Wall appended.
flags() {
	DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_CFLAGS_MAINT_APPEND=-Wall dpkg-buildflags --get "$1"
}

# build VARIANT PATCH|- : Debian's bash (+ PATCH) into target/bash-VARIANT.
build() {
	variant=$1
	patch=$2
	prefix=$root/target/bash-$variant
	tree=$work/$variant
	if [ "$patch" = - ]; then
		stamp=$(cat "$here/build.sh" | sha256sum | cut -d' ' -f1)-$version
	else
		stamp=$(cat "$patch" "$here/build.sh" "$mayexec_archive" | sha256sum | cut -d' ' -f1)-$version
	fi
	if [ -x "$prefix/bin/bash" ] && [ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ]; then
		say "up to date: ${prefix#"$root"/}/bin/bash"
		return 0
	fi

	rm -rf "$tree"
	cp -a "$srcdir" "$tree"
	rm -f "$tree/.complete"
	cppflags=$(flags CPPFLAGS)
	extralibs=
	if [ "$patch" != - ]; then
		say "applying $(basename "$patch")"
		patch -d "$tree" -p1 --no-backup-if-mismatch --forward --batch --quiet <"$patch" ||
			die "$(basename "$patch") does not apply to Debian bash $version"
		cppflags="$cppflags $mayexec_cflags"
		extralibs=$mayexec_libs
	fi

	# --prefix=/usr, as debian/rules has it: the paths compiled in (the
	# locale directory bash reads its message formats from, bashdb's) must
	# be the system's, never the build tree's, which the installed
	# package would otherwise trust. The shell is installed by hand below.
	say "configuring $variant (Debian's configure options)"
	step configure sh -c 'cd "$1" && shift && ./configure "$@"' sh "$tree" \
		--enable-largefile \
		--prefix=/usr \
		--without-bash-malloc \
		--build "$(dpkg-architecture -qDEB_HOST_GNU_TYPE)" \
		CFLAGS="$(flags CFLAGS)" \
		CPPFLAGS="$cppflags" \
		LDFLAGS="$(flags LDFLAGS)" \
		LIBS="$extralibs"

	say "compiling $variant"
	step make make -C "$tree" -j2 YACC="bison -y" TERMCAP_LIB=-ltinfo
	step "make loadables" make -C "$tree/examples/loadables" -j2
	rm -rf "$prefix"
	mkdir -p "$prefix/bin" "$prefix/lib/bash"
	install -m 0755 -s "$tree/bash" "$prefix/bin/bash"
	# The example loadable builtins (Debian's bash-builtins), for `enable -f`.
	for o in "$tree"/examples/loadables/*.o; do
		f=${o%.o}
		[ -f "$f" ] || continue
		install -m 0755 "$f" "$prefix/lib/bash/"
	done
	printf '%s\n' "$stamp" >"$prefix/.stamp"
	say "installed ${prefix#"$root"/}/bin/bash (Debian bash $version${3:+ + $3})"
}

build mayexec "$patchfile" "$(basename "$patchfile")"
static_check "$root/target/bash-mayexec/bin/bash"

[ "$stock" = no ] || build stock -

say "done in $(($(date +%s) - started)) s"
