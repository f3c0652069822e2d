//! The template gallery (README "The template gallery"): ready-made templates for
//! well-known CRMs and helpdesks, as `GET /api/v1/gallery` lists them.

use serde::{Deserialize, Serialize};

use crate::template::model::Provider;

/// A ready-made template, and what an administrator needs from the CRM to connect it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GalleryEntry {
    /// Names it in `POST /api/v1/gallery/{id}`.
    pub id: String,
    pub provider: Provider,
    /// The template's own Name and Key, as it is added.
    pub name: String,
    pub key: String,
    /// `none`, `basic`, `bearer` or `oauth2`, as the template's AuthType says.
    pub auth_type: String,
    /// How the CRM is signed in to, in its own words (`API token in the x-api-token header`).
    pub authentication: String,
    /// The scenarios it runs, in the template's order.
    pub scenarios: Vec<String>,
    /// What to get from the CRM before connecting it (a plan, a token, an app).
    pub needs: String,
    /// The CRM's public API documentation the template was written from.
    pub docs_url: String,
}
