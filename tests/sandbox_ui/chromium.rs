//! The same sandbox in Chromium through chromedriver: sign in with a code and invite someone.

use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;
use fantoccini::Locator;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_signs_in_with_a_code_and_invites() {
    let h = Harness::start(BrowserKind::Chrome, UiVersion::default()).await;
    let browser = h
        .js("return navigator.userAgent;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(browser.contains("Chrome"), "a Chromium session: {browser}");

    h.sign_in_with_code(OWNER).await;
    let token = h.js("return localStorage.getItem('token');").await;
    assert!(token.as_str().is_some_and(|t| !t.is_empty()), "{token}");
    h.open_team_page().await;

    h.click_button("Add new member").await;
    h.dialog().await;
    let textarea = h
        .wait_for("app-modal-wrapper-component textarea#invite-emails")
        .await;
    textarea
        .send_keys("chromium.invitee@acme.example")
        .await
        .expect("type");
    let send = h
        .wait_for_xpath("//app-modal-wrapper-component//button[normalize-space()='Send invite']")
        .await;
    h.poll("\"Send invite\" to be enabled", || async {
        Ok(send.is_enabled().await?.then_some(()))
    })
    .await;
    send.click().await.expect("send");
    h.wait_toast("Invitation sent").await;
    h.wait_dialog_closed().await;
    let member = h.must_member("chromium.invitee@acme.example").await;
    assert_eq!(member["status"], "PENDING");
    assert_eq!(h.mutations_of("invite").await.len(), 1);

    // The new member is listed, pending.
    let row = h.row_for("chromium.invitee@acme.example").await;
    let badge = row
        .find(Locator::Css(".cl-badge-pending"))
        .await
        .expect("a pending badge");
    assert_eq!(badge.text().await.expect("text"), "Not joined yet");
    h.screenshot("team-page-after-invite").await;

    h.close().await;
}
