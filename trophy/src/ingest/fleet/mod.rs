//! The fleet backend of an [`Ingester`]: producers (ingesters built with
//! [`IngestBuilder::fleet`]) in any number of processes append events to a Redis Stream; fleet
//! [`Worker`]s in any number of processes read it through one consumer group, batch, deliver, and
//! acknowledge each event only after Trophy accepted its batch. One tier-1 budget, kept in
//! Redis, paces every worker, so the fleet as a whole stays within Trophy's 5 requests/s.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use trophy::api::admin::events::BatchEvent;
//! use trophy::ingest::fleet::FleetConfig;
//! use trophy::ingest::Ingester;
//!
//! // No client-side rate limit: the fleet budget is the limit.
//! let client = trophy::Client::new(std::env::var("TROPHY_ADMIN_KEY")?)?;
//! let config = FleetConfig::new("redis://127.0.0.1:6379/");
//! // In each app server, the same calls as in memory (a producer needs no client:
//! // `Ingester::fleet_producer(config)` is the same):
//! let ingester = Ingester::builder(&client).fleet(config.clone()).build().await?;
//! let key = ingester.send(BatchEvent::new("words-written", "user-1", 750.0)).await?;
//! // In one or more worker processes:
//! let worker = Ingester::builder(&client).fleet(config).worker().await?;
//! // ... until the process should stop:
//! let report = worker.shutdown(std::time::Duration::from_secs(5)).await;
//! println!("{key}; delivered {}", report.stats.delivered);
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! - **Produce.** [`Ingester::send`] checks the event, gives it its idempotency key (kept
//!   if set) and `XADD`s it (field `e`, the event as JSON). Once `send` returns, the event is in
//!   Redis: as durable as Redis is configured to be (with `appendonly yes` and
//!   `appendfsync always`, on disk). While the stream holds `max_pending` entries or more,
//!   `send` waits and `try_send` hands the event back.
//! - **Consume.** Each [`Worker`] reads entries ahead with `XREADGROUP` under its own
//!   consumer name (at most the delivery's `capacity`) and feeds them to the ingester's
//!   batching and delivery engine (configured by the builder's [`IngestConfig`], by default
//!   [`FleetConfig::default_delivery`]),
//!   which takes one slot of the fleet budget per request; only after Trophy answered 2xx are
//!   the batch's entries acknowledged (`XACK` and `XDEL` in one `MULTI`). Faults are retried
//!   without limit of attempts until the give-up age; a batch Trophy refuses is split until
//!   each bad event is alone, and those go to the `<stream>:dead` stream.
//! - **Dead workers.** Every second each worker runs `XAUTOCLAIM` for entries pending longer
//!   than `claim_idle` under any consumer, and delivers them: the entries of a worker that died
//!   are sent again by another, with the same keys, so Trophy counts each once.
//! - **Budget.** The fleet's pacer lives in Redis: a GCRA in one Lua script (`TIME`, `GET`,
//!   `SET`, atomic in Redis) hands out send times spaced `1 / rate` apart across all workers,
//!   where the rate is the crate's adaptive rate ("Rate limits and pacing" in the
//!   [crate docs](crate)) computed from a hash at `<budget_key>:learned` that every worker's
//!   429s update (another script). One worker's 429 slows the whole fleet; after a worker dies,
//!   the survivors' turns come at the same fleet rate, so they use the whole budget. A 429
//!   never leaves a worker idle longer than its `Retry-After` and its next turn.
//! - **Redis down or restarting.** Producers fail at once with [`IngestErrorKind::Unavailable`],
//!   or, with [`WhenUnavailable::Wait`], retry for up to the given time first. Workers log and
//!   retry; they never acknowledge what Trophy has not accepted. Entries that Redis kept across
//!   its restart are delivered; a Redis without persistence loses what it held, which is why
//!   the README recommends AOF for fleet mode.
//!
//! # TLS
//!
//! A `rediss://` URL speaks TLS (rustls). The server is verified against the platform's roots,
//! or against [`FleetConfig::ca_certificate`] / [`ca_certificate_file`](FleetConfig::ca_certificate_file);
//! [`client_certificate`](FleetConfig::client_certificate) adds a client certificate for mutual
//! TLS. A certificate that does not verify fails the connection with
//! [`IngestErrorKind::Unavailable`] ("did not verify"); TLS settings with a `redis://` URL are a
//! [`IngestErrorKind::Config`] error: the fleet never falls back to plain text.
//!
//! redis-rs builds its TLS set-up from rustls's process-wide crypto provider. When the
//! application installed none, the fleet installs the one trophy's TLS feature chose (the
//! default `rustls`: aws-lc-rs, as reqwest's own default; `rustls-ring`: ring) before its first
//! `rediss://` connection. With `rustls-no-provider` (or no TLS feature), install one first.
//!
//! ```no_run
//! # use trophy::ingest::fleet::FleetConfig;
//! let config = FleetConfig::new("rediss://fleet:secret@redis.internal:6380/")
//!     .ca_certificate_file("/etc/trophy/redis-ca.pem")
//!     .client_certificate_files("/etc/trophy/client.pem", "/etc/trophy/client-key.pem");
//! ```
//!
//! # Redis users and ACLs
//!
//! A user and password go in the URL: `redis://user:password@host:6379/` (messages and
//! `Debug` never show the password). [`FleetConfig::acl_rules`] gives the least such a user
//! needs: the fleet's four keys, no channels, and these commands: `ping`, `cluster|slots`,
//! `xadd`, `xlen`, `xrange`, `xgroup|create`, `xreadgroup`, `xautoclaim`, `xack`, `xdel`,
//! `multi`, `exec`, `wait`, `evalsha`, `script|load`, and, called by the budget's Lua
//! scripts, `time`, `get`, `set`, `hmget`, `hset`, `pexpire`. With the default keys:
//!
//! ```text
//! ACL SETUSER fleet on >secret resetkeys ~{trophy}:events ~{trophy}:events:dead
//!   ~{trophy}:budget:tier1 ~{trophy}:budget:tier1:learned resetchannels -@all +ping
//!   +cluster|slots +xadd +xlen +xrange +xgroup|create +xreadgroup +xautoclaim +xack +xdel
//!   +multi +exec +wait +evalsha +script|load +time +get +set +hmget +hset +pexpire
//! ```
//!
//! At start-up, producers and workers ask Redis (7.0 or later, `redis.acl_check_cmd` in a
//! script) whether their user may run each command they need on the fleet's keys, and fail
//! with [`IngestErrorKind::Config`] naming every one it may not ("the Redis user may not run
//! xautoclaim …"), instead of failing later in the middle of a delivery.
//!
//! # Redis Cluster
//!
//! [`FleetConfig::cluster`] takes seed nodes; the client learns the slots from them and
//! follows `MOVED` and `ASK` redirections. Every key of a fleet carries one hash tag (the
//! defaults: `{trophy}:events`, `{trophy}:events:dead`, `{trophy}:budget:tier1`,
//! `{trophy}:budget:tier1:learned`), so a fleet lives in one slot: its transactions and
//! scripts never cross slots. [`FleetConfig::fleet`] names a fleet (`{trophy:orders}:…`), so
//! several fleets spread over the cluster's masters. In cluster mode a stream or budget key
//! without a hash tag is a [`IngestErrorKind::Config`] error.
//!
//! # Failover
//!
//! While a master is down and until its replica is promoted, producers fail at once or wait
//! ([`WhenUnavailable`]) as for a Redis that is down; workers retry and resume on the new
//! master, where the consumer group and its pending entries were replicated. What holds:
//!
//! | | without [`wait_for_replicas`](FleetConfig::wait_for_replicas) | with `wait_for_replicas(1, t)` |
//! |---|---|---|
//! | an event whose `send` returned | kept, unless the master died before replicating it (Redis replicates asynchronously: a window of about a network round trip) | kept: `send` returned only after a replica had it |
//! | an event delivered to Trophy whose acknowledgement the master lost | delivered again after the failover, with the same key: Trophy counts it once | the same |
//! | an event whose `send` failed | handed back; when an append was tried, with the key it was appended under (the append may have landed, its reply lost): sending it again is counted once | the same; a `WAIT` that times out is such a failure, and leaves the entry in the stream to be delivered as well (the key makes the two count once) |
//! | cost | one round trip per `send` | one round trip plus the replica's acknowledgement (see BENCHMARKS.md) |
//!
//! `wait_for_replicas` prefers durability to availability: while the stream's master has
//! fewer replicas connected than asked for (after a failover, until the old master is back
//! as a replica), every append waits its timeout and fails as if Redis were down. Run two
//! replicas per master to keep accepting events through one failover with `WAIT 1`.
//!
//! With a single Redis node, the same holds with "restart" for "failover", given AOF with
//! `appendfsync always` (see the README).

use super::dispatch::Source;
use super::engine::{Keyed, Report};
use super::error as durable;
use super::pacer::{FleetPace, Pace};
use super::stats::{BackendStats, Counters, FleetStats, FlushReport, IngestStats, ShutdownReport, Sizes};
use super::{DeadLetter, IngestConfig, IngestError, IngestErrorKind};
#[cfg(doc)]
use super::{IngestBuilder, Ingester};

mod link;
use crate::api::admin::events::BatchEvent;
use crate::Client;
pub(crate) use link::Conn;
use link::{connect, redis_error, Role};
use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

/// What a producer does when Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenUnavailable {
    /// Fail the `send` at once with [`IngestErrorKind::Unavailable`].
    Fail,
    /// Retry for up to this long, then fail.
    Wait(Duration),
}

