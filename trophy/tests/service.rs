//! What a service's set-up and lifecycle code relies on, against the emulator over loopback:
//! `ClientBuilder::from_env`, strict bulk creates, `ensure`, `Ingester::flush_within`.

use std::time::Duration;
use tokio::time::Instant;
use trophy::admin_types::{AdminLeaderboardStatus, LeaderboardRankBy};
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::leaderboards::NewLeaderboard;
use trophy::api::admin::metrics::NewMetric;
use trophy::ingest::{IngestConfig, Ingester};
use trophy::{Client, ClientBuilder, Error};
use trophy_emulator::{Emulator, Faults, RateLimits};

fn client_for(emu: &Emulator) -> Client {
    Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

/// The only test of this binary that touches the environment (each test binary is a process).
#[test]
fn from_env_returns_a_builder_of_the_same_variables() {
    for var in [
        "TROPHY_API_KEY",
        "TROPHY_API_URL",
        "TROPHY_ADMIN_URL",
        "TROPHY_TENANT_ID",
    ] {
        std::env::remove_var(var);
    }
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.to_string(), "invalid client configuration: TROPHY_API_KEY is not set");
    let e = ClientBuilder::from_env().build().unwrap_err();
    assert_eq!(e.to_string(), "invalid client configuration: TROPHY_API_KEY is not set");

    std::env::set_var("TROPHY_API_KEY", "admin_key_from_env");
    std::env::set_var("TROPHY_API_URL", "http://127.0.0.1:9/v1");
    std::env::set_var("TROPHY_ADMIN_URL", "http://127.0.0.1:9/admin/v1");
    let client = ClientBuilder::from_env()
        .rate_limits(trophy::RateLimits::trophy())
        .build()
        .unwrap();
    assert_eq!(client.api_url(), "http://127.0.0.1:9/v1");
    assert_eq!(client.admin_url(), "http://127.0.0.1:9/admin/v1");
    assert!(format!("{client:?}").contains("rate_limited: true"), "{client:?}");
    // A setter after from_env wins.
    let client = ClientBuilder::from_env()
        .api_url("http://127.0.0.1:10/v1")
        .build()
        .unwrap();
    assert_eq!(client.api_url(), "http://127.0.0.1:10/v1");
    assert_eq!(Client::from_env().unwrap().admin_url(), "http://127.0.0.1:9/admin/v1");
}

/// While every request fails, `flush_within` returns by its deadline, says what is pending,
/// and keeps it: once Trophy is back, everything arrives once.
#[tokio::test]
async fn flush_within_returns_by_its_deadline_while_every_request_fails() {
    let emu = Emulator::builder()
        .rate_limits(RateLimits::per_second(100.0, 100.0))
        .start()
        .await
        .unwrap();
    let client = client_for(&emu);
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", "lessons")])
        .send()
        .await
        .unwrap();
    let ingester = Ingester::new(
        &client,
        IngestConfig::default()
            .linger(Duration::from_millis(10))
            .backoff(Duration::from_millis(20), Duration::from_millis(100)),
    )
    .unwrap();
    emu.set_faults(Faults::new(1.0, 503));
    for i in 0..300 {
        ingester
            .send(BatchEvent::new("lessons", format!("user-{}", i % 7), 1))
            .await
            .unwrap();
    }
    let started = Instant::now();
    let report = ingester.flush_within(Duration::from_millis(400)).await.unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(report.pending, 300);
    assert_eq!(report.stats.delivered, 0);
    assert_eq!(report.stats.queued + report.stats.in_flight, 300);
    assert!(emu.faults_injected() >= 2, "it kept trying: {}", emu.faults_injected());
    assert_eq!(emu.event_counts().stored, 0);

    // Trophy is back: the same events go through, each once.
    emu.set_faults(Faults::none());
    let report = ingester.flush_within(Duration::from_secs(30)).await.unwrap();
    assert_eq!(report.pending, 0);
    assert_eq!(report.stats.delivered, 300);
    assert_eq!(emu.event_counts().stored, 300);
    let total: f64 = emu.metric_totals().iter().map(|t| t.total).sum();
    assert_eq!(total, 300.0);
    // Nothing queued: it returns at once.
    assert_eq!(ingester.flush_within(Duration::ZERO).await.unwrap().pending, 0);
    assert!(ingester.shutdown(Duration::from_secs(5)).await.undelivered.is_empty());
}

/// Admin requests the emulator admitted so far (its rate limiter counts them).
fn admin_requests(emu: &Emulator) -> u64 {
    emu.rate_limit_counts().expect("rate limits on").admitted[0]
}

async fn counted_emulator() -> (Emulator, Client) {
    let emu = Emulator::builder()
        .rate_limits(RateLimits::per_second(1000.0, 1000.0))
        .start()
        .await
        .unwrap();
    let client = client_for(&emu);
    (emu, client)
}

