//! The Clockify flows: sign-in, the Team page, reading a member's state from the UI, and the
//! member actions. Every action is: read the state → decide (no-op when it already holds) → act →
//! read back → verified or failed. Nothing is assumed from a click or a toast alone.
//!
//! Flows talk to the page only through [`crate::browser::query::Ui`] and logical element names
//! from the selector catalog; they never build selectors themselves.

pub mod actions;
pub mod check;
pub mod signin;
pub mod team;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::browser::query::QueryError;

/// Every catalog element the flows use; checked when the catalog is loaded, before a browser starts.
pub const REQUIRED_ELEMENTS: &[&str] = &[
    "login.email_input",
    "login.continue_with_email",
    "login.code_inputs",
    "login.manual_link",
    "login.password_input",
    "login.submit",
    "login.error",
    "shell.team_link",
    "shell.workspace_name",
    "shell.user_email",
    "shell.spinner",
    "shell.toast_success",
    "shell.toast_error",
    "team.add_member",
    "team.search",
    "team.status_toggle",
    "team.status_show_all",
    "team.apply_filter",
    "team.rows",
    "team.empty",
    "team.next_page",
    "team.row_email",
    "team.row_name",
    "team.row_pending_tag",
    "team.row_inactive_name",
    "team.row_role_labels",
    "team.row_add_role",
    "team.row_menu_button",
    "menu.open",
    "menu.deactivate",
    "menu.activate",
    "menu.resend_invite",
    "menu.revoke_invite",
    "dialog.open",
    "dialog.cancel",
    "dialog.inline_error",
    "dialog.submit_error",
    "invite.emails",
    "invite.send",
    "role.admin",
    "role.team_manager",
    "role.project_manager",
    "role.scope_search",
    "role.scope_options",
    "role.save",
    "confirm.confirm_button",
];

/// A member's status as the Team page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Joined and active.
    Active,
    /// Struck-through name.
    Inactive,
    /// "Not joined yet".
    Pending,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Pending => "pending",
        })
    }
}

/// A role as the Team page's Role column shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// "Owner".
    Owner,
    /// "Admin".
    Admin,
    /// "Team manager".
    TeamManager,
    /// "Project manager".
    ProjectManager,
}

impl Role {
    /// Parses a Role-column label ("Team manager"), case- and space-insensitively.
    pub fn from_label(label: &str) -> Option<Role> {
        let folded: String = label
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        match folded.as_str() {
            "owner" => Some(Role::Owner),
            "admin" | "workspace admin" => Some(Role::Admin),
            "team manager" => Some(Role::TeamManager),
            "project manager" => Some(Role::ProjectManager),
            _ => None,
        }
    }

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::TeamManager => "team-manager",
            Role::ProjectManager => "project-manager",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the Team page shows about one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    /// Email as shown.
    pub email: String,
    /// Name as shown.
    pub name: String,
    /// Status.
    pub status: Status,
    /// Roles in the Role column, sorted.
    pub roles: Vec<Role>,
}

impl fmt::Display for MemberState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        let roles = if roles.is_empty() {
            "regular".to_string()
        } else {
            roles.join("+")
        };
        write!(f, "{} ({roles})", self.status)
    }
}

/// Why a flow stopped. Each maps to one documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A business refusal: no such member, not permitted, no seats (exit 1).
    #[error("{0}")]
    Refused(String),
    /// Sign-in is required or failed (exit 4).
    #[error("sign-in failed: {0}")]
    SignIn(String),
    /// The page did not match the selector catalog, or a wait ran out (exit 5).
    #[error(transparent)]
    Ui(#[from] QueryError),
    /// Something around the browser failed: the code command, a file (exit 2 or 3 by kind).
    #[error("{0}")]
    Setup(String),
}

impl FlowError {
    /// The exit code this error maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            FlowError::Refused(_) => crate::exit::ACTION_FAILED,
            FlowError::SignIn(_) => crate::exit::SIGN_IN,
            FlowError::Ui(e) if e.is_session_lost() => crate::exit::BROWSER_UNAVAILABLE,
            FlowError::Ui(_) => crate::exit::UI_MISMATCH,
            FlowError::Setup(_) => crate::exit::USAGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_labels_parse_loosely() {
        assert_eq!(Role::from_label(" Team  manager "), Some(Role::TeamManager));
        assert_eq!(Role::from_label("ADMIN"), Some(Role::Admin));
        assert_eq!(Role::from_label("+ Role"), None);
    }

    #[test]
    fn required_elements_are_in_the_builtin_catalog() {
        let catalog = crate::selectors::Catalog::builtin("en").expect("built-in catalog");
        catalog.require(REQUIRED_ELEMENTS).expect("all present");
    }
}
