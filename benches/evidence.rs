//! What evidence costs: prints the compose time of a 1366x900 screenshot, the time of one event
//! line (fsynced), and the size of the evidence for one action (two screenshots and its lines).
//! A benchmark, not a test: it asserts nothing about time. Run it with
//! `cargo bench --bench evidence`; set `AUDIT_BENCH_PNG` to a real browser screenshot to measure
//! on one.

#[path = "../tests/audit_common/mod.rs"]
mod audit_common;

use std::time::Instant;

use clockify_ui_agent::audit::{Caption, Evidence, Rect};
use serde_json::json;

fn main() {
    let png = match std::env::var("AUDIT_BENCH_PNG") {
        Ok(path) if !path.is_empty() => std::fs::read(&path).expect("AUDIT_BENCH_PNG is readable"),
        _ => audit_common::fake_png(1366, 900),
    };
    let root = tempfile::tempdir().expect("tempdir");
    let mut evidence =
        Evidence::create(root.path(), &audit_common::run_info("bench001")).expect("create");
    let caption = Caption {
        url: "https://app.clockify.me/workspaces/64f1a2b3c4d5e6f7a8b9c0d1/team".into(),
        time_utc: "2026-11-30T04:31:41Z".into(),
        user: "admin@acme.example".into(),
        action: "deactivate sam@acme.example (before)".into(),
        run_id: "bench001".into(),
    };
    let row = |i: f64| Rect {
        x: 231.0,
        y: 302.0 + 52.0 * i,
        width: 1092.0,
        height: 52.0,
    };
    let masks: Vec<Rect> = (0..10).filter(|&i| i != 3).map(|i| row(i as f64)).collect();
    let rounds = 20;
    let started = Instant::now();
    let mut names = Vec::new();
    for _ in 0..rounds {
        names.push(
            evidence
                .screenshot(
                    &png,
                    &caption,
                    Some(row(3.0)),
                    &masks,
                    "deactivate",
                    "before",
                )
                .expect("screenshot"),
        );
    }
    let per_shot = started.elapsed() / rounds;
    let dir = evidence.dir().expect("dir").to_path_buf();
    let lines_before = std::fs::metadata(dir.join("events.jsonl"))
        .expect("meta")
        .len();
    let started = Instant::now();
    for _ in 0..rounds {
        evidence
            .event(
                "step",
                json!({"what": "open the row menu of sam@acme.example"}),
            )
            .expect("event");
    }
    let per_line = started.elapsed() / rounds;
    let one_action_event = {
        let before = std::fs::metadata(dir.join("events.jsonl"))
            .expect("meta")
            .len();
        evidence
            .event(
                "action",
                json!({"action": "deactivate", "target": "sam@acme.example", "outcome": "verified",
                       "message": "now inactive (read back)",
                       "before": {"email": "sam@acme.example", "name": "Sam Lee", "status": "active", "roles": []},
                       "after": {"email": "sam@acme.example", "name": "Sam Lee", "status": "inactive", "roles": []},
                       "screenshots": [names[0], names[1]], "millis": 1830, "webdriver_commands": 41,
                       "ticket": "CHG-1234"}),
            )
            .expect("action");
        std::fs::metadata(dir.join("events.jsonl"))
            .expect("meta")
            .len()
            - before
    };
    let shot_bytes = std::fs::metadata(dir.join(&names[0])).expect("meta").len();
    let shot_line = lines_before / (rounds as u64 + 1);
    println!("input PNG: {} bytes", png.len());
    println!("compose + write one screenshot (1366 wide): {per_shot:?}");
    println!("one event line, fsynced: {per_line:?}");
    println!(
        "one action: 2 screenshots x {shot_bytes} bytes + 2 screenshot lines (~{shot_line} bytes each) + 1 action line ({one_action_event} bytes) = ~{} KB",
        (2 * shot_bytes + 2 * shot_line + one_action_event) / 1024
    );
}
