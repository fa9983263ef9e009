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
