// order-metafields storefront client: one dependency-free ES module for Stencil themes.
//
// It gets the signed-in shopper's Current Customer JWT from the store's own
// /customer/current.jwt, keeps it in memory only (never localStorage, never a URL), and calls
// the order-metafields service with it as a Bearer token. Served by the service at
// /client/v1/order-metafields.js; it can also be copied into a theme as is.

/**
 * @typedef {object} ClientOptions
 * @property {string} apiBase The service's URL, e.g. `https://order-metafields.example.com`
 *   (a path prefix is kept; a trailing slash is ignored).
 * @property {string} appClientId The client id of the app's API account: the
 *   `app_client_id` the store's `/customer/current.jwt` issues tokens for.
 * @property {typeof fetch} [fetch] The fetch to use; the page's own by default.
 * @property {number} [timeoutMs] How long one HTTP exchange may take, body included
 *   (default 15000); past it the call fails with a `NetworkError`.
 * @property {() => number} [now] Milliseconds since the epoch; `Date.now` by default
 *   (tests replace it).
 * @property {boolean} [session] Use a cookie session (default `false`): the token is sent
 *   once to `POST /v1/session`, and reads carry the service's `HttpOnly` cookie instead of
 *   the token, so the token is not kept in page memory between calls. Only for a service on
 *   the storefront's own site (e.g. `api.store.com` beside `www.store.com`): browsers that
 *   block third-party cookies drop the cookie of a service on another site.
 */

/**
 * An order as the service returns it (`Order` in the service's openapi.yaml): money amounts
 * are decimal strings exactly as BigCommerce gives them, in `currency_code`; dates are
 * RFC 3339.
 * @typedef {object} Order
 * @property {number} id The BigCommerce order id.
 * @property {number} customer_id The signed-in shopper's id.
 * @property {string} status The status's display name, e.g. `Shipped`.
 * @property {number} status_id BigCommerce's order status id.
 * @property {string} date_created
 * @property {string} date_modified
 * @property {string | null} date_shipped `null` while the order has not shipped.
 * @property {string} currency_code The ISO 4217 code of the amounts' currency.
 * @property {string} subtotal_ex_tax
 * @property {string} subtotal_inc_tax
 * @property {string} shipping_cost_inc_tax
 * @property {string} total_tax
 * @property {string} total_ex_tax
 * @property {string} total_inc_tax
 * @property {string} discount_amount
 * @property {string} refunded_amount
 * @property {number} items_total Number of items in the order.
 * @property {number} items_shipped Number of items shipped so far.
 * @property {string} payment_method The payment method's display name.
 * @property {boolean} order_is_digital Whether every item is digital (nothing to ship).
 * @property {number} channel_id The channel (storefront) the order was placed on; `1` is the
 *   store's default storefront.
 */

/**
 * A storefront-visible order metafield. `value` is the merchant's text: render it as text.
 * @typedef {object} Metafield
 * @property {number} id
 * @property {string} namespace
 * @property {string} key
 * @property {string} value
 * @property {string} description
 * @property {string} date_created
 * @property {string} date_modified
 * @property {string} label What to show as the field's name: the merchant's label, or the
 *   metafield's `description` (may be empty).
 * @property {FieldType} type How to render `value` (`text` without a definition).
 * @property {number | null} position The field's place (items arrive in this order);
 *   `null` without a definition.
 * @property {boolean} editable Whether the shopper may change the value (`setMetafield`).
 * @property {number} [max_length] On an editable field that has one: the most characters
 *   the shopper may enter.
 * @property {string[]} [choices] On an editable `choice` field: the values to pick from.
 */

/**
 * @typedef {"text" | "multiline_text" | "url" | "email" | "date" | "date_time" | "number" | "boolean" | "choice"} FieldType
 */

/**
 * How a field's value is shown, decided without a DOM (see `renderValue` for the nodes):
 * plain text, a link (only `http:`, `https:` or `mailto:`), or paragraphs.
 * @typedef {{ kind: "text", text: string }
 *   | { kind: "link", text: string, href: string }
 *   | { kind: "paragraphs", paragraphs: string[] }} Display
 */

/**
 * @typedef {object} DisplayOptions
 * @property {string | string[]} [locale] The shopper's locale(s) for dates and numbers; the
 *   browser's by default.
 * @property {string} [timeZone] For `date_time` values; the browser's by default.
 * @property {{ yes: string, no: string }} [booleans] The words for yes/no fields
 *   (default `Yes` and `No`).
 */

