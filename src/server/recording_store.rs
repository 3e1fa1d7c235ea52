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

    /// Writes `key` from `body` in parts (memory stays bounded whatever the file's size);
    /// returns its size. An upload not finished (an error, or the caller's deadline dropping
    /// this future) is aborted, so no half-written upload stays in the store to be billed (G9).
    pub async fn write_stream(
        &self,
        key: &str,
        body: impl futures::Stream<Item = anyhow::Result<bytes::Bytes>>,
    ) -> anyhow::Result<u64> {
        use futures::StreamExt;
        let upload = self
            .store
            .put_multipart(&self.path(key))
            .await
            .context("opening the recording store")?;
        let mut upload = Unfinished(Some(WriteMultipart::new(upload)));
        let mut size = 0u64;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            let writer = upload.writer();
            writer.put(chunk);
            writer
                .wait_for_capacity(4)
                .await
                .context("writing a recording")?;
        }
        upload.finish().await.context("storing a recording")?;
        Ok(size)
    }

    /// A store of its own (the tests' in-memory ones).
    pub fn with_store(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            prefix: Path::default(),
            describe: "a store given in code".into(),
        }
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

/// An upload until it is finished; dropped unfinished, its parts are aborted.
struct Unfinished(Option<WriteMultipart>);

impl Unfinished {
    fn writer(&mut self) -> &mut WriteMultipart {
        self.0.as_mut().expect("the upload is unfinished")
    }

    async fn finish(mut self) -> object_store::Result<object_store::PutResult> {
        self.0
            .take()
            .expect("the upload is unfinished")
            .finish()
            .await
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take() {
            // Drop cannot wait: the abort runs on its own (the runtime outlives the job).
            tokio::spawn(async move {
                if let Err(e) = writer.abort().await {
                    tracing::warn!(error = %e, "aborting an unfinished recording upload");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;
    use futures::stream::BoxStream;
    use object_store::memory::InMemory;
    use object_store::{
        CopyOptions, ListResult, MultipartUpload, ObjectMeta, PutMultipartOptions, PutOptions,
        PutResult, UploadPart,
    };

    use super::*;

    /// Multipart uploads started and not yet completed or aborted, as S3 bills them.
    #[derive(Debug, Default)]
    struct Open(AtomicUsize);

    /// An in-memory store that counts its open multipart uploads.
    #[derive(Debug)]
    struct Counting {
        inner: InMemory,
        open: Arc<Open>,
    }

    impl std::fmt::Display for Counting {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Counting({})", self.inner)
        }
    }

    #[derive(Debug)]
    struct CountedUpload {
        inner: Box<dyn MultipartUpload>,
        open: Arc<Open>,
    }

    #[async_trait]
    impl MultipartUpload for CountedUpload {
        fn put_part(&mut self, data: PutPayload) -> UploadPart {
            self.inner.put_part(data)
        }
        async fn complete(&mut self) -> object_store::Result<PutResult> {
            self.open.0.fetch_sub(1, Ordering::SeqCst);
            self.inner.complete().await
        }
        async fn abort(&mut self) -> object_store::Result<()> {
            self.open.0.fetch_sub(1, Ordering::SeqCst);
            self.inner.abort().await
        }
    }

    #[async_trait]
    impl ObjectStore for Counting {
        async fn put_opts(
            &self,
            location: &Path,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            let inner = self.inner.put_multipart_opts(location, opts).await?;
            self.open.0.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(CountedUpload {
                inner,
                open: self.open.clone(),
            }))
        }
        async fn get_opts(
            &self,
            location: &Path,
            options: GetOptions,
        ) -> object_store::Result<GetResult> {
            self.inner.get_opts(location, options).await
        }
        fn delete_stream(
            &self,
            locations: BoxStream<'static, object_store::Result<Path>>,
        ) -> BoxStream<'static, object_store::Result<Path>> {
            self.inner.delete_stream(locations)
        }
        fn list(
            &self,
            prefix: Option<&Path>,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(
            &self,
            prefix: Option<&Path>,
        ) -> object_store::Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(
            &self,
            from: &Path,
            to: &Path,
            options: CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    fn counting() -> (RecordingStore, Arc<Open>) {
        let open = Arc::new(Open::default());
        let store = Counting {
            inner: InMemory::new(),
            open: open.clone(),
        };
        (RecordingStore::with_store(Arc::new(store)), open)
    }

    fn chunk() -> anyhow::Result<bytes::Bytes> {
        Ok(bytes::Bytes::from(vec![7u8; 64 * 1024]))
    }

    #[tokio::test]
    async fn a_finished_copy_leaves_no_upload_open() {
        let (store, open) = counting();
        let body = futures::stream::iter([chunk(), chunk()]);
        assert_eq!(
            store.write_stream("a/b.mp4", body).await.unwrap(),
            128 * 1024
        );
        assert_eq!(open.0.load(Ordering::SeqCst), 0);
        let stored = store
            .get("a/b.mp4", None)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(stored.len(), 128 * 1024);
    }

    /// G9: Zoom sends part of a file and then nothing; the job's deadline drops the copy. Its
    /// upload is aborted, as is one whose body failed.
    #[tokio::test]
    async fn a_copy_cut_short_or_failed_leaves_no_upload_open() {
        let (store, open) = counting();
        let stalls =
            futures::StreamExt::chain(futures::stream::iter([chunk()]), futures::stream::pending());
        let cut = tokio::time::timeout(
            Duration::from_millis(200),
            store.write_stream("a/c.mp4", stalls),
        );
        assert!(cut.await.is_err(), "the copy should still be waiting");
        let fails = futures::stream::iter([chunk(), Err(anyhow::anyhow!("connection reset"))]);
        assert!(store.write_stream("a/d.mp4", fails).await.is_err());
        for _ in 0..100 {
            if open.0.load(Ordering::SeqCst) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(open.0.load(Ordering::SeqCst), 0, "uploads left open");
        assert!(store.get("a/c.mp4", None).await.is_err());
    }
}
