//! The SDK against `trophy-emulator`: every one of the 85 operations through the `trophy`
//! client (each answer must decode), application keys, tenant isolation, concurrency, and
//! retries under injected faults (the end-to-end proof that a retried event never counts
//! twice).

mod common;

use std::collections::HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::StreamExt;
use trophy::admin_types::{
    AdminAchievementStatus, AdminAchievementTrigger, AdminLeaderboardStatus, AdminPointsTriggerStatus,
    AdminStreakEvaluationMode, AttributeType, LeaderboardRankBy, MetricUnitType, PointsBoostRounding,
};
use trophy::api::admin::achievements::{AchievementUpdate, NewAchievement};
use trophy::api::admin::attributes::{AttributeUpdate, NewAttribute};
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::leaderboards::{LeaderboardUpdate, NewLeaderboard};
use trophy::api::admin::metrics::{MetricUpdate, NewMetric};
use trophy::api::admin::points::{
    NewPointsBoost, NewPointsLevel, NewPointsSystem, NewPointsTrigger, PointsBoostUpdate, PointsLevelUpdate,
    PointsSystemUpdate, PointsTriggerUpdate,
};
use trophy::api::admin::streaks::{StreakFreezeRules, StreakPause};
use trophy::api::admin::tenants::{NewTenant, TenantUpdate};
use trophy::types::{EventSummaryAggregation, NotificationChannel, StreakEvaluationModePreference};
use trophy::{Client, Error, RetryConfig, UserInput, UserUpdate};
use trophy_emulator::{Emulator, Faults};

const LESSONS: &str = "lessons-completed";

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).expect("a January 2026 date")
}

/// Noon (UTC) of a day of January 2026.
fn noon(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, d, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A client of both APIs of `emu` with `key` (default retries).
fn client_with_key(emu: &Emulator, key: &str) -> Client {
    spans();
    Client::builder()
        .api_key(key)
        .base_url(emu.base_url())
        .build()
        .expect("client")
}

fn client(emu: &Emulator) -> Client {
    client_with_key(emu, &emu.admin_key())
}

/// Awaits one call, records its operation id and fails the test with the SDK's error.
async fn call<T>(
    ops: &mut BTreeSet<&'static str>,
    op: &'static str,
    request: impl IntoFuture<Output = trophy::Result<T>>,
) -> T {
    ops.insert(op);
    match request.await {
        Ok(v) => v,
        Err(e) => panic!("{op} failed: {e} ({e:?})"),
    }
}

/// Records the `operation` of every `trophy.call` span the SDK opens, by thread: the
/// operations really executed, independently of the tests' own bookkeeping.
///
/// Installed once as the process-wide subscriber, before any client exists (every client of
/// this file is built after [`spans`]), because a thread-local `set_default` races with other
/// tests registering the same callsite and can miss spans.
#[derive(Default)]
struct SpanRecorder {
    operations: Mutex<HashMap<ThreadId, BTreeSet<String>>>,
    spans: AtomicU64,
}

impl SpanRecorder {
    /// The operations of the spans opened on the current thread.
    fn on_this_thread(&self) -> BTreeSet<String> {
        let operations = self.operations.lock().unwrap();
        operations
            .get(&std::thread::current().id())
            .cloned()
            .unwrap_or_default()
    }
}

/// The process-wide span recorder, installed on first use.
fn spans() -> &'static SpanRecorder {
    static RECORDER: OnceLock<&'static SpanRecorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static SpanRecorder = Box::leak(Box::default());
        tracing::subscriber::set_global_default(recorder).expect("the only global subscriber of this test binary");
        recorder
    })
}

struct OperationField<'a>(&'a mut Option<String>);

impl tracing::field::Visit for OperationField<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "operation" {
            *self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, _field: &tracing::field::Field, _value: &dyn std::fmt::Debug) {}
}

impl tracing::Subscriber for &'static SpanRecorder {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.is_span() && metadata.name() == "trophy.call"
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut operation = None;
        span.record(&mut OperationField(&mut operation));
        if let Some(op) = operation {
            let mut operations = self.operations.lock().unwrap();
            operations.entry(std::thread::current().id()).or_default().insert(op);
        }
        tracing::span::Id::from_u64(self.spans.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _span: &tracing::span::Id, _values: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _span: &tracing::span::Id, _follows: &tracing::span::Id) {}
    fn event(&self, _event: &tracing::Event<'_>) {}
    fn enter(&self, _span: &tracing::span::Id) {}
    fn exit(&self, _span: &tracing::span::Id) {}
}

fn keys_of(achievements: &[trophy::types::UserAchievementResponse]) -> Vec<&str> {
    achievements.iter().filter_map(|a| a.key.as_deref()).collect()
}

