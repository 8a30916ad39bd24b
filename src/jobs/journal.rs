//! The journal of a batch run (`journal.jsonl` in the run folder), for `apply --resume`.
//!
//! One JSON object a line, appended and fsynced before the work goes on:
//!
//! ```text
//! {"journal":"clockify-ui-agent","version":1,"plan_sha256":"…","plan_path":"plan.csv","at":"…"}
//! {"item":"deactivate:sam@acme.example","line":3,"state":"started","outcome":null,"at":"…"}
//! {"item":"deactivate:sam@acme.example","line":3,"state":"done","outcome":"verified","at":"…"}
//! ```
//!
//! The first line names the plan (its SHA-256 and path); resuming with another plan is refused.
//! An item's last event counts: `done` items are skipped on resume, `failed` ones and those
//! `started` but never finished are up to the caller (the flows re-read every member before
//! acting, so an unfinished item is never done twice). A torn last line (the process was killed
//! while writing it) is ignored and cut off; a damaged line before it is an error.
//!
//! The journal is not the audit log: it has no hash chain and is only a bookmark.
//!
//! One batch runs in one process at a time: an open [`Journal`] holds an exclusive advisory lock
//! (`flock`) on its file from before it is read until the run ends, so a second `apply --resume`
//! of the same folder (or a resume of a run that is still going) is refused with
//! [`JournalError::Locked`] before it reads, cuts or appends anything, instead of acting on the
//! same items a second time. The kernel releases the lock when the holder exits, however it exits
//! (a kill included), so a crashed run never leaves a stale lock behind.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

const MAGIC: &str = "clockify-ui-agent";
const VERSION: u32 = 1;

/// The largest journal read back. A line is at most about 450 bytes (an item key holds an action
/// and an email of at most 254 characters; the outcome is one word), and an item writes at most
/// six (started and finished, for each of at most three attempts): a 10,000-item batch writes
/// about 3 MB, and about 27 MB in the worst case. 64 MiB leaves room for resumes appending to it,
/// while a journal that is not one (or a file that never ends) is refused instead of read whole.
pub const MAX_JOURNAL_BYTES: u64 = 64 * 1024 * 1024;

/// Where an item of a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    /// About to act (the member is read first).
    Started,
    /// Finished: verified or a verified no-op.
    Done,
    /// Finished without the state holding (refused, or not confirmed by the read-back).
    Failed,
}

/// The journal's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderLine {
    journal: String,
    version: u32,
    plan_sha256: String,
    plan_path: String,
    at: String,
}

/// One event line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventLine {
    item: String,
    line: usize,
    state: ItemState,
    outcome: Option<String>,
    at: String,
}

/// What the journal's first line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalHeader {
    /// SHA-256 of the plan the run executes.
    pub plan_sha256: String,
    /// The plan file as given to the run.
    pub plan_path: String,
    /// When the journal was created (RFC 3339, UTC).
    pub created: String,
}

/// An item's last recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// The plan line.
    pub line: usize,
    /// Its last state.
    pub state: ItemState,
    /// Its last outcome text (e.g. `verified`, `no-op`, a failure message).
    pub outcome: Option<String>,
}

/// Where a journaled run stood when it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeState {
    /// The journal's header.
    pub header: JournalHeader,
    /// Each item's last event, by key.
    pub items: BTreeMap<String, ItemRecord>,
    /// Whether a torn last line was found (and cut off).
    pub torn_tail: bool,
}

impl ResumeState {
    /// The item's last state, if it was ever recorded.
    pub fn state(&self, key: &str) -> Option<ItemState> {
        self.items.get(key).map(|r| r.state)
    }

    /// Whether the item finished successfully (skip it on resume).
    pub fn is_done(&self, key: &str) -> bool {
        self.state(key) == Some(ItemState::Done)
    }

