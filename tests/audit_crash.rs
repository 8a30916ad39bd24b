//! Crash safety: a process writing evidence is killed with SIGKILL at arbitrary moments; the run
//! folder it leaves verifies as incomplete with every whole line chained, never as tampered.
//!
//! The writer is this test binary itself, started again with `AUDIT_CHILD_DIR` set: then the test
//! only writes events (some large, so a kill can land inside a write) and screenshots until killed.

mod audit_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clockify_ui_agent::audit::{verify, Caption, Evidence, Status};
use serde_json::json;

const CHILD_ENV: &str = "AUDIT_CHILD_DIR";
const TEST_NAME: &str = "sigkill_leaves_an_incomplete_intact_run";

/// The child: writes evidence forever.
fn child(audit_dir: &Path) -> ! {
    let mut evidence =
        Evidence::create(audit_dir, &audit_common::run_info("killed01")).expect("create");
    let png = audit_common::fake_png(320, 200);
    let caption = Caption {
        url: "http://127.0.0.1:4380/teams".into(),
        time_utc: String::new(),
        user: "admin@acme.example".into(),
        action: "deactivate sam@acme.example".into(),
        run_id: "killed01".into(),
    };
    let filler = "x".repeat(200_000);
    for i in 0u64.. {
        match i % 4 {
            0 => {
                evidence
                    .screenshot(&png, &caption, None, &[], "deactivate", "before")
                    .expect("screenshot");
            }
            1 => evidence
                .event("step", json!({"what": format!("step {i}")}))
                .expect("event"),
            2 => evidence
                .event(
                    "action",
                    json!({"action": "deactivate", "target": "sam@acme.example",
                           "outcome": "verified", "message": &filler[..(i as usize * 7919) % filler.len()]}),
                )
                .expect("event"),
            _ => evidence
                .event("step", json!({"what": "x"}))
                .expect("event"),
        }
    }
    unreachable!()
}

fn events_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

fn run_dir(audit_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(audit_dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
}

#[test]
fn sigkill_leaves_an_incomplete_intact_run() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
    }
    let root = tempfile::tempdir().expect("tempdir");
    // Kill at several depths: early, and after some hundreds of lines.
    for (round, min_lines) in [3usize, 40, 200].into_iter().enumerate() {
        let audit_dir = root.path().join(format!("round{round}"));
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &audit_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the writer");
        let started = Instant::now();
        let dir = loop {
            if let Some(dir) = run_dir(&audit_dir) {
                if events_lines(&dir.join("events.jsonl")) >= min_lines {
                    break dir;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the writer wrote fewer than {min_lines} lines in 60 s"
            );
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the writer stopped by itself: {status}");
            }
            std::thread::sleep(Duration::from_millis(2 + round as u64 * 3));
        };
        child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        child.wait().expect("reap");

        let report = verify(&dir, None).expect("verify");
        assert_eq!(
            report.status(),
            Status::Incomplete,
            "round {round}:\n{}",
            report.summary()
        );
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(!report.complete);
        assert!(report.lines >= min_lines, "{} < {min_lines}", report.lines);
        assert!(!dir.join("manifest.json").exists());
        eprintln!(
            "round {round}: {} lines, notes {:?}",
            report.lines, report.notes
        );
    }
}
