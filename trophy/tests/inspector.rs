//! The emulator's inspector in a real browser: headless Chromium driven through chromedriver
//! (both from Debian's `chromium` and `chromium-driver` packages), with the SDK sending events.
//! Each test saves a screenshot under `target/tmp/inspector-screenshots/`.
//!
//! Nothing is skipped: without `/usr/bin/chromium` or `/usr/bin/chromedriver` every test fails
//! and names the install command.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use serde_json::{json, Value};
use trophy::admin_types::AdminPointsTriggerStatus;
use trophy::api::admin::metrics::NewMetric;
use trophy::api::admin::points::{NewPointsLevel, NewPointsSystem, NewPointsTrigger};
use trophy::webhooks::{construct_event, WebhookEvent};
use trophy::{Client, RetryConfig};
use trophy_emulator::{Emulator, Faults, WebhookTarget, SIGNATURE_HEADER};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const LESSONS: &str = "lessons-completed";
const SECRET: &str = "whsec_browser_test";
/// How long a page may take to show what is expected (a loaded 2-core machine, debug build).
const PATIENCE: Duration = Duration::from_secs(30);

/// One browser at a time: the scenarios are quick, several Chromiums at once on a loaded
/// machine are not.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// chromedriver on a free loopback port and a fresh Chromium profile, stopped on drop.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts chromedriver and a headless Chromium at 1280x800.
async fn browser(name: &str) -> (Browser, Driver) {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: the inspector's browser tests need Debian's Chromium and its driver; \
             install them with `sudo apt-get install -y chromium chromium-driver`"
        );
    }
    let port = free_port();
    let profile = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("chromium-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, profile };
    let url = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", driver.profile.display()), "--window-size=1280,800",
            ],
        }),
    );
    let started = Instant::now();
    loop {
        let attempt = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        match attempt {
            Ok(b) => {
                b.set_window_size(1280, 800).await.expect("window size");
                return (b, driver);
            }
            Err(e) if started.elapsed() < PATIENCE => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session from {CHROMEDRIVER} within {PATIENCE:?}: {e}"),
        }
    }
}

/// Saves a screenshot under the target directory and returns its path.
async fn screenshot(b: &Browser, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inspector-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, b.screenshot().await.expect("screenshot")).unwrap();
    path
}

