//! The Team page: opening it from the sidebar, showing every status, finding a member's row by
//! email, and reading what a row shows.

use fantoccini::elements::Element;

use super::{FlowError, MemberState, Role, Status};
use crate::browser::query::{QueryError, Ui, ViewportRect};

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
    read_table(ui, None).await.map(|_| ())
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
    match ui
        .wait_in_page(
            "the member table to re-render",
            GONE_SCRIPT,
            vec![Ui::arg(&marker)?],
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(QueryError::WebDriver { source, .. }) if is_gone(&source) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether WebDriver refused an element argument because it left the page.
fn is_gone(e: &fantoccini::error::CmdError) -> bool {
    e.is_stale_element_reference() || e.is_no_such_element()
}

/// Waits in the page until `args[0]` has left it.
const GONE_SCRIPT: &str = "const check = () => (args[0].isConnected ? undefined : true);";

/// Waits in the page until the table has re-rendered (`marker`, an element of an earlier
/// rendering or `null`, has left the page), no spinner is left and it shows rows or its empty
/// row; then reads every row's cells, rectangle and the page's address, all at one moment. A
/// sign-in form instead (the session ended and the app went to sign in) answers at once, so the
/// session is renewed now rather than after the wait's deadline.
const TABLE_SCRIPT: &str = r#"
const [marker, rowsSpec, emptySpec, spinnerSpec, cellSpecs, signInSpec] = args;
const check = () => {
  if (lookup(document, signInSpec).length) return { signedOut: location.href };
  if (marker && marker.isConnected) return;
  if (lookup(document, spinnerSpec).length) return;
  const rows = lookup(document, rowsSpec);
  const empty = rows.length ? null : lookup(document, emptySpec)[0];
  if (!rows.length && !empty) return;
  return {
    rows,
    empty: empty || null,
    cells: cellSpecs.map((spec) => rows.map((row) => texts(row, spec))),
    rects: rows.map(rect),
    url: location.href,
  };
};
"#;

/// The cells [`read_rows`] and [`read_table`] read, in the order [`states_from`] takes them.
const ROW_CELLS: [&str; 5] = [
    "team.row_email",
    "team.row_name",
    "team.row_pending_tag",
    "team.row_inactive_name",
    "team.row_role_labels",
];

/// The member table as one page script read it, at one moment.
#[derive(Debug, Clone)]
pub struct Table {
    /// The rows, in order.
    pub rows: Vec<Element>,
    /// What each row shows.
    pub states: Vec<MemberState>,
    /// Each row's rectangle in the viewport, in CSS pixels.
    pub rects: Vec<ViewportRect>,
    /// The page's address.
    pub url: String,
    /// The table's empty row, when it has no rows.
    empty: Option<Element>,
}

impl Table {
    /// An element of this rendering (a row, else the empty row); it leaves the page when the
    /// table re-renders.
    pub fn marker(&self) -> Option<Element> {
        self.rows.first().or(self.empty.as_ref()).cloned()
    }

    /// The row listing `email` (case-insensitive) and what it shows.
    pub fn member(&self, email: &str) -> Option<(Element, MemberState)> {
        let wanted = email.trim().to_lowercase();
        self.rows
            .iter()
            .zip(&self.states)
            .find(|(_, state)| state.email.to_lowercase() == wanted)
            .map(|(row, state)| (row.clone(), state.clone()))
    }

    /// For evidence: the rectangle of the row listing `email`, and with `others` those of every
    /// other row (to mask them), as they were when the table was read.
    pub fn geometry(&self, email: &str, others: bool) -> (Option<ViewportRect>, Vec<ViewportRect>) {
        let wanted = email.trim().to_lowercase();
        let mut target = None;
        let mut rest = Vec::new();
        for (state, rect) in self.states.iter().zip(&self.rects) {
            if target.is_none() && state.email.to_lowercase() == wanted {
                target = Some(*rect);
            } else if others {
                rest.push(*rect);
            }
        }
        (target, rest)
    }
}

/// Waits until the table has re-rendered (if `marker`, an element of an earlier rendering, is
/// given), no spinner is left and it shows rows or its empty row, and reads it: one WebDriver
/// command for the wait, the rows, their cells and their rectangles (see `TABLE_SCRIPT`).
pub async fn read_table(ui: &Ui, marker: Option<Element>) -> Result<Table, FlowError> {
    let mut cells = Vec::with_capacity(ROW_CELLS.len());
    for name in ROW_CELLS {
        cells.push(ui.spec(name)?);
    }
    let specs = vec![
        ui.spec("team.rows")?,
        ui.spec("team.empty")?,
        ui.spec("shell.spinner")?,
        serde_json::Value::Array(cells),
        ui.spec("login.email_input")?,
    ];
    let what = if marker.is_some() {
        "the member table to re-render and load"
    } else {
        "the member table to load"
    };
    let marker_arg = match &marker {
        Some(m) => Ui::arg(m)?,
        None => serde_json::Value::Null,
    };
    let mut args = vec![marker_arg];
    args.extend(specs.iter().cloned());
    let value = match ui.wait_in_page(what, TABLE_SCRIPT, args).await {
        // The marker left the page before the script could take it: re-rendered already.
        Err(QueryError::WebDriver { source, .. }) if marker.is_some() && is_gone(&source) => {
            let mut args = vec![serde_json::Value::Null];
            args.extend(specs);
            ui.wait_in_page(what, TABLE_SCRIPT, args).await?
        }
        other => other?,
    };
    if value.get("signedOut").is_some() {
        return Err(FlowError::SignIn(
            "the session ended: the page went to the sign-in form".into(),
        ));
    }
    let bad = |e: serde_json::Error| QueryError::Script {
        what: what.to_string(),
        message: format!("unexpected answer: {e}"),
    };
    let rows: Vec<Element> = value["rows"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| ui.element_in(r)).collect())
        .unwrap_or_default();
    let cells: Vec<Vec<Option<Vec<String>>>> =
        serde_json::from_value(value["cells"].clone()).map_err(bad)?;
    let rects: Vec<ViewportRect> = serde_json::from_value(value["rects"].clone()).map_err(bad)?;
    let states = states_from(ui, rows.len(), cells)?;
    Ok(Table {
        rows,
        states,
        rects,
        url: value["url"].as_str().unwrap_or_default().to_string(),
        empty: ui.element_in(&value["empty"]),
    })
}

