//! Audit evidence of a run. For now: the run folder and the before/after screenshots of every
//! mutation (the hash-chained event log, manifest and report come with the audit milestone).
//!
//! Folders are created 0700 and files 0600: evidence shows member data.

use std::path::{Path, PathBuf};

use crate::browser::query::Ui;

/// Where one run's evidence goes.
#[derive(Debug)]
pub struct Evidence {
    dir: Option<PathBuf>,
    next: u32,
}

impl Evidence {
    /// Evidence written under `<audit_dir>/<UTC time>-<run id>/`; `None` keeps nothing.
    pub fn create(audit_dir: Option<&Path>, run_id: &str) -> std::io::Result<Self> {
        let Some(root) = audit_dir else {
            return Ok(Evidence { dir: None, next: 1 });
        };
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_default();
        let dir = root.join(format!("{stamp}-{run_id}"));
        create_private_dir(&dir.join("screenshots"))?;
        Ok(Evidence {
            dir: Some(dir),
            next: 1,
        })
    }

    /// The run folder, if evidence is kept.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Saves a viewport screenshot as `screenshots/NNNN-<action>-<phase>.png`; returns its path.
    /// A failed screenshot is logged, not fatal: the action's own outcome matters more.
    pub async fn capture(&mut self, ui: &Ui, action: &str, phase: &str) -> Option<String> {
        let dir = self.dir.as_ref()?;
        let name = format!(
            "{:04}-{}-{}.png",
            self.next,
            sanitize(action),
            sanitize(phase)
        );
        self.next += 1;
        let path = dir.join("screenshots").join(&name);
        match ui.screenshot().await {
            Ok(png) => match crate::clockify::signin::write_private(&path, &png) {
                Ok(()) => Some(path.display().to_string()),
                Err(e) => {
                    tracing::warn!("cannot write screenshot {}: {e}", path.display());
                    None
                }
            },
            Err(e) => {
                tracing::warn!("cannot take screenshot: {e}");
                None
            }
        }
    }
}

/// Keeps file-name parts to letters, digits and dashes.
fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Creates a folder (and parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
