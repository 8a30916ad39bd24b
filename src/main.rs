//! The `clockify-ui-agent` binary: parses arguments, resolves them into one configuration before
//! any work (bad input exits 2 before a browser starts), runs the command, and maps errors to the
//! documented exit codes (`clockify_ui_agent::exit`), printing the whole error chain.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use clockify_ui_agent::agent::{self, AgentConfig, BrowserConfig, EvidenceOptions, Session};
use clockify_ui_agent::clockify::actions::{Action, Outcome, Report, TargetRole};
use clockify_ui_agent::clockify::signin::{Secret, SignInOptions};
use clockify_ui_agent::clockify::{MemberState, Status, REQUIRED_ELEMENTS};
use clockify_ui_agent::config;
use clockify_ui_agent::email::is_valid_email;
use clockify_ui_agent::exit;
use clockify_ui_agent::jobs;
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion, TEST_PREFIX};
use clockify_ui_agent::selectors::Catalog;

mod cli;

use cli::{
    AuditCommand, Cli, Command, FormatArg, GlobalArgs, RoleArg, SandboxArgs, SandboxCodeArgs,
    SelectorsCommand, StatusArg,
};

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    fn new(code: u8, error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code,
            error: error.into(),
        }
    }

    fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self::new(exit::USAGE, error)
    }
}

impl From<agent::AgentError> for Failure {
    fn from(e: agent::AgentError) -> Self {
        Failure::new(e.exit_code(), e)
    }
}

impl From<clockify_ui_agent::clockify::FlowError> for Failure {
    fn from(e: clockify_ui_agent::clockify::FlowError) -> Self {
        Failure::new(e.exit_code(), e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    // Several tenants: this process only validates and supervises one run per tenant, and
    // handles Ctrl-C itself (passing it on to those runs, which stop and record it).
    let outcome = if several_tenants(&cli.global) {
        runtime.block_on(tenants::run(cli))
    } else {
        runtime.block_on(single(cli))
    };
    // Dropping the runtime drops the running job, and with it the driver and its browser.
    drop(runtime);
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

/// A run for one tenant (or none): the command, stopped by Ctrl-C.
async fn single(cli: Cli) -> Result<u8, Failure> {
    let interrupted = tokio::select! {
        result = run(cli) => return result,
        _ = tokio::signal::ctrl_c() => Failure::new(exit::INTERRUPTED, anyhow::anyhow!("interrupted")),
    };
    // The job is dropped here, and with it local drivers and their browsers; sessions on a
    // remote WebDriver (a Grid) are ended explicitly, or they would hold their slot.
    agent::close_open_sessions(Duration::from_secs(5)).await;
    Err(interrupted)
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let global = cli.global;
    match cli.command {
        Command::Sandbox(args) => sandbox(args).await.map(|()| exit::SUCCESS),
        Command::SandboxCode(args) => sandbox_code(args).await.map(|()| exit::SUCCESS),
        Command::Demo { ui_version } => demo(&global, ui_version).await,
        Command::Selectors(SelectorsCommand::Lint) => selectors_lint(&global),
        Command::Selectors(SelectorsCommand::Check) => selectors_check(&global).await,
        Command::Audit(command) => audit_command(command),
        Command::Login => {
            let mut config = resolve(&global)?;
            if config.sign_in.session_file.is_none() {
                return Err(Failure::usage(anyhow::anyhow!(
                    "login needs --session-file FILE (or CLOCKIFY_SESSION_FILE) to save the session in"
                )));
            }
            config.sign_in.fresh = true;
            let session = Session::open(&config).await?;
            let file = config.sign_in.session_file.clone().unwrap_or_default();
            println!(
                "signed in as {} ({}); session saved to {} (mode 0600)",
                session.signed_in.email,
                session.signed_in.method,
                file.display()
            );
            session.close(exit::SUCCESS).await;
            Ok(exit::SUCCESS)
        }
        Command::Apply {
            plan,
            resume,
            parallel,
        } => apply(&global, plan, resume, parallel).await,
        Command::Sync {
            desired,
            deactivate_missing,
            protect,
            max_deactivate,
            parallel,
        } => {
            let options = SyncRequest {
                desired,
                deactivate_missing,
                protect,
                max_deactivate,
                parallel,
            };
            sync(&global, options).await
        }
        Command::Members { status, format } => {
            let config = resolve(&global)?;
            members(&config, status, format).await
        }
        command => {
            let actions = actions_of(command)?;
            let config = resolve(&global)?;
            run_actions(&config, &actions, global.json).await
        }
    }
}

/// Turns an action command into validated actions (exit 2 before any browser on bad input).
fn actions_of(command: Command) -> Result<Vec<Action>, Failure> {
    let email = |raw: &str| -> Result<String, Failure> {
        let email = raw.trim().to_lowercase();
        if is_valid_email(&email) {
            Ok(email)
        } else {
            Err(Failure::usage(anyhow::anyhow!(
                "'{}' is not a valid email address",
                clockify_ui_agent::email::printable(raw)
            )))
        }
    };
    Ok(match command {
        Command::Invite { emails } => {
            let mut seen = Vec::new();
            for raw in &emails {
                let e = email(raw)?;
                if !seen.contains(&e) {
                    seen.push(e);
                }
            }
            seen.into_iter()
                .map(|email| Action::Invite { email })
                .collect()
        }
        Command::SetRole {
            email: raw,
            role,
            manages,
            projects,
        } => {
            let role = match role {
                RoleArg::Admin => TargetRole::Admin,
                RoleArg::TeamManager => TargetRole::TeamManager,
                RoleArg::ProjectManager => TargetRole::ProjectManager,
                RoleArg::Regular => TargetRole::Regular,
            };
            if role == TargetRole::TeamManager && manages.is_empty() {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--role team-manager needs at least one --manages EMAIL or --manages group:NAME"
                )));
            }
            if role == TargetRole::ProjectManager && projects.is_empty() {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--role project-manager needs at least one --projects NAME"
                )));
            }
            if role != TargetRole::TeamManager && !manages.is_empty() {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--manages only goes with --role team-manager"
                )));
            }
            if role != TargetRole::ProjectManager && !projects.is_empty() {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--projects only goes with --role project-manager"
                )));
            }
            let mut scope = Vec::new();
            for entry in &manages {
                match entry.strip_prefix("group:") {
                    Some(group) if !group.trim().is_empty() => scope.push(entry.trim().to_string()),
                    Some(_) => {
                        return Err(Failure::usage(anyhow::anyhow!(
                            "--manages group: needs a group name"
                        )))
                    }
                    None => scope.push(email(entry)?),
                }
            }
            if projects.iter().any(|p| p.trim().is_empty()) {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--projects needs a project name"
                )));
            }
            vec![Action::SetRole {
                email: email(&raw)?,
                role,
                manages: scope,
                projects: projects.iter().map(|p| p.trim().to_string()).collect(),
            }]
        }
        Command::Deactivate { email: raw } => vec![Action::Deactivate {
            email: email(&raw)?,
        }],
        Command::Reactivate { email: raw } => vec![Action::Reactivate {
            email: email(&raw)?,
        }],
        Command::ResendInvite { email: raw } => vec![Action::ResendInvite {
            email: email(&raw)?,
        }],
        Command::RevokeInvite { email: raw } => vec![Action::RevokeInvite {
            email: email(&raw)?,
        }],
        other => {
            return Err(Failure::usage(anyhow::anyhow!(
                "not an action command: {other:?}"
            )))
        }
    })
}

