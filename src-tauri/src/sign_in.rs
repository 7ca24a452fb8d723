//! The app's face of an Identity Center sign-in (`keyfob::app`'s
//! [`SignInHost`]): the code, the verification URL and the time left go to
//! the page as `keyfob://sign-in` events, the browser is opened at the URL
//! with the code filled in (the same opener as the CLI's and the console's,
//! `open`), and the page's Cancel stops the polling. The long call itself
//! runs on a blocking thread (see `commands::blocking`); the page numbers
//! each sign-in (`flow`) so its events and its Cancel find it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Emitter};

use keyfob::app::{DeviceCode, SignInHost};

use crate::dto::SignInView;
use crate::error::{ErrorKind, UiError};

/// The event the page listens to; its payload is a [`SignInView`].
pub const EVENT: &str = "keyfob://sign-in";

/// The sign-ins running now, by the page's flow number.
#[derive(Default)]
pub struct SignIns {
    flows: Mutex<BTreeMap<u32, Flow>>,
}

struct Flow {
    cancel: Arc<AtomicBool>,
    /// Where "Open browser" goes, once the code is known.
    url: Option<String>,
}

impl SignIns {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, Flow>> {
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts flow `flow` for the page; [`Self::end`] forgets it.
    pub fn begin<'a>(&'a self, app: &AppHandle, flow: u32) -> Result<PageHost<'a>, UiError> {
        let cancel = Arc::new(AtomicBool::new(false));
        let mut flows = self.lock();
        if flows.contains_key(&flow) {
            return Err(UiError::new(
                ErrorKind::State,
                "a sign-in with that number is running already",
            ));
        }
        flows.insert(
            flow,
            Flow {
                cancel: cancel.clone(),
                url: None,
            },
        );
        Ok(PageHost {
            app: app.clone(),
            flow,
            cancel,
            sign_ins: self,
            shown: Mutex::new(None),
        })
    }

    pub fn end(&self, flow: u32) {
        self.lock().remove(&flow);
    }

    /// The page's Cancel: the sign-in stops polling (and stores nothing)
    /// within a fraction of a second. False if it is not running.
    pub fn cancel(&self, flow: u32) -> bool {
        match self.lock().get(&flow) {
            Some(f) => {
                f.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// The verification URL of a running sign-in.
    pub fn url(&self, flow: u32) -> Option<String> {
        self.lock().get(&flow).and_then(|f| f.url.clone())
    }
}

/// Opens `url` in the desktop's browser, as the CLI's `keyfob sso login`
/// and the console do (`xdg-open` and the like).
pub fn open_browser(url: &str) -> bool {
    match open::that_detached(url) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("could not open a browser for the sign-in: {e}");
            false
        }
    }
}

/// One sign-in's host: emits to the page, checks its Cancel.
pub struct PageHost<'a> {
    app: AppHandle,
    flow: u32,
    cancel: Arc<AtomicBool>,
    sign_ins: &'a SignIns,
    shown: Mutex<Option<SignInView>>,
}

impl SignInHost for PageHost<'_> {
    fn show_code(&self, code: &DeviceCode<'_>) {
        let url = code
            .verification_uri_complete
            .unwrap_or(code.verification_uri)
            .to_owned();
        if let Some(f) = self.sign_ins.lock().get_mut(&self.flow) {
            f.url = Some(url.clone());
        }
        let view = SignInView {
            flow: self.flow,
            identity: code.identity.to_owned(),
            user_code: code.user_code.to_owned(),
            verification_uri: code.verification_uri.to_owned(),
            verification_uri_complete: code.verification_uri_complete.map(str::to_owned),
            expires_in_secs: secs(code.expires_in),
            browser_opened: code.openable && open_browser(&url),
        };
        let _ = self.app.emit(EVENT, &view);
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = Some(view);
    }

    fn waiting(&self, left: Duration) {
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(view) = shown.as_mut() {
            view.expires_in_secs = secs(left);
            let _ = self.app.emit(EVENT, &*view);
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

impl Drop for PageHost<'_> {
    fn drop(&mut self) {
        self.sign_ins.end(self.flow);
    }
}

fn secs(d: Duration) -> u32 {
    d.as_secs().min(u32::MAX as u64) as u32
}
