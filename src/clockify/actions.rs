//! The member actions. Each one reads the member's state from the Team page, decides (already so →
//! verified no-op), acts, and reads the state back: the outcome is verified or failed, never
//! assumed. `--dry-run` goes as far as locating the final confirming button and cancels.

use std::time::Instant;

use fantoccini::elements::Element;
use serde::Serialize;

use super::team::{self, read_member, Table};
use super::{FlowError, MemberState, Role, Status};
use crate::audit::{Caption, Evidence, PendingScreenshot, Rect};
use crate::browser::query::{stale_error, QueryError, Ui};

/// How a failed read-back starts its message (such failures are retried after a re-read).
const NOT_CONFIRMED: &str = "not confirmed by the Team page";

/// Escape, as WebDriver key input.
const ESCAPE: &str = "\u{E00C}";

/// Most addresses the invite dialog gets at once (the Free plan's limit; harmless on paid plans).
const INVITES_PER_SUBMISSION: usize = 5;

/// The role `set-role` gives: the member's whole role set afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetRole {
    /// Admin only.
    Admin,
    /// Team manager (with `manages`).
    TeamManager,
    /// Project manager (with `projects`).
    ProjectManager,
    /// No role.
    Regular,
}

impl TargetRole {
    /// The roles the Role column should show afterwards.
    pub fn roles(self) -> Vec<Role> {
        match self {
            TargetRole::Admin => vec![Role::Admin],
            TargetRole::TeamManager => vec![Role::TeamManager],
            TargetRole::ProjectManager => vec![Role::ProjectManager],
            TargetRole::Regular => vec![],
        }
    }
}

/// One requested change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Invite an address.
    Invite {
        /// Email.
        email: String,
    },
    /// Give exactly this role.
    SetRole {
        /// Email.
        email: String,
        /// Role.
        role: TargetRole,
        /// Team-manager scope: member emails or `group:NAME`.
        manages: Vec<String>,
        /// Project-manager scope: project names.
        projects: Vec<String>,
    },
    /// Deactivate.
    Deactivate {
        /// Email.
        email: String,
    },
    /// Reactivate.
    Reactivate {
        /// Email.
        email: String,
    },
    /// Resend a pending invitation.
    ResendInvite {
        /// Email.
        email: String,
    },
    /// Revoke a pending invitation.
    RevokeInvite {
        /// Email.
        email: String,
    },
}

impl Action {
    /// The member's email.
    pub fn email(&self) -> &str {
        match self {
            Action::Invite { email }
            | Action::SetRole { email, .. }
            | Action::Deactivate { email }
            | Action::Reactivate { email }
            | Action::ResendInvite { email }
            | Action::RevokeInvite { email } => email,
        }
    }

    /// The command name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Invite { .. } => "invite",
            Action::SetRole { .. } => "set-role",
            Action::Deactivate { .. } => "deactivate",
            Action::Reactivate { .. } => "reactivate",
            Action::ResendInvite { .. } => "resend-invite",
            Action::RevokeInvite { .. } => "revoke-invite",
        }
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Done and read back from the UI.
    Verified,
    /// Already so, read from the UI; nothing was changed.
    NoOp,
    /// `--dry-run`: everything located, nothing changed.
    DryRun,
    /// Refused or not confirmed by the read-back.
    Failed,
}

/// The result of one action, as printed and recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Command name.
    pub action: &'static str,
    /// Member email.
    pub email: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What happened, for people.
    pub message: String,
    /// State read before acting.
    pub before: Option<MemberState>,
    /// State read back after acting.
    pub after: Option<MemberState>,
    /// Screenshots taken.
    pub screenshots: Vec<String>,
    /// Wall time in milliseconds.
    pub millis: u64,
    /// WebDriver commands sent.
    pub webdriver_commands: u64,
    /// A failure the page did not confirm (an error toast, a state that did not change), worth
    /// another attempt after re-reading; refusals with a reason are not.
    #[serde(skip)]
    pub retryable: bool,
}

/// What the actions need besides the page.
pub struct Context<'a> {
    /// The page.
    pub ui: &'a Ui,
    /// Email of the signed-in account (never deactivated or demoted by the agent).
    pub signed_in: &'a str,
    /// Locate everything, change nothing.
    pub dry_run: bool,
    /// Where screenshots and events go.
    pub evidence: &'a mut Evidence,
    /// The approving request or change number, recorded with every action.
    pub ticket: Option<&'a str>,
    /// Cover other members' rows in screenshots (GDPR), leaving the target row readable.
    pub mask_others: bool,
}

/// Builds a report for `action`.
struct Run {
    action: &'static str,
    email: String,
    started: Instant,
    commands_at_start: u64,
    before: Option<MemberState>,
    screenshots: Vec<String>,
    /// An earlier try of this action reached its final click before the page re-rendered
    /// under it (see [`run`]).
    acted: bool,
    /// A screenshot still being composed (see [`Run::shot_soon`]).
    pending: Option<PendingScreenshot>,
}

impl Run {
    fn new(ctx: &Context<'_>, action: &'static str, email: &str) -> Self {
        Run {
            action,
            email: email.to_string(),
            started: Instant::now(),
            commands_at_start: ctx.ui.commands(),
            before: None,
            screenshots: Vec::new(),
            acted: false,
            pending: None,
        }
    }

    /// The outcome when the state read is already the one wanted: nothing to do, unless an
    /// earlier try of this action clicked its final button before the page re-rendered under
    /// it; then the state read is that click's result, and the report says so.
    fn already(&self, message: String) -> (Outcome, String) {
        if self.acted {
            (
                Outcome::Verified,
                format!("{message} (read back after the page re-rendered mid-action)"),
            )
        } else {
            (Outcome::NoOp, message)
        }
    }

    /// Takes a captioned screenshot with the target's row boxed (and other rows masked when
    /// asked). Evidence problems are logged, never fatal: the action's outcome matters more.
    async fn shot(&mut self, ctx: &mut Context<'_>, phase: &str) {
        self.flush(ctx);
        if let Some(name) = capture(ctx, self.action, &self.email, phase, None).await {
            self.screenshots.push(name);
        }
    }

    /// [`Run::shot`] right after reading `table`: the address and the rows' rectangles come from
    /// that read, taken at the moment the state it records was read, instead of from two more
    /// WebDriver commands.
    async fn shot_of(&mut self, ctx: &mut Context<'_>, phase: &str, table: &Table) {
        self.flush(ctx);
        if let Some(name) = capture(ctx, self.action, &self.email, phase, Some(table)).await {
            self.screenshots.push(name);
        }
    }

