//! One invocation over several tenants of a tenants file, in parallel: two sandboxes stand for
//! two Clockify workspaces, each a tenant with its own base URL, account and code command.
//!
//! - `deactivate --all-tenants` deactivates the member in both, each with exactly one accepted
//!   change, prefixes each tenant's lines, ends with a summary table, and leaves one evidence
//!   folder per tenant that `audit verify` accepts.
//! - One tenant's sandbox refusing every change (HTTP 500) makes that tenant fail and the run
//!   exit with the worst tenant's code (1), while the other tenant is still done (`--json`: one
//!   section per tenant).
//! - A tenant name not in the file (and the commands that cannot run per tenant) stop the whole
//!   run with exit 2 before any browser starts: neither sandbox sees a request or mails a code.
//!
//! These drive headless Firefox (scripts/install-deps).

mod agent_common;

use std::path::{Path, PathBuf};

use agent_common::{assert_code, run_agent, strings, with, Bed, Run, ADMIN};
use clockify_ui_agent::sandbox::UiVersion;
use serde_json::Value;

const SAM: &str = "sam.sales@acme.example";

/// Two sandboxes, a tenants file naming both (`east` and `west`) and one audit folder.
struct Two {
    east: Bed,
    west: Bed,
    tenants: String,
    audit: PathBuf,
}

impl Two {
    async fn start() -> Self {
        // Two UI generations: each tenant is resolved and driven on its own.
        let east = Bed::start(UiVersion::V2026_03).await;
        let west = Bed::start(UiVersion::V2025_10).await;
        let tenant = |name: &str, bed: &Bed| {
            format!(
                "[tenants.{name}]\nbase_url = \"{}\"\naccount = \"{ADMIN}\"\notp_command = '''{}'''\n",
                bed.sandbox.url(),
                bed.otp_command()
            )
        };
        let text = format!("{}\n{}", tenant("east", &east), tenant("west", &west));
        let tenants = east.write("tenants.toml", &text);
        let audit = east.dir.path().join("audit");
        Two {
            east,
            west,
            tenants,
            audit,
        }
    }

    /// `--config` and the audit folder, then `more`.
    fn args(&self, more: &[&str]) -> Vec<String> {
        with(
            strings(&[
                "--config",
                &self.tenants,
                "--audit-dir",
                &self.audit.display().to_string(),
            ]),
            more,
        )
    }
}

/// The run folders under `audit`, each with the tenant its `run_start` names.
fn run_folders(audit: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(audit).expect("audit folder").flatten() {
        let events = entry.path().join("events.jsonl");
        let text = std::fs::read_to_string(&events).expect("events.jsonl");
        let start: Value =
            serde_json::from_str(text.lines().next().expect("a first line")).expect("JSON");
        let tenant = start["data"]["tenant"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        out.push((entry.path(), tenant));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn assert_all_lines_prefixed(run: &Run) {
    for line in run.stdout.lines().take_while(|l| !l.is_empty()) {
        assert!(
            line.starts_with("[east] ") || line.starts_with("[west] "),
            "a tenant's line without its prefix: {line:?}\n{}",
            run.all_output()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivate_in_every_tenant_at_once() {
    let two = Two::start().await;
    let run = run_agent(
        &two.args(&["--all-tenants", "deactivate", "--email", SAM]),
        &[],
    )
    .await;
    assert_code(&run, 0);
    for bed in [&two.east, &two.west] {
        assert_eq!(bed.status(SAM).await, "INACTIVE", "{}", run.all_output());
        assert_eq!(
            bed.accepted_mutations().await,
            vec![("status".to_string(), SAM.to_string())],
            "exactly one accepted change in each workspace"
        );
    }
    assert_all_lines_prefixed(&run);
    for tenant in ["east", "west"] {
        assert!(
            run.stdout.contains(&format!("[{tenant}] verified")),
            "{}",
            run.all_output()
        );
    }
    assert!(run.stdout.contains("TENANT"), "{}", run.all_output());
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("east ") && l.contains(" 0  done")),
        "{}",
        run.all_output()
    );
    assert!(run.stdout.contains("exit code 0"), "{}", run.all_output());

    // One evidence folder per tenant, never shared, each verified.
    let runs = run_folders(&two.audit);
    let tenants: Vec<&str> = runs.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(tenants, ["east", "west"], "{runs:?}");
    assert_ne!(runs[0].0, runs[1].0);
    for (dir, tenant) in &runs {
        let verify = run_agent(
            &strings(&["audit", "verify", &dir.display().to_string()]),
            &[],
        )
        .await;
        assert_eq!(verify.code, 0, "{tenant}: {}", verify.all_output());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_tenant_refusing_gives_the_worst_code_and_the_other_is_done() {
    let two = Two::start().await;
    let refused = two
        .west
        .set_faults(serde_json::json!(
            {"failNext": {"kind": "status", "status": 500, "count": 5}}
        ))
        .await;
    assert!(refused.status().is_success(), "fault set");
    let run = run_agent(
        &two.args(&[
            "--tenant",
            "east",
            "--tenant",
            "west",
            "--json",
            "deactivate",
            "--email",
            SAM,
        ]),
        &[],
    )
    .await;
    assert_code(&run, 1);
    assert_eq!(two.east.status(SAM).await, "INACTIVE");
    assert_eq!(
        two.east.accepted_mutations().await,
        vec![("status".to_string(), SAM.to_string())]
    );
    assert_eq!(two.west.status(SAM).await, "ACTIVE");
    assert_eq!(two.west.accepted_mutations().await, vec![]);

    // --json: one object, a section per tenant.
    let out: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {}", run.all_output()));
    assert_eq!(out["exit_code"], 1, "{out}");
    assert_eq!(out["tenants"]["east"]["exit_code"], 0, "{out}");
    assert_eq!(out["tenants"]["west"]["exit_code"], 1, "{out}");
    assert_eq!(
        out["tenants"]["east"]["output"][0]["outcome"], "verified",
        "{out}"
    );
    assert_eq!(
        out["tenants"]["west"]["output"][0]["outcome"], "failed",
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_tenant_stops_everything_before_any_browser() {
    let two = Two::start().await;
    let refusals: [(&str, Vec<String>, &str); 5] = [
        (
            "an unknown tenant",
            two.args(&["--tenant", "east,nowhere", "deactivate", "--email", SAM]),
            "no tenant 'nowhere' (tenants: east, west)",
        ),
        (
            "a bad email, checked once for all",
            two.args(&["--all-tenants", "deactivate", "--email", "not-an-email"]),
            "is not a valid email address",
        ),
        (
            "one --base-url for several tenants",
            two.args(&[
                "--all-tenants",
                "--base-url",
                &two.east.sandbox.url(),
                "members",
            ]),
            "--base-url (or CLOCKIFY_BASE_URL) cannot go with several tenants",
        ),
        (
            "login",
            two.args(&["--all-tenants", "login"]),
            "login signs in to one tenant",
        ),
        (
            "resuming a batch",
            two.args(&["--all-tenants", "apply", "--resume", "somewhere"]),
            "continues one tenant's batch",
        ),
    ];
    for (what, args, says) in refusals {
        let run = run_agent(&args, &[]).await;
        assert_eq!(run.code, 2, "{what}: {}", run.all_output());
        assert!(
            run.stderr.contains(says),
            "{what}: stderr lacks {says:?}: {}",
            run.all_output()
        );
    }
    two.east.assert_untouched().await;
    two.west.assert_untouched().await;
    assert!(!two.audit.exists(), "no evidence folder: nothing started");
}
