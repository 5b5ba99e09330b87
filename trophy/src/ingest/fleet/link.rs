//! The fleet's way to Redis: one node or a cluster, plain or TLS; the hash-tag rule that keeps
//! each fleet's keys in one cluster slot; and the start-up check of the user's ACL permissions.

use super::FleetConfig;
use crate::ingest::{IngestError, IngestErrorKind};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One connection to the fleet's Redis: a single node (reconnecting by itself) or a cluster
/// (following `MOVED` and `ASK`, and the topology after a failover).
#[derive(Clone)]
pub(crate) enum Conn {
    Node(ConnectionManager),
    Cluster(Arc<ClusterLink>),
}

/// A cluster connection that is opened anew from the seeds after [`STRIKES`] timeouts or
/// connection errors in a row. redis-rs's cluster client follows redirections and failovers,
/// but was seen (in a slot migration test) to leave one client timing out on every request
/// long after the cluster had settled; a fresh connection learns the layout again.
pub(crate) struct ClusterLink {
    client: redis::cluster::ClusterClient,
    current: Mutex<redis::cluster_async::ClusterConnection>,
    strikes: AtomicU32,
    renewing: tokio::sync::Mutex<()>,
}

/// Failures in a row after which a cluster connection is opened anew.
const STRIKES: u32 = 3;

