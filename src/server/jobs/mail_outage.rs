//! What a worker knows about its mail server being out of reach. While it is, emails wait
//! for it instead of each trying (and spending an attempt): one email probes the server per
//! pause, and the pause doubles from 2 s up to 5 min until an email gets through.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FIRST_PAUSE: Duration = Duration::from_secs(2);
const LONGEST_PAUSE: Duration = Duration::from_secs(300);

#[derive(Clone, Default)]
pub struct MailOutage(Arc<Mutex<State>>);

#[derive(Default)]
struct State {
    /// Emails wait until then.
    until: Option<Instant>,
    /// The last pause, doubled by the next failed probe.
    pause: Option<Duration>,
}

impl MailOutage {
    /// How long emails still wait; `None` when they may try the server.
    pub fn remaining(&self) -> Option<Duration> {
        let state = self.0.lock().expect("outage state");
        state
            .until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }

    /// An email could not reach the server: emails wait, and the wait left is returned. Emails
    /// that failed together (the worker runs a few at once) start one pause, not several.
    pub fn unreachable(&self) -> Duration {
        if let Some(left) = self.remaining() {
            return left;
        }
        let mut state = self.0.lock().expect("outage state");
        let pause = state
            .pause
            .map_or(FIRST_PAUSE, |last| (last * 2).min(LONGEST_PAUSE));
        state.pause = Some(pause);
        state.until = Some(Instant::now() + pause);
        pause
    }

    /// An email got through: the next outage starts from the shortest pause again.
    pub fn reached(&self) {
        let mut state = self.0.lock().expect("outage state");
        state.until = None;
        state.pause = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_five_minutes_and_start_over_once_mail_gets_through() {
        let outage = MailOutage::default();
        assert_eq!(outage.remaining(), None);
        assert_eq!(outage.unreachable(), FIRST_PAUSE);
        let left = outage.remaining().expect("emails wait");
        assert!(left <= FIRST_PAUSE && left > FIRST_PAUSE / 2, "{left:?}");
        // Failures during the pause (emails running alongside the probe) do not extend it.
        assert!(outage.unreachable() <= FIRST_PAUSE);

        let mut pauses = Vec::new();
        for _ in 0..10 {
            outage.0.lock().unwrap().until = Some(Instant::now());
            pauses.push(outage.unreachable().as_secs());
        }
        assert_eq!(pauses, [4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);

        outage.reached();
        assert_eq!(outage.remaining(), None);
        assert_eq!(outage.unreachable(), FIRST_PAUSE);
    }
}
