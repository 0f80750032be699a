//! The store's sites (`GET /v3/sites`): each channel's storefront URLs, whose origins are
//! the store's allowed CORS origins in app mode (see `origins` and `sites`).

use serde::Deserialize;
use tokio::time::Instant;

use crate::management::ManagementClient;
use crate::management::error::{ManagementError, Operation};
use crate::management::pagination::{PAGE_LIMIT, next_v3_page};
use crate::management::wire::WirePagination;

/// The most pages of sites read (a store has one site per channel).
const SITES_MAX_PAGES: u32 = 10;

/// One site: its channel and every URL it answers on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub channel_id: u64,
    /// The site's `url` and each of its `urls` (primary, canonical, checkout).
    pub urls: Vec<String>,
    /// Its `canonical` URL (`https://store-{hash}-{channel}.mybigcommerce.com`), where the
    /// channel's GraphQL Storefront API answers.
    pub canonical: Option<String>,
}

#[derive(Deserialize)]
struct WireSitePage {
    data: Vec<WireSite>,
    #[serde(default)]
    meta: Option<WireSiteMeta>,
}

#[derive(Deserialize)]
struct WireSiteMeta {
    #[serde(default)]
    pagination: Option<WirePagination>,
}

#[derive(Deserialize)]
struct WireSite {
    #[serde(default)]
    channel_id: u64,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    urls: Vec<WireSiteUrl>,
}

#[derive(Deserialize)]
struct WireSiteUrl {
    url: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

impl ManagementClient {
    /// Every site of the store.
    pub async fn list_sites(&self) -> Result<Vec<Site>, ManagementError> {
        let operation = Operation::ListSites;
        let deadline = Instant::now() + self.api.retry.budget;
        let mut sites = Vec::new();
        let mut page = 1;
        for _ in 0..SITES_MAX_PAGES {
            let mut url = self.url("v3/sites");
            url.query_pairs_mut()
                .append_pair("limit", &PAGE_LIMIT.to_string())
                .append_pair("page", &page.to_string());
            let answer = self.get(url, operation, deadline).await?;
            if answer.body.is_empty() {
                break;
            }
            let wire: WireSitePage = super::decode(&answer.body.bytes, operation)?;
            let received = wire.data.len();
            let pagination = wire.meta.and_then(|meta| meta.pagination);
            sites.extend(wire.data.into_iter().map(|site| {
                Site {
                    channel_id: site.channel_id,
                    canonical: site
                        .urls
                        .iter()
                        .find(|url| url.kind.as_deref() == Some("canonical"))
                        .map(|url| url.url.clone()),
                    urls: site
                        .url
                        .into_iter()
                        .chain(site.urls.into_iter().map(|url| url.url))
                        .collect(),
                }
            }));
            match next_v3_page(page, received, pagination.as_ref()) {
                Some(next) => page = next,
                None => break,
            }
        }
        Ok(sites)
    }
}
