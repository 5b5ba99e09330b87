//! The Admin API (58 operations), mounted under `/admin/v1`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use trophy_generated::admin::types as ta;

use crate::context::{parse_body, parse_body_bad_request, reply, AdminCtx, ApiError, ApiResult, Params};
use crate::events;
use crate::model::{
    fmt_dt, new_id, parse_date, valid_key, validate_user_id, Achievement, Attribute, Boost, Freq, Leaderboard, Level,
    Metric, Pause, PointsSystem, State, Trigger, UserInput,
};
use crate::render;
use crate::state::{AppKey, SharedState, TenantRec};
use crate::webhooks;

/// Routes of the Admin API.
pub(crate) fn routes() -> Router<SharedState> {
    let router = Router::new();
    let router = system_items::<Boost>(router, "boosts");
    let router = system_items::<Level>(router, "levels");
    let router = system_items::<Trigger>(router, "triggers");
    let router = resource::<Achievement>(router, "achievements");
    let router = resource::<Attribute>(router, "attributes");
    let router = resource::<Metric>(router, "metrics");
    let router = resource::<PointsSystem>(router, "points");
    let router = resource::<Leaderboard>(router, "leaderboards");
    router
        .route("/environments", get(environments_list))
        .route("/settings", get(settings_get).patch(settings_update))
        .route("/streaks/reset", post(streaks_reset))
        .route(
            "/streaks/settings",
            get(streak_settings_get).patch(streak_settings_update),
        )
        .route("/metrics/events", post(metrics_batch_events))
        .route("/streaks/freezes", post(freezes_create))
        .route("/streaks/pauses", post(pauses_create).delete(pauses_delete))
        .route("/streaks/restore", post(streaks_restore))
        .route("/application-api-keys", post(app_keys_create).delete(app_keys_delete))
        .route(
            "/tenants",
            get(tenants_list)
                .post(tenants_create)
                .patch(tenants_update)
                .delete(tenants_delete),
        )
        .route("/tenants/{id}", get(tenants_get))
}

// ----- helpers ----------------------------------------------------------------------------------

fn issue(index: usize, message: impl Into<String>) -> Value {
    json!({"index": index, "severity": "error", "message": message.into()})
}

/// The items of a bulk request body, checked for count.
fn items(raw: &Value, max: usize) -> Result<Vec<Value>, ApiError> {
    let items = raw.as_array().cloned().unwrap_or_default();
    if items.is_empty() || items.len() > max {
        return Err(ApiError::unprocessable(format!(
            "the request must contain between 1 and {max} items"
        )));
    }
    Ok(items)
}

/// 201 when something was created, else 200.
fn created_reply(any: bool, body: Value) -> Response {
    reply(if any { 201 } else { 200 }, body)
}

/// A bulk create: `build` checks each item against the state; `add` stores a good one and returns
/// its JSON; a bad one becomes an issue. `{created, issues}`, 201 when anything was created.
fn bulk_create<S: ?Sized, T>(
    st: &mut S,
    items: &[Value],
    build: impl Fn(&S, &Value) -> Result<T, String>,
    add: impl Fn(&mut S, T) -> Value,
) -> Response {
    let mut created = Vec::new();
    let mut issues = Vec::new();
    for (i, v) in items.iter().enumerate() {
        match build(st, v) {
            Ok(item) => created.push(add(st, item)),
            Err(m) => issues.push(issue(i, m)),
        }
    }
    created_reply(!created.is_empty(), json!({"created": created, "issues": issues}))
}

fn page<T: Clone>(list: &[T], params: &Params) -> Result<Vec<T>, ApiError> {
    let limit = params.int("limit", 10, 1, 100)? as usize;
    let skip = params.int("skip", 0, 0, i64::from(u32::MAX))? as usize;
    Ok(list.iter().skip(skip).take(limit).cloned().collect())
}

/// The `ids` of a bulk delete: 1 to 100 UUIDs, else 422.
fn delete_ids(params: &Params) -> Result<Vec<String>, ApiError> {
    let ids = params.list("ids");
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::unprocessable("ids must list between 1 and 100 IDs"));
    }
    for id in &ids {
        check_uuid("ids", id)?;
    }
    Ok(ids)
}

/// An ID the documents type as a UUID (`format: uuid`): anything else answers 422, the
/// documented status for invalid input, rather than "not found".
fn check_uuid(name: &str, id: &str) -> Result<(), ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| ApiError::unprocessable(format!("{name}: {id:?} is not a UUID")))
}

/// Deletes matching items; returns the `{deleted, issues}` body.
fn delete_where<T>(list: &mut Vec<T>, ids: &[String], id_of: impl Fn(&T) -> &str, what: &str) -> Value {
    let mut deleted = Vec::new();
    let mut issues = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match list.iter().position(|x| id_of(x) == id) {
            Some(pos) => {
                list.remove(pos);
                deleted.push(json!({"id": id}));
            }
            None => {
                issues.push(json!({"id": id, "index": i, "severity": "error", "message": format!("{what} not found")}))
            }
        }
    }
    json!({"deleted": deleted, "issues": issues})
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// A bulk update: each item names an existing one by `id` (`position` finds it), else it gets the
/// issue "`<what>` not found"; `apply` checks and stores the update and returns the item's new JSON,
/// or the message of an issue (under `id_field`). `{updated, issues}`, 200.
fn bulk_update<S: ?Sized>(
    st: &mut S,
    items: &[Value],
    what: &str,
    id_field: &str,
    position: impl Fn(&S, &str) -> Option<usize>,
    apply: impl Fn(&mut S, usize, &Value) -> Result<Value, String>,
) -> Response {
    let mut updated = Vec::new();
    let mut issues = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let id = str_field(v, "id").unwrap_or_default();
        let result = match position(st, id) {
            Some(pos) => apply(st, pos, v),
            None => Err(format!("{what} not found")),
        };
        match result {
            Ok(json) => updated.push(json),
            Err(message) => issues.push(json!({(id_field): id, "index": i, "severity": "error", "message": message})),
        }
    }
    reply(200, json!({"updated": updated, "issues": issues}))
}

/// Copies the fields of `patch` over `base`; null values remove the field.
fn overlay(mut base: Value, patch: &Value) -> Value {
    if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

fn check_name(v: &Value) -> Result<String, String> {
    match str_field(v, "name") {
        Some(n) if !n.trim().is_empty() && n.len() <= 255 => Ok(n.to_string()),
        _ => Err("name must be a non-empty string of at most 255 characters".into()),
    }
}

fn check_key(v: &Value, taken: impl Fn(&str) -> bool) -> Result<String, String> {
    let key = str_field(v, "key").unwrap_or_default();
    if !valid_key(key) {
        return Err(format!("key {key:?} must match ^[A-Za-z0-9_-]+$"));
    }
    if taken(key) {
        return Err(format!("key {key:?} is already in use"));
    }
    Ok(key.to_string())
}

fn opt_date(v: &Value, k: &str) -> Result<Option<NaiveDate>, String> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_str()
            .and_then(parse_date)
            .map(Some)
            .ok_or_else(|| format!("{k} must be a date (YYYY-MM-DD)")),
    }
}

