//! The control panel's Orders page at `/manage/orders`: the store's orders, newest first, 50 a
//! page, optionally one customer's (`?customer_id=`), each with its customer, date, channel,
//! total and status, and a small form that changes the status. A change answers once the
//! configured webhook destination heard of it (as a Management API write does), then shows the
//! page again with a notice; it fires `store/order/statusUpdated` and `store/order/updated`.
//! The page acts as the store owner, like the rest of the sandbox's control panel.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::control_panel::ControlPanelState;
use crate::html::escape;
use crate::order_status::{ORDER_STATUSES, order_status};
use crate::panel_frame::{Section, frame};

/// Orders per page.
const PAGE_SIZE: usize = 50;

/// Registers the Orders page and its status change.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.route("/manage/orders", web::get().to(orders)).route(
        "/manage/orders/{order_id}/status",
        web::post().to(change_status),
    );
}

#[derive(Deserialize)]
struct OrdersQuery {
    customer_id: Option<u64>,
    page: Option<usize>,
    /// The order whose status just changed, for the notice.
    changed: Option<u64>,
}

#[derive(Deserialize)]
struct StatusForm {
    status_id: u8,
}

/// One row of the table.
struct Row {
    id: u64,
    customer: String,
    date: String,
    channel: String,
    total: String,
    status_id: u8,
}

async fn orders(
    state: web::Data<ControlPanelState>,
    query: web::Query<OrdersQuery>,
) -> HttpResponse {
    let page = query.page.unwrap_or(1).max(1);
    let (rows, total) = state.store.with_state(|store| {
        let ids: Vec<u64> = match query.customer_id {
            Some(customer_id) => store
                .orders_by_customer
                .get(&customer_id)
                .cloned()
                .unwrap_or_default(),
            None => store.orders.keys().copied().collect(),
        };
        let total = ids.len();
        let rows: Vec<Row> = ids
            .iter()
            .rev()
            .skip((page - 1).saturating_mul(PAGE_SIZE))
            .take(PAGE_SIZE)
            .filter_map(|id| store.orders.get(id))
            .map(|order| Row {
                id: order.id,
                customer: store.customers.get(&order.customer_id).map_or_else(
                    || "Guest".to_owned(),
                    |customer| {
                        format!(
                            "{} {} (#{})",
                            customer.first_name, customer.last_name, customer.id
                        )
                    },
                ),
                date: crate::wire::rfc2822(order.date_created),
                channel: store
                    .channels
                    .iter()
                    .find(|channel| channel.id == order.channel_id)
                    .map_or_else(
                        || order.channel_id.to_string(),
                        |channel| channel.name.clone(),
                    ),
                total: format!("{} {}", order.total_inc_tax(), order.currency.code()),
                status_id: order.status_id,
            })
            .collect();
        (rows, total)
    });
    let mut body = String::new();
    if let Some(order_id) = query.changed
        && let Some(row) = state
            .store
            .order_status(order_id)
            .map(|status_id| order_status(status_id).name)
    {
        let _ = writeln!(
            body,
            "<p class=\"cp-notice\" role=\"status\">Order #{order_id} is now <strong>{}</strong>.</p>",
            escape(row)
        );
    }
    let customer_field = query
        .customer_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    let _ = write!(
        body,
        "<section class=\"cp-panel\" id=\"orders\">\n\
         <form class=\"cp-filter\" method=\"get\" action=\"/manage/orders\">\
         <label for=\"customer_id\">Customer ID</label>\
         <input id=\"customer_id\" name=\"customer_id\" inputmode=\"numeric\" value=\"{customer_field}\"> \
         <button class=\"cp-button cp-button--secondary cp-button--small\">Filter</button></form>\n\
         <table class=\"cp-table\">\n<thead><tr><th>Order</th><th>Customer</th><th>Date</th>\
         <th>Channel</th><th>Total</th><th>Status</th></tr></thead>\n<tbody>\n"
    );
    for row in &rows {
        let _ = writeln!(
            body,
            "<tr id=\"order-{id}\" data-order-id=\"{id}\" data-status-id=\"{status}\"><td>#{id}</td>\
             <td>{customer}</td><td>{date}</td><td>{channel}</td><td>{total}</td><td>{form}</td></tr>",
            id = row.id,
            status = row.status_id,
            customer = escape(&row.customer),
            date = escape(&row.date),
            channel = escape(&row.channel),
            total = escape(&row.total),
            form = status_form(row.id, row.status_id, query.customer_id),
        );
    }
    body.push_str("</tbody>\n</table>\n");
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let link = |page: usize| match query.customer_id {
        Some(customer_id) => format!("/manage/orders?customer_id={customer_id}&amp;page={page}"),
        None => format!("/manage/orders?page={page}"),
    };
    let _ = write!(
        body,
        "<nav class=\"cp-pages\" aria-label=\"Pages\"><span>{total} orders, page {page} of {pages}</span>"
    );
    if page > 1 {
        let _ = write!(body, "<a href=\"{}\">Previous</a>", link(page - 1));
    }
    if page < pages {
        let _ = write!(body, "<a href=\"{}\">Next</a>", link(page + 1));
    }
    body.push_str("</nav>\n</section>\n");
    frame(
        state.store.name(),
        state.store.hash(),
        Section::Orders,
        StatusCode::OK,
        "Orders",
        &body,
    )
}

