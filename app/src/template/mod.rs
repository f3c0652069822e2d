//! Integration templates: the XML layer, typed views of what the format defines, and the
//! validator. Shared by the server and the browser (the editor validates in the page).
//!
//! The element tree ([`xml::XmlDocument`]) is the source of truth: typed views read from it
//! and edits are applied to it, so whatever an author wrote that the views do not know
//! (unknown elements and attributes, comments) stays where it was.

pub mod editor;
pub mod form;
pub mod logo;
pub mod model;
pub mod threecx;
pub mod validate;
pub mod xml;

use serde::{Deserialize, Serialize};

/// The most templates one provider may have (README "Templates REST API").
pub const MAX_TEMPLATES_PER_PROVIDER: usize = 10;

/// One uploaded file's outcome, as the upload endpoint reports it and the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadOutcome {
    pub file: String,
    /// `stored`, `replaced`, `exists` (the Key is taken; send the file again with
    /// `replace` to overwrite) or `refused`.
    pub status: String,
    pub key: Option<String>,
    pub name: Option<String>,
    pub message: Option<String>,
    #[serde(default)]
    pub findings: Vec<validate::Finding>,
}

/// A stored template as lists show it (no XML, no logo bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub provider: model::Provider,
    pub key: String,
    pub name: String,
    pub remark: String,
    pub version: String,
    pub revision: i32,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub has_logo: bool,
    pub warnings: Vec<validate::Finding>,
    /// The integration that runs this template, if one was saved.
    #[serde(default)]
    pub in_use: Option<crate::integrations::TemplateUse>,
}
