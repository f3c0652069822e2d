//! A call's template variables (docs/variables.md "Call variables"): every name the
//! reference documents, in its documented format, from one [`Call`].

use app::calls::{Call, CallDirection, CallDisposition, ExtensionUser};

use super::render::{RenderError, Renderer};
use super::Variables;

/// How `Time` is written, in the server's time zone (`PATCHBAY_TIME_ZONE`).
pub const TIME_FORMAT: &str = "yyyy-MM-dd HH:mm:ss";
/// `Call_Status` and `CallDisposition` of a call that is still ringing (a ticket made
/// before the call, a ring-time lookup).
pub const RINGING_STATUS: &str = "Ringing";
pub const RINGING_DISPOSITION: &str = "RINGING";

/// `Name <number>`, or the number alone when the name is unknown.
pub fn party(name: &str, number: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        number.to_owned()
    } else {
        format!("{name} <{number}>")
    }
}

/// `hh:mm:ss`; hours go past 24 rather than wrap.
/// Minutes and seconds, minutes not capped at 60 (`75:03`): the form Zoho CRM's
/// Call_Duration takes, which the template language cannot compute from seconds.
pub fn mm_ss(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

pub fn hh_mm_ss(seconds: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `Communication_Type`: the reference knows Inbound and Outbound; an internal call is
/// seen from the extension that placed it.
pub fn communication_type(direction: CallDirection) -> &'static str {
    match direction {
        CallDirection::Inbound => "Inbound",
        CallDirection::Outbound | CallDirection::Internal => "Outbound",
    }
}

/// `Call_Log_Status`: Voicemail, Missed Call, Outgoing Call or Incoming Call.
pub fn call_log_status(call: &Call) -> &'static str {
    if call.ringing {
        match call.direction {
            CallDirection::Inbound => "Incoming Call",
            CallDirection::Outbound | CallDirection::Internal => "Outgoing Call",
        }
    } else if call.disposition == CallDisposition::Voicemail {
        "Voicemail"
    } else if call.direction == CallDirection::Inbound && !call.disposition.answered() {
        "Missed Call"
    } else if call.direction == CallDirection::Inbound {
        "Incoming Call"
    } else {
        "Outgoing Call"
    }
}

/// The user association's variables: the extension and the CRM user it answers for.
pub fn extension_variables(extension: &ExtensionUser, vars: &mut Variables) {
    for (name, value) in [
        // The reference spells it both ways.
        ("CrmId", &extension.crm_user_id),
        ("CrmlId", &extension.crm_user_id),
        ("ExtensionNumber", &extension.number),
        ("ExtensionFirstName", &extension.first_name),
        ("ExtensionLastName", &extension.last_name),
        ("ExtensionEmail", &extension.email),
    ] {
        vars.insert(name.to_owned(), value.clone());
    }
}

