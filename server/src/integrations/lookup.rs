//! Contact lookup across every connected integration (README "Contact lookup API").

use app::template::model::Provider;

use super::activity::{origin, run_started};
use super::service::{IntegrationError, IntegrationsService};
use crate::engine::lookup::Lookup;
use crate::engine::runner::RunStats;

/// A contact lookup across the integrations.
#[derive(Debug)]
pub struct LookupAnswer {
    pub found: Option<Answered>,
    /// Integrations that failed to answer, with why.
    pub failures: Vec<String>,
    /// Integrations not asked, with why (the extension has no CRM user there).
    pub skipped: Vec<String>,
    /// Integrations where several contacts matched and the rule refused to choose.
    pub ambiguous: Vec<String>,
}

/// The integration that found the contact, and what it found.
#[derive(Debug)]
pub struct Answered {
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub lookup: Lookup,
    /// The extension the lookup was for, with its CRM user there.
    pub extension_user: Option<app::calls::ExtensionUser>,
}

impl IntegrationsService {
    /// Looks `phone` up in every connected integration, CRM templates first, each in its
    /// template order; the first that finds a contact answers. Failures of the others
    /// are reported (secrets masked) when none found one.
    pub async fn lookup(
        &self,
        phone: &str,
        extension: Option<&str>,
    ) -> Result<LookupAnswer, IntegrationError> {
        let mut failures = Vec::new();
        let mut skipped = Vec::new();
        let mut ambiguous = Vec::new();
        for live in self.connected_integrations().await? {
            let connected = self.ready(live).await?;
            let mut variables = connected.variables.clone();
            let mut extension_user = None;
            if let Some(number) = extension {
                match self
                    .extension_user(connected.integration.id, number)
                    .await?
                {
                    Some(user) => {
                        crate::engine::core::call::extension_variables(&user, &mut variables);
                        extension_user = Some(user);
                    }
                    None if connected.in_use.lists_users() => {
                        skipped.push(format!(
                            "{}: extension {number} is not associated with a CRM user",
                            connected.name()
                        ));
                        continue;
                    }
                    None => crate::engine::core::call::extension_variables(
                        &app::calls::ExtensionUser {
                            number: number.to_owned(),
                            ..Default::default()
                        },
                        &mut variables,
                    ),
                }
            }
            let stats = RunStats::default();
            let runner = self.runner(&connected).counted(&stats);
            let started = run_started();
            crate::engine::core::call::asked_number_variables(phone, &mut variables);
            let result = self
                .find_contact(&connected, &runner, &variables, phone)
                .await;
            let error = result
                .as_ref()
                .err()
                .map(|e| connected.mask(&e.to_string()));
            self.record_activity(
                &connected,
                "SyncContactAuto",
                origin::LOOKUP,
                started,
                &stats,
                error.as_deref(),
            )
            .await;
            match result {
                Ok(Some(found)) if found.contact.is_none() => ambiguous.push(format!(
                    "{}: {} contacts match",
                    connected.name(),
                    found.matches
                )),
                Ok(Some(found)) => {
                    return Ok(LookupAnswer {
                        found: Some(Answered {
                            provider: connected.provider,
                            name: connected.name().to_owned(),
                            key: connected.key,
                            lookup: found,
                            extension_user,
                        }),
                        failures,
                        skipped,
                        ambiguous,
                    })
                }
                Ok(None) => {}
                Err(_) => {
                    let message = error.unwrap_or_default();
                    tracing::warn!(provider = connected.provider.as_str(), key = %connected.key, error = %message, "contact lookup failed");
                    failures.push(format!("{}: {message}", connected.name()));
                }
            }
        }
        Ok(LookupAnswer {
            found: None,
            failures,
            skipped,
            ambiguous,
        })
    }
}