/// `[{attributeId, attributeValue}]` naming existing attributes of `kind`.
fn attr_filters(st: &State, v: &Value, k: &str, kind: &str) -> Result<Vec<(String, String)>, String> {
    let Some(list) = v.get(k).and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|f| {
            let id = str_field(f, "attributeId").unwrap_or_default();
            let value = str_field(f, "attributeValue").unwrap_or_default();
            match st.attributes.iter().find(|a| a.id == id) {
                Some(a) if a.kind == kind => Ok((id.to_string(), value.to_string())),
                Some(_) => Err(format!("{k}: attribute {id} is not a {kind} attribute")),
                None => Err(format!("{k}: attribute {id} not found")),
            }
        })
        .collect()
}

fn system_index(st: &State, id: &str) -> Result<usize, ApiError> {
    check_uuid("systemId", id)?;
    st.systems
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found(format!("points system {id} not found")))
}

// ----- builders (create, and update by overlaying the current JSON) -----------------------------------

fn build_level(v: &Value, others: &[Level], id: Option<&str>) -> Result<Level, String> {
    let name = check_name(v)?;
    let key = check_key(v, |k| others.iter().any(|l| l.key == k && Some(l.id.as_str()) != id))?;
    let points = v
        .get("points")
        .and_then(Value::as_i64)
        .filter(|p| *p >= 0)
        .ok_or("points must be an integer of at least 0")?;
    Ok(Level {
        id: id.map_or_else(new_id, str::to_string),
        key,
        name,
        description: str_field(v, "description").unwrap_or_default().to_string(),
        badge: v.get("badge").and_then(|b| str_field(b, "url")).map(str::to_string),
        points,
    })
}

fn build_boost(st: &State, v: &Value, id: Option<&str>) -> Result<Boost, String> {
    let name = check_name(v)?;
    let start = opt_date(v, "start")?.ok_or("start is required")?;
    let end = opt_date(v, "end")?;
    if end.is_some_and(|e| e < start) {
        return Err("end must not be before start".into());
    }
    let multiplier = v
        .get("multiplier")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0 && *m < 100.0)
        .ok_or("multiplier must be greater than 0 and less than 100")?;
    let rounding = str_field(v, "rounding").unwrap_or("down");
    if !["down", "up", "nearest"].contains(&rounding) {
        return Err("rounding must be down, up or nearest".into());
    }
    let user_id = str_field(v, "userId").map(str::to_string);
    Ok(Boost {
        id: id.map_or_else(new_id, str::to_string),
        name,
        start,
        end,
        multiplier,
        rounding: rounding.to_string(),
        user_id,
        user_attributes: attr_filters(st, v, "userAttributes", "user")?,
    })
}

fn build_trigger(st: &State, v: &Value, old: Option<&Trigger>, now: DateTime<Utc>) -> Result<Trigger, String> {
    let kind = str_field(v, "type").unwrap_or_default();
    if !["metric", "achievement", "streak", "time", "user_creation"].contains(&kind) {
        return Err(format!("unknown trigger type {kind:?}"));
    }
    let points = v
        .get("points")
        .and_then(Value::as_i64)
        .ok_or("points must be an integer")?;
    let status = str_field(v, "status").unwrap_or("inactive");
    if !["active", "inactive"].contains(&status) {
        return Err("status must be active or inactive".into());
    }
    let int = |k: &str| -> Result<Option<i64>, String> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => x
                .as_i64()
                .filter(|n| *n >= 1)
                .map(Some)
                .ok_or_else(|| format!("{k} must be an integer of at least 1")),
        }
    };
    let mut t = Trigger {
        id: old.map_or_else(new_id, |o| o.id.clone()),
        kind: kind.to_string(),
        points,
        status: status.to_string(),
        user_attributes: attr_filters(st, v, "userAttributes", "user")?,
        metric_id: None,
        metric_threshold: None,
        event_attributes: Vec::new(),
        achievement_id: None,
        streak_length: None,
        time_unit: None,
        time_interval: None,
        block_if_out_of_points: v.get("blockIfOutOfPoints").and_then(Value::as_bool).unwrap_or(false),
        created: old.map_or(now, |o| o.created),
        updated: now,
    };
    match kind {
        "metric" => {
            let m = str_field(v, "metricId").ok_or("metric triggers need metricId")?;
            if st.metric_by_id(m).is_none() {
                return Err(format!("metric {m} not found"));
            }
            t.metric_id = Some(m.to_string());
            t.metric_threshold = Some(int("metricThreshold")?.unwrap_or(1));
            t.event_attributes = attr_filters(st, v, "eventAttributes", "event")?;
        }
        "achievement" => {
            let a = str_field(v, "achievementId").ok_or("achievement triggers need achievementId")?;
            if st.achievement_by_id(a).is_none() {
                return Err(format!("achievement {a} not found"));
            }
            t.achievement_id = Some(a.to_string());
        }
        "streak" => {
            t.streak_length = Some(int("streakLength")?.ok_or("streak triggers need streakLength")?);
        }
        "time" => {
            let unit = str_field(v, "timeUnit").unwrap_or_default();
            if unit != "hours" && unit != "days" {
                return Err("time triggers need timeUnit hours or days".into());
            }
            t.time_unit = Some(unit.to_string());
            t.time_interval = Some(int("timeInterval")?.ok_or("time triggers need timeInterval")?);
        }
        _ => {}
    }
    Ok(t)
}

fn valid_time(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|n| n <= max);
    match parts.as_slice() {
        [h, m] => num(h, 23) && num(m, 59),
        [h, m, sec] => num(h, 23) && num(m, 59) && num(sec, 59),
        _ => false,
    }
}

fn build_leaderboard(st: &State, v: &Value, id: Option<&str>, today: NaiveDate) -> Result<Leaderboard, String> {
    let name = check_name(v)?;
    let key = check_key(v, |k| {
        st.leaderboards.iter().any(|l| l.key == k && Some(l.id.as_str()) != id)
    })?;
    let status = str_field(v, "status").unwrap_or("inactive");
    if !["inactive", "active", "scheduled", "finished"].contains(&status) {
        return Err("status must be inactive, active, scheduled or finished".into());
    }
    let rank_by = str_field(v, "rankBy").unwrap_or_default();
    let mut metric_id = None;
    let mut points_system_id = None;
    match rank_by {
        "metric" => {
            let m = str_field(v, "metricId").ok_or("metric leaderboards need metricId")?;
            if st.metric_by_id(m).is_none() {
                return Err(format!("metric {m} not found"));
            }
            metric_id = Some(m.to_string());
        }
        "points" => {
            let p = str_field(v, "pointsSystemId").ok_or("points leaderboards need pointsSystemId")?;
            if st.system_by_id(p).is_none() {
                return Err(format!("points system {p} not found"));
            }
            points_system_id = Some(p.to_string());
        }
        "streak" => {}
        other => return Err(format!("rankBy must be metric, streak or points, not {other:?}")),
    }
    let max_participants = match v.get("maxParticipants") {
        None => Some(1000),
        Some(Value::Null) => None,
        Some(x) => Some(
            x.as_i64()
                .filter(|n| (1..=1000).contains(n))
                .ok_or("maxParticipants must be from 1 to 1000")?,
        ),
    };
    let start = opt_date(v, "start")?.unwrap_or(today);
    let end = opt_date(v, "end")?;
    if end.is_some_and(|e| e < start) {
        return Err("end must not be before start".into());
    }
    let time = |k: &str| -> Result<Option<String>, String> {
        match str_field(v, k) {
            None => Ok(None),
            Some(s) if valid_time(s) => Ok(Some(s.to_string())),
            Some(_) => Err(format!("{k} must be HH:MM or HH:MM:SS")),
        }
    };
    let breakdown: Vec<String> = v
        .get("breakdownAttributes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    for b in &breakdown {
        if !st.attributes.iter().any(|a| &a.id == b && a.kind == "user") {
            return Err(format!("breakdown attribute {b} is not a user attribute"));
        }
    }
    let run_unit = str_field(v, "runUnit").map(str::to_string);
    if let Some(u) = &run_unit {
        if !["day", "month", "year"].contains(&u.as_str()) {
            return Err("runUnit must be day, month or year".into());
        }
    }
    let run_interval = match v.get("runInterval") {
        None | Some(Value::Null) => None,
        Some(x) => Some(x.as_i64().filter(|n| *n >= 1).ok_or("runInterval must be at least 1")?),
    };
    Ok(Leaderboard {
        id: id.map_or_else(new_id, str::to_string),
        key,
        name,
        description: str_field(v, "description").map(str::to_string),
        status: status.to_string(),
        rank_by: rank_by.to_string(),
        metric_id,
        points_system_id,
        max_participants,
        start,
        end,
        start_time: time("startTime")?,
        end_time: time("endTime")?,
        breakdown_attributes: breakdown,
        run_interval: run_unit.as_ref().map(|_| run_interval.unwrap_or(1)),
        run_unit,
        user_attributes: attr_filters(st, v, "userAttributes", "user")?,
    })
}

