//! What agents see of their calls (README "Agents and the call popup"): the changes the
//! server pushes on the stream (`CallUpdate`), the call they add up to (`AgentCall`, folded
//! the same way by the page and by the server's recent calls), and each extension's popup
//! settings. Plain data, shared by the server and the page.

use serde::{Deserialize, Serialize};

use crate::calls::CallDirection;

/// Where a call stands, as the agent sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    #[default]
    Ringing,
    Talking,
    Ended,
    /// An incoming call that ended without being answered on this extension.
    Missed,
}

impl CallState {
    pub fn label(self) -> &'static str {
        match self {
            CallState::Ringing => "Ringing",
            CallState::Talking => "Talking",
            CallState::Ended => "Ended",
            CallState::Missed => "Missed",
        }
    }
}

/// How the popup opens the CRM record (the reference's "Popup method").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopupMethod {
    /// Incoming calls only: the record opens in a new tab by itself (the browser must allow
    /// pop-ups for Patchbay).
    Automatic,
    /// The agent clicks Open in CRM.
    #[default]
    Manual,
}

/// When the popup appears (the reference's "Trigger event").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopupTrigger {
    #[default]
    Ring,
    Answered,
    /// Call End.
    End,
}

impl PopupMethod {
    pub const ALL: [PopupMethod; 2] = [PopupMethod::Automatic, PopupMethod::Manual];

    pub fn as_str(self) -> &'static str {
        match self {
            PopupMethod::Automatic => "automatic",
            PopupMethod::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<PopupMethod> {
        PopupMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            PopupMethod::Automatic => "Automatically (incoming calls)",
            PopupMethod::Manual => "Manually",
        }
    }
}

impl PopupTrigger {
    pub const ALL: [PopupTrigger; 3] = [
        PopupTrigger::Ring,
        PopupTrigger::Answered,
        PopupTrigger::End,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PopupTrigger::Ring => "ring",
            PopupTrigger::Answered => "answered",
            PopupTrigger::End => "end",
        }
    }

    pub fn parse(text: &str) -> Option<PopupTrigger> {
        PopupTrigger::ALL.into_iter().find(|t| t.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            PopupTrigger::Ring => "Ring",
            PopupTrigger::Answered => "Answered",
            PopupTrigger::End => "Call End",
        }
    }

    /// Whether a call in `state` has reached this trigger (a call answered and hung up
    /// before the page heard of it has passed Answered too).
    pub fn reached(self, call: &AgentCall) -> bool {
        match self {
            PopupTrigger::Ring => true,
            PopupTrigger::Answered => call.answered,
            PopupTrigger::End => matches!(call.state, CallState::Ended | CallState::Missed),
        }
    }
}

/// One extension's popup settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopupSettings {
    pub extension: String,
    pub method: PopupMethod,
    pub trigger: PopupTrigger,
}

/// A contact found for the call, as the popup shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PopupContact {
    pub name: String,
    pub company: String,
    /// The contact type that matched (the template's SyncContactAuto request).
    pub contact_type: String,
    pub popup_url: Option<String>,
}

/// What one integration found for the call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationContacts {
    pub integration_id: i32,
    /// The integration's template name.
    pub integration: String,
    /// The contacts to show: one, or every match for the agent to pick.
    pub found: Vec<PopupContact>,
    /// The lookup failed (the reason, secrets masked); nothing was found or not.
    pub error: Option<String>,
    /// The contact types the agent may create when nothing was found (empty: none).
    pub creatable: Vec<String>,
}

/// A piece of work a call made in one integration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkState {
    #[default]
    Queued,
    Done,
    Failed,
}

impl WorkState {
    pub fn label(self) -> &'static str {
        match self {
            WorkState::Queued => "queued",
            WorkState::Done => "done",
            WorkState::Failed => "failed",
        }
    }
}

/// The state of one queued step: `lookup`, `contact`, `journal` or `ticket`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkUpdate {
    pub integration_id: i32,
    pub integration: String,
    pub step: String,
    pub state: WorkState,
}

/// One change to one call on one extension: what the stream sends, each with the id the
/// page reconnects after. Fields left `None` did not change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallUpdate {
    pub id: i64,
    pub call_id: String,
    pub extension: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub direction: Option<CallDirection>,
    pub state: Option<CallState>,
    /// The other party: the caller of an incoming call, the one called otherwise.
    pub party_number: Option<String>,
    pub party_name: Option<String>,
    pub contacts: Option<IntegrationContacts>,
    pub work: Option<WorkUpdate>,
    pub recording_url: Option<String>,
    /// The extension answered (a call record says so even when no status did).
    pub answered: bool,
}

/// A call on one of the agent's extensions, as its updates add up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentCall {
    pub call_id: String,
    pub extension: String,
    pub direction: CallDirection,
    pub state: CallState,
    /// The extension answered at some point.
    pub answered: bool,
    pub party_number: String,
    pub party_name: String,
    pub started_ms: i64,
    pub updated_ms: i64,
    /// The id of the last update applied.
    pub last_id: i64,
    /// Per integration, in the order they answered.
    pub contacts: Vec<IntegrationContacts>,
    pub work: Vec<WorkUpdate>,
    pub recording_url: String,
}

impl AgentCall {
    /// Whether `update` is about this call.
    pub fn is(&self, update: &CallUpdate) -> bool {
        self.call_id == update.call_id && self.extension == update.extension
    }

