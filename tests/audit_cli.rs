//! Evidence of real agent runs: the run folder verifies, signed manifests check against the public
//! key, and the report opens in a real browser with a card and the screenshots of every action.
//! Also (no browser): `audit verify` never hangs on what it reads: a FIFO given as `--pubkey`
//! exits 2 naming it, and a run folder whose event log, manifest, signature or screenshot was
//! replaced by a FIFO or a link to `/dev/zero` is reported tampered (exit 1) naming the file.

use std::path::{Path, PathBuf};

use clockify_ui_agent::browser::driver::{self, BrowserKind, DriverProcess};
use clockify_ui_agent::sandbox::UiVersion;
use serde_json::Value;

mod agent_common;
mod audit_common;

use agent_common::*;

fn run_folders(audit: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![audit.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join("events.jsonl").exists() {
            found.push(dir.clone());
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_evidence_verifies_and_the_report_shows_every_action_in_a_browser() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let keys = bed.dir.path().join("keys");
    std::fs::create_dir(&keys).expect("mkdir");
    let private = keys.join("audit.pem");
    let public = keys.join("audit.pub.pem");
    let keygen = run_agent(
        &[
            "audit".into(),
            "keygen".into(),
            "--private".into(),
            private.display().to_string(),
            "--public".into(),
            public.display().to_string(),
        ],
        &[],
    )
    .await;
    assert_code(&keygen, 0);
    let sign = private.display().to_string();
    let first = bed
        .agent(&[
            "--ticket",
            "CHG-1001",
            "--sign-key",
            &sign,
            "--mask-others",
            "deactivate",
            "--email",
            "sam.sales@acme.example",
        ])
        .await;
    assert_code(&first, 0);
    let second = bed
        .agent(&[
            "--ticket",
            "CHG-1002",
            "--sign-key",
            &sign,
            "invite",
            "--email",
            "report.new@acme.example",
        ])
        .await;
    assert_code(&second, 0);

    let runs = run_folders(&bed.audit_dir());
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        let verify = run_agent(
            &[
                "audit".into(),
                "verify".into(),
                run.display().to_string(),
                "--pubkey".into(),
                public.display().to_string(),
            ],
            &[],
        )
        .await;
        assert_code(&verify, 0);
        assert!(verify.stdout.contains("VERIFIED"), "{}", verify.stdout);
        let events = std::fs::read_to_string(run.join("events.jsonl")).expect("events");
        let actions: Vec<Value> = events
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["kind"] == "action")
            .collect();
        assert_eq!(actions.len(), 1);
        assert!(actions[0]["data"]["ticket"]
            .as_str()
            .expect("ticket")
            .starts_with("CHG-"));
        assert_eq!(actions[0]["data"]["outcome"], "verified");
        assert!(
            actions[0]["data"]["before"].is_object() || actions[0]["data"]["action"] == "invite"
        );
        assert_eq!(
            actions[0]["data"]["screenshots"]
                .as_array()
                .expect("shots")
                .len(),
            2,
            "before and after"
        );
    }

    let out = bed.dir.path().join("report");
    let report = run_agent(
        &[
            "audit".into(),
            "report".into(),
            bed.audit_dir().display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ],
        &[],
    )
    .await;
    assert_code(&report, 0);
    let csv = std::fs::read_to_string(out.join("evidence-index.csv")).expect("index");
    assert_eq!(
        csv.lines().count(),
        3,
        "header + one row per action:\n{csv}"
    );

    // Open the report in a real headless Firefox and check what a person would see.
    let path = driver::locate_driver(BrowserKind::Firefox, None)
        .expect("geckodriver (run scripts/install-deps)");
    let process = DriverProcess::spawn(BrowserKind::Firefox, &path)
        .await
        .expect("geckodriver starts (run scripts/install-deps)");
    let client = driver::connect(
        process.url(),
        driver::capabilities(BrowserKind::Firefox, true),
    )
    .await
    .expect("Firefox session (run scripts/install-deps)");
    let page = format!("file://{}", out.join("report.html").display());
    client.goto(&page).await.expect("open the report");
    let seen = client
        .execute(
            r#"
            const cards = Array.from(document.querySelectorAll('article.card'));
            return {
              cards: cards.map((c) => c.innerText),
              images: cards.map((c) => Array.from(c.querySelectorAll('img')).map((i) => i.complete && i.naturalWidth > 0)),
              scripts: document.querySelectorAll('script').length,
            };
            "#,
            vec![],
        )
        .await
        .expect("read the report");
    let _ = client.close().await;
    process.stop().await;
    let cards = seen["cards"].as_array().expect("cards");
    assert_eq!(cards.len(), 2, "one card per action");
    let texts: Vec<&str> = cards
        .iter()
        .map(|c| c.as_str().unwrap_or_default())
        .collect();
    assert!(texts
        .iter()
        .any(|t| t.contains("sam.sales@acme.example") && t.contains("CHG-1001")));
    assert!(texts
        .iter()
        .any(|t| t.contains("report.new@acme.example") && t.contains("CHG-1002")));
    for images in seen["images"].as_array().expect("images") {
        let loaded: Vec<bool> = serde_json::from_value(images.clone()).expect("bools");
        assert_eq!(
            loaded.len(),
            2,
            "before and after screenshots in every card"
        );
        assert!(loaded.iter().all(|ok| *ok), "every screenshot renders");
    }
    assert_eq!(seen["scripts"], 0, "the report runs no script");
}

