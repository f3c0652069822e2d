//! Who may call a REST endpoint: the one way the API authorizes. A handler names its
//! resource's [`Access`] in its arguments (`Caller<Lookups>`), and the request never reaches
//! it unless the caller is let in; every refusal has the same codes:
//! `auth.required` (401) without a session or a token (or without a token where only one
//! will do), `auth.forbidden` (403) for a non-administrator where one is needed,
//! `auth.scope` (403) for a token of another scope.

use std::marker::PhantomData;

use app::accounts::{CurrentUser, TokenScope};
use app::viewer::{SessionCsrfToken, Viewer};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::ApiError;
use crate::web::middleware::viewer::ApiClient;

/// Who may call a resource's endpoints.
pub struct Rule {
    /// Only administrators, who manage this (`only administrators manage {it}`).
    pub admin_only: Option<&'static str>,
    /// The API token scopes let in.
    pub scopes: &'static [TokenScope],
    /// What a token of another scope is refused (`… scope does not include {scoped}`).
    pub scoped: &'static str,
    /// Whether a signed-in browser session may call too, or only an API token.
    pub sessions: bool,
    /// Whether agents may call: only for their own calls; every other resource refuses them.
    pub agents: bool,
}

/// A resource's rule, named by a type so that a handler's arguments say who may call it.
pub trait Access {
    const RULE: Rule;
}

/// `/metrics`: administrators, or a token of scope `metrics`, which can read nothing else
/// (a Prometheus server's credential).
pub struct Metrics;
impl Access for Metrics {
    const RULE: Rule = Rule {
        admin_only: Some("the metrics"),
        scopes: &[TokenScope::Metrics],
        scoped: "the metrics",
        sessions: true,
        agents: false,
    };
}

/// Contact lookups: a `lookup` or `admin` token, or any signed-in user.
pub struct Lookups;
impl Access for Lookups {
    const RULE: Rule = Rule {
        admin_only: None,
        scopes: &[TokenScope::Lookup, TokenScope::Admin],
        scoped: "contact lookups",
        sessions: true,
        agents: false,
    };
}

/// Call events: only a token of scope `events` (a phone system, never a browser).
pub struct CallEvents;
impl Access for CallEvents {
    const RULE: Rule = Rule {
        admin_only: None,
        scopes: &[TokenScope::Events],
        scoped: "call events",
        sessions: false,
        agents: false,
    };
}

/// The phone system's settings: administrators, or an `admin` token.
pub struct PhoneSystem;
impl Access for PhoneSystem {
    const RULE: Rule = Rule {
        admin_only: Some("the phone system"),
        scopes: &[TokenScope::Admin],
        scoped: "the phone system",
        sessions: true,
        agents: false,
    };
}

/// The extension directory: administrators, or an `admin` token.
pub struct Directory;
impl Access for Directory {
    const RULE: Rule = Rule {
        admin_only: Some("the extension directory"),
        scopes: &[TokenScope::Admin],
        scoped: "the extension directory",
        sessions: true,
        agents: false,
    };
}

/// Managing templates: administrators, or an `admin` token.
pub struct ManageTemplates;
impl Access for ManageTemplates {
    const RULE: Rule = Rule {
        admin_only: Some("templates"),
        scopes: &[TokenScope::Admin],
        scoped: "managing templates",
        sessions: true,
        agents: false,
    };
}

/// Templates' logos, which every signed-in user's Integrations pages show.
pub struct TemplateLogos;
impl Access for TemplateLogos {
    const RULE: Rule = Rule {
        admin_only: None,
        scopes: &[TokenScope::Admin],
        scoped: "managing templates",
        sessions: true,
        agents: false,
    };
}

/// An integration's settings, Features, checks, users and association, phonebook, console,
/// test cases and health: any signed-in user (the pages let them), or an `admin` token (a
/// script, a CI job running the cases).
pub struct Integrations;
impl Access for Integrations {
    const RULE: Rule = Rule {
        admin_only: None,
        scopes: &[TokenScope::Admin],
        scoped: "integrations",
        sessions: true,
        agents: false,
    };
}