/// An http(s) URL with a host and no credentials in it (a password in a command line or a
/// tenants file would land in process lists and evidence).
fn http_url(text: &str, what: &str) -> Result<url::Url, Failure> {
    let shown = clockify_ui_agent::email::printable(text);
    let url = url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| Failure::usage(anyhow::anyhow!("{what} '{shown}' is not an http(s) URL")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{what} must not carry a user name or password"
        )));
    }
    Ok(url)
}

/// Who runs the agent: `--actor`, else the CI system's user, else the OS user.
fn actor(global: &GlobalArgs) -> String {
    if let Some(a) = &global.actor {
        return a.clone();
    }
    for var in [
        "GITHUB_ACTOR",
        "GITLAB_USER_LOGIN",
        "BUILD_REQUESTEDFOR",
        "BUILDKITE_BUILD_CREATOR",
        "USER",
        "LOGNAME",
    ] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return if var == "USER" || var == "LOGNAME" {
                    v
                } else {
                    format!("{v} (from {var})")
                };
            }
        }
    }
    "unknown".into()
}

/// The command line for the evidence. Passwords are never arguments; the code command may carry
/// a mail API key, so its value is replaced.
fn redacted_command_line() -> Vec<String> {
    let mut out = Vec::new();
    let mut hide_next = false;
    for arg in std::env::args() {
        if hide_next {
            out.push("<redacted>".into());
            hide_next = false;
        } else if arg == "--otp-command" {
            out.push(arg);
            hide_next = true;
        } else if arg.starts_with("--otp-command=") {
            out.push("--otp-command=<redacted>".into());
        } else {
            out.push(arg);
        }
    }
    out
}

fn audit_command(command: AuditCommand) -> Result<u8, Failure> {
    use clockify_ui_agent::audit;
    match command {
        AuditCommand::Verify { dir, pubkey } => {
            let report = audit::verify(&dir, pubkey.as_deref()).map_err(Failure::usage)?;
            println!("{}", report.summary());
            Ok(if report.ok() {
                exit::SUCCESS
            } else {
                exit::ACTION_FAILED
            })
        }
        AuditCommand::Report { dirs, out } => {
            let (html, csv) = audit::report(&dirs, &out).map_err(Failure::usage)?;
            println!("report: {}", html.display());
            println!("index:  {}", csv.display());
            Ok(exit::SUCCESS)
        }
        AuditCommand::Keygen { private, public } => {
            audit::generate_keypair(&private, &public).map_err(Failure::usage)?;
            println!(
                "private key (keep it secret, mode 0600): {}",
                private.display()
            );
            println!(
                "public key (for audit verify --pubkey): {}",
                public.display()
            );
            Ok(exit::SUCCESS)
        }
    }
}

/// Loads the catalog the options name (built-in, `--selectors DIR`, overrides).
fn load_catalog(
    global: &GlobalArgs,
    locale: &str,
    overrides: Option<PathBuf>,
) -> Result<Catalog, Failure> {
    let catalog = match &global.selectors {
        Some(dir) => Catalog::from_dir(dir, locale),
        None => Catalog::builtin(locale),
    }
    .map_err(Failure::usage)?;
    match global.selector_overrides.clone().or(overrides) {
        Some(file) => catalog.with_overrides(&file).map_err(Failure::usage),
        None => Ok(catalog),
    }
}

async fn selectors_check(global: &GlobalArgs) -> Result<u8, Failure> {
    use clockify_ui_agent::clockify::check;
    let config = resolve(global)?;
    let session = Session::open(&config).await?;
    let checks = check::check_catalog(&session.ui, &config.base_url).await;
    let code = match &checks {
        Ok(c) => check::exit_code(c),
        Err(e) => e.exit_code(),
    };
    session.close(code).await;
    let checks = checks?;
    if global.json {
        for c in &checks {
            if let Ok(line) = serde_json::to_string(c) {
                println!("{line}");
            }
        }
    } else {
        print!("{}", check::render_table(&checks));
    }
    Ok(code)
}

fn selectors_lint(global: &GlobalArgs) -> Result<u8, Failure> {
    let catalog = load_catalog(global, &global.locale, None)?;
    let findings = clockify_ui_agent::selectors::lint::lint(&catalog, REQUIRED_ELEMENTS);
    let mut out = std::io::stdout().lock();
    if global.json {
        for f in &findings {
            if let Ok(line) = serde_json::to_string(f) {
                let _ = writeln!(out, "{line}");
            }
        }
    } else {
        for f in &findings {
            let at = f
                .candidate
                .map(|i| format!(".candidates[{i}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{} {:<20} {}{at} ({}): {}",
                f.rule, f.name, f.element, f.file, f.message
            );
        }
        let _ = writeln!(
            out,
            "catalog {} ({} elements): {} finding(s)",
            catalog.version(),
            catalog.elements().count(),
            findings.len()
        );
    }
    Ok(if findings.is_empty() {
        exit::SUCCESS
    } else {
        exit::ACTION_FAILED
    })
}

/// Whether the options select several tenants (`--all-tenants`, or more than one `--tenant`):
/// the command then runs once per tenant (see the `tenants` module).
fn several_tenants(global: &GlobalArgs) -> bool {
    let distinct: std::collections::BTreeSet<&String> = global.tenant.iter().collect();
    global.only_tenant.is_none() && (global.all_tenants || distinct.len() > 1)
}

/// The tenants the options select, in order: every tenant of `--config` with `--all-tenants`,
/// else the `--tenant` names (repeated or comma-separated), each once. Empty without `--config`.
fn selected_tenants(global: &GlobalArgs) -> Result<Vec<String>, Failure> {
    let Some(file) = &global.config else {
        return Ok(Vec::new());
    };
    if global.all_tenants {
        return config::tenant_names(file).map_err(Failure::usage);
    }
    let mut names: Vec<String> = Vec::new();
    for name in &global.tenant {
        if name.trim().is_empty() {
            return Err(Failure::usage(anyhow::anyhow!(
                "--tenant needs a tenant name (an empty entry in a comma-separated list?)"
            )));
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if names.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "--config FILE needs --tenant NAME (repeat it for several) or --all-tenants"
        )));
    }
    Ok(names)
}

