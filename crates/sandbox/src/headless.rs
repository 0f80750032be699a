//! Each store's second channel, a headless (Catalyst) storefront, on an origin of its own: the
//! URL of that channel's site in the Sites API. A real headless storefront is the merchant's
//! own server; the sandbox puts there what BigCommerce serves for that channel, the GraphQL
//! Storefront API at `/graphql` (registered by `lib.rs` from `graphql`), and a home page that
//! says what the origin is.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use crate::data::HEADLESS_CHANNEL_ID;
use crate::html::escape;
use crate::store::SandboxStore;

/// What the headless site's routes share.
pub(crate) struct HeadlessSite {
    pub store: SandboxStore,
}

/// Registers the headless site's home page.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config.route("/", web::get().to(home));
}

async fn home(site: web::Data<HeadlessSite>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{name} (Catalyst)</title></head>\n<body>\n<main>\n\
             <h1>{name} (Catalyst)</h1>\n\
             <p>The site of channel {HEADLESS_CHANNEL_ID} of store <code>{hash}</code>: a headless \
             storefront. Its server calls <code>POST /graphql</code> here with a private token and \
             the shopper's customer access token.</p>\n</main>\n</body></html>\n",
            name = escape(site.store.name()),
            hash = escape(site.store.hash()),
        ))
}