/// Activity and the queue's jobs: any signed-in user, or an `admin` token.
pub struct ActivityRecord;
impl Access for ActivityRecord {
    const RULE: Rule = Rule {
        admin_only: None,
        scopes: &[TokenScope::Admin],
        scoped: "Activity",
        sessions: true,
        agents: false,
    };
}

/// Retrying and discarding the queue's jobs: administrators, or an `admin` token.
pub struct QueueJobs;
impl Access for QueueJobs {
    const RULE: Rule = Rule {
        admin_only: Some("the queue"),
        scopes: &[TokenScope::Admin],
        scoped: "the queue",
        sessions: true,
        agents: false,
    };
}

/// Accounts and API tokens: administrators, or an `admin` token (which may only create
/// tokens that expire no later than itself: web/api/accounts.rs).
pub struct Accounts;
impl Access for Accounts {
    const RULE: Rule = Rule {
        admin_only: Some("accounts and API tokens"),
        scopes: &[TokenScope::Admin],
        scoped: "accounts and API tokens",
        sessions: true,
        agents: false,
    };
}

/// Which revision an integration runs (Apply, Roll back): administrators, or an `admin`
/// token, as for templates.
pub struct IntegrationRevisions;
impl Access for IntegrationRevisions {
    const RULE: Rule = Rule {
        admin_only: Some("which revision an integration runs"),
        scopes: &[TokenScope::Admin],
        scoped: "integrations",
        sessions: true,
        agents: false,
    };
}

/// An agent's own calls (the call popup's stream): a signed-in browser session of any
/// role, never a token.
pub struct AgentCalls;
impl Access for AgentCalls {
    const RULE: Rule = Rule {
        admin_only: None,
        scopes: &[],
        scoped: "an agent's calls (a browser session only)",
        sessions: true,
        agents: true,
    };
}

/// The caller of an endpoint of `A`, let in by `A`'s rule.
pub struct Caller<A> {
    pub user: CurrentUser,
    /// The API token it came with; `None` for a browser session.
    pub token: Option<ApiClient>,
    /// A browser session's own secret (its CSRF token), which binds an OAuth 2.0
    /// authorization to the session that started it; empty for a token.
    pub session_secret: String,
    access: PhantomData<A>,
}

impl<A> Caller<A> {
    fn new(
        user: &CurrentUser,
        session: Option<&SessionCsrfToken>,
        client: Option<&ApiClient>,
    ) -> Self {
        let session_secret = match (client, session) {
            (None, Some(session)) => session.0.clone(),
            _ => String::new(),
        };
        Caller {
            user: user.clone(),
            token: client.cloned(),
            session_secret,
            access: PhantomData,
        }
    }
}

impl<S: Send + Sync, A: Access> FromRequestParts<S> for Caller<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = parts.extensions.get::<Viewer>();
        let client = parts.extensions.get::<ApiClient>();
        let user = authorize(viewer.and_then(|v| v.user.as_ref()), client, &A::RULE)?;
        Ok(Caller::new(user, parts.extensions.get(), client))
    }
}

/// `Option<Caller<A>>`: `None` when the request brings no credentials `A`'s rule takes (no
/// token, and no session where sessions are let in), so a handler can let a caller in
/// another way (a signed webhook); credentials it does bring are judged as always.
impl<S: Send + Sync, A: Access> axum::extract::OptionalFromRequestParts<S> for Caller<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        let viewer = parts.extensions.get::<Viewer>();
        let client = parts.extensions.get::<ApiClient>();
        let user = viewer.and_then(|v| v.user.as_ref());
        if user.is_none() || (client.is_none() && !A::RULE.sessions) {
            return Ok(None);
        }
        let user = authorize(user, client, &A::RULE)?;
        Ok(Some(Caller::new(user, parts.extensions.get(), client)))
    }
}

