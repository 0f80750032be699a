//! The sandbox's account pages, rendered as Cornerstone renders them with the documented
//! snippets pasted in: the orders list and one order's details (its items, totals, status and
//! dates from the store, the snippet's metafields beside them), at BigCommerce's own account
//! URLs, and the order confirmation page of a placed order. The snippets are `client/snippets/*.html`, rendered here by a tiny subset of
//! Handlebars; their JavaScript loads the client from the service and does the rest in the
//! browser.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use time::OffsetDateTime;
use time::macros::format_description;
use url::Url;

use crate::data::{Address, Currency, Money, Order};
use crate::html::escape;
use crate::order_status::order_status;
use crate::script_tags::PageKind;
use crate::session::{Shopper, StorefrontState};
use crate::theme::{ORDERS_PATH, page, page_of};

/// The order details snippet for `templates/pages/account/orders/details.html`.
pub const ORDER_DETAILS_SNIPPET: &str = include_str!("../../../client/snippets/order-details.html");
/// The orders list snippet for `templates/pages/account/orders/all.html`.
pub const ORDERS_LIST_SNIPPET: &str = include_str!("../../../client/snippets/orders-list.html");

/// The two values a theme developer sets, as the snippets ship them.
const API_BASE_ATTRIBUTE: &str = "data-api-base=\"https://order-metafields.example.com\"";
const APP_CLIENT_ID_ATTRIBUTE: &str = "data-app-client-id=\"your-app-client-id\"";

/// What a snippet reads from the Stencil page context and the theme developer's settings.
struct SnippetContext<'a> {
    signed_in: bool,
    order_id: Option<u64>,
    service_url: &'a Url,
    client_id: &'a str,
}

/// A snippet uses Handlebars the sandbox cannot render.
#[derive(Debug, thiserror::Error)]
#[error("cannot render snippet: {0}")]
struct SnippetError(String);

/// Registers the account pages. They share the shopper's session cookie and origin with the
/// storefront's home page; `/account.php` is BigCommerce's own URL for them.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/account.php", web::get().to(account_page))
        .route("/account/orders", web::get().to(orders_list_page))
        .route(
            "/account/orders/{order_id}",
            web::get().to(order_details_page),
        )
        .route(
            "/checkout/order-confirmation/{order_id}",
            web::get().to(order_confirmation_page),
        );
}

/// `GET /checkout/order-confirmation/{order_id}`: the page a shopper sees once an order is
/// placed, for the signed-in shopper's own order; it carries the `order_confirmation` scripts.
async fn order_confirmation_page(
    request: HttpRequest,
    state: web::Data<StorefrontState>,
    order_id: web::Path<String>,
) -> HttpResponse {
    let shopper = state.signed_in(&request);
    let order = order_id.parse::<u64>().ok().and_then(|order_id| {
        let shopper = shopper.as_ref()?;
        own_order(&state, shopper, order_id).map(|order| (order_id, order))
    });
    let Some((order_id, order)) = order else {
        return not_found(&request, &state);
    };
    let body = format!(
        "<h1 class=\"page-heading\">Thank you!</h1>\n<section class=\"panel\" id=\"order-confirmation\" \
         data-order-id=\"{order_id}\">\n<p>Your order number is <strong>#{order_id}</strong>. \
         Its total is {}.</p>\n<p><a class=\"button button--primary\" \
         href=\"/account.php?action=view_order&amp;order_id={order_id}\">View your order</a></p>\n</section>\n",
        money(order.total, order.currency)
    );
    page_of(
        &state,
        PageKind::OrderConfirmation,
        StatusCode::OK,
        "Order confirmation",
        shopper.as_ref(),
        &body,
    )
}

/// `GET /account.php`: `action=order_status` is the orders list, `action=view_order` with an
/// `order_id` one order's details.
async fn account_page(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    let query = url::form_urlencoded::parse(request.query_string().as_bytes());
    let (mut action, mut order_id) = (None, None);
    for (name, value) in query {
        match name.as_ref() {
            "action" => action = Some(value.into_owned()),
            "order_id" => order_id = Some(value.into_owned()),
            _ => {}
        }
    }
    match (action.as_deref(), order_id) {
        (Some("order_status"), _) => orders_page(&request, &state),
        (Some("view_order"), Some(order_id)) => order_page(&request, &state, &order_id),
        _ => not_found(&request, &state),
    }
}

