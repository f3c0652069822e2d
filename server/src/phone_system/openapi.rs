//! Yeastar P-Series' Open API as its developer guide describes it: `POST get_token`
//! (`username` = Client ID, `password` = Client Secret), `POST refresh_token`,
//! `GET del_token`, `GET extension/list` (paged), `GET recording/download` (a
//! `download_resource_url` fetched with the token). Every answer carries `errcode` (0 for
//! success) and `errmsg`. Requests go through the engine's executor: the outbound policy,
//! timeouts, the response cap and a `User-Agent` the PBX requires.

use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use crate::engine::core::request::{Method, OutboundBody, OutboundRequest};
use crate::engine::executor::{Executor, Lane, SendError};

/// The Open API's path under the PBX's base URL.
pub const API_PATH: &str = "openapi/v1.0";
/// Extensions asked for per page of `extension/list`.
pub const EXTENSION_PAGE_SIZE: usize = 100;
/// The most pages read in one sync (20,000 extensions, beyond any P-Series model).
pub const MAX_EXTENSION_PAGES: usize = 200;
/// The phone system's requests share one lane of the executor, apart from integrations'.
pub const PHONE_SYSTEM_LANE: Lane = Lane {
    integration_id: -1,
    max_concurrent: 4,
};

#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("the PBX refused the Client ID and Secret (errcode {errcode}: {errmsg})")]
    Refused { errcode: i64, errmsg: String },
    #[error("the PBX refused {what} (errcode {errcode}: {errmsg})")]
    Failed {
        what: &'static str,
        errcode: i64,
        errmsg: String,
    },
    #[error(transparent)]
    Send(#[from] SendError),
    #[error("the PBX's answer to {what} is not what its API describes: {reason}")]
    Unreadable { what: &'static str, reason: String },
    #[error("the PBX lists more than {} extensions", MAX_EXTENSION_PAGES * EXTENSION_PAGE_SIZE)]
    TooManyExtensions,
}

/// Tokens as `get_token` and `refresh_token` answer them.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub access_token_expire_time: i64,
    pub refresh_token: String,
    pub refresh_token_expire_time: i64,
}

/// An extension as `extension/list` answers it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PbxExtension {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub caller_id_name: String,
    #[serde(default)]
    pub email_addr: String,
    #[serde(default)]
    pub mobile_number: String,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct ExtensionPage {
    #[serde(default)]
    total_number: usize,
    #[serde(default)]
    data: Vec<PbxExtension>,
}

#[derive(Deserialize)]
struct RecordingAnswer {
    download_resource_url: String,
}

/// The Open API of one PBX.
#[derive(Clone)]
pub struct OpenApi {
    pub executor: Arc<Executor>,
    /// The PBX's base URL (`https://pbx.example.com:8088`), without the API path.
    pub base: Url,
}

impl OpenApi {
    fn endpoint(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/{API_PATH}/{path}"));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends one request and reads its JSON answer, refusing a non-zero `errcode`.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<T, OpenApiError> {
        let request = OutboundRequest {
            name: format!("Open API {what}"),
            method,
            url,
            headers: vec![("Accept".into(), "application/json".into())],
            body: body.map(|value| OutboundBody {
                content_type: "application/json",
                text: value.to_string(),
            }),
        };
        let exchange = self.executor.send(PHONE_SYSTEM_LANE, &request).await?;
        let received = exchange.received;
        let unreadable = |reason: String| OpenApiError::Unreadable { what, reason };
        let status: Status = serde_json::from_str(&received.body)
            .map_err(|error| unreadable(format!("HTTP {}, not JSON ({error})", received.status)))?;
        if status.errcode != 0 {
            return Err(OpenApiError::Failed {
                what,
                errcode: status.errcode,
                errmsg: status.errmsg,
            });
        }
        serde_json::from_str(&received.body).map_err(|error| unreadable(error.to_string()))
    }