/// Where the fleet's stream, group and budget live, and how workers batch.
#[derive(Clone)]
#[non_exhaustive]
pub struct FleetConfig {
    /// `redis://[user:password@]host:port/db`, or `rediss://…` for TLS; for a cluster
    /// ([`FleetConfig::cluster`]), its first seed.
    pub redis_url: String,
    /// The stream key. Default `{trophy}:events`.
    pub stream: String,
    /// The consumer group. Default `trophy-ingest`.
    pub group: String,
    /// The key of the shared tier-1 budget. Default `{trophy}:budget:tier1`.
    pub budget_key: String,
    /// Requests per second for the whole fleet. Default 5 (Trophy's tier 1).
    pub requests_per_second: f64,
    /// Requests the budget lets through at once after a quiet spell. Default 1.
    pub burst: u32,
    /// A worker's delivery settings: the builder's, or [`FleetConfig::default_delivery`].
    pub(crate) delivery: IngestConfig,
    /// Entries pending this long under a consumer are taken over by another. Default 30 s.
    pub claim_idle: Duration,
    /// Producers wait while the stream holds this many entries. Default 1,000,000.
    pub max_pending: u64,
    /// What a producer does when Redis is down. Default `Wait(10 s)`.
    pub when_unavailable: WhenUnavailable,
    /// The consumer name of a worker. Default: host-pid-random.
    pub consumer: Option<String>,
    /// Redis Cluster: the seed nodes (empty: one node at `redis_url`).
    pub(crate) seeds: Vec<String>,
    pub(crate) cluster: bool,
    /// CA and client certificate for `rediss://`.
    pub(crate) tls: link::TlsFiles,
    /// An append counts once this many replicas have it (`WAIT`), within the timeout.
    pub(crate) replicas: Option<(u32, Duration)>,
}

