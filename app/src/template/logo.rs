//! Template logos: PNG or JPEG, recognised by their bytes (not their file name), at most
//! 500 KiB (docs/template-format.md).

/// Largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 512_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("the logo is empty")]
    Empty,
    #[error("the logo has {0} bytes; at most 512000 (500 KiB) are allowed")]
    TooLarge(usize),
    #[error("the logo is not a PNG or JPEG image (its content looks like {0})")]
    NotAnImage(String),
}

/// The logo's media type, `image/png` or `image/jpeg`, from its content.
pub fn check_logo(bytes: &[u8]) -> Result<&'static str, LogoError> {
    if bytes.is_empty() {
        return Err(LogoError::Empty);
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge(bytes.len()));
    }
    match infer::get(bytes).map(|kind| kind.mime_type()) {
        Some("image/png") => Ok("image/png"),
        Some("image/jpeg") => Ok("image/jpeg"),
        Some(other) => Err(LogoError::NotAnImage(other.to_string())),
        None => Err(LogoError::NotAnImage("no known format".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG_START: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0";

    #[test]
    fn png_and_jpeg_are_recognised_by_content() {
        assert_eq!(check_logo(PNG_SIGNATURE), Ok("image/png"));
        assert_eq!(check_logo(JPEG_START), Ok("image/jpeg"));
    }

    #[test]
    fn a_text_file_named_png_is_refused() {
        assert!(matches!(
            check_logo(b"just some text, named logo.png"),
            Err(LogoError::NotAnImage(_))
        ));
        assert!(
            matches!(check_logo(b"GIF89a\x01\0\x01\0"), Err(LogoError::NotAnImage(kind)) if kind == "image/gif")
        );
    }

    #[test]
    fn size_limits() {
        assert_eq!(check_logo(b""), Err(LogoError::Empty));
        let mut big = PNG_SIGNATURE.to_vec();
        big.resize(MAX_LOGO_BYTES, 0);
        assert_eq!(check_logo(&big), Ok("image/png"));
        big.push(0);
        assert_eq!(
            check_logo(&big),
            Err(LogoError::TooLarge(MAX_LOGO_BYTES + 1))
        );
    }
}
