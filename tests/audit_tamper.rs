//! Tamper tests of the audit evidence: a finished run verifies; each kind of tampering is detected
//! and named (line number or file); a run that never finished verifies as incomplete, not
//! tampered; permissions are 0700/0600. No browser needed.

mod audit_common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use audit_common::{finished_run, lines, run_info, screenshots, write_lines, write_run};
use clockify_ui_agent::audit::{self, verify, Evidence, SignatureCheck, Status};

const TARGET: &str = "sam@acme.example";

fn fresh(root: &Path) -> std::path::PathBuf {
    finished_run(root, "tamper01", TARGET, None)
}

/// Asserts the report is tampered and its first problem contains every word of `expect`.
fn assert_first_problem(dir: &Path, pubkey: Option<&Path>, expect: &[&str]) -> audit::VerifyReport {
    let report = verify(dir, pubkey).expect("verify runs");
    assert!(
        !report.ok(),
        "tampering not detected:\n{}",
        report.summary()
    );
    assert_eq!(report.status(), Status::Tampered, "{}", report.summary());
    let first = &report.problems[0];
    for word in expect {
        assert!(
            first.contains(word),
            "first problem {first:?} does not say {word:?}\n{}",
            report.summary()
        );
    }
    report
}

#[test]
fn a_finished_run_verifies() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let report = verify(&dir, None).expect("verify");
    assert!(report.ok(), "{}", report.summary());
    assert_eq!(report.status(), Status::Verified);
    assert_eq!(report.lines, 10);
    assert!(report.complete);
    assert_eq!(report.screenshots, 3);
    assert_eq!(report.run_id.as_deref(), Some("tamper01"));
    assert_eq!(report.signature, SignatureCheck::Unsigned);
    assert!(
        report.summary().contains("VERIFIED"),
        "{}",
        report.summary()
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["events"]["lines"], 10);
    assert_eq!(manifest["events"]["by_kind"]["screenshot"], 3);
    assert_eq!(manifest["actions"]["by_outcome"]["verified"], 1);
    assert_eq!(manifest["files"].as_array().map(Vec::len), Some(4));
    assert_eq!(manifest["summary"]["exit_code"], 1);
    // Every line is a chained event.
    let lines = lines(&dir);
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("line 1");
    assert_eq!(first["seq"], 1);
    assert_eq!(first["kind"], "run_start");
    assert_eq!(first["prev"], "0".repeat(64));
    assert_eq!(first["data"]["ticket"], "CHG-1234");
    let last: serde_json::Value = serde_json::from_str(&lines[9]).expect("line 10");
    assert_eq!(last["kind"], "run_end");
}

#[test]
fn folders_are_0700_and_files_0600() {
    let root = tempfile::tempdir().expect("tempdir");
    let audit_dir = root.path().join("nested/audit");
    let dir = fresh(&audit_dir);
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&audit_dir), 0o700);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("screenshots")), 0o700);
    assert_eq!(mode(&dir.join("events.jsonl")), 0o600);
    assert_eq!(mode(&dir.join("manifest.json")), 0o600);
    for shot in screenshots(&dir) {
        assert_eq!(mode(&shot), 0o600, "{}", shot.display());
    }
    let name = dir
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(name.ends_with("-tamper01"), "{name}");
    assert_eq!(name.len(), "20261130T043141Z-tamper01".len(), "{name}");
}

#[test]
fn one_byte_of_a_screenshot_changed_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let shot = &screenshots(&dir)[1];
    let mut bytes = std::fs::read(shot).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(shot, bytes).expect("write");
    assert_first_problem(
        &dir,
        None,
        &["screenshots/0002-deactivate-after.png", "edited", "line 5"],
    );
}

#[test]
fn a_screenshot_deleted_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    std::fs::remove_file(&screenshots(&dir)[0]).expect("rm");
    assert_first_problem(
        &dir,
        None,
        &[
            "screenshots/0001-deactivate-before.png",
            "deleted",
            "line 4",
        ],
    );
}

#[test]
fn a_screenshot_added_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    std::fs::copy(
        &screenshots(&dir)[0],
        dir.join("screenshots/0004-deactivate-after.png"),
    )
    .expect("copy");
    assert_first_problem(
        &dir,
        None,
        &["screenshots/0004-deactivate-after.png", "added"],
    );
}

#[test]
fn one_byte_of_a_line_changed_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let mut lines = lines(&dir);
    // "verified" → "verifieD" in the action line.
    lines[5] = lines[5].replacen("\"verified\"", "\"verifieD\"", 1);
    write_lines(&dir, &lines);
    assert_first_problem(&dir, None, &["line 6", "edited"]);

    // A byte that breaks the JSON is named too.
    let dir = finished_run(root.path(), "tamper02", TARGET, None);
    let mut lines = audit_common::lines(&dir);
    lines[2].replace_range(0..1, "[");
    write_lines(&dir, &lines);
    assert_first_problem(&dir, None, &["line 3", "edited"]);

    // The seq of a line.
    let dir = finished_run(root.path(), "tamper03", TARGET, None);
    let mut lines = audit_common::lines(&dir);
    lines[6] = lines[6].replacen("\"seq\":7", "\"seq\":8", 1);
    write_lines(&dir, &lines);
    assert_first_problem(&dir, None, &["line 7", "edited"]);

    // The prev of a line.
    let dir = finished_run(root.path(), "tamper04", TARGET, None);
    let mut lines = audit_common::lines(&dir);
    let at = lines[3].find("\"prev\":\"").expect("prev") + 8;
    let c = if &lines[3][at..at + 1] == "a" {
        "b"
    } else {
        "a"
    };
    lines[3].replace_range(at..at + 1, c);
    write_lines(&dir, &lines);
    assert_first_problem(&dir, None, &["line 4", "edited"]);
}

