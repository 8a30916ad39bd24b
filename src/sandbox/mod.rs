//! The sandbox: a local mock of the Clockify admin web app for tests, demos and selector work.
//!
//! It owns the HTTP server (axum), the workspace state and its rules ([`model`]), seeds
//! ([`seed`]), sign-in (sessions, codes, the mailbox: [`auth`]) and the test endpoints and fault
//! injection under [`TEST_PREFIX`]. The pages themselves live in `fixtures/sandbox/` and are
//! embedded in the binary. See `fixtures/README.md` for what is real and what is synthetic.

pub mod auth;
pub mod model;
pub mod seed;
mod server;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use seed::{Seed, SeedError};

/// Path prefix of the test endpoints; nothing else lives under it.
pub const TEST_PREFIX: &str = "/__sandbox";

/// A UI generation the sandbox can render (from the label-history table of the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UiVersion {
    /// October 2025: status dropdown, "Send an invite email", no "Revoke invite".
    V2025_10,
    /// March 2026: filter bar with "Apply filter", "Resend an invite email", "Revoke invite".
    #[default]
    V2026_03,
    /// Synthetic: a future redesign for selector-drift tests. 2026-03 with "Add new member"
    /// renamed "Invite members" (test id `invite-members`) and "Deactivate" renamed
    /// "Deactivate user": the shipped catalog cannot find them.
    Drift,
}

impl UiVersion {
    /// Every generation, oldest first.
    pub const ALL: [UiVersion; 3] = [UiVersion::V2025_10, UiVersion::V2026_03, UiVersion::Drift];

    /// The generations modelled on real Clockify UIs (the shipped catalog must work on each).
    pub const REAL: [UiVersion; 2] = [UiVersion::V2025_10, UiVersion::V2026_03];

    /// The name used on the command line and in `/web/boot`.
    pub fn as_str(self) -> &'static str {
        match self {
            UiVersion::V2025_10 => "2025-10",
            UiVersion::V2026_03 => "2026-03",
            UiVersion::Drift => "drift",
        }
    }
}

impl fmt::Display for UiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UiVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UiVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = UiVersion::ALL.iter().map(|v| v.as_str()).collect();
                format!("unknown UI version '{s}' (known: {})", known.join(", "))
            })
    }
}

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The workspace to serve.
    pub seed: Seed,
    /// Which UI generation the pages render.
    pub ui_version: UiVersion,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: Seed::builtin(),
            ui_version: UiVersion::default(),
        }
    }
}

/// The sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Binding the address failed (port in use, no permission).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The seed does not build a workspace.
    #[error(transparent)]
    Seed(#[from] SeedError),
}

/// A sandbox serving in the background of the current tokio runtime. Dropping it stops it.
pub struct RunningSandbox {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn start(addr: SocketAddr, config: SandboxConfig) -> Result<Self, SandboxError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let app = server::router(server::AppState::new(config, addr)?);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        Ok(RunningSandbox {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Starts on 127.0.0.1 with a free port.
    pub async fn start_local(config: SandboxConfig) -> Result<Self, SandboxError> {
        Self::start(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, e.g. `http://127.0.0.1:4380`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for open connections to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the task ends (used by the `sandbox` command, which stops on Ctrl-C).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
