//! The inspector's JSON (`/_emulator/overview`, `users`, `requests`, `webhooks`, `clock`,
//! `leaderboards`, `state`): the request log and its markers, redaction, the ring bound, the
//! state file (in process and through the binary with SIGTERM), clock effects, trigger and
//! resend.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::{receiver, Api, NOW};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use trophy_emulator::{Emulator, Error, Seed, WebhookTarget};

const SECRET: &str = "whsec_inspector_test";

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("inspector");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

async fn get(api: &Api, path: &str) -> Value {
    let r = api.control(Method::GET, path, None).await;
    r.expect(200);
    r.json()
}

async fn post(api: &Api, path: &str, body: Value) -> common::Resp {
    api.control(Method::POST, path, Some(&body)).await
}

async fn keyed_event(api: &Api, user: &str, key: &str) -> common::Resp {
    api.raw(
        Method::POST,
        &api.app_url("/metrics/lessons-completed/event"),
        api.key.as_deref(),
        None,
        &[("Idempotency-Key", key)],
        Some(&json!({"user": {"id": user}, "value": 2})),
    )
    .await
}

#[tokio::test]
async fn the_request_log_marks_faults_429s_and_replays_and_filters_them() {
    let api = Api::with(
        Emulator::builder()
            .seed(Seed::default_seed())
            .clock(NOW.parse().unwrap())
            .api_key("org_key_never_shown"),
    )
    .await;
    api.metric("lessons-completed").await;
    keyed_event(&api, "ana", "k-1").await.expect(201);
    keyed_event(&api, "ana", "k-1").await.expect(202);
    post(&api, "/_emulator/faults", json!({"failNext": 1, "status": 429}))
        .await
        .expect(200);
    api.event("lessons-completed", "bo", 1.0).await.expect(429);
    api.app(Method::GET, "/users/ana", None).await.expect(200);

    let all = get(&api, "/_emulator/requests").await;
    assert_eq!(all["summary"]["total"], 5, "{all}");
    assert_eq!(all["summary"]["replays"], 1);
    assert_eq!(all["summary"]["faults"], 1);
    assert_eq!(all["summary"]["rateLimited"], 1);
    let entries = all["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    // Newest first: the user read, the fault, the replay, the first event, the metric.
    let summary: Vec<(String, u64, Value)> = entries
        .iter()
        .map(|e| {
            (
                format!(
                    "{} {} {}",
                    e["api"].as_str().unwrap(),
                    e["method"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                ),
                e["status"].as_u64().unwrap(),
                e["markers"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("app GET /v1/users/ana".to_string(), 200, json!([])),
            (
                "app POST /v1/metrics/lessons-completed/event".into(),
                429,
                json!(["fault", "429"])
            ),
            (
                "app POST /v1/metrics/lessons-completed/event".into(),
                202,
                json!(["replay"])
            ),
            ("app POST /v1/metrics/lessons-completed/event".into(), 201, json!([])),
            ("admin POST /admin/v1/metrics".into(), 201, json!([])),
        ]
    );
    assert_eq!(entries[1]["user"], "bo");
    assert_eq!(entries[2]["user"], "ana");

    let only_429 = get(&api, "/_emulator/requests?status=429").await;
    assert_eq!(only_429["matched"], 1);
    assert_eq!(only_429["entries"][0]["markers"], json!(["fault", "429"]));
    let replays = get(&api, "/_emulator/requests?status=202&user=ana").await;
    assert_eq!(replays["matched"], 1);
    assert_eq!(
        get(&api, "/_emulator/requests?path=/users/&status=2xx").await["matched"],
        1
    );

    // The detail shows both bodies; the key is nowhere.
    let id = entries[2]["id"].as_u64().unwrap();
    let detail = get(&api, &format!("/_emulator/requests/{id}")).await;
    assert_eq!(
        serde_json::from_str::<Value>(detail["requestBody"].as_str().unwrap()).unwrap(),
        json!({"user": {"id": "ana"}, "value": 2})
    );
    let answer: Value = serde_json::from_str(detail["responseBody"].as_str().unwrap()).unwrap();
    assert_eq!(answer["idempotentReplayed"], true);
    assert_eq!(answer["total"], 2.0);
    assert!(detail["requestHeaders"]
        .as_array()
        .unwrap()
        .contains(&json!(["x-api-key", "[redacted]"])));
    let everything = api.control(Method::GET, "/_emulator/state", None).await;
    let text = String::from_utf8_lossy(&everything.body);
    assert!(!text.contains("org_key_never_shown"), "the key leaked into the state");
    api.control(Method::GET, "/_emulator/requests/999", None)
        .await
        .expect(404);
}

#[tokio::test]
async fn application_keys_are_redacted_from_logged_bodies() {
    let api = Api::start().await;
    let r = api
        .admin(Method::POST, "/application-api-keys", Some(&json!([{"userId": "ana"}])))
        .await;
    let key = r.expect(201).json()["created"][0]["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("app_"));
    let log = get(&api, "/_emulator/requests").await;
    let id = log["entries"][0]["id"].as_u64().unwrap();
    let detail = get(&api, &format!("/_emulator/requests/{id}")).await;
    let shown = detail["responseBody"].as_str().unwrap();
    assert!(!shown.contains(&key) && shown.contains("app_[redacted]"), "{shown}");
}

#[tokio::test]
async fn the_ring_keeps_the_newest_entries_and_counts_all() {
    let api = Api::with(
        Emulator::builder()
            .seed(Seed::default_seed())
            .clock(NOW.parse().unwrap())
            .request_log_capacity(3),
    )
    .await;
    for u in ["a", "b", "c", "d", "e"] {
        api.app(Method::GET, &format!("/users/{u}"), None).await.expect(404);
    }
    let log = get(&api, "/_emulator/requests").await;
    assert_eq!((log["capacity"].as_u64(), log["held"].as_u64()), (Some(3), Some(3)));
    assert_eq!(log["summary"]["total"], 5);
    assert_eq!(log["summary"]["byStatus"], json!({"404": 5}));
    let users: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["e", "d", "c"]);
}

#[tokio::test]
async fn users_overview_and_leaderboards_show_what_the_emulator_holds() {
    let api = Api::start().await;
    let metric = api.metric("lessons-completed").await;
    for (u, v) in [("ana", 3.0), ("bo", 5.0), ("ana", 4.0)] {
        api.event("lessons-completed", u, v).await.expect(201);
    }
    let users = get(&api, "/_emulator/users?q=an").await;
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users["users"][0]["id"], "ana");
    assert_eq!(users["users"][0]["events"], 2);
    let ana = get(&api, "/_emulator/users/ana").await;
    assert_eq!(ana["metrics"][0]["key"], "lessons-completed");
    assert_eq!(ana["metrics"][0]["total"], 7.0);
    assert_eq!(ana["streak"]["length"], 1);
    api.control(Method::GET, "/_emulator/users/nobody", None)
        .await
        .expect(404);

    let o = get(&api, "/_emulator/overview").await;
    let base = api.emu.base_url();
    assert_eq!(o["applicationApi"], format!("{base}/v1"));
    assert_eq!(o["adminApi"], format!("{base}/admin/v1"));
    assert_eq!(o["adminKeyMasked"], "admi••••••••••••••");
    assert_eq!(o["requests"]["total"], 4);
    assert_eq!(o["clock"]["now"], "2026-01-15T12:00:00.000Z");
    assert_eq!(o["rateLimits"]["enabled"], false);
    assert!(!o.to_string().contains(&api.emu.admin_key()));

    api.admin(
        Method::POST,
        "/leaderboards",
        Some(
            &json!([{"name": "Lessons", "key": "lessons", "rankBy": "metric", "metricId": metric, "status": "active"}]),
        ),
    )
    .await
    .expect(201);
    let boards = get(&api, "/_emulator/leaderboards").await;
    let ranks: Vec<(String, i64)> = boards["leaderboards"][0]["rankings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["userId"].as_str().unwrap().to_string(), r["value"].as_i64().unwrap()))
        .collect();
    assert_eq!(ranks, [("ana".to_string(), 7), ("bo".to_string(), 5)]);
}

#[tokio::test]
async fn a_week_forward_loses_streaks_and_sends_streak_lost() {
    let (url, got) = receiver(0).await;
    let api = Api::with(
        Emulator::builder()
            .seed(Seed::default_seed())
            .clock(NOW.parse().unwrap())
            .webhook(WebhookTarget::new(&url, SECRET)),
    )
    .await;
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "ana", 1.0).await.expect(201);
    api.emu.settle_webhooks().await;
    let before = got.lock().unwrap().len();
    let moved = post(&api, "/_emulator/clock", json!({"advanceSeconds": 7 * 86_400})).await;
    moved.expect(200);
    let effects = &moved.json()["effects"];
    assert_eq!(
        effects["streaksLost"],
        json!([{"tenant": "", "userId": "ana", "length": 1}])
    );
    assert_eq!(effects["webhooks"], 1);
    let deliveries = api.emu.settle_webhooks().await;
    let lost = deliveries.last().unwrap();
    assert_eq!(
        (lost.event_type.as_str(), lost.attempts, lost.delivered),
        ("streak.lost", 1, true)
    );
    let body: Value = serde_json::from_str(&lost.body).unwrap();
    assert_eq!((&body["user"]["id"], &body["length"]), (&json!("ana"), &json!(1)));
    assert_eq!(got.lock().unwrap().len(), before + 1);
    let clock = get(&api, "/_emulator/clock").await;
    assert_eq!(clock["now"], "2026-01-22T12:00:00.000Z");
    // A second move finds nothing more to lose.
    let again = post(&api, "/_emulator/clock", json!({"advanceSeconds": 86_400})).await;
    assert_eq!(again.json()["effects"]["streaksLost"], json!([]));
}

fn hmac_base64(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn trigger_signs_any_type_for_a_user_and_resend_posts_again() {
    let (url, got) = receiver(0).await;
    let api = Api::start().await;
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "ana", 1.0).await.expect(201);
    let r = post(
        &api,
        "/_emulator/webhooks/trigger",
        json!({"type": "points.level_changed", "userId": "ana", "url": url, "secret": "s3cret"}),
    )
    .await;
    r.expect(200);
    let d = r.json();
    assert_eq!(
        (d["attempts"].as_u64(), d["status"].as_u64()),
        (Some(1), Some(204)),
        "{d}"
    );
    assert_eq!(d["body"]["user"]["id"], "ana");
    {
        let seen = got.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, hmac_base64("s3cret", &seen[0].1));
    }
    let id = d["id"].as_u64().unwrap();
    let again = post(&api, &format!("/_emulator/webhooks/{id}/resend"), json!({})).await;
    again.expect(200);
    assert_eq!(again.json()["attempts"], 2);
    {
        let seen = got.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1], seen[0], "a resend posts the same body and signature");
    }
    let listed = get(&api, "/_emulator/webhooks").await;
    assert_eq!(listed["types"].as_array().unwrap().len(), 18);
    assert!(!listed.to_string().contains("s3cret"));
    let bad = post(
        &api,
        "/_emulator/webhooks/trigger",
        json!({"type": "nope", "userId": "ana", "url": url, "secret": "s"}),
    )
    .await;
    bad.expect(422);
    assert!(bad.error().contains("streak.lost"), "{}", bad.error());
    post(&api, "/_emulator/webhooks/77/resend", json!({})).await.expect(404);
}

