//! Configuration from environment variables, parsed once at start-up.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ZoomCredentials {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ZoomCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoomCredentials")
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

#[derive(Clone)]
pub struct Config {
    pub env: AppEnv,
    pub base_url: String,
    pub database_url: String,
    pub surreal_ns: String,
    pub surreal_db: String,
    pub surreal_user: Option<String>,
    pub surreal_pass: Option<String>,
    /// `None` in development: a secret is generated once and kept under the data directory.
    pub jwt_secret: Option<String>,
    pub data_dir: PathBuf,
    pub zoom: Option<ZoomCredentials>,
    pub zoom_api_url: String,
    pub zoom_oauth_url: String,
    pub zoom_default_host: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub mail_dir: PathBuf,
    /// How often the appointment page re-checks a pending meeting.
    pub appointment_refresh_seconds: u32,
    /// Whether demo data is seeded at start-up.
    pub seed_demo_data: bool,
    /// How often the outbox worker looks for due emails.
    pub outbox_poll_millis: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("env", &self.env)
            .field("base_url", &self.base_url)
            .field("database_url", &self.database_url)
            .field("zoom", &self.zoom)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
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

        let env = match get("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("must be development or production, got {other:?}"),
                ))
            }
        };

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
        let base_url = base_url.trim_end_matches('/').to_string();

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "surrealkv://data/db".into());
        let scheme_ok = ["mem://", "memory", "surrealkv://", "ws://", "wss://"]
            .iter()
            .any(|p| database_url.starts_with(p));
        if !scheme_ok {
            return Err(invalid(
                "DATABASE_URL",
                "must start with surrealkv://, mem://, ws:// or wss://",
            ));
        }
        let remote = database_url.starts_with("ws");
        let surreal_user = get("SURREAL_USER");
        let surreal_pass = get("SURREAL_PASS");
        if remote && (surreal_user.is_none() || surreal_pass.is_none()) {
            return Err(invalid(
                "SURREAL_USER",
                "and SURREAL_PASS are required with a ws:// DATABASE_URL",
            ));
        }

        let jwt_secret = get("JWT_SECRET");
        if env == AppEnv::Production {
            match &jwt_secret {
                None => return Err(invalid("JWT_SECRET", "is required when APP_ENV=production")),
                Some(s) if s.len() < MIN_PRODUCTION_SECRET_BYTES => {
                    return Err(invalid(
                        "JWT_SECRET",
                        format!("must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes when APP_ENV=production"),
                    ))
                }
                _ => {}
            }
        }

        let zoom =
            match (
                get("ZOOM_ACCOUNT_ID"),
                get("ZOOM_CLIENT_ID"),
                get("ZOOM_CLIENT_SECRET"),
            ) {
                (None, None, None) => None,
                (Some(account_id), Some(client_id), Some(client_secret)) => Some(ZoomCredentials {
                    account_id,
                    client_id,
                    client_secret,
                }),
                _ => return Err(invalid(
                    "ZOOM_ACCOUNT_ID",
                    "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET must be set together (or none of them)",
                )),
            };
        if zoom.is_none() && env == AppEnv::Production {
            return Err(invalid(
                "ZOOM_ACCOUNT_ID",
                "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are required when APP_ENV=production (the simulated Zoom is for local runs)",
            ));
        }
        let zoom_api_url = url_var(&get, "ZOOM_API_URL", "https://api.zoom.us/v2")?;
        let zoom_oauth_url = url_var(&get, "ZOOM_OAUTH_URL", "https://zoom.us/oauth/token")?;

        let smtp_url = get("SMTP_URL");
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(invalid("SMTP_URL", "must start with smtp:// or smtps://"));
            }
        }
        let mail_from =
            get("MAIL_FROM").unwrap_or_else(|| "Specialistly <no-reply@localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "MAIL_FROM",
                "must be an address such as `Name <user@host>`",
            ));
        }
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".into()));
        let mail_dir = get("MAIL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("mail"));

        let appointment_refresh_seconds = number_var(&get, "APPOINTMENT_REFRESH_SECONDS", 30)?;
        if appointment_refresh_seconds == 0 {
            return Err(invalid("APPOINTMENT_REFRESH_SECONDS", "must be at least 1"));
        }
        let seed_demo_data = match get("SEED_DEMO_DATA").as_deref() {
            None => env == AppEnv::Development,
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            Some(_) => return Err(invalid("SEED_DEMO_DATA", "must be true or false")),
        };
        let outbox_poll_millis = number_var(&get, "OUTBOX_POLL_MILLIS", 1000)?;

        Ok(Self {
            env,
            base_url,
            database_url,
            surreal_ns: get("SURREAL_NS").unwrap_or_else(|| "specialistly".into()),
            surreal_db: get("SURREAL_DB").unwrap_or_else(|| "main".into()),
            surreal_user,
            surreal_pass,
            jwt_secret,
            data_dir,
            zoom,
            zoom_api_url,
            zoom_oauth_url,
            zoom_default_host: get("ZOOM_DEFAULT_HOST"),
            smtp_url,
            mail_from,
            mail_dir,
            appointment_refresh_seconds: appointment_refresh_seconds as u32,
            seed_demo_data,
            outbox_poll_millis,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }

    /// Cookies get `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
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
        assert_eq!(c.database_url, "surrealkv://data/db");
        assert_eq!(c.base_url, "http://127.0.0.1:3000");
        assert!(c.zoom.is_none());
        assert!(c.smtp_url.is_none());
        assert_eq!(c.mail_dir, PathBuf::from("data/mail"));
        assert_eq!(c.zoom_api_url, "https://api.zoom.us/v2");
        assert_eq!(c.zoom_oauth_url, "https://zoom.us/oauth/token");
        assert_eq!(c.appointment_refresh_seconds, 30);
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
    fn zoom_credentials_come_all_together() {
        let err = parse(&[("ZOOM_ACCOUNT_ID", "a")]).unwrap_err();
        assert_eq!(err.var, "ZOOM_ACCOUNT_ID");
        let c = parse(&[
            ("ZOOM_ACCOUNT_ID", "a"),
            ("ZOOM_CLIENT_ID", "b"),
            ("ZOOM_CLIENT_SECRET", "c"),
        ])
        .unwrap();
        let zoom = c.zoom.unwrap();
        assert_eq!(zoom.client_id, "b");
        assert!(
            !format!("{zoom:?}").contains("\"c\""),
            "the secret never reaches a log"
        );
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
    fn https_base_url_makes_cookies_secure() {
        let c = parse(&[("APP_BASE_URL", "https://book.example.com/")]).unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.base_url, "https://book.example.com");
    }
}
