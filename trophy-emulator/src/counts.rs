//! What the emulator holds of metric events, so a test can compare it with what it sent:
//! [`Emulator::event_counts`](crate::Emulator::event_counts),
//! [`Emulator::metric_totals`](crate::Emulator::metric_totals) and `GET /_emulator/events`.

use axum::extract::State as AxState;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::context::reply;
use crate::state::{Inner, SharedState};

/// Metric events held by the emulator, all tenants together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventCounts {
    /// Events recorded (each changed a total), from single and batch requests.
    pub stored: u64,
    /// Events answered as idempotent replays (their key was already used; nothing changed).
    pub replayed: u64,
}

/// One user's total of one metric.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MetricTotal {
    /// The tenant (`""` without a `Tenant-ID` header).
    pub tenant: String,
    /// The user's ID.
    pub user_id: String,
    /// The metric's key.
    pub metric: String,
    /// Events recorded for this user and metric.
    pub events: u64,
    /// The user's total.
    pub total: f64,
}

pub(crate) fn counts(g: &Inner) -> EventCounts {
    let mut c = EventCounts::default();
    for st in g.states.values() {
        c.replayed += st.replayed;
        c.stored += st.users.values().map(|u| u.events.len() as u64).sum::<u64>();
    }
    c
}

pub(crate) fn totals(g: &Inner) -> Vec<MetricTotal> {
    let mut out = Vec::new();
    for (tenant, st) in &g.states {
        for u in st.users.values() {
            for (metric_id, total) in &u.totals {
                let Some(metric) = st.metrics.iter().find(|m| &m.id == metric_id) else {
                    continue;
                };
                out.push(MetricTotal {
                    tenant: tenant.clone(),
                    user_id: u.id.clone(),
                    metric: metric.key.clone(),
                    events: u.events.iter().filter(|e| &e.metric_id == metric_id).count() as u64,
                    total: *total,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.tenant, &a.user_id, &a.metric).cmp(&(&b.tenant, &b.user_id, &b.metric)));
    out
}

/// `GET /_emulator/events`: `{"stored": n, "replayed": n, "totals": [{"tenant", "userId",
/// "metric", "events", "total"}]}`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route("/_emulator/events", get(events_get))
}

async fn events_get(AxState(sh): AxState<SharedState>) -> Response {
    let g = sh.lock();
    let c = counts(&g);
    let totals: Vec<_> = totals(&g)
        .into_iter()
        .map(|t| json!({"tenant": t.tenant, "userId": t.user_id, "metric": t.metric, "events": t.events, "total": t.total}))
        .collect();
    reply(
        200,
        json!({"stored": c.stored, "replayed": c.replayed, "totals": totals}),
    )
}