/// The status cell: the current status and a select of every status with a button.
fn status_form(order_id: u64, status_id: u8, customer_id: Option<u64>) -> String {
    let back = customer_id
        .map(|id| format!("?customer_id={id}"))
        .unwrap_or_default();
    let mut form = format!(
        "<span class=\"cp-status\">{}</span> \
         <form method=\"post\" action=\"/manage/orders/{order_id}/status{back}\">\
         <select class=\"cp-select\" id=\"status-{order_id}\" name=\"status_id\" \
         aria-label=\"Status of order #{order_id}\">",
        escape(order_status(status_id).name)
    );
    for status in &ORDER_STATUSES {
        let selected = if status.id == status_id {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            form,
            "<option value=\"{}\"{selected}>{}</option>",
            status.id,
            escape(status.name)
        );
    }
    form.push_str(
        "</select> <button class=\"cp-button cp-button--small\">Update status</button></form>",
    );
    form
}

async fn change_status(
    request: HttpRequest,
    state: web::Data<ControlPanelState>,
    form: web::Form<StatusForm>,
) -> HttpResponse {
    let order_id = request
        .match_info()
        .get("order_id")
        .and_then(|id| id.parse::<u64>().ok());
    let customer_id = url::form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(name, _)| name == "customer_id")
        .and_then(|(_, value)| value.parse::<u64>().ok());
    let moved = order_id.and_then(|order_id| state.store.move_order(order_id, form.status_id));
    match (order_id, moved) {
        (Some(order_id), Some(pending)) => {
            pending.finished().await;
            let location = match customer_id {
                Some(customer_id) => format!(
                    "/manage/orders?customer_id={customer_id}&changed={order_id}#order-{order_id}"
                ),
                None => format!("/manage/orders?changed={order_id}#order-{order_id}"),
            };
            HttpResponse::SeeOther()
                .insert_header((LOCATION, location))
                .finish()
        }
        _ => {
            let known_order = order_id.is_some_and(|id| state.store.order_status(id).is_some());
            let (status, message) = if known_order {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("There is no order status {}.", form.status_id),
                )
            } else {
                (StatusCode::NOT_FOUND, "There is no such order.".to_owned())
            };
            frame(
                state.store.name(),
                state.store.hash(),
                Section::Orders,
                status,
                "Orders",
                &format!(
                    "<p class=\"cp-notice cp-notice--error\" role=\"alert\">{}</p>\n\
                     <p><a href=\"/manage/orders\">Back to the orders</a></p>\n",
                    escape(&message)
                ),
            )
        }
    }
}
