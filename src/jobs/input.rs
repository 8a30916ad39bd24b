//! Reading a batch input file (CSV or JSON) into rows of named, trimmed cells, each row with the
//! line it starts on, plus the field checks both kinds of file share (emails, roles, scopes).
//! Knows nothing of what a row means; [`super::plan`] and [`super::desired`] do.
//!
//! Accepted everywhere: a UTF-8 BOM, CRLF or LF line ends, blank lines (CSV), whitespace around
//! values. Refused with a line number: other encodings and binary junk, control and invisible
//! characters in a value (they can disguise an email), unknown or repeated columns and keys,
//! rows whose field count differs from the header's, values of the wrong JSON type.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Format, Problems};
use crate::clockify::actions::TargetRole;

/// The columns (CSV) or keys (JSON) a kind of file accepts.
pub(crate) struct Schema {
    /// Every accepted column, lower case.
    pub columns: &'static [&'static str],
    /// Columns a CSV header must have.
    pub required: &'static [&'static str],
    /// Columns that take a list (JSON: an array of strings or a `;`-separated string).
    pub lists: &'static [&'static str],
}

/// A cell's value.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    List(Vec<String>),
}

/// One row: its line and its non-empty cells.
#[derive(Debug)]
pub(crate) struct Row {
    pub line: usize,
    cells: Vec<(&'static str, Cell)>,
}

impl Row {
    fn cell(&self, column: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, cell)| cell)
    }

    /// The trimmed text of `column`, empty when absent (a list is joined with `;`).
    pub fn text(&self, column: &str) -> String {
        match self.cell(column) {
            None => String::new(),
            Some(Cell::Text(text)) => text.clone(),
            Some(Cell::List(items)) => items.join(";"),
        }
    }

    /// The entries of a list column: a JSON array, or text split at `;`; trimmed, empties dropped.
    pub fn list(&self, column: &str) -> Vec<String> {
        match self.cell(column) {
            None => Vec::new(),
            Some(Cell::Text(text)) => text
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            Some(Cell::List(items)) => items.clone(),
        }
    }
}

/// Shows a value from the file in a message: quoted, escaped, at most 60 characters.
pub(crate) fn quoted(value: &str) -> String {
    let mut out = String::from("'");
    let mut chars = value.chars();
    for c in chars.by_ref().take(60) {
        out.extend(c.escape_debug());
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out.push('\'');
    out
}

/// Control characters and the invisible formatting characters that can make one email look like
/// another (zero-width spaces and joiners, bidirectional overrides, soft hyphen, BOM).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{AD}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Checks a value for hidden characters; `false` (and a problem) when it has one.
fn check_visible(value: &str, column: &str, line: usize, problems: &mut Problems) -> bool {
    let found = if value.is_ascii() {
        // The file has no control characters but tab, CR and LF (checked whole, first).
        value.bytes().find(|b| b.is_ascii_control()).map(char::from)
    } else {
        value.chars().find(|c| is_hidden(*c))
    };
    match found {
        None => true,
        Some(c) => {
            problems.add(
                line,
                format!(
                    "'{column}' contains the invisible or control character U+{:04X}: {}",
                    c as u32,
                    quoted(value)
                ),
            );
            false
        }
    }
}

fn line_of_offset(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The first control character other than tab, CR and LF in UTF-8 `bytes`, with its offset.
/// A byte scan: C0 controls and DEL are single bytes, C1 controls are 0xC2 0x80..=0x9F.
fn first_control(bytes: &[u8]) -> Option<(usize, char)> {
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') || b == 0x7F {
            return Some((at, char::from(b)));
        }
        if b == 0xC2 && at + 1 < bytes.len() && (0x80..=0x9F).contains(&bytes[at + 1]) {
            return Some((at, char::from(bytes[at + 1])));
        }
        at += 1;
    }
    None
}

/// Checks the encoding and strips a BOM; `None` (with a problem) when the file is not text.
fn decode<'a>(bytes: &'a [u8], problems: &mut Problems) -> Option<&'a str> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        problems.add(1, "the file is UTF-16 encoded; save it as UTF-8");
        return None;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            problems.add(
                line_of_offset(body, at),
                format!(
                    "not UTF-8 text (byte 0x{:02X}); is this a binary file? Save it as UTF-8",
                    body[at]
                ),
            );
            return None;
        }
    };
    if let Some((at, c)) = first_control(body) {
        problems.add(
            line_of_offset(body, at),
            format!(
                "contains the control character U+{:04X}; is this a binary file?",
                c as u32
            ),
        );
        return None;
    }
    if text.trim().is_empty() {
        problems.add(1, "the file is empty");
        return None;
    }
    Some(text)
}

