//! The client and its configuration.

use crate::config::{RateLimits, RetryConfig, Timeouts};
use crate::error::{Error, Result};
use crate::ratelimit::RateLimiter;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::sync::Arc;

/// Default base URL of the Application API.
pub const DEFAULT_API_URL: &str = "https://api.trophy.so/v1";
/// Default base URL of the Admin API.
pub const DEFAULT_ADMIN_URL: &str = "https://admin.trophy.so/v1";
/// The Trophy API version this SDK's documents describe, sent as `X-SDK-VERSION`.
pub const API_VERSION: &str = "1.27.0";
/// The default `User-Agent`: `trophy-rs/<crate version>`.
pub const USER_AGENT: &str = concat!("trophy-rs/", env!("CARGO_PKG_VERSION"));

/// A Trophy API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(pub(crate) HeaderValue);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    fn parse(key: &str) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::invalid("api_key", "must not be empty"));
        }
        let mut value = HeaderValue::from_str(key)
            .map_err(|_| Error::invalid("api_key", "contains characters not allowed in an HTTP header"))?;
        value.set_sensitive(true);
        Ok(ApiKey(value))
    }

    pub(crate) fn is_application_key(&self) -> bool {
        self.0.as_bytes().starts_with(b"app_")
    }
}

/// A client of both Trophy APIs.
///
/// Cheap to clone (one `Arc`), `Send + Sync`; all clones share one connection pool, one set of
/// rate-limit buckets and one configuration.
///
/// ```no_run
/// # async fn run() -> Result<(), trophy::Error> {
/// let client = trophy::Client::new("your-api-key")?;
/// let user = client.users().get("user-id").send().await?;
/// println!("{:?}", user.email);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) api_key: ApiKey,
    pub(crate) app_url: String,
    pub(crate) admin_url: String,
    pub(crate) tenant_id: Option<HeaderValue>,
    pub(crate) default_headers: HeaderMap,
    pub(crate) user_agent: HeaderValue,
    pub(crate) retry: RetryConfig,
    pub(crate) timeouts: Timeouts,
    /// Always present, so every clone, and every ingester made from one, takes from the same
    /// buckets; ordinary calls wait on it only when `limit_calls` (the client was built with
    /// [`ClientBuilder::rate_limit`]).
    pub(crate) rate_limiter: RateLimiter,
    pub(crate) limit_calls: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_key", &self.inner.api_key)
            .field("app_url", &self.inner.app_url)
            .field("admin_url", &self.inner.admin_url)
            .field("tenant_id", &self.inner.tenant_id)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .field("rate_limited", &self.inner.limit_calls)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the default configuration for this API key.
    pub fn new(api_key: impl AsRef<str>) -> Result<Self> {
        Self::builder().api_key(api_key).build()
    }

    /// A client configured from the environment: `TROPHY_API_KEY` (required), and optionally
    /// `TROPHY_API_URL`, `TROPHY_ADMIN_URL` and `TROPHY_TENANT_ID`. The same as
    /// `ClientBuilder::from_env().build()`; use [`ClientBuilder::from_env`] to add settings.
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env().build()
    }

    /// A builder for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL of the Application API.
    pub fn api_url(&self) -> &str {
        &self.inner.app_url
    }

    /// The base URL of the Admin API.
    pub fn admin_url(&self) -> &str {
        &self.inner.admin_url
    }
}

