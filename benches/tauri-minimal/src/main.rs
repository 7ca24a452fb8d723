//! A window with one static page and nothing else: the baseline keyfob's
//! desktop app is measured against (scripts/bench).

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the minimal Tauri app failed to start");
}
