//! What the production counters cost (README "Faults and health", "Drift"): every run's
//! Activity row now also adds to its hourly counters (`storage::counters`) and its outputs'
//! drift figures (`storage::drift`). On SQLite, in one run:
//!
//! - **the cost per run**: a whole Activity record (row, counters, drift, pruning) beside the
//!   counters and drift alone, interleaved, with their ratio;
//! - **the storage per 100,000 runs**: 100,000 runs spread over 30 days (one integration, a
//!   lookup with 5 outputs, 10 % failures in 3 layers), the rows and bytes the counters and
//!   drift figures take.
//!
//! Run: `cargo bench -p server --bench production_counters`.

use std::time::Instant;

use app::activity::Fault;
use sea_orm::{ConnectionTrait, Statement};
use server::storage::activity::{ActivityRepository, NewActivity, Retention};
use server::storage::counters::CounterRepository;
use server::storage::drift::{DriftRepository, Observation};

const PAIRS: usize = 2_000;
const RUNS: usize = 100_000;
const DAYS: i64 = 30;
const OUTPUTS: [&str; 5] = ["ContactsId", "FirstName", "LastName", "Company", "Email"];

fn observations(read: bool) -> Vec<Observation> {
    OUTPUTS
        .iter()
        .map(|output| Observation {
            step: "SyncContactAuto/Contacts".into(),
            output: (*output).into(),
            read: read || *output == "ContactsId",
        })
        .collect()
}

fn run(n: usize, at_ms: i64) -> NewActivity {
    let fault = match n % 30 {
        0 => Some(Fault::CrmFailed),
        10 => Some(Fault::Network),
        20 => Some(Fault::RateLimited),
        _ => None,
    };
    NewActivity {
        integration_id: 1,
        at_ms,
        scenario: "SyncContactAuto".into(),
        origin: "call",
        outcome: if fault.is_some() { "failed" } else { "success" },
        status: Some(200),
        duration_ms: 40,
        requests: 1,
        error: fault.map(|_| "the CRM failed".into()),
        detail: None,
        fault,
        crm_ms: Some((n % 700) as u64),
        observations: if fault.is_some() {
            Vec::new()
        } else {
            observations(!n.is_multiple_of(7))
        },
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let db = server::storage::connect(&url).await.unwrap();
    // Activity rows belong to an integration of a template.
    for sql in [
        "INSERT INTO templates (id, provider, key, name, remark, version, xml, warnings, created_at, updated_at, revision) VALUES (1, 'crm', 'bench', 'Bench', '', '1', '<x/>', '[]', 0, 0, 1)",
        "INSERT INTO integrations (id, template_id, template_revision, template_xml, settings, global_variables, features, status, token_generation, created_at, updated_at) VALUES (1, 1, 1, '<x/>', '{}', '{}', '{}', 'connected', 1, 0, 0)",
    ] {
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }
    let activity = ActivityRepository::new(db.clone(), Retention::default());
    let counters = CounterRepository::new(db.clone());
    let drift = DriftRepository::new(db.clone());
    let now = server::storage::unix_now_ms();

    let (mut whole, mut extra) = (Vec::new(), Vec::new());
    for n in 0..PAIRS {
        let entry = run(n, now);
        let started = Instant::now();
        activity.record(entry.clone()).await.unwrap();
        whole.push(started.elapsed().as_secs_f64() * 1e3);
        let names = vec!["success".to_owned(), "crm_ms:100".to_owned()];
        let started = Instant::now();
        counters.add(2, now, &names).await.unwrap();
        drift.observe(2, &entry.observations, now).await.unwrap();
        extra.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (whole, extra) = (median(whole), median(extra));
    println!("cost per run ({PAIRS} interleaved pairs, SQLite, medians):");
    println!("  a whole Activity record (row, counters, drift, pruning): {whole:.3} ms");
    println!("  the counters and drift figures alone:                    {extra:.3} ms");
    println!(
        "  ratio: the counters are {:.0} % of writing a run",
        extra / whole * 100.0
    );

    let fresh = 3;
    let started = Instant::now();
    let step_ms = DAYS * 86_400_000 / RUNS as i64;
    for n in 0..RUNS {
        let entry = run(n, now - DAYS * 86_400_000 + n as i64 * step_ms);
        let names: Vec<String> = {
            let mut names = Vec::new();
            match entry.fault {
                Some(fault) => names.push(format!("failed:{}", fault.as_str())),
                None => names.push("success".into()),
            }
            names.push(format!(
                "crm_ms:{}",
                app::activity::latency_bucket(entry.crm_ms.unwrap_or(0))
            ));
            names
        };
        counters.add(fresh, entry.at_ms, &names).await.unwrap();
        drift
            .observe(fresh, &entry.observations, entry.at_ms)
            .await
            .unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counter_rows = scalar(
        &db,
        &format!("SELECT COUNT(*) FROM integration_counters WHERE integration_id = {fresh}"),
    )
    .await;
    let counter_bytes = scalar(
        &db,
        &format!("SELECT SUM(LENGTH(name) + 8 + 8 + 4) FROM integration_counters WHERE integration_id = {fresh}"),
    )
    .await;
    let drift_rows = scalar(
        &db,
        &format!("SELECT COUNT(*) FROM output_stats WHERE integration_id = {fresh}"),
    )
    .await;
    let drift_bytes = scalar(
        &db,
        &format!("SELECT SUM(LENGTH(step) + LENGTH(output) + 4 * 8 + 4) FROM output_stats WHERE integration_id = {fresh}"),
    )
    .await;
    println!(
        "storage per {RUNS} runs over {DAYS} days ({:.1} s to write them):",
        elapsed
    );
    println!(
        "  hourly counters: {counter_rows} rows, about {:.1} KiB of values",
        counter_bytes as f64 / 1024.0
    );
    println!("  drift figures:   {drift_rows} rows, about {drift_bytes} bytes of values");
    println!("  (the Activity rows themselves are bounded by PATCHBAY_ACTIVITY_KEEP, 1,000 per integration by default)");
}
