//! The Application API (27 operations), mounted under `/v1`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use trophy_generated::app::types as t;

use crate::context::{parse_body, parse_body_bad_request, reply, ApiError, ApiResult, AppCtx, Caller, Params};
use crate::events;
use crate::model::{
    fmt_date, fmt_dt, parse_date, validate_user_id, Freq, Outcome, State, User, UserInput, MAX_PERIOD_STEPS,
};
use crate::render;
use crate::state::SharedState;
use crate::webhooks;

/// Routes of the Application API.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/achievements", get(achievements_all))
        .route("/achievements/{key}/complete", post(achievements_complete))
        .route("/metrics/{key}/event", post(metrics_event))
        .route("/users", post(users_create))
        .route("/users/{id}", get(users_get).put(users_identify).patch(users_update))
        .route(
            "/users/{id}/preferences",
            get(users_get_preferences).patch(users_update_preferences),
        )
        .route("/users/{id}/metrics", get(users_all_metrics))
        .route("/users/{id}/metrics/{key}", get(users_single_metric))
        .route(
            "/users/{id}/metrics/{key}/event-summary",
            get(users_metric_event_summary),
        )
        .route("/users/{id}/achievements", get(users_achievements))
        .route("/users/{id}/streak", get(users_streak))
        .route("/streaks", get(streaks_list))
        .route("/users/{id}/points/{key}", get(users_points))
        .route("/users/{id}/points/{key}/boosts", get(users_points_boosts))
        .route(
            "/users/{id}/points/{key}/event-summary",
            get(users_points_event_summary),
        )
        .route("/users/{id}/leaderboards/{key}", get(users_leaderboard))
        .route("/users/{id}/wrapped", get(users_wrapped))
        .route("/points/{key}", get(points_system))
        .route("/points/{key}/summary", get(points_summary))
        .route("/points/{key}/boosts", get(points_boosts))
        .route("/points/{key}/levels", get(points_levels))
        .route("/points/{key}/level-summary", get(points_level_summary))
        .route("/leaderboards", get(leaderboards_all))
        .route("/leaderboards/{key}", get(leaderboards_get))
}

fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("user {id:?} not found"))
}

fn get_user<'a>(st: &'a State, id: &str) -> Result<&'a User, ApiError> {
    st.users.get(id).ok_or_else(|| user_not_found(id))
}

fn system_not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("points system {key:?} not found"))
}

fn user_id_of(raw: &Value) -> String {
    raw.get("id").and_then(Value::as_str).unwrap_or_default().to_string()
}

// ----- achievements -------------------------------------------------------------------------------

async fn achievements_all(AxState(sh): AxState<SharedState>, ctx: AppCtx, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let filter = params.attr_filter("userAttributes")?;
    Ok(sh.with(&ctx.tenant, |st, _| {
        let list: Vec<Value> = st
            .achievements
            .iter()
            .filter(|a| a.status != "inactive")
            .map(|a| render::with_stats(st, a, render::achievement(st, a), &filter))
            .collect();
        reply(200, Value::Array(list))
    }))
}

async fn achievements_complete(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (_typed, raw) = parse_body::<t::AchievementsCompleteBody>(&body)?;
    let user_raw = raw.get("user").cloned().unwrap_or(Value::Null);
    let user_id = user_id_of(&user_raw);
    // The operation documents no 400.
    validate_user_id(&user_id).map_err(ApiError::unprocessable)?;
    ctx.check_user(&user_id)?;
    let input = UserInput::from_json(&user_raw);
    input.validate().map_err(ApiError::unprocessable)?;
    sh.with(&ctx.tenant, |st, now| {
        let a = st
            .achievement_by_key(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("achievement {key:?} not found")))?;
        if a.trigger != "api" {
            return Err(ApiError::unprocessable(format!(
                "achievement {key:?} is not API-triggered (trigger {})",
                a.trigger
            )));
        }
        if a.status != "active" {
            return Err(ApiError::unprocessable(format!(
                "achievement {key:?} is {} and cannot be completed",
                a.status
            )));
        }
        let mut out = Outcome::default();
        st.upsert_user(&user_id, &input, now, &mut out);
        if !st.users.get(&user_id).is_some_and(|u| st.earnable(&a, u)) {
            return Err(ApiError::unprocessable(format!(
                "user {user_id:?} does not meet the user attribute conditions of achievement {key:?}"
            )));
        }
        st.complete_achievement(&user_id, &a.id, now, &mut out);
        let (completion_id, at) = st
            .users
            .get(&user_id)
            .and_then(|u| u.achievements.get(&a.id).cloned())
            .unwrap_or_else(|| (String::new(), now));
        let points = render::points_changes(st, &user_id, &out);
        sh.emit(|| {
            // This achievement and any that completing it completed in turn; none when it was
            // already completed.
            let completed: Vec<Value> = out
                .completed
                .iter()
                .filter_map(|id| st.achievement_by_id(id))
                .map(|c| render::user_achievement(st, c, Some(now)))
                .collect();
            webhooks::payloads(st, &user_id, &completed, None, &points)
        });
        Ok(reply(
            201,
            json!({
                "completionId": completion_id,
                "achievement": render::user_achievement(st, &a, Some(at)),
                "points": points,
            }),
        ))
    })
}