    /// A new token pair for the Client ID and Secret. A refusal is
    /// [`OpenApiError::Refused`]: the caller must not try again on its own.
    pub async fn get_token(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<TokenAnswer, OpenApiError> {
        let body = serde_json::json!({ "username": client_id, "password": secret });
        self.call(
            "get_token",
            Method::Post,
            self.endpoint("get_token", &[]),
            Some(body),
        )
        .await
        .map_err(|error| match error {
            OpenApiError::Failed {
                errcode, errmsg, ..
            } => OpenApiError::Refused { errcode, errmsg },
            other => other,
        })
    }

    pub async fn refresh_token(&self, refresh: &str) -> Result<TokenAnswer, OpenApiError> {
        let body = serde_json::json!({ "refresh_token": refresh });
        self.call(
            "refresh_token",
            Method::Post,
            self.endpoint("refresh_token", &[]),
            Some(body),
        )
        .await
    }

    /// Revokes `access` (the PBX holds at most 8 tokens per application).
    pub async fn revoke(&self, access: &str) -> Result<(), OpenApiError> {
        let url = self.endpoint("del_token", &[("access_token", access)]);
        self.call::<serde_json::Value>("del_token", Method::Get, url, None)
            .await
            .map(|_| ())
    }

    /// Every extension, page by page.
    pub async fn extensions(&self, access: &str) -> Result<Vec<PbxExtension>, OpenApiError> {
        let mut all = Vec::new();
        let page_size = EXTENSION_PAGE_SIZE.to_string();
        for page in 1..=MAX_EXTENSION_PAGES {
            let number = page.to_string();
            let url = self.endpoint(
                "extension/list",
                &[
                    ("page", number.as_str()),
                    ("page_size", page_size.as_str()),
                    ("sort_by", "number"),
                    ("order_by", "asc"),
                    ("access_token", access),
                ],
            );
            let answer: ExtensionPage = self.call("extension/list", Method::Get, url, None).await?;
            let received = answer.data.len();
            all.extend(answer.data);
            if received == 0 || all.len() >= answer.total_number {
                return Ok(all);
            }
        }
        Err(OpenApiError::TooManyExtensions)
    }

    /// Where the recording named `file` can be downloaded with `access` (valid 30 minutes,
    /// the guide says). The PBX's answer is a path on itself; anything else is refused so a
    /// compromised answer cannot send the token elsewhere.
    pub async fn recording_url(&self, access: &str, file: &str) -> Result<Url, OpenApiError> {
        let url = self.endpoint(
            "recording/download",
            &[("file", file), ("access_token", access)],
        );
        let answer: RecordingAnswer = self
            .call("recording/download", Method::Get, url, None)
            .await?;
        let path = answer.download_resource_url;
        let unreadable = |reason: &str| OpenApiError::Unreadable {
            what: "recording/download",
            reason: reason.to_owned(),
        };
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(unreadable("download_resource_url is not a path on the PBX"));
        }
        let mut download = self
            .base
            .join(&path)
            .map_err(|_| unreadable("download_resource_url is not a path"))?;
        if download.origin() != self.base.origin() {
            return Err(unreadable("download_resource_url leaves the PBX"));
        }
        download
            .query_pairs_mut()
            .append_pair("access_token", access);
        Ok(download)
    }

    /// The WebSocket's address: `ws(s)://{host}/openapi/v1.0/subscribe?access_token=…`.
    pub fn subscribe_url(&self, access: &str) -> Url {
        let mut url = self.endpoint("subscribe", &[("access_token", access)]);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // Both http→ws and https→wss are allowed changes of a special scheme.
        let _ = url.set_scheme(scheme);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(base: &str) -> OpenApi {
        OpenApi {
            executor: Arc::new(
                Executor::new(crate::engine::executor::ExecutorSettings {
                    connect_timeout: std::time::Duration::from_secs(1),
                    request_timeout: std::time::Duration::from_secs(1),
                    policy: Default::default(),
                })
                .unwrap(),
            ),
            base: Url::parse(base).unwrap(),
        }
    }

    #[test]
    fn endpoints_follow_the_guides_request_structure() {
        let pbx = api("https://192.168.5.150:8088");
        assert_eq!(
            pbx.endpoint("get_token", &[]).as_str(),
            "https://192.168.5.150:8088/openapi/v1.0/get_token"
        );
        assert_eq!(
            pbx.subscribe_url("T0k").as_str(),
            "wss://192.168.5.150:8088/openapi/v1.0/subscribe?access_token=T0k"
        );
        assert_eq!(
            api("http://pbx.local/").subscribe_url("a b").as_str(),
            "ws://pbx.local/openapi/v1.0/subscribe?access_token=a+b"
        );
    }
}
