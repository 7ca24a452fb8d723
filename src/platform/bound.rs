//! Envelope v2: a secret that opens only with the PIN *and* a secret the
//! TPM releases after checking a PIN-derived value itself
//! ([`crate::platform::tpm`]), with an optional recovery code that opens
//! it without the TPM.
//!
//! Key schedule (HKDF-SHA256, RFC 5869, as `H(ikm, info)`):
//!
//! ```text
//! s        = Argon2id(PIN, salt)                 as in v1
//! authValue= H(s, "keyfob/v2/tpm-auth")          the sealed object's auth
//! tpm      = TPM2_Unseal(object, authValue)      32 random bytes
//! KEK      = H(H(s, "keyfob/v2/kek-pin") ‖ tpm, "keyfob/v2/kek")
//! DK       = 32 random bytes: the data key the body is sealed under
//! R        = H(code, rsalt, "keyfob/v2/recovery")  (recovery code, 128 bits)
//! ```
//!
//! Neither half alone opens anything: the PIN without the TPM lacks `tpm`;
//! the TPM without the PIN refuses (and counts) every wrong authValue, so
//! guessing happens at the TPM's rate, never offline.
//!
//! Layout, integers big-endian:
//!
//! ```text
//! 0   4   magic "KFOB"
//! 4   1   version = 2
//! 5   1   kdf = 1 (Argon2id)
//! 6   12  m_cost, t_cost, p_cost
//! 18  16  salt
//! 34  1   flags: bit 0 TPM-bound (set), bit 1 a recovery wrap follows
//! 35  1   parent (1 persistent SRK, 2 transient ECC primary)
//! 36  2+n the sealed object's public blob (length-prefixed)
//! ..  2+n its private blob
//! ..  72  DK wrapped under KEK: nonce 24 ‖ ciphertext 32 ‖ tag 16
//! ..  88  (recovery) rsalt 16 ‖ nonce 24 ‖ ciphertext 32 ‖ tag 16
//! ..  24  nonce of the body
//! ..  n+16 the body: the secret under DK, its AAD all bytes before it
//!          followed by the caller's context (as v1)
//! ```
//!
//! The data key is kept across re-seals of one identity (a new PIN, a
//! rotation's new key) when it has a recovery wrap, so the code shown once
//! at enrolment keeps opening it; without one every seal takes a fresh DK.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::model::secret::{Pin, SecretBytes};
use crate::platform::crypto::{self, CryptoError, KdfParams};
use crate::platform::tpm::{Parent, SealedObject, Tpm, TpmError};

pub const VERSION: u8 = 2;
const MAGIC: &[u8; 4] = b"KFOB";
const KDF_ARGON2ID: u8 = 1;
const FLAG_TPM: u8 = 1;
const FLAG_RECOVERY: u8 = 2;
const WRAP_LEN: usize = 24 + 32 + 16;
const RECOVERY_LEN: usize = 16 + WRAP_LEN;
/// Caps on the stored blobs (a TPM2B_PUBLIC and TPM2B_PRIVATE are far
/// smaller), so a planted envelope cannot make keyfob parse megabytes.
const BLOB_MAX: usize = 1024;
const WRAP_AAD: &[u8] = b"keyfob/v2/kek-wrap";
const RECOVERY_AAD: &[u8] = b"keyfob/v2/recovery-wrap";

/// How an envelope is protected, read from its header (no PIN needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Protection {
    /// The TPM must release its secret (v2); else the PIN alone (v1).
    pub tpm: bool,
    /// A recovery code opens it without the TPM.
    pub recovery: bool,
}

impl Protection {
    /// One word for lists: `pin`, `tpm+pin`, `tpm+pin, recovery code`.
    pub fn describe(&self) -> &'static str {
        match (self.tpm, self.recovery) {
            (false, _) => "pin",
            (true, false) => "tpm+pin",
            (true, true) => "tpm+pin+recovery",
        }
    }
}

/// The protection of a v1 or v2 envelope.
pub fn protection_of(envelope: &[u8]) -> Result<Protection, CryptoError> {
    match crypto::version_of(envelope)? {
        crypto::VERSION => Ok(Protection {
            tpm: false,
            recovery: false,
        }),
        VERSION => {
            let e = parse(envelope)?;
            Ok(Protection {
                tpm: true,
                recovery: e.recovery.is_some(),
            })
        }
        found => Err(CryptoError::UnsupportedVersion { found }),
    }
}

/// What a re-seal of the same identity keeps: the data key and the
/// recovery wrap of it. Wiped on drop; `Debug` shows nothing.
pub struct Carry {
    dk: Zeroizing<[u8; 32]>,
    recovery: Vec<u8>,
}

impl std::fmt::Debug for Carry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Carry([REDACTED])")
    }
}

