use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Specialist,
}

impl Role {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "customer" => Some(Self::Customer),
            "specialist" => Some(Self::Specialist),
            _ => None,
        }
    }
    /// Where a user of this role lands after logging in.
    pub fn home_path(self) -> &'static str {
        match self {
            Self::Specialist => "/specialist",
            Self::Customer => "/slots",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Specialist => "specialist",
        }
    }
}

/// A user as the user themself (and API clients acting for them) may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub timezone: String,
    /// Whether the address was confirmed through the link emailed at sign-up.
    pub email_verified: bool,
    /// Whether reminder emails are sent (confirmations always are).
    #[serde(default)]
    pub reminders_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthPayload {
    pub token: String,
    pub user: UserView,
}

/// The account a confirmation link would confirm, shown before the visitor confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PendingConfirmation {
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// Demo accounts shown on the login page in dev mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DemoAccount {
    pub role: Role,
    pub email: String,
    pub password: String,
}

/// A specialist's Zoom host user and the settings their meetings are created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ZoomSettings {
    /// The Zoom user that hosts their meetings; `None` means their account email.
    pub zoom_user: Option<String>,
    #[serde(flatten)]
    pub meeting: MeetingDefaults,
    /// Create meetings still missing this many minutes before the start (5–120); off: `None`.
    #[serde(default)]
    pub auto_create_minutes: Option<u32>,
}

/// The Zoom settings every meeting of a specialist is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MeetingDefaults {
    pub waiting_room: bool,
    pub join_before_host: bool,
    pub host_video: bool,
    pub participant_video: bool,
    pub mute_upon_entry: bool,
    /// Zoom records to its cloud (`auto_recording: "cloud"`); the files are kept here for the
    /// booking's customer and specialist.
    #[serde(default)]
    pub cloud_recording: bool,
    /// A regular customer's second and later bookings share one Zoom meeting with no fixed
    /// time, so their link never changes.
    #[serde(default)]
    pub recurring_links: bool,
}

/// What a request for a password reset link is told, whether or not an account has the
/// address (the API's answer and the page's).
pub const RESET_LINK_SENT: &str =
    "If an account has this address, a link to choose a new password is on its way. It works for one hour.";

/// What the account page says once a new address was asked for.
pub const EMAIL_CHANGE_SENT: &str =
    "We have emailed a link to the new address: the change is made once you open it. Your old address was told.";

/// `PUT /api/profile`: the name and time zone the account shows and is emailed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileInput {
    pub name: String,
    /// An IANA zone.
    #[cfg_attr(feature = "ssr", schema(example = "Europe/Berlin"))]
    pub timezone: String,
}

/// `GET /api/profile/export`: what the product keeps of an account, for its owner. No secret
/// is in it (no password hash, token, signing secret or calendar address in full).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountExport {
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub account: UserView,
    /// A customer's bookings and waitlist places.
    pub appointments: Vec<super::MyAppointment>,
    /// A specialist's slots, their offerings and busy calendars, and what customers said.
    pub slots: Vec<super::SlotView>,
    pub offerings: Vec<super::OfferingView>,
    pub busy_calendars: Vec<super::BusyCalendarView>,
    pub feedback: Option<super::FeedbackSummary>,
    pub webhook_endpoints: Vec<super::WebhookEndpointView>,
    pub api_tokens: Vec<super::ApiTokenView>,
}
