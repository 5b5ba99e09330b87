//! A real `redis-server` for tests and benchmarks: started on a free loopback port with its own
//! temporary directory, answering before `start` returns, stopped when dropped.
//!
//! Besides the plain server: TLS with certificates made in-process ([`TlsMaterial`],
//! [`RedisServer::start_tls`]), ACL users ([`RedisServer::start_with_acl`]), any mix of them
//! ([`RedisServer::builder`]), and a local Redis Cluster with replicas ([`RedisCluster`]).
//! Everything listens on 127.0.0.1 only and runs without persistence (`--save ''`, no AOF)
//! unless asked for it ([`RedisServer::start_durable`], [`RedisServerBuilder::durable`]).

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// A running `redis-server` (Debian package `redis-server`).
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    tls: Option<ServerTls>,
}

/// The TLS side of a server: where its certificates are and whether clients must show one.
#[derive(Debug, Clone)]
struct ServerTls {
    files: TlsFiles,
    require_client_cert: bool,
}

/// How long a start may take before it is an error.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How long one `redis-cli` command may take before it is killed and an error.
const CLI_LIMIT: Duration = Duration::from_secs(10);

/// The name of the file in a server's directory that gets its standard output and error (its log).
const LOG_FILE: &str = "redis-server.log";

/// What `redis-server` logs once it listens (Redis 6: `Ready to accept connections`; 7:
/// `Ready to accept connections tcp` or `tls`). A start counts only when this server's own log
/// says it, so a `PING` answered by some other process that took the port is not mistaken for it.
const READY_LINE: &str = "Ready to accept connections";

/// How a start fails when the chosen port was taken between [`free_ports`] releasing it and
/// `redis-server` binding it (the log's `bind: Address already in use`).
const PORT_TAKEN: &str = "Address already in use";

/// How many ports a start tries when the port is ours to choose and each one is taken.
const PORT_ATTEMPTS: usize = 5;

/// Runs `start` (which picks its own free ports) again while it fails because a port was
/// taken before `redis-server` bound it, [`PORT_ATTEMPTS`] times at most.
fn retrying_taken_ports<T>(mut start: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let mut attempt = 1;
    loop {
        match start() {
            Err(e) if e.contains(PORT_TAKEN) && attempt < PORT_ATTEMPTS => attempt += 1,
            result => return result,
        }
    }
}

impl RedisServer {
    /// Starts a server without persistence (`--save ''`, no AOF).
    pub fn start() -> Result<RedisServer, String> {
        RedisServer::start_with(&[])
    }

    /// Starts a server with an append-only file fsynced on every write, so a restart keeps
    /// everything Redis acknowledged.
    pub fn start_durable() -> Result<RedisServer, String> {
        RedisServer::builder().durable().start()
    }

    /// Starts a server with extra arguments.
    pub fn start_with(extra: &[&str]) -> Result<RedisServer, String> {
        RedisServer::builder().args(extra).start()
    }

    /// Starts a server that speaks only TLS (`--port 0 --tls-port PORT`), with the server
    /// certificate of `material` (for `127.0.0.1` and `localhost`) and its CA as the CA that
    /// client certificates must chain to; `require_client_cert` is `--tls-auth-clients yes|no`.
    /// No persistence unless `extra` asks for it. [`RedisServer::url`] is then
    /// `rediss://127.0.0.1:PORT/` and [`RedisServer::port`] the TLS port.
    pub fn start_tls(material: &TlsMaterial, require_client_cert: bool, extra: &[&str]) -> Result<RedisServer, String> {
        RedisServer::builder()
            .tls(material, require_client_cert)
            .args(extra)
            .start()
    }

    /// Starts a server with these ACL users, each `(name, password, rules)`, for instance
    /// `("worker", "secret", "~{trophy}* -@all +xadd +xreadgroup +xack")`. They go into an ACL
    /// file (`--aclfile`) as `user NAME on >PASSWORD RULES`; the `default` user stays enabled
    /// without a password (`user default on nopass ~* &* +@all`) unless a user named `default`
    /// is given, so [`RedisServer::ping`] keeps working. Names and passwords may not contain
    /// white space (the ACL file's separator). No persistence.
    pub fn start_with_acl(users: &[(&str, &str, &str)]) -> Result<RedisServer, String> {
        users
            .iter()
            .fold(RedisServer::builder(), |builder, (name, password, rules)| {
                builder.acl_user(name, password, rules)
            })
            .start()
    }

