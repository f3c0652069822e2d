//! REST API for templates, under `/api/v1/templates/{provider}` (`crm` or `helpdesk`).
//! Admins only, except a template's logo. Unsafe methods also need the `x-csrf-token` header (see auth/csrf.rs).
//!
//! | method and path | does |
//! |---|---|
//! | `GET {provider}` | list (JSON) |
//! | `GET {provider}?format=zip&keys=a,b` | download several as one `.zip` |
//! | `POST {provider}` (multipart, fields `file`…, `replace`…) | upload one or more `.xml` files; per-file results |
//! | `POST {provider}` (JSON: the editor's form) | create a template from the form (an empty Key gets 32 hex characters) |
//! | `DELETE {provider}?keys=a,b[&disconnect=true]` | delete several; templates an integration uses need `disconnect=true` (409 `template.in_use` without it) |
//! | `GET {provider}/{key}` | one template (JSON, with its XML) |
//! | `GET {provider}/{key}?format=xml` | download it as `<name>.xml`, byte for byte as stored (password defaults masked unless the caller is an API token) |
//! | `GET {provider}/{key}?format=logo` | its logo image (a default one when it has none) |
//! | `GET {provider}/{key}/logo` | the same for any signed-in user (the Integrations pages show it) |
//! | `PUT {provider}/{key}` (body: the XML) | replace it |
//! | `PUT {provider}/{key}` (JSON: the editor's form) | edit it: the form is applied to the stored template, the rest kept |
//! | `DELETE {provider}/{key}[?disconnect=true]` | delete it (in use: as above) |
//! | `GET {provider}/{key}/revisions` | its kept revisions, newest first (number, author, time), with the ones its integration runs and ran before |
//! | `GET {provider}/{key}/revisions/{n}` | revision `n`'s XML (password defaults masked) |
//! | `GET {provider}/{key}/revisions/{from}/diff/{to}` | the two side by side (JSON rows) |
//!
//! Errors are JSON: `{"error": {"code", "message", "findings": [...]}}`, findings with the
//! validator's codes and locations.

use std::collections::HashSet;
use std::io::Write;
use std::marker::PhantomData;

use app::template::form::TemplateForm;
use app::template::model::Provider;
use app::template::xml::MAX_TEMPLATE_BYTES;
use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, Multipart, Path, Query, RawPathParams, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::access::{Access, Caller, ManageTemplates, TemplateLogos};
use super::ApiError;
use crate::state::AppState;
use crate::templates::intake::Refusal;
use crate::templates::service::{
    summary_of, text_for_the_browser, InUse, TemplateEditError, Uploaded,
};
use crate::templates::service::{StoredTemplate, TemplateStoreError, MAX_TEMPLATES_PER_PROVIDER};
use crate::web::middleware::viewer::ApiClient;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The logo of templates uploaded without `<LogoImage>`: a 150×150 plug.
pub const DEFAULT_LOGO_PNG: &[u8] = include_bytes!("../../../assets/default-logo.png");

/// Ten files of 1 MiB plus multipart framing. Each file is also checked while it streams.
const MAX_UPLOAD_BODY_BYTES: usize = 12 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_or_zip, create_or_upload, delete_many))
        .routes(routes!(get_one, replace_or_edit, delete_one))
        .routes(routes!(get_logo))
        .routes(routes!(list_revisions))
        .routes(routes!(get_revision))
        .routes(routes!(diff_revisions))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY_BYTES))
}

impl ApiError {
    fn invalid_template(refusal: Refusal) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "template.invalid",
            message: refusal.summary(),
            findings: refusal.findings,
        }
    }
}

