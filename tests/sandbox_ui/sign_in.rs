//! Sign-in: emailed code, password form, owner login, redirects, expired sessions.

use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;
use fantoccini::Locator;

use crate::common::*;

/// One session walks the code flow end to end: redirect without a session, a wrong code, the
/// right code (token and cookie), the shell, and an expired session sending the SPA back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_sign_in_shell_and_session_expiry() {
    let h = Harness::start(BrowserKind::Firefox, UiVersion::default()).await;

    // An app page without a session redirects to the login page.
    h.client
        .goto(&h.url("/teams/members"))
        .await
        .expect("open /teams/members");
    h.wait_for_path("/en/login").await;
    h.wait_for("input#email").await;

    // A wrong code shows the error and keeps us on the login page.
    h.request_code(OWNER).await;
    let code = h.wait_code(OWNER).await;
    let wrong: String = code
        .chars()
        .map(|c| if c == 'A' { 'B' } else { 'A' })
        .collect();
    h.type_code(&wrong).await;
    let error = h.wait_for("span[data-cy=error]").await;
    assert_eq!(error.text().await.expect("error text"), "Invalid code");
    assert_eq!(
        h.client.current_url().await.expect("url").path(),
        "/en/login"
    );

    // The right code lands on /tracker with a token and a session cookie.
    h.type_code(&code).await;
    h.wait_for_path("/tracker").await;
    h.wait_for("sidebar-navigation a.cl-nav-link").await;
    let token = h.js("return localStorage.getItem('token');").await;
    assert!(
        token.as_str().is_some_and(|t| !t.is_empty()),
        "localStorage.token is set: {token}"
    );
    let cookie = h
        .client
        .get_named_cookie("cl_session")
        .await
        .expect("the cl_session cookie is set");
    assert!(!cookie.value().is_empty());

    // The shell: a "Team" sidebar link, the workspace name and the signed-in user.
    let team_link = h
        .wait_for_xpath(
            "//sidebar-navigation//a[contains(@class,'cl-nav-link')][normalize-space()='Team']",
        )
        .await;
    assert_eq!(
        team_link.attr("routerlink").await.expect("attr").as_deref(),
        Some("/teams/members")
    );
    let workspace = h.wait_for("app-top-bar [data-cy=workspace-dropdown]").await;
    assert_eq!(workspace.text().await.expect("text").trim(), "Acme Corp");
    let user = h.wait_for("app-top-bar .cl-user-name").await;
    assert_eq!(user.text().await.expect("text").trim(), "Olivia Owner");

    // After every session ends, the next API call sends the SPA back to /en/login and clears
    // the token.
    h.expire_sessions().await;
    h.click_team_link().await;
    h.wait_for_path("/en/login").await;
    h.wait_for("input#email").await;
    let token = h.js("return localStorage.getItem('token');").await;
    assert!(token.is_null(), "the token is cleared: {token}");

    h.close().await;
}

/// The password form, the owner login refusing a non-owner, and the owner getting in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_owner_sign_in() {
    let h = Harness::start(BrowserKind::Firefox, UiVersion::default()).await;

    // "Log in manually": a regular member with a password.
    h.client
        .goto(&h.url("/en/login"))
        .await
        .expect("open /en/login");
    let manual = h.wait_for("a[data-test-id=login-manual]").await;
    assert_eq!(manual.text().await.expect("text").trim(), "Log in manually");
    manual.click().await.expect("click Log in manually");
    let email = h.wait_for("input#email").await;
    assert_eq!(
        email.attr("placeholder").await.expect("attr").as_deref(),
        Some("Enter email")
    );
    let password = h.wait_for("input#password").await;
    assert_eq!(
        password.attr("placeholder").await.expect("attr").as_deref(),
        Some("Enter password")
    );
    // A wrong password first.
    h.fill_password_form(RITA, "not-the-password").await;
    let error = h.wait_for("span[data-cy=error]").await;
    assert_eq!(
        error.text().await.expect("text"),
        "Invalid email or password"
    );
    let password = h.wait_for("input#password").await;
    password.clear().await.expect("clear");
    password.send_keys(RITA_PASSWORD).await.expect("type");
    h.click_css("button[data-test-id=login-button]").await;
    h.wait_for_path("/tracker").await;
    let user = h.wait_for("app-top-bar .cl-user-name").await;
    assert_eq!(user.text().await.expect("text").trim(), "Rita Regular");

    // /login-owner refuses an admin who is not the owner...
    h.client
        .goto(&h.url("/login-owner"))
        .await
        .expect("open /login-owner");
    h.wait_for("input#password").await;
    assert!(
        h.client
            .find(Locator::Css("a[data-test-id=login-manual]"))
            .await
            .is_err(),
        "the owner page has no code flow"
    );
    h.fill_password_form(ADMIN, ADMIN_PASSWORD).await;
    let error = h.wait_for("span[data-cy=error]").await;
    assert_eq!(
        error.text().await.expect("text"),
        "Only the workspace owner can log in here"
    );
    assert_eq!(
        h.client.current_url().await.expect("url").path(),
        "/login-owner"
    );

    // ...and accepts the owner.
    let email = h.wait_for("input#email").await;
    email.clear().await.expect("clear");
    let password = h.wait_for("input#password").await;
    password.clear().await.expect("clear");
    h.fill_password_form(OWNER, OWNER_PASSWORD).await;
    h.wait_for_path("/tracker").await;
    let user = h.wait_for("app-top-bar .cl-user-name").await;
    assert_eq!(user.text().await.expect("text").trim(), "Olivia Owner");

    h.close().await;
}
