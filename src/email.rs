//! Email address checks shared by the agent's input validation and the sandbox's invite dialog.

/// Whether `email` looks like an address the UI accepts: one `@`, a non-empty local part, a dot in
/// the domain, no whitespace, no angle brackets or commas.
pub fn is_valid_email(email: &str) -> bool {
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
