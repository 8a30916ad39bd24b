//! `clockify-ui-agent`: manages people in Clockify workspaces through the Clockify admin web UI.
//!
//! Layers, one direction of dependency (see the README's architecture section):
//! `cli` → `jobs` → `clockify` (flows) → [`browser`] → WebDriver, with `audit` beside them.
//! [`sandbox`] stands apart: a local mock of the Clockify admin UI for tests, demos and selector
//! work. [`exit`] holds the documented process exit codes.

pub mod agent;
pub mod audit;
pub mod browser;
pub mod clockify;
pub mod config;
pub mod email;
pub mod exit;
pub mod files;
pub mod jobs;
pub mod sandbox;
pub mod selectors;
