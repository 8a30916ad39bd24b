//! The fault cases. Each starts a fresh sandbox, injects one fault while the agent runs a real
//! batch in headless Firefox, and judges the outcome from the sandbox's own state and its log of
//! mutating requests: the final state is right, no mutation was accepted twice, and the outcome
//! was reported honestly. `tests/faults.rs` runs every case once and asserts its verdict; the
//! fault-table benchmark (`benches/faults.rs`) runs each several times and prints the table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clockify_ui_agent::sandbox::UiVersion;
use serde_json::{json, Value};
use tokio::process::Command;

use super::*;

/// One fault the agent must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// A status change answered with HTTP 500 once (the page shows an error toast).
    Http500,
    /// Up to 3 s of added latency on every page and API call.
    Latency3s,
    /// The role dialog's data takes 2.5 s to load.
    SlowDialogs,
    /// Every sign-in session expires after the first item; a code command is configured.
    ExpiredRenewed,
    /// Every sign-in session expires after the first item; no code source: exit 4, then resume.
    ExpiredThenResumed,
    /// The browser process is killed after the first item.
    BrowserKilled,
    /// The driver process is killed after the first item.
    DriverKilled,
    /// The browser process is killed the moment the first change reaches Clockify, before the
    /// agent has read it back.
    BrowserKilledMidAction,
    /// The driver process is killed the moment the first change reaches Clockify.
    DriverKilledMidAction,
    /// The member table re-renders 150 ms after each of three list responses.
    RowsRerendered,
    /// Right after the search, 60 matching people are invited by someone else: the target moves
    /// to page 2 of the results.
    RowMovedToPage2,
    /// No success toast ever appears.
    NoSuccessToast,
    /// No success toast after resending an invitation (which leaves nothing to read back).
    ResendWithoutToast,
}

impl Case {
    /// Every case, in the order of the table.
    pub const ALL: [Case; 13] = [
        Case::Http500,
        Case::Latency3s,
        Case::SlowDialogs,
        Case::ExpiredRenewed,
        Case::ExpiredThenResumed,
        Case::BrowserKilled,
        Case::DriverKilled,
        Case::BrowserKilledMidAction,
        Case::DriverKilledMidAction,
        Case::RowsRerendered,
        Case::RowMovedToPage2,
        Case::NoSuccessToast,
        Case::ResendWithoutToast,
    ];

    /// The row label of the fault table.
    pub fn label(self) -> &'static str {
        match self {
            Case::Http500 => "HTTP 500 on a change",
            Case::Latency3s => "0-3 s latency, every request",
            Case::SlowDialogs => "slow dialog (2.5 s)",
            Case::ExpiredRenewed => "session expired, code cmd",
            Case::ExpiredThenResumed => "session expired, no code",
            Case::BrowserKilled => "browser killed",
            Case::DriverKilled => "driver killed",
            Case::BrowserKilledMidAction => "browser killed mid-action",
            Case::DriverKilledMidAction => "driver killed mid-action",
            Case::RowsRerendered => "rows re-rendered (stale)",
            Case::RowMovedToPage2 => "target moved to page 2",
            Case::NoSuccessToast => "no success toast",
            Case::ResendWithoutToast => "resend, no toast",
        }
    }

    /// Runs the case once on a fresh sandbox.
    pub async fn run(self) -> Verdict {
        let bed = Bed::start(UiVersion::V2026_03).await;
        let started = Instant::now();
        let mut verdict = match self {
            Case::Http500 => http_500(&bed).await,
            Case::Latency3s => latency(&bed).await,
            Case::SlowDialogs => slow_dialogs(&bed).await,
            Case::ExpiredRenewed => expired_renewed(&bed).await,
            Case::ExpiredThenResumed => expired_then_resumed(&bed).await,
            Case::BrowserKilled => killed(&bed, MidBatch::KillBrowser, When::AfterFirstItem).await,
            Case::DriverKilled => killed(&bed, MidBatch::KillDriver, When::AfterFirstItem).await,
            Case::BrowserKilledMidAction => {
                killed(&bed, MidBatch::KillBrowser, When::AtFirstChange).await
            }
            Case::DriverKilledMidAction => {
                killed(&bed, MidBatch::KillDriver, When::AtFirstChange).await
            }
            Case::RowsRerendered => rows_rerendered(&bed).await,
            Case::RowMovedToPage2 => row_moved(&bed).await,
            Case::NoSuccessToast => no_toast(&bed).await,
            Case::ResendWithoutToast => resend_without_toast(&bed).await,
        };
        verdict.duplicates = duplicates(&bed).await;
        verdict.wall = started.elapsed();
        verdict
    }
}

