//! Sign-in three ways: a saved session (cookies + the `localStorage` token), the emailed code read
//! by a command, and the "Log in manually" password form (or `/login-owner`).
//!
//! Secrets (codes, passwords, session tokens) are typed only into pages whose origin is the
//! configured base URL's origin, never logged, and never part of an error message.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::FlowError;
use crate::browser::query::{QueryError, Ui};

/// Longest wait for the code command.
const OTP_COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// A secret string: shown as `***` by `Debug`, no `Display`, no serialization.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for typing into the page.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the agent may sign in, tried in this order: saved session, emailed code, password.
#[derive(Debug, Clone, Default)]
pub struct SignInOptions {
    /// The saved-session file (read if it exists; written after a fresh sign-in).
    pub session_file: Option<PathBuf>,
    /// The account's email (for the code and password forms).
    pub email: Option<String>,
    /// A command printing the emailed code on stdout.
    pub otp_command: Option<String>,
    /// A password for the "Log in manually" form.
    pub password: Option<Secret>,
    /// Use `/login-owner` (the Owner's bypass on SSO subdomains).
    pub owner: bool,
    /// Sign in fresh even when a saved session exists (the `login` command).
    pub fresh: bool,
}

/// The result of signing in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The signed-in account's email, as the top bar shows it.
    pub email: String,
    /// How: `session`, `code` or `password`.
    pub method: &'static str,
}

/// A saved session: what the browser needs to be signed in again.
#[derive(Serialize, Deserialize)]
struct SessionFile {
    base_url: String,
    saved_at: String,
    email: String,
    cookies: Vec<SavedCookie>,
    token: String,
}

