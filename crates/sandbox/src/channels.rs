//! The channels and sites routes of the sandbox's Management API (channels.v3.yml, sites.v3.yml):
//! `GET /v3/channels` (and one channel), a channel's site (`GET`/`PUT /v3/channels/{id}/site`),
//! and `GET /v3/sites` (by `channel_id:in`), `GET`/`PUT /v3/sites/{id}`, in the reference's
//! shapes. Changing a site's URL fires `store/channel/{channel_id}/settings/site/updated`. The
//! gate in `management` has already checked hash, token, scopes and quota.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::api::{StoreRequest, borrowed, id_param, json_response, query_error, query_pairs};
use crate::data::{Channel, STOREFRONT_CHANNEL_ID, Site, StoreState, now_to_the_second};
use crate::events::StoreEvent;
use crate::listing::{DEFAULT_LIMIT, MAX_LIMIT, QueryError, invalid, pagination, positive};
use crate::metafield_input::InputError;

/// The `type` of the error bodies in channels.v3.yml's and sites.v3.yml's examples.
const ERROR_TYPE: &str = "/api-docs/getting-started/api-status-codes";

/// `2021-05-07T14:54:51Z`, as channels.v3.yml's examples print channel dates.
fn channel_date(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// `2018-01-04T04:15:50.000Z`, as sites.v3.yml's examples print site dates.
fn site_date(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// A channel in the field order of channels.v3.yml's `multiple_channels_without_currencies_resp`
/// example; `with_currencies` adds `currencies` (`include=currencies`).
fn channel_json(channel: &Channel, with_currencies: bool) -> Value {
    let mut value = json!({
        "id": channel.id,
        "icon_url": format!(
            "https://storage.googleapis.com/bigcommerce-production-dev-center/images/{}_icon.svg",
            channel.platform
        ),
        "is_listable_from_ui": true,
        "is_visible": true,
        "date_created": channel_date(channel.date_created),
        "external_id": "",
        "type": channel.kind,
        "platform": channel.platform,
        "date_modified": channel_date(channel.date_modified),
        "name": channel.name,
        "status": channel.status,
    });
    if with_currencies {
        value["currencies"] = json!({
            "channel_id": channel.id,
            "enabled_currencies": ["USD", "EUR", "GBP"],
            "default_currency": "USD",
        });
    }
    value
}

/// A site as sites.v3.yml's `_site` has it. Its `urls` are the `primary` and `canonical` URL
/// (the site's own) and the `checkout` URL, which falls back to the default channel's primary
/// URL since no site customizes it.
fn site_json(site: &Site, checkout_url: &str) -> Value {
    let url = |kind: &str, url: &str| {
        json!({
            "url": url,
            "type": kind,
            "created_at": site_date(site.created_at),
            "updated_at": site_date(site.updated_at),
        })
    };
    json!({
        "id": site.id,
        "url": site.url,
        "channel_id": site.channel_id,
        "created_at": site_date(site.created_at),
        "updated_at": site_date(site.updated_at),
        "ssl_status": "shared",
        "urls": [
            url("primary", &site.url),
            url("canonical", &site.url),
            url("checkout", checkout_url),
        ],
        "is_checkout_url_customized": false,
    })
}

fn site_body(state: &StoreState, site: &Site) -> Value {
    let checkout = state
        .site_of(STOREFRONT_CHANNEL_ID)
        .map_or(site.url.as_str(), |default| default.url.as_str());
    site_json(site, checkout)
}

fn not_found(title: &str) -> HttpResponse {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"status": 404, "title": title, "type": ERROR_TYPE, "errors": {}}),
    )
}

fn invalid_filter(error: &QueryError) -> HttpResponse {
    // channels.v3.yml answers a bad filter value with 422 (`invalid_filter_value_resp`).
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"status": 422, "title": error.message, "type": ERROR_TYPE, "errors": {}}),
    )
}

/// `page` and `limit` of a collection, as every v3 collection reads them.
fn paging(pairs: &[(String, String)]) -> Result<(u64, u64), QueryError> {
    let (mut page, mut limit) = (1, DEFAULT_LIMIT);
    for (name, value) in borrowed(pairs) {
        match name {
            "page" => page = positive(name, value)?,
            "limit" => limit = positive(name, value)?.min(MAX_LIMIT),
            _ => {}
        }
    }
    Ok((page, limit))
}

