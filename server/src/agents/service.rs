//! The Calls page and the accounts' extensions (README "Agents and the call popup"): an
//! account sees the calls of the extensions it answers, and nothing of others'; it sets
//! those extensions' popup settings and creates a contact by hand for a call on them.
//! Administrators link accounts to extensions, by hand or by matching e-mail addresses.

use std::collections::{BTreeMap, BTreeSet};

use app::agents::{
    CallUpdate, CallsPage, ExtensionMatch, IntegrationContacts, NewContactInput, PopupMethod,
    PopupSettings, PopupTrigger, MAX_EXTENSIONS_PER_ACCOUNT,
};
use app::calls::{Call, CallDirection, ExtensionUser};
use sea_orm::DbErr;

use super::feed::{CallFeed, FeedError};
use crate::engine::scenario::NewContact;
use crate::integrations::service::{IntegrationError, IntegrationsService};
use crate::storage::accounts::AccountRepository;
use crate::storage::agents::{AgentRepository, StoredPopup};
use crate::storage::extensions::ExtensionRepository;

/// Longest name an agent types for a new contact.
pub const MAX_CONTACT_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The extension is not one the account answers.
    #[error("extension {0} is not one of yours")]
    NotYours(String),
    #[error("no call {call_id} on extension {extension}")]
    CallNotFound { call_id: String, extension: String },
    #[error(transparent)]
    Integration(#[from] IntegrationError),
    #[error(transparent)]
    Feed(#[from] FeedError),
}

fn invalid(field: &str, message: impl Into<String>) -> AgentError {
    AgentError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Clone)]
pub struct AgentsService {
    pub repo: AgentRepository,
    pub feed: CallFeed,
    pub integrations: IntegrationsService,
    pub extensions: ExtensionRepository,
    pub accounts: AccountRepository,
}

impl AgentsService {
    /// The numbers the account answers.
    pub async fn extensions_of(&self, account_id: i32) -> Result<Vec<String>, AgentError> {
        Ok(self.repo.extensions_of(account_id).await?)
    }

    /// The extensions an open stream goes on showing: `None` once the account is disabled
    /// or deleted (the stream ends).
    pub async fn still_answers(&self, account_id: i32) -> Result<Option<Vec<String>>, AgentError> {
        match self.accounts.find(account_id).await? {
            Some(account) if !account.disabled => {
                Ok(Some(self.repo.extensions_of(account_id).await?))
            }
            _ => Ok(None),
        }
    }

    /// The account's Calls page: its extensions with their popup settings, its recent
    /// calls, and the id its live stream goes on from.
    pub async fn calls_page(&self, account_id: i32) -> Result<CallsPage, AgentError> {
        let extensions = self.repo.extensions_with_popups(account_id).await?;
        // Read first: an update written meanwhile is in the list and sent again on the
        // stream, where the page sees it has it; read last, it would be missed.
        let last_id = self.feed.last_id().await?;
        let numbers: Vec<String> = extensions
            .iter()
            .map(|(number, _)| number.clone())
            .collect();
        let extensions = extensions
            .into_iter()
            .map(|(number, popup)| match popup {
                Some(popup) => PopupSettings {
                    extension: number,
                    method: PopupMethod::parse(&popup.method).unwrap_or_default(),
                    trigger: PopupTrigger::parse(&popup.trigger).unwrap_or_default(),
                },
                None => PopupSettings {
                    extension: number,
                    ..PopupSettings::default()
                },
            })
            .collect();
        Ok(CallsPage {
            extensions,
            calls: self.feed.recent(&numbers).await?,
            last_id,
        })
    }

    /// Saves the popup settings of one of the account's extensions.
    pub async fn save_popup(
        &self,
        account_id: i32,
        settings: &PopupSettings,
    ) -> Result<(), AgentError> {
        self.own(account_id, &settings.extension).await?;
        self.repo
            .save_popup(
                &StoredPopup {
                    number: settings.extension.clone(),
                    method: settings.method.as_str().into(),
                    trigger: settings.trigger.as_str().into(),
                },
                crate::clock::unix_now(),
            )
            .await?;
        Ok(())
    }

