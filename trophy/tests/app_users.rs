//! Wire tests of the users operations.

mod common;

use chrono::NaiveDate;
use common::Harness;
use serde_json::json;
use trophy::api::users::StreakMetric;
use trophy::types::{
    AchievementTrigger, EventSummaryAggregation, LeaderboardRankBy, LeaderboardRunUnit, NotificationChannel,
    PointsBoostRounding, PointsBoostStatus, StreakEvaluationModePreference, StreakFrequency,
};
use trophy::{Error, UserInput, UserUpdate};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn user_body(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "tz": "Europe/London",
        "deviceTokens": ["fcm-token-1f3a"],
        "subscribeToEmails": true,
        "attributes": {"plan": "pro"},
        "control": false,
        "created": "2026-02-14T08:12:45Z",
        "updated": "2026-03-01T17:40:02Z"
    })
}

fn invalid_field(e: Error) -> String {
    match e {
        Error::InvalidInput(i) => i.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn create_sends_the_id_and_set_fields() {
    let h = Harness::new().await;
    h.expect("POST", "/v1/users", 201, user_body("user-42")).await;
    let user = UserInput::new("user-42")
        .email("ada@example.com")
        .name("Ada Lovelace")
        .tz("Europe/London")
        .attribute("plan", "pro");
    let created = h.client.users().create(user).send().await.unwrap();
    assert_eq!(created.id, "user-42");
    assert_eq!(created.email.as_deref(), Some("ada@example.com"));
    assert_eq!(created.tz.as_deref(), Some("Europe/London"));
    assert_eq!(created.attributes["plan"], "pro");
    assert!(!created.control);
    assert_eq!(created.created.to_rfc3339(), "2026-02-14T08:12:45+00:00");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_rejects_an_empty_id() {
    let h = Harness::new().await;
    let e = h.client.users().create("  ").send().await.unwrap_err();
    assert_eq!(invalid_field(e), "user.id");
}

#[tokio::test]
async fn get_decodes_the_user() {
    let h = Harness::new().await;
    let mut body = user_body("user-42");
    body["email"] = json!(null);
    body["deviceTokens"] = json!(null);
    h.expect("GET", "/v1/users/user-42", 200, body).await;
    let user = h
        .client
        .users()
        .get("user-42")
        .tenant_id("tenant-eu")
        .send()
        .await
        .unwrap();
    assert_eq!(user.id, "user-42");
    assert_eq!(user.email, None);
    assert_eq!(user.device_tokens, None);
    assert_eq!(user.name.as_deref(), Some("Ada Lovelace"));
    assert!(user.subscribe_to_emails);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_encodes_the_id_as_one_segment() {
    let h = Harness::new().await;
    h.expect("GET", "/v1/users/a%2Fb%20%C3%A9", 200, user_body("a/b é"))
        .await;
    let user = h.client.users().get("a/b é").send().await.unwrap();
    assert_eq!(user.id, "a/b é");
}

#[tokio::test]
async fn get_rejects_empty_and_dot_ids() {
    let h = Harness::new().await;
    assert_eq!(invalid_field(h.client.users().get("").send().await.unwrap_err()), "id");
    assert_eq!(
        invalid_field(h.client.users().get("..").send().await.unwrap_err()),
        "id"
    );
}

#[tokio::test]
async fn identify_puts_only_the_changes() {
    let h = Harness::new().await;
    h.expect("PUT", "/v1/users/user-42", 200, user_body("user-42")).await;
    let changes = UserUpdate::new()
        .email("ada@example.com")
        .subscribe_to_emails(false)
        .clear_device_tokens();
    let user = h.client.users().identify("user-42", changes).send().await.unwrap();
    assert_eq!(user.id, "user-42");
    assert_eq!(user.device_tokens.as_deref(), Some(&["fcm-token-1f3a".to_string()][..]));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn update_patches_only_the_changes() {
    let h = Harness::new().await;
    let mut body = user_body("user-42");
    body["tz"] = json!(null);
    body["name"] = json!("Ada King");
    h.expect("PATCH", "/v1/users/user-42", 200, body).await;
    let changes = UserUpdate::new().name("Ada King").clear_tz().attribute("plan", "team");
    let user = h.client.users().update("user-42", changes).send().await.unwrap();
    assert_eq!(user.name.as_deref(), Some("Ada King"));
    assert_eq!(user.tz, None);
    assert_eq!(user.updated.to_rfc3339(), "2026-03-01T17:40:02+00:00");
    insta::assert_snapshot!(h.single_request().await);
}

fn preferences_body() -> serde_json::Value {
    json!({
        "notifications": {
            "achievement_completed": ["email", "push"],
            "recap": ["email"],
            "reactivation": [],
            "streak_reminder": ["push", "sms"]
        },
        "streak": {
            "enabled": true,
            "evaluationMode": "OR",
            "metrics": [{"key": "words-written", "threshold": 500}, {"key": "minutes-read", "threshold": 12.5}]
        }
    })
}

#[tokio::test]
async fn preferences_decode_channels_and_streak_settings() {
    let h = Harness::new().await;
    h.expect("GET", "/v1/users/user-42/preferences", 200, preferences_body())
        .await;
    let prefs = h.client.users().preferences("user-42").send().await.unwrap();
    let n = &prefs.notifications;
    assert_eq!(
        n.achievement_completed,
        vec![NotificationChannel::Email, NotificationChannel::Push]
    );
    assert_eq!(n.recap, vec![NotificationChannel::Email]);
    assert!(n.reactivation.is_empty());
    assert_eq!(n.streak_reminder[1], NotificationChannel::Unknown("sms".into()));
    let streak = prefs.streak.unwrap();
    assert_eq!(streak.enabled, Some(true));
    assert_eq!(streak.evaluation_mode, Some(StreakEvaluationModePreference::Or));
    assert_eq!(streak.metrics[1].key, "minutes-read");
    assert_eq!(streak.metrics[1].threshold, 12.5);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn update_preferences_sends_only_what_was_set() {
    let h = Harness::new().await;
    h.expect("PATCH", "/v1/users/user-42/preferences", 200, preferences_body())
        .await;
    let prefs = h
        .client
        .users()
        .update_preferences("user-42")
        .achievement_completed_channels([NotificationChannel::Email, NotificationChannel::Push])
        .reactivation_channels(Vec::<NotificationChannel>::new())
        .streak_reminder_channels(["push"])
        .streak_evaluation_mode(StreakEvaluationModePreference::Or)
        .streak_metric("words-written", 500.0)
        .streak_metric("minutes-read", 12.5)
        .send()
        .await
        .unwrap();
    assert_eq!(prefs.notifications.recap, vec![NotificationChannel::Email]);
    assert_eq!(prefs.streak.unwrap().metrics.len(), 2);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn update_preferences_can_send_streak_settings_alone() {
    let h = Harness::new().await;
    h.expect("PATCH", "/v1/users/user-42/preferences", 200, preferences_body())
        .await;
    h.client
        .users()
        .update_preferences("user-42")
        .streak_enabled(false)
        .streak_metrics([StreakMetric::new("words-written", 250.0)])
        .send()
        .await
        .unwrap();
    let body = common::single_body(&h.server).await;
    assert_eq!(
        body,
        json!({"streak": {"enabled": false, "metrics": [{"key": "words-written", "threshold": 250.0}]}})
    );
}

#[tokio::test]
async fn update_preferences_checks_streak_metrics() {
    let h = Harness::new().await;
    let users = h.client.users();
    let e = users
        .update_preferences("u")
        .streak_metric("ok", 1.0)
        .streak_metric("", 2.0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "streak.metrics[1].key");
    let e = users
        .update_preferences("u")
        .streak_metric("words", f64::NAN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "streak.metrics[0].threshold");
}

fn metric_body(key: &str, current: f64) -> serde_json::Value {
    json!({
        "id": format!("met_{key}"),
        "key": key,
        "name": "Words written",
        "current": current,
        "achievements": [{
            "id": "ach_words_1k", "trigger": "metric", "name": "First thousand", "description": null,
            "badgeUrl": "https://cdn.example.com/badges/1k.png", "key": "words-1000",
            "metricId": format!("met_{key}"), "metricValue": 1000.0, "metricName": "Words written",
            "userAttributes": [], "achievedAt": "2026-02-20T21:05:00Z"
        }, {
            "id": "ach_words_10k", "trigger": "metric", "name": "Ten thousand", "description": "Keep going",
            "badgeUrl": null, "key": "words-10000", "metricValue": 10000.0,
            "userAttributes": [], "achievedAt": null
        }]
    })
}

#[tokio::test]
async fn metrics_lists_every_metric() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/metrics",
        200,
        json!([metric_body("words-written", 4321.5), metric_body("pages-read", 88.0)]),
    )
    .await;
    let metrics = h.client.users().metrics("user-42").send().await.unwrap();
    assert_eq!(metrics.len(), 2);
    assert_eq!(metrics[0].key, "words-written");
    assert_eq!(metrics[0].current, 4321.5);
    assert_eq!(
        metrics[0].achievements[0].achieved_at.unwrap().to_rfc3339(),
        "2026-02-20T21:05:00+00:00"
    );
    assert_eq!(metrics[0].achievements[1].achieved_at, None);
    assert_eq!(metrics[1].id, "met_pages-read");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn metric_gets_one_metric() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/metrics/words-written",
        200,
        metric_body("words-written", 4321.5),
    )
    .await;
    let metric = h
        .client
        .users()
        .metric("user-42", "words-written")
        .send()
        .await
        .unwrap();
    assert_eq!(metric.name, "Words written");
    assert_eq!(metric.achievements[0].trigger, AchievementTrigger::Metric);
    assert_eq!(metric.achievements[1].description.as_deref(), Some("Keep going"));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn metric_encodes_id_and_key() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/a%2Fb%20%C3%A9/metrics/k%3Fx%2Fy",
        200,
        metric_body("k?x/y", 1.0),
    )
    .await;
    let metric = h.client.users().metric("a/b é", "k?x/y").send().await.unwrap();
    assert_eq!(metric.key, "k?x/y");
    assert_eq!(
        invalid_field(h.client.users().metric("u", "").send().await.unwrap_err()),
        "key"
    );
}

#[tokio::test]
async fn metric_event_summary_sends_aggregation_and_dates() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/metrics/words-written/event-summary",
        200,
        json!([
            {"date": "2026-03-02", "total": 1200.0, "change": 1200.0},
            {"date": "2026-03-09", "total": 2050.5, "change": 850.5},
            {"date": "2026-03-16", "total": 2050.5, "change": 0.0}
        ]),
    )
    .await;
    let weeks = h
        .client
        .users()
        .metric_event_summary(
            "user-42",
            "words-written",
            EventSummaryAggregation::Weekly,
            date(2026, 3, 1),
            date(2026, 3, 21),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(weeks.len(), 3);
    assert_eq!(weeks[1].date, date(2026, 3, 9));
    assert_eq!(weeks[1].total, 2050.5);
    assert_eq!(weeks[1].change, 850.5);
    assert_eq!(weeks[2].change, 0.0);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn event_summaries_reject_an_end_before_the_start() {
    let h = Harness::new().await;
    let users = h.client.users();
    let e = users
        .metric_event_summary("u", "m", "daily".into(), date(2026, 3, 2), date(2026, 3, 1))
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "end_date");
    let e = users
        .points_event_summary("u", "xp", "daily".into(), date(2026, 3, 2), date(2026, 3, 1))
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "end_date");
}

fn user_achievement(id: &str, achieved_at: Option<&str>) -> serde_json::Value {
    json!({
        "id": id, "trigger": "streak", "name": "Week warrior", "description": "Seven days in a row",
        "badgeUrl": null, "key": "week-warrior", "streakLength": 7, "userAttributes": [],
        "achievedAt": achieved_at, "completions": 318, "rarity": 7.25
    })
}

#[tokio::test]
async fn achievements_include_incomplete_when_asked() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/achievements",
        200,
        json!([
            user_achievement("ach_w7", Some("2026-03-08T06:30:00Z")),
            user_achievement("ach_w30", None)
        ]),
    )
    .await;
    let list = h
        .client
        .users()
        .achievements("user-42")
        .include_incomplete(true)
        .send()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].trigger, AchievementTrigger::Streak);
    assert_eq!(list[0].streak_length, Some(7));
    assert_eq!(list[0].completions, 318);
    assert_eq!(list[0].rarity, 7.25);
    assert_eq!(list[1].achieved_at, None);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn achievements_send_no_flag_by_default() {
    let h = Harness::new().await;
    h.expect("GET", "/v1/users/user-42/achievements", 200, json!([])).await;
    let list = h
        .client
        .users()
        .achievements("user-42")
        .include_incomplete(false)
        .send()
        .await
        .unwrap();
    assert!(list.is_empty());
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), None);
}