impl std::fmt::Debug for FleetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<String> = self.urls().iter().map(|u| link::redact(u)).collect();
        f.debug_struct("FleetConfig")
            .field("redis", &urls)
            .field("cluster", &self.cluster)
            .field("tls_ca", &self.tls.ca)
            .field(
                "tls_client_certificate",
                &self.tls.client.as_ref().map(|(cert, _)| cert),
            )
            .field("stream", &self.stream)
            .field("group", &self.group)
            .field("budget_key", &self.budget_key)
            .field("requests_per_second", &self.requests_per_second)
            .field("burst", &self.burst)
            .field("delivery", &self.delivery)
            .field("claim_idle", &self.claim_idle)
            .field("max_pending", &self.max_pending)
            .field("when_unavailable", &self.when_unavailable)
            .field("consumer", &self.consumer)
            .field("wait_for_replicas", &self.replicas)
            .finish()
    }
}

impl FleetConfig {
    /// The defaults, with Redis at `redis_url`.
    pub fn new(redis_url: impl Into<String>) -> Self {
        FleetConfig {
            redis_url: redis_url.into(),
            stream: "{trophy}:events".into(),
            group: "trophy-ingest".into(),
            budget_key: "{trophy}:budget:tier1".into(),
            requests_per_second: 5.0,
            burst: 1,
            delivery: FleetConfig::default_delivery(),
            claim_idle: Duration::from_secs(30),
            max_pending: 1_000_000,
            when_unavailable: WhenUnavailable::Wait(Duration::from_secs(10)),
            consumer: None,
            seeds: Vec::new(),
            cluster: false,
            tls: link::TlsFiles::default(),
            replicas: None,
        }
    }

    /// The defaults, on a Redis Cluster reached through any of `seeds` (`redis://` or
    /// `rediss://` URLs of some of its nodes, all with the same user and password). The client
    /// learns the cluster's layout from them and follows `MOVED` and `ASK` redirections and
    /// failovers. Every key of a fleet must carry a hash tag (the defaults and
    /// [`FleetConfig::fleet`] do), so that a fleet lives in one slot.
    pub fn cluster<I, S>(seeds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let seeds: Vec<String> = seeds.into_iter().map(Into::into).collect();
        let mut config = FleetConfig::new(seeds.first().cloned().unwrap_or_default());
        config.seeds = seeds;
        config.cluster = true;
        config
    }

    /// Names the fleet: its keys become `{trophy:<name>}:events` (stream),
    /// `{trophy:<name>}:events:dead` and `{trophy:<name>}:budget:tier1` (budget), all under
    /// one hash tag, so that in a cluster each fleet lives in one slot and several fleets
    /// spread over the cluster. Fleets that call Trophy with the same key should share one
    /// budget: set the same [`budget_key`](FleetConfig::budget_key) after this.
    #[must_use]
    pub fn fleet(mut self, name: &str) -> Self {
        self.stream = format!("{{trophy:{name}}}:events");
        self.budget_key = format!("{{trophy:{name}}}:budget:tier1");
        self
    }

