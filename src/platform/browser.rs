//! Opening a web page in the person's browser: `$BROWSER` first, as the
//! AWS CLI (Python's `webbrowser`) and xdg-open honour it, else the
//! desktop's opener (the `open` crate, which ignores `$BROWSER`).
//!
//! `$BROWSER` is a `:`-separated list of commands, each tried in turn: a
//! `%s` in it is replaced by the URL, else the URL is the last argument.
//! Words are split on whitespace and run without a shell, so nothing in
//! a URL is ever interpreted.

use std::process::{Command, Stdio};

/// Whether a browser can be expected here: `$BROWSER` is set, or (on
/// Linux and the BSDs) a graphical session is (`DISPLAY` or
/// `WAYLAND_DISPLAY`); macOS and Windows always have one. Without one
/// (an SSH session, a container) a sign-in uses a code instead.
pub fn available() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("BROWSER")
        || cfg!(any(target_os = "macos", target_os = "windows"))
        || set("DISPLAY")
        || set("WAYLAND_DISPLAY")
}

/// Opens `url`; the error says why nothing could open it.
pub fn open(url: &str) -> Result<(), String> {
    let mut failures = Vec::new();
    if let Some(list) = std::env::var_os("BROWSER") {
        for entry in list.to_string_lossy().split(':') {
            match run_browser(entry, url) {
                Ok(()) => return Ok(()),
                Err(Some(e)) => failures.push(e),
                Err(None) => {}
            }
        }
    }
    match open::that_detached(url) {
        Ok(()) => Ok(()),
        Err(e) => {
            failures.push(e.to_string());
            Err(failures.join("; "))
        }
    }
}

/// Runs one `$BROWSER` entry; `Err(None)` for an empty entry.
fn run_browser(entry: &str, url: &str) -> Result<(), Option<String>> {
    let mut words: Vec<String> = entry.split_whitespace().map(str::to_owned).collect();
    if words.is_empty() {
        return Err(None);
    }
    if words.iter().any(|w| w.contains("%s")) {
        for w in &mut words {
            *w = w.replace("%s", url);
        }
    } else {
        words.push(url.to_owned());
    }
    let mut child = Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Some(format!("{}: {e}", words[0])))?;
    // A browser runs as long as it likes; reap it when it ends, so it
    // leaves no zombie behind.
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_entries_are_skipped_and_a_missing_program_is_named() {
        assert!(matches!(run_browser("  ", "http://x"), Err(None)));
        let e = run_browser("/nonexistent/browser --new-tab", "http://x").unwrap_err();
        assert!(e.unwrap().contains("/nonexistent/browser"));
    }
}
