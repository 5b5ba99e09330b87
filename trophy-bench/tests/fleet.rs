//! Fleet mode against a real `redis-server` and the emulator with Trophy's rate limits: producer
//! and worker processes, a worker killed mid-run, Redis restarted mid-run, Redis down.

use std::path::Path;
use std::time::{Duration, Instant};
use trophy::ingest::fleet::{FleetConfig, WhenUnavailable};
use trophy::ingest::{IngestError, IngestErrorKind, Ingester};
use trophy_bench::durable::{event, fleet_run, fleet_run_with, FleetPlan};
use trophy_bench::redis_server::RedisServer;
use trophy_emulator::{LimiterModel, RateLimits};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_trophy-bench"))
}

/// A fleet producer: an ingester over the fleet's stream, without a Trophy client.
async fn producer(config: FleetConfig) -> Result<Ingester, IngestError> {
    Ingester::fleet_producer(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_producers_two_workers_one_killed_nothing_lost_nothing_twice() {
    let plan = FleetPlan {
        producers: 4,
        workers: 2,
        per_producer: 6_000,
        rate: 1_500.0,
        kill_worker_after: Some(Duration::from_millis(2_500)),
        restart_redis_after: None,
        claim_idle: Duration::from_secs(3),
        limit: Duration::from_secs(90),
    };
    let r = fleet_run(exe(), &plan).await.unwrap();
    println!("fleet run: {r:?}");
    assert_eq!(r.kills, 1);
    assert!(
        r.pending_at_kill > 0,
        "the killed worker held entries, taken over by the other"
    );
    assert_eq!((r.delivered, r.lost, r.duplicated), (24_000, 0, 0));
    assert!(r.totals_match);
    assert!(
        r.http_429 <= 2,
        "the fleet budget keeps the workers under the limit: {} 429s",
        r.http_429
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run_keeps_everything_it_acknowledged() {
    let plan = FleetPlan {
        producers: 2,
        workers: 1,
        per_producer: 5_000,
        rate: 1_000.0,
        kill_worker_after: None,
        restart_redis_after: Some(Duration::from_millis(1_500)),
        claim_idle: Duration::from_secs(3),
        limit: Duration::from_secs(90),
    };
    let r = fleet_run(exe(), &plan).await.unwrap();
    println!("redis restart run: {r:?}");
    assert_eq!(r.redis_restarts, 1);
    assert_eq!((r.delivered, r.lost, r.duplicated), (10_000, 0, 0));
    assert!(r.totals_match);
}

#[tokio::test]
async fn producers_fail_at_once_or_wait_when_redis_is_down() {
    let mut redis = RedisServer::start().unwrap();
    let connect = |w| producer(FleetConfig::new(redis.url()).when_unavailable(w));
    let wait = Duration::from_millis(800);
    let fail = connect(WhenUnavailable::Fail).await.unwrap();
    let patient = connect(WhenUnavailable::Wait(wait)).await.unwrap();
    let enduring = connect(WhenUnavailable::Wait(Duration::from_secs(20))).await.unwrap();
    fail.send(event(1)).await.unwrap();
    redis.kill();

    let started = Instant::now();
    let e = fail.send(event(2)).await.unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Unavailable, "{e}");
    assert!(
        e.message().contains(&redis.port().to_string()),
        "names the address: {e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let started = Instant::now();
    let rejected = patient.try_send(event(3)).await.unwrap_err();
    assert_eq!(rejected.kind(), IngestErrorKind::Unavailable);
    assert!(started.elapsed() >= wait, "waited {:?}", started.elapsed());
    // No append was tried (the stream's length could not even be read): the event comes back
    // as built, without the key the ingester would have given it.
    assert_eq!(rejected.event(), Some(&event(3)), "the event comes back as built");

    // Redis comes back (empty: this one keeps nothing) while a producer waits: its send goes
    // through, and the stream holds exactly that event.
    let restart = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(300));
        redis.restart().map(|()| redis)
    });
    let key = enduring.send(event(4).idempotency_key("after-restart")).await.unwrap();
    assert_eq!(key, "after-restart");
    let redis = restart.await.unwrap().unwrap();
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let len: u64 = redis::cmd("XLEN").arg(default_stream()).query(&mut con).unwrap();
    assert_eq!(len, 1);

    let bad = producer(FleetConfig::new("not a url")).await.unwrap_err();
    assert_eq!(bad.kind(), IngestErrorKind::Config);
}

/// A `WAIT` that times out (here: a lone node, no replica) fails the send after the append:
/// the entry is in the stream, so the event comes back with the key it was appended under,
/// and sending it again with that key is counted once however many entries carry it.
#[tokio::test]
async fn an_unconfirmed_append_comes_back_with_the_key_it_was_stored_under() {
    let redis = RedisServer::start().unwrap();
    let config = FleetConfig::new(redis.url())
        .wait_for_replicas(1, Duration::from_millis(100))
        .when_unavailable(WhenUnavailable::Fail);
    let producer = producer(config).await.unwrap();
    let refused = producer.send(event(7)).await.unwrap_err();
    assert_eq!(refused.kind(), IngestErrorKind::Unavailable, "{refused}");
    assert!(
        refused.message().contains("0 of 1 replicas confirmed it within 100ms"),
        "{refused}"
    );
    let back = refused.into_event().unwrap();
    let key = back.idempotency_key.clone().expect("handed back with its key");
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(default_stream())
        .arg("-")
        .arg("+")
        .query(&mut con)
        .unwrap();
    assert_eq!(entries.ids.len(), 1);
    let stored: redis::Value = entries.ids[0].map.get("e").unwrap().clone();
    let stored: Vec<u8> = redis::from_redis_value(&stored).unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored.to_string().matches(&key).count(), 1, "{stored} carries {key}");
}