impl From<TemplateEditError> for ApiError {
    fn from(error: TemplateEditError) -> Self {
        match error {
            TemplateEditError::Invalid(refusal) => ApiError::invalid_template(refusal),
            TemplateEditError::WrongDestination { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            TemplateEditError::Store(error) => error.into(),
            TemplateEditError::Unreadable(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage",
                "the stored template could not be read",
            ),
            TemplateEditError::InUse(_) => {
                ApiError::new(StatusCode::CONFLICT, "template.in_use", error.to_string())
            }
            TemplateEditError::Integrations(error) => {
                ApiError::internal("integration storage", error)
            }
            TemplateEditError::NotInGallery(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "gallery.not_found",
                error.to_string(),
            ),
            TemplateEditError::NoSuchRevision { .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                "revision.not_found",
                error.to_string(),
            ),
        }
    }
}

impl From<TemplateStoreError> for ApiError {
    fn from(error: TemplateStoreError) -> Self {
        match &error {
            TemplateStoreError::LimitReached(_) => {
                ApiError::new(StatusCode::CONFLICT, "limit.templates", error.to_string())
            }
            TemplateStoreError::DuplicateKey { .. } => {
                ApiError::new(StatusCode::CONFLICT, "key.duplicate", error.to_string())
            }
            TemplateStoreError::NotFound { .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                "template.not_found",
                error.to_string(),
            ),
            TemplateStoreError::CorruptWarnings(_) | TemplateStoreError::Db(_) => {
                ApiError::internal("template storage", error)
            }
        }
    }
}

/// A request about one provider's templates from a caller `A` lets in: every handler here
/// starts with this extractor, which answers 401/403 for other callers and 404 for an
/// unknown provider.
/// The caller's e-mail is who saved a revision.
struct TemplatesOf<A>(Provider, String, PhantomData<A>);

/// An administrator's (or an `admin` token's).
type AdminFor = TemplatesOf<ManageTemplates>;
/// Any signed-in user's: the logos, which the Integrations pages show.
type SignedInFor = TemplatesOf<TemplateLogos>;

/// Who will read a template's text: a browser never receives a stored secret (password
/// defaults are masked); a script with an admin API token gets the file as uploaded.
enum Reader {
    Browser,
    Script,
}

impl Reader {
    fn text_of(&self, template: &StoredTemplate) -> String {
        match self {
            Reader::Script => template.record.xml.clone(),
            Reader::Browser => text_for_the_browser(template.record.xml.clone()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<ApiClient>() {
            Some(_) => Reader::Script,
            None => Reader::Browser,
        })
    }
}

impl<S: Send + Sync, A: Access> FromRequestParts<S> for TemplatesOf<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let author = Caller::<A>::from_request_parts(parts, state)
            .await?
            .user
            .email;
        let provider = provider_in_path(parts, state).await?;
        Ok(TemplatesOf(provider, author, PhantomData))
    }
}

/// The provider named in the path: 404 for any other.
async fn provider_in_path<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Provider, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "provider.unknown",
                "no provider in the path",
            )
        })?;
    let text = params
        .iter()
        .find(|(name, _)| *name == "provider")
        .map(|(_, value)| value)
        .unwrap_or_default();
    Provider::parse(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "provider.unknown",
            format!("unknown provider \"{text}\"; use crm or helpdesk"),
        )
    })
}

#[derive(Deserialize, Default)]
pub struct Selection {
    format: Option<String>,
    /// Comma-separated template keys.
    keys: Option<String>,
    /// Deleting: a template an integration uses may be deleted, disconnecting it first.
    #[serde(default)]
    disconnect: bool,
}

impl Selection {
    fn in_use(&self) -> InUse {
        if self.disconnect {
            InUse::Disconnect
        } else {
            InUse::Refuse
        }
    }

    fn keys(&self) -> Vec<String> {
        self.keys
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[utoipa::path(get, path = "/api/v1/templates/{provider}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"),
        ("format" = Option<String>, Query, description = "`zip`: download the templates named in `keys` as one `.zip`"),
        ("keys" = Option<String>, Query, description = "comma-separated keys, with `format=zip`")),
    responses((status = 200, description = "`{\"templates\": [...]}`, or the `.zip`")))]
async fn list_or_zip(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    reader: Reader,
    Query(selection): Query<Selection>,
) -> Result<Response, ApiError> {
    match selection.format.as_deref() {
        None | Some("json") => {
            let items = state.templates_service().summaries(provider).await?;
            let count = items.len();
            Ok(Json(json!({"provider": provider, "count": count, "limit": MAX_TEMPLATES_PER_PROVIDER, "templates": items})).into_response())
        }
        Some("zip") => {
            let templates = state.templates_service().list(provider).await?;
            let wanted = selection.keys();
            if wanted.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "keys.missing",
                    "name the templates to download: ?keys=a,b",
                ));
            }
            let chosen: Vec<&StoredTemplate> = templates
                .iter()
                .filter(|t| wanted.contains(&t.record.key))
                .collect();
            if let Some(missing) = wanted
                .iter()
                .find(|k| !chosen.iter().any(|t| &&t.record.key == k))
            {
                return Err(TemplateStoreError::NotFound {
                    provider,
                    key: missing.clone(),
                }
                .into());
            }
            let archive = zip_templates(&chosen, &reader).map_err(|e| {
                tracing::error!(error = %e, "cannot build the zip archive");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "zip",
                    "the archive could not be built",
                )
            })?;
            Ok(attachment(
                archive,
                "application/zip",
                &format!("{}-templates.zip", provider.as_str()),
            ))
        }
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "format.unknown",
            format!("unknown format \"{other}\"; use json or zip"),
        )),
    }
}