    /// A builder for a server with any mix of TLS, ACL users, a fixed port and extra arguments.
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log_path = self.dir.join(LOG_FILE);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("creating {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("opening {} twice: {e}", log_path.display()))?;
        // A restart appends to the log: only what this start writes counts as its readiness.
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new("redis-server");
        match &self.tls {
            None => {
                cmd.arg("--port").arg(self.port.to_string());
            }
            Some(tls) => {
                cmd.args(["--port", "0", "--tls-port"])
                    .arg(self.port.to_string())
                    .arg("--tls-cert-file")
                    .arg(&tls.files.server_cert)
                    .arg("--tls-key-file")
                    .arg(&tls.files.server_key)
                    .arg("--tls-ca-cert-file")
                    .arg(&tls.files.ca)
                    .arg("--tls-auth-clients")
                    .arg(if tls.require_client_cert { "yes" } else { "no" });
            }
        }
        cmd.arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = cmd.spawn().map_err(|e| {
            format!("cannot start redis-server ({e}): install it (Debian: apt-get install -y redis-server)")
        })?;
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < START_LIMIT {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return Err(format!("redis-server exited at start: {status}; {}", self.log_tail()));
            }
            if self.ping() && self.log_since(log_start).contains(READY_LINE) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server did not answer on port {} within {START_LIMIT:?}; {}",
            self.port,
            self.log_tail()
        ))
    }

    /// What the server's log holds from byte `start` on (empty if it cannot be read).
    fn log_since(&self, start: u64) -> String {
        let bytes = std::fs::read(self.dir.join(LOG_FILE)).unwrap_or_default();
        let start = usize::try_from(start).unwrap_or(usize::MAX).min(bytes.len());
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }

    /// The last lines of the server's log, for error messages.
    fn log_tail(&self) -> String {
        let path = self.dir.join(LOG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(8)..].join("\n  ");
                format!("the end of its log ({}):\n  {tail}", path.display())
            }
            Err(e) => format!("no log ({}: {e})", path.display()),
        }
    }

    /// `redis://127.0.0.1:PORT/`, or `rediss://127.0.0.1:PORT/` for a TLS server.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}/", self.scheme(), self.port)
    }

    /// The URL of an ACL user: `redis://USER:PASSWORD@127.0.0.1:PORT/` (`rediss://` for a TLS
    /// server), with both percent-encoded.
    pub fn url_as(&self, user: &str, password: &str) -> String {
        format!(
            "{}://{}:{}@127.0.0.1:{}/",
            self.scheme(),
            percent_encode(user),
            percent_encode(password),
            self.port
        )
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        }
    }

    /// The port: the TLS port for a TLS server (which has no plain-text port).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's temporary directory (its data, its log `redis-server.log`, its TLS files
    /// and ACL file), removed when the server is dropped.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a TLS server's certificates and keys are, and the ones it does not trust; `None`
    /// for a plain server.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref().map(|t| &t.files)
    }

    /// Whether the server answers `PING` now: over plain TCP, or for a TLS server through
    /// `redis-cli --tls` with the CA and the client certificate.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls.is_some() {
            drop(s);
            return self.cli(&["PING"]).is_ok_and(|reply| reply == "PONG");
        }
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// The `redis-cli` options that reach this server as the `default` user: `-h 127.0.0.1 -p
    /// PORT`, and for a TLS server `--tls --cacert CA --cert CLIENT --key CLIENT_KEY`.
    pub fn cli_args(&self) -> Vec<String> {
        let mut args = vec![
            "-h".to_string(),
            "127.0.0.1".to_string(),
            "-p".to_string(),
            self.port.to_string(),
        ];
        if let Some(tls) = &self.tls {
            args.push("--tls".to_string());
            for (flag, path) in [
                ("--cacert", &tls.files.ca),
                ("--cert", &tls.files.client_cert),
                ("--key", &tls.files.client_key),
            ] {
                args.push(flag.to_string());
                args.push(path.display().to_string());
            }
        }
        args
    }

    /// Runs one command through `redis-cli` ([`RedisServer::cli_args`], `-e`): its raw reply
    /// (arrays one element a line), or an error naming the command and what `redis-cli` said,
    /// error replies included. Killed after 10 s.
    pub fn cli(&self, command: &[&str]) -> Result<String, String> {
        let mut args = self.cli_args();
        args.push("-e".to_string());
        args.extend(command.iter().map(|s| s.to_string()));
        redis_cli(&args)
    }

    /// Kills the server (SIGKILL: nothing is saved but what the AOF already holds).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port and directory (and the same TLS
    /// files and ACL file).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    /// Whether the server was started and not killed since.
    fn is_started(&self) -> bool {
        self.child.is_some()
    }

    /// The server's process id while it runs (`None` once killed).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How to start a [`RedisServer`]: from [`RedisServer::builder`], started by
