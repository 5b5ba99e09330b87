//! Drives every one of the 85 operations of both documents against the emulator,
//! deserializes each answer into the matching `trophy_generated` response type, and validates
//! each success body against the response schema of our documents (`openapi/`).

mod common;
mod documents;

use std::collections::BTreeSet;

use common::{Api, Resp};
use reqwest::Method;
use serde_json::{json, Value};
use trophy_generated::admin::types as ta;
use trophy_generated::app::types as t;

/// Records which operations were exercised, and each success answer (status and body).
#[derive(Default)]
struct Ops(BTreeSet<&'static str>, Vec<(&'static str, u16, Vec<u8>)>);

impl Ops {
    fn hit(&mut self, op: &'static str, r: &Resp) {
        assert!(
            r.status.is_success(),
            "{op} answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        self.0.insert(op);
        self.1.push((op, r.status.as_u16(), r.body.clone()));
    }
}

/// The operationIds of a document's paths (webhooks excluded).
fn operation_ids(file: &str) -> BTreeSet<String> {
    let path = format!("{}/../openapi/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("openapi document");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("operationId: "))
        .filter(|id| !id.starts_with("webhook_"))
        .map(|id| id.trim().to_string())
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

#[tokio::test]
async fn all_85_operations_answer_schema_correct_bodies() {
    let api = Api::start().await;
    let mut ops = Ops::default();

    // ---------------- Admin API: configuration -------------------------------------------------
    let r = api
        .admin(
            Method::POST,
            "/attributes",
            Some(&json!([
                {"name": "Plan", "key": "plan", "type": "user"},
                {"name": "Source", "key": "source", "type": "event"},
                {"name": "Bad", "key": "bad key", "type": "user"},
                {"name": "Again", "key": "plan", "type": "user"}
            ])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_attributes_create", &r);
    let created: ta::CreateAttributesResponse = r.parse();
    assert_eq!(created.created.len(), 2);
    assert_eq!(created.issues.len(), 2);
    assert_eq!(created.issues[0].index, Some(2));
    assert_eq!(created.issues[1].index, Some(3));
    assert_eq!(created.issues[0].severity.as_str(), "error");
    let plan_attr = created.created[0].id.to_string();

    let r = api.admin(Method::GET, "/attributes?limit=1&skip=1", None).await;
    ops.hit("admin_attributes_list", &r);
    let list: ta::ListAttributesResponse = r.parse();
    assert_eq!(list.0.len(), 1);
    assert_eq!(list.0[0].key, "source");

    let r = api.admin(Method::GET, &format!("/attributes/{plan_attr}"), None).await;
    ops.hit("admin_attributes_get", &r);
    assert_eq!(r.parse::<ta::AdminAttribute>().name, "Plan");

    let r = api
        .admin(
            Method::PATCH,
            "/attributes",
            Some(&json!([{"id": plan_attr, "name": "Plan tier"}])),
        )
        .await;
    ops.hit("admin_attributes_update", &r);
    let upd: ta::UpdateAttributesResponse = r.parse();
    assert_eq!(upd.updated[0].name, "Plan tier");

    let r = api
        .admin(
            Method::POST,
            "/metrics",
            Some(&json!([{"name": "Lessons completed", "key": "lessons-completed"}])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_metrics_create", &r);
    let m: ta::CreateMetricsResponse = r.parse();
    assert_eq!(m.created[0].unit_type.as_str(), "number");
    let metric_id = m.created[0].id.to_string();

    let r = api.admin(Method::GET, "/metrics", None).await;
    ops.hit("admin_metrics_list", &r);
    assert_eq!(r.parse::<ta::ListMetricsResponse>().0.len(), 1);

    let r = api.admin(Method::GET, &format!("/metrics/{metric_id}"), None).await;
    ops.hit("admin_metrics_get", &r);
    assert_eq!(r.parse::<ta::CreatedMetric>().key, "lessons-completed");

    let r = api
        .admin(
            Method::PATCH,
            "/metrics",
            Some(&json!([{"id": metric_id, "units": "lessons"}])),
        )
        .await;
    ops.hit("admin_metrics_update", &r);
    assert_eq!(r.parse::<ta::UpdateMetricsResponse>().updated[0].units, "lessons");

    // The seeded API achievement, through the Application API.
    let r = api.app(Method::GET, "/achievements", None).await;
    ops.hit("achievements_all", &r);
    let achievements: Vec<t::AchievementWithStatsResponse> = r.parse();
    let onboarding = achievements
        .iter()
        .find(|a| a.key.as_deref() == Some("finish-onboarding"))
        .expect("seeded achievement");
    assert_eq!(onboarding.name, "Finish onboarding");
    assert_eq!(onboarding.trigger.as_str(), "api");
    assert_eq!(onboarding.completions, 0);
    let ten = achievements
        .iter()
        .find(|a| a.key.as_deref() == Some("ten-lessons"))
        .unwrap();
    assert_eq!(ten.metric_id.as_deref(), Some(metric_id.as_str()));
    let onboarding_id = onboarding.id.clone();

    let r = api
        .admin(
            Method::POST,
            "/points",
            Some(&json!([{
                "name": "XP",
                "key": "xp",
                "description": "Experience",
                "levels": [
                    {"name": "Bronze", "key": "bronze", "points": 0},
                    {"name": "Silver", "key": "silver", "points": 50}
                ],
                "triggers": [
                    {"type": "metric", "points": 10, "metricId": metric_id, "metricThreshold": 1, "status": "active"},
                    {"type": "achievement", "points": 25, "achievementId": onboarding_id, "status": "active"}
                ]
            }])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_points_systems_create", &r);
    let ps: ta::CreatePointsSystemsResponse = r.parse();
    assert_eq!(ps.created[0].levels.len(), 2);
    assert_eq!(ps.created[0].triggers.len(), 2);
    let system_id = ps.created[0].id.to_string();

    let r = api.admin(Method::GET, "/points", None).await;
    ops.hit("admin_points_systems_list", &r);
    assert_eq!(r.parse::<ta::ListPointsSystemsResponse>().0[0].key, "xp");

    let r = api.admin(Method::GET, &format!("/points/{system_id}"), None).await;
    ops.hit("admin_points_systems_get", &r);
    let sys: ta::AdminPointsSystem = r.parse();
    assert_eq!(sys.max_points, None);

    let r = api
        .admin(
            Method::PATCH,
            "/points",
            Some(&json!([{"id": system_id, "maxPoints": 1000, "badge": {"url": "https://x/b.png"}}])),
        )
        .await;
    ops.hit("admin_points_systems_update", &r);
    let upd: ta::UpdatePointsSystemsResponse = r.parse();
    assert_eq!(upd.updated[0].max_points, Some(1000));
    assert_eq!(
        upd.updated[0].badge.as_ref().map(|b| b.url.as_str()),
        Some("https://x/b.png")
    );

    // Boosts
    let r = api
        .admin(
            Method::POST,
            &format!("/points/{system_id}/boosts"),
            Some(&json!([{"name": "Double XP", "start": "2026-01-01", "end": "2026-12-31", "multiplier": 2}])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_points_boosts_create", &r);
    let b: ta::CreatePointsBoostsResponse = r.parse();
    assert_eq!(b.created[0].status.as_str(), "active");
    let boost_id = b.created[0].id.to_string();

    let r = api
        .admin(Method::GET, &format!("/points/{system_id}/boosts"), None)
        .await;
    ops.hit("admin_points_boosts_list", &r);
    assert_eq!(r.parse::<ta::ListPointsBoostsResponse>().0.len(), 1);

    let r = api
        .admin(Method::GET, &format!("/points/{system_id}/boosts/{boost_id}"), None)
        .await;
    ops.hit("admin_points_boosts_get", &r);
    assert_eq!(r.parse::<ta::AdminPointsBoost>().multiplier, 2.0);

    let r = api
        .admin(
            Method::PATCH,
            &format!("/points/{system_id}/boosts"),
            Some(&json!([{"id": boost_id, "rounding": "up"}])),
        )
        .await;
    ops.hit("admin_points_boosts_update", &r);
    assert_eq!(
        r.parse::<ta::PatchPointsBoostsResponse>().updated[0].rounding.as_str(),
        "up"
    );

    // Levels
    let r = api
        .admin(
            Method::POST,
            &format!("/points/{system_id}/levels"),
            Some(
                &json!([{"name": "Gold", "key": "gold", "points": 200}, {"name": "Dup", "key": "silver", "points": 1}]),
            ),
        )
        .await;
    r.expect(201);
    ops.hit("admin_points_levels_create", &r);
    let l: ta::CreatePointsLevelsResponse = r.parse();
    assert_eq!(l.created.len(), 1);
    assert_eq!(l.issues.len(), 1);
    let gold_id = l.created[0].id.to_string();

    let r = api
        .admin(Method::GET, &format!("/points/{system_id}/levels?limit=100"), None)
        .await;
    ops.hit("admin_points_levels_list", &r);
    assert_eq!(r.parse::<ta::ListPointsLevelsResponse>().0.len(), 3);

    let r = api
        .admin(Method::GET, &format!("/points/{system_id}/levels/{gold_id}"), None)
        .await;
    ops.hit("admin_points_levels_get", &r);
    assert_eq!(r.parse::<ta::AdminPointsLevel>().points, 200);

    let r = api
        .admin(
            Method::PATCH,
            &format!("/points/{system_id}/levels"),
            Some(&json!([{"id": gold_id, "points": 300, "description": "Shiny"}])),
        )
        .await;
    ops.hit("admin_points_levels_update", &r);
    let lu: ta::PatchPointsLevelsResponse = r.parse();
    assert_eq!(
        (lu.updated[0].points, lu.updated[0].description.as_str()),
        (300, "Shiny")
    );

    // Triggers
    let r = api
        .admin(
            Method::POST,
            &format!("/points/{system_id}/triggers"),
            Some(&json!([{"type": "user_creation", "points": 5}, {"type": "metric", "points": 1}])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_points_triggers_create", &r);
    let tr: ta::CreatePointsTriggersResponse = r.parse();
    assert_eq!(tr.created[0].status.as_str(), "inactive");
    assert_eq!(tr.issues.len(), 1, "a metric trigger needs metricId");
    let trigger_id = tr.created[0].id.to_string();

    let r = api
        .admin(Method::GET, &format!("/points/{system_id}/triggers"), None)
        .await;
    ops.hit("admin_points_triggers_list", &r);
    assert_eq!(r.parse::<ta::ListPointsTriggersResponse>().0.len(), 3);

    let r = api
        .admin(Method::GET, &format!("/points/{system_id}/triggers/{trigger_id}"), None)
        .await;
    ops.hit("admin_points_triggers_get", &r);
    assert_eq!(r.parse::<ta::AdminPointsTrigger>().points, 5);

    let r = api
        .admin(
            Method::PATCH,
            &format!("/points/{system_id}/triggers"),
            Some(&json!([{"id": trigger_id, "points": 7}])),
        )
        .await;
    ops.hit("admin_points_triggers_update", &r);
    assert_eq!(r.parse::<ta::PatchPointsTriggersResponse>().updated[0].points, 7);

    // Leaderboards
    let r = api
        .admin(
            Method::POST,
            "/leaderboards",
            Some(&json!([{
                "name": "Top learners", "key": "top-learners", "rankBy": "metric",
                "metricId": metric_id, "status": "active", "start": "2026-01-01"
            }])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_leaderboards_create", &r);
    let lb: ta::CreateLeaderboardsResponse = r.parse();
    assert_eq!(lb.created[0].max_participants, Some(1000));
    let lb_id = lb.created[0].id.to_string();

    let r = api.admin(Method::GET, "/leaderboards", None).await;
    ops.hit("admin_leaderboards_list", &r);
    assert_eq!(r.parse::<ta::ListLeaderboardsResponse>().0.len(), 1);

    let r = api.admin(Method::GET, &format!("/leaderboards/{lb_id}"), None).await;
    ops.hit("admin_leaderboards_get", &r);
    assert_eq!(r.parse::<ta::AdminLeaderboard>().key, "top-learners");

    let r = api
        .admin(
            Method::PATCH,
            "/leaderboards",
            Some(&json!([{"id": lb_id, "description": "Most lessons", "maxParticipants": 50, "end": null}])),
        )
        .await;
    ops.hit("admin_leaderboards_update", &r);
    let lbu: ta::UpdateLeaderboardsResponse = r.parse();
    assert_eq!(lbu.updated[0].max_participants, Some(50));
    assert_eq!(lbu.updated[0].description.as_deref(), Some("Most lessons"));

    // ---------------- Application API: users ----------------------------------------------------
    let r = api
        .app(
            Method::POST,
            "/users",
            Some(&json!({"id": "alice", "name": "Alice", "email": "alice@example.com", "tz": "Europe/London", "attributes": {"plan": "pro"}})),
        )
        .await;
    r.expect(201);
    ops.hit("users_create", &r);
    let u: t::User = r.parse();
    assert_eq!(u.tz.as_deref(), Some("Europe/London"));
    assert!(u.subscribe_to_emails);

    let r = api.app(Method::GET, "/users/alice", None).await;
    ops.hit("users_get", &r);
    assert_eq!(r.parse::<t::User>().name.as_deref(), Some("Alice"));

    let r = api.app(Method::PUT, "/users/bob", Some(&json!({"name": "Bob"}))).await;
    ops.hit("users_identify", &r);
    assert_eq!(r.parse::<t::User>().id, "bob");

    let r = api
        .app(
            Method::PATCH,
            "/users/alice",
            Some(&json!({"tz": null, "deviceTokens": ["tok"]})),
        )
        .await;
    ops.hit("users_update", &r);
    let u: t::User = r.parse();
    assert_eq!(u.tz, None);
    assert_eq!(u.device_tokens, Some(vec!["tok".to_string()]));

    let r = api.app(Method::GET, "/users/alice/preferences", None).await;
    ops.hit("users_get_preferences", &r);
    let p: t::UserPreferencesResponse = r.parse();
    assert_eq!(p.notifications.recap.len(), 1);

    let r = api
        .app(
            Method::PATCH,
            "/users/alice/preferences",
            Some(&json!({"notifications": {"recap": []}, "streak": {"evaluationMode": "AND"}})),
        )
        .await;
    ops.hit("users_update_preferences", &r);
    let p: t::UserPreferencesResponse = r.parse();
    assert!(p.notifications.recap.is_empty());
    assert_eq!(p.notifications.achievement_completed.len(), 1);
    assert_eq!(
        p.streak
            .and_then(|s| s.evaluation_mode)
            .map(|m| m.as_str().to_string())
            .as_deref(),
        Some("AND")
    );

    // ---------------- events, achievements ------------------------------------------------------
    let r = api
        .raw(
            Method::POST,
            &api.app_url("/metrics/lessons-completed/event"),
            api.key.as_deref(),
            None,
            &[("Idempotency-Key", "evt-1")],
            Some(&json!({"user": {"id": "alice"}, "value": 3})),
        )
        .await;
    r.expect(201);
    ops.hit("metrics_event", &r);
    let ev: t::EventResponse = r.parse();
    assert_eq!(ev.total, 3.0);
    assert_eq!(ev.metric_id, metric_id);
    assert_eq!(ev.idempotency_key.as_deref(), Some("evt-1"));
    assert_eq!(ev.idempotent_replayed, Some(false));
    assert!(ev.current_streak.extended);
    assert_eq!(ev.current_streak.length, 1);
    // 3 units x 10 points, doubled by the boost.
    assert_eq!(ev.points["xp"].added, 60);
    assert_eq!(ev.points["xp"].level.as_ref().map(|l| l.key.as_str()), Some("silver"));
    assert_eq!(ev.leaderboards["top-learners"].rank, Some(1));
    // `status` is not in the generated type (openapi/README.md, difference 2), but Trophy's
    // document requires it on these leaderboard objects.
    assert_eq!(r.json()["leaderboards"]["top-learners"]["status"], "active");
    assert_eq!(
        ev.achievements
            .iter()
            .map(|a| a.key.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        vec!["first-lesson"]
    );

    let r = api
        .app(
            Method::POST,
            "/achievements/finish-onboarding/complete",
            Some(&json!({"user": {"id": "alice"}})),
        )
        .await;
    r.expect(201);
    ops.hit("achievements_complete", &r);
    let c: t::AchievementCompletionResponse = r.parse();
    assert!(c.achievement.achieved_at.is_some());
    assert_eq!(c.points["xp"].added, 50, "25 points doubled");

    let r = api.app(Method::GET, "/users/alice/metrics", None).await;
    ops.hit("users_all_metrics", &r);
    let ms: Vec<t::MetricResponse> = r.parse();
    assert_eq!(ms[0].current, 3.0);

    let r = api
        .app(Method::GET, "/users/alice/metrics/lessons-completed", None)
        .await;
    ops.hit("users_single_metric", &r);
    let m: t::MetricResponse = r.parse();
    assert_eq!(m.achievements.iter().filter(|a| a.achieved_at.is_some()).count(), 1);

    let r = api
        .app(
            Method::GET,
            "/users/alice/metrics/lessons-completed/event-summary?aggregation=daily&startDate=2026-01-14&endDate=2026-01-15",
            None,
        )
        .await;
    ops.hit("users_metric_event_summary", &r);
    let sum: Vec<t::UsersMetricEventSummaryResponseItem> = r.parse();
    assert_eq!(sum.len(), 2);
    assert_eq!((sum[0].total, sum[0].change), (0.0, 0.0));
    assert_eq!((sum[1].total, sum[1].change), (3.0, 3.0));

    let r = api
        .app(Method::GET, "/users/alice/achievements?includeIncomplete=true", None)
        .await;
    ops.hit("users_achievements", &r);
    let ua: Vec<t::UserAchievementWithStatsResponse> = r.parse();
    assert_eq!(ua.len(), 5);
    assert_eq!(ua.iter().filter(|a| a.achieved_at.is_some()).count(), 2);
    let fo = ua
        .iter()
        .find(|a| a.key.as_deref() == Some("finish-onboarding"))
        .unwrap();
    assert_eq!(fo.completions, 1);
    assert_eq!(fo.rarity, 50.0, "one of two users");

    let r = api.app(Method::GET, "/users/alice/streak?historyPeriods=3", None).await;
    ops.hit("users_streak", &r);
    let st: t::StreakResponse = r.parse();
    assert_eq!(st.length, 1);
    assert_eq!(st.streak_history.len(), 3);
    assert!(st.extended.is_some());

    let r = api.app(Method::GET, "/streaks?userIds=alice,bob", None).await;
    ops.hit("streaks_list", &r);
    let bs: t::BulkStreakResponse = r.parse();
    assert_eq!(bs.0.iter().map(|s| s.streak_length).collect::<Vec<_>>(), vec![1, 0]);

    let r = api.app(Method::GET, "/users/alice/points/xp?awards=5", None).await;
    ops.hit("users_points", &r);
    let up: t::GetUserPointsResponse = r.parse();
    assert_eq!(up.total, 110);
    assert_eq!(up.awards.len(), 2);
    assert_eq!(up.awards[0].awarded, Some(50), "newest first");
    assert_eq!(up.awards[0].boosts.len(), 1);

    let r = api.app(Method::GET, "/users/alice/points/xp/boosts", None).await;
    ops.hit("users_points_boosts", &r);
    assert_eq!(r.parse::<Vec<t::PointsBoost>>()[0].name, "Double XP");

    let r = api
        .app(
            Method::GET,
            "/users/alice/points/xp/event-summary?aggregation=monthly&startDate=2026-01-01&endDate=2026-02-28",
            None,
        )
        .await;
    ops.hit("users_points_event_summary", &r);
    let ps: Vec<t::UsersPointsEventSummaryResponseItem> = r.parse();
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].change, 110.0);
    assert_eq!(ps[1].total, 110.0);

    let r = api
        .app(Method::GET, "/users/alice/leaderboards/top-learners", None)
        .await;
    ops.hit("users_leaderboard", &r);
    let ul: t::UserLeaderboardResponseWithHistory = r.parse();
    assert_eq!((ul.rank, ul.value), (Some(1), Some(3)));
    assert_eq!(ul.history.len(), 1);
    assert_eq!(r.json()["status"], "active");

    let r = api.app(Method::GET, "/users/alice/wrapped?year=2026", None).await;
    ops.hit("users_wrapped", &r);
    let w: t::WrappedResponse = r.parse();
    assert_eq!(w.activity.days_active, 1);
    assert_eq!(w.activity.most_active_day.date.to_string(), "2026-01-15");
    assert_eq!(w.activity.entire_year.longest_streak.length, 1);

    // ---------------- points and leaderboards (organisation-wide) -----------------------------------
    let r = api.app(Method::GET, "/points/xp/summary", None).await;
    ops.hit("points_summary", &r);
    let ranges: t::PointsSummaryResponse = r.parse();
    assert_eq!(ranges.0.len(), 10);
    assert_eq!(ranges.0.iter().map(|r| r.users).sum::<i64>(), 2);

    let r = api.app(Method::GET, "/points/xp", None).await;
    ops.hit("points_system", &r);
    let psr: t::PointsSystemResponse = r.parse();
    assert_eq!(psr.triggers.len(), 3);
    assert_eq!(psr.max_points, Some(1000.0));

    let r = api
        .app(Method::GET, "/points/xp/boosts?includeFinished=true", None)
        .await;
    ops.hit("points_boosts", &r);
    assert_eq!(r.parse::<Vec<t::PointsBoost>>().len(), 1);

    let r = api.app(Method::GET, "/points/xp/levels", None).await;
    ops.hit("points_levels", &r);
    let levels: Vec<t::PointsLevel> = r.parse();
    assert_eq!(levels.iter().map(|l| l.points).collect::<Vec<_>>(), vec![0, 50, 300]);

    let r = api.app(Method::GET, "/points/xp/level-summary", None).await;
    ops.hit("points_level_summary", &r);
    let ls: t::PointsLevelSummaryResponse = r.parse();
    assert_eq!(ls.0.iter().map(|l| l.users).collect::<Vec<_>>(), vec![1, 1, 0]);

    let r = api.app(Method::GET, "/leaderboards", None).await;
    ops.hit("leaderboards_all", &r);
    let all: Vec<t::LeaderboardsAllResponseItem> = r.parse();
    assert_eq!(all[0].status.as_str(), "active");

    let r = api.app(Method::GET, "/leaderboards/top-learners?limit=5", None).await;
    ops.hit("leaderboards_get", &r);
    let lbr: t::LeaderboardResponseWithRankings = r.parse();
    assert_eq!(lbr.rankings.len(), 1);
    assert_eq!(lbr.rankings[0].user_id, "alice");

    // ---------------- Admin API: events and streaks -------------------------------------------------
    let r = api
        .admin(
            Method::POST,
            "/metrics/events",
            Some(&json!([
                {"key": "lessons-completed", "user": {"id": "carol"}, "value": 2, "idempotencyKey": "b-1"},
                {"key": "lessons-completed", "user": {"id": "carol"}, "value": 2, "idempotencyKey": "b-1"},
                {"key": "lessons-completed", "user": {"id": "dave", "name": "Dave"}, "value": 1}
            ])),
        )
        .await;
    r.expect(202);
    ops.hit("admin_metrics_batch_events", &r);
    assert_eq!(r.parse::<ta::BatchEventsResponse>().accepted, 3);
    let carol: t::MetricResponse = api
        .app(Method::GET, "/users/carol/metrics/lessons-completed", None)
        .await
        .parse();
    assert_eq!(carol.current, 2.0, "the repeated idempotency key is applied once");

    let r = api
        .admin(
            Method::POST,
            "/streaks/freezes",
            Some(&json!({"freezes": [{"userId": "alice"}, {"userId": "nobody"}]})),
        )
        .await;
    r.expect(201);
    ops.hit("admin_streaks_freezes_create", &r);
    let fr: ta::CreateStreakFreezesResponse = r.parse();
    assert_eq!(fr.issues.len(), 1);
    assert_eq!(fr.issues[0].user_id.as_deref(), Some("nobody"));

    let r = api
        .admin(
            Method::POST,
            "/streaks/pauses",
            Some(&json!({"pauses": [{"userId": "alice", "start": "2026-01-20", "end": "2026-01-22"}]})),
        )
        .await;
    r.expect(201);
    ops.hit("admin_streaks_pauses_create", &r);
    let pz: ta::CreateStreakPausesResponse = r.parse();
    let pause_id = pz.created[0].id.to_string();

    let r = api
        .admin(Method::DELETE, &format!("/streaks/pauses?ids={pause_id}"), None)
        .await;
    ops.hit("admin_streaks_pauses_delete", &r);
    assert_eq!(r.parse::<ta::DeleteStreakPausesResponse>().deleted.len(), 1);

    let r = api
        .admin(
            Method::POST,
            "/streaks/restore",
            Some(&json!({"users": [{"id": "alice"}]})),
        )
        .await;
    r.expect(200);
    ops.hit("admin_streaks_restore", &r);
    let rs: ta::RestoreStreaksResponse = r.parse();
    assert!(rs.restored_users.is_empty(), "alice's streak is not lost");
    assert_eq!(rs.issues.len(), 1);

    // ---------------- application keys and tenants --------------------------------------------------
    let r = api
        .admin(
            Method::POST,
            "/application-api-keys",
            Some(&json!([{"userId": "alice"}])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_application_api_keys_create", &r);
    let k: ta::CreateApplicationKeysResponse = r.parse();
    assert!(k.created[0].key.starts_with("app_"));
    assert!(k.created[0].key.starts_with(&k.created[0].prefix));
    let key_id = k.created[0].id.to_string();

    let r = api
        .admin(Method::DELETE, &format!("/application-api-keys?ids={key_id}"), None)
        .await;
    ops.hit("admin_application_api_keys_delete", &r);
    assert_eq!(r.parse::<ta::DeleteApplicationKeysResponse>().deleted.len(), 1);

    let r = api
        .admin(
            Method::POST,
            "/tenants",
            Some(&json!([{"customerId": "acme", "name": "Acme"}, {"customerId": "acme", "name": "Again"}])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_tenants_create", &r);
    let tc: ta::CreateTenantsResponse = r.parse();
    assert_eq!((tc.created.len(), tc.issues.len()), (1, 1));
    let tenant_id = tc.created[0].id.to_string();

    let r = api.admin(Method::GET, "/tenants", None).await;
    ops.hit("admin_tenants_list", &r);
    assert_eq!(r.parse::<ta::ListTenantsResponse>().0.len(), 1);

    let r = api.admin(Method::GET, &format!("/tenants/{tenant_id}"), None).await;
    ops.hit("admin_tenants_get", &r);
    assert_eq!(r.parse::<ta::AdminTenant>().customer_id, "acme");

    let r = api
        .admin(
            Method::PATCH,
            "/tenants",
            Some(&json!([{"id": tenant_id, "name": "Acme Inc"}])),
        )
        .await;
    ops.hit("admin_tenants_update", &r);
    assert_eq!(r.parse::<ta::UpdateTenantsResponse>().updated[0].name, "Acme Inc");

    let r = api
        .admin(Method::DELETE, &format!("/tenants?ids={tenant_id}"), None)
        .await;
    ops.hit("admin_tenants_delete", &r);
    assert_eq!(r.parse::<ta::DeleteTenantsResponse>().deleted.len(), 1);

    // ---------------- deletes ------------------------------------------------------------------------
    let r = api
        .admin(
            Method::DELETE,
            &format!("/points/{system_id}/boosts?ids={boost_id}&ids=00000000-0000-0000-0000-000000000000"),
            None,
        )
        .await;
    ops.hit("admin_points_boosts_delete", &r);
    let d: ta::DeletePointsBoostsResponse = r.parse();
    assert_eq!((d.deleted.len(), d.issues.len()), (1, 1));

    let r = api
        .admin(
            Method::DELETE,
            &format!("/points/{system_id}/levels?ids={gold_id}"),
            None,
        )
        .await;
    ops.hit("admin_points_levels_delete", &r);
    assert_eq!(r.parse::<ta::DeletePointsLevelsResponse>().deleted.len(), 1);

    let r = api
        .admin(
            Method::DELETE,
            &format!("/points/{system_id}/triggers?ids={trigger_id}"),
            None,
        )
        .await;
    ops.hit("admin_points_triggers_delete", &r);
    assert_eq!(r.parse::<ta::DeletePointsTriggersResponse>().deleted.len(), 1);

    let r = api
        .admin(Method::DELETE, &format!("/leaderboards?ids={lb_id}"), None)
        .await;
    ops.hit("admin_leaderboards_delete", &r);
    assert_eq!(r.parse::<ta::DeleteLeaderboardsResponse>().deleted.len(), 1);

    let r = api
        .admin(Method::DELETE, &format!("/points?ids={system_id}"), None)
        .await;
    ops.hit("admin_points_systems_delete", &r);
    assert_eq!(r.parse::<ta::DeletePointsSystemsResponse>().deleted.len(), 1);

    let source_attr = s(&api.admin(Method::GET, "/attributes", None).await.json()[1]["id"]);
    let r = api
        .admin(
            Method::DELETE,
            &format!("/attributes?ids={plan_attr},{source_attr}"),
            None,
        )
        .await;
    ops.hit("admin_attributes_delete", &r);
    assert_eq!(r.parse::<ta::DeleteAttributesResponse>().deleted.len(), 2);

    let r = api
        .admin(Method::DELETE, &format!("/metrics?ids={metric_id}"), None)
        .await;
    ops.hit("admin_metrics_delete", &r);
    assert_eq!(r.parse::<ta::DeleteMetricsResponse>().deleted.len(), 1);
    assert!(api
        .admin(Method::GET, "/metrics", None)
        .await
        .parse::<ta::ListMetricsResponse>()
        .0
        .is_empty());

    // ---------------- Admin API 1.27: achievements, settings, environments, streaks ------------------
    let pages = api.metric("pages-read").await;
    let r = api
        .admin(
            Method::POST,
            "/achievements",
            Some(&json!([
                {"name": "Welcome", "trigger": "api", "key": "welcome", "status": "active"},
                {"name": "Bookworm", "trigger": "metric", "metricId": pages, "metricValue": 100, "status": "active"},
                {"name": "No key", "trigger": "api"},
                {"name": "One year", "trigger": "anniversary", "anniversaryYears": 1, "status": "active"}
            ])),
        )
        .await;
    r.expect(201);
    ops.hit("admin_achievements_create", &r);
    let created: ta::CreateAchievementsResponse = r.parse();
    assert_eq!(created.created.len(), 3);
    assert_eq!(created.issues[0].index, Some(2), "an api achievement needs a key");
    let welcome = created.created[0].id.to_string();
    assert_eq!(created.created[1].metric_id.map(|m| m.to_string()), Some(pages.clone()));
    assert_eq!(created.created[2].anniversary_years, Some(1));

    let r = api.admin(Method::GET, "/achievements?limit=2&skip=5", None).await;
    ops.hit("admin_achievements_list", &r);
    let page: ta::ListAchievementsResponse = r.parse();
    assert_eq!(
        page.0.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["Welcome", "Bookworm"],
        "after the five seeded ones"
    );
    let r = api.admin(Method::GET, &format!("/achievements/{welcome}"), None).await;
    ops.hit("admin_achievements_get", &r);
    assert_eq!(r.parse::<ta::AdminAchievement>().key.as_deref(), Some("welcome"));

    let r = api
        .admin(
            Method::PATCH,
            "/achievements",
            Some(
                &json!([{"id": welcome, "name": "Welcome aboard", "badge": {"url": "https://cdn.example.com/w.png"}}]),
            ),
        )
        .await;
    ops.hit("admin_achievements_update", &r);
    let updated: ta::UpdateAchievementsResponse = r.parse();
    assert_eq!(updated.updated[0].name, "Welcome aboard");
    assert_eq!(
        updated.updated[0].badge.as_ref().map(|b| b.url.as_str()),
        Some("https://cdn.example.com/w.png")
    );
    // The Application API lists and completes what the Admin API created.
    let r = api
        .app(
            Method::POST,
            "/achievements/welcome/complete",
            Some(&json!({"user": {"id": "zoe"}})),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json()["achievement"]["name"], "Welcome aboard");

    let r = api.admin(Method::GET, "/environments", None).await;
    ops.hit("admin_environments_list", &r);
    let envs: ta::ListEnvironmentsResponse = r.parse();
    assert_eq!(
        envs.0.iter().map(|e| (e.key.as_str(), e.priority)).collect::<Vec<_>>(),
        [("production", 1)]
    );

    let r = api.admin(Method::GET, "/settings", None).await;
    ops.hit("admin_settings_get", &r);
    assert_eq!(r.parse::<ta::AdminSettings>().experimentation.control_ratio, 0);
    let r = api
        .admin(
            Method::PATCH,
            "/settings",
            Some(
                &json!({"branding": {"appName": "Inkwell", "logo": {"url": "https://cdn.example.com/l.png"}},
                         "experimentation": {"controlRatio": 100}}),
            ),
        )
        .await;
    ops.hit("admin_settings_update", &r);
    let settings: ta::AdminSettings = r.parse();
    assert_eq!(settings.branding.app_name, "Inkwell");
    assert_eq!(settings.branding.brand_color, "#000000", "left as it was");
    assert_eq!(settings.experimentation.control_ratio, 100);
    let r = api.app(Method::POST, "/users", Some(&json!({"id": "yuri"}))).await;
    r.expect(201);
    assert_eq!(
        r.json()["control"],
        true,
        "a ratio of 100 puts every new user in the control group"
    );

    let r = api.admin(Method::GET, "/streaks/settings", None).await;
    ops.hit("admin_streaks_settings_get", &r);
    let streak: ta::StreakSettings = r.parse();
    assert_eq!(streak.frequency.as_str(), "daily");
    assert_eq!(streak.freezes.map(|f| f.max_count), Some(3));
    let r = api
        .admin(
            Method::PATCH,
            "/streaks/settings",
            Some(&json!({"daysOff": [0, 6], "metrics": [{"key": "pages-read", "threshold": 5}], "freezes": null})),
        )
        .await;
    ops.hit("admin_streaks_settings_update", &r);
    let streak: ta::StreakSettings = r.parse();
    assert_eq!(streak.days_off, [0, 6]);
    assert_eq!(
        (streak.metrics[0].key.as_str(), streak.metrics[0].threshold),
        ("pages-read", 5)
    );
    assert!(streak.freezes.is_none());

    api.event("pages-read", "zoe", 5.0).await.expect(201);
    assert_eq!(
        api.app(Method::GET, "/users/zoe/streak", None).await.json()["length"],
        1
    );
    let r = api
        .admin(
            Method::POST,
            "/streaks/reset",
            Some(&json!({"users": [{"id": "zoe"}, {"id": "nobody"}]})),
        )
        .await;
    r.expect(200);
    ops.hit("admin_streaks_reset", &r);
    let reset: ta::ResetStreaksResponse = r.parse();
    assert_eq!(reset.reset_users, ["zoe"]);
    assert_eq!(reset.issues[0].user_id.as_deref(), Some("nobody"));
    let streak = api
        .app(Method::GET, "/users/zoe/streak?historyPeriods=1", None)
        .await
        .json();
    assert_eq!(streak["length"], 0);
    assert_eq!(streak["streakHistory"][0]["resetAt"], "2026-01-15T12:00:00.000Z");

    let r = api
        .admin(
            Method::DELETE,
            &format!("/achievements?ids={welcome}&ids=00000000-0000-4000-8000-000000000000"),
            None,
        )
        .await;
    ops.hit("admin_achievements_delete", &r);
    let deleted: ta::DeleteAchievementsResponse = r.parse();
    assert_eq!((deleted.deleted.len(), deleted.issues.len()), (1, 1));

    // ---------------- every operation of both documents was driven ------------------------------------
    let mut expected = operation_ids("application.yaml");
    assert_eq!(expected.len(), 27);
    let admin = operation_ids("admin.yaml");
    assert_eq!(admin.len(), 58);
    expected.extend(admin);
    let hit: BTreeSet<String> = ops.0.iter().map(|s| s.to_string()).collect();
    assert_eq!(hit, expected, "operations driven differ from the documents");
    assert_eq!(hit.len(), 85);

    // ---------------- every success body validates against the documents' schemas ----------------
    let docs = documents::Documents::load();
    let failures: Vec<String> = ops
        .1
        .iter()
        .filter_map(|(op, status, body)| docs.check(op, *status, body).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} success bodies do not validate:\n{}",
        failures.len(),
        ops.1.len(),
        failures.join("\n")
    );
    assert_eq!(ops.1.len(), 85, "one answer of each operation validated");

    // The validator bites: a required field left out, a malformed date-time, an undocumented
    // status.
    let (_, status, body) = ops.1.iter().find(|(op, ..)| *op == "users_get").unwrap();
    let mut user: Value = serde_json::from_slice(body).unwrap();
    user.as_object_mut().unwrap().remove("id");
    let e = docs
        .check("users_get", *status, user.to_string().as_bytes())
        .unwrap_err();
    assert!(e.contains("\"id\" is a required property"), "{e}");
    let mut user: Value = serde_json::from_slice(body).unwrap();
    user["created"] = json!("yesterday");
    let e = docs
        .check("users_get", *status, user.to_string().as_bytes())
        .unwrap_err();
    assert!(e.contains("\"yesterday\" is not a \"date-time\""), "{e}");
    let e = docs.check("users_get", 404, b"{}").unwrap_err();
    assert!(e.contains("status 404 is not documented"), "{e}");
}

#[tokio::test]
async fn error_answers_use_the_error_body_shape() {
    let api = Api::start().await;
    // Unknown user: 404.
    let r = api.app(Method::GET, "/users/ghost", None).await;
    r.expect(404);
    assert!(r.error().contains("ghost"));
    // Malformed body: 400.
    let r = api.app(Method::POST, "/users", Some(&json!({"name": "no id"}))).await;
    r.expect(400);
    assert!(!r.error().is_empty());
    // Unknown metric on an event: 422.
    let r = api.event("nope", "alice", 1.0).await;
    r.expect(422);
    assert!(r.error().contains("nope"));
    // Bulk request out of bounds: 422.
    let r = api.admin(Method::POST, "/metrics", Some(&json!([]))).await;
    r.expect(422);
    let _ = r.error();
    // Summary with bad parameters: 422.
    api.app(Method::PUT, "/users/alice", Some(&json!({}))).await.expect(200);
    let r = api
        .app(
            Method::GET,
            "/users/alice/metrics/x/event-summary?aggregation=hourly&startDate=2026-01-01&endDate=2026-01-02",
            None,
        )
        .await;
    r.expect(422);
    // Unknown API path: 404 with the same shape.
    let r = api.app(Method::GET, "/nothing-here", None).await;
    r.expect(404);
    let _ = r.error();
    // Not an API-triggered achievement.
    let r = api
        .app(
            Method::POST,
            "/achievements/ten-lessons/complete",
            Some(&json!({"user": {"id": "alice"}})),
        )
        .await;
    r.expect(422);
    let r = api
        .app(
            Method::POST,
            "/achievements/missing/complete",
            Some(&json!({"user": {"id": "alice"}})),
        )
        .await;
    r.expect(404);
}
