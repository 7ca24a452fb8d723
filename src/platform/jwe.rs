//! Opening a passphrase-encrypted JWE (RFC 7516, compact serialisation)
//! of the one kind another tool's store writes: aws-vault's file backend
//! (github.com/99designs/keyring v1.2.2 `file.go`, `fileKeyring.Set`)
//! encrypts each item with github.com/dvsekhvalnov/jose2go v1.5.0 as
//! `jose.Encrypt(json, PBES2_HS256_A128KW, A256GCM, passphrase)`.
//!
//! Written here because no well-kept crate opens PBES2 JWEs on the
//! RustCrypto stack keyfob already builds; each step is a RustCrypto
//! primitive, following RFC 7518:
//!
//! 1. §4.8 PBES2-HS256+A128KW: key-encryption key = PBKDF2-HMAC-SHA256
//!    (passphrase, salt = `alg` || 0x00 || base64url-decoded `p2s`,
//!    `p2c` iterations, 16 bytes);
//! 2. §4.4 / RFC 3394: AES-128 key unwrap of the encrypted key gives the
//!    256-bit content-encryption key (the unwrap's integrity check is what
//!    tells a wrong passphrase);
//! 3. §5.3 A256GCM: AES-256-GCM with the 96-bit IV, the 128-bit tag, and
//!    the ASCII of the encoded protected header as associated data.
//!
//! Nothing else is accepted (another `alg` or `enc`, `zip`, a JSON
//! serialisation), and `p2c` is capped before any work is done: a planted
//! file cannot make keyfob spin for minutes.

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use aes_kw::KwAes128;
use data_encoding::BASE64URL_NOPAD;
use zeroize::Zeroizing;

/// The only key management algorithm opened (jose2go's
/// `PBES2_HS256_A128KW`).
pub const ALG: &str = "PBES2-HS256+A128KW";
/// The only content encryption opened (jose2go's `A256GCM`).
pub const ENC: &str = "A256GCM";
/// The most PBKDF2 iterations accepted. jose2go v1.5.0 writes 8192;
/// RFC 7518 §4.8.1.2 recommends at least 1000. A million HMAC-SHA256
/// rounds take about a second.
pub const MAX_P2C: u64 = 1_000_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JweError {
    /// Not a compact JWE of the kind above; `what` says which part.
    #[error("not an encrypted item of the expected kind ({what})")]
    Malformed { what: &'static str },
    /// The key unwrap's integrity check failed: the passphrase is not the
    /// one the item was encrypted with.
    #[error("the passphrase does not open it")]
    WrongPassphrase,
    /// The key opened but the content did not authenticate: the file was
    /// changed after it was written.
    #[error("its content does not authenticate (the file was changed)")]
    Tampered,
}

/// The protected header's fields that matter here (others, such as
/// jose2go's `created`, are ignored).
#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    enc: String,
    p2s: String,
    p2c: u64,
    #[serde(default)]
    zip: Option<String>,
}

fn part(text: &str, what: &'static str) -> Result<Vec<u8>, JweError> {
    BASE64URL_NOPAD
        .decode(text.as_bytes())
        .map_err(|_| JweError::Malformed { what })
}

