//! Fuzzing of request building: arbitrary strings (empty, `.`/`..`, separators, control
//! characters, invalid UTF-8 made lossy, right-to-left marks, emoji, up to 5,000 characters),
//! arbitrary numbers (NaN, infinities, `-0.0`, extremes, random bit patterns), arbitrary dates
//! (from `NaiveDate::MIN` to `MAX`) and lists from empty to over a thousand items go through
//! every operation builder of the SDK (all 85: 27 of the Application API, 58 of the Admin
//! API), through every setter of the builders and of the request items (users, events,
//! achievements, metrics, attributes, points systems, levels, boosts, triggers, leaderboards,
//! tenants, streak pauses, streak and organisation settings, freeze rules) and the per-call
//! options (tenant, extra header, idempotency key, timeouts, retries). Each request is built
//! exactly as `send` builds it, without sending it (`__build`). The outcome must be a request
//! or `Error::InvalidInput`, never a panic or another error, and a built request must be
//! well-formed: its URL under the client's base, no raw space or control character in it, the
//! API key and version headers present, a body that is valid JSON and announced by
//! `Content-Type` exactly when there is one.
//!
//! `cargo test` runs a short round that also checks every builder both built a request and
//! refused one and that each builder is a different operation, and a test that counts the
//! operation builders in the SDK's source (`operation!` and `crud!` invocations under
//! `src/api`), so a builder added to the SDK but not here fails it. The long run
//! (`TROPHY_FUZZ_ITERS`, default 1,000,000; `TROPHY_FUZZ_SEED`):
//!
//! ```text
//! TROPHY_FUZZ_ITERS=10_000_000 cargo test --release -p trophy --test fuzz_requests -- --ignored --nocapture
//! ```

mod fuzz_common;

use fuzz_common::{alloc_budget, bounded, exclusive, long_run, Rng};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;
use trophy::__private::BuiltRequest;
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
use trophy::api::users::StreakMetric;
use trophy::chrono::NaiveDate;
use trophy::{Client, Error, RetryConfig, UserInput, UserUpdate};

const APP_URL: &str = "http://127.0.0.1:9/v1";
const ADMIN_URL: &str = "http://127.0.0.1:9/admin/v1";
/// The number of operation builders; `build` has one arm per builder, and
/// `every_builder_of_the_sdk_is_fuzzed` holds it to the SDK's source.
const BUILDERS: usize = 85;
/// Builders `0..APP_BUILDERS` are the Application API's.
const APP_BUILDERS: usize = 27;
/// Builders from `CRUD_START` on are the five operations of each bulk Admin resource.
const CRUD_START: usize = 40;
/// No request built from these inputs needs more (the largest lists hold ~1,100 items of at
/// most 5,000 characters).
const ALLOC_BUDGET: usize = 64 * 1024 * 1024;

const STRINGS: &[&str] = &[
    "",
    " ",
    ".",
    "..",
    "../admin",
    "a/b",
    "?x=1&y=2#frag",
    "%2F%00",
    "a:b,c:d",
    "key:value",
    "\n",
    "\r\nX-Injected: 1",
    "tab\there",
    "\u{0}",
    "\u{7f}",
    "\u{202e}rtl",
    "\u{feff}",
    "zoë",
    "日本語",
    "🏆",
    "app_live_123",
    "sk_live_123",
    "Europe/London",
    "Not/A_Zone",
    "user@example.com",
    "not-an-email",
    "https://example.com/badge.png",
    "javascript:alert(1)",
    "00000000-0000-4000-8000-000000000000",
    "12:30",
    "25:99",
    "x-api-key",
    "Content-Type",
    "bad header",
    "daily",
    "weekly",
    "user",
    "event",
    "metric",
    "active",
    "total",
    "NaN",
    "-1",
    "1e309",
];

/// Calls each setter, with fresh arguments, one time in three (`clear_*` setters one time in
/// six): `setters!(g, x; name(s), max_points(i64), clear_badge())`.
macro_rules! setters {
    ($g:ident, $x:ident; $($setter:ident($($arg:ident),*)),* $(,)?) => {
        $(
            if $g.0.chance(if stringify!($setter).starts_with("clear") { 6 } else { 3 }) {
                $x = $x.$setter($($g.$arg()),*);
            }
        )*
    };
}

