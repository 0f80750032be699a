//! Reading an upstream answer's body within a memory bound. One answer may cost at most
//! [`MAX_BODY_BYTES`]: one that announces more is refused before a byte is read, one that
//! grows past it is cut off. Past [`LARGE_BODY_BYTES`] an answer needs one of
//! [`LARGE_BODIES_AT_ONCE`] permits, held until its body is dropped, so that many large
//! answers at once cost a bounded amount of memory instead of one full buffer each.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The largest upstream body read: a page of 250 metafields whose values are long (up to
/// 65,535 characters each) stays within it; a page of 250 v2 orders is under 2 MiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The size past which an answer counts as large.
pub const LARGE_BODY_BYTES: usize = 1024 * 1024;
/// How many large answers are read at once; others wait, within their budget. So all
/// answers in flight hold at most this many times [`MAX_BODY_BYTES`], plus
/// [`LARGE_BODY_BYTES`] for each other answer.
pub const LARGE_BODIES_AT_ONCE: usize = 4;

/// A body read whole; a large one keeps its permit until it is dropped.
pub(crate) struct Body {
    pub(crate) bytes: Vec<u8>,
    _large: Option<OwnedSemaphorePermit>,
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than [`MAX_BODY_BYTES`], announced or read.
    TooLarge,
    /// The request's time ran out, reading or waiting for a large-body permit.
    Timeout,
    /// The connection broke while reading; a short, secret-free description.
    Broken(&'static str),
}

/// The permits for large bodies, shared by every clone of one client.
#[derive(Clone)]
pub(crate) struct LargeBodies(Arc<Semaphore>);

impl LargeBodies {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Semaphore::new(LARGE_BODIES_AT_ONCE)))
    }

    async fn acquire(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, BodyError> {
        match tokio::time::timeout_at(deadline, Arc::clone(&self.0).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a closed one means no permit can come.
            Ok(Err(_)) | Err(_) => Err(BodyError::Timeout),
        }
    }
}

impl Body {
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Reads `response`'s body within the bounds, waiting for a large-body permit at most
/// until `deadline`.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    large_bodies: &LargeBodies,
    deadline: Instant,
) -> Result<Body, BodyError> {
    let announced = match response.content_length() {
        // Dropping the unread response closes its connection: nothing of it is read.
        Some(length) if length > MAX_BODY_BYTES as u64 => return Err(BodyError::TooLarge),
        Some(length) => usize::try_from(length).unwrap_or(MAX_BODY_BYTES),
        None => 0,
    };
    let mut large = None;
    if announced > LARGE_BODY_BYTES {
        large = Some(large_bodies.acquire(deadline).await?);
    }
    // Sized once from the announced length, so a large body is not copied as it grows.
    let mut bytes = Vec::with_capacity(announced);
    while let Some(chunk) = response.chunk().await.map_err(body_error)? {
        let length = bytes.len() + chunk.len();
        if length > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        if length > LARGE_BODY_BYTES && large.is_none() {
            large = Some(large_bodies.acquire(deadline).await?);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes,
        _large: large,
    })
}

fn body_error(error: reqwest::Error) -> BodyError {
    if error.is_timeout() {
        BodyError::Timeout
    } else {
        BodyError::Broken("connection dropped while reading the body")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_large_body_waits_for_a_permit_within_its_deadline_only() {
        let large_bodies = LargeBodies::new();
        let held: Vec<_> = futures_util::future::join_all(
            (0..LARGE_BODIES_AT_ONCE).map(|_| large_bodies.acquire(Instant::now())),
        )
        .await;

        let refused = large_bodies
            .acquire(Instant::now() + Duration::from_secs(1))
            .await;
        drop(held);
        let granted = large_bodies
            .acquire(Instant::now() + Duration::from_secs(1))
            .await;

        assert_eq!(refused.err(), Some(BodyError::Timeout));
        assert!(granted.is_ok());
    }
}
