//! The PBX's webhook signature (the vendor's "Monitor Events via Webhook"): the raw body
//! signed with HMAC-SHA256 under the webhook's Secret, Base64-encoded, in `X-Signature`.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header the PBX signs its webhook posts in.
pub const SIGNATURE_HEADER: &str = "x-signature";
/// The longest type name kept from an event (for the status's counts).
pub const MAX_EVENT_TYPE_CHARS: usize = 40;

/// The signature the PBX sends for `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `given` (the header's value) signs `body` under one of `secrets`; compared in
/// constant time.
pub fn verify(given: &str, body: &[u8], secrets: &[String]) -> bool {
    let given = given.trim();
    let Ok(bytes) = STANDARD
        .decode(given)
        .or_else(|_| STANDARD_NO_PAD.decode(given))
    else {
        return false;
    };
    secrets.iter().any(|secret| {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        mac.verify_slice(&bytes).is_ok()
    })
}

/// The type of a PBX event as the status counts it: P-Series' numbered `type`, or the
/// S-Series' `event`/`action` name; `unknown` when there is none.
pub fn event_type(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let named = match (value.get("type"), value.get("event"), value.get("action")) {
        (Some(serde_json::Value::Number(n)), _, _) => n.to_string(),
        (Some(serde_json::Value::String(s)), _, _) if s.bytes().all(|b| b.is_ascii_digit()) => {
            s.clone()
        }
        (_, Some(serde_json::Value::String(s)), _) | (_, _, Some(serde_json::Value::String(s))) => {
            s.clone()
        }
        _ => String::new(),
    };
    let named: String = named.trim().chars().take(MAX_EVENT_TYPE_CHARS).collect();
    if named.is_empty() {
        "unknown".to_owned()
    } else {
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_as_the_guide_says_verifies_under_either_secret() {
        let body = br#"{"type":30012,"sn":"1","msg":"{}"}"#;
        let signed = signature("0123456789abcdef0123456789abcdef", body);
        // Known answer: HMAC-SHA256 of the body, Base64 with padding.
        assert_eq!(signed.len(), 44);
        assert!(signed.ends_with('='));
        let secrets = vec![
            "old-secret-old-secret".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ];
        assert!(verify(&signed, body, &secrets));
        assert!(verify(signed.trim_end_matches('='), body, &secrets));
        assert!(
            !verify(&signed, b"{\"type\":30012}", &secrets),
            "another body"
        );
        assert!(!verify(&signed, body, &secrets[..1]), "another secret");
        assert!(!verify("not base64!", body, &secrets));
        assert!(!verify("", body, &secrets));
    }

    #[test]
    fn the_rfc_4231_vector_holds() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let expected = STANDARD.encode(hex_bytes(
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ));
        assert_eq!(signature("Jefe", b"what do ya want for nothing?"), expected);
    }

    fn hex_bytes(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn event_types_are_read_from_either_series() {
        assert_eq!(event_type(br#"{"type":30011,"msg":"{}"}"#), "30011");
        assert_eq!(event_type(br#"{"type":"30012"}"#), "30012");
        assert_eq!(
            event_type(br#"{"event":"NewCdr","type":"Inbound"}"#),
            "NewCdr"
        );
        assert_eq!(event_type(br#"{"action":"CallStatus"}"#), "CallStatus");
        assert_eq!(event_type(b"nonsense"), "unknown");
        assert_eq!(
            event_type(format!(r#"{{"event":"{}"}}"#, "x".repeat(500)).as_bytes()).len(),
            MAX_EVENT_TYPE_CHARS
        );
    }
}
