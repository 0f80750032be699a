//! Seals stores' access tokens for the database and opens them again: AES-256-GCM (the
//! aws-lc-rs the service already ships) with `TOKEN_ENCRYPTION_KEY`, a fresh random nonce per
//! seal, and the store hash as associated data, so a sealed token copied onto another store's
//! row does not open. During a rotation `TOKEN_ENCRYPTION_KEY_PREVIOUS` still opens what it
//! sealed, and callers reseal with the current key. Nothing here touches the database.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

/// The length of an encryption key.
pub const KEY_BYTES: usize = 32;
/// The first byte of every sealed token: the format, so that it can change later.
const FORMAT_V1: u8 = 1;

/// Seals and opens access tokens; built once from the configured keys.
pub struct TokenSealer {
    current: SealingKey,
    previous: Option<SealingKey>,
    random: SystemRandom,
}

/// An encryption key, parsed from base64 and kept out of debug output.
#[derive(Clone)]
pub struct EncryptionKey([u8; KEY_BYTES]);

struct SealingKey {
    /// A short public name of the key (from a hash of it), stored beside each sealed token.
    id: String,
    key: LessSafeKey,
}

/// Why a sealed token could not be opened (or a token sealed).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    #[error("no configured encryption key has the id {0}; set TOKEN_ENCRYPTION_KEY_PREVIOUS")]
    UnknownKey(String),
    #[error("the sealed token is damaged, or was sealed for another store")]
    Damaged,
    #[error("the system's random number generator failed")]
    Random,
}

impl TokenSealer {
    /// A sealer that seals with `current` and opens with it or `previous`.
    pub fn new(current: &EncryptionKey, previous: Option<&EncryptionKey>) -> Self {
        Self {
            current: SealingKey::new(current),
            previous: previous.map(SealingKey::new),
            random: SystemRandom::new(),
        }
    }

    /// The id of the key new seals use.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `token` for `store_hash` with the current key; returns the sealed bytes and the
    /// key's id.
    pub fn seal(
        &self,
        store_hash: &str,
        token: &SecretString,
    ) -> Result<(Vec<u8>, String), SealingError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealingError::Random)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + token.expose_secret().len() + 16);
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        let mut body = token.expose_secret().as_bytes().to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                associated_data(store_hash),
                &mut body,
            )
            .map_err(|_| SealingError::Damaged)?;
        sealed.extend_from_slice(&body);
        Ok((sealed, self.current.id.clone()))
    }

    /// Opens a token sealed for `store_hash` by the key named `key_id`.
    pub fn open(
        &self,
        store_hash: &str,
        sealed: &[u8],
        key_id: &str,
    ) -> Result<SecretString, SealingError> {
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|key| key.id == key_id)
            .ok_or_else(|| SealingError::UnknownKey(key_id.to_owned()))?;
        let (&format, rest) = sealed.split_first().ok_or(SealingError::Damaged)?;
        if format != FORMAT_V1 || rest.len() < NONCE_LEN {
            return Err(SealingError::Damaged);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealingError::Damaged)?;
        let mut body = body.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, associated_data(store_hash), &mut body)
            .map_err(|_| SealingError::Damaged)?;
        let token = std::str::from_utf8(plain).map_err(|_| SealingError::Damaged)?;
        Ok(SecretString::from(token.to_owned()))
    }
}

impl EncryptionKey {
    /// Parses 32 bytes given in base64 (standard or URL-safe, padded or not).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or("expected 32 random bytes in base64 (e.g. from `openssl rand -base64 32`)")?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            format!(
                "expected 32 random bytes in base64, got {} bytes (e.g. from `openssl rand -base64 32`)",
                bytes.len()
            )
        })?;
        Ok(Self(key))
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("EncryptionKey([REDACTED])")
    }
}

