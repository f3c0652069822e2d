//! The executor against loopback servers: MaxConcurrentRequest is a queue per integration.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use server::engine::core::request::{Method, OutboundRequest};
use server::engine::executor::{Executor, ExecutorSettings, Lane};

/// A server that holds each request 100 ms and records how many it held at once.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, most) = (in_flight.clone(), peak.clone());
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::get(move || {
            let (now, most) = (now.clone(), most.clone());
            async move {
                let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(current, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, peak)
}

fn get(url: &str) -> OutboundRequest {
    OutboundRequest {
        name: "Slow".into(),
        method: Method::Get,
        url: url.parse().unwrap(),
        headers: Vec::new(),
        body: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_beyond_max_concurrent_wait_their_turn_per_integration() {
    let executor = Arc::new(
        Executor::new(ExecutorSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            policy: Default::default(),
        })
        .unwrap(),
    );
    for (max_concurrent, sent) in [(2usize, 8usize), (5, 10)] {
        let (base, peak) = counting_server().await;
        let request = get(&format!("{base}/slow"));
        let lane = Lane {
            integration_id: max_concurrent as i32,
            max_concurrent,
        };
        let tasks: Vec<_> = (0..sent)
            .map(|_| {
                let (executor, request) = (executor.clone(), request.clone());
                tokio::spawn(async move { executor.send(lane, &request).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(
                task.await.unwrap().unwrap().received.status,
                200,
                "none refused"
            );
        }
        assert_eq!(
            peak.load(Ordering::SeqCst),
            max_concurrent,
            "at most {max_concurrent} at once"
        );
    }
}