// ----- batch metric events ------------------------------------------------------------------------

async fn metrics_batch_events(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (typed, raw) = parse_body_bad_request::<Vec<ta::BatchMetricEvent>>(&body)?;
    let raws = items(&raw, 1000)?;
    let mut inputs = Vec::with_capacity(typed.len());
    for (i, (ev, r)) in typed.iter().zip(raws.iter()).enumerate() {
        validate_user_id(&ev.user.id).map_err(|m| ApiError::bad_request(format!("events[{i}]: {m}")))?;
        let input = UserInput::from_json(r.get("user").unwrap_or(&Value::Null));
        input
            .validate()
            .map_err(|m| ApiError::unprocessable(format!("events[{i}]: {m}")))?;
        if !ev.value.is_finite() {
            return Err(ApiError::bad_request(format!("events[{i}]: value must be finite")));
        }
        inputs.push(input);
    }
    sh.with(&ctx.tenant, |st, now| {
        for (i, ev) in typed.iter().enumerate() {
            if st.metric_by_key(&ev.key).is_none() {
                return Err(ApiError::not_found(format!(
                    "events[{i}]: metric {:?} not found",
                    ev.key
                )));
            }
        }
        for (ev, input) in typed.iter().zip(inputs.iter()) {
            let recorded = events::record_event(
                st,
                &ev.key,
                &ev.user.id,
                input,
                ev.value,
                &ev.attributes,
                ev.idempotency_key.as_deref(),
                now,
            )
            .map_err(|(s, m)| ApiError::new(s, m))?;
            if !recorded.replayed {
                sh.emit(|| webhooks::event_payloads(st, &ev.user.id, &recorded));
            }
        }
        Ok(reply(202, json!({"accepted": typed.len()})))
    })
}

// ----- top-level collections: attributes, metrics, points systems, leaderboards, achievements -------

/// What differs between the top-level collections of a tenant's state; their five handlers
/// (list, bulk create, bulk update, bulk delete, get by ID) are written once below.
trait Resource: Clone + Send + 'static {
    /// The singular name used in messages ("points system").
    const WHAT: &'static str;
    /// Request bodies, decoded to reject malformed ones with the generated types.
    type Create: serde::de::DeserializeOwned;
    type Patch: serde::de::DeserializeOwned;

    fn all(st: &State) -> &Vec<Self>;
    fn all_mut(st: &mut State) -> &mut Vec<Self>;
    fn id(&self) -> &str;
    fn render(&self, st: &State) -> Value;
    /// The body of a created item (by default the same as [`Resource::render`]).
    fn render_created(&self, st: &State, _today: NaiveDate) -> Value {
        self.render(st)
    }
    /// Builds a new item from one item of a create request.
    fn build(st: &State, v: &Value, now: DateTime<Utc>) -> Result<Self, String>;
    /// Checks and applies one item of an update request to the item at `pos`; returns its new
    /// JSON, or the message of an issue (nothing changed then).
    fn update(st: &mut State, pos: usize, v: &Value, now: DateTime<Utc>) -> Result<Value, String>;
    /// Deletes the items with these IDs; returns the `{deleted, issues}` body.
    fn delete(st: &mut State, ids: &[String]) -> Value {
        delete_where(Self::all_mut(st), ids, Self::id, Self::WHAT)
    }
}

/// `/<path>` (list, create, update, delete) and `/<path>/{id}` (get) for one collection.
fn resource<T: Resource>(router: Router<SharedState>, path: &str) -> Router<SharedState> {
    router
        .route(
            &format!("/{path}"),
            get(resource_list::<T>)
                .post(resource_create::<T>)
                .patch(resource_update::<T>)
                .delete(resource_delete::<T>),
        )
        .route(&format!("/{path}/{{id}}"), get(resource_get::<T>))
}

async fn resource_list<T: Resource>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    sh.with(&ctx.tenant, |st, _| {
        let list: Vec<Value> = page(T::all(st), &params)?.iter().map(|x| x.render(st)).collect();
        Ok(reply(200, Value::Array(list)))
    })
}

async fn resource_create<T: Resource>(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<T::Create>(&body)?;
    let items = items(&raw, 100)?;
    Ok(sh.with(&ctx.tenant, |st, now| {
        bulk_create(
            st,
            &items,
            |st, v| T::build(st, v, now),
            |st, item| {
                let json = item.render_created(st, now.date_naive());
                T::all_mut(st).push(item);
                json
            },
        )
    }))
}

async fn resource_update<T: Resource>(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<T::Patch>(&body)?;
    let items = items(&raw, 100)?;
    Ok(sh.with(&ctx.tenant, |st, now| {
        bulk_update(
            st,
            &items,
            T::WHAT,
            "id",
            |st, id| T::all(st).iter().position(|x| x.id() == id),
            |st, pos, v| T::update(st, pos, v, now),
        )
    }))
}

async fn resource_delete<T: Resource>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let ids = delete_ids(&Params::parse(q.as_deref()))?;
    Ok(sh.with(&ctx.tenant, |st, _| reply(200, T::delete(st, &ids))))
}

async fn resource_get<T: Resource>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    Path(id): Path<String>,
) -> ApiResult {
    check_uuid("id", &id)?;
    sh.with(&ctx.tenant, |st, _| {
        T::all(st)
            .iter()
            .find(|x| x.id() == id)
            .map(|x| reply(200, x.render(st)))
            .ok_or_else(|| ApiError::not_found(format!("{} {id} not found", T::WHAT)))
    })
}

impl Resource for Attribute {
    const WHAT: &'static str = "attribute";
    type Create = ta::CreateAttributesRequest;
    type Patch = ta::UpdateAttributesRequest;

