//! Query parsing, filtering, sorting and paging for the sandbox's list endpoints: v2
//! `GET /orders` and `/orders/count` (with their id, customer, status, date and archive
//! filters) and `GET /v3/hooks`, and the v3 `meta.pagination` object
//! and parameter checks the other collections (`metafield_query`) share.
//! Pure functions over `StoreState`, so the HTTP layer only maps their errors to BigCommerce's
//! error bodies.

use std::cmp::Ordering;

use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc2822};

use crate::data::{Hook, Order, StoreState};

/// The most rows either API returns per page.
pub(crate) const MAX_LIMIT: u64 = 250;
pub(crate) const DEFAULT_LIMIT: u64 = 50;

/// Why a query was refused, with the status BigCommerce would answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub status: u16,
    pub message: String,
}

/// A parsed v2 `GET /orders` (or `/orders/count`) query.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OrderQuery {
    pub customer_id: Option<u64>,
    pub status_id: Option<u8>,
    pub min_id: Option<u64>,
    pub max_id: Option<u64>,
    /// `min_date_created` and `max_date_created`, both inclusive.
    pub created: DateRange,
    /// `min_date_modified` and `max_date_modified`, both inclusive.
    pub modified: DateRange,
    /// `is_deleted=true`: only archived orders; otherwise only the others, as BigCommerce
    /// leaves archived orders out of its lists.
    pub archived: bool,
    pub page: u64,
    pub limit: u64,
    pub sort: OrderSort,
    pub descending: bool,
}

/// Inclusive bounds on one of an order's dates, either side open when `None`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DateRange {
    pub min: Option<OffsetDateTime>,
    pub max: Option<OffsetDateTime>,
}

impl DateRange {
    fn admits(&self, moment: OffsetDateTime) -> bool {
        self.min.is_none_or(|min| moment >= min) && self.max.is_none_or(|max| moment <= max)
    }
}

/// The v2 `sort` fields the sandbox supports (orders.v2.oas2.yml, `sort` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderSort {
    Id,
    CustomerId,
    DateCreated,
    DateModified,
    StatusId,
    ChannelId,
    ExternalId,
}

/// A parsed `GET /v3/hooks` query (webhooks.v3.yml, `getWebhooks` parameters).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HookQuery {
    pub scope: Option<String>,
    pub destination: Option<String>,
    pub is_active: Option<bool>,
    pub page: u64,
    pub limit: u64,
    /// The filters to repeat in pagination links, already encoded.
    pub link_filters: String,
}

impl OrderQuery {
    /// Parses the query string pairs of v2 `GET /orders`; unknown parameters are ignored.
    pub(crate) fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, QueryError> {
        let mut query = OrderQuery {
            customer_id: None,
            status_id: None,
            min_id: None,
            max_id: None,
            created: DateRange::default(),
            modified: DateRange::default(),
            archived: false,
            page: 1,
            limit: DEFAULT_LIMIT,
            sort: OrderSort::Id,
            descending: false,
        };
        for (name, value) in pairs {
            match name {
                "customer_id" => query.customer_id = Some(number(name, value)?),
                "status_id" => query.status_id = Some(number(name, value)?),
                "min_id" => query.min_id = Some(number(name, value)?),
                "max_id" => query.max_id = Some(number(name, value)?),
                "min_date_created" => query.created.min = Some(v2_date(name, value)?),
                "max_date_created" => query.created.max = Some(v2_date(name, value)?),
                "min_date_modified" => query.modified.min = Some(v2_date(name, value)?),
                "max_date_modified" => query.modified.max = Some(v2_date(name, value)?),
                "is_deleted" => query.archived = number(name, value)?,
                "page" => query.page = positive(name, value)?,
                "limit" => query.limit = positive(name, value)?,
                "sort" => (query.sort, query.descending) = order_sort(value)?,
                _ => {}
            }
        }
        if query.limit > MAX_LIMIT {
            return Err(QueryError {
                status: 413,
                message: format!("The limit must be {MAX_LIMIT} or less."),
            });
        }
        Ok(query)
    }

