//! The inspector's HTML pages under `/_emulator/ui/`, rendered on the server (maud) from the
//! JSON views of `inspect`, with a small embedded script that keeps the `#live` part of each
//! page current through server-sent events. No external asset: it works offline.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, DOCTYPE};
use serde_json::{json, Value};

use crate::context::Params;
use crate::controls::clock_change;
use crate::inspect::{self, TriggerRequest};
use crate::state::SharedState;

const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/app.css");

/// The pages, their forms, the assets and the event stream.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/_emulator/ui", get(|| async { Redirect::permanent("/_emulator/ui/") }))
        .route("/_emulator/ui/", get(overview))
        .route("/_emulator/ui/users", get(users))
        .route("/_emulator/ui/users/{id}", get(user))
        .route("/_emulator/ui/requests", get(requests))
        .route("/_emulator/ui/requests/{id}", get(request))
        .route("/_emulator/ui/webhooks", get(webhooks))
        .route("/_emulator/ui/webhooks/trigger", post(trigger))
        .route("/_emulator/ui/webhooks/{id}/resend", post(resend))
        .route("/_emulator/ui/clock", get(clock).post(clock_post))
        .route("/_emulator/ui/leaderboards", get(leaderboards))
        .route("/_emulator/ui/admin-key", get(admin_key))
        .route("/_emulator/ui/events", get(events))
        .route(
            "/_emulator/ui/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT) }),
        )
        .route(
            "/_emulator/ui/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }),
        )
}

const PAGES: [(&str, &str); 6] = [
    ("Overview", "/_emulator/ui/"),
    ("Users", "/_emulator/ui/users"),
    ("Requests", "/_emulator/ui/requests"),
    ("Webhooks", "/_emulator/ui/webhooks"),
    ("Clock", "/_emulator/ui/clock"),
    ("Leaderboards", "/_emulator/ui/leaderboards"),
];

/// A page: navigation, a heading, `top` (forms, which live updates leave alone), and `live`
/// (replaced on every change).
fn page(title: &str, section: &str, json: &str, top: Markup, live: Markup) -> Html<String> {
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · trophy-emulator" }
                link rel="stylesheet" href="/_emulator/ui/app.css";
                script src="/_emulator/ui/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "trophy-emulator" }
                    nav aria-label="Pages" {
                        @for (name, href) in PAGES {
                            @if name == section {
                                a href=(href) aria-current="page" { (name) }
                            } @else {
                                a href=(href) { (name) }
                            }
                        }
                    }
                    span #live-status role="status" aria-live="polite" { "static" }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    p.json { "JSON: " a href=(json) { code { (json) } } }
                    (top)
                    div #live { (live) }
                }
            }
        }
    };
    Html(doc.into_string())
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn user_href(tenant: &Value, id: &Value) -> String {
    let id = s(id);
    match tenant.as_str().filter(|t| !t.is_empty()) {
        Some(t) => format!("/_emulator/ui/users/{}?tenant={}", enc(&id), enc(t)),
        None => format!("/_emulator/ui/users/{}", enc(&id)),
    }
}

fn tenant_label(t: &Value) -> String {
    match t.as_str() {
        Some("") | None => "(default)".into(),
        Some(t) => t.to_string(),
    }
}

// ----- pages ------------------------------------------------------------------------------------------

