#!/bin/sh
# Builds the Debian packages into target/debian/ (`make deb`):
#
#   mayexec          the command, its manual pages, completions, the apt hook
#   libmayexec0      the shared library (SONAME libmayexec.so.0)
#   libmayexec-dev   header, libmayexec.a, the libmayexec.so link, mayexec.pc
#   dash-mayexec     the enlightened dash, next to the stock one
#   bash-mayexec     the enlightened bash and its loadable builtins, next to
#                    the stock bash
#   busybox-mayexec  the enlightened BusyBox (every applet that interprets a
#                    program obeys), next to the stock busybox
#   mayexec-python   the enlightened CPython 3.11, next to the stock one
#
# The metadata is a debian/ tree (packaging/debian/) handled by dpkg-dev's
# own tools, as debhelper would: dpkg-shlibdeps computes the dependencies,
# dpkg-gensymbols checks the library's symbols against
# libmayexec0.symbols (a missing or new symbol fails the build),
# dpkg-gencontrol writes each control file, dpkg-deb builds with root as
# owner. lintian then runs on every package; an error fails the build.
#
# mayexec-python is built against Debian's python3.11 (not the developer's
# pyenv one), in its own target directory (target/deb), so that the
# package depends on libpython3.11 and the tests' builds are not disturbed.
# Run as root on a fresh machine: missing build tools are installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
meta=$here/debian
out=$root/target/debian
work=$root/target/deb-staging
umask 022

# build_tools (with the say and die below)
. "$root/scripts/lib/build-common.sh"