/// The outcome of searching the list for one address.
#[derive(Debug, Clone)]
pub struct Search {
    /// The member's row and what it shows, if the list has them.
    pub member: Option<(Element, MemberState)>,
    /// The (last) page of results read, with the member's row if found.
    pub table: Table,
}

/// Searches the list for `email`; returns its row and what the row shows (or `None` when the
/// UI lists no such member) with the results read.
async fn search_row(ui: &Ui, email: &str) -> Result<Search, FlowError> {
    let wanted = email.trim().to_lowercase();
    let marker = generation_marker(ui).await?;
    // Enter applies the search at once instead of after the typing debounce.
    ui.fill("team.search", None, &format!("{wanted}\u{E007}"))
        .await?;
    let mut table = read_table(ui, marker).await?;
    // A search term also matches longer addresses (`ann@` is in `joann@`), and others may
    // invite such people at any moment: with more than a page of matches, the member can be on
    // a later page.
    for _ in 0..MAX_SEARCH_PAGES {
        if let Some(found) = table.member(&wanted) {
            return Ok(Search {
                member: Some(found),
                table,
            });
        }
        match next_page(ui, &table).await? {
            Some(next) => table = next,
            None => break,
        }
    }
    Ok(Search {
        member: None,
        table,
    })
}

/// How many pages of search results are looked through for one address.
const MAX_SEARCH_PAGES: usize = 20;

/// Goes to the next page of the list when there is one, and reads it; `None` on the last page
/// (or when `table` has no rows).
async fn next_page(ui: &Ui, table: &Table) -> Result<Option<Table>, FlowError> {
    let Some(marker) = table.rows.first().cloned() else {
        return Ok(None);
    };
    let Some(next) = ui.optional("team.next_page", None).await? else {
        return Ok(None);
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
        return Ok(None);
    }
    // Paging only reads; the page that follows is waited for and read below.
    ui.pointer_click(&next, "'team.next_page'").await?;
    Ok(Some(read_table(ui, Some(marker)).await?))
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
    let cells = ui.texts_in_each(rows, &ROW_CELLS).await?;
    states_from(ui, rows.len(), cells)
}

/// What `count` rows show, from their [`ROW_CELLS`] texts (one list per cell, one entry per row).
fn states_from(
    ui: &Ui,
    count: usize,
    cells: Vec<Vec<Option<Vec<String>>>>,
) -> Result<Vec<MemberState>, FlowError> {
    let first = |texts: &Option<Vec<String>>| texts.as_ref().and_then(|t| t.first().cloned());
    let mut cells = cells.into_iter();
    let mut next = || cells.next().unwrap_or_default();
    let (emails, names, pending, inactive, roles) = (next(), next(), next(), next(), next());
    if count == 0 {
        return Ok(Vec::new());
    }
    if [&emails, &names, &pending, &inactive, &roles]
        .iter()
        .any(|list| list.len() != count)
    {
        return Err(missing_in_row(ui, "team.row_email"));
    }
    let mut states = Vec::with_capacity(count);
    for i in 0..count {
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
    Ok(look_up(ui, email).await?.member)
}

/// Searches for the member with `email` and reads the results: the member's row and state if
/// listed, and the table read (for the evidence's geometry).
pub async fn look_up(ui: &Ui, email: &str) -> Result<Search, FlowError> {
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
/// rendering, leaves the page) and reads the new rows without searching again.
pub async fn reread_after_change(ui: &Ui, marker: Option<Element>) -> Result<Table, FlowError> {
    read_table(ui, marker).await
}

/// Reads every member over all pages (the status filter should show all first).
pub async fn read_all(
    ui: &Ui,
    mut progress: impl FnMut(usize),
) -> Result<Vec<MemberState>, FlowError> {
    let mut members = Vec::new();
    let mut table = read_table(ui, None).await?;
    loop {
        members.extend(table.states.iter().cloned());
        progress(members.len());
        match next_page(ui, &table).await? {
            Some(next) => table = next,
            None => break,
        }
    }
    Ok(members)
}
