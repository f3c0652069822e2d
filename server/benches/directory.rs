//! Extensions and user association at size, against a real `patchbay serve` (the release
//! binary, SQLite under a temporary directory) and a loopback CRM in this process:
//!
//! - a sync of 10,000 CRM users in 100 pages of 100 (`Link` headers), beside the bare
//!   fetch of the same 100 pages with `reqwest` (the I/O floor), and the server's memory:
//!   resident before, the most seen while it syncs (sampled every 2 ms), and its high-water
//!   mark (`VmHWM`);
//! - a CSV import of 5,000 extensions over HTTP (preview, apply, the same file again),
//!   beside reading and planning the file alone in this process;
//! - the integration page's first render with 10,000 CRM users, beside the same page with
//!   10 (paging keeps it flat: the ratio should stay near 1); and Associate Automatically
//!   over 10,000 users and 5,000 extensions.
//!
//! Run: `cargo bench -p server --bench directory`.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fixtures::Fixture;
use common::serve::{median, ms, sample_rss, Server};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{json, Value};

const USERS: usize = 10_000;
const PAGE_SIZE: usize = 100;
const EXTENSIONS: usize = 5_000;
/// Rounds of each timed step; the median is reported.
const ROUNDS: usize = 5;
/// Renders of each page per round.
const RENDERS_PER_ROUND: u32 = 10;

#[derive(Clone)]
struct Crm {
    base: Arc<String>,
    users: usize,
}

async fn users_page(
    State(crm): State<Crm>,
    Query(query): Query<BTreeMap<String, String>>,
) -> impl IntoResponse {
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let pages = crm.users.div_ceil(PAGE_SIZE);
    let first = (page - 1) * PAGE_SIZE;
    let users: Vec<Value> = (first..(first + PAGE_SIZE).min(crm.users))
        .map(|i| {
            json!({"id": format!("u{i}"), "first": format!("First{i}"), "last": "Last",
                   "email": format!("user{i}@crm.example")})
        })
        .collect();
    let mut response = axum::Json(json!({ "users": users })).into_response();
    if page < pages {
        let link = format!("<{}/users?page={}>; rel=\"next\"", crm.base, page + 1);
        response
            .headers_mut()
            .insert(header::LINK, link.parse().unwrap());
    }
    response
}

