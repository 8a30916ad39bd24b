//! The `sandbox` and `sandbox-code` commands as a user runs them: bad input gives a clear one-line
//! error and a non-zero exit; a good start prints the URL and the sign-in accounts. No browser.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clockify-ui-agent"))
}

fn run(args: &[&str]) -> Output {
    agent().args(args).output().expect("binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_exit_codes() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in ["Exit codes:", "130", "sandbox"] {
        assert!(text.contains(needle), "--help lacks {needle:?}:\n{text}");
    }
}

#[test]
fn unknown_ui_version_is_refused_naming_the_known_ones() {
    let output = run(&["sandbox", "--ui-version", "1999-01", "--port", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("1999-01") && err.contains("2025-10") && err.contains("2026-03"),
        "{err}"
    );
}

#[test]
fn bad_seed_file_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("bad.toml");
    std::fs::write(&seed, "[workspace]\nname = \"W\"\nplan = \"platinum\"\n").expect("write");
    let output = run(&[
        "sandbox",
        "--port",
        "0",
        "--seed",
        seed.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("bad.toml") && err.contains("platinum"),
        "{err}"
    );

    let missing = dir.path().join("missing.toml");
    let output = run(&[
        "sandbox",
        "--port",
        "0",
        "--seed",
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn port_in_use_is_refused() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let output = run(&["sandbox", "--port", &port]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains(&port) && err.contains("in use"), "{err}");
}

/// Kills the child on drop, so a failing assertion leaves no server behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sandbox_prints_url_and_accounts_and_serves_the_code_reader() {
    let mut child = Child(
        agent()
            .args(["sandbox", "--port", "0", "--ui-version", "2025-10"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    for needle in [
        "owner@acme.example",
        "admin@acme.example",
        "2025-10",
        "Acme Corp",
    ] {
        assert!(banner.contains(needle), "banner lacks {needle}:\n{banner}");
    }
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:") && w.ends_with("/en/login"))
        .expect("URL printed")
        .trim_end_matches("/en/login")
        .to_string();

    let http = reqwest::blocking::Client::new();
    let sent = http
        .post(format!("{url}/api/auth/otp"))
        .json(&serde_json::json!({"email": "admin@acme.example"}))
        .send()
        .expect("request code");
    assert!(sent.status().is_success());
    let output = run(&[
        "sandbox-code",
        "--url",
        &url,
        "--email",
        "admin@acme.example",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let code = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert_eq!(code.len(), 6, "{code:?}");
    let verified = http
        .post(format!("{url}/api/auth/otp/verify"))
        .json(&serde_json::json!({"email": "admin@acme.example", "code": code}))
        .send()
        .expect("verify");
    assert!(verified.status().is_success(), "the printed code signs in");

    let output = run(&[
        "sandbox-code",
        "--url",
        &url,
        "--email",
        "nobody@acme.example",
    ]);
    assert_eq!(output.status.code(), Some(2));
}
