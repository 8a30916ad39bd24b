//! Reconcile: the members as the Team page shows them × the desired state → the actions of a
//! `sync`. Pure: it reads nothing and changes nothing.
//!
//! Rules, for each desired member (by email, case-insensitively):
//!
//! | current \ desired | active | inactive |
//! |---|---|---|
//! | absent | invite (then set-role if the role is not regular) | nothing |
//! | pending (invited) | set-role if the roles differ | revoke-invite |
//! | active | set-role if the roles differ | deactivate |
//! | inactive | reactivate (then set-role if the roles differ) | nothing |
//!
//! - Roles are compared as the Role column shows them (`MemberState.roles` against
//!   [`TargetRole::roles`]). A manager's scope is not shown there, so a scope that differs while
//!   the role is the same is not detected; the scope is given whenever a set-role is planned.
//!   Roles of members who should be inactive are left alone.
//! - With `deactivate_missing`, current members absent from the desired list are deactivated
//!   (active) or have their invitation revoked (pending); inactive ones are left alone.
//!   Without it, members absent from the list are never touched.
//! - Never touched: the Owner (a member whose roles include Owner), the signed-in account and
//!   every `protect` email. When the rules would act on one of them, it is listed in `skipped`
//!   with the reason and what would have been done.
//! - Guard: when the deactivations plus revocations exceed the limit (`max_deactivate`, default
//!   10 % of the current non-owner members who are active or invited, rounded down, at least 1),
//!   the whole sync is refused: a truncated export must not wipe a workspace.
//! - Order: invites, reactivations, role changes, deactivations, revocations; each by email.
//!   Applying the plan and reconciling again gives an empty plan.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::desired::{Desired, DesiredMember, DesiredStatus};
use super::input::role_name;
use crate::clockify::actions::{Action, TargetRole};
use crate::clockify::{MemberState, Role, Status};

/// How a sync decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Deactivate (or revoke the invitation of) current members absent from the desired list.
    pub deactivate_missing: bool,
    /// Emails never touched (any case).
    pub protect: Vec<String>,
    /// The signed-in account's email: never touched (empty: none is singled out; always set it).
    pub signed_in: String,
    /// Most deactivations plus revocations allowed; `None`: 10 % of the current non-owner
    /// members who are active or invited, rounded down, at least 1.
    pub max_deactivate: Option<usize>,
}

/// The actions of a sync, in execution order, and who was left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPlan {
    /// What to do, in order (invites, reactivations, role changes, deactivations, revocations;
    /// each sorted by email).
    pub actions: Vec<Action>,
    /// Why each action is planned, one per action in the same order (the current state, the
    /// desired one and its line), for the printed plan and the audit trail.
    pub reasons: Vec<String>,
    /// Members the rules would have changed but that are never touched: (email, reason).
    pub skipped: Vec<(String, String)>,
}

/// Why a sync was refused; nothing is done then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncRefusal {
    /// More deactivations (revocations included) than the limit.
    #[error(
        "refusing to sync: the desired state would deactivate or revoke {planned} of {members} \
         active or invited members, more than the limit of {limit}; nothing was done. Check that \
         the export is complete, or raise the limit with --max-deactivate {planned}"
    )]
    TooManyDeactivations {
        /// Deactivations plus revocations planned.
        planned: usize,
        /// The limit in force.
        limit: usize,
        /// The current non-owner members who are active or invited (the default limit's base).
        members: usize,
        /// The refused plan, for printing what would have been done.
        plan: Box<SyncPlan>,
    },
}

