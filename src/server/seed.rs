//! Demo data for local runs: one specialist, one customer and a few upcoming slots.
//! Idempotent: an existing demo specialist means the data is already there.

use chrono::{Duration, Utc};

use serde_json::json;

use super::app_state::AppState;
use super::db::{run, Db, DbError};
use super::repo::users;
use super::service::accounts::{self, Registration};
use super::service::slots::{self, SlotInput};
use crate::model::{DemoAccount, Role};

pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_SPECIALIST_EMAIL: &str = "specialist@demo.test";
pub const DEMO_CUSTOMER_EMAIL: &str = "customer@demo.test";
const DEMO_TIMEZONE: &str = "Europe/Berlin";

pub fn demo_accounts() -> Vec<DemoAccount> {
    vec![
        DemoAccount {
            role: Role::Specialist,
            email: DEMO_SPECIALIST_EMAIL.into(),
            password: DEMO_PASSWORD.into(),
        },
        DemoAccount {
            role: Role::Customer,
            email: DEMO_CUSTOMER_EMAIL.into(),
            password: DEMO_PASSWORD.into(),
        },
    ]
}

/// What a demo account's password hash becomes in production: no password matches it.
pub const DISABLED_HASH: &str = "disabled: a demo account, found when starting in production";

/// Production never lets the demo accounts (public passwords) in: if a trial run left them
/// in this database, their passwords stop working and their sessions end. Returns the
/// addresses that were disabled now.
pub async fn disable_demo_accounts(db: &Db) -> Result<Vec<String>, DbError> {
    let vars = json!({
        "emails": [DEMO_SPECIALIST_EMAIL, DEMO_CUSTOMER_EMAIL],
        "disabled": DISABLED_HASH,
    });
    let enabled: Vec<String> = run(
        db,
        "SELECT VALUE email FROM user WHERE email IN $emails AND password_hash != $disabled",
        vars.clone(),
    )
    .await?
    .all(0)?;
    if !enabled.is_empty() {
        let demo: Vec<String> = run(
            db,
            "UPDATE user SET password_hash = $disabled WHERE email IN $emails RETURN VALUE record::id(id);",
            vars,
        )
        .await?
        .all(0)?;
        // And whatever the public password let anyone make meanwhile: API tokens, a feed
        // address, webhook endpoints (review G3), with the sessions.
        for user_id in demo {
            super::repo::grants::end_all_of(db, &user_id).await?;
        }
    }
    Ok(enabled)
}

pub async fn seed_demo_data(state: &AppState) -> anyhow::Result<()> {
    let existing = users::by_email(&state.db, DEMO_SPECIALIST_EMAIL).await?;
    if existing.is_none() {
        let specialist = register(
            state,
            "Dr. Maria Keller",
            DEMO_SPECIALIST_EMAIL,
            "specialist",
        )
        .await?;
        register(state, "Sam Customer", DEMO_CUSTOMER_EMAIL, "customer").await?;
        // Seeding acts for the specialist directly; no request, so no session of its own.
        let caller = super::auth::Caller {
            user_id: specialist,
            role: Role::Specialist,
            session_id: String::new(),
            api_token: None,
            name: "Dr. Maria Keller".into(),
            email: DEMO_SPECIALIST_EMAIL.into(),
            timezone: DEMO_TIMEZONE.into(),
        };
        let offers = [
            (1, "09:00", 45, 1, "Career strategy session"),
            (1, "15:30", 60, 3, "Tax questions for freelancers"),
            (2, "11:00", 30, 1, "Portfolio review"),
            (3, "17:00", 90, 10, "Group Q&A: starting a consultancy"),
            (5, "10:00", 60, 2, "Pricing your services"),
        ];
        for (days, time, duration, capacity, title) in offers {
            let date = (Utc::now() + Duration::days(days))
                .format("%Y-%m-%d")
                .to_string();
            slots::create(
                state,
                Some(&caller),
                SlotInput {
                    date: Some(date),
                    start_time: Some(time.into()),
                    duration: Some(duration),
                    capacity: Some(capacity),
                    title: Some(title.into()),
                    description: Some("A demo slot seeded for local runs.".into()),
                    timezone: Some(DEMO_TIMEZONE.into()),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("seeding a slot: {}", e.message))?;
        }
        tracing::info!("seeded demo data");
    }
    for a in demo_accounts() {
        tracing::info!(role = a.role.as_str(), email = %a.email, password = %a.password, "demo account");
    }
    Ok(())
}

async fn register(state: &AppState, name: &str, email: &str, role: &str) -> anyhow::Result<String> {
    let payload = accounts::register(
        state,
        None,
        Registration {
            name: name.into(),
            email: email.into(),
            password: DEMO_PASSWORD.into(),
            role: role.into(),
            timezone: Some(DEMO_TIMEZONE.into()),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("seeding {email}: {}", e.message))?;
    // Demo accounts are made by the operator, not signed up: their addresses need no link.
    users::mark_email_verified(&state.db, &payload.user.id).await?;
    Ok(payload.user.id)
}
