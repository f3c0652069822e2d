//! Call events as phone systems send them, read into one shape without I/O: Yeastar
//! P-Series Open API webhooks `30011` (call status changed) and `30012` (new CDR), where
//! `msg` is an object or a JSON document inside a string; the older S-Series `CallStatus`
//! and `NewCdr` events, which carry the same under other names; and Patchbay's own JSON form
//! for other phone systems (README "Call events"). Every refusal says which field is wrong
//! and why. An event type Patchbay does not act on is [`Parsed::Ignored`], not an error.

use app::calls::{CallDirection, CallDisposition};
use serde_json::{Map, Value};

/// The longest call id, number, name or recording path accepted in an event.
pub const MAX_EVENT_VALUE_CHARS: usize = 1_000;
/// The most members one status event lists.
pub const MAX_MEMBERS: usize = 100;

/// What a member of a call is doing (the vendor's `member_status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// The caller hears ringback.
    Alert,
    /// The callee is ringing.
    Ring,
    /// The caller's call was answered.
    Answered,
    /// The callee answered and is talking.
    Answer,
    Hold,
    Bye,
    /// A status this version does not know, kept as sent.
    Other(String),
}

impl MemberStatus {
    fn parse(text: &str) -> MemberStatus {
        match text.trim().to_ascii_uppercase().as_str() {
            "ALERT" => MemberStatus::Alert,
            "RING" => MemberStatus::Ring,
            "ANSWERED" => MemberStatus::Answered,
            "ANSWER" => MemberStatus::Answer,
            "HOLD" => MemberStatus::Hold,
            "BYE" => MemberStatus::Bye,
            _ => MemberStatus::Other(text.trim().to_owned()),
        }
    }
}

/// One member of a call in a status event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    Extension {
        number: String,
        status: MemberStatus,
    },
    /// A call from outside through a trunk: `from` the caller, `to` the number dialled.
    Inbound {
        from: String,
        to: String,
        status: MemberStatus,
    },
    /// A call to outside through a trunk.
    Outbound {
        from: String,
        to: String,
        status: MemberStatus,
    },
}

/// A call's record when it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    pub call_id: String,
    /// As the phone system wrote it: `yyyy-MM-dd HH:mm:ss` in its own time zone, or unix
    /// seconds in Patchbay's form.
    pub start: String,
    pub from: String,
    pub to: String,
    pub duration_secs: u32,
    pub talk_secs: u32,
    pub disposition: CallDisposition,
    pub direction: CallDirection,
    /// The recording's file name or URL; empty without one.
    pub recording: String,
    /// The extension the record is for when the phone system names it (Patchbay's form);
    /// empty for Yeastar's, where `from`, `to` and the direction tell.
    pub extension: String,
    /// The queue or ring group the extension was rung through, when the phone system says
    /// (Patchbay's form: `group`); empty otherwise.
    pub group: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEvent {
    /// The members of a call and what each is doing.
    Status {
        call_id: String,
        members: Vec<Member>,
    },
    /// The call ended.
    Ended(CallRecord),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Event(CallEvent),
    /// An event type Patchbay does not act on (acknowledged, logged once per type).
    Ignored {
        event_type: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body must be a JSON object")]
    NotObject,
    #[error("{0} is missing")]
    Missing(String),
    #[error("{field} must be {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    #[error("{field} is longer than {MAX_EVENT_VALUE_CHARS} characters")]
    TooLong { field: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

/// Reads a Yeastar event (P-Series or S-Series).
pub fn parse_yeastar(body: &[u8]) -> Result<Parsed, EventError> {
    let root = object(parse_json(body)?)?;
    // P-Series numbers its events in `type`; the S-Series names them in `event` (or
    // `action`) and uses `type` for the call type.
    let numbered = match root.get("type") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s))
            if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(s.trim().to_owned())
        }
        _ => None,
    };
    if let Some(kind) = numbered {
        return match kind.as_str() {
            "30011" => p_series_status(&message(&root)?).map(Parsed::Event),
            "30012" => p_series_record(&message(&root)?).map(Parsed::Event),
            _ => Ok(Parsed::Ignored { event_type: kind }),
        };
    }
    let name = ["event", "action"]
        .into_iter()
        .find_map(|key| root.get(key).and_then(Value::as_str))
        .ok_or_else(|| EventError::Missing("type (or event)".into()))?;
    match name.trim() {
        "CallStatus" => s_series_status(&root).map(Parsed::Event),
        "NewCdr" => s_series_record(&root).map(Parsed::Event),
        other => Ok(Parsed::Ignored {
            event_type: other.to_owned(),
        }),
    }
}

