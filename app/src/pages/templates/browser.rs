//! The page's own calls to the templates REST API that server functions do
//! not cover: multipart upload (files picked in the browser) and downloads.
//! They run in the browser only; the session cookie and the CSRF header
//! authenticate them like any page request.

use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData};

pub use crate::components::browser::{download, focus, picked_files};
use crate::components::browser::{js_error, send};
use crate::template::UploadOutcome;

#[derive(serde::Deserialize)]
struct UploadReply {
    results: Vec<UploadOutcome>,
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
    let url = format!("/api/v1/templates/{provider}");
    let (status, text) = send(&url, "POST", csrf_token, &form, None).await?;
    if let Ok(reply) = serde_json::from_str::<UploadReply>(&text) {
        return Ok(reply.results);
    }
    match serde_json::from_str::<FullErrorReply>(&text) {
        Ok(reply) => Err(reply.error.message),
        Err(_) => Err(format!("the upload failed (HTTP {status})")),
    }
}

/// Why a save did not happen: the server's refusal (with findings) or a failure.
pub struct SaveRefused {
    pub message: String,
    pub findings: Vec<crate::template::validate::Finding>,
}

#[derive(serde::Deserialize)]
struct FullErrorReply {
    error: FullErrorBody,
}

#[derive(serde::Deserialize)]
struct FullErrorBody {
    message: String,
    #[serde(default)]
    findings: Vec<crate::template::validate::Finding>,
}

/// Saves the editor's XML: a new template is uploaded as a file, an existing
/// one replaced in place. Returns the key it was stored under.
pub async fn save_xml(
    provider: &str,
    key: Option<&str>,
    csrf_token: &str,
    xml: &str,
) -> Result<String, SaveRefused> {
    let failed = |message: String| SaveRefused {
        message,
        findings: Vec::new(),
    };
    let base = format!("/api/v1/templates/{provider}");
    match key {
        Some(key) => {
            let url = format!("{base}/{key}");
            let (status, text) = send(
                &url,
                "PUT",
                csrf_token,
                &wasm_bindgen::JsValue::from_str(xml),
                Some("application/xml"),
            )
            .await
            .map_err(failed)?;
            if (200..300).contains(&status) {
                return Ok(key.to_owned());
            }
            Err(match serde_json::from_str::<FullErrorReply>(&text) {
                Ok(reply) => SaveRefused {
                    message: reply.error.message,
                    findings: reply.error.findings,
                },
                Err(_) => failed(format!("the save failed (HTTP {status})")),
            })
        }
        None => {
            let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(xml));
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/xml");
            let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
                .map_err(|e| failed(js_error("cannot build the file", e)))?;
            let form =
                FormData::new().map_err(|e| failed(js_error("cannot build the upload", e)))?;
            form.append_with_blob_and_filename("file", &blob, "template.xml")
                .map_err(|e| failed(js_error("cannot add the file", e)))?;
            let (status, text) = send(&base, "POST", csrf_token, &form, None)
                .await
                .map_err(failed)?;
            if let Ok(reply) = serde_json::from_str::<UploadReply>(&text) {
                if let Some(outcome) = reply.results.into_iter().next() {
                    return match outcome.status.as_str() {
                        "stored" | "replaced" => Ok(outcome.key.unwrap_or_default()),
                        _ => Err(SaveRefused {
                            message: outcome
                                .message
                                .unwrap_or_else(|| "the template was not stored".into()),
                            findings: outcome.findings,
                        }),
                    };
                }
            }
            Err(match serde_json::from_str::<FullErrorReply>(&text) {
                Ok(reply) => SaveRefused {
                    message: reply.error.message,
                    findings: reply.error.findings,
                },
                Err(_) => failed(format!("the save failed (HTTP {status})")),
            })
        }
    }
}

/// 32 random hex characters for a new template's Key.
pub fn random_key() -> String {
    (0..32)
        .map(|_| {
            let digit = (js_sys::Math::random() * 16.0) as u32;
            char::from_digit(digit.min(15), 16).unwrap_or('0')
        })
        .collect()
}

/// Reads a picked file's bytes.
pub async fn file_bytes(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| js_error("cannot read the file", e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// `bytes` in standard base64, by the browser's `btoa`: the bundle carries no base64 code of
/// its own for the one place the page needs it, a logo (about 3 KB less on the editor).
pub fn base64(bytes: &[u8]) -> Result<String, String> {
    // btoa reads a string's code points as bytes: each byte becomes the character of its value.
    let latin1: String = bytes.iter().copied().map(char::from).collect();
    web_sys::window()
        .ok_or("no window to encode the logo")?
        .btoa(&latin1)
        .map_err(|e| js_error("cannot encode the logo", e))
}
