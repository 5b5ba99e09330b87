//! Runs `examples/axum_service.rs` as CI's test of it: the service and the emulator on real
//! loopback sockets, driven over HTTP the way its users would.

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/axum_service.rs"]
mod service;

use std::time::Duration;
use tokio::net::TcpListener;

fn http() -> reqwest::Client {
    // An application making its own reqwest calls installs a provider first (see the TLS docs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn the_axum_service_ingests_reads_receives_webhooks_and_flushes_on_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // What `main` does without TROPHY_API_KEY: the emulator, its webhooks sent to the service.
    let (client, secret, emulator) = service::with_emulator(&format!("{base}/webhooks/trophy"))
        .await
        .unwrap();
    let state = service::app_state(client.clone(), secret).await.unwrap();
    // A restart runs the set-up again: it finds everything and creates nothing more.
    service::set_up(&client).await.unwrap();
    let metrics = client.admin().metrics().list().limit(100).send().await.unwrap();
    assert_eq!(metrics.iter().filter(|m| m.key == service::METRIC).count(), 1);
    let boards = client.admin().leaderboards().list().limit(100).send().await.unwrap();
    assert_eq!(boards.iter().filter(|b| b.key == service::LEADERBOARD).count(), 1);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    let http = http();

    // Lessons: 30 for ada, 20 for bo, each answered 202 at once.
    for (user, lessons) in [("ada", 30), ("bo", 20)] {
        for _ in 0..lessons {
            let r = http
                .post(format!("{base}/lessons/{user}/complete"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
    }
    assert_eq!(
        state
            .ingester
            .flush_within(Duration::from_secs(30))
            .await
            .unwrap()
            .pending,
        0
    );
    let stats = state.ingester.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (50, 0));
    assert!(stats.requests < 50, "batched: {} requests", stats.requests);

    // Progress: metric, streak, points (10 per lesson) and rank.
    for (user, lessons, rank) in [("ada", 30.0, 1), ("bo", 20.0, 2)] {
        let r = http.get(format!("{base}/users/{user}/progress")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({"user": user, "lessons": lessons, "streak": 1, "points": lessons as i64 * 10, "rank": rank}),
        );
    }
    let r = http.get(format!("{base}/users/nobody/progress")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Webhooks: every delivery the emulator made was verified by the extractor and handled.
    let deliveries = emulator.settle_webhooks().await;
    assert!(deliveries.len() >= 50, "{}", deliveries.len());
    assert!(deliveries.iter().all(|d| d.delivered && d.status == Some(204)));
    let received = state.received.lock().unwrap().clone();
    let sent: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(received, sent);
    assert_eq!(sent.iter().filter(|t| **t == "points.changed").count(), 50);
    // A forged delivery never reaches the handler.
    let forged = http
        .post(format!("{base}/webhooks/trophy"))
        .header(
            trophy::webhooks::SIGNATURE_HEADER,
            trophy::webhooks::sign("not-the-secret", b"{}"),
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(state.received.lock().unwrap().len(), received.len());

    // Graceful shutdown: lessons answered just before it are delivered by the ingester's shutdown.
    for _ in 0..10 {
        let r = http.post(format!("{base}/lessons/cy/complete")).send().await.unwrap();
        assert_eq!(r.status(), 202);
    }
    stop.send(()).unwrap();
    let report = server.await.unwrap().unwrap();
    assert!(report.undelivered.is_empty());
    assert_eq!(report.stats.delivered, 60);
    let cy: Vec<_> = emulator
        .metric_totals()
        .into_iter()
        .filter(|t| t.user_id == "cy" && t.metric == service::METRIC)
        .map(|t| (t.events, t.total))
        .collect();
    assert_eq!(cy, [(10, 10.0)]);
    assert_eq!(emulator.event_counts().stored, 60);
}
