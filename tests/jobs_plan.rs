//! Plan files: the shipped samples, what is accepted (BOM, CRLF, blank lines, padding, any case),
//! problems reported together, 10,000-line plans (fast; reports capped).

use std::path::Path;
use std::time::Instant;

use clockify_ui_agent::clockify::actions::{Action, TargetRole};
use clockify_ui_agent::jobs::{self, Format, Plan, MAX_REPORTED_PROBLEMS};
use sha2::{Digest, Sha256};

fn load(name: &str) -> Plan {
    let path = Path::new("fixtures/plans").join(name);
    jobs::load_plan(&path).unwrap_or_else(|e| panic!("{name} is valid, but: {e}"))
}

fn actions(plan: &Plan) -> Vec<Action> {
    plan.items.iter().map(|i| i.action.clone()).collect()
}

fn lines(plan: &Plan) -> Vec<usize> {
    plan.items.iter().map(|i| i.line).collect()
}

fn invite(email: &str) -> Action {
    Action::Invite {
        email: email.into(),
    }
}

fn expected_sample() -> Vec<Action> {
    vec![
        invite("nina.new@acme.example"),
        invite("omar.new@acme.example"),
        Action::SetRole {
            email: "omar.new@acme.example".into(),
            role: TargetRole::TeamManager,
            manages: vec!["rita.regular@acme.example".into(), "group:Sales".into()],
            projects: vec![],
        },
        Action::SetRole {
            email: "sam.sales@acme.example".into(),
            role: TargetRole::Admin,
            manages: vec![],
            projects: vec![],
        },
        Action::SetRole {
            email: "rita.regular@acme.example".into(),
            role: TargetRole::ProjectManager,
            manages: vec![],
            projects: vec!["Mobile App".into(), "Internal Tools".into()],
        },
        Action::Deactivate {
            email: "zoe.unicode@acme.example".into(),
        },
        Action::Reactivate {
            email: "ivy.inactive@acme.example".into(),
        },
        Action::ResendInvite {
            email: "pete.pending@acme.example".into(),
        },
    ]
}

#[test]
fn the_sample_plans_say_the_same_thing_in_csv_and_json() {
    let csv = load("plan.csv");
    assert_eq!(actions(&csv), expected_sample());
    assert_eq!(lines(&csv), vec![2, 3, 4, 5, 6, 7, 8, 9]);

    let json = load("plan.json");
    assert_eq!(actions(&json), expected_sample());
    // JSON items are numbered by the line where their object starts.
    assert_eq!(lines(&json), vec![2, 3, 4, 10, 11, 17, 18, 19]);
}

#[test]
fn bom_crlf_blank_lines_padding_and_case_are_accepted_with_physical_line_numbers() {
    let text = std::fs::read("fixtures/plans/plan-bom-crlf.csv").expect("the sample");
    assert!(text.starts_with(b"\xEF\xBB\xBF") && text.windows(2).any(|w| w == b"\r\n"));
    let plan = load("plan-bom-crlf.csv");
    assert_eq!(actions(&plan), expected_sample());
    // Header on line 1, a blank line, rows, a blank and a whitespace-only line, rows.
    assert_eq!(lines(&plan), vec![3, 4, 5, 8, 9, 10, 11, 12]);
}

#[test]
fn the_plan_hash_is_the_file_hash_and_keys_are_unique() {
    let bytes = std::fs::read("fixtures/plans/plan.csv").expect("the sample");
    let plan = load("plan.csv");
    let expected: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(plan.sha256(), expected);
    let keys: Vec<String> = plan.items.iter().map(|i| i.key()).collect();
    assert_eq!(keys[0], "invite:nina.new@acme.example");
    assert_eq!(keys[2], "set-role:omar.new@acme.example");
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len());
    // The same plan with other line ends is another file: another hash.
    assert_ne!(load("plan-bom-crlf.csv").sha256(), plan.sha256());
}

#[test]
fn scopes_are_normalised_and_deduplicated() {
    let text = "action,email,role,manages\n\
                set-role,Tom@Acme.example,team-manager, Ana@Acme.example ;GROUP: Sales ;ana@acme.example;;\n";
    let plan = jobs::parse_plan(text.as_bytes(), Format::Csv, "t.csv").expect("valid");
    assert_eq!(
        actions(&plan),
        vec![Action::SetRole {
            email: "tom@acme.example".into(),
            role: TargetRole::TeamManager,
            manages: vec!["ana@acme.example".into(), "group:Sales".into()],
            projects: vec![],
        }]
    );
}

#[test]
fn json_scopes_may_be_arrays_or_strings_and_null_is_empty() {
    let text = r#"[
      {"action": "set-role", "email": "a@x.example", "role": "project-manager",
       "projects": ["Mobile App", " Data Platform "], "manages": null},
      {"action": "set-role", "email": "b@x.example", "role": "project-manager", "projects": "Mobile App;Data Platform"},
      {"action": "deactivate", "email": "c@x.example", "role": null, "manages": [], "projects": ""}
    ]"#;
    let plan = jobs::parse_plan(text.as_bytes(), Format::Json, "t.json").expect("valid");
    let scope = vec!["Mobile App".to_string(), "Data Platform".to_string()];
    assert_eq!(
        actions(&plan)[..2],
        [
            Action::SetRole {
                email: "a@x.example".into(),
                role: TargetRole::ProjectManager,
                manages: vec![],
                projects: scope.clone(),
            },
            Action::SetRole {
                email: "b@x.example".into(),
                role: TargetRole::ProjectManager,
                manages: vec![],
                projects: scope,
            },
        ]
    );
    assert_eq!(lines(&plan), vec![2, 4, 5]);
}

