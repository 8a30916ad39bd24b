//! Hostile input, as a user (or an attacker who controls a file) hands it to the real binary:
//! empty files, binary junk, wrong types, unknown keys, emails with quotes, Unicode and
//! `<script>`, path tricks, a 10,000-line plan, an unreachable WebDriver and a base URL that
//! redirects to another origin. Every refusal ends with a clear error naming the problem, a
//! documented exit code, nothing on the terminal that is not plain text, and nothing changed in
//! the sandbox (its mutation log and mailbox stay empty).
//!
//! Refusals are checked without a browser: the agent gets `--driver-path /nonexistent`, so a
//! browser could not even start; exit 2 (not 3) proves the input was refused first. The corpus
//! lives in `fixtures/plans/bad/` (plans and desired-state files) and `fixtures/hostile/`
//! (desired-state, tenants, selector and seed files); a file added there without a case here
//! fails the test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use clockify_ui_agent::sandbox::{RunningSandbox, SandboxConfig, UiVersion};

mod agent_common;

use agent_common::{
    agent_command, check_refusals, get_json, output_within, serve, strings, with, Bed, Refusal,
    Run, ADMIN, NO_DRIVER,
};

/// How long a refusal may take: it happens before any browser or network work.
const REFUSAL_SECS: u64 = 10;

/// Runs the agent binary with a clean environment (no `CLOCKIFY_*`, no `RUST_LOG`) in `cwd` (or
/// here), killing it after `limit`; what it left and how long it took.
async fn agent(args: &[String], cwd: Option<&Path>, limit: Duration) -> (Run, Duration) {
    let mut command = agent_command(args);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    output_within(command, limit).await
}

