//! When a page walk stops. The v2 API sends a bare array with no paging metadata, so its
//! walk ends at the first short page; v3 collections say how many pages there are in
//! `meta.pagination`. Both walks are bounded so that an upstream which ignores `page`
//! cannot keep the client walking for ever.

use crate::management::wire::WirePagination;

/// The page size asked for: the largest both APIs allow.
pub const PAGE_LIMIT: u32 = 250;

/// The page after `page` of a v2 list, or `None` when `received` items make a short page.
pub fn next_v2_page(page: u32, received: usize) -> Option<u32> {
    (received >= PAGE_LIMIT as usize).then(|| page.saturating_add(1))
}

/// The page after `page` of a v3 collection, or `None` when `meta.pagination` says this
/// was the last page (or is missing, or the page was empty).
pub fn next_v3_page(
    page: u32,
    received: usize,
    pagination: Option<&WirePagination>,
) -> Option<u32> {
    let pagination = pagination?;
    let current = pagination.current_page.unwrap_or(u64::from(page));
    let total = pagination.total_pages?;
    (received > 0 && current < total).then(|| page.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_walk_stops_at_a_short_page() {
        assert_eq!(next_v2_page(1, 250), Some(2));
        assert_eq!(next_v2_page(2, 249), None);
        assert_eq!(next_v2_page(3, 0), None);
    }

    #[test]
    fn v3_walk_follows_meta_pagination() {
        let pagination = |current, total| WirePagination {
            current_page: current,
            total_pages: total,
        };
        let cases = [
            (
                1,
                250,
                Some(pagination(Some(1), Some(3))),
                Some(2),
                "more pages",
            ),
            (3, 10, Some(pagination(Some(3), Some(3))), None, "last page"),
            (
                2,
                250,
                Some(pagination(None, Some(3))),
                Some(3),
                "no current_page",
            ),
            (
                1,
                250,
                Some(pagination(Some(1), None)),
                None,
                "no total_pages",
            ),
            (1, 0, Some(pagination(Some(1), Some(3))), None, "empty page"),
            (1, 250, None, None, "no meta"),
        ];
        for (page, received, meta, expected, description) in cases {
            assert_eq!(
                next_v3_page(page, received, meta.as_ref()),
                expected,
                "case: {description}"
            );
        }
    }
}
