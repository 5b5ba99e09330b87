//! Behaviour of the emulator: concurrency, idempotency, auth, tenants, streaks over days,
//! leaderboard order, points rules, fault injection, controls and the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Api, NOW};
use reqwest::Method;
use serde_json::{json, Value};
use trophy_emulator::{Emulator, Faults, Seed, SeedAchievement};
use trophy_generated::admin::types as ta;
use trophy_generated::app::types as t;

async fn points_system(api: &Api, body: Value) -> String {
    let r = api.admin(Method::POST, "/points", Some(&json!([body]))).await;
    r.expect(201);
    r.parse::<ta::CreatePointsSystemsResponse>().created[0].id.to_string()
}

/// Creates a user attribute through the Admin API and returns its ID.
async fn user_attribute(api: &Api, name: &str, key: &str) -> String {
    let body = json!([{"name": name, "key": key, "type": "user"}]);
    let r = api.admin(Method::POST, "/attributes", Some(&body)).await;
    r.expect(201);
    r.parse::<ta::CreateAttributesResponse>().created[0].id.to_string()
}

async fn current(api: &Api, user: &str, metric: &str) -> f64 {
    let r = api
        .app(Method::GET, &format!("/users/{user}/metrics/{metric}"), None)
        .await;
    r.expect(200);
    r.parse::<t::MetricResponse>().current
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_events_lose_no_increment() {
    let api = Api::start().await;
    let metric_id = api.metric("clicks").await;
    points_system(
        &api,
        json!({"name": "Clicks", "key": "click-points", "triggers": [
            {"type": "metric", "points": 1, "metricId": metric_id, "status": "active"}
        ]}),
    )
    .await;
    let url = api.app_url("/metrics/clicks/event");
    let key = api.emu.admin_key();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let http = api.http.clone();
        let url = url.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let user = if i < 32 {
                "shared".to_string()
            } else {
                format!("user-{i}")
            };
            for _ in 0..4 {
                let r = http
                    .post(&url)
                    .header("X-API-KEY", &key)
                    .json(&json!({"user": {"id": user}, "value": 1}))
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(r.status().as_u16(), 201);
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(current(&api, "shared", "clicks").await, 128.0);
    for i in 32..64 {
        assert_eq!(current(&api, &format!("user-{i}"), "clicks").await, 4.0);
    }
    let p: t::GetUserPointsResponse = api
        .app(Method::GET, "/users/shared/points/click-points?awards=100", None)
        .await
        .parse();
    assert_eq!(p.total, 128);
    assert_eq!(p.awards.len(), 100);
    let totals: Vec<i64> = p.awards.iter().filter_map(|a| a.total).collect();
    assert!(
        totals.windows(2).all(|w| w[0] == w[1] + 1),
        "award totals are consecutive"
    );
}

#[tokio::test]
async fn idempotent_replay_answers_202_and_changes_nothing() {
    let api = Api::start().await;
    api.metric("lessons-completed").await;
    api.metric("other").await;
    let send = |user: &'static str, metric: &'static str, key: &'static str, value: f64| {
        let api = &api;
        async move {
            api.raw(
                Method::POST,
                &api.app_url(&format!("/metrics/{metric}/event")),
                api.key.as_deref(),
                None,
                &[("Idempotency-Key", key)],
                Some(&json!({"user": {"id": user}, "value": value})),
            )
            .await
        }
    };
    let first = send("alice", "lessons-completed", "k1", 5.0).await;
    first.expect(201);
    let first: t::EventResponse = first.parse();
    assert_eq!(first.total, 5.0);
    assert_eq!(first.idempotent_replayed, Some(false));

    let again = send("alice", "lessons-completed", "k1", 100.0).await;
    again.expect(202);
    let again: t::EventResponse = again.parse();
    assert_eq!(again.idempotent_replayed, Some(true));
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(again.total, 5.0);
    assert_eq!(current(&api, "alice", "lessons-completed").await, 5.0);

    // Keys are scoped to the user and the metric.
    send("bob", "lessons-completed", "k1", 1.0).await.expect(201);
    send("alice", "other", "k1", 1.0).await.expect(201);
    let r = send("alice", "lessons-completed", "k2", 1.0).await;
    r.expect(201);
    assert_eq!(r.parse::<t::EventResponse>().total, 6.0);
}

#[tokio::test]
async fn authentication_and_application_keys() {
    let mut api = Api::start().await;
    api.metric("lessons-completed").await;
    api.app(Method::PUT, "/users/alice", Some(&json!({"name": "Alice"})))
        .await
        .expect(200);
    api.app(Method::PUT, "/users/bob", Some(&json!({"name": "Bob"})))
        .await
        .expect(200);

    // No key.
    let r = api
        .raw(Method::GET, &api.app_url("/users/alice"), None, None, &[], None)
        .await;
    r.expect(401);
    assert!(r.error().contains("X-API-KEY"));
    let r = api
        .raw(Method::GET, &api.admin_url("/metrics"), None, None, &[], None)
        .await;
    r.expect(401);
    let _ = r.error();
    // Any non-app key is an organisation key by default.
    let r = api
        .raw(
            Method::GET,
            &api.admin_url("/metrics"),
            Some("whatever"),
            None,
            &[],
            None,
        )
        .await;
    r.expect(200);

    // An application key for alice.
    let k: ta::CreateApplicationKeysResponse = api
        .admin(
            Method::POST,
            "/application-api-keys",
            Some(&json!([{"userId": "alice"}])),
        )
        .await
        .parse();
    let app_key = k.created[0].key.clone();
    let key_id = k.created[0].id.to_string();
    let org_key = api.key.replace(app_key.clone());

    api.app(Method::GET, "/users/alice", None).await.expect(200);
    api.app(Method::GET, "/users/alice/streak", None).await.expect(200);
    api.app(Method::GET, "/achievements", None).await.expect(200);
    let r = api.app(Method::GET, "/users/bob", None).await;
    r.expect(403);
    let _ = r.error();
    api.event("lessons-completed", "bob", 1.0).await.expect(403);
    api.app(Method::GET, "/streaks?userIds=alice&userIds=bob", None)
        .await
        .expect(403);
    api.app(Method::GET, "/streaks?userIds=alice", None).await.expect(200);
    api.event("lessons-completed", "alice", 1.0).await.expect(201);
    let r = api.admin(Method::GET, "/metrics", None).await;
    r.expect(403);
    assert!(r.error().contains("Admin API"));
    api.key = Some("app_unknown".into());
    api.app(Method::GET, "/users/alice", None).await.expect(401);

    // Revoked keys stop working.
    api.key = org_key;
    api.admin(Method::DELETE, &format!("/application-api-keys?ids={key_id}"), None)
        .await
        .expect(200);
    let r = api
        .raw(
            Method::GET,
            &api.app_url("/users/alice"),
            Some(&app_key),
            None,
            &[],
            None,
        )
        .await;
    r.expect(401);

    // Configured keys are the only ones accepted.
    let strict = Api::with(Emulator::builder().api_key("secret")).await;
    assert_eq!(strict.emu.admin_key(), "secret");
    strict.admin(Method::GET, "/metrics", None).await.expect(200);
    let r = strict
        .raw(
            Method::GET,
            &strict.admin_url("/metrics"),
            Some("admin_emulator_key"),
            None,
            &[],
            None,
        )
        .await;
    r.expect(401);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let mut api = Api::start().await;
    api.tenant = Some("acme".into());
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "u1", 2.0).await.expect(201);
    assert_eq!(current(&api, "u1", "lessons-completed").await, 2.0);
    let seeded: Vec<t::AchievementWithStatsResponse> = api.app(Method::GET, "/achievements", None).await.parse();
    assert_eq!(seeded.len(), 5, "every tenant starts from the seed");

    api.tenant = None;
    assert!(api
        .admin(Method::GET, "/metrics", None)
        .await
        .parse::<ta::ListMetricsResponse>()
        .0
        .is_empty());
    api.app(Method::GET, "/users/u1", None).await.expect(404);
    api.event("lessons-completed", "u1", 1.0).await.expect(422);

    api.tenant = Some("globex".into());
    api.metric("lessons-completed").await;
    let r = api.event("lessons-completed", "u1", 7.0).await;
    assert_eq!(r.parse::<t::EventResponse>().total, 7.0);
    api.tenant = Some("acme".into());
    assert_eq!(current(&api, "u1", "lessons-completed").await, 2.0);

    // Deleting a registered tenant drops its data.
    api.tenant = None;
    let created: ta::CreateTenantsResponse = api
        .admin(
            Method::POST,
            "/tenants",
            Some(&json!([{"customerId": "acme", "name": "Acme"}])),
        )
        .await
        .parse();
    let id = created.created[0].id.to_string();
    api.admin(Method::DELETE, &format!("/tenants?ids={id}"), None)
        .await
        .expect(200);
    api.tenant = Some("acme".into());
    api.app(Method::GET, "/users/u1", None).await.expect(404);
}

