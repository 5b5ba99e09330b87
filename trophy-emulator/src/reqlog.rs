//! The request log: every API request the emulator answered, in a bounded ring, with a summary
//! that counts all of them (also those the ring has forgotten). A leaf: it uses no other module
//! of the crate.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Entries the ring holds by default.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;

/// Bytes of a body kept in an entry; the rest is cut (and said so).
pub(crate) const BODY_LIMIT: usize = 16 * 1024;

/// What the inspector flags on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Marker {
    /// Fault injection answered it (before or after processing).
    Fault,
    /// Answered 429 (a rate limit, or an injected 429).
    RateLimited,
    /// A metric event answered as an idempotent replay.
    Replay,
}

impl Marker {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Marker::Fault => "fault",
            Marker::RateLimited => "429",
            Marker::Replay => "replay",
        }
    }
}

/// One request and its answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Entry {
    /// Sequence number, from 1, never reused.
    pub id: u64,
    /// Wall-clock time it arrived.
    pub time: DateTime<Utc>,
    /// The emulator's clock then.
    pub emulator_time: DateTime<Utc>,
    /// `app` or `admin`.
    pub api: String,
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: String,
    /// The `Tenant-ID` header (`""` without one).
    pub tenant: String,
    /// The user the request is about, when one is named (path, body `user.id`, query `userId`).
    pub user: Option<String>,
    pub status: u16,
    pub duration_micros: u64,
    pub markers: Vec<Marker>,
    /// Whether an `X-API-KEY` was sent (its value is never kept).
    pub api_key_sent: bool,
    pub idempotency_key: Option<String>,
    /// The bodies, API keys redacted, cut at [`BODY_LIMIT`] bytes.
    pub request_body: LoggedBody,
    pub response_body: LoggedBody,
}

/// A logged body: the bytes received or sent (shared, not copied) when they hold no secret,
/// else a redacted copy.
#[derive(Clone, Debug, Default)]
pub(crate) struct LoggedBody(pub Bytes);

impl LoggedBody {
    /// The body as logged: `secrets` and application keys replaced, cut at [`BODY_LIMIT`].
    pub(crate) fn new(body: Bytes, secrets: &[&str]) -> LoggedBody {
        if body.len() <= BODY_LIMIT {
            if let Ok(text) = std::str::from_utf8(&body) {
                let clean = !text.contains("app_") && !secrets.iter().any(|s| s.len() >= 4 && text.contains(s));
                if clean {
                    return LoggedBody(body);
                }
            }
        }
        LoggedBody(Bytes::from(redact(&body, secrets)))
    }

    pub(crate) fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl Serialize for LoggedBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.text().serialize(s)
    }
}

impl<'de> Deserialize<'de> for LoggedBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LoggedBody, D::Error> {
        String::deserialize(d).map(|s| LoggedBody(Bytes::from(s)))
    }
}

impl Entry {
    /// Whether the entry passes a filter: `status` a code (`429`) or class (`4xx`), `path` and
    /// `user` substrings, `marker` a marker label.
    pub(crate) fn matches(&self, f: &Filter) -> bool {
        let status_ok = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => true,
            Some(s) if s.len() == 3 && s.ends_with("xx") => {
                s.as_bytes()[0].is_ascii_digit() && u32::from(s.as_bytes()[0] - b'0') == u32::from(self.status / 100)
            }
            Some(s) => s.parse::<u16>().is_ok_and(|c| c == self.status),
        };
        let path_ok = f
            .path
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|p| self.path.contains(p));
        let user_ok = f
            .user
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|u| self.user.as_deref().is_some_and(|x| x.contains(u)));
        let marker_ok = f
            .marker
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|m| self.markers.iter().any(|x| x.label() == m));
        status_ok && path_ok && user_ok && marker_ok
    }
}

/// A filter of the log (every field optional).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Filter {
    pub status: Option<String>,
    pub path: Option<String>,
    pub user: Option<String>,
    pub marker: Option<String>,
}

/// Counts over every request logged, forgotten ones included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    pub total: u64,
    /// Status code to count.
    pub by_status: BTreeMap<u16, u64>,
    /// `app`/`admin` to count.
    pub by_api: BTreeMap<String, u64>,
    pub faults: u64,
    pub rate_limited: u64,
    pub replays: u64,
}

/// The ring and its summary.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Ring {
    pub capacity: usize,
    pub next_id: u64,
    pub entries: VecDeque<Entry>,
    pub summary: Summary,
}

