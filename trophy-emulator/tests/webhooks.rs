//! Webhook deliveries: which requests send what, in which order, signed how, retried when.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::{receiver, Api, NOW};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use trophy_emulator::{Emulator, Seed, WebhookTarget};
use trophy_generated::app::types as t;

const SECRET: &str = "whsec_emulator_test";

fn hmac_base64(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `POST /v1/metrics/lessons-completed/event` with an idempotency key.
async fn keyed_event(api: &Api, key: &str, body: Value) -> common::Resp {
    api.raw(
        Method::POST,
        &api.app_url("/metrics/lessons-completed/event"),
        Some(&api.emu.admin_key()),
        None,
        &[("Idempotency-Key", key)],
        Some(&body),
    )
    .await
}

/// `GET /_emulator/webhooks`.
async fn listed(api: &Api) -> Value {
    let url = format!("{}/_emulator/webhooks", api.emu.base_url());
    let r = api.raw(Method::GET, &url, None, None, &[], None).await;
    r.expect(200);
    r.json()
}

async fn api_with_webhooks(url: &str) -> Api {
    Api::with(
        Emulator::builder()
            .seed(Seed::default_seed())
            .clock(NOW.parse().unwrap())
            .webhook(WebhookTarget::new(url, SECRET)),
    )
    .await
}

#[tokio::test]
async fn events_and_completions_send_signed_typed_webhooks_once() {
    let (url, received) = receiver(1).await;
    let api = api_with_webhooks(&url).await;
    let metric_id = api.metric("lessons-completed").await;
    let r = api
        .admin(
            Method::POST,
            "/points",
            Some(&json!([{"name": "XP", "key": "xp",
                "levels": [{"key": "rookie", "name": "Rookie", "points": 0},
                           {"key": "scholar", "name": "Scholar", "points": 50}],
                "triggers": [{"type": "metric", "metricId": metric_id, "points": 5, "status": "active"}]}])),
        )
        .await;
    r.expect(201);

    // 10 lessons: two metric achievements, the first streak period, 50 points (a new level).
    keyed_event(
        &api,
        "lesson-batch-1",
        json!({"user": {"id": "ada", "name": "Ada"}, "value": 10}),
    )
    .await
    .expect(201);
    // The same event again is a replay: no webhooks.
    keyed_event(&api, "lesson-batch-1", json!({"user": {"id": "ada"}, "value": 10}))
        .await
        .expect(202);
    // Completing an API achievement; completing it again sends nothing.
    for _ in 0..2 {
        api.app(
            Method::POST,
            "/achievements/finish-onboarding/complete",
            Some(&json!({"user": {"id": "ada"}})),
        )
        .await
        .expect(201);
    }

    let deliveries = api.emu.settle_webhooks().await;
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "achievement.completed",
            "achievement.completed",
            "streak.started",
            "points.changed",
            "points.level_changed",
            "achievement.completed",
        ]
    );
    assert!(deliveries.iter().all(|d| d.delivered && d.status == Some(204)));
    // The receiver failed the first request once: it was retried, the rest went through at once.
    let attempts: Vec<u32> = deliveries.iter().map(|d| d.attempts).collect();
    assert_eq!(attempts, [2, 1, 1, 1, 1, 1]);

    // What the receiver got: every attempt, signed with HMAC-SHA256 of the exact body.
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 7);
    assert_eq!(got[0], got[1], "a retry resends the same bytes");
    for ((sig, body), d) in got[1..].iter().zip(&deliveries) {
        assert_eq!(body, &d.body);
        assert_eq!(sig, &hmac_base64(body));
        assert_eq!(sig, &d.signature);
    }

    // Each payload decodes into its generated type and says what happened.
    let body = |i: usize| deliveries[i].body.as_str();
    let first: t::AchievementCompletedEvent = serde_json::from_str(body(0)).unwrap();
    let second: t::AchievementCompletedEvent = serde_json::from_str(body(1)).unwrap();
    assert_eq!(
        (first.achievement.key.as_deref(), second.achievement.key.as_deref()),
        (Some("first-lesson"), Some("ten-lessons"))
    );
    assert_eq!(
        (first.user.id.as_str(), first.user.name.as_deref()),
        ("ada", Some("Ada"))
    );
    let streak: t::StreakStartedEvent = serde_json::from_str(body(2)).unwrap();
    assert_eq!(streak.streak.length, 1);
    let points: t::PointsChangedEvent = serde_json::from_str(body(3)).unwrap();
    assert_eq!(
        (points.points.key.as_deref(), points.points.added, points.points.total),
        (Some("xp"), 50, 50)
    );
    let level: t::PointsLevelChangedEvent = serde_json::from_str(body(4)).unwrap();
    assert_eq!(level.previous_level.map(|l| l.key).as_deref(), Some("rookie"));
    assert_eq!(level.new_level.map(|l| l.key).as_deref(), Some("scholar"));
    assert_eq!(level.points.total, 50);
    let completed: t::AchievementCompletedEvent = serde_json::from_str(body(5)).unwrap();
    assert_eq!(completed.achievement.key.as_deref(), Some("finish-onboarding"));

    // The control endpoint lists the same deliveries.
    let listed = listed(&api).await;
    assert_eq!(listed["target"], json!(url));
    assert_eq!(listed["deliveries"].as_array().map(Vec::len), Some(6));
    assert_eq!(listed["deliveries"][4]["type"], "points.level_changed");
    assert_eq!(listed["deliveries"][0]["attempts"], 2);
}