/// A file name from a template name: letters, digits, space, '-', '_' and '.', else '_'.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim().trim_matches('.').to_string();
    if stem.is_empty() {
        "template".to_string()
    } else {
        stem
    }
}

fn zip_templates(
    templates: &[&StoredTemplate],
    reader: &Reader,
) -> zip::result::ZipResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut used = HashSet::new();
    for template in templates {
        let mut name = format!("{}.xml", file_stem(&template.record.name));
        if !used.insert(name.clone()) {
            name = format!(
                "{} ({}).xml",
                file_stem(&template.record.name),
                template.record.key
            );
            used.insert(name.clone());
        }
        writer.start_file(name, options)?;
        writer.write_all(reader.text_of(template).as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}

fn attachment(body: Vec<u8>, media_type: &'static str, file_name: &str) -> Response {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .replace('"', "_");
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[utoipa::path(get, path = "/api/v1/templates/{provider}/{key}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key"),
        ("format" = Option<String>, Query, description = "`xml`: download it as stored (password defaults masked unless the caller is an API token); `logo`: its logo image")),
    responses((status = 200, description = "the template as JSON with its XML, or the file")))]
async fn get_one(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    reader: Reader,
    Path((_, key)): Path<(String, String)>,
    Query(selection): Query<Selection>,
) -> Result<Response, ApiError> {
    let stored = state
        .templates
        .get(provider, &key)
        .await?
        .ok_or(TemplateStoreError::NotFound { provider, key })?;
    match selection.format.as_deref() {
        None | Some("json") => {
            let summary = summary_of(&stored);
            let xml = reader.text_of(&stored);
            Ok(Json(json!({"template": summary, "xml": xml})).into_response())
        }
        Some("xml") => {
            let name = format!("{}.xml", file_stem(&stored.record.name));
            Ok(attachment(
                reader.text_of(&stored).into_bytes(),
                "application/xml; charset=utf-8",
                &name,
            ))
        }
        Some("logo") => Ok(logo_response(stored)),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "format.unknown",
            format!("unknown format \"{other}\"; use json, xml or logo"),
        )),
    }
}

/// A template without a logo of its own shows the default (docs/template-format.md).
fn logo_response(stored: StoredTemplate) -> Response {
    let (media_type, bytes) = match stored.record.logo {
        Some(logo) if logo.media_type == "image/jpeg" => ("image/jpeg", logo.bytes),
        Some(logo) => ("image/png", logo.bytes),
        None => ("image/png", DEFAULT_LOGO_PNG.to_vec()),
    };
    ([(header::CONTENT_TYPE, media_type)], bytes).into_response()
}

#[utoipa::path(get, path = "/api/v1/templates/{provider}/{key}/logo", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, description = "the logo image (a default one when it has none)")))]
async fn get_logo(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): SignedInFor,
    Path((_, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let stored = state.templates_service().get(provider, &key).await?;
    Ok(logo_response(stored))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn form_from(bytes: &[u8]) -> Result<TemplateForm, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form.invalid",
            format!("the form is not valid JSON for a template: {e}"),
        )
    })
}

#[utoipa::path(post, path = "/api/v1/templates/{provider}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`")),
    request_body(description = "`multipart/form-data` with `file` fields (`.xml`, at most 20 of 1 MiB) and `replace` fields naming keys to overwrite, or the editor's form as JSON", content(("multipart/form-data"), ("application/json"))),
    responses((status = 200, description = "per-file results of an upload"), (status = 201, description = "the template created from the form")))]
