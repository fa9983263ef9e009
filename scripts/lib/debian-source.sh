#!/bin/sh
# Shared by the integrations' build scripts (sourced, POSIX sh): where this
# machine's Debian mirrors are, and Debian's source of a package fetched
# through a private apt configuration (nothing global is changed).

# debian_mirrors CODENAME [ETC]
# Prints "URI SUITE KEYRING" for each Debian mirror of release CODENAME in
# the apt configuration under ETC (default /etc/apt), in both formats
# (one-line sources.list and deb822 .sources); KEYRING is "-" when none is
# named. A Debian archive listed under a suite alias (stable, oldstable,
# testing, unstable, with -updates/-security) serves CODENAME too: it is
# printed with CODENAME's suite. Other archives must name CODENAME.
debian_mirrors() (
	codename=$1
	etc=${2:-/etc/apt}
	{
		for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			sed -e 's/#.*//' "$f" | awk '
				$1 == "deb" {
					keyring = "-"
					i = 2
					if ($2 ~ /^\[/) {
						for (; i <= NF; i++) {
							if ($i ~ /^\[?signed-by=/) {
								keyring = $i
								sub(/^\[?signed-by=/, "", keyring)
								sub(/\]$/, "", keyring)
							}
							if ($i ~ /\]$/) break
						}
						i++
					}
					print $i, $(i + 1), keyring
				}'
		done
		for f in "$etc"/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk '
				function flush(   n, m, i, j, u, s) {
					if (types ~ /(^| )deb( |$)/ && enabled != "no") {
						n = split(uris, u, " ")
						m = split(suites, s, " ")
						for (i = 1; i <= n; i++)
							for (j = 1; j <= m; j++)
								print u[i], s[j], keyring
					}
					types = uris = suites = enabled = ""
					keyring = "-"
				}
				BEGIN { keyring = "-" }
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				/^[ \t]/ { next }
				{
					field = tolower($1)
					value = $0
					sub(/^[^:]*:[ \t]*/, "", value)
					if (field == "types:") types = value
					else if (field == "uris:") uris = value
					else if (field == "suites:") suites = value
					else if (field == "enabled:") enabled = tolower(value)
					else if (field == "signed-by:" && value ~ /^\//) keyring = value
				}
				END { flush() }' "$f"
		done
	} | awk -v c="$codename" '
		{
			suite = $2
			sub(/\/updates$/, "-security", suite)
			suffix = ""
			if (match(suite, /-(updates|security)$/)) {
				suffix = substr(suite, RSTART)
				suite = substr(suite, 1, RSTART - 1)
			}
			alias = suite ~ /^(stable|oldstable|oldoldstable|testing|unstable)$/
			archive = $1 ~ /\/debian(-security)?\/?$/
			if (suite == c || (alias && archive)) print $1, c suffix, $3
		}' | sort -u
)

# debian_source PACKAGE WORKDIR DEST
# Fetches Debian's source of PACKAGE for this machine's release with
# `apt-get source`, through a private apt configuration in WORKDIR/apt,
# and moves the unpacked tree to DEST. Prints nothing on stdout; says what
# it does on stderr. Needs dpkg-dev and root (apt's downloads).
debian_source() (
	package=$1
	workdir=$2
	dest=$3
	[ -r /etc/os-release ] || { echo "no /etc/os-release: cannot tell the Debian release" >&2; return 1; }
	codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || { echo "no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
	mirrors=$(debian_mirrors "$codename")
	[ -n "$mirrors" ] || { echo "no Debian mirror for '$codename' found in /etc/apt" >&2; return 1; }
	debian_source_from "$package" "$workdir" "$dest" "Debian $codename" "$mirrors"
)

# debian_source_suite PACKAGE SUITE WORKDIR DEST
# As debian_source, but PACKAGE's source in Debian's SUITE (sid, trixie):
# for a package this machine's release lacks (python3.14 on bookworm). It
# comes from the Debian archive this machine's release uses, asked for SUITE
# (its -updates and -security archives are not: SUITE has its own).
debian_source_suite() (
	package=$1
	suite=$2
	workdir=$3
	dest=$4
	[ -r /etc/os-release ] || { echo "no /etc/os-release: cannot tell the Debian release" >&2; return 1; }
	codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || { echo "no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
	mirrors=$(debian_mirrors "$codename" | awk -v c="$codename" -v s="$suite" \
		'$2 == c && $1 ~ /\/debian\/?$/ { print $1, s, $3 }')
	[ -n "$mirrors" ] || { echo "no Debian archive for '$codename' found in /etc/apt" >&2; return 1; }
	debian_source_from "$package" "$workdir" "$dest" "Debian $suite" "$mirrors"
)

# debian_source_from PACKAGE WORKDIR DEST WHAT MIRRORS
# The fetch itself: MIRRORS are "URI SUITE KEYRING" lines (debian_mirrors'),
# WHAT names them in the message.
debian_source_from() (
	package=$1
	workdir=$2
	dest=$3
	what=$4
	mirrors=$5

	apt=$workdir/apt
	rm -rf "$apt"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	printf '%s\n' "$mirrors" | while read -r uri suite keyring; do
		if [ "$keyring" = - ]; then
			printf 'deb-src %s %s main\n' "$uri" "$suite"
		else
			printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$uri" "$suite"
		fi
	done >"$apt/sources.list"
	echo "fetching $package's source for $what from:" >&2
	sed 's/^/    /' "$apt/sources.list" >&2

	# Everything apt reads or writes for this lives in $apt; downloads
	# run as root because the directory is root's own.
	set -- \
		-o "Dir::Etc::SourceList=$apt/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$apt/lists" \
		-o "Dir::Cache=$apt/cache" \
		-o APT::Sandbox::User=root
	apt-get "$@" -q update >&2 || return 1

	download=$workdir/download
	rm -rf "$download" "$dest"
	mkdir -p "$download"
	(cd "$download" && apt-get "$@" -q source "$package") >&2 || return 1
	tree=$(find "$download" -mindepth 1 -maxdepth 1 -type d -name "$package-*")
	[ -n "$tree" ] || { echo "apt-get source $package left no source tree in $download" >&2; return 1; }
	rm -rf "$tree/.pc"
	mv "$tree" "$dest"
	rm -rf "$download"
)

# debian_root SUITE INCLUDE CACHE
# Prints the path of a tarball of a minimal Debian root of SUITE (a
# codename, or sid) with the packages INCLUDE (comma-separated), made once
# with mmdebstrap and cached in CACHE, keyed by the suite, the packages and
# the mirrors. The mirrors are this machine's Debian archives (from
# /etc/apt) for its own release; for another suite, the same archives with
# that suite (deb.debian.org serves every suite). Release files are not
# refused for being old (Acquire::Check-Valid-Until): a mirror that is a
# snapshot serves an expired sid. Concurrent calls for the same root wait
# for each other. Needs root and mmdebstrap (the caller installs it:
# build-common.sh's build_tools).
debian_root() (
	suite=$1 include=$2 cache=$3
	host=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[ -n "$host" ] || { echo "debian_root: no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
	mirrors=$(debian_mirrors "$host")
	if [ "$suite" != "$host" ]; then
		mirrors=$(printf '%s\n' "$mirrors" | awk -v h="$host" -v s="$suite" \
			'$2 == h && $1 ~ /\/debian\/?$/ { print $1, s, $3 }' | sort -u)
	fi
	[ -n "$mirrors" ] || { echo "debian_root: no Debian mirror for $suite in /etc/apt" >&2; return 1; }
	key=$(printf '%s\n%s\n%s\n' "$suite" "$include" "$mirrors" | sha256sum | cut -c1-16)
	tarball=$cache/debian-$suite-$key.tar
	mkdir -p "$cache"
	# One maker at a time (a root may be made beside a build): a second
	# one waits, then finds the tarball.
	exec 7>"$tarball.lock"
	flock 7
	if [ ! -f "$tarball" ]; then
		command -v mmdebstrap >/dev/null ||
			{ echo "debian_root: mmdebstrap is not installed" >&2; return 1; }
		echo "debian_root: creating a $suite root with mmdebstrap (cached in $tarball)" >&2
		set --
		while read -r uri dist keyring; do
			opts=
			[ "$keyring" = - ] || opts="[signed-by=$keyring] "
			set -- "$@" "deb ${opts}$uri $dist main"
		done <<-LIST
			$mirrors
		LIST
		t0=$(date +%s)
		mmdebstrap --quiet --format=tar --variant=minbase \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--include="$include" "$suite" "$tarball.tmp" "$@" >&2 ||
			{ rm -f "$tarball.tmp"; echo "debian_root: mmdebstrap failed" >&2; return 1; }
		mv "$tarball.tmp" "$tarball"
		echo "debian_root: $suite root created in $(($(date +%s) - t0)) s" >&2
	fi
	printf '%s\n' "$tarball"
)