    /// Verifies the server of a `rediss://` URL against this CA (PEM; several certificates may
    /// follow each other) instead of the platform's roots.
    #[must_use]
    pub fn ca_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.ca = Some(link::Pem::Bytes(pem.into()));
        self
    }

    /// Like [`ca_certificate`](FleetConfig::ca_certificate), read from a PEM file when the
    /// fleet connects.
    #[must_use]
    pub fn ca_certificate_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls.ca = Some(link::Pem::File(path.into()));
        self
    }

    /// Mutual TLS: presents this certificate chain and private key (PEM) to the server.
    #[must_use]
    pub fn client_certificate(mut self, chain_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        self.tls.client = Some((link::Pem::Bytes(chain_pem.into()), link::Pem::Bytes(key_pem.into())));
        self
    }

    /// Like [`client_certificate`](FleetConfig::client_certificate), read from PEM files when
    /// the fleet connects.
    #[must_use]
    pub fn client_certificate_files(
        mut self,
        chain: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.tls.client = Some((link::Pem::File(chain.into()), link::Pem::File(key.into())));
        self
    }

    /// An append counts (and `send` returns) only once `replicas` replicas of the stream's
    /// master have it, waiting at most `timeout` (Redis's `WAIT`); otherwise the append is
    /// treated as Redis being unavailable (see [`WhenUnavailable`]: a retry appends the event
    /// again with the same idempotency key, which Trophy counts once). Without it (the
    /// default), an append that a master acknowledged and lost in a failover before
    /// replicating it is lost. See "Failover" in the [module docs](self).
    #[must_use]
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replicas = (replicas > 0).then_some((replicas, timeout));
        self
    }

    /// The least a Redis ACL user needs to run this fleet (producers and workers), as rules
    /// for `ACL SETUSER <name> on ><password> <rules>` or a `user` line of an ACL file: only
    /// the fleet's four keys, no channels, and only the commands it sends (those its Lua
    /// scripts call included; `cluster|slots` for a cluster client to learn the layout).
    /// A worker checks at start-up that its user may run each of them, and fails naming
    /// those it may not. See "Redis users and ACLs" in the [module docs](self).
    ///
    /// ```
    /// # use trophy::ingest::fleet::FleetConfig;
    /// let rules = FleetConfig::new("redis://fleet:secret@127.0.0.1:6379/").acl_rules();
    /// assert!(rules.starts_with("resetkeys ~{trophy}:events ~{trophy}:events:dead"));
    /// assert!(rules.contains(" +xautoclaim "));
    /// ```
    pub fn acl_rules(&self) -> String {
        let budget = &self.budget_key;
        format!(
            "resetkeys ~{stream} ~{dead} ~{budget} ~{budget}:learned resetchannels -@all {commands}",
            stream = self.stream,
            dead = self.dead_stream(),
            commands = ACL_COMMANDS
                .iter()
                .map(|c| format!("+{c}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }

    /// The URLs to reach Redis by.
    pub(crate) fn urls(&self) -> Vec<String> {
        if self.cluster {
            self.seeds.clone()
        } else {
            vec![self.redis_url.clone()]
        }
    }

    /// Sets the stream key (and so the dead-letter stream, `<stream>:dead`).
    #[must_use]
    pub fn stream(mut self, key: impl Into<String>) -> Self {
        self.stream = key.into();
        self
    }

    /// Sets the consumer group.
    #[must_use]
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = name.into();
        self
    }

    /// Sets the budget's key (workers sharing a key share the budget).
    #[must_use]
    pub fn budget_key(mut self, key: impl Into<String>) -> Self {
        self.budget_key = key.into();
        self
    }

    /// Sets the fleet's requests per second and burst.
    #[must_use]
    pub fn budget(mut self, requests_per_second: f64, burst: u32) -> Self {
        self.requests_per_second = requests_per_second;
        self.burst = burst;
        self
    }

    /// A worker's delivery settings when the builder is given none: as for the in-memory
    /// ingester, but capacity 2,000 (for a worker, `capacity` bounds the entries it holds read
    /// ahead: keep it small, as entries read ahead wait under this worker's name), 2 batches
    /// in flight, linger 50 ms. The fleet's budget replaces the client's limiter.
    pub fn default_delivery() -> IngestConfig {
        IngestConfig::default()
            .capacity(2 * super::MAX_BATCH)
            .max_in_flight(2)
            .linger(Duration::from_millis(50))
    }

    /// Sets `claim_idle`.
    #[must_use]
    pub fn claim_idle(mut self, d: Duration) -> Self {
        self.claim_idle = d;
        self
    }

    /// Sets `max_pending`.
    #[must_use]
    pub fn max_pending(mut self, n: u64) -> Self {
        self.max_pending = n;
        self
    }

    /// Sets what producers do when Redis is down.
    #[must_use]
    pub fn when_unavailable(mut self, w: WhenUnavailable) -> Self {
        self.when_unavailable = w;
        self
    }

    /// Sets the worker's consumer name (unique per live worker).
    #[must_use]
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = Some(name.into());
        self
    }

    fn check(&self) -> Result<(), IngestError> {
        let bad = |m: &str| Err(IngestError::new(IngestErrorKind::Config, m));
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) || self.burst == 0 {
            return bad("the budget needs a positive, finite rate and a burst of at least 1");
        }
        if self.max_pending == 0 {
            return bad("max_pending must be at least 1");
        }
        if [&self.stream, &self.group, &self.budget_key]
            .iter()
            .any(|s| s.is_empty())
        {
            return bad("stream, group and budget_key must not be empty");
        }
        link::check_keys(self)
    }

    fn dead_stream(&self) -> String {
        format!("{}:dead", self.stream)
    }
}

/// The fleet backend of an ingester: appends events to the fleet's stream; cheap to clone.
#[derive(Clone)]
pub(crate) struct Producer {
    conn: Conn,
    config: Arc<FleetConfig>,
    /// The stream length seen last, and when.
    length: Arc<Mutex<(u64, Option<Instant>)>>,
    /// The id of the last entry this producer (and its clones) appended.
    last_id: Arc<Mutex<Option<(u64, u64)>>>,
    closed: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

/// Every command a fleet process sends, scripts' commands included (see
/// [`FleetConfig::acl_rules`]).
const ACL_COMMANDS: &[&str] = &[
    "ping",
    "cluster|slots",
    "xadd",
    "xlen",
    "xrange",
    "xgroup|create",
    "xreadgroup",
    "xautoclaim",
    "xack",
    "xdel",
    "multi",
    "exec",
    "wait",
    "evalsha",
    "script|load",
    "time",
    "get",
    "set",
    "hmget",
    "hset",
    "pexpire",
];

/// How often producers re-read the stream's length for backpressure.
const LENGTH_EVERY: Duration = Duration::from_millis(100);

/// A stream entry id, `<ms>-<seq>`, as numbers (ordered as Redis orders them).
fn entry_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

impl Producer {
    /// Connects to Redis. Fails with [`IngestErrorKind::Unavailable`] when it cannot be reached.
    pub(crate) async fn connect(config: FleetConfig) -> Result<Producer, IngestError> {
        config.check()?;
        // A `WAIT` may take its whole timeout before the answer comes.
        let waited = config.replicas.map_or(Duration::ZERO, |(_, timeout)| timeout);
        let conn = connect(&config, Duration::from_secs(2) + waited).await?;
        link::check_permissions(&conn, &config, Role::Producer).await?;
        Ok(Producer {
            conn,
            config: Arc::new(config),
            length: Arc::new(Mutex::new((0, None))),
            last_id: Arc::new(Mutex::new(None)),
            closed: Arc::new(AtomicBool::new(false)),
            counters: Arc::new(Counters::new(crate::observability::Backend::Fleet)),
        })
    }

