//! Wire tests of the Admin API metrics operations, and of the Admin list streams.

mod common;

use common::Harness;
use futures::StreamExt;
use serde_json::json;
use trophy::admin_types::{AdminIssueSeverity, MetricUnitType};
use trophy::api::admin::metrics::{MetricUpdate, NewMetric};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const DISTANCE: &str = "8c6f1d2e-41a7-4b8e-9d3c-2f5a7e9b1c04";
const REVENUE: &str = "0e4b9a73-5c21-4f8d-b6e2-91d3a8c7f650";

fn distance() -> serde_json::Value {
    json!({"id": DISTANCE, "name": "Distance run", "key": "distance-run", "unitType": "number", "units": "km"})
}

fn revenue() -> serde_json::Value {
    json!({"id": REVENUE, "name": "Revenue", "key": "revenue", "unitType": "currency", "units": "EUR"})
}

/// The field named by an `InvalidInput` error.
fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

async fn nothing_sent(h: &Harness) {
    assert!(
        h.server.received_requests().await.unwrap().is_empty(),
        "a request was sent"
    );
}

#[tokio::test]
async fn list_sends_paging_and_decodes_metrics() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/metrics", 200, json!([distance(), revenue()]))
        .await;
    let page = h
        .client
        .admin()
        .metrics()
        .list()
        .limit(25)
        .skip(50)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].id.to_string(), DISTANCE);
    assert_eq!(page[0].key, "distance-run");
    assert_eq!(page[0].unit_type, MetricUnitType::Number);
    assert_eq!(page[1].unit_type, MetricUnitType::Currency);
    assert_eq!(page[1].units, "EUR");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn list_without_paging_sends_no_query() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/metrics", 200, json!([])).await;
    let page = h.client.admin().metrics().list().send().await.unwrap();
    assert!(page.is_empty());
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn create_sends_only_what_was_set_and_keeps_the_status() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/metrics",
        201,
        json!({
            "created": [distance()],
            "issues": [{"index": 1, "severity": "error", "message": "A metric with key revenue already exists"}]
        }),
    )
    .await;
    let response = h
        .client
        .admin()
        .metrics()
        .create([
            NewMetric::new("Distance run", "distance-run")
                .unit_type(MetricUnitType::Number)
                .units("km"),
            NewMetric::new("Revenue", "revenue"),
        ])
        .tenant_id("acme")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.into_body();
    assert_eq!(body.created.len(), 1);
    assert_eq!(body.created[0].name, "Distance run");
    assert_eq!(body.issues[0].index, Some(1));
    assert_eq!(body.issues[0].severity, AdminIssueSeverity::Error);
    assert_eq!(body.issues[0].message, "A metric with key revenue already exists");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_with_nothing_created_is_a_200_success() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/metrics",
        200,
        json!({"created": [], "issues": [{"index": 0, "severity": "error", "message": "Duplicate key"}]}),
    )
    .await;
    let response = h
        .client
        .admin()
        .metrics()
        .create([NewMetric::new("Revenue", "revenue")])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.body().created.is_empty());
    assert_eq!(response.body().issues[0].message, "Duplicate key");
}

#[tokio::test]
async fn get_decodes_one_metric() {
    let h = Harness::new().await;
    h.expect("GET", &format!("/admin/v1/metrics/{DISTANCE}"), 200, distance())
        .await;
    let metric = h.client.admin().metrics().get(DISTANCE).send().await.unwrap();
    assert_eq!(metric.id.to_string(), DISTANCE);
    assert_eq!(metric.name, "Distance run");
    assert_eq!(metric.units, "km");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_encodes_the_id_as_one_segment() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/metrics/a%2Fb%20%C3%A9", 200, distance())
        .await;
    h.client.admin().metrics().get("a/b é").send().await.unwrap();
}

