//! Audit evidence of a run: this module owns the run folder and everything in it, and the tools
//! that check and present it afterwards. It consumes events from the flows and jobs; it never
//! calls the browser (screenshots arrive as PNG bytes).
//!
//! # The run folder
//! One folder per invocation, `<audit dir>/<UTC time>-<run id>/`, created 0700 (files 0600):
//!
//! - `events.jsonl`: one JSON object a line, each written whole, flushed and fsynced before
//!   [`Evidence::event`] returns, so a crash or SIGKILL at any moment leaves a folder that
//!   [`verify`] reports as incomplete, never as tampered. Every line is
//!   `{"seq":N,"at":"<RFC 3339 UTC, ms>","kind":"...","data":{...},"prev":"<hex>"}` where `seq`
//!   counts from 1 (it is the line number) and `prev` is the SHA-256 of the previous line's bytes
//!   without its newline (64 zeros on line 1): the file is a hash chain.
//! - `screenshots/NNNN-<action>-<phase>.png`: the viewport with a caption strip above it (address,
//!   UTC time, signed-in user, action, run id), a red box around the element acted on and grey
//!   masks over other members' rows. Each is recorded by a `screenshot` event with its SHA-256.
//! - `manifest.json`, written by [`Evidence::finish`]: counts of events by kind and of actions by
//!   outcome, the chain head, and the SHA-256 and size of every file. It is a pure function of the
//!   chain and the files, so [`verify`] recomputes it and any edit shows.
//! - `manifest.json.sig`, with a signing key: the raw 64-byte ed25519 signature over the exact bytes
//!   of `manifest.json`. Anyone can check it without this tool:
//!   `openssl pkeyutl -verify -pubin -inkey audit.pub.pem -rawin -in manifest.json -sigfile manifest.json.sig`.
//!
//! # Events and their `data`
//! The callers write these kinds (the report and the index read them):
//!
//! | kind | data |
//! |---|---|
//! | `run_start` | written by [`Evidence::create`] from [`RunInfo`] (every field of it) |
//! | `signed_in` | `{"user": "<email>", "method": "..."}` (who the UI shows as signed in) |
//! | `step` | `{"what": "..."}` |
//! | `action` | `{"action", "target", "outcome": "verified"/"no-op"/"dry-run"/"failed", "message", "before": {...}/null, "after": {...}/null, "screenshots": ["screenshots/0001-...png", ...], "millis", "webdriver_commands", "ticket"}`; optional `"signed_in"` |
//! | `failure` | `{"action", "target", "error", "url", "title", "excerpt", "screenshot"}` (`excerpt` from [`redacted_excerpt`]) |
//! | `screenshot` | written by [`Evidence::screenshot`]: `{"file", "sha256", "bytes", "width", "height", "action", "phase", "caption": {...}, "highlight": rect/null, "masks": n}` |
//! | `run_end` | `{"exit_code", "summary"}`; written by [`Evidence::finish`] from its `summary` when the caller did not write one |
//!
//! Secrets never reach these files: callers pass no password, code or session token in any event
//! (redaction happens at the source: [`redact_known`] for the secrets the caller holds,
//! [`redact_url`] for addresses, [`redacted_excerpt`] for page HTML); the caption's address goes
//! through [`redact_url`] here as well.
//!
//! # What the chain detects
//! One byte changed in any line or screenshot, a line deleted, added or moved, the file truncated
//! (against the manifest; without one the run is reported incomplete and verified up to its last
//! whole line), a screenshot added, deleted or edited, and any edit of the manifest. An attacker
//! who rewrites the whole folder consistently is caught only by the signature: sign runs whose
//! evidence matters and keep the public key elsewhere.

mod caption;
mod chain;
mod keys;
mod manifest;
mod redact;
mod report;
mod verify;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use keys::{generate_keypair, RunSigningKey};
pub use redact::{redact_known, redact_url, redacted_excerpt};
pub use report::report;
pub use verify::{verify, SignatureCheck, Status, VerifyReport};

