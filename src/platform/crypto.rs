//! Sealing a secret under a PIN: Argon2id (RFC 9106) derives a 256-bit key
//! from the PIN and a random salt; XChaCha20-Poly1305
//! (draft-irtf-cfrg-xchacha-03) encrypts the secret with a random 192-bit
//! nonce and authenticates the envelope header plus caller-supplied context.
//!
//! Envelope v1, all integers big-endian:
//!
//! ```text
//! offset  size  field
//! 0       4     magic "KFOB"
//! 4       1     version = 1
//! 5       1     kdf = 1 (Argon2id, version 0x13)
//! 6       4     m_cost in KiB
//! 10      4     t_cost (passes)
//! 14      4     p_cost (lanes)
//! 18      16    salt
//! 34      24    nonce
//! 58      n+16  ciphertext || Poly1305 tag
//! ```
//!
//! The 58-byte header is part of the AEAD's associated data, followed by the
//! caller's context (the vault binds identity id and access key id), so a
//! header edited or an envelope moved to another identity fails to open.
//!
//! KDF parameters are read from the envelope but capped ([`KdfParams::check`])
//! before any work is done: a planted envelope cannot make keyfob allocate
//! gigabytes or spin for minutes.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use crate::model::secret::{Pin, SecretBytes};

const MAGIC: &[u8; 4] = b"KFOB";
pub const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 4 + 1 + 1 + 4 + 4 + 4 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

/// Argon2id cost parameters, stored in every envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes over memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The defaults for new envelopes: 64 MiB, 3 passes, 1 lane (RFC 9106's
    /// second recommended option). On the 2-core reference machine one
    /// derivation takes 0.16–0.22 s (`cargo bench --bench unlock`), leaving
    /// room within the 0.5 s unlock budget for the keychain and a busy
    /// machine; 128 MiB measured 0.35–0.46 s, too close to it.
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// The most an envelope may ask for: 1 GiB, 10 passes, 4 lanes. Anything
    /// above is refused unread rather than computed.
    pub const MAX: KdfParams = KdfParams {
        m_cost_kib: 1024 * 1024,
        t_cost: 10,
        p_cost: 4,
    };

    /// The least an envelope may ask for, so a forged header cannot downgrade
    /// an envelope keyfob writes. (Opening would fail anyway, since the key
    /// would differ, but refusing says why.)
    pub const MIN: KdfParams = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };

    /// Checks the parameters against [`Self::MIN`] and [`Self::MAX`].
    pub fn check(&self) -> Result<(), CryptoError> {
        let within = |v: u32, lo: u32, hi: u32| (lo..=hi).contains(&v);
        if within(self.m_cost_kib, Self::MIN.m_cost_kib, Self::MAX.m_cost_kib)
            && within(self.t_cost, Self::MIN.t_cost, Self::MAX.t_cost)
            && within(self.p_cost, Self::MIN.p_cost, Self::MAX.p_cost)
        {
            Ok(())
        } else {
            Err(CryptoError::ParamsOutOfRange { params: *self })
        }
    }

    fn argon2(&self) -> Result<Argon2<'static>, CryptoError> {
        self.check()?;
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|_| CryptoError::ParamsOutOfRange { params: *self })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the sealed key is truncated or not a keyfob envelope")]
    Malformed,
    #[error(
        "the sealed key has envelope version {found}; this keyfob reads version {VERSION} — upgrade keyfob"
    )]
    UnsupportedVersion { found: u8 },
    #[error("the sealed key uses an unknown key-derivation function ({found})")]
    UnsupportedKdf { found: u8 },
    #[error(
        "the sealed key asks for Argon2id parameters outside the accepted range (m={} KiB, t={}, p={}; at most m={} KiB, t={}, p={})",
        params.m_cost_kib, params.t_cost, params.p_cost,
        KdfParams::MAX.m_cost_kib, KdfParams::MAX.t_cost, KdfParams::MAX.p_cost
    )]
    ParamsOutOfRange { params: KdfParams },
    /// Wrong PIN, or the envelope or its context was altered: AEAD cannot
    /// tell these apart, and the vault counts both as a failed attempt.
    #[error("wrong PIN, or the sealed key was altered")]
    Unauthenticated,
    /// A TPM-bound envelope's PIN was wrong: the TPM refused its authValue
    /// and counted it; it takes `tries_left` more before it locks out.
    #[error("wrong PIN (the TPM refused it)")]
    TpmAuthFail { tries_left: Option<u32> },
    #[error("the system's random number generator failed")]
    Random,
    /// A kept [`EnvelopeKey`] met an envelope of another salt: sealed
    /// afresh (another PIN) since the key was taken.
    #[error("the entry was sealed again under another PIN since it was opened")]
    OtherKey,
    /// A TPM-bound envelope ([`crate::platform::bound`]) the TPM would not
    /// open (not a wrong PIN: that is [`Self::Unauthenticated`]).
    #[error(transparent)]
    Tpm(#[from] crate::platform::tpm::TpmError),
    #[error("this sealed key has no recovery code (none was made when it was bound to the TPM)")]
    NoRecovery,
}

