//! Unit tests of `fetch/guard`.

#![allow(clippy::unwrap_used)]

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
fn ipv4_compatible_siit_site_local_and_discard_only_ipv6_are_refused() {
    for (addr, why) in [
        ("::7f00:1", "deprecated IPv4-compatible"),
        ("::ffff:0:7f00:1", "deprecated SIIT (IPv4-translated)"),
        ("fec0::1", "site-local"),
        ("100::1", "discard-only"),
    ] {
        assert_eq!(refused_reason(ip(addr)), Some(why), "{addr}");
        assert_eq!(check(&AddressPolicy::PublicOnly, ip(addr)), Some(why), "{addr}");
    }
}

/// One entry of an address registry: its block, addresses in it with the
/// guard's answer for each (the first address of the block first, its
/// last address last, at least one inside between them), and why.
type Entry = (
    &'static str,
    &'static [(&'static str, Option<&'static str>)],
    &'static str,
);

const UNSPECIFIED: Option<&str> = Some("unspecified");
const PRIVATE: Option<&str> = Some("private");
const IETF: Option<&str> = Some("IETF protocol assignment");
const DOCUMENTATION: Option<&str> = Some("documentation");
const AS112: Option<&str> = Some("AS112 DNS anycast");
const RESERVED: Option<&str> = Some("reserved");
const PASSES: Option<&str> = None;

