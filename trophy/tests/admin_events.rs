//! Wire tests of the Admin API batch metric events, and of their idempotency keys.

mod common;

use common::Harness;
use serde_json::{json, Value};
use std::time::Duration;
use trophy::api::admin::events::BatchEvent;
use trophy::{RetryConfig, UserInput};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn fast_retries() -> RetryConfig {
    RetryConfig::standard()
        .max_attempts(2)
        .jitter(false)
        .initial_backoff(Duration::from_millis(1))
}

/// The bodies of every request received, in order.
async fn bodies(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The `idempotencyKey` of each event of a body (`None` when absent).
fn keys(body: &Value) -> Vec<Option<String>> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("idempotencyKey").map(|k| k.as_str().unwrap().to_string()))
        .collect()
}

fn is_uuid_v4(key: &str) -> bool {
    uuid::Uuid::parse_str(key).is_ok_and(|u| u.get_version_num() == 4)
}

/// Answers 503 once, then 202.
async fn unavailable_once(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/admin/v1/metrics/events"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": "Service unavailable"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/admin/v1/metrics/events"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"accepted": 3})))
        .with_priority(2)
        .mount(server)
        .await;
}

fn three_events() -> Vec<BatchEvent> {
    vec![
        BatchEvent::new("words-written", "user-1", 750.0),
        BatchEvent::new("words-written", "user-2", 120.0).idempotency_key("import-42-user-2"),
        BatchEvent::new("chapters-finished", "user-1", 1.0),
    ]
}

#[tokio::test]
async fn batch_sends_events_as_built_and_decodes_the_count() {
    let h = Harness::new().await;
    h.expect("POST", "/admin/v1/metrics/events", 202, json!({"accepted": 2}))
        .await;
    let user = UserInput::new("user-1")
        .email("ada@example.com")
        .tz("Europe/London")
        .attribute("plan", "pro");
    let response = h
        .client
        .admin()
        .metrics()
        .batch_events([
            BatchEvent::new("words-written", user, 750.5)
                .event_attribute("category", "fiction")
                .event_attribute("device", "tablet")
                .idempotency_key("import-42-0"),
            BatchEvent::new("chapters-finished", "user-2", 1.0).idempotency_key("import-42-1"),
        ])
        .tenant_id("acme")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.body().accepted, 2);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn with_retries_every_event_gets_a_key_and_all_attempts_carry_the_same_keys() {
    let server = MockServer::start().await;
    unavailable_once(&server).await;
    let client = Harness::client_for(&server, trophy::Client::builder().retry(fast_retries()));
    let result = client
        .admin()
        .metrics()
        .batch_events(three_events())
        .send()
        .await
        .unwrap();
    assert_eq!(result.accepted, 3);

    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 2, "one 503, one retry");
    assert_eq!(bodies[0], bodies[1], "the retry sends the same body");
    let keys = keys(&bodies[0]);
    let generated: Vec<&str> = [0, 2].iter().map(|&i| keys[i].as_deref().unwrap()).collect();
    assert!(generated.iter().all(|k| is_uuid_v4(k)), "{generated:?}");
    assert_ne!(generated[0], generated[1], "one key per event");
    // (b) a key set by the caller is kept as is.
    assert_eq!(keys[1].as_deref(), Some("import-42-user-2"));
}

#[tokio::test]
async fn a_per_call_retry_setting_turns_the_keys_on() {
    let h = Harness::new().await;
    h.expect("POST", "/admin/v1/metrics/events", 202, json!({"accepted": 3}))
        .await;
    h.client
        .admin()
        .metrics()
        .batch_events(three_events())
        .retry(fast_retries())
        .send()
        .await
        .unwrap();
    let keys = keys(&bodies(&h.server).await[0]);
    assert!(is_uuid_v4(keys[0].as_deref().unwrap()));
    assert_eq!(keys[1].as_deref(), Some("import-42-user-2"));
    assert!(is_uuid_v4(keys[2].as_deref().unwrap()));
}

#[tokio::test]
async fn without_retries_no_key_is_added() {
    // The harness client has retries disabled.
    let h = Harness::new().await;
    h.expect("POST", "/admin/v1/metrics/events", 202, json!({"accepted": 3}))
        .await;
    h.client
        .admin()
        .metrics()
        .batch_events(three_events())
        .send()
        .await
        .unwrap();
    assert_eq!(
        keys(&bodies(&h.server).await[0]),
        [None, Some("import-42-user-2".to_string()), None]
    );

    // Nor when a retrying client disables them for the call.
    let server = MockServer::start().await;
    unavailable_once(&server).await;
    let client = Harness::client_for(&server, trophy::Client::builder().retry(fast_retries()));
    let err = client
        .admin()
        .metrics()
        .batch_events(three_events())
        .retry(RetryConfig::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 1, "not retried");
    assert_eq!(keys(&bodies[0]), [None, Some("import-42-user-2".to_string()), None]);
}

#[tokio::test]
async fn events_are_checked_before_sending() {
    let h = Harness::new().await;
    let events = h.client.admin().metrics();
    assert_eq!(invalid_field(events.batch_events(Vec::new()).send().await), "events");
    let many = (0..1001).map(|i| BatchEvent::new("words-written", format!("user-{i}"), 1.0));
    assert_eq!(invalid_field(events.batch_events(many).send().await), "events");
    let nan = [
        BatchEvent::new("words-written", "user-1", 1.0),
        BatchEvent::new("words-written", "user-2", f64::NAN),
    ];
    assert_eq!(invalid_field(events.batch_events(nan).send().await), "events[1].value");
    let infinite = [BatchEvent::new("words-written", "user-1", f64::INFINITY)];
    assert_eq!(
        invalid_field(events.batch_events(infinite).send().await),
        "events[0].value"
    );
    assert_eq!(
        invalid_field(events.batch_events([BatchEvent::new("", "user-1", 1.0)]).send().await),
        "events[0].key"
    );
    assert_eq!(
        invalid_field(
            events
                .batch_events([BatchEvent::new("words-written", "", 1.0)])
                .send()
                .await
        ),
        "events[0].user.id"
    );
    let blank_key = [BatchEvent::new("words-written", "user-1", 1.0).idempotency_key("")];
    assert_eq!(
        invalid_field(events.batch_events(blank_key).send().await),
        "events[0].idempotency_key"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_full_batch_of_1000_is_accepted() {
    let h = Harness::new().await;
    h.expect("POST", "/admin/v1/metrics/events", 202, json!({"accepted": 1000}))
        .await;
    let all = (0..1000).map(|i| BatchEvent::new("words-written", format!("user-{i}"), f64::from(i)));
    assert_eq!(
        h.client
            .admin()
            .metrics()
            .batch_events(all)
            .send()
            .await
            .unwrap()
            .accepted,
        1000
    );
}
