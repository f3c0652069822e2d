//! The directory's operations for the REST API (and, later, its page): list, export, and a
//! CSV import that previews every row's outcome and applies only a file without a refused
//! row, idempotently by number.

use std::collections::BTreeMap;

use sea_orm::DbErr;
use serde::Serialize;

use super::import::{export, plan, read, ExtensionFields, FileError, RowOutcome, RowResult};
use crate::storage::extensions::ExtensionRepository;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Refused(Refusal),
    #[error("directory storage failed: {0}")]
    Storage(#[from] DbErr),
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
}

impl DirectoryService {
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
