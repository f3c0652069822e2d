//! `patchbay template validate FILE...`: template authors check their files, in their own
//! CI too. One line per finding, `file:line:column: severity: message [code] (where)`,
//! and a non-zero exit status when any file has an error. `patchbay template from-3cx FILE`:
//! a 3CX CRM template converted, with its report.

use std::io::Write;
use std::path::Path;

use app::template::threecx::{convert, Outcome, ReportLine};
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

/// One report line as the command line writes it: `file:line: outcome: element: message`.
pub fn format_report_line(file: &str, line: &ReportLine) -> String {
    format!(
        "{file}:{}: {}: {}: {}",
        line.line,
        line.outcome.label(),
        line.element,
        line.message
    )
}

/// Converts a 3CX template: the template to `out`, the report and the converted template's
/// findings to `report`. Whether the result is free of validation errors.
pub fn convert_3cx_file(
    path: &Path,
    out: &mut impl Write,
    report: &mut impl Write,
) -> std::io::Result<bool> {
    let name = path.display().to_string();
    let text = match read_template(path) {
        Ok(text) => text,
        Err(message) => {
            writeln!(report, "{name}: error: {message}")?;
            return Ok(false);
        }
    };
    let conversion = match convert(&text) {
        Ok(conversion) => conversion,
        Err(error) => {
            writeln!(report, "{name}: error: {error}")?;
            return Ok(false);
        }
    };
    out.write_all(conversion.template.as_bytes())?;
    let count = |outcome| {
        conversion
            .report
            .iter()
            .filter(|l| l.outcome == outcome)
            .count()
    };
    for line in &conversion.report {
        writeln!(report, "{}", format_report_line(&name, line))?;
    }
    let (_, findings) = validate_text(&conversion.template);
    let converted_name = "(converted)";
    for finding in &findings.findings {
        writeln!(report, "{}", format_finding(converted_name, finding))?;
    }
    let errors = findings
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    writeln!(
        report,
        "{name}: {} converted, {} approximated, {} without equivalent; the converted template has {errors} error(s) and {} warning(s)",
        count(Outcome::Converted),
        count(Outcome::Approximated),
        count(Outcome::NoEquivalent),
        findings.findings.len() - errors
    )?;
    Ok(errors == 0)
}

/// `patchbay template from-3cx FILE`: status 1 when the file does not convert or the result
/// has validation errors (it is still written, to finish in the editor).
pub fn from_3cx(path: &Path) -> std::process::ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    match convert_3cx_file(path, &mut stdout, &mut stderr) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(error) => {
            eprintln!("patchbay: cannot write: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
