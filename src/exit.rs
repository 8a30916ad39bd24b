//! The process exit codes, documented in the README and in `--help`.

/// Every action verified (no-ops included).
pub const SUCCESS: u8 = 0;
/// An action failed for a business reason (no such member, no seats, not permitted).
pub const ACTION_FAILED: u8 = 1;
/// Usage, configuration or input error; nothing was changed.
pub const USAGE: u8 = 2;
/// The browser or WebDriver is unavailable.
pub const BROWSER_UNAVAILABLE: u8 = 3;
/// Sign-in required or failed.
pub const SIGN_IN: u8 = 4;
/// The UI did not match the selector catalog.
pub const UI_MISMATCH: u8 = 5;
/// Interrupted (Ctrl-C).
pub const INTERRUPTED: u8 = 130;

/// The table printed at the end of `--help`.
pub const HELP_TABLE: &str = "\
Exit codes:
  0    every action verified (already-done work counts as verified)
  1    an action failed for a business reason (no such member, no seats, not permitted)
  2    usage, configuration or input error; nothing was changed
  3    browser or WebDriver unavailable
  4    sign-in required or failed
  5    the UI did not match the selector catalog
  130  interrupted";