    /// Appends the event to the stream and returns its idempotency key once Redis has it.
    /// Waits while the stream is full, and while Redis is down if so configured.
    pub(crate) async fn send(&self, event: BatchEvent) -> Result<String, IngestError> {
        let result = self.append(event, true).await;
        self.counters.counted(result)
    }

    /// Like [`send`](Self::send), but hands the event back at once when the stream is full.
    pub(crate) async fn try_send(&self, event: BatchEvent) -> Result<String, IngestError> {
        let result = self.append(event, false).await;
        self.counters.counted(result)
    }

    async fn append(&self, event: BatchEvent, wait: bool) -> Result<String, IngestError> {
        let had_key = event.idempotency_key.is_some();
        let (event, bytes) = durable::prepare(event)?;
        // Once an append was tried, the entry may be in the stream (a reply lost with the
        // connection, a `WAIT` that timed out after the append): the event then goes back with
        // the key it was appended under, so that sending it again is counted once.
        let mut tried = false;
        let reject = |event, tried, error| Err(durable::rejected(event, had_key || tried, error));
        if self.closed.load(Ordering::Relaxed) {
            return reject(
                event,
                tried,
                IngestError::new(IngestErrorKind::Closed, "the ingester is shut down"),
            );
        }
        let started = Instant::now();
        let mut backoff = Duration::from_millis(50);
        loop {
            let result = match self.room(wait).await {
                Ok(()) => {
                    tried = true;
                    self.xadd(&bytes).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(id) => {
                    if let Some(id) = entry_id(&id) {
                        let mut last = self.last_id.lock().unwrap_or_else(|p| p.into_inner());
                        *last = (*last).max(Some(id));
                    }
                    return Ok(event.idempotency_key.clone().unwrap_or_default());
                }
                Err(e) if e.kind() == IngestErrorKind::Unavailable => match self.config.when_unavailable {
                    WhenUnavailable::Wait(limit) if started.elapsed() < limit => {
                        tracing::debug!(error = %e, "trophy fleet: Redis unavailable; waiting");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                    _ => return reject(event, tried, e),
                },
                Err(e) => return reject(event, tried, e),
            }
        }
    }

    /// One `XADD` (with `WAIT` when the configuration asks for replicas); the entry's id.
    async fn xadd(&self, bytes: &[u8]) -> Result<String, IngestError> {
        let config = &self.config;
        let Some((replicas, timeout)) = config.replicas else {
            return self
                .conn
                .clone()
                .xadd::<_, _, _, _, String>(&config.stream, "*", &[("e", bytes)])
                .await
                .map_err(|e| redis_error(config, "appending an event", &e));
        };
        let mut pipe = redis::pipe();
        pipe.xadd(&config.stream, "*", &[("e", bytes)])
            .cmd("WAIT")
            .arg(replicas)
            .arg(timeout.as_millis() as u64);
        let (id, acked): (String, u32) = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_error(config, "appending an event", &e))?;
        if acked < replicas {
            return Err(IngestError::new(
                IngestErrorKind::Unavailable,
                format!(
                    "appended as {id}, but only {acked} of {replicas} replicas confirmed it within {timeout:?} \
                     ({})",
                    link::describe(config)
                ),
            ));
        }
        Ok(id)
    }

    /// Waits (or fails with `Full`) while the stream holds `max_pending` entries.
    async fn room(&self, wait: bool) -> Result<(), IngestError> {
        loop {
            let (known, fresh) = {
                let guard = self.length.lock().unwrap_or_else(|p| p.into_inner());
                (guard.0, guard.1.is_some_and(|at| at.elapsed() < LENGTH_EVERY))
            };
            let length = if fresh { known } else { self.stream_length().await? };
            if length < self.config.max_pending {
                return Ok(());
            }
            if !wait {
                return Err(IngestError::new(
                    IngestErrorKind::Full,
                    format!("the stream {} holds {length} entries", self.config.stream),
                ));
            }
            tokio::time::sleep(LENGTH_EVERY).await;
        }
    }

    /// The stream's length now (remembered for backpressure and [`stats`](Self::stats)).
    async fn stream_length(&self) -> Result<u64, IngestError> {
        let n: u64 = self
            .conn
            .clone()
            .xlen(&self.config.stream)
            .await
            .map_err(|e| redis_error(&self.config, "reading the stream length", &e))?;
        *self.length.lock().unwrap_or_else(|p| p.into_inner()) = (n, Some(Instant::now()));
        self.counters.metrics.stored(n, 0);
        Ok(n)
    }

    /// Waits until no entry this producer appended before the call is left in the stream
    /// (workers delete an entry once it is delivered or dead-lettered), or until `deadline`:
    /// then the stream's length, an upper bound of what is pending (0: all are done).
    pub(crate) async fn flush_until(&self, deadline: Option<Instant>) -> Result<usize, IngestError> {
        let Some(target) = *self.last_id.lock().unwrap_or_else(|p| p.into_inner()) else {
            return Ok(0);
        };
        loop {
            let oldest: redis::streams::StreamRangeReply = self
                .conn
                .clone()
                .xrange_count(&self.config.stream, "-", "+", 1)
                .await
                .map_err(|e| redis_error(&self.config, "reading the stream", &e))?;
            let done = oldest
                .ids
                .first()
                .and_then(|entry| entry_id(&entry.id))
                .is_none_or(|oldest| oldest > target);
            if done {
                return Ok(0);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| d <= now) {
                return Ok(self.stream_length().await?.max(1) as usize);
            }
            let nap = now + Duration::from_millis(50);
            tokio::time::sleep_until(deadline.map_or(nap, |d| d.min(nap))).await;
        }
    }

    pub(crate) async fn flush_within(&self, within: Duration) -> Result<FlushReport, IngestError> {
        let pending = self.flush_until(Some(super::later(Instant::now(), within))).await?;
        Ok(FlushReport {
            pending,
            stats: self.stats(),
        })
    }

    /// Stops intake, waits at most `within` for the workers to deliver what this producer
    /// appended, and reports the stream's length.
    pub(crate) async fn shutdown(&self, within: Duration) -> ShutdownReport {
        self.closed.store(true, Ordering::Relaxed);
        let _ = self.flush_until(Some(super::later(Instant::now(), within))).await;
        let left = match self.stream_length().await {
            Ok(n) => n,
            Err(_) => self.length.lock().unwrap_or_else(|p| p.into_inner()).0,
        };
        ShutdownReport {
            undelivered: Vec::new(),
            left_in_store: left,
            stats: self.stats(),
        }
    }

    pub(crate) fn stats(&self) -> IngestStats {
        let length = self.length.lock().unwrap_or_else(|p| p.into_inner()).0;
        self.counters.stats(Sizes {
            queued: length as usize,
            in_flight: 0,
            oldest: None,
            send_rate: 0.0,
            backend: BackendStats::Fleet(FleetStats {
                stream_length: length,
                consumer: None,
            }),
        })
    }
}

/// A fleet worker: delivers what the fleet's producers append, within the fleet's budget;
/// started by [`IngestBuilder::worker`]. See the [module docs](self).
pub struct Worker {
    source: Arc<RedisSource>,
    pace: Arc<FleetPace>,
    counters: Arc<Counters>,
    task: Option<tokio::task::JoinHandle<Vec<Keyed>>>,
    reader: tokio::task::JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("consumer", &self.source.consumer)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Worker {
    /// Connects to Redis, creates the consumer group if needed (reading the stream from its
    /// start) and starts delivering. Must be called inside a Tokio runtime.
    ///
    /// Each request takes a slot of the fleet's budget (in Redis), not of the client's own
    /// limiter.
    pub(crate) async fn start(
        client: Client,
        mut config: FleetConfig,
        delivery: IngestConfig,
    ) -> Result<Worker, IngestError> {
        config.delivery = delivery;
        config.check()?;
        let block = Duration::from_millis(200);
        let reader = connect(&config, block + Duration::from_secs(2)).await?;
        let control = connect(&config, Duration::from_secs(2)).await?;
        link::check_permissions(&control, &config, Role::Worker).await?;
        let consumer = config.consumer.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
            format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
        });
        let source = Arc::new(RedisSource {
            control,
            consumer,
            claim: Mutex::new(ClaimState {
                cursor: "0-0".into(),
                last: None,
            }),
            buffer: Mutex::new(Buffer::default()),
            work: Notify::new(),
            room: Notify::new(),
            closed: AtomicBool::new(false),
            length: Arc::new(AtomicU64::new(0)),
            config: config.clone(),
            metrics: crate::observability::Ingest::new(crate::observability::Backend::Fleet),
        });
        source.ensure_group().await?;
        let counters = Arc::new(Counters::new(crate::observability::Backend::Fleet));
        let pace = Arc::new(FleetPace::new(
            source.control.clone(),
            source.consumer.clone(),
            config.budget_key.clone(),
            config.requests_per_second,
            config.burst,
        ));
        let (task, stop) = config
            .delivery
            .spawn_over(&client, source.clone(), counters.clone(), pace.clone() as Arc<dyn Pace>)
            .map_err(IngestError::config)?;
        let reader = tokio::spawn(read_ahead(source.clone(), reader, block));
        Ok(Worker {
            source,
            pace,
            counters,
            task: Some(task),
            reader,
            stop,
        })
    }

