//! The event log as a hash chain: appending whole, fsynced lines and reading them back with the
//! hash of each line.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{now_millis, sha256_hex, AuditError};

/// The `prev` of line 1.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Serialize)]
struct LineOut<'a> {
    seq: u64,
    at: &'a str,
    kind: &'a str,
    data: &'a Value,
    prev: &'a str,
}

/// One parsed event line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Event {
    pub seq: u64,
    pub at: String,
    pub kind: String,
    pub data: Value,
    pub prev: String,
}

/// One whole line of the log as found on disk.
#[derive(Debug, Clone)]
pub(crate) struct RawLine {
    /// 1-based line number in the file.
    pub number: usize,
    /// SHA-256 of the line's bytes without the newline.
    pub hash: String,
    /// The event, or why the line is not one.
    pub event: Result<Event, String>,
}

/// The log as found on disk.
#[derive(Debug, Clone)]
pub(crate) struct Lines {
    /// Every line ended by a newline.
    pub lines: Vec<RawLine>,
    /// Bytes after the last newline (a line the run did not finish writing).
    pub torn_bytes: usize,
    /// SHA-256 of the whole file.
    pub file_sha256: String,
    /// Size of the whole file.
    pub file_bytes: u64,
}

impl Lines {
    /// The parsed events, skipping lines that are not events.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.lines.iter().filter_map(|l| l.event.as_ref().ok())
    }
}

/// Reads `events.jsonl` (a regular file of at most [`MAX_EVENTS_BYTES`](super::MAX_EVENTS_BYTES)).
pub(crate) fn read_lines(path: &Path) -> Result<Lines, AuditError> {
    let bytes = crate::files::read_regular_limited(path, super::MAX_EVENTS_BYTES)
        .map_err(AuditError::io("cannot read", path))?;
    Ok(parse_lines(&bytes))
}

pub(crate) fn parse_lines(bytes: &[u8]) -> Lines {
    let mut lines = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..end];
        lines.push(RawLine {
            number: lines.len() + 1,
            hash: sha256_hex(line),
            event: serde_json::from_slice::<Event>(line).map_err(|e| e.to_string()),
        });
        rest = &rest[end + 1..];
    }
    Lines {
        lines,
        torn_bytes: rest.len(),
        file_sha256: sha256_hex(bytes),
        file_bytes: bytes.len() as u64,
    }
}

/// Appends events to `events.jsonl`, one whole fsynced line per call.
#[derive(Debug)]
pub(crate) struct ChainWriter {
    file: File,
    path: PathBuf,
    seq: u64,
    head: String,
    len: u64,
    broken: bool,
}

impl ChainWriter {
    /// Creates the log (0600; fails if it exists).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        Ok(ChainWriter {
            file,
            path: path.to_path_buf(),
            seq: 0,
            head: GENESIS.to_string(),
            len: 0,
            broken: false,
        })
    }

    /// Appends one line and fsyncs it. On a failed write the file is cut back to its previous
    /// length; if even that fails, the writer refuses every later line (the chain stays whole up
    /// to the last good line, and verify reports the run incomplete).
    pub fn append(&mut self, kind: &str, data: &Value) -> std::io::Result<()> {
        if self.broken {
            return Err(std::io::Error::other(format!(
                "the event log {} is unusable after a failed write",
                self.path.display()
            )));
        }
        let at = now_millis();
        let mut line = serde_json::to_vec(&LineOut {
            seq: self.seq + 1,
            at: &at,
            kind,
            data,
            prev: &self.head,
        })
        .map_err(std::io::Error::other)?;
        let hash = sha256_hex(&line);
        line.push(b'\n');
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            let restored = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_data());
            if restored.is_err() {
                self.broken = true;
            }
            return Err(e);
        }
        self.seq += 1;
        self.head = hash;
        self.len += line.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_chain_and_parse_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.jsonl");
        let mut w = ChainWriter::create(&path).expect("create");
        w.append("step", &serde_json::json!({"what": "a\nb"}))
            .expect("append");
        w.append("step", &serde_json::json!({"what": "c"}))
            .expect("append");
        let lines = read_lines(&path).expect("read");
        assert_eq!(lines.lines.len(), 2);
        assert_eq!(lines.torn_bytes, 0);
        let first = lines.lines[0].event.as_ref().expect("event");
        let second = lines.lines[1].event.as_ref().expect("event");
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev, GENESIS);
        assert_eq!(first.data["what"], "a\nb");
        assert_eq!(second.prev, lines.lines[0].hash);
        assert!(ChainWriter::create(&path).is_err(), "never reopened");
    }
}