// ----- metric events ----------------------------------------------------------------------------

async fn metrics_event(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let (typed, raw) = parse_body_bad_request::<t::MetricsEventBody>(&body)?;
    let user_raw = raw.get("user").cloned().unwrap_or(Value::Null);
    let user_id = typed.user.id.clone();
    validate_user_id(&user_id).map_err(ApiError::bad_request)?;
    ctx.check_user(&user_id)?;
    let input = UserInput::from_json(&user_raw);
    input.validate().map_err(ApiError::unprocessable)?;
    let idem = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|s| !s.is_empty() && s.len() <= 255)
                .ok_or_else(|| ApiError::bad_request("invalid Idempotency-Key header"))?
                .to_string(),
        ),
    };
    sh.with(&ctx.tenant, |st, now| {
        if st.metric_by_key(&key).is_none() {
            return Err(ApiError::unprocessable(format!("metric with key {key:?} not found")));
        }
        match events::record_event(
            st,
            &key,
            &user_id,
            &input,
            typed.value,
            &typed.attributes,
            idem.as_deref(),
            now,
        ) {
            Ok(recorded) => {
                if !recorded.replayed {
                    sh.emit(|| webhooks::event_payloads(st, &user_id, &recorded));
                }
                Ok(reply(if recorded.replayed { 202 } else { 201 }, recorded.body))
            }
            Err((status, msg)) => Err(ApiError::new(status, msg)),
        }
    })
}

// ----- users -----------------------------------------------------------------------------------

async fn users_create(AxState(sh): AxState<SharedState>, ctx: AppCtx, body: Bytes) -> ApiResult {
    let (_typed, raw) = parse_body_bad_request::<t::UpsertedUser>(&body)?;
    let user_id = user_id_of(&raw);
    validate_user_id(&user_id).map_err(ApiError::bad_request)?;
    ctx.check_user(&user_id)?;
    let input = UserInput::from_json(&raw);
    input.validate().map_err(ApiError::unprocessable)?;
    sh.with(&ctx.tenant, |st, now| {
        if st.users.contains_key(&user_id) {
            return Err(ApiError::unprocessable(format!("user {user_id:?} already exists")));
        }
        st.upsert_user(&user_id, &input, now, &mut Outcome::default());
        Ok(reply(201, render::user(get_user(st, &user_id)?)))
    })
}

async fn users_get(AxState(sh): AxState<SharedState>, ctx: AppCtx, Path(id): Path<String>) -> ApiResult {
    ctx.check_user(&id)?;
    validate_user_id(&id).map_err(ApiError::bad_request)?;
    sh.with(&ctx.tenant, |st, _| Ok(reply(200, render::user(get_user(st, &id)?))))
}

async fn users_identify(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    ctx.check_user(&id)?;
    validate_user_id(&id).map_err(ApiError::bad_request)?;
    let (_typed, raw) = parse_body_bad_request::<t::UpdatedUser>(&body)?;
    let input = UserInput::from_json(&raw);
    input.validate().map_err(ApiError::unprocessable)?;
    sh.with(&ctx.tenant, |st, now| {
        st.upsert_user(&id, &input, now, &mut Outcome::default());
        Ok(reply(200, render::user(get_user(st, &id)?)))
    })
}