#[tokio::test]
async fn streak_sends_history_periods() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/streak",
        200,
        json!({
            "length": 12, "frequency": "daily", "started": "2026-02-18", "periodStart": "2026-03-01",
            "periodEnd": "2026-03-01", "expires": "2026-03-02", "extended": "2026-03-01T07:45:10Z",
            "freezes": 2, "maxFreezes": 3, "freezeAutoEarnInterval": 7, "freezeAutoEarnAmount": 1,
            "pauses": [{"id": "0f8b7c1e-3d2a-4c5b-9e6f-1a2b3c4d5e6f", "start": "2026-04-01", "end": "2026-04-07"}],
            "streakHistory": [
                {"periodStart": "2026-02-28", "periodEnd": "2026-02-28", "length": 11, "usedFreeze": false, "usedPause": false},
                {"periodStart": "2026-03-01", "periodEnd": "2026-03-01", "length": 12, "usedPause": false}
            ]
        }),
    )
    .await;
    let streak = h
        .client
        .users()
        .streak("user-42")
        .history_periods(14)
        .send()
        .await
        .unwrap();
    assert_eq!(streak.length, 12);
    assert_eq!(streak.frequency, StreakFrequency::Daily);
    assert_eq!(streak.started, Some(date(2026, 2, 18)));
    assert_eq!(streak.freezes, Some(2));
    assert_eq!(streak.pauses[0].end, date(2026, 4, 7));
    assert_eq!(streak.streak_history.len(), 2);
    assert_eq!(streak.streak_history[1].used_freeze, None);
    insta::assert_snapshot!(h.single_request().await);
}