impl ClusterLink {
    fn current(&self) -> redis::cluster_async::ClusterConnection {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn observe<T>(&self, result: &redis::RedisResult<T>) {
        match result {
            Err(e) if e.is_timeout() || e.is_io_error() || e.is_connection_dropped() => {
                if self.strikes.fetch_add(1, Ordering::Relaxed) + 1 < STRIKES {
                    return;
                }
                let Ok(_only) = self.renewing.try_lock() else {
                    return;
                };
                match self.client.get_async_connection().await {
                    Ok(fresh) => {
                        tracing::warn!(error = %e, "trophy fleet: cluster connection opened anew after repeated failures");
                        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
                        self.strikes.store(0, Ordering::Relaxed);
                    }
                    Err(again) => {
                        tracing::debug!(error = %again, "trophy fleet: reopening the cluster connection failed")
                    }
                }
            }
            Err(_) => {}
            Ok(_) => self.strikes.store(0, Ordering::Relaxed),
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Conn::Node(c) => c.req_packed_command(cmd),
            Conn::Cluster(link) => Box::pin(async move {
                let result = link.current().req_packed_command(cmd).await;
                link.observe(&result).await;
                result
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Node(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(link) => Box::pin(async move {
                let result = link.current().req_packed_commands(cmd, offset, count).await;
                link.observe(&result).await;
                result
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Node(c) => c.get_db(),
            Conn::Cluster(_) => 0,
        }
    }
}

/// PEM bytes given directly or read from a file when the fleet connects.
#[derive(Clone)]
pub(crate) enum Pem {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl Pem {
    fn load(&self, what: &str) -> Result<Vec<u8>, IngestError> {
        match self {
            Pem::Bytes(b) => Ok(b.clone()),
            Pem::File(path) => std::fs::read(path).map_err(|e| {
                IngestError::new(
                    IngestErrorKind::Config,
                    format!("reading the {what} at {}: {e}", path.display()),
                )
            }),
        }
    }
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pem::Bytes(b) => write!(f, "<{} bytes of PEM>", b.len()),
            Pem::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The TLS settings of the fleet's connections beyond the `rediss://` scheme.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsFiles {
    /// The CA to verify the server against, instead of the platform's roots.
    pub(crate) ca: Option<Pem>,
    /// A client certificate chain and its key, for mutual TLS.
    pub(crate) client: Option<(Pem, Pem)>,
}

impl TlsFiles {
    fn is_set(&self) -> bool {
        self.ca.is_some() || self.client.is_some()
    }

    fn certificates(&self) -> Result<redis::TlsCertificates, IngestError> {
        let root_cert = self.ca.as_ref().map(|ca| ca.load("Redis CA certificate")).transpose()?;
        let client_tls = match &self.client {
            Some((cert, key)) => Some(redis::ClientTlsConfig {
                client_cert: cert.load("Redis client certificate")?,
                client_key: key.load("Redis client key")?,
            }),
            None => None,
        };
        Ok(redis::TlsCertificates { client_tls, root_cert })
    }
}

/// The URL without a password.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}<redacted>{}", &url[..scheme + 3], &url[at..]),
        _ => url.to_string(),
    }
}

/// Where the fleet's Redis is, for messages: the URL, or every seed of a cluster; no password.
pub(crate) fn describe(config: &FleetConfig) -> String {
    let urls: Vec<String> = config.urls().iter().map(|u| redact(u)).collect();
    if config.cluster {
        format!("Redis Cluster at {}", urls.join(", "))
    } else {
        format!("Redis at {}", urls.join(", "))
    }
}

pub(crate) fn redis_error(config: &FleetConfig, what: &str, e: &redis::RedisError) -> IngestError {
    let mut message = format!("{what} ({}): {e}", describe(config));
    if e.code() == Some("NOPERM") {
        message.push_str(
            " (the Redis user lacks a permission the fleet needs: see \"Redis users and ACLs\" in \
             the trophy::ingest::fleet docs)",
        );
    } else if matches!(
        e.kind(),
        redis::ErrorKind::Moved | redis::ErrorKind::Ask | redis::ErrorKind::TryAgain | redis::ErrorKind::ClusterDown
    ) {
        message.push_str(
            " (the cluster sends the fleet's slot to a node that does not answer: a master is down \
             and its replica not yet promoted, or the slot is being moved)",
        );
    }
    IngestError::new(IngestErrorKind::Unavailable, message)
}

/// The hash tag of a key: the part between the first `{` and the next `}`, when not empty
/// (what Redis Cluster hashes instead of the whole key).
pub(crate) fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let close = key[open + 1..].find('}')?;
    let tag = &key[open + 1..open + 1 + close];
    (!tag.is_empty()).then_some(tag)
}

/// In a cluster, the stream (with its dead-letter stream) and the budget (with its learned
/// rate) must each carry a hash tag, so that each transaction and each script stays in one slot.
pub(crate) fn check_keys(config: &FleetConfig) -> Result<(), IngestError> {
    if !config.cluster {
        return Ok(());
    }
    for (what, key) in [("stream", &config.stream), ("budget_key", &config.budget_key)] {
        if hash_tag(key).is_none() {
            return Err(IngestError::new(
                IngestErrorKind::Config,
                format!(
                    "in Redis Cluster mode the {what} {key:?} needs a hash tag such as \
                     \"{{trophy}}:...\", so that all of one fleet's keys live in one slot \
                     (FleetConfig::fleet sets tagged keys)"
                ),
            ));
        }
    }
    Ok(())
}

/// Makes sure rustls has a process-wide crypto provider before redis-rs (which reads only the
/// process default) builds a TLS configuration: when the application installed none, installs
/// the one trophy's TLS feature chose (`rustls-ring`: ring; `rustls`: aws-lc-rs).
fn ensure_crypto_provider() -> Result<(), IngestError> {
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return Ok(());
    }
    #[cfg(feature = "rustls-ring")]
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(())
    }
    #[cfg(all(feature = "rustls", not(feature = "rustls-ring")))]
    {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Ok(())
    }
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    Err(IngestError::new(
        IngestErrorKind::Config,
        "rediss:// needs a rustls crypto provider: enable trophy's `rustls` or `rustls-ring` \
         feature, or call `rustls::crypto::CryptoProvider::install_default` first",
    ))
}

/// Connects to the fleet's Redis. A URL that does not parse, or TLS settings without a
/// `rediss://` URL, is a [`IngestErrorKind::Config`] error; a server that cannot be reached or
/// whose certificate does not verify, [`IngestErrorKind::Unavailable`].
pub(crate) async fn connect(config: &FleetConfig, response_timeout: Duration) -> Result<Conn, IngestError> {
    let urls = config.urls();
    let bad = |m: String| IngestError::new(IngestErrorKind::Config, m);
    if urls.is_empty() {
        return Err(bad("no Redis URL".into()));
    }
    let tls = urls.iter().any(|u| u.starts_with("rediss://"));
    if tls && !urls.iter().all(|u| u.starts_with("rediss://")) {
        return Err(bad(format!(
            "mixed rediss:// and plain seeds ({}): use rediss:// for every node",
            describe(config)
        )));
    }
    if config.tls.is_set() && !tls {
        return Err(bad(format!(
            "a CA or client certificate is set, but {} is not a rediss:// URL; the fleet never \
             falls back to plain text",
            describe(config)
        )));
    }
    if tls {
        ensure_crypto_provider()?;
    }
    let certs = if config.tls.is_set() {
        Some(config.tls.certificates()?)
    } else {
        None
    };
    let unreachable = |e: redis::RedisError| {
        let mut error = redis_error(config, "connecting", &e);
        if tls && e.to_string().to_ascii_lowercase().contains("certificate") {
            error = IngestError::new(
                IngestErrorKind::Unavailable,
                format!(
                    "{} (the server's TLS certificate did not verify against the configured CA \
                     or the platform's roots; nothing was sent in plain text)",
                    error.message()
                ),
            );
        }
        error
    };
    if config.cluster {
        let mut builder = redis::cluster::ClusterClientBuilder::new(urls.to_vec())
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(response_timeout)
            .retries(4)
            .min_retry_wait(50)
            .max_retry_wait(1_000);
        if let Some(certs) = certs {
            builder = builder.certs(certs);
        }
        let client = builder
            .build()
            .map_err(|e| bad(format!("bad Redis Cluster seeds {}: {e}", describe(config))))?;
        let conn = client.get_async_connection().await.map_err(unreachable)?;
        Ok(Conn::Cluster(Arc::new(ClusterLink {
            client,
            current: Mutex::new(conn),
            strikes: AtomicU32::new(0),
            renewing: tokio::sync::Mutex::new(()),
        })))
    } else {
        let url = urls[0].as_str();
        let client = match certs {
            Some(certs) => redis::Client::build_with_tls(url, certs),
            None => redis::Client::open(url),
        }
        .map_err(|e| bad(format!("bad Redis URL {}: {e}", redact(url))))?;
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(response_timeout)
            .set_number_of_retries(2)
            .set_max_delay(500);
        let conn = ConnectionManager::new_with_config(client, settings)
            .await
            .map_err(unreachable)?;
        Ok(Conn::Node(conn))
    }
}

/// Which commands a process of the fleet runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Producer,
    Worker,
}

/// Asks Redis (7 or later: `redis.acl_check_cmd`) which of the commands the fleet needs on its
/// keys the connection's user may not run. Runs in each slot the fleet uses.
const ACL_LUA: &str = r"
if not redis.acl_check_cmd then return {'?'} end
local missing = {}
local function need(name, ...)
  local ok, allowed = pcall(redis.acl_check_cmd, ...)
  if not ok or not allowed then missing[#missing + 1] = name end
end
if ARGV[1] == 'stream' then
  need('xadd', 'xadd', KEYS[1], '*', 'e', 'x')
  need('xlen', 'xlen', KEYS[1])
  need('xrange', 'xrange', KEYS[1], '-', '+', 'COUNT', '1')
  if ARGV[4] == 'wait' then need('wait', 'wait', '1', '0') end
  if ARGV[2] == 'worker' then
    need('xgroup|create', 'xgroup', 'create', KEYS[1], ARGV[3], '0', 'MKSTREAM')
    need('xreadgroup', 'xreadgroup', 'GROUP', ARGV[3], 'c', 'COUNT', '1', 'STREAMS', KEYS[1], '>')
    need('xautoclaim', 'xautoclaim', KEYS[1], ARGV[3], 'c', '1', '0-0')
    need('xack', 'xack', KEYS[1], ARGV[3], '0-1')
    need('xdel', 'xdel', KEYS[1], '0-1')
    need('xadd', 'xadd', KEYS[2], '*', 'e', 'x')
    need('multi', 'multi')
    need('exec', 'exec')
  end
else
  need('time', 'time')
  need('get', 'get', KEYS[1])
  need('set', 'set', KEYS[1], '1', 'PX', '1000')
  need('hmget', 'hmget', KEYS[2], 'w')
  need('hset', 'hset', KEYS[2], 'w', '1')
  need('pexpire', 'pexpire', KEYS[2], '1000')
end
return missing
";

/// Checks at start-up that the Redis user may run every command the fleet needs on its keys,
/// and fails with [`IngestErrorKind::Config`] naming each one it may not.
pub(crate) async fn check_permissions(conn: &Conn, config: &FleetConfig, role: Role) -> Result<(), IngestError> {
    let script = redis::Script::new(ACL_LUA);
    let role_arg = if role == Role::Worker { "worker" } else { "producer" };
    let mut missing: Vec<String> = Vec::new();
    let mut slots = vec![("stream", config.stream.clone(), config.dead_stream())];
    if role == Role::Worker {
        slots.push((
            "budget",
            config.budget_key.clone(),
            format!("{}:learned", config.budget_key),
        ));
    }
    for (part, first, second) in slots {
        let reply: redis::RedisResult<Vec<String>> = script
            .key(&first)
            .key(&second)
            .arg(part)
            .arg(role_arg)
            .arg(&config.group)
            .arg(if config.replicas.is_some() { "wait" } else { "" })
            .invoke_async(&mut conn.clone())
            .await;
        match reply {
            Ok(names) if names.iter().any(|n| n == "?") => {
                tracing::debug!("trophy fleet: this Redis cannot check ACLs from a script (before 7.0); skipped");
            }
            Ok(names) => missing.extend(names),
            Err(e) if e.code() == Some("NOPERM") => {
                let detail = e.detail().unwrap_or_default().to_string();
                let command = ["evalsha", "script|load", "eval"]
                    .into_iter()
                    .find(|c| detail.contains(&format!("'{c}'")))
                    .unwrap_or("evalsha");
                missing.push(format!("{command} ({detail})"));
            }
            Err(e) => return Err(redis_error(config, "checking the Redis user's permissions", &e)),
        }
    }
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    Err(IngestError::new(
        IngestErrorKind::Config,
        format!(
            "the Redis user may not run {} on the fleet's keys ({}, {}): grant the rules in \
             \"Redis users and ACLs\" of the trophy::ingest::fleet docs ({})",
            missing.join(", "),
            config.stream,
            config.budget_key,
            describe(config)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tags_follow_redis_cluster_rules() {
        assert_eq!(hash_tag("{trophy}:events"), Some("trophy"));
        assert_eq!(hash_tag("a{b}c{d}"), Some("b"));
        assert_eq!(hash_tag("{}:events"), None);
        assert_eq!(hash_tag("trophy:events"), None);
        assert_eq!(hash_tag("x{y"), None);
    }

    #[test]
    fn a_cluster_fleet_without_hash_tags_is_a_config_error() {
        let config = FleetConfig::cluster(["redis://127.0.0.1:7000/"]).stream("events");
        let e = check_keys(&config).unwrap_err();
        assert_eq!(e.kind(), IngestErrorKind::Config);
        assert!(e.message().contains("\"events\" needs a hash tag"), "{e}");
        assert!(check_keys(&FleetConfig::cluster(["redis://127.0.0.1:7000/"])).is_ok());
        assert!(check_keys(&FleetConfig::new("redis://127.0.0.1:6379/").stream("events")).is_ok());
    }

    #[test]
    fn passwords_never_reach_messages_or_debug() {
        let config = FleetConfig::cluster(["redis://u:s3cret@a:1/", "redis://u:s3cret@b:2/"])
            .client_certificate(b"CERT".to_vec(), b"KEY-s3cret".to_vec());
        assert_eq!(
            describe(&config),
            "Redis Cluster at redis://<redacted>@a:1/, redis://<redacted>@b:2/"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }
}
