//! Redaction of page HTML kept as failure evidence: no input value, no textarea or script body,
//! no token-like string, and a hard size bound.

/// The most bytes [`redacted_excerpt`] ever returns, whatever `max_bytes` says.
pub const EXCERPT_LIMIT: usize = 2048;

/// What replaces removed content.
const REDACTED: &str = "[redacted]";

/// A bounded excerpt (at most `max_bytes`, never more than 2 KB) of page HTML around a failure,
/// with every `value` attribute, every `<textarea>`, `<script>` and `<style>` body (so password
/// fields' contents), and every token-like string (long base64, base64url or hex runs) removed,
/// and white space collapsed. Redaction happens before truncation, so a cut never leaves half a
/// token behind.
pub fn redacted_excerpt(html: &str, max_bytes: usize) -> String {
    let max = max_bytes.min(EXCERPT_LIMIT);
    let stripped = strip_markup_secrets(html);
    let tokens_out = redact_tokens(&stripped);
    let collapsed = collapse_space(&tokens_out);
    truncate(&collapsed, max)
}

/// Replaces every occurrence of each known secret (a password, a sign-in code, a session token)
/// with `[redacted]`. Empty secrets are ignored.
pub fn redact_known(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, REDACTED);
    }
    out
}

/// Query and fragment parameters whose values are never kept (matched as parts of the name).
const SECRET_PARAMS: [&str; 14] = [
    "code", "token", "secret", "pass", "pwd", "session", "auth", "otp", "key", "sig", "jwt",
    "state", "nonce", "cookie",
];

