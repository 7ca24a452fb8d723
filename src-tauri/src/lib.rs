//! keyfob's desktop app: a thin Tauri layer over the keyfob library.
//!
//! Owns the window, the tray ([`tray`]), the IPC commands ([`commands`],
//! each a delegation to `keyfob::app` and friends), the shapes that cross
//! to the UI ([`dto`], [`error`]) and the app's half of the prompt service
//! ([`prompt`]), the page's side of an Identity Center sign-in
//! ([`sign_in`]: the code and countdown as events, Cancel), the 90-day key
//! reminders ([`reminder`]) and the quick switcher's global shortcut
//! ([`shortcut`]). State ([`Desk`]) is built
//! once in `setup()`. One instance runs (a second start focuses the
//! window); the window's size and place are remembered.

mod autostart;
mod commands;
pub mod dto;
pub mod error;
mod prompt;
mod reminder;
pub mod sealing;
mod shortcut;
mod sign_in;
mod tray;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tauri::{AppHandle, Emitter, Manager, WebviewWindowBuilder, WindowEvent};

use keyfob::agent::server::{Agent, AgentError, AgentServer, Asker, ServerHandle, harden_process};
use keyfob::app::{self, Keyfob};
use keyfob::aws::sts::CallerIdentity;
use keyfob::config::settings::Settings;
use keyfob::link::client::AgentLink;
use keyfob::link::protocol::Reply;
use keyfob::vault::NewIdentity;

use dto::{SettingsView, StoreChoice, VerifiedKeys};
use error::{ErrorKind, UiError};

include!("command_list.rs");

/// The invoke handler for the commands of `command_list.rs`.
macro_rules! handler {
    ($($c:ident),*) => {
        tauri::generate_handler![$(commands::$c),*]
    };
}

/// Emitted after the tray changed something, so the UI reloads its lists.
pub const CHANGED_EVENT: &str = "keyfob://changed";

/// The app's state, built in `setup()`.
pub struct Desk {
    kf: Keyfob,
    app_exe: PathBuf,
    /// The store this process opened, and the fall-back notice if any.
    store_in_use: String,
    notice: Option<String>,
    /// Keys verified by "Verify and add keys", waiting for the person to
    /// confirm; dropped (and wiped) on confirm, cancel or a new verify.
    pending: Mutex<Option<(NewIdentity, CallerIdentity)>>,
    prompts: prompt::Prompts,
    /// Why the prompt service is not running, if it is not.
    prompt_error: Option<String>,
    /// Keeps the prompt socket open for the app's lifetime.
    _server: Option<ServerHandle>,
    /// Why the global shortcut is not active, if it is not.
    shortcut_error: Mutex<Option<String>>,
    /// Set while the main window is destroyed to be built afresh.
    renewing: AtomicBool,
    /// The key secret fields are sealed to; replaced with the web process.
    sealer: sealing::Sealer,
    /// Identity Center sign-ins running now (the page's Cancel finds them).
    sign_ins: sign_in::SignIns,
    /// Identity Center identities whose sign-in this app found expired.
    sso_expired: Mutex<std::collections::BTreeSet<String>>,
}

impl Desk {
    /// Opens a sealed field of a form ([`sealing`]).
    fn open(
        &self,
        sealed: &sealing::Sealed,
        field: &str,
    ) -> Result<zeroize::Zeroizing<String>, UiError> {
        self.sealer.open(sealed, field)
    }

    fn pending_add(&self, new: NewIdentity, caller: CallerIdentity) -> VerifiedKeys {
        let view = VerifiedKeys {
            identity_name: new.name.to_string(),
            account: caller.account.clone(),
            arn: caller.arn.clone(),
            root: keyfob::model::identity::is_root_arn(&caller.arn),
        };
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some((new, caller));
        view
    }

