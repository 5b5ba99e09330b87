//! Wire tests of `POST /metrics/{key}/event`.

mod common;

use common::Harness;
use serde_json::json;
use trophy::types::StreakFrequency;
use trophy::UserInput;

fn event_response() -> serde_json::Value {
    json!({
        "eventId": "evt_7f3a", "metricId": "met_words", "total": 1250.0,
        "achievements": [{
            "id": "ach_words_1k", "trigger": "metric", "name": "1,000 words", "description": "Wrote 1,000 words",
            "badgeUrl": null, "key": "words-1000", "metricId": "met_words", "metricValue": 1000.0,
            "metricName": "Words written", "userAttributes": [], "achievedAt": "2026-11-27T10:00:00Z"
        }],
        "currentStreak": {"length": 4, "frequency": "daily", "started": "2026-11-24", "periodStart": "2026-11-27",
                          "periodEnd": "2026-11-27", "expires": "2026-11-28", "freezes": 1, "maxFreezes": 2,
                          "extended": true},
        "points": {"xp": {"id": "pts_xp", "key": "xp", "name": "Experience", "description": null, "badgeUrl": null,
                          "maxPoints": null, "total": 125, "added": 75, "level": null,
                          "awards": [{"id": "awd_9", "awarded": 75, "date": "2026-11-27", "total": 125}]}},
        "leaderboards": {"writers": {
            "id": "lb_w", "name": "Writers", "key": "writers", "rankBy": "metric", "breakdownAttribute": null,
            "breakdownAttributes": [], "metricKey": "words-written", "metricName": "Words written",
            "description": null, "start": "2026-11-01", "end": null, "startTime": null, "endTime": null,
            "maxParticipants": 100, "runUnit": null, "runInterval": null,
            "rank": 3, "previousRank": 5, "threshold": 900
        }},
        "idempotencyKey": "order-42-words"
    })
}

#[tokio::test]
async fn event_sends_user_value_attributes_and_key_and_decodes_what_changed() {
    let h = Harness::new().await;
    h.expect("POST", "/v1/metrics/words-written/event", 201, event_response())
        .await;
    let user = UserInput::new("user-id").email("user@example.com").tz("Europe/London");
    let r = h
        .client
        .metrics()
        .event("words-written", user, 750.0)
        .event_attribute("category", "writing")
        .idempotency_key("order-42-words")
        .tenant_id("customer-42")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let e = r.into_body();
    assert_eq!(e.event_id, "evt_7f3a");
    assert_eq!(e.total, 1250.0);
    assert_eq!(e.achievements[0].key.as_deref(), Some("words-1000"));
    assert_eq!(e.current_streak.length, 4);
    assert_eq!(e.current_streak.frequency, StreakFrequency::Daily);
    assert!(e.current_streak.extended);
    assert_eq!(e.points["xp"].added, 75);
    assert_eq!(e.leaderboards["writers"].rank, Some(3));
    assert_eq!(e.leaderboards["writers"].previous_rank, Some(5));
    assert_eq!(e.idempotency_key.as_deref(), Some("order-42-words"));
    assert_eq!(e.idempotent_replayed, None);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn event_key_is_one_encoded_segment() {
    let h = Harness::new().await;
    h.expect("POST", "/v1/metrics/a%2Fb%20%C3%A9/event", 201, event_response())
        .await;
    h.client.metrics().event("a/b é", "user-id", 1.0).send().await.unwrap();
}
