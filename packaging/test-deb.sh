#!/bin/sh
# Installs the packages of target/debian/ (`make deb`) into a fresh Debian
# root of this machine's release and checks them there, in a chroot with
# /proc mounted:
#
#   - installing enforces nothing (no /etc/mayexec.conf), `mayexec status`
#   - `mayexec check` on an exec and a noexec tmpfs
#   - dash-mayexec, bash-mayexec, busybox-mayexec, mayexec-python,
#     perl-mayexec and java-mayexec refuse a noexec script (or class) under
#     `mayexec run -f` (the stock ones run it); java-mayexec runs through
#     its /usr/bin link with its own home
#   - `man mayexec`, `man mayexec-mark`, `man 5 mayexec.conf` render
#   - each diversion on (the stock binary replaced) and off (the stock one
#     back, byte for byte, no diversion, nothing left)
#   - the apt hook marks a listed tree again after the package whose files
#     are in it is reinstalled with apt
#   - removing the packages with their diversions on puts the stock
#     binaries back (perl-mayexec's too),
#     and purging everything leaves the root exactly as it was
#
# The root is made once with mmdebstrap from the mirrors in /etc/apt and
# cached as a tarball in /var/cache/mayexec (MAYEXEC_DEB_CACHE); each run
# unpacks a fresh copy (--root-only: only make the cached root). Needs root.
# Prints "packages: N passed, N failed".
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
debs=$root/target/debian
cache=${MAYEXEC_DEB_CACHE:-/var/cache/mayexec}
. "$root/scripts/lib/debian-source.sh"
# build_tools (with the say and die below)
. "$root/scripts/lib/build-common.sh"