/// A typo in a bulk create: accepted with an issue by default, an error under `.strict()`.
#[tokio::test]
async fn a_bulk_create_with_a_bad_value_fails_under_strict() {
    let (_emu, client) = counted_emulator().await;
    let metric = client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", "lessons")])
        .strict()
        .send()
        .await
        .unwrap();
    let metric_id = metric.created[0].id;
    let board = |key: &str, status: AdminLeaderboardStatus| {
        NewLeaderboard::new("Top learners", key, LeaderboardRankBy::Metric)
            .metric_id(metric_id)
            .status(status)
    };
    let typo = || AdminLeaderboardStatus::Unknown("actve".into());

    // Without strict, the call succeeds with nothing created: what set-up code used to miss.
    let lax = client
        .admin()
        .leaderboards()
        .create([board("lax", typo())])
        .send()
        .await
        .unwrap();
    assert_eq!((lax.created.len(), lax.issues.len()), (0, 1));

    let e = client
        .admin()
        .leaderboards()
        .create([board("top", AdminLeaderboardStatus::Active), board("typo", typo())])
        .strict()
        .send()
        .await
        .unwrap_err();
    let Error::Issues(issues) = &e else {
        panic!("not an Issues error: {e:?}");
    };
    assert_eq!(
        (issues.operation, issues.status, issues.items),
        ("admin_leaderboards_create", 201, 2)
    );
    assert_eq!(issues.issues.len(), 1);
    assert_eq!(issues.issues[0].index, Some(1));
    assert_eq!(
        e.to_string(),
        "admin().leaderboards().create (admin_leaderboards_create) skipped 1 of 2 items: \
         item 1: status must be inactive, active, scheduled or finished"
    );
    assert_eq!(e.call(), Some("admin().leaderboards().create"));
    // The good item was created; the bad one was not.
    let keys: Vec<String> = client
        .admin()
        .leaderboards()
        .list()
        .limit(100)
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.key)
        .collect();
    assert_eq!(keys, ["top"]);

    // `ensure` creates strictly too.
    let e = client
        .admin()
        .leaderboards()
        .ensure(board("ensured", typo()))
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Issues(i) if i.issues.len() == 1), "{e:?}");
}

/// `ensure` run twice creates once: the second run only lists.
#[tokio::test]
async fn ensure_is_idempotent() {
    let (emu, client) = counted_emulator().await;
    let before = admin_requests(&emu);
    let first = client
        .admin()
        .metrics()
        .ensure(NewMetric::new("Lessons", "lessons"))
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.item.key, "lessons");
    // A list (nothing found), the create, a get of the created item.
    assert_eq!(admin_requests(&emu) - before, 3);

    let before = admin_requests(&emu);
    let second = client
        .admin()
        .metrics()
        .ensure(NewMetric::new("Lessons, renamed", "lessons"))
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.item.id, first.item.id);
    assert_eq!(second.item.name, "Lessons", "an existing item is returned as it is");
    assert_eq!(admin_requests(&emu) - before, 1, "one list request, no create");

    let all = client.admin().metrics().list().limit(100).send().await.unwrap();
    assert_eq!(all.iter().filter(|m| m.key == "lessons").count(), 1);

    // Leaderboards too, past a first page of others (the lookup pages through all of them).
    let boards: Vec<NewLeaderboard> = (0..120)
        .map(|i| {
            NewLeaderboard::new(format!("Board {i}"), format!("board-{i}"), LeaderboardRankBy::Metric)
                .metric_id(first.item.id)
        })
        .collect();
    for chunk in boards.chunks(100) {
        client
            .admin()
            .leaderboards()
            .create(chunk.to_vec())
            .strict()
            .send()
            .await
            .unwrap();
    }
    let board = || {
        NewLeaderboard::new("Top learners", "top-learners", LeaderboardRankBy::Metric)
            .metric_id(first.item.id)
            .status(AdminLeaderboardStatus::Active)
    };
    let made = client.admin().leaderboards().ensure(board()).await.unwrap();
    let again = client.admin().leaderboards().ensure(board()).await.unwrap();
    assert!(made.created && !again.created);
    assert_eq!(made.item.id, again.item.id);
    assert_eq!(again.item.status, AdminLeaderboardStatus::Active);
    let listed = client.admin().leaderboards().list().into_stream();
    let keys: Vec<String> = futures::StreamExt::collect::<Vec<_>>(listed)
        .await
        .into_iter()
        .map(|b| b.unwrap().key)
        .collect();
    assert_eq!(keys.len(), 121);
    assert_eq!(keys.iter().filter(|k| *k == "top-learners").count(), 1);
}