/**
 * @typedef {object} Pagination
 * @property {number} total
 * @property {number} count
 * @property {number} per_page
 * @property {number} current_page
 * @property {number} total_pages
 */

/**
 * @typedef {object} OrdersPage
 * @property {Order[]} orders The page's orders, newest first.
 * @property {Pagination} pagination
 */

/**
 * @typedef {object} OrderMetafieldsClient
 * @property {(query?: { page?: number, limit?: number }) => Promise<OrdersPage>} orders
 *   The shopper's orders, newest first; `page` from 1, `limit` from 1 to 250 (default 50).
 * @property {(id: number | string) => Promise<Order>} order One of the shopper's orders.
 * @property {(orderId: number | string) => Promise<Metafield[]>} metafields That order's
 *   storefront-visible metafields.
 * @property {() => Promise<void>} endSession Ends the cookie session (`DELETE /v1/session`);
 *   does nothing without the `session` option.
 * @property {(orderId: number | string, namespace: string, key: string, value: string,
 *   options?: SetMetafieldOptions) => Promise<SavedMetafield>} setMetafield Sets the value of
 *   one of the order's editable fields (`editable: true`); refusals are `ProblemError`
 *   subclasses by status: `NotEditableError` 403, `NotFoundError` 404,
 *   `EditingClosedError` 409, `PreconditionFailedError` 412, `InvalidValueError` 422 (with
 *   one message per broken rule), `RateLimitedError` 429.
 */

/**
 * @typedef {object} SetMetafieldOptions
 * @property {string} [ifMatch] The `etag` of the value the shopper last saw (from an earlier
 *   `setMetafield`), or `*`: the write is refused with `PreconditionFailedError` if the field
 *   changed meanwhile.
 */

/**
 * @typedef {object} SavedMetafield
 * @property {Metafield} metafield The field as the reads now show it.
 * @property {string | null} etag Its ETag, for the next write's `ifMatch`.
 */

/**
 * One rule a refused value breaks: `message` is a sentence for the shopper.
 * @typedef {object} FieldProblem
 * @property {string} field The request body's member (`value`).
 * @property {string} message
 */

const TOKEN_PATH = "/customer/current.jwt";
const DEFAULT_TIMEOUT_MS = 15000;
// A token is replaced this long before it expires, so that it does not expire on the way to
// the service; at most a quarter of its lifetime, for unusually short-lived tokens.
const EXPIRY_MARGIN_MS = 60000;
const MAX_LIMIT = 250;

