//! Where a client on this machine reaches a listener: the address it is bound to, or loopback
//! when it is bound to every interface (`0.0.0.0`, `[::]`), which no browser or client can
//! open. Used by `healthcheck` and by the demo's printed URLs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address a client on this machine reaches a listener bound to `address` at.
pub fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), address.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), address.port())
        }
        _ => address,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_listener_on_every_interface_is_reached_over_loopback() {
        for (bound, expected) in [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8080", "[::1]:8080"),
            ("127.0.0.2:8080", "127.0.0.2:8080"),
            ("192.0.2.7:8080", "192.0.2.7:8080"),
            ("[2001:db8::1]:8080", "[2001:db8::1]:8080"),
        ] {
            let reached = reachable(bound.parse().unwrap());

            assert_eq!(reached.to_string(), expected, "{bound}");
        }
    }
}
