#!/usr/bin/env bash
# The storefront client's tests from a clean clone on Debian: installs Chromium when it is
# missing and the npm packages pinned by client/package-lock.json, checks the npm package
# (tsc on the JSDoc, the generated declarations, `npm pack` contents: check-package.sh),
# builds the binary, then runs the client's unit tests (node --test) and the browser
# end-to-end test in headless Chromium. Screenshots are saved in artifacts/browser/. Every
# step has a time limit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
  echo "--- installing Debian's chromium"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "the client's tests need Node.js 20 or newer, found $(node --version)" >&2
  exit 1
fi

echo "--- npm ci (client/)"
(cd client && timeout 300 npm ci --no-audit --no-fund)

bash client/check-package.sh

echo "--- cargo build"
timeout 1800 cargo build --locked --bin order-metafields
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | node -e 'let text = ""; process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => console.log(JSON.parse(text).target_directory))')"
export ORDER_METAFIELDS_BIN="$target_dir/debug/order-metafields"

echo "--- client unit tests"
timeout 120 node --test --test-reporter=spec client/

echo "--- browser end-to-end test"
mkdir -p artifacts/browser
started=$(date +%s)
timeout 300 node --test --test-reporter=spec client/browser/storefront.e2e.js client/browser/merchant.e2e.js client/browser/session.e2e.js
echo "browser test took $(($(date +%s) - started)) s; screenshots in artifacts/browser/"
