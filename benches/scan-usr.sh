#!/bin/bash
# Scan bench: `mayexec scan` over a tree against `find TREE -type f` over the
# same tree, in the same run, warm cache, with hyperfine.
#
#   bash benches/scan-usr.sh [TREE]        (default /usr; needs root for apt)
#
# Prints files/second for each command and the ratio scan/find; the
# numbers go to docs/performance.md by hand. Target: scan <= 3x find.
set -euo pipefail
tree=${1:-/usr}
cd "$(dirname "$0")/.."

if ! command -v hyperfine >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
fi
cargo build --release -j2 -p mayexec-cli >/dev/null 2>&1
bin=$PWD/target/release/mayexec
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

files=$(find "$tree" -type f | wc -l)
dirs=$(find "$tree" -type d | wc -l)
echo "tree: $tree, $files regular files, $dirs directories, $(nproc) cores, $(uname -r)"
{ "$bin" scan --json "$tree" || true; } | tail -1 | sed "s/^/one scan: /"

# A scan that finds something to deny exits 1: -i keeps hyperfine going.
hyperfine -N -i --warmup 3 --runs 15 --export-json "$out/h.json" \
    --command-name "find -type f" "find $tree -type f" \
    --command-name "scan -j1" "$bin scan -j1 $tree" \
    --command-name "scan -j2" "$bin scan -j2 $tree" \
    --command-name "scan -j2 --json" "$bin scan -j2 --json $tree" \
    >"$out/h.txt"
cat "$out/h.txt"
python3 - "$out/h.json" "$files" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
files = int(sys.argv[2])
find = next(r for r in results if r["command"] == "find -type f")
print(f"{'command':<18}{'mean s':>9}{'± s':>8}{'files/s':>12}{'vs find':>9}")
for r in results:
    print(f"{r['command']:<18}{r['mean']:>9.3f}{r['stddev']:>8.3f}"
          f"{files / r['mean']:>12.0f}{r['mean'] / find['mean']:>8.2f}x")
PY
