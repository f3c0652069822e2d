//! CRM user sync for an integration (README "CRM user sync"): UserAssociation page by page
//! (`engine::users`), then every user applied at once (`storage::crm_users`), so a sync that
//! fails halfway changes nothing. One sync at a time per integration: a second Sync while
//! one runs waits for it and gets its result.

use std::sync::{Arc, Mutex};

use app::integrations::{CrmUserRow, CrmUsersPage, UserSyncProgress, UserSyncReport};
use app::template::model::Provider;
use tokio::sync::watch;

use super::activity::{origin, run_started};
use super::service::{IntegrationError, IntegrationsService};
use super::user_syncs::{Job, JobEnds};
use crate::engine::core::pagination::{Stop, MAX_SYNC_REQUESTS};
use crate::engine::runner::RunStats;
use crate::engine::users::SyncProgress;
use crate::storage::crm_users::UserRow;

pub use app::integrations::CRM_USERS_PAGE_ROWS;

impl IntegrationsService {
    /// Syncs the integration's CRM users, or joins the sync already running.
    pub async fn sync_users(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncReport, IntegrationError> {
        let connected = self
            .ready_integration(provider, key, "User Association")
            .await?;
        if !connected.in_use.lists_users() {
            return Err(IntegrationError::Invalid {
                field: "User Association".into(),
                message: "the template does not list CRM users (no UserAssociation scenario, or UserAssociation=\"0\")".into(),
            });
        }
        let id = connected.integration.id;
        let (job, joined) = {
            let mut running = self.user_syncs.lock();
            match running.get(&id) {
                Some(job) => (job.clone(), true),
                None => {
                    let job = Arc::new(Job {
                        progress: Mutex::new(SyncProgress::default()),
                        done: watch::channel(None).0,
                    });
                    running.insert(id, job.clone());
                    (job, false)
                }
            }
        };
        // The sync runs in its own task: a browser that goes away does not cancel it, and
        // whoever asked (the first press or a second one) waits for its result.
        let mut done = job.done.subscribe();
        if !joined {
            let service = self.clone();
            let actor = actor.to_owned();
            let key = key.to_owned();
            tokio::spawn(async move {
                // Whatever happens to the task, the job ends: nobody waits on it forever.
                let _ends = JobEnds {
                    syncs: service.user_syncs.clone(),
                    id,
                    job: job.clone(),
                };
                let result = service.run_sync(&connected, &job).await;
                if let Ok(report) = &result {
                    tracing::info!(%actor, provider = provider.as_str(), %key, users = report.users, "CRM users synced");
                }
                job.done.send_replace(Some(result));
            });
        }
        let outcome = done
            .wait_for(Option::is_some)
            .await
            .map(|o| o.clone())
            .ok()
            .flatten();
        match outcome {
            Some(Ok(report)) => Ok(report),
            Some(Err(message)) => Err(IntegrationError::TestFailed(message)),
            None => Err(IntegrationError::TestFailed(
                "the sync ended without a result; nothing was changed".into(),
            )),
        }
    }

    /// One sync: every page read, then every user applied at once; recorded in Activity.
    async fn run_sync(
        &self,
        connected: &super::service::ReadyIntegration,
        job: &Job,
    ) -> Result<UserSyncReport, String> {
        let id = connected.integration.id;
        let stats = RunStats::default();
        let started = run_started();
        let runner = self.runner(connected).counted(&stats);
        let progress = |p: SyncProgress| {
            *job.progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
        };
        let fetched = runner.fetch_users(&connected.variables, &progress).await;
        let result = match fetched {
            Ok(fetched) => {
                let complete = fetched.stop != Stop::Limit;
                let rows: Vec<UserRow> = fetched
                    .users
                    .values()
                    .map(|u| UserRow {
                        crm_id: u.id.clone(),
                        first_name: u.first_name.clone(),
                        last_name: u.last_name.clone(),
                        email: u.email.clone(),
                    })
                    .collect();
                match self.crm_users.apply_sync(id, &rows, complete).await {
                    Ok(counts) => {
                        let mut message = format!(
                            "{} users from {} page(s): {} added, {} updated, {} removed.",
                            rows.len(),
                            fetched.pages,
                            counts.added,
                            counts.updated,
                            counts.removed
                        );
                        if counts.associations_removed > 0 {
                            message.push_str(&format!(
                                " The removed users' {} extension association(s) were removed with them.",
                                counts.associations_removed
                            ));
                        }
                        if !complete {
                            message.push_str(&format!(
                                " Stopped at the limit of {MAX_SYNC_REQUESTS} requests: the CRM may list more users, so nobody was removed."
                            ));
                        }
                        Ok(UserSyncReport {
                            pages: fetched.pages,
                            users: rows.len(),
                            added: counts.added,
                            updated: counts.updated,
                            unchanged: counts.unchanged,
                            removed: counts.removed,
                            associations_removed: counts.associations_removed,
                            complete,
                            message,
                        })
                    }
                    Err(error) => Err(format!("storing the users failed: {error}")),
                }
            }
            Err(error) => Err(connected.mask(&format!("{error}. Nothing was changed."))),
        };
        self.record_activity(
            connected,
            "UserAssociation",
            origin::SYNC,
            started,
            &stats,
            result.as_ref().err().map(String::as_str),
        )
        .await;
        result
    }

    /// The sync under way for the integration, if any.
    pub async fn user_sync_progress(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncProgress, IntegrationError> {
        // Asked twice a second while a sync runs: the rows only, no template parsed and no
        // secret opened.
        let (_, integration) = self
            .connected_rows(provider, key, "User Association")
            .await?;
        let job = self.user_syncs.lock().get(&integration.id).cloned();
        Ok(match job {
            Some(job) => {
                let p = *job.progress.lock().unwrap_or_else(|e| e.into_inner());
                UserSyncProgress {
                    running: true,
                    pages: p.pages,
                    users: p.users,
                }
            }
            None => UserSyncProgress::default(),
        })
    }

    /// A page of the integration's CRM users.
    pub async fn crm_users(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CrmUsersPage, IntegrationError> {
        let (_, integration) = self
            .connected_rows(provider, key, "User Association")
            .await?;
        let (rows, total) = self
            .crm_users
            .list(integration.id, search, offset, CRM_USERS_PAGE_ROWS)
            .await?;
        let ids: Vec<i32> = rows.iter().map(|m| m.id).collect();
        let mut numbers = self.associations.numbers_of(&ids).await?;
        Ok(CrmUsersPage {
            users: rows
                .into_iter()
                .map(|m| CrmUserRow {
                    extensions: numbers.remove(&m.id).unwrap_or_default(),
                    crm_id: m.crm_id,
                    first_name: m.first_name,
                    last_name: m.last_name,
                    email: m.email,
                })
                .collect(),
            total,
            offset,
        })
    }
}
