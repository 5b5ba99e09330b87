//! The `VerifiedWebhook` axum extractor, driven through a real `Router` (and once over TCP).
#![cfg(feature = "axum")]

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{header, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use tower::ServiceExt as _;
use trophy::webhooks::{
    sign, VerifiedWebhook, WebhookError, WebhookEvent, WebhookRejection, WebhookSecret, MAX_BODY_BYTES,
    SIGNATURE_HEADER,
};

const SECRET: &str = "whsec_axum_6b1f0e9d2c7a4853b0e1f2a3c4d5e6f7";
const PATH: &str = "/webhooks/trophy";
const ACHIEVEMENT_COMPLETED: &[u8] = include_bytes!("fixtures/webhooks/achievement.completed.json");

/// Application state holding the secret next to other things, as a real app would.
#[derive(Clone)]
struct AppState {
    secret: WebhookSecret,
    received: Arc<Mutex<Vec<String>>>,
}

impl FromRef<AppState> for WebhookSecret {
    fn from_ref(state: &AppState) -> Self {
        state.secret.clone()
    }
}

async fn handler(State(state): State<AppState>, VerifiedWebhook(event): VerifiedWebhook) -> StatusCode {
    let user = event.user().map(|u| u.id.clone()).unwrap_or_default();
    if let Ok(mut received) = state.received.lock() {
        received.push(format!("{} {user}", event.event_type()));
    }
    StatusCode::NO_CONTENT
}

fn app(secret: &str) -> (Router, Arc<Mutex<Vec<String>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let state = AppState {
        secret: WebhookSecret::new(secret),
        received: received.clone(),
    };
    (Router::new().route(PATH, post(handler)).with_state(state), received)
}

fn request(body: impl Into<Body>, signature: Option<&str>) -> Request<Body> {
    let mut builder = Request::post(PATH).header(header::CONTENT_TYPE, "application/json");
    if let Some(signature) = signature {
        builder = builder.header(SIGNATURE_HEADER, signature);
    }
    builder.body(body.into()).unwrap()
}

/// Sends `request` through the app: the status, the response body, what the handler saw.
async fn send(secret: &str, request: Request<Body>) -> (StatusCode, String, Vec<String>) {
    let (app, received) = app(secret);
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    let received = received.lock().unwrap().clone();
    (status, String::from_utf8(body.to_vec()).unwrap(), received)
}

#[tokio::test]
async fn valid_delivery_reaches_the_handler_and_gets_204() {
    let signature = sign(SECRET, ACHIEVEMENT_COMPLETED);
    let (status, body, received) = send(SECRET, request(ACHIEVEMENT_COMPLETED, Some(&signature))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, "");
    assert_eq!(received, ["achievement.completed user-8412"]);
}

#[tokio::test]
async fn header_name_is_case_insensitive() {
    let signature = sign(SECRET, ACHIEVEMENT_COMPLETED);
    let request = Request::post(PATH)
        .header("x-trophy-signature", &signature)
        .body(Body::from(ACHIEVEMENT_COMPLETED))
        .unwrap();
    let (status, _, received) = send(SECRET, request).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn wrong_signature_gets_401() {
    let signature = sign("whsec_not_ours", ACHIEVEMENT_COMPLETED);
    let (status, body, received) = send(SECRET, request(ACHIEVEMENT_COMPLETED, Some(&signature))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, "webhook signature does not match the body and secret");
    assert!(received.is_empty());
}

#[tokio::test]
async fn tampered_body_gets_401() {
    let signature = sign(SECRET, ACHIEVEMENT_COMPLETED);
    let tampered = String::from_utf8(ACHIEVEMENT_COMPLETED.to_vec())
        .unwrap()
        .replace("user-8412", "user-0001");
    let (status, _, received) = send(SECRET, request(tampered, Some(&signature))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(received.is_empty());
}

#[tokio::test]
async fn missing_signature_gets_401() {
    let (status, body, received) = send(SECRET, request(ACHIEVEMENT_COMPLETED, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, "missing X-Trophy-Signature header");
    assert!(received.is_empty());
}

#[tokio::test]
async fn malformed_signature_gets_401() {
    let (status, body, _) = send(SECRET, request(ACHIEVEMENT_COMPLETED, Some("abc"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.starts_with("malformed X-Trophy-Signature header"), "{body}");

    // A header value that is not visible ASCII.
    let request = Request::post(PATH)
        .header(
            SIGNATURE_HEADER,
            axum::http::HeaderValue::from_bytes(b"\xffsig").unwrap(),
        )
        .body(Body::from(ACHIEVEMENT_COMPLETED))
        .unwrap();
    let (status, _, _) = send(SECRET, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signed_bad_payload_gets_400() {
    // Errors are reported in body order: the first bad field is `length`.
    let body = br#"{"type":"streak.lost","length":"long","user":{"id":"user-8412"}}"#;
    let signature = sign(SECRET, body);
    let (status, message, received) = send(SECRET, request(&body[..], Some(&signature))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message,
        "invalid webhook payload: bad `streak.lost` payload at `length`: \
         invalid type: string \"long\", expected i64"
    );
    assert!(received.is_empty());

    let signature = sign(SECRET, b"");
    let (status, message, _) = send(SECRET, request(Body::empty(), Some(&signature))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message, "invalid webhook payload: the body is empty");
}

#[tokio::test]
async fn unknown_event_type_is_accepted() {
    let body = br#"{"type":"quest.completed","user":{"id":"user-8412"}}"#;
    let signature = sign(SECRET, body);
    let (status, _, received) = send(SECRET, request(&body[..], Some(&signature))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(received, ["quest.completed "]);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    // Declared too large by Content-Length.
    let mut big = br#"{"type":"streak.lost","pad":""#.to_vec();
    big.resize(MAX_BODY_BYTES + 1, b'x');
    let signature = sign(SECRET, &big);
    let (status, message, received) = send(SECRET, request(big, Some(&signature))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(message, format!("webhook body is larger than {MAX_BODY_BYTES} bytes"));
    assert!(received.is_empty());

    // Streamed without a length: cut off once the limit is passed.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..3).map(|_| Ok(vec![b' '; MAX_BODY_BYTES / 2])).collect();
    let body = Body::from_stream(futures::stream::iter(chunks));
    let (status, _, _) = send(SECRET, request(body, Some(&sign(SECRET, b"")))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Exactly at the limit is fine (here: a valid payload padded with whitespace).
    let mut padded = ACHIEVEMENT_COMPLETED.to_vec();
    padded.resize(MAX_BODY_BYTES, b' ');
    let signature = sign(SECRET, &padded);
    let (status, _, received) = send(SECRET, request(padded, Some(&signature))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(received, ["achievement.completed user-8412"]);
}

#[tokio::test]
async fn empty_secret_is_a_server_error_and_never_accepts() {
    let signature = sign("", ACHIEVEMENT_COMPLETED);
    let (status, body, received) = send("", request(ACHIEVEMENT_COMPLETED, Some(&signature))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "webhook receiver misconfigured");
    assert!(received.is_empty());
}

#[tokio::test]
async fn responses_never_contain_the_secret() {
    let cases = [
        request(ACHIEVEMENT_COMPLETED, None),
        request(ACHIEVEMENT_COMPLETED, Some("%%%")),
        request(ACHIEVEMENT_COMPLETED, Some(&sign("other", ACHIEVEMENT_COMPLETED))),
        request(&b"{}"[..], Some(&sign(SECRET, b"{}"))),
    ];
    for request in cases {
        let (status, body, _) = send(SECRET, request).await;
        assert!(status.is_client_error());
        assert!(!body.contains(SECRET) && !body.contains("6b1f0e9d"), "{body}");
    }
}

#[test]
fn rejection_statuses_and_messages() {
    let cases = [
        (WebhookError::MissingSignature.into(), 401),
        (WebhookError::MalformedSignature.into(), 401),
        (WebhookError::InvalidSignature.into(), 401),
        (
            WebhookError::InvalidPayload {
                message: "the body is empty".into(),
            }
            .into(),
            400,
        ),
        (WebhookError::EmptySecret.into(), 500),
        (WebhookRejection::PayloadTooLarge { limit: 10 }, 413),
        (WebhookRejection::BodyRead, 400),
    ];
    for (rejection, status) in cases {
        let rejection: WebhookRejection = rejection;
        assert_eq!(rejection.status().as_u16(), status, "{rejection:?}");
        assert!(!rejection.to_string().is_empty());
        let response = axum::response::IntoResponse::into_response(rejection);
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    }
}

#[tokio::test]
async fn secret_as_the_whole_state_works_too() {
    async fn bare(VerifiedWebhook(event): VerifiedWebhook) -> String {
        match event {
            WebhookEvent::AchievementCompleted(e) => e.achievement.name,
            other => other.event_type().to_owned(),
        }
    }
    let app = Router::new()
        .route(PATH, post(bare))
        .with_state(WebhookSecret::new(SECRET));
    let signature = sign(SECRET, ACHIEVEMENT_COMPLETED);
    let response = app
        .oneshot(request(ACHIEVEMENT_COMPLETED, Some(&signature)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"Marathon Reader");
}

#[tokio::test]
async fn over_a_real_tcp_connection() {
    let (app, received) = app(SECRET);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = common::raw_http();
    let url = format!("http://{address}{PATH}");
    let good = client
        .post(&url)
        .header(SIGNATURE_HEADER, sign(SECRET, ACHIEVEMENT_COMPLETED))
        .body(ACHIEVEMENT_COMPLETED)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status().as_u16(), 204);
    let bad = client
        .post(&url)
        .header(SIGNATURE_HEADER, sign("nope", ACHIEVEMENT_COMPLETED))
        .body(ACHIEVEMENT_COMPLETED)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    assert_eq!(
        bad.text().await.unwrap(),
        "webhook signature does not match the body and secret"
    );
    assert_eq!(received.lock().unwrap().clone(), ["achievement.completed user-8412"]);
    server.abort();
}
