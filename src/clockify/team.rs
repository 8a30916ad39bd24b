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
async fn generation_marker(ui: &Ui) -> Result<Option<Element>, FlowError> {
    if let Some(row) = ui.optional("team.rows", None).await? {
        return Ok(Some(row));
    }
    Ok(ui.optional("team.empty", None).await?)
}

/// Waits until `marker` (from [`generation_marker`]) is gone from the page.
async fn wait_for_rerender(ui: &Ui, marker: Option<Element>) -> Result<(), FlowError> {
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

/// Searches the list for `email` and returns its row, or `None` when the UI lists no such member.
pub async fn find_row(ui: &Ui, email: &str) -> Result<Option<Element>, FlowError> {
    let wanted = email.trim().to_lowercase();
    let marker = generation_marker(ui).await?;
    // Enter applies the search at once instead of after the typing debounce.
    ui.fill("team.search", None, &format!("{wanted}\u{E007}"))
        .await?;
    wait_for_rerender(ui, marker).await?;
    wait_for_table(ui).await?;
    for row in ui.all("team.rows", None).await? {
        if row_email(ui, &row).await?.to_lowercase() == wanted {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// The email a row shows.
pub async fn row_email(ui: &Ui, row: &Element) -> Result<String, FlowError> {
    let cell = ui.find("team.row_email", Some(row)).await?;
    let text = ui
        .text(&cell.element)
        .await
        .map_err(|source| QueryError::WebDriver {
            doing: "reading a row's email".into(),
            source,
        })?;
    Ok(text.trim().to_string())
}

/// Reads what a row shows: email, name, status and roles.
pub async fn read_row(ui: &Ui, row: &Element) -> Result<MemberState, FlowError> {
    let wd = |doing: &str| {
        let doing = doing.to_string();
        move |source| QueryError::WebDriver { doing, source }
    };
    let email = row_email(ui, row).await?;
    let name_cell = ui.find("team.row_name", Some(row)).await?;
    let name = ui
        .text(&name_cell.element)
        .await
        .map_err(wd("reading a row's name"))?
        .trim()
        .to_string();
    let status = if ui
        .optional("team.row_pending_tag", Some(row))
        .await?
        .is_some()
    {
        Status::Pending
    } else if ui
        .optional("team.row_inactive_name", Some(row))
        .await?
        .is_some()
    {
        Status::Inactive
    } else {
        Status::Active
    };
    let mut roles = Vec::new();
    for label in ui.all("team.row_role_labels", Some(row)).await? {
        let text = ui.text(&label).await.map_err(wd("reading a role label"))?;
        if let Some(role) = Role::from_label(&text) {
            roles.push(role);
        }
    }
    roles.sort();
    roles.dedup();
    Ok(MemberState {
        email,
        name,
        status,
        roles,
    })
}

/// Finds and reads the member with `email`; `None` when the Team page does not list them.
pub async fn read_member(
    ui: &Ui,
    email: &str,
) -> Result<Option<(Element, MemberState)>, FlowError> {
    // A row found by search can be re-rendered while it is read (the list refreshes after every
    // change); a stale read is retried with a fresh search.
    for _ in 0..3 {
        let Some(row) = find_row(ui, email).await? else {
            return Ok(None);
        };
        match read_row(ui, &row).await {
            Ok(state) => return Ok(Some((row, state))),
            Err(FlowError::Ui(QueryError::WebDriver { source, .. }))
                if source.is_stale_element_reference() => {}
            Err(e) => return Err(e),
        }
    }
    Err(FlowError::Ui(QueryError::Timeout {
        what: format!("a stable row for {email}"),
        waited: ui.timeout(),
    }))
}

/// Reads every member over all pages (the status filter should show all first).
pub async fn read_all(
    ui: &Ui,
    mut progress: impl FnMut(usize),
) -> Result<Vec<MemberState>, FlowError> {
    let mut members = Vec::new();
    loop {
        let rows = ui.all("team.rows", None).await?;
        for row in &rows {
            members.push(read_row(ui, row).await?);
            progress(members.len());
        }
        let Some(next) = ui.optional("team.next_page", None).await? else {
            break;
        };
        ui.count(1);
        let enabled = next
            .is_enabled()
            .await
            .map_err(|source| QueryError::WebDriver {
                doing: "reading the next-page button".into(),
                source,
            })?;
        if !enabled || rows.is_empty() {
            break;
        }
        let marker = rows.into_iter().next();
        ui.click_element(&next, "'team.next_page'").await?;
        wait_for_rerender(ui, marker).await?;
        wait_for_table(ui).await?;
    }
    Ok(members)
}