/// `GET /account/orders`: the orders list under a shorter name.
async fn orders_list_page(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    orders_page(&request, &state)
}

/// `GET /account/orders/{order_id}`: one order's details under a shorter name.
async fn order_details_page(
    request: HttpRequest,
    state: web::Data<StorefrontState>,
    order_id: web::Path<String>,
) -> HttpResponse {
    order_page(&request, &state, &order_id)
}

fn orders_page(request: &HttpRequest, state: &StorefrontState) -> HttpResponse {
    let shopper = state.signed_in(request);
    let snippet = snippet_section(request, state, ORDERS_LIST_SNIPPET, None);
    let body = format!(
        "{}<h1 class=\"page-heading\">Orders</h1>\n{}\
         <div class=\"account\">\n<section class=\"account-content\">\n{snippet}</section>\n</div>\n",
        breadcrumbs(None),
        account_navigation(),
    );
    page(state, StatusCode::OK, "Orders", shopper.as_ref(), &body)
}

fn order_page(request: &HttpRequest, state: &StorefrontState, order_id: &str) -> HttpResponse {
    let Some(order_id) = order_id.parse::<u64>().ok().filter(|id| *id > 0) else {
        return not_found(request, state);
    };
    let shopper = state.signed_in(request);
    // The store shows its own record of the order only to the shopper who placed it. Any
    // other id still renders the page with the snippet, so that the service's own answer (a
    // 404 exactly like a missing order's) can be seen; a real store would not render it.
    let order = shopper
        .as_ref()
        .and_then(|shopper| own_order(state, shopper, order_id));
    let snippet = snippet_section(request, state, ORDER_DETAILS_SNIPPET, Some(order_id));
    let (content, details) = match &order {
        Some(order) => (order_contents(order), order_details(order)),
        None => (String::new(), String::new()),
    };
    let body = format!(
        "{}<h1 class=\"page-heading\">Order #{order_id}</h1>\n{}\
         <div class=\"account account--fixed\">\n<div class=\"account-body\">\n\
         <section class=\"account-content\">\n{content}</section>\n\
         <aside class=\"account-sidebar\">\n{details}{snippet}</aside>\n</div>\n</div>\n",
        breadcrumbs(Some(order_id)),
        account_navigation(),
    );
    page(
        state,
        StatusCode::OK,
        &format!("Order #{order_id}"),
        shopper.as_ref(),
        &body,
    )
}

/// What the order details page shows of an order, read from the store as Stencil's page
/// context gives it to the theme.
struct OrderView {
    status: &'static str,
    date_created: OffsetDateTime,
    date_shipped: Option<OffsetDateTime>,
    currency: Currency,
    subtotal: Money,
    shipping: Money,
    discount: Money,
    tax: Money,
    total: Money,
    items_total: u32,
    items_shipped: u32,
    is_digital: bool,
    payment_method: &'static str,
    billing: Vec<String>,
}

/// The shopper's own order `order_id`, or none when it is not theirs, is archived (a store
/// shows shoppers no archived order) or does not exist.
fn own_order(state: &StorefrontState, shopper: &Shopper, order_id: u64) -> Option<OrderView> {
    state.store.with_state(|store| {
        let order = store
            .orders
            .get(&order_id)
            .filter(|order| order.customer_id == shopper.id && !order.is_deleted)?;
        Some(order_view(order))
    })
}

fn order_view(order: &Order) -> OrderView {
    OrderView {
        status: order_status(order.status_id).name,
        date_created: order.date_created,
        date_shipped: order.date_shipped,
        currency: order.currency,
        subtotal: order.subtotal_ex_tax,
        shipping: order.shipping_ex_tax,
        discount: order.discount,
        tax: order.total_tax(),
        total: order.total_inc_tax(),
        items_total: order.items_total,
        items_shipped: order.items_shipped,
        is_digital: order.is_digital,
        payment_method: order.payment_method,
        billing: address_lines(&order.billing),
    }
}

fn address_lines(address: &Address) -> Vec<String> {
    let name = format!("{} {}", address.first_name, address.last_name);
    let city = format!("{}, {} {}", address.city, address.state, address.zip);
    [
        name.as_str(),
        address.company.as_str(),
        address.street_1.as_str(),
        address.street_2.as_str(),
        city.as_str(),
        address.country.as_str(),
    ]
    .into_iter()
    .filter(|line| !line.trim().is_empty())
    .map(str::to_owned)
    .collect()
}