/// The one tenant a single run works for (`None` without `--config`).
fn the_tenant(global: &GlobalArgs) -> Result<Option<String>, Failure> {
    let names = selected_tenants(global)?;
    match &global.only_tenant {
        Some(one) if names.contains(one) => Ok(Some(one.clone())),
        Some(one) => Err(Failure::usage(anyhow::anyhow!(
            "--only-tenant '{}' is not one of the tenants selected",
            clockify_ui_agent::email::printable(one)
        ))),
        None if names.len() > 1 => Err(Failure::usage(anyhow::anyhow!(
            "this command works on one tenant: give a single --tenant NAME"
        ))),
        None => Ok(names.into_iter().next()),
    }
}

/// Resolves options, the tenants file, credentials and the catalog into one configuration.
fn resolve(global: &GlobalArgs) -> Result<AgentConfig, Failure> {
    let name = the_tenant(global)?;
    resolve_for(global, name.as_deref())
}

/// [`resolve`] for tenant `name` of `--config` (or no tenant).
fn resolve_for(global: &GlobalArgs, name: Option<&str>) -> Result<AgentConfig, Failure> {
    let tenant = match (&global.config, name) {
        (Some(file), Some(name)) => Some(config::load_tenant(file, name).map_err(Failure::usage)?),
        _ => None,
    };
    let tenant = tenant.unwrap_or_default();
    let base_url = match (&global.base_url, &global.config, name) {
        (Some(base), _, _) => http_url(base, "the Clockify base URL")?,
        // A bad address from the tenants file is reported where it is to be fixed.
        (None, Some(file), Some(name)) => http_url(
            &tenant.base_url,
            &format!(
                "{}: tenant \"{}\": base_url:",
                clockify_ui_agent::email::printable(&file.display().to_string()),
                clockify_ui_agent::email::printable(name)
            ),
        )?,
        _ => {
            return Err(Failure::usage(anyhow::anyhow!(
                "no Clockify address: give --base-url URL (or CLOCKIFY_BASE_URL), or --config FILE --tenant NAME"
            )))
        }
    };
    let locale = tenant
        .locale
        .clone()
        .unwrap_or_else(|| global.locale.clone());
    let catalog = load_catalog(global, &locale, tenant.selector_overrides.clone())?;
    catalog.require(REQUIRED_ELEMENTS).map_err(Failure::usage)?;

    let credentials_file = global
        .credentials
        .clone()
        .or(tenant.credentials_file.clone());
    let credentials = credentials_file
        .as_deref()
        .map(config::load_credentials)
        .transpose()
        .map_err(Failure::usage)?;
    let password = std::env::var("CLOCKIFY_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
        .or_else(|| credentials.as_ref().map(|c| c.password.clone()));
    let email = global
        .account
        .clone()
        .or(tenant.account.clone())
        .or_else(|| credentials.as_ref().and_then(|c| c.email.clone()))
        .map(|e| e.trim().to_lowercase());
    if let Some(e) = &email {
        if !is_valid_email(e) {
            return Err(Failure::usage(anyhow::anyhow!(
                "account '{}' is not a valid email address",
                clockify_ui_agent::email::printable(e)
            )));
        }
    }
    if let Some(url) = &global.webdriver_url {
        http_url(url, "--webdriver-url")?;
    }
    if global.insecure {
        eprintln!(
            "warning: --insecure: TLS certificate errors are ignored (recorded in the evidence)"
        );
    }
    // The signing key is read, checked and kept now: a bad one stops the run before anything
    // changed, and the manifest is signed at the end with this key, not a second reading of the
    // file (which could have been moved or replaced while the actions ran).
    let sign_key = global
        .sign_key
        .as_deref()
        .map(clockify_ui_agent::audit::RunSigningKey::load)
        .transpose()
        .context("--sign-key")
        .map_err(Failure::usage)?;
    // A saved session is checked now (mode, format, origin), before any browser starts.
    let session_file = global.session_file.clone().or(tenant.session_file.clone());
    if let Some(path) = session_file.as_deref().filter(|p| p.exists()) {
        // The type before the mode: a FIFO or a device is not "readable by others", and it is
        // never opened (a FIFO without a writer would block).
        clockify_ui_agent::files::regular_metadata(path)
            .with_context(|| format!("cannot read session file {}", path.display()))
            .map_err(Failure::usage)?;
        clockify_ui_agent::clockify::signin::load_session_file(path, &base_url)
            .map_err(|e| Failure::new(e.exit_code(), e))?;
    }
    Ok(AgentConfig {
        base_url,
        browser: BrowserConfig {
            kind: global.browser,
            headless: !global.headed,
            driver_path: global.driver_path.clone(),
            webdriver_url: global.webdriver_url.clone(),
            timeout: Duration::from_secs(global.timeout.max(1)),
            connect_timeout: Duration::from_secs(global.connect_timeout.max(1)),
            insecure: global.insecure,
        },
        catalog: Arc::new(catalog),
        sign_in: SignInOptions {
            session_file,
            email,
            otp_command: global.otp_command.clone().or(tenant.otp_command.clone()),
            password,
            owner: global.owner_login || tenant.owner_login,
            fresh: false,
        },
        audit_dir: Some(global.audit_dir.clone()),
        evidence: EvidenceOptions {
            actor: actor(global),
            ticket: global.ticket.clone(),
            tenant: name.map(str::to_string),
            command: redacted_command_line(),
            // The key itself was read and is held (by this path) since the check above.
            sign_key,
            mask_others: global.mask_others,
        },
        dry_run: global.dry_run,
    })
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Verified => "verified",
        Outcome::NoOp => "no-op",
        Outcome::DryRun => "dry-run",
        Outcome::Failed => "FAILED",
    }
}

fn print_report(report: &Report, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        if let Ok(line) = serde_json::to_string(report) {
            let _ = writeln!(out, "{line}");
        }
    } else {
        let _ = writeln!(
            out,
            "{:<8} {:<13} {:<34} {} [{} ms, {} WebDriver commands]",
            outcome_word(report.outcome),
            report.action,
            report.email,
            report.message,
            report.millis,
            report.webdriver_commands
        );
    }
    let _ = out.flush();
}

async fn run_actions(config: &AgentConfig, actions: &[Action], json: bool) -> Result<u8, Failure> {
    let mut session = Session::open(config).await?;
    let (reports, error) = session
        .run_actions(config, actions, |report| print_report(report, json))
        .await;
    if let Some(dir) = session.evidence_dir() {
        if !json {
            println!("evidence: {}", dir.display());
        }
    }
    let code = match &error {
        Some(e) => e.exit_code(),
        None => agent::exit_code_for(&reports),
    };
    session.close(code).await;
    if let Some(error) = error {
        let done = reports.len();
        let left = actions.len().saturating_sub(done);
        let code = error.exit_code();
        return Err(Failure::new(
            code,
            anyhow::Error::new(error).context(format!(
                "stopped after {done} of {} action(s); {left} not done",
                actions.len()
            )),
        ));
    }
    Ok(agent::exit_code_for(&reports))
}