/// Reads Patchbay's own form: `{"event": "ring" | "answer" | "end", "call_id", …}`
/// (README "Call events").
pub fn parse_generic(body: &[u8]) -> Result<Parsed, EventError> {
    let root = object(parse_json(body)?)?;
    let event = text(&root, "event", "event", true)?.to_ascii_lowercase();
    let status = match event.as_str() {
        "ring" => MemberStatus::Ring,
        "answer" => MemberStatus::Answer,
        "end" => MemberStatus::Bye,
        _ => return Ok(Parsed::Ignored { event_type: event }),
    };
    let call_id = text(&root, "call_id", "call_id", true)?;
    let direction = direction(&text(&root, "direction", "direction", true)?, "direction")?;
    let extension = text(&root, "extension", "extension", true)?;
    let from = text(&root, "from", "from", false)?;
    let to = text(&root, "to", "to", false)?;
    if status == MemberStatus::Bye {
        return Ok(Parsed::Event(CallEvent::Ended(CallRecord {
            call_id,
            start: text(&root, "start", "start", true)?,
            from,
            to,
            duration_secs: seconds(&root, "duration", "duration")?,
            talk_secs: seconds(&root, "talk_duration", "talk_duration")?,
            disposition: disposition(&text(&root, "status", "status", true)?, "status")?,
            direction,
            recording: text(&root, "recording", "recording", false)?,
            extension,
            group: text(&root, "group", "group", false)?,
        })));
    }
    let mut members = vec![Member::Extension {
        number: extension,
        status: status.clone(),
    }];
    match direction {
        CallDirection::Inbound => members.push(Member::Inbound { from, to, status }),
        CallDirection::Outbound => members.push(Member::Outbound { from, to, status }),
        CallDirection::Internal => {}
    }
    Ok(Parsed::Event(CallEvent::Status { call_id, members }))
}

fn parse_json(body: &[u8]) -> Result<Value, EventError> {
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(error) => {
            // The vendor's published examples put the `msg` document in quotes without
            // escaping its own quotes; an administrator pasting one gets it read.
            let text =
                std::str::from_utf8(body).map_err(|_| EventError::NotJson("not UTF-8".into()))?;
            unquoted_message(text)
                .and_then(|repaired| serde_json::from_str(&repaired).ok())
                .ok_or_else(|| EventError::NotJson(error.to_string()))
        }
    }
}

/// `"msg":"{…}"` with the inner quotes unescaped, as `"msg":{…}`.
fn unquoted_message(text: &str) -> Option<String> {
    let key = text.find("\"msg\"")?;
    let after_key = key + "\"msg\"".len();
    let colon = after_key + text[after_key..].find(':')?;
    let quote = colon + 1 + text[colon + 1..].find(|c: char| !c.is_whitespace())?;
    if !text[quote..].starts_with('"') {
        return None;
    }
    let open = quote + 1 + text[quote + 1..].find(|c: char| !c.is_whitespace())?;
    if !text[open..].starts_with('{') {
        return None;
    }
    let close = text.rfind('}')?;
    let end_quote = text[..close].rfind('"')?;
    let inner_close = text[..end_quote].rfind('}')?;
    if inner_close <= open || !text[inner_close + 1..end_quote].trim().is_empty() {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &text[..quote],
        &text[open..=inner_close],
        &text[end_quote + 1..]
    ))
}

fn object(value: Value) -> Result<Map<String, Value>, EventError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(EventError::NotObject),
    }
}

/// `msg`: an object, or a JSON document inside a string.
fn message(root: &Map<String, Value>) -> Result<Map<String, Value>, EventError> {
    match root.get("msg") {
        None | Some(Value::Null) => Err(EventError::Missing("msg".into())),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::String(inner)) => match serde_json::from_str(inner) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(wrong("msg", "a JSON object (or one inside a string)")),
            Err(error) => Err(EventError::Invalid {
                field: "msg".into(),
                message: format!("the string is not a JSON document: {error}"),
            }),
        },
        Some(_) => Err(wrong("msg", "a JSON object (or one inside a string)")),
    }
}

fn wrong(field: &str, expected: &'static str) -> EventError {
    EventError::WrongType {
        field: field.into(),
        expected,
    }
}

