//! Signed, expiring links to call recordings (README "Phone system"): a CDR names a
//! recording by its file name on the PBX, which no CRM can open; `RecordPath` becomes a
//! Patchbay URL carrying the name, an expiry and an HMAC over both, so only links Patchbay
//! made open a recording, and only until they expire. The key is derived from the
//! encryption key, so every instance with the same key makes and accepts the same links.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::keys::EncryptionKey;

type HmacSha256 = Hmac<Sha256>;

/// Where recordings are served.
pub const RECORDINGS_PATH: &str = "/api/v1/recordings";
/// How long a recording link opens the recording: a week, long enough for the CRM's
/// users to play a call's recording the days after it (the CRM keeps the link; a later
/// click answers 410 Gone).
pub const RECORDING_LINK_SECS: i64 = 7 * 24 * 3600;
/// The longest file name a link carries.
pub const MAX_RECORDING_NAME_CHARS: usize = 255;

#[derive(Clone)]
pub struct RecordingLinks {
    key: [u8; 32],
    public_url: String,
}

impl std::fmt::Debug for RecordingLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordingLinks(<key redacted>)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("this recording link is not one Patchbay made")]
    Forged,
    #[error("this recording link expired; open the call in the CRM again after the next journal, or ask an administrator")]
    Expired,
}

impl RecordingLinks {
    pub fn new(encryption_key: &EncryptionKey, public_url: &str) -> Self {
        // A separate key per purpose: a signature made here is worth nothing elsewhere.
        let mut derive = HmacSha256::new_from_slice(&encryption_key.0).expect("any key length");
        derive.update(b"patchbay recording links v1");
        RecordingLinks {
            key: derive.finalize().into_bytes().into(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn signature(&self, file: &str, expires: i64) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(file.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// What `RecordPath` carries for the CDR's `recording`: a URL as it came (another phone
    /// system's, already one), or a signed link to the PBX's file; empty stays empty.
    pub fn record_path(&self, recording: &str, now: i64) -> String {
        let recording = recording.trim();
        if recording.is_empty()
            || recording.contains("://")
            || recording.chars().count() > MAX_RECORDING_NAME_CHARS
        {
            return recording.to_owned();
        }
        let expires = now + RECORDING_LINK_SECS;
        let mut url = url::Url::parse(&format!("{}{RECORDINGS_PATH}", self.public_url))
            .expect("the public URL was checked at start-up");
        url.query_pairs_mut()
            .append_pair("file", recording)
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &self.signature(recording, expires));
        url.to_string()
    }

    /// Whether a link's parts are genuine and still valid at `now`.
    pub fn check(
        &self,
        file: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), LinkRefused> {
        if !super::secrets_match(signature, &self.signature(file, expires)) {
            return Err(LinkRefused::Forged);
        }
        if expires < now {
            return Err(LinkRefused::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> RecordingLinks {
        RecordingLinks::new(&EncryptionKey([7; 32]), "https://patchbay.example.com/")
    }

    fn parts(link: &str) -> (String, i64, String) {
        let url = url::Url::parse(link).unwrap();
        let get = |name| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .unwrap()
                .1
                .into_owned()
        };
        (
            get("file"),
            get("expires").parse().unwrap(),
            get("signature"),
        )
    }

    #[test]
    fn a_link_opens_its_file_until_it_expires_and_nothing_else() {
        let link =
            links().record_path("20220412173331-1649756009.12-2002-2005-Internal.wav", 1_000);
        assert!(link.starts_with("https://patchbay.example.com/api/v1/recordings?file=2022"));
        let (file, expires, signature) = parts(&link);
        assert_eq!(expires, 1_000 + RECORDING_LINK_SECS);
        assert_eq!(links().check(&file, expires, &signature, 2_000), Ok(()));
        assert_eq!(
            links().check(&file, expires, &signature, expires + 1),
            Err(LinkRefused::Expired)
        );
        assert_eq!(
            links().check("other.wav", expires, &signature, 2_000),
            Err(LinkRefused::Forged)
        );
        assert_eq!(
            links().check(&file, expires + 3600, &signature, 2_000),
            Err(LinkRefused::Forged),
            "a later expiry is not the signed one"
        );
        let other = RecordingLinks::new(&EncryptionKey([8; 32]), "https://patchbay.example.com");
        assert_eq!(
            other.check(&file, expires, &signature, 2_000),
            Err(LinkRefused::Forged)
        );
    }

    #[test]
    fn urls_and_empty_recordings_stay_as_they_are() {
        assert_eq!(links().record_path("", 1), "");
        assert_eq!(
            links().record_path("https://rec.example/1.wav", 1),
            "https://rec.example/1.wav"
        );
    }
}
