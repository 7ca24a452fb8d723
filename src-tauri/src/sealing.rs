//! Secret fields cross from the page to Rust sealed, so that WebKit's
//! UI-process memory (C++ heap that Rust's wiping allocator does not see)
//! never holds a PIN or a secret key in the clear.
//!
//! Every IPC message passes through WebKit's UI process, in buffers it
//! frees without wiping: after "Lock all", a core dump of the app's own
//! process still showed the last PIN typed (tests/e2e/memory.py). So the
//! page seals each secret field before `invoke` (ui/src/api/sealing.ts):
//! ECDH P-256 between a fresh key pair of the page's and this process's
//! key, HKDF-SHA256, AES-256-GCM with the field's name as associated
//! data. This process's private key lives only here, and is replaced
//! (the old one wiped) whenever the web process is ended, on "Lock all":
//! what WebKit's freed buffers keep of earlier messages can then be
//! opened by nobody.
//!
//! The field name bound in as associated data means a sealed PIN cannot
//! be replayed as another field; the key's number tells a page that
//! sealed under a replaced key (a window that outlived a "Lock all") to
//! fetch the new one.

use std::sync::Mutex;

use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::error::{ErrorKind, UiError};

/// HKDF's info: names the scheme and its version.
const INFO: &[u8] = b"keyfob sealed field v1";

/// The longest plaintext accepted (the longest secret a form takes is a
/// 128-character PIN, 4 bytes a character at most).
const MAX_PLAIN: usize = 1024;

/// AES-GCM's nonce and tag, in bytes.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The system's random source failed: no key can be made.
pub type NoRandom = getrandom::Error;

/// A secret field as the page sends it.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct Sealed {
    /// The number of the key it was sealed to ([`SealingKey::key`]).
    pub key: u32,
    /// The page's one-use ECDH public key, X9.62 uncompressed (65 bytes).
    pub epk: Vec<u8>,
    /// The AES-GCM nonce (12 bytes).
    pub iv: Vec<u8>,
    /// The ciphertext and its 16-byte tag.
    pub ct: Vec<u8>,
}

/// What the page seals to.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "../../ui/src/api/bindings/")]
pub struct SealingKey {
    pub key: u32,
    /// This process's ECDH P-256 public key, X9.62 uncompressed.
    pub public_key: Vec<u8>,
}

struct Current {
    number: u32,
    /// Wiped when dropped (elliptic-curve's `SecretKey` zeroizes itself).
    private: SecretKey,
    public: Vec<u8>,
}

/// This process's key, replaced by [`Sealer::replace`].
pub struct Sealer {
    current: Mutex<Current>,
}

