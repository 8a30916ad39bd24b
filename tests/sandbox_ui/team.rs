//! The Team page: pagination, search, pending and inactive members, status filters, the Role
//! column, and the volatile Angular classes.

use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;
use fantoccini::Locator;
use serde_json::Value;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_page_2025_10() {
    team_page(UiVersion::V2025_10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_page_2026_03() {
    team_page(UiVersion::V2026_03).await;
}

fn emails(members: &[Value]) -> Vec<String> {
    members
        .iter()
        .map(|m| m["email"].as_str().expect("email").to_string())
        .collect()
}

/// Members matching a search the way the sandbox does (name or email contains the needle).
fn matching(members: &[Value], needle: &str, status: &str) -> Vec<String> {
    let needle = needle.to_lowercase();
    let mut found: Vec<Value> = members
        .iter()
        .filter(|m| m["limited"] != true)
        .filter(|m| match status {
            "ACTIVE" => m["status"] != "INACTIVE",
            "INACTIVE" => m["status"] == "INACTIVE",
            _ => true,
        })
        .filter(|m| {
            m["email"].as_str().unwrap_or_default().contains(&needle)
                || m["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase()
                    .contains(&needle)
        })
        .cloned()
        .collect();
    team_order(&mut found);
    emails(&found)
}

async fn team_page(ui: UiVersion) {
    let h = Harness::start(BrowserKind::Firefox, ui).await;
    if ui == UiVersion::V2025_10 {
        // A slow server: every API call and app page takes 30-120 ms more.
        h.set_faults(serde_json::json!({"latencyMs": [30, 120]}))
            .await;
    }
    h.sign_in_with_code(OWNER).await;
    h.open_team_page().await;
    h.screenshot("team-page").await;
    let members = h.members().await;
    let listing = active_listing(&members);
    assert!(listing.len() > 100, "the seed fills more than two pages");

    // Page 1: the first 50 in name order; the pagination tells the total.
    h.wait_rows("page 1", &listing[..50]).await;
    let info = h.wait_for(".cl-pagination-info").await;
    assert_eq!(
        info.text().await.expect("text"),
        format!("1-50 of {}", listing.len())
    );

    // Page 2: the next 50.
    h.click_css("button.cl-page-next").await;
    h.wait_rows("page 2", &listing[50..100]).await;
    let info = h.wait_for(".cl-pagination-info").await;
    assert_eq!(
        info.text().await.expect("text"),
        format!("51-100 of {}", listing.len())
    );

    // Search by email, then by name (back on page 1).
    h.search(RITA).await;
    h.wait_rows("search by email", &[RITA.to_string()]).await;
    let by_name = matching(&members, "garcia", "ACTIVE");
    assert!(by_name.len() > 1, "several generated Garcias: {by_name:?}");
    h.search("Garcia").await;
    h.wait_rows("search by name", &by_name).await;

    // A pending member carries "Not joined yet".
    let pete = h.row_for(PETE).await;
    let badge = pete
        .find(Locator::Css(".cl-badge-pending"))
        .await
        .expect("pete's row has a badge");
    assert_eq!(badge.text().await.expect("text"), "Not joined yet");

    // The Role column: role names, and "+ Role" for a regular member.
    let admin = h.row_for(ADMIN).await;
    let role = admin
        .find(Locator::Css("td.cl-role-cell"))
        .await
        .expect("role cell");
    assert_eq!(role.text().await.expect("text").trim(), "Admin");
    let owner = h.row_for(OWNER).await;
    let role = owner
        .find(Locator::Css("td.cl-role-cell"))
        .await
        .expect("role cell");
    assert_eq!(role.text().await.expect("text").trim(), "Owner");
    let rita = h.row_for(RITA).await;
    let add_role = rita
        .find(Locator::Css("td.cl-role-cell a.cl-role-add"))
        .await
        .expect("rita's row has + Role");
    assert_eq!(add_role.text().await.expect("text").trim(), "+ Role");

    // Inactive members are hidden by default...
    h.search(IVY).await;
    h.wait_rows("inactive hidden", &[]).await;

    // ...and shown, struck through, with "Show inactive users".
    h.pick_status("Show inactive users").await;
    if ui == UiVersion::V2026_03 {
        // The filter bar waits for "Apply filter".
        let spinner = h
            .client
            .find_all(Locator::Css("team-members-table .cl-loader"))
            .await
            .expect("find");
        assert!(spinner.is_empty(), "picking a status alone loads nothing");
        assert!(
            h.row_emails().await.is_empty(),
            "still no rows before Apply"
        );
        h.click_button("Apply filter").await;
    }
    h.wait_rows("inactive shown", &[IVY.to_string()]).await;
    let name = h
        .wait_for("tr.cl-team-row td.cl-name-cell .cl-member-name")
        .await;
    let decoration = name
        .css_value("text-decoration-line")
        .await
        .expect("computed style");
    assert!(
        decoration.contains("line-through"),
        "an inactive name is struck through: {decoration}"
    );
    h.search("").await;
    let inactive = matching(&members, "", "INACTIVE");
    h.wait_rows("every inactive member", &inactive[..inactive.len().min(50)])
        .await;

    // "Show all" lists everyone.
    h.pick_status("Show all").await;
    if ui == UiVersion::V2026_03 {
        h.click_button("Apply filter").await;
    }
    let all = matching(&members, "", "ALL");
    h.wait_rows("everyone", &all[..50]).await;

    // Back to active members: "Clear" (2026-03) or "Show active" (2025-10).
    if ui == UiVersion::V2026_03 {
        h.click_button("Clear").await;
    } else {
        h.pick_status("Show active").await;
    }
    h.wait_rows("active again", &listing[..50]).await;

    // The ng-tns-c* classes change between two loads of the same page.
    let first = h.tns_classes().await;
    assert!(!first.is_empty(), "the page carries ng-tns classes");
    h.client.refresh().await.expect("reload");
    h.wait_for("tr.cl-team-row").await;
    h.wait_table_idle().await;
    let second = h.tns_classes().await;
    assert_ne!(first, second, "the ng-tns classes are regenerated");
    let shared = first.intersection(&second).count();
    assert!(
        shared * 2 < first.len().min(second.len()),
        "most ng-tns classes differ: {shared} shared of {first:?} / {second:?}"
    );

    h.close().await;
}
