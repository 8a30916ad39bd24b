//! The real-browser test harness: a sandbox served in-process on 127.0.0.1:0, a WebDriver driver on
//! a free port, one headless browser session, and helpers that read the sandbox's own state.
//!
//! The UI helpers use plain fantoccini calls on purpose: this harness proves the sandbox, so it
//! must not depend on the agent's own query layer. Every wait polls at [`POLL`] with a deadline
//! and names what it waited for when it gives up; there is no fixed sleep anywhere.
//!
//! A browser test never skips: a missing browser or driver is a panic that names
//! `scripts/install-deps`.

// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clockify_ui_agent::browser::driver::{
    capabilities, connect, locate_driver, BrowserKind, DriverProcess, INSTALL_HINT,
};
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How often every wait polls.
pub const POLL: Duration = Duration::from_millis(25);

/// How long a wait lasts before it fails (generous: 2 cores shared by two browsers).
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The WebDriver "Enter" key.
pub const ENTER: &str = "\u{e007}";

/// Seed members the tests refer to.
pub const OWNER: &str = "owner@acme.example";
/// Password of [`OWNER`].
pub const OWNER_PASSWORD: &str = "sandbox-owner-pass";
/// A workspace admin with a password.
pub const ADMIN: &str = "admin@acme.example";
/// Password of [`ADMIN`].
pub const ADMIN_PASSWORD: &str = "sandbox-admin-pass";
/// A second workspace admin.
pub const SECOND_ADMIN: &str = "second.admin@acme.example";
/// A regular member with a password.
pub const RITA: &str = "rita.regular@acme.example";
/// Password of [`RITA`].
pub const RITA_PASSWORD: &str = "sandbox-member-pass";
/// A regular member.
pub const SAM: &str = "sam.sales@acme.example";
/// An inactive member.
pub const IVY: &str = "ivy.inactive@acme.example";
/// A pending (invited, not joined) member.
pub const PETE: &str = "pete.pending@acme.example";

/// Live browser sessions allowed at once across the threads of one test binary (env
/// `SANDBOX_BROWSER_SESSIONS`, default 2: a Firefox per core is what 2 cores carry).
fn session_slots() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            let n = std::env::var("SANDBOX_BROWSER_SESSIONS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(2);
            Arc::new(Semaphore::new(n))
        })
        .clone()
}

/// Where screenshots go: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

/// A sandbox, a driver and one browser session on it.
pub struct Harness {
    /// The sandbox the browser talks to.
    pub sandbox: RunningSandbox,
    /// The WebDriver session.
    pub client: Client,
    /// The browser in use.
    pub kind: BrowserKind,
    /// The UI generation the sandbox renders.
    pub ui: UiVersion,
    driver: DriverProcess,
    http: reqwest::Client,
    _slot: OwnedSemaphorePermit,
}

impl Harness {
    /// A harness on the built-in "Acme Corp" seed.
    pub async fn start(kind: BrowserKind, ui: UiVersion) -> Harness {
        Self::start_with(kind, ui, Seed::builtin()).await
    }

    /// A harness on a seed given as TOML text.
    pub async fn with_seed(kind: BrowserKind, ui: UiVersion, seed_toml: &str) -> Harness {
        let seed = Seed::parse(seed_toml, "test seed").expect("the test seed is valid");
        Self::start_with(kind, ui, seed).await
    }