    fn all(st: &State) -> &Vec<Self> {
        &st.attributes
    }
    fn all_mut(st: &mut State) -> &mut Vec<Self> {
        &mut st.attributes
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, _st: &State) -> Value {
        render::admin_attribute(self)
    }
    fn build(st: &State, v: &Value, _now: DateTime<Utc>) -> Result<Self, String> {
        let name = check_name(v)?;
        let key = check_key(v, |k| st.attributes.iter().any(|a| a.key == k))?;
        let kind = str_field(v, "type").unwrap_or_default();
        if kind != "user" && kind != "event" {
            return Err(format!("type must be user or event, not {kind:?}"));
        }
        Ok(Attribute {
            id: new_id(),
            key,
            name,
            kind: kind.to_string(),
        })
    }
    fn update(st: &mut State, pos: usize, v: &Value, _now: DateTime<Utc>) -> Result<Value, String> {
        let a = &mut st.attributes[pos];
        if v.get("name").is_some() {
            a.name = check_name(v)?;
        }
        Ok(render::admin_attribute(a))
    }
}

fn unit_type(v: &Value) -> Result<Option<String>, String> {
    match str_field(v, "unitType") {
        None => Ok(None),
        Some(u @ ("number" | "currency")) => Ok(Some(u.to_string())),
        Some(u) => Err(format!("unitType must be number or currency, not {u:?}")),
    }
}

impl Resource for Metric {
    const WHAT: &'static str = "metric";
    type Create = ta::CreateMetricsRequest;
    type Patch = ta::UpdateMetricsRequest;

    fn all(st: &State) -> &Vec<Self> {
        &st.metrics
    }
    fn all_mut(st: &mut State) -> &mut Vec<Self> {
        &mut st.metrics
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, _st: &State) -> Value {
        render::admin_metric(self)
    }
    fn build(st: &State, v: &Value, _now: DateTime<Utc>) -> Result<Self, String> {
        let name = check_name(v)?;
        let key = check_key(v, |k| st.metrics.iter().any(|m| m.key == k))?;
        Ok(Metric {
            id: new_id(),
            key,
            name,
            unit_type: unit_type(v)?.unwrap_or_else(|| "number".into()),
            units: str_field(v, "units").unwrap_or_default().to_string(),
        })
    }
    fn update(st: &mut State, pos: usize, v: &Value, _now: DateTime<Utc>) -> Result<Value, String> {
        // Check everything before changing anything.
        let name = v.get("name").map(|_| check_name(v)).transpose()?;
        let unit = unit_type(v)?;
        let m = &mut st.metrics[pos];
        if let Some(n) = name {
            m.name = n;
        }
        if let Some(u) = unit {
            m.unit_type = u;
        }
        if let Some(u) = str_field(v, "units") {
            m.units = u.to_string();
        }
        Ok(render::admin_metric(m))
    }
    /// Deleting a metric also drops the users' totals of it.
    fn delete(st: &mut State, ids: &[String]) -> Value {
        let body = delete_where(&mut st.metrics, ids, |m| m.id.as_str(), Self::WHAT);
        for u in st.users.values_mut() {
            u.totals.retain(|k, _| !ids.contains(k));
        }
        body
    }
}

fn created_system(ps: &PointsSystem, today: NaiveDate) -> Value {
    fn rendered<T: SystemItem>(ps: &PointsSystem, today: NaiveDate) -> Value {
        Value::Array(T::items(ps).iter().map(|x| x.render(today)).collect())
    }
    let mut j = render::admin_system(ps);
    if let Some(o) = j.as_object_mut() {
        o.insert("levels".into(), rendered::<Level>(ps, today));
        o.insert("boosts".into(), rendered::<Boost>(ps, today));
        o.insert("triggers".into(), rendered::<Trigger>(ps, today));
    }
    j
}

fn max_points(v: &Value) -> Result<Option<i64>, String> {
    match v.get("maxPoints") {
        None | Some(Value::Null) => Ok(None),
        Some(x) => Ok(Some(
            x.as_i64().filter(|n| *n >= 1).ok_or("maxPoints must be at least 1")?,
        )),
    }
}

impl Resource for PointsSystem {
    const WHAT: &'static str = "points system";
    type Create = ta::CreatePointsSystemsRequest;
    type Patch = ta::UpdatePointsSystemsRequest;

    fn all(st: &State) -> &Vec<Self> {
        &st.systems
    }
    fn all_mut(st: &mut State) -> &mut Vec<Self> {
        &mut st.systems
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, _st: &State) -> Value {
        render::admin_system(self)
    }
    /// A created system shows its levels, boosts and triggers too.
    fn render_created(&self, _st: &State, today: NaiveDate) -> Value {
        created_system(self, today)
    }
    fn build(st: &State, v: &Value, now: DateTime<Utc>) -> Result<Self, String> {
        let name = check_name(v)?;
        let key = check_key(v, |k| st.systems.iter().any(|s| s.key == k))?;
        let mut ps = PointsSystem {
            id: new_id(),
            key,
            name,
            description: str_field(v, "description").unwrap_or_default().to_string(),
            badge: v.get("badge").and_then(|b| str_field(b, "url")).map(str::to_string),
            max_points: max_points(v)?,
            levels: Vec::new(),
            boosts: Vec::new(),
            triggers: Vec::new(),
        };
        let list = |k: &str| v.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        for (j, l) in list("levels").iter().enumerate() {
            let level = build_level(l, &ps.levels, None).map_err(|m| format!("levels[{j}]: {m}"))?;
            ps.levels.push(level);
        }
        for (j, b) in list("boosts").iter().enumerate() {
            ps.boosts
                .push(build_boost(st, b, None).map_err(|m| format!("boosts[{j}]: {m}"))?);
        }
        for (j, t) in list("triggers").iter().enumerate() {
            ps.triggers
                .push(build_trigger(st, t, None, now).map_err(|m| format!("triggers[{j}]: {m}"))?);
        }
        Ok(ps)
    }
    fn update(st: &mut State, pos: usize, v: &Value, _now: DateTime<Utc>) -> Result<Value, String> {
        // Check everything before changing anything.
        let name = v.get("name").map(|_| check_name(v)).transpose()?;
        let mp = v.get("maxPoints").map(|_| max_points(v)).transpose()?;
        let ps = &mut st.systems[pos];
        if let Some(n) = name {
            ps.name = n;
        }
        if let Some(mp) = mp {
            ps.max_points = mp;
        }
        if let Some(d) = str_field(v, "description") {
            ps.description = d.to_string();
        }
        match v.get("badge") {
            None => {}
            Some(Value::Null) => ps.badge = None,
            Some(b) => ps.badge = str_field(b, "url").map(str::to_string),
        }
        Ok(render::admin_system(ps))
    }
}

impl Resource for Leaderboard {
    const WHAT: &'static str = "leaderboard";
    type Create = ta::CreateLeaderboardsRequest;
    type Patch = ta::UpdateLeaderboardsRequest;

