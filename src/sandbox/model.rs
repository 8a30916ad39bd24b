//! The sandbox workspace's data and the business rules of Clockify member management.
//!
//! Pure and synchronous: no HTTP, no clock except where a caller passes one in. The HTTP layer in
//! [`super::server`] maps [`ApiError`] to responses; tests call these methods directly.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// Free-plan limit on addresses per invite submission (reference §2.2).
pub const FREE_PLAN_INVITES_PER_SUBMISSION: usize = 5;

/// A member's workspace status, as the Clockify API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    /// Joined and active.
    Active,
    /// Deactivated: hidden by default, name struck through.
    Inactive,
    /// Invited, "Not joined yet".
    Pending,
}

/// A workspace role, as the Clockify API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// The workspace owner (exactly one).
    Owner,
    /// Admin.
    WorkspaceAdmin,
    /// Team manager: manages chosen members or groups.
    TeamManager,
    /// Project manager: manages chosen projects.
    ProjectManager,
}

/// Subscription plan; decides invite limits and seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Plan {
    /// Free: at most 5 emails per invite submission, no seat limit.
    Free,
    /// Basic (paid, seat-limited).
    Basic,
    /// Standard (paid, seat-limited).
    Standard,
    /// Pro (paid, seat-limited).
    Pro,
    /// Enterprise (paid, seat-limited).
    Enterprise,
}

impl Plan {
    /// Whether the plan counts seats.
    pub fn is_paid(self) -> bool {
        self != Plan::Free
    }
}

/// Who a team manager manages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manages {
    /// Member ids.
    pub members: Vec<String>,
    /// Group ids.
    pub groups: Vec<String>,
}

/// One member of the workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Stable id.
    pub id: String,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Workspace status.
    pub status: MemberStatus,
    /// Roles, sorted.
    pub roles: Vec<Role>,
    /// Scope of the team-manager role.
    pub manages: Manages,
    /// Project ids of the project-manager role.
    pub projects: Vec<String>,
    /// Group ids the member belongs to.
    pub groups: Vec<String>,
    /// A kiosk-only limited member (no email sign-in).
    pub limited: bool,
    /// Billable rate in the workspace currency.
    pub billable_rate: Option<f64>,
    /// Profile: first day of the week.
    pub week_start: String,
    /// Profile: daily work capacity, "H:MM".
    pub work_capacity: String,
    /// Profile: working days.
    pub working_days: Vec<String>,
    /// Password for the "Log in manually" form; never serialized.
    #[serde(skip)]
    pub password: Option<String>,
}

impl Member {
    /// Whether the member holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the member may manage people (Owner or Admin).
    pub fn is_admin_or_owner(&self) -> bool {
        self.has(Role::Owner) || self.has(Role::WorkspaceAdmin)
    }
}

/// A user group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member ids.
    pub member_ids: Vec<String>,
}

/// A project (only what the role dialog needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Workspace settings shown in the top bar and used by the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    /// Stable id.
    pub id: String,
    /// Name, e.g. "Acme Corp".
    pub name: String,
    /// Subscription plan.
    pub plan: Plan,
    /// Paid seats (ignored on Free).
    pub seats: u32,
    /// Kiosk enabled: the Team page shows Full | Limited | Groups.
    pub kiosk: bool,
}

/// The whole mutable state of one sandbox workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceState {
    /// Workspace settings.
    pub workspace: Workspace,
    /// All members, in insertion order.
    pub members: Vec<Member>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Projects.
    pub projects: Vec<Project>,
    next_id: u64,
}

/// A refusal with the HTTP status, a stable code and a message the UI shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code, e.g. `ALREADY_MEMBER`.
    pub code: &'static str,
    /// Human message, shown by the UI.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("No such {what}"),
        )
    }
}

/// Status filter of the member list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusFilter {
    /// Active and pending (the Team page default).
    #[default]
    Active,
    /// Inactive only.
    Inactive,
    /// Everyone.
    All,
}

