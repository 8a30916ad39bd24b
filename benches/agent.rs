//! The agent benchmark: real headless Firefox against the sandbox with no injected latency and full
//! evidence. 100 invites, 100 role changes and 100 deactivations in one session, then the same
//! with `--parallel 2`, and the time to list 500+ members. Prints a table and writes JSON; it
//! asserts nothing about time (the machines are shared and noisy).
//!
//! Run with `scripts/bench` (or `cargo bench --bench agent`). `BENCH_ITEMS=20` shrinks the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion};
use serde_json::{json, Value};

const SEED: &str = r#"
projects = ["Website Redesign", "Mobile App"]
[workspace]
name = "Bench Corp"
plan = "enterprise"
seats = 2000
[[members]]
email = "owner@bench.example"
name = "Olivia Owner"
roles = ["owner"]
[[members]]
email = "admin@bench.example"
name = "Adam Admin"
roles = ["admin"]
[generate]
count = 520
domain = "bench.example"
"#;

struct Kind {
    name: &'static str,
    millis: Vec<f64>,
    commands: Vec<f64>,
    wall_s: f64,
    peak_rss_kb: u64,
    browser_start_ms: Vec<f64>,
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[rank.min(v.len() - 1)]
}

fn agent() -> PathBuf {
    // Benches build the library in release; the binary sits next to the bench executable's folder.
    let exe = std::env::current_exe().expect("bench path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder");
    let bin = dir.join("clockify-ui-agent");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first (scripts/bench does)",
        bin.display()
    );
    bin
}

fn session_starts(audit: &Path) -> Vec<f64> {
    let mut starts = Vec::new();
    let mut stack = vec![audit.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "events.jsonl") {
                for line in std::fs::read_to_string(&path).unwrap_or_default().lines() {
                    if let Ok(v) = serde_json::from_str::<Value>(line) {
                        if v["data"]["what"] == "session ready" {
                            if let Some(ms) = v["data"]["browser_start_ms"].as_f64() {
                                starts.push(ms);
                            }
                        }
                    }
                }
            }
        }
    }
    starts
}

async fn run_plan(url: &str, name: &'static str, csv: &str, parallel: usize, work: &Path) -> Kind {
    let plan = work.join(format!("{name}-{parallel}.csv"));
    std::fs::write(&plan, csv).expect("write plan");
    let audit = work.join(format!("audit-{name}-{parallel}"));
    let otp = format!(
        "'{}' sandbox-code --url {url} --email \"$CLOCKIFY_OTP_EMAIL\"",
        agent().display()
    );
    let started = Instant::now();
    let output = tokio::process::Command::new(agent())
        .args([
            "--base-url",
            url,
            "--account",
            "admin@bench.example",
            "--otp-command",
            &otp,
        ])
        .arg("--audit-dir")
        .arg(&audit)
        .args([
            "--json",
            "apply",
            "--parallel",
            &parallel.to_string(),
            "--plan",
        ])
        .arg(&plan)
        .output()
        .await
        .expect("agent runs");
    let wall_s = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{name}: exit {:?}\n{}\n{}",
        output.status.code(),
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut kind = Kind {
        name,
        millis: Vec::new(),
        commands: Vec::new(),
        wall_s,
        peak_rss_kb: 0,
        browser_start_ms: session_starts(&audit),
    };
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(summary) = v.get("summary") {
            kind.peak_rss_kb = summary["agent_peak_rss_kb"].as_u64().unwrap_or(0);
        } else if v["outcome"] == "verified" {
            kind.millis.push(v["millis"].as_f64().unwrap_or(f64::NAN));
            kind.commands
                .push(v["webdriver_commands"].as_f64().unwrap_or(f64::NAN));
        }
    }
    kind
}