/// Calls each setter 0 to 2 times, with fresh arguments: `repeated!(g, x; user_attribute(s, s))`.
macro_rules! repeated {
    ($g:ident, $x:ident; $($setter:ident($($arg:ident),*)),* $(,)?) => {
        $(
            for _ in 0..$g.0.below(3) {
                $x = $x.$setter($($g.$arg()),*);
            }
        )*
    };
}

/// The setters `NewPointsTrigger` and `PointsTriggerUpdate` share.
macro_rules! trigger_details {
    ($g:ident, $t:expr) => {{
        let mut t = $t;
        setters!($g, t; status(e), metric_id(s), metric_threshold(u64), achievement_id(s), streak_length(u32), time_unit(e), time_interval(u32));
        repeated!($g, t; user_attribute(s, s));
        setters!($g, t; clear_user_attributes());
        repeated!($g, t; event_attribute(s, s));
        setters!($g, t; clear_event_attributes(), block_if_out_of_points(b));
        t
    }};
}

/// The argument generator, and whether the call at hand set its own `Content-Type`.
struct Gen(Rng, bool);

impl Gen {
    /// An arbitrary string: half of them plausible identifiers.
    /// A value of an open enum, from a string as [`s`](Self::s) makes it (`Unknown` when not
    /// a known value).
    fn e<T: From<String>>(&mut self) -> T {
        self.s().into()
    }

    fn s(&mut self) -> String {
        let r = &mut self.0;
        match r.below(12) {
            0..=2 => (*r.pick(STRINGS)).to_owned(),
            3 => {
                let bytes: Vec<u8> = (0..r.below(40)).map(|_| r.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            4 => (0..r.below(24))
                .map(|_| {
                    *r.pick(&[
                        'a', '-', '_', ' ', '/', '%', '\u{1}', 'é', '😀', '\u{85}', ':', ',', '.',
                    ])
                })
                .collect(),
            5 if r.chance(8) => "x".repeat(r.below(5000)),
            _ => format!("{}-{}", r.pick(&["user", "key", "words", "id", "a"]), r.below(10_000)),
        }
    }

    fn f64(&mut self) -> f64 {
        let r = &mut self.0;
        match r.below(10) {
            0 => *r.pick(&[
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                f64::MAX,
                f64::MIN,
                f64::MIN_POSITIVE,
                1e-310,
            ]),
            1 => f64::from_bits(r.next()),
            2 => -(r.below(1000) as f64),
            _ => r.below(100_000) as f64 / 4.0,
        }
    }

    fn u64(&mut self) -> u64 {
        let r = &mut self.0;
        match r.below(6) {
            0 => *r.pick(&[0, 1, u64::MAX, i64::MAX as u64, u32::MAX as u64 + 1]),
            1 => r.next(),
            _ => r.below(1000) as u64,
        }
    }

    fn u32(&mut self) -> u32 {
        let r = &mut self.0;
        match r.below(6) {
            0 => *r.pick(&[0, 1, u32::MAX, 1001, 101]),
            1 => r.next() as u32,
            _ => r.below(200) as u32,
        }
    }

    fn i64(&mut self) -> i64 {
        let r = &mut self.0;
        match r.below(6) {
            0 => *r.pick(&[0, -1, i64::MIN, i64::MAX]),
            1 => r.next() as i64,
            _ => r.below(2000) as i64 - 1000,
        }
    }

    fn b(&mut self) -> bool {
        self.0.chance(2)
    }

    fn maybe(&mut self) -> bool {
        self.0.chance(3)
    }

    fn i32(&mut self) -> i32 {
        self.i64() as i32
    }

    fn date(&mut self) -> NaiveDate {
        let r = &mut self.0;
        match r.below(6) {
            0 => *r.pick(&[NaiveDate::MIN, NaiveDate::MAX]),
            1 => {
                let span = (NaiveDate::MAX - NaiveDate::MIN).num_days() as u64;
                NaiveDate::MIN + trophy::chrono::Days::new(r.next() % span)
            }
            _ => NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + trophy::chrono::Days::new(r.below(800) as u64),
        }
    }

    /// A list of 0 to 3 items, sometimes 90 to 1,100.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = if self.0.chance(40) {
            90 + self.0.below(1010)
        } else {
            self.0.below(4)
        };
        (0..n).map(|_| item(self)).collect()
    }

    fn strings(&mut self) -> Vec<String> {
        self.list(Gen::s)
    }