/// Role filter of the member list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleFilter {
    /// Owner.
    Owner,
    /// Admins.
    WorkspaceAdmin,
    /// Team managers.
    TeamManager,
    /// Project managers.
    ProjectManager,
    /// Members with no role.
    Regular,
}

/// A member-list query, as the Team page sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemberQuery {
    /// Case-insensitive substring of name or email.
    #[serde(default)]
    pub search: Option<String>,
    /// Status filter.
    #[serde(default)]
    pub status: Option<StatusFilter>,
    /// Role filter.
    #[serde(default)]
    pub role: Option<RoleFilter>,
    /// 1-based page.
    #[serde(default)]
    pub page: Option<usize>,
    /// Page size (default 50, at most 200).
    #[serde(default, rename = "page-size")]
    pub page_size: Option<usize>,
    /// `full` (default) or `limited`.
    #[serde(default)]
    pub kind: Option<String>,
}

/// One page of members.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPage {
    /// Matches over all pages.
    pub total: usize,
    /// 1-based page number.
    pub page: usize,
    /// Rows per page.
    pub page_size: usize,
    /// This page's members.
    pub items: Vec<Member>,
}

/// The role dialog's request: the complete desired role set of one member.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolesRequest {
    /// Admin checkbox.
    pub admin: bool,
    /// Team manager checkbox with its scope, or `None` when unchecked.
    #[serde(default)]
    pub team_manager: Option<Manages>,
    /// Project manager checkbox with its projects, or `None` when unchecked.
    #[serde(default)]
    pub project_manager: Option<ProjectScope>,
}

/// Project-manager scope.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectScope {
    /// Project ids.
    pub projects: Vec<String>,
}

/// Profile fields editable by an admin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRequest {
    /// First day of the week.
    pub week_start: Option<String>,
    /// Daily capacity "H:MM".
    pub work_capacity: Option<String>,
    /// Working days.
    pub working_days: Option<Vec<String>>,
}

pub use crate::email::is_valid_email;

impl WorkspaceState {
    /// Builds a state; ids of members, groups and projects must already be unique.
    pub fn new(
        workspace: Workspace,
        members: Vec<Member>,
        groups: Vec<Group>,
        projects: Vec<Project>,
    ) -> Self {
        let next_id = (members.len() + groups.len() + projects.len() + 1) as u64;
        WorkspaceState {
            workspace,
            members,
            groups,
            projects,
            next_id,
        }
    }

    /// Seats taken: full members who are active or pending.
    pub fn seats_used(&self) -> u32 {
        self.members
            .iter()
            .filter(|m| !m.limited && m.status != MemberStatus::Inactive)
            .count() as u32
    }

    /// A fresh id with a prefix (ids look like Clockify's 24-hex ids).
    pub fn new_id(&mut self, prefix: char) -> String {
        self.next_id += 1;
        let n = 0x6500_0000_0000_u64 + self.next_id;
        format!("{prefix}{n:023x}")
    }