/// The main column: the order's contents and totals, as Cornerstone's `account-content`.
fn order_contents(order: &OrderView) -> String {
    let items = plural(order.items_total, "item", "items");
    let delivery = if order.is_digital {
        "Digital delivery".to_owned()
    } else {
        format!(
            "{} of {} shipped",
            order.items_shipped,
            plural(order.items_total, "item", "items")
        )
    };
    let mut html = format!(
        "<h3 class=\"account-heading\">Order Contents</h3>\n<ul class=\"account-list\">\n\
         <li class=\"account-listItem\"><div class=\"account-product\">\
         <div class=\"account-product-figure\" aria-hidden=\"true\">{PARCEL_ICON}</div>\
         <div class=\"account-product-body\"><h5 class=\"account-product-title\">{items}</h5>\
         <p><span class=\"account-orderStatus-label\">{}</span></p><p>{delivery}</p></div></div></li>\n</ul>\n\
         <dl class=\"account-orderTotal\">\n",
        escape(order.status),
    );
    let mut rows = vec![("Subtotal", order.subtotal), ("Shipping", order.shipping)];
    if order.discount != Money::default() {
        rows.push(("Discount", Money(-order.discount.0)));
    }
    rows.push(("Tax", order.tax));
    for (name, amount) in rows {
        let _ = writeln!(
            html,
            "<dt class=\"account-orderTotal-key\">{name}:</dt><dd class=\"account-orderTotal-value\">{}</dd>",
            money(amount, order.currency)
        );
    }
    let _ = writeln!(
        html,
        "<dt class=\"account-orderTotal-key account-orderTotal-key--grand\">Grand total:</dt>\
         <dd class=\"account-orderTotal-value account-orderTotal-value--grand\">{}</dd>\n</dl>",
        money(order.total, order.currency)
    );
    html
}

/// The sidebar's own blocks, before the snippet: the order's details and its billing address.
fn order_details(order: &OrderView) -> String {
    let mut html = String::from(
        "<section class=\"account-sidebar-block\">\n<h3 class=\"account-heading\">Order Details</h3>\n\
         <dl class=\"definitionList\">\n",
    );
    let mut rows = vec![
        ("Order status", order.status.to_owned()),
        ("Order date", date(order.date_created)),
    ];
    if let Some(shipped) = order.date_shipped {
        rows.push(("Shipped", date(shipped)));
    }
    rows.push(("Order total", money(order.total, order.currency)));
    rows.push(("Payment method", order.payment_method.to_owned()));
    for (name, value) in rows {
        let _ = writeln!(
            html,
            "<dt class=\"definitionList-key\">{name}:</dt><dd class=\"definitionList-value\">{}</dd>",
            escape(&value)
        );
    }
    html.push_str(
        "</dl>\n</section>\n<section class=\"account-sidebar-block\">\n\
         <h3 class=\"account-heading\">Bill To</h3>\n<ul class=\"account-order-address\">\n",
    );
    for line in &order.billing {
        let _ = writeln!(html, "<li>{}</li>", escape(line));
    }
    html.push_str("</ul>\n</section>\n");
    html
}

/// A parcel, drawn inline: the store has no product images.
const PARCEL_ICON: &str = "<svg width=\"40\" height=\"40\" viewBox=\"0 0 24 24\" fill=\"none\" \
    stroke=\"#8c8c8c\" stroke-width=\"1.5\"><path d=\"M3 7l9-4 9 4-9 4-9-4z\"/><path d=\"M3 7v10l9 4 9-4V7\"/>\
    <path d=\"M12 11v10\"/></svg>";