    /// Weekdays: mostly 0 to 7 (7 is not one), sometimes any byte; repeats happen.
    fn days(&mut self) -> Vec<u8> {
        self.list(|g| {
            if g.0.chance(10) {
                g.0.next() as u8
            } else {
                g.0.below(8) as u8
            }
        })
    }

    fn user(&mut self) -> UserInput {
        let mut u = UserInput::new(self.s());
        setters!(self, u; email(s), name(s), tz(s), clear_tz(), device_tokens(strings), clear_device_tokens(), subscribe_to_emails(b), sign_up_date(date));
        repeated!(self, u; attribute(s, s));
        u
    }

    fn user_update(&mut self) -> UserUpdate {
        let mut u = UserUpdate::new();
        setters!(self, u; email(s), name(s), tz(s), clear_tz(), device_tokens(strings), clear_device_tokens(), subscribe_to_emails(b), sign_up_date(date));
        repeated!(self, u; attribute(s, s));
        u
    }

    fn new_achievement(&mut self) -> NewAchievement {
        let mut a = match self.0.below(6) {
            0 => NewAchievement::new(self.s(), self.e()),
            1 => NewAchievement::api(self.s(), self.s()),
            2 => NewAchievement::metric(self.s(), self.s(), self.f64()),
            3 => NewAchievement::streak(self.s(), self.u32()),
            4 => NewAchievement::anniversary(self.s(), self.u32()),
            _ => NewAchievement::achievements(self.s(), self.strings()),
        };
        setters!(self, a; description(s), status(e), badge_url(s), key(s));
        repeated!(self, a; user_attribute(s, s), event_attribute(s, s));
        a
    }

    fn achievement_update(&mut self) -> AchievementUpdate {
        let mut a = AchievementUpdate::new(self.s());
        setters!(self, a; name(s), trigger(e), description(s), clear_description(), status(e), badge_url(s), clear_badge(), key(s), metric(s, f64), streak_length(u32), anniversary_years(u32), achievement_ids(strings));
        repeated!(self, a; user_attribute(s, s));
        setters!(self, a; clear_user_attributes());
        repeated!(self, a; event_attribute(s, s));
        setters!(self, a; clear_event_attributes());
        a
    }

    fn freeze_rules(&mut self) -> StreakFreezeRules {
        let mut r = StreakFreezeRules::new(self.u32(), self.u32());
        setters!(self, r; auto_earn(u32, u32), no_auto_earn());
        r
    }

    fn new_level(&mut self) -> NewPointsLevel {
        let mut l = NewPointsLevel::new(self.s(), self.s(), self.i64());
        setters!(self, l; description(s), badge_url(s));
        l
    }

    fn new_boost(&mut self) -> NewPointsBoost {
        let mut b = NewPointsBoost::new(self.s(), self.date(), self.f64());
        setters!(self, b; end(date), clear_end(), rounding(e), user_id(s));
        repeated!(self, b; user_attribute(s, s));
        setters!(self, b; clear_user_attributes());
        b
    }

    fn new_trigger(&mut self) -> NewPointsTrigger {
        let t = match self.0.below(6) {
            0 => NewPointsTrigger::new(self.e(), self.i64()),
            1 => NewPointsTrigger::metric(self.s(), self.u64(), self.i64()),
            2 => NewPointsTrigger::achievement(self.s(), self.i64()),
            3 => NewPointsTrigger::streak(self.u32(), self.i64()),
            4 => NewPointsTrigger::time(self.e(), self.u32(), self.i64()),
            _ => NewPointsTrigger::user_creation(self.i64()),
        };
        trigger_details!(self, t)
    }

    fn trigger_update(&mut self) -> PointsTriggerUpdate {
        let mut t = PointsTriggerUpdate::new(self.s());
        setters!(self, t; trigger_type(e), points(i64));
        trigger_details!(self, t)
    }

    fn new_leaderboard(&mut self) -> NewLeaderboard {
        let mut l = NewLeaderboard::new(self.s(), self.s(), self.e());
        setters!(self, l; description(s), status(e), metric_id(s), points_system_id(s), max_participants(u32), clear_max_participants(), start(date), end(date), start_time(s), end_time(s), breakdown_attributes(strings), run_unit(e), run_interval(u32));
        repeated!(self, l; user_attribute(s, s));
        l
    }