#[tokio::test]
async fn update_sends_only_the_changes() {
    let h = Harness::new().await;
    h.expect(
        "PATCH",
        "/admin/v1/metrics",
        200,
        json!({
            "updated": [{"id": DISTANCE, "name": "Distance", "key": "distance-run", "unitType": "number", "units": "mi"}],
            "issues": [{"id": REVENUE, "severity": "warning", "message": "Nothing to change"}]
        }),
    )
    .await;
    let result = h
        .client
        .admin()
        .metrics()
        .update([
            MetricUpdate::new(DISTANCE).name("Distance").units("mi"),
            MetricUpdate::new(REVENUE).unit_type("currency".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].name, "Distance");
    assert_eq!(result.updated[0].units, "mi");
    assert_eq!(result.issues[0].id.as_deref(), Some(REVENUE));
    assert_eq!(result.issues[0].severity, AdminIssueSeverity::Warning);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/metrics",
        200,
        json!({"deleted": [{"id": DISTANCE}, {"id": REVENUE}], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .metrics()
        .delete([DISTANCE, REVENUE])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted.len(), 2);
    assert_eq!(result.deleted[1].id.to_string(), REVENUE);
    assert!(result.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn keys_are_checked_before_sending() {
    let h = Harness::new().await;
    let metrics = h.client.admin().metrics();
    let bad = [
        NewMetric::new("Distance", "distance"),
        NewMetric::new("Words", "words written"),
    ];
    assert_eq!(invalid_field(metrics.create(bad).send().await), "items[1].key");
    assert_eq!(
        invalid_field(metrics.create([NewMetric::new("Empty", "")]).send().await),
        "items[0].key"
    );
    nothing_sent(&h).await;
}

#[tokio::test]
async fn bulk_sizes_are_checked_before_sending() {
    let h = Harness::new().await;
    let metrics = h.client.admin().metrics();
    assert_eq!(invalid_field(metrics.create(Vec::new()).send().await), "items");
    let many = (0..101).map(|i| NewMetric::new("m", format!("m-{i}")));
    assert_eq!(invalid_field(metrics.create(many).send().await), "items");
    assert_eq!(invalid_field(metrics.update(Vec::new()).send().await), "items");
    assert_eq!(invalid_field(metrics.delete(Vec::<String>::new()).send().await), "ids");
    let many_ids: Vec<String> = (0..101).map(|i| format!("id-{i}")).collect();
    assert_eq!(invalid_field(metrics.delete(many_ids).send().await), "ids");
    nothing_sent(&h).await;
}

#[tokio::test]
async fn empty_ids_are_rejected() {
    let h = Harness::new().await;
    let metrics = h.client.admin().metrics();
    assert_eq!(invalid_field(metrics.get("").send().await), "id");
    assert_eq!(invalid_field(metrics.get("..").send().await), "id");
    assert_eq!(
        invalid_field(
            metrics
                .update([MetricUpdate::new(DISTANCE), MetricUpdate::new(" ")])
                .send()
                .await
        ),
        "items[1].id"
    );
    assert_eq!(invalid_field(metrics.delete([DISTANCE, ""]).send().await), "ids[1]");
    nothing_sent(&h).await;
}

#[tokio::test]
async fn the_page_size_is_checked() {
    let h = Harness::new().await;
    assert_eq!(
        invalid_field(h.client.admin().metrics().list().limit(0).send().await),
        "limit"
    );
    assert_eq!(
        invalid_field(h.client.admin().metrics().list().limit(101).send().await),
        "limit"
    );
    nothing_sent(&h).await;
}

fn numbered(i: u32) -> serde_json::Value {
    json!({
        "id": format!("00000000-0000-4000-8000-00000000000{i}"),
        "name": format!("Metric {i}"), "key": format!("metric-{i}"), "unitType": "number", "units": ""
    })
}

#[tokio::test]
async fn into_stream_pages_lazily_until_a_short_page() {
    let h = Harness::new().await;
    for (skip, items) in [
        ("10", vec![numbered(1), numbered(2)]),
        ("12", vec![numbered(3), numbered(4)]),
        ("14", vec![numbered(5)]),
    ] {
        Mock::given(method("GET"))
            .and(path("/admin/v1/metrics"))
            .and(query_param("skip", skip))
            .and(query_param("limit", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!(items)))
            .expect(1)
            .mount(&h.server)
            .await;
    }
    let keys: Vec<String> = h
        .client
        .admin()
        .metrics()
        .list()
        .limit(2)
        .skip(10)
        .into_stream()
        .map(|m| m.unwrap().key)
        .collect()
        .await;
    assert_eq!(keys, ["metric-1", "metric-2", "metric-3", "metric-4", "metric-5"]);
    let requests = h.server.received_requests().await.unwrap();
    let queries: Vec<_> = requests
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect();
    assert_eq!(queries, ["limit=2&skip=10", "limit=2&skip=12", "limit=2&skip=14"]);
}

#[tokio::test]
async fn into_stream_yields_the_error_and_stops() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/admin/v1/metrics"))
        .and(query_param("skip", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([numbered(1), numbered(2)])))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/v1/metrics"))
        .and(query_param("skip", "2"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "Invalid API key"})))
        .mount(&h.server)
        .await;
    let items: Vec<_> = h.client.admin().metrics().list().limit(2).into_stream().collect().await;
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok());
    assert_eq!(items[2].as_ref().unwrap_err().status(), Some(401));
    assert_eq!(h.server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn into_stream_defaults_to_pages_of_100() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/metrics", 200, json!([distance()])).await;
    let all: Vec<_> = h.client.admin().metrics().list().into_stream().collect().await;
    assert_eq!(all.len(), 1);
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), Some("limit=100&skip=0"));
}
