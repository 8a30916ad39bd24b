//! The batch journal: resume state, torn last line, wrong plan, damage, file mode.

use std::io::Write;

use clockify_ui_agent::jobs::{ItemState, Journal, JournalError};

const PLAN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn run_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn sample(path: &std::path::Path) {
    let mut journal = Journal::create(path, PLAN, "plans/monday.csv").expect("created");
    let steps: &[(&str, usize, ItemState, Option<&str>)] = &[
        ("invite:ana@acme.example", 2, ItemState::Started, None),
        (
            "invite:ana@acme.example",
            2,
            ItemState::Done,
            Some("verified"),
        ),
        ("deactivate:bo@acme.example", 3, ItemState::Started, None),
        (
            "deactivate:bo@acme.example",
            3,
            ItemState::Done,
            Some("no-op"),
        ),
        ("set-role:cy@acme.example", 4, ItemState::Started, None),
        (
            "set-role:cy@acme.example",
            4,
            ItemState::Failed,
            Some("the role dialog offers no 'Sales' to choose"),
        ),
        ("reactivate:dee@acme.example", 5, ItemState::Started, None),
    ];
    for (key, line, state, outcome) in steps {
        journal
            .record(key, *line, *state, *outcome)
            .expect("recorded");
    }
}

#[test]
fn resume_tells_done_failed_and_unfinished_items() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    sample(&path);

    let (_, state) = Journal::open_existing(&path, PLAN).expect("opened");
    assert_eq!(state.header.plan_sha256, PLAN);
    assert_eq!(state.header.plan_path, "plans/monday.csv");
    assert!(!state.torn_tail);
    assert_eq!(
        state.done(),
        vec!["deactivate:bo@acme.example", "invite:ana@acme.example"]
    );
    assert_eq!(state.failed(), vec!["set-role:cy@acme.example"]);
    assert_eq!(state.unfinished(), vec!["reactivate:dee@acme.example"]);
    assert!(state.is_done("invite:ana@acme.example"));
    assert!(!state.is_done("set-role:cy@acme.example"));
    assert_eq!(state.state("revoke-invite:eve@acme.example"), None);
    let failed = &state.items["set-role:cy@acme.example"];
    assert_eq!(failed.line, 4);
    assert_eq!(
        failed.outcome.as_deref(),
        Some("the role dialog offers no 'Sales' to choose")
    );
}

#[test]
fn a_resumed_run_appends_and_the_last_event_wins() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    sample(&path);
    {
        let (mut journal, _) = Journal::open_existing(&path, PLAN).expect("opened");
        journal
            .record(
                "set-role:cy@acme.example",
                4,
                ItemState::Done,
                Some("verified"),
            )
            .expect("recorded");
        journal
            .record(
                "reactivate:dee@acme.example",
                5,
                ItemState::Done,
                Some("verified"),
            )
            .expect("recorded");
    }
    let (_, state) = Journal::open_existing(&path, PLAN).expect("reopened");
    assert_eq!(state.done().len(), 4);
    assert!(state.failed().is_empty() && state.unfinished().is_empty());
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(text.lines().count(), 1 + 7 + 2);
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        assert!(value.get("at").and_then(|v| v.as_str()).is_some());
    }
    let event: serde_json::Value =
        serde_json::from_str(text.lines().nth(2).expect("a line")).expect("json");
    assert_eq!(
        event,
        serde_json::json!({
            "item": "invite:ana@acme.example", "line": 2, "state": "done",
            "outcome": "verified", "at": event["at"].clone()
        })
    );
}

#[test]
fn a_torn_last_line_is_ignored_and_cut_off() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    sample(&path);
    let intact = std::fs::read(&path).expect("readable");
    {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        // Killed in the middle of writing "done" for dee.
        file.write_all(br#"{"item":"reactivate:dee@acme.example","line":5,"sta"#)
            .expect("write");
    }
    let (mut journal, state) = Journal::open_existing(&path, PLAN).expect("torn tail tolerated");
    assert!(state.torn_tail);
    assert_eq!(state.unfinished(), vec!["reactivate:dee@acme.example"]);
    assert_eq!(std::fs::read(&path).expect("readable"), intact);
    journal
        .record(
            "reactivate:dee@acme.example",
            5,
            ItemState::Done,
            Some("verified"),
        )
        .expect("recorded");
    // The open journal holds the batch's lock; the run ends before it is resumed.
    drop(journal);
    let (_, state) = Journal::open_existing(&path, PLAN).expect("reopened");
    assert!(!state.torn_tail);
    assert!(state.is_done("reactivate:dee@acme.example"));
}

#[test]
fn a_complete_last_line_without_its_newline_is_kept() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    sample(&path);
    let mut text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(text.pop(), Some('\n'));
    std::fs::write(&path, &text).expect("written");
    let (mut journal, state) = Journal::open_existing(&path, PLAN).expect("opened");
    assert!(!state.torn_tail);
    assert_eq!(state.unfinished(), vec!["reactivate:dee@acme.example"]);
    journal
        .record("reactivate:dee@acme.example", 5, ItemState::Done, None)
        .expect("recorded");
    drop(journal);
    let (_, state) = Journal::open_existing(&path, PLAN).expect("reopened");
    assert!(state.is_done("reactivate:dee@acme.example"));
}

#[test]
fn another_plan_is_refused_naming_both_hashes() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    sample(&path);
    let error = Journal::open_existing(&path, OTHER).expect_err("another plan");
    assert!(
        matches!(error, JournalError::PlanMismatch { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(PLAN) && message.contains(OTHER),
        "{message}"
    );
    assert!(message.contains("plans/monday.csv"), "{message}");
    // The header alone tells which plan to load for a resume.
    let header = Journal::read_header(&path).expect("header");
    assert_eq!(header.plan_sha256, PLAN);
    assert_eq!(header.plan_path, "plans/monday.csv");
}

#[test]
fn damage_before_the_last_line_is_an_error() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    sample(&path);
    let text = std::fs::read_to_string(&path).expect("readable");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"item\": garbage";
    std::fs::write(&path, lines.join("\n") + "\n").expect("written");
    let error = Journal::open_existing(&path, PLAN).expect_err("damaged");
    assert!(
        matches!(error, JournalError::Corrupt { line: 4, .. }),
        "{error}"
    );
}

#[test]
fn not_a_journal_and_existing_journals_are_refused() {
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    std::fs::write(&path, "action,email\ninvite,ana@acme.example\n").expect("written");
    let error = Journal::open_existing(&path, PLAN).expect_err("not a journal");
    assert!(matches!(error, JournalError::NotAJournal { .. }), "{error}");
    let error = Journal::create(&path, PLAN, "p.csv").expect_err("exists");
    assert!(matches!(error, JournalError::Exists { .. }), "{error}");

    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("written");
    let error = Journal::open_existing(&empty, PLAN).expect_err("empty");
    assert!(matches!(error, JournalError::NotAJournal { .. }), "{error}");

    let missing = dir.path().join("missing.jsonl");
    let error = Journal::open_existing(&missing, PLAN).expect_err("missing");
    assert!(matches!(error, JournalError::Io { .. }), "{error}");
}

#[cfg(unix)]
#[test]
fn the_journal_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = run_dir();
    let path = dir.path().join("journal.jsonl");
    let journal = Journal::create(&path, PLAN, "p.csv").expect("created");
    assert_eq!(journal.path(), path);
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
