//! The SSRF guard: which addresses a feed may be fetched from.
//!
//! A feed URL comes from a config file, but its host name resolves wherever
//! DNS says and its redirects point wherever the server says, so a hostile
//! or compromised feed could make the daemon reach the loopback interface,
//! the LAN or a cloud metadata endpoint. The guard refuses such addresses
//! unless the source's [`AddressPolicy`] allows them, at three places: the
//! URL host when it is an IP literal, every address a name resolves to (a
//! resolver plugged into reqwest), and every redirect hop (the fetcher
//! follows redirects itself and re-checks each one).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::AddressPolicy;

/// Why an address is refused, in words for the error message.
pub fn refused_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_reason(v4);
            }
            let seg0 = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if seg0 & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if seg0 & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if seg0 == 0x0064 && v6.segments()[1] == 0xff9b {
                // NAT64 embeds an IPv4 address in the low 32 bits.
                let [.., a, b] = v6.segments();
                v4_reason(Ipv4Addr::from(((a as u32) << 16) | b as u32))
            } else if seg0 == 0x2002 {
                // 6to4 embeds an IPv4 address in bits 16..48.
                let s = v6.segments();
                v4_reason(Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32))
            } else if seg0 == 0x2001 && v6.segments()[1] == 0 {
                // Teredo (2001::/32) tunnels IPv4 and hides an IPv4 address
                // in its bits: never a feed server, and a way around the
                // IPv4 checks.
                Some("Teredo tunnel")
            } else if seg0 == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("documentation")
            } else {
                None
            }
        }
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("cloud metadata")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else if a == 192 && b == 0 && c == 0 {
        Some("IETF protocol assignment")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("benchmarking")
    } else if ip.is_documentation() {
        Some("documentation")
    } else {
        None
    }
}

/// Whether `policy` refuses `ip`, and why.
pub fn check(policy: &AddressPolicy, ip: IpAddr) -> Option<&'static str> {
    let reason = refused_reason(ip)?;
    match policy {
        AddressPolicy::Any => None,
        AddressPolicy::PublicOnly => Some(reason),
        AddressPolicy::Allow(nets) => (!nets.iter().any(|n| n.contains(&ip))).then_some(reason),
    }
}

/// A refused address, carried through reqwest's error chain from the resolver.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {ip}, a {reason} address")]
pub struct Refused {
    /// The host name that was resolved.
    pub host: String,
    /// The refused address.
    pub ip: IpAddr,
    /// What kind of address it is.
    pub reason: &'static str,
}

/// Where host names are looked up: the system resolver, or a function
/// given by the embedder (the tests play DNS with one, so no query ever
/// leaves the machine). Whatever answers, the guard checks every address.
#[derive(Clone, Default)]
pub struct Lookup {
    custom: Option<Arc<LookupFn>>,
}

/// A lookup function: a host name to its addresses.
pub type LookupFn = dyn Fn(&str) -> std::io::Result<Vec<IpAddr>> + Send + Sync;

impl Lookup {
    /// The system resolver (`getaddrinfo`).
    pub fn system() -> Lookup {
        Lookup::default()
    }

    /// Answers from `f` instead of the system resolver.
    pub fn with(f: impl Fn(&str) -> std::io::Result<Vec<IpAddr>> + Send + Sync + 'static) -> Lookup {
        Lookup {
            custom: Some(Arc::new(f)),
        }
    }

    async fn addrs(&self, host: &str) -> std::io::Result<Vec<SocketAddr>> {
        match &self.custom {
            Some(f) => Ok(f(host)?.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect()),
            None => Ok(tokio::net::lookup_host((host, 0)).await?.collect()),
        }
    }
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.custom.is_some() {
            "Lookup(custom)"
        } else {
            "Lookup(system)"
        })
    }
}

/// A resolver that drops nothing silently: if any address of a name is
/// refused, the whole lookup fails (a mix of public and private answers is a
/// DNS-rebinding pattern). The addresses it returns are the ones the
/// connector dials, so what was checked is what is used: a name is looked
/// up again, and checked again, for every new connection.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    /// The policy applied to every answer.
    pub policy: AddressPolicy,
    /// Where names are looked up.
    pub lookup: Lookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = lookup.addrs(&host).await?;
            for a in &addrs {
                if let Some(reason) = check(&policy, a.ip()) {
                    return Err(Box::new(Refused {
                        host: host.clone(),
                        ip: a.ip(),
                        reason,
                    }) as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The address of an IP-literal URL host, which no resolver sees.
pub fn literal(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_looking_addresses_are_refused() {
        for (addr, why) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.254", "shared (CGNAT)"),
            ("224.0.0.1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("255.255.255.255", "reserved"),
            ("240.0.0.1", "reserved"),
            ("192.0.0.8", "IETF protocol assignment"),
            ("198.18.0.1", "benchmarking"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("fc00::1", "private (unique local)"),
            ("fd00:ec2::254", "private (unique local)"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a00:1", "private"),
            ("2002:c0a8:0101::1", "private"),
            ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo tunnel"),
        ] {
            assert_eq!(refused_reason(ip(addr)), Some(why), "{addr}");
            assert_eq!(check(&AddressPolicy::PublicOnly, ip(addr)), Some(why), "{addr}");
            assert_eq!(check(&AddressPolicy::Any, ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2a00:1450:4001::1",
        ] {
            assert_eq!(refused_reason(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn an_allow_list_opens_only_its_networks() {
        let policy = AddressPolicy::Allow(vec!["127.0.0.2/32".parse().unwrap(), "10.0.0.0/8".parse().unwrap()]);
        assert_eq!(check(&policy, ip("127.0.0.2")), None);
        assert_eq!(check(&policy, ip("10.9.9.9")), None);
        assert_eq!(check(&policy, ip("127.0.0.3")), Some("loopback"));
        assert_eq!(check(&policy, ip("8.8.8.8")), None);
    }

    #[test]
    fn ip_literals_are_seen() {
        assert_eq!(
            literal(&"http://127.0.0.1:8080/x".parse().unwrap()),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(literal(&"http://[::1]/x".parse().unwrap()), Some(ip("::1")));
        assert_eq!(literal(&"http://example.org/".parse().unwrap()), None);
    }
}
