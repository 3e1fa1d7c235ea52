//! The async runtime of every process that drives SurrealDB: the app, the bench and the tests.
//!
//! The embedded engine evaluates a query inside the task that awaits it, so its futures live
//! on the stack of whatever thread polls them. In a build whose engine is not fully optimised
//! (`make run`'s), an `UPSERT` that updates a row (a returning login) or a burst of bookings of
//! one slot needs more than the 2 MiB std gives a thread, and the process aborted with a stack
//! overflow. SurrealDB's own server sizes its runtime for this (`surrealdb-server`'s
//! `RUNTIME_STACK_SIZE`); `specialistly db-server` runs that server, so it has it already.

use std::future::Future;

/// The stack of every thread that may poll the engine: what SurrealDB's server gives its own
/// (20 MiB with debug assertions, whose frames are larger, 10 MiB otherwise). It is address
/// space, not memory: a thread only ever touches the pages its deepest call reached.
pub const ENGINE_STACK_SIZE: usize = if cfg!(debug_assertions) {
    20 * 1024 * 1024
} else {
    10 * 1024 * 1024
};

/// A multi-threaded runtime whose worker and blocking threads all have [`ENGINE_STACK_SIZE`],
/// whatever `RUST_MIN_STACK` says.
pub fn multi_thread() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().thread_stack_size(ENGINE_STACK_SIZE);
    builder
}

/// Runs the future `make` returns to completion on a thread of its own with
/// [`ENGINE_STACK_SIZE`], on `runtime` (a test's runtime, built by `#[engine_test]`). The future
/// is made on that thread, so it need not be `Send`; the test harness's own threads get only
/// what `RUST_MIN_STACK` says.
pub fn block_on_engine_stack<F, M>(runtime: tokio::runtime::Builder, make: M) -> F::Output
where
    M: FnOnce() -> F + Send,
    F: Future,
    F::Output: Send,
{
    let mut runtime = runtime;
    let runtime = runtime
        .enable_all()
        .thread_stack_size(ENGINE_STACK_SIZE)
        .build()
        .expect("building the test's runtime");
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name(
                std::thread::current()
                    .name()
                    .unwrap_or("engine-test")
                    .to_string(),
            )
            .stack_size(ENGINE_STACK_SIZE)
            .spawn_scoped(scope, move || runtime.block_on(make()))
            .expect("starting the test's thread");
        match thread.join() {
            Ok(output) => output,
            // The test's own panic, with its message, as if it had run on this thread.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