    /// This worker's consumer name in the group.
    pub fn consumer(&self) -> &str {
        &self.source.consumer
    }

    /// The fleet's sending rate at this worker's last turn, in requests per second: what the
    /// workers learned together, in Redis (see "Rate limits and pacing" in the crate docs).
    /// (The same as `stats().send_rate`.)
    pub fn send_rate(&self) -> f64 {
        self.pace.rate()
    }

    /// What this worker delivered so far, and what it holds.
    pub fn stats(&self) -> IngestStats {
        let (queued, in_flight, oldest) = {
            let buf = self.source.buffer();
            let queued = buf.entries.len();
            let oldest = buf.entries.front().map(|k| k.enqueued.elapsed());
            (queued, buf.ids.len().saturating_sub(queued), oldest)
        };
        self.counters.stats(Sizes {
            queued,
            in_flight,
            oldest,
            send_rate: self.pace.rate(),
            backend: BackendStats::Fleet(FleetStats {
                stream_length: self.source.length.load(Ordering::Relaxed),
                consumer: Some(self.source.consumer.clone()),
            }),
        })
    }

    /// Stops reading, delivers what it read for at most `deadline`, and reports. Entries it
    /// could not finish stay pending in the group, for another worker to claim after
    /// `claim_idle` ([`ShutdownReport::left_in_store`] counts them).
    pub async fn shutdown(mut self, deadline: Duration) -> ShutdownReport {
        let until = Instant::now() + deadline;
        self.source.closed.store(true, Ordering::Relaxed);
        self.source.work.notify_one();
        self.source.room.notify_one();
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout_at(until, &mut task).await.is_err() {
                self.stop.send_replace(true);
                let _ = task.await;
            }
        }
        // Acknowledgements handed off by finished batches, within what is left of the deadline
        // (an entry whose acknowledgement never lands is claimed and sent again, same key).
        let pending = std::mem::take(&mut self.source.buffer().acks);
        for mut ack in pending {
            if tokio::time::timeout_at(until, &mut ack).await.is_err() {
                ack.abort();
            }
        }
        let left_in_store = self.source.buffer().ids.len() as u64;
        ShutdownReport {
            undelivered: Vec::new(),
            left_in_store,
            stats: self.stats(),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.reader.abort();
        if let Some(task) = self.task.take() {
            tracing::warn!(
                consumer = %self.source.consumer,
                "trophy fleet worker dropped without shutdown: its pending entries are claimed by another worker after claim_idle"
            );
            self.stop.send_replace(true);
            task.abort();
        }
    }
}

/// Keeps up to the delivery's `capacity` entries read ahead, so batches are ready when a slot
/// of the budget comes.
async fn read_ahead(source: Arc<RedisSource>, mut conn: Conn, block: Duration) {
    let capacity = source.config.delivery.capacity_hint();
    let max = source.config.delivery.batch_size();
    loop {
        if source.closed.load(Ordering::Relaxed) {
            return;
        }
        let held = source.buffer().entries.len();
        if held >= capacity {
            let room = source.room.notified();
            tokio::select! {
                _ = room => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            continue;
        }
        let want = (capacity - held).min(max);
        let claimed = match source.claim(want).await {
            Ok(entries) => entries,
            Err(e) => {
                source.pause_after("claiming idle entries", &e).await;
                Vec::new()
            }
        };
        let entries = if claimed.is_empty() {
            match source.read(&mut conn, want, block).await {
                Ok(entries) => entries,
                Err(e) => {
                    source.pause_after("reading the stream", &e).await;
                    continue;
                }
            }
        } else {
            claimed
        };
        if !entries.is_empty() {
            source.push(entries).await;
        }
    }
}

struct ClaimState {
    cursor: String,
    last: Option<Instant>,
}

/// Entries read and not yet taken, and the stream ids of the events taken.
#[derive(Default)]
struct Buffer {
    entries: VecDeque<Keyed>,
    ids: HashMap<u64, String>,
    next_ticket: u64,
    acks: Vec<tokio::task::JoinHandle<()>>,
}

/// The stream as the delivery loop sees it.
struct RedisSource {
    control: Conn,
    consumer: String,
    claim: Mutex<ClaimState>,
    buffer: Mutex<Buffer>,
    /// Wakes the dispatch loop.
    work: Notify,
    /// Wakes the reader when entries were taken.
    room: Notify,
    closed: AtomicBool,
    config: FleetConfig,
    metrics: crate::observability::Ingest,
    /// The stream's length after this worker's last acknowledgement.
    length: Arc<AtomicU64>,
}

/// How often a worker looks for entries left by dead workers.
const CLAIM_EVERY: Duration = Duration::from_secs(1);

#[derive(serde::Serialize)]
struct StoredDead<'a> {
    event: Option<&'a BatchEvent>,
    status: Option<u16>,
    message: &'a str,
}

impl RedisSource {
    fn buffer(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn ensure_group(&self) -> Result<(), IngestError> {
        let created: redis::RedisResult<()> = self
            .control
            .clone()
            .xgroup_create_mkstream(&self.config.stream, &self.config.group, "0")
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => {
                Err(redis_error(&self.config, "creating the consumer group", &e))
            }
            _ => Ok(()),
        }
    }