    fn leaderboard_update(&mut self) -> LeaderboardUpdate {
        let mut l = LeaderboardUpdate::new(self.s());
        setters!(self, l; name(s), key(s), description(s), status(e), rank_by(e), metric_id(s), points_system_id(s), max_participants(u32), clear_max_participants(), start(date), end(date), clear_end(), start_time(s), clear_start_time(), end_time(s), clear_end_time(), breakdown_attributes(strings), run_unit(e), clear_run_unit(), run_interval(u32));
        repeated!(self, l; user_attribute(s, s));
        setters!(self, l; clear_user_attributes());
        l
    }
}

/// Applies random per-call options to a builder, then builds its request.
macro_rules! build {
    ($g:ident, $builder:expr) => {{
        let mut b = $builder;
        if $g.0.chance(4) {
            b = b.tenant_id($g.s());
        }
        $g.1 = false;
        for _ in 0..$g.0.below(2) {
            let name = if $g.0.chance(20) {
                "content-type".to_owned()
            } else {
                $g.s()
            };
            $g.1 |= name.eq_ignore_ascii_case("content-type");
            b = b.header(name, $g.s());
        }
        if $g.0.chance(8) {
            b = b.timeout(Duration::from_nanos($g.u64()));
        }
        if $g.0.chance(8) {
            b = b.attempt_timeout(Duration::from_millis($g.u64()));
        }
        if $g.0.chance(8) {
            b = b.retry(if $g.b() {
                RetryConfig::disabled()
            } else {
                RetryConfig::standard()
            });
        }
        b.__build()
    }};
}

/// The five operations of a bulk Admin resource: `$handle` is an expression giving the handle.
macro_rules! crud {
    ($g:ident, $op:expr, $handle:expr, $new:expr, $change:expr) => {
        match $op {
            0 => {
                let mut b = $handle.list();
                setters!($g, b; limit(u32), skip(u32));
                build!($g, b)
            }
            1 => {
                let items = $g.list($new);
                build!($g, $handle.create(items))
            }
            2 => {
                let id = $g.s();
                build!($g, $handle.get(id))
            }
            3 => {
                let items = $g.list($change);
                build!($g, $handle.update(items))
            }
            _ => {
                let ids = $g.strings();
                build!($g, $handle.delete(ids))
            }
        }
    };
}

