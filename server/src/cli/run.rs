//! `patchbay run TEMPLATE.xml SCENARIO [--var NAME=VALUE]… [--set FIELD=VALUE]… [--dry-run]
//! [--json]`: a template author sees what a scenario sends and what comes back, without a
//! server or a database.
//!
//! - `--set` fills a custom field (a domain, an API key); a field not set on the command
//!   line is read from the environment variable `PATCHBAY_FIELD_<NAME>` (upper case), so
//!   secrets stay out of shell history.
//! - `--var` sets a call, contact or global variable by its reference name (`Phone`,
//!   `CallerNumber`, `TicketId`, …); `--var AccessToken=…` is the token OAuth 2.0 and Bearer
//!   templates send.
//! - `--dry-run` renders every request of the scenario and sends nothing; otherwise the
//!   scenario runs as the server runs it (`engine::console`, the test console's code):
//!   SyncContactAuto as a contact lookup (types in order, Next, popup URL), CallJournal and
//!   CreateNewTicket with a sample call built from the call variables given, and so on.
//!
//! Every secret (password fields, the client secret, tokens) is masked in the output.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::calls::{Call, CallDirection, CallDisposition, ExtensionUser};
use app::console::{ConsoleInput, ShownRequest};
use app::integrations::Features;
use app::template::model::{AuthType, TemplateView};
use app::template::validate::validate_text;
use app::template::xml::MAX_TEMPLATE_BYTES;

use crate::engine::console::{run_console, ConsoleRun};
use crate::engine::core::auth::AuthSettings;
use crate::engine::core::contacts::PHONE_VARIABLE;
use crate::engine::core::oauth::{ACCESS_TOKEN_VARIABLE, REFRESH_TOKEN_VARIABLE};
use crate::engine::core::render::Renderer;
use crate::engine::core::trace::Tracer;
use crate::engine::core::Variables;
use crate::engine::executor::{Executor, ExecutorSettings, Lane};
use crate::engine::runner::Runner;
use crate::engine::tokens::{Credentials, TokenKeeper};

pub struct RunOptions {
    pub template: PathBuf,
    pub scenario: String,
    pub vars: Vec<String>,
    pub sets: Vec<String>,
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not a valid template:\n{findings}")]
    Invalid { path: String, findings: String },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Setup(String),
}

pub use app::console::RunReport;

/// `PATCHBAY_OUTBOUND_DENY` and `PATCHBAY_OUTBOUND_ALLOW` as `patchbay serve` reads them.
fn outbound_policy() -> Result<crate::engine::core::outbound::OutboundPolicy, RunError> {
    use crate::engine::core::outbound::{OutboundPolicy, ALLOW_SETTING, DENY_SETTING};
    let setting = |name| std::env::var(name).unwrap_or_default();
    OutboundPolicy::parse(&setting(DENY_SETTING), &setting(ALLOW_SETTING))
        .map_err(|e| RunError::Usage(format!("{}: {e}", e.setting)))
}

fn pairs(items: &[String], flag: &str) -> Result<Vec<(String, String)>, RunError> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| RunError::Usage(format!("{flag} {item:?} is not NAME=VALUE")))
        })
        .collect()
}