fn boost(id: &str, status: &str) -> serde_json::Value {
    json!({
        "id": id, "name": "Double XP weekend", "status": status, "start": "2026-03-07",
        "end": "2026-03-08", "multiplier": 2.0, "rounding": "down"
    })
}

#[tokio::test]
async fn points_sends_awards_and_decodes_level_and_awards() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/points/xp",
        200,
        json!({
            "id": "pts_xp", "key": "xp", "name": "Experience", "description": "Earned by writing",
            "badgeUrl": null, "maxPoints": null, "total": 1450,
            "level": {"id": "lvl_3", "key": "wordsmith", "name": "Wordsmith", "description": "1,000 XP and up",
                      "badgeUrl": "https://cdn.example.com/levels/wordsmith.png", "points": 1000},
            "awards": [
                {"id": "awd_9", "awarded": 100, "date": "2026-03-07T10:00:00Z", "total": 1450,
                 "boosts": [boost("bst_1", "active")]},
                {"id": "awd_8", "awarded": 50, "date": "2026-03-06T18:20:00Z", "total": 1350}
            ]
        }),
    )
    .await;
    let points = h.client.users().points("user-42", "xp").awards(2).send().await.unwrap();
    assert_eq!(points.total, 1450);
    assert_eq!(points.max_points, None);
    let level = points.level.unwrap();
    assert_eq!(level.key, "wordsmith");
    assert_eq!(level.points, 1000);
    assert_eq!(points.awards.len(), 2);
    assert_eq!(points.awards[0].awarded, Some(100));
    assert_eq!(points.awards[0].boosts[0].multiplier, 2.0);
    assert!(points.awards[1].boosts.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn points_checks_the_awards_range() {
    let h = Harness::new().await;
    let users = h.client.users();
    assert_eq!(
        invalid_field(users.points("u", "xp").awards(0).send().await.unwrap_err()),
        "awards"
    );
    assert_eq!(
        invalid_field(users.points("u", "xp").awards(101).send().await.unwrap_err()),
        "awards"
    );
}

#[tokio::test]
async fn points_boosts_lists_the_users_boosts() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/points/xp/boosts",
        200,
        json!([boost("bst_1", "active"), boost("bst_2", "paused")]),
    )
    .await;
    let boosts = h.client.users().points_boosts("user-42", "xp").send().await.unwrap();
    assert_eq!(boosts.len(), 2);
    assert_eq!(boosts[0].status, PointsBoostStatus::Active);
    assert_eq!(boosts[0].rounding, PointsBoostRounding::Down);
    assert_eq!(boosts[0].end.as_deref(), Some("2026-03-08"));
    assert_eq!(boosts[1].status, PointsBoostStatus::Unknown("paused".into()));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn points_event_summary_sends_aggregation_and_dates() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/points/xp/event-summary",
        200,
        json!([
            {"date": "2026-01-01", "total": 300.0, "change": 300.0},
            {"date": "2026-02-01", "total": 1350.0, "change": 1050.0}
        ]),
    )
    .await;
    let months = h
        .client
        .users()
        .points_event_summary(
            "user-42",
            "xp",
            EventSummaryAggregation::Monthly,
            date(2026, 1, 1),
            date(2026, 2, 28),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[1].date, date(2026, 2, 1));
    assert_eq!(months[1].total, 1350.0);
    assert_eq!(months[1].change, 1050.0);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn leaderboard_sends_run_and_num_events() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/user-42/leaderboards/weekly-words",
        200,
        json!({
            "id": "lb_ww", "key": "weekly-words", "name": "Weekly words", "description": null,
            "rankBy": "metric", "metricKey": "words-written", "metricName": "Words written",
            "breakdownAttribute": null, "breakdownAttributes": [], "maxParticipants": 500,
            "start": "2026-01-05", "end": null, "startTime": null, "endTime": null,
            "runUnit": "day", "runInterval": 7, "rank": 4, "value": 3120,
            "history": [
                {"timestamp": "2026-03-03T12:00:00Z", "date": "2026-03-03", "previousRank": null, "rank": 9,
                 "previousValue": null, "value": 800},
                {"timestamp": "2026-03-05T19:30:00Z", "date": "2026-03-05", "previousRank": 9, "rank": 4,
                 "previousValue": 800, "value": 3120}
            ]
        }),
    )
    .await;
    let standing = h
        .client
        .users()
        .leaderboard("user-42", "weekly-words")
        .run(date(2026, 3, 2))
        .num_events(2)
        .send()
        .await
        .unwrap();
    assert_eq!(standing.rank, Some(4));
    assert_eq!(standing.value, Some(3120));
    assert_eq!(standing.rank_by, LeaderboardRankBy::Metric);
    assert_eq!(standing.run_unit, Some(LeaderboardRunUnit::Day));
    assert_eq!(standing.history.len(), 2);
    assert_eq!(standing.history[0].previous_rank, None);
    assert_eq!(standing.history[1].previous_rank, Some(9));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn leaderboard_checks_num_events() {
    let h = Harness::new().await;
    let e = h
        .client
        .users()
        .leaderboard("u", "lb")
        .num_events(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "num_events");
}

