//! The extension directory's shared types (README "Extensions").

use serde::{Deserialize, Serialize};

/// A PBX extension: its number and who uses it. The e-mail is lower case, or empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub number: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}