    /// Every order matching the filters, sorted; paging is left to the caller.
    pub(crate) fn select<'a>(&self, state: &'a StoreState) -> Vec<&'a Order> {
        let candidates: Box<dyn Iterator<Item = &'a Order>> = match self.customer_id {
            // The per-customer index keeps a customer's listing independent of the store's size.
            Some(customer_id) => Box::new(
                state
                    .orders_by_customer
                    .get(&customer_id)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| state.orders.get(id)),
            ),
            None => Box::new(
                state
                    .orders
                    .range(self.min_id.unwrap_or(0)..=self.max_id.unwrap_or(u64::MAX))
                    .map(|(_, order)| order),
            ),
        };
        let mut orders: Vec<&Order> = candidates
            .filter(|order| {
                self.status_id
                    .is_none_or(|status| order.status_id == status)
            })
            .filter(|order| self.min_id.is_none_or(|min| order.id >= min))
            .filter(|order| self.max_id.is_none_or(|max| order.id <= max))
            .filter(|order| order.is_deleted == self.archived)
            .filter(|order| self.created.admits(order.date_created))
            .filter(|order| self.modified.admits(order.date_modified))
            .collect();
        // Candidates arrive in ascending id order and the sort is stable, so ties stay by id.
        orders.sort_by(|left, right| {
            let ordering = self.compare(left, right);
            if self.descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
        orders
    }

    /// The requested page of `orders`.
    pub(crate) fn page<'a>(&self, orders: Vec<&'a Order>) -> Vec<&'a Order> {
        let skip = (self.page - 1).saturating_mul(self.limit);
        orders
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect()
    }

    fn compare(&self, left: &Order, right: &Order) -> Ordering {
        match self.sort {
            OrderSort::Id => left.id.cmp(&right.id),
            OrderSort::CustomerId => left.customer_id.cmp(&right.customer_id),
            OrderSort::DateCreated => left.date_created.cmp(&right.date_created),
            OrderSort::DateModified => left.date_modified.cmp(&right.date_modified),
            OrderSort::StatusId => left.status_id.cmp(&right.status_id),
            OrderSort::ChannelId => left.channel_id.cmp(&right.channel_id),
            // No sandbox order has an external id.
            OrderSort::ExternalId => Ordering::Equal,
        }
    }
}

impl HookQuery {
    /// Parses a `GET /v3/hooks` query; unknown parameters are ignored.
    pub(crate) fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, QueryError> {
        let mut query = HookQuery {
            scope: None,
            destination: None,
            is_active: None,
            page: 1,
            limit: DEFAULT_LIMIT,
            link_filters: String::new(),
        };
        let mut filters = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            match name {
                "scope" => query.scope = Some(value.to_owned()),
                "destination" => query.destination = Some(value.to_owned()),
                "is_active" => query.is_active = Some(number::<bool>(name, value)?),
                "page" => query.page = positive(name, value)?,
                "limit" => query.limit = positive(name, value)?.min(MAX_LIMIT),
                _ => {}
            }
            if matches!(name, "scope" | "destination" | "is_active") {
                filters.append_pair(name, value);
            }
        }
        query.link_filters = filters.finish();
        Ok(query)
    }

    /// The requested page of the hooks that pass the filters, by ascending id, and their total.
    pub(crate) fn select<'a>(&self, state: &'a StoreState) -> (Vec<&'a Hook>, u64) {
        let matching: Vec<&Hook> = state
            .hooks
            .values()
            .filter(|hook| self.scope.as_ref().is_none_or(|scope| &hook.scope == scope))
            .filter(|hook| {
                self.destination
                    .as_ref()
                    .is_none_or(|destination| &hook.destination == destination)
            })
            .filter(|hook| self.is_active.is_none_or(|active| hook.is_active == active))
            .collect();
        let total = matching.len() as u64;
        let skip =
            usize::try_from((self.page - 1).saturating_mul(self.limit)).unwrap_or(usize::MAX);
        let rows = matching
            .into_iter()
            .skip(skip)
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect();
        (rows, total)
    }

    /// The `meta.pagination` object for a page of `count` hooks out of `total`.
    pub(crate) fn pagination(&self, total: u64, count: usize) -> serde_json::Value {
        pagination(self.page, self.limit, &self.link_filters, total, count)
    }
}