#[test]
fn the_last_line_changed_is_named_against_the_manifest() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let mut lines = lines(&dir);
    lines[9] = lines[9].replacen("\"exit_code\":1", "\"exit_code\":0", 1);
    write_lines(&dir, &lines);
    assert_first_problem(&dir, None, &["line 10", "edited", "chain head"]);
}

#[test]
fn a_line_deleted_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let mut all = lines(&dir);
    all.remove(6);
    write_lines(&dir, &all);
    assert_first_problem(&dir, None, &["line 7", "deleted", "seq 7"]);

    // The first line.
    let dir = finished_run(root.path(), "tamper05", TARGET, None);
    let mut all = lines(&dir);
    all.remove(0);
    write_lines(&dir, &all);
    assert_first_problem(&dir, None, &["line 1", "deleted", "seq 1"]);
}

#[test]
fn two_lines_swapped_are_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let mut all = lines(&dir);
    all.swap(6, 7);
    write_lines(&dir, &all);
    let report = assert_first_problem(&dir, None, &["line 7", "reordered", "line 8"]);
    assert_eq!(
        report
            .problems
            .iter()
            .filter(|p| p.contains("reordered"))
            .count(),
        1,
        "one swap, one problem: {:?}",
        report.problems
    );
}

#[test]
fn a_line_added_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let mut all = lines(&dir);
    let copy = all[2].clone();
    all.insert(3, copy);
    write_lines(&dir, &all);
    assert_first_problem(&dir, None, &["line 4", "added", "seq 3"]);

    // Appended after the end, chained correctly: the manifest counts the lines.
    let dir = finished_run(root.path(), "tamper06", TARGET, None);
    let mut evidence_lines = lines(&dir);
    let last: serde_json::Value = serde_json::from_str(&evidence_lines[9]).expect("json");
    let prev = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(evidence_lines[9].as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    evidence_lines.push(format!(
        r#"{{"seq":11,"at":{},"kind":"step","data":{{"what":"forged"}},"prev":"{prev}"}}"#,
        last["at"]
    ));
    write_lines(&dir, &evidence_lines);
    assert_first_problem(&dir, None, &["events.jsonl", "added after line 10"]);
}

#[test]
fn a_truncated_log_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let all = lines(&dir);
    write_lines(&dir, &all[..7]);
    assert_first_problem(&dir, None, &["events.jsonl", "truncated", "records 10"]);

    // Cut in the middle of a line.
    let dir = finished_run(root.path(), "tamper07", TARGET, None);
    let bytes = std::fs::read(dir.join("events.jsonl")).expect("read");
    std::fs::write(dir.join("events.jsonl"), &bytes[..bytes.len() - 40]).expect("write");
    let report = assert_first_problem(&dir, None, &["events.jsonl", "partial line after line 9"]);
    assert!(
        report.problems.iter().any(|p| p.contains("truncated")),
        "{:?}",
        report.problems
    );
}

#[test]
fn an_edited_manifest_is_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = fresh(root.path());
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replacen("1 verified, 1 error", "2 verified", 1)).expect("write");
    assert_first_problem(&dir, None, &["manifest.json", "edited", "summary"]);

    let dir = finished_run(root.path(), "tamper08", TARGET, None);
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen("\"verified\": 1", "\"verified\": 2", 1),
    )
    .expect("write");
    assert_first_problem(&dir, None, &["manifest.json", "edited", "actions"]);

    // Only white space.
    let dir = finished_run(root.path(), "tamper09", TARGET, None);
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, format!("{text} ")).expect("write");
    assert_first_problem(&dir, None, &["manifest.json", "edited"]);

    // Deleted: the run reads as unfinished, which does not pass.
    let dir = finished_run(root.path(), "tamper10", TARGET, None);
    std::fs::remove_file(dir.join("manifest.json")).expect("rm");
    let report = verify(&dir, None).expect("verify");
    assert!(!report.ok());
    assert_eq!(report.status(), Status::Incomplete, "{}", report.summary());
}

