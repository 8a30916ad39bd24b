//! `audit report`: a self-contained `report.html` for people (one card per action, screenshots
//! inlined as `data:` URIs, no external URL, no script) and `evidence-index.csv` for an auditor's
//! sample, from one or more run folders. Everything that came from the UI or from input files is
//! HTML-escaped; the page's Content-Security-Policy forbids scripts besides.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use super::chain::{self, Event};
use super::verify::{verify, SignatureCheck, Status, VerifyReport};
use super::{create_private_dir, sha256_hex, AuditError, EVENTS_FILE, SCREENSHOTS_DIR};

/// File name of the HTML report.
pub const REPORT_FILE: &str = "report.html";
/// File name of the evidence index.
pub const INDEX_FILE: &str = "evidence-index.csv";

/// Writes `report.html` and `evidence-index.csv` into `out` (created 0700; files 0600, replaced if
/// present) from the run folders `dirs`. A folder that holds run folders (an audit dir) stands for
/// all of them, oldest first. Each run's verify status is shown prominently. Returns the two
/// paths.
pub fn report(dirs: &[PathBuf], out: &Path) -> Result<(PathBuf, PathBuf), AuditError> {
    let mut runs = Vec::new();
    for dir in expand(dirs)? {
        runs.push(RunView::load(&dir)?);
    }
    create_private_dir(out).map_err(AuditError::io("cannot create", out))?;
    let html_path = out.join(REPORT_FILE);
    let csv_path = out.join(INDEX_FILE);
    write_replacing(&html_path, render_html(&runs).as_bytes())?;
    write_replacing(&csv_path, render_csv(&runs).as_bytes())?;
    Ok((html_path, csv_path))
}

