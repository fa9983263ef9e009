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

[ "$#" -gt 0 ] || {
	echo "usage: $0 PACKAGE... (one of: $(cd "$root/integrations" && echo */mayexec.patch | sed 's|/mayexec.patch||g'))" >&2
	exit 2
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0

fail() {
	echo "check-patch: $package: $*" >&2
	status=1
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

for package in "$@"; do
	patchfile=$root/integrations/$package/mayexec.patch
	source=$root/target/$package-build/debian-src
	if [ ! -f "$patchfile" ]; then
		fail "no integrations/$package/mayexec.patch"
		continue
	fi
	faults=$(dep3 "$patchfile")
	if [ -n "$faults" ]; then
		fail "DEP-3 header: $(printf '%s' "$faults" | paste -sd ';' | sed 's/;/; /g')"
		continue
	fi
	if [ ! -d "$source" ]; then
		fail "no Debian source in ${source#"$root"/}: run integrations/$package/build.sh first"
		continue
	fi
	copy=$scratch/$package
	cp -al "$source" "$copy"
	mkdir -p "$copy/debian/patches" "$copy/.pc"
	if [ -f "$copy/debian/source/format" ]; then
		format=$(cat "$copy/debian/source/format")
		if [ "$format" != "3.0 (quilt)" ]; then
			fail "Debian's source is \"$format\", not \"3.0 (quilt)\": no series to add the patch to"
			continue
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
	if ! out=$(cd "$copy" && perl -MDpkg::Source::Quilt -e '
		my $quilt = Dpkg::Source::Quilt->new(".");
		$quilt->push(verbose => 1) while defined $quilt->next();' 2>&1); then
		fail "dpkg-source cannot apply mayexec.patch as the last patch of the series:
$out"
	elif [ "$(tail -n 1 "$copy/.pc/applied-patches")" != mayexec.patch ]; then
		fail "Dpkg's quilt code did not apply mayexec.patch: $out"
	else
		echo "check-patch: $package: DEP-3 header complete; dpkg-source applies mayexec.patch $what"
	fi
	rm -rf "$copy"
done
exit "$status"
