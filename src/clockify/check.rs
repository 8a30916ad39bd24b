//! `selectors check`: a read-only check of the selector catalog against a live UI (a real tenant
//! or the sandbox).
//!
//! Starting from a signed-in session, it opens every page, menu and dialog that can be opened
//! without changing anything, resolves every logical element of the catalog where it lives, and
//! reports for each one of:
//!
//! - `first-choice`: found by its first candidate;
//! - `fallback`: found only by a later candidate (drift is coming; the candidate is named);
//! - `ambiguous`: more than one visible match where the catalog requires one;
//! - `missing`: no candidate matched (every locator tried is listed);
//! - `not-checked`: it could not be put on screen without changing data, with the reason.
//!
//! What it does, in order (everything it clicks only opens or closes something):
//!
//! 1. The app shell: the sidebar's Team link, the workspace name and the signed-in user.
//! 2. The Team page: the invite button, search, status filter, rows and pagination; "Show all" is
//!    chosen (and applied where the UI has "Apply filter") so pending and inactive members are
//!    listed; up to [`MAX_PAGES`] pages are read until it has seen a pending row, an inactive
//!    row, a row with roles and an active regular member other than the signed-in account.
//! 3. Row cells and row menus: each menu is opened and closed with Escape; the active member's
//!    "Deactivate" is clicked only to open its confirm dialog, which is cancelled (never
//!    confirmed), as `deactivate --dry-run` does.
//! 4. The role dialog of that member, opened from the row: "Team manager" is ticked to show the
//!    scope list, and the dialog is cancelled (nothing is saved), as `set-role --dry-run` does.
//! 5. The invite dialog: an invalid address is typed to make its field validation message
//!    (`dialog.inline_error`) show (the send button stays disabled and is never clicked), and the
//!    dialog is cancelled.
//! 6. A search that matches nobody shows the table's empty row.
//! 7. Last, the sign-in page (`/<locale>/login`) in the same browser: nothing is typed; "Log in
//!    manually" is opened and its form is submitted empty (both fields cleared first) to show the
//!    form's error. Then the app is opened again to confirm the session is still live.
//!
//! Elements that are reported `not-checked` by design (see [`never_shown_reason`]):
//!
//! - `login.code_inputs`: shown only after requesting a sign-in code, which mails one.
//! - `shell.toast_success`, `shell.toast_error`: shown only after a change or a failed request.
//! - `dialog.submit_error`: the message of a dialog whose submission Clockify refused; the check
//!   never submits a dialog (a submission that is not refused changes data), so the check does
//!   not verify it. The flows look it up after submitting, to report the refusal's text.
//! - `shell.spinner`: shown only while something loads; it is looked for right after every click
//!   that loads something, and reported `not-checked` if none was on screen at those moments.
//!
//! Elements that are reported `not-checked` when the UI gives no chance to see them:
//!
//! - `dialog.inline_error` and `login.error`, when the page shows no error for the invalid input
//!   (some UIs validate only on submit, which the check never does for the invite dialog).
//! - Elements of [`TOLERATED_ABSENT`], when the page or menu they belong to was fully opened and
//!   they are not there: the flows do without them, and some UI generations lack them.
//! - `team.next_page` when it is absent and the list fits on one page.
//! - Elements whose context could not be opened (its opener is missing, or no member in the state
//!   it needs was listed on the pages read); the reason names what was lacking.
//!
//! No `fallback` is expected by design: on the UI generations the shipped catalog supports (the
//! sandbox's `2026-03` and `2025-10`), every element found is found by its first candidate, so a
//! `fallback` in a nightly run is news (drift is coming).
//!
//! The check needs an account that can manage members (an admin or the owner): other accounts do
//! not see the invite button, role controls or row menus, which are then reported missing.
//!
//! Exit code ([`exit_code`]): 0 when nothing is missing or ambiguous, 1 otherwise (fallbacks and
//! not-checked elements do not fail the check).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use serde::{Deserialize, Serialize};
use url::Url;

use super::actions::{cancel_dialog, close_menu};
use super::{team, FlowError};
use crate::browser::query::{ProbeResult, QueryError, Ui, POLL_INTERVAL};

/// Elements the flows look up as optional and do without, because some UI generations lack them:
/// `team.apply_filter` (UIs before July 2025 apply the status filter on choice) and
/// `menu.revoke_invite` (UIs before 2026 revoke invitations in the CAKE.com account). When their
/// page or menu was fully opened and they are not there, they are reported `not-checked` ("absent
/// in this UI generation, which the flows tolerate") instead of `missing`.
pub const TOLERATED_ABSENT: &[&str] = &["team.apply_filter", "menu.revoke_invite"];

/// How many pages of the member list are read, at most, to find members in every state.
pub const MAX_PAGES: usize = 4;

/// How long an element is waited for once its page, menu or dialog has shown (the page has
/// settled by then: this only bounds the cost of a missing element).
const SETTLE: Duration = Duration::from_millis(1500);

/// How long a lookup hit by a re-rendering page is retried, at least.
const TRANSIENT_RETRY: Duration = Duration::from_secs(1);

/// Rows a page of the member list shows.
const PAGE_SIZE: usize = 50;

/// A search text that matches no member (shows the table's empty row).
const NO_MATCH_SEARCH: &str = "zz-selectors-check-no-such-member";

/// Typed into the invite dialog to make its inline validation error show.
const INVALID_ADDRESS: &str = "not-an-email-address";

/// The elements of the role dialog (checked on an active member without roles).
const ROLE_DIALOG_ITEMS: [&str; 6] = [
    "role.admin",
    "role.team_manager",
    "role.project_manager",
    "role.scope_search",
    "role.scope_options",
    "role.save",
];

/// WebDriver keys.
const ESCAPE: &str = "\u{E00C}";
const ENTER: &str = "\u{E007}";

/// What the check found for one element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Found by its first candidate.
    FirstChoice,
    /// Found only by a later candidate: drift is coming.
    Fallback {
        /// Index of the candidate that matched (0 = first; `candidates[N]` in the catalog).
        candidate: usize,
        /// That candidate, as it reads in messages.
        locator: String,
    },
    /// More than one visible match where one is required.
    Ambiguous {
        /// The candidate that matched too much.
        locator: String,
        /// How many visible matches.
        count: usize,
    },
    /// No candidate matched.
    Missing {
        /// Every locator tried, in order.
        tried: Vec<String>,
    },
    /// Could not be put on screen without changing data (or its context could not be opened).
    NotChecked {
        /// Why.
        reason: String,
    },
}

