//! The HTML report and the evidence index: self-contained, escaped, one card and one row per
//! action, several runs, verify status shown. No browser needed (the lead's browser test opens it).

mod audit_common;

use std::os::unix::fs::PermissionsExt;

use audit_common::{finished_run, lines, run_info, write_lines, write_run};
use clockify_ui_agent::audit::{self, Evidence};

const EVIL: &str = "<script>alert(1)</script>@x.example";

#[test]
fn report_escapes_inlines_and_covers_every_run() {
    let root = tempfile::tempdir().expect("tempdir");
    let runs = root.path().join("audit");
    let evil = finished_run(&runs, "evil0001", EVIL, None);
    let plain = finished_run(&runs, "plain001", "sam@acme.example", None);
    // A third run that crashed, and the plain one tampered with afterwards.
    let mut crashed = Evidence::create(&runs, &run_info("crash001")).expect("create");
    write_run(&mut crashed, "kim@acme.example", 400, 300);
    drop(crashed);
    let mut all = lines(&plain);
    all.swap(6, 7);
    write_lines(&plain, &all);

    let out = root.path().join("out");
    let (html_path, csv_path) = audit::report(&[evil.clone(), runs.clone()], &out).expect("report");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&html_path), 0o600);
    assert_eq!(mode(&csv_path), 0o600);

    let html = std::fs::read_to_string(&html_path).expect("html");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@x.example"),
        "the target is shown as text"
    );
    assert!(!html.to_lowercase().contains("<script"), "no script at all");
    assert!(
        !html.contains("<b>Lee</b>"),
        "member names from the UI are escaped"
    );
    assert!(html.contains("Sam &lt;b&gt;Lee&lt;/b&gt;"));
    for attr in ["src=\"http", "href=\"http", "url(", "@import", "src=\"//"] {
        assert!(!html.contains(attr), "external reference {attr}");
    }
    // The evil run is given twice (alone and inside the audit dir): 4 run sections.
    assert_eq!(html.matches("<section class=\"run\"").count(), 4);
    // Each run: one action and one failure card, three inlined screenshots.
    assert_eq!(html.matches("<article class=\"card").count(), 8);
    assert_eq!(
        html.matches("<img src=\"data:image/png;base64,").count(),
        12
    );
    assert!(html.contains("Evidence VERIFIED"));
    assert!(html.contains("Evidence INCOMPLETE"));
    assert!(html.contains("Evidence TAMPERED"));
    assert!(html.contains("line 7: reordered"));
    for fact in [
        "CHG-1234",
        "ci@acme.example",
        "admin@acme.example",
        "2026-03",
        "firefox 128.0",
    ] {
        assert!(html.contains(fact), "{fact} shown");
    }
    assert!(html.contains("class=\"card o-verified\""));
    assert!(html.contains("class=\"card o-error\""));

    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(
        rows.len(),
        1 + 8,
        "header and one row per action or failure"
    );
    assert!(rows[0]
        .starts_with("run_id,seq,time_utc,actor,signed_in_user,ticket,action,target,outcome"));
    assert!(csv.contains("\"<script>alert(1)</script>@x.example\""));
    assert!(csv.contains("\"verified\""));
    assert!(csv.contains("\"TAMPERED\""));
    assert!(csv
        .contains("screenshots/0001-deactivate-before.png; screenshots/0002-deactivate-after.png"));

    // Written again: replaced.
    audit::report(&[evil], &out).expect("again");
    let html = std::fs::read_to_string(&html_path).expect("html");
    assert_eq!(html.matches("<section class=\"run\"").count(), 1);
}

#[test]
fn report_refuses_a_folder_without_runs() {
    let root = tempfile::tempdir().expect("tempdir");
    let err =
        audit::report(&[root.path().to_path_buf()], &root.path().join("out")).expect_err("no runs");
    assert!(err.to_string().contains("not a run folder"), "{err}");
}