    fn keys_in(&self, state: ItemState) -> Vec<&str> {
        self.items
            .iter()
            .filter(|(_, r)| r.state == state)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Keys of the items that finished successfully.
    pub fn done(&self) -> Vec<&str> {
        self.keys_in(ItemState::Done)
    }

    /// Keys of the items whose last attempt failed.
    pub fn failed(&self) -> Vec<&str> {
        self.keys_in(ItemState::Failed)
    }

    /// Keys of the items started but not finished: re-read the member before acting.
    pub fn unfinished(&self) -> Vec<&str> {
        self.keys_in(ItemState::Started)
    }
}

/// Why a journal could not be created, read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing failed.
    #[error("journal {path}")]
    Io {
        /// The journal.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the journal's lock: that batch is running now.
    #[error(
        "batch folder {folder} is in use: another process is running this batch (it holds the \
         lock on {path}); wait for that run to end (or stop it), then resume"
    )]
    Locked {
        /// The batch folder.
        folder: String,
        /// The journal.
        path: String,
    },
    /// `create` found a journal already there.
    #[error("journal {path} already exists: resume that run, or start a new run folder")]
    Exists {
        /// The journal.
        path: String,
    },
    /// The file does not start with a journal header.
    #[error("{path} is not a clockify-ui-agent journal: {reason}")]
    NotAJournal {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A line before the last one is damaged.
    #[error("journal {path} is damaged at line {line}: {reason}")]
    Corrupt {
        /// The journal.
        path: String,
        /// The damaged line (1-based).
        line: usize,
        /// Why.
        reason: String,
    },
    /// The run was for another plan.
    #[error(
        "journal {path} belongs to the plan {journal_plan_path} with SHA-256 {journal_sha256}, \
         but this plan's SHA-256 is {plan_sha256}: resume with the same plan file, or start a \
         new run"
    )]
    PlanMismatch {
        /// The journal.
        path: String,
        /// The plan path the journal names.
        journal_plan_path: String,
        /// The hash the journal names.
        journal_sha256: String,
        /// The hash of the plan given now.
        plan_sha256: String,
    },
}

/// An open journal, appending. It holds the journal's exclusive lock until it is dropped.
#[derive(Debug)]
pub struct Journal {
    file: Flock<File>,
    path: PathBuf,
}

