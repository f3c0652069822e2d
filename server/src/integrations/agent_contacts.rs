//! A contact an agent creates by hand from the call popup (README "Agents and the call
//! popup"): the template's CreateNewContact through the runner, one Activity row, then the
//! number looked up again so the popup shows the new contact with its link.

use app::agents::IntegrationContacts;
use app::calls::Call;

use super::activity::{origin, run_started};
use super::calls::{creatable_types, popup_contact};
use super::service::{IntegrationError, IntegrationsService};
use crate::engine::core::call::{call_variables, extension_variables, named};
use crate::engine::runner::RunStats;
use crate::engine::scenario::NewContact;

impl IntegrationsService {
    /// Creates `contact` (of `contact_type`, which the Features section must name) for the
    /// other party of `call` (its extension given by number) in the integration `integration_id`; answers what a lookup of
    /// the number finds afterwards.
    pub async fn create_contact_by_hand(
        &self,
        integration_id: i32,
        call: &Call,
        contact: &NewContact,
        contact_type: &str,
    ) -> Result<IntegrationContacts, IntegrationError> {
        let live = self
            .connected_integration(integration_id)
            .await?
            .ok_or_else(|| IntegrationError::invalid("integration", "is not connected"))?;
        let connected = self.ready(live).await?;
        let creatable = creatable_types(&connected);
        if !creatable.iter().any(|t| t == contact_type) {
            return Err(IntegrationError::invalid(
                "contact_type",
                format!(
                    "{} does not create contacts of type \"{contact_type}\" (Features: Create New Contact)",
                    connected.name()
                ),
            ));
        }
        // The extension's CRM user there, when the template associates users: the contact's
        // owner in many CRMs.
        let call = &Call {
            extension: self
                .call_extension(integration_id, &call.extension.number, false)
                .await?
                .unwrap_or_else(|| call.extension.clone()),
            ..call.clone()
        };
        let mut variables = connected.variables.clone();
        extension_variables(&call.extension, &mut variables);
        let at_call = call_variables(&self.renderer, &named(call, &variables), false)
            .map_err(|e| IntegrationError::Template(e.to_string()))?;
        variables.extend(at_call);
        let stats = RunStats::default();
        let runner = self.runner(&connected).counted(&stats);
        let started = run_started();
        let created = runner
            .create_contact(&variables, contact_type, contact)
            .await;
        let error = created
            .as_ref()
            .err()
            .map(|e| connected.mask(&e.to_string()));
        self.record_activity(
            &connected,
            "CreateNewContact",
            origin::AGENT,
            started,
            &stats,
            error.as_deref(),
        )
        .await;
        if let Some(error) = error {
            return Err(IntegrationError::TestFailed(error));
        }
        // The cache may still say "nobody": the CRM is asked again.
        let key = crate::engine::lookup::LookupPlan::new(
            &connected.integration.features.contacts,
            &contact.number,
        )
        .cache_key;
        if let Err(error) = self.contact_cache.remove(integration_id, &key).await {
            tracing::warn!(integration = integration_id, %error, "cannot update the contact cache");
        }
        let found = self
            .find_contact(&connected, &runner, &variables, &contact.number)
            .await;
        Ok(IntegrationContacts {
            integration_id,
            integration: connected.name().to_owned(),
            found: match &found {
                Ok(Some(lookup)) => lookup.candidates.iter().map(popup_contact).collect(),
                _ => vec![app::agents::PopupContact {
                    name: contact.display_name(),
                    contact_type: contact_type.to_owned(),
                    ..Default::default()
                }],
            },
            error: None,
            creatable: Vec::new(),
        })
    }
}