/// [`RedisServerBuilder::start`]. Without persistence unless [`RedisServerBuilder::durable`].
#[derive(Debug, Default, Clone)]
pub struct RedisServerBuilder {
    port: Option<u16>,
    tls: Option<(TlsMaterial, bool)>,
    acl: Vec<AclUser>,
    args: Vec<String>,
}

/// One line of an ACL file.
#[derive(Debug, Clone)]
struct AclUser {
    name: String,
    password: String,
    rules: String,
}

impl RedisServerBuilder {
    /// Listens on this port instead of a free one found at start (for a TLS server: the TLS
    /// port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// TLS only, as [`RedisServer::start_tls`].
    pub fn tls(mut self, material: &TlsMaterial, require_client_cert: bool) -> Self {
        self.tls = Some((material.clone(), require_client_cert));
        self
    }

    /// One more ACL user, as in [`RedisServer::start_with_acl`].
    pub fn acl_user(mut self, name: &str, password: &str, rules: &str) -> Self {
        self.acl.push(AclUser {
            name: name.to_string(),
            password: password.to_string(),
            rules: rules.to_string(),
        });
        self
    }

    /// Extra `redis-server` arguments, after the harness's own.
    pub fn args(mut self, extra: &[&str]) -> Self {
        self.args.extend(extra.iter().map(|s| s.to_string()));
        self
    }

    /// An append-only file fsynced on every write, so a restart keeps everything Redis
    /// acknowledged.
    pub fn durable(self) -> Self {
        self.args(&["--appendonly", "yes", "--appendfsync", "always"])
    }

    /// Writes the directory's files (TLS, ACL), starts the server and waits until it answers.
    /// When the port is the harness's to choose and another process takes it before
    /// `redis-server` binds it, the start is tried again on a new port (5 ports at most).
    pub fn start(self) -> Result<RedisServer, String> {
        match self.port {
            Some(port) => self.start_on(port),
            None => retrying_taken_ports(|| self.clone().start_on(free_port()?)),
        }
    }

    fn start_on(self, port: u16) -> Result<RedisServer, String> {
        let acl = if self.acl.is_empty() {
            None
        } else {
            Some(acl_file(&self.acl)?)
        };
        let dir = std::env::temp_dir().join(format!("trophy-redis-{}-{port}", std::process::id()));
        // A directory left by an earlier process with the same id would bring back its data.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            args: self.args,
            tls: None,
        };
        if let Some((material, require_client_cert)) = &self.tls {
            server.tls = Some(ServerTls {
                files: material.write_to(&server.dir)?,
                require_client_cert: *require_client_cert,
            });
        }
        if let Some(text) = acl {
            let path = server.dir.join("users.acl");
            write_file(&path, text.as_bytes())?;
            server.args.push("--aclfile".to_string());
            server.args.push(path.display().to_string());
        }
        server.spawn()?;
        Ok(server)
    }
}

/// The text of an ACL file for these users, with an open `default` user unless one is given.
fn acl_file(users: &[AclUser]) -> Result<String, String> {
    let mut text = String::new();
    if !users.iter().any(|u| u.name == "default") {
        text.push_str("user default on nopass ~* &* +@all\n");
    }
    for user in users {
        for (what, value) in [("name", &user.name), ("password", &user.password)] {
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "ACL user {:?}: the {what} must be non-empty, without white space (the ACL file's separator)",
                    user.name
                ));
            }
        }
        if user.rules.chars().any(|c| c == '\n' || c == '\r') {
            return Err(format!("ACL user {:?}: the rules must be on one line", user.name));
        }
        text.push_str(&format!("user {} on >{} {}\n", user.name, user.password, user.rules));
    }
    Ok(text)
}

/// Percent-encodes everything but RFC 3986's unreserved characters (for a URL's user info).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Certificates and keys for TLS tests, made in-process with `rcgen` (ECDSA P-256, valid from
/// 1975 to 4096): a CA, a server certificate for `127.0.0.1` (IP SAN) and `localhost` (DNS SAN)
/// signed by it, a client certificate signed by it (mutual TLS), and a second, unrelated CA with
/// its own client certificate (for "wrong CA" failures). All as PEM.
#[derive(Clone)]
pub struct TlsMaterial {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
    wrong_ca: String,
    wrong_client_cert: String,
    wrong_client_key: String,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial").finish_non_exhaustive()
    }
}

