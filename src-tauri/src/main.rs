//! keyfob's desktop app: a thin Tauri layer over the keyfob library.
//!
//! Owns the window, the tray ([`tray`]), the IPC commands ([`commands`],
//! each a delegation to `keyfob::app` and friends), the shapes that cross
//! to the UI ([`dto`], [`error`]) and the app's half of the prompt service
//! ([`prompt`]), the page's side of an Identity Center sign-in
//! ([`sign_in`]: the code and countdown as events, Cancel), the 90-day key
//! reminders ([`reminder`]), the quick switcher's global shortcut
//! ([`shortcut`]), and approvals and the access log as the app shows them
//! ([`access`]). State ([`desk`]) is built once in `setup()`; what
//! every part may do to the window is in [`window`]. This file only
//! assembles them: nothing here is used by the modules it names. One
//! instance runs, with or without D-Bus ([`instance`]: a second start
//! brings the window forward and exits); the window's size and place are
//! remembered.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod access;
mod autostart;
mod commands;
mod desk;
mod dto;
mod error;
mod instance;
mod prompt;
mod reminder;
mod sealing;
mod shortcut;
mod sign_in;
mod tray;
mod window;

use tauri::{Manager, WindowEvent};

use desk::Desk;

include!("command_list.rs");

/// The invoke handler for the commands of `command_list.rs`.
macro_rules! handler {
    ($($c:ident),*) => {
        tauri::generate_handler![$(commands::$c),*]
    };
}

fn run() {
    use tauri_plugin_window_state::StateFlags;
    // First, before a window or the agent: a second start hands over to
    // the app that runs and exits, or says at once why it cannot.
    let instance = match instance::claim() {
        Ok(instance::Claim::First(guard)) => guard,
        Ok(instance::Claim::Shown { holder }) => {
            eprintln!(
                "keyfob: the keyfob app runs already, as {holder}; its window was brought forward"
            );
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("keyfob: {e}");
            std::process::exit(1)
        }
    };
    tauri::Builder::default()
        .plugin(
            tauri_plugin_window_state::Builder::default()
                // Not VISIBLE: a window left in the tray must come back
                // at the next start.
                .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
                .build(),
        )
        .plugin(shortcut::plugin())
        // The notification when a program gets a profile for the first
        // time ([`access`]).
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            let desk = Desk::build(app.handle())?;
            let chosen = shortcut::load(&desk.kf.paths.config_file());
            app.manage(desk);
            let applied = shortcut::apply(app.handle(), &chosen);
            if let Err(e) = &applied {
                tracing::warn!("global shortcut: {e}");
            }
            *app.state::<Desk>()
                .shortcut_error
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = applied.err();
            tray::create(app.handle())?;
            tray::watch(app.handle().clone());
            reminder::spawn(app.handle().clone());
            // Later starts are answered once there is a window to show.
            instance.serve(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Closing the window keeps keyfob in the tray (and the prompt
            // service running); "Quit" in the tray ends it.
            WindowEvent::CloseRequested { api, .. } => {
                api.prevent_close();
                let _ = window.hide();
            }
            WindowEvent::Destroyed if window.label() == "main" => {
                desk::main_window_destroyed(window.app_handle());
            }
            _ => {}
        })
        .invoke_handler(with_commands!(handler))
        .build(tauri::generate_context!())
        .expect("the keyfob app failed to start")
        .run(|_app, event| {
            // The window being built afresh (or hidden) is not a reason to
            // end: only "Quit" (an explicit exit code) is.
            if let tauri::RunEvent::ExitRequested {
                code: None, api, ..
            } = event
            {
                api.prevent_exit();
            }
        });
}

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
    run()
}

#[cfg(test)]
mod tests {
    macro_rules! names {
        ($($c:ident),*) => {
            vec![$(stringify!($c)),*]
        };
    }

    /// The UI's typed wrapper declares exactly the app's commands.
    #[test]
    fn the_ui_wrapper_names_every_command_and_no_other() {
        let ts = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ui/src/api/index.ts"
        ))
        .unwrap();
        let start = ts
            .find("export interface Commands {")
            .expect("the Commands type");
        let body = &ts[start..ts[start..].find("\n}").unwrap() + start];
        let mut declared: Vec<&str> = body
            .lines()
            .filter_map(|l| l.trim().split_once(": ["))
            .map(|(name, _)| name)
            .collect();
        let mut commands = with_commands!(names);
        declared.sort();
        commands.sort();
        assert_eq!(declared, commands);
    }
}