/// Builds the request of builder number `op` (`0..BUILDERS`) from arbitrary arguments.
fn build(c: &Client, g: &mut Gen, op: usize) -> trophy::Result<BuiltRequest> {
    let admin = c.admin();
    match op {
        // Application API.
        0 => {
            let mut b = c.achievements().list();
            repeated!(g, b; user_attribute(s, s));
            build!(g, b)
        }
        1 => build!(g, c.achievements().complete(g.s(), g.user())),
        2 => {
            let mut b = c.leaderboards().list();
            setters!(g, b; include_finished(b));
            build!(g, b)
        }
        3 => {
            let mut b = c.leaderboards().get(g.s());
            setters!(g, b; offset(u32), limit(u32), run(date), user_id(s));
            repeated!(g, b; user_attribute(s, s));
            build!(g, b)
        }
        4 => {
            let mut b = c.metrics().event(g.s(), g.user(), g.f64());
            repeated!(g, b; event_attribute(s, s));
            setters!(g, b; idempotency_key(s));
            build!(g, b)
        }
        5 => {
            let mut b = c.points().summary(g.s());
            repeated!(g, b; user_attribute(s, s));
            build!(g, b)
        }
        6 => build!(g, c.points().system(g.s())),
        7 => {
            let mut b = c.points().boosts(g.s());
            setters!(g, b; include_finished(b));
            build!(g, b)
        }
        8 => build!(g, c.points().levels(g.s())),
        9 => build!(g, c.points().level_summary(g.s())),
        10 => {
            let ids = g.strings();
            build!(g, c.streaks().list(ids))
        }
        11 => build!(g, c.users().create(g.user())),
        12 => build!(g, c.users().get(g.s())),
        13 => build!(g, c.users().identify(g.s(), g.user_update())),
        14 => build!(g, c.users().update(g.s(), g.user_update())),
        15 => build!(g, c.users().preferences(g.s())),
        16 => {
            let mut b = c.users().update_preferences(g.s());
            setters!(g, b; achievement_completed_channels(strings), recap_channels(strings), reactivation_channels(strings), streak_reminder_channels(strings), streak_enabled(b), streak_evaluation_mode(e), streak_metric(s, f64), streak_days_off(days));
            if g.maybe() {
                let metrics = g.list(|g| StreakMetric::new(g.s(), g.f64()));
                b = b.streak_metrics(metrics);
            }
            build!(g, b)
        }
        17 => build!(g, c.users().metrics(g.s())),
        18 => build!(g, c.users().metric(g.s(), g.s())),
        19 => {
            let b = c.users().metric_event_summary(g.s(), g.s(), g.e(), g.date(), g.date());
            build!(g, b)
        }
        20 => {
            let mut b = c.users().achievements(g.s());
            setters!(g, b; include_incomplete(b));
            build!(g, b)
        }
        21 => {
            let mut b = c.users().streak(g.s());
            setters!(g, b; history_periods(u32));
            build!(g, b)
        }
        22 => {
            let mut b = c.users().points(g.s(), g.s());
            setters!(g, b; awards(u32));
            build!(g, b)
        }
        23 => build!(g, c.users().points_boosts(g.s(), g.s())),
        24 => {
            let b = c.users().points_event_summary(g.s(), g.s(), g.e(), g.date(), g.date());
            build!(g, b)
        }
        25 => {
            let mut b = c.users().leaderboard(g.s(), g.s());
            setters!(g, b; run(date), num_events(u32));
            build!(g, b)
        }
        26 => {
            let mut b = c.users().wrapped(g.s());
            setters!(g, b; year(i32));
            build!(g, b)
        }
        // Admin API: the operations outside the bulk resources.
        27 => build!(g, admin.application_api_keys().create(g.strings())),
        28 => build!(g, admin.application_api_keys().delete(g.strings())),
        29 => {
            let events = g.list(|g| {
                let mut e = BatchEvent::new(g.s(), g.user(), g.f64());
                repeated!(g, e; event_attribute(s, s));
                setters!(g, e; idempotency_key(s));
                e
            });
            build!(g, admin.metrics().batch_events(events))
        }
        30 => build!(g, admin.streaks().freezes().create(g.strings())),
        31 => {
            let pauses = g.list(|g| StreakPause::new(g.s(), g.date(), g.date()));
            build!(g, admin.streaks().pauses().create(pauses))
        }
        32 => build!(g, admin.streaks().pauses().delete(g.strings())),
        33 => build!(g, admin.streaks().restore(g.strings())),
        34 => build!(g, admin.streaks().reset(g.strings())),
        35 => build!(g, admin.streaks().settings().get()),
        36 => {
            let mut b = admin.streaks().settings().update();
            setters!(g, b; frequency(e), evaluation_mode(e), customization_enabled(b), days_off(days));
            repeated!(g, b; metric(s, u64));
            setters!(g, b; freezes(freeze_rules), disable_freezes());
            build!(g, b)
        }
        37 => build!(g, admin.settings().get()),
        38 => {
            let mut b = admin.settings().update();
            setters!(g, b; app_name(s), app_url(s), brand_color(s), font(e), logo_url(s), clear_logo(), app_icon_url(s), clear_app_icon(), control_ratio(u32), user_activation_window(u32), aggregation_period(e));
            build!(g, b)
        }
        39 => build!(g, admin.environments().list()),
        // Admin API: the nine bulk resources, five operations each.
        _ => {
            let (resource, k) = ((op - CRUD_START) / 5, (op - CRUD_START) % 5);
            match resource {
                0 => crud!(
                    g,
                    k,
                    admin.achievements(),
                    Gen::new_achievement,
                    Gen::achievement_update
                ),
                1 => crud!(
                    g,
                    k,
                    admin.metrics(),
                    |g: &mut Gen| {
                        let mut m = NewMetric::new(g.s(), g.s());
                        setters!(g, m; unit_type(e), units(s));
                        m
                    },
                    |g: &mut Gen| {
                        let mut m = MetricUpdate::new(g.s());
                        setters!(g, m; name(s), unit_type(e), units(s));
                        m
                    }
                ),
                2 => crud!(
                    g,
                    k,
                    admin.attributes(),
                    |g: &mut Gen| NewAttribute::new(g.s(), g.s(), g.s()),
                    |g: &mut Gen| {
                        let mut a = AttributeUpdate::new(g.s());
                        setters!(g, a; name(s));
                        a
                    }
                ),
                3 => crud!(
                    g,
                    k,
                    admin.points().systems(),
                    |g: &mut Gen| {
                        let mut p = NewPointsSystem::new(g.s(), g.s());
                        setters!(g, p; description(s), badge_url(s), max_points(i64), clear_max_points());
                        if g.maybe() {
                            p = p.levels(g.list(Gen::new_level));
                        }
                        if g.maybe() {
                            p = p.boosts(g.list(Gen::new_boost));
                        }
                        if g.maybe() {
                            p = p.triggers(g.list(Gen::new_trigger));
                        }
                        p
                    },
                    |g: &mut Gen| {
                        let mut p = PointsSystemUpdate::new(g.s());
                        setters!(g, p; name(s), description(s), badge_url(s), clear_badge(), max_points(i64), clear_max_points());
                        p
                    }
                ),
                4 => crud!(g, k, admin.points().levels(g.s()), Gen::new_level, |g: &mut Gen| {
                    let mut l = PointsLevelUpdate::new(g.s());
                    setters!(g, l; name(s), points(i64), description(s), badge_url(s), clear_badge());
                    l
                }),
                5 => crud!(g, k, admin.points().boosts(g.s()), Gen::new_boost, |g: &mut Gen| {
                    let mut b = PointsBoostUpdate::new(g.s());
                    setters!(g, b; name(s), start(date), end(date), clear_end(), multiplier(f64), rounding(e));
                    repeated!(g, b; user_attribute(s, s));
                    setters!(g, b; clear_user_attributes());
                    b
                }),
                6 => crud!(
                    g,
                    k,
                    admin.points().triggers(g.s()),
                    Gen::new_trigger,
                    Gen::trigger_update
                ),
                7 => crud!(
                    g,
                    k,
                    admin.leaderboards(),
                    Gen::new_leaderboard,
                    Gen::leaderboard_update
                ),
                8 => crud!(
                    g,
                    k,
                    admin.tenants(),
                    |g: &mut Gen| NewTenant::new(g.s()).customer_id(g.s()),
                    |g: &mut Gen| {
                        let mut t = TenantUpdate::new(g.s());
                        setters!(g, t; customer_id(s), name(s));
                        t
                    }
                ),
                _ => unreachable!("no builder {op}: BUILDERS is {BUILDERS}"),
            }
        }
    }
}

