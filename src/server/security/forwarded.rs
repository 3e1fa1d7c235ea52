//! The client's address behind a load balancer. Every request through a proxy comes from the
//! proxy's address, so the per-address sign-in limit and the loopback-only `/dev` pages need
//! the address the proxy saw. `X-Forwarded-For` is believed only when the connection comes
//! from a configured proxy (`TRUSTED_PROXIES`), and only as far as trusted hops wrote it:
//! anything a client put in the header itself stays to the left of what they appended.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// A set of addresses and networks (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks(Vec<(IpAddr, u8)>);

/// Addresses or networks of the proxies in front of the app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Networks);

impl Networks {
    /// A comma-separated list of addresses and networks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                let (addr, prefix) = entry.split_once('/').unwrap_or((entry, ""));
                let addr: IpAddr = addr
                    .parse()
                    .map_err(|_| format!("{entry:?} is not an address or network"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    "" => max,
                    p => p
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p <= max)
                        .ok_or_else(|| format!("{entry:?} has an invalid prefix length"))?,
                };
                Ok((addr, prefix))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, prefix)| match (canonical(*net), ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), *prefix),
                (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), *prefix),
                _ => false,
            })
    }
}

impl TrustedProxies {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Networks::parse(raw).map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }

    /// The client of a request that arrived from `peer`: `peer` itself unless it is a trusted
    /// proxy; then the nearest address in `X-Forwarded-For` that is not a trusted proxy (read
    /// from the right, where each proxy appends the address it saw).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop no proxy of ours could have written: stop at the last one we trust.
            let Ok(addr) = hop.parse::<IpAddr>() else {
                break;
            };
            client = addr;
            if !self.contains(addr) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) compare as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = ((prefix / 8) as usize, prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) & (0xffu8 << (8 - rest)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_and_addresses_are_matched() {
        let t = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8, fd00::/8").unwrap();
        assert!(t.contains(ip("127.0.0.1")) && t.contains(ip("10.200.3.4")));
        assert!(t.contains(ip("::ffff:127.0.0.1")) && t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("127.0.0.2")) && !t.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
    }

    #[test]
    fn the_header_counts_only_behind_a_trusted_proxy() {
        let t = TrustedProxies::parse("127.0.0.1").unwrap();
        let forwarded = headers(&["203.0.113.7"]);
        // Straight from the internet: the header is the client's own claim.
        assert_eq!(t.client(ip("198.51.100.1"), &forwarded), ip("198.51.100.1"));
        // Through the proxy: the address it saw.
        assert_eq!(t.client(ip("127.0.0.1"), &forwarded), ip("203.0.113.7"));
        // Nothing forwarded: the proxy itself.
        assert_eq!(t.client(ip("127.0.0.1"), &headers(&[])), ip("127.0.0.1"));
        // Nothing is trusted unless configured.
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &forwarded),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn what_a_client_wrote_itself_is_ignored() {
        let t = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        // The client claims to be loopback; the proxy appends the address it really saw.
        let spoofed = headers(&["127.0.0.1, 203.0.113.7"]);
        assert_eq!(t.client(ip("127.0.0.1"), &spoofed), ip("203.0.113.7"));
        // Two proxies: the inner one appended the outer one's address.
        let chain = headers(&["203.0.113.7", "10.1.2.3"]);
        assert_eq!(t.client(ip("127.0.0.1"), &chain), ip("203.0.113.7"));
        // Garbage after the proxies' part stops the walk at the last trusted hop.
        let garbage = headers(&["nonsense, 10.1.2.3"]);
        assert_eq!(t.client(ip("127.0.0.1"), &garbage), ip("10.1.2.3"));
    }
}
