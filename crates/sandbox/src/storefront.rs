//! The sandbox storefront on the same server: a home page, a demo sign-in page, a cookie session
//! and `/customer/current.jwt`, which answers like a BigCommerce storefront does, in a page
//! layout that imitates the Cornerstone theme. Sessions live in memory only; tokens come from
//! `token::mint_current_customer_token` and nowhere else.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use jsonwebtoken::Algorithm;
use rand::RngExt;
use serde::Deserialize;
use url::Url;

use crate::account;
use crate::store::SandboxStore;
use crate::token::{TokenCustomer, mint_current_customer_token};

/// The storefront's session cookie; BigCommerce storefronts use the same name.
const SESSION_COOKIE: &str = "SHOP_SESSION_TOKEN";
/// Current Customer tokens live 15 minutes (current_customer.yml example: `exp - iat = 900`).
const TOKEN_LIFETIME: Duration = Duration::from_secs(900);
/// The theme's stylesheet, served at `STYLESHEET_PATH`.
const STYLESHEET: &str = include_str!("../assets/storefront.css");
const STYLESHEET_PATH: &str = "/assets/css/theme.css";
/// The store's name in the header, the page titles and the footer.
const STORE_NAME: &str = "Sandbox Store";

/// What the storefront routes share.
pub(crate) struct StorefrontState {
    pub store: SandboxStore,
    pub store_hash: String,
    pub client_id: String,
    pub client_secret: String,
    pub algorithm: Algorithm,
    /// Session id → customer id.
    pub sessions: Mutex<HashMap<String, u64>>,
    /// Where the account pages load the client from and send its calls; none, no client.
    pub service_url: RwLock<Option<Url>>,
}