fn wrapped_metric() -> serde_json::Value {
    json!({
        "name": "Words written", "units": "words", "currentTotal": 152000.0, "changeThisPeriod": 98000.0,
        "percentChange": 181.5, "percentileThisPeriod": 93.0,
        "byAttribute": {"device": {"desktop": {"name": "Desktop", "currentTotal": 120000.0, "changeThisPeriod": 80000.0}}}
    })
}

#[tokio::test]
async fn wrapped_sends_the_year() {
    let h = Harness::new().await;
    let period = json!({
        "metrics": {"words-written": wrapped_metric()},
        "points": {"xp": {"name": "Experience", "currentTotal": 5400.0, "changeThisPeriod": 5100.0, "percentChange": 1700.0}},
        "achievements": [],
        "leaderboards": {}
    });
    let mut day = period.clone();
    day["date"] = json!("2025-11-30");
    let mut week = period.clone();
    week["start"] = json!("2025-11-24");
    week["end"] = json!("2025-11-30");
    let mut month = period.clone();
    month["month"] = json!(11);
    let mut year = period.clone();
    year["longestStreak"] = json!({"length": 45, "frequency": "daily", "started": "2025-10-01", "periodStart": "2025-11-14", "periodEnd": "2025-11-14"});
    h.expect(
        "GET",
        "/v1/users/user-42/wrapped",
        200,
        json!({
            "user": user_body("user-42"),
            "activity": {
                "daysActive": 211, "weeksActive": 48, "monthsActive": 12,
                "mostActiveDay": day, "mostActiveWeek": week, "mostActiveMonth": month, "entireYear": year
            }
        }),
    )
    .await;
    let wrapped = h.client.users().wrapped("user-42").year(2025).send().await.unwrap();
    assert_eq!(wrapped.user.id, "user-42");
    assert_eq!(wrapped.activity.days_active, 211);
    assert_eq!(wrapped.activity.most_active_day.date, date(2025, 11, 30));
    assert_eq!(wrapped.activity.most_active_month.month, 11);
    assert_eq!(wrapped.activity.entire_year.longest_streak.length, 45);
    let words = &wrapped.activity.entire_year.metrics["words-written"];
    assert_eq!(words.percentile_this_period, Some(93.0));
    assert_eq!(words.by_attribute["device"]["desktop"].current_total, Some(120000.0));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn wrapped_checks_the_year() {
    let h = Harness::new().await;
    let e = h.client.users().wrapped("u").year(0).send().await.unwrap_err();
    assert_eq!(invalid_field(e), "year");
}

#[tokio::test]
async fn sign_up_date_is_sent_and_decoded() {
    let h = Harness::new().await;
    let mut body = user_body("user-42");
    body["signUpDate"] = json!("2025-03-14");
    h.expect("PATCH", "/v1/users/user-42", 200, body).await;
    let user = h
        .client
        .users()
        .update("user-42", UserUpdate::new().sign_up_date(date(2025, 3, 14)))
        .send()
        .await
        .unwrap();
    assert_eq!(user.sign_up_date, Some(date(2025, 3, 14)));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn users_sent_with_events_carry_the_sign_up_date() {
    let h = Harness::new().await;
    h.expect("POST", "/v1/users", 201, user_body("user-7")).await;
    let user = h
        .client
        .users()
        .create(UserInput::new("user-7").sign_up_date(date(2024, 2, 29)))
        .send()
        .await
        .unwrap();
    assert_eq!(user.sign_up_date, None, "a response without the field reads as none");
    assert_eq!(
        common::single_body(&h.server).await,
        json!({"id": "user-7", "signUpDate": "2024-02-29"})
    );
}

#[tokio::test]
async fn update_preferences_sends_days_off() {
    let h = Harness::new().await;
    let mut answer = preferences_body();
    answer["streak"]["daysOff"] = json!([0, 6]);
    h.expect("PATCH", "/v1/users/user-42/preferences", 200, answer).await;
    let prefs = h
        .client
        .users()
        .update_preferences("user-42")
        .streak_days_off([0, 6])
        .send()
        .await
        .unwrap();
    assert_eq!(prefs.streak.map(|s| s.days_off), Some(vec![0, 6]));
    insta::assert_snapshot!(h.single_request().await);
    let e = h
        .client
        .users()
        .update_preferences("u")
        .streak_days_off([3, 9])
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "streak.days_off[1]");
}
