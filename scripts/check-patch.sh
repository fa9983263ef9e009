#!/usr/bin/env bash
# check-patch.sh PACKAGE...: each integrations/PACKAGE/mayexec.patch is
# ready to go into its Debian package as it is:
#
#  - its DEP-3 header (https://dep-team.pages.debian.net/deps/dep3/) has a
#    Description with a synopsis and a long description, an Author (or an
#    Origin), Forwarded, and a Last-Update date (YYYY-MM-DD);
#  - dpkg-source applies it as the last patch of the package's quilt
#    series, as it applies every patch of a "3.0 (quilt)" source: checked
#    by Dpkg's own code, without fuzz (a patch that needs fuzz stops
#    dpkg-source -x).
#
# The source is the one the build unpacked with dpkg-source -x
# (target/PACKAGE-build/debian-src: run integrations/PACKAGE/build.sh
# first). Dpkg's own quilt code (Dpkg::Source::Quilt, what dpkg-source -x
# runs) pushes the patch onto a copy of it made of hard links (patch writes
# each file it changes anew, never into it), removed at the end. Java's
# build keeps only the parts of OpenJDK's source it compiles, without
# debian/: there the patch is the series' only one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	echo "usage: $0 PACKAGE... | --self-test PACKAGE (PACKAGE one of: $(cd "$root/integrations" && echo */mayexec.patch | sed 's|/mayexec.patch||g'))" >&2
	exit 2
}
[ "$#" -gt 0 ] || usage

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() {
	echo "check-patch: $package: $*" >&2
}

# dep3 PATCH: the header's faults, if any, on stderr.
dep3() {
	awk '
		/^(diff |--- |Index: |===)/ { exit }
		/^$/ { if (field != "") para = 1 }
		/^[A-Za-z-]+:/ { field = substr($1, 1, length($1) - 1); seen[field] = 1
			value = $0; sub(/^[^:]*:[ \t]*/, "", value); first[field] = value; next }
		/^[ \t]/ && field != "" { more[field]++ }
		END {
			if (!seen["Description"] && !seen["Subject"]) print "no Description"
			else if (first["Description"] first["Subject"] == "") print "the Description has no synopsis"
			else if (!more["Description"] && !more["Subject"]) print "the Description has no long description"
			if (!seen["Author"] && !seen["From"] && !seen["Origin"]) print "no Author (or From, or Origin)"
			if (!seen["Forwarded"]) print "no Forwarded"
			if (!seen["Last-Update"]) print "no Last-Update"
			else if (first["Last-Update"] !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/)
				print "Last-Update is not YYYY-MM-DD: " first["Last-Update"]
		}' "$1"
}

# check PACKAGE PATCH: PATCH ready to go into PACKAGE's Debian source (the
# header, then Dpkg's quilt code); its faults on stderr, and status 1.
check() {
	package=$1 patchfile=$2
	source=$root/target/$package-build/debian-src
	if [ ! -f "$patchfile" ]; then
		fail "no ${patchfile#"$root"/}"
		return 1
	fi
	faults=$(dep3 "$patchfile")
	if [ -n "$faults" ]; then
		fail "DEP-3 header: $(printf '%s' "$faults" | paste -sd ';' | sed 's/;/; /g')"
		return 1
	fi
	if [ ! -d "$source" ]; then
		fail "no Debian source in ${source#"$root"/}: run integrations/$package/build.sh first"
		return 1
	fi
	copy=$scratch/$package
	cp -al "$source" "$copy"
	mkdir -p "$copy/debian/patches" "$copy/.pc"
	if [ -f "$copy/debian/source/format" ]; then
		format=$(cat "$copy/debian/source/format")
		if [ "$format" != "3.0 (quilt)" ]; then
			fail "Debian's source is \"$format\", not \"3.0 (quilt)\": no series to add the patch to"
			return 1
		fi
		# Debian's patches are applied (dpkg-source -x), but the fetch drops
		# quilt's record of it: write it back, as dpkg-source -x leaves it.
		grep -v '^[[:space:]]*\(#\|$\)' "$source/debian/patches/series" | awk '{ print $1 }' \
			>"$copy/.pc/applied-patches" || true
		what="after Debian's $(wc -l <"$copy/.pc/applied-patches") patches"
	else
		: >"$copy/.pc/applied-patches"
		what="alone (the build keeps only the parts of the source it compiles, without debian/)"
	fi
	echo 2 >"$copy/.pc/.version"
	echo debian/patches >"$copy/.pc/.quilt_patches"
	echo series >"$copy/.pc/.quilt_series"
	cp "$patchfile" "$copy/debian/patches/mayexec.patch"
	# The series file is a hard link to the cached source's: write a new one.
	{ cat "$source/debian/patches/series" 2>/dev/null || true; echo mayexec.patch; } >"$scratch/series"
	rm -f "$copy/debian/patches/series"
	mv "$scratch/series" "$copy/debian/patches/series"
	# What dpkg-source -x runs on a "3.0 (quilt)" source: every patch of the
	# series not yet applied, pushed by Dpkg's quilt code (no fuzz).
	applied=0
	if ! out=$(cd "$copy" && perl -MDpkg::Source::Quilt -e '
		my $quilt = Dpkg::Source::Quilt->new(".");
		$quilt->push(verbose => 1) while defined $quilt->next();' 2>&1); then
		fail "dpkg-source cannot apply mayexec.patch as the last patch of the series:
$out"
	elif [ "$(tail -n 1 "$copy/.pc/applied-patches")" != mayexec.patch ]; then
		fail "Dpkg's quilt code did not apply mayexec.patch: $out"
	else
		echo "check-patch: $package: DEP-3 header complete; dpkg-source applies mayexec.patch $what"
		applied=1
	fi
	rm -rf "$copy"
	[ "$applied" = 1 ]
}

# self_test PACKAGE: the check passes PACKAGE's patch and refuses three
# broken copies of it: one context line changed (dpkg-source allows no
# fuzz), no Last-Update, a Description without its long description.
self_test() {
	package=$1
	real=$root/integrations/$package/mayexec.patch
	check "$package" "$real" || return 1
	mkdir -p "$scratch/broken"
	# The first context line of the first hunk, changed.
	awk 'done != 1 && hunk && /^ / { print " X" substr($0, 2); done = 1; next }
		/^@@ / { hunk = 1 } { print }' "$real" >"$scratch/broken/context.patch"
	grep -v '^Last-Update:' "$real" >"$scratch/broken/date.patch"
	awk '/^Description:/ { print; skip = 1; next } skip && /^[ \t]/ { next } { skip = 0; print }' \
		"$real" >"$scratch/broken/description.patch"
	for broken in context date description; do
		if check "$package" "$scratch/broken/$broken.patch" 2>"$scratch/broken/$broken.err"; then
			echo "check-patch: self-test: $package's patch with a broken $broken passed" >&2
			return 1
		fi
		echo "check-patch: self-test: a broken $broken refused ($(head -n 1 "$scratch/broken/$broken.err" | cut -c1-100))"
	done
}

status=0
if [ "$1" = --self-test ]; then
	[ "$#" = 2 ] || usage
	self_test "$2" || status=1
else
	for package in "$@"; do
		check "$package" "$root/integrations/$package/mayexec.patch" || status=1
	done
fi
exit "$status"
