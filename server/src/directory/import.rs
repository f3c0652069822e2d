//! Reading an extensions CSV (README "Extensions": `number,first_name,last_name,email`,
//! columns matched by name) and planning what it changes, as pure functions: every row gets
//! its outcome (new, changed, unchanged, refused and why) before anything is stored, and a
//! file with any refused row changes nothing.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// The columns, by name.
pub const COLUMNS: [&str; 4] = ["number", "first_name", "last_name", "email"];
/// The largest file accepted.
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;
/// The most rows one file may hold.
pub const MAX_IMPORT_ROWS: usize = 20_000;
/// An extension number: digits, at most this many.
pub const MAX_NUMBER_DIGITS: usize = 15;
/// A first or last name.
pub const MAX_NAME_CHARS: usize = 64;

pub use app::extensions::Extension as ExtensionFields;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    New,
    Changed,
    Unchanged,
    Refused,
}

/// One data row of the file and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowResult {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub number: String,
    pub outcome: RowOutcome,
    /// Why a row is refused.
    pub reason: Option<String>,
}

/// Why a whole file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than {} MiB", MAX_IMPORT_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file is empty: it needs the header line number,first_name,last_name,email")]
    Empty,
    #[error("line {line} is not UTF-8 text (save the file as CSV UTF-8)")]
    NotUtf8 { line: u64 },
    #[error("the file separates columns with {0}; Patchbay reads commas (save it as comma-separated CSV)")]
    Delimiter(&'static str),
    #[error(
        "the header must name the columns number, first_name, last_name, email (in any order): {0}"
    )]
    Header(String),
    #[error("line {line}: {reason}")]
    Malformed { line: u64, reason: String },
    #[error("the file has more than {MAX_IMPORT_ROWS} rows")]
    TooManyRows,
}

/// Why an extension's fields are refused: the column and what is wrong with it. Shown as
/// `column message` (`email "x" must look like …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRefusal {
    pub column: &'static str,
    pub message: String,
}

impl std::fmt::Display for FieldRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.column, self.message)
    }
}

/// Checks one extension's fields; `None` when they are fine.
pub fn refusal(fields: &ExtensionFields) -> Option<FieldRefusal> {
    let refused = |column, message: String| Some(FieldRefusal { column, message });
    let number = &fields.number;
    if number.is_empty() {
        return refused("number", "is empty".into());
    }
    if number.len() > MAX_NUMBER_DIGITS || !number.chars().all(|c| c.is_ascii_digit()) {
        return refused(
            "number",
            format!("{number:?} must be 1 to {MAX_NUMBER_DIGITS} digits"),
        );
    }
    for (column, name) in [
        ("first_name", &fields.first_name),
        ("last_name", &fields.last_name),
    ] {
        if name.chars().count() > MAX_NAME_CHARS {
            return refused(
                column,
                format!("is longer than {MAX_NAME_CHARS} characters"),
            );
        }
        if name.chars().any(char::is_control) {
            return refused(column, "holds a control character".into());
        }
    }
    if !fields.email.is_empty() {
        if let Err(error) = app::accounts::normalize_email(&fields.email) {
            return refused(
                "email",
                format!("{:?} {}", fields.email, error_text(&error)),
            );
        }
    }
    None
}

