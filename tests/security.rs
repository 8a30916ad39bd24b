//! Security of sign-in, as a user runs the real binary against sandboxes served by the test:
//!
//! - credentials and codes are typed only into a page of the configured origin: the sandbox's
//!   `redirectLoginTo` fault sends its sign-in pages to a second sandbox on another port (behind
//!   a recording proxy, so every request it gets is seen), and the agent refuses, whatever the
//!   sign-in method, before typing anything there;
//! - secrets (the password, every code the sandbox mailed, the session tokens and cookies) never
//!   appear in stdout, stderr at the most verbose tracing, any file the runs leave (audit folder,
//!   temp folder), or the command line of the agent, its driver or the browser's processes;
//! - a saved session for another origin is refused (exit 4) and a corrupt one exits 2 without
//!   echoing it. (A session file readable by others is covered in `agent_cli.rs`.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, UiVersion};
use serde_json::{json, Value};

mod agent_common;

use agent_common::{agent_command, children, get_json, serve, strings, Bed, Run, ADMIN, OWNER};

const ADMIN_PASSWORD: &str = "sandbox-admin-pass";
const OWNER_PASSWORD: &str = "sandbox-owner-pass";

/// `pid` and all its descendants.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let kids = children(out[i]);
        out.extend(kids);
        i += 1;
    }
    out
}

