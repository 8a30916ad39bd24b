//! `audit verify`: checks a run folder's hash chain, every screenshot, the manifest and the
//! signature, and names the first line or file that does not match.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::chain::{self, Lines, GENESIS};
use super::manifest::{self, Manifest};
use super::{
    keys, sha256_hex, AuditError, EVENTS_FILE, MANIFEST_FILE, MAX_EVENTS_BYTES, MAX_MANIFEST_BYTES,
    MAX_SCREENSHOT_BYTES, MAX_SIGNATURE_BYTES, SCREENSHOTS_DIR, SIGNATURE_FILE,
};

/// A file of the run folder as found.
enum Found {
    /// Not there.
    Missing,
    /// Its bytes.
    Bytes(Vec<u8>),
    /// Something the agent never writes there (a FIFO, a device, a folder, a file over the bound),
    /// or a file that could not be read: why, e.g. "a FIFO (named pipe), not a regular file".
    Wrong(String),
}

/// Reads a file of the run folder: a regular file of at most `max` bytes, opened without
/// blocking, so a FIFO or a device in its place is reported, never waited on or read for ever.
fn read_found(path: &Path, max: u64) -> Found {
    match crate::files::read_regular_limited(path, max) {
        Ok(bytes) => Found::Bytes(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Found::Missing,
        Err(e) => Found::Wrong(e.to_string()),
    }
}

/// Whether a read error says the file is the wrong kind of thing or too large (the evidence was
/// replaced) rather than that it could not be read here (e.g. no permission).
fn is_replaced(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
    )
}

/// The verdict on a run folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Chain, screenshots, manifest (and signature, when checked) all match.
    Verified,
    /// Nothing contradicts the evidence, but the run never finished (no manifest): it is verified
    /// up to its last whole line only.
    Incomplete,
    /// Something was edited, deleted, added, reordered or truncated.
    Tampered,
}

impl Status {
    /// The word shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "VERIFIED",
            Status::Incomplete => "INCOMPLETE",
            Status::Tampered => "TAMPERED",
        }
    }
}

/// What was found about the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// The run was not signed (and no public key was given).
    Unsigned,
    /// A signature is there but no public key was given to check it.
    NotChecked,
    /// The signature matches the manifest under the given key (its fingerprint).
    Valid {
        /// SHA-256 of the public key's 32 bytes.
        key: String,
    },
    /// Missing or not matching (the reason is also among the problems).
    Invalid(String),
}

/// What `audit verify` found. Always describes the folder; [`VerifyReport::ok`] says whether it
/// passes.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// The run folder.
    pub dir: PathBuf,
    /// The run id from the `run_start` event.
    pub run_id: Option<String>,
    /// Whole lines in `events.jsonl`.
    pub lines: usize,
    /// `manifest.json` is present (the run got as far as finishing).
    pub manifest: bool,
    /// The manifest is present and matches the folder (the run finished).
    pub complete: bool,
    /// Everything that does not match, first problem first; each names the line number or file
    /// and what happened to it (edited, deleted, added, reordered, truncated, signature).
    pub problems: Vec<String>,
    /// Facts that are not problems (an unfinished last line, an unchecked signature).
    pub notes: Vec<String>,
    /// Screenshots recorded by the events.
    pub screenshots: usize,
    /// The signature.
    pub signature: SignatureCheck,
    /// SHA-256 of the last whole line.
    pub head: String,
}

impl VerifyReport {
    /// True when the folder is complete and nothing is wrong.
    pub fn ok(&self) -> bool {
        self.status() == Status::Verified
    }

    /// Verified, incomplete (crashed, nothing contradicts it) or tampered.
    pub fn status(&self) -> Status {
        if !self.problems.is_empty() {
            Status::Tampered
        } else if !self.complete {
            Status::Incomplete
        } else {
            Status::Verified
        }
    }

