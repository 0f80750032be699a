//! The merchant page (app mode): `GET /bigcommerce/stores/{store}` and its forms (save or
//! delete a field definition, preview as a customer). Every request needs the session
//! cookie of that store and user; every `POST` also needs the session's CSRF token. Forms
//! work without JavaScript: a `POST` answers `303 See Other` back to the page, or the page
//! again with the problems (`422`). What is decided is `merchant`'s; here, reading forms
//! and choosing answers.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::domain::{CustomerId, OrderId};
use crate::fields::{FieldDefinition, FieldError, FieldType};
use crate::merchant::{
    MerchantPages, Opened, PageError, Preview, SaveError, StorefrontScriptError,
};
use crate::merchant_session::cookie_value;
use crate::request_context;
use crate::routes::bigcommerce::{FrameAncestors, Query, message, page};

/// The largest form body accepted.
pub const FORM_LIMIT: usize = 64 * 1024;

/// What the page shows besides its store: set by the service at start-up.
#[derive(Clone, Debug)]
pub struct PageFacts {
    /// `APP_URL`, for the snippet.
    pub app_url: String,
    /// `BC_CLIENT_ID`, for the snippet.
    pub client_id: String,
}

/// The one-click storefront script, filled in with this app's values when installed.
const STOREFRONT_SCRIPT: &str = include_str!("../../assets/app/storefront-script.html");

/// The snippet as shipped, filled in on the page.
const SNIPPET: &str = include_str!("../../../../client/snippets/order-details.html");

/// One definition as a form shows it.
pub struct DefinitionRow {
    pub namespace: String,
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    pub position: u32,
    pub hidden: bool,
    pub customer_editable: bool,
    pub max_length: String,
    pub pattern: String,
    pub choices: String,
    pub editable_statuses: String,
}

/// The merchant page.
#[derive(Template)]
#[template(path = "merchant.html")]
pub struct MerchantPage<'a> {
    pub store: &'a str,
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
    pub errors: Vec<FieldError>,
    pub definitions: Vec<DefinitionRow>,
    /// The "add a field" form, holding what was typed when it was refused.
    pub draft: DefinitionRow,
    pub types: &'static [FieldType],
    pub preview: Option<PreviewView>,
    pub snippet: String,
    pub webhooks: Option<bool>,
    pub discovery: DiscoveryView,
    pub figures: FiguresView,
    /// Whether the storefront script is installed: `Err` with why it is not known.
    pub script: Result<bool, &'static str>,
    /// Whether each storefront shows only its own orders.
    pub channel_orders: bool,
}

/// The keys found on recent orders, as the page lists them.
pub struct DiscoveryView {
    pub rows: Vec<DiscoveryRow>,
    pub since: String,
    pub complete: bool,
    /// Why discovery failed, if it did.
    pub failed: Option<&'static str>,
}

/// One discovered key and its definition, if any.
pub struct DiscoveryRow {
    pub namespace: String,
    pub key: String,
    pub permission_sets: String,
    pub orders: usize,
    pub visible: bool,
    /// `None`: no definition; else its label (or the description note) and whether hidden.
    pub defined: Option<(String, bool)>,
    /// `?namespace=…&key=…`, to prefill the "add a field" form.
    pub define_query: String,
}

/// This store's figures.
pub struct FiguresView {
    pub quota: String,
    pub hits: u64,
    pub misses: u64,
    /// Where the misses were read: BigCommerce, or (mirror mode) the mirror when it serves.
    pub misses_from: &'static str,
    pub last_webhook: String,
    /// `SYNC_MODE=mirror`: how far the store's copy is.
    pub mirror: Option<String>,
}

/// What differs between renderings of the page.
#[derive(Default)]
pub struct PageParts<'a> {
    pub notice: Option<&'a str>,
    pub errors: Vec<FieldError>,
    pub draft: Option<DefinitionRow>,
    pub preview: Option<PreviewView>,
    pub webhooks: Option<bool>,
    /// Leave out the reads of BigCommerce the page makes (discovery, the script's state):
    /// the install callback's page, so that an install costs only what installing needs.
    pub just_installed: bool,
}