/// Creates `<audit-dir>/batch-<UTC time>-<id>/` (0700): the journal and every run's evidence go in.
fn new_batch_dir(config: &AgentConfig) -> Result<PathBuf, Failure> {
    let root = config
        .audit_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("clockify-audit"));
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let failed = |dir: &std::path::Path, e: std::io::Error| {
        Failure::usage(
            anyhow::Error::new(e)
                .context(format!("cannot create the batch folder {}", dir.display())),
        )
    };
    let mut dir = root.join(format!("batch-{stamp}-{}", agent::new_run_id()));
    clockify_ui_agent::audit::create_private_dir(&root).map_err(|e| failed(&dir, e))?;
    // The batch folder itself is created exclusively: runs for several tenants start at the same
    // second into one audit folder, and two batches must never share a folder (and journal),
    // however unlikely two equal random ids are. A name taken is retried with a new id.
    let mut attempt = 0;
    loop {
        let created = {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(0o700).create(&dir)
        };
        match created {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 5 => {
                attempt += 1;
                dir = root.join(format!("batch-{stamp}-{}", agent::new_run_id()));
            }
            Err(e) => return Err(failed(&dir, e)),
        }
    }
}

/// Prints batch progress: a bar with the current item on a terminal, otherwise one line per item.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    json: bool,
    labels: Vec<String>,
}

impl Progress {
    fn new(plan: &jobs::Plan, json: bool) -> Self {
        let bar = (!json && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let bar = indicatif::ProgressBar::new(plan.items.len() as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            json,
            labels: plan
                .items
                .iter()
                .map(|i| format!("{} {}", i.action.name(), i.action.email()))
                .collect(),
        }
    }

    fn event(&self, event: agent::ItemEvent) {
        match event {
            agent::ItemEvent::Started(i) => {
                if let Some(bar) = &self.bar {
                    bar.set_message(self.labels[i].clone());
                }
            }
            agent::ItemEvent::AlreadyDone(_) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            agent::ItemEvent::Finished(_, report) => match &self.bar {
                Some(bar) => {
                    bar.inc(1);
                    if report.outcome == Outcome::Failed {
                        bar.println(format!(
                            "FAILED {} {}: {}",
                            report.action, report.email, report.message
                        ));
                    }
                }
                None => print_report(&report, self.json),
            },
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Prints the end-of-batch summary table (stdout; with --json one summary object).
fn print_batch_summary(
    plan: &jobs::Plan,
    result: &agent::BatchResult,
    batch_dir: Option<&std::path::Path>,
    global: &GlobalArgs,
) {
    let json = global.json;
    let count = |o: Outcome| {
        result
            .reports
            .iter()
            .filter(|(_, r)| r.outcome == o)
            .count()
    };
    if json {
        let summary = serde_json::json!({
            "summary": {
                "items": plan.items.len(),
                "verified": count(Outcome::Verified),
                "no_op": count(Outcome::NoOp),
                "dry_run": count(Outcome::DryRun),
                "failed": count(Outcome::Failed),
                "done_before": result.done_before.len(),
                "not_done": result.not_done.iter().map(|i| plan.items[*i].line).collect::<Vec<_>>(),
                "batch": batch_dir.map(|d| d.display().to_string()),
                "agent_peak_rss_kb": peak_rss_kb(),
            }
        });
        println!("{summary}");
        return;
    }
    println!();
    println!("{:<12} {:>6}", "OUTCOME", "ITEMS");
    for (name, n) in [
        ("verified", count(Outcome::Verified)),
        ("no-op", count(Outcome::NoOp)),
        ("dry-run", count(Outcome::DryRun)),
        ("failed", count(Outcome::Failed)),
        ("done before", result.done_before.len()),
        ("not done", result.not_done.len()),
    ] {
        if n > 0 {
            println!("{name:<12} {n:>6}");
        }
    }
    println!("{:<12} {:>6}", "total", plan.items.len());
    for (i, r) in &result.reports {
        if r.outcome == Outcome::Failed {
            println!(
                "  line {}: {} {}: {}",
                plan.items[*i].line, r.action, r.email, r.message
            );
        }
    }
    for i in &result.not_done {
        let item = &plan.items[*i];
        println!(
            "  line {}: {} {}: not done",
            item.line,
            item.action.name(),
            item.action.email()
        );
    }
    if let Some(dir) = batch_dir {
        println!("batch folder (journal and evidence): {}", dir.display());
        if !result.not_done.is_empty() || result.error.is_some() {
            // The journal does not name the tenant: the hint does, so that the resumed run
            // signs in to the same workspace (a run over several tenants prints it per tenant).
            let tenant = match (&global.config, the_tenant(global).ok().flatten()) {
                (Some(file), Some(name)) => format!(
                    "--config {} --tenant {} ",
                    file.display(),
                    clockify_ui_agent::email::printable(&name)
                ),
                _ => String::new(),
            };
            println!(
                "finish it with: clockify-ui-agent {tenant}apply --resume {}",
                dir.display()
            );
        }
    }
}

/// The agent process's peak resident memory (VmHWM), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn batch_failure(result: agent::BatchResult) -> Result<u8, Failure> {
    let code = result.exit_code();
    match result.error {
        Some(error) => Err(Failure::new(
            code,
            anyhow::Error::new(error).context(format!(
                "the batch stopped with {} item(s) not done",
                result.not_done.len()
            )),
        )),
        None => Ok(code),
    }
}

async fn apply(
    global: &GlobalArgs,
    plan_path: Option<PathBuf>,
    resume: Option<PathBuf>,
    parallel: usize,
) -> Result<u8, Failure> {
    check_parallel(parallel)?;
    // Everything is validated before a browser starts: the plan, the journal, the options.
    let mut config = resolve(global)?;
    let (plan, batch_dir, mut journal, resume_state) = match resume {
        Some(dir) => {
            let journal_path = dir.join("journal.jsonl");
            let header = jobs::Journal::read_header(&journal_path).map_err(Failure::usage)?;
            let plan_path = plan_path.unwrap_or_else(|| PathBuf::from(&header.plan_path));
            let plan = jobs::load_plan(&plan_path).map_err(Failure::usage)?;
            let (journal, state) = jobs::Journal::open_existing(&journal_path, plan.sha256())
                .map_err(Failure::usage)?;
            (plan, dir, Some(journal), Some(state))
        }
        None => {
            let plan_path =
                plan_path.ok_or_else(|| Failure::usage(anyhow::anyhow!("give --plan FILE")))?;
            let plan = jobs::load_plan(&plan_path).map_err(Failure::usage)?;
            let dir = new_batch_dir(&config)?;
            // A dry run keeps no journal: a later real run must not take it for done work.
            let journal = if global.dry_run {
                None
            } else {
                let absolute = std::fs::canonicalize(&plan_path).unwrap_or(plan_path.clone());
                Some(
                    jobs::Journal::create(
                        &dir.join("journal.jsonl"),
                        plan.sha256(),
                        &absolute.display().to_string(),
                    )
                    .map_err(Failure::usage)?,
                )
            };
            (plan, dir, journal, None)
        }
    };
    config.audit_dir = Some(batch_dir.clone());
    if !global.json {
        eprintln!(
            "batch of {} item(s), {} session(s); folder {}",
            plan.items.len(),
            parallel.min(plan.items.len().max(1)),
            batch_dir.display()
        );
    }
    let progress = Progress::new(&plan, global.json);
    let result = agent::run_plan(
        &config,
        None,
        &plan,
        journal.as_mut(),
        resume_state.as_ref(),
        parallel,
        |e| progress.event(e),
    )
    .await;
    progress.finish();
    print_batch_summary(&plan, &result, Some(&batch_dir), global);
    batch_failure(result)
}

/// Options of `sync`.
struct SyncRequest {
    desired: PathBuf,
    deactivate_missing: bool,
    protect: Vec<String>,
    max_deactivate: Option<usize>,
    parallel: usize,
}

/// The `--protect` emails, checked and lower-cased.
fn protect_list(raw: &[String]) -> Result<Vec<String>, Failure> {
    let mut protect = Vec::new();
    for email in raw {
        let e = email.trim().to_lowercase();
        if !is_valid_email(&e) {
            return Err(Failure::usage(anyhow::anyhow!(
                "--protect '{email}' is not a valid email address"
            )));
        }
        protect.push(e);
    }
    Ok(protect)
}

/// `--parallel` of a batch: at least one session.
fn check_parallel(parallel: usize) -> Result<(), Failure> {
    if parallel == 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "--parallel must be at least 1"
        )));
    }
    Ok(())
}

