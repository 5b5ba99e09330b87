//! The fault matrix: retries, idempotency keys, timeouts, hostile responses, path safety,
//! validation and secrets. RELIABILITY.md lists every row with the test that proves it.

mod common;

use common::{Capture, Harness};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trophy::{Client, Error, RetryConfig, Timeouts, UserInput};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Retries without jitter and with tiny backoffs, so tests are quick and exact.
fn fast_retry(attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .max_attempts(attempts)
        .jitter(false)
        .initial_backoff(Duration::from_millis(5))
}

fn client(server: &MockServer, retry: RetryConfig) -> Client {
    Harness::client_for(server, Client::builder().retry(retry))
}

/// Answers with the statuses in order, then repeats the last one.
struct Sequence(Mutex<Vec<ResponseTemplate>>);

impl Sequence {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        let mut r = responses;
        r.reverse();
        Sequence(Mutex::new(r))
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut v = self.0.lock().unwrap();
        if v.len() > 1 {
            v.pop().unwrap()
        } else {
            v[0].clone()
        }
    }
}

fn event_body(total: f64) -> serde_json::Value {
    json!({
        "eventId": "evt_1", "metricId": "met_1", "total": total, "achievements": [],
        "currentStreak": {"length": 1, "frequency": "daily", "started": "2026-11-27", "periodStart": "2026-11-27",
                          "periodEnd": "2026-11-27", "expires": "2026-11-28", "extended": true},
        "points": {}, "leaderboards": {}
    })
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn two_500s_then_200_succeeds_in_three_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/achievements"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(500).set_body_json(json!({"error": "boom"})),
            ResponseTemplate::new(500).set_body_json(json!({"error": "boom"})),
            ResponseTemplate::new(200).set_body_json(json!([])),
        ]))
        .mount(&server)
        .await;
    let list = client(&server, fast_retry(3))
        .achievements()
        .list()
        .send()
        .await
        .unwrap();
    assert!(list.is_empty());
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn retry_after_two_seconds_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "2")
                .set_body_json(json!({"error": "slow down"})),
            ResponseTemplate::new(200).set_body_json(json!([])),
        ]))
        .mount(&server)
        .await;
    let start = Instant::now();
    client(&server, fast_retry(3))
        .achievements()
        .list()
        .send()
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "waited only {:?}",
        start.elapsed()
    );
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_ends_the_retries() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let e = client(&server, fast_retry(3))
        .achievements()
        .list()
        .send()
        .await
        .unwrap_err();
    assert!(e.is_rate_limited());
    assert_eq!(e.attempts(), 1);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn endless_503_fails_after_max_attempts_and_says_how_many() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": "Service unavailable"})))
        .mount(&server)
        .await;
    let e = client(&server, fast_retry(3))
        .achievements()
        .list()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.attempts(), 3);
    assert_eq!(e.message(), Some("Service unavailable"));
    assert_eq!(
        e.to_string(),
        "achievements().list (achievements_all) failed with HTTP 503: Service unavailable after 3 attempts"
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    for status in [400u16, 401, 403, 404, 409, 422] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"error": "no"})))
            .mount(&server)
            .await;
        let e = client(&server, fast_retry(3))
            .achievements()
            .list()
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert!(!e.is_retryable());
        assert_eq!(requests(&server).await.len(), 1, "status {status}");
    }
}

/// A server that answers `[]` to anything, 5 s late.
async fn slow_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn slow_response_hits_the_attempt_timeout() {
    let server = slow_server().await;
    let c = client(&server, RetryConfig::disabled());
    let start = Instant::now();
    let e = c
        .achievements()
        .list()
        .attempt_timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(3));
    let Error::Timeout(t) = &e else { panic!("{e:?}") };
    assert!(!t.whole_call);
    assert_eq!(t.limit, Duration::from_millis(200));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn the_call_budget_covers_retries() {
    let server = slow_server().await;
    let c = Harness::client_for(
        &server,
        Client::builder().retry(fast_retry(10)).timeouts(
            Timeouts::default()
                .per_attempt(Duration::from_millis(100))
                .per_call(Duration::from_millis(350)),
        ),
    );
    let e = c.achievements().list().send().await.unwrap_err();
    let Error::Timeout(t) = &e else { panic!("{e:?}") };
    assert!(t.whole_call);
    assert!(t.attempts >= 2 && t.attempts <= 4, "{}", t.attempts);
}

#[tokio::test]
async fn an_attempt_limit_beyond_the_call_budget_ends_at_the_budget() {
    let server = slow_server().await;
    let c = client(&server, RetryConfig::disabled());
    let list = c.achievements().list().attempt_timeout(Duration::from_secs(10));
    let t = ends_at_budget(list.timeout(Duration::from_millis(300))).await;
    assert_eq!((t.limit, t.attempts), (Duration::from_millis(300), 1));
}