/// Name of the event log in a run folder.
pub const EVENTS_FILE: &str = "events.jsonl";
/// Name of the manifest in a run folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the detached signature in a run folder.
pub const SIGNATURE_FILE: &str = "manifest.json.sig";
/// Name of the screenshot folder in a run folder.
pub const SCREENSHOTS_DIR: &str = "screenshots";

// Bounds on reading the files of a run folder (`audit verify`, `audit report`, and the run's own
// manifest). Every file is read only when it is a regular file, so a FIFO or a device in a run
// folder is named instead of blocking or being read without end; the sizes only have to fit
// real runs with room to spare, since what is larger was not written by the agent.

/// `events.jsonl`: an action writes about 3 KB of events (the action with the member's state
/// before and after, two screenshot events with their captions, steps); a failure adds its
/// bounded page excerpt (2 KiB) and a screenshot, and an item is tried at most three times, so
/// about 15 KB in the worst case. A 10,000-item session writes about 30 MB, 150 MB at worst.
pub const MAX_EVENTS_BYTES: u64 = 512 * 1024 * 1024;
/// `manifest.json`: about 130 bytes per file listed; 64 MiB is half a million files.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;
/// `manifest.json.sig`: 64 bytes; anything larger is not a signature.
pub const MAX_SIGNATURE_BYTES: u64 = 4 * 1024;
/// A screenshot: the 1366×900 viewport plus the caption strip, RGB. Uncompressed that is about
/// 4 MB, 15 MB on a 2× high-density screen (PNG is never much larger than the raw pixels, and
/// page screenshots compress to a few hundred KB); 64 MiB fits any viewport up to 4K at 2×.
pub const MAX_SCREENSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// Facts about a run, written in the `run_start` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run id (also the end of the folder name).
    pub run_id: String,
    /// Version of this tool.
    pub tool_version: String,
    /// Version of the selector catalog.
    pub catalog_version: String,
    /// SHA-256 of the selector catalog as loaded.
    pub catalog_sha256: String,
    /// Tenant (per-tenant selector overrides), if any.
    pub tenant: Option<String>,
    /// Clockify base URL.
    pub base_url: String,
    /// Browser name.
    pub browser: String,
    /// Browser version, as the WebDriver session reports it.
    pub browser_version: Option<String>,
    /// Driver version, if known.
    pub driver_version: Option<String>,
    /// Who ran the tool (`--actor` or the CI environment).
    pub actor: String,
    /// The approving request or change number (`--ticket`).
    pub ticket: Option<String>,
    /// The command line (secrets never in it).
    pub command: Vec<String>,
    /// Nothing was changed on purpose.
    pub dry_run: bool,
    /// TLS certificate checks were off.
    pub insecure: bool,
}

/// What the caption strip of a screenshot shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caption {
    /// The page address (a headless browser shows no address bar).
    pub url: String,
    /// UTC time of the screenshot, e.g. `2026-11-30T04:31:41Z` (empty: now).
    pub time_utc: String,
    /// The signed-in user as the UI shows it.
    pub user: String,
    /// The action and phase, e.g. `deactivate sam@acme.example (before)`.
    pub action: String,
    /// The run id.
    pub run_id: String,
}

/// A rectangle in CSS pixels of the viewport, as WebDriver's element rect gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// Why an audit operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading or writing a file failed.
    #[error("{doing} {path}")]
    Io {
        /// What was being done ("cannot write").
        doing: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file could not be used.
    #[error("key file {path}: {message}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key itself).
        message: String,
    },
    /// The folder holds no run (no `events.jsonl` in it or in its sub-folders).
    #[error("{0} is not a run folder (no events.jsonl in it or in its sub-folders)")]
    NotARunFolder(PathBuf),
    /// Evidence is disabled or already broken.
    #[error("{0}")]
    Unusable(String),
}

impl AuditError {
    pub(crate) fn io(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| AuditError::Io {
            doing,
            path,
            source,
        }
    }
}

/// One run folder being written. Every call is a no-op on [`Evidence::disabled`].
#[derive(Debug)]
pub struct Evidence {
    run_id: String,
    inner: Option<Open>,
    pixel_ratio: f64,
}