/// (1) Every operation of both documents through the client, in the order an integration
/// would use them, asserting what each answer says. Runs on a current-thread runtime, so the
/// calls the span recorder sees on this thread are exactly this test's.
#[tokio::test(flavor = "current_thread")]
async fn all_85_operations_through_the_client() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_time(noon(10));
    let client = client(&emu);
    let admin = client.admin();
    let mut ops = BTreeSet::new();

    // ============ Admin setup (January 10) ============
    // Attributes.
    let created = call(
        &mut ops,
        "admin_attributes_create",
        admin.attributes().create([
            NewAttribute::new("Plan", "plan", AttributeType::User),
            NewAttribute::new("Source", "source", AttributeType::Event),
        ]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    assert_eq!(
        created
            .created
            .iter()
            .map(|a| (a.key.as_str(), a.type_.as_str()))
            .collect::<Vec<_>>(),
        [("plan", "user"), ("source", "event")]
    );
    let plan_attr = created.created[0].id.to_string();
    let source_attr = created.created[1].id.to_string();

    let page = call(
        &mut ops,
        "admin_attributes_list",
        admin.attributes().list().limit(1).skip(1),
    )
    .await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id.to_string(), source_attr);
    // Every attribute, one per page: two full pages, then an empty one.
    let all: Vec<_> = admin
        .attributes()
        .list()
        .limit(1)
        .into_stream()
        .map(|a| a.expect("attribute page").key)
        .collect()
        .await;
    assert_eq!(all, ["plan", "source"]);

    let plan = call(&mut ops, "admin_attributes_get", admin.attributes().get(&plan_attr)).await;
    assert_eq!((plan.key.as_str(), plan.name.as_str()), ("plan", "Plan"));

    let renamed = call(
        &mut ops,
        "admin_attributes_update",
        admin
            .attributes()
            .update([AttributeUpdate::new(&plan_attr).name("Plan tier")]),
    )
    .await;
    assert_eq!(renamed.updated.len(), 1);
    assert_eq!(renamed.updated[0].name, "Plan tier");
    assert_eq!(renamed.updated[0].id.to_string(), plan_attr);

    // The metric the seeded achievements refer to.
    let created = call(
        &mut ops,
        "admin_metrics_create",
        admin
            .metrics()
            .create([NewMetric::new("Lessons completed", LESSONS).unit_type(MetricUnitType::Number)]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    let metric_id = created.created[0].id.to_string();
    assert_eq!(created.created[0].unit_type.as_str(), "number");

    let metrics = call(&mut ops, "admin_metrics_list", admin.metrics().list()).await;
    assert_eq!(
        metrics.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
        [metric_id.as_str()]
    );

    let metric = call(&mut ops, "admin_metrics_get", admin.metrics().get(&metric_id)).await;
    assert_eq!(
        (metric.key.as_str(), metric.name.as_str()),
        (LESSONS, "Lessons completed")
    );

    let updated = call(
        &mut ops,
        "admin_metrics_update",
        admin.metrics().update([MetricUpdate::new(&metric_id).units("lessons")]),
    )
    .await;
    assert_eq!(updated.updated[0].units, "lessons");
    assert_eq!(updated.updated[0].name, "Lessons completed", "fields not sent are kept");

    // The seeded achievements, now linked to the metric.
    let achievements = call(&mut ops, "achievements_all", client.achievements().list()).await;
    assert_eq!(achievements.len(), 5);
    let onboarding = achievements
        .iter()
        .find(|a| a.key.as_deref() == Some("finish-onboarding"))
        .expect("the seeded finish-onboarding");
    assert_eq!(onboarding.trigger.as_str(), "api");
    assert_eq!((onboarding.completions, onboarding.rarity), (0, 0.0));
    let onboarding_id = onboarding.id.clone();
    let ten = achievements
        .iter()
        .find(|a| a.key.as_deref() == Some("ten-lessons"))
        .unwrap();
    assert_eq!(ten.metric_id.as_deref(), Some(metric_id.as_str()));
    assert_eq!(ten.metric_value, Some(10.0));

    // A points system with levels, a boost and triggers: 10 points per lesson, 25 for
    // finishing the onboarding, doubled for alice during January.
    let xp = NewPointsSystem::new("Experience", "xp")
        .description("Earned by learning")
        .levels([
            NewPointsLevel::new("Bronze", "bronze", 0),
            NewPointsLevel::new("Silver", "silver", 50),
        ])
        .boosts([NewPointsBoost::new("Launch week", day(1), 1.5).end(day(7))])
        .triggers([
            NewPointsTrigger::metric(&metric_id, 1, 10).status(AdminPointsTriggerStatus::Active),
            NewPointsTrigger::achievement(&onboarding_id, 25).status(AdminPointsTriggerStatus::Active),
        ]);
    let created = call(
        &mut ops,
        "admin_points_systems_create",
        admin.points().systems().create([xp]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    let system = &created.created[0];
    assert_eq!((system.key.as_str(), system.max_points), ("xp", None));
    assert_eq!(system.levels.len(), 2);
    assert_eq!(system.triggers.len(), 2);
    assert_eq!(system.boosts.len(), 1);
    assert_eq!(
        system.boosts[0].status.as_str(),
        "finished",
        "January 1-7 is over on the 10th"
    );
    let system_id = system.id.to_string();
    let launch_boost = system.boosts[0].id.to_string();

    let systems = call(
        &mut ops,
        "admin_points_systems_list",
        admin.points().systems().list().limit(10),
    )
    .await;
    assert_eq!(systems.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["xp"]);
    let got = call(
        &mut ops,
        "admin_points_systems_get",
        admin.points().systems().get(&system_id),
    )
    .await;
    assert_eq!(
        (got.name.as_str(), got.description.as_str()),
        ("Experience", "Earned by learning")
    );
    let updated = call(
        &mut ops,
        "admin_points_systems_update",
        admin.points().systems().update([PointsSystemUpdate::new(&system_id)
            .max_points(1000)
            .badge_url("https://cdn.example/xp.png")]),
    )
    .await;
    assert_eq!(updated.updated[0].max_points, Some(1000));
    assert_eq!(
        updated.updated[0].badge.as_ref().map(|b| b.url.as_str()),
        Some("https://cdn.example/xp.png")
    );

    // Boosts of the system.
    let boosts = admin.points().boosts(&system_id);
    let created = call(
        &mut ops,
        "admin_points_boosts_create",
        boosts.create([NewPointsBoost::new("Alice's double", day(1), 2.0)
            .end(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
            .user_id("alice")]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    let boost_id = created.created[0].id.to_string();
    assert_eq!(created.created[0].status.as_str(), "active");
    assert_eq!(created.created[0].user_id.as_deref(), Some("alice"));
    assert_eq!(created.created[0].rounding.as_str(), "down", "the documented default");

    let listed = call(&mut ops, "admin_points_boosts_list", boosts.list().limit(100)).await;
    let mut ids: Vec<String> = listed.iter().map(|b| b.id.to_string()).collect();
    ids.sort();
    let mut expected = vec![launch_boost.clone(), boost_id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let got = call(&mut ops, "admin_points_boosts_get", boosts.get(&boost_id)).await;
    assert_eq!((got.name.as_str(), got.multiplier), ("Alice's double", 2.0));
    let updated = call(
        &mut ops,
        "admin_points_boosts_update",
        boosts.update([PointsBoostUpdate::new(&boost_id).rounding(PointsBoostRounding::Up)]),
    )
    .await;
    assert_eq!(updated.updated[0].rounding.as_str(), "up");
    assert_eq!(updated.updated[0].multiplier, 2.0, "fields not sent are kept");

    // Levels of the system.
    let levels = admin.points().levels(&system_id);
    let created = call(
        &mut ops,
        "admin_points_levels_create",
        levels.create([
            NewPointsLevel::new("Gold", "gold", 200),
            NewPointsLevel::new("Silver again", "silver", 1),
        ]),
    )
    .await;
    assert_eq!(created.created.len(), 1);
    assert_eq!(created.issues.len(), 1, "level keys are unique within a system");
    assert_eq!(created.issues[0].index, Some(1));
    let gold_id = created.created[0].id.to_string();
    let listed = call(&mut ops, "admin_points_levels_list", levels.list().limit(100)).await;
    assert_eq!(listed.len(), 3);
    let got = call(&mut ops, "admin_points_levels_get", levels.get(&gold_id)).await;
    assert_eq!((got.key.as_str(), got.points), ("gold", 200));
    let updated = call(
        &mut ops,
        "admin_points_levels_update",
        levels.update([PointsLevelUpdate::new(&gold_id).points(240).description("Shiny")]),
    )
    .await;
    assert_eq!(
        (updated.updated[0].points, updated.updated[0].description.as_str()),
        (240, "Shiny")
    );

    // Triggers of the system: a user_creation trigger, inactive as created by default.
    let triggers = admin.points().triggers(&system_id);
    let created = call(
        &mut ops,
        "admin_points_triggers_create",
        triggers.create([NewPointsTrigger::user_creation(5)]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    assert_eq!(created.created[0].status.as_str(), "inactive");
    assert_eq!(created.created[0].type_.as_str(), "user_creation");
    let trigger_id = created.created[0].id.to_string();
    let listed = call(&mut ops, "admin_points_triggers_list", triggers.list()).await;
    assert_eq!(listed.len(), 3);
    let got = call(&mut ops, "admin_points_triggers_get", triggers.get(&trigger_id)).await;
    assert_eq!(got.points, 5);
    let updated = call(
        &mut ops,
        "admin_points_triggers_update",
        triggers.update([PointsTriggerUpdate::new(&trigger_id).points(7)]),
    )
    .await;
    assert_eq!(updated.updated[0].points, 7);
    assert_eq!(updated.updated[0].status.as_str(), "inactive", "still awards nothing");

    // Leaderboards: lessons and points, from today.
    let created = call(
        &mut ops,
        "admin_leaderboards_create",
        admin.leaderboards().create([
            NewLeaderboard::new("Top learners", "top-learners", LeaderboardRankBy::Metric)
                .metric_id(&metric_id)
                .status(AdminLeaderboardStatus::Active)
                .start(day(10)),
            NewLeaderboard::new("XP board", "xp-board", LeaderboardRankBy::Points)
                .points_system_id(&system_id)
                .status(AdminLeaderboardStatus::Active)
                .start(day(10)),
        ]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    assert_eq!(
        created.created[0].max_participants,
        Some(1000),
        "the documented default"
    );
    let top_id = created.created[0].id.to_string();
    let xp_board_id = created.created[1].id.to_string();
    let listed = call(&mut ops, "admin_leaderboards_list", admin.leaderboards().list()).await;
    assert_eq!(listed.len(), 2);
    let got = call(&mut ops, "admin_leaderboards_get", admin.leaderboards().get(&top_id)).await;
    assert_eq!(got.key, "top-learners");
    assert_eq!(got.metric_id.map(|m| m.to_string()), Some(metric_id.clone()));
    let updated = call(
        &mut ops,
        "admin_leaderboards_update",
        admin.leaderboards().update([LeaderboardUpdate::new(&top_id)
            .description("Most lessons")
            .max_participants(50)
            .clear_end()]),
    )
    .await;
    assert_eq!(updated.updated[0].max_participants, Some(50));
    assert_eq!(updated.updated[0].description.as_deref(), Some("Most lessons"));
    assert_eq!(updated.updated[0].end, None);

    // Tenants (organisation-wide).
    let created = call(
        &mut ops,
        "admin_tenants_create",
        admin.tenants().create([
            NewTenant::new("Acme").customer_id("acme"),
            NewTenant::new("Acme again").customer_id("acme"),
        ]),
    )
    .await;
    assert_eq!(
        (created.created.len(), created.issues.len()),
        (1, 1),
        "customer ids are unique"
    );
    let tenant_id = created.created[0].id.to_string();
    let listed = call(&mut ops, "admin_tenants_list", admin.tenants().list()).await;
    assert_eq!(
        listed.iter().map(|t| t.customer_id.as_str()).collect::<Vec<_>>(),
        ["acme"]
    );
    let got = call(&mut ops, "admin_tenants_get", admin.tenants().get(&tenant_id)).await;
    assert_eq!((got.customer_id.as_str(), got.name.as_str()), ("acme", "Acme"));
    let updated = call(
        &mut ops,
        "admin_tenants_update",
        admin.tenants().update([TenantUpdate::new(&tenant_id).name("Acme Inc")]),
    )
    .await;
    assert_eq!(updated.updated[0].name, "Acme Inc");

    // An application key for alice's device.
    let keys = call(
        &mut ops,
        "admin_application_api_keys_create",
        admin.application_api_keys().create(["alice"]),
    )
    .await;
    assert!(keys.issues.is_empty(), "{:?}", keys.issues);
    let app_key = keys.created[0].clone();
    assert_eq!(app_key.user_id, "alice");
    assert!(app_key.key.starts_with("app_") && app_key.key.starts_with(&app_key.prefix));

    // ============ Users ============
    let alice = call(
        &mut ops,
        "users_create",
        client.users().create(
            UserInput::new("alice")
                .name("Alice")
                .email("alice@example.com")
                .tz("Europe/London")
                .attribute("plan", "pro"),
        ),
    )
    .await;
    assert_eq!(
        (alice.id.as_str(), alice.tz.as_deref()),
        ("alice", Some("Europe/London"))
    );
    assert!(alice.subscribe_to_emails);
    let got = call(&mut ops, "users_get", client.users().get("alice")).await;
    assert_eq!(got.email.as_deref(), Some("alice@example.com"));
    let bob = call(
        &mut ops,
        "users_identify",
        client.users().identify("bob", UserUpdate::new().name("Bob")),
    )
    .await;
    assert_eq!((bob.id.as_str(), bob.name.as_deref()), ("bob", Some("Bob")));
    let alice = call(
        &mut ops,
        "users_update",
        client
            .users()
            .update("alice", UserUpdate::new().clear_tz().device_tokens(["device-1"])),
    )
    .await;
    assert_eq!(alice.tz, None, "cleared by null");
    assert_eq!(alice.device_tokens, Some(vec!["device-1".to_string()]));
    assert_eq!(alice.name.as_deref(), Some("Alice"), "fields not sent are kept");

    let prefs = call(&mut ops, "users_get_preferences", client.users().preferences("alice")).await;
    assert_eq!(prefs.notifications.recap, [NotificationChannel::Email]);
    let prefs = call(
        &mut ops,
        "users_update_preferences",
        client
            .users()
            .update_preferences("alice")
            .recap_channels(std::iter::empty::<NotificationChannel>())
            .streak_evaluation_mode(StreakEvaluationModePreference::And)
            .streak_metric(LESSONS, 1.0),
    )
    .await;
    assert!(prefs.notifications.recap.is_empty());
    assert_eq!(
        prefs.notifications.achievement_completed,
        [NotificationChannel::Email],
        "kinds not sent are kept"
    );
    let streak_prefs = prefs.streak.expect("streak preferences");
    assert_eq!(streak_prefs.metrics.len(), 1);
    assert_eq!(streak_prefs.metrics[0].key, LESSONS);

    // ============ Events ============
    // carol learns on the 10th and the 11th, then stops.
    let ev = call(&mut ops, "metrics_event", client.metrics().event(LESSONS, "carol", 1.0)).await;
    assert_eq!((ev.total, ev.metric_id.as_str()), (1.0, metric_id.as_str()));
    assert!(ev.current_streak.extended);
    assert_eq!(ev.current_streak.length, 1);
    assert_eq!(keys_of(&ev.achievements), ["first-lesson"]);
    assert_eq!(ev.points["xp"].added, 10);
    assert_eq!(ev.leaderboards["top-learners"].rank, Some(1));
    assert_eq!(ev.leaderboards["top-learners"].previous_rank, None);
    emu.advance(chrono::Duration::days(1));
    let ev = client.metrics().event(LESSONS, "carol", 1.0).send().await.unwrap();
    assert_eq!((ev.total, ev.current_streak.length), (2.0, 2));

    // alice learns on the 13th, 14th and 15th; the first event is replayed once.
    emu.set_time(noon(13));
    let first = client
        .metrics()
        .event(LESSONS, "alice", 3.0)
        .idempotency_key("alice-evt-1")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first = first.into_body();
    assert_eq!(first.total, 3.0);
    assert_eq!(first.idempotency_key.as_deref(), Some("alice-evt-1"));
    assert_eq!(first.idempotent_replayed, Some(false));
    assert_eq!(
        first.points["xp"].added, 60,
        "3 lessons x 10 points, doubled by alice's boost"
    );
    assert_eq!(
        first.points["xp"].level.as_ref().map(|l| l.key.as_str()),
        Some("silver")
    );
    assert_eq!(
        first.leaderboards["top-learners"].rank,
        Some(1),
        "3 lessons beat carol's 2"
    );
    assert_eq!(
        first.leaderboards["xp-board"].rank,
        Some(1),
        "60 points beat carol's 20"
    );
    assert_eq!(first.leaderboards["xp-board"].previous_rank, None);
    let replay = client
        .metrics()
        .event(LESSONS, "alice", 3.0)
        .idempotency_key("alice-evt-1")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(replay.status(), 202);
    let replay = replay.into_body();
    assert_eq!(replay.idempotent_replayed, Some(true));
    assert_eq!(replay.total, 3.0, "the replay answers the original total");
    assert_eq!(replay.event_id, first.event_id);
    let total = client.users().metric("alice", LESSONS).send().await.unwrap();
    assert_eq!(total.current, 3.0, "the replay changed nothing");

    emu.set_time(noon(14));
    let ev = client.metrics().event(LESSONS, "alice", 2.0).send().await.unwrap();
    assert_eq!((ev.total, ev.current_streak.length), (5.0, 2));
    assert_eq!(ev.idempotent_replayed, Some(false), "the SDK sent a generated key");
    assert!(ev
        .idempotency_key
        .as_deref()
        .is_some_and(|k| uuid::Uuid::parse_str(k).is_ok()));
    emu.set_time(noon(15));
    let ev = client.metrics().event(LESSONS, "alice", 5.0).send().await.unwrap();
    assert_eq!((ev.total, ev.current_streak.length), (10.0, 3));
    assert_eq!(keys_of(&ev.achievements), ["ten-lessons", "three-day-streak"]);
    assert_eq!(ev.points["xp"].total, 200);
    assert_eq!(
        ev.points["xp"].level.as_ref().map(|l| l.key.as_str()),
        Some("silver"),
        "gold needs 240"
    );

    // bob and dave arrive in a batch; bob's duplicate (same key) is applied once.
    let batch = call(
        &mut ops,
        "admin_metrics_batch_events",
        admin.metrics().batch_events([
            BatchEvent::new(LESSONS, UserInput::new("bob"), 4.0).idempotency_key("import-bob-1"),
            BatchEvent::new(LESSONS, UserInput::new("bob"), 4.0).idempotency_key("import-bob-1"),
            BatchEvent::new(LESSONS, UserInput::new("dave").name("Dave"), 2.0),
        ]),
    )
    .await;
    assert_eq!(batch.accepted, 3);

    // alice finishes the onboarding.
    let done = call(
        &mut ops,
        "achievements_complete",
        client.achievements().complete("finish-onboarding", "alice"),
    )
    .await;
    assert_eq!(done.achievement.key.as_deref(), Some("finish-onboarding"));
    assert_eq!(done.achievement.achieved_at, Some(noon(15)));
    assert!(!done.completion_id.is_empty());
    assert_eq!(done.points["xp"].added, 50, "25 points doubled");
    assert_eq!(done.points["xp"].total, 250);
    assert_eq!(done.points["xp"].level.as_ref().map(|l| l.key.as_str()), Some("gold"));

    // ============ Reads ============
    let metrics = call(&mut ops, "users_all_metrics", client.users().metrics("alice")).await;
    assert_eq!(metrics.len(), 1);
    assert_eq!((metrics[0].key.as_str(), metrics[0].current), (LESSONS, 10.0));
    let metric = call(&mut ops, "users_single_metric", client.users().metric("bob", LESSONS)).await;
    assert_eq!(metric.current, 4.0, "the duplicate batch event counted once");
    assert_eq!(metric.id, metric_id);
    let achieved: Vec<_> = metric.achievements.iter().filter(|a| a.achieved_at.is_some()).collect();
    assert_eq!(keys_of(&metric.achievements).len(), 2, "first-lesson and ten-lessons");
    assert_eq!(achieved.len(), 1, "bob has the first lesson, not ten");

    let summary = call(
        &mut ops,
        "users_metric_event_summary",
        client
            .users()
            .metric_event_summary("alice", LESSONS, EventSummaryAggregation::Daily, day(12), day(15)),
    )
    .await;
    assert_eq!(
        summary.iter().map(|s| (s.date, s.change, s.total)).collect::<Vec<_>>(),
        [
            (day(12), 0.0, 0.0),
            (day(13), 3.0, 3.0),
            (day(14), 2.0, 5.0),
            (day(15), 5.0, 10.0)
        ]
    );
    assert!(
        summary
            .iter()
            .all(|s| s.change.is_sign_positive() && s.total.is_sign_positive()),
        "an empty bucket is 0, not -0: {summary:?}"
    );

    let all = call(
        &mut ops,
        "users_achievements",
        client.users().achievements("alice").include_incomplete(true),
    )
    .await;
    assert_eq!(all.len(), 5);
    let completed = client.users().achievements("alice").send().await.unwrap();
    let mut completed_keys: Vec<_> = completed.iter().filter_map(|a| a.key.as_deref()).collect();
    completed_keys.sort_unstable();
    assert_eq!(
        completed_keys,
        ["finish-onboarding", "first-lesson", "ten-lessons", "three-day-streak"]
    );
    assert_eq!(
        all.iter().filter(|a| a.achieved_at.is_none()).count(),
        1,
        "seven-day-streak"
    );
    let onboarding = all
        .iter()
        .find(|a| a.key.as_deref() == Some("finish-onboarding"))
        .unwrap();
    assert_eq!(onboarding.completions, 1);
    assert_eq!(onboarding.rarity, 25.0, "one user of four");

    let streak = call(
        &mut ops,
        "users_streak",
        client.users().streak("alice").history_periods(5),
    )
    .await;
    assert_eq!(streak.length, 3);
    assert_eq!(streak.started, Some(day(13)));
    assert_eq!(streak.frequency.as_str(), "daily");
    assert_eq!(
        streak
            .streak_history
            .iter()
            .map(|h| (h.period_start, h.length))
            .collect::<Vec<_>>(),
        [(day(11), 0), (day(12), 0), (day(13), 1), (day(14), 2), (day(15), 3)]
    );

    let points = call(
        &mut ops,
        "users_points",
        client.users().points("alice", "xp").awards(10),
    )
    .await;
    assert_eq!(points.total, 250);
    assert_eq!(points.level.as_ref().map(|l| l.key.as_str()), Some("gold"));
    assert_eq!(points.max_points, Some(1000.0));
    assert_eq!(
        points.awards.iter().map(|a| a.awarded).collect::<Vec<_>>(),
        [Some(50), Some(100), Some(40), Some(60)],
        "newest first"
    );
    assert_eq!(points.awards.iter().filter_map(|a| a.total).max(), Some(250));
    assert!(
        points.awards.iter().all(|a| a.boosts.len() == 1),
        "alice's boost applied to each"
    );

    let alice_boosts = call(
        &mut ops,
        "users_points_boosts",
        client.users().points_boosts("alice", "xp"),
    )
    .await;
    assert_eq!(
        alice_boosts.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        [boost_id.as_str()]
    );
    assert_eq!(alice_boosts[0].rounding.as_str(), "up");
    let bob_boosts = client.users().points_boosts("bob", "xp").send().await.unwrap();
    assert!(bob_boosts.is_empty(), "the boost is alice's only");

    let summary = call(
        &mut ops,
        "users_points_event_summary",
        client
            .users()
            .points_event_summary("alice", "xp", EventSummaryAggregation::Daily, day(13), day(15)),
    )
    .await;
    assert_eq!(
        summary.iter().map(|s| (s.change, s.total)).collect::<Vec<_>>(),
        [(60.0, 60.0), (40.0, 100.0), (150.0, 250.0)]
    );

    let standing = call(
        &mut ops,
        "users_leaderboard",
        client.users().leaderboard("alice", "top-learners").num_events(10),
    )
    .await;
    assert_eq!((standing.rank, standing.value), (Some(1), Some(10)));
    assert_eq!(
        standing.history.iter().map(|h| (h.date, h.value)).collect::<Vec<_>>(),
        [(day(13), Some(3)), (day(14), Some(5)), (day(15), Some(10))]
    );
    assert_eq!(standing.history[0].previous_rank, None);

    let wrapped = call(&mut ops, "users_wrapped", client.users().wrapped("alice").year(2026)).await;
    assert_eq!(wrapped.user.id, "alice");
    let activity = &wrapped.activity;
    assert_eq!(
        (activity.days_active, activity.weeks_active, activity.months_active),
        (3, 1, 1)
    );
    assert_eq!(
        activity.most_active_day.date,
        day(13),
        "one event a day: the earliest wins"
    );
    assert_eq!(activity.most_active_month.month, 0, "January");
    assert_eq!(activity.entire_year.longest_streak.length, 3);
    assert_eq!(activity.entire_year.metrics[LESSONS].current_total, 10.0);
    assert_eq!(activity.entire_year.points["xp"].current_total, 250.0);
    assert_eq!(activity.entire_year.achievements.len(), 4);
    let quiet_day = client.users().wrapped("bob").send().await.unwrap();
    let bob_day = &quiet_day.activity.most_active_day;
    assert_eq!(bob_day.date, day(15));
    assert!(bob_day.metrics[LESSONS].change_this_period.is_sign_positive());

    let streaks = call(
        &mut ops,
        "streaks_list",
        client.streaks().list(["alice", "bob", "carol", "dave"]),
    )
    .await;
    assert_eq!(
        streaks
            .iter()
            .map(|s| (s.user_id.as_str(), s.streak_length))
            .collect::<Vec<_>>(),
        [("alice", 3), ("bob", 1), ("carol", 0), ("dave", 1)],
        "carol's streak was lost on the 13th"
    );
    // Ids travel as repeated `userIds`: one with a comma is one id, not two.
    let odd = client.streaks().list(["smith, j", "alice"]).send().await.unwrap();
    assert_eq!(
        odd.iter()
            .map(|s| (s.user_id.as_str(), s.streak_length))
            .collect::<Vec<_>>(),
        [("smith, j", 0), ("alice", 3)]
    );

    let ranges = call(&mut ops, "points_summary", client.points().summary("xp")).await;
    assert_eq!(ranges.len(), 10);
    assert_eq!(ranges[0].from, 0);
    assert!(
        ranges.windows(2).all(|w| w[1].from == w[0].to + 1),
        "contiguous: {ranges:?}"
    );
    assert_eq!(
        ranges.iter().map(|r| r.users).sum::<i64>(),
        4,
        "alice, bob, carol, dave"
    );
    let users_at = |total: i64| {
        ranges
            .iter()
            .find(|r| r.from <= total && total <= r.to)
            .map(|r| r.users)
    };
    assert_eq!(users_at(250), Some(1), "alice");
    assert_eq!(users_at(20), Some(2), "carol and dave");
    assert!(users_at(40).is_some());
    let only_pro = client
        .points()
        .summary("xp")
        .user_attribute("plan", "pro")
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_pro.iter().map(|r| r.users).sum::<i64>(),
        1,
        "alice is the only pro"
    );

    let xp = call(&mut ops, "points_system", client.points().system("xp")).await;
    assert_eq!((xp.id.as_str(), xp.name.as_str()), (system_id.as_str(), "Experience"));
    assert_eq!(xp.triggers.len(), 3);
    assert_eq!(xp.max_points, Some(1000.0));
    assert_eq!(xp.badge_url.as_deref(), Some("https://cdn.example/xp.png"));

    let current = call(&mut ops, "points_boosts", client.points().boosts("xp")).await;
    assert_eq!(
        current.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        [boost_id.as_str()]
    );
    let with_finished = client
        .points()
        .boosts("xp")
        .include_finished(true)
        .send()
        .await
        .unwrap();
    assert_eq!(with_finished.len(), 2, "the launch boost is over");

    let app_levels = call(&mut ops, "points_levels", client.points().levels("xp")).await;
    assert_eq!(
        app_levels
            .iter()
            .map(|l| (l.key.as_str(), l.points))
            .collect::<Vec<_>>(),
        [("bronze", 0), ("silver", 50), ("gold", 240)]
    );
    let level_summary = call(&mut ops, "points_level_summary", client.points().level_summary("xp")).await;
    assert_eq!(
        level_summary
            .iter()
            .map(|l| (l.level.key.as_str(), l.users))
            .collect::<Vec<_>>(),
        [("bronze", 3), ("silver", 0), ("gold", 1)]
    );

    let boards = call(&mut ops, "leaderboards_all", client.leaderboards().list()).await;
    assert_eq!(
        boards
            .iter()
            .map(|b| (b.key.as_str(), b.status.as_str()))
            .collect::<Vec<_>>(),
        [("top-learners", "active"), ("xp-board", "active")]
    );
    let top = call(
        &mut ops,
        "leaderboards_get",
        client.leaderboards().get("top-learners").limit(2),
    )
    .await;
    assert_eq!(top.id, top_id);
    assert_eq!(top.max_participants, Some(50));
    assert_eq!(
        top.rankings
            .iter()
            .map(|r| (r.rank, r.user_id.as_str(), r.value))
            .collect::<Vec<_>>(),
        [(1, "alice", 10), (2, "bob", 4)]
    );
    // Every ranking, two per page: ties share a rank and are ordered by user id.
    let everyone: Vec<_> = client
        .leaderboards()
        .get("top-learners")
        .limit(2)
        .into_rankings_stream()
        .map(|r| r.map(|r| (r.rank, r.user_id, r.value)).expect("rankings page"))
        .collect()
        .await;
    assert_eq!(
        everyone,
        [
            (1, "alice".to_string(), 10),
            (2, "bob".to_string(), 4),
            (3, "carol".to_string(), 2),
            (3, "dave".to_string(), 2)
        ]
    );
    assert!(
        everyone.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].2 >= w[1].2),
        "ordered"
    );
    let xp_board = client.leaderboards().get("xp-board").send().await.unwrap();
    assert_eq!(
        xp_board
            .rankings
            .iter()
            .map(|r| (r.rank, r.user_id.as_str(), r.value))
            .collect::<Vec<_>>(),
        [(1, "alice", 250), (2, "bob", 40), (3, "carol", 20), (3, "dave", 20)]
    );
    assert_eq!(xp_board.id, xp_board_id);

    // The application key works for alice only.
    let device = client_with_key(&emu, &app_key.key);
    assert_eq!(device.users().get("alice").send().await.unwrap().id, "alice");
    let refused = device.users().get("bob").send().await.unwrap_err();
    assert_eq!(refused.status(), Some(403), "{refused}");

    // ============ Streak administration ============
    let frozen = call(
        &mut ops,
        "admin_streaks_freezes_create",
        admin.streaks().freezes().create(["alice", "nobody"]),
    )
    .await;
    assert_eq!(frozen.issues.len(), 1);
    assert_eq!(frozen.issues[0].user_id.as_deref(), Some("nobody"));
    let paused = call(
        &mut ops,
        "admin_streaks_pauses_create",
        admin
            .streaks()
            .pauses()
            .create([StreakPause::new("alice", day(20), day(22))]),
    )
    .await;
    assert!(paused.issues.is_empty(), "{:?}", paused.issues);
    let pause_id = paused.created[0].id.to_string();
    assert_eq!((paused.created[0].start, paused.created[0].end), (day(20), day(22)));
    let streak = client.users().streak("alice").send().await.unwrap();
    assert_eq!(streak.freezes, Some(1));
    assert_eq!(
        streak.pauses.iter().map(|p| p.id.to_string()).collect::<Vec<_>>(),
        [pause_id.as_str()]
    );
    let unpaused = call(
        &mut ops,
        "admin_streaks_pauses_delete",
        admin.streaks().pauses().delete([pause_id.as_str()]),
    )
    .await;
    assert_eq!(
        unpaused.deleted.iter().map(|d| d.id.to_string()).collect::<Vec<_>>(),
        [pause_id]
    );
    assert!(client.users().streak("alice").send().await.unwrap().pauses.is_empty());
    let restored = call(
        &mut ops,
        "admin_streaks_restore",
        admin.streaks().restore(["carol", "alice"]),
    )
    .await;
    assert_eq!(restored.restored_users, ["carol"]);
    assert_eq!(restored.issues.len(), 1, "alice's streak is not lost");
    assert_eq!(restored.issues[0].user_id.as_deref(), Some("alice"));
    let carol = client.users().streak("carol").send().await.unwrap();
    assert_eq!(carol.length, 2, "the 10th and 11th, re-linked to today");

    // ============ Achievements, settings, environments, streak settings and resets (1.27) ============
    let created = call(
        &mut ops,
        "admin_achievements_create",
        admin.achievements().create([
            NewAchievement::api("Joined the beta", "beta-joiner").status(AdminAchievementStatus::Active),
            NewAchievement::metric("Fifty lessons", &metric_id, 50.0).status("active".into()),
            NewAchievement::anniversary("One year in", 1).status("active".into()),
        ]),
    )
    .await;
    assert!(created.issues.is_empty(), "{:?}", created.issues);
    let beta_id = created.created[0].id.to_string();
    assert_eq!(
        created.created[1].metric_id.map(|m| m.to_string()),
        Some(metric_id.clone())
    );
    let page = call(
        &mut ops,
        "admin_achievements_list",
        admin.achievements().list().limit(100),
    )
    .await;
    assert_eq!(page.len(), 5 + 3, "the five seeded and the three created");
    let beta = call(&mut ops, "admin_achievements_get", admin.achievements().get(&beta_id)).await;
    assert_eq!(
        (beta.trigger, beta.key.as_deref()),
        (AdminAchievementTrigger::Api, Some("beta-joiner"))
    );
    let renamed = call(
        &mut ops,
        "admin_achievements_update",
        admin.achievements().update([AchievementUpdate::new(&beta_id)
            .name("Beta tester")
            .user_attribute(&plan_attr, "pro")]),
    )
    .await;
    assert_eq!(renamed.updated[0].name, "Beta tester");
    // The Application API completes it for a user who meets its condition only.
    let refused = client
        .achievements()
        .complete("beta-joiner", "bob")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(422), "{refused}");
    let done = client
        .achievements()
        .complete("beta-joiner", UserInput::new("alice").attribute("plan", "pro"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.achievement.name, "Beta tester");
    // A sign-up date two years back completes the anniversary at once.
    let dated = client
        .users()
        .update(
            "carol",
            UserUpdate::new().sign_up_date(NaiveDate::from_ymd_opt(2024, 1, 5).unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(dated.sign_up_date, NaiveDate::from_ymd_opt(2024, 1, 5));
    let carols = client.users().achievements("carol").send().await.unwrap();
    assert!(carols.iter().any(|a| a.name == "One year in"), "{carols:?}");

    let environments = call(&mut ops, "admin_environments_list", admin.environments().list()).await;
    assert_eq!(environments[0].key, "production");
    let settings = call(&mut ops, "admin_settings_get", admin.settings().get()).await;
    assert_eq!(settings.experimentation.control_ratio, 0);
    let settings = call(
        &mut ops,
        "admin_settings_update",
        admin.settings().update().app_name("Lessons").control_ratio(100),
    )
    .await;
    assert_eq!(
        (
            settings.branding.app_name.as_str(),
            settings.experimentation.control_ratio
        ),
        ("Lessons", 100)
    );
    assert!(
        client.users().create("erin").send().await.unwrap().control,
        "every new user is in the control group"
    );

    let streak_settings = call(&mut ops, "admin_streaks_settings_get", admin.streaks().settings().get()).await;
    assert_eq!(streak_settings.freezes.map(|f| f.max_count), Some(3));
    let streak_settings = call(
        &mut ops,
        "admin_streaks_settings_update",
        admin
            .streaks()
            .settings()
            .update()
            .evaluation_mode(AdminStreakEvaluationMode::Or)
            .metric(LESSONS, 1)
            .freezes(StreakFreezeRules::new(0, 5).no_auto_earn()),
    )
    .await;
    assert_eq!(streak_settings.metrics[0].key, LESSONS);
    assert_eq!(
        streak_settings.freezes.map(|f| (f.max_count, f.auto_earn_interval)),
        Some((5, None))
    );

    let before = client.users().streak("alice").send().await.unwrap().length;
    assert!(before > 0);
    let reset = call(
        &mut ops,
        "admin_streaks_reset",
        admin.streaks().reset(["alice", "nobody"]),
    )
    .await;
    assert_eq!(reset.reset_users, ["alice"]);
    assert_eq!(reset.issues[0].user_id.as_deref(), Some("nobody"));
    assert_eq!(client.users().streak("alice").send().await.unwrap().length, 0);
    let deleted = call(
        &mut ops,
        "admin_achievements_delete",
        admin.achievements().delete([beta_id]),
    )
    .await;
    assert_eq!(deleted.deleted.len(), 1);

    // ============ Deletes ============
    let revoked = call(
        &mut ops,
        "admin_application_api_keys_delete",
        admin.application_api_keys().delete([app_key.id.to_string()]),
    )
    .await;
    assert_eq!(revoked.deleted.len(), 1);
    let gone = device.users().get("alice").send().await.unwrap_err();
    assert!(gone.is_unauthorized(), "a revoked key: {gone}");

    let deleted = call(
        &mut ops,
        "admin_tenants_delete",
        admin.tenants().delete([tenant_id.clone()]),
    )
    .await;
    assert_eq!(deleted.deleted[0].id.to_string(), tenant_id);
    let deleted = call(
        &mut ops,
        "admin_points_boosts_delete",
        boosts.delete([boost_id.clone(), "00000000-0000-4000-8000-000000000000".to_string()]),
    )
    .await;
    assert_eq!(
        (deleted.deleted.len(), deleted.issues.len()),
        (1, 1),
        "an unknown id is an issue"
    );
    let deleted = call(&mut ops, "admin_points_levels_delete", levels.delete([gold_id])).await;
    assert_eq!(deleted.deleted.len(), 1);
    let deleted = call(&mut ops, "admin_points_triggers_delete", triggers.delete([trigger_id])).await;
    assert_eq!(deleted.deleted.len(), 1);
    assert_eq!(client.points().system("xp").send().await.unwrap().triggers.len(), 2);
    let deleted = call(
        &mut ops,
        "admin_leaderboards_delete",
        admin.leaderboards().delete([top_id, xp_board_id]),
    )
    .await;
    assert_eq!(deleted.deleted.len(), 2);
    assert!(client.leaderboards().list().send().await.unwrap().is_empty());
    let deleted = call(
        &mut ops,
        "admin_points_systems_delete",
        admin.points().systems().delete([system_id]),
    )
    .await;
    assert_eq!(deleted.deleted.len(), 1);
    assert!(client.points().system("xp").send().await.unwrap_err().is_not_found());
    let deleted = call(
        &mut ops,
        "admin_attributes_delete",
        admin.attributes().delete([plan_attr, source_attr]),
    )
    .await;
    assert_eq!(deleted.deleted.len(), 2);
    let deleted = call(&mut ops, "admin_metrics_delete", admin.metrics().delete([metric_id])).await;
    assert_eq!(deleted.deleted.len(), 1);
    assert!(admin.metrics().list().send().await.unwrap().is_empty());

    // ============ Every operation of both documents, and nothing else ============
    // The generated descriptors: an operation added to a document and regenerated is missing
    // here until the SDK wraps it and this test calls it.
    let all = trophy_generated::operations::ALL;
    let app_count = all.iter().filter(|op| op.api == trophy_generated::ApiKind::App).count();
    assert_eq!((app_count, all.len() - app_count), (27, 58));
    let spec: BTreeSet<String> = all.iter().map(|op| op.id.to_string()).collect();
    let called: BTreeSet<String> = ops.iter().map(|op| op.to_string()).collect();
    assert_eq!(called, spec, "operations called differ from the documents");
    assert_eq!(ops.len(), 85);
    let observed = spans().on_this_thread();
    assert_eq!(
        observed, spec,
        "operations the SDK executed (trophy.call spans) differ from the documents"
    );
}

/// (2) An application key issued through the Admin API acts for its own user on the
/// Application API, and for nobody else; the Admin API refuses it.
#[tokio::test]
async fn application_keys_act_for_their_own_user_only() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_time(noon(15));
    let org = client(&emu);
    org.admin()
        .metrics()
        .create([NewMetric::new("Lessons", LESSONS)])
        .send()
        .await
        .unwrap();
    org.users().create(UserInput::new("bob")).send().await.unwrap();
    let issued = org
        .admin()
        .application_api_keys()
        .create(["alice"])
        .send()
        .await
        .unwrap();
    let key = issued.created[0].clone();
    let device = client_with_key(&emu, &key.key);

    // Its own user: events, reads, updates.
    let ev = device.metrics().event(LESSONS, "alice", 2.0).send().await.unwrap();
    assert_eq!(ev.total, 2.0);
    let ev = device.metrics().event(LESSONS, "alice", 1.0).send().await.unwrap();
    assert_eq!(ev.total, 3.0);
    assert_eq!(
        device.users().metric("alice", LESSONS).send().await.unwrap().current,
        3.0
    );
    let me = device
        .users()
        .update("alice", UserUpdate::new().name("Alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.name.as_deref(), Some("Alice"));
    assert_eq!(
        device.streaks().list(["alice"]).send().await.unwrap()[0].streak_length,
        1
    );
    // Organisation-wide reads are allowed.
    assert_eq!(device.achievements().list().send().await.unwrap().len(), 5);
    assert!(device.leaderboards().list().send().await.unwrap().is_empty());

    // Another user's data: 403 from the emulator, and nothing changed.
    let forbidden = |e: Error| {
        assert_eq!(e.status(), Some(403), "{e}");
        assert!(e.message().is_some_and(|m| m.contains("own user")), "{e}");
        assert!(!e.is_retryable());
    };
    forbidden(device.users().get("bob").send().await.unwrap_err());
    forbidden(device.metrics().event(LESSONS, "bob", 5.0).send().await.unwrap_err());
    forbidden(device.users().metric("bob", LESSONS).send().await.unwrap_err());
    forbidden(device.streaks().list(["alice", "bob"]).send().await.unwrap_err());
    forbidden(
        device
            .achievements()
            .complete("finish-onboarding", "bob")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        org.users().metric("bob", LESSONS).send().await.unwrap().current,
        0.0,
        "bob's total is untouched"
    );

    // The Admin API: the SDK refuses an `app_` key before sending anything...
    let refused = device.admin().metrics().list().send().await.unwrap_err();
    match &refused {
        Error::InvalidInput(e) => assert_eq!(e.field, "api_key"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert_eq!(refused.attempts(), 0, "nothing was sent");
    let refused = device
        .admin()
        .application_api_keys()
        .create(["mallory"])
        .send()
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::InvalidInput(_)), "{refused:?}");
    // ...and the emulator would refuse it too.
    let raw = common::raw_http()
        .get(format!("{}/metrics", emu.admin_url()))
        .header("X-API-KEY", &key.key)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 403);

    // Unknown and revoked keys: 401.
    let stranger = client_with_key(&emu, "app_00000000000000000000000000000000");
    assert!(stranger
        .users()
        .get("alice")
        .send()
        .await
        .unwrap_err()
        .is_unauthorized());
    let revoked = org
        .admin()
        .application_api_keys()
        .delete([key.id.to_string()])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.deleted.len(), 1);
    let e = device.users().get("alice").send().await.unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
}

/// (3) Tenants are isolated: per call with `.tenant_id(..)`, for every call with
/// `ClientBuilder::tenant_id`, and a call's tenant overrides the client's.
#[tokio::test]
async fn tenants_are_isolated_per_call_and_per_client() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_time(noon(15));
    let org = client(&emu);
    let created = org
        .admin()
        .tenants()
        .create([
            NewTenant::new("Acme").customer_id("acme"),
            NewTenant::new("Globex").customer_id("globex"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.created.len(), 2);
    let acme_tenant = created.created[0].id.to_string();

    // Configuration per call.
    let acme_metric = org
        .admin()
        .metrics()
        .create([NewMetric::new("Sales", "sales")])
        .tenant_id("acme")
        .send()
        .await
        .unwrap();
    let acme_metric_id = acme_metric.created[0].id.to_string();
    assert!(
        org.admin().metrics().list().send().await.unwrap().is_empty(),
        "not in the default tenant"
    );
    let in_acme = org.admin().metrics().list().tenant_id("acme").send().await.unwrap();
    assert_eq!(
        in_acme.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
        [acme_metric_id.as_str()]
    );
    let e = org.admin().metrics().get(&acme_metric_id).send().await.unwrap_err();
    assert!(e.is_not_found(), "another tenant's id: {e}");
    let e = org.metrics().event("sales", "u1", 1.0).send().await.unwrap_err();
    assert_eq!(e.status(), Some(422), "no such metric in the default tenant: {e}");

    // A client bound to a tenant.
    let acme = Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .tenant_id("acme")
        .build()
        .unwrap();
    assert_eq!(
        acme.admin().metrics().get(&acme_metric_id).send().await.unwrap().key,
        "sales"
    );
    assert_eq!(
        acme.metrics().event("sales", "u1", 5.0).send().await.unwrap().total,
        5.0
    );
    assert_eq!(
        acme.metrics().event("sales", "u1", 2.0).send().await.unwrap().total,
        7.0
    );
    assert!(org.users().get("u1").send().await.unwrap_err().is_not_found());

    // The call's tenant wins over the client's.
    assert!(acme
        .admin()
        .metrics()
        .list()
        .tenant_id("globex")
        .send()
        .await
        .unwrap()
        .is_empty());
    acme.admin()
        .metrics()
        .create([NewMetric::new("Sales", "sales")])
        .tenant_id("globex")
        .send()
        .await
        .unwrap();
    let globex = acme
        .metrics()
        .event("sales", "u1", 100.0)
        .tenant_id("globex")
        .send()
        .await
        .unwrap();
    assert_eq!(globex.total, 100.0, "the same user id, another tenant");
    assert_eq!(acme.users().metric("u1", "sales").send().await.unwrap().current, 7.0);
    let per_call = org
        .users()
        .metric("u1", "sales")
        .tenant_id("globex")
        .send()
        .await
        .unwrap();
    assert_eq!(per_call.current, 100.0);
    assert_eq!(
        org.streaks().list(["u1"]).tenant_id("acme").send().await.unwrap()[0].streak_length,
        1
    );

    // Tenants are organisation-wide: listed the same from any tenant.
    let seen_from_acme = acme.admin().tenants().list().send().await.unwrap();
    assert_eq!(seen_from_acme.len(), 2);

    // A new customer id moves the tenant's data; deleting the tenant drops it.
    org.admin()
        .tenants()
        .update([TenantUpdate::new(&acme_tenant).customer_id("acme-2")])
        .send()
        .await
        .unwrap();
    assert!(
        acme.users().get("u1").send().await.unwrap_err().is_not_found(),
        "moved away from acme"
    );
    let moved = org
        .users()
        .metric("u1", "sales")
        .tenant_id("acme-2")
        .send()
        .await
        .unwrap();
    assert_eq!(moved.current, 7.0);
    org.admin().tenants().delete([acme_tenant]).send().await.unwrap();
    let dropped = org.users().get("u1").tenant_id("acme-2").send().await.unwrap_err();
    assert!(dropped.is_not_found(), "{dropped}");
    assert_eq!(org.admin().tenants().list().send().await.unwrap().len(), 1);
}

/// (4) 64 concurrent clones of one client: events for one shared user and for 32 users of
/// their own. No increment is lost, and each response saw a distinct total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_clones_lose_no_increment() {
    let (_emu, client) = lessons_at_noon(client).await;

    let tasks: Vec<_> = (0..64u32)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let user = if i % 2 == 0 {
                    "shared".to_string()
                } else {
                    format!("solo-{i}")
                };
                let value = if i % 2 == 0 { 1.0 } else { f64::from(i) };
                let ev = client.metrics().event(LESSONS, user.as_str(), value).send().await;
                (user, ev.unwrap_or_else(|e| panic!("event {i}: {e}")))
            })
        })
        .collect();
    let mut shared_totals = Vec::new();
    for task in tasks {
        let (user, ev) = task.await.expect("task");
        if user == "shared" {
            shared_totals.push(ev.total);
        }
    }
    shared_totals.sort_by(f64::total_cmp);
    let expected: Vec<f64> = (1..=32).map(f64::from).collect();
    assert_eq!(
        shared_totals, expected,
        "every increment applied exactly once, one at a time"
    );

    assert_eq!(
        client.users().metric("shared", LESSONS).send().await.unwrap().current,
        32.0
    );
    let reads: Vec<_> = (0..64u32)
        .filter(|i| i % 2 == 1)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let total = client
                    .users()
                    .metric(format!("solo-{i}"), LESSONS)
                    .send()
                    .await
                    .unwrap();
                (i, total.current)
            })
        })
        .collect();
    for read in reads {
        let (i, total) = read.await.unwrap();
        assert_eq!(total, f64::from(i), "solo-{i}");
    }

    // The same idempotency key sent 8 times at once is applied once.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .metrics()
                    .event(LESSONS, "shared", 10.0)
                    .idempotency_key("same-key")
                    .send_with_response()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.body().total, 42.0);
        *statuses.entry(response.status()).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(201, 1), (202, 7)]));
    assert_eq!(
        client.users().metric("shared", LESSONS).send().await.unwrap().current,
        42.0
    );
}

