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

/// The largest key file read: an ed25519 PEM key is about 120 bytes (OpenSSL's the same), so
/// anything near this size is not a key, and a device or an endless file is never read whole.
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// Reads a key file: a regular file of at most [`MAX_KEY_BYTES`], UTF-8 text.
fn read_key_file(path: &Path) -> Result<String, AuditError> {
    let key_error = |message: String| AuditError::Key {
        path: path.to_path_buf(),
        message,
    };
    let bytes = crate::files::read_regular_limited(path, MAX_KEY_BYTES)
        .map_err(|e| key_error(format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let mut bytes = e.into_bytes();
        bytes.fill(0);
        key_error("not a PEM key (not UTF-8 text)".into())
    })
}

/// Loads a PKCS#8 PEM private key. Like a credentials file, it must be a regular file that only
/// its owner can read (the type is checked first: a FIFO or a device is never opened blocking);
/// errors name the file and the problem, never the key.
pub(crate) fn load_signing_key(path: &Path) -> Result<SigningKey, AuditError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = crate::files::regular_metadata(path).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(AuditError::Key {
            path: path.to_path_buf(),
            message: "holds a private key but is readable by others; run `chmod 600` on it".into(),
        });
    }
    let pem = read_key_file(path)?;
    let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| AuditError::Key {
        path: path.to_path_buf(),
        message: format!("not an ed25519 PKCS#8 PEM private key ({e})"),
    });
    // The text held the secret: overwritten before it is freed (black_box: the writes are not
    // dropped as dead stores).
    let mut bytes = pem.into_bytes();
    bytes.fill(0);
    std::hint::black_box(&bytes);
    key
}

/// A signing key read and checked from its file before a run starts (a regular file readable by
/// its owner only, an ed25519 PKCS#8 PEM private key as [`generate_keypair`] writes). The run's
/// manifest is signed with this copy at the end, so a bad key stops the run before anything
/// changed, and a key file moved, edited or replaced during the run cannot stop the signing after
/// the actions changed Clockify. Its `Debug` shows the fingerprint only.
#[derive(Clone)]
pub struct RunSigningKey {
    key: SigningKey,
}

impl RunSigningKey {
    /// Reads and checks the key file `path`; errors name the file and the problem, never the key.
    pub fn load(path: &Path) -> Result<Self, AuditError> {
        Ok(RunSigningKey {
            key: load_signing_key(path)?,
        })
    }

    /// The SHA-256 of the public key's bytes, as the manifest names it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }

    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }
}

impl std::fmt::Debug for RunSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunSigningKey")
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

/// Loads a SubjectPublicKeyInfo PEM public key (a regular file of at most [`MAX_KEY_BYTES`]).
pub(crate) fn load_verifying_key(path: &Path) -> Result<VerifyingKey, AuditError> {
    let pem = read_key_file(path)?;
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

    #[test]
    fn a_loaded_key_signs_after_its_file_is_gone_and_bad_key_files_are_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let private = dir.path().join("held.pem");
        let public = dir.path().join("held.pub.pem");
        generate_keypair(&private, &public).expect("keygen");
        let held = RunSigningKey::load(&private).expect("a good key is loaded");
        // Replaced by a FIFO after the check: the held key is used, the FIFO never opened.
        std::fs::remove_file(&private).expect("rm");
        let made = std::process::Command::new("mkfifo")
            .arg(&private)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let key = held.key().clone();
        assert!(!format!("{held:?}").contains(&format!("{:?}", key.to_bytes())));
        let pubkey = load_verifying_key(&public).expect("public");
        assert!(check(&pubkey, b"m", &sign(&key, b"m")));

        let fifo = dir.path().join("never-held.pem");
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        let open = dir.path().join("open.pem");
        std::fs::copy(&public, &open).expect("copy");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let wrong = dir.path().join("public-as-private.pem");
        std::fs::copy(&public, &wrong).expect("copy");
        std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        for (path, says) in [
            (
                &fifo,
                "cannot read: a FIFO (named pipe), not a regular file",
            ),
            (&open, "readable by others"),
            (&wrong, "not an ed25519 PKCS#8 PEM private key"),
            (
                &dir.path().to_path_buf(),
                "cannot read: a folder, not a regular file",
            ),
        ] {
            let err = RunSigningKey::load(path).expect_err("refused").to_string();
            assert!(
                err.starts_with(&format!("key file {}: ", path.display())) && err.contains(says),
                "{err}"
            );
        }
        let err = load_verifying_key(&fifo).expect_err("a FIFO public key");
        assert!(err.to_string().contains("a FIFO (named pipe)"), "{err}");
    }
}
