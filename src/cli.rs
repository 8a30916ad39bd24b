//! Command-line definitions (clap). Parsing only: `main.rs` resolves these into a configuration
//! before any work starts.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;

/// Manages people in Clockify workspaces through the Clockify admin web UI, with a real browser
/// over WebDriver, verifying every change by reading the UI back.
///
/// Passwords are never taken as arguments: use CLOCKIFY_PASSWORD or --credentials FILE.
#[derive(Debug, Parser)]
#[command(name = "clockify-ui-agent", version, about, after_help = after_help())]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Options shared by the agent commands.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How the exit code of a run over several tenants is formed, for `--help` (the README's "Exit
/// codes" says the same).
pub const TENANTS_EXIT_RULE: &str = "\
With several tenants (--tenant A,B or --all-tenants) the exit code is the worst tenant's:
the highest of the tenants' codes (130 > 5 > 4 > 3 > 2 > 1 > 0); a tenant whose run was
killed by a signal counts as 130. A bad tenant stops everything with 2 before any browser.";

/// The text after `--help`: the exit codes, then the rule for several tenants.
fn after_help() -> String {
    format!(
        "{}\n\n{TENANTS_EXIT_RULE}",
        clockify_ui_agent::exit::HELP_TABLE
    )
}

/// Options of every agent command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Clockify base URL, e.g. https://app.clockify.me or https://acme.clockify.me.
    #[arg(long, global = true, env = "CLOCKIFY_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// Tenants file (TOML, `[tenants.NAME]` tables); pick tenants with --tenant or --all-tenants.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Tenant name in the --config file. Repeat it (or give a comma-separated list) to run the
    /// command once per tenant, in parallel: invite, set-role, deactivate, reactivate,
    /// resend-invite, revoke-invite, apply, sync, members and selectors check.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        value_delimiter = ',',
        requires = "config"
    )]
    pub tenant: Vec<String>,

    /// Run the command once for every tenant of the --config file (see --tenant).
    #[arg(long, global = true, requires = "config", conflicts_with = "tenant")]
    pub all_tenants: bool,

    /// With several tenants: how many run at once. Each tenant drives its own browser (about
    /// one CPU core and a few hundred MB each), so keep this near the number of cores.
    #[arg(long, global = true, default_value_t = 2, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub tenant_parallel: u16,

    /// Internal: the run of one tenant that a run over several tenants started (the tenant must
    /// be among those --tenant or --all-tenants select).
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        hide = true,
        requires = "config"
    )]
    pub only_tenant: Option<String>,

    /// Browser to drive.
    #[arg(
        long,
        global = true,
        default_value = "firefox",
        value_name = "firefox|chrome"
    )]
    pub browser: BrowserKind,

    /// Show the browser window instead of running headless.
    #[arg(long, global = true)]
    pub headed: bool,

    /// Path of geckodriver or chromedriver (default: PATH, then the cargo bin folder).
    #[arg(long, global = true, value_name = "PATH")]
    pub driver_path: Option<PathBuf>,

    /// Use a running WebDriver (a driver or Selenium Grid) instead of starting one.
    #[arg(long, global = true, value_name = "URL")]
    pub webdriver_url: Option<String>,

    /// Selector catalog folder replacing the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    pub selectors: Option<PathBuf>,

    /// Per-tenant selector override file: replaces only the elements it names.
    #[arg(long, global = true, value_name = "FILE")]
    pub selector_overrides: Option<PathBuf>,

    /// UI language of the catalog's label texts (the agent signs in at /<locale>/login).
    #[arg(long, global = true, default_value = "en")]
    pub locale: String,

    /// Saved-session file: read if present, written by `login` and after a fresh sign-in.
    #[arg(
        long,
        global = true,
        env = "CLOCKIFY_SESSION_FILE",
        value_name = "FILE"
    )]
    pub session_file: Option<PathBuf>,

    /// Account email to sign in with.
    #[arg(long, global = true, env = "CLOCKIFY_EMAIL", value_name = "EMAIL")]
    pub account: Option<String>,

    /// Command that prints the emailed sign-in code (it gets CLOCKIFY_OTP_EMAIL).
    #[arg(long, global = true, env = "CLOCKIFY_OTP_COMMAND", value_name = "CMD")]
    pub otp_command: Option<String>,

    /// Credentials file (TOML: email, password; mode 0600) for the "Log in manually" form.
    #[arg(
        long,
        global = true,
        env = "CLOCKIFY_CREDENTIALS_FILE",
        value_name = "FILE"
    )]
    pub credentials: Option<PathBuf>,

    /// Sign in at /login-owner (the Owner's way in on SSO subdomains).
    #[arg(long, global = true)]
    pub owner_login: bool,

    /// Folder for evidence (one sub-folder per run).
    #[arg(
        long,
        global = true,
        default_value = "clockify-audit",
        value_name = "DIR"
    )]
    pub audit_dir: PathBuf,

    /// Who runs this, for the evidence (default: the CI's user variable, else the OS user).
    #[arg(long, global = true, env = "CLOCKIFY_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,

    /// The approving request or change number, recorded with every action.
    #[arg(long, global = true, value_name = "ID")]
    pub ticket: Option<String>,

    /// Sign each run's evidence manifest with this ed25519 key (PKCS#8 PEM; see `audit keygen`).
    #[arg(long, global = true, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,

    /// Cover other members' rows in screenshots (GDPR), leaving the target row readable.
    #[arg(long, global = true)]
    pub mask_others: bool,

    /// Print one JSON object per result on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// Sign in, open every page and dialog, locate every element up to the final click; change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Seconds to wait for a new browser session (longer than a Grid's new-session queue timeout).
    #[arg(long, global = true, default_value_t = 330, value_name = "SECS")]
    pub connect_timeout: u64,

    /// Accept invalid TLS certificates of the Clockify site (a test instance); certificate checks
    /// stay on without it, and its use is recorded in the evidence.
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Seconds each wait for the page may take.
    #[arg(long, global = true, default_value_t = 15, value_name = "SECS")]
    pub timeout: u64,
}