/// The preview section.
pub struct PreviewView {
    pub customer: u64,
    pub order: Option<u64>,
    pub fields: Vec<PreviewField>,
    /// The storefront's exact body, as text.
    pub raw: Option<String>,
}

/// One field of the preview, as the storefront would render it.
pub struct PreviewField {
    pub label: String,
    pub field_type: String,
    pub value: String,
}

/// `GET /bigcommerce/stores/{store}`.
pub async fn get_merchant_page(
    request: HttpRequest,
    path: web::Path<String>,
    pages: web::Data<MerchantPages>,
    frames: web::Data<FrameAncestors>,
    facts: web::Data<PageFacts>,
) -> HttpResponse {
    let opened = match open(&request, &path, &pages).await {
        Ok(opened) => opened,
        Err(error) => return refused(&frames, &error),
    };
    let query = Query::parse(request.query_string());
    let notice = match query.get("done") {
        Some("saved") => {
            Some("The field definition was saved. Shoppers see it on their next page load.")
        }
        Some("deleted") => Some("The field definition was deleted."),
        Some("script-on") => Some(
            "The storefront script is on: order pages show the order's details without the snippet.",
        ),
        Some("script-off") => Some("The storefront script is off."),
        Some("channels-on") => {
            Some("Each storefront now shows a shopper only the orders placed on it.")
        }
        Some("channels-off") => Some("Every storefront shows a shopper all of their orders."),
        _ => None,
    };
    let draft = match (query.get("namespace"), query.get("key")) {
        (Some(namespace), Some(key)) => Some(row(&FieldDefinition::plain(namespace, key))),
        _ => None,
    };
    let parts = PageParts {
        notice,
        draft,
        ..PageParts::default()
    };
    render(&frames, &facts, &pages, &opened, StatusCode::OK, parts).await
}

/// `POST /bigcommerce/stores/{store}/fields`: add or replace one definition.
pub async fn save_field_definition(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    pages: web::Data<MerchantPages>,
    frames: web::Data<FrameAncestors>,
    facts: web::Data<PageFacts>,
) -> HttpResponse {
    let (opened, form) = match open_form(&request, &path, &body, &pages).await {
        Ok(opened) => opened,
        Err(response) => return response(&frames),
    };
    let (definition, mut errors) = definition_from(&form);
    if errors.is_empty() {
        match pages
            .save_definition(&opened.store, definition.clone(), opened.session.user_id)
            .await
        {
            Ok(()) => return see_other(&opened, "saved"),
            Err(SaveError::Invalid(problems)) => errors = problems,
            Err(SaveError::WouldExpose(problem)) => errors = vec![problem],
            Err(SaveError::Upstream(error)) => {
                tracing::warn!(error = %error, "the key's permission sets could not be read");
                errors = vec![FieldError {
                    field: format!("{}.{}", definition.namespace, definition.key),
                    message: "BigCommerce did not answer whether shoppers may see this key; try again in a moment, or save it hidden".to_owned(),
                }];
            }
            Err(SaveError::Database(error)) => {
                tracing::error!(error = %error, "saving a field definition failed");
                return unavailable(&frames);
            }
        }
    }
    render(
        &frames,
        &facts,
        &pages,
        &opened,
        StatusCode::UNPROCESSABLE_ENTITY,
        PageParts {
            errors,
            draft: Some(row(&definition)),
            ..PageParts::default()
        },
    )
    .await
}

/// `POST /bigcommerce/stores/{store}/fields/delete`.
pub async fn delete_field_definition(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    pages: web::Data<MerchantPages>,
    frames: web::Data<FrameAncestors>,
) -> HttpResponse {
    let (opened, form) = match open_form(&request, &path, &body, &pages).await {
        Ok(opened) => opened,
        Err(response) => return response(&frames),
    };
    let (Some(namespace), Some(key)) = (form.get("namespace"), form.get("key")) else {
        return see_other(&opened, "deleted");
    };
    match pages
        .delete_definition(&opened.store, namespace, key, opened.session.user_id)
        .await
    {
        Ok(_) => see_other(&opened, "deleted"),
        Err(error) => {
            tracing::error!(error = %error, "deleting a field definition failed");
            unavailable(&frames)
        }
    }
}

