#!/usr/bin/env bash
# Builds the mayexec command and shows it at work: what this kernel supports,
# then verdicts on scripts on an exec and a noexec tmpfs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh   # libseccomp-dev, gcc…: what the build needs
cargo build --release -p mayexec-cli
mayexec=$PWD/target/release/mayexec

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { step "$*"; set +e; "$@"; echo "(exit status $?)"; set -e; }

run "$mayexec" status

demo=$(mktemp -d /tmp/mayexec-demo.XXXXXX)
cleanup() {
    umount "$demo/exec" "$demo/noexec" 2>/dev/null || true
    rm -rf "$demo"
}
trap cleanup EXIT
mkdir "$demo/exec" "$demo/noexec"
if [ "$(id -u)" -eq 0 ]; then
    mount -t tmpfs -o mode=0755 tmpfs "$demo/exec"
    mount -t tmpfs -o mode=0755,noexec tmpfs "$demo/noexec"
else
    echo "(not root: no noexec tmpfs can be mounted; the noexec example is on $demo's own mount)"
fi
printf '#!/bin/sh\necho hello\n' > "$demo/exec/tool.sh";    chmod 0755 "$demo/exec/tool.sh"
printf '#!/bin/sh\necho hello\n' > "$demo/exec/notes.sh";   chmod 0644 "$demo/exec/notes.sh"
printf '#!/bin/sh\necho evil\n'  > "$demo/noexec/evil.sh";  chmod 0755 "$demo/noexec/evil.sh"

run "$mayexec" check "$demo/exec/tool.sh" "$demo/exec/notes.sh" "$demo/noexec/evil.sh"
run "$mayexec" check --backend emulated --level 2 "$demo/noexec/evil.sh"
run "$mayexec" check --level 1 "$demo/exec/notes.sh" "$demo/noexec/evil.sh"
run "$mayexec" check --json "$demo/noexec/evil.sh" /etc/passwd
step "sh $demo/noexec/evil.sh   # noexec does not stop an interpreter…"
sh "$demo/noexec/evil.sh"
run "$mayexec" run -f -i -- "$mayexec" status --json
