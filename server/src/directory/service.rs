//! The directory's operations for the REST API and the Extensions page: list (a page at a
//! time, searched and sorted), add, edit and delete one extension, export, a CSV import
//! that previews every row's outcome and applies only a file without a refused row
//! (idempotently by number), extension groups, and the association picker's search.

use std::collections::BTreeMap;

use app::extensions::{
    ExtensionGroup, ExtensionSort, ExtensionsPage, PickerItem, EXTENSIONS_PAGE_ROWS,
    MAX_GROUP_MEMBERS, MAX_GROUP_NAME_CHARS, PICKER_MATCHES,
};

use sea_orm::DbErr;
use serde::Serialize;

use super::import::{
    export, normalize, plan, read, refusal, ExtensionFields, FileError, RowOutcome, RowResult,
};
use crate::storage::extension_groups::ExtensionGroupRepository;
use crate::storage::extensions::ExtensionRepository;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Refused(Refusal),
    /// A value the user typed is wrong: `field` names it.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("directory storage failed: {0}")]
    Storage(#[from] DbErr),
}

fn invalid(field: &'static str, message: impl Into<String>) -> DirectoryError {
    DirectoryError::Invalid {
        field,
        message: message.into(),
    }
}

/// A file with refused rows: every row's outcome, so the caller can show why.
#[derive(Debug, thiserror::Error)]
#[error("{refused} of {} rows are refused; nothing was imported", .results.len())]
pub struct Refusal {
    pub refused: usize,
    pub results: Vec<RowResult>,
}

/// What an import did (or, previewed, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub applied: bool,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub rows: Vec<RowResult>,
}

#[derive(Clone)]
pub struct DirectoryService {
    pub extensions: ExtensionRepository,
    pub groups: ExtensionGroupRepository,
}

impl DirectoryService {
    /// A page of the directory for the Extensions page.
    pub async fn page(
        &self,
        search: &str,
        sort: ExtensionSort,
        descending: bool,
        offset: u64,
    ) -> Result<ExtensionsPage, DirectoryError> {
        let (extensions, total) = self
            .extensions
            .page(search, sort, descending, offset, EXTENSIONS_PAGE_ROWS)
            .await?;
        Ok(ExtensionsPage {
            extensions,
            total,
            offset,
        })
    }

    /// Adds `fields` (`original` None) or replaces the extension numbered `original` with
    /// them, after the import's checks. A number already taken is refused, not overwritten.
    pub async fn save(
        &self,
        actor: &str,
        original: Option<&str>,
        fields: ExtensionFields,
    ) -> Result<(), DirectoryError> {
        let fields = normalize(fields);
        if let Some(refused) = refusal(&fields) {
            return Err(invalid(refused.column, refused.message));
        }
        let original_id = match original {
            Some(number) => Some(
                self.extensions
                    .find(number)
                    .await?
                    .ok_or_else(|| {
                        DirectoryError::NotFound(format!("extension {number} does not exist"))
                    })?
                    .id,
            ),
            None => None,
        };
        if let Some(taken) = self.extensions.find(&fields.number).await? {
            if Some(taken.id) != original_id {
                return Err(invalid(
                    "number",
                    format!("{} is already in the directory", fields.number),
                ));
            }
        }
        self.extensions.save(original_id, &fields).await?;
        tracing::info!(%actor, number = %fields.number, "extension saved");
        Ok(())
    }

    /// Deletes the extension; its group memberships and associations go with it.
    pub async fn delete(&self, actor: &str, number: &str) -> Result<(), DirectoryError> {
        if !self.extensions.delete(number).await? {
            return Err(DirectoryError::NotFound(format!(
                "extension {number} does not exist"
            )));
        }
        tracing::info!(%actor, %number, "extension deleted");
        Ok(())
    }

    pub async fn groups(&self) -> Result<Vec<ExtensionGroup>, DirectoryError> {
        Ok(self.groups.all().await?)
    }

