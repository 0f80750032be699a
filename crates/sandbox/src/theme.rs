//! The storefront's look: the page frame of the Cornerstone theme (header with the shopper's
//! account links, footer), its stylesheet, and the account URLs every page links to; the frame
//! carries the scripts the Scripts API installed for the page (`script_tags`). It reads nothing
//! but those scripts.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

use crate::data::STOREFRONT_CHANNEL_ID;
use crate::html::escape;
use crate::script_tags::{PageKind, page_scripts};
use crate::session::{Shopper, StorefrontState};

/// The theme's stylesheet, served at `STYLESHEET_PATH`.
pub(crate) const STYLESHEET: &str = include_str!("../assets/storefront.css");
pub(crate) const STYLESHEET_PATH: &str = "/assets/css/theme.css";
/// BigCommerce's account page URLs (`/account.php?action=…`), which the snippets link to.
pub(crate) const ORDERS_PATH: &str = "/account.php?action=order_status";

/// A whole storefront page of `state`'s store: the theme's header (with the shopper's account
/// links or a sign-in link), `body` and its footer, under the store's name, with the installed
/// scripts whose visibility is `storefront` or `all_pages`.
pub(crate) fn page(
    state: &StorefrontState,
    status: StatusCode,
    title: &str,
    shopper: Option<&Shopper>,
    body: &str,
) -> HttpResponse {
    page_of(state, PageKind::Storefront, status, title, shopper, body)
}

/// As `page`, for a page of `kind`.
pub(crate) fn page_of(
    state: &StorefrontState,
    kind: PageKind,
    status: StatusCode,
    title: &str,
    shopper: Option<&Shopper>,
    body: &str,
) -> HttpResponse {
    let scripts = state
        .store
        .with_state(|store| page_scripts(store, STOREFRONT_CHANNEL_ID, kind));
    let user_links = match shopper {
        Some(shopper) => format!(
            "<li class=\"navUser-item\"><a class=\"navUser-action\" href=\"{}\">{}</a></li>\n\
             <li class=\"navUser-item\"><form method=\"post\" action=\"/logout\">\
             <button class=\"navUser-action\">Sign out</button></form></li>",
            escape(ORDERS_PATH),
            escape(&shopper.name),
        ),
        None => "<li class=\"navUser-item\"><a class=\"navUser-action\" href=\"/login\">Sign in</a></li>"
            .to_owned(),
    };
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} - {store_name}</title>\
             <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n{head_scripts}</head>\n<body>\n\
             <header class=\"header\">\n<nav class=\"navUser\"><ul class=\"navUser-section\">\n{user_links}\n</ul></nav>\n\
             <div class=\"header-logo\"><a href=\"/\">{store_name}<small>sandbox BigCommerce store</small></a></div>\n\
             <nav class=\"navPages\"><a class=\"navPages-action\" href=\"/\">Home</a>\
             <a class=\"navPages-action\" href=\"{orders}\">Orders</a></nav>\n</header>\n\
             <main class=\"body\"><div class=\"container\">\n{body}</div></main>\n\
             <footer class=\"footer\"><div class=\"container\">\n<div class=\"footer-info\">\n\
             <section><h5 class=\"footer-info-heading\">Navigate</h5><ul><li><a href=\"/\">Home</a></li>\
             <li><a href=\"{orders}\">Your orders</a></li></ul></section>\n\
             <section><h5 class=\"footer-info-heading\">About this store</h5><p>A sandbox of \
             BigCommerce's storefront and Management API, started by <code>order-metafields demo</code>.</p></section>\n\
             <section><h5 class=\"footer-info-heading\">Info</h5><p>Its data lives in memory and \
             is gone when it stops.</p></section>\n</div>\n\
             <p class=\"footer-copyright\">{store_name}: a Cornerstone look-alike</p>\n</div></footer>\n\
             {footer_scripts}</body></html>\n",
            head_scripts = scripts.head,
            footer_scripts = scripts.footer,
            title = escape(title),
            store_name = escape(state.store.name()),
            orders = escape(ORDERS_PATH),
        ))
}
