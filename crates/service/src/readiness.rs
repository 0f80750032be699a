//! Readiness answers for this replica: it is ready when it can serve what it holds. The
//! configuration was validated and the store registry loaded before the server started, so
//! what is left to ask is whether the database answers (asked at most once per interval).
//! BigCommerce's state is reported beside the verdict, never as it: during an outage cached
//! and stale-if-error answers still flow, and a load balancer that dropped every replica at
//! once would serve nobody. The upstream state comes from the Management API's latest answer
//! to anyone (so a busy service spends nothing on probes); in single-store mode, with no
//! recent answer, from a cheap probe made at most once per interval, whoever asks and
//! however often. In app mode there is no one store to probe: the latest contact of any
//! store says it. No HTTP here.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::database::Database;
use crate::management::ManagementClient;
use crate::management::contact::{Contact, ContactOutcome};
use crate::management::error::ManagementError;
use crate::stores::StoreRegistry;

/// Decides readiness for one application.
pub struct Readiness {
    database: Database,
    upstream: Upstream,
    interval: Duration,
    /// The latest database check; the lock also makes concurrent checks share one.
    last_ping: Mutex<Option<(Instant, bool)>>,
    /// The latest upstream probe's finding (single-store mode); the lock makes concurrent
    /// checks share one probe.
    last_probe: Mutex<Option<Finding>>,
}

/// Where BigCommerce's state is read from.
enum Upstream {
    /// Single-store mode: the store's Management API, probed when nothing recent is known.
    Store(Box<ManagementClient>),
    /// App mode: the latest contact of any served store.
    Stores(Arc<StoreRegistry>),
}

/// Why this replica is not ready; its text is safe to show to anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotReadyReason {
    #[error("the database cannot be reached")]
    DatabaseUnavailable,
}

/// Not ready, why, and when asking again may give another answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NotReady {
    pub reason: NotReadyReason,
    pub retry_after: Duration,
}

/// What is wrong with BigCommerce as this replica last saw it; its text is safe to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamTrouble {
    #[error("the Management API refused the access token ({0})")]
    Refused(u16),
    #[error("the Management API could not be reached")]
    Unreachable,
    #[error("the Management API did not answer in time")]
    TimedOut,
    #[error("the Management API is failing ({0})")]
    Failing(u16),
    #[error("the Management API does not know the configured store (404)")]
    UnknownStore,
    #[error("the Management API refused the readiness check ({0})")]
    Rejected(u16),
}

/// BigCommerce as this replica last saw it: the readiness body's `upstream`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpstreamState {
    /// `up` (it answered), `refused` (it answered, refusing the token), `down` (no answer,
    /// a timeout or a `5xx`) or `unknown` (no contact yet, or none recent).
    pub status: &'static str,
    /// What was wrong, when something was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A ready replica's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ready {
    /// Always `ready`.
    pub status: &'static str,
    pub upstream: UpstreamState,
}

/// A verdict on the upstream and when it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Finding {
    at: Instant,
    verdict: Result<(), UpstreamTrouble>,
}

impl Readiness {
    /// Readiness of single-store mode: its database answers; the upstream state from
    /// `management`, probing at most once per `interval`.
    pub fn new(database: Database, management: ManagementClient, interval: Duration) -> Self {
        Self::with(database, Upstream::Store(Box::new(management)), interval)
    }

    /// Readiness of an app: its database answers, asked at most once per `interval`; the
    /// upstream state from the latest contact of any of `stores`.
    pub fn for_app(database: Database, stores: Arc<StoreRegistry>, interval: Duration) -> Self {
        Self::with(database, Upstream::Stores(stores), interval)
    }

    fn with(database: Database, upstream: Upstream, interval: Duration) -> Self {
        Self {
            database,
            upstream,
            interval,
            last_ping: Mutex::new(None),
            last_probe: Mutex::new(None),
        }
    }

    /// Ready (with BigCommerce's state), or why this replica is not.
    pub async fn check(&self) -> Result<Ready, NotReady> {
        self.database_answers().await?;
        Ok(Ready {
            status: "ready",
            upstream: self.upstream_state().await,
        })
    }

    /// Whether the database answered within the interval, asking it when not known.
    async fn database_answers(&self) -> Result<(), NotReady> {
        let mut last_ping = self.last_ping.lock().await;
        let (at, answered) = match *last_ping {
            Some((at, answered)) if at.elapsed() < self.interval => (at, answered),
            _ => {
                let at = Instant::now();
                let answered = self.database.ping().await.is_ok();
                if !answered {
                    tracing::warn!("readiness: the database cannot be reached: not ready");
                }
                *last_ping = Some((at, answered));
                (at, answered)
            }
        };
        if answered {
            return Ok(());
        }
        Err(NotReady {
            reason: NotReadyReason::DatabaseUnavailable,
            retry_after: self.interval.saturating_sub(at.elapsed()),
        })
    }