/// Fills a fresh array from the OS CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// Seals `plaintext` under `pin` with fresh random salt and nonce.
pub fn seal(
    pin: &Pin,
    params: KdfParams,
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_with(pin, params, &random()?, &random()?, context, plaintext)
}

/// [`seal`] with caller-chosen salt and nonce: the known-answer test needs
/// it. A nonce must never repeat under one key; with a random 128-bit salt
/// every envelope has its own key, and the nonce is random besides.
pub fn seal_with(
    pin: &Pin,
    params: KdfParams,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = derive(pin, params, salt)?;
    Ok(encrypt(
        &key,
        header(params, salt, nonce),
        context,
        plaintext,
    ))
}

/// The parsed, checked header of an envelope.
struct Header<'a> {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    raw: &'a [u8],
    body: &'a [u8],
}

fn parse(envelope: &[u8]) -> Result<Header<'_>, CryptoError> {
    if envelope.len() < 5 || &envelope[..4] != MAGIC {
        return Err(CryptoError::Malformed);
    }
    if envelope[4] != VERSION {
        return Err(CryptoError::UnsupportedVersion { found: envelope[4] });
    }
    if envelope.len() < HEADER_LEN + TAG_LEN {
        return Err(CryptoError::Malformed);
    }
    if envelope[5] != KDF_ARGON2ID {
        return Err(CryptoError::UnsupportedKdf { found: envelope[5] });
    }
    let u32_at = |at: usize| {
        // The slice is exactly 4 bytes: `envelope` is at least HEADER_LEN long.
        u32::from_be_bytes(envelope[at..at + 4].try_into().expect("4-byte slice"))
    };
    let params = KdfParams {
        m_cost_kib: u32_at(6),
        t_cost: u32_at(10),
        p_cost: u32_at(14),
    };
    params.check()?;
    let (raw, body) = envelope.split_at(HEADER_LEN);
    Ok(Header {
        params,
        salt: raw[18..34].try_into().expect("16-byte slice"),
        nonce: raw[34..58].try_into().expect("24-byte slice"),
        raw,
        body,
    })
}

/// The KDF parameters an envelope was sealed with, checked against the caps.
/// The envelope's version byte, for a reader that handles several.
pub fn version_of(envelope: &[u8]) -> Result<u8, CryptoError> {
    if envelope.len() < 5 || &envelope[..4] != MAGIC {
        return Err(CryptoError::Malformed);
    }
    Ok(envelope[4])
}

pub fn params_of(envelope: &[u8]) -> Result<KdfParams, CryptoError> {
    parse(envelope).map(|h| h.params)
}

/// Opens an envelope made by [`seal`] with the same PIN and context.
pub fn open(pin: &Pin, context: &[u8], envelope: &[u8]) -> Result<SecretBytes, CryptoError> {
    let header = parse(envelope)?;
    let key = derive(pin, header.params, &header.salt)?;
    decrypt(&key, &header, context)
}

/// The key one envelope's PIN and salt derive, with that salt and the KDF
/// parameters: what a process that must seal the same secret again keeps
/// instead of the PIN (the agent, renewing Identity Center tokens). It
/// opens and seals only envelopes of its own salt and parameters, so it is
/// worth no more than the one entry it came from, while a PIN is often
/// the same for every identity. Wiped on drop; `Debug` shows no byte.
pub struct EnvelopeKey {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvelopeKey([REDACTED])")
    }
}

