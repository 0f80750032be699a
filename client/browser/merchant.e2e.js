// The merchant page in a real browser: headless Chromium opens the sandbox store's control
// panel, opens the app in its iframe (the load callback, as BigCommerce does), defines a label,
// type and position for two keys and hides a third, and sees Alice's order page render them so;
// previews as Alice; and turns the storefront script on, after which an order page of a theme
// without the pasted snippet still shows the order's details.
//
// With `demo --sync-mode mirror`, the page shows how far the store's copy is, and Alice's order
// page is served from the mirror without a Management API call.
//
// Run by client/run-browser-test.sh, or: node --test client/browser/ (after `npm ci` in
// client/ and `cargo build`). Screenshots go to artifacts/browser/.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY =
  process.env.ORDER_METAFIELDS_BIN ??
  path.resolve(ROOT, process.env.CARGO_TARGET_DIR ?? "target", "debug", "order-metafields");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = path.join(ROOT, "artifacts", "browser");
// The sandbox's public demo values (`order-metafields sandbox --help`).
const ACCESS_TOKEN = "sandbox-demo-access-token";
const PASSWORD = "sandbox-password";
// Alice's shipped order: a tracking link and a carrier the storefront shows.
const ORDER = 367;

const START_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 90_000;

/** Starts `order-metafields demo` on free loopback ports (with `extra` arguments); resolves
 * with its two origins. */
function startDemo(extra = []) {
  const child = spawn(BINARY, ["demo", "--port", "0", "--sandbox-port", "0", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  let output = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const fail = (error) => {
      clearTimeout(timer);
      reject(error);
    };
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`the demo exited with ${code}:\n${output}`)));
    let probing = false;
    const onOutput = async (chunk) => {
      output += chunk;
      const origins = [...new Set(output.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [])];
      if (origins.length < 2 || probing) return;
      probing = true;
      for (const origin of origins) {
        const health = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) }).catch(() => null);
        if (health?.ok && (await health.json()).status === "ok") {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve({ child, service: origin, storefront: origins.find((other) => other !== origin) });
          return;
        }
      }
      probing = false;
    };
    child.stdout.setEncoding("utf8").on("data", onOutput);
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  });
  ready.catch(() => child.kill("SIGKILL"));
  return ready;
}

