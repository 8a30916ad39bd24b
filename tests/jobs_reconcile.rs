//! Reconcile: the rules of a sync, the untouchables, the deactivation guard, idempotence.

use clockify_ui_agent::clockify::actions::{Action, TargetRole};
use clockify_ui_agent::clockify::{MemberState, Role, Status};
use clockify_ui_agent::jobs::{
    self, reconcile, Desired, DesiredMember, DesiredStatus, SyncOptions, SyncRefusal,
};

fn member(email: &str, status: Status, roles: &[Role]) -> MemberState {
    MemberState {
        email: email.into(),
        name: email.split('@').next().unwrap_or_default().into(),
        status,
        roles: roles.to_vec(),
    }
}

/// The sandbox's named members, as the Team page shows them.
fn seed_state() -> Vec<MemberState> {
    vec![
        member("owner@acme.example", Status::Active, &[Role::Owner]),
        member("admin@acme.example", Status::Active, &[Role::Admin]),
        member("second.admin@acme.example", Status::Active, &[Role::Admin]),
        member(
            "tom.manager@acme.example",
            Status::Active,
            &[Role::TeamManager],
        ),
        member(
            "paula.pm@acme.example",
            Status::Active,
            &[Role::ProjectManager],
        ),
        member("rita.regular@acme.example", Status::Active, &[]),
        member("sam.sales@acme.example", Status::Active, &[]),
        member("ivy.inactive@acme.example", Status::Inactive, &[]),
        member("pete.pending@acme.example", Status::Pending, &[]),
        member("zoe.unicode@acme.example", Status::Active, &[]),
    ]
}

fn want(line: usize, email: &str, role: TargetRole, status: DesiredStatus) -> DesiredMember {
    DesiredMember {
        line,
        email: email.into(),
        role,
        status,
        manages: if role == TargetRole::TeamManager {
            vec!["group:Sales".into()]
        } else {
            vec![]
        },
        projects: if role == TargetRole::ProjectManager {
            vec!["Mobile App".into()]
        } else {
            vec![]
        },
    }
}

fn options() -> SyncOptions {
    SyncOptions {
        signed_in: "admin@acme.example".into(),
        max_deactivate: Some(100),
        ..SyncOptions::default()
    }
}

fn names(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| format!("{} {}", a.name(), a.email()))
        .collect()
}

/// What the agent's verified actions do to the Team page.
fn apply(state: &mut Vec<MemberState>, actions: &[Action]) {
    for action in actions {
        let email = action.email().to_string();
        let at = state
            .iter()
            .position(|m| m.email.eq_ignore_ascii_case(&email));
        match (action, at) {
            (Action::Invite { .. }, None) => state.push(member(&email, Status::Pending, &[])),
            (Action::SetRole { role, .. }, Some(at)) => state[at].roles = role.roles(),
            (Action::Deactivate { .. }, Some(at)) => state[at].status = Status::Inactive,
            (Action::Reactivate { .. }, Some(at)) => state[at].status = Status::Active,
            (Action::RevokeInvite { .. }, Some(at)) => {
                state.remove(at);
            }
            (action, at) => panic!("the plan has an impossible step: {action:?} at {at:?}"),
        }
    }
}

#[test]
fn the_sample_export_against_the_sandbox_seed() {
    let desired =
        jobs::load_desired(std::path::Path::new("fixtures/plans/desired.csv")).expect("the sample");
    let plan = reconcile(&seed_state(), &desired, &options()).expect("allowed");
    assert_eq!(
        names(&plan.actions),
        vec![
            "invite nina.new@acme.example",
            "reactivate ivy.inactive@acme.example",
            "set-role nina.new@acme.example",
            "set-role second.admin@acme.example",
            "deactivate sam.sales@acme.example",
        ]
    );
    assert_eq!(
        plan.actions[2],
        Action::SetRole {
            email: "nina.new@acme.example".into(),
            role: TargetRole::TeamManager,
            manages: vec!["group:Engineering".into()],
            projects: vec![],
        }
    );
    assert_eq!(plan.reasons.len(), plan.actions.len());
    assert_eq!(plan.reasons[3], "admin → regular (line 4)");
    assert_eq!(plan.reasons[4], "active; desired inactive (line 8)");
    // The owner is listed as admin in the export: never touched, and said so.
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].0, "owner@acme.example");
    assert!(plan.skipped[0].1.contains("workspace owner"));
    assert!(plan.skipped[0].1.contains("would set-role"));
}

