//! The Redis harness itself: a TLS server (mutual TLS, wrong CA), ACL users (NOPERM), and a
//! local Redis Cluster with replicas that fails over when a master is killed.

use std::time::{Duration, Instant};

use trophy_bench::redis_server::{redis_cli, RedisCluster, RedisServer, TlsMaterial};

/// `redis-cli --tls` options reaching `server` with this CA and, if given, this client
/// certificate and key; then `PING`.
fn tls_ping(
    server: &RedisServer,
    ca: &std::path::Path,
    cert: Option<(&std::path::Path, &std::path::Path)>,
) -> Result<String, String> {
    let port = server.port().to_string();
    let mut args = vec![
        "-h".to_string(),
        "127.0.0.1".to_string(),
        "-p".to_string(),
        port,
        "--tls".to_string(),
        "--cacert".to_string(),
        ca.display().to_string(),
    ];
    if let Some((cert, key)) = cert {
        args.extend(["--cert".to_string(), cert.display().to_string()]);
        args.extend(["--key".to_string(), key.display().to_string()]);
    }
    args.extend(["-e".to_string(), "PING".to_string()]);
    redis_cli(&args)
}

#[test]
fn tls_material_is_pem() {
    let material = TlsMaterial::generate().unwrap();
    for pem in [
        material.ca_pem(),
        material.server_cert_pem(),
        material.client_cert_pem(),
        material.wrong_ca_pem(),
        material.wrong_client_cert_pem(),
    ] {
        assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----\n"));
    }
    for pem in [
        material.server_key_pem(),
        material.client_key_pem(),
        material.wrong_client_key_pem(),
    ] {
        assert!(pem.starts_with(b"-----BEGIN PRIVATE KEY-----\n"));
    }
    assert_ne!(material.ca_pem(), material.wrong_ca_pem());
}

#[test]
fn tls_server_with_client_certificates() {
    let started = Instant::now();
    let material = TlsMaterial::generate().unwrap();
    let mut server = RedisServer::start_tls(&material, true, &[]).unwrap();
    assert_eq!(server.url(), format!("rediss://127.0.0.1:{}/", server.port()));
    assert!(server.ping());
    let files = server.tls_files().unwrap().clone();
    assert_eq!(std::fs::read(&files.ca).unwrap(), material.ca_pem());

    // The right CA and a client certificate it signed.
    let right = tls_ping(&server, &files.ca, Some((&files.client_cert, &files.client_key)));
    assert_eq!(right.as_deref(), Ok("PONG"));
    // A client trusting only the unrelated CA refuses the server.
    let wrong_ca = tls_ping(&server, &files.wrong_ca, Some((&files.client_cert, &files.client_key))).unwrap_err();
    assert!(wrong_ca.contains("certificate verify failed"), "{wrong_ca}");
    // The server refuses a client without a certificate, or with one of the unrelated CA.
    tls_ping(&server, &files.ca, None).unwrap_err();
    tls_ping(
        &server,
        &files.ca,
        Some((&files.wrong_client_cert, &files.wrong_client_key)),
    )
    .unwrap_err();
    // Plain text gets nothing.
    let plain = redis_cli(&["-h", "127.0.0.1", "-p", &server.port().to_string(), "-e", "PING"]);
    assert!(plain.is_err(), "{plain:?}");

    server.restart().unwrap();
    assert_eq!(server.cli(&["PING"]).as_deref(), Ok("PONG"));
    server.kill();
    assert!(!server.ping());
    eprintln!("tls_server_with_client_certificates: {:?}", started.elapsed());
}

#[test]
fn tls_server_without_client_certificates() {
    let material = TlsMaterial::generate().unwrap();
    let server = RedisServer::start_tls(&material, false, &["--appendonly", "no"]).unwrap();
    let files = server.tls_files().unwrap();
    assert_eq!(tls_ping(&server, &files.ca, None).as_deref(), Ok("PONG"));
    tls_ping(&server, &files.wrong_ca, None).unwrap_err();
}