say() {
	printf 'deb: %s\n' "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

started=$(date +%s)

# --- build tools ------------------------------------------------------------
# lintian checks the packages; chrpath drops the RUNPATH pyo3 adds (a
# system directory here); python3.11-dev is what mayexec-python embeds.
build_tools dpkg-dev lintian chrpath python3.11-dev gcc make binutils

version=$(dpkg-parsechangelog -l "$meta/changelog" -S Version)
upstream=${version%-*}
crate=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
[ "$upstream" = "$crate" ] ||
	die "packaging/debian/changelog is at $upstream, Cargo.toml at $crate: add a changelog entry"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$meta/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH

# --- compile ----------------------------------------------------------------

say "building mayexec, libmayexec and mayexec-python (release, target/deb)"
target=$root/target/deb
(cd "$root" && PYO3_PYTHON=/usr/bin/python3.11 CARGO_TARGET_DIR=$target \
	cargo build --release --locked --quiet -p mayexec-cli -p mayexec-capi -p mayexec-python)
bin=$target/release
say "building the enlightened dash"
sh "$root/integrations/dash/build.sh"
dash=$root/target/dash-mayexec/bin/dash
dashsrc=$root/target/dash-build/debian-src
say "building the enlightened bash"
sh "$root/integrations/bash/build.sh"
bashdir=$root/target/bash-mayexec
bashsrc=$root/target/bash-build/debian-src
say "building the enlightened busybox"
sh "$root/integrations/busybox/build.sh"
busybox=$root/target/busybox-mayexec/bin/busybox
busyboxsrc=$root/target/busybox-build/debian-src

# --- stage ------------------------------------------------------------------

rm -rf "$work"
mkdir -p "$work/debian" "$out"
cp "$meta/control" "$meta/changelog" "$work/debian/"
rm -f "$out"/*.deb

# inst MODE SRC DEST: DEST relative to the package's root.
inst() {
	install -D -m "$1" "$2" "$P/$3"
}
# The Debian policy's strip: symbols and .comment go, .note.* stays (the
# interpreters' .note.mayexec is what `mayexec interpreters` reads).
strip_elf() {
	strip --strip-unneeded --remove-section=.comment "$1"
}
# man PAGE SECTION: installs PAGE compressed (gzip -9n).
man() {
	name=$(basename "$1")
	install -d "$P/usr/share/man/man$2"
	gzip -9nc "$1" >"$P/usr/share/man/man$2/$name.gz"
	chmod 0644 "$P/usr/share/man/man$2/$name.gz"
}
# docs PKG [COPYRIGHT]: copyright and changelog.Debian.gz.
docs() {
	inst 0644 "${2:-$meta/copyright}" "usr/share/doc/$1/copyright"
	gzip -9nc "$meta/changelog" >"$P/usr/share/doc/$1/changelog.Debian.gz"
}
# copyright SRC FILES: the stock package's debian/copyright (of source tree
# SRC), then a stanza for FILES (mayexec's code: libmayexec, linked in
# statically, and what the patch adds), on stdout.
copyright() {
	cat "$1/debian/copyright"
	printf '\nFiles: %s\nCopyright: 2026 the mayexec developers\n' "$2"
	printf 'License: Apache-2.0 or Expat\n'
	printf '\n'
	sed -n '/^License: Apache-2.0$/,$p' "$meta/copyright"
}
# divert PKG NAME STOCK OURS: PKG-divert on|off|status and its page, prerm.
divert() {
	script=$1-divert
	for f in divert.in divert.8.in prerm.in; do
		sed -e "s|@PKG@|$1|g" -e "s|@NAME@|$2|g" -e "s|@STOCK@|$3|g" \
			-e "s|@OURS@|$4|g" -e "s|@SCRIPT@|$script|g" \
			-e "s|@SCRIPTUC@|$(echo "$script" | tr a-z A-Z)|g" \
			"$meta/$f" >"$work/$1.$f"
	done
	inst 0755 "$work/$1.divert.in" "usr/sbin/$script"
	cp "$work/$1.divert.8.in" "$work/$script.8"
	man "$work/$script.8" 8
	inst 0755 "$work/$1.prerm.in" DEBIAN/prerm
}

# mayexec
P=$work/debian/mayexec
inst 0755 "$bin/mayexec" usr/bin/mayexec
strip_elf "$P/usr/bin/mayexec"
"$bin/mayexec" manpages "$work/man1"
for page in "$work"/man1/*.1; do man "$page" 1; done
man "$here/man/mayexec.conf.5" 5
install -d "$P/usr/share/bash-completion/completions" "$P/usr/share/zsh/vendor-completions" \
	"$P/usr/share/fish/vendor_completions.d"
"$bin/mayexec" completions bash >"$P/usr/share/bash-completion/completions/mayexec"
"$bin/mayexec" completions zsh >"$P/usr/share/zsh/vendor-completions/_mayexec"
"$bin/mayexec" completions fish >"$P/usr/share/fish/vendor_completions.d/mayexec.fish"
inst 0644 "$here/examples/mayexec.conf" usr/share/doc/mayexec/examples/mayexec.conf
inst 0644 "$meta/90mayexec-mark" etc/apt/apt.conf.d/90mayexec-mark
inst 0644 "$meta/91mayexec-trust" etc/apt/apt.conf.d/91mayexec-trust
inst 0644 "$meta/mark.d-README" etc/mayexec/mark.d/README
printf '%s\n' /etc/apt/apt.conf.d/90mayexec-mark /etc/apt/apt.conf.d/91mayexec-trust \
	/etc/mayexec/mark.d/README >"$work/conffiles"
inst 0644 "$work/conffiles" DEBIAN/conffiles
inst 0755 "$meta/mayexec.postrm" DEBIAN/postrm
docs mayexec

# libmayexec0 and libmayexec-dev: the Makefile links the versioned library
# (symbol versions, SONAME) from the archive just built.
lib=$work/libinstall
make -s -C "$root" install-files PREFIX=/usr LIBDIR="/usr/lib/$multiarch" \
	DESTDIR="$lib" BUILD_DIR="$bin" >&2
P=$work/debian/libmayexec0
install -d "$P/usr/lib/$multiarch"
cp -P "$lib/usr/lib/$multiarch"/libmayexec.so.* "$P/usr/lib/$multiarch/"
strip_elf "$P/usr/lib/$multiarch/libmayexec.so.$upstream"
chmod 0644 "$P/usr/lib/$multiarch/libmayexec.so.$upstream"
inst 0644 "$meta/libmayexec0.triggers" DEBIAN/triggers
docs libmayexec0
P=$work/debian/libmayexec-dev
install -d "$P/usr/lib/$multiarch/pkgconfig" "$P/usr/include"
cp -P "$lib/usr/lib/$multiarch/libmayexec.so" "$lib/usr/lib/$multiarch/libmayexec.a" \
	"$P/usr/lib/$multiarch/"
strip --strip-debug --remove-section=.comment "$P/usr/lib/$multiarch/libmayexec.a"
cp "$lib/usr/lib/$multiarch/pkgconfig/mayexec.pc" "$P/usr/lib/$multiarch/pkgconfig/"
cp "$lib/usr/include/mayexec.h" "$P/usr/include/"
docs libmayexec-dev

# dash-mayexec: dash's copyright, then libmayexec's.
P=$work/debian/dash-mayexec
inst 0755 "$dash" usr/bin/dash-mayexec
strip_elf "$P/usr/bin/dash-mayexec"
sed -e 's/^\.Dt DASH 1/.Dt DASH-MAYEXEC 1/' -e 's/^\.Nm dash$/.Nm dash-mayexec/' \
	"$dashsrc/src/dash.1" >"$work/dash-mayexec.1"
man "$work/dash-mayexec.1" 1
copyright "$dashsrc" "src/execcheck.c libmayexec" >"$work/dash-copyright"
docs dash-mayexec "$work/dash-copyright"
divert dash-mayexec dash dash /usr/bin/dash-mayexec

# bash-mayexec: the shell, its page, and the example loadable builtins
# (Debian's bash-builtins) under /usr/lib/bash-mayexec, for enable -f.
P=$work/debian/bash-mayexec
inst 0755 "$bashdir/bin/bash" usr/bin/bash-mayexec
strip_elf "$P/usr/bin/bash-mayexec"
for f in "$bashdir"/lib/bash/*; do
	inst 0644 "$f" "usr/lib/bash-mayexec/$(basename "$f")"
	strip_elf "$P/usr/lib/bash-mayexec/$(basename "$f")"
done
sed -e 's/^\.TH BASH 1/.TH BASH-MAYEXEC 1/' -e 's/^bash \\- GNU Bourne-Again SHell$/bash-mayexec \\- GNU Bourne-Again SHell that checks every script/' \
	"$bashsrc/doc/bash.1" >"$work/bash-mayexec.1"
man "$work/bash-mayexec.1" 1
copyright "$bashsrc" libmayexec >"$work/bash-copyright"
docs bash-mayexec "$work/bash-copyright"
divert bash-mayexec bash bash /usr/bin/bash-mayexec

# busybox-mayexec: /bin/busybox is what is diverted (see docs/packaging.md).
P=$work/debian/busybox-mayexec
inst 0755 "$busybox" usr/bin/busybox-mayexec
strip_elf "$P/usr/bin/busybox-mayexec"
man "$here/man/busybox-mayexec.1" 1
copyright "$busyboxsrc" libmayexec >"$work/busybox-copyright"
docs busybox-mayexec "$work/busybox-copyright"
divert busybox-mayexec busybox busybox /usr/bin/busybox-mayexec

# mayexec-python
P=$work/debian/mayexec-python
inst 0755 "$bin/mayexec-python" usr/bin/mayexec-python
strip_elf "$P/usr/bin/mayexec-python"
chrpath -d "$P/usr/bin/mayexec-python" >/dev/null
man "$here/man/mayexec-python.1" 1
docs mayexec-python
divert mayexec-python python3.11 python3.11-minimal /usr/bin/mayexec-python

# --- control files, then the archives -----------------------------------------

cd "$work"
dpkg-gensymbols -plibmayexec0 -Pdebian/libmayexec0 -v"$version" -c4 -q \
	-I"$meta/libmayexec0.symbols" -Odebian/libmayexec0/DEBIAN/symbols ||
	die "libmayexec's symbols differ from packaging/debian/libmayexec0.symbols (see docs/capi.md)"
chmod 0644 debian/libmayexec0/DEBIAN/symbols
printf 'libmayexec 0 libmayexec0 (>= %s)\n' "$upstream" >debian/libmayexec0/DEBIAN/shlibs
for pkg in mayexec libmayexec0 libmayexec-dev dash-mayexec bash-mayexec busybox-mayexec \
	mayexec-python; do
	P=debian/$pkg
	elves=$(find "$P" -type f \( -path '*/bin/*' -o -path '*/sbin/*' -o -name '*.so.*' \) \
		-exec sh -c 'head -c4 "$1" | grep -q ELF' sh {} \; -print)
	: >"debian/$pkg.substvars"
	mkdir -p "$P/DEBIAN"
	if [ -n "$elves" ]; then
		# shellcheck disable=SC2086 # one word per file
		dpkg-shlibdeps -Tdebian/$pkg.substvars -Sdebian/libmayexec0 $elves ||
			die "dpkg-shlibdeps failed for $pkg"
	fi
	dpkg-gencontrol -p"$pkg" -P"$P" -Tdebian/$pkg.substvars -fdebian/files ||
		die "dpkg-gencontrol failed for $pkg"
	[ -f "$P/DEBIAN/control" ] || die "dpkg-gencontrol wrote no control file for $pkg"
	(cd "$P" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0r md5sum) >"$P/DEBIAN/md5sums"
	chmod 0644 "$P/DEBIAN/md5sums" "$P/DEBIAN/control"
	find "$P" -type d -exec chmod 0755 {} +
	dpkg-deb --root-owner-group -Zxz --build "$P" "$out/" >&2
done

say "lintian"
lintian --fail-on error --tag-display-limit 0 "$out"/*.deb >&2 ||
	die "lintian found errors in the packages (above)"
say "built in $(($(date +%s) - started)) s:"
ls "$out"/*.deb >&2