/// A recovery code: 128 random bits, shown as eight groups of four
/// characters of RFC 4648 base32 without padding's `=` (26 letters and
/// 2–7: no 0/O or 1/I to confuse), e.g. `ABCD-EFGH-…`.
pub struct RecoveryCode(Zeroizing<[u8; 16]>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([REDACTED])")
    }
}

impl RecoveryCode {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(Zeroizing::new(crypto::random()?)))
    }

    /// Reads a code as typed: any case, spaces and dashes ignored.
    /// `None` unless it is 26 base32 characters making 128 bits.
    pub fn parse(typed: &str) -> Option<Self> {
        let clean: Zeroizing<String> = Zeroizing::new(
            typed
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        if clean.len() != 26 {
            return None;
        }
        let padded = Zeroizing::new(format!("{}======", clean.as_str()));
        let bytes = Zeroizing::new(data_encoding::BASE32.decode(padded.as_bytes()).ok()?);
        let arr: [u8; 16] = bytes.as_slice().try_into().ok()?;
        Some(Self(Zeroizing::new(arr)))
    }

    /// The code to show once: 26 characters in groups of four.
    pub fn display(&self) -> Zeroizing<String> {
        let b32 = Zeroizing::new(data_encoding::BASE32_NOPAD.encode(self.0.as_ref()));
        let mut out = Zeroizing::new(String::with_capacity(40));
        for (i, c) in b32.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }
}

fn hkdf(ikm: &[u8], salt: Option<&[u8]>, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, out.as_mut())
        // 32 bytes is far below HKDF-SHA256's limit of 255 × 32.
        .expect("HKDF-SHA256 expands to 32 bytes");
    out
}

/// The two PIN-derived values: the object's authValue, and the PIN's half
/// of the KEK.
fn pin_halves(s: &[u8; 32]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    (
        hkdf(s, None, b"keyfob/v2/tpm-auth"),
        hkdf(s, None, b"keyfob/v2/kek-pin"),
    )
}

fn kek(pin_half: &[u8; 32], tpm_secret: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 + tpm_secret.len()));
    ikm.extend_from_slice(pin_half);
    ikm.extend_from_slice(tpm_secret);
    hkdf(&ikm, None, b"keyfob/v2/kek")
}

fn recovery_key(code: &RecoveryCode, rsalt: &[u8]) -> Zeroizing<[u8; 32]> {
    hkdf(code.0.as_ref(), Some(rsalt), b"keyfob/v2/recovery")
}

/// Encrypts `plain` under `key` with a fresh nonce: nonce ‖ ciphertext ‖ tag.
fn wrap(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce: [u8; 24] = crypto::random()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&crypto::aead_seal(key, &nonce, aad, plain));
    Ok(out)
}

fn unwrap_dk(
    key: &[u8; 32],
    aad: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let (nonce, body) = wrapped.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
    let plain = crypto::aead_open(key, &nonce, aad, body)?;
    let dk: [u8; 32] = plain
        .expose()
        .try_into()
        .map_err(|_| CryptoError::Malformed)?;
    Ok(Zeroizing::new(dk))
}

/// Seals `plaintext` under `pin` and the TPM. With `carry` the data key
/// (and its recovery wrap) of the identity's previous envelope is kept;
/// else a fresh one is made, wrapped for `recovery` when given.
pub fn seal(
    tpm: &mut Tpm,
    pin: &Pin,
    params: KdfParams,
    context: &[u8],
    plaintext: &[u8],
    carry: Option<&Carry>,
    recovery: Option<&RecoveryCode>,
) -> Result<Vec<u8>, CryptoError> {
    let salt: [u8; 16] = crypto::random()?;
    let s = crypto::derive(pin, params, &salt)?;
    let (auth, pin_half) = pin_halves(&s);
    drop(s);
    let (object, tpm_secret) = tpm.seal(&auth)?;
    let kek = kek(&pin_half, tpm_secret.as_ref());
    let (dk, recovery_wrap) = match (carry, recovery) {
        (Some(c), _) if !c.recovery.is_empty() => (c.dk.clone(), Some(c.recovery.clone())),
        _ => {
            let dk = Zeroizing::new(crypto::random::<32>()?);
            let wrap = match recovery {
                Some(code) => {
                    let rsalt: [u8; 16] = crypto::random()?;
                    let mut w = rsalt.to_vec();
                    w.extend_from_slice(&wrap(
                        &recovery_key(code, &rsalt),
                        RECOVERY_AAD,
                        dk.as_ref(),
                    )?);
                    Some(w)
                }
                None => None,
            };
            (dk, wrap)
        }
    };
    if object.public.len() > BLOB_MAX || object.private.len() > BLOB_MAX {
        return Err(CryptoError::Malformed);
    }
    let mut out = Vec::with_capacity(512 + plaintext.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(KDF_ARGON2ID);
    for v in [params.m_cost_kib, params.t_cost, params.p_cost] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&salt);
    out.push(
        FLAG_TPM
            | if recovery_wrap.is_some() {
                FLAG_RECOVERY
            } else {
                0
            },
    );
    out.push(object.parent as u8);
    for blob in [&object.public, &object.private] {
        // At most BLOB_MAX, checked above: fits in 16 bits.
        out.extend_from_slice(&(blob.len() as u16).to_be_bytes());
        out.extend_from_slice(blob);
    }
    out.extend_from_slice(&wrap(&kek, WRAP_AAD, dk.as_ref())?);
    if let Some(w) = &recovery_wrap {
        out.extend_from_slice(w);
    }
    seal_body(out, &dk, context, plaintext)
}