fn error_text(error: &app::error::PortalError) -> String {
    match error {
        app::error::PortalError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// A row as the directory keeps it: trimmed, the e-mail lower case (the same for a row
/// typed on the page as for one read from a file).
pub fn normalize(fields: ExtensionFields) -> ExtensionFields {
    ExtensionFields {
        number: fields.number.trim().to_owned(),
        first_name: fields.first_name.trim().to_owned(),
        last_name: fields.last_name.trim().to_owned(),
        email: fields.email.trim().to_lowercase(),
        source: fields.source,
    }
}

/// The rows of `bytes`, each with its line, trimmed; e-mails lower-cased.
pub fn read(bytes: &[u8]) -> Result<Vec<(u64, ExtensionFields)>, FileError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(FileError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(error) = std::str::from_utf8(bytes) {
        let line = bytes[..error.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
            + 1;
        return Err(FileError::NotUtf8 { line });
    }
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    let first_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or(FileError::Empty)?;
    if !first_line.contains(',') {
        let others = [(';', "\";\""), ('\t', "tabs"), ('|', "\"|\"")];
        if let Some((_, name)) = others.iter().find(|(d, _)| first_line.contains(*d)) {
            return Err(FileError::Delimiter(name));
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| FileError::Header(e.to_string()))?
        .clone();
    let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut at = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if !COLUMNS.contains(&name.as_str()) {
            return Err(FileError::Header(format!("unknown column {name:?}")));
        }
        if at.insert(name.clone(), i).is_some() {
            return Err(FileError::Header(format!("column {name:?} appears twice")));
        }
    }
    if let Some(missing) = COLUMNS.iter().find(|c| !at.contains_key(**c)) {
        return Err(FileError::Header(format!("column {missing:?} is missing")));
    }
    // The line a record starts on, counting from 1. csv places a record where the previous
    // one ended, before the line breaks (and empty lines) it skips. Records come in order,
    // so the count goes on from the last one: linear in the file.
    let counted = std::cell::Cell::new((0usize, 1u64));
    let line_at = |byte: u64| {
        let bytes = text.as_bytes();
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        let (from, line) = counted.get();
        let (from, line) = if at >= from { (from, line) } else { (0, 1) };
        let line = line + bytes[from..at].iter().filter(|b| **b == b'\n').count() as u64;
        counted.set((at, line));
        line
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileError::Malformed {
            line: e.position().map_or(0, |p| line_at(p.byte())),
            reason: match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!("{len} columns where the header has {expected_len}")
                }
                _ => e.to_string(),
            },
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(FileError::TooManyRows);
        }
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let get = |column: &str| typed(record.get(at[column]).unwrap_or_default()).to_owned();
        rows.push((
            line,
            normalize(ExtensionFields {
                number: get("number"),
                first_name: get("first_name"),
                last_name: get("last_name"),
                email: get("email"),
                ..ExtensionFields::default()
            }),
        ));
    }
    Ok(rows)
}

/// What each row does against the directory as it is (`existing`, by number). A number
/// that appears twice refuses both rows, naming the other line.
pub fn plan(
    rows: &[(u64, ExtensionFields)],
    existing: &BTreeMap<String, ExtensionFields>,
) -> Vec<RowResult> {
    let mut first_line: HashMap<&str, u64> = HashMap::new();
    let mut duplicates: HashMap<&str, Vec<u64>> = HashMap::new();
    for (line, fields) in rows {
        if let Some(first) = first_line.get(fields.number.as_str()) {
            duplicates
                .entry(fields.number.as_str())
                .or_insert_with(|| vec![*first])
                .push(*line);
        } else {
            first_line.insert(&fields.number, *line);
        }
    }
    rows.iter()
        .map(|(line, fields)| {
            let refused = |reason: String| RowResult {
                line: *line,
                number: fields.number.clone(),
                outcome: RowOutcome::Refused,
                reason: Some(reason),
            };
            if let Some(reason) = refusal(fields) {
                return refused(reason.to_string());
            }
            if let Some(lines) = duplicates.get(fields.number.as_str()) {
                let lines: Vec<String> = lines.iter().map(u64::to_string).collect();
                return refused(format!(
                    "number {} appears on lines {}",
                    fields.number,
                    lines.join(" and ")
                ));
            }
            let outcome = match existing.get(&fields.number) {
                None => RowOutcome::New,
                Some(current) if current == fields => RowOutcome::Unchanged,
                Some(_) => RowOutcome::Changed,
            };
            RowResult {
                line: *line,
                number: fields.number.clone(),
                outcome,
                reason: None,
            }
        })
        .collect()
}

/// The directory as CSV, in the import's format. A cell a spreadsheet would run as a
/// formula (one starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written
/// with a leading `'` (OWASP's advice), which the import takes off again.
pub fn export(extensions: &[ExtensionFields]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(COLUMNS);
    for e in extensions {
        let _ = writer.write_record(
            [&e.number, &e.first_name, &e.last_name, &e.email].map(|cell| inert(cell).into_owned()),
        );
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.starts_with(FORMULA_STARTS) {
        true => format!("'{cell}").into(),
        false => cell.into(),
    }
}

/// A cell as exported back to what was typed: the `'` [`export`] put before a formula
/// start comes off.
fn typed(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(number: &str, first: &str) -> ExtensionFields {
        ExtensionFields {
            number: number.into(),
            first_name: first.into(),
            last_name: String::new(),
            email: String::new(),
            ..ExtensionFields::default()
        }
    }

    #[test]
    fn columns_by_name_a_bom_quotes_and_empty_lines() {
        let text = "\u{feff}email,number,last_name,first_name\r\n\r\nADA@Example.com,1001,\"Lovelace, Countess\",Ada\n,1002,,\"Grace \"\"Amazing\"\"\"\n\n";
        let rows = read(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 3);
        assert_eq!(rows[0].1.last_name, "Lovelace, Countess");
        assert_eq!(rows[0].1.email, "ada@example.com");
        assert_eq!(rows[1].1.first_name, "Grace \"Amazing\"");
        let formulas = ExtensionFields {
            number: "1099".into(),
            first_name: "=HYPERLINK(\"http://evil.example\",\"x\")".into(),
            last_name: "+1-2".into(),
            email: "@x@example.com".into(),
            ..ExtensionFields::default()
        };
        let exported = export(std::slice::from_ref(&formulas));
        let row = exported.lines().nth(1).unwrap();
        assert_eq!(
            row,
            "1099,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",'+1-2,'@x@example.com"
        );
        assert_eq!(read(exported.as_bytes()).unwrap()[0].1, formulas);
        let round = read(export(&[rows[0].1.clone(), rows[1].1.clone()]).as_bytes()).unwrap();
        assert_eq!(round[0].1, rows[0].1);
        assert_eq!(round[1].1, rows[1].1);
    }

    #[test]
    fn a_bad_file_says_what_and_where() {
        let error = |text: &[u8]| read(text).unwrap_err().to_string();
        assert!(error(b"number;first_name;last_name;email\n1;a;b;c").contains("\";\""));
        assert!(error(b"number,first,last_name,email\n").contains("unknown column \"first\""));
        assert!(error(b"number,first_name,email\n").contains("\"last_name\" is missing"));
        assert!(error(b"number,first_name,last_name,email\n1001,Ada\n").contains("line 2"));
        assert!(
            error(b"number,first_name,last_name,email\n1001,Ada,L,a@b.c\n1002,\xff\xfe,x,\n")
                .contains("line 3 is not UTF-8")
        );
        assert!(error(b"").contains("empty"));
        let mut big = String::from("number,first_name,last_name,email\n");
        for n in 0..=MAX_IMPORT_ROWS {
            big.push_str(&format!("{n},a,b,\n"));
        }
        assert_eq!(read(big.as_bytes()).unwrap_err(), FileError::TooManyRows);
    }

    #[test]
    fn each_row_gets_its_outcome_and_a_duplicate_names_both_lines() {
        let rows = vec![
            (2, fields("1001", "Ada")),
            (3, fields("1002", "Grace")),
            (4, fields("1003", "Alan")),
            (5, fields("10x4", "Bad")),
            (6, fields("1003", "Again")),
        ];
        let existing = BTreeMap::from([
            ("1001".to_owned(), fields("1001", "Ada")),
            ("1002".to_owned(), fields("1002", "Old")),
        ]);
        let plan = plan(&rows, &existing);
        let outcomes: Vec<RowOutcome> = plan.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                RowOutcome::Unchanged,
                RowOutcome::Changed,
                RowOutcome::Refused,
                RowOutcome::Refused,
                RowOutcome::Refused
            ]
        );
        assert_eq!(
            plan[2].reason.as_deref(),
            Some("number 1003 appears on lines 4 and 6")
        );
        assert!(plan[3].reason.as_deref().unwrap().contains("digits"));
        let mut bad_mail = fields("1009", "X");
        bad_mail.email = "not-mail".into();
        let refused = refusal(&bad_mail).unwrap();
        assert_eq!(refused.column, "email");
        assert!(refused.to_string().starts_with("email \"not-mail\""));
    }
}
