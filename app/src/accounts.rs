//! Accounts as both sides see them, and the input rules both sides enforce.

use serde::{Deserialize, Serialize};

use crate::error::PortalError;

/// Shortest password an account may have. Long passphrases beat complexity rules.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// argon2 hashes any length, but an unbounded password is a cheap way to burn server CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;
const MAX_EMAIL_CHARS: usize = 254;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    /// Works with templates and integrations; manages no accounts.
    User,
    /// Answers calls: sees the call popup and the recent calls of their own extensions,
    /// and changes nothing else (README "Agents and the call popup").
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
            Role::Agent => "agent",
        }
    }

    pub fn parse(text: &str) -> Result<Role, PortalError> {
        match text {
            "admin" => Ok(Role::Admin),
            "user" => Ok(Role::User),
            "agent" => Ok(Role::Agent),
            other => Err(PortalError::invalid(
                "role",
                format!("must be \"admin\", \"user\" or \"agent\", not \"{other}\""),
            )),
        }
    }
}

/// The signed-in person, as every page and server function sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub email: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Agents see their own calls and nothing else.
    pub fn is_agent(&self) -> bool {
        self.role == Role::Agent
    }
}

/// One row of the Accounts page. Never carries the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountSummary {
    pub id: i32,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// What an API token may do. A token acts as the account that made it, and never beyond
/// that account's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// The REST API as an administrator (templates, and what comes).
    Admin,
    /// Contact lookups only.
    Lookup,
    /// Posting call events only.
    Events,
    /// Reading `/metrics` only (a Prometheus server).
    Metrics,
}

impl TokenScope {
    pub const ALL: [TokenScope; 4] = [
        TokenScope::Admin,
        TokenScope::Lookup,
        TokenScope::Events,
        TokenScope::Metrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Admin => "admin",
            TokenScope::Lookup => "lookup",
            TokenScope::Events => "events",
            TokenScope::Metrics => "metrics",
        }
    }

    pub fn parse(text: &str) -> Result<TokenScope, PortalError> {
        TokenScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| {
                PortalError::invalid(
                    "scope",
                    format!(
                        "must be \"admin\", \"lookup\", \"events\" or \"metrics\", not \"{text}\""
                    ),
                )
            })
    }
}

/// Longest lifetime a token may be given at creation; longer-lived ones never expire.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// A token's lifetime as the form sends it: a number of days, or `never` (or nothing).
pub fn check_token_days(text: &str) -> Result<Option<u32>, PortalError> {
    let text = text.trim();
    if text.is_empty() || text == "never" {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) => check_token_lifetime(Some(days)),
        Err(_) => Err(token_days_refused()),
    }
}

/// A token's lifetime in days (`None`: it never expires), as the REST API takes it.
pub fn check_token_lifetime(days: Option<u32>) -> Result<Option<u32>, PortalError> {
    match days {
        Some(days) if !(1..=MAX_TOKEN_DAYS).contains(&days) => Err(token_days_refused()),
        days => Ok(days),
    }
}

fn token_days_refused() -> PortalError {
    PortalError::invalid(
        "expires_in_days",
        format!("must be a number of days from 1 to {MAX_TOKEN_DAYS}, or \"never\""),
    )
}

/// An API token as lists show it: never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenSummary {
    pub id: i32,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_by: String,
    pub scope: TokenScope,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Unix seconds; `None`: until revoked.
    pub expires_at: Option<i64>,
}

/// A token just created: the one time its full value is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub summary: ApiTokenSummary,
    pub token: String,
}

const MAX_TOKEN_NAME_CHARS: usize = 64;

pub fn check_token_name(name: &str) -> Result<String, PortalError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PortalError::invalid("name", "is required".into()));
    }
    if name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(PortalError::invalid(
            "name",
            format!("must have at most {MAX_TOKEN_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

/// Lower-cases and trims an e-mail address, then checks its shape. E-mail addresses are
/// compared case-insensitively everywhere (login, association by e-mail).
pub fn normalize_email(raw: &str) -> Result<String, PortalError> {
    let email = raw.trim().to_lowercase();
    let invalid = |why: &str| Err(PortalError::invalid("email", why.to_string()));
    if email.is_empty() {
        return invalid("is required");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return invalid("is longer than 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("must look like name@example.com");
    };
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().any(char::is_whitespace)
    {
        return invalid("must look like name@example.com");
    }
    Ok(email)
}

pub fn check_new_password(password: &str) -> Result<(), PortalError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PortalError::invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PortalError::invalid(
            "password",
            format!("must have at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.trim().is_empty() {
        return Err(PortalError::invalid(
            "password",
            "must not be only spaces".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_name_the_field() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert!(
                matches!(&err, PortalError::Invalid { field, .. } if field == "email"),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(check_new_password("short-pass1").is_err());
        assert!(check_new_password("long enough pass").is_ok());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert!(check_new_password(&" ".repeat(20)).is_err());
    }

    #[test]
    fn roles_parse_only_known_names() {
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert_eq!(Role::parse("user").unwrap(), Role::User);
        assert!(Role::parse("root").is_err());
    }
}
