//! WebDriver driver processes and browser sessions.
//!
//! - [`locate_driver`] finds geckodriver or chromedriver: an explicit path, else `PATH`, else
//!   `$CARGO_HOME/bin` / `~/.cargo/bin` (where `cargo install geckodriver` puts it).
//! - [`DriverProcess`] starts a driver on a free port of 127.0.0.1 in its own process group and
//!   waits until it answers `GET /status`. Dropping it kills the whole group with `SIGKILL`, so the
//!   browser the driver started dies with it on every exit path, a panic included. Its `TMPDIR`
//!   is a folder of its own, removed with it, so no browser profile is left in `/tmp` either.
//! - [`capabilities`] builds the new-session capabilities of ONE browser (mixing Firefox and
//!   Chrome options broke headless runs); [`connect`] opens a fantoccini session with them.
//!
//! One driver process serves one session at a time (geckodriver cannot do more): run one
//! [`DriverProcess`] per concurrent session, or point [`connect`] at a Selenium Grid.

use std::collections::VecDeque;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// What to tell a person whose machine lacks a browser or a driver.
pub const INSTALL_HINT: &str =
    "run scripts/install-deps (installs firefox-esr, geckodriver, chromium and chromedriver)";

/// How long [`DriverProcess::spawn`] waits for the driver to answer `/status`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// How often the driver's `/status` is polled while it starts.
const READY_POLL: Duration = Duration::from_millis(25);

/// How many times a driver is started on a fresh port when it dies before it is ready (another
/// process may take the port between our probe and the driver's bind).
const SPAWN_ATTEMPTS: u32 = 3;

/// How long [`DriverProcess::stop`] lets the driver exit on `SIGTERM` before it kills the group.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Lines of driver output kept for error messages.
const OUTPUT_LINES: usize = 40;

/// Window size of every session, in CSS pixels (a common laptop screen).
pub const WINDOW_SIZE: (u32, u32) = (1366, 900);

/// The browser Chromium is looked for at; used as `goog:chromeOptions.binary` when present.
pub const CHROMIUM_BINARY: &str = "/usr/bin/chromium";

/// A browser the agent can drive, each through its own WebDriver driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BrowserKind {
    /// Firefox (or Firefox ESR) through geckodriver.
    #[default]
    Firefox,
    /// Chrome or Chromium through chromedriver.
    Chrome,
}

impl BrowserKind {
    /// Every kind, the default first.
    pub const ALL: [BrowserKind; 2] = [BrowserKind::Firefox, BrowserKind::Chrome];

    /// The name used on the command line: `firefox` or `chrome`.
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserKind::Firefox => "firefox",
            BrowserKind::Chrome => "chrome",
        }
    }

    /// The file name of the driver binary: `geckodriver` or `chromedriver`.
    pub fn driver_binary(self) -> &'static str {
        match self {
            BrowserKind::Firefox => "geckodriver",
            BrowserKind::Chrome => "chromedriver",
        }
    }

    /// The driver's command-line arguments to serve on `127.0.0.1:port`.
    fn driver_args(self, port: u16) -> Vec<String> {
        match self {
            BrowserKind::Firefox => vec![
                "--port".into(),
                port.to_string(),
                "--host".into(),
                "127.0.0.1".into(),
                // Firefox's own log lines are noise here; warnings and errors are kept.
                "--log".into(),
                "warn".into(),
            ],
            BrowserKind::Chrome => vec![
                format!("--port={port}"),
                "--allowed-ips=127.0.0.1".into(),
                "--log-level=WARNING".into(),
            ],
        }
    }
}

impl fmt::Display for BrowserKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BrowserKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BrowserKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown browser '{s}' (known: firefox, chrome)"))
    }
}

