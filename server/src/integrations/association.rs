//! The user association (README "User association"): which extensions each CRM user of an
//! integration answers for. Associate Automatically pairs extensions and users that share
//! an e-mail; by hand, a user's extensions are set as a whole. An extension belongs to at
//! most one user per integration: a change that would take one from another user is
//! refused with who has it, never applied silently.

use std::collections::{BTreeMap, BTreeSet};

use app::calls::ExtensionUser;
use app::integrations::AutoAssociation;
use app::template::model::Provider;

use super::service::{IntegrationError, IntegrationsService};
use crate::storage::associations::Pair;

/// The most extensions one CRM user is given at once by hand.
pub const MAX_USER_EXTENSIONS: usize = 1_000;

/// A CRM user as matching sees them.
pub struct UserEmail {
    pub id: i32,
    pub email: String,
}

/// An extension as matching sees it.
pub struct ExtensionEmail {
    pub id: i32,
    pub number: String,
    pub email: String,
}

/// E-mails compare trimmed and without regard to case.
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What Associate Automatically does, decided without I/O: every extension whose e-mail is
/// a user's gets that user, unless another user already has it (a conflict, left alone).
/// Answers the pairs to add (user, extension) and the counts the confirmation shows.
pub fn plan_automatic(
    users: &[UserEmail],
    extensions: &[ExtensionEmail],
    existing: &[Pair],
) -> (Vec<(i32, i32)>, AutoAssociation) {
    let mut by_email: BTreeMap<String, Vec<&ExtensionEmail>> = BTreeMap::new();
    for extension in extensions {
        let key = email_key(&extension.email);
        if !key.is_empty() {
            by_email.entry(key).or_default().push(extension);
        }
    }
    let holder: BTreeMap<i32, i32> = existing
        .iter()
        .map(|p| (p.extension_id, p.crm_user_id))
        .collect();
    let mut pairs = Vec::new();
    let mut summary = AutoAssociation::default();
    let mut conflicts = BTreeSet::new();
    for user in users {
        let key = email_key(&user.email);
        let matches = by_email.get(&key).filter(|_| !key.is_empty());
        let Some(matches) = matches else {
            summary.unmatched += 1;
            continue;
        };
        let before = pairs.len();
        for extension in matches {
            match holder.get(&extension.id) {
                Some(holder) if *holder == user.id => summary.already += 1,
                Some(_) => {
                    conflicts.insert(extension.number.clone());
                }
                None => pairs.push((user.id, extension.id)),
            }
        }
        if pairs.len() > before {
            summary.users += 1;
        }
    }
    summary.associated = pairs.len();
    summary.conflicts = conflicts.into_iter().collect();
    (pairs, summary)
}

impl IntegrationsService {
    /// Associate Automatically: `apply` false answers what it would do (for the
    /// confirmation), true does it.
    pub async fn associate_automatically(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        apply: bool,
    ) -> Result<AutoAssociation, IntegrationError> {
        let (_, integration) = self
            .connected_rows(provider, key, "User Association")
            .await?;
        let users: Vec<UserEmail> = self
            .crm_users
            .all(integration.id)
            .await?
            .into_iter()
            .map(|u| UserEmail {
                id: u.id,
                email: u.email,
            })
            .collect();
        let extensions: Vec<ExtensionEmail> = self
            .extensions
            .all_models()
            .await?
            .into_iter()
            .map(|e| ExtensionEmail {
                id: e.id,
                number: e.number,
                email: e.email,
            })
            .collect();
        let existing = self.associations.all(integration.id).await?;
        let (pairs, mut summary) = plan_automatic(&users, &extensions, &existing);
        if apply && !pairs.is_empty() {
            self.associations.add(integration.id, &pairs).await?;
            tracing::info!(%actor, provider = provider.as_str(), %key, associated = pairs.len(), "extensions associated automatically");
        }
        summary.applied = apply;
        Ok(summary)
    }

    /// After an extension sync from the PBX: in every connected integration whose Features
    /// ask for it (User Association › after each extension sync), its CRM users synced and
    /// extensions associated automatically. One line per such integration, saying what
    /// happened; a failure in one does not stop the others.
    pub async fn after_extension_sync(&self) -> Result<Vec<String>, IntegrationError> {
        const ACTOR: &str = "extension sync";
        let mut lines = Vec::new();
        for connected in self.connected_integrations().await? {
            if !connected.integration.features.users.after_extension_sync
                || !connected.in_use.lists_users()
            {
                continue;
            }
            let (provider, key) = (connected.provider, connected.key.as_str());
            let line = match self.sync_users(ACTOR, provider, key).await {
                Ok(_) => match self
                    .associate_automatically(ACTOR, provider, key, true)
                    .await
                {
                    Ok(summary) => format!(
                        "{key}: users synced, {} extension(s) associated",
                        summary.associated
                    ),
                    Err(error) => format!("{key}: association failed: {error}"),
                },
                Err(error) => format!("{key}: user sync failed: {error}"),
            };
            lines.push(line);
        }
        Ok(lines)
    }