fn plural(count: u32, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `$129.99`, `€49.00`, `£31.50`: the store prints four decimals, a storefront two.
fn money(amount: Money, currency: Currency) -> String {
    let symbol = match currency {
        Currency::Usd => "$",
        Currency::Eur => "€",
        Currency::Gbp => "£",
    };
    let cents = (amount.0 + amount.0.signum() * 50) / 100;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{symbol}{}.{:02}", cents / 100, cents % 100)
}

/// `Oct 20, 2025`, as Cornerstone's order pages print dates.
fn date(moment: OffsetDateTime) -> String {
    moment
        .format(format_description!(
            "[month repr:short] [day padding:none], [year]"
        ))
        .unwrap_or_default()
}

/// Cornerstone's account pages open with a breadcrumb trail.
fn breadcrumbs(order_id: Option<u64>) -> String {
    let mut html = String::from("<p class=\"breadcrumbs\"><a href=\"/\">Home</a> / <a href=\"");
    let _ = write!(html, "{ORDERS_PATH}\">Your Account</a>");
    if let Some(order_id) = order_id {
        let _ = write!(
            html,
            " / <a href=\"{ORDERS_PATH}\">Orders</a> / Order #{order_id}"
        );
    }
    html.push_str("</p>\n");
    html
}

/// Cornerstone's account navigation bar; only the orders pages exist in the sandbox.
fn account_navigation() -> String {
    let mut html = String::from("<ul class=\"navBar--account\">\n");
    for (name, path) in [
        ("Orders", Some(ORDERS_PATH)),
        ("Messages", None),
        ("Addresses", None),
        ("Wish Lists", None),
        ("Account Settings", None),
    ] {
        let _ = match path {
            Some(path) => writeln!(
                html,
                "<li class=\"navBar-item is-active\"><a class=\"navBar-action\" href=\"{path}\">{name}</a></li>"
            ),
            None => writeln!(html, "<li class=\"navBar-item\">{name}</li>"),
        };
    }
    html.push_str("</ul>\n");
    html
}

/// The snippet rendered for this request, or a note when the sandbox knows no service.
fn snippet_section(
    request: &HttpRequest,
    state: &StorefrontState,
    snippet: &str,
    order_id: Option<u64>,
) -> String {
    let Some(service_url) = state.service_url() else {
        return "<p role=\"alert\">This sandbox store runs without the order-metafields service, \
                so it cannot show order details. Start both with <code>order-metafields demo</code>.</p>\n"
            .to_owned();
    };
    let context = SnippetContext {
        signed_in: state.signed_in(request).is_some(),
        order_id,
        service_url: &service_url,
        client_id: &state.client_id,
    };
    match render_snippet(snippet, &context) {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "sandbox could not render a client snippet");
            format!("<p role=\"alert\">{}</p>\n", escape(&error.to_string()))
        }
    }
}

/// Renders the Handlebars the snippets use (`{{!-- … --}}`, `{{#if customer}}`, `{{else}}`,
/// `{{/if}}`, `{{order.id}}`), then puts in the two settings, HTML-escaped.
fn render_snippet(template: &str, context: &SnippetContext<'_>) -> Result<String, SnippetError> {
    let mut html = String::with_capacity(template.len());
    // One entry per open `#if`: whether its branch now being read is the one that renders.
    let mut branches: Vec<bool> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let rendering = branches.iter().all(|taken| *taken);
        if rendering {
            html.push_str(&rest[..start]);
        }
        let tag_text = &rest[start..];
        let (tag, after) = if tag_text.starts_with("{{!--") {
            let end = tag_text
                .find("--}}")
                .ok_or_else(|| SnippetError("an unclosed comment".to_owned()))?;
            ("!", &tag_text[end + 4..])
        } else {
            let end = tag_text
                .find("}}")
                .ok_or_else(|| SnippetError("an unclosed tag".to_owned()))?;
            (tag_text[2..end].trim(), &tag_text[end + 2..])
        };
        match tag {
            "!" => {}
            "#if customer" => branches.push(context.signed_in),
            "else" => {
                let taken = branches
                    .last_mut()
                    .ok_or_else(|| SnippetError("an else outside an if".to_owned()))?;
                *taken = !*taken;
            }
            "/if" => {
                branches
                    .pop()
                    .ok_or_else(|| SnippetError("an /if without an if".to_owned()))?;
            }
            "order.id" if rendering => {
                let order_id = context.order_id.ok_or_else(|| {
                    SnippetError("order.id on a page without an order".to_owned())
                })?;
                html.push_str(&order_id.to_string());
            }
            "order.id" => {}
            other => return Err(SnippetError(format!("the unknown tag {{{{{other}}}}}"))),
        }
        rest = after;
    }
    if !branches.is_empty() {
        return Err(SnippetError("an unclosed if".to_owned()));
    }
    html.push_str(rest);
    let service_url = context.service_url.as_str().trim_end_matches('/');
    Ok(html
        .replace(
            API_BASE_ATTRIBUTE,
            &format!("data-api-base=\"{}\"", escape(service_url)),
        )
        .replace(
            APP_CLIENT_ID_ATTRIBUTE,
            &format!("data-app-client-id=\"{}\"", escape(context.client_id)),
        ))
}

