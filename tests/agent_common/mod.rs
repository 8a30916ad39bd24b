//! Helpers shared by the tests that run the agent binary against an in-process sandbox.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion};
use serde_json::Value;
use tokio::process::Command;

pub mod fault_cases;

pub const ADMIN: &str = "admin@acme.example";
pub const OWNER: &str = "owner@acme.example";

/// A driver path no browser can start from: a run given it that gets past its options exits 3,
/// so an exit 2 proves the input was refused first.
pub const NO_DRIVER: &str = "/nonexistent/geckodriver";

/// What the agent reads from its environment (the `CLOCKIFY_*` fallbacks of its options, and
/// `RUST_LOG` for its logging): removed from every run, so that a test sees only what it passes
/// and not what the shell running the tests happens to have set.
pub const AGENT_ENV: [&str; 9] = [
    "CLOCKIFY_PASSWORD",
    "CLOCKIFY_EMAIL",
    "CLOCKIFY_BASE_URL",
    "CLOCKIFY_SESSION_FILE",
    "CLOCKIFY_OTP_COMMAND",
    "CLOCKIFY_CREDENTIALS_FILE",
    "CLOCKIFY_ACTOR",
    "CLOCKIFY_SANDBOX_URL",
    "RUST_LOG",
];

pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// What a finished process left.
    pub fn from_output(output: std::process::Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Both outputs, each under a heading (for failure messages and secret searches).
    pub fn all_output(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// A sandbox plus what it takes to run the agent against it.
pub struct Bed {
    /// The sandbox.
    pub sandbox: RunningSandbox,
    /// A folder for the test.
    pub dir: tempfile::TempDir,
    /// HTTP to the sandbox.
    pub http: reqwest::Client,
}

pub fn agent_bin() -> &'static str {
    env!("CARGO_BIN_EXE_clockify-ui-agent")
}

/// The agent binary with `args`, none of [`AGENT_ENV`] set and stdin closed (a prompt reads
/// end-of-file instead of waiting). The std command, for tests without a runtime; see
/// [`agent_command`] for tokio's.
pub fn agent_std_command<I, S>(args: I) -> std::process::Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = std::process::Command::new(agent_bin());
    command.args(args).stdin(std::process::Stdio::null());
    for var in AGENT_ENV {
        command.env_remove(var);
    }
    command
}

/// [`agent_std_command`] for tokio, killed when dropped (so a test that gives up on it, or
/// panics, leaves no agent running).
pub fn agent_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::from(agent_std_command(args));
    command.kill_on_drop(true);
    command
}

/// Runs `command` to its end, or kills it once `limit` has passed: what it left and how long it
/// took. A run that was killed is exit -1 with a stderr saying so, which fails any check of the
/// exit code, instead of a test that hangs (an agent blocked reading a FIFO, say).
pub async fn output_within(mut command: Command, limit: Duration) -> (Run, Duration) {
    // Dropping the unfinished `output()` future on timeout kills the child only with this.
    command.kill_on_drop(true);
    let started = Instant::now();
    let run = match tokio::time::timeout(limit, command.output()).await {
        Ok(output) => Run::from_output(output.expect("the agent binary runs")),
        Err(_) => Run {
            code: -1,
            stdout: String::new(),
            stderr: format!("(still running after {limit:?}; killed: it hung)"),
        },
    };
    (run, started.elapsed())
}

/// Owned copies of `args`, for a command line.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// `base` followed by `more`.
pub fn with(mut base: Vec<String>, more: &[&str]) -> Vec<String> {
    base.extend(strings(more));
    base
}

