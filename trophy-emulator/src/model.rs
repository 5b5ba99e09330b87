//! The in-memory state of one tenant and the rules that change it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use crate::seed::Seed;

/// Upper bound of loops walking over periods, so that no request can spin.
pub(crate) const MAX_PERIOD_STEPS: usize = 20_000;

/// A fresh random ID.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether a key matches `^[A-Za-z0-9_-]+$`.
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// RFC 3339 with milliseconds and `Z`.
pub(crate) fn fmt_dt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `YYYY-MM-DD`.
pub(crate) fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A period length: streak frequency or summary aggregation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Freq {
    Daily,
    Weekly,
    Monthly,
}

impl Freq {
    pub(crate) fn parse(s: &str) -> Option<Freq> {
        match s {
            "daily" => Some(Freq::Daily),
            "weekly" => Some(Freq::Weekly),
            "monthly" => Some(Freq::Monthly),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Freq::Daily => "daily",
            Freq::Weekly => "weekly",
            Freq::Monthly => "monthly",
        }
    }

    /// The first day of the period containing `d` (weeks start on Monday).
    pub(crate) fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Freq::Daily => d,
            Freq::Weekly => d
                .checked_sub_signed(Duration::days(i64::from(d.weekday().num_days_from_monday())))
                .unwrap_or(d),
            Freq::Monthly => d.with_day(1).unwrap_or(d),
        }
    }

    /// The start of the next period (saturating at the end of the calendar).
    pub(crate) fn next(self, p: NaiveDate) -> NaiveDate {
        match self {
            Freq::Daily => p.succ_opt().unwrap_or(p),
            Freq::Weekly => p.checked_add_signed(Duration::days(7)).unwrap_or(p),
            Freq::Monthly => p.checked_add_months(Months::new(1)).unwrap_or(p),
        }
    }

    /// The start of the previous period (saturating at the start of the calendar).
    pub(crate) fn prev(self, p: NaiveDate) -> NaiveDate {
        match self {
            Freq::Daily => p.pred_opt().unwrap_or(p),
            Freq::Weekly => p.checked_sub_signed(Duration::days(7)).unwrap_or(p),
            Freq::Monthly => p.checked_sub_months(Months::new(1)).unwrap_or(p),
        }
    }

    /// The last day of the period starting at `p`.
    pub(crate) fn end(self, p: NaiveDate) -> NaiveDate {
        let n = self.next(p);
        if n == p {
            p
        } else {
            n.pred_opt().unwrap_or(p)
        }
    }
}

/// A change to a nullable field: leave, clear or set.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Patch<T> {
    Keep,
    Clear,
    Set(T),
}

