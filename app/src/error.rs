//! The error every server function returns: typed, serialisable, and worded for the person
//! reading it in the page.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortalError {
    #[error("You are not signed in. Sign in again and retry.")]
    NotSignedIn,
    #[error("Only administrators can do this.")]
    Forbidden,
    #[error("This page has expired. Reload it and try again.")]
    InvalidCsrf,
    #[error("{field} {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// The validator refused a template: the first problem, and every finding.
    #[error("{message}")]
    InvalidTemplate {
        message: String,
        findings: Vec<crate::template::validate::Finding>,
    },
    #[error("{0} was not found. It may have been deleted; reload the page.")]
    NotFound(String),
    /// Details stay in the server log; the page only learns that something failed.
    #[error("The server could not complete this request ({0}). Try again later.")]
    Internal(String),
    #[error("The request could not be completed: {0}")]
    Transport(String),
    /// The request's arguments could not be read (a forged or broken call); what the
    /// parser said stays out of the answer.
    #[error("The request could not be read. Reload the page and try again.")]
    BadRequest,
    /// A CRM or token endpoint did not do what was asked (unreachable, an error answer).
    #[error("{0}")]
    Upstream(String),
}

impl PortalError {
    pub fn invalid(field: &str, message: String) -> Self {
        PortalError::Invalid {
            field: field.to_string(),
            message,
        }
    }

    /// The HTTP status a server function answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            PortalError::NotSignedIn => 401,
            PortalError::Forbidden | PortalError::InvalidCsrf => 403,
            PortalError::Invalid { .. } | PortalError::InvalidTemplate { .. } => 422,
            PortalError::Conflict(_) => 409,
            PortalError::NotFound(_) => 404,
            PortalError::BadRequest => 400,
            PortalError::Internal(_) | PortalError::Transport(_) => 500,
            PortalError::Upstream(_) => 502,
        }
    }
}

impl FromServerFnError for PortalError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server these mean the caller sent arguments that do not parse: a 400
            // that does not repeat the deserializer's text.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => {
                crate::api::set_status(&PortalError::BadRequest);
                PortalError::BadRequest
            }
            other => PortalError::Transport(other.to_string()),
        }
    }
}