/// `POST /bigcommerce/stores/{store}/preview`: what a customer would see.
pub async fn preview_as_customer(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    pages: web::Data<MerchantPages>,
    frames: web::Data<FrameAncestors>,
    facts: web::Data<PageFacts>,
) -> HttpResponse {
    let (opened, form) = match open_form(&request, &path, &body, &pages).await {
        Ok(opened) => opened,
        Err(response) => return response(&frames),
    };
    let customer = form
        .get("customer")
        .and_then(|text| text.trim().parse::<u64>().ok())
        .and_then(CustomerId::new);
    let order = match form.get("order").map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .and_then(OrderId::new)
            .map(Some)
            .ok_or(()),
    };
    let (Some(customer), Ok(order)) = (customer, order) else {
        let error = FieldError {
            field: "preview".to_owned(),
            message: "enter a customer id (a whole number from 1) and, optionally, an order id"
                .to_owned(),
        };
        let parts = PageParts {
            errors: vec![error],
            ..PageParts::default()
        };
        return render(
            &frames,
            &facts,
            &pages,
            &opened,
            StatusCode::UNPROCESSABLE_ENTITY,
            parts,
        )
        .await;
    };
    match pages
        .preview(&opened.store, customer, order, opened.session.user_id)
        .await
    {
        Ok(preview) => {
            render(
                &frames,
                &facts,
                &pages,
                &opened,
                StatusCode::OK,
                PageParts {
                    preview: Some(preview_view(&preview)),
                    ..PageParts::default()
                },
            )
            .await
        }
        Err(error) => {
            tracing::warn!(error = %error, "a preview failed");
            let error = FieldError {
                field: "preview".to_owned(),
                message: "BigCommerce did not answer; try the preview again in a moment".to_owned(),
            };
            let parts = PageParts {
                errors: vec![error],
                ..PageParts::default()
            };
            render(
                &frames,
                &facts,
                &pages,
                &opened,
                StatusCode::BAD_GATEWAY,
                parts,
            )
            .await
        }
    }
}

async fn open(
    request: &HttpRequest,
    store: &str,
    pages: &MerchantPages,
) -> Result<Opened, PageError> {
    let cookie = request
        .headers()
        .get(header::COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(cookie_value);
    let opened = pages.open(cookie, store).await?;
    request_context::note_store(opened.store.hash.clone());
    Ok(opened)
}

type Refusal = Box<dyn FnOnce(&FrameAncestors) -> HttpResponse>;

/// Opens the page for a form: the session, then the CSRF token in the form.
async fn open_form(
    request: &HttpRequest,
    store: &str,
    body: &[u8],
    pages: &MerchantPages,
) -> Result<(Opened, Query), Refusal> {
    let opened = match open(request, store, pages).await {
        Ok(opened) => opened,
        Err(error) => return Err(Box::new(move |frames| refused(frames, &error))),
    };
    // A form of the app's page is posted by that page: a browser says so
    // (`Sec-Fetch-Site: same-origin`), and anything else is another site's doing.
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() != b"same-origin");
    let form = Query::parse(&String::from_utf8_lossy(body));
    if cross_site || !pages.csrf_matches(&opened.session, form.get("csrf")) {
        tracing::warn!(store = %opened.store.hash, "refused a merchant page form without its csrf token");
        return Err(Box::new(|frames| {
            message(
                frames,
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this page of the app (its security token is missing or wrong). Reload the app from the control panel and try again.",
                Vec::new(),
            )
        }));
    }
    Ok((opened, form))
}

