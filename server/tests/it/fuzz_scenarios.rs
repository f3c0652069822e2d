//! Every scenario against a CRM that answers nonsense: random statuses, bodies that are
//! JSON, almost JSON, HTML, empty, deeply nested or huge-numbered, for a bounded time
//! (`PATCHBAY_FUZZ_SECONDS`, default 2 s, shared by the scenarios). Every run must end in a
//! result, "not found" or a typed error, traced with its secret masked; none may panic or
//! hang.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use app::calls::Call;
use app::console::ConsoleInput;
use app::integrations::Features;
use app::template::model::TemplateView;
use server::engine::console::{run_console, ConsoleRun};
use server::engine::core::auth::AuthSettings;
use server::engine::core::render::Renderer;
use server::engine::core::trace::Tracer;
use server::engine::core::Variables;
use server::engine::executor::{Executor, ExecutorSettings, Lane};
use server::engine::lookup::LookupPlan;
use server::engine::runner::Runner;
use server::engine::tokens::{Credentials, TokenKeeper};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A custom field's value the CRM never sees in a trace.
const SECRET: &str = "fuzz-Secret-Ibis-3030";

fn budget() -> Duration {
    let seconds = std::env::var("PATCHBAY_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(seconds)
}

/// How long the run goes on past its budget while some outcome has not been reached yet (a
/// loaded machine runs fewer rounds in the budget; the assertions below need every outcome).
const MAX_EXTRA: Duration = Duration::from_secs(60);

/// The scenarios run each round.
const SCENARIOS: [&str; 5] = [
    "GetGlobalInfo",
    "CreateNewContact",
    "CallJournal",
    "CreateNewTicket",
    "FollowUp",
];

/// Whether every lookup outcome and both outcomes of every scenario were reached.
fn all_reached(lookups: (u32, u32, u32), outcomes: &BTreeMap<&str, (u32, u32)>) -> bool {
    lookups.0 > 0
        && lookups.1 > 0
        && lookups.2 > 0
        && SCENARIOS.iter().all(|s| {
            outcomes
                .get(s)
                .is_some_and(|(ok, failed)| *ok > 0 && *failed > 0)
        })
}

/// xorshift64*: small, fast and reproducible from its seed.
fn next(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    state.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

const PIECES: &[&str] = &[
    r#"{"data": [{"id": 1, "first": "Ann", "phone": "555"}]}"#,
    r#"{"data": []}"#,
    r#"{"data": [{"id": null}, {"id": {"x": [1, 2]}}, 7]}"#,
    r#"{"data": {"id": "not a list"}}"#,
    r#"{"items": [{"lead_id": "L", "link": "javascript:alert(1)"}]}"#,
    r#"{"data": [{"id": 1e999999, "first": "\ud800"}]}"#,
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "<html><body>Sign in</body></html>",
    "",
    "null",
    "{\"data\": [",
    "\u{0}\u{1}\u{2}binary",
];

struct Nonsense(Arc<AtomicU64>);

impl Respond for Nonsense {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let status = [200, 200, 200, 201, 204, 301, 400, 401, 404, 429, 500, 503]
            [next(&self.0) as usize % 12];
        let mut body = String::new();
        // Mostly one piece; sometimes two glued together (no longer one JSON document).
        let pieces = if next(&self.0).is_multiple_of(5) {
            2
        } else {
            1
        };
        for _ in 0..pieces {
            let piece = PIECES[next(&self.0) as usize % PIECES.len()];
            let cut = next(&self.0) as usize % (piece.len() + 1);
            // Whole pieces mostly; sometimes cut short (on a character boundary).
            let end = if next(&self.0).is_multiple_of(4) {
                (0..=cut)
                    .rev()
                    .find(|i| piece.is_char_boundary(*i))
                    .unwrap_or(0)
            } else {
                piece.len()
            };
            body.push_str(&piece[..end]);
        }
        let kind =
            ["application/json", "application/json", "text/html"][next(&self.0) as usize % 3];
        ResponseTemplate::new(status).set_body_raw(body, kind)
    }
}

fn template(base: &str) -> TemplateView {
    let xml = format!(
        r#"<Information Provider="helpdesk" Name="Fuzz" Key="fuzz" AuthType="none" MaxConcurrentRequest="4" CallJournal="1" CreateNewContact="1" CreateNewTicket="1"><Scenarios>
<Scenario Id="AuthMethod" Type="AUTH"><Parameters><Parameter Name="AuthMethod" Value="none"/></Parameters></Scenario>
<Scenario Id="SyncContactAuto" Type="REST"><Parameters>
<Parameter Name="ContactUrlType" Value="specify_url_format"/>
<Parameter Name="URLFormat" Value="https://crm.example/{{{{.ContactSyncType}}}}/{{{{.ContactId}}}}"/>
</Parameters><Requests>
<Request Name="Contacts" Method="GET" URLFormat="{base}/contacts?phone={{{{UrlEncode .Phone}}}}"><Outputs Next="More">
<Output Name="ContactsId" Path="data.#.id"/><Output Name="FirstName" Path="data.#.first"/><Output Name="BusinessNumber" Path="data.#.phone"/></Outputs></Request>
<Request Name="Leads" Method="GET" URLFormat="{base}/leads?phone={{{{.Phone}}}}"><Outputs>
<Output Name="ContactsId" Path="items.#.lead_id"/><Output Name="Company" Path="items.#.link"/></Outputs></Request>
</Requests></Scenario>
<Scenario Id="Common" Type="REST"><Requests><Request Name="More" Method="GET" URLFormat="{base}/more/{{{{.ContactId}}}}">
<Outputs><Output Name="Email" Path="email"/></Outputs></Request></Requests></Scenario>
<Scenario Id="GetGlobalInfo" Type="REST"><Requests><Request Name="Me" Method="GET" URLFormat="{base}/me?key={{{{.key}}}}">
<Outputs><Output Name="OwnerId" Path="data.0.id"/></Outputs></Request></Requests></Scenario>
<Scenario Id="CreateNewContact" Type="REST"><Requests><Request Name="Contacts" Method="POST" URLFormat="{base}/contacts">
<Parameters><Parameter Name="Data" Type="Body" Value="{{&quot;phone&quot;:&quot;{{{{.BusinessNumber}}}}&quot;}}"/></Parameters>
<Outputs><Output Name="ContactsId" Path="data.#.id"/></Outputs></Request></Requests></Scenario>
<Scenario Id="CallJournal" Type="REST"><Parameters><Parameter Name="Subject" Value="{{{{.Call_Log_Status}}}} {{{{.OwnerId}}}}"/></Parameters><Requests>
<Request Name="CallJournal" Method="POST" URLFormat="{base}/calls"><Parameters><Parameter Name="Data" Type="Body" Value="{{&quot;s&quot;:&quot;{{{{.Subject}}}}&quot;}}"/></Parameters>
<Outputs><Output Name="JournalId" Path="data.#.id"/></Outputs></Request>
<Request Name="Recording" Method="POST" URLFormat="{{{{if .JournalId}}}}{base}/calls/{{{{.JournalId}}}}/rec{{{{end}}}}"/>
</Requests></Scenario>
<Scenario Id="CreateNewTicket" Type="REST"><Parameters><Parameter Name="NeedSyncContact" Value="1"/></Parameters><Requests>
<Request Name="CreateNewTicket" Method="POST" URLFormat="{base}/tickets"><Outputs><Output Name="TicketId" Path="data.#.id"/></Outputs></Request>
<Request Name="UpdateTicket" Method="POST" URLFormat="{base}/tickets/{{{{.TicketId}}}}"/>
</Requests></Scenario>
<Scenario Id="FollowUp" Type="REST"><Requests><Request Name="After" Method="GET" Trigger="CallJournal" URLFormat="{base}/after">
<Outputs><Output Name="Last" Path="$.data[0].id"/></Outputs></Request></Requests></Scenario>
</Scenarios></Information>"#
    );
    TemplateView::read(&app::template::xml::parse(&xml).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_survives_a_crm_that_answers_nonsense() {
    let seed = std::env::var("PATCHBAY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15u64);
    let crm = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Nonsense(Arc::new(AtomicU64::new(seed))))
        .mount(&crm)
        .await;
    let executor = Arc::new(
        Executor::new(ExecutorSettings {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            policy: Default::default(),
        })
        .unwrap(),
    );
    // AuthType none: the keeper never reads stored tokens.
    let keeper = TokenKeeper::standalone(executor, Renderer::utc(), Duration::from_secs(5))
        .await
        .unwrap();
    let view = template(&crm.uri());
    let credentials = Credentials {
        integration_id: 1,
        template_id: 1,
        auth: AuthSettings::read(&view),
        variables: Variables::new(),
        lane: Lane {
            integration_id: 1,
            max_concurrent: 4,
        },
        fixed_access_token: None,
    };
    let renderer = Renderer::utc();
    let (mut found, mut not_found, mut failed) = (0, 0, 0);
    let mut outcomes: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let deadline = Instant::now() + budget();
    let hard_deadline = deadline + MAX_EXTRA;
    let variables = Variables::from([("key".to_owned(), SECRET.to_owned())]);
    let features = Features::default();
    let going_on = |found, not_found, failed, outcomes: &BTreeMap<&str, (u32, u32)>| {
        let now = Instant::now();
        now < deadline
            || (now < hard_deadline && !all_reached((found, not_found, failed), outcomes))
    };
    'runs: while going_on(found, not_found, failed, &outcomes) {
        let runner = Runner::new(&keeper, &renderer, &credentials, &view, &[]);
        let plan = LookupPlan::new(&features.contacts, "+1 555 0100");
        match runner.lookup(&variables, &plan).await {
            Ok(Some(result)) => {
                assert!(!result.contact.unwrap().contact_type.is_empty());
                found += 1;
            }
            Ok(None) => not_found += 1,
            Err(error) => {
                assert!(!error.to_string().is_empty());
                failed += 1;
            }
        }
        for scenario in SCENARIOS {
            if !going_on(found, not_found, failed, &outcomes) {
                break 'runs;
            }
            let tracer = Tracer::new(vec![SECRET.to_owned()]);
            let runner = Runner::new(&keeper, &renderer, &credentials, &view, &[]).traced(&tracer);
            let input = ConsoleInput {
                scenario: scenario.into(),
                phone: "+1 555 0100".into(),
                call: Call {
                    caller_number: "+1 555 0100".into(),
                    ..Call::default()
                },
                ..ConsoleInput::default()
            };
            let result = run_console(
                &runner,
                &tracer,
                &ConsoleRun {
                    input: &input,
                    variables: &variables,
                    overrides: &Variables::new(),
                    features: &features,
                },
            )
            .await;
            let shown = serde_json::to_string(&result.report).unwrap();
            assert!(
                !shown.contains(SECRET),
                "{scenario}: the key shows in {shown}"
            );
            let counts = outcomes.entry(scenario).or_default();
            match result.report.error {
                None => counts.0 += 1,
                Some(error) => {
                    assert!(!error.is_empty());
                    counts.1 += 1;
                }
            }
        }
    }
    eprintln!("seed {seed:#x}: lookups {found} found, {not_found} not found, {failed} failed; scenarios (ok, failed): {outcomes:?}");
    assert!(
        found > 0 && not_found > 0 && failed > 0,
        "every lookup outcome was reached"
    );
    for (scenario, (ok, failed)) in &outcomes {
        assert!(
            *ok > 0 && *failed > 0,
            "{scenario}: both outcomes were reached"
        );
    }
}