    /// Human text, several lines.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let status = self.status();
        out.push_str(&format!("run folder   {}\n", self.dir.display()));
        if let Some(id) = &self.run_id {
            out.push_str(&format!("run id       {id}\n"));
        }
        out.push_str(&format!(
            "events       {} line(s), chain head {}\n",
            self.lines,
            short(&self.head)
        ));
        out.push_str(&format!("screenshots  {} recorded\n", self.screenshots));
        let manifest = if self.complete {
            "present and matching: the run finished".to_string()
        } else if self.manifest {
            "present, does not match the folder (see the problems)".to_string()
        } else if status == Status::Incomplete {
            format!(
                "missing: the run did not finish (crashed or killed); verified up to line {}",
                self.lines
            )
        } else {
            "missing".to_string()
        };
        out.push_str(&format!("manifest     {manifest}\n"));
        let signature = match &self.signature {
            SignatureCheck::Unsigned => "none (the run was not signed)".to_string(),
            SignatureCheck::NotChecked => "present, not checked (give --pubkey)".to_string(),
            SignatureCheck::Valid { key } => format!("valid (key {})", short(key)),
            SignatureCheck::Invalid(why) => format!("INVALID: {why}"),
        };
        out.push_str(&format!("signature    {signature}\n"));
        let verdict = match status {
            Status::Verified => "VERIFIED: nothing was changed since the run wrote it".to_string(),
            Status::Incomplete => {
                "INCOMPLETE: the run stopped before finishing; what it wrote is intact".to_string()
            }
            Status::Tampered => format!(
                "TAMPERED: {} problem(s); the first: {}",
                self.problems.len(),
                self.problems[0]
            ),
        };
        out.push_str(&format!("result       {verdict}\n"));
        if !self.problems.is_empty() {
            out.push_str("problems:\n");
            for (i, p) in self.problems.iter().enumerate() {
                out.push_str(&format!("  {}. {p}\n", i + 1));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("notes:\n");
            for n in &self.notes {
                out.push_str(&format!("  - {n}\n"));
            }
        }
        out
    }
}

fn short(hash: &str) -> String {
    hash.chars().take(16).collect()
}