/// The caller if `rule` lets them in.
fn authorize<'a>(
    user: Option<&'a CurrentUser>,
    client: Option<&ApiClient>,
    rule: &Rule,
) -> Result<&'a CurrentUser, ApiError> {
    let required = || {
        let message = if rule.sessions {
            "sign in or send an API token".to_owned()
        } else {
            let scopes: Vec<&str> = rule.scopes.iter().map(|s| s.as_str()).collect();
            format!(
                "send an API token of scope {}: Authorization: Bearer <token>",
                scopes.join(" or ")
            )
        };
        ApiError::new(StatusCode::UNAUTHORIZED, "auth.required", message)
    };
    let user = user.ok_or_else(required)?;
    if client.is_none() && !rule.sessions {
        return Err(required());
    }
    if user.is_agent() && !rule.agents {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            "agents see their own calls only",
        ));
    }
    if let Some(managed) = rule.admin_only.filter(|_| !user.is_admin()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            format!("only administrators manage {managed}"),
        ));
    }
    if client.is_some_and(|c| !rule.scopes.contains(&c.scope)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.scope",
            format!("this API token's scope does not include {}", rule.scoped),
        ));
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::accounts::Role;

    fn user(role: Role) -> CurrentUser {
        CurrentUser {
            id: 1,
            email: "ann@example.com".into(),
            role,
        }
    }

    fn token(scope: TokenScope) -> ApiClient {
        ApiClient { token_id: 1, scope }
    }

    /// A rule, a caller (signed in or not), the token's scope if any, and the refusal code.
    type Case<'a> = (
        &'a Rule,
        Option<&'a CurrentUser>,
        Option<TokenScope>,
        Option<&'a str>,
    );

    fn code(result: Result<&CurrentUser, ApiError>) -> Option<&'static str> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn each_rule_lets_in_exactly_its_callers() {
        let (admin, member, agent) = (user(Role::Admin), user(Role::User), user(Role::Agent));
        let cases: [Case; 17] = [
            (&Lookups::RULE, Some(&agent), None, Some("auth.forbidden")),
            (
                &TemplateLogos::RULE,
                Some(&agent),
                None,
                Some("auth.forbidden"),
            ),
            (&AgentCalls::RULE, Some(&agent), None, None),
            (&AgentCalls::RULE, None, None, Some("auth.required")),
            (
                &AgentCalls::RULE,
                Some(&admin),
                Some(TokenScope::Admin),
                Some("auth.scope"),
            ),
            (&Lookups::RULE, None, None, Some("auth.required")),
            (&Lookups::RULE, Some(&member), None, None),
            (
                &Lookups::RULE,
                Some(&member),
                Some(TokenScope::Lookup),
                None,
            ),
            (
                &Lookups::RULE,
                Some(&admin),
                Some(TokenScope::Events),
                Some("auth.scope"),
            ),
            (&CallEvents::RULE, Some(&admin), None, Some("auth.required")),
            (
                &CallEvents::RULE,
                Some(&member),
                Some(TokenScope::Events),
                None,
            ),
            (
                &CallEvents::RULE,
                Some(&admin),
                Some(TokenScope::Admin),
                Some("auth.scope"),
            ),
            (
                &Directory::RULE,
                Some(&member),
                None,
                Some("auth.forbidden"),
            ),
            (&Directory::RULE, Some(&admin), None, None),
            (
                &Directory::RULE,
                Some(&admin),
                Some(TokenScope::Lookup),
                Some("auth.scope"),
            ),
            (&TemplateLogos::RULE, Some(&member), None, None),
            (
                &ManageTemplates::RULE,
                Some(&member),
                None,
                Some("auth.forbidden"),
            ),
        ];
        for (rule, caller, scope, expected) in cases {
            let client = scope.map(token);
            assert_eq!(
                code(authorize(caller, client.as_ref(), rule)),
                expected,
                "{} with {scope:?}",
                rule.scoped
            );
        }
    }
}
