//! Configuration from environment variables, parsed once at start-up.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// A value that must never reach a log: `Debug` prints `<redacted>`; read it with `expose`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Every setting, in one section per subsystem; each subsystem is handed only its own.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub zoom: ZoomConfig,
    pub mail: MailConfig,
    /// Whether demo data is seeded at start-up.
    pub seed_demo_data: bool,
    pub retention: RetentionConfig,
    pub recordings: RecordingsConfig,
    pub webhooks: WebhooksConfig,
}

/// Outgoing webhooks to specialists' endpoints.
#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// Only `https` URLs whose every address is public (no loopback, private, link-local,
    /// shared or metadata range), checked after DNS resolution and on each redirect
    /// (`WEBHOOK_PUBLIC_ONLY`; on in production).
    pub public_only: bool,
    /// How long a failing delivery is retried before its endpoint is disabled
    /// (`WEBHOOK_RETRY_SECONDS`, 24 hours).
    pub retry_window: std::time::Duration,
}

/// How long finished records are kept before the periodic clean-up deletes them.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Between clean-ups (each instance runs its own; they delete the same rows harmlessly).
    pub every: std::time::Duration,
    /// Done and cancelled jobs (they hold whole emails: join links, passwords).
    pub finished_jobs: std::time::Duration,
    /// Jobs failed for good, kept longer for the operator (`admin jobs --failed`).
    pub failed_jobs: std::time::Duration,
    /// Used or expired confirmation links, after their expiry.
    pub verifications: std::time::Duration,
    /// Cloud recordings, after they were stored (`RECORDING_RETENTION_DAYS`).
    pub recordings: std::time::Duration,
    /// Zoom's webhook bodies (participants' emails, download tokens), once applied
    /// (`RETAIN_ZOOM_EVENTS_DAYS`; Zoom retries a delivery for about a day, and a repeat
    /// past this is applied again harmlessly).
    pub zoom_events: std::time::Duration,
}

/// Where cloud recordings are kept.
#[derive(Debug, Clone)]
pub struct RecordingsConfig {
    /// `file:///absolute/dir` (default: `DATA_DIR/recordings`) or `s3://bucket/prefix`.
    pub url: String,
    /// The `AWS_*` settings of an S3-compatible store (keys, region, endpoint), as
    /// object_store reads them.
    pub store_options: Vec<(String, Secret)>,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The public address, without a trailing slash.
    pub base_url: String,
    /// How often the appointment page re-checks a pending meeting.
    pub appointment_refresh_seconds: u32,
    /// How long in-flight requests and the current job get after a stop signal.
    pub shutdown_grace: std::time::Duration,
    /// Until how many hours before the start a customer may cancel or reschedule.
    pub cancel_cutoff_hours: u32,
    /// How long a guest's seat is held for them to confirm it (`GUEST_HOLD_SECONDS`, 30 min).
    pub guest_hold_seconds: u64,
    /// How long before the start customers are reminded (each offset one email).
    pub customer_reminders: Vec<std::time::Duration>,
    /// How long before the start the specialist hears of bookings still without a meeting.
    pub specialist_reminder: std::time::Duration,
    /// Load balancers whose `X-Forwarded-For` names the client (none unless configured).
    pub trusted_proxies: crate::server::security::TrustedProxies,
    /// Who may read `/metrics` besides loopback clients (`METRICS_ALLOW`, networks).
    pub metrics_readers: crate::server::security::Networks,
    /// Event streams one account may hold open on an instance (`EVENT_STREAMS_PER_USER`).
    pub event_streams_per_user: usize,
    /// Event streams an instance holds open in all (`EVENT_STREAMS_PER_INSTANCE`).
    pub event_streams_per_instance: usize,
    /// How often an open event stream checks that its session or API token still stands
    /// (`EVENT_STREAM_RECHECK_SECONDS`).
    pub event_stream_recheck: std::time::Duration,
    /// A request still unanswered after this long is logged at WARN, and again when it is
    /// answered (`SLOW_REQUEST_WARN_MILLIS`).
    pub slow_request: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub namespace: String,
    pub database: String,
    /// Root credentials, required for a SurrealDB server (`ws://`).
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// How long a query to a SurrealDB server may take; past it the request answers 503.
    pub timeout: std::time::Duration,
    /// Connections to a SurrealDB server, used in turn (an embedded engine has one).
    pub connections: usize,
    /// Embedded SurrealKV: its block cache of read data, in MiB.
    pub cache_mib: u64,
    /// Embedded SurrealKV: the size its in-memory write buffer reaches before it is written
    /// to disk, in MiB (also the largest transaction it accepts).
    pub memtable_mib: u64,
}

