//! Wire tests of the Admin API settings and environments operations.

mod common;

use common::{invalid_field, Harness};
use serde_json::json;
use trophy::admin_types::{AdminAggregationPeriod, AdminFontFamily};

fn settings(app_name: &str, control_ratio: u32) -> serde_json::Value {
    json!({
        "branding": {"appName": app_name, "appUrl": "https://inkwell.example.com", "brandColor": "#3366ff",
                     "font": "BOOK_SERIF", "logo": null, "appIcon": {"url": "https://cdn.example.com/icon.png"}},
        "experimentation": {"controlRatio": control_ratio, "userActivationWindow": 7},
        "aggregationPeriod": "weekly"
    })
}

#[tokio::test]
async fn settings_get_decodes_every_group() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/settings", 200, settings("Inkwell", 10))
        .await;
    let s = h
        .client
        .admin()
        .settings()
        .get()
        .tenant_id("acme")
        .send()
        .await
        .unwrap();
    assert_eq!(s.branding.app_name, "Inkwell");
    assert_eq!(s.branding.font, AdminFontFamily::BookSerif);
    assert!(s.branding.logo.is_none());
    assert_eq!(
        s.branding.app_icon.map(|i| i.url).as_deref(),
        Some("https://cdn.example.com/icon.png")
    );
    assert_eq!(
        (
            s.experimentation.control_ratio,
            s.experimentation.user_activation_window
        ),
        (10, 7)
    );
    assert_eq!(s.aggregation_period, AdminAggregationPeriod::Weekly);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn settings_update_sends_only_what_was_set() {
    let h = Harness::new().await;
    h.expect("PATCH", "/admin/v1/settings", 200, settings("Quill", 25))
        .await;
    let s = h
        .client
        .admin()
        .settings()
        .update()
        .app_name("Quill")
        .font("MONOSPACE".into())
        .clear_logo()
        .app_icon_url("https://cdn.example.com/quill.png")
        .control_ratio(25)
        .aggregation_period(AdminAggregationPeriod::Monthly)
        .send()
        .await
        .unwrap();
    assert_eq!(s.branding.app_name, "Quill");
    assert_eq!(s.experimentation.control_ratio, 25);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn settings_update_checks_bounds_and_urls_before_sending() {
    let h = Harness::new().await;
    let settings = h.client.admin().settings();
    assert_eq!(
        invalid_field(settings.update().control_ratio(101).send().await),
        "control_ratio"
    );
    assert_eq!(
        invalid_field(settings.update().user_activation_window(2).send().await),
        "user_activation_window"
    );
    assert_eq!(invalid_field(settings.update().app_name("").send().await), "app_name");
    assert_eq!(
        invalid_field(settings.update().app_url("inkwell.example.com").send().await),
        "app_url"
    );
    assert_eq!(
        invalid_field(settings.update().logo_url("https://").send().await),
        "logo_url"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn environments_list_decodes_keys_and_priorities() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/admin/v1/environments",
        200,
        json!([{"name": "Production", "key": "production", "priority": 1},
               {"name": "Staging", "key": "staging", "priority": 2}]),
    )
    .await;
    let environments = h.client.admin().environments().list().send().await.unwrap();
    assert_eq!(
        environments
            .iter()
            .map(|e| (e.key.as_str(), e.priority))
            .collect::<Vec<_>>(),
        [("production", 1), ("staging", 2)]
    );
    insta::assert_snapshot!(h.single_request().await);
}
