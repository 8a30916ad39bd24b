//! Desired-state files (`sync --desired FILE`): who should be in the workspace, with which role
//! and status, as an identity provider exports it (CSV or JSON).
//!
//! Columns (CSV header in any case and order; JSON keys): `email` (required), `role` (admin,
//! team-manager, project-manager, regular; empty = regular), `status` (active, inactive; empty =
//! active), `manages` (required for, and only allowed with, team-manager), `projects` (likewise
//! for project-manager), `name` (accepted and ignored). Any other column is an error. An email
//! listed twice is an error naming both lines. Reading is as strict as for plans: see
//! [`super::plan`].

use std::collections::HashMap;
use std::path::Path;

use super::input::{self, quoted, Schema};
use super::{Format, PlanError, Problems};
use crate::clockify::actions::TargetRole;

const SCHEMA: Schema = Schema {
    columns: &["email", "role", "status", "manages", "projects", "name"],
    required: &["email"],
    lists: &["manages", "projects"],
};

/// The members a workspace should have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desired {
    /// One per email, in file order.
    pub members: Vec<DesiredMember>,
}

/// Whether a desired member should be able to work in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesiredStatus {
    /// Active (invited when absent, reactivated when inactive).
    Active,
    /// Inactive (deactivated when active; a pending invitation is revoked).
    Inactive,
}

/// One desired member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredMember {
    /// The line of the file it came from.
    pub line: usize,
    /// Lower-case email.
    pub email: String,
    /// The role it should have.
    pub role: TargetRole,
    /// Active or inactive.
    pub status: DesiredStatus,
    /// Team-manager scope (emails or `group:NAME`); empty for other roles.
    pub manages: Vec<String>,
    /// Project-manager scope (project names); empty for other roles.
    pub projects: Vec<String>,
}

/// Reads and validates a desired-state file; the format comes from the extension.
pub fn load_desired(path: &Path) -> Result<Desired, PlanError> {
    let (bytes, format) = super::read_input(path, "desired-state file")?;
    parse_desired(&bytes, format, &path.display().to_string())
}

/// Validates desired-state text; `origin` names the file in messages. Every problem at once.
pub fn parse_desired(text: &[u8], format: Format, origin: &str) -> Result<Desired, PlanError> {
    let mut problems = Problems::default();
    let rows = input::read_rows(text, format, &SCHEMA, &mut problems);
    let mut members = Vec::with_capacity(rows.len());
    let mut lines: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let before = problems.len();
        let email = input::email(row, "email", &mut problems);
        let role_text = row.text("role");
        let role = if role_text.is_empty() {
            Some(TargetRole::Regular)
        } else {
            match input::target_role(&role_text) {
                Ok(role) => Some(role),
                Err(message) => {
                    problems.add(row.line, message);
                    None
                }
            }
        };
        let status_text = row.text("status");
        let status = match status_text.to_lowercase().as_str() {
            "" | "active" => Some(DesiredStatus::Active),
            "inactive" => Some(DesiredStatus::Inactive),
            _ => {
                problems.add(
                    row.line,
                    format!(
                        "unknown status {} (active or inactive; empty means active)",
                        quoted(&status_text)
                    ),
                );
                None
            }
        };
        let scopes = match role {
            Some(role) => input::scopes(row, Some(role), input::role_name(role), &mut problems),
            None => None,
        };
        if let Some(email) = &email {
            if let Some(first) = lines.get(email) {
                problems.add(
                    row.line,
                    format!("{email} is listed twice: already on line {first}"),
                );
                continue;
            }
            lines.insert(email.clone(), row.line);
        }
        if problems.len() != before {
            continue;
        }
        if let (Some(email), Some(role), Some(status), Some((manages, projects))) =
            (email, role, status, scopes)
        {
            members.push(DesiredMember {
                line: row.line,
                email,
                role,
                status,
                manages,
                projects,
            });
        }
    }
    problems.finish(origin)?;
    Ok(Desired { members })
}
