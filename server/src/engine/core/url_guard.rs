//! Where a request may go (SECURITY.md "Outbound requests"). The administrator's template
//! decides the host; a response never does (only the template renders URLs). Two rules:
//!
//! - only `http` and `https` URLs with a host are sent (`file:`, `ftp:`, … are refused);
//! - a value a user typed into a text field and that the template puts into a URL's scheme
//!   or host (a domain, a subdomain) must be a plain host name: letters, digits, `-`, `.`
//!   and `_`, so nobody can turn `{{.subdomain}}.crm.example` into `evil.example/#`.

use super::render::{RenderError, Renderer};
use super::Variables;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("{what} rendered to {url:?}, which is not a URL: {reason}")]
    NotAUrl {
        what: String,
        url: String,
        reason: String,
    },
    #[error("{what} uses the scheme {scheme:?}; only http and https requests are sent")]
    Scheme { what: String, scheme: String },
    #[error("the field \"{field}\" is used in the host part of {what}, so it must be a plain host name (letters, digits, '-', '.' and '_'), not {value:?}")]
    HostValue {
        what: String,
        field: String,
        value: String,
    },
    #[error("{what} names the host {host:?}, a number standing for an IP address; write a host name or a dotted address like 192.0.2.10")]
    NumericHost { what: String, host: String },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Parses a rendered URL and refuses anything but `http`/`https` with a host.
pub fn check_url(what: &str, rendered: &str) -> Result<url::Url, UrlError> {
    let url = url::Url::parse(rendered.trim()).map_err(|e| UrlError::NotAUrl {
        what: what.to_owned(),
        url: rendered.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme {
            what: what.to_owned(),
            scheme: url.scheme().to_owned(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NotAUrl {
            what: what.to_owned(),
            url: rendered.to_owned(),
            reason: "it has no host".into(),
        });
    }
    check_host_text(what, rendered)?;
    Ok(url)
}

/// Refuses a host written as a number in disguise: `0`, `2130706433`, `127.1`, `0x7f.1`,
/// `0177.0.0.1`. A URL parser reads a host whose last label is a number as an IPv4 address
/// (`127.1` is 127.0.0.1), which hides where a request goes from whoever reads the
/// settings; a real host name or a dotted address (`192.0.2.10`) is what people write.
pub fn check_host_text(what: &str, rendered: &str) -> Result<(), UrlError> {
    let host = host_text(rendered.trim());
    let last = host
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || (last.len() > 2
                && last[..2].eq_ignore_ascii_case("0x")
                && last[2..].bytes().all(|b| b.is_ascii_hexdigit())));
    if numeric && host.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(UrlError::NumericHost {
            what: what.to_owned(),
            host: host.to_owned(),
        });
    }
    Ok(())
}

/// The host as written in a URL: without user info and port; an IPv6 literal keeps its
/// brackets.
fn host_text(url: &str) -> &str {
    let authority = &scheme_and_authority(url)[url.find("://").map_or(0, |i| i + 3)..];
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.starts_with('[') {
        return host_port.split_inclusive(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

pub fn is_host_name(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Refuses a user-typed value that `url_template` puts into the scheme or host. Finds out
/// where each value lands by rendering once more with a marker in its place.
pub fn check_user_values_in_host(
    renderer: &Renderer,
    what: &str,
    url_template: &str,
    variables: &Variables,
    user_fields: &[String],
) -> Result<(), UrlError> {
    let candidates: Vec<(&String, &String)> = user_fields
        .iter()
        .filter_map(|name| variables.get(name).map(|value| (name, value)))
        .filter(|(_, value)| !is_host_name(value))
        .collect();
    if candidates.is_empty() || !url_template.contains("{{") {
        return Ok(());
    }
    let mut marked = variables.clone();
    for (index, (name, _)) in candidates.iter().enumerate() {
        marked.insert((*name).clone(), marker(index));
    }
    let refuse = |name: &String, value: &String| UrlError::HostValue {
        what: what.to_owned(),
        field: name.clone(),
        value: value.clone(),
    };
    let Ok(rendered) = renderer.render(what, url_template, &marked) else {
        // The template branches on the value itself; without knowing where it lands, a
        // value that is not a host name is refused.
        let (name, value) = candidates[0];
        return Err(refuse(name, value));
    };
    let head = scheme_and_authority(&rendered);
    for (index, (name, value)) in candidates.iter().enumerate() {
        if head.contains(&marker(index)) {
            return Err(refuse(name, value));
        }
    }
    Ok(())
}

fn marker(index: usize) -> String {
    format!("pbhostmarker{index}x")
}

/// The part of a URL before its path: scheme, `://`, user info, host and port.
fn scheme_and_authority(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_pass() {
        assert!(check_url("u", "https://crm.example/a").is_ok());
        assert!(check_url("u", "http://10.0.0.5:8080/").is_ok());
        for bad in ["file:///etc/passwd", "ftp://crm.example/", "gopher://x/"] {
            assert!(
                matches!(check_url("u", bad), Err(UrlError::Scheme { .. })),
                "{bad}"
            );
        }
        assert!(matches!(check_url("u", ""), Err(UrlError::NotAUrl { .. })));
        assert!(matches!(
            check_url("u", "/relative"),
            Err(UrlError::NotAUrl { .. })
        ));
    }

    #[test]
    fn a_host_must_not_be_a_number_in_disguise() {
        for bad in [
            "http://0/",
            "http://2130706433/x",
            "http://127.1:8080/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.0.0.01/",
            "http://user:pw@127.1/",
            "http://10.1/",
        ] {
            assert!(
                matches!(check_url("u", bad), Err(UrlError::NumericHost { .. })),
                "{bad}: {:?}",
                check_url("u", bad)
            );
        }
        for good in [
            "http://127.0.0.1:8080/",
            "http://192.0.2.10/",
            "https://1234567.suitetalk.api.example.com/",
            "https://crm.example./",
            "http://[::1]:9000/",
            "https://0x7f.example/",
        ] {
            assert!(
                check_url("u", good).is_ok(),
                "{good}: {:?}",
                check_url("u", good)
            );
        }
    }

    #[test]
    fn a_user_value_in_the_host_must_be_a_host_name() {
        let renderer = Renderer::utc();
        let fields = vec!["subdomain".to_owned(), "note".to_owned()];
        let template = "https://{{.subdomain}}.crm.example/api?q={{.note}}";
        for evil in ["evil.example/#", "a@b", "x:1", "a b", "a?b", "a\nb"] {
            let result = check_user_values_in_host(
                &renderer,
                "URLFormat",
                template,
                &vars(&[("subdomain", evil), ("note", "fine")]),
                &fields,
            );
            assert!(
                matches!(&result, Err(UrlError::HostValue { field, .. }) if field == "subdomain"),
                "{evil}: {result:?}"
            );
        }
        // Anything may go into the path or query.
        check_user_values_in_host(
            &renderer,
            "URLFormat",
            template,
            &vars(&[("subdomain", "acme-eu.prod"), ("note", "a/b?c#d@e")]),
            &fields,
        )
        .unwrap();
    }
}
