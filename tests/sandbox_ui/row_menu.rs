//! The row menu: Deactivate (confirmed), Activate, resending and revoking invitations, what the
//! Owner's row offers, and stale rows after a change.

use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;

use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_menu_2025_10() {
    row_menu(UiVersion::V2025_10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_menu_2026_03() {
    row_menu(UiVersion::V2026_03).await;
}

async fn row_menu(ui: UiVersion) {
    let v2025 = ui == UiVersion::V2025_10;
    let h = Harness::start(BrowserKind::Firefox, ui).await;
    h.sign_in_with_code(OWNER).await;
    h.open_team_page().await;

    // The three-dots button: labelled in 2026-03, only an icon in 2025-10.
    let row = h.row_for(SAM).await;
    let toggle = row
        .find(fantoccini::Locator::Css("button.cl-row-menu-toggle"))
        .await
        .expect("three-dots button");
    let label = toggle.attr("aria-label").await.expect("attr");
    assert_eq!(label.as_deref(), (!v2025).then_some("More actions"));

    // A failed request changes nothing, says so, and the table is read again.
    h.set_faults(json!({"failNext": {"kind": "status", "status": 500, "count": 1}}))
        .await;
    h.open_row_menu(&row).await;
    h.click_menu_item("Deactivate").await;
    h.confirm("Deactivate").await;
    let toast = h
        .wait_toast("Something went wrong. Please try again later.")
        .await;
    let class = toast.attr("class").await.expect("attr").unwrap_or_default();
    assert!(class.contains("cl-toast-error"), "an error toast: {class}");
    assert_eq!(h.must_member(SAM).await["status"], "ACTIVE");
    h.wait_table_idle().await;

    // Deactivate asks to confirm, then the member is INACTIVE; the row held before is stale.
    let row = h.row_for(SAM).await;
    let items = h.open_row_menu(&row).await;
    h.screenshot("row-menu").await;
    let mut expected = vec!["Edit profile", "Deactivate", "Transfer ownership"];
    assert_eq!(items, expected, "an active member's menu, as the Owner");
    h.click_menu_item("Deactivate").await;
    let dialog = h.dialog().await;
    let text = dialog.text().await.expect("text");
    assert!(
        text.contains("Are you sure you want to deactivate Sam Sales"),
        "{text}"
    );
    assert_eq!(
        h.must_member(SAM).await["status"],
        "ACTIVE",
        "not before confirming"
    );
    h.confirm("Deactivate").await;
    h.wait_toast("Member deactivated").await;
    h.wait_member(SAM, "INACTIVE", |m| m["status"] == "INACTIVE")
        .await;
    h.poll("the old row to go stale", || async {
        match row.text().await {
            Ok(_) => Ok(None),
            Err(e) if e.is_stale_element_reference() => Ok(Some(())),
            Err(e) => Err(e),
        }
    })
    .await;
    let status = h.mutations_of("status").await;
    assert_eq!(
        status.len(),
        2,
        "the failed request and the good one: {status:?}"
    );
    assert_eq!(status[0]["status"], 500);
    assert_eq!(status[1]["status"], 200);
    assert_eq!(status[1]["targets"], json!([SAM]));

    // Activate, after "Show inactive users".
    h.pick_status("Show inactive users").await;
    if !v2025 {
        h.click_button("Apply filter").await;
    }
    h.wait_table_idle().await;
    let row = h.row_for(SAM).await;
    let items = h.open_row_menu(&row).await;
    expected = if v2025 {
        vec!["Activate", "Edit profile"]
    } else {
        vec!["Activate", "Edit profile", "Delete user"]
    };
    assert_eq!(items, expected, "an inactive member's menu");
    h.click_menu_item("Activate").await;
    h.wait_toast("Member activated").await;
    h.wait_member(SAM, "ACTIVE", |m| m["status"] == "ACTIVE")
        .await;

    // Back to active members.
    if v2025 {
        h.pick_status("Show active").await;
    } else {
        h.click_button("Clear").await;
    }
    h.wait_table_idle().await;

    // The Owner's own row has no Deactivate.
    let row = h.row_for(OWNER).await;
    let items = h.open_row_menu(&row).await;
    assert_eq!(items, vec!["Edit profile"], "the Owner's row");

    // A pending member: (re)send the invitation, and revoke it in 2026-03.
    let resend = if v2025 {
        "Send an invite email"
    } else {
        "Resend an invite email"
    };
    let mails_before = h.mailbox(PETE).await.len();
    let row = h.row_for(PETE).await;
    let items = h.open_row_menu(&row).await;
    expected = if v2025 {
        vec![resend, "Edit profile"]
    } else {
        vec![resend, "Revoke invite", "Edit profile"]
    };
    assert_eq!(items, expected, "a pending member's menu");
    h.click_menu_item(resend).await;
    h.wait_toast("Invite email sent").await;
    h.poll("a new mail to pete", || async {
        Ok((h.mailbox(PETE).await.len() == mails_before + 1).then_some(()))
    })
    .await;
    assert_eq!(h.must_member(PETE).await["status"], "PENDING");

    if !v2025 {
        h.row_action(PETE, "Revoke invite").await;
        let dialog = h.dialog().await;
        assert!(dialog
            .text()
            .await
            .expect("text")
            .contains("Revoke the invitation sent to pete.pending@acme.example"));
        h.confirm("Revoke invite").await;
        h.wait_toast("Invite revoked").await;
        h.wait_member(PETE, "gone", |m| m.is_null()).await;
        let revokes = h.mutations_of("revoke").await;
        assert_eq!(revokes.len(), 1);
        assert_eq!(revokes[0]["status"], 200);
    }

    h.close().await;
}