/// The IANA IPv4 special-purpose address registry, every entry, plus multicast.
const IPV4_REGISTRY: &[Entry] = &[
    (
        "0.0.0.0/8",
        &[
            ("0.0.0.0", UNSPECIFIED),
            ("0.1.2.3", UNSPECIFIED),
            ("0.255.255.255", UNSPECIFIED),
        ],
        "\"this network\": a source address only; as a destination Linux delivers 0.0.0.0 to the local host",
    ),
    (
        "0.0.0.0/32",
        &[("0.0.0.0", UNSPECIFIED)],
        "\"this host on this network\"",
    ),
    (
        "10.0.0.0/8",
        &[
            ("10.0.0.0", PRIVATE),
            ("10.1.2.3", PRIVATE),
            ("10.255.255.255", PRIVATE),
        ],
        "private use (RFC 1918)",
    ),
    (
        "100.64.0.0/10",
        &[
            ("100.64.0.0", Some("shared (CGNAT)")),
            ("100.100.100.200", Some("shared (CGNAT)")),
            ("100.127.255.255", Some("shared (CGNAT)")),
        ],
        "shared address space behind carrier-grade NAT; 100.100.100.200 is a cloud metadata endpoint",
    ),
    (
        "127.0.0.0/8",
        &[
            ("127.0.0.0", Some("loopback")),
            ("127.0.0.1", Some("loopback")),
            ("127.255.255.255", Some("loopback")),
        ],
        "loopback: this machine",
    ),
    (
        "169.254.0.0/16",
        &[
            ("169.254.0.0", Some("link-local")),
            ("169.254.169.254", Some("cloud metadata")),
            ("169.254.255.255", Some("link-local")),
        ],
        "link-local; 169.254.169.254 is the metadata endpoint of most clouds",
    ),
    (
        "172.16.0.0/12",
        &[
            ("172.16.0.0", PRIVATE),
            ("172.20.10.1", PRIVATE),
            ("172.31.255.255", PRIVATE),
        ],
        "private use (RFC 1918)",
    ),
    (
        "192.0.0.0/24",
        &[("192.0.0.0", IETF), ("192.0.0.100", IETF), ("192.0.0.255", IETF)],
        "IETF protocol assignments: not globally reachable as a block",
    ),
    (
        "192.0.0.0/29",
        &[("192.0.0.0", IETF), ("192.0.0.2", IETF), ("192.0.0.7", IETF)],
        "DS-Lite: the tunnel endpoints of the local gateway",
    ),
    ("192.0.0.8/32", &[("192.0.0.8", IETF)], "IPv4 dummy address"),
    (
        "192.0.0.9/32",
        &[("192.0.0.9", IETF)],
        "PCP anycast: globally reachable in the registry, but answered by the nearest PCP server, usually the local router; never a feed server",
    ),
    (
        "192.0.0.10/32",
        &[("192.0.0.10", IETF)],
        "TURN anycast: globally reachable in the registry, an anycast service address like PCP's",
    ),
    (
        "192.0.0.170/32",
        &[("192.0.0.170", IETF)],
        "NAT64/DNS64 discovery: a marker in DNS answers, not a host",
    ),
    (
        "192.0.0.171/32",
        &[("192.0.0.171", IETF)],
        "NAT64/DNS64 discovery, as 192.0.0.170",
    ),
    (
        "192.0.2.0/24",
        &[
            ("192.0.2.0", DOCUMENTATION),
            ("192.0.2.1", DOCUMENTATION),
            ("192.0.2.255", DOCUMENTATION),
        ],
        "documentation (TEST-NET-1)",
    ),
    (
        "192.31.196.0/24",
        &[
            ("192.31.196.0", AS112),
            ("192.31.196.1", AS112),
            ("192.31.196.255", AS112),
        ],
        "AS112-v4: globally reachable in the registry, but an anycast sink for reverse DNS that many operators run inside their own networks",
    ),
    (
        "192.52.193.0/24",
        &[
            ("192.52.193.0", Some("AMT relay anycast")),
            ("192.52.193.1", Some("AMT relay anycast")),
            ("192.52.193.255", Some("AMT relay anycast")),
        ],
        "AMT: globally reachable in the registry, anycast relays for multicast tunnelling, never a feed server",
    ),
    (
        "192.88.99.0/24",
        &[
            ("192.88.99.0", Some("6to4 relay anycast")),
            ("192.88.99.1", Some("6to4 relay anycast")),
            ("192.88.99.255", Some("6to4 relay anycast")),
        ],
        "deprecated 6to4 relay anycast (RFC 7526): a tunnel relay, not a host",
    ),
    (
        "192.88.99.2/32",
        &[("192.88.99.2", Some("6to4 relay anycast"))],
        "6a44 relay anycast, inside the 6to4 relay block",
    ),
    (
        "192.168.0.0/16",
        &[
            ("192.168.0.0", PRIVATE),
            ("192.168.1.1", PRIVATE),
            ("192.168.255.255", PRIVATE),
        ],
        "private use (RFC 1918)",
    ),
    (
        "192.175.48.0/24",
        &[
            ("192.175.48.0", AS112),
            ("192.175.48.6", AS112),
            ("192.175.48.255", AS112),
        ],
        "AS112 direct delegation: as 192.31.196.0/24",
    ),
    (
        "198.18.0.0/15",
        &[
            ("198.18.0.0", Some("benchmarking")),
            ("198.19.1.1", Some("benchmarking")),
            ("198.19.255.255", Some("benchmarking")),
        ],
        "benchmarking: lab networks",
    ),
    (
        "198.51.100.0/24",
        &[
            ("198.51.100.0", DOCUMENTATION),
            ("198.51.100.7", DOCUMENTATION),
            ("198.51.100.255", DOCUMENTATION),
        ],
        "documentation (TEST-NET-2)",
    ),
    (
        "203.0.113.0/24",
        &[
            ("203.0.113.0", DOCUMENTATION),
            ("203.0.113.50", DOCUMENTATION),
            ("203.0.113.255", DOCUMENTATION),
        ],
        "documentation (TEST-NET-3)",
    ),
    (
        "224.0.0.0/4",
        &[
            ("224.0.0.0", Some("multicast")),
            ("233.1.2.3", Some("multicast")),
            ("239.255.255.255", Some("multicast")),
        ],
        "multicast (its own registry): not a unicast destination",
    ),
    (
        "240.0.0.0/4",
        &[
            ("240.0.0.0", RESERVED),
            ("250.1.2.3", RESERVED),
            ("255.255.255.255", RESERVED),
        ],
        "reserved for future use",
    ),
    (
        "255.255.255.255/32",
        &[("255.255.255.255", RESERVED)],
        "limited broadcast",
    ),
];

const TEREDO: Option<&str> = Some("Teredo tunnel");
const COMPATIBLE: Option<&str> = Some("deprecated IPv4-compatible");
const SIIT: Option<&str> = Some("deprecated SIIT (IPv4-translated)");

