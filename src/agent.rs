//! Jobs: opens a browser session from a resolved configuration, signs in, and runs actions or the
//! read-only member listing on the Team page. The CLI builds an [`AgentConfig`] once, before any
//! work, and calls into here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::audit::Evidence;
use crate::browser::driver::{self, BrowserKind, DriverError, DriverProcess};
use crate::browser::query::Ui;
use crate::clockify::actions::{self, Action, Context, Outcome, Report};
use crate::clockify::signin::{self, SignInOptions, SignedIn};
use crate::clockify::{team, FlowError, MemberState};
use crate::selectors::Catalog;

/// Which browser and how to reach it.
#[derive(Debug, Clone)]
pub struct BrowserConfig {
    /// Firefox or Chrome.
    pub kind: BrowserKind,
    /// Headless (default) or visible.
    pub headless: bool,
    /// Driver binary, if not on PATH.
    pub driver_path: Option<PathBuf>,
    /// A running WebDriver (driver or Selenium Grid) instead of starting one.
    pub webdriver_url: Option<String>,
    /// Deadline of each wait for the page.
    pub timeout: Duration,
}

/// Everything a job needs, resolved from the command line and files before any browser starts.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Clockify base URL (its origin is the only one credentials are typed into).
    pub base_url: Url,
    /// Browser settings.
    pub browser: BrowserConfig,
    /// The selector catalog.
    pub catalog: Arc<Catalog>,
    /// How to sign in.
    pub sign_in: SignInOptions,
    /// Where evidence goes (`None`: nowhere).
    pub audit_dir: Option<PathBuf>,
    /// Locate everything, change nothing.
    pub dry_run: bool,
}

/// Why a job could not run. Each maps to one documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The browser or driver is unavailable (exit 3).
    #[error(transparent)]
    Browser(#[from] DriverError),
    /// A flow stopped (exit code by kind).
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// The evidence folder could not be created (exit 2).
    #[error("cannot create the evidence folder under {dir}")]
    Evidence {
        /// The audit folder.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl AgentError {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            AgentError::Browser(_) => crate::exit::BROWSER_UNAVAILABLE,
            AgentError::Flow(e) => e.exit_code(),
            AgentError::Evidence { .. } => crate::exit::USAGE,
        }
    }
}

/// A signed-in browser session. Dropping it stops the driver (and its browser).
pub struct Session {
    driver: Option<DriverProcess>,
    /// The page, through the catalog.
    pub ui: Ui,
    /// Who is signed in.
    pub signed_in: SignedIn,
    /// The workspace name the top bar shows.
    pub workspace: String,
    /// Evidence of this run.
    pub evidence: Evidence,
    /// How long the browser took to start (driver + new session).
    pub browser_start: Duration,
    /// How long signing in took.
    pub sign_in_time: Duration,
    dry_run: bool,
}

/// A short random id for a run.
pub fn new_run_id() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric
        .sample_string(&mut rand::rng(), 8)
        .to_lowercase()
}

impl Session {
    /// Starts (or connects to) the browser and signs in.
    pub async fn open(config: &AgentConfig) -> Result<Self, AgentError> {
        let started = Instant::now();
        let run_id = new_run_id();
        let evidence =
            Evidence::create(config.audit_dir.as_deref(), &run_id).map_err(|source| {
                AgentError::Evidence {
                    dir: config.audit_dir.clone().unwrap_or_default(),
                    source,
                }
            })?;
        let (driver, url) = match &config.browser.webdriver_url {
            Some(url) => (None, url.clone()),
            None => {
                let path = driver::locate_driver(
                    config.browser.kind,
                    config.browser.driver_path.as_deref(),
                )?;
                let process = DriverProcess::spawn(config.browser.kind, &path).await?;
                let url = process.url().to_string();
                (Some(process), url)
            }
        };
        let caps = driver::capabilities(config.browser.kind, config.browser.headless);
        let client = driver::connect(&url, caps).await?;
        let browser_start = started.elapsed();
        let ui = Ui::new(client, Arc::clone(&config.catalog)).with_timeout(config.browser.timeout);
        let sign_in_started = Instant::now();
        let signed_in = match signin::sign_in(&ui, &config.base_url, &config.sign_in).await {
            Ok(s) => s,
            Err(e) => {
                let _ = ui.client().clone().close().await;
                return Err(e.into());
            }
        };
        let workspace = match team::workspace_name(&ui).await {
            Ok(name) => name,
            Err(e) => {
                let _ = ui.client().clone().close().await;
                return Err(e.into());
            }
        };
        tracing::info!(
            "signed in to {workspace} as {} by {} in {:?}",
            signed_in.email,
            signed_in.method,
            sign_in_started.elapsed()
        );
        Ok(Session {
            driver,
            ui,
            signed_in,
            workspace,
            evidence,
            browser_start,
            sign_in_time: sign_in_started.elapsed(),
            dry_run: config.dry_run,
        })
    }

    /// Opens the Team page with every status shown.
    pub async fn open_team(&self) -> Result<(), FlowError> {
        team::open(&self.ui).await?;
        team::show_all_statuses(&self.ui).await
    }

    /// Runs actions in order; a flow error (UI mismatch, lost browser) stops the run and is
    /// returned with the reports finished so far.
    pub async fn run_actions(
        &mut self,
        actions: &[Action],
        mut on_report: impl FnMut(&Report),
    ) -> (Vec<Report>, Option<FlowError>) {
        let mut reports = Vec::new();
        if let Err(e) = self.open_team().await {
            return (reports, Some(e));
        }
        let mut ctx = Context {
            ui: &self.ui,
            signed_in: &self.signed_in.email,
            dry_run: self.dry_run,
            evidence: &mut self.evidence,
        };
        // Invitations of several addresses go together (one dialog for up to five).
        let invites: Vec<String> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Invite { email } => Some(email.clone()),
                _ => None,
            })
            .collect();
        if invites.len() > 1 && invites.len() == actions.len() {
            return match actions::invite_many(&mut ctx, &invites).await {
                Ok(done) => {
                    done.iter().for_each(&mut on_report);
                    (done, None)
                }
                Err(e) => (reports, Some(e)),
            };
        }
        for action in actions {
            match actions::run(&mut ctx, action).await {
                Ok(report) => {
                    on_report(&report);
                    reports.push(report);
                }
                Err(e) => return (reports, Some(e)),
            }
        }
        (reports, None)
    }

    /// Reads every member over all pages.
    pub async fn members(
        &self,
        progress: impl FnMut(usize),
    ) -> Result<Vec<MemberState>, FlowError> {
        self.open_team().await?;
        team::read_all(&self.ui, progress).await
    }

    /// Ends the browser session and stops the driver.
    pub async fn close(self) {
        let _ = self.ui.client().clone().close().await;
        if let Some(driver) = self.driver {
            driver.stop().await;
        }
    }
}

/// The exit code for finished reports: 0 when all verified (no-ops and dry runs included), else 1.
pub fn exit_code_for(reports: &[Report]) -> u8 {
    if reports.iter().all(|r| r.outcome != Outcome::Failed) {
        crate::exit::SUCCESS
    } else {
        crate::exit::ACTION_FAILED
    }
}