#[tokio::test]
async fn an_unreachable_target_is_given_up_after_four_attempts_and_the_api_still_answers() {
    // A port nothing listens on: bind one, note it, close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let api = api_with_webhooks(&format!("http://127.0.0.1:{port}/hooks")).await;
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "bo", 1.0).await.expect(201);
    let deliveries = api.emu.settle_webhooks().await;
    let summary: Vec<(&str, u32, Option<u16>, bool)> = deliveries
        .iter()
        .map(|d| (d.event_type.as_str(), d.attempts, d.status, d.delivered))
        .collect();
    assert_eq!(
        summary,
        [
            ("achievement.completed", 4, None, false),
            ("streak.started", 4, None, false)
        ]
    );
}

#[tokio::test]
async fn without_a_target_nothing_is_queued() {
    let api = Api::start().await;
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "cy", 1.0).await.expect(201);
    assert!(api.emu.settle_webhooks().await.is_empty());
    let listed = listed(&api).await;
    assert_eq!((&listed["target"], &listed["deliveries"]), (&json!(null), &json!([])));
}

/// The target is set and changed while the emulator runs, from Rust and through
/// `POST /_emulator/webhooks`: each request's webhooks go to the target set at its time.
#[tokio::test]
async fn the_target_can_be_set_and_changed_while_the_emulator_runs() {
    let api = Api::start().await;
    api.metric("lessons-completed").await;
    let (first_url, first) = receiver(0).await;
    let (second_url, second) = receiver(0).await;

    // No target yet: nothing is sent.
    api.event("lessons-completed", "ada", 1.0).await.expect(201);
    assert!(api.emu.settle_webhooks().await.is_empty());

    // Set from Rust: the next request's webhooks go there.
    api.emu.set_webhook_target(WebhookTarget::new(&first_url, SECRET));
    assert_eq!(
        api.emu.webhook_target().map(|t| t.url().to_string()),
        Some(first_url.clone())
    );
    api.event("lessons-completed", "bo", 1.0).await.expect(201);
    assert_eq!(api.emu.settle_webhooks().await.len(), 2);
    assert_eq!(first.lock().unwrap().len(), 2);

    // Changed over HTTP: the next delivery goes to the new one, signed with the new secret.
    let set = json!({"target": {"url": second_url, "secret": "whsec_second"}});
    let r = api.control(Method::POST, "/_emulator/webhooks", Some(&set)).await;
    r.expect(200);
    assert_eq!(r.json(), json!({"target": second_url}));
    api.event("lessons-completed", "cy", 1.0).await.expect(201);
    let deliveries = api.emu.settle_webhooks().await;
    assert_eq!(deliveries.len(), 4);
    assert_eq!(first.lock().unwrap().len(), 2, "the old target gets nothing more");
    let got = second.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    for (sig, body) in &got {
        assert!(body.contains(r#""id":"cy""#), "{body}");
        assert_eq!(sig, &trophy::webhooks::sign("whsec_second", body.as_bytes()));
        assert!(trophy::webhooks::construct_event(body.as_bytes(), Some(sig), "whsec_second").is_ok());
    }
    assert_eq!(listed(&api).await["target"], json!(second_url));

    // Bad targets are refused and leave the target as it was; `null` removes it.
    for bad in [
        json!({"target": {"url": "https://example.com/hooks", "secret": "s"}}),
        json!({"target": {"url": second_url, "secret": ""}}),
        json!({}),
    ] {
        api.control(Method::POST, "/_emulator/webhooks", Some(&bad))
            .await
            .expect(400);
    }
    assert_eq!(listed(&api).await["target"], json!(second_url));
    api.control(Method::POST, "/_emulator/webhooks", Some(&json!({"target": null})))
        .await
        .expect(200);
    api.event("lessons-completed", "di", 1.0).await.expect(201);
    assert_eq!(api.emu.settle_webhooks().await.len(), 4);
    assert_eq!(api.emu.webhook_target().map(|t| t.url().to_string()), None);
}

#[tokio::test]
async fn a_freeze_that_bridges_a_missed_day_is_reported_before_the_extension() {
    let (url, _received) = receiver(0).await;
    let api = api_with_webhooks(&url).await;
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "dee", 1.0).await.expect(201);
    api.admin(
        Method::POST,
        "/streaks/freezes",
        Some(&json!({"freezes": [{"userId": "dee"}]})),
    )
    .await
    .expect(201);
    // Day 2 is missed; day 3's event uses the freeze and extends the streak to 2 periods.
    api.emu.advance(chrono::Duration::days(2));
    api.event("lessons-completed", "dee", 1.0).await.expect(201);

    let deliveries = api.emu.settle_webhooks().await;
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "achievement.completed",
            "streak.started",
            "streak.freeze_consumed",
            "streak.extended"
        ]
    );
    let consumed: t::StreakFreezeConsumedEvent = serde_json::from_str(&deliveries[2].body).unwrap();
    assert_eq!(
        (consumed.user.id.as_str(), consumed.consumed, consumed.freezes),
        ("dee", 1, 0)
    );
    let extended: t::StreakExtendedEvent = serde_json::from_str(&deliveries[3].body).unwrap();
    assert_eq!(extended.streak.length, 2);
}

