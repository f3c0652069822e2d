//! A full contact lookup (render, one GET to a loopback CRM, 22 outputs zipped over 3
//! results, the popup URL) side by side with a bare `reqwest` GET of the same response,
//! interleaved in one run (target: at most 1.10×); then lookups per second through one
//! integration with MaxConcurrentRequest 10 against a CRM that takes 50 ms per answer
//! (target: at least 95 % of the 200/s that allows).
//! Run: `cargo bench -p server --bench lookup`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::integrations::ContactFeatures;
use app::template::model::TemplateView;
use axum::routing::get;
use server::engine::core::auth::AuthSettings;
use server::engine::core::render::Renderer;
use server::engine::core::request::{GlobalHeaders, RequestContext};
use server::engine::core::response::read_outputs;
use server::engine::core::Variables;
use server::engine::executor::{Executor, ExecutorSettings, Lane};
use server::engine::lookup::LookupPlan;
use server::engine::runner::Runner;
use server::engine::tokens::{Credentials, TokenKeeper};

/// Latency of the slow CRM, and the concurrency the template allows.
const CRM_LATENCY: Duration = Duration::from_millis(50);
const MAX_CONCURRENT: usize = 10;

/// A contact search answer with three contacts of 22 fields.
fn answer() -> String {
    let contact = |n: u32| {
        let fields: Vec<String> = (0..22)
            .map(|i| format!("\"field{i}\": \"value {i} of contact {n}\""))
            .collect();
        format!("{{\"id\": \"c{n}\", {}}}", fields.join(", "))
    };
    format!(
        "{{\"data\": [{}, {}, {}]}}",
        contact(1),
        contact(2),
        contact(3)
    )
}

