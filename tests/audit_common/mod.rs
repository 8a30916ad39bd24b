//! Shared helpers of the audit tests: fake screenshots and a finished run folder.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clockify_ui_agent::audit::{Caption, Evidence, Rect, RunInfo, RunSigningKey};
use image::ImageEncoder;
use serde_json::json;

/// A PNG that looks a little like a page: a header bar and striped rows.
pub fn fake_png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        if y < 56 {
            image::Rgb([255, 255, 255])
        } else if (y / 52) % 2 == 0 {
            image::Rgb([248, 250, 252])
        } else if x % 97 < 60 && (y % 52) > 20 && (y % 52) < 30 {
            image::Rgb([55, 65, 81])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .expect("encode a fake PNG");
    out
}

/// Facts of a test run.
pub fn run_info(run_id: &str) -> RunInfo {
    RunInfo {
        run_id: run_id.to_string(),
        tool_version: "0.1.0".into(),
        catalog_version: "2026-03".into(),
        catalog_sha256: "ab".repeat(32),
        tenant: Some("acme".into()),
        base_url: "http://127.0.0.1:4380".into(),
        browser: "firefox".into(),
        browser_version: Some("128.0".into()),
        driver_version: Some("0.36.0".into()),
        actor: "ci@acme.example".into(),
        ticket: Some("CHG-1234".into()),
        command: vec![
            "clockify-ui-agent".into(),
            "deactivate".into(),
            "sam@acme.example".into(),
        ],
        dry_run: false,
        insecure: false,
    }
}

/// Writes the events of one deactivation (two screenshots) and one failure (one screenshot) for
/// `target`, without finishing the run. Lines: 1 run_start, 2 signed_in, 3 step, 4 screenshot,
/// 5 screenshot, 6 action, 7 step, 8 screenshot, 9 failure.
pub fn write_run(evidence: &mut Evidence, target: &str, width: u32, height: u32) {
    let png = fake_png(width, height);
    let run_id = evidence.run_id().to_string();
    let caption = |phase: &str| Caption {
        url: "http://127.0.0.1:4380/teams".into(),
        time_utc: "2026-11-30T04:31:41Z".into(),
        user: "admin@acme.example".into(),
        action: format!("deactivate {target} ({phase})"),
        run_id: run_id.clone(),
    };
    let row = Rect {
        x: 230.0,
        y: 300.0,
        width: 1094.0,
        height: 52.0,
    };
    let other = Rect {
        x: 230.0,
        y: 352.0,
        width: 1094.0,
        height: 52.0,
    };
    evidence
        .event(
            "signed_in",
            json!({"user": "admin@acme.example", "method": "saved session"}),
        )
        .expect("signed_in");
    evidence
        .event("step", json!({"what": "open the Team page"}))
        .expect("step");
    let before = evidence
        .screenshot(
            &png,
            &caption("before"),
            Some(row),
            &[other],
            "deactivate",
            "before",
        )
        .expect("before shot");
    let after = evidence
        .screenshot(
            &png,
            &caption("after"),
            Some(row),
            &[other],
            "deactivate",
            "after",
        )
        .expect("after shot");
    evidence
        .event(
            "action",
            json!({
                "action": "deactivate",
                "target": target,
                "outcome": "verified",
                "message": "now inactive (read back)",
                "before": {"email": target, "name": "Sam <b>Lee</b>", "status": "active", "roles": []},
                "after": {"email": target, "name": "Sam <b>Lee</b>", "status": "inactive", "roles": []},
                "screenshots": [before, after],
                "millis": 1830,
                "webdriver_commands": 41,
                "ticket": "CHG-1234",
            }),
        )
        .expect("action");
    evidence
        .event("step", json!({"what": "set role"}))
        .expect("step");
    let failed = evidence
        .screenshot(&png, &caption("failure"), None, &[], "set-role", "failure")
        .expect("failure shot");
    evidence
        .event(
            "failure",
            json!({
                "action": "set-role",
                "target": "kim@acme.example",
                "error": "the UI did not match the selector catalog: 'role.dialog' not found",
                "url": "http://127.0.0.1:4380/teams",
                "title": "Team | Clockify",
                "excerpt": "<div class=\"row\">Kim</div>",
                "screenshot": failed,
            }),
        )
        .expect("failure");
}

/// A finished run folder (10 lines: the 9 of [`write_run`] and run_end) under `root`.
pub fn finished_run(root: &Path, run_id: &str, target: &str, key: Option<&Path>) -> PathBuf {
    let mut evidence = Evidence::create(root, &run_info(run_id)).expect("create evidence");
    write_run(&mut evidence, target, 400, 300);
    let dir = evidence.dir().expect("enabled").to_path_buf();
    let key = key.map(|path| RunSigningKey::load(path).expect("signing key"));
    evidence
        .finish(
            json!({"exit_code": 1, "summary": "1 verified, 1 error"}),
            key.as_ref(),
        )
        .expect("finish");
    dir
}

/// The lines of `events.jsonl`, without their newlines.
pub fn lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .expect("read events")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Rewrites `events.jsonl` from lines (each gets its newline back).
pub fn write_lines(dir: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join("events.jsonl"), text).expect("write events");
}

/// The screenshot files, sorted.
pub fn screenshots(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("screenshots"))
        .expect("screenshots dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}