impl DatabaseConfig {
    /// An embedded database (`surrealkv://…`, `mem://`) with the default settings.
    pub fn embedded(url: impl Into<String>, namespace: &str, database: &str) -> Self {
        Self {
            url: url.into(),
            namespace: namespace.into(),
            database: database.into(),
            user: None,
            password: None,
            // Embedded: never unreachable, so no deadline applies.
            timeout: std::time::Duration::from_secs(10),
            connections: 1,
            cache_mib: DEFAULT_CACHE_MIB,
            memtable_mib: DEFAULT_MEMTABLE_MIB,
        }
    }
}

/// Embedded SurrealKV's memory, in MiB: enough for a booking site's hot rows, and a fixed
/// amount (SurrealKV's own defaults follow the machine's memory: 11 GiB of cache on 24 GiB).
const DEFAULT_CACHE_MIB: u64 = 32;
const DEFAULT_MEMTABLE_MIB: u64 = 32;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `None` in development: a secret is generated once and kept under `data_dir`.
    pub jwt_secret: Option<Secret>,
    pub data_dir: PathBuf,
    /// Failed logins for one email within 15 minutes before logins for it are refused.
    pub login_max_failures: u32,
    /// Login and registration requests per client address per minute.
    pub rate_per_ip_per_minute: u32,
    /// IPv6 clients are counted per network of this prefix length (one /64 is one home or
    /// one server, and holds more addresses than anyone could count one by one).
    pub ipv6_prefix: u8,
    /// Password hashes waiting for a hashing thread before new ones are refused (503).
    pub hash_queue: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomCredentials {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: Secret,
}

#[derive(Debug, Clone)]
pub struct ZoomConfig {
    /// `None` selects the simulated provider.
    pub credentials: Option<ZoomCredentials>,
    pub api_url: String,
    pub oauth_url: String,
    /// One Zoom user hosting every meeting, when set.
    pub default_host: Option<String>,
    /// How long one call to Zoom may take before its outcome counts as unknown.
    pub timeout: std::time::Duration,
    /// How long a search or a creation (token, retries, pages) may take in all: well inside
    /// the 120 s claim on the booking, so no second attempt starts while it may still create.
    pub attempt_deadline: std::time::Duration,
    /// Signs Zoom's webhook deliveries (the app's Secret Token); without it the webhook
    /// endpoint refuses every delivery.
    pub webhook_secret: Option<Secret>,
    /// Hosts (and their subdomains) recordings may be downloaded from
    /// (`ZOOM_DOWNLOAD_HOSTS`, comma-separated; Zoom's by default).
    pub download_hosts: Vec<String>,
    /// Minutes after a meeting's scheduled end (and after Zoom says it ended) at which its
    /// participants are read from Zoom, for whatever the webhooks missed.
    pub attendance_check_minutes: u32,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// May carry the SMTP password; `None` writes `.eml` files under `dir`.
    pub smtp_url: Option<Secret>,
    pub from: String,
    pub dir: PathBuf,
    /// How often the job worker looks for due jobs; 0 runs no worker.
    pub poll_millis: u64,
    /// How long a worker's claim on a job lasts (renewed while it runs); a job is given up
    /// after three quarters of it.
    pub lease_seconds: u64,
    /// Cancellations and moves one account may make per hour (each emails the other side).
    pub actions_per_hour: u32,
    /// Notifications one address may get per day because of what others did.
    pub per_address_per_day: u32,
}

/// A variable that is set but malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var} {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        reason: reason.into(),
    }
}

const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads every setting through `lookup`, so tests can pass a map instead of the process
    /// environment. An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let env = app_env(&get)?;
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".into()));
        let seed_demo_data = match get("SEED_DEMO_DATA").as_deref() {
            None => env == AppEnv::Development,
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            Some(_) => return Err(invalid("SEED_DEMO_DATA", "must be true or false")),
        };
        let config = Self {
            env,
            http: http(&get)?,
            database: database(&get)?,
            auth: auth(&get, env, &data_dir)?,
            zoom: zoom(&get, env)?,
            mail: mail(&get, &data_dir)?,
            seed_demo_data,
            retention: retention(&get)?,
            recordings: recordings(&get, &data_dir)?,
            webhooks: webhooks(&get, env)?,
        };
        if get("APP_ENV").is_none() && config.secure_cookies() {
            return Err(invalid(
                "APP_ENV",
                "must be set (production, or development) when APP_BASE_URL is https://: unset means development, with demo data and development pages",
            ));
        }
        if env == AppEnv::Production {
            production_transport_checks(&config)?;
            if config.seed_demo_data {
                return Err(invalid(
                    "SEED_DEMO_DATA",
                    "must not be true when APP_ENV=production (demo accounts have public passwords)",
                ));
            }
            if !config.secure_cookies() {
                return Err(invalid(
                    "APP_BASE_URL",
                    "must be https:// when APP_ENV=production (login cookies are sent only over https)",
                ));
            }
        }
        Ok(config)
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }

    /// Cookies get `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.http.base_url.starts_with("https://")
    }
}

