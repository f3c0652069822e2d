//! Phone numbers written the ways CRMs store them (docs/scenarios.md "Number formats"): the
//! number as received, digits only, E.164, national, the last digits; the variables a
//! template can use; the formats a lookup tries in order; the key the contact cache files a
//! number under. Parsing and formatting are libphonenumber's (the `phonenumber` crate).

use app::integrations::{ContactFeatures, NumberFormat};
use phonenumber::{country, Mode, PhoneNumber};

use super::Variables;

/// The variable a lookup's requests read the number from: the format being tried.
pub const PHONE_VARIABLE: &str = "Phone";

/// The number in every format, as variables (docs/variables.md "Contact lookup").
const FORMAT_VARIABLES: [(&str, NumberFormat); 5] = [
    ("PhoneReceived", NumberFormat::AsReceived),
    ("PhoneDigits", NumberFormat::Digits),
    ("PhoneE164", NumberFormat::E164),
    ("PhoneNational", NumberFormat::National),
    ("PhoneLastDigits", NumberFormat::LastDigits),
];

/// The longest number a lookup accepts (ITU E.164 allows 15 digits; the rest is room for
/// formatting and an extension).
pub const MAX_NUMBER_CHARS: usize = 64;

/// A number as received, read once.
pub struct Number<'a> {
    received: &'a str,
    parsed: Option<PhoneNumber>,
    last_digits: usize,
}

impl<'a> Number<'a> {
    /// Reads `received` in the Features' default country (a number with `+` or `00` and
    /// its country code needs none).
    pub fn read(received: &'a str, features: &ContactFeatures) -> Number<'a> {
        let country = features
            .default_country
            .trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .ok();
        let received = received.trim();
        let parsed = (received.chars().count() <= MAX_NUMBER_CHARS)
            .then(|| phonenumber::parse(country, received).ok())
            .flatten();
        Number {
            received,
            parsed,
            last_digits: usize::from(features.last_digits.max(1)),
        }
    }

    /// The number written in `format`; `None` when it cannot be (E.164 or national of a
    /// number libphonenumber cannot read, say without a country code and no default country).
    pub fn formatted(&self, format: NumberFormat) -> Option<String> {
        let text = match format {
            NumberFormat::AsReceived => self.received.to_owned(),
            NumberFormat::Digits => digits(self.received),
            NumberFormat::E164 => self.parsed.as_ref()?.format().mode(Mode::E164).to_string(),
            NumberFormat::National => digits(
                &self
                    .parsed
                    .as_ref()?
                    .format()
                    .mode(Mode::National)
                    .to_string(),
            ),
            NumberFormat::LastDigits => {
                let all = digits(self.received);
                let skip = all.len().saturating_sub(self.last_digits);
                all[skip..].to_owned()
            }
        };
        (!text.is_empty()).then_some(text)
    }

    /// The numbers a lookup tries, in the Features' order without repeats (none chosen: as
    /// received).
    pub fn attempts(&self, formats: &[NumberFormat]) -> Vec<String> {
        let formats = if formats.is_empty() {
            &[NumberFormat::AsReceived][..]
        } else {
            formats
        };
        let mut attempts: Vec<String> = Vec::new();
        for text in formats.iter().filter_map(|f| self.formatted(*f)) {
            if !attempts.contains(&text) {
                attempts.push(text);
            }
        }
        attempts
    }

    /// `PhoneReceived`, `PhoneDigits`, `PhoneE164`, `PhoneNational`, `PhoneLastDigits` (empty
    /// when the number cannot be written so).
    pub fn variables(&self) -> Variables {
        FORMAT_VARIABLES
            .iter()
            .map(|(name, format)| {
                (
                    (*name).to_owned(),
                    self.formatted(*format).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The key the contact cache files the number under: E.164 when libphonenumber reads
    /// it, its digits otherwise, so `+1 555-0100` and `15550100` meet.
    pub fn cache_key(&self) -> String {
        self.formatted(NumberFormat::E164)
            .unwrap_or_else(|| format!("+{}", digits(self.received)))
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(country: &str, formats: &[NumberFormat]) -> ContactFeatures {
        ContactFeatures {
            default_country: country.into(),
            number_formats: formats.to_vec(),
            last_digits: 7,
            ..ContactFeatures::default()
        }
    }

    #[test]
    fn a_number_is_written_in_every_format() {
        let german = features("DE", &[]);
        let number = Number::read(" 030 1234567 ", &german);
        let vars = number.variables();
        assert_eq!(vars["PhoneReceived"], "030 1234567");
        assert_eq!(vars["PhoneDigits"], "0301234567");
        assert_eq!(vars["PhoneE164"], "+49301234567");
        assert_eq!(vars["PhoneNational"], "0301234567");
        assert_eq!(vars["PhoneLastDigits"], "1234567");
        assert_eq!(number.cache_key(), "+49301234567");

        let international = Number::read("+1 (415) 555-0100", &german);
        assert_eq!(
            international.formatted(NumberFormat::E164).as_deref(),
            Some("+14155550100"),
            "a country code wins over the default country"
        );
        assert_eq!(
            international.formatted(NumberFormat::National).as_deref(),
            Some("4155550100")
        );
        assert_eq!(
            Number::read("+14155550100", &german).cache_key(),
            international.cache_key(),
            "the cache files both writings under one key"
        );
    }

    #[test]
    fn without_a_country_a_local_number_has_no_e164_and_attempts_skip_it() {
        let formats = [
            NumberFormat::E164,
            NumberFormat::AsReceived,
            NumberFormat::Digits,
            NumberFormat::LastDigits,
        ];
        let number = Number::read("555-0100", &features("", &formats));
        assert_eq!(number.formatted(NumberFormat::E164), None);
        assert_eq!(number.attempts(&formats), ["555-0100", "5550100"]);
        assert_eq!(number.cache_key(), "+5550100");
        assert_eq!(
            number.attempts(&[]),
            ["555-0100"],
            "none chosen: as received"
        );
        let overlong = "1".repeat(MAX_NUMBER_CHARS + 1);
        assert_eq!(
            Number::read(&overlong, &features("US", &[])).formatted(NumberFormat::E164),
            None
        );
    }
}
