//! JSON bodies, following the response schemas of both documents.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use crate::model::{
    fmt_date, fmt_dt, Achievement, Applied, Attribute, AwardRec, Boost, Freq, Leaderboard, Level, Metric, Outcome,
    Pause, PointsSystem, State, StreakCalc, StreakView, Trigger, TriggerSnapshot, User,
};

fn opt_date(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(fmt_date(d)))
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// `User`.
pub(crate) fn user(u: &User) -> Value {
    let mut j = json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "tz": u.tz,
        "subscribeToEmails": u.subscribe_to_emails,
        "attributes": u.attributes,
        "control": u.control,
        "created": fmt_dt(u.created),
        "updated": fmt_dt(u.updated),
    });
    if let Some(o) = j.as_object_mut() {
        o.insert("deviceTokens".into(), json!(u.device_tokens));
        o.insert("signUpDate".into(), opt_date(u.sign_up_date));
    }
    j
}

/// `PointsBoost` of the Application API.
pub(crate) fn app_boost(b: &Boost, today: NaiveDate) -> Value {
    boost_with_status(b, b.status(today))
}

fn boost_with_status(b: &Boost, status: &str) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "status": status,
        "start": fmt_date(b.start),
        "end": opt_date(b.end),
        "multiplier": b.multiplier,
        "rounding": b.rounding,
    })
}

/// `[{key, value}]` of (attribute key, value) pairs.
fn attribute_values(keyed: &[(String, String)]) -> Value {
    Value::Array(keyed.iter().map(|(k, v)| json!({"key": k, "value": v})).collect())
}

/// `PointsTrigger` of the Application API.
pub(crate) fn app_trigger(st: &State, t: &Trigger) -> Value {
    trigger_snapshot(&st.trigger_snapshot(t))
}

/// `PointsTriggerResponse` of a trigger as it stood when captured.
fn trigger_snapshot(s: &TriggerSnapshot) -> Value {
    let t = &s.trigger;
    let mut o = Map::new();
    o.insert("id".into(), json!(t.id));
    o.insert("type".into(), json!(t.kind));
    o.insert("points".into(), json!(t.points));
    o.insert("status".into(), json!(t.status));
    if let Some(m) = &t.metric_id {
        o.insert("metricId".into(), json!(m));
        if let Some(name) = &s.metric_name {
            o.insert("metricName".into(), json!(name));
        }
        o.insert("metricThreshold".into(), json!(t.metric_threshold.unwrap_or(1)));
    }
    if let Some(a) = &t.achievement_id {
        o.insert("achievementId".into(), json!(a));
        if let Some(name) = &s.achievement_name {
            o.insert("achievementName".into(), json!(name));
        }
    }
    if let Some(l) = t.streak_length {
        o.insert("streakLengthThreshold".into(), json!(l));
    }
    if let Some(u) = &t.time_unit {
        let unit = if u == "hours" { "hour" } else { "day" };
        o.insert("timeUnit".into(), json!(unit));
    }
    if let Some(i) = t.time_interval {
        o.insert("timeInterval".into(), json!(i));
    }
    o.insert("userAttributes".into(), attribute_values(&s.user_attributes));
    if !s.event_attributes.is_empty() {
        o.insert("eventAttributes".into(), attribute_values(&s.event_attributes));
    }
    o.insert("created".into(), json!(fmt_dt(t.created)));
    o.insert("updated".into(), json!(fmt_dt(t.updated)));
    Value::Object(o)
}

/// `PointsLevel` of the Application API.
pub(crate) fn app_level(l: &Level) -> Value {
    json!({
        "id": l.id,
        "key": l.key,
        "name": l.name,
        "description": l.description,
        "badgeUrl": l.badge,
        "points": l.points,
    })
}

/// `PointsResponse`.
pub(crate) fn points_base(ps: &PointsSystem) -> Value {
    json!({
        "id": ps.id,
        "key": ps.key,
        "name": ps.name,
        "description": if ps.description.is_empty() { None } else { Some(&ps.description) },
        "badgeUrl": ps.badge,
        "maxPoints": ps.max_points,
    })
}

/// `PointsAward`.
pub(crate) fn award(a: &AwardRec) -> Value {
    json!({
        "id": a.id,
        "awarded": a.awarded,
        "date": fmt_dt(a.at),
        "total": a.total,
        "trigger": trigger_snapshot(&a.trigger),
        "boosts": a.boosts.iter().map(|b| boost_with_status(&b.boost, b.status)).collect::<Vec<_>>(),
    })
}

