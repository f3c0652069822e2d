//! The call feed: every change to a call on an extension, stored in order
//! (`storage::call_feed`) and pushed to the agents' streams open in this process.
//!
//! One `patchbay serve` on SQLite pushes what it writes straight from memory. On
//! PostgreSQL each row is announced with `NOTIFY` as it commits and every instance's
//! listener pushes what it hears, its own rows included, so an agent connected to any
//! instance sees every call whichever instance took the event. A stream that misses
//! something (it fell behind, the listener reconnected, the page lost its connection)
//! reconnects and asks for what came after the last id it saw.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::agents::{fold_calls, AgentCall, CallUpdate, IntegrationContacts, RECENT_CALLS};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::broadcast;

use crate::storage::call_feed::{announced, CallFeedRepository, FeedRow, NewFeedRow, FEED_CHANNEL};

/// The largest update stored and pushed, as JSON: it must fit a PostgreSQL `NOTIFY`
/// payload (8,000 bytes) with its id. Longer ones lose contacts from the end of their
/// list, then their links (`bounded`).
pub const MAX_UPDATE_BYTES: usize = 7_000;
/// Longest text kept of a number, a name or an integration's name.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest lookup error kept (masked already); cut to [`MAX_TEXT_CHARS`] when the update
/// is still too long.
pub const MAX_ERROR_CHARS: usize = 1_000;
/// Contacts one integration's update lists (the agent picks among them).
pub const MAX_POPUP_CONTACTS: usize = 10;
/// Streams one account may hold open at once (tabs, devices).
pub const MAX_STREAMS_PER_ACCOUNT: usize = 8;
/// Streams one process holds open at once.
pub const MAX_STREAMS: usize = 5_000;
/// Updates a stream may fall behind before it is closed (the page reconnects and catches
/// up from the stored feed).
pub const STREAM_BUFFER: usize = 4_096;
/// Updates a reconnecting page is sent at most; further behind, it reloads its list.
pub const MAX_REPLAY: u64 = 500;
/// Rows of the feed read for the recent calls (a call has a few).
pub const RECENT_ROWS: u64 = 1_000;
/// How long the PostgreSQL listener waits before listening again after a failure.
pub const LISTEN_RETRY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("call feed storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error("this account already has {MAX_STREAMS_PER_ACCOUNT} call streams open; close a tab")]
    TooManyForAccount,
    #[error("the server holds {MAX_STREAMS} call streams; try again later")]
    TooMany,
}

/// The feed: its storage and this process's streams.
#[derive(Clone)]
pub struct CallFeed {
    repo: CallFeedRepository,
    sender: broadcast::Sender<Arc<CallUpdate>>,
    streams: Arc<Mutex<HashMap<i32, usize>>>,
}

/// An open stream's place, given back when it is dropped.
pub struct Subscription {
    pub updates: broadcast::Receiver<Arc<CallUpdate>>,
    account_id: i32,
    streams: Arc<Mutex<HashMap<i32, usize>>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = streams.get_mut(&self.account_id) {
            *count -= 1;
            if *count == 0 {
                streams.remove(&self.account_id);
            }
        }
    }
}

impl CallFeed {
    pub fn new(repo: CallFeedRepository) -> Self {
        let (sender, _) = broadcast::channel(STREAM_BUFFER);
        CallFeed {
            repo,
            sender,
            streams: Arc::default(),
        }
    }

    /// Stores `updates` (each bounded) and pushes them: here at once on SQLite, through
    /// every instance's listener on PostgreSQL.
    pub async fn publish(&self, updates: Vec<CallUpdate>) -> Result<(), DbErr> {
        if updates.is_empty() {
            return Ok(());
        }
        let bounded: Vec<(CallUpdate, String)> = updates.into_iter().map(bounded).collect();
        let rows = bounded
            .iter()
            .map(|(update, body)| NewFeedRow {
                extension: update.extension.clone(),
                call_id: update.call_id.clone(),
                at_ms: update.at_ms,
                body: body.clone(),
            })
            .collect();
        let written = self.repo.append(rows).await?;
        if !self.repo.is_postgres() {
            for ((mut update, _), row) in bounded.into_iter().zip(written) {
                update.id = row.id;
                // No stream open is no error.
                let _ = self.sender.send(Arc::new(update));
            }
        }
        Ok(())
    }

