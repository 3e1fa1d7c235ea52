//! The embedded engines (`surrealkv://`, `mem://`), opened with bounded memory.
//!
//! Opened through the SDK's URL, SurrealKV sizes its block cache to half the machine's memory
//! minus 1 GiB and its memtable to 1 GiB on a 16–64 GiB machine, and the URL has no way to
//! change either (its `?key=value` settings reach only the `datastore_*` keys). An instance
//! then grew to 1.6 GB reading a million bookings. So the datastore is built here, the way
//! the SDK builds it, with the two sizes from the configuration.
//!
//! `Surreal::unstable_from_datastore` is outside the SDK's semver promise: `surrealdb` and
//! `surrealdb-core` are pinned to one exact version in Cargo.toml.

use anyhow::Context;
use surrealdb::engine::local::Db as Local;
use surrealdb::Surreal;
use surrealdb_cnf::ConfigMap;
use surrealdb_core::kvs::Datastore;

use crate::server::config::DatabaseConfig;

const MIB: u64 = 1024 * 1024;
/// SurrealKV's data block. Every read that reaches its files copies a whole block
/// (`Block::iter` in surrealkv 0.21 clones it), and its default of 64 KiB made those copies a
/// large share of a read's time; values over 4 KiB live in its value log, not in blocks.
const BLOCK_BYTES: u64 = 4 * 1024;

/// SurrealKV's own settings for the sizes in `config`, and its block size (ignored by the
/// memory engine).
pub(super) fn storage_settings(config: &DatabaseConfig) -> ConfigMap {
    ConfigMap::empty()
        .with_key_value(
            "surrealkv_block_cache_capacity",
            (config.cache_mib * MIB).to_string(),
        )
        .with_key_value(
            "surrealkv_max_memtable_size",
            (config.memtable_mib * MIB).to_string(),
        )
        .with_key_value("surrealkv_block_size", BLOCK_BYTES.to_string())
}

/// Opens the datastore at `config.url` (`surrealkv://path`, `mem://` or `memory`) and serves it
/// to the SDK, in the same steps as the SDK's own `connect`.
pub(super) async fn open(config: &DatabaseConfig) -> anyhow::Result<Surreal<Local>> {
    let url = config.url.as_str();
    if let Some(path) = url.strip_prefix("surrealkv://") {
        let dir = std::path::Path::new(path.split('?').next().unwrap_or(path));
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    // Live queries (the pages' event streams) are delivered through this channel, as
    // `surrealdb::engine::local` sets it up when it builds the datastore itself.
    let (notify, notifications) = async_channel::bounded(surrealdb_cnf::NOTIFICATIONS_CHANNEL_SIZE);
    let datastore = Datastore::builder()
        .with_config(storage_settings(config))
        .with_notify(notify)
        // Its maintenance tasks write; they start once the version key is in place, or a
        // datastore created now would look older than that key and be refused ever after.
        .without_maintenance_tasks()
        .build_with_path(url)
        .await
        .with_context(|| format!("opening the database at {url}"))?;
    datastore
        .check_version()
        .await
        .context("checking the database's storage version")?;
    datastore
        .bootstrap()
        .await
        .context("bootstrapping the database")?;
    datastore.start_maintenance_tasks();
    Ok(Surreal::<Local>::unstable_from_datastore(datastore, Some(notifications)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use surrealdb_kvs_surrealkv::SurrealKvConfig;

    fn config(url: &str) -> DatabaseConfig {
        DatabaseConfig {
            cache_mib: 24,
            memtable_mib: 16,
            ..DatabaseConfig::embedded(url, "test", "test")
        }
    }

    #[test]
    fn surrealkv_reads_the_configured_sizes() {
        let settings = storage_settings(&config("surrealkv://x")).load::<SurrealKvConfig>();
        assert_eq!(settings.block_cache_capacity, 24 * MIB);
        assert_eq!(settings.max_memtable_size, 16 * MIB as usize);
        assert_eq!(settings.block_size, 4 * 1024);
    }

    /// The previous handle's datastore shuts down in a task after the handle is dropped.
    async fn open_when_released(config: &DatabaseConfig) -> Surreal<Local> {
        for _ in 0..100 {
            match open(config).await {
                Ok(db) => return db,
                Err(e) if format!("{e:#}").contains("already locked") => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await
                }
                Err(e) => panic!("{e:#}"),
            }
        }
        panic!("the database stayed locked");
    }

    #[engine_test]
    async fn the_memory_engine_opens_by_either_name() {
        for url in ["mem://", "memory"] {
            let db = open(&config(url)).await.unwrap();
            let answer: Option<i64> = db.query("RETURN 1").await.unwrap().take(0).unwrap();
            assert_eq!(answer, Some(1), "{url}");
        }
    }

    #[engine_test]
    async fn a_surrealkv_database_keeps_its_rows_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("surrealkv://{}", dir.path().join("db").display());
        let config = config(&url);
        for round in 0..2 {
            let db = open_when_released(&config).await;
            db.use_ns("test").use_db("test").await.unwrap();
            db.query("CREATE note SET round = $round")
                .bind(("round", round))
                .await
                .unwrap()
                .check()
                .unwrap();
            let rounds: Vec<i64> = db
                .query("SELECT VALUE round FROM note ORDER BY round")
                .await
                .unwrap()
                .take(0)
                .unwrap();
            assert_eq!(rounds, (0..=round).collect::<Vec<_>>());
        }
    }
}