/// Map of points system key to `MetricEventPointsResponse` for the awards of one request.
pub(crate) fn points_changes(st: &State, user_id: &str, out: &Outcome) -> Value {
    let mut map = Map::new();
    for ps in &st.systems {
        let awards: Vec<&AwardRec> = out.awards.iter().filter(|(s, _)| s == &ps.id).map(|(_, a)| a).collect();
        if awards.is_empty() {
            continue;
        }
        let total = st
            .users
            .get(user_id)
            .and_then(|u| u.points.get(&ps.id))
            .map_or(0, |p| p.total);
        let added = awards.iter().fold(0i64, |acc, a| acc.saturating_add(a.awarded));
        let mut j = points_base(ps);
        if let Some(o) = j.as_object_mut() {
            o.insert("total".into(), json!(total));
            o.insert("level".into(), ps.level_for(total).map_or(Value::Null, app_level));
            o.insert("added".into(), json!(added));
            o.insert("awards".into(), Value::Array(awards.into_iter().map(award).collect()));
        }
        map.insert(ps.key.clone(), j);
    }
    Value::Object(map)
}

/// `AchievementResponse`.
pub(crate) fn achievement(st: &State, a: &Achievement) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(a.id));
    o.insert("name".into(), json!(a.name));
    o.insert("trigger".into(), json!(a.trigger));
    o.insert("description".into(), opt_str(a.description.as_deref()));
    o.insert("badgeUrl".into(), opt_str(a.badge_url.as_deref()));
    trigger_fields(&mut o, a);
    if let Some(k) = &a.metric_key {
        if let Some(m) = st.metric_by_key(k) {
            o.insert("metricId".into(), json!(m.id));
            o.insert("metricName".into(), json!(m.name));
        }
    }
    o.insert("userAttributes".into(), key_values(st, &a.user_attributes));
    if !a.event_attributes.is_empty() {
        o.insert("eventAttributes".into(), key_values(st, &a.event_attributes));
    }
    Value::Object(o)
}

/// (attribute ID, value) conditions as the Application API shows them: `[{key, value}]`.
fn key_values(st: &State, conditions: &[(String, String)]) -> Value {
    conditions
        .iter()
        .map(|(id, value)| json!({"key": st.attribute_key(id).unwrap_or(id), "value": value}))
        .collect()
}

/// (attribute ID, value) conditions as the Admin API shows them: `[{attributeId, attributeValue}]`.
fn id_values(conditions: &[(String, String)]) -> Value {
    conditions
        .iter()
        .map(|(id, value)| json!({"attributeId": id, "attributeValue": value}))
        .collect()
}

/// `AdminAchievement`.
pub(crate) fn admin_achievement(st: &State, a: &Achievement) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(a.id));
    o.insert("name".into(), json!(a.name));
    o.insert("description".into(), opt_str(a.description.as_deref()));
    o.insert("trigger".into(), json!(a.trigger));
    o.insert("status".into(), json!(a.status));
    o.insert(
        "badge".into(),
        a.badge_url.as_ref().map_or(Value::Null, |u| json!({"url": u})),
    );
    o.insert("userAttributes".into(), id_values(&a.user_attributes));
    trigger_fields(&mut o, a);
    if let Some(m) = a.metric_key.as_deref().and_then(|k| st.metric_by_key(k)) {
        o.insert("metricId".into(), json!(m.id));
    }
    if a.trigger == "metric" {
        o.insert("eventAttributes".into(), id_values(&a.event_attributes));
    }
    Value::Object(o)
}

/// The key and the trigger's own fields, which both APIs show the same way.
fn trigger_fields(o: &mut Map<String, Value>, a: &Achievement) {
    if let Some(k) = &a.key {
        o.insert("key".into(), json!(k));
    }
    if let Some(v) = a.metric_value {
        o.insert("metricValue".into(), json!(v));
    }
    if let Some(l) = a.streak_length {
        o.insert("streakLength".into(), json!(l));
    }
    if let Some(y) = a.anniversary_years {
        o.insert("anniversaryYears".into(), json!(y));
    }
    if a.trigger == "achievement" {
        o.insert("achievementIds".into(), json!(a.achievement_ids));
    }
}