/// A CA's self-signed certificate (PEM) and what signs with its key.
fn new_ca(name: &str) -> Result<(String, Issuer<'static, KeyPair>), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// A certificate (PEM) and its key (PKCS#8 PEM) for these names, signed by `issuer`.
fn new_leaf(
    name: &str,
    subject_alt_names: &[&str],
    usages: &[ExtendedKeyUsagePurpose],
    issuer: &Issuer<'static, KeyPair>,
) -> Result<(String, String), rcgen::Error> {
    let sans: Vec<String> = subject_alt_names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = usages.to_vec();
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

impl TlsMaterial {
    /// Makes a fresh set (a few milliseconds).
    pub fn generate() -> Result<TlsMaterial, String> {
        let made = || -> Result<TlsMaterial, rcgen::Error> {
            use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
            let (ca, issuer) = new_ca("trophy test CA")?;
            // ClientAuth too: a cluster node or replica shows it as its client certificate
            // (`--tls-replication`, `--tls-cluster`).
            let (server_cert, server_key) = new_leaf(
                "trophy test redis-server",
                &["127.0.0.1", "localhost"],
                &[ServerAuth, ClientAuth],
                &issuer,
            )?;
            let (client_cert, client_key) = new_leaf("trophy test client", &[], &[ClientAuth], &issuer)?;
            let (wrong_ca, wrong_issuer) = new_ca("unrelated test CA")?;
            let (wrong_client_cert, wrong_client_key) =
                new_leaf("client of the unrelated CA", &[], &[ClientAuth], &wrong_issuer)?;
            Ok(TlsMaterial {
                ca,
                server_cert,
                server_key,
                client_cert,
                client_key,
                wrong_ca,
                wrong_client_cert,
                wrong_client_key,
            })
        };
        made().map_err(|e| format!("generating test certificates with rcgen: {e}"))
    }

    /// The CA's certificate (PEM): what a client trusts.
    pub fn ca_pem(&self) -> &[u8] {
        self.ca.as_bytes()
    }

    /// The server certificate (PEM), for `127.0.0.1` and `localhost`, signed by the CA.
    pub fn server_cert_pem(&self) -> &[u8] {
        self.server_cert.as_bytes()
    }

    /// The server certificate's private key (PKCS#8 PEM).
    pub fn server_key_pem(&self) -> &[u8] {
        self.server_key.as_bytes()
    }

    /// The client certificate (PEM), signed by the CA: what a client shows for mutual TLS.
    pub fn client_cert_pem(&self) -> &[u8] {
        self.client_cert.as_bytes()
    }

    /// The client certificate's private key (PKCS#8 PEM).
    pub fn client_key_pem(&self) -> &[u8] {
        self.client_key.as_bytes()
    }

    /// The certificate (PEM) of a second CA that signed nothing the server uses: trusting only
    /// it, a client must refuse the server.
    pub fn wrong_ca_pem(&self) -> &[u8] {
        self.wrong_ca.as_bytes()
    }

    /// A client certificate (PEM) signed by the second CA: a server requiring client
    /// certificates must refuse it.
    pub fn wrong_client_cert_pem(&self) -> &[u8] {
        self.wrong_client_cert.as_bytes()
    }

    /// The private key (PKCS#8 PEM) of [`TlsMaterial::wrong_client_cert_pem`].
    pub fn wrong_client_key_pem(&self) -> &[u8] {
        self.wrong_client_key.as_bytes()
    }

    /// Writes every certificate and key into `dir` (`ca.crt`, `server.crt`, `server.key`,
    /// `client.crt`, `client.key`, `wrong-ca.crt`, `wrong-client.crt`, `wrong-client.key`).
    pub fn write_to(&self, dir: &Path) -> Result<TlsFiles, String> {
        let files = TlsFiles {
            ca: dir.join("ca.crt"),
            server_cert: dir.join("server.crt"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
            wrong_ca: dir.join("wrong-ca.crt"),
            wrong_client_cert: dir.join("wrong-client.crt"),
            wrong_client_key: dir.join("wrong-client.key"),
        };
        for (path, pem) in [
            (&files.ca, &self.ca),
            (&files.server_cert, &self.server_cert),
            (&files.server_key, &self.server_key),
            (&files.client_cert, &self.client_cert),
            (&files.client_key, &self.client_key),
            (&files.wrong_ca, &self.wrong_ca),
            (&files.wrong_client_cert, &self.wrong_client_cert),
            (&files.wrong_client_key, &self.wrong_client_key),
        ] {
            write_file(path, pem.as_bytes())?;
        }
        Ok(files)
    }
}

/// Where [`TlsMaterial::write_to`] put each PEM file.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA's certificate.
    pub ca: PathBuf,
    /// The server certificate (`127.0.0.1`, `localhost`).
    pub server_cert: PathBuf,
    /// The server certificate's key.
    pub server_key: PathBuf,
    /// The client certificate, signed by the CA.
    pub client_cert: PathBuf,
    /// The client certificate's key.
    pub client_key: PathBuf,
    /// The unrelated CA's certificate.
    pub wrong_ca: PathBuf,
    /// A client certificate signed by the unrelated CA.
    pub wrong_client_cert: PathBuf,
    /// That client certificate's key.
    pub wrong_client_key: PathBuf,
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    File::create(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// A loopback port nothing listens on now.
pub fn free_port() -> Result<u16, String> {
    Ok(free_ports(1)?[0])
}

/// `count` different loopback ports nothing listens on now (all bound at once, then released).
pub fn free_ports(count: usize) -> Result<Vec<u16>, String> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|e| format!("no free port: {e}"))
        })
        .collect()
}

