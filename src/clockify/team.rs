//! The Team page: opening it from the sidebar, showing every status, finding a member's row by
//! email, and reading what a row shows.

use fantoccini::elements::Element;

use super::{FlowError, MemberState, Role, Status};
use crate::browser::query::{QueryError, Ui};

/// Opens the Team page by clicking the sidebar link (the route is not public) and waits for the
/// member table to settle.
pub async fn open(ui: &Ui) -> Result<(), FlowError> {
    ui.click("shell.team_link", None).await?;
    wait_for_table(ui).await
}

/// The workspace name the top bar shows (recorded in the evidence).
pub async fn workspace_name(ui: &Ui) -> Result<String, FlowError> {
    let found = ui.find("shell.workspace_name", None).await?;
    let text = ui
        .text(&found.element)
        .await
        .map_err(|source| QueryError::WebDriver {
            doing: "reading the workspace name".into(),
            source,
        })?;
    Ok(text.trim().to_string())
}

/// Waits until the table shows rows or its empty row, and no spinner is left.
pub async fn wait_for_table(ui: &Ui) -> Result<(), FlowError> {
    ui.wait_until("the member table to load", || async {
        if !ui.all("shell.spinner", None).await?.is_empty() {
            return Ok(None);
        }
        if ui.optional("team.rows", None).await?.is_some()
            || ui.optional("team.empty", None).await?.is_some()
        {
            return Ok(Some(()));
        }
        Ok(None)
    })
    .await?;
    Ok(())
}

/// Switches the status filter to "Show all" (applying it where the UI has a filter bar), so
/// inactive and pending members are listed too.
pub async fn show_all_statuses(ui: &Ui) -> Result<(), FlowError> {
    let marker = generation_marker(ui).await?;
    ui.click("team.status_toggle", None).await?;
    ui.click("team.status_show_all", None).await?;
    // 2026 UIs apply filters with a button; older ones apply on choice.
    if let Some(apply) = ui.optional("team.apply_filter", None).await? {
        ui.click_element(&apply, "'team.apply_filter'").await?;
    }
    wait_for_rerender(ui, marker).await?;
    wait_for_table(ui).await
}

/// An element of the current table rendering; it goes stale when the table re-renders.
pub async fn generation_marker(ui: &Ui) -> Result<Option<Element>, FlowError> {
    if let Some(row) = ui.optional("team.rows", None).await? {
        return Ok(Some(row));
    }
    Ok(ui.optional("team.empty", None).await?)
}

/// Waits until `marker` (from [`generation_marker`]) is gone from the page.
pub async fn wait_for_rerender(ui: &Ui, marker: Option<Element>) -> Result<(), FlowError> {
    let Some(marker) = marker else {
        return Ok(());
    };
    ui.wait_until("the member table to re-render", || async {
        ui.count(1);
        match marker.is_displayed().await {
            Err(e) if e.is_stale_element_reference() => Ok(Some(())),
            Ok(_) => Ok(None),
            Err(source) => Err(QueryError::WebDriver {
                doing: "waiting for the member table".into(),
                source,
            }),
        }
    })
    .await?;
    Ok(())
}

/// Searches the list for `email`; returns its row and what the row shows, or `None` when the
/// UI lists no such member.
async fn search_row(ui: &Ui, email: &str) -> Result<Option<(Element, MemberState)>, FlowError> {
    let wanted = email.trim().to_lowercase();
    let marker = generation_marker(ui).await?;
    // Enter applies the search at once instead of after the typing debounce.
    ui.fill("team.search", None, &format!("{wanted}\u{E007}"))
        .await?;
    wait_for_rerender(ui, marker).await?;
    wait_for_table(ui).await?;
    // A search term also matches longer addresses (`ann@` is in `joann@`), and others may
    // invite such people at any moment: with more than a page of matches, the member can be on
    // a later page.
    for _ in 0..MAX_SEARCH_PAGES {
        let rows = ui.all("team.rows", None).await?;
        let states = read_rows(ui, &rows).await?;
        let first = rows.first().cloned();
        if let Some(found) = rows
            .into_iter()
            .zip(states)
            .find(|(_, state)| state.email.to_lowercase() == wanted)
        {
            return Ok(Some(found));
        }
        if !next_page(ui, first).await? {
            break;
        }
    }
    Ok(None)
}

/// How many pages of search results are looked through for one address.
const MAX_SEARCH_PAGES: usize = 20;

