use chrono::TimeZone;
use mail_parser::MimeHeaders;
use serde_json::json;
use specialistly::server::config::Secret;
use specialistly::server::jobs::worker::JobWorker;
use specialistly::server::jobs::{self, JobStatus};
use specialistly::server::mail::templates::{self, Appointment, Attendee};
use specialistly::server::mail::transport::MailTransport;
use specialistly::server::mail::OutgoingEmail;
use specialistly::server::repo::jobs as queue;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::helpers::{
    counter, free_port, parse, read_eml_dir, spawn_with, to_address, Options, SmtpSink,
};

fn appointment(booking: &str, customer_email: &str) -> Appointment {
    Appointment {
        booking_id: booking.into(),
        calendar_id: booking.into(),
        sequence_base: 0,
        slot_title: "Tax advice".into(),
        starts_at: chrono::Utc
            .with_ymd_and_hms(2026, 10, 25, 9, 30, 0)
            .unwrap(),
        duration_minutes: 60,
        schedule_version: 0,
        specialist: Attendee {
            name: "Dr Ann".into(),
            email: "ann@example.com".into(),
            timezone: "America/New_York".into(),
        },
        customer: Attendee {
            name: "Bob <b>".into(),
            email: customer_email.into(),
            timezone: "Europe/Berlin".into(),
        },
        links: specialistly::server::manage_links::ManageLinks::new(
            "http://127.0.0.1:3000",
            specialistly::server::manage_links::derive_key(b"mail tests"),
        ),
    }
}

fn emails(n: usize) -> Vec<OutgoingEmail> {
    (0..n)
        .map(|i| {
            templates::customer_confirmation(&appointment(
                &format!("b{i}"),
                &format!("c{i}@example.com"),
            ))
        })
        .collect()
}

#[engine_test]
async fn queued_email_reaches_a_real_smtp_server_with_both_parts_and_the_invite() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(1)))
        .await
        .unwrap();
    assert_eq!(app.drain_jobs().await, 1);

    let sink = app.smtp.as_ref().unwrap();
    let raw = sink.wait_for(1).await;
    assert_eq!(raw.len(), 1);
    let m = parse(&raw[0]);
    assert_eq!(to_address(&m), "c0@example.com");
    assert_eq!(
        m.from().unwrap().first().unwrap().address().unwrap(),
        "no-reply@localhost"
    );
    // 25 Oct 2026 is the day Berlin leaves summer time: 09:30 UTC is 10:30 CET.
    assert_eq!(
        m.subject().unwrap(),
        "✅ Appointment Confirmed: Consulting Session on Sun 25 Oct 2026"
    );
    let text = m.body_text(0).unwrap();
    assert!(text.contains("Time: 10:30 (Europe/Berlin)"), "{text}");
    let html = m.body_html(0).unwrap();
    assert!(html.contains("Bob &lt;b&gt;"), "HTML escapes the name");
    let invite = m
        .attachments()
        .find(|a| a.attachment_name() == Some("invite.ics"))
        .expect("an invite");
    assert!(invite.content_type().unwrap().c_subtype.as_deref() == Some("calendar"));
    let ics = String::from_utf8(invite.contents().to_vec()).unwrap();
    assert!(ics.contains("METHOD:REQUEST\r\n"));
    assert!(ics.contains("DTSTART:20261025T093000Z\r\n"));
    assert!(ics.contains("UID:booking-b0@specialistly"));

    let rows = queue::list(&app.state.db, false).await.unwrap();
    assert_eq!(rows[0].status, JobStatus::Done);
    assert!(rows[0].done_at.is_some());
}

#[engine_test]
async fn queuing_the_same_key_twice_stores_one_email() {
    let app = spawn_with(Options::default()).await;
    let e = emails(1);
    queue::queue(&app.state.db, &jobs::emails(&e))
        .await
        .unwrap();
    queue::queue(&app.state.db, &jobs::emails(&e))
        .await
        .unwrap();
    assert_eq!(app.count_emails().await, 1);
}

/// A mail server that accepts connections and closes them at once (counting them): down, as
/// far as SMTP goes, but every attempt to reach it can be counted.
async fn dead_mail_server(port: u16) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let accepting = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (connections, accepting)
}

