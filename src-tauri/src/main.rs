// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// Every heap block the app frees is wiped first. keyfob's own secret types
/// zeroize themselves, but the PIN and a new identity's secret also pass
/// through buffers the app does not own: Tauri's IPC request bodies and
/// serde's scratch space. A core dump after locking found PIN copies there
/// (tests/e2e/memory.py); wiping on free removes them at the source.
#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() {
    // Before any thread: tpm2-tss's own logging off (see the function).
    keyfob::platform::tpm::quiet_tss_logs();
    keyfob_desktop::run()
}
