//! The sandbox storefront: a home page, a demo sign-in page, sign-out and
//! `/customer/current.jwt`, which answers like a BigCommerce storefront does. The account pages
//! are `account`'s; both use `session` for who is signed in and `theme` for the page frame.
//! Tokens come from `token::mint_current_customer_token` and nowhere else.

use std::fmt::Write as _;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::html::{escape, url_encode};
use crate::session::{SESSION_COOKIE, StorefrontState};
use crate::theme::{ORDERS_PATH, STYLESHEET, STYLESHEET_PATH, page};
use crate::token::{TokenCustomer, mint_current_customer_token};

/// Current Customer tokens live 15 minutes (current_customer.yml example: `exp - iat = 900`).
const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

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
        .route("/customer/current.jwt", web::get().to(current_jwt));
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn home(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    let shopper = state.signed_in(&request);
    let mut body = format!(
        "<section class=\"banner\">\n<h1>Welcome to the {}</h1>\n\
         <p>A BigCommerce store on this machine, for trying order-metafields.</p>\n</section>\n",
        escape(state.store.name())
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
                escape(ORDERS_PATH),
                escape(&url_encode(&state.client_id)),
            );
        }
        None => body.push_str(
            "<section class=\"panel\">\n<p>You are browsing as a guest. \
             <a href=\"/login\">Sign in</a> to see your orders.</p>\n</section>\n",
        ),
    }
    page(
        &state,
        StatusCode::OK,
        state.store.name(),
        shopper.as_ref(),
        &body,
    )
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(STYLESHEET)
}

async fn login_page(state: web::Data<StorefrontState>) -> HttpResponse {
    page(
        &state,
        StatusCode::OK,
        "Sign in",
        None,
        &login_body(&state, None),
    )
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
        return page(&state, StatusCode::UNAUTHORIZED, "Sign in", None, &body);
    };
    let session_id = state.start_session(customer_id);
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .insert_header((
            SET_COOKIE,
            format!("{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"),
        ))
        .finish()
}

async fn logout(request: HttpRequest, state: web::Data<StorefrontState>) -> HttpResponse {
    state.end_session(&request);
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
        state.store.hash(),
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
