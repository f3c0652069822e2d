//! What each scenario sends and when, as decisions over the template and the Features
//! section (docs/scenarios.md). The edge
//! (`engine::scenario`) sends what these choose.

use app::calls::{Call, CallDirection};
use app::integrations::{
    CallType, Choice, FeatureOptions, Features, JournalCalls, JournalOptions, TicketOptions,
    TicketWhen,
};
use app::template::model::{RequestView, ScenarioView, TemplateView};

/// The CreateNewTicket request that updates a ticket already made (reference 001,
/// "Retrieve TicketID for further operations").
pub const UPDATE_TICKET_REQUEST: &str = "UpdateTicket";
/// The FollowUp Trigger that fires after a token refresh.
pub const TOKEN_REFRESH_TRIGGER: &str = "TokenRefresh";

/// Whether the template's feature switch (`CallJournal="1"` on `<Information>`) is on; a
/// template without the attribute but with the scenario counts as on.
fn switched_on(switch: &str, scenario: Option<&ScenarioView>) -> bool {
    match switch.trim() {
        "0" => false,
        "1" => scenario.is_some(),
        _ => scenario.is_some_and(|s| !s.requests.is_empty()),
    }
}

fn text_choice(scenario: &ScenarioView, name: &str) -> Choice<String> {
    Choice {
        editable: scenario.setting(&format!("Enable{name}")).map(str::trim) == Some("1"),
        default: scenario.setting(name).unwrap_or_default().to_owned(),
    }
}

fn flag_choice(scenario: &ScenarioView, name: &str) -> Option<Choice<bool>> {
    let editable = scenario.setting(&format!("Enable{name}")).map(str::trim);
    let value = scenario.setting(name).map(str::trim);
    (editable.is_some() || value.is_some()).then(|| Choice {
        editable: editable == Some("1"),
        default: value == Some("1"),
    })
}

/// What the template offers in the Features section.
pub fn feature_options(view: &TemplateView) -> FeatureOptions {
    let names = |id: &str| -> Vec<String> {
        view.scenario(id)
            .map(|s| s.requests.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default()
    };
    let create = view.scenario("CreateNewContact");
    let journal = view.scenario("CallJournal");
    let ticket = view.scenario("CreateNewTicket");
    FeatureOptions {
        lists_users: view.scenario("UserAssociation").is_some()
            && view.info.user_association.trim() != "0",
        contact_types: names("SyncContactAuto"),
        creatable_types: if switched_on(&view.info.create_new_contact, create) {
            names("CreateNewContact")
        } else {
            Vec::new()
        },
        journal: journal
            .filter(|_| switched_on(&view.info.call_journal, journal))
            .map(|s| JournalOptions {
                subject: text_choice(s, "Subject"),
                description: text_choice(s, "Description"),
                play_recording: flag_choice(s, "PlayCallRecording"),
                skip_missed: flag_choice(s, "DisableMissedCallRecords"),
            }),
        ticket: ticket
            .filter(|_| {
                view.info.provider == "helpdesk"
                    && switched_on(&view.info.create_new_ticket, ticket)
            })
            .map(|s| TicketOptions {
                subject: text_choice(s, "Subject"),
                description: text_choice(s, "Description"),
                updates: s.request(UPDATE_TICKET_REQUEST).is_some(),
            }),
    }
}

/// The user's value where the template lets them choose, else the template's.
fn chosen<T: Clone>(choice: &Choice<T>, mine: Option<&T>) -> T {
    match mine {
        Some(value) if choice.editable => value.clone(),
        _ => choice.default.clone(),
    }
}

/// A call journal or ticket as it will be written: the Subject and Description templates
/// and the options, the user's where the template allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WritePlan {
    pub subject: String,
    pub description: String,
    pub play_recording: bool,
    pub skip_missed: bool,
}

/// The call journal as configured, or `None` when the template or the user turned it off.
pub fn journal_plan(options: &FeatureOptions, features: &Features) -> Option<WritePlan> {
    let offered = options.journal.as_ref()?;
    let mine = &features.journal;
    mine.enabled.then(|| WritePlan {
        subject: chosen(&offered.subject, mine.subject.as_ref()),
        description: chosen(&offered.description, mine.description.as_ref()),
        play_recording: offered
            .play_recording
            .as_ref()
            .is_some_and(|c| chosen(c, mine.play_recording.as_ref())),
        skip_missed: offered
            .skip_missed
            .as_ref()
            .is_some_and(|c| chosen(c, mine.skip_missed.as_ref())),
    })
}