/// A comma-separated `name:in` filter, if present.
fn list_filter<'a>(pairs: &'a [(String, String)], name: &str) -> Option<Vec<&'a str>> {
    borrowed(pairs)
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.split(',').map(str::trim).collect())
}

fn page_of<T>(rows: Vec<T>, page: u64, limit: u64) -> Vec<T> {
    let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    rows.into_iter()
        .skip(skip)
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
}

pub(super) async fn list_channels(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let pairs = query_pairs(&request);
    let (page, limit) = match paging(&pairs) {
        Ok(paging) => paging,
        Err(error) => return invalid_filter(&error),
    };
    let with_currencies = list_filter(&pairs, "include") == Some(vec!["currencies"]);
    let statuses = list_filter(&pairs, "status:in");
    let kinds = list_filter(&pairs, "type:in");
    let platforms = list_filter(&pairs, "platform:in");
    let available = match borrowed(&pairs).find(|(name, _)| *name == "available") {
        None => None,
        Some((_, "true")) => Some(true),
        Some((_, "false")) => Some(false),
        Some((name, _)) => return invalid_filter(&invalid(name)),
    };
    let body = state.store.with_state(|store| {
        let matching: Vec<&Channel> = store
            .channels
            .iter()
            .filter(|channel| {
                statuses
                    .as_ref()
                    .is_none_or(|list| list.contains(&channel.status))
            })
            .filter(|channel| {
                kinds
                    .as_ref()
                    .is_none_or(|list| list.contains(&channel.kind))
            })
            .filter(|channel| {
                platforms
                    .as_ref()
                    .is_none_or(|list| list.contains(&channel.platform))
            })
            // channels.v3.yml, `available`: prelaunch, active, inactive and connected are.
            .filter(|channel| {
                available.is_none_or(|wanted| {
                    matches!(
                        channel.status,
                        "prelaunch" | "active" | "inactive" | "connected"
                    ) == wanted
                })
            })
            .collect();
        let total = matching.len() as u64;
        let data: Vec<Value> = page_of(matching, page, limit)
            .into_iter()
            .map(|channel| channel_json(channel, with_currencies))
            .collect();
        let count = data.len();
        json!({"data": data, "meta": {"pagination": pagination(page, limit, "", total, count)}})
    });
    json_response(StatusCode::OK, &body)
}

pub(super) async fn get_channel(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let with_currencies =
        list_filter(&query_pairs(&request), "include") == Some(vec!["currencies"]);
    let found = id_param(&request, "channel_id").and_then(|channel_id| {
        state.store.with_state(|store| {
            store
                .channels
                .iter()
                .find(|channel| channel.id == channel_id)
                .map(|channel| channel_json(channel, with_currencies))
        })
    });
    match found {
        Some(channel) => json_response(StatusCode::OK, &json!({"data": channel, "meta": {}})),
        None => not_found("Not found"),
    }
}

pub(super) async fn get_channel_site(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let found = id_param(&request, "channel_id").and_then(|channel_id| {
        state
            .store
            .with_state(|store| store.site_of(channel_id).map(|site| site_body(store, site)))
    });
    match found {
        Some(site) => json_response(StatusCode::OK, &json!({"data": site, "meta": {}})),
        None => not_found("The requested entity was not found."),
    }
}

pub(super) async fn list_sites(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let pairs = query_pairs(&request);
    let (page, limit) = match paging(&pairs) {
        Ok(paging) => paging,
        Err(error) => return query_error(crate::api::ApiVersion::V3, &error),
    };
    let channels: Option<Vec<u64>> = match list_filter(&pairs, "channel_id:in") {
        None => None,
        Some(ids) => match ids.iter().map(|id| id.parse()).collect() {
            Ok(ids) => Some(ids),
            Err(_) => {
                return query_error(crate::api::ApiVersion::V3, &invalid("channel_id:in"));
            }
        },
    };
    let url_types = list_filter(&pairs, "url_type:in");
    let body = state.store.with_state(|store| {
        let matching: Vec<&Site> = store
            .sites
            .values()
            .filter(|site| {
                channels
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&site.channel_id))
            })
            // Every site has a primary, a canonical and a checkout URL.
            .filter(|_| {
                url_types.as_ref().is_none_or(|kinds| {
                    kinds
                        .iter()
                        .any(|kind| matches!(*kind, "primary" | "canonical" | "checkout"))
                })
            })
            .collect();
        let total = matching.len();
        let offset = (page - 1).saturating_mul(limit);
        let data: Vec<Value> = page_of(matching, page, limit)
            .into_iter()
            .map(|site| site_body(store, site))
            .collect();
        // sites.v3.yml, `site_RespCollection`: its `Meta` counts by offset.
        json!({"data": data, "meta": {"pagination": {
            "offset": offset, "limit": limit, "total_items": total}}})
    });
    json_response(StatusCode::OK, &body)
}

