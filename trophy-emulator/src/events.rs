//! Recording a metric event, for both APIs: the idempotency check, the model's changes
//! ([`State::apply_event`]), the answer (`EventResponse`, see [`render::event_answer`]) and what
//! the webhooks need of it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{State, UserInput};
use crate::render;

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

/// Records a metric event and applies everything it causes; an idempotency key already used for
/// this user and metric answers the first answer again, marked as replayed, and changes nothing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_event(
    st: &mut State,
    metric_key: &str,
    user_id: &str,
    user: &UserInput,
    value: f64,
    attributes: &BTreeMap<String, String>,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Recorded, (u16, String)> {
    let Some(metric) = st.metric_by_key(metric_key).cloned() else {
        return Err((404, format!("metric with key {metric_key:?} not found")));
    };
    if let Some(k) = idempotency_key {
        let idem = (user_id.to_string(), metric.id.clone(), k.to_string());
        if let Some(body) = st.idempotency.get(&idem) {
            let mut body = body.clone();
            st.replayed += 1;
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
    let applied = st.apply_event(&metric, user_id, user, value, attributes, now)?;
    let (mut body, rank_changes) = render::event_answer(st, user_id, &applied, now);
    if let (Some(k), Some(o)) = (idempotency_key, body.as_object_mut()) {
        o.insert("idempotencyKey".into(), Value::String(k.to_string()));
        o.insert("idempotentReplayed".into(), Value::Bool(false));
        st.idempotency
            .insert((user_id.to_string(), metric.id.clone(), k.to_string()), body.clone());
    }
    Ok(Recorded {
        body,
        replayed: false,
        freezes_consumed: applied.freezes_consumed,
        rank_changes,
    })
}