#[derive(Serialize, Deserialize)]
struct SavedCookie {
    name: String,
    value: String,
    path: Option<String>,
    secure: bool,
    http_only: bool,
    #[serde(default)]
    same_site: Option<String>,
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// Refuses to type secrets unless the page is on the configured origin.
async fn require_origin(ui: &Ui, base: &Url) -> Result<(), FlowError> {
    let current = ui.current_url().await?;
    if same_origin(&current, base) {
        Ok(())
    } else {
        Err(FlowError::SignIn(format!(
            "the sign-in page is at {}, not on {}; refusing to type credentials there",
            current.origin().ascii_serialization(),
            base.origin().ascii_serialization()
        )))
    }
}

/// The sign-in page in the catalog's language: the UI language is pinned by the path.
fn login_path(ui: &Ui) -> String {
    format!("/{}/login", ui.catalog().locale())
}

fn join(base: &Url, path: &str) -> Result<String, FlowError> {
    base.join(path)
        .map(String::from)
        .map_err(|e| FlowError::Setup(format!("bad base URL {base}: {e}")))
}

/// Opens a sign-in page, the first page of every run. A certificate the browser does not trust
/// is a sign-in failure said plainly (WebDriver's own error for it may carry no text at all).
async fn open_sign_in_page(ui: &Ui, base: &Url, path: &str) -> Result<(), FlowError> {
    match ui.goto(&join(base, path)?).await {
        Err(QueryError::WebDriver { source, .. }) if is_certificate_error(&source) => {
            // Chrome's text is "net::ERR_CERT_…" plus lines of session details: the first line.
            let said = match &source {
                fantoccini::error::CmdError::Standard(w) => w
                    .message
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                _ => String::new(),
            };
            let said = if said.is_empty() {
                said
            } else {
                format!(" (the browser said: {said})")
            };
            Err(FlowError::SignIn(format!(
                "the TLS certificate of {} is not trusted by the browser{said}; refusing to sign \
                 in there (for a test instance with a self-signed certificate, give --insecure)",
                base.origin().ascii_serialization()
            )))
        }
        other => Ok(other?),
    }
}

/// WebDriver's "insecure certificate" (Firefox), or Chrome's net error for a certificate.
fn is_certificate_error(e: &fantoccini::error::CmdError) -> bool {
    e.is_insecure_certificate()
        || matches!(e, fantoccini::error::CmdError::Standard(w)
            if w.message.contains("ERR_CERT_") || w.message.contains("ERR_SSL_"))
}

/// Signs in by the first method that works.
pub async fn sign_in(ui: &Ui, base: &Url, options: &SignInOptions) -> Result<SignedIn, FlowError> {
    let can_sign_in_fresh =
        options.email.is_some() && (options.otp_command.is_some() || options.password.is_some());
    if let (Some(path), false) = (&options.session_file, options.fresh) {
        if path.exists() {
            match restore_session(ui, base, path).await? {
                Some(email) => {
                    return Ok(SignedIn {
                        email,
                        method: "session",
                    })
                }
                None if can_sign_in_fresh => {
                    tracing::info!("saved session expired; signing in again");
                }
                None => {
                    return Err(FlowError::SignIn(format!(
                        "the saved session in {} has expired; run `clockify-ui-agent login` again \
                         (or configure --otp-command or a password to renew it automatically)",
                        path.display()
                    )))
                }
            }
        }
    }
    let email = options.email.as_deref().ok_or_else(|| {
        FlowError::SignIn(
            "no saved session and no account to sign in with: give --email (or CLOCKIFY_EMAIL) \
             with --otp-command or CLOCKIFY_PASSWORD, or --session-file from `login`"
                .into(),
        )
    })?;
    let signed_in = if let Some(command) = &options.otp_command {
        sign_in_with_code(ui, base, email, command).await?
    } else if let Some(password) = &options.password {
        sign_in_with_password(ui, base, email, password, options.owner).await?
    } else {
        return Err(FlowError::SignIn(
            "no sign-in method: give --otp-command or CLOCKIFY_PASSWORD".into(),
        ));
    };
    if let Some(path) = &options.session_file {
        save_session(ui, base, path, &signed_in.email).await?;
    }
    Ok(signed_in)
}

async fn sign_in_with_code(
    ui: &Ui,
    base: &Url,
    email: &str,
    command: &str,
) -> Result<SignedIn, FlowError> {
    open_sign_in_page(ui, base, &login_path(ui)).await?;
    require_origin(ui, base).await?;
    ui.fill("login.email_input", None, email).await?;
    ui.click("login.continue_with_email", None).await?;
    wait_for_code_step_or_error(ui).await?;
    let code = run_otp_command(command, email).await?;
    require_origin(ui, base).await?;
    // The code fields take one character each and spread a longer input over the following
    // fields, like a paste; typing into the first is what a person pasting does.
    let first = ui.find("login.code_inputs", None).await?;
    ui.count(1);
    first
        .element
        .send_keys(code.expose())
        .await
        .map_err(|source| crate::browser::query::QueryError::WebDriver {
            doing: "typing the sign-in code".into(),
            source,
        })?;
    let email = wait_for_app(ui, base).await?;
    Ok(SignedIn {
        email,
        method: "code",
    })
}

async fn wait_for_code_step_or_error(ui: &Ui) -> Result<(), FlowError> {
    let outcome = ui
        .wait_until("the code fields after \"Continue with Email\"", || async {
            if ui.optional("login.code_inputs", None).await?.is_some() {
                return Ok(Some(None));
            }
            if let Some(error) = ui.optional("login.error", None).await? {
                let text = ui.text(&error).await.unwrap_or_default();
                if !text.trim().is_empty() {
                    return Ok(Some(Some(text.trim().to_string())));
                }
            }
            Ok(None)
        })
        .await?;
    match outcome {
        None => Ok(()),
        Some(message) => Err(FlowError::SignIn(message)),
    }
}

async fn sign_in_with_password(
    ui: &Ui,
    base: &Url,
    email: &str,
    password: &Secret,
    owner: bool,
) -> Result<SignedIn, FlowError> {
    let path = if owner {
        "/login-owner".to_string()
    } else {
        login_path(ui)
    };
    open_sign_in_page(ui, base, &path).await?;
    require_origin(ui, base).await?;
    if ui.optional("login.password_input", None).await?.is_none() {
        ui.click("login.manual_link", None).await?;
    }
    ui.fill("login.email_input", None, email).await?;
    require_origin(ui, base).await?;
    ui.fill("login.password_input", None, password.expose())
        .await?;
    ui.click("login.submit", None).await?;
    let email = wait_for_app(ui, base).await?;
    Ok(SignedIn {
        email,
        method: "password",
    })
}

/// Waits until the app shell shows the signed-in user, or the sign-in form shows an error.
async fn wait_for_app(ui: &Ui, base: &Url) -> Result<String, FlowError> {
    let outcome = ui
        .wait_until("the app after signing in", || async {
            if let Some(user) = ui.optional("shell.user_email", None).await? {
                let text = ui.text(&user).await.unwrap_or_default();
                if !text.trim().is_empty() {
                    return Ok(Some(Ok(text.trim().to_lowercase())));
                }
            }
            if let Some(error) = ui.optional("login.error", None).await? {
                let text = ui.text(&error).await.unwrap_or_default();
                if !text.trim().is_empty() {
                    return Ok(Some(Err(text.trim().to_string())));
                }
            }
            Ok(None)
        })
        .await?;
    let email = outcome.map_err(FlowError::SignIn)?;
    require_origin(ui, base).await?;
    Ok(email)
}

/// Runs the code command; its trimmed stdout is the code. Its output is never printed.
async fn run_otp_command(command: &str, email: &str) -> Result<Secret, FlowError> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("CLOCKIFY_OTP_EMAIL", email)
        .env_remove("CLOCKIFY_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| FlowError::SignIn(format!("cannot run the --otp-command: {e}")))?;
    let output = tokio::time::timeout(OTP_COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            FlowError::SignIn(format!(
                "the --otp-command printed no code within {}s",
                OTP_COMMAND_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| FlowError::SignIn(format!("the --otp-command failed: {e}")))?;
    if !output.status.success() {
        return Err(FlowError::SignIn(format!(
            "the --otp-command exited with {}",
            output.status
        )));
    }
    let code = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if code.len() < 4 || code.len() > 12 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FlowError::SignIn(
            "the --otp-command did not print a sign-in code (letters and digits on one line)"
                .into(),
        ));
    }
    Ok(Secret::new(code))
}

/// Loads a saved session into the browser; `Ok(None)` when it has expired.
/// Reads and checks a saved session without a browser: private to its owner, a saved session,
/// and for `base`'s origin. `main` calls it before any browser starts.
pub fn load_session_file(path: &Path, base: &Url) -> Result<SavedSession, FlowError> {
    check_private(path)?;
    let text = crate::files::read_regular_text(path).map_err(|e| {
        FlowError::Setup(format!("cannot read session file {}: {e}", path.display()))
    })?;
    let saved: SessionFile = serde_json::from_str(&text).map_err(|e| {
        FlowError::Setup(format!(
            "session file {} is not a saved session ({:?} error at line {})",
            path.display(),
            e.classify(),
            e.line()
        ))
    })?;
    let saved_base = Url::parse(&saved.base_url).map_err(|_| {
        FlowError::Setup(format!(
            "session file {} has a bad base URL",
            path.display()
        ))
    })?;
    if !same_origin(&saved_base, base) {
        return Err(FlowError::SignIn(format!(
            "the session in {} is for {}, not {}",
            path.display(),
            saved_base.origin().ascii_serialization(),
            base.origin().ascii_serialization()
        )));
    }
    Ok(SavedSession(saved))
}

/// A saved session read by [`load_session_file`] (its secrets stay inside).
pub struct SavedSession(SessionFile);

async fn restore_session(ui: &Ui, base: &Url, path: &Path) -> Result<Option<String>, FlowError> {
    let SavedSession(saved) = load_session_file(path, base)?;
    // Cookies and storage can only be set on a page of the origin: the sign-in page is one that
    // needs no session.
    open_sign_in_page(ui, base, &login_path(ui)).await?;
    require_origin(ui, base).await?;
    for cookie in &saved.cookies {
        let mut c = fantoccini::cookies::Cookie::new(cookie.name.clone(), cookie.value.clone());
        c.set_path(cookie.path.clone().unwrap_or_else(|| "/".into()));
        c.set_secure(cookie.secure);
        c.set_http_only(cookie.http_only);
        c.set_same_site(match cookie.same_site.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("strict") => cookie::SameSite::Strict,
            Some(s) if s.eq_ignore_ascii_case("none") => cookie::SameSite::None,
            _ => cookie::SameSite::Lax,
        });
        ui.count(1);
        ui.client().add_cookie(c).await.map_err(|source| {
            crate::browser::query::QueryError::WebDriver {
                doing: "restoring the session cookie".into(),
                source,
            }
        })?;
    }
    ui.execute(
        "localStorage.setItem('token', arguments[0]);",
        vec![serde_json::Value::String(saved.token.clone())],
    )
    .await?;
    ui.goto(&join(base, "/tracker")?).await?;
    let outcome = ui
        .wait_until("the app or the sign-in page", || async {
            if let Some(user) = ui.optional("shell.user_email", None).await? {
                let text = ui.text(&user).await.unwrap_or_default();
                if !text.trim().is_empty() {
                    return Ok(Some(Some(text.trim().to_lowercase())));
                }
            }
            if ui.optional("login.email_input", None).await?.is_some() {
                return Ok(Some(None));
            }
            Ok(None)
        })
        .await?;
    if outcome.is_some() {
        require_origin(ui, base).await?;
    }
    Ok(outcome)
}

