// The README shows theme developers the very snippets the sandbox renders and the browser
// test runs: this keeps its copies byte for byte equal to client/snippets/.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";

const here = new URL(".", import.meta.url);

for (const name of ["order-details.html", "orders-list.html"]) {
  it(`README.md shows snippets/${name} as it is`, async () => {
    const readme = await readFile(new URL("README.md", here), "utf8");
    const snippet = await readFile(new URL(`snippets/${name}`, here), "utf8");

    assert.ok(readme.includes("```handlebars\n" + snippet + "```\n"), `update README.md from snippets/${name}`);
  });
}