fn not_found(request: &HttpRequest, state: &StorefrontState) -> HttpResponse {
    let shopper = state.signed_in(request);
    page(
        state,
        StatusCode::NOT_FOUND,
        "Page not found",
        shopper.as_ref(),
        &format!(
            "<h1 class=\"page-heading\">Page not found</h1>\n<p><a href=\"{ORDERS_PATH}\">Your orders</a></p>\n"
        ),
    )
}

#[cfg(test)]
mod tests {
    // A snippet that does not render should stop these tests loudly.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn context<'a>(
        signed_in: bool,
        service_url: &'a Url,
        client_id: &'a str,
    ) -> SnippetContext<'a> {
        SnippetContext {
            signed_in,
            order_id: Some(369),
            service_url,
            client_id,
        }
    }

    #[test]
    fn each_snippet_ships_both_settings_exactly_once() {
        for (name, snippet) in [
            ("details", ORDER_DETAILS_SNIPPET),
            ("list", ORDERS_LIST_SNIPPET),
        ] {
            assert_eq!(snippet.matches(API_BASE_ATTRIBUTE).count(), 1, "{name}");
            assert_eq!(
                snippet.matches(APP_CLIENT_ID_ATTRIBUTE).count(),
                1,
                "{name}"
            );
        }
    }

    #[test]
    fn signed_in_details_render_the_order_id_and_the_escaped_settings() {
        let service_url = Url::parse("http://127.0.0.1:9/").unwrap();

        let html = render_snippet(
            ORDER_DETAILS_SNIPPET,
            &context(true, &service_url, "id\"><script>"),
        )
        .unwrap();

        assert!(html.contains("data-order-id=\"369\""), "{html}");
        assert!(
            html.contains("data-api-base=\"http://127.0.0.1:9\""),
            "{html}"
        );
        assert!(html.contains("data-app-client-id=\"id&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("<script type=\"module\">"));
        assert!(!html.contains("{{"), "{html}");
        assert!(!html.contains("sign in</a> to see"), "{html}");
    }

    #[test]
    fn signed_out_snippets_render_only_the_sign_in_message() {
        let service_url = Url::parse("http://127.0.0.1:9/").unwrap();

        for snippet in [ORDER_DETAILS_SNIPPET, ORDERS_LIST_SNIPPET] {
            let html = render_snippet(snippet, &context(false, &service_url, "client")).unwrap();

            assert_eq!(
                html.trim(),
                "<p class=\"order-metafields-status\" role=\"status\">Please <a href=\"/login.php\">sign in</a> to see your orders.</p>"
            );
        }
    }

    #[test]
    fn money_prints_two_decimals_with_the_currency_symbol() {
        for (amount, currency, expected) in [
            (Money(1_299_900), Currency::Usd, "$129.99"),
            (Money(490_000), Currency::Eur, "€49.00"),
            (Money(315_050), Currency::Gbp, "£31.51"),
            (Money(-100_000), Currency::Usd, "-$10.00"),
            (Money(0), Currency::Usd, "$0.00"),
        ] {
            assert_eq!(money(amount, currency), expected, "{amount:?}");
        }
    }

    #[test]
    fn dates_read_as_cornerstone_prints_them() {
        let moment = time::macros::datetime!(2025-10-20 11:05:27 UTC);

        assert_eq!(date(moment), "Oct 20, 2025");
    }

    #[test]
    fn unknown_or_unbalanced_handlebars_is_an_error() {
        let service_url = Url::parse("http://127.0.0.1:9/").unwrap();
        let context = context(true, &service_url, "client");

        for (description, template) in [
            ("an unknown tag", "{{customer.email}}"),
            ("an unclosed if", "{{#if customer}}x"),
            ("a stray else", "{{else}}"),
            ("a stray /if", "{{/if}}"),
            ("an unclosed tag", "{{order.id"),
            ("an unclosed comment", "{{!-- x }}"),
        ] {
            assert!(render_snippet(template, &context).is_err(), "{description}");
        }
    }
}