#[test]
fn the_rules_table() {
    let current = vec![
        member("absent-active-x@acme.example", Status::Active, &[]), // unused: listed as extra
        member("pending@acme.example", Status::Pending, &[]),
        member("pending-role@acme.example", Status::Pending, &[]),
        member("pending-off@acme.example", Status::Pending, &[]),
        member("active-off@acme.example", Status::Active, &[Role::Admin]),
        member("inactive-on@acme.example", Status::Inactive, &[Role::Admin]),
        member("inactive-off@acme.example", Status::Inactive, &[]),
        member("same@acme.example", Status::Active, &[Role::TeamManager]),
    ];
    let desired = Desired {
        members: vec![
            want(
                2,
                "new@acme.example",
                TargetRole::Regular,
                DesiredStatus::Active,
            ),
            want(
                3,
                "new-pm@acme.example",
                TargetRole::ProjectManager,
                DesiredStatus::Active,
            ),
            want(
                4,
                "gone@acme.example",
                TargetRole::Admin,
                DesiredStatus::Inactive,
            ),
            want(
                5,
                "pending@acme.example",
                TargetRole::Regular,
                DesiredStatus::Active,
            ),
            want(
                6,
                "pending-role@acme.example",
                TargetRole::Admin,
                DesiredStatus::Active,
            ),
            want(
                7,
                "pending-off@acme.example",
                TargetRole::Regular,
                DesiredStatus::Inactive,
            ),
            want(
                8,
                "active-off@acme.example",
                TargetRole::Regular,
                DesiredStatus::Inactive,
            ),
            want(
                9,
                "inactive-on@acme.example",
                TargetRole::Regular,
                DesiredStatus::Active,
            ),
            want(
                10,
                "inactive-off@acme.example",
                TargetRole::Admin,
                DesiredStatus::Inactive,
            ),
            // The scope is not shown in the Role column: the same role is no change.
            want(
                11,
                "same@acme.example",
                TargetRole::TeamManager,
                DesiredStatus::Active,
            ),
        ],
    };
    let plan = reconcile(&current, &desired, &options()).expect("allowed");
    assert_eq!(
        names(&plan.actions),
        vec![
            "invite new-pm@acme.example",
            "invite new@acme.example",
            "reactivate inactive-on@acme.example",
            "set-role inactive-on@acme.example",
            "set-role new-pm@acme.example",
            "set-role pending-role@acme.example",
            "deactivate active-off@acme.example",
            "revoke-invite pending-off@acme.example",
        ]
    );
    assert!(plan.skipped.is_empty());
}

#[test]
fn without_deactivate_missing_extras_are_left_alone() {
    let desired = Desired {
        members: vec![want(
            2,
            "rita.regular@acme.example",
            TargetRole::Regular,
            DesiredStatus::Active,
        )],
    };
    let plan = reconcile(&seed_state(), &desired, &options()).expect("allowed");
    assert!(plan.is_empty(), "{plan}");
    assert!(plan.skipped.is_empty());
}

#[test]
fn with_deactivate_missing_extras_go_but_owner_self_and_protected_stay() {
    let desired = Desired {
        members: vec![want(
            2,
            "rita.regular@acme.example",
            TargetRole::Regular,
            DesiredStatus::Active,
        )],
    };
    let options = SyncOptions {
        deactivate_missing: true,
        protect: vec!["Tom.Manager@ACME.example".into()],
        ..options()
    };
    let plan = reconcile(&seed_state(), &desired, &options).expect("allowed");
    assert_eq!(
        names(&plan.actions),
        vec![
            "deactivate paula.pm@acme.example",
            "deactivate sam.sales@acme.example",
            "deactivate second.admin@acme.example",
            "deactivate zoe.unicode@acme.example",
            "revoke-invite pete.pending@acme.example",
        ]
    );
    assert_eq!(plan.reasons[0], "active; not in the desired list");
    // ivy.inactive is already inactive: nothing to do, nothing skipped.
    let skipped: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|(e, r)| (e.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (
                "admin@acme.example",
                "the signed-in account is never changed by a sync (would deactivate)"
            ),
            (
                "owner@acme.example",
                "the workspace owner is never changed by the agent (would deactivate)"
            ),
            (
                "tom.manager@acme.example",
                "protected (--protect) (would deactivate)"
            ),
        ]
    );
}

#[test]
fn the_signed_in_account_and_protected_emails_are_skipped_for_desired_changes_too() {
    let desired = Desired {
        members: vec![
            want(
                2,
                "ADMIN@acme.example",
                TargetRole::Regular,
                DesiredStatus::Inactive,
            ),
            want(
                3,
                "sam.sales@acme.example",
                TargetRole::Admin,
                DesiredStatus::Active,
            ),
        ],
    };
    let options = SyncOptions {
        protect: vec!["sam.sales@acme.example".into()],
        ..options()
    };
    let plan = reconcile(&seed_state(), &desired, &options).expect("allowed");
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(plan.skipped.len(), 2);
    assert!(plan.skipped[0].1.contains("signed-in"));
    assert!(plan.skipped[1].1.contains("would set-role"));
}

fn workspace(members: usize) -> Vec<MemberState> {
    let mut state = vec![member("owner@acme.example", Status::Active, &[Role::Owner])];
    for i in 0..members {
        state.push(member(
            &format!("m{i:03}@acme.example"),
            Status::Active,
            &[],
        ));
    }
    // Inactive members are not in the guard's base: they cannot be deactivated again.
    for i in 0..50 {
        state.push(member(
            &format!("old{i:03}@acme.example"),
            Status::Inactive,
            &[],
        ));
    }
    state
}

