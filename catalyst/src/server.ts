// The server-side call to order-metafields with a Catalyst session's customer access token.
// Server only: the token must never reach a browser (the service refuses it with an Origin
// header), so importing this module from a Client Component fails the build ('server-only').
import 'server-only';

import type { components } from './openapi.js';

/** A storefront-visible order metafield, as the service's openapi.yaml defines it. */
export type OrderMetafield = components['schemas']['Metafield'];
/** An order of the shopper, as the service's openapi.yaml defines it. */
export type Order = components['schemas']['Order'];

/** Where the service is and which store and channel this storefront is. */
export interface ServiceOptions {
  /** The service's base URL; default `process.env.ORDER_METAFIELDS_URL`. */
  serviceUrl?: string;
  /** The store's hash; default `process.env.BIGCOMMERCE_STORE_HASH` (Catalyst sets it). */
  storeHash?: string;
  /** The storefront's channel; default `process.env.BIGCOMMERCE_CHANNEL_ID`, else `1`. */
  channelId?: string | number;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
}

/** The service answered something other than the shopper's data or a plain refusal. */
export class OrderMetafieldsError extends Error {
  readonly status: number;

  constructor(status: number) {
    super(`order-metafields answered ${status}`);
    this.name = 'OrderMetafieldsError';
    this.status = status;
  }
}

/**
 * The order's storefront-visible metafields for the shopper whose customer access token
 * this is. `[]` when there is nothing to show: no token (signed out), the session has ended
 * (`401`), or the order is not the shopper's (`404`, the same for one that does not exist).
 * Other failures throw an `OrderMetafieldsError`.
 */
export async function getOrderMetafields(
  orderId: number,
  customerAccessToken: string | undefined,
  options: ServiceOptions = {},
): Promise<OrderMetafield[]> {
  const body = await get<{ data: OrderMetafield[] }>(
    `/v1/orders/${orderPath(orderId)}/metafields`,
    customerAccessToken,
    options,
  );
  return body?.data ?? [];
}

/** One of the shopper's orders as the service shows it, or `undefined` (see above). */
export async function getOrder(
  orderId: number,
  customerAccessToken: string | undefined,
  options: ServiceOptions = {},
): Promise<Order | undefined> {
  const body = await get<{ data: Order }>(`/v1/orders/${orderPath(orderId)}`, customerAccessToken, options);
  return body?.data;
}

async function get<T>(
  path: string,
  customerAccessToken: string | undefined,
  options: ServiceOptions,
): Promise<T | undefined> {
  const serviceUrl = options.serviceUrl ?? process.env.ORDER_METAFIELDS_URL;
  const storeHash = options.storeHash ?? process.env.BIGCOMMERCE_STORE_HASH;
  const channelId = String(options.channelId ?? process.env.BIGCOMMERCE_CHANNEL_ID ?? '1');
  if (!serviceUrl || !storeHash) {
    throw new TypeError('order-metafields: set ORDER_METAFIELDS_URL and BIGCOMMERCE_STORE_HASH');
  }
  if (!customerAccessToken) {
    return undefined;
  }
  const fetchImpl = options.fetch ?? fetch;
  const response = await fetchImpl(`${serviceUrl.replace(/\/+$/, '')}${path}`, {
    headers: {
      Accept: 'application/json',
      'X-Bc-Customer-Access-Token': customerAccessToken,
      'X-Bc-Store-Hash': storeHash,
      'X-Bc-Channel-Id': channelId,
    },
    // The shopper's own data: never shared between requests or users.
    cache: 'no-store',
  });
  if (response.status === 401 || response.status === 404) {
    return undefined;
  }
  if (!response.ok) {
    throw new OrderMetafieldsError(response.status);
  }
  return (await response.json()) as T;
}

/** An order id as a path segment; anything but a positive integer is refused. */
function orderPath(orderId: number): string {
  if (!Number.isSafeInteger(orderId) || orderId < 1) {
    throw new RangeError(`order id must be a positive integer, not ${String(orderId)}`);
  }
  return String(orderId);
}