    /// The member with `id`.
    pub fn member(&self, id: &str) -> Result<&Member, ApiError> {
        self.members
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| ApiError::not_found("member"))
    }

    fn member_mut(&mut self, id: &str) -> Result<&mut Member, ApiError> {
        self.members
            .iter_mut()
            .find(|m| m.id == id)
            .ok_or_else(|| ApiError::not_found("member"))
    }

    /// The member with `email` (case-insensitive).
    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        let email = email.trim().to_lowercase();
        self.members.iter().find(|m| m.email == email)
    }

    fn require_manager_rights(&self, actor_id: &str) -> Result<&Member, ApiError> {
        let actor = self.member(actor_id)?;
        if actor.is_admin_or_owner() {
            Ok(actor)
        } else {
            Err(ApiError::forbidden(
                "FORBIDDEN",
                "Only owners and admins can manage members",
            ))
        }
    }

    /// One page of members matching `query`, sorted by name then email.
    pub fn list(&self, query: &MemberQuery) -> MemberPage {
        let needle = query
            .search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .unwrap_or_default();
        let limited = query.kind.as_deref() == Some("limited");
        let status = query.status.unwrap_or_default();
        let mut matches: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| m.limited == limited)
            .filter(|m| match status {
                StatusFilter::Active => m.status != MemberStatus::Inactive,
                StatusFilter::Inactive => m.status == MemberStatus::Inactive,
                StatusFilter::All => true,
            })
            .filter(|m| match query.role {
                None => true,
                Some(RoleFilter::Owner) => m.has(Role::Owner),
                Some(RoleFilter::WorkspaceAdmin) => m.has(Role::WorkspaceAdmin),
                Some(RoleFilter::TeamManager) => m.has(Role::TeamManager),
                Some(RoleFilter::ProjectManager) => m.has(Role::ProjectManager),
                Some(RoleFilter::Regular) => m.roles.is_empty(),
            })
            .filter(|m| {
                needle.is_empty()
                    || m.email.contains(&needle)
                    || m.name.to_lowercase().contains(&needle)
            })
            .collect();
        matches.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.email.cmp(&b.email))
        });
        let page_size = query.page_size.unwrap_or(50).clamp(1, 200);
        let page = query.page.unwrap_or(1).max(1);
        let items = matches
            .iter()
            .skip((page - 1) * page_size)
            .take(page_size)
            .map(|m| (*m).clone())
            .collect();
        MemberPage {
            total: matches.len(),
            page,
            page_size,
            items,
        }
    }

    /// Invites `emails` (already split). All-or-nothing: any bad address refuses the whole batch.
    pub fn invite(&mut self, actor_id: &str, emails: &[String]) -> Result<Vec<Member>, ApiError> {
        self.require_manager_rights(actor_id)?;
        let mut wanted: Vec<String> = Vec::new();
        for raw in emails {
            let email = raw.trim().to_lowercase();
            if email.is_empty() || wanted.contains(&email) {
                continue;
            }
            if !is_valid_email(&email) {
                return Err(ApiError::bad_request(
                    "INVALID_EMAIL",
                    format!("Email format is not valid: {}", raw.trim()),
                ));
            }
            wanted.push(email);
        }
        if wanted.is_empty() {
            return Err(ApiError::bad_request("EMAIL_REQUIRED", "Email is required"));
        }
        if !self.workspace.plan.is_paid() && wanted.len() > FREE_PLAN_INVITES_PER_SUBMISSION {
            return Err(ApiError::bad_request(
                "TOO_MANY_EMAILS",
                "On the Free plan you can invite up to 5 members at a time.",
            ));
        }
        for email in &wanted {
            if let Some(existing) = self.member_by_email(email) {
                let message = if existing.status == MemberStatus::Pending {
                    format!("{email} has already been invited to this workspace")
                } else {
                    format!("{email} is already a member of this workspace")
                };
                return Err(ApiError::bad_request("ALREADY_MEMBER", message));
            }
        }
        if self.workspace.plan.is_paid() {
            let free = self.workspace.seats.saturating_sub(self.seats_used()) as usize;
            if wanted.len() > free {
                return Err(ApiError::new(
                    StatusCode::PAYMENT_REQUIRED,
                    "NOT_ENOUGH_SEATS",
                    format!(
                        "You do not have enough seats left ({free} free, {} needed). Buy more seats on the Subscription page.",
                        wanted.len()
                    ),
                ));
            }
        }
        let mut invited = Vec::new();
        for email in wanted {
            let name = email.split('@').next().unwrap_or_default().to_string();
            let member = self.pending_member(email, name);
            self.members.push(member.clone());
            invited.push(member);
        }
        Ok(invited)
    }

    /// A member invited as another admin would (the `crowdNextSearch` fault): `count` pending
    /// members whose addresses contain `term` and whose names sort before everyone else's.
    pub fn add_concurrent_invites(&mut self, term: &str, count: usize) {
        for n in 1..=count {
            let email = if term.contains('@') {
                format!("{n:02}.{term}")
            } else {
                format!("{term}.{n:02}@concurrent.example")
            };
            if self.member_by_email(&email).is_some() {
                continue;
            }
            let member = self.pending_member(email, format!("Aa Concurrent {n:02}"));
            self.members.push(member);
        }
    }

    fn pending_member(&mut self, email: String, name: String) -> Member {
        let id = self.new_id('u');
        Member {
            id,
            email,
            name,
            status: MemberStatus::Pending,
            roles: Vec::new(),
            manages: Manages::default(),
            projects: Vec::new(),
            groups: Vec::new(),
            limited: false,
            billable_rate: None,
            week_start: "MONDAY".into(),
            work_capacity: "8:00".into(),
            working_days: default_working_days(),
            password: None,
        }
    }

    /// Replaces the roles of member `id` with what the role dialog asks for.
    pub fn set_roles(
        &mut self,
        actor_id: &str,
        id: &str,
        request: &RolesRequest,
    ) -> Result<Member, ApiError> {
        let actor_is_owner = self.require_manager_rights(actor_id)?.has(Role::Owner);
        let target = self.member(id)?;
        if target.has(Role::Owner) && !request.admin {
            return Err(ApiError::forbidden(
                "OWNER_ROLE",
                "The owner's admin rights can't be removed; transfer ownership instead",
            ));
        }
        if target.has(Role::WorkspaceAdmin) && !request.admin && !actor_is_owner {
            return Err(ApiError::forbidden(
                "OWNER_ONLY",
                "Only the workspace owner can remove the admin role",
            ));
        }
        if let Some(scope) = &request.team_manager {
            if scope.members.is_empty() && scope.groups.is_empty() {
                return Err(ApiError::bad_request(
                    "SCOPE_REQUIRED",
                    "Select at least one member or group",
                ));
            }
            if let Some(bad) = scope.members.iter().find(|m| self.member(m).is_err()) {
                return Err(ApiError::bad_request(
                    "INVALID_SCOPE",
                    format!("Unknown member {bad}"),
                ));
            }
            if let Some(bad) = scope
                .groups
                .iter()
                .find(|g| !self.groups.iter().any(|x| &x.id == *g))
            {
                return Err(ApiError::bad_request(
                    "INVALID_SCOPE",
                    format!("Unknown group {bad}"),
                ));
            }
        }
        if let Some(scope) = &request.project_manager {
            if scope.projects.is_empty() {
                return Err(ApiError::bad_request(
                    "SCOPE_REQUIRED",
                    "Select at least one project",
                ));
            }
            if let Some(bad) = scope
                .projects
                .iter()
                .find(|p| !self.projects.iter().any(|x| &x.id == *p))
            {
                return Err(ApiError::bad_request(
                    "INVALID_SCOPE",
                    format!("Unknown project {bad}"),
                ));
            }
        }
        let target = self.member_mut(id)?;
        let mut roles = BTreeSet::new();
        if target.has(Role::Owner) {
            roles.insert(Role::Owner);
        } else if request.admin {
            roles.insert(Role::WorkspaceAdmin);
        }
        target.manages = request.team_manager.clone().unwrap_or_default();
        if request.team_manager.is_some() {
            roles.insert(Role::TeamManager);
        }
        target.projects = request
            .project_manager
            .as_ref()
            .map(|p| p.projects.clone())
            .unwrap_or_default();
        if request.project_manager.is_some() {
            roles.insert(Role::ProjectManager);
        }
        target.roles = roles.into_iter().collect();
        Ok(target.clone())
    }

    /// Deactivates or reactivates member `id`. Setting the status it already has is accepted and
    /// changes nothing (the real UI never offers it, the API tolerates it).
    pub fn set_status(
        &mut self,
        actor_id: &str,
        id: &str,
        status: MemberStatus,
    ) -> Result<Member, ApiError> {
        let actor = self.require_manager_rights(actor_id)?;
        let actor_is_owner = actor.has(Role::Owner);
        let target = self.member(id)?;
        if target.status == MemberStatus::Pending || status == MemberStatus::Pending {
            return Err(ApiError::bad_request(
                "NOT_JOINED",
                "This member has not joined yet: resend or revoke the invite instead",
            ));
        }
        if status == MemberStatus::Inactive && target.status == MemberStatus::Active {
            if target.has(Role::Owner) {
                return Err(ApiError::forbidden(
                    "CANNOT_DEACTIVATE_OWNER",
                    "The workspace owner can't be deactivated",
                ));
            }
            if target.id == actor_id {
                return Err(ApiError::forbidden(
                    "CANNOT_DEACTIVATE_SELF",
                    "You can't deactivate yourself",
                ));
            }
            if target.has(Role::WorkspaceAdmin) && !actor_is_owner {
                return Err(ApiError::forbidden(
                    "ADMIN_PROTECTED",
                    "Admins cannot deactivate other admins; only the workspace owner can",
                ));
            }
        }
        if status == MemberStatus::Active
            && target.status == MemberStatus::Inactive
            && !target.limited
            && self.workspace.plan.is_paid()
            && self.seats_used() >= self.workspace.seats
        {
            return Err(ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "NOT_ENOUGH_SEATS",
                "You do not have enough seats left to activate this member",
            ));
        }
        let target = self.member_mut(id)?;
        target.status = status;
        Ok(target.clone())
    }

    /// Checks that member `id` is a pending invitation the actor may manage.
    pub fn pending_invitation(&self, actor_id: &str, id: &str) -> Result<&Member, ApiError> {
        self.require_manager_rights(actor_id)?;
        let target = self.member(id)?;
        if target.status != MemberStatus::Pending {
            return Err(ApiError::bad_request(
                "NOT_PENDING",
                "This member has already joined",
            ));
        }
        Ok(target)
    }

    /// Revokes the pending invitation of member `id`: the member disappears.
    pub fn revoke(&mut self, actor_id: &str, id: &str) -> Result<Member, ApiError> {
        self.pending_invitation(actor_id, id)?;
        let index = self
            .members
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| ApiError::not_found("member"))?;
        let removed = self.members.remove(index);
        for member in &mut self.members {
            member.manages.members.retain(|m| m != id);
        }
        for group in &mut self.groups {
            group.member_ids.retain(|m| m != id);
        }
        Ok(removed)
    }

    /// Edits profile fields of member `id`.
    pub fn set_profile(
        &mut self,
        actor_id: &str,
        id: &str,
        request: &ProfileRequest,
    ) -> Result<Member, ApiError> {
        self.require_manager_rights(actor_id)?;
        let target = self.member_mut(id)?;
        if let Some(week_start) = &request.week_start {
            target.week_start = week_start.clone();
        }
        if let Some(capacity) = &request.work_capacity {
            target.work_capacity = capacity.clone();
        }
        if let Some(days) = &request.working_days {
            target.working_days = days.clone();
        }
        Ok(target.clone())
    }

    /// Creates a group.
    pub fn create_group(&mut self, actor_id: &str, name: &str) -> Result<Group, ApiError> {
        self.require_manager_rights(actor_id)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::bad_request(
                "NAME_REQUIRED",
                "Group name is required",
            ));
        }
        if self
            .groups
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(name))
        {
            return Err(ApiError::bad_request(
                "GROUP_EXISTS",
                format!("Group {name} already exists"),
            ));
        }
        let group = Group {
            id: self.new_id('g'),
            name: name.to_string(),
            member_ids: Vec::new(),
        };
        self.groups.push(group.clone());
        Ok(group)
    }

    /// Adds kiosk-only limited members by name; they are active at once.
    pub fn add_limited(
        &mut self,
        actor_id: &str,
        names: &[String],
    ) -> Result<Vec<Member>, ApiError> {
        self.require_manager_rights(actor_id)?;
        if !self.workspace.kiosk {
            return Err(ApiError::bad_request(
                "KIOSK_DISABLED",
                "Limited members need the kiosk feature",
            ));
        }
        let mut added = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let id = self.new_id('u');
            let member = Member {
                email: format!("limited+{id}@kiosk.invalid"),
                id,
                name: name.to_string(),
                status: MemberStatus::Active,
                roles: Vec::new(),
                manages: Manages::default(),
                projects: Vec::new(),
                groups: Vec::new(),
                limited: true,
                billable_rate: None,
                week_start: "MONDAY".into(),
                work_capacity: "8:00".into(),
                working_days: default_working_days(),
                password: None,
            };
            self.members.push(member.clone());
            added.push(member);
        }
        Ok(added)
    }
}

