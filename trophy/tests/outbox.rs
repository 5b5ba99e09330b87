//! The durable outbox against the emulator on loopback: delivery, restart with the same keys,
//! capacity, dead letters, and damaged or foreign files.

use std::time::Duration;
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::outbox::OutboxConfig;
use trophy::ingest::{IngestConfig, IngestError, IngestErrorKind, Ingester};
use trophy::Client;
use trophy_emulator::{Emulator, Seed};

const USERS: usize = 7;

/// An ingester over the outbox of `config`, sending through `client`.
async fn open(client: &Client, config: OutboxConfig) -> Result<Ingester, IngestError> {
    Ingester::builder(client).outbox(config).build().await
}

/// The events the outbox file holds.
fn stored(outbox: &Ingester) -> u64 {
    outbox.stats().backend.outbox().unwrap().stored_events
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(Seed::empty().with_metric("words", "Words"))
        .start()
        .await
        .unwrap()
}

fn client_for(base: &str) -> Client {
    Client::builder()
        .api_key("admin_emulator_key")
        .api_url(format!("{base}/v1"))
        .admin_url(format!("{base}/admin/v1"))
        .retry(trophy::RetryConfig::standard().initial_backoff(Duration::from_millis(20)))
        .build()
        .unwrap()
}

/// Event `i`: user `u{i % USERS}`, value `1 + i % 10`.
fn event(i: usize) -> BatchEvent {
    BatchEvent::new("words", format!("u{}", i % USERS), (1 + i % 10) as f64)
}

fn expected_totals(range: std::ops::Range<usize>) -> Vec<f64> {
    let mut totals = vec![0.0; USERS];
    for i in range {
        totals[i % USERS] += (1 + i % 10) as f64;
    }
    totals
}

async fn totals(client: &Client) -> Vec<f64> {
    let mut out = Vec::new();
    for u in 0..USERS {
        match client.users().metric(format!("u{u}"), "words").send().await {
            Ok(m) => out.push(m.current),
            Err(e) if e.is_not_found() => out.push(0.0),
            Err(e) => panic!("reading totals: {e}"),
        }
    }
    out
}

/// A loopback address nothing listens on.
fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn sent_events_are_delivered_once_in_full_batches() {
    let emu = emulator().await;
    let client = client_for(&emu.base_url());
    let dir = tempdir();
    let outbox = open(&client, OutboxConfig::new(dir.join("o.sqlite"))).await.unwrap();
    let sends: Vec<_> = (0..2500)
        .map(|i| {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.send(event(i)).await })
        })
        .collect();
    let mut keys = std::collections::HashSet::new();
    for s in sends {
        keys.insert(s.await.unwrap().unwrap());
    }
    assert_eq!(keys.len(), 2500, "every event has its own generated key");
    outbox.flush().await.unwrap();
    let stats = outbox.stats();
    assert_eq!(stats.backend.outbox().unwrap().stored_events, 0);
    assert_eq!(stats.delivered, 2500);
    assert!(stats.requests <= 10, "batched: {stats:?}");
    assert_eq!(totals(&client).await, expected_totals(0..2500));
    let report = outbox.shutdown(Duration::from_secs(1)).await;
    assert_eq!((report.stats.delivered, report.left_in_store), (2500, 0));
}

