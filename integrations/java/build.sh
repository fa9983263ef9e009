#!/bin/sh
# Builds Debian's OpenJDK 17 runtime image again, from its own modules,
# twice, each into a private JDK home that runs with Debian's JVM and
# libraries:
#
#     target/java-stock/bin/java      the image relinked as it is, the baseline
#     target/java-mayexec/bin/java    with mayexec.patch: the java.base
#                                     classes that read code (the class
#                                     loaders, the module readers, native
#                                     library loading, the launcher's helper)
#                                     recompiled, libmayexec_jni.so, and the
#                                     launcher's library libjli.so, which
#                                     checks the code the JVM loads natively
#                                     (agents, -Xbootclasspath/a …)
#
# OpenJDK's full build takes hours; the classes that open code are a
# handful. They are compiled from the sources Debian ships with the JDK
# (openjdk-17-source's src.zip, of the very version installed), laid out
# as in OpenJDK's tree so that the patch is OpenJDK's; libjli (a dozen C
# files, libjli.sh) from Debian's openjdk-17 source package (the newest
# the archive serves: bookworm's security mirror lists the installed
# version but may not serve it; the launcher protocol is the same within
# 17). The classes are put into the modules themselves: `--patch-module java.base` would turn class data
# sharing off, and a JVM without it starts twice as slowly. So:
#
#   1. `jimage extract` unpacks Debian's lib/modules (every module, as
#      exploded directories);
#   2. (mayexec) javac compiles the patched classes against them
#      (-XDstringConcat=inline, as OpenJDK compiles java.base, whose classes
#      run before invokedynamic can), and gcc the JNI library with
#      libmayexec linked statically;
#   3. StripModuleHashes.java removes the hashes java.base records of the
#      packaged modules (jlink cannot hash exploded ones), and jlink links
#      all the modules into a new lib/modules (the classes Debian's jlink
#      generated are already there: generate-jli-classes is off);
#   4. libjli.so built (both variants: the stock one from the unpatched
#      tree);
#   5. the private home (PREFIX): lib/modules, libjli.so, a copy of libjvm.so (the JVM
#      finds java.home from its own path), every launcher copied (each finds
#      its home from its own path), links to everything else of Debian's
#      home (libraries, conf, security, legal); then the JVM's class data
#      sharing archives dumped for that image, as Debian's build does.
#
# scripts/lib/integration.sh does what every integration does (the tools,
# the stamps, the patch, the checks, the cache; `--fetch`); this file says
# where the source comes from and how the image is made. docs/java.md: the
# design and what is checked. Runs as root on a fresh Debian machine
# without a terminal (CI); as another user it works when the tools are
# already installed.

set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
package=java
program=bin/java
# openjdk-17-source: src.zip, which depends on the JDK of its version (so
# installing it brings the JDK to that version); unzip; dpkg-dev
# (dpkg-source for `apt-get source`), patch, the C toolchain and zlib for
# libjli.
# ant and junit4: Debian's own Java programs, which the tests run through
# both homes.
tools="openjdk-17-jdk-headless openjdk-17-source unzip dpkg-dev patch gcc libc6-dev
	zlib1g-dev pkg-config ant junit4"
from=source
recipe_files="integrations/java/libjli.sh integrations/java/StripModuleHashes.java"

jdk=/usr/lib/jvm/java-17-openjdk-amd64
# The modules whose sources are unpacked (those the patch may change), each
# after the modules it uses (jdk.management calls java.management's patch).
modules="java.base java.management jdk.compiler jdk.jshell jdk.management"

# What libjli.sh needs of Debian's openjdk-17 source.
jli_files="src/java.base/share/native/libjli src/java.base/unix/native/libjli
	src/java.base/share/native/include src/java.base/unix/native/include
	src/java.base/share/native/libjava src/java.base/unix/native/libjava
	src/hotspot/share/include src/hotspot/os/posix/include
	make/conf/version-numbers.conf"
# And what suite.sh needs: OpenJDK's launcher tests, jtreg's configuration
# of test/jdk and the test library they use.
suite_files="test/jdk/tools/launcher test/jdk/TEST.ROOT test/jdk/ProblemList.txt
	test/lib test/jtreg-ext"

# keep_files FROM TO FILE...: FILEs (files or directories) of the tree FROM
# copied into TO, at the same paths.
keep_files() {
	_from=$1
	_to=$2
	shift 2
	mkdir -p "$_to"
	for _f in "$@"; do
		[ -e "$_from/$_f" ] || die "Debian's openjdk-17 source has no $_f"
		mkdir -p "$_to/$(dirname "$_f")"
		cp -R "$_from/$_f" "$_to/$_f"
	done
}