/// The text of the element `css`, or `""` while there is none.
async fn text(b: &Browser, css: &str) -> String {
    match b.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the text of `css` satisfies `ok`; fails with the last text seen.
async fn wait_for(b: &Browser, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let t = text(b, css).await;
        if ok(&t) {
            return t;
        }
        if started.elapsed() > PATIENCE {
            panic!("{css} never showed {what} within {PATIENCE:?}; last text: {t:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_eq(b: &Browser, css: &str, expected: &str) {
    wait_for(b, css, &format!("{expected:?}"), |t| t.trim() == expected).await;
}

/// An emulator frozen at noon on 2026-01-15 (delivering webhooks to `hooks`), an SDK client
/// without retries, and the metric `lessons-completed` with 10 XP per lesson.
async fn setup(hooks: Option<&MockServer>) -> (Emulator, Client) {
    let mut b = Emulator::builder().clock("2026-01-15T12:00:00Z".parse().unwrap());
    if let Some(h) = hooks {
        b = b.webhook(WebhookTarget::new(format!("{}/hooks", h.uri()), SECRET));
    }
    let emu = b.start().await.expect("emulator");
    let client = Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    let admin = client.admin();
    let created = admin
        .metrics()
        .create([NewMetric::new("Lessons completed", LESSONS)])
        .send()
        .await
        .unwrap();
    let metric_id = created.created[0].id.to_string();
    let xp = NewPointsSystem::new("Experience", "xp")
        .levels([
            NewPointsLevel::new("Bronze", "bronze", 0),
            NewPointsLevel::new("Silver", "silver", 50),
        ])
        .triggers([NewPointsTrigger::metric(&metric_id, 1, 10).status(AdminPointsTriggerStatus::Active)]);
    let systems = admin.points().systems().create([xp]).send().await.unwrap();
    assert!(systems.issues.is_empty(), "{:?}", systems.issues);
    (emu, client)
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

/// The bodies and signatures the receiver got, in order.
async fn received(server: &MockServer) -> Vec<(String, String)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let sig = r
                .headers
                .get(SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (String::from_utf8_lossy(&r.body).into_owned(), sig)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_events_appear_live_on_the_user_page() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (emu, client) = setup(None).await;
    let ev = client.metrics().event(LESSONS, "ana", 2.0).send().await.unwrap();
    assert_eq!(ev.total, 2.0);
    let (b, _driver) = browser("live").await;
    b.goto(&format!("{}users/ana", emu.inspector_url())).await.unwrap();
    wait_eq(&b, "#live-status", "live").await;
    assert_eq!(text(&b, "h1").await, "User ana");
    assert_eq!(text(&b, "#total-lessons-completed").await, "2");
    assert_eq!(text(&b, "#streak-length").await, "1");
    assert_eq!(text(&b, "#points-xp").await, "20");
    // A mark the page keeps as long as it is not reloaded.
    b.execute("window.notReloaded = 42; return 1;", vec![]).await.unwrap();

    emu.advance(chrono::Duration::days(1));
    let ev = client.metrics().event(LESSONS, "ana", 3.0).send().await.unwrap();
    assert_eq!(ev.total, 5.0);
    wait_eq(&b, "#total-lessons-completed", "5").await;
    wait_eq(&b, "#streak-length", "2").await;
    wait_eq(&b, "#points-xp", "50").await;
    assert!(text(&b, "#points").await.contains("Silver"), "level shown");
    let mark = b.execute("return window.notReloaded;", vec![]).await.unwrap();
    assert_eq!(mark, json!(42), "the page was reloaded instead of updated");
    screenshot(&b, "user-live").await;
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_forward_in_the_page_loses_the_streak_and_sends_streak_lost() {
    let _one = ONE_AT_A_TIME.lock().await;
    let hooks = receiver().await;
    let (emu, client) = setup(Some(&hooks)).await;
    client.metrics().event(LESSONS, "ana", 1.0).send().await.unwrap();
    let before = emu.settle_webhooks().await.len();
    let (b, _driver) = browser("clock").await;
    b.goto(&format!("{}clock", emu.inspector_url())).await.unwrap();
    wait_eq(&b, "#clock-now", "2026-01-15T12:00:00.000Z").await;
    b.find(Locator::Css("#advance-week"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_eq(&b, "#clock-now", "2026-01-22T12:00:00.000Z").await;
    let effects = wait_for(&b, "#clock-changes", "the lost streak", |t| t.contains("ana lost 1")).await;
    assert!(
        effects.contains("1 streaks lost") && effects.contains("1 webhooks fired"),
        "{effects}"
    );
    screenshot(&b, "clock-week").await;

    let deliveries = emu.settle_webhooks().await;
    assert_eq!(deliveries.len(), before + 1);
    let lost = deliveries.last().unwrap();
    b.goto(&format!("{}webhooks", emu.inspector_url())).await.unwrap();
    let row = wait_for(&b, &format!("#delivery-{}", lost.id), "the streak.lost delivery", |t| {
        t.contains("streak.lost")
    })
    .await;
    assert!(row.contains("clock") && row.contains("204 delivered"), "{row}");
    let got = received(&hooks).await;
    let (body, sig) = got.last().unwrap();
    match construct_event(body.as_bytes(), Some(sig), SECRET).unwrap() {
        WebhookEvent::StreakLost(e) => assert_eq!((e.user.id.as_str(), e.length), ("ana", 1)),
        other => panic!("expected streak.lost, got {}", other.event_type()),
    }
    screenshot(&b, "webhooks-streak-lost").await;
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_delivers_again_and_the_trigger_form_sends_a_verified_event() {
    let _one = ONE_AT_A_TIME.lock().await;
    let hooks = receiver().await;
    let other = receiver().await;
    let (emu, client) = setup(Some(&hooks)).await;
    client.metrics().event(LESSONS, "ana", 1.0).send().await.unwrap();
    let first = emu.settle_webhooks().await[0].clone();
    assert_eq!(first.attempts, 1);
    let (b, _driver) = browser("webhooks").await;
    b.goto(&format!("{}webhooks", emu.inspector_url())).await.unwrap();
    let cell = format!("#delivery-{} .attempts", first.id);
    wait_eq(&b, &cell, "1").await;
    b.find(Locator::Css(&format!("#delivery-{} button", first.id)))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_eq(&b, &cell, "2").await;
    assert!(text(&b, "#notice").await.contains("2 attempts"));
    let same: Vec<_> = received(&hooks)
        .await
        .into_iter()
        .filter(|(body, _)| *body == first.body)
        .collect();
    assert_eq!(same.len(), 2, "the receiver got the delivery twice");

    b.find(Locator::Css("#trigger-type"))
        .await
        .unwrap()
        .select_by_value("achievement.completed")
        .await
        .unwrap();
    b.find(Locator::Css("#trigger-user"))
        .await
        .unwrap()
        .send_keys("ana")
        .await
        .unwrap();
    let url = b.find(Locator::Css("#trigger-url")).await.unwrap();
    url.clear().await.unwrap();
    url.send_keys(&format!("{}/elsewhere", other.uri())).await.unwrap();
    b.find(Locator::Css("#trigger-secret"))
        .await
        .unwrap()
        .send_keys("form-secret")
        .await
        .unwrap();
    b.find(Locator::Css("#trigger-send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Not just "sent": the resend's notice above ("… resent: …") may still be on the page.
    let notice = wait_for(&b, "#notice", "the trigger's outcome", |t| {
        t.contains("achievement.completed")
    })
    .await;
    assert!(
        notice.contains("achievement.completed") && notice.contains("status 204"),
        "{notice}"
    );
    let got = received(&other).await;
    assert_eq!(got.len(), 1);
    let (body, sig) = &got[0];
    match construct_event(body.as_bytes(), Some(sig), "form-secret").unwrap() {
        WebhookEvent::AchievementCompleted(e) => assert_eq!(e.user.id, "ana"),
        other => panic!("expected achievement.completed, got {}", other.event_type()),
    }
    assert!(
        construct_event(body.as_bytes(), Some(sig), SECRET).is_err(),
        "signed with the form's secret"
    );
    let page = text(&b, "body").await;
    assert!(
        !page.contains("form-secret") && !page.contains(SECRET),
        "a secret is on the page"
    );
    screenshot(&b, "webhooks-resend-trigger").await;
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_and_a_replay_are_marked_in_the_request_log_and_found_by_status() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (emu, client) = setup(None).await;
    for _ in 0..2 {
        client
            .metrics()
            .event(LESSONS, "ana", 1.0)
            .idempotency_key("lesson-1")
            .send()
            .await
            .unwrap();
    }
    emu.set_faults(Faults::new(1.0, 429));
    let refused = client.metrics().event(LESSONS, "bo", 1.0).send().await.unwrap_err();
    assert!(refused.is_rate_limited(), "{refused:?}");
    emu.set_faults(Faults::none());

    let (b, _driver) = browser("requests").await;
    b.goto(&format!("{}requests", emu.inspector_url())).await.unwrap();
    wait_eq(&b, "#live-status", "live").await;
    let all = rows(&b).await;
    // The metric, the points system, two events (the second replayed), the refused event.
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(
        all[0].contains("429") && all[0].contains("fault") && all[0].contains("bo"),
        "{all:?}"
    );
    assert!(all[1].contains("202") && all[1].contains("replay"), "{all:?}");
    assert!(!all[2].contains("replay"), "{all:?}");

    let status = b.find(Locator::Css("input[name=status]")).await.unwrap();
    status.send_keys("429").await.unwrap();
    b.find(Locator::Css("form.filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "#requests-count", "one match", |t| t.starts_with("1 matching")).await;
    let only = rows(&b).await;
    assert_eq!(only.len(), 1);
    assert!(only[0].contains("429") && only[0].contains("fault"), "{only:?}");
    screenshot(&b, "requests-429").await;

    b.goto(&format!("{}requests?status=202", emu.inspector_url()))
        .await
        .unwrap();
    wait_for(&b, "#requests-count", "one match", |t| t.starts_with("1 matching")).await;
    let replay = rows(&b).await;
    assert!(replay[0].contains("replay"), "{replay:?}");
    // The detail shows both bodies, and the key nowhere.
    b.find(Locator::Css("#requests tbody a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let answer = wait_for(&b, "#response-body", "the replayed answer", |t| {
        t.contains("idempotentReplayed")
    })
    .await;
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["idempotentReplayed"], true);
    assert!(text(&b, "main").await.contains("[redacted]"));
    assert!(!text(&b, "body").await.contains(&emu.admin_key()));
    b.close().await.unwrap();
}

/// The texts of the request log's rows, newest first.
async fn rows(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for r in b.find_all(Locator::Css("#requests tbody tr")).await.unwrap() {
        out.push(r.text().await.unwrap_or_default());
    }
    out
}
