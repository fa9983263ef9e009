#!/bin/sh
# Builds Wine's Unix-side ntdll.so from Debian's wine 8.0 source,
# configured as Debian configures it (64-bit), twice, and puts each in a
# private tree that runs with Debian's own binary Wine for everything else:
#
#     target/wine-stock/bin/wine      the stock ntdll.so, the baseline
#     target/wine-mayexec/bin/wine    with mayexec.patch, libmayexec linked
#                                     statically into ntdll.so
#
# Wine's full build takes about an hour on two cores. Every PE image and
# every Unix library of a module is mapped by the Unix-side ntdll.so
# (dlls/ntdll/unix/virtual.c, loader.c), which alone builds in seconds once
# the tree is configured; Debian's wine64 loader, wineserver, PE DLLs, Unix
# libraries and data do the rest. A private tree (PREFIX):
#
#     bin/wine -> ../lib/wine/wine64
#     lib/wine/wine64                    a copy of Debian's loader: Wine
#                                        finds everything relative to it
#     lib/wine/wine -> wine64            (the loader re-executes itself by
#                                        the name it was started under)
#     lib/wine/wineserver -> /usr/lib/wine/wineserver
#     lib/x86_64-linux-gnu/wine/x86_64-unix/ntdll.so   the rebuilt one
#     lib/x86_64-linux-gnu/wine/x86_64-unix/*.so       copies of Debian's
#     lib/x86_64-linux-gnu/wine/x86_64-windows -> (target/)wine-build/marked/x86_64-windows
#     share/wine -> /usr/share/wine      (nls/, wine.inf …)
#
# Debian installs its DLLs and Unix libraries 0644: under the full check
# (levels 2 and 3, `mayexec run -f`) they are refused until marked
# executable, as docs/deployment.md tells an administrator. Both trees use
# copies of them marked so (the x86_64-windows copy is shared, in
# target/wine-build/marked), since tests must not chmod /usr.
#
# scripts/lib/integration.sh does what every integration does (the tools,
# Debian's source, the stamps, the patch, the checks, the cache;
# `--fetch`); this file says how Wine is configured, compiled and
# installed. docs/wine.md: the steps in detail. Runs as root on a fresh
# Debian machine without a terminal (CI); as another user it works when the
# tools are already installed.

set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
package=wine
# What carries libmayexec (static_check): the Unix-side ntdll.
program=lib/x86_64-linux-gnu/wine/x86_64-unix/ntdll.so
has="dlls/ntdll/unix/virtual.c debian/rules"
# wine64, libwine: Debian's binary Wine, which the private trees use.
# dpkg-dev: dpkg-source for `apt-get source`, dpkg-buildflags; patch; the
# C toolchain; autoconf, flex, bison: Wine's configure; the MinGW
# cross-compiler: Debian configures --with-mingw (and the tests build PE
# programs with it); libunwind-dev: Debian's ntdll.so links libunwind;
# khronos-api, libvulkan-dev (vk.xml), libxml-libxml-perl: the generation
# steps of debian/rules (make_opengl, make_vulkan) whose headers makedep
# reads; unicode-data: make_unicode's sources.
tools="wine64 libwine dpkg-dev patch gcc libc6-dev make autoconf flex bison
	gcc-mingw-w64-x86-64 libunwind-dev khronos-api libvulkan-dev
	libxml-libxml-perl unicode-data pkg-config"
# The patch adds dlls/ntdll/unix/mayexec.c: the enlightened tree is the
# configured stock one, its Makefile made again by config.status.
from=stock

windows_dlls=/usr/lib/x86_64-linux-gnu/wine/x86_64-windows
unix_libs=/usr/lib/x86_64-linux-gnu/wine/x86_64-unix


# debian/rules' build flags on 64-bit: hardening without fortify, the
# stack protector and format checks, no LTO; its warnings turned off.
# Asked in the repository's root, so that both trees get the same
# -ffile-prefix-map (docs/building.md).
wine_cflags() {
	(cd "$root" &&
		DEB_BUILD_MAINT_OPTIONS="hardening=+all,-fortify,-stackprotector,-format optimize=-lto" \
			DEB_CFLAGS_MAINT_APPEND="-Wno-array-bounds -Wno-unused-function -Wno-format" \
			dpkg-buildflags --get CFLAGS)
}

