//! The agent's commands as a user runs them: the real binary drives a real headless Firefox (and
//! Chromium once) through geckodriver/chromedriver against a sandbox served by the test, and every
//! outcome is checked in the sandbox's own state and its log of mutating requests, never in what
//! the agent printed.
//!
//! A browser test never skips: if the browser or driver is missing, the agent exits 3 and the
//! assertion message names `scripts/install-deps`.

use std::time::Instant;

use clockify_ui_agent::sandbox::UiVersion;
use serde_json::Value;

mod agent_common;

use agent_common::*;

async fn invite_twice_gives_one_invitation(ui: UiVersion) {
    let bed = Bed::start(ui).await;
    let first = bed
        .agent(&["invite", "--email", "New.Person@Acme.example", "--json"])
        .await;
    assert_code(&first, 0);
    let report: Value =
        serde_json::from_str(first.stdout.lines().next().expect("a line")).expect("JSON line");
    assert_eq!(report["outcome"], "verified");
    assert_eq!(bed.status("new.person@acme.example").await, "PENDING");
    let second = bed
        .agent(&["invite", "--email", "new.person@acme.example"])
        .await;
    assert_code(&second, 0);
    assert!(second.stdout.contains("no-op"), "{}", second.stdout);
    let invites: Vec<_> = bed
        .accepted_mutations()
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "invite")
        .collect();
    assert_eq!(
        invites,
        vec![("invite".to_string(), "new.person@acme.example".to_string())],
        "exactly one invitation"
    );
    assert!(
        pngs_under(&bed.audit_dir()) >= 2,
        "before/after screenshots kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invite_twice_gives_one_invitation_2026() {
    invite_twice_gives_one_invitation(UiVersion::V2026_03).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invite_twice_gives_one_invitation_2025() {
    invite_twice_gives_one_invitation(UiVersion::V2025_10).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inviting_several_at_once_and_a_refusal() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let emails: Vec<String> = (1..=7).map(|i| format!("batch{i}@acme.example")).collect();
    let mut args = vec!["invite"];
    for e in &emails {
        args.push("--email");
        args.push(e);
    }
    args.push("--email");
    args.push("rita.regular@acme.example");
    let run = bed.agent(&args).await;
    assert_code(&run, 0);
    for e in &emails {
        assert_eq!(bed.status(e).await, "PENDING", "{e}");
    }
    let invite_requests = bed
        .accepted_mutations()
        .await
        .iter()
        .filter(|(k, _)| k == "invite")
        .count();
    assert_eq!(
        invite_requests, 2,
        "seven addresses go in two submissions of at most five"
    );
    assert!(
        run.stdout.contains("no-op"),
        "the existing member is a no-op"
    );
}

async fn deactivate_and_reactivate(ui: UiVersion) {
    let bed = Bed::start(ui).await;
    let sam = "sam.sales@acme.example";
    assert_code(&bed.agent(&["deactivate", "--email", sam]).await, 0);
    assert_eq!(bed.status(sam).await, "INACTIVE");
    let again = bed.agent(&["deactivate", "--email", sam]).await;
    assert_code(&again, 0);
    assert!(again.stdout.contains("no-op"), "{}", again.stdout);
    assert_code(&bed.agent(&["reactivate", "--email", sam]).await, 0);
    assert_eq!(bed.status(sam).await, "ACTIVE");
    assert_eq!(
        bed.accepted_mutations().await,
        vec![
            ("status".to_string(), sam.to_string()),
            ("status".to_string(), sam.to_string())
        ],
        "one deactivation and one reactivation, nothing twice"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivate_and_reactivate_2026() {
    deactivate_and_reactivate(UiVersion::V2026_03).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivate_and_reactivate_2025() {
    deactivate_and_reactivate(UiVersion::V2025_10).await;
}

async fn roles_are_set_and_read_back(ui: UiVersion) {
    let bed = Bed::start(ui).await;
    let sam = "sam.sales@acme.example";
    assert_code(
        &bed.agent(&["set-role", "--email", sam, "--role", "admin"])
            .await,
        0,
    );
    assert_eq!(
        roles(&bed.member(sam).await.expect("sam")),
        vec!["WORKSPACE_ADMIN"]
    );
    let again = bed
        .agent(&["set-role", "--email", sam, "--role", "admin"])
        .await;
    assert_code(&again, 0);
    assert!(again.stdout.contains("no-op"), "{}", again.stdout);

    let tm = bed
        .agent_as(
            OWNER,
            &[
                "set-role",
                "--email",
                sam,
                "--role",
                "team-manager",
                "--manages",
                "rita.regular@acme.example",
                "--manages",
                "group:Engineering",
            ],
        )
        .await;
    assert_code(&tm, 0);
    let state = bed.state().await;
    let member = bed.member(sam).await.expect("sam");
    assert_eq!(roles(&member), vec!["TEAM_MANAGER"]);
    let rita_id = state["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == "rita.regular@acme.example")
        .expect("rita")["id"]
        .clone();
    let engineering = state["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == "Engineering")
        .expect("group")["id"]
        .clone();
    assert!(member["manages"]["members"]
        .as_array()
        .expect("m")
        .contains(&rita_id));
    assert!(member["manages"]["groups"]
        .as_array()
        .expect("g")
        .contains(&engineering));

    let pm = bed
        .agent(&[
            "set-role",
            "--email",
            sam,
            "--role",
            "project-manager",
            "--projects",
            "Mobile App",
        ])
        .await;
    assert_code(&pm, 0);
    let member = bed.member(sam).await.expect("sam");
    assert_eq!(roles(&member), vec!["PROJECT_MANAGER"]);
    assert_eq!(member["projects"].as_array().expect("projects").len(), 1);

    assert_code(
        &bed.agent(&["set-role", "--email", sam, "--role", "regular"])
            .await,
        0,
    );
    assert!(roles(&bed.member(sam).await.expect("sam")).is_empty());
    let role_changes = bed
        .accepted_mutations()
        .await
        .iter()
        .filter(|(k, _)| k == "roles")
        .count();
    assert_eq!(
        role_changes, 4,
        "admin, team manager, project manager, regular: once each"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_are_set_and_read_back_2026() {
    roles_are_set_and_read_back(UiVersion::V2026_03).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_are_set_and_read_back_2025() {
    roles_are_set_and_read_back(UiVersion::V2025_10).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resend_and_revoke_invite_2026() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let pete = "pete.pending@acme.example";
    let mails_before = bed
        .get("/__sandbox/mailbox?to=pete.pending@acme.example")
        .await;
    assert_code(&bed.agent(&["resend-invite", "--email", pete]).await, 0);
    let mails_after = bed
        .get("/__sandbox/mailbox?to=pete.pending@acme.example")
        .await;
    assert_eq!(
        mails_after.as_array().expect("mails").len(),
        mails_before.as_array().expect("mails").len() + 1,
        "one more invitation mail"
    );
    assert_code(&bed.agent(&["revoke-invite", "--email", pete]).await, 0);
    assert!(bed.member(pete).await.is_none(), "revoked invitee is gone");
    let again = bed.agent(&["revoke-invite", "--email", pete]).await;
    assert_code(&again, 0);
    assert!(again.stdout.contains("no-op"), "{}", again.stdout);
    let joined = bed
        .agent(&["resend-invite", "--email", "sam.sales@acme.example"])
        .await;
    assert_code(&joined, 1);
    assert_eq!(
        bed.accepted_mutations().await,
        vec![
            ("resend".to_string(), pete.to_string()),
            ("revoke".to_string(), pete.to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resend_works_and_revoke_is_refused_on_the_2025_ui() {
    let bed = Bed::start(UiVersion::V2025_10).await;
    let pete = "pete.pending@acme.example";
    assert_code(&bed.agent(&["resend-invite", "--email", pete]).await, 0);
    let revoke = bed.agent(&["revoke-invite", "--email", pete]).await;
    assert_code(&revoke, 1);
    assert!(revoke.stdout.contains("Revoke invite"), "{}", revoke.stdout);
    assert_eq!(bed.status(pete).await, "PENDING");
    assert_eq!(
        bed.accepted_mutations().await,
        vec![("resend".to_string(), pete.to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn guards_refuse_and_change_nothing() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let cases: [(&str, &[&str]); 5] = [
        ("the owner", &["deactivate", "--email", OWNER]),
        ("the signed-in account", &["deactivate", "--email", ADMIN]),
        (
            "demoting the signed-in account",
            &["set-role", "--email", ADMIN, "--role", "regular"],
        ),
        (
            "another admin (admins cannot deactivate admins)",
            &["deactivate", "--email", "second.admin@acme.example"],
        ),
        (
            "a member who does not exist",
            &["deactivate", "--email", "nobody@acme.example"],
        ),
    ];
    for (what, args) in cases {
        let run = bed.agent(args).await;
        assert_eq!(
            run.code,
            1,
            "{what}: exit 1 expected; output:\n{}",
            run.all_output()
        );
    }
    assert_eq!(bed.all_mutations().await, 0, "no mutating request at all");
    let owner_demotion = bed
        .agent(&["set-role", "--email", OWNER, "--role", "regular"])
        .await;
    assert_code(&owner_demotion, 1);
    assert_eq!(bed.all_mutations().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_locates_everything_and_changes_nothing() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let cases: [&[&str]; 5] = [
        &["invite", "--email", "dry@acme.example"],
        &["deactivate", "--email", "sam.sales@acme.example"],
        &["reactivate", "--email", "ivy.inactive@acme.example"],
        &[
            "set-role",
            "--email",
            "sam.sales@acme.example",
            "--role",
            "team-manager",
            "--manages",
            "group:Sales",
        ],
        &["revoke-invite", "--email", "pete.pending@acme.example"],
    ];
    for args in cases {
        let mut all = vec!["--dry-run", "--json"];
        all.extend_from_slice(args);
        let run = bed.agent(&all).await;
        assert_code(&run, 0);
        let report: Value =
            serde_json::from_str(run.stdout.lines().next().expect("line")).expect("JSON");
        assert_eq!(report["outcome"], "dry-run", "{args:?}: {}", run.stdout);
    }
    assert_eq!(bed.all_mutations().await, 0, "dry runs send no mutation");
}

#[tokio::test(flavor = "multi_thread")]
async fn members_lists_every_page() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let run = bed.agent(&["members", "--format", "json"]).await;
    assert_code(&run, 0);
    let listed: Vec<Value> = serde_json::from_str(&run.stdout).expect("JSON array");
    let state = bed.state().await;
    let members = state["members"].as_array().expect("members");
    assert_eq!(listed.len(), members.len(), "every member over all pages");
    for m in members {
        let shown = listed
            .iter()
            .find(|l| l["email"] == m["email"])
            .unwrap_or_else(|| panic!("{} listed", m["email"]));
        assert_eq!(
            shown["status"].as_str().expect("status").to_uppercase(),
            m["status"].as_str().expect("status")
        );
    }
    let csv = bed
        .agent(&["members", "--status", "inactive", "--format", "csv"])
        .await;
    assert_code(&csv, 0);
    let inactive = members.iter().filter(|m| m["status"] == "INACTIVE").count();
    assert_eq!(
        csv.stdout.lines().count(),
        inactive + 1,
        "header + inactive rows"
    );
    assert_eq!(bed.all_mutations().await, 0, "listing is read-only");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_saves_a_private_session_that_later_runs_reuse() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let session = bed.dir.path().join("session.json");
    let base = bed.sandbox.url();
    let password = "sandbox-admin-pass";
    let login = run_agent(
        &[
            "login".into(),
            "--base-url".into(),
            base.clone(),
            "--account".into(),
            ADMIN.into(),
            "--session-file".into(),
            session.display().to_string(),
        ],
        &[("CLOCKIFY_PASSWORD", password)],
    )
    .await;
    assert_code(&login, 0);
    assert!(
        !login.all_output().contains(password),
        "password never printed"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&session)
        .expect("saved")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let saved = std::fs::read_to_string(&session).expect("read");
    assert!(
        !saved.contains(password),
        "the session file holds no password"
    );

    let session_only = |extra: &[&str]| bed.session_args(&session, extra);
    let reuse = run_agent(
        &session_only(&["deactivate", "--email", "sam.sales@acme.example"]),
        &[],
    )
    .await;
    assert_code(&reuse, 0);
    assert_eq!(bed.status("sam.sales@acme.example").await, "INACTIVE");
    for token in saved.split('"').filter(|s| s.starts_with("sbx.")) {
        assert!(
            !reuse.all_output().contains(token),
            "session token never printed"
        );
    }

    reqwest::Client::new()
        .post(format!("{base}/__sandbox/expire-sessions"))
        .send()
        .await
        .expect("expire");
    let expired = run_agent(
        &session_only(&["reactivate", "--email", "sam.sales@acme.example"]),
        &[],
    )
    .await;
    assert_code(&expired, 4);
    assert_eq!(
        bed.status("sam.sales@acme.example").await,
        "INACTIVE",
        "nothing done without a session"
    );
    let mut renew = session_only(&["reactivate", "--email", "sam.sales@acme.example"]);
    renew.extend([
        "--account".to_string(),
        ADMIN.into(),
        "--otp-command".into(),
        bed.otp_command(),
    ]);
    assert_code(&run_agent(&renew, &[]).await, 0);
    assert_eq!(bed.status("sam.sales@acme.example").await, "ACTIVE");

    std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let exposed = run_agent(&session_only(&["members"]), &[]).await;
    assert_code(&exposed, 2);
    assert!(
        exposed.stderr.contains("readable by others"),
        "{}",
        exposed.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn owner_login_page_takes_only_the_owner() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let base = bed.sandbox.url();
    let args = |account: &str| {
        vec![
            "--base-url".to_string(),
            base.clone(),
            "--owner-login".into(),
            "--account".into(),
            account.into(),
            "--audit-dir".into(),
            bed.audit_dir().display().to_string(),
            "deactivate".into(),
            "--email".into(),
            "second.admin@acme.example".into(),
        ]
    };
    let admin = run_agent(&args(ADMIN), &[("CLOCKIFY_PASSWORD", "sandbox-admin-pass")]).await;
    assert_code(&admin, 4);
    let owner = run_agent(&args(OWNER), &[("CLOCKIFY_PASSWORD", "sandbox-owner-pass")]).await;
    assert_code(&owner, 0);
    assert_eq!(
        bed.status("second.admin@acme.example").await,
        "INACTIVE",
        "the owner may deactivate an admin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_exits_2_before_any_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_selectors = dir.path().join("selectors");
    std::fs::create_dir(&bad_selectors).expect("mkdir");
    std::fs::write(
        bad_selectors.join("catalog.toml"),
        "[catalog]\nversion = \"x\"\n[team.add_member]\ndescription = \"d\"\ncandidates = [{ csss = \"a\" }]\n",
    )
    .expect("write");
    let bad_selectors = bad_selectors.display().to_string();
    // No browser can start with this driver path: exit 2 proves the input was refused first.
    let base = [
        "--base-url",
        "http://127.0.0.1:9",
        "--driver-path",
        "/nonexistent/driver",
    ];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("malformed email", vec!["invite", "--email", "not-an-email"]),
        (
            "unknown role",
            vec!["set-role", "--email", "a@b.example", "--role", "boss"],
        ),
        (
            "team manager without scope",
            vec![
                "set-role",
                "--email",
                "a@b.example",
                "--role",
                "team-manager",
            ],
        ),
        (
            "project manager without projects",
            vec![
                "set-role",
                "--email",
                "a@b.example",
                "--role",
                "project-manager",
            ],
        ),
        (
            "bad selector file",
            vec![
                "--selectors",
                &bad_selectors,
                "deactivate",
                "--email",
                "a@b.example",
            ],
        ),
        (
            "unreadable selector folder",
            vec![
                "--selectors",
                "/nonexistent/selectors",
                "deactivate",
                "--email",
                "a@b.example",
            ],
        ),
    ];
    for (what, args) in cases {
        let mut all: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        all.extend(args.iter().map(|s| s.to_string()));
        let started = Instant::now();
        let run = run_agent(&all, &[]).await;
        assert_eq!(
            run.code,
            2,
            "{what}: exit 2 expected; output:\n{}",
            run.all_output()
        );
        assert!(
            started.elapsed().as_secs() < 5,
            "{what}: refused at once, before any browser"
        );
        assert!(!run.stderr.trim().is_empty(), "{what}: says why");
    }
    let selector_error = run_agent(
        &[
            "--base-url".into(),
            "http://127.0.0.1:9".into(),
            "--selectors".into(),
            bad_selectors.clone(),
            "members".into(),
        ],
        &[],
    )
    .await;
    assert!(
        selector_error.stderr.contains("catalog.toml")
            && selector_error
                .stderr
                .contains("team.add_member.candidates[0]")
            && selector_error.stderr.contains("csss"),
        "names the file and the key path: {}",
        selector_error.stderr
    );
    let no_base = run_agent(&["members".into()], &[]).await;
    assert_code(&no_base, 2);
    assert!(no_base.stderr.contains("--base-url"), "{}", no_base.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_webdriver_url_exits_3_naming_it() {
    let output = agent_command([
        "--base-url",
        "http://127.0.0.1:9",
        "--webdriver-url",
        "http://127.0.0.1:9/wd",
        "--account",
        ADMIN,
        "--otp-command",
        "echo ABCDEF",
        "members",
    ])
    .output()
    .await
    .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http://127.0.0.1:9/wd"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_smoke_invite_and_deactivate() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let run = bed
        .agent(&[
            "--browser",
            "chrome",
            "invite",
            "--email",
            "chrome@acme.example",
        ])
        .await;
    assert_code(&run, 0);
    assert_eq!(bed.status("chrome@acme.example").await, "PENDING");
    let run = bed
        .agent(&[
            "--browser",
            "chrome",
            "deactivate",
            "--email",
            "sam.sales@acme.example",
        ])
        .await;
    assert_code(&run, 0);
    assert_eq!(bed.status("sam.sales@acme.example").await, "INACTIVE");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_the_whole_flow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = agent_command(["demo", "--audit-dir"])
        .arg(dir.path())
        .output()
        .await
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.matches("verified").count(), 7, "{stdout}");
    assert!(stdout.contains("evidence: "), "{stdout}");
    assert!(pngs_under(dir.path()) >= 10, "screenshots kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn ui_drift_exits_5_naming_the_element_and_an_override_file_fixes_it() {
    // The "drift" sandbox generation renames the invite button ("Invite members", new test id),
    // as a Clockify redesign might.
    let bed = Bed::start(UiVersion::Drift).await;
    let run = bed
        .agent(&["--timeout", "3", "invite", "--email", "drift@acme.example"])
        .await;
    assert_code(&run, 5);
    for needle in ["team.add_member", "Add new member", "add-member-button"] {
        assert!(
            run.stderr.contains(needle),
            "names {needle}: {}",
            run.stderr
        );
    }
    assert!(bed.member("drift@acme.example").await.is_none());
    assert_eq!(bed.all_mutations().await, 0, "nothing changed");
    assert!(pngs_under(&bed.audit_dir()) >= 1, "a failure screenshot");

    // The fix is data: a per-tenant override file naming only the changed element.
    let fixed_arg = bed.write(
        "tenant-selectors.toml",
        "[team.add_member]\ndescription = \"Invite button (renamed in the redesign)\"\ncandidates = [\n  { text = \"Invite members\", tag = \"button\" },\n  { test_id = \"invite-members\" },\n]\n",
    );
    let run = bed
        .agent(&[
            "--selector-overrides",
            &fixed_arg,
            "invite",
            "--email",
            "drift@acme.example",
        ])
        .await;
    assert_code(&run, 0);
    assert_eq!(bed.status("drift@acme.example").await, "PENDING");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_exits_130_and_stops_driver_and_browser() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    // Slow pages keep the agent busy long enough to interrupt it mid-run.
    bed.set_faults(serde_json::json!({"latencyMs": [400, 400]}))
        .await;
    let child = agent_command(bed.code_args(ADMIN, &["members"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id().expect("pid");
    let started = Instant::now();
    let driver = loop {
        if let Some(d) = children(pid).into_iter().next() {
            if !children(d).is_empty() {
                break d;
            }
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "driver and browser started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let browser = children(driver)[0];
    // Let it get into the run, then interrupt.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let output = child.wait_with_output().await.expect("exits");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let deadline = Instant::now();
    while (alive(driver) || alive(browser)) && deadline.elapsed().as_secs() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!alive(driver), "driver {driver} stopped");
    assert!(!alive(browser), "browser {browser} stopped");
}
