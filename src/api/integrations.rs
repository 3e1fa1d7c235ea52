//! Server functions of the integrations page: API tokens and outgoing webhooks.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    ApiTokenView, NewApiToken, NewWebhookEndpoint, WebhookDeliveryView, WebhookEndpointView,
};

#[server(endpoint = "api_tokens")]
pub async fn api_tokens() -> Result<Vec<ApiTokenView>, AppError> {
    use crate::server::service::api_tokens;
    crate::api::serve::serve(|state, caller| async move {
        api_tokens::list(&state, caller.as_ref()).await
    })
    .await
}

#[server(endpoint = "create_api_token")]
pub async fn create_api_token(name: String, write: bool) -> Result<NewApiToken, AppError> {
    use crate::server::service::api_tokens::{self, TokenRequest};
    let mut scopes = vec!["read".to_string()];
    if write {
        scopes.push("write".into());
    }
    crate::api::serve::serve(|state, caller| async move {
        api_tokens::create(&state, caller.as_ref(), TokenRequest { name, scopes }).await
    })
    .await
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    use crate::server::service::api_tokens;
    crate::api::serve::serve(|state, caller| async move {
        api_tokens::revoke(&state, caller.as_ref(), &id).await
    })
    .await
}

#[server(endpoint = "webhook_endpoints")]
pub async fn webhook_endpoints() -> Result<Vec<WebhookEndpointView>, AppError> {
    use crate::server::service::webhooks;
    crate::api::serve::serve(|state, caller| async move {
        webhooks::endpoints(&state, caller.as_ref()).await
    })
    .await
}

#[server(endpoint = "add_webhook_endpoint")]
pub async fn add_webhook_endpoint(
    url: String,
    events: Vec<String>,
) -> Result<NewWebhookEndpoint, AppError> {
    use crate::server::service::webhooks::{self, EndpointRequest};
    crate::api::serve::serve(|state, caller| async move {
        webhooks::create_endpoint(&state, caller.as_ref(), EndpointRequest { url, events }).await
    })
    .await
}

#[server(endpoint = "remove_webhook_endpoint")]
pub async fn remove_webhook_endpoint(id: String) -> Result<(), AppError> {
    use crate::server::service::webhooks;
    crate::api::serve::serve(|state, caller| async move {
        webhooks::delete_endpoint(&state, caller.as_ref(), &id).await
    })
    .await
}

#[server(endpoint = "enable_webhook_endpoint")]
pub async fn enable_webhook_endpoint(id: String) -> Result<WebhookEndpointView, AppError> {
    use crate::server::service::webhooks;
    crate::api::serve::serve(|state, caller| async move {
        webhooks::enable_endpoint(&state, caller.as_ref(), &id).await
    })
    .await
}

#[server(endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(endpoint_id: String) -> Result<Vec<WebhookDeliveryView>, AppError> {
    use crate::server::service::webhooks;
    crate::api::serve::serve(|state, caller| async move {
        webhooks::deliveries(&state, caller.as_ref(), &endpoint_id).await
    })
    .await
}

#[server(endpoint = "replay_webhook_delivery")]
pub async fn replay_webhook_delivery(
    endpoint_id: String,
    delivery_id: String,
) -> Result<(), AppError> {
    use crate::server::service::webhooks;
    crate::api::serve::serve(|state, caller| async move {
        webhooks::replay(&state, caller.as_ref(), &endpoint_id, &delivery_id).await
    })
    .await
}
