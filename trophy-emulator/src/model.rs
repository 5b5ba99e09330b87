//! The in-memory state of one tenant and the rules that change it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::seed::Seed;
pub(crate) use crate::values::{fmt_date, fmt_dt, new_id, parse_date, valid_key, Freq, MAX_PERIOD_STEPS};

/// A change to a nullable field: leave, clear or set.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Patch<T> {
    Keep,
    Clear,
    Set(T),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Metric {
    pub id: String,
    pub key: String,
    pub name: String,
    pub unit_type: String,
    pub units: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Attribute {
    pub id: String,
    pub key: String,
    pub name: String,
    pub kind: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Level {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub badge: Option<String>,
    pub points: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Boost {
    pub id: String,
    pub name: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub multiplier: f64,
    pub rounding: String,
    pub user_id: Option<String>,
    /// (attribute ID, value) pairs.
    pub user_attributes: Vec<(String, String)>,
}

impl Boost {
    pub(crate) fn status(&self, today: NaiveDate) -> &'static str {
        if self.start > today {
            "scheduled"
        } else if self.end.is_some_and(|e| e < today) {
            "finished"
        } else {
            "active"
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Trigger {
    pub id: String,
    pub kind: String,
    pub points: i64,
    pub status: String,
    pub user_attributes: Vec<(String, String)>,
    pub metric_id: Option<String>,
    pub metric_threshold: Option<i64>,
    pub event_attributes: Vec<(String, String)>,
    pub achievement_id: Option<String>,
    pub streak_length: Option<i64>,
    pub time_unit: Option<String>,
    pub time_interval: Option<i64>,
    pub block_if_out_of_points: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PointsSystem {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub badge: Option<String>,
    pub max_points: Option<i64>,
    pub levels: Vec<Level>,
    pub boosts: Vec<Boost>,
    pub triggers: Vec<Trigger>,
}

impl PointsSystem {
    /// The highest level whose threshold `total` reaches.
    pub(crate) fn level_for(&self, total: i64) -> Option<&Level> {
        self.levels
            .iter()
            .filter(|l| l.points <= total)
            .max_by_key(|l| l.points)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Leaderboard {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub rank_by: String,
    pub metric_id: Option<String>,
    pub points_system_id: Option<String>,
    pub max_participants: Option<i64>,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub breakdown_attributes: Vec<String>,
    pub run_unit: Option<String>,
    pub run_interval: Option<i64>,
    /// (attribute ID, value) conditions a user must meet to be ranked.
    pub user_attributes: Vec<(String, String)>,
}

impl Leaderboard {
    /// Whether the Application API shows it (inactive leaderboards are hidden).
    pub(crate) fn exposed(&self) -> bool {
        self.status != "inactive"
    }

    /// The status shown by the Application API.
    pub(crate) fn app_status(&self, today: NaiveDate) -> &'static str {
        if self.status == "finished" || self.end.is_some_and(|e| e < today) {
            "finished"
        } else if self.start > today {
            "scheduled"
        } else {
            "active"
        }
    }

    fn add_units(&self, d: NaiveDate, units: u32) -> Option<NaiveDate> {
        match self.run_unit.as_deref() {
            Some("day") => d.checked_add_signed(Duration::days(i64::from(units))),
            Some("month") => d.checked_add_months(Months::new(units)),
            Some("year") => d.checked_add_months(Months::new(units.checked_mul(12)?)),
            _ => None,
        }
    }

    /// The run (start, end) containing `date`; the whole leaderboard when it does not repeat.
    pub(crate) fn run_for(&self, date: NaiveDate) -> (NaiveDate, Option<NaiveDate>) {
        let interval = self.run_interval.unwrap_or(1).clamp(1, 100_000) as u32;
        let unit = match self.run_unit.as_deref() {
            Some(u @ ("day" | "month" | "year")) => u,
            _ => return (self.start, self.end),
        };
        if date <= self.start {
            let end = self.add_units(self.start, interval).and_then(|d| d.pred_opt());
            return (self.start, min_end(end, self.end));
        }
        let elapsed: i64 = match unit {
            "day" => (date - self.start).num_days(),
            _ => {
                let mut months = i64::from(date.year() - self.start.year()) * 12 + i64::from(date.month())
                    - i64::from(self.start.month());
                if date.day() < self.start.day() {
                    months -= 1;
                }
                if unit == "year" {
                    months / 12
                } else {
                    months
                }
            }
        };
        let k = (elapsed / i64::from(interval)).max(0);
        let offset = u32::try_from(k.saturating_mul(i64::from(interval))).unwrap_or(u32::MAX);
        let start = self.add_units(self.start, offset).unwrap_or(self.start);
        let end = self.add_units(start, interval).and_then(|d| d.pred_opt());
        (start, min_end(end, self.end))
    }
}

fn min_end(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Achievement {
    pub id: String,
    /// Needed by `api` achievements only.
    pub key: Option<String>,
    pub name: String,
    pub trigger: String,
    /// `active` (earnable, listed), `locked` (listed, not earnable) or `inactive` (neither).
    pub status: String,
    pub description: Option<String>,
    pub badge_url: Option<String>,
    pub metric_key: Option<String>,
    pub metric_value: Option<f64>,
    pub streak_length: Option<i64>,
    pub anniversary_years: Option<i64>,
    /// The achievements (by ID) an `achievement` achievement needs.
    pub achievement_ids: Vec<String>,
    /// (attribute ID, value) conditions a user must meet to earn it.
    pub user_attributes: Vec<(String, String)>,
    /// (attribute ID, value) conditions the events counted by a metric achievement must meet.
    pub event_attributes: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EventRec {
    pub metric_id: String,
    pub value: f64,
    pub at: DateTime<Utc>,
    /// Event attributes by key.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AwardRec {
    pub id: String,
    pub awarded: i64,
    pub total: i64,
    pub at: DateTime<Utc>,
    /// The trigger as it stood when it awarded the points.
    pub trigger: TriggerSnapshot,
    /// The boosts applied, as they stood then.
    pub boosts: Vec<BoostSnapshot>,
}

/// A trigger captured when it awarded points, with the names it referred to at that moment (an
/// award keeps showing them after the metric, achievement or attribute changes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TriggerSnapshot {
    pub trigger: Trigger,
    pub metric_name: Option<String>,
    pub achievement_name: Option<String>,
    /// (attribute key, value) of the user attribute conditions.
    pub user_attributes: Vec<(String, String)>,
    /// (attribute key, value) of the event attribute conditions.
    pub event_attributes: Vec<(String, String)>,
}

/// A boost captured when it applied to an award, with its status then.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct BoostSnapshot {
    pub boost: Boost,
    pub status: &'static str,
}

impl BoostSnapshot {
    pub(crate) fn of(boost: &Boost, today: NaiveDate) -> BoostSnapshot {
        BoostSnapshot {
            boost: boost.clone(),
            status: boost.status(today),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct UserPoints {
    pub total: i64,
    pub awards: Vec<AwardRec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Bridge {
    Freeze,
    Restore,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LbEventRec {
    pub at: DateTime<Utc>,
    pub previous_rank: Option<i64>,
    pub rank: Option<i64>,
    pub previous_value: Option<i64>,
    pub value: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct User {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub tz: Option<String>,
    pub device_tokens: Option<Vec<String>>,
    pub subscribe_to_emails: bool,
    pub attributes: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Metric ID to total.
    pub totals: BTreeMap<String, f64>,
    pub events: Vec<EventRec>,
    /// Achievement ID to (completion ID, time).
    pub achievements: BTreeMap<String, (String, DateTime<Utc>)>,
    /// Points system ID to points.
    pub points: BTreeMap<String, UserPoints>,
    pub freezes: i64,
    pub bridged: BTreeMap<NaiveDate, Bridge>,
    pub notifications: serde_json::Map<String, Value>,
    pub streak_prefs: Option<Value>,
    /// Leaderboard ID to rank changes.
    pub lb_history: BTreeMap<String, Vec<LbEventRec>>,
    pub sign_up_date: Option<NaiveDate>,
    /// In the control group (assigned at creation from the settings' control ratio).
    pub control: bool,
    /// When the streak was last reset through the Admin API, and how many events the user had
    /// then: those no longer count (by position, so that a frozen clock keeps the order).
    pub streak_reset: Option<(DateTime<Utc>, usize)>,
}

/// User fields sent with a request.
#[derive(Clone, Debug)]
pub(crate) struct UserInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub tz: Patch<String>,
    pub device_tokens: Patch<Vec<String>>,
    pub subscribe_to_emails: Option<bool>,
    pub attributes: BTreeMap<String, String>,
    /// `signUpDate` as sent: a date, or a date-time whose date is taken.
    pub sign_up_date: Option<String>,
}

impl UserInput {
    /// Reads user fields from a JSON object already validated against a generated type.
    pub(crate) fn from_json(raw: &Value) -> UserInput {
        let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_string);
        let tz = match raw.get("tz") {
            None => Patch::Keep,
            Some(Value::Null) => Patch::Clear,
            Some(v) => v.as_str().map_or(Patch::Keep, |s| Patch::Set(s.to_string())),
        };
        let device_tokens = match raw.get("deviceTokens") {
            None => Patch::Keep,
            Some(Value::Null) => Patch::Clear,
            Some(Value::Array(items)) => {
                Patch::Set(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            }
            Some(_) => Patch::Keep,
        };
        let attributes = raw
            .get("attributes")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        UserInput {
            email: s("email"),
            name: s("name"),
            tz,
            device_tokens,
            subscribe_to_emails: raw.get("subscribeToEmails").and_then(Value::as_bool),
            attributes,
            sign_up_date: s("signUpDate"),
        }
    }

    /// The sign-up date sent, if any and valid.
    fn sign_up(&self) -> Option<NaiveDate> {
        self.sign_up_date.as_deref().and_then(|s| parse_date(s.get(..10)?))
    }

    /// Checks values the types do not constrain; returns a message for a 422.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(e) = &self.email {
            if !e.is_empty() && !e.contains('@') {
                return Err(format!("invalid email address {e:?}"));
            }
        }
        if self.sign_up_date.is_some() && self.sign_up().is_none() {
            return Err(format!(
                "invalid signUpDate {:?} (a date YYYY-MM-DD or a date-time)",
                self.sign_up_date.as_deref().unwrap_or_default()
            ));
        }
        if let Patch::Set(tz) = &self.tz {
            let ok =
                !tz.is_empty() && tz.len() <= 64 && tz.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
            if !ok {
                return Err(format!("invalid time zone {tz:?}"));
            }
        }
        Ok(())
    }
}

/// Checks a user ID; returns a message for a 400.
pub(crate) fn validate_user_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        Err("user id must not be empty".into())
    } else if id.len() > 255 {
        Err("user id must be at most 255 characters".into())
    } else {
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pause {
    pub id: String,
    pub user_id: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StreakConfig {
    pub freq: Freq,
    pub max_freezes: i64,
    pub initial_freezes: i64,
    pub auto_earn_interval: Option<i64>,
    pub auto_earn_amount: Option<i64>,
    /// False once the streak settings turned freezes off: nobody holds or uses freezes.
    pub freezes_enabled: bool,
    /// `OR` or `AND`: how the metric thresholds combine.
    pub evaluation_mode: String,
    pub customization_enabled: bool,
    /// Weekdays (0 = Sunday) on which a daily streak cannot be lost.
    pub days_off: Vec<u32>,
    /// (metric key, threshold): what a period needs to count; none means any event counts.
    pub metrics: Vec<(String, i64)>,
}

/// The state of one tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub metrics: Vec<Metric>,
    pub attributes: Vec<Attribute>,
    pub systems: Vec<PointsSystem>,
    pub leaderboards: Vec<Leaderboard>,
    pub achievements: Vec<Achievement>,
    pub users: BTreeMap<String, User>,
    pub pauses: Vec<Pause>,
    /// (user ID, metric ID, idempotency key) to the original response body.
    #[serde(with = "idempotency_entries")]
    pub idempotency: HashMap<(String, String, String), Value>,
    pub streak: StreakConfig,
    /// The organisation settings (`AdminSettings`), as the Admin API shows them.
    pub settings: Value,
    /// Metric events answered as idempotent replays (nothing changed).
    pub replayed: u64,
}

/// What one request changed, for its response.
#[derive(Default)]
pub(crate) struct Outcome {
    /// (points system ID, award) in order.
    pub awards: Vec<(String, AwardRec)>,
    /// Achievement IDs completed, in order.
    pub completed: Vec<String>,
}

impl State {
    /// A fresh tenant state from a seed.
    pub(crate) fn from_seed(seed: &Seed) -> State {
        let ids: Vec<String> = seed
            .achievements
            .iter()
            .map(|a| a.id.clone().unwrap_or_else(new_id))
            .collect();
        let id_of_key = |k: &String| {
            seed.achievements
                .iter()
                .position(|a| &a.key == k)
                .map(|i| ids[i].clone())
        };
        let achievements = seed
            .achievements
            .iter()
            .zip(&ids)
            .map(|(a, id)| Achievement {
                id: id.clone(),
                key: Some(a.key.clone()),
                name: a.name.clone(),
                trigger: a.trigger.clone(),
                status: "active".into(),
                description: a.description.clone(),
                badge_url: a.badge_url.clone(),
                metric_key: a.metric_key.clone(),
                metric_value: a.metric_value,
                streak_length: a.streak_length,
                anniversary_years: None,
                achievement_ids: a.achievement_keys.iter().filter_map(id_of_key).collect(),
                user_attributes: Vec::new(),
                event_attributes: Vec::new(),
            })
            .collect();
        let metrics = seed
            .metrics
            .iter()
            .map(|m| Metric {
                id: m.id.clone().unwrap_or_else(new_id),
                key: m.key.clone(),
                name: m.name.clone(),
                unit_type: m.unit_type.clone().unwrap_or_else(|| "number".into()),
                units: m.units.clone().unwrap_or_default(),
            })
            .collect();
        let attributes = seed
            .attributes
            .iter()
            .map(|a| Attribute {
                id: a.id.clone().unwrap_or_else(new_id),
                key: a.key.clone(),
                name: a.name.clone(),
                kind: a.kind.clone(),
            })
            .collect();
        State {
            metrics,
            attributes,
            systems: Vec::new(),
            leaderboards: Vec::new(),
            achievements,
            users: BTreeMap::new(),
            pauses: Vec::new(),
            idempotency: HashMap::new(),
            replayed: 0,
            streak: StreakConfig {
                freq: Freq::parse(&seed.streak.frequency).unwrap_or(Freq::Daily),
                max_freezes: seed.streak.max_freezes,
                initial_freezes: seed.streak.initial_freezes,
                auto_earn_interval: seed.streak.freeze_auto_earn_interval,
                auto_earn_amount: seed.streak.freeze_auto_earn_amount,
                freezes_enabled: true,
                evaluation_mode: "OR".into(),
                customization_enabled: false,
                days_off: Vec::new(),
                metrics: Vec::new(),
            },
            settings: serde_json::json!({
                "branding": {"appName": "Trophy emulator", "appUrl": "http://localhost",
                             "brandColor": "#000000", "font": "MODERN_SANS", "logo": null, "appIcon": null},
                "experimentation": {"controlRatio": 0, "userActivationWindow": 7},
                "aggregationPeriod": "weekly",
            }),
        }
    }

    /// The freezes a user can use: none when freezes are off, at most the maximum otherwise.
    pub(crate) fn usable_freezes(&self, user: &User) -> i64 {
        if self.streak.freezes_enabled {
            user.freezes.min(self.streak.max_freezes)
        } else {
            0
        }
    }

    /// Whether the user may earn the achievement now: it is active and the user meets its
    /// user attribute conditions.
    pub(crate) fn earnable(&self, a: &Achievement, user: &User) -> bool {
        a.status == "active" && self.user_matches_filters(user, &a.user_attributes)
    }

    pub(crate) fn metric_by_key(&self, key: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.key == key)
    }

    pub(crate) fn metric_by_id(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    pub(crate) fn system_by_key(&self, key: &str) -> Option<&PointsSystem> {
        self.systems.iter().find(|s| s.key == key)
    }

    pub(crate) fn system_by_id(&self, id: &str) -> Option<&PointsSystem> {
        self.systems.iter().find(|s| s.id == id)
    }

    pub(crate) fn achievement_by_key(&self, key: &str) -> Option<&Achievement> {
        self.achievements.iter().find(|a| a.key.as_deref() == Some(key))
    }

    pub(crate) fn achievement_by_id(&self, id: &str) -> Option<&Achievement> {
        self.achievements.iter().find(|a| a.id == id)
    }

    /// A trigger with the names it refers to now.
    pub(crate) fn trigger_snapshot(&self, t: &Trigger) -> TriggerSnapshot {
        let keys = |filters: &[(String, String)]| -> Vec<(String, String)> {
            filters
                .iter()
                .map(|(id, v)| (self.attribute_key(id).unwrap_or(id).to_string(), v.clone()))
                .collect()
        };
        TriggerSnapshot {
            trigger: t.clone(),
            metric_name: t
                .metric_id
                .as_deref()
                .and_then(|m| self.metric_by_id(m))
                .map(|m| m.name.clone()),
            achievement_name: t
                .achievement_id
                .as_deref()
                .and_then(|a| self.achievement_by_id(a))
                .map(|a| a.name.clone()),
            user_attributes: keys(&t.user_attributes),
            event_attributes: keys(&t.event_attributes),
        }
    }

    pub(crate) fn attribute_key(&self, id: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.id == id).map(|a| a.key.as_str())
    }

    /// Whether the user's attributes match every (attribute ID, value) filter.
    pub(crate) fn user_matches_filters(&self, user: &User, filters: &[(String, String)]) -> bool {
        filters.iter().all(|(attr_id, value)| {
            self.attribute_key(attr_id)
                .and_then(|k| user.attributes.get(k))
                .is_some_and(|v| v == value)
        })
    }

    /// Whether the event attributes match every (attribute ID, value) filter.
    pub(crate) fn event_matches_filters(&self, attrs: &BTreeMap<String, String>, filters: &[(String, String)]) -> bool {
        filters.iter().all(|(attr_id, value)| {
            self.attribute_key(attr_id)
                .and_then(|k| attrs.get(k))
                .is_some_and(|v| v == value)
        })
    }

    // ----- users -----------------------------------------------------------------------------

    /// Creates or updates a user; returns whether it was created. New users get the
    /// `user_creation` points.
    pub(crate) fn upsert_user(&mut self, id: &str, input: &UserInput, now: DateTime<Utc>, out: &mut Outcome) -> bool {
        let created = !self.users.contains_key(id);
        if created {
            let mut notifications = serde_json::Map::new();
            for k in ["achievement_completed", "recap", "reactivation", "streak_reminder"] {
                notifications.insert(k.into(), serde_json::json!(["email"]));
            }
            self.users.insert(
                id.to_string(),
                User {
                    id: id.to_string(),
                    email: None,
                    name: None,
                    tz: None,
                    device_tokens: None,
                    subscribe_to_emails: true,
                    attributes: BTreeMap::new(),
                    created: now,
                    updated: now,
                    totals: BTreeMap::new(),
                    events: Vec::new(),
                    achievements: BTreeMap::new(),
                    points: BTreeMap::new(),
                    freezes: self.streak.initial_freezes,
                    bridged: BTreeMap::new(),
                    notifications,
                    streak_prefs: None,
                    lb_history: BTreeMap::new(),
                    sign_up_date: None,
                    control: in_control_group(id, &self.settings),
                    streak_reset: None,
                },
            );
        }
        if let Some(u) = self.users.get_mut(id) {
            if let Some(e) = &input.email {
                u.email = Some(e.clone());
            }
            if let Some(n) = &input.name {
                u.name = Some(n.clone());
            }
            match &input.tz {
                Patch::Keep => {}
                Patch::Clear => u.tz = None,
                Patch::Set(t) => u.tz = Some(t.clone()),
            }
            match &input.device_tokens {
                Patch::Keep => {}
                Patch::Clear => u.device_tokens = None,
                Patch::Set(t) => u.device_tokens = Some(t.clone()),
            }
            if let Some(s) = input.subscribe_to_emails {
                u.subscribe_to_emails = s;
            }
            for (k, v) in &input.attributes {
                u.attributes.insert(k.clone(), v.clone());
            }
            if let Some(d) = input.sign_up() {
                u.sign_up_date = Some(d);
            }
            u.updated = now;
        }
        if created {
            let triggers: Vec<(usize, Trigger)> = self.active_triggers(|t| t.kind == "user_creation");
            for (si, t) in triggers {
                self.award(id, si, &t, t.points, now, None, out);
            }
        }
        // A sign-up date can complete anniversary achievements at once.
        self.check_achievements(id, now, out);
        created
    }

    // ----- points ----------------------------------------------------------------------------

    /// Active triggers matching `pred`, with the index of their system.
    fn active_triggers(&self, pred: impl Fn(&Trigger) -> bool) -> Vec<(usize, Trigger)> {
        let mut v = Vec::new();
        for (si, s) in self.systems.iter().enumerate() {
            for t in &s.triggers {
                if t.status == "active" && pred(t) {
                    v.push((si, t.clone()));
                }
            }
        }
        v
    }

    /// Awards points of one trigger, applying filters, boosts, the floor of zero and maxPoints.
    #[allow(clippy::too_many_arguments)]
    fn award(
        &mut self,
        user_id: &str,
        si: usize,
        trigger: &Trigger,
        base: i64,
        now: DateTime<Utc>,
        event_attrs: Option<&BTreeMap<String, String>>,
        out: &mut Outcome,
    ) {
        let today = now.date_naive();
        let Some(user) = self.users.get(user_id) else {
            return;
        };
        let Some(system) = self.systems.get(si) else {
            return;
        };
        if !self.user_matches_filters(user, &trigger.user_attributes) {
            return;
        }
        if let Some(attrs) = event_attrs {
            if !self.event_matches_filters(attrs, &trigger.event_attributes) {
                return;
            }
        }
        let mut points = base;
        let mut boosts = Vec::new();
        for b in &system.boosts {
            let applies = b.status(today) == "active"
                && b.user_id.as_ref().is_none_or(|u| u == user_id)
                && self.user_matches_filters(user, &b.user_attributes);
            if applies {
                let raw = points as f64 * b.multiplier;
                points = match b.rounding.as_str() {
                    "up" => raw.ceil(),
                    "nearest" => raw.round(),
                    _ => raw.floor(),
                } as i64;
                boosts.push(BoostSnapshot::of(b, today));
            }
        }
        let current = user.points.get(&system.id).map_or(0, |p| p.total);
        if current.saturating_add(points) < 0 {
            if trigger.block_if_out_of_points {
                return;
            }
            points = -current;
        }
        if let Some(max) = system.max_points {
            if current.saturating_add(points) > max {
                points = (max - current).max(0);
            }
        }
        if points == 0 {
            return;
        }
        let trigger_snapshot = self.trigger_snapshot(trigger);
        let system_id = system.id.clone();
        let Some(user) = self.users.get_mut(user_id) else {
            return;
        };
        let entry = user.points.entry(system_id.clone()).or_default();
        entry.total = entry.total.saturating_add(points);
        let rec = AwardRec {
            id: new_id(),
            awarded: points,
            total: entry.total,
            at: now,
            trigger: trigger_snapshot,
            boosts,
        };
        entry.awards.push(rec.clone());
        out.awards.push((system_id, rec));
    }

    // ----- achievements ----------------------------------------------------------------------

    /// Completes an achievement for a user unless already completed; awards its points and
    /// completes achievements that depend on it. Returns whether it was newly completed.
    pub(crate) fn complete_achievement(
        &mut self,
        user_id: &str,
        achievement_id: &str,
        now: DateTime<Utc>,
        out: &mut Outcome,
    ) -> bool {
        let Some(user) = self.users.get_mut(user_id) else {
            return false;
        };
        if user.achievements.contains_key(achievement_id) {
            return false;
        }
        user.achievements.insert(achievement_id.to_string(), (new_id(), now));
        out.completed.push(achievement_id.to_string());
        let triggers =
            self.active_triggers(|t| t.kind == "achievement" && t.achievement_id.as_deref() == Some(achievement_id));
        for (si, t) in triggers {
            self.award(user_id, si, &t, t.points, now, None, out);
        }
        // Achievements completed by completing others.
        let Some(user) = self.users.get(user_id) else {
            return true;
        };
        let dependants: Vec<String> = self
            .achievements
            .iter()
            .filter(|a| a.trigger == "achievement" && self.earnable(a, user))
            .filter(|a| a.achievement_ids.iter().all(|d| user.achievements.contains_key(d)))
            .map(|a| a.id.clone())
            .collect();
        for id in dependants {
            self.complete_achievement(user_id, &id, now, out);
        }
        true
    }

    /// Completes the metric, streak and anniversary achievements the user now qualifies for.
    fn check_achievements(&mut self, user_id: &str, now: DateTime<Utc>, out: &mut Outcome) {
        let today = now.date_naive();
        let streak_len = self.streak_view(user_id, today).length;
        let Some(user) = self.users.get(user_id) else {
            return;
        };
        let due: Vec<String> = self
            .achievements
            .iter()
            .filter(|a| !user.achievements.contains_key(&a.id) && self.earnable(a, user))
            .filter(|a| match a.trigger.as_str() {
                "metric" => {
                    let total = a.metric_key.as_deref().and_then(|k| self.metric_by_key(k)).map(|m| {
                        user.events
                            .iter()
                            .filter(|e| e.metric_id == m.id)
                            .filter(|e| self.event_matches_filters(&e.attributes, &a.event_attributes))
                            .map(|e| e.value)
                            .sum::<f64>()
                    });
                    matches!((total, a.metric_value), (Some(t), Some(v)) if t >= v)
                }
                "streak" => a.streak_length.is_some_and(|l| streak_len >= l),
                "anniversary" => match (user.sign_up_date, a.anniversary_years) {
                    (Some(d), Some(y)) => u32::try_from(y)
                        .ok()
                        .and_then(|y| d.checked_add_months(chrono::Months::new(y.saturating_mul(12))))
                        .is_some_and(|due| due <= today),
                    _ => false,
                },
                _ => false,
            })
            .map(|a| a.id.clone())
            .collect();
        for id in due {
            self.complete_achievement(user_id, &id, now, out);
        }
    }

    // ----- streaks ---------------------------------------------------------------------------

    /// The user's streak as of `today`, applying freezes virtually.
    pub(crate) fn streak_view(&self, user_id: &str, today: NaiveDate) -> StreakView {
        match self.users.get(user_id) {
            Some(u) => StreakCalc::new(self, u, today).view(today, self.usable_freezes(u)),
            None => StreakView::zero(0),
        }
    }

    /// Restores a lost streak; `Err` explains why it cannot be.
    pub(crate) fn restore_streak(&mut self, user_id: &str, today: NaiveDate) -> Result<(), String> {
        let Some(user) = self.users.get(user_id) else {
            return Err("user not found".into());
        };
        let calc = StreakCalc::new(self, user, today);
        if calc.view(today, self.usable_freezes(user)).length > 0 {
            return Err("the user's streak is not lost".into());
        }
        let freq = self.streak.freq;
        let p = freq.start(today);
        let Some(&last) = calc.active.range(..p).next_back() else {
            return Err("the user has no streak to restore".into());
        };
        let mut fill = Vec::new();
        let mut q = freq.next(last);
        let mut steps = 0;
        while q < p && steps < MAX_PERIOD_STEPS {
            if !calc.covered(q) {
                fill.push(q);
            }
            q = freq.next(q);
            steps += 1;
        }
        if let Some(u) = self.users.get_mut(user_id) {
            for q in fill {
                u.bridged.insert(q, Bridge::Restore);
            }
        }
        Ok(())
    }

    // ----- leaderboards ----------------------------------------------------------------------

    /// Rankings of a leaderboard for the run `(start, end)`, optionally filtered by user
    /// attribute (key, value) pairs. Competition ranking: ties share a rank, ordered by user ID.
    pub(crate) fn rankings(
        &self,
        lb: &Leaderboard,
        run: (NaiveDate, Option<NaiveDate>),
        filter: &[(String, String)],
        today: NaiveDate,
    ) -> Vec<Ranking> {
        let in_run = |d: NaiveDate| d >= run.0 && run.1.is_none_or(|e| d <= e);
        let mut values: Vec<(&User, i64)> = Vec::new();
        for u in self.users.values() {
            if !filter.iter().all(|(k, v)| u.attributes.get(k).is_some_and(|x| x == v))
                || !self.user_matches_filters(u, &lb.user_attributes)
            {
                continue;
            }
            let value = match lb.rank_by.as_str() {
                "metric" => {
                    let Some(mid) = &lb.metric_id else { continue };
                    let mut any = false;
                    let mut sum = 0.0;
                    for e in u
                        .events
                        .iter()
                        .filter(|e| &e.metric_id == mid && in_run(e.at.date_naive()))
                    {
                        any = true;
                        sum += e.value;
                    }
                    if !any {
                        continue;
                    }
                    sum.floor() as i64
                }
                "points" => {
                    let Some(sid) = &lb.points_system_id else { continue };
                    let Some(p) = u.points.get(sid) else { continue };
                    let mut any = false;
                    let mut sum = 0i64;
                    for a in p.awards.iter().filter(|a| in_run(a.at.date_naive())) {
                        any = true;
                        sum = sum.saturating_add(a.awarded);
                    }
                    if !any {
                        continue;
                    }
                    sum
                }
                "streak" => {
                    let l = StreakCalc::new(self, u, today)
                        .view(today, self.usable_freezes(u))
                        .length;
                    if l <= 0 {
                        continue;
                    }
                    l
                }
                _ => continue,
            };
            values.push((u, value));
        }
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
        let max = lb.max_participants.unwrap_or(i64::MAX).max(0);
        let mut out: Vec<Ranking> = Vec::new();
        for (i, (u, value)) in values.into_iter().enumerate() {
            if i as i64 >= max {
                break;
            }
            let rank = match out.last() {
                Some(prev) if prev.value == value => prev.rank,
                _ => i as i64 + 1,
            };
            out.push(Ranking {
                user_id: u.id.clone(),
                user_name: u.name.clone(),
                rank,
                value,
            });
        }
        out
    }

    /// The user's (rank, value) on a leaderboard's current run.
    pub(crate) fn standing(&self, lb: &Leaderboard, user_id: &str, today: NaiveDate) -> (Option<i64>, Option<i64>) {
        let run = lb.run_for(today);
        let r = self.rankings(lb, run, &[], today);
        r.iter()
            .find(|r| r.user_id == user_id)
            .map_or((None, None), |r| (Some(r.rank), Some(r.value)))
    }

    // ----- metric events ---------------------------------------------------------------------

    /// Applies a metric event of `metric` and everything it causes (idempotency is the
    /// caller's: see `events::record_event`).
    pub(crate) fn apply_event(
        &mut self,
        metric: &Metric,
        user_id: &str,
        user: &UserInput,
        value: f64,
        attributes: &BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<Applied, (u16, String)> {
        if !value.is_finite() {
            return Err((400, "value must be a finite number".into()));
        }
        let previous = self
            .users
            .get(user_id)
            .and_then(|u| u.totals.get(&metric.id).copied())
            .unwrap_or(0.0);
        if !(previous + value).is_finite() {
            return Err((422, "the metric total would overflow".into()));
        }
        let today = now.date_naive();
        let mut out = Outcome::default();
        self.upsert_user(user_id, user, now, &mut out);

        // Leaderboard standings before the event.
        let candidates: Vec<Leaderboard> = self
            .leaderboards
            .iter()
            .filter(|lb| lb.exposed() && lb.app_status(today) == "active")
            .cloned()
            .collect();
        let before: Vec<(Option<i64>, Option<i64>)> =
            candidates.iter().map(|lb| self.standing(lb, user_id, today)).collect();

        // Streak: commit freezes needed to bridge missed periods, then the event.
        let view_before = self.streak_view(user_id, today);
        let mut freezes_consumed = None;
        let old_total;
        let event_id = new_id();
        {
            let Some(u) = self.users.get_mut(user_id) else {
                return Err((500, "user vanished".into()));
            };
            if view_before.length > 0 && !view_before.to_freeze.is_empty() {
                for q in &view_before.to_freeze {
                    u.bridged.insert(*q, Bridge::Freeze);
                }
                u.freezes = view_before.freezes;
                freezes_consumed = Some((view_before.to_freeze.len() as i64, view_before.freezes));
            }
            old_total = u.totals.get(&metric.id).copied().unwrap_or(0.0);
            u.totals.insert(metric.id.clone(), old_total + value);
            u.events.push(EventRec {
                metric_id: metric.id.clone(),
                value,
                at: now,
                attributes: attributes.clone(),
            });
        }
        let new_total = old_total + value;
        let view = self.streak_view(user_id, today);
        let extended = !view_before.active_now && view.active_now;

        // Metric triggers: `points` per `metricThreshold` units of cumulative total.
        let metric_triggers =
            self.active_triggers(|t| t.kind == "metric" && t.metric_id.as_deref() == Some(&metric.id));
        for (si, t) in metric_triggers {
            let threshold = t.metric_threshold.unwrap_or(1).max(1) as f64;
            let crossed = (new_total / threshold).floor() - (old_total / threshold).floor();
            if crossed >= 1.0 {
                let times = crossed.min(1e9) as i64;
                self.award(
                    user_id,
                    si,
                    &t,
                    t.points.saturating_mul(times),
                    now,
                    Some(attributes),
                    &mut out,
                );
            }
        }
        // Streak triggers: every multiple of `streakLength` reached by an extension.
        if extended && view.length > 0 {
            let streak_triggers = self.active_triggers(|t| {
                t.kind == "streak" && t.streak_length.is_some_and(|l| l >= 1 && view.length % l == 0)
            });
            for (si, t) in streak_triggers {
                self.award(user_id, si, &t, t.points, now, None, &mut out);
            }
        }
        self.check_achievements(user_id, now, &mut out);

        // Leaderboards affected by the event.
        let points_systems: BTreeSet<&str> = out.awards.iter().map(|(s, _)| s.as_str()).collect();
        let mut boards = Vec::new();
        let mut history = Vec::new();
        for (lb, (prev_rank, prev_value)) in candidates.iter().zip(before) {
            let relevant = match lb.rank_by.as_str() {
                "metric" => lb.metric_id.as_deref() == Some(&metric.id),
                "points" => lb
                    .points_system_id
                    .as_deref()
                    .is_some_and(|s| points_systems.contains(s)),
                "streak" => extended,
                _ => false,
            };
            if !relevant {
                continue;
            }
            let run = lb.run_for(today);
            let ranks = self.rankings(lb, run, &[], today);
            let (rank, value) = ranks
                .iter()
                .find(|r| r.user_id == user_id)
                .map_or((None, None), |r| (Some(r.rank), Some(r.value)));
            let threshold = match lb.max_participants {
                Some(max) if ranks.len() as i64 >= max => ranks.last().map_or(0, |r| r.value),
                _ => 0,
            };
            if (rank, value) != (prev_rank, prev_value) {
                history.push((
                    lb.id.clone(),
                    LbEventRec {
                        at: now,
                        previous_rank: prev_rank,
                        rank,
                        previous_value: prev_value,
                        value,
                    },
                ));
            }
            boards.push(BoardChange {
                board: lb.clone(),
                run,
                rank,
                previous_rank: prev_rank,
                value,
                previous_value: prev_value,
                threshold,
            });
        }
        if let Some(u) = self.users.get_mut(user_id) {
            for (lb_id, rec) in history {
                u.lb_history.entry(lb_id).or_default().push(rec);
            }
        }

        Ok(Applied {
            event_id,
            metric_id: metric.id.clone(),
            total: new_total,
            out,
            streak: view,
            extended,
            boards,
            freezes_consumed,
        })
    }
}

/// What applying a metric event did, for its answer and its webhooks.
pub(crate) struct Applied {
    pub event_id: String,
    pub metric_id: String,
    /// The user's new total of the metric.
    pub total: f64,
    pub out: Outcome,
    /// The user's streak after the event.
    pub streak: StreakView,
    /// Whether the event extended the streak.
    pub extended: bool,
    /// The active leaderboards the event concerned, in order.
    pub boards: Vec<BoardChange>,
    /// Streak freezes used to bridge missed periods, and how many the user has left.
    pub freezes_consumed: Option<(i64, i64)>,
}

/// The user's standing on one leaderboard before and after an event.
pub(crate) struct BoardChange {
    pub board: Leaderboard,
    /// The run the event fell in.
    pub run: (NaiveDate, Option<NaiveDate>),
    pub rank: Option<i64>,
    pub previous_rank: Option<i64>,
    pub value: Option<i64>,
    pub previous_value: Option<i64>,
    /// The value needed to enter a full board (0 when it is not full).
    pub threshold: i64,
}

/// One row of a leaderboard.
#[derive(Clone, Debug)]
pub(crate) struct Ranking {
    pub user_id: String,
    pub user_name: Option<String>,
    pub rank: i64,
    pub value: i64,
}

/// A user's streak at a date.
#[derive(Clone, Debug)]
pub(crate) struct StreakView {
    pub length: i64,
    pub started: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub expires: Option<NaiveDate>,
    pub extended_at: Option<DateTime<Utc>>,
    /// Freezes left after those needed to bridge missed periods.
    pub freezes: i64,
    /// Missed periods that freezes bridge.
    pub to_freeze: Vec<NaiveDate>,
    /// Whether the current period already has activity.
    pub active_now: bool,
}

impl StreakView {
    fn zero(freezes: i64) -> StreakView {
        StreakView {
            length: 0,
            started: None,
            period_start: None,
            period_end: None,
            expires: None,
            extended_at: None,
            freezes,
            to_freeze: Vec::new(),
            active_now: false,
        }
    }
}

/// Streak computation over a user's activity periods.
pub(crate) struct StreakCalc<'a> {
    pub freq: Freq,
    /// Period starts with at least one event.
    pub active: BTreeSet<NaiveDate>,
    /// Period start to the earliest event in it.
    first_event: BTreeMap<NaiveDate, DateTime<Utc>>,
    bridged: &'a BTreeMap<NaiveDate, Bridge>,
    pauses: Vec<(NaiveDate, NaiveDate)>,
    /// Weekdays (0 = Sunday) off, for daily streaks.
    days_off: Vec<u32>,
}

impl<'a> StreakCalc<'a> {
    pub(crate) fn new(st: &State, user: &'a User, today: NaiveDate) -> StreakCalc<'a> {
        let freq = st.streak.freq;
        // (metric ID, threshold) of the streak settings; a period counts once every threshold
        // (AND) or one of them (OR) is met, at the event that meets it. Without settings any
        // event counts.
        let thresholds: Vec<(&str, f64)> = st
            .streak
            .metrics
            .iter()
            .filter_map(|(k, t)| st.metric_by_key(k).map(|m| (m.id.as_str(), *t as f64)))
            .collect();
        let counted = user.streak_reset.map_or(0, |(_, n)| n);
        let mut events: Vec<&EventRec> = user
            .events
            .iter()
            .skip(counted)
            .filter(|e| e.at.date_naive() <= today)
            .collect();
        events.sort_by_key(|e| e.at);
        let mut sums: BTreeMap<(NaiveDate, &str), f64> = BTreeMap::new();
        let mut first_event: BTreeMap<NaiveDate, DateTime<Utc>> = BTreeMap::new();
        for e in events {
            let p = freq.start(e.at.date_naive());
            if first_event.contains_key(&p) {
                continue;
            }
            *sums.entry((p, e.metric_id.as_str())).or_default() += e.value;
            let met = |(m, t): &(&str, f64)| sums.get(&(p, *m)).is_some_and(|s| *s >= *t);
            let counts = thresholds.is_empty()
                || if st.streak.evaluation_mode == "AND" {
                    thresholds.iter().all(met)
                } else {
                    thresholds.iter().any(met)
                };
            if counts {
                first_event.insert(p, e.at);
            }
        }
        StreakCalc {
            freq,
            active: first_event.keys().copied().collect(),
            first_event,
            bridged: &user.bridged,
            pauses: st
                .pauses
                .iter()
                .filter(|p| p.user_id == user.id)
                .map(|p| (p.start, p.end))
                .collect(),
            days_off: if freq == Freq::Daily {
                st.streak.days_off.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// Whether the daily period `q` is a day off.
    pub(crate) fn day_off(&self, q: NaiveDate) -> bool {
        self.days_off.contains(&q.weekday().num_days_from_sunday())
    }

    pub(crate) fn paused(&self, q: NaiveDate) -> bool {
        let end = self.freq.end(q);
        self.pauses.iter().any(|(s, e)| *s <= end && *e >= q)
    }

    pub(crate) fn covered(&self, q: NaiveDate) -> bool {
        self.active.contains(&q) || self.bridged.contains_key(&q) || self.paused(q) || self.day_off(q)
    }

    pub(crate) fn used_freeze(&self, q: NaiveDate) -> bool {
        self.bridged.get(&q) == Some(&Bridge::Freeze)
    }

    /// (length, first period, last active period) of the run of covered periods ending at `end`.
    fn run(&self, end: NaiveDate) -> (i64, Option<NaiveDate>, Option<NaiveDate>) {
        let Some(&min) = self.active.first() else {
            return (0, None, None);
        };
        let mut len = 0;
        let mut started = None;
        let mut last_active = None;
        let mut q = end;
        let mut steps = 0;
        while q >= min && self.covered(q) && steps < MAX_PERIOD_STEPS {
            if self.active.contains(&q) {
                len += 1;
                started = Some(q);
                if last_active.is_none() {
                    last_active = Some(q);
                }
            }
            let p = self.freq.prev(q);
            if p == q {
                break;
            }
            q = p;
            steps += 1;
        }
        (len, started, last_active)
    }

    /// The streak length recorded for a past period `q` (for the history).
    pub(crate) fn length_at(&self, q: NaiveDate) -> i64 {
        if self.covered(q) {
            self.run(q).0
        } else {
            0
        }
    }

    pub(crate) fn view(&self, today: NaiveDate, freezes: i64) -> StreakView {
        let f = self.freq;
        let p = f.start(today);
        let Some(&min) = self.active.first() else {
            return StreakView::zero(freezes);
        };
        if self.active.contains(&p) {
            let (len, started, last) = self.run(p);
            return StreakView {
                length: len,
                started,
                period_start: Some(p),
                period_end: Some(f.end(p)),
                expires: Some(f.end(f.next(p))),
                extended_at: last.and_then(|l| self.first_event.get(&l).copied()),
                freezes,
                to_freeze: Vec::new(),
                active_now: true,
            };
        }
        let mut q = f.prev(p);
        let mut missing = Vec::new();
        let mut steps = 0;
        while q >= min && !self.covered(q) && steps < MAX_PERIOD_STEPS {
            missing.push(q);
            let n = f.prev(q);
            if n == q {
                break;
            }
            q = n;
            steps += 1;
        }
        if q < min || !self.covered(q) || missing.len() as i64 > freezes {
            return StreakView::zero(freezes);
        }
        let (len, started, last) = self.run(q);
        if len == 0 {
            return StreakView::zero(freezes);
        }
        StreakView {
            length: len,
            started,
            period_start: Some(p),
            period_end: Some(f.end(p)),
            expires: Some(f.end(p)),
            extended_at: last.and_then(|l| self.first_event.get(&l).copied()),
            freezes: freezes - missing.len() as i64,
            to_freeze: missing,
            active_now: false,
        }
    }
}

/// Whether a new user joins the control group: a stable hash of the ID against the settings'
/// `controlRatio` percentage, so the same user always lands in the same group.
fn in_control_group(id: &str, settings: &Value) -> bool {
    let ratio = settings
        .pointer("/experimentation/controlRatio")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % 100 < ratio
}

// ----- saving the state (see `persist`) ----------------------------------------------------------

/// A [`BoostSnapshot`] as read back: the status one of those [`Boost::status`] gives.
#[derive(Deserialize)]
struct SavedBoostSnapshot {
    boost: Boost,
    status: String,
}

impl<'de> Deserialize<'de> for BoostSnapshot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BoostSnapshot, D::Error> {
        let s = SavedBoostSnapshot::deserialize(d)?;
        let status = match s.status.as_str() {
            "scheduled" => "scheduled",
            "finished" => "finished",
            _ => "active",
        };
        Ok(BoostSnapshot { boost: s.boost, status })
    }
}

/// The idempotency map as a list of `[userId, metricId, key, answer]` (JSON keys are strings).
mod idempotency_entries {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    type Map = HashMap<(String, String, String), Value>;

    pub(super) fn serialize<S: Serializer>(m: &Map, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&String, &String, &String, &Value)> =
            m.iter().map(|((u, mid, k), v)| (u, mid, k, v)).collect();
        entries.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        entries.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let entries = Vec::<(String, String, String, Value)>::deserialize(d)?;
        Ok(entries.into_iter().map(|(u, m, k, v)| ((u, m, k), v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).expect("date")
    }

    #[test]
    fn periods() {
        assert_eq!(Freq::Weekly.start(d("2026-01-15")), d("2026-01-12"));
        assert_eq!(Freq::Monthly.start(d("2026-01-15")), d("2026-01-01"));
        assert_eq!(Freq::Monthly.end(d("2026-02-01")), d("2026-02-28"));
        assert_eq!(Freq::Weekly.end(d("2026-01-12")), d("2026-01-18"));
        assert_eq!(Freq::Daily.prev(d("2026-03-01")), d("2026-02-28"));
    }

    #[test]
    fn keys() {
        assert!(valid_key("abc_DEF-09"));
        assert!(!valid_key(""));
        assert!(!valid_key("a b"));
        assert!(!valid_key("é"));
    }

    #[test]
    fn runs_of_repeating_leaderboards() {
        let lb = Leaderboard {
            id: "x".into(),
            key: "k".into(),
            name: "n".into(),
            description: None,
            status: "active".into(),
            rank_by: "metric".into(),
            metric_id: None,
            points_system_id: None,
            max_participants: None,
            start: d("2026-01-01"),
            end: None,
            start_time: None,
            end_time: None,
            breakdown_attributes: vec![],
            run_unit: Some("day".into()),
            run_interval: Some(7),
            user_attributes: Vec::new(),
        };
        assert_eq!(lb.run_for(d("2026-01-10")), (d("2026-01-08"), Some(d("2026-01-14"))));
        let monthly = Leaderboard {
            run_unit: Some("month".into()),
            run_interval: Some(1),
            ..lb
        };
        assert_eq!(
            monthly.run_for(d("2026-03-31")),
            (d("2026-03-01"), Some(d("2026-03-31")))
        );
    }
}