#[derive(Debug)]
struct Open {
    dir: PathBuf,
    log: chain::ChainWriter,
    next_shot: u32,
    run_end_written: bool,
}

impl Evidence {
    /// Creates `<audit_dir>/<UTC time>-<run id>/` 0700 (parents too) with `screenshots/` inside,
    /// and writes the `run_start` event. Fails if that folder already exists.
    pub fn create(audit_dir: &Path, info: &RunInfo) -> std::io::Result<Evidence> {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .map_err(std::io::Error::other)?;
        create_private_dir(audit_dir)?;
        let dir = audit_dir.join(format!("{stamp}-{}", sanitize(&info.run_id, 40)));
        {
            use std::os::unix::fs::DirBuilderExt;
            let mut builder = std::fs::DirBuilder::new();
            builder.mode(0o700);
            builder.create(&dir)?;
            builder.create(dir.join(SCREENSHOTS_DIR))?;
        }
        let log = chain::ChainWriter::create(&dir.join(EVENTS_FILE))?;
        sync_dir(&dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        let mut evidence = Evidence {
            run_id: info.run_id.clone(),
            inner: Some(Open {
                dir,
                log,
                next_shot: 1,
                run_end_written: false,
            }),
            pixel_ratio: 1.0,
        };
        let data = serde_json::to_value(info).map_err(std::io::Error::other)?;
        evidence.event("run_start", data)?;
        Ok(evidence)
    }

    /// No evidence at all: every call is a no-op, [`Evidence::screenshot`] returns an empty name.
    pub fn disabled() -> Evidence {
        Evidence {
            run_id: String::new(),
            inner: None,
            pixel_ratio: 1.0,
        }
    }

    /// Whether evidence is kept (callers skip taking screenshots otherwise).
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The run folder, if evidence is kept.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.as_ref().map(|o| o.dir.as_path())
    }

    /// The run id (empty when disabled).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Device pixels per CSS pixel of the screenshots to come (1.0 unless the browser zooms);
    /// highlight and mask rectangles are scaled by it.
    pub fn set_pixel_ratio(&mut self, ratio: f64) {
        if ratio.is_finite() && ratio > 0.0 {
            self.pixel_ratio = ratio;
        }
    }

    /// Appends one event line (kind + data object), flushed and fsynced before returning; the line
    /// carries seq, UTC time and the SHA-256 of the previous line. A failed write is rolled back
    /// (or, if that fails too, the log refuses further lines) so the chain never holds a torn line
    /// in the middle.
    pub fn event(&mut self, kind: &str, data: Value) -> std::io::Result<()> {
        let Some(open) = self.inner.as_mut() else {
            return Ok(());
        };
        open.log.append(kind, &data)?;
        if kind == "run_end" {
            open.run_end_written = true;
        }
        Ok(())
    }

    /// Composes and writes `screenshots/NNNN-<action>-<phase>.png` (0600): the viewport PNG under a
    /// caption strip (its address passed through [`redact_url`]), with a red box around `highlight` and `masks` filled grey (GDPR: other
    /// members' rows); records a `screenshot` event with the file name and its SHA-256; returns
    /// the file name relative to the run folder (`screenshots/...`), the name the `action` event
    /// lists. Rectangles are in CSS pixels. The browser's PNG itself is never written.
    pub fn screenshot(
        &mut self,
        png: &[u8],
        caption: &Caption,
        highlight: Option<Rect>,
        masks: &[Rect],
        action: &str,
        phase: &str,
    ) -> std::io::Result<String> {
        let Some(shot) = self.prepare_screenshot(caption, highlight, masks, action, phase) else {
            return Ok(String::new());
        };
        let written = shot.work.compose_and_write(png);
        self.record_screenshot(shot.record, written)
    }