#[test]
fn acl_users() {
    let started = Instant::now();
    let server = RedisServer::start_with_acl(&[
        ("reader", "r3ad", "~{trophy}* -@all +get +ping"),
        ("writer", "p@ss:w/rd%", "~{trophy}* -@all +xadd +xlen +ping"),
    ])
    .unwrap();
    // The default user is still open, for the harness's own ping.
    assert!(server.ping());
    assert_eq!(
        server.url_as("writer", "p@ss:w/rd%"),
        format!("redis://writer:p%40ss%3Aw%2Frd%25@127.0.0.1:{}/", server.port())
    );

    let mut reader = redis::Client::open(server.url_as("reader", "r3ad"))
        .unwrap()
        .get_connection()
        .unwrap();
    let err = redis::cmd("XADD")
        .arg("{trophy}:events")
        .arg("*")
        .arg("k")
        .arg("v")
        .query::<String>(&mut reader)
        .unwrap_err();
    assert_eq!(err.code(), Some("NOPERM"), "{err}");
    let missing: Option<String> = redis::cmd("GET").arg("{trophy}:x").query(&mut reader).unwrap();
    assert_eq!(missing, None);

    let mut writer = redis::Client::open(server.url_as("writer", "p@ss:w/rd%"))
        .unwrap()
        .get_connection()
        .unwrap();
    let id: String = redis::cmd("XADD")
        .arg("{trophy}:events")
        .arg("*")
        .arg("k")
        .arg("v")
        .query(&mut writer)
        .unwrap();
    assert!(id.contains('-'), "{id}");
    let len: u64 = redis::cmd("XLEN").arg("{trophy}:events").query(&mut writer).unwrap();
    assert_eq!(len, 1);
    // Outside its keys, the writer is refused too.
    let err = redis::cmd("XADD")
        .arg("other")
        .arg("*")
        .arg("k")
        .arg("v")
        .query::<String>(&mut writer)
        .unwrap_err();
    assert_eq!(err.code(), Some("NOPERM"), "{err}");

    // A wrong password does not get a connection.
    let wrong = redis::Client::open(server.url_as("writer", "nope"))
        .unwrap()
        .get_connection();
    assert!(wrong.is_err());

    // Names with white space cannot go into an ACL file.
    let err = RedisServer::start_with_acl(&[("two words", "pw", "+@all")]).unwrap_err();
    assert!(err.contains("white space"), "{err}");
    eprintln!("acl_users: {:?}", started.elapsed());
}

#[test]
fn key_slots_match_redis() {
    // Known values: CRC16-XMODEM("123456789") is 0x31C3; "foo" is in slot 12182.
    assert_eq!(RedisCluster::key_slot("123456789"), 0x31C3);
    assert_eq!(RedisCluster::key_slot("foo"), 12182);
    assert_eq!(
        RedisCluster::key_slot("{user1000}.following"),
        RedisCluster::key_slot("user1000")
    );
    assert_eq!(
        RedisCluster::key_slot("foo{}{bar}"),
        RedisCluster::key_slot("foo{}{bar}")
    );
    assert_ne!(RedisCluster::key_slot("foo{}{bar}"), RedisCluster::key_slot("bar"));
    assert_eq!(RedisCluster::key_slot("foo{{bar}}zap"), RedisCluster::key_slot("{bar"));
    assert_eq!(RedisCluster::key_slot("foo{bar}{zap}"), RedisCluster::key_slot("bar"));
    // The cluster test checks it against CLUSTER KEYSLOT.
}

