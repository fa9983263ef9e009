#!/bin/sh
# The build of an enlightened interpreter and of its stock twin from
# Debian's source, for integrations/PACKAGE/build.sh (the recipe), which
# sets what it needs, defines its steps and ends with
#
#     . "$root/scripts/lib/integration.sh"
#     integration_build "$@"
#
# The recipe sets (POSIX sh, after `set -eu`):
#   root     the repository's root
#   package  Debian's source package, the integration's directory name
#   program  what each build installs under its prefix (bin/dash)
#   has      files Debian's source must have (src/main.c)
#   tools    the Debian packages the build needs (installed when missing)
#   recipe_files  (optional) other files of the recipe, from the root,
#            that go into the builds (stamped by content)
#   from     where the enlightened tree starts: "source" (a fresh copy of
#            the source, patched, then built exactly as the stock one) or
#            "stock" (a copy of the built stock tree, patched and built
#            again: make compiles only what the patch changes)
# may define `prepare`, run before every build (even one up to date);
# `fetch_source`, which puts the source in $srcdir with its version in
# $srcdir/.complete, instead of `apt-get source PACKAGE` (run every time:
# it refreshes a source that changed); `check_build VARIANT PREFIX`, which
# checks a build instead of static_check/stock_check on PROGRAM; and
# defines three steps, each run in a subshell in the tree, with
# $variant (stock or mayexec), $tree, $prefix (to install into, empty; the
# installation is moved to its place, PREFIX without .new, when checked),
# $version (Debian's), $libs (empty for stock, libmayexec's static link
# for mayexec), $mayexec_cflags and $mayexec_archive set:
#   configure    configure the tree (from=stock's mayexec: adapt the copy)
#   compile      build it
#   install_to   install into $prefix
# The tools' output goes through `step` (build-common.sh) to the build log.
#
# Where (BUILDS is target/, or MAYEXEC_BUILDS=DIR for a scratch build):
#   BUILDS/PACKAGE-build/debian-src   Debian's source (its version in .complete)
#   BUILDS/PACKAGE-build/{stock,mayexec}   the build trees (upstream suites run there)
#   BUILDS/PACKAGE-build/build.log    the tools' output
#   BUILDS/PACKAGE-{stock,mayexec}/PROGRAM   the two builds
#
# What it does:
#   1. installs the tools (build_tools) and fetches Debian's source once
#      with `apt-get source PACKAGE` through a private apt configuration
#      (debian-source.sh), from the release's main archive alone when the
#      security mirror lists a newer source than it serves;
#   2. installs libmayexec for a static link (libmayexec_static);
#   3. stamps each build: the hash of everything that goes into its binary
#      (integration_inputs, kept in PACKAGE-build/VARIANT.inputs); a build
#      whose tree and installation carry its stamp is up to date;
#   4. for stock, then mayexec, when not up to date: restores it from the
#      cache of builds (build-cache.sh) if the cache has that stamp;
#      otherwise copies the tree, applies mayexec.patch (mayexec), runs the
#      recipe's steps, checks the binary (mayexec: static_check, libmayexec
#      linked in; stock: stock_check, none of it), writes the stamps and
#      stores the build in the cache.
# One build at a time per integration (an flock on PACKAGE-build/.lock).
#
# Usage: integrations/PACKAGE/build.sh [--fetch]
#   --fetch   only the tools and Debian's source (to fetch beside a compile)
# MAYEXEC_PREFIX=DIR links a finished `make install PREFIX=DIR` of
# libmayexec; MAYEXEC_BUILD_CACHE chooses the cache (build-cache.sh).

# shellcheck source=scripts/lib/build-common.sh
. "$root/scripts/lib/build-common.sh"
# shellcheck source=scripts/lib/debian-source.sh
. "$root/scripts/lib/debian-source.sh"
# shellcheck source=scripts/lib/build-cache.sh
. "$root/scripts/lib/build-cache.sh"

name="$package build"
builds=${MAYEXEC_BUILDS:-$root/target}
work=$builds/$package-build
srcdir=$work/debian-src
patchfile=$root/integrations/$package/mayexec.patch

# rel PATH: PATH from the repository's root, for messages.
rel() {
	printf '%s' "${1#"$root"/}"
}

# integration_fetch: Debian's source in $srcdir (once); sets version.
integration_fetch() {
	if type fetch_source >/dev/null 2>&1; then
		fetch_source
	elif [ ! -f "$srcdir/.complete" ]; then
		say "fetching Debian's $package source"
		if ! debian_source "$package" "$work" "$srcdir"; then
			_codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
			say "retrying from Debian $_codename's main archive alone"
			debian_source_suite "$package" "$_codename" "$work" "$srcdir" ||
				die "could not fetch Debian's $package source"
		fi
		for _f in $has; do
			[ -e "$srcdir/$_f" ] || die "Debian's $package source in $srcdir has no $_f"
		done
		(cd "$srcdir" && dpkg-parsechangelog -S Version) >"$srcdir/.version"
		mv "$srcdir/.version" "$srcdir/.complete"
	fi
	version=$(cat "$srcdir/.complete")
	say "Debian $package $version (source in $(rel "$srcdir"))"
}