/// How long one `audit verify` of a small run folder may take; a hang fails the test at this.
const VERIFY_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs the agent binary with a clean environment, killing it after [`VERIFY_LIMIT`] (a hang is
/// reported as exit -1).
async fn agent_within_limit(args: &[String]) -> Run {
    output_within(agent_command(args), VERIFY_LIMIT).await.0
}

fn mkfifo(path: &Path) {
    // The `mkfifo` command: nix's mkfifo needs a nix feature the agent does not use.
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A finished, signed run folder (no browser: written through the library) and its public key.
fn signed_run(root: &Path, run_id: &str) -> (PathBuf, PathBuf) {
    let private = root.join(format!("{run_id}.pem"));
    let public = root.join(format!("{run_id}.pub.pem"));
    clockify_ui_agent::audit::generate_keypair(&private, &public).expect("keygen");
    let dir = audit_common::finished_run(
        &root.join("audit"),
        run_id,
        "sam@acme.example",
        Some(&private),
    );
    (dir, public)
}

async fn verify_cli(dir: &Path, pubkey: &Path) -> Run {
    agent_within_limit(&[
        "audit".into(),
        "verify".into(),
        dir.display().to_string(),
        "--pubkey".into(),
        pubkey.display().to_string(),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_refuses_a_pubkey_that_is_a_fifo_or_a_device_at_once() {
    let root = tempfile::tempdir().expect("tempdir");
    let (dir, public) = signed_run(root.path(), "pubfifo1");
    let good = verify_cli(&dir, &public).await;
    assert_code(&good, 0);
    assert_stdout_has(&good, "VERIFIED");

    let fifo = root.path().join("pub-fifo.pem");
    mkfifo(&fifo);
    let zero = root.path().join("pub-zero.pem");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    for (key, found) in [
        (&fifo, "a FIFO (named pipe)"),
        (&zero, "a character device"),
        (&root.path().to_path_buf(), "a folder"),
    ] {
        let run = verify_cli(&dir, key).await;
        assert_code(&run, 2);
        let says = format!(
            "error: key file {}: cannot read: {found}, not a regular file",
            key.display()
        );
        assert!(run.stderr.contains(&says), "{says}\n{}", run.all_output());
    }
}

/// Replaces one file of a fresh signed run folder with a FIFO (`fifo`) or a link to `/dev/zero`,
/// verifies the folder with the right public key, and returns the run (it must end, exit 1,
/// TAMPERED) and the file's name in the folder.
async fn verify_with_replaced(root: &Path, run_id: &str, file: &str, fifo: bool) -> (Run, String) {
    let (dir, public) = signed_run(root, run_id);
    let target = if file == "screenshot" {
        audit_common::screenshots(&dir)
            .into_iter()
            .next()
            .expect("a screenshot")
    } else {
        dir.join(file)
    };
    std::fs::remove_file(&target).expect("rm");
    if fifo {
        mkfifo(&target);
    } else {
        std::os::unix::fs::symlink("/dev/zero", &target).expect("symlink");
    }
    let name = target
        .strip_prefix(&dir)
        .expect("in the run folder")
        .display()
        .to_string();
    let run = verify_cli(&dir, &public).await;
    assert_code(&run, 1);
    assert_stdout_has(&run, "TAMPERED");
    (run, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_names_run_folder_files_replaced_by_fifos_or_devices_without_hanging() {
    let root = tempfile::tempdir().expect("tempdir");

    // The event log is a FIFO: the first problem names it and what it is.
    let (run, _) = verify_with_replaced(root.path(), "evfifo01", "events.jsonl", true).await;
    assert_stdout_has(
        &run,
        "the first: events.jsonl: replaced (a FIFO (named pipe), not a regular file)",
    );

    // A screenshot links to /dev/zero (endless zeros): named, with the line that recorded it.
    let (run, name) = verify_with_replaced(root.path(), "shotzero", "screenshot", false).await;
    assert!(name.starts_with("screenshots/0001-"), "{name}");
    let says = format!(
        "the first: {name}: replaced or unreadable (a character device, not a regular file; recorded at line 4)"
    );
    assert_stdout_has(&run, &says);

    // The manifest and the signature as FIFOs.
    let (run, _) = verify_with_replaced(root.path(), "manfifo1", "manifest.json", true).await;
    assert_stdout_has(
        &run,
        "manifest.json: replaced or unreadable (a FIFO (named pipe), not a regular file)",
    );
    let (run, _) = verify_with_replaced(root.path(), "sigfifo1", "manifest.json.sig", true).await;
    assert_stdout_has(
        &run,
        "the first: manifest.json.sig: replaced or unreadable (a FIFO (named pipe), not a regular file)",
    );
    assert_stdout_has(&run, "signature    INVALID");

    // `audit report` of a folder with a /dev/zero screenshot ends too, and shows it as missing.
    let (dir, _) = signed_run(root.path(), "repzero1");
    let shot = audit_common::screenshots(&dir)
        .into_iter()
        .next()
        .expect("a screenshot");
    std::fs::remove_file(&shot).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", &shot).expect("symlink");
    let out = root.path().join("report");
    let report = agent_within_limit(&[
        "audit".into(),
        "report".into(),
        dir.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ])
    .await;
    assert_code(&report, 0);
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(
        html.contains("FILE MISSING"),
        "the replaced screenshot is not shown"
    );
}