async fn sync(global: &GlobalArgs, request: SyncRequest) -> Result<u8, Failure> {
    let desired = jobs::load_desired(&request.desired).map_err(Failure::usage)?;
    let protect = protect_list(&request.protect)?;
    check_parallel(request.parallel)?;
    let mut config = resolve(global)?;
    let mut session = Session::open(&config).await?;
    let current = match session.members(|_| {}).await {
        Ok(m) => m,
        Err(e) => {
            session.close(e.exit_code()).await;
            return Err(e.into());
        }
    };
    let options = jobs::SyncOptions {
        deactivate_missing: request.deactivate_missing,
        protect,
        signed_in: session.signed_in.email.clone(),
        max_deactivate: request.max_deactivate,
    };
    let sync_plan = match jobs::reconcile(&current, &desired, &options) {
        Ok(p) => p,
        Err(refusal) => {
            session.close(refusal.exit_code()).await;
            let code = refusal.exit_code();
            return Err(Failure::new(code, anyhow::anyhow!("{refusal}")));
        }
    };
    if !global.json {
        println!("{} members read; plan:", current.len());
        print!("{}", sync_plan.render_table());
    }
    if sync_plan.is_empty() {
        session.close(exit::SUCCESS).await;
        if !global.json {
            println!(
                "nothing to do: the workspace matches {}",
                request.desired.display()
            );
        }
        return Ok(exit::SUCCESS);
    }
    if global.dry_run {
        session.close(exit::SUCCESS).await;
        if !global.json {
            println!("--dry-run: nothing changed");
        }
        return Ok(exit::SUCCESS);
    }
    let plan = jobs::Plan::from_actions(sync_plan.actions.clone());
    let batch_dir = new_batch_dir(&config)?;
    config.audit_dir = Some(batch_dir.clone());
    let mut journal = jobs::Journal::create(
        &batch_dir.join("journal.jsonl"),
        plan.sha256(),
        &format!("sync of {}", request.desired.display()),
    )
    .map_err(Failure::usage)?;
    let progress = Progress::new(&plan, global.json);
    let result = agent::run_plan(
        &config,
        Some(&mut session),
        &plan,
        Some(&mut journal),
        None,
        request.parallel,
        |e| progress.event(e),
    )
    .await;
    progress.finish();
    session.close(result.exit_code()).await;
    print_batch_summary(&plan, &result, Some(&batch_dir), global);
    batch_failure(result)
}

async fn members(
    config: &AgentConfig,
    status: StatusArg,
    format: FormatArg,
) -> Result<u8, Failure> {
    let session = Session::open(config).await?;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let all = session
        .members(|n| {
            if interactive {
                eprint!("\rread {n} members…");
            }
        })
        .await;
    if interactive {
        eprintln!();
    }
    session
        .close(match &all {
            Ok(_) => exit::SUCCESS,
            Err(e) => e.exit_code(),
        })
        .await;
    let all = all?;
    let wanted: Vec<&MemberState> = all
        .iter()
        .filter(|m| match status {
            StatusArg::All => true,
            StatusArg::Active => m.status == Status::Active,
            StatusArg::Inactive => m.status == Status::Inactive,
            StatusArg::Pending => m.status == Status::Pending,
        })
        .collect();
    print_members(&wanted, format).map_err(Failure::usage)?;
    Ok(exit::SUCCESS)
}

fn roles_text(m: &MemberState) -> String {
    m.roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

fn print_members(members: &[&MemberState], format: FormatArg) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        FormatArg::Json => {
            serde_json::to_writer_pretty(&mut out, members)?;
            writeln!(out)?;
        }
        FormatArg::Csv => {
            writeln!(out, "email,name,status,roles")?;
            for m in members {
                writeln!(
                    out,
                    "{},{},{},{}",
                    csv_field(&m.email),
                    csv_field(&m.name),
                    m.status,
                    csv_field(&roles_text(m))
                )?;
            }
        }
        FormatArg::Table => {
            writeln!(out, "{:<40} {:<30} {:<9} ROLES", "EMAIL", "NAME", "STATUS")?;
            for m in members {
                writeln!(
                    out,
                    "{:<40} {:<30} {:<9} {}",
                    m.email,
                    m.name,
                    m.status.to_string(),
                    roles_text(m)
                )?;
            }
            writeln!(out, "{} member(s)", members.len())?;
        }
    }
    Ok(())
}

/// A CSV field, quoted when needed; a leading formula character is neutralised so a spreadsheet
/// never runs a member's name as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