/// A string field (a number is taken as its digits: phone systems send either); `where_`
/// names it in errors. Missing and `required` is an error; missing otherwise is empty.
fn text(
    map: &Map<String, Value>,
    key: &str,
    where_: &str,
    required: bool,
) -> Result<String, EventError> {
    let value = match map.get(key) {
        None | Some(Value::Null) if required => return Err(EventError::Missing(where_.into())),
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(wrong(where_, "a string")),
    };
    if value.chars().count() > MAX_EVENT_VALUE_CHARS {
        return Err(EventError::TooLong {
            field: where_.into(),
        });
    }
    if required && value.is_empty() {
        return Err(EventError::Missing(where_.into()));
    }
    Ok(value)
}

/// Whole seconds, as a number or a string of digits; missing is 0.
fn seconds(map: &Map<String, Value>, key: &str, where_: &str) -> Result<u32, EventError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| wrong(where_, "whole seconds (0 or more)")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(0),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| wrong(where_, "whole seconds (0 or more)")),
        Some(_) => Err(wrong(where_, "whole seconds (0 or more)")),
    }
}

/// The vendor's call status; `ANSWERD` is how its P-Series guide spells it once.
fn disposition(text: &str, where_: &str) -> Result<CallDisposition, EventError> {
    let text = if text.trim().eq_ignore_ascii_case("ANSWERD") {
        "ANSWERED"
    } else {
        text
    };
    CallDisposition::parse(text).ok_or_else(|| EventError::Invalid {
        field: where_.into(),
        message: format!("{text:?} is not ANSWERED, NO ANSWER, MISSED, BUSY or VOICEMAIL"),
    })
}

fn direction(text: &str, where_: &str) -> Result<CallDirection, EventError> {
    CallDirection::parse(text).ok_or_else(|| EventError::Invalid {
        field: where_.into(),
        message: format!("{text:?} is not Inbound, Outbound or Internal"),
    })
}

/// The members of a status event, each `{"<kind>": {…}}` with the kind's names.
fn members(
    list: Option<&Value>,
    where_: &str,
    names: &MemberNames,
) -> Result<Vec<Member>, EventError> {
    let list = match list {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => return Err(EventError::Missing(where_.into())),
        Some(_) => return Err(wrong(where_, "a list")),
    };
    if list.len() > MAX_MEMBERS {
        return Err(EventError::Invalid {
            field: where_.into(),
            message: format!("more than {MAX_MEMBERS} members"),
        });
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = format!("{where_}[{i}]");
        let Value::Object(item) = item else {
            return Err(wrong(&at, "an object"));
        };
        let status = |map: &Map<String, Value>, at: &str| {
            text(map, names.status, &format!("{at}.{}", names.status), true)
                .map(|s| MemberStatus::parse(&s))
        };
        if let Some(extension) = item.get(names.extension) {
            let at = format!("{at}.{}", names.extension);
            let Value::Object(map) = extension else {
                return Err(wrong(&at, "an object"));
            };
            out.push(Member::Extension {
                number: text(map, "number", &format!("{at}.number"), true)?,
                status: status(map, &at)?,
            });
        } else if let Some((kind, party)) = ["inbound", "outbound"]
            .into_iter()
            .find_map(|kind| item.get(kind).map(|party| (kind, party)))
        {
            let at = format!("{at}.{kind}");
            let Value::Object(map) = party else {
                return Err(wrong(&at, "an object"));
            };
            let from = text(map, "from", &format!("{at}.from"), false)?;
            let to = text(map, "to", &format!("{at}.to"), false)?;
            let status = status(map, &at)?;
            out.push(if kind == "inbound" {
                Member::Inbound { from, to, status }
            } else {
                Member::Outbound { from, to, status }
            });
        }
        // A member of another kind (a future one) is skipped.
    }
    Ok(out)
}

/// How a series names a member's parts.
struct MemberNames {
    extension: &'static str,
    status: &'static str,
}

fn p_series_status(msg: &Map<String, Value>) -> Result<CallEvent, EventError> {
    Ok(CallEvent::Status {
        call_id: text(msg, "call_id", "msg.call_id", true)?,
        members: members(
            msg.get("members"),
            "msg.members",
            &MemberNames {
                extension: "extension",
                status: "member_status",
            },
        )?,
    })
}