    /// [`Evidence::screenshot`] with the composing and the writing of the file (the costly part,
    /// tens of milliseconds) on another thread, so that the browser can go on meanwhile. The file
    /// number is taken now; nothing is recorded until [`Evidence::finish_screenshot`], which is to
    /// be called before any other event or screenshot so the log stays in order. `None` when
    /// evidence is disabled.
    pub fn begin_screenshot(
        &mut self,
        png: Vec<u8>,
        caption: &Caption,
        highlight: Option<Rect>,
        masks: &[Rect],
        action: &str,
        phase: &str,
    ) -> Option<PendingScreenshot> {
        let shot = self.prepare_screenshot(caption, highlight, masks, action, phase)?;
        let work = shot.work;
        let thread = std::thread::Builder::new()
            .name("evidence-screenshot".into())
            .spawn(move || work.compose_and_write(&png));
        Some(PendingScreenshot {
            record: shot.record,
            thread,
        })
    }

    /// Waits for a screenshot begun with [`Evidence::begin_screenshot`] and records it, as
    /// [`Evidence::screenshot`] does; returns its file name.
    pub fn finish_screenshot(&mut self, pending: PendingScreenshot) -> std::io::Result<String> {
        let written = match pending.thread {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("composing the screenshot failed"))),
            Err(e) => Err(e),
        };
        self.record_screenshot(pending.record, written)
    }

    /// Takes the next file number and fixes what the screenshot will show and record.
    fn prepare_screenshot(
        &mut self,
        caption: &Caption,
        highlight: Option<Rect>,
        masks: &[Rect],
        action: &str,
        phase: &str,
    ) -> Option<PreparedShot> {
        let ratio = self.pixel_ratio;
        let open = self.inner.as_mut()?;
        let mut caption = caption.clone();
        caption.url = redact_url(&caption.url);
        if caption.time_utc.is_empty() {
            caption.time_utc = now_seconds();
        }
        let name = format!(
            "{SCREENSHOTS_DIR}/{:04}-{}-{}.png",
            open.next_shot,
            sanitize(action, 40),
            sanitize(phase, 20)
        );
        open.next_shot += 1;
        Some(PreparedShot {
            work: ShotWork {
                path: open.dir.join(&name),
                caption: caption.clone(),
                highlight,
                masks: masks.to_vec(),
                ratio,
            },
            record: ShotRecord {
                name,
                caption,
                highlight,
                masks: masks.len(),
                action: action.to_string(),
                phase: phase.to_string(),
            },
        })
    }

    /// Records a composed and written screenshot: its `screenshot` event.
    fn record_screenshot(
        &mut self,
        record: ShotRecord,
        written: std::io::Result<Written>,
    ) -> std::io::Result<String> {
        let written = written?;
        let Some(open) = self.inner.as_mut() else {
            return Ok(String::new());
        };
        let data = json!({
            "file": record.name,
            "sha256": written.sha256,
            "bytes": written.bytes,
            "width": written.width,
            "height": written.height,
            "action": record.action,
            "phase": record.phase,
            "caption": record.caption,
            "highlight": record.highlight,
            "masks": record.masks,
        });
        open.log.append("screenshot", &data)?;
        Ok(record.name)
    }

    /// Ends the run: writes a `run_end` event from `summary` unless the caller wrote one (then a
    /// non-null `summary` is ignored), then `manifest.json` (counts of events by kind and of actions
    /// by outcome, the chain head, every file's SHA-256 and size) and, with a key, the detached
    /// ed25519 signature `manifest.json.sig` over the manifest's exact bytes.
    /// Returns the manifest path. On disabled evidence returns an error saying so.
    pub fn finish(
        self,
        summary: Value,
        sign_key: Option<&RunSigningKey>,
    ) -> Result<PathBuf, AuditError> {
        let Some(mut open) = self.inner else {
            return Err(AuditError::Unusable("evidence is disabled".into()));
        };
        let events_path = open.dir.join(EVENTS_FILE);
        if !open.run_end_written {
            let data = if summary.is_object() {
                summary
            } else {
                json!({ "summary": summary })
            };
            open.log
                .append("run_end", &data)
                .map_err(AuditError::io("cannot write", &events_path))?;
        } else if !summary.is_null() {
            tracing::debug!("run_end already written; the summary given to finish is not recorded");
        }
        drop(open.log);
        let lines = chain::read_lines(&events_path)?;
        let files = manifest::recorded_files(&lines);
        let signed_by = sign_key.map(RunSigningKey::fingerprint);
        let manifest = manifest::Manifest::build(&lines.lines, files, signed_by);
        let bytes = manifest.to_bytes();
        let manifest_path = open.dir.join(MANIFEST_FILE);
        write_new_private(&manifest_path, &bytes)
            .map_err(AuditError::io("cannot write", &manifest_path))?;
        if let Some(key) = sign_key.map(RunSigningKey::key) {
            let sig_path = open.dir.join(SIGNATURE_FILE);
            write_new_private(&sig_path, &keys::sign(key, &bytes))
                .map_err(AuditError::io("cannot write", &sig_path))?;
        }
        sync_dir(&open.dir).map_err(AuditError::io("cannot sync", &open.dir))?;
        Ok(manifest_path)
    }
}