/// The stream key of a fleet with the default configuration.
fn default_stream() -> String {
    FleetConfig::new("redis://127.0.0.1/").stream
}

#[tokio::test]
async fn a_full_stream_pushes_producers_back() {
    let redis = RedisServer::start().unwrap();
    let config = FleetConfig::new(redis.url()).max_pending(10);
    let producer = producer(config).await.unwrap();
    for i in 0..10 {
        producer.try_send(event(i)).await.unwrap();
    }
    // The length is re-read at most every 100 ms: wait past that, then the stream is full.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let rejected = producer.try_send(event(10)).await.unwrap_err();
    assert_eq!(rejected.kind(), IngestErrorKind::Full, "{rejected}");
    assert!(
        rejected.event().unwrap().idempotency_key.is_none(),
        "handed back without the generated key"
    );
    let waiting = tokio::time::timeout(Duration::from_millis(400), producer.send(event(10))).await;
    assert!(waiting.is_err(), "send waits while the stream is full");

    // A worker-side acknowledgement (here: XDEL of two entries) makes room.
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let first: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(default_stream())
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(2)
        .query(&mut con)
        .unwrap();
    let ids: Vec<&str> = first.ids.iter().map(|e| e.id.as_str()).collect();
    let _: u64 = redis::cmd("XDEL")
        .arg(default_stream())
        .arg(ids)
        .query(&mut con)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(2), producer.send(event(10)))
        .await
        .expect("room again")
        .unwrap();
    let len: u64 = redis::cmd("XLEN").arg(default_stream()).query(&mut con).unwrap();
    assert_eq!(len, 9);
}

/// A speed test: run it on the release build, on a machine not saturated by other work:
/// `cargo test --release -p trophy-bench --test fleet -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a speed test: run on the release build (see its doc)"]
async fn under_gcra_the_survivor_of_a_kill_uses_the_whole_budget() {
    // Trophy's 5 tier-1 requests/s under GCRA with no burst (the strictest model), 60,000
    // events offered at once: after the kill, the one worker left must send at the fleet's
    // rate alone (at least 90 % of the 5,000 events/s ceiling), take over the dead worker's
    // entries, and deliver every event once.
    let plan = FleetPlan {
        producers: 4,
        workers: 2,
        per_producer: 15_000,
        rate: 0.0,
        kill_worker_after: Some(Duration::from_secs(3)),
        restart_redis_after: None,
        claim_idle: Duration::from_secs(3),
        limit: Duration::from_secs(120),
    };
    let gcra = RateLimits::trophy().model(LimiterModel::Gcra);
    let r = fleet_run_with(exe(), &plan, gcra).await.unwrap();
    println!("survivor run: {r:?}");
    assert_eq!(r.kills, 1);
    assert_eq!((r.delivered, r.lost, r.duplicated), (60_000, 0, 0));
    assert!(r.totals_match);
    let survivor = r
        .survivor_events_per_s
        .expect("a window of at least 2 s after the kill");
    assert!(
        survivor >= 0.9 * 5_000.0,
        "the survivor sent {survivor:.0} events/s, below 90 % of the ceiling"
    );
    assert!(r.http_429 <= 5, "{} 429s", r.http_429);
}