/// `StreakSettings`.
pub(crate) fn streak_settings(st: &State) -> Value {
    let s = &st.streak;
    let freezes = if s.freezes_enabled {
        json!({"startCount": s.initial_freezes, "maxCount": s.max_freezes,
               "autoEarnInterval": s.auto_earn_interval, "autoEarnAmount": s.auto_earn_amount})
    } else {
        Value::Null
    };
    json!({
        "frequency": s.freq.as_str(),
        "evaluationMode": s.evaluation_mode,
        "customizationEnabled": s.customization_enabled,
        "daysOff": s.days_off,
        "metrics": s.metrics.iter().map(|(k, t)| json!({"key": k, "threshold": t})).collect::<Vec<_>>(),
        "freezes": freezes,
    })
}

/// `UserAchievementResponse`.
pub(crate) fn user_achievement(st: &State, a: &Achievement, at: Option<DateTime<Utc>>) -> Value {
    let mut j = achievement(st, a);
    if let Some(o) = j.as_object_mut() {
        o.insert("achievedAt".into(), at.map_or(Value::Null, |t| json!(fmt_dt(t))));
    }
    j
}

/// Adds `completions` and `rarity` (percentage of the counted users) to an achievement body.
pub(crate) fn with_stats(st: &State, a: &Achievement, mut j: Value, filter: &[(String, String)]) -> Value {
    let users: Vec<&User> = st
        .users
        .values()
        .filter(|u| filter.iter().all(|(k, v)| u.attributes.get(k).is_some_and(|x| x == v)))
        .collect();
    let completions = users.iter().filter(|u| u.achievements.contains_key(&a.id)).count();
    let rarity = if users.is_empty() {
        0.0
    } else {
        ((completions as f64 / users.len() as f64) * 10_000.0).round() / 100.0
    };
    if let Some(o) = j.as_object_mut() {
        o.insert("completions".into(), json!(completions));
        o.insert("rarity".into(), json!(rarity));
    }
    j
}

fn base_streak(v: &StreakView, freq: Freq, st: &State) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("length".into(), json!(v.length));
    o.insert("frequency".into(), json!(freq.as_str()));
    o.insert("started".into(), opt_date(v.started));
    o.insert("periodStart".into(), opt_date(v.period_start));
    o.insert("periodEnd".into(), opt_date(v.period_end));
    o.insert("expires".into(), opt_date(v.expires));
    o.insert("freezes".into(), json!(v.freezes));
    o.insert("maxFreezes".into(), json!(st.streak.max_freezes));
    if let Some(i) = st.streak.auto_earn_interval {
        o.insert("freezeAutoEarnInterval".into(), json!(i));
    }
    if let Some(a) = st.streak.auto_earn_amount {
        o.insert("freezeAutoEarnAmount".into(), json!(a));
    }
    o
}

/// `MetricEventStreakResponse`.
pub(crate) fn event_streak(v: &StreakView, freq: Freq, extended: bool) -> Value {
    json!({
        "length": v.length,
        "frequency": freq.as_str(),
        "started": opt_date(v.started),
        "periodStart": opt_date(v.period_start),
        "periodEnd": opt_date(v.period_end),
        "expires": opt_date(v.expires),
        "freezes": v.freezes,
        "extended": extended,
    })
}

/// The answer to a metric event (`EventResponse`, without the idempotency fields), and the
/// leaderboards on which the user's rank changed (`WebhookUserLeaderboardResponse`: the board with
/// the user's rank and value, before and after).
pub(crate) fn event_answer(st: &State, user_id: &str, applied: &Applied, now: DateTime<Utc>) -> (Value, Vec<Value>) {
    let mut boards = Map::new();
    let mut rank_changes = Vec::new();
    for b in &applied.boards {
        let mut j = leaderboard_base(st, &b.board);
        if let Some(o) = j.as_object_mut() {
            o.insert("start".into(), Value::String(fmt_date(b.run.0)));
            o.insert("end".into(), opt_date(b.run.1));
            o.insert("rank".into(), b.rank.into());
            o.insert("previousRank".into(), b.previous_rank.into());
            o.insert("threshold".into(), b.threshold.into());
        }
        if b.rank != b.previous_rank {
            let mut change = j.clone();
            if let Some(o) = change.as_object_mut() {
                o.remove("threshold");
                o.insert("value".into(), b.value.into());
                o.insert("previousValue".into(), b.previous_value.into());
            }
            rank_changes.push(change);
        }
        if let Some(o) = j.as_object_mut() {
            o.insert("status".into(), json!(b.board.app_status(now.date_naive())));
        }
        boards.insert(b.board.key.clone(), j);
    }
    let achievements: Vec<Value> = applied
        .out
        .completed
        .iter()
        .filter_map(|id| Some(user_achievement(st, st.achievement_by_id(id)?, Some(now))))
        .collect();
    let body = json!({
        "eventId": applied.event_id,
        "metricId": applied.metric_id,
        "total": applied.total,
        "achievements": achievements,
        "currentStreak": event_streak(&applied.streak, st.streak.freq, applied.extended),
        "points": points_changes(st, user_id, &applied.out),
        "leaderboards": Value::Object(boards),
    });
    (body, rank_changes)
}

