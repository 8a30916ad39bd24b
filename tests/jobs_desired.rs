//! Desired-state files: the shipped samples, defaults, and the same reading rules as plans.

use std::path::Path;

use clockify_ui_agent::clockify::actions::TargetRole;
use clockify_ui_agent::jobs::{self, Desired, DesiredStatus, Format};

fn load(name: &str) -> Desired {
    let path = Path::new("fixtures/plans").join(name);
    jobs::load_desired(&path).unwrap_or_else(|e| panic!("{name} is valid, but: {e}"))
}

#[test]
fn the_sample_exports_say_the_same_thing_in_csv_and_json() {
    let csv = load("desired.csv");
    let json = load("desired.json");
    assert_eq!(csv.members.len(), 11);
    let strip = |d: &Desired| {
        d.members
            .iter()
            .map(|m| {
                (
                    m.email.clone(),
                    m.role,
                    m.status,
                    m.manages.clone(),
                    m.projects.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&csv), strip(&json));
    assert_eq!(csv.members[0].line, 2);
    assert_eq!(json.members[3].line, 5);

    let tom = &csv.members[3];
    assert_eq!(tom.email, "tom.manager@acme.example");
    assert_eq!(tom.role, TargetRole::TeamManager);
    assert_eq!(
        tom.manages,
        vec!["rita.regular@acme.example", "group:Sales"]
    );
    let sam = &csv.members[6];
    assert_eq!(
        (sam.role, sam.status),
        (TargetRole::Regular, DesiredStatus::Inactive)
    );
}

#[test]
fn empty_role_is_regular_and_empty_status_is_active() {
    let text = "\u{FEFF}Email,Role,Status,Name\r\n\r\nAna@Acme.example,,,Ana\r\nbo@acme.example,ADMIN,Inactive,\r\n";
    let desired = jobs::parse_desired(text.as_bytes(), Format::Csv, "d.csv").expect("valid");
    let got: Vec<_> = desired
        .members
        .iter()
        .map(|m| (m.line, m.email.as_str(), m.role, m.status))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                3,
                "ana@acme.example",
                TargetRole::Regular,
                DesiredStatus::Active
            ),
            (
                4,
                "bo@acme.example",
                TargetRole::Admin,
                DesiredStatus::Inactive
            ),
        ]
    );
}

#[test]
fn a_duplicate_email_names_both_lines_in_json_too() {
    let text = "[\n  {\"email\": \"ana@acme.example\"},\n  {\"email\": \"bo@acme.example\"},\n  {\n    \"email\": \"Ana@ACME.example\",\n    \"status\": \"inactive\"\n  }\n]\n";
    let error =
        jobs::parse_desired(text.as_bytes(), Format::Json, "d.json").expect_err("duplicate");
    assert_eq!(error.problems().len(), 1);
    assert_eq!(error.problems()[0].line, 4);
    assert_eq!(
        error.problems()[0].message,
        "ana@acme.example is listed twice: already on line 2"
    );
}

#[test]
fn a_desired_file_needs_members() {
    let error =
        jobs::parse_desired(b"email,role,status\n", Format::Csv, "d.csv").expect_err("empty");
    assert_eq!(error.problems()[0].line, 1);
    assert_eq!(
        error.problems()[0].message,
        "only a header: the file has no rows"
    );
    let error = jobs::parse_desired(b"role,status\nadmin,active\n", Format::Csv, "d.csv")
        .expect_err("no email column");
    assert_eq!(
        error.problems()[0].message,
        "the header lacks the column 'email'"
    );
}