/// [`open`], also returning the envelope's key for [`open_with_key`] and
/// [`seal_with_key`].
pub fn open_keeping_key(
    pin: &Pin,
    context: &[u8],
    envelope: &[u8],
) -> Result<(SecretBytes, EnvelopeKey), CryptoError> {
    let header = parse(envelope)?;
    let key = EnvelopeKey {
        params: header.params,
        salt: header.salt,
        key: derive(pin, header.params, &header.salt)?,
    };
    Ok((decrypt(&key.key, &header, context)?, key))
}

/// Opens an envelope sealed under `key`'s PIN and salt, with no KDF;
/// [`CryptoError::OtherKey`] if it has another salt or other parameters
/// (the PIN was changed, or the entry sealed afresh).
pub fn open_with_key(
    key: &EnvelopeKey,
    context: &[u8],
    envelope: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let header = parse(envelope)?;
    if header.salt != key.salt || header.params != key.params {
        return Err(CryptoError::OtherKey);
    }
    decrypt(&key.key, &header, context)
}

/// Seals `plaintext` under `key` (its salt and parameters, a fresh random
/// nonce): an envelope the key's PIN opens.
pub fn seal_with_key(
    key: &EnvelopeKey,
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce = random()?;
    let envelope = header(key.params, &key.salt, &nonce);
    Ok(encrypt(&key.key, envelope, context, plaintext))
}

fn header(params: KdfParams, salt: &[u8; SALT_LEN], nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let mut envelope = Vec::with_capacity(HEADER_LEN + 64);
    envelope.extend_from_slice(MAGIC);
    envelope.push(VERSION);
    envelope.push(KDF_ARGON2ID);
    envelope.extend_from_slice(&params.m_cost_kib.to_be_bytes());
    envelope.extend_from_slice(&params.t_cost.to_be_bytes());
    envelope.extend_from_slice(&params.p_cost.to_be_bytes());
    envelope.extend_from_slice(salt);
    envelope.extend_from_slice(nonce);
    debug_assert_eq!(envelope.len(), HEADER_LEN);
    envelope
}

fn encrypt(key: &[u8; 32], mut envelope: Vec<u8>, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    let nonce: [u8; NONCE_LEN] = envelope[34..58].try_into().expect("24-byte slice");
    let aad = associated_data(&envelope, context);
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        // XChaCha20-Poly1305 encryption fails only for messages over 256 GiB.
        .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB");
    envelope.extend_from_slice(&ciphertext);
    envelope
}

fn decrypt(
    key: &[u8; 32],
    header: &Header<'_>,
    context: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    let aad = associated_data(header.raw, context);
    cipher
        .decrypt(
            &XNonce::from(header.nonce),
            Payload {
                msg: header.body,
                aad: &aad,
            },
        )
        .map(SecretBytes::new)
        .map_err(|_| CryptoError::Unauthenticated)
}

/// XChaCha20-Poly1305 of `plaintext` under `key`: ciphertext ‖ tag. The
/// caller owns the nonce's uniqueness (a fresh random one each time).
pub(crate) fn aead_seal(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    XChaCha20Poly1305::new(&Key::from(*key))
        .encrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // XChaCha20-Poly1305 encryption fails only for messages over 256 GiB.
        .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB")
}

/// Opens what [`aead_seal`] made; [`CryptoError::Unauthenticated`] if the
/// key, nonce, AAD or ciphertext differ.
pub(crate) fn aead_open(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<SecretBytes, CryptoError> {
    XChaCha20Poly1305::new(&Key::from(*key))
        .decrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(SecretBytes::new)
        .map_err(|_| CryptoError::Unauthenticated)
}

fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(context);
    aad
}

