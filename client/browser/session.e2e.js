// Cookie sessions in a real browser, on a same-site layout: the storefront at
// http://www.shop.localhost:S and the service at http://api.shop.localhost:P are two hosts of
// one site (shop.localhost), as www.store.com and api.store.com would be. The client module
// with `session: true` starts a session once; from then on the service's reads carry only its
// HttpOnly cookie (no Authorization header), and a page of another site gets nothing.
//
// Run with the other browser test (client/run-browser-test.sh), or: node --test
// client/browser/session.e2e.js (after `npm ci` in client/ and `cargo build`).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY =
  process.env.ORDER_METAFIELDS_BIN ??
  path.resolve(ROOT, process.env.CARGO_TARGET_DIR ?? "target", "debug", "order-metafields");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const APP_CLIENT_ID = "sandbox-demo-client-id";
const PASSWORD = "sandbox-password";
const START_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 10_000;

/** A loopback port free now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits (bounded) until `url` answers 200. */
async function waitForHealth(url, child, output) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}:\n${output()}`);
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
    if (response?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the demo did not answer ${url} within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

describe("cookie session in headless Chromium, service and storefront on one site", { timeout: 120_000 }, () => {
  let demo;
  let browser;
  let storefront;
  let api;
  let crossSite;

  before(async () => {
    const [servicePort, sandboxPort] = [await freePort(), await freePort()];
    storefront = `http://www.shop.localhost:${sandboxPort}`;
    api = `http://api.shop.localhost:${servicePort}`;
    crossSite = `http://127.0.0.1:${sandboxPort}`;
    let log = "";
    demo = spawn(
      BINARY,
      ["demo", "--port", String(servicePort), "--sandbox-port", String(sandboxPort), "--cors-allowed-origins", storefront],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } },
    );
    demo.stdout.setEncoding("utf8").on("data", (chunk) => (log += chunk));
    demo.stderr.setEncoding("utf8").on("data", (chunk) => (log += chunk));
    await waitForHealth(`http://127.0.0.1:${servicePort}/healthz`, demo, () => log);
    await waitForHealth(`http://127.0.0.1:${sandboxPort}/login`, demo, () => log);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
      timeout: START_TIMEOUT_MS,
    });
  }, { timeout: START_TIMEOUT_MS * 2 + 5_000 });

  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = new Promise((resolve) => demo.once("exit", resolve));
      demo.kill("SIGTERM");
      const timer = setTimeout(() => demo.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  });

  it("shows the metafields with reads that carry only the HttpOnly cookie, and refuses another site", { timeout: 60_000 }, async () => {
    // The sandbox's pages limit scripts to the service they know; this page is a stand-in for a
    // storefront whose own policy allows its api host.
    const context = await browser.newContext({ bypassCSP: true });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    const toService = [];
    page.on("request", (request) => {
      if (request.url().startsWith(api)) toService.push(request);
    });
    try {
      await page.goto(`${storefront}/login`);
      await page.fill("input[name=email]", "alice@example.com");
      await page.fill("input[name=password]", PASSWORD);
      await Promise.all([page.waitForURL(`${storefront}/`), page.click("form[action='/login'] button")]);

      const seen = await page.evaluate(
        async ({ api, appClientId }) => {
          const { createClient } = await import(`${api}/client/v1/order-metafields.js`);
          const client = createClient({ apiBase: api, appClientId, session: true });
          const viaClient = await client.metafields(369);
          // The page itself, with no token at all: the browser adds the service's cookie.
          const plain = await fetch(`${api}/v1/orders/369/metafields`, { credentials: "include" });
          return { viaClient, plainStatus: plain.status, plain: await plain.json(), cookies: document.cookie };
        },
        { api, appClientId: APP_CLIENT_ID },
      );

      const keys = (fields) => fields.map((field) => `${field.namespace}.${field.key}`).sort();
      assert.ok(keys(seen.viaClient).includes("gift.message"), JSON.stringify(seen.viaClient));
      assert.equal(seen.plainStatus, 200);
      assert.deepEqual(keys(seen.plain.data), keys(seen.viaClient));
      assert.ok(!seen.cookies.includes("om_session"), "no script reads the session");
      const [session] = (await context.cookies(api)).filter((cookie) => cookie.name === "__Host-om_session");
      assert.ok(session, "the service set its cookie");
      assert.equal(session.httpOnly, true);
      assert.equal(session.secure, true);
      assert.equal(session.sameSite, "Lax");
      assert.equal(session.domain, "api.shop.localhost", "host-only");
      const reads = toService.filter((request) => request.url().includes("/v1/orders"));
      assert.ok(reads.length >= 2, "the client's read and the page's");
      for (const read of reads) {
        assert.equal(read.headers().authorization, undefined, `${read.method()} ${read.url()} carries no token`);
      }
      const starts = toService.filter((request) => request.url().endsWith("/v1/session"));
      assert.deepEqual(starts.map((request) => request.method()), ["POST"]);

      // Another site (127.0.0.1 is not shop.localhost), same browser and cookies: refused.
      await page.goto(`${crossSite}/login`);
      const crossSiteOutcome = await page.evaluate(async (api) => {
        try {
          const response = await fetch(`${api}/v1/orders/369/metafields`, { credentials: "include" });
          return `answered ${response.status}`;
        } catch (error) {
          return `blocked: ${error.name}`;
        }
      }, api);
      assert.equal(crossSiteOutcome, "blocked: TypeError");
    } finally {
      await context.close();
    }
  });
});