# integration_inputs VARIANT: everything that goes into VARIANT's binary,
# a line each: where it is built (the trees hold absolute paths), Debian's
# version, the recipe and every shared helper (by content), the compiler,
# the linker and the build packages' versions, the variables
# dpkg-buildflags and the compiler read; for mayexec also the patch,
# libmayexec.a and mayexec.h (by content) and the link's flags. A command
# here that fails fails the build (only the environment's filter may find
# nothing).
integration_inputs() {
	printf 'integration %s %s in %s (repository %s)\n' "$package" "$1" "$builds" "$root"
	printf 'debian %s\n' "$version"
	dpkg-architecture -qDEB_HOST_GNU_TYPE
	# shellcheck disable=SC2086 # a word per file
	(cd "$root" && sha256sum "integrations/$package/build.sh" scripts/lib/integration.sh \
		scripts/lib/build-common.sh scripts/lib/debian-source.sh scripts/lib/build-cache.sh \
		${recipe_files:-})
	gcc --version
	ld --version
	# shellcheck disable=SC2086 # one word per package
	dpkg-query -W -f='package ${Package} ${Version}\n' $tools
	env | grep -E '^(DEB_[A-Z_]*|CC|CFLAGS|CPPFLAGS|LDFLAGS|LIBS)=' | LC_ALL=C sort
	if [ "$1" = mayexec ]; then
		(cd "$root" && sha256sum "integrations/$package/mayexec.patch")
		sha256sum "$mayexec_archive" "$(pkg-config --variable=includedir mayexec)/mayexec.h"
		printf 'cflags %s\nlibs %s\n' "$mayexec_cflags" "$mayexec_libs"
	fi
}

# integration_stamp VARIANT: prints VARIANT's stamp.
integration_stamp() {
	integration_inputs "$1" >"$work/$1.inputs"
	sha256sum <"$work/$1.inputs" | cut -c1-64
}

# integration_current VARIANT STAMP [PREFIX]: VARIANT's tree and its
# installation (in PREFIX, by default where it goes) carry STAMP.
integration_current() {
	_prefix=${3:-$builds/$package-$1}
	[ -x "$_prefix/$program" ] &&
		[ "$(cat "$_prefix/.stamp" 2>/dev/null)" = "$2" ] &&
		[ "$(cat "$work/$1/.stamp" 2>/dev/null)" = "$2" ]
}

# integration_check VARIANT PREFIX: the binary in PREFIX is what VARIANT
# must be.
integration_check() {
	if type check_build >/dev/null 2>&1; then
		check_build "$1" "$2"
	elif [ "$1" = mayexec ]; then
		static_check "$2/$program"
	else
		stock_check "$2/$program"
	fi
}

# integration_variant VARIANT STAMP: VARIANT up to date, restored or built.
# It is installed next to its place ($prefix is PLACE.new) and moved there
# when finished: a test that runs meanwhile finds the previous build.
integration_variant() {
	variant=$1
	tree=$work/$variant
	final=$builds/$package-$variant
	prefix=$final.new
	if integration_current "$variant" "$2"; then
		return 0
	fi
	rm -rf "$prefix"
	if cache_restore "$package-$variant" "$2" "$tree" "$prefix"; then
		if integration_current "$variant" "$2" "$prefix" && (integration_check "$variant" "$prefix"); then
			rm -rf "$final"
			mv "$prefix" "$final"
			say "restored $(rel "$final")/$program from the build cache"
			return 0
		fi
		cache_drop "$package-$variant" "$2"
	fi
	rm -rf "$tree" "$prefix"
	if [ "$variant" = mayexec ] && [ "$from" = stock ]; then
		say "copying the stock build tree"
		cp -a --reflink=auto "$work/stock" "$tree"
	else
		cp -a "$srcdir" "$tree"
	fi
	rm -f "$tree/.complete" "$tree/.stamp"
	libs=
	if [ "$variant" = mayexec ]; then
		say "applying $(basename "$patchfile")"
		patch -d "$tree" -p1 --no-backup-if-mismatch --forward --batch --quiet <"$patchfile" ||
			die "$(basename "$patchfile") does not apply to Debian $package $version"
		libs=$mayexec_libs
	fi
	say "configuring the $variant build"
	(
		cd "$tree"
		configure
	)
	say "compiling the $variant build"
	(
		cd "$tree"
		compile
	)
	mkdir -p "$prefix"
	(
		cd "$tree"
		install_to
	)
	integration_check "$variant" "$prefix"
	printf '%s\n' "$2" >"$tree/.stamp"
	printf '%s\n' "$2" >"$prefix/.stamp"
	cache_store "$package-$variant" "$2" "$tree" "$prefix"
	rm -rf "$final"
	mv "$prefix" "$final"
	_what="Debian $package $version"
	[ "$variant" = stock ] || _what="$_what + $(basename "$patchfile")"
	say "installed $(rel "$final")/$program ($_what)"
}

# integration_build [--fetch]: the whole build (see above).
integration_build() {
	case $#:${1:-} in
	0:) fetch_only=false ;;
	1:--fetch) fetch_only=true ;;
	*)
		echo "usage: $0 [--fetch]" >&2
		exit 2
		;;
	esac
	# The builds depend on nobody's working directory (dpkg-buildflags'
	# -ffile-prefix-map names it) nor on a calling make's flags.
	cd "$root"
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || :
	started=$(date +%s)
	build_lock "$work"
	# shellcheck disable=SC2086 # one word per package
	build_tools $tools
	integration_fetch
	! $fetch_only || return 0
	libmayexec_static
	# The recipe's own preparation, if it has one (wine: marked DLLs).
	if type prepare >/dev/null 2>&1; then
		prepare
	fi
	stock_stamp=$(integration_stamp stock)
	mayexec_stamp=$(integration_stamp mayexec)
	if integration_current stock "$stock_stamp" && integration_current mayexec "$mayexec_stamp"; then
		say "up to date: $(rel "$builds")/$package-stock/$program, $(rel "$builds")/$package-mayexec/$program"
		return 0
	fi
	step_log "$work/build.log"
	integration_variant stock "$stock_stamp"
	integration_variant mayexec "$mayexec_stamp"
	say "done in $(($(date +%s) - started)) s"
}
