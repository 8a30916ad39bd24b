//! Every file in `fixtures/plans/bad/` is refused with exactly the expected problems: their lines
//! and messages. Files named `desired-*` are read as desired-state files, the others as plans.
//! The folder doubles as a hostile-input corpus; a file added there without an entry here fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clockify_ui_agent::jobs::{self, PlanError};

const BAD: &str = "fixtures/plans/bad";

/// (file, [(line, a fragment of the message)]) — the problems, in order, all of them.
const CASES: &[(&str, &[(usize, &str)])] = &[
    ("empty.csv", &[(1, "the file is empty")]),
    ("blank-lines-only.csv", &[(1, "the file is empty")]),
    (
        "header-only.csv",
        &[(1, "only a header: the file has no rows")],
    ),
    (
        "binary-junk.csv",
        &[(1, "not UTF-8 text (byte 0x89); is this a binary file?")],
    ),
    (
        "nul-bytes.csv",
        &[(
            3,
            "contains the control character U+0000; is this a binary file?",
        )],
    ),
    (
        "utf16.csv",
        &[(1, "the file is UTF-16 encoded; save it as UTF-8")],
    ),
    ("latin1.csv", &[(3, "not UTF-8 text (byte 0xE9)")]),
    (
        "no-header.csv",
        &[(
            1,
            "the first line is not a header: expected the columns action, email, role, manages, \
             projects (found 'invite', 'ana@acme.example')",
        )],
    ),
    (
        "header-problems.csv",
        &[
            (
                1,
                "unknown column 'department' (the columns are: action, email",
            ),
            (1, "column 4 of the header has no name"),
            (1, "the column 'email' appears twice in the header"),
        ],
    ),
    (
        "missing-email-column.csv",
        &[(1, "the header lacks the column 'email'")],
    ),
    (
        "field-count.csv",
        &[
            (3, "4 fields, but the header has 3 columns"),
            (4, "2 fields, but the header has 3 columns"),
        ],
    ),
    (
        "unknown-action.csv",
        &[
            (
                2,
                "unknown action 'delete' (one of: invite, set-role, deactivate, reactivate, \
                 resend-invite, revoke-invite)",
            ),
            (4, "unknown action 'set_role'"),
            (5, "missing 'action'"),
        ],
    ),
    (
        "unknown-role.csv",
        &[
            (2, "the owner role cannot be given by the agent"),
            (
                3,
                "unknown role 'superuser' (one of: admin, team-manager, project-manager, regular)",
            ),
            (4, "set-role needs a 'role'"),
            // "Team Manager" is read as team-manager, which then lacks its scope.
            (5, "team-manager needs 'manages'"),
        ],
    ),
    (
        "role-on-wrong-row.csv",
        &[
            (
                2,
                "a 'role' is only allowed on set-role rows, not on deactivate",
            ),
            (
                3,
                "a 'role' is only allowed on set-role rows, not on invite",
            ),
        ],
    ),
    (
        "missing-scope.csv",
        &[
            (
                2,
                "team-manager needs 'manages': the members' emails or group:NAME",
            ),
            (3, "project-manager needs 'projects'"),
            (4, "team-manager needs 'manages'"),
        ],
    ),
    (
        "scope-wrong-role.csv",
        &[
            (
                2,
                "'manages' is only for the team-manager role, not for admin",
            ),
            (
                3,
                "'projects' is only for the project-manager role, not for team-manager",
            ),
            (
                4,
                "'manages' is only for the team-manager role, not for invite",
            ),
            (
                5,
                "'projects' is only for the project-manager role, not for regular",
            ),
        ],
    ),
    (
        "bad-scope-entries.csv",
        &[
            (2, "an empty group name in 'manages'"),
            (3, "malformed entry 'not-an-email' in 'manages'"),
        ],
    ),
    (
        "malformed-emails.csv",
        &[
            (2, "malformed email 'no-at-sign.example'"),
            (3, "malformed email 'ana@localhost'"),
            (4, "malformed email '\\\"ana\\\"@acme.example'"),
            (
                5,
                "malformed email '<script>alert(1)</script>@acme.example'",
            ),
            (
                6,
                "malformed email 'ana@acme.example,bo@acme.example' (one address per row)",
            ),
            (7, "malformed email 'ana smith@acme.example'"),
            (
                8,
                "'email' contains the invisible or control character U+202E",
            ),
            (
                9,
                "'email' contains the invisible or control character U+200B",
            ),
            (10, "the email is longer than 254 characters"),
            (11, "malformed email 'ana@@acme.example'"),
            (12, "missing 'email'"),
            // A quoted value over two lines is reported on the line where it starts.
            (
                13,
                "'email' contains the invisible or control character U+000A",
            ),
        ],
    ),
    (
        "duplicates.csv",
        &[
            (4, "duplicate of line 2 (deactivate ana@acme.example)"),
            (7, "duplicate of line 5 (set-role cy@acme.example)"),
            (8, "duplicate of line 3 (invite bo@acme.example)"),
        ],
    ),
    (
        "conflicts.csv",
        &[
            (
                3,
                "reactivate conflicts with deactivate on line 2 for ana@acme.example: one leaves \
                 the member active, the other inactive",
            ),
            (
                5,
                "conflicts with line 4 for bo@acme.example: line 4 makes them admin, this line \
                 regular",
            ),
            (
                7,
                "revoke-invite conflicts with invite on line 6 for cy@acme.example",
            ),
            (
                9,
                "the invite of dee@acme.example comes after its set-role on line 8; rows run in \
                 file order: put the invite first",
            ),
            (
                11,
                "deactivate conflicts with invite on line 10 for eve@acme.example",
            ),
            (
                13,
                "reactivate conflicts with resend-invite on line 12 for fay@acme.example",
            ),
            (
                15,
                "conflicts with line 14 for gus@acme.example: line 14 makes them project-manager \
                 of Mobile App, this line project-manager of Internal Tools",
            ),
            // Lines 16-17 (demote, then deactivate) are allowed.
        ],
    ),
    ("empty.json", &[(1, "the file is empty")]),
    ("whitespace-only.json", &[(1, "the file is empty")]),
    (
        "not-json.json",
        &[(1, "invalid JSON: expected value (column 1)")],
    ),
    (
        "truncated.json",
        &[(3, "invalid JSON: EOF while parsing a string (column 43)")],
    ),
    (
        "top-level-object.json",
        &[(
            2,
            "expected an array of objects ([{...}, ...]), found an object",
        )],
    ),
    (
        "top-level-string.json",
        &[(
            1,
            "expected an array of objects ([{...}, ...]), found a string",
        )],
    ),
    (
        "empty-array.json",
        &[(1, "the array is empty: the file has no items")],
    ),
    (
        "wrong-item-types.json",
        &[
            (2, "item 1: expected an object, found a number"),
            (3, "item 2: expected an object, found a string"),
            (4, "item 3: expected an object, found null"),
            (5, "item 4: expected an object, found an array"),
        ],
    ),
    (
        "wrong-value-types.json",
        &[
            (2, "'email' must be a string, found a number"),
            (3, "'action' must be a string, found a boolean"),
            (4, "'role' must be a string, found an array"),
            (
                5,
                "'manages' must be an array of strings or a ';'-separated string, found a number",
            ),
            (6, "'manages' must list strings, found a number"),
            (7, "'email' must be a string, found an object"),
        ],
    ),
    (
        "unknown-keys.json",
        &[
            (2, "unknown key 'Email' (did you mean 'email'?)"),
            (
                3,
                "unknown key 'department' (the keys are: action, email, role, manages, projects)",
            ),
            (4, "unknown key '__proto__'"),
        ],
    ),
    (
        "duplicate-key.json",
        &[(2, "the key 'email' appears twice")],
    ),
    (
        "trailing-garbage.json",
        &[(2, "invalid JSON: trailing characters (column 1)")],
    ),
    (
        "deep-nesting.json",
        &[(2, "invalid JSON: recursion limit exceeded")],
    ),
    (
        "hostile-strings.json",
        &[
            (
                2,
                "malformed email '<script>alert(1)</script>@acme.example'",
            ),
            (3, "malformed email '\\\"ana\\\"@acme.example'"),
            (
                4,
                "'email' contains the invisible or control character U+202E: \
                 'ana\\u{202e}@acme.example'",
            ),
            (
                5,
                "'email' contains the invisible or control character U+0000",
            ),
            // The terminal escape is shown escaped, never sent to the terminal.
            (
                6,
                "'action' contains the invisible or control character U+001B: 'invite\\u{1b}[31m'",
            ),
            (
                7,
                "'projects' contains the invisible or control character U+000A",
            ),
            // Line 8, zoë@acme.example, is a valid internationalised address.
        ],
    ),
    (
        "conflicts.json",
        &[
            // JSON problems are on the line where the object starts.
            (
                3,
                "reactivate conflicts with deactivate on line 2 for ana@acme.example",
            ),
            (7, "duplicate of line 2 (deactivate ana@acme.example)"),
        ],
    ),
    (
        "desired-duplicate-email.csv",
        &[(4, "ana@acme.example is listed twice: already on line 2")],
    ),
    (
        "desired-bad-values.csv",
        &[
            (2, "the owner role cannot be given by the agent"),
            (
                3,
                "unknown status 'suspended' (active or inactive; empty means active)",
            ),
            (4, "team-manager needs 'manages'"),
            (
                5,
                "'manages' is only for the team-manager role, not for regular",
            ),
            (6, "project-manager needs 'projects'"),
            (7, "malformed email 'not-an-email'"),
        ],
    ),
    (
        "desired-unknown-column.csv",
        &[(
            1,
            "unknown column 'department' (the columns are: email, role, status, manages, \
             projects, name)",
        )],
    ),
    (
        "desired-wrong-types.json",
        &[
            (2, "'status' must be a string, found a boolean"),
            (3, "'role' must be a string, found a number"),
            (4, "unknown key 'active'"),
        ],
    ),
];

