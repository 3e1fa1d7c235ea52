//! Delivery through lettre: SMTP when `SMTP_URL` is set, otherwise `.eml` files under
//! `MAIL_DIR` (shown at `/dev/mail` in development).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::OutgoingEmail;
use crate::server::config::MailConfig;

/// The mail server could not be reached: connection refused, timed out, broken off, or no
/// SMTP answer. Says nothing about the message, so it should not spend the message's attempts.
#[derive(Debug, thiserror::Error)]
#[error("SMTP server unreachable: {0}")]
pub struct MailServerUnreachable(String);

impl MailServerUnreachable {
    pub fn new(reason: String) -> Self {
        Self(reason)
    }
}

#[derive(Clone)]
pub enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl MailTransport {
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Self> {
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("SMTP_URL is not a valid lettre SMTP URL")?
                    // Bounds the connection and each read; the worker bounds the whole
                    // conversation (a job's deadline), since lettre's timeout may not.
                    .timeout(Some(Duration::from_secs(
                        (config.lease_seconds / 2).clamp(1, 30),
                    )))
                    .build();
                Ok(Self::Smtp(transport))
            }
            None => {
                std::fs::create_dir_all(&config.dir)
                    .with_context(|| format!("creating MAIL_DIR {}", config.dir.display()))?;
                Ok(Self::Files(
                    AsyncFileTransport::new(&config.dir),
                    config.dir.clone(),
                ))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "SMTP".into(),
            Self::Files(_, dir) => format!("files in {}", dir.display()),
        }
    }

    /// Hands `message` to the mail server. A server that could not be reached (or did not
    /// answer in SMTP) fails with [`MailServerUnreachable`]; an answer about this message
    /// (4xx, 5xx) with a plain error.
    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            Self::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_transient() || e.is_permanent() || e.is_client() {
                    anyhow::anyhow!("SMTP: {e}")
                } else {
                    MailServerUnreachable(e.to_string()).into()
                }
            }),
            Self::Files(t, _) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("file: {e}")),
        }
    }
}

/// Builds the MIME message: multipart/mixed of (text + HTML alternatives) and attachments.
pub fn build_message(from: &Mailbox, email: &OutgoingEmail) -> anyhow::Result<Message> {
    let to: Mailbox = email.to.parse().context("recipient address")?;
    let body = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone());
    for (name, value) in &email.headers {
        let name = HeaderName::new_from_ascii(name.clone()).context("header name")?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let message = if email.attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &email.attachments {
            let content_type =
                ContentType::parse(&a.content_type).context("attachment content type")?;
            let part: SinglePart =
                LettreAttachment::new(a.filename.clone()).body(a.content.clone(), content_type);
            mixed = mixed.singlepart(part);
        }
        builder.multipart(mixed)
    };
    message.context("building the message")
}
