//! Development-only pages (absent when APP_ENV=production, and answered to loopback clients
//! only): the mail written to files, and the page simulated Zoom links lead to.

use std::path::{Path as FsPath, PathBuf};

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use mail_parser::{MessageParser, MimeHeaders};

use crate::server::app_state::AppState;
use crate::server::mail::templates::document::escape_html;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/dev/mail", get(mail_index))
        .route("/dev/mail/{name}", get(mail_message))
        .route("/dev/zoom/{id}", get(simulated_meeting))
        .route("/dev/zoom/recordings/{name}", get(simulated_recording))
        .route_layer(middleware::from_fn_with_state(state, loopback_only))
}

/// The mail shown here holds join links and passwords: only the machine itself may look.
/// To anyone else these pages do not exist.
async fn loopback_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The connection decides: a forwarded request came from elsewhere, whatever its headers say.
    let (parts, body) = request.into_parts();
    let local = super::caller::from_this_machine(
        &parts,
        &state,
        &crate::server::security::Networks::default(),
    );
    if local {
        next.run(Request::from_parts(parts, body)).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

fn page(state: &AppState, title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t}</title><link rel="stylesheet" href="{css}"></head>
<body><header class="topbar"><a class="brand" href="/">Specialistly</a><span class="badge badge-warn">Development</span></header>
<main class="container">{body}</main></body></html>"#,
        t = escape_html(title),
        css = crate::server::assets::stylesheet_href(&state.leptos_options),
    ))
}

struct Listed {
    name: String,
    modified: std::time::SystemTime,
    to: String,
    subject: String,
}

fn read_messages(dir: &FsPath) -> Vec<Listed> {
    let mut list = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return list;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Some(message) = MessageParser::default().parse(&bytes) else {
            continue;
        };
        list.push(Listed {
            name: entry.file_name().to_string_lossy().into_owned(),
            modified: entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH),
            to: message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string(),
            subject: message.subject().unwrap_or_default().to_string(),
        });
    }
    list.sort_by_key(|m| std::cmp::Reverse(m.modified));
    list
}

async fn mail_index(State(state): State<AppState>) -> Html<String> {
    let messages = read_messages(&state.config.mail.dir);
    let rows: String = messages
        .iter()
        .map(|m| {
            let when: chrono::DateTime<chrono::Utc> = m.modified.into();
            format!(
                "<tr><td>{}</td><td>{}</td><td><a href=\"/dev/mail/{}\">{}</a></td></tr>",
                when.format("%Y-%m-%d %H:%M:%S UTC"),
                escape_html(&m.to),
                escape_html(&m.name),
                escape_html(&m.subject)
            )
        })
        .collect();
    let body = if messages.is_empty() {
        format!(
            "<h1>Mail</h1><p class=\"muted\">No emails yet. Emails are written to <code>{}</code> because SMTP_URL is not set.</p>",
            escape_html(&state.config.mail.dir.display().to_string())
        )
    } else {
        format!(
            "<h1>Mail</h1><p class=\"muted\">{} emails written to <code>{}</code> (SMTP_URL is not set).</p>
             <table class=\"table\"><thead><tr><th>Time</th><th>To</th><th>Subject</th></tr></thead><tbody>{rows}</tbody></table>",
            messages.len(),
            escape_html(&state.config.mail.dir.display().to_string())
        )
    };
    page(&state, "Mail", &body)
}

async fn mail_message(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let valid = name.ends_with(".eml")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let path: PathBuf = state.config.mail.dir.join(&name);
    let bytes = match (valid, std::fs::read(&path)) {
        (true, Ok(bytes)) => bytes,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                page(&state, "Not found", "<h1>No such email</h1>"),
            )
                .into_response()
        }
    };
    let Some(message) = MessageParser::default().parse(&bytes) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, "Unreadable", "<h1>Unreadable email</h1>"),
        )
            .into_response();
    };
    let subject = message.subject().unwrap_or_default().to_string();
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string();
    let html = message
        .body_html(0)
        .map(|h| h.into_owned())
        .unwrap_or_default();
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let attachments: String = message
        .attachments()
        .map(|a| {
            format!(
                "<li>{}</li>",
                escape_html(a.attachment_name().unwrap_or("attachment"))
            )
        })
        .collect();
    let body = format!(
        "<p><a href=\"/dev/mail\">← All mail</a></p><h1>{s}</h1><p><strong>To:</strong> {to}</p>
         <h2>HTML</h2><iframe class=\"mail-frame\" sandbox srcdoc=\"{html}\" title=\"HTML part\"></iframe>
         <h2>Plain text</h2><pre class=\"mail-text\">{text}</pre><h2>Attachments</h2><ul>{attachments}</ul>",
        s = escape_html(&subject),
        to = escape_html(&to),
        html = escape_html(&html),
        text = escape_html(&text),
    );
    page(&state, &subject, &body).into_response()
}

async fn simulated_meeting(State(state): State<AppState>, Path(id): Path<String>) -> Html<String> {
    page(
        &state,
        "Simulated Zoom meeting",
        &format!(
            "<h1>Simulated Zoom meeting</h1><div class=\"card\"><p><span class=\"badge badge-warn\">simulated</span></p>
             <p>Meeting <strong>{}</strong> was made by the simulated Zoom provider because no Zoom credentials are configured.
             No real meeting exists. Set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET to create real meetings.</p></div>",
            escape_html(&id)
        ),
    )
}

/// A recording file as the simulated Zoom "records" it (a short transcript), for trying the
/// recording flow locally: a signed `recording.completed` naming this URL is fetched from here.
async fn simulated_recording(Path(name): Path<String>) -> Response {
    let transcript = format!(
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:04.000\nSimulated recording {}: no real meeting was recorded.\n",
        name.chars().filter(char::is_ascii_alphanumeric).take(40).collect::<String>()
    );
    ([(axum::http::header::CONTENT_TYPE, "text/vtt")], transcript).into_response()
}