fn load(path: &Path) -> Result<(), PlanError> {
    let name = path
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .to_string();
    if name.starts_with("desired-") {
        jobs::load_desired(path).map(|_| ())
    } else {
        jobs::load_plan(path).map(|_| ())
    }
}

#[test]
fn every_bad_file_is_refused_with_its_lines_and_messages() {
    let mut failures = Vec::new();
    for (file, expected) in CASES {
        let path = Path::new(BAD).join(file);
        let error = match load(&path) {
            Ok(()) => {
                failures.push(format!("{file}: accepted"));
                continue;
            }
            Err(error) => error,
        };
        let got: Vec<(usize, String)> = error
            .problems()
            .iter()
            .map(|p| (p.line, p.message.clone()))
            .collect();
        let matches = got.len() == expected.len()
            && got
                .iter()
                .zip(expected.iter())
                .all(|((line, message), (want_line, fragment))| {
                    line == want_line && message.contains(fragment)
                });
        if !matches {
            failures.push(format!("{file}: expected {expected:?}\n  got {got:?}"));
        }
        // The message names the file and every problem as FILE:LINE: message.
        let text = error.to_string();
        let shown = path.display().to_string();
        assert!(
            text.starts_with(&format!("{shown}: ")),
            "{file}: the message starts with the file: {text}"
        );
        for (line, _) in expected.iter() {
            assert!(
                text.contains(&format!("\n{shown}:{line}: ")),
                "{file}: line {line} is shown as FILE:LINE in: {text}"
            );
        }
        assert_eq!(error.exit_code(), 2);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_in_the_bad_folder_has_a_case() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(BAD)
        .expect("the bad fixtures folder")
        .map(|entry| {
            entry
                .expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .filter(|name| name != "plan.txt")
        .collect();
    let covered: BTreeSet<String> = CASES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, covered);
}

#[test]
fn an_unknown_extension_is_refused_before_reading() {
    let path = PathBuf::from(BAD).join("plan.txt");
    let error = jobs::load_plan(&path).expect_err("a .txt plan");
    assert!(matches!(error, PlanError::UnknownFormat { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: unknown file type; the name must end in .csv or .json",
            path.display()
        )
    );
    let missing =
        jobs::load_plan(Path::new("fixtures/plans/no-such-plan.csv")).expect_err("a missing file");
    assert!(matches!(missing, PlanError::Read { .. }), "{missing}");
}