    /// Creates the contact an agent typed for a call on one of their extensions, and tells
    /// every page showing the call what the integration finds now.
    pub async fn create_contact(
        &self,
        account_id: i32,
        input: &NewContactInput,
    ) -> Result<IntegrationContacts, AgentError> {
        self.own(account_id, &input.extension).await?;
        let call = self
            .feed
            .call(&input.extension, &input.call_id)
            .await?
            .ok_or_else(|| AgentError::CallNotFound {
                call_id: input.call_id.clone(),
                extension: input.extension.clone(),
            })?;
        let first_name = input.first_name.trim();
        let last_name = input.last_name.trim();
        if first_name.is_empty() && last_name.is_empty() {
            return Err(invalid("first_name", "give the contact a name"));
        }
        for (field, value) in [("first_name", first_name), ("last_name", last_name)] {
            if value.chars().count() > MAX_CONTACT_NAME_CHARS {
                return Err(invalid(
                    field,
                    format!("at most {MAX_CONTACT_NAME_CHARS} characters"),
                ));
            }
        }
        if call.party_number.is_empty() {
            return Err(invalid("number", "the call has no number to save"));
        }
        // The number is the call's: the form shows it, the agent names the contact.
        let contact = NewContact {
            number: call.party_number.clone(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
        };
        let extension = ExtensionUser {
            number: input.extension.clone(),
            ..ExtensionUser::default()
        };
        let (caller_number, callee_number) = match call.direction {
            CallDirection::Inbound => (call.party_number.clone(), input.extension.clone()),
            CallDirection::Outbound | CallDirection::Internal => {
                (input.extension.clone(), call.party_number.clone())
            }
        };
        let as_call = Call {
            direction: call.direction,
            extension,
            caller_number,
            callee_number,
            start_unix: call.started_ms / 1_000,
            ..Call::default()
        };
        let found = self
            .integrations
            .create_contact_by_hand(
                input.integration_id,
                &as_call,
                &contact,
                &input.contact_type,
            )
            .await?;
        self.feed
            .publish_or_log(vec![CallUpdate {
                call_id: call.call_id.clone(),
                extension: call.extension.clone(),
                at_ms: crate::clock::unix_now_ms(),
                contacts: Some(found.clone()),
                ..CallUpdate::default()
            }])
            .await;
        Ok(found)
    }

    /// Makes `numbers` the extensions `account_id` answers: each in the directory, at most
    /// [`MAX_EXTENSIONS_PER_ACCOUNT`]. Answers them as stored.
    pub async fn set_account_extensions(
        &self,
        account_id: i32,
        numbers: &[String],
    ) -> Result<Vec<String>, AgentError> {
        if self.accounts.find(account_id).await?.is_none() {
            return Err(invalid("account", "no such account"));
        }
        let wanted: BTreeSet<String> = numbers
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if wanted.len() > MAX_EXTENSIONS_PER_ACCOUNT {
            return Err(invalid(
                "extensions",
                format!("an account answers at most {MAX_EXTENSIONS_PER_ACCOUNT} extensions"),
            ));
        }
        for number in &wanted {
            if self.extensions.find(number).await?.is_none() {
                return Err(invalid(
                    "extensions",
                    format!("extension {number} is not in the directory"),
                ));
            }
        }
        let wanted: Vec<String> = wanted.into_iter().collect();
        self.repo.set_extensions(account_id, &wanted).await?;
        Ok(wanted)
    }

    /// Every account's extensions.
    pub async fn account_links(&self) -> Result<BTreeMap<i32, Vec<String>>, AgentError> {
        Ok(self.repo.all_links().await?)
    }

    /// Accounts whose e-mail address is an extension's in the directory, with the numbers
    /// they do not answer yet.
    pub async fn extension_matches(&self) -> Result<Vec<ExtensionMatch>, AgentError> {
        self.matches_beside(&self.repo.all_links().await?).await
    }

    /// The matches of accounts whose extensions are `links` now.
    async fn matches_beside(
        &self,
        links: &BTreeMap<i32, Vec<String>>,
    ) -> Result<Vec<ExtensionMatch>, AgentError> {
        let mut by_email: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for extension in self.extensions.all().await? {
            let email = extension.email.trim().to_lowercase();
            if !email.is_empty() {
                by_email.entry(email).or_default().push(extension.number);
            }
        }
        let mut matches = Vec::new();
        for account in self.accounts.list().await? {
            let Some(numbers) = by_email.get(&account.email.to_lowercase()) else {
                continue;
            };
            let linked = links.get(&account.id);
            let numbers: Vec<String> = numbers
                .iter()
                .filter(|n| !linked.is_some_and(|l| l.contains(n)))
                .cloned()
                .collect();
            if !numbers.is_empty() && !account.disabled {
                matches.push(ExtensionMatch {
                    account_id: account.id,
                    email: account.email,
                    numbers,
                });
            }
        }
        Ok(matches)
    }

    /// Links every match of [`Self::extension_matches`] (added to what each account
    /// answers); answers how many extensions were linked.
    pub async fn link_matches(&self) -> Result<usize, AgentError> {
        let links = self.repo.all_links().await?;
        let mut linked = 0;
        for found in self.matches_beside(&links).await? {
            let mut numbers = links.get(&found.account_id).cloned().unwrap_or_default();
            linked += found.numbers.len();
            numbers.extend(found.numbers);
            numbers.truncate(MAX_EXTENSIONS_PER_ACCOUNT);
            self.repo.set_extensions(found.account_id, &numbers).await?;
        }
        Ok(linked)
    }

    /// Refuses an extension the account does not answer.
    async fn own(&self, account_id: i32, extension: &str) -> Result<(), AgentError> {
        if self
            .repo
            .extensions_of(account_id)
            .await?
            .iter()
            .any(|n| n == extension)
        {
            Ok(())
        } else {
            Err(AgentError::NotYours(extension.to_owned()))
        }
    }
}
