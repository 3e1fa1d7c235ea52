//! What Zoom told us about a booking's meeting, as the Meeting Manager and the appointment
//! page show it: attendance and outcome, a meeting deleted or moved in Zoom, the feedback.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind, Stars};
use crate::model::{Attendance, BookingView, Feedback, Outcome, RecordingView, ZoomChange};
use crate::time_fmt;

/// "Attended · 30 min" or "No-show", with the times of joining and leaving.
#[component]
pub fn AttendanceView(
    attendance: Option<Attendance>,
    outcome: Option<Outcome>,
    timezone: String,
) -> impl IntoView {
    if attendance.is_none() && outcome.is_none() {
        return None;
    }
    let badge = outcome.map(|o| {
        let class = match o {
            Outcome::Attended => "badge badge-ok",
            Outcome::NoShow => "badge badge-warn",
        };
        view! { <span class=class data-testid="outcome">{o.label()}</span> }
    });
    let time = move |t: chrono::DateTime<chrono::Utc>| time_fmt::time_in(t, &timezone);
    let facts = attendance.map(|a| {
        view! {
            <dl class="facts small" data-testid="attendance">
                {a.customer_joined_at.map(|t| view! { <dt>"Customer joined"</dt><dd>{time(t)}</dd> })}
                {a.customer_left_at.map(|t| view! { <dt>"Customer left"</dt><dd>{time(t)}</dd> })}
                <dt>"Customer's time in the meeting"</dt><dd data-testid="attendance-minutes">{format!("{} min", a.customer_minutes)}</dd>
                {a.host_joined_at.map(|t| view! { <dt>"Host joined"</dt><dd>{time(t)}</dd> })}
            </dl>
        }
    });
    Some(view! {
        <div class="attendance">
            <h4>"Attendance " {badge}</h4>
            {facts}
        </div>
    })
}

/// The meeting's time in Zoom differs from the slot's: both, for the specialist to decide.
#[component]
pub fn ZoomChangedNotice(change: ZoomChange, timezone: String) -> impl IntoView {
    let at = |t, d| format!("{} ({d} min)", time_fmt::date_time_in(t, &timezone));
    view! {
        <p class="alert alert-warn" role="status" data-testid="zoom-changed">
            "Changed in Zoom: the meeting is at " <strong>{at(change.zoom_start_time, change.zoom_duration)}</strong>
            ", the booking at " <strong>{at(change.slot_start_time, change.slot_duration)}</strong> "."
        </p>
    }
}

/// The meetings this booking had before, deleted in Zoom.
#[component]
pub fn MeetingHistoryNote(booking: BookingView, timezone: String) -> impl IntoView {
    let last = booking.meeting_history.last().cloned()?;
    Some(view! {
        <p class="muted small" data-testid="deleted-in-zoom">
            {format!(
                "The meeting {} was deleted in Zoom on {}.",
                last.zoom_meeting_id,
                time_fmt::date_time_in(last.removed_at, &timezone)
            )}
        </p>
    })
}

#[component]
pub fn FeedbackView(feedback: Feedback) -> impl IntoView {
    view! {
        <div class="feedback" data-testid="feedback">
            <span class="rating" role="img" aria-label=format!("{} out of 5", feedback.rating)><Stars rating=feedback.rating/></span>
            {feedback.comment.map(|c| view! { <p class="notes">"“" {c} "”"</p> })}
        </div>
    }
}

/// The meeting's recordings: each file to play or download here.
#[component]
pub fn RecordingsList(recordings: Vec<RecordingView>) -> impl IntoView {
    if recordings.is_empty() {
        return None;
    }
    let size = |bytes: u64| match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b => format!("{} KB", b.div_ceil(1024)),
    };
    Some(view! {
        <div class="recordings" data-testid="recordings">
            <h4>"Recordings"</h4>
            <ul>
                {recordings.into_iter().map(|r| {
                    let (icon, label) = match (r.content_type.split('/').next(), r.file_type.as_str()) {
                        (Some("video"), _) => (IconKind::Play, "Video"),
                        (Some("audio"), _) => (IconKind::Audio, "Audio"),
                        (_, "TRANSCRIPT" | "CC") => (IconKind::Document, "Transcript"),
                        (_, "CHAT") => (IconKind::Chat, "Chat"),
                        _ => (IconKind::Document, "File"),
                    };
                    view! {
                        <li>
                            <a href=r.url.clone() target="_blank" rel="noopener"><Icon kind=icon/> " " {label}</a>
                            <span class="muted small">{format!(" {} · {}", r.file_type, size(r.size))}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="muted small">"Only you and the other participant of this booking can open them."</p>
        </div>
    })
}