async fn users_update(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    ctx.check_user(&id)?;
    validate_user_id(&id).map_err(ApiError::bad_request)?;
    let (_typed, raw) = parse_body_bad_request::<t::UpdatedUser>(&body)?;
    let input = UserInput::from_json(&raw);
    input.validate().map_err(ApiError::unprocessable)?;
    sh.with(&ctx.tenant, |st, now| {
        get_user(st, &id)?;
        st.upsert_user(&id, &input, now, &mut Outcome::default());
        Ok(reply(200, render::user(get_user(st, &id)?)))
    })
}

fn preferences(u: &User) -> Value {
    let mut o = Map::new();
    o.insert("notifications".into(), Value::Object(u.notifications.clone()));
    if let Some(s) = &u.streak_prefs {
        o.insert("streak".into(), s.clone());
    }
    Value::Object(o)
}

async fn users_get_preferences(AxState(sh): AxState<SharedState>, ctx: AppCtx, Path(id): Path<String>) -> ApiResult {
    ctx.check_user(&id)?;
    sh.with(&ctx.tenant, |st, _| Ok(reply(200, preferences(get_user(st, &id)?))))
}

async fn users_update_preferences(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    ctx.check_user(&id)?;
    let (_typed, raw) = parse_body::<t::UpdateUserPreferencesRequest>(&body)?;
    let mut notif_updates = Map::new();
    if let Some(n) = raw.get("notifications").and_then(Value::as_object) {
        for (k, v) in n {
            if !["achievement_completed", "recap", "reactivation", "streak_reminder"].contains(&k.as_str()) {
                continue;
            }
            let ok = v
                .as_array()
                .is_some_and(|a| a.iter().all(|c| matches!(c.as_str(), Some("email" | "push"))));
            if !ok {
                return Err(ApiError::unprocessable(format!(
                    "notifications.{k} must list channels email or push"
                )));
            }
            notif_updates.insert(k.clone(), v.clone());
        }
    }
    let streak = raw.get("streak").filter(|v| v.is_object()).cloned();
    if let Some(s) = &streak {
        if let Some(m) = s.get("evaluationMode") {
            if !matches!(m.as_str(), Some("OR" | "AND")) {
                return Err(ApiError::unprocessable("streak.evaluationMode must be OR or AND"));
            }
        }
    }
    sh.with(&ctx.tenant, |st, now| {
        let metric_keys: Vec<String> = st.metrics.iter().map(|m| m.key.clone()).collect();
        if let Some(ms) = streak.as_ref().and_then(|s| s.get("metrics")).and_then(Value::as_array) {
            for m in ms {
                let k = m.get("key").and_then(Value::as_str).unwrap_or_default();
                if !metric_keys.iter().any(|x| x == k) {
                    return Err(ApiError::unprocessable(format!("streak metric {k:?} not found")));
                }
            }
        }
        let u = st.users.get_mut(&id).ok_or_else(|| user_not_found(&id))?;
        for (k, v) in notif_updates {
            u.notifications.insert(k, v);
        }
        if let Some(s) = streak {
            let mut merged = match u.streak_prefs.take() {
                Some(Value::Object(o)) => o,
                _ => {
                    let mut o = Map::new();
                    o.insert("enabled".into(), Value::Bool(true));
                    o
                }
            };
            if let Value::Object(o) = s {
                for (k, v) in o {
                    merged.insert(k, v);
                }
            }
            u.streak_prefs = Some(Value::Object(merged));
        }
        u.updated = now;
        Ok(reply(200, preferences(u)))
    })
}

// ----- user metrics -----------------------------------------------------------------------------

fn metric_response(st: &State, u: &User, metric_id: &str) -> Value {
    let Some(m) = st.metric_by_id(metric_id) else {
        return Value::Null;
    };
    let achievements: Vec<Value> = st
        .achievements
        .iter()
        .filter(|a| a.status != "inactive" && a.trigger == "metric" && a.metric_key.as_deref() == Some(m.key.as_str()))
        .map(|a| render::user_achievement(st, a, u.achievements.get(&a.id).map(|(_, t)| *t)))
        .collect();
    json!({
        "id": m.id,
        "key": m.key,
        "name": m.name,
        "current": u.totals.get(&m.id).copied().unwrap_or(0.0),
        "achievements": achievements,
    })
}