/// Sends `call` (which carries a budget, `.timeout(..)`, well under 3 s) and checks that it
/// failed with a whole-call timeout no sooner than the budget and well before the 5 s the
/// servers here would take; returns the timeout.
async fn ends_at_budget<C>(call: C) -> trophy::TimeoutError
where
    C: std::future::IntoFuture<Output = Result<Vec<trophy::types::AchievementWithStatsResponse>, Error>>,
{
    let start = Instant::now();
    let e = call.await.unwrap_err();
    let took = start.elapsed();
    let Error::Timeout(t) = e else { panic!("{e:?}") };
    assert!(t.whole_call);
    assert!(took >= t.limit && took < Duration::from_secs(3), "{took:?}");
    t
}

#[tokio::test]
async fn a_backoff_longer_than_the_rest_of_the_budget_ends_the_call_at_the_budget() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let slow_retry = RetryConfig::standard()
        .jitter(false)
        .initial_backoff(Duration::from_secs(5));
    let c = client(&server, slow_retry);
    let t = ends_at_budget(c.achievements().list().timeout(Duration::from_millis(400))).await;
    assert_eq!(t.limit, Duration::from_millis(400));
    assert_eq!(t.attempts, 1, "the second attempt never started");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn unbounded_timeouts_do_not_overflow() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let c = client(&server, RetryConfig::standard());
    let list = c
        .achievements()
        .list()
        .timeout(Duration::MAX)
        .attempt_timeout(Duration::MAX)
        .send()
        .await
        .unwrap();
    assert!(list.is_empty());
}

#[tokio::test]
async fn refused_connection_is_a_connection_error_retried_for_reads() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let c = Client::builder()
        .api_key("k")
        .api_url(format!("http://127.0.0.1:{port}/v1"))
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let e = c.achievements().list().send().await.unwrap_err();
    let Error::Connection(ce) = &e else { panic!("{e:?}") };
    assert_eq!(ce.attempts, 3);
    assert!(e.is_retryable());
    // Nothing was sent, so even a completion (never repeated once sent) is retried.
    let e = c.achievements().complete("k", "u").send().await.unwrap_err();
    assert_eq!(e.attempts(), 3);
}

/// A server that reads each request and answers the n-th connection with `answers[n]`; `None`
/// closes the connection without answering (a lost response). Returns the base URL and the
/// raw requests received.
async fn raw_server(answers: Vec<Option<String>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        for answer in answers {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = Vec::new();
            // Read headers and the announced body.
            loop {
                let n = sock.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            seen2.lock().unwrap().push(String::from_utf8_lossy(&got).to_string());
            match answer {
                Some(body) => {
                    let resp = format!(
                        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                }
                None => drop(sock),
            }
        }
    });
    (url, seen)
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn an_event_whose_201_is_lost_is_retried_with_the_same_idempotency_key() {
    let (url, seen) = raw_server(vec![None, None, Some(event_body(750.0).to_string())]).await;
    let c = Client::builder()
        .api_key("k")
        .api_url(url)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let r = c
        .metrics()
        .event("words", UserInput::new("u1"), 750.0)
        .send()
        .await
        .unwrap();
    assert_eq!(r.total, 750.0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let keys: Vec<&str> = seen
        .iter()
        .map(|r| header(r, "idempotency-key").expect("key on every attempt"))
        .collect();
    assert!(
        uuid::Uuid::parse_str(keys[0]).is_ok_and(|u| u.get_version_num() == 4),
        "{}",
        keys[0]
    );
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
}

#[tokio::test]
async fn a_completion_whose_response_is_lost_is_not_repeated() {
    let (url, seen) = raw_server(vec![None, Some("{}".into())]).await;
    let c = Client::builder()
        .api_key("k")
        .api_url(url)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let e = c
        .achievements()
        .complete("finish-onboarding", "u1")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection(_)), "{e:?}");
    assert_eq!(e.attempts(), 1);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn event_retries_on_5xx_reuse_the_callers_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(502),
            ResponseTemplate::new(201).set_body_json(event_body(3.0)),
        ]))
        .mount(&server)
        .await;
    client(&server, fast_retry(3))
        .metrics()
        .event("m", "u", 3.0)
        .idempotency_key("order-42")
        .send()
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.headers["idempotency-key"], "order-42");
    }
}

#[tokio::test]
async fn without_retries_no_key_is_invented() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(event_body(1.0)))
        .mount(&server)
        .await;
    client(&server, RetryConfig::disabled())
        .metrics()
        .event("m", "u", 1.0)
        .send()
        .await
        .unwrap();
    assert!(requests(&server).await[0].headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn a_202_replay_is_a_success_marked_replayed() {
    let server = MockServer::start().await;
    let mut body = event_body(10.0);
    body["idempotencyKey"] = json!("order-42");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_body_json(body))
        .mount(&server)
        .await;
    let r = client(&server, RetryConfig::disabled())
        .metrics()
        .event("m", "u", 10.0)
        .idempotency_key("order-42")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.body().idempotent_replayed, Some(true));
    assert_eq!(r.body().idempotency_key.as_deref(), Some("order-42"));
}

