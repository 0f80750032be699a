//! Sending one Management API request with the retry rules, in two steps: an attempt
//! sends the request (within the quota pacer) and classifies what came back; the retry
//! loop acts on that class: returns the answer, waits out a `429` as BigCommerce says,
//! backs off after a failure worth retrying, or gives up, all within the caller's budget.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use url::Url;

use crate::management::ManagementClient;
use crate::management::body::{BodyError, MAX_BODY_BYTES, read_body};
use crate::management::contact::ContactOutcome;
use crate::management::error::{ManagementError, Operation};
use crate::management::rate_limit::{MAX_RATE_LIMITED_ATTEMPTS, RateLimitHeaders};
use crate::request_context;

pub(crate) use crate::management::body::Body;

/// A successful upstream answer: its status and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Body,
}

/// One request to send: what, for which operation, and by when.
struct Request<'a> {
    method: Method,
    url: Url,
    body: Option<&'a serde_json::Value>,
    operation: Operation,
    deadline: Instant,
}

/// What one attempt came to.
enum Attempt {
    /// A `2xx`, read whole.
    Answered(Answer),
    /// A `429`, with the wait its headers ask for.
    RateLimited(Option<Duration>),
    /// A failure another try may not meet: a `5xx`, a broken connection (why, secret-free).
    Failed(String),
    /// An outcome no retry changes.
    Final(ManagementError),
}

/// What the retry loop does next.
enum Step {
    Return(Answer),
    Wait(Duration),
}

/// The retries one request has spent.
#[derive(Default)]
struct Spent {
    failures: u32,
    rate_limited: u32,
}

impl ManagementClient {
    pub(crate) async fn get(
        &self,
        url: Url,
        operation: Operation,
        deadline: Instant,
    ) -> Result<Answer, ManagementError> {
        self.send(Method::GET, url, None, operation, deadline).await
    }

