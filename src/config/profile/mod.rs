//! Profiles: named ways to get credentials — an identity (or, for a role
//! chain, another profile: `source_profile`), optionally a role (ARN,
//! external ID, session name, source identity, session tags and policies),
//! an MFA device, a duration and a region. They live in `$XDG_CONFIG_HOME/keyfob/config.toml`
//! under `[profiles.NAME]`, edited with `toml_edit` so a user's comments
//! and layout survive, and written atomically with a backup.
//!
//! Every value is checked against AWS's limits ([`crate::model::limits`]) when a
//! profile is built, and again when the file is read, so a hand-edited
//! mistake is reported with the profile and field instead of reaching AWS.

//!
//! | file | what |
//! |---|---|
//! | `model` | [`Profile`], its parts, defaults and [`ProfileError`] |
//! | `input` | [`Profile::from_input`]: a typed profile, checked |
//! | `keys` | session cache keys and fingerprints |
//! | `book` | [`ProfileBook`]: config.toml's profiles, read and written |
//! | `chains` | `source_profile` chains, resolved |

mod book;
mod chains;
mod input;
mod keys;
mod model;
#[cfg(test)]
mod tests;

pub use book::ProfileBook;
pub use model::*;
