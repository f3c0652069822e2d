//! `patchbay template validate FILE...`: template authors check their files, in their own
//! CI too. One line per finding, `file:line:column: severity: message [code] (where)`,
//! and a non-zero exit status when any file has an error.

use std::io::Write;
use std::path::Path;

use app::template::validate::{validate_text, Finding, Severity};
use app::template::xml::MAX_TEMPLATE_BYTES;

/// Counts of what was found in all files.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
}

fn format_finding(file: &str, finding: &Finding) -> String {
    let severity = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let position = match (finding.location.line, finding.location.column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
        _ => file.to_string(),
    };
    let place = finding.location.describe();
    let place = if place.is_empty() {
        String::new()
    } else {
        format!(" ({place})")
    };
    format!(
        "{position}: {severity}: {} [{}]{place}",
        finding.message, finding.code
    )
}

fn read_template(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the file has {} bytes; templates may have at most {MAX_TEMPLATE_BYTES} bytes (1 MiB)",
            bytes.len()
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Validates each file and writes its findings to `out`.
pub fn validate_files(
    paths: &[impl AsRef<Path>],
    out: &mut impl Write,
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    for path in paths {
        let path = path.as_ref();
        let name = path.display().to_string();
        summary.files += 1;
        let text = match read_template(path) {
            Ok(text) => text,
            Err(message) => {
                summary.errors += 1;
                writeln!(out, "{name}: error: {message} [file.unreadable]")?;
                continue;
            }
        };
        let (_, report) = validate_text(&text);
        for finding in &report.findings {
            match finding.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
            }
            writeln!(out, "{}", format_finding(&name, finding))?;
        }
    }
    Ok(summary)
}
