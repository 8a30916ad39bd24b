//! The query primitive: finds catalog elements by their ordered candidates, polling at a short
//! interval until a deadline (never a fixed sleep), requiring exactly one match unless the catalog
//! says `multiple`, and retrying stale or not-yet-interactable elements. When it gives up it names
//! the logical element and every locator it tried.
//!
//! It also counts the WebDriver commands it sends, for the benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::elements::Element as WebElement;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator as WdLocator};

use crate::selectors::{Catalog, Element as CatalogElement, Locator, Using};

/// How often a wait re-checks the page.
pub const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Default deadline of a wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A query gave up or WebDriver failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No candidate matched before the deadline.
    #[error("UI element '{element}' ({description}) not found after {waited:.1?}; tried: {}", tried.join("; "))]
    NotFound {
        /// Logical name.
        element: String,
        /// Its description from the catalog.
        description: String,
        /// Every locator tried, in order.
        tried: Vec<String>,
        /// How long it waited.
        waited: Duration,
    },
    /// A candidate matched more than one visible element where one was required.
    #[error("UI element '{element}' is ambiguous: {locator} matched {count} visible elements")]
    Ambiguous {
        /// Logical name.
        element: String,
        /// The locator that matched too much.
        locator: String,
        /// How many visible matches.
        count: usize,
    },
    /// A wait for a condition (not an element) ran out.
    #[error("timed out after {waited:.1?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
    /// The flow asked for an element the catalog lacks (checked at start, so a bug).
    #[error("the selector catalog has no element '{0}'")]
    UnknownElement(String),
    /// WebDriver itself failed (session gone, browser crashed, ...).
    #[error("WebDriver failed while {doing}")]
    WebDriver {
        /// What the agent was doing.
        doing: String,
        /// The WebDriver error.
        #[source]
        source: CmdError,
    },
}

impl QueryError {
    /// Whether the browser session itself is gone (driver or browser died, connection lost), as
    /// opposed to the page not behaving as the catalog expects.
    pub fn is_session_lost(&self) -> bool {
        let QueryError::WebDriver { source, .. } = self else {
            return false;
        };
        matches!(
            source,
            CmdError::Lost(_) | CmdError::Failed(_) | CmdError::FailedC(_) | CmdError::NotJson(_)
        ) || source.is_invalid_session_id()
            || source.is_no_such_window()
            || source.is_session_not_created()
            || browser_gone(source)
    }

    /// Whether the UI did not match the catalog (exit code 5), as opposed to a WebDriver failure.
    pub fn is_ui_mismatch(&self) -> bool {
        matches!(
            self,
            QueryError::NotFound { .. }
                | QueryError::Ambiguous { .. }
                | QueryError::UnknownElement(_)
        )
    }
}

