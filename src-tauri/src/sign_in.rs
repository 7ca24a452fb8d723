//! The app's face of a sign-in (`keyfob::app`'s [`SignInHost`] for
//! Identity Center, [`LoginHost`] for an AWS sign-in): what the person
//! does next goes to the page as `keyfob://sign-in` events — the browser
//! sign-in's page (opened here, as the CLI does; it comes back to keyfob's
//! loopback by itself), or the device code to compare, or (an AWS sign-in
//! on another device) a field for the code that device's page shows —
//! with the time left, and the page's Cancel stops the wait. The browser
//! is opened with the same opener as the CLI's and the console's (`open`).
//! The long call itself runs on a blocking thread (see
//! `commands::blocking`); the page numbers each sign-in (`flow`) so its
//! events, its Cancel and a typed code find it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Emitter};

use keyfob::app::{DeviceCode, LoginHost, SignInHost, SignInPage};
use zeroize::Zeroizing;

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
    /// The code the person typed (an AWS sign-in on another device).
    code: Option<Zeroizing<String>>,
}

impl SignIns {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, Flow>> {
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts flow `flow` for the page; [`Self::end`] forgets it.
    /// `browser`: sign in through the browser on this machine where the
    /// flow offers it (else the device code, or a typed code).
    pub fn begin<'a>(
        &'a self,
        app: &AppHandle,
        flow: u32,
        browser: bool,
    ) -> Result<PageHost<'a>, UiError> {
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
                code: None,
            },
        );
        Ok(PageHost {
            app: app.clone(),
            flow,
            cancel,
            sign_ins: self,
            shown: Mutex::new(None),
            browser: browser && keyfob::platform::browser::available(),
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

    /// The code the person typed for sign-in `flow` (its page's field).
    /// False if it is not running.
    pub fn submit_code(&self, flow: u32, code: Zeroizing<String>) -> bool {
        match self.lock().get_mut(&flow) {
            Some(f) => {
                f.code = Some(code);
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
    browser: bool,
}

impl PageHost<'_> {
    fn emit(&self, view: SignInView) {
        let _ = self.app.emit(EVENT, &view);
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = Some(view);
    }

    fn remember_url(&self, url: &str) {
        if let Some(f) = self.sign_ins.lock().get_mut(&self.flow) {
            f.url = Some(url.to_owned());
        }
    }

    /// Shows the browser sign-in's page and opens it here (only an AWS
    /// sign-in address); false when a browser could not be opened, so the
    /// flow signs in with a code instead.
    fn open_page(&self, page: &SignInPage<'_>, service: &str) -> bool {
        self.remember_url(page.url);
        let opened = page.openable && open_browser(page.url);
        if page.openable && !opened {
            return false;
        }
        self.emit(SignInView {
            flow: self.flow,
            identity: page.identity.to_owned(),
            mode: "browser".into(),
            service: service.into(),
            user_code: None,
            verification_uri: page.url.to_owned(),
            verification_uri_complete: None,
            expires_in_secs: secs(page.expires_in),
            browser_opened: opened,
        });
        true
    }
}

impl SignInHost for PageHost<'_> {
    fn browser_sign_in(&self) -> bool {
        self.browser
    }

    fn open_sign_in_page(&self, page: &SignInPage<'_>) -> bool {
        self.open_page(page, "IAM Identity Center")
    }

    fn show_code(&self, code: &DeviceCode<'_>) {
        let url = code
            .verification_uri_complete
            .unwrap_or(code.verification_uri)
            .to_owned();
        self.remember_url(&url);
        let view = SignInView {
            flow: self.flow,
            identity: code.identity.to_owned(),
            mode: "device-code".into(),
            service: "IAM Identity Center".into(),
            user_code: Some(code.user_code.to_owned()),
            verification_uri: code.verification_uri.to_owned(),
            verification_uri_complete: code.verification_uri_complete.map(str::to_owned),
            expires_in_secs: secs(code.expires_in),
            browser_opened: code.openable && open_browser(&url),
        };
        self.emit(view);
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

impl LoginHost for PageHost<'_> {
    fn same_device(&self) -> bool {
        self.browser
    }

    fn open_sign_in_page(&self, page: &SignInPage<'_>) -> bool {
        self.open_page(page, "AWS")
    }

    /// Shows the page to open on any device and a field for its code;
    /// waits for the page to send it (or Cancel, or the deadline).
    fn ask_code(&self, page: &SignInPage<'_>) -> Option<Zeroizing<String>> {
        self.remember_url(page.url);
        self.emit(SignInView {
            flow: self.flow,
            identity: page.identity.to_owned(),
            mode: "enter-code".into(),
            service: "AWS".into(),
            user_code: None,
            verification_uri: page.url.to_owned(),
            verification_uri_complete: None,
            expires_in_secs: secs(page.expires_in),
            browser_opened: false,
        });
        let deadline = std::time::Instant::now() + page.expires_in;
        while std::time::Instant::now() < deadline && !self.cancel.load(Ordering::SeqCst) {
            let typed = self
                .sign_ins
                .lock()
                .get_mut(&self.flow)
                .and_then(|f| f.code.take());
            if typed.is_some() {
                return typed;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
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
