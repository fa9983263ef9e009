#!/bin/sh
# The cached results of an interpreter's own test suite run through its
# stock build (integrations/{bash,perl}/suite.sh): the stock build changes
# seldom, and running the suite through it takes minutes. Sourced.
#
# The cache is $MAYEXEC_CACHE/NAME, else /var/cache/mayexec/NAME when that
# can be written, else target/cache/NAME. An entry, stock-KEY/, holds the
# results as suite.EXT files or directories; KEY hashes what goes into them:
# what the caller describes (the stock binary, the tests' source, the suite
# script) and what every suite depends on (the user the tests run as and
# their umask, the kernel, the machine's locales). An entry is stored
# whole, by renaming a finished directory into place; entries unused for
# 30 days are removed. Results that another user could have written are
# neither used nor added to: the cache, its parent and the entry must
# belong to root or to this user and be writable by nobody else.
# SUITE_STOCK_CACHE=0 runs the stock suite even when its results are cached.

# suite_cache_open NAME ROOT DESCRIPTION: chooses the cache of suite NAME
# (ROOT: the checkout) and the entry for DESCRIPTION; sets suite_cache and
# suite_cache_entry.
suite_cache_open() {
	if [ -n "${MAYEXEC_CACHE:-}" ]; then
		suite_cache=$MAYEXEC_CACHE/$1
	elif mkdir -p /var/cache/mayexec 2>/dev/null && [ -w /var/cache/mayexec ]; then
		suite_cache=/var/cache/mayexec/$1
	else
		suite_cache=$2/target/cache/$1
	fi
	(umask 022 && mkdir -p "$suite_cache")
	find "$suite_cache" -mindepth 1 -maxdepth 1 \
		\( -name 'stock-*' -mtime +30 -o -name '.new-*' -mtime +1 \) \
		-exec rm -rf {} + 2>/dev/null || :
	suite_cache_entry=$suite_cache/stock-$({
		printf '%s\n' "$3"
		id -u
		umask
		uname -r
		locale -a 2>/dev/null | LC_ALL=C sort
	} | sha256sum | cut -c1-16)
}

# suite_cache_trusted DIR...: every DIR belongs to root or to us, and only
# its owner may write it.
suite_cache_trusted() {
	for _d in "$@"; do
		case $(stat -c %u "$_d") in 0 | "$(id -u)") ;; *) return 1 ;; esac
		[ -z "$(find "$_d" -maxdepth 0 -perm /022)" ] || return 1
	done
}

# suite_cache_fetch PREFIX EXT...: copies the entry's suite.EXT to
# PREFIX.EXT for each EXT (replacing them); fails, copying nothing, when
# there is no usable entry.
suite_cache_fetch() {
	_prefix=$1
	shift
	[ "${SUITE_STOCK_CACHE:-1}" != 0 ] || return 1
	for _ext in "$@"; do
		[ -e "$suite_cache_entry/suite$_ext" ] || return 1
	done
	suite_cache_trusted "$suite_cache/.." "$suite_cache" "$suite_cache_entry" \
		"$suite_cache_entry"/* || return 1
	for _ext in "$@"; do
		rm -rf "$_prefix$_ext"
		cp -a "$suite_cache_entry/suite$_ext" "$_prefix$_ext"
	done
	touch "$suite_cache_entry"
}

# suite_cache_store PREFIX EXT...: stores PREFIX.EXT as the entry's
# suite.EXT for each EXT; fails, saying why, when the cache may be written
# by others.
suite_cache_store() {
	_prefix=$1
	shift
	if ! suite_cache_trusted "$suite_cache/.." "$suite_cache"; then
		echo "suite: $suite_cache may be written by others: the stock results are not cached" >&2
		return 1
	fi
	(
		umask 022
		_new=$(mktemp -d "$suite_cache/.new-XXXXXX")
		for _ext in "$@"; do
			cp -R "$_prefix$_ext" "$_new/suite$_ext"
		done
		chmod -R go-w "$_new"
		chmod 755 "$_new"
		# An entry not used for being writable by others goes.
		[ ! -e "$suite_cache_entry" ] ||
			suite_cache_trusted "$suite_cache_entry" "$suite_cache_entry"/* ||
			rm -rf "$suite_cache_entry"
		mv -T "$_new" "$suite_cache_entry" 2>/dev/null || rm -rf "$_new"
	)
}