/// The IANA IPv6 special-purpose address registry, every entry, plus
/// IPv4-compatible, SIIT, site-local and multicast addresses, and what
/// lies outside 2000::/3.
const IPV6_REGISTRY: &[Entry] = &[
    ("::1/128", &[("::1", Some("loopback"))], "loopback"),
    ("::/128", &[("::", UNSPECIFIED)], "unspecified"),
    (
        "::ffff:0:0/96",
        &[
            ("::ffff:0.0.0.0", UNSPECIFIED),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", PRIVATE),
            ("::ffff:8.8.8.8", PASSES),
            ("::ffff:255.255.255.255", RESERVED),
        ],
        "IPv4-mapped: the socket connects over IPv4, so the embedded address decides",
    ),
    (
        "::/96",
        &[
            ("::", UNSPECIFIED),
            ("::7f00:1", COMPATIBLE),
            ("::808:808", COMPATIBLE),
            ("::ffff:ffff", COMPATIBLE),
        ],
        "IPv4-compatible, deprecated (RFC 4291): refused outright, whatever it embeds (:: and ::1 keep their own reasons)",
    ),
    (
        "::ffff:0:0:0/96",
        &[
            ("::ffff:0:0:0", SIIT),
            ("::ffff:0:7f00:1", SIIT),
            ("::ffff:0:808:808", SIIT),
            ("::ffff:0:ffff:ffff", SIIT),
        ],
        "SIIT IPv4-translated (RFC 2765, obsoleted): refused outright, whatever it embeds",
    ),
    (
        "64:ff9b::/96",
        &[
            ("64:ff9b::", UNSPECIFIED),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("cloud metadata")),
            ("64:ff9b::808:808", PASSES),
            ("64:ff9b::ffff:ffff", RESERVED),
        ],
        "NAT64 well-known prefix (globally reachable): the translator connects to the embedded IPv4 address, which decides",
    ),
    (
        "64:ff9b:1::/48",
        &[
            ("64:ff9b:1::", Some("local-use NAT64")),
            ("64:ff9b:1:0:1::808:808", Some("local-use NAT64")),
            ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", Some("local-use NAT64")),
        ],
        "local-use IPv4/IPv6 translation: prefix length and translator are local choices; refused outright",
    ),
    (
        "100::/64",
        &[
            ("100::", Some("discard-only")),
            ("100::1", Some("discard-only")),
            ("100::ffff:ffff:ffff:ffff", Some("discard-only")),
        ],
        "discard-only: a black hole by definition",
    ),
    (
        "100:0:0:1::/64",
        &[
            ("100:0:0:1::", Some("dummy-prefix")),
            ("100:0:0:1::1", Some("dummy-prefix")),
            ("100:0:0:1:ffff:ffff:ffff:ffff", Some("dummy-prefix")),
        ],
        "dummy IPv6 prefix: for hosts without a real one",
    ),
    (
        "2001::/23",
        &[
            ("2001::", TEREDO),
            ("2001:100::1", IETF),
            ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", IETF),
        ],
        "IETF protocol assignments: not globally reachable as a block",
    ),
    (
        "2001::/32",
        &[
            ("2001::", TEREDO),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", TEREDO),
            ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", TEREDO),
        ],
        "Teredo: an obfuscated IPv4 client behind a relay, never a feed server, only a way around the IPv4 checks; refused outright",
    ),
    (
        "2001:1::1/128",
        &[("2001:1::1", IETF)],
        "PCP anycast (globally reachable): refused as 192.0.0.9",
    ),
    (
        "2001:1::2/128",
        &[("2001:1::2", IETF)],
        "TURN anycast (globally reachable): refused as 192.0.0.10",
    ),
    (
        "2001:1::3/128",
        &[("2001:1::3", IETF)],
        "DNS-SD service registration anycast (globally reachable): an anycast service address, refused likewise",
    ),
    (
        "2001:2::/48",
        &[
            ("2001:2::", Some("benchmarking")),
            ("2001:2:0:1::1", Some("benchmarking")),
            ("2001:2:0:ffff:ffff:ffff:ffff:ffff", Some("benchmarking")),
        ],
        "benchmarking: lab networks",
    ),
    (
        "2001:3::/32",
        &[
            ("2001:3::", IETF),
            ("2001:3::1", IETF),
            ("2001:3:ffff:ffff:ffff:ffff:ffff:ffff", IETF),
        ],
        "AMT (globally reachable): refused as 192.52.193.0/24",
    ),
    (
        "2001:4:112::/48",
        &[
            ("2001:4:112::", IETF),
            ("2001:4:112::1", IETF),
            ("2001:4:112:ffff:ffff:ffff:ffff:ffff", IETF),
        ],
        "AS112-v6 (globally reachable): refused as 192.31.196.0/24",
    ),
    (
        "2001:10::/28",
        &[
            ("2001:10::", IETF),
            ("2001:12::1", IETF),
            ("2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", IETF),
        ],
        "ORCHID, deprecated: identifiers, not locators",
    ),
    (
        "2001:20::/28",
        &[
            ("2001:20::", IETF),
            ("2001:25::1", IETF),
            ("2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", IETF),
        ],
        "ORCHIDv2 (globally reachable in the registry): cryptographic host identifiers, not routable locators",
    ),
    (
        "2001:30::/28",
        &[
            ("2001:30::", IETF),
            ("2001:31::1", IETF),
            ("2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", IETF),
        ],
        "DRIP entity tags (globally reachable in the registry): drone identifiers, not hosts",
    ),
    (
        "2001:db8::/32",
        &[
            ("2001:db8::", DOCUMENTATION),
            ("2001:db8::1", DOCUMENTATION),
            ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", DOCUMENTATION),
        ],
        "documentation",
    ),
    (
        "2002::/16",
        &[
            ("2002::", UNSPECIFIED),
            ("2002:7f00:1::1", Some("loopback")),
            ("2002:a9fe:a9fe::", Some("cloud metadata")),
            ("2002:808:808::1", PASSES),
            ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
        ],
        "6to4: tunnelled to the IPv4 address in bits 16..48, which decides",
    ),
    (
        "2620:4f:8000::/48",
        &[
            ("2620:4f:8000::", AS112),
            ("2620:4f:8000::42", AS112),
            ("2620:4f:8000:ffff:ffff:ffff:ffff:ffff", AS112),
        ],
        "AS112 direct delegation (globally reachable): refused as 192.175.48.0/24",
    ),
    (
        "3fff::/20",
        &[
            ("3fff::", DOCUMENTATION),
            ("3fff:abc::1", DOCUMENTATION),
            ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", DOCUMENTATION),
        ],
        "documentation (RFC 9637)",
    ),
    (
        "5f00::/16",
        &[
            ("5f00::", Some("segment-routing (SRv6 SID)")),
            ("5f00:1::1", Some("segment-routing (SRv6 SID)")),
            (
                "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("segment-routing (SRv6 SID)"),
            ),
        ],
        "SRv6 segment identifiers: inside an operator's network",
    ),
    (
        "fc00::/7",
        &[
            ("fc00::", Some("private (unique local)")),
            ("fd00:ec2::254", Some("private (unique local)")),
            (
                "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("private (unique local)"),
            ),
        ],
        "unique local (the IPv6 private ranges); fd00:ec2::254 is a cloud metadata endpoint",
    ),
    (
        "fe80::/10",
        &[
            ("fe80::", Some("link-local")),
            ("fe80::1", Some("link-local")),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some("link-local")),
        ],
        "link-local",
    ),
    (
        "fec0::/10",
        &[
            ("fec0::", Some("site-local")),
            ("fec0::1", Some("site-local")),
            ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some("site-local")),
        ],
        "site-local: deprecated (RFC 3879) but still routed inside some sites",
    ),
    (
        "ff00::/8",
        &[
            ("ff00::", Some("multicast")),
            ("ff02::1", Some("multicast")),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some("multicast")),
        ],
        "multicast (its own registry): not a unicast destination",
    ),
    (
        "4000::/2",
        &[
            ("4000::", Some("unassigned (outside 2000::/3)")),
            ("6000::1", Some("unassigned (outside 2000::/3)")),
            (
                "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("unassigned (outside 2000::/3)"),
            ),
        ],
        "outside 2000::/3, the only block delegated for global unicast: not routed, refused (fail closed)",
    ),
];

