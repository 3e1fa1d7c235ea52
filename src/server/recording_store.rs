//! Where cloud recordings are kept: a directory (the default, under `DATA_DIR`) or any
//! S3-compatible store, through the `object_store` crate. Several instances share recordings
//! only through S3 (or a directory they all mount).

use std::sync::Arc;

use anyhow::Context;
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart,
};

use super::config::RecordingsConfig;

pub struct RecordingStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    describe: String,
}

impl RecordingStore {
    pub fn from_config(config: &RecordingsConfig) -> anyhow::Result<Self> {
        let url = url::Url::parse(&config.url).context("RECORDINGS_URL")?;
        if url.scheme() == "file" {
            // A local directory must exist before object_store will write into it.
            let dir = url
                .to_file_path()
                .map_err(|()| anyhow::anyhow!("RECORDINGS_URL: not a file path"))?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let options = config
            .store_options
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_string()));
        let (store, prefix) =
            object_store::parse_url_opts(&url, options).context("opening the recording store")?;
        Ok(Self {
            store: Arc::from(store),
            prefix,
            describe: match url.scheme() {
                "file" => format!("directory {}", url.path()),
                scheme => format!("{scheme}://{}", url.host_str().unwrap_or("")),
            },
        })
    }

    /// The directory, or the store's kind and bucket, for the start-up log (no credentials).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn path(&self, key: &str) -> Path {
        key.split('/')
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    /// Starts writing `key` in parts: memory stays bounded whatever the file's size.
    pub async fn writer(&self, key: &str) -> object_store::Result<WriteMultipart> {
        let upload = self.store.put_multipart(&self.path(key)).await?;
        Ok(WriteMultipart::new(upload))
    }

    pub async fn put(&self, key: &str, bytes: bytes::Bytes) -> object_store::Result<()> {
        self.store
            .put(&self.path(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    /// The object, or the part of it `range` asks for.
    pub async fn get(&self, key: &str, range: Option<GetRange>) -> object_store::Result<GetResult> {
        let options = GetOptions {
            range,
            ..Default::default()
        };
        self.store.get_opts(&self.path(key), options).await
    }

    /// Deletes the object; one already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&self.path(key)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }
}
