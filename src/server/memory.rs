//! What the server keeps of the memory it frees (glibc's allocator).
//!
//! glibc gives each thread that allocates an arena of its own, up to eight per core, and keeps
//! what is freed in them for reuse. Request handlers, the storage engine's threads and the
//! password-hashing threads each leave their share behind, so the server's RSS grew with
//! every busy spell and stayed there.

use std::time::Duration;

/// Blocks from this size up are mapped on their own and unmapped when freed.
const MMAP_THRESHOLD: i32 = 256 * 1024;

/// Set before the first thread starts. Elsewhere (not glibc) a no-op.
/// - Two arenas.
/// - A fixed mmap threshold. glibc raises its threshold to the largest mapped block freed so
///   far (up to 32 MiB): after the first 19 MiB password hash, every buffer below that size
///   came from the arenas, and a burst of them held the server's RSS up until the next trim.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's settings; called before other threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Every `period`, hands the free pages inside the arenas back to the system.
pub fn spawn_trimmer(period: Duration) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // It walks the arenas for a few milliseconds: not on a request's thread.
            // SAFETY: malloc_trim is thread-safe and only releases free memory.
            let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
        }
    });
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = period;
}
