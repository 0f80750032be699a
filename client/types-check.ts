// A TypeScript caller of the package, compiled (never run) by check-package.sh against the
// published declarations, order-metafields.d.ts: the names a theme imports exist and carry
// the types the README documents, and misuse fails to compile.

import {
  InvalidValueError,
  PreconditionFailedError,
  RateLimitedError,
  type FieldProblem,
  type SavedMetafield,
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

export async function saveGiftMessage(etag: string | null): Promise<string | null> {
  try {
    const saved: SavedMetafield = await client.setMetafield(100, "Gifts", "note", "Happy birthday", etag ? { ifMatch: etag } : {});
    const value: string = saved.metafield.value;
    return saved.etag ?? value;
  } catch (error) {
    if (error instanceof InvalidValueError) {
      const problems: FieldProblem[] = error.errors;
      return problems.map((problem) => problem.message).join(" ");
    }
    if (error instanceof PreconditionFailedError) return "changed meanwhile";
    if (error instanceof RateLimitedError) return `wait ${error.retryAfter ?? 60}`;
    throw error;
  }
}
// @ts-expect-error values are always text
client.setMetafield(100, "Gifts", "note", 12);