/// The request log shared by the middleware and the inspector.
#[derive(Debug)]
pub(crate) struct RequestLog {
    ring: Mutex<Ring>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> RequestLog {
        RequestLog {
            ring: Mutex::new(Ring {
                capacity,
                next_id: 1,
                ..Ring::default()
            }),
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an entry (its `id` is assigned here), forgetting the oldest beyond capacity.
    pub(crate) fn push(&self, mut e: Entry) {
        let mut r = self.lock();
        e.id = r.next_id;
        r.next_id += 1;
        let s = &mut r.summary;
        s.total += 1;
        *s.by_status.entry(e.status).or_default() += 1;
        match s.by_api.get_mut(&e.api) {
            Some(n) => *n += 1,
            None => {
                s.by_api.insert(e.api.clone(), 1);
            }
        }
        for m in &e.markers {
            match m {
                Marker::Fault => s.faults += 1,
                Marker::RateLimited => s.rate_limited += 1,
                Marker::Replay => s.replays += 1,
            }
        }
        if r.capacity == 0 {
            return;
        }
        while r.entries.len() >= r.capacity {
            r.entries.pop_front();
        }
        r.entries.push_back(e);
    }

    /// Replaces the log by a saved one, keeping this log's capacity.
    pub(crate) fn restore(&self, saved: Ring) {
        let mut r = self.lock();
        let capacity = r.capacity;
        *r = saved;
        r.capacity = capacity;
        r.next_id = r.next_id.max(r.entries.back().map_or(0, |e| e.id) + 1);
        while r.entries.len() > capacity {
            r.entries.pop_front();
        }
    }
}

/// Cuts a body at [`BODY_LIMIT`] bytes (on a character boundary) and replaces every secret in it.
fn redact(body: &[u8], secrets: &[&str]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = if text.len() > BODY_LIMIT {
        let mut cut = BODY_LIMIT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} bytes in all)", &text[..cut], text.len())
    } else {
        text.into_owned()
    };
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(*s) {
            out = out.replace(*s, "[redacted]");
        }
    }
    redact_app_keys(&out)
}

/// Replaces application API keys (`app_` and 32 hex digits) wherever they appear.
fn redact_app_keys(s: &str) -> String {
    if !s.contains("app_") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("app_") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 4..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex >= 32 {
            out.push_str("app_[redacted]");
            rest = &after[hex..];
        } else {
            out.push_str("app_");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u16, path: &str) -> Entry {
        Entry {
            id: 0,
            time: DateTime::<Utc>::MIN_UTC,
            emulator_time: DateTime::<Utc>::MIN_UTC,
            api: "app".into(),
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            tenant: String::new(),
            user: Some("u-1".into()),
            status,
            duration_micros: 1,
            markers: if status == 429 {
                vec![Marker::RateLimited]
            } else {
                vec![]
            },
            api_key_sent: true,
            idempotency_key: None,
            request_body: LoggedBody::default(),
            response_body: LoggedBody::default(),
        }
    }

    #[test]
    fn the_ring_forgets_the_oldest_and_the_summary_counts_everything() {
        let log = RequestLog::new(3);
        for i in 0..5 {
            log.push(entry(if i == 4 { 429 } else { 200 }, "/v1/users/u-1"));
        }
        let r = log.lock();
        assert_eq!(r.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(r.summary.total, 5);
        assert_eq!(r.summary.by_status[&200], 4);
        assert_eq!(r.summary.rate_limited, 1);
    }

    #[test]
    fn filters_by_status_code_class_path_and_user() {
        let e = entry(429, "/v1/metrics/words/event");
        let f = |status: &str, path: &str, user: &str| Filter {
            status: Some(status.into()),
            path: Some(path.into()),
            user: Some(user.into()),
            marker: None,
        };
        assert!(e.matches(&f("429", "", "")));
        assert!(e.matches(&f("4xx", "metrics", "u-")));
        assert!(!e.matches(&f("2xx", "", "")));
        assert!(!e.matches(&f("", "users", "")));
        assert!(!e.matches(&f("", "", "u-2")));
    }

    #[test]
    fn keys_are_redacted_and_long_bodies_cut() {
        let key = format!("app_{}", "0123456789abcdef".repeat(2));
        let body = format!(r#"{{"key":"{key}","admin":"secret_admin_key"}}"#);
        let out = LoggedBody::new(Bytes::from(body), &["secret_admin_key"]);
        assert_eq!(out.text(), r#"{"key":"app_[redacted]","admin":"[redacted]"}"#);
        let clean = Bytes::from_static(br#"{"user":{"id":"ana"}}"#);
        let kept = LoggedBody::new(clean.clone(), &["secret_admin_key"]);
        assert_eq!(kept.0.as_ptr(), clean.as_ptr(), "a clean body is shared, not copied");
        let long = "é".repeat(BODY_LIMIT);
        assert!(redact(long.as_bytes(), &[]).ends_with(&format!("({} bytes in all)", long.len())));
    }
}
