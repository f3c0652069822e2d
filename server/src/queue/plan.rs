//! What a call event makes the queue do, decided without I/O (README "Call events"): the
//! calls an event is about, seen from each extension; the steps each integration runs for
//! them, in the call's order; an event's replay key; and when a failed step is tried again.

use app::calls::{Call, CallDirection, ExtensionUser};
use sha2::{Digest, Sha256};

use super::events::{CallEvent, CallRecord, Member, MemberStatus};
pub use crate::engine::core::call_steps::{steps, CallAt, Moment, Step};

/// The calls an event starts work for: a status event when an extension starts ringing
/// (RING) or starts a call (ALERT) — other statuses change nothing; a record for its
/// extension. A ringing call starts at `received_at` (the status event carries no time) and
/// is marked ringing; `start_unix` turns a record's start into unix seconds.
pub fn calls_of(
    event: &CallEvent,
    received_at: i64,
    start_unix: impl Fn(&str) -> Option<i64>,
) -> Vec<CallAt> {
    match event {
        CallEvent::Status { call_id, members } => ringing(call_id, members, received_at),
        CallEvent::Ended(record) => vec![ended(record, start_unix)],
    }
}

fn ringing(call_id: &str, members: &[Member], received_at: i64) -> Vec<CallAt> {
    let trunk = members.iter().find_map(|m| match m {
        Member::Inbound { from, to, .. } => Some((CallDirection::Inbound, from, to)),
        Member::Outbound { from, to, .. } => Some((CallDirection::Outbound, from, to)),
        Member::Extension { .. } => None,
    });
    let extensions: Vec<(&String, &MemberStatus)> = members
        .iter()
        .filter_map(|m| match m {
            Member::Extension { number, status } => Some((number, status)),
            _ => None,
        })
        .collect();
    let at = |direction, number: &str, caller: &str, callee: &str| CallAt {
        call_id: call_id.to_owned(),
        moment: Moment::Ring,
        call: Call {
            direction,
            extension: ExtensionUser {
                number: number.to_owned(),
                ..ExtensionUser::default()
            },
            caller_number: caller.to_owned(),
            callee_number: callee.to_owned(),
            start_unix: received_at,
            ringing: true,
            ..Call::default()
        },
    };
    match trunk {
        Some((CallDirection::Inbound, from, _)) => extensions
            .iter()
            .filter(|(_, status)| **status == MemberStatus::Ring)
            .map(|(number, _)| at(CallDirection::Inbound, number, from, number))
            .collect(),
        Some((_, _, to)) => extensions
            .iter()
            .filter(|(_, status)| **status == MemberStatus::Alert)
            .map(|(number, _)| at(CallDirection::Outbound, number, number, to))
            .collect(),
        // An internal call, seen from the extension that placed it.
        None => {
            let caller = extensions
                .iter()
                .find(|(_, status)| **status == MemberStatus::Alert);
            let callee = extensions
                .iter()
                .find(|(_, status)| **status == MemberStatus::Ring);
            match (caller, callee) {
                (Some((caller, _)), Some((callee, _))) => {
                    vec![at(CallDirection::Internal, caller, caller, callee)]
                }
                _ => Vec::new(),
            }
        }
    }
}

fn ended(record: &CallRecord, start_unix: impl Fn(&str) -> Option<i64>) -> CallAt {
    let extension = if !record.extension.is_empty() {
        record.extension.clone()
    } else if record.direction == CallDirection::Inbound {
        record.to.clone()
    } else {
        record.from.clone()
    };
    CallAt {
        call_id: record.call_id.clone(),
        moment: Moment::End,
        call: Call {
            direction: record.direction,
            extension: ExtensionUser {
                number: extension,
                ..ExtensionUser::default()
            },
            caller_number: record.from.clone(),
            callee_number: record.to.clone(),
            start_unix: start_unix(&record.start).unwrap_or(0),
            duration_secs: record.duration_secs,
            talk_secs: record.talk_secs,
            disposition: record.disposition,
            recording_url: record.recording.clone(),
            group: record.group.clone(),
            ..Call::default()
        },
    }
}

