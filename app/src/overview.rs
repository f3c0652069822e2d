//! The Overview page (`/`, README "Overview"): a new deployment's setup checklist, each step
//! linking to its page, then each connected integration's health and the queue.

use serde::{Deserialize, Serialize};

use crate::activity::IntegrationHealth;
use crate::integrations::Status;
use crate::template::model::Provider;

/// One step of setting Patchbay up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStep {
    pub title: String,
    pub done: bool,
    /// What is there, or what is missing.
    pub detail: String,
    /// The page that does it.
    pub href: String,
}

/// A connected integration and its health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCard {
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub status: Status,
    pub health: IntegrationHealth,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub steps: Vec<SetupStep>,
    pub cards: Vec<HealthCard>,
    /// Queue jobs by state.
    pub queue: Vec<(String, u64)>,
}

/// What the checklist is decided from, gathered by the server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetupFacts {
    /// The phone system's status label, and whether events can arrive (a webhook Secret or
    /// the Open API connected).
    pub phone_system: Option<String>,
    pub templates: usize,
    pub connected: usize,
    pub extensions: u64,
    /// Connected integrations that list CRM users, and associations in all.
    pub listing_users: usize,
    pub associations: u64,
    /// Connected integrations without a test case, and with a failing one.
    pub without_cases: Vec<String>,
    pub failing_cases: Vec<String>,
    /// A call event was seen (the phone system's last event, or work in the queue).
    pub calls_seen: bool,
}

/// The checklist, in the order a deployment is set up.
pub fn setup_steps(facts: &SetupFacts) -> Vec<SetupStep> {
    let step = |title: &str, done: bool, detail: String, href: &str| SetupStep {
        title: title.into(),
        done,
        detail,
        href: href.into(),
    };
    let plural = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    vec![
        step(
            "Connect the phone system",
            facts.phone_system.is_some(),
            facts
                .phone_system
                .clone()
                .unwrap_or_else(|| "no webhook Secret or Open API credentials saved".into()),
            "/phone-system",
        ),
        step(
            "Upload a template",
            facts.templates > 0,
            plural(facts.templates as u64, "template"),
            "/templates/crm",
        ),
        step(
            "Connect an integration",
            facts.connected > 0,
            format!("{} connected", facts.connected),
            "/integrations/crm",
        ),
        step(
            "Add the extensions",
            facts.extensions > 0,
            plural(facts.extensions, "extension"),
            "/extensions",
        ),
        step(
            "Associate users with extensions",
            facts.listing_users == 0 || facts.associations > 0,
            if facts.listing_users == 0 {
                "no connected integration lists CRM users".into()
            } else {
                plural(facts.associations, "association")
            },
            "/integrations/crm",
        ),
        step(
            "Save test cases that pass",
            facts.connected > 0 && facts.without_cases.is_empty() && facts.failing_cases.is_empty(),
            match (&facts.without_cases[..], &facts.failing_cases[..]) {
                ([], []) if facts.connected > 0 => {
                    "every connected integration's cases pass".into()
                }
                ([], []) => "connect an integration first".into(),
                (none, []) => format!("no test case: {}", none.join(", ")),
                (_, failing) => format!("failing: {}", failing.join(", ")),
            },
            "/integrations/crm",
        ),
        step(
            "See a first call",
            facts.calls_seen,
            if facts.calls_seen {
                "calls arrive".into()
            } else {
                "no call event received yet".into()
            },
            "/phone-system",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_deployment_has_every_step_open_and_a_running_one_none() {
        let fresh = setup_steps(&SetupFacts::default());
        assert_eq!(fresh.len(), 7);
        // Nothing lists users yet: association is not asked for.
        let open: Vec<_> = fresh
            .iter()
            .filter(|s| !s.done)
            .map(|s| s.title.as_str())
            .collect();
        assert_eq!(open.len(), 6, "{open:?}");
        let running = setup_steps(&SetupFacts {
            phone_system: Some("Connected".into()),
            templates: 2,
            connected: 1,
            extensions: 40,
            listing_users: 1,
            associations: 12,
            without_cases: vec![],
            failing_cases: vec![],
            calls_seen: true,
        });
        assert!(running.iter().all(|s| s.done), "{running:?}");
        let failing = setup_steps(&SetupFacts {
            connected: 1,
            failing_cases: vec!["Acme CRM".into()],
            ..SetupFacts::default()
        });
        assert_eq!(failing[5].detail, "failing: Acme CRM");
        assert!(!failing[5].done);
    }
}
