//! An integration's runbook (README "Runbook"): a Markdown document generated from what
//! Patchbay knows (the hosts it calls, the redirect URI and scopes, the custom fields by
//! name, the global variables and where they are used, the CRM fields mapped, follow-ups
//! and their triggers, the Features chosen, the association table, the revision run, the
//! test cases), so a handover does not depend on one person's memory. No value of a field
//! and no secret is in it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use app::activity::{latency_label, IntegrationHealth};
use app::template::model::{Provider, RequestView, TemplateView};
use app::test_cases::TestCase;

use super::service::{IntegrationError, IntegrationsService};
use crate::engine::core::auth::{AuthSettings, FieldEditor};

/// Users listed in the association table; the rest are counted.
pub const RUNBOOK_MAX_USERS: usize = 500;

/// What the runbook is made of, gathered first so that writing it is pure.
struct Facts {
    name: String,
    provider: Provider,
    key: String,
    generated_at: i64,
    status: String,
    running: Option<i32>,
    newest: i32,
    previous: Option<i32>,
    redirect_uri: String,
    view: TemplateView,
    auth: AuthSettings,
    globals: BTreeSet<String>,
    features: app::integrations::Features,
    /// (user's name and e-mail, extensions)
    associations: Vec<(String, Vec<String>)>,
    users: usize,
    cases: Vec<TestCase>,
    health: IntegrationHealth,
}

impl IntegrationsService {
    pub async fn runbook(&self, provider: Provider, key: &str) -> Result<String, IntegrationError> {
        let running = self.template_in_use(provider, key).await?;
        let integration = running.integration.clone();
        let mut associations = Vec::new();
        let mut users = 0;
        if let Some(integration) = &integration {
            let listed = self.crm_users.all(integration.id).await?;
            users = listed.len();
            let ids: Vec<i32> = listed.iter().map(|u| u.id).collect();
            let numbers = self.associations.numbers_of(&ids).await?;
            for user in listed.iter().take(RUNBOOK_MAX_USERS) {
                let name = format!("{} {}", user.first_name, user.last_name);
                associations.push((
                    format!("{} <{}>", name.trim(), user.email),
                    numbers.get(&user.id).cloned().unwrap_or_default(),
                ));
            }
        }
        let facts = Facts {
            name: running.template.record.name.clone(),
            provider,
            key: key.to_owned(),
            generated_at: crate::storage::unix_now(),
            status: integration
                .as_ref()
                .map(|i| i.status.label().to_owned())
                .unwrap_or_else(|| "Not connected".into()),
            running: integration.as_ref().map(|i| i.template_revision),
            newest: running.template.revision,
            previous: integration
                .as_ref()
                .and_then(|i| i.previous_template_revision),
            redirect_uri: self.redirect_uri(provider, key),
            globals: integration
                .as_ref()
                .map(|i| i.global_variables.keys().cloned().collect())
                .unwrap_or_default(),
            features: integration
                .as_ref()
                .map(|i| i.features.clone())
                .unwrap_or_default(),
            view: running.view,
            auth: running.auth,
            associations,
            users,
            cases: self.test_cases.list(running.template.id).await?,
            health: self.health(provider, key).await?,
        };
        Ok(write(&facts))
    }
}

/// The origin (scheme, host, port) a URL template names, when it names one literally.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?;
    let host = rest.1.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{}://{host}", rest.0))
}

/// The `{{.Name}}` variables a text uses.
fn variables_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for part in text.split("{{").skip(1) {
        let inner = part.split("}}").next().unwrap_or("");
        for word in inner.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            if let Some(name) = word.strip_prefix('.') {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        }
    }
    names
}

fn request_texts(request: &RequestView) -> impl Iterator<Item = &str> {
    std::iter::once(request.url_format.as_str())
        .chain(request.parameters.iter().map(|p| p.value.as_str()))
}

/// Markdown cells: no line breaks, no pipes.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn write(facts: &Facts) -> String {
    let mut md = String::new();
    let _ = write_document(facts, &mut md);
    md
}