/// A screenshot being composed and written on another thread (see
/// [`Evidence::begin_screenshot`]).
#[derive(Debug)]
pub struct PendingScreenshot {
    record: ShotRecord,
    thread: std::io::Result<std::thread::JoinHandle<std::io::Result<Written>>>,
}

/// A screenshot with its file number taken: what to compose and what to record.
struct PreparedShot {
    work: ShotWork,
    record: ShotRecord,
}

/// What composing and writing one screenshot needs (owned, to run on another thread).
struct ShotWork {
    path: PathBuf,
    caption: Caption,
    highlight: Option<Rect>,
    masks: Vec<Rect>,
    ratio: f64,
}

/// What the `screenshot` event of one screenshot records besides the written file.
#[derive(Debug)]
struct ShotRecord {
    name: String,
    caption: Caption,
    highlight: Option<Rect>,
    masks: usize,
    action: String,
    phase: String,
}

/// A screenshot file written (and synced, with its folder).
#[derive(Debug)]
struct Written {
    sha256: String,
    bytes: usize,
    width: u32,
    height: u32,
}

impl ShotWork {
    /// Composes the browser's `png` and writes the file, synced with its folder.
    fn compose_and_write(self, png: &[u8]) -> std::io::Result<Written> {
        let composed =
            caption::compose(png, &self.caption, self.highlight, &self.masks, self.ratio)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        write_new_private(&self.path, &composed.png)?;
        if let Some(folder) = self.path.parent() {
            sync_dir(folder)?;
        }
        Ok(Written {
            sha256: sha256_hex(&composed.png),
            bytes: composed.png.len(),
            width: composed.width,
            height: composed.height,
        })
    }
}

/// Creates a folder (and parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Writes a new file 0600 (never replaces one), fsynced.
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes a folder's entries durable (a new file's name survives a power loss).
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Lower-case hex of the SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Now, RFC 3339 UTC with milliseconds.
pub(crate) fn now_millis() -> String {
    time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// Now, RFC 3339 UTC to the second.
fn now_seconds() -> String {
    time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// Keeps file-name parts to lower-case letters, digits and single dashes, at most `max` chars.
fn sanitize(part: &str, max: usize) -> String {
    let mut out = String::new();
    for c in part.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.len() >= max {
            break;
        }
        out.push(c);
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "x".into()
    } else {
        out
    }
}

/// Counts of a parsed chain, shared by the manifest and the report.
pub(crate) fn count_by<'a>(values: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for v in values {
        *counts.entry(v.to_string()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_parts_are_tame() {
        assert_eq!(sanitize("set-role", 40), "set-role");
        assert_eq!(sanitize("../../etc/passwd", 40), "etc-passwd");
        assert_eq!(sanitize("Before Fix!", 40), "before-fix");
        assert_eq!(sanitize("", 40), "x");
        assert_eq!(sanitize("abcdefgh", 3), "abc");
    }

    #[test]
    fn disabled_evidence_does_nothing() {
        let mut e = Evidence::disabled();
        assert!(!e.is_enabled());
        e.event("step", json!({"what": "x"})).expect("no-op");
        let name = e
            .screenshot(b"not a png", &Caption::default(), None, &[], "a", "b")
            .expect("no-op");
        assert!(name.is_empty());
        assert!(e.finish(Value::Null, None).is_err());
    }
}