async fn create_or_upload(
    State(state): State<AppState>,
    admin: AdminFor,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    if !is_json(request.headers()) {
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "upload.malformed",
                    format!("expected a multipart upload or a JSON form: {e}"),
                )
            })?;
        return upload(State(state), admin, multipart).await;
    }
    let TemplatesOf(provider, author, _) = admin;
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "form.unreadable", e.to_string()))?;
    let form = form_from(&body)?;
    let stored = state
        .templates_service()
        .create_from_form(&author, provider, form)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"template": summary_of(&stored)})),
    )
        .into_response())
}

#[utoipa::path(put, path = "/api/v1/templates/{provider}/{key}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    request_body(description = "the XML (replaces it), or the editor's form as JSON (applied to the stored template, the rest kept)", content(("application/xml"), ("application/json"))),
    responses((status = 200, description = "the stored template")))]
async fn replace_or_edit(
    State(state): State<AppState>,
    TemplatesOf(provider, author, _): AdminFor,
    Path((_, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !is_json(&headers) {
        return replace_one(&state, &author, provider, key, &body).await;
    }
    let form = form_from(&body)?;
    let stored = state
        .templates_service()
        .edit_with_form(&author, provider, &key, &form)
        .await?;
    Ok(Json(json!({"template": summary_of(&stored)})).into_response())
}

async fn replace_one(
    state: &AppState,
    author: &str,
    provider: Provider,
    key: String,
    body: &[u8],
) -> Result<Response, ApiError> {
    let text = template_text(body)?;
    let stored = state
        .templates_service()
        .replace_text(author, provider, &key, text)
        .await?;
    Ok(Json(json!({"template": summary_of(&stored)})).into_response())
}

#[utoipa::path(delete, path = "/api/v1/templates/{provider}/{key}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key"), ("disconnect" = Option<bool>, Query, description = "also when an integration uses it")),
    responses((status = 204, description = "deleted")))]
async fn delete_one(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    Path((_, key)): Path<(String, String)>,
    Query(selection): Query<Selection>,
) -> Result<Response, ApiError> {
    let keys = vec![key];
    state
        .templates_service()
        .delete(provider, &keys, selection.in_use())
        .await?;
    Ok(Json(json!({"deleted": keys})).into_response())
}

#[utoipa::path(delete, path = "/api/v1/templates/{provider}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"),
        ("keys" = String, Query, description = "comma-separated keys"),
        ("disconnect" = Option<bool>, Query, description = "also delete templates an integration uses (409 `template.in_use` without it)")),
    responses((status = 200, description = "what was deleted")))]
async fn delete_many(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    Query(selection): Query<Selection>,
) -> Result<Response, ApiError> {
    let keys = selection.keys();
    if keys.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "keys.missing",
            "name the templates to delete: ?keys=a,b",
        ));
    }
    state
        .templates_service()
        .delete(provider, &keys, selection.in_use())
        .await?;
    Ok(Json(json!({"deleted": keys})).into_response())
}

/// Files one upload may carry: twice the per-provider cap, so a full replacement fits.
pub const MAX_FILES_PER_UPLOAD: usize = 20;
/// A `replace` field names one template key.
const MAX_REPLACE_FIELD_BYTES: usize = 1024;

/// A multipart field as far as it was read.
enum Received {
    Complete(Vec<u8>),
    /// Longer than allowed: reading stopped there, and the rest is discarded unbuffered.
    TooLarge,
}

/// Reads a field chunk by chunk, giving up as soon as it passes `limit` bytes, so an
/// oversized file is refused without being held in memory.
async fn read_at_most(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<Received, ApiError> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > limit {
                    return Ok(Received::TooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Received::Complete(bytes)),
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "upload.malformed",
                    format!("the upload could not be read: {e}"),
                ))
            }
        }
    }
}

/// A file over 1 MiB; `size` when it is known (a streamed file stops being read first).
fn too_large(size: Option<usize>) -> ApiError {
    let has = match size {
        Some(size) => format!("the file has {size} bytes"),
        None => format!("the file has more than {MAX_TEMPLATE_BYTES} bytes"),
    };
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "template.too_large",
        format!("{has}; templates may have at most {MAX_TEMPLATE_BYTES} bytes (1 MiB)"),
    )
}

