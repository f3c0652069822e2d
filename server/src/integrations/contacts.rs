//! One integration's contact lookup through its contact cache, Patchbay's phonebook
//! (docs/scenarios.md "Contacts, the cache and number formats"). With Always Query off a
//! contact read less than the Features' age ago is taken from the cache and the CRM is not
//! asked; otherwise the CRM is asked and the cache refreshed. The contact the rule chose is
//! cached; a number that matched none, or several where the rule refuses or lists them, is
//! asked every time.

use app::console::FoundContact;
use app::integrations::{
    CachedContactRow, CachedContactsPage, ContactFeatures, MatchRule, PHONEBOOK_PAGE_ROWS,
};
use app::template::model::Provider;

use super::service::{IntegrationError, IntegrationsService, ReadyIntegration};
use crate::engine::core::Variables;
use crate::engine::lookup::{Lookup, LookupPlan};
use crate::engine::runner::{Runner, StepError};
use crate::storage::unix_now;

/// Whether a contact read at `read_at` may answer now without asking the CRM.
pub fn fresh(features: &ContactFeatures, read_at: i64, now: i64) -> bool {
    !features.always_query
        && now.saturating_sub(read_at) < i64::from(features.cache_minutes).saturating_mul(60)
}

/// Whether a lookup's answer is kept: the contact the rule chose, unless the rule lists
/// several for the agent (a cached answer would list one).
fn cacheable(features: &ContactFeatures, lookup: &Lookup) -> bool {
    lookup.contact.is_some()
        && (lookup.matches == 1 || features.several_matches == MatchRule::First)
}

impl IntegrationsService {
    /// Looks `phone` up for `connected`: from the cache when fresh, else from the CRM.
    pub(super) async fn find_contact(
        &self,
        connected: &ReadyIntegration,
        runner: &Runner<'_>,
        variables: &Variables,
        phone: &str,
    ) -> Result<Option<Lookup>, StepError> {
        let features = &connected.integration.features.contacts;
        let id = connected.integration.id;
        // The number is read once: its cache key and the formats the CRM is asked in.
        let plan = LookupPlan::new(features, phone);
        let key = plan.cache_key.clone();
        if !features.always_query {
            match self.contact_cache.get(id, &key).await {
                Ok(Some(cached)) if fresh(features, cached.read_at, unix_now()) => {
                    let age_minutes = unix_now().saturating_sub(cached.read_at) / 60;
                    runner.note(format!(
                        "from the contact cache (read {age_minutes} min ago)"
                    ));
                    return Ok(Some(Lookup {
                        contact: Some(cached.contact.clone()),
                        candidates: vec![cached.contact],
                        matches: 1,
                        number: cached.number,
                        cached_at: Some(cached.read_at),
                    }));
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(integration = id, %error, "cannot read the contact cache; asking the CRM")
                }
            }
        }
        let found = runner.lookup(variables, &plan).await?;
        let result = match &found {
            Some(lookup) if cacheable(features, lookup) => match &lookup.contact {
                Some(contact) => self.cache(id, &key, phone, contact).await,
                None => Ok(()),
            },
            _ => self.contact_cache.remove(id, &key).await,
        };
        if let Err(error) = result {
            tracing::warn!(integration = id, %error, "cannot update the contact cache");
        }
        Ok(found)
    }

    /// A page of the phonebook, newest first, searched by name or number.
    pub async fn cached_contacts(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CachedContactsPage, IntegrationError> {
        let (_, integration) = self.connected_rows(provider, key, "Phonebook").await?;
        let page = self
            .contact_cache
            .page(integration.id, search, offset, PHONEBOOK_PAGE_ROWS)
            .await?;
        Ok(CachedContactsPage {
            contacts: page
                .contacts
                .into_iter()
                .map(|cached| CachedContactRow {
                    name: crate::storage::contact_cache::display_name(&cached.contact.fields),
                    number: cached.number,
                    contact_type: cached.contact.contact_type,
                    popup_url: cached.contact.popup_url,
                    read_at: cached.read_at,
                })
                .collect(),
            total: page.total,
            offset,
        })
    }

    /// Empties the phonebook; answers how many entries went.
    pub async fn clear_contact_cache(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<u64, IntegrationError> {
        let (_, integration) = self.connected_rows(provider, key, "Phonebook").await?;
        let cleared = self.contact_cache.clear(integration.id).await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, cleared, "contact cache cleared");
        Ok(cleared)
    }

    async fn cache(
        &self,
        integration_id: i32,
        key: &str,
        number: &str,
        contact: &FoundContact,
    ) -> Result<(), sea_orm::DbErr> {
        self.contact_cache
            .put(integration_id, key, number, contact, unix_now())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_contact_is_kept_unless_the_rule_lists_several() {
        let contact = FoundContact {
            contact_type: "Contacts".into(),
            fields: Default::default(),
            popup_url: None,
        };
        let lookup = |matches: usize, chosen: bool| Lookup {
            contact: chosen.then(|| contact.clone()),
            candidates: vec![contact.clone()],
            matches,
            number: "5550100".into(),
            cached_at: None,
        };
        let rule = |several_matches: MatchRule| ContactFeatures {
            several_matches,
            ..ContactFeatures::default()
        };
        assert!(cacheable(&rule(MatchRule::First), &lookup(1, true)));
        assert!(cacheable(&rule(MatchRule::First), &lookup(3, true)));
        assert!(!cacheable(&rule(MatchRule::Refuse), &lookup(3, false)));
        assert!(cacheable(&rule(MatchRule::Refuse), &lookup(1, true)));
        assert!(!cacheable(&rule(MatchRule::All), &lookup(2, true)));
    }

    #[test]
    fn a_cached_contact_answers_until_it_is_older_than_the_features_say() {
        let features = ContactFeatures {
            cache_minutes: 60,
            ..ContactFeatures::default()
        };
        assert!(fresh(&features, 1_000, 1_000 + 3_599));
        assert!(!fresh(&features, 1_000, 1_000 + 3_600));
        let always = ContactFeatures {
            always_query: true,
            ..features.clone()
        };
        assert!(!fresh(&always, 1_000, 1_000));
        let never = ContactFeatures {
            cache_minutes: 0,
            ..features
        };
        assert!(!fresh(&never, 1_000, 1_000));
    }
}
