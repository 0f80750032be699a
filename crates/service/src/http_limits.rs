//! What one connection or one client may hold of the server: the time to send a request
//! body ([`body_deadline`]), the connections one client address may keep open at once
//! ([`ClientConnections`]), and the open-file budget every connection is counted against
//! ([`connection_budget`]). The header and keep-alive timeouts are actix's own and are set in
//! `startup`. Nothing here reads a body or knows a route.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, rt};
use futures_util::Stream;

/// Open files kept back from connections: the upstream client's connections, the log
/// writer, the listeners and whatever the runtime needs.
const RESERVED_FILES: u64 = 256;
/// How often a warning about refused connections may be logged at most.
const REFUSAL_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Middleware: the body of a request (any route) must arrive within `timeout` of its head;
/// after that, reading it fails with a timed-out [`PayloadError`], so no handler can be held
/// waiting for bytes that never come. Requests that declare no body are passed through as
/// they are, at no cost.
pub async fn body_deadline<B: MessageBody>(
    mut request: ServiceRequest,
    next: Next<B>,
    timeout: Duration,
) -> Result<ServiceResponse<B>, Error> {
    if declares_body(request.headers()) {
        let payload = request.take_payload();
        let deadline: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(DeadlinePayload {
                inner: payload,
                sleep: Box::pin(tokio::time::sleep(timeout)),
                expired: false,
            });
        request.set_payload(Payload::from(deadline));
    }
    next.call(request).await
}

/// Whether a timed-out body read is what failed: for handlers mapping payload errors.
pub fn is_body_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(error) if error.kind() == io::ErrorKind::TimedOut)
}

/// A request has a body when it says so (RFC 9112 section 6.3): a `Transfer-Encoding`, or
/// a `Content-Length` other than zero.
fn declares_body(headers: &HeaderMap) -> bool {
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

/// A request body that ends in a timed-out error once its deadline has passed.
struct DeadlinePayload {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for DeadlinePayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(context) {
            return Poll::Ready(item);
        }
        if this.sleep.as_mut().poll(context).is_ready() {
            this.expired = true;
            return Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Poll::Pending
    }
}

/// The connections open per client address, bounded: a connection over the bound is shut
/// down as soon as it is accepted, before anything is read from it, so that one client
/// cannot hold the server's connections or open files and starve the others. Behind a
/// reverse proxy every connection comes from the proxy's address; raise the bound there
/// (or turn it off with `0`) and let the proxy bound its clients.
#[derive(Clone)]
pub struct ClientConnections {
    limit: usize,
    state: Arc<Mutex<ClientTable>>,
}

#[derive(Default)]
struct ClientTable {
    open: HashMap<IpAddr, usize>,
    last_warning: Option<Instant>,
    refused_since_warning: u64,
}

/// One open connection of a client, counted until it is dropped with the connection.
struct ClientSlot {
    address: IpAddr,
    state: Arc<Mutex<ClientTable>>,
}

impl ClientConnections {
    /// A table allowing `limit` open connections per client address; `0` allows any number.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            state: Arc::default(),
        }
    }

    /// For `HttpServer::on_connect`: counts the new connection against its client's bound,
    /// keeping the count in the connection's data until it closes, or shuts it down at once
    /// when the client already holds `limit` connections.
    pub fn on_connect(&self, connection: &dyn Any, data: &mut Extensions) {
        if self.limit == 0 {
            return;
        }
        let Some(stream) = connection.downcast_ref::<rt::net::TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        match self.open(peer.ip()) {
            Some(slot) => {
                data.insert(slot);
            }
            None => {
                // Nothing has been read yet: the client sees the connection closed, and its
                // file descriptor is released as soon as the dispatcher notices.
                let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Both);
            }
        }
    }

    /// How many connections `address` holds now.
    pub fn open_connections(&self, address: IpAddr) -> usize {
        self.lock().open.get(&address).copied().unwrap_or(0)
    }

    fn open(&self, address: IpAddr) -> Option<ClientSlot> {
        let mut table = self.lock();
        let open = table.open.entry(address).or_insert(0);
        if *open < self.limit {
            *open += 1;
            return Some(ClientSlot {
                address,
                state: Arc::clone(&self.state),
            });
        }
        // A flood is refused thousands of times a second: say so once in a while, with how
        // many, rather than once per connection.
        table.refused_since_warning += 1;
        let due = table
            .last_warning
            .is_none_or(|last| last.elapsed() >= REFUSAL_WARNING_INTERVAL);
        if due {
            tracing::warn!(
                client = %address,
                refused = table.refused_since_warning,
                limit = self.limit,
                "refused connections of a client over HTTP_MAX_CONNECTIONS_PER_CLIENT"
            );
            table.last_warning = Some(Instant::now());
            table.refused_since_warning = 0;
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClientTable> {
        // The table holds plain counts; one left by a panicking thread is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut table = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = table.open.get_mut(&self.address) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                table.open.remove(&self.address);
            }
        }
    }
}

/// The connections the server may hold at once: `configured`, lowered to what the process's
/// open-file limit leaves after [`RESERVED_FILES`], so that accepting never fails for lack
/// of a file descriptor (when it does, the server stops accepting anyone, `/healthz`
/// included). The soft limit is raised to the hard one first, as Go's runtime does.
pub fn connection_budget(configured: usize) -> usize {
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(u64::MAX);
    let available = usize::try_from(files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    if available < configured {
        tracing::warn!(
            configured,
            open_file_limit = files,
            serving = available.max(1),
            "HTTP_MAX_CONNECTIONS is above what the open-file limit allows; raise the limit (ulimit -n) or lower the setting"
        );
    }
    configured.min(available).max(1)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn a_client_holds_at_most_its_bound_and_a_closed_connection_frees_its_slot() {
        let connections = ClientConnections::new(2);
        let client = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        let other = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 8));

        let first = connections.open(client);
        let second = connections.open(client);
        let third = connections.open(client);
        let other_first = connections.open(other);
        drop(first);
        let after_close = connections.open(client);

        assert!(second.is_some());
        assert!(third.is_none(), "over the bound");
        assert!(other_first.is_some(), "another client is not affected");
        assert!(after_close.is_some(), "a closed connection frees its slot");
        assert_eq!(connections.open_connections(client), 2);
        drop((second, after_close, other_first));
        assert_eq!(connections.open_connections(client), 0);
        assert!(connections.lock().open.is_empty(), "no entry is kept");
    }

    #[test]
    fn only_requests_that_declare_a_body_get_a_deadline() {
        type Case = (&'static [(&'static str, &'static str)], bool, &'static str);
        let cases: [Case; 5] = [
            (&[], false, "no framing headers"),
            (&[("content-length", "0")], false, "an empty body"),
            (&[("content-length", "1000")], true, "a sized body"),
            (&[("transfer-encoding", "chunked")], true, "a chunked body"),
            (&[("accept", "application/json")], false, "other headers"),
        ];
        for (pairs, expected, description) in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(
                    actix_web::http::header::HeaderName::from_static(name),
                    actix_web::http::header::HeaderValue::from_static(value),
                );
            }

            assert_eq!(declares_body(&headers), expected, "case: {description}");
        }
    }
}