#[engine_test]
async fn smtp_down_keeps_rows_pending_then_delivers_each_exactly_once() {
    let port = free_port();
    let (connections, dead) = dead_mail_server(port).await;
    let app = spawn_with(Options {
        extra: vec![("SMTP_URL", format!("smtp://127.0.0.1:{port}"))],
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(30)))
        .await
        .unwrap();

    // The first emails find the server down; the others stay queued as they are, untried.
    assert_eq!(app.worker.run_once().await.unwrap(), 0);
    let tried = connections.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&tried),
        "one probe per email running at once, not one per email: {tried} connections"
    );
    let rows = queue::list(&app.state.db, false).await.unwrap();
    assert_eq!(rows.len(), 30);
    let now = chrono::Utc::now();
    assert!(rows
        .iter()
        .all(|r| r.status == JobStatus::Pending && r.attempts == 0));
    let (probes, untried): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.last_error.is_some());
    assert_eq!(probes.len(), tried, "only the probes were put back");
    for r in probes {
        assert!(
            r.run_at > now && r.run_at <= now + chrono::Duration::seconds(3),
            "a probe waits the first pause (2 s): {}",
            r.run_at
        );
    }
    assert!(
        untried.iter().all(|r| r.run_at <= now),
        "left due, unwritten"
    );

    // During the pause no email tries the server, and the other jobs still run.
    let other = jobs::NewJob::waitlist_close("gone-slot", 0, chrono::Utc::now());
    queue::queue(&app.state.db, &[other]).await.unwrap();
    assert_eq!(app.worker.run_once().await.unwrap(), 1);
    assert_eq!(connections.load(Ordering::SeqCst), tried);
    let rows = queue::list(&app.state.db, false).await.unwrap();
    let closed = rows.iter().find(|r| r.key.starts_with("waitlist-close:"));
    assert_eq!(closed.map(|r| r.status), Some(JobStatus::Done));
    assert_eq!(
        rows.iter()
            .filter(|r| r.status == JobStatus::Pending && r.attempts == 0)
            .count(),
        30
    );
    // Operators see the failed probes (the counters are the process's).
    let scrape = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        counter(
            &scrape,
            "specialistly_emails_total",
            &[r#"outcome="failed""#]
        ) >= 1.0
    );

    dead.abort();
    let _ = dead.await;
    let mut sink = SmtpSink::stopped(port);
    sink.restart().await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(app.drain_jobs().await, 30);
    assert_eq!(app.drain_jobs().await, 0);
    let received = sink.wait_for(30).await;
    assert_eq!(received.len(), 30);
    let mut to: Vec<String> = received.iter().map(|r| to_address(&parse(r))).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 30, "each email once");
    let rows = queue::list(&app.state.db, false).await.unwrap();
    let sent: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == jobs::JobKind::Email)
        .collect();
    assert_eq!(sent.len(), 30);
    assert!(sent
        .iter()
        .all(|r| r.status == JobStatus::Done && r.attempts == 1));
    sink.stop().await;
}

#[engine_test]
async fn a_refused_email_backs_off_and_ends_failed_with_its_error() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let refused = templates::customer_confirmation(&appointment("b-refused", "reject@example.com"));
    queue::queue(&app.state.db, &jobs::emails(&[refused]))
        .await
        .unwrap();
    assert_eq!(app.worker.run_once().await.unwrap(), 0);
    let rows = queue::list(&app.state.db, false).await.unwrap();
    assert_eq!(rows[0].status, JobStatus::Pending);
    assert_eq!(rows[0].attempts, 1);
    assert!(
        rows[0].run_at > chrono::Utc::now() + chrono::Duration::seconds(20),
        "backs off ~30 s"
    );
    for _ in 1..specialistly::server::jobs::worker::MAX_ATTEMPTS {
        app.query(
            "UPDATE job SET run_at = time::now() WHERE status = 'pending'",
            json!({}),
        )
        .await;
        app.worker.run_once().await.unwrap();
    }
    let rows = queue::list(&app.state.db, false).await.unwrap();
    assert_eq!(rows[0].status, JobStatus::Failed);
    assert_eq!(
        rows[0].attempts,
        specialistly::server::jobs::worker::MAX_ATTEMPTS
    );
    let error = rows[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("550"),
        "the server's answer is kept: {error}"
    );
    let scrape = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        counter(
            &scrape,
            "specialistly_job_failures_total",
            &[r#"kind="email""#]
        ) >= 8.0
    );
    assert!(app.smtp.as_ref().unwrap().messages().is_empty());
}

