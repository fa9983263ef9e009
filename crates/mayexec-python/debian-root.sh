#!/bin/sh
# Runs a command in a Debian root that has CPython 3.X with its shared
# library, its internal headers and its test suite, for a version this
# machine cannot provide itself:
#
#     sh crates/mayexec-python/debian-root.sh 3.14 COMMAND [ARG...]
#     sh crates/mayexec-python/debian-root.sh 3.14 --root-only
#                                  (only make the cached root: .ci/run does
#                                  it beside the compiles)
#
# Why a root: on this machine there is no CPython 3.14 to embed. pyenv has
# none; its source cannot be fetched (python.org, GitHub archives and
# snapshot.debian.org are unreachable, and the source files of sid's
# python3.14 answer 404 on deb.debian.org), so cpython-build.sh cannot build
# it. Debian sid's binary packages can be downloaded, but they need a newer
# glibc than this Debian 12 has. So they are installed, with a C compiler,
# into a sid root made with mmdebstrap (scripts/lib/debian-source.sh's
# debian_root, shared with packaging/test-deb.sh) and cached as a tarball
# under /var/cache/mayexec (MAYEXEC_CACHE).
#
# Each run unpacks a fresh copy under /var/tmp and runs COMMAND in it with
# chroot, in a private mount namespace (unshare -m): /proc, /sys and /dev,
# the checkout at its own path (so target/ paths and rpaths are the same
# inside and out), and this machine's Rust toolchain and cargo registry
# (~/.rustup, ~/.cargo: rustup's binaries run on any newer glibc). Nothing
# is mounted in the machine's own namespace; the copy is removed afterwards.
# The environment is reset: PATH, HOME, LANG, TERM, CI, and
# PYO3_PYTHON=/usr/bin/python3.X. Needs root. Exits with COMMAND's status.
set -eu

version=${1:?usage: $0 3.X COMMAND [ARG...]}
shift
[ $# -gt 0 ] || {
	echo "usage: $0 3.X COMMAND [ARG...]" >&2
	exit 2
}
case $version in
3.14) suite=sid ;;
*)
	echo "debian-root: no Debian root for CPython $version (only 3.14, from sid)" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
name="debian-root $version"
. "$root/scripts/lib/debian-source.sh"
. "$root/scripts/lib/build-common.sh"

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, chroot, mounts)"
build_tools mmdebstrap
cache=${MAYEXEC_CACHE:-/var/cache/mayexec}
# The interpreter with its shared library and test suite, what the build
# (gcc for the internal-header probe and the link) and the tests need, and
# hyperfine for the bench (crates/mayexec-python/bench/bench.sh), strace for
# the tests that count system calls (tests/cached_source.rs).
include=python$version,libpython$version-dev,libpython$version-testsuite,gcc,libc6-dev,libseccomp-dev,pkgconf,util-linux,hyperfine,strace
tarball=$(debian_root "$suite" "$include" "$cache") || die "no $suite root"
[ "$1" != --root-only ] || exit 0

dir=$(mktemp -d /var/tmp/mayexec-python-root.XXXXXX)
trap 'rm -rf --one-file-system "$dir"' EXIT
trap 'exit 130' INT TERM
tar -C "$dir" -xf "$tarball"
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_home=${CARGO_HOME:-$HOME/.cargo}

# In the private namespace: every mount disappears with it.
status=0
unshare -m --propagation private sh -eu -c '
	dir=$1 root=$2 rustup_home=$3 cargo_home=$4 version=$5
	shift 5
	# The root a mount of its own, so that what runs in it can make its
	# own private namespaces (unshare --propagation needs "/" a mount).
	mount --bind "$dir" "$dir"
	mount -t proc proc "$dir/proc"
	mount --rbind /sys "$dir/sys"
	mount --rbind /dev "$dir/dev"
	mkdir -p "$dir$root" "$dir/root/.rustup" "$dir/root/.cargo"
	mount --bind "$root" "$dir$root"
	mount --bind "$rustup_home" "$dir/root/.rustup"
	mount --bind "$cargo_home" "$dir/root/.cargo"
	cd "$dir"
	exec chroot "$dir" /usr/bin/env -i \
		PATH=/root/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		TERM="${TERM:-dumb}" CI="${CI:-}" CARGO_TERM_COLOR=never \
		PYO3_PYTHON=/usr/bin/python$version MAYEXEC_DEBIAN_ROOT=$version \
		sh -c "cd \"\$0\" && exec \"\$@\"" "$root" "$@"
' sh "$dir" "$root" "$rustup_home" "$cargo_home" "$version" "$@" || status=$?
exit "$status"
