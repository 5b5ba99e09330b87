//! The state file: everything the emulator holds (tenants and their state, application keys,
//! the clock, the request log, webhook deliveries) as one versioned JSON document, written
//! atomically (a temporary file in the same directory, then a rename).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{fmt_dt, State};
use crate::reqlog::Ring;
use crate::state::{AppKey, Clock, Shared, TenantRec};
use crate::webhooks::Delivery;

/// The `format` field of a state file.
pub(crate) const FORMAT: &str = "trophy-emulator-state";

/// The format version this emulator writes, and the newest it reads.
pub(crate) const VERSION: u64 = 1;

/// The clock as saved: a frozen instant, or an offset from the system time.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedClock {
    now: DateTime<Utc>,
    frozen: bool,
    offset_seconds: i64,
}

/// A state file, version 1.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    format: String,
    version: u64,
    saved_at: String,
    emulator_version: String,
    clock: SavedClock,
    tenants: Vec<TenantRec>,
    app_keys: Vec<AppKey>,
    /// Tenant ID (`""`: no Tenant-ID header) to its state.
    states: HashMap<String, State>,
    clock_changes: Vec<Value>,
    requests: Ring,
    webhooks: Vec<Delivery>,
}

/// The whole state as a document.
pub(crate) fn export(sh: &Shared) -> Value {
    let g = sh.lock();
    let clock = match g.clock {
        Clock::Fixed(t) => SavedClock {
            now: t,
            frozen: true,
            offset_seconds: 0,
        },
        Clock::System { offset } => SavedClock {
            now: g.clock.now(),
            frozen: false,
            offset_seconds: offset.num_seconds(),
        },
    };
    let requests = sh.requests.lock();
    let doc = Document {
        format: FORMAT.into(),
        version: VERSION,
        saved_at: fmt_dt(Utc::now()),
        emulator_version: env!("CARGO_PKG_VERSION").into(),
        clock,
        tenants: g.tenants.clone(),
        app_keys: g.app_keys.clone(),
        states: g.states.clone(),
        clock_changes: g.clock_changes.clone(),
        requests: Ring {
            capacity: requests.capacity,
            next_id: requests.next_id,
            entries: requests.entries.clone(),
            summary: requests.summary.clone(),
        },
        webhooks: sh.webhooks.deliveries(),
    };
    drop(requests);
    drop(g);
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// Reads a document, refusing another format or a newer version with a message that says so.
fn parse(bytes: &[u8]) -> Result<Document, String> {
    let raw: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a complete JSON document (torn or corrupted?): {e}"))?;
    if raw.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(format!(
            "not a trophy-emulator state file (no \"format\": \"{FORMAT}\")"
        ));
    }
    let version = raw
        .get("version")
        .and_then(Value::as_u64)
        .ok_or("the state file has no numeric \"version\"")?;
    if version > VERSION {
        let by = raw
            .get("emulatorVersion")
            .and_then(Value::as_str)
            .unwrap_or("a newer version");
        return Err(format!(
            "written by trophy-emulator {by} in state format version {version}; this trophy-emulator ({}) reads versions up to {VERSION}: upgrade it, or start without this file",
            env!("CARGO_PKG_VERSION")
        ));
    }
    serde_json::from_value(raw).map_err(|e| format!("invalid state file: {e}"))
}

/// Replaces everything the emulator holds by the document's content (the seed, faults, keys
/// and rate limits stay as configured).
pub(crate) fn import(sh: &Shared, bytes: &[u8]) -> Result<(), String> {
    let doc = parse(bytes)?;
    {
        let mut g = sh.lock();
        g.clock = if doc.clock.frozen {
            Clock::Fixed(doc.clock.now)
        } else {
            Clock::System {
                offset: Duration::seconds(doc.clock.offset_seconds),
            }
        };
        g.tenants = doc.tenants;
        g.app_keys = doc.app_keys;
        g.states = doc.states;
        g.clock_changes = doc.clock_changes;
    }
    sh.requests.restore(doc.requests);
    sh.webhooks.restore(doc.webhooks);
    sh.touch();
    Ok(())
}

/// Loads `path` into the emulator; a missing file is an empty start (it is created at the
/// first save).
pub(crate) fn load(sh: &Shared, path: &Path) -> Result<(), String> {
    match std::fs::read(path) {
        Ok(bytes) => import(sh, &bytes).map_err(|e| format!("state file {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("state file {}: {e}", path.display())),
    }
}

/// Writes the state to `path` atomically: a temporary file next to it, synced, then renamed
/// over it, so a crash leaves either the old file or the new one, never a torn one.
pub(crate) fn save(sh: &Shared, path: &Path) -> Result<u64, String> {
    let doc = export(sh);
    let bytes = serde_json::to_vec(&doc).map_err(|e| format!("cannot encode the state: {e}"))?;
    let fail = |e: std::io::Error| format!("cannot save the state to {}: {e}", path.display());
    let name = path
        .file_name()
        .ok_or_else(|| format!("cannot save the state to {}: not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(&bytes).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    drop(f);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn torn_foreign_and_newer_files_are_refused_with_a_reason() {
        let torn = parse(br#"{"format": "trophy-emulator-state", "version": 1, "clo"#)
            .err()
            .unwrap();
        assert!(torn.contains("torn"), "{torn}");
        let foreign = parse(br#"{"hello": 1}"#).err().unwrap();
        assert!(foreign.contains("not a trophy-emulator state file"), "{foreign}");
        let newer = parse(br#"{"format": "trophy-emulator-state", "version": 2, "emulatorVersion": "9.0.0"}"#)
            .err()
            .unwrap();
        assert!(newer.contains("version 2") && newer.contains("up to 1"), "{newer}");
    }
}