async fn overview(AxState(sh): AxState<SharedState>, h: HeaderMap) -> Html<String> {
    let o = inspect::overview(&sh, &inspect::base_url(&h));
    let top = html! {
        dl.facts {
            dt { "Application API" } dd { code #app-url { (s(&o["applicationApi"])) } }
            dt { "Admin API" } dd { code #admin-url { (s(&o["adminApi"])) } }
            dt { "Admin API key" }
            dd {
                code #admin-key { (s(&o["adminKeyMasked"])) } " "
                button type="button" data-copy="/_emulator/ui/admin-key" { "Copy key" }
            }
            @if let Some(f) = o["stateFile"].as_str() {
                dt { "State file" } dd { code { (f) } }
            }
        }
    };
    let rl = &o["rateLimits"];
    let f = &o["faults"];
    let r = &o["requests"];
    let live = html! {
        section aria-labelledby="h-clock" {
            h2 #h-clock { "Clock" }
            p { span #clock-now { (s(&o["clock"]["now"])) } " "
                (if o["clock"]["frozen"] == true { "(frozen)" } else { "(running)" }) }
        }
        section aria-labelledby="h-rl" {
            h2 #h-rl { "Rate limits" }
            @if rl["enabled"] == true {
                table {
                    thead { tr { th { "Tier" } th { "Admitted" } th { "Refused (429)" } } }
                    tbody {
                        @for t in ["tier1", "tier2"] {
                            tr { td { (t) } td #{"admitted-" (t)} { (s(&rl["admitted"][t])) } td #{"refused-" (t)} { (s(&rl["rejected"][t])) } }
                        }
                    }
                }
            } @else {
                p { "Off (start with --rate-limits to enforce Trophy's limits)." }
            }
        }
        section aria-labelledby="h-faults" {
            h2 #h-faults { "Faults" }
            p #faults {
                "Rate " (s(&f["rate"])) ", status " (s(&f["status"])) ", seed " (s(&f["seed"]))
                ", fail next " (s(&f["failNext"]))
                (if f["afterProcessing"] == true { ", after processing" } else { "" })
                "; injected so far: " (s(&f["injected"]))
            }
        }
        section aria-labelledby="h-req" {
            h2 #h-req { "Requests" }
            p #requests-summary {
                (s(&r["total"])) " requests; " (s(&r["faults"])) " faults, "
                (s(&r["rateLimited"])) " answered 429, " (s(&r["replays"])) " idempotent replays"
            }
            p { "Webhooks: " (s(&o["webhooks"]["deliveries"])) " deliveries"
                @if let Some(t) = o["webhooks"]["target"].as_str() { " to " code { (t) } } }
        }
    };
    page("Overview", "Overview", "/_emulator/overview", top, live)
}

async fn users(AxState(sh): AxState<SharedState>, RawQuery(q): RawQuery) -> Html<String> {
    let p = Params::parse(q.as_deref());
    let q = p.get("q").unwrap_or("").to_string();
    let v = inspect::users(&sh, &q);
    let top = html! {
        form.filters method="get" role="search" {
            label { "Search " input type="search" name="q" value=(q) placeholder="ID, name or email"; }
            button type="submit" { "Search" }
        }
    };
    let live = html! {
        @let list = arr(&v["users"]);
        p { (list.len()) " users" }
        table #users {
            thead { tr { th { "Tenant" } th { "User" } th { "Name" } th { "Events" } th { "Streak" } th { "Points" } th { "Achievements" } } }
            tbody {
                @for u in list {
                    tr {
                        td { (tenant_label(&u["tenant"])) }
                        td { a href=(user_href(&u["tenant"], &u["id"])) { (s(&u["id"])) } }
                        td { (s(&u["name"])) }
                        td { (s(&u["events"])) }
                        td { (s(&u["streak"])) }
                        td { (s(&u["points"])) }
                        td { (s(&u["achievements"])) }
                    }
                }
            }
        }
    };
    page("Users", "Users", "/_emulator/users", top, live)
}