#[tokio::test]
async fn the_state_file_round_trips_and_refuses_newer_or_torn_files() {
    let path = tmp("roundtrip");
    let start = || {
        Api::with(
            Emulator::builder()
                .seed(Seed::default_seed())
                .clock(NOW.parse().unwrap())
                .state_file(&path),
        )
    };
    let api = start().await;
    api.metric("lessons-completed").await;
    api.event("lessons-completed", "ana", 3.0).await.expect(201);
    post(&api, "/_emulator/clock", json!({"advanceSeconds": 86_400}))
        .await
        .expect(200);
    api.event("lessons-completed", "ana", 2.0).await.expect(201);
    let saved = post(&api, "/_emulator/state/save", json!({})).await;
    saved.expect(200);
    assert!(saved.json()["bytes"].as_u64().unwrap() > 100);
    let before = get(&api, "/_emulator/users/ana").await;
    drop(api);

    let api = start().await;
    let after = get(&api, "/_emulator/users/ana").await;
    assert_eq!(after["metrics"], before["metrics"]);
    assert_eq!(after["streak"]["length"], 2);
    assert_eq!(after["streak"], before["streak"]);
    // The metric and both events (the controls are not API requests).
    assert_eq!(get(&api, "/_emulator/requests").await["summary"]["total"], 3);
    assert_eq!(get(&api, "/_emulator/clock").await["now"], "2026-01-16T12:00:00.000Z");
    // The metric still exists: the next event adds to the total.
    let r = api.event("lessons-completed", "ana", 1.0).await;
    assert_eq!(r.expect(201).json()["total"], 6.0);

    // Export and import move the state between emulators.
    let exported = get(&api, "/_emulator/state").await;
    let other = Api::start().await;
    post(&other, "/_emulator/state", exported).await.expect(200);
    assert_eq!(get(&other, "/_emulator/users/ana").await["metrics"][0]["total"], 6.0);
    let refused = post(
        &other,
        "/_emulator/state",
        json!({"format": "trophy-emulator-state", "version": 99}),
    )
    .await;
    refused.expect(422);
    assert!(refused.error().contains("version 99"), "{}", refused.error());

    let newer = tmp("newer");
    std::fs::write(&newer, r#"{"format": "trophy-emulator-state", "version": 2}"#).unwrap();
    let e = Emulator::builder().state_file(&newer).start().await.err().unwrap();
    assert!(
        matches!(e, Error::State(_)) && e.to_string().contains("version 2"),
        "{e}"
    );
    let torn = tmp("torn");
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&torn, &full[..full.len() / 2]).unwrap();
    let e = Emulator::builder().state_file(&torn).start().await.err().unwrap();
    assert!(e.to_string().contains("torn"), "{e}");
    // No temporary file is left next to the state.
    let dir: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!dir.iter().any(|n| n.contains(".tmp-")), "{dir:?}");
}