/// Verifies the run folder `dir`; with `pubkey` (a PEM public key) also the signature.
/// `Err` only when `dir` is not a run folder, its event log cannot be read here (e.g. no
/// permission), or the public key cannot be read; otherwise the report describes what was found
/// and [`VerifyReport::ok`] is false when anything does not match. Every file is read only when
/// it is a regular file within a bound: a FIFO, a device or an oversized file in the run folder is
/// a problem of the report naming it (the evidence was replaced), and one given as `pubkey` an
/// `Err` naming it; nothing is ever waited on or read without end.
pub fn verify(dir: &Path, pubkey: Option<&Path>) -> Result<VerifyReport, AuditError> {
    let pubkey = pubkey.map(keys::load_verifying_key).transpose()?;
    // A FIFO or a file given as the run folder is named as such; what is not there at all is
    // no run folder.
    match crate::files::folder_metadata(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AuditError::NotARunFolder(dir.to_path_buf()))
        }
        Err(e) => return Err(AuditError::io("cannot read", dir)(e)),
    }
    let events_path = dir.join(EVENTS_FILE);
    let manifest_path = dir.join(MANIFEST_FILE);
    let sig_path = dir.join(SIGNATURE_FILE);
    let mut report = VerifyReport {
        dir: dir.to_path_buf(),
        run_id: None,
        lines: 0,
        manifest: false,
        complete: false,
        problems: Vec::new(),
        notes: Vec::new(),
        screenshots: 0,
        signature: SignatureCheck::Unsigned,
        head: GENESIS.to_string(),
    };
    let lines = match crate::files::read_regular_limited(&events_path, MAX_EVENTS_BYTES) {
        Ok(bytes) => chain::parse_lines(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if manifest_path.exists() || dir.join(SCREENSHOTS_DIR).is_dir() {
                report.problems.push(format!(
                    "{EVENTS_FILE}: deleted (the run folder has no event log)"
                ));
                chain::parse_lines(b"")
            } else {
                return Err(AuditError::NotARunFolder(dir.to_path_buf()));
            }
        }
        Err(e) if is_replaced(&e) => {
            report.problems.push(format!(
                "{EVENTS_FILE}: replaced ({e}): there is no event log to check the folder against"
            ));
            chain::parse_lines(b"")
        }
        Err(e) => return Err(AuditError::io("cannot read", &events_path)(e)),
    };
    report.lines = lines.lines.len();
    if let Some(last) = lines.lines.last() {
        report.head = last.hash.clone();
    }
    report.run_id = lines
        .events()
        .find(|e| e.kind == "run_start")
        .and_then(|e| e.data.get("run_id"))
        .and_then(Value::as_str)
        .map(str::to_string);

    report.problems.extend(check_chain(&lines));

    let mut manifest_replaced = false;
    let manifest_bytes = match read_found(&manifest_path, MAX_MANIFEST_BYTES) {
        Found::Bytes(bytes) => Some(bytes),
        Found::Missing => None,
        Found::Wrong(why) => {
            report
                .problems
                .push(format!("{MANIFEST_FILE}: replaced or unreadable ({why})"));
            manifest_replaced = true;
            None
        }
    };
    if lines.torn_bytes > 0 {
        if manifest_bytes.is_some() {
            report.problems.push(format!(
                "{EVENTS_FILE}: {} byte(s) of a partial line after line {}: the file was truncated or bytes were added",
                lines.torn_bytes,
                lines.lines.len()
            ));
        } else {
            report.notes.push(format!(
                "line {} was being written when the run stopped ({} byte(s), no newline); it is not part of the evidence",
                lines.lines.len() + 1,
                lines.torn_bytes
            ));
        }
    }

    let chain_clean = report.problems.is_empty();
    let mut signed_by = None;
    let mut listed = Vec::new();
    match &manifest_bytes {
        Some(bytes) => {
            report.manifest = true;
            let (problems, parsed) = check_manifest(bytes, &lines, chain_clean);
            report.complete = problems.is_empty();
            report.problems.extend(problems);
            if let Some(m) = parsed {
                listed = m.files.iter().map(|f| f.path.clone()).collect();
                signed_by = m.signed_by;
            }
        }
        None if manifest_replaced => report.manifest = true,
        None => {
            if sig_path.exists() {
                report.problems.push(format!(
                    "{MANIFEST_FILE}: deleted ({SIGNATURE_FILE} is there, so the run had finished)"
                ));
            } else {
                report.notes.push(format!(
                    "no {MANIFEST_FILE}: the run did not finish; verified up to line {}",
                    lines.lines.len()
                ));
            }
        }
    }

    let (screenshot_problems, screenshot_notes, recorded) =
        check_screenshots(dir, &lines, manifest_bytes.is_some(), &listed);
    report.screenshots = recorded;
    report.problems.extend(screenshot_problems);
    report.notes.extend(screenshot_notes);

    report.signature = match read_found(&sig_path, MAX_SIGNATURE_BYTES) {
        Found::Wrong(why) => SignatureCheck::Invalid(format!("replaced or unreadable ({why})")),
        Found::Bytes(_) if manifest_replaced => {
            SignatureCheck::Invalid(format!("not checked: {MANIFEST_FILE} was replaced"))
        }
        found => check_signature(
            manifest_bytes.as_deref(),
            match &found {
                Found::Bytes(bytes) => Some(bytes.as_slice()),
                _ => None,
            },
            signed_by.as_deref(),
            pubkey.as_ref(),
        ),
    };
    match &report.signature {
        SignatureCheck::Invalid(why) => report.problems.push(format!("{SIGNATURE_FILE}: {why}")),
        SignatureCheck::NotChecked => report.notes.push(format!(
            "{SIGNATURE_FILE} is present but was not checked: give the public key (--pubkey)"
        )),
        _ => {}
    }

    for entry in std::fs::read_dir(dir)
        .map_err(AuditError::io("cannot read", dir))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ![EVENTS_FILE, MANIFEST_FILE, SIGNATURE_FILE, SCREENSHOTS_DIR].contains(&name.as_str()) {
            report
                .notes
                .push(format!("{name}: not part of the evidence (not checked)"));
        }
    }
    Ok(report)
}