async fn streak(api: &Api, user: &str) -> t::StreakResponse {
    let r = api
        .app(Method::GET, &format!("/users/{user}/streak?historyPeriods=14"), None)
        .await;
    r.expect(200);
    r.parse()
}

#[tokio::test]
async fn streaks_follow_the_controllable_clock() {
    let api = Api::start().await;
    api.metric("lessons-completed").await;
    let day = chrono::Duration::days(1);
    async fn ev(api: &Api) -> t::EventResponse {
        let r = api.event("lessons-completed", "sam", 1.0).await;
        r.expect(201);
        r.parse::<t::EventResponse>()
    }

    // Day 1 (2026-01-15).
    let e = ev(&api).await;
    assert_eq!((e.current_streak.length, e.current_streak.extended), (1, true));
    assert_eq!(
        e.current_streak.started.map(|d| d.to_string()).as_deref(),
        Some("2026-01-15")
    );
    assert_eq!(
        e.current_streak.expires.map(|d| d.to_string()).as_deref(),
        Some("2026-01-16")
    );
    let e = ev(&api).await;
    assert_eq!((e.current_streak.length, e.current_streak.extended), (1, false));

    // Day 2: still alive before acting, extended by the event.
    api.emu.advance(day);
    let s = streak(&api, "sam").await;
    assert_eq!(s.length, 1);
    assert_eq!(s.expires.map(|d| d.to_string()).as_deref(), Some("2026-01-16"));
    assert_eq!(ev(&api).await.current_streak.length, 2);

    // Day 3, through the control endpoint: the streak achievement is completed.
    let r = api
        .control(
            Method::POST,
            "/_emulator/clock",
            Some(&json!({"advanceSeconds": 86400})),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["now"], "2026-01-17T12:00:00.000Z");
    let e = ev(&api).await;
    assert_eq!(e.current_streak.length, 3);
    assert!(e
        .achievements
        .iter()
        .any(|a| a.key.as_deref() == Some("three-day-streak")));

    // Missing day 4 without freezes loses the streak.
    api.emu.advance(day * 2);
    assert_eq!(streak(&api, "sam").await.length, 0);
    let e = ev(&api).await;
    assert_eq!((e.current_streak.length, e.current_streak.extended), (1, true));

    // With a freeze, a missed day (01-20) is bridged.
    let r = api
        .admin(
            Method::POST,
            "/streaks/freezes",
            Some(&json!({"freezes": [{"userId": "sam"}]})),
        )
        .await;
    r.expect(201);
    assert_eq!(streak(&api, "sam").await.freezes, Some(1));
    api.emu.advance(day * 2);
    let s = streak(&api, "sam").await;
    assert_eq!((s.length, s.freezes), (1, Some(0)));
    let e = ev(&api).await;
    assert_eq!(e.current_streak.length, 2);
    let s = streak(&api, "sam").await;
    let frozen: Vec<String> = s
        .streak_history
        .iter()
        .filter(|h| h.used_freeze == Some(true))
        .map(|h| h.period_start.to_string())
        .collect();
    assert_eq!(frozen, vec!["2026-01-20"]);

    // A pause over 01-22..01-23 keeps the streak through them.
    let r = api
        .admin(
            Method::POST,
            "/streaks/pauses",
            Some(&json!({"pauses": [{"userId": "sam", "start": "2026-01-22", "end": "2026-01-23"}]})),
        )
        .await;
    r.expect(201);
    api.emu.advance(day * 3);
    assert_eq!(streak(&api, "sam").await.length, 2);
    assert_eq!(ev(&api).await.current_streak.length, 3);
    assert_eq!(streak(&api, "sam").await.pauses.len(), 1);

    // Lost again (01-25, 01-26 missed), then restored by the Admin API.
    api.emu.set_time("2026-01-27T09:00:00Z".parse().unwrap());
    assert_eq!(streak(&api, "sam").await.length, 0);
    let r = api
        .admin(
            Method::POST,
            "/streaks/restore",
            Some(&json!({"users": [{"id": "sam"}, {"id": "ghost"}]})),
        )
        .await;
    r.expect(201);
    let rs: ta::RestoreStreaksResponse = r.parse();
    assert_eq!(rs.restored_users, vec!["sam".to_string()]);
    assert_eq!(rs.issues.len(), 1);
    assert_eq!(streak(&api, "sam").await.length, 3);
    assert_eq!(ev(&api).await.current_streak.length, 4);

    let bulk: t::BulkStreakResponse = api
        .app(Method::GET, "/streaks?userIds=sam&userIds=nobody", None)
        .await
        .parse();
    assert_eq!(bulk.0[0].streak_length, 4);
    assert!(bulk.0[0]
        .extended
        .as_deref()
        .is_some_and(|e| e.starts_with("2026-01-27T09:00:00")));
    assert_eq!(bulk.0[1].streak_length, 0);
}

