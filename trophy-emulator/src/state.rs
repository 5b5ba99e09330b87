//! The state behind the one mutex ([`Inner`]): clock, faults, keys, tenants and each tenant's
//! [`State`]; and [`Shared`], what every handler holds.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::faults::FaultState;
use crate::model::{fmt_dt, State};
use crate::reqlog::RequestLog;
use crate::seed::Seed;
use crate::webhooks::{clock_effects, Webhooks};

/// The emulator clock: the system time plus an offset, or a frozen instant.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clock {
    System { offset: Duration },
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        match *self {
            Clock::System { offset } => Utc::now().checked_add_signed(offset).unwrap_or_else(Utc::now),
            Clock::Fixed(t) => t,
        }
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        match self {
            Clock::System { offset } => *offset = offset.checked_add(&by).unwrap_or(*offset),
            Clock::Fixed(t) => *t = t.checked_add_signed(by).unwrap_or(*t),
        }
    }
}

/// An application API key issued through the Admin API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AppKey {
    pub id: String,
    pub user_id: String,
    pub key: String,
}

/// A tenant created through the Admin API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TenantRec {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// Everything behind the one mutex.
pub(crate) struct Inner {
    pub seed: Seed,
    pub clock: Clock,
    pub faults: FaultState,
    /// Organisation keys accepted; empty accepts any key not starting with `app_`.
    pub api_keys: Vec<String>,
    pub app_keys: Vec<AppKey>,
    pub tenants: Vec<TenantRec>,
    /// Tenant ID (`""` for no Tenant-ID header) to state.
    pub states: HashMap<String, State>,
    /// The clock's moves that had effects, newest last (at most [`CLOCK_CHANGES_KEPT`]).
    pub clock_changes: Vec<Value>,
}

/// Clock moves kept for the inspector.
pub(crate) const CLOCK_CHANGES_KEPT: usize = 100;

impl Inner {
    /// `{"now", "frozen"}`.
    pub(crate) fn clock_json(&self) -> Value {
        json!({
            "now": fmt_dt(self.clock.now()),
            "frozen": matches!(self.clock, Clock::Fixed(_)),
        })
    }

    /// The fault settings and how many were injected.
    pub(crate) fn faults_json(&self) -> Value {
        json!({
            "rate": self.faults.cfg.rate,
            "status": self.faults.cfg.status,
            "seed": self.faults.cfg.seed,
            "failNext": self.faults.fail_next,
            "afterProcessing": self.faults.cfg.after_processing,
            "injected": self.faults.injected,
        })
    }

    /// The state of a tenant, created from the seed on first use.
    pub(crate) fn state(&mut self, tenant: &str) -> &mut State {
        let seed = &self.seed;
        self.states
            .entry(tenant.to_string())
            .or_insert_with(|| State::from_seed(seed))
    }
}

/// What the inspector shows besides the state: set once at start.
pub(crate) struct Meta {
    /// The organisation key [`crate::Emulator::admin_key`] returns (never shown in full).
    pub admin_key: String,
    /// The file `--state` names.
    pub state_file: Option<PathBuf>,
    /// The rate limits and their counts, as `GET /_emulator/rate-limits` answers.
    pub rate_limits: Box<dyn Fn() -> Value + Send + Sync>,
}

/// State shared by all handlers.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Webhook deliveries (to the configured target, and triggered ones).
    pub(crate) webhooks: Webhooks,
    /// Every API request answered.
    pub(crate) requests: RequestLog,
    /// Bumped at every change the inspector shows (requests, deliveries, clock, imports).
    pub(crate) changed: Arc<AtomicU64>,
    pub(crate) meta: Meta,
}

impl Shared {
    pub(crate) fn new(
        inner: Inner,
        webhooks: Webhooks,
        requests: RequestLog,
        changed: Arc<AtomicU64>,
        meta: Meta,
    ) -> Shared {
        Shared {
            inner: Mutex::new(inner),
            webhooks,
            requests,
            changed,
            meta,
        }
    }

    /// Queues the webhooks `payloads` computes, when a target is configured (otherwise it is not
    /// called). Call it with the state locked, so deliveries keep the order of the requests.
    pub(crate) fn emit(&self, payloads: impl FnOnce() -> Vec<Value>) {
        if self.webhooks.target().is_some() {
            self.webhooks.send(payloads(), "event");
        }
    }

    /// Notes a change for the inspector's live pages.
    pub(crate) fn touch(&self) {
        self.changed.fetch_add(1, Ordering::Relaxed);
    }

    /// Moves the clock with `f` and applies what the move causes in every tenant: streaks lost
    /// and leaderboards finished, with their `streak.lost` and `leaderboard.finished` webhooks.
    /// Returns the change (`from`, `to`, `streaksLost`, `leaderboardsFinished`, `webhooks`).
    pub(crate) fn move_clock(&self, f: impl FnOnce(&mut Clock)) -> Value {
        let mut g = self.lock();
        let before = g.clock.now();
        f(&mut g.clock);
        let after = g.clock.now();
        let mut tenants: Vec<&String> = g.states.keys().collect();
        tenants.sort();
        let (mut lost, mut finished, mut webhooks) = (Vec::new(), Vec::new(), 0);
        for tenant in tenants {
            let fx = clock_effects(&g.states[tenant], before, after);
            for (user, length) in fx.streaks_lost {
                lost.push(json!({"tenant": tenant, "userId": user, "length": length}));
            }
            for key in fx.leaderboards_finished {
                finished.push(json!({"tenant": tenant, "key": key}));
            }
            if self.webhooks.target().is_some() {
                webhooks += fx.payloads.len();
                self.webhooks.send(fx.payloads, "clock");
            }
        }
        let change = json!({
            "at": fmt_dt(Utc::now()),
            "from": fmt_dt(before),
            "to": fmt_dt(after),
            "streaksLost": lost,
            "leaderboardsFinished": finished,
            "webhooks": webhooks,
        });
        g.clock_changes.push(change.clone());
        let excess = g.clock_changes.len().saturating_sub(CLOCK_CHANGES_KEPT);
        g.clock_changes.drain(..excess);
        drop(g);
        self.touch();
        change
    }

    /// Locks the state (recovering from poisoning: a panicking handler leaves usable data).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a tenant's state with the current time.
    pub(crate) fn with<R>(&self, tenant: &str, f: impl FnOnce(&mut State, DateTime<Utc>) -> R) -> R {
        let mut g = self.lock();
        let now = g.clock.now();
        f(g.state(tenant), now)
    }
}

pub(crate) type SharedState = Arc<Shared>;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}
