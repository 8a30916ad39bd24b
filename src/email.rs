//! Email address checks shared by the agent's input validation and the sandbox's invite dialog.

/// Whether `email` looks like an address the UI accepts: one `@`, a non-empty local part, a dot in
/// the domain, no whitespace, no angle brackets or commas.
pub fn is_valid_email(email: &str) -> bool {
    // RFC 5321 caps an address at 254 characters; control and invisible characters (bidi
    // overrides, zero-width spaces, escapes) have no place in one and can disguise another.
    if email.len() > 254 || email.chars().any(is_control_or_invisible) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"'))
}

/// Control characters and the invisible ones that can make one text look like another.
pub fn is_control_or_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `text` safe to print on a terminal: control and invisible characters escaped.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if is_control_or_invisible(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_overlong_addresses_are_refused() {
        assert!(is_valid_email("ana@acme.example"));
        assert!(!is_valid_email("ana\u{202e}@acme.example"));
        assert!(!is_valid_email("an\u{200b}a@acme.example"));
        assert!(!is_valid_email("\u{1b}[31mana@acme.example"));
        assert!(!is_valid_email(&format!(
            "{}@acme.example",
            "a".repeat(250)
        )));
        assert_eq!(printable("a\u{1b}b"), "a\\u{1b}b");
    }
}