    /// [`Run::shot_of`] for a screenshot the browser work that follows need not wait for (the
    /// "before" of an action): composed and written on another thread while the agent goes on,
    /// and recorded by [`Run::flush`], which every later screenshot and the end of the action
    /// call first, so the evidence stays in order.
    async fn shot_soon(&mut self, ctx: &mut Context<'_>, phase: &str, table: &Table) {
        self.flush(ctx);
        let Some(grab) = grab(ctx, self.action, &self.email, phase, Some(table)).await else {
            return;
        };
        self.pending = ctx.evidence.begin_screenshot(
            grab.png,
            &grab.caption,
            grab.highlight,
            &grab.masks,
            self.action,
            phase,
        );
    }

    /// Records the screenshot [`Run::shot_soon`] began, if any.
    fn flush(&mut self, ctx: &mut Context<'_>) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        match ctx.evidence.finish_screenshot(pending) {
            Ok(name) if !name.is_empty() => self.screenshots.push(name),
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot write a screenshot: {e}"),
        }
    }

    fn finish(
        self,
        ctx: &Context<'_>,
        outcome: Outcome,
        message: impl Into<String>,
        after: Option<MemberState>,
    ) -> Report {
        Report {
            action: self.action,
            email: self.email,
            outcome,
            message: message.into(),
            before: self.before,
            after,
            screenshots: self.screenshots,
            millis: self.started.elapsed().as_millis() as u64,
            webdriver_commands: ctx.ui.commands() - self.commands_at_start,
            retryable: false,
        }
    }
}

/// Runs one action. `Err` is for what stops the whole run (UI mismatch, lost browser); business
/// refusals come back as a `Failed` report.
pub async fn run(ctx: &mut Context<'_>, action: &Action) -> Result<Report, FlowError> {
    let mut run = Run::new(ctx, action.name(), action.email());
    let mut restarts = 0;
    let result = loop {
        let result = dispatch(ctx, &mut run, action).await;
        match &result {
            // The list re-rendered between finding an element and using it: nothing was
            // clicked through a stale element, and every flow starts by reading the member, so
            // starting over decides again from what the page shows now.
            Err(FlowError::Ui(QueryError::WebDriver { source, .. }))
                if source.is_stale_element_reference() && restarts < RESTARTS_ON_RERENDER =>
            {
                restarts += 1;
                tracing::warn!(
                    "the Team page re-rendered during {} {}; reading it again ({restarts} of \
                     {RESTARTS_ON_RERENDER})",
                    action.name(),
                    crate::email::printable(action.email())
                );
                let cleaned = async {
                    if let Some(dialog) = ctx.ui.optional("dialog.open", None).await? {
                        cancel_dialog(ctx.ui, &dialog).await?;
                    }
                    Ok::<(), FlowError>(())
                }
                .await;
                if let Err(e) = cleaned {
                    run.flush(ctx);
                    return Err(e);
                }
            }
            _ => break result,
        }
    };
    // Before anything else is recorded: a "before" screenshot may still be in the making.
    run.flush(ctx);
    let report = match result {
        Ok((outcome, message, after)) => {
            let retryable = outcome == Outcome::Failed && message.starts_with(NOT_CONFIRMED);
            let mut report = run.finish(ctx, outcome, message, after);
            report.retryable = retryable;
            report
        }
        Err(FlowError::Refused(message)) => run.finish(ctx, Outcome::Failed, message, None),
        Err(e) => {
            record_failure(ctx, action.name(), action.email(), &e).await;
            return Err(e);
        }
    };
    record_action(ctx, &report);
    Ok(report)
}

/// How many times one action starts over because the page re-rendered under it.
const RESTARTS_ON_RERENDER: u32 = 3;

async fn dispatch(
    ctx: &mut Context<'_>,
    run: &mut Run,
    action: &Action,
) -> Result<Done, FlowError> {
    match action {
        Action::Invite { email } => invite(ctx, run, email).await,
        Action::SetRole {
            email,
            role,
            manages,
            projects,
        } => set_role(ctx, run, email, *role, manages, projects).await,
        Action::Deactivate { email } => set_status(ctx, run, email, Status::Inactive).await,
        Action::Reactivate { email } => set_status(ctx, run, email, Status::Active).await,
        Action::ResendInvite { email } => resend(ctx, run, email).await,
        Action::RevokeInvite { email } => revoke(ctx, run, email).await,
    }
}

/// A screenshot taken and what goes on it (see [`grab`]).
struct Grab {
    png: Vec<u8>,
    caption: Caption,
    highlight: Option<Rect>,
    masks: Vec<Rect>,
}

/// Takes a screenshot of the viewport with its caption, the target row's box and the masks. The
/// address and rectangles come from `table` when the table was just read (nothing changed on the
/// page since), otherwise they are read now. `None` without evidence or when the browser gave no
/// screenshot.
async fn grab(
    ctx: &mut Context<'_>,
    action: &str,
    target: &str,
    phase: &str,
    table: Option<&Table>,
) -> Option<Grab> {
    if !ctx.evidence.is_enabled() {
        return None;
    }
    let ui = ctx.ui;
    let (url, (highlight, masks)) = match table {
        Some(table) => (table.url.clone(), table.geometry(target, ctx.mask_others)),
        None => (
            ui.current_url().await.map(String::from).unwrap_or_default(),
            ui.row_geometry("team.rows", "team.row_email", target, ctx.mask_others)
                .await
                .unwrap_or_default(),
        ),
    };
    let png = match ui.screenshot().await {
        Ok(png) => png,
        Err(e) => {
            tracing::warn!("cannot take a screenshot: {e}");
            return None;
        }
    };
    let rect = |r: [f64; 4]| Rect {
        x: r[0],
        y: r[1],
        width: r[2],
        height: r[3],
    };
    Some(Grab {
        png,
        caption: Caption {
            url,
            time_utc: String::new(),
            user: ctx.signed_in.to_string(),
            action: format!("{action} {target} ({phase})"),
            run_id: ctx.evidence.run_id().to_string(),
        },
        highlight: highlight.map(rect),
        masks: masks.into_iter().map(rect).collect(),
    })
}