/// The variables of `call`. `play_recording` decides `EnableCallRecording` and whether
/// `RecordPath` carries the recording (so `{{if .RecordPath}}` requests skip without it).
pub fn call_variables(
    renderer: &Renderer,
    call: &Call,
    play_recording: bool,
) -> Result<Variables, RenderError> {
    let mut vars = Variables::new();
    extension_variables(&call.extension, &mut vars);
    let mut set = |name: &str, value: String| {
        vars.insert(name.to_owned(), value);
    };
    let end = call
        .start_unix
        .saturating_add(i64::from(call.duration_secs));
    set("StartTimeUnix", call.start_unix.to_string());
    set("EndTimeUnix", end.to_string());
    set("Call_From", party(&call.caller_name, &call.caller_number));
    set("Call_To", party(&call.callee_name, &call.callee_number));
    set("CallerName", call.caller_name.clone());
    set("CallerNumber", call.caller_number.clone());
    set("CalleeName", call.callee_name.clone());
    set("CalleeNumber", call.callee_number.clone());
    set("ContactNumber", call.contact_number().to_owned());
    set("CallDuration", call.duration_secs.to_string());
    set("Talk_Duration", hh_mm_ss(call.talk_secs));
    set("Talk_Duration_Sec", call.talk_secs.to_string());
    set("Talk_Duration_MinSec", mm_ss(call.talk_secs));
    set(
        "Communication_Type",
        communication_type(call.direction).to_owned(),
    );
    let (status, disposition) = match (call.ringing, call.disposition.answered()) {
        (true, _) => (RINGING_STATUS, RINGING_DISPOSITION),
        (false, true) => ("Completed", call.disposition.as_str()),
        (false, false) => ("Missed", call.disposition.as_str()),
    };
    set("Call_Status", status.to_owned());
    set("Call_Log_Status", call_log_status(call).to_owned());
    set("CallDisposition", disposition.to_owned());
    set(
        "RecordPath",
        if play_recording {
            call.recording_url.clone()
        } else {
            String::new()
        },
    );
    set(
        "EnableCallRecording",
        if play_recording { "1" } else { "0" }.to_owned(),
    );
    let time = renderer.render(
        "Time",
        &format!(r#"{{{{TimeFormat .StartTimeUnix "{TIME_FORMAT}" "0"}}}}"#),
        &vars,
    )?;
    vars.insert("Time".into(), time);
    Ok(vars)
}

/// A number looked up outside a call (the lookup API, the connection test) is seen as a
/// ring's caller: `CallerNumber` and `ContactNumber` are the number asked.
pub fn asked_number_variables(number: &str, vars: &mut Variables) {
    for name in ["CallerNumber", "ContactNumber"] {
        vars.insert(name.to_owned(), number.to_owned());
    }
}

/// The FirstName an automatically created contact gets when nobody knows the caller's
/// name (docs/scenarios.md "CreateNewContact"): CRMs such as Salesforce and Zoho refuse a
/// contact without a last name, and the reference marks both names Required.
pub const UNKNOWN_FIRST_NAME: &str = "Unknown";

/// The other party's name as the phone system sent it.
pub fn other_party_name(call: &Call) -> &str {
    match call.direction {
        CallDirection::Inbound => &call.caller_name,
        CallDirection::Outbound | CallDirection::Internal => &call.callee_name,
    }
}

/// The names of a contact created for `call`: the name the phone system sent, split at its
/// last space (`Ada King Lovelace` gives `Ada King`, `Lovelace`); a single word is the last
/// name; without a name, [`UNKNOWN_FIRST_NAME`] and the number, so no required field is
/// empty.
pub fn new_contact_names(call: &Call) -> (String, String) {
    let name = other_party_name(call).trim();
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim().to_owned(), last.trim().to_owned()),
        None if !name.is_empty() => (String::new(), name.to_owned()),
        None => (
            UNKNOWN_FIRST_NAME.to_owned(),
            call.contact_number().to_owned(),
        ),
    }
}