/// The ticket as configured (the test console uses it whatever `when` says).
pub fn ticket_plan(options: &FeatureOptions, features: &Features) -> Option<WritePlan> {
    let offered = options.ticket.as_ref()?;
    let mine = &features.ticket;
    Some(WritePlan {
        subject: chosen(&offered.subject, mine.subject.as_ref()),
        description: chosen(&offered.description, mine.description.as_ref()),
        play_recording: false,
        skip_missed: false,
    })
}

/// Why a call gets no journal. DisableMissedCallRecords is the vendor's "in unanswered
/// agents": it drops the missed record of an agent rung through a queue or ring group, not
/// a missed call made straight to the extension.
pub fn journal_skipped(plan: &WritePlan, call: &Call) -> Option<&'static str> {
    (plan.skip_missed && !call.disposition.answered() && !call.group.trim().is_empty()).then_some(
        "an agent of a queue or ring group who did not answer gets no journal (DisableMissedCallRecords)",
    )
}

/// Whether a ticket is made at `moment` for this call: of a call type the Features tick
/// (the reference's four; none ticked: all four). Before the call only the direction is
/// known, so any of its types counts; internal calls get none.
pub fn ticket_due(features: &Features, call: &Call, moment: TicketWhen) -> bool {
    let ticket = &features.ticket;
    let of_type = |t: &CallType| {
        t.direction() == call.direction
            && (moment == TicketWhen::BeforeCall || t.answered() == call.disposition.answered())
    };
    ticket.when != TicketWhen::Off
        && ticket.when == moment
        && call.direction != CallDirection::Internal
        && (ticket.call_types.is_empty() || ticket.call_types.iter().any(of_type))
}

/// Whether the journal's choice of calls (`JournalFeatures::calls`) lets this call in, as
/// far as it is known before the lookup: internal calls only with `All`.
pub fn journal_covers(features: &Features, call: &Call) -> bool {
    features.journal.calls == JournalCalls::All || call.direction != CallDirection::Internal
}

/// The contact type to create for an unknown caller of this call, when creation is
/// automatic for its direction.
pub fn contact_to_create<'a>(
    options: &FeatureOptions,
    features: &'a Features,
    call: &Call,
) -> Option<&'a str> {
    let create = &features.create_contact;
    let automatic = match call.direction {
        CallDirection::Inbound => create.on_inbound,
        CallDirection::Outbound => create.on_outbound,
        CallDirection::Internal => false,
    };
    (automatic && options.creatable_types.contains(&create.contact_type))
        .then_some(create.contact_type.as_str())
}