#[tokio::test]
async fn weekly_streaks() {
    let seed = Seed::from_json(r#"{"streak": {"frequency": "weekly"}}"#).unwrap();
    // 2026-01-12 is a Monday.
    let api = Api::with(
        Emulator::builder()
            .seed(seed)
            .clock("2026-01-12T08:00:00Z".parse().unwrap()),
    )
    .await;
    api.metric("m").await;
    api.event("m", "w", 1.0).await.expect(201);
    api.emu.advance(chrono::Duration::days(6)); // Sunday, same week
    let e: t::EventResponse = api.event("m", "w", 1.0).await.parse();
    assert_eq!((e.current_streak.length, e.current_streak.extended), (1, false));
    assert_eq!(
        e.current_streak.period_end.map(|d| d.to_string()).as_deref(),
        Some("2026-01-18")
    );
    api.emu.advance(chrono::Duration::days(1)); // next Monday
    let e: t::EventResponse = api.event("m", "w", 1.0).await.parse();
    assert_eq!(
        (e.current_streak.length, e.current_streak.frequency.as_str()),
        (2, "weekly")
    );
}

#[tokio::test]
async fn leaderboards_rank_in_order() {
    let api = Api::start().await;
    let metric_id = api.metric("steps").await;
    let r = api
        .admin(
            Method::POST,
            "/leaderboards",
            Some(&json!([
                {"name": "Steps", "key": "steps", "rankBy": "metric", "metricId": metric_id,
                 "status": "active", "start": "2026-01-01", "maxParticipants": 3},
                {"name": "Daily steps", "key": "daily-steps", "rankBy": "metric", "metricId": metric_id,
                 "status": "active", "start": "2026-01-01", "runUnit": "day", "runInterval": 1},
                {"name": "Hidden", "key": "hidden", "rankBy": "metric", "metricId": metric_id}
            ])),
        )
        .await;
    r.expect(201);
    for (user, value) in [("a", 5.0), ("b", 10.0), ("c", 10.0), ("e", 7.0)] {
        api.event("steps", user, value).await.expect(201);
    }
    let e: t::EventResponse = api.event("steps", "d", 1.0).await.parse();
    let lb = &e.leaderboards["steps"];
    assert_eq!((lb.rank, lb.threshold), (None, 7), "d is outside the top 3");
    assert!(
        !e.leaderboards.contains_key("hidden"),
        "inactive leaderboards are not shown"
    );

    let board: t::LeaderboardResponseWithRankings = api.app(Method::GET, "/leaderboards/steps", None).await.parse();
    let rows: Vec<(String, i64, i64)> = board
        .rankings
        .iter()
        .map(|r| (r.user_id.clone(), r.rank, r.value))
        .collect();
    assert_eq!(rows, vec![("b".into(), 1, 10), ("c".into(), 1, 10), ("e".into(), 3, 7)]);

    let page: t::LeaderboardResponseWithRankings = api
        .app(Method::GET, "/leaderboards/steps?offset=1&limit=1", None)
        .await
        .parse();
    assert_eq!(
        page.rankings.iter().map(|r| r.user_id.as_str()).collect::<Vec<_>>(),
        vec!["c"]
    );
    let around: t::LeaderboardResponseWithRankings = api
        .app(Method::GET, "/leaderboards/steps?userId=c&limit=5", None)
        .await
        .parse();
    assert_eq!(
        around.rankings.iter().map(|r| r.user_id.as_str()).collect::<Vec<_>>(),
        vec!["c", "e"]
    );

    let mine: t::UserLeaderboardResponseWithHistory =
        api.app(Method::GET, "/users/e/leaderboards/steps", None).await.parse();
    assert_eq!((mine.rank, mine.value), (Some(3), Some(7)));
    assert_eq!(mine.history[0].rank, Some(3));
    let out: t::UserLeaderboardResponseWithHistory =
        api.app(Method::GET, "/users/a/leaderboards/steps", None).await.parse();
    assert_eq!((out.rank, out.value), (None, None));

    api.app(Method::GET, "/leaderboards/hidden", None).await.expect(404);
    let all: Vec<t::LeaderboardsAllResponseItem> = api.app(Method::GET, "/leaderboards", None).await.parse();
    assert_eq!(all.len(), 2);

    // A daily leaderboard starts over the next day; past runs stay readable.
    api.emu.advance(chrono::Duration::days(1));
    let today: t::LeaderboardResponseWithRankings =
        api.app(Method::GET, "/leaderboards/daily-steps", None).await.parse();
    assert!(today.rankings.is_empty());
    let yesterday: t::LeaderboardResponseWithRankings = api
        .app(Method::GET, "/leaderboards/daily-steps?run=2026-01-15&limit=10", None)
        .await
        .parse();
    assert_eq!(yesterday.rankings.len(), 5);
    assert_eq!(yesterday.rankings[0].user_id, "b");
}

#[tokio::test]
async fn points_thresholds_caps_and_user_creation() {
    let api = Api::start().await;
    let metric_id = api.metric("words").await;
    points_system(
        &api,
        json!({"name": "Points", "key": "pts", "maxPoints": 27, "levels": [{"name": "One", "key": "one", "points": 20}],
        "triggers": [
            {"type": "metric", "points": 10, "metricId": metric_id, "metricThreshold": 5, "status": "active"},
            {"type": "user_creation", "points": 2, "status": "active"}
        ]}),
    )
    .await;
    let e: t::EventResponse = api.event("words", "w", 3.0).await.parse();
    assert_eq!(e.points["pts"].added, 2, "only the user_creation award");
    let e: t::EventResponse = api.event("words", "w", 9.0).await.parse();
    assert_eq!(e.points["pts"].added, 20, "12 words cross 5 and 10");
    assert_eq!(e.points["pts"].level.as_ref().map(|l| l.key.as_str()), Some("one"));
    let e: t::EventResponse = api.event("words", "w", 10.0).await.parse();
    assert_eq!(
        (e.points["pts"].added, e.points["pts"].total),
        (5, 27),
        "capped by maxPoints"
    );
    let e: t::EventResponse = api.event("words", "w", 1.0).await.parse();
    assert!(e.points.is_empty());
    let p: t::GetUserPointsResponse = api.app(Method::GET, "/users/w/points/pts", None).await.parse();
    assert_eq!(p.total, 27);
    assert_eq!(p.awards.len(), 3);
}

#[tokio::test]
async fn fault_injection_is_deterministic() {
    async fn pattern(seed: u64) -> (Vec<u16>, u64) {
        let api = Api::with(Emulator::builder().faults(Faults::new(0.5, 503).with_seed(seed))).await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(api.app(Method::GET, "/achievements", None).await.status.as_u16());
        }
        (statuses, api.emu.faults_injected())
    }
    let (a, injected) = pattern(42).await;
    let (b, _) = pattern(42).await;
    let (c, _) = pattern(7).await;
    assert_eq!(a, b, "same seed, same failures");
    assert_ne!(a, c, "another seed fails other requests");
    let failures = a.iter().filter(|s| **s == 503).count();
    assert!((8..=32).contains(&failures), "about half fail: {failures}");
    assert_eq!(injected as usize, failures);
    assert!(a.iter().all(|s| *s == 503 || *s == 200));

    let api = Api::start().await;
    api.emu.set_faults(Faults::new(1.0, 429));
    let r = api.app(Method::GET, "/achievements", None).await;
    r.expect(429);
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let _ = r.error();
    // Controls are never failed; failNext fails exactly the next requests.
    let r = api
        .control(
            Method::POST,
            "/_emulator/faults",
            Some(&json!({"rate": 0, "status": 503, "failNext": 2})),
        )
        .await;
    r.expect(200);
    api.admin(Method::GET, "/metrics", None).await.expect(503);
    api.app(Method::GET, "/achievements", None).await.expect(503);
    api.app(Method::GET, "/achievements", None).await.expect(200);
    let f = api.control(Method::GET, "/_emulator/faults", None).await.json();
    assert_eq!(f["injected"], 3);
    assert_eq!(f["failNext"], 0);
    api.control(Method::POST, "/_emulator/faults", Some(&json!({"rate": 2})))
        .await
        .expect(400);
}