async fn user(AxState(sh): AxState<SharedState>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    let tenant = p.get("tenant").unwrap_or("").to_string();
    let json = format!("/_emulator/users/{}?tenant={}", enc(&id), enc(&tenant));
    let Some(v) = inspect::user(&sh, &tenant, &id) else {
        let live =
            html! { p #not-found { "No user " code { (id) } " in tenant " (tenant_label(&json!(tenant))) " yet." } };
        return (
            StatusCode::NOT_FOUND,
            page(&format!("User {id}"), "Users", &json, html! {}, live),
        )
            .into_response();
    };
    let u = &v["user"];
    let st = &v["streak"];
    let live = html! {
        section aria-labelledby="h-attr" {
            h2 #h-attr { "Attributes" }
            dl.facts {
                dt { "Tenant" } dd { (tenant_label(&v["tenant"])) }
                dt { "Name" } dd { (s(&u["name"])) }
                dt { "Email" } dd { (s(&u["email"])) }
                dt { "Created" } dd { (s(&u["created"])) }
                @for (k, val) in u["attributes"].as_object().into_iter().flatten() {
                    dt { (k) } dd { (s(val)) }
                }
            }
        }
        section aria-labelledby="h-metrics" {
            h2 #h-metrics { "Metrics" }
            table #metrics {
                thead { tr { th { "Metric" } th { "Total" } th { "Events" } } }
                tbody {
                    @for m in arr(&v["metrics"]) {
                        tr { td { (s(&m["name"])) " (" code { (s(&m["key"])) } ")" }
                             td #{"total-" (s(&m["key"]))} { (s(&m["total"])) } td { (s(&m["events"])) } }
                    }
                }
            }
        }
        section aria-labelledby="h-streak" {
            h2 #h-streak { "Streak" }
            p { "Current streak: " strong #streak-length { (s(&st["length"])) } " " (s(&st["frequency"]))
                " · freezes " (s(&st["freezes"])) " · expires " (s(&st["expires"])) }
            table #streak-history {
                thead { tr { th { "Period" } th { "Length" } th { "Freeze" } } }
                tbody {
                    @for h in arr(&st["streakHistory"]) {
                        tr { td { (s(&h["periodStart"])) " – " (s(&h["periodEnd"])) } td { (s(&h["length"])) }
                             td { (if h["usedFreeze"] == true { "used" } else { "" }) } }
                    }
                }
            }
        }
        section aria-labelledby="h-points" {
            h2 #h-points { "Points" }
            table #points {
                thead { tr { th { "System" } th { "Total" } th { "Level" } } }
                tbody {
                    @for p in arr(&v["points"]) {
                        tr { td { (s(&p["name"])) " (" code { (s(&p["key"])) } ")" }
                             td #{"points-" (s(&p["key"]))} { (s(&p["total"])) }
                             td { (s(&p["level"]["name"])) } }
                    }
                }
            }
        }
        section aria-labelledby="h-ach" {
            h2 #h-ach { "Achievements completed" }
            ul #achievements {
                @for a in arr(&v["achievements"]) { li { (s(&a["name"])) " — " (s(&a["completedAt"])) } }
            }
        }
        section aria-labelledby="h-lb" {
            h2 #h-lb { "Leaderboards" }
            table #ranks {
                thead { tr { th { "Leaderboard" } th { "Status" } th { "Rank" } th { "Value" } } }
                tbody {
                    @for l in arr(&v["leaderboards"]) {
                        tr { td { (s(&l["name"])) } td { (s(&l["status"])) } td { (s(&l["rank"])) } td { (s(&l["value"])) } }
                    }
                }
            }
        }
    };
    page(&format!("User {id}"), "Users", &json, html! {}, live).into_response()
}

fn markers(e: &Value) -> Markup {
    html! {
        @for m in arr(&e["markers"]) {
            @let m = s(m);
            span class={"marker marker-" (m)} title=(match m.as_str() {
                "fault" => "fault injected by the emulator",
                "429" => "answered 429 Too Many Requests",
                _ => "idempotent replay: answered again, nothing changed",
            }) { (m) } " "
        }
    }
}