/// A page address fit for evidence: the values of query and fragment parameters that look like
/// secrets (`code`, `token`, `session`, `auth`, `key`, `state`, ...) become `redacted`; scheme,
/// host and path stay as they are. Not a URL: token-like runs are removed instead.
pub fn redact_url(address: &str) -> String {
    let Ok(mut url) = url::Url::parse(address) else {
        return redact_tokens(address);
    };
    let secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        SECRET_PARAMS.iter().any(|s| name.contains(s))
    };
    let clean = |pairs: &str| -> String {
        pairs
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if secret(name) => format!("{name}=redacted"),
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    if let Some(query) = url.query().map(str::to_string) {
        url.set_query(Some(&clean(&query)));
    }
    if let Some(fragment) = url.fragment().map(str::to_string) {
        if fragment.contains('=') {
            url.set_fragment(Some(&clean(&fragment)));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    url.to_string()
}

/// Drops `value` attributes and the bodies of `textarea`, `script` and `style`.
fn strip_markup_secrets(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let Some(tag) = parse_tag(rest) else {
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        out.push_str(&tag.rebuilt);
        rest = &rest[tag.len..];
        let name = tag.name.to_ascii_lowercase();
        if !tag.closing && matches!(name.as_str(), "textarea" | "script" | "style") {
            let close = format!("</{name}");
            let end = find_ascii_case_insensitive(rest, &close).unwrap_or(rest.len());
            if !rest[..end].trim().is_empty() {
                out.push_str(REDACTED);
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

struct Tag {
    name: String,
    closing: bool,
    rebuilt: String,
    len: usize,
}

/// Parses the tag at the start of `s` (which begins with `<`); `None` if it is not one.
fn parse_tag(s: &str) -> Option<Tag> {
    let bytes = s.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    if !bytes.get(i).is_some_and(|b| b.is_ascii_alphabetic()) {
        if s.starts_with("<!--") {
            let end = s.find("-->").map_or(s.len(), |e| e + 3);
            return Some(Tag {
                name: String::new(),
                closing: true,
                rebuilt: "<!-- -->".into(),
                len: end,
            });
        }
        return None;
    }
    let name_start = i;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/'
    {
        i += 1;
    }
    let name = s[name_start..i].to_string();
    let mut rebuilt = s[..i].to_string();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => break,
            Some(b'>') => {
                rebuilt.push('>');
                i += 1;
                break;
            }
            Some(b'/') => {
                rebuilt.push('/');
                i += 1;
                continue;
            }
            _ => {}
        }
        let attr_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        if i == attr_start {
            i += 1;
            continue;
        }
        let attr = &s[attr_start..i];
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value_end = i;
        if bytes.get(j) == Some(&b'=') {
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            match bytes.get(j) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let close = s[j + 1..]
                        .find(q as char)
                        .map_or(s.len(), |e| j + 1 + e + 1);
                    value_end = close;
                }
                _ => {
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                    value_end = j;
                }
            }
        }
        if !attr.eq_ignore_ascii_case("value") {
            rebuilt.push(' ');
            rebuilt.push_str(&s[attr_start..value_end]);
        }
        i = value_end;
    }
    Some(Tag {
        name,
        closing,
        rebuilt,
        len: i.min(s.len()),
    })
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Replaces token-like runs: 24+ characters of base64/base64url alphabet with both letters and
/// digits, or 32+ hex digits.
fn redact_tokens(text: &str) -> String {
    let is_token_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-');
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        let letters = run.chars().filter(|c| c.is_ascii_alphabetic()).count();
        let digits = run.chars().filter(|c| c.is_ascii_digit()).count();
        let hex = run.len() >= 32 && run.chars().all(|c| c.is_ascii_hexdigit());
        if hex || (run.len() >= 24 && letters > 0 && digits > 0) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
    };
    for (i, c) in text.char_indices() {
        if is_token_char(c) {
            run_start.get_or_insert(i);
        } else {
            if let Some(start) = run_start.take() {
                flush(&mut out, &text[start..i]);
            }
            out.push(c);
        }
    }
    if let Some(start) = run_start {
        flush(&mut out, &text[start..]);
    }
    out
}

fn collapse_space(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    const MORE: &str = " …[truncated]";
    let mut end = max.saturating_sub(MORE.len());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    if end == 0 {
        return String::new();
    }
    format!("{}{MORE}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_bodies_and_tokens_go() {
        let html = r#"<form><input type="password" name=pw value="hunter2-Secret">
            <input value='AB12CD' data-cy=code><INPUT VALUE=plain>
            <textarea>my secret notes</textarea><script>var t="eyJhbGciOiJIUzI1NiJ9.abc"</script>
            <div data-token="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6">Sam Lee sam@acme.example</div>
            <span>Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA</span></form>"#;
        let out = redacted_excerpt(html, 2048);
        for secret in [
            "hunter2",
            "AB12CD",
            "plain",
            "secret notes",
            "eyJhbGci",
            "a1b2c3d4e5f6",
            "Zm9vYmFy",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains("Sam Lee sam@acme.example"), "{out}");
        assert!(out.contains(r#"type="password""#), "{out}");
        assert!(out.contains("data-cy=code"), "{out}");
        assert!(out.contains("<textarea>[redacted]</textarea>"), "{out}");
    }

    #[test]
    fn bounded_and_ordinary_text_kept() {
        let html = format!("<p>{}</p>", "Team member row ".repeat(500));
        let out = redacted_excerpt(&html, 10_000);
        assert!(out.len() <= EXCERPT_LIMIT, "{}", out.len());
        assert!(out.ends_with("[truncated]"));
        assert!(out.starts_with("<p>Team member row Team"));
        let out = redacted_excerpt(&"é".repeat(400), 101);
        assert!(out.len() <= 101);
        assert_eq!(redacted_excerpt("<a <b <<>", 100), "<a <b <<>");
        assert_eq!(redacted_excerpt("<input value=\"x", 100), "<input");
        assert_eq!(
            redact_known("code AB12CD sent", &["AB12CD", ""]),
            "code [redacted] sent"
        );
    }

    #[test]
    fn addresses_lose_secret_parameters_only() {
        assert_eq!(
            redact_url(
                "https://app.clockify.me/workspaces/64f1a2b3c4d5e6f7a8b9c0d1/team?tab=members"
            ),
            "https://app.clockify.me/workspaces/64f1a2b3c4d5e6f7a8b9c0d1/team?tab=members"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:4380/en/login?email=a%40x.example&code=AB12CD&sessionId=zz#access_token=abc&x=1"),
            "http://127.0.0.1:4380/en/login?email=a%40x.example&code=redacted&sessionId=redacted#access_token=redacted&x=1"
        );
        assert_eq!(
            redact_url("https://user:hunter2@host.example/"),
            "https://host.example/"
        );
        assert_eq!(redact_url("about:blank"), "about:blank");
    }
}
