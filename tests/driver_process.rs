//! The driver process on every exit path: a real geckodriver/chromedriver with a real browser
//! session, then `stop()` or a plain drop (what a panic does). Afterwards no process of the
//! driver's process group may be left, nor its temporary folder with the browser profile.
//!
//! Needs the browsers and drivers: `scripts/install-deps`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clockify_ui_agent::browser::driver::{
    capabilities, connect, locate_driver, BrowserKind, DriverProcess, INSTALL_HINT,
};

const DEADLINE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(25);

/// Pids of the live (not zombie) processes whose process group is `group`.
fn group_members(group: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // Fields after the command name (which may contain spaces) start after the last ')'.
            let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
        })
        .collect()
}

/// The driver's private temp folders (see `DriverProcess`).
fn scratch_dirs(kind: BrowserKind) -> Vec<PathBuf> {
    let prefix = format!(
        "clockify-ui-agent-{}-{}-",
        kind.driver_binary(),
        std::process::id()
    );
    std::fs::read_dir(std::env::temp_dir())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < DEADLINE, "gave up waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Starts a driver and a session and checks the browser runs in the driver's process group.
async fn driver_with_session(kind: BrowserKind) -> (DriverProcess, fantoccini::Client) {
    let path = locate_driver(kind, None).unwrap_or_else(|e| panic!("{e} ({INSTALL_HINT})"));
    let driver = DriverProcess::spawn(kind, &path)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        driver.url().starts_with("http://127.0.0.1:"),
        "{}",
        driver.url()
    );
    let client = connect(driver.url(), capabilities(kind, true))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .goto("about:blank")
        .await
        .expect("the browser answers");
    let members = group_members(driver.pid());
    assert!(
        members.len() > 1,
        "the browser runs in the driver's process group: {members:?}"
    );
    let scratch = scratch_dirs(kind);
    assert_eq!(scratch.len(), 1, "one private temp folder: {scratch:?}");
    let inside: Vec<_> = std::fs::read_dir(&scratch[0])
        .expect("the temp folder")
        .filter_map(|e| Some(e.ok()?.file_name()))
        .collect();
    assert!(
        !inside.is_empty(),
        "the browser profile is in the driver's temp folder"
    );
    (driver, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_driver_kills_firefox_and_removes_its_profile() {
    let kind = BrowserKind::Firefox;
    let (driver, client) = driver_with_session(kind).await;
    let group = driver.pid();
    // What a panic does: no session close, no stop().
    drop(client);
    drop(driver);
    wait_until("the process group to die", || {
        group_members(group).is_empty()
    })
    .await;
    assert!(scratch_dirs(kind).is_empty(), "{:?}", scratch_dirs(kind));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_chromium_and_removes_its_profile() {
    let kind = BrowserKind::Chrome;
    let (driver, client) = driver_with_session(kind).await;
    let group = driver.pid();
    client.close().await.expect("end the session");
    driver.stop().await;
    wait_until("the process group to die", || {
        group_members(group).is_empty()
    })
    .await;
    assert!(scratch_dirs(kind).is_empty(), "{:?}", scratch_dirs(kind));
}