/// `StreakResponse`.
pub(crate) fn streak(st: &State, user: &User, today: NaiveDate, history_periods: usize) -> Value {
    let calc = StreakCalc::new(st, user, today);
    let v = calc.view(today, st.usable_freezes(user));
    let f = st.streak.freq;
    let mut o = base_streak(&v, f, st);
    o.insert(
        "extended".into(),
        v.extended_at.map_or(Value::Null, |t| json!(fmt_dt(t))),
    );
    let p = f.start(today);
    let mut periods = Vec::new();
    let mut q = p;
    for _ in 0..history_periods {
        periods.push(q);
        let n = f.prev(q);
        if n == q {
            break;
        }
        q = n;
    }
    periods.reverse();
    let history: Vec<Value> = periods
        .into_iter()
        .map(|q| {
            let length = if q == p { v.length } else { calc.length_at(q) };
            let mut period = json!({
                "periodStart": fmt_date(q),
                "periodEnd": fmt_date(f.end(q)),
                "length": length,
                "usedFreeze": calc.used_freeze(q) || (q != p && v.to_freeze.contains(&q)),
                "usedPause": calc.paused(q),
            });
            if let Some((r, _)) = user
                .streak_reset
                .filter(|(r, _)| (q..=f.end(q)).contains(&r.date_naive()))
            {
                period["resetAt"] = json!(fmt_dt(r));
            }
            period
        })
        .collect();
    o.insert("streakHistory".into(), Value::Array(history));
    let pauses: Vec<Value> = st
        .pauses
        .iter()
        .filter(|p| p.user_id == user.id)
        .map(|p| json!({"id": p.id, "start": fmt_date(p.start), "end": fmt_date(p.end)}))
        .collect();
    o.insert("pauses".into(), Value::Array(pauses));
    Value::Object(o)
}

/// `LeaderboardResponse`.
pub(crate) fn leaderboard_base(st: &State, lb: &Leaderboard) -> Value {
    let breakdown: Vec<String> = lb
        .breakdown_attributes
        .iter()
        .map(|id| st.attribute_key(id).unwrap_or(id).to_string())
        .collect();
    let mut o = Map::new();
    o.insert("id".into(), json!(lb.id));
    o.insert("name".into(), json!(lb.name));
    o.insert("key".into(), json!(lb.key));
    o.insert("description".into(), opt_str(lb.description.as_deref()));
    o.insert("rankBy".into(), json!(lb.rank_by));
    o.insert(
        "breakdownAttribute".into(),
        opt_str(breakdown.first().map(String::as_str)),
    );
    o.insert("breakdownAttributes".into(), json!(breakdown));
    o.insert("userAttributes".into(), key_values(st, &lb.user_attributes));
    if let Some(m) = lb.metric_id.as_deref().and_then(|m| st.metric_by_id(m)) {
        o.insert("metricKey".into(), json!(m.key));
        o.insert("metricName".into(), json!(m.name));
    }
    if let Some(ps) = lb.points_system_id.as_deref().and_then(|s| st.system_by_id(s)) {
        o.insert("pointsSystemKey".into(), json!(ps.key));
        o.insert("pointsSystemName".into(), json!(ps.name));
    }
    o.insert("start".into(), json!(fmt_date(lb.start)));
    o.insert("end".into(), opt_date(lb.end));
    o.insert("startTime".into(), opt_str(lb.start_time.as_deref()));
    o.insert("endTime".into(), opt_str(lb.end_time.as_deref()));
    o.insert("maxParticipants".into(), json!(lb.max_participants));
    o.insert("runUnit".into(), opt_str(lb.run_unit.as_deref()));
    o.insert(
        "runInterval".into(),
        if lb.run_unit.is_some() {
            json!(lb.run_interval.unwrap_or(1))
        } else {
            Value::Null
        },
    );
    Value::Object(o)
}

// ----- Admin API ------------------------------------------------------------------------------

/// `CreatedMetric`.
pub(crate) fn admin_metric(m: &Metric) -> Value {
    json!({"id": m.id, "name": m.name, "key": m.key, "unitType": m.unit_type, "units": m.units})
}

