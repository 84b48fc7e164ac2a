//! The SSRF guard: which addresses a feed may be fetched from.
//!
//! A feed URL comes from a config file, but its host name resolves wherever
//! DNS says and its redirects point wherever the server says, so a hostile
//! or compromised feed could make the daemon reach the loopback interface,
//! the LAN or a cloud metadata endpoint. The guard refuses such addresses
//! unless the source's [`AddressPolicy`] allows them, at three places: the
//! URL host when it is an IP literal, every address a name resolves to (a
//! resolver plugged into reqwest), and every redirect hop (the fetcher
//! follows redirects itself and re-checks each one). The fetcher never uses
//! a proxy, so the address checked is always the address dialled.
//!
//! # What is refused
//!
//! Under the default policy only globally reachable unicast addresses are
//! fetched. [`refused_reason`] refuses:
//!
//! - every block of the IANA IPv4 special-purpose address registry, plus
//!   multicast (224.0.0.0/4). That includes the few blocks the registry
//!   marks globally reachable: 192.0.0.9 (PCP) and 192.0.0.10 (TURN) inside
//!   192.0.0.0/24, AS112 (192.31.196.0/24, 192.175.48.0/24) and AMT
//!   (192.52.193.0/24). They are anycast addresses of protocol services,
//!   answered by whichever operator is nearest — often a router of the
//!   local network or of the provider — and never serve feeds;
//! - every block of the IANA IPv6 special-purpose address registry, plus
//!   site-local fec0::/10 (deprecated, still routed inside some sites),
//!   multicast ff00::/8 and, for the same reason as in IPv4, the globally
//!   reachable anycast and identifier blocks inside 2001::/23 (PCP, TURN
//!   and DNS-SD anycast, AMT, AS112, ORCHIDv2, DRIP) and 2620:4f:8000::/48
//!   (AS112);
//! - every IPv6 address outside 2000::/3, the only block IANA has delegated
//!   for global unicast: nothing else is routed on the Internet, so the
//!   guard fails closed there rather than list what it knows of.
//!
//! Several IPv6 forms carry an IPv4 address. Where a connection to the IPv6
//! address really reaches that IPv4 host, the guard judges the embedded
//! address, so a public IPv4 host stays reachable and a private one stays
//! refused in any spelling:
//!
//! - `::ffff:0:0/96` (IPv4-mapped): the socket connects over IPv4;
//! - `64:ff9b::/96` (NAT64 well-known prefix): the translator connects to
//!   the low 32 bits;
//! - `2002::/16` (6to4): the packets are tunnelled to the IPv4 address in
//!   bits 16–48.
//!
//! The others are refused outright, whatever they embed: `::/96`
//! (IPv4-compatible, deprecated since 2006) and `::ffff:0:0:0/96` (SIIT
//! IPv4-translated, obsoleted) are spellings no feed is published under,
//! and a stack or translator that still honours them would reach the
//! embedded address unchecked; Teredo (`2001::/32`) hides an obfuscated
//! client address behind a relay, which is no way to reach a feed and only
//! a way around the IPv4 checks; `64:ff9b:1::/48` (local-use translation)
//! has a translator and a prefix length chosen locally.
//!
//! The unit tests table every entry of both registries — its first and
//! last address and one inside, the decision and why — and the public
//! neighbours just outside each block, which pass.
//!
//! An allow-list ([`AddressPolicy::Allow`]) opens exactly the networks it
//! lists, matched against the address as dialled.
//!
//! The policy itself is plain data in `model`, built by `config` from
//! `allow_private_addresses`; this module is where it is enforced.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::model::AddressPolicy;

/// Why an address is refused, in words for the error message ("a {reason}
/// address"; see `article`), or `None` for a globally reachable unicast
/// address. The module documentation lists what is refused and why.
pub fn refused_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// "a" or "an", whichever reads right before `reason`.
fn article(reason: &str) -> &'static str {
    match reason.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

/// "IP is a REASON address", for error messages.
pub(crate) fn describe(ip: IpAddr, reason: &str) -> String {
    format!("{ip} is {} {reason} address", article(reason))
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        (0, ..) => "unspecified",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (100, 64..=127, _) => "shared (CGNAT)",
        (127, ..) => "loopback",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 31, 196) | (192, 175, 48) => "AS112 DNS anycast",
        (192, 52, 193) => "AMT relay anycast",
        (192, 88, 99) => "6to4 relay anycast",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if ip.is_loopback() {
        return Some("loopback");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    // ::ffff:0:0/96, IPv4-mapped: the socket connects to the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    // 64:ff9b::/96, NAT64: the translator connects to the low 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_reason(embedded(s[6], s[7]));
    }
    // 2002::/16, 6to4: tunnelled to the IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        return v4_reason(embedded(s[1], s[2]));
    }
    let reason = match s {
        [0, 0, 0, 0, 0, 0, ..] => "deprecated IPv4-compatible",
        [0, 0, 0, 0, 0xffff, 0, ..] => "deprecated SIIT (IPv4-translated)",
        [0x64, 0xff9b, 1, ..] => "local-use NAT64",
        [0x100, 0, 0, 0, ..] => "discard-only",
        [0x100, 0, 0, 1, ..] => "dummy-prefix",
        [0x2001, 0, ..] => "Teredo tunnel",
        [0x2001, 2, 0, ..] => "benchmarking",
        [0x2001, b, ..] if b < 0x200 => "IETF protocol assignment",
        [0x2001, 0xdb8, ..] => "documentation",
        [0x3fff, b, ..] if b < 0x1000 => "documentation",
        [0x2620, 0x4f, 0x8000, ..] => "AS112 DNS anycast",
        [0x5f00, ..] => "segment-routing (SRv6 SID)",
        [a, ..] if a & 0xfe00 == 0xfc00 => "private (unique local)",
        [a, ..] if a & 0xffc0 == 0xfe80 => "link-local",
        [a, ..] if a & 0xffc0 == 0xfec0 => "site-local",
        [a, ..] if a & 0xff00 == 0xff00 => "multicast",
        [a, ..] if a & 0xe000 != 0x2000 => "unassigned (outside 2000::/3)",
        _ => return None,
    };
    Some(reason)
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
#[error("{host} resolves to {ip}, {} {reason} address", article(reason))]
pub(crate) struct Refused {
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
type LookupFn = dyn Fn(&str) -> std::io::Result<Vec<IpAddr>> + Send + Sync;

impl Lookup {
    /// The system resolver (`getaddrinfo`).
    pub(crate) fn system() -> Lookup {
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
pub(crate) struct GuardedResolver {
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

/// Looks `host` up and checks every address as [`GuardedResolver`] does,
/// for a request whose connection goes to a proxy instead. A name that
/// does not resolve here passes: the proxy may know names this machine
/// does not, and cannot reach a refused address through a name that
/// resolves nowhere locally.
pub(crate) async fn check_name(lookup: &Lookup, policy: &AddressPolicy, host: &str) -> Result<(), Refused> {
    let Ok(addrs) = lookup.addrs(host).await else {
        return Ok(());
    };
    for a in addrs {
        if let Some(reason) = check(policy, a.ip()) {
            return Err(Refused {
                host: host.to_string(),
                ip: a.ip(),
                reason,
            });
        }
    }
    Ok(())
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
mod tests;
