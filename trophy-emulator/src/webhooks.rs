//! Webhook deliveries: the payloads a request implies, and one task that posts them, signed, in
//! order, to the configured URL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
pub use trophy::webhooks::{WebhookSecret, SIGNATURE_HEADER};

use crate::events::Recorded;
use crate::model::State;
use crate::render;

/// Attempts per delivery, and the pause before the second (doubling after).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Time limit of one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the emulator sends webhooks, and the secret it signs them with.
#[derive(Clone, Debug)]
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

/// One webhook the emulator sent (or tried to send).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The payload's `type`, e.g. `achievement.completed`.
    pub event_type: String,
    /// The body exactly as sent.
    pub body: String,
    /// The value of the [`SIGNATURE_HEADER`] header sent with it.
    pub signature: String,
    /// HTTP attempts made (at most 4).
    pub attempts: u32,
    /// The status of the last attempt; `None` when it got no HTTP answer.
    pub status: Option<u16>,
    /// Whether an attempt was answered with a 2xx status.
    pub delivered: bool,
}

/// The sending side, shared by the handlers; one task does the posting.
pub(crate) struct Webhooks {
    /// The target now; payloads are queued with the target of their request's time, so a
    /// change applies from the next request on.
    target: Mutex<Option<WebhookTarget>>,
    tx: mpsc::UnboundedSender<(WebhookTarget, Value)>,
    log: Arc<Mutex<Vec<WebhookDelivery>>>,
    pending: Arc<AtomicUsize>,
    settled: Arc<Notify>,
}

impl Webhooks {
    /// Starts the delivery task on the current runtime.
    pub(crate) fn start(target: Option<WebhookTarget>) -> (Webhooks, JoinHandle<()>) {
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
        ));
        (hooks, task)
    }

    /// The target now, if any.
    pub(crate) fn target(&self) -> Option<WebhookTarget> {
        self.target.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the target (`None`: stop sending). Payloads already queued keep theirs.
    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = target;
    }

    /// Queues the payloads `payloads` computes, in order, for the current target; without a
    /// target, `payloads` is not called.
    pub(crate) fn send(&self, payloads: impl FnOnce() -> Vec<Value>) {
        let Some(target) = self.target() else {
            return;
        };
        for p in payloads() {
            self.pending.fetch_add(1, Ordering::SeqCst);
            if self.tx.send((target.clone(), p)).is_err() {
                // The task has stopped (the emulator is shutting down): nothing will be sent.
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Every delivery finished so far, in order.
    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
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

async fn deliver(
    mut rx: mpsc::UnboundedReceiver<(WebhookTarget, Value)>,
    log: Arc<Mutex<Vec<WebhookDelivery>>>,
    pending: Arc<AtomicUsize>,
    settled: Arc<Notify>,
) {
    let http: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    while let Some((target, payload)) = rx.recv().await {
        let body = payload.to_string();
        let signature = trophy::webhooks::sign(target.secret.expose_secret(), body.as_bytes());
        let mut delivery = WebhookDelivery {
            event_type: payload["type"].as_str().unwrap_or_default().to_string(),
            body,
            signature,
            attempts: 0,
            status: None,
            delivered: false,
        };
        {
            let mut backoff = FIRST_BACKOFF;
            while delivery.attempts < ATTEMPTS && !delivery.delivered {
                if delivery.attempts > 0 {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                delivery.attempts += 1;
                let request = http::Request::post(target.url.as_str())
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, &delivery.signature)
                    .body(Full::new(Bytes::from(delivery.body.clone())));
                delivery.status = match request {
                    Ok(request) => match tokio::time::timeout(ATTEMPT_TIMEOUT, http.request(request)).await {
                        Ok(Ok(response)) => Some(response.status().as_u16()),
                        _ => None,
                    },
                    Err(_) => None,
                };
                delivery.delivered = delivery.status.is_some_and(|s| (200..300).contains(&s));
            }
        }
        log.lock().unwrap_or_else(|e| e.into_inner()).push(delivery);
        pending.fetch_sub(1, Ordering::SeqCst);
        settled.notify_waiters();
    }
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