fn write_document(f: &Facts, md: &mut String) -> std::fmt::Result {
    writeln!(md, "# Runbook: {}", f.name)?;
    writeln!(md)?;
    writeln!(
        md,
        "Integration `{}/{}`, generated by Patchbay at {} (UTC). Values of fields and secrets are not in this document.",
        f.provider.as_str(),
        f.key,
        utc(f.generated_at)
    )?;
    writeln!(md)?;
    writeln!(md, "## Status")?;
    writeln!(md)?;
    writeln!(md, "- Status: {}", f.status)?;
    match f.running {
        Some(running) => writeln!(
            md,
            "- Runs revision {running} of {}{}",
            f.newest,
            f.previous
                .map(|p| format!("; ran revision {p} before (Roll back returns to it)"))
                .unwrap_or_default()
        )?,
        None => writeln!(
            md,
            "- Not connected yet; the template's newest revision is {}",
            f.newest
        )?,
    }
    let h = &f.health;
    writeln!(
        md,
        "- Last 24 hours: {} succeeded, {} failed{}; CRM latency median {}, p95 {}; queue: {} waiting or running, {} failed",
        h.successes,
        h.failed(),
        if h.failures.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                h.failures
                    .iter()
                    .map(|(fault, n)| format!("{} {n}", fault.label()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        latency_label(h.median_ms),
        latency_label(h.p95_ms),
        h.backlog,
        h.failed_jobs
    )?;
    writeln!(md)?;

    writeln!(md, "## Authentication")?;
    writeln!(md)?;
    writeln!(md, "- Method: {}", f.auth.method.as_str())?;
    for (what, url) in [
        ("Authorization endpoint", &f.auth.auth_endpoint),
        ("Token endpoint", &f.auth.token_endpoint),
        ("Refresh endpoint", &f.auth.refresh_endpoint),
        ("Revocation endpoint", &f.auth.revoke_endpoint),
    ] {
        if !url.is_empty() {
            writeln!(md, "- {what}: `{}`", cell(url))?;
        }
    }
    if f.auth.method == app::template::model::AuthType::OAuth2 {
        writeln!(
            md,
            "- Redirect URI (register it with the CRM): `{}`",
            f.redirect_uri
        )?;
        writeln!(
            md,
            "- Scopes: {}",
            if f.auth.scope.is_empty() {
                "(none named)".to_string()
            } else {
                format!("`{}`", cell(&f.auth.scope))
            }
        )?;
        if let Some(minutes) = f.auth.refresh_every_minutes {
            writeln!(md, "- Token refreshed every {minutes} minutes")?;
        }
    }
    writeln!(md)?;
    if !f.auth.custom_fields.is_empty() {
        writeln!(md, "Fields (names only):")?;
        writeln!(md)?;
        writeln!(md, "| field | title | kind |")?;
        writeln!(md, "|---|---|---|")?;
        for field in &f.auth.custom_fields {
            let kind = match field.editor {
                FieldEditor::Password => "secret",
                FieldEditor::List => "list",
                _ => "text",
            };
            writeln!(
                md,
                "| `{}` | {} | {kind} |",
                cell(&field.name),
                cell(&field.title)
            )?;
        }
        writeln!(md)?;
    }

    let mut hosts = BTreeSet::new();
    for url in [
        &f.auth.auth_endpoint,
        &f.auth.token_endpoint,
        &f.auth.refresh_endpoint,
        &f.auth.revoke_endpoint,
    ] {
        hosts.extend(host_of(url));
    }
    for scenario in &f.view.scenarios {
        for request in &scenario.requests {
            hosts.extend(host_of(&request.url_format));
        }
    }
    writeln!(md, "## Hosts Patchbay calls")?;
    writeln!(md)?;
    if hosts.is_empty() {
        writeln!(md, "None named literally (each URL is built from fields).")?;
    }
    for host in &hosts {
        writeln!(md, "- `{}`", cell(host))?;
    }
    writeln!(md)?;

    writeln!(md, "## Requests and the CRM fields they map")?;
    writeln!(md)?;
    writeln!(
        md,
        "| scenario | request | method and URL | trigger | outputs |"
    )?;
    writeln!(md, "|---|---|---|---|---|")?;
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for scenario in &f.view.scenarios {
        for request in &scenario.requests {
            let step = format!("{}/{}", scenario.id, request.name);
            for text in request_texts(request) {
                for name in variables_in(text) {
                    if f.globals.contains(&name) {
                        uses.entry(name).or_default().insert(step.clone());
                    }
                }
            }
            let outputs = request
                .outputs
                .iter()
                .map(|o| format!("{} \u{2190} `{}`", o.name, o.path))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                md,
                "| {} | {} | `{} {}` | {} | {} |",
                cell(&scenario.id),
                cell(&request.name),
                cell(&request.method),
                cell(&request.url_format),
                cell(&request.trigger),
                cell(&outputs)
            )?;
        }
    }
    writeln!(md)?;

    writeln!(md, "## Global variables")?;
    writeln!(md)?;
    if f.globals.is_empty() {
        writeln!(md, "None stored.")?;
    }
    for name in &f.globals {
        let used = uses
            .get(name)
            .map(|steps| steps.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| "no request".into());
        writeln!(md, "- `{name}`: used by {used}")?;
    }
    writeln!(md)?;

    writeln!(md, "## Features")?;
    writeln!(md)?;
    writeln!(
        md,
        "```json\n{}\n```",
        serde_json::to_string_pretty(&f.features).unwrap_or_default()
    )?;
    writeln!(md)?;

    writeln!(md, "## User association")?;
    writeln!(md)?;
    if f.users == 0 {
        writeln!(md, "No CRM users synced.")?;
    } else {
        writeln!(md, "| CRM user | extensions |")?;
        writeln!(md, "|---|---|")?;
        for (user, extensions) in &f.associations {
            writeln!(md, "| {} | {} |", cell(user), extensions.join(", "))?;
        }
        if f.users > f.associations.len() {
            writeln!(
                md,
                "\n{} more users are not listed.",
                f.users - f.associations.len()
            )?;
        }
    }
    writeln!(md)?;

    writeln!(md, "## Test cases")?;
    writeln!(md)?;
    if f.cases.is_empty() {
        writeln!(
            md,
            "None saved. Save one from the test console, so Apply can check a new revision."
        )?;
    }
    for case in &f.cases {
        let last = match &case.last {
            Some(r) if r.passed => format!("passed against revision {}", r.revision),
            Some(r) => format!("FAILED against revision {}", r.revision),
            None => "not run".into(),
        };
        writeln!(
            md,
            "- **{}** ({}, number `{}`; {last}): {}",
            cell(&case.name),
            case.input.scenario,
            cell(&case.input.phone),
            case.expect
                .iter()
                .map(|e| e.describe())
                .collect::<Vec<_>>()
                .join("; ")
        )?;
    }
    writeln!(md)?;
    writeln!(md, "## When it fails")?;
    writeln!(md)?;
    writeln!(md, "1. Activity, filtered by this integration and by fault, says which layer failed (phone system, authentication, template, network, CRM refused or failed, rate limited, policy).")?;
    writeln!(
        md,
        "2. Authentication: Check connection; for OAuth 2.0, Reconnect authorizes again."
    )?;
    writeln!(md, "3. After a template change: run the test cases; Roll back returns the integration to the revision it ran before.")?;
    writeln!(
        md,
        "4. `patchbay integration test {}/{}` runs the test cases from a shell.",
        f.provider.as_str(),
        f.key
    )?;
    Ok(())
}

/// `2026-12-04 10:15` from Unix seconds.
pub(super) fn utc(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_variables_are_read_from_url_templates() {
        assert_eq!(
            host_of("https://{{.domain}}.crm.example/api?x=1").as_deref(),
            Some("https://{{.domain}}.crm.example")
        );
        assert_eq!(host_of("{{.base}}/contacts"), None);
        assert_eq!(
            variables_in("{{.base}}/u/{{ UrlEncode .UserId }}?d={{.Dept}}"),
            BTreeSet::from(["base".to_string(), "UserId".into(), "Dept".into()])
        );
    }

    #[test]
    fn a_cell_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
