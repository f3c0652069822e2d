//! UserAssociation's pagination as decisions (docs/template-format.md "Scenario
//! parameters"; README "CRM user sync"): the URL of each page in `page_number` and `offset`
//! mode, the next link in `link` mode (a path into the answer, or the `Link` header's
//! `rel="next"`), and when a sync stops: an empty page, no next link, a link seen before
//! (an error), or [`MAX_SYNC_REQUESTS`] (reported, never silent).

use app::template::model::ScenarioView;
use url::Url;

/// The most requests one synchronisation sends (the vendor's limit).
pub const MAX_SYNC_REQUESTS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pagination {
    /// One request.
    Disabled,
    /// `page` starts at `start` and goes up by one; `size` records per page.
    PageNumber {
        param: String,
        start: i64,
        size_param: String,
        size: i64,
    },
    /// `offset` starts at `start` and goes up by `limit`.
    Offset {
        param: String,
        start: i64,
        limit_param: String,
        limit: i64,
    },
    /// The next page's URL is read from the answer at `path`, else from a `Link` header.
    Link { path: String },
}

fn number(scenario: &ScenarioView, name: &str, default: i64) -> Result<i64, String> {
    match scenario.setting(name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {text:?}")),
    }
}

fn name(scenario: &ScenarioView, parameter: &str, default: &str) -> String {
    match scenario.setting(parameter).map(str::trim) {
        None | Some("") => default.to_owned(),
        Some(text) => text.to_owned(),
    }
}

impl Pagination {
    /// The UserAssociation scenario's `PaginationType` and its parameters.
    pub fn read(scenario: &ScenarioView) -> Result<Pagination, String> {
        let kind = scenario
            .setting("PaginationType")
            .map(str::trim)
            .unwrap_or_default();
        let positive = |name: &str, value: i64| {
            if value > 0 {
                Ok(value)
            } else {
                Err(format!("{name} must be at least 1, not {value}"))
            }
        };
        Ok(match kind {
            "" | "disabled" => Pagination::Disabled,
            "page_number" => Pagination::PageNumber {
                param: name(scenario, "PageParamName", "page"),
                start: number(scenario, "PageStartValue", 1)?,
                size_param: name(scenario, "PageSizeParamName", "per_page"),
                size: positive("PageSizeValue", number(scenario, "PageSizeValue", 100)?)?,
            },
            "offset" => Pagination::Offset {
                param: name(scenario, "OffsetParamName", "offset"),
                start: number(scenario, "OffsetValue", 0)?,
                limit_param: name(scenario, "LimitParamName", "limit"),
                limit: positive("LimitValue", number(scenario, "LimitValue", 100)?)?,
            },
            "link" => Pagination::Link {
                path: scenario
                    .setting("NextPageLinkPath")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            },
            other => {
                return Err(format!(
                    "PaginationType must be disabled, page_number, offset or link, not {other:?}"
                ))
            }
        })
    }

    /// The URL of the `n`-th request (from 0) in `page_number` and `offset` mode: `base`
    /// with the page (or offset) and size parameters set, replacing any already there.
    pub fn page_url(&self, base: &Url, n: usize) -> Url {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let set = match self {
            Pagination::PageNumber {
                param,
                start,
                size_param,
                size,
            } => vec![
                (param.as_str(), start.saturating_add(n)),
                (size_param.as_str(), *size),
            ],
            Pagination::Offset {
                param,
                start,
                limit_param,
                limit,
            } => vec![
                (
                    param.as_str(),
                    start.saturating_add(n.saturating_mul(*limit)),
                ),
                (limit_param.as_str(), *limit),
            ],
            Pagination::Disabled | Pagination::Link { .. } => return base.clone(),
        };
        let kept: Vec<(String, String)> = base
            .query_pairs()
            .filter(|(k, _)| !set.iter().any(|(name, _)| k == name))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut url = base.clone();
        {
            let mut query = url.query_pairs_mut();
            query.clear();
            for (k, v) in &kept {
                query.append_pair(k, v);
            }
            for (k, v) in &set {
                query.append_pair(k, &v.to_string());
            }
        }
        url
    }
}