/// Builds a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// let client = trophy::Client::builder()
///     .api_key("your-api-key")
///     .tenant_id("customer-42")
///     .timeouts(trophy::Timeouts::default().per_attempt(Duration::from_secs(5)))
///     .retry(trophy::RetryConfig::standard())
///     .rate_limits(trophy::RateLimits::trophy())
///     .build()?;
/// # Ok::<(), trophy::Error>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    api_key: Option<String>,
    app_url: Option<String>,
    admin_url: Option<String>,
    tenant_id: Option<String>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    retry: Option<RetryConfig>,
    timeouts: Option<Timeouts>,
    rate_limit: Option<RateLimits>,
    http: Option<reqwest::Client>,
    /// Built by [`ClientBuilder::from_env`]: a missing key is reported as a missing variable.
    key_from_env: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("app_url", &self.app_url)
            .field("admin_url", &self.admin_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder holding what the environment sets: `TROPHY_API_KEY`, and optionally
    /// `TROPHY_API_URL`, `TROPHY_ADMIN_URL` and `TROPHY_TENANT_ID` (the variables
    /// [`Client::from_env`] reads). Setters called afterwards override them; without
    /// `TROPHY_API_KEY` (and no [`api_key`](Self::api_key) call), [`build`](Self::build) fails
    /// saying so.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use trophy::{ClientBuilder, RateLimits, Timeouts};
    ///
    /// let client = ClientBuilder::from_env()
    ///     .rate_limits(RateLimits::trophy())
    ///     .timeouts(Timeouts::default().per_attempt(Duration::from_secs(5)))
    ///     .build()?;
    /// # Ok::<(), trophy::Error>(())
    /// ```
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        ClientBuilder {
            api_key: var("TROPHY_API_KEY"),
            app_url: var("TROPHY_API_URL"),
            admin_url: var("TROPHY_ADMIN_URL"),
            tenant_id: var("TROPHY_TENANT_ID"),
            key_from_env: true,
            ..ClientBuilder::default()
        }
    }

    /// The API key sent as `X-API-KEY`.
    pub fn api_key(mut self, key: impl AsRef<str>) -> Self {
        self.api_key = Some(key.as_ref().to_string());
        self
    }

    /// One server for both APIs (a local emulator, a proxy): the Application API at
    /// `{root}/v1` and the Admin API at `{root}/admin/v1`. [`api_url`](Self::api_url) and
    /// [`admin_url`](Self::admin_url) set either one on its own; the setter called last wins.
    ///
    /// ```no_run
    /// let client = trophy::Client::builder()
    ///     .api_key("admin-key")
    ///     .base_url("http://127.0.0.1:8787")
    ///     .build()?;
    /// assert_eq!(client.api_url(), "http://127.0.0.1:8787/v1");
    /// assert_eq!(client.admin_url(), "http://127.0.0.1:8787/admin/v1");
    /// # Ok::<(), trophy::Error>(())
    /// ```
    pub fn base_url(mut self, root: impl AsRef<str>) -> Self {
        let root = root.as_ref().trim_end_matches('/');
        self.app_url = Some(format!("{root}/v1"));
        self.admin_url = Some(format!("{root}/admin/v1"));
        self
    }

    /// Base URL of the Application API (default `https://api.trophy.so/v1`).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.app_url = Some(url.into());
        self
    }

    /// Base URL of the Admin API (default `https://admin.trophy.so/v1`).
    pub fn admin_url(mut self, url: impl Into<String>) -> Self {
        self.admin_url = Some(url.into());
        self
    }

    /// `Tenant-ID` sent with every call (a call can override it).
    pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant.into());
        self
    }

    /// An extra header sent with every call.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the `User-Agent` (default `trophy-rs/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Retry settings (default [`RetryConfig::standard`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Timeouts (default [`Timeouts::default`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// Turns on client-side pacing for every call, at these rates.
    ///
    /// The pacers exist whether or not this is called (at [`RateLimits::trophy`] when it is
    /// not): the ingest backends ([`crate::ingest::Ingester`], the outbox) always take their
    /// tier-1 turns from them, and with this setting the client's other calls are paced by the
    /// same pacers (see "Rate limits and pacing" in the crate docs).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limit = Some(limits);
        self
    }

    /// The older name of [`ClientBuilder::rate_limits`].
    #[deprecated(note = "renamed: use `ClientBuilder::rate_limits`")]
    pub fn rate_limit(self, limit: RateLimits) -> Self {
        self.rate_limits(limit)
    }

    /// Uses a caller-supplied HTTP client (its connection pool, proxy and TLS settings). The
    /// connect timeout of [`Timeouts`] then does not apply: set it on that client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        let key = self.api_key.ok_or_else(|| {
            Error::Config(if self.key_from_env {
                "TROPHY_API_KEY is not set".into()
            } else {
                "no API key: call .api_key(..)".into()
            })
        })?;
        let api_key = ApiKey::parse(&key)?;
        let timeouts = self.timeouts.unwrap_or_default();
        let app_url = base_url("api_url", self.app_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
        let admin_url = base_url("admin_url", self.admin_url.as_deref().unwrap_or(DEFAULT_ADMIN_URL))?;
        let http = match self.http {
            Some(c) => c,
            None => {
                check_tls(&[&app_url, &admin_url])?;
                tls(reqwest::Client::builder())?
                    .connect_timeout(timeouts.connect)
                    .pool_idle_timeout(std::time::Duration::from_secs(60))
                    .build()
                    .map_err(|e| Error::Config(format!("HTTP client: {e}")))?
            }
        };
        let mut default_headers = HeaderMap::new();
        for (name, value) in self.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name {name:?}")))?;
            let v = HeaderValue::from_str(&value)
                .map_err(|_| Error::Config(format!("invalid value for header {name:?}")))?;
            default_headers.append(n, v);
        }
        let user_agent = HeaderValue::from_str(self.user_agent.as_deref().unwrap_or(USER_AGENT))
            .map_err(|_| Error::Config("invalid user agent".into()))?;
        let tenant_id = self
            .tenant_id
            .map(|t| crate::request::header_value("tenant_id", &t))
            .transpose()?;
        let limit_calls = self.rate_limit.is_some();
        let rate_limiter = RateLimiter::new(&self.rate_limit.unwrap_or_else(RateLimits::trophy))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                api_key,
                app_url,
                admin_url,
                tenant_id,
                default_headers,
                user_agent,
                retry: self.retry.unwrap_or_default(),
                timeouts,
                rate_limiter,
                limit_calls,
            }),
        })
    }
}

