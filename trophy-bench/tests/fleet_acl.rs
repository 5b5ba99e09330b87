//! The fleet under a Redis ACL user: the rules `FleetConfig::acl_rules` documents are enough
//! for producers and workers (and Redis logs no denial), and a user missing one command is
//! refused at start-up with that command named.

use std::path::Path;
use std::time::Duration;
use trophy::ingest::fleet::FleetConfig;
use trophy::ingest::{IngestErrorKind, Ingester};
use trophy_bench::durable::{fleet_run_on, FleetPlan, RedisArgs};
use trophy_bench::redis_server::RedisServer;
use trophy_emulator::RateLimits;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_trophy-bench"))
}

const PASSWORD: &str = "fleet-s3cret";

/// A server with the ACL users `fleet` (the documented rules) and `nox-<cmd>` (the documented
/// rules less one command each, for the commands in `without`).
fn server(without: &[&str]) -> RedisServer {
    let rules = FleetConfig::new("redis://unused/").acl_rules();
    let mut builder = RedisServer::builder().acl_user("fleet", PASSWORD, &rules);
    for cmd in without {
        let fewer: Vec<&str> = rules.split(' ').filter(|r| *r != format!("+{cmd}")).collect();
        assert_eq!(fewer.len() + 1, rules.split(' ').count(), "+{cmd} is in the rules");
        builder = builder.acl_user(&format!("nox-{}", cmd.replace('|', "-")), PASSWORD, &fewer.join(" "));
    }
    builder.start().unwrap()
}

fn url_as(redis: &RedisServer, user: &str) -> String {
    redis.url_as(user, PASSWORD)
}

/// Denials Redis logged (`ACL LOG`), as the default user sees them.
fn acl_log(redis: &RedisServer) -> Vec<redis::Value> {
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    redis::cmd("ACL").arg("LOG").query(&mut con).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_rules_run_producers_and_workers_with_no_denial() {
    let redis = server(&[]);
    let plan = FleetPlan {
        producers: 2,
        workers: 2,
        per_producer: 4_000,
        rate: 2_000.0,
        kill_worker_after: Some(Duration::from_millis(1_500)),
        restart_redis_after: None,
        claim_idle: Duration::from_secs(2),
        limit: Duration::from_secs(90),
    };
    let args = RedisArgs::single(url_as(&redis, "fleet"));
    let r = fleet_run_on(exe(), &plan, RateLimits::trophy(), &args, Some(redis.url()), None)
        .await
        .unwrap();
    println!("fleet run as an ACL user: {r:?}");
    assert_eq!((r.delivered, r.lost, r.duplicated), (8_000, 0, 0));
    assert!(r.totals_match);
    assert_eq!(r.kills, 1);
    assert!(
        r.pending_at_kill > 0,
        "the survivor took over the killed worker's entries"
    );
    let log = acl_log(&redis);
    assert!(log.is_empty(), "Redis denied the fleet's user something: {log:?}");
}

#[tokio::test]
async fn a_user_missing_one_command_is_refused_at_start_with_it_named() {
    let missing = ["xautoclaim", "xadd", "evalsha", "pexpire", "xgroup|create"];
    let redis = server(&["xautoclaim", "xadd", "evalsha", "pexpire", "xgroup|create", "wait"]);
    let client = trophy::Client::new(trophy_emulator::DEFAULT_ADMIN_KEY).unwrap();
    for cmd in missing {
        let user = format!("nox-{}", cmd.replace('|', "-"));
        let config = FleetConfig::new(url_as(&redis, &user));
        let e = Ingester::builder(&client)
            .fleet(config.clone())
            .worker()
            .await
            .expect_err(&format!("a worker without {cmd} is refused"));
        assert_eq!(e.kind(), IngestErrorKind::Config, "{e}");
        assert!(
            e.message().starts_with(&format!("the Redis user may not run {cmd}")),
            "{cmd}: {e}"
        );
        assert!(!e.message().contains(PASSWORD), "{e}");
        // A producer needs only xadd, xlen and xrange (and the check's evalsha).
        let producer = Ingester::builder(&client).fleet(config).build().await;
        match cmd {
            "xadd" | "evalsha" => {
                let e = producer.expect_err("a producer without it is refused");
                assert!(e.message().contains(cmd), "{e}");
            }
            _ => {
                producer.unwrap_or_else(|e| panic!("a producer does not need {cmd}: {e}"));
            }
        }
    }
    // `wait` is needed only with WAIT-acknowledged appends.
    let no_wait = FleetConfig::new(url_as(&redis, "nox-wait"));
    Ingester::builder(&client).fleet(no_wait.clone()).build().await.unwrap();
    let e = Ingester::builder(&client)
        .fleet(no_wait.wait_for_replicas(1, Duration::from_millis(100)))
        .build()
        .await
        .unwrap_err();
    assert!(e.message().starts_with("the Redis user may not run wait"), "{e}");

    // The check itself sends nothing the documented user may not: no denial for `fleet`.
    let fleet = FleetConfig::new(url_as(&redis, "fleet"));
    let worker = Ingester::builder(&client).fleet(fleet).worker().await.unwrap();
    worker.shutdown(Duration::from_secs(1)).await;
}