# fetch_jli: libjli's sources from Debian's openjdk-17 source package, in
# $work/jli-src, and the launcher's tests, in $work/suite-src (the source's
# version in each one's .complete), once: the package unpacks to 800 MB,
# of which these few files are kept.
fetch_jli() {
	[ -f "$work/jli-src/.complete" ] && [ -f "$work/suite-src/.complete" ] && return 0
	say "fetching Debian's openjdk-17 source (for libjli and the launcher's tests)"
	rm -rf "$work/jli-src" "$work/suite-src" "$work/jli-full" "$work/jli-src.new" "$work/suite-src.new"
	if ! debian_source openjdk-17 "$work/jli-fetch" "$work/jli-full"; then
		_codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
		say "retrying from Debian $_codename's main archive alone"
		debian_source_suite openjdk-17 "$_codename" "$work/jli-fetch" "$work/jli-full" ||
			die "could not fetch Debian's openjdk-17 source"
	fi
	# shellcheck disable=SC2086 # one word per path
	keep_files "$work/jli-full" "$work/jli-src.new" $jli_files
	# shellcheck disable=SC2086
	keep_files "$work/jli-full" "$work/suite-src.new" $suite_files
	_version=$(cd "$work/jli-full" && dpkg-parsechangelog -S Version)
	printf '%s\n' "$_version" >"$work/jli-src.new/.complete"
	printf '%s\n' "$_version" >"$work/suite-src.new/.complete"
	rm -rf "$work/jli-full" "$work/jli-fetch"
	mv "$work/jli-src.new" "$work/jli-src"
	mv "$work/suite-src.new" "$work/suite-src"
}

# fetch_source: OpenJDK's sources of $modules from Debian's src.zip, laid
# out as in OpenJDK's tree (src/MODULE/share/classes), once per version,
# and libjli's (fetch_jli). The classes and the JDK must be the same
# version: src.zip describes the image.
fetch_source() {
	fetch_jli
	_jli=$(cat "$work/jli-src/.complete")
	_src=$(dpkg-query -W -f='${Version}' openjdk-17-source)
	for _pkg in openjdk-17-jdk-headless openjdk-17-jre-headless; do
		_v=$(dpkg-query -W -f='${Version}' "$_pkg")
		[ "$_v" = "$_src" ] ||
			die "openjdk-17-source $_src is not the version of $_pkg ($_v): install both at one version"
	done
	# Unpacked again for another version, or when a module was added.
	_unpacked=yes
	for _m in $modules; do
		[ -d "$srcdir/src/$_m/share/classes" ] || _unpacked=no
	done
	if [ "$(cat "$srcdir/.complete" 2>/dev/null)" != "$_src (libjli $_jli)" ] || [ "$_unpacked" = no ]; then
		say "unpacking $modules from openjdk-17-source $_src"
		rm -rf "$srcdir" "$srcdir.new"
		mkdir -p "$srcdir.new/zip"
		for _m in $modules; do
			unzip -q "$jdk/lib/src.zip" "$_m/*" -d "$srcdir.new/zip" ||
				die "could not unpack $_m from $jdk/lib/src.zip"
			mkdir -p "$srcdir.new/src/$_m/share"
			mv "$srcdir.new/zip/$_m" "$srcdir.new/src/$_m/share/classes"
		done
		rmdir "$srcdir.new/zip"
		cp -R "$work/jli-src/." "$srcdir.new/"
		rm "$srcdir.new/.complete"
		[ -f "$srcdir.new/src/java.base/share/classes/jdk/internal/loader/URLClassPath.java" ] ||
			die "$jdk/lib/src.zip has no jdk/internal/loader/URLClassPath.java"
		printf '%s\n' "$_src (libjli $_jli)" >"$srcdir.new/.complete"
		mv "$srcdir.new" "$srcdir"
	fi
	version="$_src (libjli $_jli)"
}

# patched_sources MODULE: the Java sources of MODULE that the patch adds or
# changes.
patched_sources() {
	sed -n "s|^+++ b/\(src/$1/share/classes/[^	 ]*\.java\).*|\1|p" "$patchfile"
}

configure() {
	:
}

