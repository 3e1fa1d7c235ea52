//! The schema as numbered migrations. Each runs once, in its own transaction, together with
//! the row that records it; start-up applies the ones a database has not seen yet.

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;

use super::{run, with_conflict_retry, Db, DbError};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "users",
        sql: r#"
DEFINE TABLE IF NOT EXISTS user SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS name ON user TYPE string
    ASSERT string::len($value) >= 1 AND string::len($value) <= 100;
DEFINE FIELD IF NOT EXISTS email ON user TYPE string ASSERT string::is_email($value);
DEFINE FIELD IF NOT EXISTS password_hash ON user TYPE string;
DEFINE FIELD IF NOT EXISTS role ON user TYPE string ASSERT $value IN ['customer', 'specialist'];
DEFINE FIELD IF NOT EXISTS timezone ON user TYPE string ASSERT string::len($value) >= 1;
DEFINE FIELD IF NOT EXISTS zoom_user ON user TYPE option<string>;
DEFINE FIELD IF NOT EXISTS waiting_room ON user TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS join_before_host ON user TYPE bool DEFAULT false;
DEFINE FIELD IF NOT EXISTS host_video ON user TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS participant_video ON user TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS mute_upon_entry ON user TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS created_at ON user TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS user_email_unique ON user FIELDS email UNIQUE;
"#,
    },
    Migration {
        version: 2,
        name: "email outbox",
        sql: r#"
DEFINE TABLE IF NOT EXISTS email_outbox SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS idempotency_key ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS recipient ON email_outbox TYPE string ASSERT string::is_email($value);
DEFINE FIELD IF NOT EXISTS subject ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS text ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS html ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS attachments ON email_outbox TYPE array<object> DEFAULT [];
DEFINE FIELD IF NOT EXISTS attachments.*.filename ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS attachments.*.content_type ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS attachments.*.content ON email_outbox TYPE string;
DEFINE FIELD IF NOT EXISTS status ON email_outbox TYPE string
    ASSERT $value IN ['pending', 'sending', 'sent', 'failed'];
DEFINE FIELD IF NOT EXISTS attempts ON email_outbox TYPE int DEFAULT 0 ASSERT $value >= 0;
DEFINE FIELD IF NOT EXISTS next_attempt_at ON email_outbox TYPE datetime;
DEFINE FIELD IF NOT EXISTS last_error ON email_outbox TYPE option<string>;
DEFINE FIELD IF NOT EXISTS lease_until ON email_outbox TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS lease_owner ON email_outbox TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON email_outbox TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS sent_at ON email_outbox TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS email_outbox_key_unique ON email_outbox FIELDS idempotency_key UNIQUE;
DEFINE INDEX IF NOT EXISTS email_outbox_due ON email_outbox FIELDS status, next_attempt_at;
"#,
    },
    Migration {
        version: 3,
        name: "consulting slots and bookings",
        sql: r#"
DEFINE TABLE IF NOT EXISTS slot SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS specialist ON slot TYPE record<user>;
DEFINE FIELD IF NOT EXISTS title ON slot TYPE string
    ASSERT string::len($value) >= 1 AND string::len($value) <= 120;
DEFINE FIELD IF NOT EXISTS description ON slot TYPE option<string>;
DEFINE FIELD IF NOT EXISTS date ON slot TYPE string;
DEFINE FIELD IF NOT EXISTS start_time ON slot TYPE string;
DEFINE FIELD IF NOT EXISTS timezone ON slot TYPE string;
DEFINE FIELD IF NOT EXISTS starts_at ON slot TYPE datetime;
DEFINE FIELD IF NOT EXISTS duration ON slot TYPE int ASSERT $value >= 15 AND $value <= 240;
DEFINE FIELD IF NOT EXISTS capacity ON slot TYPE int ASSERT $value >= 1 AND $value <= 100;
-- Seats held by active bookings: every booking bumps it with a conditional update, so
-- concurrent bookings of one slot collide on this record instead of overbooking.
DEFINE FIELD IF NOT EXISTS booked ON slot TYPE int DEFAULT 0 ASSERT $value >= 0;
-- Bookings ever made; the next booking's bookingIndex. Never decremented.
DEFINE FIELD IF NOT EXISTS next_index ON slot TYPE int DEFAULT 0 ASSERT $value >= 0;
-- Bumped whenever the time changes, for the calendar invite's SEQUENCE.
DEFINE FIELD IF NOT EXISTS schedule_version ON slot TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS created_at ON slot TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS slot_specialist ON slot FIELDS specialist;
DEFINE INDEX IF NOT EXISTS slot_starts_at ON slot FIELDS starts_at;

DEFINE TABLE IF NOT EXISTS booking SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS slot ON booking TYPE record<slot>;
DEFINE FIELD IF NOT EXISTS index ON booking TYPE int ASSERT $value >= 0;
DEFINE FIELD IF NOT EXISTS customer ON booking TYPE record<user>;
DEFINE FIELD IF NOT EXISTS customer_email ON booking TYPE string;
DEFINE FIELD IF NOT EXISTS customer_name ON booking TYPE string;
DEFINE FIELD IF NOT EXISTS booked_at ON booking TYPE datetime;
DEFINE FIELD IF NOT EXISTS additional_notes ON booking TYPE option<string>
    ASSERT $value = NONE OR string::len($value) <= 1000;
DEFINE FIELD IF NOT EXISTS status ON booking TYPE string DEFAULT 'active'
    ASSERT $value IN ['active', 'cancelled'];
-- Nested fields are optional only so that a booking without a meeting passes; the
-- application always writes all five together.
DEFINE FIELD IF NOT EXISTS zoom_meeting ON booking TYPE option<object>;
DEFINE FIELD IF NOT EXISTS zoom_meeting.zoomMeetingId ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS zoom_meeting.joinUrl ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS zoom_meeting.startUrl ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS zoom_meeting.password ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS zoom_meeting.createdAt ON booking TYPE option<datetime>;
-- A live claim means one request is talking to Zoom for this booking right now.
DEFINE FIELD IF NOT EXISTS zoom_claim ON booking TYPE option<object>;
DEFINE FIELD IF NOT EXISTS zoom_claim.token ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS zoom_claim.until ON booking TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS booking_slot_index_unique ON booking FIELDS slot, index UNIQUE;
DEFINE INDEX IF NOT EXISTS booking_slot_customer_unique ON booking FIELDS slot, customer UNIQUE;
DEFINE INDEX IF NOT EXISTS booking_customer ON booking FIELDS customer;
"#,
    },
    Migration {
        version: 4,
        name: "sessions",
        sql: r#"
-- One row per login; the token names it. Logging out deletes it, which ends the token.
DEFINE TABLE IF NOT EXISTS session SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON session TYPE record<user>;
DEFINE FIELD IF NOT EXISTS created_at ON session TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS expires_at ON session TYPE datetime;
DEFINE INDEX IF NOT EXISTS session_user ON session FIELDS user;
"#,
    },
    Migration {
        version: 5,
        name: "rate counters",
        sql: r#"
-- Fixed-window counters (failed logins per email, sign-ins per client address), shared by
-- every instance. The key is the record id.
DEFINE TABLE IF NOT EXISTS rate_counter SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS hits ON rate_counter TYPE int;
DEFINE FIELD IF NOT EXISTS window_end ON rate_counter TYPE datetime;
"#,
    },
    Migration {
        version: 6,
        name: "email verification",
        sql: r#"
-- Only a verified address may host Zoom meetings; accounts from before start unverified.
DEFINE FIELD IF NOT EXISTS email_verified ON user TYPE bool DEFAULT false;
UPDATE user SET email_verified = false WHERE email_verified = NONE;
-- Single-use confirmation links. The id is a hash of the token: the token itself is only in
-- the email.
DEFINE TABLE IF NOT EXISTS email_verification SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON email_verification TYPE record<user>;
DEFINE FIELD IF NOT EXISTS expires_at ON email_verification TYPE datetime;
DEFINE FIELD IF NOT EXISTS used_at ON email_verification TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS email_verification_user ON email_verification FIELDS user;
"#,
    },
    Migration {
        version: 7,
        name: "unknown Zoom outcomes",
        sql: r#"
-- Set while a call that may create a meeting is out, and kept when its outcome stays
-- unknown (timeout, crash): the next attempt then looks for the meeting before creating one.
DEFINE FIELD IF NOT EXISTS zoom_pending ON booking TYPE option<datetime>;
"#,
    },
    Migration {
        version: 8,
        name: "job queue",
        sql: r#"
-- Everything that happens after a change, outside its transaction: emails, Zoom deletions and
-- updates. Queued in the change's own transaction; the key makes queuing twice a no-op.
DEFINE TABLE IF NOT EXISTS job SCHEMALESS;
DEFINE FIELD IF NOT EXISTS kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update'];
DEFINE FIELD IF NOT EXISTS key ON job TYPE string;
DEFINE FIELD IF NOT EXISTS payload ON job TYPE object;
DEFINE FIELD IF NOT EXISTS status ON job TYPE string
    ASSERT $value IN ['pending', 'running', 'done', 'failed', 'cancelled'];
DEFINE FIELD IF NOT EXISTS attempts ON job TYPE int DEFAULT 0 ASSERT $value >= 0;
DEFINE FIELD IF NOT EXISTS run_at ON job TYPE datetime;
DEFINE FIELD IF NOT EXISTS last_error ON job TYPE option<string>;
DEFINE FIELD IF NOT EXISTS lease_until ON job TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS lease_owner ON job TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON job TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS done_at ON job TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS job_key_unique ON job FIELDS key UNIQUE;
DEFINE INDEX IF NOT EXISTS job_due ON job FIELDS status, run_at;
-- Every email still in the outbox becomes an email job; one being sent is pending again.
FOR $r IN (SELECT * FROM email_outbox ORDER BY created_at) {
    CREATE job CONTENT {
        kind: 'email',
        key: $r.idempotency_key,
        payload: {
            idempotency_key: $r.idempotency_key, to: $r.recipient, subject: $r.subject,
            text: $r.text, html: $r.html, attachments: $r.attachments
        },
        status: IF $r.status = 'sent' THEN 'done' ELSE IF $r.status = 'failed' THEN 'failed' ELSE 'pending' END,
        attempts: $r.attempts,
        run_at: $r.next_attempt_at,
        last_error: $r.last_error,
        created_at: $r.created_at,
        done_at: $r.sent_at
    };
};
REMOVE TABLE IF EXISTS email_outbox;
"#,
    },
    Migration {
        version: 9,
        name: "cancellations",
        sql: r#"
DEFINE FIELD OVERWRITE status ON booking TYPE string DEFAULT 'active'
    ASSERT $value IN ['active', 'cancelled', 'rescheduled'];
DEFINE FIELD IF NOT EXISTS cancelled_at ON booking TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS cancelled_by ON booking TYPE option<string>
    ASSERT $value = NONE OR $value IN ['customer', 'specialist'];
DEFINE FIELD IF NOT EXISTS cancellation_reason ON booking TYPE option<string>
    ASSERT $value = NONE OR string::len($value) <= 500;
-- A customer may book a slot again after cancelling: one active booking per customer and slot
-- is checked inside the booking transaction, which every booking of a slot collides in.
REMOVE INDEX IF EXISTS booking_slot_customer_unique ON booking;
DEFINE INDEX IF NOT EXISTS booking_slot_customer ON booking FIELDS slot, customer;
-- A slot the specialist cancelled as a whole leaves browsing.
DEFINE FIELD IF NOT EXISTS cancelled_at ON slot TYPE option<datetime>;
-- A rescheduled booking points to its successor, which continues its calendar event (same
-- UID, SEQUENCE counted on from `invite_sequence_base`).
DEFINE FIELD IF NOT EXISTS rescheduled_to ON booking TYPE option<object>;
DEFINE FIELD IF NOT EXISTS rescheduled_to.slotId ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS rescheduled_to.bookingIndex ON booking TYPE option<int>;
DEFINE FIELD IF NOT EXISTS invite_uid ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS invite_sequence_base ON booking TYPE int DEFAULT 0;
"#,
    },
    Migration {
        version: 10,
        name: "reminders",
        sql: r#"
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder'];
-- Reminder emails can be turned off; the token makes the one-click unsubscribe link.
DEFINE FIELD IF NOT EXISTS reminders_enabled ON user TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS unsubscribe_token ON user TYPE string DEFAULT rand::string(40);
UPDATE user SET reminders_enabled = true WHERE reminders_enabled = NONE;
UPDATE user SET unsubscribe_token = rand::string(40) WHERE unsubscribe_token = NONE;
DEFINE INDEX IF NOT EXISTS user_unsubscribe_token ON user FIELDS unsubscribe_token UNIQUE;
"#,
    },
    Migration {
        version: 11,
        name: "automatic meetings",
        sql: r#"
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create'];
-- Minutes before the start at which missing meetings are created automatically; off: NONE.
DEFINE FIELD IF NOT EXISTS auto_create_minutes ON user TYPE option<int>
    ASSERT $value = NONE OR ($value >= 5 AND $value <= 120);
DEFINE FIELD IF NOT EXISTS zoom_auto_created ON booking TYPE option<bool>;
"#,
    },
    Migration {
        version: 12,
        name: "waitlist",
        sql: r#"
-- Customers waiting for a seat in a full slot, first come first served (`seq`).
DEFINE TABLE IF NOT EXISTS waitlist SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS slot ON waitlist TYPE record<slot>;
DEFINE FIELD IF NOT EXISTS customer ON waitlist TYPE record<user>;
DEFINE FIELD IF NOT EXISTS customer_email ON waitlist TYPE string;
DEFINE FIELD IF NOT EXISTS customer_name ON waitlist TYPE string;
DEFINE FIELD IF NOT EXISTS seq ON waitlist TYPE int;
DEFINE FIELD IF NOT EXISTS joined_at ON waitlist TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS status ON waitlist TYPE string
    ASSERT $value IN ['waiting', 'promoted', 'left', 'closed'];
DEFINE FIELD IF NOT EXISTS promoted_booking ON waitlist TYPE option<record<booking>>;
DEFINE INDEX IF NOT EXISTS waitlist_slot ON waitlist FIELDS slot, status, seq;
DEFINE INDEX IF NOT EXISTS waitlist_customer ON waitlist FIELDS customer;
DEFINE FIELD IF NOT EXISTS waitlist_seq ON slot TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS promoted_at ON booking TYPE option<datetime>;
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close'];
"#,
    },
    Migration {
        version: 13,
        name: "indexes for reads at scale",
        sql: r#"
-- The Meeting Manager asks, for each booking, whether a Zoom job for it is still queued.
DEFINE INDEX IF NOT EXISTS job_booking ON job FIELDS payload.booking_id;
"#,
    },
    Migration {
        version: 14,
        name: "browsable slots",
        sql: r#"
-- Whether a slot can be booked (not cancelled, a seat left) or shown at all (not cancelled),
-- recomputed by the database on every write: browsing then reads one range of an index and
-- stops after a page, instead of filtering every future slot.
DEFINE FIELD IF NOT EXISTS bookable ON slot
    VALUE $this.cancelled_at = NONE AND $this.booked < $this.capacity;
DEFINE FIELD IF NOT EXISTS listed ON slot VALUE $this.cancelled_at = NONE;
UPDATE slot;
DEFINE INDEX IF NOT EXISTS slot_bookable ON slot FIELDS bookable, starts_at;
DEFINE INDEX IF NOT EXISTS slot_listed ON slot FIELDS listed, starts_at;
"#,
    },
    Migration {
        version: 15,
        name: "job lanes",
        sql: r#"
-- While the mail server is out of reach, the worker claims the other kinds of jobs by kind
-- and leaves the emails where they are (no rewrite of a backlog, however long).
DEFINE INDEX IF NOT EXISTS job_kind_due ON job FIELDS status, kind, run_at;
"#,
    },
    Migration {
        version: 16,
        name: "zoom sweeps",
        sql: r#"
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close', 'zoom_sweep'];
"#,
    },
    Migration {
        version: 17,
        name: "zoom events",
        sql: r#"
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close', 'zoom_sweep', 'zoom_event', 'attendance_check', 'recording_fetch'];
-- Zoom's webhook deliveries, stored before they are answered. Zoom sends no event id: the
-- record id is a hash of the raw body (a redelivery), and `business_key` catches the same
-- event delivered with another body.
DEFINE TABLE IF NOT EXISTS zoom_event SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS event ON zoom_event TYPE string;
DEFINE FIELD IF NOT EXISTS business_key ON zoom_event TYPE string;
DEFINE FIELD IF NOT EXISTS body ON zoom_event TYPE string;
DEFINE FIELD IF NOT EXISTS received_at ON zoom_event TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS zoom_event_business_key ON zoom_event FIELDS business_key UNIQUE;
-- Joins, leaves and the end of a booking's meeting, from webhooks and from Zoom's report of
-- past participants; the id is derived from the point, so a repeat changes nothing.
DEFINE TABLE IF NOT EXISTS attendance_point SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS booking ON attendance_point TYPE record<booking>;
DEFINE FIELD IF NOT EXISTS meeting ON attendance_point TYPE string;
DEFINE FIELD IF NOT EXISTS role ON attendance_point TYPE string
    ASSERT $value IN ['host', 'customer', 'other', 'meeting'];
DEFINE FIELD IF NOT EXISTS participant ON attendance_point TYPE string;
DEFINE FIELD IF NOT EXISTS kind ON attendance_point TYPE string ASSERT $value IN ['join', 'leave', 'end'];
DEFINE FIELD IF NOT EXISTS at ON attendance_point TYPE datetime;
DEFINE INDEX IF NOT EXISTS attendance_point_booking ON attendance_point FIELDS booking;
-- The summary folded from the points; `attendance_points` is how many it was folded from
-- (points only accumulate, so a fold of more points is never replaced by one of fewer).
DEFINE FIELD IF NOT EXISTS attendance ON booking TYPE option<object>;
DEFINE FIELD IF NOT EXISTS attendance.customerJoinedAt ON booking TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS attendance.customerLeftAt ON booking TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS attendance.customerMinutes ON booking TYPE option<int>;
DEFINE FIELD IF NOT EXISTS attendance.hostJoinedAt ON booking TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS attendance_points ON booking TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS outcome ON booking TYPE option<string>
    ASSERT $value = NONE OR $value IN ['attended', 'no_show'];
DEFINE FIELD IF NOT EXISTS zoom_host_id ON booking TYPE option<string>;
-- Meetings deleted in Zoom, kept for the record.
DEFINE FIELD IF NOT EXISTS meeting_history ON booking TYPE array<object> DEFAULT [];
DEFINE FIELD IF NOT EXISTS meeting_history.*.zoomMeetingId ON booking TYPE string;
DEFINE FIELD IF NOT EXISTS meeting_history.*.createdAt ON booking TYPE datetime;
DEFINE FIELD IF NOT EXISTS meeting_history.*.removedAt ON booking TYPE datetime;
DEFINE FIELD IF NOT EXISTS meeting_history.*.reason ON booking TYPE string;
-- The meeting's time as changed in Zoom, while it differs from the slot's; `zoom_changed_ts`
-- is the Zoom time of the latest update applied (older ones arriving late are ignored).
DEFINE FIELD IF NOT EXISTS zoom_changed ON booking TYPE option<object>;
DEFINE FIELD IF NOT EXISTS zoom_changed.zoomStartTime ON booking TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS zoom_changed.zoomDuration ON booking TYPE option<int>;
DEFINE FIELD IF NOT EXISTS zoom_changed.slotStartTime ON booking TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS zoom_changed.slotDuration ON booking TYPE option<int>;
DEFINE FIELD IF NOT EXISTS zoom_changed_ts ON booking TYPE option<int>;
-- Events name meetings by their Zoom id.
DEFINE INDEX IF NOT EXISTS booking_zoom_meeting ON booking FIELDS zoom_meeting.zoomMeetingId;
-- One feedback link per attended booking (the id is a hash of the emailed token); the answer
-- is kept here for the specialist's list and on the booking for its views.
DEFINE TABLE IF NOT EXISTS feedback_request SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS booking ON feedback_request TYPE record<booking>;
DEFINE FIELD IF NOT EXISTS specialist ON feedback_request TYPE record<user>;
DEFINE FIELD IF NOT EXISTS created_at ON feedback_request TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS expires_at ON feedback_request TYPE datetime;
DEFINE FIELD IF NOT EXISTS rating ON feedback_request TYPE option<int>
    ASSERT $value = NONE OR ($value >= 1 AND $value <= 5);
DEFINE FIELD IF NOT EXISTS comment ON feedback_request TYPE option<string>
    ASSERT $value = NONE OR string::len($value) <= 2000;
DEFINE FIELD IF NOT EXISTS given_at ON feedback_request TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS feedback_request_booking ON feedback_request FIELDS booking UNIQUE;
DEFINE INDEX IF NOT EXISTS feedback_request_specialist ON feedback_request FIELDS specialist, given_at;
DEFINE FIELD IF NOT EXISTS feedback ON booking TYPE option<object>;
DEFINE FIELD IF NOT EXISTS feedback.rating ON booking TYPE option<int>;
DEFINE FIELD IF NOT EXISTS feedback.comment ON booking TYPE option<string>;
DEFINE FIELD IF NOT EXISTS feedback.givenAt ON booking TYPE option<datetime>;
-- Cloud recordings: Zoom records when the specialist asks for it, and each file is copied to
-- the object store for the booking's customer and specialist.
DEFINE FIELD IF NOT EXISTS cloud_recording ON user TYPE bool DEFAULT false;
UPDATE user SET cloud_recording = false WHERE cloud_recording = NONE;
DEFINE TABLE IF NOT EXISTS recording SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS booking ON recording TYPE record<booking>;
DEFINE FIELD IF NOT EXISTS meeting ON recording TYPE string;
DEFINE FIELD IF NOT EXISTS file_type ON recording TYPE string;
DEFINE FIELD IF NOT EXISTS recording_type ON recording TYPE option<string>;
DEFINE FIELD IF NOT EXISTS extension ON recording TYPE string;
DEFINE FIELD IF NOT EXISTS content_type ON recording TYPE string;
DEFINE FIELD IF NOT EXISTS size ON recording TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS recording_start ON recording TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS status ON recording TYPE string ASSERT $value IN ['pending', 'stored'];
DEFINE FIELD IF NOT EXISTS object_key ON recording TYPE string;
DEFINE FIELD IF NOT EXISTS created_at ON recording TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS stored_at ON recording TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS recording_booking ON recording FIELDS booking;
DEFINE INDEX IF NOT EXISTS recording_stored ON recording FIELDS status, stored_at;
"#,
    },
    Migration {
        version: 18,
        name: "calendar feeds",
        sql: r#"
-- The hash of the secret in a user's calendar feed URL (the URL itself is shown once).
DEFINE FIELD IF NOT EXISTS calendar_token ON user TYPE option<string>;
DEFINE INDEX IF NOT EXISTS user_calendar_token ON user FIELDS calendar_token UNIQUE;
"#,
    },
    Migration {
        version: 19,
        name: "api tokens and idempotency keys",
        sql: r#"
-- Integrators' tokens: only the secret's hash is stored (the token is shown once).
DEFINE TABLE IF NOT EXISTS api_token SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON api_token TYPE record<user>;
DEFINE FIELD IF NOT EXISTS name ON api_token TYPE string
    ASSERT string::len($value) >= 1 AND string::len($value) <= 100;
DEFINE FIELD IF NOT EXISTS token_hash ON api_token TYPE string;
DEFINE FIELD IF NOT EXISTS can_write ON api_token TYPE bool;
DEFINE FIELD IF NOT EXISTS created_at ON api_token TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS last_used_at ON api_token TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS api_token_hash ON api_token FIELDS token_hash UNIQUE;
DEFINE INDEX IF NOT EXISTS api_token_user ON api_token FIELDS user;
-- Idempotency-Key: one row per account and key (the id hashes both), holding the first
-- request's fingerprint and, once answered, its status and body for 24 hours.
DEFINE TABLE IF NOT EXISTS idempotency_key SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON idempotency_key TYPE record<user>;
DEFINE FIELD IF NOT EXISTS fingerprint ON idempotency_key TYPE string;
DEFINE FIELD IF NOT EXISTS status ON idempotency_key TYPE option<int>;
DEFINE FIELD IF NOT EXISTS content_type ON idempotency_key TYPE option<string>;
DEFINE FIELD IF NOT EXISTS body ON idempotency_key TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON idempotency_key TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS locked_until ON idempotency_key TYPE datetime;
DEFINE FIELD IF NOT EXISTS expires_at ON idempotency_key TYPE datetime;
DEFINE INDEX IF NOT EXISTS idempotency_key_expiry ON idempotency_key FIELDS expires_at;
"#,
    },
    Migration {
        version: 20,
        name: "outgoing webhooks",
        sql: r#"
-- A specialist's webhook endpoints (Standard Webhooks): the signing secret is kept to sign.
DEFINE TABLE IF NOT EXISTS webhook_endpoint SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON webhook_endpoint TYPE record<user>;
DEFINE FIELD IF NOT EXISTS url ON webhook_endpoint TYPE string;
DEFINE FIELD IF NOT EXISTS events ON webhook_endpoint TYPE array<string>;
DEFINE FIELD IF NOT EXISTS secret ON webhook_endpoint TYPE string;
DEFINE FIELD IF NOT EXISTS enabled ON webhook_endpoint TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS disabled_reason ON webhook_endpoint TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON webhook_endpoint TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS webhook_endpoint_user ON webhook_endpoint FIELDS user;
-- One message to one endpoint, with every attempt's outcome: the delivery log.
DEFINE TABLE IF NOT EXISTS webhook_delivery SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS endpoint ON webhook_delivery TYPE record<webhook_endpoint>;
DEFINE FIELD IF NOT EXISTS user ON webhook_delivery TYPE record<user>;
DEFINE FIELD IF NOT EXISTS event_type ON webhook_delivery TYPE string;
DEFINE FIELD IF NOT EXISTS message_id ON webhook_delivery TYPE string;
DEFINE FIELD IF NOT EXISTS body ON webhook_delivery TYPE string;
DEFINE FIELD IF NOT EXISTS status ON webhook_delivery TYPE string
    ASSERT $value IN ['pending', 'delivered', 'failed'];
DEFINE FIELD IF NOT EXISTS attempts ON webhook_delivery TYPE array<object> DEFAULT [];
DEFINE FIELD IF NOT EXISTS attempts.*.at ON webhook_delivery TYPE datetime;
DEFINE FIELD IF NOT EXISTS attempts.*.statusCode ON webhook_delivery TYPE option<int>;
DEFINE FIELD IF NOT EXISTS attempts.*.error ON webhook_delivery TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON webhook_delivery TYPE datetime DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS first_attempt_at ON webhook_delivery TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS next_attempt_at ON webhook_delivery TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS webhook_delivery_endpoint ON webhook_delivery FIELDS endpoint, created_at;
DEFINE INDEX IF NOT EXISTS webhook_delivery_created ON webhook_delivery FIELDS created_at;
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close', 'zoom_sweep', 'zoom_event', 'attendance_check', 'recording_fetch', 'webhook_event', 'webhook_delivery'];
"#,
    },
    Migration {
        version: 21,
        name: "recurring links",
        sql: r#"
-- A specialist's setting: a regular customer's second and later bookings share one Zoom
-- meeting with no fixed time (type 3), so their link never changes.
DEFINE FIELD IF NOT EXISTS recurring_links ON user TYPE bool DEFAULT false;
UPDATE user SET recurring_links = false WHERE recurring_links = NONE;
DEFINE FIELD IF NOT EXISTS zoom_meeting.recurring ON booking TYPE option<bool>;
-- The shared meeting of one specialist and one customer (id: `<specialist>_<customer>`).
DEFINE TABLE IF NOT EXISTS recurring_meeting SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS specialist ON recurring_meeting TYPE record<user>;
DEFINE FIELD IF NOT EXISTS customer ON recurring_meeting TYPE record<user>;
DEFINE FIELD IF NOT EXISTS meeting ON recurring_meeting TYPE object;
DEFINE FIELD IF NOT EXISTS meeting.zoomMeetingId ON recurring_meeting TYPE string;
DEFINE FIELD IF NOT EXISTS meeting.joinUrl ON recurring_meeting TYPE string;
DEFINE FIELD IF NOT EXISTS meeting.startUrl ON recurring_meeting TYPE string;
DEFINE FIELD IF NOT EXISTS meeting.password ON recurring_meeting TYPE string;
DEFINE FIELD IF NOT EXISTS meeting.createdAt ON recurring_meeting TYPE datetime;
DEFINE FIELD IF NOT EXISTS meeting.recurring ON recurring_meeting TYPE option<bool>;
DEFINE FIELD IF NOT EXISTS host_id ON recurring_meeting TYPE option<string>;
DEFINE INDEX IF NOT EXISTS recurring_meeting_zoom ON recurring_meeting FIELDS meeting.zoomMeetingId;
"#,
    },
    Migration {
        version: 22,
        name: "booking follow-up jobs",
        sql: r#"
-- A booking's transaction queues one small job; the worker renders its emails and reminders.
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close', 'zoom_sweep', 'zoom_event', 'attendance_check', 'recording_fetch', 'webhook_event', 'webhook_delivery', 'booking_created'];
"#,
    },
    Migration {
        version: 23,
        name: "integration lanes and retention",
        sql: r#"
-- Webhook deliveries are claimed in a lane of their own (G1): a slow endpoint never holds up
-- emails, reminders or Zoom jobs, and a backlog of deliveries is never read past.
DEFINE FIELD IF NOT EXISTS lane ON job
    VALUE IF $this.kind = 'webhook_delivery' THEN 'deliveries' ELSE 'main' END;
-- The index first: rows the update below writes are indexed as they are written (an index
-- defined in the same migration after the update does not see them).
DEFINE INDEX IF NOT EXISTS job_lane_due ON job FIELDS status, lane, run_at;
UPDATE job WHERE status IN ['pending', 'running'];
-- The sends under way per specialist: one per endpoint, a few per specialist (G1).
DEFINE TABLE IF NOT EXISTS webhook_sending SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS sends ON webhook_sending TYPE array<object> DEFAULT [];
DEFINE FIELD IF NOT EXISTS sends.*.endpoint ON webhook_sending TYPE string;
DEFINE FIELD IF NOT EXISTS sends.*.token ON webhook_sending TYPE string;
DEFINE FIELD IF NOT EXISTS sends.*.started ON webhook_sending TYPE datetime;
DEFINE FIELD IF NOT EXISTS sends.*.until ON webhook_sending TYPE datetime;
-- The log keeps the latest attempts; the count keeps them all.
DEFINE FIELD IF NOT EXISTS attempt_count ON webhook_delivery TYPE int DEFAULT 0;
UPDATE webhook_delivery SET attempt_count = array::len(attempts);
-- Whose claim an idempotency key is: a request that outlived its claim neither stores its
-- answer over nor frees the claim of the request that took the key over (G6).
DEFINE FIELD IF NOT EXISTS claim_token ON idempotency_key TYPE option<string>;
-- Zoom's event bodies are deleted after their retention (G9).
DEFINE INDEX IF NOT EXISTS zoom_event_received ON zoom_event FIELDS received_at;
"#,
    },
    Migration {
        version: 24,
        name: "offerings, busy calendars and pages",
        sql: r#"
-- What a specialist offers and when they work; the schedule is kept as the API shows it.
DEFINE TABLE IF NOT EXISTS offering SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS specialist ON offering TYPE record<user>;
DEFINE FIELD IF NOT EXISTS title ON offering TYPE string;
DEFINE FIELD IF NOT EXISTS description ON offering TYPE option<string>;
DEFINE FIELD IF NOT EXISTS duration ON offering TYPE int ASSERT $value >= 15 AND $value <= 240;
DEFINE FIELD IF NOT EXISTS capacity ON offering TYPE int ASSERT $value >= 1 AND $value <= 100;
DEFINE FIELD IF NOT EXISTS schedule ON offering TYPE string;
DEFINE FIELD IF NOT EXISTS version ON offering TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS created_at ON offering TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS offering_specialist ON offering FIELDS specialist;
-- A session made from an offering's schedule (its key derived from the offering and start).
DEFINE FIELD IF NOT EXISTS offering ON slot TYPE option<record<offering>>;
DEFINE INDEX IF NOT EXISTS slot_offering ON slot FIELDS offering, starts_at;
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close', 'zoom_sweep', 'zoom_event', 'attendance_check', 'recording_fetch', 'webhook_event', 'webhook_delivery', 'booking_created', 'offering_sessions', 'busy_calendar_fetch'];
-- A specialist's own calendars (secret iCalendar addresses) and the busy times last read.
DEFINE TABLE IF NOT EXISTS busy_calendar SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS specialist ON busy_calendar TYPE record<user>;
DEFINE FIELD IF NOT EXISTS url ON busy_calendar TYPE string;
DEFINE FIELD IF NOT EXISTS label ON busy_calendar TYPE option<string>;
DEFINE FIELD IF NOT EXISTS etag ON busy_calendar TYPE option<string>;
DEFINE FIELD IF NOT EXISTS last_modified ON busy_calendar TYPE option<string>;
DEFINE FIELD IF NOT EXISTS fetched_at ON busy_calendar TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS failing_since ON busy_calendar TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS last_error ON busy_calendar TYPE option<string>;
DEFINE FIELD IF NOT EXISTS busy ON busy_calendar TYPE array<object> DEFAULT [];
DEFINE FIELD IF NOT EXISTS busy.*.start ON busy_calendar TYPE datetime;
DEFINE FIELD IF NOT EXISTS busy.*.end ON busy_calendar TYPE datetime;
DEFINE FIELD IF NOT EXISTS created_at ON busy_calendar TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS busy_calendar_specialist ON busy_calendar FIELDS specialist;
-- A specialist's page: a handle (a record keyed by it, so it is held once) and a bio.
DEFINE TABLE IF NOT EXISTS handle SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON handle TYPE record<user>;
DEFINE FIELD IF NOT EXISTS current ON handle TYPE bool;
DEFINE FIELD IF NOT EXISTS until ON handle TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS handle_user ON handle FIELDS user;
DEFINE FIELD IF NOT EXISTS handle ON user TYPE option<string>;
DEFINE FIELD IF NOT EXISTS bio ON user TYPE option<string>;
-- A booking's specialist, kept on the row as it is written: a Meeting Manager's live query
-- compares it instead of reading the slot on every booking write, once per open page (G2).
DEFINE FIELD IF NOT EXISTS specialist ON booking VALUE $this.slot.specialist;
UPDATE booking;
"#,
    },
    Migration {
        version: 25,
        name: "slot indexes rebuilt",
        sql: r#"
-- Migration 14 computed `bookable` and `listed` for existing slots and then defined their
-- indexes in the same run: the indexes missed those rows, so a database upgraded from before
-- it listed none of its older slots. Built again from the rows as they are.
REBUILD INDEX IF EXISTS slot_bookable ON slot;
REBUILD INDEX IF EXISTS slot_listed ON slot;
"#,
    },
    Migration {
        version: 26,
        name: "password reset links",
        sql: r#"
-- A reset link's record id is the hash of its token: the database never holds a usable link.
DEFINE TABLE IF NOT EXISTS password_reset SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON password_reset TYPE record<user>;
DEFINE FIELD IF NOT EXISTS expires_at ON password_reset TYPE datetime;
DEFINE FIELD IF NOT EXISTS used_at ON password_reset TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS password_reset_user ON password_reset FIELDS user;
"#,
    },
    Migration {
        version: 27,
        name: "offering buffers as fields",
        sql: r#"
-- The buffers of an offering's schedule, beside it, so a booking's transaction checks a busy
-- time against a session with its buffers (the schedule is stored as JSON text). Offerings
-- saved before have none until saved again.
DEFINE FIELD IF NOT EXISTS buffer_before ON offering TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS buffer_after ON offering TYPE int DEFAULT 0;
"#,
    },
    Migration {
        version: 28,
        name: "guest bookings",
        sql: r#"
-- A visitor who books without an account: one record per address (its key derives from the
-- address), never able to sign in. Their bookings move to an account that confirms the
-- same address.
DEFINE TABLE IF NOT EXISTS guest SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS email ON guest TYPE string ASSERT string::is_email($value);
DEFINE FIELD IF NOT EXISTS name ON guest TYPE string
    ASSERT string::len($value) >= 1 AND string::len($value) <= 100;
DEFINE FIELD IF NOT EXISTS timezone ON guest TYPE string ASSERT string::len($value) >= 1;
DEFINE FIELD IF NOT EXISTS reminders_enabled ON guest TYPE bool DEFAULT true;
DEFINE FIELD IF NOT EXISTS unsubscribe_token ON guest TYPE string DEFAULT rand::string(40);
DEFINE FIELD IF NOT EXISTS created_at ON guest TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS guest_email_unique ON guest FIELDS email UNIQUE;
DEFINE INDEX IF NOT EXISTS guest_unsubscribe_token ON guest FIELDS unsubscribe_token UNIQUE;
DEFINE FIELD OVERWRITE customer ON booking TYPE record<user | guest>;
DEFINE FIELD OVERWRITE cancelled_by ON booking TYPE option<string>
    ASSERT $value = NONE OR $value IN ['customer', 'specialist', 'system'];
-- A guest's seat held until they confirm it from the emailed link; NONE once it counts.
DEFINE FIELD IF NOT EXISTS hold_until ON booking TYPE option<datetime>;
-- Manage links follow a booking through its moves: successors carry the first booking's id.
DEFINE INDEX IF NOT EXISTS booking_invite_uid ON booking FIELDS invite_uid;
DEFINE FIELD IF NOT EXISTS guest_booking ON user TYPE option<string>
    ASSERT $value = NONE OR $value IN ['off', 'confirm', 'instant'];
DEFINE FIELD OVERWRITE kind ON job TYPE string
    ASSERT $value IN ['email', 'zoom_delete', 'zoom_update', 'reminder', 'auto_create', 'waitlist_close', 'zoom_sweep', 'zoom_event', 'attendance_check', 'recording_fetch', 'webhook_event', 'webhook_delivery', 'booking_created', 'offering_sessions', 'busy_calendar_fetch', 'guest_hold_release'];
"#,
    },
    Migration {
        version: 29,
        name: "email changes and account deletion",
        sql: r#"
-- A change of an account's address waits for the new address to confirm it. The record id is
-- the hash of the link's token, as for password resets.
DEFINE TABLE IF NOT EXISTS email_change SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user ON email_change TYPE record<user>;
DEFINE FIELD IF NOT EXISTS new_email ON email_change TYPE string ASSERT string::is_email($value);
DEFINE FIELD IF NOT EXISTS expires_at ON email_change TYPE datetime;
DEFINE FIELD IF NOT EXISTS used_at ON email_change TYPE option<datetime>;
DEFINE INDEX IF NOT EXISTS email_change_user ON email_change FIELDS user;
-- A deleted account keeps its record (past bookings point to it) with nothing personal left.
DEFINE FIELD IF NOT EXISTS deleted_at ON user TYPE option<datetime>;
"#,
    },
];

