//! `selectors check` against the sandbox with a real headless Firefox, through the library: a
//! sandbox served in-process, a signed-in [`Session`] built like the command line builds one, and
//! [`check_catalog`] on it. Every run asserts the sandbox's log of mutating requests stays empty.
//!
//! A browser test never skips: a missing browser or driver fails the test naming
//! `scripts/install-deps`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clockify_ui_agent::agent::{AgentConfig, BrowserConfig, EvidenceOptions, Session};
use clockify_ui_agent::browser::driver::{BrowserKind, INSTALL_HINT};
use clockify_ui_agent::clockify::check::{
    check_catalog, exit_code, render_table, CheckStatus, ElementCheck,
};
use clockify_ui_agent::clockify::signin::SignInOptions;
use clockify_ui_agent::clockify::REQUIRED_ELEMENTS;
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion};
use clockify_ui_agent::selectors::Catalog;

const ADMIN: &str = "admin@acme.example";

/// One browser at a time: the machines running the suite have few cores.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Elements no read-only check can put on screen: the code fields (requesting a code mails one),
/// the toasts (shown after changes) and a dialog's refused-submission message (the check never
/// submits). The spinner may flash by unseen.
const NEVER_CHECKED: &[&str] = &[
    "login.code_inputs",
    "shell.toast_success",
    "shell.toast_error",
    "dialog.submit_error",
    "shell.spinner",
];

fn config(sandbox: &RunningSandbox, overrides: Option<&Path>) -> AgentConfig {
    let mut catalog = Catalog::builtin("en").expect("built-in catalog");
    if let Some(file) = overrides {
        catalog = catalog.with_overrides(file).expect("override file");
    }
    catalog.require(REQUIRED_ELEMENTS).expect("flows' elements");
    let otp = format!(
        "'{}' sandbox-code --url {} --email \"$CLOCKIFY_OTP_EMAIL\"",
        env!("CARGO_BIN_EXE_clockify-ui-agent"),
        sandbox.url()
    );
    AgentConfig {
        base_url: url::Url::parse(&sandbox.url()).expect("sandbox URL"),
        browser: BrowserConfig {
            kind: BrowserKind::Firefox,
            headless: true,
            driver_path: None,
            webdriver_url: None,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(60),
            insecure: false,
        },
        catalog: Arc::new(catalog),
        sign_in: SignInOptions {
            email: Some(ADMIN.into()),
            otp_command: Some(otp),
            ..SignInOptions::default()
        },
        audit_dir: None,
        evidence: EvidenceOptions::default(),
        dry_run: false,
    }
}

async fn mutations(sandbox: &RunningSandbox) -> Vec<serde_json::Value> {
    reqwest::get(format!("{}/__sandbox/mutations", sandbox.url()))
        .await
        .expect("GET the mutation log")
        .json::<Vec<serde_json::Value>>()
        .await
        .expect("the mutation log is a JSON array")
}

/// Signs in, runs the check, closes the browser; returns the findings by element.
async fn run_check(
    sandbox: &RunningSandbox,
    overrides: Option<&Path>,
) -> BTreeMap<String, ElementCheck> {
    let config = config(sandbox, overrides);
    let session = Session::open(&config)
        .await
        .unwrap_or_else(|e| panic!("session opens ({e}); {INSTALL_HINT}"));
    let started = Instant::now();
    let commands = session.ui.commands();
    let result = check_catalog(&session.ui, &config.base_url).await;
    let took = started.elapsed();
    let commands = session.ui.commands() - commands;
    // The visit to the sign-in page did not end the session: the app shows the user again.
    let still_signed_in = session.ui.find("shell.user_email", None).await.is_ok();
    session.close(0).await;
    assert!(still_signed_in, "the session survives the check");
    let checks = result.expect("the check runs");
    println!(
        "{}check took {took:.1?} ({commands} WebDriver commands), exit code {}",
        render_table(&checks),
        exit_code(&checks)
    );
    let by_name: BTreeMap<String, ElementCheck> =
        checks.into_iter().map(|c| (c.element.clone(), c)).collect();
    let catalog_size = config.catalog.elements().count();
    assert_eq!(
        by_name.len(),
        catalog_size,
        "one finding per catalog element"
    );
    by_name
}

fn status<'a>(checks: &'a BTreeMap<String, ElementCheck>, name: &str) -> &'a CheckStatus {
    &checks
        .get(name)
        .unwrap_or_else(|| panic!("a finding for {name}"))
        .status
}