/// A role `set-role` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Admin.
    Admin,
    /// Team manager (needs --manages).
    TeamManager,
    /// Project manager (needs --projects).
    ProjectManager,
    /// No role.
    Regular,
}

/// Which members `members` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Active.
    Active,
    /// Inactive.
    Inactive,
    /// Invited, not joined yet.
    Pending,
    /// Everyone.
    All,
}

/// Output format of `members`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
    /// CSV with a header.
    Csv,
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Sign in and save the session (cookies + token, mode 0600) to --session-file.
    Login,
    /// Invite members by email (existing members are verified no-ops).
    Invite {
        /// Email to invite (repeat for several).
        #[arg(long = "email", value_name = "EMAIL", required = true)]
        emails: Vec<String>,
    },
    /// Give a member exactly this role (their whole role set afterwards).
    SetRole {
        /// The member.
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// admin, team-manager, project-manager or regular.
        #[arg(long)]
        role: RoleArg,
        /// Team manager scope: member emails or group:NAME (repeat).
        #[arg(long, value_name = "EMAIL|group:NAME")]
        manages: Vec<String>,
        /// Project manager scope: project names (repeat).
        #[arg(long = "projects", value_name = "NAME")]
        projects: Vec<String>,
    },
    /// Deactivate a member (never the Owner or the signed-in account).
    Deactivate {
        /// The member.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Reactivate an inactive member.
    Reactivate {
        /// The member.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Resend a pending member's invitation email (no API has this).
    ResendInvite {
        /// The member.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Revoke a pending invitation (no API has this).
    RevokeInvite {
        /// The member.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Run a plan file (CSV or JSON: action,email,role,manages,projects), validated whole before
    /// a browser opens; one signed-in session per lane; a journal beside the evidence makes it
    /// resumable.
    Apply {
        /// The plan file (.csv or .json). Optional with --resume (the journal names it).
        #[arg(long, value_name = "FILE", required_unless_present = "resume")]
        plan: Option<PathBuf>,
        /// Continue a stopped batch: its folder (printed at the start, holds journal.jsonl).
        #[arg(long, value_name = "DIR")]
        resume: Option<PathBuf>,
        /// Browser sessions working at once; items of one member always go to the same session.
        #[arg(long, default_value_t = 1, value_name = "N")]
        parallel: usize,
    },
    /// Reconcile the workspace with an identity-provider export (CSV or JSON: email,role,status):
    /// reads every member, prints the plan, and runs it unless --dry-run.
    Sync {
        /// The desired members.
        #[arg(long, value_name = "FILE")]
        desired: PathBuf,
        /// Also deactivate active members absent from the file (and revoke their pending invites).
        #[arg(long)]
        deactivate_missing: bool,
        /// Never touch this member (repeat). The Owner and the signed-in account are always kept.
        #[arg(long, value_name = "EMAIL")]
        protect: Vec<String>,
        /// Most deactivations allowed (default: 10 % of active and pending members).
        #[arg(long, value_name = "N")]
        max_deactivate: Option<usize>,
        /// Browser sessions working at once.
        #[arg(long, default_value_t = 1, value_name = "N")]
        parallel: usize,
    },
    /// List members over all pages (read-only, for access reviews).
    Members {
        /// Which members.
        #[arg(long, default_value = "all")]
        status: StatusArg,
        /// Output format.
        #[arg(long, default_value = "table")]
        format: FormatArg,
    },
    /// Start the sandbox and run the whole flow against it: sign in with an emailed code, invite
    /// three people, make one Admin and one Team manager, deactivate and reactivate someone, list
    /// the members, and say where the evidence is.
    Demo {
        /// UI generation of the sandbox.
        #[arg(long, default_value = "2026-03", value_name = "V")]
        ui_version: UiVersion,
    },
    /// Check and present evidence folders.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Work on the selector catalog.
    #[command(subcommand)]
    Selectors(SelectorsCommand),
    /// Serve the local mock of the Clockify admin UI (the sandbox) until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Print the newest sign-in code a sandbox mailed to an address (for --otp-command).
    SandboxCode(SandboxCodeArgs),
}

/// Options of `sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4380)]
    pub port: u16,

    /// Address to listen on. The default keeps the sandbox on this machine; anything else must
    /// be asked for explicitly.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Seed file (TOML) describing the workspace; the built-in "Acme Corp" seed by default.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// UI generation to render: 2025-10, 2026-03, or drift (a synthetic redesign for selector tests).
    #[arg(long, value_name = "V", default_value = "2026-03")]
    pub ui_version: UiVersion,
}

/// Options of `sandbox-code`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxCodeArgs {
    /// Base URL of the running sandbox.
    #[arg(
        long,
        env = "CLOCKIFY_SANDBOX_URL",
        default_value = "http://127.0.0.1:4380"
    )]
    pub url: String,

    /// The address the code was mailed to.
    #[arg(long, env = "CLOCKIFY_OTP_EMAIL")]
    pub email: String,
}

