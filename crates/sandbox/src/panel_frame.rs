//! The frame of every control panel page, in the look of BigCommerce's: the dark navigation
//! with the store's name and hash (Orders and Apps are links), the page's heading, and its
//! stylesheet. It renders what it is given and reads no state; `control_panel` and `orders_page`
//! put their panels in it.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

use crate::html::escape;

/// The control panel's stylesheet, served at `STYLESHEET_PATH`.
pub(crate) const STYLESHEET: &str = include_str!("../assets/control-panel.css");
pub(crate) const STYLESHEET_PATH: &str = "/manage/assets/control-panel.css";

/// The navigation entry a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Orders,
    Apps,
}

/// A whole control panel page: `heading` over `body`, in the store's navigation.
pub(crate) fn frame(
    store_name: &str,
    store_hash: &str,
    section: Section,
    status: StatusCode,
    heading: &str,
    body: &str,
) -> HttpResponse {
    let entry = |this: Section, name: &str, href: &str| {
        if this == section {
            format!(
                "<li class=\"is-active\"><a href=\"{href}\" aria-current=\"page\">{name}</a></li>"
            )
        } else {
            format!("<li><a href=\"{href}\">{name}</a></li>")
        }
    };
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{heading} - {name} - Control Panel</title>\
             <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\"></head>\n<body>\n\
             <nav class=\"cp-nav\" aria-label=\"Control panel\">\n\
             <div class=\"cp-nav-store\"><strong>{name}</strong><small>stores/{hash}</small></div>\n\
             <ul><li><a href=\"/\">View store</a></li>{orders}<li>Customers</li>{apps}\
             <li>Settings</li></ul>\n</nav>\n\
             <main class=\"cp-main\">\n<h1>{heading}</h1>\n{body}</main>\n</body></html>\n",
            heading = escape(heading),
            name = escape(store_name),
            hash = escape(store_hash),
            orders = entry(Section::Orders, "Orders", "/manage/orders"),
            apps = entry(Section::Apps, "Apps", "/manage"),
        ))
}