/// The first character of `text` that would do something on a terminal other than print:
/// a control character other than newline and tab, or a bidirectional/zero-width one.
fn unsafe_char(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Runs every case, collecting every mismatch (so one run shows all of them); besides what
/// every refusal is checked for, nothing may reach the terminal that is not plain text.
async fn check_cases(cases: Vec<Refusal>, limit: Duration) -> Vec<String> {
    check_refusals(cases, limit, Duration::from_secs(REFUSAL_SECS), |out| {
        unsafe_char(&out.stderr)
            .or_else(|| unsafe_char(&out.stdout))
            .map(|c| format!("sent {c:?} to the terminal"))
    })
    .await
}

/// File names in a folder (not recursive), sorted.
fn names_in(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| {
            entry
                .expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Fails if a corpus folder has entries without a case, or cases without an entry.
fn assert_covered(dir: &str, covered: &[&str]) {
    let on_disk = names_in(dir);
    let covered: BTreeSet<String> = covered.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, covered, "every file in {dir} has exactly one case");
}

const PLANS: &str = "fixtures/plans/bad";
const HOSTILE: &str = "fixtures/hostile";

/// Plan and desired-state files of `fixtures/plans/bad/` through `apply --plan` and
/// `sync --desired`: (file, line, what the error says). Line 0: no line (the whole file).
const BAD_PLAN_FILES: &[(&str, usize, &str)] = &[
    (
        "bad-scope-entries.csv",
        2,
        "an empty group name in 'manages'",
    ),
    (
        "binary-junk.csv",
        1,
        "not UTF-8 text (byte 0x89); is this a binary file?",
    ),
    ("blank-lines-only.csv", 1, "the file is empty"),
    (
        "conflicts.csv",
        3,
        "reactivate conflicts with deactivate on line 2 for ana@acme.example",
    ),
    (
        "conflicts.json",
        3,
        "reactivate conflicts with deactivate on line 2 for ana@acme.example",
    ),
    (
        "deep-nesting.json",
        2,
        "invalid JSON: recursion limit exceeded",
    ),
    (
        "desired-bad-values.csv",
        2,
        "the owner role cannot be given by the agent",
    ),
    (
        "desired-duplicate-email.csv",
        4,
        "ana@acme.example is listed twice: already on line 2",
    ),
    (
        "desired-unknown-column.csv",
        1,
        "unknown column 'department'",
    ),
    (
        "desired-wrong-types.json",
        2,
        "'status' must be a string, found a boolean",
    ),
    ("duplicate-key.json", 2, "the key 'email' appears twice"),
    (
        "duplicates.csv",
        4,
        "duplicate of line 2 (deactivate ana@acme.example)",
    ),
    ("empty-array.json", 1, "the array is empty"),
    ("empty.csv", 1, "the file is empty"),
    ("empty.json", 1, "the file is empty"),
    (
        "field-count.csv",
        3,
        "4 fields, but the header has 3 columns",
    ),
    ("header-only.csv", 1, "only a header: the file has no rows"),
    ("header-problems.csv", 1, "unknown column 'department'"),
    (
        "hostile-strings.json",
        2,
        "malformed email '<script>alert(1)</script>@acme.example'",
    ),
    ("latin1.csv", 3, "not UTF-8 text (byte 0xE9)"),
    (
        "malformed-emails.csv",
        2,
        "malformed email 'no-at-sign.example'",
    ),
    (
        "missing-email-column.csv",
        1,
        "the header lacks the column 'email'",
    ),
    ("missing-scope.csv", 2, "team-manager needs 'manages'"),
    ("no-header.csv", 1, "the first line is not a header"),
    ("not-json.json", 1, "invalid JSON: expected value"),
    ("nul-bytes.csv", 3, "contains the control character U+0000"),
    (
        "plan.txt",
        0,
        "unknown file type; the name must end in .csv or .json",
    ),
    (
        "role-on-wrong-row.csv",
        2,
        "a 'role' is only allowed on set-role rows, not on deactivate",
    ),
    (
        "scope-wrong-role.csv",
        2,
        "'manages' is only for the team-manager role, not for admin",
    ),
    (
        "top-level-object.json",
        2,
        "expected an array of objects ([{...}, ...]), found an object",
    ),
    (
        "top-level-string.json",
        1,
        "expected an array of objects ([{...}, ...]), found a string",
    ),
    (
        "trailing-garbage.json",
        2,
        "invalid JSON: trailing characters",
    ),
    (
        "truncated.json",
        3,
        "invalid JSON: EOF while parsing a string",
    ),
    ("unknown-action.csv", 2, "unknown action 'delete'"),
    (
        "unknown-keys.json",
        2,
        "unknown key 'Email' (did you mean 'email'?)",
    ),
    (
        "unknown-role.csv",
        2,
        "the owner role cannot be given by the agent",
    ),
    (
        "utf16.csv",
        1,
        "the file is UTF-16 encoded; save it as UTF-8",
    ),
    ("whitespace-only.json", 1, "the file is empty"),
    (
        "wrong-item-types.json",
        2,
        "item 1: expected an object, found a number",
    ),
    (
        "wrong-value-types.json",
        2,
        "'email' must be a string, found a number",
    ),
];

/// Desired-state files of `fixtures/hostile/desired/` through `sync --desired`.
const BAD_DESIRED_FILES: &[(&str, usize, &str)] = &[
    ("binary-junk.csv", 1, "not UTF-8 text (byte 0x8B)"),
    ("bom-blank.csv", 1, "the file is empty"),
    ("empty.json", 1, "the file is empty"),
    ("formula-injection.csv", 2, "malformed email '=HYPERLINK("),
    (
        "hostile-strings.json",
        5,
        "'name' contains the invisible or control character U+001B",
    ),
    ("unknown-keys.json", 3, "unknown key '__proto__'"),
    (
        "wrong-types.json",
        1,
        "expected an array of objects ([{...}, ...]), found an object",
    ),
];

/// The options every no-browser case starts with: the sandbox as base URL (so "nothing changed"
/// is checked where it would change) and a driver that does not exist.
fn no_browser(bed: &Bed) -> Vec<String> {
    no_browser_at(bed, &bed.sandbox.url())
}

/// [`no_browser`] with another base URL.
fn no_browser_at(bed: &Bed, base_url: &str) -> Vec<String> {
    vec![
        "--base-url".into(),
        base_url.into(),
        "--driver-path".into(),
        NO_DRIVER.into(),
        "--audit-dir".into(),
        bed.audit_dir().display().to_string(),
    ]
}

fn file_case(bed: &Bed, dir: &str, (file, line, says): (&str, usize, &str)) -> Refusal {
    let path = format!("{dir}/{file}");
    let desired = dir.ends_with("desired") || file.starts_with("desired-");
    let command = if desired {
        ["sync", "--desired"]
    } else {
        ["apply", "--plan"]
    };
    let at = if line == 0 {
        format!("{path}: {says}")
    } else {
        format!("{path}:{line}: {says}")
    };
    let mut case = Refusal::new(
        format!("{} {path}", command[0]),
        with(no_browser(bed), &[command[0], command[1], &path]),
        2,
        &[&at],
    );
    if line != 0 {
        case.says.push("nothing was done".into());
    }
    case
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_plan_and_desired_state_files_are_refused_before_any_browser() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let desired_dir = format!("{HOSTILE}/desired");
    assert_covered(
        PLANS,
        &BAD_PLAN_FILES.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    assert_covered(
        &desired_dir,
        &BAD_DESIRED_FILES.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    let mut cases: Vec<Refusal> = BAD_PLAN_FILES
        .iter()
        .map(|c| file_case(&bed, PLANS, *c))
        .collect();
    cases.extend(
        BAD_DESIRED_FILES
            .iter()
            .map(|c| file_case(&bed, &desired_dir, *c)),
    );
    // A folder with a plan's name, and a plan that is not there.
    let folder_plan = bed.dir.path().join("folder.csv");
    std::fs::create_dir(&folder_plan).expect("mkdir");
    let folder_plan = folder_plan.display().to_string();
    cases.push(Refusal::new(
        "a folder named like a plan",
        with(no_browser(&bed), &["apply", "--plan", &folder_plan]),
        2,
        &[
            &format!("cannot read plan file {folder_plan}"),
            "not a regular file",
        ],
    ));
    cases.push(Refusal::new(
        "a plan that does not exist",
        with(
            no_browser(&bed),
            &[
                "apply",
                "--plan",
                "fixtures/plans/../plans/no-such-plan.csv",
            ],
        ),
        2,
        &[
            "cannot read plan file fixtures/plans/../plans/no-such-plan.csv",
            "No such file",
        ],
    ));
    let failures = check_cases(cases, Duration::from_secs(60)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    bed.assert_untouched().await;
    assert!(
        !bed.audit_dir().exists(),
        "no batch folder or journal for a refused file"
    );
}

/// Tenants files of `fixtures/hostile/tenants/`, all asked for tenant `acme`.
const BAD_TENANTS_FILES: &[(&str, &[&str])] = &[
    (
        "binary-junk.toml",
        &["cannot read", "stream did not contain valid UTF-8"],
    ),
    ("duplicate-tenant.toml", &["duplicate key `acme`"]),
    ("empty.toml", &["missing field `tenants`"]),
    (
        "file-url.toml",
        &["'file:///etc/passwd' is not an http(s) URL"],
    ),
    (
        "javascript-url.toml",
        &["'javascript:alert(document.cookie)' is not an http(s) URL"],
    ),
    (
        "missing-overrides.toml",
        &["cannot read selector file", "nonexistent/overrides.toml"],
    ),
    (
        "path-locale.toml",
        &["locale '../../evil' is not supported (supported: en)"],
    ),
    (
        "quoted-account.toml",
        &["account '\"it-bot\"@acme.example' is not a valid email address"],
    ),
    (
        "script-account.toml",
        &["account '<script>alert(1)</script>@acme.example' is not a valid email address"],
    ),
    (
        "tenants-not-a-table.toml",
        &["tenants: invalid type: sequence, expected a map"],
    ),
    (
        "unknown-key.toml",
        &["tenants.acme.pasword: unknown field `pasword`"],
    ),
    (
        "unknown-top-level.toml",
        &["defaults: unknown field `defaults`, expected `tenants`"],
    ),
    (
        "wrong-types.toml",
        &["tenants.acme.owner_login: invalid type: string \"yes\", expected a boolean"],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn bad_tenants_files_are_refused_before_any_browser() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let dir = format!("{HOSTILE}/tenants");
    assert_covered(
        &dir,
        &BAD_TENANTS_FILES.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    let tenant = |file: &str, name: &str| bed.tenant_args(file, name);
    let mut cases: Vec<Refusal> = BAD_TENANTS_FILES
        .iter()
        .map(|(file, says)| {
            let path = format!("{dir}/{file}");
            let mut case = Refusal::new(format!("tenants {path}"), tenant(&path, "acme"), 2, says);
            // Parse errors name the file; URL and account errors name the value.
            let names_value = file.contains("url")
                || file.contains("account")
                || ["path-locale.toml", "missing-overrides.toml"].contains(file);
            if !names_value {
                case.says.push(path.clone());
            }
            case
        })
        .collect();

    // Made here: the modes and names matter and a checkout does not keep them.
    let good = bed.dir.path().join("tenants.toml");
    std::fs::write(
        &good,
        "[tenants.acme]\nbase_url = \"http://127.0.0.1:9\"\n\
         credentials_file = \"creds.toml\"\n",
    )
    .expect("write");
    let creds = bed.dir.path().join("creds.toml");
    let password = "tenant-corpus-password-7Qx";
    std::fs::write(
        &creds,
        format!("email = \"it-bot@acme.example\"\npassword = \"{password}\"\n"),
    )
    .expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let good = good.display().to_string();
    cases.push(
        Refusal::new(
            "a tenant's credentials file readable by others",
            tenant(&good, "acme"),
            2,
            &["holds a password but is readable by others; run `chmod 600` on it"],
        )
        .never(password),
    );
    cases.push(Refusal::new(
        "a tenant name with path tricks that is not in the file",
        tenant(&good, "../../etc"),
        2,
        &["no tenant '../../etc' (tenants: acme)"],
    ));
    cases.push(Refusal::new(
        "a tenants file that does not exist",
        tenant("/nonexistent/tenants.toml", "acme"),
        2,
        &["cannot read /nonexistent/tenants.toml"],
    ));
    let failures = check_cases(cases, Duration::from_secs(60)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    bed.assert_untouched().await;
    assert!(!bed.audit_dir().exists(), "no evidence folder");
}

/// Selector folders of `fixtures/hostile/selectors/` (`--selectors DIR`).
const BAD_SELECTOR_DIRS: &[(&str, &[&str])] = &[
    (
        "binary-junk",
        &[
            "binary-junk/catalog.toml",
            "stream did not contain valid UTF-8",
        ],
    ),
    (
        "duplicate-element",
        &["duplicate-element/b.toml: team.add_member: element already defined in"],
    ),
    (
        "locale-only-es",
        &["team.add_member.candidates: no candidate has text for locale 'en'"],
    ),
    (
        "missing-elements",
        &["the selector catalog lacks element(s) login.email_input"],
    ),
    (
        "no-candidates",
        &["team.add_member.candidates: needs at least one candidate"],
    ),
    (
        "not-toml-table",
        &["team: expected a table of elements ([area.element])"],
    ),
    (
        "path-name",
        &["../../etc.passwd: names are lower-case letters, digits and underscores"],
    ),
    (
        "tag-injection",
        &["team.add_member.candidates[0].tag: not an element name"],
    ),
    (
        "two-catalogs",
        &["two-catalogs/b.toml: catalog: [catalog] is already given in"],
    ),
    (
        "unknown-key",
        &["team.add_member.weight: unknown field `weight`"],
    ),
    (
        "unknown-locator",
        &["team.add_member.candidates[1].js: unknown field `js`"],
    ),
    (
        "wrong-types",
        &["catalog.version: invalid type: integer `2026`, expected a string"],
    ),
];

/// Override files of `fixtures/hostile/overrides/` (`--selector-overrides FILE`).
const BAD_OVERRIDE_FILES: &[(&str, &[&str])] = &[
    ("binary-junk.toml", &["stream did not contain valid UTF-8"]),
    (
        "empty-selector.toml",
        &["team.add_member.candidates[0]: empty selector"],
    ),
    ("syntax-error.toml", &["TOML parse error at line 1"]),
    (
        "two-kinds.toml",
        &["team.add_member.candidates[0]: give exactly one of text, label"],
    ),
    (
        "unknown-key.toml",
        &["team.add_member.descripton: unknown field `descripton`"],
    ),
    (
        "with-catalog.toml",
        &["catalog: an override file must not carry [catalog]"],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn bad_selector_folders_and_override_files_are_refused_before_any_browser() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let dirs = format!("{HOSTILE}/selectors");
    let overrides = format!("{HOSTILE}/overrides");
    assert_covered(
        &dirs,
        &BAD_SELECTOR_DIRS.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    assert_covered(
        &overrides,
        &BAD_OVERRIDE_FILES.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    let mut cases = Vec::new();
    for (dir, says) in BAD_SELECTOR_DIRS {
        let path = format!("{dirs}/{dir}");
        let mut case = Refusal::new(
            format!("--selectors {path}"),
            with(no_browser(&bed), &["--selectors", &path, "members"]),
            2,
            says,
        );
        if *dir != "missing-elements" {
            case.says.push(format!("selector file {path}"));
        }
        cases.push(case);
    }
    for (file, says) in BAD_OVERRIDE_FILES {
        let path = format!("{overrides}/{file}");
        let mut case = Refusal::new(
            format!("--selector-overrides {path}"),
            with(
                no_browser(&bed),
                &[
                    "--selector-overrides",
                    &path,
                    "deactivate",
                    "--email",
                    ADMIN,
                ],
            ),
            2,
            says,
        );
        case.says.push(path.clone());
        cases.push(case);
    }
    let empty = bed.dir.path().join("empty-selectors");
    std::fs::create_dir(&empty).expect("mkdir");
    cases.push(Refusal::new(
        "an empty selector folder",
        with(
            no_browser(&bed),
            &["--selectors", &empty.display().to_string(), "members"],
        ),
        2,
        &[&format!(
            "selector folder {} has no .toml files",
            empty.display()
        )],
    ));
    cases.push(Refusal::new(
        "a file given as the selector folder",
        with(
            no_browser(&bed),
            &[
                "--selectors",
                "fixtures/hostile/overrides/unknown-key.toml",
                "members",
            ],
        ),
        2,
        &["cannot read selector folder fixtures/hostile/overrides/unknown-key.toml: a regular file, not a folder"],
    ));
    cases.push(Refusal::new(
        "a selector folder that does not exist",
        with(
            no_browser(&bed),
            &["--selectors", "../../../nonexistent/selectors", "members"],
        ),
        2,
        &["cannot read selector folder ../../../nonexistent/selectors"],
    ));
    cases.push(Refusal::new(
        "an override file that does not exist",
        with(
            no_browser(&bed),
            &[
                "--selector-overrides",
                "/nonexistent/overrides.toml",
                "members",
            ],
        ),
        2,
        &["cannot read selector file /nonexistent/overrides.toml"],
    ));
    let failures = check_cases(cases, Duration::from_secs(60)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    bed.assert_untouched().await;
    assert!(!bed.audit_dir().exists(), "no evidence folder");
}

/// Seed files of `fixtures/hostile/seeds/` (`sandbox --seed FILE`).
const BAD_SEED_FILES: &[(&str, &[&str])] = &[
    ("binary-junk.toml", &["stream did not contain valid UTF-8"]),
    ("blank-name.toml", &["workspace.name is empty"]),
    (
        "duplicate-email.toml",
        &["members[1] (owner@x.example): email appears twice"],
    ),
    ("empty.toml", &["missing field `workspace`"]),
    (
        "huge-generate.toml",
        &["number too large to fit in target type"],
    ),
    (
        "no-owner.toml",
        &["exactly one member must have the owner role, found 0"],
    ),
    (
        "path-domain.toml",
        &["generate.domain is not a valid email domain"],
    ),
    (
        "quoted-email.toml",
        &["members[0] (\"o\"@x.example): email is not valid"],
    ),
    (
        "script-email.toml",
        &["members[0] (<script>alert(1)</script>@x.example): email is not valid"],
    ),
    ("unknown-group.toml", &["unknown group \"../../etc\""]),
    ("unknown-key.toml", &["unknown field `colour`"]),
    ("unknown-plan.toml", &["unknown variant `platinum`"]),
    (
        "wrong-types.toml",
        &["invalid value: integer `-5`, expected u32"],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn bad_seed_files_stop_the_sandbox_before_it_listens() {
    let dir = format!("{HOSTILE}/seeds");
    assert_covered(
        &dir,
        &BAD_SEED_FILES.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    let mut cases: Vec<Refusal> = BAD_SEED_FILES
        .iter()
        .map(|(file, says)| {
            let path = format!("{dir}/{file}");
            let mut case = Refusal::new(
                format!("sandbox --seed {path}"),
                strings(&["sandbox", "--port", "0", "--seed", &path]),
                2,
                says,
            );
            case.says.push(path);
            case
        })
        .collect();
    cases.push(Refusal::new(
        "a seed file that does not exist",
        strings(&["sandbox", "--port", "0", "--seed", "/nonexistent/seed.toml"]),
        2,
        &["cannot read seed file /nonexistent/seed.toml"],
    ));
    // An accepted seed would serve until killed: the limit turns that into a failure.
    let failures = check_cases(cases, Duration::from_secs(REFUSAL_SECS)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_command_line_values_are_refused_before_any_browser() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let nb = || no_browser(&bed);
    let audit_file = bed.dir.path().join("audit-is-a-file");
    std::fs::write(&audit_file, b"not a folder").expect("write");
    let audit_file = audit_file.display().to_string();
    let creds_open = bed.dir.path().join("open-creds.toml");
    let creds_typed = bed.dir.path().join("typed-creds.toml");
    let creds_junk = bed.dir.path().join("junk-creds.toml");
    let password = "cli-corpus-password-Zk3";
    std::fs::write(&creds_open, format!("password = \"{password}\"\n")).expect("write");
    std::fs::write(
        &creds_typed,
        "email = \"it-bot@acme.example\"\npassword = 42\n",
    )
    .expect("write");
    let mut junk = b"\x7fELF\x02\x01\xff\xfe password = \"".to_vec();
    junk.extend_from_slice(password.as_bytes());
    std::fs::write(&creds_junk, junk).expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        mode(&creds_open, 0o644);
        mode(&creds_typed, 0o600);
        mode(&creds_junk, 0o600);
    }
    let creds = |p: &PathBuf| p.display().to_string();
    let plan = "fixtures/plans/plan.csv";
    let desired = "fixtures/plans/desired.csv";
    let script = "<script>alert(1)</script>@acme.example";
    let cases = vec![
        Refusal::new(
            "invite of an email that is a script tag",
            with(nb(), &["invite", "--email", script]),
            2,
            &[&format!("'{script}' is not a valid email address")],
        ),
        Refusal::new(
            "invite of a quoted local part",
            with(nb(), &["invite", "--email", "\"ana\"@acme.example"]),
            2,
            &["'\"ana\"@acme.example' is not a valid email address"],
        ),
        Refusal::new(
            "two addresses in one --email",
            with(
                nb(),
                &["invite", "--email", "ana@acme.example,bo@acme.example"],
            ),
            2,
            &["is not a valid email address"],
        ),
        Refusal::new(
            "an address with a space",
            with(nb(), &["deactivate", "--email", "ana smith@acme.example"]),
            2,
            &["'ana smith@acme.example' is not a valid email address"],
        ),
        Refusal::new(
            "an account that is a script tag",
            with(nb(), &["--account", script, "members"]),
            2,
            &[&format!("account '{script}' is not a valid email address")],
        ),
        Refusal::new(
            "--manages with a script tag",
            with(
                nb(),
                &[
                    "set-role",
                    "--email",
                    "sam.sales@acme.example",
                    "--role",
                    "team-manager",
                    "--manages",
                    script,
                ],
            ),
            2,
            &["is not a valid email address"],
        ),
        Refusal::new(
            "--manages group: without a name",
            with(
                nb(),
                &[
                    "set-role",
                    "--email",
                    "sam.sales@acme.example",
                    "--role",
                    "team-manager",
                    "--manages",
                    "group:",
                ],
            ),
            2,
            &["--manages group: needs a group name"],
        ),
        Refusal::new(
            "--protect with a quoted address",
            with(
                nb(),
                &[
                    "sync",
                    "--desired",
                    desired,
                    "--protect",
                    "\"x\"@acme.example",
                ],
            ),
            2,
            &["--protect '\"x\"@acme.example' is not a valid email address"],
        ),
        Refusal::new(
            "a javascript: base URL",
            with(no_browser_at(&bed, "javascript:alert(1)"), &["members"]),
            2,
            &["'javascript:alert(1)' is not an http(s) URL"],
        ),
        Refusal::new(
            "a file: base URL",
            with(no_browser_at(&bed, "file:///etc/passwd"), &["members"]),
            2,
            &["'file:///etc/passwd' is not an http(s) URL"],
        ),
        Refusal::new(
            "a base URL without a host",
            with(no_browser_at(&bed, "http://"), &["members"]),
            2,
            &["'http://' is not an http(s) URL"],
        ),
        Refusal::new(
            "a WebDriver URL that is not a URL",
            with(nb(), &["--webdriver-url", "not a url", "members"]),
            2,
            &["--webdriver-url 'not a url'"],
        ),
        Refusal::new(
            "a locale with path tricks",
            with(nb(), &["--locale", "../../evil", "members"]),
            2,
            &["locale '../../evil' is not supported"],
        ),
        Refusal::new(
            "a locale that is another host",
            with(nb(), &["--locale", "/127.0.0.1:9", "members"]),
            2,
            &["locale '/127.0.0.1:9' is not supported"],
        ),
        Refusal::new(
            "--parallel 0",
            with(nb(), &["apply", "--plan", plan, "--parallel", "0"]),
            2,
            &["--parallel must be at least 1"],
        ),
        Refusal::new(
            "--resume of a folder that does not exist",
            with(nb(), &["apply", "--resume", "../../nonexistent-batch"]),
            2,
            &["journal ../../nonexistent-batch/journal.jsonl"],
        ),
        Refusal::new(
            "an audit folder that is a file",
            strings(&[
                "--base-url",
                &bed.sandbox.url(),
                "--driver-path",
                NO_DRIVER,
                "--audit-dir",
                &audit_file,
                "apply",
                "--plan",
                plan,
            ]),
            2,
            &[&format!(
                "cannot create the batch folder {audit_file}/batch-"
            )],
        ),
        Refusal::new(
            "a credentials file readable by others",
            with(nb(), &["--credentials", &creds(&creds_open), "members"]),
            2,
            &["holds a password but is readable by others"],
        )
        .never(password),
        Refusal::new(
            "a credentials file with a number for the password",
            with(nb(), &["--credentials", &creds(&creds_typed), "members"]),
            2,
            &["password: invalid type: integer `42`, expected a string"],
        ),
        Refusal::new(
            "a credentials file of binary junk",
            with(nb(), &["--credentials", &creds(&creds_junk), "members"]),
            2,
            &["stream did not contain valid UTF-8"],
        )
        .never(password),
    ];
    let failures = check_cases(cases, Duration::from_secs(60)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    bed.assert_untouched().await;
    assert!(!bed.audit_dir().exists(), "no evidence folder");
}

/// A valid plan of `rows` items (plus the header line): distinct members, mixed actions.
fn big_plan(rows: usize) -> String {
    let mut text = String::from("action,email,role,manages,projects\n");
    for i in 1..=rows {
        let line = match i % 4 {
            0 => format!("invite,new{i}@acme.example,,,\n"),
            1 => format!("deactivate,member{i}@acme.example,,,\n"),
            2 => format!("set-role,member{i}@acme.example,admin,,\n"),
            _ => format!("set-role,member{i}@acme.example,team-manager,group:Sales,\n"),
        };
        text.push_str(&line);
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn a_10000_line_plan_is_validated_whole_and_fast_and_an_unreachable_webdriver_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit");
    let plan = dir.path().join("big.csv");
    let text = big_plan(9_999);
    assert_eq!(text.lines().count(), 10_000);
    std::fs::write(&plan, &text).expect("write");
    let webdriver = "http://127.0.0.1:9/hostile-wd";
    let args = |plan: &Path| {
        strings(&[
            "--base-url",
            "http://127.0.0.1:9",
            "--webdriver-url",
            webdriver,
            "--audit-dir",
            &audit.display().to_string(),
            "apply",
            "--plan",
            &plan.display().to_string(),
        ])
    };
    // Valid: accepted whole, then the WebDriver cannot be reached (exit 3, naming the URL).
    let (out, elapsed) = agent(&args(&plan), None, Duration::from_secs(60)).await;
    assert_eq!(out.code, 3, "{}", out.all_output());
    assert!(
        out.stderr.contains("batch of 9999 item(s)"),
        "validated: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(webdriver),
        "names the URL: {}",
        out.stderr
    );
    assert!(
        elapsed < Duration::from_secs(20),
        "validation of 10,000 lines took {elapsed:?}"
    );
    let batches: Vec<PathBuf> = std::fs::read_dir(&audit)
        .expect("a batch folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert!(
        batches[0].join("journal.jsonl").is_file(),
        "the journal of a validated batch"
    );

    // One bad row near the end refuses the whole file, naming only that line.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[9_875] = "set-role,member9876@acme.example,boss,,".into();
    let bad = dir.path().join("big-bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("write");
    let (out, _) = agent(&args(&bad), None, Duration::from_secs(60)).await;
    assert_eq!(out.code, 2, "{}", out.all_output());
    let shown = bad.display().to_string();
    assert!(
        out.stderr
            .contains(&format!("{shown}: 1 problem; nothing was done"))
            && out
                .stderr
                .contains(&format!("{shown}:9876: unknown role 'boss'")),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_dir(&audit).expect("audit").count(),
        1,
        "no batch folder for the refused plan"
    );

    // A single action against an unreachable WebDriver: exit 3, the URL in the message.
    let (out, _) = agent(
        &strings(&[
            "--base-url",
            "http://127.0.0.1:9",
            "--webdriver-url",
            webdriver,
            "--account",
            ADMIN,
            "--otp-command",
            "echo ABC123",
            "--audit-dir",
            &audit.display().to_string(),
            "invite",
            "--email",
            "new@acme.example",
        ]),
        None,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.code, 3, "{}", out.all_output());
    assert!(out.stderr.contains(webdriver), "{}", out.stderr);
}

/// Requests a tiny server received.
type Hits = Arc<Mutex<Vec<String>>>;

#[derive(Clone)]
struct Redirector {
    target: String,
    hits: Hits,
}

async fn redirect_everything(State(r): State<Redirector>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    r.hits
        .lock()
        .expect("hits")
        .push(format!("{} {path}", request.method()));
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("{}{path}", r.target))],
    )
        .into_response()
}

/// Serves on 127.0.0.1 (a port of its own: another origin), redirecting every request to the
/// same path on `target`. Returns its URL and what it received.
async fn start_redirector(target: String) -> (String, Hits, tokio::task::JoinHandle<()>) {
    let hits: Hits = Arc::default();
    let app = axum::Router::new()
        .fallback(redirect_everything)
        .with_state(Redirector {
            target,
            hits: Arc::clone(&hits),
        });
    let (url, task) = serve(app).await;
    (url, hits, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_url_that_redirects_to_another_origin_gets_no_credentials() {
    // The "foreign" page is a real sandbox on another port: its login page works, and its
    // mailbox shows any code the agent would have asked it for.
    let foreign = RunningSandbox::start_local(SandboxConfig::default())
        .await
        .expect("foreign sandbox");
    let (base, hits, task) = start_redirector(foreign.url()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("otp-command-ran");
    let (out, _) = agent(
        &strings(&[
            "--base-url",
            &base,
            "--account",
            ADMIN,
            "--otp-command",
            &format!("touch '{}'; echo ABC123", marker.display()),
            "--audit-dir",
            &dir.path().join("audit").display().to_string(),
            "deactivate",
            "--email",
            "sam.sales@acme.example",
        ]),
        None,
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(out.code, 4, "{}", out.all_output());
    assert!(
        out.stderr.contains(&format!(
            "the sign-in page is at {}, not on {base}; refusing to type credentials there",
            foreign.url()
        )),
        "names both origins: {}",
        out.stderr
    );
    assert!(
        hits.lock()
            .expect("hits")
            .iter()
            .any(|h| h == "GET /en/login"),
        "the agent went through the redirecting base URL"
    );
    let http = reqwest::Client::new();
    let get = |path: &str| get_json(&http, format!("{}{path}", foreign.url()));
    assert_eq!(
        get("/__sandbox/mailbox").await,
        serde_json::json!([]),
        "no code was requested from the foreign page (the email was never typed)"
    );
    assert_eq!(get("/__sandbox/mutations").await, serde_json::json!([]));
    assert!(!marker.exists(), "the code command never ran");
    task.abort();
}

/// Every path under `root`, relative to it.
fn tree(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(root).expect("under root").to_path_buf());
            if entry.file_type().expect("type").is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_never_shape_paths_outside_the_audit_folder() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let root = bed.dir.path();
    let cwd = root.join("a/b/c");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    // The tenant's name, the ticket, the actor and the member's email all carry path tricks
    // (and markup and a spreadsheet formula); only the audit folder may receive files.
    let tenants = root.join("tenants.toml");
    std::fs::write(
        &tenants,
        format!(
            "[tenants.\"../../etc\"]\nbase_url = \"{}\"\naccount = \"{ADMIN}\"\n\
             otp_command = '''{}'''\n",
            bed.sandbox.url(),
            bed.otp_command()
        ),
    )
    .expect("write");
    let email = "../../../pwn'ö@acme.example";
    let ticket = "=<script>alert(1)</script>/../../../ticket-x";
    let actor = "@SUM(1+1)*cmd|' /C calc'!A0/../../actor-x";
    let (out, _) = agent(
        &strings(&[
            "--config",
            "../../../tenants.toml",
            "--tenant",
            "../../etc",
            "--audit-dir",
            "audit",
            "--ticket",
            ticket,
            "--actor",
            actor,
            "invite",
            "--email",
            email,
        ]),
        Some(&cwd),
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert_eq!(
        bed.status(email).await,
        "PENDING",
        "the odd but valid address is invited as written"
    );
    assert_eq!(
        bed.accepted_mutations().await,
        vec![("invite".to_string(), email.to_string())]
    );

    let paths = tree(root);
    let audit = Path::new("a/b/c/audit");
    for path in &paths {
        let allowed = path.starts_with(audit)
            || [Path::new("tenants.toml"), Path::new("a"), Path::new("a/b")]
                .contains(&path.as_path())
            || path == Path::new("a/b/c");
        assert!(
            allowed,
            "{} was created outside the audit folder",
            path.display()
        );
        let name = path.to_string_lossy();
        for word in ["pwn", "ticket", "actor", "etc", "script", ".."] {
            assert!(!name.contains(word), "{word:?} shaped the path {name}");
        }
    }
    let runs: Vec<&PathBuf> = paths.iter().filter(|p| p.parent() == Some(audit)).collect();
    assert_eq!(runs.len(), 1, "{paths:?}");
    let run_name = runs[0].file_name().expect("name").to_string_lossy();
    assert!(
        run_name.len() == 25
            && run_name[..16].chars().all(|c| c.is_ascii_alphanumeric())
            && run_name[16..].starts_with('-')
            && run_name[17..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "run folder is <UTC time>-<run id>: {run_name}"
    );
    let shots: Vec<String> = paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        shots.iter().cloned().collect::<BTreeSet<_>>(),
        ["0001-invite-before.png", "0002-invite-after.png"]
            .map(String::from)
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
    // The hostile strings are recorded as data, verbatim.
    let events = std::fs::read_to_string(root.join(runs[0]).join("events.jsonl")).expect("events");
    for recorded in [ticket, "../../etc", email] {
        let json = serde_json::to_string(recorded).expect("json");
        assert!(events.contains(&json), "{recorded} recorded verbatim");
    }

    // The report escapes them: no markup runs, no formula starts a CSV field.
    let (report, _) = agent(
        &strings(&["audit", "report", "audit", "--out", "report"]),
        Some(&cwd),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(report.code, 0, "{}", report.all_output());
    let html = std::fs::read_to_string(cwd.join("report/report.html")).expect("report");
    assert!(
        !html.contains("<script>alert"),
        "markup escaped in the report"
    );
    assert!(html.contains("&lt;script&gt;alert(1)"), "shown as text");
    let csv = std::fs::read_to_string(cwd.join("report/evidence-index.csv")).expect("index");
    for formula in ["=<script>", "@SUM("] {
        assert!(
            csv.contains(&format!("'{formula}")) && !csv.contains(&format!(",{formula}")),
            "the formula {formula} is neutralised in the index: {csv}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_session_file_on_dev_null_is_refused_and_left_alone() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let tenants = bed.dir.path().join("tenants.toml");
    std::fs::write(
        &tenants,
        format!(
            "[tenants.acme]\nbase_url = \"{}\"\nsession_file = \"/dev/null\"\n",
            bed.sandbox.url()
        ),
    )
    .expect("write");
    let (out, _) = agent(
        &strings(&[
            "--config",
            &tenants.display().to_string(),
            "--tenant",
            "acme",
            "--audit-dir",
            &bed.audit_dir().display().to_string(),
            "members",
        ]),
        None,
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(out.code, 2, "{}", out.all_output());
    assert!(
        out.stderr
            .contains("cannot read session file /dev/null: a character device, not a regular file"),
        "{}",
        out.stderr
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .expect("/dev/null")
            .file_type()
            .is_char_device(),
        "/dev/null is still the device"
    );
    bed.assert_untouched().await;
}
