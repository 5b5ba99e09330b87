//! Webhook deliveries: the payloads a request implies, and one task that posts them, signed, in
//! order, to the configured URL.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
pub use trophy::webhooks::{WebhookSecret, SIGNATURE_HEADER};

use chrono::{DateTime, Utc};

use crate::events::Recorded;
use crate::model::State;
use crate::render;

/// Attempts per delivery, and the pause before the second (doubling after).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Time limit of one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the emulator sends webhooks, and the secret it signs them with.
#[derive(Clone)]
pub struct WebhookTarget {
    pub(crate) url: String,
    pub(crate) secret: WebhookSecret,
}

impl WebhookTarget {
    /// Deliveries go to `url`, signed with `secret` (the receiver verifies them with the same
    /// [`WebhookSecret`]; a `&str` or `String` converts). Use an `http://` URL (a receiver on
    /// this machine): the emulator's own HTTP client is built without TLS, so an `https://`
    /// target only works when another crate of the build turns TLS on, and otherwise every
    /// attempt fails.
    pub fn new(url: impl Into<String>, secret: impl Into<WebhookSecret>) -> WebhookTarget {
        WebhookTarget {
            url: url.into(),
            secret: secret.into(),
        }
    }

    /// The URL deliveries go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The secret deliveries are signed with.
    pub fn secret(&self) -> &WebhookSecret {
        &self.secret
    }
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// One webhook the emulator sent (or tried to send).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// Its number in the emulator's delivery list, from 1.
    pub id: u64,
    /// The payload's `type`, e.g. `achievement.completed`.
    pub event_type: String,
    /// The URL it was posted to.
    pub target: String,
    /// The body exactly as sent.
    pub body: String,
    /// The value of the [`SIGNATURE_HEADER`] header sent with it.
    pub signature: String,
    /// HTTP attempts made (at most 4 per sending; a resend adds its own).
    pub attempts: u32,
    /// The status of the last attempt; `None` when it got no HTTP answer.
    pub status: Option<u16>,
    /// Whether an attempt was answered with a 2xx status.
    pub delivered: bool,
    /// The body of the last answer (cut at 2 KiB), or why there was none.
    pub response: String,
}

/// A delivery as the list (and the state file) keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Delivery {
    pub id: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub target: String,
    pub body: String,
    pub signature: String,
    pub attempts: u32,
    pub status: Option<u16>,
    pub delivered: bool,
    pub response: String,
    /// `event` (an API request), `clock` (a clock change), `trigger` or `test`.
    pub source: String,
}

impl Delivery {
    pub(crate) fn public(&self) -> WebhookDelivery {
        WebhookDelivery {
            id: self.id,
            event_type: self.event_type.clone(),
            target: self.target.clone(),
            body: self.body.clone(),
            signature: self.signature.clone(),
            attempts: self.attempts,
            status: self.status,
            delivered: self.delivered,
            response: self.response.clone(),
        }
    }
}

/// What the delivery task is asked to do.
enum Job {
    /// Post a new payload, signed with the target's secret.
    Send {
        payload: Value,
        target: WebhookTarget,
        source: &'static str,
        done: Option<oneshot::Sender<Delivery>>,
    },
    /// Post a delivery again, as it was sent.
    Resend {
        id: u64,
        done: oneshot::Sender<Option<Delivery>>,
    },
}

/// The delivery list and the queue; one task does the posting, in order.
pub(crate) struct Webhooks {
    /// The configured target of the webhooks requests cause, if any.
    /// The target now; payloads are queued with the target of their request's time, so a
    /// change applies from the next request on.
    target: Mutex<Option<WebhookTarget>>,
    tx: mpsc::UnboundedSender<Job>,
    log: Arc<Mutex<Vec<Delivery>>>,
    pending: Arc<AtomicUsize>,
    settled: Arc<Notify>,
}