/// What production refuses to start with: mail that goes nowhere or in clear, Zoom's
/// credentials in clear, and a database connection in clear to another machine. Loopback
/// peers (a local relay, a test double, a database on the same host) may be plain.
fn production_transport_checks(config: &Config) -> Result<(), ConfigError> {
    let Some(smtp) = config.mail.smtp_url.as_ref().map(Secret::expose) else {
        return Err(invalid(
            "SMTP_URL",
            "is required when APP_ENV=production (without it every email is written to a file nobody reads)",
        ));
    };
    if !(smtp.starts_with("smtps://")
        || smtp.contains("tls=required")
        || url_host(smtp).is_some_and(is_loopback_host))
    {
        return Err(invalid(
            "SMTP_URL",
            "must use TLS when APP_ENV=production: smtps://… or smtp://…?tls=required (plain smtp:// only to a relay on this machine)",
        ));
    }
    for (var, url) in [
        ("ZOOM_API_URL", &config.zoom.api_url),
        ("ZOOM_OAUTH_URL", &config.zoom.oauth_url),
    ] {
        if !url.starts_with("https://") && !url_host(url).is_some_and(is_loopback_host) {
            return Err(invalid(
                var,
                "must be https:// when APP_ENV=production (it carries Zoom's credentials)",
            ));
        }
    }
    let db = &config.database.url;
    if db.starts_with("ws://") && !url_host(db).is_some_and(is_loopback_host) {
        return Err(invalid(
            "DATABASE_URL",
            "must be wss:// when APP_ENV=production and the server is on another machine",
        ));
    }
    Ok(())
}

/// The host of `scheme://[user@]host[:port]/…`.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    Some(host_port.split(':').next().unwrap_or(host_port))
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn app_env(get: &impl Fn(&str) -> Option<String>) -> Result<AppEnv, ConfigError> {
    match get("APP_ENV").as_deref() {
        None | Some("development") | Some("dev") => Ok(AppEnv::Development),
        Some("production") | Some("prod") => Ok(AppEnv::Production),
        Some(other) => Err(invalid(
            "APP_ENV",
            format!("must be development or production, got {other:?}"),
        )),
    }
}