pub async fn run(
    options: &RunOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RunReport, RunError> {
    let path = options.template.display().to_string();
    let text = std::fs::read(&options.template).map_err(|e| RunError::Read {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(RunError::Read {
            path,
            reason: format!("larger than {MAX_TEMPLATE_BYTES} bytes"),
        });
    }
    let text = String::from_utf8(text).map_err(|_| RunError::Read {
        path: path.clone(),
        reason: "not UTF-8".into(),
    })?;
    let (document, report) = validate_text(&text);
    let document = match document {
        Some(document) if !report.has_errors() => document,
        _ => {
            let findings: Vec<String> = report
                .errors()
                .map(|f| format!("  {} [{}]", f.message, f.code))
                .collect();
            return Err(RunError::Invalid {
                path,
                findings: findings.join("\n"),
            });
        }
    };
    let view = TemplateView::read(&document);
    let Some(scenario) = view.scenario(&options.scenario) else {
        let known: Vec<&str> = view.scenarios.iter().map(|s| s.id.as_str()).collect();
        return Err(RunError::Usage(format!(
            "the template has no scenario {:?}; it has {}",
            options.scenario,
            known.join(", ")
        )));
    };
    let auth = AuthSettings::read(&view);

    let sets = pairs(&options.sets, "--set")?;
    let mut variables = Variables::new();
    for (name, _) in &sets {
        if !auth.custom_fields.iter().any(|f| &f.name == name) {
            return Err(RunError::Usage(format!(
                "--set {name}: the template has no such field (it has {})",
                auth.custom_fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let mut secrets = Vec::new();
    for field in &auth.custom_fields {
        let value = sets
            .iter()
            .rev()
            .find(|(name, _)| name == &field.name)
            .map(|(_, v)| v.clone())
            .or_else(|| env(&format!("PATCHBAY_FIELD_{}", field.name.to_uppercase())));
        if let Some(value) = value {
            if field.is_secret() {
                secrets.push(value.clone());
            }
            variables.insert(field.name.clone(), value);
        }
    }
    for (name, value) in pairs(&options.vars, "--var")? {
        if name == ACCESS_TOKEN_VARIABLE || name == REFRESH_TOKEN_VARIABLE {
            secrets.push(value.clone());
        }
        variables.insert(name, value);
    }
    let public_url = env("PATCHBAY_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into());
    variables.entry("redirect_uri".into()).or_insert_with(|| {
        format!(
            "{}/integration/callback/api/{}/{}/",
            public_url.trim_end_matches('/'),
            view.info.provider,
            view.info.key
        )
    });
    let user_fields = auth.user_fields();
    let access_token = variables.get(ACCESS_TOKEN_VARIABLE).cloned();
    if !options.dry_run
        && matches!(auth.method, AuthType::OAuth2 | AuthType::Bearer)
        && access_token.is_none()
    {
        return Err(RunError::Usage(format!(
            "{} templates need --var {ACCESS_TOKEN_VARIABLE}=… for a live run",
            auth.method.as_str()
        )));
    }
    let tracer = Tracer::new(secrets);
    let renderer = Renderer::utc();
    let executor = Arc::new(
        Executor::new(ExecutorSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            // The same outbound policy as the server's, from the same settings.
            policy: outbound_policy()?,
        })
        .map_err(|e| RunError::Setup(e.to_string()))?,
    );
    // A given token is sent as it is: the keeper never reads stored tokens.
    let keeper =
        TokenKeeper::standalone(executor.clone(), renderer.clone(), Duration::from_secs(15))
            .await
            .map_err(|e| RunError::Setup(e.to_string()))?;
    let max_concurrent = view.info.max_concurrent_request.trim().parse().unwrap_or(1);
    let lane = Lane {
        integration_id: 0,
        max_concurrent,
    };
    let credentials =
        Credentials::not_stored(0, auth.clone(), variables.clone(), lane, access_token);
    let runner = Runner::new(&keeper, &renderer, &credentials, &view, &user_fields).traced(&tracer);
    let overrides: Variables = pairs(&options.vars, "--var")?.into_iter().collect();
    let input = ConsoleInput {
        scenario: scenario.id.clone(),
        phone: overrides.get(PHONE_VARIABLE).cloned().unwrap_or_default(),
        first_name: overrides.get("FirstName").cloned().unwrap_or_default(),
        last_name: overrides.get("LastName").cloned().unwrap_or_default(),
        call: call_from(&overrides),
        dry_run: options.dry_run,
    };
    if matches!(input.scenario.as_str(), "SyncContactAuto" | "SearchContact")
        && input.phone.is_empty()
        && !options.dry_run
    {
        return Err(RunError::Usage(format!(
            "{} needs --var Phone=NUMBER",
            input.scenario
        )));
    }
    let features = Features::default();
    let result = run_console(
        &runner,
        &tracer,
        &ConsoleRun {
            input: &input,
            variables: &variables,
            overrides: &overrides,
            features: &features,
        },
    )
    .await;
    Ok(result.report)
}

/// The sample call a journal or ticket runs with, from the call variables given with
/// `--var` (each given variable also wins over the computed one).
fn call_from(vars: &Variables) -> Call {
    let text = |name: &str| vars.get(name).cloned().unwrap_or_default();
    let seconds = |name: &str| -> u32 {
        vars.get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let direction = match vars
        .get("Communication_Type")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        Some(v) if v == "outbound" => CallDirection::Outbound,
        _ => CallDirection::Inbound,
    };
    Call {
        direction,
        extension: ExtensionUser {
            number: String::new(),
            first_name: text("ExtensionFirstName"),
            last_name: text("ExtensionLastName"),
            email: text("ExtensionEmail"),
            crm_user_id: vars
                .get("CrmId")
                .or_else(|| vars.get("CrmlId"))
                .cloned()
                .unwrap_or_default(),
        },
        caller_name: text("CallerName"),
        caller_number: text("CallerNumber"),
        callee_name: text("CalleeName"),
        callee_number: text("CalleeNumber"),
        start_unix: vars
            .get("StartTimeUnix")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        duration_secs: seconds("CallDuration"),
        talk_secs: seconds("Talk_Duration_Sec"),
        disposition: vars
            .get("CallDisposition")
            .and_then(|v| CallDisposition::parse(v))
            .unwrap_or_default(),
        recording_url: text("RecordPath"),
        ringing: false,
        group: String::new(),
    }
}

/// The report as text for a terminal.
pub fn as_text(report: &RunReport) -> String {
    let mut out = String::new();
    let request_lines = |out: &mut String, request: &ShownRequest| {
        out.push_str(&format!("  → {} {}\n", request.method, request.url));
        for (name, value) in &request.headers {
            out.push_str(&format!("    {name}: {value}\n"));
        }
        if let Some(body) = &request.body {
            out.push_str(&format!("    {}\n", body.replace('\n', "\n    ")));
        }
        if request.folded {
            out.push_str("    … (folded)\n");
        }
    };
    for (n, step) in report.steps.iter().enumerate() {
        if report.dry_run {
            out.push_str(&format!("{}\n", step.step));
        } else {
            out.push_str(&format!(
                "Step {}  {}  {} ms\n",
                n + 1,
                step.step,
                step.elapsed_ms
            ));
        }
        request_lines(&mut out, &step.request);
        if let Some(response) = &step.response {
            out.push_str(&format!(
                "  ← {} {}\n    {}\n",
                response.status,
                response.content_type.as_deref().unwrap_or(""),
                response.body.replace('\n', "\n    ")
            ));
            if response.folded {
                out.push_str("    … (folded)\n");
            }
        }
        for (name, value) in &step.outputs {
            out.push_str(&format!("    {name} = {value}\n"));
        }
        if let Some(error) = &step.error {
            out.push_str(&format!("  ✗ {error}\n"));
        }
    }
    for step in &report.skipped {
        out.push_str(&format!("{step}: skipped, its URL renders empty\n"));
    }
    if let Some(contact) = &report.contact {
        out.push_str(&format!("Contact ({})\n", contact.contact_type));
        for (name, value) in &contact.fields {
            out.push_str(&format!("  {name}: {value}\n"));
        }
        if let Some(url) = &contact.popup_url {
            out.push_str(&format!("  popup: {url}\n"));
        }
    } else if report.scenario == "SyncContactAuto" && !report.dry_run && report.error.is_none() {
        out.push_str("No contact found.\n");
    }
    for (name, value) in &report.outputs {
        out.push_str(&format!("  {name} = {value}\n"));
    }
    if let Some(error) = &report.error {
        out.push_str(&format!("Error: {error}\n"));
    }
    out
}