impl Webhooks {
    /// Starts the delivery task on the current runtime; `changed` is bumped at each delivery.
    pub(crate) fn start(target: Option<WebhookTarget>, changed: Arc<AtomicU64>) -> (Webhooks, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let hooks = Webhooks {
            target: Mutex::new(target),
            tx,
            log: Arc::default(),
            pending: Arc::default(),
            settled: Arc::default(),
        };
        let task = tokio::spawn(deliver(
            rx,
            hooks.log.clone(),
            hooks.pending.clone(),
            hooks.settled.clone(),
            changed,
        ));
        (hooks, task)
    }

    /// The URL deliveries go to, when configured.
    pub(crate) fn url(&self) -> Option<String> {
        self.target().map(|t| t.url)
    }

    /// The configured target, if any.
    pub(crate) fn target(&self) -> Option<WebhookTarget> {
        self.target.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the target (`None`: stop sending). Payloads already queued keep theirs.
    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = target;
    }

    /// Queues payloads for delivery to the configured target, in order (nothing without one).
    pub(crate) fn send(&self, payloads: Vec<Value>, source: &'static str) {
        let Some(target) = self.target() else { return };
        for payload in payloads {
            self.queue(Job::Send {
                payload,
                target: target.clone(),
                source,
                done: None,
            });
        }
    }