/// Run folders: each given folder that has `events.jsonl`, or else its sub-folders that do.
fn expand(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, AuditError> {
    let mut runs = Vec::new();
    for dir in dirs {
        if dir.join(EVENTS_FILE).is_file() {
            runs.push(dir.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(AuditError::io("cannot read", dir))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(EVENTS_FILE).is_file())
            .collect();
        if found.is_empty() {
            return Err(AuditError::NotARunFolder(dir.clone()));
        }
        found.sort();
        runs.extend(found);
    }
    Ok(runs)
}

fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    super::write_new_private(&tmp, bytes).map_err(AuditError::io("cannot write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(AuditError::io("cannot write", path))
}

/// One run folder as the report shows it.
struct RunView {
    dir: PathBuf,
    verify: VerifyReport,
    start: Value,
    started_at: String,
    finished_at: Option<String>,
    end: Option<Value>,
    items: Vec<Item>,
    shots: HashMap<String, Shot>,
}

struct Item {
    event: Event,
    /// Who the UI showed as signed in.
    user: String,
}

struct Shot {
    sha256: String,
    line: u64,
    user: Option<String>,
}

impl RunView {
    fn load(dir: &Path) -> Result<Self, AuditError> {
        let verify = verify(dir, None)?;
        let lines = chain::read_lines(&dir.join(EVENTS_FILE))?;
        let mut view = RunView {
            dir: dir.to_path_buf(),
            verify,
            start: Value::Null,
            started_at: String::new(),
            finished_at: None,
            end: None,
            items: Vec::new(),
            shots: HashMap::new(),
        };
        let mut signed_in = String::new();
        for event in lines.events() {
            view.finished_at = Some(event.at.clone());
            match event.kind.as_str() {
                "run_start" => {
                    view.start = event.data.clone();
                    view.started_at = event.at.clone();
                }
                "signed_in" => signed_in = text(&event.data, "user"),
                "screenshot" => {
                    let file = text(&event.data, "file");
                    let user = event
                        .data
                        .get("caption")
                        .map(|c| text(c, "user"))
                        .filter(|u| !u.is_empty());
                    view.shots.insert(
                        file,
                        Shot {
                            sha256: text(&event.data, "sha256"),
                            line: event.seq,
                            user,
                        },
                    );
                }
                "action" | "failure" => {
                    let mut user = text(&event.data, "signed_in");
                    if user.is_empty() {
                        user = shot_names(event)
                            .iter()
                            .find_map(|s| view.shots.get(s).and_then(|s| s.user.clone()))
                            .unwrap_or_else(|| signed_in.clone());
                    }
                    view.items.push(Item {
                        event: event.clone(),
                        user,
                    });
                }
                "run_end" => view.end = Some(event.data.clone()),
                _ => {}
            }
        }
        Ok(view)
    }

    fn run_id(&self) -> String {
        let id = text(&self.start, "run_id");
        if id.is_empty() {
            self.verify.run_id.clone().unwrap_or_default()
        } else {
            id
        }
    }

    fn outcomes(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for item in &self.items {
            *counts.entry(outcome_of(&item.event)).or_insert(0) += 1;
        }
        counts
    }
}

/// The screenshots an action or failure names.
fn shot_names(event: &Event) -> Vec<String> {
    match event.kind.as_str() {
        "failure" => {
            let s = text(&event.data, "screenshot");
            if s.is_empty() {
                Vec::new()
            } else {
                vec![s]
            }
        }
        _ => event
            .data
            .get("screenshots")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(normalize_shot)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn normalize_shot(name: &str) -> String {
    if name.starts_with(&format!("{SCREENSHOTS_DIR}/")) {
        name.to_string()
    } else {
        format!("{SCREENSHOTS_DIR}/{name}")
    }
}

fn outcome_of(event: &Event) -> String {
    if event.kind == "failure" {
        "error".to_string()
    } else {
        let o = text(&event.data, "outcome");
        if o.is_empty() {
            "unknown".into()
        } else {
            o
        }
    }
}

/// A field as text: strings as they are, null and absent as empty, anything else as JSON.
fn text(data: &Value, key: &str) -> String {
    match data.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value for people: strings as they are, arrays joined, null as a dash, objects as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#111827;margin:0 auto;max-width:1100px;padding:24px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}h3{font-size:15px;margin:0}
.muted{color:#6b7280}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #e5e7eb}
th{color:#374151;font-weight:600;white-space:nowrap;width:1%}
section.run{border-top:3px solid #111827;margin-top:28px;padding-top:12px}
.status{border-radius:6px;padding:10px 14px;margin:10px 0;font-weight:600;border:2px solid}
.status ul{margin:6px 0 0;font-weight:400}
.status-verified{background:#ecfdf5;border-color:#15803d;color:#14532d}
.status-incomplete{background:#fffbeb;border-color:#b45309;color:#78350f}
.status-tampered{background:#fef2f2;border-color:#b91c1c;color:#7f1d1d}
.card{border:1px solid #d1d5db;border-left:6px solid #6b7280;border-radius:6px;padding:12px 14px;margin:14px 0;break-inside:avoid;page-break-inside:avoid}
.card header{display:flex;justify-content:space-between;gap:12px;align-items:baseline;margin-bottom:8px}
.badge{display:inline-block;border-radius:999px;padding:1px 10px;font-weight:700;font-size:12px;color:#fff;background:#6b7280;text-transform:uppercase;letter-spacing:.03em}
.o-verified{border-left-color:#15803d}.o-verified .badge{background:#15803d}
.o-no-op{border-left-color:#475569}.o-no-op .badge{background:#475569}
.o-dry-run{border-left-color:#1d4ed8}.o-dry-run .badge{background:#1d4ed8}
.o-failed,.o-error{border-left-color:#b91c1c}.o-failed .badge,.o-error .badge{background:#b91c1c}
.states{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin:8px 0}
.states h4{margin:0 0 4px;font-size:13px}
figure{margin:10px 0}figure img{max-width:100%;border:1px solid #9ca3af;display:block}
figcaption{font-size:12px;color:#374151;margin-top:4px}
.bad{color:#b91c1c;font-weight:700}.good{color:#15803d;font-weight:700}.warn{color:#b45309;font-weight:700}
pre{white-space:pre-wrap;word-break:break-all;background:#f3f4f6;padding:8px;border-radius:4px;font-size:12px}
@media print{body{max-width:none;padding:0}section.run{page-break-before:always}section.run:first-of-type{page-break-before:auto}a{color:inherit;text-decoration:none}}
"#;

fn render_html(runs: &[RunView]) -> String {
    let mut h = String::new();
    let generated = super::now_millis();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Audit evidence: clockify-ui-agent</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    let _ = write!(
        h,
        "<header>\n<h1>Audit evidence: Clockify member administration</h1>\n\
         <p class=\"muted\">Generated {} by clockify-ui-agent {} from {} run folder(s). \
         This page is self-contained: the screenshots are inside it. The status of each run comes \
         from <code>audit verify</code> (hash chain, screenshot hashes, manifest).</p>\n",
        esc(&generated),
        esc(env!("CARGO_PKG_VERSION")),
        runs.len()
    );
    h.push_str(
        "<table class=\"overview\">\n<thead><tr><th>Run</th><th>Started (UTC)</th><th>Actor</th>\
         <th>Ticket</th><th>Actions</th><th>Outcomes</th><th>Evidence</th></tr></thead>\n<tbody>\n",
    );
    for (i, run) in runs.iter().enumerate() {
        let outcomes = run
            .outcomes()
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let status = run.verify.status();
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#run-{i}\" class=\"mono\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            esc(&run.run_id()),
            esc(&run.started_at),
            esc(&text(&run.start, "actor")),
            esc(&text(&run.start, "ticket")),
            run.items.len(),
            esc(&outcomes),
            match status {
                Status::Verified => "good",
                Status::Incomplete => "warn",
                Status::Tampered => "bad",
            },
            status.as_str()
        );
    }
    h.push_str("</tbody>\n</table>\n</header>\n");
    for (i, run) in runs.iter().enumerate() {
        render_run(&mut h, i, run);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn render_run(h: &mut String, index: usize, run: &RunView) {
    let s = &run.start;
    let _ = writeln!(
        h,
        "<section class=\"run\" id=\"run-{index}\">\n<h2>Run <span class=\"mono\">{}</span></h2>",
        esc(&run.run_id())
    );
    render_status(h, &run.verify);
    let browser = [text(s, "browser"), text(s, "browser_version")]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let command = s
        .get("command")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(plain).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let exit = run
        .end
        .as_ref()
        .map(|e| text(e, "exit_code"))
        .unwrap_or_else(|| "— (no run_end)".into());
    let facts: Vec<(&str, String, bool)> = vec![
        ("Actor", text(s, "actor"), false),
        ("Ticket", text(s, "ticket"), false),
        ("Tenant", text(s, "tenant"), false),
        ("Base URL", text(s, "base_url"), true),
        ("Started (UTC)", run.started_at.clone(), false),
        (
            "Last event (UTC)",
            run.finished_at.clone().unwrap_or_default(),
            false,
        ),
        ("Exit code", exit, false),
        ("Tool version", text(s, "tool_version"), false),
        (
            "Selector catalog",
            format!(
                "{} (SHA-256 {})",
                text(s, "catalog_version"),
                text(s, "catalog_sha256")
            ),
            false,
        ),
        ("Browser", browser, false),
        ("Driver", text(s, "driver_version"), false),
        ("Dry run", text(s, "dry_run"), false),
        ("TLS checks off", text(s, "insecure"), false),
        ("Command", command, true),
        ("Evidence folder", run.dir.display().to_string(), true),
    ];
    h.push_str("<table class=\"facts\">\n");
    for (label, value, mono) in facts {
        let value = if value.is_empty() {
            "—".to_string()
        } else {
            value
        };
        let _ = writeln!(
            h,
            "<tr><th>{label}</th><td{}>{}</td></tr>",
            if mono { " class=\"mono\"" } else { "" },
            esc(&value)
        );
    }
    h.push_str("</table>\n");
    if run.items.is_empty() {
        h.push_str("<p class=\"muted\">This run recorded no action.</p>\n");
    }
    for item in &run.items {
        render_card(h, run, item);
    }
    h.push_str("</section>\n");
}

fn render_status(h: &mut String, v: &VerifyReport) {
    let status = v.status();
    let class = match status {
        Status::Verified => "status-verified",
        Status::Incomplete => "status-incomplete",
        Status::Tampered => "status-tampered",
    };
    let signature = match &v.signature {
        SignatureCheck::Unsigned => "not signed".to_string(),
        SignatureCheck::NotChecked => "signed; check it with audit verify --pubkey".to_string(),
        SignatureCheck::Valid { key } => format!("valid (key {key})"),
        SignatureCheck::Invalid(why) => format!("INVALID: {why}"),
    };
    let what = match status {
        Status::Verified => format!(
            "hash chain of {} lines intact, {} screenshot(s) match their recorded SHA-256, manifest matches",
            v.lines, v.screenshots
        ),
        Status::Incomplete => format!(
            "the run did not finish (no manifest); its {} lines and {} screenshot(s) are intact",
            v.lines, v.screenshots
        ),
        Status::Tampered => format!(
            "{} problem(s) found: this evidence was changed after it was written",
            v.problems.len()
        ),
    };
    let _ = write!(
        h,
        "<div class=\"status {class}\">Evidence {}: {}. Signature: {}.",
        status.as_str(),
        esc(&what),
        esc(&signature)
    );
    if !v.problems.is_empty() {
        h.push_str("<ul>");
        for p in &v.problems {
            let _ = write!(h, "<li>{}</li>", esc(p));
        }
        h.push_str("</ul>");
    }
    h.push_str("</div>\n");
}

fn render_card(h: &mut String, run: &RunView, item: &Item) {
    let e = &item.event;
    let d = &e.data;
    let outcome = outcome_of(e);
    let class: String = outcome
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let action = text(d, "action");
    let target = text(d, "target");
    let _ = write!(
        h,
        "<article class=\"card o-{class}\">\n<header><h3>{}{} · {}</h3><span class=\"badge\">{}</span></header>\n",
        if e.kind == "failure" { "Failure: " } else { "" },
        esc(if action.is_empty() { "—" } else { &action }),
        esc(if target.is_empty() { "—" } else { &target }),
        esc(&outcome)
    );
    let actor = text(&run.start, "actor");
    let who = if item.user.is_empty() {
        actor
    } else {
        format!("{actor} (signed in to Clockify as {})", item.user)
    };
    let mut ticket = text(d, "ticket");
    if ticket.is_empty() {
        ticket = text(&run.start, "ticket");
    }
    let mut rows: Vec<(&str, String)> = vec![
        ("Who", who),
        ("What", action),
        ("Whom", target),
        ("When (UTC)", e.at.clone()),
        ("Ticket", ticket),
        ("Outcome", outcome),
    ];
    if e.kind == "failure" {
        rows.push(("Error", text(d, "error")));
        rows.push(("Page", format!("{} — {}", text(d, "url"), text(d, "title"))));
    } else {
        rows.push(("Message", text(d, "message")));
        let millis = text(d, "millis");
        if !millis.is_empty() {
            rows.push((
                "Duration",
                format!(
                    "{millis} ms, {} WebDriver commands",
                    text(d, "webdriver_commands")
                ),
            ));
        }
    }
    rows.push(("Event", format!("line {} of {EVENTS_FILE}", e.seq)));
    h.push_str("<table>\n");
    for (label, value) in rows {
        let value = if value.is_empty() {
            "—".to_string()
        } else {
            value
        };
        let _ = writeln!(h, "<tr><th>{label}</th><td>{}</td></tr>", esc(&value));
    }
    h.push_str("</table>\n");
    if e.kind == "action" {
        h.push_str("<div class=\"states\">");
        for (label, key) in [("Before", "before"), ("After", "after")] {
            let _ = write!(h, "<div><h4>{label} (as the Team page showed it)</h4>");
            render_state(h, d.get(key).unwrap_or(&Value::Null));
            h.push_str("</div>");
        }
        h.push_str("</div>\n");
    } else {
        let excerpt = text(d, "excerpt");
        if !excerpt.is_empty() {
            let _ = writeln!(
                h,
                "<h4>Page excerpt (redacted)</h4><pre>{}</pre>",
                esc(&excerpt)
            );
        }
    }
    for name in shot_names(e) {
        render_shot(h, run, &name);
    }
    h.push_str("</article>\n");
}

fn render_state(h: &mut String, state: &Value) {
    match state {
        Value::Object(map) => {
            h.push_str("<table>");
            for (k, v) in map {
                let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&plain(v)));
            }
            h.push_str("</table>");
        }
        Value::Null => {
            h.push_str("<p class=\"muted\">not read (no such member, or not applicable)</p>")
        }
        other => {
            let _ = write!(h, "<p>{}</p>", esc(&plain(other)));
        }
    }
}

fn render_shot(h: &mut String, run: &RunView, name: &str) {
    let recorded = run.shots.get(name);
    let safe = name
        .strip_prefix(&format!("{SCREENSHOTS_DIR}/"))
        .is_some_and(|n| !n.is_empty() && !n.contains('/') && !n.starts_with('.'));
    let bytes = if safe {
        // Bounded and regular files only: a FIFO or a device in a run folder shows as missing
        // (verify names it among the problems) instead of hanging the report.
        crate::files::read_regular_limited(&run.dir.join(name), super::MAX_SCREENSHOT_BYTES).ok()
    } else {
        None
    };
    let _ = write!(h, "<figure>");
    let status = match (&bytes, recorded) {
        (Some(b), Some(r)) if sha256_hex(b) == r.sha256 => {
            format!("SHA-256 {} (matches line {} of the log)", r.sha256, r.line)
        }
        (Some(b), Some(r)) => format!(
            "HASH MISMATCH: the file's SHA-256 is {}, line {} recorded {}",
            sha256_hex(b),
            r.line,
            r.sha256
        ),
        (Some(b), None) => format!("SHA-256 {} (NOT RECORDED in the log)", sha256_hex(b)),
        (None, _) => "FILE MISSING".to_string(),
    };
    if let Some(b) = bytes
        .as_ref()
        .filter(|b| b.starts_with(b"\x89PNG\r\n\x1a\n"))
    {
        let data = base64::engine::general_purpose::STANDARD.encode(b);
        let _ = write!(
            h,
            "<img src=\"data:image/png;base64,{data}\" alt=\"screenshot {}\">",
            esc(name)
        );
    }
    let ok = recorded.is_some_and(|r| bytes.as_ref().is_some_and(|b| sha256_hex(b) == r.sha256));
    let _ = writeln!(
        h,
        "<figcaption><span class=\"mono\">{}</span> — <span class=\"mono{}\">{}</span></figcaption></figure>",
        esc(name),
        if ok { "" } else { " bad" },
        esc(&status)
    );
}

/// A CSV field: quoted, quotes doubled, and a leading `'` on text a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return).
fn csv_field(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

fn render_csv(runs: &[RunView]) -> String {
    let header = [
        "run_id",
        "seq",
        "time_utc",
        "actor",
        "signed_in_user",
        "ticket",
        "action",
        "target",
        "outcome",
        "message",
        "before",
        "after",
        "screenshots",
        "screenshot_sha256",
        "evidence_status",
        "run_folder",
    ];
    let mut out = header.join(",");
    out.push_str("\r\n");
    for run in runs {
        for item in &run.items {
            let e = &item.event;
            let d = &e.data;
            let shots = shot_names(e);
            let hashes: Vec<String> = shots
                .iter()
                .map(|s| {
                    run.shots
                        .get(s)
                        .map(|r| r.sha256.clone())
                        .unwrap_or_default()
                })
                .collect();
            let mut ticket = text(d, "ticket");
            if ticket.is_empty() {
                ticket = text(&run.start, "ticket");
            }
            let message = if e.kind == "failure" {
                text(d, "error")
            } else {
                text(d, "message")
            };
            let compact = |key: &str| match d.get(key) {
                None | Some(Value::Null) => String::new(),
                Some(v) => v.to_string(),
            };
            let row = [
                run.run_id(),
                e.seq.to_string(),
                e.at.clone(),
                text(&run.start, "actor"),
                item.user.clone(),
                ticket,
                text(d, "action"),
                text(d, "target"),
                outcome_of(e),
                message,
                compact("before"),
                compact("after"),
                shots.join("; "),
                hashes.join("; "),
                run.verify.status().as_str().to_string(),
                run.dir.display().to_string(),
            ];
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_csv_guards() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(csv_field("no-op"), "\"no-op\"");
    }
}
