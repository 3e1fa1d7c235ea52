//! Live queries: a stream of changes to the rows a `LIVE SELECT` watches.

use super::{Db, DbError};

/// Tells of every change to the rows a `LIVE SELECT` (one statement, `sql`) watches: one item
/// per change, carrying nothing (readers read the rows again). On a SurrealDB server it hears
/// every instance's writes. The live query is killed when the watch is dropped.
pub async fn watch(db: &Db, sql: &str) -> Result<Watch, DbError> {
    watch_as(db, sql, |_| ()).await
}

/// What a change did to a watched row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    /// Updated, deleted, or anything else the engine reports (the live query's own end).
    Other,
}

/// Like [`watch`], telling whether each change created its row: a cache of existing rows has
/// nothing to forget when a row is created.
pub async fn watch_changes(db: &Db, sql: &str) -> Result<Watch<Change>, DbError> {
    watch_as(db, sql, |action| match action {
        surrealdb::types::Action::Create => Change::Created,
        _ => Change::Other,
    })
    .await
}

async fn watch_as<T: Send + 'static>(
    db: &Db,
    sql: &str,
    item: fn(surrealdb::types::Action) -> T,
) -> Result<Watch<T>, DbError> {
    use futures::StreamExt;
    if db.availability.is_down() {
        return Err(DbError::Unavailable);
    }
    let connection = db.next_connection();
    // Registering a live query writes to the engine's catalog; beside other registrations and
    // kills (pages opened and closed at once) it may conflict, and is simply made again.
    let (id, stream) = super::with_conflict_retry("register_live_query", || async {
        let mut response = db
            .query_on(connection, sql, serde_json::json!({}))
            .await
            .map_err(DbError::classify)?;
        let id = match response.take::<surrealdb::types::Value>(0) {
            Ok(surrealdb::types::Value::Uuid(id)) => Some(id.to_string()),
            Ok(_) => None,
            Err(e) => match DbError::classify(e) {
                DbError::Conflict => return Err(DbError::Conflict),
                _ => None,
            },
        };
        let stream = response
            .stream::<surrealdb::types::Value>(0)
            .map_err(DbError::classify)?;
        Ok::<_, DbError>((id, stream))
    })
    .await?;
    Ok(Watch {
        changes: Box::pin(
            stream
                .take_while(|n| std::future::ready(n.is_ok()))
                .filter_map(move |n| std::future::ready(n.ok().map(|n| item(n.action)))),
        ),
        kill: id.map(|id| (db.clone(), connection, id)),
    })
}

/// A live query's changes; dropping it kills the live query.
pub struct Watch<T = ()> {
    changes: std::pin::Pin<Box<dyn futures::Stream<Item = T> + Send>>,
    /// Killed on the connection (the session) that started it: the SDK's own kill, on drop of
    /// its stream, runs on a new session without a database and fails, which would leave the
    /// live query registered (and costing every later write) until the process ends.
    kill: Option<(Db, usize, String)>,
}

impl<T> futures::Stream for Watch<T> {
    type Item = T;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.changes.as_mut().poll_next(cx)
    }
}

impl<T> Drop for Watch<T> {
    fn drop(&mut self) {
        // Dropped as its runtime shuts down (a test's end), there is nothing left to kill it on.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if let Some((db, connection, id)) = self.kill.take() {
            runtime.spawn(async move {
                let killed = db
                    .query_on(
                        connection,
                        "LET $live = type::uuid($id); KILL $live;",
                        serde_json::json!({ "id": id }),
                    )
                    .await
                    .and_then(|mut r| r.take::<surrealdb::types::Value>(1).map(|_| ()));
                if let Err(e) = killed {
                    tracing::warn!(error = %e, "could not end a live query");
                }
            });
        }
    }
}