#[test]
fn cluster_fails_over_a_killed_master() {
    let started = Instant::now();
    let mut cluster = RedisCluster::start(3, 1).unwrap();
    let formed = started.elapsed();
    assert_eq!(cluster.node_count(), 6);
    assert_eq!(cluster.seed_urls().len(), 6);
    assert!(cluster.seed_urls().iter().all(|u| u.starts_with("redis://127.0.0.1:")));
    let info = cluster.cli(0, &["CLUSTER", "INFO"]).unwrap();
    assert!(info.contains("cluster_state:ok"), "{info}");
    assert!(info.contains("cluster_known_nodes:6"), "{info}");
    assert!(info.contains("cluster_size:3"), "{info}");
    assert_eq!(cluster.masters().len(), 3);

    // The slot function agrees with the cluster's.
    for key in ["{trophy}:events", "foo", "a{b}c", "{}x", "trophy:outbox:42"] {
        let slot = cluster.cli(0, &["CLUSTER", "KEYSLOT", key]).unwrap();
        assert_eq!(slot, RedisCluster::key_slot(key).to_string(), "{key}");
    }

    // redis-cli -c follows redirections from any node.
    let port = cluster.node(0).unwrap().port().to_string();
    for key in ["a", "b", "c", "d"] {
        let set = redis_cli(&["-c", "-h", "127.0.0.1", "-p", &port, "-e", "SET", key, "v"]).unwrap();
        assert_eq!(set, "OK");
        let get = redis_cli(&["-c", "-h", "127.0.0.1", "-p", &port, "-e", "GET", key]).unwrap();
        assert_eq!(get, "v");
    }

    let key = "{trophy}:events";
    let slot = RedisCluster::key_slot(key);
    let owner = cluster.master_for_slot(slot).unwrap();
    let mut conn = redis::Client::open(cluster.node(owner).unwrap().url())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET").arg(key).arg("before-kill").query(&mut conn).unwrap();
    let replicated: u64 = redis::cmd("WAIT").arg(1).arg(1000).query(&mut conn).unwrap();
    assert_eq!(replicated, 1);
    drop(conn);

    let killed_at = Instant::now();
    cluster.kill(owner);
    let promoted = cluster.wait_for_failover(owner, Duration::from_secs(20)).unwrap();
    let failover = killed_at.elapsed();
    assert_ne!(promoted, owner);
    assert_eq!(cluster.master_for_slot(slot), Some(promoted));
    let mut conn = redis::Client::open(cluster.node(promoted).unwrap().url())
        .unwrap()
        .get_connection()
        .unwrap();
    let value: String = redis::cmd("GET").arg(key).query(&mut conn).unwrap();
    assert_eq!(value, "before-kill");
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg("after-failover")
        .query(&mut conn)
        .unwrap();
    eprintln!(
        "cluster_fails_over_a_killed_master: formed in {formed:?}, failover in {failover:?}, total {:?}",
        started.elapsed()
    );
}

#[test]
fn tls_cluster_replicates() {
    let started = Instant::now();
    let material = TlsMaterial::generate().unwrap();
    let cluster = RedisCluster::start_tls(3, 1, &material).unwrap();
    let formed = started.elapsed();
    assert!(cluster.seed_urls().iter().all(|u| u.starts_with("rediss://127.0.0.1:")));
    let info = cluster.cli(0, &["CLUSTER", "INFO"]).unwrap();
    assert!(info.contains("cluster_state:ok"), "{info}");
    assert!(info.contains("cluster_known_nodes:6"), "{info}");

    let key = "{trophy}:events";
    let owner = cluster.master_for_slot(RedisCluster::key_slot(key)).unwrap();
    assert_eq!(cluster.cli(owner, &["SET", key, "over-tls"]).unwrap(), "OK");
    // Replication runs over TLS too.
    assert_eq!(cluster.cli(owner, &["WAIT", "1", "1000"]).unwrap(), "1");
    let other = (owner + 1) % cluster.node_count();
    let moved = cluster.cli(other, &["GET", key]).unwrap_err();
    assert!(moved.contains("MOVED"), "{moved}");
    assert_eq!(cluster.cli(owner, &["GET", key]).unwrap(), "over-tls");
    // Plain text gets nothing from a TLS node.
    let port = cluster.node(owner).unwrap().port().to_string();
    assert!(redis_cli(&["-h", "127.0.0.1", "-p", &port, "-e", "PING"]).is_err());
    eprintln!(
        "tls_cluster_replicates: formed in {formed:?}, total {:?}",
        started.elapsed()
    );
}

/// A process that answers `+PONG` on a port is not taken for the server the harness started
/// there: the start fails, naming the taken port, instead of handing the test someone else's
/// server. (Starts on ports of the harness's choosing retry on a new port in that case.)
#[test]
fn a_taken_port_is_not_mistaken_for_a_started_server() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let done = Arc::new(AtomicBool::new(false));
    let impostor = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut answered = 0;
            listener.set_nonblocking(true).unwrap();
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let mut buf = [0u8; 64];
                        if stream.read(&mut buf).is_ok_and(|n| n > 0) && stream.write_all(b"+PONG\r\n").is_ok() {
                            answered += 1;
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            answered
        }
    });
    let started = Instant::now();
    let result = RedisServer::builder().port(port).start();
    done.store(true, Ordering::Relaxed);
    let answered = impostor.join().unwrap();
    let err = result.map(|s| s.port()).unwrap_err();
    assert!(err.contains("Address already in use"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "failed only after {:?}",
        started.elapsed()
    );
    eprintln!("the impostor answered {answered} PING(s) while redis-server failed to bind");

    // A start on a port of the harness's choosing works as ever.
    let server = RedisServer::start().unwrap();
    assert!(server.ping());
    assert_ne!(server.port(), port);
}
