//! The extension directory: the Extensions page's calls and [`DirectoryAdmin`]
//! (implemented in `server/src/web/backend/directory.rs`).

#[cfg(feature = "ssr")]
use super::{backend, require_admin, require_signed_in_viewer, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::extensions::ExtensionSort;
use crate::extensions::{Extension, ExtensionGroup, ExtensionsPage, PickerItem};
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

/// The extension directory as the Extensions page and the association picker need it.
#[cfg(feature = "ssr")]
#[async_trait]
pub trait DirectoryAdmin: Send + Sync + 'static {
    async fn extensions(
        &self,
        search: &str,
        sort: ExtensionSort,
        descending: bool,
        offset: u64,
    ) -> Result<ExtensionsPage, PortalError>;
    /// Adds (`original` None) or changes an extension.
    async fn save_extension(
        &self,
        actor: &CurrentUser,
        original: Option<&str>,
        extension: Extension,
    ) -> Result<(), PortalError>;
    async fn delete_extension(&self, actor: &CurrentUser, number: &str) -> Result<(), PortalError>;
    async fn groups(&self) -> Result<Vec<ExtensionGroup>, PortalError>;
    async fn save_group(
        &self,
        actor: &CurrentUser,
        id: Option<i32>,
        name: &str,
        members: &[String],
    ) -> Result<(), PortalError>;
    async fn delete_group(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
    async fn picker(&self, search: &str) -> Result<Vec<PickerItem>, PortalError>;
}

/// A page of the extension directory; any signed-in user may read it.
#[server(input = GetUrl, endpoint = "list_extensions")]
pub async fn list_extensions(
    #[server(default)] search: String,
    #[server(default)] sort: String,
    #[server(default)] descending: bool,
    #[server(default)] offset: u64,
) -> Result<ExtensionsPage, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .directory
            .extensions(&search, ExtensionSort::parse(&sort), descending, offset)
            .await
    })
    .await
}

/// Adds an extension (`original` empty) or changes the one numbered `original`.
#[server(input = Json, endpoint = "save_extension")]
pub async fn save_extension(
    csrf_token: String,
    original: Option<String>,
    extension: Extension,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .directory
            .save_extension(&actor, original.as_deref(), extension)
            .await
    })
    .await
}

#[server(endpoint = "delete_extension")]
pub async fn delete_extension(csrf_token: String, number: String) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.directory.delete_extension(&actor, &number).await
    })
    .await
}

#[server(input = GetUrl, endpoint = "list_extension_groups")]
pub async fn list_extension_groups() -> Result<Vec<ExtensionGroup>, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?.directory.groups().await
    })
    .await
}

/// Creates (`id` None) or changes an extension group.
#[server(input = Json, endpoint = "save_extension_group")]
pub async fn save_extension_group(
    csrf_token: String,
    id: Option<i32>,
    name: String,
    members: Vec<String>,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .directory
            .save_group(&actor, id, &name, &members)
            .await
    })
    .await
}

#[server(endpoint = "delete_extension_group")]
pub async fn delete_extension_group(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.directory.delete_group(&actor, id).await
    })
    .await
}

/// The association picker's matches for `search`: groups and extensions.
#[server(input = GetUrl, endpoint = "pick_extensions")]
pub async fn pick_extensions(
    #[server(default)] search: String,
) -> Result<Vec<PickerItem>, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?.directory.picker(&search).await
    })
    .await
}
