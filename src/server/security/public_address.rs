//! Where outgoing webhooks may go in production: `https` URLs whose every address is public.
//! Loopback, private, link-local (with the cloud metadata address), shared, documentation,
//! multicast and reserved ranges are refused, as names resolve (so a name pointing inside
//! is refused at connection time, not only when the URL is saved) and on every redirect.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                // fc00::/7 unique local (fd00:ec2::254 is a metadata address), fe80::/10
                // link-local, 2001:db8::/32 documentation, 64:ff9b::/96 NAT64 (it reaches
                // IPv4 addresses, private ones too), ::ffff:0:0/96 handled above.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b)
                // IPv4-compatible ::a.b.c.d (deprecated) and the rest of ::/96.
                || (s[..6] == [0; 6])
                // 2002::/16 6to4 and 2001::/32 Teredo carry an IPv4 address (a private one
                // too) that relays reach; fec0::/10 is the deprecated site-local range.
                || s[0] == 0x2002
                || (s[0] == 0x2001 && s[1] == 0)
                || (s[0] & 0xffc0) == 0xfec0)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || a == 0
        || ip.is_loopback()
        || ip.is_private()
        // 169.254.0.0/16, with 169.254.169.254, the cloud metadata service.
        || ip.is_link_local()
        // 100.64.0.0/10 shared address space (100.100.100.200 is a metadata address).
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24 protocol assignments, 192.0.2.0/24, 198.51.100.0/24 and
        // 203.0.113.0/24 documentation, 198.18.0.0/15 benchmarking.
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || (a == 198 && (b == 18 || b == 19))
        || ip.is_multicast()
        // 240.0.0.0/4 reserved, with the broadcast address.
        || a >= 240)
}

/// Why `url` may not receive webhooks, if it may not. With `public_only` off (development
/// and tests) any `http(s)` URL is accepted.
pub fn refusal(url: &Url, public_only: bool) -> Option<String> {
    if !matches!(url.scheme(), "https" | "http") {
        return Some("The URL must start with https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("The URL must not carry a user name or password".into());
    }
    let Some(host) = url.host() else {
        return Some("The URL must name a host".into());
    };
    if !public_only {
        return None;
    }
    if url.scheme() != "https" {
        return Some("The URL must start with https://".into());
    }
    let literal = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal") {
                return Some("The URL must point to a public address".into());
            }
            None
        }
    };
    match literal {
        Some(ip) if !is_public(ip) => Some("The URL must point to a public address".into()),
        _ => None,
    }
}

/// A resolver that answers only a name's public addresses, and fails for a name with none:
/// the connection can only be made to what [`is_public`] accepts.
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} does not resolve to a public address").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether the app may reach `url`, an address a user gave (a webhook endpoint, a calendar):
/// the rules of [`refusal`], and with `public_only` the name's resolution checked now too, for
/// a clear answer when it is saved (the resolver checks again at every connection).
pub async fn may_reach(url: &Url, public_only: bool) -> Result<(), String> {
    if let Some(why) = refusal(url, public_only) {
        return Err(why);
    }
    if public_only {
        resolves_publicly(url).await?;
    }
    Ok(())
}

/// Whether a name resolves to at least one address and only public ones (checked when an
/// endpoint is saved, for a clear answer then; the resolver checks again at each delivery).
pub async fn resolves_publicly(url: &Url) -> Result<(), String> {
    let Some(url::Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let found: Vec<IpAddr> = tokio::net::lookup_host((name, port))
        .await
        .map_err(|_| format!("{name} could not be resolved"))?
        .map(|a| a.ip())
        .collect();
    if found.is_empty() || found.iter().any(|ip| !is_public(*ip)) {
        return Err("The URL must point to a public address".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "2002:a00:1::1",
            "2002:7f00:1::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn production_urls_are_https_to_public_hosts() {
        let refused = |u: &str| refusal(&Url::parse(u).unwrap(), true);
        assert!(refused("https://hooks.example.com/in").is_none());
        for bad in [
            "http://hooks.example.com/in",
            "https://127.0.0.1/in",
            "https://[::1]/in",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost:8443/in",
            "https://metadata.google.internal/",
            "https://user:pw@hooks.example.com/in",
            "ftp://hooks.example.com/in",
        ] {
            assert!(refused(bad).is_some(), "{bad}");
        }
        assert!(refusal(&Url::parse("http://127.0.0.1:9/in").unwrap(), false).is_none());
    }
}