/// GETs `url` and reads its JSON answer.
pub async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// Serves `app` on a port of its own on 127.0.0.1 (another origin than the sandbox): its URL,
/// and the task to abort when done.
pub async fn serve(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

impl Bed {
    pub async fn start(ui: UiVersion) -> Self {
        let sandbox = RunningSandbox::start_local(SandboxConfig {
            seed: Seed::builtin(),
            ui_version: ui,
        })
        .await
        .expect("sandbox starts");
        Bed {
            sandbox,
            dir: tempfile::tempdir().expect("tempdir"),
            http: reqwest::Client::new(),
        }
    }

    pub fn otp_command(&self) -> String {
        format!(
            "'{}' sandbox-code --url {} --email \"$CLOCKIFY_OTP_EMAIL\"",
            agent_bin(),
            self.sandbox.url()
        )
    }

    pub fn audit_dir(&self) -> PathBuf {
        self.dir.path().join("audit")
    }

    /// Writes `text` to `name` in the test's folder; returns the file's path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    /// Options that sign in at `base_url` as `account` with an emailed code (read from this
    /// sandbox's mailbox) and keep evidence in `audit`, followed by `more`.
    pub fn code_args_at(
        &self,
        base_url: &str,
        account: &str,
        audit: &Path,
        more: &[&str],
    ) -> Vec<String> {
        with(
            strings(&[
                "--base-url",
                base_url,
                "--account",
                account,
                "--otp-command",
                &self.otp_command(),
                "--audit-dir",
                &audit.display().to_string(),
            ]),
            more,
        )
    }

    /// [`Bed::code_args_at`] at this sandbox, evidence in [`Bed::audit_dir`].
    pub fn code_args(&self, account: &str, more: &[&str]) -> Vec<String> {
        self.code_args_at(&self.sandbox.url(), account, &self.audit_dir(), more)
    }

    /// Options that use the session saved in `session` against this sandbox, evidence in
    /// [`Bed::audit_dir`], followed by `more`.
    pub fn session_args(&self, session: &Path, more: &[&str]) -> Vec<String> {
        with(
            strings(&[
                "--base-url",
                &self.sandbox.url(),
                "--session-file",
                &session.display().to_string(),
                "--audit-dir",
                &self.audit_dir().display().to_string(),
            ]),
            more,
        )
    }

    /// `members` for tenant `tenant` of the tenants file `file`, with a driver that does not
    /// exist and evidence in [`Bed::audit_dir`].
    pub fn tenant_args(&self, file: &str, tenant: &str) -> Vec<String> {
        strings(&[
            "--config",
            file,
            "--tenant",
            tenant,
            "--driver-path",
            NO_DRIVER,
            "--audit-dir",
            &self.audit_dir().display().to_string(),
            "members",
        ])
    }

    /// Runs the agent signed in as `account` with an emailed code, plus `args`.
    pub async fn agent_as(&self, account: &str, args: &[&str]) -> Run {
        run_agent(&self.code_args(account, args), &[]).await
    }

    pub async fn agent(&self, args: &[&str]) -> Run {
        self.agent_as(ADMIN, args).await
    }

    pub async fn state(&self) -> Value {
        self.get("/__sandbox/state").await
    }

    pub async fn get(&self, path: &str) -> Value {
        get_json(&self.http, format!("{}{path}", self.sandbox.url())).await
    }

    pub async fn member(&self, email: &str) -> Option<Value> {
        self.state().await["members"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["email"] == email)
            .cloned()
    }

    /// The status of `email` in the sandbox (`ACTIVE`, `PENDING` or `INACTIVE`); fails when
    /// there is no such member.
    pub async fn status(&self, email: &str) -> Value {
        let member = self.member(email).await;
        member.unwrap_or_else(|| panic!("{email} is not a member"))["status"].clone()
    }

    /// Sets the sandbox's injected faults (`POST /__sandbox/faults`).
    pub async fn set_faults(&self, faults: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/__sandbox/faults", self.sandbox.url()))
            .json(&faults)
            .send()
            .await
            .expect("POST faults")
    }

    /// Mutating requests that were accepted (2xx), as (kind, first target).
    pub async fn accepted_mutations(&self) -> Vec<(String, String)> {
        self.get("/__sandbox/mutations")
            .await
            .as_array()
            .expect("log")
            .iter()
            .filter(|m| {
                m["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
            })
            .map(|m| {
                (
                    m["kind"].as_str().unwrap_or_default().to_string(),
                    m["targets"][0].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub async fn all_mutations(&self) -> usize {
        self.get("/__sandbox/mutations")
            .await
            .as_array()
            .expect("log")
            .len()
    }

    /// Asserts that the sandbox saw no mutating request and mailed nothing.
    pub async fn assert_untouched(&self) {
        assert_eq!(self.all_mutations().await, 0, "no mutating request at all");
        assert_eq!(
            self.get("/__sandbox/mailbox").await,
            serde_json::json!([]),
            "no mail (no sign-in code requested)"
        );
    }
}

/// Runs the agent with `args` and, of its environment, only `env` (see [`agent_command`]); fails
/// naming `scripts/install-deps` when it exits 3 (no browser or driver).
pub async fn run_agent(args: &[String], env: &[(&str, &str)]) -> Run {
    let mut command = agent_command(args);
    command.envs(env.iter().copied());
    let run = Run::from_output(command.output().await.expect("agent runs"));
    assert_ne!(
        run.code,
        3,
        "browser or driver unavailable; run scripts/install-deps\n{}",
        run.all_output()
    );
    run
}

pub fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "exit code; output:\n{}", run.all_output());
}

/// Asserts that the run printed `text` on stdout, showing all it printed otherwise.
pub fn assert_stdout_has(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text),
        "stdout lacks {text:?}; output:\n{}",
        run.all_output()
    );
}

/// One input the agent must refuse: what it is, the arguments, the exit code and what stderr
/// must say.
pub struct Refusal {
    pub what: String,
    pub args: Vec<String>,
    pub code: i32,
    pub says: Vec<String>,
    /// Strings that must never be printed (a password in a refused file, say).
    pub never: Vec<String>,
}

impl Refusal {
    pub fn new(what: impl Into<String>, args: Vec<String>, code: i32, says: &[&str]) -> Self {
        Refusal {
            what: what.into(),
            args,
            code,
            says: strings(says),
            never: Vec::new(),
        }
    }

    pub fn never(mut self, secret: &str) -> Self {
        self.never.push(secret.to_string());
        self
    }
}

/// Runs every case (killing a run after `limit`) and collects every mismatch, so that one test
/// run shows all of them: the exit code, a text stderr lacks, a secret printed, a stderr that
/// does not start with "error: ", what `more` finds wrong with a run, and a run that took longer
/// than `max_time`.
pub async fn check_refusals(
    cases: Vec<Refusal>,
    limit: Duration,
    max_time: Duration,
    more: impl Fn(&Run) -> Option<String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let (out, elapsed) = output_within(agent_command(&case.args), limit).await;
        let mut wrong = Vec::new();
        if out.code != case.code {
            wrong.push(format!("exit {} (expected {})", out.code, case.code));
        }
        for needle in &case.says {
            if !out.stderr.contains(needle.as_str()) {
                wrong.push(format!("stderr lacks {needle:?}"));
            }
        }
        for secret in &case.never {
            if out.stdout.contains(secret.as_str()) || out.stderr.contains(secret.as_str()) {
                wrong.push(format!("printed the secret {secret:?}"));
            }
        }
        if !out.stderr.starts_with("error: ") {
            wrong.push("stderr does not start with \"error: \"".into());
        }
        wrong.extend(more(&out));
        if elapsed > max_time {
            wrong.push(format!("took {elapsed:?}"));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n  args: {:?}\n{}",
                case.what,
                wrong.join("; "),
                case.args,
                out.all_output()
            ));
        }
    }
    failures
}

pub fn roles(member: &Value) -> Vec<String> {
    member["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string())
        .collect()
}

pub fn pngs_under(dir: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "png") {
                count += 1;
            }
        }
    }
    count
}

/// Whether a process with this pid is still alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.split_whitespace()
                .nth(2)
                .is_none_or(|state| state != "Z")
        })
        .unwrap_or(false)
}

/// Child pids of `pid`, from every thread of it (a child belongs to the thread that forked it).
pub fn children(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        all.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    all
}

/// Kills `pid` and, with it, the driver processes it started (they run in their own process
/// groups, so a SIGKILL of the agent alone would leave them behind).
pub fn kill_hard(pid: u32) {
    for child in children(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(child as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}