/// Argon2id of the PIN and salt: the envelope's key (v1), the PIN's
/// stretched secret `s` (v2).
pub(crate) fn derive(
    pin: &Pin,
    params: KdfParams,
    salt: &[u8],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut key = Zeroizing::new([0u8; 32]);
    params
        .argon2()?
        .hash_password_into(pin.expose().as_bytes(), salt, key.as_mut())
        // Fails only for out-of-range lengths: the salt is 16 bytes, the
        // output 32, and the PIN is far below 2^32 bytes.
        .expect("Argon2id accepts a 16-byte salt and a 32-byte output");
    scrub_stack();
    Ok(key)
}

/// Overwrites the stack just used by Argon2 with zeros. Its Blake2b hashes
/// the PIN in buffers on the stack, which no allocator wipes, and a thread
/// that lives on (a pool's worker in the app) keeps them until something
/// else happens to use that stack: the app's memory check once found the
/// PIN there after "Lock all". Called right after the KDF returns, this
/// frame lies over the ones Argon2 used; 128 KiB is far more than they
/// take (thread stacks are 2 MiB).
#[inline(never)]
fn scrub_stack() {
    let mut below = [0u8; 128 * 1024];
    // Volatile writes: not optimised away though nothing reads them.
    below.zeroize();
    std::hint::black_box(&below);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters so unit tests stay fast; the defaults are exercised
    /// by the known-answer test and the integration tests.
    const FAST: KdfParams = KdfParams::MIN;

    fn pin(s: &str) -> Pin {
        Pin::new(s.into())
    }

    #[test]
    fn a_kept_key_opens_and_seals_its_own_entry_and_nothing_else() {
        let sealed = seal(&pin("correct horse"), FAST, b"ctx", b"tokens v1").unwrap();
        let (plain, key) = open_keeping_key(&pin("correct horse"), b"ctx", &sealed).unwrap();
        assert_eq!(plain.expose(), b"tokens v1");
        assert_eq!(format!("{key:?}"), "EnvelopeKey([REDACTED])");
        // Sealed again with the key: the PIN opens it, and so does the key.
        let again = seal_with_key(&key, b"ctx", b"tokens v2").unwrap();
        assert_eq!(
            open(&pin("correct horse"), b"ctx", &again)
                .unwrap()
                .expose(),
            b"tokens v2"
        );
        assert_eq!(
            open_with_key(&key, b"ctx", &again).unwrap().expose(),
            b"tokens v2"
        );
        assert_ne!(again[34..58], sealed[34..58], "a fresh nonce each time");
        // Not another context, nor an envelope of another salt (a new PIN).
        assert!(matches!(
            open_with_key(&key, b"other", &again),
            Err(CryptoError::Unauthenticated)
        ));
        let fresh = seal(&pin("correct horse"), FAST, b"ctx", b"tokens v4").unwrap();
        assert!(matches!(
            open_with_key(&key, b"ctx", &fresh),
            Err(CryptoError::OtherKey)
        ));
        let other = seal(&pin("battery staple"), FAST, b"ctx", b"x").unwrap();
        assert!(matches!(
            open_with_key(&key, b"ctx", &other),
            Err(CryptoError::OtherKey)
        ));
    }

    #[test]
    fn round_trip() {
        let sealed = seal(&pin("correct horse"), FAST, b"ctx", b"secret bytes").unwrap();
        let opened = open(&pin("correct horse"), b"ctx", &sealed).unwrap();
        assert_eq!(opened.expose(), b"secret bytes");
        assert_eq!(params_of(&sealed).unwrap(), FAST);
    }

    #[test]
    fn fresh_salt_and_nonce_each_time() {
        let a = seal(&pin("123456"), FAST, b"ctx", b"x").unwrap();
        let b = seal(&pin("123456"), FAST, b"ctx", b"x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_pin_is_refused() {
        let sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        assert_eq!(
            open(&pin("123457"), b"ctx", &sealed).unwrap_err(),
            CryptoError::Unauthenticated
        );
    }

    #[test]
    fn other_context_is_refused() {
        let sealed = seal(&pin("123456"), FAST, b"identity-a", b"secret").unwrap();
        assert_eq!(
            open(&pin("123456"), b"identity-b", &sealed).unwrap_err(),
            CryptoError::Unauthenticated
        );
    }

    #[test]
    fn every_tampered_byte_is_refused() {
        let sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        // Skip the parameter bytes (6..18): a changed parameter is either
        // refused by the caps or derives another key; both are checked below.
        for i in (0..6).chain(18..sealed.len()) {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(open(&pin("123456"), b"ctx", &bad).is_err(), "byte {i}");
        }
        let mut bad = sealed.clone();
        bad[13] ^= 0x01; // t_cost 1 -> 0: below the minimum
        assert!(matches!(
            open(&pin("123456"), b"ctx", &bad).unwrap_err(),
            CryptoError::ParamsOutOfRange { .. }
        ));
        let mut bad = sealed;
        bad[9] ^= 0x01; // m_cost changes by one KiB: another key
        assert_eq!(
            open(&pin("123456"), b"ctx", &bad).unwrap_err(),
            CryptoError::Unauthenticated
        );
    }

    #[test]
    fn truncated_envelopes_are_refused() {
        let sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        for len in 0..sealed.len() {
            let err = open(&pin("123456"), b"ctx", &sealed[..len]).unwrap_err();
            assert!(
                matches!(err, CryptoError::Malformed | CryptoError::Unauthenticated),
                "len {len}: {err:?}"
            );
        }
    }

    #[test]
    fn wrong_version_is_refused_with_its_number() {
        let mut sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        sealed[4] = 2;
        assert_eq!(
            open(&pin("123456"), b"ctx", &sealed).unwrap_err(),
            CryptoError::UnsupportedVersion { found: 2 }
        );
    }

    #[test]
    fn oversized_parameters_are_refused_before_any_work() {
        let mut sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        // m_cost = 4 TiB: computing it would exhaust memory.
        sealed[6..10].copy_from_slice(&u32::MAX.to_be_bytes());
        let err = open(&pin("123456"), b"ctx", &sealed).unwrap_err();
        assert!(
            matches!(err, CryptoError::ParamsOutOfRange { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("at most m=1048576 KiB"));

        let mut sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        sealed[10..14].copy_from_slice(&1000u32.to_be_bytes());
        assert!(matches!(
            open(&pin("123456"), b"ctx", &sealed).unwrap_err(),
            CryptoError::ParamsOutOfRange { .. }
        ));
        let mut sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        sealed[14..18].copy_from_slice(&64u32.to_be_bytes());
        assert!(matches!(
            open(&pin("123456"), b"ctx", &sealed).unwrap_err(),
            CryptoError::ParamsOutOfRange { .. }
        ));
    }

    #[test]
    fn unknown_kdf_is_refused() {
        let mut sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        sealed[5] = 9;
        assert_eq!(
            open(&pin("123456"), b"ctx", &sealed).unwrap_err(),
            CryptoError::UnsupportedKdf { found: 9 }
        );
    }

    /// The vector in tests/data was made with libsodium, not these crates.
    #[test]
    fn known_answer_from_libsodium() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/envelope-v1.json")).unwrap();
        let hex = |k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
        let params = KdfParams {
            m_cost_kib: v["m_cost_kib"].as_u64().unwrap() as u32,
            t_cost: v["t_cost"].as_u64().unwrap() as u32,
            p_cost: v["p_cost"].as_u64().unwrap() as u32,
        };
        assert_eq!(params, KdfParams::DEFAULT, "the vector covers the defaults");
        let pin = pin(v["pin"].as_str().unwrap());
        let secret = v["secret"].as_str().unwrap().as_bytes();
        let sealed = seal_with(
            &pin,
            params,
            &hex("salt_hex").try_into().unwrap(),
            &hex("nonce_hex").try_into().unwrap(),
            &hex("context_hex"),
            secret,
        )
        .unwrap();
        assert_eq!(hex::encode(&sealed), v["envelope_hex"].as_str().unwrap());
        let opened = open(&pin, &hex("context_hex"), &hex("envelope_hex")).unwrap();
        assert_eq!(opened.expose(), secret);
    }

    #[test]
    fn errors_do_not_quote_the_pin() {
        let sealed = seal(&pin("123456"), FAST, b"ctx", b"secret").unwrap();
        let err = open(&pin("987654"), b"ctx", &sealed).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("987654"));
    }
}