/// Checks seq numbers and the prev links; each problem names the line and what happened.
fn check_chain(lines: &Lines) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seq_lines: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut hash_line: HashMap<&str, usize> = HashMap::new();
    for line in &lines.lines {
        if let Ok(e) = &line.event {
            seq_lines.entry(e.seq).or_default().push(line.number);
        }
        hash_line.entry(line.hash.as_str()).or_insert(line.number);
    }
    let all = &lines.lines;
    let mut expected = 1u64;
    let mut prev_hash = GENESIS;
    let mut prev_flagged = false;
    let mut explained: BTreeSet<usize> = BTreeSet::new();
    for (i, line) in all.iter().enumerate() {
        let n = line.number;
        let this_prev = prev_hash;
        prev_hash = &line.hash;
        if explained.contains(&n) {
            prev_flagged = true;
            continue;
        }
        let event = match &line.event {
            Ok(e) => e,
            Err(why) => {
                let why: String = why.chars().take(80).collect();
                problems.push(format!("line {n}: edited (not a valid event line: {why})"));
                expected += 1;
                prev_flagged = true;
                continue;
            }
        };
        let link_ok = event.prev == this_prev;
        let s = event.seq;
        // The next line, when it is this one's successor, must record this line's hash; when it is
        // not (deleted, moved, added lines), the problem is named at that line instead.
        let link_out = match all.get(i + 1).map(|l| &l.event) {
            Some(Ok(next)) if next.seq == s + 1 => next.prev == line.hash,
            _ => true,
        };
        let earlier_same_seq = seq_lines
            .get(&s)
            .and_then(|v| v.iter().find(|&&j| j < n))
            .copied();
        let (problem, next_expected) = if s == expected {
            let problem = if link_ok || prev_flagged {
                (!link_out).then(|| {
                    format!(
                        "line {n}: edited (its SHA-256 no longer matches the prev recorded in line {})",
                        n + 1
                    )
                })
            } else if n == 1 {
                Some("line 1: edited, or lines deleted before it (its prev is not the chain's start)".to_string())
            } else if let Some(&k) = hash_line.get(event.prev.as_str()) {
                Some(format!(
                    "line {n}: reordered (it follows line {k} in the chain, not line {})",
                    n - 1
                ))
            } else {
                Some(format!(
                    "line {n}: edited (its prev does not match the SHA-256 of line {})",
                    n - 1
                ))
            };
            (problem, s + 1)
        } else if let (true, Some(k)) = (s < expected, earlier_same_seq) {
            (
                Some(format!("line {n}: added (it repeats seq {s} of line {k})")),
                expected,
            )
        } else if link_ok && !prev_flagged {
            (
                Some(format!(
                    "line {n}: edited (seq {s} where {expected} belongs)"
                )),
                expected + 1,
            )
        } else if s > expected {
            let later = seq_lines
                .get(&expected)
                .and_then(|v| v.iter().find(|&&j| j > n))
                .copied();
            let problem = match later {
                Some(j) => {
                    explained.insert(j);
                    format!("line {n}: reordered (it holds seq {s}; seq {expected} is at line {j})")
                }
                None if s == expected + 1 => {
                    format!("line {n}: a line was deleted before it (seq {expected} is missing)")
                }
                None => format!(
                    "line {n}: {} lines were deleted before it (seq {expected} to {} are missing)",
                    s - expected,
                    s - 1
                ),
            };
            (Some(problem), s + 1)
        } else {
            (
                Some(format!(
                    "line {n}: reordered (seq {s} belongs before line {n})"
                )),
                expected,
            )
        };
        expected = next_expected;
        prev_flagged = problem.is_some();
        problems.extend(problem);
    }
    problems
}

