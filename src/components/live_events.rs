//! Listening to the server's event stream for a page (`/api/events/…`): every `changed` (and
//! the first `ready`, for what changed before it opened) calls back; the browser reconnects
//! by itself after an error. Polling stays the fallback while the stream is not connected.

use leptos::prelude::*;

/// Calls `on_change` whenever the data behind the page changes; the returned signal tells
/// whether the stream is connected now.
pub fn listen(url: String, on_change: impl Fn() + 'static) -> ReadSignal<bool> {
    let (connected, set_connected) = signal(false);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return connected;
        };
        let on_change = std::rc::Rc::new(on_change);
        let ready = {
            let on_change = on_change.clone();
            Closure::<dyn Fn()>::new(move || {
                set_connected.set(true);
                on_change();
            })
        };
        let changed = Closure::<dyn Fn()>::new(move || on_change());
        let failed = Closure::<dyn Fn()>::new(move || set_connected.set(false));
        let _ = source.add_event_listener_with_callback("ready", ready.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback("changed", changed.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("error", failed.as_ref().unchecked_ref());
        // The stream and its callbacks live as long as the page: an islands page is left by a
        // full navigation, which closes the stream.
        ready.forget();
        changed.forget();
        failed.forget();
        std::mem::forget(source);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, on_change, set_connected);
    connected
}

/// Numbers the reads a live page makes so that only the answer to the latest one is shown. Two
/// changes told in a row (a meeting's claim, then its save) start two reads, which may answer
/// out of order: the older answer must not overwrite the newer, or the page keeps showing a
/// state that has passed, with no further change to correct it.
#[derive(Clone, Copy)]
pub struct LatestRead(StoredValue<u64>);

impl Default for LatestRead {
    fn default() -> Self {
        Self(StoredValue::new(0))
    }
}

impl LatestRead {
    /// The number of a read starting now.
    pub fn start(&self) -> u64 {
        let n = self.0.get_value() + 1;
        self.0.set_value(n);
        n
    }

    /// Whether read `n` is still the latest one started.
    pub fn is_latest(&self, n: u64) -> bool {
        self.0.try_get_value() == Some(n)
    }
}