    fn all(st: &State) -> &Vec<Self> {
        &st.leaderboards
    }
    fn all_mut(st: &mut State) -> &mut Vec<Self> {
        &mut st.leaderboards
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, _st: &State) -> Value {
        render::admin_leaderboard(self)
    }
    fn build(st: &State, v: &Value, now: DateTime<Utc>) -> Result<Self, String> {
        build_leaderboard(st, v, None, now.date_naive())
    }
    fn update(st: &mut State, pos: usize, v: &Value, now: DateTime<Utc>) -> Result<Value, String> {
        let mut base = render::admin_leaderboard(&st.leaderboards[pos]);
        // Switching what is ranked drops the previous reference.
        if v.get("rankBy").is_some() {
            if let Some(o) = base.as_object_mut() {
                o.remove("metricId");
                o.remove("pointsSystemId");
            }
        }
        // maxParticipants null means unlimited, so keep it explicit through the overlay.
        let mut patch = v.clone();
        if let Some(o) = patch.as_object_mut() {
            o.remove("maxParticipants");
        }
        let mut merged = overlay(base, &patch);
        if let (Some(o), Some(mp)) = (merged.as_object_mut(), v.get("maxParticipants")) {
            o.insert("maxParticipants".into(), mp.clone());
        }
        let id = st.leaderboards[pos].id.clone();
        let lb = build_leaderboard(st, &merged, Some(&id), now.date_naive())?;
        let json = render::admin_leaderboard(&lb);
        st.leaderboards[pos] = lb;
        Ok(json)
    }
}

impl Resource for Achievement {
    const WHAT: &'static str = "achievement";
    type Create = ta::CreateAchievementsRequest;
    type Patch = ta::UpdateAchievementsRequest;

    fn all(st: &State) -> &Vec<Self> {
        &st.achievements
    }
    fn all_mut(st: &mut State) -> &mut Vec<Self> {
        &mut st.achievements
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, st: &State) -> Value {
        render::admin_achievement(st, self)
    }
    fn build(st: &State, v: &Value, _now: DateTime<Utc>) -> Result<Self, String> {
        build_achievement(st, v, None)
    }
    fn update(st: &mut State, pos: usize, v: &Value, _now: DateTime<Utc>) -> Result<Value, String> {
        let mut base = render::admin_achievement(st, &st.achievements[pos]);
        // A new trigger drops what the previous one needed.
        if v.get("trigger").is_some() {
            if let Some(o) = base.as_object_mut() {
                for k in [
                    "metricId",
                    "metricValue",
                    "eventAttributes",
                    "streakLength",
                    "anniversaryYears",
                    "achievementIds",
                ] {
                    o.remove(k);
                }
            }
        }
        let id = st.achievements[pos].id.clone();
        let a = build_achievement(st, &overlay(base, v), Some(&id))?;
        let json = render::admin_achievement(st, &a);
        st.achievements[pos] = a;
        Ok(json)
    }
    /// An achievement another one needs stays; the others go.
    fn delete(st: &mut State, ids: &[String]) -> Value {
        let mut deleted = Vec::new();
        let mut issues = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let needed_by = st
                .achievements
                .iter()
                .find(|a| a.achievement_ids.contains(id) && !ids.contains(&a.id));
            let message = match (st.achievements.iter().position(|a| &a.id == id), needed_by) {
                (None, _) => "achievement not found".to_string(),
                (Some(_), Some(other)) => format!("achievement {} needs it", other.id),
                (Some(pos), None) => {
                    st.achievements.remove(pos);
                    deleted.push(json!({"id": id}));
                    continue;
                }
            };
            issues.push(json!({"id": id, "index": i, "severity": "error", "message": message}));
        }
        json!({"deleted": deleted, "issues": issues})
    }
}

// ----- boosts, levels and triggers of a points system ------------------------------------------

/// What differs between the three collections inside a points system; their five handlers each
/// are written once below.
trait SystemItem: Clone + Send + 'static {
    /// The singular name used in messages ("boost").
    const WHAT: &'static str;
    /// The field of an `AdminIssue` that names the item (`boostId` for boosts, else `id`).
    const ISSUE_ID: &'static str;
    /// Fields an update may not change; dropped from the patch.
    const FROZEN: &'static [&'static str];
    /// Request bodies, decoded to reject malformed ones with the generated types.
    type Create: serde::de::DeserializeOwned;
    type Patch: serde::de::DeserializeOwned;

    fn items(system: &PointsSystem) -> &Vec<Self>;
    fn items_mut(system: &mut PointsSystem) -> &mut Vec<Self>;
    fn id(&self) -> &str;
    fn render(&self, today: NaiveDate) -> Value;
    /// Builds an item of system `si` from JSON; `old` is the item being updated.
    fn build(st: &State, si: usize, v: &Value, old: Option<&Self>, now: DateTime<Utc>) -> Result<Self, String>;
}

impl SystemItem for Boost {
    const WHAT: &'static str = "boost";
    const ISSUE_ID: &'static str = "boostId";
    const FROZEN: &'static [&'static str] = &[];
    type Create = ta::CreatePointsBoostsRequest;
    type Patch = ta::PatchPointsBoostsRequest;

    fn items(system: &PointsSystem) -> &Vec<Self> {
        &system.boosts
    }
    fn items_mut(system: &mut PointsSystem) -> &mut Vec<Self> {
        &mut system.boosts
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, today: NaiveDate) -> Value {
        render::admin_boost(self, today)
    }
    fn build(st: &State, _si: usize, v: &Value, old: Option<&Self>, _now: DateTime<Utc>) -> Result<Self, String> {
        build_boost(st, v, old.map(|b| b.id.as_str()))
    }
}

impl SystemItem for Level {
    const WHAT: &'static str = "level";
    const ISSUE_ID: &'static str = "id";
    const FROZEN: &'static [&'static str] = &["key"];
    type Create = ta::CreatePointsLevelsRequest;
    type Patch = ta::PatchPointsLevelsRequest;

    fn items(system: &PointsSystem) -> &Vec<Self> {
        &system.levels
    }
    fn items_mut(system: &mut PointsSystem) -> &mut Vec<Self> {
        &mut system.levels
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, _today: NaiveDate) -> Value {
        render::admin_level(self)
    }
    fn build(st: &State, si: usize, v: &Value, old: Option<&Self>, _now: DateTime<Utc>) -> Result<Self, String> {
        build_level(v, &st.systems[si].levels, old.map(|l| l.id.as_str()))
    }
}

impl SystemItem for Trigger {
    const WHAT: &'static str = "trigger";
    const ISSUE_ID: &'static str = "id";
    const FROZEN: &'static [&'static str] = &[];
    type Create = ta::CreatePointsTriggersRequest;
    type Patch = ta::PatchPointsTriggersRequest;

    fn items(system: &PointsSystem) -> &Vec<Self> {
        &system.triggers
    }
    fn items_mut(system: &mut PointsSystem) -> &mut Vec<Self> {
        &mut system.triggers
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn render(&self, _today: NaiveDate) -> Value {
        render::admin_trigger(self)
    }
    fn build(st: &State, _si: usize, v: &Value, old: Option<&Self>, now: DateTime<Utc>) -> Result<Self, String> {
        build_trigger(st, v, old, now)
    }
}

/// `/points/{id}/<items>` and `/points/{id}/<items>/{item}` for one collection.
fn system_items<T: SystemItem>(router: Router<SharedState>, path: &str) -> Router<SharedState> {
    router
        .route(
            &format!("/points/{{id}}/{path}"),
            get(items_list::<T>)
                .post(items_create::<T>)
                .patch(items_update::<T>)
                .delete(items_delete::<T>),
        )
        .route(&format!("/points/{{id}}/{path}/{{item}}"), get(items_get::<T>))
}

async fn items_list<T: SystemItem>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    sh.with(&ctx.tenant, |st, now| {
        let si = system_index(st, &id)?;
        let list: Vec<Value> = page(T::items(&st.systems[si]), &params)?
            .iter()
            .map(|item| item.render(now.date_naive()))
            .collect();
        Ok(reply(200, Value::Array(list)))
    })
}