impl SyncRefusal {
    /// The exit code: [`crate::exit::USAGE`] (input refused, nothing was changed).
    pub fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

/// Position of an action kind in the plan's order.
fn rank(action: &Action) -> u8 {
    match action {
        Action::Invite { .. } => 0,
        Action::Reactivate { .. } => 1,
        Action::SetRole { .. } => 2,
        Action::Deactivate { .. } => 3,
        Action::RevokeInvite { .. } => 4,
        Action::ResendInvite { .. } => 5,
    }
}

fn roles_text(roles: &[Role]) -> String {
    let names: Vec<&str> = roles
        .iter()
        .filter(|r| **r != Role::Owner)
        .map(|r| r.as_str())
        .collect();
    if names.is_empty() {
        "regular".into()
    } else {
        names.join("+")
    }
}

fn set_role(member: &DesiredMember, email: &str) -> Action {
    Action::SetRole {
        email: email.to_string(),
        role: member.role,
        manages: if member.role == TargetRole::TeamManager {
            member.manages.clone()
        } else {
            Vec::new()
        },
        projects: if member.role == TargetRole::ProjectManager {
            member.projects.clone()
        } else {
            Vec::new()
        },
    }
}

fn scope_text(member: &DesiredMember) -> String {
    match member.role {
        TargetRole::TeamManager => format!(", managing {}", member.manages.join("; ")),
        TargetRole::ProjectManager => format!(", of {}", member.projects.join("; ")),
        _ => String::new(),
    }
}

/// Whether the Role column shows exactly the desired role.
fn roles_match(current: &MemberState, role: TargetRole) -> bool {
    let mut have: Vec<Role> = current.roles.clone();
    have.sort();
    have.dedup();
    have == role.roles()
}

/// The actions one desired member needs, each with its reason.
fn for_desired(
    current: Option<&MemberState>,
    member: &DesiredMember,
    email: String,
) -> Vec<(Action, String)> {
    let line = member.line;
    let wanted = role_name(member.role);
    let scope = scope_text(member);
    let mut out = Vec::new();
    match (current.map(|c| c.status), member.status) {
        (None, DesiredStatus::Active) => {
            out.push((
                Action::Invite {
                    email: email.clone(),
                },
                format!("not in the workspace; desired active (line {line})"),
            ));
            if member.role != TargetRole::Regular {
                out.push((
                    set_role(member, &email),
                    format!("invited as regular; desired {wanted}{scope} (line {line})"),
                ));
            }
        }
        (None, DesiredStatus::Inactive) | (Some(Status::Inactive), DesiredStatus::Inactive) => {}
        (Some(Status::Pending), DesiredStatus::Inactive) => out.push((
            Action::RevokeInvite { email },
            format!("invited, not joined; desired inactive (line {line})"),
        )),
        (Some(Status::Active), DesiredStatus::Inactive) => out.push((
            Action::Deactivate { email },
            format!("active; desired inactive (line {line})"),
        )),
        (Some(status), DesiredStatus::Active) => {
            if status == Status::Inactive {
                out.push((
                    Action::Reactivate {
                        email: email.clone(),
                    },
                    format!("inactive; desired active (line {line})"),
                ));
            }
            if let Some(current) = current.filter(|c| !roles_match(c, member.role)) {
                out.push((
                    set_role(member, &email),
                    format!(
                        "{} → {wanted}{scope} (line {line})",
                        roles_text(&current.roles)
                    ),
                ));
            }
        }
    }
    out
}

/// Computes a sync's actions. `Err` when the deactivation guard refuses (nothing is done then).
pub fn reconcile(
    current: &[MemberState],
    desired: &Desired,
    options: &SyncOptions,
) -> Result<SyncPlan, SyncRefusal> {
    let mut by_email: HashMap<String, &MemberState> = HashMap::with_capacity(current.len());
    for member in current {
        by_email
            .entry(member.email.trim().to_lowercase())
            .or_insert(member);
    }
    let signed_in = options.signed_in.trim().to_lowercase();
    let protected: HashSet<String> = options
        .protect
        .iter()
        .map(|e| e.trim().to_lowercase())
        .collect();
    let guard = |email: &str| -> Option<&'static str> {
        if by_email
            .get(email)
            .is_some_and(|m| m.roles.contains(&Role::Owner))
        {
            Some("the workspace owner is never changed by the agent")
        } else if !signed_in.is_empty() && email == signed_in {
            Some("the signed-in account is never changed by a sync")
        } else if protected.contains(email) {
            Some("protected (--protect)")
        } else {
            None
        }
    };

    let mut planned: Vec<(Action, String)> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut consider = |email: &str, wanted: Vec<(Action, String)>| {
        if wanted.is_empty() {
            return;
        }
        match guard(email) {
            Some(reason) => {
                let would: Vec<&str> = wanted.iter().map(|(a, _)| a.name()).collect();
                skipped.push((
                    email.to_string(),
                    format!("{reason} (would {})", would.join(", then ")),
                ));
            }
            None => planned.extend(wanted),
        }
    };

