//! Opening text that crypto-js (4.2.0) encrypted with a passphrase,
//! `CryptoJS.AES.encrypt(text, passphrase).toString()`: what Leapp
//! (packages/core/src/services/file-service.ts `encryptText`) writes its
//! workspace file with.
//!
//! crypto-js then follows OpenSSL's `enc` format (cipher-core.js
//! `OpenSSLFormatter`, `OpenSSLKdf`; evpkdf.js):
//!
//! 1. the text is base64 of `"Salted__"` || an 8-byte salt || ciphertext;
//! 2. key and IV = OpenSSL's EVP_BytesToKey with MD5 and one iteration:
//!    D1 = MD5(passphrase || salt), Di = MD5(Di-1 || passphrase || salt),
//!    concatenated; the first 32 bytes are the AES-256 key, the next 16
//!    the IV;
//! 3. AES-256-CBC with PKCS#7 padding.
//!
//! Neither step authenticates: a wrong passphrase shows as bad padding or
//! as text that is not UTF-8 (then JSON the caller cannot read). MD5 and
//! the crates here serve only to read what another tool wrote.

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use data_encoding::BASE64;
use md5::{Digest, Md5};
use zeroize::Zeroizing;

const MAGIC: &[u8] = b"Salted__";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoJsError {
    #[error("it is not crypto-js's base64 \"Salted__\" format")]
    Format,
    #[error("it does not decrypt with this key")]
    Key,
}

/// EVP_BytesToKey(MD5, 1 iteration) for AES-256-CBC: 32 key bytes then
/// 16 IV bytes.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8]) -> Zeroizing<[u8; 48]> {
    let mut out = Zeroizing::new([0u8; 48]);
    let mut previous: Option<Zeroizing<Vec<u8>>> = None;
    let mut filled = 0;
    while filled < out.len() {
        let mut md5 = Md5::new();
        if let Some(p) = &previous {
            md5.update(p.as_slice());
        }
        md5.update(passphrase);
        md5.update(salt);
        let block = Zeroizing::new(md5.finalize().to_vec());
        let take = (out.len() - filled).min(block.len());
        out[filled..filled + take].copy_from_slice(&block[..take]);
        filled += take;
        previous = Some(block);
    }
    out
}

/// Decrypts `text` (crypto-js's `toString()`, surrounding white space
/// ignored as Leapp's `decryptText` trims it) with `passphrase`.
pub fn decrypt(text: &str, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoJsError> {
    let raw = Zeroizing::new(
        BASE64
            .decode(text.trim().as_bytes())
            .map_err(|_| CryptoJsError::Format)?,
    );
    if raw.len() < 16 + 16 || !raw.starts_with(MAGIC) || (raw.len() - 16) % 16 != 0 {
        return Err(CryptoJsError::Format);
    }
    let (salt, ciphertext) = raw[8..].split_at(8);
    let key_iv = evp_bytes_to_key(passphrase, salt);
    // 32 and 16 bytes: the lengths AES-256-CBC takes.
    let decryptor = cbc::Decryptor::<Aes256>::new_from_slices(&key_iv[..32], &key_iv[32..])
        .map_err(|_| CryptoJsError::Key)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| CryptoJsError::Key)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "hello crypto-js" as `openssl enc -aes-256-cbc -md md5 -S
    /// 0102030405060708 -pass pass:secret` encrypts it, with the
    /// `Salted__` header OpenSSL 3 leaves out when given `-S` (the format
    /// crypto-js reads and writes), in base64.
    const SAMPLE: &str = "U2FsdGVkX18BAgMEBQYHCC9JEBiGkMEcnIOAjcKC5e4=";

    #[test]
    fn opens_what_openssl_and_crypto_js_write() {
        assert_eq!(
            decrypt(SAMPLE, b"secret").unwrap().as_slice(),
            b"hello crypto-js"
        );
        // Unauthenticated: a wrong key fails the padding, or (rarely)
        // gives other bytes.
        assert!(decrypt(SAMPLE, b"other").map_or(true, |t| t.as_slice() != b"hello crypto-js"));
        assert_eq!(decrypt("not base64!", b"x"), Err(CryptoJsError::Format));
        assert_eq!(decrypt("aGVsbG8=", b"x"), Err(CryptoJsError::Format));
    }

    #[test]
    fn md5_key_schedule_is_openssls() {
        // EVP_BytesToKey's first block is MD5(passphrase || salt).
        let k = evp_bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8]);
        let d1 = Md5::new()
            .chain_update(b"secret")
            .chain_update([1, 2, 3, 4, 5, 6, 7, 8])
            .finalize();
        assert_eq!(&k[..16], d1.as_slice());
    }
}