/// Appends a fresh nonce and `plaintext` sealed under `dk` to `head`
/// (the envelope up to its body's nonce), the AAD being all bytes before
/// the body followed by `context`.
fn seal_body(
    mut out: Vec<u8>,
    dk: &[u8; 32],
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce: [u8; 24] = crypto::random()?;
    out.extend_from_slice(&nonce);
    let mut aad = out.clone();
    aad.extend_from_slice(context);
    out.extend_from_slice(&crypto::aead_seal(dk, &nonce, &aad, plaintext));
    Ok(out)
}

/// What a process that must seal the same secret again keeps instead of
/// the PIN (the agent, renewing Identity Center tokens), for a v2
/// envelope: its data key and everything before its body's nonce (the
/// sealed object, the wrapped data key, the recovery wrap). It opens and
/// seals only envelopes with that same head — a new PIN or a re-seal
/// makes another — and asks no TPM: the TPM was asked when the PIN
/// opened the entry. Wiped on drop; `Debug` shows no byte.
pub struct BoundKey {
    dk: Zeroizing<[u8; 32]>,
    head: Vec<u8>,
}

impl std::fmt::Debug for BoundKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoundKey([REDACTED])")
    }
}

/// [`open`], also returning the envelope's [`BoundKey`].
pub fn open_keeping_key(
    tpm: &mut Tpm,
    pin: &Pin,
    context: &[u8],
    envelope: &[u8],
) -> Result<(SecretBytes, BoundKey), CryptoError> {
    let (plain, carry) = open(tpm, pin, context, envelope)?;
    let p = parse(envelope)?;
    let head = p.head[..p.head.len() - 24].to_vec();
    Ok((plain, BoundKey { dk: carry.dk, head }))
}

/// Opens an envelope with `key`, no KDF and no TPM;
/// [`CryptoError::OtherKey`] unless it has the key's head.
pub fn open_with_key(
    key: &BoundKey,
    context: &[u8],
    envelope: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let p = parse(envelope)?;
    if p.head[..p.head.len() - 24] != key.head[..] {
        return Err(CryptoError::OtherKey);
    }
    open_body(&key.dk, &p, context)
}

/// Seals `plaintext` under `key`: its head, a fresh nonce and body; an
/// envelope its PIN and TPM (or recovery code) open as before.
pub fn seal_with_key(
    key: &BoundKey,
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_body(key.head.clone(), &key.dk, context, plaintext)
}

/// A parsed v2 envelope, its parameters checked against the caps.
struct Parsed<'a> {
    params: KdfParams,
    salt: [u8; 16],
    object: SealedObject,
    wrap: &'a [u8],
    recovery: Option<&'a [u8]>,
    nonce: [u8; 24],
    /// Everything before the body: the body's AAD, before the context.
    head: &'a [u8],
    body: &'a [u8],
}