#[tokio::test]
async fn rank_changes_are_sent_for_the_user_whose_event_moved_them() {
    let (url, _received) = receiver(0).await;
    let api = api_with_webhooks(&url).await;
    let metric_id = api.metric("pages-read").await;
    api.admin(
        Method::POST,
        "/leaderboards",
        Some(
            &json!([{"name": "Readers", "key": "readers", "rankBy": "metric", "metricId": metric_id,
                       "status": "active", "start": "2026-01-01"}]),
        ),
    )
    .await
    .expect(201);
    api.event("pages-read", "eve", 5.0).await.expect(201); // eve enters at 1
    api.event("pages-read", "fay", 10.0).await.expect(201); // fay enters at 1 (eve is now 2)
    api.event("pages-read", "eve", 1.0).await.expect(201); // eve stays 2: her value changes only

    let deliveries = api.emu.settle_webhooks().await;
    let changes: Vec<t::LeaderboardRankChangedEvent> = deliveries
        .iter()
        .filter(|d| d.event_type == "leaderboard.rank_changed")
        .map(|d| serde_json::from_str(&d.body).unwrap())
        .collect();
    let seen: Vec<_> = changes
        .iter()
        .map(|c| {
            let l = &c.leaderboard;
            (
                c.user.id.as_str(),
                l.key.as_str(),
                l.previous_rank,
                l.rank,
                l.previous_value,
                l.value,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("eve", "readers", None, Some(1), None, Some(5)),
            ("fay", "readers", None, Some(1), None, Some(10))
        ]
    );
}
