//! Plan files (`apply --plan FILE`): many member actions in one CSV or JSON file, validated whole
//! before a browser starts.
//!
//! CSV: a header (any case, any order) with the columns `action` and `email` and, as needed,
//! `role`, `manages` and `projects`; one action per line. JSON: an array of objects with the same
//! keys; `manages` and `projects` may be arrays or `;`-separated strings.
//!
//! | column | value |
//! |---|---|
//! | `action` | invite, set-role, deactivate, reactivate, resend-invite, revoke-invite |
//! | `email` | the member's address (any case; kept in lower case) |
//! | `role` | set-role only: admin, team-manager, project-manager, regular |
//! | `manages` | team-manager only, required: member emails or `group:NAME`, `;`-separated |
//! | `projects` | project-manager only, required: project names, `;`-separated |
//!
//! Rules between rows for one email (each problem is reported on the later row and names the
//! earlier one):
//! - the same action twice is a **duplicate** (two set-role rows with a different role or scope
//!   are a **conflict**);
//! - each action says what the member may end up as: invite → invited or active, resend-invite →
//!   invited (not joined), revoke-invite → gone, deactivate → inactive, reactivate → active,
//!   set-role → any of invited, active, inactive. Two rows **conflict** when no end state
//!   satisfies both: deactivate × reactivate, invite × deactivate, invite × revoke-invite,
//!   resend-invite × reactivate, resend-invite × deactivate, and revoke-invite × anything else.
//!   Demoting and deactivating one member (set-role + deactivate) is allowed;
//! - rows run in file order, so a set-role or resend-invite for an address the plan invites must
//!   come after the invite.

use std::collections::HashMap;
use std::path::Path;

use super::input::{self, quoted, Row, Schema};
use super::{Format, PlanError, Problems};
use crate::clockify::actions::{Action, TargetRole};

const SCHEMA: Schema = Schema {
    columns: &["action", "email", "role", "manages", "projects"],
    required: &["action", "email"],
    lists: &["manages", "projects"],
};

const ACTION_NAMES: &str = "invite, set-role, deactivate, reactivate, resend-invite, revoke-invite";

/// A validated plan: its actions in file order, each with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The actions, in the order of the file.
    pub items: Vec<PlanItem>,
    sha256: String,
}

/// One action of a plan and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    /// The line of the file (CSV: physical line, header = 1; JSON: where the object starts).
    pub line: usize,
    /// What to do.
    pub action: Action,
}

impl PlanItem {
    /// The item's key in the journal, unique within a plan: `"<action>:<email>"`, e.g.
    /// `"deactivate:sam@acme.example"` (a plan never has the same action twice for one email).
    pub fn key(&self) -> String {
        format!("{}:{}", self.action.name(), self.action.email())
    }
}

impl Plan {
    /// A plan made in the program (a sync's actions, a single command): lines are positions
    /// (1-based) and the hash is that of the actions' JSON, one per line.
    pub fn from_actions(actions: Vec<Action>) -> Plan {
        let mut canonical = String::new();
        for action in &actions {
            canonical.push_str(&serde_json::to_string(action).unwrap_or_default());
            canonical.push('\n');
        }
        Plan {
            sha256: super::sha256_hex(canonical.as_bytes()),
            items: actions
                .into_iter()
                .enumerate()
                .map(|(index, action)| PlanItem {
                    line: index + 1,
                    action,
                })
                .collect(),
        }
    }

