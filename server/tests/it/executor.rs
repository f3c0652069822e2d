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

/// A server that records the `X-Api-Key` of every request it gets; `/away` redirects to
/// `elsewhere`, `/here` to its own `/final`.
async fn recording_server(
    elsewhere: Option<String>,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (record, elsewhere) = (record.clone(), elsewhere.clone());
        async move {
            let key = request
                .headers()
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            record
                .lock()
                .unwrap()
                .push(format!("{} {key}", request.uri().path()));
            let redirect = |to: String| {
                axum::response::Response::builder()
                    .status(307)
                    .header("location", to)
                    .body(axum::body::Body::empty())
                    .unwrap()
            };
            match request.uri().path() {
                "/away" => redirect(elsewhere.unwrap_or_default()),
                "/here" => redirect("/final".into()),
                _ => axum::response::Response::new(axum::body::Body::from("{}")),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

fn executor(policy: server::engine::core::outbound::OutboundPolicy) -> Executor {
    Executor::new(ExecutorSettings {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(15),
        policy,
    })
    .unwrap()
}

fn with_key(url: &str) -> OutboundRequest {
    OutboundRequest {
        headers: vec![("X-Api-Key".into(), "k-Secret-Lynx".into())],
        ..get(url)
    }
}

const LANE: Lane = Lane {
    integration_id: 1,
    max_concurrent: 2,
};

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_with_the_requests_headers() {
    let (collector, collected) = recording_server(None).await;
    // Another origin on the same machine: "localhost" is not "127.0.0.1".
    let collector = collector.replace("127.0.0.1", "localhost");
    let (crm, seen) = recording_server(Some(format!("{collector}/steal"))).await;
    let executor = executor(Default::default());

    let followed = executor
        .send(LANE, &with_key(&format!("{crm}/here")))
        .await
        .unwrap();
    assert_eq!(followed.received.status, 200);
    assert_eq!(
        *seen.lock().unwrap(),
        ["/here k-Secret-Lynx", "/final k-Secret-Lynx"],
        "within the origin the redirect is followed with the template's headers"
    );

    let refused = executor
        .send(LANE, &with_key(&format!("{crm}/away")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            server::engine::executor::SendError::RedirectElsewhere { .. }
        ),
        "{refused:?}"
    );
    let message = refused.to_string();
    assert!(
        message.contains("another origin") && message.contains("/steal"),
        "{message}"
    );
    assert!(
        collected.lock().unwrap().is_empty(),
        "the other origin got nothing"
    );
}

#[tokio::test]
async fn the_outbound_policy_is_checked_on_the_address_a_connection_uses() {
    use server::engine::core::outbound::OutboundPolicy;
    use server::engine::executor::SendError;
    let (crm, seen) = recording_server(None).await;
    let port = crm.rsplit(':').next().unwrap().to_owned();

    // The default: metadata and link-local refused before anything is sent; loopback is fine.
    let default = executor(OutboundPolicy::default());
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
    ] {
        let refused = default.send(LANE, &get(url)).await.unwrap_err();
        let message = refused.to_string();
        assert!(
            matches!(refused, SendError::Refused { .. }),
            "{url}: {refused:?}"
        );
        assert!(message.contains("PATCHBAY_OUTBOUND_DENY"), "{message}");
    }
    assert_eq!(
        default
            .send(LANE, &get(&format!("{crm}/ok")))
            .await
            .unwrap()
            .received
            .status,
        200
    );

    // Denying loopback refuses a name that resolves there (the check is on the resolved
    // address: no DNS answer gets past it) as well as the literal address.
    let denied = executor(OutboundPolicy::parse("127.0.0.0/8, ::1", "").unwrap());
    for url in [
        format!("http://localhost:{port}/x"),
        format!("http://127.0.0.1:{port}/x"),
    ] {
        let refused = denied.send(LANE, &get(&url)).await.unwrap_err();
        assert!(
            matches!(refused, SendError::Refused { .. }),
            "{url}: {refused:?}"
        );
        assert!(
            refused
                .to_string()
                .contains("PATCHBAY_OUTBOUND_DENY (127.0.0.0/8)"),
            "{refused}"
        );
    }
    // An allow list is the only place requests go.
    let allowed = executor(OutboundPolicy::parse("", "127.0.0.2").unwrap());
    let refused = allowed
        .send(LANE, &get(&format!("{crm}/x")))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not in PATCHBAY_OUTBOUND_ALLOW"),
        "{refused}"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        ["/ok "],
        "only the allowed request arrived"
    );
}