/// Registers every storefront route.
pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(home))
        .route(STYLESHEET_PATH, web::get().to(stylesheet))
        .route("/login", web::get().to(login_page))
        .route("/login.php", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/logout", web::get().to(logout))
        .route("/customer/current.jwt", web::get().to(current_jwt))
        // The pages that load the JavaScript client share the shopper's session cookie and
        // origin with the home page; `/account.php` is BigCommerce's own URL for them.
        .route("/account.php", web::get().to(account::account_page))
        .route("/account/orders", web::get().to(account::orders_list_page))
        .route(
            "/account/orders/{order_id}",
            web::get().to(account::order_details_page),
        );
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

/// The signed-in shopper of a request.
pub(crate) struct Shopper {
    pub(crate) id: u64,
    email: String,
    name: String,
    group_id: String,
}

impl StorefrontState {
    /// The shopper whose session cookie the request carries, if any.
    pub(crate) fn signed_in(&self, request: &HttpRequest) -> Option<Shopper> {
        let session_id = session_cookie(request)?;
        let customer_id = *self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&session_id)?;
        self.store.with_state(|state| {
            state.customers.get(&customer_id).map(|customer| Shopper {
                id: customer.id,
                email: customer.email.clone(),
                name: format!("{} {}", customer.first_name, customer.last_name),
                group_id: customer.group_id.clone(),
            })
        })
    }

    /// The service's URL, once the sandbox knows it.
    pub(crate) fn service_url(&self) -> Option<Url> {
        self.service_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn session_cookie(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get_all(COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

async fn home(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    let shopper = state.signed_in(&request);
    let mut body = format!(
        "<section class=\"banner\">\n<h1>Welcome to the {STORE_NAME}</h1>\n\
         <p>A BigCommerce store on this machine, for trying order-metafields.</p>\n</section>\n"
    );
    match &shopper {
        Some(shopper) => {
            let _ = write!(
                body,
                "<section class=\"panel\">\n<p>Signed in as {} &lt;{}&gt; (customer {}).</p>\n\
                 <p><a class=\"button button--primary\" href=\"{}\">Your orders</a></p>\n\
                 <p>Each order's page shows the order as the store knows it and, beside it, the \
                 metafields the order-metafields service returns to the storefront snippet.</p>\n\
                 <p><a href=\"/customer/current.jwt?app_client_id={}\">Current customer JWT</a> \
                 (what the snippet sends to the service)</p>\n</section>\n",
                escape(&shopper.name),
                escape(&shopper.email),
                shopper.id,
                escape(account::ORDERS_PATH),
                escape(&url_encode(&state.client_id)),
            );
        }
        None => body.push_str(
            "<section class=\"panel\">\n<p>You are browsing as a guest. \
             <a href=\"/login\">Sign in</a> to see your orders.</p>\n</section>\n",
        ),
    }
    page(StatusCode::OK, STORE_NAME, shopper.as_ref(), &body)
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(STYLESHEET)
}

async fn login_page(state: web::Data<StorefrontState>) -> HttpResponse {
    page(StatusCode::OK, "Sign in", None, &login_body(&state, None))
}

fn login_body(state: &StorefrontState, problem: Option<&str>) -> String {
    let mut body = String::from(
        "<h1 class=\"page-heading\">Sign in</h1>\n<div class=\"login\">\n<section class=\"login-form\">\n",
    );
    if let Some(problem) = problem {
        let _ = writeln!(
            body,
            "<p class=\"alertBox\" role=\"alert\">{}</p>",
            escape(problem)
        );
    }
    body.push_str(
        "<form method=\"post\" action=\"/login\">\n\
         <label class=\"form-field\"><span class=\"form-label\">Email address</span>\
         <input class=\"form-input\" name=\"email\" type=\"email\" required></label>\n\
         <label class=\"form-field\"><span class=\"form-label\">Password</span>\
         <input class=\"form-input\" name=\"password\" type=\"password\" required></label>\n\
         <button class=\"button button--primary\">Sign in</button>\n</form>\n</section>\n",
    );
    // A demo store: showing the seeded shoppers and their shared password is the point.
    let customers = state.store.customers();
    let password = customers
        .first()
        .map(|customer| customer.password.clone())
        .unwrap_or_default();
    let _ = writeln!(
        body,
        "<section class=\"panel\">\n<h2>Demo shoppers</h2>\n<p>Every shopper's password is <code>{}</code>.</p>\n<ul>",
        escape(&password)
    );
    for customer in customers.iter().take(50) {
        let _ = writeln!(
            body,
            "<li>{} {} &lt;{}&gt;: {} orders</li>",
            escape(&customer.first_name),
            escape(&customer.last_name),
            escape(&customer.email),
            customer.order_count,
        );
    }
    if customers.len() > 50 {
        let _ = writeln!(body, "<li>and {} more</li>", customers.len() - 50);
    }
    body.push_str("</ul>\n</section>\n</div>\n");
    body
}

async fn login(form: web::Form<LoginForm>, state: web::Data<StorefrontState>) -> HttpResponse {
    let customer_id = state.store.with_state(|store| {
        store
            .customers
            .values()
            .find(|customer| {
                customer.email.eq_ignore_ascii_case(form.email.trim())
                    && customer.password == form.password
            })
            .map(|customer| customer.id)
    });
    let Some(customer_id) = customer_id else {
        let body = login_body(
            &state,
            Some("That email and password do not match a shopper."),
        );
        return page(StatusCode::UNAUTHORIZED, "Sign in", None, &body);
    };
    let session_id = new_session_id();
    state
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(session_id.clone(), customer_id);
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .insert_header((
            SET_COOKIE,
            format!("{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"),
        ))
        .finish()
}

async fn logout(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    if let Some(session_id) = session_cookie(&request) {
        state
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&session_id);
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .insert_header((
            SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        ))
        .finish()
}

async fn current_jwt(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    let client_id = url::form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(name, _)| name == "app_client_id")
        .map(|(_, value)| value.into_owned());
    // BigCommerce answers 404 both to guests and to an app client id it does not know.
    let shopper = state.signed_in(&request);
    let (Some(shopper), true) = (
        shopper,
        client_id.as_deref() == Some(state.client_id.as_str()),
    ) else {
        return HttpResponse::NotFound()
            .insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("Not Found");
    };
    let customer = TokenCustomer {
        id: shopper.id,
        email: shopper.email,
        group_id: shopper.group_id,
    };
    let token = match mint_current_customer_token(
        &state.client_id,
        state.client_secret.as_bytes(),
        &state.store_hash,
        &customer,
        state.algorithm,
        TOKEN_LIFETIME,
    ) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "sandbox could not mint a current customer token");
            return HttpResponse::InternalServerError()
                .insert_header((CACHE_CONTROL, "no-store"))
                .finish();
        }
    };
    let wants_json = request
        .headers()
        .get_all(ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("application/json"));
    let mut response = HttpResponse::Ok();
    response.insert_header((CACHE_CONTROL, "no-store"));
    if wants_json {
        response
            .insert_header((CONTENT_TYPE, "application/json"))
            .body(serde_json::json!({ "token": token }).to_string())
    } else {
        response
            .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(token)
    }
}

fn new_session_id() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// A whole storefront page: the theme's header (with the shopper's account links or a
/// sign-in link), `body` and its footer.
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    shopper: Option<&Shopper>,
    body: &str,
) -> HttpResponse {
    let user_links = match shopper {
        Some(shopper) => format!(
            "<li class=\"navUser-item\"><a class=\"navUser-action\" href=\"{}\">{}</a></li>\n\
             <li class=\"navUser-item\"><form method=\"post\" action=\"/logout\">\
             <button class=\"navUser-action\">Sign out</button></form></li>",
            escape(account::ORDERS_PATH),
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
             <title>{title} - {STORE_NAME}</title>\
             <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\"></head>\n<body>\n\
             <header class=\"header\">\n<nav class=\"navUser\"><ul class=\"navUser-section\">\n{user_links}\n</ul></nav>\n\
             <div class=\"header-logo\"><a href=\"/\">{STORE_NAME}<small>sandbox BigCommerce store</small></a></div>\n\
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
             <p class=\"footer-copyright\">{STORE_NAME}: a Cornerstone look-alike</p>\n</div></footer>\n\
             </body></html>\n",
            title = escape(title),
            orders = escape(account::ORDERS_PATH),
        ))
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        let escaped = escape(r#"<script>alert("x" & 'y')</script>"#);

        assert_eq!(
            escaped,
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn session_ids_are_long_and_distinct() {
        let first = new_session_id();
        let second = new_session_id();

        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
    }
}