    let mut listed: HashSet<String> = HashSet::with_capacity(desired.members.len());
    for member in &desired.members {
        let email = member.email.trim().to_lowercase();
        let current = by_email.get(&email).copied();
        consider(&email, for_desired(current, member, email.clone()));
        listed.insert(email);
    }
    if options.deactivate_missing {
        let mut missing: Vec<(&String, &&MemberState)> = by_email
            .iter()
            .filter(|(email, _)| !listed.contains(*email))
            .collect();
        missing.sort_by(|a, b| a.0.cmp(b.0));
        for (email, member) in missing {
            let wanted = match member.status {
                Status::Active => vec![(
                    Action::Deactivate {
                        email: email.clone(),
                    },
                    "active; not in the desired list".to_string(),
                )],
                Status::Pending => vec![(
                    Action::RevokeInvite {
                        email: email.clone(),
                    },
                    "invited, not joined; not in the desired list".to_string(),
                )],
                Status::Inactive => Vec::new(),
            };
            consider(email, wanted);
        }
    }

    // Stable: an invite's set-role stays after it (different ranks), ties keep input order.
    planned.sort_by(|a, b| (rank(&a.0), a.0.email()).cmp(&(rank(&b.0), b.0.email())));
    skipped.sort();
    let (actions, reasons): (Vec<Action>, Vec<String>) = planned.into_iter().unzip();
    let plan = SyncPlan {
        actions,
        reasons,
        skipped,
    };

    let members = by_email
        .values()
        .filter(|m| !m.roles.contains(&Role::Owner))
        .filter(|m| matches!(m.status, Status::Active | Status::Pending))
        .count();
    let limit = options.max_deactivate.unwrap_or((members / 10).max(1));
    let removals = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Deactivate { .. } | Action::RevokeInvite { .. }))
        .count();
    if removals > limit {
        return Err(SyncRefusal::TooManyDeactivations {
            planned: removals,
            limit,
            members,
            plan: Box::new(plan),
        });
    }
    Ok(plan)
}

impl SyncPlan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// How many actions of the command `name` (e.g. `"deactivate"`) are planned.
    pub fn count(&self, name: &str) -> usize {
        self.actions.iter().filter(|a| a.name() == name).count()
    }

    /// The plan as a table for people: number, action, email, why; then who was skipped and a
    /// summary line.
    pub fn render_table(&self) -> String {
        use fmt::Write as _;
        let mut out = String::new();
        if self.actions.is_empty() {
            out.push_str("Nothing to do: the workspace matches the desired state.\n");
        } else {
            let labels: Vec<String> = self.actions.iter().map(action_label).collect();
            let action_width = labels.iter().map(|l| l.len()).max().unwrap_or(6).max(6);
            let email_width = self
                .actions
                .iter()
                .map(|a| a.email().chars().count())
                .max()
                .unwrap_or(5)
                .max(5);
            let number_width = self.actions.len().to_string().len().max(1);
            let _ = writeln!(
                out,
                "{:>number_width$}  {:action_width$}  {:email_width$}  why",
                "#", "action", "email"
            );
            for (index, (action, label)) in self.actions.iter().zip(&labels).enumerate() {
                let why = self.reasons.get(index).map(String::as_str).unwrap_or("");
                let _ = writeln!(
                    out,
                    "{:>number_width$}  {label:action_width$}  {:email_width$}  {why}",
                    index + 1,
                    action.email()
                );
            }
        }
        if !self.skipped.is_empty() {
            out.push_str("Skipped (never touched):\n");
            for (email, reason) in &self.skipped {
                let _ = writeln!(out, "  {email}: {reason}");
            }
        }
        let _ = writeln!(
            out,
            "Summary: {} invite(s), {} reactivation(s), {} role change(s), {} deactivation(s), \
             {} revoked invitation(s); {} skipped",
            self.count("invite"),
            self.count("reactivate"),
            self.count("set-role"),
            self.count("deactivate"),
            self.count("revoke-invite"),
            self.skipped.len()
        );
        out
    }
}

fn action_label(action: &Action) -> String {
    match action {
        Action::SetRole { role, .. } => format!("set-role {}", role_name(*role)),
        other => other.name().to_string(),
    }
}

impl fmt::Display for SyncPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_table())
    }
}