/// The version a fully migrated database is at.
pub const SCHEMA_VERSION: i64 = 29;

#[derive(Deserialize)]
struct Applied {
    version: i64,
}

/// Applies every migration the database has not recorded yet. Safe to run at every start,
/// and from several instances at once: a migration's record is created in its transaction,
/// so a second instance racing on it fails that transaction and re-reads.
pub async fn migrate(db: &Db) -> anyhow::Result<i64> {
    migrate_to(db, SCHEMA_VERSION).await
}

/// Applies the migrations up to `target` (tests start from an older version this way).
pub async fn migrate_to(db: &Db, target: i64) -> anyhow::Result<i64> {
    // Instances starting at once on an empty database all try this; the losers retry.
    with_conflict_retry("schema_migration_table", || {
        run(
            db,
            "DEFINE TABLE IF NOT EXISTS schema_migration SCHEMAFULL;
             DEFINE FIELD IF NOT EXISTS version ON schema_migration TYPE int;
             DEFINE FIELD IF NOT EXISTS name ON schema_migration TYPE string;
             DEFINE FIELD IF NOT EXISTS applied_at ON schema_migration TYPE datetime DEFAULT time::now();",
            json!({}),
        )
    })
    .await
    .context("creating the schema_migration table")?;

    // A loser of a race re-reads and goes on with what is still pending, which may well be
    // what the winner applies next: with many migrations it can lose several times in a row.
    const ATTEMPTS: u32 = 60;
    for attempt in 0..ATTEMPTS {
        let current = current_version(db).await?;
        let pending: Vec<&Migration> = MIGRATIONS
            .iter()
            .filter(|m| m.version > current && m.version <= target)
            .collect();
        if pending.is_empty() {
            return Ok(current);
        }
        let mut raced = false;
        for m in pending {
            let sql = format!(
                "BEGIN TRANSACTION;
                 {}
                 CREATE type::record('schema_migration', $version) SET version = $version, name = $name;
                 COMMIT TRANSACTION;",
                m.sql
            );
            match run(db, &sql, json!({ "version": m.version, "name": m.name })).await {
                Ok(_) => tracing::info!(
                    version = m.version,
                    name = m.name,
                    "applied schema migration"
                ),
                Err(DbError::Conflict) | Err(DbError::Other(_)) if attempt + 1 < ATTEMPTS => {
                    raced = true;
                    break;
                }
                Err(e) => {
                    // A migration is one transaction, which embedded SurrealKV holds in memory.
                    let hint = if e.to_string().contains("Memtable arena is full") {
                        " (too large for DATABASE_MEMTABLE_MIB: raise it for this start)"
                    } else {
                        ""
                    };
                    return Err(anyhow::anyhow!(e))
                        .with_context(|| format!("applying migration {}{hint}", m.version));
                }
            }
        }
        if !raced {
            return current_version(db).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("could not apply the schema migrations")
}

/// The schema version the database is at.
pub async fn current_version(db: &Db) -> anyhow::Result<i64> {
    let mut rows = run(
        db,
        "SELECT version FROM schema_migration ORDER BY version DESC LIMIT 1",
        json!({}),
    )
    .await
    .context("reading the schema version")?;
    Ok(rows.first::<Applied>(0)?.map(|a| a.version).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use crate::server::jobs::JobKind;

    /// `JobKind::ALL` is what the worker claims by kind while emails wait: a kind missing
    /// from it would never run during a mail outage.
    #[test]
    fn every_job_kind_the_schema_allows_is_in_job_kind_all() {
        let latest = MIGRATIONS
            .iter()
            .rev()
            .find_map(|m| {
                let at = m.sql.find("DEFINE FIELD OVERWRITE kind ON job")?;
                let rest = &m.sql[at..];
                let list = &rest[rest.find('[')? + 1..rest.find(']')?];
                Some(list.to_string())
            })
            .expect("a migration that lists the job kinds");
        let allowed: Vec<&str> = latest
            .split(',')
            .map(|k| k.trim().trim_matches('\''))
            .collect();
        let all: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(allowed, all);
    }
}
