//! The work a call makes for one integration, decided without I/O (README "Call events"):
//! the steps in the call's order, from the template's options and the Features section.
//! The queue plans them (`queue::plan`) and the integrations run them
//! (`integrations::calls`).

use app::calls::{Call, CallDirection};
use app::integrations::{FeatureOptions, Features, TicketWhen};

use super::scenarios::{
    contact_to_create, journal_covers, journal_plan, journal_skipped, ticket_due,
};

/// One step of a call's work for one integration, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// On ring: look the other party up (the popup).
    Lookup,
    /// On ring: the ticket, when set to "before the call".
    TicketBefore,
    /// At the end: the contact, when unknown and created automatically for the direction.
    Contact,
    /// At the end: the call journal.
    Journal,
    /// At the end: the ticket, when set to "after the call"; or, set to "before the call",
    /// its update (UpdateTicket, with the TicketId the ticket before carried).
    TicketAfter,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Lookup,
        Step::TicketBefore,
        Step::Contact,
        Step::TicketAfter,
        Step::Journal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Lookup => "lookup",
            Step::TicketBefore => "ticket_before",
            Step::Contact => "contact",
            Step::Journal => "journal",
            Step::TicketAfter => "ticket_after",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Its place in the call's order: a job waits for the call's lower ones.
    pub fn seq(self) -> i32 {
        self as i32 + 1
    }

    /// The template scenario it runs (for Activity).
    pub fn scenario(self) -> &'static str {
        match self {
            Step::Lookup => "SyncContactAuto",
            Step::TicketBefore | Step::TicketAfter => "CreateNewTicket",
            Step::Contact => "CreateNewContact",
            Step::Journal => "CallJournal",
        }
    }
}

/// A moment of a call the queue acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    Ring,
    End,
}

impl Moment {
    pub fn as_str(self) -> &'static str {
        match self {
            Moment::Ring => "ring",
            Moment::End => "end",
        }
    }
}

/// A call an event is about, seen from one extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallAt {
    pub call_id: String,
    pub moment: Moment,
    pub call: Call,
}

/// The steps an integration runs for `at`, given its template's options and its Features.
pub fn steps(options: &FeatureOptions, features: &Features, at: &CallAt) -> Vec<Step> {
    let call = &at.call;
    let mut steps = Vec::new();
    match at.moment {
        Moment::Ring => {
            if call.direction != CallDirection::Internal && features.contacts.sync {
                steps.push(Step::Lookup);
            }
            if options.ticket.is_some() && ticket_due(features, call, TicketWhen::BeforeCall) {
                steps.push(Step::TicketBefore);
            }
        }
        Moment::End => {
            if contact_to_create(options, features, call).is_some() {
                steps.push(Step::Contact);
            }
            // After the call: the ticket, or the update of the one made before the call
            // (its TicketId carried) when the template has UpdateTicket.
            let updates_before = options.ticket.as_ref().is_some_and(|t| t.updates)
                && ticket_due(features, call, TicketWhen::BeforeCall);
            if options.ticket.is_some()
                && (ticket_due(features, call, TicketWhen::AfterCall) || updates_before)
            {
                steps.push(Step::TicketAfter);
            }
            if journal_covers(features, call)
                && journal_plan(options, features)
                    .is_some_and(|plan| journal_skipped(&plan, call).is_none())
            {
                steps.push(Step::Journal);
            }
        }
    }
    steps
}