# prepare: Debian's PE DLLs marked executable, once per libwine version,
# in $marked (shared by both trees; see above).
prepare() {
	marked=$work/marked
	_have=$(dpkg-query -W -f='${Version}' libwine)
	[ "$(cat "$marked/.version" 2>/dev/null)" = "$_have" ] && return 0
	say "copying Debian's PE DLLs, marked executable, into $(rel "$marked")"
	rm -rf "$marked" "$marked.new"
	mkdir -p "$marked.new"
	cp -a "$windows_dlls" "$marked.new/x86_64-windows"
	find "$marked.new" -type f -perm -0400 -exec chmod a+x {} +
	printf '%s\n' "$_have" >"$marked.new/.version"
	mv "$marked.new" "$marked"
}

# stock: the generation steps of debian/rules' override_dh_auto_configure,
# then autoreconf and configure with Debian's directories and options. Two
# differences, neither of which reaches ntdll.so: make_unicode writes only
# its C sources (its 5-minute NLS tables are the ones Debian's wine
# installed, linked in place for makedep), and the optional libraries of
# other DLLs are left out (--without-…).
# mayexec: the copy's Makefile made again (the patch adds a source file).
configure() {
	if [ "$variant" = mayexec ]; then
		step "config.status" ./config.status Makefile
		return 0
	fi
	step "make_requests" sh -c '
		./debian/scripts/generate server/trace.generated make_requests &&
		./debian/scripts/generate server/request.generated make_requests &&
		./tools/make_requests'
	sed -e '/^dump_intl_nls/,/^dump_eucjp_codepage/d' tools/make_unicode >"$work/make_unicode"
	step "make_unicode (sources)" perl "$work/make_unicode"
	for _nls in $(grep -o '[a-z_0-9]*\.nls' nls/Makefile.in | sort -u); do
		[ -e "nls/$_nls" ] || ln -s "/usr/share/wine/nls/$_nls" "nls/$_nls"
	done
	step "make_fir" sh -c 'cd dlls/dsound && ./make_fir'
	step "make_opengl" sh -c 'cd dlls/opengl32 && ./make_opengl'
	step "make_vulkan" sh -c 'cd dlls/winevulkan && ./make_vulkan -x /usr/share/vulkan/registry/vk.xml'
	ln -sf /usr/share/misc/config.sub tools
	ln -sf /usr/share/misc/config.guess tools
	grep -E '^	ln -sf \.\./\.\./.*\.svg ' debian/rules | sed 's/^	//' >"$work/svg-links"
	step "the .svg links" sh -e "$work/svg-links"
	step autoreconf autoreconf -fi
	step configure ./configure \
		--enable-win64 --with-mingw ZLIB_PE_LIBS=z --disable-tests \
		--prefix=/usr --libdir=/usr/lib/x86_64-linux-gnu/wine --bindir=/usr/lib/wine \
		--mandir=/usr/share/man --includedir=/usr/include/wine --datarootdir=/usr/share/wine \
		--without-x --without-freetype --without-fontconfig --without-gnutls \
		--without-vulkan --without-opengl --without-alsa --without-pulse --without-oss \
		--without-gstreamer --without-cups --without-dbus --without-sdl --without-usb \
		--without-v4l2 --without-krb5 --without-gphoto --without-sane --without-netapi \
		--without-pcap --without-capi --without-udev --without-xcomposite \
		LDFLAGS="" CFLAGS="$(wine_cflags)"
}

# make dlls/ntdll/ntdll.so; the enlightened one with libmayexec's header
# and its static link (its symbols kept inside ntdll.so), through CFLAGS
# and LDFLAGS, which Wine's generated rules leave to make (only the
# patched files compile again).
compile() {
	if [ "$variant" = stock ]; then
		step "make ntdll.so" make -j2 dlls/ntdll/ntdll.so
		return 0
	fi
	step "make ntdll.so" make -j2 dlls/ntdll/ntdll.so \
		CFLAGS="$(wine_cflags) $mayexec_cflags" \
		LDFLAGS="-Wl,--exclude-libs,libmayexec.a $libs"
}

install_to() {
	_dlls=$prefix/lib/x86_64-linux-gnu/wine
	mkdir -p "$prefix/bin" "$prefix/lib/wine" "$prefix/share" "$_dlls/x86_64-unix"
	install -m 0755 /usr/lib/wine/wine64 "$prefix/lib/wine/wine64"
	ln -s wine64 "$prefix/lib/wine/wine"
	ln -s /usr/lib/wine/wineserver "$prefix/lib/wine/wineserver"
	ln -s ../lib/wine/wine64 "$prefix/bin/wine"
	for _lib in "$unix_libs"/*.so; do
		install -m 0755 "$_lib" "$_dlls/x86_64-unix/"
	done
	install -m 0755 -s dlls/ntdll/ntdll.so "$_dlls/x86_64-unix/ntdll.so"
	ln -s "$work/marked/x86_64-windows" "$_dlls/x86_64-windows"
	ln -s /usr/share/wine "$prefix/share/wine"
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