#[test]
fn every_iana_special_purpose_entry_is_decided_as_documented() {
    for (block, cases, why) in IPV4_REGISTRY.iter().chain(IPV6_REGISTRY) {
        let net: ipnet::IpNet = block.parse().unwrap();
        let first = ip(cases[0].0);
        let last = ip(cases[cases.len() - 1].0);
        assert_eq!(first, net.network(), "{block}: the first case is the first address");
        assert_eq!(last, net.broadcast(), "{block}: the last case is the last address");
        assert!(
            cases.len() >= 3 || net.prefix_len() == net.max_prefix_len(),
            "{block}: first, last and one inside"
        );
        for (addr, expected) in *cases {
            let a = ip(addr);
            assert!(net.contains(&a), "{addr} is in {block}");
            assert_eq!(refused_reason(a), *expected, "{addr} in {block} ({why})");
            assert_eq!(check(&AddressPolicy::PublicOnly, a), *expected, "{addr} in {block}");
            assert_eq!(check(&AddressPolicy::Any, a), None, "{addr} in {block}");
            assert_eq!(
                check(&AddressPolicy::Allow(vec![net]), a),
                None,
                "{addr}: {block} allowed"
            );
        }
    }
}

#[test]
fn every_ipv6_address_outside_global_unicast_is_refused() {
    for addr in [
        "1::1",
        "64:ff9b:2::1",
        "100:1::1",
        "1fff:ffff::1",
        "e000::1",
        "fbff::1",
        "fe00::1",
    ] {
        assert_eq!(
            refused_reason(ip(addr)),
            Some("unassigned (outside 2000::/3)"),
            "{addr}"
        );
    }
}

