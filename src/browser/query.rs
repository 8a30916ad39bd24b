//! The query primitive: finds catalog elements by their ordered candidates, polling at a short
//! interval until a deadline (never a fixed sleep), requiring exactly one match unless the catalog
//! says `multiple`, and retrying stale or not-yet-interactable elements. When it gives up it names
//! the logical element and every locator it tried.
//!
//! Waits that would poll several lookups over WebDriver run in the page instead
//! ([`Ui::wait_in_page`]): one command that answers as soon as the page is ready.
//!
//! It also counts the WebDriver commands it sends, for the benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::elements::{Element as WebElement, ElementRef};
use fantoccini::error::{CmdError, ErrorStatus, WebDriver as WdError};
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
    /// A script waiting in the page failed (an exception in the page, not a timeout).
    #[error("the page script waiting for {what} failed: {message}")]
    Script {
        /// What was awaited.
        what: String,
        /// The exception's message.
        message: String,
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

/// The error WebDriver gives for an element that left the page, for one a page script saw leave
/// (the flows start an action over on it).
pub fn stale_error(what: &str) -> CmdError {
    CmdError::Standard(WdError::new(
        ErrorStatus::StaleElementReference,
        format!("{what} is no longer in the page"),
    ))
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

/// What every script of [`Ui::wait_in_page`] starts with: its arguments (`args`, without the two
/// the wait adds) and helpers that look catalog elements up as [`Ui::all`] and [`Ui::texts_in`] do
/// (a spec is `{multiple, candidates: [{xpath, query}]}`, see [`Ui::spec`]).
const PAGE_LIB: &str = r#"
const __done = arguments[arguments.length - 1];
const __limit = arguments[arguments.length - 2];
const args = Array.prototype.slice.call(arguments, 0, arguments.length - 2);
const nodesOf = (scope, c) => {
  if (!c.xpath) return Array.from(scope.querySelectorAll(c.query));
  const r = document.evaluate(c.query, scope, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
  const out = [];
  for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i));
  return out;
};
// Rendered and not transparent, itself and its ancestors: WebDriver's "displayed", near enough
// to pick among several matches and to see a dialog fade out.
const shown = (n) => {
  if (!n.isConnected || !n.getClientRects().length) return false;
  const style = getComputedStyle(n);
  if (style.visibility === 'hidden' || style.visibility === 'collapse') return false;
  for (let e = n; e && e.nodeType === 1; e = e.parentElement) {
    if (Number(getComputedStyle(e).opacity) === 0) return false;
  }
  return true;
};
// The matches of a catalog element: the first candidate with any; where one is required and
// several match, only the displayed ones count.
const lookup = (scope, spec) => {
  for (const c of spec.candidates) {
    const nodes = nodesOf(scope, c);
    if (!nodes.length) continue;
    if (nodes.length === 1 || spec.multiple) return nodes;
    const visible = nodes.filter(shown);
    if (visible.length) return visible;
  }
  return [];
};
const text = (n) => (n.innerText || n.textContent || '').trim();
// The texts of the first candidate matching inside `scope`, or null.
const texts = (scope, spec) => {
  for (const c of spec.candidates) {
    const nodes = nodesOf(scope, c);
    if (nodes.length) return nodes.map(text);
  }
  return null;
};
const rect = (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
// The centre of the part of `el`'s first box inside the viewport (where WebDriver clicks it):
// null when it is not rendered, undefined when no part of it is in the viewport.
const centre = (el) => {
  const r = el.getClientRects()[0];
  if (!r) return null;
  const x0 = Math.max(r.left, 0), x1 = Math.min(r.right, window.innerWidth);
  const y0 = Math.max(r.top, 0), y1 = Math.min(r.bottom, window.innerHeight);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return [Math.floor((x0 + x1) / 2), Math.floor((y0 + y1) / 2)];
};
// Whether the topmost element at `el`'s centre is `el` or inside it: nothing covers it and it
// takes pointer events (what WebDriver's element click checks before clicking).
const hits = (el) => {
  const c = centre(el);
  if (!c) return false;
  const hit = document.elementFromPoint(c[0], c[1]);
  return !!hit && (hit === el || el.contains(hit));
};
"#;

/// What every script of [`Ui::wait_in_page`] ends with: runs the script's `check()` now and every
/// 10 ms until it returns something (not `undefined` or `null`) or the wait's slice is over.
const PAGE_POLL: &str = r#"
const __started = performance.now();
const __tick = () => {
  let result;
  try {
    result = check();
  } catch (e) {
    __done({ error: String((e && e.message) || e) });
    return;
  }
  if (result !== undefined && result !== null) __done({ value: result });
  else if (performance.now() - __started >= __limit) __done({ pending: true });
  else setTimeout(__tick, 10);
};
__tick();
"#;

/// How long one [`Ui::wait_in_page`] command waits in the page before the agent asks again (far
/// below WebDriver's default script timeout of 30 s).
const PAGE_WAIT_SLICE: Duration = Duration::from_secs(2);

/// Whether an element can take a click now: `ready` when the topmost element at the centre of
/// its first box in the viewport is the element or inside it (nothing covers it and it takes
/// pointer events: the check WebDriver's element click makes before clicking) and, with `steady`,
/// no running animation or transition moves or resizes it or an ancestor (a pointer press and
/// release land a few milliseconds apart, so a moving target can be missed); `stale` when it left
/// the page; `outside` when no part of it is in the viewport (with `scroll`, even after scrolling
/// it into view); nothing (wait) while it is covered, animating or not rendered.
const CLICKABLE_SCRIPT: &str = r#"
const [el, scroll, steady] = args;
const MOVES = /^(transform|translate|scale|rotate|top|left|right|bottom|inset|margin|padding|width|height|all)/i;
const moving = () => document.getAnimations().some((a) => {
  const target = a.effect && a.effect.target;
  if (a.playState !== 'running' || !target || target.nodeType !== 1 || !target.contains(el)) return false;
  const props = a.transitionProperty
    ? [a.transitionProperty]
    : (a.effect.getKeyframes ? a.effect.getKeyframes().flatMap((k) => Object.keys(k)) : []);
  return props.some((p) => MOVES.test(p));
});
const check = () => {
  if (!el.isConnected) return 'stale';
  let c = centre(el);
  if (c === null) return;
  if (c === undefined) {
    if (!scroll) return 'outside';
    el.scrollIntoView({ block: 'center', inline: 'center' });
    c = centre(el);
    if (!c) return c === undefined ? 'outside' : undefined;
  }
  if (!hits(el)) return;
  if (steady && moving()) return;
  return 'ready';
};
"#;

/// Ticks or clears a checkbox by a click on `target` (the box or its label) in the page, once
/// nothing covers the target (as [`CLICKABLE_SCRIPT`]); answers the box's state afterwards, or
/// `stale`.
const CHECK_BY_CLICK_SCRIPT: &str = r#"
const [target, box, want] = args;
const check = () => {
  if (!target.isConnected || !box.isConnected) return 'stale';
  if (box.checked === want) return { checked: box.checked };
  if (!hits(target)) return;
  target.click();
  return { checked: box.checked };
};
"#;

/// The W3C key of an element reference in WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

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

    /// A catalog element as the page scripts of [`Ui::wait_in_page`] take it:
    /// `{multiple, candidates: [{xpath, query}]}`.
    pub fn spec(&self, name: &str) -> Result<serde_json::Value, QueryError> {
        let spec = self.element(name)?;
        let candidates: Vec<serde_json::Value> = spec
            .candidates
            .iter()
            .map(|c| serde_json::json!({"xpath": c.using == Using::XPath, "query": c.query}))
            .collect();
        Ok(serde_json::json!({"multiple": spec.multiple, "candidates": candidates}))
    }

    /// An element (or anything serializable) as a page script argument.
    pub fn arg(value: &impl serde::Serialize) -> Result<serde_json::Value, QueryError> {
        serde_json::to_value(value).map_err(|e| QueryError::Timeout {
            what: format!("encoding a page script argument: {e}"),
            waited: Duration::ZERO,
        })
    }

    /// The element a page script returned, if `value` is a WebDriver element reference.
    pub fn element_in(&self, value: &serde_json::Value) -> Option<WebElement> {
        let id = value.get(ELEMENT_KEY)?.as_str()?;
        Some(WebElement::from_element_id(
            self.client.clone(),
            ElementRef::from(id.to_string()),
        ))
    }

    /// Waits in the page, without polling over WebDriver: `script` defines `check()`, which the
    /// page runs now and every 10 ms until it returns something (not `undefined` or `null`),
    /// which is the result. It sees `args` as `args`, and the helpers of `PAGE_LIB` (catalog
    /// lookups as [`Ui::all`] makes them, texts as [`Ui::texts_in`] reads them, `shown`, `rect`).
    /// One WebDriver command per two seconds of waiting, where polling costs one per lookup every
    /// 25 ms, and it answers as soon as the page changes instead of at the next poll. Times out
    /// after the default deadline; an element argument that left the page fails with WebDriver's
    /// stale element error, as any use of it does.
    pub async fn wait_in_page(
        &self,
        what: &str,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, QueryError> {
        let started = Instant::now();
        match self
            .wait_in_page_within(what, script, args, self.timeout)
            .await?
        {
            Some(value) => Ok(value),
            None => Err(QueryError::Timeout {
                what: what.to_string(),
                waited: started.elapsed(),
            }),
        }
    }

    /// [`Ui::wait_in_page`] with a deadline of `timeout`; `None` when it passed.
    pub async fn wait_in_page_within(
        &self,
        what: &str,
        script: &str,
        args: Vec<serde_json::Value>,
        timeout: Duration,
    ) -> Result<Option<serde_json::Value>, QueryError> {
        let full = format!("{PAGE_LIB}{script}{PAGE_POLL}");
        let started = Instant::now();
        loop {
            let slice = timeout
                .saturating_sub(started.elapsed())
                .min(PAGE_WAIT_SLICE);
            let mut call = args.clone();
            call.push(serde_json::Value::from(slice.as_millis() as u64));
            self.count(1);
            let answer = self
                .client
                .execute_async(&full, call)
                .await
                .map_err(Self::wd_error(format!("waiting for {what}")))?;
            if let Some(value) = answer.get("value") {
                return Ok(Some(value.clone()));
            }
            if let Some(message) = answer.get("error") {
                return Err(QueryError::Script {
                    what: what.to_string(),
                    message: message.as_str().unwrap_or_default().to_string(),
                });
            }
            if started.elapsed() >= timeout {
                return Ok(None);
            }
        }
    }

    /// Waits (up to `within`) until the page shows nothing covering `element` (see
    /// [`CLICKABLE_SCRIPT`]): `ready`, `stale`, `outside`, or `None` when the time ran out.
    async fn clickable(
        &self,
        element: &WebElement,
        scroll: bool,
        steady: bool,
        within: Duration,
        what: &str,
    ) -> Result<Option<String>, QueryError> {
        let args = vec![
            Self::arg(element)?,
            serde_json::Value::Bool(scroll),
            serde_json::Value::Bool(steady),
        ];
        match self
            .wait_in_page_within(
                &format!("{what} to be clickable"),
                CLICKABLE_SCRIPT,
                args,
                within,
            )
            .await
        {
            Ok(state) => Ok(state.and_then(|v| v.as_str().map(str::to_string))),
            Err(QueryError::WebDriver { source, .. })
                if source.is_stale_element_reference() || source.is_no_such_element() =>
            {
                Ok(Some("stale".into()))
            }
            Err(e) => Err(e),
        }
    }

    /// A real mouse click on an element already found: WebDriver pointer actions (a trusted
    /// move, press and release at the element's centre, dispatched by the browser like a
    /// person's) as soon as the page shows nothing covering the element (the check WebDriver's
    /// element click makes too) and nothing moving it (press and release are dispatched a few
    /// milliseconds apart). WebDriver's element click then also waits for a navigation that may
    /// follow (about 60 ms in Firefox), which these clicks never start. For the clicks whose
    /// effect the flow checks next (a menu, a dialog or the next page opening); confirming and
    /// submitting clicks use [`Ui::click_element_when_clear`]. An element out of reach (or never
    /// clear before the deadline) gets [`Ui::click_element`], which scrolls and names what is in
    /// the way.
    pub async fn pointer_click(&self, element: &WebElement, what: &str) -> Result<(), QueryError> {
        let started = Instant::now();
        loop {
            let remaining = self.timeout.saturating_sub(started.elapsed());
            match self
                .clickable(element, true, true, remaining, what)
                .await?
                .as_deref()
            {
                Some("ready") => {}
                Some("stale") => {
                    return Err(Self::wd_error(format!("clicking {what}"))(stale_error(
                        what,
                    )))
                }
                _ => return self.click_element(element, what).await,
            }
            let actions = MouseActions::new("mouse".into())
                .then(PointerAction::MoveToElement {
                    element: element.clone(),
                    duration: Some(Duration::ZERO),
                    x: 0.0,
                    y: 0.0,
                })
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                });
            self.count(1);
            match self.client.perform_actions(actions).await {
                Ok(()) => return Ok(()),
                // Moved out of the viewport between the check and the click: check again.
                Err(CmdError::Standard(w))
                    if w.error == ErrorStatus::MoveTargetOutOfBounds
                        && started.elapsed() < self.timeout =>
                {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(e) => return Err(Self::wd_error(format!("clicking {what}"))(e)),
            }
        }
    }

    /// [`Ui::click`] with [`Ui::pointer_click`]: finds `name` and clicks it, looking it up again
    /// if it went stale (a stale `scope` is the caller's to look up again).
    pub async fn pointer_click_named(
        &self,
        name: &str,
        scope: Option<&WebElement>,
    ) -> Result<(), QueryError> {
        let started = Instant::now();
        loop {
            let found = self.find(name, scope).await?;
            match self
                .pointer_click(&found.element, &format!("'{name}'"))
                .await
            {
                Err(QueryError::WebDriver { source, .. })
                    if source.is_stale_element_reference() && started.elapsed() < self.timeout =>
                {
                    tracing::debug!(element = name, "click retried: {source}");
                }
                other => return other,
            }
        }
    }

    /// [`Ui::click_element`], WebDriver's element click (for confirming and submitting clicks),
    /// once the page shows nothing covering the element: a dialog still animating in is waited
    /// for in the page rather than by clicks that fail.
    pub async fn click_element_when_clear(
        &self,
        element: &WebElement,
        what: &str,
    ) -> Result<(), QueryError> {
        self.clickable(element, false, false, self.timeout, what)
            .await?;
        self.click_element(element, what).await
    }

    /// Ticks (`want`) or clears a checkbox by clicking `target` (the box itself, or the label or
    /// option holding it) with the page's own click, once nothing covers the target; returns
    /// whether the box is as wanted afterwards. For boxes that only stage a change a dialog
    /// submits with a real click, and that is read back after it: WebDriver's element click would
    /// wait about 60 ms for a navigation a checkbox never starts, and pointer actions would
    /// have to wait for the dialog to stop moving. A `false` is for the caller to click again
    /// with WebDriver (a UI that ignores such clicks).
    pub async fn check_by_click(
        &self,
        target: &WebElement,
        checkbox: &WebElement,
        want: bool,
        what: &str,
    ) -> Result<bool, QueryError> {
        let args = vec![
            Self::arg(target)?,
            Self::arg(checkbox)?,
            serde_json::Value::Bool(want),
        ];
        let gone = || Self::wd_error(format!("clicking {what}"))(stale_error(what));
        match self
            .wait_in_page(
                &format!("{what} to be clickable"),
                CHECK_BY_CLICK_SCRIPT,
                args,
            )
            .await
        {
            Ok(state) if state == "stale" => Err(gone()),
            Ok(state) => Ok(state["checked"].as_bool() == Some(want)),
            Err(QueryError::WebDriver { source, .. })
                if source.is_stale_element_reference() || source.is_no_such_element() =>
            {
                Err(gone())
            }
            Err(e) => Err(e),
        }
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