fn template(base: &str, max_concurrent: usize) -> TemplateView {
    let outputs: String = (0..21)
        .map(|i| format!(r#"<Output Name="Output{i}" Path="data.#.field{i}"/>"#))
        .collect();
    let xml = format!(
        r#"<Information Provider="crm" Name="Bench" Key="bench" AuthType="none" MaxConcurrentRequest="{max_concurrent}"><Scenarios>
<Scenario Id="AuthMethod" Type="AUTH"><Parameters><Parameter Name="AuthMethod" Value="none"/></Parameters></Scenario>
<Scenario Id="SyncContactAuto" Type="REST"><Parameters>
<Parameter Name="ContactUrlType" Value="specify_url_format"/>
<Parameter Name="URLFormat" Value="https://crm.example/{{{{.ContactSyncType}}}}/{{{{.ContactId}}}}"/>
</Parameters><Requests>
<Request Name="Contacts" Method="GET" URLFormat="{base}/contacts?phone={{{{UrlEncode .Phone}}}}"><Outputs>
<Output Name="ContactsId" Path="data.#.id"/>{outputs}</Outputs></Request>
</Requests></Scenario></Scenarios></Information>"#
    );
    TemplateView::read(&app::template::xml::parse(&xml).unwrap())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn run() {
    let body = answer();
    let fast_body = body.clone();
    let fast = serve(axum::Router::new().route(
        "/contacts",
        get(move || {
            let body = fast_body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    ))
    .await;
    let slow = serve(axum::Router::new().route(
        "/contacts",
        get(move || {
            let body = body.clone();
            async move {
                tokio::time::sleep(CRM_LATENCY).await;
                ([("content-type", "application/json")], body)
            }
        }),
    ))
    .await;

    let executor = Arc::new(
        Executor::new(ExecutorSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            policy: Default::default(),
        })
        .unwrap(),
    );
    // AuthType none: the keeper never reads stored tokens.
    let keeper =
        TokenKeeper::standalone(executor.clone(), Renderer::utc(), Duration::from_secs(15))
            .await
            .unwrap();
    let renderer = Renderer::utc();
    let variables = Variables::new();

    let fast_view = template(&fast, 1);
    let fast_credentials = Credentials {
        integration_id: 1,
        template_id: 1,
        auth: AuthSettings::read(&fast_view),
        variables: Variables::new(),
        lane: Lane {
            integration_id: 1,
            max_concurrent: 1,
        },
        fixed_access_token: None,
    };
    let lookup = Runner::new(&keeper, &renderer, &fast_credentials, &fast_view, &[]);
    let contacts = ContactFeatures::default();
    let bare = reqwest::Client::new();
    let bare_url = format!("{fast}/contacts?phone=+49%2030%201234");
    let full_lookup = || async {
        let found = lookup
            .lookup(&variables, &LookupPlan::new(&contacts, "+49 30 1234"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.matches, 3);
        assert_eq!(
            found.contact.as_ref().and_then(|c| c.popup_url.as_deref()),
            Some("https://crm.example/Contacts/c1")
        );
        std::hint::black_box(found);
    };
    let bare_get = || async {
        let response = bare.get(&bare_url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        std::hint::black_box(response.bytes().await.unwrap());
    };
    let (lookup_median, bare_median) = common::side_by_side(full_lookup, bare_get).await;
    let (rounds, per_round) = (common::ROUNDS, common::CALLS_PER_ROUND);
    println!(
        "full lookup (render, GET, 22 outputs × 3 results, popup URL): {:.1} µs, bare reqwest GET {:.1} µs (medians of {rounds} rounds × {per_round}); ratio {:.3} (target ≤ 1.10)",
        lookup_median.as_secs_f64() * 1e6,
        bare_median.as_secs_f64() * 1e6,
        lookup_median.as_secs_f64() / bare_median.as_secs_f64()
    );

    // Where the time goes: the executor alone on the rendered request, beside bare reqwest;
    // then rendering and reading the outputs without I/O.
    let request = &fast_view.scenario("SyncContactAuto").unwrap().requests[0];
    let mut phone = Variables::new();
    phone.insert("Phone".into(), "+49 30 1234".into());
    let context = RequestContext {
        renderer: &renderer,
        auth: &fast_credentials.auth,
        variables: &phone,
        user_fields: &[],
        access_token: None,
    };
    let rendered = context
        .render("SyncContactAuto", request, GlobalHeaders::Apply)
        .unwrap()
        .unwrap();
    let send_only = || async {
        let exchange = executor
            .send(fast_credentials.lane, &rendered)
            .await
            .unwrap();
        std::hint::black_box(exchange);
    };
    let (send_median, bare_again) = common::side_by_side(send_only, bare_get).await;
    let runner_send = || async {
        let received = lookup
            .send("SyncContactAuto", request, &phone, GlobalHeaders::Apply)
            .await
            .unwrap();
        std::hint::black_box(received);
    };
    let (runner_median, bare_third) = common::side_by_side(runner_send, bare_get).await;
    let received = executor
        .send(fast_credentials.lane, &rendered)
        .await
        .unwrap()
        .received;
    let per_call = |work: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..2_000 {
            work();
        }
        start.elapsed().as_secs_f64() * 1e6 / 2_000.0
    };
    let render_us = per_call(&|| {
        std::hint::black_box(
            context
                .render("SyncContactAuto", request, GlobalHeaders::Apply)
                .unwrap(),
        );
    });
    let outputs_us = per_call(&|| {
        std::hint::black_box(read_outputs(request, &received, &phone).unwrap());
    });
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "  where the time goes, each beside its own bare GET: executor send and read {:.1} µs (bare {:.1}); runner send (render, token keeper, executor, verdict) {:.1} µs (bare {:.1}); render alone {render_us:.1} µs; 22 outputs × 3 results alone {outputs_us:.1} µs",
        us(send_median),
        us(bare_again),
        us(runner_median),
        us(bare_third),
    );

    // Throughput: more callers than the integration's concurrency, against 50 ms answers.
    let slow_view = Arc::new(template(&slow, MAX_CONCURRENT));
    let slow_credentials = Arc::new(Credentials {
        integration_id: 2,
        template_id: 2,
        auth: AuthSettings::read(&slow_view),
        variables: Variables::new(),
        lane: Lane {
            integration_id: 2,
            max_concurrent: MAX_CONCURRENT,
        },
        fixed_access_token: None,
    });
    let keeper = Arc::new(keeper);
    let lookups = 600;
    let callers = 40;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let (keeper, view, credentials) =
            (keeper.clone(), slow_view.clone(), slow_credentials.clone());
        tasks.spawn(async move {
            let renderer = Renderer::utc();
            let lookup = Runner::new(&keeper, &renderer, &credentials, &view, &[]);
            for _ in (caller..lookups).step_by(callers) {
                let contacts = ContactFeatures::default();
                let found = lookup
                    .lookup(
                        &Variables::new(),
                        &LookupPlan::new(&contacts, "+49 30 1234"),
                    )
                    .await
                    .unwrap();
                assert!(found.is_some());
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let per_second = lookups as f64 / started.elapsed().as_secs_f64();
    let allowed = MAX_CONCURRENT as f64 / CRM_LATENCY.as_secs_f64();
    println!(
        "throughput: {per_second:.1} lookups/s through one integration (MaxConcurrentRequest {MAX_CONCURRENT}, CRM latency {} ms, {callers} callers); {:.1} % of the {allowed:.0}/s allowed (target ≥ 95 %)",
        CRM_LATENCY.as_millis(),
        per_second / allowed * 100.0
    );
}