/// The key that recognises a replay: the source, the call, the moment and what the event
/// says, hashed (call ids are the phone system's, of any length).
pub fn event_key(source: &str, event: &CallEvent) -> String {
    let text = format!("{source}\u{1f}{event:?}");
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// When to try a failed step again: `base_ms` doubled per attempt made, at most `max_ms`,
/// spread by `jitter` (0..1, ±20 %) so retries after an outage do not arrive together;
/// never sooner than the CRM's `Retry-After`.
pub fn backoff_ms(
    attempts: i32,
    base_ms: u64,
    max_ms: u64,
    retry_after_secs: Option<u64>,
    jitter: f64,
) -> u64 {
    let exponent = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let delay = base_ms.saturating_mul(1u64 << exponent).min(max_ms);
    let spread = (delay as f64 * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as u64;
    spread.max(retry_after_secs.unwrap_or(0).saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::events::{parse_generic, parse_yeastar, Parsed};
    use app::calls::CallDisposition;
    use app::integrations::{FeatureOptions, Features, TicketWhen};

    fn event(body: &str) -> CallEvent {
        match parse_yeastar(body.as_bytes()) {
            Ok(Parsed::Event(event)) => event,
            _ => match parse_generic(body.as_bytes()) {
                Ok(Parsed::Event(event)) => event,
                other => panic!("{other:?}"),
            },
        }
    }

    #[test]
    fn an_inbound_ring_is_seen_from_each_ringing_extension() {
        let status = event(
            r#"{"type":30011,"msg":{"call_id":"c1","members":[
                {"inbound":{"from":"5550100","to":"6001","member_status":"ALERT"}},
                {"extension":{"number":"1001","member_status":"RING"}},
                {"extension":{"number":"1002","member_status":"RING"}},
                {"extension":{"number":"1003","member_status":"ANSWER"}}]}}"#,
        );
        let calls = calls_of(&status, 1_700_000_000, |_| None);
        let numbers: Vec<_> = calls
            .iter()
            .map(|c| c.call.extension.number.as_str())
            .collect();
        assert_eq!(numbers, ["1001", "1002"]);
        assert_eq!(calls[0].call.direction, CallDirection::Inbound);
        assert_eq!(calls[0].call.contact_number(), "5550100");
        // Answered and hung-up statuses start nothing.
        let answered = event(
            r#"{"type":30011,"msg":{"call_id":"c1","members":[
                {"inbound":{"from":"5550100","to":"6001","member_status":"ANSWERED"}},
                {"extension":{"number":"1001","member_status":"ANSWER"}}]}}"#,
        );
        assert!(calls_of(&answered, 1_700_000_000, |_| None).is_empty());
    }

    #[test]
    fn outbound_and_internal_calls_are_seen_from_the_caller() {
        let outbound = event(
            r#"{"type":30011,"msg":{"call_id":"c2","members":[
                {"extension":{"number":"1001","member_status":"ALERT"}},
                {"outbound":{"from":"1001","to":"5550199","member_status":"RING"}}]}}"#,
        );
        let calls = calls_of(&outbound, 1_700_000_000, |_| None);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].call.direction, CallDirection::Outbound);
        assert_eq!(calls[0].call.contact_number(), "5550199");
        let internal = event(
            r#"{"type":30011,"msg":{"call_id":"c3","members":[
                {"extension":{"number":"1001","member_status":"ALERT"}},
                {"extension":{"number":"1002","member_status":"RING"}}]}}"#,
        );
        let calls = calls_of(&internal, 1_700_000_000, |_| None);
        assert_eq!(calls[0].call.extension.number, "1001");
        assert!(calls[0].call.ringing);
        assert_eq!(
            calls[0].call.start_unix, 1_700_000_000,
            "a ring starts when it is received"
        );
        assert_eq!(calls[0].call.callee_number, "1002");
    }

    #[test]
    fn a_record_names_its_extension_by_direction() {
        let inbound = event(
            r#"{"type":30012,"msg":{"call_id":"c4","time_start":"2026-11-29 10:00:00","call_from":"5550100","call_to":"1001","call_duration":65,"talk_duration":60,"status":"ANSWERED","type":"Inbound"}}"#,
        );
        let calls = calls_of(&inbound, 1_700_000_000, |_| Some(1_800_000_000));
        assert_eq!(calls.len(), 1);
        let call = &calls[0].call;
        assert_eq!(call.extension.number, "1001");
        assert_eq!(call.start_unix, 1_800_000_000);
        assert_eq!(call.disposition, CallDisposition::Answered);
        let outbound = event(
            r#"{"type":30012,"msg":{"call_id":"c5","time_start":"t","call_from":"1002","call_to":"5550100","status":"NO ANSWER","type":"Outbound"}}"#,
        );
        assert_eq!(
            calls_of(&outbound, 1_700_000_000, |_| None)[0]
                .call
                .extension
                .number,
            "1002"
        );
    }

    #[test]
    fn steps_follow_the_features() {
        let mut features = Features::default();
        features.journal.enabled = true;
        features.ticket.when = TicketWhen::AfterCall;
        let options = FeatureOptions {
            journal: Some(Default::default()),
            ticket: Some(Default::default()),
            ..FeatureOptions::default()
        };
        let end = CallAt {
            call_id: "c".into(),
            moment: Moment::End,
            call: Call::default(),
        };
        assert_eq!(
            steps(&options, &features, &end),
            [Step::TicketAfter, Step::Journal],
            "the ticket first, so the journal carries its TicketId"
        );
        let ring = CallAt {
            moment: Moment::Ring,
            ..end.clone()
        };
        assert_eq!(steps(&options, &features, &ring), [Step::Lookup]);
        features.ticket.when = TicketWhen::BeforeCall;
        assert_eq!(
            steps(&options, &features, &ring),
            [Step::Lookup, Step::TicketBefore]
        );
        assert_eq!(
            steps(&options, &features, &end),
            [Step::Journal],
            "no UpdateTicket"
        );
        let updating = FeatureOptions {
            ticket: Some(app::integrations::TicketOptions {
                updates: true,
                ..Default::default()
            }),
            ..options.clone()
        };
        assert_eq!(
            steps(&updating, &features, &end),
            [Step::TicketAfter, Step::Journal],
            "the ticket made before is updated"
        );
        features.contacts.sync = false;
        assert_eq!(
            steps(&options, &features, &ring),
            [Step::TicketBefore],
            "contact sync off: no lookup at the ring"
        );
        features.journal.enabled = false;
        assert_eq!(steps(&options, &features, &end), []);
    }

    #[test]
    fn a_replay_has_the_same_key_and_another_event_another() {
        let a = event(
            r#"{"event":"ring","call_id":"c","direction":"inbound","extension":"1001","from":"1"}"#,
        );
        let b = event(
            r#"{"event":"ring","call_id":"c","direction":"inbound","extension":"1002","from":"1"}"#,
        );
        assert_eq!(event_key("yeastar", &a), event_key("yeastar", &a));
        assert_ne!(event_key("yeastar", &a), event_key("yeastar", &b));
        assert_ne!(event_key("yeastar", &a), event_key("generic", &a));
        assert_eq!(event_key("yeastar", &a).len(), 64);
    }

    #[test]
    fn retries_back_off_with_jitter_and_honour_retry_after() {
        assert_eq!(backoff_ms(1, 1_000, 600_000, None, 0.5), 1_000);
        assert_eq!(backoff_ms(3, 1_000, 600_000, None, 0.5), 4_000);
        assert_eq!(backoff_ms(3, 1_000, 600_000, None, 0.0), 3_200);
        assert_eq!(backoff_ms(3, 1_000, 600_000, None, 1.0), 4_800);
        assert_eq!(backoff_ms(40, 1_000, 600_000, None, 0.5), 600_000);
        assert_eq!(backoff_ms(1, 1_000, 600_000, Some(30), 0.5), 30_000);
    }
}
