//! The selector catalog: the data files under `selectors/` that say what the agent clicks.
//!
//! This module owns their format, strict parsing (unknown keys and locator kinds are errors that
//! name the file and the key path), per-locale label text, per-tenant overrides, and resolution of
//! each logical element (e.g. `team.add_member`) into ordered WebDriver locators. It has no async
//! code and no WebDriver: everything here is testable without a browser.
//!
//! File format (every `*.toml` of the folder is read; one of them carries `[catalog]`):
//!
//! ```toml
//! [catalog]
//! version = "2026.11.0"
//! locales = ["en"]
//!
//! [team.add_member]                     # area "team", element "add_member"
//! description = "Primary button that opens the invite dialog"
//! candidates = [                        # tried in order; first match wins
//!   { text = "Add new member", tag = "button" },
//!   { test_id = "add-member-button" },
//! ]
//! multiple = false                      # true: many matches are expected (rows, options)
//! scoped = false                        # true: looked up inside another element (a row, a dialog)
//! ```
//!
//! Locator kinds: `text` (visible text, optional `tag`, per-locale table allowed, matched case-
//! and whitespace-insensitively), `label` (a form control by its `<label>` text), `aria_label`,
//! `placeholder`, `test_id` (`data-cy`, `data-test-id` or `data-testid`), `css`, `xpath`.
//!
//! A `text`, `label`, `aria_label` or `placeholder` may be a list of texts, any of which matches
//! (`text = ["Resend an invite email", "Send an invite email"]`, also per locale:
//! `text = { en = ["…", "…"] }`): for an element whose documented label differs between the UI
//! generations the agent supports. It is one candidate: listed first, it is the first choice on
//! every supported generation, and only a label outside the list falls through to a later
//! candidate (which `selectors check` reports as a fallback: drift).
//! An element that has no label by nature (a row, a cell, a spinner) says why in
//! `unlabeled = "…"`, which `selectors lint` accepts instead of a label or test id.

pub mod lint;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rust_embed::RustEmbed;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "selectors/"]
struct Builtin;