impl CheckStatus {
    /// The status word used in the table and in JSON.
    pub fn word(&self) -> &'static str {
        match self {
            CheckStatus::FirstChoice => "first-choice",
            CheckStatus::Fallback { .. } => "fallback",
            CheckStatus::Ambiguous { .. } => "ambiguous",
            CheckStatus::Missing { .. } => "missing",
            CheckStatus::NotChecked { .. } => "not-checked",
        }
    }

    /// Whether the check fails on it (missing or ambiguous).
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            CheckStatus::Missing { .. } | CheckStatus::Ambiguous { .. }
        )
    }

    /// Order of severity, for an element checked in several places (the worst is kept).
    fn rank(&self) -> u8 {
        match self {
            CheckStatus::NotChecked { .. } => 0,
            CheckStatus::FirstChoice => 1,
            CheckStatus::Fallback { .. } => 2,
            CheckStatus::Ambiguous { .. } => 3,
            CheckStatus::Missing { .. } => 4,
        }
    }

    fn detail(&self) -> String {
        match self {
            CheckStatus::FirstChoice => String::new(),
            CheckStatus::Fallback { candidate, locator } => {
                format!("found by candidates[{candidate}]: {locator}")
            }
            CheckStatus::Ambiguous { locator, count } => {
                format!("{locator} matched {count} visible elements")
            }
            CheckStatus::Missing { tried } => format!("tried: {}", tried.join("; ")),
            CheckStatus::NotChecked { reason } => reason.clone(),
        }
    }
}

/// The check's finding for one logical element of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementCheck {
    /// Logical name, e.g. `team.add_member`.
    pub element: String,
    /// Its description from the catalog.
    pub description: String,
    /// What was found (flattened into the JSON object: `"status": "fallback", "candidate": 1, …`).
    #[serde(flatten)]
    pub status: CheckStatus,
    /// Where it was checked, e.g. "Team page" or "role dialog of rita@…" (several places are
    /// separated by "; ").
    pub context: String,
}

/// 0 when nothing is missing or ambiguous, else 1. Fallbacks (drift is coming) and elements that
/// could not be checked do not fail the check; they are in the table and the JSON.
pub fn exit_code(checks: &[ElementCheck]) -> u8 {
    if checks.iter().any(|c| c.status.is_failure()) {
        1
    } else {
        0
    }
}

/// Why `element` is reported `not-checked` when the check did not see it, for the elements that
/// only a change (or luck) puts on screen; `None` for every other element, which the check opens
/// a page, menu or dialog to see.
pub fn never_shown_reason(element: &str) -> Option<&'static str> {
    Some(match element {
        "login.code_inputs" => {
            "shown only after requesting a sign-in code, which mails one; the check never \
             requests a code (signing in with --otp-command uses these fields)"
        }
        "shell.toast_success" | "shell.toast_error" => {
            "shown only after a change or a failed request; the check changes nothing"
        }
        "dialog.submit_error" => {
            "shown only when Clockify refuses a submitted dialog; the check never submits one \
             (a submission that is not refused changes data), so this element is not verified \
             here"
        }
        "shell.spinner" => {
            "shown only while something loads; none was on screen when the check looked"
        }
        _ => return None,
    })
}

/// A plain-text table, one line per element (in catalog order), and a summary line.
pub fn render_table(checks: &[ElementCheck]) -> String {
    let name_width = checks
        .iter()
        .map(|c| c.element.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let context_width = checks
        .iter()
        .map(|c| c.context.chars().count())
        .max()
        .unwrap_or(7)
        .clamp(7, 56);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<name_width$}  {:<12}  {:<context_width$}  DETAIL",
        "ELEMENT", "STATUS", "CONTEXT"
    );
    for check in checks {
        let context = if check.context.chars().count() > context_width {
            let cut: String = check.context.chars().take(context_width - 1).collect();
            format!("{cut}…")
        } else {
            check.context.clone()
        };
        let line = format!(
            "{:<name_width$}  {:<12}  {:<context_width$}  {}",
            check.element,
            check.status.word(),
            context,
            check.status.detail()
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let count = |word: &str| checks.iter().filter(|c| c.status.word() == word).count();
    let _ = writeln!(
        out,
        "{} elements: {} first-choice, {} fallback, {} ambiguous, {} missing, {} not checked",
        checks.len(),
        count("first-choice"),
        count("fallback"),
        count("ambiguous"),
        count("missing"),
        count("not-checked"),
    );
    out
}

/// Runs the check on a signed-in session (see the module documentation for what it opens) and
/// returns one finding per element of the catalog, in catalog order. It never confirms, saves or
/// sends anything. `Err` only when the browser session fails (or the base URL is unusable); a UI
/// that does not match the catalog is reported in the findings, not as an error.
pub async fn check_catalog(ui: &Ui, base: &Url) -> Result<Vec<ElementCheck>, FlowError> {
    let started = Instant::now();
    let mut checker = Checker {
        ui,
        base,
        results: BTreeMap::new(),
        settle: SETTLE.min(ui.timeout()),
        signed_in: String::new(),
    };
    checker.app().await?;
    checker.sign_in_pages().await?;
    let checks = checker.finish();
    tracing::info!(
        "selectors check: {} elements in {:.1?}, {} WebDriver commands so far",
        checks.len(),
        started.elapsed(),
        ui.commands()
    );
    Ok(checks)
}

/// What a row of the member list shows, read with the catalog's cell elements.
#[derive(Debug, Clone, Default)]
struct RowInfo {
    email: String,
    pending: bool,
    inactive: bool,
    roles: Vec<String>,
}

impl RowInfo {
    fn describe(&self) -> String {
        let state = if self.pending {
            "pending"
        } else if self.inactive {
            "inactive"
        } else {
            "active"
        };
        format!("{} ({state})", self.email)
    }
}

/// Which of the rows the check needs it has dealt with.
#[derive(Debug, Default)]
struct RowsDone {
    first: bool,
    roles: bool,
    pending: bool,
    inactive: bool,
    regular: bool,
}

impl RowsDone {
    fn all(&self) -> bool {
        self.first && self.roles && self.pending && self.inactive && self.regular
    }
}

struct Checker<'a> {
    ui: &'a Ui,
    base: &'a Url,
    results: BTreeMap<String, ElementCheck>,
    settle: Duration,
    signed_in: String,
}

fn is_transient(e: &CmdError) -> bool {
    e.is_stale_element_reference()
        || e.is_no_such_element()
        || e.is_element_not_interactable()
        || e.is_invalid_element_state()
}

fn wd(doing: &str) -> impl FnOnce(CmdError) -> QueryError {
    let doing = doing.to_string();
    move |source| QueryError::WebDriver { doing, source }
}