fn http(get: &impl Fn(&str) -> Option<String>) -> Result<HttpConfig, ConfigError> {
    let site_addr = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
    if site_addr.parse::<std::net::SocketAddr>().is_err() {
        return Err(invalid(
            "LEPTOS_SITE_ADDR",
            "must be host:port, e.g. 127.0.0.1:3000",
        ));
    }
    let base_url = get("APP_BASE_URL").unwrap_or_else(|| format!("http://{site_addr}"));
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(invalid(
            "APP_BASE_URL",
            "must start with http:// or https://",
        ));
    }
    let appointment_refresh_seconds =
        number_between(get, "APPOINTMENT_REFRESH_SECONDS", 30, 1..=3600)?;
    Ok(HttpConfig {
        base_url: base_url.trim_end_matches('/').to_string(),
        appointment_refresh_seconds: appointment_refresh_seconds as u32,
        shutdown_grace: std::time::Duration::from_secs(number_var(
            get,
            "SHUTDOWN_GRACE_SECONDS",
            10,
        )?),
        customer_reminders: get("REMINDER_CUSTOMER_OFFSETS")
            .unwrap_or_else(|| "24h,30m".into())
            .split(',')
            .map(|o| offset("REMINDER_CUSTOMER_OFFSETS", o))
            .collect::<Result<_, _>>()?,
        specialist_reminder: offset(
            "REMINDER_SPECIALIST_OFFSET",
            &get("REMINDER_SPECIALIST_OFFSET").unwrap_or_else(|| "60m".into()),
        )?,
        cancel_cutoff_hours: match number_var(get, "CANCEL_CUTOFF_HOURS", 24)? {
            hours @ 0..=8760 => hours as u32,
            _ => {
                return Err(invalid(
                    "CANCEL_CUTOFF_HOURS",
                    "must be at most 8760 (a year)",
                ))
            }
        },
        guest_hold_seconds: match number_var(get, "GUEST_HOLD_SECONDS", 1800)? {
            seconds @ 1..=86_400 => seconds,
            _ => {
                return Err(invalid(
                    "GUEST_HOLD_SECONDS",
                    "must be between 1 and 86400 (a day)",
                ))
            }
        },
        trusted_proxies: crate::server::security::TrustedProxies::parse(
            &get("TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|reason| invalid("TRUSTED_PROXIES", reason))?,
        metrics_readers: crate::server::security::Networks::parse(
            &get("METRICS_ALLOW").unwrap_or_default(),
        )
        .map_err(|reason| invalid("METRICS_ALLOW", reason))?,
        event_streams_per_user: number_between(get, "EVENT_STREAMS_PER_USER", 5, 1..=100)? as usize,
        event_streams_per_instance: number_between(
            get,
            "EVENT_STREAMS_PER_INSTANCE",
            2000,
            1..=100_000,
        )? as usize,
        event_stream_recheck: std::time::Duration::from_secs(number_between(
            get,
            "EVENT_STREAM_RECHECK_SECONDS",
            10,
            1..=300,
        )?),
        slow_request: std::time::Duration::from_millis(number_between(
            get,
            "SLOW_REQUEST_WARN_MILLIS",
            5_000,
            1..=3_600_000,
        )?),
    })
}

fn database(get: &impl Fn(&str) -> Option<String>) -> Result<DatabaseConfig, ConfigError> {
    let url = get("DATABASE_URL").unwrap_or_else(|| "surrealkv://data/db".into());
    let scheme_ok = ["mem://", "memory", "surrealkv://", "ws://", "wss://"]
        .iter()
        .any(|p| url.starts_with(p));
    if !scheme_ok {
        return Err(invalid(
            "DATABASE_URL",
            "must start with surrealkv://, mem://, ws:// or wss://",
        ));
    }
    let user = get("SURREAL_USER");
    let password = get("SURREAL_PASS").map(Secret::new);
    if url.starts_with("ws") && (user.is_none() || password.is_none()) {
        return Err(invalid(
            "SURREAL_USER",
            "and SURREAL_PASS are required with a ws:// DATABASE_URL",
        ));
    }
    Ok(DatabaseConfig {
        url,
        namespace: get("SURREAL_NS").unwrap_or_else(|| "specialistly".into()),
        database: get("SURREAL_DB").unwrap_or_else(|| "main".into()),
        user,
        password,
        timeout: std::time::Duration::from_millis(
            number_var(get, "DATABASE_TIMEOUT_MILLIS", 10_000)?.max(100),
        ),
        connections: number_between(get, "DATABASE_CONNECTIONS", 4, 1..=64)? as usize,
        cache_mib: number_between(get, "DATABASE_CACHE_MIB", DEFAULT_CACHE_MIB, 1..=1_048_576)?,
        memtable_mib: number_between(get, "DATABASE_MEMTABLE_MIB", DEFAULT_MEMTABLE_MIB, 8..=4096)?,
    })
}

fn auth(
    get: &impl Fn(&str) -> Option<String>,
    env: AppEnv,
    data_dir: &std::path::Path,
) -> Result<AuthConfig, ConfigError> {
    let jwt_secret = get("JWT_SECRET");
    if env == AppEnv::Production {
        match &jwt_secret {
            None => return Err(invalid("JWT_SECRET", "is required when APP_ENV=production")),
            Some(s) if s.len() < MIN_PRODUCTION_SECRET_BYTES => {
                return Err(invalid(
                    "JWT_SECRET",
                    format!(
                    "must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes when APP_ENV=production"
                ),
                ))
            }
            _ => {}
        }
    }
    Ok(AuthConfig {
        jwt_secret: jwt_secret.map(Secret::new),
        data_dir: data_dir.to_path_buf(),
        login_max_failures: positive(get, "LOGIN_MAX_FAILURES", 10)?,
        rate_per_ip_per_minute: positive(get, "AUTH_RATE_PER_IP_PER_MINUTE", 60)?,
        ipv6_prefix: match number_var(get, "AUTH_IPV6_PREFIX", 64)? {
            prefix @ 32..=128 => prefix as u8,
            _ => return Err(invalid("AUTH_IPV6_PREFIX", "must be between 32 and 128")),
        },
        hash_queue: positive(get, "PASSWORD_HASH_QUEUE", 32)? as usize,
    })
}

/// A whole number within `range`.
fn number_between(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let n = number_var(get, var, default)?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(invalid(
            var,
            format!("must be between {} and {}", range.start(), range.end()),
        ))
    }
}

