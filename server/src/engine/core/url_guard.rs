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
    Ok(url)
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
