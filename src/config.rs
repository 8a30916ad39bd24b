//! Configuration files: the tenants file (`--config FILE --tenant NAME`) and the credentials file.
//! Strict parsing: unknown keys are errors naming the file and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::clockify::signin::Secret;

/// A configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not the expected format.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the key).
        message: String,
    },
}

/// One tenant (a Clockify workspace the agent manages).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// Base URL, e.g. `https://app.clockify.me` or `https://acme.clockify.me`.
    pub base_url: String,
    /// Account email used to sign in.
    #[serde(default)]
    pub account: Option<String>,
    /// Command printing the emailed sign-in code.
    #[serde(default)]
    pub otp_command: Option<String>,
    /// Saved-session file.
    #[serde(default)]
    pub session_file: Option<PathBuf>,
    /// Credentials file (email and password).
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// Per-tenant selector override file.
    #[serde(default)]
    pub selector_overrides: Option<PathBuf>,
    /// UI language of the catalog texts.
    #[serde(default)]
    pub locale: Option<String>,
    /// Sign in at `/login-owner`.
    #[serde(default)]
    pub owner_login: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantsFile {
    tenants: BTreeMap<String, Tenant>,
}

fn read(path: &Path) -> Result<String, ConfigError> {
    crate::files::read_regular_text(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        // The parser's message may span lines ("invalid table header\nexpected ..."); an error
        // is one line. Its source excerpt is left out: a credentials file holds a password.
        let said = e
            .inner()
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(": ");
        let key = e.path().to_string();
        // serde_path_to_error writes "." for the top level: a syntax error or a missing table,
        // which the line number (when there is one) places better than a key path.
        let message = if key == "." {
            // A missing table comes with the empty span 0..0, which places nothing.
            match e.inner().span().filter(|span| span.end > 0) {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: {said}")
                }
                None => said,
            }
        } else {
            format!("{key}: {said}")
        };
        ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        }
    })
}

/// The names of every tenant of a tenants file, in the file's (sorted) order, for
/// `--all-tenants`. The whole file is parsed, so a bad key anywhere is reported here.
pub fn tenant_names(path: &Path) -> Result<Vec<String>, ConfigError> {
    let file: TenantsFile = parse(path, &read(path)?)?;
    if file.tenants.is_empty() {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: "names no tenant (add a [tenants.NAME] table)".into(),
        });
    }
    Ok(file.tenants.into_keys().collect())
}

/// Reads tenant `name` from a tenants file. Relative paths in it are taken from the file's folder.
pub fn load_tenant(path: &Path, name: &str) -> Result<Tenant, ConfigError> {
    let file: TenantsFile = parse(path, &read(path)?)?;
    let mut tenant = file
        .tenants
        .get(name)
        .cloned()
        .ok_or_else(|| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "no tenant '{name}' (tenants: {})",
                file.tenants.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    for p in [
        &mut tenant.session_file,
        &mut tenant.credentials_file,
        &mut tenant.selector_overrides,
    ]
    .into_iter()
    .flatten()
    {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    Ok(tenant)
}

/// Email and password for the "Log in manually" form.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Account email.
    pub email: Option<String>,
    /// Password.
    pub password: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    #[serde(default)]
    email: Option<String>,
    password: String,
}

/// Reads a credentials file (`email = "…"`, `password = "…"`); it must not be readable by others.
pub fn load_credentials(path: &Path) -> Result<Credentials, ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    // The type first: a device or a folder is not "readable by others", it is not a file.
    let meta = crate::files::regular_metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: "holds a password but is readable by others; run `chmod 600` on it".into(),
        });
    }
    let file: CredentialsFile = parse(path, &read(path)?)?;
    Ok(Credentials {
        email: file.email,
        password: Secret::new(file.password),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_paths_are_relative_to_the_file_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tenants.toml");
        std::fs::write(
            &path,
            "[tenants.acme]\nbase_url = \"http://127.0.0.1:1\"\nsession_file = \"acme.json\"\n",
        )
        .expect("write");
        let tenant = load_tenant(&path, "acme").expect("tenant");
        assert_eq!(tenant.session_file, Some(dir.path().join("acme.json")));
        assert_eq!(
            tenant_names(&path).expect("names"),
            vec!["acme".to_string()]
        );
        let err = load_tenant(&path, "other").expect_err("missing tenant");
        assert!(err.to_string().contains("acme"), "{err}");
        std::fs::write(
            &path,
            "[tenants.acme]\nbase_url = \"x\"\nbase_ur1 = \"y\"\n",
        )
        .expect("write");
        let err = load_tenant(&path, "acme").expect_err("unknown key");
        assert!(err.to_string().contains("tenants.acme"), "{err}");
        assert!(err.to_string().contains("base_ur1"), "{err}");
    }

    #[test]
    fn top_level_errors_name_no_key_path_and_syntax_errors_their_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tenants.toml");
        let shown = path.display().to_string();
        for (text, expected) in [
            ("", "missing field `tenants`".to_string()),
            ("# only a comment\n", "missing field `tenants`".into()),
            ("= 1\n", "line 1: ".into()),
            (
                "[tenants.a]\nbase_url = \"x\"\n[tenants.b\n",
                "line 3: ".into(),
            ),
        ] {
            std::fs::write(&path, text).expect("write");
            let err = load_tenant(&path, "a").expect_err(text).to_string();
            assert!(
                err.starts_with(&format!("{shown}: {expected}")),
                "{text:?}: {err}"
            );
            assert!(
                !err.contains(": .:") && !err.contains('\n'),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn credentials_must_be_private_and_never_print_the_password() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("creds.toml");
        std::fs::write(&path, "email = \"a@x.example\"\npassword = \"s3cret-pw\"\n")
            .expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(load_credentials(&path).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let creds = load_credentials(&path).expect("creds");
        assert!(!format!("{creds:?}").contains("s3cret-pw"));
        std::fs::write(&path, "password = 5\n").expect("write");
        let err = load_credentials(&path).expect_err("wrong type");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