/// CreateNewContact's request for `contact_type`: the one of that name, or the first when
/// none is named.
pub fn creation_request<'a>(
    view: &'a TemplateView,
    contact_type: &str,
) -> Result<&'a RequestView, String> {
    let scenario = view
        .scenario("CreateNewContact")
        .ok_or("the template has no CreateNewContact scenario")?;
    if contact_type.trim().is_empty() {
        return scenario
            .requests
            .first()
            .ok_or_else(|| "CreateNewContact has no request".into());
    }
    scenario.request(contact_type).ok_or_else(|| {
        format!(
            "CreateNewContact has no request for contact type {contact_type:?} (it has {})",
            scenario
                .requests
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// CreateNewTicket's requests: without a `TicketId` those that create it (all but
/// UpdateTicket); with one, UpdateTicket alone.
pub fn ticket_requests<'a>(
    view: &'a TemplateView,
    ticket_id: Option<&str>,
) -> Vec<&'a RequestView> {
    let Some(scenario) = view.scenario("CreateNewTicket") else {
        return Vec::new();
    };
    let updating = ticket_id.is_some_and(|id| !id.is_empty());
    scenario
        .requests
        .iter()
        .filter(|r| (r.name == UPDATE_TICKET_REQUEST) == updating)
        .collect()
}

/// The FollowUp requests started by `trigger` (a scenario Id or `TokenRefresh`), in order.
pub fn follow_ups<'a>(view: &'a TemplateView, trigger: &str) -> Vec<&'a RequestView> {
    view.scenario("FollowUp")
        .map(|s| {
            s.requests
                .iter()
                .filter(|r| r.trigger.trim().eq_ignore_ascii_case(trigger))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::calls::CallDisposition;
    use app::integrations::{CreateContactFeatures, JournalFeatures, TicketFeatures};
    use app::template::xml::parse;

    fn view(provider: &str, attributes: &str, scenarios: &str) -> TemplateView {
        TemplateView::read(
            &parse(&format!(
                r#"<Information Provider="{provider}" Name="n" Key="k" AuthType="none" {attributes}><Scenarios>{scenarios}</Scenarios></Information>"#
            ))
            .unwrap(),
        )
    }

    const JOURNAL: &str = r#"<Scenario Id="CallJournal" Type="REST"><Parameters>
        <Parameter Name="EnableSubject" Value="1"/><Parameter Name="Subject" Value="Extension Call"/>
        <Parameter Name="EnableDescription" Value="0"/><Parameter Name="Description" Value="{{.Time}}"/>
        <Parameter Name="EnablePlayCallRecording" Value="1"/><Parameter Name="PlayCallRecording" Value="0"/>
        </Parameters><Requests><Request Name="CallJournal" Method="POST" URLFormat="https://crm.example/calls"/></Requests></Scenario>"#;

    #[test]
    fn the_user_changes_only_what_the_template_lets_them() {
        let view = view("crm", r#"CallJournal="1""#, JOURNAL);
        let options = feature_options(&view);
        let mut features = Features::default();
        let plan = journal_plan(&options, &features).unwrap();
        assert_eq!(plan.subject, "Extension Call");
        assert!(!plan.play_recording);
        assert!(!plan.skip_missed, "the template has no such option");

        features.journal = JournalFeatures {
            enabled: true,
            subject: Some("Mine".into()),
            description: Some("ignored: not editable".into()),
            play_recording: Some(true),
            skip_missed: Some(true),
            ..JournalFeatures::default()
        };
        let plan = journal_plan(&options, &features).unwrap();
        assert_eq!(plan.subject, "Mine");
        assert_eq!(plan.description, "{{.Time}}");
        assert!(plan.play_recording);
        assert!(!plan.skip_missed);

        features.journal.enabled = false;
        assert_eq!(journal_plan(&options, &features), None);
        let off = self::view("crm", r#"CallJournal="0""#, JOURNAL);
        assert_eq!(feature_options(&off).journal, None);
    }

    #[test]
    fn tickets_create_first_then_update_with_the_ticket_id() {
        let tickets = r#"<Scenario Id="CreateNewTicket" Type="REST"><Requests>
            <Request Name="CreateNewTicket" Method="POST" URLFormat="https://d/t"/>
            <Request Name="UpdateTicket" Method="POST" URLFormat="https://d/t/{{.TicketId}}"/>
            </Requests></Scenario>"#;
        let helpdesk = view("helpdesk", r#"CreateNewTicket="1""#, tickets);
        let names = |id: Option<&str>| -> Vec<String> {
            ticket_requests(&helpdesk, id)
                .iter()
                .map(|r| r.name.clone())
                .collect()
        };
        assert_eq!(names(None), ["CreateNewTicket"]);
        assert_eq!(names(Some("")), ["CreateNewTicket"]);
        assert_eq!(names(Some("77")), ["UpdateTicket"]);
        assert!(feature_options(&helpdesk).ticket.unwrap().updates);
        let crm = view("crm", r#"CreateNewTicket="1""#, tickets);
        assert_eq!(
            feature_options(&crm).ticket,
            None,
            "tickets are for helpdesks"
        );

        let mut features = Features {
            ticket: TicketFeatures {
                when: TicketWhen::BeforeCall,
                call_types: vec![CallType::InboundAnswered],
                ..TicketFeatures::default()
            },
            ..Features::default()
        };
        let mut call = Call::default();
        assert!(ticket_due(&features, &call, TicketWhen::BeforeCall));
        assert!(!ticket_due(&features, &call, TicketWhen::AfterCall));
        features.ticket.when = TicketWhen::AfterCall;
        assert!(ticket_due(&features, &call, TicketWhen::AfterCall));
        call.disposition = CallDisposition::NoAnswer;
        assert!(
            !ticket_due(&features, &call, TicketWhen::AfterCall),
            "Inbound No Answer is not ticked"
        );
        features.ticket.when = TicketWhen::BeforeCall;
        assert!(
            ticket_due(&features, &call, TicketWhen::BeforeCall),
            "at the ring, only the direction is known"
        );
        call.direction = CallDirection::Outbound;
        assert!(!ticket_due(&features, &call, TicketWhen::BeforeCall));
        features.ticket.call_types.clear();
        assert!(ticket_due(&features, &call, TicketWhen::BeforeCall));
        call.direction = CallDirection::Internal;
        assert!(!ticket_due(&features, &call, TicketWhen::BeforeCall));
        let stored: TicketFeatures =
            serde_json::from_str(r#"{"call_types": ["outbound", "inbound_no_answer"]}"#).unwrap();
        assert_eq!(
            stored.call_types,
            [
                CallType::OutboundAnswered,
                CallType::OutboundNoAnswer,
                CallType::InboundNoAnswer
            ],
            "a direction stored by an earlier version reads as its two types"
        );
    }

    #[test]
    fn contacts_are_created_automatically_only_where_chosen() {
        let creation = r#"<Scenario Id="CreateNewContact" Type="REST"><Requests>
            <Request Name="Contacts" Method="POST" URLFormat="https://crm.example/contacts"/>
            <Request Name="Leads" Method="POST" URLFormat="https://crm.example/leads"/>
            </Requests></Scenario>"#;
        let view = view("crm", r#"CreateNewContact="1""#, creation);
        let options = feature_options(&view);
        assert_eq!(options.creatable_types, ["Contacts", "Leads"]);
        let features = Features {
            create_contact: CreateContactFeatures {
                contact_type: "Leads".into(),
                on_inbound: true,
                on_outbound: false,
            },
            ..Features::default()
        };
        let mut call = Call::default();
        assert_eq!(contact_to_create(&options, &features, &call), Some("Leads"));
        call.direction = CallDirection::Outbound;
        assert_eq!(contact_to_create(&options, &features, &call), None);
        assert_eq!(creation_request(&view, "Leads").unwrap().name, "Leads");
        assert_eq!(creation_request(&view, "").unwrap().name, "Contacts");
        let error = creation_request(&view, "Deals").unwrap_err();
        assert!(error.contains("Contacts, Leads"), "{error}");
    }

    #[test]
    fn missed_calls_skip_the_journal_only_when_asked() {
        let plan = WritePlan {
            subject: String::new(),
            description: String::new(),
            play_recording: false,
            skip_missed: true,
        };
        let mut call = Call {
            disposition: CallDisposition::NoAnswer,
            group: "6400".into(),
            ..Call::default()
        };
        assert!(journal_skipped(&plan, &call).is_some());
        call.disposition = CallDisposition::Answered;
        assert_eq!(journal_skipped(&plan, &call), None);
        call.disposition = CallDisposition::NoAnswer;
        call.group.clear();
        assert_eq!(
            journal_skipped(&plan, &call),
            None,
            "a missed call straight to the extension is journaled"
        );
    }

    #[test]
    fn follow_ups_run_by_their_trigger() {
        let follow = r#"<Scenario Id="FollowUp" Type="REST"><Requests>
            <Request Name="A" Method="GET" Trigger="GetGlobalInfo" URLFormat="https://x/a"/>
            <Request Name="B" Method="GET" Trigger="TokenRefresh" URLFormat="https://x/b"/>
            <Request Name="C" Method="GET" Trigger="getglobalinfo" URLFormat="https://x/c"/>
            </Requests></Scenario>"#;
        let view = view("crm", "", follow);
        let names: Vec<_> = follow_ups(&view, "GetGlobalInfo")
            .iter()
            .map(|r| r.name.clone())
            .collect();
        assert_eq!(names, ["A", "C"]);
        assert_eq!(follow_ups(&view, TOKEN_REFRESH_TRIGGER).len(), 1);
        assert!(follow_ups(&view, "CallJournal").is_empty());
    }
}