/// How one run of a case ended.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Expectations that were not met (empty when the case ended right).
    pub problems: Vec<String>,
    /// Mutations the sandbox accepted more than once, as `kind target ×n`.
    pub duplicates: Vec<String>,
    /// How long it took to be back on track, where the case has a moment of failure.
    pub recovery: Option<Duration>,
    /// What else was seen (restarts, counts).
    pub note: String,
    /// Wall time of the whole case, sandbox start included.
    pub wall: Duration,
    /// The agent's output, for failure messages.
    pub output: String,
}

impl Verdict {
    /// Whether everything expected happened.
    pub fn ended_right(&self) -> bool {
        self.problems.is_empty()
    }

    /// Panics with every unmet expectation and the agent's output.
    pub fn assert_right(&self) {
        assert!(
            self.ended_right() && self.duplicates.is_empty(),
            "problems: {:?}\nduplicates: {:?}\nagent output:\n{}",
            self.problems,
            self.duplicates,
            self.output
        );
    }

    fn expect(&mut self, holds: bool, what: impl Into<String>) {
        if !holds {
            self.problems.push(what.into());
        }
    }

    fn expect_code(&mut self, run: &Run, code: i32) {
        self.output.push_str(&run.all_output());
        // The agent's own last error line says why, in the table as in a failing test.
        let why = run
            .stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_default();
        self.expect(
            run.code == code,
            format!("exit code {} (wanted {code}) {why}", run.code),
        );
    }

    async fn expect_status(&mut self, bed: &Bed, email: &str, status: &str) {
        let seen = bed
            .member(email)
            .await
            .map(|m| m["status"].as_str().unwrap_or_default().to_string());
        self.expect(
            seen.as_deref() == Some(status),
            format!("{email} is {seen:?} (wanted {status})"),
        );
    }

    async fn expect_accepted(&mut self, bed: &Bed, wanted: &[(&str, &str)]) {
        let mut seen: Vec<(String, String)> = bed.accepted_mutations().await;
        seen.sort();
        seen.dedup();
        let mut wanted: Vec<(String, String)> = wanted
            .iter()
            .map(|(k, t)| (k.to_string(), t.to_string()))
            .collect();
        wanted.sort();
        self.expect(
            seen == wanted,
            format!("accepted changes {seen:?} (wanted {wanted:?})"),
        );
    }
}

const THREE: [&str; 3] = [
    "deactivate,sam.sales@acme.example",
    "deactivate,zoe.unicode@acme.example",
    "reactivate,ivy.inactive@acme.example",
];

const THREE_DONE: [(&str, &str); 3] = [
    ("status", "sam.sales@acme.example"),
    ("status", "zoe.unicode@acme.example"),
    ("status", "ivy.inactive@acme.example"),
];

async fn expect_three_done(verdict: &mut Verdict, bed: &Bed) {
    verdict
        .expect_status(bed, "sam.sales@acme.example", "INACTIVE")
        .await;
    verdict
        .expect_status(bed, "zoe.unicode@acme.example", "INACTIVE")
        .await;
    verdict
        .expect_status(bed, "ivy.inactive@acme.example", "ACTIVE")
        .await;
    verdict.expect_accepted(bed, &THREE_DONE).await;
}

/// Sets sandbox faults (`POST /__sandbox/faults`); returns the faults now on.
pub async fn fault(bed: &Bed, body: Value) -> Value {
    let answer = bed
        .http
        .post(format!("{}/__sandbox/faults", bed.sandbox.url()))
        .json(&body)
        .send()
        .await
        .expect("faults");
    assert!(answer.status().is_success(), "fault accepted");
    answer.json().await.expect("faults JSON")
}

