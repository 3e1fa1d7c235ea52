//! The REST door's view of who is calling.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;

/// The address of the client, where the connection (or a trusted proxy) tells it.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, state)))
    }
}

/// The client's address: the connection's peer, or behind a trusted proxy the address it saw.
pub fn client_ip(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())?;
    Some(
        state
            .config
            .http
            .trusted_proxies
            .client(peer, &parts.headers),
    )
}

/// Whether the request comes from this machine itself, judged by the connection alone: its
/// peer is loopback (or in `extra`) and it was not forwarded by a proxy. Headers a client
/// writes never grant this, and a request a proxy forwarded (`X-Forwarded-For`, which every
/// proxy in `TRUSTED_PROXIES` must append) came from somewhere else.
pub fn from_this_machine(
    parts: &Parts,
    state: &AppState,
    extra: &crate::server::security::Networks,
) -> bool {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical())
    else {
        return false;
    };
    let forwarded = state.config.http.trusted_proxies.contains(peer)
        && (parts.headers.contains_key("x-forwarded-for")
            || parts.headers.contains_key("forwarded")
            || parts.headers.contains_key("x-real-ip"));
    (peer.is_loopback() || extra.contains(peer)) && !forwarded
}

/// A caller a middleware already resolved (and scope-checked) for this request.
#[derive(Clone)]
pub struct ResolvedCaller(pub Caller);

/// The caller of a REST request, when it carries a valid token (handlers decide what a
/// missing one means). A read-only API token asking for a change is refused here, for
/// every route at once.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use crate::server::service::sessions;
        if let Some(ResolvedCaller(caller)) = parts.extensions.remove::<ResolvedCaller>() {
            return Ok(Self(Some(caller)));
        }
        let caller = sessions::caller(state, &parts.headers).await?;
        sessions::check_scope(caller.as_ref(), &parts.method)?;
        Ok(Self(caller))
    }
}
