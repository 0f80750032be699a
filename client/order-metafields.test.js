// Unit tests of the storefront client against a fake fetch: token caching and sharing, the
// one retry on 401, both token body forms, and the errors a page branches on.
// Run with `node --test client/`.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  EditingClosedError,
  InvalidValueError,
  NetworkError,
  NotEditableError,
  NotFoundError,
  NotSignedInError,
  PreconditionFailedError,
  ProblemError,
  RateLimitedError,
  TokenError,
  createClient,
  displayValue,
} from "./order-metafields.js";

const API_BASE = "https://api.example.test";
const CLIENT_ID = "app client/id";
const TOKEN_URL = "/customer/current.jwt?app_client_id=app%20client%2Fid";
const T0 = Date.UTC(2025, 10, 1, 12, 0, 0);

/** A JWT-shaped token (unsigned: the client never verifies) valid for 15 minutes from `iat`. */
function jwt(name, { iat = T0 / 1000, lifetime = 900, exp = iat + lifetime } = {}) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const claims = { iss: "bc/apps", iat, exp, name, customer: { id: 1, email: "ålice@example.com" } };
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.c2lnbmF0dXJl`;
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function problem(status, title, detail, requestId = "req-1") {
  return json(
    status,
    { type: `urn:order-metafields:problem:${title.toLowerCase().replace(/ /g, "-")}`, title, status, detail },
    { "content-type": "application/problem+json", "x-request-id": requestId },
  );
}

const ORDER = { id: 369, status: "Awaiting Fulfillment" };
const ORDERS = { data: [ORDER], meta: { pagination: { total: 1, count: 1, per_page: 50, current_page: 1, total_pages: 1 } } };

/**
 * A fake fetch: `tokens` answers the store's token endpoint (a list consumed in order, the last
 * one repeating), `service` answers the service. Every call is recorded.
 */
function fakeFetch({ tokens = [() => new Response(jwt("t1"))], service = () => json(200, { data: ORDER }) } = {}) {
  const calls = [];
  let tokenCalls = 0;
  const fetch = async (url, init = {}) => {
    calls.push({ url, init });
    if (url.startsWith("/customer/current.jwt")) {
      const answer = tokens[Math.min(tokenCalls, tokens.length - 1)];
      tokenCalls += 1;
      return answer(init);
    }
    return service(url, init);
  };
  return {
    fetch,
    calls,
    tokenCalls: () => calls.filter((call) => call.url.startsWith("/customer/")),
    serviceCalls: () => calls.filter((call) => call.url.startsWith(API_BASE)),
  };
}

function bearer(call) {
  return call.init.headers.Authorization;
}

function client(fake, extra = {}) {
  let clock = T0;
  const instance = createClient({
    apiBase: API_BASE,
    appClientId: CLIENT_ID,
    fetch: fake.fetch,
    now: () => clock,
    ...extra,
  });
  return { instance, advance: (ms) => (clock += ms) };
}

describe("token", () => {
  it("is fetched from the store's own origin with the encoded app client id and sent only as a header", async () => {
    const fake = fakeFetch();
    const { instance } = client(fake);

    await instance.order(369);

    const [tokenCall] = fake.tokenCalls();
    assert.equal(tokenCall.url, TOKEN_URL);
    assert.equal(tokenCall.init.credentials, "same-origin");
    assert.equal(tokenCall.init.cache, "no-store");
    const [serviceCall] = fake.serviceCalls();
    assert.equal(serviceCall.url, `${API_BASE}/v1/orders/369`);
    assert.equal(bearer(serviceCall), `Bearer ${jwt("t1")}`);
    assert.equal(serviceCall.init.credentials, "omit");
  });

  it("is reused until a minute before it expires, then fetched again", async () => {
    const fake = fakeFetch({ tokens: [() => new Response(jwt("t1")), () => new Response(jwt("t2"))] });
    const { instance, advance } = client(fake);

    await instance.order(369);
    advance(13 * 60 * 1000);
    await instance.order(369);
    const beforeRefresh = fake.tokenCalls().length;
    advance(90 * 1000);
    await instance.order(369);

    assert.equal(beforeRefresh, 1);
    assert.equal(fake.tokenCalls().length, 2);
    assert.deepEqual(
      fake.serviceCalls().map(bearer),
      [`Bearer ${jwt("t1")}`, `Bearer ${jwt("t1")}`, `Bearer ${jwt("t2")}`],
    );
  });

  it("lasts its own lifetime (exp - iat) even when the browser's clock is an hour ahead", async () => {
    const fake = fakeFetch({ tokens: [() => new Response(jwt("t1", { iat: T0 / 1000 - 3600 }))] });
    const { instance, advance } = client(fake);

    await instance.order(369);
    advance(10 * 60 * 1000);
    await instance.order(369);

    assert.equal(fake.tokenCalls().length, 1);
  });

  it("without a readable exp is not reused", async () => {
    const unreadable = "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln";
    const fake = fakeFetch({ tokens: [() => new Response(unreadable)] });
    const { instance } = client(fake);

    await instance.order(369);
    await instance.order(369);

    assert.equal(fake.tokenCalls().length, 2);
  });

  it("is fetched once for concurrent calls", async () => {
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const fake = fakeFetch({
      tokens: [async () => (await gate, new Response(jwt("t1")))],
      service: (url) => (url.includes("?") ? json(200, ORDERS) : json(200, { data: url.endsWith("metafields") ? [] : ORDER })),
    });
    const { instance } = client(fake);

    const calls = [instance.orders(), instance.order(369), instance.metafields(369), instance.order(321)];
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const [orders, order, metafields] = await Promise.all(calls);

    assert.equal(fake.tokenCalls().length, 1);
    assert.equal(fake.serviceCalls().length, 4);
    assert.deepEqual(orders, { orders: [ORDER], pagination: ORDERS.meta.pagination });
    assert.deepEqual(order, ORDER);
    assert.deepEqual(metafields, []);
  });

  for (const [form, body] of [
    ["a bare token", `${jwt("t1")}\n`],
    ['{"token": "…"}', JSON.stringify({ token: jwt("t1") })],
  ]) {
    it(`is read from ${form}`, async () => {
      const fake = fakeFetch({ tokens: [() => new Response(body)] });
      const { instance } = client(fake);

      await instance.order(369);

      assert.equal(bearer(fake.serviceCalls()[0]), `Bearer ${jwt("t1")}`);
    });
  }

  it("answered 404 means not signed in, calls no service and is asked again next time", async () => {
    const fake = fakeFetch({ tokens: [() => new Response("Not Found", { status: 404 })] });
    const { instance } = client(fake);

    await assert.rejects(instance.metafields(369), NotSignedInError);
    await assert.rejects(instance.orders(), (error) => error instanceof NotSignedInError && error.name === "NotSignedInError");

    assert.equal(fake.tokenCalls().length, 2);
    assert.equal(fake.serviceCalls().length, 0);
  });

  for (const [description, answer] of [
    ["a 500", () => new Response("oops", { status: 500 })],
    ["an HTML page", () => new Response("<!doctype html><p>Sign in</p>")],
    ["JSON without a token", () => json(200, { error: "nope" })],
  ]) {
    it(`answered with ${description} is a TokenError`, async () => {
      const fake = fakeFetch({ tokens: [answer] });
      const { instance } = client(fake);

      await assert.rejects(instance.order(369), TokenError);

      assert.equal(fake.serviceCalls().length, 0);
    });
  }
});

describe("401 from the service", () => {
  it("gets a fresh token once and retries once", async () => {
    const answers = [problem(401, "Unauthorized", "the token has expired"), json(200, { data: ORDER })];
    const fake = fakeFetch({
      tokens: [() => new Response(jwt("t1")), () => new Response(jwt("t2"))],
      service: () => answers.shift(),
    });
    const { instance } = client(fake);

    const order = await instance.order(369);

    assert.deepEqual(order, ORDER);
    assert.equal(fake.tokenCalls().length, 2);
    assert.deepEqual(fake.serviceCalls().map(bearer), [`Bearer ${jwt("t1")}`, `Bearer ${jwt("t2")}`]);
  });

  it("twice in a row is a ProblemError after exactly one retry", async () => {
    const fake = fakeFetch({ service: () => problem(401, "Unauthorized", "the token was refused") });
    const { instance } = client(fake);

    await assert.rejects(instance.order(369), (error) => {
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 401);
      return true;
    });

    assert.equal(fake.serviceCalls().length, 2);
    assert.equal(fake.tokenCalls().length, 2);
  });

  it("for concurrent calls causes one token fetch between them", async () => {
    const fake = fakeFetch({
      tokens: [() => new Response(jwt("old")), () => new Response(jwt("new"))],
      service: (url, init) =>
        init.headers.Authorization === `Bearer ${jwt("old")}`
          ? problem(401, "Unauthorized", "the token has expired")
          : json(200, { data: ORDER }),
    });
    const { instance } = client(fake);

    await Promise.all([instance.order(369), instance.order(321), instance.order(364)]);

    assert.equal(fake.tokenCalls().length, 2);
    assert.equal(fake.serviceCalls().length, 6);
  });
});

describe("errors", () => {
  it("a problem document becomes a ProblemError with status, type, title, detail and request id", async () => {
    const fake = fakeFetch({ service: () => problem(404, "Not Found", "no such order", "abc-123") });
    const { instance } = client(fake);

    await assert.rejects(instance.order(365), (error) => {
      assert.ok(error instanceof ProblemError);
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.name, "NotFoundError");
      assert.equal(error.status, 404);
      assert.equal(error.type, "urn:order-metafields:problem:not-found");
      assert.equal(error.title, "Not Found");
      assert.equal(error.detail, "no such order");
      assert.equal(error.requestId, "abc-123");
      return true;
    });
  });

  it("an error that is not a problem document still carries its status", async () => {
    const fake = fakeFetch({ service: () => new Response("<html>Bad Gateway</html>", { status: 502 }) });
    const { instance } = client(fake);

    await assert.rejects(instance.order(369), (error) => {
      assert.ok(error instanceof ProblemError);
      assert.deepEqual(
        [error.status, error.type, error.title, error.detail, error.requestId],
        [502, "about:blank", "HTTP 502", "", null],
      );
      return true;
    });
  });

  it("a fetch that fails (offline, or blocked by CORS) is a NetworkError with the cause", async () => {
    const cause = new TypeError("Failed to fetch");
    const fake = fakeFetch({
      service: () => {
        throw cause;
      },
    });
    const { instance } = client(fake);

    await assert.rejects(instance.order(369), (error) => {
      assert.ok(error instanceof NetworkError);
      assert.equal(error.cause, cause);
      return true;
    });
  });

  it("a service that does not answer in time is a NetworkError", async () => {
    const fake = fakeFetch({
      service: (url, init) =>
        new Promise((resolve, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason))),
    });
    const { instance } = client(fake, { timeoutMs: 20 });

    await assert.rejects(instance.order(369), /timed out after 20 ms/);
  });

  for (const bad of ["abc", "0", "-1", "1/../365", "369?x=1", "1.5", "", "12345678901234567"]) {
    it(`order id ${JSON.stringify(bad)} is refused before any request`, async () => {
      const fake = fakeFetch();
      const { instance } = client(fake);

      await assert.rejects(instance.order(bad), RangeError);
      await assert.rejects(instance.metafields(bad), RangeError);

      assert.equal(fake.calls.length, 0);
    });
  }

  for (const [query, why] of [
    [{ page: 0 }, "page 0"],
    [{ limit: 251 }, "limit over 250"],
    [{ limit: 0 }, "limit 0"],
    [{ page: 1.5 }, "a fractional page"],
  ]) {
    it(`orders with ${why} is refused before any request`, async () => {
      const fake = fakeFetch();
      const { instance } = client(fake);

      await assert.rejects(instance.orders(query), RangeError);

      assert.equal(fake.calls.length, 0);
    });
  }

  it("createClient without apiBase or appClientId throws at once", () => {
    assert.throws(() => createClient({ appClientId: CLIENT_ID }), TypeError);
    assert.throws(() => createClient({ apiBase: API_BASE }), TypeError);
  });
});

describe("requests", () => {
  it("keep a path prefix of apiBase and drop its trailing slash", async () => {
    const fake = fakeFetch({ service: () => json(200, ORDERS) });
    const instance = createClient({ apiBase: `${API_BASE}/metafields/`, appClientId: CLIENT_ID, fetch: fake.fetch });

    await instance.orders({ page: 2, limit: 10 });

    assert.equal(fake.serviceCalls()[0].url, `${API_BASE}/metafields/v1/orders?page=2&limit=10`);
  });
});

describe("displayValue", () => {
  const options = { locale: "en-GB", timeZone: "UTC" };
  const shown = (type, value, extra = {}) => displayValue({ type, value }, { ...options, ...extra });

  it("shows dates and times in the shopper's locale, a calendar date never moved a day", () => {
    assert.deepEqual(shown("date", "2025-03-18"), { kind: "text", text: "18 March 2025" });
    assert.deepEqual(shown("date", "2025-03-18", { locale: "de-DE", timeZone: "Pacific/Honolulu" }), {
      kind: "text",
      text: "18. März 2025",
    });
    assert.deepEqual(shown("date_time", "2025-03-18T10:05:00Z"), { kind: "text", text: "18 March 2025 at 10:05" });
    assert.deepEqual(shown("date", "next Tuesday"), { kind: "text", text: "next Tuesday" });
  });

  it("links only web and mail addresses, whatever the type claims", () => {
    assert.deepEqual(shown("url", "https://track.example/1Z"), {
      kind: "link",
      text: "https://track.example/1Z",
      href: "https://track.example/1Z",
    });
    for (const value of ["javascript:alert(1)", "data:text/html,<script>x</script>", "track.example/1Z"]) {
      assert.deepEqual(shown("url", value), { kind: "text", text: value }, value);
    }
    assert.deepEqual(shown("email", "help@shop.example"), {
      kind: "link",
      text: "help@shop.example",
      href: "mailto:help@shop.example",
    });
    assert.deepEqual(shown("email", "not an address"), { kind: "text", text: "not an address" });
    // Without a definition (type text), a whole web address is linked as before.
    assert.equal(shown("text", "https://track.example/1Z").kind, "link");
  });

  it("shows multi-line text as paragraphs, yes/no for booleans and numbers in the locale", () => {
    assert.deepEqual(shown("multiline_text", "Happy birthday!\r\n\nLove, Sam"), {
      kind: "paragraphs",
      paragraphs: ["Happy birthday!", "Love, Sam"],
    });
    assert.deepEqual(shown("boolean", "TRUE"), { kind: "text", text: "Yes" });
    assert.deepEqual(shown("boolean", "0"), { kind: "text", text: "No" });
    assert.deepEqual(shown("boolean", "0", { booleans: { yes: "Ja", no: "Nein" } }), { kind: "text", text: "Nein" });
    assert.deepEqual(shown("boolean", "maybe"), { kind: "text", text: "maybe" });
    assert.deepEqual(shown("number", "1234.5", { locale: "de-DE" }), { kind: "text", text: "1.234,5" });
    assert.deepEqual(shown("number", "12 boxes"), { kind: "text", text: "12 boxes" });
  });

  it("keeps markup as text and unknown types as text", () => {
    assert.deepEqual(shown("choice", "<b>Gift box</b>"), { kind: "text", text: "<b>Gift box</b>" });
    assert.deepEqual(shown("hologram", "x"), { kind: "text", text: "x" });
  });
});

describe("cookie session", () => {
  /** A service that answers a session start with 204 and reads with the order. */
  function sessionService(reads = () => json(200, { data: ORDER })) {
    return (url, init) => {
      if (url === `${API_BASE}/v1/session`) {
        return new Response(null, { status: 204 });
      }
      return reads(url, init);
    };
  }

  it("sends the token once to POST /v1/session, then reads with the cookie and no token", async () => {
    const fake = fakeFetch({ service: sessionService() });
    const { instance } = client(fake, { session: true });

    await instance.order(369);
    await instance.metafields(369);

    const [start, ...reads] = fake.serviceCalls();
    assert.equal(start.url, `${API_BASE}/v1/session`);
    assert.equal(start.init.method, "POST");
    assert.equal(start.init.credentials, "include");
    assert.equal(bearer(start), `Bearer ${jwt("t1")}`);
    assert.deepEqual(
      reads.map((call) => call.url),
      [`${API_BASE}/v1/orders/369`, `${API_BASE}/v1/orders/369/metafields`],
    );
    for (const read of reads) {
      assert.equal(read.init.credentials, "include");
      assert.equal(bearer(read), undefined);
    }
    assert.equal(fake.tokenCalls().length, 1);
  });

  it("is started once for concurrent calls and renewed a minute before the token's expiry", async () => {
    const fake = fakeFetch({
      tokens: [() => new Response(jwt("t1")), () => new Response(jwt("t2"))],
      service: sessionService(),
    });
    const { instance, advance } = client(fake, { session: true });

    await Promise.all([instance.order(369), instance.order(369), instance.orders()]);
    advance(13 * 60 * 1000);
    await instance.order(369);
    advance(90 * 1000);
    await instance.order(369);

    const starts = fake.serviceCalls().filter((call) => call.url.endsWith("/v1/session"));
    assert.deepEqual(starts.map(bearer), [`Bearer ${jwt("t1")}`, `Bearer ${jwt("t2")}`]);
    assert.equal(fake.tokenCalls().length, 2);
  });

  it("after a 401 on a read starts a new session once and retries once", async () => {
    const reads = [problem(401, "Unauthorized", "the session has expired"), json(200, { data: ORDER })];
    const fake = fakeFetch({
      tokens: [() => new Response(jwt("t1")), () => new Response(jwt("t2"))],
      service: sessionService(() => reads.shift()),
    });
    const { instance } = client(fake, { session: true });

    const order = await instance.order(369);

    assert.deepEqual(order, ORDER);
    const starts = fake.serviceCalls().filter((call) => call.url.endsWith("/v1/session"));
    assert.deepEqual(starts.map(bearer), [`Bearer ${jwt("t1")}`, `Bearer ${jwt("t2")}`]);
  });

  it("a refused start is a ProblemError and no read is made", async () => {
    const fake = fakeFetch({
      service: () => problem(403, "Forbidden", "the origin is not allowed"),
    });
    const { instance } = client(fake, { session: true });

    await assert.rejects(instance.order(369), (error) => {
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 403);
      return true;
    });
    assert.ok(fake.serviceCalls().every((call) => call.url.endsWith("/v1/session")));
  });

  it("endSession sends DELETE with X-Requested-With and the cookie, and starts afresh after", async () => {
    const fake = fakeFetch({ service: sessionService() });
    const { instance } = client(fake, { session: true });

    await instance.order(369);
    await instance.endSession();
    await instance.order(369);

    const sessionCalls = fake
      .serviceCalls()
      .filter((call) => call.url.endsWith("/v1/session"))
      .map((call) => [call.init.method, call.init.credentials, call.init.headers["X-Requested-With"]]);
    assert.deepEqual(sessionCalls, [
      ["POST", "include", undefined],
      ["DELETE", "include", "order-metafields"],
      ["POST", "include", undefined],
    ]);
  });

  it("without the option, endSession calls nothing", async () => {
    const fake = fakeFetch();
    const { instance } = client(fake);

    await instance.endSession();

    assert.equal(fake.calls.length, 0);
  });

  it("setMetafield PUTs with the cookie, X-Requested-With and no token", async () => {
    const saved = { id: 3, namespace: "Gifts", key: "note", value: "Hi", editable: true };
    const fake = fakeFetch({ service: sessionService(() => json(200, { data: saved }, { etag: '"e1"' })) });
    const { instance } = client(fake, { session: true });

    const result = await instance.setMetafield(369, "Gifts", "note", "Hi");

    assert.deepEqual(result, { metafield: saved, etag: '"e1"' });
    const [start, put] = fake.serviceCalls();
    assert.equal(start.url, `${API_BASE}/v1/session`);
    assert.equal(put.url, `${API_BASE}/v1/orders/369/metafields/Gifts/note`);
    assert.equal(put.init.method, "PUT");
    assert.equal(put.init.credentials, "include");
    assert.deepEqual(put.init.headers, {
      Accept: "application/json",
      "X-Requested-With": "order-metafields",
      "Content-Type": "application/json",
    });
  });
});

describe("setMetafield", () => {
  const saved = { id: 3, namespace: "Gifts", key: "note", value: "Happy birthday", editable: true };

  it("PUTs the value as JSON with the token and If-Match, and returns the field and its etag", async () => {
    const fake = fakeFetch({ service: () => json(200, { data: saved }, { etag: '"abc"' }) });
    const { instance } = client(fake);

    const result = await instance.setMetafield(369, "Gifts", "note", "Happy birthday", { ifMatch: '"old"' });

    assert.deepEqual(result, { metafield: saved, etag: '"abc"' });
    const [call] = fake.serviceCalls();
    assert.equal(call.url, `${API_BASE}/v1/orders/369/metafields/Gifts/note`);
    assert.equal(call.init.method, "PUT");
    assert.equal(call.init.credentials, "omit");
    assert.equal(call.init.body, JSON.stringify({ value: "Happy birthday" }));
    assert.deepEqual(call.init.headers, {
      Accept: "application/json",
      Authorization: `Bearer ${jwt("t1")}`,
      "Content-Type": "application/json",
      "If-Match": '"old"',
    });
  });

  it("percent-encodes the namespace and key, and sends no If-Match unless asked", async () => {
    const fake = fakeFetch({ service: () => json(200, { data: saved }) });
    const { instance } = client(fake);

    const result = await instance.setMetafield("369", "Gift notes", "a/b?c", "x");

    assert.equal(result.etag, null);
    const [call] = fake.serviceCalls();
    assert.equal(call.url, `${API_BASE}/v1/orders/369/metafields/Gift%20notes/a%2Fb%3Fc`);
    assert.equal(call.init.headers["If-Match"], undefined);
  });

  it("gets a fresh token once on 401 and repeats the PUT", async () => {
    const answers = [problem(401, "Unauthorized", "expired"), json(200, { data: saved })];
    const fake = fakeFetch({
      tokens: [() => new Response(jwt("t1")), () => new Response(jwt("t2"))],
      service: () => answers.shift(),
    });
    const { instance } = client(fake);

    await instance.setMetafield(369, "Gifts", "note", "x");

    const calls = fake.serviceCalls();
    assert.equal(calls.length, 2);
    assert.equal(calls[1].init.method, "PUT");
    assert.equal(bearer(calls[1]), `Bearer ${jwt("t2")}`);
  });

  const refusals = [
    [403, "Forbidden", NotEditableError, "NotEditableError"],
    [404, "Not Found", NotFoundError, "NotFoundError"],
    [409, "Conflict", EditingClosedError, "EditingClosedError"],
    [412, "Precondition Failed", PreconditionFailedError, "PreconditionFailedError"],
  ];
  for (const [status, title, type, name] of refusals) {
    it(`answered ${status} is a ${name}, still a ProblemError`, async () => {
      const fake = fakeFetch({ service: () => problem(status, title, "no") });
      const { instance } = client(fake);

      await assert.rejects(instance.setMetafield(369, "Gifts", "note", "x"), (error) => {
        assert.ok(error instanceof type);
        assert.ok(error instanceof ProblemError);
        assert.equal(error.name, name);
        assert.equal(error.status, status);
        return true;
      });
    });
  }

  it("answered 422 is an InvalidValueError with every message", async () => {
    const errors = [
      { field: "value", message: "Use at most 5 characters (this has 7)." },
      { field: "value", message: "Use a single line without control characters." },
    ];
    const fake = fakeFetch({
      service: () =>
        json(
          422,
          { type: "urn:order-metafields:problem:invalid-value", title: "Unprocessable Content", status: 422, detail: "d", errors },
          { "content-type": "application/problem+json" },
        ),
    });
    const { instance } = client(fake);

    await assert.rejects(instance.setMetafield(369, "Gifts", "note", "x"), (error) => {
      assert.ok(error instanceof InvalidValueError);
      assert.deepEqual(error.errors, errors);
      return true;
    });
  });

  it("answered 429 is a RateLimitedError with Retry-After in seconds", async () => {
    const fake = fakeFetch({
      service: () =>
        json(429, { type: "t", title: "Too Many Requests", status: 429, detail: "d" }, { "retry-after": "42" }),
    });
    const { instance } = client(fake);

    await assert.rejects(instance.setMetafield(369, "Gifts", "note", "x"), (error) => {
      assert.ok(error instanceof RateLimitedError);
      assert.equal(error.retryAfter, 42);
      return true;
    });
  });

  const bad = [
    ["a value that is not text", [369, "Gifts", "note", 12], TypeError],
    ["an empty key", [369, "Gifts", "", "x"], RangeError],
    ["a key over 64 characters", [369, "Gifts", "k".repeat(65), "x"], RangeError],
    ["an order id that is a path", [369, "Gifts", "note", "x"].with(0, "1/../2"), RangeError],
    ["an empty ifMatch", [369, "Gifts", "note", "x", { ifMatch: "" }], TypeError],
  ];
  for (const [why, args, type] of bad) {
    it(`with ${why} is refused before any request`, async () => {
      const fake = fakeFetch();
      const { instance } = client(fake);

      await assert.rejects(instance.setMetafield(...args), type);
      assert.equal(fake.calls.length, 0);
    });
  }
});