say() {
	printf 'deb test: %s\n' "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (chroot, mounts)"
root_only=false
[ "${1:-}" != --root-only ] || root_only=true
started=$(date +%s)

build_tools mmdebstrap

# --- the cached root ----------------------------------------------------------

codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
# What the packages need, and man-db for `man`: all in the cached root, so
# that installing the packages downloads nothing. java-mayexec needs the
# very openjdk-17-jdk-headless it was made from: the archive's newest, as
# on the machine that built it (the root's key changes with this list, not
# with the archive: remove the cached root after a JDK update).
include=man-db,libpython3.11,libpython3.11-stdlib,python3.11-minimal,dash,busybox,perl
include=$include,openjdk-17-jdk-headless
tarball=$(debian_root "$codename" "$include" "$cache") || die "no $codename root"

! $root_only || exit 0
ls "$debs"/*.deb >/dev/null 2>&1 || die "no packages in $debs (make deb)"

# --- a fresh copy ---------------------------------------------------------------

chroot_dir=$(mktemp -d /var/tmp/mayexec-deb-test.XXXXXX)
# A mount point of its own: the root's / is then a mount that trust_mounts
# can list (the trust hook's test below).
mount --bind "$chroot_dir" "$chroot_dir"
mounts=$chroot_dir
cleanup() {
	for m in $mounts; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$chroot_dir"
}
trap cleanup EXIT INT TERM
tar -C "$chroot_dir" -xf "$tarball"
mount -t proc proc "$chroot_dir/proc"
mounts="$chroot_dir/proc $mounts"
mkdir -p "$chroot_dir/mnt/exec" "$chroot_dir/mnt/noexec"
mount -t tmpfs -o mode=0755 tmpfs "$chroot_dir/mnt/exec"
mounts="$chroot_dir/mnt/exec $mounts"
mount -t tmpfs -o mode=0755,noexec tmpfs "$chroot_dir/mnt/noexec"
mounts="$chroot_dir/mnt/noexec $mounts"
mkdir -p "$chroot_dir/tmp/debs"
cp "$debs"/*.deb "$chroot_dir/tmp/debs/"

in_root() {
	chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
# What the root holds, for "purge leaves nothing behind": every path with
# its type and mode, outside the package manager's own state and logs.
listing() {
	in_root find / -xdev \( -path /proc -o -path /tmp -o -path /mnt -o -path /var/lib/dpkg \
		-o -path /var/lib/apt -o -path /var/cache -o -path /var/log \
		-o -path /var/cache/man \) -prune -o -printf '%p %y %m\n' | LC_ALL=C sort
}

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	say "ok: $*"
}
fail() {
	failed=$((failed + 1))
	say "FAILED: $*"
}
# check NAME COMMAND...: the command's exit status decides.
check() {
	name=$1
	shift
	if "$@" >"$chroot_dir/tmp/out" 2>&1; then
		ok "$name"
	else
		fail "$name"
		sed 's/^/    /' "$chroot_dir/tmp/out" >&2
	fi
}
# expect NAME STATUS PATTERN COMMAND...: exit status STATUS and PATTERN
# (grep -E) in what it printed.
expect() {
	name=$1 want=$2 pattern=$3
	shift 3
	got=0
	"$@" >"$chroot_dir/tmp/out" 2>&1 || got=$?
	if [ "$got" = "$want" ] && grep -Eq -- "$pattern" "$chroot_dir/tmp/out"; then
		ok "$name"
	else
		fail "$name (exit $got, want $want and /$pattern/)"
		sed 's/^/    /' "$chroot_dir/tmp/out" >&2
	fi
}

before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"; cleanup' EXIT INT TERM
listing >"$before"

# --- install --------------------------------------------------------------------

in_root_debs=$(cd "$chroot_dir/tmp/debs" && for f in *.deb; do printf '/tmp/debs/%s ' "$f"; done)
# shellcheck disable=SC2086 # one word per package
expect "the packages install with apt, offline" 0 "Setting up mayexec " \
	in_root apt-get install -y $in_root_debs
[ "$failed" = 0 ] || die "the packages do not install; nothing else can be checked"
check "installing enforces nothing: no /etc/mayexec.conf" test ! -e "$chroot_dir/etc/mayexec.conf"
expect "mayexec status" 0 "." in_root mayexec status
expect "mayexec policy check: no system policy" 0 "." in_root mayexec policy check

# --- check on exec and noexec mounts ---------------------------------------------

printf 'echo ran\n' >"$chroot_dir/mnt/exec/s.sh"
printf 'echo ran\n' >"$chroot_dir/mnt/noexec/s.sh"
printf 'print("ran")\n' >"$chroot_dir/mnt/noexec/s.py"
printf 'print "ran\\n";\n' >"$chroot_dir/mnt/exec/s.pl"
cp "$chroot_dir/mnt/exec/s.pl" "$chroot_dir/mnt/noexec/s.pl"
printf 'public class Hello { public static void main(String[] a) { System.out.println("ran"); } }\n' \
	>"$chroot_dir/mnt/exec/Hello.java"
in_root javac -d /mnt/exec /mnt/exec/Hello.java || die "javac failed in the root"
cp "$chroot_dir/mnt/exec/Hello.class" "$chroot_dir/mnt/noexec/"
chmod 0755 "$chroot_dir/mnt/exec/s.sh" "$chroot_dir/mnt/noexec/s.sh" "$chroot_dir/mnt/noexec/s.py" \
	"$chroot_dir"/mnt/*/s.pl "$chroot_dir"/mnt/*/Hello.class
expect "mayexec check allows a script on an exec tmpfs" 0 "allowed" \
	in_root mayexec check /mnt/exec/s.sh
expect "mayexec check denies a script on a noexec tmpfs" 1 "noexec-mount" \
	in_root mayexec check /mnt/noexec/s.sh

# --- the enlightened interpreters -------------------------------------------------

# enlightened OURS STOCK FILE: under run -f, OURS (a command: words)
# runs FILE of the exec tmpfs and refuses the noexec tmpfs's; STOCK,
# installed alongside, still runs the latter.
enlightened() {
	# shellcheck disable=SC2086 # OURS and STOCK are commands, a word each
	expect "$1 runs an allowed script under run -f" 0 "^ran$" \
		in_root mayexec run -f -- $1 "/mnt/exec/$3"
	# shellcheck disable=SC2086
	expect "$1 refuses a noexec script under run -f" 126 \
		"/mnt/noexec/$3: script execution denied \(noexec-mount\)" \
		in_root mayexec run -f -- $1 "/mnt/noexec/$3"
	# shellcheck disable=SC2086
	expect "the stock $2 still runs it (installed alongside)" 0 "^ran$" \
		in_root mayexec run -f -- $2 "/mnt/noexec/$3"
}

enlightened "dash-mayexec" "dash" s.sh
enlightened "bash-mayexec" "bash" s.sh
expect "bash-mayexec loads a builtin from /usr/lib/bash-mayexec" 0 "^/usr/bin$" \
	in_root bash-mayexec -c 'enable -f /usr/lib/bash-mayexec/realpath realpath && realpath /usr/bin'
enlightened "busybox-mayexec sh" "busybox sh" s.sh
expect "mayexec-python runs code without a policy" 0 "^ran$" \
	in_root mayexec-python -c 'print("ran")'
expect "mayexec-python refuses a noexec script under run -f" 126 \
	"/mnt/noexec/s.py: script execution denied \(noexec-mount\)" \
	in_root mayexec run -f -- mayexec-python /mnt/noexec/s.py
expect "perl-mayexec loads the system's modules, XS too (no policy)" 0 "^2$" \
	in_root perl-mayexec -MPOSIX -e 'print POSIX::floor(2.5), "\n"'
enlightened "perl-mayexec" "perl" s.pl
expect "java-mayexec -version through its /usr/bin link" 0 "OpenJDK" in_root java-mayexec -version
expect "java-mayexec's home is its own" 0 "java.home = /usr/lib/jvm/java-17-mayexec-amd64$" \
	in_root java-mayexec -XshowSettings:properties -version
expect "java-mayexec runs an allowed class under run -f" 0 "^ran$" \
	in_root mayexec run -f -- java-mayexec -Xshare:on -cp /mnt/exec Hello
expect "java-mayexec refuses a noexec class under run -f" 126 \
	"script execution denied \(noexec-mount\)" \
	in_root mayexec run -f -- java-mayexec -cp /mnt/noexec Hello
expect "the stock java still runs it (installed alongside)" 0 "^ran$" \
	in_root mayexec run -f -- java -cp /mnt/noexec Hello
expect "jshell-mayexec is the home's jshell" 0 "/usr/lib/jvm/java-17-mayexec-amd64/bin/jshell$" \
	in_root readlink -f /usr/bin/jshell-mayexec
# Exit 1: the stock ones, installed alongside, do not obey the check.
expect "mayexec interpreters sees mayexec-python's note" 1 "mayexec-python .*mayexec [0-9.]+ note" \
	in_root mayexec interpreters

# --- manual pages and completions ---------------------------------------------------

expect "man mayexec renders" 0 "mayexec - Script-execution control" \
	in_root env MANWIDTH=80 man -P cat mayexec
expect "man mayexec-mark renders" 0 "--config" in_root env MANWIDTH=80 man -P cat mayexec-mark
expect "man 5 mayexec.conf renders" 0 "interpreted_access" \
	in_root env MANWIDTH=80 man -P cat 5 mayexec.conf
expect "man dash-mayexec-divert renders" 0 "dpkg-divert" \
	in_root env MANWIDTH=80 man -P cat dash-mayexec-divert
expect "man bash-mayexec renders" 0 "BASH-MAYEXEC" \
	in_root env MANWIDTH=80 man -P cat bash-mayexec
expect "man busybox-mayexec renders" 0 "check every program" \
	in_root env MANWIDTH=80 man -P cat busybox-mayexec
expect "man bash-mayexec-divert renders" 0 "dpkg-divert" \
	in_root env MANWIDTH=80 man -P cat bash-mayexec-divert
expect "man busybox-mayexec-divert renders" 0 "dpkg-divert" \
	in_root env MANWIDTH=80 man -P cat busybox-mayexec-divert
expect "man mayexec-python renders" 0 "checks every code file" \
	in_root env MANWIDTH=80 man -P cat mayexec-python
expect "man perl-mayexec renders" 0 "checks every code file" \
	in_root env MANWIDTH=80 man -P cat perl-mayexec
expect "man perl-mayexec-divert renders" 0 "dpkg-divert" \
	in_root env MANWIDTH=80 man -P cat perl-mayexec-divert
expect "man jshell-mayexec renders (java-mayexec's page)" 0 "checks every class" \
	in_root env MANWIDTH=80 man -P cat jshell-mayexec
check "bash completion installed" test -s "$chroot_dir/usr/share/bash-completion/completions/mayexec"
check "example policy under /usr/share/doc/mayexec/examples" \
	in_root mayexec policy check /usr/share/doc/mayexec/examples/mayexec.conf

# --- diversions on and off ---------------------------------------------------------------

# divert_cycle PKG FILE TEST...: on replaces FILE, off restores it exactly.
divert_cycle() {
	pkg=$1 file=$2
	shift 2
	sum=$(in_root sha256sum "$file" | cut -d' ' -f1)
	expect "$pkg-divert on" 0 "is now" in_root "$pkg-divert" on
	expect "$pkg-divert on: $file is the enlightened one" 0 "/usr/bin/$pkg" \
		in_root readlink "$file"
	expect "$pkg-divert status" 0 "diverted" in_root "$pkg-divert" status
	expect "$pkg-divert on again changes nothing" 0 "already" in_root "$pkg-divert" on
	"$@"
	expect "$pkg-divert off" 0 "stock .* again" in_root "$pkg-divert" off
	check "$pkg-divert off: $file is the stock one, byte for byte" \
		test "$(in_root sha256sum "$file" | cut -d' ' -f1)" = "$sum"
	check "$pkg-divert off: no diversion left" \
		sh -c "! chroot '$chroot_dir' dpkg-divert --list | grep -q '$pkg'"
	check "$pkg-divert off: no $file.distrib left" test ! -e "$chroot_dir$file.distrib"
}
dash_diverted() {
	expect "diverted: /bin/sh refuses a noexec script under run -f" 126 \
		"script execution denied \(noexec-mount\)" in_root mayexec run -f -- sh /mnt/noexec/s.sh
	expect "an upgrade (reinstall) of dash-mayexec keeps the diversion" 0 "Setting up dash-mayexec" \
		in_root apt-get install -y --reinstall "/tmp/debs/$(cd "$chroot_dir/tmp/debs" && ls dash-mayexec_*.deb)"
	expect "after the reinstall, /bin/dash is still dash-mayexec" 0 "/usr/bin/dash-mayexec" \
		in_root readlink /bin/dash
}
bash_diverted() {
	expect "diverted: bash refuses a noexec script under run -f" 126 \
		"script execution denied \(noexec-mount\)" in_root mayexec run -f -- bash /mnt/noexec/s.sh
}
busybox_diverted() {
	expect "diverted: busybox sh refuses a noexec script under run -f" 126 \
		"script execution denied \(noexec-mount\)" in_root mayexec run -f -- busybox sh /mnt/noexec/s.sh
}
perl_diverted() {
	expect "diverted: perl refuses a noexec script under run -f" 126 \
		"script execution denied \(noexec-mount\)" in_root mayexec run -f -- perl /mnt/noexec/s.pl
}
python_diverted() {
	expect "diverted: python3.11 refuses a noexec script under run -f" 126 \
		"script execution denied \(noexec-mount\)" in_root mayexec run -f -- python3.11 /mnt/noexec/s.py
}
divert_cycle dash-mayexec /bin/dash dash_diverted
expect "after off: /bin/sh is the stock dash again" 0 "^ran$" \
	in_root mayexec run -f -- sh /mnt/noexec/s.sh
divert_cycle bash-mayexec /bin/bash bash_diverted
expect "after off: the stock bash runs the noexec script again" 0 "^ran$" \
	in_root mayexec run -f -- bash /mnt/noexec/s.sh
divert_cycle busybox-mayexec /bin/busybox busybox_diverted
expect "after off: the stock busybox sh runs the noexec script again" 0 "^ran$" \
	in_root mayexec run -f -- busybox sh /mnt/noexec/s.sh
divert_cycle mayexec-python /usr/bin/python3.11 python_diverted
divert_cycle perl-mayexec /usr/bin/perl perl_diverted
expect "after off: the stock perl runs the noexec script again" 0 "^ran$" \
	in_root mayexec run -f -- perl /mnt/noexec/s.pl

# --- the apt hook: a reinstalled package's files are marked again ----------------------------

pkgdir=$chroot_dir/tmp/mayexec-hook-test
mkdir -p "$pkgdir/DEBIAN" "$pkgdir/usr/share/mayexec-hook-test"
printf 'Package: mayexec-hook-test\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n files installed 0644\n' \
	>"$pkgdir/DEBIAN/control"
printf 'x = 1\n' >"$pkgdir/usr/share/mayexec-hook-test/mod.py"
printf 'echo ran\n' >"$pkgdir/usr/share/mayexec-hook-test/tool.sh"
chmod 0644 "$pkgdir/usr/share/mayexec-hook-test/"*
dpkg-deb --root-owner-group --build "$pkgdir" "$chroot_dir/tmp/mayexec-hook-test.deb" >/dev/null
printf '# test\n/usr/share/mayexec-hook-test\n' >"$chroot_dir/etc/mayexec/mark.d/test.conf"
mode() {
	stat -c %a "$chroot_dir/usr/share/mayexec-hook-test/mod.py"
}
expect "apt install: the hook marks the listed tree" 0 "mod.py: 0644 -> 0755" \
	in_root apt-get install -y /tmp/mayexec-hook-test.deb
check "marked: mod.py is 0755" test "$(mode)" = 755
expect "apt reinstall: the hook marks the reinstalled files again" 0 "mod.py: 0644 -> 0755" \
	in_root apt-get install -y --reinstall /tmp/mayexec-hook-test.deb
check "marked again after the reinstall: mod.py is 0755" test "$(mode)" = 755
check "the hook's journals are kept" sh -c "ls '$chroot_dir'/var/lib/mayexec/mark/*.journal"
expect "mayexec mark --config by hand: nothing left to do" 0 "marked 0," \
	in_root mayexec mark --config
journal=$(ls "$chroot_dir"/var/lib/mayexec/mark/*.journal | tail -n 1)
expect "mark --undo with the hook's journal" 0 "restored 2" \
	in_root mayexec mark --undo "${journal#"$chroot_dir"}"
check "undone: mod.py is 0644" test "$(mode)" = 644
rm "$chroot_dir/etc/mayexec/mark.d/test.conf"
expect "apt remove of the test package" 0 "Removing mayexec-hook-test" \
	in_root apt-get purge -y mayexec-hook-test

# --- the trust hook: apt under trust = "required" ----------------------------------------------
# /bin/sh is the enlightened dash, so every maintainer script of every apt
# run below is checked; the test package's scripts run the file it ships.

trust_pkg() { # VERSION: builds /tmp/mayexec-trust-test_VERSION.deb
	dir=$chroot_dir/tmp/mayexec-trust-test-$1
	mkdir -p "$dir/DEBIAN" "$dir/usr/share/mayexec-trust-test"
	printf 'Package: mayexec-trust-test\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n scripts that run a shipped file\n' \
		"$1" >"$dir/DEBIAN/control"
	printf 'echo tool-v%s\n' "$1" >"$dir/usr/share/mayexec-trust-test/tool.sh"
	chmod 0644 "$dir/usr/share/mayexec-trust-test/tool.sh"
	(cd "$dir" && md5sum usr/share/mayexec-trust-test/tool.sh >DEBIAN/md5sums)
	for script in preinst postinst prerm postrm; do
		printf '#!/bin/sh\nset -e\necho "%s $1: $(sh /usr/share/mayexec-trust-test/tool.sh 2>&1 || true)"\n' \
			"$script" >"$dir/DEBIAN/$script"
		chmod 0755 "$dir/DEBIAN/$script"
	done
	dpkg-deb --root-owner-group --build "$dir" "$chroot_dir/tmp/mayexec-trust-test_$1.deb" >/dev/null
}
for v in 1 2 3; do trust_pkg "$v"; done
trusted_list() {
	in_root mayexec trust list --json
}
expect "trust: from-dpkg trusts every package of the root" 0 "refused; the database now holds" \
	in_root mayexec trust from-dpkg
expect "trust: dash-mayexec-divert on" 0 "is now" in_root dash-mayexec-divert on
printf 'interpreted_access = 1\ntrust = "required"\ntrust_mounts = ["/"]\n' >"$chroot_dir/etc/mayexec.conf"
printf 'echo ran\n' >"$chroot_dir/root/untrusted.sh"
expect "trust required: an untrusted script is refused" 126 "untrusted-content" \
	in_root sh /root/untrusted.sh
expect "trust required: apt install runs the package's scripts (staged, then trusted)" 0 \
	"postinst configure: tool-v1" in_root apt-get install -y /tmp/mayexec-trust-test_1.deb
cp "$chroot_dir/tmp/out" "$chroot_dir/tmp/apt.out"
check "after the install: preinst ran from dpkg's tmp.ci" grep -q "preinst install: " "$chroot_dir/tmp/apt.out"
expect "after the install: nothing left staged" 0 '"staged": ?0' in_root mayexec trust status --json
expect "after the install: the shipped file is trusted by identity" 0 "allowed" \
	in_root mayexec check --level 1 --trust /usr/share/mayexec-trust-test/tool.sh
expect "after the install: so is its postinst" 0 "allowed" \
	in_root mayexec check --level 1 --trust /var/lib/dpkg/info/mayexec-trust-test.postinst
expect "trust required: apt upgrade runs the old prerm and the new scripts" 0 \
	"prerm upgrade: tool-v1" \
	in_root apt-get install -y /tmp/mayexec-trust-test_2.deb
cp "$chroot_dir/tmp/out" "$chroot_dir/tmp/apt.out"
check "after the upgrade: the new postinst printed tool-v2" grep -q "postinst configure: tool-v2" "$chroot_dir/tmp/apt.out"
check "after the upgrade: the new version is trusted, the old one forgotten" sh -c \
	"chroot '$chroot_dir' mayexec trust list --json >'$chroot_dir/tmp/list' &&
	 grep -q 'package mayexec-trust-test 2' '$chroot_dir/tmp/list' &&
	 ! grep -q 'package mayexec-trust-test 1' '$chroot_dir/tmp/list'"
expect "after the upgrade: verify finds the package's files unchanged" 0 "2 verified, 0 drifted" \
	in_root mayexec trust verify /usr/share/mayexec-trust-test/tool.sh \
		/var/lib/dpkg/info/mayexec-trust-test.postinst
printf 'echo appended\n' >>"$chroot_dir/usr/share/mayexec-trust-test/tool.sh"
expect "a changed byte in a trusted file: refused" 126 "untrusted-content" \
	in_root sh /usr/share/mayexec-trust-test/tool.sh
mv "$chroot_dir/etc/apt/apt.conf.d/91mayexec-trust" "$chroot_dir/tmp/"
expect "without the hook, the upgrade's scripts are refused (the hook is what makes it pass)" 100 \
	"untrusted-content" in_root apt-get install -y /tmp/mayexec-trust-test_3.deb
mv "$chroot_dir/tmp/91mayexec-trust" "$chroot_dir/etc/apt/apt.conf.d/"
expect "with the hook again, the failed upgrade completes" 0 "postinst configure: tool-v3" \
	in_root apt-get install -y /tmp/mayexec-trust-test_3.deb
expect "after it: the file is the package's again, trusted" 0 "allowed" \
	in_root mayexec check --level 1 --trust /usr/share/mayexec-trust-test/tool.sh
expect "trust required: apt purge runs prerm and postrm" 0 "postrm purge: " \
	in_root apt-get purge -y mayexec-trust-test
check "after the purge: the package's entries are gone" sh -c \
	"chroot '$chroot_dir' mayexec trust list --json >'$chroot_dir/tmp/list' &&
	 ! grep -q mayexec-trust-test '$chroot_dir/tmp/list'"
rm "$chroot_dir/etc/mayexec.conf" "$chroot_dir/root/untrusted.sh"
check "trust: dash-mayexec-divert off" in_root dash-mayexec-divert off

# --- remove with the diversion on, then purge ---------------------------------------------------

for pkg in dash-mayexec bash-mayexec busybox-mayexec perl-mayexec; do
	expect "$pkg-divert on before the removal" 0 "is now" in_root "$pkg-divert" on
done
expect "apt purge of every package" 0 "Purging configuration files for mayexec " \
	in_root apt-get purge -y mayexec libmayexec0 libmayexec-dev dash-mayexec bash-mayexec \
		busybox-mayexec mayexec-python perl-mayexec java-mayexec
check "removing dash-mayexec put the stock dash back" in_root dpkg --verify dash
check "removing bash-mayexec put the stock bash back" in_root dpkg --verify bash
check "removing busybox-mayexec put the stock busybox back" in_root dpkg --verify busybox
check "removing perl-mayexec put the stock perl back" in_root dpkg --verify perl-base
check "no diversion left" sh -c "! chroot '$chroot_dir' dpkg-divert --list | grep -q mayexec"
expect "/bin/sh works after the purge" 0 "^ran$" in_root sh /mnt/exec/s.sh
listing >"$after"
if diff -u "$before" "$after" >"$chroot_dir/tmp/out"; then
	ok "purge left the root as it was before the install"
else
	fail "purge left files behind"
	sed 's/^/    /' "$chroot_dir/tmp/out" >&2
fi

say "done in $(($(date +%s) - started)) s"
printf "packages: %d passed, %d failed\n" "$passed" "$failed"
[ "$failed" = 0 ]
