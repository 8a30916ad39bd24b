//! Seed files: the TOML description of a sandbox workspace, its validation, and the built-in
//! "Acme Corp" seed (`fixtures/seeds/default.toml`).
//!
//! A seed lists explicit members (the Owner, admins, people tests refer to by email) and may ask
//! for a number of generated members, so a few hundred rows need no few hundred lines.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::model::{
    default_working_days, is_valid_email, Group, Manages, Member, MemberStatus, Plan, Project,
    Role, Workspace, WorkspaceState,
};

/// The built-in seed's text.
pub const DEFAULT_SEED: &str = include_str!("../../fixtures/seeds/default.toml");

/// A seed file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML did not parse into the seed format.
    #[error("seed {origin} is not valid: {message}")]
    Parse {
        /// File path or "built-in".
        origin: String,
        /// What the parser said (it names the line and key).
        message: String,
    },
    /// The seed parsed but breaks a rule (one owner, unique emails, ...).
    #[error("seed {origin} is not valid: {message}")]
    Invalid {
        /// File path or "built-in".
        origin: String,
        /// The broken rule.
        message: String,
    },
}

/// A parsed, validated seed.
#[derive(Debug, Clone)]
pub struct Seed {
    origin: String,
    file: SeedFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    workspace: WorkspaceSeed,
    #[serde(default)]
    auth: AuthSeed,
    #[serde(default)]
    projects: Vec<String>,
    #[serde(default)]
    groups: Vec<GroupSeed>,
    #[serde(default)]
    members: Vec<MemberSeed>,
    #[serde(default)]
    generate: Option<GenerateSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceSeed {
    name: String,
    plan: PlanSeed,
    #[serde(default)]
    seats: u32,
    #[serde(default)]
    kiosk: bool,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PlanSeed {
    Free,
    Basic,
    Standard,
    Pro,
    Enterprise,
}

/// Sign-in settings of the sandbox.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSeed {
    /// Minutes a signed-in session lasts.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u64,
    /// Minutes an emailed code stays valid (Clockify: 30).
    #[serde(default = "default_code_minutes")]
    pub code_minutes: u64,
}

impl Default for AuthSeed {
    fn default() -> Self {
        AuthSeed {
            session_minutes: default_session_minutes(),
            code_minutes: default_code_minutes(),
        }
    }
}

fn default_session_minutes() -> u64 {
    12 * 60
}

fn default_code_minutes() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupSeed {
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum RoleSeed {
    Owner,
    Admin,
    TeamManager,
    ProjectManager,
}

#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
enum StatusSeed {
    #[default]
    Active,
    Inactive,
    Pending,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberSeed {
    email: String,
    name: String,
    #[serde(default)]
    status: StatusSeed,
    #[serde(default)]
    roles: Vec<RoleSeed>,
    /// Emails or `group:NAME` managed as team manager.
    #[serde(default)]
    manages: Vec<String>,
    /// Project names managed as project manager.
    #[serde(default)]
    projects: Vec<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    billable_rate: Option<f64>,
    #[serde(default)]
    limited: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateSeed {
    count: usize,
    domain: String,
    #[serde(default)]
    pending_every: Option<usize>,
    #[serde(default)]
    inactive_every: Option<usize>,
    #[serde(default)]
    project_manager_every: Option<usize>,
    #[serde(default)]
    group_every: Option<usize>,
}

const FIRST_NAMES: &[&str] = &[
    "Ana", "Bo", "Carmen", "Dmitri", "Elif", "Farah", "Gustavo", "Hana", "Ivan", "Jana", "Kenji",
    "Lucia", "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe",
];
const LAST_NAMES: &[&str] = &[
    "Alvarez", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Novak",
];

impl Seed {
    /// The built-in "Acme Corp" seed.
    pub fn builtin() -> Self {
        // The built-in seed is covered by a unit test, so this cannot fail at run time.
        Self::parse(DEFAULT_SEED, "built-in").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads and validates a seed file.
    pub fn load(path: &Path) -> Result<Self, SeedError> {
        let text = crate::files::read_regular_text(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates seed text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SeedError> {
        let file: SeedFile = toml::from_str(text).map_err(|e| SeedError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let seed = Seed {
            origin: origin.to_string(),
            file,
        };
        seed.build()?;
        Ok(seed)
    }

    /// Sign-in settings.
    pub fn auth(&self) -> &AuthSeed {
        &self.file.auth
    }

    /// Members who can sign in with a password: (email, name, role label, password).
    pub fn password_accounts(&self) -> Vec<(String, String, &'static str, String)> {
        self.file
            .members
            .iter()
            .filter_map(|m| {
                let password = m.password.clone()?;
                let role = if m.roles.contains(&RoleSeed::Owner) {
                    "Owner"
                } else if m.roles.contains(&RoleSeed::Admin) {
                    "Admin"
                } else {
                    "Member"
                };
                Some((m.email.to_lowercase(), m.name.clone(), role, password))
            })
            .collect()
    }

    fn invalid(&self, message: impl Into<String>) -> SeedError {
        SeedError::Invalid {
            origin: self.origin.clone(),
            message: message.into(),
        }
    }

    /// Builds the workspace state this seed describes.
    pub fn build(&self) -> Result<WorkspaceState, SeedError> {
        let file = &self.file;
        if file.workspace.name.trim().is_empty() {
            return Err(self.invalid("workspace.name is empty"));
        }
        let plan = match file.workspace.plan {
            PlanSeed::Free => Plan::Free,
            PlanSeed::Basic => Plan::Basic,
            PlanSeed::Standard => Plan::Standard,
            PlanSeed::Pro => Plan::Pro,
            PlanSeed::Enterprise => Plan::Enterprise,
        };
        let workspace = Workspace {
            id: "65e67dd7d123487fcbabe2a1".into(),
            name: file.workspace.name.clone(),
            plan,
            seats: file.workspace.seats,
            kiosk: file.workspace.kiosk,
        };
        let projects: Vec<Project> = file
            .projects
            .iter()
            .enumerate()
            .map(|(i, name)| Project {
                id: format!("p{:023x}", 0x6600_0000_0000_u64 + i as u64),
                name: name.clone(),
            })
            .collect();
        let mut groups: Vec<Group> = file
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| Group {
                id: format!("g{:023x}", 0x6700_0000_0000_u64 + i as u64),
                name: g.name.clone(),
                member_ids: Vec::new(),
            })
            .collect();

        let mut seen = HashSet::new();
        let mut members = Vec::new();
        for (index, m) in file.members.iter().enumerate() {
            let email = m.email.trim().to_lowercase();
            let at = format!("members[{index}] ({email})");
            if !is_valid_email(&email) && !m.limited {
                return Err(self.invalid(format!("{at}: email is not valid")));
            }
            if !seen.insert(email.clone()) {
                return Err(self.invalid(format!("{at}: email appears twice")));
            }
            let roles: Vec<Role> = {
                let mut roles: Vec<Role> = m
                    .roles
                    .iter()
                    .map(|r| match r {
                        RoleSeed::Owner => Role::Owner,
                        RoleSeed::Admin => Role::WorkspaceAdmin,
                        RoleSeed::TeamManager => Role::TeamManager,
                        RoleSeed::ProjectManager => Role::ProjectManager,
                    })
                    .collect();
                roles.sort();
                roles.dedup();
                roles
            };
            let status = match m.status {
                StatusSeed::Active => MemberStatus::Active,
                StatusSeed::Inactive => MemberStatus::Inactive,
                StatusSeed::Pending => MemberStatus::Pending,
            };
            if roles.contains(&Role::Owner) && status != MemberStatus::Active {
                return Err(self.invalid(format!("{at}: the owner must be active")));
            }
            if roles.contains(&Role::TeamManager) && m.manages.is_empty() {
                return Err(self.invalid(format!("{at}: team-manager needs `manages`")));
            }
            if roles.contains(&Role::ProjectManager) && m.projects.is_empty() {
                return Err(self.invalid(format!("{at}: project-manager needs `projects`")));
            }
            let mut member_projects = Vec::new();
            for name in &m.projects {
                let project = projects
                    .iter()
                    .find(|p| &p.name == name)
                    .ok_or_else(|| self.invalid(format!("{at}: unknown project {name:?}")))?;
                member_projects.push(project.id.clone());
            }
            members.push(Member {
                id: format!("u{:023x}", 0x6500_0000_0000_u64 + index as u64),
                email,
                name: m.name.clone(),
                status,
                roles,
                manages: Manages::default(),
                projects: member_projects,
                groups: Vec::new(),
                limited: m.limited,
                billable_rate: m.billable_rate,
                week_start: "MONDAY".into(),
                work_capacity: "8:00".into(),
                working_days: default_working_days(),
                password: m.password.clone(),
            });
        }
        if let Some(generate) = &file.generate {
            self.generate(generate, &projects, &mut members, &mut seen)?;
        }
        let owners = members.iter().filter(|m| m.has(Role::Owner)).count();
        if owners != 1 {
            return Err(self.invalid(format!(
                "exactly one member must have the owner role, found {owners}"
            )));
        }

        // Resolve `manages` (emails and group:NAME) and group membership now that ids exist.
        for (index, m) in file.members.iter().enumerate() {
            let mut manages = Manages::default();
            for target in &m.manages {
                if let Some(group_name) = target.strip_prefix("group:") {
                    let group = groups
                        .iter()
                        .find(|g| g.name == group_name)
                        .ok_or_else(|| {
                            self.invalid(format!("members[{index}]: unknown group {group_name:?}"))
                        })?;
                    manages.groups.push(group.id.clone());
                } else {
                    let email = target.trim().to_lowercase();
                    let managed = members.iter().find(|x| x.email == email).ok_or_else(|| {
                        self.invalid(format!("members[{index}]: manages unknown member {email}"))
                    })?;
                    manages.members.push(managed.id.clone());
                }
            }
            members[index].manages = manages;
        }
        for (seed_group, group) in file.groups.iter().zip(groups.iter_mut()) {
            for email in &seed_group.members {
                let email = email.trim().to_lowercase();
                let member = members
                    .iter_mut()
                    .find(|x| x.email == email)
                    .ok_or_else(|| {
                        self.invalid(format!(
                            "group {:?} lists unknown member {email}",
                            seed_group.name
                        ))
                    })?;
                member.groups.push(group.id.clone());
                group.member_ids.push(member.id.clone());
            }
        }
        if let Some(every) = file.generate.as_ref().and_then(|g| g.group_every) {
            // Spread generated members over the groups, round-robin.
            if !groups.is_empty() && every > 0 {
                let explicit = file.members.len();
                let group_count = groups.len();
                for (n, member) in members.iter_mut().skip(explicit).enumerate() {
                    if n % every == 0 {
                        let group = &mut groups[(n / every) % group_count];
                        member.groups.push(group.id.clone());
                        group.member_ids.push(member.id.clone());
                    }
                }
            }
        }
        Ok(WorkspaceState::new(workspace, members, groups, projects))
    }

    fn generate(
        &self,
        generate: &GenerateSeed,
        projects: &[Project],
        members: &mut Vec<Member>,
        seen: &mut HashSet<String>,
    ) -> Result<(), SeedError> {
        if !is_valid_email(&format!("x@{}", generate.domain)) {
            return Err(self.invalid("generate.domain is not a valid email domain"));
        }
        let max = FIRST_NAMES.len() * LAST_NAMES.len() * 9;
        if generate.count > max {
            return Err(self.invalid(format!("generate.count is at most {max}")));
        }
        let every = |n: usize, e: Option<usize>| e.is_some_and(|e| e > 0 && n % e == e - 1);
        let mut produced = 0;
        let mut n = 0;
        while produced < generate.count {
            let first = FIRST_NAMES[n % FIRST_NAMES.len()];
            let last = LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()];
            let round = n / (FIRST_NAMES.len() * LAST_NAMES.len());
            n += 1;
            let suffix = if round == 0 {
                String::new()
            } else {
                (round + 1).to_string()
            };
            let email = format!(
                "{}.{}{suffix}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                generate.domain
            );
            if !seen.insert(email.clone()) {
                continue;
            }
            let index = members.len();
            let status = if every(produced, generate.pending_every) {
                MemberStatus::Pending
            } else if every(produced, generate.inactive_every) {
                MemberStatus::Inactive
            } else {
                MemberStatus::Active
            };
            let pm = every(produced, generate.project_manager_every) && !projects.is_empty();
            members.push(Member {
                id: format!("u{:023x}", 0x6500_0000_0000_u64 + index as u64),
                email,
                name: if suffix.is_empty() {
                    format!("{first} {last}")
                } else {
                    format!("{first} {last} {suffix}")
                },
                status,
                roles: if pm {
                    vec![Role::ProjectManager]
                } else {
                    Vec::new()
                },
                manages: Manages::default(),
                projects: if pm {
                    vec![projects[produced % projects.len()].id.clone()]
                } else {
                    Vec::new()
                },
                groups: Vec::new(),
                limited: false,
                billable_rate: Some(40.0 + (produced % 7) as f64 * 5.0),
                week_start: "MONDAY".into(),
                work_capacity: "8:00".into(),
                working_days: default_working_days(),
                password: None,
            });
            produced += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_seed_is_acme_with_hundreds_of_members() {
        let state = Seed::builtin().build().expect("built-in seed builds");
        assert_eq!(state.workspace.name, "Acme Corp");
        assert!(state.members.len() >= 200, "{}", state.members.len());
        let count = |s| state.members.iter().filter(|m| m.status == s).count();
        assert!(count(MemberStatus::Pending) > 5);
        assert!(count(MemberStatus::Inactive) > 5);
        assert!(state.members.iter().any(|m| m.has(Role::WorkspaceAdmin)));
        assert!(state.members.iter().any(|m| m.has(Role::TeamManager)));
        let emails: HashSet<_> = state.members.iter().map(|m| &m.email).collect();
        assert_eq!(emails.len(), state.members.len(), "emails are unique");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Seed::parse(
            "[workspace]\nname='x'\nplan='free'\ncolour='red'\n",
            "bad.toml",
        )
        .expect_err("unknown key refused");
        let text = err.to_string();
        assert!(
            text.contains("bad.toml") && text.contains("colour"),
            "{text}"
        );
    }

    #[test]
    fn two_owners_are_refused() {
        let text = r#"
            [workspace]
            name = "W"
            plan = "free"
            [[members]]
            email = "a@x.example"
            name = "A"
            roles = ["owner"]
            [[members]]
            email = "b@x.example"
            name = "B"
            roles = ["owner"]
        "#;
        let err = Seed::parse(text, "two.toml").expect_err("two owners refused");
        assert!(err.to_string().contains("exactly one"), "{err}");
    }
}
