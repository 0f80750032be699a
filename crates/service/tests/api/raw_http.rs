//! Raw HTTP/1.1 over a socket, for tests of what the server does with requests no HTTP
//! client library sends: a body that never comes, a head that never ends, a connection
//! that is never used. Every wait is bounded by [`PATIENCE`].

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// How long a test waits for an answer or a close that the bound under test promises much
/// sooner: a never-answered request fails the test instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A raw HTTP/1.1 answer: the status, the lowercase headers, the body.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Opens a connection to the app.
pub async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.unwrap()
}

/// Reads one answer (head and a `Content-Length` body) from `stream`, failing the test if
/// none arrives within [`PATIENCE`].
pub async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(response) = parse(&received) {
                return response;
            }
            let read = stream.read(&mut buffer).await.unwrap_or(0);
            assert!(
                read > 0,
                "the connection closed before a whole answer: {:?}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&buffer[..read]);
        }
    })
    .await
    .expect("an answer within the patience")
}

/// Waits until the server closes `stream` (end of file or reset), failing the test if it is
/// still open after [`PATIENCE`].
pub async fn assert_closed_by_server(stream: &mut TcpStream) {
    let mut buffer = [0; 1024];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
}

pub fn parse(received: &[u8]) -> Option<RawResponse> {
    let text = String::from_utf8_lossy(received);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, value)| value.parse().unwrap_or(0));
    if rest.len() < length {
        return None;
    }
    Some(RawResponse {
        status,
        headers,
        body: rest[..length].to_owned(),
    })
}