/** Every error the client raises on purpose. */
export class OrderMetafieldsError extends Error {
  /**
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = "OrderMetafieldsError";
  }
}

/** The store has no signed-in shopper (its `/customer/current.jwt` answered `404`). */
export class NotSignedInError extends OrderMetafieldsError {
  constructor() {
    super("the shopper is not signed in to the store");
    this.name = "NotSignedInError";
  }
}

/** The store answered `/customer/current.jwt` with something other than a token or `404`. */
export class TokenError extends OrderMetafieldsError {
  /**
   * @param {string} message
   * @param {number} status The store's HTTP status.
   */
  constructor(message, status) {
    super(message);
    this.name = "TokenError";
    /** @type {number} */
    this.status = status;
  }
}

/** The service could not be reached, the browser blocked the call (CORS), or it timed out. */
export class NetworkError extends OrderMetafieldsError {
  /**
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = "NetworkError";
  }
}

/** The service answered with an error: an RFC 9457 problem document. */
export class ProblemError extends OrderMetafieldsError {
  /**
   * @param {{ status: number, type: string, title: string, detail: string,
   *   requestId: string | null }} problem
   */
  constructor(problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = "ProblemError";
    /** The HTTP status, e.g. `404` for an order that is not the shopper's. @type {number} */
    this.status = problem.status;
    /** The stable problem type URI to branch on. @type {string} */
    this.type = problem.type;
    /** @type {string} */
    this.title = problem.title;
    /** Human-readable and safe to show; may change. @type {string} */
    this.detail = problem.detail;
    /** The service's `X-Request-Id`, to quote when reporting a problem. @type {string | null} */
    this.requestId = problem.requestId;
  }
}

/** `404`: not an order of the shopper's, or a field they cannot see. */
export class NotFoundError extends ProblemError {
  /** @param {ConstructorParameters<typeof ProblemError>[0]} problem */
  constructor(problem) {
    super(problem);
    this.name = "NotFoundError";
  }
}

/** `403`: a field the shopper sees but may not change. */
export class NotEditableError extends ProblemError {
  /** @param {ConstructorParameters<typeof ProblemError>[0]} problem */
  constructor(problem) {
    super(problem);
    this.name = "NotEditableError";
  }
}

/** `409`: the order's status no longer (or not yet) lets the shopper change the field. */
export class EditingClosedError extends ProblemError {
  /** @param {ConstructorParameters<typeof ProblemError>[0]} problem */
  constructor(problem) {
    super(problem);
    this.name = "EditingClosedError";
  }
}

/** `412`: the field changed since the shopper read it (`ifMatch` is stale). */
export class PreconditionFailedError extends ProblemError {
  /** @param {ConstructorParameters<typeof ProblemError>[0]} problem */
  constructor(problem) {
    super(problem);
    this.name = "PreconditionFailedError";
  }
}

/** `422`: the value breaks the field's rules; `errors` has one message per broken rule. */
export class InvalidValueError extends ProblemError {
  /**
   * @param {ConstructorParameters<typeof ProblemError>[0]} problem
   * @param {FieldProblem[]} errors
   */
  constructor(problem, errors) {
    super(problem);
    this.name = "InvalidValueError";
    /** Every rule the value breaks, each a sentence to show next to the field. @type {FieldProblem[]} */
    this.errors = errors;
  }
}

/** `429`: too many requests from this shopper; `retryAfter` is in seconds, if given. */
export class RateLimitedError extends ProblemError {
  /**
   * @param {ConstructorParameters<typeof ProblemError>[0]} problem
   * @param {number | null} retryAfter
   */
  constructor(problem, retryAfter) {
    super(problem);
    this.name = "RateLimitedError";
    /** Seconds to wait before trying again, from `Retry-After`. @type {number | null} */
    this.retryAfter = retryAfter;
  }
}

/**
 * Creates a client for one service and one app.
 * @param {ClientOptions} options
 * @returns {OrderMetafieldsClient}
 */
export function createClient(options) {
  const { apiBase, appClientId } = options ?? {};
  if (typeof apiBase !== "string" || apiBase === "") {
    throw new TypeError("createClient: apiBase must be the order-metafields service's URL");
  }
  if (typeof appClientId !== "string" || appClientId === "") {
    throw new TypeError("createClient: appClientId must be the app's client id");
  }
  const base = apiBase.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tokenUrl = `${TOKEN_PATH}?app_client_id=${encodeURIComponent(appClientId)}`;
  const useSession = options.session === true;

  /** @type {{ value: string, refreshAt: number } | null} */
  let cached = null;
  /** @type {Promise<string> | null} */
  let pending = null;

  /** The current token: the cached one while fresh, else one fetch shared by all callers. */
  function token() {
    if (cached !== null && now() < cached.refreshAt) {
      return Promise.resolve(cached.value);
    }
    if (pending === null) {
      const fetchedAt = now();
      pending = fetchToken()
        .then((value) => {
          cached = { value, refreshAt: refreshTime(value, fetchedAt) };
          return value;
        })
        .finally(() => {
          pending = null;
        });
    }
    return pending;
  }

  /**
   * Drops `used` unless another caller has already replaced it.
   * @param {string} used
   */
  function forget(used) {
    if (cached !== null && cached.value === used) {
      cached = null;
    }
  }

  async function fetchToken() {
    // No Accept header: BigCommerce answers a bare token by default; `{"token": …}` is
    // handled too because some setups answer that. `no-store` keeps an old token from
    // coming back out of the HTTP cache.
    const reply = await exchange(tokenUrl, { credentials: "same-origin", cache: "no-store" });
    if (reply.status === 404) {
      throw new NotSignedInError();
    }
    if (reply.status < 200 || reply.status > 299) {
      throw new TokenError(`the store answered ${reply.status} for the customer token`, reply.status);
    }
    const value = tokenFromBody(reply.text);
    if (value === null) {
      throw new TokenError("the store's customer token is not a JWT", reply.status);
    }
    return value;
  }

  /** @type {number} When the cookie session should be renewed; 0 when there is none. */
  let sessionRenewAt = 0;
  /** @type {Promise<void> | null} */
  let starting = null;

  /**
   * A cookie session that is fresh: the current one, else one started from a fresh token,
   * shared by all callers. The token is dropped from memory once the session holds it.
   */
  function session() {
    if (sessionRenewAt !== 0 && now() < sessionRenewAt) {
      return Promise.resolve();
    }
    if (starting === null) {
      starting = (async () => {
        const used = await token();
        const reply = await exchange(`${base}/v1/session`, {
          method: "POST",
          credentials: "include",
          headers: { Accept: "application/json", Authorization: `Bearer ${used}` },
        });
        const renewAt = cached?.refreshAt ?? now();
        forget(used);
        if (reply.status !== 204) {
          throw problemFrom(reply);
        }
        sessionRenewAt = renewAt;
      })().finally(() => {
        starting = null;
      });
    }
    return starting;
  }

  /**
   * One authenticated GET (or `write`): with the session cookie, or with the token as a
   * bearer header.
   * @param {string} path
   * @param {{ method: string, body: string, headers: Record<string, string> }} [write]
   * @returns {Promise<{ reply: Awaited<ReturnType<typeof exchange>>, used: string | null }>}
   */
  async function authenticated(path, write) {
    if (useSession) {
      await session();
      return { reply: await exchange(base + path, sessionInit(write)), used: null };
    }
    const used = await token();
    return { reply: await exchange(base + path, serviceInit(used, write)), used };
  }

  /**
   * GETs `path` from the service (or sends `write`); on a `401` gets a fresh token (or
   * session) once and retries once (a write is a `PUT`, which may be repeated).
   * @param {string} path
   * @param {{ method: string, body: string, headers: Record<string, string> }} [write]
   * @returns {Promise<{ body: any, headers: Headers }>} The parsed JSON body and the headers.
   */
  async function send(path, write) {
    let { reply, used } = await authenticated(path, write);
    if (reply.status === 401) {
      if (used !== null) {
        forget(used);
      }
      sessionRenewAt = 0;
      ({ reply } = await authenticated(path, write));
    }
    if (reply.status < 200 || reply.status > 299) {
      throw problemFrom(reply);
    }
    try {
      return { body: JSON.parse(reply.text), headers: reply.headers };
    } catch (error) {
      throw new OrderMetafieldsError("the service's answer is not JSON", { cause: error });
    }
  }

  /**
   * GETs `path` from the service.
   * @param {string} path
   * @returns {Promise<any>} The parsed JSON body.
   */
  async function call(path) {
    return (await send(path)).body;
  }

  /**
   * One HTTP exchange, body included, within the timeout; failures become `NetworkError`.
   * @param {string} url
   * @param {RequestInit} init
   */
  async function exchange(url, init) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetchImpl(url, { ...init, signal: controller.signal });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      const reason = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : "failed";
      throw new NetworkError(`the request to ${url} ${reason}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async orders(query = {}) {
      const page = query.page ?? 1;
      const limit = query.limit ?? 50;
      if (!Number.isInteger(page) || page < 1) {
        throw new RangeError("orders: page must be an integer from 1");
      }
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new RangeError(`orders: limit must be an integer from 1 to ${MAX_LIMIT}`);
      }
      const body = await call(`/v1/orders?page=${page}&limit=${limit}`);
      return { orders: body.data, pagination: body.meta?.pagination };
    },
    async order(id) {
      const body = await call(`/v1/orders/${orderId(id)}`);
      return body.data;
    },
    async metafields(id) {
      const body = await call(`/v1/orders/${orderId(id)}/metafields`);
      return body.data;
    },
    async endSession() {
      if (!useSession) {
        return;
      }
      sessionRenewAt = 0;
      const reply = await exchange(`${base}/v1/session`, {
        method: "DELETE",
        credentials: "include",
        headers: { Accept: "application/json", "X-Requested-With": "order-metafields" },
      });
      if (reply.status !== 204) {
        throw problemFrom(reply);
      }
    },

    async setMetafield(id, namespace, key, value, options = {}) {
      const path = `/v1/orders/${orderId(id)}/metafields/${fieldName("namespace", namespace)}/${fieldName("key", key)}`;
      if (typeof value !== "string") {
        throw new TypeError("setMetafield: value must be a string (values are always text)");
      }
      /** @type {Record<string, string>} */
      const headers = { "Content-Type": "application/json" };
      if (options.ifMatch !== undefined) {
        if (typeof options.ifMatch !== "string" || options.ifMatch === "") {
          throw new TypeError("setMetafield: ifMatch must be an etag from an earlier write, or *");
        }
        headers["If-Match"] = options.ifMatch;
      }
      const reply = await send(path, { method: "PUT", body: JSON.stringify({ value }), headers });
      return { metafield: reply.body.data, etag: reply.headers.get("etag") };
    },
  };
}

/**
 * A request with the session cookie: the browser sends the service's own cookie, and no
 * token is in the request; a write also says `X-Requested-With`, which a cross-site form
 * cannot send (the service refuses a cookie write without it).
 * @param {{ method: string, body: string, headers: Record<string, string> }} [write]
 * @returns {RequestInit}
 */
function sessionInit(write) {
  const headers = { Accept: "application/json" };
  if (write === undefined) {
    return { credentials: "include", headers };
  }
  return {
    credentials: "include",
    method: write.method,
    body: write.body,
    headers: { ...headers, "X-Requested-With": "order-metafields", ...write.headers },
  };
}

/**
 * The request to the service: the token in the header only; no cookies go to the service.
 * @param {string} token
 * @param {{ method: string, body: string, headers: Record<string, string> }} [write]
 * @returns {RequestInit}
 */
function serviceInit(token, write) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (write === undefined) {
    return { credentials: "omit", headers };
  }
  return {
    credentials: "omit",
    method: write.method,
    body: write.body,
    headers: { ...headers, ...write.headers },
  };
}

/**
 * A namespace or key as one path segment: 1 to 64 characters, percent-encoded, so that no
 * caller can steer the request to another path.
 * @param {string} what
 * @param {string} name
 */
function fieldName(what, name) {
  if (typeof name !== "string" || name.length < 1 || [...name].length > 64) {
    throw new RangeError(`setMetafield: ${what} must be 1 to 64 characters`);
  }
  return encodeURIComponent(name);
}

/**
 * An order id as a path segment; anything but a positive integer is refused here, so no
 * caller can steer the request to another path.
 * @param {number | string} id
 */
function orderId(id) {
  const text = String(id);
  if (!/^[1-9][0-9]{0,15}$/.test(text)) {
    throw new RangeError(`order id must be a positive integer, not ${JSON.stringify(text)}`);
  }
  return text;
}

/**
 * The token in a `/customer/current.jwt` body: a bare token or `{"token": "…"}`; null when
 * the body holds no JWT.
 * @param {string} body
 * @returns {string | null}
 */
function tokenFromBody(body) {
  let value = body.trim();
  if (value.startsWith("{")) {
    try {
      value = JSON.parse(value).token;
    } catch {
      return null;
    }
  }
  return typeof value === "string" && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value) ? value : null;
}

/**
 * When to stop reusing a token fetched at `fetchedAt`. The lifetime is taken from the token's
 * own `exp - iat`, so a browser clock that is off does not matter; a token whose lifetime
 * cannot be read is not reused.
 * @param {string} token
 * @param {number} fetchedAt
 */
function refreshTime(token, fetchedAt) {
  const claims = payload(token);
  const exp = claims?.exp;
  if (claims === null || typeof exp !== "number") {
    return fetchedAt;
  }
  const iat = claims.iat;
  const lifetimeMs = typeof iat === "number" ? (exp - iat) * 1000 : exp * 1000 - fetchedAt;
  return fetchedAt + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 4);
}

/**
 * The decoded (not verified: the service verifies) claims of a JWT, or null.
 * @param {string} token
 * @returns {Record<string, unknown> | null}
 */
function payload(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/**
 * The error for a non-2xx answer: the problem document's fields when there is one, else
 * what the status says (a proxy in front of the service may answer with HTML).
 * @param {{ status: number, headers: Headers, text: string }} reply
 */
function problemFrom(reply) {
  let body = null;
  try {
    body = JSON.parse(reply.text);
  } catch {
    // Not a problem document; the status alone has to do.
  }
  /** @param {string} name */
  const field = (name) =>
    body !== null && typeof body === "object" && typeof body[name] === "string" ? body[name] : null;
  const problem = {
    status: reply.status,
    type: field("type") ?? "about:blank",
    title: field("title") ?? `HTTP ${reply.status}`,
    detail: field("detail") ?? "",
    requestId: reply.headers.get("x-request-id"),
  };
  switch (reply.status) {
    case 403:
      return new NotEditableError(problem);
    case 404:
      return new NotFoundError(problem);
    case 409:
      return new EditingClosedError(problem);
    case 412:
      return new PreconditionFailedError(problem);
    case 422:
      return new InvalidValueError(problem, fieldProblems(body));
    case 429: {
      const seconds = Number(reply.headers.get("retry-after"));
      return new RateLimitedError(problem, reply.headers.has("retry-after") && Number.isFinite(seconds) ? seconds : null);
    }
    default:
      return new ProblemError(problem);
  }
}

/**
 * The `errors` of a `422` problem, each `{field, message}` with text only.
 * @param {unknown} body
 * @returns {FieldProblem[]}
 */
function fieldProblems(body) {
  const errors = body !== null && typeof body === "object" ? /** @type {{ errors?: unknown }} */ (body).errors : null;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((item) => item !== null && typeof item === "object" && typeof item.message === "string")
    .map((item) => ({ field: typeof item.field === "string" ? item.field : "value", message: item.message }));
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;
const TRUE_WORDS = new Set(["true", "yes", "1", "on", "y"]);
const FALSE_WORDS = new Set(["false", "no", "0", "off", "n", ""]);

/**
 * How to show a metafield's value by its `type`: dates in the shopper's locale, URLs as links
 * (only `http:`/`https:`; anything else stays text), email addresses as `mailto:` links,
 * multi-line text as paragraphs, booleans as yes/no, numbers in the locale's digits. A value
 * that does not read as its type is shown as it is. Values are never markup.
 * @param {Pick<Metafield, "value"> & { type?: FieldType | string }} field
 * @param {DisplayOptions} [options]
 * @returns {Display}
 */
export function displayValue(field, options = {}) {
  const value = String(field.value ?? "");
  const text = /** @type {Display} */ ({ kind: "text", text: value });
  switch (field.type) {
    case "multiline_text": {
      const paragraphs = value.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
      return paragraphs.length > 1 ? { kind: "paragraphs", paragraphs } : text;
    }
    case "email":
      return EMAIL.test(value.trim())
        ? { kind: "link", text: value.trim(), href: `mailto:${value.trim()}` }
        : text;
    case "date": {
      const parts = DATE_ONLY.exec(value.trim());
      const time = parts ? Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3])) : Date.parse(value);
      if (Number.isNaN(time)) return text;
      // A calendar date has no time zone: formatted in UTC, it never moves a day.
      return { kind: "text", text: format(options.locale, { dateStyle: "long", timeZone: "UTC" }, time) ?? value };
    }
    case "date_time": {
      const time = Date.parse(value);
      if (Number.isNaN(time)) return text;
      const style = { dateStyle: /** @type {const} */ ("long"), timeStyle: /** @type {const} */ ("short"), timeZone: options.timeZone };
      return { kind: "text", text: format(options.locale, style, time) ?? value };
    }
    case "number": {
      const number = Number(value.trim());
      if (value.trim() === "" || !Number.isFinite(number)) return text;
      try {
        return { kind: "text", text: new Intl.NumberFormat(options.locale).format(number) };
      } catch {
        return text;
      }
    }
    case "boolean": {
      const word = value.trim().toLowerCase();
      const words = options.booleans ?? { yes: "Yes", no: "No" };
      if (TRUE_WORDS.has(word)) return { kind: "text", text: words.yes };
      if (FALSE_WORDS.has(word)) return { kind: "text", text: words.no };
      return text;
    }
    case "url":
    case "text":
    case undefined: {
      // A plain text field that is a whole web address is linked, as before definitions.
      const href = webAddress(value.trim());
      return href ? { kind: "link", text: value, href } : text;
    }
    default:
      return text;
  }
}

/**
 * The DOM nodes of `displayValue`: text nodes, an `<a rel="noopener noreferrer">`, or `<p>`s,
 * all filled with `textContent` only.
 * @param {Pick<Metafield, "value"> & { type?: FieldType | string }} field
 * @param {Document} document The page's document.
 * @param {DisplayOptions} [options]
 * @returns {Node}
 */
export function renderValue(field, document, options = {}) {
  const display = displayValue(field, options);
  if (display.kind === "link") {
    const link = document.createElement("a");
    link.href = display.href;
    link.rel = "noopener noreferrer";
    if (!display.href.startsWith("mailto:")) link.target = "_blank";
    link.textContent = display.text;
    return link;
  }
  if (display.kind === "paragraphs") {
    const fragment = document.createDocumentFragment();
    for (const paragraph of display.paragraphs) {
      const element = document.createElement("p");
      element.textContent = paragraph;
      fragment.append(element);
    }
    return fragment;
  }
  return document.createTextNode(display.text);
}

/**
 * @param {string} value
 * @returns {string | null}
 */
function webAddress(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * @param {string | string[] | undefined} locale
 * @param {Intl.DateTimeFormatOptions} style
 * @param {number} time
 * @returns {string | null}
 */
function format(locale, style, time) {
  try {
    return new Intl.DateTimeFormat(locale, style).format(time);
  } catch {
    return null;
  }
}
