//! Browser-only helpers the pages share: calls to the REST API that server functions do
//! not cover (files picked in the browser, downloads). The session cookie and the CSRF
//! header authenticate them like any page request.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, Headers, RequestInit, Response};

use crate::viewer::CSRF_HEADER;

/// A JavaScript failure as text, saying what was being done.
pub fn js_error(what: &str, error: wasm_bindgen::JsValue) -> String {
    format!(
        "{what}: {}",
        error.as_string().unwrap_or_else(|| format!("{error:?}"))
    )
}

/// Sends `body` to `url` with the CSRF header; answers the status and the body text.
pub async fn send(
    url: &str,
    method: &str,
    csrf_token: &str,
    body: &wasm_bindgen::JsValue,
    content_type: Option<&str>,
) -> Result<(u16, String), String> {
    let headers = Headers::new().map_err(|e| js_error("cannot build headers", e))?;
    headers
        .set(CSRF_HEADER, csrf_token)
        .map_err(|e| js_error("cannot set a header", e))?;
    if let Some(content_type) = content_type {
        headers
            .set("content-type", content_type)
            .map_err(|e| js_error("cannot set a header", e))?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    init.set_body(body);
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| js_error("the request failed", e))?
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
    Ok((response.status(), text))
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

/// Moves keyboard focus to the element with `id` and scrolls it into view.
pub fn focus(id: &str) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
        element.scroll_into_view();
    }
}