/// A driver could not be found, started or reached, or a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The driver path given explicitly does not name an executable file.
    #[error("{binary} for {kind} not found at {path}: no executable file there; {INSTALL_HINT}, or pass the right path", binary = .kind.driver_binary(), path = .path.display())]
    ExplicitPathMissing {
        /// The browser the driver was for.
        kind: BrowserKind,
        /// The path given.
        path: PathBuf,
    },
    /// The driver is nowhere it is looked for.
    #[error("{binary} for {kind} not found on PATH nor in {searched}; {INSTALL_HINT}", binary = .kind.driver_binary(), searched = display_paths(.searched))]
    NotFound {
        /// The browser the driver was for.
        kind: BrowserKind,
        /// The folders searched besides PATH.
        searched: Vec<PathBuf>,
    },
    /// No free TCP port could be reserved on 127.0.0.1.
    #[error("cannot find a free port on 127.0.0.1 for {kind}'s driver")]
    NoFreePort {
        /// The browser the driver was for.
        kind: BrowserKind,
        /// Why binding port 0 failed.
        #[source]
        source: std::io::Error,
    },
    /// The driver process could not be started at all.
    #[error("cannot start {path} (the {kind} driver)", path = .path.display())]
    Spawn {
        /// The browser the driver was for.
        kind: BrowserKind,
        /// The driver binary.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The driver exited before it answered `/status`.
    #[error("{path} (the {kind} driver) exited with {status} before it was ready at {url}; its last output:\n{output}", path = .path.display())]
    Exited {
        /// The browser the driver was for.
        kind: BrowserKind,
        /// The driver binary.
        path: PathBuf,
        /// The URL it was asked to serve.
        url: String,
        /// How it exited.
        status: ExitStatus,
        /// Its last lines of output (may be empty).
        output: String,
    },
    /// The driver did not answer `/status` with `ready: true` in time.
    #[error("{path} (the {kind} driver) was not ready at {url}/status after {waited:?}; its last output:\n{output}", path = .path.display())]
    NotReady {
        /// The browser the driver was for.
        kind: BrowserKind,
        /// The driver binary.
        path: PathBuf,
        /// The URL it serves.
        url: String,
        /// How long we waited.
        waited: Duration,
        /// Its last lines of output (may be empty).
        output: String,
    },
    /// The WebDriver endpoint refused or failed to open a session.
    #[error("cannot open a {browser} session at {url} (is the browser installed? {INSTALL_HINT})")]
    Session {
        /// The `browserName` asked for.
        browser: String,
        /// The WebDriver URL.
        url: String,
        /// What fantoccini reported (boxed: it is large).
        #[source]
        source: Box<fantoccini::error::NewSessionError>,
    },
    /// The WebDriver endpoint did not answer the new-session request in time.
    #[error("no {browser} session from {url} after {waited:?}: a Selenium Grid with no free slot queues the request (allow longer than its --session-request-timeout), or the endpoint hangs")]
    SessionTimeout {
        /// The `browserName` asked for.
        browser: String,
        /// The WebDriver URL.
        url: String,
        /// How long we waited.
        waited: Duration,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(no cargo bin folder: neither CARGO_HOME nor HOME is set)".into();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `path` is a regular file with an execute bit.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds the driver binary of `kind`: `explicit` if given (it must exist), else the first
/// `geckodriver`/`chromedriver` on `PATH`, else `$CARGO_HOME/bin` or `~/.cargo/bin`.
pub fn locate_driver(kind: BrowserKind, explicit: Option<&Path>) -> Result<PathBuf, DriverError> {
    if let Some(path) = explicit {
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else {
            Err(DriverError::ExplicitPathMissing {
                kind,
                path: path.to_path_buf(),
            })
        };
    }
    let binary = kind.driver_binary();
    if let Some(path) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(binary))
        .find(|p| is_executable(p))
    {
        return Ok(path);
    }
    let searched = cargo_bin_dirs();
    searched
        .iter()
        .map(|dir| dir.join(binary))
        .find(|p| is_executable(p))
        .ok_or(DriverError::NotFound { kind, searched })
}

/// `$CARGO_HOME/bin` when CARGO_HOME is set, and `~/.cargo/bin`.
fn cargo_bin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(home).join(".cargo").join("bin");
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// Reserves a port the OS considers free on 127.0.0.1 (bind port 0, read it, let it go). Another
/// process may take it before the driver binds it: [`DriverProcess::spawn`] retries then.
fn free_port(kind: BrowserKind) -> Result<u16, DriverError> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|source| DriverError::NoFreePort { kind, source })
}

