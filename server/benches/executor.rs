//! The executor's overhead: one rendered GET with 22 extracted outputs against a loopback
//! server, side by side with a bare `reqwest` GET of the same response, interleaved in one
//! run (target: at most 1.10× the bare request).
//! Run: `cargo bench -p server --bench executor`.

mod common;

use std::time::{Duration, Instant};

use app::template::model::{OutputView, RequestView};
use axum::routing::get;
use server::engine::core::auth::AuthSettings;
use server::engine::core::render::Renderer;
use server::engine::core::request::{GlobalHeaders, RequestContext};
use server::engine::core::response::read_outputs;
use server::engine::core::Variables;
use server::engine::executor::{Executor, ExecutorSettings, Lane};

/// A contact search answer with two contacts of 22 fields.
fn answer() -> String {
    let contact = |n: u32| {
        let fields: Vec<String> = (0..22)
            .map(|i| format!("\"field{i}\": \"value {i} of contact {n}\""))
            .collect();
        format!("{{{}}}", fields.join(", "))
    };
    format!("{{\"data\": [{}, {}]}}", contact(1), contact(2))
}

fn request(base: &str) -> RequestView {
    RequestView {
        name: "Contacts".into(),
        method: "GET".into(),
        url_format: format!("{base}/contacts?phone={{{{UrlEncode .Phone}}}}"),
        outputs: (0..22)
            .map(|i| OutputView {
                name: format!("Output{i}"),
                path: format!("data.#.field{i}"),
                kind: String::new(),
            })
            .collect(),
        ..Default::default()
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let body = answer();
    let app = axum::Router::new().route(
        "/contacts",
        get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let executor = Executor::new(ExecutorSettings {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(15),
        policy: Default::default(),
    })
    .unwrap();
    let bare = reqwest::Client::new();
    let template = request(&base);
    let auth = AuthSettings::read(&Default::default());
    let renderer = Renderer::utc();
    let variables = Variables::from([("Phone".to_string(), "+49 30 1234".to_string())]);
    let lane = Lane {
        integration_id: 1,
        max_concurrent: 1,
    };
    let bare_url = format!("{base}/contacts?phone=+49%2030%201234");

    // Where the executor's time goes: rendering, sending, reading the outputs.
    let phases = std::cell::RefCell::new([Duration::ZERO; 3]);
    let through_executor = || async {
        let started = Instant::now();
        let context = RequestContext {
            renderer: &renderer,
            auth: &auth,
            variables: &variables,
            user_fields: &[],
            access_token: None,
        };
        let outbound = context
            .render("SyncContactAuto", &template, GlobalHeaders::Apply)
            .unwrap()
            .unwrap();
        let rendered = Instant::now();
        let exchange = executor.send(lane, &outbound).await.unwrap();
        let sent = Instant::now();
        let results = read_outputs(&template, &exchange.received, &variables).unwrap();
        let read = Instant::now();
        {
            let mut phases = phases.borrow_mut();
            phases[0] += rendered - started;
            phases[1] += sent - rendered;
            phases[2] += read - sent;
        }
        assert_eq!(results.len(), 2);
        assert_eq!(results[1]["Output21"], "value 21 of contact 2");
    };
    let bare_get = || async {
        let response = bare.get(&bare_url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        std::hint::black_box(response.bytes().await.unwrap());
    };

    let (executor_median, bare_median) = common::side_by_side(through_executor, bare_get).await;
    let (rounds, per_round) = (common::ROUNDS, common::CALLS_PER_ROUND);
    let calls = rounds as u32 * per_round + common::WARM_UP_CALLS;
    let phases = phases
        .borrow()
        .map(|total| total.as_secs_f64() * 1e6 / f64::from(calls));
    println!(
        "one GET, 22 outputs read: executor {:.1} µs, bare reqwest {:.1} µs per request (medians of {rounds} rounds × {per_round}); ratio {:.3} (target ≤ 1.10)",
        executor_median.as_secs_f64() * 1e6,
        bare_median.as_secs_f64() * 1e6,
        executor_median.as_secs_f64() / bare_median.as_secs_f64()
    );
    println!(
        "executor phases (means): render {:.1} µs, send and read the answer {:.1} µs, extract 22 outputs {:.1} µs",
        phases[0], phases[1], phases[2]
    );
}
