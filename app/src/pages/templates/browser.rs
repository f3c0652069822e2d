//! The page's own calls to the templates REST API that server functions do
//! not cover: multipart upload (files picked in the browser) and downloads.
//! They run in the browser only; the session cookie and the CSRF header
//! authenticate them like any page request.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, Headers, RequestInit, Response};

use crate::template::UploadOutcome;
use crate::viewer::CSRF_HEADER;

#[derive(serde::Deserialize)]
struct UploadReply {
    results: Vec<UploadOutcome>,
}

#[derive(serde::Deserialize)]
struct ErrorReply {
    error: ErrorBody,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
}

fn js_error(what: &str, error: wasm_bindgen::JsValue) -> String {
    format!(
        "{what}: {}",
        error.as_string().unwrap_or_else(|| format!("{error:?}"))
    )
}

/// Uploads `files`; the keys in `replace` were confirmed for replacement.
pub async fn upload(
    provider: &str,
    csrf_token: &str,
    files: &[File],
    replace: &[String],
) -> Result<Vec<UploadOutcome>, String> {
    let form = FormData::new().map_err(|e| js_error("cannot build the upload", e))?;
    for file in files {
        form.append_with_blob_and_filename("file", file, &file.name())
            .map_err(|e| js_error("cannot add a file", e))?;
    }
    for key in replace {
        form.append_with_str("replace", key)
            .map_err(|e| js_error("cannot add a key", e))?;
    }
    let headers = Headers::new().map_err(|e| js_error("cannot build headers", e))?;
    headers
        .set(CSRF_HEADER, csrf_token)
        .map_err(|e| js_error("cannot set a header", e))?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&form);
    let window = web_sys::window().ok_or("no window")?;
    let url = format!("/api/v1/templates/{provider}");
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|e| js_error("the upload failed", e))?
        .dyn_into()
        .map_err(|e| js_error("unexpected reply", e))?;
    let text = JsFuture::from(
        response
            .text()
            .map_err(|e| js_error("unreadable reply", e))?,
    )
    .await
    .map_err(|e| js_error("unreadable reply", e))?
    .as_string()
    .unwrap_or_default();
    if let Ok(reply) = serde_json::from_str::<UploadReply>(&text) {
        return Ok(reply.results);
    }
    match serde_json::from_str::<ErrorReply>(&text) {
        Ok(reply) => Err(reply.error.message),
        Err(_) => Err(format!("the upload failed (HTTP {})", response.status())),
    }
}

/// Starts a download: the response is an attachment, so the page stays.
pub fn download(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(url);
    }
}

/// The files picked in a file input.
pub fn picked_files(input: &web_sys::HtmlInputElement) -> Vec<File> {
    let Some(list) = input.files() else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}
