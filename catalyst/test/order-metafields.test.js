// The React Server Component rendered against the real service: `order-metafields serve` (one
// store) in front of a fake BigCommerce on loopback (Management API, private tokens, GraphQL
// Storefront API with alice's and bob's customer access tokens). Alice sees her order's
// metafields in the HTML and nothing of bob's; an order that is not hers renders nothing.
//
// Run with `npm test` in catalyst/ after `npm run build` and `cargo build`.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { renderToStaticMarkup } from "react-dom/server";

import { OrderMetafields, getOrderMetafields } from "../dist/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY =
  process.env.ORDER_METAFIELDS_BIN ??
  path.resolve(ROOT, process.env.CARGO_TARGET_DIR ?? "target", "debug", "order-metafields");
const STORE = "catalyststore";
const CHANNEL = "2";
const expiry = Math.floor(Date.now() / 1000) + 3600;
const ALICE = `alice0123456789abcdef_${expiry}`;
const BOB = `bob0123456789abcdef_${expiry}`;
const CUSTOMERS = { [ALICE]: 1, [BOB]: 2 };
const PRIVATE_TOKEN = "catalyst-private-token";

function order(id, customerId) {
  return {
    id, customer_id: customerId, date_created: "Tue, 05 Mar 2024 10:00:00 +0000", status_id: 11,
    status: "Awaiting Fulfillment", currency_code: "USD", total_inc_tax: "10.0000", channel_id: 2,
  };
}

function metafield(id, orderId, key, value) {
  return {
    id, key, value, namespace: "shipping", permission_set: "read_and_sf_access", resource_type: "order",
    resource_id: orderId, description: `about ${key}`, date_created: "2024-03-05T10:00:00+00:00",
    date_modified: "2024-03-06T10:00:00+00:00",
  };
}

const ORDERS = { 1: [order(100, 1)], 2: [order(200, 2)] };
const METAFIELDS = {
  100: [metafield(1, 100, "tracking", "alice <parcel> & co")],
  200: [metafield(2, 200, "tracking", "BOB-SECRET-PARCEL")],
};

/** The fake BigCommerce: what the service asks of it, and how often. */
function fakeBigCommerce() {
  const calls = { graphql: 0, privateTokens: 0 };
  const server = createServer((request, response) => {
    const url = new URL(request.url, "http://fake");
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const json = (status, value) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(value === undefined ? undefined : JSON.stringify(value));
      };
      if (request.method === "POST" && url.pathname === `/stores/${STORE}/v3/storefront/api-token-private`) {
        calls.privateTokens += 1;
        const asked = JSON.parse(body);
        assert.deepEqual(asked.channel_ids, [Number(CHANNEL)]);
        assert.deepEqual(asked.scopes, ["Customer"]);
        return json(200, { data: { token: PRIVATE_TOKEN }, meta: {} });
      }
      if (request.method === "POST" && url.pathname === `/graphql/${STORE}/${CHANNEL}`) {
        calls.graphql += 1;
        if (request.headers.authorization !== `Bearer ${PRIVATE_TOKEN}`) return json(401, {});
        const customer = CUSTOMERS[request.headers["x-bc-customer-access-token"]];
        return json(200, { data: { customer: customer ? { entityId: customer } : null } });
      }
      if (request.method === "GET" && url.pathname === `/stores/${STORE}/v2/orders`) {
        const page = Number(url.searchParams.get("page") ?? "1");
        const orders = page === 1 ? ORDERS[url.searchParams.get("customer_id")] ?? [] : [];
        return orders.length === 0 ? json(204) : json(200, orders);
      }
      const metafields = url.pathname.match(new RegExp(`^/stores/${STORE}/v3/orders/(\\d+)/metafields$`));
      if (request.method === "GET" && metafields) {
        const data = METAFIELDS[metafields[1]] ?? [];
        return json(200, { data, meta: { pagination: { total: data.length, count: data.length, per_page: 250, current_page: 1, total_pages: 1 } } });
      }
      json(404, { title: "not found" });
    });
  });
  return { server, calls };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

describe("OrderMetafields against the real service", { timeout: 60_000 }, () => {
  let fake;
  let service;
  let options;

  before(async () => {
    fake = fakeBigCommerce();
    await new Promise((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    const upstream = `http://127.0.0.1:${fake.server.address().port}`;
    const port = await freePort();
    let log = "";
    service = spawn(BINARY, ["serve"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        BC_STORE_HASH: STORE,
        BC_ACCESS_TOKEN: "catalyst-access-token",
        BC_CLIENT_ID: "catalyst-client-id",
        BC_CLIENT_SECRET: "catalyst-client-secret",
        BC_API_BASE_URL: upstream,
        BC_GRAPHQL_URL: `${upstream}/graphql/{store_hash}/{channel_id}`,
        LISTEN_ADDR: `127.0.0.1:${port}`,
        LOG_LEVEL: "warn",
      },
    });
    service.stdout.on("data", (chunk) => (log += chunk));
    service.stderr.on("data", (chunk) => (log += chunk));
    options = { serviceUrl: `http://127.0.0.1:${port}`, storeHash: STORE, channelId: CHANNEL };
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (service.exitCode !== null) throw new Error(`the service exited:\n${log}`);
      const health = await fetch(`${options.serviceUrl}/healthz`).catch(() => null);
      if (health?.ok) break;
      if (Date.now() > deadline) throw new Error(`the service did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  after(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service.once("exit", resolve));
      service.kill("SIGTERM");
      await exited;
    }
    await new Promise((resolve) => fake?.server.close(resolve));
  });

  it("cannot be imported outside a server (the 'server-only' guard)", () => {
    const imported = spawnSync(process.execPath, ["--input-type=module", "-e", "await import('./dist/index.js')"], {
      cwd: path.resolve(ROOT, "catalyst"),
      encoding: "utf8",
      timeout: 20_000,
    });

    assert.notEqual(imported.status, 0);
    assert.match(imported.stderr, /Client Component/);
  });

  it("renders alice's metafields, escaped, and nothing of bob's", async () => {
    const element = await OrderMetafields({ orderId: 100, customerAccessToken: ALICE, ...options });
    const html = renderToStaticMarkup(element);

    assert.equal(
      html,
      '<section aria-labelledby="order-metafields-100" data-order-metafields="100"><h2 id="order-metafields-100">Order details</h2>' +
        '<dl><div><dt>about tracking</dt><dd data-metafield="shipping.tracking">alice &lt;parcel&gt; &amp; co</dd></div></dl></section>',
    );
    assert.ok(!html.includes("BOB"));
  });

  it("renders nothing for an order that is not hers, and for a signed-out visitor", async () => {
    const bobs = await OrderMetafields({ orderId: 200, customerAccessToken: ALICE, ...options });
    const signedOut = await OrderMetafields({ orderId: 100, customerAccessToken: undefined, ...options });

    assert.equal(bobs, null);
    assert.equal(signedOut, null);
  });

  it("gives bob his own, and checks each token with GraphQL once", async () => {
    const graphqlBefore = fake.calls.graphql;
    const first = await getOrderMetafields(200, BOB, options);
    const again = await getOrderMetafields(200, BOB, options);

    assert.deepEqual(first.map((field) => field.value), ["BOB-SECRET-PARCEL"]);
    assert.deepEqual(again, first);
    assert.equal(fake.calls.graphql - graphqlBefore, 1);
    assert.equal(fake.calls.privateTokens, 1, "one private token for the store's channel");
  });
});