    /// One request with the retry rules: `429` waits as BigCommerce says, `5xx` and broken
    /// connections back off with jitter (except for a `POST`, which is not idempotent), all
    /// before `deadline`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        operation: Operation,
        deadline: Instant,
    ) -> Result<Answer, ManagementError> {
        let request = Request {
            method,
            url,
            body,
            operation,
            deadline,
        };
        let mut spent = Spent::default();
        loop {
            let attempt = self.attempt(&request).await;
            match self.next_step(&request, attempt, &mut spent)? {
                Step::Return(answer) => return Ok(answer),
                Step::Wait(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Sends the request once, within the quota pacer, and classifies the outcome.
    async fn attempt(&self, request: &Request<'_>) -> Attempt {
        let operation = request.operation;
        // Stay within this service's share of the store's window before every send.
        let permit = match self.pacer.acquire(request.deadline).await {
            Ok(permit) => permit,
            Err(retry_after) => {
                tracing::info!(operation = %operation, wait_ms = retry_after.as_millis() as u64, "this service's share of the store's api quota is spent");
                self.api.metrics.paced(operation.label());
                return Attempt::Final(ManagementError::RateLimited {
                    operation,
                    retry_after,
                });
            }
        };
        let remaining = request.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Attempt::Final(ManagementError::Timeout { operation });
        }
        let started = Instant::now();
        let mut builder = self
            .api
            .http
            .request(request.method.clone(), request.url.clone())
            .timeout(self.api.request_timeout.min(remaining));
        if let Some(token) = &self.token {
            builder = builder.header("x-auth-token", token.clone());
        }
        if let Some(body) = request.body {
            builder = builder.json(body);
        }
        request_context::note_upstream_call();
        let outcome = builder.send().await;
        let limits = outcome
            .as_ref()
            .map(|response| RateLimitHeaders::parse(response.headers()))
            .unwrap_or_default();
        // The store's account first, then the permit: a caller waiting for a fresh account
        // must find it when it wakes.
        self.pacer.observe(&limits);
        if outcome.is_ok() && limits.requests_left.is_none() {
            self.pacer.observe_unreported();
        }
        drop(permit);
        self.note_outcome(operation, &outcome, &limits, started);
        match outcome {
            Ok(response) => {
                let status = response.status();
                tracing::debug!(operation = %operation, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "management api answered");
                self.classify(response, &limits, request).await
            }
            Err(error) if error.is_timeout() => {
                Attempt::Final(ManagementError::Timeout { operation })
            }
            Err(error) => Attempt::Failed(error_kind(&error).to_owned()),
        }
    }

    /// What an answer is: read whole for a `2xx`, otherwise by its status. A redirect is
    /// not followed (the client never sends the access token elsewhere) and counts as an
    /// unusable answer: the Management API does not redirect.
    async fn classify(
        &self,
        response: reqwest::Response,
        limits: &RateLimitHeaders,
        request: &Request<'_>,
    ) -> Attempt {
        let operation = request.operation;
        let status = response.status();
        if status.is_success() {
            return match read_body(response, &self.api.large_bodies, request.deadline).await {
                Ok(body) => Attempt::Answered(Answer { status, body }),
                Err(BodyError::Timeout) => Attempt::Final(ManagementError::Timeout { operation }),
                Err(BodyError::TooLarge) => Attempt::Final(ManagementError::InvalidResponse {
                    operation,
                    reason: format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
                }),
                Err(BodyError::Broken(cause)) => {
                    Attempt::Failed(format!("body read failed: {cause}"))
                }
            };
        }
        match status {
            StatusCode::TOO_MANY_REQUESTS => Attempt::RateLimited(limits.wait()),
            StatusCode::NOT_FOUND => Attempt::Final(ManagementError::NotFound { operation }),
            status if status.is_server_error() => {
                Attempt::Failed(format!("status {}", status.as_u16()))
            }
            status if status.is_redirection() => Attempt::Final(ManagementError::InvalidResponse {
                operation,
                reason: format!("redirected with status {}", status.as_u16()),
            }),
            status => Attempt::Final(ManagementError::Rejected {
                operation,
                status: status.as_u16(),
            }),
        }
    }

    /// Acts on an attempt: the answer, a wait before the next attempt, or the final error
    /// when the retries or the budget are spent. A readiness probe reports what it met at
    /// once: it retries nothing and waits out no `429`, so that `/readyz` answers within one
    /// request timeout.
    fn next_step(
        &self,
        request: &Request<'_>,
        attempt: Attempt,
        spent: &mut Spent,
    ) -> Result<Step, ManagementError> {
        let operation = request.operation;
        let patient = operation != Operation::ReadinessProbe;
        let time_left = request.deadline.saturating_duration_since(Instant::now());
        match attempt {
            Attempt::Answered(answer) => Ok(Step::Return(answer)),
            Attempt::Final(error) => Err(error),
            Attempt::RateLimited(asked) => {
                spent.rate_limited += 1;
                let wait = asked.unwrap_or_else(|| self.api.retry.backoff(spent.rate_limited - 1));
                if !patient || spent.rate_limited > MAX_RATE_LIMITED_ATTEMPTS || wait > time_left {
                    return Err(ManagementError::RateLimited {
                        operation,
                        retry_after: wait,
                    });
                }
                tracing::info!(operation = %operation, wait_ms = wait.as_millis() as u64, "store api quota spent; waiting for the window to reset");
                Ok(Step::Wait(wait))
            }
            Attempt::Failed(cause) => {
                spent.failures += 1;
                let retry = patient && request.method != Method::POST;
                let wait = self.api.retry.backoff(spent.failures - 1);
                if !retry || spent.failures > self.api.retry.max_retries || wait > time_left {
                    return Err(ManagementError::Unavailable { operation, cause });
                }
                tracing::info!(operation = %operation, cause = %cause, attempt = spent.failures, "management api call failed; retrying");
                Ok(Step::Wait(wait))
            }
        }
    }

    /// Records one request's answer, or failure to get one, in the metrics, the contact log
    /// and the store's quota gauges.
    fn note_outcome(
        &self,
        operation: Operation,
        outcome: &Result<reqwest::Response, reqwest::Error>,
        limits: &RateLimitHeaders,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        let contact = match outcome {
            Ok(response) => {
                let status = response.status();
                self.api
                    .metrics
                    .answered(operation.label(), status.as_u16(), elapsed);
                if let Some(left) = limits.requests_left {
                    self.api.metrics.quota_reported(limits.quota, left);
                }
                ContactOutcome::of_status(status)
            }
            Err(error) => {
                self.api
                    .metrics
                    .unanswered(operation.label(), error.is_timeout(), elapsed);
                Some(if error.is_timeout() {
                    ContactOutcome::TimedOut
                } else {
                    ContactOutcome::Unreachable
                })
            }
        };
        if let Some(contact) = contact {
            self.api.metrics.reached(contact.reached());
            self.contacts.record(contact);
        }
    }
}

/// A short, secret-free description of a transport error (never the URL or headers).
fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "connection dropped while reading the body"
    } else if error.is_request() {
        "request failed"
    } else {
        "transport error"
    }
}
