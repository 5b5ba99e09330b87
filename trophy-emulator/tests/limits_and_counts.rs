//! Rate limits per tier (`rate_limits`, `--rate-limits`) and the counts of stored events
//! (`event_counts`, `metric_totals`, `/_emulator/events`), over loopback.

mod common;

use common::Api;
use reqwest::Method;
use serde_json::json;
use trophy_emulator::{Emulator, Faults, RateLimits};

#[tokio::test]
async fn tiers_are_limited_separately_and_answered_429_with_retry_after() {
    // Tier 1: 3 requests at once (the metric creation is one), tier 2: 4.
    let api = Api::with(Emulator::builder().rate_limits(RateLimits::per_second(3.0, 4.0))).await;
    api.metric("words").await;
    // A single event and an Admin read are tier 1 like the creation: the third request of the
    // tier is the last one let through.
    api.event("words", "ada", 1.0).await.expect(201);
    api.admin(Method::GET, "/metrics", None).await.expect(200);
    let refused = api.event("words", "ada", 1.0).await;
    refused.expect(429);
    assert!(refused.error().contains("tier 1"), "{}", refused.error());
    let after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(after >= 1);
    // Tier 2 is untouched by tier 1's exhaustion: 4 reads pass, the fifth is refused.
    for _ in 0..4 {
        api.app(Method::GET, "/users/ada", None).await.expect(200);
    }
    api.app(Method::GET, "/users/ada", None).await.expect(429);
    let counts = api.emu.rate_limit_counts().unwrap();
    assert_eq!((counts.admitted, counts.rejected), ([3, 4], [1, 1]));
    let control = api.control(Method::GET, "/_emulator/rate-limits", None).await;
    control.expect(200);
    assert_eq!(control.json()["rejected"], json!({"tier1": 1, "tier2": 1}));
    // The refused event changed nothing.
    assert_eq!(api.emu.event_counts().stored, 1);
    // Controls are never limited, and a limiter-less emulator says so.
    let plain = Api::start().await;
    assert_eq!(
        plain.control(Method::GET, "/_emulator/rate-limits", None).await.json()["enabled"],
        false
    );
    assert!(plain.emu.rate_limit_counts().is_none());
}

#[tokio::test]
async fn batch_events_are_counted_with_replays_and_lost_answers() {
    let api = Api::start().await;
    api.metric("words").await;
    let batch = |keys: &[&str]| {
        json!(keys
            .iter()
            .enumerate()
            .map(|(i, k)| json!({"key": "words", "user": {"id": format!("u{}", i % 2)}, "value": 2.0, "idempotencyKey": k}))
            .collect::<Vec<_>>())
    };
    api.admin(Method::POST, "/metrics/events", Some(&batch(&["a", "b", "c"])))
        .await
        .expect(202);
    // The answer to this batch is lost after it was processed: "d" is stored, and "a" and "b"
    // are replays; sending the whole batch again stores nothing more.
    api.emu.set_faults(Faults::new(1.0, 503).after_processing());
    api.admin(Method::POST, "/metrics/events", Some(&batch(&["a", "b", "d"])))
        .await
        .expect(503);
    api.emu.set_faults(Faults::none());
    api.admin(Method::POST, "/metrics/events", Some(&batch(&["a", "b", "d"])))
        .await
        .expect(202);
    let counts = api.emu.event_counts();
    assert_eq!((counts.stored, counts.replayed), (4, 5));
    let totals: Vec<(String, u64, f64)> = api
        .emu
        .metric_totals()
        .into_iter()
        .map(|t| (t.user_id, t.events, t.total))
        .collect();
    assert_eq!(totals, [("u0".to_string(), 3, 6.0), ("u1".to_string(), 1, 2.0)]);
    let control = api.control(Method::GET, "/_emulator/events", None).await.json();
    assert_eq!(
        (control["stored"].as_u64(), control["replayed"].as_u64()),
        (Some(4), Some(5))
    );
    assert_eq!(
        control["totals"][0],
        json!({"tenant": "", "userId": "u0", "metric": "words", "events": 3, "total": 6.0})
    );
}
