//! The fleet on a real local Redis Cluster (3 masters, 3 replicas, started and stopped by the
//! harness): producers and workers in processes with nothing lost or counted twice; several
//! fleets in their own slots on different masters; and a master killed mid-run, its replica
//! promoted, with and without `WAIT`-acknowledged appends.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use trophy::ingest::fleet::FleetConfig;
use trophy::ingest::Ingester;
use trophy_bench::durable::{self, event, fleet_run_on, Fault, FleetPlan, FleetReport, RedisArgs};
use trophy_bench::redis_server::{RedisCluster, TlsMaterial};
use trophy_emulator::RateLimits;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_trophy-bench"))
}

fn plan(kill_worker: bool) -> FleetPlan {
    FleetPlan {
        producers: 4,
        workers: 2,
        per_producer: 6_000,
        rate: 1_500.0,
        kill_worker_after: kill_worker.then_some(Duration::from_millis(2_000)),
        restart_redis_after: None,
        claim_idle: Duration::from_secs(3),
        limit: Duration::from_secs(120),
    }
}

fn cluster_args(cluster: &RedisCluster, wait_replicas: u32) -> RedisArgs {
    RedisArgs {
        redis: cluster.seed_urls(),
        redis_cluster: true,
        wait_replicas,
        ..RedisArgs::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_producers_two_workers_one_killed_on_a_cluster_nothing_lost_nothing_twice() {
    let cluster = RedisCluster::start(3, 1).unwrap();
    let r = fleet_run_on(
        exe(),
        &plan(true),
        RateLimits::trophy(),
        &cluster_args(&cluster, 0),
        None,
        None,
    )
    .await
    .unwrap();
    println!("fleet run on a cluster: {r:?}");
    assert_eq!(r.kills, 1);
    assert_eq!((r.delivered, r.lost, r.duplicated), (24_000, 0, 0));
    assert!(r.totals_match);
    assert!(r.http_429 <= 2, "{} 429s", r.http_429);
}

/// The production set-up of managed Redis in cluster mode (ElastiCache with in-transit
/// encryption, for one): every node speaks only TLS and wants a client certificate, replication
/// and the cluster bus run over TLS too, and appends wait for a replica. The fleet's processes
/// reach it through `rediss://` seeds with a CA and a client certificate; a worker is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_on_a_mutual_tls_cluster_with_wait_loses_nothing() {
    let material = TlsMaterial::generate().unwrap();
    let cluster = RedisCluster::start_tls(3, 1, &material).unwrap();
    let files = cluster.node(0).unwrap().tls_files().unwrap().clone();
    let args = RedisArgs {
        redis_ca: Some(files.ca.clone()),
        redis_cert: Some(files.client_cert.clone()),
        redis_key: Some(files.client_key.clone()),
        ..cluster_args(&cluster, 1)
    };
    assert!(
        args.redis.iter().all(|u| u.starts_with("rediss://")),
        "{:?}",
        args.redis
    );
    let plan = FleetPlan {
        producers: 2,
        per_producer: 4_000,
        ..plan(true)
    };
    let r = fleet_run_on(exe(), &plan, RateLimits::trophy(), &args, None, None)
        .await
        .unwrap();
    println!("fleet run on a mutual-TLS cluster with WAIT 1: {r:?}");
    assert_eq!(r.kills, 1);
    assert_eq!((r.delivered, r.lost, r.duplicated), (8_000, 0, 0));
    assert!(r.totals_match);
}

/// The plan without a worker kill, with `fault` 2.5 s into the run.
async fn run_with_fault(args: &RedisArgs, fault: Fault<'_>) -> FleetReport {
    fleet_run_on(
        exe(),
        &plan(false),
        RateLimits::trophy(),
        args,
        None,
        Some((Duration::from_millis(2_500), fault)),
    )
    .await
    .unwrap()
}

/// Kills the master of the fleet's slot 2.5 s into the run, waits for its replica's promotion
/// and starts the killed node again (it rejoins as the new master's replica, as an
/// orchestrator would bring it back); returns the run, the killed master and the new one.
async fn master_killed(wait_replicas: u32) -> (FleetReport, usize, usize) {
    let mut cluster = RedisCluster::start(3, 1).unwrap();
    let slot = RedisCluster::key_slot(&FleetConfig::new("redis://unused/").stream);
    let old = cluster.master_for_slot(slot).unwrap();
    let args = cluster_args(&cluster, wait_replicas);
    let victim = &mut cluster;
    let kill: Fault<'_> = Box::new(move || {
        victim.kill(old);
        let new = victim.wait_for_failover(old, Duration::from_secs(20))?;
        victim.restart(old)?;
        println!("master {old} killed, {new} promoted, {old} restarted as a replica");
        Ok(())
    });
    let r = run_with_fault(&args, kill).await;
    let new = cluster.master_for_slot(slot).unwrap();
    (r, old, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_mid_run_with_wait_acknowledgement_totals_are_exact() {
    let (r, old, new) = master_killed(1).await;
    println!("master {old} killed, {new} promoted, WAIT 1: {r:?}");
    assert_ne!(old, new);
    assert_eq!(r.redis_restarts, 1, "the master was killed mid-run");
    assert_eq!((r.delivered, r.lost, r.duplicated), (24_000, 0, 0));
    assert!(r.totals_match);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_mid_run_without_wait_counts_nothing_twice() {
    // Without WAIT, an append the master acknowledged and had not yet replicated is lost with
    // it (asynchronous replication): the test reports how many, and checks that nothing was
    // counted twice (entries delivered but not acknowledged are sent again with their keys).
    let (r, old, new) = master_killed(0).await;
    println!(
        "master {old} killed, {new} promoted, no WAIT: delivered={} lost={} duplicated={}",
        r.delivered, r.lost, r.duplicated
    );
    assert_ne!(old, new);
    assert_eq!(r.duplicated, 0);
    assert_eq!(r.delivered + r.lost, 24_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_fleets_live_in_their_own_slots_on_different_masters() {
    let cluster = RedisCluster::start(3, 1).unwrap();
    // Fleet names whose hash tags land on three different masters.
    let mut names = Vec::new();
    let mut masters = BTreeSet::new();
    for i in 0..200 {
        let name = format!("team-{i}");
        let stream = FleetConfig::new("redis://unused/").fleet(&name).stream;
        let master = cluster.master_for_slot(RedisCluster::key_slot(&stream)).unwrap();
        if masters.insert(master) {
            names.push((name, master));
        }
        if names.len() == 3 {
            break;
        }
    }
    assert_eq!(names.len(), 3, "three names on three masters");
    let emu = durable::emulator_with(Some(RateLimits::trophy())).await.unwrap();
    let client = trophy::Client::builder()
        .api_key(trophy_emulator::DEFAULT_ADMIN_KEY)
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let per_fleet = 2_000u64;
    let mut running = Vec::new();
    for (k, (name, _)) in names.iter().enumerate() {
        // One Trophy key: the fleets share one budget (in its own slot).
        let config = FleetConfig::cluster(cluster.seed_urls())
            .fleet(name)
            .budget_key("{trophy}:budget:tier1")
            .consumer(format!("{name}-worker"));
        let worker = Ingester::builder(&client).fleet(config.clone()).worker().await.unwrap();
        let producer = Ingester::builder(&client).fleet(config).build().await.unwrap();
        for i in k as u64 * per_fleet..(k as u64 + 1) * per_fleet {
            producer.send(event(i)).await.unwrap();
        }
        running.push((producer, worker));
    }
    for (producer, _) in &running {
        let flushed = producer.flush_within(Duration::from_secs(60)).await.unwrap();
        assert_eq!(flushed.pending, 0);
    }
    for (producer, worker) in running {
        producer.shutdown(Duration::from_secs(1)).await;
        worker.shutdown(Duration::from_secs(5)).await;
    }
    let offered = 3 * per_fleet;
    assert_eq!(emu.event_counts().stored, offered);
    assert_eq!(durable::lost_and_duplicated(&emu, offered), (0, 0));
    assert!(durable::held(&emu) == durable::expected(offered));
    // Each fleet's dead-letter stream and group live with its stream, on its own master.
    for (name, master) in &names {
        let stream = FleetConfig::new("redis://unused/").fleet(name).stream;
        let groups = cluster.cli(*master, &["XINFO", "GROUPS", &stream]).unwrap();
        assert!(groups.contains("trophy-ingest"), "{name} on node {master}: {groups}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleets_slot_moved_to_another_master_mid_run_moved_and_ask_are_followed() {
    let cluster = RedisCluster::start(3, 1).unwrap();
    let slot = RedisCluster::key_slot(&FleetConfig::new("redis://unused/").stream);
    let old = cluster.master_for_slot(slot).unwrap();
    let to = *cluster.masters().iter().find(|&&m| m != old).unwrap();
    let args = cluster_args(&cluster, 0);
    let mover = &cluster;
    let moved_keys = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = moved_keys.clone();
    // The fleet's four keys (stream, dead stream, budget, learned rate) move one at a time,
    // 300 ms apart: ASK (and TRYAGAIN) while the slot is half moved, MOVED after.
    let migrate: Fault<'_> = Box::new(move || {
        let n = mover.migrate_slot(slot, to, Duration::from_millis(300))?;
        count.store(n, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    });
    let r = run_with_fault(&args, migrate).await;
    println!(
        "slot {slot} moved from node {old} to {to} mid-run ({} keys): {r:?}",
        moved_keys.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(
        moved_keys.load(std::sync::atomic::Ordering::Relaxed) >= 2,
        "the stream and the budget moved"
    );
    assert_eq!(cluster.master_for_slot(slot), Some(to));
    assert_eq!((r.delivered, r.lost, r.duplicated), (24_000, 0, 0));
    assert!(r.totals_match);
    let length = cluster
        .cli(to, &["XLEN", &FleetConfig::new("redis://unused/").stream])
        .unwrap();
    assert_eq!(
        length.trim(),
        "0",
        "every entry acknowledged and deleted on the new master"
    );
}

/// While the master of the fleet's slot is dead and its replica not yet promoted, a producer
/// configured to fail does so at once, handing the event back, and one configured to wait
/// sends once the replica has taken over and (with `WAIT 1`) has a replica again: the killed
/// node, restarted as an orchestrator would. The handed-back event sent again lands once.
/// Appends before the kill were confirmed by `WAIT 1`, so nothing is lost: the stream on the
/// new master holds the four events' keys, each once or (an append retried after a `WAIT`
/// timeout) more than once under the same key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_failover_producers_fail_at_once_or_wait_as_configured() {
    use std::time::Instant;
    use trophy::ingest::fleet::WhenUnavailable;
    use trophy::ingest::IngestErrorKind;

    let mut cluster = RedisCluster::start(3, 1).unwrap();
    let stream = FleetConfig::new("redis://unused/").stream;
    let slot = RedisCluster::key_slot(&stream);
    let old = cluster.master_for_slot(slot).unwrap();
    let connect = |w| {
        let config = FleetConfig::cluster(cluster.seed_urls())
            .wait_for_replicas(1, Duration::from_secs(1))
            .when_unavailable(w);
        Ingester::fleet_producer(config)
    };
    let failing = connect(WhenUnavailable::Fail).await.unwrap();
    let waiting = connect(WhenUnavailable::Wait(Duration::from_secs(40))).await.unwrap();
    let mut keys = BTreeSet::new();
    keys.insert(failing.send(event(1)).await.unwrap());
    keys.insert(waiting.send(event(2)).await.unwrap());

    cluster.kill(old);
    let started = Instant::now();
    let refused = failing.send(event(3)).await.unwrap_err();
    let failed_after = started.elapsed();
    println!("fail-fast producer, master {old} dead: {refused} (after {failed_after:?})");
    assert_eq!(refused.kind(), IngestErrorKind::Unavailable, "{refused}");
    assert!(
        failed_after < Duration::from_secs(8),
        "failed only after {failed_after:?}"
    );
    let handed_back = refused.into_event().expect("the event comes back");

    let started = Instant::now();
    let (sent, new) = tokio::join!(waiting.send(event(4)), async {
        tokio::task::block_in_place(|| {
            let new = cluster.wait_for_failover(old, Duration::from_secs(20))?;
            cluster.restart(old)?;
            Ok::<_, String>(new)
        })
    });
    let new = new.unwrap();
    keys.insert(sent.unwrap());
    println!(
        "waiting producer sent after {:?}; node {new} promoted, {old} back as its replica",
        started.elapsed()
    );
    assert_ne!(new, old);
    keys.insert(waiting.send(handed_back).await.unwrap());
    assert_eq!(keys.len(), 4);

    let entries = cluster.cli(new, &["XRANGE", &stream, "-", "+"]).unwrap();
    let stored: BTreeSet<String> = keys.iter().filter(|k| entries.contains(k.as_str())).cloned().collect();
    assert_eq!(stored, keys, "every acknowledged event is on the new master");
    failing.shutdown(Duration::from_secs(1)).await;
    waiting.shutdown(Duration::from_secs(1)).await;
}
