//! Browser tests that prove the sandbox: each drives a real headless browser (Firefox, and
//! Chromium once) against the sandbox with plain fantoccini calls and asserts on the sandbox's own
//! state endpoint, mutation log and mailbox, not on what the page claims.
//!
//! They need firefox-esr, geckodriver, chromium and chromedriver: `scripts/install-deps`.
//! At most two browser sessions run at once (see `common::session_slots`).

mod common;

#[path = "sandbox_ui/chromium.rs"]
mod chromium;
#[path = "sandbox_ui/invite.rs"]
mod invite;
#[path = "sandbox_ui/roles.rs"]
mod roles;
#[path = "sandbox_ui/row_menu.rs"]
mod row_menu;
#[path = "sandbox_ui/sign_in.rs"]
mod sign_in;
#[path = "sandbox_ui/team.rs"]
mod team;
