//! BigCommerce's order statuses: ids, names, descriptions and sort order, as the v2 API's
//! order count lists them (orders.v2.oas2.yml). Pure data: `seed` places orders in them, `store`
//! checks a new status against them, `wire` and the order count render them.

/// BigCommerce's order status ids (orders.v2.oas2.yml, `ordersCount_Resp` example).
pub(crate) mod status_id {
    pub const INCOMPLETE: u8 = 0;
    pub const PENDING: u8 = 1;
    pub const SHIPPED: u8 = 2;
    pub const PARTIALLY_SHIPPED: u8 = 3;
    pub const REFUNDED: u8 = 4;
    pub const CANCELLED: u8 = 5;
    pub const DECLINED: u8 = 6;
    pub const AWAITING_PAYMENT: u8 = 7;
    pub const AWAITING_PICKUP: u8 = 8;
    pub const AWAITING_SHIPMENT: u8 = 9;
    pub const COMPLETED: u8 = 10;
    pub const AWAITING_FULFILLMENT: u8 = 11;
    pub const MANUAL_VERIFICATION_REQUIRED: u8 = 12;
    pub const DISPUTED: u8 = 13;
    pub const PARTIALLY_REFUNDED: u8 = 14;
}

/// One row of BigCommerce's order status list.
pub(crate) struct OrderStatus {
    pub id: u8,
    pub name: &'static str,
    pub description: &'static str,
    pub sort_order: u8,
}

/// The status list in BigCommerce's `sort_order`.
pub(crate) const ORDER_STATUSES: [OrderStatus; 15] = [
    status(
        status_id::INCOMPLETE,
        "Incomplete",
        "An incomplete order happens when a shopper reached the payment page, but did not complete the transaction.",
        0,
    ),
    status(
        status_id::PENDING,
        "Pending",
        "Customer started the checkout process, but did not complete it.",
        1,
    ),
    status(
        status_id::AWAITING_PAYMENT,
        "Awaiting Payment",
        "Customer has completed checkout process, but payment has yet to be confirmed.",
        2,
    ),
    status(
        status_id::AWAITING_FULFILLMENT,
        "Awaiting Fulfillment",
        "Customer has completed the checkout process and payment has been confirmed.",
        3,
    ),
    status(
        status_id::AWAITING_SHIPMENT,
        "Awaiting Shipment",
        "Order has been pulled and packaged, and is awaiting collection from a shipping provider.",
        4,
    ),
    status(
        status_id::AWAITING_PICKUP,
        "Awaiting Pickup",
        "Order has been pulled, and is awaiting customer pickup from a seller-specified location.",
        5,
    ),
    status(
        status_id::PARTIALLY_SHIPPED,
        "Partially Shipped",
        "Only some items in the order have been shipped, due to some products being pre-order only or other reasons.",
        6,
    ),
    status(
        status_id::COMPLETED,
        "Completed",
        "Client has paid for their digital product and their file(s) are available for download.",
        7,
    ),
    status(
        status_id::SHIPPED,
        "Shipped",
        "Order has been shipped, but receipt has not been confirmed; seller has used the Ship Items action.",
        8,
    ),
    status(
        status_id::CANCELLED,
        "Cancelled",
        "Seller has cancelled an order, due to a stock inconsistency or other reasons.",
        9,
    ),
    status(
        status_id::DECLINED,
        "Declined",
        "Seller has marked the order as declined for lack of manual payment, or other reasons.",
        10,
    ),
    status(
        status_id::REFUNDED,
        "Refunded",
        "Seller has used the Refund action.",
        11,
    ),
    status(
        status_id::DISPUTED,
        "Disputed",
        "Customer has initiated a dispute resolution process for the PayPal transaction that paid for the order.",
        12,
    ),
    status(
        status_id::MANUAL_VERIFICATION_REQUIRED,
        "Manual Verification Required",
        "Order is on hold while some aspect needs to be manually confirmed.",
        13,
    ),
    status(
        status_id::PARTIALLY_REFUNDED,
        "Partially Refunded",
        "Seller has partially refunded the order.",
        14,
    ),
];

const fn status(
    id: u8,
    name: &'static str,
    description: &'static str,
    sort_order: u8,
) -> OrderStatus {
    OrderStatus {
        id,
        name,
        description,
        sort_order,
    }
}

/// The status row for `id`; unknown ids read as Incomplete (seeds only use known ones).
pub(crate) fn order_status(id: u8) -> &'static OrderStatus {
    ORDER_STATUSES
        .iter()
        .find(|status| status.id == id)
        .unwrap_or(&ORDER_STATUSES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_list_has_every_id_once() {
        let mut ids: Vec<u8> = ORDER_STATUSES.iter().map(|status| status.id).collect();
        ids.sort_unstable();

        assert_eq!(ids, (0..=14).collect::<Vec<u8>>());
    }
}
