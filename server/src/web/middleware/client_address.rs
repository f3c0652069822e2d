//! Who is on the other end: the connection's address, or, when that is a trusted reverse
//! proxy (`PATCHBAY_TRUSTED_PROXIES`), the client the proxy names.
//!
//! Proxies append to `X-Forwarded-For`, so only the entries a trusted proxy added can be
//! believed: the address is the right-most entry that is not itself a trusted proxy.
//! Anything to its left was written by the client and may be forged. `Forwarded`
//! (RFC 7239) is read the same way when `X-Forwarded-For` is absent.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address as the throttle and the logs should see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// Headers beyond this many entries are not read further (a proxy chain is short).
const MAX_FORWARDED_HOPS: usize = 32;

pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_for(headers);
    hops.iter()
        .rev()
        .take(MAX_FORWARDED_HOPS)
        .find(|hop| !is_trusted(hop))
        .or_else(|| hops.first())
        .copied()
        .unwrap_or(peer)
}

/// The addresses of `X-Forwarded-For`, or else of `Forwarded`'s `for=`, left to right.
/// Entries that are not addresses (`unknown`, obfuscated names) end the list where they
/// stand, so nothing left of them is believed.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &'static str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
    };
    let mut entries: Vec<&str> = values("x-forwarded-for").map(str::trim).collect();
    if entries.is_empty() {
        entries = values("forwarded")
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| value.trim().trim_matches('"'))
                })
            })
            .collect();
    }
    let mut addresses: Vec<IpAddr> = entries
        .iter()
        .rev()
        .map_while(|entry| parse_node(entry))
        .collect();
    addresses.reverse();
    addresses
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(inside, _)| inside.parse().ok())
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddress(client_address(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.5";

    fn trusted() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap()]
    }

    #[test]
    fn without_trusted_proxies_the_headers_are_ignored() {
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_address(ip(PROXY), &forged, &[]), ip(PROXY));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_forged_entries_are_skipped() {
        let h = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(client_address(ip(PROXY), &h, &trusted()), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            client_address(ip("198.51.100.77"), &h, &trusted()),
            ip("198.51.100.77")
        );
    }

    #[test]
    fn forwarded_is_read_when_x_forwarded_for_is_absent() {
        let h = headers(&[(
            "forwarded",
            r#"for=198.51.100.1;proto=https, for="[2001:db8::7]:4711""#,
        )]);
        assert_eq!(client_address(ip(PROXY), &h, &trusted()), ip("2001:db8::7"));
    }

    #[test]
    fn an_unreadable_entry_stops_the_walk_and_no_header_means_the_proxy() {
        let h = headers(&[("x-forwarded-for", "198.51.100.1, unknown")]);
        assert_eq!(client_address(ip(PROXY), &h, &trusted()), ip(PROXY));
        assert_eq!(
            client_address(ip(PROXY), &HeaderMap::new(), &trusted()),
            ip(PROXY)
        );
    }
}