async function stopDemo(demo) {
  if (!demo || demo.child.exitCode !== null) return;
  const exited = new Promise((resolve) => demo.child.once("exit", resolve));
  demo.child.kill("SIGTERM");
  const timer = setTimeout(() => demo.child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Calls the sandbox store's Management API as the store's own API account. */
async function management(demo, method, route, body) {
  const response = await fetch(`${demo.storefront}/stores/sandbox1${route}`, {
    method,
    headers: { "X-Auth-Token": ACCESS_TOKEN, "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

async function signIn(page, storefront, email) {
  await page.goto(`${storefront}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForURL(`${storefront}/`), page.click("form[action='/login'] button")]);
  await page.getByText(`<${email}>`).waitFor();
}

/** The merchant page inside the control panel's iframe. */
async function openApp(page, storefront) {
  await page.goto(`${storefront}/manage`);
  await page.click("#open");
  const frame = page.frameLocator("#app-frame");
  await frame.getByRole("heading", { name: "Order details for shoppers" }).waitFor();
  return frame;
}

/** Fills and sends the "Add a field" form in the app's frame. */
async function addField(frame, { namespace, key, label = "", type = "text", position = "0", hidden = false }) {
  const form = frame.locator("form#add");
  await form.locator("input[name=namespace]").fill(namespace);
  await form.locator("input[name=key]").fill(key);
  await form.locator("input[name=label]").fill(label);
  await form.locator("select[name=type]").selectOption(type);
  await form.locator("input[name=position]").fill(position);
  if (hidden) await form.locator("input[name=hidden]").check();
  await form.getByRole("button", { name: "Add field" }).click();
  await frame.getByText("The field definition was saved.").waitFor();
}

/** The storefront's "More about this order" terms and values. */
async function shownFields(page) {
  const list = page.locator("#order-metafields dl");
  await list.waitFor({ state: "visible" });
  return list.evaluate((element) =>
    [...element.querySelectorAll("dt")].map((term) => [term.textContent, term.nextElementSibling.textContent, term.nextElementSibling.dataset.type]),
  );
}

describe("the merchant page in headless Chromium", { timeout: 2 * TEST_TIMEOUT_MS }, () => {
  let browser;
  let demo;

  before(async () => {
    const started = await Promise.allSettled([
      startDemo(),
      chromium.launch({
        executablePath: CHROMIUM,
        // The theme without the snippet is the sandbox's page rewritten by `route.fulfill`, which
        // Chromium takes for a public page: its calls to the loopback service would then be
        // refused by Local Network Access, which a real storefront and service never meet.
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
          "--disable-sync",
          "--disable-quic",
          "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights",
        ],
        timeout: START_TIMEOUT_MS,
      }),
    ]);
    [demo, browser] = started.map((outcome) => outcome.value);
    const failure = started.find((outcome) => outcome.status === "rejected");
    if (failure) throw failure.reason;
    // A delivery date the merchant will define as a date.
    await management(demo, "POST", `/v3/orders/${ORDER}/metafields`, {
      permission_set: "read_and_sf_access",
      namespace: "shipping_tracking",
      key: "delivered_on",
      value: "2025-10-24",
      description: "delivered_on",
    });
  }, { timeout: START_TIMEOUT_MS + 5_000 });

  after(async () => {
    await browser?.close();
    await stopDemo(demo);
  });

  it("defines fields in the control panel's iframe, previews as a customer, and switches the storefront script", { timeout: TEST_TIMEOUT_MS }, async () => {
    const context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    try {
      const frame = await openApp(page, demo.storefront);
      await frame.getByRole("heading", { name: "Metafields on recent orders" }).waitFor();
      await addField(frame, { namespace: "shipping_tracking", key: "tracking_url", label: "Track your parcel", type: "url", position: "2" });
      await addField(frame, { namespace: "shipping_tracking", key: "delivered_on", label: "Delivered on", type: "date", position: "1" });
      await addField(frame, { namespace: "shipping_tracking", key: "carrier", hidden: true });
      await screenshot(page, "merchant-page.png");

      // What Alice sees on her order page: the definitions' labels, types and order; no carrier.
      const shopper = await context.newPage();
      shopper.on("pageerror", (error) => errors.push(String(error)));
      await signIn(shopper, demo.storefront, "alice@example.com");
      await shopper.goto(`${demo.storefront}/account.php?action=view_order&order_id=${ORDER}`);
      assert.deepEqual(await shownFields(shopper), [
        ["Delivered on", "October 24, 2025", "date"],
        ["Track your parcel", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677", "url"],
      ]);
      assert.equal(await shopper.locator("#order-metafields a").getAttribute("rel"), "noopener noreferrer");
      await screenshot(shopper, "order-with-definitions.png");

      // The preview as Alice shows the same.
      const order = await management(demo, "GET", `/v2/orders/${ORDER}`);
      const preview = frame.locator("section#preview");
      await preview.locator("input[name=customer]").fill(String(order.customer_id));
      await preview.locator("input[name=order]").fill(String(ORDER));
      await preview.getByRole("button", { name: "Preview" }).click();
      await frame.getByText(`Customer ${order.customer_id}, order ${ORDER}`).waitFor();
      const previewed = await frame.locator("section#preview dl").evaluate((element) =>
        [...element.querySelectorAll("dt")].map((term) => term.textContent),
      );
      assert.deepEqual(previewed, ["Delivered on", "Track your parcel"]);
      await screenshot(page, "merchant-preview.png");

      // The storefront script: on, and a theme without the pasted snippet shows the details.
      await frame.locator("section#script").getByRole("button", { name: "Turn on" }).click();
      await frame.getByText("The storefront script is on").waitFor();
      await shopper.route(`${demo.storefront}/account.php?**`, async (route) => {
        const response = await route.fetch();
        const html = await response.text();
        // A theme without the snippet: its section and module script are not on the page.
        const start = html.indexOf('<section class="account-sidebar-block" id="order-metafields"');
        const end = html.indexOf("</script>", start) + "</script>".length;
        assert.ok(start > 0 && end > start, "the sandbox page carries the snippet to take out");
        await route.fulfill({ response, body: html.slice(0, start) + html.slice(end) });
      });
      await shopper.goto(`${demo.storefront}/account.php?action=view_order&order_id=${ORDER}`);
      assert.equal(await shopper.locator("#order-metafields").getAttribute("data-source"), "storefront-script");
      assert.deepEqual((await shownFields(shopper)).map(([term]) => term), ["Delivered on", "Track your parcel"]);
      await screenshot(shopper, "order-with-storefront-script.png");

      await frame.locator("section#script").getByRole("button", { name: "Turn off" }).click();
      await frame.getByText("The storefront script is off.").waitFor();

      // The whole page, as the merchant scrolls it in the iframe (docs/images/merchant-page.png
      // is a copy): the session cookie is the same site's, so the page opens on its own too.
      const whole = await context.newPage();
      await whole.goto(`${demo.service}/bigcommerce/stores/sandbox1`);
      await whole.getByRole("heading", { name: "Order details for shoppers" }).waitFor();
      await screenshot(whole, "merchant-page-whole.png");
      await shopper.goto(`${demo.storefront}/account.php?action=view_order&order_id=${ORDER}`);
      await shopper.locator("h1.page-heading").waitFor();
      assert.equal(await shopper.locator("#order-metafields").count(), 0, "the script is gone from the storefront");
      assert.deepEqual(errors, []);
    } catch (error) {
      await screenshot(page, "failed-merchant-page.png").catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  });
});

describe("the merchant page and the storefront with SYNC_MODE=mirror", { timeout: 2 * TEST_TIMEOUT_MS }, () => {
  let browser;
  let demo;

  before(async () => {
    const started = await Promise.allSettled([
      startDemo(["--sync-mode", "mirror"]),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
        timeout: START_TIMEOUT_MS,
      }),
    ]);
    [demo, browser] = started.map((outcome) => outcome.value);
    const failure = started.find((outcome) => outcome.status === "rejected");
    if (failure) throw failure.reason;
  }, { timeout: START_TIMEOUT_MS + 5_000 });

  after(async () => {
    await browser?.close();
    await stopDemo(demo);
  });

  it("says the copy is complete, and Alice's order page costs no Management API call", { timeout: TEST_TIMEOUT_MS }, async () => {
    const context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    try {
      // The page shows the copy's progress when it is rendered: opened again until complete
      // (a small store copies in about a second; bounded).
      let line = "";
      for (let attempt = 0; attempt < 20 && !line.startsWith("complete"); attempt += 1) {
        const frame = await openApp(page, demo.storefront);
        line = (await frame.locator("#mirror").textContent()) ?? "";
        if (!line.startsWith("complete")) await page.waitForTimeout(1_000);
      }
      assert.match(line, /^complete: \d+ orders read; shoppers' reads cost no API call; last catch-up \d{4}-\d\d-\d\dT/);
      await screenshot(page, "merchant-page-mirror.png");

      const shopper = await context.newPage();
      shopper.on("pageerror", (error) => errors.push(String(error)));
      await signIn(shopper, demo.storefront, "alice@example.com");
      await shopper.goto(`${demo.storefront}/account.php?action=view_order&order_id=${ORDER}`);
      const shown = await shownFields(shopper);
      assert.ok(
        shown.some(([, value]) => value === "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677"),
        JSON.stringify(shown),
      );
      await screenshot(shopper, "order-from-the-mirror.png");

      // Every Management API call the service made was the sync's: none for Alice's reads.
      const metrics = await (await fetch(`${demo.service}/metrics`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) })).text();
      const reads = metrics
        .split("\n")
        .filter((line) => /^order_metafields_upstream_requests_total\{operation="list_(customer_orders|order_metafields)"/.test(line));
      assert.deepEqual(reads, []);
      assert.match(metrics, /order_metafields_upstream_requests_total\{operation="sync_orders",status="200"\} [1-9]/);
      assert.deepEqual(errors, []);
    } catch (error) {
      await screenshot(page, "failed-merchant-page-mirror.png").catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  });
});