#[derive(Default)]
struct Stats {
    built: u64,
    invalid: u64,
    /// Per builder: (built, refused).
    per_builder: BTreeMap<usize, (u64, u64)>,
    /// Per builder: the operations its built requests named.
    operations: BTreeMap<usize, BTreeSet<&'static str>>,
}

/// Checks the outcome of one build.
fn check(op: usize, outcome: trophy::Result<BuiltRequest>, own_content_type: bool, stats: &mut Stats) {
    let counts = stats.per_builder.entry(op).or_default();
    match outcome {
        Ok(req) => {
            stats.built += 1;
            counts.0 += 1;
            stats.operations.entry(op).or_default().insert(req.operation);
            let base = if req.url.starts_with(ADMIN_URL) {
                ADMIN_URL
            } else {
                APP_URL
            };
            assert!(req.url.starts_with(base), "{}: {}", req.operation, req.url);
            assert!(
                !req.url.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{}: raw space or control character in {:?}",
                req.operation,
                req.url
            );
            // The path stays below the base: no dot segment reached the URL.
            let path = req.url[base.len()..].split(['?', '#']).next().unwrap_or("");
            assert!(path.starts_with('/'), "{}: {}", req.operation, req.url);
            assert!(
                !path.split('/').any(|seg| seg == "." || seg == ".."),
                "{}: {}",
                req.operation,
                req.url
            );
            assert!(req.headers.contains_key("x-api-key"), "{}", req.operation);
            assert!(req.headers.contains_key("x-sdk-version"), "{}", req.operation);
            let content_types: Vec<_> = req
                .headers
                .get_all("content-type")
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            match &req.body {
                Some(body) => {
                    // One `Content-Type`: JSON, unless the call set its own.
                    assert_eq!(content_types.len(), 1, "{}", req.operation);
                    assert!(
                        own_content_type || content_types[0] == b"application/json",
                        "{}",
                        req.operation
                    );
                    if let Err(e) = serde_json::from_slice::<serde_json::Value>(body) {
                        panic!("{}: body is not JSON ({e})", req.operation);
                    }
                }
                None => assert!(own_content_type || content_types.is_empty(), "{}", req.operation),
            }
        }
        Err(Error::InvalidInput(e)) => {
            stats.invalid += 1;
            counts.1 += 1;
            assert!(!e.field.is_empty() && !e.reason.is_empty(), "{e:?}");
        }
        Err(other) => panic!("builder {op}: expected a request or InvalidInput, got {other:?}"),
    }
}

