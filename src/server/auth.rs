//! Login tokens: an HS256 JWT, in a cookie or a Bearer header, naming a session.

use std::sync::Arc;

use anyhow::Context;
use axum::http::{header, HeaderMap};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::config::AuthConfig;
use crate::model::Role;

pub const AUTH_COOKIE: &str = "specialistly_token";
/// Tokens live for a week at most.
pub const TOKEN_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;

/// What a token says: whose session it is. Nothing else (not the role) is trusted from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// A correctly signed, unexpired token's subject and session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: String,
    pub session_id: String,
}

/// Who is calling: a live session's user, with the role, name, email and zone the database
/// holds now (read with the session in one step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub role: Role,
    pub session_id: String,
    pub name: String,
    pub email: String,
    pub timezone: String,
    /// Set when the request carries an integrator's API token rather than a login.
    pub api_token: Option<ApiTokenGrant>,
}

/// What an API token allows: reading always, writing when it has the `write` scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenGrant {
    pub id: String,
    pub can_write: bool,
}

impl Caller {
    /// Whether this caller may make changes: a login may, an API token with `write` may.
    pub fn may_write(&self) -> bool {
        self.api_token.as_ref().is_none_or(|grant| grant.can_write)
    }
}

/// API tokens start with this, so they are told from login tokens (and found by secret
/// scanners) at a glance.
pub const API_TOKEN_PREFIX: &str = "spt_";

/// The API token of an `Authorization: Bearer spt_…` header (never from a cookie).
pub fn api_token_from_headers(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    token.strip_prefix(API_TOKEN_PREFIX)
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The key of manage links (`manage_links.rs`), derived from the same secret so every
    /// instance that accepts a login accepts a link too.
    pub link_key: [u8; 32],
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            link_key: super::manage_links::derive_key(secret),
        }
    }

    /// The configured secret, or in development one generated once and kept in the data
    /// directory, so logins survive restarts and every instance sharing the directory agrees.
    pub fn load(config: &AuthConfig) -> anyhow::Result<Arc<Self>> {
        if let Some(secret) = &config.jwt_secret {
            return Ok(Arc::new(Self::from_secret(secret.expose().as_bytes())));
        }
        let path = config.data_dir.join("jwt_secret");
        let secret = match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => s.trim().to_string(),
            _ => {
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("creating {}", config.data_dir.display()))?;
                let secret: String = (0..64)
                    .map(|_| format!("{:x}", rand::random::<u8>() % 16))
                    .collect();
                write_private(&path, &secret)
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "generated a development JWT secret");
                secret
            }
        };
        Ok(Arc::new(Self::from_secret(secret.as_bytes())))
    }

    pub fn issue(&self, user_id: &str, session_id: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now,
            exp: now + TOKEN_LIFETIME_SECONDS,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The subject of a well-formed, correctly signed, unexpired HS256 token; `None` otherwise
    /// (including `alg: none` and other algorithms). Whether its session is still live is the
    /// database's to say.
    pub fn verify(&self, token: &str) -> Option<TokenSubject> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = decode::<Claims>(token, &self.decoding, &validation).ok()?;
        Some(TokenSubject {
            user_id: data.claims.sub,
            session_id: data.claims.sid,
        })
    }
}

/// The token a request carries: a Bearer header wins over the cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        {
            return Some(token.trim().to_string());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == AUTH_COOKIE)
        .map(|(_, value)| value.to_string())
}

pub fn login_cookie(token: &str, secure: bool) -> String {
    format!(
        "{AUTH_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={TOKEN_LIFETIME_SECONDS}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn logout_cookie(secure: bool) -> String {
    format!(
        "{AUTH_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Writes a secret readable by this user only (mode 0600), whatever the umask.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode through `open`; set it too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_tampering_is_refused() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let token = keys.issue("abc", "s1");
        assert_eq!(
            keys.verify(&token),
            Some(TokenSubject {
                user_id: "abc".into(),
                session_id: "s1".into(),
            })
        );
        let other = JwtKeys::from_secret(b"another secret another secret!!!");
        assert_eq!(other.verify(&token), None);
        let mut tampered = token.clone();
        tampered.pop();
        assert_eq!(keys.verify(&tampered), None);
    }

    #[test]
    fn bearer_header_wins_over_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("a=b; {AUTH_COOKIE}=from-cookie").parse().unwrap(),
        );
        assert_eq!(token_from_headers(&headers).as_deref(), Some("from-cookie"));
        headers.insert(header::AUTHORIZATION, "Bearer from-header".parse().unwrap());
        assert_eq!(token_from_headers(&headers).as_deref(), Some("from-header"));
    }

    #[test]
    fn cookies_are_http_only_and_secure_on_https() {
        let c = login_cookie("t", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("; Secure"));
        assert!(!login_cookie("t", false).contains("Secure"));
    }
}
