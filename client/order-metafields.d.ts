/**
 * Creates a client for one service and one app.
 * @param {ClientOptions} options
 * @returns {OrderMetafieldsClient}
 */
export function createClient(options: ClientOptions): OrderMetafieldsClient;
/**
 * How to show a metafield's value by its `type`: dates in the shopper's locale, URLs as links
 * (only `http:`/`https:`; anything else stays text), email addresses as `mailto:` links,
 * multi-line text as paragraphs, booleans as yes/no, numbers in the locale's digits. A value
 * that does not read as its type is shown as it is. Values are never markup.
 * @param {Pick<Metafield, "value"> & { type?: FieldType | string }} field
 * @param {DisplayOptions} [options]
 * @returns {Display}
 */
export function displayValue(field: Pick<Metafield, "value"> & {
    type?: FieldType | string;
}, options?: DisplayOptions): Display;
/**
 * The DOM nodes of `displayValue`: text nodes, an `<a rel="noopener noreferrer">`, or `<p>`s,
 * all filled with `textContent` only.
 * @param {Pick<Metafield, "value"> & { type?: FieldType | string }} field
 * @param {Document} document The page's document.
 * @param {DisplayOptions} [options]
 * @returns {Node}
 */
export function renderValue(field: Pick<Metafield, "value"> & {
    type?: FieldType | string;
}, document: Document, options?: DisplayOptions): Node;
/** Every error the client raises on purpose. */
export class OrderMetafieldsError extends Error {
    /**
     * @param {string} message
     * @param {{ cause?: unknown }} [options]
     */
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/** The store has no signed-in shopper (its `/customer/current.jwt` answered `404`). */
export class NotSignedInError extends OrderMetafieldsError {
    constructor();
}
/** The store answered `/customer/current.jwt` with something other than a token or `404`. */
export class TokenError extends OrderMetafieldsError {
    /**
     * @param {string} message
     * @param {number} status The store's HTTP status.
     */
    constructor(message: string, status: number);
    /** @type {number} */
    status: number;
}
/** The service could not be reached, the browser blocked the call (CORS), or it timed out. */
export class NetworkError extends OrderMetafieldsError {
}
/** The service answered with an error: an RFC 9457 problem document. */
export class ProblemError extends OrderMetafieldsError {
    /**
     * @param {{ status: number, type: string, title: string, detail: string,
     *   requestId: string | null }} problem
     */
    constructor(problem: {
        status: number;
        type: string;
        title: string;
        detail: string;
        requestId: string | null;
    });
    /** The HTTP status, e.g. `404` for an order that is not the shopper's. @type {number} */
    status: number;
    /** The stable problem type URI to branch on. @type {string} */
    type: string;
    /** @type {string} */
    title: string;
    /** Human-readable and safe to show; may change. @type {string} */
    detail: string;
    /** The service's `X-Request-Id`, to quote when reporting a problem. @type {string | null} */
    requestId: string | null;
}
/** `404`: not an order of the shopper's, or a field they cannot see. */
export class NotFoundError extends ProblemError {
}
/** `403`: a field the shopper sees but may not change. */
export class NotEditableError extends ProblemError {
}
/** `409`: the order's status no longer (or not yet) lets the shopper change the field. */
export class EditingClosedError extends ProblemError {
}
/** `412`: the field changed since the shopper read it (`ifMatch` is stale). */
export class PreconditionFailedError extends ProblemError {
}
/** `422`: the value breaks the field's rules; `errors` has one message per broken rule. */
export class InvalidValueError extends ProblemError {
    /**
     * @param {ConstructorParameters<typeof ProblemError>[0]} problem
     * @param {FieldProblem[]} errors
     */
    constructor(problem: ConstructorParameters<typeof ProblemError>[0], errors: FieldProblem[]);
    /** Every rule the value breaks, each a sentence to show next to the field. @type {FieldProblem[]} */
    errors: FieldProblem[];
}
/** `429`: too many requests from this shopper; `retryAfter` is in seconds, if given. */
export class RateLimitedError extends ProblemError {
    /**
     * @param {ConstructorParameters<typeof ProblemError>[0]} problem
     * @param {number | null} retryAfter
     */
    constructor(problem: ConstructorParameters<typeof ProblemError>[0], retryAfter: number | null);
    /** Seconds to wait before trying again, from `Retry-After`. @type {number | null} */
    retryAfter: number | null;
}
export type ClientOptions = {
    /**
     * The service's URL, e.g. `https://order-metafields.example.com`
     * (a path prefix is kept; a trailing slash is ignored).
     */
    apiBase: string;
    /**
     * The client id of the app's API account: the
     * `app_client_id` the store's `/customer/current.jwt` issues tokens for.
     */
    appClientId: string;
    /**
     * The fetch to use; the page's own by default.
     */
    fetch?: typeof fetch | undefined;
    /**
     * How long one HTTP exchange may take, body included
     * (default 15000); past it the call fails with a `NetworkError`.
     */
    timeoutMs?: number | undefined;
    /**
     * Milliseconds since the epoch; `Date.now` by default
     * (tests replace it).
     */
    now?: (() => number) | undefined;
    /**
     * Use a cookie session (default `false`): the token is sent
     * once to `POST /v1/session`, and reads carry the service's `HttpOnly` cookie instead of
     * the token, so the token is not kept in page memory between calls. Only for a service on
     * the storefront's own site (e.g. `api.store.com` beside `www.store.com`): browsers that
     * block third-party cookies drop the cookie of a service on another site.
     */
    session?: boolean | undefined;
};
/**
 * An order as the service returns it (`Order` in the service's openapi.yaml): money amounts
 * are decimal strings exactly as BigCommerce gives them, in `currency_code`; dates are
 * RFC 3339.
 */
export type Order = {
    /**
     * The BigCommerce order id.
     */
    id: number;
    /**
     * The signed-in shopper's id.
     */
    customer_id: number;
    /**
     * The status's display name, e.g. `Shipped`.
     */
    status: string;
    /**
     * BigCommerce's order status id.
     */
    status_id: number;
    date_created: string;
    date_modified: string;
    /**
     * `null` while the order has not shipped.
     */
    date_shipped: string | null;
    /**
     * The ISO 4217 code of the amounts' currency.
     */
    currency_code: string;
    subtotal_ex_tax: string;
    subtotal_inc_tax: string;
    shipping_cost_inc_tax: string;
    total_tax: string;
    total_ex_tax: string;
    total_inc_tax: string;
    discount_amount: string;
    refunded_amount: string;
    /**
     * Number of items in the order.
     */
    items_total: number;
    /**
     * Number of items shipped so far.
     */
    items_shipped: number;
    /**
     * The payment method's display name.
     */
    payment_method: string;
    /**
     * Whether every item is digital (nothing to ship).
     */
    order_is_digital: boolean;
    /**
     * The channel (storefront) the order was placed on; `1` is the
     * store's default storefront.
     */
    channel_id: number;
};
/**
 * A storefront-visible order metafield. `value` is the merchant's text: render it as text.
 */
export type Metafield = {
    id: number;
    namespace: string;
    key: string;
    value: string;
    description: string;
    date_created: string;
    date_modified: string;
    /**
     * What to show as the field's name: the merchant's label, or the
     * metafield's `description` (may be empty).
     */
    label: string;
    /**
     * How to render `value` (`text` without a definition).
     */
    type: FieldType;
    /**
     * The field's place (items arrive in this order);
     * `null` without a definition.
     */
    position: number | null;
    /**
     * Whether the shopper may change the value (`setMetafield`).
     */
    editable: boolean;
    /**
     * On an editable field that has one: the most characters
     * the shopper may enter.
     */
    max_length?: number | undefined;
    /**
     * On an editable `choice` field: the values to pick from.
     */
    choices?: string[] | undefined;
};
export type FieldType = "text" | "multiline_text" | "url" | "email" | "date" | "date_time" | "number" | "boolean" | "choice";
/**
 * How a field's value is shown, decided without a DOM (see `renderValue` for the nodes):
 * plain text, a link (only `http:`, `https:` or `mailto:`), or paragraphs.
 */
export type Display = {
    kind: "text";
    text: string;
} | {
    kind: "link";
    text: string;
    href: string;
} | {
    kind: "paragraphs";
    paragraphs: string[];
};
export type DisplayOptions = {
    /**
     * The shopper's locale(s) for dates and numbers; the
     * browser's by default.
     */
    locale?: string | string[] | undefined;
    /**
     * For `date_time` values; the browser's by default.
     */
    timeZone?: string | undefined;
    /**
     * The words for yes/no fields
     * (default `Yes` and `No`).
     */
    booleans?: {
        yes: string;
        no: string;
    } | undefined;
};
export type Pagination = {
    total: number;
    count: number;
    per_page: number;
    current_page: number;
    total_pages: number;
};
export type OrdersPage = {
    /**
     * The page's orders, newest first.
     */
    orders: Order[];
    pagination: Pagination;
};
export type OrderMetafieldsClient = {
    /**
     *   The shopper's orders, newest first; `page` from 1, `limit` from 1 to 250 (default 50).
     */
    orders: (query?: {
        page?: number;
        limit?: number;
    }) => Promise<OrdersPage>;
    /**
     * One of the shopper's orders.
     */
    order: (id: number | string) => Promise<Order>;
    /**
     * That order's
     * storefront-visible metafields.
     */
    metafields: (orderId: number | string) => Promise<Metafield[]>;
    /**
     * Ends the cookie session (`DELETE /v1/session`);
     * does nothing without the `session` option.
     */
    endSession: () => Promise<void>;
    /**
     * Sets the value of
     * one of the order's editable fields (`editable: true`); refusals are `ProblemError`
     * subclasses by status: `NotEditableError` 403, `NotFoundError` 404,
     * `EditingClosedError` 409, `PreconditionFailedError` 412, `InvalidValueError` 422 (with
     * one message per broken rule), `RateLimitedError` 429.
     */
    setMetafield: (orderId: number | string, namespace: string, key: string, value: string, options?: SetMetafieldOptions) => Promise<SavedMetafield>;
};
export type SetMetafieldOptions = {
    /**
     * The `etag` of the value the shopper last saw (from an earlier
     * `setMetafield`), or `*`: the write is refused with `PreconditionFailedError` if the field
     * changed meanwhile.
     */
    ifMatch?: string | undefined;
};
export type SavedMetafield = {
    /**
     * The field as the reads now show it.
     */
    metafield: Metafield;
    /**
     * Its ETag, for the next write's `ifMatch`.
     */
    etag: string | null;
};
/**
 * One rule a refused value breaks: `message` is a sentence for the shopper.
 */
export type FieldProblem = {
    /**
     * The request body's member (`value`).
     */
    field: string;
    message: string;
};