    async fn start_with(kind: BrowserKind, ui: UiVersion, seed: Seed) -> Harness {
        let slot = session_slots()
            .acquire_owned()
            .await
            .expect("the session semaphore is never closed");
        let sandbox = RunningSandbox::start_local(SandboxConfig {
            seed,
            ui_version: ui,
        })
        .await
        .expect("the sandbox starts on 127.0.0.1:0");
        let path = locate_driver(kind, None)
            .unwrap_or_else(|e| panic!("browser tests need {kind}: {}", with_hint(&e)));
        let driver = DriverProcess::spawn(kind, &path)
            .await
            .unwrap_or_else(|e| panic!("cannot start the {kind} driver: {}", with_hint(&e)));
        let client = connect(driver.url(), capabilities(kind, true))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a {kind} session: {}\ndriver output:\n{}",
                    with_hint(&e),
                    driver.recent_output()
                )
            });
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Harness {
            sandbox,
            client,
            kind,
            ui,
            driver,
            http,
            _slot: slot,
        }
    }

    /// Replaces the sandbox with a fresh one built from `seed_toml` (and `ui`), keeping the
    /// browser session: cheaper than a new browser. The browser is signed out (new origin).
    pub async fn reseed(&mut self, ui: UiVersion, seed_toml: &str) {
        let seed = Seed::parse(seed_toml, "test seed").expect("the test seed is valid");
        let fresh = RunningSandbox::start_local(SandboxConfig {
            seed,
            ui_version: ui,
        })
        .await
        .expect("the sandbox starts on 127.0.0.1:0");
        let old = std::mem::replace(&mut self.sandbox, fresh);
        self.ui = ui;
        old.stop().await;
    }

    /// Ends the session (the driver removes the browser's profile), then the driver and the
    /// sandbox. A test that panics skips this; dropping the driver kills its process group.
    pub async fn close(self) {
        let Harness {
            sandbox,
            client,
            driver,
            ..
        } = self;
        if let Err(e) = client.close().await {
            eprintln!("closing the browser session failed: {e}");
        }
        driver.stop().await;
        sandbox.stop().await;
    }

    /// The absolute URL of a sandbox path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.url())
    }

    // ------------------------------------------------------------------ sandbox state

    /// Sends `request` and asserts a 2xx answer; `what` (method and URL) names it on failure.
    async fn send_ok(what: &str, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            response.status().is_success(),
            "{what}: {}",
            response.status()
        );
        response
    }

    async fn get_json(&self, path: &str) -> Value {
        let url = self.url(path);
        let what = format!("GET {url}");
        Self::send_ok(&what, self.http.get(&url))
            .await
            .json()
            .await
            .unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
    }

    async fn post(&self, path: &str, body: Option<&Value>) {
        let url = self.url(path);
        let mut request = self.http.post(&url);
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::send_ok(&format!("POST {url}"), request).await;
    }

    /// The whole workspace (`GET /__sandbox/state`).
    pub async fn state(&self) -> Value {
        self.get_json("/__sandbox/state").await
    }

    /// Every member of the workspace, as the sandbox holds them.
    pub async fn members(&self) -> Vec<Value> {
        self.state().await["members"]
            .as_array()
            .cloned()
            .expect("state.members is an array")
    }

    /// The member with `email`, if any.
    pub async fn member(&self, email: &str) -> Option<Value> {
        self.members()
            .await
            .into_iter()
            .find(|m| m["email"].as_str() == Some(email))
    }

    /// The member with `email`, which must exist.
    pub async fn must_member(&self, email: &str) -> Value {
        self.member(email)
            .await
            .unwrap_or_else(|| panic!("{email} is not in the sandbox state"))
    }

    /// The mutation log (`GET /__sandbox/mutations`).
    pub async fn mutations(&self) -> Vec<Value> {
        self.get_json("/__sandbox/mutations")
            .await
            .as_array()
            .cloned()
            .expect("the mutation log is an array")
    }

    /// Mutations of one kind (`invite`, `roles`, `status`, ...).
    pub async fn mutations_of(&self, kind: &str) -> Vec<Value> {
        self.mutations()
            .await
            .into_iter()
            .filter(|m| m["kind"] == kind)
            .collect()
    }

    /// Mails sent to `email`, oldest first.
    pub async fn mailbox(&self, email: &str) -> Vec<Value> {
        let path = format!("/__sandbox/mailbox?to={}", encode(email));
        self.get_json(&path)
            .await
            .as_array()
            .cloned()
            .expect("the mailbox is an array")
    }

    /// The newest sign-in code mailed to `email`, if any.
    pub async fn latest_code(&self, email: &str) -> Option<String> {
        let url = self.url(&format!(
            "/__sandbox/mailbox/latest-code?to={}",
            encode(email)
        ));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if !response.status().is_success() {
            return None;
        }
        Some(response.text().await.expect("code text").trim().to_string())
    }

    /// Sets injected faults (`POST /__sandbox/faults`).
    pub async fn set_faults(&self, faults: Value) {
        self.post("/__sandbox/faults", Some(&faults)).await;
    }

    /// Ends every session (`POST /__sandbox/expire-sessions`).
    pub async fn expire_sessions(&self) {
        self.post("/__sandbox/expire-sessions", None).await;
    }

    // ------------------------------------------------------------------ waiting

    /// Polls `probe` every [`POLL`] until it yields `Some`, or panics after [`DEADLINE`] naming
    /// `what` and the last error seen.
    pub async fn poll<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, CmdError>>,
    {
        let started = Instant::now();
        let mut last_error = None;
        loop {
            match probe().await {
                Ok(Some(value)) => return value,
                Ok(None) => {}
                Err(e) => last_error = Some(e.to_string()),
            }
            if started.elapsed() > DEADLINE {
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                self.screenshot(&format!("failed-{}", slug(what))).await;
                panic!(
                    "gave up after {DEADLINE:?} waiting for {what} (page {url}; last error: {})",
                    last_error.as_deref().unwrap_or("none")
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `attempt` every [`POLL`] until it yields `Ok`; after [`DEADLINE`], panics with what
    /// its last `Err` said, after a screenshot named after `shot` where one is given (a wait on
    /// what the page shows, rather than on the sandbox's state).
    async fn wait_state<T, F, Fut>(&self, shot: Option<&str>, mut attempt: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let started = Instant::now();
        loop {
            let why = match attempt().await {
                Ok(value) => return value,
                Err(why) => why,
            };
            if started.elapsed() > DEADLINE {
                if let Some(what) = shot {
                    self.screenshot(&format!("failed-{}", slug(what))).await;
                }
                panic!("{why}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first displayed element matching `locator`.
    async fn displayed(&self, locator: Locator<'_>) -> Result<Option<Element>, CmdError> {
        for element in self.client.find_all(locator).await? {
            match element.is_displayed().await {
                Ok(true) => return Ok(Some(element)),
                Ok(false) => {}
                Err(e) if e.is_stale_element_reference() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Waits for a displayed element matching the CSS selector.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.poll(&format!("a visible `{css}`"), || {
            self.displayed(Locator::Css(css))
        })
        .await
    }

    /// Waits for a displayed element matching the XPath.
    pub async fn wait_for_xpath(&self, xpath: &str) -> Element {
        self.poll(&format!("a visible xpath `{xpath}`"), || {
            self.displayed(Locator::XPath(xpath))
        })
        .await
    }

    /// Waits until no displayed element matches the CSS selector.
    pub async fn wait_gone(&self, css: &str) {
        self.poll(&format!("`{css}` to be gone"), || async move {
            Ok(self
                .displayed(Locator::Css(css))
                .await?
                .is_none()
                .then_some(()))
        })
        .await
    }

    /// Waits until the page's path is `path`.
    pub async fn wait_for_path(&self, path: &str) {
        self.poll(&format!("the page {path}"), || async move {
            let url = self.client.current_url().await?;
            Ok((url.path() == path).then_some(()))
        })
        .await
    }

    /// Clicks an element found by `locator`, re-finding it while it is stale, covered (a toast,
    /// a dialog's entry animation) or not yet interactable.
    pub async fn click(&self, what: &str, locator: Locator<'_>) {
        self.poll(&format!("a clickable {what}"), || async move {
            let Some(element) = self.displayed(locator).await? else {
                return Ok(None);
            };
            // Stale, covered or not yet interactable: the next round finds it again.
            element.click().await.map(Some)
        })
        .await
    }

    /// Clicks the element matching a CSS selector.
    pub async fn click_css(&self, css: &str) {
        self.click(&format!("`{css}`"), Locator::Css(css)).await;
    }

    /// Clicks the element matching an XPath.
    pub async fn click_xpath(&self, xpath: &str) {
        self.click(&format!("xpath `{xpath}`"), Locator::XPath(xpath))
            .await;
    }

    /// Clicks a button whose visible text is `text`.
    pub async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space()={}]", xpath_literal(text));
        self.click(&format!("button \"{text}\""), Locator::XPath(&xpath))
            .await;
    }

    /// Waits for a success or error toast whose text is `text`.
    pub async fn wait_toast(&self, text: &str) -> Element {
        let css = format!(
            "#toast-container div[toast-component][aria-label={}]",
            css_string(text)
        );
        self.wait_for(&css).await
    }

    /// Waits until the team table shows no spinner.
    pub async fn wait_table_idle(&self) {
        self.wait_gone("team-members-table .cl-table-wrapper .cl-loader")
            .await;
    }

    /// The open dialog (after its entry animation).
    pub async fn dialog(&self) -> Element {
        self.wait_for("app-modal-wrapper-component .cl-modal-dialog.cl-modal-shown")
            .await
    }

    /// Waits until no dialog is open.
    pub async fn wait_dialog_closed(&self) {
        self.wait_gone("app-modal-wrapper-component").await;
    }

    // ------------------------------------------------------------------ flows

    /// Signs in with an emailed code: /en/login, email, "Continue with Email", the code from
    /// the sandbox mailbox typed into the six boxes, then waits for /tracker and the app shell.
    pub async fn sign_in_with_code(&self, email: &str) {
        self.client
            .goto(&self.url("/en/login"))
            .await
            .expect("open /en/login");
        self.request_code(email).await;
        let code = self.wait_code(email).await;
        self.type_code(&code).await;
        self.wait_for_path("/tracker").await;
        self.wait_for("sidebar-navigation a.cl-nav-link").await;
    }

    /// On the login page: types `email` and asks for a code; waits for the code boxes.
    pub async fn request_code(&self, email: &str) {
        let input = self.wait_for("input#email").await;
        input.clear().await.expect("clear the email box");
        input.send_keys(email).await.expect("type the email");
        self.click_button("Continue with Email").await;
        self.wait_for("input[data-cy=otp-digit]").await;
    }

    /// The newest code mailed to `email` (waits for it).
    pub async fn wait_code(&self, email: &str) -> String {
        self.wait_state(None, || async {
            self.latest_code(email)
                .await
                .ok_or_else(|| format!("no sign-in code was mailed to {email}"))
        })
        .await
    }

    /// Types a code into the six one-character boxes, one box at a time.
    pub async fn type_code(&self, code: &str) {
        let boxes = self
            .client
            .find_all(Locator::Css("input[data-cy=otp-digit]"))
            .await
            .expect("the code boxes");
        assert_eq!(boxes.len(), 6, "six code boxes");
        for (input, ch) in boxes.iter().zip(code.chars()) {
            input
                .send_keys(&ch.to_string())
                .await
                .expect("type a code character");
        }
    }

    /// Signs in with "Log in manually" (email and password) and waits for /tracker.
    pub async fn sign_in_with_password(&self, email: &str, password: &str) {
        self.client
            .goto(&self.url("/en/login"))
            .await
            .expect("open /en/login");
        self.click_css("a[data-test-id=login-manual]").await;
        self.fill_password_form(email, password).await;
        self.wait_for_path("/tracker").await;
        self.wait_for("sidebar-navigation a.cl-nav-link").await;
    }

    /// Fills the password form (on /en/login after "Log in manually", or /login-owner) and
    /// clicks " Log In ".
    pub async fn fill_password_form(&self, email: &str, password: &str) {
        let email_box = self.wait_for("input#email").await;
        email_box.clear().await.expect("clear the email box");
        email_box.send_keys(email).await.expect("type the email");
        let password_box = self.wait_for("input#password").await;
        password_box
            .send_keys(password)
            .await
            .expect("type the password");
        self.click_css("button[data-test-id=login-button]").await;
    }

    /// Opens the Team page by its sidebar link and waits for rows and no spinner.
    pub async fn open_team_page(&self) {
        self.click_team_link().await;
        self.wait_for_path("/teams/members").await;
        self.wait_for("tr.cl-team-row").await;
        self.wait_table_idle().await;
    }

    /// Clicks the "Team" link of the sidebar.
    pub async fn click_team_link(&self) {
        self.click_xpath(
            "//sidebar-navigation//a[contains(@class,'cl-nav-link')][normalize-space()='Team']",
        )
        .await;
    }

    /// The search box of the Team page.
    pub async fn search_box(&self) -> Element {
        self.wait_for("team-members-table input[placeholder='Search by name or email']")
            .await
    }

    /// Types `text` into the search box, presses Enter and waits for the table to settle.
    pub async fn search(&self, text: &str) {
        let input = self.search_box().await;
        input.clear().await.expect("clear the search box");
        input
            .send_keys(&format!("{text}{ENTER}"))
            .await
            .expect("type the search");
        self.wait_table_idle().await;
    }

    /// The email cells' texts of the rows shown.
    pub async fn row_emails(&self) -> Vec<String> {
        self.poll("the rows' emails", || async move {
            let mut emails = Vec::new();
            for cell in self
                .client
                .find_all(Locator::Css("tr.cl-team-row td.cl-email-cell"))
                .await?
            {
                match cell.text().await {
                    Ok(text) => emails.push(text.trim().to_string()),
                    // The table was re-rendered while we read it: read again.
                    Err(e) if e.is_stale_element_reference() => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
            Ok(Some(emails))
        })
        .await
    }

    /// Waits until the rows shown are exactly `expected` (emails, in order).
    pub async fn wait_rows(&self, what: &str, expected: &[String]) {
        self.wait_state(Some(what), || async {
            self.wait_table_idle().await;
            let shown = self.row_emails().await;
            if shown == expected {
                return Ok(());
            }
            Err(format!(
                "{what}: the table shows {} rows {shown:?}, expected {} rows {expected:?}",
                shown.len(),
                expected.len()
            ))
        })
        .await
    }

    /// Picks `option` in the status filter: the 2025-10 dropdown applies at once, the 2026-03
    /// filter bar only on "Apply filter" (which this does not click).
    pub async fn pick_status(&self, option: &str) {
        self.click_css(".cl-status-filter button.cl-dropdown-toggle")
            .await;
        self.click_xpath(&format!(
            "//div[contains(@class,'cl-status-filter')]//li[@role='option'][normalize-space()={}]",
            xpath_literal(option)
        ))
        .await;
    }

    /// Finds the row of `email` by searching for it; the row must be the only one with that
    /// email.
    pub async fn row_for(&self, email: &str) -> Element {
        self.search(email).await;
        let xpath = format!(
            "//tr[contains(concat(' ', normalize-space(@class), ' '), ' cl-team-row ')][td[contains(@class,'cl-email-cell')][normalize-space()={}]]",
            xpath_literal(email)
        );
        let rows = self
            .poll(&format!("the row of {email}"), || async {
                let rows = self.client.find_all(Locator::XPath(&xpath)).await?;
                Ok((!rows.is_empty()).then_some(rows))
            })
            .await;
        assert_eq!(rows.len(), 1, "exactly one row shows {email}");
        rows.into_iter().next().expect("one row")
    }

    /// Opens the three-dots menu of `row` and returns the menu items' texts.
    pub async fn open_row_menu(&self, row: &Element) -> Vec<String> {
        let toggle = row
            .find(Locator::Css("button.cl-row-menu-toggle"))
            .await
            .expect("the row has a three-dots button");
        toggle.click().await.expect("open the row menu");
        self.wait_for(".cl-row-menu").await;
        self.menu_items().await
    }

    /// The texts of the open row menu's items.
    pub async fn menu_items(&self) -> Vec<String> {
        let mut texts = Vec::new();
        for item in self
            .client
            .find_all(Locator::Css(".cl-row-menu a[role=menuitem]"))
            .await
            .expect("menu items")
        {
            texts.push(item.text().await.expect("item text").trim().to_string());
        }
        texts
    }

    /// Clicks the open menu's item `text`.
    pub async fn click_menu_item(&self, text: &str) {
        let xpath = format!(
            "//div[contains(@class,'cl-row-menu')]//a[@role='menuitem'][normalize-space()={}]",
            xpath_literal(text)
        );
        self.click_xpath(&xpath).await;
    }

    /// Opens the row menu of `email` and clicks `item`.
    pub async fn row_action(&self, email: &str, item: &str) {
        let row = self.row_for(email).await;
        let items = self.open_row_menu(&row).await;
        assert!(
            items.iter().any(|i| i == item),
            "{email}'s menu has no \"{item}\": {items:?}"
        );
        self.click_menu_item(item).await;
    }

    /// Confirms the open confirm dialog with its `button` and waits for it to close.
    pub async fn confirm(&self, button: &str) {
        let dialog = self.dialog().await;
        self.screenshot(&format!("confirm-{}", slug(button))).await;
        let ok = dialog
            .find(Locator::Css("button[data-cy=confirm-button]"))
            .await
            .expect("the dialog has a confirm button");
        assert_eq!(ok.text().await.expect("button text").trim(), button);
        ok.click().await.expect("confirm");
        self.wait_dialog_closed().await;
    }

    /// Polls the sandbox until `member(email)` satisfies `check` (the UI's call is in flight).
    pub async fn wait_member<F>(&self, email: &str, what: &str, check: F) -> Value
    where
        F: Fn(&Value) -> bool,
    {
        self.wait_state(None, || async {
            let member = self.member(email).await.unwrap_or(Value::Null);
            if check(&member) {
                return Ok(member);
            }
            Err(format!("{email} never became {what}; state has {member}"))
        })
        .await
    }

    /// Saves a screenshot as `target/screenshots/<ui>-<browser>-<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshot_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return;
        }
        let path = dir.join(format!("{}-{}-{name}.png", self.ui, self.kind));
        match self.client.screenshot().await {
            Ok(png) => {
                if let Err(e) = std::fs::write(&path, png) {
                    eprintln!("cannot write {}: {e}", path.display());
                }
            }
            Err(e) => eprintln!("screenshot {name} failed: {e}"),
        }
    }

    /// Runs a script in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script `{script}` failed: {e}"))
    }

    /// The `ng-tns-c*` classes present in the page.
    pub async fn tns_classes(&self) -> HashSet<String> {
        let value = self
            .js("return Array.from(document.querySelectorAll('[class*=\"ng-tns-c\"]')).flatMap(e => Array.from(e.classList)).filter(c => c.startsWith('ng-tns-c'));")
            .await;
        value
            .as_array()
            .expect("an array of classes")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}

/// An error with its sources, joined, and the set-up hint when it does not name it already: a
/// browser test never skips, it fails saying how to install what is missing.
fn with_hint(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    if !text.contains("scripts/install-deps") {
        text.push_str(&format!(" ({INSTALL_HINT})"));
    }
    text
}

/// Percent-encodes a query value (emails: `@` and `+`).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An XPath string literal for `text` (handles both quote kinds).
pub fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A CSS string literal for `text`.
pub fn css_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.split('-')
        .filter(|s| !s.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-")
}

/// The sort the Team page uses: name (case-insensitive), then email.
pub fn team_order(members: &mut [Value]) {
    members.sort_by(|a, b| {
        let name = |m: &Value| m["name"].as_str().unwrap_or_default().to_lowercase();
        let email = |m: &Value| m["email"].as_str().unwrap_or_default().to_string();
        name(a).cmp(&name(b)).then_with(|| email(a).cmp(&email(b)))
    });
}

/// The members the default Team view lists (full members, active or pending), in its order.
pub fn active_listing(members: &[Value]) -> Vec<String> {
    let mut shown: Vec<Value> = members
        .iter()
        .filter(|m| m["status"] != "INACTIVE" && m["limited"] != true)
        .cloned()
        .collect();
    team_order(&mut shown);
    shown
        .iter()
        .map(|m| m["email"].as_str().unwrap_or_default().to_string())
        .collect()
}