/// Decrypts `compact` (`header.key.iv.ciphertext.tag`) with
/// `passphrase`: the plaintext, wiped on drop.
pub fn open(compact: &str, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let parts: Vec<&str> = compact.trim().split('.').collect();
    let [header_b64, key_b64, iv_b64, ct_b64, tag_b64] = parts[..] else {
        return Err(JweError::Malformed {
            what: "five dot-separated parts",
        });
    };
    let header: Header = serde_json::from_slice(&part(header_b64, "header")?)
        .map_err(|_| JweError::Malformed { what: "header" })?;
    if header.alg != ALG || header.enc != ENC || header.zip.is_some() {
        return Err(JweError::Malformed {
            what: "alg PBES2-HS256+A128KW, enc A256GCM, no zip",
        });
    }
    if header.p2c == 0 || header.p2c > MAX_P2C {
        return Err(JweError::Malformed {
            what: "p2c between 1 and 1000000",
        });
    }
    let p2s = part(&header.p2s, "p2s")?;
    // RFC 7518 §4.8.1.1: the salt input is at least 8 octets.
    if p2s.len() < 8 {
        return Err(JweError::Malformed { what: "p2s" });
    }
    let wrapped = part(key_b64, "encrypted key")?;
    let iv = part(iv_b64, "iv")?;
    let mut buffer = Zeroizing::new(part(ct_b64, "ciphertext")?);
    let tag = part(tag_b64, "tag")?;
    if wrapped.len() != 40 || iv.len() != 12 || tag.len() != 16 {
        return Err(JweError::Malformed {
            what: "a 40-byte wrapped key, 12-byte iv and 16-byte tag",
        });
    }

    // 1. The key-encryption key (RFC 7518 §4.8.1.1).
    let mut salt = Vec::with_capacity(ALG.len() + 1 + p2s.len());
    salt.extend_from_slice(ALG.as_bytes());
    salt.push(0);
    salt.extend_from_slice(&p2s);
    let mut kek = Zeroizing::new([0u8; 16]);
    // Bounded above: p2c ≤ MAX_P2C, which fits a u32.
    let rounds = u32::try_from(header.p2c).map_err(|_| JweError::Malformed { what: "p2c" })?;
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, &salt, rounds, &mut kek[..]);

    // 2. The content-encryption key (RFC 3394 unwrap).
    let mut cek = Zeroizing::new([0u8; 32]);
    KwAes128::new(&(*kek).into())
        .unwrap_key(&wrapped, &mut cek[..])
        .map_err(|_| JweError::WrongPassphrase)?;

    // 3. The content (RFC 7518 §5.3; AAD per RFC 7516 §5.1 step 14).
    let cipher = Aes256Gcm::new(&(*cek).into());
    let nonce = Nonce::try_from(&iv[..]).map_err(|_| JweError::Malformed { what: "iv" })?;
    let tag = Tag::try_from(&tag[..]).map_err(|_| JweError::Malformed { what: "tag" })?;
    cipher
        .decrypt_inout_detached(
            &nonce,
            header_b64.as_bytes(),
            buffer.as_mut_slice().into(),
            &tag,
        )
        .map_err(|_| JweError::Tampered)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by `tests/support/aws_vault_store.py` (jose2go v1.5.0's
    /// parameters: p2c 8192, a 12-byte salt, a `created` header) with the
    /// passphrase `correct horse`.
    const SAMPLE: &str = include_str!("../../tests/data/aws-vault-file-item.jwe");
    const PLAIN: &str = r#"{"Key":"sample","Data":"eyJBY2Nlc3NLZXlJRCI6IkFLSUFFWEFNUExFIn0=","Label":"aws-vault (sample)","Description":"","KeychainNotTrustApplication":true,"KeychainNotSynchronizable":false}"#;

    #[test]
    fn opens_what_jose2go_writes() {
        let plain = open(SAMPLE, b"correct horse").unwrap();
        assert_eq!(std::str::from_utf8(&plain).unwrap(), PLAIN);
    }

    #[test]
    fn a_wrong_passphrase_is_told_apart() {
        assert_eq!(
            open(SAMPLE, b"wrong horse").unwrap_err(),
            JweError::WrongPassphrase
        );
    }

    #[test]
    fn a_changed_ciphertext_does_not_authenticate() {
        let mut parts: Vec<String> = SAMPLE.trim().split('.').map(str::to_owned).collect();
        let mut ct = BASE64URL_NOPAD.decode(parts[3].as_bytes()).unwrap();
        ct[0] ^= 1;
        parts[3] = BASE64URL_NOPAD.encode(&ct);
        assert_eq!(
            open(&parts.join("."), b"correct horse").unwrap_err(),
            JweError::Tampered
        );
    }

    #[test]
    fn other_algorithms_truncations_and_huge_iteration_counts_are_refused() {
        let parts: Vec<&str> = SAMPLE.trim().split('.').collect();
        let with_header = |h: &str| {
            let mut p: Vec<String> = parts.iter().map(|s| (*s).to_owned()).collect();
            p[0] = BASE64URL_NOPAD.encode(h.as_bytes());
            p.join(".")
        };
        for header in [
            r#"{"alg":"dir","enc":"A256GCM","p2s":"AAAAAAAAAAAAAAAA","p2c":8192}"#,
            r#"{"alg":"PBES2-HS256+A128KW","enc":"A128GCM","p2s":"AAAAAAAAAAAAAAAA","p2c":8192}"#,
            r#"{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2s":"AAAAAAAAAAAAAAAA","p2c":4000000000}"#,
            r#"{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2s":"AAAA","p2c":8192}"#,
        ] {
            assert!(
                matches!(
                    open(&with_header(header), b"correct horse"),
                    Err(JweError::Malformed { .. })
                ),
                "{header}"
            );
        }
        assert!(matches!(
            open(&parts[..4].join("."), b"correct horse"),
            Err(JweError::Malformed { .. })
        ));
        assert!(matches!(
            open("", b"correct horse"),
            Err(JweError::Malformed { .. })
        ));
    }
}
