// The documentation shows theme developers the very snippets the sandbox renders and the
// browser test runs: this keeps its copies byte for byte equal to client/snippets/.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";

const here = new URL(".", import.meta.url);

const copies = [
  ["README.md", "order-details.html"],
  ["README.md", "orders-list.html"],
  ["../docs/storefront.md", "order-details.html"],
];

for (const [documentPath, name] of copies) {
  it(`${documentPath} shows snippets/${name} as it is`, async () => {
    const document = await readFile(new URL(documentPath, here), "utf8");
    const snippet = await readFile(new URL(`snippets/${name}`, here), "utf8");

    assert.ok(document.includes("```handlebars\n" + snippet + "```\n"), `update ${documentPath} from snippets/${name}`);
  });
}