    /// Entries pending too long under any consumer, taken over by this one.
    async fn claim(&self, max: usize) -> redis::RedisResult<Vec<StreamId>> {
        let cursor = {
            let mut st = self.claim.lock().unwrap_or_else(|p| p.into_inner());
            if st.last.is_some_and(|at| at.elapsed() < CLAIM_EVERY) {
                return Ok(Vec::new());
            }
            st.last = Some(Instant::now());
            st.cursor.clone()
        };
        let idle = self.config.claim_idle.as_millis() as u64;
        let reply: StreamAutoClaimReply = self
            .control
            .clone()
            .xautoclaim_options(
                &self.config.stream,
                &self.config.group,
                &self.consumer,
                idle,
                &cursor,
                StreamAutoClaimOptions::default().count(max),
            )
            .await?;
        let mut st = self.claim.lock().unwrap_or_else(|p| p.into_inner());
        st.cursor = reply.next_stream_id;
        if st.cursor != "0-0" {
            // More to claim: look again at once.
            st.last = None;
        }
        if !reply.claimed.is_empty() {
            tracing::info!(
                consumer = %self.consumer,
                claimed = reply.claimed.len(),
                "trophy fleet: took over entries of an idle consumer"
            );
            self.metrics.takeovers(reply.claimed.len());
        }
        Ok(reply.claimed)
    }

    async fn read(&self, conn: &mut Conn, max: usize, block: Duration) -> redis::RedisResult<Vec<StreamId>> {
        let options = StreamReadOptions::default()
            .group(&self.config.group, &self.consumer)
            .count(max)
            .block(block.as_millis().max(1) as usize);
        let reply: Option<StreamReadReply> = conn.xread_options(&[&self.config.stream], &[">"], &options).await?;
        Ok(reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default())
    }

