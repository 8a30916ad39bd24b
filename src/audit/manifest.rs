//! `manifest.json`: a pure function of the event chain (counts, head, the files the events record),
//! so that [`super::verify`] can rebuild it and compare byte for byte.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::chain::{Lines, RawLine};
use super::{count_by, EVENTS_FILE};

/// The format name written in every manifest.
pub(crate) const FORMAT: &str = "clockify-ui-agent-audit/1";

/// The manifest of a finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub format: String,
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub events: EventCounts,
    pub actions: ActionCounts,
    pub files: Vec<FileEntry>,
    pub summary: Value,
    /// SHA-256 of the signing public key's 32 bytes, when signed.
    pub signed_by: Option<String>,
}

/// The chain in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventCounts {
    pub lines: u64,
    pub head: String,
    pub by_kind: BTreeMap<String, u64>,
}

/// Actions in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionCounts {
    pub total: u64,
    pub by_outcome: BTreeMap<String, u64>,
}

/// One file of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl Manifest {
    /// The manifest the chain `lines` and `files` give.
    pub fn build(lines: &[RawLine], files: Vec<FileEntry>, signed_by: Option<String>) -> Self {
        let events: Vec<_> = lines.iter().filter_map(|l| l.event.as_ref().ok()).collect();
        let run_id = events
            .iter()
            .find(|e| e.kind == "run_start")
            .and_then(|e| e.data.get("run_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let outcomes: Vec<&str> = events
            .iter()
            .filter(|e| e.kind == "action")
            .map(|e| {
                e.data
                    .get("outcome")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
            })
            .collect();
        Manifest {
            format: FORMAT.to_string(),
            run_id,
            started_at: events.first().map(|e| e.at.clone()).unwrap_or_default(),
            finished_at: events.last().map(|e| e.at.clone()).unwrap_or_default(),
            events: EventCounts {
                lines: lines.len() as u64,
                head: lines
                    .last()
                    .map(|l| l.hash.clone())
                    .unwrap_or_else(|| super::chain::GENESIS.to_string()),
                by_kind: count_by(events.iter().map(|e| e.kind.as_str())),
            },
            actions: ActionCounts {
                total: outcomes.len() as u64,
                by_outcome: count_by(outcomes.into_iter()),
            },
            files,
            summary: events
                .iter()
                .rev()
                .find(|e| e.kind == "run_end")
                .map(|e| e.data.clone())
                .unwrap_or(Value::Null),
            signed_by,
        }
    }

    /// The exact bytes written (pretty JSON and a newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// The files the chain records: `events.jsonl` (as it is) and every screenshot (as its event
/// says), sorted by path.
pub(crate) fn recorded_files(lines: &Lines) -> Vec<FileEntry> {
    let mut files = vec![FileEntry {
        path: EVENTS_FILE.to_string(),
        sha256: lines.file_sha256.clone(),
        bytes: lines.file_bytes,
    }];
    for event in lines.events().filter(|e| e.kind == "screenshot") {
        let file = event.data.get("file").and_then(Value::as_str);
        let sha = event.data.get("sha256").and_then(Value::as_str);
        let bytes = event.data.get("bytes").and_then(Value::as_u64);
        if let (Some(path), Some(sha256), Some(bytes)) = (file, sha, bytes) {
            files.push(FileEntry {
                path: path.to_string(),
                sha256: sha256.to_string(),
                bytes,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}