/// A whole number of at least 1 that fits a `u32`.
fn positive(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<u32, ConfigError> {
    match number_var(get, var, default)? {
        n @ 1..=0xFFFF_FFFF => Ok(n as u32),
        _ => Err(invalid(var, "must be a whole number of at least 1")),
    }
}

fn zoom(get: &impl Fn(&str) -> Option<String>, env: AppEnv) -> Result<ZoomConfig, ConfigError> {
    let credentials = match (
        get("ZOOM_ACCOUNT_ID"),
        get("ZOOM_CLIENT_ID"),
        get("ZOOM_CLIENT_SECRET"),
    ) {
        (None, None, None) => None,
        (Some(account_id), Some(client_id), Some(client_secret)) => Some(ZoomCredentials {
            account_id,
            client_id,
            client_secret: Secret::new(client_secret),
        }),
        _ => {
            return Err(invalid(
                "ZOOM_ACCOUNT_ID",
                "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET must be set together (or none of them)",
            ))
        }
    };
    if credentials.is_none() && env == AppEnv::Production {
        return Err(invalid(
            "ZOOM_ACCOUNT_ID",
            "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are required when APP_ENV=production (the simulated Zoom is for local runs)",
        ));
    }
    Ok(ZoomConfig {
        credentials,
        api_url: url_var(get, "ZOOM_API_URL", "https://api.zoom.us/v2")?,
        oauth_url: url_var(get, "ZOOM_OAUTH_URL", "https://zoom.us/oauth/token")?,
        default_host: get("ZOOM_DEFAULT_HOST"),
        // Each call's limit; a whole attempt (token, retries, pages) is bounded separately.
        timeout: match positive(get, "ZOOM_TIMEOUT_SECONDS", 10)? {
            seconds @ 1..=30 => std::time::Duration::from_secs(u64::from(seconds)),
            _ => return Err(invalid("ZOOM_TIMEOUT_SECONDS", "must be between 1 and 30")),
        },
        attempt_deadline: match positive(get, "ZOOM_ATTEMPT_SECONDS", 40)? {
            seconds @ 1..=100 => std::time::Duration::from_secs(u64::from(seconds)),
            _ => return Err(invalid("ZOOM_ATTEMPT_SECONDS", "must be between 1 and 100")),
        },
        webhook_secret: get("ZOOM_WEBHOOK_SECRET_TOKEN").map(Secret::new),
        download_hosts: get("ZOOM_DOWNLOAD_HOSTS")
            .as_deref()
            .unwrap_or(crate::server::zoom::DEFAULT_DOWNLOAD_HOSTS)
            .split(',')
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        attendance_check_minutes: number_between(get, "ATTENDANCE_CHECK_MINUTES", 10, 0..=1440)?
            as u32,
    })
}

fn mail(
    get: &impl Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> Result<MailConfig, ConfigError> {
    let smtp_url = get("SMTP_URL");
    if let Some(url) = &smtp_url {
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(invalid("SMTP_URL", "must start with smtp:// or smtps://"));
        }
    }
    let from = get("MAIL_FROM").unwrap_or_else(|| "Specialistly <no-reply@localhost>".into());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(invalid(
            "MAIL_FROM",
            "must be an address such as `Name <user@host>`",
        ));
    }
    Ok(MailConfig {
        smtp_url: smtp_url.map(Secret::new),
        from,
        dir: get("MAIL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("mail")),
        poll_millis: number_var(get, "OUTBOX_POLL_MILLIS", 1000)?,
        lease_seconds: match number_var(get, "OUTBOX_LEASE_SECONDS", 120)? {
            0 => return Err(invalid("OUTBOX_LEASE_SECONDS", "must be at least 1")),
            seconds => seconds,
        },
        actions_per_hour: positive(get, "MAIL_ACTIONS_PER_HOUR", 20)?,
        per_address_per_day: positive(get, "MAIL_PER_ADDRESS_PER_DAY", 100)?,
    })
}

fn retention(get: &impl Fn(&str) -> Option<String>) -> Result<RetentionConfig, ConfigError> {
    let days = |var: &'static str, default: u64| -> Result<std::time::Duration, ConfigError> {
        match number_var(get, var, default)? {
            d @ 1..=3650 => Ok(std::time::Duration::from_secs(d * 86_400)),
            _ => Err(invalid(var, "must be between 1 and 3650 days")),
        }
    };
    Ok(RetentionConfig {
        every: match number_var(get, "CLEANUP_EVERY_MINUTES", 60)? {
            m @ 1..=10_080 => std::time::Duration::from_secs(m * 60),
            _ => {
                return Err(invalid(
                    "CLEANUP_EVERY_MINUTES",
                    "must be between 1 and 10080",
                ))
            }
        },
        finished_jobs: days("RETAIN_FINISHED_JOBS_DAYS", 7)?,
        failed_jobs: days("RETAIN_FAILED_JOBS_DAYS", 30)?,
        verifications: days("RETAIN_VERIFICATIONS_DAYS", 2)?,
        recordings: days("RECORDING_RETENTION_DAYS", 90)?,
        zoom_events: days("RETAIN_ZOOM_EVENTS_DAYS", 7)?,
    })
}