/// A v3 `meta.pagination` object (orders.v3.yml and webhooks.v3.yml, `Pagination`) for page
/// `page` of `limit` rows, holding `count` of `total`; links repeat `link_filters`.
pub(crate) fn pagination(
    page: u64,
    limit: u64,
    link_filters: &str,
    total: u64,
    count: usize,
) -> serde_json::Value {
    let total_pages = total.div_ceil(limit);
    let link = |page: u64| {
        let separator = if link_filters.is_empty() { "" } else { "&" };
        format!("?{link_filters}{separator}page={page}&limit={limit}")
    };
    let mut links = serde_json::Map::new();
    if page > 1 {
        links.insert("previous".to_owned(), link(page - 1).into());
    }
    links.insert("current".to_owned(), link(page).into());
    if page < total_pages {
        links.insert("next".to_owned(), link(page + 1).into());
    }
    serde_json::json!({
        "total": total,
        "count": count,
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    })
}

pub(crate) fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, QueryError> {
    value.parse().map_err(|_| invalid(name))
}

pub(crate) fn positive(name: &str, value: &str) -> Result<u64, QueryError> {
    match number::<u64>(name, value)? {
        0 => Err(invalid(name)),
        parsed => Ok(parsed),
    }
}

/// A v2 date filter's value, in RFC 2822 (`Thu, 20 Apr 2017 11:32:00 -0400`) or ISO 8601 with
/// an offset (`2017-04-20T11:32:00.000-04:00`, `2017-04-20T11:32:00Z`), as orders.v2.oas2.yml
/// documents `min_date_created` and its siblings.
fn v2_date(name: &str, value: &str) -> Result<OffsetDateTime, QueryError> {
    OffsetDateTime::parse(value, &Rfc2822)
        .or_else(|_| OffsetDateTime::parse(value, &Iso8601::DEFAULT))
        .map_err(|_| invalid(name))
}

fn order_sort(value: &str) -> Result<(OrderSort, bool), QueryError> {
    let (field, direction) = value.split_once(':').unwrap_or((value, "asc"));
    let sort = match field {
        "id" => OrderSort::Id,
        "customer_id" => OrderSort::CustomerId,
        "date_created" => OrderSort::DateCreated,
        "date_modified" => OrderSort::DateModified,
        "status_id" => OrderSort::StatusId,
        "channel_id" => OrderSort::ChannelId,
        "external_id" => OrderSort::ExternalId,
        _ => return Err(invalid("sort")),
    };
    match direction {
        "asc" => Ok((sort, false)),
        "desc" => Ok((sort, true)),
        _ => Err(invalid("sort")),
    }
}