/// Refuses a session file that others can read (it holds a live session).
fn check_private(path: &Path) -> Result<(), FlowError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).map_err(|e| {
        FlowError::Setup(format!("cannot read session file {}: {e}", path.display()))
    })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(FlowError::Setup(format!(
            "session file {} is readable by others (mode {mode:o}); run `chmod 600` on it",
            path.display()
        )));
    }
    Ok(())
}

/// Writes the browser's session (cookies + token) to `path` with mode 0600.
async fn save_session(ui: &Ui, base: &Url, path: &Path, email: &str) -> Result<(), FlowError> {
    ui.count(1);
    let cookies = ui.client().get_all_cookies().await.map_err(|source| {
        crate::browser::query::QueryError::WebDriver {
            doing: "reading the session cookies".into(),
            source,
        }
    })?;
    let token = ui
        .execute("return localStorage.getItem('token');", vec![])
        .await?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| {
            FlowError::SignIn("signed in, but the page holds no session token".into())
        })?;
    let file = SessionFile {
        base_url: base.origin().ascii_serialization(),
        saved_at: crate::sandbox::auth::now_rfc3339(),
        email: email.to_string(),
        cookies: cookies
            .iter()
            .map(|c| SavedCookie {
                name: c.name().to_string(),
                value: c.value().to_string(),
                path: c.path().map(str::to_string),
                secure: c.secure().unwrap_or(false),
                http_only: c.http_only().unwrap_or(false),
                same_site: c.same_site().map(|s| s.to_string()),
            })
            .collect(),
        token,
    };
    let json = serde_json::to_vec_pretty(&file)
        .map_err(|e| FlowError::Setup(format!("cannot encode the session: {e}")))?;
    write_private(path, &json)
        .map_err(|e| FlowError::Setup(format!("cannot write session file {}: {e}", path.display())))
}

