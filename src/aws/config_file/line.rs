//! One line of a shared file: its text (wiped on drop: it may hold a
//! secret) and its line ending, kept so a round trip is byte-identical.

use zeroize::Zeroize;

/// One line: its text without the line ending, and the ending as found.
#[derive(Clone)]
pub(super) struct Line {
    pub(super) body: String,
    pub(super) eol: Eol,
}

impl Drop for Line {
    /// A credentials file can hold other tools' secret keys.
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl Line {
    pub(super) fn new(body: String, eol: Eol) -> Self {
        Line { body, eol }
    }

    pub(super) fn set_body(&mut self, body: String) {
        self.body.zeroize();
        self.body = body;
    }

    pub(super) fn is_blank(&self) -> bool {
        self.body.trim().is_empty()
    }

    pub(super) fn is_comment(&self) -> bool {
        is_comment(self.body.trim_start())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Eol {
    /// Only the last line of a file can lack an ending.
    None,
    Lf,
    CrLf,
}

impl Eol {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Eol::None => "",
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
        }
    }
}

pub(super) fn is_comment(trimmed_start: &str) -> bool {
    trimmed_start.starts_with('#') || trimmed_start.starts_with(';')
}