#[test]
fn globally_routable_neighbours_of_each_range_pass() {
    for addr in [
        // around 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8
        "1.0.0.0",
        "1.1.1.1",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.1",
        "126.255.255.255",
        "128.0.0.0",
        // around 169.254.0.0/16 and 172.16.0.0/12
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        // around the 192.0.0.0/24 and 192.0.2.0/24 blocks
        "191.255.255.255",
        "192.0.1.1",
        "192.0.3.1",
        // around AS112, AMT and the 6to4 relay block
        "192.31.195.255",
        "192.31.197.0",
        "192.52.192.255",
        "192.52.194.0",
        "192.88.98.255",
        "192.88.100.0",
        // around 192.168.0.0/16 and 192.175.48.0/24
        "192.167.255.255",
        "192.169.0.0",
        "192.175.47.255",
        "192.175.49.0",
        // around 198.18.0.0/15 and the documentation blocks
        "198.17.255.255",
        "198.20.0.0",
        "198.51.99.255",
        "198.51.101.0",
        "203.0.112.255",
        "203.0.114.0",
        // below multicast
        "223.255.255.255",
        "8.8.8.8",
        // IPv4-mapped, NAT64 and 6to4 forms of a public address
        "::ffff:1.1.1.1",
        "64:ff9b::101:101",
        "2002:101:101::1",
        // just past 2001::/23, around 2001:db8::/32
        "2001:200::",
        "2001:4860:4860::8888",
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",
        // around 2002::/16, 2620:4f:8000::/48 and 3fff::/20
        "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2003::",
        "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff",
        "2620:4f:8001::",
        "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "3fff:1000::",
        "2606:4700:4700::1111",
        "2a00:1450:4001::1",
    ] {
        assert_eq!(refused_reason(ip(addr)), None, "{addr}");
        assert_eq!(check(&AddressPolicy::PublicOnly, ip(addr)), None, "{addr}");
    }
}

#[test]
fn messages_read_with_the_right_article() {
    assert_eq!(describe(ip("127.0.0.1"), "loopback"), "127.0.0.1 is a loopback address");
    assert_eq!(
        describe(ip("::7f00:1"), "deprecated IPv4-compatible"),
        "::7f00:1 is a deprecated IPv4-compatible address"
    );
    assert_eq!(
        describe(ip("0.0.0.0"), "unspecified"),
        "0.0.0.0 is an unspecified address"
    );
    let refused = Refused {
        host: "feeds.example".into(),
        ip: ip("192.0.0.9"),
        reason: "IETF protocol assignment",
    };
    assert_eq!(
        refused.to_string(),
        "feeds.example resolves to 192.0.0.9, an IETF protocol assignment address"
    );
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