/// Creates the private temp folder of one driver process.
fn scratch_dir(kind: BrowserKind, port: u16) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "clockify-ui-agent-{}-{}-{port}",
        kind.driver_binary(),
        std::process::id()
    ));
    // A folder left by a killed process with the same pid and port is stale.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The last lines a driver printed, shared with the tasks that drain its pipes.
#[derive(Debug, Clone, Default)]
struct OutputTail(Arc<Mutex<VecDeque<String>>>);

impl OutputTail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == OUTPUT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.is_empty() {
            "(nothing)".into()
        } else {
            lines.iter().cloned().collect::<Vec<_>>().join("\n")
        }
    }

    /// Reads `pipe` line by line until it closes (the process and its children are gone).
    fn drain(&self, pipe: impl AsyncRead + Unpin + Send + 'static) {
        let tail = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tail.push(line);
            }
        });
    }
}

/// A running geckodriver or chromedriver, serving WebDriver on `127.0.0.1:<port>`.
///
/// The driver runs in its own process group, so the browser it starts belongs to that group too.
/// [`DriverProcess::stop`] ends it politely; dropping it without `stop` (a panic, an early return)
/// kills the whole group with `SIGKILL`. End the WebDriver session first
/// (`fantoccini::Client::close`) so the browser shuts down cleanly.
///
/// The driver's `TMPDIR` is a folder of its own, where geckodriver and chromedriver create the
/// browser's temporary profile; it is removed on `stop` and on drop, so a killed browser leaves
/// no profile behind.
#[derive(Debug)]
pub struct DriverProcess {
    kind: BrowserKind,
    path: PathBuf,
    url: String,
    pid: u32,
    child: Option<Child>,
    output: OutputTail,
    scratch: PathBuf,
}

