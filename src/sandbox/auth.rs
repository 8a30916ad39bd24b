//! Sign-in for the sandbox: emailed codes, the mailbox they land in, and signed-in sessions.
//!
//! A session has two secrets, like the real app: a cookie (checked when an app page is requested)
//! and a token the page keeps in `localStorage['token']` (sent as `X-Auth-Token` on API calls).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use serde::Serialize;

/// Characters of an emailed code: capital letters and digits ("numbers and letters").
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Length of an emailed code.
pub const CODE_LENGTH: usize = 6;

/// One mail the sandbox "sent".
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The sign-in code, for code mails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// When it was sent (RFC 3339, UTC).
    pub at: String,
}

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The member signed in.
    pub member_id: String,
    /// The cookie value.
    pub cookie: String,
    /// When it stops being valid.
    pub expires: Instant,
}

#[derive(Debug, Clone)]
struct PendingCode {
    code: String,
    expires: Instant,
}

/// Codes, mailbox and sessions of one sandbox.
#[derive(Debug)]
pub struct AuthStore {
    code_ttl: Duration,
    session_ttl: Duration,
    codes: HashMap<String, PendingCode>,
    /// Sessions by token.
    sessions: HashMap<String, Session>,
    mailbox: Vec<Mail>,
}

/// Why an emailed code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRejection {
    /// No code was sent, or it does not match.
    Invalid,
    /// It matched but is older than the validity window.
    Expired,
}

impl AuthStore {
    /// An empty store with the given validity windows.
    pub fn new(code_ttl: Duration, session_ttl: Duration) -> Self {
        AuthStore {
            code_ttl,
            session_ttl,
            codes: HashMap::new(),
            sessions: HashMap::new(),
            mailbox: Vec::new(),
        }
    }

    /// Makes a new code for `email` (replacing an older one) and mails it.
    pub fn send_code(&mut self, email: &str, workspace: &str) {
        let mut rng = rand::rng();
        let code: String = (0..CODE_LENGTH)
            .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        self.codes.insert(
            email.to_string(),
            PendingCode {
                code: code.clone(),
                expires: Instant::now() + self.code_ttl,
            },
        );
        self.mailbox.push(Mail {
            to: email.to_string(),
            subject: format!("Your Clockify login code for {workspace}"),
            code: Some(code),
            at: now_rfc3339(),
        });
    }

    /// Checks `code` for `email`; a code is used once.
    pub fn take_code(&mut self, email: &str, code: &str) -> Result<(), CodeRejection> {
        let pending = self.codes.get(email).ok_or(CodeRejection::Invalid)?;
        if !pending.code.eq_ignore_ascii_case(code.trim()) {
            return Err(CodeRejection::Invalid);
        }
        if Instant::now() > pending.expires {
            return Err(CodeRejection::Expired);
        }
        self.codes.remove(email);
        Ok(())
    }

    /// Records a mail that carries no code (invitations).
    pub fn send_mail(&mut self, to: &str, subject: String) {
        self.mailbox.push(Mail {
            to: to.to_string(),
            subject,
            code: None,
            at: now_rfc3339(),
        });
    }

    /// Mails to `to` (all mails when `None`), oldest first.
    pub fn mails(&self, to: Option<&str>) -> Vec<Mail> {
        self.mailbox
            .iter()
            .filter(|m| to.is_none_or(|t| m.to.eq_ignore_ascii_case(t.trim())))
            .cloned()
            .collect()
    }

    /// Starts a session; returns (token, cookie).
    pub fn start_session(&mut self, member_id: &str) -> (String, String) {
        let mut rng = rand::rng();
        let token = format!("sbx.{}", Alphanumeric.sample_string(&mut rng, 40));
        let cookie = Alphanumeric.sample_string(&mut rng, 32);
        self.sessions.insert(
            token.clone(),
            Session {
                member_id: member_id.to_string(),
                cookie: cookie.clone(),
                expires: Instant::now() + self.session_ttl,
            },
        );
        (token, cookie)
    }

    /// The member id of a live session with this token.
    pub fn member_for_token(&self, token: &str) -> Option<&str> {
        self.sessions
            .get(token)
            .filter(|s| Instant::now() < s.expires)
            .map(|s| s.member_id.as_str())
    }

    /// Whether a live session has this cookie.
    pub fn cookie_is_live(&self, cookie: &str) -> bool {
        let now = Instant::now();
        self.sessions
            .values()
            .any(|s| s.cookie == cookie && now < s.expires)
    }

    /// Ends the session with this token.
    pub fn end_session(&mut self, token: &str) {
        self.sessions.remove(token);
    }

    /// Ends every session of one member (deactivation logs them out).
    pub fn end_sessions_of(&mut self, member_id: &str) {
        self.sessions.retain(|_, s| s.member_id != member_id);
    }

    /// Ends every session (the test endpoint `expire-sessions`).
    pub fn expire_all(&mut self) {
        self.sessions.clear();
    }
}

/// The current UTC time as RFC 3339 with milliseconds.
pub fn now_rfc3339() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_characters_single_use_and_expire() {
        let mut store = AuthStore::new(Duration::from_secs(60), Duration::from_secs(60));
        store.send_code("a@x.example", "W");
        let code = store.mails(Some("a@x.example"))[0]
            .code
            .clone()
            .expect("code mail");
        assert_eq!(code.len(), CODE_LENGTH);
        assert_eq!(
            store.take_code("a@x.example", "WRONG1"),
            Err(CodeRejection::Invalid)
        );
        assert_eq!(store.take_code("a@x.example", &code), Ok(()));
        assert_eq!(
            store.take_code("a@x.example", &code),
            Err(CodeRejection::Invalid)
        );

        let mut expired = AuthStore::new(Duration::ZERO, Duration::from_secs(60));
        expired.send_code("a@x.example", "W");
        let code = expired.mails(None)[0].code.clone().expect("code mail");
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(
            expired.take_code("a@x.example", &code),
            Err(CodeRejection::Expired)
        );
    }

    #[test]
    fn sessions_end_on_expire_all() {
        let mut store = AuthStore::new(Duration::from_secs(60), Duration::from_secs(60));
        let (token, cookie) = store.start_session("u1");
        assert_eq!(store.member_for_token(&token), Some("u1"));
        assert!(store.cookie_is_live(&cookie));
        store.expire_all();
        assert_eq!(store.member_for_token(&token), None);
        assert!(!store.cookie_is_live(&cookie));
    }
}