fn refused(frames: &FrameAncestors, error: &PageError) -> HttpResponse {
    tracing::info!(reason = %error, "refused a merchant page request");
    let (status, heading, text) = match error {
        PageError::Session(_) | PageError::UserRemoved => (
            StatusCode::UNAUTHORIZED,
            "Your session has ended",
            "Open the app again from your store's control panel (Apps › My Apps).",
        ),
        PageError::OtherStore => (
            StatusCode::FORBIDDEN,
            "This page belongs to another store",
            "Your session is for a different store. Open the app from this store's control panel.",
        ),
        PageError::NotInstalled => (
            StatusCode::NOT_FOUND,
            "The app is not installed on this store",
            "Install it from the store's control panel (Apps), then open it again.",
        ),
        PageError::Database(_) => return unavailable(frames),
    };
    message(frames, status, heading, text, Vec::new())
}

fn unavailable(frames: &FrameAncestors) -> HttpResponse {
    let mut response = message(
        frames,
        StatusCode::SERVICE_UNAVAILABLE,
        "The app is unavailable",
        "The app cannot reach its database right now. Try again in a moment.",
        Vec::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// Back to the page after a change (`303`: the browser follows with a `GET`).
fn see_other(opened: &Opened, done: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/bigcommerce/stores/{}?done={done}", opened.store.hash),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The page of an opened store (also right after `load` and `auth`).
pub async fn render(
    frames: &FrameAncestors,
    facts: &PageFacts,
    pages: &MerchantPages,
    opened: &Opened,
    status: StatusCode,
    parts: PageParts<'_>,
) -> HttpResponse {
    let fields = opened.store.scope.fields.load_full();
    let mut definitions: Vec<DefinitionRow> = fields.iter().map(row).collect();
    definitions.sort_by(|a, b| {
        (a.position, &a.namespace, &a.key).cmp(&(b.position, &b.namespace, &b.key))
    });
    let discovery = if parts.just_installed {
        Err(None)
    } else {
        pages.discovery(&opened.store).await.map_err(Some)
    };
    let discovery = match discovery {
        Ok(discovery) => DiscoveryView {
            rows: discovery
                .keys
                .iter()
                .map(|found| DiscoveryRow {
                    defined: fields.get(&found.namespace, &found.key).map(|definition| {
                        (
                            definition
                                .label
                                .clone()
                                .unwrap_or_else(|| "(its description)".to_owned()),
                            definition.hidden,
                        )
                    }),
                    define_query: url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("namespace", &found.namespace)
                        .append_pair("key", &found.key)
                        .finish(),
                    namespace: found.namespace.clone(),
                    key: found.key.clone(),
                    permission_sets: found.permission_sets.join(", "),
                    orders: found.orders,
                    visible: found.visible,
                })
                .collect(),
            since: discovery.since.clone(),
            complete: discovery.complete,
            failed: None,
        },
        Err(None) => DiscoveryView {
            rows: Vec::new(),
            since: String::new(),
            complete: false,
            failed: Some("The keys found on recent orders show when the app is opened again."),
        },
        Err(Some(error)) => {
            tracing::warn!(error = %error, "discovering the store's metafield keys failed");
            DiscoveryView {
                rows: Vec::new(),
                since: String::new(),
                complete: false,
                failed: Some(
                    "BigCommerce did not answer; the keys show when the page is opened again.",
                ),
            }
        }
    };
    let quota = opened.store.management().quota();
    let (hits, misses) = opened.store.scope.figures.hits_and_misses();
    let figures = FiguresView {
        quota: match (quota.left, quota.quota) {
            (Some(left), Some(quota)) => {
                format!("{left} of {quota} requests left in the current window")
            }
            _ => "not known yet (no request sent since start)".to_owned(),
        },
        hits,
        misses,
        misses_from: if opened.store.mirror().is_some() {
            "read from the mirror (from BigCommerce until it is complete)"
        } else {
            "read from BigCommerce"
        },
        last_webhook: opened
            .store
            .scope
            .figures
            .last_webhook()
            .and_then(|seconds| i64::try_from(seconds).ok())
            .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
            .and_then(|time| {
                time.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| "none since the service started".to_owned()),
        mirror: opened
            .store
            .mirror()
            .map(|mirror| mirror.figures().describe()),
    };
    let script = if parts.just_installed {
        Ok(None)
    } else {
        pages.script_installed(&opened.store).await
    };
    let script = match script {
        Ok(Some(installed)) => Ok(installed),
        Ok(None) if parts.just_installed => Err("The switch shows when the app is opened again."),
        Ok(None) => Err(
            "The store did not grant this app the Content scope (store_v2_content) that the Scripts API needs: add it to the app's scopes (APP_SCOPES and the Developer Portal) and install again, or paste the snippet below.",
        ),
        Err(error) => {
            tracing::warn!(error = %error, "reading the storefront script's state failed");
            Err(
                "BigCommerce did not say whether the script is installed; open the page again in a moment.",
            )
        }
    };
    page(
        frames,
        status,
        MerchantPage {
            script,
            channel_orders: opened.store.channel_orders(),
            store: opened.store.hash.as_str(),
            csrf: &opened.csrf,
            notice: parts.notice,
            errors: parts.errors,
            definitions,
            draft: parts
                .draft
                .unwrap_or_else(|| row(&FieldDefinition::plain("", ""))),
            types: &FieldType::ALL,
            preview: parts.preview,
            snippet: SNIPPET
                .replace("https://order-metafields.example.com", &facts.app_url)
                .replace("your-app-client-id", &facts.client_id),
            webhooks: parts.webhooks,
            discovery,
            figures,
        },
    )
}

fn row(definition: &FieldDefinition) -> DefinitionRow {
    DefinitionRow {
        namespace: definition.namespace.clone(),
        key: definition.key.clone(),
        label: definition.label.clone().unwrap_or_default(),
        field_type: definition.field_type,
        position: definition.position,
        hidden: definition.hidden,
        customer_editable: definition.customer_editable,
        max_length: definition
            .max_length
            .map(|length| length.to_string())
            .unwrap_or_default(),
        pattern: definition.pattern.clone().unwrap_or_default(),
        choices: definition.choices.join("\n"),
        editable_statuses: definition
            .editable_statuses
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A definition from the form, and what could not be read of it (the rest is checked by
/// the definition's own validation).
fn definition_from(form: &Query) -> (FieldDefinition, Vec<FieldError>) {
    let text = |name: &str| form.get(name).map(str::trim).unwrap_or_default().to_owned();
    let namespace = text("namespace");
    let key = text("key");
    let name = format!("{namespace}.{key}");
    let mut errors = Vec::new();
    let mut refuse = |part: &str, message: &str| {
        errors.push(FieldError {
            field: format!("{name}.{part}"),
            message: message.to_owned(),
        });
    };
    let field_type = FieldType::parse(&text("type")).unwrap_or_else(|| {
        refuse("type", "choose one of the listed types");
        FieldType::Text
    });
    let position = match text("position").as_str() {
        "" => 0,
        value => value.parse().unwrap_or_else(|_| {
            refuse("position", "the position must be a whole number from 0");
            0
        }),
    };
    let max_length = match text("max_length").as_str() {
        "" => None,
        value => value.parse().map(Some).unwrap_or_else(|_| {
            refuse("max_length", "the maximum length must be a whole number");
            None
        }),
    };
    let mut editable_statuses = Vec::new();
    for status in text("editable_statuses")
        .split(',')
        .map(str::trim)
        .filter(|status| !status.is_empty())
    {
        match status.parse() {
            Ok(status) => editable_statuses.push(status),
            Err(_) => {
                refuse(
                    "editable_statuses",
                    "list order status ids as whole numbers, separated by commas",
                );
                break;
            }
        }
    }
    let label = text("label");
    let pattern = form.get("pattern").unwrap_or_default().to_owned();
    let definition = FieldDefinition {
        namespace,
        key,
        label: (!label.is_empty()).then_some(label),
        field_type,
        position,
        hidden: form.get("hidden").is_some(),
        customer_editable: form.get("customer_editable").is_some(),
        max_length,
        pattern: (!pattern.is_empty()).then_some(pattern),
        choices: form
            .get("choices")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|choice| !choice.is_empty())
            .map(str::to_owned)
            .collect(),
        editable_statuses,
    };
    (definition, errors)
}

/// The preview as the storefront module renders it: by label, type and position.
fn preview_view(preview: &Preview) -> PreviewView {
    #[derive(serde::Deserialize)]
    struct Body {
        data: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        label: String,
        key: String,
        #[serde(rename = "type")]
        field_type: String,
        value: String,
    }
    let fields = preview
        .body
        .as_ref()
        .and_then(|body| serde_json::from_slice::<Body>(body).ok())
        .map(|body| {
            body.data
                .into_iter()
                .map(|item| PreviewField {
                    label: if item.label.is_empty() {
                        item.key
                    } else {
                        item.label
                    },
                    value: match item.field_type.as_str() {
                        "boolean" => yes_no(&item.value).to_owned(),
                        _ => item.value,
                    },
                    field_type: item.field_type,
                })
                .collect()
        })
        .unwrap_or_default();
    PreviewView {
        customer: preview.customer.get(),
        order: preview.order.map(OrderId::get),
        fields,
        raw: preview
            .body
            .as_ref()
            .map(|body| String::from_utf8_lossy(body).into_owned()),
    }
}

/// How a yes/no field reads (the storefront module's rule).
fn yes_no(value: &str) -> &'static str {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => "Yes",
        _ => "No",
    }
}

/// `POST /bigcommerce/stores/{store}/channels`: whether each storefront shows only its own
/// orders.
pub async fn switch_channel_orders(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    pages: web::Data<MerchantPages>,
    frames: web::Data<FrameAncestors>,
) -> HttpResponse {
    let (opened, form) = match open_form(&request, &path, &body, &pages).await {
        Ok(opened) => opened,
        Err(response) => return response(&frames),
    };
    let on = form.get("enabled") == Some("1");
    match pages
        .set_channel_orders(&opened.store, on, opened.session.user_id)
        .await
    {
        Ok(()) => see_other(&opened, if on { "channels-on" } else { "channels-off" }),
        Err(error) => {
            tracing::error!(error = %error, "saving the store's settings failed");
            unavailable(&frames)
        }
    }
}

/// `POST /bigcommerce/stores/{store}/script`: the one-click storefront switch.
pub async fn switch_storefront_script(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    pages: web::Data<MerchantPages>,
    frames: web::Data<FrameAncestors>,
    facts: web::Data<PageFacts>,
) -> HttpResponse {
    let (opened, form) = match open_form(&request, &path, &body, &pages).await {
        Ok(opened) => opened,
        Err(response) => return response(&frames),
    };
    let on = form.get("enabled") == Some("1");
    match pages
        .switch_script(
            &opened.store,
            on,
            &script_html(&facts),
            opened.session.user_id,
        )
        .await
    {
        Ok(()) => see_other(&opened, if on { "script-on" } else { "script-off" }),
        Err(error) => {
            tracing::warn!(error = %error, "switching the storefront script failed");
            let message = match error {
                StorefrontScriptError::NoContentScope => {
                    "The store did not grant the Content scope (store_v2_content) that the Scripts API needs."
                }
                StorefrontScriptError::Upstream(_) => {
                    "BigCommerce did not accept the change; try again in a moment."
                }
                StorefrontScriptError::Database(_) => return unavailable(&frames),
            };
            let parts = PageParts {
                errors: vec![FieldError {
                    field: "storefront script".to_owned(),
                    message: message.to_owned(),
                }],
                ..PageParts::default()
            };
            render(
                &frames,
                &facts,
                &pages,
                &opened,
                StatusCode::CONFLICT,
                parts,
            )
            .await
        }
    }
}

/// The storefront script with this app's URL and client id, as JSON string literals that
/// cannot close the script element.
pub fn script_html(facts: &PageFacts) -> String {
    let literal = |text: &str| {
        serde_json::to_string(text)
            .unwrap_or_else(|_| "\"\"".to_owned())
            .replace("</", "<\\/")
    };
    STOREFRONT_SCRIPT
        .replace("__API_BASE__", &literal(&facts.app_url))
        .replace("__APP_CLIENT_ID__", &literal(&facts.client_id))
}