/// Runs `redis-cli` with these arguments (Debian package `redis-tools`, which `redis-server`
/// depends on), killed after 10 s: its standard output without the trailing newline if it
/// exits 0, else an error with the arguments, the exit status and what it printed. Add `-e`
/// for an error reply to be a failure.
pub fn redis_cli<S: AsRef<str>>(args: &[S]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
    let (status, stdout, stderr) = run_bounded("redis-cli", &args, CLI_LIMIT)?;
    if status.success() {
        Ok(stdout.trim_end().to_string())
    } else {
        Err(format!(
            "redis-cli {} failed ({status}): {} {}",
            args.join(" "),
            stderr.trim(),
            stdout.trim()
        ))
    }
}

/// Runs a program to its end or `limit` (then kills it): its exit status, standard output and
/// standard error.
fn run_bounded(program: &str, args: &[&str], limit: Duration) -> Result<(ExitStatus, String, String), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program} ({e}): install it (Debian: apt-get install -y redis-server)"))?;
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read_all(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = read_all(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{program} {} did not finish within {limit:?}", args.join(" ")));
            }
            Err(e) => return Err(format!("waiting for {program}: {e}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok((status, stdout, stderr))
}

/// A local Redis Cluster: `masters × (1 + replicas)` `redis-server` processes on loopback, each
/// with its own port, cluster bus port (`--cluster-port`, chosen free rather than port + 10000),
/// temporary directory and `nodes-PORT.conf`, without persistence, node timeout 1 s. Nodes are
/// known by their index, 0-based, in start order; which of them are masters is up to
/// `redis-cli --cluster create`. A full sync starts at once (`--repl-diskless-sync-delay 0`).
/// Dropping it kills every node and removes their directories.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    masters: usize,
    replicas_per_master: usize,
    /// The slot ranges each node killed by [`RedisCluster::kill`] served as a master.
    killed_slots: HashMap<usize, Vec<(u16, u16)>>,
}

/// How long `redis-cli --cluster create` and the wait for a formed cluster may take.
const CLUSTER_LIMIT: Duration = Duration::from_secs(30);

/// The number of hash slots of Redis Cluster.
const SLOTS: u16 = 16384;

/// One line of `CLUSTER NODES`.
#[derive(Debug)]
struct NodeLine {
    port: u16,
    flags: Vec<String>,
    slots: Vec<(u16, u16)>,
}

impl NodeLine {
    fn is_live_master(&self) -> bool {
        self.flags.iter().any(|f| f == "master") && !self.flags.iter().any(|f| f == "fail" || f == "noaddr")
    }

    fn serves(&self, first: u16, last: u16) -> bool {
        self.slots.iter().any(|&(a, b)| a <= first && last <= b)
    }
}

/// Parses `CLUSTER NODES`: `id ip:port@bus[,hostname] flags master ping pong epoch link slots…`.
fn parse_cluster_nodes(text: &str) -> Vec<NodeLine> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let address = fields[1].split(['@', ',']).next()?;
            let port = address.rsplit(':').next()?.parse().ok()?;
            let slots = fields[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|a| (a, a)),
                })
                .collect();
            Some(NodeLine {
                port,
                flags: fields[2].split(',').map(str::to_string).collect(),
                slots,
            })
        })
        .collect()
}

/// The value of `field` in an `INFO`-style reply (`field:value` lines).
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(str::trim)
}

impl RedisCluster {
    /// Starts `masters` masters (at least 3) with `replicas_per_master` replicas each, and waits
    /// until every node reports `cluster_state:ok`, knows every other node, and every master
    /// has its replicas connected and synchronised.
    pub fn start(masters: usize, replicas_per_master: usize) -> Result<RedisCluster, String> {
        RedisCluster::launch(masters, replicas_per_master, None)
    }

    /// As [`RedisCluster::start`], with TLS only: clients, replication (`--tls-replication`)
    /// and the cluster bus (`--tls-cluster`), every node with `material`'s server certificate
    /// and client certificates required. [`RedisCluster::seed_urls`] are then `rediss://`.
    pub fn start_tls(
        masters: usize,
        replicas_per_master: usize,
        material: &TlsMaterial,
    ) -> Result<RedisCluster, String> {
        RedisCluster::launch(masters, replicas_per_master, Some(material))
    }

