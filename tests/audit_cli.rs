//! Evidence of real agent runs: the run folder verifies, signed manifests check against the public
//! key, and the report opens in a real browser with a card and the screenshots of every action.

use std::path::{Path, PathBuf};

use clockify_ui_agent::browser::driver::{self, BrowserKind, DriverProcess};
use clockify_ui_agent::sandbox::UiVersion;
use serde_json::Value;

mod agent_common;

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