fn listing(first: usize) -> Desired {
    Desired {
        members: (0..first)
            .map(|i| {
                want(
                    i + 2,
                    &format!("m{i:03}@acme.example"),
                    TargetRole::Regular,
                    DesiredStatus::Active,
                )
            })
            .collect(),
    }
}

#[test]
fn a_truncated_export_is_refused_and_the_limit_can_be_raised() {
    let current = workspace(100);
    let truncated = listing(50);
    let options = SyncOptions {
        deactivate_missing: true,
        signed_in: "m000@acme.example".into(),
        max_deactivate: None,
        ..SyncOptions::default()
    };
    let refusal = reconcile(&current, &truncated, &options).expect_err("too many");
    let SyncRefusal::TooManyDeactivations {
        planned,
        limit,
        members,
        plan,
    } = &refusal;
    assert_eq!((*planned, *limit, *members), (50, 10, 100));
    assert_eq!(plan.count("deactivate"), 50);
    assert_eq!(refusal.exit_code(), 2);
    let message = refusal.to_string();
    assert!(
        message.contains("would deactivate or revoke 50 of 100"),
        "{message}"
    );
    assert!(message.contains("--max-deactivate 50"), "{message}");

    // Exactly at the limit is allowed; one more is refused.
    assert!(reconcile(&current, &listing(90), &options).is_ok());
    assert!(reconcile(&current, &listing(89), &options).is_err());

    // Raised explicitly.
    let raised = SyncOptions {
        max_deactivate: Some(50),
        ..options.clone()
    };
    assert_eq!(
        reconcile(&current, &truncated, &raised)
            .expect("allowed")
            .count("deactivate"),
        50
    );
    let zero = SyncOptions {
        max_deactivate: Some(0),
        ..options
    };
    assert!(reconcile(&current, &listing(99), &zero).is_err());
}

#[test]
fn the_default_limit_is_at_least_one() {
    let current = vec![
        member("owner@acme.example", Status::Active, &[Role::Owner]),
        member("a@acme.example", Status::Active, &[]),
        member("b@acme.example", Status::Pending, &[]),
    ];
    let desired = Desired {
        members: vec![want(
            2,
            "a@acme.example",
            TargetRole::Regular,
            DesiredStatus::Active,
        )],
    };
    let options = SyncOptions {
        deactivate_missing: true,
        ..SyncOptions::default()
    };
    let plan = reconcile(&current, &desired, &options).expect("one revocation is allowed");
    assert_eq!(names(&plan.actions), vec!["revoke-invite b@acme.example"]);
    let nobody = Desired::default();
    let refusal = reconcile(&current, &nobody, &options).expect_err("two is too many");
    assert!(matches!(
        refusal,
        SyncRefusal::TooManyDeactivations {
            planned: 2,
            limit: 1,
            members: 2,
            ..
        }
    ));
}

#[test]
fn applying_the_plan_then_reconciling_again_finds_nothing_to_do() {
    let desired =
        jobs::load_desired(std::path::Path::new("fixtures/plans/desired.csv")).expect("the sample");
    for deactivate_missing in [false, true] {
        let mut state = seed_state();
        state.push(member("extra@acme.example", Status::Active, &[Role::Admin]));
        state.push(member("extra.pending@acme.example", Status::Pending, &[]));
        state.push(member("extra.inactive@acme.example", Status::Inactive, &[]));
        // Emails as the page may show them: case differs from the export.
        state[5].email = "Rita.Regular@Acme.example".into();
        let options = SyncOptions {
            deactivate_missing,
            ..options()
        };
        let first = reconcile(&state, &desired, &options).expect("allowed");
        assert!(!first.is_empty());
        apply(&mut state, &first.actions);
        let second = reconcile(&state, &desired, &options).expect("allowed");
        assert!(
            second.is_empty(),
            "deactivate_missing={deactivate_missing}: {second}"
        );
        assert_eq!(second.skipped, first.skipped);
    }
}

#[test]
fn the_printed_plan() {
    let desired =
        jobs::load_desired(std::path::Path::new("fixtures/plans/desired.csv")).expect("the sample");
    let plan = reconcile(&seed_state(), &desired, &options()).expect("allowed");
    let table = plan.render_table();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("#  action"), "{table}");
    assert!(lines[1].starts_with("1  invite"), "{table}");
    assert!(lines[3].contains("set-role team-manager"), "{table}");
    assert!(lines[3].contains("managing group:Engineering"), "{table}");
    assert!(table.contains("Skipped (never touched):\n  owner@acme.example: "));
    assert!(table.ends_with(
        "Summary: 1 invite(s), 1 reactivation(s), 2 role change(s), 1 deactivation(s), 0 \
         revoked invitation(s); 1 skipped\n"
    ));
    assert_eq!(plan.to_string(), table);

    let empty = jobs::SyncPlan::default();
    assert!(empty
        .render_table()
        .starts_with("Nothing to do: the workspace matches the desired state.\n"));
}