#[tokio::main]
async fn main() {
    let items: usize = std::env::var("BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed = Seed::parse(SEED, "bench seed").expect("bench seed");
    let state = seed.build().expect("builds");
    let sandbox = RunningSandbox::start_local(SandboxConfig {
        seed,
        ui_version: UiVersion::V2026_03,
    })
    .await
    .expect("sandbox");
    let url = sandbox.url();
    let work = tempfile::tempdir().expect("tempdir");
    let http = reqwest::Client::new();
    let active: Vec<String> = state
        .members
        .iter()
        .filter(|m| {
            m.status == clockify_ui_agent::sandbox::model::MemberStatus::Active
                && m.roles.is_empty()
        })
        .map(|m| m.email.clone())
        .collect();
    assert!(active.len() >= 2 * items, "seed has enough regular members");
    let invites: String = std::iter::once("action,email\n".to_string())
        .chain((0..items).map(|i| format!("invite,bench.new{i}@bench.example\n")))
        .collect();
    let roles: String = std::iter::once("action,email,role\n".to_string())
        .chain(
            active[..items]
                .iter()
                .map(|e| format!("set-role,{e},admin\n")),
        )
        .collect();
    let deactivations: String = std::iter::once("action,email\n".to_string())
        .chain(
            active[items..2 * items]
                .iter()
                .map(|e| format!("deactivate,{e}\n")),
        )
        .collect();

    let mut results = Vec::new();
    for parallel in [1, 2] {
        http.post(format!("{url}/__sandbox/reset"))
            .send()
            .await
            .expect("reset");
        for (name, csv) in [
            ("invite", &invites),
            ("set-role", &roles),
            ("deactivate", &deactivations),
        ] {
            eprintln!("bench: {items} x {name}, --parallel {parallel} …");
            let kind = run_plan(&url, name, csv, parallel, work.path()).await;
            results.push((parallel, kind));
        }
    }

    // Listing every member (all pages), one session.
    let otp = format!(
        "'{}' sandbox-code --url {url} --email \"$CLOCKIFY_OTP_EMAIL\"",
        agent().display()
    );
    let started = Instant::now();
    let listing = tokio::process::Command::new(agent())
        .args([
            "--base-url",
            &url,
            "--account",
            "admin@bench.example",
            "--otp-command",
            &otp,
        ])
        .arg("--audit-dir")
        .arg(work.path().join("audit-members"))
        .args(["members", "--format", "json"])
        .output()
        .await
        .expect("members runs");
    let list_wall = started.elapsed().as_secs_f64();
    let listed: Vec<Value> = serde_json::from_slice(&listing.stdout).unwrap_or_default();
    let list_session = session_starts(&work.path().join("audit-members"));

    println!();
    println!(
        "{:<11} {:>3} {:>6} {:>9} {:>9} {:>10} {:>9} {:>10} {:>9}",
        "action",
        "par",
        "items",
        "median ms",
        "p95 ms",
        "cmds/act",
        "act/min",
        "session ms",
        "peak MiB"
    );
    let mut json_rows = Vec::new();
    for (parallel, k) in &results {
        let per_minute = k.millis.len() as f64 / k.wall_s * 60.0;
        let median = percentile(&k.millis, 50.0);
        let p95 = percentile(&k.millis, 95.0);
        let commands = percentile(&k.commands, 50.0);
        let session = percentile(&k.browser_start_ms, 50.0);
        println!(
            "{:<11} {:>3} {:>6} {:>9.0} {:>9.0} {:>10.0} {:>9.1} {:>10.0} {:>9.1}",
            k.name,
            parallel,
            k.millis.len(),
            median,
            p95,
            commands,
            per_minute,
            session,
            k.peak_rss_kb as f64 / 1024.0
        );
        json_rows.push(json!({
            "action": k.name,
            "parallel": parallel,
            "items_verified": k.millis.len(),
            "median_ms": median,
            "p95_ms": p95,
            "webdriver_commands_per_action": commands,
            "actions_per_minute": per_minute,
            "wall_s": k.wall_s,
            "session_start_ms": session,
            "agent_peak_rss_kb": k.peak_rss_kb,
        }));
    }
    println!(
        "members: listed {} in {:.1} s wall (session start {:.0} ms included)",
        listed.len(),
        list_wall,
        percentile(&list_session, 50.0)
    );
    let report = json!({
        "machine": {"cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
        "items_per_kind": items,
        "actions": json_rows,
        "list_members": {"count": listed.len(), "wall_s": list_wall, "session_start_ms": percentile(&list_session, 50.0)},
    });
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out).expect("bench folder");
    let file = out.join("agent.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&report).expect("json")).expect("write");
    println!("written: {}", file.display());
    sandbox.stop().await;
}