/// Takes the exclusive lock on an open journal file without waiting: a lock held elsewhere means
/// that batch is running, and waiting for it would only run the same items after it. (The file
/// is opened close-on-exec, as std opens every file, so the drivers, browsers and code commands a
/// run starts do not inherit the lock and cannot keep it after the run.)
fn lock(file: File, path: &Path) -> Result<Flock<File>, JournalError> {
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
        if errno == Errno::EWOULDBLOCK {
            JournalError::Locked {
                folder: path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .display()
                    .to_string(),
                path: path.display().to_string(),
            }
        } else {
            // Without the lock nothing guards the batch: refuse rather than run unguarded.
            io_error(path)(std::io::Error::from(errno))
        }
    })
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Journal {
    /// Creates a new journal (file mode 0600) and writes its header; an existing file is refused.
    pub fn create(
        path: &Path,
        plan_sha256: &str,
        plan_path: &str,
    ) -> Result<Journal, JournalError> {
        let io = io_error(path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                JournalError::Exists {
                    path: path.display().to_string(),
                }
            } else {
                io(e)
            }
        })?;
        // Locked before the header is written: a resume started this early is refused.
        let file = lock(file, path)?;
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
        };
        let header = HeaderLine {
            journal: MAGIC.into(),
            version: VERSION,
            plan_sha256: plan_sha256.into(),
            plan_path: plan_path.into(),
            at: now(),
        };
        journal.append(&serde_json::to_string(&header).unwrap_or_default())?;
        // The new directory entry must survive a crash too.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(journal)
    }

    /// Reads only the header: which plan a run was for (to find the plan file on `--resume`).
    /// Only a regular file of at most [`MAX_JOURNAL_BYTES`] is read: a FIFO or a device in its
    /// place is refused at once, naming what it is, never opened blocking or read without end.
    pub fn read_header(path: &Path) -> Result<JournalHeader, JournalError> {
        let bytes =
            crate::files::read_regular_limited(path, MAX_JOURNAL_BYTES).map_err(io_error(path))?;
        let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        parse_header(path, first)
    }

    /// Opens a journal to continue its run: takes its lock ([`JournalError::Locked`] when
    /// another process holds it), checks it was written for the plan `plan_sha256`, cuts off a
    /// torn last line, and returns where each item stands.
    pub fn open_existing(
        path: &Path,
        plan_sha256: &str,
    ) -> Result<(Journal, ResumeState), JournalError> {
        let io = io_error(path);
        // Only a regular file is opened (a FIFO opened for appending would wait for a reader,
        // a device would be read without end), and never blocking.
        let file = crate::files::open_regular(path, OpenOptions::new().read(true).append(true))
            .map_err(&io)?;
        // Locked before it is read: a resume refused here has read, cut and written nothing.
        let file = lock(file, path)?;
        // Read through the locked descriptor, not the path: what is read is what is locked.
        let bytes = crate::files::read_limited(&*file, MAX_JOURNAL_BYTES).map_err(&io)?;
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        // After the last newline: empty when the last write finished.
        let tail = lines.pop().unwrap_or_default();
        let mut complete_tail = false;
        let mut torn_tail = false;
        if !tail.is_empty() {
            let parses = if lines.is_empty() {
                serde_json::from_slice::<HeaderLine>(tail).is_ok()
            } else {
                serde_json::from_slice::<EventLine>(tail).is_ok()
            };
            if parses {
                lines.push(tail);
                complete_tail = true;
            } else {
                torn_tail = true;
            }
        }
        let Some(first) = lines.first() else {
            return Err(JournalError::NotAJournal {
                path: path.display().to_string(),
                reason: "it has no header line".into(),
            });
        };
        let header = parse_header(path, first)?;
        if header.plan_sha256 != plan_sha256 {
            return Err(JournalError::PlanMismatch {
                path: path.display().to_string(),
                journal_plan_path: header.plan_path,
                journal_sha256: header.plan_sha256,
                plan_sha256: plan_sha256.to_string(),
            });
        }
        let mut items = BTreeMap::new();
        for (index, raw) in lines.iter().enumerate().skip(1) {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let event: EventLine =
                serde_json::from_slice(raw).map_err(|e| JournalError::Corrupt {
                    path: path.display().to_string(),
                    line: index + 1,
                    reason: e.to_string(),
                })?;
            items.insert(
                event.item,
                ItemRecord {
                    line: event.line,
                    state: event.state,
                    outcome: event.outcome,
                },
            );
        }
        if torn_tail {
            let keep = (bytes.len() - tail.len()) as u64;
            tracing::warn!(
                "journal {}: ignoring a torn last line ({} bytes)",
                path.display(),
                tail.len()
            );
            file.set_len(keep).map_err(&io)?;
            file.sync_all().map_err(&io)?;
        }
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
        };
        if complete_tail {
            journal.write_bytes(b"\n")?;
        }
        Ok((
            journal,
            ResumeState {
                header,
                items,
                torn_tail,
            },
        ))
    }

    /// Appends an item's event and fsyncs it before returning.
    pub fn record(
        &mut self,
        key: &str,
        line: usize,
        state: ItemState,
        outcome: Option<&str>,
    ) -> Result<(), JournalError> {
        let event = EventLine {
            item: key.to_string(),
            line,
            state,
            outcome: outcome.map(String::from),
            at: now(),
        };
        self.append(&serde_json::to_string(&event).unwrap_or_default())
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&mut self, json: &str) -> Result<(), JournalError> {
        let mut line = String::with_capacity(json.len() + 1);
        line.push_str(json);
        line.push('\n');
        self.write_bytes(line.as_bytes())
    }

    /// One write call per line, then fsync: a kill leaves at most one torn last line.
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        let io = io_error(&self.path);
        self.file.write_all(bytes).map_err(&io)?;
        self.file.sync_data().map_err(&io)
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> JournalError {
    let path = path.display().to_string();
    move |source| JournalError::Io {
        path: path.clone(),
        source,
    }
}

fn parse_header(path: &Path, raw: &[u8]) -> Result<JournalHeader, JournalError> {
    let not_a_journal = |reason: String| JournalError::NotAJournal {
        path: path.display().to_string(),
        reason,
    };
    let header: HeaderLine = serde_json::from_slice(raw)
        .map_err(|e| not_a_journal(format!("its first line is not a journal header ({e})")))?;
    if header.journal != MAGIC {
        return Err(not_a_journal(format!(
            "its header names {:?}",
            header.journal
        )));
    }
    if header.version != VERSION {
        return Err(not_a_journal(format!(
            "journal version {} is not supported (this agent writes version {VERSION})",
            header.version
        )));
    }
    Ok(JournalHeader {
        plan_sha256: header.plan_sha256,
        plan_path: header.plan_path,
        created: header.at,
    })
}