impl DriverProcess {
    /// Starts `driver_path` (see [`locate_driver`]) for `kind` on a free port of 127.0.0.1 and
    /// waits until it answers `GET /status` with `ready: true`, polling every 25 ms for up to
    /// [`READY_TIMEOUT`]. Must be called inside a tokio runtime.
    pub async fn spawn(kind: BrowserKind, driver_path: &Path) -> Result<Self, DriverError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| DriverError::Spawn {
                kind,
                path: driver_path.to_path_buf(),
                source: std::io::Error::other(e),
            })?;
        let mut attempt = 1;
        loop {
            let port = free_port(kind)?;
            let mut driver = Self::start(kind, driver_path, port)?;
            match driver.wait_ready(&http).await {
                Ok(()) => return Ok(driver),
                // It died at once: most likely the port was taken after we probed it.
                Err(DriverError::Exited { .. }) if attempt < SPAWN_ATTEMPTS => {
                    tracing::debug!("{kind} driver exited before it was ready; trying a new port");
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn start(kind: BrowserKind, path: &Path, port: u16) -> Result<Self, DriverError> {
        let scratch = scratch_dir(kind, port).map_err(|source| DriverError::Spawn {
            kind,
            path: path.to_path_buf(),
            source,
        })?;
        let mut command = Command::new(path);
        command
            .args(kind.driver_args(port))
            // Browser profiles land here (both drivers use the system temp folder).
            .env("TMPDIR", &scratch)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: one signal reaches the driver and the browser it starts, and
            // a Ctrl-C in the terminal reaches neither (the agent decides when they end).
            .process_group(0)
            // The browser needs none of the agent's secrets in its environment.
            .env_remove("CLOCKIFY_PASSWORD")
            .env_remove("CLOCKIFY_OTP_COMMAND")
            // Belt and braces for the driver itself; Drop kills the whole group.
            .kill_on_drop(true);
        let spawned = command.spawn().and_then(|child| match child.id() {
            Some(pid) => Ok((child, pid)),
            None => Err(std::io::Error::other("the driver exited at once")),
        });
        let (mut child, pid) = spawned.map_err(|source| {
            let _ = std::fs::remove_dir_all(&scratch);
            DriverError::Spawn {
                kind,
                path: path.to_path_buf(),
                source,
            }
        })?;
        let output = OutputTail::default();
        if let Some(out) = child.stdout.take() {
            output.drain(out);
        }
        if let Some(err) = child.stderr.take() {
            output.drain(err);
        }
        tracing::debug!("started {} (pid {pid}) on port {port}", path.display());
        Ok(DriverProcess {
            kind,
            path: path.to_path_buf(),
            url: format!("http://127.0.0.1:{port}"),
            pid,
            child: Some(child),
            output,
            scratch,
        })
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> Result<(), DriverError> {
        let started = Instant::now();
        let status_url = format!("{}/status", self.url);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(DriverError::Exited {
                        kind: self.kind,
                        path: self.path.clone(),
                        url: self.url.clone(),
                        status,
                        output: self.output.text(),
                    });
                }
            }
            if let Ok(response) = http.get(&status_url).send().await {
                if response.status().is_success() {
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    // Both drivers answer {"value": {"ready": true, ...}}; a driver that leaves
                    // `ready` out is taken as ready once it answers.
                    let ready = body
                        .pointer("/value/ready")
                        .and_then(Value::as_bool)
                        .unwrap_or(true);
                    if ready {
                        tracing::debug!(
                            "{} driver ready at {} after {:?}",
                            self.kind,
                            self.url,
                            started.elapsed()
                        );
                        return Ok(());
                    }
                }
            }
            if started.elapsed() >= READY_TIMEOUT {
                return Err(DriverError::NotReady {
                    kind: self.kind,
                    path: self.path.clone(),
                    url: self.url.clone(),
                    waited: started.elapsed(),
                    output: self.output.text(),
                });
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    /// The browser this driver is for.
    pub fn kind(&self) -> BrowserKind {
        self.kind
    }

    /// The driver binary.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its WebDriver URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its process id, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The last lines the driver (and the browser through it) printed, for diagnostics.
    pub fn recent_output(&self) -> String {
        self.output.text()
    }

    /// Stops the driver: `SIGTERM` to its process group, up to 3 s for the driver to exit, then
    /// `SIGKILL` to whatever is left of the group (a browser the driver did not close).
    pub async fn stop(mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = self.group();
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(STOP_GRACE, child.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} driver (pid {}) ignored SIGTERM for {STOP_GRACE:?}; killing it",
                self.kind,
                self.pid
            );
        }
        // The group id cannot be handed to a new process while any member lives, so this only
        // reaches the driver's own leftovers.
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.wait().await;
        self.remove_scratch();
    }

    fn remove_scratch(&self) {
        if let Err(e) = std::fs::remove_dir_all(&self.scratch) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove {}: {e}", self.scratch.display());
            }
        }
    }

    fn group(&self) -> Pid {
        // A pid always fits in i32 on Unix.
        Pid::from_raw(i32::try_from(self.pid).unwrap_or(i32::MAX))
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            // SIGKILL to the whole group: the driver and every browser process it started.
            if let Err(e) = killpg(self.group(), Signal::SIGKILL) {
                if e != nix::errno::Errno::ESRCH {
                    tracing::warn!("cannot kill {} driver group {}: {e}", self.kind, self.pid);
                }
            }
            // Dropped after the signal so the group id cannot be reused in between; tokio reaps
            // the driver in the background.
            drop(child);
        }
        self.remove_scratch();
    }
}