    /// Makes `numbers` exactly the extensions of the CRM user `crm_id`. Refused, changing
    /// nothing, when a number is not in the directory or another user has it.
    pub async fn associate(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        crm_id: &str,
        numbers: &[String],
    ) -> Result<Vec<String>, IntegrationError> {
        let (_, integration) = self
            .connected_rows(provider, key, "User Association")
            .await?;
        let user = self
            .crm_users
            .find(integration.id, crm_id)
            .await?
            .ok_or_else(|| {
                IntegrationError::invalid(
                    "CRM user",
                    format!("{crm_id:?} is not listed: sync the users again"),
                )
            })?;
        let mut numbers: Vec<String> = numbers
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        numbers.sort();
        numbers.dedup();
        if numbers.len() > MAX_USER_EXTENSIONS {
            return Err(IntegrationError::invalid(
                "Extensions",
                format!("are more than {MAX_USER_EXTENSIONS}, the most one CRM user answers for"),
            ));
        }
        let wanted: BTreeSet<i32> = self
            .extensions
            .ids_of_all(&numbers)
            .await?
            .map_err(|unknown| {
                IntegrationError::invalid(
                    "Extensions",
                    format!("not in the directory: {}", unknown.join(", ")),
                )
            })?
            .into_iter()
            .collect();
        let existing = self.associations.all(integration.id).await?;
        let taken: Vec<&Pair> = existing
            .iter()
            .filter(|p| p.crm_user_id != user.id && wanted.contains(&p.extension_id))
            .collect();
        if !taken.is_empty() {
            let mut holders = Vec::new();
            for pair in &taken {
                let name = self
                    .crm_users
                    .by_row_id(pair.crm_user_id)
                    .await?
                    .map(|u| display_name(&u.first_name, &u.last_name, &u.crm_id))
                    .unwrap_or_default();
                holders.push(format!("{} is associated with {name}", pair.number));
            }
            return Err(IntegrationError::Conflict(format!(
                "{}. An extension answers for one CRM user per integration: remove it there first.",
                holders.join("; ")
            )));
        }
        let extension_ids: Vec<i32> = wanted.into_iter().collect();
        self.associations
            .replace_user(integration.id, user.id, &extension_ids)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, crm_user = %crm_id, extensions = numbers.len(), "extensions associated");
        Ok(numbers)
    }

    /// The extension `number` with the CRM user it is associated with in `integration_id`;
    /// None when it is not in the directory or not associated there.
    pub async fn extension_user(
        &self,
        integration_id: i32,
        number: &str,
    ) -> Result<Option<ExtensionUser>, IntegrationError> {
        Ok(self
            .associations
            .user_of(integration_id, number)
            .await?
            .map(|(extension, user)| ExtensionUser {
                number: extension.number,
                first_name: extension.first_name,
                last_name: extension.last_name,
                email: extension.email,
                crm_user_id: user.crm_id,
            }))
    }
}

/// `First Last`, or the CRM id when the user has no name.
pub fn display_name(first: &str, last: &str, crm_id: &str) -> String {
    let name = format!("{first} {last}");
    let name = name.trim();
    if name.is_empty() {
        crm_id.to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i32, email: &str) -> UserEmail {
        UserEmail {
            id,
            email: email.into(),
        }
    }

    fn extension(id: i32, email: &str) -> ExtensionEmail {
        ExtensionEmail {
            id,
            number: format!("10{id:02}"),
            email: email.into(),
        }
    }

    #[test]
    fn matches_trimmed_emails_ignoring_case_and_leaves_conflicts_alone() {
        let users = [
            user(1, " Ann@Example.com"),
            user(2, "bo@example.com"),
            user(3, ""),
            user(4, "nobody@example.com"),
        ];
        let extensions = [
            extension(1, "ann@example.com "),
            extension(2, "ANN@example.com"),
            extension(3, "bo@example.com"),
            extension(4, ""),
        ];
        // Extension 3 already belongs to user 4; extension 2 already to user 1.
        let existing = [
            Pair {
                crm_user_id: 4,
                extension_id: 3,
                number: "1003".into(),
            },
            Pair {
                crm_user_id: 1,
                extension_id: 2,
                number: "1002".into(),
            },
        ];
        let (pairs, summary) = plan_automatic(&users, &extensions, &existing);
        assert_eq!(pairs, vec![(1, 1)]);
        assert_eq!(
            summary,
            AutoAssociation {
                associated: 1,
                users: 1,
                // An empty e-mail matches nothing, not the extensions without one.
                unmatched: 2,
                already: 1,
                conflicts: vec!["1003".into()],
                applied: false,
            }
        );
    }
}
