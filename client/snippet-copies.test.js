// The README shows theme developers the very snippets the sandbox renders and the browser
// test runs: this keeps its copies byte for byte equal to client/snippets/.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";

const here = new URL(".", import.meta.url);

const copies = [
  ["README.md", "order-details.html"],
  ["README.md", "orders-list.html"],
  ["../README.md", "order-details.html"],
];

for (const [readmePath, name] of copies) {
  it(`${readmePath} shows snippets/${name} as it is`, async () => {
    const readme = await readFile(new URL(readmePath, here), "utf8");
    const snippet = await readFile(new URL(`snippets/${name}`, here), "utf8");

    assert.ok(readme.includes("```handlebars\n" + snippet + "```\n"), `update ${readmePath} from snippets/${name}`);
  });
}