/// Refuses, instead of failing later (or panicking inside reqwest), a client that cannot speak
/// TLS: built without a TLS feature while a base URL is `https`, or with `rustls-no-provider`
/// alone before the application installed a rustls crypto provider.
#[allow(unused_variables)]
fn check_tls(urls: &[&str]) -> Result<()> {
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "rustls-no-provider")))]
    if let Some(url) = urls.iter().find(|u| u.starts_with("https:")) {
        return Err(Error::Config(format!(
            "{url} needs TLS, but trophy was built without the `rustls`, `rustls-ring` or \
             `rustls-no-provider` feature"
        )));
    }
    #[cfg(all(
        feature = "rustls-no-provider",
        not(any(feature = "rustls", feature = "rustls-ring"))
    ))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        return Err(Error::Config(
            "the `rustls-no-provider` feature needs a rustls crypto provider: call \
             `rustls::crypto::ring::default_provider().install_default()` (or another provider's) \
             before building the client, or use the default `rustls` feature"
                .into(),
        ));
    }
    Ok(())
}

/// The TLS set-up of the client trophy builds. With `rustls-ring`: rustls with the process's
/// default crypto provider when the application installed one, ring otherwise, and the
/// platform's certificate verifier, as reqwest would set it up. The process default is never
/// changed. Otherwise (the default `rustls`: aws-lc-rs) reqwest's own set-up.
fn tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
    #[cfg(feature = "rustls-ring")]
    {
        use rustls_platform_verifier::BuilderVerifierExt;
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_platform_verifier())
            .map_err(|e| Error::Config(format!("TLS: {e}")))?
            .with_no_client_auth();
        // reqwest is built without HTTP/2, so HTTP/1.1 is the one protocol to offer.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(builder.tls_backend_preconfigured(config))
    }
    #[cfg(not(feature = "rustls-ring"))]
    Ok(builder)
}

