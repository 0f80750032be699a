// The whole path in a real browser: headless Chromium signs in on the sandbox storefront (one
// origin), whose account pages render the documented snippets; they load the client from the
// service (another origin, allowed by CORS) and show what it answers. A second demo whose
// service does not allow the storefront's origin shows the browser itself blocking the call.
//
// Run by client/run-browser-test.sh, or: node --test client/browser/ (after `npm ci` in
// client/ and `cargo build`; ORDER_METAFIELDS_BIN and CHROMIUM_PATH override the defaults).
// Screenshots go to artifacts/browser/.

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
const APP_CLIENT_ID = "sandbox-demo-client-id";
const ACCESS_TOKEN = "sandbox-demo-access-token";
const PASSWORD = "sandbox-password";
// An origin that is not the sandbox storefront's: the service of the second demo allows only it.
const OTHER_ORIGIN = "https://theme.example.com";

// Merchant text with live markup: the seeded `<3 & "cheers"` reads the same as HTML or as text,
// this does not.
const MARKUP_METAFIELD = {
  permission_set: "read_and_sf_access",
  namespace: "gift",
  key: "card",
  value: '<img src=x onerror="window.injected = true"><b>With love</b>',
  description: "Gift card <i>text</i>",
};

const START_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 60_000;

/**
 * Starts `order-metafields demo` on free loopback ports and resolves with its two origins once
 * the service answers `/healthz`.
 * @param {string[]} extraArgs
 */
