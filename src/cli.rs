//! Command-line definitions (clap). Parsing only: `main.rs` turns these into work.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use clockify_ui_agent::sandbox::UiVersion;

/// Manages people in Clockify workspaces through the Clockify admin web UI.
#[derive(Debug, Parser)]
#[command(name = "clockify-ui-agent", version, about, after_help = clockify_ui_agent::exit::HELP_TABLE)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the local mock of the Clockify admin UI (the sandbox) until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Print the newest sign-in code a sandbox mailed to an address (for --otp-command).
    SandboxCode(SandboxCodeArgs),
}

/// Options of `sandbox`.
#[derive(Debug, clap::Args)]
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

    /// UI generation to render: 2025-10 or 2026-03.
    #[arg(long, value_name = "V", default_value = "2026-03")]
    pub ui_version: UiVersion,
}

/// Options of `sandbox-code`.
#[derive(Debug, clap::Args)]
pub struct SandboxCodeArgs {
    /// Base URL of the running sandbox.
    #[arg(
        long,
        env = "CLOCKIFY_SANDBOX_URL",
        default_value = "http://127.0.0.1:4380"
    )]
    pub url: String,

    /// The address the code was mailed to.
    #[arg(long)]
    pub email: String,
}