#[tokio::test]
async fn completions_are_retried_after_429_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(429),
            ResponseTemplate::new(500),
        ]))
        .mount(&server)
        .await;
    let e = client(&server, fast_retry(5))
        .achievements()
        .complete("a", "u")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn dropping_the_future_cancels_the_call() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let c = client(&server, fast_retry(5));
    let r = tokio::time::timeout(Duration::from_millis(100), c.achievements().list().send()).await;
    assert!(r.is_err(), "the call should still be running when dropped");
    tokio::time::sleep(Duration::from_millis(800)).await;
    // One attempt was in flight when the future was dropped; nothing retried afterwards.
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn path_parameters_reach_the_server_intact() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(event_body(1.0)))
        .mount(&server)
        .await;
    let c = client(&server, RetryConfig::disabled());
    let keys = [
        "a/b",
        "q?x=1",
        "frag#ment",
        "100%",
        "../../admin",
        "..x",
        "with space",
        "zoë-日本",
        "a+b&c=d;e",
    ];
    for k in keys {
        c.metrics().event(k, "u", 1.0).send().await.unwrap();
    }
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), keys.len());
    for (k, r) in keys.iter().zip(&reqs) {
        let raw = r.url.path();
        let segs: Vec<&str> = raw.trim_start_matches('/').split('/').collect();
        assert_eq!(segs.len(), 4, "{raw}");
        assert_eq!(segs[0], "v1");
        assert_eq!(segs[3], "event");
        let decoded = percent_encoding::percent_decode_str(segs[2]).decode_utf8().unwrap();
        assert_eq!(decoded, *k, "{raw}");
        assert!(r.url.query().is_none(), "{k} leaked into the query");
    }
    for bad in ["", ".", ".."] {
        let e = c.metrics().event(bad, "u", 1.0).send().await.unwrap_err();
        let Error::InvalidInput(i) = e else { panic!() };
        assert_eq!(i.field, "key");
    }
}

#[tokio::test]
async fn invalid_input_is_caught_before_sending() {
    let h = Harness::new().await;
    let c = &h.client;
    let field = |e: Error| match e {
        Error::InvalidInput(i) => i.field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(c.metrics().event("m", "", 1.0).send().await.unwrap_err()),
        "user.id"
    );
    assert_eq!(
        field(c.metrics().event("m", "u", f64::NAN).send().await.unwrap_err()),
        "value"
    );
    assert_eq!(
        field(c.metrics().event("m", "u", f64::INFINITY).send().await.unwrap_err()),
        "value"
    );
    assert_eq!(
        field(c.achievements().complete("", "u").send().await.unwrap_err()),
        "key"
    );
    assert_eq!(
        field(
            c.achievements()
                .list()
                .tenant_id("bad\ntenant")
                .send()
                .await
                .unwrap_err()
        ),
        "tenant_id"
    );
    assert_eq!(
        field(
            c.metrics()
                .event("m", "u", 1.0)
                .idempotency_key("")
                .send()
                .await
                .unwrap_err()
        ),
        "idempotency_key"
    );
    assert!(requests(&h.server).await.is_empty());
}

#[tokio::test]
async fn an_application_key_never_reaches_the_admin_api() {
    let server = MockServer::start().await;
    let c = Client::builder()
        .api_key("app_live_123")
        .api_url(format!("{}/v1", server.uri()))
        .admin_url(format!("{}/admin/v1", server.uri()))
        .build()
        .unwrap();
    let e = c.admin().metrics().list().send().await.unwrap_err();
    let Error::InvalidInput(i) = &e else { panic!("{e:?}") };
    assert_eq!(i.field, "api_key");
    assert!(requests(&server).await.is_empty());
}