    /// Buffers the events of `entries`; entries that hold none go to the dead stream at once.
    async fn push(&self, entries: Vec<StreamId>) {
        let now = Instant::now();
        let mut bad = Vec::new();
        {
            let mut buf = self.buffer();
            for entry in entries {
                let event = match entry.map.get("e") {
                    Some(redis::Value::BulkString(bytes)) => {
                        serde_json::from_slice::<BatchEvent>(bytes).map_err(|e| format!("entry does not decode: {e}"))
                    }
                    _ => Err("entry has no field `e`".to_string()),
                };
                match event {
                    Ok(event) if event.idempotency_key.is_some() => {
                        let ticket = buf.next_ticket;
                        buf.next_ticket += 1;
                        buf.ids.insert(ticket, entry.id);
                        buf.entries.push_back(Keyed {
                            event,
                            enqueued: now,
                            ticket,
                        });
                    }
                    Ok(_) => bad.push((entry.id, "entry has no idempotency key".to_string())),
                    Err(reason) => bad.push((entry.id, reason)),
                }
            }
        }
        self.work.notify_one();
        if !bad.is_empty() {
            tracing::error!(
                count = bad.len(),
                "trophy fleet: stream entries without an event; moved to the dead stream"
            );
            self.metrics.undecodable(bad.len());
            let ids: Vec<String> = bad.iter().map(|(id, _)| id.clone()).collect();
            let rows: Vec<Vec<u8>> = bad.iter().map(|(_, message)| dead_row(None, None, message)).collect();
            if let Err(e) = self.settle(&ids, &rows).await {
                tracing::warn!(error = %e, "trophy fleet: could not move bad entries aside");
            }
        }
    }

    async fn pause_after(&self, what: &str, e: &redis::RedisError) {
        tracing::warn!(error = %e, consumer = %self.consumer, "trophy fleet: {what} failed; retrying");
        if e.code() == Some("NOGROUP") {
            // Redis lost the group (restarted without persistence): make it again.
            let _ = self.ensure_group().await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    async fn settle(&self, ids: &[String], dead: &[Vec<u8>]) -> Result<(), IngestError> {
        let length = settle(&self.control, &self.config, ids, dead).await?;
        self.length.store(length, Ordering::Relaxed);
        self.metrics.stored(length, 0);
        Ok(())
    }
}

/// Acknowledges and removes entries, and files dead letters, in one transaction; answers the
/// stream's length after it.
async fn settle(control: &Conn, config: &FleetConfig, ids: &[String], dead: &[Vec<u8>]) -> Result<u64, IngestError> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for letter in dead {
        pipe.xadd(config.dead_stream(), "*", &[("e", letter.as_slice())])
            .ignore();
    }
    pipe.xack(&config.stream, &config.group, ids).ignore();
    pipe.xdel(&config.stream, ids).ignore();
    pipe.xlen(&config.stream);
    pipe.query_async::<(u64,)>(&mut control.clone())
        .await
        .map(|(length,)| length)
        .map_err(|e| redis_error(config, "acknowledging entries", &e))
}

fn dead_row(event: Option<&BatchEvent>, status: Option<u16>, message: &str) -> Vec<u8> {
    serde_json::to_vec(&StoredDead { event, status, message }).unwrap_or_default()
}

impl Source for RedisSource {
    fn pending(&self) -> (usize, Option<Instant>) {
        let buf = self.buffer();
        (buf.entries.len(), buf.entries.front().map(|k| k.enqueued))
    }

    fn take(&self, max: usize) -> Vec<Keyed> {
        let taken: Vec<Keyed> = {
            let mut buf = self.buffer();
            let n = buf.entries.len().min(max);
            buf.entries.drain(..n).collect()
        };
        self.room.notify_one();
        taken
    }

    async fn changed(&self) {
        self.work.notified().await
    }

    fn flushing(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    fn finish(&self, report: &Report) {
        if let Some(callback) = self.config.delivery.dead_letter_callback() {
            for (_, letter) in &report.dead {
                callback(letter.clone());
            }
        }
        let (ids, rows) = {
            let mut buf = self.buffer();
            // Undelivered (stopped) entries stay pending in the group for another worker.
            for k in &report.undelivered {
                buf.ids.remove(&k.ticket);
            }
            let mut ids = Vec::new();
            self.metrics
                .acked_stream_ids(report.delivered.iter().filter_map(|k| buf.ids.get(&k.ticket)));
            for k in report.delivered.iter().chain(report.dead.iter().map(|(k, _)| k)) {
                if let Some(id) = buf.ids.remove(&k.ticket) {
                    ids.push(id);
                }
            }
            let rows: Vec<Vec<u8>> = report
                .dead
                .iter()
                .map(|(_, l): &(Keyed, DeadLetter)| dead_row(Some(&l.event), l.status, &l.message))
                .collect();
            (ids, rows)
        };
        if ids.is_empty() {
            return;
        }
        // Acknowledge in the background, retrying: an entry left pending is sent again by a
        // claim (same key, counted once), never lost.
        let (control, config, consumer) = (self.control.clone(), self.config.clone(), self.consumer.clone());
        let metrics = self.metrics.clone();
        let stream_length = self.length.clone();
        let ack = tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match settle(&control, &config, &ids, &rows).await {
                    Ok(length) => {
                        stream_length.store(length, Ordering::Relaxed);
                        return metrics.stored(length, 0);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, consumer = %consumer, "trophy fleet: acknowledging failed; retrying")
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        let mut buf = self.buffer();
        buf.acks.retain(|h| !h.is_finished());
        buf.acks.push(ack);
    }
}