/// Monday to Friday.
pub fn default_working_days() -> Vec<String> {
    ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        .map(String::from)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Seed;

    fn acme() -> WorkspaceState {
        Seed::builtin().build().expect("built-in seed builds")
    }

    fn id(state: &WorkspaceState, email: &str) -> String {
        state
            .member_by_email(email)
            .expect("seeded member")
            .id
            .clone()
    }

    #[test]
    fn email_validation_matches_the_invite_dialog() {
        for good in ["a@b.co", "first.last+tag@acme.example"] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@b.co,", "<a@b.co>",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn invite_is_all_or_nothing_and_refuses_existing_members() {
        let mut state = acme();
        let owner = id(&state, "owner@acme.example");
        let before = state.members.len();
        let err = state
            .invite(&owner, &["ok@x.example".into(), "broken".into()])
            .expect_err("malformed refused");
        assert_eq!(err.code, "INVALID_EMAIL");
        assert_eq!(state.members.len(), before, "nothing added");
        let err = state
            .invite(&owner, &["rita.regular@acme.example".into()])
            .expect_err("member refused");
        assert_eq!(err.code, "ALREADY_MEMBER");
        let invited = state
            .invite(&owner, &["New@X.example".into(), "new@x.example".into()])
            .expect("invite");
        assert_eq!(invited.len(), 1, "duplicates in one submission collapse");
        assert_eq!(invited[0].email, "new@x.example");
        assert_eq!(invited[0].status, MemberStatus::Pending);
    }

    #[test]
    fn free_plan_allows_five_per_submission_and_paid_plans_count_seats() {
        let mut state = acme();
        let owner = id(&state, "owner@acme.example");
        state.workspace.plan = Plan::Free;
        let six: Vec<String> = (0..6).map(|i| format!("p{i}@x.example")).collect();
        assert_eq!(
            state.invite(&owner, &six).expect_err("six refused").code,
            "TOO_MANY_EMAILS"
        );
        state.workspace.plan = Plan::Standard;
        state.workspace.seats = state.seats_used() + 1;
        let err = state
            .invite(&owner, &six[..2])
            .expect_err("not enough seats");
        assert_eq!(err.code, "NOT_ENOUGH_SEATS");
        assert!(state.invite(&owner, &six[..1]).is_ok());
    }

    #[test]
    fn regular_members_cannot_manage_anyone() {
        let mut state = acme();
        let rita = id(&state, "rita.regular@acme.example");
        let err = state
            .invite(&rita, &["a@x.example".into()])
            .expect_err("regular refused");
        assert_eq!(err.status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn manager_roles_need_a_scope_and_only_the_owner_removes_admin() {
        let mut state = acme();
        let owner = id(&state, "owner@acme.example");
        let admin = id(&state, "admin@acme.example");
        let other_admin = id(&state, "second.admin@acme.example");
        let sam = id(&state, "sam.sales@acme.example");
        let tm_without_scope = RolesRequest {
            admin: false,
            team_manager: Some(Manages::default()),
            project_manager: None,
        };
        let err = state
            .set_roles(&owner, &sam, &tm_without_scope)
            .expect_err("scope required");
        assert_eq!(err.code, "SCOPE_REQUIRED");
        let pm_without_projects = RolesRequest {
            project_manager: Some(ProjectScope::default()),
            ..RolesRequest::default()
        };
        assert_eq!(
            state
                .set_roles(&owner, &sam, &pm_without_projects)
                .expect_err("projects required")
                .code,
            "SCOPE_REQUIRED"
        );
        let demote = RolesRequest::default();
        assert_eq!(
            state
                .set_roles(&admin, &other_admin, &demote)
                .expect_err("admin cannot demote admin")
                .code,
            "OWNER_ONLY"
        );
        let demoted = state
            .set_roles(&owner, &other_admin, &demote)
            .expect("owner demotes");
        assert!(demoted.roles.is_empty());
        let tm = RolesRequest {
            admin: true,
            team_manager: Some(Manages {
                members: vec![sam.clone()],
                groups: vec![],
            }),
            project_manager: None,
        };
        let updated = state.set_roles(&admin, &other_admin, &tm).expect("tm");
        assert_eq!(updated.roles, vec![Role::WorkspaceAdmin, Role::TeamManager]);
        assert_eq!(updated.manages.members, vec![sam]);
    }

    #[test]
    fn deactivation_guards() {
        let mut state = acme();
        let owner = id(&state, "owner@acme.example");
        let admin = id(&state, "admin@acme.example");
        let other_admin = id(&state, "second.admin@acme.example");
        let sam = id(&state, "sam.sales@acme.example");
        let pending = id(&state, "pete.pending@acme.example");
        let code = |r: Result<Member, ApiError>| r.expect_err("refused").code;
        assert_eq!(
            code(state.set_status(&admin, &owner, MemberStatus::Inactive)),
            "CANNOT_DEACTIVATE_OWNER"
        );
        assert_eq!(
            code(state.set_status(&admin, &other_admin, MemberStatus::Inactive)),
            "ADMIN_PROTECTED"
        );
        assert_eq!(
            code(state.set_status(&admin, &admin, MemberStatus::Inactive)),
            "CANNOT_DEACTIVATE_SELF"
        );
        assert_eq!(
            code(state.set_status(&admin, &pending, MemberStatus::Inactive)),
            "NOT_JOINED"
        );
        assert!(state
            .set_status(&owner, &other_admin, MemberStatus::Inactive)
            .is_ok());
        let sam_after = state
            .set_status(&admin, &sam, MemberStatus::Inactive)
            .expect("deactivate");
        assert_eq!(sam_after.status, MemberStatus::Inactive);
        let sam_back = state
            .set_status(&admin, &sam, MemberStatus::Active)
            .expect("reactivate");
        assert_eq!(sam_back.status, MemberStatus::Active);
    }

    #[test]
    fn revoke_removes_only_pending_members() {
        let mut state = acme();
        let owner = id(&state, "owner@acme.example");
        let sam = id(&state, "sam.sales@acme.example");
        let pending = id(&state, "pete.pending@acme.example");
        assert_eq!(
            state.revoke(&owner, &sam).expect_err("joined").code,
            "NOT_PENDING"
        );
        state.revoke(&owner, &pending).expect("revoke");
        assert!(state.member_by_email("pete.pending@acme.example").is_none());
    }

    #[test]
    fn list_filters_sorts_and_pages() {
        let state = acme();
        let page1 = state.list(&MemberQuery::default());
        assert_eq!(page1.items.len(), 50);
        assert!(page1
            .items
            .iter()
            .all(|m| m.status != MemberStatus::Inactive));
        let names: Vec<String> = page1.items.iter().map(|m| m.name.to_lowercase()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let inactive = state.list(&MemberQuery {
            status: Some(StatusFilter::Inactive),
            page_size: Some(200),
            ..MemberQuery::default()
        });
        assert!(inactive.total > 5);
        assert!(inactive
            .items
            .iter()
            .all(|m| m.status == MemberStatus::Inactive));
        let search = state.list(&MemberQuery {
            search: Some("RITA.REGULAR".into()),
            ..MemberQuery::default()
        });
        assert_eq!(search.total, 1);
        let all = state.list(&MemberQuery {
            status: Some(StatusFilter::All),
            ..MemberQuery::default()
        });
        assert_eq!(all.total, state.members.len());
        let last = state.list(&MemberQuery {
            status: Some(StatusFilter::All),
            page: Some(all.total.div_ceil(50)),
            ..MemberQuery::default()
        });
        assert_eq!(
            last.items.len(),
            all.total - 50 * (all.total.div_ceil(50) - 1)
        );
    }
}
