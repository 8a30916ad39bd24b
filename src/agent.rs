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
    /// Longest wait for a new browser session (a Grid queues requests).
    pub connect_timeout: Duration,
    /// Accept invalid TLS certificates (`--insecure`; recorded in the evidence).
    pub insecure: bool,
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
    /// What the evidence records about the run.
    pub evidence: EvidenceOptions,
    /// Locate everything, change nothing.
    pub dry_run: bool,
}

/// What the evidence of a run records beyond the actions.
#[derive(Debug, Clone, Default)]
pub struct EvidenceOptions {
    /// Who ran it (`--actor`, else the CI's user, else the OS user).
    pub actor: String,
    /// The approving request or change number (`--ticket`).
    pub ticket: Option<String>,
    /// The tenant name from the tenants file.
    pub tenant: Option<String>,
    /// The command line, secrets removed.
    pub command: Vec<String>,
    /// The key to sign the manifest with, read and checked before the run.
    pub sign_key: Option<crate::audit::RunSigningKey>,
    /// Cover other members' rows in screenshots.
    pub mask_others: bool,
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
    ticket: Option<String>,
    mask_others: bool,
    sign_key: Option<crate::audit::RunSigningKey>,
    session_id: String,
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
        Self::open_serialized(config, None).await
    }

    /// Like [`Session::open`]; with `sign_in_lock`, sessions start their browsers at once but
    /// sign in one at a time (a new emailed code replaces the previous one, so concurrent
    /// sign-ins to one account would take each other's codes).
    pub async fn open_serialized(
        config: &AgentConfig,
        sign_in_lock: Option<&tokio::sync::Mutex<()>>,
    ) -> Result<Self, AgentError> {
        let started = Instant::now();
        let run_id = new_run_id();
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
        let mut caps = driver::capabilities(config.browser.kind, config.browser.headless);
        if config.browser.insecure {
            caps.insert("acceptInsecureCerts".into(), serde_json::Value::Bool(true));
        }
        let client =
            driver::connect_with_timeout(&url, caps, config.browser.connect_timeout).await?;
        let browser_start = started.elapsed();
        let mut evidence = match &config.audit_dir {
            Some(dir) => {
                let info = run_info(config, &run_id, &client);
                match Evidence::create(dir, &info) {
                    Ok(e) => e,
                    Err(source) => {
                        let _ = client.close().await;
                        return Err(AgentError::Evidence {
                            dir: dir.clone(),
                            source,
                        });
                    }
                }
            }
            None => Evidence::disabled(),
        };
        let ui = Ui::new(client, Arc::clone(&config.catalog)).with_timeout(config.browser.timeout);
        let session_id = register_client(ui.client()).await;
        let guard = match sign_in_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let sign_in_started = Instant::now();
        let signed_in = signin::sign_in(&ui, &config.base_url, &config.sign_in).await;
        drop(guard);
        let signed_in = match signed_in {
            Ok(s) => s,
            Err(e) => {
                let data = serde_json::json!({
                    "action": "sign-in",
                    "target": config.sign_in.email,
                    "error": e.to_string(),
                    "url": crate::audit::redact_url(config.base_url.as_str()),
                });
                let _ = evidence.event("failure", data);
                finish_evidence(evidence, e.exit_code(), None);
                unregister_client(&session_id);
                let _ = ui.client().clone().close().await;
                return Err(e.into());
            }
        };
        let _ = evidence.event(
            "signed_in",
            serde_json::json!({"user": signed_in.email, "method": signed_in.method}),
        );
        let _ = evidence.event(
            "step",
            serde_json::json!({
                "what": "session ready",
                "browser_start_ms": browser_start.as_millis() as u64,
                "sign_in_ms": sign_in_started.elapsed().as_millis() as u64,
            }),
        );
        let workspace = match team::workspace_name(&ui).await {
            Ok(name) => name,
            Err(e) => {
                unregister_client(&session_id);
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
            ticket: config.evidence.ticket.clone(),
            mask_others: config.evidence.mask_others,
            sign_key: config.evidence.sign_key.clone(),
            session_id,
        })
    }

    /// What the actions need from this session: the page, the signed-in account, the run's
    /// options and its evidence.
    fn context(&mut self) -> Context<'_> {
        Context {
            ui: &self.ui,
            signed_in: &self.signed_in.email,
            dry_run: self.dry_run,
            evidence: &mut self.evidence,
            ticket: self.ticket.as_deref(),
            mask_others: self.mask_others,
        }
    }

    /// Opens the Team page with every status shown.
    pub async fn open_team(&self) -> Result<(), FlowError> {
        team::open(&self.ui).await?;
        team::show_all_statuses(&self.ui).await
    }

    /// Runs actions in order, each retried and recovered like a batch item (a change the page
    /// did not confirm is tried again after re-reading; a lost browser or an expired session is
    /// replaced where `config` allows). An error that stops the run (UI mismatch, a failed
    /// recovery) is returned with the reports finished so far.
    pub async fn run_actions(
        &mut self,
        config: &AgentConfig,
        actions: &[Action],
        mut on_report: impl FnMut(&Report),
    ) -> (Vec<Report>, Option<AgentError>) {
        let mut reports = Vec::new();
        if let Err(e) = self.open_team().await {
            return (reports, Some(e.into()));
        }
        let mut ctx = self.context();
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
                Err(e) => (reports, Some(e.into())),
            };
        }
        let mut recoveries = 0;
        for action in actions {
            match run_recovering(self, config, action, &mut recoveries).await {
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

    /// Ends the browser session, stops the driver, and closes the evidence with the run's exit
    /// code (the `run_end` event, the manifest and, with a key, its signature).
    pub async fn close(self, exit_code: u8) {
        unregister_client(&self.session_id);
        let _ = self.ui.client().clone().close().await;
        if let Some(driver) = self.driver {
            driver.stop().await;
        }
        finish_evidence(self.evidence, exit_code, self.sign_key.as_ref());
    }

    /// The folder of this run's evidence, if kept.
    pub fn evidence_dir(&self) -> Option<PathBuf> {
        self.evidence.dir().map(PathBuf::from)
    }
}

/// Sessions open right now, so an interrupted run can end them on a remote WebDriver (a local
/// driver dies with its process group; a Grid keeps an abandoned session until its own timeout).
fn open_clients() -> &'static std::sync::Mutex<Vec<(String, fantoccini::Client)>> {
    static OPEN: std::sync::OnceLock<std::sync::Mutex<Vec<(String, fantoccini::Client)>>> =
        std::sync::OnceLock::new();
    OPEN.get_or_init(|| std::sync::Mutex::new(Vec::new()))
}