fn base_url(field: &str, url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| Error::Config(format!("{field} {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(Error::Config(format!("{field} {url:?} is not an http(s) base URL")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Config(format!(
            "{field} {url:?} must not carry a query or fragment"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names before `RateLimits` still build (deprecated) and mean the same settings.
    #[test]
    #[allow(deprecated)]
    fn the_older_rate_limit_names_build_and_set_the_same_limits() {
        let old: crate::RateLimit = crate::RateLimit::trophy_tiers();
        assert_eq!(old, RateLimits::trophy());
        let builder = ClientBuilder::default().rate_limit(RateLimits::per_second(7.0, 70.0));
        assert_eq!(builder.rate_limit, Some(RateLimits::per_second(7.0, 70.0)));
        let prelude: crate::prelude::RateLimit = crate::prelude::RateLimits::trophy();
        assert_eq!(prelude, old);
    }

    #[cfg(all(
        feature = "rustls-no-provider",
        not(any(feature = "rustls", feature = "rustls-ring"))
    ))]
    #[test]
    fn without_a_crypto_provider_build_is_a_config_error_not_a_panic() {
        let e = Client::new("sk_live_test").unwrap_err();
        assert!(
            matches!(&e, Error::Config(m) if m.contains("crypto provider") && m.contains("install_default")),
            "{e}"
        );
    }

    #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "rustls-no-provider")))]
    #[test]
    fn without_tls_an_https_base_url_is_refused_and_http_works() {
        let e = Client::new("sk_live_test").unwrap_err();
        assert!(
            matches!(&e, Error::Config(m) if m.starts_with("https://api.trophy.so/v1 needs TLS")),
            "{e}"
        );
        let local = Client::builder()
            .api_key("sk_live_test")
            .api_url("http://127.0.0.1:8787/v1")
            .admin_url("http://127.0.0.1:8787/admin/v1")
            .build();
        assert!(local.is_ok());
    }

    /// With the default `rustls` feature (aws-lc-rs) or `rustls-ring`, and no provider installed
    /// by anyone: the client builds, and a call to an `https` URL opens a real TLS handshake
    /// (the server sees a ClientHello record) and ends in a connection error, not a panic.
    #[cfg(any(feature = "rustls", feature = "rustls-ring"))]
    #[tokio::test]
    async fn https_speaks_tls_without_an_installed_provider() {
        use tokio::io::AsyncReadExt;
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://127.0.0.1:{}/v1", listener.local_addr().unwrap().port());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 6];
            socket.read_exact(&mut head).await.unwrap();
            head
        });
        let client = Client::builder()
            .api_key("sk_live_test")
            .api_url(&url)
            .retry(crate::RetryConfig::disabled())
            .build()
            .unwrap();
        let e = client.users().get("u").send().await.unwrap_err();
        assert!(matches!(e, Error::Connection(_)), "{e}");
        let head = server.await.unwrap();
        // A TLS handshake record (22), TLS major version 3, then a ClientHello (1).
        assert_eq!((head[0], head[1], head[5]), (22, 3, 1), "{head:?}");
        assert!(
            rustls::crypto::CryptoProvider::get_default().is_none(),
            "the process default is left alone"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = Client::new("sk_live_supersecret").unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("supersecret"), "{d}");
        assert!(d.contains("<redacted>"));
        let b = Client::builder().api_key("sk_live_supersecret");
        assert!(!format!("{b:?}").contains("supersecret"));
    }

    #[test]
    fn bad_configuration_is_an_error_not_a_panic() {
        assert!(matches!(Client::new(""), Err(Error::InvalidInput(_))));
        assert!(matches!(Client::new("bad\nkey"), Err(Error::InvalidInput(_))));
        assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
        let e = Client::builder().api_key("k").api_url("not a url").build().unwrap_err();
        assert!(e.to_string().contains("api_url"), "{e}");
        let e = Client::builder()
            .api_key("k")
            .default_header("bad name", "v")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)));
    }

    #[test]
    fn trailing_slashes_are_trimmed() {
        let c = Client::builder()
            .api_key("k")
            .api_url("http://127.0.0.1:1/v1/")
            .build()
            .unwrap();
        assert_eq!(c.api_url(), "http://127.0.0.1:1/v1");
        assert_eq!(c.admin_url(), DEFAULT_ADMIN_URL);
    }

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Client>();
        let c = Client::new("k").unwrap();
        let c2 = c.clone();
        assert!(Arc::ptr_eq(&c.inner, &c2.inner));
    }
}