    /// BigCommerce's state: the latest finding younger than the interval (an answer to
    /// normal traffic or a probe); in single-store mode a probe when there is none.
    async fn upstream_state(&self) -> UpstreamState {
        let finding = match &self.upstream {
            Upstream::Stores(stores) => self.recent(latest_contact(stores), None),
            Upstream::Store(management) => match self.recent(management.last_contact(), None) {
                Some(finding) => Some(finding),
                None => Some(self.probe(management).await),
            },
        };
        match finding {
            None => UpstreamState {
                status: "unknown",
                detail: None,
            },
            Some(Finding {
                verdict: Ok(()), ..
            }) => UpstreamState {
                status: "up",
                detail: None,
            },
            Some(Finding {
                verdict: Err(trouble),
                ..
            }) => UpstreamState {
                status: trouble.status(),
                detail: Some(trouble.to_string()),
            },
        }
    }

    async fn probe(&self, management: &ManagementClient) -> Finding {
        let mut last_probe = self.last_probe.lock().await;
        // Another check may have probed, or traffic reached the store, while this one waited.
        if let Some(finding) = self.recent(management.last_contact(), *last_probe) {
            return finding;
        }
        let started = Instant::now();
        let probed = management.probe().await;
        let finding = Finding {
            at: started,
            verdict: verdict_of_probe(management, probed, started),
        };
        if let Err(trouble) = finding.verdict {
            tracing::warn!(reason = %trouble, "readiness probe: the Management API is not answering as it should");
        }
        *last_probe = Some(finding);
        finding
    }

    /// The latest of `contact` and `probe`, if younger than the interval.
    fn recent(&self, contact: Option<Contact>, probe: Option<Finding>) -> Option<Finding> {
        [contact.map(Finding::from), probe]
            .into_iter()
            .flatten()
            .filter(|finding| finding.at.elapsed() < self.interval)
            .max_by_key(|finding| finding.at)
    }
}

impl UpstreamTrouble {
    /// The readiness body's word for it: BigCommerce answered (refusing) or did not.
    fn status(self) -> &'static str {
        match self {
            UpstreamTrouble::Refused(_)
            | UpstreamTrouble::UnknownStore
            | UpstreamTrouble::Rejected(_) => "refused",
            UpstreamTrouble::Unreachable
            | UpstreamTrouble::TimedOut
            | UpstreamTrouble::Failing(_) => "down",
        }
    }
}

/// The latest contact of any served store.
fn latest_contact(stores: &StoreRegistry) -> Option<Contact> {
    stores
        .all()
        .iter()
        .filter_map(|store| store.management().last_contact())
        .max_by_key(|contact| contact.at)
}

/// What a probe's result says. A failure without a status of its own (5xx or no answer) is
/// read from the contact the probe just recorded.
fn verdict_of_probe(
    management: &ManagementClient,
    probed: Result<(), ManagementError>,
    started: Instant,
) -> Result<(), UpstreamTrouble> {
    match probed {
        // A quota spent (by the store's 429 or by this service's own pacing) still
        // means the store answers the token.
        Ok(()) | Err(ManagementError::RateLimited { .. }) => Ok(()),
        Err(ManagementError::NotFound { .. }) => Err(UpstreamTrouble::UnknownStore),
        Err(ManagementError::Rejected {
            status: status @ (401 | 403),
            ..
        }) => Err(UpstreamTrouble::Refused(status)),
        Err(ManagementError::Rejected { status, .. }) => Err(UpstreamTrouble::Rejected(status)),
        Err(ManagementError::Timeout { .. }) => Err(UpstreamTrouble::TimedOut),
        Err(ManagementError::Unavailable { .. } | ManagementError::InvalidResponse { .. }) => {
            match management.last_contact() {
                Some(Contact {
                    at,
                    outcome: ContactOutcome::Failing(status),
                }) if at >= started => Err(UpstreamTrouble::Failing(status)),
                _ => Err(UpstreamTrouble::Unreachable),
            }
        }
    }
}

impl From<Contact> for Finding {
    fn from(contact: Contact) -> Self {
        let verdict = match contact.outcome {
            ContactOutcome::Answered => Ok(()),
            ContactOutcome::Refused(status) => Err(UpstreamTrouble::Refused(status)),
            ContactOutcome::Failing(status) => Err(UpstreamTrouble::Failing(status)),
            ContactOutcome::Unreachable => Err(UpstreamTrouble::Unreachable),
            ContactOutcome::TimedOut => Err(UpstreamTrouble::TimedOut),
        };
        Self {
            at: contact.at,
            verdict,
        }
    }
}