/// A driver's "unknown error" that means its browser is gone (geckodriver lost Marionette,
/// chromedriver lost Chrome).
fn browser_gone(e: &CmdError) -> bool {
    let CmdError::Standard(w) = e else {
        return false;
    };
    if w.error != fantoccini::error::ErrorStatus::UnknownError {
        return false;
    }
    let message = w.message.to_lowercase();
    [
        "marionette",
        "not reachable",
        "disconnected",
        "session deleted",
        "browsing context has been discarded",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// Errors worth another try with a fresh lookup: the page re-rendered or is animating.
fn is_transient(e: &CmdError) -> bool {
    e.is_stale_element_reference()
        || e.is_element_not_interactable()
        || e.is_invalid_element_state()
        || e.is_no_such_element()
        || matches!(e, CmdError::Standard(w) if w.error == fantoccini::error::ErrorStatus::ElementClickIntercepted)
}

/// Reads texts inside each scope element with the catalog's candidates, in order (see
/// [`Ui::texts_in`]). `innerText` is the rendered text, as WebDriver's "get element text".
const TEXTS_IN_SCRIPT: &str = r#"
const [scopes, lists] = arguments;
const read = (scope, candidates) => {
  for (const c of candidates) {
    let nodes = [];
    if (c.xpath) {
      const r = document.evaluate(c.query, scope, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      for (let i = 0; i < r.snapshotLength; i++) nodes.push(r.snapshotItem(i));
    } else {
      nodes = Array.from(scope.querySelectorAll(c.query));
    }
    if (nodes.length) return nodes.map((n) => (n.innerText || n.textContent || '').trim());
  }
  return null;
};
return lists.map((candidates) => scopes.map((scope) => read(scope, candidates)));
"#;

/// Finds, among the matches of a catalog element (rows), the one whose cell (another catalog
/// element) reads a given text, and returns its viewport rectangle and, if asked, those of the
/// others (see [`Ui::row_geometry`]).
const ROW_GEOMETRY_SCRIPT: &str = r#"
const [rows, candidates, wanted, others] = arguments;
const cellText = (row) => {
  for (const c of candidates) {
    const node = c.xpath
      ? document.evaluate(c.query, row, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue
      : row.querySelector(c.query);
    if (node) return (node.innerText || node.textContent || '').trim().toLowerCase();
  }
  return '';
};
const rect = (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
let target = null;
const rest = [];
for (const row of rows) {
  if (target === null && cellText(row) === wanted) target = rect(row);
  else if (others) rest.push(rect(row));
}
return { target, rest };
"#;

/// A rectangle in CSS pixels of the viewport: x, y, width, height.
pub type ViewportRect = [f64; 4];

/// A browser session with the catalog: every lookup and action of the flows goes through here.
#[derive(Clone)]
pub struct Ui {
    client: Client,
    catalog: Arc<Catalog>,
    commands: Arc<AtomicU64>,
    timeout: Duration,
}

/// A match: the element and which candidate found it (0 = first choice).
#[derive(Debug, Clone)]
pub struct Found {
    /// The element.
    pub element: WebElement,
    /// Index of the candidate that matched.
    pub candidate: usize,
}

/// What one candidate of a catalog element matched in one pass (see [`Ui::probe_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateProbe {
    /// Index among the element's candidates (0 = first choice).
    pub index: usize,
    /// How the locator reads in messages, e.g. `text "Team" in <a>`.
    pub locator: String,
    /// How many nodes it matched.
    pub matches: usize,
    /// How many of those are displayed; `None` where the lookup does not look (a single match,
    /// or any number for a `multiple` element: those are taken as they are).
    pub visible: Option<usize>,
}

/// One pass over a catalog element's candidates, as [`Ui::find`] and [`Ui::all`] make it, with
/// what each candidate matched (see [`Ui::probe_all`]).
#[derive(Debug, Clone)]
pub struct ProbeResult {
    /// Logical name.
    pub element: String,
    /// Whether the catalog expects many matches.
    pub multiple: bool,
    /// The candidates probed, in order, up to and including the one the lookup takes (all of
    /// them when none matched).
    pub candidates: Vec<CandidateProbe>,
    /// The candidate the lookup takes, if any matched.
    pub chosen: Option<usize>,
    /// What the lookup gets from that candidate (the visible matches where several matched).
    pub found: Vec<WebElement>,
}

impl ProbeResult {
    /// More than one visible match where the catalog requires one.
    pub fn is_ambiguous(&self) -> bool {
        !self.multiple && self.found.len() > 1
    }

    /// The element a required lookup would return: exactly one match (or, for a `multiple`
    /// element, the first of them).
    pub fn single(&self) -> Option<&WebElement> {
        if self.is_ambiguous() {
            None
        } else {
            self.found.first()
        }
    }
}

impl Ui {
    /// Wraps a session.
    pub fn new(client: Client, catalog: Arc<Catalog>) -> Self {
        Ui {
            client,
            catalog,
            commands: Arc::new(AtomicU64::new(0)),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same session with another default deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The default deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The WebDriver client (for navigation and screenshots; counted by the caller via [`Ui::count`]).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// WebDriver commands sent so far.
    pub fn commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    /// Counts `n` commands sent outside this type.
    pub fn count(&self, n: u64) {
        self.commands.fetch_add(n, Ordering::Relaxed);
    }

    fn element(&self, name: &str) -> Result<&CatalogElement, QueryError> {
        self.catalog
            .get(name)
            .ok_or_else(|| QueryError::UnknownElement(name.to_string()))
    }

    fn wd_error(doing: impl Into<String>) -> impl FnOnce(CmdError) -> QueryError {
        let doing = doing.into();
        move |source| QueryError::WebDriver { doing, source }
    }

    async fn find_all_raw(
        &self,
        scope: Option<&WebElement>,
        locator: &Locator,
    ) -> Result<Vec<WebElement>, CmdError> {
        self.count(1);
        let wd = match locator.using {
            Using::Css => WdLocator::Css(&locator.query),
            Using::XPath => WdLocator::XPath(&locator.query),
        };
        let result = match scope {
            Some(parent) => parent.find_all(wd).await,
            None => self.client.find_all(wd).await,
        };
        match result {
            Err(e) if e.is_no_such_element() => Ok(Vec::new()),
            other => other,
        }
    }

    /// One pass over the candidates: the first candidate with visible matches wins.
    /// `Ok(None)` means nothing visible matched (yet).
    async fn probe(
        &self,
        scope: Option<&WebElement>,
        spec: &CatalogElement,
    ) -> Result<Option<(usize, Vec<WebElement>)>, CmdError> {
        for (index, locator) in spec.candidates.iter().enumerate() {
            let matches = self.find_all_raw(scope, locator).await?;
            if matches.is_empty() {
                continue;
            }
            // One match is taken as is (checking visibility costs a command per element), and so
            // are the matches of a `multiple` element (rows); where one is required and several
            // match, only the visible ones count (closing dialogs and hidden templates linger).
            if matches.len() == 1 || spec.multiple {
                return Ok(Some((index, matches)));
            }
            let mut visible = Vec::with_capacity(matches.len());
            for element in matches {
                self.count(1);
                match element.is_displayed().await {
                    Ok(true) => visible.push(element),
                    Ok(false) => {}
                    Err(e) if e.is_stale_element_reference() => {}
                    Err(e) => return Err(e),
                }
            }
            if !visible.is_empty() {
                return Ok(Some((index, visible)));
            }
        }
        Ok(None)
    }

    /// Waits for exactly one visible match of `name` (inside `scope` if given).
    pub async fn find(&self, name: &str, scope: Option<&WebElement>) -> Result<Found, QueryError> {
        self.find_within(name, scope, self.timeout).await
    }

    /// Like [`Ui::find`] with an explicit deadline.
    pub async fn find_within(
        &self,
        name: &str,
        scope: Option<&WebElement>,
        timeout: Duration,
    ) -> Result<Found, QueryError> {
        let spec = self.element(name)?;
        let started = Instant::now();
        let mut ambiguous: Option<(usize, usize)> = None;
        loop {
            match self.probe(scope, spec).await {
                Ok(Some((index, mut matches))) => {
                    if matches.len() == 1 || spec.multiple {
                        return Ok(Found {
                            element: matches.swap_remove(0),
                            candidate: index,
                        });
                    }
                    ambiguous = Some((index, matches.len()));
                }
                Ok(None) => ambiguous = None,
                // A stale scope stays stale: the caller must look it up again.
                Err(e) if e.is_stale_element_reference() && scope.is_some() => {
                    return Err(Self::wd_error(format!(
                        "looking for '{name}' in a re-rendered element"
                    ))(e))
                }
                Err(e) if is_transient(&e) => {
                    tracing::trace!(element = name, "lookup retried: {e}");
                }
                Err(e) => return Err(Self::wd_error(format!("looking for '{name}'"))(e)),
            }
            if started.elapsed() >= timeout {
                return Err(match ambiguous {
                    Some((index, count)) => QueryError::Ambiguous {
                        element: name.to_string(),
                        locator: spec.candidates[index].label.clone(),
                        count,
                    },
                    None => QueryError::NotFound {
                        element: name.to_string(),
                        description: spec.description.clone(),
                        tried: spec.candidates.iter().map(|c| c.label.clone()).collect(),
                        waited: started.elapsed(),
                    },
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Every visible match of `name` right now (no waiting); empty when none.
    pub async fn all(
        &self,
        name: &str,
        scope: Option<&WebElement>,
    ) -> Result<Vec<WebElement>, QueryError> {
        let spec = self.element(name)?;
        match self.probe(scope, spec).await {
            Ok(Some((_, matches))) => Ok(matches),
            Ok(None) => Ok(Vec::new()),
            Err(e) if e.is_stale_element_reference() => Ok(Vec::new()),
            Err(e) => Err(Self::wd_error(format!("looking for '{name}'"))(e)),
        }
    }

    /// The single visible match of `name` right now, or `None` (no waiting).
    pub async fn optional(
        &self,
        name: &str,
        scope: Option<&WebElement>,
    ) -> Result<Option<WebElement>, QueryError> {
        Ok(self.all(name, scope).await?.into_iter().next())
    }

    /// One pass over the candidates of `name` right now (no waiting), like the lookups make it,
    /// reporting per candidate how many nodes matched and how many are visible: the first
    /// candidate with matches wins (with several matches of a required element, only visible
    /// ones count, and a candidate whose matches are all hidden is passed over). Used by
    /// `selectors check` to tell a first choice from a fallback, an ambiguity and a miss.
    pub async fn probe_all(
        &self,
        name: &str,
        scope: Option<&WebElement>,
    ) -> Result<ProbeResult, QueryError> {
        let spec = self.element(name)?;
        let wd = |e| Self::wd_error(format!("looking for '{name}'"))(e);
        let mut result = ProbeResult {
            element: name.to_string(),
            multiple: spec.multiple,
            candidates: Vec::new(),
            chosen: None,
            found: Vec::new(),
        };
        for (index, locator) in spec.candidates.iter().enumerate() {
            let matches = self.find_all_raw(scope, locator).await.map_err(wd)?;
            let mut probe = CandidateProbe {
                index,
                locator: locator.label.clone(),
                matches: matches.len(),
                visible: None,
            };
            if matches.is_empty() {
                result.candidates.push(probe);
                continue;
            }
            if matches.len() == 1 || spec.multiple {
                result.candidates.push(probe);
                result.chosen = Some(index);
                result.found = matches;
                return Ok(result);
            }
            let mut visible = Vec::with_capacity(matches.len());
            for element in matches {
                self.count(1);
                match element.is_displayed().await {
                    Ok(true) => visible.push(element),
                    Ok(false) => {}
                    Err(e) if e.is_stale_element_reference() => {}
                    Err(e) => return Err(wd(e)),
                }
            }
            probe.visible = Some(visible.len());
            result.candidates.push(probe);
            if !visible.is_empty() {
                result.chosen = Some(index);
                result.found = visible;
                return Ok(result);
            }
        }
        Ok(result)
    }

    /// Waits until nothing visible matches `name`.
    pub async fn gone(&self, name: &str, scope: Option<&WebElement>) -> Result<(), QueryError> {
        let started = Instant::now();
        loop {
            if self.all(name, scope).await?.is_empty() {
                return Ok(());
            }
            if started.elapsed() >= self.timeout {
                return Err(QueryError::Timeout {
                    what: format!("'{name}' to disappear"),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Finds `name` and clicks it, looking it up again if it went stale or was not yet
    /// clickable (an animating dialog, a re-rendered row).
    pub async fn click(&self, name: &str, scope: Option<&WebElement>) -> Result<(), QueryError> {
        let started = Instant::now();
        loop {
            let found = self.find(name, scope).await?;
            self.count(1);
            match found.element.click().await {
                Ok(()) => return Ok(()),
                Err(e) if is_transient(&e) && started.elapsed() < self.timeout => {
                    tracing::debug!(element = name, "click retried: {e}");
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(e) => return Err(Self::wd_error(format!("clicking '{name}'"))(e)),
            }
        }
    }

    /// Clicks an element already found, retrying only while it is not yet interactable.
    pub async fn click_element(&self, element: &WebElement, what: &str) -> Result<(), QueryError> {
        let started = Instant::now();
        loop {
            self.count(1);
            match element.click().await {
                Ok(()) => return Ok(()),
                Err(e)
                    if (e.is_element_not_interactable()
                        || matches!(&e, CmdError::Standard(w) if w.error == fantoccini::error::ErrorStatus::ElementClickIntercepted))
                        && started.elapsed() < self.timeout =>
                {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(e) => return Err(Self::wd_error(format!("clicking {what}"))(e)),
            }
        }
    }

    /// Finds `name`, clears it and types `text`, retrying a stale or not-yet-interactable field.
    pub async fn fill(
        &self,
        name: &str,
        scope: Option<&WebElement>,
        text: &str,
    ) -> Result<(), QueryError> {
        let started = Instant::now();
        loop {
            let found = self.find(name, scope).await?;
            self.count(2);
            let result = match found.element.clear().await {
                Ok(()) => found.element.send_keys(text).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if is_transient(&e) && started.elapsed() < self.timeout => {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                // The error never carries the text typed: it may be a secret.
                Err(e) => return Err(Self::wd_error(format!("typing into '{name}'"))(e)),
            }
        }
    }

    /// For each of `scopes` (e.g. table rows), the texts of the matches of catalog element
    /// `name` inside it, by the first candidate that matches there; `None` where none does.
    /// One WebDriver command for all scopes, where reading cell by cell costs two per cell.
    pub async fn texts_in(
        &self,
        scopes: &[WebElement],
        name: &str,
    ) -> Result<Vec<Option<Vec<String>>>, QueryError> {
        Ok(self
            .texts_in_each(scopes, &[name])
            .await?
            .pop()
            .unwrap_or_default())
    }

    /// [`Ui::texts_in`] for several elements at once (one WebDriver command in all): the result
    /// has one entry per name, each with one entry per scope.
    pub async fn texts_in_each(
        &self,
        scopes: &[WebElement],
        names: &[&str],
    ) -> Result<Vec<Vec<Option<Vec<String>>>>, QueryError> {
        if scopes.is_empty() {
            return Ok(names.iter().map(|_| Vec::new()).collect());
        }
        let mut lists = Vec::with_capacity(names.len());
        for name in names {
            let spec = self.element(name)?;
            let candidates: Vec<serde_json::Value> = spec
                .candidates
                .iter()
                .map(|c| serde_json::json!({"xpath": c.using == Using::XPath, "query": c.query}))
                .collect();
            lists.push(serde_json::Value::Array(candidates));
        }
        let elements = serde_json::to_value(scopes).map_err(|e| QueryError::Timeout {
            what: format!("encoding element references: {e}"),
            waited: Duration::ZERO,
        })?;
        let value = self
            .execute(
                TEXTS_IN_SCRIPT,
                vec![elements, serde_json::Value::Array(lists)],
            )
            .await?;
        serde_json::from_value(value).map_err(|e| QueryError::Timeout {
            what: format!("reading the texts of {}: {e}", names.join(", ")),
            waited: Duration::ZERO,
        })
    }

    /// The viewport rectangle of the `rows` match whose `cell` reads `wanted` (case-insensitive),
    /// and with `others` those of every other match (to mask other people's rows in evidence).
    /// Two WebDriver commands.
    pub async fn row_geometry(
        &self,
        rows: &str,
        cell: &str,
        wanted: &str,
        others: bool,
    ) -> Result<(Option<ViewportRect>, Vec<ViewportRect>), QueryError> {
        let matches = self.all(rows, None).await?;
        if matches.is_empty() {
            return Ok((None, Vec::new()));
        }
        let spec = self.element(cell)?;
        let candidates: Vec<serde_json::Value> = spec
            .candidates
            .iter()
            .map(|c| serde_json::json!({"xpath": c.using == Using::XPath, "query": c.query}))
            .collect();
        let elements = serde_json::to_value(&matches).map_err(|e| QueryError::Timeout {
            what: format!("encoding element references: {e}"),
            waited: Duration::ZERO,
        })?;
        let value = self
            .execute(
                ROW_GEOMETRY_SCRIPT,
                vec![
                    elements,
                    serde_json::Value::Array(candidates),
                    serde_json::Value::String(wanted.trim().to_lowercase()),
                    serde_json::Value::Bool(others),
                ],
            )
            .await?;
        let target: Option<ViewportRect> =
            serde_json::from_value(value["target"].clone()).unwrap_or(None);
        let rest: Vec<ViewportRect> =
            serde_json::from_value(value["rest"].clone()).unwrap_or_default();
        Ok((target, rest))
    }

    /// The page's title.
    pub async fn title(&self) -> Result<String, QueryError> {
        self.count(1);
        self.client
            .title()
            .await
            .map_err(Self::wd_error("reading the page title"))
    }

    /// The page's HTML source.
    pub async fn source(&self) -> Result<String, QueryError> {
        self.count(1);
        self.client
            .source()
            .await
            .map_err(Self::wd_error("reading the page source"))
    }

    /// The visible text of an element (stale → error for the caller to retry its lookup).
    pub async fn text(&self, element: &WebElement) -> Result<String, CmdError> {
        self.count(1);
        element.text().await
    }

    /// Polls `check` until it yields `Some`, or gives up after the default deadline.
    pub async fn wait_until<T, F, Fut>(&self, what: &str, mut check: F) -> Result<T, QueryError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, QueryError>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await? {
                return Ok(value);
            }
            if started.elapsed() >= self.timeout {
                return Err(QueryError::Timeout {
                    what: what.to_string(),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) -> Result<(), QueryError> {
        self.count(1);
        self.client
            .goto(url)
            .await
            .map_err(Self::wd_error(format!("opening {url}")))
    }

    /// The current URL.
    pub async fn current_url(&self) -> Result<url::Url, QueryError> {
        self.count(1);
        self.client
            .current_url()
            .await
            .map_err(Self::wd_error("reading the current URL"))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, QueryError> {
        self.count(1);
        self.client
            .screenshot()
            .await
            .map_err(Self::wd_error("taking a screenshot"))
    }

    /// Runs a script in the page (used for localStorage, never for clicking).
    pub async fn execute(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, QueryError> {
        self.count(1);
        self.client
            .execute(script, args)
            .await
            .map_err(Self::wd_error("running a page script"))
    }
}