/// A screenshot ([`grab`]) composed and recorded; returns the evidence file name.
async fn capture(
    ctx: &mut Context<'_>,
    action: &str,
    target: &str,
    phase: &str,
    table: Option<&Table>,
) -> Option<String> {
    let grab = grab(ctx, action, target, phase, table).await?;
    match ctx.evidence.screenshot(
        &grab.png,
        &grab.caption,
        grab.highlight,
        &grab.masks,
        action,
        phase,
    ) {
        Ok(name) => Some(name),
        Err(e) => {
            tracing::warn!("cannot write a screenshot: {e}");
            None
        }
    }
}

/// Records the `action` event of a finished action.
fn record_action(ctx: &mut Context<'_>, report: &Report) {
    let data = serde_json::json!({
        "action": report.action,
        "target": report.email,
        "outcome": report.outcome,
        "message": report.message,
        "before": report.before,
        "after": report.after,
        "screenshots": report.screenshots,
        "millis": report.millis,
        "webdriver_commands": report.webdriver_commands,
        "ticket": ctx.ticket,
        "signed_in": ctx.signed_in,
    });
    if let Err(e) = ctx.evidence.event("action", data) {
        tracing::error!("cannot record the action in the evidence: {e}");
    }
}

/// Records a failure that stopped the run: a screenshot, the address and title, and a bounded,
/// redacted excerpt of the page.
async fn record_failure(ctx: &mut Context<'_>, action: &str, target: &str, error: &FlowError) {
    if !ctx.evidence.is_enabled() {
        return;
    }
    let screenshot = capture(ctx, action, target, "failure", None).await;
    let ui = ctx.ui;
    let url = ui.current_url().await.map(String::from).unwrap_or_default();
    let title = ui.title().await.unwrap_or_default();
    let excerpt = ui
        .source()
        .await
        .map(|html| crate::audit::redacted_excerpt(&html, 2048))
        .unwrap_or_default();
    let data = serde_json::json!({
        "action": action,
        "target": target,
        "error": error.to_string(),
        "url": crate::audit::redact_url(&url),
        "title": title,
        "excerpt": excerpt,
        "screenshot": screenshot,
    });
    if let Err(e) = ctx.evidence.event("failure", data) {
        tracing::error!("cannot record the failure in the evidence: {e}");
    }
}

type Done = (Outcome, String, Option<MemberState>);

async fn require_member(ui: &Ui, email: &str) -> Result<(Element, MemberState), FlowError> {
    let (row, state, _) = require_listed(ui, email).await?;
    Ok((row, state))
}

/// The member's row and state, with the table they were read from.
async fn require_listed(ui: &Ui, email: &str) -> Result<(Element, MemberState, Table), FlowError> {
    let search = team::look_up(ui, email).await?;
    match search.member {
        Some((row, state)) => Ok((row, state, search.table)),
        None => Err(FlowError::Refused(format!(
            "no member with email {email} on the Team page"
        ))),
    }
}

async fn invite(ctx: &mut Context<'_>, run: &mut Run, email: &str) -> Result<Done, FlowError> {
    let search = team::look_up(ctx.ui, email).await?;
    if let Some((_, state)) = search.member {
        let (outcome, message) =
            run.already(format!("already in the workspace ({state}); nothing sent"));
        run.before.get_or_insert_with(|| state.clone());
        return Ok((outcome, message, Some(state)));
    }
    run.shot_soon(ctx, "before", &search.table).await;
    // The list (searched for this address, so empty) re-renders once the invitation is in.
    let marker = search.table.marker();
    let dialog = open_dialog(ctx.ui, "team.add_member", None).await?;
    ctx.ui.fill("invite.emails", Some(&dialog), email).await?;
    let send = ctx.ui.find("invite.send", Some(&dialog)).await?;
    if ctx.dry_run {
        cancel_dialog(ctx.ui, &dialog).await?;
        return Ok((Outcome::DryRun, format!("would invite {email}"), None));
    }
    run.acted = true;
    ctx.ui
        .click_element_when_clear(&send.element, "'invite.send'")
        .await?;
    if let Some(error) = dialog_result(ctx.ui, &dialog).await? {
        cancel_dialog(ctx.ui, &dialog).await?;
        run.shot(ctx, "refused").await;
        return Err(FlowError::Refused(format!(
            "Clockify refused the invitation: {error}"
        )));
    }
    let mut table = team::reread_after_change(ctx.ui, marker).await?;
    let mut after = table.member(email).map(|(_, s)| s);
    if after.is_none() {
        let search = team::look_up(ctx.ui, email).await?;
        after = search.member.map(|(_, s)| s);
        table = search.table;
    }
    run.shot_of(ctx, "after", &table).await;
    match after {
        Some(state) if state.status == Status::Pending || state.status == Status::Active => Ok((
            Outcome::Verified,
            format!("invited; the Team page lists {email} as {state}"),
            Some(state),
        )),
        other => Ok((
            Outcome::Failed,
            format!("sent, but the Team page does not list {email} as invited"),
            other,
        )),
    }
}