function startDemo(extraArgs = []) {
  const child = spawn(BINARY, ["demo", "--port", "0", "--sandbox-port", "0", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  let output = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the demo did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const fail = (error) => {
      clearTimeout(timer);
      reject(error);
    };
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`the demo exited with ${code}:\n${output}`)));
    let probing = false;
    const onOutput = async (chunk) => {
      output += chunk;
      // The demo prints the storefront's and the service's URLs; tell them apart by asking.
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

/** Stops a demo: SIGTERM, then SIGKILL if it has not exited within a few seconds. */
async function stopDemo(demo) {
  if (!demo || demo.child.exitCode !== null) return;
  const exited = new Promise((resolve) => demo.child.once("exit", resolve));
  demo.child.kill("SIGTERM");
  const timer = setTimeout(() => demo.child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Adds a metafield to an order through the sandbox's Management API, as a merchant's app would. */
async function addMetafield(demo, orderId, metafield) {
  const response = await fetch(`${demo.storefront}/stores/sandbox1/v3/orders/${orderId}/metafields`, {
    method: "POST",
    headers: { "X-Auth-Token": ACCESS_TOKEN, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(metafield),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  assert.equal(response.status, 200, await response.text());
}

/**
 * Runs `body` with a page in a fresh context (its own cookies) whose console and network are
 * recorded; on failure saves a screenshot and prints the console before passing the error on.
 */
async function withPage(browser, name, body) {
  const context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const record = { console: [], errors: [], requests: [], failed: [] };
  page.on("console", (message) => record.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => record.errors.push(String(error)));
  page.on("request", (request) => record.requests.push(request));
  page.on("requestfailed", (request) => record.failed.push(`${request.method()} ${request.url()} ${request.failure()?.errorText}`));
  try {
    await body({ context, page, record });
  } catch (error) {
    await screenshot(page, `failed-${name}.png`).catch(() => {});
    console.error(`console of ${name}:\n${record.console.join("\n")}`);
    throw error;
  } finally {
    await context.close();
  }
}

async function signIn(page, storefront, email) {
  await page.goto(`${storefront}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForURL(`${storefront}/`), page.click("form[action='/login'] button")]);
  await page.getByText(`<${email}>`).waitFor();
}

function orderUrl(storefront, orderId) {
  return `${storefront}/account.php?action=view_order&order_id=${orderId}`;
}

async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

describe("storefront pages in headless Chromium", { timeout: 4 * TEST_TIMEOUT_MS }, () => {
  let browser;
  let allowed;
  let blocked;

  before(async () => {
    // Settled one by one, so that `after` can stop whatever did start when something did not.
    const started = await Promise.allSettled([
      startDemo(),
      startDemo(["--cors-allowed-origins", OTHER_ORIGIN]),
      chromium.launch({
        executablePath: CHROMIUM,
        // Playwright starts Chromium headless with a fresh temporary profile (--user-data-dir);
        // these keep it off the network this machine does not have.
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
          "--disable-sync",
          "--disable-quic",
        ],
        timeout: START_TIMEOUT_MS,
      }),
    ]);
    [allowed, blocked, browser] = started.map((outcome) => outcome.value);
    const failure = started.find((outcome) => outcome.status === "rejected");
    if (failure) throw failure.reason;
    // In app mode the service also allows the store's own sites (the sandbox storefront at
    // 127.0.0.1): the same storefront reached as localhost is an origin nobody allowed.
    blocked = { ...blocked, storefront: blocked.storefront.replace("//127.0.0.1:", "//localhost:") };
    // Before any page asks, so the service has nothing cached for the order yet.
    await addMetafield(allowed, 369, MARKUP_METAFIELD);
  }, { timeout: START_TIMEOUT_MS + 5_000 });

  after(async () => {
    await browser?.close();
    await Promise.all([stopDemo(allowed), stopDemo(blocked)]);
  });

  /** A test with its own page; `name` names its screenshot if it fails. */
  function browserTest(title, name, body) {
    it(title, { timeout: TEST_TIMEOUT_MS }, () => withPage(browser, name, body));
  }

  browserTest("shows a signed-in shopper her orders, newest first, with their metafields", "orders-list", async ({ page, record }) => {
    await signIn(page, allowed.storefront, "alice@example.com");

    await page.goto(`${allowed.storefront}/account.php?action=order_status`);
    const section = page.locator("#order-metafields-orders");
    await section.locator("ul").waitFor({ state: "visible" });

    const orderIds = await section.locator("li[data-order-id]").evaluateAll((items) => items.map((item) => item.dataset.orderId));
    assert.deepEqual(orderIds, ["369", "367", "364", "321"]);
    assert.equal(await section.locator("button").isVisible(), false, "four orders fit one page: no 'Show more orders'");
    const gift = section.locator("li[data-order-id='369'] dd[data-metafield='gift.message']");
    assert.equal(await gift.textContent(), 'Happy birthday, Sam! <3 & "cheers"');
    const tracking = section.locator("li[data-order-id='367'] dd[data-metafield='shipping_tracking.tracking_url'] a");
    assert.match(await tracking.getAttribute("href"), /^https:\/\/tools\.usps\.com\//);
    const tokenFetches = record.requests.filter((request) => request.url().includes("/customer/current.jwt"));
    assert.equal(tokenFetches.length, 1, "one token fetch serves the list and every order's metafields");
    assert.deepEqual(record.errors, []);
    await screenshot(page, "orders-list.png");
  });

  browserTest("shows order 369's metafields, the gift message as text, and keeps the token out of storage and URLs", "order-369", async ({ page, record }) => {
    await signIn(page, allowed.storefront, "alice@example.com");

    await page.goto(orderUrl(allowed.storefront, 369));
    const list = page.locator("#order-metafields dl");
    await list.waitFor({ state: "visible" });

    // The gift message is editable (the demo's definition): its value is the form control's.
    const shown = await list.locator("dd").evaluateAll((values) =>
      values.map((value) => [
        value.dataset.metafield,
        value.previousElementSibling.textContent,
        value.querySelector("textarea, input, select")?.value ?? value.textContent,
      ]),
    );
    assert.deepEqual(shown.sort(), [
      ["delivery.slot", "Chosen delivery slot", "2025-11-14 09:00-12:00"],
      ["gift.card", MARKUP_METAFIELD.description, MARKUP_METAFIELD.value],
      ["gift.message", "Gift message", 'Happy birthday, Sam! <3 & "cheers"'],
    ]);
    const gift = list.locator("dd[data-metafield='delivery.slot']");
    assert.equal(await gift.innerHTML(), "2025-11-14 09:00-12:00");
    const markup = await list.evaluate((element) => ({
      elements: [...element.querySelectorAll("dt:not(:has(label)), dd:not(:has(form))")].reduce((count, item) => count + item.childElementCount, 0),
      injected: window.injected ?? false,
    }));
    assert.deepEqual(markup, { elements: 0, injected: false }, "metafield text made no elements and ran no script");
    const storage = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
    assert.deepEqual(storage, [0, 0]);
    const serviceCalls = record.requests.filter((request) => request.url().startsWith(`${allowed.service}/v1/`));
    assert.deepEqual(serviceCalls.map((request) => request.url()), [`${allowed.service}/v1/orders/369/metafields`]);
    assert.match(serviceCalls[0].headers().authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    assert.deepEqual(record.errors, []);
    await screenshot(page, "order-369.png");
  });

  browserTest("edits the gift message: saved, still there after a reload, and a refused value's message beside the field", "edit-gift", async ({ page, record }) => {
    await signIn(page, allowed.storefront, "alice@example.com");
    await page.goto(orderUrl(allowed.storefront, 369));
    const field = page.getByLabel("Gift message");
    await field.waitFor();
    const form = page.locator("dd[data-metafield='gift.message'] form");
    const id = await field.getAttribute("id");
    assert.equal(await field.getAttribute("aria-describedby"), `${id}-hint ${id}-error`);
    assert.equal(await form.locator(".order-metafields-hint").textContent(), "You can use several lines. Up to 200 characters.");

    await field.fill("Happy birthday, Sam!\nLove, Alice <b>x</b>");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved" }).waitFor();
    await screenshot(page, "order-369-saved.png");

    await page.reload();
    const again = page.getByLabel("Gift message");
    await again.waitFor();
    assert.equal(await again.inputValue(), "Happy birthday, Sam!\nLove, Alice <b>x</b>");

    // Past the definition's max_length (set as a script would: maxlength stops typing).
    await again.evaluate((element) => (element.value = "x".repeat(201)));
    const refused = page.locator("dd[data-metafield='gift.message'] form");
    await refused.getByRole("button", { name: "Save" }).click();
    const error = refused.locator(".order-metafields-error");
    await error.filter({ hasText: "characters" }).waitFor();
    assert.equal(await error.textContent(), "Use at most 200 characters (this has 201).");
    assert.equal(await again.getAttribute("aria-invalid"), "true");
    assert.equal(await error.isVisible(), true);
    const writes = record.requests.filter((request) => request.method() === "PUT");
    assert.equal(writes.length, 2);
    assert.match(writes[0].headers().authorization, /^Bearer /);
    assert.deepEqual(record.errors, []);
    await screenshot(page, "order-369-refused.png");
  });

  browserTest("shows an order's own details from the store beside its metafields from the service", "order-367", async ({ page, record }) => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page, allowed.storefront, "alice@example.com");

    await page.goto(orderUrl(allowed.storefront, 367));
    const metafields = page.locator("#order-metafields dl");
    await metafields.waitFor({ state: "visible" });

    const pairs = (list) =>
      list.evaluate((element) => [...element.querySelectorAll("dt")].map((term) => [term.textContent, term.nextElementSibling.textContent]));
    assert.equal(await page.locator("h1.page-heading").textContent(), "Order #367");
    assert.deepEqual(await pairs(page.locator(".account-sidebar-block:not(#order-metafields) dl.definitionList")), [
      ["Order status:", "Shipped"],
      ["Order date:", "Oct 20, 2025"],
      ["Shipped:", "Oct 22, 2025"],
      ["Order total:", "$151.52"],
      ["Payment method:", "Credit Card"],
    ]);
    assert.deepEqual(await pairs(page.locator(".account-orderTotal")), [
      ["Subtotal:", "$129.99"],
      ["Shipping:", "$9.99"],
      ["Tax:", "$11.54"],
      ["Grand total:", "$151.52"],
    ]);
    assert.deepEqual(await pairs(metafields), [
      ["Tracking link", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677"],
      ["Carrier", "USPS"],
    ]);
    const sidebar = await page.locator("aside.account-sidebar > section").evaluateAll((sections) => sections.map((section) => section.querySelector("h3").textContent));
    assert.deepEqual(sidebar, ["Order Details", "Bill To", "More about this order"], "the snippet sits in the sidebar after the store's own blocks");
    assert.deepEqual(record.errors, []);
    // The README's picture of what a shopper sees (docs/images/storefront-order.png is a copy).
    await screenshot(page, "order-details.png");
  });

  browserTest("says not found for another customer's order id", "not-found", async ({ page }) => {
    await signIn(page, allowed.storefront, "alice@example.com");

    await page.goto(orderUrl(allowed.storefront, 365));
    const status = page.locator("#order-metafields [role=status]");
    await status.filter({ hasNotText: "Loading" }).waitFor();

    assert.equal(await status.textContent(), "We could not find this order in your account.");
    assert.equal(await page.locator("#order-metafields dl").isVisible(), false);
  });

  browserTest("shows the sign-in message after signing out, and the client says NotSignedInError", "signed-out", async ({ page }) => {
    await signIn(page, allowed.storefront, "alice@example.com");
    await Promise.all([page.waitForURL(`${allowed.storefront}/`), page.click("form[action='/logout'] button")]);
    await page.getByText("You are browsing as a guest").waitFor();

    await page.goto(orderUrl(allowed.storefront, 369));
    const message = await page.locator("[role=status]").textContent();
    const errorName = await page.evaluate(
      async ({ service, appClientId }) => {
        const client = await import(`${service}/client/v1/order-metafields.js`);
        try {
          await client.createClient({ apiBase: service, appClientId }).metafields(369);
          return "no error";
        } catch (error) {
          return error.name;
        }
      },
      { service: allowed.service, appClientId: APP_CLIENT_ID },
    );

    assert.equal(message, "Please sign in to see your orders.");
    assert.equal(errorName, "NotSignedInError");
  });

  browserTest("is blocked by the browser itself when the service does not allow the storefront's origin", "cors-blocked", async ({ context, page, record }) => {
    await signIn(page, blocked.storefront, "alice@example.com");

    await page.goto(orderUrl(blocked.storefront, 369));
    const status = page.locator("#order-metafields [role=status]");
    await status.filter({ hasNotText: "Loading" }).waitFor();

    assert.equal(
      await status.textContent(),
      "We could not reach the order details service. Please check your connection and try again.",
    );
    const metafieldsUrl = `${blocked.service}/v1/orders/369/metafields`;
    const corsMessages = record.console.filter((line) => line.includes(metafieldsUrl) && line.includes("CORS policy"));
    assert.equal(corsMessages.length > 0, true, `a CORS error in the console:\n${record.console.join("\n")}`);
    assert.ok(
      record.failed.some((line) => line.includes(metafieldsUrl)),
      `the call failed in the network log:\n${record.failed.join("\n")}`,
    );
    // Outside the browser the same call succeeds: the service answered, the browser refused
    // to hand the answer to a page of an origin the service does not allow.
    const token = await (await context.request.get(`${blocked.storefront}/customer/current.jwt?app_client_id=${APP_CLIENT_ID}`)).text();
    const direct = await context.request.get(metafieldsUrl, {
      headers: { Authorization: `Bearer ${token}`, Origin: blocked.storefront },
    });
    assert.equal(direct.status(), 200);
    assert.equal(direct.headers()["access-control-allow-origin"], undefined);
    await screenshot(page, "cors-blocked.png");
  });
});