fn s_series_status(root: &Map<String, Value>) -> Result<CallEvent, EventError> {
    Ok(CallEvent::Status {
        call_id: text(root, "callid", "callid", true)?,
        members: members(
            root.get("members"),
            "members",
            &MemberNames {
                extension: "ext",
                status: "memberstatus",
            },
        )?,
    })
}

/// A CDR under one series' field names: call id, start, from, to, durations, status,
/// type, recording.
fn record(
    map: &Map<String, Value>,
    prefix: &str,
    names: [&str; 9],
) -> Result<CallEvent, EventError> {
    let at = |key: &str| format!("{prefix}{key}");
    let [call_id, start, from, to, duration, talk, status, kind, recording] = names;
    Ok(CallEvent::Ended(CallRecord {
        call_id: text(map, call_id, &at(call_id), true)?,
        start: text(map, start, &at(start), true)?,
        from: text(map, from, &at(from), true)?,
        to: text(map, to, &at(to), true)?,
        duration_secs: seconds(map, duration, &at(duration))?,
        talk_secs: seconds(map, talk, &at(talk))?,
        disposition: disposition(&text(map, status, &at(status), true)?, &at(status))?,
        direction: direction(&text(map, kind, &at(kind), true)?, &at(kind))?,
        recording: text(map, recording, &at(recording), false)?,
        extension: String::new(),
        group: String::new(),
    }))
}

fn p_series_record(msg: &Map<String, Value>) -> Result<CallEvent, EventError> {
    record(
        msg,
        "msg.",
        [
            "call_id",
            "time_start",
            "call_from",
            "call_to",
            "call_duration",
            "talk_duration",
            "status",
            "type",
            "recording",
        ],
    )
}