/// `call` with the names the phone system did not send filled in (docs/variables.md "Call
/// variables"): the extension's side from the directory (or the CRM user it is associated
/// with), the other side from the contact found (`FirstName LastName` in `contact`).
pub fn named(call: &Call, contact: &Variables) -> Call {
    let mut call = call.clone();
    let join = |first: &str, last: &str| {
        format!("{} {}", first.trim(), last.trim())
            .trim()
            .to_owned()
    };
    let extension = join(&call.extension.first_name, &call.extension.last_name);
    let field = |name: &str| contact.get(name).map(String::as_str).unwrap_or_default();
    let found = join(field("FirstName"), field("LastName"));
    let (own, other) = match call.direction {
        CallDirection::Inbound => (&mut call.callee_name, &mut call.caller_name),
        CallDirection::Outbound | CallDirection::Internal => {
            (&mut call.caller_name, &mut call.callee_name)
        }
    };
    if own.trim().is_empty() {
        *own = extension;
    }
    if other.trim().is_empty() && call.direction != CallDirection::Internal {
        *other = found;
    }
    call
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call {
            direction: CallDirection::Inbound,
            extension: ExtensionUser {
                number: "1001".into(),
                first_name: "Ann".into(),
                last_name: "Lee".into(),
                email: "ann@example.test".into(),
                crm_user_id: "u-7".into(),
            },
            caller_name: "Bob".into(),
            caller_number: "+15550100".into(),
            callee_name: String::new(),
            callee_number: "1001".into(),
            start_unix: 1_672_531_199,
            duration_secs: 3_725,
            talk_secs: 3_700,
            disposition: CallDisposition::Answered,
            recording_url: "https://pbx.example/rec/1.wav".into(),
            ringing: false,
            group: String::new(),
        }
    }

    #[test]
    fn every_documented_variable_has_its_documented_format() {
        let renderer = Renderer::new(app::lang::functions::fixed_offset(3600));
        let vars = call_variables(&renderer, &call(), true).unwrap();
        let get = |name: &str| vars.get(name).map(String::as_str).unwrap_or("<unset>");
        assert_eq!(get("Time"), "2023-01-01 00:59:59");
        assert_eq!(get("StartTimeUnix"), "1672531199");
        assert_eq!(get("EndTimeUnix"), "1672534924");
        assert_eq!(get("Call_From"), "Bob <+15550100>");
        assert_eq!(get("Call_To"), "1001");
        assert_eq!(get("CrmId"), "u-7");
        assert_eq!(get("CrmlId"), "u-7");
        assert_eq!(get("ExtensionEmail"), "ann@example.test");
        assert_eq!(get("ContactNumber"), "+15550100");
        assert_eq!(get("CallDuration"), "3725");
        assert_eq!(get("Talk_Duration"), "01:01:40");
        assert_eq!(get("Talk_Duration_Sec"), "3700");
        assert_eq!(get("Talk_Duration_MinSec"), "61:40");
        assert_eq!(get("Communication_Type"), "Inbound");
        assert_eq!(get("Call_Status"), "Completed");
        assert_eq!(get("Call_Log_Status"), "Incoming Call");
        assert_eq!(get("CallDisposition"), "ANSWERED");
        assert_eq!(get("RecordPath"), "https://pbx.example/rec/1.wav");
        assert_eq!(get("EnableCallRecording"), "1");
    }

    #[test]
    fn statuses_follow_direction_and_disposition() {
        let mut missed = call();
        missed.disposition = CallDisposition::NoAnswer;
        missed.talk_secs = 0;
        let vars = call_variables(&Renderer::utc(), &missed, false).unwrap();
        assert_eq!(vars["Call_Status"], "Missed");
        assert_eq!(vars["Call_Log_Status"], "Missed Call");
        assert_eq!(vars["Talk_Duration"], "00:00:00");
        assert_eq!(vars["RecordPath"], "", "recordings are not played");
        assert_eq!(vars["EnableCallRecording"], "0");

        let mut voicemail = missed.clone();
        voicemail.disposition = CallDisposition::Voicemail;
        assert_eq!(call_log_status(&voicemail), "Voicemail");

        let mut outbound = call();
        outbound.direction = CallDirection::Outbound;
        let vars = call_variables(&Renderer::utc(), &outbound, true).unwrap();
        assert_eq!(vars["Call_Log_Status"], "Outgoing Call");
        assert_eq!(vars["ContactNumber"], "1001");
        outbound.direction = CallDirection::Internal;
        assert_eq!(communication_type(outbound.direction), "Outbound");
    }

    #[test]
    fn names_the_phone_system_did_not_send_come_from_the_directory_and_the_contact() {
        let mut nameless = call();
        nameless.caller_name = String::new();
        let contact = Variables::from([
            ("FirstName".to_owned(), "Ada".to_owned()),
            ("LastName".to_owned(), "Lovelace".to_owned()),
        ]);
        let filled = named(&nameless, &contact);
        assert_eq!(filled.caller_name, "Ada Lovelace");
        assert_eq!(filled.callee_name, "Ann Lee", "the extension's name");
        let vars = call_variables(&Renderer::utc(), &filled, false).unwrap();
        assert_eq!(vars["Call_From"], "Ada Lovelace <+15550100>");
        assert_eq!(vars["Call_To"], "Ann Lee <1001>");

        let sent = named(&call(), &contact);
        assert_eq!(
            sent.caller_name, "Bob",
            "a name the phone system sent stays"
        );
    }

    #[test]
    fn a_ring_has_its_time_and_a_ringing_status() {
        let mut ring = call();
        ring.ringing = true;
        ring.duration_secs = 0;
        ring.talk_secs = 0;
        let vars = call_variables(&Renderer::utc(), &ring, false).unwrap();
        assert_eq!(vars["Call_Status"], "Ringing");
        assert_eq!(vars["CallDisposition"], "RINGING");
        assert_eq!(vars["Call_Log_Status"], "Incoming Call");
        assert_eq!(vars["Time"], "2022-12-31 23:59:59");
    }

    #[test]
    fn a_created_contact_always_has_both_names() {
        let mut unknown = call();
        unknown.caller_name = String::new();
        assert_eq!(
            new_contact_names(&unknown),
            ("Unknown".to_owned(), "+15550100".to_owned())
        );
        unknown.caller_name = "Ada King Lovelace".into();
        assert_eq!(
            new_contact_names(&unknown),
            ("Ada King".to_owned(), "Lovelace".to_owned())
        );
        unknown.caller_name = "Reception".into();
        assert_eq!(
            new_contact_names(&unknown),
            (String::new(), "Reception".to_owned())
        );
    }
}
