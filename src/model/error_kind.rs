//! What kind of failure an error is: the one answer every face acts on.
//! The CLI's exit code, the agent's reply and the desktop app's message
//! all come from an error's `kind()` (each error type of the library has
//! one, and `AppError::kind` follows them), so the faces cannot disagree.

/// What kind of failure, for every face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A field's value was refused; the error names the field.
    Field,
    /// Input refused without a field to put it next to (a refusal the
    /// agent replied, a role with no external ID to guard).
    Invalid,
    /// A wrong PIN, attempts left.
    WrongPin,
    /// Too many wrong PINs: wait before the next attempt.
    BackOff,
    /// A root user's access key, which keyfob refuses to keep.
    RootRefused,
    /// A third-party role assumable without its external ID.
    Unguarded,
    /// The name is taken, or others depend on what was to change.
    Conflict,
    /// The person said no, or nobody could be asked.
    NotConfirmed,
    /// A program was not approved for a profile's sessions: the person
    /// denied it, or nobody could be asked. The CLI exits 4.
    Denied,
    /// The profile is locked and nobody was asked for its PIN.
    Locked,
    /// An Identity Center sign-in ended and nothing could renew it: sign
    /// in again.
    SignIn,
    /// What was named does not exist.
    NotFound,
    /// An AWS config section keyfob does not manage.
    NotManaged,
    /// Not possible where things stand (a rotation's step, a key still
    /// active); the message says what to do.
    State,
    /// AWS refused, or could not be reached.
    Aws,
    /// The keychain or file store failed.
    Store,
    /// A file (config.toml, the AWS config) could not be read or written.
    Config,
    /// The agent could not be reached or did not speak keyfob.
    Agent,
    /// Anything else.
    Failed,
}

impl ErrorKind {
    /// Refused input rather than a failure: the CLI exits 2 for these,
    /// like a usage error, and the agent replies a refusal.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            ErrorKind::Field
                | ErrorKind::Invalid
                | ErrorKind::WrongPin
                | ErrorKind::BackOff
                | ErrorKind::RootRefused
                | ErrorKind::Unguarded
                | ErrorKind::Conflict
        )
    }
}