impl Sealer {
    pub fn new() -> Result<Sealer, NoRandom> {
        Ok(Sealer {
            current: Mutex::new(Current::generate(1)?),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn public(&self) -> SealingKey {
        let current = self.lock();
        SealingKey {
            key: current.number,
            public_key: current.public.clone(),
        }
    }

    /// A new key; the old one is dropped (and so wiped), so nothing sealed
    /// to it opens any more.
    pub fn replace(&self) {
        let mut current = self.lock();
        let number = current.number.wrapping_add(1);
        match Current::generate(number) {
            Ok(new) => *current = new,
            Err(e) => tracing::warn!("cannot make a new sealing key: {e}"),
        }
    }

    /// Opens the field `field` (the name the page sealed it under).
    pub fn open(&self, sealed: &Sealed, field: &str) -> Result<Zeroizing<String>, UiError> {
        let current = self.lock();
        if sealed.key != current.number {
            return Err(UiError::new(
                ErrorKind::Resealed,
                "the window's sealing key was replaced (after Lock all): type it again",
            ));
        }
        let refused = || {
            UiError::new(
                ErrorKind::Internal,
                format!("the {field} field arrived damaged: it cannot be opened"),
            )
        };
        let nonce: [u8; NONCE_LEN] = sealed.iv.as_slice().try_into().map_err(|_| refused())?;
        if sealed.ct.len() > MAX_PLAIN + TAG_LEN {
            return Err(refused());
        }
        let key = field_key(&current.private, &sealed.epk).map_err(|()| refused())?;
        drop(current);
        let mut buffer = Zeroizing::new(sealed.ct.clone());
        key.decrypt_in_place(&Nonce::from(nonce), field.as_bytes(), &mut *buffer)
            .map_err(|_| refused())?;
        let text = std::str::from_utf8(&buffer).map_err(|_| refused())?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}

/// The AES-256-GCM key of one sealed field: HKDF-SHA256 (an empty salt,
/// info [`INFO`]) of the ECDH secret between `mine` and `theirs` (an
/// uncompressed X9.62 point, as WebCrypto exports it).
fn field_key(mine: &SecretKey, theirs: &[u8]) -> Result<Aes256Gcm, ()> {
    // Uncompressed only, as WebCrypto's "raw" export and the former
    // implementation accepted.
    if theirs.first() != Some(&4) {
        return Err(());
    }
    let peer = PublicKey::from_sec1_bytes(theirs).map_err(drop)?;
    let shared = p256::ecdh::diffie_hellman(mine.to_nonzero_scalar(), peer.as_affine());
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&[]), shared.raw_secret_bytes())
        .expand(INFO, &mut *okm)
        .map_err(drop)?;
    Aes256Gcm::new_from_slice(&*okm).map_err(drop)
}

impl Current {
    fn generate(number: u32) -> Result<Current, NoRandom> {
        let private = SecretKey::try_generate()?;
        let public = private
            .public_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        Ok(Current {
            number,
            private,
            public,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's half, as ui/src/api/sealing.ts does it with WebCrypto.
    fn seal(to: &SealingKey, field: &str, text: &str) -> Sealed {
        let mine = SecretKey::try_generate().unwrap();
        let epk = mine.public_key().to_sec1_point(false).as_bytes().to_vec();
        let key = field_key(&mine, &to.public_key).unwrap();
        let mut iv = [0u8; NONCE_LEN];
        getrandom::fill(&mut iv).unwrap();
        let mut ct = text.as_bytes().to_vec();
        key.encrypt_in_place(&Nonce::from(iv), field.as_bytes(), &mut ct)
            .unwrap();
        Sealed {
            key: to.key,
            epk,
            iv: iv.to_vec(),
            ct,
        }
    }

    #[test]
    fn a_sealed_field_opens_under_its_own_name_only() {
        let sealer = Sealer::new().unwrap();
        let sealed = seal(&sealer.public(), "pin", "correct horse");
        assert_eq!(&*sealer.open(&sealed, "pin").unwrap(), "correct horse");
        // Not as another field, nor with a byte changed.
        let e = sealer.open(&sealed, "pin_confirmation").unwrap_err();
        assert!(
            e.message.contains("pin_confirmation field arrived damaged"),
            "{}",
            e.message
        );
        for part in 0..3 {
            let mut bad = sealed.clone();
            let bytes = match part {
                0 => &mut bad.epk,
                1 => &mut bad.iv,
                _ => &mut bad.ct,
            };
            bytes[5] ^= 1;
            assert!(
                sealer.open(&bad, "pin").is_err(),
                "part {part} changed, still opened"
            );
        }
    }

    #[test]
    fn after_a_new_key_nothing_sealed_to_the_old_one_opens() {
        let sealer = Sealer::new().unwrap();
        let old = sealer.public();
        let sealed = seal(&old, "pin", "123456");
        sealer.replace();
        let new = sealer.public();
        assert_ne!(old.public_key, new.public_key);
        assert_eq!(
            sealer.open(&sealed, "pin").unwrap_err().kind,
            ErrorKind::Resealed
        );
        // Even claiming the new key's number, the old ciphertext fails.
        let mut claimed = sealed;
        claimed.key = new.key;
        assert_eq!(
            sealer.open(&claimed, "pin").unwrap_err().kind,
            ErrorKind::Internal
        );
        let fresh = seal(&new, "pin", "123456");
        assert_eq!(&*sealer.open(&fresh, "pin").unwrap(), "123456");
    }

    #[test]
    fn malformed_fields_are_refused_without_a_panic() {
        let sealer = Sealer::new().unwrap();
        let good = seal(&sealer.public(), "pin", "123456");
        let cases = [
            Sealed {
                epk: vec![],
                ..good.clone()
            },
            Sealed {
                epk: vec![4; 65],
                ..good.clone()
            },
            Sealed {
                iv: vec![0; 11],
                ..good.clone()
            },
            Sealed {
                ct: vec![],
                ..good.clone()
            },
            Sealed {
                ct: vec![0; 4096],
                ..good.clone()
            },
        ];
        for case in cases {
            assert_eq!(
                sealer.open(&case, "pin").unwrap_err().kind,
                ErrorKind::Internal
            );
        }
    }
}
