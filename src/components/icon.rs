//! Icons as inline SVG, drawn with the text's colour: an emoji needs a font that has it, and a
//! browser without one (Debian's chromium without an emoji font, as a user's may be) shows an
//! empty box. Each icon is decoration; the text beside it says what it means.

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IconKind {
    Bell,
    CheckCircle,
    Check,
    Star,
    StarOutline,
    Play,
    Audio,
    Document,
    Chat,
}

impl IconKind {
    /// The shapes inside a 24×24 view box, stroked (and, for a filled star, filled) with the
    /// text's colour.
    fn shapes(self) -> &'static str {
        match self {
            Self::Bell => {
                r#"<path d="M18 16V10a6 6 0 0 0-12 0v6l-2 2h16z"/><path d="M10 21a2 2 0 0 0 4 0"/>"#
            }
            Self::CheckCircle => r#"<circle cx="12" cy="12" r="9"/><path d="M8 12.5l3 3 5-6"/>"#,
            Self::Check => r#"<path d="M5 12.5l5 5 9-10"/>"#,
            Self::Star => {
                r#"<polygon points="12 3 14.8 9 21.3 9.6 16.4 13.9 17.8 20.3 12 16.9 6.2 20.3 7.6 13.9 2.7 9.6 9.2 9" fill="currentColor"/>"#
            }
            Self::StarOutline => {
                r#"<polygon points="12 3 14.8 9 21.3 9.6 16.4 13.9 17.8 20.3 12 16.9 6.2 20.3 7.6 13.9 2.7 9.6 9.2 9"/>"#
            }
            Self::Play => r#"<path d="M8 5v14l11-7z" fill="currentColor"/>"#,
            Self::Audio => {
                r#"<path d="M9 18V5l11-2v13"/><circle cx="6" cy="18" r="3"/><circle cx="17" cy="16" r="3"/>"#
            }
            Self::Document => r#"<path d="M6 3h8l4 4v14H6z"/><path d="M14 3v4h4M9 12h6M9 16h6"/>"#,
            Self::Chat => r#"<path d="M4 5h16v11H9l-5 4z"/>"#,
        }
    }
}

/// One icon, the size of the text around it, hidden from screen readers.
#[component]
pub fn Icon(kind: IconKind) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="1em"
            height="1em"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
            inner_html=kind.shapes()
        ></svg>
    }
}

/// A rating as five stars, `rating` of them filled; hidden from screen readers, which read the
/// number the caller puts beside it.
#[component]
pub fn Stars(rating: u8) -> impl IntoView {
    let filled = usize::from(rating.min(5));
    view! {
        <span class="stars" aria-hidden="true">
            {(0..5)
                .map(|i| {
                    let kind = if i < filled { IconKind::Star } else { IconKind::StarOutline };
                    view! { <Icon kind/> }
                })
                .collect_view()}
        </span>
    }
}