    fn launch(masters: usize, replicas_per_master: usize, tls: Option<&TlsMaterial>) -> Result<RedisCluster, String> {
        if masters < 3 {
            return Err(format!(
                "a Redis Cluster needs at least 3 masters (redis-cli --cluster create refuses {masters})"
            ));
        }
        let count = masters * (1 + replicas_per_master);
        let mut nodes = Vec::with_capacity(count);
        while nodes.len() < count {
            let node = retrying_taken_ports(|| RedisCluster::start_node(tls))
                .map_err(|e| format!("starting cluster node {}: {e}", nodes.len()))?;
            nodes.push(node);
        }
        let cluster = RedisCluster {
            nodes,
            masters,
            replicas_per_master,
            killed_slots: HashMap::new(),
        };
        cluster.create()?;
        cluster.wait_until_formed()?;
        Ok(cluster)
    }

    /// Starts one node on two new free ports (clients, cluster bus), not yet in a cluster.
    fn start_node(tls: Option<&TlsMaterial>) -> Result<RedisServer, String> {
        let pair = free_ports(2)?;
        let (port, bus_port) = (pair[0].to_string(), pair[1].to_string());
        let config = format!("nodes-{port}.conf");
        let mut builder = RedisServer::builder().port(pair[0]).args(&[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &config,
            "--cluster-node-timeout",
            "1000",
            "--cluster-port",
            &bus_port,
            "--appendonly",
            "no",
            // Redis 7 waits 5 s by default for more replicas before a full sync.
            "--repl-diskless-sync-delay",
            "0",
        ]);
        if let Some(material) = tls {
            builder = builder
                .tls(material, true)
                .args(&["--tls-cluster", "yes", "--tls-replication", "yes"]);
        }
        builder
            .start()
            .map_err(|e| format!("port {port}, cluster bus {bus_port}: {e}"))
    }

    /// `redis-cli --cluster create` over every node.
    fn create(&self) -> Result<(), String> {
        let mut args: Vec<String> = vec!["--cluster".to_string(), "create".to_string()];
        args.extend(self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        args.push("--cluster-replicas".to_string());
        args.push(self.replicas_per_master.to_string());
        args.push("--cluster-yes".to_string());
        // The TLS options without -h/-p (the first four of cli_args).
        args.extend(self.nodes[0].cli_args().into_iter().skip(4));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, stdout, stderr) = run_bounded("redis-cli", &args, CLUSTER_LIMIT)?;
        if status.success() && stdout.contains("[OK] All 16384 slots covered") {
            Ok(())
        } else {
            Err(format!(
                "redis-cli {} failed ({status}):\n{stdout}\n{stderr}",
                args.join(" ")
            ))
        }
    }

