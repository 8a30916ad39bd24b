//! Faults injected into the sandbox while a real batch runs in headless Firefox: a mutation
//! answered with HTTP 500, sessions expiring in the middle, the browser killed in the middle, slow
//! pages. Each case is asserted on the sandbox's state and its log of mutating requests: the final
//! state is right, no mutation was accepted twice, and the outcome is reported honestly.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clockify_ui_agent::sandbox::UiVersion;
use serde_json::{json, Value};
use tokio::process::Command;

mod agent_common;

use agent_common::*;

async fn fault(bed: &Bed, body: Value) {
    let answer = bed
        .http
        .post(format!("{}/__sandbox/faults", bed.sandbox.url()))
        .json(&body)
        .send()
        .await
        .expect("faults");
    assert!(answer.status().is_success(), "fault accepted");
}

async fn accepted_once(bed: &Bed) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for key in bed.accepted_mutations().await {
        *counts.entry(key).or_insert(0) += 1;
    }
    for ((kind, target), n) in &counts {
        assert_eq!(*n, 1, "{kind} {target} accepted {n} times");
    }
    counts
}

fn plan(bed: &Bed, lines: &[&str]) -> String {
    let path = bed.dir.path().join("plan.csv");
    std::fs::write(&path, format!("action,email\n{}\n", lines.join("\n"))).expect("plan");
    path.display().to_string()
}

fn journal_done(bed: &Bed) -> usize {
    let mut done = 0;
    for entry in std::fs::read_dir(bed.audit_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let journal = entry.path().join("journal.jsonl");
        done += std::fs::read_to_string(journal)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"state\":\"done\""))
            .count();
    }
    done
}

