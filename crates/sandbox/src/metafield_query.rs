//! The query of the v3 order metafield collections (orders.v3.yml, `getOrderMetafields` and the
//! batch `getOrdersMetafields`): `namespace`/`key` filters (with `:in`), `date_created` and
//! `date_modified` (exact, `:min`, `:max`), `direction`, `include_fields`, offset paging
//! (`page`, `limit`) and cursor paging (`after`, `before`), and the `meta` object both kinds of
//! paging produce. Which metafields an app may see at all is `visible_to`. Pure functions over
//! `StoreState`; the handlers in `metafields` map its errors to BigCommerce's bodies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::data::{Metafield, PermissionSet, StoreState};
use crate::listing::{DEFAULT_LIMIT, MAX_LIMIT, QueryError, invalid, pagination, positive};

/// The fields `include_fields` may name (orders.v3.yml, `IncludeFieldsParamMetafields`); `id`
/// is always returned.
pub(crate) const INCLUDABLE_FIELDS: [&str; 10] = [
    "resource_id",
    "key",
    "value",
    "namespace",
    "permission_set",
    "resource_type",
    "description",
    "owner_client_id",
    "date_created",
    "date_modified",
];

/// A parsed metafield collection query.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MetafieldQuery {
    pub namespaces: Vec<String>,
    pub keys: Vec<String>,
    pub page: u64,
    pub limit: u64,
    pub descending: bool,
    pub created: DateFilter,
    pub modified: DateFilter,
    pub cursor: Option<Cursor>,
    /// The fields to return besides `id`; `None` returns every field.
    pub include_fields: Option<Vec<String>>,
    /// The filters to repeat in pagination links, already encoded.
    link_filters: String,
}

/// Bounds on one date of a metafield, each inclusive.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DateFilter {
    pub min: Option<OffsetDateTime>,
    pub max: Option<OffsetDateTime>,
}

impl DateFilter {
    fn admits(&self, moment: OffsetDateTime) -> bool {
        self.min.is_none_or(|min| moment >= min) && self.max.is_none_or(|max| moment <= max)
    }

    /// Narrows the filter to `[min, max]`, either side left open when `None`.
    fn narrow(&mut self, min: Option<OffsetDateTime>, max: Option<OffsetDateTime>) {
        if let Some(min) = min {
            self.min = Some(self.min.map_or(min, |current| current.max(min)));
        }
        if let Some(max) = max {
            self.max = Some(self.max.map_or(max, |current| current.min(max)));
        }
    }
}

/// Where a cursor-paged request starts: after or before the metafield a cursor names, in the
/// requested direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cursor {
    After(u64),
    Before(u64),
}

/// One page of a metafield collection and what its `meta` needs.
pub(crate) struct MetafieldPage<'a> {
    pub rows: Vec<&'a Metafield>,
    /// Every metafield the filters admit, on all pages.
    pub total: u64,
    /// Whether rows come before this page (in the requested direction).
    more_before: bool,
    /// Whether rows come after this page.
    more_after: bool,
}

/// Whether the app `client_id` may see `metafield`: `app_only` ones are private to their owner
/// (orders.v3.yml, `permission_set`: "Private to the app that owns the field").
pub(crate) fn visible_to(metafield: &Metafield, client_id: &str) -> bool {
    metafield.permission_set != PermissionSet::AppOnly || &*metafield.owner_client_id == client_id
}

/// The opaque cursor of the metafield `id`: BigCommerce's examples are `aWQ6Nw==`, the base64
/// of `id:7`.
pub(crate) fn cursor_of(id: u64) -> String {
    BASE64.encode(format!("id:{id}"))
}

fn parse_cursor(name: &str, value: &str) -> Result<u64, QueryError> {
    BASE64
        .decode(value)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("id:")?.parse().ok())
        .ok_or_else(|| invalid(name))
}

/// A date filter's value: `2019-09-04`, `2019-09-04T00:00:00` (both UTC, as the reference's
/// examples), RFC 3339 with an offset, or Unix seconds. Returns the first and the last second
/// it covers: a whole day for a bare date, one second otherwise.
fn parse_date(name: &str, value: &str) -> Result<(OffsetDateTime, OffsetDateTime), QueryError> {
    let second = |moment: OffsetDateTime| Ok((moment, moment));
    if let Ok(moment) = OffsetDateTime::parse(value, &Rfc3339) {
        return second(moment);
    }
    if let Ok(moment) = PrimitiveDateTime::parse(
        value,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ) {
        return second(moment.assume_utc());
    }
    if let Ok(day) = Date::parse(value, format_description!("[year]-[month]-[day]")) {
        let start = day.midnight().assume_utc();
        return Ok((start, start + time::Duration::seconds(86_399)));
    }
    if !value.is_empty()
        && value.bytes().all(|byte| byte.is_ascii_digit())
        && let Ok(seconds) = value.parse::<i64>()
        && let Ok(moment) = OffsetDateTime::from_unix_timestamp(seconds)
    {
        return second(moment);
    }
    Err(invalid(name))
}