/// Registers an open session; returns its id for [`unregister_client`].
async fn register_client(client: &fantoccini::Client) -> String {
    let id = client.session_id().await.ok().flatten().unwrap_or_default();
    if let Ok(mut open) = open_clients().lock() {
        open.push((id.clone(), client.clone()));
    }
    id
}

fn unregister_client(id: &str) {
    if let Ok(mut open) = open_clients().lock() {
        open.retain(|(open_id, _)| open_id != id);
    }
}

/// Ends every open session (after Ctrl-C), waiting at most `timeout` in all.
pub async fn close_open_sessions(timeout: Duration) {
    let clients: Vec<fantoccini::Client> = match open_clients().lock() {
        Ok(mut open) => open.drain(..).map(|(_, c)| c).collect(),
        Err(_) => return,
    };
    let closing = futures::future::join_all(clients.into_iter().map(|c| c.close()));
    let _ = tokio::time::timeout(timeout, closing).await;
}

/// Writes `run_end` and the manifest; evidence problems are reported, not fatal.
fn finish_evidence(
    mut evidence: Evidence,
    exit_code: u8,
    sign_key: Option<&crate::audit::RunSigningKey>,
) {
    if !evidence.is_enabled() {
        return;
    }
    let summary = serde_json::json!({"exit_code": exit_code});
    if let Err(e) = evidence.event("run_end", summary.clone()) {
        tracing::error!("cannot record the end of the run: {e}");
    }
    if let Err(e) = evidence.finish(serde_json::Value::Null, sign_key) {
        tracing::error!("cannot write the evidence manifest: {e}");
        eprintln!("warning: the evidence manifest could not be written: {e}");
    }
}

