// order-metafields for Catalyst: a server-only helper and a React Server Component.
export { OrderMetafields, type OrderMetafieldsProps } from './order-metafields.js';
export {
  getOrder,
  getOrderMetafields,
  OrderMetafieldsError,
  type Order,
  type OrderMetafield,
  type ServiceOptions,
} from './server.js';
