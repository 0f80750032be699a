//! What the Management API said last, whoever asked: readiness reads it so that a service
//! whose traffic reaches BigCommerce spends nothing on probes, and one whose traffic is
//! refused or cut off is not ready without a probe either.

use std::sync::Mutex;

use reqwest::StatusCode;
use tokio::time::Instant;

/// The latest telling answer (or failure to get one) and when it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contact {
    pub at: Instant,
    pub outcome: ContactOutcome,
}

/// What one request to the Management API showed about reaching it with the access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactOutcome {
    /// A success, or a `429`: the store took the token (and counted the request).
    Answered,
    /// `401` or `403`: the access token is wrong or lacks a scope.
    Refused(u16),
    /// A `5xx`.
    Failing(u16),
    /// No answer: the connection failed or broke.
    Unreachable,
    /// No answer within the timeout.
    TimedOut,
}

/// The shared record of the latest contact.
#[derive(Debug, Default)]
pub(crate) struct ContactLog {
    latest: Mutex<Option<Contact>>,
}

impl ContactOutcome {
    /// The outcome an answer's status shows, if it shows anything about reachability: a
    /// `404` or a `400` is about one resource or request, not about the store or token.
    pub fn of_status(status: StatusCode) -> Option<Self> {
        match status.as_u16() {
            _ if status.is_success() => Some(ContactOutcome::Answered),
            429 => Some(ContactOutcome::Answered),
            code @ (401 | 403) => Some(ContactOutcome::Refused(code)),
            code if status.is_server_error() => Some(ContactOutcome::Failing(code)),
            _ => None,
        }
    }
}

impl ContactOutcome {
    /// Whether BigCommerce answered (a refusal is an answer).
    pub fn reached(self) -> bool {
        matches!(self, ContactOutcome::Answered | ContactOutcome::Refused(_))
    }
}

impl ContactLog {
    pub(crate) fn record(&self, outcome: ContactOutcome) {
        let contact = Contact {
            at: Instant::now(),
            outcome,
        };
        // A poisoned lock still holds a valid `Option<Contact>`.
        *self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(contact);
    }

    pub(crate) fn latest(&self) -> Option<Contact> {
        *self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_statuses_about_the_store_or_token_are_contacts() {
        let cases = [
            (200, Some(ContactOutcome::Answered)),
            (204, Some(ContactOutcome::Answered)),
            (429, Some(ContactOutcome::Answered)),
            (401, Some(ContactOutcome::Refused(401))),
            (403, Some(ContactOutcome::Refused(403))),
            (500, Some(ContactOutcome::Failing(500))),
            (503, Some(ContactOutcome::Failing(503))),
            (404, None),
            (400, None),
        ];
        for (status, expected) in cases {
            let outcome = ContactOutcome::of_status(StatusCode::from_u16(status).unwrap());

            assert_eq!(outcome, expected, "case: {status}");
        }
    }
}
