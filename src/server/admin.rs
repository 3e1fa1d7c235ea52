//! Operator commands of the server binary (`specialistly admin …`), run against the
//! configured database. What only an operator may decide lives here, not behind a form.

use anyhow::{bail, Context};

use super::config::Config;
use super::db;
use super::repo::users;
use super::service::accounts::validate_zoom_user;
use crate::model::Role;

pub const USAGE: &str = "usage:
  specialistly admin set-zoom-host <specialist-email> <zoom-user>
      Meetings of that specialist are hosted by <zoom-user> (an email, a Zoom user id or
      \"me\"); \"-\" gives the host back to the specialist's own verified email.";

/// Runs `args` (what follows `admin`) and returns what to print.
pub async fn run(config: &Config, args: &[String]) -> anyhow::Result<String> {
    match args {
        [command, email, zoom_user] if command == "set-zoom-host" => {
            let db = db::connect(&config.database).await?;
            db::migrate(&db).await?;
            set_zoom_host(&db, email, zoom_user).await
        }
        _ => bail!("{USAGE}"),
    }
}

pub async fn set_zoom_host(db: &db::Db, email: &str, zoom_user: &str) -> anyhow::Result<String> {
    let email = email.trim().to_lowercase();
    let user = users::by_email(db, &email)
        .await?
        .with_context(|| format!("no account with the email {email}"))?;
    if user.role != Role::Specialist {
        bail!("{email} is not a specialist");
    }
    let host = match zoom_user.trim() {
        "-" => None,
        other => Some(
            validate_zoom_user(Some(other))
                .map_err(|e| anyhow::anyhow!(e.message))?
                .context("the Zoom user is empty")?,
        ),
    };
    users::set_zoom_host(db, &user.id, host.as_deref()).await?;
    Ok(match host {
        Some(h) => format!("{email}: meetings are now hosted by the Zoom user {h}"),
        None => format!("{email}: meetings are now hosted by the specialist's own email"),
    })
}
