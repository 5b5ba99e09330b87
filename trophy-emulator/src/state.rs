//! The state behind the one mutex ([`Inner`]): clock, faults, keys, tenants and each tenant's
//! [`State`]; and [`Shared`], what every handler holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::faults::FaultState;
use crate::model::State;
use crate::seed::Seed;
use crate::webhooks::Webhooks;

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
#[derive(Clone, Debug)]
pub(crate) struct AppKey {
    pub id: String,
    pub user_id: String,
    pub key: String,
}

/// A tenant created through the Admin API.
#[derive(Clone, Debug)]
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
}

impl Inner {
    /// The state of a tenant, created from the seed on first use.
    pub(crate) fn state(&mut self, tenant: &str) -> &mut State {
        let seed = &self.seed;
        self.states
            .entry(tenant.to_string())
            .or_insert_with(|| State::from_seed(seed))
    }
}

/// State shared by all handlers.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Webhook deliveries (sent only while a target is set).
    pub(crate) webhooks: Webhooks,
}

impl Shared {
    pub(crate) fn new(inner: Inner, webhooks: Webhooks) -> Shared {
        Shared {
            inner: Mutex::new(inner),
            webhooks,
        }
    }

    /// Queues the webhooks `payloads` computes, when a target is configured (otherwise it is not
    /// called). Call it with the state locked, so deliveries keep the order of the requests.
    pub(crate) fn emit(&self, payloads: impl FnOnce() -> Vec<Value>) {
        self.webhooks.send(payloads);
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