#[test]
fn all_problems_are_reported_together_in_line_order() {
    let text = "action,email,role\n\
                invite,ana@acme.example,\n\
                delete,bo@acme.example,\n\
                set-role,cy@acme.example,boss\n\
                invite,ana@acme.example,\n\
                deactivate,not-an-email,admin\n";
    let error = jobs::parse_plan(text.as_bytes(), Format::Csv, "mixed.csv").expect_err("bad");
    let got: Vec<(usize, &str)> = error
        .problems()
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(got.len(), 5, "{error}");
    assert_eq!(got[0].0, 3);
    assert!(got[0].1.starts_with("unknown action 'delete'"));
    assert_eq!(got[1].0, 4);
    assert!(got[1].1.starts_with("unknown role 'boss'"));
    assert_eq!(got[2], (5, "duplicate of line 2 (invite ana@acme.example)"));
    // Both problems of line 6.
    assert_eq!(got[3], (6, "malformed email 'not-an-email'"));
    assert_eq!(
        got[4],
        (
            6,
            "a 'role' is only allowed on set-role rows, not on deactivate"
        )
    );
    assert!(error
        .to_string()
        .starts_with("mixed.csv: 5 problems; nothing was done\nmixed.csv:3: unknown action"));
}

fn big_plan(rows: usize, bad: bool) -> String {
    let mut text = String::from("action,email,role,manages,projects\n");
    for i in 0..rows {
        let email = if bad {
            format!("user{i}.acme.example")
        } else {
            format!("user{i}@acme.example")
        };
        let row = match i % 5 {
            0 => format!("invite,{email},,,\n"),
            1 => format!("set-role,{email},admin,,\n"),
            2 => format!("set-role,{email},team-manager,user0@acme.example;group:Sales,\n"),
            3 => format!("deactivate,{email},,,\n"),
            _ => format!("set-role,{email},project-manager,,Mobile App\n"),
        };
        text.push_str(&row);
    }
    text
}

#[test]
fn a_10000_line_plan_parses_quickly() {
    let text = big_plan(10_000, false);
    let started = Instant::now();
    let plan = jobs::parse_plan(text.as_bytes(), Format::Csv, "big.csv").expect("valid");
    let csv_time = started.elapsed();
    assert_eq!(plan.items.len(), 10_000);
    assert_eq!(plan.items[9_999].line, 10_001);

    let json: Vec<serde_json::Value> = plan
        .items
        .iter()
        .map(|i| serde_json::to_value(&i.action).expect("serialisable"))
        .collect();
    let json = serde_json::to_string_pretty(&json).expect("json");
    let started = Instant::now();
    let from_json = jobs::parse_plan(json.as_bytes(), Format::Json, "big.json").expect("valid");
    let json_time = started.elapsed();
    assert_eq!(from_json.items.len(), 10_000);

    println!("10,000-line plan: CSV parsed in {csv_time:?}, JSON in {json_time:?}");
    // Not a benchmark: a guard against accidental quadratic work (well under a second in debug).
    assert!(csv_time.as_secs_f64() < 5.0, "CSV took {csv_time:?}");
    assert!(json_time.as_secs_f64() < 5.0, "JSON took {json_time:?}");
}

#[test]
fn a_10000_line_plan_with_problems_reports_all_but_shows_a_capped_list() {
    let text = big_plan(10_000, true);
    let started = Instant::now();
    let error = jobs::parse_plan(text.as_bytes(), Format::Csv, "bad.csv").expect_err("bad");
    println!("10,000 problems found in {:?}", started.elapsed());
    assert_eq!(error.problems().len(), 10_000);
    assert_eq!(error.problems()[0].line, 2);
    assert_eq!(error.problems()[9_999].line, 10_001);
    let message = error.to_string();
    let shown = message
        .lines()
        .filter(|l| l.starts_with("bad.csv:"))
        .count();
    assert_eq!(shown, MAX_REPORTED_PROBLEMS + 1, "{message}");
    assert!(message.starts_with("bad.csv: 10000 problems; nothing was done\n"));
    assert!(message.ends_with(&format!(
        "\n... and {} more problems",
        10_000 - MAX_REPORTED_PROBLEMS
    )));
}

#[test]
fn missing_columns_are_empty_and_column_order_is_free() {
    let text = "EMAIL,Action\r\nbo@acme.example,Revoke-Invite\r\n";
    let plan = jobs::parse_plan(text.as_bytes(), Format::Csv, "t.csv").expect("valid");
    assert_eq!(
        actions(&plan),
        vec![Action::RevokeInvite {
            email: "bo@acme.example".into()
        }]
    );
}

#[test]
fn a_unicode_address_is_accepted_and_kept_in_lower_case() {
    let text = "action,email\ninvite,Zoë@Acme.example\n";
    let plan = jobs::parse_plan(text.as_bytes(), Format::Csv, "t.csv").expect("valid");
    assert_eq!(actions(&plan), vec![invite("zoë@acme.example")]);
}

#[test]
fn from_actions_makes_a_plan_for_the_journal() {
    let plan = Plan::from_actions(vec![invite("a@x.example"), invite("b@x.example")]);
    assert_eq!(lines(&plan), vec![1, 2]);
    assert_eq!(plan.sha256().len(), 64);
    let other = Plan::from_actions(vec![invite("b@x.example"), invite("a@x.example")]);
    assert_ne!(plan.sha256(), other.sha256());
}
