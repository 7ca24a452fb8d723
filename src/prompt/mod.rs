//! Asking the user for input. Today: the controlling terminal
//! ([`tty`]). Never stdout or stderr, which tools like botocore capture.

pub mod tty;