/// Invites several addresses: existing members are no-ops, the rest go in submissions of at most
/// five, then each is read back.
pub async fn invite_many(
    ctx: &mut Context<'_>,
    emails: &[String],
) -> Result<Vec<Report>, FlowError> {
    if emails.len() == 1 {
        return Ok(vec![
            run(
                ctx,
                &Action::Invite {
                    email: emails[0].clone(),
                },
            )
            .await?,
        ]);
    }
    let mut reports = Vec::new();
    let mut to_invite = Vec::new();
    for email in emails {
        let mut run = Run::new(ctx, "invite", email);
        if let Some((_, state)) = read_member(ctx.ui, email).await? {
            run.before = Some(state.clone());
            let message = format!("already in the workspace ({state}); nothing sent");
            reports.push(run.finish(ctx, Outcome::NoOp, message, Some(state)));
        } else {
            to_invite.push(email.clone());
        }
    }
    for chunk in to_invite.chunks(INVITES_PER_SUBMISSION) {
        let mut run = Run::new(ctx, "invite", &chunk.join(", "));
        run.shot(ctx, "before").await;
        let dialog = open_dialog(ctx.ui, "team.add_member", None).await?;
        ctx.ui
            .fill("invite.emails", Some(&dialog), &chunk.join(", "))
            .await?;
        let send = ctx.ui.find("invite.send", Some(&dialog)).await?;
        if ctx.dry_run {
            cancel_dialog(ctx.ui, &dialog).await?;
            for email in chunk {
                reports.push(Report {
                    action: "invite",
                    email: email.clone(),
                    outcome: Outcome::DryRun,
                    message: format!("would invite {email}"),
                    before: None,
                    after: None,
                    screenshots: run.screenshots.clone(),
                    millis: run.millis_so_far() / chunk.len() as u64,
                    webdriver_commands: (ctx.ui.commands() - run.commands_at_start)
                        / chunk.len() as u64,
                    retryable: false,
                });
            }
            continue;
        }
        ctx.ui
            .click_element_when_clear(&send.element, "'invite.send'")
            .await?;
        if let Some(error) = dialog_result(ctx.ui, &dialog).await? {
            cancel_dialog(ctx.ui, &dialog).await?;
            run.shot(ctx, "refused").await;
            let per_email = run.millis_so_far() / chunk.len() as u64;
            for email in chunk {
                reports.push(Report {
                    action: "invite",
                    email: email.clone(),
                    outcome: Outcome::Failed,
                    message: format!("Clockify refused the invitation: {error}"),
                    before: None,
                    after: None,
                    screenshots: run.screenshots.clone(),
                    millis: per_email,
                    webdriver_commands: 0,
                    retryable: false,
                });
            }
            continue;
        }
        let sent_at = Instant::now();
        for email in chunk {
            let after = read_member(ctx.ui, email).await?.map(|(_, s)| s);
            let (outcome, message) = match &after {
                Some(state) if state.status != Status::Inactive => (
                    Outcome::Verified,
                    format!("invited; the Team page lists {email} as {state}"),
                ),
                _ => (
                    Outcome::Failed,
                    format!("sent, but the Team page does not list {email} as invited"),
                ),
            };
            run.shot(ctx, "after").await;
            reports.push(Report {
                action: "invite",
                email: email.clone(),
                outcome,
                message,
                before: None,
                after,
                screenshots: run.screenshots.clone(),
                millis: run.millis_so_far() / chunk.len() as u64,
                webdriver_commands: (ctx.ui.commands() - run.commands_at_start)
                    / chunk.len() as u64,
                retryable: false,
            });
        }
        tracing::debug!(
            "read back {} invitations in {:?}",
            chunk.len(),
            sent_at.elapsed()
        );
    }
    for report in &reports {
        record_action(ctx, report);
    }
    Ok(reports)
}

