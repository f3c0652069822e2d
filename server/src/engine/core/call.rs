//! A call's template variables (docs/variables.md "Call variables"): every name the
//! reference documents, in its documented format, from one [`Call`].

use app::calls::{Call, CallDirection, CallDisposition, ExtensionUser};

use super::render::{RenderError, Renderer};
use super::Variables;

/// How `Time` is written, in the server's time zone (`PATCHBAY_TIME_ZONE`).
pub const TIME_FORMAT: &str = "yyyy-MM-dd HH:mm:ss";

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
    if call.disposition == CallDisposition::Voicemail {
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
    set(
        "Communication_Type",
        communication_type(call.direction).to_owned(),
    );
    set(
        "Call_Status",
        if call.disposition.answered() {
            "Completed"
        } else {
            "Missed"
        }
        .to_owned(),
    );
    set("Call_Log_Status", call_log_status(call).to_owned());
    set("CallDisposition", call.disposition.as_str().to_owned());
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
}
