//! The hot queries read through indexes and stop early, checked on SurrealDB's own plans:
//! the shape that keeps the job queue and the pages as fast with a million rows as with a
//! thousand.

use serde_json::json;

use crate::server::config::DatabaseConfig;
use crate::server::db::{self, run, Db};

async fn database() -> Db {
    let db = db::connect(&DatabaseConfig::embedded("mem://", "plans", "plans"))
        .await
        .unwrap();
    db::migrate(&db).await.unwrap();
    db
}

/// SurrealDB's plan of `sql` (after the `LET`s in `setup`), as text.
async fn plan(db: &Db, setup: &str, sql: &str, vars: serde_json::Value) -> String {
    let mut rows = run(db, &format!("{setup} EXPLAIN {sql};"), vars)
        .await
        .unwrap();
    let last = rows.count() - 1;
    let plan: Vec<serde_json::Value> = rows.all(last).unwrap();
    let text = serde_json::to_string(&plan).unwrap();
    println!("{sql}\n{}\n", text.replace("\\n", "\n"));
    text
}

/// Starts from an index and never walks a whole table.
fn indexed(plan: &str, index: &str) {
    assert!(
        plan.contains(&format!("index: {index}")),
        "{index} unused: {plan}"
    );
    assert!(!plan.contains("TableScan"), "a table scan: {plan}");
}

#[engine_test]
async fn the_job_queue_claims_from_the_index_and_stops_after_five() {
    let db = database().await;
    for lane in crate::server::jobs::Lane::ALL {
        let due = plan(&db, "", &super::jobs::due_pending(lane), json!({})).await;
        indexed(&due, "job_lane_due");
        assert!(due.contains("limit: 5") && !due.contains("Bitmap"), "{due}");
        let lapsed = plan(&db, "", &super::jobs::lease_lapsed(lane), json!({})).await;
        indexed(&lapsed, "job_lane_due, access: ['running'");
    }
    // While emails wait for the mail server: the other kinds, each from its own range.
    let zoom = super::jobs::due_pending_of_kind(crate::server::jobs::JobKind::ZoomUpdate);
    let by_kind = plan(&db, "", &zoom, json!({})).await;
    indexed(&by_kind, "job_kind_due");
    assert!(by_kind.contains("limit: 5"), "{by_kind}");
}

#[engine_test]
async fn queueing_a_job_looks_its_key_up_in_the_index() {
    let db = database().await;
    let setup = "LET $j = { key: 'email:x' }; LET $key = $j.key;";
    indexed(
        &plan(&db, setup, super::jobs::JOB_WITH_KEY, json!({})).await,
        "job_key_unique",
    );
}

#[engine_test]
async fn page_queries_start_from_an_index_and_never_scan_a_table() {
    use super::slots;
    let db = database().await;
    let filter = slots::BrowseFilter {
        specialist: None,
        from: None,
        to: None,
        offset: 0,
        limit: 21,
        include_full: false,
    };
    let vars = json!({ "limit": 21, "offset": 0, "specialist": "s", "customer": "c",
                       "list": ["a", "b"], "ids": ["a", "b"] });
    let records = "LET $records = array::map($ids, |$id| type::record('slot', $id));";
    // A page of slots is one index range, read no further than the page.
    let browse = plan(&db, "", &slots::browse_sql(&filter), vars.clone()).await;
    indexed(&browse, "slot_bookable");
    assert!(
        browse.contains("limit: $limit") && !browse.contains("Filter"),
        "{browse}"
    );
    let all = slots::BrowseFilter {
        include_full: true,
        ..filter
    };
    let listed = plan(&db, "", &slots::browse_sql(&all), vars.clone()).await;
    indexed(&listed, "slot_listed");
    assert!(
        listed.contains("limit: $limit") && !listed.contains("Filter"),
        "{listed}"
    );
    for (setup, sql, index) in [
        (records, slots::WAITING_FOR.into(), "waitlist_slot"),
        ("", slots::managed_slots_sql(), "slot_specialist"),
        (records, slots::managed_bookings_sql(), "booking_slot"),
        ("", slots::JOB_STATUSES.into(), "job_key_unique"),
        ("", slots::ZOOM_JOBS_PENDING.into(), "job_booking"),
        ("", slots::booked_by_sql(), "booking_customer"),
        (
            "",
            super::waitlist::PLACES_OF_CUSTOMER.into(),
            "waitlist_customer",
        ),
        (
            records,
            super::waitlist::WAITING_FOR_SLOTS.into(),
            "waitlist_slot",
        ),
    ] {
        indexed(&plan(&db, setup, &sql, vars.clone()).await, index);
    }
}

#[engine_test]
async fn in_lists_longer_than_the_limit_are_planned_as_scans() {
    let db = database().await;
    let at_limit: Vec<String> = (0..super::IN_LIST_LIMIT).map(|i| format!("k{i}")).collect();
    let sql = super::slots::JOB_STATUSES;
    indexed(
        &plan(&db, "", sql, json!({ "list": at_limit })).await,
        "job_key_unique",
    );
    let beyond: Vec<String> = (0..=super::IN_LIST_LIMIT)
        .map(|i| format!("k{i}"))
        .collect();
    let scan = plan(&db, "", sql, json!({ "list": beyond })).await;
    assert!(scan.contains("TableScan"), "the limit moved: {scan}");
}
