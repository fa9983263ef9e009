#!/usr/bin/env bash
# Benchmarks libmayexec from C against the plain system calls, in one run:
# with no policy, under a level-1 and a level-3 system policy (a private
# mount namespace with its own /etc/mayexec.conf), and under securebits
# (SECBIT_EXEC_RESTRICT_FILE via `mayexec run -f`). Needs root (tmpfs,
# namespaces), cc and pkg-config. Prints ns per call.
set -euo pipefail
cd "$(dirname "$0")/../../.."

work=$(mktemp -d)
trap 'umount "$work/mnt" 2>/dev/null || true; rm -rf "$work"' EXIT
make --no-print-directory -s install PREFIX="$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" LD_LIBRARY_PATH="$work/prefix/lib"
cc -O2 -std=c11 -Wall -o "$work/bench" crates/mayexec-capi/benches/bench.c \
    $(pkg-config --cflags --libs mayexec)
cargo build --quiet --release -p mayexec-cli

mkdir "$work/mnt"
mount -t tmpfs -o mode=0755 tmpfs "$work/mnt"
printf '+\n' > "$work/mnt/script"
chmod 0755 "$work/mnt/script"

with_policy() {
    local policy=$1; shift
    mkdir -p "$work/etc-upper" "$work/etc-work"
    printf '%s\n' "$policy" > "$work/etc-upper/mayexec.conf"
    chmod 0644 "$work/etc-upper/mayexec.conf"
    unshare --mount --propagation private -- sh -c \
        'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc && shift 2 && exec "$@"' \
        sh "$work/etc-upper" "$work/etc-work" "$@"
    rm -rf "$work/etc-upper" "$work/etc-work"
}

echo "## no policy";                 "$work/bench" "$work/mnt/script"
echo "## interpreted_access = 1";    with_policy "interpreted_access = 1" "$work/bench" "$work/mnt/script"
echo "## interpreted_access = 3";    with_policy "interpreted_access = 3" "$work/bench" "$work/mnt/script"
echo "## mayexec run -f";            target/release/mayexec run -f -- "$work/bench" "$work/mnt/script"
