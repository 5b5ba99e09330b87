//! Shared wire-test harness: a wiremock server standing in for both APIs, a client pointed at
//! it, and a compact, stable rendering of what the client sent.
#![allow(dead_code)]

use serde_json::Value;
use std::fmt::Write as _;
use trophy::{Client, RetryConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A plain reqwest client for raw requests. With trophy's `rustls-ring` or `rustls-no-provider`
/// alone, reqwest is built without a default crypto provider and `reqwest::Client::new()` would
/// panic, so, as an application making its own reqwest calls then must, this installs one (ring)
/// first.
pub fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The admin key the harness client uses.
pub const KEY: &str = "test-admin-key";

/// A mock Trophy: the Application API under `/v1`, the Admin API under `/admin/v1`.
pub struct Harness {
    pub server: MockServer,
    pub client: Client,
}

impl Harness {
    /// A server with a catch-all that answers unexpected routes with a 404 naming them, and a
    /// client with retries disabled.
    pub async fn new() -> Self {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(|req: &Request| {
                ResponseTemplate::new(404).set_body_json(serde_json::json!({
                    "error": format!("no mock for {} {}", req.method, req.url.path()),
                }))
            })
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        let client = Self::client_for(&server, Client::builder().retry(RetryConfig::disabled()));
        Harness { server, client }
    }

    /// Points a client builder at `server`.
    pub fn client_for(server: &MockServer, builder: trophy::ClientBuilder) -> Client {
        builder
            .api_key(KEY)
            .api_url(format!("{}/v1", server.uri()))
            .admin_url(format!("{}/admin/v1", server.uri()))
            .build()
            .expect("client")
    }

    /// Expects exactly one `METHOD path` (path as it appears on the wire, percent-encoding
    /// included) and answers it with `status` and `body`.
    pub async fn expect(&self, verb: &str, wire_path: &str, status: u16, body: Value) {
        Mock::given(method(verb))
            .and(path(wire_path))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(1)
            .mount(&self.server)
            .await;
    }

    /// The one request the server received, rendered for a snapshot.
    pub async fn single_request(&self) -> String {
        let requests = self.server.received_requests().await.expect("recording on");
        assert_eq!(requests.len(), 1, "expected one request, got {}", requests.len());
        render(&requests[0])
    }
}

/// Headers the SDK sets, in a fixed order; anything else the SDK sends is listed too, so a
/// stray header shows up in the snapshot.
const KNOWN: &[&str] = &[
    "x-api-key",
    "x-sdk-version",
    "user-agent",
    "accept",
    "content-type",
    "tenant-id",
    "idempotency-key",
];
/// Added by the HTTP stack, not by us.
const TRANSPORT: &[&str] = &["host", "content-length", "connection", "accept-encoding"];

/// Method, raw path and query, headers and pretty JSON body.
pub fn render(req: &Request) -> String {
    let mut out = String::new();
    let query = req.url.query().map(|q| format!("?{q}")).unwrap_or_default();
    writeln!(out, "{} {}{}", req.method, req.url.path(), query).unwrap();
    for name in KNOWN {
        if let Some(v) = req.headers.get(*name) {
            let mut v = v.to_str().unwrap().to_string();
            if *name == "user-agent" {
                assert_eq!(v, trophy::USER_AGENT);
                v = "trophy-rs/<version>".into();
            }
            if *name == "idempotency-key" && uuid_like(&v) {
                v = "<generated uuid v4>".into();
            }
            writeln!(out, "{name}: {v}").unwrap();
        }
    }
    let mut others: Vec<_> = req
        .headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| !KNOWN.contains(&k.as_str()) && !TRANSPORT.contains(&k.as_str()))
        .collect();
    others.sort();
    for name in others {
        writeln!(out, "{name}: {}", req.headers[name.as_str()].to_str().unwrap()).unwrap();
    }
    if !req.body.is_empty() {
        let v: Value = serde_json::from_slice(&req.body).expect("request body is JSON");
        writeln!(out, "\n{}", serde_json::to_string_pretty(&Sorted(&v)).unwrap()).unwrap();
    }
    out
}

/// A JSON value serialized with object keys in sorted order, whatever `serde_json`'s map type
/// (its `preserve_order` feature depends on which workspace crates are built together).
struct Sorted<'a>(&'a Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let sorted: std::collections::BTreeMap<&str, Sorted<'_>> =
                    map.iter().map(|(k, v)| (k.as_str(), Sorted(v))).collect();
                sorted.serialize(serializer)
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            other => other.serialize(serializer),
        }
    }
}

fn uuid_like(v: &str) -> bool {
    uuid::Uuid::parse_str(v).is_ok_and(|u| u.get_version_num() == 4)
}

/// The body of the one request received, as JSON.
pub async fn single_body(server: &MockServer) -> Value {
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    serde_json::from_slice(&requests[0].body).expect("JSON body")
}

/// The field an `InvalidInput` error names; fails the test on any other outcome.
pub fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// A writer collecting everything tracing prints, for tests that read the traces.
#[derive(Clone, Default)]
pub struct Capture(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Installs `subscriber` for the current thread, after making sure no callsite can be
    /// cached as uninteresting by a race with other tests of the binary (see
    /// [`SometimesEverywhere`]). Keep the guard for as long as the traces should be captured.
    pub fn install(subscriber: impl tracing::Subscriber + Send + Sync + 'static) -> tracing::subscriber::DefaultGuard {
        SometimesEverywhere::install();
        tracing::subscriber::set_default(subscriber)
    }
}

/// A process-wide subscriber that records nothing but answers "sometimes" for every callsite.
///
/// tracing caches each callsite's interest across all dispatchers. A test that sets a
/// thread-local subscriber while other tests of the same binary hit the SDK's callsites on other
/// threads can find a span's interest cached as "never" (computed while its subscriber was not
/// yet registered), and then misses that span: `the_key_never_appears…` failed that way under
/// load. With this subscriber as the global default, no callsite is ever "never", so each one is
/// asked again, on every hit, of the current thread's subscriber.
pub struct SometimesEverywhere;

impl SometimesEverywhere {
    /// Sets it as the global default once per process.
    pub fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            tracing::subscriber::set_global_default(SometimesEverywhere)
                .expect("no other global subscriber in this test binary");
        });
    }
}

impl tracing::Subscriber for SometimesEverywhere {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