/// Reads `bytes` into rows. Rows with a problem of their own (field count, hidden characters,
/// JSON types, unknown keys) are reported and left out; an unreadable header or document stops
/// the reading.
pub(crate) fn read_rows(
    bytes: &[u8],
    format: Format,
    schema: &Schema,
    problems: &mut Problems,
) -> Vec<Row> {
    let Some(text) = decode(bytes, problems) else {
        return Vec::new();
    };
    match format {
        Format::Csv => read_csv(text, schema, problems),
        Format::Json => read_json(text, schema, problems),
    }
}

fn expected_columns(schema: &Schema) -> String {
    schema.columns.join(", ")
}

fn read_csv(text: &str, schema: &Schema, problems: &mut Problems) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let lines = LineIndex::new(text);
    let mut header: Option<(usize, Vec<&'static str>)> = None;
    let mut rows = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(1, |p| lines.record_line(p.byte()));
                problems.add(line, format!("cannot read the CSV: {e}"));
                return Vec::new();
            }
        }
        let line = record.position().map_or(1, |p| lines.record_line(p.byte()));
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        let Some((_, columns)) = &header else {
            match read_header(&record, line, schema, problems) {
                Some(columns) => header = Some((line, columns)),
                None => return Vec::new(),
            }
            continue;
        };
        if record.len() != columns.len() {
            problems.add(
                line,
                format!(
                    "{} fields, but the header has {} columns (quote values that contain commas)",
                    record.len(),
                    columns.len()
                ),
            );
            continue;
        }
        let mut ok = true;
        let mut cells = Vec::new();
        for (column, field) in columns.iter().zip(record.iter()) {
            let value = field.trim();
            if value.is_empty() {
                continue;
            }
            ok &= check_visible(value, column, line, problems);
            cells.push((*column, Cell::Text(value.to_string())));
        }
        if ok {
            rows.push(Row { line, cells });
        }
    }
    match header {
        None => problems.add(1, "the file is empty"),
        Some((line, _)) if rows.is_empty() && problems.is_empty() => {
            problems.add(line, "only a header: the file has no rows")
        }
        Some(_) => {}
    }
    rows
}

/// Physical line numbers from byte offsets. (The csv crate's own line count is off after
/// skipped blank lines and with CRLF.)
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        let newlines = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(at, _)| at)
            .collect();
        LineIndex { text, newlines }
    }

    /// The line of the record that the reader says starts at `byte`: the reader's offset may
    /// point at the line ends it skipped before the record.
    fn record_line(&self, byte: u64) -> usize {
        let mut at = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while at < self.text.len() && matches!(self.text[at], b'\r' | b'\n') {
            at += 1;
        }
        self.newlines.partition_point(|n| *n < at) + 1
    }
}

fn read_header(
    record: &csv::StringRecord,
    line: usize,
    schema: &Schema,
    problems: &mut Problems,
) -> Option<Vec<&'static str>> {
    let names: Vec<String> = record
        .iter()
        .map(|f| f.trim().trim_start_matches('\u{FEFF}').to_lowercase())
        .collect();
    if !names.iter().any(|n| schema.columns.contains(&n.as_str())) {
        let found: Vec<String> = record.iter().take(5).map(quoted).collect();
        problems.add(
            line,
            format!(
                "the first line is not a header: expected the columns {} (found {})",
                expected_columns(schema),
                found.join(", ")
            ),
        );
        return None;
    }
    let before = problems.len();
    let mut columns = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        match schema.columns.iter().find(|c| **c == name.as_str()) {
            Some(column) if columns.contains(column) => problems.add(
                line,
                format!("the column '{column}' appears twice in the header"),
            ),
            Some(column) => columns.push(*column),
            None if name.is_empty() => problems.add(
                line,
                format!("column {} of the header has no name", index + 1),
            ),
            None => problems.add(
                line,
                format!(
                    "unknown column {} (the columns are: {})",
                    quoted(name),
                    expected_columns(schema)
                ),
            ),
        }
    }
    for required in schema.required {
        if !names.iter().any(|n| n == required) {
            problems.add(line, format!("the header lacks the column '{required}'"));
        }
    }
    (problems.len() == before).then_some(columns)
}

