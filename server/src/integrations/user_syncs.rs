//! The CRM user syncs running in this process (one per integration; a second Sync joins
//! it), kept apart from the sync itself (`users`) so the service that holds them needs
//! nothing else of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::integrations::UserSyncReport;
use tokio::sync::watch;

use crate::engine::users::SyncProgress;

pub(super) type Outcome = Option<Result<UserSyncReport, String>>;

pub(super) struct Job {
    pub(super) progress: Mutex<SyncProgress>,
    pub(super) done: watch::Sender<Outcome>,
}

/// The syncs running in this process, by integration id.
#[derive(Default)]
pub struct UserSyncs {
    running: Mutex<HashMap<i32, Arc<Job>>>,
}

/// Ends a job when its task ends, however it ends: the entry leaves the map and a waiter
/// that got no result hears that there is none.
pub(super) struct JobEnds {
    pub(super) syncs: Arc<UserSyncs>,
    pub(super) id: i32,
    pub(super) job: Arc<Job>,
}

impl Drop for JobEnds {
    fn drop(&mut self) {
        self.syncs.lock().remove(&self.id);
        self.job.done.send_if_modified(|outcome| {
            if outcome.is_none() {
                *outcome = Some(Err(
                    "the sync stopped before it finished; nothing was changed".into(),
                ));
                true
            } else {
                false
            }
        });
    }
}

impl UserSyncs {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Arc<Job>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}
