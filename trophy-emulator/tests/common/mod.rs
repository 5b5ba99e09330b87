//! Helpers shared by the integration tests: a raw HTTP client against a running emulator.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use trophy_emulator::{Emulator, Seed};

pub const NOW: &str = "2026-01-15T12:00:00Z";

/// A response: status, headers and body.
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    /// Deserializes the body into `T`, failing the test with the body when it does not fit.
    pub fn parse<T: DeserializeOwned>(&self) -> T {
        match serde_json::from_slice::<T>(&self.body) {
            Ok(v) => v,
            Err(e) => panic!(
                "body does not deserialize into {}: {e}\nstatus {}\n{}",
                std::any::type_name::<T>(),
                self.status,
                String::from_utf8_lossy(&self.body)
            ),
        }
    }

    pub fn json(&self) -> Value {
        self.parse::<Value>()
    }

    /// Asserts the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// The `error` message of an error body (checked against `ErrorBody`).
    pub fn error(&self) -> String {
        let e: trophy_generated::app::types::ErrorBody = self.parse();
        e.error
    }
}

/// A client bound to one emulator, with a default key and optional tenant.
/// A reqwest client for raw calls. Built in the workspace, reqwest may carry trophy's
/// `rustls-no-provider` and no provider of its own (feature unification), so ring is installed
/// first, as an application making its own reqwest calls next to trophy must.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().expect("client")
}

pub struct Api {
    pub emu: Emulator,
    pub http: reqwest::Client,
    pub key: Option<String>,
    pub tenant: Option<String>,
}

impl Api {
    /// An emulator with the default seed and the clock frozen at [`NOW`].
    pub async fn start() -> Api {
        Api::with(
            Emulator::builder()
                .seed(Seed::default_seed())
                .clock(NOW.parse().unwrap()),
        )
        .await
    }

    pub async fn with(builder: trophy_emulator::EmulatorBuilder) -> Api {
        let emu = builder.start().await.expect("emulator starts");
        let key = Some(emu.admin_key());
        Api {
            emu,
            http: http(),
            key,
            tenant: None,
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        url: &str,
        key: Option<&str>,
        tenant: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.http.request(method, url);
        if let Some(k) = key {
            req = req.header("X-API-KEY", k);
        }
        if let Some(t) = tenant {
            req = req.header("Tenant-ID", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("body").to_vec();
        Resp { status, headers, body }
    }

    async fn call(&self, method: Method, url: String, body: Option<&Value>) -> Resp {
        self.raw(method, &url, self.key.as_deref(), self.tenant.as_deref(), &[], body)
            .await
    }

    pub fn app_url(&self, path: &str) -> String {
        format!("{}{}", self.emu.app_url(), path)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{}", self.emu.admin_url(), path)
    }

    pub async fn app(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.call(method, self.app_url(path), body).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.call(method, self.admin_url(path), body).await
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.raw(
            method,
            &format!("{}{}", self.emu.base_url(), path),
            None,
            None,
            &[],
            body,
        )
        .await
    }

    /// Creates a metric through the Admin API and returns its ID.
    pub async fn metric(&self, key: &str) -> String {
        let r = self
            .admin(
                Method::POST,
                "/metrics",
                Some(&serde_json::json!([{"name": key, "key": key}])),
            )
            .await;
        r.expect(201);
        r.json()["created"][0]["id"].as_str().expect("metric id").to_string()
    }

    /// Sends a metric event and returns the response.
    pub async fn event(&self, metric: &str, user: &str, value: f64) -> Resp {
        self.app(
            Method::POST,
            &format!("/metrics/{metric}/event"),
            Some(&serde_json::json!({"user": {"id": user}, "value": value})),
        )
        .await
    }
}

/// What a test receiver got: (signature header, body).
pub type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback that answers 500 to its first `failures` requests, then 204.
pub async fn receiver(failures: usize) -> (String, Received) {
    use axum::http::{HeaderMap, StatusCode};
    let got: Received = Default::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let sig = headers
                    .get(trophy_emulator::SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let mut seen = seen.lock().unwrap();
                seen.push((sig, String::from_utf8_lossy(&body).into_owned()));
                if seen.len() <= failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}