impl Run {
    fn millis_so_far(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

async fn set_status(
    ctx: &mut Context<'_>,
    run: &mut Run,
    email: &str,
    wanted: Status,
) -> Result<Done, FlowError> {
    let (row, state, table) = require_listed(ctx.ui, email).await?;
    run.before.get_or_insert_with(|| state.clone());
    if state.status == Status::Pending {
        return Err(FlowError::Refused(format!(
            "{email} has not joined yet; use resend-invite or revoke-invite"
        )));
    }
    if state.status == wanted {
        let (outcome, message) = run.already(format!("already {wanted}"));
        return Ok((outcome, message, Some(state)));
    }
    if wanted == Status::Inactive {
        if state.roles.contains(&Role::Owner) {
            return Err(FlowError::Refused(format!(
                "{email} is the workspace owner; the agent never deactivates the owner"
            )));
        }
        if email.eq_ignore_ascii_case(ctx.signed_in) {
            return Err(FlowError::Refused(format!(
                "{email} is the signed-in account; the agent never deactivates itself"
            )));
        }
    }
    run.shot_soon(ctx, "before", &table).await;
    let (item, label) = if wanted == Status::Inactive {
        ("menu.deactivate", "Deactivate")
    } else {
        ("menu.activate", "Activate")
    };
    let menu_item = match open_row_menu_item(ctx.ui, &row, item).await? {
        Ok(found) => found,
        Err(offered) => {
            return Err(FlowError::Refused(format!(
                "the Team page offers no \"{label}\" for {email} (admins cannot deactivate other \
                 admins); {offered}"
            )))
        }
    };
    if wanted == Status::Inactive {
        let confirmed =
            confirm_destructive(ctx, &row, email, &menu_item, "'menu.deactivate'").await?;
        if !confirmed {
            return Ok((Outcome::DryRun, format!("would deactivate {email}"), None));
        }
        run.acted = true;
    } else {
        if ctx.dry_run {
            close_menu(ctx.ui, &row).await?;
            return Ok((Outcome::DryRun, format!("would reactivate {email}"), None));
        }
        run.acted = true;
        ctx.ui.click_element(&menu_item, "'menu.activate'").await?;
    }
    read_back(
        ctx,
        run,
        Some(row),
        email,
        |s| s.status == wanted,
        &format!("now {wanted}"),
    )
    .await
}

/// Reads the member again and decides verified or failed.
async fn read_back(
    ctx: &mut Context<'_>,
    run: &mut Run,
    marker: Option<Element>,
    email: &str,
    holds: impl Fn(&MemberState) -> bool,
    what: &str,
) -> Result<Done, FlowError> {
    let ui = ctx.ui;
    // The list re-renders with the new state after a change: read it there first (cheap), and
    // only if it does not show the new state yet, search again until the deadline (a toast alone
    // never decides).
    let quick = match team::reread_after_change(ui, marker).await {
        Ok(table) => Some(table),
        Err(FlowError::Ui(QueryError::WebDriver { source, .. }))
            if source.is_stale_element_reference() =>
        {
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(table) = quick {
        if let Some((_, state)) = table.member(email).filter(|(_, s)| holds(s)) {
            run.shot_of(ctx, "after", &table).await;
            return Ok((
                Outcome::Verified,
                format!("{what} (read back)"),
                Some(state),
            ));
        }
    }
    let after = ui
        .wait_until(&format!("{email} to be {what}"), || async {
            match team::look_up(ui, email).await {
                Ok(team::Search {
                    member: Some((_, state)),
                    table,
                }) if holds(&state) => Ok(Some((state, table))),
                Ok(_) => {
                    if let Some(toast) = ui.optional("shell.toast_error", None).await? {
                        let text = ui.text(&toast).await.unwrap_or_default();
                        return Err(QueryError::Timeout {
                            what: format!("confirmation; the page said: {}", text.trim()),
                            waited: ui.timeout(),
                        });
                    }
                    Ok(None)
                }
                Err(FlowError::Ui(e)) => Err(e),
                Err(other) => Err(QueryError::Timeout {
                    what: other.to_string(),
                    waited: ui.timeout(),
                }),
            }
        })
        .await;
    let after = match after {
        Ok((state, table)) => {
            run.shot_of(ctx, "after", &table).await;
            Ok(Some(state))
        }
        Err(e) => {
            run.shot(ctx, "after").await;
            Err(e)
        }
    };
    match after {
        Ok(state) => Ok((Outcome::Verified, format!("{what} (read back)"), state)),
        Err(QueryError::Timeout { what: why, .. }) => {
            let state = read_member(ui, email).await?.map(|(_, s)| s);
            Ok((
                Outcome::Failed,
                format!("{NOT_CONFIRMED} ({why}); it shows {}", describe(&state)),
                state,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn describe(state: &Option<MemberState>) -> String {
    state
        .as_ref()
        .map_or_else(|| "no such member".to_string(), |s| s.to_string())
}

async fn resend(ctx: &mut Context<'_>, run: &mut Run, email: &str) -> Result<Done, FlowError> {
    let (row, state, table) = require_listed(ctx.ui, email).await?;
    run.before.get_or_insert_with(|| state.clone());
    if state.status != Status::Pending {
        return Err(FlowError::Refused(format!(
            "{email} has already joined ({state}); there is no invitation to resend"
        )));
    }
    run.shot_soon(ctx, "before", &table).await;
    let item = match open_row_menu_item(ctx.ui, &row, "menu.resend_invite").await? {
        Ok(found) => found,
        Err(offered) => {
            return Err(FlowError::Refused(format!(
                "the Team page offers no way to resend the invitation of {email}; {offered}"
            )))
        }
    };
    if ctx.dry_run {
        close_menu(ctx.ui, &row).await?;
        return Ok((
            Outcome::DryRun,
            format!("would resend the invitation to {email}"),
            None,
        ));
    }
    if run.acted {
        // An earlier try clicked "Resend" before the page re-rendered; the mail may be out,
        // and a second mail is a duplicate for the person receiving it.
        close_menu(ctx.ui, &row).await?;
        return Ok((
            Outcome::Failed,
            "the page re-rendered after \"Resend\" was clicked; not clicking it twice, and a \
             resent invitation cannot be read back"
                .into(),
            Some(state),
        ));
    }
    let toasts_before = ctx.ui.all("shell.toast_success", None).await?.len();
    run.acted = true;
    ctx.ui.click_element(&item, "'menu.resend_invite'").await?;
    // A resent mail leaves no trace in the member's state; the UI's confirmation is the toast.
    let ui = ctx.ui;
    let confirmed = ui
        .wait_until("the confirmation of the resent invitation", || async {
            if let Some(toast) = ui.optional("shell.toast_error", None).await? {
                let text = ui.text(&toast).await.unwrap_or_default();
                return Ok(Some(Err(text.trim().to_string())));
            }
            if ui.all("shell.toast_success", None).await?.len() > toasts_before {
                return Ok(Some(Ok(())));
            }
            Ok(None)
        })
        .await;
    let after = read_member(ui, email).await?.map(|(_, s)| s);
    run.shot(ctx, "after").await;
    match confirmed {
        Ok(Ok(())) if after.as_ref().is_some_and(|s| s.status == Status::Pending) => Ok((
            Outcome::Verified,
            "invitation resent (confirmed by the page; still not joined)".into(),
            after,
        )),
        Ok(Err(text)) => Ok((Outcome::Failed, format!("the page said: {text}"), after)),
        _ => Ok((
            Outcome::Failed,
            "the page did not confirm the resent invitation".into(),
            after,
        )),
    }
}

async fn revoke(ctx: &mut Context<'_>, run: &mut Run, email: &str) -> Result<Done, FlowError> {
    let search = team::look_up(ctx.ui, email).await?;
    let table = search.table;
    let Some((row, state)) = search.member else {
        let (outcome, message) =
            run.already(format!("no pending invitation for {email} (not listed)"));
        return Ok((outcome, message, None));
    };
    run.before.get_or_insert_with(|| state.clone());
    if state.status != Status::Pending {
        return Err(FlowError::Refused(format!(
            "{email} has already joined ({state}); deactivate instead of revoking"
        )));
    }
    run.shot_soon(ctx, "before", &table).await;
    let item = match open_row_menu_item(ctx.ui, &row, "menu.revoke_invite").await? {
        Ok(found) => found,
        Err(offered) => {
            return Err(FlowError::Refused(format!(
                "this Clockify UI has no \"Revoke invite\" on the Team page (older UIs revoke in \
                 the CAKE.com account); {offered}"
            )))
        }
    };
    if !confirm_destructive(ctx, &row, email, &item, "'menu.revoke_invite'").await? {
        return Ok((
            Outcome::DryRun,
            format!("would revoke the invitation of {email}"),
            None,
        ));
    }
    run.acted = true;
    let ui = ctx.ui;
    let gone = ui
        .wait_until(&format!("{email} to leave the list"), || async {
            match read_member(ui, email).await {
                Ok(None) => Ok(Some(())),
                Ok(Some(_)) => Ok(None),
                Err(FlowError::Ui(e)) => Err(e),
                Err(other) => Err(QueryError::Timeout {
                    what: other.to_string(),
                    waited: ui.timeout(),
                }),
            }
        })
        .await;
    run.shot(ctx, "after").await;
    match gone {
        Ok(()) => Ok((
            Outcome::Verified,
            "invitation revoked; no longer listed".into(),
            None,
        )),
        Err(QueryError::Timeout { .. }) => {
            let after = read_member(ui, email).await?.map(|(_, s)| s);
            Ok((Outcome::Failed, "still listed after revoking".into(), after))
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_role(
    ctx: &mut Context<'_>,
    run: &mut Run,
    email: &str,
    role: TargetRole,
    manages: &[String],
    projects: &[String],
) -> Result<Done, FlowError> {
    let (row, state, table) = require_listed(ctx.ui, email).await?;
    run.before.get_or_insert_with(|| state.clone());
    if state.roles.contains(&Role::Owner) {
        return Err(FlowError::Refused(format!(
            "{email} is the workspace owner; the owner's role is not changed by the agent"
        )));
    }
    let wanted = role.roles();
    if email.eq_ignore_ascii_case(ctx.signed_in)
        && state.roles.contains(&Role::Admin)
        && !wanted.contains(&Role::Admin)
    {
        return Err(FlowError::Refused(format!(
            "{email} is the signed-in account; the agent never demotes itself"
        )));
    }
    let scope: Vec<String> = match role {
        TargetRole::TeamManager => manages.to_vec(),
        TargetRole::ProjectManager => projects.to_vec(),
        _ => Vec::new(),
    };
    if state.roles == wanted && scope.is_empty() {
        let (outcome, message) = run.already(format!("already {state}"));
        return Ok((outcome, message, Some(state)));
    }
    run.shot_soon(ctx, "before", &table).await;
    let dialog = open_role_dialog(ctx.ui, &row).await?;
    let boxes = [
        ("role.admin", wanted.contains(&Role::Admin)),
        ("role.team_manager", wanted.contains(&Role::TeamManager)),
        (
            "role.project_manager",
            wanted.contains(&Role::ProjectManager),
        ),
    ];
    let mut changed = match set_role_boxes(ctx.ui, &dialog, &boxes).await? {
        Ok(changed) => changed,
        Err(element) => {
            cancel_dialog(ctx.ui, &dialog).await?;
            return Err(FlowError::Refused(format!(
                "the role dialog does not let this account change {element} for {email} \
                 (only the workspace owner can remove the admin role)"
            )));
        }
    };
    for entry in &scope {
        if select_scope(ctx.ui, &dialog, role, entry).await? {
            changed = true;
        }
    }
    let save = ctx.ui.find("role.save", Some(&dialog)).await?;
    if !changed {
        cancel_dialog(ctx.ui, &dialog).await?;
        let state = read_member(ctx.ui, email).await?.map(|(_, s)| s);
        let (outcome, message) = run.already("already so, scope included".into());
        return Ok((outcome, message, state));
    }
    if ctx.dry_run {
        cancel_dialog(ctx.ui, &dialog).await?;
        return Ok((
            Outcome::DryRun,
            format!("would make {email} {}", role_name(role)),
            None,
        ));
    }
    run.acted = true;
    ctx.ui
        .click_element_when_clear(&save.element, "'role.save'")
        .await?;
    if let Some(error) = dialog_result(ctx.ui, &dialog).await? {
        cancel_dialog(ctx.ui, &dialog).await?;
        run.shot(ctx, "refused").await;
        return Err(FlowError::Refused(format!(
            "Clockify refused the role change: {error}"
        )));
    }
    let done = read_back(
        ctx,
        run,
        Some(row),
        email,
        |s| s.roles == wanted,
        &role_name(role),
    )
    .await?;
    if done.0 != Outcome::Verified || scope.is_empty() {
        return Ok(done);
    }
    // The Role column does not show a manager's scope: open the dialog again to read it back.
    let (row, _) = require_member(ctx.ui, email).await?;
    let dialog = open_role_dialog(ctx.ui, &row).await?;
    let mut missing = Vec::new();
    for entry in &scope {
        if !scope_is_selected(ctx.ui, &dialog, role, entry).await? {
            missing.push(entry.clone());
        }
    }
    cancel_dialog(ctx.ui, &dialog).await?;
    if missing.is_empty() {
        Ok((
            Outcome::Verified,
            format!(
                "{} with scope {} (read back)",
                role_name(role),
                scope.join(", ")
            ),
            done.2,
        ))
    } else {
        Ok((
            Outcome::Failed,
            format!("role set, but the scope lacks {}", missing.join(", ")),
            done.2,
        ))
    }
}

/// Sets the role dialog's boxes in the page, in order, each only if it is not as wanted yet,
/// once all of them are there (the dialog loads its lists first) and each is clear to click: the
/// box's own click, as [`Ui::check_by_click`] explains; Save, which submits them, is a real click.
/// Answers `{done, changed}`, or stops at a box that is disabled (`{disabled: i}`) or that the
/// click did not change (`{unchanged: i, box}`).
const ROLE_BOXES_SCRIPT: &str = r#"
const [dialog, specs, wants] = args;
let changed = false;
const check = () => {
  const found = specs.map((spec) => lookup(dialog, spec));
  if (found.some((matches) => matches.length !== 1)) return;
  for (let i = 0; i < found.length; i++) {
    const box = found[i][0];
    if (box.checked === wants[i]) continue;
    if (box.matches(':disabled')) return { disabled: i, changed };
    if (!hits(box)) return;
    box.click();
    if (box.checked !== wants[i]) return { unchanged: i, box, changed };
    changed = true;
  }
  return { done: true, changed };
};
"#;

/// Sets the role dialog's checkboxes (`boxes`: catalog element and wanted state, in order) with
/// [`ROLE_BOXES_SCRIPT`]: `Ok(changed)`, or `Err(element)` for a box the dialog does not let
/// this account change. A box the page's click did not change gets WebDriver's element click.
async fn set_role_boxes(
    ui: &Ui,
    dialog: &Element,
    boxes: &[(&'static str, bool)],
) -> Result<Result<bool, &'static str>, FlowError> {
    let mut specs = Vec::with_capacity(boxes.len());
    for (name, _) in boxes {
        specs.push(ui.spec(name)?);
    }
    let wants: Vec<serde_json::Value> = boxes.iter().map(|(_, w)| (*w).into()).collect();
    let args = vec![
        Ui::arg(dialog)?,
        serde_json::Value::Array(specs),
        serde_json::Value::Array(wants),
    ];
    let mut changed = false;
    for _ in 0..boxes.len() + 1 {
        let answer = match ui
            .wait_in_page_within(
                "the role dialog's checkboxes",
                ROLE_BOXES_SCRIPT,
                args.clone(),
                ui.timeout(),
            )
            .await?
        {
            Some(answer) => answer,
            None => {
                // Missing or ambiguous: one more lookup each, to name the element.
                for (name, _) in boxes {
                    ui.find_within(name, Some(dialog), std::time::Duration::ZERO)
                        .await?;
                }
                return Err(QueryError::Timeout {
                    what: "the role dialog's checkboxes".into(),
                    waited: ui.timeout(),
                }
                .into());
            }
        };
        changed |= answer["changed"].as_bool().unwrap_or(false);
        if let Some(i) = answer["disabled"].as_u64() {
            return Ok(Err(boxes[i as usize].0));
        }
        match (answer["unchanged"].as_u64(), ui.element_in(&answer["box"])) {
            (Some(i), Some(checkbox)) => {
                ui.click_element(&checkbox, boxes[i as usize].0).await?;
                changed = true;
            }
            _ => return Ok(Ok(changed)),
        }
    }
    Ok(Ok(changed))
}

fn role_name(role: TargetRole) -> String {
    match role {
        TargetRole::Admin => "admin".into(),
        TargetRole::TeamManager => "team manager".into(),
        TargetRole::ProjectManager => "project manager".into(),
        TargetRole::Regular => "regular (no role)".into(),
    }
}

fn wd(doing: &str) -> impl FnOnce(fantoccini::error::CmdError) -> QueryError {
    let doing = doing.to_string();
    move |source| QueryError::WebDriver { doing, source }
}

async fn is_selected(ui: &Ui, element: &Element) -> Result<bool, FlowError> {
    ui.count(1);
    Ok(element
        .is_selected()
        .await
        .map_err(wd("reading a checkbox"))?)
}

/// The text a scope entry is found by: the email, the group name, or the project name.
fn scope_needle(entry: &str) -> String {
    entry
        .strip_prefix("group:")
        .unwrap_or(entry)
        .trim()
        .to_lowercase()
}

/// Finds the scope option for `entry` (searching first for team-manager scopes).
async fn scope_option(
    ui: &Ui,
    dialog: &Element,
    role: TargetRole,
    entry: &str,
) -> Result<Element, FlowError> {
    let needle = scope_needle(entry);
    if role == TargetRole::TeamManager {
        ui.fill("role.scope_search", Some(dialog), &needle).await?;
    }
    let found = ui
        .wait_until(&format!("the scope option '{entry}'"), || async {
            for option in ui.all("role.scope_options", Some(dialog)).await? {
                let text = ui.text(&option).await.unwrap_or_default().to_lowercase();
                let matches = if needle.contains('@') {
                    text.contains(&format!("({needle})"))
                } else {
                    text.trim() == needle
                };
                if matches {
                    return Ok(Some(option));
                }
            }
            Ok(None)
        })
        .await;
    match found {
        Ok(option) => Ok(option),
        Err(QueryError::Timeout { .. }) => {
            cancel_dialog(ui, dialog).await?;
            Err(FlowError::Refused(format!(
                "the role dialog offers no '{entry}' to choose"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

async fn option_checkbox(ui: &Ui, option: &Element) -> Result<Element, FlowError> {
    ui.count(1);
    Ok(option
        .find(fantoccini::Locator::Css("input[type='checkbox']"))
        .await
        .map_err(wd("finding a scope checkbox"))?)
}

/// Ticks the scope option for `entry`; `true` when it was not ticked before.
async fn select_scope(
    ui: &Ui,
    dialog: &Element,
    role: TargetRole,
    entry: &str,
) -> Result<bool, FlowError> {
    let option = scope_option(ui, dialog, role, entry).await?;
    let checkbox = option_checkbox(ui, &option).await?;
    if is_selected(ui, &checkbox).await? {
        return Ok(false);
    }
    let what = format!("scope option '{entry}'");
    if !ui.check_by_click(&option, &checkbox, true, &what).await? {
        ui.click_element(&option, &what).await?;
    }
    Ok(true)
}

async fn scope_is_selected(
    ui: &Ui,
    dialog: &Element,
    role: TargetRole,
    entry: &str,
) -> Result<bool, FlowError> {
    let option = scope_option(ui, dialog, role, entry).await?;
    let checkbox = option_checkbox(ui, &option).await?;
    is_selected(ui, &checkbox).await
}

/// Clicks a destructive row-menu item and confirms the dialog it opens, but only if the row still
/// shows `email` when read again right before the click. Returns `false` in a dry run, after
/// locating the confirming button and cancelling.
async fn confirm_destructive(
    ctx: &Context<'_>,
    row: &Element,
    email: &str,
    item: &Element,
    what: &str,
) -> Result<bool, FlowError> {
    let ui = ctx.ui;
    // Opens the confirm dialog; the click that acts is the confirming one below.
    ui.pointer_click(item, what).await?;
    let dialog = opened_from_row(ui, "dialog.open", row).await?;
    let confirm = ui.find("confirm.confirm_button", Some(&dialog)).await?;
    let shown = if ctx.dry_run {
        team::row_email(ui, row).await?
    } else {
        row_email_when_clear(ui, row, &confirm.element).await?
    };
    if !shown.eq_ignore_ascii_case(email) {
        cancel_dialog(ui, &dialog).await?;
        return Err(FlowError::Refused(format!(
            "the row changed to {shown} before confirming; nothing was done"
        )));
    }
    if ctx.dry_run {
        cancel_dialog(ui, &dialog).await?;
        return Ok(false);
    }
    ui.click_element(&confirm.element, "'confirm.confirm_button'")
        .await?;
    wait_dialog_closed(ui, &dialog).await?;
    Ok(true)
}

/// Waits in the page until `button` can take a click (a confirm dialog animates in), then reads
/// the email `row` shows at that moment (`{email}`), so the last read of the row comes right
/// before the click; `{stale}` when the row or the button left the page.
const EMAIL_WHEN_CLEAR_SCRIPT: &str = r#"
const [button, row, emailSpec] = args;
const check = () => {
  if (!button.isConnected || !row.isConnected) return { stale: true };
  if (!hits(button)) return;
  const texts_ = texts(row, emailSpec);
  return { email: (texts_ && texts_[0]) || '' };
};
"#;

/// The email `row` shows, read in the page the moment `button` (the confirming button) can take
/// a click (see [`EMAIL_WHEN_CLEAR_SCRIPT`]). A row or button that left the page is WebDriver's
/// stale element error, as reading it over WebDriver would be.
async fn row_email_when_clear(
    ui: &Ui,
    row: &Element,
    button: &Element,
) -> Result<String, FlowError> {
    let args = vec![Ui::arg(button)?, Ui::arg(row)?, ui.spec("team.row_email")?];
    let stale = || {
        FlowError::Ui(QueryError::WebDriver {
            doing: "reading the row again before confirming".into(),
            source: stale_error("the row or the confirming button"),
        })
    };
    let answer = match ui
        .wait_in_page(
            "the confirming button to be clickable",
            EMAIL_WHEN_CLEAR_SCRIPT,
            args,
        )
        .await
    {
        Err(QueryError::WebDriver { source, .. })
            if source.is_stale_element_reference() || source.is_no_such_element() =>
        {
            return Err(stale())
        }
        other => other?,
    };
    if answer.get("stale").is_some() {
        return Err(stale());
    }
    Ok(answer["email"].as_str().unwrap_or_default().to_string())
}

/// Opens the role dialog from a row: a role label if there is one, else "+ Role".
async fn open_role_dialog(ui: &Ui, row: &Element) -> Result<Element, FlowError> {
    let labels = ui.all("team.row_role_labels", Some(row)).await?;
    let trigger = match labels.into_iter().next() {
        Some(label) => label,
        None => ui.find("team.row_add_role", Some(row)).await?.element,
    };
    ui.pointer_click(&trigger, "the row's role control").await?;
    let dialog = opened_from_row(ui, "dialog.open", row).await?;
    // The dialog loads its groups and projects before showing the checkboxes.
    ui.find("role.admin", Some(&dialog)).await?;
    Ok(dialog)
}

/// Clicks `opener` (a catalog element) and returns the dialog it opens.
async fn open_dialog(ui: &Ui, opener: &str, scope: Option<&Element>) -> Result<Element, FlowError> {
    ui.pointer_click_named(opener, scope).await?;
    let dialog = ui.find("dialog.open", None).await?.element;
    Ok(dialog)
}

/// Waits in the page until a submitted dialog is closed or hidden (`{closed}`), or shows an
/// error text (`{error}`): the server's refusal first; then a field's validation message, which a
/// dialog may show only on submitting (the role dialog checks its scope lists on Save). Only
/// displayed messages count, as WebDriver's element text reads hidden ones as empty.
const DIALOG_RESULT_SCRIPT: &str = r#"
const [dialog, errorSpecs] = args;
const check = () => {
  if (!shown(dialog)) return { closed: true };
  for (const spec of errorSpecs) {
    for (const node of lookup(dialog, spec)) {
      if (shown(node) && text(node)) return { error: text(node) };
    }
  }
};
"#;

/// Waits for a submitted dialog to close (`None`) or to show an error (`Some(text)`), in the page
/// (see [`DIALOG_RESULT_SCRIPT`]): one WebDriver command that answers when either happens.
async fn dialog_result(ui: &Ui, dialog: &Element) -> Result<Option<String>, FlowError> {
    let specs = vec![
        ui.spec("dialog.submit_error")?,
        ui.spec("dialog.inline_error")?,
    ];
    let args = vec![Ui::arg(dialog)?, serde_json::Value::Array(specs)];
    match ui
        .wait_in_page(
            "the dialog to close or show an error",
            DIALOG_RESULT_SCRIPT,
            args,
        )
        .await
    {
        Ok(result) => Ok(result["error"].as_str().map(str::to_string)),
        // Gone from the page: closed.
        Err(QueryError::WebDriver { source, .. })
            if source.is_stale_element_reference() || source.is_no_such_element() =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn wait_dialog_closed(ui: &Ui, dialog: &Element) -> Result<(), FlowError> {
    match dialog_result(ui, dialog).await? {
        None => Ok(()),
        Some(error) => {
            cancel_dialog(ui, dialog).await?;
            Err(FlowError::Refused(format!("Clockify refused: {error}")))
        }
    }
}

pub(crate) async fn cancel_dialog(ui: &Ui, dialog: &Element) -> Result<(), FlowError> {
    match ui.find("dialog.cancel", Some(dialog)).await {
        Ok(cancel) => ui.click_element(&cancel.element, "'dialog.cancel'").await?,
        Err(QueryError::WebDriver { source, .. }) if source.is_stale_element_reference() => {
            return Ok(())
        }
        Err(e) => return Err(e.into()),
    }
    ui.wait_until("the dialog to close", || async {
        ui.count(1);
        match dialog.is_displayed().await {
            Err(e) if e.is_stale_element_reference() => Ok(Some(())),
            Ok(false) => Ok(Some(())),
            _ => Ok(None),
        }
    })
    .await?;
    Ok(())
}

/// Opens the row's three-dots menu and returns `item` if the menu offers it (it opens
/// synchronously, so absence after it opened means "not offered"); otherwise closes the menu
/// and returns what it did offer: "not permitted here" and "renamed in a redesign" look alike
/// from the outside, and the list tells a person which it is.
async fn open_row_menu_item(
    ui: &Ui,
    row: &Element,
    item: &str,
) -> Result<Result<Element, String>, FlowError> {
    ui.pointer_click_named("team.row_menu_button", Some(row))
        .await?;
    let menu = opened_from_row(ui, "menu.open", row).await?;
    if let Some(found) = ui.optional(item, Some(&menu)).await? {
        return Ok(Ok(found));
    }
    let offered = ui.text(&menu).await.unwrap_or_default();
    let offered: Vec<&str> = offered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let offered = format!("the menu offers: {}", offered.join(", "));
    close_menu(ui, row).await?;
    Ok(Err(offered))
}

/// Waits for `name`, which a click in `row` (or in a menu opened from it) opens. A list
/// re-rendered meanwhile takes the row, and a menu opened from it, away, so the click may have
/// met nothing: unless `name` showed up after all, that comes back as the row's stale-element
/// error (so the action starts over from the read) instead of a wait for the timeout.
async fn opened_from_row(ui: &Ui, name: &str, row: &Element) -> Result<Element, FlowError> {
    /// How long to look before checking that the row still stands.
    const SLICE: std::time::Duration = std::time::Duration::from_millis(300);
    let started = Instant::now();
    loop {
        match ui.find_within(name, None, SLICE).await {
            Ok(found) => return Ok(found.element),
            Err(QueryError::NotFound {
                element,
                description,
                tried,
                ..
            }) => {
                if started.elapsed() >= ui.timeout() {
                    return Err(FlowError::Ui(QueryError::NotFound {
                        element,
                        description,
                        tried,
                        waited: started.elapsed(),
                    }));
                }
                ui.count(1);
                if let Err(source) = row.is_displayed().await {
                    if source.is_stale_element_reference() {
                        if let Some(opened) = ui.optional(name, None).await? {
                            return Ok(opened);
                        }
                        return Err(FlowError::Ui(QueryError::WebDriver {
                            doing: format!("waiting for '{name}' from a re-rendered row"),
                            source,
                        }));
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

pub(crate) async fn close_menu(ui: &Ui, row: &Element) -> Result<(), FlowError> {
    let button = ui.find("team.row_menu_button", Some(row)).await?.element;
    ui.count(1);
    button
        .send_keys(ESCAPE)
        .await
        .map_err(wd("closing a menu"))?;
    ui.gone("menu.open", None).await?;
    Ok(())
}
