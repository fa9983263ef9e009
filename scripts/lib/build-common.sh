#!/bin/sh
# Shared by the integrations' build scripts (sourced, POSIX sh, after
# `set -eu`): messages, the build lock, the build tools, libmayexec
# installed for a static link, Debian's build flags and a logged step.
# The caller sets `name` (how messages start, e.g. "dash build") and
# `root` (the repository's root) before calling these.

say() {
	printf '%s: %s\n' "$name" "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

# build_lock DIR
# One build at a time in DIR (tests or CI steps may start it
# concurrently): holds an flock on DIR/.lock until the script ends.
build_lock() {
	mkdir -p "$1"
	exec 9>"$1/.lock"
	flock 9
}

# build_tools PACKAGE...
# Installs the Debian packages that are missing with apt-get (as root; CI
# runs on a fresh machine without a terminal). As another user, missing
# packages are an error that names them.
build_tools() {
	_missing=
	for _p in "$@"; do
		if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$_p" 2>/dev/null)" != "ii " ]; then
			_missing="$_missing $_p"
		fi
	done
	if [ -n "$_missing" ]; then
		[ "$(id -u)" = 0 ] || die "missing packages:$_missing (run this script as root, or install them)"
		say "installing:$_missing"
		# One apt-get at a time: builds may fetch side by side.
		_lock=/run/lock
		[ -d "$_lock" ] || _lock=/tmp
		# shellcheck disable=SC2086 # one word per package
		(
			flock 8
			apt-get update -q >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $_missing >&2
		) 8>"$_lock/mayexec-build-tools.lock" || die "could not install$_missing"
	fi
}

# libmayexec_static
# Installs libmayexec with `make install PREFIX=target/libmayexec` (or uses
# MAYEXEC_PREFIX=DIR, a finished `make install PREFIX=DIR`), points
# PKG_CONFIG_PATH at it and sets:
#   mayexec_archive  the path of libmayexec.a;
#   mayexec_cflags   `pkg-config --cflags mayexec`;
#   mayexec_libs     the static link: libmayexec.a by path (a plain
#                    -lmayexec would pick the shared library next to it),
#                    then what it needs from the system. Rust's unwinder
#                    comes from libgcc_eh.a rather than libgcc_s.so: it is
#                    never used (panic = "abort"), and loading libgcc_s.so
#                    costs every start of the interpreter its CPU probe
#                    (cpuid; about 0.5 ms in a virtual machine).
libmayexec_static() {
	command -v cargo >/dev/null || die "cargo is needed to build libmayexec"
	if [ -n "${MAYEXEC_PREFIX:-}" ]; then
		_prefix=$MAYEXEC_PREFIX
	else
		_prefix=$root/target/libmayexec
		[ -f "$root/Makefile" ] || die "no Makefile at $root to install libmayexec (or set MAYEXEC_PREFIX)"
		say "installing libmayexec into ${_prefix#"$root"/}"
		make -C "$root" -s install PREFIX="$_prefix" >&2
	fi
	PKG_CONFIG_PATH="$_prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
	export PKG_CONFIG_PATH
	pkg-config --exists mayexec || die "no mayexec.pc in $_prefix/lib/pkgconfig"
	mayexec_archive=$(pkg-config --variable=libdir mayexec)/libmayexec.a
	[ -f "$mayexec_archive" ] || die "$mayexec_archive is missing"
	mayexec_cflags=$(pkg-config --cflags mayexec)
	mayexec_libs=
	for _word in $(pkg-config --static --libs mayexec); do
		case $_word in
		-lmayexec) mayexec_libs="$mayexec_libs $mayexec_archive" ;;
		-lgcc_s) mayexec_libs="$mayexec_libs -lgcc_eh" ;;
		-L*) ;;
		*) mayexec_libs="$mayexec_libs $_word" ;;
		esac
	done
	case $mayexec_libs in
	*"$mayexec_archive"*) ;;
	*) die "pkg-config --static --libs mayexec does not name -lmayexec" ;;
	esac
}

# debian_buildflags
# Debian's build flags with hardening=+all, as the packages' debian/rules
# ask: sets deb_cflags, deb_cppflags and deb_ldflags. Asked in the
# repository's root: its -ffile-prefix-map names the directory it runs in,
# and two trees (stock, and its patched copy) must get the same flags, or
# make compiles the copy all again.
debian_buildflags() {
	DEB_BUILD_MAINT_OPTIONS=hardening=+all
	export DEB_BUILD_MAINT_OPTIONS
	deb_cflags=$(cd "$root" && dpkg-buildflags --get CFLAGS)
	deb_cppflags=$(cd "$root" && dpkg-buildflags --get CPPFLAGS)
	deb_ldflags=$(cd "$root" && dpkg-buildflags --get LDFLAGS)
}

# step_log FILE
# Where `step` writes the tools' output (emptied here).
step_log() {
	build_log=$1
	: >"$build_log"
}

# step WHAT COMMAND...
# Runs COMMAND with its output in the step log; on failure shows the log's
# end and stops the build.
step() {
	_what=$1
	shift
	if ! "$@" >>"$build_log" 2>&1; then
		tail -n 40 "$build_log" >&2
		die "$_what failed (full log: $build_log)"
	fi
}

# no_build_paths BINARY
# No path of the build tree (the repository, or MAYEXEC_BUILDS) may be
# compiled into BINARY: a package would trust it.
no_build_paths() {
	for _dir in "$root" ${builds:+"$builds"}; do
		if grep -qF "$_dir/" "$1"; then
			die "$1 has paths of the build tree ($_dir) compiled in"
		fi
	done
}

# static_check BINARY
# libmayexec must be inside BINARY, not a run-time dependency; and no path
# of the build tree may be compiled into it.
static_check() {
	no_build_paths "$1"
	if readelf -d "$1" | grep -Eq 'NEEDED.*(libmayexec|libgcc_s)'; then
		die "$1 links libmayexec or libgcc_s dynamically"
	fi
	grep -q 'script execution denied' "$1" ||
		die "$1 does not contain libmayexec"
}

# stock_check BINARY
# A stock build has nothing of libmayexec, and no path of the build tree.
stock_check() {
	[ -x "$1" ] || die "$1 is missing"
	no_build_paths "$1"
	if grep -q 'script execution denied' "$1"; then
		die "$1 is a stock build but contains libmayexec"
	fi
}