async fn hostile(status: u16, body: Vec<u8>, content_type: &str) -> Error {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body, content_type))
        .mount(&server)
        .await;
    client(&server, RetryConfig::disabled())
        .achievements()
        .list()
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn hostile_responses_give_typed_errors_with_the_status() {
    // An HTML error page.
    let e = hostile(
        502,
        b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
        "text/html",
    )
    .await;
    let Error::Api(a) = &e else { panic!("{e:?}") };
    assert_eq!(a.status, 502);
    assert_eq!(a.message, None);
    assert!(a.body_snippet.as_deref().unwrap().contains("502 Bad Gateway"));

    // An empty body on success.
    let e = hostile(200, Vec::new(), "application/json").await;
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert_eq!(d.status, 200);

    // Truncated JSON.
    let e = hostile(200, br#"[{"id": "a", "trig"#.to_vec(), "application/json").await;
    assert!(matches!(&e, Error::Decode(d) if d.status == 200), "{e:?}");

    // Wrong types: the failing field is named.
    let body = json!([{"id": "a", "trigger": "api", "name": "n", "description": null, "badgeUrl": null,
                       "userAttributes": [], "completions": "lots", "rarity": 1.0}]);
    let e = hostile(200, body.to_string().into_bytes(), "application/json").await;
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert_eq!(d.path, "[0].completions");

    // Invalid UTF-8.
    let e = hostile(200, vec![b'[', 0xff, 0xfe, b']'], "application/json").await;
    assert!(matches!(&e, Error::Decode(_)), "{e:?}");

    // A 10 MB error body: the error keeps a bounded snippet.
    let e = hostile(500, vec![b'x'; 10 * 1024 * 1024], "text/plain").await;
    let Error::Api(a) = &e else { panic!("{e:?}") };
    assert_eq!(a.status, 500);
    assert!(a.body_snippet.as_ref().unwrap().len() <= 520);
    assert!(e.to_string().len() < 700);

    // A 10 MB success body of garbage: a decode error with a bounded snippet.
    let e = hostile(200, vec![b'x'; 10 * 1024 * 1024], "application/json").await;
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert!(d.body_snippet.len() <= 520);

    // Beyond the success limit: refused without reading it all.
    let e = hostile(200, vec![b' '; 33 * 1024 * 1024], "application/json").await;
    let Error::Decode(d) = &e else { panic!("{e:?}") };
    assert!(d.message.contains("larger than 32 MiB"), "{}", d.message);
}

#[tokio::test]
async fn undeclared_statuses_still_carry_trophys_message() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(418).set_body_json(json!({"error": "I am a teapot"})))
        .mount(&server)
        .await;
    let e = client(&server, RetryConfig::disabled())
        .achievements()
        .list()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(418));
    assert_eq!(e.message(), Some("I am a teapot"));
    assert!(e.headers().unwrap().contains_key("content-type"));
}

#[tokio::test]
async fn unknown_fields_and_enum_values_never_fail_a_call() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "id": "a", "trigger": "holiday", "name": "n", "description": null, "badgeUrl": null,
            "userAttributes": [], "completions": 1, "rarity": 1.0, "brandNewField": {"x": [1, 2]}
        }])))
        .mount(&server)
        .await;
    let list = client(&server, RetryConfig::disabled())
        .achievements()
        .list()
        .send()
        .await
        .unwrap();
    assert_eq!(
        list[0].trigger,
        trophy::types::AchievementTrigger::Unknown("holiday".into())
    );
    assert_eq!(serde_json::to_value(&list[0].trigger).unwrap(), json!("holiday"));
}

#[tokio::test(flavor = "current_thread")]
async fn the_key_never_appears_in_debug_display_errors_or_traces() {
    const SECRET: &str = "sk_live_DO_NOT_LEAK_4242";
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = Capture::install(subscriber);

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": "down"})))
        .mount(&server)
        .await;
    let c = Harness::client_for(&server, Client::builder().retry(fast_retry(2)));
    let c = Client::builder()
        .api_key(SECRET)
        .api_url(c.api_url())
        .admin_url(c.admin_url())
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let e = c.achievements().list().send().await.unwrap_err();
    let refused = Client::builder()
        .api_key(SECRET)
        .api_url("http://127.0.0.1:1/v1")
        .retry(fast_retry(1))
        .build()
        .unwrap();
    let e2 = refused.achievements().list().send().await.unwrap_err();

    let traces = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for text in [
        format!("{c:?}"),
        format!("{e}"),
        format!("{e:?}"),
        format!("{e2}"),
        format!("{e2:?}"),
        traces.clone(),
    ] {
        assert!(!text.contains(SECRET), "key leaked in: {text}");
    }
    // The server did receive it: the check above is not vacuous.
    assert_eq!(requests(&server).await[0].headers["x-api-key"], SECRET);
    assert!(traces.contains("trophy.call"), "{traces}");
    assert!(traces.contains("achievements_all"), "{traces}");
    assert!(traces.contains("attempt=2"), "{traces}");
}

#[tokio::test]
async fn rate_limit_is_shared_by_clones() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201).set_body_json(event_body(1.0)))
        .mount(&server)
        .await;
    let c = Harness::client_for(
        &server,
        Client::builder()
            .retry(RetryConfig::disabled())
            .rate_limits(trophy::RateLimits::per_second(5.0, 50.0)),
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.metrics().event("m", format!("u{i}"), 1.0).send().await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // 5 at once, then 5 more at 5/s.
    assert!(start.elapsed() >= Duration::from_millis(950), "{:?}", start.elapsed());
    assert_eq!(requests(&server).await.len(), 10);
}
