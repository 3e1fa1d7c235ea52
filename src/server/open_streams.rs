//! The event streams open on this instance. Each holds a `LIVE SELECT` that the database
//! evaluates on every write of its table, a socket and a task, so one account, and the
//! instance as a whole, may hold only so many (review G2). A slot is given back when its stream
//! ends, however it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::AppError;

/// How long a client refused for holding too many streams is told to wait.
const RETRY_AFTER_SECONDS: u64 = 30;

#[derive(Debug)]
pub struct OpenStreams {
    per_user: usize,
    per_instance: usize,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_user: HashMap<String, usize>,
}

/// One open stream's place; dropping it frees the place.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Arc<OpenStreams>,
    user_id: String,
}

impl OpenStreams {
    pub fn new(per_user: usize, per_instance: usize) -> Self {
        Self {
            per_user,
            per_instance,
            open: Mutex::default(),
        }
    }

    /// A place for one more stream of `user_id`, or 429 when the account or the instance
    /// holds all it may.
    pub fn open(self: &Arc<Self>, user_id: &str) -> Result<StreamSlot, AppError> {
        let mut open = self.open.lock().expect("the stream counts");
        let mine = open.by_user.get(user_id).copied().unwrap_or(0);
        if mine >= self.per_user {
            return Err(AppError::too_many(
                format!(
                    "Too many live pages open: at most {} per account. Close a tab and try again.",
                    self.per_user
                ),
                RETRY_AFTER_SECONDS,
            ));
        }
        if open.total >= self.per_instance {
            return Err(AppError::too_many(
                "The server holds as many live pages as it can. Try again shortly.",
                RETRY_AFTER_SECONDS,
            ));
        }
        open.total += 1;
        *open.by_user.entry(user_id.to_string()).or_default() += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            user_id: user_id.to_string(),
        })
    }

    /// Streams open now, in all and of `user_id`.
    #[cfg(test)]
    fn count(&self, user_id: &str) -> (usize, usize) {
        let open = self.open.lock().expect("the stream counts");
        (open.total, open.by_user.get(user_id).copied().unwrap_or(0))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().expect("the stream counts");
        open.total -= 1;
        if let Some(mine) = open.by_user.get_mut(&self.user_id) {
            *mine -= 1;
            if *mine == 0 {
                open.by_user.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_and_the_instance_hold_only_so_many_and_get_them_back() {
        let streams = Arc::new(OpenStreams::new(2, 3));
        let a1 = streams.open("a").unwrap();
        let _a2 = streams.open("a").unwrap();
        let refused = streams.open("a").unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(refused.retry_after_seconds, Some(RETRY_AFTER_SECONDS));
        let _b1 = streams.open("b").unwrap();
        assert_eq!(streams.open("c").unwrap_err().status, 429);
        drop(a1);
        assert_eq!(streams.count("a"), (2, 1));
        let _c1 = streams.open("c").unwrap();
        assert_eq!(streams.count("c"), (3, 1));
    }
}
