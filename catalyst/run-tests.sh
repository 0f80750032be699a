#!/usr/bin/env bash
# The Catalyst package's checks and its test against the real service, from a clean clone:
# npm packages pinned by catalyst/package-lock.json, check.sh, the binary, then node --test.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "--- npm ci (catalyst/)"
(cd catalyst && timeout 300 npm ci --no-audit --no-fund)
bash catalyst/check.sh

echo "--- cargo build"
timeout 1800 cargo build --locked --bin order-metafields
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | node -e 'let text = ""; process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => console.log(JSON.parse(text).target_directory))')"
export ORDER_METAFIELDS_BIN="$target_dir/debug/order-metafields"

echo "--- catalyst package test"
(cd catalyst && timeout 120 npm test)