impl SealingKey {
    fn new(key: &EncryptionKey) -> Self {
        // The id names the key without revealing it: a hash with a fixed prefix, so it is not
        // a hash of the bare key that could be looked up elsewhere.
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(b"order-metafields token encryption key id\0");
        context.update(&key.0);
        let hash = context.finish();
        let id = hash.as_ref()[..6]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        // AES-256 takes any 32 bytes; the length is fixed by the type.
        let unbound = UnboundKey::new(&AES_256_GCM, &key.0)
            .unwrap_or_else(|_| unreachable!("a 32-byte key is an AES-256 key"));
        Self {
            id,
            key: LessSafeKey::new(unbound),
        }
    }
}

fn associated_data(store_hash: &str) -> Aad<Vec<u8>> {
    let mut data = b"order-metafields access token for store ".to_vec();
    data.extend_from_slice(store_hash.as_bytes());
    Aad::from(data)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey([byte; KEY_BYTES])
    }

    fn token() -> SecretString {
        SecretString::from("access-token-of-store-abc123")
    }

    #[test]
    fn a_sealed_token_opens_for_its_store_and_hides_the_token() {
        let sealer = TokenSealer::new(&key(1), None);

        let (sealed, key_id) = sealer.seal("abc123", &token()).unwrap();
        let opened = sealer.open("abc123", &sealed, &key_id).unwrap();

        assert_eq!(opened.expose_secret(), token().expose_secret());
        assert_eq!(key_id, sealer.current_key_id());
        assert!(
            !sealed
                .windows(b"access-token".len())
                .any(|window| window == b"access-token")
        );
    }

    #[test]
    fn two_seals_of_one_token_differ() {
        let sealer = TokenSealer::new(&key(1), None);

        let (first, _) = sealer.seal("abc123", &token()).unwrap();
        let (second, _) = sealer.seal("abc123", &token()).unwrap();

        assert_ne!(first, second);
    }

    #[test]
    fn a_sealed_token_does_not_open_for_another_store_or_when_changed() {
        let sealer = TokenSealer::new(&key(1), None);
        let (sealed, key_id) = sealer.seal("abc123", &token()).unwrap();
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;

        assert_eq!(
            sealer.open("xyz789", &sealed, &key_id).unwrap_err(),
            SealingError::Damaged
        );
        assert_eq!(
            sealer.open("abc123", &flipped, &key_id).unwrap_err(),
            SealingError::Damaged
        );
        assert_eq!(
            sealer.open("abc123", &sealed[..10], &key_id).unwrap_err(),
            SealingError::Damaged
        );
        assert_eq!(
            sealer.open("abc123", &[], &key_id).unwrap_err(),
            SealingError::Damaged
        );
    }

    #[test]
    fn during_a_rotation_the_previous_key_opens_what_it_sealed() {
        let old = TokenSealer::new(&key(1), None);
        let (sealed, old_id) = old.seal("abc123", &token()).unwrap();
        let rotated = TokenSealer::new(&key(2), Some(&key(1)));
        let after = TokenSealer::new(&key(2), None);

        let opened = rotated.open("abc123", &sealed, &old_id).unwrap();

        assert_eq!(opened.expose_secret(), token().expose_secret());
        assert_ne!(rotated.current_key_id(), old_id);
        assert_eq!(
            after.open("abc123", &sealed, &old_id).unwrap_err(),
            SealingError::UnknownKey(old_id)
        );
    }

    #[test]
    fn keys_are_32_bytes_of_base64_in_any_alphabet() {
        let standard = STANDARD.encode([7u8; 32]);
        let url_safe = URL_SAFE_NO_PAD.encode([0xfbu8; 32]);

        assert!(EncryptionKey::from_base64(&standard).is_ok());
        assert!(EncryptionKey::from_base64(&format!("{standard}\n")).is_ok());
        assert!(EncryptionKey::from_base64(&url_safe).is_ok());
        assert!(
            EncryptionKey::from_base64(&STANDARD.encode([7u8; 16]))
                .unwrap_err()
                .contains("got 16 bytes")
        );
        assert!(
            EncryptionKey::from_base64("not base64!")
                .unwrap_err()
                .contains("expected 32 random bytes")
        );
        assert_eq!(format!("{:?}", key(9)), "EncryptionKey([REDACTED])");
    }
}