/// `selectors` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum SelectorsCommand {
    /// Check the catalog without a browser: absolute XPath (SEL001), positional indexes (SEL002),
    /// generated classes (SEL003), emails in selectors (SEL004), elements no flow uses (SEL005),
    /// elements without a visible-label or test-id candidate (SEL006). Exit 1 when anything is found.
    Lint,
    /// Read-only check against a tenant (or the sandbox): signs in, opens every page, dialog and
    /// menu that can be opened without changing anything (and cancels them), and reports each
    /// element as first-choice, fallback (drift is coming), ambiguous, missing or not checked.
    /// Exit 1 when anything is missing or ambiguous. `--json` for a nightly canary job.
    Check,
}

/// `audit` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Check a run folder: the hash chain, every screenshot's hash, the manifest and the
    /// signature. Names the first line or file that does not match. Exit 0 verified, 1 tampered
    /// or incomplete, 2 not a run folder.
    Verify {
        /// The run folder (holds events.jsonl).
        dir: PathBuf,
        /// Public key (PEM) to check the manifest's signature with.
        #[arg(long, value_name = "FILE")]
        pubkey: Option<PathBuf>,
    },
    /// Write a self-contained report.html and an evidence-index.csv for one or more run folders
    /// (or audit folders holding them).
    Report {
        /// Run folders or audit folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the report.
        #[arg(long, default_value = ".", value_name = "DIR")]
        out: PathBuf,
    },
    /// Make an ed25519 key pair for --sign-key (private key written 0600).
    Keygen {
        /// Private key file to write (PKCS#8 PEM).
        #[arg(long, value_name = "FILE")]
        private: PathBuf,
        /// Public key file to write (PEM), for `audit verify --pubkey`.
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
    },
}
