// A React Server Component for Catalyst's order details page: the order's metafields, as a
// definition list, rendered on the server. Values are the merchant's text and are rendered as
// text (React escapes them), never as HTML.
import type { ReactElement } from 'react';

import { getOrderMetafields, type ServiceOptions } from './server.js';

export interface OrderMetafieldsProps extends ServiceOptions {
  orderId: number;
  /** The session's token: `await getSessionCustomerAccessToken()` from Catalyst's `~/auth`. */
  customerAccessToken: string | undefined;
  /** The section's heading; default "Order details". */
  title?: string;
}

/** The order's storefront-visible metafields; nothing at all when there are none to show. */
export async function OrderMetafields(props: OrderMetafieldsProps): Promise<ReactElement | null> {
  const { orderId, customerAccessToken, title = 'Order details', ...options } = props;
  const metafields = await getOrderMetafields(orderId, customerAccessToken, options);
  if (metafields.length === 0) {
    return null;
  }
  const headingId = `order-metafields-${orderId}`;
  return (
    <section aria-labelledby={headingId} data-order-metafields={orderId}>
      <h2 id={headingId}>{title}</h2>
      <dl>
        {metafields.map((field) => (
          <div key={field.id}>
            <dt>{field.description || field.key}</dt>
            <dd data-metafield={`${field.namespace}.${field.key}`}>{field.value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
