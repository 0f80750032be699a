//! Readiness. For one store: whether the Management API answers the configured access
//! token, judged by its latest answer to anyone (so a busy service spends nothing on probes)
//! and otherwise by a cheap probe made at most once per interval, whoever asks and however
//! often. For an app serving many stores: whether its database answers (the store registry
//! was loaded from it before the server started; one store's trouble is not the service's).
//! The configuration itself was validated before the server started. No HTTP here.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::database::Database;
use crate::management::ManagementClient;
use crate::management::contact::{Contact, ContactOutcome};
use crate::management::error::ManagementError;

/// Decides readiness for one application.
pub struct Readiness {
    subject: Subject,
    interval: Duration,
    /// The latest probe's finding; the lock also makes concurrent checks share one probe.
    last_probe: Mutex<Option<Finding>>,
}

/// What readiness depends on.
enum Subject {
    /// Single-store mode: the store's Management API.
    Store(Box<ManagementClient>),
    /// App mode: the database the stores live in.
    Database(Database),
}

/// Which part is not ready; its text is safe to show to anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotReadyReason {
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

/// A verdict and when it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Finding {
    at: Instant,
    verdict: Result<(), NotReadyReason>,
}

impl Readiness {
    /// Readiness through `management`, probing at most once per `interval`.
    pub fn new(management: ManagementClient, interval: Duration) -> Self {
        Self {
            subject: Subject::Store(Box::new(management)),
            interval,
            last_probe: Mutex::new(None),
        }
    }

    /// Readiness of an app: its database answers, asked at most once per `interval`.
    pub fn for_database(database: Database, interval: Duration) -> Self {
        Self {
            subject: Subject::Database(database),
            interval,
            last_probe: Mutex::new(None),
        }
    }

    /// Ready, or why not. Answers from the latest finding younger than the interval (an
    /// answer to normal traffic or a probe); probes only when there is none.
    pub async fn check(&self) -> Result<(), NotReady> {
        if let Some(finding) = self.recent(None) {
            return self.answer(finding);
        }
        let mut last_probe = self.last_probe.lock().await;
        // Another check may have probed, or traffic reached the store, while this one waited.
        if let Some(finding) = self.recent(*last_probe) {
            return self.answer(finding);
        }
        let started = Instant::now();
        let verdict = match &self.subject {
            Subject::Store(management) => {
                let probed = management.probe().await;
                verdict_of_probe(management, probed, started)
            }
            Subject::Database(database) => database
                .ping()
                .await
                .map_err(|_| NotReadyReason::DatabaseUnavailable),
        };
        let finding = Finding {
            at: started,
            verdict,
        };
        if let Err(reason) = finding.verdict {
            tracing::warn!(reason = %reason, "readiness probe failed: not ready");
        }
        *last_probe = Some(finding);
        self.answer(finding)
    }

    /// The latest of the traffic's last contact and `probe`, if younger than the interval.
    fn recent(&self, probe: Option<Finding>) -> Option<Finding> {
        let contact = match &self.subject {
            Subject::Store(management) => management.last_contact().map(Finding::from),
            Subject::Database(_) => None,
        };
        [contact, probe]
            .into_iter()
            .flatten()
            .filter(|finding| finding.at.elapsed() < self.interval)
            .max_by_key(|finding| finding.at)
    }

    fn answer(&self, finding: Finding) -> Result<(), NotReady> {
        finding.verdict.map_err(|reason| NotReady {
            reason,
            retry_after: self.interval.saturating_sub(finding.at.elapsed()),
        })
    }
}

/// What a probe's result says. A failure without a status of its own (5xx or no answer) is
/// read from the contact the probe just recorded.
fn verdict_of_probe(
    management: &ManagementClient,
    probed: Result<(), ManagementError>,
    started: Instant,
) -> Result<(), NotReadyReason> {
    match probed {
        // A quota spent (by the store's 429 or by this service's own pacing) still
        // means the store answers the token.
        Ok(()) | Err(ManagementError::RateLimited { .. }) => Ok(()),
        Err(ManagementError::NotFound { .. }) => Err(NotReadyReason::UnknownStore),
        Err(ManagementError::Rejected {
            status: status @ (401 | 403),
            ..
        }) => Err(NotReadyReason::Refused(status)),
        Err(ManagementError::Rejected { status, .. }) => Err(NotReadyReason::Rejected(status)),
        Err(ManagementError::Timeout { .. }) => Err(NotReadyReason::TimedOut),
        Err(ManagementError::Unavailable { .. } | ManagementError::InvalidResponse { .. }) => {
            match management.last_contact() {
                Some(Contact {
                    at,
                    outcome: ContactOutcome::Failing(status),
                }) if at >= started => Err(NotReadyReason::Failing(status)),
                _ => Err(NotReadyReason::Unreachable),
            }
        }
    }
}

impl From<Contact> for Finding {
    fn from(contact: Contact) -> Self {
        let verdict = match contact.outcome {
            ContactOutcome::Answered => Ok(()),
            ContactOutcome::Refused(status) => Err(NotReadyReason::Refused(status)),
            ContactOutcome::Failing(status) => Err(NotReadyReason::Failing(status)),
            ContactOutcome::Unreachable => Err(NotReadyReason::Unreachable),
            ContactOutcome::TimedOut => Err(NotReadyReason::TimedOut),
        };
        Self {
            at: contact.at,
            verdict,
        }
    }
}
