//! Password hashing (argon2id) on a fixed pool of threads with a bounded queue. Each hash
//! takes about 19 MiB and tens of milliseconds on purpose; a flood of logins waits in the
//! queue or is told the server is busy, instead of growing memory without bound. A fixed set
//! of threads also keeps the allocator's per-thread memory to that set.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use tokio::sync::oneshot;

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct HashPool {
    queue: SyncSender<Job>,
}

impl HashPool {
    /// `threads` hashes at a time, at most `queue` more waiting.
    pub fn new(threads: usize, queue: usize) -> Self {
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("spawning a password hashing thread");
        }
        Self { queue: sender }
    }

    /// One thread per core, and `queue` waiting at most.
    pub fn for_this_machine(queue: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, queue)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("password hashing queue full; answering busy");
                return Err(AppError::busy());
            }
            Err(TrySendError::Disconnected(_)) => return Err(AppError::internal()),
        }
        result.await.map_err(|_| AppError::internal())
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "hashing a password");
            AppError::internal()
        })
    }

    /// Verifies `password` against `stored`; with no stored hash (unknown email) it verifies
    /// against a dummy hash anyway, so both failures take the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = self
            .run(move || {
                PasswordHash::new(&hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
            })
            .await?;
        Ok(known && ok)
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a real password", &salt)
            .expect("hashing")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_a_full_queue_answers_busy() {
        let pool = HashPool::new(1, 1);
        let hash = pool.hash("secret-password".into()).await.unwrap();
        assert!(pool
            .verify("secret-password".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!pool.verify("wrong".into(), Some(hash)).await.unwrap());
        assert!(!pool.verify("x".into(), None).await.unwrap());

        let attempts = (0..8).map(|_| pool.hash("p".into()));
        let results = futures::future::join_all(attempts).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(e) if e.status == 503))
            .count();
        assert!(
            busy > 0,
            "one running and one queued at most: the rest are refused"
        );
        assert!(results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(e) if e.status == 503)));
    }
}
