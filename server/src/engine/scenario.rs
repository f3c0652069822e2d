//! The scenarios besides contact lookup (docs/scenarios.md):
//! GetGlobalInfo, CreateNewContact, CallJournal, CreateNewTicket / UpdateTicket, each
//! followed by the FollowUp requests its success triggers. `core::scenarios` decides what
//! runs; this sends it.

use std::collections::BTreeMap;

use app::calls::Call;

use super::core::call::call_variables;
use super::core::contacts::PHONE_VARIABLE;
use super::core::request::GlobalHeaders;
use super::core::scenarios::{creation_request, follow_ups, ticket_requests, WritePlan};
use super::core::Variables;
use super::runner::{Outcome, Runner, StepError};

impl Runner<'_> {
    /// The requests of scenario `id` in order, then its follow-ups.
    async fn run_scenario(
        &self,
        id: &str,
        requests: Vec<&app::template::model::RequestView>,
        variables: &Variables,
    ) -> Result<Outcome, StepError> {
        let mut outcome = self
            .run_requests(id, &requests, variables, GlobalHeaders::Apply)
            .await?;
        let mut after = variables.clone();
        after.extend(outcome.outputs.clone());
        let follow = self.follow_up(id, &after).await?;
        outcome.globals.extend(follow.globals);
        outcome.skipped.extend(follow.skipped);
        Ok(outcome)
    }

    /// The FollowUp requests `trigger` starts (without global headers, docs/template-format.md);
    /// their outputs are global variables.
    pub async fn follow_up(
        &self,
        trigger: &str,
        variables: &Variables,
    ) -> Result<Outcome, StepError> {
        let requests = follow_ups(self.view, trigger);
        let mut outcome = self
            .run_requests("FollowUp", &requests, variables, GlobalHeaders::Omit)
            .await?;
        outcome.globals = std::mem::take(&mut outcome.outputs);
        Ok(outcome)
    }

    /// GetGlobalInfo and its follow-ups: the outputs are the integration's global variables.
    pub async fn global_info(&self, variables: &Variables) -> Result<Outcome, StepError> {
        let requests = self
            .view
            .scenario("GetGlobalInfo")
            .map(|s| s.requests.iter().collect())
            .unwrap_or_default();
        let mut outcome = self
            .run_scenario("GetGlobalInfo", requests, variables)
            .await?;
        let own = std::mem::take(&mut outcome.outputs);
        // The follow-ups' values, read later, win.
        outcome.globals = own.into_iter().chain(outcome.globals).collect();
        Ok(outcome)
    }

    /// CreateNewContact for `contact_type` with the caller's number and names; its outputs
    /// (a contact id) become contact variables.
    pub async fn create_contact(
        &self,
        variables: &Variables,
        contact_type: &str,
        contact: &NewContact,
    ) -> Result<Outcome, StepError> {
        let request =
            creation_request(self.view, contact_type).map_err(|message| StepError::Template {
                step: "CreateNewContact".into(),
                message,
            })?;
        let mut variables = variables.clone();
        contact.set_variables(&mut variables);
        variables.insert("ContactSyncType".into(), request.name.clone());
        let mut outcome = self
            .run_scenario("CreateNewContact", vec![request], &variables)
            .await?;
        if let Some(id) = outcome.outputs.get("ContactsId").cloned() {
            outcome.outputs.entry("ContactId".into()).or_insert(id);
        }
        Ok(outcome)
    }

    /// CallJournal's requests with variables already written (`write_variables`).
    pub async fn send_journal(&self, written: &Variables) -> Result<Outcome, StepError> {
        let requests = self
            .view
            .scenario("CallJournal")
            .map(|s| s.requests.iter().collect())
            .unwrap_or_default();
        self.run_scenario("CallJournal", requests, written).await
    }

    /// CreateNewTicket's requests with variables already written (`write_variables`):
    /// created when they hold no `TicketId`, else updated (UpdateTicket). The outputs carry
    /// a new `TicketId` to keep with the call.
    pub async fn send_ticket(&self, written: &Variables) -> Result<Outcome, StepError> {
        let requests = ticket_requests(self.view, written.get("TicketId").map(String::as_str));
        self.run_scenario("CreateNewTicket", requests, written)
            .await
    }

    /// The variables of a journal or ticket: the call's, then `Subject` and `Description`
    /// rendered with them.
    pub fn write_variables(
        &self,
        scenario: &str,
        variables: &Variables,
        call: &Call,
        plan: &WritePlan,
    ) -> Result<Variables, StepError> {
        let template_error = |message: String| StepError::Template {
            step: scenario.to_owned(),
            message,
        };
        let mut all = variables.clone();
        all.extend(
            call_variables(self.renderer, call, plan.play_recording)
                .map_err(|e| template_error(e.to_string()))?,
        );
        // The texts come from the Features section, which any user may edit: they are
        // rendered without the secrets (SECURITY.md "User text is data").
        let visible = self.credentials.auth.without_secrets(&all);
        for (name, source) in [
            ("Subject", &plan.subject),
            ("Description", &plan.description),
        ] {
            let text = self
                .renderer
                .render(&format!("{name} of {scenario}"), source, &visible)
                .map_err(|e| template_error(e.to_string()))?;
            all.insert(name.to_owned(), text);
        }
        Ok(all)
    }
}

/// A contact to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewContact {
    pub number: String,
    pub first_name: String,
    pub last_name: String,
}

impl NewContact {
    /// The contact an unknown party of `call` becomes (`core::call::new_contact_names`).
    pub fn of_call(call: &Call) -> NewContact {
        let (first_name, last_name) = super::core::call::new_contact_names(call);
        NewContact {
            number: call.contact_number().to_owned(),
            first_name,
            last_name,
        }
    }

    /// Contact creation's variables (docs/variables.md "Contact creation").
    pub fn set_variables(&self, variables: &mut Variables) {
        variables.insert(PHONE_VARIABLE.into(), self.number.clone());
        variables.insert("BusinessNumber".into(), self.number.clone());
        variables.insert("FirstName".into(), self.first_name.clone());
        variables.insert("LastName".into(), self.last_name.clone());
        variables.insert("DisplayName".into(), self.display_name());
    }

    /// `DisplayName`: the names, or the number when there are none.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        let name = name.trim();
        if name.is_empty() {
            self.number.clone()
        } else {
            name.to_owned()
        }
    }
}

/// Keeps the values a call's later requests need: `TicketId`, `ContactId` and the like.
pub fn carry(variables: &mut Variables, outputs: &BTreeMap<String, String>) {
    for (name, value) in outputs {
        if !value.is_empty() {
            variables.insert(name.clone(), value.clone());
        }
    }
}