#[tokio::test]
async fn events_left_on_disk_are_delivered_after_a_restart_with_their_keys() {
    let dir = tempdir();
    let path = dir.join("o.sqlite");
    // First life: Trophy unreachable, so everything stays on disk.
    let down = client_for(&dead_address());
    let outbox = open(&down, OutboxConfig::new(&path)).await.unwrap();
    let mut keys = Vec::new();
    for i in 0..300 {
        let e = if i % 3 == 0 {
            event(i).idempotency_key(format!("caller-{i}"))
        } else {
            event(i)
        };
        keys.push(outbox.send(e).await.unwrap());
    }
    assert_eq!(keys[3], "caller-3", "a caller's key is kept");
    // A flush with a deadline returns by it, saying what is still held.
    let started = std::time::Instant::now();
    assert_eq!(
        outbox.flush_within(Duration::from_millis(300)).await.unwrap().pending,
        300
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let report = outbox.shutdown(Duration::from_millis(300)).await;
    assert_eq!((report.stats.delivered, report.left_in_store), (0, 300));
    drop(outbox);

    // Second life: Trophy is there. Half of the events were already delivered by someone with
    // the same keys (as if the process died after Trophy accepted but before the delete).
    let emu = emulator().await;
    let client = client_for(&emu.base_url());
    let already: Vec<BatchEvent> = (0..150).map(|i| event(i).idempotency_key(keys[i].clone())).collect();
    client.admin().metrics().batch_events(already).send().await.unwrap();
    let outbox = open(&client, OutboxConfig::new(&path)).await.unwrap();
    assert_eq!(stored(&outbox), 300);
    assert_eq!(outbox.flush_within(Duration::from_secs(30)).await.unwrap().pending, 0);
    assert_eq!(outbox.stats().delivered, 300);
    assert_eq!(
        totals(&client).await,
        expected_totals(0..300),
        "nothing lost, nothing twice"
    );
    outbox.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_full_outbox_pushes_back() {
    let dir = tempdir();
    let down = client_for(&dead_address());
    let config = OutboxConfig::new(dir.join("o.sqlite")).max_events(10);
    let outbox = open(&down, config).await.unwrap();
    for i in 0..10 {
        outbox.try_send(event(i)).await.unwrap();
    }
    let rejected = outbox.try_send(event(10)).await.unwrap_err();
    assert_eq!(rejected.kind(), IngestErrorKind::Full);
    assert_eq!(rejected.event(), Some(&event(10)), "the event comes back unchanged");
    let waiting = tokio::time::timeout(Duration::from_millis(300), outbox.send(event(10))).await;
    assert!(waiting.is_err(), "send waits while full");
    assert_eq!(stored(&outbox), 10);

    let bytes = OutboxConfig::new(dir.join("b.sqlite")).max_bytes(100);
    let small = open(&client_for(&dead_address()), bytes).await.unwrap();
    let huge = BatchEvent::new("words", "u".repeat(200), 1.0);
    assert_eq!(small.try_send(huge).await.unwrap_err().kind(), IngestErrorKind::Invalid);
    let bad = small.send(BatchEvent::new("words", "u1", f64::NAN)).await.unwrap_err();
    assert_eq!(bad.kind(), IngestErrorKind::Invalid);
    assert!(bad.message().contains("value"), "{bad}");
}

#[tokio::test]
async fn a_refused_event_is_dead_lettered_and_the_rest_delivered() {
    let emu = emulator().await;
    let client = client_for(&emu.base_url());
    let dir = tempdir();
    let outbox = Ingester::builder(&client)
        .config(IngestConfig::default().linger(Duration::from_millis(200)))
        .outbox(OutboxConfig::new(dir.join("o.sqlite")))
        .build()
        .await
        .unwrap();
    for i in 0..40 {
        let e = if i == 17 {
            BatchEvent::new("no-such-metric", "u1", 5.0)
        } else {
            event(i)
        };
        outbox.send(e).await.unwrap();
    }
    outbox.flush().await.unwrap();
    let stats = outbox.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (39, 1));
    let mut expected = expected_totals(0..40);
    expected[17 % USERS] -= (1 + 17 % 10) as f64;
    assert_eq!(totals(&client).await, expected);
    let dead = outbox.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    let event = dead[0].event.as_ref().unwrap();
    assert_eq!((event.key.as_str(), dead[0].status), ("no-such-metric", Some(404)));
    assert!(event.idempotency_key.is_some(), "kept with the key it was sent with");
    outbox.clear_dead_letters().await.unwrap();
    assert!(outbox.dead_letters().await.unwrap().is_empty());
}

#[tokio::test]
async fn damaged_foreign_or_busy_files_give_clear_errors() {
    let dir = tempdir();
    let client = client_for(&dead_address());
    let open = |path: std::path::PathBuf| open(&client, OutboxConfig::new(path));

    // Not a database at all.
    let text = dir.join("notes.txt");
    std::fs::write(
        &text,
        "shopping list: eggs, milk, and a lot more text than a header".repeat(100),
    )
    .unwrap();
    let e = open(text).await.unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Corrupt, "{e}");
    assert!(e.message().contains("notes.txt"), "{e}");

    // A SQLite database of someone else.
    let foreign = dir.join("foreign.sqlite");
    {
        let db = rusqlite::Connection::open(&foreign).unwrap();
        db.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1);")
            .unwrap();
    }
    let e = open(foreign).await.unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Corrupt);
    assert!(e.message().contains("not a trophy outbox"), "{e}");

    // A directory that does not exist.
    let e = open(dir.join("missing/o.sqlite")).await.unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Unavailable, "{e}");

    // The same file twice.
    let path = dir.join("busy.sqlite");
    let first = open(path.clone()).await.unwrap();
    for i in 0..50 {
        first.send(event(i)).await.unwrap();
    }
    let e = open(path.clone()).await.unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Unavailable, "{e}");
    first.shutdown(Duration::from_millis(50)).await;
    drop(first);

    // A real outbox, damaged in many ways: every open ends in an outbox or an error, never a
    // panic, and an outbox that opens still holds only events that decode.
    let good = std::fs::read(&path).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut opened, mut refused) = (0, 0);
    for round in 0..60 {
        let mut bytes = good.clone();
        match round % 3 {
            0 => bytes.truncate((next() as usize) % bytes.len()),
            1 => {
                for _ in 0..8 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] ^= 0xff;
                }
            }
            _ => {
                let at = (next() as usize) % bytes.len();
                let len = 4096.min(bytes.len() - at);
                bytes[at..at + len].fill(0);
            }
        }
        let damaged = dir.join(format!("damaged-{round}.sqlite"));
        std::fs::write(&damaged, &bytes).unwrap();
        match open(damaged).await {
            Ok(outbox) => {
                opened += 1;
                assert!(stored(&outbox) <= 50);
                outbox.shutdown(Duration::from_millis(10)).await;
            }
            Err(e) => {
                refused += 1;
                assert!(
                    matches!(e.kind(), IngestErrorKind::Corrupt | IngestErrorKind::Unavailable),
                    "{e}"
                );
            }
        }
    }
    assert_eq!(opened + refused, 60);
    println!("damaged files: {opened} opened, {refused} refused");
}

/// A fresh directory under the target dir's tmp, removed at the end of the process run.
fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trophy-outbox-test-{}-{}", std::process::id(), fastrand_u64()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}