    /// The lower-case hex SHA-256 of the plan file's bytes as read (what `sha256sum` prints), or
    /// of the actions for [`Plan::from_actions`]. The journal refuses to resume another plan.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// Reads and validates a plan file; the format comes from the extension (`.csv`, `.json`).
pub fn load_plan(path: &Path) -> Result<Plan, PlanError> {
    let (bytes, format) = super::read_input(path, "plan file")?;
    parse_plan(&bytes, format, &path.display().to_string())
}

/// Validates plan text; `origin` names the file in messages. Every problem is reported at once.
pub fn parse_plan(text: &[u8], format: Format, origin: &str) -> Result<Plan, PlanError> {
    let mut problems = Problems::default();
    let rows = input::read_rows(text, format, &SCHEMA, &mut problems);
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(action) = parse_row(row, &mut problems) {
            items.push(PlanItem {
                line: row.line,
                action,
            });
        }
    }
    check_between_rows(&items, &mut problems);
    problems.finish(origin)?;
    Ok(Plan {
        items,
        sha256: super::sha256_hex(text),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invite,
    SetRole,
    Deactivate,
    Reactivate,
    ResendInvite,
    RevokeInvite,
}

/// End states, as bits: what an action may leave the member as.
const INVITED: u8 = 1;
const ACTIVE: u8 = 2;
const INACTIVE: u8 = 4;
const GONE: u8 = 8;

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "invite" => Kind::Invite,
            "set-role" => Kind::SetRole,
            "deactivate" => Kind::Deactivate,
            "reactivate" => Kind::Reactivate,
            "resend-invite" => Kind::ResendInvite,
            "revoke-invite" => Kind::RevokeInvite,
            _ => return None,
        })
    }

    fn of(action: &Action) -> Kind {
        match action {
            Action::Invite { .. } => Kind::Invite,
            Action::SetRole { .. } => Kind::SetRole,
            Action::Deactivate { .. } => Kind::Deactivate,
            Action::Reactivate { .. } => Kind::Reactivate,
            Action::ResendInvite { .. } => Kind::ResendInvite,
            Action::RevokeInvite { .. } => Kind::RevokeInvite,
        }
    }

    fn ends(self) -> u8 {
        match self {
            Kind::Invite => INVITED | ACTIVE,
            Kind::SetRole => INVITED | ACTIVE | INACTIVE,
            Kind::Deactivate => INACTIVE,
            Kind::Reactivate => ACTIVE,
            Kind::ResendInvite => INVITED,
            Kind::RevokeInvite => GONE,
        }
    }

    fn leaves(self) -> &'static str {
        match self {
            Kind::Invite => "invited or active",
            Kind::SetRole => "in the workspace",
            Kind::Deactivate => "inactive",
            Kind::Reactivate => "active",
            Kind::ResendInvite => "invited and not joined",
            Kind::RevokeInvite => "gone (invitation revoked)",
        }
    }
}

fn parse_row(row: &Row, problems: &mut Problems) -> Option<Action> {
    let before = problems.len();
    let name = row.text("action");
    let kind = if name.is_empty() {
        problems.add(
            row.line,
            format!("missing 'action' (one of: {ACTION_NAMES})"),
        );
        None
    } else {
        let kind = Kind::parse(&name.to_lowercase());
        if kind.is_none() {
            problems.add(
                row.line,
                format!("unknown action {} (one of: {ACTION_NAMES})", quoted(&name)),
            );
        }
        kind
    };
    let email = input::email(row, "email", problems);
    let role_text = row.text("role");
    let mut role = None;
    match kind {
        Some(Kind::SetRole) if role_text.is_empty() => problems.add(
            row.line,
            format!("set-role needs a 'role' (one of: {})", input::ROLE_NAMES),
        ),
        Some(Kind::SetRole) => match input::target_role(&role_text) {
            Ok(parsed) => role = Some(parsed),
            Err(message) => problems.add(row.line, message),
        },
        Some(_) if !role_text.is_empty() => problems.add(
            row.line,
            format!(
                "a 'role' is only allowed on set-role rows, not on {}",
                name.to_lowercase()
            ),
        ),
        _ => {}
    }
    // What the row is, in scope messages: its role on set-role rows, else its action.
    let what = match role {
        Some(role) => input::role_name(role).to_string(),
        None => name.to_lowercase(),
    };
    // Without a known action or role the scope checks would only repeat that problem.
    let scopes = match (kind, role) {
        (None, _) | (Some(Kind::SetRole), None) => None,
        _ => input::scopes(row, role, &what, problems),
    };
    if problems.len() != before {
        return None;
    }
    let (kind, email, (manages, projects)) = (kind?, email?, scopes?);
    Some(match kind {
        Kind::Invite => Action::Invite { email },
        Kind::SetRole => Action::SetRole {
            email,
            role: role?,
            manages,
            projects,
        },
        Kind::Deactivate => Action::Deactivate { email },
        Kind::Reactivate => Action::Reactivate { email },
        Kind::ResendInvite => Action::ResendInvite { email },
        Kind::RevokeInvite => Action::RevokeInvite { email },
    })
}

