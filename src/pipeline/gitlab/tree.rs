//! A YAML tree whose nodes also remember their file.
//!
//! GitLab merges several files (includes, `extends`, `!reference`, `default:`) into
//! one configuration, and a step must still point at the file and line where its
//! text is written. So every node carries its file as well as its line.

use std::sync::Arc;

use crate::pipeline::yaml::{self, Value};

/// GitLab flattens nested arrays in scripts and rules up to 10 levels.
const MAX_FLATTEN_DEPTH: usize = 10;

/// Does a text use CI/CD inputs interpolation (`$[[ inputs.x ]]`)? Its value is
/// only known when the file is included, so shape checks let it pass.
pub(crate) fn is_interpolated(text: &str) -> bool {
    text.contains("$[[")
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<GNode>),
    Map(Vec<Entry>),
}

/// One mapping entry: the key text with where the key is written, and the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_line: u32,
    pub key_file: Arc<str>,
    pub value: GNode,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GNode {
    pub value: GValue,
    pub line: u32,
    pub file: Arc<str>,
    /// Local tag such as `!reference`.
    pub tag: Option<String>,
}

impl GNode {
    /// Convert a located YAML node, stamping every node with `file` and shifting
    /// lines by `line_offset` (used when the config follows a `spec:` header).
    pub fn from_yaml(node: &yaml::Node, file: &Arc<str>, line_offset: u32) -> GNode {
        let value = match &node.value {
            Value::Null => GValue::Null,
            Value::Bool(b) => GValue::Bool(*b),
            Value::Int(i) => GValue::Int(*i),
            Value::Float(f) => GValue::Float(*f),
            Value::Str(s) => GValue::Str(s.clone()),
            Value::Seq(items) => GValue::Seq(
                items
                    .iter()
                    .map(|n| GNode::from_yaml(n, file, line_offset))
                    .collect(),
            ),
            Value::Map(entries) => GValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| Entry {
                        key: k.scalar_text().unwrap_or_else(|| "null".to_string()),
                        key_line: k.line.saturating_add(line_offset),
                        key_file: file.clone(),
                        value: GNode::from_yaml(v, file, line_offset),
                    })
                    .collect(),
            ),
        };
        GNode {
            value,
            line: node.line.saturating_add(line_offset),
            file: file.clone(),
            tag: node.tag.clone(),
        }
    }

    pub fn null(file: &Arc<str>, line: u32) -> GNode {
        GNode {
            value: GValue::Null,
            line,
            file: file.clone(),
            tag: None,
        }
    }

    pub fn map(entries: Vec<Entry>, file: &Arc<str>, line: u32) -> GNode {
        GNode {
            value: GValue::Map(entries),
            line,
            file: file.clone(),
            tag: None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&GNode> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            GValue::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            GValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[GNode]> {
        match &self.value {
            GValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            GValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, GValue::Null)
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, GValue::Map(_))
    }

    /// Is this a `!reference [...]` node?
    pub fn is_reference(&self) -> bool {
        self.tag.as_deref() == Some("!reference")
    }

    /// Any scalar as text; `None` for null, sequences and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            GValue::Str(s) => Some(s.clone()),
            GValue::Bool(b) => Some(b.to_string()),
            GValue::Int(i) => Some(i.to_string()),
            GValue::Float(f) => Some(f.to_string()),
            GValue::Null | GValue::Seq(_) | GValue::Map(_) => None,
        }
    }

    /// A scalar or a sequence of scalars as strings (the "one or many" shape).
    pub fn string_list(&self) -> Vec<String> {
        match &self.value {
            GValue::Seq(items) => items.iter().filter_map(GNode::scalar_text).collect(),
            GValue::Null => Vec::new(),
            _ => self.scalar_text().into_iter().collect(),
        }
    }

    /// The items of a sequence with nested sequences spliced in, up to 10 levels
    /// (GitLab flattens `script:` and `rules:` this way, which is what lets an
    /// aliased list of rules or commands sit inside another list).
    pub fn flattened(&self) -> Vec<&GNode> {
        fn walk<'a>(node: &'a GNode, depth: usize, out: &mut Vec<&'a GNode>) {
            match node.as_seq() {
                Some(items) if depth <= MAX_FLATTEN_DEPTH => {
                    for item in items {
                        walk(item, depth + 1, out);
                    }
                }
                Some(_) => {}
                None => out.push(node),
            }
        }
        let mut out = Vec::new();
        match self.as_seq() {
            Some(_) => walk(self, 0, &mut out),
            None => out.push(self),
        }
        out
    }

    /// Number of nodes below and including this one (for work bounds).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            GValue::Seq(items) => items.iter().map(GNode::count).sum(),
            GValue::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }
}

/// GitLab's deep merge: mappings merge key by key (recursively), anything else in
/// `over` replaces what `base` had (arrays are replaced, not concatenated). Keys
/// keep the position of their first appearance; an overriding entry's key
/// location wins, since that is where the effective definition is written.
pub(crate) fn deep_merge(base: GNode, over: GNode) -> GNode {
    match (base.value, over.value) {
        (GValue::Map(mut base_entries), GValue::Map(over_entries)) => {
            for over_entry in over_entries {
                match base_entries.iter_mut().find(|e| e.key == over_entry.key) {
                    Some(existing) => {
                        let old = std::mem::replace(
                            &mut existing.value,
                            GNode::null(&over_entry.key_file, over_entry.key_line),
                        );
                        existing.value = deep_merge(old, over_entry.value);
                        existing.key_line = over_entry.key_line;
                        existing.key_file = over_entry.key_file;
                    }
                    None => base_entries.push(over_entry),
                }
            }
            GNode {
                value: GValue::Map(base_entries),
                line: over.line,
                file: over.file,
                tag: over.tag,
            }
        }
        (_, value) => GNode {
            value,
            line: over.line,
            file: over.file,
            tag: over.tag,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, file: &str) -> GNode {
        let node = yaml::parse(text).unwrap();
        GNode::from_yaml(&node, &Arc::from(file), 0)
    }

    #[test]
    fn nodes_remember_file_and_line() {
        let n = load("a:\n  b: [x]\n", "f.yml");
        let e = n.entry("a").unwrap();
        assert_eq!((e.key_line, &*e.key_file), (1, "f.yml"));
        let b = n.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.line, 2);
        assert_eq!(&*b.as_seq().unwrap()[0].file, "f.yml");
    }

    #[test]
    fn deep_merge_merges_maps_and_replaces_arrays() {
        let base = load(
            "job:\n  image: a\n  script: [one, two]\n  variables: {X: 1, Y: 2}\n",
            "base.yml",
        );
        let over = load("job:\n  script: [three]\n  variables: {Y: 3}\n", "over.yml");
        let merged = deep_merge(base, over);
        let job = merged.get("job").unwrap();
        assert_eq!(job.get("image").unwrap().as_str(), Some("a"));
        assert_eq!(job.get("script").unwrap().string_list(), vec!["three"]);
        let vars = job.get("variables").unwrap();
        assert_eq!(vars.get("X").unwrap().scalar_text().as_deref(), Some("1"));
        assert_eq!(vars.get("Y").unwrap().scalar_text().as_deref(), Some("3"));
        // The overriding file now defines the job key.
        assert_eq!(&*merged.entry("job").unwrap().key_file, "over.yml");
        assert_eq!(&*job.get("image").unwrap().file, "base.yml");
    }
}
