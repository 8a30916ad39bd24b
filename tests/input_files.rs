//! Input files that are not regular files: every file the agent reads (`apply --plan`,
//! `sync --desired`, `--config`, `--selectors DIR` and the files in it, `--selector-overrides`,
//! `--credentials`, `--session-file`, and the tenant's own paths) given as a symbolic link to
//! `/dev/zero`, a FIFO with no writer, or a folder. Each is refused at once with exit 2 and an
//! error naming the file and what it is instead, before any browser starts (the driver path does
//! not exist, so a browser start would exit 3), and nothing changes: the sandbox's mutation log
//! and mailbox stay empty and no evidence folder is made. A FIFO that the agent opened would
//! block it for ever; every run has a time limit, so a hang fails the test instead of stalling it.
//!
//! Also: a bad `base_url` in a tenants file is reported naming the file and the tenant, and
//! top-level errors of a tenants or credentials file and an empty selector folder read plainly.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clockify_ui_agent::sandbox::UiVersion;

mod agent_common;

use agent_common::{
    agent_command, check_refusals, output_within, strings, with, Bed, Refusal, Run, ADMIN,
    NO_DRIVER,
};

/// How long one refusal may take; it needs no browser, no network and no file content.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs the agent binary with a clean environment and stdin closed, killing it after [`LIMIT`]
/// (a hang, such as blocking on a FIFO, is reported as exit -1).
async fn agent(args: &[String]) -> Run {
    output_within(agent_command(args), LIMIT).await.0
}

/// What stands where a file (or folder) is expected.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A symbolic link to `/dev/zero` (endless zeros if read).
    DevZero,
    /// A FIFO with no writer (opening it for reading blocks).
    Fifo,
    /// A folder.
    Folder,
    /// A regular file (wrong where a folder is expected).
    File,
}

impl Kind {
    /// What the error says it found.
    fn found(self) -> &'static str {
        match self {
            Kind::DevZero => "a character device",
            Kind::Fifo => "a FIFO (named pipe)",
            Kind::Folder => "a folder",
            Kind::File => "a regular file",
        }
    }

    /// Makes one at `path`.
    fn make(self, path: &Path) {
        match self {
            Kind::DevZero => std::os::unix::fs::symlink("/dev/zero", path).expect("symlink"),
            Kind::Fifo => {
                // The `mkfifo` command: nix's mkfifo needs a nix feature the agent does not use.
                let made = std::process::Command::new("mkfifo")
                    .arg(path)
                    .status()
                    .expect("mkfifo runs");
                assert!(made.success(), "mkfifo {}", path.display());
            }
            Kind::Folder => std::fs::create_dir(path).expect("mkdir"),
            Kind::File => std::fs::write(path, "# a file\n").expect("write"),
        }
    }

    /// Whether `path` is still what [`Kind::make`] made (nothing replaced or removed it).
    fn still_at(self, path: &Path) -> bool {
        let Ok(link) = std::fs::symlink_metadata(path) else {
            return false;
        };
        match self {
            Kind::DevZero => {
                link.file_type().is_symlink()
                    && std::fs::read_link(path).is_ok_and(|t| t == Path::new("/dev/zero"))
            }
            Kind::Fifo => link.file_type().is_fifo(),
            Kind::Folder => link.is_dir(),
            Kind::File => link.is_file(),
        }
    }
}

const NON_FILES: [Kind; 3] = [Kind::DevZero, Kind::Fifo, Kind::Folder];

/// Runs every case (each must exit 2 within [`LIMIT`]) and collects every mismatch, so one run
/// shows all of them.
async fn check(cases: Vec<Refusal>) -> Vec<String> {
    check_refusals(cases, LIMIT, LIMIT, |_| None).await
}

/// Asserts that the sandbox saw no mutating request, mailed nothing, and no evidence was made.
async fn assert_untouched(bed: &Bed) {
    bed.assert_untouched().await;
    assert!(!bed.audit_dir().exists(), "no evidence or batch folder");
}

/// The options every case starts with: the sandbox as base URL (so "nothing changed" is checked
/// where a change would land), an account and a code command (so only the input stops the run),
/// and a driver that does not exist.
fn base_args(bed: &Bed) -> Vec<String> {
    bed.code_args(ADMIN, &["--driver-path", NO_DRIVER])
}

