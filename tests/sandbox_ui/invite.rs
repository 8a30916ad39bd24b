//! The invite dialog: several addresses at once, malformed and existing addresses, the Free
//! plan's five-address limit and a paid plan without free seats.

use clockify_ui_agent::browser::driver::BrowserKind;
use clockify_ui_agent::sandbox::UiVersion;
use fantoccini::elements::Element;
use fantoccini::Locator;

use crate::common::*;

/// A small workspace; `{plan}` and `{seats}` are filled in per test.
const SMALL_SEED: &str = r#"
[workspace]
name = "Acme Corp"
plan = "{plan}"
seats = {seats}

[[members]]
email = "owner@acme.example"
name = "Olivia Owner"
roles = ["owner"]

[[members]]
email = "rita.regular@acme.example"
name = "Rita Regular"

[[members]]
email = "pete.pending@acme.example"
name = "pete.pending"
status = "pending"

[[members]]
email = "ivy.inactive@acme.example"
name = "Ivy Inactive"
status = "inactive"
"#;

fn small_seed(plan: &str, seats: u32) -> String {
    SMALL_SEED
        .replace("{plan}", plan)
        .replace("{seats}", &seats.to_string())
}

/// Opens "Add new member" and returns the dialog's email box once it is ready.
async fn open_invite_dialog(h: &Harness) -> Element {
    h.click_button("Add new member").await;
    h.dialog().await;
    h.wait_for("app-modal-wrapper-component textarea#invite-emails")
        .await
}

async fn send_button(h: &Harness) -> Element {
    h.wait_for_xpath("//app-modal-wrapper-component//button[normalize-space()='Send invite']")
        .await
}

async fn inline_errors(h: &Harness) -> Vec<String> {
    let mut texts = Vec::new();
    for e in h
        .client
        .find_all(Locator::Css(
            "app-modal-wrapper-component .cl-invalid-feedback",
        ))
        .await
        .expect("find")
    {
        texts.push(e.text().await.expect("text"));
    }
    texts
}

/// Waits until the Send button's enabled state is `enabled`.
async fn wait_send_enabled(h: &Harness, enabled: bool) {
    h.poll(
        &format!(
            "\"Send invite\" to be {}",
            if enabled { "enabled" } else { "disabled" }
        ),
        || async {
            let button = send_button(h).await;
            Ok((button.is_enabled().await? == enabled).then_some(()))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_several_malformed_and_existing() {
    let h = Harness::start(BrowserKind::Firefox, UiVersion::default()).await;
    h.sign_in_with_code(OWNER).await;
    h.open_team_page().await;
    let before = h.members().await.len();

    // Several addresses separated by a comma, a space and a new line: one request, all pending.
    let emails = [
        "new.one@acme.example",
        "new.two@acme.example",
        "new.three@acme.example",
        "new.four@acme.example",
    ];
    let text = format!("{}, {} {}\n{}", emails[0], emails[1], emails[2], emails[3]);
    let textarea = open_invite_dialog(&h).await;
    textarea.send_keys(&text).await.expect("type the emails");
    wait_send_enabled(&h, true).await;
    h.screenshot("invite-dialog").await;
    send_button(&h).await.click().await.expect("send");
    h.wait_toast("Invitations sent").await;
    h.wait_dialog_closed().await;
    for email in emails {
        let member = h.must_member(email).await;
        assert_eq!(member["status"], "PENDING", "{email}: {member}");
    }
    assert_eq!(h.members().await.len(), before + emails.len());
    let invites = h.mutations_of("invite").await;
    assert_eq!(invites.len(), 1, "one invite request: {invites:?}");
    assert_eq!(invites[0]["status"], 200);
    assert_eq!(invites[0]["targets"], serde_json::json!(emails));
    // Each invited address got an invitation mail.
    for email in emails {
        assert_eq!(h.mailbox(email).await.len(), 1, "{email} got one mail");
    }

    // A malformed address: inline error, Send disabled, nothing sent.
    let textarea = open_invite_dialog(&h).await;
    textarea
        .send_keys("good@acme.example, not-an-email")
        .await
        .expect("type");
    h.wait_for("app-modal-wrapper-component .cl-invalid-feedback")
        .await;
    assert_eq!(
        inline_errors(&h).await,
        vec!["Email format is not valid: not-an-email".to_string()]
    );
    wait_send_enabled(&h, false).await;
    // Enter in the form does not send either.
    textarea.send_keys(ENTER).await.expect("type");
    assert_eq!(h.mutations_of("invite").await.len(), 1, "no new request");
    assert!(h.member("good@acme.example").await.is_none());

    // An existing member: the error shows in the dialog and nothing changes.
    textarea.clear().await.expect("clear");
    textarea.send_keys(RITA).await.expect("type");
    wait_send_enabled(&h, true).await;
    let state_before = h.state().await;
    send_button(&h).await.click().await.expect("send");
    let alert = h
        .wait_for("app-modal-wrapper-component .cl-alert-danger")
        .await;
    assert_eq!(
        alert.text().await.expect("text"),
        format!("{RITA} is already a member of this workspace")
    );
    h.dialog().await; // still open
    assert_eq!(h.state().await["members"], state_before["members"]);
    let invites = h.mutations_of("invite").await;
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[1]["status"], 400, "refused: {invites:?}");

    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_limits_free_plan_and_seats() {
    // Free plan: six addresses disable "Send invite"; five are fine.
    let mut h = Harness::with_seed(
        BrowserKind::Firefox,
        UiVersion::default(),
        &small_seed("free", 0),
    )
    .await;
    h.sign_in_with_code(OWNER).await;
    h.open_team_page().await;
    let textarea = open_invite_dialog(&h).await;
    let six: Vec<String> = (1..=6).map(|i| format!("free{i}@acme.example")).collect();
    textarea.send_keys(&six.join(" ")).await.expect("type");
    h.wait_for("app-modal-wrapper-component .cl-free-plan-limit")
        .await;
    wait_send_enabled(&h, false).await;
    assert_eq!(
        inline_errors(&h).await,
        vec!["On the Free plan you can invite up to 5 members at a time.".to_string()]
    );
    textarea.clear().await.expect("clear");
    textarea.send_keys(&six[..5].join(" ")).await.expect("type");
    wait_send_enabled(&h, true).await;
    assert!(h.mutations_of("invite").await.is_empty(), "nothing sent");

    // A paid plan whose seats are all taken (owner, rita, pete: the inactive member is free).
    h.reseed(UiVersion::default(), &small_seed("standard", 3))
        .await;
    let state = h.state().await;
    assert_eq!(state["workspace"]["seatsUsed"], 3);
    h.sign_in_with_code(OWNER).await;
    h.open_team_page().await;
    let textarea = open_invite_dialog(&h).await;
    let seats = h
        .wait_for("app-modal-wrapper-component .cl-seat-info")
        .await;
    assert_eq!(seats.text().await.expect("text"), "0 of 3 seats available");
    textarea
        .send_keys("one.more@acme.example")
        .await
        .expect("type");
    wait_send_enabled(&h, true).await;
    send_button(&h).await.click().await.expect("send");
    let alert = h
        .wait_for("app-modal-wrapper-component .cl-alert-danger")
        .await;
    let text = alert.text().await.expect("text");
    assert!(
        text.starts_with("You do not have enough seats left"),
        "{text}"
    );
    assert!(h.member("one.more@acme.example").await.is_none());
    assert_eq!(h.members().await.len(), 4, "nothing added");
    let invites = h.mutations_of("invite").await;
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0]["status"], 402);

    h.close().await;
}