fn describe_set_role(action: &Action) -> String {
    match action {
        Action::SetRole {
            role,
            manages,
            projects,
            ..
        } => {
            let scope = match role {
                TargetRole::TeamManager => format!(" managing {}", manages.join(";")),
                TargetRole::ProjectManager => format!(" of {}", projects.join(";")),
                _ => String::new(),
            };
            format!("{}{scope}", input::role_name(*role))
        }
        other => other.name().to_string(),
    }
}

/// Duplicates, conflicts and order between the rows of one email.
fn check_between_rows(items: &[PlanItem], problems: &mut Problems) {
    // Per email, the accepted rows so far: at most one per kind, so these lists stay short.
    let mut seen: HashMap<&str, Vec<&PlanItem>> = HashMap::new();
    for item in items {
        let email = item.action.email();
        let kind = Kind::of(&item.action);
        let earlier = seen.entry(email).or_default();
        let mut problem = None;
        for other in earlier.iter() {
            let other_kind = Kind::of(&other.action);
            if other_kind == kind {
                problem = Some(if other.action == item.action {
                    format!(
                        "duplicate of line {} ({} {email})",
                        other.line,
                        kind_name(kind)
                    )
                } else {
                    format!(
                        "conflicts with line {} for {email}: line {} makes them {}, this line {}",
                        other.line,
                        other.line,
                        describe_set_role(&other.action),
                        describe_set_role(&item.action)
                    )
                });
                break;
            }
            if kind.ends() & other_kind.ends() == 0 {
                problem = Some(format!(
                    "{} conflicts with {} on line {} for {email}: one leaves the member {}, the \
                     other {}",
                    kind_name(kind),
                    kind_name(other_kind),
                    other.line,
                    kind.leaves(),
                    other_kind.leaves()
                ));
                break;
            }
            if kind == Kind::Invite && matches!(other_kind, Kind::SetRole | Kind::ResendInvite) {
                problem = Some(format!(
                    "the invite of {email} comes after its {} on line {}; rows run in file \
                     order: put the invite first",
                    kind_name(other_kind),
                    other.line
                ));
                break;
            }
        }
        match problem {
            Some(message) => problems.add(item.line, message),
            None => earlier.push(item),
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Invite => "invite",
        Kind::SetRole => "set-role",
        Kind::Deactivate => "deactivate",
        Kind::Reactivate => "reactivate",
        Kind::ResendInvite => "resend-invite",
        Kind::RevokeInvite => "revoke-invite",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Plan, PlanError> {
        parse_plan(text.as_bytes(), Format::Csv, "p.csv")
    }

    #[test]
    fn keys_are_action_and_email() {
        let plan = csv("action,email\ndeactivate,Sam@X.example\n").expect("valid");
        assert_eq!(plan.items[0].key(), "deactivate:sam@x.example");
        assert_eq!(plan.sha256().len(), 64);
    }

    #[test]
    fn set_role_with_an_unknown_role_reports_only_the_role() {
        let err = csv("action,email,role,manages\nset-role,a@x.example,boss,b@x.example\n")
            .expect_err("unknown role");
        assert_eq!(err.problems().len(), 1, "{err}");
        assert!(err.problems()[0].message.contains("unknown role 'boss'"));
    }

    #[test]
    fn from_actions_numbers_lines_and_hashes_stably() {
        let actions = vec![Action::Invite {
            email: "a@x.example".into(),
        }];
        let a = Plan::from_actions(actions.clone());
        let b = Plan::from_actions(actions);
        assert_eq!(a.sha256(), b.sha256());
        assert_eq!(a.items[0].line, 1);
    }
}