async fn users_all_metrics(AxState(sh): AxState<SharedState>, ctx: AppCtx, Path(id): Path<String>) -> ApiResult {
    ctx.check_user(&id)?;
    sh.with(&ctx.tenant, |st, _| {
        let u = get_user(st, &id)?;
        let list: Vec<Value> = st.metrics.iter().map(|m| metric_response(st, u, &m.id)).collect();
        Ok(reply(200, Value::Array(list)))
    })
}

async fn users_single_metric(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult {
    ctx.check_user(&id)?;
    sh.with(&ctx.tenant, |st, _| {
        let u = get_user(st, &id)?;
        let m = st
            .metric_by_key(&key)
            .ok_or_else(|| ApiError::not_found(format!("metric {key:?} not found")))?;
        Ok(reply(200, metric_response(st, u, &m.id)))
    })
}

struct SummaryQuery {
    agg: Freq,
    start: NaiveDate,
    end: NaiveDate,
}

fn summary_query(params: &Params) -> Result<SummaryQuery, ApiError> {
    let agg = params
        .get("aggregation")
        .and_then(Freq::parse)
        .ok_or_else(|| ApiError::unprocessable("aggregation must be daily, weekly or monthly"))?;
    let date = |name: &str| {
        params
            .get(name)
            .and_then(parse_date)
            .ok_or_else(|| ApiError::unprocessable(format!("{name} must be a date (YYYY-MM-DD)")))
    };
    let start = date("startDate")?;
    let end = date("endDate")?;
    if start > end {
        return Err(ApiError::unprocessable("startDate must not be after endDate"));
    }
    Ok(SummaryQuery { agg, start, end })
}

/// The sum of `values`, `0.0` when there are none. (`Iterator::sum` of `f64` starts from
/// `-0.0`, so an empty sum would be answered as `-0.0`, which Trophy never sends.)
fn sum(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |acc, v| acc + v)
}

/// Buckets of (date, cumulative total, change) from dated amounts.
fn summarise(q: &SummaryQuery, items: &[(NaiveDate, f64)]) -> Result<Value, ApiError> {
    let mut out = Vec::new();
    let mut b = q.agg.start(q.start);
    let mut steps = 0;
    while b <= q.end {
        steps += 1;
        if steps > 1000 {
            return Err(ApiError::unprocessable("the date range covers more than 1000 periods"));
        }
        let bs = b.max(q.start);
        let be = q.agg.end(b).min(q.end);
        let change = sum(items.iter().filter(|(d, _)| *d >= bs && *d <= be).map(|(_, v)| *v));
        let total = sum(items.iter().filter(|(d, _)| *d <= be).map(|(_, v)| *v));
        out.push(json!({"date": fmt_date(bs), "total": total, "change": change}));
        let n = q.agg.next(b);
        if n == b {
            break;
        }
        b = n;
    }
    Ok(Value::Array(out))
}