/// Goes to the next page of the list when there is one (`first_row` is a row of the current
/// page, or `None` when it is empty); `false` on the last page.
async fn next_page(ui: &Ui, first_row: Option<Element>) -> Result<bool, FlowError> {
    let Some(marker) = first_row else {
        return Ok(false);
    };
    let Some(next) = ui.optional("team.next_page", None).await? else {
        return Ok(false);
    };
    ui.count(1);
    let enabled = next
        .is_enabled()
        .await
        .map_err(|source| QueryError::WebDriver {
            doing: "reading the next-page button".into(),
            source,
        })?;
    if !enabled {
        return Ok(false);
    }
    ui.click_element(&next, "'team.next_page'").await?;
    wait_for_rerender(ui, Some(marker)).await?;
    wait_for_table(ui).await?;
    Ok(true)
}

/// The email a row shows (read again right before a destructive click).
pub async fn row_email(ui: &Ui, row: &Element) -> Result<String, FlowError> {
    let texts = ui
        .texts_in(std::slice::from_ref(row), "team.row_email")
        .await?;
    Ok(texts
        .into_iter()
        .next()
        .flatten()
        .and_then(|t| t.into_iter().next())
        .unwrap_or_default())
}

/// Reads what rows show: email, name, status and roles (one WebDriver command for any number of
/// rows).
pub async fn read_rows(ui: &Ui, rows: &[Element]) -> Result<Vec<MemberState>, FlowError> {
    let first = |texts: &Option<Vec<String>>| texts.as_ref().and_then(|t| t.first().cloned());
    let mut cells = ui
        .texts_in_each(
            rows,
            &[
                "team.row_email",
                "team.row_name",
                "team.row_pending_tag",
                "team.row_inactive_name",
                "team.row_role_labels",
            ],
        )
        .await?
        .into_iter();
    let mut next = || cells.next().unwrap_or_default();
    let (emails, names, pending, inactive, roles) = (next(), next(), next(), next(), next());
    if emails.len() != rows.len() {
        return Err(missing_in_row(ui, "team.row_email"));
    }
    let mut states = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        let email = first(&emails[i]).ok_or_else(|| missing_in_row(ui, "team.row_email"))?;
        let name = first(&names[i]).unwrap_or_default();
        let status = if pending[i].is_some() {
            Status::Pending
        } else if inactive[i].is_some() {
            Status::Inactive
        } else {
            Status::Active
        };
        let mut member_roles: Vec<Role> = roles[i]
            .iter()
            .flatten()
            .filter_map(|label| Role::from_label(label))
            .collect();
        member_roles.sort();
        member_roles.dedup();
        states.push(MemberState {
            email,
            name,
            status,
            roles: member_roles,
        });
    }
    Ok(states)
}

fn missing_in_row(ui: &Ui, name: &str) -> FlowError {
    let spec = ui.catalog().get(name);
    FlowError::Ui(QueryError::NotFound {
        element: name.to_string(),
        description: spec.map(|s| s.description.clone()).unwrap_or_default(),
        tried: spec
            .map(|s| s.candidates.iter().map(|c| c.label.clone()).collect())
            .unwrap_or_default(),
        waited: std::time::Duration::ZERO,
    })
}

/// Finds and reads the member with `email`; `None` when the Team page does not list them.
pub async fn read_member(
    ui: &Ui,
    email: &str,
) -> Result<Option<(Element, MemberState)>, FlowError> {
    // The list refreshes after every change, so a row can go stale while it is read; a stale
    // read is retried with a fresh search.
    for _ in 0..3 {
        match search_row(ui, email).await {
            Err(FlowError::Ui(QueryError::WebDriver { source, .. }))
                if source.is_stale_element_reference() => {}
            other => return other,
        }
    }
    Err(FlowError::Ui(QueryError::Timeout {
        what: format!("a stable row for {email}"),
        waited: ui.timeout(),
    }))
}

/// After a change, waits for the list to re-render (the `marker`, an element of the old
/// rendering, goes stale) and reads the member from the new rows without searching again.
/// `Ok(None)` when the new rows do not list `email`.
pub async fn reread_after_change(
    ui: &Ui,
    marker: Option<Element>,
    email: &str,
) -> Result<Option<MemberState>, FlowError> {
    wait_for_rerender(ui, marker).await?;
    wait_for_table(ui).await?;
    let rows = ui.all("team.rows", None).await?;
    let states = read_rows(ui, &rows).await?;
    Ok(states
        .into_iter()
        .find(|state| state.email.eq_ignore_ascii_case(email)))
}

/// Reads every member over all pages (the status filter should show all first).
pub async fn read_all(
    ui: &Ui,
    mut progress: impl FnMut(usize),
) -> Result<Vec<MemberState>, FlowError> {
    let mut members = Vec::new();
    loop {
        let rows = ui.all("team.rows", None).await?;
        members.extend(read_rows(ui, &rows).await?);
        progress(members.len());
        if !next_page(ui, rows.into_iter().next()).await? {
            break;
        }
    }
    Ok(members)
}
