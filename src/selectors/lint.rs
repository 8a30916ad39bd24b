//! `selectors lint`: checks a catalog without a browser for selectors that break on the next
//! Clockify release or that point at one particular person. Each finding has a stable rule id.

use serde::Serialize;

use super::{Catalog, LocatorKind, Using};

/// A lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `SEL001`.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Why it matters.
    pub why: &'static str,
}

/// Absolute XPath.
pub const ABSOLUTE_XPATH: Rule = Rule {
    id: "SEL001",
    name: "absolute-xpath",
    why: "an XPath from the document root breaks when any ancestor changes, and ignores the scope element",
};
/// Positional indexes.
pub const POSITIONAL_INDEX: Rule = Rule {
    id: "SEL002",
    name: "positional-index",
    why: "positions change when a column, row or menu item is added",
};
/// Auto-generated classes or ids.
pub const GENERATED_NAME: Rule = Rule {
    id: "SEL003",
    name: "generated-name",
    why: "Angular generates ng-tns-*, _ngcontent-*, _nghost-* and cdk ids anew on every build",
};
/// An email or a person's name inside a selector.
pub const EMBEDDED_IDENTITY: Rule = Rule {
    id: "SEL004",
    name: "embedded-identity",
    why:
        "a selector naming one member matches nobody else and leaks personal data into the catalog",
};
/// An element no flow uses.
pub const UNUSED_ELEMENT: Rule = Rule {
    id: "SEL005",
    name: "unused-element",
    why: "dead entries rot unnoticed and mislead whoever fixes the catalog",
};
/// No visible-label and no test-id candidate.
pub const NO_STABLE_CANDIDATE: Rule = Rule {
    id: "SEL006",
    name: "no-label-or-test-id",
    why: "only structural selectors: nothing survives a redesign",
};

/// Every rule, in id order.
pub const RULES: [Rule; 6] = [
    ABSOLUTE_XPATH,
    POSITIONAL_INDEX,
    GENERATED_NAME,
    EMBEDDED_IDENTITY,
    UNUSED_ELEMENT,
    NO_STABLE_CANDIDATE,
];

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule: &'static str,
    /// Rule name.
    pub name: &'static str,
    /// Logical element.
    pub element: String,
    /// Candidate index, when the finding is about one candidate.
    pub candidate: Option<usize>,
    /// The file the element is defined in.
    pub file: String,
    /// What was found.
    pub message: String,
}

fn finding(
    catalog: &Catalog,
    rule: Rule,
    element: &str,
    candidate: Option<usize>,
    message: String,
) -> Finding {
    Finding {
        rule: rule.id,
        name: rule.name,
        element: element.to_string(),
        candidate,
        file: catalog.defined_in(element).unwrap_or_default().to_string(),
        message,
    }
}

/// Whether `s` contains something shaped like an email address.
fn contains_email(s: &str) -> bool {
    s.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\'' | '"' | '(' | ')' | '[' | ']' | ',' | '=' | '<' | '>'
            )
    })
    .any(|word| {
        word.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
    })
}

/// Whether an XPath has a positional predicate such as `[2]` or `[last()]`.
fn has_position(xpath: &str) -> bool {
    let bytes = xpath.as_bytes();
    xpath.contains("position()")
        || xpath.contains("last()")
        || bytes.windows(3).any(|w| {
            w[0] == b'[' && w[1].is_ascii_digit() && (w[2] == b']' || w[2].is_ascii_digit())
        })
}

const GENERATED: [&str; 5] = [
    "ng-tns-",
    "_ngcontent-",
    "_nghost-",
    "ng-star-inserted",
    "cdk-drop-list-",
];

/// CSS pseudo-classes that select by position.
const CSS_POSITIONAL: [&str; 5] = [
    ":nth-child(",
    ":nth-of-type(",
    ":nth-last-child(",
    ":first-child",
    ":last-child",
];

/// Whether a structural selector (CSS or XPath) picks its element by position.
fn selects_by_position(using: Using, query: &str) -> bool {
    match using {
        Using::XPath => has_position(query),
        Using::Css => CSS_POSITIONAL.iter().any(|p| query.contains(p)),
    }
}