/// UTF-8 text of at most 1 MiB.
fn template_text(bytes: &[u8]) -> Result<String, ApiError> {
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(too_large(Some(bytes.len())));
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "template.encoding",
            format!(
                "the file is not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

use app::template::UploadOutcome;

fn refused_upload(file: &str, error: ApiError) -> UploadOutcome {
    UploadOutcome {
        file: file.to_string(),
        status: "refused".into(),
        key: None,
        name: None,
        message: Some(error.message),
        findings: error.findings,
    }
}

async fn upload(
    State(state): State<AppState>,
    TemplatesOf(provider, author, _): AdminFor,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let mut files: Vec<(String, Received)> = Vec::new();
    let mut replace: HashSet<String> = HashSet::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "upload.malformed",
                    format!("the upload could not be read: {error}"),
                ));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().unwrap_or("upload.xml").to_string();
        match name.as_str() {
            "file" => {
                if files.len() == MAX_FILES_PER_UPLOAD {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "upload.too_many_files",
                        format!("an upload may carry at most {MAX_FILES_PER_UPLOAD} files"),
                    ));
                }
                files.push((file_name, read_at_most(field, MAX_TEMPLATE_BYTES).await?));
            }
            "replace" => {
                let Received::Complete(key) = read_at_most(field, MAX_REPLACE_FIELD_BYTES).await?
                else {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "upload.malformed",
                        format!(
                            "a \"replace\" field may have at most {MAX_REPLACE_FIELD_BYTES} bytes"
                        ),
                    ));
                };
                replace.insert(String::from_utf8_lossy(&key).trim().to_string());
            }
            // Unknown fields are skipped unread: the next field discards them.
            _ => {}
        }
    }
    if files.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "upload.empty",
            "no file in the upload (multipart field \"file\")",
        ));
    }

    let mut results = Vec::new();
    for (file, received) in files {
        results.push(match received {
            Received::Complete(bytes) => {
                store_upload(&state, &author, provider, &file, &bytes, &replace).await
            }
            Received::TooLarge => refused_upload(&file, too_large(None)),
        });
    }
    let all_refused = results.iter().all(|r| r.status == "refused");
    let status = if all_refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"results": results}))).into_response())
}

async fn store_upload(
    state: &AppState,
    author: &str,
    provider: Provider,
    file: &str,
    bytes: &[u8],
    replace: &HashSet<String>,
) -> UploadOutcome {
    let uploaded = match template_text(bytes) {
        Ok(text) => {
            state
                .templates_service()
                .upload(author, provider, &text, replace)
                .await
        }
        Err(error) => return refused_upload(file, error),
    };
    let status = match &uploaded {
        Ok(uploaded) => uploaded.status(),
        Err(_) => "refused",
    };
    let record = match uploaded {
        Ok(Uploaded::Stored(stored) | Uploaded::Replaced(stored)) => stored.record,
        Ok(Uploaded::KeyExists(record)) => record,
        Err(error) => return refused_upload(file, error.into()),
    };
    let message = (status == "exists").then(|| {
        format!(
            "a template with the key \"{}\" already exists; confirm to replace it",
            record.key
        )
    });
    UploadOutcome {
        file: file.to_string(),
        status: status.into(),
        key: Some(record.key),
        name: Some(record.name),
        message,
        findings: record.warnings,
    }
}

#[utoipa::path(get, path = "/api/v1/templates/{provider}/{key}/revisions", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, description = "its kept revisions, newest first, with the ones its integration runs and ran before")))]
async fn list_revisions(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    Path((_, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let history = state.templates_service().history(provider, &key).await?;
    Ok(Json(history).into_response())
}

#[utoipa::path(get, path = "/api/v1/templates/{provider}/{key}/revisions/{revision}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key"), ("revision" = i32, Path)),
    responses((status = 200, description = "the revision's XML, password defaults masked", content_type = "application/xml")))]
async fn get_revision(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    Path((_, key, revision)): Path<(String, String, i32)>,
) -> Result<Response, ApiError> {
    let text = state
        .templates_service()
        .revision_text(provider, &key, revision)
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        text,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/templates/{provider}/{key}/revisions/{from}/diff/{to}", tag = "Templates",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key"), ("from" = i32, Path), ("to" = i32, Path)),
    responses((status = 200, description = "the two revisions side by side, as rows")))]
async fn diff_revisions(
    State(state): State<AppState>,
    TemplatesOf(provider, ..): AdminFor,
    Path((_, key, from, to)): Path<(String, String, i32, i32)>,
) -> Result<Response, ApiError> {
    let diff = state
        .templates_service()
        .diff(provider, &key, from, to)
        .await?;
    Ok(Json(diff).into_response())
}