// ----- the binary ---------------------------------------------------------------------------------

/// Starts the binary with `args` on a free port and returns it with its base URL (from the
/// banner).
fn spawn(args: &[&str]) -> (Child, String) {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a banner").unwrap();
    let base = first.rsplit(' ').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    let inspector = lines.next().unwrap().unwrap();
    assert_eq!(inspector, format!("Inspector: {base}/_emulator/ui/"));
    std::thread::spawn(move || lines.for_each(drop));
    (child, base)
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the emulator did not stop within 10 s of SIGTERM");
}

#[tokio::test]
async fn sigterm_saves_the_state_and_a_restart_brings_it_back() {
    let http = common::http();
    let path = tmp("sigterm");
    let state = path.to_str().unwrap();
    let (mut child, base) = spawn(&["--state", state, "--now", NOW]);
    let key = ("X-API-KEY", "admin_emulator_key");
    http.post(format!("{base}/admin/v1/metrics"))
        .header(key.0, key.1)
        .json(&json!([{"name": "Lessons", "key": "lessons"}]))
        .send()
        .await
        .unwrap();
    for v in [2, 5] {
        let r = http
            .post(format!("{base}/v1/metrics/lessons/event"))
            .header(key.0, key.1)
            .json(&json!({"user": {"id": "ana"}, "value": v}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let status = sigterm(&mut child);
    assert!(status.success(), "{status:?}");

    let (mut child, base) = spawn(&["--state", state]);
    let get = |path: &str| {
        let request = http.get(format!("{base}{path}"));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ana = get("/_emulator/users/ana").await;
    let log = get("/_emulator/requests").await;
    sigterm(&mut child);
    assert_eq!(ana["metrics"][0]["total"], 7.0, "{ana}");
    assert_eq!(ana["streak"]["length"], 1);
    assert_eq!(log["summary"]["total"], 3);
    assert_eq!(log["summary"]["byStatus"], json!({"201": 3}));

    // A newer or torn file: a clear error and exit status 1.
    for (name, text) in [
        (
            "newer-bin",
            r#"{"format": "trophy-emulator-state", "version": 7}"#.to_string(),
        ),
        ("torn-bin", std::fs::read_to_string(&path).unwrap()[..40].to_string()),
    ] {
        let bad = tmp(name);
        std::fs::write(&bad, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
            .args(["--port", "0", "--state", bad.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        let expected = if name == "newer-bin" { "version 7" } else { "torn" };
        assert!(err.contains(expected) && err.contains(bad.to_str().unwrap()), "{err}");
    }
}

#[tokio::test]
async fn the_trigger_command_sends_a_signed_sample_and_prints_the_answer() {
    let (url, got) = receiver(0).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
        .args([
            "trigger",
            "streak.lost",
            "--user",
            "u-7",
            "--to",
            &url,
            "--secret",
            "cli-secret",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("streak.lost {url} -> 204 after 1 attempt(s)")),
        "{stdout}"
    );
    let seen = got.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, hmac_base64("cli-secret", &seen[0].1));
    let body: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(
        (&body["type"], &body["user"]["id"]),
        (&json!("streak.lost"), &json!("u-7"))
    );
    drop(seen);
    let unknown = Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
        .args(["trigger", "nope", "--user", "u", "--to", &url, "--secret", "s"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("streak.lost"));
}

#[test]
fn a_host_beyond_loopback_warns() {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_trophy-emulator"))
        .args(["--port", "0", "--host", "0.0.0.0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = std::io::BufReader::new(child.stderr.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("warning: listening on 0.0.0.0"), "{line}");
}