async fn duplicates(bed: &Bed) -> Vec<String> {
    let mut counts = BTreeMap::new();
    for key in bed.accepted_mutations().await {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((kind, target), n)| format!("{kind} {target} ×{n}"))
        .collect()
}

fn write_plan(bed: &Bed, header: &str, lines: &[&str]) -> String {
    let path = bed.dir.path().join("plan.csv");
    std::fs::write(&path, format!("{header}\n{}\n", lines.join("\n"))).expect("plan");
    path.display().to_string()
}

fn plan(bed: &Bed, lines: &[&str]) -> String {
    write_plan(bed, "action,email", lines)
}

/// Every file under `dir`.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
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

/// Every evidence line of every run under the bed's audit folder.
fn events(bed: &Bed) -> String {
    walk(&bed.audit_dir())
        .into_iter()
        .filter(|f| f.ends_with("events.jsonl"))
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

fn journal_done(bed: &Bed) -> usize {
    walk(&bed.audit_dir())
        .into_iter()
        .filter(|f| f.ends_with("journal.jsonl"))
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("\"state\":\"done\""))
                .count()
        })
        .sum()
}

async fn mutation_log(bed: &Bed) -> Vec<Value> {
    bed.get("/__sandbox/mutations")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn http_500(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    fault(
        bed,
        json!({"failNext": {"kind": "status", "status": 500, "count": 1}}),
    )
    .await;
    let plan = plan(
        bed,
        &[
            "deactivate,sam.sales@acme.example",
            "deactivate,zoe.unicode@acme.example",
        ],
    );
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    verdict.expect_code(&run, 0);
    verdict.expect(
        run.stdout.contains("attempt 2 of 3"),
        "the retry is reported",
    );
    for email in ["sam.sales@acme.example", "zoe.unicode@acme.example"] {
        verdict.expect_status(bed, email, "INACTIVE").await;
    }
    let log = mutation_log(bed).await;
    let statuses: Vec<u64> = log
        .iter()
        .map(|m| m["status"].as_u64().unwrap_or(0))
        .collect();
    verdict.expect(
        statuses == [500, 200, 200],
        format!("log statuses {statuses:?} (wanted one 500, then each accepted once)"),
    );
    // Recovery: from the refused request to the accepted one for the same member.
    if let Some(refused) = log.iter().find(|m| m["status"] == 500) {
        let accepted = log
            .iter()
            .find(|m| m["status"] == 200 && m["targets"] == refused["targets"]);
        if let (Some(from), Some(to)) = (
            refused["at_ms"].as_u64(),
            accepted.and_then(|m| m["at_ms"].as_u64()),
        ) {
            verdict.recovery = Some(Duration::from_millis(to.saturating_sub(from)));
        }
    }
    let failed_attempts = events(bed)
        .lines()
        .filter(|l| l.contains("\"kind\":\"action\"") && l.contains("\"outcome\":\"failed\""))
        .count();
    verdict.expect(
        failed_attempts == 1,
        format!("{failed_attempts} failed attempts in the evidence (wanted 1)"),
    );
    verdict
}

async fn latency(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    fault(bed, json!({"latencyMs": [0, 3000]})).await;
    let plan = plan(
        bed,
        &[
            "deactivate,sam.sales@acme.example",
            "invite,slow.newcomer@acme.example",
        ],
    );
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    verdict.note = "2 items".into();
    verdict.expect_code(&run, 0);
    verdict
        .expect_status(bed, "sam.sales@acme.example", "INACTIVE")
        .await;
    verdict
        .expect_status(bed, "slow.newcomer@acme.example", "PENDING")
        .await;
    verdict
        .expect_accepted(
            bed,
            &[
                ("status", "sam.sales@acme.example"),
                ("invite", "slow.newcomer@acme.example"),
            ],
        )
        .await;
    verdict
}

async fn slow_dialogs(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    // The role dialog loads groups and projects before it shows its checkboxes.
    fault(bed, json!({"dialogLatencyMs": 2500})).await;
    let plan = write_plan(
        bed,
        "action,email,role",
        &["set-role,rita.regular@acme.example,admin"],
    );
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    verdict.note = "1 role change".into();
    verdict.expect_code(&run, 0);
    let rita = bed.member("rita.regular@acme.example").await;
    let rita_roles = rita.as_ref().map(roles).unwrap_or_default();
    verdict.expect(
        rita_roles == ["WORKSPACE_ADMIN"],
        format!("rita's roles are {rita_roles:?} (wanted WORKSPACE_ADMIN)"),
    );
    verdict
        .expect_accepted(bed, &[("roles", "rita.regular@acme.example")])
        .await;
    verdict
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

/// When the fault strikes.
#[derive(Clone, Copy, PartialEq)]
enum When {
    /// Once the journal records the first item done.
    AfterFirstItem,
    /// Once the sandbox has accepted the first change (the agent is reading it back).
    AtFirstChange,
}

fn kill_one(pid: u32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Runs [`THREE`] as a batch with `extra` options and injects `fault_now` at `when`. Returns the
/// run and the time from the fault to the next item done (if one was).
async fn batch_with_fault(
    bed: &Bed,
    extra: &[&str],
    fault_now: MidBatch,
    when: When,
) -> (Run, Option<Duration>) {
    let plan = plan(bed, &THREE);
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
    let mut child = Command::new(agent_bin())
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let pid = child.id().expect("pid");
    let started = Instant::now();
    let done_before = loop {
        let reached = match when {
            When::AfterFirstItem => journal_done(bed) >= 1,
            When::AtFirstChange => !bed.accepted_mutations().await.is_empty(),
        };
        if reached {
            break journal_done(bed);
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the moment to inject the fault did not come within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
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
                kill_one(browser);
            }
        }
        MidBatch::KillDriver => {
            let driver = children(pid).into_iter().next().expect("driver process");
            kill_one(driver);
        }
    }
    let faulted = Instant::now();
    let mut recovery = None;
    loop {
        if journal_done(bed) > done_before {
            recovery = Some(faulted.elapsed());
            break;
        }
        if child.try_wait().expect("agent status").is_some()
            || faulted.elapsed() > Duration::from_secs(120)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let output = child.wait_with_output().await.expect("agent ends");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    (run, recovery)
}

async fn expired_renewed(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    let otp = bed.otp_command();
    let (run, recovery) = batch_with_fault(
        bed,
        &["--account", ADMIN, "--otp-command", &otp],
        MidBatch::ExpireSessions,
        When::AfterFirstItem,
    )
    .await;
    verdict.recovery = recovery;
    verdict.expect_code(&run, 0);
    expect_three_done(&mut verdict, bed).await;
    verdict
}

async fn expired_then_resumed(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
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
    verdict.expect_code(&login, 0);
    let session_arg = session.display().to_string();
    let (run, _) = batch_with_fault(
        bed,
        &["--session-file", &session_arg],
        MidBatch::ExpireSessions,
        When::AfterFirstItem,
    )
    .await;
    verdict.expect_code(&run, 4);
    verdict.expect(
        run.stdout.contains("not done"),
        "the items not done are listed",
    );
    let done = bed.accepted_mutations().await.len();
    verdict.expect(
        (1..3).contains(&done),
        format!("{done} items done before stopping (wanted 1 or 2)"),
    );
    // Resume with a code source: the rest is done, nothing twice.
    let batch = std::fs::read_dir(bed.audit_dir())
        .expect("audit")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("journal.jsonl").exists())
        .expect("batch");
    let resumed_at = Instant::now();
    let resumed = bed
        .agent(&["apply", "--resume", &batch.display().to_string()])
        .await;
    verdict.recovery = Some(resumed_at.elapsed());
    verdict.note = "recovery = the resume".into();
    verdict.expect_code(&resumed, 0);
    expect_three_done(&mut verdict, bed).await;
    verdict
}

async fn killed(bed: &Bed, what: MidBatch, when: When) -> Verdict {
    let mut verdict = Verdict::default();
    let otp = bed.otp_command();
    let (run, recovery) = batch_with_fault(
        bed,
        &["--account", ADMIN, "--otp-command", &otp],
        what,
        when,
    )
    .await;
    if when == When::AtFirstChange {
        verdict.expect(
            run.stdout.contains("interrupted attempt") || run.stderr.contains("interrupted"),
            "the item cut off is reported as read after recovering",
        );
    }
    verdict.recovery = recovery;
    verdict.expect_code(&run, 0);
    expect_three_done(&mut verdict, bed).await;
    verdict
}

async fn rows_rerendered(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    // The table is quietly re-rendered 150 ms after each of the next three searches: rows the
    // agent found go stale under it.
    fault(bed, json!({"rerenderRows": {"afterMs": 150, "count": 3}})).await;
    let plan = plan(bed, &THREE);
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    verdict.expect_code(&run, 0);
    expect_three_done(&mut verdict, bed).await;
    let left = fault(bed, json!({})).await;
    verdict.expect(
        left.get("rerenderRows").is_none(),
        "the re-renders happened",
    );
    let restarts = run.stderr.matches("re-rendered during").count();
    verdict.note = format!("{restarts} action restart(s) on stale rows");
    verdict
}

async fn row_moved(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    let before = bed.state().await["members"].as_array().map_or(0, Vec::len);
    // Right after the agent's search, 60 people whose addresses contain the searched address are
    // invited by someone else and sort first: the member moves to page 2.
    fault(
        bed,
        json!({"crowdNextSearch": 60, "rerenderRows": {"afterMs": 150, "count": 1}}),
    )
    .await;
    let plan = plan(bed, &["deactivate,sam.sales@acme.example"]);
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    verdict.expect_code(&run, 0);
    verdict
        .expect_status(bed, "sam.sales@acme.example", "INACTIVE")
        .await;
    let state = bed.state().await;
    let members = state["members"].as_array().cloned().unwrap_or_default();
    verdict.expect(members.len() == before + 60, "the crowd arrived");
    let crowd: Vec<&Value> = members
        .iter()
        .filter(|m| {
            m["email"]
                .as_str()
                .is_some_and(|e| e.ends_with(".sam.sales@acme.example"))
        })
        .collect();
    verdict.expect(
        crowd.len() == 60 && crowd.iter().all(|m| m["status"] == "PENDING"),
        "the 60 others are untouched",
    );
    verdict
        .expect_accepted(bed, &[("status", "sam.sales@acme.example")])
        .await;
    verdict.expect(
        events(bed).contains("\"outcome\":\"verified\""),
        "the deactivation is verified in the evidence",
    );
    verdict
}

async fn no_toast(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    fault(bed, json!({"dropToasts": true})).await;
    let plan = plan(
        bed,
        &[
            "deactivate,sam.sales@acme.example",
            "invite,no.toast@acme.example",
            "reactivate,ivy.inactive@acme.example",
        ],
    );
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    verdict.expect_code(&run, 0);
    verdict
        .expect_status(bed, "sam.sales@acme.example", "INACTIVE")
        .await;
    verdict
        .expect_status(bed, "ivy.inactive@acme.example", "ACTIVE")
        .await;
    verdict
        .expect_status(bed, "no.toast@acme.example", "PENDING")
        .await;
    verdict
        .expect_accepted(
            bed,
            &[
                ("status", "sam.sales@acme.example"),
                ("invite", "no.toast@acme.example"),
                ("status", "ivy.inactive@acme.example"),
            ],
        )
        .await;
    verdict
}

async fn resend_without_toast(bed: &Bed) -> Verdict {
    let mut verdict = Verdict::default();
    fault(bed, json!({"dropToasts": true})).await;
    // A resent mail leaves nothing to read back: the toast is the only confirmation, so without
    // it the honest outcome is "not confirmed", and a second mail would be a duplicate.
    let run = bed
        .agent(&["resend-invite", "--email", "pete.pending@acme.example"])
        .await;
    verdict.expect_code(&run, 1);
    verdict.expect(
        run.all_output().contains("did not confirm"),
        "reported as not confirmed",
    );
    verdict
        .expect_accepted(bed, &[("resend", "pete.pending@acme.example")])
        .await;
    let resends = bed
        .accepted_mutations()
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "resend")
        .count();
    verdict.expect(
        resends == 1,
        format!("{resends} resends (wanted exactly 1)"),
    );
    verdict
}
