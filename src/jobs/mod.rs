//! Batches: what to do to many members, decided before a browser starts. Pure Rust, no browser,
//! no async.
//!
//! This module owns the batch inputs and the decisions made from them:
//! - [`plan`]: plan files (`apply --plan FILE`, CSV or JSON), strictly validated into a list of
//!   [`Action`](crate::clockify::actions::Action)s with the line each came from;
//! - [`desired`]: desired-state files (`sync --desired FILE`, an identity-provider export);
//! - [`reconcile`](mod@reconcile): the members as the Team page shows them × the desired state → the actions of
//!   a sync, with the Owner, the signed-in account and protected emails left alone and a guard
//!   against mass deactivation;
//! - [`journal`]: the append-only, fsynced journal of a batch run that lets `apply --resume`
//!   continue where a crash or a kill stopped it, locked while a run uses it so that one batch
//!   never runs in two processes at once.
//!
//! Input files are read whole, checked whole, and every problem is reported at once with its
//! line ([`PlanError`]); nothing is done when there is any problem. The file reading shared by
//! both kinds of input (encoding, BOM, CRLF, blank lines, CSV header, JSON shape, line numbers)
//! lives in the private `input` module.

pub mod desired;
mod input;
pub mod journal;
pub mod plan;
pub mod reconcile;

use std::fmt;
use std::path::Path;

pub use desired::{load_desired, parse_desired, Desired, DesiredMember, DesiredStatus};
pub use journal::{ItemRecord, ItemState, Journal, JournalError, JournalHeader, ResumeState};
pub use plan::{load_plan, parse_plan, Plan, PlanItem};
pub use reconcile::{reconcile, SyncOptions, SyncPlan, SyncRefusal};

/// Input files larger than this are refused before parsing (a plan of 100,000 rows is ~5 MiB).
pub const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// At most this many problems are listed in a [`PlanError`]'s message; the rest are counted.
pub const MAX_REPORTED_PROBLEMS: usize = 50;

/// The format of a batch input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// The format named by the file's extension (`.csv` or `.json`, any case); `None` otherwise.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// One problem found in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line it is on (1-based; CSV: the physical line of the file, the header is line 1;
    /// JSON: the line where the object starts).
    pub line: usize,
    /// What is wrong, for people.
    pub message: String,
}

/// Why a plan or desired-state file was refused. Nothing is done when a file has any problem.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file could not be read.
    #[error("cannot read {role} {path}")]
    Read {
        /// What the file is for ("plan file", "desired-state file"): a message names the file's
        /// role, not only its name.
        role: &'static str,
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file name ends in neither `.csv` nor `.json`.
    #[error("{path}: unknown file type; the name must end in .csv or .json")]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// The file is larger than [`MAX_INPUT_BYTES`].
    #[error("{path}: {size} bytes is more than the {max} bytes a batch file may have; split it")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The content has problems: every one of them, in line order.
    #[error("{}", render_problems(origin, problems))]
    Invalid {
        /// The file as named in messages.
        origin: String,
        /// Every problem, sorted by line.
        problems: Vec<Problem>,
    },
}

impl PlanError {
    /// Every content problem (empty for read errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            PlanError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// The exit code: always [`crate::exit::USAGE`] (input error, nothing was changed).
    pub fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

fn render_problems(origin: &str, problems: &[Problem]) -> String {
    use fmt::Write as _;
    let count = problems.len();
    let mut out = format!(
        "{origin}: {count} problem{}; nothing was done",
        if count == 1 { "" } else { "s" }
    );
    for problem in problems.iter().take(MAX_REPORTED_PROBLEMS) {
        let _ = write!(out, "\n{origin}:{}: {}", problem.line, problem.message);
    }
    if count > MAX_REPORTED_PROBLEMS {
        let _ = write!(
            out,
            "\n... and {} more problems",
            count - MAX_REPORTED_PROBLEMS
        );
    }
    out
}

/// Collects problems while a file is read; turned into [`PlanError::Invalid`] at the end.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub(crate) fn add(&mut self, line: usize, message: impl Into<String>) {
        self.list.push(Problem {
            line,
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// `Ok(())` when there is no problem, else every problem sorted by line (stable).
    pub(crate) fn finish(mut self, origin: &str) -> Result<(), PlanError> {
        if self.list.is_empty() {
            return Ok(());
        }
        self.list.sort_by_key(|p| p.line);
        Err(PlanError::Invalid {
            origin: origin.to_string(),
            problems: self.list,
        })
    }
}

/// Reads a batch file whole, refusing unknown extensions and oversized files; `role` names what
/// the file is for in a read error ("plan file", "desired-state file").
pub(crate) fn read_input(path: &Path, role: &'static str) -> Result<(Vec<u8>, Format), PlanError> {
    let shown = path.display().to_string();
    let format = Format::from_path(path).ok_or_else(|| PlanError::UnknownFormat {
        path: shown.clone(),
    })?;
    let read_error = |source| PlanError::Read {
        role,
        path: shown.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(PlanError::TooLarge {
            path: shown,
            size,
            max: MAX_INPUT_BYTES,
        });
    }
    let bytes = crate::files::read_regular(path).map_err(read_error)?;
    Ok((bytes, format))
}

/// The lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        use fmt::Write as _;
        let _ = write!(out, "{byte:02x}");
    }
    out
}
