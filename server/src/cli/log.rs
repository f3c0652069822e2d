//! The server's log writer: every record is exactly one line. A value from outside (an event
//! type, a path segment, a CRM's answer) that holds a line break or another control character
//! is written escaped (`\n`, `\u{1b}`), so nobody can start a forged line in the log.

use std::io::Write;

/// How the server writes its log (`PATCHBAY_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line per record for people (the default).
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl Format {
    pub fn parse(value: Option<&str>) -> Result<Format, String> {
        match value.map(str::trim) {
            None | Some("") | Some("text") => Ok(Format::Text),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(format!(
                "PATCHBAY_LOG_FORMAT: must be \"text\" or \"json\", not \"{other}\""
            )),
        }
    }
}

/// Writes each formatted record to `inner` with its control characters escaped; the
/// record's own final line break stays. `ansi` keeps the escape character, which the
/// subscriber's colours use on a terminal.
pub struct OneLine<W> {
    inner: W,
    ansi: bool,
}

impl<W: Write> OneLine<W> {
    pub fn new(inner: W, ansi: bool) -> OneLine<W> {
        OneLine { inner, ansi }
    }
}

impl<W: Write> Write for OneLine<W> {
    fn write(&mut self, record: &[u8]) -> std::io::Result<usize> {
        let (body, line_end) = match record.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (record, false),
        };
        let mut escaped = Vec::with_capacity(record.len() + 8);
        for &byte in body {
            match byte {
                b'\n' => escaped.extend_from_slice(b"\\n"),
                b'\r' => escaped.extend_from_slice(b"\\r"),
                b'\t' => escaped.push(byte),
                0x1b if self.ansi => escaped.push(byte),
                0x00..=0x1f | 0x7f => {
                    escaped.extend_from_slice(format!("\\u{{{byte:x}}}").as_bytes())
                }
                _ => escaped.push(byte),
            }
        }
        if line_end {
            escaped.push(b'\n');
        }
        self.inner.write_all(&escaped)?;
        Ok(record.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(record: &str, ansi: bool) -> String {
        let mut out = Vec::new();
        OneLine::new(&mut out, ansi)
            .write_all(record.as_bytes())
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_record_stays_one_line_whatever_its_values_hold() {
        let forged = "INFO call events of this type are ignored event_type=x\n2026-12-03T10:00:00Z  INFO signed in account=admin@example.com\n";
        let out = written(forged, false);
        assert_eq!(out.lines().count(), 1);
        assert!(out.ends_with("example.com\n"));
        assert!(out.contains("x\\n2026"));
        assert_eq!(
            written("a\r\u{1b}[31mb\u{7}\n", false),
            "a\\r\\u{1b}[31mb\\u{7}\n"
        );
        assert_eq!(
            written("\u{1b}[2mtime\u{1b}[0m\tx\n", true),
            "\u{1b}[2mtime\u{1b}[0m\tx\n"
        );
        assert_eq!(written("é ok", false), "é ok");
    }
}
