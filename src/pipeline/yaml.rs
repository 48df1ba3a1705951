//! A located YAML tree for pipeline files, safe on hostile input.
//!
//! Built from yaml-rust2's event parser so that every node keeps its line and
//! column, tags (GitLab `!reference`) survive, merge keys (`<<`) are applied, and
//! alias expansion is bounded (a "billion laughs" file gives an error, not an
//! out-of-memory). Scalars are resolved with the YAML 1.2 core schema, as GitHub
//! and GitLab do (`on:` is the string "on", not `true`).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Limits that keep hostile input bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most nodes a document may expand to, counting alias copies.
    pub max_nodes: usize,
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 1_000_000,
            max_depth: 200,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order. Keys are usually strings.
    Map(Vec<(Node, Node)>),
}

/// A YAML node with its position (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
    /// Local tag such as `!reference`, when present.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line}, column {column})")]
pub struct YamlError {
    pub message: String,
    pub line: u32,
    pub column: u32,
}

impl Node {
    fn new(value: Value, mark: Marker) -> Self {
        Node {
            value,
            line: mark.line() as u32,
            column: mark.col() as u32 + 1,
            tag: None,
        }
    }

    /// A null node at a position (for absent documents).
    pub fn null_at(line: u32) -> Self {
        Node {
            value: Value::Null,
            line,
            column: 1,
            tag: None,
        }
    }

    /// Mapping lookup by string key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mapping entry (key node and value node) by string key.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Any scalar as text (`true`, `3`, `1.5`, the string itself); `None` for
    /// null, sequences and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// A string or a sequence of scalars, as a list of strings (the common
    /// "one or many" shape of CI keys).
    pub fn string_list(&self) -> Vec<String> {
        match &self.value {
            Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
            Value::Null => Vec::new(),
            _ => self.scalar_text().into_iter().collect(),
        }
    }

    /// Convert to JSON (for typed deserialisation with serde). Non-string keys
    /// are stringified; tags are dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    let key = k.scalar_text().unwrap_or_else(|| "null".to_string());
                    map.insert(key, v.to_json());
                }
                J::Object(map)
            }
        }
    }

    fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| k.count() + v.count()).sum(),
            _ => 0,
        }
    }
}

/// Parse the first document of a YAML text. An empty text gives a null node.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    parse_with_limits(text, Limits::default())
}

pub fn parse_with_limits(text: &str, limits: Limits) -> Result<Node, YamlError> {
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        nodes: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    // Feed events one by one so a limit violation stops parsing at once.
    loop {
        match parser.next_token() {
            Ok((event, mark)) => {
                let end = matches!(event, Event::StreamEnd);
                builder.on_event(event, mark);
                if let Some(err) = builder.error.take() {
                    return Err(err);
                }
                // Only the first document matters for CI files.
                if end || !builder.docs.is_empty() {
                    break;
                }
            }
            Err(e) => {
                return Err(YamlError {
                    message: e.info().to_string(),
                    line: e.marker().line() as u32,
                    column: e.marker().col() as u32 + 1,
                });
            }
        }
    }
    Ok(builder
        .docs
        .into_iter()
        .next()
        .unwrap_or_else(|| Node::null_at(1)))
}

enum Frame {
    Seq {
        node: Node,
        anchor: usize,
    },
    Map {
        node: Node,
        anchor: usize,
        pending_key: Option<Node>,
    },
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
    nodes: usize,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, message: String, mark: Marker) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                message,
                line: mark.line() as u32,
                column: mark.col() as u32 + 1,
            });
        }
    }

    fn budget(&mut self, n: usize, mark: Marker) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            self.fail(
                format!(
                    "document expands to more than {} nodes (alias expansion bomb?); refusing to load it",
                    self.limits.max_nodes
                ),
                mark,
            );
            return false;
        }
        true
    }

    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
            Event::DocumentEnd => {}
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    self.fail("alias refers to an unknown anchor".into(), mark);
                    return;
                };
                if !self.budget(node.count(), mark) {
                    return;
                }
                let mut node = node;
                node.line = mark.line() as u32;
                node.column = mark.col() as u32 + 1;
                self.push_value(node, 0, mark);
            }
            Event::Scalar(text, style, anchor, tag) => {
                if !self.budget(1, mark) {
                    return;
                }
                let tag_text = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let value = if style == TScalarStyle::Plain && tag.is_none() {
                    resolve_plain(&text)
                } else {
                    Value::Str(text)
                };
                let mut node = Node::new(value, mark);
                node.tag = tag_text.filter(|t| !t.starts_with("tag:yaml.org"));
                self.push_value(node, anchor, mark);
            }
            Event::SequenceStart(anchor, tag) => {
                if !self.open(mark) {
                    return;
                }
                let mut node = Node::new(Value::Seq(Vec::new()), mark);
                node.tag = tag
                    .map(|t| format!("{}{}", t.handle, t.suffix))
                    .filter(|t| !t.starts_with("tag:yaml.org"));
                self.stack.push(Frame::Seq { node, anchor });
            }
            Event::MappingStart(anchor, tag) => {
                if !self.open(mark) {
                    return;
                }
                let mut node = Node::new(Value::Map(Vec::new()), mark);
                node.tag = tag
                    .map(|t| format!("{}{}", t.handle, t.suffix))
                    .filter(|t| !t.starts_with("tag:yaml.org"));
                self.stack.push(Frame::Map {
                    node,
                    anchor,
                    pending_key: None,
                });
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq { node, anchor }) => self.push_value(node, anchor, mark),
                _ => self.fail("unbalanced sequence end".into(), mark),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    mut node, anchor, ..
                }) => {
                    apply_merge_keys(&mut node);
                    self.push_value(node, anchor, mark)
                }
                _ => self.fail("unbalanced mapping end".into(), mark),
            },
        }
    }

    fn open(&mut self, mark: Marker) -> bool {
        if self.stack.len() >= self.limits.max_depth {
            self.fail(
                format!(
                    "nesting deeper than {} levels; refusing to load it",
                    self.limits.max_depth
                ),
                mark,
            );
            return false;
        }
        self.budget(1, mark)
    }

    fn push_value(&mut self, node: Node, anchor: usize, _mark: Marker) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { node: seq, .. }) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Frame::Map {
                node: map,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    if let Value::Map(entries) = &mut map.value {
                        // Later duplicates win, as in most YAML loaders.
                        if let Some(key_text) = key.as_str() {
                            entries
                                .retain(|(k, _)| k.as_str() != Some(key_text) || key_text == "<<");
                        }
                        entries.push((key, node));
                    }
                }
            },
        }
    }
}

