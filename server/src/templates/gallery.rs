//! The template gallery: ready-made templates in the vendor's format (`gallery/*.xml`,
//! built into the binary), each written from its CRM's public API documentation and proven
//! against a stand-in of that API (`server/tests/it/gallery_http.rs`). Adding one stores a
//! copy in the provider's list, like an upload: it counts toward the ten.

use std::sync::LazyLock;

use app::gallery::GalleryEntry;
use app::template::xml;

use super::intake::{accept, AcceptedTemplate, Refusal};

/// One template of the gallery.
pub struct GalleryItem {
    pub id: &'static str,
    pub authentication: &'static str,
    pub needs: &'static str,
    pub docs_url: &'static str,
    pub text: &'static str,
}

pub const GALLERY: &[GalleryItem] = &[
    GalleryItem {
        id: "pipedrive",
        authentication: "Personal API token, in the x-api-token header",
        needs: "Your company domain (acme for acme.pipedrive.com) and a personal API token \
            (Personal preferences › API). The token's user needs to see the persons the \
            calls are with; to log calls for colleagues, their account needs the \"account \
            settings\" permission.",
        docs_url: "https://developers.pipedrive.com/docs/api/v1",
        text: include_str!("../../../gallery/pipedrive.xml"),
    },
    GalleryItem {
        id: "hubspot",
        authentication: "Private app access token, as a Bearer token",
        needs: "Your HubSpot account ID (Settings › Account details) and a private app's \
                access token (Settings › Integrations › Private apps) with the scopes \
                crm.objects.contacts.read and .write, crm.objects.owners.read, and the \
                calls' scopes where your account lists them.",
        docs_url: "https://developers.hubspot.com/docs/api/crm/understanding-the-crm",
        text: include_str!("../../../gallery/hubspot.xml"),
    },
    GalleryItem {
        id: "salesforce",
        authentication: "OAuth 2.0 through a connected app; requests go to the org's instance_url",
        needs: "A connected app (Setup › App Manager › New Connected App) with OAuth \
                settings on, the scopes api and refresh_token, and this integration's \
                Redirect URI as its callback URL; its Consumer Key and Secret. A sandbox signs \
                in at test.salesforce.com: change the template's two endpoints.",
        docs_url: "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
        text: include_str!("../../../gallery/salesforce.xml"),
    },
    GalleryItem {
        id: "zoho",
        authentication:
            "OAuth 2.0 through a Zoho API Console client; requests go to the account's api_domain",
        needs: "A server-based client in the Zoho API Console (api-console.zoho.com) with this \
                integration's Redirect URI as its authorized redirect URI; its Client ID and \
                Client Secret. An account in another data center (zoho.eu, .in, .com.au, .jp, \
                .ca) signs in there: change the template's two endpoints and the popup's \
                domain. Calls are logged with their talk time as minutes:seconds \
                (Talk_Duration_MinSec).",
        docs_url: "https://www.zoho.com/crm/developer/docs/api/v2/",
        text: include_str!("../../../gallery/zoho.xml"),
    },
    GalleryItem {
        id: "freshdesk",
        authentication: "API key, as Basic authentication with X as the password",
        needs: "Your helpdesk domain (acme for acme.freshdesk.com) and an agent's API key \
                (Profile settings › View API key). Tickets and notes are written as that \
                agent; contacts it cannot see are not found.",
        docs_url: "https://developers.freshdesk.com/api/",
        text: include_str!("../../../gallery/freshdesk.xml"),
    },
    GalleryItem {
        id: "zendesk",
        authentication: "API token, as Basic authentication with email/token",
        needs: "Your subdomain (acme for acme.zendesk.com), an agent's e-mail address and an \
                API token (Admin Center › Apps and integrations › Zendesk API, with token \
                access turned on). Tickets and comments are written as that agent.",
        docs_url: "https://developer.zendesk.com/api-reference/",
        text: include_str!("../../../gallery/zendesk.xml"),
    },
];

/// The gallery's template named `id`.
pub fn item(id: &str) -> Option<&'static GalleryItem> {
    GALLERY.iter().find(|item| item.id == id)
}

/// The template of `item`, as an upload of it would be stored (the gallery's tests accept
/// every one without a finding).
pub fn accepted(item: &GalleryItem) -> Result<AcceptedTemplate, Refusal> {
    accept(item.text)
}

/// Every template of the gallery, as the page and the API list it: read once (each is
/// parsed and validated to list it), then the same list for every request.
pub fn entries() -> Vec<GalleryEntry> {
    static ENTRIES: LazyLock<Vec<GalleryEntry>> =
        LazyLock::new(|| GALLERY.iter().filter_map(entry).collect());
    ENTRIES.clone()
}

fn entry(item: &GalleryItem) -> Option<GalleryEntry> {
    let record = accepted(item).ok()?.record;
    let document = xml::parse(item.text).ok();
    let root = document.as_ref().map(|d| &d.root);
    let auth_type = root
        .and_then(|root| root.attribute("AuthType"))
        .unwrap_or_default()
        .to_owned();
    let scenarios = root
        .and_then(|root| root.child("Scenarios"))
        .map(|scenarios| {
            scenarios
                .elements()
                .filter_map(|scenario| scenario.attribute("Id"))
                .filter(|id| *id != "AuthMethod")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(GalleryEntry {
        id: item.id.to_owned(),
        provider: record.provider,
        name: record.name,
        key: record.key,
        auth_type,
        authentication: item.authentication.to_owned(),
        scenarios,
        needs: item.needs.to_owned(),
        docs_url: item.docs_url.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::model::Provider;

    #[test]
    fn every_gallery_template_is_accepted_without_a_finding() {
        for item in GALLERY {
            let accepted = accept(item.text)
                .unwrap_or_else(|refusal| panic!("{}: {}", item.id, refusal.summary()));
            assert!(
                accepted.record.warnings.is_empty(),
                "{}: {:?}",
                item.id,
                accepted.record.warnings
            );
        }
    }

    #[test]
    fn ids_and_keys_are_unique_and_every_entry_says_what_it_needs() {
        let entries = entries();
        for (at, entry) in entries.iter().enumerate() {
            assert!(entries[..at]
                .iter()
                .all(|e| e.id != entry.id && e.key != entry.key));
            assert!(entry.needs.len() > 40, "{}", entry.id);
            assert!(entry.docs_url.starts_with("https://"), "{}", entry.id);
            assert!(
                entry.scenarios.contains(&"SyncContactAuto".to_owned()),
                "{}",
                entry.id
            );
        }
        let pipedrive = entries.iter().find(|e| e.id == "pipedrive").unwrap();
        assert_eq!(
            (pipedrive.provider, pipedrive.auth_type.as_str()),
            (Provider::Crm, "none")
        );
        assert_eq!(
            pipedrive.scenarios,
            [
                "UserAssociation",
                "SyncContactAuto",
                "CreateNewContact",
                "CallJournal"
            ]
        );
    }
}
