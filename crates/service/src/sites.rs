//! App mode's storefront origins: each served store's sites (`GET /v3/sites`) become its
//! allowed CORS origins in `origins`, with no setting needed. A background task reads the
//! sites of a store soon after it is served (install, start-up), again every
//! `SITES_REFRESH_INTERVAL`, and at once for a store whose `store/channel/*` webhook
//! arrived; a store that left is forgotten. A failed read keeps what the store had. Each
//! site's canonical URL also tells where its channel's GraphQL Storefront API answers, and
//! each site's origins tell which channel a browser's request comes from (the store's
//! channel-orders setting).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::domain::{StoreHash, StoreKey};
use crate::origins::{AllowedOrigins, StoreSites, origin_of};
use crate::stores::{Store, StoreRegistry};

/// How often the task looks for stores it has not read yet (cheap: memory only).
const NEW_STORES_POLL: Duration = Duration::from_secs(2);
/// The most refresh requests waiting (webhooks); more are dropped, the schedule catches up.
const QUEUE: usize = 256;

/// Asks the task to read a store's sites again now (a `store/channel/*` webhook).
#[derive(Clone)]
pub struct SitesRefresh {
    sender: mpsc::Sender<StoreHash>,
}

impl SitesRefresh {
    /// Reads `store`'s sites again soon; never waits.
    pub fn refresh(&self, store: StoreHash) {
        if self.sender.try_send(store).is_err() {
            tracing::debug!("the sites refresh queue is full; the schedule will catch up");
        }
    }
}

/// Starts the task on the current runtime; it ends when the runtime does.
pub fn start(
    stores: Arc<StoreRegistry>,
    origins: Arc<AllowedOrigins>,
    interval: Duration,
) -> SitesRefresh {
    let (sender, receiver) = mpsc::channel(QUEUE);
    tokio::spawn(run(stores, origins, interval, receiver));
    SitesRefresh { sender }
}

async fn run(
    stores: Arc<StoreRegistry>,
    origins: Arc<AllowedOrigins>,
    interval: Duration,
    mut requests: mpsc::Receiver<StoreHash>,
) {
    // When each served store (this installation of it) was last read.
    let mut read_at: HashMap<StoreHash, (StoreKey, Instant)> = HashMap::new();
    let mut poll = tokio::time::interval(NEW_STORES_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let asked = tokio::select! {
            _ = poll.tick() => None,
            asked = requests.recv() => match asked {
                Some(store) => Some(store),
                None => return,
            },
        };
        let served = stores.all();
        // Stores that left: forget their origins.
        read_at.retain(|hash, _| {
            let still = served.iter().any(|store| &store.hash == hash);
            if !still {
                origins.set_store(hash, StoreSites::default());
            }
            still
        });
        for store in served {
            let due = match read_at.get(&store.hash) {
                None => true,
                Some((key, _)) if *key != store.scope.key => true,
                Some((_, at)) => at.elapsed() >= interval || asked.as_ref() == Some(&store.hash),
            };
            if due {
                read_at.insert(store.hash.clone(), (store.scope.key, Instant::now()));
                refresh(&store, &origins).await;
            }
        }
    }
}

/// Reads one store's sites into `origins`; on failure keeps what it had.
async fn refresh(store: &Arc<Store>, origins: &AllowedOrigins) {
    match store.management().list_sites().await {
        Ok(sites) => {
            store.management().learn_graphql_sites(&sites);
            let mut found: Vec<String> = sites
                .iter()
                .flat_map(|site| site.urls.iter())
                .filter_map(|url| origin_of(url))
                .collect();
            found.sort();
            found.dedup();
            tracing::debug!(store = %store.hash.as_str(), origins = found.len(), "read the store's sites");
            let sites = StoreSites {
                origins: found,
                channel_of: site_channels(&sites),
                channels: sites.iter().map(|site| site.channel_id).collect(),
            };
            origins.set_store(&store.hash, sites);
        }
        Err(error) => {
            tracing::warn!(store = %store.hash.as_str(), error = %error, "cannot read the store's sites; keeping its allowed origins as they were");
        }
    }
}

/// Each origin of the sites, with its site's channel. An origin two channels' sites share
/// names neither: the request's channel cannot be told from it.
fn site_channels(sites: &[crate::management::sites::Site]) -> HashMap<String, u64> {
    let mut channels: HashMap<String, Option<u64>> = HashMap::new();
    for site in sites {
        for origin in site.urls.iter().filter_map(|url| origin_of(url)) {
            channels
                .entry(origin)
                .and_modify(|channel| {
                    if *channel != Some(site.channel_id) {
                        *channel = None;
                    }
                })
                .or_insert(Some(site.channel_id));
        }
    }
    channels
        .into_iter()
        .filter_map(|(origin, channel)| Some((origin, channel?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::management::sites::Site;

    fn site(channel_id: u64, urls: &[&str]) -> Site {
        Site {
            channel_id,
            urls: urls.iter().map(|url| (*url).to_owned()).collect(),
            canonical: None,
        }
    }

    #[test]
    fn each_site_origin_names_its_channel_unless_two_channels_share_it() {
        let channels = site_channels(&[
            site(
                1,
                &["https://www.shop.example/", "https://checkout.example/"],
            ),
            site(
                2,
                &[
                    "https://Kids.shop.example:443/path",
                    "https://checkout.example",
                ],
            ),
            site(2, &["ftp://nothing.example"]),
        ]);

        let mut found: Vec<(&str, u64)> = channels
            .iter()
            .map(|(origin, channel)| (origin.as_str(), *channel))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("https://kids.shop.example", 2),
                ("https://www.shop.example", 1)
            ]
        );
    }
}