impl Checker<'_> {
    // ---------------------------------------------------------------------------------------
    // Recording
    // ---------------------------------------------------------------------------------------

    /// Records a finding; an element checked in several places keeps the worst finding (places
    /// with the same finding are listed together), and a real finding replaces `not-checked`.
    fn record(&mut self, name: &str, status: CheckStatus, context: &str) {
        let Some(spec) = self.ui.catalog().get(name) else {
            return;
        };
        match self.results.get_mut(name) {
            None => {
                self.results.insert(
                    name.to_string(),
                    ElementCheck {
                        element: name.to_string(),
                        description: spec.description.clone(),
                        status,
                        context: context.to_string(),
                    },
                );
            }
            Some(existing) => {
                if status.rank() > existing.status.rank() {
                    existing.status = status;
                    existing.context = context.to_string();
                } else if status == existing.status
                    && !existing.context.split("; ").any(|c| c == context)
                {
                    existing.context = format!("{}; {context}", existing.context);
                }
            }
        }
    }

    /// Records `name` as `not-checked`, for `reason`.
    fn not_checked(&mut self, name: &str, reason: impl Into<String>, context: &str) {
        let reason = reason.into();
        self.record(name, CheckStatus::NotChecked { reason }, context);
    }

    /// Records what `probe` found for `name`.
    fn record_probe(&mut self, name: &str, probe: &ProbeResult, context: &str) {
        let status = self.status_of(probe);
        self.record(name, status, context);
    }

    /// Records `not-checked` with `reason` for each of `names` not checked yet.
    fn skip(&mut self, names: &[&str], reason: &str, context: &str) {
        for name in names {
            if !self.results.contains_key(*name) {
                self.not_checked(name, reason, context);
            }
        }
    }

    fn status_of(&self, probe: &ProbeResult) -> CheckStatus {
        match probe.chosen {
            None => CheckStatus::Missing {
                tried: self
                    .ui
                    .catalog()
                    .get(&probe.element)
                    .map(|s| s.candidates.iter().map(|c| c.label.clone()).collect())
                    .unwrap_or_default(),
            },
            Some(index) if probe.is_ambiguous() => CheckStatus::Ambiguous {
                locator: probe.candidates[index].locator.clone(),
                count: probe.found.len(),
            },
            Some(0) => CheckStatus::FirstChoice,
            Some(index) => CheckStatus::Fallback {
                candidate: index,
                locator: probe.candidates[index].locator.clone(),
            },
        }
    }

    /// Probes `name` until it is found unambiguously or `wait` runs out (no recording).
    /// `None` when the catalog has no such element.
    async fn probe(
        &self,
        name: &str,
        scope: Option<&Element>,
        wait: Duration,
    ) -> Result<Option<ProbeResult>, FlowError> {
        if self.ui.catalog().get(name).is_none() {
            return Ok(None);
        }
        let started = Instant::now();
        loop {
            match self.ui.probe_all(name, scope).await {
                Ok(probe) => {
                    let settled = probe.chosen.is_some() && !probe.is_ambiguous();
                    if settled || started.elapsed() >= wait {
                        return Ok(Some(probe));
                    }
                }
                // The page re-rendered between finding and reading: look again.
                // (Retried for a moment even by a one-shot probe: spinners are looked for while
                // the page re-renders.)
                Err(QueryError::WebDriver { source, .. })
                    if scope.is_none()
                        && is_transient(&source)
                        && started.elapsed() < wait.max(TRANSIENT_RETRY) =>
                {
                    tracing::trace!(element = name, "probe retried: {source}");
                }
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Probes and records `name` in `context`; returns the probe (`None`: not in the catalog).
    async fn check(
        &mut self,
        name: &str,
        scope: Option<&Element>,
        context: &str,
        wait: Duration,
    ) -> Result<Option<ProbeResult>, FlowError> {
        let probe = self.probe(name, scope, wait).await?;
        if let Some(p) = &probe {
            self.record_probe(name, p, context);
        }
        Ok(probe)
    }

    /// Like [`Checker::check`]; returns the single element found, if any.
    async fn check_single(
        &mut self,
        name: &str,
        scope: Option<&Element>,
        context: &str,
        wait: Duration,
    ) -> Result<Option<Element>, FlowError> {
        Ok(self
            .check(name, scope, context, wait)
            .await?
            .and_then(|p| p.single().cloned()))
    }

    /// [`Checker::check_single`] with the settle wait.
    async fn check_one(
        &mut self,
        name: &str,
        scope: Option<&Element>,
        context: &str,
    ) -> Result<Option<Element>, FlowError> {
        self.check_single(name, scope, context, self.settle).await
    }

    /// [`Checker::check_single`] with the full deadline: for the first element of a page or
    /// dialog, which may still be loading.
    async fn check_anchor(
        &mut self,
        name: &str,
        scope: Option<&Element>,
        context: &str,
    ) -> Result<Option<Element>, FlowError> {
        self.check_single(name, scope, context, self.ui.timeout())
            .await
    }

    /// Checks `name`, which shows only in answer to what the check typed or submitted: when it
    /// does not show within the settle wait (the page may show no such message), it is
    /// `not-checked` for `unseen`.
    async fn check_shown(
        &mut self,
        name: &str,
        scope: Option<&Element>,
        context: &str,
        unseen: &str,
    ) -> Result<(), FlowError> {
        let wait = self.settle;
        if let Some(probe) = self.probe(name, scope, wait).await? {
            if probe.chosen.is_some() {
                self.record_probe(name, &probe, context);
            } else {
                self.skip(&[name], unseen, context);
            }
        }
        Ok(())
    }

    /// Checks an element of [`TOLERATED_ABSENT`] in a page or menu that is fully open (so `wait`
    /// may be short): absent is reported `not-checked`, with `offered` (what the menu offers)
    /// when given.
    async fn check_tolerated(
        &mut self,
        name: &str,
        scope: Option<&Element>,
        context: &str,
        wait: Duration,
        offered: Option<String>,
    ) -> Result<Option<Element>, FlowError> {
        let Some(probe) = self.probe(name, scope, wait).await? else {
            return Ok(None);
        };
        let status = self.status_of(&probe);
        if matches!(status, CheckStatus::Missing { .. }) && TOLERATED_ABSENT.contains(&name) {
            let mut reason = "absent in this UI generation, which the flows tolerate".to_string();
            if let Some(offered) = offered {
                reason.push_str(&format!(" ({offered})"));
            }
            self.not_checked(name, reason, context);
            return Ok(None);
        }
        self.record(name, status, context);
        Ok(probe.single().cloned())
    }

    /// Looks for a loading spinner right now (it shows only while something loads) and records
    /// it if one is on screen.
    async fn spot_spinner(&mut self, context: &str) -> Result<(), FlowError> {
        if let Some(probe) = self.probe("shell.spinner", None, Duration::ZERO).await? {
            if probe.chosen.is_some() {
                self.record_probe("shell.spinner", &probe, context);
            }
        }
        Ok(())
    }

    /// Fills in `not-checked` for every catalog element not checked, and returns the findings
    /// in catalog order.
    fn finish(mut self) -> Vec<ElementCheck> {
        let names: Vec<String> = self
            .ui
            .catalog()
            .elements()
            .map(|e| e.name.clone())
            .collect();
        for name in &names {
            if self.results.contains_key(name) {
                continue;
            }
            let reason = match never_shown_reason(name) {
                Some(reason) => reason,
                None if super::REQUIRED_ELEMENTS.contains(&name.as_str()) => {
                    "its page or dialog could not be opened"
                }
                None => "not used by the flows; the check does not know where it lives",
            };
            self.not_checked(name, reason, "-");
        }
        self.results.into_values().collect()
    }

    // ---------------------------------------------------------------------------------------
    // Small page helpers
    // ---------------------------------------------------------------------------------------

    async fn send_escape(&self, element: &Element) -> Result<(), FlowError> {
        self.ui.count(1);
        match element.send_keys(ESCAPE).await {
            Ok(()) => Ok(()),
            Err(e) if is_transient(&e) => Ok(()),
            Err(e) => Err(wd("pressing Escape")(e).into()),
        }
    }

    /// Waits until one of the elements `yes` or `no` is on the page (looked for in that order):
    /// `true` for one of `yes`, `false` for one of `no`.
    async fn first_shown(&self, what: &str, yes: &[&str], no: &[&str]) -> Result<bool, QueryError> {
        let ui = self.ui;
        ui.wait_until(what, || async {
            for (names, answer) in [(yes, true), (no, false)] {
                for name in names {
                    if ui.optional(name, None).await?.is_some() {
                        return Ok(Some(answer));
                    }
                }
            }
            Ok(None)
        })
        .await
    }

    /// Waits until `element` is hidden or gone; `false` when it is still shown at the deadline.
    async fn wait_hidden(&self, element: &Element, what: &str) -> Result<bool, FlowError> {
        let ui = self.ui;
        let gone = ui
            .wait_until(what, || async {
                ui.count(1);
                match element.is_displayed().await {
                    Err(e) if e.is_stale_element_reference() => Ok(Some(())),
                    Ok(false) => Ok(Some(())),
                    Ok(true) => Ok(None),
                    Err(e) => Err(wd("watching a dialog")(e)),
                }
            })
            .await;
        match gone {
            Ok(()) => Ok(true),
            Err(QueryError::Timeout { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Closes a dialog without submitting it: its Cancel button (checked as `dialog.cancel`), or
    /// Escape when there is none. `false` when it stays open.
    async fn dismiss_dialog(&mut self, dialog: &Element, context: &str) -> Result<bool, FlowError> {
        if self
            .check_one("dialog.cancel", Some(dialog), context)
            .await?
            .is_some()
        {
            cancel_dialog(self.ui, dialog).await?;
            return Ok(true);
        }
        self.ui.count(1);
        let active = self.ui.client().active_element().await;
        if let Ok(active) = active {
            self.send_escape(&active).await?;
        }
        let closed = self
            .wait_hidden(dialog, "a dialog to close on Escape")
            .await?;
        if !closed {
            tracing::warn!("selectors check: a dialog could not be closed ({context})");
        }
        Ok(closed)
    }

    /// The Team page's rows right now, with what each shows.
    async fn rows(&self) -> Result<Vec<(Element, RowInfo)>, FlowError> {
        let rows = self.ui.all("team.rows", None).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let first = |t: &Option<Vec<String>>| {
            t.as_ref()
                .and_then(|v| v.first().cloned())
                .unwrap_or_default()
        };
        let emails = self.ui.texts_in(&rows, "team.row_email").await?;
        let pending = self.ui.texts_in(&rows, "team.row_pending_tag").await?;
        let inactive = self.ui.texts_in(&rows, "team.row_inactive_name").await?;
        let roles = self.ui.texts_in(&rows, "team.row_role_labels").await?;
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let info = RowInfo {
                    email: first(&emails[i]).trim().to_lowercase(),
                    pending: pending[i].is_some(),
                    inactive: inactive[i].is_some(),
                    roles: roles[i]
                        .iter()
                        .flatten()
                        .map(|r| r.trim().to_string())
                        .filter(|r| !r.is_empty())
                        .collect(),
                };
                (row, info)
            })
            .collect())
    }

    /// The row showing `email` right now (rows re-render, so handles are not kept).
    async fn row_of(&self, email: &str) -> Result<Option<Element>, FlowError> {
        Ok(self
            .rows()
            .await?
            .into_iter()
            .find(|(_, info)| !email.is_empty() && info.email == email)
            .map(|(row, _)| row))
    }

    // ---------------------------------------------------------------------------------------
    // The app and the Team page
    // ---------------------------------------------------------------------------------------

    async fn app(&mut self) -> Result<(), FlowError> {
        let context = "app shell";
        let link = self.check_anchor("shell.team_link", None, context).await?;
        self.check_one("shell.workspace_name", None, context)
            .await?;
        if let Some(user) = self.check_one("shell.user_email", None, context).await? {
            self.signed_in = self
                .ui
                .text(&user)
                .await
                .unwrap_or_default()
                .trim()
                .to_lowercase();
        }
        let Some(link) = link else {
            let reason = "the Team page could not be opened: 'shell.team_link' was not found";
            let names: Vec<&str> = super::REQUIRED_ELEMENTS
                .iter()
                .copied()
                .filter(|n| !n.starts_with("login.") && !n.starts_with("shell."))
                .collect();
            self.skip(&names, reason, "Team page");
            return Ok(());
        };
        self.ui.click_element(&link, "'shell.team_link'").await?;
        self.spot_spinner("Team page, loading").await?;
        self.team_page().await
    }

    async fn team_page(&mut self) -> Result<(), FlowError> {
        let context = "Team page";
        // The table has loaded when rows (or the empty row) show and no spinner is left.
        match team::wait_for_table(self.ui).await {
            Ok(()) | Err(FlowError::Ui(QueryError::Timeout { .. })) => {}
            Err(e) => return Err(e),
        }
        let add_member = self.check_one("team.add_member", None, context).await?;
        let search = self.check_one("team.search", None, context).await?;
        let toggle = self.check_one("team.status_toggle", None, context).await?;
        self.check_one("team.rows", None, context).await?;

        let shows_all = self.show_all(toggle).await?;
        self.member_rows(shows_all).await?;
        self.invite_dialog(add_member).await?;
        self.empty_search(search).await?;
        Ok(())
    }

    /// Chooses "Show all" in the status filter (and applies it where the UI has "Apply
    /// filter"). `Err(reason)` in the `Ok` when pending and inactive members are not listed.
    async fn show_all(&mut self, toggle: Option<Element>) -> Result<Result<(), String>, FlowError> {
        let context = "Team page, status filter open";
        let Some(toggle) = toggle else {
            let reason = "needs the status filter, and 'team.status_toggle' was not found";
            self.skip(
                &["team.status_show_all", "team.apply_filter"],
                reason,
                context,
            );
            return Ok(Err(reason.into()));
        };
        let marker = team::generation_marker(self.ui).await?;
        self.ui
            .click_element(&toggle, "'team.status_toggle'")
            .await?;
        let Some(show_all) = self
            .check_anchor("team.status_show_all", None, context)
            .await?
        else {
            self.send_escape(&toggle).await?;
            let reason = "needs \"Show all\" in the status filter, and 'team.status_show_all' \
                          was not found";
            self.skip(&["team.apply_filter"], reason, context);
            return Ok(Err(reason.into()));
        };
        self.ui
            .click_element(&show_all, "'team.status_show_all'")
            .await?;
        // UIs with a filter bar apply the choice with "Apply filter"; older ones reload the list
        // at once. Whichever happens first tells which this UI is.
        let context = "Team page, after choosing \"Show all\"";
        let started = Instant::now();
        let applied = loop {
            let probe = self
                .probe("team.apply_filter", None, Duration::ZERO)
                .await?;
            if let Some(probe) = probe.filter(|p| p.chosen.is_some()) {
                self.record_probe("team.apply_filter", &probe, context);
                match probe.single() {
                    Some(apply) => {
                        self.ui.click_element(apply, "'team.apply_filter'").await?;
                        self.spot_spinner("Team page, applying the filter").await?;
                        break true;
                    }
                    None => break false,
                }
            }
            if let Some(marker) = &marker {
                self.ui.count(1);
                if let Err(e) = marker.is_displayed().await {
                    if e.is_stale_element_reference() {
                        // Re-rendered on choice: no "Apply filter" in this generation.
                        // (The filter bar, where it would be, was on screen all along.)
                        self.check_tolerated(
                            "team.apply_filter",
                            None,
                            context,
                            Duration::ZERO,
                            None,
                        )
                        .await?;
                        break true;
                    }
                }
            }
            if started.elapsed() >= self.ui.timeout() {
                // Neither: the choice is waiting for an "Apply filter" the catalog cannot find.
                self.check("team.apply_filter", None, context, Duration::ZERO)
                    .await?;
                break false;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        };
        if !applied {
            return Ok(Err(
                "\"Show all\" could not be applied ('team.apply_filter' not usable)".into(),
            ));
        }
        match team::wait_for_rerender(self.ui, marker).await {
            Ok(()) => {}
            Err(FlowError::Ui(QueryError::Timeout { .. })) => {
                return Ok(Err(
                    "the list did not re-render after choosing \"Show all\"".into(),
                ))
            }
            Err(e) => return Err(e),
        }
        match team::wait_for_table(self.ui).await {
            Ok(()) | Err(FlowError::Ui(QueryError::Timeout { .. })) => {}
            Err(e) => return Err(e),
        }
        Ok(Ok(()))
    }

    /// Reads up to [`MAX_PAGES`] pages and checks row cells, row menus and the dialogs opened
    /// from rows, each on the first row that shows what it needs.
    async fn member_rows(&mut self, shows_all: Result<(), String>) -> Result<(), FlowError> {
        let mut done = RowsDone::default();
        let mut next_checked = false;
        for page in 1..=MAX_PAGES {
            let rows = self.rows().await?;
            if rows.is_empty() {
                break;
            }
            let count = rows.len();
            let infos: Vec<RowInfo> = rows.into_iter().map(|(_, info)| info).collect();
            self.rows_on_page(&infos, &mut done).await?;
            if !next_checked {
                next_checked = true;
                let context = "Team page (all statuses)";
                let probe = self.probe("team.next_page", None, self.settle).await?;
                if let Some(probe) = probe {
                    let status = self.status_of(&probe);
                    if matches!(status, CheckStatus::Missing { .. }) && count < PAGE_SIZE {
                        self.not_checked(
                            "team.next_page",
                            format!("absent, and the list fits on one page here ({count} rows)"),
                            context,
                        );
                    } else {
                        self.record("team.next_page", status, context);
                    }
                }
            }
            if done.all() || page == MAX_PAGES {
                break;
            }
            // The next page, if there is one and it is enabled.
            let Some(next) = self.ui.optional("team.next_page", None).await? else {
                break;
            };
            self.ui.count(1);
            if !next.is_enabled().await.map_err(wd("reading a button"))? {
                break;
            }
            let marker = team::generation_marker(self.ui).await?;
            self.ui.click_element(&next, "'team.next_page'").await?;
            self.spot_spinner("Team page, next page loading").await?;
            match team::wait_for_rerender(self.ui, marker).await {
                Ok(()) => {}
                Err(FlowError::Ui(QueryError::Timeout { .. })) => break,
                Err(e) => return Err(e),
            }
            match team::wait_for_table(self.ui).await {
                Ok(()) | Err(FlowError::Ui(QueryError::Timeout { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        let pages = format!("on the first {MAX_PAGES} pages of the list");
        let why_not_all = match &shows_all {
            Ok(()) => String::new(),
            Err(reason) => format!(" (all statuses are not listed: {reason})"),
        };
        let context = "Team page";
        if !done.first {
            self.skip(
                &[
                    "team.row_email",
                    "team.row_name",
                    "team.row_menu_button",
                    "menu.open",
                ],
                "no member row was listed",
                context,
            );
        }
        if !done.roles {
            self.skip(
                &["team.row_role_labels"],
                &format!("no member with a role was listed {pages}"),
                context,
            );
        }
        if !done.pending {
            self.skip(
                &[
                    "team.row_pending_tag",
                    "menu.resend_invite",
                    "menu.revoke_invite",
                ],
                &format!(
                    "needs a pending member, and no row showed one {pages} (or the tag's \
                     locators match nothing){why_not_all}"
                ),
                context,
            );
        }
        if !done.inactive {
            self.skip(
                &["team.row_inactive_name", "menu.activate"],
                &format!(
                    "needs an inactive member, and no row showed one {pages} (or the struck-\
                     through name's locators match nothing){why_not_all}"
                ),
                context,
            );
        }
        if !done.regular {
            let row_items = [
                "team.row_add_role",
                "menu.deactivate",
                "confirm.confirm_button",
            ];
            self.skip(
                &[&row_items[..], &ROLE_DIALOG_ITEMS[..]].concat(),
                &format!(
                    "needs an active member without roles other than the signed-in account, \
                     and none was listed {pages}"
                ),
                context,
            );
        }
        Ok(())
    }

    /// Checks `cells` in the row of `info`'s member, if it is still listed.
    async fn row_cells(&mut self, info: &RowInfo, cells: &[&str]) -> Result<(), FlowError> {
        if let Some(row) = self.row_of(&info.email).await? {
            let context = format!("row of {}", info.describe());
            for cell in cells {
                self.check_one(cell, Some(&row), &context).await?;
            }
        }
        Ok(())
    }

    /// Does, on the current page, whatever row work is still to do.
    async fn rows_on_page(
        &mut self,
        infos: &[RowInfo],
        done: &mut RowsDone,
    ) -> Result<(), FlowError> {
        if !done.first {
            if let Some(info) = infos.iter().find(|i| !i.email.is_empty()) {
                done.first = true;
                let cells = ["team.row_email", "team.row_name", "team.row_menu_button"];
                self.row_cells(info, &cells).await?;
            }
        }
        if !done.roles {
            if let Some(info) = infos.iter().find(|i| !i.roles.is_empty()) {
                done.roles = true;
                self.row_cells(info, &["team.row_role_labels"]).await?;
            }
        }
        if !done.pending {
            if let Some(info) = infos.iter().find(|i| i.pending) {
                done.pending = true;
                self.pending_row(info).await?;
            }
        }
        if !done.inactive {
            if let Some(info) = infos.iter().find(|i| i.inactive && !i.pending) {
                done.inactive = true;
                self.inactive_row(info).await?;
            }
        }
        if !done.regular {
            if let Some(info) = infos.iter().find(|i| {
                !i.pending
                    && !i.inactive
                    && i.roles.is_empty()
                    && !i.email.is_empty()
                    && i.email != self.signed_in
            }) {
                done.regular = true;
                self.regular_row(info).await?;
            }
        }
        Ok(())
    }

    /// Opens the row menu of the row showing `email`; returns the row and the open menu (`None`
    /// for the menu when it did not open; the reason is recorded for `items`).
    async fn open_menu(
        &mut self,
        email: &str,
        context: &str,
        items: &[&str],
    ) -> Result<Option<(Element, Element)>, FlowError> {
        let Some(row) = self.row_of(email).await? else {
            self.skip(
                items,
                "the row re-rendered away before its menu opened",
                context,
            );
            return Ok(None);
        };
        let Some(button) = self
            .check_one("team.row_menu_button", Some(&row), context)
            .await?
        else {
            self.skip(
                items,
                "the row menu could not be opened: 'team.row_menu_button' was not found",
                context,
            );
            return Ok(None);
        };
        self.ui
            .click_element(&button, "'team.row_menu_button'")
            .await?;
        let Some(menu) = self.check_one("menu.open", None, context).await? else {
            self.send_escape(&button).await?;
            self.skip(
                items,
                "the row menu did not show: 'menu.open' was not found",
                context,
            );
            return Ok(None);
        };
        Ok(Some((row, menu)))
    }

    /// The menu's items as text, for the reason of a tolerated absence.
    async fn offered(&self, menu: &Element) -> String {
        let text = self.ui.text(menu).await.unwrap_or_default();
        let items: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        format!("the menu offers: {}", items.join(", "))
    }

    async fn pending_row(&mut self, info: &RowInfo) -> Result<(), FlowError> {
        self.row_cells(info, &["team.row_pending_tag"]).await?;
        let context = format!("row menu of {}", info.describe());
        let items = ["menu.resend_invite", "menu.revoke_invite"];
        let Some((row, menu)) = self.open_menu(&info.email, &context, &items).await? else {
            return Ok(());
        };
        let resend = self
            .check_one("menu.resend_invite", Some(&menu), &context)
            .await?;
        // The menu renders its items at once: with one of them found, it is fully open.
        let wait = if resend.is_some() {
            Duration::ZERO
        } else {
            self.settle
        };
        let offered = self.offered(&menu).await;
        self.check_tolerated(
            "menu.revoke_invite",
            Some(&menu),
            &context,
            wait,
            Some(offered),
        )
        .await?;
        close_menu(self.ui, &row).await
    }

    async fn inactive_row(&mut self, info: &RowInfo) -> Result<(), FlowError> {
        self.row_cells(info, &["team.row_inactive_name"]).await?;
        let context = format!("row menu of {}", info.describe());
        let Some((row, menu)) = self
            .open_menu(&info.email, &context, &["menu.activate"])
            .await?
        else {
            return Ok(());
        };
        self.check_one("menu.activate", Some(&menu), &context)
            .await?;
        close_menu(self.ui, &row).await
    }

    /// An active member without roles: "+ Role", the row menu with "Deactivate" and its confirm
    /// dialog (cancelled), and the role dialog (cancelled).
    async fn regular_row(&mut self, info: &RowInfo) -> Result<(), FlowError> {
        let email = info.email.clone();
        self.row_cells(info, &["team.row_add_role"]).await?;

        let context = format!("row menu of {}", info.describe());
        let confirm_items = ["menu.deactivate", "confirm.confirm_button"];
        if let Some((row, menu)) = self.open_menu(&email, &context, &confirm_items).await? {
            match self
                .check_one("menu.deactivate", Some(&menu), &context)
                .await?
            {
                Some(item) => {
                    // Opens the confirm dialog only; it is cancelled, never confirmed.
                    self.ui.click_element(&item, "'menu.deactivate'").await?;
                    let context = format!("deactivate confirm dialog of {email}");
                    match self.check_anchor("dialog.open", None, &context).await? {
                        Some(dialog) => {
                            self.check_one("confirm.confirm_button", Some(&dialog), &context)
                                .await?;
                            self.dismiss_dialog(&dialog, &context).await?;
                        }
                        None => self.skip(
                            &["confirm.confirm_button"],
                            "the confirm dialog could not be found: 'dialog.open' was not found",
                            &context,
                        ),
                    }
                }
                None => {
                    close_menu(self.ui, &row).await?;
                    self.skip(
                        &["confirm.confirm_button"],
                        "the confirm dialog opens from \"Deactivate\", and 'menu.deactivate' \
                         was not found",
                        &context,
                    );
                }
            }
        }

        self.role_dialog(&email).await
    }

    /// The role dialog of `email`, opened from "+ Role" (or, failing that, a role label of the
    /// row): its checkboxes, and with "Team manager" ticked the scope list; then cancelled.
    async fn role_dialog(&mut self, email: &str) -> Result<(), FlowError> {
        let dialog_items = ROLE_DIALOG_ITEMS;
        let context = format!("role dialog of {email}");
        let Some(row) = self.row_of(email).await? else {
            self.skip(&dialog_items, "the row re-rendered away", &context);
            return Ok(());
        };
        let trigger = match self.ui.optional("team.row_add_role", Some(&row)).await? {
            Some(add) => Some(add),
            None => self.ui.optional("team.row_role_labels", Some(&row)).await?,
        };
        let Some(trigger) = trigger else {
            self.skip(
                &dialog_items,
                "the role dialog opens from the row's \"+ Role\", and 'team.row_add_role' was \
                 not found",
                &context,
            );
            return Ok(());
        };
        self.ui
            .click_element(&trigger, "the row's role control")
            .await?;
        let Some(dialog) = self.check_anchor("dialog.open", None, &context).await? else {
            self.skip(
                &dialog_items,
                "the role dialog could not be found: 'dialog.open' was not found",
                &context,
            );
            return Ok(());
        };
        self.spot_spinner("role dialog, loading").await?;
        // The dialog loads groups, projects and members before showing its checkboxes.
        self.check_anchor("role.admin", Some(&dialog), &context)
            .await?;
        let team_manager = self
            .check_one("role.team_manager", Some(&dialog), &context)
            .await?;
        self.check_one("role.project_manager", Some(&dialog), &context)
            .await?;
        self.check_one("role.save", Some(&dialog), &context).await?;
        let scope_items = ["role.scope_search", "role.scope_options"];
        match team_manager {
            Some(checkbox) => {
                self.ui.count(2);
                let selected = checkbox
                    .is_selected()
                    .await
                    .map_err(wd("reading a checkbox"))?;
                let enabled = checkbox
                    .is_enabled()
                    .await
                    .map_err(wd("reading a checkbox"))?;
                if selected || enabled {
                    let scope_context = if selected {
                        context.clone()
                    } else {
                        // Shows the scope list; the dialog is cancelled, so nothing is saved.
                        self.ui
                            .click_element(&checkbox, "'role.team_manager'")
                            .await?;
                        format!("role dialog of {email}, \"Team manager\" ticked")
                    };
                    self.check_one("role.scope_search", Some(&dialog), &scope_context)
                        .await?;
                    self.check_one("role.scope_options", Some(&dialog), &scope_context)
                        .await?;
                } else {
                    self.skip(
                        &scope_items,
                        "the scope list shows with \"Team manager\" ticked, which this account \
                         may not tick for this member",
                        &context,
                    );
                }
            }
            None => self.skip(
                &scope_items,
                "the scope list shows with \"Team manager\" ticked, and 'role.team_manager' was \
                 not found",
                &context,
            ),
        }
        self.dismiss_dialog(&dialog, &context).await?;
        Ok(())
    }

    /// The invite dialog, with an invalid address typed to show the field's validation message;
    /// cancelled. (Its other error shape, `dialog.submit_error`, needs a submission: see
    /// [`never_shown_reason`].)
    async fn invite_dialog(&mut self, add_member: Option<Element>) -> Result<(), FlowError> {
        let items = ["invite.emails", "invite.send", "dialog.inline_error"];
        let context = "invite dialog";
        let Some(add_member) = add_member else {
            self.skip(
                &items,
                "the invite dialog opens from the invite button, and 'team.add_member' was not \
                 found",
                context,
            );
            return Ok(());
        };
        self.ui
            .click_element(&add_member, "'team.add_member'")
            .await?;
        let Some(dialog) = self.check_anchor("dialog.open", None, context).await? else {
            self.skip(
                &items,
                "the invite dialog could not be found: 'dialog.open' was not found",
                context,
            );
            return Ok(());
        };
        self.spot_spinner("invite dialog, loading").await?;
        // The dialog loads the workspace's seats before showing its field.
        let emails = self
            .check_anchor("invite.emails", Some(&dialog), context)
            .await?;
        self.check_one("invite.send", Some(&dialog), context)
            .await?;
        match emails {
            Some(field) => {
                self.ui.count(2);
                field.clear().await.map_err(wd("clearing a field"))?;
                field
                    .send_keys(INVALID_ADDRESS)
                    .await
                    .map_err(wd("typing an invalid address"))?;
                self.check_shown(
                    "dialog.inline_error",
                    Some(&dialog),
                    "invite dialog, an invalid address typed",
                    "no error showed for an invalid address (the page may validate only on \
                     sending, which the check never does)",
                )
                .await?;
            }
            None => self.skip(
                &["dialog.inline_error"],
                "needs an invalid address typed into 'invite.emails', which was not found",
                context,
            ),
        }
        self.dismiss_dialog(&dialog, context).await?;
        Ok(())
    }

    /// A search that matches nobody, for the table's empty row.
    async fn empty_search(&mut self, search: Option<Element>) -> Result<(), FlowError> {
        let context = "Team page, a search matching nobody".to_string();
        if search.is_none() {
            self.skip(
                &["team.empty"],
                "the empty row shows after a search that matches nobody, and 'team.search' was \
                 not found",
                &context,
            );
            return Ok(());
        }
        let marker = team::generation_marker(self.ui).await?;
        self.ui
            .fill("team.search", None, &format!("{NO_MATCH_SEARCH}{ENTER}"))
            .await?;
        self.spot_spinner("Team page, searching").await?;
        match team::wait_for_rerender(self.ui, marker).await {
            Ok(()) | Err(FlowError::Ui(QueryError::Timeout { .. })) => {}
            Err(e) => return Err(e),
        }
        let wait = self.ui.timeout();
        self.check("team.empty", None, &context, wait).await?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // The sign-in page
    // ---------------------------------------------------------------------------------------

    /// The sign-in page in the same browser, without typing anything; then back to the app.
    async fn sign_in_pages(&mut self) -> Result<(), FlowError> {
        let path = format!("/{}/login", self.ui.catalog().locale());
        let login = self
            .base
            .join(&path)
            .map_err(|e| FlowError::Setup(format!("bad base URL {}: {e}", self.base)))?;
        let context = format!("sign-in page {path}");
        let items = [
            "login.email_input",
            "login.continue_with_email",
            "login.manual_link",
            "login.password_input",
            "login.submit",
            "login.error",
        ];
        self.ui.goto(login.as_str()).await?;
        // A live session may be sent on to the app: then there is no form to check.
        let landed = self
            .first_shown(
                "the sign-in form or the app",
                &["login.email_input", "login.manual_link"],
                &["shell.user_email"],
            )
            .await;
        match landed {
            Ok(true) | Err(QueryError::Timeout { .. }) => {}
            Ok(false) => {
                self.skip(
                    &items,
                    "the sign-in page sent the signed-in browser on to the app",
                    &context,
                );
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        let current = self.ui.current_url().await?;
        if current.origin() != self.base.origin() {
            self.skip(
                &items,
                &format!(
                    "the sign-in page is at {}, not on the configured origin",
                    current.origin().ascii_serialization()
                ),
                &context,
            );
            return self.back_to_app().await;
        }
        self.check_one("login.email_input", None, &context).await?;
        self.check_one("login.continue_with_email", None, &context)
            .await?;
        let manual = self.check_one("login.manual_link", None, &context).await?;
        let manual_items = ["login.password_input", "login.submit", "login.error"];
        let Some(manual) = manual else {
            self.skip(
                &manual_items,
                "the password form opens from \"Log in manually\", and 'login.manual_link' was \
                 not found",
                &context,
            );
            return self.back_to_app().await;
        };
        self.ui
            .click_element(&manual, "'login.manual_link'")
            .await?;
        let context = format!("\"Log in manually\" form of {path}");
        let password = self
            .check_anchor("login.password_input", None, &context)
            .await?;
        let submit = self.check_one("login.submit", None, &context).await?;
        let email = self.ui.optional("login.email_input", None).await?;
        match (email, password, submit) {
            (Some(email), Some(password), Some(submit)) => {
                self.empty_submit(&email, &password, &submit, &path).await?;
            }
            _ => self.skip(
                &["login.error"],
                "the form's error shows after submitting it empty, and its email field, \
                 password field or submit button was not found",
                &context,
            ),
        }
        self.back_to_app().await
    }

    /// Clears both fields of the password form, makes sure they are empty and the page is on the
    /// configured origin, submits it, and checks the form's error.
    async fn empty_submit(
        &mut self,
        email: &Element,
        password: &Element,
        submit: &Element,
        path: &str,
    ) -> Result<(), FlowError> {
        let context = format!("\"Log in manually\" form of {path}, submitted empty");
        self.ui.count(2);
        email.clear().await.map_err(wd("clearing a field"))?;
        password.clear().await.map_err(wd("clearing a field"))?;
        let values = self
            .ui
            .execute(
                "return [arguments[0].value, arguments[1].value];",
                vec![
                    serde_json::to_value(email).unwrap_or_default(),
                    serde_json::to_value(password).unwrap_or_default(),
                ],
            )
            .await?;
        let empty = values
            .as_array()
            .is_some_and(|v| v.len() == 2 && v.iter().all(|x| x.as_str() == Some("")));
        let current = self.ui.current_url().await?;
        if !empty || current.origin() != self.base.origin() {
            self.skip(
                &["login.error"],
                "the form's fields could not be emptied, so it was not submitted",
                &context,
            );
            return Ok(());
        }
        self.ui.click_element(submit, "'login.submit'").await?;
        self.check_shown(
            "login.error",
            None,
            &context,
            "no error showed after submitting the empty form (the page may refuse it silently)",
        )
        .await
    }

    /// Opens the app again and confirms the session survived the visit to the sign-in page.
    async fn back_to_app(&mut self) -> Result<(), FlowError> {
        let app = self
            .base
            .join("/tracker")
            .map_err(|e| FlowError::Setup(format!("bad base URL {}: {e}", self.base)))?;
        self.ui.goto(app.as_str()).await?;
        let live = self
            .first_shown(
                "the app after the sign-in page",
                &["shell.user_email"],
                &["login.email_input"],
            )
            .await;
        match live {
            Ok(true) => Ok(()),
            Ok(false) | Err(QueryError::Timeout { .. }) => {
                tracing::warn!(
                    "selectors check: the app did not show the signed-in user after the visit to \
                     the sign-in page"
                );
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(element: &str, status: CheckStatus) -> ElementCheck {
        ElementCheck {
            element: element.into(),
            description: "d".into(),
            status,
            context: "Team page".into(),
        }
    }

    #[test]
    fn exit_code_fails_only_on_missing_or_ambiguous() {
        let fine = vec![
            check("a.b", CheckStatus::FirstChoice),
            check(
                "a.c",
                CheckStatus::Fallback {
                    candidate: 1,
                    locator: "css \"x\"".into(),
                },
            ),
            check("a.d", CheckStatus::NotChecked { reason: "r".into() }),
        ];
        assert_eq!(exit_code(&fine), 0);
        let mut missing = fine.clone();
        missing.push(check("a.e", CheckStatus::Missing { tried: vec![] }));
        assert_eq!(exit_code(&missing), 1);
        let mut ambiguous = fine;
        ambiguous.push(check(
            "a.f",
            CheckStatus::Ambiguous {
                locator: "l".into(),
                count: 2,
            },
        ));
        assert_eq!(exit_code(&ambiguous), 1);
    }

    #[test]
    fn json_is_flat_with_a_status_word() {
        let value = serde_json::to_value(check(
            "team.add_member",
            CheckStatus::Fallback {
                candidate: 2,
                locator: "test id \"add-member-button\"".into(),
            },
        ))
        .expect("JSON");
        assert_eq!(value["element"], "team.add_member");
        assert_eq!(value["status"], "fallback");
        assert_eq!(value["candidate"], 2);
        assert_eq!(value["context"], "Team page");
        let back: ElementCheck = serde_json::from_value(value).expect("reads back");
        assert_eq!(back.status.word(), "fallback");
        let first = serde_json::to_value(check("x.y", CheckStatus::FirstChoice)).expect("JSON");
        assert_eq!(first["status"], "first-choice");
    }

    #[test]
    fn dialog_errors_are_two_elements_checked_where_each_can_show() {
        let catalog = crate::selectors::Catalog::builtin("en").expect("built-in catalog");
        assert!(catalog.get("dialog.error").is_none(), "split in two");
        for name in ["dialog.inline_error", "dialog.submit_error"] {
            assert!(catalog.get(name).is_some(), "{name} in the catalog");
            assert!(super::super::REQUIRED_ELEMENTS.contains(&name), "{name}");
        }
        // The inline message is put on screen by the invite dialog; the refusal needs a submit.
        assert_eq!(never_shown_reason("dialog.inline_error"), None);
        let reason = never_shown_reason("dialog.submit_error").expect("a reason");
        assert!(reason.contains("never submits"), "{reason}");
        // Every element with a by-design reason is one the flows use and the catalog has.
        for element in catalog.elements() {
            if never_shown_reason(&element.name).is_some() {
                assert!(
                    super::super::REQUIRED_ELEMENTS.contains(&element.name.as_str()),
                    "{}",
                    element.name
                );
            }
        }
        // Reported not-checked, it keeps a clean check clean: exit 0, no fallback.
        let checks = vec![
            check("dialog.inline_error", CheckStatus::FirstChoice),
            check(
                "dialog.submit_error",
                CheckStatus::NotChecked {
                    reason: reason.into(),
                },
            ),
        ];
        assert_eq!(exit_code(&checks), 0);
        let table = render_table(&checks);
        assert!(
            table.contains(
                "2 elements: 1 first-choice, 0 fallback, 0 ambiguous, 0 missing, 1 not checked"
            ),
            "{table}"
        );
    }

    #[test]
    fn table_lists_every_element_and_a_summary() {
        let table = render_table(&[
            check(
                "team.add_member",
                CheckStatus::Missing {
                    tried: vec![
                        "text \"Add new member\" in <button>".into(),
                        "test id \"x\"".into(),
                    ],
                },
            ),
            check("team.search", CheckStatus::FirstChoice),
        ]);
        assert!(table.starts_with("ELEMENT"), "{table}");
        assert!(table.contains("team.add_member"), "{table}");
        assert!(table.contains("missing"), "{table}");
        assert!(table.contains("tried: text \"Add new member\" in <button>; test id \"x\""));
        assert!(table.contains("2 elements: 1 first-choice, 0 fallback, 0 ambiguous, 1 missing"));
    }
}