/// The catalog could not be used. Raised before any browser starts.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file or folder could not be read.
    #[error("cannot read selector file {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The `--selectors` folder could not be read (missing, or not a folder).
    #[error("cannot read selector folder {path}")]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The `--selectors` folder holds no catalog file.
    #[error("selector folder {0} has no .toml files")]
    NoFiles(PathBuf),
    /// A file is not valid TOML.
    #[error("selector file {file}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A key or value is not part of the format.
    #[error("selector file {file}: {path}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The key path, e.g. `team.add_member.candidates[1].cs`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A flow needs elements the catalog does not define.
    #[error("the selector catalog lacks element(s) {0}")]
    Missing(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogMeta {
    version: String,
    #[serde(default)]
    locales: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementSpec {
    description: String,
    candidates: Vec<CandidateSpec>,
    #[serde(default)]
    multiple: bool,
    #[serde(default)]
    scoped: bool,
    /// Why this element has no visible label or test id (a container, a cell); silences SEL006.
    #[serde(default)]
    unlabeled: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateSpec {
    #[serde(default)]
    text: Option<LocalizedText>,
    #[serde(default)]
    label: Option<LocalizedText>,
    #[serde(default)]
    aria_label: Option<LocalizedText>,
    #[serde(default)]
    placeholder: Option<LocalizedText>,
    #[serde(default)]
    test_id: Option<String>,
    #[serde(default)]
    css: Option<String>,
    #[serde(default)]
    xpath: Option<String>,
    /// Element name for `text` candidates (default: the innermost element with that text).
    #[serde(default)]
    tag: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum LocalizedText {
    Same(Texts),
    PerLocale(BTreeMap<String, Texts>),
}

/// One text, or a list of texts any of which matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Texts {
    One(String),
    AnyOf(Vec<String>),
}

impl Texts {
    fn as_slice(&self) -> &[String] {
        match self {
            Texts::One(text) => std::slice::from_ref(text),
            Texts::AnyOf(texts) => texts,
        }
    }
}

impl LocalizedText {
    fn for_locale(&self, locale: &str) -> Option<&[String]> {
        match self {
            LocalizedText::Same(texts) => Some(texts.as_slice()),
            LocalizedText::PerLocale(map) => map.get(locale).map(Texts::as_slice),
        }
    }
}

/// How a locator is given to WebDriver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Using {
    /// A CSS selector.
    Css,
    /// An XPath expression (relative, `.//…`, so it also works inside a scope element).
    XPath,
}

/// The kind of a candidate, from most to least redesign-proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LocatorKind {
    /// Visible text.
    Text,
    /// A form control by the text of its `<label>`.
    Label,
    /// ARIA label.
    AriaLabel,
    /// Placeholder text.
    Placeholder,
    /// Test hook attribute.
    TestId,
    /// Structural CSS.
    Css,
    /// Structural XPath.
    XPath,
}

/// One resolved candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locator {
    /// What kind of candidate it came from.
    pub kind: LocatorKind,
    /// CSS or XPath.
    pub using: Using,
    /// The selector or expression sent to WebDriver.
    pub query: String,
    /// How it reads in messages, e.g. `text "Send invite" in <button>`.
    pub label: String,
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

/// A logical element with its ordered candidates.
#[derive(Debug, Clone)]
pub struct Element {
    /// Logical name, `area.element`.
    pub name: String,
    /// What it is, for people.
    pub description: String,
    /// Many matches are expected.
    pub multiple: bool,
    /// Looked up inside another element.
    pub scoped: bool,
    /// Candidates in order of preference.
    pub candidates: Vec<Locator>,
    /// Why it has no visible-label or test-id candidate, when the catalog says so.
    pub unlabeled: Option<String>,
}

/// The resolved catalog for one locale.
#[derive(Debug, Clone)]
pub struct Catalog {
    version: String,
    locale: String,
    sha256: String,
    sources: Vec<String>,
    elements: BTreeMap<String, Element>,
    specs: BTreeMap<String, (String, ElementSpec)>,
}

/// One catalog file's text and where it came from.
struct Source {
    name: String,
    text: String,
}

impl Catalog {
    /// The catalog embedded in the binary (a copy of `selectors/`).
    pub fn builtin(locale: &str) -> Result<Self, CatalogError> {
        let mut sources = Vec::new();
        for name in Builtin::iter().filter(|n| n.ends_with(".toml")) {
            if let Some(file) = Builtin::get(&name) {
                sources.push(Source {
                    name: format!("selectors/{name} (built-in)"),
                    text: String::from_utf8_lossy(&file.data).into_owned(),
                });
            }
        }
        Self::from_sources(sources, locale)
    }

    /// Every `*.toml` file of `dir` (replaces the built-in catalog).
    pub fn from_dir(dir: &Path, locale: &str) -> Result<Self, CatalogError> {
        let read_err = |source| CatalogError::ReadDir {
            path: dir.to_path_buf(),
            source,
        };
        // Says "a FIFO (named pipe), not a folder" rather than the OS's "Not a directory".
        crate::files::folder_metadata(dir).map_err(read_err)?;
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        if paths.is_empty() {
            return Err(CatalogError::NoFiles(dir.to_path_buf()));
        }
        paths.sort();
        let mut sources = Vec::new();
        for path in paths {
            sources.push(Source {
                name: path.display().to_string(),
                text: read_text(&path)?,
            });
        }
        Self::from_sources(sources, locale)
    }

    /// Replaces the elements that the override file names (a per-tenant fix); others stay.
    pub fn with_overrides(mut self, file: &Path) -> Result<Self, CatalogError> {
        let source = Source {
            name: file.display().to_string(),
            text: read_text(file)?,
        };
        let mut hasher = Sha256::new();
        hasher.update(self.sha256.as_bytes());
        hasher.update(source.text.as_bytes());
        let (meta, specs) = parse_source(&source)?;
        if meta.is_some() {
            return Err(CatalogError::Invalid {
                file: source.name,
                path: "catalog".into(),
                message: "an override file must not carry [catalog]".into(),
            });
        }
        for (name, spec) in specs {
            let element = resolve(&source.name, &name, &spec, &self.locale)?;
            self.elements.insert(name.clone(), element);
            self.specs.insert(name, (source.name.clone(), spec));
        }
        self.sha256 = hex(&hasher.finalize());
        self.sources.push(source.name);
        Ok(self)
    }

    fn from_sources(sources: Vec<Source>, locale: &str) -> Result<Self, CatalogError> {
        let mut hasher = Sha256::new();
        let mut meta: Option<(String, CatalogMeta)> = None;
        let mut specs = BTreeMap::new();
        for source in &sources {
            hasher.update(source.name.as_bytes());
            hasher.update(source.text.as_bytes());
            let (file_meta, file_specs) = parse_source(source)?;
            if let Some(m) = file_meta {
                if let Some((first, _)) = &meta {
                    return Err(CatalogError::Invalid {
                        file: source.name.clone(),
                        path: "catalog".into(),
                        message: format!("[catalog] is already given in {first}"),
                    });
                }
                meta = Some((source.name.clone(), m));
            }
            for (name, spec) in file_specs {
                if let Some((first, _)) = specs.get(&name) {
                    return Err(CatalogError::Invalid {
                        file: source.name.clone(),
                        path: name,
                        message: format!("element already defined in {first}"),
                    });
                }
                specs.insert(name, (source.name.clone(), spec));
            }
        }
        // Never empty in practice: the built-in catalog embeds files and `from_dir` refuses a
        // folder without any.
        let origin = sources
            .first()
            .map_or_else(|| "(none given)".to_string(), |s| s.name.clone());
        let (meta_file, meta) = meta.ok_or_else(|| CatalogError::Invalid {
            file: origin,
            path: "catalog".into(),
            message: "no file has a [catalog] table with the version".into(),
        })?;
        if !meta.locales.is_empty() && !meta.locales.iter().any(|l| l == locale) {
            return Err(CatalogError::Invalid {
                file: meta_file,
                path: "catalog.locales".into(),
                message: format!(
                    "locale '{locale}' is not supported (supported: {})",
                    meta.locales.join(", ")
                ),
            });
        }
        let mut elements = BTreeMap::new();
        for (name, (file, spec)) in &specs {
            elements.insert(name.clone(), resolve(file, name, spec, locale)?);
        }
        Ok(Catalog {
            version: meta.version,
            locale: locale.to_string(),
            sha256: hex(&hasher.finalize()),
            sources: sources.into_iter().map(|s| s.name).collect(),
            elements,
            specs,
        })
    }

    /// The catalog version from `[catalog]`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The locale its texts were resolved for.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// SHA-256 over every file read (names and contents), hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The files it was read from.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The element called `name`, if defined.
    pub fn get(&self, name: &str) -> Option<&Element> {
        self.elements.get(name)
    }

    /// All elements, by name.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.elements.values()
    }

    /// The file an element was defined in (after overrides).
    pub fn defined_in(&self, name: &str) -> Option<&str> {
        self.specs.get(name).map(|(file, _)| file.as_str())
    }

    /// Checks that every name in `names` is defined.
    pub fn require(&self, names: &[&str]) -> Result<(), CatalogError> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !self.elements.contains_key(*n))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CatalogError::Missing(missing.join(", ")))
        }
    }
}