/// The facts of a run for its `run_start` event.
fn run_info(
    config: &AgentConfig,
    run_id: &str,
    client: &fantoccini::Client,
) -> crate::audit::RunInfo {
    let caps = client.capabilities();
    let cap = |key: &str| {
        caps.and_then(|c| c.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let driver_version = cap("moz:geckodriverVersion").or_else(|| {
        caps.and_then(|c| c.get("chrome"))
            .and_then(|v| v.get("chromedriverVersion"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    });
    crate::audit::RunInfo {
        run_id: run_id.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        catalog_version: config.catalog.version().to_string(),
        catalog_sha256: config.catalog.sha256().to_string(),
        tenant: config.evidence.tenant.clone(),
        base_url: crate::audit::redact_url(config.base_url.as_str()),
        browser: cap("browserName").unwrap_or_else(|| config.browser.kind.to_string()),
        browser_version: cap("browserVersion"),
        driver_version,
        actor: config.evidence.actor.clone(),
        ticket: config.evidence.ticket.clone(),
        command: config.evidence.command.clone(),
        dry_run: config.dry_run,
        insecure: config.browser.insecure,
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

/// What happened to one plan item, as the batch runner reports it.
#[derive(Debug, Clone)]
pub enum ItemEvent {
    /// About to act on the item (index into the plan's items).
    Started(usize),
    /// Finished earlier (journal of a resumed run): skipped without acting.
    AlreadyDone(usize),
    /// Finished now.
    Finished(usize, Box<Report>),
}

/// The end of a batch.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Reports of the items done in this run, with their plan index.
    pub reports: Vec<(usize, Report)>,
    /// Items done in an earlier run (resume).
    pub done_before: Vec<usize>,
    /// Items not done because the run stopped.
    pub not_done: Vec<usize>,
    /// Why the run stopped early, if it did (exit code by kind).
    pub error: Option<AgentError>,
}

impl BatchResult {
    /// The exit code: the stopping error's, else 1 if any item failed, else 0.
    pub fn exit_code(&self) -> u8 {
        match &self.error {
            Some(e) => e.exit_code(),
            None if self
                .reports
                .iter()
                .any(|(_, r)| r.outcome == Outcome::Failed) =>
            {
                crate::exit::ACTION_FAILED
            }
            None => crate::exit::SUCCESS,
        }
    }
}

/// Shared progress of a batch: the journal and the caller's event sink, behind one lock so
/// parallel workers write whole lines.
struct BatchShared<'a, F: FnMut(ItemEvent) + Send> {
    journal: Option<&'a mut crate::jobs::Journal>,
    on_event: F,
}

impl<F: FnMut(ItemEvent) + Send> BatchShared<'_, F> {
    fn on_event_started(&mut self, index: usize) {
        (self.on_event)(ItemEvent::Started(index));
    }
}

/// Attempts per item when the page did not confirm a change (an error toast, a state that did
/// not change); each attempt re-reads the member first, so nothing is done twice.
const ATTEMPTS_PER_ITEM: u32 = 3;

/// Times a lane may recover (new browser session, or a fresh sign-in) before it gives up.
const MAX_RECOVERIES: u32 = 2;

async fn journal_item<F: FnMut(ItemEvent) + Send>(
    shared: &tokio::sync::Mutex<BatchShared<'_, F>>,
    item: &crate::jobs::PlanItem,
    state: crate::jobs::ItemState,
    outcome: Option<&str>,
) {
    let mut s = shared.lock().await;
    if let Some(journal) = s.journal.as_deref_mut() {
        if let Err(e) = journal.record(&item.key(), item.line, state, outcome) {
            tracing::error!("cannot write the journal: {e}");
        }
    }
}

/// Runs one item: up to [`ATTEMPTS_PER_ITEM`] attempts while the failure is retryable.
async fn run_item(session: &mut Session, action: &Action) -> Result<Report, FlowError> {
    let mut attempt = 1;
    loop {
        let mut ctx = session.context();
        let mut report = actions::run(&mut ctx, action).await?;
        if !report.retryable || attempt >= ATTEMPTS_PER_ITEM {
            if attempt > 1 {
                report.message = format!(
                    "{} (attempt {attempt} of {ATTEMPTS_PER_ITEM})",
                    report.message
                );
            }
            return Ok(report);
        }
        tracing::warn!(
            "{} {}: {}; trying again after re-reading (attempt {} of {ATTEMPTS_PER_ITEM})",
            report.action,
            report.email,
            report.message,
            attempt + 1
        );
        attempt += 1;
        // The failed attempt may have left the list filtered or a toast up: start from the page.
        session.open_team().await?;
    }
}

/// Whether the page is a sign-in page (the session ended under us).
async fn on_sign_in_page(ui: &Ui) -> bool {
    match ui.current_url().await {
        Ok(url) => url.path().ends_with("/login") || url.path().ends_with("/login-owner"),
        Err(_) => false,
    }
}

/// What [`recover`] managed.
enum Recovery {
    /// The session works again: retry the item.
    Recovered,
    /// Not a failure recovery can help with.
    NotApplicable,
    /// Recovery was tried and failed.
    Failed(AgentError),
}

/// Tries to continue after `error`: a new browser session when the old one died, a fresh
/// sign-in when the session expired and a code command or password is configured.
async fn recover(session: &mut Session, config: &AgentConfig, error: &FlowError) -> Recovery {
    match try_recover(session, config, error).await {
        Ok(true) => Recovery::Recovered,
        Ok(false) => Recovery::NotApplicable,
        Err(e) => Recovery::Failed(e),
    }
}

async fn try_recover(
    session: &mut Session,
    config: &AgentConfig,
    error: &FlowError,
) -> Result<bool, AgentError> {
    if let FlowError::Ui(e) = error {
        if e.is_session_lost() {
            tracing::warn!("the browser session was lost ({e}); starting a new one");
            let fresh = Session::open(config).await?;
            let old = std::mem::replace(session, fresh);
            old.close(crate::exit::BROWSER_UNAVAILABLE).await;
            session.open_team().await?;
            return Ok(true);
        }
    }
    if on_sign_in_page(&session.ui).await {
        let options = &config.sign_in;
        let can_renew = options.email.is_some()
            && (options.otp_command.is_some() || options.password.is_some());
        if !can_renew {
            return Err(FlowError::SignIn(
                "the session expired in the middle of the batch and no code command or password \
                 is configured to sign in again"
                    .into(),
            )
            .into());
        }
        tracing::warn!("the session expired; signing in again");
        let mut fresh = options.clone();
        fresh.fresh = true;
        let signed_in = signin::sign_in(&session.ui, &config.base_url, &fresh).await?;
        let _ = session.evidence.event(
            "signed_in",
            serde_json::json!({"user": signed_in.email, "method": signed_in.method, "renewed": true}),
        );
        session.signed_in = signed_in;
        session.open_team().await?;
        return Ok(true);
    }
    Ok(false)
}

/// Runs one action with retries ([`run_item`]), recovering from a lost browser or an expired
/// session at most [`MAX_RECOVERIES`] times per session (counted in `recoveries`).
async fn run_recovering(
    session: &mut Session,
    config: &AgentConfig,
    action: &Action,
    recoveries: &mut u32,
) -> Result<Report, AgentError> {
    let mut interrupted = false;
    loop {
        let error = match run_item(session, action).await {
            Ok(mut report) => {
                if interrupted && report.outcome == Outcome::NoOp {
                    // The attempt that was cut off may have made the change before the session
                    // was lost; the state read now is the truth, and the report says how.
                    report.message = format!(
                        "{} (read after recovering; the interrupted attempt may have made this \
                         change)",
                        report.message
                    );
                }
                return Ok(report);
            }
            Err(error) => error,
        };
        if *recoveries < MAX_RECOVERIES {
            match recover(session, config, &error).await {
                Recovery::Recovered => {
                    *recoveries += 1;
                    interrupted = true;
                    continue;
                }
                Recovery::NotApplicable => {}
                Recovery::Failed(other) => return Err(other),
            }
        }
        return Err(error.into());
    }
}

/// Runs plan items `indices` (in order) in one signed-in session, journaling each, recovering
/// from a lost browser or an expired session where it can.
async fn run_items<F: FnMut(ItemEvent) + Send>(
    session: &mut Session,
    config: &AgentConfig,
    plan: &crate::jobs::Plan,
    indices: &[usize],
    shared: &tokio::sync::Mutex<BatchShared<'_, F>>,
) -> (Vec<(usize, Report)>, Vec<usize>, Option<AgentError>) {
    let mut reports = Vec::new();
    let mut recoveries = 0;
    if let Err(e) = session.open_team().await {
        return (reports, indices.to_vec(), Some(e.into()));
    }
    let mut position = 0;
    while position < indices.len() {
        let index = indices[position];
        let item = &plan.items[index];
        journal_item(shared, item, crate::jobs::ItemState::Started, None).await;
        shared.lock().await.on_event_started(index);
        match run_recovering(session, config, &item.action, &mut recoveries).await {
            Ok(report) => {
                let state = if report.outcome == Outcome::Failed {
                    crate::jobs::ItemState::Failed
                } else {
                    crate::jobs::ItemState::Done
                };
                let outcome = serde_json::to_value(report.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string));
                journal_item(shared, item, state, outcome.as_deref()).await;
                (shared.lock().await.on_event)(ItemEvent::Finished(
                    index,
                    Box::new(report.clone()),
                ));
                reports.push((index, report));
                position += 1;
            }
            Err(error) => return (reports, indices[position..].to_vec(), Some(error)),
        }
    }
    (reports, Vec::new(), None)
}

/// Splits plan items over `workers` lanes so that every item of one email goes to the same lane,
/// in plan order: no two sessions ever act on the same member.
pub fn lanes(plan: &crate::jobs::Plan, indices: &[usize], workers: usize) -> Vec<Vec<usize>> {
    let workers = workers.max(1);
    let mut lane_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut lanes = vec![Vec::new(); workers];
    let mut next = 0;
    for &index in indices {
        let email = plan.items[index].action.email();
        let lane = *lane_of.entry(email).or_insert_with(|| {
            let l = next % workers;
            next += 1;
            l
        });
        lanes[lane].push(index);
    }
    lanes.retain(|l| !l.is_empty());
    lanes
}

/// Runs a plan: skips what the journal says is done, then runs the rest in `parallel` signed-in
/// sessions (lanes by email, see [`lanes`]); `session` is used for the first lane when given.
pub async fn run_plan<F: FnMut(ItemEvent) + Send>(
    config: &AgentConfig,
    session: Option<&mut Session>,
    plan: &crate::jobs::Plan,
    journal: Option<&mut crate::jobs::Journal>,
    resume: Option<&crate::jobs::ResumeState>,
    parallel: usize,
    mut on_event: F,
) -> BatchResult {
    let mut result = BatchResult::default();
    let mut todo = Vec::new();
    for (index, item) in plan.items.iter().enumerate() {
        if resume.is_some_and(|r| r.is_done(&item.key())) {
            on_event(ItemEvent::AlreadyDone(index));
            result.done_before.push(index);
        } else {
            todo.push(index);
        }
    }
    if todo.is_empty() {
        return result;
    }
    let shared = tokio::sync::Mutex::new(BatchShared { journal, on_event });
    let sign_in_lock = tokio::sync::Mutex::new(());
    let lanes = lanes(plan, &todo, parallel);
    let mut given = session;
    let mut futures = Vec::new();
    for (n, lane) in lanes.iter().enumerate() {
        let reuse = if n == 0 { given.take() } else { None };
        let shared = &shared;
        let sign_in_lock = &sign_in_lock;
        futures.push(async move {
            match reuse {
                Some(session) => run_items(session, config, plan, lane, shared).await,
                None => match Session::open_serialized(config, Some(sign_in_lock)).await {
                    Ok(mut session) => {
                        let out = run_items(&mut session, config, plan, lane, shared).await;
                        let code = match &out.2 {
                            Some(e) => e.exit_code(),
                            None => exit_code_for(
                                &out.0.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
                            ),
                        };
                        session.close(code).await;
                        out
                    }
                    Err(e) => (Vec::new(), lane.clone(), Some(e)),
                },
            }
        });
    }
    for (reports, not_done, error) in futures::future::join_all(futures).await {
        result.reports.extend(reports);
        result.not_done.extend(not_done);
        if result.error.is_none() {
            result.error = error;
        }
    }
    result.reports.sort_by_key(|(i, _)| *i);
    result.not_done.sort_unstable();
    result
}
