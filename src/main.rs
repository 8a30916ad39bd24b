//! The `clockify-ui-agent` binary: parses arguments, runs the command, maps errors to the
//! documented exit codes (`clockify_ui_agent::exit`), printing the whole error chain.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use clockify_ui_agent::exit;
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, TEST_PREFIX};

mod cli;

use cli::{Cli, Command, SandboxArgs, SandboxCodeArgs};

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: exit::USAGE,
            error: error.into(),
        }
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
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

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Sandbox(args) => sandbox(args).await,
        Command::SandboxCode(args) => sandbox_code(args).await,
    }
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
    tokio::select! {
        _ = running.wait() => Ok(()),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
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
