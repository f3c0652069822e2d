//! What the benches share: measuring two ways of doing the same work side by side.

#![allow(dead_code)] // each bench uses a part

/// The tests' fixture templates (`fixtures/crm/`), so a bench measures what a test checks.
#[path = "../../tests/it/common/fixtures.rs"]
pub mod fixtures;
pub mod serve;

use std::future::Future;
use std::time::{Duration, Instant};

/// Calls of each side before measuring (connections warm, caches filled).
pub const WARM_UP_CALLS: u32 = 200;
pub const ROUNDS: usize = 31;
pub const CALLS_PER_ROUND: u32 = 200;

/// Runs `ours` and `bare` interleaved, [`ROUNDS`] rounds of [`CALLS_PER_ROUND`] calls
/// each after a warm-up, so both meet the same machine; answers the median time per call
/// of each.
pub async fn side_by_side<A, FA, B, FB>(ours: A, bare: B) -> (Duration, Duration)
where
    A: Fn() -> FA,
    FA: Future<Output = ()>,
    B: Fn() -> FB,
    FB: Future<Output = ()>,
{
    for _ in 0..WARM_UP_CALLS {
        ours().await;
        bare().await;
    }
    let mut ours_times = Vec::new();
    let mut bare_times = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..CALLS_PER_ROUND {
            bare().await;
        }
        bare_times.push(start.elapsed() / CALLS_PER_ROUND);
        let start = Instant::now();
        for _ in 0..CALLS_PER_ROUND {
            ours().await;
        }
        ours_times.push(start.elapsed() / CALLS_PER_ROUND);
    }
    ours_times.sort();
    bare_times.sort();
    (ours_times[ROUNDS / 2], bare_times[ROUNDS / 2])
}
