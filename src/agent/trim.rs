//! What the headless agent gives back while nothing asks: it lives for
//! hours, and most of its resident memory is not its own data but the
//! pages of code and constants it mapped once (signing in, unsealing,
//! calling STS: the AWS SDK, TLS, D-Bus; about 13 of its 18 MiB). After
//! [`Trim::release`] the next request maps back only what it runs, from
//! the page cache (minor faults, no disk read while the file is cached).
//!
//! Only pages that are exactly the file's are dropped: mappings of the
//! executable and the libraries loaded at its start (never unloaded, so
//! their addresses are never reused), readable and not writable, with no
//! private copy in them (`Anonymous: 0 kB`: the loader's relocations
//! made one in the RELRO part, which is kept). Dropping such a page loses
//! nothing: it is read back from the file as it was. Freed heap goes back
//! too (`malloc_trim`).

use std::path::Path;
use std::time::Duration;

/// The headless agent's life when nothing asks: it exits after `idle`
/// without a session held or a request, and gives back its mapped code
/// and free heap ([`Trim`]) after `trim_after` without a request.
pub struct Headless {
    pub idle: Duration,
    pub trim_after: Duration,
    pub trim: Trim,
}

/// One mapping of `/proc/self/smaps`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    perms: String,
    path: String,
}

/// The clean read-only file mappings of the process's start.
#[derive(Debug, Default)]
pub struct Trim {
    at_start: Vec<Mapping>,
}

impl Trim {
    /// Notes the mappings to drop later: call it before anything can load
    /// a library at run time (TPM modules, name services).
    pub fn at_start() -> Trim {
        Trim {
            at_start: clean_file_mappings(Path::new("/proc/self/smaps")),
        }
    }

    /// Drops the pages of the noted mappings that are still clean, and
    /// returns freed heap to the system; the bytes of mappings dropped.
    pub fn release(&self) -> usize {
        let mut dropped = 0;
        for m in clean_file_mappings(Path::new("/proc/self/smaps"))
            .iter()
            .filter(|m| self.at_start.contains(m))
        {
            // SAFETY: the range is a whole mapping of this process, read
            // only, backed by its file with no private page (checked just
            // now, and nothing here writes to read-only memory); dropping
            // its pages makes the next access read the same bytes back.
            let done = unsafe {
                rustix::mm::madvise(
                    m.start as *mut std::ffi::c_void,
                    m.end - m.start,
                    rustix::mm::Advice::LinuxDontNeed,
                )
            };
            if done.is_ok() {
                dropped += m.end - m.start;
            }
        }
        #[cfg(target_env = "gnu")]
        // SAFETY: malloc_trim only returns free heap memory to the system.
        unsafe {
            libc::malloc_trim(0);
        }
        dropped
    }
}

/// The read-only (`r--p`, `r-xp`) mappings of files in `smaps` that hold
/// no private page.
fn clean_file_mappings(smaps: &Path) -> Vec<Mapping> {
    let Ok(text) = std::fs::read_to_string(smaps) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current: Option<Mapping> = None;
    for line in text.lines() {
        if let Some(kb) = line.strip_prefix("Anonymous:") {
            let clean = kb.trim().strip_suffix("kB").map(str::trim) == Some("0");
            if let Some(m) = current.take()
                && clean
            {
                out.push(m);
            }
        } else if let Some(m) = header(line) {
            current = Some(m)
                .filter(|m| matches!(m.perms.as_str(), "r--p" | "r-xp") && m.path.starts_with('/'));
        }
    }
    out
}

/// A mapping's header line: `start-end perms offset dev inode path`.
fn header(line: &str) -> Option<Mapping> {
    let mut fields = line.splitn(6, ' ');
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?;
    if perms.len() != 4 {
        return None;
    }
    let (_offset, _dev, _inode) = (fields.next()?, fields.next()?, fields.next()?);
    Some(Mapping {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        perms: perms.to_owned(),
        path: fields.next().unwrap_or("").trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relocated (RELRO) mapping, writable ones, anonymous ones and
    /// the kernel's ([vdso]) are never chosen.
    #[test]
    fn only_clean_read_only_file_mappings_are_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let smaps = dir.path().join("smaps");
        std::fs::write(
            &smaps,
            "\
55d0-55e0 r--p 00000000 fe:00 1 /usr/bin/keyfob
Rss:                  64 kB
Anonymous:             0 kB
55e0-5600 r-xp 00010000 fe:00 1 /usr/bin/keyfob
Anonymous:             0 kB
5600-5610 r--p 00030000 fe:00 1 /usr/bin/keyfob
Anonymous:            12 kB
5610-5620 rw-p 00040000 fe:00 1 /usr/bin/keyfob
Anonymous:             0 kB
5620-5630 rw-p 00000000 00:00 0
Anonymous:             4 kB
7ff0-7ff2 r-xp 00000000 00:00 0                          [vdso]
Anonymous:             0 kB
7ff4-7ff8 r-xp 00000000 fe:00 9 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
",
        )
        .unwrap();
        let chosen: Vec<(usize, &str)> = clean_file_mappings(&smaps)
            .iter()
            .map(|m| (m.start, if m.perms == "r-xp" { "x" } else { "r" }))
            .collect();
        assert_eq!(chosen, [(0x55d0, "r"), (0x55e0, "x"), (0x7ff4, "x")]);
    }

    /// This very test process drops its own code and constants and runs
    /// on: what it reads back (a table of pointers the loader relocated,
    /// strings, the code itself) is what it was.
    #[test]
    fn a_process_runs_on_after_dropping_its_clean_pages() {
        static NAMES: [&str; 3] = ["alpha", "beta", "gamma"];
        let trim = Trim::at_start();
        assert!(!trim.at_start.is_empty());
        let before: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
        let rss_file = || {
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("RssFile:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap()
        };
        let was = rss_file();
        let dropped = trim.release();
        let now = rss_file();
        assert!(dropped > 0);
        assert!(now < was, "RssFile {was} kB before, {now} kB after");
        let after: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
        assert_eq!(before, after);
        assert_eq!(format!("{:?}", Some(42)), "Some(42)");
    }
}
