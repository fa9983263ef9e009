#!/usr/bin/env bash
# Installs what mayexec's build and tests need from Debian, when missing.
# Idempotent; needs root (the tests need root anyway: they mount tmpfs).
set -euo pipefail

packages=(
    acl          # setfacl: POSIX ACL cases of the conformance suite
    util-linux   # unshare, setpriv, setsid: private mount namespaces, dropped privileges
    pkg-config   # the C ABI's tests build against the installed .pc
    gcc          # … and compile C programs
    libc6-dev
    make         # libmayexec's `make install`
    libseccomp-dev  # mayexec run's seccomp filter, and the testkit's fakes, are libseccomp's
    bash-static     # static, stripped interpreters: the inventory must recognise
    busybox-static  # them by content (crates/mayexec-cli/tests/lockdown.rs)
    zsh-static
    lua5.4          # a Lua interpreter that links no liblua
    libpython3.11-dev  # mayexec-python built against Debian's python3.11 (its trust test)
    strace          # the conformance suite counts the checks an interpreter makes
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