    /// Publishes `updates`, logging a failure: the call's work goes on without the page.
    pub async fn publish_or_log(&self, updates: Vec<CallUpdate>) {
        if let Err(error) = self.publish(updates).await {
            tracing::warn!(%error, "cannot write the call feed");
        }
    }

    /// Pushes a row the PostgreSQL listener heard.
    fn push(&self, row: &FeedRow) {
        if let Some(update) = parse(row) {
            // No stream open is no error.
            let _ = self.sender.send(Arc::new(update));
        }
    }

    /// A stream's place for `account_id`, within [`MAX_STREAMS_PER_ACCOUNT`] and
    /// [`MAX_STREAMS`]. Subscribed before the replay is read, so nothing falls between.
    pub fn subscribe(&self, account_id: i32) -> Result<Subscription, FeedError> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if streams.values().sum::<usize>() >= MAX_STREAMS {
            return Err(FeedError::TooMany);
        }
        let count = streams.entry(account_id).or_default();
        if *count >= MAX_STREAMS_PER_ACCOUNT {
            return Err(FeedError::TooManyForAccount);
        }
        *count += 1;
        Ok(Subscription {
            updates: self.sender.subscribe(),
            account_id,
            streams: self.streams.clone(),
        })
    }

    /// Streams open in this process.
    pub fn open_streams(&self) -> usize {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// What came for `extensions` after `after_id`, oldest first; `false` when more came
    /// than [`MAX_REPLAY`] (the page reloads its list instead).
    pub async fn replay(
        &self,
        extensions: &[String],
        after_id: i64,
    ) -> Result<(Vec<CallUpdate>, bool), DbErr> {
        let rows = self
            .repo
            .after(extensions, after_id, MAX_REPLAY + 1)
            .await?;
        let complete = rows.len() as u64 <= MAX_REPLAY;
        Ok((
            rows.iter()
                .take(MAX_REPLAY as usize)
                .filter_map(parse)
                .collect(),
            complete,
        ))
    }

    /// The recent calls on `extensions`, newest first.
    pub async fn recent(&self, extensions: &[String]) -> Result<Vec<AgentCall>, DbErr> {
        if extensions.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.repo.latest(extensions, RECENT_ROWS).await?;
        let updates: Vec<CallUpdate> = rows.iter().filter_map(parse).collect();
        Ok(fold_calls(&updates, RECENT_CALLS))
    }

    /// One call on one extension, as its updates add up.
    pub async fn call(&self, extension: &str, call_id: &str) -> Result<Option<AgentCall>, DbErr> {
        let rows = self.repo.of_call(extension, call_id).await?;
        let updates: Vec<CallUpdate> = rows.iter().filter_map(parse).collect();
        Ok(fold_calls(&updates, 1).into_iter().next())
    }

    /// The newest update's id: a page's stream goes on from there.
    pub async fn last_id(&self) -> Result<i64, DbErr> {
        self.repo.last_id().await
    }

    pub async fn prune(&self, before_ms: i64) -> Result<u64, DbErr> {
        self.repo.prune(before_ms).await
    }

    /// On PostgreSQL: listens to [`FEED_CHANNEL`] for as long as the process runs and
    /// pushes what it hears to this process's streams. Nothing to do on SQLite.
    pub fn spawn_listener(&self, db: &DatabaseConnection) {
        if !self.repo.is_postgres() {
            return;
        }
        let pool = db.get_postgres_connection_pool().clone();
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = feed.listen(&pool).await {
                    tracing::warn!(%error, "the call feed's listener stopped; listening again");
                }
                tokio::time::sleep(LISTEN_RETRY).await;
            }
        });
    }

    async fn listen(&self, pool: &sea_orm::sqlx::PgPool) -> Result<(), sea_orm::sqlx::Error> {
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(FEED_CHANNEL).await?;
        loop {
            let notification = listener.recv().await?;
            match announced(notification.payload()) {
                Some(row) => self.push(&row),
                None => tracing::warn!("an unreadable call feed announcement was ignored"),
            }
        }
    }
}

/// The update a row holds, with the row's id.
fn parse(row: &FeedRow) -> Option<CallUpdate> {
    let mut update: CallUpdate = serde_json::from_str(&row.body).ok()?;
    update.id = row.id;
    Some(update)
}

