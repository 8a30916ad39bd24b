//! The browser layer: the only module that talks WebDriver (fantoccini).
//!
//! It owns the WebDriver driver processes ([`driver`]): finding geckodriver or chromedriver,
//! starting it on a free port and stopping it on every exit path.

pub mod driver;
pub mod query;