async fn demo(global: &GlobalArgs, ui_version: UiVersion) -> Result<u8, Failure> {
    let started = Instant::now();
    let sandbox = RunningSandbox::start_local(SandboxConfig {
        seed: Seed::builtin(),
        ui_version,
    })
    .await
    .map_err(Failure::usage)?;
    let url = sandbox.url();
    println!("sandbox (a local mock of Clockify, UI {ui_version}) at {url}/en/login");
    let exe = std::env::current_exe()
        .context("cannot find this program's path")
        .map_err(Failure::usage)?;
    // The demo's own sandbox and account replace whatever tenant options were given.
    let mut demo_args = global.clone();
    demo_args.base_url = Some(url.clone());
    demo_args.config = None;
    demo_args.tenant = Vec::new();
    demo_args.all_tenants = false;
    demo_args.only_tenant = None;
    let mut config = resolve(&demo_args)?;
    config.sign_in = SignInOptions {
        session_file: None,
        email: Some("admin@acme.example".into()),
        otp_command: Some(format!(
            "{} sandbox-code --url {url} --email \"$CLOCKIFY_OTP_EMAIL\"",
            shell_quote(&exe)
        )),
        password: None,
        owner: false,
        fresh: true,
    };
    println!("signing in as admin@acme.example with an emailed code…");
    let mut session = Session::open(&config).await?;
    println!(
        "signed in as {} by {} (browser start {:.1?}, sign-in {:.1?})",
        session.signed_in.email,
        session.signed_in.method,
        session.browser_start,
        session.sign_in_time
    );
    let steps: Vec<Vec<Action>> = vec![
        [
            "ana.demo@acme.example",
            "bo.demo@acme.example",
            "cy.demo@acme.example",
        ]
        .iter()
        .map(|e| Action::Invite {
            email: e.to_string(),
        })
        .collect(),
        vec![Action::SetRole {
            email: "bo.demo@acme.example".into(),
            role: TargetRole::Admin,
            manages: vec![],
            projects: vec![],
        }],
        vec![Action::SetRole {
            email: "cy.demo@acme.example".into(),
            role: TargetRole::TeamManager,
            manages: vec!["rita.regular@acme.example".into(), "group:Sales".into()],
            projects: vec![],
        }],
        vec![Action::Deactivate {
            email: "sam.sales@acme.example".into(),
        }],
        vec![Action::Reactivate {
            email: "sam.sales@acme.example".into(),
        }],
    ];
    let mut all = Vec::new();
    for step in &steps {
        let (reports, error) = session
            .run_actions(&config, step, |r| print_report(r, global.json))
            .await;
        all.extend(reports);
        if let Some(error) = error {
            session.close(error.exit_code()).await;
            return Err(error.into());
        }
    }
    let members = session.members(|_| {}).await;
    let evidence = session.evidence_dir().map(|d| d.display().to_string());
    session
        .close(match &members {
            Ok(_) => agent::exit_code_for(&all),
            Err(e) => e.exit_code(),
        })
        .await;
    let members = members?;
    let count = |s: Status| members.iter().filter(|m| m.status == s).count();
    println!(
        "members: {} listed ({} active, {} pending, {} inactive)",
        members.len(),
        count(Status::Active),
        count(Status::Pending),
        count(Status::Inactive)
    );
    for m in members
        .iter()
        .filter(|m| m.email.ends_with(".demo@acme.example"))
    {
        println!(
            "  {:<28} {:<9} {}",
            m.email,
            m.status.to_string(),
            roles_text(m)
        );
    }
    if let Some(dir) = evidence {
        println!("evidence: {dir}");
    }
    println!("demo finished in {:.1?}", started.elapsed());
    sandbox.stop().await;
    Ok(agent::exit_code_for(&all))
}

fn shell_quote(path: &std::path::Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

async fn sandbox(args: SandboxArgs) -> Result<(), Failure> {
    let seed = match &args.seed {
        Some(path) => Seed::load(path).map_err(Failure::usage)?,
        None => Seed::builtin(),
    };
    let state = seed.build().map_err(Failure::usage)?;
    let accounts = seed.password_accounts();
    let config = SandboxConfig {
        seed,
        ui_version: args.ui_version,
    };
    let running = RunningSandbox::start(SocketAddr::new(args.host, args.port), config)
        .await
        .map_err(Failure::usage)?;
    let url = running.url();
    println!("Clockify sandbox (a local mock; nothing here is the real Clockify)");
    println!("  URL:        {url}/en/login");
    println!("  UI version: {}", args.ui_version);
    println!(
        "  Workspace:  {} ({:?} plan, {} members)",
        state.workspace.name,
        state.workspace.plan,
        state.members.len()
    );
    println!("  Sign-in accounts (\"Log in manually\" form, or \"Continue with Email\" and a mailed code):");
    for (email, name, role, password) in &accounts {
        println!("    {role:<7} {email:<32} password {password:<22} ({name})");
    }
    println!("  Any active member can sign in with an emailed code; read it with:");
    println!("    clockify-ui-agent sandbox-code --url {url} --email EMAIL");
    println!("  Test endpoints: {url}{TEST_PREFIX}/state, /mutations, /mailbox, /faults, /reset");
    println!("Press Ctrl-C to stop.");
    let _ = std::io::stdout().flush();
    running.wait().await;
    Ok(())
}

async fn sandbox_code(args: SandboxCodeArgs) -> Result<(), Failure> {
    let base = args.url.trim_end_matches('/');
    let url = format!("{base}{TEST_PREFIX}/mailbox/latest-code");
    let code = fetch_text(&url, &[("to", args.email.as_str())])
        .await
        .with_context(|| format!("cannot read the sandbox mailbox at {base}"))
        .map_err(Failure::usage)?;
    println!("{code}");
    Ok(())
}

/// A plain HTTP GET (the sandbox is local and plain HTTP), returning the body of a 200 answer.
async fn fetch_text(url: &str, query: &[(&str, &str)]) -> anyhow::Result<String> {
    let response = reqwest::Client::new().get(url).query(query).send().await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        anyhow::bail!("{status}: {}", body.trim());
    }
    Ok(body.trim().to_string())
}

/// One invocation over several tenants of the tenants file (`--tenant A,B`, `--all-tenants`).
///
/// Every tenant is resolved and validated here first (exit 2 before any browser starts when one
/// is bad). Then each tenant runs as a child process of this program, the same command line with
/// `--only-tenant NAME` in front, at most `--tenant-parallel` at once, each supervised by its own
/// task. A process per tenant keeps every single-tenant behaviour unchanged (its evidence,
/// batch folder and journal, its sign-in, its exit code, its clean-up of browsers on Ctrl-C)
/// and isolates tenants from each other: one tenant's browser or driver dying ends only its run.
/// Its output lines come back prefixed with `[tenant] ` (or, with `--json`, in one section per
/// tenant), and a summary table ends the run.
mod tenants {
    use std::collections::BTreeMap;
    use std::ffi::OsString;
    use std::process::Stdio;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use anyhow::Context as _;
    use clockify_ui_agent::email::printable;
    use clockify_ui_agent::exit;
    use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

    use super::{
        actions_of, check_parallel, protect_list, selected_tenants, Cli, Command, Failure,
        GlobalArgs, SelectorsCommand,
    };

    /// How long the tenants' runs get to stop after Ctrl-C (they close their browsers and
    /// record the interruption) before they are killed.
    const STOP_GRACE: Duration = Duration::from_secs(20);