/// Writes a file readable by its owner only (created 0600, replaced atomically).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "exists and is not a regular file; refusing to replace it",
            ));
        }
    }
    let tmp = path.with_extension("tmp");
    // A leftover from a killed run; `create_new` below then refuses links and races.
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Never leave a copy of a live session behind.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
    }

    #[test]
    fn private_files_are_0600_and_others_readable_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        write_private(&path, b"{}").expect("write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        check_private(&path).expect("0600 accepted");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = check_private(&path).expect_err("0644 refused");
        assert!(err.to_string().contains("readable by others"), "{err}");
    }

    #[tokio::test]
    async fn otp_command_output_is_validated_not_echoed() {
        let code = run_otp_command("echo AB12CD", "a@x.example")
            .await
            .expect("code");
        assert_eq!(code.expose(), "AB12CD");
        let err = run_otp_command("echo 'not a code at all'", "a@x.example")
            .await
            .expect_err("refused");
        assert!(!err.to_string().contains("not a code"), "{err}");
        let err = run_otp_command("exit 3", "a@x.example")
            .await
            .expect_err("failed");
        assert!(err.to_string().contains("exited"), "{err}");
        let env = run_otp_command(
            "test \"$CLOCKIFY_OTP_EMAIL\" = a@x.example && echo ZZ99ZZ",
            "a@x.example",
        )
        .await
        .expect("email passed in the environment");
        assert_eq!(env.expose(), "ZZ99ZZ");
    }
}