# The image's modules extracted; for mayexec the patched classes compiled
# into them and the JNI library built; then the hashes removed and the
# image linked again.
compile() {
	rm -rf image classes linked
	step "jimage extract" "$jdk/bin/jimage" extract --dir image "$jdk/lib/modules"
	if [ "$variant" = mayexec ]; then
		# Each module against the patched ones compiled before it.
		_compiled=
		for _m in $modules; do
			_files=$(patched_sources "$_m")
			[ -n "$_files" ] || continue
			# shellcheck disable=SC2086 # a word per file and option
			step "javac $_m" "$jdk/bin/javac" -XDstringConcat=inline -implicit:none -nowarn \
				--patch-module "$_m=src/$_m/share/classes" $_compiled -d "classes/$_m" $_files
			cp -R "classes/$_m/." "image/$_m/"
			_compiled="$_compiled --patch-module $_m=classes/$_m"
		done
		# shellcheck disable=SC2086 # the flags are words
		step "cc libmayexec_jni.so" gcc -O2 -fPIC -shared -Wall -Werror \
			-I"$jdk/include" -I"$jdk/include/linux" $mayexec_cflags \
			-o libmayexec_jni.so src/java.base/unix/native/libmayexec_jni/ScriptExecution.c \
			-Wl,--exclude-libs,libmayexec.a -Wl,-z,defs $libs
	fi
	if [ "$variant" = mayexec ]; then
		step "libjli.so" env MAYEXEC_CFLAGS="$mayexec_cflags" MAYEXEC_LIBS="$libs" \
			sh "$root/integrations/java/libjli.sh" . jli
	else
		step "libjli.so" sh "$root/integrations/java/libjli.sh" . jli
	fi
	step "strip module hashes" "$jdk/bin/java" \
		--add-exports java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED \
		"$root/integrations/java/StripModuleHashes.java" image/java.base/module-info.class
	step jlink "$jdk/bin/jlink" --module-path image --add-modules ALL-MODULE-PATH \
		--disable-plugin generate-jli-classes --output linked
}

install_to() {
	mkdir -p "$prefix/bin" "$prefix/lib/server"
	for _e in "$jdk"/*; do
		case ${_e##*/} in
		bin | lib) ;;
		*) ln -s "$_e" "$prefix/" ;;
		esac
	done
	for _e in "$jdk"/bin/*; do
		install -m 0755 "$_e" "$prefix/bin/"
	done
	for _e in "$jdk"/lib/*; do
		case ${_e##*/} in
		modules | server | libjli.so) ;;
		*) ln -s "$_e" "$prefix/lib/" ;;
		esac
	done
	install -m 0644 linked/lib/modules "$prefix/lib/modules"
	install -m 0644 jli/libjli.so "$prefix/lib/libjli.so"
	install -m 0644 "$jdk/lib/server/libjvm.so" "$prefix/lib/server/libjvm.so"
	ln -s "$jdk/lib/server/libjsig.so" "$prefix/lib/server/libjsig.so"
	if [ "$variant" = mayexec ]; then
		install -m 0644 libmayexec_jni.so "$prefix/lib/libmayexec_jni.so"
		# (mayexec's note tells `mayexec interpreters` the home is enlightened)
		strip --keep-section=.note.mayexec "$prefix/lib/libmayexec_jni.so"
	fi
	# The class data sharing archives of this image (Debian ships both).
	step "CDS archive" "$prefix/bin/java" -Xshare:dump
	step "CDS archive (no compressed oops)" "$prefix/bin/java" -XX:-UseCompressedOops -Xshare:dump
	rm -rf image classes linked jli
}

# check_build VARIANT PREFIX: the home is its own (java.home, the image, its
# archive), and only the mayexec one carries libmayexec and the patch.
check_build() {
	_java=$2/bin/java
	"$_java" -Xshare:on -XshowSettings:properties -version 2>&1 |
		grep -qx "    java.home = $2" ||
		die "$_java does not run with java.home $2 and its class data sharing archive"
	if "$jdk/bin/jimage" list "$2/lib/modules" | grep -q 'ScriptExecution\.class'; then
		_patched=true
	else
		_patched=false
	fi
	if [ "$1" = mayexec ]; then
		$_patched || die "$2/lib/modules lacks the patched classes"
		static_check "$2/lib/libmayexec_jni.so"
		static_check "$2/lib/libjli.so"
	else
		! $_patched || die "$2/lib/modules is a stock image but has the patched classes"
		[ ! -e "$2/lib/libmayexec_jni.so" ] || die "$2 is a stock build but has libmayexec_jni.so"
		no_build_paths "$2/lib/libjli.so"
		! grep -q 'script execution denied' "$2/lib/libjli.so" ||
			die "$2/lib/libjli.so is a stock build but contains libmayexec"
	fi
}

. "$root/scripts/lib/integration.sh"
integration_build "$@"
