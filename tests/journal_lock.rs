//! One batch runs in one process at a time: the journal of a running batch is locked, and a
//! second `apply --resume` of its folder is refused at once (exit 2, naming the folder) before it
//! reads, cuts or appends anything, or starts a browser. No browser is needed here.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use clockify_ui_agent::jobs::{load_plan, ItemState, Journal, JournalError};

mod agent_common;

use agent_common::agent_std_command;

const ITEM: &str = "deactivate:sam.sales@acme.example";

/// A batch folder as a run leaves it while working on its first item: a plan, and a journal
/// whose last line is torn (a write in progress), which a resume would cut off.
struct Batch {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    folder: PathBuf,
    journal: PathBuf,
    plan_sha256: String,
}

fn batch() -> (Batch, Journal) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path().to_path_buf();
    let plan = root.join("plan.csv");
    std::fs::write(
        &plan,
        "action,email,role,manages,projects\ndeactivate,sam.sales@acme.example,,,\n",
    )
    .expect("write the plan");
    let plan_sha256 = load_plan(&plan).expect("a valid plan").sha256().to_string();
    let folder = root.join("batch-20261130T052046Z-lockedxx");
    std::fs::create_dir(&folder).expect("the batch folder");
    let journal = folder.join("journal.jsonl");
    let mut running =
        Journal::create(&journal, &plan_sha256, &plan.display().to_string()).expect("created");
    running
        .record(ITEM, 2, ItemState::Started, None)
        .expect("recorded");
    // The locked journal is still writable by the process that holds it (a torn last line:
    // the run is in the middle of writing it). Advisory locks do not stop writes; the agent
    // takes the lock before doing anything else.
    OpenOptions::new()
        .append(true)
        .open(&journal)
        .expect("open for append")
        .write_all(br#"{"item":"deactivate:sam.sales@acme.example","line":2,"sta"#)
        .expect("write a torn line");
    (
        Batch {
            _tmp: tmp,
            root,
            folder,
            journal,
            plan_sha256,
        },
        running,
    )
}

/// Every file under `dir` with its bytes, sorted: what "changing nothing" is compared on.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path.clone());
                out.push((path, Vec::new()));
            } else {
                let bytes = std::fs::read(&path).expect("readable file");
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// `apply --resume FOLDER` with an address nobody answers and a driver that does not exist, so
/// a run that got past the journal would fail to start a browser (exit 3), not with exit 2.
fn resume(b: &Batch) -> Output {
    agent_std_command(["--base-url", "http://127.0.0.1:9", "--driver-path"])
        .arg(b.root.join("no-such-driver"))
        .arg("--audit-dir")
        .arg(b.root.join("audit"))
        .args(["apply", "--resume"])
        .arg(&b.folder)
        .output()
        .expect("the agent binary runs")
}

#[test]
fn a_second_open_of_a_held_journal_is_refused_and_changes_nothing() {
    let (b, running) = batch();
    let before = std::fs::read(&b.journal).expect("readable");

    let error = Journal::open_existing(&b.journal, &b.plan_sha256).expect_err("locked");
    let JournalError::Locked { folder, path } = &error else {
        panic!("expected Locked, got {error:?}");
    };
    assert_eq!(folder, &b.folder.display().to_string());
    assert_eq!(path, &b.journal.display().to_string());
    let text = error.to_string();
    assert!(
        text.contains(&format!("batch folder {} is in use", b.folder.display())),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&b.journal).expect("readable"),
        before,
        "the torn line is not cut off by a refused open"
    );

    // The lock lasts as long as the journal is open, and ends with it.
    drop(running);
    let (_resumed, state) =
        Journal::open_existing(&b.journal, &b.plan_sha256).expect("free once the run ended");
    assert!(state.torn_tail);
    assert_eq!(state.unfinished(), vec![ITEM]);
}

#[test]
fn a_second_resume_of_a_running_batch_exits_2_naming_the_folder_and_changes_nothing() {
    let (b, running) = batch();
    let before = snapshot(&b.root);

    let refused = resume(&b);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "exit code; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("batch folder {} is in use", b.folder.display())),
        "{stderr}"
    );
    assert!(stderr.contains("another process"), "{stderr}");
    assert_eq!(
        snapshot(&b.root),
        before,
        "nothing was written, cut or created (no journal line, no run folder)"
    );

    // The same resume once the running batch has ended gets past the journal: it goes on to
    // start a browser, which this test's driver path cannot (exit 3).
    drop(running);
    let after = resume(&b);
    let stderr = String::from_utf8_lossy(&after.stderr);
    assert!(!stderr.contains("is in use"), "{stderr}");
    assert_eq!(after.status.code(), Some(3), "exit code; stderr:\n{stderr}");
}