/// A folder under the test folder for one option's inputs.
fn subdir(bed: &Bed, name: &str) -> PathBuf {
    let dir = bed.dir.path().join(name);
    std::fs::create_dir(&dir).expect("mkdir");
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_fifos_and_folders_as_input_files_are_refused_at_once_changing_nothing() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let mut cases = Vec::new();
    let mut made: Vec<(PathBuf, Kind)> = Vec::new();
    let mut make = |dir: &Path, name: &str, kind: Kind| -> String {
        let path = dir.join(name);
        kind.make(&path);
        made.push((path.clone(), kind));
        path.display().to_string()
    };

    // Files named on the command line. Names carry the right extension, so that the refusal is
    // about what the path is and not its name.
    let options: [(&str, &[&str], &str, &[&str]); 7] = [
        ("plan", &["apply", "--plan"], "plan.csv", &[]),
        ("desired", &["sync", "--desired"], "desired.csv", &[]),
        (
            "config",
            &["--config"],
            "tenants.toml",
            &["--tenant", "acme"],
        ),
        (
            "overrides",
            &["--selector-overrides"],
            "overrides.toml",
            &[],
        ),
        ("credentials", &["--credentials"], "credentials.toml", &[]),
        ("session", &["--session-file"], "session.json", &[]),
        // `login` writes the session file too: a non-file there is refused before anything.
        ("login-session", &["--session-file"], "session.json", &[]),
    ];
    for (label, option, name, extra) in options {
        let dir = subdir(&bed, label);
        for kind in NON_FILES {
            let path = make(&dir, &format!("{kind:?}-{name}"), kind);
            let mut args = base_args(&bed);
            let command_first = option[0] == "apply" || option[0] == "sync";
            if !command_first {
                args = with(args, option);
                args.push(path.clone());
                args = with(args, extra);
            }
            let tail: Vec<&str> = match label {
                _ if command_first => vec![option[0], option[1], &path],
                "login-session" => vec!["login"],
                "overrides" | "credentials" => vec!["deactivate", "--email", ADMIN],
                _ => vec!["members"],
            };
            args = with(args, &tail);
            // The error names what the file is for, where the agent knows more than its name.
            let subject = match label {
                _ if label.ends_with("session") => format!("cannot read session file {path}"),
                "overrides" => format!("cannot read selector file {path}"),
                "plan" => format!("cannot read plan file {path}"),
                "desired" => format!("cannot read desired-state file {path}"),
                _ => format!("cannot read {path}"),
            };
            cases.push(Refusal::new(
                format!("{label}: {kind:?}"),
                args,
                2,
                &[&format!("{subject}: {}, not a regular file", kind.found())],
            ));
        }
    }

    // `--selectors DIR`: a folder is expected, and in it every `*.toml` must be a file.
    let dir = subdir(&bed, "selectors");
    for kind in [Kind::DevZero, Kind::Fifo, Kind::File] {
        let path = make(&dir, &format!("{kind:?}-selectors"), kind);
        cases.push(Refusal::new(
            format!("--selectors: {kind:?}"),
            with(base_args(&bed), &["--selectors", &path, "members"]),
            2,
            &[&format!(
                "cannot read selector folder {path}: {}, not a folder",
                kind.found()
            )],
        ));
    }
    for kind in NON_FILES {
        let folder = dir.join(format!("with-{kind:?}"));
        std::fs::create_dir(&folder).expect("mkdir");
        // A real catalog file next to it: the bad entry is refused, not skipped.
        std::fs::copy("selectors/catalog.toml", folder.join("catalog.toml")).expect("copy");
        let entry = make(&folder, "zz-extra.toml", kind);
        cases.push(Refusal::new(
            format!("a {kind:?} in the --selectors folder"),
            with(
                base_args(&bed),
                &["--selectors", &folder.display().to_string(), "members"],
            ),
            2,
            &[&format!(
                "cannot read selector file {entry}: {}, not a regular file",
                kind.found()
            )],
        ));
    }

    // The same through a tenant's own paths (relative to the tenants file).
    let dir = subdir(&bed, "tenant");
    let fifo_credentials = make(&dir, "credentials.toml", Kind::Fifo);
    let zero_session = make(&dir, "session.json", Kind::DevZero);
    let folder_overrides = make(&dir, "overrides.toml", Kind::Folder);
    let tenant = |key: &str, value: &str| -> Vec<String> {
        let file = dir.join(format!("tenants-{key}.toml"));
        std::fs::write(
            &file,
            format!(
                "[tenants.acme]\nbase_url = \"{}\"\naccount = \"{ADMIN}\"\n{key} = \"{value}\"\n",
                bed.sandbox.url()
            ),
        )
        .expect("write");
        bed.tenant_args(&file.display().to_string(), "acme")
    };
    cases.push(Refusal::new(
        "a tenant's credentials_file is a FIFO",
        tenant("credentials_file", "credentials.toml"),
        2,
        &[&format!(
            "cannot read {fifo_credentials}: a FIFO (named pipe), not a regular file"
        )],
    ));
    cases.push(Refusal::new(
        "a tenant's session_file links to /dev/zero",
        tenant("session_file", "session.json"),
        2,
        &[&format!(
            "cannot read session file {zero_session}: a character device, not a regular file"
        )],
    ));
    cases.push(Refusal::new(
        "a tenant's selector_overrides is a folder",
        tenant("selector_overrides", "overrides.toml"),
        2,
        &[&format!(
            "cannot read selector file {folder_overrides}: a folder, not a regular file"
        )],
    ));

    let failures = check(cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for (path, kind) in &made {
        assert!(
            kind.still_at(path),
            "{} is still {kind:?}: nothing replaced or removed it",
            path.display()
        );
    }
    assert_untouched(&bed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_base_url_in_a_tenants_file_names_the_file_and_the_tenant() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let tenants = bed.dir.path().join("tenants.toml");
    let file = tenants.display().to_string();
    let password = "tenant-url-pw-4Zq";
    let cases = [
        (
            "ftp://files.acme.example/clockify".to_string(),
            format!(
                "{file}: tenant \"acme\": base_url: 'ftp://files.acme.example/clockify' is not an http(s) URL"
            ),
        ),
        (
            "acme.clockify.me".to_string(),
            format!("{file}: tenant \"acme\": base_url: 'acme.clockify.me' is not an http(s) URL"),
        ),
        (
            String::new(),
            format!("{file}: tenant \"acme\": base_url: '' is not an http(s) URL"),
        ),
        (
            format!("https://bot:{password}@acme.clockify.me"),
            format!("{file}: tenant \"acme\": base_url: must not carry a user name or password"),
        ),
    ];
    let args = bed.tenant_args(&file, "acme");
    for (url, says) in &cases {
        std::fs::write(
            &tenants,
            format!("[tenants.other]\nbase_url = \"{}\"\n\n[tenants.acme]\nbase_url = \"{url}\"\naccount = \"{ADMIN}\"\n", bed.sandbox.url()),
        )
        .expect("write");
        let out = agent(&args).await;
        assert_eq!(out.code, 2, "{url}: {}", out.all_output());
        assert!(
            out.stderr.contains(says.as_str()),
            "{url}: {}",
            out.all_output()
        );
        assert!(
            !out.stderr.contains("--base-url") && !out.stderr.contains("the Clockify base URL"),
            "the address came from the file, not from --base-url: {}",
            out.all_output()
        );
        assert!(!out.all_output().contains(password), "{}", out.all_output());
    }
    // A --base-url on the command line wins over the file's (and is named as such when bad).
    let mut bad = strings(&["--base-url", "gopher://x.example"]);
    bad.extend(args.iter().cloned());
    let out = agent(&bad).await;
    assert_eq!(out.code, 2, "{}", out.all_output());
    assert!(
        out.stderr
            .contains("the Clockify base URL 'gopher://x.example' is not an http(s) URL"),
        "{}",
        out.all_output()
    );
    // With a good --base-url the file's bad one is not used: the run gets as far as starting the
    // browser, which does not exist here (exit 3).
    let mut good = strings(&["--base-url", &bed.sandbox.url()]);
    good.extend(args);
    let out = agent(&good).await;
    assert_eq!(out.code, 3, "{}", out.all_output());
    assert_untouched(&bed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn top_level_errors_of_tenants_credentials_and_selector_folders_read_plainly() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let dir = bed.dir.path();
    let tenants_args = |file: &Path| bed.tenant_args(&file.display().to_string(), "acme");
    let password = "creds-syntax-pw-9Lm";
    let credentials = dir.join("credentials.toml");
    std::fs::write(
        &credentials,
        format!("email = \"{ADMIN}\"\npassword = {password}\n"),
    )
    .expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    let mut cases = Vec::new();
    for (name, text, says) in [
        ("empty.toml", "", "missing field `tenants`"),
        (
            "comment.toml",
            "# nothing here\n",
            "missing field `tenants`",
        ),
        (
            "syntax.toml",
            "[tenants.acme]\nbase_url = \"http://127.0.0.1:9\"\n[tenants.acme\n",
            "line 3: invalid table header: expected `.`, `]`",
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text).expect("write");
        cases.push((
            name.to_string(),
            tenants_args(&file),
            format!("{}: {says}", file.display()),
        ));
    }
    cases.push((
        "credentials syntax".into(),
        with(
            base_args(&bed),
            &[
                "--credentials",
                &credentials.display().to_string(),
                "members",
            ],
        ),
        format!("{}: line 2: ", credentials.display()),
    ));
    let empty = dir.join("no-toml-here");
    std::fs::create_dir(&empty).expect("mkdir");
    std::fs::write(empty.join("README.md"), "selectors go here\n").expect("write");
    cases.push((
        "selector folder without .toml files".into(),
        with(
            base_args(&bed),
            &["--selectors", &empty.display().to_string(), "members"],
        ),
        format!("selector folder {} has no .toml files", empty.display()),
    ));
    let mut failures = Vec::new();
    for (what, args, says) in cases {
        let out = agent(&args).await;
        let line = out
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        if out.code != 2
            || !line.contains(says.as_str())
            || line.contains(": .:")
            || line.contains("(no files)")
            || out.all_output().contains(password)
        {
            failures.push(format!(
                "{what}: expected exit 2 and {says:?}\n{}",
                out.all_output()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_untouched(&bed).await;
}

/// Runs `audit keygen` into `dir`: a private key (0600) and its public key (0644).
async fn keygen(dir: &Path) -> (PathBuf, PathBuf) {
    let private = dir.join("audit.pem");
    let public = dir.join("audit.pub.pem");
    let out = agent(&strings(&[
        "audit",
        "keygen",
        "--private",
        &private.display().to_string(),
        "--public",
        &public.display().to_string(),
    ]))
    .await;
    assert_eq!(out.code, 0, "keygen: {}", out.all_output());
    (private, public)
}

/// `--sign-key FILE` is read and checked when the options are resolved, before a browser starts:
/// a FIFO, a device, a folder, a private key readable by others, text that is not a key and a
/// public key in its place are each refused at once with exit 2, naming the option, the file and
/// the problem, and nothing changes (no audit or batch folder, no mutating request). A key from
/// `audit keygen` passes the check: the run gets as far as starting the browser (exit 3).
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_sign_key_is_refused_before_anything_changes() {
    use std::os::unix::fs::PermissionsExt;
    let bed = Bed::start(UiVersion::V2026_03).await;
    let dir = subdir(&bed, "keys");
    let (private, public) = keygen(&dir).await;
    let plan = bed.write(
        "plan.csv",
        "action,email,role,manages,projects\ndeactivate,sam.sales@acme.example,,,\n",
    );

    let mut keys: Vec<(String, PathBuf, String)> = Vec::new();
    let mut made = Vec::new();
    for kind in NON_FILES {
        let path = dir.join(format!("{kind:?}.pem"));
        kind.make(&path);
        made.push((path.clone(), kind));
        keys.push((
            format!("{kind:?}"),
            path,
            format!("cannot read: {}, not a regular file", kind.found()),
        ));
    }
    let open = dir.join("readable-by-others.pem");
    std::fs::copy(&private, &open).expect("copy");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    keys.push((
        "a private key readable by others".into(),
        open,
        "holds a private key but is readable by others; run `chmod 600` on it".into(),
    ));
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a key at all\n").expect("write");
    std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    keys.push((
        "text that is not a key".into(),
        junk,
        "not an ed25519 PKCS#8 PEM private key".into(),
    ));
    let swapped = dir.join("public-given.pem");
    std::fs::copy(&public, &swapped).expect("copy");
    std::fs::set_permissions(&swapped, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    keys.push((
        "the public key instead of the private one".into(),
        swapped,
        "not an ed25519 PKCS#8 PEM private key".into(),
    ));
    keys.push((
        "a key that does not exist".into(),
        dir.join("missing.pem"),
        "cannot read: No such file or directory".into(),
    ));

    let mut cases = Vec::new();
    for (what, path, problem) in &keys {
        let path = path.display().to_string();
        let says = format!("--sign-key: key file {path}: {problem}");
        for tail in [
            vec!["deactivate", "--email", "sam.sales@acme.example"],
            vec!["apply", "--plan", &plan],
        ] {
            let mut args = with(base_args(&bed), &["--sign-key", &path]);
            args = with(args, &tail);
            cases.push(Refusal::new(
                format!("--sign-key {what}, {}", tail[0]),
                args,
                2,
                &[&says],
            ));
        }
    }
    let failures = check(cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for (path, kind) in &made {
        assert!(kind.still_at(path), "{} is still {kind:?}", path.display());
    }
    assert_untouched(&bed).await;

    // The key `audit keygen` wrote passes: the run stops only at the missing browser.
    let out = agent(&with(
        base_args(&bed),
        &[
            "--sign-key",
            &private.display().to_string(),
            "deactivate",
            "--email",
            "sam.sales@acme.example",
        ],
    ))
    .await;
    assert_eq!(out.code, 3, "{}", out.all_output());
    assert!(!out.stderr.contains("sign-key"), "{}", out.all_output());
    assert_untouched(&bed).await;
}

/// `apply --resume DIR` reads the journal (and the plan its header names) only as regular files
/// of bounded size: a journal that is a FIFO, a link to `/dev/zero` or a folder, and a header
/// naming a plan that is a FIFO, are refused at once with exit 2 naming the file and what it is.
/// Nothing changes and the journal stays what it was.
#[tokio::test(flavor = "multi_thread")]
async fn a_journal_that_is_not_a_file_is_refused_at_once() {
    let bed = Bed::start(UiVersion::V2026_03).await;
    let mut cases = Vec::new();
    let mut made = Vec::new();
    for kind in NON_FILES {
        let batch = subdir(&bed, &format!("batch-{kind:?}"));
        let journal = batch.join("journal.jsonl");
        kind.make(&journal);
        made.push((journal.clone(), kind));
        cases.push(Refusal::new(
            format!("journal: {kind:?}"),
            with(
                base_args(&bed),
                &["apply", "--resume", &batch.display().to_string()],
            ),
            2,
            &[&format!(
                "journal {}: {}, not a regular file",
                journal.display(),
                kind.found()
            )],
        ));
    }
    // A real journal whose header names a plan that is a FIFO.
    let batch = subdir(&bed, "batch-plan-fifo");
    let plan = batch.join("plan.csv");
    Kind::Fifo.make(&plan);
    made.push((plan.clone(), Kind::Fifo));
    std::fs::write(
        batch.join("journal.jsonl"),
        format!(
            "{}\n",
            serde_json::json!({
                "journal": "clockify-ui-agent",
                "version": 1,
                "plan_sha256": "0".repeat(64),
                "plan_path": plan.display().to_string(),
                "at": "2026-11-30T05:20:46Z",
            })
        ),
    )
    .expect("write");
    cases.push(Refusal::new(
        "the plan a journal names is a FIFO",
        with(
            base_args(&bed),
            &["apply", "--resume", &batch.display().to_string()],
        ),
        2,
        &[&format!(
            "cannot read plan file {}: a FIFO (named pipe), not a regular file",
            plan.display()
        )],
    ));
    let failures = check(cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for (path, kind) in &made {
        assert!(kind.still_at(path), "{} is still {kind:?}", path.display());
    }
    assert_untouched(&bed).await;
}