    /// The call as its first update shows it.
    pub fn starting(update: &CallUpdate) -> AgentCall {
        let mut call = AgentCall {
            call_id: update.call_id.clone(),
            extension: update.extension.clone(),
            started_ms: update.at_ms,
            ..AgentCall::default()
        };
        call.apply(update);
        call
    }

    /// Applies `update`; one already applied (its id at or below the last) changes nothing,
    /// so a replay after a reconnection shows nothing twice.
    pub fn apply(&mut self, update: &CallUpdate) {
        if update.id != 0 && update.id <= self.last_id {
            return;
        }
        self.last_id = self.last_id.max(update.id);
        self.updated_ms = self.updated_ms.max(update.at_ms);
        if let Some(direction) = update.direction {
            self.direction = direction;
        }
        if let Some(number) = update.party_number.as_ref().filter(|n| !n.is_empty()) {
            self.party_number = number.clone();
        }
        if let Some(name) = update.party_name.as_ref().filter(|n| !n.is_empty()) {
            self.party_name = name.clone();
        }
        if let Some(state) = update.state {
            let ending = matches!(state, CallState::Ended | CallState::Missed);
            // An end is final: a late status of the same call does not bring it back.
            if !matches!(self.state, CallState::Ended | CallState::Missed) || ending {
                self.answered |= update.answered || state == CallState::Talking;
                self.state = state;
                // Hung up without ever talking: missed, when it came in.
                if state == CallState::Ended
                    && !self.answered
                    && self.direction == CallDirection::Inbound
                {
                    self.state = CallState::Missed;
                }
            }
        }
        if let Some(contacts) = &update.contacts {
            match self
                .contacts
                .iter_mut()
                .find(|c| c.integration_id == contacts.integration_id)
            {
                Some(known) => *known = contacts.clone(),
                None => self.contacts.push(contacts.clone()),
            }
        }
        if let Some(work) = &update.work {
            match self
                .work
                .iter_mut()
                .find(|w| w.integration_id == work.integration_id && w.step == work.step)
            {
                Some(known) => *known = work.clone(),
                None => self.work.push(work.clone()),
            }
        }
        if let Some(url) = update.recording_url.as_ref().filter(|u| !u.is_empty()) {
            self.recording_url = url.clone();
        }
    }
}

/// Folds `updates` (oldest first) into calls, newest call first, at most `limit`.
pub fn fold_calls(updates: &[CallUpdate], limit: usize) -> Vec<AgentCall> {
    let mut calls: Vec<AgentCall> = Vec::new();
    for update in updates {
        match calls.iter_mut().find(|c| c.is(update)) {
            Some(call) => call.apply(update),
            None => calls.push(AgentCall::starting(update)),
        }
    }
    calls.sort_by(|a, b| {
        b.started_ms
            .cmp(&a.started_ms)
            .then(b.last_id.cmp(&a.last_id))
    });
    calls.truncate(limit);
    calls
}

/// The Calls page: the account's extensions with their popup settings, the recent calls,
/// and the last update's id the live stream goes on from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallsPage {
    pub extensions: Vec<PopupSettings>,
    pub calls: Vec<AgentCall>,
    pub last_id: i64,
}

/// A contact an agent creates from the popup (the template's CreateNewContact).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewContactInput {
    pub call_id: String,
    pub extension: String,
    pub integration_id: i32,
    pub contact_type: String,
    pub number: String,
    pub first_name: String,
    pub last_name: String,
}

/// An account whose e-mail matches extensions of the directory, proposed for linking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionMatch {
    pub account_id: i32,
    pub email: String,
    /// The numbers to add (those already linked left out).
    pub numbers: Vec<String>,
}

/// The most recent calls the Calls page lists.
pub const RECENT_CALLS: usize = 50;
/// Extensions one account may answer.
pub const MAX_EXTENSIONS_PER_ACCOUNT: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: i64, state: Option<CallState>) -> CallUpdate {
        CallUpdate {
            id,
            call_id: "c1".into(),
            extension: "1001".into(),
            at_ms: id * 10,
            state,
            ..CallUpdate::default()
        }
    }

    #[test]
    fn an_inbound_call_never_answered_is_missed_and_one_answered_ended() {
        let missed = fold_calls(
            &[
                update(1, Some(CallState::Ringing)),
                update(2, Some(CallState::Ended)),
            ],
            10,
        );
        assert_eq!(missed[0].state, CallState::Missed);
        let talked = fold_calls(
            &[
                update(1, Some(CallState::Ringing)),
                update(2, Some(CallState::Talking)),
                update(3, Some(CallState::Ended)),
            ],
            10,
        );
        assert_eq!(talked[0].state, CallState::Ended);
        assert!(PopupTrigger::Answered.reached(&talked[0]));
        assert!(!PopupTrigger::Answered.reached(&missed[0]));
    }

    #[test]
    fn an_update_applied_twice_or_late_changes_nothing() {
        let mut call = AgentCall::starting(&update(1, Some(CallState::Ringing)));
        call.apply(&update(3, Some(CallState::Ended)));
        let before = call.clone();
        call.apply(&update(3, Some(CallState::Talking)));
        call.apply(&update(2, Some(CallState::Talking)));
        assert_eq!(call, before);
        // A later status after the end does not bring the call back.
        call.apply(&update(4, Some(CallState::Talking)));
        assert_eq!(call.state, CallState::Missed);
    }
}