impl MetafieldQuery {
    /// Parses a metafield collection query; unknown parameters are ignored, as BigCommerce does.
    pub(crate) fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, QueryError> {
        let mut query = MetafieldQuery {
            namespaces: Vec::new(),
            keys: Vec::new(),
            page: 1,
            limit: DEFAULT_LIMIT,
            descending: false,
            created: DateFilter::default(),
            modified: DateFilter::default(),
            cursor: None,
            include_fields: None,
            link_filters: String::new(),
        };
        let mut filters = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            let mut repeat = true;
            match name {
                "namespace" => query.namespaces.push(value.to_owned()),
                "namespace:in" => query.namespaces.extend(value.split(',').map(str::to_owned)),
                "key" => query.keys.push(value.to_owned()),
                "key:in" => query.keys.extend(value.split(',').map(str::to_owned)),
                "page" => (query.page, repeat) = (positive(name, value)?, false),
                // BigCommerce's v3 collections serve at most 250 rows and cap larger limits.
                "limit" => (query.limit, repeat) = (positive(name, value)?.min(MAX_LIMIT), false),
                "direction" => {
                    query.descending = match value {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(invalid(name)),
                    }
                }
                "date_created" | "date_modified" => {
                    let (first, last) = parse_date(name, value)?;
                    query.dates(name).narrow(Some(first), Some(last));
                }
                "date_created:min" | "date_modified:min" => {
                    let (first, _) = parse_date(name, value)?;
                    query.dates(name).narrow(Some(first), None);
                }
                "date_created:max" | "date_modified:max" => {
                    let (first, _) = parse_date(name, value)?;
                    query.dates(name).narrow(None, Some(first));
                }
                "include_fields" => {
                    let fields: Vec<String> = value
                        .split(',')
                        .map(str::trim)
                        .filter(|field| !field.is_empty() && *field != "id")
                        .map(str::to_owned)
                        .collect();
                    if fields
                        .iter()
                        .any(|field| !INCLUDABLE_FIELDS.contains(&field.as_str()))
                    {
                        return Err(invalid(name));
                    }
                    query.include_fields = Some(fields);
                }
                // orders.v3.yml: "Cannot be used in combination with the after parameter."
                "after" | "before" => {
                    if query.cursor.is_some() {
                        return Err(QueryError {
                            status: 400,
                            message: "The 'after' and 'before' parameters cannot be used together."
                                .to_owned(),
                        });
                    }
                    let id = parse_cursor(name, value)?;
                    query.cursor = Some(if name == "after" {
                        Cursor::After(id)
                    } else {
                        Cursor::Before(id)
                    });
                    repeat = false;
                }
                _ => repeat = false,
            }
            if repeat {
                filters.append_pair(name, value);
            }
        }
        query.link_filters = filters.finish();
        Ok(query)
    }

    fn dates(&mut self, name: &str) -> &mut DateFilter {
        if name.starts_with("date_created") {
            &mut self.created
        } else {
            &mut self.modified
        }
    }

    /// The requested page of the metafields `order_id` (or every order when `None`) carries,
    /// leaving out `app_only` metafields that another app owns, as BigCommerce does.
    pub(crate) fn select<'a>(
        &self,
        state: &'a StoreState,
        order_id: Option<u64>,
        client_id: &str,
    ) -> MetafieldPage<'a> {
        let candidates: Box<dyn Iterator<Item = &'a Metafield>> = match order_id {
            Some(order_id) => Box::new(
                state
                    .metafields_by_order
                    .get(&order_id)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| state.metafields.get(id)),
            ),
            None => Box::new(state.metafields.values()),
        };
        // Both sources yield ascending ids: metafield ids only grow.
        let mut matching: Vec<&Metafield> = candidates
            .filter(|metafield| visible_to(metafield, client_id))
            .filter(|metafield| {
                self.namespaces.is_empty() || self.namespaces.contains(&metafield.namespace)
            })
            .filter(|metafield| self.keys.is_empty() || self.keys.contains(&metafield.key))
            .filter(|metafield| self.created.admits(metafield.date_created))
            .filter(|metafield| self.modified.admits(metafield.date_modified))
            .collect();
        if self.descending {
            matching.reverse();
        }
        let total = matching.len() as u64;
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        // Where the page starts and ends in `matching`.
        let (start, end) = match self.cursor {
            None => {
                let skip = usize::try_from((self.page - 1).saturating_mul(self.limit))
                    .unwrap_or(usize::MAX)
                    .min(matching.len());
                (skip, skip.saturating_add(limit).min(matching.len()))
            }
            Some(Cursor::After(id)) => {
                let start = matching
                    .iter()
                    .position(|metafield| self.comes_after(metafield.id, id))
                    .unwrap_or(matching.len());
                (start, start.saturating_add(limit).min(matching.len()))
            }
            Some(Cursor::Before(id)) => {
                let end = matching
                    .iter()
                    .position(|metafield| !self.comes_before(metafield.id, id))
                    .unwrap_or(matching.len());
                (end.saturating_sub(limit), end)
            }
        };
        MetafieldPage {
            more_before: start > 0,
            more_after: end < matching.len(),
            rows: matching[start..end].to_vec(),
            total,
        }
    }

    /// Whether `id` comes after `cursor` in the requested direction.
    fn comes_after(&self, id: u64, cursor: u64) -> bool {
        if self.descending {
            id < cursor
        } else {
            id > cursor
        }
    }

    /// Whether `id` comes before `cursor` in the requested direction.
    fn comes_before(&self, id: u64, cursor: u64) -> bool {
        if self.descending {
            id > cursor
        } else {
            id < cursor
        }
    }

    /// The collection's `meta` (orders.v3.yml, `CollectionMeta`): `pagination` for offset paging
    /// (left out when a cursor was sent, since `page` is then ignored) and `cursor_pagination`
    /// always, so that a first page without a cursor already gives the `end_cursor` of the next.
    pub(crate) fn meta(&self, page: &MetafieldPage<'_>) -> Value {
        let mut meta = Map::new();
        if self.cursor.is_none() {
            meta.insert(
                "pagination".to_owned(),
                pagination(
                    self.page,
                    self.limit,
                    &self.link_filters,
                    page.total,
                    page.rows.len(),
                ),
            );
        }
        meta.insert("cursor_pagination".to_owned(), self.cursor_pagination(page));
        Value::Object(meta)
    }

    fn cursor_pagination(&self, page: &MetafieldPage<'_>) -> Value {
        let link = |cursor: Option<(&str, String)>| {
            let mut serializer = url::form_urlencoded::Serializer::new(String::new());
            serializer.append_pair("limit", &self.limit.to_string());
            if let Some((name, value)) = cursor {
                serializer.append_pair(name, &value);
            }
            let tail = serializer.finish();
            if self.link_filters.is_empty() {
                format!("?{tail}")
            } else {
                format!("?{}&{tail}", self.link_filters)
            }
        };
        let start = page.rows.first().map(|metafield| cursor_of(metafield.id));
        let end = page.rows.last().map(|metafield| cursor_of(metafield.id));
        let current = match self.cursor {
            Some(Cursor::After(id)) => link(Some(("after", cursor_of(id)))),
            Some(Cursor::Before(id)) => link(Some(("before", cursor_of(id)))),
            None => link(None),
        };
        let mut links = Map::new();
        if page.more_before
            && let Some(start) = &start
        {
            links.insert(
                "previous".to_owned(),
                link(Some(("before", start.clone()))).into(),
            );
        }
        links.insert("current".to_owned(), current.into());
        if page.more_after
            && let Some(end) = &end
        {
            links.insert("next".to_owned(), link(Some(("after", end.clone()))).into());
        }
        let mut cursor = json!({
            "count": page.rows.len(),
            "per_page": self.limit,
        });
        if let (Some(start), Some(end)) = (start, end) {
            cursor["start_cursor"] = start.into();
            cursor["end_cursor"] = end.into();
        }
        cursor["links"] = Value::Object(links);
        cursor
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;
    use crate::seed::{SeedSpec, build};

    fn demo_state() -> StoreState {
        build(&SeedSpec::default(), "client")
    }

    fn ids(page: &MetafieldPage<'_>) -> Vec<u64> {
        page.rows.iter().map(|metafield| metafield.id).collect()
    }

    #[test]
    fn limit_is_capped_at_250() {
        let query = MetafieldQuery::parse([("limit", "1000")]).unwrap();

        assert_eq!(query.limit, 250);
    }

    #[test]
    fn namespace_filter_keeps_only_that_namespace() {
        let state = demo_state();
        let query = MetafieldQuery::parse([("namespace", "delivery")]).unwrap();

        let page = query.select(&state, None, "client");

        assert_eq!(page.total, 2);
        assert!(
            page.rows
                .iter()
                .all(|metafield| metafield.namespace == "delivery")
        );
    }

    #[test]
    fn app_only_metafields_of_another_app_are_hidden() {
        let state = demo_state();
        let query = MetafieldQuery::parse([("namespace", "Sales Department")]).unwrap();

        let own = query.select(&state, None, "client").total;
        let foreign = query.select(&state, None, "someone-else").total;

        assert_eq!((own, foreign), (2, 0));
    }

    #[test]
    fn offset_pagination_links_carry_filters_and_neighbours() {
        let query =
            MetafieldQuery::parse([("namespace", "gift"), ("page", "2"), ("limit", "10")]).unwrap();

        let pagination = pagination(query.page, query.limit, &query.link_filters, 35, 10);

        assert_eq!(
            pagination,
            json!({
                "total": 35, "count": 10, "per_page": 10, "current_page": 2, "total_pages": 4,
                "links": {
                    "previous": "?namespace=gift&page=1&limit=10",
                    "current": "?namespace=gift&page=2&limit=10",
                    "next": "?namespace=gift&page=3&limit=10"
                }
            })
        );
    }

    #[test]
    fn cursors_are_the_base64_of_the_id_as_in_the_reference_example() {
        assert_eq!(cursor_of(7), "aWQ6Nw==");
        assert_eq!(parse_cursor("after", "aWQ6Nw==").unwrap(), 7);
        for broken in ["", "not base64!", "aWQ6", "eDo3"] {
            assert_eq!(
                parse_cursor("after", broken).unwrap_err().status,
                400,
                "{broken}"
            );
        }
    }

    #[test]
    fn walking_after_each_end_cursor_visits_every_row_once_in_either_direction() {
        let state = demo_state();
        let every: Vec<u64> = state.metafields.keys().copied().collect();
        for direction in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..every.len() {
                let mut pairs = vec![
                    ("limit", "4".to_owned()),
                    ("direction", direction.to_owned()),
                ];
                if let Some(cursor) = &after {
                    pairs.push(("after", cursor.clone()));
                }
                let query = MetafieldQuery::parse(
                    pairs.iter().map(|(name, value)| (*name, value.as_str())),
                )
                .unwrap();
                let page = query.select(&state, None, "client");
                seen.extend(ids(&page));
                let meta = query.meta(&page);
                match meta["cursor_pagination"]["links"]["next"].as_str() {
                    Some(_) => {
                        after = meta["cursor_pagination"]["end_cursor"]
                            .as_str()
                            .map(str::to_owned);
                    }
                    None => break,
                }
            }
            let mut expected = every.clone();
            if direction == "desc" {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{direction}");
        }
    }

    /// What a mirror's sync does: the changes since a high-water mark, 250 at a time, each
    /// page asked for by the previous page's `next` link.
    #[test]
    fn following_next_links_with_date_modified_min_and_limit_250_visits_every_change_once() {
        let state = build(
            &SeedSpec {
                extra_customers: 200,
                extra_orders_per_customer: 5,
                ..SeedSpec::default()
            },
            "client",
        );
        let mark = "2025-11-17T00:00:00+00:00";
        let since = OffsetDateTime::parse(mark, &Rfc3339).unwrap();
        let expected: Vec<u64> = state
            .metafields
            .values()
            .filter(|metafield| metafield.date_modified >= since && visible_to(metafield, "client"))
            .map(|metafield| metafield.id)
            .collect();
        assert!(expected.len() > 750, "{} changes", expected.len());
        let mut link = format!(
            "?date_modified%3Amin={}&limit=250",
            mark.replace('+', "%2B")
        );
        let (mut seen, mut sizes, mut totals) = (Vec::new(), Vec::new(), Vec::new());

        for _ in 0..expected.len() {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(link.trim_start_matches('?').as_bytes())
                    .into_owned()
                    .collect();
            let query =
                MetafieldQuery::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
            let page = query.select(&state, None, "client");
            seen.extend(ids(&page));
            sizes.push(page.rows.len());
            totals.push(page.total);
            let meta = query.meta(&page);
            match meta["cursor_pagination"]["links"]["next"].as_str() {
                Some(next) => link = next.to_owned(),
                None => break,
            }
            assert_eq!(
                link,
                format!(
                    "?date_modified%3Amin={}&limit=250&after={}",
                    mark.replace('+', "%2B").replace(':', "%3A"),
                    meta["cursor_pagination"]["end_cursor"]
                        .as_str()
                        .unwrap()
                        .replace('=', "%3D")
                )
            );
        }

        assert_eq!(seen, expected);
        let full_pages = expected.len() / 250;
        assert!(
            sizes[..full_pages].iter().all(|size| *size == 250),
            "{sizes:?}"
        );
        assert_eq!(sizes.iter().sum::<usize>(), expected.len());
        assert!(totals.iter().all(|total| *total == expected.len() as u64));
    }

    #[test]
    fn before_a_cursor_is_the_page_that_ends_just_before_it() {
        let state = demo_state();
        let fifth = *state.metafields.keys().nth(4).unwrap();
        let query =
            MetafieldQuery::parse([("limit", "2"), ("before", cursor_of(fifth).as_str())]).unwrap();

        let page = query.select(&state, None, "client");
        let meta = query.meta(&page);

        let expected: Vec<u64> = state.metafields.keys().copied().skip(2).take(2).collect();
        assert_eq!(ids(&page), expected);
        assert!(meta.get("pagination").is_none(), "{meta}");
        assert_eq!(meta["cursor_pagination"]["count"], 2);
        assert!(meta["cursor_pagination"]["links"]["previous"].is_string());
        assert!(meta["cursor_pagination"]["links"]["next"].is_string());
    }

    #[test]
    fn after_and_before_together_or_a_bad_cursor_are_refused() {
        let both = MetafieldQuery::parse([("after", "aWQ6Nw=="), ("before", "aWQ6Nw==")]);
        let bad = MetafieldQuery::parse([("after", "seven")]);

        assert_eq!(both.unwrap_err().status, 400);
        assert_eq!(bad.unwrap_err().status, 400);
    }

    #[test]
    fn dates_read_as_the_reference_writes_them() {
        let cases = [
            (
                "2019-09-04",
                datetime!(2019-09-04 00:00:00 UTC),
                datetime!(2019-09-04 23:59:59 UTC),
            ),
            (
                "2019-09-04T10:11:12",
                datetime!(2019-09-04 10:11:12 UTC),
                datetime!(2019-09-04 10:11:12 UTC),
            ),
            (
                "2019-09-04T10:11:12+02:00",
                datetime!(2019-09-04 08:11:12 UTC),
                datetime!(2019-09-04 08:11:12 UTC),
            ),
            (
                "1567591872",
                datetime!(2019-09-04 10:11:12 UTC),
                datetime!(2019-09-04 10:11:12 UTC),
            ),
        ];

        for (text, first, last) in cases {
            assert_eq!(
                parse_date("date_modified", text).unwrap(),
                (first, last),
                "{text}"
            );
        }
        for broken in ["yesterday", "2019-13-01", "", "-5"] {
            assert_eq!(parse_date("date_modified", broken).unwrap_err().status, 400);
        }
    }

    #[test]
    fn date_modified_bounds_are_inclusive_and_combine() {
        let state = demo_state();
        let mut modified: Vec<OffsetDateTime> = state
            .metafields
            .values()
            .map(|metafield| metafield.date_modified)
            .collect();
        modified.sort();
        modified.dedup();
        let (low, high) = (modified[1], modified[modified.len() - 2]);
        let text = |moment: OffsetDateTime| moment.format(&Rfc3339).unwrap();
        let query = MetafieldQuery::parse([
            ("date_modified:min", text(low).as_str()),
            ("date_modified:max", text(high).as_str()),
            ("limit", "250"),
        ])
        .unwrap();

        let page = query.select(&state, None, "client");

        let expected = state
            .metafields
            .values()
            .filter(|metafield| visible_to(metafield, "client"))
            .filter(|metafield| (low..=high).contains(&metafield.date_modified))
            .count();
        assert_eq!(page.total, expected as u64);
        assert!(expected > 0 && page.total < state.metafields.len() as u64);
        assert!(
            page.rows
                .iter()
                .all(|metafield| (low..=high).contains(&metafield.date_modified))
        );
        let edges = MetafieldQuery::parse([
            ("date_modified:min", text(low).as_str()),
            ("date_modified:max", text(low).as_str()),
        ])
        .unwrap();
        let at_low = edges.select(&state, None, "client");
        assert!(at_low.total > 0, "the bounds include their own second");
        assert!(
            at_low
                .rows
                .iter()
                .all(|metafield| metafield.date_modified == low)
        );
    }

    #[test]
    fn include_fields_names_only_documented_fields() {
        let query = MetafieldQuery::parse([("include_fields", "key,id, value")]).unwrap();
        let unknown = MetafieldQuery::parse([("include_fields", "key,secret")]);

        assert_eq!(
            query.include_fields,
            Some(vec!["key".to_owned(), "value".to_owned()])
        );
        assert_eq!(unknown.unwrap_err().status, 400);
    }
}