    /// Creates (`id` None) or changes a group; every member must be in the directory.
    pub async fn save_group(
        &self,
        actor: &str,
        id: Option<i32>,
        name: &str,
        members: &[String],
    ) -> Result<(), DirectoryError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(invalid("Group name", "is empty"));
        }
        if name.chars().count() > MAX_GROUP_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(invalid(
                "Group name",
                format!(
                    "is longer than {MAX_GROUP_NAME_CHARS} characters or holds a control character"
                ),
            ));
        }
        let mut members: Vec<String> = members
            .iter()
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        members.sort();
        members.dedup();
        if members.len() > MAX_GROUP_MEMBERS {
            return Err(invalid(
                "Members",
                format!("are more than {MAX_GROUP_MEMBERS}, the most a group holds"),
            ));
        }
        let member_ids = self
            .extensions
            .ids_of_all(&members)
            .await?
            .map_err(|unknown| {
                invalid(
                    "Members",
                    format!("not in the directory: {}", unknown.join(", ")),
                )
            })?;
        if let Some(taken) = self.groups.find_by_name(name).await? {
            if Some(taken.id) != id {
                return Err(invalid("Group name", format!("{name:?} is taken")));
            }
        }
        if self.groups.save(id, name, &member_ids).await?.is_none() {
            return Err(DirectoryError::NotFound("the group does not exist".into()));
        }
        tracing::info!(%actor, group = %name, members = member_ids.len(), "extension group saved");
        Ok(())
    }

    pub async fn delete_group(&self, actor: &str, id: i32) -> Result<(), DirectoryError> {
        if !self.groups.delete(id).await? {
            return Err(DirectoryError::NotFound("the group does not exist".into()));
        }
        tracing::info!(%actor, group = id, "extension group deleted");
        Ok(())
    }

    /// The association picker's matches: groups first, then extensions.
    pub async fn picker(&self, search: &str) -> Result<Vec<PickerItem>, DirectoryError> {
        let mut items: Vec<PickerItem> = self
            .groups
            .search(search, PICKER_MATCHES as usize)
            .await?
            .into_iter()
            .filter(|g| !g.members.is_empty())
            .map(|g| PickerItem {
                label: format!("Group: {} ({})", g.name, g.members.len()),
                numbers: g.members,
                is_group: true,
            })
            .collect();
        for extension in self.extensions.search(search, PICKER_MATCHES).await? {
            let name = format!("{} {}", extension.first_name, extension.last_name);
            items.push(PickerItem {
                label: format!("{} {}", extension.number, name.trim())
                    .trim()
                    .to_owned(),
                numbers: vec![extension.number],
                is_group: false,
            });
        }
        Ok(items)
    }

    pub async fn list(&self) -> Result<Vec<ExtensionFields>, DirectoryError> {
        Ok(self.extensions.all().await?)
    }

    pub async fn export_csv(&self) -> Result<String, DirectoryError> {
        Ok(export(&self.extensions.all().await?))
    }

    /// Reads `bytes`, plans each row against the directory, and (unless `preview`) applies
    /// the new and changed rows, only when no row is refused.
    pub async fn import(
        &self,
        actor: &str,
        bytes: &[u8],
        preview: bool,
    ) -> Result<ImportReport, DirectoryError> {
        let rows = read(bytes)?;
        let existing: BTreeMap<String, ExtensionFields> = self
            .extensions
            .all()
            .await?
            .into_iter()
            .map(|e| (e.number.clone(), e))
            .collect();
        let results = plan(&rows, &existing);
        let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
        let refused = count(RowOutcome::Refused);
        if refused > 0 {
            return Err(DirectoryError::Refused(Refusal { refused, results }));
        }
        let report = ImportReport {
            applied: !preview,
            new: count(RowOutcome::New),
            changed: count(RowOutcome::Changed),
            unchanged: count(RowOutcome::Unchanged),
            rows: results,
        };
        if !preview {
            let mut new = Vec::with_capacity(report.new);
            let mut changed = Vec::with_capacity(report.changed);
            for ((_, fields), result) in rows.into_iter().zip(&report.rows) {
                match result.outcome {
                    RowOutcome::New => new.push(fields),
                    RowOutcome::Changed => changed.push(fields),
                    RowOutcome::Unchanged | RowOutcome::Refused => {}
                }
            }
            self.extensions.apply(&new, &changed).await?;
            tracing::info!(%actor, new = report.new, changed = report.changed, "extensions imported");
        }
        Ok(report)
    }
}