fn run(iterations: u64, seed: u64) -> Stats {
    let client = Client::builder()
        .api_key("sk_fuzz_admin_key")
        .api_url(APP_URL)
        .admin_url(ADMIN_URL)
        .build()
        .unwrap();
    let mut g = Gen(Rng::new(seed), false);
    let mut stats = Stats::default();
    let budget = alloc_budget(ALLOC_BUDGET);
    for iteration in 0..iterations {
        let op = (iteration % BUILDERS as u64) as usize;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let built = bounded(budget, || build(&client, &mut g, op));
            check(op, built, g.1, &mut stats);
        }));
        if outcome.is_err() {
            panic!("panic at iteration {iteration} (builder {op}, seed {seed:#x})");
        }
    }
    stats
}

#[test]
fn request_building_fuzz_short() {
    let _turn = exclusive();
    let stats = run(20 * BUILDERS as u64 * 10, 3);
    assert_eq!(stats.built + stats.invalid, 20 * BUILDERS as u64 * 10);
    // The generator reaches both outcomes on every builder.
    assert_eq!(stats.per_builder.len(), BUILDERS);
    for (op, (built, refused)) in &stats.per_builder {
        assert!(*built > 0, "builder {op} never built a request");
        assert!(*refused > 0, "builder {op} never refused its input");
    }
    // Each builder is one operation, and no two builders the same one.
    let mut seen = BTreeMap::new();
    for (op, names) in &stats.operations {
        assert_eq!(names.len(), 1, "builder {op} built requests of {names:?}");
        let name = names.first().unwrap();
        if let Some(other) = seen.insert(*name, op) {
            panic!("builders {other} and {op} both build {name}");
        }
    }
    assert_eq!(seen.len(), BUILDERS);
    let app = seen.values().filter(|op| ***op < APP_BUILDERS).count();
    assert_eq!(app, 27, "Application API builders");
    assert!(seen
        .iter()
        .all(|(name, op)| (**op < APP_BUILDERS) != name.starts_with("admin_")));
}

/// The lines of every `.rs` file under `dir`, with the file's name.
fn source_lines(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_lines(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            out.extend(text.lines().map(|l| (name.clone(), l.trim().to_owned())));
        }
    }
}

/// Every operation builder of the SDK is one `operation!` invocation under `src/api`, or one
/// of the builders each `crud!` invocation makes (as many as the macro's definition in
/// `crud.rs` invokes `operation!`): `BUILDERS` must be their number, so a builder added to
/// the SDK without an arm in `build` fails here.
#[test]
fn every_builder_of_the_sdk_is_fuzzed() {
    let mut lines = Vec::new();
    source_lines(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"), &mut lines);
    let direct = lines
        .iter()
        .filter(|(_, l)| l.starts_with("operation!(") || l.starts_with("crate::request::operation!("))
        .count();
    let per_crud = lines
        .iter()
        .filter(|(file, l)| file == "crud.rs" && l.starts_with("$crate::request::operation!($"))
        .count();
    let cruds = lines.iter().filter(|(_, l)| l == "crud! {").count();
    assert_eq!((per_crud, cruds), (5, 9), "the five operations of each bulk resource");
    assert_eq!(
        direct + cruds * per_crud,
        BUILDERS,
        "{direct} operation! + {cruds} crud! x {per_crud}"
    );
}

#[test]
#[ignore = "long: run with --release -- --ignored"]
fn request_building_fuzz_long() {
    let r = long_run(0x0b11_d3e5, run);
    println!(
        "fuzzed {} requests through {BUILDERS} builders (seed {:#x}) in {:.1?} ({:.0}/s): \
         {} built, {} refused with InvalidInput, no panic; {}",
        r.iterations,
        r.seed,
        r.elapsed,
        r.rate(),
        r.stats.built,
        r.stats.invalid,
        r.heap,
    );
    assert_eq!(r.stats.built + r.stats.invalid, r.iterations);
}
