//! Wire tests of the Admin API tenants operations.

mod common;

use common::Harness;
use serde_json::json;
use trophy::admin_types::{AdminIssueSeverity, TenantStatus};
use trophy::api::admin::tenants::{NewTenant, TenantUpdate};

const ACME: &str = "6a2d8f10-3e5b-4c79-b1a4-0f8e7d6c5b43";
const GLOBEX: &str = "d4c3b2a1-7f6e-4d5c-8b9a-123456789abc";

fn acme() -> serde_json::Value {
    json!({
        "id": ACME, "customerId": "acme", "name": "Acme Ltd", "status": "active",
        "created": "2026-10-01T12:00:00Z", "updated": "2026-11-15T08:45:30Z"
    })
}

fn globex() -> serde_json::Value {
    json!({
        "id": GLOBEX, "customerId": "globex", "name": "Globex", "status": "archived",
        "created": "2026-09-12T07:30:00Z", "updated": "2026-09-12T07:30:00Z"
    })
}

fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn list_sends_paging_and_decodes_tenants() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/tenants", 200, json!([acme(), globex()]))
        .await;
    let page = h
        .client
        .admin()
        .tenants()
        .list()
        .limit(10)
        .skip(20)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].customer_id, "acme");
    assert_eq!(page[0].status, TenantStatus::Active);
    assert_eq!(page[0].updated.to_rfc3339(), "2026-11-15T08:45:30+00:00");
    assert_eq!(page[1].id.to_string(), GLOBEX);
    assert_eq!(page[1].status, TenantStatus::Archived);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_sends_customer_ids_and_keeps_the_status() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/tenants",
        201,
        json!({"created": [acme()], "issues": [{"index": 1, "severity": "error", "message": "customerId globex is taken"}]}),
    )
    .await;
    let response = h
        .client
        .admin()
        .tenants()
        .create([
            NewTenant::new("Acme Ltd").customer_id("acme"),
            NewTenant::new("Globex").customer_id("globex"),
        ])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.into_body();
    assert_eq!(body.created[0].id.to_string(), ACME);
    assert_eq!(body.created[0].name, "Acme Ltd");
    assert_eq!(body.issues[0].index, Some(1));
    assert_eq!(body.issues[0].severity, AdminIssueSeverity::Error);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_decodes_one_tenant() {
    let h = Harness::new().await;
    h.expect("GET", &format!("/admin/v1/tenants/{ACME}"), 200, acme()).await;
    let tenant = h.client.admin().tenants().get(ACME).send().await.unwrap();
    assert_eq!(tenant.customer_id, "acme");
    assert_eq!(tenant.name, "Acme Ltd");
    assert_eq!(tenant.created.to_rfc3339(), "2026-10-01T12:00:00+00:00");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_encodes_the_id_as_one_segment() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/tenants/a%2Fb%20%C3%A9", 200, acme()).await;
    h.client.admin().tenants().get("a/b é").send().await.unwrap();
}

#[tokio::test]
async fn update_sends_only_the_changes() {
    let h = Harness::new().await;
    let mut renamed = acme();
    renamed["name"] = json!("Acme Limited");
    h.expect(
        "PATCH",
        "/admin/v1/tenants",
        200,
        json!({"updated": [renamed], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .tenants()
        .update([
            TenantUpdate::new(ACME).name("Acme Limited"),
            TenantUpdate::new(GLOBEX).customer_id("globex-corp"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated.len(), 1);
    assert_eq!(result.updated[0].name, "Acme Limited");
    assert!(result.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/tenants",
        200,
        json!({"deleted": [{"id": ACME}, {"id": GLOBEX}], "issues": []}),
    )
    .await;
    let result = h.client.admin().tenants().delete([ACME, GLOBEX]).send().await.unwrap();
    assert_eq!(result.deleted.len(), 2);
    assert_eq!(result.deleted[0].id.to_string(), ACME);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn inputs_are_checked_before_sending() {
    let h = Harness::new().await;
    let tenants = h.client.admin().tenants();
    assert_eq!(
        invalid_field(
            tenants
                .create([
                    NewTenant::new("Acme").customer_id("acme"),
                    NewTenant::new("Nobody").customer_id("")
                ])
                .send()
                .await
        ),
        "items[1].customer_id"
    );
    // The customer id is required: a tenant built without the setter is refused.
    assert_eq!(
        invalid_field(tenants.create([NewTenant::new("Acme")]).send().await),
        "items[0].customer_id"
    );
    assert_eq!(
        invalid_field(tenants.update([TenantUpdate::new(ACME).customer_id(" ")]).send().await),
        "items[0].customer_id"
    );
    assert_eq!(
        invalid_field(tenants.update([TenantUpdate::new("")]).send().await),
        "items[0].id"
    );
    assert_eq!(invalid_field(tenants.update(Vec::new()).send().await), "items");
    assert_eq!(invalid_field(tenants.get(".").send().await), "id");
    assert_eq!(invalid_field(tenants.delete(Vec::<&str>::new()).send().await), "ids");
    assert_eq!(invalid_field(tenants.list().limit(0).send().await), "limit");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