pub(crate) fn invalid(name: &str) -> QueryError {
    QueryError {
        status: 400,
        message: format!("The field '{name}' is invalid."),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::seed::{SeedSpec, build};

    fn demo_state() -> StoreState {
        build(&SeedSpec::default(), "client")
    }

    fn ids(orders: &[&Order]) -> Vec<u64> {
        orders.iter().map(|order| order.id).collect()
    }

    #[test]
    fn order_query_defaults_to_first_page_of_fifty_by_ascending_id() {
        let query = OrderQuery::parse([]).unwrap();

        assert_eq!((query.page, query.limit), (1, 50));
        assert_eq!((query.sort, query.descending), (OrderSort::Id, false));
    }

    #[test]
    fn order_query_refuses_a_limit_over_250_with_413() {
        let error = OrderQuery::parse([("limit", "251")]).unwrap_err();

        assert_eq!(error.status, 413);
    }

    #[test]
    fn order_query_refuses_bad_values_with_400() {
        let cases = [
            ("page", "0", "page zero"),
            ("page", "two", "non-numeric page"),
            ("limit", "0", "limit zero"),
            ("customer_id", "-1", "negative customer"),
            ("sort", "price:asc", "unknown sort field"),
            ("sort", "id:up", "unknown sort direction"),
        ];

        for (name, value, description) in cases {
            let error = OrderQuery::parse([(name, value)]).unwrap_err();
            assert_eq!(error.status, 400, "{description}");
        }
    }

    #[test]
    fn customer_filter_returns_only_that_customers_orders() {
        let state = demo_state();
        let query = OrderQuery::parse([("customer_id", "1")]).unwrap();

        let orders = query.select(&state);

        assert_eq!(orders.len(), 4);
        assert!(orders.iter().all(|order| order.customer_id == 1));
    }

    #[test]
    fn no_customer_filter_includes_guest_orders() {
        let state = demo_state();
        let query = OrderQuery::parse([("limit", "250")]).unwrap();

        let orders = query.select(&state);

        assert_eq!(orders.len(), state.orders.len());
        assert!(orders.iter().any(|order| order.customer_id == 0));
    }

    #[test]
    fn date_created_descending_puts_the_newest_first() {
        let state = demo_state();
        let query =
            OrderQuery::parse([("customer_id", "1"), ("sort", "date_created:desc")]).unwrap();

        let orders = query.select(&state);

        let dates: Vec<_> = orders.iter().map(|order| order.date_created).collect();
        assert!(dates.windows(2).all(|pair| pair[0] >= pair[1]));
    }

    #[test]
    fn paging_splits_260_orders_into_250_and_10() {
        let state = demo_state();
        let first = OrderQuery::parse([("customer_id", "4"), ("limit", "250")]).unwrap();
        let second =
            OrderQuery::parse([("customer_id", "4"), ("limit", "250"), ("page", "2")]).unwrap();
        let third =
            OrderQuery::parse([("customer_id", "4"), ("limit", "250"), ("page", "3")]).unwrap();

        let pages = [&first, &second, &third].map(|query| query.page(query.select(&state)).len());

        assert_eq!(pages, [250, 10, 0]);
    }

    #[test]
    fn id_range_and_status_filters_combine() {
        let state = demo_state();
        let query =
            OrderQuery::parse([("min_id", "100"), ("max_id", "150"), ("status_id", "10")]).unwrap();

        let orders = query.select(&state);

        assert!(!orders.is_empty());
        assert!(
            orders
                .iter()
                .all(|order| (100..=150).contains(&order.id) && order.status_id == 10)
        );
        assert_eq!(ids(&orders), {
            let mut sorted = ids(&orders);
            sorted.sort_unstable();
            sorted
        });
    }

    #[test]
    fn v2_dates_read_in_rfc_2822_and_iso_8601_forms() {
        let expected = time::macros::datetime!(2017-04-20 15:32:00 UTC);
        let same_moment = [
            "Thu, 20 Apr 2017 11:32:00 -0400",
            "2017-04-20T11:32:00-04:00",
            "2017-04-20T11:32:00.000-04:00",
            "2017-04-20T15:32:00Z",
            "Thu, 20 Apr 2017 15:32:00 +0000",
        ];

        for value in same_moment {
            let query = OrderQuery::parse([("min_date_modified", value)]).unwrap();
            assert_eq!(
                query.modified,
                DateRange {
                    min: Some(expected),
                    max: None
                },
                "{value}"
            );
        }
    }

    #[test]
    fn bad_dates_and_a_non_boolean_is_deleted_are_refused_naming_the_field() {
        let cases = [
            ("min_date_modified", "yesterday"),
            ("max_date_modified", "2017-04-20"),
            ("min_date_created", "2017-04-20T11:32:00"),
            ("max_date_created", "1492702320"),
            ("is_deleted", "1"),
        ];

        for (name, value) in cases {
            let error = OrderQuery::parse([(name, value)]).unwrap_err();
            assert_eq!(
                error,
                QueryError {
                    status: 400,
                    message: format!("The field '{name}' is invalid."),
                },
                "{name}={value}"
            );
        }
    }

    #[test]
    fn date_bounds_are_inclusive_on_both_sides_and_combine_with_other_filters() {
        let state = demo_state();
        let alice = OrderQuery::parse([("customer_id", "1")])
            .unwrap()
            .select(&state);
        let modified: Vec<_> = alice.iter().map(|order| order.date_modified).collect();
        let (low, high) = (modified[1], modified[2]);
        let rfc = crate::wire::rfc2822;

        let between = OrderQuery::parse([
            ("customer_id", "1"),
            ("min_date_modified", rfc(low).as_str()),
            ("max_date_modified", rfc(high).as_str()),
        ])
        .unwrap()
        .select(&state);
        let created_from = OrderQuery::parse([
            ("customer_id", "1"),
            ("min_date_created", rfc(alice[3].date_created).as_str()),
        ])
        .unwrap()
        .select(&state);

        assert_eq!(ids(&alice), [321, 364, 367, 369]);
        assert_eq!(ids(&between), [364, 367]);
        assert_eq!(ids(&created_from), [369]);
    }

    #[test]
    fn archived_orders_are_listed_only_when_asked_for() {
        let mut state = demo_state();
        let now = time::macros::datetime!(2025-12-01 00:00:00 UTC);
        assert_eq!(state.archive_order(364, now), Some(true));
        let query = |pairs: &[(&str, &str)]| {
            ids(&OrderQuery::parse(pairs.iter().copied())
                .unwrap()
                .select(&state))
        };

        let listed = query(&[("customer_id", "1")]);
        let archived = query(&[("customer_id", "1"), ("is_deleted", "true")]);
        let not_archived = query(&[("customer_id", "1"), ("is_deleted", "false")]);
        let all_archived = query(&[("is_deleted", "true")]);
        let all = query(&[("limit", "250"), ("page", "2")]);

        assert_eq!(listed, [321, 367, 369]);
        assert_eq!(archived, [364]);
        assert_eq!(not_archived, listed);
        assert_eq!(all_archived, [364]);
        assert!(!all.contains(&364));
        assert_eq!(
            OrderQuery::parse([]).unwrap().select(&state).len(),
            state.orders.len() - 1
        );
    }

    #[test]
    fn paging_by_date_modified_ascending_visits_every_order_once_in_date_order() {
        let state = demo_state();
        let mut seen = Vec::new();
        for page in 1.. {
            let page = page.to_string();
            let query = OrderQuery::parse([
                ("sort", "date_modified:asc"),
                ("limit", "50"),
                ("page", page.as_str()),
            ])
            .unwrap();
            let rows = query.page(query.select(&state));
            if rows.is_empty() {
                break;
            }
            seen.extend(rows);
        }

        let dates: Vec<_> = seen.iter().map(|order| order.date_modified).collect();
        assert!(dates.windows(2).all(|pair| pair[0] <= pair[1]));
        let mut visited = ids(&seen);
        visited.sort_unstable();
        assert_eq!(visited, state.orders.keys().copied().collect::<Vec<_>>());
    }

    #[test]
    fn hook_query_reads_filters_and_refuses_a_non_boolean_is_active() {
        let query = HookQuery::parse([
            ("scope", "store/order/*"),
            ("is_active", "false"),
            ("limit", "500"),
        ])
        .unwrap();
        let error = HookQuery::parse([("is_active", "maybe")]).unwrap_err();

        assert_eq!(query.scope.as_deref(), Some("store/order/*"));
        assert_eq!(query.is_active, Some(false));
        assert_eq!(query.limit, 250);
        assert_eq!(
            query.link_filters,
            "scope=store%2Forder%2F*&is_active=false"
        );
        assert_eq!(error.status, 400);
    }
}
