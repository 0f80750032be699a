// A TypeScript caller of the package, compiled (never run) by check-package.sh against the
// published declarations, order-metafields.d.ts: the names a theme imports exist and carry
// the types the README documents, and misuse fails to compile.

import {
  NetworkError,
  NotSignedInError,
  OrderMetafieldsError,
  ProblemError,
  TokenError,
  createClient,
  type ClientOptions,
  type Metafield,
  type Order,
  type OrderMetafieldsClient,
  type OrdersPage,
} from "./order-metafields.js";

const options: ClientOptions = { apiBase: "https://order-metafields.example.com", appClientId: "client-id", timeoutMs: 5000 };
const client: OrderMetafieldsClient = createClient(options);

export async function render(): Promise<string[]> {
  const page: OrdersPage = await client.orders({ page: 1, limit: 10 });
  const lines = page.orders.map((order: Order) => {
    const shipped: string = order.date_shipped ?? "not yet";
    const digital: boolean = order.order_is_digital;
    return `${order.id} ${order.status} ${order.total_inc_tax} ${order.currency_code} ${shipped} ${digital}`;
  });
  const single: Order = await client.order(369);
  const metafields: Metafield[] = await client.metafields(single.id);
  lines.push(...metafields.map((field) => `${field.namespace}.${field.key}: ${field.value} (${field.description})`));
  lines.push(`page ${page.pagination.current_page} of ${page.pagination.total_pages}`);
  return lines;
}

export function message(error: unknown): string {
  if (error instanceof NotSignedInError) return "sign in";
  if (error instanceof ProblemError) {
    const status: number = error.status;
    const reference: string | null = error.requestId;
    return `${error.type} ${status} ${reference ?? ""}`;
  }
  if (error instanceof TokenError) return `token ${error.status}`;
  if (error instanceof NetworkError) return error.message;
  if (error instanceof OrderMetafieldsError) return error.name;
  return "unknown";
}

// @ts-expect-error appClientId is required
createClient({ apiBase: "https://order-metafields.example.com" });
// @ts-expect-error an order's id is a number
export const wrong: string = (await client.order(1)).id;
// @ts-expect-error the list takes a query object, not a page number
client.orders(2);
