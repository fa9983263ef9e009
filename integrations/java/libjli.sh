#!/bin/sh
# build-libjli.sh SRCDIR OUTDIR
# Compiles OUTDIR/libjli.so, the launcher library, from SRCDIR, an unpacked
# Debian openjdk-17 source tree (patched with jli.patch or not), the way the
# JDK's make files do (make/modules/java.base/lib/CoreLibraries.gmk,
# SetupJdkLibrary BUILD_LIBJLI, with Debian's system zlib), without
# configuring or building the rest of the JDK.
#
# Environment:
#   CC              the compiler (default gcc);
#   MAYEXEC_CFLAGS  `pkg-config --cflags mayexec` (empty for the stock twin);
#   MAYEXEC_LIBS    the static link of libmayexec: libmayexec.a by path and
#                   what it needs (empty for the stock twin).
# The patched tree adds jli_mayexec.c, which needs both.
set -eu

[ $# -eq 2 ] || { echo "usage: build-libjli.sh SRCDIR OUTDIR" >&2; exit 2; }
src=$1
out=$2
cc=${CC:-gcc}
base=$src/src/java.base
[ -f "$base/share/native/libjli/java.c" ] ||
	{ echo "build-libjli.sh: $src is not an OpenJDK source tree" >&2; exit 1; }
mkdir -p "$out/obj" "$out/include"

# classfile_constants.h is made from its template by the JDK's build
# (make/modules/java.base/Copy.gmk); java.h includes it through jvm.h.
major=$(sed -n 's/^DEFAULT_VERSION_CLASSFILE_MAJOR=\([0-9]*\).*/\1/p' "$src/make/conf/version-numbers.conf")
minor=$(sed -n 's/^DEFAULT_VERSION_CLASSFILE_MINOR=\([0-9]*\).*/\1/p' "$src/make/conf/version-numbers.conf")
sed -e "s/@@VERSION_CLASSFILE_MAJOR@@/$major/" -e "s/@@VERSION_CLASSFILE_MINOR@@/$minor/" \
	"$base/share/native/include/classfile_constants.h.template" >"$out/include/classfile_constants.h"

mayexec_cflags=${MAYEXEC_CFLAGS:-}
mayexec_libs=${MAYEXEC_LIBS:-}
if [ -f "$base/share/native/libjli/jli_mayexec.c" ] && [ -z "$mayexec_libs" ]; then
	echo "build-libjli.sh: the tree is patched (jli_mayexec.c): set MAYEXEC_CFLAGS and MAYEXEC_LIBS" >&2
	exit 1
fi

# CFLAGS_JDKLIB for linux-x86_64 release (make/autoconf/flags-cflags.m4),
# OPTIMIZATION := HIGH (-O3) and libjli's DISABLED_WARNINGS_gcc.
# Debian's dpkg-buildflags hardening (-D_FORTIFY_SOURCE=2, relro, now) too.
cflags="-pipe -fstack-protector-strong -fno-strict-aliasing -fvisibility=hidden \
	-fPIC -O3 -g0 -Wall -Wextra -Wno-unused -Wno-unused-parameter -Wformat=2 \
	-Wno-unused-function -Wno-implicit-fallthrough \
	-D_FORTIFY_SOURCE=2 \
	-D_GNU_SOURCE -D_REENTRANT -D_LARGEFILE64_SOURCE -DLINUX -DNDEBUG \
	-DARCH=\"amd64\" -Damd64 -D_AMD64_ -D_LP64=1 -DLIBC=gnu"
includes="-I$out/include -I$base/share/native/include -I$base/unix/native/include \
	-I$base/share/native/libjli -I$base/unix/native/libjli \
	-I$base/share/native/libjava -I$base/unix/native/libjava \
	-I$src/src/hotspot/share/include -I$src/src/hotspot/os/posix/include"

objs=
for f in "$base"/share/native/libjli/*.c "$base"/unix/native/libjli/*.c; do
	o=$out/obj/$(basename "$f" .c).o
	# shellcheck disable=SC2086 # the flags are words
	$cc $cflags $includes $mayexec_cflags -c -o "$o" "$f"
	objs="$objs $o"
done

# LDFLAGS_JDKLIB + SET_SHARED_LIBRARY_ORIGIN: an RPATH (not RUNPATH) of
# $ORIGIN, as Debian's; LIBS_unix := $(LIBZ_LIBS), LIBS_linux := -ldl -lpthread.
# libmayexec's symbols stay out of the dynamic symbol table.
# shellcheck disable=SC2086 # the flags are words
$cc -shared -o "$out/libjli.so" $objs \
	-Wl,-soname,libjli.so -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN' \
	-Wl,-z,defs -Wl,-z,relro -Wl,-z,now -Wl,--hash-style=gnu -Wl,--as-needed \
	${mayexec_libs:+-Wl,--exclude-libs,libmayexec.a} $mayexec_libs \
	-lz -ldl -lpthread
