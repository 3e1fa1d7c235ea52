//! What integrators see: API tokens and outgoing webhook endpoints with their deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An integrator's API token as its owner sees it (the secret itself is shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    /// `read`, and `write` when it may change things.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made: the secret, shown this once, with its description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewApiToken {
    pub token: String,
    #[serde(flatten)]
    pub info: ApiTokenView,
}

/// The events a webhook endpoint can subscribe to, by their message `type`.
pub const WEBHOOK_EVENTS: [&str; 6] = [
    "booking.created",
    "booking.cancelled",
    "booking.rescheduled",
    "meeting.created",
    "meeting.deleted",
    "attendance.recorded",
];

/// A webhook endpoint as its specialist sees it (the secret is shown once, when made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why it was turned off: a 410 answer, or a day of failed deliveries.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An endpoint just made, with its signing secret (`whsec_…`), shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewWebhookEndpoint {
    pub secret: String,
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
}

/// One attempt at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A message to an endpoint and what became of it: the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryView {
    pub id: String,
    pub event_type: String,
    /// The `webhook-id` header: the same for every attempt and replay.
    pub message_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
    /// The message as sent.
    pub body: String,
}