async fn requests(AxState(sh): AxState<SharedState>, RawQuery(q): RawQuery) -> Html<String> {
    let (filter, limit) = inspect::request_filter(q.as_deref());
    let v = inspect::requests(&sh, &filter, limit);
    let val = |o: &Option<String>| o.clone().unwrap_or_default();
    let top = html! {
        form.filters method="get" role="search" aria-label="Filter requests" {
            label { "Status " input name="status" value=(val(&filter.status)) size="4" placeholder="429, 4xx"; }
            label { "Path " input name="path" value=(val(&filter.path)) placeholder="/metrics"; }
            label { "User " input name="user" value=(val(&filter.user)) size="12"; }
            label { "Marker "
                select name="marker" {
                    @for m in ["", "fault", "429", "replay"] {
                        option value=(m) selected[filter.marker.as_deref() == Some(m)] { (if m.is_empty() { "any" } else { m }) }
                    }
                }
            }
            button type="submit" { "Filter" }
            " " a href="/_emulator/ui/requests" { "Clear" }
        }
    };
    let sum = &v["summary"];
    let live = html! {
        p #requests-count {
            (s(&v["matched"])) " matching of " (s(&v["held"])) " held (ring of " (s(&v["capacity"])) "; "
            (s(&sum["total"])) " requests since the start)"
        }
        table #requests {
            thead { tr { th { "#" } th { "Time" } th { "API" } th { "Method" } th { "Path" } th { "Tenant" } th { "User" } th { "Status" } th { "ms" } th { "Markers" } } }
            tbody {
                @for e in arr(&v["entries"]) {
                    tr data-status=(s(&e["status"])) {
                        td { a href={"/_emulator/ui/requests/" (s(&e["id"]))} { (s(&e["id"])) } }
                        td { (s(&e["time"]).get(11..23).unwrap_or("")) }
                        td { (s(&e["api"])) }
                        td { (s(&e["method"])) }
                        td { code { (s(&e["path"])) } }
                        td { (tenant_label(&e["tenant"])) }
                        td { (s(&e["user"])) }
                        td.status { (s(&e["status"])) }
                        td { (format!("{:.1}", e["durationMicros"].as_f64().unwrap_or(0.0) / 1000.0)) }
                        td { (markers(e)) }
                    }
                }
            }
        }
    };
    page("Requests", "Requests", "/_emulator/requests", top, live)
}

fn pretty(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string())
}

async fn request(AxState(sh): AxState<SharedState>, Path(id): Path<u64>) -> Response {
    let json = format!("/_emulator/requests/{id}");
    let Some(e) = inspect::request(&sh, id) else {
        let live = html! { p { "Request " (id) " is not in the log (the ring may have forgotten it)." } };
        return (
            StatusCode::NOT_FOUND,
            page(&format!("Request {id}"), "Requests", &json, html! {}, live),
        )
            .into_response();
    };
    let top = html! {
        dl.facts {
            dt { "Request" } dd { code { (s(&e["method"])) " " (s(&e["path"])) @if e["query"] != "" { "?" (s(&e["query"])) } } }
            dt { "Status" } dd #detail-status { (s(&e["status"])) " " (markers(&e)) }
            dt { "Time" } dd { (s(&e["time"])) " (emulator clock " (s(&e["emulatorTime"])) ")" }
            dt { "Tenant" } dd { (tenant_label(&e["tenant"])) }
            dt { "User" } dd { (s(&e["user"])) }
            dt { "Duration" } dd { (s(&e["durationMicros"])) " µs" }
            @for h in arr(&e["requestHeaders"]) { dt { (s(&h[0])) } dd { code { (s(&h[1])) } } }
        }
        h2 { "Request body" }
        pre #request-body { (pretty(e["requestBody"].as_str().unwrap_or(""))) }
        h2 { "Response body" }
        pre #response-body { (pretty(e["responseBody"].as_str().unwrap_or(""))) }
    };
    page(&format!("Request {id}"), "Requests", &json, top, html! {}).into_response()
}