#[derive(Clone, Debug)]
pub(crate) struct Metric {
    pub id: String,
    pub key: String,
    pub name: String,
    pub unit_type: String,
    pub units: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Attribute {
    pub id: String,
    pub key: String,
    pub name: String,
    pub kind: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Level {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub badge: Option<String>,
    pub points: i64,
}

#[derive(Clone, Debug)]
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

#[derive(Clone, Debug)]
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

#[derive(Clone, Debug)]
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

#[derive(Clone, Debug)]
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

#[derive(Clone, Debug)]
pub(crate) struct Achievement {
    pub id: String,
    pub key: String,
    pub name: String,
    pub trigger: String,
    pub description: Option<String>,
    pub badge_url: Option<String>,
    pub metric_key: Option<String>,
    pub metric_value: Option<f64>,
    pub streak_length: Option<i64>,
    pub achievement_keys: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct EventRec {
    pub metric_id: String,
    pub value: f64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct AwardRec {
    pub id: String,
    pub awarded: i64,
    pub total: i64,
    pub at: DateTime<Utc>,
    /// The trigger as the Application API shows it, captured when awarded.
    pub trigger: Value,
    /// The boosts applied, as the Application API shows them.
    pub boosts: Vec<Value>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct UserPoints {
    pub total: i64,
    pub awards: Vec<AwardRec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bridge {
    Freeze,
    Restore,
}

#[derive(Clone, Debug)]
pub(crate) struct LbEventRec {
    pub at: DateTime<Utc>,
    pub previous_rank: Option<i64>,
    pub rank: Option<i64>,
    pub previous_value: Option<i64>,
    pub value: Option<i64>,
}

#[derive(Clone, Debug)]
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
        }
    }

    /// Checks values the types do not constrain; returns a message for a 422.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(e) = &self.email {
            if !e.is_empty() && !e.contains('@') {
                return Err(format!("invalid email address {e:?}"));
            }
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

#[derive(Clone, Debug)]
pub(crate) struct Pause {
    pub id: String,
    pub user_id: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Clone, Debug)]
pub(crate) struct StreakConfig {
    pub freq: Freq,
    pub max_freezes: i64,
    pub initial_freezes: i64,
    pub auto_earn_interval: Option<i64>,
    pub auto_earn_amount: Option<i64>,
}

/// The state of one tenant.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub metrics: Vec<Metric>,
    pub attributes: Vec<Attribute>,
    pub systems: Vec<PointsSystem>,
    pub leaderboards: Vec<Leaderboard>,
    pub achievements: Vec<Achievement>,
    pub users: BTreeMap<String, User>,
    pub pauses: Vec<Pause>,
    /// (user ID, metric ID, idempotency key) to the original response body.
    pub idempotency: HashMap<(String, String, String), Value>,
    pub streak: StreakConfig,
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
        let achievements = seed
            .achievements
            .iter()
            .map(|a| Achievement {
                id: a.id.clone().unwrap_or_else(new_id),
                key: a.key.clone(),
                name: a.name.clone(),
                trigger: a.trigger.clone(),
                description: a.description.clone(),
                badge_url: a.badge_url.clone(),
                metric_key: a.metric_key.clone(),
                metric_value: a.metric_value,
                streak_length: a.streak_length,
                achievement_keys: a.achievement_keys.clone(),
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
            },
        }
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
        self.achievements.iter().find(|a| a.key == key)
    }

    pub(crate) fn achievement_by_id(&self, id: &str) -> Option<&Achievement> {
        self.achievements.iter().find(|a| a.id == id)
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
    fn event_matches_filters(&self, attrs: &BTreeMap<String, String>, filters: &[(String, String)]) -> bool {
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
            u.updated = now;
        }
        if created {
            let triggers: Vec<(usize, Trigger)> = self.active_triggers(|t| t.kind == "user_creation");
            for (si, t) in triggers {
                self.award(id, si, &t, t.points, now, None, out);
            }
        }
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
                boosts.push(crate::render::app_boost(b, today));
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
        let trigger_json = crate::render::app_trigger(self, trigger);
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
            trigger: trigger_json,
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
        let dependants: Vec<String> = self
            .achievements
            .iter()
            .filter(|a| a.trigger == "achievement")
            .filter(|a| {
                let done = |k: &String| {
                    self.achievement_by_key(k).is_some_and(|d| {
                        self.users
                            .get(user_id)
                            .is_some_and(|u| u.achievements.contains_key(&d.id))
                    })
                };
                a.achievement_keys.iter().all(done)
            })
            .map(|a| a.id.clone())
            .collect();
        for id in dependants {
            self.complete_achievement(user_id, &id, now, out);
        }
        true
    }

    /// Completes the metric and streak achievements the user now qualifies for.
    fn check_achievements(&mut self, user_id: &str, now: DateTime<Utc>, out: &mut Outcome) {
        let streak_len = self.streak_view(user_id, now.date_naive()).length;
        let Some(user) = self.users.get(user_id) else {
            return;
        };
        let due: Vec<String> = self
            .achievements
            .iter()
            .filter(|a| !user.achievements.contains_key(&a.id))
            .filter(|a| match a.trigger.as_str() {
                "metric" => {
                    let total = a
                        .metric_key
                        .as_deref()
                        .and_then(|k| self.metric_by_key(k))
                        .and_then(|m| user.totals.get(&m.id).copied());
                    matches!((total, a.metric_value), (Some(t), Some(v)) if t >= v)
                }
                "streak" => a.streak_length.is_some_and(|l| streak_len >= l),
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
            Some(u) => StreakCalc::new(self, u, today).view(today, u.freezes),
            None => StreakView::zero(0),
        }
    }

    /// Restores a lost streak; `Err` explains why it cannot be.
    pub(crate) fn restore_streak(&mut self, user_id: &str, today: NaiveDate) -> Result<(), String> {
        let Some(user) = self.users.get(user_id) else {
            return Err("user not found".into());
        };
        let calc = StreakCalc::new(self, user, today);
        if calc.view(today, user.freezes).length > 0 {
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
            if !filter.iter().all(|(k, v)| u.attributes.get(k).is_some_and(|x| x == v)) {
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
                    let l = StreakCalc::new(self, u, today).view(today, u.freezes).length;
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

    /// Records a metric event and applies everything it causes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_event(
        &mut self,
        metric_key: &str,
        user_id: &str,
        user: &UserInput,
        value: f64,
        attributes: &BTreeMap<String, String>,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Recorded, (u16, String)> {
        let Some(metric) = self.metric_by_key(metric_key).cloned() else {
            return Err((404, format!("metric with key {metric_key:?} not found")));
        };
        if let Some(k) = idempotency_key {
            let idem = (user_id.to_string(), metric.id.clone(), k.to_string());
            if let Some(body) = self.idempotency.get(&idem) {
                self.replayed += 1;
                let mut body = body.clone();
                if let Some(o) = body.as_object_mut() {
                    o.insert("idempotentReplayed".into(), Value::Bool(true));
                }
                return Ok(Recorded {
                    body,
                    replayed: true,
                    freezes_consumed: None,
                    rank_changes: Vec::new(),
                });
            }
        }
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
        let mut lbs = serde_json::Map::new();
        let mut history = Vec::new();
        let mut rank_changes = Vec::new();
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
            let mut j = crate::render::leaderboard_base(self, lb);
            if let Some(o) = j.as_object_mut() {
                o.insert("start".into(), Value::String(fmt_date(run.0)));
                o.insert("end".into(), run.1.map_or(Value::Null, |d| Value::String(fmt_date(d))));
                o.insert("rank".into(), rank.into());
                o.insert("previousRank".into(), prev_rank.into());
                o.insert("threshold".into(), threshold.into());
            }
            if rank != prev_rank {
                // `WebhookUserLeaderboardResponse`: the board with this user's rank and value,
                // before and after.
                let mut change = j.clone();
                if let Some(o) = change.as_object_mut() {
                    o.remove("threshold");
                    o.insert("value".into(), value.into());
                    o.insert("previousValue".into(), prev_value.into());
                }
                rank_changes.push(change);
            }
            lbs.insert(lb.key.clone(), j);
        }
        if let Some(u) = self.users.get_mut(user_id) {
            for (lb_id, rec) in history {
                u.lb_history.entry(lb_id).or_default().push(rec);
            }
        }

        let achievements: Vec<Value> = out
            .completed
            .iter()
            .filter_map(|id| {
                let a = self.achievement_by_id(id)?;
                Some(crate::render::user_achievement(self, a, Some(now)))
            })
            .collect();
        let mut body = serde_json::json!({
            "eventId": event_id,
            "metricId": metric.id,
            "total": new_total,
            "achievements": achievements,
            "currentStreak": crate::render::event_streak(&view, self.streak.freq, extended),
            "points": crate::render::points_changes(self, user_id, &out),
            "leaderboards": Value::Object(lbs),
        });
        if let (Some(k), Some(o)) = (idempotency_key, body.as_object_mut()) {
            o.insert("idempotencyKey".into(), Value::String(k.to_string()));
            o.insert("idempotentReplayed".into(), Value::Bool(false));
            self.idempotency
                .insert((user_id.to_string(), metric.id.clone(), k.to_string()), body.clone());
        }
        Ok(Recorded {
            body,
            replayed: false,
            freezes_consumed,
            rank_changes,
        })
    }
}

/// What recording a metric event did.
pub(crate) struct Recorded {
    /// The `EventResponse` body.
    pub body: Value,
    /// Whether it was an idempotent replay (nothing changed).
    pub replayed: bool,
    /// Streak freezes used to bridge missed periods, and how many the user has left.
    pub freezes_consumed: Option<(i64, i64)>,
    /// The leaderboards on which the event changed the user's rank, each with the rank and
    /// value before and after.
    pub rank_changes: Vec<Value>,
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
}

impl<'a> StreakCalc<'a> {
    pub(crate) fn new(st: &State, user: &'a User, today: NaiveDate) -> StreakCalc<'a> {
        let freq = st.streak.freq;
        let mut first_event: BTreeMap<NaiveDate, DateTime<Utc>> = BTreeMap::new();
        for e in &user.events {
            let d = e.at.date_naive();
            if d > today {
                continue;
            }
            let p = freq.start(d);
            let slot = first_event.entry(p).or_insert(e.at);
            if e.at < *slot {
                *slot = e.at;
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
        }
    }

    pub(crate) fn paused(&self, q: NaiveDate) -> bool {
        let end = self.freq.end(q);
        self.pauses.iter().any(|(s, e)| *s <= end && *e >= q)
    }

    pub(crate) fn covered(&self, q: NaiveDate) -> bool {
        self.active.contains(&q) || self.bridged.contains_key(&q) || self.paused(q)
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