/// On a UI generation the shipped catalog supports, the nightly canary is quiet: every element is
/// found by its first candidate (no fallback, nothing ambiguous or missing), except the
/// never-checkable ones and, where given, elements the generation lacks by design (reported
/// not-checked as tolerated absences).
async fn real_generation(ui: UiVersion, tolerated_absent: &[&str]) {
    let _one = BROWSER.lock().await;
    let sandbox = RunningSandbox::start_local(SandboxConfig {
        seed: Seed::builtin(),
        ui_version: ui,
    })
    .await
    .expect("sandbox starts");
    let checks = run_check(&sandbox, None).await;
    let all: Vec<ElementCheck> = checks.values().cloned().collect();
    assert_eq!(exit_code(&all), 0, "{}", render_table(&all));
    for (name, check) in &checks {
        match &check.status {
            CheckStatus::FirstChoice => {}
            CheckStatus::NotChecked { reason } if tolerated_absent.contains(&name.as_str()) => {
                assert!(
                    reason.contains("absent in this UI generation, which the flows tolerate"),
                    "{name}: {reason}"
                );
            }
            CheckStatus::NotChecked { .. } if NEVER_CHECKED.contains(&name.as_str()) => {}
            other => panic!("{ui}: {name} is {other:?} in {}", check.context),
        }
    }
    for name in tolerated_absent {
        assert!(
            matches!(status(&checks, name), CheckStatus::NotChecked { .. }),
            "{name} is absent in {ui}"
        );
    }
    assert_eq!(
        status(&checks, "team.add_member"),
        &CheckStatus::FirstChoice
    );
    assert!(
        checks["login.code_inputs"].status.word() == "not-checked",
        "no code is requested"
    );
    // The dialog's two error shapes: the field message is shown by typing, the refusal is not.
    assert_eq!(
        status(&checks, "dialog.inline_error"),
        &CheckStatus::FirstChoice,
        "{:?}",
        checks["dialog.inline_error"]
    );
    let CheckStatus::NotChecked { reason } = status(&checks, "dialog.submit_error") else {
        panic!("dialog.submit_error: {:?}", checks["dialog.submit_error"]);
    };
    assert!(reason.contains("never submits"), "{reason}");
    // Exactly the figures a quiet canary prints. (The spinner counts as first choice when it
    // was caught on screen.)
    let first_choice = checks
        .values()
        .filter(|c| c.status == CheckStatus::FirstChoice)
        .count();
    assert!(
        first_choice >= checks.len() - NEVER_CHECKED.len() - tolerated_absent.len(),
        "{first_choice} first-choice"
    );
    let summary = format!(
        "{} elements: {first_choice} first-choice, 0 fallback, 0 ambiguous, 0 missing, {} not \
         checked",
        checks.len(),
        checks.len() - first_choice
    );
    let table = render_table(&all);
    assert!(table.contains(&summary), "expected {summary:?} in\n{table}");
    assert_eq!(
        mutations(&sandbox).await,
        Vec::<serde_json::Value>::new(),
        "the check changed nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_finds_every_element_on_2026_03() {
    real_generation(UiVersion::V2026_03, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_finds_every_element_on_2025_10_and_tolerates_what_it_lacks() {
    real_generation(
        UiVersion::V2025_10,
        &["team.apply_filter", "menu.revoke_invite"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reports_drift_as_missing_and_an_override_fixes_it() {
    let _one = BROWSER.lock().await;
    let sandbox = RunningSandbox::start_local(SandboxConfig {
        seed: Seed::builtin(),
        ui_version: UiVersion::Drift,
    })
    .await
    .expect("sandbox starts");
    let checks = run_check(&sandbox, None).await;
    let all: Vec<ElementCheck> = checks.values().cloned().collect();
    assert_eq!(exit_code(&all), 1, "{}", render_table(&all));
    let CheckStatus::Missing { tried } = status(&checks, "team.add_member") else {
        panic!("team.add_member: {:?}", checks["team.add_member"]);
    };
    assert_eq!(
        tried,
        &vec![
            "text \"Add new member\" in <button>".to_string(),
            "text \"Add full member\" in <button>".to_string(),
            "test id \"add-member-button\"".to_string(),
        ],
        "every locator tried"
    );
    assert!(
        matches!(
            status(&checks, "menu.deactivate"),
            CheckStatus::Missing { .. }
        ),
        "{:?}",
        checks["menu.deactivate"]
    );
    // What opens from the missing elements is not checked, with the reason.
    for name in ["invite.emails", "invite.send", "confirm.confirm_button"] {
        let CheckStatus::NotChecked { reason } = status(&checks, name) else {
            panic!("{name}: {:?}", checks[name]);
        };
        assert!(reason.contains("was not found"), "{name}: {reason}");
    }
    assert_eq!(
        mutations(&sandbox).await,
        Vec::<serde_json::Value>::new(),
        "the check changed nothing"
    );

    // The per-tenant fix is data: an override file naming only the renamed button.
    let dir = tempfile::tempdir().expect("tempdir");
    let fixed = dir.path().join("tenant-selectors.toml");
    std::fs::write(
        &fixed,
        "[team.add_member]\ndescription = \"Invite button (renamed in the redesign)\"\ncandidates = [\n  { text = \"Invite members\", tag = \"button\" },\n  { test_id = \"invite-members\" },\n]\n",
    )
    .expect("write the override file");
    let checks = run_check(&sandbox, Some(&fixed)).await;
    assert_eq!(
        status(&checks, "team.add_member"),
        &CheckStatus::FirstChoice
    );
    for name in ["invite.emails", "invite.send"] {
        assert_eq!(status(&checks, name), &CheckStatus::FirstChoice, "{name}");
    }
    assert!(matches!(
        status(&checks, "menu.deactivate"),
        CheckStatus::Missing { .. }
    ));
    assert_eq!(
        mutations(&sandbox).await,
        Vec::<serde_json::Value>::new(),
        "the check changed nothing"
    );
}