fn retrying_client(emu: &Emulator) -> Client {
    spans();
    Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .retry(
            RetryConfig::standard()
                .max_attempts(6)
                .initial_backoff(Duration::from_millis(5))
                .jitter(false),
        )
        .build()
        .unwrap()
}

/// An emulator at noon on January 15 with the lessons metric, and a client of it made by
/// `make` ([`client`] or [`retrying_client`]).
async fn lessons_at_noon(make: fn(&Emulator) -> Client) -> (Emulator, Client) {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_time(noon(15));
    let client = make(&emu);
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", LESSONS)])
        .send()
        .await
        .unwrap();
    (emu, client)
}

/// (5) 30% of requests fail with 503 before they are processed: with the standard retries
/// every one of 50 events succeeds and the total is exactly their sum.
#[tokio::test]
async fn retries_ride_out_injected_503s() {
    let (emu, client) = lessons_at_noon(retrying_client).await;

    emu.set_faults(Faults::new(0.3, 503).with_seed(7));
    let mut last = 0.0;
    for i in 1..=50u32 {
        let ev = client.metrics().event(LESSONS, "learner", f64::from(i)).send().await;
        let ev = ev.unwrap_or_else(|e| panic!("event {i}: {e}"));
        assert!(ev.total > last, "totals only grow");
        last = ev.total;
    }
    let injected = emu.faults_injected();
    assert!(injected >= 5, "the faults really happened: {injected}");
    assert_eq!(last, 1275.0, "1 + 2 + ... + 50");
    let total = client.users().metric("learner", LESSONS).send().await.unwrap();
    assert_eq!(total.current, 1275.0);
}