    fn take_pending_add(&self) -> Result<(NewIdentity, CallerIdentity), UiError> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| {
                UiError::new(ErrorKind::Internal, "nothing to add: verify the keys first")
            })
    }

    fn sign_in_expired(&self, identity: &str) -> bool {
        self.sso_expired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(identity)
    }

    fn set_sign_in_expired(&self, identity: &str, expired: bool) {
        let mut set = self.sso_expired.lock().unwrap_or_else(|e| e.into_inner());
        if expired {
            set.insert(identity.to_owned());
        } else {
            set.remove(identity);
        }
    }

    /// An error of a call for Identity Center identity `identity`: one
    /// that needs a new sign-in is remembered (the identity's page says
    /// "expired").
    fn noting_sign_in(&self, identity: &str, e: app::AppError) -> UiError {
        if app::needs_sso_sign_in(&e) {
            self.set_sign_in_expired(identity, true);
        }
        e.into()
    }

    /// [`Self::noting_sign_in`] for a call about profile `profile`.
    fn noting_profile_sign_in(&self, profile: &str, e: app::AppError) -> UiError {
        if app::needs_sso_sign_in(&e)
            && let Ok(p) = self.kf.profile(profile)
        {
            self.set_sign_in_expired(p.identity.as_str(), true);
        }
        e.into()
    }

    fn settings_view(&self) -> SettingsView {
        let store = Settings::load(&self.kf.paths.config_file())
            .map(|s| s.store)
            .unwrap_or(self.kf.backend);
        let durations = self.kf.durations();
        SettingsView {
            store: StoreChoice::from(store),
            store_in_use: self.store_in_use.clone(),
            notice: self.notice.clone(),
            start_at_login: autostart::enabled(),
            session_duration: keyfob::model::duration::human(durations.session_secs),
            role_duration: keyfob::model::duration::human(durations.role_secs),
            config_file: self.kf.paths.config_file().display().to_string(),
            prompt_service: self.prompt_error.clone(),
            global_shortcut: shortcut::load(&self.kf.paths.config_file()),
            shortcut_problem: self
                .shortcut_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// Shows, unminimises and focuses the main window.
pub fn show_main_window(handle: &AppHandle) {
    if let Some(w) = handle.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// After the tray changed profiles or sessions: refresh the tray and tell
/// the UI.
fn changed(handle: &AppHandle) {
    tray::refresh(handle);
    let _ = handle.emit(CHANGED_EVENT, ());
}

/// After "Lock all": ends the web process, whose JavaScript heap may still
/// hold the strings of a PIN or a secret typed into the page (JavaScript
/// cannot wipe them), by destroying the main window; its `Destroyed`
/// event builds it again from tauri.conf.json, as shown or hidden as it
/// was.
pub fn renew_webview(handle: &AppHandle) {
    let Some(desk) = handle.try_state::<Desk>() else {
        return;
    };
    if let Some(w) = handle.get_webview_window("main")
        && !desk.renewing.swap(true, Ordering::SeqCst)
    {
        let visible = w.is_visible().unwrap_or(true);
        VISIBLE_AFTER_RENEW.store(visible, Ordering::SeqCst);
        // What the old page sealed, and WebKit's freed buffers may keep,
        // opens with nothing once this key is gone.
        desk.sealer.replace();
        if w.destroy().is_err() {
            desk.renewing.store(false, Ordering::SeqCst);
        }
    }
}

static VISIBLE_AFTER_RENEW: AtomicBool = AtomicBool::new(true);

/// The main window, built from its entry in tauri.conf.json.
fn build_main_window(handle: &AppHandle, visible: bool) -> tauri::Result<()> {
    let Some(conf) = handle
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
    else {
        return Ok(());
    };
    let w = WebviewWindowBuilder::from_config(handle, &conf)?
        .visible(visible)
        .build()?;
    if visible {
        let _ = w.set_focus();
    }
    Ok(())
}

/// Binds the agent socket, waiting a moment for an agent that was told to
/// hand over to let go of its lock.
fn bind_when_free(runtime: &std::path::Path) -> Result<AgentServer, AgentError> {
    let begun = std::time::Instant::now();
    loop {
        match AgentServer::bind(runtime) {
            Err(AgentError::AlreadyRunning { .. })
                if begun.elapsed() < std::time::Duration::from_secs(3) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn build_state(handle: &AppHandle) -> Result<Desk, Box<dyn std::error::Error>> {
    let app_exe = std::env::current_exe()?;
    let kf = Keyfob::from_env(app::find_cli(&app_exe), None)?;
    // Opened once here for the notice (and to fail early with a clear
    // message); each command opens its own handle, as the CLI does.
    let (store_in_use, notice) = match kf.open_store() {
        Ok(o) => (o.store.describe(), o.notice),
        Err(e) => ("none".to_owned(), Some(e.to_string())),
    };
    // The app is the agent while it runs: it asks for PINs in its window
    // and holds the sessions. A headless agent that runs already hands
    // its sessions over and exits, so no PIN is asked again.
    harden_process();
    let h = handle.clone();
    let asker: Asker = Arc::new(move |req| prompt::ask(&h, req));
    let h = handle.clone();
    // However the sessions were all wiped (`keyfob lock --all`, the screen
    // lock), the web process goes too, as with the window's "Lock all".
    let agent = Arc::new(Agent::new(kf, Some(asker)).on_lock_all(move || renew_webview(&h)));
    let runtime = agent.kf.paths.runtime_dir.clone();
    if let Some(Reply::Sessions { entries }) =
        AgentLink::stop_running(&runtime, &agent.kf.cli, true)
    {
        agent.adopt(entries);
    }
    keyfob::agent::lock_on::watch(agent.clone());
    let (server, prompt_error) = match bind_when_free(&runtime) {
        Ok(server) => (Some(server.spawn(agent.clone())), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Desk {
        kf: agent.kf.sibling(),
        app_exe,
        store_in_use,
        notice,
        pending: Mutex::new(None),
        prompts: prompt::Prompts::default(),
        prompt_error,
        _server: server,
        shortcut_error: Mutex::new(None),
        renewing: AtomicBool::new(false),
        sealer: sealing::Sealer::new()?,
        sign_ins: sign_in::SignIns::default(),
        sso_expired: Mutex::new(Default::default()),
    })
}

pub fn run() {
    use tauri_plugin_window_state::StateFlags;
    tauri::Builder::default()
        // First: a second start hands over to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app)
        }))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                // Not VISIBLE: a window left in the tray must come back
                // at the next start.
                .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
                .build(),
        )
        .plugin(shortcut::plugin())
        .setup(|app| {
            let desk = build_state(app.handle())?;
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
                let handle = window.app_handle().clone();
                if handle
                    .state::<Desk>()
                    .renewing
                    .swap(false, Ordering::SeqCst)
                {
                    let visible = VISIBLE_AFTER_RENEW.load(Ordering::SeqCst);
                    if let Err(e) = build_main_window(&handle, visible) {
                        tracing::warn!("cannot build the window again: {e}");
                    }
                }
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
