//! Batches as a user runs them: `apply --plan`, a kill in the middle followed by `--resume`,
//! `--parallel 2`, and `sync` against a desired-state file. Real headless Firefox against an
//! in-process sandbox; every assertion is on the sandbox's state and its log of mutating requests.

use std::time::{Duration, Instant};

use clockify_ui_agent::sandbox::UiVersion;
use serde_json::Value;

mod agent_common;

use agent_common::*;

/// Accepted mutations per (kind, target).
async fn accepted_counts(bed: &Bed) -> std::collections::BTreeMap<(String, String), usize> {
    let mut counts = std::collections::BTreeMap::new();
    for key in bed.accepted_mutations().await {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_plan_is_refused_whole_with_line_numbers() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let plan = bed.write(
        "bad.csv",
        "\u{feff}action,email,role\r\ninvite,ok@acme.example,\r\n\r\nfly,sam.sales@acme.example,\r\nset-role,rita.regular@acme.example,boss\r\ndeactivate,not-an-email,\r\ninvite,ok@acme.example,\r\n",
    );
    let started = Instant::now();
    let run = bed.agent(&["apply", "--plan", &plan]).await;
    assert_code(&run, 2);
    for line in ["bad.csv:4", "bad.csv:5", "bad.csv:6", "bad.csv:7"] {
        assert!(run.stderr.contains(line), "names {line}: {}", run.stderr);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused before a browser"
    );
    assert_eq!(bed.all_mutations().await, 0, "nothing done");
}

fn done_lines(journal: &std::path::Path) -> usize {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"state\":\"done\""))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_killed_midway_resumes_without_doing_anything_twice() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let targets = [
        "ana.alvarez@acme.example",
        "bo.alvarez@acme.example",
        "carmen.alvarez@acme.example",
        "dmitri.alvarez@acme.example",
        "elif.alvarez@acme.example",
        "farah.alvarez@acme.example",
    ];
    let state = bed.state().await;
    let active: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|e| {
            state["members"]
                .as_array()
                .expect("members")
                .iter()
                .any(|m| m["email"] == *e && m["status"] == "ACTIVE")
        })
        .collect();
    assert!(active.len() >= 4, "enough active seed members: {active:?}");
    let mut csv = String::from("action,email\n");
    for e in &active {
        csv.push_str(&format!("deactivate,{e}\n"));
    }
    csv.push_str("invite,resume.new@acme.example\n");
    let plan = bed.write("plan.csv", &csv);
    // Slow pages make the kill land in the middle of the batch.
    bed.set_faults(serde_json::json!({"latencyMs": [150, 150]}))
        .await;
    let audit = bed.audit_dir();
    let child = agent_command(bed.code_args(ADMIN, &["apply", "--plan", &plan]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id().expect("pid");
    let started = Instant::now();
    let batch_dir = loop {
        let found = std::fs::read_dir(&audit)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join("journal.jsonl").exists());
        if let Some(dir) = found {
            if done_lines(&dir.join("journal.jsonl")) >= 2 {
                break dir;
            }
        }
        assert!(started.elapsed().as_secs() < 90, "the batch got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    kill_hard(pid);
    let _ = child.wait_with_output().await;
    let done_at_kill = done_lines(&batch_dir.join("journal.jsonl"));
    assert!(done_at_kill < active.len() + 1, "killed before the end");

    // The evidence of the killed run verifies as incomplete, not as tampered.
    let run_dir = std::fs::read_dir(&batch_dir)
        .expect("batch dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("events.jsonl").exists())
        .expect("a run folder");
    let verify = run_agent(
        &[
            "audit".into(),
            "verify".into(),
            run_dir.display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(verify.code, 1, "{}", verify.all_output());
    assert!(verify.stdout.contains("INCOMPLETE"), "{}", verify.stdout);
    assert!(!verify.stdout.contains("TAMPERED"), "{}", verify.stdout);

    bed.http
        .delete(format!("{}/__sandbox/faults", bed.sandbox.url()))
        .send()
        .await
        .expect("clear faults");
    let resumed = bed
        .agent(&["apply", "--resume", &batch_dir.display().to_string()])
        .await;
    assert_code(&resumed, 0);
    for e in &active {
        assert_eq!(bed.status(e).await, "INACTIVE", "{e}");
    }
    assert_eq!(bed.status("resume.new@acme.example").await, "PENDING");
    let counts = accepted_counts(&bed).await;
    for ((kind, target), n) in &counts {
        assert_eq!(*n, 1, "{kind} {target} done exactly once: {counts:?}");
    }
    assert_eq!(
        counts.len(),
        active.len() + 1,
        "every item done: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_sessions_split_the_plan_by_member() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let plan = bed.write(
        "plan.json",
        r#"[
  {"action": "invite", "email": "par1@acme.example"},
  {"action": "invite", "email": "par2@acme.example"},
  {"action": "set-role", "email": "par1@acme.example", "role": "admin"},
  {"action": "deactivate", "email": "sam.sales@acme.example"},
  {"action": "reactivate", "email": "ivy.inactive@acme.example"},
  {"action": "set-role", "email": "rita.regular@acme.example", "role": "project-manager", "projects": ["Mobile App"]}
]"#,
    );
    let run = bed
        .agent(&["--json", "apply", "--plan", &plan, "--parallel", "2"])
        .await;
    assert_code(&run, 0);
    let summary: Value = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("summary").is_some())
        .expect("summary line");
    assert_eq!(summary["summary"]["verified"], 6, "{}", run.stdout);
    assert_eq!(
        bed.member("par1@acme.example").await.expect("par1")["roles"][0],
        "WORKSPACE_ADMIN"
    );
    assert_eq!(bed.status("sam.sales@acme.example").await, "INACTIVE");
    assert_eq!(bed.status("ivy.inactive@acme.example").await, "ACTIVE");
    let counts = accepted_counts(&bed).await;
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 6);
    // Two sessions: two run folders of evidence in the batch folder.
    let batch = std::fs::read_dir(bed.audit_dir())
        .expect("audit")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("journal.jsonl").exists())
        .expect("batch folder");
    let runs = std::fs::read_dir(&batch)
        .expect("batch")
        .flatten()
        .filter(|e| e.path().join("events.jsonl").exists())
        .count();
    assert_eq!(runs, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_applies_the_export_and_a_second_sync_finds_nothing() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let desired = bed.write(
        "desired.csv",
        "email,role,status\nsam.sales@acme.example,admin,active\nsync.new@acme.example,,active\nrita.regular@acme.example,,inactive\nivy.inactive@acme.example,,active\n",
    );
    let first = bed.agent(&["sync", "--desired", &desired]).await;
    assert_code(&first, 0);
    assert_eq!(
        bed.member("sam.sales@acme.example").await.expect("sam")["roles"][0],
        "WORKSPACE_ADMIN"
    );
    assert_eq!(bed.status("sync.new@acme.example").await, "PENDING");
    assert_eq!(bed.status("rita.regular@acme.example").await, "INACTIVE");
    assert_eq!(bed.status("ivy.inactive@acme.example").await, "ACTIVE");
    let after_first = bed.all_mutations().await;
    assert_eq!(after_first, 4);
    let second = bed.agent(&["sync", "--desired", &desired]).await;
    assert_code(&second, 0);
    assert!(second.stdout.contains("nothing to do"), "{}", second.stdout);
    assert_eq!(
        bed.all_mutations().await,
        after_first,
        "the second sync changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_export_cannot_wipe_the_workspace() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let desired = bed.write(
        "truncated.csv",
        "email,role,status\nowner@acme.example,,active\nadmin@acme.example,admin,active\nsam.sales@acme.example,,active\n",
    );
    let run = bed
        .agent(&["sync", "--desired", &desired, "--deactivate-missing"])
        .await;
    assert_code(&run, 2);
    assert!(run.stderr.contains("deactivat"), "{}", run.stderr);
    assert_eq!(bed.all_mutations().await, 0, "nothing done");
    let dry = bed
        .agent(&[
            "--dry-run",
            "sync",
            "--desired",
            &desired,
            "--deactivate-missing",
            "--max-deactivate",
            "1000",
        ])
        .await;
    assert_code(&dry, 0);
    assert!(dry.stdout.contains("nothing changed"), "{}", dry.stdout);
    assert_eq!(bed.all_mutations().await, 0, "a dry run changes nothing");
}