fn webhooks(
    get: &impl Fn(&str) -> Option<String>,
    env: AppEnv,
) -> Result<WebhooksConfig, ConfigError> {
    let public_only = match get("WEBHOOK_PUBLIC_ONLY").as_deref() {
        None => env == AppEnv::Production,
        Some("1") | Some("true") => true,
        Some("0") | Some("false") if env == AppEnv::Production => {
            return Err(invalid(
                "WEBHOOK_PUBLIC_ONLY",
                "cannot be turned off in production",
            ))
        }
        Some("0") | Some("false") => false,
        Some(_) => return Err(invalid("WEBHOOK_PUBLIC_ONLY", "must be true or false")),
    };
    let retry_window = match number_var(get, "WEBHOOK_RETRY_SECONDS", 86_400)? {
        s @ 1..=604_800 => std::time::Duration::from_secs(s),
        _ => {
            return Err(invalid(
                "WEBHOOK_RETRY_SECONDS",
                "must be between 1 and 604800",
            ))
        }
    };
    Ok(WebhooksConfig {
        public_only,
        retry_window,
    })
}

fn recordings(
    get: &impl Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> Result<RecordingsConfig, ConfigError> {
    let url = match get("RECORDINGS_URL") {
        Some(url) => url,
        None => {
            let dir = std::path::absolute(data_dir.join("recordings"))
                .map_err(|e| invalid("DATA_DIR", format!("has no absolute form: {e}")))?;
            format!("file://{}", dir.display())
        }
    };
    if !(url.starts_with("file:///") || url.starts_with("s3://")) {
        return Err(invalid(
            "RECORDINGS_URL",
            "must be file:///absolute/dir or s3://bucket[/prefix]",
        ));
    }
    const AWS: [&str; 6] = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_ENDPOINT",
        "AWS_ALLOW_HTTP",
    ];
    let store_options = AWS
        .iter()
        .filter_map(|k| get(k).map(|v| (k.to_ascii_lowercase(), Secret::new(v))))
        .collect();
    Ok(RecordingsConfig { url, store_options })
}

/// `30s`, `30m`, `24h` or `2d`: how long before an appointment something happens.
fn offset(var: &'static str, raw: &str) -> Result<std::time::Duration, ConfigError> {
    let raw = raw.trim();
    let bad = || {
        invalid(
            var,
            format!("must be like 24h, 30m or 45s (comma-separated), got {raw:?}"),
        )
    };
    let split = raw.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(bad()),
    };
    if seconds == 0 || seconds > 30 * 86_400 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(seconds))
}