/// Lints `catalog`; `used` lists the elements the flows use (for SEL005).
pub fn lint(catalog: &Catalog, used: &[&str]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for element in catalog.elements() {
        let name = element.name.as_str();
        // Every finding is about this element; `candidate` names one of its candidates.
        let mut found = |rule: Rule, candidate: Option<usize>, message: String| {
            findings.push(finding(catalog, rule, name, candidate, message));
        };
        for (index, c) in element.candidates.iter().enumerate() {
            // A finding about one candidate names it first.
            let mut about = |rule: Rule, what: &str| {
                found(rule, Some(index), format!("{} {what}", c.label));
            };
            let structural = matches!(c.kind, LocatorKind::Css | LocatorKind::XPath);
            if structural
                && c.using == Using::XPath
                && c.query.trim_start_matches('(').starts_with('/')
            {
                about(ABSOLUTE_XPATH, "starts at the document root");
            }
            if structural && selects_by_position(c.using, &c.query) {
                about(POSITIONAL_INDEX, "selects by position");
            }
            if let Some(g) = GENERATED.iter().find(|g| c.query.contains(*g)) {
                about(GENERATED_NAME, &format!("uses the generated name {g}*"));
            }
            if contains_email(&c.label) {
                about(EMBEDDED_IDENTITY, "names an email address");
            }
        }
        if !used.contains(&name) {
            found(UNUSED_ELEMENT, None, "no flow uses this element".into());
        }
        let stable = element.unlabeled.is_some()
            || element.candidates.iter().any(|c| {
                matches!(
                    c.kind,
                    LocatorKind::Text
                        | LocatorKind::Label
                        | LocatorKind::AriaLabel
                        | LocatorKind::Placeholder
                        | LocatorKind::TestId
                )
            });
        if !stable {
            found(
                NO_STABLE_CANDIDATE,
                None,
                "every candidate is structural CSS or XPath; add a visible label, ARIA name or test id".into(),
            );
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(text: &str) -> Catalog {
        Catalog::from_sources(
            vec![super::super::Source {
                name: "lint.toml".into(),
                text: format!("[catalog]\nversion = \"1\"\n{text}"),
            }],
            "en",
        )
        .expect("parses")
    }

    fn rules_of(findings: &[Finding]) -> Vec<&'static str> {
        let mut ids: Vec<_> = findings.iter().map(|f| f.rule).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    #[test]
    fn each_rule_fires_on_its_case() {
        let c = catalog(
            r#"
[bad.absolute]
description = "x"
candidates = [{ xpath = "/html/body/div[2]/button" }]
[bad.generated]
description = "x"
candidates = [{ css = "button.ng-tns-c123-4" }, { test_id = "ok" }]
[bad.person]
description = "x"
candidates = [{ text = "ana@acme.example" }]
[bad.nth]
description = "x"
candidates = [{ css = "tr:nth-child(3) td" }]
"#,
        );
        let used = ["bad.absolute", "bad.generated", "bad.person"];
        let findings = lint(&c, &used);
        assert_eq!(
            rules_of(&findings),
            vec!["SEL001", "SEL002", "SEL003", "SEL004", "SEL005", "SEL006"]
        );
        assert!(findings
            .iter()
            .any(|f| f.rule == "SEL005" && f.element == "bad.nth"));
        assert!(findings.iter().all(|f| f.file == "lint.toml"));
    }

    #[test]
    fn good_selectors_pass() {
        let c = catalog(
            r#"
[good.send]
description = "x"
candidates = [{ text = "Send invite", tag = "button" }, { css = "form button[type='submit']" }]
[good.row]
description = "x"
scoped = true
candidates = [{ test_id = "row" }, { xpath = ".//td[contains(., '@')]" }]
"#,
        );
        assert!(lint(&c, &["good.send", "good.row"]).is_empty());
    }

    #[test]
    fn the_shipped_catalog_is_clean_for_the_flows() {
        let c = Catalog::builtin("en").expect("built-in");
        let findings = lint(&c, crate::clockify::REQUIRED_ELEMENTS);
        assert!(findings.is_empty(), "{findings:#?}");
    }
}