/// Runs the agent with a clean environment plus `env`, sampling the command line of every
/// process in its tree (agent, driver, browser, code command) every 20 ms while it runs: what
/// it left, and every command line seen.
async fn agent(args: &[String], env: &[(&str, &str)]) -> (Run, Vec<String>) {
    let mut command = agent_command(args);
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .envs(env.iter().copied());
    let child = command.spawn().expect("the agent binary runs");
    let pid = child.id().expect("pid");
    let mut waiting = tokio::spawn(child.wait_with_output());
    let mut cmdlines = BTreeSet::new();
    let started = Instant::now();
    let output = loop {
        for p in process_tree(pid) {
            if let Ok(raw) = std::fs::read(format!("/proc/{p}/cmdline")) {
                if !raw.is_empty() {
                    let line: Vec<u8> =
                        raw.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
                    cmdlines.insert(String::from_utf8_lossy(&line).trim_end().to_string());
                }
            }
        }
        tokio::select! {
            done = &mut waiting => break done.expect("join").expect("output"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the agent still runs after 120 s: {args:?}"
        );
    };
    (Run::from_output(output), cmdlines.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_redirect_login_fault_sends_every_sign_in_page_elsewhere_until_cleared() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let url = bed.sandbox.url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let status_of = |path: &str| {
        let http = http.clone();
        let url = format!("{url}{path}");
        async move {
            let r = http.get(url).send().await.expect("GET");
            let location = r
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().expect("ascii").to_string());
            (r.status().as_u16(), location)
        }
    };
    let elsewhere = "http://127.0.0.1:1/elsewhere/login?from=sandbox";
    let set = bed
        .set_faults(json!({ "redirectLoginTo": elsewhere }))
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(
        set.json::<Value>().await.expect("JSON")["redirectLoginTo"],
        elsewhere
    );
    let logins = ["/en/login", "/login", "/es/login", "/login-owner"];
    for path in logins {
        assert_eq!(
            status_of(path).await,
            (302, Some(elsewhere.to_string())),
            "{path}"
        );
    }
    // Only the sign-in pages: assets, boot data and the app's own redirect are as before.
    assert_eq!(status_of("/assets/login.js").await.0, 200);
    assert_eq!(status_of("/web/boot").await.0, 200);
    assert_eq!(
        status_of("/tracker").await,
        (303, Some("/en/login".to_string()))
    );
    // Other faults set later leave it in place; DELETE clears it.
    assert_eq!(
        bed.set_faults(json!({ "latencyMs": [0, 0] }))
            .await
            .status(),
        200
    );
    assert_eq!(status_of("/en/login").await.0, 302);
    bed.http
        .delete(format!("{url}/__sandbox/faults"))
        .send()
        .await
        .expect("DELETE");
    for path in logins {
        assert_eq!(status_of(path).await, (200, None), "{path} after DELETE");
    }
    // Reset clears it too.
    assert_eq!(
        bed.set_faults(json!({ "redirectLoginTo": elsewhere }))
            .await
            .status(),
        200
    );
    bed.http
        .post(format!("{url}/__sandbox/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(status_of("/login-owner").await, (200, None), "after reset");
    // Only absolute http(s) URLs are taken.
    for bad in [
        "/relative/login",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "http://127.0.0.1:1/a\nSet-Cookie: x=y",
    ] {
        assert_eq!(
            bed.set_faults(json!({ "redirectLoginTo": bad }))
                .await
                .status(),
            400,
            "{bad:?}"
        );
    }
    assert!(bed
        .set_faults(json!({ "redirectLoginTwo": elsewhere }))
        .await
        .status()
        .is_client_error());
    assert_eq!(status_of("/en/login").await, (200, None));
}

/// Requests a proxy forwarded, as `METHOD /path`.
type Log = Arc<Mutex<Vec<String>>>;

#[derive(Clone)]
struct Proxy {
    target: String,
    http: reqwest::Client,
    log: Log,
}

/// Forwards a request to the target unchanged (cookies, body, redirects) and logs it.
async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    proxy
        .log
        .lock()
        .expect("log")
        .push(format!("{method} {}", request.uri().path()));
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let mut out = proxy
        .http
        .request(method, format!("{}{path}", proxy.target))
        .body(body);
    for (name, value) in &headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            out = out.header(name, value);
        }
    }
    let answer = match out.send().await {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let mut response = axum::http::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// A recording reverse proxy on 127.0.0.1 (its own port: its own origin) in front of `target`.
async fn start_proxy(target: String) -> (String, Log, tokio::task::JoinHandle<()>) {
    let log: Log = Arc::default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    let app = axum::Router::new().fallback(forward).with_state(Proxy {
        target,
        http,
        log: Arc::clone(&log),
    });
    let (url, task) = serve(app).await;
    (url, log, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_and_codes_are_never_typed_into_another_origin() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    // The foreign origin: a second sandbox (whose sign-in would work, and whose mailbox shows a
    // code request) behind a proxy that records every request it gets.
    let foreign = RunningSandbox::start_local(SandboxConfig::default())
        .await
        .expect("foreign sandbox");
    let (proxy, log, task) = start_proxy(foreign.url()).await;
    // Sanity: through the proxy, the foreign sandbox's sign-in page is served.
    let page = reqwest::get(format!("{proxy}/en/login"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("<html") || page.contains("<!doctype"),
        "{page}"
    );
    log.lock().expect("log").clear();

    let set = bed
        .set_faults(json!({ "redirectLoginTo": format!("{proxy}/en/login") }))
        .await;
    assert_eq!(set.status(), 200);
    let marker = bed.dir.path().join("otp-command-ran");
    let otp = format!("touch '{}'; {}", marker.display(), bed.otp_command());
    let base = |account: &str| {
        strings(&[
            "--base-url",
            &bed.sandbox.url(),
            "--account",
            account,
            "--audit-dir",
            &bed.audit_dir().display().to_string(),
        ])
    };
    let with = |mut args: Vec<String>, more: &[&str]| {
        args.extend(strings(more));
        args
    };
    let sam = "sam.sales@acme.example";
    let runs = [
        (
            "an emailed code",
            with(
                base(ADMIN),
                &["--otp-command", &otp, "deactivate", "--email", sam],
            ),
            vec![],
        ),
        (
            "a password",
            with(base(ADMIN), &["deactivate", "--email", sam]),
            vec![("CLOCKIFY_PASSWORD", ADMIN_PASSWORD)],
        ),
        (
            "the owner's password at /login-owner",
            with(
                base(OWNER),
                &[
                    "--owner-login",
                    "deactivate",
                    "--email",
                    "second.admin@acme.example",
                ],
            ),
            vec![("CLOCKIFY_PASSWORD", OWNER_PASSWORD)],
        ),
    ];
    for (how, args, env) in &runs {
        let (out, _) = agent(args, env).await;
        assert_eq!(out.code, 4, "{how}: exit 4\n{}", out.all_output());
        assert!(
            out.stderr.contains(&format!(
                "the sign-in page is at {proxy}, not on {}; refusing to type credentials there",
                bed.sandbox.url()
            )),
            "{how}: names the foreign origin: {}",
            out.stderr
        );
        for secret in [ADMIN_PASSWORD, OWNER_PASSWORD] {
            assert!(
                !out.all_output().contains(secret),
                "{how}: password printed"
            );
        }
    }
    // The foreign origin served its sign-in page each time, and got nothing else: no code
    // request, no password, no API call at all.
    let received = log.lock().expect("log").clone();
    assert!(
        received.iter().filter(|r| *r == "GET /en/login").count() >= runs.len(),
        "each run was redirected there: {received:?}"
    );
    assert!(
        !received
            .iter()
            .any(|r| r.starts_with("POST") || r.contains("/api/auth")),
        "nothing was sent to the foreign origin: {received:?}"
    );
    let http = reqwest::Client::new();
    assert_eq!(
        get_json(&http, format!("{}/__sandbox/mailbox", foreign.url())).await,
        json!([]),
        "no code was requested from the foreign origin"
    );
    assert_eq!(
        get_json(&http, format!("{}/__sandbox/mutations", foreign.url())).await,
        json!([])
    );
    // Nor from the configured one: the agent stopped before typing the email anywhere.
    assert_eq!(bed.get("/__sandbox/mailbox").await, json!([]));
    assert_eq!(bed.all_mutations().await, 0);
    assert!(!marker.exists(), "the code command never ran");
    assert_eq!(bed.status(sam).await, "ACTIVE", "nothing changed");
    // The refusal is recorded in the evidence, without a secret.
    let evidence = files_under(&bed.audit_dir());
    assert!(
        evidence
            .iter()
            .filter(|p| p.ends_with("events.jsonl"))
            .all(|p| std::fs::read_to_string(p)
                .expect("events")
                .contains("refusing to type credentials")),
        "{evidence:?}"
    );
    task.abort();
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The token and every cookie value of a saved session file.
fn session_secrets(path: &Path) -> Vec<String> {
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("session file")).expect("JSON");
    let mut out = vec![saved["token"].as_str().expect("token").to_string()];
    for cookie in saved["cookies"].as_array().expect("cookies") {
        out.push(cookie["value"].as_str().expect("value").to_string());
    }
    assert!(out.iter().all(|s| s.len() >= 16), "real secrets: {out:?}");
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_appear_in_output_files_or_process_arguments() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let root = bed.dir.path();
    // The agent's temp folder (the driver's scratch folder and the browser profile go in it) is
    // inside the test folder, so whatever it leaves behind is searched too.
    let tmp = root.join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir");
    let sessions = root.join("sessions");
    let by_password = sessions.join("by-password.json");
    let by_code = sessions.join("by-code.json");
    let audit = bed.audit_dir();
    let verbose = [
        ("RUST_LOG", "trace"),
        ("TMPDIR", tmp.to_str().expect("utf-8 path")),
    ];
    let common = |extra: &[&str]| {
        let mut args = strings(&[
            "-vvv",
            "--base-url",
            &bed.sandbox.url(),
            "--audit-dir",
            &audit.display().to_string(),
        ]);
        args.extend(strings(extra));
        args
    };
    let sam = "sam.sales@acme.example";
    let mut env_password = verbose.to_vec();
    env_password.push(("CLOCKIFY_PASSWORD", ADMIN_PASSWORD));
    let runs = [
        // 1. `login` with the password from the environment.
        (
            common(&[
                "--account",
                ADMIN,
                "--session-file",
                by_password.to_str().expect("utf-8"),
                "login",
            ]),
            env_password,
        ),
        // 2. An action signed in with an emailed code (the session is saved after it).
        (
            common(&[
                "--account",
                ADMIN,
                "--otp-command",
                &bed.otp_command(),
                "--session-file",
                by_code.to_str().expect("utf-8"),
                "deactivate",
                "--email",
                sam,
            ]),
            verbose.to_vec(),
        ),
        // 3. An action from the saved session (cookie and token go into the browser).
        (
            common(&[
                "--session-file",
                by_password.to_str().expect("utf-8"),
                "reactivate",
                "--email",
                sam,
            ]),
            verbose.to_vec(),
        ),
    ];
    let mut outs = Vec::new();
    for (args, env) in &runs {
        let (out, cmdlines) = agent(args, env).await;
        assert_eq!(out.code, 0, "{args:?}\n{}", out.all_output());
        outs.push((out, cmdlines));
    }
    assert!(
        outs.iter().all(|(o, _)| o.stderr.contains("TRACE")),
        "tracing ran at its most verbose"
    );
    assert_eq!(
        bed.status(sam).await,
        "ACTIVE",
        "deactivated, then reactivated"
    );
    assert_eq!(mode(&by_password), 0o600);
    assert_eq!(
        mode(&by_code),
        0o600,
        "the session saved after a code sign-in"
    );

    // Every secret of the three runs.
    let mut secrets = vec![ADMIN_PASSWORD.to_string()];
    let mails = bed.get("/__sandbox/mailbox").await;
    let codes: Vec<String> = mails
        .as_array()
        .expect("mails")
        .iter()
        .filter_map(|m| m["code"].as_str().map(str::to_string))
        .collect();
    assert_eq!(codes.len(), 1, "one code mailed: {mails}");
    secrets.extend(codes);
    secrets.extend(session_secrets(&by_password));
    secrets.extend(session_secrets(&by_code));

    let mut leaks = Vec::new();
    for (n, (out, cmdlines)) in outs.iter().enumerate() {
        for secret in &secrets {
            if out.stdout.contains(secret.as_str()) {
                leaks.push(format!("run {}: stdout holds {secret}", n + 1));
            }
            if out.stderr.contains(secret.as_str()) {
                leaks.push(format!("run {}: stderr holds {secret}", n + 1));
            }
            for line in cmdlines {
                if line.contains(secret.as_str()) {
                    leaks.push(format!(
                        "run {}: a command line holds {secret}: {line}",
                        n + 1
                    ));
                }
            }
        }
    }
    // Every file the runs left, binary ones (screenshots) too; the two session files are where
    // the session is meant to be.
    let files = files_under(root);
    for file in &files {
        if *file == by_password || *file == by_code {
            continue;
        }
        let bytes = std::fs::read(file).expect("read");
        for secret in &secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                leaks.push(format!("{} holds {secret}", file.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));

    // The sampling saw the whole tree, and the evidence is private.
    let all_lines: Vec<&String> = outs.iter().flat_map(|(_, lines)| lines.iter()).collect();
    for process in ["geckodriver", "firefox", "-contentproc"] {
        assert!(
            all_lines.iter().any(|l| l.contains(process)),
            "saw {process} while the agent ran: {all_lines:#?}"
        );
    }
    let evidence = files_under(&audit);
    assert!(
        evidence
            .iter()
            .filter(|f| f.ends_with("events.jsonl"))
            .count()
            == 3
            && evidence
                .iter()
                .any(|f| f.extension().is_some_and(|e| e == "png")),
        "three runs of evidence with screenshots: {evidence:?}"
    );
    for file in &evidence {
        assert_eq!(mode(file), 0o600, "{}", file.display());
        assert_eq!(
            mode(file.parent().expect("folder")),
            0o700,
            "{}",
            file.display()
        );
    }
    assert!(
        files
            .iter()
            .all(|f| f.starts_with(&audit) || *f == by_password || *f == by_code),
        "nothing else left behind (driver scratch folders removed): {files:?}"
    );
}

/// Writes a session file readable by its owner only.
fn private_file(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_saved_for_another_origin_is_refused() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let session = bed.dir.path().join("other-origin.json");
    let token = "sbx.OTHER-ORIGIN-TOKEN-4b9e1d0c7a";
    let cookie = "OTHER-ORIGIN-COOKIE-93f0aa51e2";
    let other = "http://127.0.0.1:1";
    private_file(
        &session,
        json!({
            "base_url": other,
            "saved_at": "2026-11-30T00:00:00Z",
            "email": ADMIN,
            "cookies": [{
                "name": "cl_session", "value": cookie, "path": "/",
                "secure": false, "http_only": true, "same_site": "Lax"
            }],
            "token": token,
        })
        .to_string()
        .as_bytes(),
    );
    let (out, _) = agent(
        &bed.session_args(
            &session,
            &["deactivate", "--email", "sam.sales@acme.example"],
        ),
        &[],
    )
    .await;
    assert_eq!(out.code, 4, "{}", out.all_output());
    assert!(
        out.stderr.contains(&format!(
            "the session in {} is for {other}, not {}",
            session.display(),
            bed.sandbox.url()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.all_output().contains(token) && !out.all_output().contains(cookie));
    assert_eq!(bed.all_mutations().await, 0);
    assert_eq!(bed.status("sam.sales@acme.example").await, "ACTIVE");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_session_file_exits_2_without_echoing_it() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let marker = "CORRUPT-SESSION-MARKER-5d1f";
    let junk = bed.dir.path().join("junk.json");
    let mut bytes = b"\x00\x9f\x92\x96\xff\xfe{\"token\": \"sbx.".to_vec();
    bytes.extend_from_slice(marker.as_bytes());
    bytes.extend_from_slice(b"\"\x89PNG\r\n\x1a\n");
    private_file(&junk, &bytes);
    let truncated = bed.dir.path().join("truncated.json");
    private_file(
        &truncated,
        format!(
            "{{\n  \"base_url\": \"{}\",\n  \"token\": \"sbx.{marker}",
            bed.sandbox.url()
        )
        .as_bytes(),
    );
    let cases = [
        (&junk, "stream did not contain valid UTF-8"),
        (&truncated, "is not a saved session (Eof error at line 3)"),
    ];
    for (file, says) in cases {
        let (out, _) = agent(&bed.session_args(file, &["members"]), &[]).await;
        assert_eq!(out.code, 2, "{}: {}", file.display(), out.all_output());
        assert!(
            out.stderr.contains(&file.display().to_string()) && out.stderr.contains(says),
            "names the file and the problem: {}",
            out.stderr
        );
        assert!(
            !out.all_output().contains(marker),
            "echoed: {}",
            out.all_output()
        );
    }
    assert_eq!(bed.all_mutations().await, 0);
}