async fn wait_for_done(bed: &Bed, n: usize) {
    let started = Instant::now();
    while journal_done(bed) < n {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{n} item(s) done"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_is_reported_then_retried_after_a_reread_and_never_duplicated() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    fault(
        &bed,
        json!({"failNext": {"kind": "status", "status": 500, "count": 1}}),
    )
    .await;
    let plan = plan(
        &bed,
        &[
            "deactivate,sam.sales@acme.example",
            "deactivate,zoe.unicode@acme.example",
        ],
    );
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    assert_code(&run, 0);
    assert!(run.stdout.contains("attempt 2 of 3"), "{}", run.stdout);
    for e in ["sam.sales@acme.example", "zoe.unicode@acme.example"] {
        assert_eq!(bed.member(e).await.expect("member")["status"], "INACTIVE");
    }
    let log = bed.get("/__sandbox/mutations").await;
    let statuses: Vec<u64> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|m| m["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(
        statuses,
        vec![500, 200, 200],
        "one refused, then each accepted once"
    );
    accepted_once(&bed).await;
    // The failed attempt is in the evidence.
    let mut failed_attempts = 0;
    for entry in walk(&bed.audit_dir()) {
        if entry.ends_with("events.jsonl") {
            failed_attempts += std::fs::read_to_string(&entry)
                .unwrap_or_default()
                .lines()
                .filter(|l| {
                    l.contains("\"kind\":\"action\"") && l.contains("\"outcome\":\"failed\"")
                })
                .count();
        }
    }
    assert_eq!(failed_attempts, 1, "the refused attempt is recorded");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// What happens after the first item of a batch is done.
#[derive(Clone, Copy, PartialEq)]
enum MidBatch {
    /// Every sign-in session of the sandbox expires.
    ExpireSessions,
    /// The browser process dies (SIGKILL), its driver stays.
    KillBrowser,
    /// The driver process dies (SIGKILL), as when it crashes or is OOM-killed.
    KillDriver,
}

async fn run_batch_with_fault_after_first_item(
    bed: &Bed,
    lines: &[&str],
    extra: &[&str],
    fault_now: MidBatch,
) -> Run {
    let plan = plan(bed, lines);
    let mut args = vec![
        "--base-url".to_string(),
        bed.sandbox.url(),
        "--audit-dir".into(),
        bed.audit_dir().display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["apply".to_string(), "--plan".into(), plan]);
    // Slow pages leave time to inject the fault between two items.
    fault(bed, json!({"latencyMs": [120, 120]})).await;
    let child = Command::new(agent_bin())
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id().expect("pid");
    wait_for_done(bed, 1).await;
    match fault_now {
        MidBatch::ExpireSessions => {
            bed.http
                .post(format!("{}/__sandbox/expire-sessions", bed.sandbox.url()))
                .send()
                .await
                .expect("expire sessions");
        }
        MidBatch::KillBrowser => {
            // The browser is the driver's child: kill it alone, as a crash would.
            let driver = children(pid).into_iter().next().expect("driver process");
            for browser in children(driver) {
                kill_hard(browser);
            }
        }
        MidBatch::KillDriver => {
            let driver = children(pid).into_iter().next().expect("driver process");
            kill_hard(driver);
        }
    }
    let output = child.wait_with_output().await.expect("agent ends");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const THREE: [&str; 3] = [
    "deactivate,sam.sales@acme.example",
    "deactivate,zoe.unicode@acme.example",
    "reactivate,ivy.inactive@acme.example",
];

async fn assert_three_done(bed: &Bed) {
    assert_eq!(
        bed.member("sam.sales@acme.example").await.expect("sam")["status"],
        "INACTIVE"
    );
    assert_eq!(
        bed.member("zoe.unicode@acme.example").await.expect("zoe")["status"],
        "INACTIVE"
    );
    assert_eq!(
        bed.member("ivy.inactive@acme.example").await.expect("ivy")["status"],
        "ACTIVE"
    );
    assert_eq!(accepted_once(bed).await.len(), 3, "every item done once");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_without_a_code_source_stops_with_exit_4_and_resumes() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let session = bed.dir.path().join("session.json");
    let login = run_agent(
        &[
            "--base-url".into(),
            bed.sandbox.url(),
            "--account".into(),
            ADMIN.into(),
            "--otp-command".into(),
            bed.otp_command(),
            "--session-file".into(),
            session.display().to_string(),
            "login".into(),
        ],
        &[],
    )
    .await;
    assert_code(&login, 0);
    let session_arg = session.display().to_string();
    let run = run_batch_with_fault_after_first_item(
        &bed,
        &THREE,
        &["--session-file", &session_arg],
        MidBatch::ExpireSessions,
    )
    .await;
    assert_code(&run, 4);
    assert!(run.stdout.contains("not done"), "{}", run.stdout);
    let done = accepted_once(&bed).await.len();
    assert!((1..3).contains(&done), "stopped midway after {done}");
    // Resume with a code source: the rest is done, nothing twice.
    let batch = std::fs::read_dir(bed.audit_dir())
        .expect("audit")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("journal.jsonl").exists())
        .expect("batch");
    let resumed = bed
        .agent(&["apply", "--resume", &batch.display().to_string()])
        .await;
    assert_code(&resumed, 0);
    assert_three_done(&bed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_expiring_midway_is_renewed_when_a_code_command_is_set() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let otp = bed.otp_command();
    let run = run_batch_with_fault_after_first_item(
        &bed,
        &THREE,
        &["--account", ADMIN, "--otp-command", &otp],
        MidBatch::ExpireSessions,
    )
    .await;
    assert_code(&run, 0);
    assert_three_done(&bed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_killed_midway_is_replaced_and_the_batch_finishes() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let otp = bed.otp_command();
    let run = run_batch_with_fault_after_first_item(
        &bed,
        &THREE,
        &["--account", ADMIN, "--otp-command", &otp],
        MidBatch::KillBrowser,
    )
    .await;
    assert_code(&run, 0);
    assert_three_done(&bed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_driver_killed_midway_is_replaced_and_the_batch_finishes() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let otp = bed.otp_command();
    let run = run_batch_with_fault_after_first_item(
        &bed,
        &THREE,
        &["--account", ADMIN, "--otp-command", &otp],
        MidBatch::KillDriver,
    )
    .await;
    assert_code(&run, 0);
    assert_three_done(&bed).await;
}

/// Runs `lines` as a batch as the admin; returns the run and its evidence lines.
async fn batch(bed: &Bed, lines: &[&str]) -> (Run, String) {
    let plan = plan(bed, lines);
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    let mut events = String::new();
    for file in walk(&bed.audit_dir()) {
        if file.ends_with("events.jsonl") {
            events.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
        }
    }
    (run, events)
}

#[tokio::test(flavor = "multi_thread")]
async fn up_to_3_s_of_latency_on_every_request_still_ends_right() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    fault(&bed, json!({"latencyMs": [0, 3000]})).await;
    let (run, _) = batch(
        &bed,
        &[
            "deactivate,sam.sales@acme.example",
            "invite,slow.newcomer@acme.example",
        ],
    )
    .await;
    assert_code(&run, 0);
    assert_eq!(
        bed.member("sam.sales@acme.example").await.expect("sam")["status"],
        "INACTIVE"
    );
    assert_eq!(
        bed.member("slow.newcomer@acme.example")
            .await
            .expect("invited")["status"],
        "PENDING"
    );
    assert_eq!(accepted_once(&bed).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_dialogs_are_waited_for() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    // The role dialog loads groups and projects before it shows its checkboxes.
    fault(&bed, json!({"dialogLatencyMs": 2500})).await;
    let plan = std::fs::write(
        bed.dir.path().join("roles.csv"),
        "action,email,role\nset-role,rita.regular@acme.example,admin\n",
    );
    plan.expect("plan");
    let path = bed.dir.path().join("roles.csv").display().to_string();
    let run = bed.agent(&["apply", "--plan", &path]).await;
    assert_code(&run, 0);
    assert_eq!(
        roles(&bed.member("rita.regular@acme.example").await.expect("rita")),
        vec!["WORKSPACE_ADMIN".to_string()]
    );
    assert_eq!(accepted_once(&bed).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_re_rendered_between_finding_and_clicking_are_found_again() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    // Each member list the page shows is quietly re-rendered 150 ms later, three times in a
    // row: rows found by the agent go stale under it.
    fault(&bed, json!({"rerenderRows": {"afterMs": 150, "count": 3}})).await;
    let (run, _) = batch(&bed, &THREE).await;
    assert_code(&run, 0);
    assert_three_done(&bed).await;
    let left: Value = bed
        .http
        .post(format!("{}/__sandbox/faults", bed.sandbox.url()))
        .json(&json!({}))
        .send()
        .await
        .expect("faults")
        .json()
        .await
        .expect("faults JSON");
    assert!(
        left.get("rerenderRows").is_none(),
        "the re-renders happened"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_moving_to_page_2_between_reading_and_acting_is_followed_there() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let before = bed.state().await["members"]
        .as_array()
        .expect("members")
        .len();
    // Right after the agent's search, 60 people whose addresses contain the searched address
    // are invited by someone else and sort first: the member moves to page 2.
    fault(
        &bed,
        json!({"crowdNextSearch": 60, "rerenderRows": {"afterMs": 150, "count": 1}}),
    )
    .await;
    let (run, events) = batch(&bed, &["deactivate,sam.sales@acme.example"]).await;
    assert_code(&run, 0);
    assert_eq!(
        bed.member("sam.sales@acme.example").await.expect("sam")["status"],
        "INACTIVE"
    );
    let state = bed.state().await;
    let members = state["members"].as_array().expect("members");
    assert_eq!(members.len(), before + 60, "the crowd arrived");
    let crowd: Vec<&Value> = members
        .iter()
        .filter(|m| {
            m["email"]
                .as_str()
                .is_some_and(|e| e.ends_with(".sam.sales@acme.example"))
        })
        .collect();
    assert_eq!(crowd.len(), 60);
    assert!(
        crowd.iter().all(|m| m["status"] == "PENDING"),
        "nobody else was touched"
    );
    assert_eq!(
        accepted_once(&bed).await.into_keys().collect::<Vec<_>>(),
        vec![("status".to_string(), "sam.sales@acme.example".to_string())]
    );
    assert!(events.contains("\"outcome\":\"verified\""), "{events}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_success_toasts_the_read_back_decides() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    fault(&bed, json!({"dropToasts": true})).await;
    let (run, _) = batch(
        &bed,
        &[
            "deactivate,sam.sales@acme.example",
            "invite,no.toast@acme.example",
            "reactivate,ivy.inactive@acme.example",
        ],
    )
    .await;
    assert_code(&run, 0);
    assert_eq!(
        bed.member("sam.sales@acme.example").await.expect("sam")["status"],
        "INACTIVE"
    );
    assert_eq!(
        bed.member("ivy.inactive@acme.example").await.expect("ivy")["status"],
        "ACTIVE"
    );
    assert!(bed.member("no.toast@acme.example").await.is_some());
    assert_eq!(accepted_once(&bed).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resent_invitation_without_its_toast_is_reported_unconfirmed_and_not_resent() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    fault(&bed, json!({"dropToasts": true})).await;
    // A resent mail leaves nothing to read back: the toast is the only confirmation, so
    // without it the honest outcome is "not confirmed", and a second mail would be a duplicate.
    let run = bed
        .agent(&["resend-invite", "--email", "pete.pending@acme.example"])
        .await;
    assert_code(&run, 1);
    assert!(
        run.all_output().contains("did not confirm"),
        "{}",
        run.all_output()
    );
    assert_eq!(
        accepted_once(&bed).await.into_keys().collect::<Vec<_>>(),
        vec![(
            "resend".to_string(),
            "pete.pending@acme.example".to_string()
        )],
        "sent exactly once"
    );
}
