//! A phone call as the engine's scenarios see it (docs/variables.md "Call variables"): the
//! test console's sample call today, the phone system's call events later. Plain data; the
//! server turns it into the template variables (`engine::core::call`).

use serde::{Deserialize, Serialize};

/// Which way a call went, seen from the extension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    #[default]
    Inbound,
    Outbound,
    Internal,
}

impl CallDirection {
    pub const ALL: [CallDirection; 3] = [
        CallDirection::Inbound,
        CallDirection::Outbound,
        CallDirection::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallDirection::Inbound => "inbound",
            CallDirection::Outbound => "outbound",
            CallDirection::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<CallDirection> {
        CallDirection::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn label(self) -> &'static str {
        match self {
            CallDirection::Inbound => "Inbound",
            CallDirection::Outbound => "Outbound",
            CallDirection::Internal => "Internal",
        }
    }
}

/// How a call ended, in the reference's `CallDisposition` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum CallDisposition {
    #[default]
    #[serde(rename = "ANSWERED")]
    Answered,
    #[serde(rename = "NO ANSWER")]
    NoAnswer,
    #[serde(rename = "MISSED")]
    Missed,
    #[serde(rename = "BUSY")]
    Busy,
    #[serde(rename = "VOICEMAIL")]
    Voicemail,
}

impl CallDisposition {
    pub const ALL: [CallDisposition; 5] = [
        CallDisposition::Answered,
        CallDisposition::NoAnswer,
        CallDisposition::Missed,
        CallDisposition::Busy,
        CallDisposition::Voicemail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallDisposition::Answered => "ANSWERED",
            CallDisposition::NoAnswer => "NO ANSWER",
            CallDisposition::Missed => "MISSED",
            CallDisposition::Busy => "BUSY",
            CallDisposition::Voicemail => "VOICEMAIL",
        }
    }

    /// Reads the reference's spelling, also `NO_ANSWER` and any case.
    pub fn parse(text: &str) -> Option<CallDisposition> {
        let wanted = text.trim().replace('_', " ");
        CallDisposition::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(&wanted))
    }

    pub fn answered(self) -> bool {
        self == CallDisposition::Answered
    }
}

/// The extension's side of a call, from the user association (empty until associated).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ExtensionUser {
    pub number: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The CRM user associated with the extension (`CrmId`).
    pub crm_user_id: String,
}

/// One finished (or ringing) call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Call {
    pub direction: CallDirection,
    pub extension: ExtensionUser,
    pub caller_name: String,
    pub caller_number: String,
    pub callee_name: String,
    pub callee_number: String,
    /// Unix seconds.
    pub start_unix: i64,
    /// From the start to the end, seconds.
    pub duration_secs: u32,
    /// From the answer to the end, seconds (0 when not answered).
    pub talk_secs: u32,
    pub disposition: CallDisposition,
    /// Where the recording can be fetched; empty without one.
    pub recording_url: String,
    /// Still ringing: the call as its ring sees it (no answer, no end yet).
    pub ringing: bool,
    /// The queue or ring group the extension was rung through, when the phone system says.
    pub group: String,
}

impl Call {
    /// The other party's number: the caller of an inbound call, the callee otherwise.
    pub fn contact_number(&self) -> &str {
        match self.direction {
            CallDirection::Inbound => &self.caller_number,
            CallDirection::Outbound | CallDirection::Internal => &self.callee_number,
        }
    }
}