/// Checks every recorded screenshot against its file and looks for files nobody recorded.
/// Returns problems, notes and the number of screenshots recorded.
/// Files the manifest lists (`listed`) but no event records are named by the manifest check.
fn check_screenshots(
    dir: &Path,
    lines: &Lines,
    finished: bool,
    listed: &[String],
) -> (Vec<String>, Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut recorded: HashMap<String, usize> = HashMap::new();
    let mut highest = 0u32;
    for line in &lines.lines {
        let Ok(event) = &line.event else { continue };
        if event.kind != "screenshot" {
            continue;
        }
        let n = line.number;
        let file = event.data.get("file").and_then(Value::as_str).unwrap_or("");
        let Some(name) = file
            .strip_prefix(&format!("{SCREENSHOTS_DIR}/"))
            .filter(|s| !s.is_empty() && !s.contains('/') && !s.starts_with('.'))
        else {
            problems.push(format!(
                "line {n}: edited (screenshot path {file:?} is not a file in {SCREENSHOTS_DIR}/)"
            ));
            continue;
        };
        if let Some(num) = name.get(..4).and_then(|d| d.parse::<u32>().ok()) {
            highest = highest.max(num);
        }
        recorded.insert(name.to_string(), n);
        let expected = event
            .data
            .get("sha256")
            .and_then(Value::as_str)
            .unwrap_or("");
        match read_found(&dir.join(file), MAX_SCREENSHOT_BYTES) {
            Found::Missing => problems.push(format!("{file}: deleted (recorded at line {n})")),
            Found::Wrong(why) => problems.push(format!(
                "{file}: replaced or unreadable ({why}; recorded at line {n})"
            )),
            Found::Bytes(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual != expected {
                    problems.push(format!(
                        "{file}: edited (its SHA-256 {} differs from the {} recorded at line {n})",
                        short(&actual),
                        short(expected)
                    ));
                }
            }
        }
    }
    for line in &lines.lines {
        let Ok(event) = &line.event else { continue };
        let named: Vec<&str> = match event.kind.as_str() {
            "action" => event
                .data
                .get("screenshots")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
            "failure" => event
                .data
                .get("screenshot")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
            _ => continue,
        };
        for name in named.into_iter().filter(|s| !s.is_empty()) {
            let base = name
                .strip_prefix(&format!("{SCREENSHOTS_DIR}/"))
                .unwrap_or(name);
            if !recorded.contains_key(base) {
                notes.push(format!(
                    "line {}: names screenshot {name}, which no screenshot event records",
                    line.number
                ));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join(SCREENSHOTS_DIR)) {
        let mut extra: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !recorded.contains_key(name))
            .filter(|name| !listed.contains(&format!("{SCREENSHOTS_DIR}/{name}")))
            .collect();
        extra.sort();
        for name in extra {
            let next = format!("{:04}-", highest + 1);
            if !finished && name.starts_with(&next) {
                notes.push(format!(
                    "{SCREENSHOTS_DIR}/{name}: written when the run stopped; no event records it"
                ));
            } else {
                problems.push(format!(
                    "{SCREENSHOTS_DIR}/{name}: added (no event records it)"
                ));
            }
        }
    } else if !recorded.is_empty() {
        problems.push(format!("{SCREENSHOTS_DIR}/: deleted"));
    }
    (problems, notes, recorded.len())
}

/// Compares `manifest.json` with the manifest the folder gives. Returns the problems and the
/// parsed manifest (when it parses).
/// `chain_clean`: the chain check found nothing (then fewer lines means a cut-off end).
fn check_manifest(
    bytes: &[u8],
    lines: &Lines,
    chain_clean: bool,
) -> (Vec<String>, Option<Manifest>) {
    let parsed: Manifest = match serde_json::from_slice(bytes) {
        Ok(m) => m,
        Err(e) => {
            return (
                vec![format!(
                    "{MANIFEST_FILE}: edited (not a valid manifest: {e})"
                )],
                None,
            )
        }
    };
    let expected = Manifest::build(
        &lines.lines,
        manifest::recorded_files(lines),
        parsed.signed_by.clone(),
    );
    if expected.to_bytes() == bytes {
        return (Vec::new(), Some(parsed));
    }
    let mut problems = Vec::new();
    let (have, recorded) = (expected.events.lines, parsed.events.lines);
    if have != recorded && !chain_clean {
        problems.push(format!(
            "{EVENTS_FILE}: {have} whole line(s) where {MANIFEST_FILE} records {recorded}"
        ));
    } else if have < recorded {
        problems.push(format!(
            "{EVENTS_FILE}: truncated ({have} whole line(s); {MANIFEST_FILE} records {recorded}, so line {} on is missing)",
            have + 1
        ));
    } else if have > recorded {
        problems.push(format!(
            "{EVENTS_FILE}: {} line(s) added after line {recorded} ({MANIFEST_FILE} records {recorded})",
            have - recorded
        ));
    } else if expected.events.head != parsed.events.head {
        problems.push(format!(
            "line {have}: edited (the last line's SHA-256 differs from the chain head in {MANIFEST_FILE}), or {MANIFEST_FILE} edited"
        ));
    }
    let listed: HashMap<&str, &manifest::FileEntry> =
        parsed.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let actual: HashMap<&str, &manifest::FileEntry> = expected
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for file in &expected.files {
        match listed.get(file.path.as_str()) {
            None if file.path != EVENTS_FILE => problems.push(format!(
                "{}: added (recorded by the events but not listed in {MANIFEST_FILE})",
                file.path
            )),
            None => problems.push(format!(
                "{MANIFEST_FILE}: edited (it does not list {EVENTS_FILE})"
            )),
            Some(l) if l.sha256 != file.sha256 || l.bytes != file.bytes => {
                if file.path == EVENTS_FILE {
                    if problems.is_empty() {
                        problems.push(format!(
                            "{EVENTS_FILE}: edited (its SHA-256 differs from the one in {MANIFEST_FILE})"
                        ));
                    }
                } else {
                    problems.push(format!(
                        "{MANIFEST_FILE}: edited (the SHA-256 or size of {} differs from its screenshot event)",
                        file.path
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for file in &parsed.files {
        if !actual.contains_key(file.path.as_str()) {
            problems.push(format!(
                "{}: listed in {MANIFEST_FILE}, but no event records it any more (its line was deleted or cut off, or {MANIFEST_FILE} was edited)",
                file.path
            ));
        }
    }
    let fields = [
        ("format", parsed.format != expected.format),
        ("run_id", parsed.run_id != expected.run_id),
        ("started_at", parsed.started_at != expected.started_at),
        ("finished_at", parsed.finished_at != expected.finished_at),
        (
            "events.by_kind",
            parsed.events.by_kind != expected.events.by_kind,
        ),
        ("actions", parsed.actions != expected.actions),
        ("summary", parsed.summary != expected.summary),
    ];
    let differing: Vec<&str> = fields.iter().filter(|(_, d)| *d).map(|(f, _)| *f).collect();
    if problems.is_empty() {
        if differing.is_empty() {
            problems.push(format!(
                "{MANIFEST_FILE}: edited (its bytes differ from the manifest the events give)"
            ));
        } else {
            problems.push(format!(
                "{MANIFEST_FILE}: edited (field(s) {} differ from what the events give)",
                differing.join(", ")
            ));
        }
    }
    (problems, Some(parsed))
}

fn check_signature(
    manifest: Option<&[u8]>,
    signature: Option<&[u8]>,
    signed_by: Option<&str>,
    pubkey: Option<&ed25519_dalek::VerifyingKey>,
) -> SignatureCheck {
    let Some(manifest) = manifest else {
        // An unfinished run has nothing signed yet; a signature without its manifest means the
        // manifest was deleted (named among the problems already).
        return match signature {
            Some(_) => SignatureCheck::Invalid(format!("its {MANIFEST_FILE} is missing")),
            None => SignatureCheck::Unsigned,
        };
    };
    match (signature, pubkey) {
        (None, None) => match signed_by {
            Some(key) => SignatureCheck::Invalid(format!(
                "deleted ({MANIFEST_FILE} says the run was signed by key {})",
                short(key)
            )),
            None => SignatureCheck::Unsigned,
        },
        (Some(_), None) => SignatureCheck::NotChecked,
        (None, Some(_)) => SignatureCheck::Invalid(match signed_by {
            Some(key) => format!(
                "deleted ({MANIFEST_FILE} says the run was signed by key {})",
                short(key)
            ),
            None => "missing: the run was not signed".to_string(),
        }),
        (Some(sig), Some(key)) => {
            let given = keys::public_fingerprint(key);
            if keys::check(key, manifest, sig) {
                SignatureCheck::Valid { key: given }
            } else if signed_by.is_some_and(|k| k != given) {
                SignatureCheck::Invalid(format!(
                    "does not verify with the given public key {} (the run names signing key {}): wrong public key, or the signature was replaced",
                    short(&given),
                    short(signed_by.unwrap_or_default())
                ))
            } else {
                SignatureCheck::Invalid(format!(
                    "does not match {MANIFEST_FILE} under the given public key {}: the manifest or the signature was edited",
                    short(&given)
                ))
            }
        }
    }
}
