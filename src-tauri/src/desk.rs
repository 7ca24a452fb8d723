//! The app's state ([`Desk`]), built once in `setup()` by [`Desk::build`]
//! and reached by the commands, the tray and the reminders through
//! Tauri's state: the library handle, the agent this app is, the form
//! waiting for confirmation, the prompts, the sealing key, the sign-ins.
//! Also what replaces the web process as a whole after "Lock all"
//! ([`renew_webview`]), since that changes the state's sealing key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tauri::{AppHandle, Manager};

use keyfob::agent::server::{Agent, AgentError, AgentServer, Asker, ServerHandle, harden_process};
use keyfob::app::{self, Keyfob};
use keyfob::aws::sts::CallerIdentity;
use keyfob::config::settings::Settings;
use keyfob::link::client::AgentLink;
use keyfob::link::protocol::Reply;
use keyfob::vault::NewIdentity;

use crate::dto::{SettingsView, StoreChoice, VerifiedKeys};
use crate::error::{ErrorKind, UiError};
use crate::{access, autostart, prompt, sealing, shortcut, sign_in, window};

/// The app's state, built in `setup()`.
pub struct Desk {
    pub(crate) kf: Keyfob,
    pub(crate) app_exe: PathBuf,
    /// The store this process opened, and the fall-back notice if any.
    store_in_use: String,
    notice: Option<String>,
    /// Keys verified by "Verify and add keys", waiting for the person to
    /// confirm; dropped (and wiped) on confirm, cancel or a new verify.
    pending: Mutex<Option<(NewIdentity, CallerIdentity)>>,
    /// Shared with the agent's asker, which runs on the agent's threads.
    pub(crate) prompts: Arc<prompt::Prompts>,
    /// Why the prompt service is not running, if it is not.
    prompt_error: Option<String>,
    /// Keeps the prompt socket open for the app's lifetime.
    _server: Option<ServerHandle>,
    /// Why the global shortcut is not active, if it is not.
    pub(crate) shortcut_error: Mutex<Option<String>>,
    /// Set while the main window is destroyed to be built afresh.
    renewing: AtomicBool,
    /// Whether the window built afresh is shown (it was when destroyed).
    visible_after_renew: AtomicBool,
    /// The key secret fields are sealed to; replaced with the web process.
    pub(crate) sealer: sealing::Sealer,
    /// Identity Center sign-ins running now (the page's Cancel finds them).
    pub(crate) sign_ins: sign_in::SignIns,
    /// Identity Center identities whose sign-in this app found expired.
    sso_expired: Mutex<BTreeSet<String>>,
}