#[test]
fn signatures_are_checked() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = root.path().join("keys");
    std::fs::create_dir(&keys).expect("mkdir");
    let (private, public) = (keys.join("audit.pem"), keys.join("audit.pub.pem"));
    let (other_private, other_public) = (keys.join("other.pem"), keys.join("other.pub.pem"));
    audit::generate_keypair(&private, &public).expect("keygen");
    audit::generate_keypair(&other_private, &other_public).expect("keygen");
    let mode = std::fs::metadata(&private)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let dir = finished_run(
        &root.path().join("runs"),
        "signed01",
        TARGET,
        Some(&private),
    );
    let report = verify(&dir, Some(&public)).expect("verify");
    assert!(report.ok(), "{}", report.summary());
    assert!(matches!(report.signature, SignatureCheck::Valid { .. }));
    let unchecked = verify(&dir, None).expect("verify");
    assert!(unchecked.ok(), "{}", unchecked.summary());
    assert_eq!(unchecked.signature, SignatureCheck::NotChecked);

    // The wrong public key.
    assert_first_problem(
        &dir,
        Some(&other_public),
        &["manifest.json.sig", "wrong public key"],
    );

    // A changed signature.
    let sig_path = dir.join("manifest.json.sig");
    let mut sig = std::fs::read(&sig_path).expect("sig");
    assert_eq!(sig.len(), 64);
    sig[10] ^= 0x80;
    std::fs::write(&sig_path, &sig).expect("write");
    assert_first_problem(
        &dir,
        Some(&public),
        &["manifest.json.sig", "does not match"],
    );

    // Deleted, noticed even without a public key.
    std::fs::remove_file(&sig_path).expect("rm");
    assert_first_problem(&dir, None, &["manifest.json.sig", "deleted"]);

    // An unsigned run checked against a key.
    let dir = finished_run(&root.path().join("runs"), "unsigned", TARGET, None);
    assert_first_problem(&dir, Some(&public), &["manifest.json.sig", "missing"]);

    // A bad key file is an error, not a verdict.
    assert!(verify(&dir, Some(&dir.join("manifest.json"))).is_err());
}

#[test]
fn openssl_checks_the_signature_too() {
    // The signature format is plain ed25519 over the manifest bytes: an auditor needs only OpenSSL.
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl not installed; skipping the cross-check");
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let (private, public) = (root.path().join("k.pem"), root.path().join("k.pub.pem"));
    audit::generate_keypair(&private, &public).expect("keygen");
    let dir = finished_run(
        &root.path().join("runs"),
        "openssl1",
        TARGET,
        Some(&private),
    );
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&public)
        .arg("-rawin")
        .arg("-in")
        .arg(dir.join("manifest.json"))
        .arg("-sigfile")
        .arg(dir.join("manifest.json.sig"))
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unfinished_run_is_incomplete_not_tampered() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut evidence = Evidence::create(root.path(), &run_info("crash01")).expect("create");
    write_run(&mut evidence, TARGET, 400, 300);
    let dir = evidence.dir().expect("dir").to_path_buf();
    drop(evidence); // a crash: no finish()
    let report = verify(&dir, None).expect("verify");
    assert_eq!(report.status(), Status::Incomplete, "{}", report.summary());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(!report.ok());
    assert!(!report.complete);
    assert_eq!(report.lines, 9);
    assert!(
        report.summary().contains("INCOMPLETE"),
        "{}",
        report.summary()
    );
    let keys = tempfile::tempdir().expect("tempdir");
    let (private, public) = (keys.path().join("k.pem"), keys.path().join("k.pub.pem"));
    audit::generate_keypair(&private, &public).expect("keygen");
    let with_key = verify(&dir, Some(&public)).expect("verify");
    assert_eq!(
        with_key.status(),
        Status::Incomplete,
        "{}",
        with_key.summary()
    );

    // A torn last line (the crash came in the middle of a write) is not tampering.
    let mut bytes = std::fs::read(dir.join("events.jsonl")).expect("read");
    bytes.extend_from_slice(br#"{"seq":10,"at":"2026-11-30T04:31:41.000Z","kind":"ste"#);
    std::fs::write(dir.join("events.jsonl"), &bytes).expect("write");
    let report = verify(&dir, None).expect("verify");
    assert_eq!(report.status(), Status::Incomplete, "{}", report.summary());
    assert_eq!(report.lines, 9);
    assert!(
        report.notes.iter().any(|n| n.contains("line 10")),
        "{:?}",
        report.notes
    );

    // A screenshot written just before the crash, before its event.
    std::fs::copy(
        &screenshots(&dir)[0],
        dir.join("screenshots/0004-set-role-after.png"),
    )
    .expect("copy");
    let report = verify(&dir, None).expect("verify");
    assert_eq!(report.status(), Status::Incomplete, "{}", report.summary());

    // But tampering inside an unfinished run is still tampering.
    let mut all = lines(&dir);
    all.remove(4);
    write_lines(&dir, &all);
    assert_first_problem(&dir, None, &["line 5", "deleted"]);
}

#[test]
fn a_folder_without_a_run_is_an_error() {
    let root = tempfile::tempdir().expect("tempdir");
    let err = verify(root.path(), None).expect_err("not a run");
    assert!(err.to_string().contains("not a run folder"), "{err}");
    // A run folder whose log was deleted is tampering.
    let dir = fresh(root.path());
    std::fs::remove_file(dir.join("events.jsonl")).expect("rm");
    assert_first_problem(&dir, None, &["events.jsonl", "deleted"]);
}
