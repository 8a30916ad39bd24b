//! Faults injected into the sandbox while a real batch runs in headless Firefox: a mutation
//! answered with HTTP 500, up to 3 s of latency, slow dialogs, sessions expiring in the middle,
//! the browser or the driver killed in the middle, rows re-rendered under the agent, the target
//! moving to another page, success toasts that never appear. Each case (in
//! `agent_common/fault_cases.rs`, shared with the fault-table benchmark) is judged on the
//! sandbox's state and its log of mutating requests: the final state is right, no mutation was
//! accepted twice, and the outcome is reported honestly.

mod agent_common;

use agent_common::fault_cases::Case;

async fn survives(case: Case) {
    case.run().await.assert_right();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_is_reported_then_retried_after_a_reread_and_never_duplicated() {
    survives(Case::Http500).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_to_3_s_of_latency_on_every_request_still_ends_right() {
    survives(Case::Latency3s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_dialogs_are_waited_for() {
    survives(Case::SlowDialogs).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_expiring_midway_is_renewed_when_a_code_command_is_set() {
    survives(Case::ExpiredRenewed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_without_a_code_source_stops_with_exit_4_and_resumes() {
    survives(Case::ExpiredThenResumed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_killed_midway_is_replaced_and_the_batch_finishes() {
    survives(Case::BrowserKilled).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_driver_killed_midway_is_replaced_and_the_batch_finishes() {
    survives(Case::DriverKilled).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_killed_while_a_change_is_read_back_is_replaced_and_nothing_is_done_twice() {
    survives(Case::BrowserKilledMidAction).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_driver_killed_while_a_change_is_read_back_is_replaced_and_nothing_is_done_twice() {
    survives(Case::DriverKilledMidAction).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_re_rendered_between_finding_and_clicking_are_found_again() {
    survives(Case::RowsRerendered).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_moving_to_page_2_between_reading_and_acting_is_followed_there() {
    survives(Case::RowMovedToPage2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_success_toasts_the_read_back_decides() {
    survives(Case::NoSuccessToast).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resent_invitation_without_its_toast_is_reported_unconfirmed_and_not_resent() {
    survives(Case::ResendWithoutToast).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_command_retries_an_unconfirmed_change_like_a_batch_item() {
    let bed = agent_common::Bed::start(clockify_ui_agent::sandbox::UiVersion::V2026_03).await;
    agent_common::fault_cases::fault(
        &bed,
        serde_json::json!({"failNext": {"kind": "status", "status": 500, "count": 1}}),
    )
    .await;
    let run = bed
        .agent(&["deactivate", "--email", "sam.sales@acme.example"])
        .await;
    agent_common::assert_code(&run, 0);
    assert!(run.stdout.contains("attempt 2 of 3"), "{}", run.stdout);
    let member = bed.member("sam.sales@acme.example").await.expect("sam");
    assert_eq!(member["status"], "INACTIVE");
    let statuses: Vec<u64> = bed
        .get("/__sandbox/mutations")
        .await
        .as_array()
        .expect("log")
        .iter()
        .map(|m| m["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, vec![500, 200], "refused once, then accepted once");
}

#[test]
fn every_fault_case_has_a_test() {
    // The list above and Case::ALL must not drift apart.
    let source = include_str!("faults.rs");
    for case in Case::ALL {
        assert!(
            source.contains(&format!("survives(Case::{case:?})")),
            "{case:?} has no test"
        );
    }
}
