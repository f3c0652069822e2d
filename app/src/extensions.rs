//! The extension directory's shared types (README "Extensions").

use serde::{Deserialize, Serialize};

/// A PBX extension: its number and who uses it. The e-mail is lower case, or empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub number: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Where it came from; the extension sync (README "Phone system") replaces the
    /// directory with the PBX's list.
    #[serde(default)]
    pub source: ExtensionSource,
}

/// Where an extension came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtensionSource {
    /// Added on the page or by a CSV import.
    #[default]
    Manual,
    /// Read from the PBX's extension list by the extension sync.
    Pbx,
}

impl ExtensionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionSource::Manual => "manual",
            ExtensionSource::Pbx => "pbx",
        }
    }

    pub fn parse(text: &str) -> ExtensionSource {
        if text == "pbx" {
            ExtensionSource::Pbx
        } else {
            ExtensionSource::Manual
        }
    }
}

/// Extensions per page of the directory.
pub const EXTENSIONS_PAGE_ROWS: u64 = 50;
/// The most extensions a group holds.
pub const MAX_GROUP_MEMBERS: usize = 1_000;
/// A group's name.
pub const MAX_GROUP_NAME_CHARS: usize = 64;
/// Matches the association's picker shows for one search.
pub const PICKER_MATCHES: u64 = 20;

/// The column the directory is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionSort {
    #[default]
    Number,
    FirstName,
    LastName,
    Email,
}

impl ExtensionSort {
    pub const ALL: [ExtensionSort; 4] = [
        ExtensionSort::Number,
        ExtensionSort::FirstName,
        ExtensionSort::LastName,
        ExtensionSort::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionSort::Number => "number",
            ExtensionSort::FirstName => "first_name",
            ExtensionSort::LastName => "last_name",
            ExtensionSort::Email => "email",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExtensionSort::Number => "Number",
            ExtensionSort::FirstName => "First name",
            ExtensionSort::LastName => "Last name",
            ExtensionSort::Email => "E-mail",
        }
    }

    /// Reads [`ExtensionSort::as_str`]; anything else sorts by number.
    pub fn parse(text: &str) -> ExtensionSort {
        ExtensionSort::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or_default()
    }
}

/// A page of the directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionsPage {
    pub extensions: Vec<Extension>,
    /// How many match the search in all.
    pub total: u64,
    pub offset: u64,
}

/// A named set of extensions; picking it associates its members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionGroup {
    pub id: i32,
    pub name: String,
    /// Member numbers, ascending.
    pub members: Vec<String>,
}

/// What the association's picker offers for a search: an extension, or a group that
/// stands for its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerItem {
    /// `1001 Ann Lee` or `Group: Sales (4)`.
    pub label: String,
    /// The extension's number, or the group's members.
    pub numbers: Vec<String>,
    pub is_group: bool,
}

/// One row of an import's answer (the REST API's `rows`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub line: u64,
    pub number: String,
    /// `new`, `changed`, `unchanged` or `refused`.
    pub outcome: String,
    #[serde(default)]
    pub reason: Option<String>,
}