async fn webhooks(AxState(sh): AxState<SharedState>, RawQuery(q): RawQuery) -> Html<String> {
    let p = Params::parse(q.as_deref());
    let v = inspect::webhooks(&sh);
    let target = v["target"].as_str().unwrap_or("");
    let top = html! {
        @if let Some(m) = p.get("error") { p.error role="alert" { (m) } }
        @if let Some(m) = p.get("done") { p.notice role="status" #notice { (m) } }
        form.trigger method="post" action="/_emulator/ui/webhooks/trigger" aria-label="Trigger a webhook" {
            h2 { "Trigger a webhook" }
            label { "Type "
                select name="type" #trigger-type {
                    @for t in arr(&v["types"]) { option value=(s(t)) { (s(t)) } }
                }
            }
            label { "User " input name="userId" #trigger-user required; }
            label { "Tenant " input name="tenant" size="10" placeholder="(default)"; }
            label { "URL " input name="url" #trigger-url size="36" value=(target) placeholder="http://127.0.0.1:3000/webhooks"; }
            label { "Secret " input type="password" name="secret" #trigger-secret autocomplete="off" placeholder=(if target.is_empty() { "required" } else { "default: the configured one" }); }
            button type="submit" #trigger-send { "Send signed" }
        }
    };
    let mut list: Vec<&Value> = arr(&v["deliveries"]).iter().collect();
    list.reverse();
    let live = html! {
        p #deliveries-count { (list.len()) " deliveries" @if !target.is_empty() { " · target " code { (target) } } }
        table #deliveries {
            thead { tr { th { "#" } th { "Type" } th { "Source" } th { "Target" } th { "Status" } th { "Attempts" } th { "Payload" } th { "" } } }
            tbody {
                @for d in list {
                    tr id={"delivery-" (s(&d["id"]))} {
                        td { (s(&d["id"])) }
                        td.type { (s(&d["type"])) }
                        td { (s(&d["source"])) }
                        td { code { (s(&d["target"])) } }
                        td.status { (s(&d["status"])) (if d["delivered"] == true { " delivered" } else { " failed" }) }
                        td.attempts { (s(&d["attempts"])) }
                        td { details { summary { "payload" } pre { (serde_json::to_string_pretty(&d["body"]).unwrap_or_default()) } } }
                        td {
                            form method="post" action={"/_emulator/ui/webhooks/" (s(&d["id"])) "/resend"} {
                                button type="submit" aria-label={"Resend delivery " (s(&d["id"]))} { "Resend" }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Webhooks", "Webhooks", "/_emulator/webhooks", top, live)
}

fn back(page: &str, key: &str, msg: &str) -> Response {
    Redirect::to(&format!("/_emulator/ui/{page}?{key}={}", enc(msg))).into_response()
}

async fn trigger(AxState(sh): AxState<SharedState>, body: Bytes) -> Response {
    let p = Params::parse(std::str::from_utf8(&body).ok());
    let f = |k: &str| p.get(k).map(str::to_string);
    let t = TriggerRequest {
        event_type: f("type").unwrap_or_default(),
        user_id: f("userId").unwrap_or_default(),
        url: f("url"),
        secret: f("secret"),
        tenant: f("tenant").unwrap_or_default(),
    };
    match inspect::trigger_delivery(&sh, t).await {
        Ok(d) => back(
            "webhooks",
            "done",
            &format!(
                "Delivery {} ({}) sent: status {}",
                s(&d["id"]),
                s(&d["type"]),
                s(&d["status"])
            ),
        ),
        Err(e) => back("webhooks", "error", &e.message),
    }
}

async fn resend(AxState(sh): AxState<SharedState>, Path(id): Path<u64>) -> Response {
    match inspect::resend_delivery(&sh, id).await {
        Ok(d) => back(
            "webhooks",
            "done",
            &format!(
                "Delivery {id} resent: status {}, {} attempts",
                s(&d["status"]),
                s(&d["attempts"])
            ),
        ),
        Err(e) => back("webhooks", "error", &e.message),
    }
}

async fn clock(AxState(sh): AxState<SharedState>, RawQuery(q): RawQuery) -> Html<String> {
    let p = Params::parse(q.as_deref());
    let (now, frozen, changes) = {
        let g = sh.lock();
        let c = g.clock_json();
        (s(&c["now"]), c["frozen"] == true, g.clock_changes.clone())
    };
    let top = html! {
        @if let Some(m) = p.get("error") { p.error role="alert" { (m) } }
        form method="post" action="/_emulator/ui/clock" aria-label="Advance the clock" {
            "Advance by "
            button type="submit" name="advance" value="hour" #advance-hour { "1 hour" } " "
            button type="submit" name="advance" value="day" #advance-day { "1 day" } " "
            button type="submit" name="advance" value="week" #advance-week { "1 week" }
        }
        form method="post" action="/_emulator/ui/clock" aria-label="Set the clock" {
            label { "Set to " input name="now" size="26" value=(now) placeholder="2026-01-15T12:00:00Z"; }
            " " button type="submit" { "Set" }
            " " button type="submit" name="system" value="true" { "Back to system time" }
        }
    };
    let live = html! {
        p { "Now: " strong #clock-now { (now) } (if frozen { " (frozen)" } else { " (running)" }) }
        h2 { "Effects of clock moves" }
        @if changes.is_empty() { p { "None yet." } }
        ol #clock-changes reversed {
            @for c in changes.iter().rev() {
                li {
                    (s(&c["from"])) " → " (s(&c["to"])) ": "
                    @let lost = arr(&c["streaksLost"]);
                    @let done = arr(&c["leaderboardsFinished"]);
                    span.lost { (lost.len()) " streaks lost" }
                    @if !lost.is_empty() {
                        " (" @for (i, l) in lost.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href=(user_href(&l["tenant"], &l["userId"])) { (s(&l["userId"])) } " lost " (s(&l["length"]))
                        } ")"
                    }
                    ", " (done.len()) " leaderboards finished"
                    @if !done.is_empty() { " (" @for (i, l) in done.iter().enumerate() { @if i > 0 { ", " } (s(&l["key"])) } ")" }
                    ", " (s(&c["webhooks"])) " webhooks fired"
                }
            }
        }
    };
    page("Clock", "Clock", "/_emulator/clock", top, live)
}

async fn clock_post(AxState(sh): AxState<SharedState>, body: Bytes) -> Response {
    let p = Params::parse(std::str::from_utf8(&body).ok());
    let mut v = json!({});
    match p.get("advance") {
        Some("hour") => v["advanceSeconds"] = json!(3_600),
        Some("day") => v["advanceSeconds"] = json!(86_400),
        Some("week") => v["advanceSeconds"] = json!(7 * 86_400),
        _ if p.get("system") == Some("true") => v["system"] = json!(true),
        _ => v["now"] = json!(p.get("now").unwrap_or("").trim()),
    }
    match clock_change(&v) {
        Ok(change) => {
            sh.move_clock(change);
            Redirect::to("/_emulator/ui/clock").into_response()
        }
        Err(e) => back("clock", "error", &e.message),
    }
}

async fn leaderboards(AxState(sh): AxState<SharedState>) -> Html<String> {
    let v = inspect::leaderboards(&sh);
    let live = html! {
        @let boards = arr(&v["leaderboards"]);
        @if boards.is_empty() { p { "No leaderboards (create them through the Admin API)." } }
        @for b in boards {
            section.board {
                h2 { (s(&b["name"])) " " code { (s(&b["key"])) } }
                p { (s(&b["status"])) ", by " (s(&b["rankBy"])) ", run " (s(&b["runStart"])) " – " (s(&b["runEnd"]))
                    ", tenant " (tenant_label(&b["tenant"])) }
                table id={"board-" (s(&b["key"]))} {
                    thead { tr { th { "Rank" } th { "User" } th { "Value" } } }
                    tbody {
                        @for r in arr(&b["rankings"]) {
                            tr { td { (s(&r["rank"])) } td { a href=(user_href(&b["tenant"], &r["userId"])) { (s(&r["userId"])) } } td { (s(&r["value"])) } }
                        }
                    }
                }
            }
        }
    };
    page(
        "Leaderboards",
        "Leaderboards",
        "/_emulator/leaderboards",
        html! {},
        live,
    )
}

/// The admin key in plain text, for the copy button only (the page shows it masked).
async fn admin_key(AxState(sh): AxState<SharedState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        sh.meta.admin_key.clone(),
    )
        .into_response()
}

/// Server-sent events: a `change` event (data: a counter) at most every 500 ms while anything
/// shown changed (so an open page refetches at most twice a second, however busy the emulator
/// is), and a keep-alive comment otherwise.
async fn events(AxState(sh): AxState<SharedState>) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let start = sh.changed.load(Ordering::Relaxed);
    let stream = futures_util::stream::unfold((sh, start), |(sh, mut seen)| async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = sh.changed.load(Ordering::Relaxed);
            if now != seen {
                seen = now;
                return Some((Ok(Event::default().event("change").data(now.to_string())), (sh, seen)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