/// The `rel="next"` target of an HTTP `Link` header (RFC 8288), if any.
pub fn link_header_next(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.split_once('='))
            .any(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
            .then_some(target)
    })
}

/// Why a synchronisation stopped asking for pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Pagination is off: one request was all.
    Single,
    /// A page came back without users.
    EmptyPage,
    /// The answer named no next page.
    NoNextLink,
    /// [`MAX_SYNC_REQUESTS`] requests were sent; more users may exist.
    Limit,
}

/// What to do after page `n` (from 0) brought `users` users: the next URL, or stop. In link
/// mode `next_link` is what the answer named (body path first, then the `Link` header),
/// resolved against `current`; a link already visited is an error (a loop).
pub fn after_page(
    pagination: &Pagination,
    base: &Url,
    current: &Url,
    n: usize,
    users: usize,
    next_link: Option<&str>,
    visited: &[Url],
) -> Result<Result<Url, Stop>, String> {
    if matches!(pagination, Pagination::Disabled) {
        return Ok(Err(Stop::Single));
    }
    if users == 0 {
        return Ok(Err(Stop::EmptyPage));
    }
    let next = match pagination {
        Pagination::Link { .. } => {
            // A last page without a next link ends a complete sync, the 100th included.
            let Some(link) = next_link.map(str::trim).filter(|l| !l.is_empty()) else {
                return Ok(Err(Stop::NoNextLink));
            };
            let next = current
                .join(link)
                .map_err(|e| format!("the next page link {link:?} is not a URL: {e}"))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(format!("the next page link {next} is not http or https"));
            }
            // The request carries the integration's credentials and headers: they go only
            // to the origin the template named, never where an answer points.
            if next.origin() != base.origin() {
                return Err(format!(
                    "the next page link {}{} leaves {}, the origin the template named; its credentials are not sent there",
                    next.origin().ascii_serialization(),
                    next.path(),
                    base.origin().ascii_serialization()
                ));
            }
            if visited.contains(&next) {
                return Err(format!(
                    "the next page link {next} leads back to a page already read (a loop)"
                ));
            }
            next
        }
        _ => pagination.page_url(base, n + 1),
    };
    if n + 1 >= MAX_SYNC_REQUESTS {
        return Ok(Err(Stop::Limit));
    }
    Ok(Ok(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::model::TemplateView;
    use app::template::xml::parse;

    fn scenario(parameters: &str) -> TemplateView {
        TemplateView::read(
            &parse(&format!(
                r#"<Information Provider="crm" Name="n" Key="k" AuthType="none"><Scenarios><Scenario Id="UserAssociation" Type="REST"><Parameters>{parameters}</Parameters><Requests><Request Name="UserAssociation" Method="GET" URLFormat="https://crm.example/users"/></Requests></Scenario></Scenarios></Information>"#
            ))
            .unwrap(),
        )
    }

    fn read(parameters: &str) -> Result<Pagination, String> {
        Pagination::read(scenario(parameters).scenario("UserAssociation").unwrap())
    }

    #[test]
    fn page_and_offset_urls_count_up_and_replace_what_the_url_had() {
        let page = read(
            r#"<Parameter Name="PaginationType" Value="page_number"/><Parameter Name="PageParamName" Value="_page"/><Parameter Name="PageStartValue" Value="1"/><Parameter Name="PageSizeParamName" Value="_limit"/><Parameter Name="PageSizeValue" Value="50"/>"#,
        )
        .unwrap();
        let base = Url::parse("https://crm.example/users?type=active&_page=9").unwrap();
        assert_eq!(
            page.page_url(&base, 0).as_str(),
            "https://crm.example/users?type=active&_page=1&_limit=50"
        );
        assert_eq!(
            page.page_url(&base, 2).as_str(),
            "https://crm.example/users?type=active&_page=3&_limit=50"
        );
        let offset = read(
            r#"<Parameter Name="PaginationType" Value="offset"/><Parameter Name="OffsetParamName" Value="start"/><Parameter Name="OffsetValue" Value="0"/><Parameter Name="LimitParamName" Value="count"/><Parameter Name="LimitValue" Value="100"/>"#,
        )
        .unwrap();
        assert_eq!(
            offset.page_url(&base, 3).as_str(),
            "https://crm.example/users?type=active&_page=9&start=300&count=100"
        );
        assert_eq!(read("").unwrap(), Pagination::Disabled);
        assert!(read(r#"<Parameter Name="PaginationType" Value="cursor"/>"#)
            .unwrap_err()
            .contains("cursor"));
        assert!(read(r#"<Parameter Name="PaginationType" Value="offset"/><Parameter Name="LimitValue" Value="0"/>"#)
            .unwrap_err()
            .contains("LimitValue"));
    }

    #[test]
    fn a_sync_stops_on_an_empty_page_a_missing_link_or_the_limit_and_refuses_a_loop() {
        let base = Url::parse("https://crm.example/users").unwrap();
        let link = Pagination::Link {
            path: "links.next".into(),
        };
        let next = after_page(
            &link,
            &base,
            &base,
            0,
            5,
            Some("/users?page=2"),
            std::slice::from_ref(&base),
        )
        .unwrap()
        .unwrap();
        assert_eq!(next.as_str(), "https://crm.example/users?page=2");
        assert_eq!(
            after_page(&link, &base, &next, 1, 5, None, &[]).unwrap(),
            Err(Stop::NoNextLink)
        );
        assert_eq!(
            after_page(&link, &base, &next, 1, 0, Some("/users?page=3"), &[]).unwrap(),
            Err(Stop::EmptyPage)
        );
        let looped = after_page(
            &link,
            &base,
            &next,
            1,
            5,
            Some("/users"),
            &[base.clone(), next.clone()],
        );
        assert!(looped.unwrap_err().contains("loop"));
        assert!(
            after_page(&link, &base, &next, 1, 5, Some("javascript:x"), &[])
                .unwrap_err()
                .contains("http")
        );
        // Another host, port or scheme is another origin: not followed with credentials.
        for elsewhere in [
            "https://collector.example/users?page=3",
            "https://crm.example:8443/users?page=3",
            "http://crm.example/users?page=3",
        ] {
            let refused = after_page(&link, &base, &next, 1, 5, Some(elsewhere), &[]).unwrap_err();
            assert!(
                refused.contains("leaves https://crm.example"),
                "{elsewhere}: {refused}"
            );
        }
        assert_eq!(
            after_page(
                &link,
                &base,
                &next,
                MAX_SYNC_REQUESTS - 1,
                5,
                Some("/users?page=101"),
                &[]
            )
            .unwrap(),
            Err(Stop::Limit)
        );
        // The 100th page without a next link: every page was read.
        assert_eq!(
            after_page(&link, &base, &next, MAX_SYNC_REQUESTS - 1, 5, None, &[]).unwrap(),
            Err(Stop::NoNextLink)
        );
        assert_eq!(
            after_page(&Pagination::Disabled, &base, &base, 0, 5, None, &[]).unwrap(),
            Err(Stop::Single)
        );
    }

    #[test]
    fn the_link_header_names_the_next_page() {
        let header = r#"<http://x/users?_page=1>; rel="first", <http://x/users?_page=2>; rel="next", <http://x/users?_page=5>; rel="last""#;
        assert_eq!(link_header_next(header), Some("http://x/users?_page=2"));
        assert_eq!(link_header_next(r#"<http://x/a>; rel="prev""#), None);
        assert_eq!(link_header_next("garbage"), None);
    }
}
