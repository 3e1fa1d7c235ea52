//! Operator commands of the server binary (`specialistly admin …`), run against the
//! configured database. What only an operator may decide lives here, not behind a form.

use anyhow::{bail, Context};

use super::config::Config;
use super::db;
use super::repo::{grants, jobs, users};
use super::service::accounts::validate_zoom_user;
use crate::model::Role;

pub const USAGE: &str = "usage:
  specialistly admin set-zoom-host <specialist-email> <zoom-user>
      Meetings of that specialist are hosted by <zoom-user> (an email, a Zoom user id or
      \"me\"); \"-\" gives the host back to the specialist's own verified email.
  specialistly admin jobs [--failed]
      The job queue (emails, Zoom deletions and updates), oldest first.
  specialistly admin retry-job <id>
      Queues a failed job again, due now.
  specialistly admin revoke-sessions <email>
      Ends every session of that account and revokes its API tokens: they stop working at once.";

/// Runs `args` (what follows `admin`) and returns what to print.
pub async fn run(config: &Config, args: &[String]) -> anyhow::Result<String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    if !matches!(
        words.as_slice(),
        ["set-zoom-host", _, _]
            | ["jobs"]
            | ["jobs", "--failed"]
            | ["retry-job", _]
            | ["revoke-sessions", _]
    ) {
        bail!("{USAGE}");
    }
    let db = db::connect(&config.database).await?;
    db::migrate(&db).await?;
    match words.as_slice() {
        ["set-zoom-host", email, zoom_user] => set_zoom_host(&db, email, zoom_user).await,
        ["jobs"] => list_jobs(&db, false).await,
        ["jobs", "--failed"] => list_jobs(&db, true).await,
        ["retry-job", id] => retry_job(&db, id).await,
        ["revoke-sessions", email] => revoke_sessions(&db, email).await,
        _ => bail!("{USAGE}"),
    }
}

/// One line a job: id, kind, status, attempts, when it is due or finished, key, last error.
pub async fn list_jobs(db: &db::Db, failed_only: bool) -> anyhow::Result<String> {
    let rows = jobs::list(db, failed_only).await?;
    if rows.is_empty() {
        return Ok(if failed_only {
            "no failed jobs"
        } else {
            "no jobs"
        }
        .into());
    }
    Ok(rows
        .iter()
        .map(|j| {
            format!(
                "{}  {:<11} {:<9} attempts={} {} {}{}",
                j.id,
                format!("{:?}", j.kind),
                format!("{:?}", j.status).to_lowercase(),
                j.attempts,
                j.done_at.unwrap_or(j.run_at).format("%Y-%m-%d %H:%M:%S"),
                j.key,
                j.last_error
                    .as_deref()
                    .map(|e| format!("  error: {e}"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

pub async fn retry_job(db: &db::Db, id: &str) -> anyhow::Result<String> {
    if !db::is_valid_key(id) || !jobs::retry(db, id).await? {
        bail!("no failed job with the id {id}");
    }
    Ok(format!("job {id} queued again"))
}

pub async fn revoke_sessions(db: &db::Db, email: &str) -> anyhow::Result<String> {
    let email = email.trim().to_lowercase();
    let user = users::by_email(db, &email)
        .await?
        .with_context(|| format!("no account with the email {email}"))?;
    let ended = grants::end_all_of(db, &user.id).await?;
    Ok(format!(
        "{email}: {} session(s) ended, {} API token(s) revoked, {} calendar feed address(es) ended, {} webhook endpoint(s) turned off",
        ended.sessions, ended.api_tokens, ended.feeds, ended.endpoints
    ))
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