fn read_text(path: &Path) -> Result<String, CatalogError> {
    crate::files::read_regular_text(path).map_err(|source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type ParsedFile = (Option<CatalogMeta>, Vec<(String, ElementSpec)>);

/// Parses one file into its optional `[catalog]` and its elements, with key paths in errors.
fn parse_source(source: &Source) -> Result<ParsedFile, CatalogError> {
    let table: toml::Table =
        source
            .text
            .parse()
            .map_err(|e: toml::de::Error| CatalogError::Syntax {
                file: source.name.clone(),
                message: e.to_string().trim().replace('\n', " "),
            })?;
    let invalid = |path: String, message: String| CatalogError::Invalid {
        file: source.name.clone(),
        path,
        message,
    };
    let mut meta = None;
    let mut elements = Vec::new();
    for (area, value) in table {
        if area == "catalog" {
            let parsed: CatalogMeta = serde_path_to_error::deserialize(value).map_err(|e| {
                invalid(
                    join_path("catalog", &e.path().to_string()),
                    e.inner().to_string(),
                )
            })?;
            meta = Some(parsed);
            continue;
        }
        let toml::Value::Table(area_table) = value else {
            return Err(invalid(
                area,
                "expected a table of elements ([area.element])".into(),
            ));
        };
        for (element, value) in area_table {
            let name = format!("{area}.{element}");
            if !is_identifier(&area) || !is_identifier(&element) {
                return Err(invalid(
                    name,
                    "names are lower-case letters, digits and underscores".into(),
                ));
            }
            let spec: ElementSpec = serde_path_to_error::deserialize(value).map_err(|e| {
                invalid(
                    join_path(&name, &e.path().to_string()),
                    e.inner().to_string(),
                )
            })?;
            elements.push((name, spec));
        }
    }
    Ok((meta, elements))
}

fn join_path(prefix: &str, rest: &str) -> String {
    if rest.is_empty() || rest == "." {
        prefix.to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Turns one element's spec into locators for `locale`.
fn resolve(
    file: &str,
    name: &str,
    spec: &ElementSpec,
    locale: &str,
) -> Result<Element, CatalogError> {
    let invalid = |path: String, message: &str| CatalogError::Invalid {
        file: file.to_string(),
        path,
        message: message.to_string(),
    };
    if spec.candidates.is_empty() {
        return Err(invalid(
            format!("{name}.candidates"),
            "needs at least one candidate",
        ));
    }
    let mut candidates = Vec::new();
    for (index, c) in spec.candidates.iter().enumerate() {
        let path = format!("{name}.candidates[{index}]");
        let kinds = [
            c.text.is_some(),
            c.label.is_some(),
            c.aria_label.is_some(),
            c.placeholder.is_some(),
            c.test_id.is_some(),
            c.css.is_some(),
            c.xpath.is_some(),
        ]
        .iter()
        .filter(|k| **k)
        .count();
        if kinds != 1 {
            return Err(invalid(
                path,
                "give exactly one of text, label, aria_label, placeholder, test_id, css, xpath",
            ));
        }
        if c.tag.is_some() && c.text.is_none() {
            return Err(invalid(
                format!("{path}.tag"),
                "`tag` only goes with `text`",
            ));
        }
        if let Some(tag) = &c.tag {
            if !tag
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                || tag.is_empty()
            {
                return Err(invalid(format!("{path}.tag"), "not an element name"));
            }
        }
        let texts = [&c.text, &c.label, &c.aria_label, &c.placeholder]
            .into_iter()
            .flatten()
            .find_map(|t| t.for_locale(locale));
        if texts.is_some_and(<[String]>::is_empty) {
            return Err(invalid(path, "an empty list of texts matches nothing"));
        }
        let locator = if c.text.is_some() {
            texts.map(|t| text_locator(t, c.tag.as_deref()))
        } else if c.label.is_some() {
            texts.map(label_locator)
        } else if c.aria_label.is_some() {
            texts.map(|t| attribute_locator(LocatorKind::AriaLabel, "aria-label", t))
        } else if c.placeholder.is_some() {
            texts.map(|t| attribute_locator(LocatorKind::Placeholder, "placeholder", t))
        } else if let Some(id) = &c.test_id {
            let v = css_string(id);
            Some(Locator {
                kind: LocatorKind::TestId,
                using: Using::Css,
                query: format!("[data-cy={v}], [data-test-id={v}], [data-testid={v}]"),
                label: format!("test id {id:?}"),
            })
        } else if let Some(css) = &c.css {
            Some(Locator {
                kind: LocatorKind::Css,
                using: Using::Css,
                query: css.clone(),
                label: format!("css {css:?}"),
            })
        } else {
            c.xpath.as_ref().map(|x| Locator {
                kind: LocatorKind::XPath,
                using: Using::XPath,
                query: x.clone(),
                label: format!("xpath {x:?}"),
            })
        };
        if let Some(locator) = locator {
            if locator.query.trim().is_empty() {
                return Err(invalid(path, "empty selector"));
            }
            candidates.push(locator);
        }
    }
    if candidates.is_empty() {
        return Err(invalid(
            format!("{name}.candidates"),
            &format!("no candidate has text for locale '{locale}'"),
        ));
    }
    Ok(Element {
        name: name.to_string(),
        description: spec.description.clone(),
        multiple: spec.multiple,
        scoped: spec.scoped,
        candidates,
        unlabeled: spec.unlabeled.clone(),
    })
}

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// How texts read in messages: `"A"`, or `"A" or "B"` for a list.
fn quoted_texts(texts: &[String]) -> String {
    texts
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// An XPath 1.0 predicate body that is true when `node`'s text, case- and whitespace-folded,
/// equals one of `texts`.
fn folded_text_is(node: &str, texts: &[String]) -> String {
    let folded = format!("translate(normalize-space({node}), '{UPPER}', '{LOWER}')");
    texts
        .iter()
        .map(|text| {
            let wanted = xpath_string(
                &text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase(),
            );
            format!("{folded} = {wanted}")
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A relative XPath matching visible text (any of `texts`) case- and whitespace-insensitively.
/// Without a tag it matches the innermost element carrying the text, so a
/// `<button><span>Save</span></button>` yields the span, not both.
fn text_locator(texts: &[String], tag: Option<&str>) -> Locator {
    let matches = folded_text_is(".", texts);
    let query = match tag {
        Some(tag) => format!(".//{tag}[{matches}]"),
        None => format!(".//*[{matches}][not(.//*[{matches}])]"),
    };
    let shown = quoted_texts(texts);
    Locator {
        kind: LocatorKind::Text,
        using: Using::XPath,
        query,
        label: match tag {
            Some(tag) => format!("text {shown} in <{tag}>"),
            None => format!("text {shown}"),
        },
    }
}

/// A relative XPath for the form control inside (or named by `for`) the `<label>` with this text
/// (any of `texts`), matched like [`text_locator`].
fn label_locator(texts: &[String]) -> Locator {
    let matches = folded_text_is(".", texts);
    let controls = "self::input or self::textarea or self::select";
    Locator {
        kind: LocatorKind::Label,
        using: Using::XPath,
        query: format!(
            ".//label[{matches}]//*[{controls}] | .//*[{controls}][@id = //label[{matches}]/@for]"
        ),
        label: format!("label {}", quoted_texts(texts)),
    }
}

/// A CSS selector for elements whose `attribute` is exactly one of `texts`.
fn attribute_locator(kind: LocatorKind, attribute: &str, texts: &[String]) -> Locator {
    Locator {
        kind,
        using: Using::Css,
        query: texts
            .iter()
            .map(|t| format!("[{attribute}={}]", css_string(t)))
            .collect::<Vec<_>>()
            .join(", "),
        label: format!("{attribute} {}", quoted_texts(texts)),
    }
}

/// An XPath 1.0 string literal for any text (XPath has no escapes, so mixed quotes use concat).
fn xpath_string(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A CSS string literal.
fn css_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\a "),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Catalog, CatalogError> {
        Catalog::from_sources(
            vec![Source {
                name: "test.toml".into(),
                text: text.into(),
            }],
            "en",
        )
    }

    const HEADER: &str = "[catalog]\nversion = \"1\"\nlocales = [\"en\", \"es\"]\n";

    #[test]
    fn builtin_catalog_parses() {
        let catalog = Catalog::builtin("en").expect("built-in catalog");
        assert!(!catalog.version().is_empty());
        assert_eq!(catalog.sha256().len(), 64);
        assert!(catalog.get("team.add_member").is_some());
    }

    #[test]
    fn unknown_locator_kind_names_file_and_key_path() {
        let err = parse(&format!(
            "{HEADER}[team.add_member]\ndescription = \"x\"\ncandidates = [{{ css = \"a\" }}, {{ cs = \"b\" }}]\n"
        ))
        .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("test.toml"), "{text}");
        assert!(text.contains("team.add_member.candidates[1]"), "{text}");
        assert!(text.contains("cs"), "{text}");
    }

    #[test]
    fn unknown_element_key_is_refused() {
        let err = parse(&format!(
            "{HEADER}[team.add_member]\ndescription = \"x\"\ncandidates = [{{ css = \"a\" }}]\ncolour = 1\n"
        ))
        .expect_err("refused");
        assert!(err.to_string().contains("team.add_member"), "{err}");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn two_kinds_in_one_candidate_are_refused() {
        let err = parse(&format!(
            "{HEADER}[a.b]\ndescription = \"x\"\ncandidates = [{{ css = \"a\", xpath = \"//a\" }}]\n"
        ))
        .expect_err("refused");
        assert!(err.to_string().contains("a.b.candidates[0]"), "{err}");
    }

    #[test]
    fn missing_catalog_table_is_refused() {
        let err = parse("[a.b]\ndescription = \"x\"\ncandidates = [{ css = \"a\" }]\n")
            .expect_err("refused");
        assert!(err.to_string().contains("[catalog]"), "{err}");
    }

    #[test]
    fn locales_pick_text_and_skip_candidates_without_it() {
        let text = format!(
            "{HEADER}[a.send]\ndescription = \"x\"\ncandidates = [{{ text = {{ en = \"Send invite\", es = \"Enviar\" }}, tag = \"button\" }}, {{ text = {{ es = \"Solo\" }} }}]\n"
        );
        let en = parse(&text).expect("en");
        let send = en.get("a.send").expect("element");
        assert_eq!(send.candidates.len(), 1);
        assert!(send.candidates[0].query.contains("'send invite'"));
        assert!(send.candidates[0].query.starts_with(".//button["));
        let es = Catalog::from_sources(
            vec![Source {
                name: "t".into(),
                text,
            }],
            "es",
        )
        .expect("es");
        assert_eq!(es.get("a.send").expect("element").candidates.len(), 2);
    }

    #[test]
    fn a_list_of_texts_is_one_candidate_matching_any_of_them() {
        let en = parse(&format!(
            "{HEADER}[a.resend]\ndescription = \"x\"\ncandidates = [\n  {{ text = [\"Resend an invite email\", \"Send an invite email\"], tag = \"a\" }},\n  {{ aria_label = {{ en = [\"More actions\", \"Actions\"] }} }},\n  {{ label = [\"Admin\", \"Workspace admin\"] }},\n  {{ placeholder = [\"Search\"] }},\n]\n"
        ))
        .expect("parses");
        let resend = en.get("a.resend").expect("element");
        assert_eq!(resend.candidates.len(), 4);
        let text = &resend.candidates[0];
        assert_eq!(text.kind, LocatorKind::Text);
        assert!(text.query.starts_with(".//a["), "{}", text.query);
        assert!(text.query.contains("= 'resend an invite email' or "));
        assert!(text.query.contains("= 'send an invite email'"));
        assert_eq!(
            text.label,
            "text \"Resend an invite email\" or \"Send an invite email\" in <a>"
        );
        assert_eq!(
            resend.candidates[1].query,
            "[aria-label=\"More actions\"], [aria-label=\"Actions\"]"
        );
        assert_eq!(
            resend.candidates[1].label,
            "aria-label \"More actions\" or \"Actions\""
        );
        assert!(resend.candidates[2].query.contains("= 'workspace admin'"));
        assert_eq!(resend.candidates[3].query, "[placeholder=\"Search\"]");

        let err = parse(&format!(
            "{HEADER}[a.b]\ndescription = \"x\"\ncandidates = [{{ text = [] }}]\n"
        ))
        .expect_err("refused");
        assert!(err.to_string().contains("a.b.candidates[0]"), "{err}");
        assert!(err.to_string().contains("empty list"), "{err}");
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(xpath_string("it's"), "\"it's\"");
        assert_eq!(xpath_string("a'b\"c"), "concat('a', \"'\", 'b\"c')");
        assert_eq!(css_string("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn overrides_replace_only_named_elements() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tenant.toml");
        std::fs::write(
            &file,
            "[team.add_member]\ndescription = \"tenant fix\"\ncandidates = [{ text = \"Invite people\", tag = \"button\" }]\n",
        )
        .expect("write");
        let base = Catalog::builtin("en").expect("built-in");
        let before_search = base.get("team.search").expect("search").candidates.clone();
        let patched = base.clone().with_overrides(&file).expect("override");
        let add = patched.get("team.add_member").expect("add");
        assert_eq!(add.candidates.len(), 1);
        assert!(add.candidates[0].label.contains("Invite people"));
        assert_eq!(
            patched.get("team.search").expect("search").candidates,
            before_search
        );
        assert_ne!(patched.sha256(), base.sha256());
    }

    #[test]
    fn require_names_what_is_missing() {
        let catalog = Catalog::builtin("en").expect("built-in");
        let err = catalog
            .require(&["team.add_member", "team.nope"])
            .expect_err("missing");
        assert!(err.to_string().contains("team.nope"));
    }
}