    /// Waits until [`RedisCluster::formed`] holds.
    fn wait_until_formed(&self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let why = match self.formed() {
                Ok(()) => return Ok(()),
                Err(why) => why,
            };
            if started.elapsed() > CLUSTER_LIMIT {
                return Err(format!("the cluster did not form within {CLUSTER_LIMIT:?}: {why}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether every node says `cluster_state:ok`, knows every node and sees every master
    /// serving slots, there are `masters` masters, each with its replicas connected, and every
    /// replica's link to its master is up; else what is not so yet.
    fn formed(&self) -> Result<(), String> {
        let count = self.nodes.len();
        let mut masters = 0;
        for (i, node) in self.nodes.iter().enumerate() {
            let info = node.cli(&["CLUSTER", "INFO"])?;
            for (field, want) in [
                ("cluster_state", "ok".to_string()),
                ("cluster_known_nodes", count.to_string()),
                ("cluster_size", self.masters.to_string()),
            ] {
                let have = info_field(&info, field).unwrap_or("none");
                if have != want {
                    return Err(format!("node {i} says {field}:{have}, not {want}"));
                }
            }
            let replication = node.cli(&["INFO", "replication"])?;
            match info_field(&replication, "role") {
                Some("master") => {
                    masters += 1;
                    let connected = info_field(&replication, "connected_slaves").unwrap_or("none");
                    if connected != self.replicas_per_master.to_string() {
                        return Err(format!(
                            "master node {i} has {connected} replicas connected, not {}",
                            self.replicas_per_master
                        ));
                    }
                }
                Some("slave") => {
                    let link = info_field(&replication, "master_link_status").unwrap_or("none");
                    let syncing = info_field(&replication, "master_sync_in_progress").unwrap_or("none");
                    if link != "up" || syncing != "0" {
                        return Err(format!(
                            "replica node {i}: master_link_status:{link}, master_sync_in_progress:{syncing}"
                        ));
                    }
                }
                other => return Err(format!("node {i} says role:{}", other.unwrap_or("none"))),
            }
        }
        if masters != self.masters {
            return Err(format!("{masters} nodes are masters, not {}", self.masters));
        }
        Ok(())
    }

    /// How many nodes the cluster has (killed ones included).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Node `index`, to read its port or URL or send it a command.
    pub fn node(&self, index: usize) -> Option<&RedisServer> {
        self.nodes.get(index)
    }

    /// Runs one command on node `index` through `redis-cli`, as [`RedisServer::cli`] (no
    /// redirections followed: ask the slot's master).
    pub fn cli(&self, index: usize, command: &[&str]) -> Result<String, String> {
        self.nodes
            .get(index)
            .ok_or_else(|| format!("no cluster node {index} (there are {})", self.nodes.len()))?
            .cli(command)
    }

    /// `redis://127.0.0.1:PORT/` (`rediss://` with TLS) for every node, in index order.
    pub fn seed_urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The hash slot of `key` (CRC16-XMODEM mod 16384 of the key, or of its hash tag: the text
    /// between the first `{` and the first `}` after it, when not empty), as `CLUSTER KEYSLOT`.
    pub fn key_slot(key: &str) -> u16 {
        let bytes = key.as_bytes();
        let hashed = match bytes.iter().position(|&b| b == b'{') {
            Some(open) => match bytes[open + 1..].iter().position(|&b| b == b'}') {
                Some(len) if len > 0 => &bytes[open + 1..open + 1 + len],
                _ => bytes,
            },
            None => bytes,
        };
        crc16(hashed) % SLOTS
    }

    /// The node index of the live master serving `slot`, as the first node that answers sees
    /// it (during a failover, nodes may disagree for a moment); `None` if no node answers or
    /// none serves it.
    pub fn master_for_slot(&self, slot: u16) -> Option<usize> {
        self.nodes
            .iter()
            .filter(|n| n.is_started())
            .find_map(|n| n.cli(&["CLUSTER", "NODES"]).ok())
            .and_then(|text| {
                parse_cluster_nodes(&text)
                    .into_iter()
                    .find(|line| line.is_live_master() && line.serves(slot, slot))
            })
            .and_then(|line| self.index_of_port(line.port))
    }

    /// The indices of the nodes that are masters serving slots now, as the first node that
    /// answers sees it.
    pub fn masters(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .filter(|n| n.is_started())
            .find_map(|n| n.cli(&["CLUSTER", "NODES"]).ok())
            .map(|text| {
                let mut masters: Vec<usize> = parse_cluster_nodes(&text)
                    .iter()
                    .filter(|line| line.is_live_master() && !line.slots.is_empty())
                    .filter_map(|line| self.index_of_port(line.port))
                    .collect();
                masters.sort_unstable();
                masters
            })
            .unwrap_or_default()
    }

    fn index_of_port(&self, port: u16) -> Option<usize> {
        self.nodes.iter().position(|n| n.port == port)
    }

    /// Moves `slot` from the master serving it to master `to`, as `redis-cli --cluster reshard`
    /// would: `SETSLOT IMPORTING`/`MIGRATING`, then `MIGRATE` of its keys one at a time with
    /// `pause` between them (while the slot is half moved, clients get `ASK` for the keys
    /// already moved and `TRYAGAIN` for work on both), then `SETSLOT NODE` on every master
    /// (from then on, clients of the old master get `MOVED`). Returns the keys moved.
    pub fn migrate_slot(&self, slot: u16, to: usize, pause: Duration) -> Result<usize, String> {
        let from = self
            .master_for_slot(slot)
            .ok_or_else(|| format!("no master serves slot {slot}"))?;
        if from == to {
            return Err(format!("node {to} already serves slot {slot}"));
        }
        let id = |i: usize| -> Result<String, String> { Ok(self.cli(i, &["CLUSTER", "MYID"])?.trim().to_string()) };
        let (from_id, to_id) = (id(from)?, id(to)?);
        let slot_arg = slot.to_string();
        let to_port = self.nodes[to].port.to_string();
        self.cli(to, &["CLUSTER", "SETSLOT", &slot_arg, "IMPORTING", &from_id])?;
        self.cli(from, &["CLUSTER", "SETSLOT", &slot_arg, "MIGRATING", &to_id])?;
        let mut moved = 0;
        loop {
            let keys = self.cli(from, &["CLUSTER", "GETKEYSINSLOT", &slot_arg, "1"])?;
            let Some(key) = keys.lines().map(str::trim).find(|k| !k.is_empty()) else {
                break;
            };
            let key = key.to_string();
            self.cli(from, &["MIGRATE", "127.0.0.1", &to_port, &key, "0", "5000"])?;
            moved += 1;
            std::thread::sleep(pause);
        }
        for master in self.masters().into_iter().chain([from, to]) {
            self.cli(master, &["CLUSTER", "SETSLOT", &slot_arg, "NODE", &to_id])?;
        }
        Ok(moved)
    }

    /// Kills node `index` with SIGKILL, first noting the slots it serves if it is a master (for
    /// [`RedisCluster::wait_for_failover`]). Nothing happens for an unknown index.
    pub fn kill(&mut self, index: usize) {
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        if node.is_started() {
            let slots = node
                .cli(&["CLUSTER", "NODES"])
                .map(|text| {
                    parse_cluster_nodes(&text)
                        .into_iter()
                        .find(|line| line.flags.iter().any(|f| f == "myself"))
                        .filter(|line| line.flags.iter().any(|f| f == "master"))
                        .map(|line| line.slots)
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            self.killed_slots.insert(index, slots);
        }
        node.kill();
    }

    /// Starts a killed node again on its port and directory: with its `nodes-PORT.conf` it
    /// rejoins the cluster (a failed-over master comes back as a replica).
    pub fn restart(&mut self, index: usize) -> Result<(), String> {
        let node = self
            .nodes
            .get_mut(index)
            .ok_or_else(|| format!("no cluster node {index}"))?;
        node.restart()?;
        self.killed_slots.remove(&index);
        Ok(())
    }

    /// After [`RedisCluster::kill`] of master `old_master`: waits until every surviving node
    /// says `cluster_state:ok` and sees all of its slots served by one and the same other node,
    /// which says it is a master (its promoted replica); returns that node's index. With the
    /// 1 s node timeout this takes about 2 to 4 s.
    pub fn wait_for_failover(&self, old_master: usize, timeout: Duration) -> Result<usize, String> {
        let ranges = match self.killed_slots.get(&old_master) {
            Some(ranges) if !ranges.is_empty() => ranges,
            Some(_) => return Err(format!("node {old_master} served no slots when it was killed")),
            None => return Err(format!("node {old_master} was not killed by RedisCluster::kill")),
        };
        let started = Instant::now();
        loop {
            let why = match self.failed_over(old_master, ranges) {
                Ok(new_master) => return Ok(new_master),
                Err(why) => why,
            };
            if started.elapsed() > timeout {
                return Err(format!(
                    "no replica took over the slots of node {old_master} within {timeout:?}: {why}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node serving `ranges` instead of `old_master` in the view of every surviving node,
    /// or what is not so yet.
    fn failed_over(&self, old_master: usize, ranges: &[(u16, u16)]) -> Result<usize, String> {
        let mut owner = None;
        for (i, node) in self.nodes.iter().enumerate() {
            if i == old_master || !node.is_started() {
                continue;
            }
            let info = node.cli(&["CLUSTER", "INFO"])?;
            let state = info_field(&info, "cluster_state").unwrap_or("none");
            if state != "ok" {
                return Err(format!("node {i} says cluster_state:{state}"));
            }
            let lines = parse_cluster_nodes(&node.cli(&["CLUSTER", "NODES"])?);
            for &(first, last) in ranges {
                let line = lines
                    .iter()
                    .find(|line| line.is_live_master() && line.serves(first, last))
                    .ok_or_else(|| format!("node {i} sees no live master for slots {first}-{last}"))?;
                let index = self
                    .index_of_port(line.port)
                    .ok_or_else(|| format!("node {i} sees slots {first}-{last} on unknown port {}", line.port))?;
                if index == old_master {
                    return Err(format!(
                        "node {i} still sees node {old_master} serving slots {first}-{last}"
                    ));
                }
                match owner {
                    Some(o) if o != index => {
                        return Err(format!("nodes disagree: slots {first}-{last} on node {o} or {index}"));
                    }
                    _ => owner = Some(index),
                }
            }
        }
        let new_master = owner.ok_or("no surviving node answered")?;
        let role = self.nodes[new_master].cli(&["ROLE"])?;
        if role.lines().next() != Some("master") {
            return Err(format!("node {new_master} is not a master yet (ROLE: {role:?})"));
        }
        Ok(new_master)
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        // Every node down first, so none spends the teardown failing over; each node's own
        // drop then removes its directory.
        for node in &mut self.nodes {
            node.kill();
        }
    }
}

/// CRC16-XMODEM (polynomial 0x1021, initial value 0), the hash of Redis Cluster's key slots.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}
