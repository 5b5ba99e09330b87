//! The generated client compiles and works on its own (the `trophy` crate uses only its types).

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn generated_client_decodes_a_user() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/user%2F1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "user/1", "email": null, "name": "Ada", "tz": "Europe/London",
            "subscribeToEmails": false, "attributes": {"plan": "pro"}, "control": false,
            "created": "2026-01-02T03:04:05Z", "updated": "2026-01-02T03:04:05Z"
        })))
        .expect(1)
        .mount(&server)
        .await;
    // Built in the workspace, reqwest may carry trophy's `rustls-no-provider` (feature
    // unification) and no provider of its own: install ring, as an application would.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = trophy_generated::app::Client::new(&server.uri());
    let user = client
        .users_get("user/1", None)
        .await
        .expect("call succeeds")
        .into_inner();
    assert_eq!(user.id, "user/1");
    assert_eq!(user.name.as_deref(), Some("Ada"));
    assert_eq!(user.attributes["plan"], "pro");
    assert!(!user.subscribe_to_emails);
}
