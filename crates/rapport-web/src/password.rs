//! Passwords: argon2id hashes in PHC format (the algorithm's parameters travel with each hash).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;

/// The shortest password Rapport accepts.
pub const MIN_LENGTH: usize = 10;

/// Why a password cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short to resist guessing.
    #[error("the password is too short: use at least {MIN_LENGTH} characters")]
    TooShort,
    /// Hashing failed (should not happen with the default parameters).
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Hashes a new password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A new password for someone else to pass on: four groups of five letters and digits
/// ("k7rmq-x2vde-..."), 99 random bits, without the look-alikes 0/o and 1/l/i.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(23);
    for i in 0..20 {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[OsRng.gen_range(0..ALPHABET.len())] as char);
    }
    out
}

/// Whether `password` matches the stored hash (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the user does not exist, so that a wrong email takes as long
/// as a wrong password and sign-in does not reveal who has an account.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batter", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_readable_and_different() {
        let a = generate();
        assert_eq!(a.len(), 23, "{a}");
        assert_eq!(a.split('-').map(str::len).collect::<Vec<_>>(), [5, 5, 5, 5]);
        assert!(a.chars().all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"01ilo".contains(c))), "{a}");
        assert!(hash_password(&a).is_ok());
        assert_ne!(a, generate());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
    }
}
