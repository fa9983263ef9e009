#!/usr/bin/env bash
# The public API of the library crate `mayexec`, compared with the listing
# committed in crates/mayexec/api/mayexec.txt: a change to the surface (an item
# added, removed, renamed, a signature, a field, #[non_exhaustive], a trait
# implemented) fails here until the listing is regenerated and committed with
# it, so that it is a visible decision in review.
#
#   bash crates/mayexec/api/check.sh           compare (CI: .ci/run, step "api")
#   bash crates/mayexec/api/check.sh --update  rewrite crates/mayexec/api/mayexec.txt
#
# The listing comes from rustdoc's JSON output (unstable, hence
# RUSTC_BOOTSTRAP=1 on the stable toolchain) through
# crates/mayexec/api/listing.py; no tool to install. docs/testing.md says more.
set -euo pipefail
cd "$(dirname "$0")/../../.."

listing=crates/mayexec/api/mayexec.txt
update=false
case ${1:-} in
--update) update=true ;;
"") ;;
*)
    echo "usage: bash crates/mayexec/api/check.sh [--update]" >&2
    exit 2
    ;;
esac

target=${CARGO_TARGET_DIR:-target}
RUSTC_BOOTSTRAP=1 cargo rustdoc --quiet -p mayexec --lib -- \
    -Z unstable-options --output-format json
new=$(mktemp)
trap 'rm -f "$new"' EXIT
python3 crates/mayexec/api/listing.py "$target/doc/mayexec.json" >"$new"

if $update; then
    cp "$new" "$listing"
    echo "api-check: wrote $listing ($(wc -l <"$listing") items)" >&2
elif ! diff -u "$listing" "$new" >&2; then
    echo "api-check: the public API of crate mayexec differs from $listing (above:" >&2
    echo "  - was, + is). If the change is meant, run" >&2
    echo "      bash crates/mayexec/api/check.sh --update" >&2
    echo "  and commit $listing with it (a removal or a change is a breaking one)." >&2
    exit 1
fi
