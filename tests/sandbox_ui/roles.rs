//! The role dialog: Admin, Team manager and Project manager with their scopes, and the rule that
//! only the Owner removes an Admin.

use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;
use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::json;

use crate::common::*;

const ZOE: &str = "zoe.unicode@acme.example";

/// Opens the role dialog of `email` ("+ Role" or a role label) and waits until its form loaded.
async fn open_role_dialog(h: &Harness, email: &str) -> Element {
    let row = h.row_for(email).await;
    let opener = match row
        .find(Locator::Css("td.cl-role-cell a.cl-role-add"))
        .await
    {
        Ok(add) => add,
        Err(_) => row
            .find(Locator::Css("td.cl-role-cell .cl-role-label[role=button]"))
            .await
            .expect("a clickable role in the Role column"),
    };
    opener.click().await.expect("open the role dialog");
    let dialog = h.dialog().await;
    h.wait_for("app-modal-wrapper-component .cl-role-options")
        .await;
    dialog
}

async fn role_box(h: &Harness, name: &str) -> Element {
    h.wait_for(&format!(
        "app-modal-wrapper-component .cl-role-options input[name={name}]"
    ))
    .await
}

async fn save(h: &Harness) {
    h.click_xpath("//app-modal-wrapper-component//div[contains(@class,'cl-modal-footer')]//button[normalize-space()='Save']")
        .await;
}

async fn scope_error(h: &Harness, section: &str) -> String {
    h.wait_for(&format!(
        "app-modal-wrapper-component {section} .cl-scope-error .cl-invalid-feedback"
    ))
    .await
    .text()
    .await
    .expect("text")
}

/// Ticks the scope option whose label contains `text` in `section`.
async fn tick_option(h: &Harness, section: &str, text: &str) {
    let class = section.trim_start_matches('.');
    h.click_xpath(&format!(
        "//app-modal-wrapper-component//div[contains(@class,'{class}')]//label[contains(@class,'cl-scope-option')][contains(normalize-space(), {})]/input",
        xpath_literal(text)
    ))
    .await;
}

async fn saved(h: &Harness) {
    h.wait_toast("Role updated").await;
    h.wait_dialog_closed().await;
    h.wait_table_idle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_sets_admin_team_manager_and_project_manager() {
    let h = Harness::start(BrowserKind::Firefox, UiVersion::default()).await;
    // The dialog's data (groups, projects) arrives late: the form must be waited for.
    h.set_faults(json!({"dialogLatencyMs": 400})).await;
    h.sign_in_with_code(OWNER).await;
    h.open_team_page().await;

    // "+ Role" → Admin → Save.
    open_role_dialog(&h, RITA).await;
    role_box(&h, "admin")
        .await
        .click()
        .await
        .expect("tick Admin");
    h.screenshot("role-dialog").await;
    save(&h).await;
    saved(&h).await;
    let rita = h.must_member(RITA).await;
    assert_eq!(rita["roles"], json!(["WORKSPACE_ADMIN"]), "{rita}");
    assert_eq!(h.mutations_of("roles").await.len(), 1);

    // Team manager with nothing chosen: inline error, no request.
    open_role_dialog(&h, SAM).await;
    role_box(&h, "teamManager")
        .await
        .click()
        .await
        .expect("tick");
    h.wait_for("app-modal-wrapper-component .cl-scope-team")
        .await;
    save(&h).await;
    assert_eq!(
        scope_error(&h, ".cl-scope-team").await,
        "Select at least one member or group"
    );
    assert_eq!(h.mutations_of("roles").await.len(), 1, "nothing sent");
    // One member chosen (found with the dialog's search box): saved with that scope.
    let search = h
        .wait_for("app-modal-wrapper-component .cl-scope-team input.cl-scope-search")
        .await;
    search.send_keys("rita").await.expect("type");
    tick_option(&h, ".cl-scope-team", RITA).await;
    save(&h).await;
    saved(&h).await;
    let sam = h.must_member(SAM).await;
    assert_eq!(sam["roles"], json!(["TEAM_MANAGER"]), "{sam}");
    assert_eq!(sam["manages"]["members"], json!([rita["id"]]), "{sam}");
    assert_eq!(sam["manages"]["groups"], json!([]), "{sam}");

    // Project manager needs a project.
    open_role_dialog(&h, ZOE).await;
    role_box(&h, "projectManager")
        .await
        .click()
        .await
        .expect("tick");
    h.wait_for("app-modal-wrapper-component .cl-scope-projects")
        .await;
    save(&h).await;
    assert_eq!(
        scope_error(&h, ".cl-scope-projects").await,
        "Select at least one project"
    );
    assert_eq!(h.mutations_of("roles").await.len(), 2, "nothing sent");
    tick_option(&h, ".cl-scope-projects", "Mobile App").await;
    save(&h).await;
    saved(&h).await;
    let state = h.state().await;
    let mobile = state["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["name"] == "Mobile App")
        .expect("the Mobile App project")["id"]
        .clone();
    let zoe = h.must_member(ZOE).await;
    assert_eq!(zoe["roles"], json!(["PROJECT_MANAGER"]), "{zoe}");
    assert_eq!(zoe["projects"], json!([mobile]), "{zoe}");
    // The Role column shows it.
    let row = h.row_for(ZOE).await;
    let cell = row
        .find(Locator::Css("td.cl-role-cell"))
        .await
        .expect("role cell");
    assert_eq!(cell.text().await.expect("text").trim(), "Project manager");

    h.close().await;
}

/// As an Admin: another admin's Admin box is locked and their row has no "Deactivate", nor has
/// the Owner's. As the Owner: the admin role comes off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_removes_an_admin() {
    let h = Harness::start(BrowserKind::Firefox, UiVersion::default()).await;
    h.sign_in_with_password(ADMIN, ADMIN_PASSWORD).await;
    h.open_team_page().await;

    open_role_dialog(&h, SECOND_ADMIN).await;
    let admin_box = role_box(&h, "admin").await;
    assert!(admin_box.is_selected().await.expect("checked"));
    assert!(
        !admin_box.is_enabled().await.expect("enabled"),
        "an admin cannot remove another admin"
    );
    h.click_button("Cancel").await;
    h.wait_dialog_closed().await;

    let row = h.row_for(SECOND_ADMIN).await;
    let items = h.open_row_menu(&row).await;
    assert!(
        !items.iter().any(|i| i == "Deactivate"),
        "no Deactivate on another admin's row: {items:?}"
    );
    let row = h.row_for(OWNER).await;
    let items = h.open_row_menu(&row).await;
    assert_eq!(items, vec!["Edit profile".to_string()], "the Owner's row");
    assert!(h.mutations().await.is_empty());

    // The Owner can.
    h.sign_in_with_password(OWNER, OWNER_PASSWORD).await;
    h.open_team_page().await;
    open_role_dialog(&h, SECOND_ADMIN).await;
    let admin_box = role_box(&h, "admin").await;
    assert!(admin_box.is_enabled().await.expect("enabled"));
    admin_box.click().await.expect("untick Admin");
    save(&h).await;
    saved(&h).await;
    let abby = h.must_member(SECOND_ADMIN).await;
    assert_eq!(abby["roles"], json!([]), "{abby}");
    let row = h.row_for(SECOND_ADMIN).await;
    let add = row
        .find(Locator::Css("td.cl-role-cell a.cl-role-add"))
        .await
        .expect("+ Role again");
    assert_eq!(add.text().await.expect("text").trim(), "+ Role");

    h.close().await;
}
