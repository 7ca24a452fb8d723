//! Secret values: the long-term secret access key, the PIN, session
//! credentials' secret parts, and decrypted bytes.
//!
//! Every type here zeroizes its memory on drop, prints `[REDACTED]` in
//! `Debug`, and has neither `Display` nor `Serialize`: the raw value is
//! reachable only through `expose()`, at the one place it is used (the KDF,
//! the request signer, the credential_process JSON writer).

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Declares a string secret newtype over `Zeroizing<String>`.
macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Takes ownership of `value`; its buffer is wiped when this drops.
            pub fn new(value: String) -> Self {
                Self(Zeroizing::new(value))
            }

            /// The raw value. Call it only where the value is consumed.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Length in characters, for validation messages that must not
            /// quote the value.
            pub fn char_count(&self) -> usize {
                self.0.chars().count()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl PartialEq for $name {
            /// Constant-time comparison, so a PIN confirmation check leaks
            /// no timing about where two entries differ.
            fn eq(&self, other: &Self) -> bool {
                use subtle::ConstantTimeEq;
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }
    };
}

secret_string!(
    /// An IAM secret access key (40 characters). Long-term or session.
    SecretAccessKey
);
secret_string!(
    /// An identity's PIN: the passphrase the secret access key is sealed with.
    Pin
);
secret_string!(
    /// An STS session token.
    SessionToken
);
secret_string!(
    /// An IAM Identity Center (SSO OIDC) access token: the bearer token the
    /// SSO portal API takes.
    SsoAccessToken
);
secret_string!(
    /// An SSO OIDC refresh token.
    SsoRefreshToken
);
secret_string!(
    /// An SSO OIDC client registration's client secret.
    ClientSecret
);
secret_string!(
    /// An SSO OIDC device code: whoever holds it may redeem the sign-in.
    DeviceCode
);
secret_string!(
    /// An OAuth authorization code (Identity Center's browser sign-in): with
    /// the PKCE verifier, whoever holds it may redeem the sign-in.
    AuthCode
);
secret_string!(
    /// An AWS Sign-In refresh token (`aws login`, `ASOR…`): bound to the
    /// sign-in's DPoP key, it renews the 15-minute credentials for up to
    /// 12 hours.
    LoginRefreshToken
);
secret_string!(
    /// A PKCE code verifier (RFC 7636): proves that whoever redeems an
    /// authorization code is who asked for it.
    PkceVerifier
);

/// Decrypted or otherwise sensitive bytes, wiped on drop.
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([REDACTED])")
    }
}

/// Splits `text` into its first two lines (without line endings) as secrets,
/// then wipes `text`. Used for `--stdin` input, where line 1 and line 2 carry
/// two secrets (e.g. the secret access key and the PIN).
pub fn take_lines(mut text: String, count: usize) -> Vec<Zeroizing<String>> {
    let lines = text
        .lines()
        .take(count)
        .map(|line| Zeroizing::new(line.to_owned()))
        .collect();
    text.zeroize();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = SecretAccessKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into());
        let pin = Pin::new("123456".into());
        let printed = format!("{key:?} {pin:?} {:?}", SecretBytes::new(b"abc".to_vec()));
        assert_eq!(
            printed,
            "SecretAccessKey([REDACTED]) Pin([REDACTED]) SecretBytes([REDACTED])"
        );
        assert!(!printed.contains("EXAMPLE"));
    }

    #[test]
    fn pins_compare_by_value() {
        assert_eq!(Pin::new("abcdef".into()), Pin::new("abcdef".into()));
        assert_ne!(Pin::new("abcdef".into()), Pin::new("abcdeg".into()));
        assert_ne!(Pin::new("abcdef".into()), Pin::new("abcdefg".into()));
    }

    #[test]
    fn take_lines_strips_line_endings() {
        let lines = take_lines("secret\r\npin123\nignored\n".into(), 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].as_str(), "secret");
        assert_eq!(lines[1].as_str(), "pin123");
        assert_eq!(take_lines("only".into(), 2).len(), 1);
        // A final line break does not make an empty last line.
        assert_eq!(take_lines("secret\n".into(), 2).len(), 1);
        assert_eq!(take_lines("secret\n\n".into(), 2)[1].as_str(), "");
    }
}
