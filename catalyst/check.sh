#!/usr/bin/env bash
# The Catalyst package, checked with the pinned TypeScript: its types generated from the
# service's openapi.yaml are up to date (openapi-typescript), everything type-checks strictly
# and builds, and `npm pack` holds exactly the built files. Run from anywhere; installs the
# pinned npm packages when they are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [ ! -x node_modules/.bin/tsc ]; then
  echo "--- npm ci (catalyst/)"
  timeout 300 npm ci --no-audit --no-fund
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "--- openapi-typescript: src/openapi.ts is what openapi.yaml generates"
timeout 120 node_modules/.bin/openapi-typescript ../openapi.yaml --output "$scratch/openapi.ts" >/dev/null
if ! diff -u src/openapi.ts "$scratch/openapi.ts"; then
  echo "catalyst/src/openapi.ts is out of date: run 'npm run types' in catalyst/ and commit it" >&2
  exit 1
fi

echo "--- tsc: type-check and build"
timeout 120 node_modules/.bin/tsc -p tsconfig.json

echo "--- npm pack --dry-run: the package's files"
expected="LICENSE
README.md
dist/index.d.ts
dist/index.js
dist/openapi.d.ts
dist/openapi.js
dist/order-metafields.d.ts
dist/order-metafields.js
dist/server.d.ts
dist/server.js
package.json"
packed="$(npm pack --dry-run --json 2>/dev/null \
  | node -e 'let text = ""; process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => console.log(JSON.parse(text)[0].files.map((file) => file.path).sort().join("\n")))')"
if [ "$packed" != "$expected" ]; then
  printf 'npm pack would publish:\n%s\n\nexpected exactly:\n%s\n' "$packed" "$expected" >&2
  exit 1
fi
echo "catalyst package: types, build and contents as expected"