fn parse(envelope: &[u8]) -> Result<Parsed<'_>, CryptoError> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], CryptoError> {
        let part = envelope.get(at..at + n).ok_or(CryptoError::Malformed)?;
        at += n;
        Ok(part)
    };
    if take(4)? != MAGIC {
        return Err(CryptoError::Malformed);
    }
    let version = take(1)?[0];
    if version != VERSION {
        return Err(CryptoError::UnsupportedVersion { found: version });
    }
    let kdf = take(1)?[0];
    if kdf != KDF_ARGON2ID {
        return Err(CryptoError::UnsupportedKdf { found: kdf });
    }
    let mut u32s = [0u32; 3];
    for v in &mut u32s {
        // Exactly 4 bytes, taken just now.
        *v = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes"));
    }
    let params = KdfParams {
        m_cost_kib: u32s[0],
        t_cost: u32s[1],
        p_cost: u32s[2],
    };
    params.check()?;
    let salt: [u8; 16] = take(16)?.try_into().expect("16 bytes");
    let flags = take(1)?[0];
    if flags & FLAG_TPM == 0 || flags & !(FLAG_TPM | FLAG_RECOVERY) != 0 {
        return Err(CryptoError::Malformed);
    }
    let parent = Parent::from_byte(take(1)?[0]).ok_or(CryptoError::Malformed)?;
    let mut blobs = [Vec::new(), Vec::new()];
    for blob in &mut blobs {
        let len = u16::from_be_bytes(take(2)?.try_into().expect("2 bytes")) as usize;
        if len > BLOB_MAX {
            return Err(CryptoError::Malformed);
        }
        *blob = take(len)?.to_vec();
    }
    let wrap = take(WRAP_LEN)?;
    let recovery = if flags & FLAG_RECOVERY != 0 {
        Some(take(RECOVERY_LEN)?)
    } else {
        None
    };
    let nonce: [u8; 24] = take(24)?.try_into().expect("24 bytes");
    let (head, body) = envelope.split_at(at);
    if body.len() < 16 {
        return Err(CryptoError::Malformed);
    }
    let [public, private] = blobs;
    Ok(Parsed {
        params,
        salt,
        object: SealedObject {
            parent,
            public,
            private,
        },
        wrap,
        recovery,
        nonce,
        head,
        body,
    })
}

fn open_body(dk: &[u8; 32], p: &Parsed<'_>, context: &[u8]) -> Result<SecretBytes, CryptoError> {
    let mut aad = p.head.to_vec();
    aad.extend_from_slice(context);
    crypto::aead_open(dk, &p.nonce, &aad, p.body)
}

/// Opens a v2 envelope with the PIN and the TPM. A wrong PIN is
/// [`CryptoError::TpmAuthFail`] (the TPM counted it); the TPM's other
/// refusals are [`CryptoError::Tpm`]. Also returns what a re-seal keeps.
pub fn open(
    tpm: &mut Tpm,
    pin: &Pin,
    context: &[u8],
    envelope: &[u8],
) -> Result<(SecretBytes, Carry), CryptoError> {
    let p = parse(envelope)?;
    let s = crypto::derive(pin, p.params, &p.salt)?;
    let (auth, pin_half) = pin_halves(&s);
    drop(s);
    let tpm_secret = match tpm.unseal(&p.object, &auth) {
        Ok(secret) => secret,
        Err(TpmError::AuthFail) => {
            let tries_left = tpm.status().ok().map(|s| s.tries_left());
            return Err(CryptoError::TpmAuthFail { tries_left });
        }
        Err(e) => return Err(e.into()),
    };
    let kek = kek(&pin_half, &tpm_secret);
    let dk = unwrap_dk(&kek, WRAP_AAD, p.wrap)?;
    let plain = open_body(&dk, &p, context)?;
    Ok((
        plain,
        Carry {
            dk,
            recovery: p.recovery.map(<[u8]>::to_vec).unwrap_or_default(),
        },
    ))
}

/// Opens a v2 envelope with its recovery code, without the TPM.
pub fn open_with_recovery(
    code: &RecoveryCode,
    context: &[u8],
    envelope: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let p = parse(envelope)?;
    let wrapped = p.recovery.ok_or(CryptoError::NoRecovery)?;
    let (rsalt, rest) = wrapped.split_at(16);
    let dk = unwrap_dk(&recovery_key(code, rsalt), RECOVERY_AAD, rest)?;
    open_body(&dk, &p, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_round_trip_as_typed() {
        let code = RecoveryCode::generate().unwrap();
        let shown = code.display();
        assert_eq!(shown.len(), 26 + 6);
        let typed = shown.to_lowercase().replace('-', " ");
        let back = RecoveryCode::parse(&typed).unwrap();
        assert_eq!(back.0.as_ref(), code.0.as_ref());
        assert!(RecoveryCode::parse("ABCD").is_none());
        assert!(RecoveryCode::parse(&format!("{}1", &shown[..shown.len() - 1])).is_none());
        assert_eq!(format!("{code:?}"), "RecoveryCode([REDACTED])");
    }

    #[test]
    fn the_key_schedule_separates_its_halves() {
        let s = [9u8; 32];
        let (auth, pin_half) = pin_halves(&s);
        assert_ne!(auth.as_ref(), pin_half.as_ref());
        assert_ne!(
            kek(&pin_half, &[1; 32]).as_ref(),
            kek(&pin_half, &[2; 32]).as_ref()
        );
    }

    #[test]
    fn malformed_v2_envelopes_are_refused_unread() {
        assert!(parse(b"KFOB\x02").is_err());
        let mut e = b"KFOB\x02\x01".to_vec();
        e.extend_from_slice(&[0xff; 12]);
        assert!(matches!(
            parse(&e),
            Err(CryptoError::ParamsOutOfRange { .. })
        ));
        assert!(protection_of(b"nope").is_err());
    }
}