/// A Firefox preference value.
#[derive(Debug, Clone, Copy)]
enum Pref {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

/// Firefox preferences that keep it from calling home: on a closed network every such call waits
/// for a timeout, and in an audited environment none of them is wanted anyway.
const FIREFOX_PREFS: &[(&str, Pref)] = &[
    // Updates of the browser, add-ons, system add-ons, search engines.
    ("app.update.auto", Pref::Bool(false)),
    ("app.update.checkInstallTime", Pref::Bool(false)),
    ("app.update.disabledForTesting", Pref::Bool(true)),
    ("extensions.update.enabled", Pref::Bool(false)),
    ("extensions.update.autoUpdateDefault", Pref::Bool(false)),
    ("extensions.systemAddon.update.enabled", Pref::Bool(false)),
    ("extensions.getAddons.cache.enabled", Pref::Bool(false)),
    ("extensions.blocklist.enabled", Pref::Bool(false)),
    ("browser.search.update", Pref::Bool(false)),
    // Telemetry, health report, studies (Normandy, Shield), ping centre.
    (
        "datareporting.policy.dataSubmissionEnabled",
        Pref::Bool(false),
    ),
    (
        "datareporting.healthreport.uploadEnabled",
        Pref::Bool(false),
    ),
    ("toolkit.telemetry.enabled", Pref::Bool(false)),
    ("toolkit.telemetry.unified", Pref::Bool(false)),
    ("toolkit.telemetry.archive.enabled", Pref::Bool(false)),
    ("toolkit.telemetry.server", Pref::Str("")),
    ("app.normandy.enabled", Pref::Bool(false)),
    ("app.normandy.api_url", Pref::Str("")),
    ("app.shield.optoutstudies.enabled", Pref::Bool(false)),
    ("browser.ping-centre.telemetry", Pref::Bool(false)),
    (
        "messaging-system.rsexperimentloader.enabled",
        Pref::Bool(false),
    ),
    ("identity.fxaccounts.enabled", Pref::Bool(false)),
    ("browser.discovery.enabled", Pref::Bool(false)),
    // Remote settings (blocklists, certificate lists...): a dummy server, as Firefox's own
    // test harness does.
    (
        "services.settings.server",
        Pref::Str("data:,#remote-settings-dummy/v1"),
    ),
    (
        "security.remote_settings.crlite_filters.enabled",
        Pref::Bool(false),
    ),
    (
        "security.remote_settings.intermediates.enabled",
        Pref::Bool(false),
    ),
    // Captive portal and connectivity probes.
    ("network.captive-portal-service.enabled", Pref::Bool(false)),
    ("network.connectivity-service.enabled", Pref::Bool(false)),
    // Safe Browsing lists.
    ("browser.safebrowsing.malware.enabled", Pref::Bool(false)),
    ("browser.safebrowsing.phishing.enabled", Pref::Bool(false)),
    ("browser.safebrowsing.downloads.enabled", Pref::Bool(false)),
    (
        "browser.safebrowsing.downloads.remote.enabled",
        Pref::Bool(false),
    ),
    (
        "browser.safebrowsing.blockedURIs.enabled",
        Pref::Bool(false),
    ),
    ("browser.safebrowsing.passwords.enabled", Pref::Bool(false)),
    (
        "browser.safebrowsing.provider.mozilla.updateURL",
        Pref::Str(""),
    ),
    (
        "browser.safebrowsing.provider.google4.updateURL",
        Pref::Str(""),
    ),
    // Push, geolocation, region lookup, DNS over HTTPS, plugin downloads.
    ("dom.push.connection.enabled", Pref::Bool(false)),
    ("dom.push.serverURL", Pref::Str("")),
    ("geo.provider.network.url", Pref::Str("")),
    ("browser.region.network.url", Pref::Str("")),
    ("browser.region.update.enabled", Pref::Bool(false)),
    ("network.trr.mode", Pref::Int(5)),
    ("media.gmp-manager.updateEnabled", Pref::Bool(false)),
    ("media.gmp-gmpopenh264.enabled", Pref::Bool(false)),
    // Speculative connections and prefetching.
    ("network.dns.disablePrefetch", Pref::Bool(true)),
    ("network.prefetch-next", Pref::Bool(false)),
    ("network.http.speculative-parallel-limit", Pref::Int(0)),
    // A quiet, blank start: no new-tab page content, no default-browser check.
    ("browser.shell.checkDefaultBrowser", Pref::Bool(false)),
    ("browser.startup.page", Pref::Int(0)),
    ("browser.startup.homepage", Pref::Str("about:blank")),
    ("browser.newtabpage.enabled", Pref::Bool(false)),
    ("browser.aboutwelcome.enabled", Pref::Bool(false)),
    ("browser.topsites.contile.enabled", Pref::Bool(false)),
    (
        "browser.newtabpage.activity-stream.feeds.telemetry",
        Pref::Bool(false),
    ),
    (
        "browser.newtabpage.activity-stream.telemetry",
        Pref::Bool(false),
    ),
    (
        "browser.newtabpage.activity-stream.feeds.snippets",
        Pref::Bool(false),
    ),
    (
        "browser.newtabpage.activity-stream.feeds.section.topstories",
        Pref::Bool(false),
    ),
    // No password-save prompts over the page the agent drives.
    ("signon.rememberSignons", Pref::Bool(false)),
];

fn firefox_prefs() -> Map<String, Value> {
    FIREFOX_PREFS
        .iter()
        .map(|(name, value)| {
            let value = match *value {
                Pref::Bool(b) => json!(b),
                Pref::Int(i) => json!(i),
                Pref::Str(s) => json!(s),
            };
            ((*name).to_string(), value)
        })
        .collect()
}

/// The command-line flags Chromium gets: headless when asked, and the flags it needs to run as
/// root in a container on a closed network.
fn chrome_args(headless: bool) -> Vec<String> {
    let mut args = Vec::new();
    if headless {
        args.push("--headless".to_string());
    }
    args.extend(
        [
            // Chromium refuses to start as root without it, and containers rarely allow the
            // sandbox's namespaces; the agent only visits the Clockify admin UI.
            "--no-sandbox",
            "--disable-gpu",
            // /dev/shm is small in containers; Chromium crashes when it fills up.
            "--disable-dev-shm-usage",
            // No calls home: component updates, sync, field trials, first-run pages.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-default-apps",
            "--metrics-recording-only",
            "--password-store=basic",
        ]
        .map(String::from),
    );
    args.push(format!("--window-size={},{}", WINDOW_SIZE.0, WINDOW_SIZE.1));
    args
}

/// The new-session capabilities for `kind`: `browserName`, `pageLoadStrategy: normal` and the
/// options of that browser ONLY (`moz:firefoxOptions` or `goog:chromeOptions`, never both).
pub fn capabilities(kind: BrowserKind, headless: bool) -> Map<String, Value> {
    let mut caps = Map::new();
    caps.insert("pageLoadStrategy".into(), json!("normal"));
    match kind {
        BrowserKind::Firefox => {
            let mut args = Vec::new();
            if headless {
                args.push("-headless".to_string());
            }
            args.push(format!("--width={}", WINDOW_SIZE.0));
            args.push(format!("--height={}", WINDOW_SIZE.1));
            caps.insert("browserName".into(), json!("firefox"));
            caps.insert(
                "moz:firefoxOptions".into(),
                json!({ "args": args, "prefs": firefox_prefs() }),
            );
        }
        BrowserKind::Chrome => {
            let mut options = Map::new();
            options.insert("args".into(), json!(chrome_args(headless)));
            if Path::new(CHROMIUM_BINARY).is_file() {
                options.insert("binary".into(), json!(CHROMIUM_BINARY));
            }
            caps.insert("browserName".into(), json!("chrome"));
            caps.insert("goog:chromeOptions".into(), Value::Object(options));
        }
    }
    caps
}

/// How long [`connect`] waits for a new session. fantoccini's HTTP client has no timeout of its
/// own, and a Selenium Grid holds a new-session request until a slot is free and the browser has
/// started, or until its `--session-request-timeout` (300 s by default, checked every
/// `--session-request-timeout-period`, 10 s by default) passes. Waiting longer than that lets a
/// busy Grid answer first, with its own reason ("New session request timed out"), instead of the
/// agent giving up on a request that was still going to be served.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(330);

/// Opens a WebDriver session at `webdriver_url` (a local driver or a remote one such as Selenium
/// Grid) with `caps` (see [`capabilities`]), waiting at most [`CONNECT_TIMEOUT`].
pub async fn connect(
    webdriver_url: &str,
    caps: Map<String, Value>,
) -> Result<fantoccini::Client, DriverError> {
    connect_with_timeout(webdriver_url, caps, CONNECT_TIMEOUT).await
}

/// [`connect`] with a deadline of `timeout` for the new-session request (connection included).
pub async fn connect_with_timeout(
    webdriver_url: &str,
    caps: Map<String, Value>,
    timeout: Duration,
) -> Result<fantoccini::Client, DriverError> {
    let browser = caps
        .get("browserName")
        .and_then(Value::as_str)
        .unwrap_or("browser")
        .to_string();
    let mut builder = fantoccini::ClientBuilder::native();
    builder.capabilities(caps);
    match tokio::time::timeout(timeout, builder.connect(webdriver_url)).await {
        Ok(result) => result.map_err(|source| DriverError::Session {
            browser,
            url: webdriver_url.to_string(),
            source: Box::new(source),
        }),
        Err(_) => Err(DriverError::SessionTimeout {
            browser,
            url: webdriver_url.to_string(),
            waited: timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_firefox_is_default() {
        for kind in BrowserKind::ALL {
            assert_eq!(kind.to_string().parse::<BrowserKind>(), Ok(kind));
        }
        assert_eq!(BrowserKind::default(), BrowserKind::Firefox);
        assert_eq!("Chrome".parse::<BrowserKind>(), Ok(BrowserKind::Chrome));
        let err = "safari"
            .parse::<BrowserKind>()
            .expect_err("unknown browser");
        assert!(err.contains("safari") && err.contains("firefox"), "{err}");
    }

    #[test]
    fn firefox_capabilities_carry_only_firefox_options() {
        let caps = capabilities(BrowserKind::Firefox, true);
        assert_eq!(caps["browserName"], "firefox");
        assert_eq!(caps["pageLoadStrategy"], "normal");
        assert!(!caps.contains_key("goog:chromeOptions"), "{caps:?}");
        let args = caps["moz:firefoxOptions"]["args"]
            .as_array()
            .expect("args array");
        assert!(args.contains(&json!("-headless")), "{args:?}");
        assert!(args.contains(&json!("--width=1366")), "{args:?}");
        let prefs = &caps["moz:firefoxOptions"]["prefs"];
        assert_eq!(prefs["app.normandy.enabled"], false);
        assert_eq!(prefs["network.captive-portal-service.enabled"], false);
    }

    #[test]
    fn chrome_capabilities_carry_only_chrome_options() {
        let caps = capabilities(BrowserKind::Chrome, true);
        assert_eq!(caps["browserName"], "chrome");
        assert!(!caps.contains_key("moz:firefoxOptions"), "{caps:?}");
        let args = caps["goog:chromeOptions"]["args"]
            .as_array()
            .expect("args array");
        for flag in ["--headless", "--no-sandbox", "--window-size=1366,900"] {
            assert!(args.contains(&json!(flag)), "{flag} missing in {args:?}");
        }
    }

    #[test]
    fn headed_sessions_have_no_headless_flag() {
        let firefox = capabilities(BrowserKind::Firefox, false);
        let chrome = capabilities(BrowserKind::Chrome, false);
        assert!(!Value::Object(firefox).to_string().contains("-headless"));
        assert!(!Value::Object(chrome).to_string().contains("--headless"));
    }

    #[test]
    fn a_bad_explicit_path_names_install_deps() {
        let missing = Path::new("/nonexistent/geckodriver");
        let err = locate_driver(BrowserKind::Firefox, Some(missing)).expect_err("missing path");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/geckodriver"), "{text}");
        assert!(text.contains("scripts/install-deps"), "{text}");
        assert!(text.contains("firefox"), "{text}");
    }

    #[test]
    fn a_directory_is_not_a_driver() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = locate_driver(BrowserKind::Chrome, Some(dir.path())).expect_err("a directory");
        assert!(err.to_string().contains("chromedriver"), "{err}");
    }

    #[test]
    fn not_found_lists_the_folders_searched() {
        let err = DriverError::NotFound {
            kind: BrowserKind::Firefox,
            searched: vec![PathBuf::from("/root/.cargo/bin")],
        };
        let text = err.to_string();
        assert!(
            text.contains("geckodriver") && text.contains("PATH"),
            "{text}"
        );
        assert!(text.contains("/root/.cargo/bin"), "{text}");
        assert!(text.contains("scripts/install-deps"), "{text}");
    }

    #[tokio::test]
    async fn a_driver_that_exits_at_once_is_reported_with_its_output() {
        // `false` exits 1 whatever its arguments: spawn must fail with Exited, not hang.
        let path = locate_false();
        let err = DriverProcess::spawn(BrowserKind::Firefox, &path)
            .await
            .expect_err("`false` never becomes ready");
        assert!(matches!(err, DriverError::Exited { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
    }

    fn locate_false() -> PathBuf {
        ["/bin/false", "/usr/bin/false"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| is_executable(p))
            .expect("`false` is part of coreutils")
    }
}
