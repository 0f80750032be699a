#!/usr/bin/env bash
# The storefront client as an npm package, checked with the TypeScript compiler pinned in
# package-lock.json: the module's JSDoc type-checks strictly, the committed declarations
# (order-metafields.d.ts) are exactly what tsc generates from it, a TypeScript caller
# compiles against them, and `npm pack` holds exactly the files a user needs. Run from
# anywhere; installs the pinned npm packages when they are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [ ! -x node_modules/.bin/tsc ]; then
  echo "--- npm ci (client/)"
  timeout 300 npm ci --no-audit --no-fund
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "--- tsc: type-check order-metafields.js and generate its declarations"
timeout 120 node_modules/.bin/tsc -p tsconfig.json --outDir "$scratch"
if ! diff -u order-metafields.d.ts "$scratch/order-metafields.d.ts"; then
  echo "client/order-metafields.d.ts is not what tsc generates from the JSDoc: run 'npm run types' in client/ and commit it" >&2
  exit 1
fi

echo "--- tsc: a TypeScript caller compiles against the declarations"
timeout 120 node_modules/.bin/tsc -p tsconfig.types-check.json

echo "--- npm pack --dry-run: the package's files"
expected="LICENSE
README.md
order-metafields.d.ts
order-metafields.js
package.json
snippets/order-details.html
snippets/orders-list.html"
packed="$(npm pack --dry-run --json 2>/dev/null \
  | node -e 'let text = ""; process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => console.log(JSON.parse(text)[0].files.map((file) => file.path).sort().join("\n")))')"
if [ "$packed" != "$expected" ]; then
  printf 'npm pack would publish:\n%s\n\nexpected exactly:\n%s\n' "$packed" "$expected" >&2
  exit 1
fi
echo "$packed"
if ! cmp -s LICENSE ../LICENSE; then
  echo "client/LICENSE differs from the repository's LICENSE: copy it" >&2
  exit 1
fi
echo "client package: types and contents as expected"
