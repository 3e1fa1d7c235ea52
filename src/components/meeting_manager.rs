//! SpecialistMeetingManager: the specialist's upcoming booked slots, and for each booking the
//! Zoom meeting's state with the action that fits it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::meetings::{
    create_zoom_meeting, meeting_manager, zoom_meeting_preview, CancelBooking, CancelSlot,
    PutZoomBack,
};
use crate::components::copy_button::CopyButton;
use crate::components::error_view::{send_to_login, ErrorAlert, ErrorView};
use crate::components::icon::{Icon, IconKind};
use crate::components::live_events;
use crate::components::meeting_events::{
    AttendanceView, FeedbackView, MeetingHistoryNote, RecordingsList, ZoomChangedNotice,
};
use crate::error::AppError;
use crate::model::{BookingStatus, BookingView, ManagedSlot, MeetingPreview, ZoomMeetingView};
use crate::session::use_session;
use crate::time_fmt;

/// Loaded on the server; the board it shows is an island.
#[component]
pub fn MeetingManager() -> impl IntoView {
    let session = use_session();
    let data = Resource::new(|| (), |_| meeting_manager());
    view! {
        <section class="meeting-manager" aria-labelledby="mm-title">
            <h2 id="mm-title" class="section-title">"Appointments"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading appointments…"</p> }>
                {move || Suspend::new(async move {
                    let tz = session.user.await.map(|u| u.timezone).unwrap_or_else(|| "UTC".into());
                    match data.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(slots) => view! { <MeetingBoard initial=slots timezone=tz/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The specialist's slots with their bookings: meetings are created, and bookings and slots
/// cancelled, in place; the list is read again after each cancellation.
#[island]
pub fn MeetingBoard(initial: Vec<ManagedSlot>, timezone: String) -> impl IntoView {
    let cancel_booking = ServerAction::<CancelBooking>::new();
    let cancel_slot = ServerAction::<CancelSlot>::new();
    let put_back = ServerAction::<PutZoomBack>::new();
    provide_context(Cancellations {
        booking: cancel_booking,
        slot: cancel_slot,
        put_back,
    });
    provide_context(BoardMemory::new());
    let slots = RwSignal::new(initial);
    let reads = live_events::LatestRead::default();
    let reload = move || {
        let read = reads.start();
        spawn_local(async move {
            match meeting_manager().await {
                Ok(list) if reads.is_latest(read) => slots.set(list),
                Ok(_) => {}
                Err(e) if e.status == 401 => send_to_login(),
                Err(_) => {}
            }
        });
    };
    Effect::new(move |previous: Option<(usize, usize, usize)>| {
        let versions = (
            cancel_booking.version().get(),
            cancel_slot.version().get(),
            put_back.version().get(),
        );
        if previous.is_some_and(|p| p != versions) {
            reload();
        }
        versions
    });
    // A booking made, a meeting created elsewhere, attendance from Zoom: read again at once.
    live_events::listen("/api/events/meeting-manager".into(), reload);
    let error = move || {
        cancel_booking
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| cancel_slot.value().get().and_then(|r| r.err()))
            .or_else(|| put_back.value().get().and_then(|r| r.err()))
    };
    view! {
        <div aria-live="polite">
            {move || error().map(|e| view! { <ErrorAlert error=e/> })}
        </div>
        {move || {
            let list = slots.get();
            if list.is_empty() {
                return view! {
                    <p class="card muted" data-testid="mm-empty">"No upcoming bookings yet. When customers book your slots they appear here."</p>
                }
                .into_any();
            }
            // Grouped by date (in the specialist's zone), then by time.
            let mut last_date = String::new();
            list.into_iter()
                .map(|s| {
                    let date = time_fmt::date_in(s.slot.starts_at, &timezone);
                    let heading = (date != last_date).then(|| view! { <h3 class="date-heading">{date.clone()}</h3> });
                    last_date = date;
                    view! { {heading} <ManagedSlotView managed=s timezone=timezone.clone()/> }
                })
                .collect_view()
                .into_any()
        }}
    }
}

/// The actions every card shares; the list reloads after each.
#[derive(Clone, Copy)]
struct Cancellations {
    booking: ServerAction<CancelBooking>,
    slot: ServerAction<CancelSlot>,
    put_back: ServerAction<PutZoomBack>,
}

/// A confirmation step (works without JavaScript) asking the reason, sent to the customers.
#[component]
fn CancelSlotForm(slot_id: String) -> impl IntoView {
    let actions = expect_context::<Cancellations>();
    let field = format!("cancel-slot-reason-{slot_id}");
    view! {
        <details class="change-step" data-testid="cancel-slot-step">
            <summary class="btn btn-small btn-secondary">"Cancel this slot…"</summary>
            <ActionForm action=actions.slot>
                <input type="hidden" name="slot_id" value=slot_id/>
                <label for=field.clone()>"Reason (sent to every booked customer)"</label>
                <textarea id=field name="reason" maxlength="500" rows="2" required=true></textarea>
                <p class="actions"><button type="submit" class="btn btn-danger" data-testid="confirm-cancel-slot">"Yes, cancel every booking"</button></p>
            </ActionForm>
        </details>
    }
}

#[component]
fn CancelBookingForm(slot_id: String, index: u32) -> impl IntoView {
    let actions = expect_context::<Cancellations>();
    let field = format!("cancel-reason-{slot_id}-{index}");
    view! {
        <details class="change-step" data-testid="cancel-booking-step">
            <summary class="btn btn-small btn-secondary">"Cancel booking…"</summary>
            <ActionForm action=actions.booking>
                <input type="hidden" name="slot_id" value=slot_id/>
                <input type="hidden" name="booking_index" value=index.to_string()/>
                <input type="hidden" name="back_to" value="/specialist/meetings"/>
                <label for=field.clone()>"Reason (sent to the customer)"</label>
                <textarea id=field name="reason" maxlength="500" rows="2" required=true></textarea>
                <p class="actions"><button type="submit" class="btn btn-danger" data-testid="confirm-cancel-booking">"Yes, cancel this booking"</button></p>
            </ActionForm>
        </details>
    }
}

/// A cancelled booking, greyed: no actions, and whether its meeting is gone yet.
#[component]
fn CancelledCard(booking: BookingView) -> impl IntoView {
    view! {
        <div class="booking-card cancelled" data-testid="mm-cancelled">
            <div class="booking-who">
                <strong>{booking.customer_name.clone()}</strong>
                <span class="muted">" · " {booking.customer_email.clone()}</span>
                {booking.cancellation_reason.clone().map(|r| view! { <p class="muted small">"Reason: " {r}</p> })}
            </div>
            <div class="zoom-state">
                <span class="badge">"Cancelled"</span>
                {booking.zoom_job_pending.then(|| view! { <p class="muted small" data-testid="zoom-job-pending">"Zoom meeting deletion pending"</p> })}
            </div>
        </div>
    }
}

/// The live state of one booking's card.
#[derive(Clone, Copy)]
struct CardState {
    meeting: RwSignal<Option<ZoomMeetingView>>,
    creating: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    just_created: RwSignal<bool>,
}

/// What "Create all missing meetings" is doing for one slot.
#[derive(Clone, Copy)]
struct BulkState {
    progress: RwSignal<Option<String>>,
    running: RwSignal<bool>,
}

/// The cards' and slots' states, kept by the board across reloads of the list (after every
/// change the event stream reports): a creation under way, its message, the bulk progress.
/// Their signals belong to the board, so re-rendering the list does not dispose of them.
#[derive(Clone, Copy)]
struct BoardMemory {
    owner: StoredValue<Owner>,
    cards: StoredValue<std::collections::HashMap<(String, u32), CardState>>,
    bulk: StoredValue<std::collections::HashMap<String, BulkState>>,
}

impl BoardMemory {
    fn new() -> Self {
        Self {
            owner: StoredValue::new(Owner::current().expect("inside the board")),
            cards: StoredValue::new(Default::default()),
            bulk: StoredValue::new(Default::default()),
        }
    }

    /// The card's state, with the meeting as just read (unless a creation is still running
    /// in this page, which sets it itself).
    fn card(&self, slot_id: &str, booking: &BookingView) -> CardState {
        let key = (slot_id.to_string(), booking.booking_index);
        if let Some(state) = self.cards.with_value(|c| c.get(&key).copied()) {
            if !state.creating.get_untracked()
                && (booking.zoom_meeting.is_some() || !state.just_created.get_untracked())
            {
                state.meeting.set(booking.zoom_meeting.clone());
            }
            return state;
        }
        let state = self.owner.get_value().with(|| CardState {
            meeting: RwSignal::new(booking.zoom_meeting.clone()),
            creating: RwSignal::new(false),
            error: RwSignal::new(None),
            just_created: RwSignal::new(false),
        });
        self.cards.update_value(|c| {
            c.insert(key, state);
        });
        state
    }

    fn bulk(&self, slot_id: &str) -> BulkState {
        if let Some(state) = self.bulk.with_value(|b| b.get(slot_id).copied()) {
            return state;
        }
        let state = self.owner.get_value().with(|| BulkState {
            progress: RwSignal::new(None),
            running: RwSignal::new(false),
        });
        self.bulk.update_value(|b| {
            b.insert(slot_id.to_string(), state);
        });
        state
    }
}

/// Creates the meeting for one booking and updates its card. Returns whether it now has one.
async fn create_for(slot_id: String, index: u32, card: CardState) -> bool {
    card.creating.set(true);
    card.error.set(None);
    let result = create_zoom_meeting(slot_id, index.to_string()).await;
    card.creating.set(false);
    match result {
        Ok(created) => {
            card.meeting.set(Some(created.zoom_meeting));
            card.just_created.set(true);
            true
        }
        Err(AppError {
            status: 409,
            data: Some(data),
            ..
        }) => {
            card.meeting.set(serde_json::from_value(data).ok());
            card.meeting.get_untracked().is_some()
        }
        Err(AppError { status: 401, .. }) => {
            // The session ended: log in again and come back here.
            send_to_login();
            false
        }
        Err(e) => {
            card.error.set(Some(e.message));
            false
        }
    }
}

#[component]
fn ManagedSlotView(managed: ManagedSlot, timezone: String) -> impl IntoView {
    let slot = managed.slot;
    let (active, cancelled): (Vec<BookingView>, Vec<BookingView>) = managed
        .bookings
        .into_iter()
        .partition(|b| b.status == BookingStatus::Active);
    let memory = expect_context::<BoardMemory>();
    let cards: Vec<(BookingView, CardState)> = active
        .into_iter()
        .map(|b| {
            let state = memory.card(&slot.id, &b);
            (b, state)
        })
        .collect();
    let states: Vec<(u32, CardState)> = cards.iter().map(|(b, s)| (b.booking_index, *s)).collect();
    let states_len = states.len();
    let BulkState { progress, running } = memory.bulk(&slot.id);
    let missing = {
        let states = states.clone();
        move || {
            states
                .iter()
                .filter(|(_, s)| s.meeting.get().is_none())
                .count()
        }
    };
    let slot_id = slot.id.clone();
    let create_all = move |_| {
        let todo: Vec<(u32, CardState)> = states
            .iter()
            .filter(|(_, s)| s.meeting.get_untracked().is_none())
            .cloned()
            .collect();
        let slot_id = slot_id.clone();
        running.set(true);
        spawn_local(async move {
            let total = todo.len();
            let mut done = 0;
            let mut failed = 0;
            for (index, card) in todo {
                if create_for(slot_id.clone(), index, card).await {
                    done += 1;
                } else {
                    failed += 1;
                }
                progress.set(Some(format!("{done} of {total} created")));
            }
            if failed > 0 {
                progress.set(Some(format!(
                    "{done} of {total} created, {failed} failed: see the cards below"
                )));
            }
            running.set(false);
        });
    };

    view! {
        <article class="card slot-group" data-testid="mm-slot">
            <header class="slot-group-head">
                <div>
                    <h3>{slot.title.clone()}</h3>
                    <p class="when">{time_fmt::date_time_in(slot.starts_at, &timezone)} " · " {format!("{} min", slot.duration)}</p>
                </div>
                <span class="badge" data-testid="mm-capacity">{format!("{} / {} booked", slot.booked, slot.capacity)}</span>
            </header>
            {(!cards.is_empty()).then(|| view! { <CancelSlotForm slot_id=slot.id.clone()/> })}
            {
                let missing = missing.clone();
                move || (missing() > 0 && states_len > 1).then(|| view! {
                    <p>
                        <button type="button" class="btn btn-secondary" on:click=create_all.clone() disabled=move || running.get()>
                            "Create all missing meetings"
                        </button>
                    </p>
                })
            }
            <p class="muted" aria-live="polite" data-testid="mm-progress">{move || progress.get()}</p>
            <div class="booking-list">
                {cards.into_iter().map(|(b, state)| view! { <BookingCard slot_id=slot.id.clone() booking=b state timezone=timezone.clone()/> }).collect_view()}
                {cancelled.into_iter().map(|b| view! { <CancelledCard booking=b/> }).collect_view()}
            </div>
        </article>
    }
}

/// "What will be created": fetched when opened, from what Create would send to Zoom.
#[component]
fn MeetingPreviewView(slot_id: String, index: u32) -> impl IntoView {
    let preview = RwSignal::new(None::<Result<MeetingPreview, String>>);
    let asked = StoredValue::new(false);
    // The first toggle opens it: fetch once then.
    let on_toggle = move |_| {
        if asked.get_value() {
            return;
        }
        asked.set_value(true);
        let slot_id = slot_id.clone();
        spawn_local(async move {
            let answer = zoom_meeting_preview(slot_id, index.to_string()).await;
            preview.set(Some(answer.map_err(|e| e.message)));
        });
    };
    view! {
        <details class="meeting-preview" on:toggle=on_toggle data-testid="zoom-preview">
            <summary>"Preview what will be created"</summary>
            {move || match preview.get() {
                None => view! { <p class="muted small">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="alert alert-error" role="alert">{message}</p> }.into_any(),
                Some(Ok(p)) => {
                    let on_off = |on: bool| if on { "on" } else { "off" };
                    let settings = format!(
                        "waiting room {}, join before host {}, host video {}, participant video {}, muted on entry {}, cloud recording {}",
                        on_off(p.settings.waiting_room),
                        on_off(p.settings.join_before_host),
                        on_off(p.settings.host_video),
                        on_off(p.settings.participant_video),
                        on_off(p.settings.mute_upon_entry),
                        on_off(p.settings.cloud_recording),
                    );
                    view! {
                        <dl class="preview-list">
                            <dt>"Topic"</dt><dd data-testid="preview-topic">{p.topic}</dd>
                            <dt>"Starts"</dt><dd data-testid="preview-time">{p.local_start_time}</dd>
                            <dt>"Duration"</dt><dd>{format!("{} min", p.duration)}</dd>
                            <dt>"Host"</dt><dd data-testid="preview-host">{p.host} {p.simulated.then(|| view! { " " <span class="badge badge-warn">"simulated Zoom"</span> })}</dd>
                            <dt>"Settings"</dt><dd>{settings}</dd>
                            {p.recurring.then(|| view! { <dt>"Link"</dt><dd data-testid="preview-recurring">"This customer's recurring link (no fixed time), the same for all their sessions with you"</dd> })}
                        </dl>
                    }
                    .into_any()
                }
            }}
        </details>
    }
}

#[component]
fn BookingCard(
    slot_id: String,
    booking: BookingView,
    state: CardState,
    timezone: String,
) -> impl IntoView {
    let index = booking.booking_index;
    let notified = booking.customer_notified;
    let slot_for_create = slot_id.clone();
    let on_create = move |_| {
        let slot_id = slot_for_create.clone();
        spawn_local(async move {
            create_for(slot_id, index, state).await;
        });
    };
    let start_href = format!("/meetings/{slot_id}/{index}/start");
    let slot_for_preview = slot_id.clone();
    let update_pending = booking.zoom_job_pending;
    let automatic = booking.zoom_created_automatically;
    let cancel_form = view! { <CancelBookingForm slot_id=slot_id.clone() index/> };
    let history = {
        let (booking, timezone) = (booking.clone(), timezone.clone());
        move || {
            state.meeting.get().is_none().then(|| {
                view! { <MeetingHistoryNote booking=booking.clone() timezone=timezone.clone()/> }
            })
        }
    };
    let (changed_slot, changed_zone) = (slot_id.clone(), timezone.clone());
    let changed = booking.zoom_changed.clone().map(move |change| {
        let actions = expect_context::<Cancellations>();
        view! {
            <ZoomChangedNotice change timezone=changed_zone/>
            <ActionForm action=actions.put_back>
                <input type="hidden" name="slot_id" value=changed_slot/>
                <input type="hidden" name="booking_index" value=index.to_string()/>
                <button type="submit" class="btn btn-small btn-secondary" data-testid="zoom-put-back">"Put Zoom back at the booking's time"</button>
            </ActionForm>
        }
    });
    let attendance = view! {
        <AttendanceView attendance=booking.attendance.clone() outcome=booking.outcome timezone=timezone.clone()/>
    };
    let feedback = booking
        .feedback
        .clone()
        .map(|f| view! { <FeedbackView feedback=f/> });
    let recordings = view! { <RecordingsList recordings=booking.recordings.clone()/> };
    let details_href = format!("/appointments/{slot_id}/{index}");
    view! {
        <div class="booking-card" data-testid="mm-booking">
            <div class="booking-who">
                <strong>{booking.customer_name.clone()}</strong>
                <span class="muted">" · " {booking.customer_email.clone()}</span>
                {booking.guest.then(|| view! { " " <span class="badge" data-testid="mm-guest">"guest"</span> })}
                {booking.awaiting_confirmation_until.map(|until| view! {
                    " " <span class="badge badge-warn" data-testid="mm-awaiting">
                        {format!("awaiting confirmation until {}", time_fmt::time_in(until, &timezone))}
                    </span>
                })}
                <p class="muted small">"Booked " {time_fmt::date_time_in(booking.booked_at, &timezone)}</p>
                {booking.additional_notes.clone().map(|n| view! { <p class="notes">"“" {n} "”"</p> })}
                <a class="small" href=details_href>"Appointment page"</a>
                {cancel_form}
            </div>
            <div class="zoom-state" aria-live="polite">
                {move || match state.meeting.get() {
                    None => view! {
                        <div class="zoom-box zoom-missing" data-testid="zoom-missing">
                            <h4><Icon kind=IconKind::Bell/> " Zoom Meeting Not Created"</h4>
                            <p>"Click the button below to create a Zoom meeting link for this appointment."</p>
                            <MeetingPreviewView slot_id=slot_for_preview.clone() index/>
                            {move || state.error.get().map(|e| view! {
                                <p class="alert alert-error" role="alert">{e} " You can try again."</p>
                            })}
                            <button
                                type="button"
                                class="btn"
                                on:click=on_create.clone()
                                disabled=move || state.creating.get()
                                data-testid="create-zoom"
                            >
                                {move || if state.creating.get() {
                                    view! { <span class="spinner" aria-hidden="true"></span> "Creating…" }.into_any()
                                } else if state.error.get().is_some() {
                                    view! { "Retry" }.into_any()
                                } else {
                                    view! { "Create Zoom Meeting" }.into_any()
                                }}
                            </button>
                        </div>
                    }
                    .into_any(),
                    Some(m) => {
                        let simulated = m.is_simulated();
                        view! {
                            <div class="zoom-box zoom-ready" data-testid="zoom-created">
                                <h4><Icon kind=IconKind::CheckCircle/> " Zoom Meeting Created" {simulated.then(|| view! { " " <span class="badge badge-warn">"simulated"</span> })}</h4>
                                {move || state.just_created.get().then(|| view! {
                                    <p class="alert alert-success" role="status">"Zoom meeting created. The customer will be emailed the details."</p>
                                })}
                                <div class="field-row">
                                    <span class="label">"Meeting ID"</span>
                                    <code data-testid="meeting-id">{m.zoom_meeting_id.clone()}</code>
                                    <CopyButton value=m.zoom_meeting_id.clone() label="meeting ID"/>
                                </div>
                                <div class="field-row">
                                    <span class="label">"Password"</span>
                                    <code data-testid="meeting-password">{m.password.clone()}</code>
                                    <CopyButton value=m.password.clone() label="password"/>
                                </div>
                                <p><a class="btn" href=start_href.clone() target="_blank" rel="noopener">"Start Meeting as Host"</a></p>
                                {update_pending.then(|| view! { <p class="muted small" data-testid="zoom-job-pending">"Zoom meeting update pending"</p> })}
                                {automatic.then(|| view! { <p class="muted small" data-testid="created-automatically">"Created automatically"</p> })}
                                {if notified && !state.just_created.get() {
                                    view! { <p class="ok"><Icon kind=IconKind::Check/> " Customer has been notified"</p> }.into_any()
                                } else {
                                    view! { <p class="muted">"Notification pending"</p> }.into_any()
                                }}
                            </div>
                        }
                        .into_any()
                    }
                }}
                {history}
                {changed}
                {attendance}
                {feedback}
                {recordings}
            </div>
        </div>
    }
}