async fn items_create<T: SystemItem>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (_t, raw) = parse_body::<T::Create>(&body)?;
    let items = items(&raw, 100)?;
    sh.with(&ctx.tenant, |st, now| {
        let si = system_index(st, &id)?;
        Ok(bulk_create(
            st,
            &items,
            |st, v| T::build(st, si, v, None, now),
            |st, item| {
                let json = item.render(now.date_naive());
                T::items_mut(&mut st.systems[si]).push(item);
                json
            },
        ))
    })
}

async fn items_update<T: SystemItem>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (_t, raw) = parse_body::<T::Patch>(&body)?;
    let items = items(&raw, 100)?;
    sh.with(&ctx.tenant, |st, now| {
        let si = system_index(st, &id)?;
        Ok(bulk_update(
            st,
            &items,
            T::WHAT,
            T::ISSUE_ID,
            |st, item_id| T::items(&st.systems[si]).iter().position(|x| x.id() == item_id),
            |st, pos, v| {
                let mut patch = v.clone();
                if let Some(o) = patch.as_object_mut() {
                    T::FROZEN.iter().for_each(|k| {
                        o.remove(*k);
                    });
                }
                let old = T::items(&st.systems[si])[pos].clone();
                let merged = overlay(old.render(now.date_naive()), &patch);
                let item = T::build(st, si, &merged, Some(&old), now)?;
                let json = item.render(now.date_naive());
                T::items_mut(&mut st.systems[si])[pos] = item;
                Ok(json)
            },
        ))
    })
}

async fn items_delete<T: SystemItem>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let ids = delete_ids(&Params::parse(q.as_deref()))?;
    sh.with(&ctx.tenant, |st, _| {
        let si = system_index(st, &id)?;
        Ok(reply(
            200,
            delete_where(T::items_mut(&mut st.systems[si]), &ids, T::id, T::WHAT),
        ))
    })
}

async fn items_get<T: SystemItem>(
    AxState(sh): AxState<SharedState>,
    ctx: AdminCtx,
    Path((id, item)): Path<(String, String)>,
) -> ApiResult {
    check_uuid("id", &item)?;
    sh.with(&ctx.tenant, |st, now| {
        let si = system_index(st, &id)?;
        T::items(&st.systems[si])
            .iter()
            .find(|x| x.id() == item)
            .map(|x| reply(200, x.render(now.date_naive())))
            .ok_or_else(|| ApiError::not_found(format!("{} {item} not found", T::WHAT)))
    })
}

// ----- streaks ----------------------------------------------------------------------------------

async fn freezes_create(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body_bad_request::<ta::CreateStreakFreezesRequest>(&body)?;
    let items = items(raw.get("freezes").unwrap_or(&Value::Null), 100)?;
    Ok(sh.with(&ctx.tenant, |st, _| {
        let max = st.streak.max_freezes;
        let mut granted = 0;
        let mut issues = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let uid = str_field(v, "userId").unwrap_or_default();
            match st.users.get_mut(uid) {
                None => {
                    issues.push(json!({"userId": uid, "index": i, "severity": "error", "message": "user not found"}))
                }
                Some(u) if u.freezes >= max => issues.push(json!({
                    "userId": uid, "index": i, "severity": "error",
                    "message": format!("the user already holds the maximum of {max} freezes"),
                })),
                Some(u) => {
                    u.freezes += 1;
                    granted += 1;
                }
            }
        }
        created_reply(granted > 0, json!({"issues": issues}))
    }))
}

async fn pauses_create(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<ta::CreateStreakPausesRequest>(&body)?;
    let items = items(raw.get("pauses").unwrap_or(&Value::Null), 100)?;
    Ok(sh.with(&ctx.tenant, |st, now| {
        let mut created = Vec::new();
        let mut issues = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let uid = str_field(v, "userId").unwrap_or_default();
            let built = (|| {
                if !st.users.contains_key(uid) {
                    return Err("user not found".to_string());
                }
                let start = opt_date(v, "start")?.ok_or("start is required")?;
                let end = opt_date(v, "end")?.ok_or("end is required")?;
                if end < start {
                    return Err("end must not be before start".into());
                }
                Ok(Pause {
                    id: new_id(),
                    user_id: uid.to_string(),
                    start,
                    end,
                })
            })();
            match built {
                Ok(p) => {
                    created.push(render::admin_pause(&p, now.date_naive()));
                    st.pauses.push(p);
                }
                Err(m) => issues.push(json!({"userId": uid, "index": i, "severity": "error", "message": m})),
            }
        }
        created_reply(!created.is_empty(), json!({"created": created, "issues": issues}))
    }))
}

async fn pauses_delete(AxState(sh): AxState<SharedState>, ctx: AdminCtx, RawQuery(q): RawQuery) -> ApiResult {
    let ids = delete_ids(&Params::parse(q.as_deref()))?;
    Ok(sh.with(&ctx.tenant, |st, _| {
        reply(
            200,
            delete_where(&mut st.pauses, &ids, |p| p.id.as_str(), "streak pause"),
        )
    }))
}

async fn streaks_restore(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body_bad_request::<ta::RestoreStreaksRequest>(&body)?;
    let items = items(raw.get("users").unwrap_or(&Value::Null), 100)?;
    Ok(sh.with(&ctx.tenant, |st, now| {
        let mut restored = Vec::new();
        let mut issues = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let uid = str_field(v, "id").unwrap_or_default();
            match st.restore_streak(uid, now.date_naive()) {
                Ok(()) => restored.push(json!(uid)),
                Err(m) => issues.push(json!({"userId": uid, "index": i, "severity": "error", "message": m})),
            }
        }
        created_reply(
            !restored.is_empty(),
            json!({"restoredUsers": restored, "issues": issues}),
        )
    }))
}

// ----- application API keys -------------------------------------------------------------------------

async fn app_keys_create(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<ta::CreateApplicationKeysRequest>(&body)?;
    let items = items(&raw, 100)?;
    let mut g = sh.lock();
    let mut created = Vec::new();
    let mut issues = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let uid = str_field(v, "userId").unwrap_or_default();
        if let Err(m) = validate_user_id(uid) {
            issues.push(json!({"userId": uid, "index": i, "severity": "error", "message": m}));
            continue;
        }
        let key = format!("app_{}", uuid::Uuid::new_v4().simple());
        let k = AppKey {
            id: new_id(),
            user_id: uid.to_string(),
            key,
        };
        created.push(
            json!({"id": k.id, "userId": k.user_id, "key": k.key, "prefix": k.key.chars().take(8).collect::<String>()}),
        );
        g.app_keys.push(k);
    }
    Ok(created_reply(
        !created.is_empty(),
        json!({"created": created, "issues": issues}),
    ))
}

async fn app_keys_delete(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, RawQuery(q): RawQuery) -> ApiResult {
    let ids = delete_ids(&Params::parse(q.as_deref()))?;
    let mut g = sh.lock();
    Ok(reply(
        200,
        delete_where(&mut g.app_keys, &ids, |k| k.id.as_str(), "application API key"),
    ))
}

// ----- tenants ----------------------------------------------------------------------------------

fn tenant_json(t: &TenantRec) -> Value {
    json!({
        "id": t.id,
        "customerId": t.customer_id,
        "name": t.name,
        "status": "active",
        "created": fmt_dt(t.created),
        "updated": fmt_dt(t.updated),
    })
}

