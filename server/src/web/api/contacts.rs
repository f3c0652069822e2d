//! REST API for contact lookups, under `/api/v1/contacts`. For an API token of scope
//! `lookup` or `admin`, or any signed-in user.
//!
//! | method and path | does |
//! |---|---|
//! | `GET lookup?phone=…[&extension=…]` | (a signed-in browser sends its CSRF token in `x-csrf-token`) looks the number up in every connected integration (CRM templates first), in each integration's number formats and through its contact cache; the first that finds a contact answers |
//!
//! The answer: `{"contact": {output: value…}, "contact_type", "popup_url", "matches",
//! "candidates": [{"contact", "contact_type", "popup_url"}…], "number", "cached_at",
//! "integration": {"provider", "key", "name"}, "extension", "crm_user"}`: `matches` how
//! many contacts matched, `candidates` every match listed for the agent (the rule "list
//! every match") or the contact alone, `number` the number as written when it matched,
//! `cached_at` (unix seconds) when the contact came from the cache. Errors are JSON
//! `{"error": {"code", "message"}}`: `lookup.phone` (400), `contact.not_found` (404),
//! `contact.ambiguous` (409, several contacts match where the rule refuses to choose),
//! `lookup.failed` (502, every integration that could answer failed; the message says
//! why, secrets masked), `auth.required` (401), `auth.scope` (403).
//!
//! `extension` names the PBX extension the call is for. Where it is associated with a CRM
//! user, the lookup's requests see the user association variables (`CrmId`,
//! `ExtensionNumber`, …) and the answer's `crm_user` names that user (`id`, `extension`,
//! `first_name`, `last_name`, `email`); an integration whose template lists CRM users is
//! not asked for an extension that has none there (the 404 says so), as calls on it are
//! not handled there either.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::{Caller, Lookups};
use super::ApiError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The longest phone number or extension accepted.
pub const MAX_PHONE_CHARS: usize = 64;

/// The lookup's path: a GET that sends CRM requests, so a signed-in browser's needs the
/// CSRF header (`web::middleware::csrf`).
pub const LOOKUP_PATH: &str = "/api/v1/contacts/lookup";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(lookup))
}

#[derive(Deserialize)]
struct LookupQuery {
    phone: Option<String>,
    extension: Option<String>,
}

/// A phone number as people and PBXs write them: digits, `+`, `*`, `#`, spaces, `-`, `.`,
/// parentheses.
fn valid_number(text: &str) -> bool {
    !text.is_empty()
        && text.chars().count() <= MAX_PHONE_CHARS
        && text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+*# -.()".contains(c))
}

#[utoipa::path(get, path = "/api/v1/contacts/lookup", tag = "Contacts",
    params(("phone" = String, Query, description = "the number, as people and PBXs write it"),
        ("extension" = Option<String>, Query, description = "the PBX extension the call is for")),
    responses((status = 200, description = "the contact, its type, popup URL, matches and candidates, the integration that answered")))]
async fn lookup(
    State(state): State<AppState>,
    _caller: Caller<Lookups>,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "lookup.phone", message);
    let Query(query) = query.map_err(|e| bad(format!("the query cannot be read: {e}")))?;
    let phone = query.phone.unwrap_or_default();
    let phone = phone.trim();
    if !valid_number(phone) {
        return Err(bad(format!(
            "phone must be a number of at most {MAX_PHONE_CHARS} characters (digits, +, *, #, spaces, -, ., parentheses)"
        )));
    }
    let extension = query.extension.map(|e| e.trim().to_owned());
    if let Some(extension) = extension.as_deref().filter(|e| !e.is_empty()) {
        if !valid_number(extension) {
            return Err(bad(format!(
                "extension must be a number of at most {MAX_PHONE_CHARS} characters"
            )));
        }
    }
    let answer = state
        .integrations_service()
        .lookup(phone, extension.as_deref().filter(|e| !e.is_empty()))
        .await
        .map_err(|error| ApiError::internal("contact lookup", error))?;
    let shown = |contact: &app::console::FoundContact| {
        json!({
            "contact": contact.fields,
            "contact_type": contact.contact_type,
            "popup_url": contact.popup_url,
        })
    };
    match answer.found {
        Some(found) => Ok(Json(json!({
            "contact": found.lookup.contact.as_ref().map(|c| &c.fields),
            "contact_type": found.lookup.contact.as_ref().map(|c| &c.contact_type),
            "popup_url": found.lookup.contact.as_ref().and_then(|c| c.popup_url.as_ref()),
            "matches": found.lookup.matches,
            "candidates": found.lookup.candidates.iter().map(shown).collect::<Vec<_>>(),
            "number": found.lookup.number,
            "cached_at": found.lookup.cached_at,
            "integration": {
                "provider": found.provider.as_str(),
                "key": found.key,
                "name": found.name,
            },
            "extension": extension,
            "crm_user": found.extension_user.map(|user| json!({
                "id": user.crm_user_id,
                "extension": user.number,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
            })),
        }))),
        None if !answer.ambiguous.is_empty() && answer.failures.is_empty() => {
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "contact.ambiguous",
                format!(
                    "{phone} matches several contacts and the integration's rule refuses to choose ({})",
                    answer.ambiguous.join("; ")
                ),
            ))
        }
        None if answer.failures.is_empty() => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "contact.not_found",
            if answer.skipped.is_empty() {
                format!("no connected integration knows {phone}")
            } else {
                format!(
                    "no connected integration knows {phone} (not asked: {})",
                    answer.skipped.join("; ")
                )
            },
        )),
        None => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "lookup.failed",
            answer.failures.join("; "),
        )),
    }
}
