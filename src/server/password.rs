//! Password hashing (argon2id) on a fixed pool of threads with a bounded queue. Each hash
//! takes about 19 MiB and tens of milliseconds on purpose; a flood of logins waits in the
//! queue or is told the server is busy, instead of growing memory without bound. Each thread
//! hashes in the same memory while work is queued and gives it back once idle, so a burst of
//! sign-ups leaves nothing behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};

use std::cell::RefCell;

use argon2::password_hash::{self, rand_core::OsRng, Output, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct HashPool {
    queue: SyncSender<Job>,
    /// One per thread and queued job: taken before a request does any other work for its
    /// hash, so a flood beyond them is told "busy" before it reads or writes anything.
    places: Arc<Semaphore>,
}

/// A place in the pool, held until the hash is done.
pub struct HashPlace {
    pool: HashPool,
    _place: OwnedSemaphorePermit,
}

impl HashPool {
    /// `threads` hashes at a time, at most `queue` more waiting.
    pub fn new(threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        // Room for every place: the places alone decide who is turned away.
        let (sender, receiver) = sync_channel::<Job>(threads + queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    while let Some(job) = next_job(&receiver) {
                        job();
                    }
                })
                .expect("spawning a password hashing thread");
        }
        Self {
            queue: sender,
            places: Arc::new(Semaphore::new(threads + queue)),
        }
    }

    /// One thread per core, and `queue` waiting at most.
    pub fn for_this_machine(queue: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, queue)
    }

    /// A place for one hash, or "busy" when every thread is hashing and the queue is full.
    pub fn reserve(&self) -> Result<HashPlace, AppError> {
        match self.places.clone().try_acquire_owned() {
            Ok(place) => Ok(HashPlace {
                pool: self.clone(),
                _place: place,
            }),
            Err(_) => Err(busy()),
        }
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
            Err(TrySendError::Full(_)) => return Err(busy()),
            Err(TrySendError::Disconnected(_)) => return Err(AppError::internal()),
        }
        result.await.map_err(|_| AppError::internal())
    }
}

fn busy() -> AppError {
    tracing::warn!("password hashing queue full; answering busy");
    AppError::busy()
}

impl HashPlace {
    pub async fn hash(self, password: String) -> Result<String, AppError> {
        self.pool
            .run(move || hash_password(password.as_bytes()))
            .await?
            .map_err(|e| {
                tracing::error!(error = %e, "hashing a password");
                AppError::internal()
            })
    }

    /// Verifies `password` against `stored`; with no stored hash (unknown email) it verifies
    /// against a dummy hash anyway, so both failures take the same time.
    pub async fn verify(self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        let known = stored.is_some();
        let ok = self
            .pool
            .run(move || {
                let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
                verify_password(password.as_bytes(), &hash)
            })
            .await?;
        Ok(known && ok)
    }
}

/// The next queued job, or once there is none this thread's working memory is given back
/// and it waits for one. `None` when the pool is gone.
fn next_job(receiver: &Mutex<Receiver<Job>>) -> Option<Job> {
    match receiver.try_lock() {
        Ok(queue) => match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        },
        // Another thread holds the queue while it waits: nothing is queued.
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Poisoned(_)) => return None,
    }
    release_blocks();
    receiver.lock().ok()?.recv().ok()
}

thread_local! {
    /// This hashing thread's argon2 working memory (19 MiB with the default parameters), kept
    /// while work is queued. Allocated and freed per hash, glibc's growing mmap threshold
    /// served it from the heap and kept hundreds of MiB after a burst of sign-ups (measured:
    /// 120 → 508 MB for 100 sign-ups); reused, it stayed with the thread for good (38 MiB for
    /// two threads through the whole benchmark). Now it is freed when the thread goes idle,
    /// and `memory::spawn_trimmer` hands it back to the system.
    static BLOCKS: RefCell<Blocks> = const { RefCell::new(Blocks(Vec::new())) };
}

/// Bytes of working memory the threads that hash hold right now.
static HELD_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Working memory that counts itself in `HELD_BYTES`.
struct Blocks(Vec<Block>);

impl Drop for Blocks {
    fn drop(&mut self) {
        HELD_BYTES.fetch_sub(self.0.len() * size_of::<Block>(), Ordering::Relaxed);
    }
}

fn with_blocks<T>(count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    BLOCKS.with(|cell| {
        let blocks = &mut cell.borrow_mut().0;
        if blocks.len() < count {
            HELD_BYTES.fetch_add(
                (count - blocks.len()) * size_of::<Block>(),
                Ordering::Relaxed,
            );
            blocks.resize(count, Block::new());
        }
        work(&mut blocks[..count])
    })
}

fn release_blocks() {
    BLOCKS.with(|cell| {
        drop(std::mem::replace(
            &mut *cell.borrow_mut(),
            Blocks(Vec::new()),
        ))
    });
}

/// An argon2id hash with the default parameters in PHC format, computed in this thread's
/// reused memory; the same string `Argon2::default().hash_password` gives for that salt.
fn hash_password(password: &[u8]) -> Result<String, password_hash::Error> {
    let argon = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_blocks(argon.params().block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, raw_salt, &mut output, blocks)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: argon.params().try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (any argon2 variant and parameters),
/// computed in this thread's reused memory and compared in constant time.
fn verify_password(password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else {
        return false;
    };
    let argon = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    let computed = with_blocks(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, raw_salt, &mut output, blocks)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&output).is_ok_and(|o| o == expected)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(b"not a real password").expect("hashing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash in a place of its own, as a request takes one.
    async fn hash(pool: &HashPool, password: &str) -> Result<String, AppError> {
        pool.reserve()?.hash(password.into()).await
    }

    async fn verify(pool: &HashPool, password: &str, stored: Option<String>) -> bool {
        let place = pool.reserve().unwrap();
        place.verify(password.into(), stored).await.unwrap()
    }

    #[engine_test]
    async fn hashes_verify_and_a_full_queue_answers_busy() {
        let pool = HashPool::new(1, 1);
        let stored = hash(&pool, "secret-password").await.unwrap();
        assert!(verify(&pool, "secret-password", Some(stored.clone())).await);
        assert!(!verify(&pool, "wrong", Some(stored)).await);
        assert!(!verify(&pool, "x", None).await);

        let attempts = (0..8).map(|_| hash(&pool, "p"));
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

    #[engine_test]
    async fn idle_hashing_threads_give_their_working_memory_back() {
        let pool = HashPool::new(2, 16);
        let passwords: Vec<String> = (0..6).map(|i| format!("password-{i}")).collect();
        let hashes = passwords.iter().map(|p| hash(&pool, p));
        assert!(futures::future::join_all(hashes)
            .await
            .iter()
            .all(Result::is_ok));
        // Other tests' pools share the counter: wait until every thread is idle.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while HELD_BYTES.load(Ordering::Relaxed) != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "still held: {} bytes",
                HELD_BYTES.load(Ordering::Relaxed)
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_api() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_password(b"correct horse").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password(b"battery staple", &theirs));
        assert!(!verify_password(b"battery stapler", &theirs));
        assert!(!verify_password(b"battery staple", "not a hash"));
        // Other parameters (a cheaper hash from an older setting) still verify.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"old", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password(b"old", &cheap));
    }
}