fn check_customer_id(v: &Value, taken: impl Fn(&str) -> bool) -> Result<String, String> {
    match str_field(v, "customerId") {
        Some(c) if !c.trim().is_empty() && c.len() <= 255 => {
            if taken(c) {
                Err(format!("customerId {c:?} is already in use"))
            } else {
                Ok(c.to_string())
            }
        }
        _ => Err("customerId must be a non-empty string of at most 255 characters".into()),
    }
}

async fn tenants_list(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let g = sh.lock();
    let list: Vec<Value> = page(&g.tenants, &params)?.iter().map(tenant_json).collect();
    Ok(reply(200, Value::Array(list)))
}

async fn tenants_create(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<ta::CreateTenantsRequest>(&body)?;
    let items = items(&raw, 100)?;
    let mut g = sh.lock();
    let now = g.clock.now();
    Ok(bulk_create(
        &mut g.tenants,
        &items,
        |tenants, v| {
            let customer_id = check_customer_id(v, |c| tenants.iter().any(|t| t.customer_id == c))?;
            let name = check_name(v)?;
            Ok(TenantRec {
                id: new_id(),
                customer_id,
                name,
                created: now,
                updated: now,
            })
        },
        |tenants, t| {
            let json = tenant_json(&t);
            tenants.push(t);
            json
        },
    ))
}

async fn tenants_update(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<ta::UpdateTenantsRequest>(&body)?;
    let items = items(&raw, 100)?;
    let mut g = sh.lock();
    let now = g.clock.now();
    Ok(bulk_update(
        &mut *g,
        &items,
        "tenant",
        "id",
        |g, id| g.tenants.iter().position(|t| t.id == id),
        |g, pos, v| {
            // Check everything before changing anything.
            let id = g.tenants[pos].id.clone();
            let cid = v
                .get("customerId")
                .map(|_| check_customer_id(v, |c| g.tenants.iter().any(|t| t.customer_id == c && t.id != id)))
                .transpose()?;
            let name = v.get("name").map(|_| check_name(v)).transpose()?;
            if let Some(c) = cid {
                let old = std::mem::replace(&mut g.tenants[pos].customer_id, c.clone());
                if let Some(state) = g.states.remove(&old) {
                    g.states.insert(c, state);
                }
            }
            if let Some(n) = name {
                g.tenants[pos].name = n;
            }
            g.tenants[pos].updated = now;
            Ok(tenant_json(&g.tenants[pos]))
        },
    ))
}

async fn tenants_delete(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, RawQuery(q): RawQuery) -> ApiResult {
    let ids = delete_ids(&Params::parse(q.as_deref()))?;
    let mut g = sh.lock();
    let removed: Vec<String> = g
        .tenants
        .iter()
        .filter(|t| ids.contains(&t.id))
        .map(|t| t.customer_id.clone())
        .collect();
    let body = delete_where(&mut g.tenants, &ids, |t| t.id.as_str(), "tenant");
    for c in removed {
        g.states.remove(&c);
    }
    Ok(reply(200, body))
}

async fn tenants_get(AxState(sh): AxState<SharedState>, _ctx: AdminCtx, Path(id): Path<String>) -> ApiResult {
    check_uuid("id", &id)?;
    let g = sh.lock();
    g.tenants
        .iter()
        .find(|t| t.id == id)
        .map(|t| reply(200, tenant_json(t)))
        .ok_or_else(|| ApiError::not_found(format!("tenant {id} not found")))
}

// ----- achievement builder -----------------------------------------------------------------------

/// An achievement from a create item, or from an update merged over the current one (`id`).
fn build_achievement(st: &State, v: &Value, id: Option<&str>) -> Result<Achievement, String> {
    let name = check_name(v)?;
    let trigger = str_field(v, "trigger").unwrap_or_default();
    let status = str_field(v, "status").unwrap_or("inactive");
    if !["active", "inactive", "locked"].contains(&status) {
        return Err("status must be active, inactive or locked".into());
    }
    let key = match str_field(v, "key") {
        None => None,
        Some(_) => Some(check_key(v, |k| {
            st.achievements
                .iter()
                .any(|a| a.key.as_deref() == Some(k) && Some(a.id.as_str()) != id)
        })?),
    };
    let count = |k: &str, min: i64| -> Result<Option<i64>, String> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => Ok(Some(
                x.as_i64()
                    .filter(|n| *n >= min)
                    .ok_or(format!("{k} must be an integer of at least {min}"))?,
            )),
        }
    };
    let mut a = Achievement {
        id: id.map_or_else(new_id, str::to_string),
        key,
        name,
        trigger: trigger.to_string(),
        status: status.to_string(),
        description: str_field(v, "description").map(str::to_string),
        badge_url: v.pointer("/badge/url").and_then(Value::as_str).map(str::to_string),
        metric_key: None,
        metric_value: None,
        streak_length: None,
        anniversary_years: None,
        achievement_ids: Vec::new(),
        user_attributes: attr_filters(st, v, "userAttributes", "user")?,
        event_attributes: Vec::new(),
    };
    match trigger {
        "api" => {
            if a.key.is_none() {
                return Err("api achievements need a key".into());
            }
        }
        "metric" => {
            let m = str_field(v, "metricId").ok_or("metric achievements need metricId")?;
            let metric = st.metric_by_id(m).ok_or(format!("metric {m} not found"))?;
            a.metric_key = Some(metric.key.clone());
            a.metric_value = Some(
                v.get("metricValue")
                    .and_then(Value::as_f64)
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or("metric achievements need a positive metricValue")?,
            );
            a.event_attributes = attr_filters(st, v, "eventAttributes", "event")?;
        }
        "streak" => a.streak_length = Some(count("streakLength", 1)?.ok_or("streak achievements need streakLength")?),
        "anniversary" => {
            a.anniversary_years =
                Some(count("anniversaryYears", 1)?.ok_or("anniversary achievements need anniversaryYears")?)
        }
        "achievement" => {
            let ids: Vec<String> = v
                .get("achievementIds")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if ids.is_empty() {
                return Err("achievement achievements need achievementIds".into());
            }
            if let Some(bad) = ids.iter().find(|d| *d == &a.id || st.achievement_by_id(d).is_none()) {
                return Err(format!("achievementIds: {bad} is not another existing achievement"));
            }
            a.achievement_ids = ids;
        }
        other => {
            return Err(format!(
                "trigger must be metric, streak, api, achievement or anniversary, not {other:?}"
            ))
        }
    }
    Ok(a)
}

// ----- environments and settings ------------------------------------------------------------------

async fn environments_list(AxState(sh): AxState<SharedState>, _ctx: AdminCtx) -> ApiResult {
    let g = sh.lock();
    let list: Vec<Value> = g
        .seed
        .environments
        .iter()
        .map(|e| json!({"name": e.name, "key": e.key, "priority": e.priority}))
        .collect();
    Ok(reply(200, Value::Array(list)))
}

async fn settings_get(AxState(sh): AxState<SharedState>, ctx: AdminCtx) -> ApiResult {
    Ok(sh.with(&ctx.tenant, |st, _| reply(200, st.settings.clone())))
}