impl Desk {
    /// Opens the library, becomes the agent (taking over the sessions of
    /// a headless agent that runs) and starts the prompt service.
    pub fn build(handle: &AppHandle) -> Result<Desk, Box<dyn std::error::Error>> {
        let app_exe = std::env::current_exe()?;
        let kf = Keyfob::from_env(app::find_cli(&app_exe), None)?;
        // Opened once here for the notice (and to fail early with a clear
        // message); each command opens its own handle, as the CLI does.
        let (store_in_use, notice) = match kf.open_store() {
            Ok(o) => (o.store.describe(), o.notice),
            Err(e) => ("none".to_owned(), Some(e.to_string())),
        };
        // The app is the agent while it runs: it asks for PINs in its
        // window and holds the sessions. A headless agent that runs
        // already hands its sessions over and exits, so no PIN is asked
        // again.
        harden_process();
        let prompts = Arc::new(prompt::Prompts::default());
        let (h, p) = (handle.clone(), prompts.clone());
        let asker: Asker = Arc::new(move |req| prompt::ask(&h, &p, req));
        let h = handle.clone();
        // However the sessions were all wiped (`keyfob lock --all`, the
        // screen lock), the web process goes too, as with the window's
        // "Lock all".
        let seen = handle.clone();
        let agent = Arc::new(
            Agent::new(kf, Some(asker))
                .on_lock_all(move || renew_webview(&h))
                // The log page and the first-use notification.
                .on_access(move |entry| access::announce(&seen, entry)),
        );
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
            prompts,
            prompt_error,
            _server: server,
            shortcut_error: Mutex::new(None),
            renewing: AtomicBool::new(false),
            visible_after_renew: AtomicBool::new(true),
            sealer: sealing::Sealer::new()?,
            sign_ins: sign_in::SignIns::default(),
            sso_expired: Mutex::new(Default::default()),
        })
    }

    /// Opens a sealed field of a form ([`sealing`]).
    pub(crate) fn open(
        &self,
        sealed: &sealing::Sealed,
        field: &str,
    ) -> Result<zeroize::Zeroizing<String>, UiError> {
        self.sealer.open(sealed, field)
    }

    pub(crate) fn pending_add(&self, new: NewIdentity, caller: CallerIdentity) -> VerifiedKeys {
        let view = VerifiedKeys {
            identity_name: new.name.to_string(),
            account: caller.account.clone(),
            arn: caller.arn.clone(),
            root: keyfob::model::identity::is_root_arn(&caller.arn),
            tpm_default: keyfob::app::tpm_choice(&self.kf).as_str().to_owned(),
        };
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some((new, caller));
        view
    }

    pub(crate) fn take_pending_add(&self) -> Result<(NewIdentity, CallerIdentity), UiError> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| {
                UiError::new(ErrorKind::Internal, "nothing to add: verify the keys first")
            })
    }

    pub(crate) fn sign_in_expired(&self, identity: &str) -> bool {
        self.sso_expired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(identity)
    }

    pub(crate) fn set_sign_in_expired(&self, identity: &str, expired: bool) {
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
    pub(crate) fn noting_sign_in(&self, identity: &str, e: app::AppError) -> UiError {
        if app::needs_sso_sign_in(&e) {
            self.set_sign_in_expired(identity, true);
        }
        e.into()
    }

    /// [`Self::noting_sign_in`] for a call about profile `profile`.
    pub(crate) fn noting_profile_sign_in(&self, profile: &str, e: app::AppError) -> UiError {
        if app::needs_sso_sign_in(&e)
            && let Ok(p) = self.kf.profile(profile)
        {
            self.set_sign_in_expired(p.identity.as_str(), true);
        }
        e.into()
    }

    pub(crate) fn settings_view(&self) -> SettingsView {
        let store = Settings::load(&self.kf.paths.config_file())
            .map(|s| s.store)
            .unwrap_or(self.kf.backend);
        let durations = self.kf.durations();
        let (tpm, tpm_problem) = keyfob::app::tpm::tpm_summary(&keyfob::app::tpm::tpm_report());
        SettingsView {
            tpm,
            tpm_problem,
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

/// After "Lock all": ends the web process, whose JavaScript heap may still
/// hold the strings of a PIN or a secret typed into the page (JavaScript
/// cannot wipe them), by destroying the main window; its `Destroyed`
/// event ([`main_window_destroyed`]) builds it again from
/// tauri.conf.json, as shown or hidden as it was.
pub fn renew_webview(handle: &AppHandle) {
    let Some(desk) = handle.try_state::<Desk>() else {
        return;
    };
    if let Some(w) = handle.get_webview_window("main")
        && !desk.renewing.swap(true, Ordering::SeqCst)
    {
        let visible = w.is_visible().unwrap_or(true);
        desk.visible_after_renew.store(visible, Ordering::SeqCst);
        // What the old page sealed, and WebKit's freed buffers may keep,
        // opens with nothing once this key is gone.
        desk.sealer.replace();
        if w.destroy().is_err() {
            desk.renewing.store(false, Ordering::SeqCst);
        }
    }
}

/// The main window is gone: built again if [`renew_webview`] destroyed it.
pub fn main_window_destroyed(handle: &AppHandle) {
    let Some(desk) = handle.try_state::<Desk>() else {
        return;
    };
    if desk.renewing.swap(false, Ordering::SeqCst) {
        let visible = desk.visible_after_renew.load(Ordering::SeqCst);
        if let Err(e) = window::build_main_window(handle, visible) {
            tracing::warn!("cannot build the window again: {e}");
        }
    }
}

/// Binds the agent socket, waiting a moment for an agent that was told to
/// hand over to let go of its lock.
fn bind_when_free(runtime: &Path) -> Result<AgentServer, AgentError> {
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