async fn start_crm(users: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/users", get(users_page))
        .route("/me", get(|| async { axum::Json(json!({"id": 1})) }))
        .with_state(Crm {
            base: Arc::new(base.clone()),
            users,
        });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn template(key: &str, crm: &str) -> String {
    Fixture::load("directory-users-crm.xml")
        .set("Name", key)
        .set("Key", key)
        .at(crm)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let big_crm = start_crm(USERS).await;
    let small_crm = start_crm(10).await;
    let server = Server::start(dir.path(), &[]).await;
    server.connect("big", template("big", &big_crm)).await;
    server.connect("small", template("small", &small_crm)).await;
    let bare = reqwest::Client::new();

    // 1. Sync 10,000 users: the first sync adds them all, later ones find them unchanged.
    println!("== CRM user sync: {USERS} users in pages of {PAGE_SIZE} (Link headers) ==");
    let resident_before = server.memory_kib("VmRSS:");
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicU64::new(0));
    let sampler = sample_rss(
        server.child.id().unwrap_or_default(),
        stop.clone(),
        most.clone(),
    );
    let mut bare_times = Vec::new();
    let mut first_sync = Duration::ZERO;
    let mut resyncs = Vec::new();
    for round in 0..ROUNDS {
        let start = Instant::now();
        let mut url = format!("{big_crm}/users?page=1");
        loop {
            let response = bare.get(&url).send().await.unwrap();
            let next = response
                .headers()
                .get(header::LINK)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| l.split(['<', '>']).nth(1))
                .map(str::to_owned);
            let _: Value = response.json().await.unwrap();
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        bare_times.push(start.elapsed());
        let start = Instant::now();
        let report = server
            .form("sync_crm_users", &[("provider", "crm"), ("key", "big")])
            .await;
        let took = start.elapsed();
        assert_eq!(report["users"], USERS, "{report}");
        assert_eq!(report["complete"], true, "{report}");
        if round == 0 {
            assert_eq!(report["added"], USERS);
            first_sync = took;
        } else {
            assert_eq!(report["unchanged"], USERS);
            resyncs.push(took);
        }
    }
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let bare_fetch = median(bare_times);
    let resync = median(resyncs);
    println!(
        "bare fetch of the 100 pages (reqwest, median of {ROUNDS}): {}",
        ms(bare_fetch)
    );
    println!(
        "first sync (10,000 added): {}  = {:.2}x the bare fetch",
        ms(first_sync),
        first_sync.as_secs_f64() / bare_fetch.as_secs_f64()
    );
    println!(
        "sync again (10,000 unchanged, median of {}): {}  = {:.2}x the bare fetch",
        ROUNDS - 1,
        ms(resync),
        resync.as_secs_f64() / bare_fetch.as_secs_f64()
    );
    println!(
        "server memory: resident before {} MiB, most seen while syncing {} MiB, high-water mark {} MiB",
        resident_before / 1024,
        most.load(Ordering::Relaxed) / 1024,
        server.memory_kib("VmHWM:") / 1024
    );

    // 2. Import 5,000 extensions (e-mails matching the first 5,000 users).
    println!("\n== CSV import: {EXTENSIONS} extensions ==");
    let mut csv = String::from("number,first_name,last_name,email\n");
    for i in 0..EXTENSIONS {
        csv.push_str(&format!(
            "{},Ext{i},\"Team, {}\",USER{i}@crm.example\n",
            10_000 + i,
            i % 7
        ));
    }
    let start = Instant::now();
    let preview = server.import(&csv, true).await;
    let preview_took = start.elapsed();
    assert_eq!(preview["new"], EXTENSIONS);
    let start = Instant::now();
    let applied = server.import(&csv, false).await;
    let import_took = start.elapsed();
    assert_eq!(applied["applied"], true);
    let mut again = Vec::new();
    let mut alone = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let report = server.import(&csv, false).await;
        again.push(start.elapsed());
        assert_eq!(report["unchanged"], EXTENSIONS);
        let start = Instant::now();
        let rows = server::directory::import::read(csv.as_bytes()).unwrap();
        let planned = server::directory::import::plan(&rows, &BTreeMap::new());
        assert_eq!(planned.len(), EXTENSIONS);
        alone.push(start.elapsed());
    }
    let alone = median(alone);
    println!(
        "reading and planning the file alone (in this process): {}",
        ms(alone)
    );
    println!(
        "preview over HTTP: {}  = {:.1}x;  import: {}  = {:.1}x;  the same file again (all unchanged, median of {ROUNDS}): {}",
        ms(preview_took),
        preview_took.as_secs_f64() / alone.as_secs_f64(),
        ms(import_took),
        import_took.as_secs_f64() / alone.as_secs_f64(),
        ms(median(again))
    );

    // 3. Associate Automatically over 10,000 users and 5,000 extensions, then the page.
    println!("\n== User association ==");
    let start = Instant::now();
    let plan = server
        .form(
            "associate_automatically",
            &[("provider", "crm"), ("key", "big"), ("apply", "false")],
        )
        .await;
    let plan_took = start.elapsed();
    assert_eq!(plan["associated"], EXTENSIONS, "{plan}");
    let start = Instant::now();
    server
        .form(
            "associate_automatically",
            &[("provider", "crm"), ("key", "big"), ("apply", "true")],
        )
        .await;
    println!(
        "Associate Automatically: what it will do {}, done {} ({EXTENSIONS} pairs)",
        ms(plan_took),
        ms(start.elapsed())
    );
    server
        .form("sync_crm_users", &[("provider", "crm"), ("key", "small")])
        .await;
    let render = |key: &'static str| {
        let server = &server;
        async move {
            let html = server
                .client
                .get(server.url(&format!("/integrations/crm/{key}")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains("data-crm-id="), "the users table is rendered");
        }
    };
    for _ in 0..3 {
        render("big").await;
        render("small").await;
    }
    let (mut big, mut small) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS * 3 {
        let start = Instant::now();
        for _ in 0..RENDERS_PER_ROUND {
            render("small").await;
        }
        small.push(start.elapsed() / RENDERS_PER_ROUND);
        let start = Instant::now();
        for _ in 0..RENDERS_PER_ROUND {
            render("big").await;
        }
        big.push(start.elapsed() / RENDERS_PER_ROUND);
    }
    let (big, small) = (median(big), median(small));
    println!(
        "integration page, first render with {USERS} users: {}  beside 10 users: {}  ratio {:.2}",
        ms(big),
        ms(small),
        big.as_secs_f64() / small.as_secs_f64()
    );
    let start = Instant::now();
    let page = server
        .get_json("/api/list_crm_users?provider=crm&key=big&search=user4242")
        .await;
    assert_eq!(page["total"], 1, "{page}");
    println!("a search over {USERS} users: {}", ms(start.elapsed()));
    let start = Instant::now();
    let page = server
        .get_json("/api/list_extensions?sort=last_name&descending=true&offset=2500")
        .await;
    assert_eq!(page["total"], EXTENSIONS, "{page}");
    println!(
        "the Extensions page's page 51 of {EXTENSIONS}, sorted by last name: {}",
        ms(start.elapsed())
    );
}
