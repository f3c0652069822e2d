//! Secret values never appear in messages, logs or traces (SECURITY.md "Stored secrets"):
//! wherever a secret's text shows up, also percent- or base64-encoded, it is replaced.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

pub const MASK: &str = "••••••";

/// Values shorter than this are not masked: masking "1" would mangle every message.
pub const MIN_MASKED_CHARS: usize = 4;

/// `text` with every occurrence of each secret (as is, percent-encoded or base64) masked.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.chars().count() < MIN_MASKED_CHARS {
            continue;
        }
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let path_encoded = encoded.replace('+', "%20");
        for form in [
            secret.to_string(),
            encoded,
            path_encoded,
            BASE64.encode(secret),
        ] {
            if out.contains(&form) {
                out = out.replace(&form, MASK);
            }
        }
    }
    out
}

/// At most `limit` characters of `text`, marked when cut (error messages quote answers).
pub fn excerpt(text: &str, limit: usize) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &trimmed[..end]),
        None => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_plain_encoded_and_in_base64() {
        let text = format!(
            "token=s3cr%2Ft%2Fx secret s3cr/t/x and {} but not 'ab'",
            BASE64.encode("s3cr/t/x")
        );
        let masked = redact(&text, &["s3cr/t/x", "ab"]);
        assert!(!masked.contains("s3cr"), "{masked}");
        assert!(!masked.contains(&BASE64.encode("s3cr/t/x")), "{masked}");
        assert!(masked.contains("'ab'"));
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("  héllo world ", 5), "héllo…");
        assert_eq!(excerpt("short", 10), "short");
    }
}