/// `AdminAttribute`.
pub(crate) fn admin_attribute(a: &Attribute) -> Value {
    json!({"id": a.id, "name": a.name, "key": a.key, "type": a.kind})
}

fn badge(b: &Option<String>) -> Value {
    b.as_ref().map_or(Value::Null, |u| json!({"url": u}))
}

fn filters(f: &[(String, String)]) -> Value {
    Value::Array(
        f.iter()
            .map(|(id, v)| json!({"attributeId": id, "attributeValue": v}))
            .collect(),
    )
}

/// `AdminPointsSystem`.
pub(crate) fn admin_system(ps: &PointsSystem) -> Value {
    json!({
        "id": ps.id,
        "name": ps.name,
        "key": ps.key,
        "description": ps.description,
        "status": "active",
        "badge": badge(&ps.badge),
        "maxPoints": ps.max_points,
    })
}

/// `AdminPointsLevel`.
pub(crate) fn admin_level(l: &Level) -> Value {
    json!({
        "id": l.id,
        "name": l.name,
        "key": l.key,
        "points": l.points,
        "description": l.description,
        "badge": badge(&l.badge),
    })
}

/// `AdminPointsBoost`.
pub(crate) fn admin_boost(b: &Boost, today: NaiveDate) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "status": b.status(today),
        "start": fmt_date(b.start),
        "end": opt_date(b.end),
        "multiplier": b.multiplier,
        "rounding": b.rounding,
        "userId": b.user_id,
        "userAttributes": filters(&b.user_attributes),
    })
}

/// `AdminPointsTrigger`.
pub(crate) fn admin_trigger(t: &Trigger) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(t.id));
    o.insert("type".into(), json!(t.kind));
    o.insert("points".into(), json!(t.points));
    o.insert("status".into(), json!(t.status));
    o.insert("userAttributes".into(), filters(&t.user_attributes));
    if let Some(m) = &t.metric_id {
        o.insert("metricId".into(), json!(m));
    }
    if let Some(m) = t.metric_threshold {
        o.insert("metricThreshold".into(), json!(m));
    }
    if !t.event_attributes.is_empty() {
        o.insert("eventAttributes".into(), filters(&t.event_attributes));
    }
    if let Some(a) = &t.achievement_id {
        o.insert("achievementId".into(), json!(a));
    }
    if let Some(l) = t.streak_length {
        o.insert("streakLength".into(), json!(l));
    }
    if let Some(u) = &t.time_unit {
        o.insert("timeUnit".into(), json!(u));
    }
    if let Some(i) = t.time_interval {
        o.insert("timeInterval".into(), json!(i));
    }
    o.insert("blockIfOutOfPoints".into(), json!(t.block_if_out_of_points));
    Value::Object(o)
}

/// `AdminLeaderboard`.
pub(crate) fn admin_leaderboard(lb: &Leaderboard) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(lb.id));
    o.insert("name".into(), json!(lb.name));
    o.insert("key".into(), json!(lb.key));
    if let Some(d) = &lb.description {
        o.insert("description".into(), json!(d));
    }
    o.insert("status".into(), json!(lb.status));
    o.insert("rankBy".into(), json!(lb.rank_by));
    if let Some(m) = &lb.metric_id {
        o.insert("metricId".into(), json!(m));
    }
    if let Some(p) = &lb.points_system_id {
        o.insert("pointsSystemId".into(), json!(p));
    }
    o.insert("maxParticipants".into(), json!(lb.max_participants));
    o.insert("start".into(), json!(fmt_date(lb.start)));
    if let Some(e) = lb.end {
        o.insert("end".into(), json!(fmt_date(e)));
    }
    if let Some(t) = &lb.start_time {
        o.insert("startTime".into(), json!(t));
    }
    if let Some(t) = &lb.end_time {
        o.insert("endTime".into(), json!(t));
    }
    o.insert("breakdownAttributes".into(), json!(lb.breakdown_attributes));
    o.insert("userAttributes".into(), id_values(&lb.user_attributes));
    if let Some(u) = &lb.run_unit {
        o.insert("runUnit".into(), json!(u));
        o.insert("runInterval".into(), json!(lb.run_interval.unwrap_or(1)));
    }
    Value::Object(o)
}

/// `AdminStreakPause`.
pub(crate) fn admin_pause(p: &Pause, today: NaiveDate) -> Value {
    json!({
        "id": p.id,
        "userId": p.user_id,
        "start": fmt_date(p.start),
        "end": fmt_date(p.end),
        "status": if p.end < today { "archived" } else { "active" },
    })
}