    /// What one tenant's run left.
    struct TenantRun {
        /// The tenant.
        name: String,
        /// Its exit code (130 when it was killed by a signal or never started for Ctrl-C).
        code: u8,
        /// What happened, in a few words, for the summary.
        what: String,
        /// With `--json`: its standard output, kept for its section.
        stdout: String,
    }

    /// The worst of the tenants' exit codes: the highest (documented in the README and in
    /// `--help`); an empty run is a success.
    pub(super) fn worst_code(codes: impl IntoIterator<Item = u8>) -> u8 {
        codes.into_iter().max().unwrap_or(exit::SUCCESS)
    }

    /// Runs `cli`'s command once per selected tenant; returns the worst tenant's exit code.
    pub(super) async fn run(cli: Cli) -> Result<u8, Failure> {
        let global = &cli.global;
        let names = selected_tenants(global)?;
        check_command(&cli.command, global)?;
        validate_tenants(global, &names)?;
        let exe = std::env::current_exe()
            .context("cannot find this program's path to run each tenant")
            .map_err(Failure::usage)?;
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        let slots = Arc::new(tokio::sync::Semaphore::new(usize::from(
            global.tenant_parallel.max(1),
        )));
        let running: Arc<Mutex<Vec<u32>>> = Arc::default();
        let stopping = Arc::new(AtomicBool::new(false));
        if !global.json {
            eprintln!(
                "{} tenant(s): {}; at most {} at once",
                names.len(),
                names
                    .iter()
                    .map(|n| printable(n))
                    .collect::<Vec<_>>()
                    .join(", "),
                global.tenant_parallel
            );
        }
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let child = Child {
                    name: name.clone(),
                    exe: exe.clone(),
                    args: args.clone(),
                    json: global.json,
                };
                tokio::spawn(child.run(slots.clone(), running.clone(), stopping.clone()))
            })
            .collect();
        let all = futures::future::join_all(handles);
        tokio::pin!(all);
        let joined = tokio::select! {
            joined = &mut all => joined,
            _ = tokio::signal::ctrl_c() => {
                stopping.store(true, Ordering::SeqCst);
                eprintln!("interrupted: stopping every tenant's run");
                interrupt(&running);
                match tokio::time::timeout(STOP_GRACE, &mut all).await {
                    Ok(joined) => joined,
                    // Returning drops the runtime, and with it the runs still going (killed).
                    Err(_) => {
                        return Err(Failure::new(
                            exit::INTERRUPTED,
                            anyhow::anyhow!("interrupted; tenants' runs still going after {STOP_GRACE:?} were killed"),
                        ))
                    }
                }
            }
        };
        let runs: Vec<TenantRun> = joined
            .into_iter()
            .zip(&names)
            .map(|(joined, name)| {
                joined.unwrap_or_else(|e| TenantRun {
                    name: name.clone(),
                    code: exit::INTERRUPTED,
                    what: format!("its supervising task ended: {e}"),
                    stdout: String::new(),
                })
            })
            .collect();
        let worst = worst_code(runs.iter().map(|r| r.code));
        if global.json {
            print_json(&runs, worst);
        } else {
            print_summary(&runs, worst);
        }
        Ok(worst)
    }

    /// Refuses what cannot run per tenant, and checks the command's own input once for all
    /// tenants (the same for each), before anything starts.
    fn check_command(command: &Command, global: &GlobalArgs) -> Result<(), Failure> {
        let usage = |text: String| Err(Failure::usage(anyhow::anyhow!(text)));
        // Options that would make every tenant use the same workspace or session.
        if global.base_url.is_some() {
            return usage(
                "--base-url (or CLOCKIFY_BASE_URL) cannot go with several tenants: each tenant's \
                 base_url comes from the tenants file"
                    .into(),
            );
        }
        if global.session_file.is_some() {
            return usage(
                "--session-file (or CLOCKIFY_SESSION_FILE) cannot go with several tenants: a \
                 session belongs to one workspace; set session_file per tenant in the tenants file"
                    .into(),
            );
        }
        match command {
            Command::Invite { .. }
            | Command::SetRole { .. }
            | Command::Deactivate { .. }
            | Command::Reactivate { .. }
            | Command::ResendInvite { .. }
            | Command::RevokeInvite { .. } => actions_of(command.clone()).map(|_| ()),
            Command::Apply {
                plan,
                resume,
                parallel,
            } => {
                if resume.is_some() {
                    return usage(
                        "apply --resume DIR continues one tenant's batch: give only that tenant \
                         (--tenant NAME)"
                            .into(),
                    );
                }
                check_parallel(*parallel)?;
                let Some(plan) = plan else {
                    return usage("give --plan FILE".into());
                };
                clockify_ui_agent::jobs::load_plan(plan)
                    .map(|_| ())
                    .map_err(Failure::usage)
            }
            Command::Sync {
                desired,
                protect,
                parallel,
                ..
            } => {
                check_parallel(*parallel)?;
                protect_list(protect)?;
                clockify_ui_agent::jobs::load_desired(desired)
                    .map(|_| ())
                    .map_err(Failure::usage)
            }
            Command::Members { .. } | Command::Selectors(SelectorsCommand::Check) => Ok(()),
            Command::Login => usage(
                "login signs in to one tenant and saves its session: run it once per tenant \
                 (--tenant NAME login), one at a time"
                    .into(),
            ),
            Command::Selectors(SelectorsCommand::Lint) => usage(
                "selectors lint checks the catalog without any tenant: run it without \
                 --tenant/--all-tenants"
                    .into(),
            ),
            Command::Demo { .. } | Command::Sandbox(_) | Command::SandboxCode(_) => {
                usage("this command starts its own sandbox and uses no tenant: drop --tenant/--all-tenants".into())
            }
            Command::Audit(_) => usage(
                "audit works on evidence folders, not tenants: drop --tenant/--all-tenants".into(),
            ),
        }
    }

    /// Resolves every tenant as its own run will (base URL, account, session file, credentials,
    /// selector overrides, signing key): all problems are listed, and any stops everything.
    fn validate_tenants(global: &GlobalArgs, names: &[String]) -> Result<(), Failure> {
        let mut worst = exit::SUCCESS;
        let mut bad = 0;
        let mut sign_ins: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
        for name in names {
            match super::resolve_for(global, Some(name)) {
                Ok(config) => {
                    // Tenants signing in to one site as one account with emailed codes take
                    // each other's codes when they ask at the same moment.
                    if let (Some(email), Some(_)) =
                        (&config.sign_in.email, &config.sign_in.otp_command)
                    {
                        sign_ins
                            .entry((
                                config.base_url.origin().ascii_serialization(),
                                email.clone(),
                            ))
                            .or_default()
                            .push(name);
                    }
                }
                Err(failure) => {
                    bad += 1;
                    worst = worst.max(failure.code);
                    eprintln!("[{}] error: {:#}", printable(name), failure.error);
                }
            }
        }
        if bad > 0 {
            return Err(Failure::new(
                worst,
                anyhow::anyhow!(
                    "{bad} of {} tenant(s) cannot run (above); nothing was started",
                    names.len()
                ),
            ));
        }
        if global.tenant_parallel > 1 {
            for ((origin, email), group) in sign_ins.iter().filter(|(_, g)| g.len() > 1) {
                eprintln!(
                    "warning: tenants {} sign in to {origin} as {email} with emailed codes; \
                     codes asked for at once replace each other: prefer saved sessions \
                     (session_file) or --tenant-parallel 1",
                    group
                        .iter()
                        .map(|n| printable(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Ok(())
    }

    /// Sends SIGINT to the tenants' runs going now: each stops as on Ctrl-C (closes its
    /// browser, records the interruption, exits 130).
    fn interrupt(running: &Mutex<Vec<u32>>) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        let pids = running.lock().map(|p| p.clone()).unwrap_or_default();
        for pid in pids {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
            }
        }
    }

    /// One tenant's run: this program again, for that tenant only.
    struct Child {
        name: String,
        exe: std::path::PathBuf,
        args: Vec<OsString>,
        json: bool,
    }

    impl Child {
        async fn run(
            self,
            slots: Arc<tokio::sync::Semaphore>,
            running: Arc<Mutex<Vec<u32>>>,
            stopping: Arc<AtomicBool>,
        ) -> TenantRun {
            let finish = |code: u8, what: String, stdout: String| TenantRun {
                name: self.name.clone(),
                code,
                what,
                stdout,
            };
            // The semaphore is never closed; a closed one would only mean "no slot limit".
            let _slot = slots.acquire_owned().await.ok();
            if stopping.load(Ordering::SeqCst) {
                return finish(
                    exit::INTERRUPTED,
                    "not started (interrupted)".into(),
                    String::new(),
                );
            }
            let prefix = format!("[{}] ", printable(&self.name));
            // `--only-tenant` goes first: after it, the command line is exactly the user's.
            let mut command = tokio::process::Command::new(&self.exe);
            command
                .arg("--only-tenant")
                .arg(&self.name)
                .args(&self.args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            let mut child = match command.spawn() {
                Ok(child) => child,
                Err(e) => {
                    eprintln!("{prefix}error: cannot start its run: {e}");
                    return finish(exit::USAGE, format!("not started: {e}"), String::new());
                }
            };
            let pid = child.id();
            if let (Some(pid), Ok(mut list)) = (pid, running.lock()) {
                list.push(pid);
            }
            let json = self.json;
            let out_prefix = prefix.clone();
            let stdout = child.stdout.take();
            let stderr = child.stderr.take();
            let read_out = async move {
                let mut kept = String::new();
                for_each_line(stdout, |line| {
                    if json {
                        kept.push_str(line);
                        kept.push('\n');
                    } else {
                        println!("{out_prefix}{line}");
                    }
                })
                .await;
                kept
            };
            let read_err = async move {
                let mut last_error = None;
                for_each_line(stderr, |line| {
                    if let Some(error) = line.strip_prefix("error: ") {
                        last_error = Some(error.to_string());
                    }
                    eprintln!("{prefix}{line}");
                })
                .await;
                last_error
            };
            let (kept, last_error, status) = tokio::join!(read_out, read_err, child.wait());
            if let (Some(pid), Ok(mut list)) = (pid, running.lock()) {
                list.retain(|p| *p != pid);
            }
            let code = match status {
                Ok(status) => status
                    .code()
                    .and_then(|c| u8::try_from(c).ok())
                    .unwrap_or(exit::INTERRUPTED),
                Err(_) => exit::INTERRUPTED,
            };
            let what = match (code, last_error) {
                (exit::SUCCESS, _) => "done".to_string(),
                (_, Some(error)) => error,
                (code, None) => meaning(code).to_string(),
            };
            finish(code, what, kept)
        }
    }

    /// Calls `each` with every line `stream` yields (invalid UTF-8 shown replaced), to its end.
    async fn for_each_line(stream: Option<impl AsyncRead + Unpin>, mut each: impl FnMut(&str)) {
        let Some(stream) = stream else { return };
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    each(text.trim_end_matches(['\n', '\r']));
                }
            }
        }
    }

    /// A few words for an exit code, when the run said nothing more.
    fn meaning(code: u8) -> &'static str {
        match code {
            exit::SUCCESS => "done",
            exit::ACTION_FAILED => "an action failed or a check found problems (see its lines)",
            exit::USAGE => "usage, configuration or input error",
            exit::BROWSER_UNAVAILABLE => "browser or WebDriver unavailable",
            exit::SIGN_IN => "sign-in required or failed",
            exit::UI_MISMATCH => "the UI did not match the selector catalog",
            exit::INTERRUPTED => "interrupted",
            _ => "ended with an undocumented exit code",
        }
    }

    /// The summary table after the tenants' own output.
    fn print_summary(runs: &[TenantRun], worst: u8) {
        let width = runs
            .iter()
            .map(|r| printable(&r.name).chars().count())
            .max()
            .unwrap_or(0)
            .max("TENANT".len());
        println!();
        println!("{:<width$}  {:>4}  RESULT", "TENANT", "EXIT");
        for r in runs {
            println!("{:<width$}  {:>4}  {}", printable(&r.name), r.code, r.what);
        }
        println!(
            "exit code {worst} (the worst tenant's; {} of {} tenant(s) done)",
            runs.iter().filter(|r| r.code == exit::SUCCESS).count(),
            runs.len()
        );
    }

    /// With `--json`: one object with a section per tenant (its exit code, result and output,
    /// the JSON values its run printed) and the overall exit code.
    fn print_json(runs: &[TenantRun], worst: u8) {
        let mut tenants = serde_json::Map::new();
        for r in runs {
            let parsed: Result<Vec<serde_json::Value>, _> =
                serde_json::Deserializer::from_str(&r.stdout)
                    .into_iter::<serde_json::Value>()
                    .collect();
            // Output that is not JSON (a table) is kept as its lines.
            let output = parsed.unwrap_or_else(|_| {
                r.stdout
                    .lines()
                    .map(|l| serde_json::Value::String(l.to_string()))
                    .collect()
            });
            tenants.insert(
                r.name.clone(),
                serde_json::json!({
                    "exit_code": r.code,
                    "result": r.what,
                    "output": output,
                }),
            );
        }
        println!(
            "{}",
            serde_json::json!({ "tenants": tenants, "exit_code": worst })
        );
    }

    #[cfg(test)]
    mod tests {
        use super::worst_code;

        #[test]
        fn the_worst_code_is_the_highest() {
            assert_eq!(worst_code([]), 0);
            assert_eq!(worst_code([0, 1, 0]), 1);
            assert_eq!(worst_code([1, 4, 2]), 4);
            assert_eq!(worst_code([5, 130, 0]), 130);
        }
    }
}