fn s_series_record(root: &Map<String, Value>) -> Result<CallEvent, EventError> {
    record(
        root,
        "",
        [
            "callid",
            "timestart",
            "callfrom",
            "callto",
            "callduraction",
            "talkduraction",
            "status",
            "type",
            "recording",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/events")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn event(parsed: Result<Parsed, EventError>) -> CallEvent {
        match parsed {
            Ok(Parsed::Event(event)) => event,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn the_vendors_new_cdr_example_reads_as_pasted_with_its_unescaped_msg() {
        let record = event(parse_yeastar(&fixture("p-series-30012-as-published.json")));
        assert_eq!(
            record,
            CallEvent::Ended(CallRecord {
                call_id: "1651057476.362".into(),
                start: "2022-04-27 19:04:36".into(),
                from: "2005".into(),
                to: "2002".into(),
                duration_secs: 24,
                talk_secs: 21,
                disposition: CallDisposition::Answered,
                direction: CallDirection::Internal,
                recording: "20220427190445-1651057476.362-2005-2002-Internal.wav".into(),
                extension: String::new(),
                group: String::new(),
            })
        );
    }

    #[test]
    fn msg_may_be_an_escaped_string_or_an_object() {
        let inner = r#"{"call_id":"9.1","members":[{"inbound":{"from":"5550100","to":"6001","trunk_name":"SIP","channel_id":"a","member_status":"ALERT"}},{"extension":{"number":"1001","channel_id":"b","member_status":"RING"}}]}"#;
        let as_string = serde_json::json!({"type": 30011, "sn": "X", "msg": inner}).to_string();
        let as_object = format!(r#"{{"type":"30011","sn":"X","msg":{inner}}}"#);
        let expected = CallEvent::Status {
            call_id: "9.1".into(),
            members: vec![
                Member::Inbound {
                    from: "5550100".into(),
                    to: "6001".into(),
                    status: MemberStatus::Alert,
                },
                Member::Extension {
                    number: "1001".into(),
                    status: MemberStatus::Ring,
                },
            ],
        };
        assert_eq!(event(parse_yeastar(as_string.as_bytes())), expected);
        assert_eq!(event(parse_yeastar(as_object.as_bytes())), expected);
    }

    #[test]
    fn the_s_series_names_read_the_same() {
        let status = event(parse_yeastar(&fixture("s-series-callstatus.json")));
        assert_eq!(
            status,
            CallEvent::Status {
                call_id: "1571897930.5".into(),
                members: vec![
                    Member::Extension {
                        number: "1023".into(),
                        status: MemberStatus::Answered,
                    },
                    Member::Outbound {
                        from: "1023".into(),
                        to: "9283737733".into(),
                        status: MemberStatus::Answer,
                    },
                ],
            }
        );
        let CallEvent::Ended(record) = event(parse_yeastar(&fixture("s-series-newcdr.json")))
        else {
            panic!("not a record");
        };
        assert_eq!(
            (
                record.call_id.as_str(),
                record.duration_secs,
                record.talk_secs
            ),
            ("1571897930.5", 19, 14)
        );
        assert_eq!(record.direction, CallDirection::Internal);
    }

    #[test]
    fn other_event_types_are_ignored_not_refused() {
        assert_eq!(
            parse_yeastar(br#"{"type":30008,"sn":"X","msg":"{}"}"#),
            Ok(Parsed::Ignored {
                event_type: "30008".into()
            })
        );
        assert_eq!(
            parse_yeastar(br#"{"event":"ExtensionStatus"}"#),
            Ok(Parsed::Ignored {
                event_type: "ExtensionStatus".into()
            })
        );
    }

    #[test]
    fn a_bad_event_names_the_field_and_why() {
        let cases: [(&[u8], &str); 9] = [
            (b"not json", "the body is not JSON"),
            (b"[1]", "the body must be a JSON object"),
            (br#"{"sn":"X"}"#, "type (or event) is missing"),
            (br#"{"type":30012,"sn":"X"}"#, "msg is missing"),
            (br#"{"type":30012,"msg":"{nope"}"#, "msg: the string is not a JSON document"),
            (
                br#"{"type":30012,"msg":{"call_id":"1","time_start":"t","call_from":"1","call_to":"2","call_duration":-4,"status":"ANSWERED","type":"Inbound"}}"#,
                "msg.call_duration must be whole seconds",
            ),
            (
                br#"{"type":30012,"msg":{"call_id":"1","time_start":"t","call_from":"1","call_to":"2","status":"LOST","type":"Inbound"}}"#,
                "msg.status: \"LOST\" is not ANSWERED",
            ),
            (
                br#"{"type":30011,"msg":{"call_id":"1","members":[{"extension":{"number":["1001"],"member_status":"RING"}}]}}"#,
                "msg.members[0].extension.number must be a string",
            ),
            (
                br#"{"type":30011,"msg":{"members":[]}}"#,
                "msg.call_id is missing",
            ),
        ];
        for (body, expected) in cases {
            let error = parse_yeastar(body).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error} / {expected}");
        }
        let long = format!(
            r#"{{"type":30011,"msg":{{"call_id":"{}","members":[]}}}}"#,
            "9".repeat(MAX_EVENT_VALUE_CHARS + 1)
        );
        assert_eq!(
            parse_yeastar(long.as_bytes()).unwrap_err(),
            EventError::TooLong {
                field: "msg.call_id".into()
            }
        );
        let crowd: Vec<String> = (0..=MAX_MEMBERS)
            .map(|i| format!(r#"{{"extension":{{"number":"{i}","member_status":"RING"}}}}"#))
            .collect();
        let crowd = format!(
            r#"{{"type":30011,"msg":{{"call_id":"1","members":[{}]}}}}"#,
            crowd.join(",")
        );
        assert!(parse_yeastar(crowd.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("more than 100 members"));
    }

    #[test]
    fn the_generic_form_reads_ring_and_end() {
        let ring = br#"{"event":"ring","call_id":"c-1","direction":"inbound","extension":"1001","from":"+44 20 7946 0018","to":"1001"}"#;
        assert_eq!(
            event(parse_generic(ring)),
            CallEvent::Status {
                call_id: "c-1".into(),
                members: vec![
                    Member::Extension {
                        number: "1001".into(),
                        status: MemberStatus::Ring
                    },
                    Member::Inbound {
                        from: "+44 20 7946 0018".into(),
                        to: "1001".into(),
                        status: MemberStatus::Ring
                    },
                ],
            }
        );
        let end = br#"{"event":"end","call_id":"c-1","direction":"outbound","extension":"1001","from":"1001","to":"5550100","start":"1700000000","duration":"65","talk_duration":60,"status":"NO ANSWER"}"#;
        let CallEvent::Ended(record) = event(parse_generic(end)) else {
            panic!("not a record");
        };
        assert_eq!(record.disposition, CallDisposition::NoAnswer);
        assert_eq!((record.duration_secs, record.talk_secs), (65, 60));
        assert_eq!(
            parse_generic(br#"{"event":"end","call_id":"c","extension":"1"}"#)
                .unwrap_err()
                .to_string(),
            "direction is missing"
        );
    }
}
