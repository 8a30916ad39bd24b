//! Helpers shared by the tests that run the agent binary against an in-process sandbox.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion};
use serde_json::Value;
use tokio::process::Command;

pub mod fault_cases;

pub const ADMIN: &str = "admin@acme.example";
pub const OWNER: &str = "owner@acme.example";

pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both outputs.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
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

    /// Runs the agent signed in as `account` with an emailed code, plus `args`.
    pub async fn agent_as(&self, account: &str, args: &[&str]) -> Run {
        let mut all = vec![
            "--base-url".to_string(),
            self.sandbox.url(),
            "--account".into(),
            account.into(),
            "--otp-command".into(),
            self.otp_command(),
            "--audit-dir".into(),
            self.audit_dir().display().to_string(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        run_agent(&all, &[]).await
    }

    pub async fn agent(&self, args: &[&str]) -> Run {
        self.agent_as(ADMIN, args).await
    }

    pub async fn state(&self) -> Value {
        self.get("/__sandbox/state").await
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sandbox.url()))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    pub async fn member(&self, email: &str) -> Option<Value> {
        self.state().await["members"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["email"] == email)
            .cloned()
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
}

pub async fn run_agent(args: &[String], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(agent_bin());
    command
        .args(args)
        .env_remove("CLOCKIFY_PASSWORD")
        .env_remove("CLOCKIFY_EMAIL")
        .env_remove("CLOCKIFY_BASE_URL")
        .env_remove("CLOCKIFY_SESSION_FILE")
        .env_remove("CLOCKIFY_OTP_COMMAND");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().await.expect("agent runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
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
