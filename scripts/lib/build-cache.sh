#!/bin/sh
# A cache of finished builds outside the checkout, keyed by their stamp (the
# hash of everything that goes into them, integration.sh's), so that a
# fresh checkout on a machine that built the same thing before (CI) restores
# a build in seconds instead of compiling it. Sourced after
# build-common.sh (say).
#
# MAYEXEC_BUILD_CACHE=DIR chooses it (default /var/cache/mayexec/builds;
# empty: no cache). It is used only when DIR and its parent belong to the
# user who builds (or root) and nobody else may write to them: what it
# holds is installed and packaged as if built here.
#
# An entry, DIR/LABEL-STAMP/, holds tree.tar and prefix.tar (the build tree
# and the installation) and, written last, their SHA256SUMS. It is made
# under a temporary name and renamed when complete, so a partial entry never
# has the final name; an entry whose SHA256SUMS is missing, names other
# files or does not match them is never used, and is removed. The
# MAYEXEC_BUILD_CACHE_KEEP (default 2) most recently used entries of each
# LABEL stay; older ones are removed when a new one is stored.

# cache_dir: prints the cache's directory; fails when there is none to use.
cache_dir() {
	_cache=${MAYEXEC_BUILD_CACHE-/var/cache/mayexec/builds}
	[ -n "$_cache" ] || return 1
	(umask 022 && mkdir -p "$_cache") 2>/dev/null || return 1
	for _d in "$_cache" "$(dirname "$_cache")"; do
		case $(stat -c %u "$_d") in
		0 | "$(id -u)") ;;
		*) return 1 ;;
		esac
		[ -z "$(find "$_d" -maxdepth 0 -perm /022)" ] || return 1
	done
	[ -w "$_cache" ] || return 1
	printf '%s\n' "$_cache"
}

# cache_restore LABEL STAMP TREE PREFIX: unpacks the entry LABEL-STAMP into
# TREE and PREFIX (both replaced); fails, leaving neither, when there is no
# such entry or it is damaged.
cache_restore() {
	_cache=$(cache_dir) || return 1
	_entry=$_cache/$1-$2
	[ -f "$_entry/SHA256SUMS" ] || return 1
	if ! (cd "$_entry" &&
		[ "$(cut -c67- SHA256SUMS | LC_ALL=C sort | tr '\n' ' ')" = "prefix.tar tree.tar " ] &&
		sha256sum --quiet --strict -c SHA256SUMS) >/dev/null 2>&1; then
		say "the cached build $_entry is damaged: removed"
		rm -rf "$_entry"
		return 1
	fi
	rm -rf "$3" "$4"
	if mkdir -p "$3" "$4" && tar -C "$3" -xf "$_entry/tree.tar" && tar -C "$4" -xf "$_entry/prefix.tar"; then
		touch "$_entry"
		return 0
	fi
	say "could not unpack the cached build $_entry"
	rm -rf "$3" "$4"
	return 1
}

# cache_drop LABEL STAMP: removes the entry (it restored something wrong).
cache_drop() {
	_cache=$(cache_dir) || return 0
	say "the cached build $_cache/$1-$2 is not what its stamp says: removed"
	rm -rf "${_cache:?}/$1-$2"
}

# cache_store LABEL STAMP TREE PREFIX: stores TREE and PREFIX as the entry
# LABEL-STAMP. The cache only saves time: when it cannot store, it says so
# and the build goes on.
cache_store() {
	_cache=$(cache_dir) || return 0
	_entry=$_cache/$1-$2
	[ ! -e "$_entry" ] || return 0
	find "$_cache" -maxdepth 1 -name '.new-*' -mmin +720 -exec rm -rf {} + 2>/dev/null || :
	if _new=$(mktemp -d "$_cache/.new-$1-XXXXXX") &&
		tar -C "$3" --format=posix -cf "$_new/tree.tar" . &&
		tar -C "$4" --format=posix -cf "$_new/prefix.tar" . &&
		(cd "$_new" && sha256sum tree.tar prefix.tar >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS) &&
		mv -T "$_new" "$_entry" 2>/dev/null; then
		say "stored in the build cache ($_entry)"
	else
		[ -e "$_entry" ] || say "could not store the build in the cache $_cache"
		rm -rf "${_new:-/nonexistent}"
	fi
	# The most recently used entries of LABEL stay.
	# shellcheck disable=SC2012 # the cache's own names: LABEL-HEX
	ls -1dt "$_cache/$1"-* 2>/dev/null | tail -n +"$((${MAYEXEC_BUILD_CACHE_KEEP:-2} + 1))" |
		while read -r _old; do
			rm -rf "$_old"
		done
	return 0
}
