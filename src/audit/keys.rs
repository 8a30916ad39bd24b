//! ed25519 keys for the detached manifest signature: generating a pair, loading PEM files
//! (PKCS#8 private, SubjectPublicKeyInfo public; OpenSSL's `genpkey -algorithm ed25519` files work
//! too), signing and checking. The signature file holds the raw 64 signature bytes.

use std::path::Path;

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::{sha256_hex, write_new_private, AuditError};

/// Generates an ed25519 key pair for `--sign-key`: the private key as PKCS#8 PEM (0600) and the
/// public key as SubjectPublicKeyInfo PEM (0644, for `audit verify --pubkey` and for OpenSSL).
/// Refuses to replace an existing file.
pub fn generate_keypair(private_out: &Path, public_out: &Path) -> Result<(), AuditError> {
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let key = SigningKey::from_bytes(&secret);
    secret.fill(0);
    let private_pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| AuditError::Key {
            path: private_out.to_path_buf(),
            message: format!("cannot encode the private key: {e}"),
        })?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| AuditError::Key {
            path: public_out.to_path_buf(),
            message: format!("cannot encode the public key: {e}"),
        })?;
    if public_out.exists() {
        return Err(AuditError::Key {
            path: public_out.to_path_buf(),
            message: "already exists; not replaced".into(),
        });
    }
    write_new_private(private_out, private_pem.as_bytes()).map_err(|e| AuditError::Key {
        path: private_out.to_path_buf(),
        message: if e.kind() == std::io::ErrorKind::AlreadyExists {
            "already exists; not replaced".into()
        } else {
            format!("cannot write: {e}")
        },
    })?;
    write_new_private(public_out, public_pem.as_bytes()).map_err(|e| AuditError::Key {
        path: public_out.to_path_buf(),
        message: format!("cannot write: {e}"),
    })?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(public_out, std::fs::Permissions::from_mode(0o644)).map_err(
            |e| AuditError::Key {
                path: public_out.to_path_buf(),
                message: format!("cannot make readable: {e}"),
            },
        )?;
    }
    Ok(())
}

/// Loads a PKCS#8 PEM private key.
pub(crate) fn load_signing_key(path: &Path) -> Result<SigningKey, AuditError> {
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    "signing key {} is readable by others; chmod 600 it",
                    path.display()
                );
            }
        }
    }
    let pem = std::fs::read_to_string(path).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        message: format!("not an ed25519 PKCS#8 PEM private key ({e})"),
    })
}

/// Loads a SubjectPublicKeyInfo PEM public key.
pub(crate) fn load_verifying_key(path: &Path) -> Result<VerifyingKey, AuditError> {
    let pem = std::fs::read_to_string(path).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    VerifyingKey::from_public_key_pem(&pem).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        message: format!("not an ed25519 PEM public key ({e})"),
    })
}

/// SHA-256 of a key's 32 public bytes (named in the manifest and in verify's messages).
pub(crate) fn fingerprint(key: &SigningKey) -> String {
    public_fingerprint(&key.verifying_key())
}

/// SHA-256 of the 32 public bytes.
pub(crate) fn public_fingerprint(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())
}

/// The detached signature of `message`.
pub(crate) fn sign(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    key.sign(message).to_bytes().to_vec()
}

/// Whether `signature` (raw 64 bytes) signs `message` under `key`.
pub(crate) fn check(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::from_slice(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pair_signs_and_checks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let private = dir.path().join("k.pem");
        let public = dir.path().join("k.pub.pem");
        generate_keypair(&private, &public).expect("keygen");
        let again = generate_keypair(&private, &dir.path().join("other.pub.pem"));
        assert!(again.is_err(), "never overwrites a key");
        let key = load_signing_key(&private).expect("private");
        let pubkey = load_verifying_key(&public).expect("public");
        let sig = sign(&key, b"manifest");
        assert!(check(&pubkey, b"manifest", &sig));
        assert!(!check(&pubkey, b"manifesT", &sig));
        assert!(!check(&pubkey, b"manifest", &sig[..63]));
        assert_eq!(fingerprint(&key), public_fingerprint(&pubkey));
        let pem = std::fs::read_to_string(&private).expect("read");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let err = load_verifying_key(&private).expect_err("a private key is no public key");
        assert!(!err.to_string().contains(pem.lines().nth(1).unwrap_or("-")));
    }
}