#[engine_test]
async fn two_workers_on_one_database_deliver_each_message_once() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(30)))
        .await
        .unwrap();
    let sink_port = app.smtp.as_ref().unwrap().port;
    let second = JobWorker::new(
        app.state.clone(),
        MailTransport::from_config(&{
            let mut c = app.state.config.mail.clone();
            c.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{sink_port}")));
            c
        })
        .unwrap(),
        "Specialistly <no-reply@localhost>".parse().unwrap(),
        120,
    );
    let (a, b) = tokio::join!(passes(&app.worker, 5), passes(&second, 5));
    let rest = app.drain_jobs().await;
    assert_eq!(a + b + rest, 30);
    let received = app.smtp.as_ref().unwrap().wait_for(30).await;
    assert_eq!(received.len(), 30, "each message delivered once");
    let mut to: Vec<String> = received.iter().map(|r| to_address(&parse(r))).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 30);
}

#[engine_test]
async fn an_expired_lease_makes_a_row_due_again() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(1)))
        .await
        .unwrap();
    // A worker claimed the row and died: its lease ran out a minute ago.
    app.query(
        "UPDATE job SET status = 'running', lease_owner = 'dead-worker', attempts = 1, lease_until = time::now() - 1m",
        json!({}),
    )
    .await;
    assert_eq!(app.drain_jobs().await, 1);
    assert_eq!(app.smtp.as_ref().unwrap().wait_for(1).await.len(), 1);
    let rows = queue::list(&app.state.db, false).await.unwrap();
    assert_eq!((rows[0].status, rows[0].attempts), (JobStatus::Done, 2));
}

#[engine_test]
async fn without_smtp_emails_are_written_as_files_and_listed_at_dev_mail() {
    let app = spawn_with(Options::default()).await;
    queue::queue(&app.state.db, &jobs::emails(&emails(2)))
        .await
        .unwrap();
    assert_eq!(app.drain_jobs().await, 2);
    let files = read_eml_dir(app.mail_dir.path());
    assert_eq!(files.len(), 2);
    let page = app.get("/dev/mail", None).await.text().await.unwrap();
    assert!(
        page.contains("c0@example.com") && page.contains("c1@example.com"),
        "{page}"
    );
    assert!(page.contains("Appointment Confirmed"));
}

#[engine_test]
async fn dev_pages_do_not_exist_in_production() {
    let zoom = vec![
        ("APP_ENV", "production".to_string()),
        ("APP_BASE_URL", "https://book.example.com".into()),
        ("SMTP_URL", "smtp://127.0.0.1:9".into()),
        ("ZOOM_ACCOUNT_ID", "a".into()),
        ("ZOOM_CLIENT_ID", "b".into()),
        ("ZOOM_CLIENT_SECRET", "c".into()),
    ];
    let app = spawn_with(Options {
        extra: zoom,
        ..Default::default()
    })
    .await;
    let res = app.get("/dev/mail", None).await;
    assert_eq!(res.status(), 404);
}

/// Polls like a running worker (every 50 ms) until every queued email is sent.
async fn poll_until_all_sent(app: &crate::helpers::TestApp, worker: &JobWorker) -> usize {
    let mut sent = 0;
    for _ in 0..400 {
        sent += worker.run_once().await.unwrap();
        let rows = queue::list(&app.state.db, false).await.unwrap();
        if rows.iter().all(|r| r.status == JobStatus::Done) {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never emptied");
}

async fn passes(worker: &JobWorker, n: usize) -> usize {
    let mut sent = 0;
    for _ in 0..n {
        sent += worker.run_once().await.unwrap();
    }
    sent
}

#[engine_test]
async fn two_workers_and_a_slow_smtp_server_deliver_each_email_exactly_once() {
    // Each message takes 150 ms to be acknowledged, longer than lease ÷ 20: a worker that
    // claimed 20 rows under one 2 s lease would still be sending when it lapsed.
    let app = spawn_with(Options {
        smtp: true,
        smtp_delay: Some(Duration::from_millis(150)),
        extra: vec![("OUTBOX_LEASE_SECONDS", "2".into())],
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(20)))
        .await
        .unwrap();
    let second = JobWorker::new(
        app.state.clone(),
        MailTransport::from_config(&app.state.config.mail).unwrap(),
        "Specialistly <no-reply@localhost>".parse().unwrap(),
        2,
    );
    // The second worker starts polling just after the first has begun its pass.
    let (a, b) = tokio::join!(poll_until_all_sent(&app, &app.worker), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        poll_until_all_sent(&app, &second).await
    });
    assert!(a + b >= 20);
    // Anything sent twice would arrive within a lease.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = app.smtp.as_ref().unwrap().messages();
    let mut to: Vec<String> = received.iter().map(|r| to_address(&parse(r))).collect();
    to.sort();
    to.dedup();
    assert_eq!(
        (received.len(), to.len()),
        (20, 20),
        "each email exactly once"
    );
}

#[engine_test]
async fn a_burst_of_emails_goes_out_back_to_back_not_one_batch_per_poll_period() {
    let app = spawn_with(Options {
        smtp: true,
        extra: vec![("OUTBOX_POLL_MILLIS", "3000".into())],
        ..Default::default()
    })
    .await;
    // More than three passes' worth, queued while the worker waits for its next poll.
    queue::queue(&app.state.db, &jobs::emails(&emails(70)))
        .await
        .unwrap();
    let queued = std::time::Instant::now();
    // The next pass comes within one period; the rest must follow it at once.
    let smtp = app.smtp.as_ref().unwrap();
    while smtp.messages().len() < 70 && queued.elapsed() < Duration::from_millis(8_500) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        smtp.messages().len(),
        70,
        "delivered within 8.5 s of queueing (poll period 3 s: one batch per period would be 40)"
    );
}