/// Apply YAML merge keys (`<<: *base` or `<<: [*a, *b]`): entries of the merged
/// mappings are added unless the mapping sets the key itself; earlier sources
/// in a list win over later ones.
fn apply_merge_keys(node: &mut Node) {
    let Value::Map(entries) = &mut node.value else {
        return;
    };
    if !entries
        .iter()
        .any(|(k, _)| k.as_str() == Some("<<") && k.tag.is_none())
    {
        return;
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut sources = Vec::new();
    for (k, v) in entries.drain(..) {
        if k.as_str() == Some("<<") {
            match v.value {
                Value::Map(_) => sources.push(v),
                Value::Seq(items) => sources.extend(
                    items
                        .into_iter()
                        .filter(|n| matches!(n.value, Value::Map(_))),
                ),
                _ => {}
            }
        } else {
            own.push((k, v));
        }
    }
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for source in sources {
        if let Value::Map(src_entries) = source.value {
            for (k, v) in src_entries {
                let present = |list: &[(Node, Node)]| list.iter().any(|(e, _)| e.value == k.value);
                if !present(&own) && !present(&merged) {
                    merged.push((k, v));
                }
            }
        }
    }
    // Merged entries come first, as if written where the `<<` key was.
    merged.extend(own);
    *entries = merged;
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(body) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Value::Int(i);
            }
        }
    }
    // Floats: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let is_float = {
        let (mantissa, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            Some((a, b)) => {
                (digits(a) || a.is_empty())
                    && (b.is_empty() || digits(b))
                    && !(a.is_empty() && b.is_empty())
            }
            None => digits(mantissa),
        };
        let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
        mantissa_ok && exp_ok && !bytes.is_empty()
    };
    if is_float {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let doc = parse("a: 1\nb:\n  c: [x, y]\n").expect("parses");
        let (bk, b) = doc.entry("b").expect("b");
        assert_eq!((bk.line, bk.column), (2, 1));
        let c = b.get("c").expect("c");
        assert_eq!(c.line, 3);
        let items = c.as_seq().expect("seq");
        assert_eq!(items[1].as_str(), Some("y"));
        assert_eq!(items[1].line, 3);
    }

    #[test]
    fn core_schema_scalars() {
        let doc =
            parse("on: push\nn: 3\nf: 1.5\nt: true\nz: ~\ns: '3'\nv: 1.10\n").expect("parses");
        assert_eq!(doc.get("on").and_then(Node::as_str), Some("push"));
        assert_eq!(doc.get("n").map(|n| n.value.clone()), Some(Value::Int(3)));
        assert_eq!(
            doc.get("f").map(|n| n.value.clone()),
            Some(Value::Float(1.5))
        );
        assert_eq!(doc.get("t").and_then(Node::as_bool), Some(true));
        assert!(doc.get("z").is_some_and(Node::is_null));
        assert_eq!(doc.get("s").and_then(Node::as_str), Some("3"));
        assert_eq!(
            doc.get("v").and_then(Node::scalar_text).as_deref(),
            Some("1.1")
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text =
            ".base: &base\n  image: python:3.11\n  script: [a]\njob:\n  <<: *base\n  script: [b]\n";
        let doc = parse(text).expect("parses");
        let job = doc.get("job").expect("job");
        assert_eq!(job.get("image").and_then(Node::as_str), Some("python:3.11"));
        assert_eq!(
            job.get("script").map(Node::string_list),
            Some(vec!["b".to_string()])
        );
        assert!(job.get("<<").is_none());
    }

    #[test]
    fn tags_are_kept() {
        let doc = parse("job:\n  script:\n    - !reference [.setup, script]\n").expect("parses");
        let item = &doc
            .get("job")
            .and_then(|j| j.get("script"))
            .and_then(Node::as_seq)
            .expect("seq")[0];
        assert_eq!(item.tag.as_deref(), Some("!reference"));
        assert_eq!(item.string_list(), vec![".setup", "script"]);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&text).expect_err("bomb must be refused");
        assert!(err.message.contains("alias"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse(&text).expect_err("too deep");
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: c\n").expect_err("broken");
        assert!(err.line >= 1);
        let err = parse("a:\n\t- b\n").expect_err("tab indentation");
        assert!(!err.message.is_empty());
    }

    #[test]
    fn empty_and_multi_document() {
        assert!(parse("").expect("empty").is_null());
        let doc = parse("a: 1\n---\nb: 2\n").expect("multi");
        assert!(doc.get("a").is_some());
        assert!(doc.get("b").is_none());
    }

    #[test]
    fn to_json_stringifies_keys() {
        let doc = parse("1: a\ntrue: b\nx: [1, null]\n").expect("parses");
        let json = doc.to_json();
        assert_eq!(json["1"], "a");
        assert_eq!(json["true"], "b");
        assert_eq!(json["x"][1], serde_json::Value::Null);
    }
}