async fn users_metric_event_summary(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path((id, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    let sq = summary_query(&params)?;
    sh.with(&ctx.tenant, |st, _| {
        let u = get_user(st, &id)?;
        let m = st
            .metric_by_key(&key)
            .ok_or_else(|| ApiError::not_found(format!("metric {key:?} not found")))?;
        let items: Vec<(NaiveDate, f64)> = u
            .events
            .iter()
            .filter(|e| e.metric_id == m.id)
            .map(|e| (e.at.date_naive(), e.value))
            .collect();
        Ok(reply(200, summarise(&sq, &items)?))
    })
}

async fn users_achievements(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    let include_incomplete = params.flag("includeIncomplete")?;
    sh.with(&ctx.tenant, |st, _| {
        let u = get_user(st, &id)?;
        let list: Vec<Value> = st
            .achievements
            .iter()
            .filter_map(|a| {
                let at = u.achievements.get(&a.id).map(|(_, t)| *t);
                if at.is_none() && (!include_incomplete || a.status == "inactive") {
                    return None;
                }
                Some(render::with_stats(st, a, render::user_achievement(st, a, at), &[]))
            })
            .collect();
        Ok(reply(200, Value::Array(list)))
    })
}

// ----- streaks ----------------------------------------------------------------------------------

async fn users_streak(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    let n = params.int("historyPeriods", 7, 0, 1000)?;
    sh.with(&ctx.tenant, |st, now| {
        let u = get_user(st, &id)?;
        Ok(reply(200, render::streak(st, u, now.date_naive(), n as usize)))
    })
}

async fn streaks_list(AxState(sh): AxState<SharedState>, ctx: AppCtx, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let ids = params.list("userIds");
    if ids.is_empty() {
        return Err(ApiError::unprocessable("userIds is required"));
    }
    if ids.len() > 100 {
        return Err(ApiError::unprocessable("at most 100 userIds may be requested"));
    }
    if let Caller::User(_) = ctx.caller {
        for id in &ids {
            ctx.check_user(id)?;
        }
    }
    Ok(sh.with(&ctx.tenant, |st, now| {
        let today = now.date_naive();
        let list: Vec<Value> = ids
            .iter()
            .map(|id| {
                let v = st.streak_view(id, today);
                json!({
                    "userId": id,
                    "streakLength": v.length,
                    "extended": v.extended_at.map(fmt_dt),
                })
            })
            .collect();
        reply(200, Value::Array(list))
    }))
}

// ----- user points ------------------------------------------------------------------------------

async fn users_points(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path((id, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    let n = params.int("awards", 10, 1, 100)?;
    sh.with(&ctx.tenant, |st, _| {
        let u = get_user(st, &id)?;
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let up = u.points.get(&ps.id);
        let total = up.map_or(0, |p| p.total);
        let awards: Vec<Value> = up
            .map(|p| p.awards.iter().rev().take(n as usize).map(render::award).collect())
            .unwrap_or_default();
        let mut j = render::points_base(ps);
        if let Some(o) = j.as_object_mut() {
            o.insert("total".into(), json!(total));
            o.insert(
                "level".into(),
                ps.level_for(total).map_or(Value::Null, render::app_level),
            );
            o.insert("awards".into(), Value::Array(awards));
        }
        Ok(reply(200, j))
    })
}

async fn users_points_boosts(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult {
    ctx.check_user(&id)?;
    sh.with(&ctx.tenant, |st, now| {
        let today = now.date_naive();
        let u = get_user(st, &id)?;
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let list: Vec<Value> = ps
            .boosts
            .iter()
            .filter(|b| b.status(today) != "finished")
            .filter(|b| b.user_id.as_ref().is_none_or(|x| x == &id))
            .filter(|b| st.user_matches_filters(u, &b.user_attributes))
            .map(|b| render::app_boost(b, today))
            .collect();
        Ok(reply(200, Value::Array(list)))
    })
}

async fn users_points_event_summary(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path((id, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    let sq = summary_query(&params)?;
    sh.with(&ctx.tenant, |st, _| {
        let u = get_user(st, &id)?;
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let items: Vec<(NaiveDate, f64)> = u
            .points
            .get(&ps.id)
            .map(|p| p.awards.iter().map(|a| (a.at.date_naive(), a.awarded as f64)).collect())
            .unwrap_or_default();
        Ok(reply(200, summarise(&sq, &items)?))
    })
}

// ----- leaderboards -----------------------------------------------------------------------------

fn ranking_json(r: &crate::model::Ranking) -> Value {
    json!({"userId": r.user_id, "userName": r.user_name, "rank": r.rank, "value": r.value})
}

fn run_param(params: &Params) -> Result<Option<NaiveDate>, ApiError> {
    match params.get("run") {
        None | Some("") => Ok(None),
        Some(s) => parse_date(s)
            .map(Some)
            .ok_or_else(|| ApiError::unprocessable("run must be a date (YYYY-MM-DD)")),
    }
}

async fn users_leaderboard(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path((id, key)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    let run = run_param(&params)?;
    let n = params.int("numEvents", 10, 0, 100)?;
    sh.with(&ctx.tenant, |st, now| {
        let today = now.date_naive();
        let u = get_user(st, &id)?;
        let lb = st
            .leaderboards
            .iter()
            .find(|l| l.key == key && l.exposed())
            .ok_or_else(|| ApiError::not_found(format!("leaderboard {key:?} not found")))?;
        let window = lb.run_for(run.unwrap_or(today));
        let ranks = st.rankings(lb, window, &[], today);
        let mine = ranks.iter().find(|r| r.user_id == id);
        let hist = u.lb_history.get(&lb.id).map(Vec::as_slice).unwrap_or_default();
        let skip = hist.len().saturating_sub(n as usize);
        let history: Vec<Value> = hist[skip..]
            .iter()
            .map(|h| {
                json!({
                    "date": fmt_date(h.at.date_naive()),
                    "timestamp": fmt_dt(h.at),
                    "previousRank": h.previous_rank,
                    "rank": h.rank,
                    "previousValue": h.previous_value,
                    "value": h.value,
                })
            })
            .collect();
        let mut j = render::leaderboard_base(st, lb);
        if let Some(o) = j.as_object_mut() {
            o.insert("status".into(), json!(lb.app_status(today)));
            o.insert("rank".into(), json!(mine.map(|r| r.rank)));
            o.insert("value".into(), json!(mine.map(|r| r.value)));
            o.insert("history".into(), Value::Array(history));
        }
        Ok(reply(200, j))
    })
}

async fn leaderboards_all(AxState(sh): AxState<SharedState>, ctx: AppCtx, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let include_finished = params.flag("includeFinished")?;
    Ok(sh.with(&ctx.tenant, |st, now| {
        let today = now.date_naive();
        let list: Vec<Value> = st
            .leaderboards
            .iter()
            .filter(|lb| lb.exposed())
            .filter(|lb| include_finished || lb.app_status(today) != "finished")
            .map(|lb| {
                let mut j = render::leaderboard_base(st, lb);
                if let Some(o) = j.as_object_mut() {
                    o.insert("status".into(), json!(lb.app_status(today)));
                }
                j
            })
            .collect();
        reply(200, Value::Array(list))
    }))
}

async fn leaderboards_get(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let offset = params.int("offset", 0, 0, i64::from(u32::MAX))? as usize;
    let limit = params.int("limit", 10, 0, 1000)? as usize;
    let run = run_param(&params)?;
    let filter = params.attr_filter("userAttributes")?;
    let user_id = params.get("userId").map(str::to_string);
    sh.with(&ctx.tenant, |st, now| {
        let today = now.date_naive();
        let lb = st
            .leaderboards
            .iter()
            .find(|l| l.key == key && l.exposed())
            .ok_or_else(|| ApiError::not_found(format!("leaderboard {key:?} not found")))?;
        let ranks = st.rankings(lb, lb.run_for(run.unwrap_or(today)), &filter, today);
        let base = user_id
            .as_ref()
            .and_then(|u| ranks.iter().position(|r| &r.user_id == u))
            .unwrap_or(0);
        let rankings: Vec<Value> = ranks
            .iter()
            .skip(base.saturating_add(offset))
            .take(limit)
            .map(ranking_json)
            .collect();
        let mut j = render::leaderboard_base(st, lb);
        if let Some(o) = j.as_object_mut() {
            o.insert("status".into(), json!(lb.app_status(today)));
            o.insert("rankings".into(), Value::Array(rankings));
        }
        Ok(reply(200, j))
    })
}

// ----- wrapped ----------------------------------------------------------------------------------

fn percent_change(total: f64, change: f64) -> f64 {
    let before = total - change;
    if before.abs() < f64::EPSILON {
        if change.abs() < f64::EPSILON {
            0.0
        } else {
            100.0
        }
    } else {
        (change / before.abs() * 10_000.0).round() / 100.0
    }
}

fn wrapped_period(st: &State, u: &User, from: NaiveDate, to: NaiveDate) -> Map<String, Value> {
    let mut metrics = Map::new();
    for m in &st.metrics {
        let evs = u.events.iter().filter(|e| e.metric_id == m.id);
        let total = sum(evs.clone().filter(|e| e.at.date_naive() <= to).map(|e| e.value));
        let change = sum(evs
            .filter(|e| (from..=to).contains(&e.at.date_naive()))
            .map(|e| e.value));
        metrics.insert(
            m.key.clone(),
            json!({
                "name": m.name,
                "units": if m.units.is_empty() { Value::Null } else { json!(m.units) },
                "currentTotal": total,
                "changeThisPeriod": change,
                "percentChange": percent_change(total, change),
                "byAttribute": {},
            }),
        );
    }
    let mut points = Map::new();
    for ps in &st.systems {
        let awards = u.points.get(&ps.id).map(|p| p.awards.as_slice()).unwrap_or_default();
        let total: i64 = awards
            .iter()
            .filter(|a| a.at.date_naive() <= to)
            .fold(0i64, |acc, a| acc.saturating_add(a.awarded));
        let change: i64 = awards
            .iter()
            .filter(|a| (from..=to).contains(&a.at.date_naive()))
            .fold(0i64, |acc, a| acc.saturating_add(a.awarded));
        points.insert(
            ps.key.clone(),
            json!({
                "name": ps.name,
                "description": if ps.description.is_empty() { Value::Null } else { json!(ps.description) },
                "currentTotal": total,
                "changeThisPeriod": change,
                "percentChange": percent_change(total as f64, change as f64),
            }),
        );
    }
    let achievements: Vec<Value> = st
        .achievements
        .iter()
        .filter_map(|a| {
            let (_, at) = u.achievements.get(&a.id)?;
            (from..=to)
                .contains(&at.date_naive())
                .then(|| render::user_achievement(st, a, Some(*at)))
        })
        .collect();
    let mut o = Map::new();
    o.insert("metrics".into(), Value::Object(metrics));
    o.insert("points".into(), Value::Object(points));
    o.insert("achievements".into(), Value::Array(achievements));
    o.insert("leaderboards".into(), json!({}));
    o
}

/// The key with the highest count, earliest on ties.
fn busiest<K: Copy + Ord>(counts: &BTreeMap<K, usize>) -> Option<K> {
    let mut best: Option<(K, usize)> = None;
    for (k, c) in counts {
        if best.is_none_or(|(_, bc)| *c > bc) {
            best = Some((*k, *c));
        }
    }
    best.map(|(k, _)| k)
}

fn wrapped(st: &State, u: &User, year: i32) -> Value {
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let dec31 = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(jan1);
    let dates: Vec<DateTime<Utc>> = u.events.iter().map(|e| e.at).filter(|t| t.year() == year).collect();
    let mut days: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut weeks: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut months: BTreeMap<u32, usize> = BTreeMap::new();
    for t in &dates {
        let d = t.date_naive();
        *days.entry(d).or_default() += 1;
        *weeks.entry(Freq::Weekly.start(d)).or_default() += 1;
        *months.entry(d.month0()).or_default() += 1;
    }
    let day = busiest(&days).unwrap_or(jan1);
    let week = busiest(&weeks).unwrap_or_else(|| Freq::Weekly.start(jan1));
    let week_end = Freq::Weekly.end(week);
    let month0 = busiest(&months).unwrap_or(0);
    let month_start = NaiveDate::from_ymd_opt(year, month0 + 1, 1).unwrap_or(jan1);
    let month_end = Freq::Monthly.end(month_start);

    let mut most_day = wrapped_period(st, u, day, day);
    most_day.insert("date".into(), json!(fmt_date(day)));
    let mut most_week = wrapped_period(st, u, week, week_end);
    most_week.insert("start".into(), json!(fmt_date(week)));
    most_week.insert("end".into(), json!(fmt_date(week_end)));
    let mut most_month = wrapped_period(st, u, month_start, month_end);
    most_month.insert("month".into(), json!(month0));

    // Longest run of consecutive active streak periods within the year.
    let f = st.streak.freq;
    let periods: std::collections::BTreeSet<NaiveDate> = dates.iter().map(|t| f.start(t.date_naive())).collect();
    let mut best: (i64, Option<NaiveDate>, Option<NaiveDate>) = (0, None, None);
    let mut cur: (i64, Option<NaiveDate>, Option<NaiveDate>) = (0, None, None);
    for p in periods.iter().take(MAX_PERIOD_STEPS) {
        cur = match cur {
            (n, Some(s), Some(last)) if f.next(last) == *p => (n + 1, Some(s), Some(*p)),
            _ => (1, Some(*p), Some(*p)),
        };
        if cur.0 > best.0 {
            best = cur;
        }
    }
    let mut year_period = wrapped_period(st, u, jan1, dec31);
    year_period.insert(
        "longestStreak".into(),
        json!({
            "length": best.0,
            "frequency": f.as_str(),
            "periodStart": best.2.map(fmt_date),
            "periodEnd": best.2.map(|p| fmt_date(f.end(p))),
            "started": best.1.map(fmt_date),
        }),
    );
    json!({
        "user": render::user(u),
        "activity": {
            "daysActive": days.len(),
            "weeksActive": weeks.len(),
            "monthsActive": months.len(),
            "mostActiveDay": most_day,
            "mostActiveWeek": most_week,
            "mostActiveMonth": most_month,
            "entireYear": year_period,
        },
    })
}

async fn users_wrapped(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    ctx.check_user(&id)?;
    let params = Params::parse(q.as_deref());
    sh.with(&ctx.tenant, |st, now| {
        let year = params.int("year", i64::from(now.year()), 1, 9999)? as i32;
        let u = get_user(st, &id)?;
        Ok(reply(200, wrapped(st, u, year)))
    })
}

// ----- points systems ---------------------------------------------------------------------------

async fn points_system(AxState(sh): AxState<SharedState>, ctx: AppCtx, Path(key): Path<String>) -> ApiResult {
    sh.with(&ctx.tenant, |st, _| {
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let triggers: Vec<Value> = ps.triggers.iter().map(|t| render::app_trigger(st, t)).collect();
        let base = render::points_base(ps);
        Ok(reply(
            200,
            json!({
                "id": ps.id,
                "name": ps.name,
                "description": base.get("description"),
                "badgeUrl": ps.badge,
                "maxPoints": ps.max_points,
                "triggers": triggers,
            }),
        ))
    })
}

async fn points_summary(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let filter = params.attr_filter("userAttributes")?;
    sh.with(&ctx.tenant, |st, _| {
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let totals: Vec<i64> = st
            .users
            .values()
            .filter(|u| filter.iter().all(|(k, v)| u.attributes.get(k).is_some_and(|x| x == v)))
            .map(|u| u.points.get(&ps.id).map_or(0, |p| p.total).max(0))
            .collect();
        let max = totals.iter().copied().max().unwrap_or(0);
        let width = (max / 10 + 1).max(1);
        let ranges: Vec<Value> = (0..10)
            .map(|i: i64| {
                let from = i.saturating_mul(width);
                let to = from.saturating_add(width - 1);
                let users = totals.iter().filter(|t| **t >= from && **t <= to).count();
                json!({"from": from, "to": to, "users": users})
            })
            .collect();
        Ok(reply(200, Value::Array(ranges)))
    })
}

async fn points_boosts(
    AxState(sh): AxState<SharedState>,
    ctx: AppCtx,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    // The operation documents 200, 401 and 404 only: 404 is the closest (openapi/README.md).
    let include_finished = params.flag_or("includeFinished", 404)?;
    sh.with(&ctx.tenant, |st, now| {
        let today = now.date_naive();
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let list: Vec<Value> = ps
            .boosts
            .iter()
            .filter(|b| include_finished || b.status(today) != "finished")
            .map(|b| render::app_boost(b, today))
            .collect();
        Ok(reply(200, Value::Array(list)))
    })
}

fn sorted_levels(ps: &crate::model::PointsSystem) -> Vec<&crate::model::Level> {
    let mut levels: Vec<_> = ps.levels.iter().collect();
    levels.sort_by_key(|l| l.points);
    levels
}

async fn points_levels(AxState(sh): AxState<SharedState>, ctx: AppCtx, Path(key): Path<String>) -> ApiResult {
    sh.with(&ctx.tenant, |st, _| {
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let list: Vec<Value> = sorted_levels(ps).into_iter().map(render::app_level).collect();
        Ok(reply(200, Value::Array(list)))
    })
}

async fn points_level_summary(AxState(sh): AxState<SharedState>, ctx: AppCtx, Path(key): Path<String>) -> ApiResult {
    sh.with(&ctx.tenant, |st, _| {
        let ps = st.system_by_key(&key).ok_or_else(|| system_not_found(&key))?;
        let list: Vec<Value> = sorted_levels(ps)
            .into_iter()
            .map(|l| {
                let users = st
                    .users
                    .values()
                    .filter(|u| {
                        let total = u.points.get(&ps.id).map_or(0, |p| p.total);
                        ps.level_for(total).is_some_and(|x| x.id == l.id)
                    })
                    .count();
                json!({"level": render::app_level(l), "users": users})
            })
            .collect();
        Ok(reply(200, Value::Array(list)))
    })
}