/// What a JSON value is, for messages.
fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The top of a JSON batch file: an array of items, or something else (named).
enum Top {
    Array(Vec<Item>),
    Other(&'static str),
}

/// One element of the array: an object with its entries in order (repeated keys kept), or
/// something else (named).
enum Item {
    Object(Vec<(String, serde_json::Value)>),
    Other(&'static str),
}

/// The visitor methods for the JSON values that are neither arrays nor objects: they are named.
macro_rules! other_kinds {
    ($out:ty, $wrap:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$out, E> {
            Ok($wrap("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$out, E> {
            Ok($wrap("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$out, E> {
            Ok($wrap("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$out, E> {
            Ok($wrap("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$out, E> {
            Ok($wrap("a string"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<$out, E> {
            Ok($wrap("null"))
        }
    };
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of objects")
    }

    other_kinds!(Top, Top::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(100_000));
        while let Some(item) = seq.next_element::<Item>()? {
            items.push(item);
        }
        Ok(Top::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Top::Other("an object"))
    }
}

impl<'de> serde::Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    other_kinds!(Item, Item::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
            entries.push(entry);
        }
        Ok(Item::Object(entries))
    }
}

impl<'de> serde::Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

/// The line on which each element of the top-level array starts. `text` is valid JSON.
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut line = 1;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut expecting = false;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expecting && b != b']' {
            lines.push(line);
            expecting = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    lines
}

/// serde_json's message without its " at line L column C" suffix.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn read_json(text: &str, schema: &Schema, problems: &mut Problems) -> Vec<Row> {
    let top: Top = match serde_json::from_str(text) {
        Ok(top) => top,
        Err(e) => {
            problems.add(
                e.line().max(1),
                format!("invalid JSON: {} (column {})", json_message(&e), e.column()),
            );
            return Vec::new();
        }
    };
    let first_line = line_of_offset(text.as_bytes(), text.len() - text.trim_start().len());
    let items = match top {
        Top::Array(items) => items,
        Top::Other(kind) => {
            problems.add(
                first_line,
                format!("expected an array of objects ([{{...}}, ...]), found {kind}"),
            );
            return Vec::new();
        }
    };
    if items.is_empty() {
        problems.add(first_line, "the array is empty: the file has no items");
        return Vec::new();
    }
    let lines = element_lines(text);
    let mut rows = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let line = lines.get(index).copied().unwrap_or(first_line);
        let entries = match item {
            Item::Object(entries) => entries,
            Item::Other(kind) => {
                problems.add(
                    line,
                    format!("item {}: expected an object, found {kind}", index + 1),
                );
                continue;
            }
        };
        if let Some(row) = json_row(line, entries, schema, problems) {
            rows.push(row);
        }
    }
    rows
}

fn json_row(
    line: usize,
    entries: Vec<(String, serde_json::Value)>,
    schema: &Schema,
    problems: &mut Problems,
) -> Option<Row> {
    let mut ok = true;
    let mut seen: Vec<&'static str> = Vec::new();
    let mut cells = Vec::new();
    for (key, value) in entries {
        let Some(column) = schema.columns.iter().copied().find(|c| *c == key) else {
            let folded = key.trim().to_lowercase();
            let hint = match schema.columns.iter().find(|c| **c == folded) {
                Some(column) => format!("did you mean '{column}'?"),
                None => format!("the keys are: {}", expected_columns(schema)),
            };
            problems.add(line, format!("unknown key {} ({hint})", quoted(&key)));
            ok = false;
            continue;
        };
        if seen.contains(&column) {
            problems.add(line, format!("the key '{column}' appears twice"));
            ok = false;
            continue;
        }
        seen.push(column);
        let is_list = schema.lists.contains(&column);
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::String(text) => {
                let text = text.trim();
                if !text.is_empty() {
                    ok &= check_visible(text, column, line, problems);
                    cells.push((column, Cell::Text(text.to_string())));
                }
            }
            serde_json::Value::Array(values) if is_list => {
                let mut items = Vec::new();
                for value in values {
                    match value {
                        serde_json::Value::String(text) => {
                            let text = text.trim();
                            if !text.is_empty() {
                                ok &= check_visible(text, column, line, problems);
                                items.push(text.to_string());
                            }
                        }
                        other => {
                            problems.add(
                                line,
                                format!("'{column}' must list strings, found {}", kind_of(&other)),
                            );
                            ok = false;
                        }
                    }
                }
                if !items.is_empty() {
                    cells.push((column, Cell::List(items)));
                }
            }
            other => {
                let wanted = if is_list {
                    "an array of strings or a ';'-separated string"
                } else {
                    "a string"
                };
                problems.add(
                    line,
                    format!("'{column}' must be {wanted}, found {}", kind_of(&other)),
                );
                ok = false;
            }
        }
    }
    ok.then_some(Row { line, cells })
}

/// Longest address accepted (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// The row's email in `column`, lower-cased; `None` (with a problem) when missing or malformed.
pub(crate) fn email(row: &Row, column: &str, problems: &mut Problems) -> Option<String> {
    let raw = row.text(column);
    if raw.is_empty() {
        problems.add(row.line, format!("missing '{column}'"));
        return None;
    }
    let email = raw.to_lowercase();
    if email.chars().count() > MAX_EMAIL_CHARS {
        problems.add(
            row.line,
            format!("the email is longer than {MAX_EMAIL_CHARS} characters"),
        );
        return None;
    }
    if !crate::email::is_valid_email(&email) {
        let hint = if raw.contains([',', ';']) {
            " (one address per row)"
        } else {
            ""
        };
        problems.add(row.line, format!("malformed email {}{hint}", quoted(&raw)));
        return None;
    }
    Some(email)
}

/// The role names files use.
pub(crate) const ROLE_NAMES: &str = "admin, team-manager, project-manager, regular";

/// Parses a role name (any case; `_` or a space may stand for `-`). `Err` is the message.
pub(crate) fn target_role(raw: &str) -> Result<TargetRole, String> {
    let folded = raw.trim().to_lowercase().replace(['_', ' '], "-");
    match folded.as_str() {
        "admin" => Ok(TargetRole::Admin),
        "team-manager" => Ok(TargetRole::TeamManager),
        "project-manager" => Ok(TargetRole::ProjectManager),
        "regular" => Ok(TargetRole::Regular),
        "owner" => Err(
            "the owner role cannot be given by the agent (ownership is transferred in CAKE.com \
             Account)"
                .into(),
        ),
        _ => Err(format!(
            "unknown role {} (one of: {ROLE_NAMES})",
            quoted(raw)
        )),
    }
}

/// The command-line name of a role.
pub(crate) fn role_name(role: TargetRole) -> &'static str {
    match role {
        TargetRole::Admin => "admin",
        TargetRole::TeamManager => "team-manager",
        TargetRole::ProjectManager => "project-manager",
        TargetRole::Regular => "regular",
    }
}

/// Checks the `manages` and `projects` columns against the row's role: each is required for, and
/// only allowed with, its manager role. Returns `(manages, projects)`; `None` after a problem.
pub(crate) fn scopes(
    row: &Row,
    role: Option<TargetRole>,
    what: &str,
    problems: &mut Problems,
) -> Option<(Vec<String>, Vec<String>)> {
    let mut ok = true;
    let manages = row.list("manages");
    let projects = row.list("projects");
    let is_tm = role == Some(TargetRole::TeamManager);
    let is_pm = role == Some(TargetRole::ProjectManager);
    if is_tm && manages.is_empty() {
        problems.add(
            row.line,
            "team-manager needs 'manages': the members' emails or group:NAME, separated by ';'",
        );
        ok = false;
    }
    if is_pm && projects.is_empty() {
        problems.add(
            row.line,
            "project-manager needs 'projects': project names separated by ';'",
        );
        ok = false;
    }
    if !manages.is_empty() && !is_tm {
        problems.add(
            row.line,
            format!("'manages' is only for the team-manager role, not for {what}"),
        );
        ok = false;
    }
    if !projects.is_empty() && !is_pm {
        problems.add(
            row.line,
            format!("'projects' is only for the project-manager role, not for {what}"),
        );
        ok = false;
    }
    let mut scope_manages = Vec::new();
    if is_tm {
        for entry in &manages {
            match manages_entry(entry) {
                Ok(entry) => {
                    if !scope_manages.contains(&entry) {
                        scope_manages.push(entry);
                    }
                }
                Err(message) => {
                    problems.add(row.line, message);
                    ok = false;
                }
            }
        }
    }
    let mut scope_projects: Vec<String> = Vec::new();
    if is_pm {
        for entry in projects {
            if !scope_projects
                .iter()
                .any(|p| p.to_lowercase() == entry.to_lowercase())
            {
                scope_projects.push(entry);
            }
        }
    }
    ok.then_some((scope_manages, scope_projects))
}

/// One `manages` entry: an email (lower-cased) or `group:NAME` (name kept as written).
fn manages_entry(entry: &str) -> Result<String, String> {
    let prefix = entry.get(..6).map(str::to_ascii_lowercase);
    if prefix.as_deref() == Some("group:") {
        let name = entry[6..].trim();
        if name.is_empty() {
            return Err("an empty group name in 'manages' (write group:NAME)".into());
        }
        return Ok(format!("group:{name}"));
    }
    let email = entry.to_lowercase();
    if email.chars().count() <= MAX_EMAIL_CHARS && crate::email::is_valid_email(&email) {
        Ok(email)
    } else {
        Err(format!(
            "malformed entry {} in 'manages' (write an email or group:NAME)",
            quoted(entry)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_lines_follow_nesting_and_strings() {
        let text = "[\n {\"a\": \"x,[{\\\"\"},\n\n {\"b\": [1,\n 2]}, 3,\n \"s\"]";
        assert_eq!(element_lines(text), vec![2, 4, 5, 6]);
        assert_eq!(element_lines("[]"), Vec::<usize>::new());
    }

    #[test]
    fn quoted_escapes_and_truncates() {
        assert_eq!(quoted("a\u{202E}b"), "'a\\u{202e}b'");
        let long = "x".repeat(100);
        assert!(quoted(&long).ends_with("…'"));
    }
}