#[tokio::test]
async fn bulk_semantics_and_validation() {
    let api = Api::start().await;
    let r = api
        .admin(Method::POST, "/metrics", Some(&json!([{"name": "A", "key": "a b"}])))
        .await;
    r.expect(200);
    let m: ta::CreateMetricsResponse = r.parse();
    assert!(m.created.is_empty());
    assert_eq!(m.issues[0].index, Some(0));
    assert!(m.issues[0].message.contains("key"));

    let r = api
        .admin(
            Method::POST,
            "/metrics",
            Some(&json!([{"name": "A", "key": "a"}, {"name": "B", "key": "b"}, {"name": "C", "key": "c"}])),
        )
        .await;
    r.expect(201);
    let ids: Vec<String> = r
        .parse::<ta::CreateMetricsResponse>()
        .created
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    // Repeated and comma-separated ids are both accepted.
    let r = api
        .admin(Method::DELETE, &format!("/metrics?ids={}&ids={}", ids[0], ids[1]), None)
        .await;
    assert_eq!(r.parse::<ta::DeleteMetricsResponse>().deleted.len(), 2);
    let r = api
        .admin(Method::DELETE, &format!("/metrics?ids={},{}", ids[2], ids[0]), None)
        .await;
    let d: ta::DeleteMetricsResponse = r.parse();
    assert_eq!((d.deleted.len(), d.issues.len()), (1, 1));
    assert_eq!(d.issues[0].id.as_deref(), Some(ids[0].as_str()));
    api.admin(Method::DELETE, "/metrics", None).await.expect(422);

    // Wrong types and pagination bounds are 422 (the only client error these operations
    // document besides 401).
    api.admin(Method::POST, "/metrics", Some(&json!([{"name": 1, "key": "x"}])))
        .await
        .expect(422);
    api.admin(Method::PATCH, "/metrics", Some(&json!([{"id": "not-a-uuid"}])))
        .await
        .expect(422);
    api.admin(Method::GET, "/metrics?limit=0", None).await.expect(422);
    api.admin(Method::GET, "/metrics?limit=101", None).await.expect(422);
    let too_many: Vec<Value> = (0..101).map(|i| json!({"name": "m", "key": format!("k{i}")})).collect();
    api.admin(Method::POST, "/metrics", Some(&Value::Array(too_many)))
        .await
        .expect(422);

    // Leaderboard update clears nullable fields with null.
    let metric_id = api.metric("steps").await;
    let lb: ta::CreateLeaderboardsResponse = api
        .admin(
            Method::POST,
            "/leaderboards",
            Some(&json!([{"name": "L", "key": "l", "rankBy": "metric", "metricId": metric_id, "end": "2026-02-01", "runUnit": "month", "startTime": "09:00"}])),
        )
        .await
        .parse();
    let created = &lb.created[0];
    assert_eq!(created.status.as_str(), "inactive");
    assert_eq!(created.run_interval, Some(1));
    let id = created.id.to_string();
    let u: ta::UpdateLeaderboardsResponse = api
        .admin(
            Method::PATCH,
            "/leaderboards",
            Some(&json!([{"id": id, "end": null, "runUnit": null, "startTime": null, "maxParticipants": null}])),
        )
        .await
        .parse();
    let l = &u.updated[0];
    assert_eq!(
        (l.end, l.run_unit.as_ref(), l.start_time.as_deref(), l.max_participants),
        (None, None, None, None)
    );
    let u: ta::UpdateLeaderboardsResponse = api
        .admin(
            Method::PATCH,
            "/leaderboards",
            Some(&json!([{"id": id, "startTime": "25:00"}])),
        )
        .await
        .parse();
    assert!(u.updated.is_empty());
    assert_eq!(u.issues.len(), 1);

    // A custom seed with a metric achievement and an achievement chain.
    let seed = Seed::empty()
        .with_metric("reads", "Reads")
        .with_achievement(SeedAchievement::metric("two-reads", "Two reads", "reads", 2.0))
        .with_achievement(SeedAchievement::api("intro", "Intro"))
        .with_achievement(SeedAchievement {
            key: "both".into(),
            name: "Both".into(),
            trigger: "achievement".into(),
            achievement_keys: vec!["two-reads".into(), "intro".into()],
            ..Default::default()
        });
    let custom = Api::with(Emulator::builder().seed(seed).clock(NOW.parse().unwrap())).await;
    custom.event("reads", "r", 2.0).await.expect(201);
    let c: t::AchievementCompletionResponse = custom
        .app(
            Method::POST,
            "/achievements/intro/complete",
            Some(&json!({"user": {"id": "r"}})),
        )
        .await
        .parse();
    assert_eq!(c.achievement.key.as_deref(), Some("intro"));
    let mine: Vec<t::UserAchievementWithStatsResponse> =
        custom.app(Method::GET, "/users/r/achievements", None).await.parse();
    let mut keys: Vec<String> = mine.iter().filter_map(|a| a.key.clone()).collect();
    keys.sort();
    assert_eq!(keys, vec!["both", "intro", "two-reads"]);
    assert!(mine.iter().all(|a| a.rarity == 100.0));
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let emu = Emulator::start().await.unwrap();
    let url = format!("{}/achievements", emu.app_url());
    let http = common::http();
    let r = http
        .get(&url)
        .header("X-API-KEY", emu.admin_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Vec<t::AchievementWithStatsResponse> = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(body.iter().any(|a| a.key.as_deref() == Some("finish-onboarding")));
    drop(emu);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let fresh = common::http();
    assert!(fresh.get(&url).send().await.is_err(), "the port is closed");
}

#[tokio::test]
async fn the_binary_prints_both_base_urls_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
        .args(["--port", "0", "--now", NOW, "--api-key", "k1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        for line in reader.by_ref().map_while(Result::ok) {
            let last = line.starts_with("Admin API key: ");
            banner.push(line);
            if last {
                break;
            }
        }
        // Keep reading what the binary prints after its banner, so it never writes to a
        // closed pipe.
        std::thread::spawn(move || reader.map_while(Result::ok).for_each(drop));
        banner
    })
    .await
    .unwrap();
    let app = lines
        .iter()
        .find_map(|l| l.strip_prefix("Application API: "))
        .expect("app url")
        .to_string();
    let admin = lines
        .iter()
        .find_map(|l| l.strip_prefix("Admin API: "))
        .expect("admin url")
        .to_string();
    assert!(app.starts_with("http://127.0.0.1:") && app.ends_with("/v1"));
    assert!(admin.ends_with("/admin/v1"));
    assert!(lines.iter().any(|l| l == "Admin API key: k1"));
    let http = common::http();
    let r = http
        .get(format!("{admin}/metrics"))
        .header("X-API-KEY", "k1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let base = app.trim_end_matches("/v1");
    let clock: Value = http
        .get(format!("{base}/_emulator/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], "2026-01-15T12:00:00.000Z");
    child.kill().expect("kill");
    let _ = child.wait();
}

#[tokio::test]
async fn bulk_updates_report_unknown_ids_and_leave_a_rejected_item_as_it_was() {
    let api = Api::start().await;
    let metric_id = api.metric("pages").await;
    let ghost = "00000000-0000-4000-8000-000000000000";

    // An unknown id and an item whose second field is invalid: neither changes anything.
    let u: ta::UpdateMetricsResponse = api
        .admin(
            Method::PATCH,
            "/metrics",
            Some(&json!([{"id": ghost, "name": "Ghost"}, {"id": metric_id, "name": "Leaves", "unitType": "weight"}])),
        )
        .await
        .expect(200)
        .parse();
    assert!(u.updated.is_empty());
    let issues: Vec<_> = u
        .issues
        .iter()
        .map(|i| (i.id.as_deref(), i.index, i.message.as_str()))
        .collect();
    assert_eq!(issues[0], (Some(ghost), Some(0), "metric not found"));
    assert_eq!((issues[1].0, issues[1].1), (Some(metric_id.as_str()), Some(1)));
    assert!(issues[1].2.contains("unitType"), "{}", issues[1].2);
    let m: ta::CreatedMetric = api
        .admin(Method::GET, &format!("/metrics/{metric_id}"), None)
        .await
        .expect(200)
        .parse();
    assert_eq!(m.name, "pages", "the rejected item kept its name");

    // The collections inside a points system: boosts name the item with `boostId`, levels keep
    // their key, triggers report unknown ids.
    let system = points_system(
        &api,
        json!({"name": "Pages", "key": "page-points",
               "levels": [{"key": "bronze", "name": "Bronze", "points": 10}],
               "boosts": [{"name": "Launch", "start": "2026-01-01", "multiplier": 2}]}),
    )
    .await;
    let u: ta::PatchPointsBoostsResponse = api
        .admin(
            Method::PATCH,
            &format!("/points/{system}/boosts"),
            Some(&json!([{"id": ghost, "name": "Nope"}])),
        )
        .await
        .expect(200)
        .parse();
    assert!(u.updated.is_empty());
    assert_eq!(
        (
            u.issues[0].boost_id.as_deref(),
            u.issues[0].id.as_deref(),
            u.issues[0].message.as_str()
        ),
        (Some(ghost), None, "boost not found")
    );
    let levels: ta::ListPointsLevelsResponse = api
        .admin(Method::GET, &format!("/points/{system}/levels"), None)
        .await
        .expect(200)
        .parse();
    let level_id = levels[0].id.to_string();
    let u: ta::PatchPointsLevelsResponse = api
        .admin(
            Method::PATCH,
            &format!("/points/{system}/levels"),
            Some(&json!([{"id": level_id, "key": "gold", "name": "Bronze II"}])),
        )
        .await
        .expect(200)
        .parse();
    assert!(u.issues.is_empty(), "{:?}", u.issues);
    assert_eq!(
        (u.updated[0].key.as_str(), u.updated[0].name.as_str()),
        ("bronze", "Bronze II")
    );
    let u: ta::PatchPointsTriggersResponse = api
        .admin(
            Method::PATCH,
            &format!("/points/{system}/triggers"),
            Some(&json!([{"id": ghost, "points": 5}])),
        )
        .await
        .expect(200)
        .parse();
    assert_eq!(
        (
            u.issues[0].id.as_deref(),
            u.issues[0].index,
            u.issues[0].message.as_str()
        ),
        (Some(ghost), Some(0), "trigger not found")
    );

    // Tenants live outside the per-tenant state and use the same shape.
    let u: ta::UpdateTenantsResponse = api
        .admin(
            Method::PATCH,
            "/tenants",
            Some(&json!([{"id": ghost, "name": "Nobody"}])),
        )
        .await
        .expect(200)
        .parse();
    assert_eq!(
        (u.issues[0].id.as_deref(), u.issues[0].message.as_str()),
        (Some(ghost), "tenant not found")
    );
}

/// Days off and metric thresholds of the streak settings change what extends a streak; freezes
/// switched off no longer bridge a missed day; a reset starts over.
#[tokio::test]
async fn streak_settings_change_how_streaks_count() {
    let api = Api::start().await;
    api.metric("pages").await;
    api.metric("minutes").await;
    let day = chrono::Duration::days(1);
    // 2026-01-15 is a Thursday. Weekends off; a day counts when 5 pages AND 10 minutes are read.
    let r = api
        .admin(
            Method::PATCH,
            "/streaks/settings",
            Some(&json!({"daysOff": [0, 6], "evaluationMode": "AND",
                         "metrics": [{"key": "pages", "threshold": 5}, {"key": "minutes", "threshold": 10}]})),
        )
        .await;
    r.expect(200);
    let e: t::EventResponse = api.event("pages", "ann", 5.0).await.parse();
    assert_eq!(
        (e.current_streak.length, e.current_streak.extended),
        (0, false),
        "minutes missing"
    );
    let e: t::EventResponse = api.event("minutes", "ann", 10.0).await.parse();
    assert_eq!(
        (e.current_streak.length, e.current_streak.extended),
        (1, true),
        "both thresholds met"
    );
    api.emu.advance(day); // Friday
    api.event("pages", "ann", 5.0).await.expect(201);
    api.event("minutes", "ann", 12.0).await.expect(201);
    api.emu.advance(day * 3); // Monday: Saturday and Sunday are days off
    api.event("pages", "ann", 6.0).await.expect(201);
    let e: t::EventResponse = api.event("minutes", "ann", 10.0).await.parse();
    assert_eq!(e.current_streak.length, 3, "Thursday, Friday, Monday");

    // Without days off, the same weekend breaks the streak.
    let r = api
        .admin(
            Method::PATCH,
            "/streaks/settings",
            Some(&json!({"daysOff": [], "evaluationMode": "OR"})),
        )
        .await;
    r.expect(200);
    assert_eq!(streak(&api, "ann").await.length, 1, "only Monday remains");

    // Freezes off: a held freeze no longer bridges a missed day.
    api.emu.advance(day); // Tuesday
    api.event("pages", "ann", 5.0).await.expect(201);
    let r = api
        .admin(
            Method::POST,
            "/streaks/freezes",
            Some(&json!({"freezes": [{"userId": "ann"}]})),
        )
        .await;
    r.expect(201);
    api.emu.advance(day * 2); // Thursday, Wednesday missed
    assert_eq!(streak(&api, "ann").await.length, 2, "the freeze bridges Wednesday");
    let r = api
        .admin(Method::PATCH, "/streaks/settings", Some(&json!({"freezes": null})))
        .await;
    r.expect(200);
    let s = streak(&api, "ann").await;
    assert_eq!((s.length, s.freezes), (0, Some(0)));

    // A reset drops everything before it.
    api.event("pages", "ann", 5.0).await.expect(201);
    assert_eq!(streak(&api, "ann").await.length, 1);
    let r = api
        .admin(Method::POST, "/streaks/reset", Some(&json!({"users": [{"id": "ann"}]})))
        .await;
    r.expect(200);
    assert_eq!(streak(&api, "ann").await.length, 0);
    api.event("pages", "ann", 5.0).await.expect(201);
    assert_eq!(
        streak(&api, "ann").await.length,
        1,
        "activity after the reset counts again"
    );
}

/// Achievements created through the Admin API: their status decides whether the Application
/// API lists and completes them; user attribute conditions decide who earns them;
/// anniversaries follow the sign-up date.
#[tokio::test]
async fn admin_achievements_follow_status_conditions_and_sign_up_dates() {
    let api = Api::start().await;
    let plan = user_attribute(&api, "Plan", "plan").await;
    let r = api
        .admin(
            Method::POST,
            "/achievements",
            Some(&json!([
                {"name": "Hidden", "trigger": "api", "key": "hidden"},
                {"name": "Soon", "trigger": "api", "key": "soon", "status": "locked"},
                {"name": "Pro welcome", "trigger": "api", "key": "pro-welcome", "status": "active",
                 "userAttributes": [{"attributeId": plan, "attributeValue": "pro"}]},
                {"name": "One year", "trigger": "anniversary", "anniversaryYears": 1, "status": "active"},
                {"name": "Two years", "trigger": "anniversary", "anniversaryYears": 2, "status": "active"}
            ])),
        )
        .await;
    r.expect(201);
    assert_eq!(r.parse::<ta::CreateAchievementsResponse>().created.len(), 5);

    let listed: Vec<String> = api
        .app(Method::GET, "/achievements", None)
        .await
        .parse::<Vec<t::AchievementWithStatsResponse>>()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert!(
        listed.contains(&"Soon".to_string()) && !listed.contains(&"Hidden".to_string()),
        "{listed:?}"
    );
    for key in ["hidden", "soon"] {
        let r = api
            .app(
                Method::POST,
                &format!("/achievements/{key}/complete"),
                Some(&json!({"user": {"id": "bo"}})),
            )
            .await;
        r.expect(422);
    }
    let complete = |plan: &'static str| json!({"user": {"id": format!("{plan}-user"), "attributes": {"plan": plan}}});
    let r = api
        .app(
            Method::POST,
            "/achievements/pro-welcome/complete",
            Some(&complete("free")),
        )
        .await;
    r.expect(422);
    assert!(r.error().contains("conditions"), "{}", r.error());
    let r = api
        .app(
            Method::POST,
            "/achievements/pro-welcome/complete",
            Some(&complete("pro")),
        )
        .await;
    r.expect(201);

    // Signed up 2025-01-10: one year has passed on 2026-01-15, two have not.
    let r = api
        .app(
            Method::POST,
            "/users",
            Some(&json!({"id": "cy", "signUpDate": "2025-01-10"})),
        )
        .await;
    r.expect(201);
    assert_eq!(
        r.parse::<t::User>().sign_up_date.map(|d| d.to_string()).as_deref(),
        Some("2025-01-10")
    );
    let done: Vec<String> = api
        .app(Method::GET, "/users/cy/achievements", None)
        .await
        .parse::<Vec<t::UserAchievementWithStatsResponse>>()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(done, ["One year"]);
    let r = api
        .app(
            Method::POST,
            "/users",
            Some(&json!({"id": "di", "signUpDate": "yesterday"})),
        )
        .await;
    r.expect(422);
}

/// Leaderboard user attribute filters: only matching users are ranked, on both APIs' views.
#[tokio::test]
async fn leaderboard_user_attribute_filters_limit_the_ranking() {
    let api = Api::start().await;
    let metric = api.metric("steps").await;
    let region = user_attribute(&api, "Region", "region").await;
    let r = api
        .admin(
            Method::POST,
            "/leaderboards",
            Some(
                &json!([{"name": "EMEA steps", "key": "emea-steps", "rankBy": "metric", "metricId": metric,
                          "status": "active", "userAttributes": [{"attributeId": region, "attributeValue": "emea"}]}]),
            ),
        )
        .await;
    r.expect(201);
    let board = r.parse::<ta::CreateLeaderboardsResponse>().created.remove(0);
    assert_eq!(board.user_attributes[0].attribute_value, "emea");
    for (user, reg, steps) in [("eve", "emea", 300.0), ("abe", "apac", 900.0), ("ida", "emea", 500.0)] {
        let r = api
            .app(
                Method::POST,
                "/metrics/steps/event",
                Some(&json!({"user": {"id": user, "attributes": {"region": reg}}, "value": steps})),
            )
            .await;
        r.expect(201);
    }
    let r = api.app(Method::GET, "/leaderboards/emea-steps", None).await;
    let lb: t::LeaderboardResponseWithRankings = r.parse();
    assert_eq!(
        lb.rankings
            .iter()
            .map(|r| (r.user_id.as_str(), r.value))
            .collect::<Vec<_>>(),
        [("ida", 500), ("eve", 300)]
    );
    assert_eq!(
        (lb.user_attributes[0].key.as_str(), lb.user_attributes[0].value.as_str()),
        ("region", "emea")
    );
    // Cleared with null: everyone is ranked.
    let r = api
        .admin(
            Method::PATCH,
            "/leaderboards",
            Some(&json!([{"id": board.id, "userAttributes": null}])),
        )
        .await;
    r.expect(200);
    let lb: t::LeaderboardResponseWithRankings = api.app(Method::GET, "/leaderboards/emea-steps", None).await.parse();
    assert_eq!(lb.rankings.len(), 3);
    assert!(lb.user_attributes.is_empty());
}

/// `GET /streaks` takes `userIds` repeated (as the SDKs send it) or comma-joined; an encoded
/// comma is part of an ID.
#[tokio::test]
async fn streaks_accept_repeated_and_comma_joined_user_ids() {
    let api = Api::start().await;
    api.metric("lessons-completed").await;
    for user in ["smith, j", "lee"] {
        api.event("lessons-completed", user, 1.0).await.expect(201);
    }
    let ids_of = |v: Value| -> Vec<(String, i64)> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| {
                (
                    s["userId"].as_str().unwrap().to_string(),
                    s["streakLength"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let both = vec![("smith, j".to_string(), 1), ("lee".to_string(), 1)];
    for query in [
        "userIds=smith%2C+j&userIds=lee",
        "userIds=smith%2C%20j,lee",
        "userIds[]=smith%2C+j&userIds[]=lee",
    ] {
        let r = api.app(Method::GET, &format!("/streaks?{query}"), None).await;
        r.expect(200);
        assert_eq!(ids_of(r.json()), both, "{query}");
    }
    let r = api.app(Method::GET, "/streaks?userIds=lee,nobody", None).await;
    assert_eq!(ids_of(r.json()), [("lee".to_string(), 1), ("nobody".to_string(), 0)]);
}

/// An award shows its trigger and boosts as they were when the points were given: renaming the
/// metric or the boost running out later changes the points system, not the award.
#[tokio::test]
async fn awards_keep_their_trigger_and_boosts_as_awarded() {
    let api = Api::start().await;
    let metric_id = api.metric("words").await;
    let plan = user_attribute(&api, "Plan", "plan").await;
    points_system(
        &api,
        json!({"name": "Points", "key": "pts",
        "boosts": [{"name": "Launch", "start": "2026-01-14", "end": "2026-01-16", "multiplier": 3}],
        "triggers": [{"type": "metric", "points": 10, "metricId": metric_id, "metricThreshold": 1, "status": "active",
            "userAttributes": [{"attributeId": plan, "attributeValue": "pro"}]}]}),
    )
    .await;
    let body = json!({"user": {"id": "w", "attributes": {"plan": "pro"}}, "value": 1});
    let e = api.app(Method::POST, "/metrics/words/event", Some(&body)).await;
    e.expect(201);
    assert_eq!(e.json()["points"]["pts"]["added"], json!(30), "10 points, tripled");

    let r = api
        .admin(
            Method::PATCH,
            "/metrics",
            Some(&json!([{"id": metric_id, "name": "Words written"}])),
        )
        .await;
    r.expect(200);
    api.control(
        Method::POST,
        "/_emulator/clock",
        Some(&json!({"advanceSeconds": 3 * 86_400})),
    )
    .await
    .expect(200);

    let p = api.app(Method::GET, "/users/w/points/pts", None).await;
    p.expect(200);
    let award = &p.json()["awards"][0];
    assert_eq!(award["awarded"], json!(30));
    assert_eq!(award["trigger"]["metricName"], json!("words"), "the name when awarded");
    assert_eq!(
        award["trigger"]["userAttributes"],
        json!([{"key": "plan", "value": "pro"}])
    );
    assert_eq!(award["boosts"][0]["name"], json!("Launch"));
    assert_eq!(award["boosts"][0]["multiplier"], json!(3.0));
    assert_eq!(award["boosts"][0]["status"], json!("active"), "the status when awarded");

    let system = api.app(Method::GET, "/points/pts", None).await;
    system.expect(200);
    assert_eq!(
        system.json()["triggers"][0]["metricName"],
        json!("Words written"),
        "today's name"
    );
    let boosts = api.app(Method::GET, "/points/pts/boosts", None).await;
    boosts.expect(200);
    assert_ne!(boosts.json()[0]["status"], json!("active"), "the boost has ended since");
}