/// `update` within [`MAX_UPDATE_BYTES`], with its JSON: texts cut to [`MAX_TEXT_CHARS`]
/// (a lookup's error to [`MAX_ERROR_CHARS`]), contacts to [`MAX_POPUP_CONTACTS`]; then,
/// while still too long, contacts dropped from the end, and finally the recording's link.
pub fn bounded(mut update: CallUpdate) -> (CallUpdate, String) {
    for text in [&mut update.call_id, &mut update.extension] {
        cut(text, MAX_TEXT_CHARS);
    }
    for text in [&mut update.party_number, &mut update.party_name]
        .into_iter()
        .flatten()
    {
        cut(text, MAX_TEXT_CHARS);
    }
    if let Some(work) = &mut update.work {
        cut(&mut work.integration, MAX_TEXT_CHARS);
    }
    if let Some(contacts) = &mut update.contacts {
        bound_contacts(contacts);
    }
    let json = |u: &CallUpdate| serde_json::to_string(u).unwrap_or_default();
    let mut body = json(&update);
    while body.len() > MAX_UPDATE_BYTES
        && update
            .contacts
            .as_mut()
            .is_some_and(|c| c.found.pop().is_some())
    {
        body = json(&update);
    }
    if body.len() > MAX_UPDATE_BYTES {
        update.recording_url = None;
        if let Some(error) = update.contacts.as_mut().and_then(|c| c.error.as_mut()) {
            cut(error, MAX_TEXT_CHARS);
        }
        body = json(&update);
    }
    (update, body)
}

/// Cuts `text` to its first `max` characters.
fn cut(text: &mut String, max: usize) {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
    }
}

fn bound_contacts(contacts: &mut IntegrationContacts) {
    contacts.found.truncate(MAX_POPUP_CONTACTS);
    contacts.creatable.truncate(MAX_POPUP_CONTACTS);
    cut(&mut contacts.integration, MAX_TEXT_CHARS);
    for contact in &mut contacts.found {
        cut(&mut contact.name, MAX_TEXT_CHARS);
        cut(&mut contact.company, MAX_TEXT_CHARS);
        cut(&mut contact.contact_type, MAX_TEXT_CHARS);
    }
    for kind in &mut contacts.creatable {
        cut(kind, MAX_TEXT_CHARS);
    }
    if let Some(error) = &mut contacts.error {
        cut(error, MAX_ERROR_CHARS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::agents::PopupContact;

    #[test]
    fn an_update_too_long_for_a_notification_loses_contacts_until_it_fits() {
        let contact = PopupContact {
            name: "n".repeat(500),
            company: "Acme".into(),
            contact_type: "Contacts".into(),
            popup_url: Some(format!("https://crm.example.com/{}", "x".repeat(1_500))),
        };
        let update = CallUpdate {
            call_id: "c".repeat(5_000),
            extension: "1001".into(),
            contacts: Some(IntegrationContacts {
                found: vec![contact; 40],
                ..IntegrationContacts::default()
            }),
            ..CallUpdate::default()
        };
        let (bounded, text) = bounded(update);
        assert_eq!(text, serde_json::to_string(&bounded).unwrap());
        assert!(text.len() <= MAX_UPDATE_BYTES, "{} bytes", text.len());
        let found = &bounded.contacts.unwrap().found;
        assert!(!found.is_empty() && found.len() < MAX_POPUP_CONTACTS);
        assert_eq!(found[0].name.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(bounded.call_id.chars().count(), MAX_TEXT_CHARS);
    }

    #[tokio::test]
    async fn an_account_holds_at_most_its_streams_and_gets_them_back_when_they_close() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let feed = CallFeed::new(CallFeedRepository::new(db));
        let held: Vec<Subscription> = (0..MAX_STREAMS_PER_ACCOUNT)
            .map(|_| feed.subscribe(1).unwrap())
            .collect();
        assert!(matches!(
            feed.subscribe(1),
            Err(FeedError::TooManyForAccount)
        ));
        assert!(
            feed.subscribe(2).is_ok(),
            "another account is not held back"
        );
        drop(held);
        assert_eq!(feed.open_streams(), 0);
        assert!(feed.subscribe(1).is_ok());
    }
}