/// (5, continued) The same, with faults injected *after* processing: the event is applied and
/// its answer lost, which is exactly when a retry could count twice. The SDK's idempotency key
/// turns each such retry into a replay (202), so the total is still exactly the sum. Batches
/// (keys in the body) as well.
#[tokio::test]
async fn retried_events_never_double_count_when_answers_are_lost() {
    let (emu, client) = lessons_at_noon(retrying_client).await;

    // The fault mode is real: an event whose answer is lost was still counted.
    emu.set_faults(Faults::new(1.0, 503).after_processing());
    let lost = client
        .metrics()
        .event(LESSONS, "witness", 7.0)
        .retry(RetryConfig::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!(lost.status(), Some(503));
    emu.set_faults(Faults::none());
    let witness = client.users().metric("witness", LESSONS).send().await.unwrap();
    assert_eq!(witness.current, 7.0, "applied although the client saw a 503");

    emu.set_faults(Faults::new(0.3, 503).with_seed(11).after_processing());
    let mut replays = 0;
    for i in 1..=50u32 {
        let ev = client.metrics().event(LESSONS, "learner", f64::from(i)).send().await;
        let ev = ev.unwrap_or_else(|e| panic!("event {i}: {e}"));
        if ev.idempotent_replayed == Some(true) {
            replays += 1;
        }
    }
    assert!(replays >= 3, "lost answers were retried and replayed: {replays}");
    assert!(emu.faults_injected() >= replays);

    let batches: u32 = 10;
    for b in 0..batches {
        let events = (0..5).map(|j| BatchEvent::new(LESSONS, "batched", f64::from(b * 5 + j + 1)));
        let accepted = client.admin().metrics().batch_events(events).send().await;
        assert_eq!(accepted.unwrap_or_else(|e| panic!("batch {b}: {e}")).accepted, 5);
    }

    emu.set_faults(Faults::none());
    let total = client.users().metric("learner", LESSONS).send().await.unwrap();
    assert_eq!(total.current, 1275.0, "no event counted twice");
    let batched = client.users().metric("batched", LESSONS).send().await.unwrap();
    assert_eq!(batched.current, 1275.0, "no batched event counted twice");
}

/// Sets the emulator's faults through its control endpoint (for `failNext`, which fails
/// exactly the next requests).
async fn fail_next(emu: &Emulator, requests: u64, status: u16) {
    let response = common::raw_http()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&serde_json::json!({"failNext": requests, "status": status}))
        .send()
        .await
        .expect("emulator control");
    assert!(response.status().is_success());
}

