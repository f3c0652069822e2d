//! Where integration requests may connect (SECURITY.md "Outbound requests"): the
//! operator's `PATCHBAY_OUTBOUND_DENY` and `PATCHBAY_OUTBOUND_ALLOW` over a built-in default
//! that refuses link-local and cloud metadata addresses. CRMs often run on-premises, so
//! loopback and private ranges stay usable unless the operator says otherwise.
//!
//! The decision is made on the address a connection really goes to: the executor asks it
//! for every address a host name resolves to (so DNS rebinding cannot pass it) and for
//! every IP literal (redirects stay within the request's origin).

use std::net::IpAddr;

use ipnet::IpNet;

/// The setting that refuses addresses or host names.
pub const DENY_SETTING: &str = "PATCHBAY_OUTBOUND_DENY";
/// The setting that, when set, is the only place requests may go.
pub const ALLOW_SETTING: &str = "PATCHBAY_OUTBOUND_ALLOW";

/// Refused whatever the operator sets, unless `PATCHBAY_OUTBOUND_ALLOW` names them: the
/// link-local ranges (where clouds answer metadata requests with their credentials), the
/// metadata addresses outside them, "this network", multicast and broadcast.
pub const DEFAULT_DENY: [&str; 9] = [
    "169.254.0.0/16",
    "fe80::/10",
    "100.100.100.200/32",
    "fd00:ec2::254/128",
    "0.0.0.0/8",
    "::/128",
    "224.0.0.0/4",
    "ff00::/8",
    "255.255.255.255/32",
];

/// One entry of a setting: an address range, or a host name (`crm.example`, or
/// `*.crm.example` for its subdomains).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Range(IpNet),
    Host(String),
}

impl Rule {
    fn parse(setting: &'static str, entry: &str) -> Result<Rule, PolicyError> {
        if let Ok(range) = entry.parse::<IpNet>() {
            return Ok(Rule::Range(range));
        }
        if let Ok(address) = entry.parse::<IpAddr>() {
            return Ok(Rule::Range(IpNet::from(address)));
        }
        let name = entry.strip_prefix("*.").unwrap_or(entry);
        let is_name = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if !is_name {
            return Err(PolicyError {
                setting,
                entry: entry.to_owned(),
            });
        }
        Ok(Rule::Host(entry.to_ascii_lowercase()))
    }