    fn queue(&self, job: Job) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(job).is_err() {
            // The task has stopped (the emulator is shutting down): nothing will be sent.
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Posts one payload to any target and waits for the outcome (recorded in the list like
    /// the others); `None` when the emulator is shutting down.
    pub(crate) async fn send_now(
        &self,
        payload: Value,
        target: WebhookTarget,
        source: &'static str,
    ) -> Option<Delivery> {
        let (done, rx) = oneshot::channel();
        self.queue(Job::Send {
            payload,
            target,
            source,
            done: Some(done),
        });
        rx.await.ok()
    }

    /// Posts delivery `id` again, as it was sent; `None` when there is no such delivery.
    pub(crate) async fn resend(&self, id: u64) -> Option<Delivery> {
        let (done, rx) = oneshot::channel();
        self.queue(Job::Resend { id, done });
        rx.await.ok().flatten()
    }

    /// Every delivery finished so far, in order.
    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the list by a saved one.
    pub(crate) fn restore(&self, saved: Vec<Delivery>) {
        *self.log.lock().unwrap_or_else(|e| e.into_inner()) = saved;
    }

    /// Waits until every queued payload has been delivered or given up on.
    pub(crate) async fn settle(&self) {
        loop {
            let notified = self.settled.notified();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The standard base64 of HMAC-SHA256(secret, body).
pub(crate) fn sign(secret: &WebhookSecret, body: &[u8]) -> String {
    trophy::webhooks::sign(secret.expose_secret(), body)
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Bytes of a receiver's answer kept.
const RESPONSE_LIMIT: usize = 2048;

/// One attempt: the status and the body of the answer, or why there was none.
async fn attempt(http: &HttpClient, url: &str, body: &str, signature: &str) -> (Option<u16>, String) {
    let request = match http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(Full::new(Bytes::from(body.to_string())))
    {
        Ok(r) => r,
        Err(e) => return (None, format!("invalid request: {e}")),
    };
    let answer = async {
        let response = http.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_LIMIT)]).into_owned();
        Ok::<_, String>((status, text))
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, answer).await {
        Ok(Ok((status, text))) => (Some(status), text),
        Ok(Err(e)) => (None, format!("no answer: {e}")),
        Err(_) => (None, format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
    }
}

/// Up to [`ATTEMPTS`] attempts, 100, 200 and 400 ms apart, until one is answered 2xx.
async fn post(http: &HttpClient, d: &mut Delivery) {
    let mut backoff = FIRST_BACKOFF;
    for n in 0..ATTEMPTS {
        if n > 0 {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        d.attempts += 1;
        let (status, response) = attempt(http, &d.target, &d.body, &d.signature).await;
        d.status = status;
        d.response = response;
        d.delivered = status.is_some_and(|s| (200..300).contains(&s));
        if d.delivered {
            return;
        }
    }
}

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn deliver(
    mut rx: mpsc::UnboundedReceiver<Job>,
    log: Arc<Mutex<Vec<Delivery>>>,
    pending: Arc<AtomicUsize>,
    settled: Arc<Notify>,
    changed: Arc<AtomicU64>,
) {
    let http = http_client();
    let lock = || log.lock().unwrap_or_else(|e| e.into_inner());
    while let Some(job) = rx.recv().await {
        match job {
            Job::Send {
                payload,
                target,
                source,
                done,
            } => {
                let body = payload.to_string();
                let mut d = Delivery {
                    id: 0,
                    event_type: payload["type"].as_str().unwrap_or_default().to_string(),
                    signature: sign(&target.secret, body.as_bytes()),
                    target: target.url,
                    body,
                    attempts: 0,
                    status: None,
                    delivered: false,
                    response: String::new(),
                    source: source.to_string(),
                };
                post(&http, &mut d).await;
                {
                    let mut l = lock();
                    d.id = l.last().map_or(1, |x| x.id + 1);
                    l.push(d.clone());
                }
                if let Some(done) = done {
                    let _ = done.send(d);
                }
            }
            Job::Resend { id, done } => {
                let found = lock().iter().find(|d| d.id == id).cloned();
                let result = match found {
                    Some(mut d) => {
                        post(&http, &mut d).await;
                        if let Some(x) = lock().iter_mut().find(|x| x.id == id) {
                            *x = d.clone();
                        }
                        Some(d)
                    }
                    None => None,
                };
                let _ = done.send(result);
            }
        }
        changed.fetch_add(1, Ordering::SeqCst);
        pending.fetch_sub(1, Ordering::SeqCst);
        settled.notify_waiters();
    }
}

/// Sends a signed sample webhook of `event_type` about `user_id` to `target` (one series of up
/// to 4 attempts) and returns what happened: the `trigger` command without an emulator.
pub(crate) async fn trigger_standalone(target: &WebhookTarget, event_type: &str, user_id: &str) -> Option<Delivery> {
    let payload = sample(event_type, user_id, None)?;
    let body = payload.to_string();
    let mut d = Delivery {
        id: 1,
        event_type: event_type.to_string(),
        signature: sign(&target.secret, body.as_bytes()),
        target: target.url.clone(),
        body,
        attempts: 0,
        status: None,
        delivered: false,
        response: String::new(),
        source: "trigger".into(),
    };
    post(&http_client(), &mut d).await;
    Some(d)
}

// ----- samples ------------------------------------------------------------------------------------

/// The 18 webhook types Trophy sends, each with a sample payload of our own.
pub(crate) const SAMPLES: [(&str, &str); 18] = [
    (
        "achievement.completed",
        include_str!("../samples/achievement.completed.json"),
    ),
    ("streak.started", include_str!("../samples/streak.started.json")),
    ("streak.extended", include_str!("../samples/streak.extended.json")),
    ("streak.lost", include_str!("../samples/streak.lost.json")),
    (
        "streak.freeze_consumed",
        include_str!("../samples/streak.freeze_consumed.json"),
    ),
    (
        "streak.freeze_earned",
        include_str!("../samples/streak.freeze_earned.json"),
    ),
    ("points.changed", include_str!("../samples/points.changed.json")),
    (
        "points.level_changed",
        include_str!("../samples/points.level_changed.json"),
    ),
    (
        "points.boost_started",
        include_str!("../samples/points.boost_started.json"),
    ),
    (
        "points.boost_finished",
        include_str!("../samples/points.boost_finished.json"),
    ),
    (
        "leaderboard.started",
        include_str!("../samples/leaderboard.started.json"),
    ),
    (
        "leaderboard.changed",
        include_str!("../samples/leaderboard.changed.json"),
    ),
    (
        "leaderboard.finished",
        include_str!("../samples/leaderboard.finished.json"),
    ),
    (
        "leaderboard.rank_changed",
        include_str!("../samples/leaderboard.rank_changed.json"),
    ),
    (
        "emails.achievement_due",
        include_str!("../samples/emails.achievement_due.json"),
    ),
    (
        "emails.reactivation_due",
        include_str!("../samples/emails.reactivation_due.json"),
    ),
    ("emails.recap_due", include_str!("../samples/emails.recap_due.json")),
    (
        "emails.streak_reminder_due",
        include_str!("../samples/emails.streak_reminder_due.json"),
    ),
];

/// A sample payload of `event_type` about `user_id`: the `user` replaced by `user` (the user as
/// the emulator holds it) or given that ID; for a payload without a user (leaderboards), the
/// first ranking names the user. `None` for an unknown type.
pub(crate) fn sample(event_type: &str, user_id: &str, user: Option<Value>) -> Option<Value> {
    let (_, text) = SAMPLES.iter().find(|(t, _)| *t == event_type)?;
    let mut payload: Value = serde_json::from_str(text).ok()?;
    if payload.get("user").is_some() {
        match user {
            Some(u) => payload["user"] = u,
            None => payload["user"]["id"] = json!(user_id),
        }
    } else if let Some(boost) = payload.get_mut("boost") {
        boost["userId"] = json!(user_id);
    } else if let Some(rankings) = payload
        .pointer_mut("/leaderboard/rankings")
        .and_then(Value::as_array_mut)
    {
        match rankings.first_mut() {
            Some(first) => first["userId"] = json!(user_id),
            None => rankings.push(json!({"userId": user_id, "userName": user_id, "rank": 1, "value": 0})),
        }
    }
    Some(payload)
}

// ----- payloads -----------------------------------------------------------------------------------

/// The payloads of a recorded metric event, from its answer (`EventResponse`) and the streak
/// freezes it used.
pub(crate) fn event_payloads(st: &State, user_id: &str, recorded: &Recorded) -> Vec<Value> {
    let body = &recorded.body;
    let achievements = body["achievements"].as_array().map_or(&[][..], Vec::as_slice);
    let effects = EventEffects {
        freezes_consumed: recorded.freezes_consumed,
        current_streak: &body["currentStreak"],
        rank_changes: &recorded.rank_changes,
    };
    payloads(st, user_id, achievements, Some(effects), &body["points"])
}

/// What only a metric event does: to the streak and to leaderboard ranks.
pub(crate) struct EventEffects<'a> {
    /// Freezes used to bridge missed periods, and how many are left.
    pub freezes_consumed: Option<(i64, i64)>,
    /// The answer's `currentStreak`.
    pub current_streak: &'a Value,
    /// Leaderboards on which the user's rank changed (`WebhookUserLeaderboardResponse`).
    pub rank_changes: &'a [Value],
}

/// The payloads a request implies, in order: `achievement.completed` for each completed
/// achievement (as rendered in the answer); for a metric event, `streak.freeze_consumed` when
/// freezes bridged missed periods and `streak.started`/`streak.extended` when the event extended
/// the streak; then per points system of `points` (the answer's map) `points.changed` and, when
/// the total crossed a level, `points.level_changed`; last, for a metric event,
/// `leaderboard.rank_changed` per leaderboard on which the user's rank changed.
pub(crate) fn payloads(
    st: &State,
    user_id: &str,
    achievements: &[Value],
    event: Option<EventEffects<'_>>,
    points: &Value,
) -> Vec<Value> {
    let Some(user) = st.users.get(user_id).map(render::user) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in achievements {
        out.push(json!({"type": "achievement.completed", "user": user, "achievement": a}));
    }
    if let Some((consumed, left)) = event.as_ref().and_then(|e| e.freezes_consumed) {
        out.push(json!({"type": "streak.freeze_consumed", "user": user, "consumed": consumed, "freezes": left}));
    }
    let streak = event.as_ref().map(|e| e.current_streak);
    if let Some(s) = streak.filter(|s| s["extended"] == Value::Bool(true)) {
        let kind = if s["length"] == json!(1) {
            "streak.started"
        } else {
            "streak.extended"
        };
        let mut base = s.clone();
        if let Some(o) = base.as_object_mut() {
            o.remove("extended");
        }
        out.push(json!({"type": kind, "user": user, "streak": base}));
    }
    for (key, p) in points.as_object().into_iter().flatten() {
        let added = p["added"].as_i64().unwrap_or(0);
        if added != 0 {
            out.push(json!({"type": "points.changed", "user": user, "points": p}));
        }
        let total = p["total"].as_i64().unwrap_or(0);
        let Some(system) = st.system_by_key(key) else {
            continue;
        };
        let before = system.level_for(total.saturating_sub(added));
        let after = system.level_for(total);
        if before.map(|l| &l.id) != after.map(|l| &l.id) {
            let mut summary = p.clone();
            if let Some(o) = summary.as_object_mut() {
                for k in ["added", "awards", "level"] {
                    o.remove(k);
                }
            }
            out.push(json!({
                "type": "points.level_changed",
                "user": user,
                "points": summary,
                "previousLevel": before.map_or(Value::Null, render::app_level),
                "newLevel": after.map_or(Value::Null, render::app_level),
            }));
        }
    }
    for board in event.map_or(&[][..], |e| e.rank_changes) {
        out.push(json!({"type": "leaderboard.rank_changed", "user": user, "leaderboard": board}));
    }
    out
}

/// What moving the clock from `before` to `after` did to one tenant: streaks lost (user ID,
/// length), leaderboards finished (key), and the payloads of the matching `streak.lost` and
/// `leaderboard.finished` webhooks.
#[derive(Debug, Default)]
pub(crate) struct ClockEffects {
    pub streaks_lost: Vec<(String, i64)>,
    pub leaderboards_finished: Vec<String>,
    pub payloads: Vec<Value>,
}

pub(crate) fn clock_effects(st: &State, before: DateTime<Utc>, after: DateTime<Utc>) -> ClockEffects {
    let mut fx = ClockEffects::default();
    let (b, a) = (before.date_naive(), after.date_naive());
    if a <= b {
        return fx;
    }
    for u in st.users.values() {
        let was = st.streak_view(&u.id, b).length;
        if was > 0 && st.streak_view(&u.id, a).length == 0 {
            fx.streaks_lost.push((u.id.clone(), was));
            fx.payloads
                .push(json!({"type": "streak.lost", "user": render::user(u), "length": was}));
        }
    }
    for lb in st.leaderboards.iter().filter(|l| l.exposed()) {
        if lb.app_status(b) != "finished" && lb.app_status(a) == "finished" {
            let rankings: Vec<Value> = st
                .rankings(lb, lb.run_for(b), &[], b)
                .into_iter()
                .map(|r| json!({"userId": r.user_id, "userName": r.user_name, "rank": r.rank, "value": r.value}))
                .collect();
            let mut board = render::leaderboard_base(st, lb);
            board["status"] = json!("finished");
            board["rankings"] = Value::Array(rankings);
            fx.leaderboards_finished.push(lb.key.clone());
            fx.payloads
                .push(json!({"type": "leaderboard.finished", "leaderboard": board}));
        }
    }
    fx
}

#[cfg(test)]
mod tests {
    use super::{sample, sign, SAMPLES};

    #[test]
    fn every_sample_is_its_type_and_names_the_user() {
        for (t, _) in SAMPLES {
            let p = sample(t, "u-42", None).unwrap();
            assert_eq!(p["type"], t);
            let text = p.to_string();
            assert!(text.contains("\"u-42\""), "{t}: {text}");
        }
        assert!(sample("no.such", "u", None).is_none());
    }

    #[test]
    fn signature_is_base64_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(&"Jefe".into(), b"what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }
}
