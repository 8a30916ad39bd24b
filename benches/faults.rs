//! The fault table: runs every fault case of `tests/agent_common/fault_cases.rs` several times
//! (real headless Firefox, the release agent, a fresh sandbox per run) and prints, per fault, how
//! many runs ended right, how many duplicated any change (must be none), and how long recovery
//! took. Writes the figures to `target/bench/faults.json`. It asserts nothing; the fault suite
//! (`tests/faults.rs`) is what CI checks.
//!
//! Run with `scripts/fault-table` (or `cargo bench --bench faults`). `FAULT_RUNS=N` sets the runs
//! per fault (default 5); `FAULT_CASES=name,name` picks cases by their Rust names (e.g.
//! `DriverKilled`).

#[path = "../tests/agent_common/mod.rs"]
#[allow(missing_docs, clippy::unwrap_used)]
mod agent_common;

use std::time::Duration;

use agent_common::fault_cases::Case;
use serde_json::json;

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn median(values: &mut [Duration]) -> Option<Duration> {
    values.sort();
    values.get(values.len().checked_sub(1)? / 2).copied()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let runs: usize = std::env::var("FAULT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5);
    let picked: Option<Vec<String>> = std::env::var("FAULT_CASES")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let cases: Vec<Case> = Case::ALL
        .into_iter()
        .filter(|c| {
            picked
                .as_ref()
                .is_none_or(|p| p.contains(&format!("{c:?}")))
        })
        .collect();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "fault table: {runs} run(s) per fault, {cpus} CPU(s), load average at start {}",
        load_average()
    );
    println!(
        "{:<30} {:>4} {:>11} {:>10} {:>17} {:>9}  note",
        "fault", "runs", "ended right", "duplicated", "recovery med/max", "wall med"
    );
    let mut rows = Vec::new();
    for case in cases {
        let mut right = 0;
        let mut duplicated = 0;
        let mut recoveries = Vec::new();
        let mut walls = Vec::new();
        let mut notes = Vec::new();
        let mut problems = Vec::new();
        for _ in 0..runs {
            let verdict = case.run().await;
            if verdict.ended_right() {
                right += 1;
            } else {
                problems.extend(verdict.problems.iter().cloned());
            }
            if !verdict.duplicates.is_empty() {
                duplicated += 1;
                problems.extend(verdict.duplicates.iter().cloned());
            }
            recoveries.extend(verdict.recovery);
            walls.push(verdict.wall);
            if !verdict.note.is_empty() {
                notes.push(verdict.note.clone());
            }
        }
        let max_recovery = recoveries.iter().max().copied();
        let median_recovery = median(&mut recoveries);
        let recovery = match (median_recovery, max_recovery) {
            (Some(m), Some(x)) => format!("{} / {}", seconds(m), seconds(x)),
            _ => "-".into(),
        };
        let wall = median(&mut walls).map_or("-".into(), seconds);
        notes.sort();
        notes.dedup();
        let note = notes.join("; ");
        println!(
            "{:<30} {:>4} {:>11} {:>10} {:>17} {:>9}  {}",
            case.label(),
            runs,
            right,
            duplicated,
            recovery,
            wall,
            note
        );
        for problem in &problems {
            println!("    problem: {problem}");
        }
        rows.push(json!({
            "fault": case.label(),
            "case": format!("{case:?}"),
            "runs": runs,
            "ended_right": right,
            "duplicated": duplicated,
            "recovery_ms": recoveries.iter().map(|d| d.as_millis() as u64).collect::<Vec<_>>(),
            "wall_ms": walls.iter().map(|d| d.as_millis() as u64).collect::<Vec<_>>(),
            "notes": notes,
            "problems": problems,
        }));
    }
    println!("load average at end {}", load_average());
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    if std::fs::create_dir_all(&out).is_ok() {
        let report = json!({"cpus": cpus, "runs_per_fault": runs, "faults": rows});
        let path = out.join("faults.json");
        if std::fs::write(&path, format!("{report:#}\n")).is_ok() {
            println!("figures written to {}", path.display());
        }
    }
}