    fn matches(&self, host: Option<&str>, address: IpAddr) -> bool {
        match self {
            Rule::Range(range) => range.contains(&address),
            Rule::Host(rule) => host.is_some_and(|host| {
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                match rule.strip_prefix("*.") {
                    Some(parent) => host.ends_with(&format!(".{parent}")),
                    None => host == *rule,
                }
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{entry}\" is not an address, a CIDR range like 10.0.0.0/8 or a host name like crm.example or *.crm.example")]
pub struct PolicyError {
    pub setting: &'static str,
    pub entry: String,
}

/// Why a connection is not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{address} is refused by {DENY_SETTING} ({rule})")]
    Denied { address: IpAddr, rule: String },
    #[error("{address} is not in {ALLOW_SETTING}")]
    NotAllowed { address: IpAddr },
    #[error("{address} is a link-local, metadata or broadcast address, refused by default ({DENY_SETTING}); name it in {ALLOW_SETTING} to reach it")]
    Default { address: IpAddr },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundPolicy {
    deny: Vec<Rule>,
    allow: Vec<Rule>,
    default_deny: Vec<IpNet>,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        OutboundPolicy {
            deny: Vec::new(),
            allow: Vec::new(),
            default_deny: DEFAULT_DENY
                .iter()
                .filter_map(|range| range.parse().ok())
                .collect(),
        }
    }
}

impl OutboundPolicy {
    /// The settings' comma-separated entries; empty text is no entry.
    pub fn parse(deny: &str, allow: &str) -> Result<OutboundPolicy, PolicyError> {
        let rules = |setting: &'static str, text: &str| {
            text.split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| Rule::parse(setting, entry))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(OutboundPolicy {
            deny: rules(DENY_SETTING, deny)?,
            allow: rules(ALLOW_SETTING, allow)?,
            ..OutboundPolicy::default()
        })
    }

    /// Whether a connection to `address` (reached by the name `host`, when it had one) may
    /// be made. The operator's deny list wins; then, when set, the allow list decides
    /// alone (so it can open a default-denied address); then the default.
    pub fn check(&self, host: Option<&str>, address: IpAddr) -> Result<(), Refused> {
        // `::ffff:169.254.169.254` is 169.254.169.254.
        let address = address.to_canonical();
        if let Some(rule) = self.deny.iter().find(|r| r.matches(host, address)) {
            return Err(Refused::Denied {
                address,
                rule: match rule {
                    Rule::Range(range) => range.to_string(),
                    Rule::Host(name) => name.clone(),
                },
            });
        }
        if !self.allow.is_empty() {
            return match self.allow.iter().any(|r| r.matches(host, address)) {
                true => Ok(()),
                false => Err(Refused::NotAllowed { address }),
            };
        }
        if self
            .default_deny
            .iter()
            .any(|range| range.contains(&address))
        {
            return Err(Refused::Default { address });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn by_default_link_local_and_metadata_are_refused_and_local_networks_are_not() {
        let policy = OutboundPolicy::default();
        for refused in [
            "169.254.169.254",
            "169.254.1.1",
            "fe80::1",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "0.0.0.0",
            "::",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(
                matches!(
                    policy.check(None, ip(refused)),
                    Err(Refused::Default { .. })
                ),
                "{refused}"
            );
        }
        for allowed in [
            "127.0.0.1",
            "::1",
            "10.0.0.5",
            "192.168.1.10",
            "172.16.0.1",
            "203.0.113.7",
        ] {
            assert_eq!(policy.check(None, ip(allowed)), Ok(()), "{allowed}");
        }
    }

    #[test]
    fn the_deny_list_wins_and_the_allow_list_decides_alone() {
        let policy = OutboundPolicy::parse("10.0.0.0/8, intranet.example", "").unwrap();
        assert!(matches!(
            policy.check(None, ip("10.1.2.3")),
            Err(Refused::Denied { .. })
        ));
        assert!(matches!(
            policy.check(Some("INTRANET.example."), ip("192.0.2.1")),
            Err(Refused::Denied { .. })
        ));
        assert_eq!(policy.check(Some("crm.example"), ip("192.0.2.1")), Ok(()));

        let policy =
            OutboundPolicy::parse("192.0.2.66", "*.crm.example, 192.0.2.0/24, 169.254.10.10")
                .unwrap();
        assert_eq!(
            policy.check(Some("eu.crm.example"), ip("198.51.100.1")),
            Ok(())
        );
        assert_eq!(policy.check(None, ip("192.0.2.7")), Ok(()));
        // The allow list opens a default-denied address; the deny list still wins.
        assert_eq!(policy.check(None, ip("169.254.10.10")), Ok(()));
        assert!(matches!(
            policy.check(None, ip("192.0.2.66")),
            Err(Refused::Denied { .. })
        ));
        for (host, address) in [(Some("crm.example"), "198.51.100.1"), (None, "127.0.0.1")] {
            assert!(matches!(
                policy.check(host, ip(address)),
                Err(Refused::NotAllowed { .. })
            ));
        }
    }

    #[test]
    fn a_bad_entry_is_named_with_its_setting() {
        let error = OutboundPolicy::parse("", "crm.example, http://x/").unwrap_err();
        assert_eq!(error.setting, ALLOW_SETTING);
        assert_eq!(error.entry, "http://x/");
        assert!(OutboundPolicy::parse("10.0.0.0/33", "").is_err());
        let message = Refused::Default {
            address: ip("169.254.169.254"),
        }
        .to_string();
        assert!(message.contains(DENY_SETTING) && message.contains(ALLOW_SETTING));
    }
}
