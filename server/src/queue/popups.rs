//! What a call event tells agents (README "Agents and the call popup"), decided without
//! I/O: each extension's state from a status event, a record's end, and the work queued
//! for each integration. `agents::feed` stores and pushes them.

use app::agents::{CallState, CallUpdate, WorkState, WorkUpdate};
use app::calls::CallDirection;

use super::events::{CallEvent, Member, MemberStatus};
use super::plan::CallAt;
use crate::integrations::calls::CallTarget;

/// What an accepted event tells agents' pages: each extension's state, a record's end, and
/// the work queued for `targets`.
pub fn of_event(
    event: &CallEvent,
    calls: &[CallAt],
    targets: &[CallTarget],
    at_ms: i64,
) -> Vec<CallUpdate> {
    let mut updates = match event {
        CallEvent::Status { call_id, members } => status_updates(call_id, members, at_ms),
        CallEvent::Ended(_) => calls.iter().map(|at| ended_update(at, at_ms)).collect(),
    };
    updates.extend(queued_work(targets, at_ms));
    updates
}

/// Each extension's state in a status event, seen from that extension.
pub fn status_updates(call_id: &str, members: &[Member], at_ms: i64) -> Vec<CallUpdate> {
    let trunk = members.iter().find_map(|m| match m {
        Member::Inbound { from, .. } => Some((CallDirection::Inbound, from)),
        Member::Outbound { to, .. } => Some((CallDirection::Outbound, to)),
        Member::Extension { .. } => None,
    });
    let extensions: Vec<(&String, &MemberStatus)> = members
        .iter()
        .filter_map(|m| match m {
            Member::Extension { number, status } => Some((number, status)),
            _ => None,
        })
        .collect();
    extensions
        .iter()
        .filter_map(|(number, status)| {
            let state = match status {
                MemberStatus::Alert | MemberStatus::Ring => CallState::Ringing,
                MemberStatus::Answer | MemberStatus::Answered | MemberStatus::Hold => {
                    CallState::Talking
                }
                MemberStatus::Bye => CallState::Ended,
                MemberStatus::Other(_) => return None,
            };
            let (direction, party) = match trunk {
                Some((direction, party)) => (direction, party.clone()),
                // An internal call: the other extension, if there is one.
                None => (
                    CallDirection::Internal,
                    extensions
                        .iter()
                        .map(|(other, _)| *other)
                        .find(|other| other != number)
                        .cloned()
                        .unwrap_or_default(),
                ),
            };
            Some(CallUpdate {
                call_id: call_id.to_owned(),
                extension: (*number).clone(),
                at_ms,
                direction: Some(direction),
                state: Some(state),
                party_number: Some(party),
                ..CallUpdate::default()
            })
        })
        .collect()
}

/// A call record's end on its extension: ended (answered or not) with its recording.
pub fn ended_update(at: &CallAt, at_ms: i64) -> CallUpdate {
    let call = &at.call;
    let party_name = match call.direction {
        CallDirection::Inbound => &call.caller_name,
        CallDirection::Outbound | CallDirection::Internal => &call.callee_name,
    };
    CallUpdate {
        call_id: at.call_id.clone(),
        extension: call.extension.number.clone(),
        at_ms,
        direction: Some(call.direction),
        state: Some(CallState::Ended),
        answered: call.disposition.answered(),
        party_number: Some(call.contact_number().to_owned()),
        party_name: Some(party_name.clone()).filter(|n| !n.is_empty()),
        recording_url: Some(call.recording_url.clone()).filter(|u| !u.is_empty()),
        ..CallUpdate::default()
    }
}

/// The steps queued for each integration, as work agents can follow.
pub fn queued_work(targets: &[CallTarget], at_ms: i64) -> Vec<CallUpdate> {
    targets
        .iter()
        .flat_map(|target| {
            target.steps.iter().map(move |step| CallUpdate {
                call_id: target.call_id.clone(),
                extension: target.call.extension.number.clone(),
                at_ms,
                work: Some(WorkUpdate {
                    integration_id: target.integration_id,
                    integration: target.integration.clone(),
                    step: work_name(step.as_str()).to_owned(),
                    state: WorkState::Queued,
                }),
                ..CallUpdate::default()
            })
        })
        .collect()
}

/// The name agents see for a queued step: both ticket steps are the ticket.
pub fn work_name(step: &str) -> &str {
    match step {
        "ticket_before" | "ticket_after" => "ticket",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(number: &str, status: MemberStatus) -> Member {
        Member::Extension {
            number: number.into(),
            status,
        }
    }

    #[test]
    fn an_inbound_ring_tells_each_extension_its_own_state_with_the_caller() {
        let members = [
            Member::Inbound {
                from: "5551234".into(),
                to: "5550000".into(),
                status: MemberStatus::Alert,
            },
            extension("1001", MemberStatus::Ring),
            extension("1002", MemberStatus::Answer),
            extension("1003", MemberStatus::Other("PARKED".into())),
        ];
        let updates = status_updates("c1", &members, 7);
        let states: Vec<(&str, Option<CallState>, Option<&str>)> = updates
            .iter()
            .map(|u| (u.extension.as_str(), u.state, u.party_number.as_deref()))
            .collect();
        assert_eq!(
            states,
            [
                ("1001", Some(CallState::Ringing), Some("5551234")),
                ("1002", Some(CallState::Talking), Some("5551234")),
            ]
        );
        assert!(updates
            .iter()
            .all(|u| u.direction == Some(CallDirection::Inbound)));
    }

    #[test]
    fn an_internal_call_names_the_other_extension() {
        let members = [
            extension("1001", MemberStatus::Alert),
            extension("1002", MemberStatus::Ring),
        ];
        let updates = status_updates("c2", &members, 7);
        assert_eq!(updates[0].party_number.as_deref(), Some("1002"));
        assert_eq!(updates[1].party_number.as_deref(), Some("1001"));
        assert_eq!(updates[1].direction, Some(CallDirection::Internal));
    }
}