fn url_var(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    let value = get(var).unwrap_or_else(|| default.into());
    if !(value.starts_with("http://") || value.starts_with("https://")) {
        return Err(invalid(var, "must be an http:// or https:// URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn number_var(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| invalid(var, format!("must be a whole number, got {v:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_describe_a_local_development_run() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.env, AppEnv::Development);
        assert_eq!(c.database.url, "surrealkv://data/db");
        assert_eq!(c.http.base_url, "http://127.0.0.1:3000");
        assert!(c.zoom.credentials.is_none());
        assert!(c.mail.smtp_url.is_none());
        assert_eq!(c.mail.dir, PathBuf::from("data/mail"));
        assert_eq!(c.zoom.api_url, "https://api.zoom.us/v2");
        assert_eq!(c.zoom.oauth_url, "https://zoom.us/oauth/token");
        assert_eq!(c.http.appointment_refresh_seconds, 30);
        assert!(c.seed_demo_data);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn production_requires_a_long_jwt_secret() {
        let err = parse(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(err.var, "JWT_SECRET");
        let err = parse(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(err.var, "JWT_SECRET");
        let secret = "x".repeat(32);
        let ok = parse(&[
            ("APP_ENV", "production"),
            ("APP_BASE_URL", "https://book.example.com"),
            ("SMTP_URL", "smtps://mail.example.com"),
            ("JWT_SECRET", &secret),
            ("ZOOM_ACCOUNT_ID", "a"),
            ("ZOOM_CLIENT_ID", "b"),
            ("ZOOM_CLIENT_SECRET", "c"),
        ])
        .unwrap();
        assert!(ok.is_production());
        assert!(!ok.seed_demo_data);
    }

    #[test]
    fn malformed_values_name_their_variable() {
        let cases = [
            ("APP_ENV", "staging"),
            ("DATABASE_URL", "postgres://x"),
            ("SMTP_URL", "http://mail"),
            ("MAIL_FROM", "not an address <"),
            ("ZOOM_API_URL", "api.zoom.us"),
            ("APPOINTMENT_REFRESH_SECONDS", "soon"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("APP_BASE_URL", "example.com"),
        ];
        for (var, value) in cases {
            let err = parse(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "for {var}={value}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn production_refuses_demo_data_and_plain_http() {
        let base = [
            ("APP_ENV", "production"),
            ("SMTP_URL", "smtps://mail.example.com"),
            ("JWT_SECRET", "x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x"),
            ("ZOOM_ACCOUNT_ID", "a"),
            ("ZOOM_CLIENT_ID", "b"),
            ("ZOOM_CLIENT_SECRET", "c"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            parse(&vars)
        };
        let err = with(&[("APP_BASE_URL", "http://book.example.com")]).unwrap_err();
        assert_eq!(err.var, "APP_BASE_URL");
        assert_eq!(with(&[]).unwrap_err().var, "APP_BASE_URL");
        let err = with(&[
            ("APP_BASE_URL", "https://book.example.com"),
            ("SEED_DEMO_DATA", "true"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "SEED_DEMO_DATA");
        assert!(err.to_string().contains("SEED_DEMO_DATA"));
        assert!(with(&[("APP_BASE_URL", "https://book.example.com")]).is_ok());
    }

    /// A call to Zoom may not outlast its attempt's share of the claim, nor an attempt the claim.
    #[test]
    fn zoom_time_limits_are_bounded() {
        let zoom = parse(&[]).unwrap().zoom;
        assert_eq!(zoom.timeout.as_secs(), 10);
        assert_eq!(zoom.attempt_deadline.as_secs(), 40);
        for (var, value) in [
            ("ZOOM_TIMEOUT_SECONDS", "31"),
            ("ZOOM_TIMEOUT_SECONDS", "0"),
            ("ZOOM_ATTEMPT_SECONDS", "101"),
            ("ZOOM_ATTEMPT_SECONDS", "0"),
        ] {
            assert_eq!(
                parse(&[(var, value)]).unwrap_err().var,
                var,
                "{var}={value}"
            );
        }
        let short = parse(&[("ZOOM_ATTEMPT_SECONDS", "2")]).unwrap().zoom;
        assert_eq!(short.attempt_deadline.as_secs(), 2);
    }

    /// Production refuses mail that goes nowhere or travels in clear, Zoom credentials in
    /// clear, and a plain database connection to another machine; loopback peers may be plain.
    #[test]
    fn production_refuses_missing_or_plaintext_transports() {
        let base = [
            ("APP_ENV", "production"),
            ("APP_BASE_URL", "https://book.example.com"),
            ("JWT_SECRET", "x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x"),
            ("ZOOM_ACCOUNT_ID", "a"),
            ("ZOOM_CLIENT_ID", "b"),
            ("ZOOM_CLIENT_SECRET", "c"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            parse(&vars)
        };
        assert_eq!(with(&[]).unwrap_err().var, "SMTP_URL");
        let refused = [
            ("SMTP_URL", "smtp://user:pw@mail.example.com:587"),
            ("SMTP_URL", "smtp://mail.example.com:587?tls=opportunistic"),
        ];
        for (var, value) in refused {
            let err = with(&[(var, value)]).unwrap_err();
            assert_eq!((err.var, value), ("SMTP_URL", value));
        }
        let smtp = ("SMTP_URL", "smtp://mail.example.com:587?tls=required");
        assert!(with(&[smtp]).is_ok());
        assert!(with(&[("SMTP_URL", "smtp://127.0.0.1:25")]).is_ok());
        assert!(with(&[("SMTP_URL", "smtp://localhost")]).is_ok());
        for var in ["ZOOM_API_URL", "ZOOM_OAUTH_URL"] {
            assert_eq!(
                with(&[smtp, (var, "http://zoom.example")]).unwrap_err().var,
                var
            );
            assert!(with(&[smtp, (var, "http://127.0.0.1:9000")]).is_ok());
        }
        let user = ("SURREAL_USER", "app");
        let pass = ("SURREAL_PASS", "app-password");
        let err = with(&[smtp, user, pass, ("DATABASE_URL", "ws://db.internal:8000")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(with(&[smtp, user, pass, ("DATABASE_URL", "wss://db.internal:8000")]).is_ok());
        assert!(with(&[smtp, user, pass, ("DATABASE_URL", "ws://[::1]:8000")]).is_ok());
    }

    /// An https address is a deployment: it must say which environment it is, since an unset
    /// APP_ENV means development (demo accounts, development pages).
    #[test]
    fn an_https_address_needs_app_env_set() {
        let err = parse(&[("APP_BASE_URL", "https://book.example.com")]).unwrap_err();
        assert_eq!(err.var, "APP_ENV");
        let dev = parse(&[
            ("APP_BASE_URL", "https://book.example.com"),
            ("APP_ENV", "development"),
        ])
        .unwrap();
        assert!(!dev.is_production() && dev.secure_cookies());
        assert!(parse(&[("APP_BASE_URL", "http://127.0.0.1:3000")]).is_ok());
    }

    #[test]
    fn zoom_credentials_come_all_together() {
        let err = parse(&[("ZOOM_ACCOUNT_ID", "a")]).unwrap_err();
        assert_eq!(err.var, "ZOOM_ACCOUNT_ID");
        let c = parse(&[
            ("ZOOM_ACCOUNT_ID", "a"),
            ("ZOOM_CLIENT_ID", "b"),
            ("ZOOM_CLIENT_SECRET", "c"),
        ])
        .unwrap();
        let zoom = c.zoom.credentials.unwrap();
        assert_eq!(zoom.client_id, "b");
        assert_eq!(zoom.client_secret.expose(), "c");
    }

    #[test]
    fn secrets_never_reach_a_debug_print() {
        let c = parse(&[
            ("ZOOM_ACCOUNT_ID", "acct"),
            ("ZOOM_CLIENT_ID", "client"),
            ("ZOOM_CLIENT_SECRET", "zoom-secret-value"),
            ("JWT_SECRET", "jwt-secret-value"),
            ("SMTP_URL", "smtp://user:smtp-password@mail.test:587"),
            ("DATABASE_URL", "ws://127.0.0.1:8000"),
            ("SURREAL_USER", "root"),
            ("SURREAL_PASS", "db-password-value"),
        ])
        .unwrap();
        let printed = format!("{c:?} {c:#?}");
        for secret in [
            "zoom-secret-value",
            "jwt-secret-value",
            "smtp-password",
            "db-password-value",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert!(printed.contains("<redacted>"));
        assert!(printed.contains("acct"), "non-secret values stay readable");
    }

    #[test]
    fn embedded_database_memory_has_defaults_and_bounds() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.database.cache_mib, c.database.memtable_mib), (32, 32));
        let err = parse(&[("DATABASE_MEMTABLE_MIB", "4")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_MEMTABLE_MIB");
        assert!(err.to_string().contains("between 8 and 4096"), "{err}");
        let c = parse(&[("DATABASE_CACHE_MIB", "256")]).unwrap();
        assert_eq!(c.database.cache_mib, 256);
    }

    #[test]
    fn remote_database_needs_credentials() {
        let err = parse(&[("DATABASE_URL", "ws://127.0.0.1:8000")]).unwrap_err();
        assert_eq!(err.var, "SURREAL_USER");
        let c = parse(&[
            ("DATABASE_URL", "ws://127.0.0.1:8000"),
            ("SURREAL_USER", "root"),
            ("SURREAL_PASS", "root"),
        ]);
        assert!(c.is_ok());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = parse(&[("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]).unwrap();
        assert!(c.http.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert_eq!(
            parse(&[("TRUSTED_PROXIES", "lb.internal")])
                .unwrap_err()
                .var,
            "TRUSTED_PROXIES"
        );
    }

    #[test]
    fn https_base_url_makes_cookies_secure() {
        let c = parse(&[
            ("APP_BASE_URL", "https://book.example.com/"),
            ("APP_ENV", "development"),
        ])
        .unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.http.base_url, "https://book.example.com");
    }
}