#[engine_test]
async fn shutdown_ends_within_its_grace_period_even_with_a_stalled_smtp_server() {
    let mut app = spawn_with(Options {
        smtp: true,
        smtp_delay: Some(Duration::from_secs(20)),
        extra: vec![
            ("OUTBOX_POLL_MILLIS", "50".into()),
            ("SHUTDOWN_GRACE_SECONDS", "1".into()),
        ],
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(3)))
        .await
        .unwrap();
    // Let the worker start handing the first message to the stalled server.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let took = app.shut_down().await;
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
}

/// An SMTP server that takes a message's DATA and then never answers: a tarpit, an overloaded
/// relay, a connection dropped by a middlebox. Records when each conversation reached DATA and
/// when the client hung up.
struct StalledSmtpServer {
    port: u16,
    conversations: Arc<std::sync::Mutex<Vec<Conversation>>>,
}

/// When a conversation reached DATA, and when the client hung up.
type Conversation = (std::time::Instant, Option<std::time::Instant>);

impl StalledSmtpServer {
    async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let conversations = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = conversations.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 stalled.test ESMTP\r\n").await.ok();
                    let mut in_data = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data.is_some() {
                            continue; // the message, its final dot, anything after: no answer
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" => b"250 stalled.test\r\n",
                            "DATA" => {
                                let mut log = log.lock().unwrap();
                                log.push((std::time::Instant::now(), None));
                                in_data = Some(log.len() - 1);
                                b"354 go ahead\r\n"
                            }
                            _ => b"250 OK\r\n",
                        };
                        write.write_all(answer).await.ok();
                    }
                    if let Some(i) = in_data {
                        log.lock().unwrap()[i].1 = Some(std::time::Instant::now());
                    }
                });
            }
        });
        Self {
            port,
            conversations,
        }
    }
}

/// A mail server that stops answering mid-DATA costs each worker one job deadline (¾ of the
/// 2 s lease), not the worker: passes end, the email waits with its attempt given back, and a
/// second worker never opens a second conversation for it while the first is still open.
#[engine_test]
async fn a_mail_server_that_stops_answering_mid_data_neither_hangs_the_worker_nor_sends_twice() {
    let smtp = StalledSmtpServer::start().await;
    let app = spawn_with(Options {
        extra: vec![
            ("OUTBOX_LEASE_SECONDS", "2".into()),
            ("SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)),
        ],
        ..Default::default()
    })
    .await;
    queue::queue(&app.state.db, &jobs::emails(&emails(1)))
        .await
        .unwrap();
    let second = JobWorker::new(
        app.state.clone(),
        MailTransport::from_config(&app.state.config.mail).unwrap(),
        "Specialistly <no-reply@localhost>".parse().unwrap(),
        2,
    );
    let polling = |worker: &JobWorker| {
        let worker = worker.clone();
        async move {
            let started = std::time::Instant::now();
            while started.elapsed() < Duration::from_secs(6) {
                let pass = tokio::time::timeout(Duration::from_secs(4), worker.run_once()).await;
                assert!(pass.is_ok(), "a pass hung on the stalled server");
                assert_eq!(pass.unwrap().unwrap(), 0, "nothing was sent");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    tokio::join!(polling(&app.worker), polling(&second));

    let conversations = smtp.conversations.lock().unwrap().clone();
    assert!(!conversations.is_empty(), "the email reached DATA");
    for pair in conversations.windows(2) {
        let closed = pair[0].1.expect("a given-up conversation is closed");
        assert!(
            closed <= pair[1].0,
            "a second conversation began before the first was given up"
        );
    }
    let rows = queue::list(&app.state.db, false).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].status, JobStatus::Failed);
    assert_eq!(
        rows[0].attempts, 0,
        "waiting for the server spends no attempt"
    );
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("no answer within"),
        "{:?}",
        rows[0].last_error
    );
}