/// An optional integer field of `v` within `min..=max`.
fn bounded(v: &Value, k: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    match v.get(k) {
        None => Ok(None),
        Some(x) => x
            .as_i64()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| ApiError::unprocessable(format!("{k} must be an integer from {min} to {max}"))),
    }
}

/// An optional string field of `v` that must be one of `allowed`.
fn one_of(v: &Value, k: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match v.get(k) {
        None => Ok(None),
        Some(x) => x
            .as_str()
            .filter(|s| allowed.contains(s))
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| ApiError::unprocessable(format!("{k} must be one of {}", allowed.join(", ")))),
    }
}

const FONTS: &[&str] = &[
    "MODERN_SANS",
    "BOOK_SANS",
    "ORGANIC_SANS",
    "GEOMETRIC_SANS",
    "HEAVY_SANS",
    "ROUNDED_SANS",
    "MODERN_SERIF",
    "BOOK_SERIF",
    "MONOSPACE",
];

async fn settings_update(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<ta::UpdateAdminSettingsRequest>(&body)?;
    let empty = json!({});
    let branding = raw.get("branding").unwrap_or(&empty);
    if str_field(branding, "appName").is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::unprocessable("appName must not be empty"));
    }
    let is_url = |s: &str| s.starts_with("https://") || s.starts_with("http://");
    for k in ["appUrl"] {
        if str_field(branding, k).is_some_and(|u| !is_url(u)) {
            return Err(ApiError::unprocessable(format!("{k} must be an http(s) URL")));
        }
    }
    for k in ["logo", "appIcon"] {
        if let Some(u) = branding.get(k).filter(|x| !x.is_null()) {
            if !u.pointer("/url").and_then(Value::as_str).is_some_and(is_url) {
                return Err(ApiError::unprocessable(format!("{k}.url must be an http(s) URL")));
            }
        }
    }
    one_of(branding, "font", FONTS)?;
    let experimentation = raw.get("experimentation").unwrap_or(&empty);
    bounded(experimentation, "controlRatio", 0, 100)?;
    bounded(experimentation, "userActivationWindow", 3, 30)?;
    one_of(&raw, "aggregationPeriod", &["weekly", "monthly"])?;
    Ok(sh.with(&ctx.tenant, |st, _| {
        for group in ["branding", "experimentation"] {
            if let Some(patch) = raw.get(group) {
                let current = st.settings[group].take();
                // `overlay` drops nulls; a cleared logo or icon stays, as null.
                let mut merged = overlay(current, patch);
                for k in ["logo", "appIcon"] {
                    if group == "branding" && merged.get(k).is_none() {
                        merged[k] = Value::Null;
                    }
                }
                st.settings[group] = merged;
            }
        }
        if let Some(p) = raw.get("aggregationPeriod") {
            st.settings["aggregationPeriod"] = p.clone();
        }
        reply(200, st.settings.clone())
    }))
}

// ----- streak reset and settings -------------------------------------------------------------------

async fn streaks_reset(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body_bad_request::<ta::ResetStreaksRequest>(&body)?;
    let items = items(raw.get("users").unwrap_or(&Value::Null), 100)?;
    Ok(sh.with(&ctx.tenant, |st, now| {
        let mut reset = Vec::new();
        let mut issues = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let uid = str_field(v, "id").unwrap_or_default();
            match st.users.get_mut(uid) {
                Some(u) => {
                    u.streak_reset = Some((now, u.events.len()));
                    reset.push(json!(uid));
                }
                None => {
                    issues.push(json!({"userId": uid, "index": i, "severity": "error", "message": "user not found"}))
                }
            }
        }
        reply(200, json!({"resetUsers": reset, "issues": issues}))
    }))
}

async fn streak_settings_get(AxState(sh): AxState<SharedState>, ctx: AdminCtx) -> ApiResult {
    Ok(sh.with(&ctx.tenant, |st, _| reply(200, render::streak_settings(st))))
}

async fn streak_settings_update(AxState(sh): AxState<SharedState>, ctx: AdminCtx, body: Bytes) -> ApiResult {
    let (_t, raw) = parse_body::<ta::UpdateStreakSettingsRequest>(&body)?;
    let freq = one_of(&raw, "frequency", &["daily", "weekly", "monthly"])?.and_then(|f| Freq::parse(&f));
    let mode = one_of(&raw, "evaluationMode", &["OR", "AND"])?;
    let days_off = match raw.get("daysOff") {
        None => None,
        Some(list) => {
            let days: Vec<u32> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| d.as_u64().filter(|d| *d <= 6).map(|d| d as u32))
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::unprocessable("daysOff must list weekdays from 0 to 6"))?;
            let unique: std::collections::BTreeSet<_> = days.iter().collect();
            if unique.len() != days.len() || days.len() > 6 {
                return Err(ApiError::unprocessable(
                    "daysOff must list at most 6 different weekdays",
                ));
            }
            Some(days)
        }
    };
    let freezes = match raw.get("freezes") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(f) => {
            let start = bounded(f, "startCount", 0, 100)?.unwrap_or(0);
            let max = bounded(f, "maxCount", 1, 100)?.unwrap_or(1);
            if start > max {
                return Err(ApiError::unprocessable("startCount must not exceed maxCount"));
            }
            // These two may be null (no automatic grants).
            let nullable = |k: &str, max: i64| match f.get(k) {
                Some(Value::Null) => Ok(None),
                _ => bounded(f, k, 1, max),
            };
            let interval = nullable("autoEarnInterval", 365)?;
            let amount = nullable("autoEarnAmount", 10)?;
            Some(Some((start, max, interval, amount)))
        }
    };
    sh.with(&ctx.tenant, |st, _| {
        let metrics = match raw.get("metrics").and_then(Value::as_array) {
            None => None,
            Some(list) if list.is_empty() => return Err(ApiError::unprocessable("metrics must not be empty")),
            Some(list) => Some(
                list.iter()
                    .map(|m| {
                        let key = str_field(m, "key").unwrap_or_default();
                        if st.metric_by_key(key).is_none() {
                            return Err(ApiError::unprocessable(format!("metric {key:?} not found")));
                        }
                        let threshold = bounded(m, "threshold", 1, 10_000)?.unwrap_or(1);
                        Ok((key.to_string(), threshold))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let s = &mut st.streak;
        if let Some(f) = freq {
            s.freq = f;
        }
        if let Some(m) = mode {
            s.evaluation_mode = m;
        }
        if let Some(c) = raw.get("customizationEnabled").and_then(Value::as_bool) {
            s.customization_enabled = c;
        }
        if let Some(d) = days_off {
            s.days_off = d;
        }
        if let Some(m) = metrics {
            s.metrics = m;
        }
        match freezes {
            None => {}
            Some(None) => {
                s.freezes_enabled = false;
                (
                    s.initial_freezes,
                    s.max_freezes,
                    s.auto_earn_interval,
                    s.auto_earn_amount,
                ) = (0, 0, None, None);
            }
            Some(Some((start, max, interval, amount))) => {
                s.freezes_enabled = true;
                (s.initial_freezes, s.max_freezes) = (start, max);
                // Left out, the automatic grants stay as they are; null clears them.
                let f = &raw["freezes"];
                if f.get("autoEarnInterval").is_some() {
                    s.auto_earn_interval = interval;
                }
                if f.get("autoEarnAmount").is_some() {
                    s.auto_earn_amount = amount;
                }
            }
        }
        Ok(reply(200, render::streak_settings(st)))
    })
}