pub(super) async fn get_site(request: HttpRequest, state: StoreRequest) -> HttpResponse {
    let found = id_param(&request, "site_id").and_then(|site_id| {
        state
            .store
            .with_state(|store| store.sites.get(&site_id).map(|site| site_body(store, site)))
    });
    match found {
        Some(site) => json_response(StatusCode::OK, &json!({"data": site, "meta": {}})),
        None => not_found("The requested entity was not found."),
    }
}

/// `PUT /v3/sites/{site_id}`.
pub(super) async fn update_site(
    request: HttpRequest,
    body: web::Bytes,
    state: StoreRequest,
) -> HttpResponse {
    let site_id = id_param(&request, "site_id");
    set_url(&state, &body, |store| {
        site_id.filter(|id| store.sites.contains_key(id))
    })
    .await
}

/// `PUT /v3/channels/{channel_id}/site`.
pub(super) async fn update_channel_site(
    request: HttpRequest,
    body: web::Bytes,
    state: StoreRequest,
) -> HttpResponse {
    let channel_id = id_param(&request, "channel_id");
    set_url(&state, &body, |store| {
        channel_id.and_then(|channel_id| store.site_of(channel_id).map(|site| site.id))
    })
    .await
}

/// Sets the URL of the site `which` finds, from a `site_Put` body, and fires its webhook.
async fn set_url(
    state: &StoreRequest,
    body: &[u8],
    which: impl FnOnce(&StoreState) -> Option<u64>,
) -> HttpResponse {
    let url = match site_url(body) {
        Ok(url) => url,
        Err(error) => return crate::api::input_error(error),
    };
    let changed = state.store.with_state(|store| {
        let site_id = which(store)?;
        let site = store.sites.get_mut(&site_id)?;
        site.url = url;
        site.updated_at = now_to_the_second();
        let event = StoreEvent::SiteUpdated {
            channel_id: site.channel_id,
            site_id,
        };
        let site = store.sites.get(&site_id)?;
        Some((site_body(store, site), event))
    });
    match changed {
        Some((site, event)) => {
            state.store.publish(&event).finished().await;
            json_response(StatusCode::OK, &json!({"data": site, "meta": {}}))
        }
        None => not_found("The requested entity was not found."),
    }
}

/// The `url` of a `site_Put` body: a fully qualified `http` or `https` URL, kept as sent.
fn site_url(body: &[u8]) -> Result<String, InputError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(InputError::Syntax);
    };
    let refuse = |message: &str| {
        let mut errors = Map::new();
        errors.insert("url".to_owned(), message.into());
        Err(InputError::Invalid(errors))
    };
    match object.get("url") {
        Some(Value::String(url)) => match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
                Ok(url.clone())
            }
            _ => refuse("url must be a fully qualified http or https URL"),
        },
        Some(_) => refuse("error.expected.jsstring"),
        None => refuse("error.path.missing"),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn dates_print_as_each_reference_prints_them() {
        let moment = datetime!(2018-01-04 04:15:50 UTC);

        assert_eq!(channel_date(moment), "2018-01-04T04:15:50Z");
        assert_eq!(site_date(moment), "2018-01-04T04:15:50.000Z");
    }

    #[test]
    fn a_site_url_must_be_a_fully_qualified_web_url() {
        assert_eq!(
            site_url(br#"{"url": "https://store.example.com/"}"#),
            Ok("https://store.example.com/".to_owned())
        );
        for body in [
            r#"{"url": "store.example.com"}"#,
            r#"{"url": "ftp://store.example.com/"}"#,
            r#"{"url": 5}"#,
            r#"{}"#,
        ] {
            assert!(
                matches!(site_url(body.as_bytes()), Err(InputError::Invalid(_))),
                "{body}"
            );
        }
        assert_eq!(site_url(b"[]"), Err(InputError::Syntax));
    }
}