/// Which failures the SDK retries, against single injected faults: reads and keyed events on a
/// 503, creates only on a 429 (after its `Retry-After`), never a create on a 503 (Trophy may
/// have processed it).
#[tokio::test]
async fn retry_classes_against_single_injected_faults() {
    let (emu, client) = lessons_at_noon(retrying_client).await;

    // A read and an event ride out a 503.
    fail_next(&emu, 1, 503).await;
    assert_eq!(client.admin().metrics().list().send().await.unwrap().len(), 1);
    fail_next(&emu, 2, 503).await;
    assert_eq!(
        client.metrics().event(LESSONS, "ada", 2.0).send().await.unwrap().total,
        2.0
    );

    // A create is not retried on a 503...
    fail_next(&emu, 1, 503).await;
    let e = client.users().create(UserInput::new("grace")).send().await.unwrap_err();
    assert_eq!((e.status(), e.attempts()), (Some(503), 1), "{e}");
    assert!(client.users().get("grace").send().await.unwrap_err().is_not_found());
    // ...but is on a 429, after the emulator's `Retry-After: 1`.
    fail_next(&emu, 1, 429).await;
    let started = std::time::Instant::now();
    let grace = client.users().create(UserInput::new("grace")).send().await.unwrap();
    assert_eq!(grace.id, "grace");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(emu.faults_injected(), 5);
}
