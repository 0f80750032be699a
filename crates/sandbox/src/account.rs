//! The sandbox's account pages, rendered as a Stencil theme with the README's snippets would
//! render them: the orders list and one order's details, at BigCommerce's own account URLs.
//! The snippets are `client/snippets/*.html`, rendered here by a tiny subset of Handlebars;
//! their JavaScript loads the client from the service and does the rest in the browser.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use url::Url;

use crate::storefront::{StorefrontState, escape, page};

/// The order details snippet for `templates/pages/account/orders/details.html`.
pub const ORDER_DETAILS_SNIPPET: &str = include_str!("../../../client/snippets/order-details.html");
/// The orders list snippet for `templates/pages/account/orders/all.html`.
pub const ORDERS_LIST_SNIPPET: &str = include_str!("../../../client/snippets/orders-list.html");

/// The two values a theme developer sets, as the snippets ship them.
const API_BASE_ATTRIBUTE: &str = "data-api-base=\"https://order-metafields.example.com\"";
const APP_CLIENT_ID_ATTRIBUTE: &str = "data-app-client-id=\"your-app-client-id\"";

/// BigCommerce's account page URLs (`/account.php?action=…`), which the snippets link to.
pub(crate) const ORDERS_PATH: &str = "/account.php?action=order_status";

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

/// `GET /account.php`: `action=order_status` is the orders list, `action=view_order` with an
/// `order_id` one order's details.
pub(crate) async fn account_page(
    request: HttpRequest,
    state: web::Data<StorefrontState>,
) -> HttpResponse {
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
        _ => not_found(),
    }
}

/// `GET /account/orders`: the orders list under a shorter name.
pub(crate) async fn orders_list_page(
    request: HttpRequest,
    state: web::Data<StorefrontState>,
) -> HttpResponse {
    orders_page(&request, &state)
}

/// `GET /account/orders/{order_id}`: one order's details under a shorter name.
pub(crate) async fn order_details_page(
    request: HttpRequest,
    state: web::Data<StorefrontState>,
    order_id: web::Path<String>,
) -> HttpResponse {
    order_page(&request, &state, &order_id)
}

fn orders_page(request: &HttpRequest, state: &StorefrontState) -> HttpResponse {
    let body = snippet_section(request, state, ORDERS_LIST_SNIPPET, None);
    page(
        StatusCode::OK,
        "Orders",
        &format!(
            "<h1 class=\"page-heading\">Orders</h1>\n<p><a href=\"/\">Home</a></p>\n\
             <section class=\"account-content\">\n{body}</section>\n"
        ),
    )
}

fn order_page(request: &HttpRequest, state: &StorefrontState, order_id: &str) -> HttpResponse {
    let Some(order_id) = order_id.parse::<u64>().ok().filter(|id| *id > 0) else {
        return not_found();
    };
    // Any id renders: whether the order is the shopper's is the service's to say, and the
    // page shows its answer (a real store would not render another customer's order at all).
    let body = snippet_section(request, state, ORDER_DETAILS_SNIPPET, Some(order_id));
    page(
        StatusCode::OK,
        &format!("Order #{order_id}"),
        &format!(
            "<h2 class=\"page-heading title\">Order #{order_id}</h2>\n\
             <p><a href=\"{ORDERS_PATH}\">Back to your orders</a></p>\n\
             <aside class=\"account-sidebar\">\n{body}</aside>\n"
        ),
    )
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

fn not_found() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "Page not found",
        &format!("<h1>Page not found</h1>\n<p><a href=\"{ORDERS_PATH}\">Your orders</a></p>\n"),
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
