//! `extends`, `!reference` and `default:` — GitLab's ways of sharing job text.
//!
//! GitLab applies them in this order after merging includes: `extends` first,
//! then `!reference` tags (so a reference can reach keys a template inherited),
//! and finally `default:` fills keys a job still lacks. Every copied node keeps
//! the file and line where its text is written.

use std::collections::{HashMap, HashSet};

use crate::evidence::{Diagnostic, Location};

use super::tree::{Entry, GNode, GValue, deep_merge};

/// GitLab allows 11 levels of `extends`.
const MAX_EXTENDS_DEPTH: usize = 11;
/// Nodes `extends` may copy into jobs in one configuration: many jobs extending
/// one huge template would otherwise multiply its size.
const MAX_EXTENDS_NODES: usize = 2_000_000;
/// GitLab resolves `!reference` up to 10 levels deep.
const MAX_REFERENCE_DEPTH: usize = 10;
/// Nodes `!reference` expansion may produce in one configuration, so a file of
/// references to references cannot grow without bound.
const MAX_REFERENCE_NODES: usize = 500_000;

/// Keys `default:` (and, for the first five, the legacy top-level globals) give jobs.
pub(crate) const DEFAULT_KEYS: &[&str] = &[
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "tags",
    "artifacts",
    "retry",
    "timeout",
    "interruptible",
    "hooks",
    "id_tokens",
];
const LEGACY_GLOBAL_KEYS: &[&str] = &[
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
];

fn loc(node_file: &str, line: u32) -> Option<Location> {
    Some(Location::new(node_file, line))
}

/// Replace every top-level mapping that has `extends:` with its effective
/// content: parents deep-merged in order, then the job's own keys on top.
pub(crate) fn resolve_extends(root: &mut GNode, diagnostics: &mut Vec<Diagnostic>) {
    let GValue::Map(entries) = &root.value else {
        return;
    };
    if !entries
        .iter()
        .any(|e| e.value.is_map() && e.value.get("extends").is_some())
    {
        return;
    }
    let originals: HashMap<String, GNode> = entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    let mut resolver = Extends {
        originals: &originals,
        memo: HashMap::new(),
        warned: HashSet::new(),
        diagnostics,
        budget: MAX_EXTENDS_NODES,
    };
    let names: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let mut resolved = Vec::with_capacity(names.len());
    for name in &names {
        let mut stack = Vec::new();
        resolved.push(resolver.resolve(name, &mut stack));
    }
    if let GValue::Map(entries) = &mut root.value {
        for (entry, value) in entries.iter_mut().zip(resolved) {
            if let Some(value) = value {
                entry.value = value;
            }
        }
    }
}

struct Extends<'a> {
    originals: &'a HashMap<String, GNode>,
    /// Resolved content and `extends` depth (0 = extends nothing) per key, so
    /// shared parents are resolved once however many jobs extend them.
    memo: HashMap<String, (GNode, usize)>,
    warned: HashSet<String>,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// Nodes `extends` may still copy into jobs (see [`MAX_EXTENDS_NODES`]).
    budget: usize,
}

impl Extends<'_> {
    fn warn_once(&mut self, key: String, code: &str, message: String, location: Option<Location>) {
        if self.warned.insert(key) {
            self.diagnostics
                .push(Diagnostic::warning(code, message, location));
        }
    }

    fn resolve(&mut self, name: &str, stack: &mut Vec<String>) -> Option<GNode> {
        self.resolve_with_depth(name, stack).map(|(node, _)| node)
    }

    fn resolve_with_depth(
        &mut self,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Option<(GNode, usize)> {
        if let Some(done) = self.memo.get(name) {
            return Some(done.clone());
        }
        let node = self.originals.get(name)?;
        let Some(extends) = node.get("extends").filter(|_| node.is_map()) else {
            return Some((node.clone(), 0));
        };
        let parents = match &extends.value {
            GValue::Str(_) | GValue::Seq(_) => extends.string_list(),
            _ => {
                self.warn_once(
                    format!("shape:{name}"),
                    "gitlab-shape",
                    format!("`{name}`: `extends` should be a job name or a list of names"),
                    loc(&extends.file, extends.line),
                );
                Vec::new()
            }
        };
        let too_deep = |this: &mut Self| {
            this.warn_once(
                format!("depth:{name}"),
                "extends-depth",
                format!("`{name}`: `extends` nests deeper than {MAX_EXTENDS_DEPTH} levels; deeper parents ignored"),
                loc(&extends.file, extends.line),
            );
        };
        stack.push(name.to_string());
        let mut base: Option<GNode> = None;
        let mut depth = 0;
        for parent in parents {
            if stack.contains(&parent) {
                self.warn_once(
                    format!("cycle:{parent}"),
                    "extends-cycle",
                    format!(
                        "`extends` cycle: {} → {parent}; the cycle is cut here",
                        stack.join(" → ")
                    ),
                    loc(&extends.file, extends.line),
                );
                continue;
            }
            if !self.originals.contains_key(&parent) {
                self.warn_once(
                    format!("missing:{name}:{parent}"),
                    "extends-missing",
                    format!(
                        "`{name}` extends `{parent}`, which this configuration does not define (it may come from an include that was not fetched)"
                    ),
                    loc(&extends.file, extends.line),
                );
                continue;
            }
            // Guards recursion on long chains resolved from their far end.
            if stack.len() > MAX_EXTENDS_DEPTH {
                too_deep(self);
                continue;
            }
            let Some((parent_node, parent_depth)) = self.resolve_with_depth(&parent, stack) else {
                continue;
            };
            if parent_depth + 1 > MAX_EXTENDS_DEPTH {
                too_deep(self);
                continue;
            }
            depth = depth.max(parent_depth + 1);
            base = Some(match base {
                Some(b) => deep_merge(b, parent_node),
                None => parent_node,
            });
        }
        stack.pop();
        let mut own = node.clone();
        if let GValue::Map(entries) = &mut own.value {
            entries.retain(|e| e.key != "extends");
        }
        let result = match base {
            // A parent that is not a mapping cannot be extended from; keep the job.
            Some(b) if b.is_map() => {
                let merged = deep_merge(b, own);
                let size = merged.count();
                if size > self.budget {
                    self.warn_once(
                        "limit".into(),
                        "extends-limit",
                        format!("`extends` would copy more than {MAX_EXTENDS_NODES} nodes into jobs; later jobs keep only their own keys"),
                        loc(&extends.file, extends.line),
                    );
                    self.budget = 0;
                    let mut own = node.clone();
                    if let GValue::Map(entries) = &mut own.value {
                        entries.retain(|e| e.key != "extends");
                    }
                    own
                } else {
                    self.budget -= size;
                    merged
                }
            }
            _ => own,
        };
        self.memo.insert(name.to_string(), (result.clone(), depth));
        Some((result, depth))
    }
}

/// Replace every `!reference [key, sub, ...]` node by the node it names. In a
/// sequence, a reference to a sequence is spliced in (GitLab flattens it one
/// level, which is what makes `script: [!reference [.setup, script], make]` work).
pub(crate) fn resolve_references(root: &GNode, diagnostics: &mut Vec<Diagnostic>) -> GNode {
    if !has_reference(root) {
        return root.clone();
    }
    let mut resolver = References {
        root,
        budget: MAX_REFERENCE_NODES,
        diagnostics,
        exhausted: false,
        warned: HashSet::new(),
    };
    resolver.walk(root, 0)
}

fn has_reference(node: &GNode) -> bool {
    node.is_reference()
        || match &node.value {
            GValue::Seq(items) => items.iter().any(has_reference),
            GValue::Map(entries) => entries.iter().any(|e| has_reference(&e.value)),
            _ => false,
        }
}

struct References<'a> {
    root: &'a GNode,
    budget: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
    exhausted: bool,
    /// (code, file, line) already reported: a reference expanded many times warns once.
    warned: HashSet<(&'static str, String, u32)>,
}

impl References<'_> {
    fn warn(&mut self, code: &'static str, message: String, node: &GNode) {
        if self.warned.insert((code, node.file.to_string(), node.line)) {
            self.diagnostics.push(Diagnostic::warning(
                code,
                message,
                loc(&node.file, node.line),
            ));
        }
    }

    fn walk(&mut self, node: &GNode, depth: usize) -> GNode {
        if node.is_reference() {
            return self.dereference(node, depth);
        }
        match &node.value {
            GValue::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let resolved = self.walk(item, depth);
                    match resolved.value {
                        GValue::Seq(inner) if item.is_reference() => out.extend(inner),
                        _ => out.push(resolved),
                    }
                }
                GNode {
                    value: GValue::Seq(out),
                    ..clone_shell(node)
                }
            }
            GValue::Map(entries) => {
                let out = entries
                    .iter()
                    .map(|e| Entry {
                        key: e.key.clone(),
                        key_line: e.key_line,
                        key_file: e.key_file.clone(),
                        value: self.walk(&e.value, depth),
                    })
                    .collect();
                GNode {
                    value: GValue::Map(out),
                    ..clone_shell(node)
                }
            }
            _ => node.clone(),
        }
    }

    fn dereference(&mut self, node: &GNode, depth: usize) -> GNode {
        let null = GNode::null(&node.file, node.line);
        let path = node.string_list();
        if path.is_empty() || node.as_seq().is_none() {
            self.warn(
                "gitlab-shape",
                "`!reference` needs a list of keys, like `!reference [.setup, script]`".into(),
                node,
            );
            return null;
        }
        if depth >= MAX_REFERENCE_DEPTH {
            self.warn(
                "reference-depth",
                format!(
                    "`!reference [{}]` nests more than {MAX_REFERENCE_DEPTH} levels; not expanded",
                    path.join(", ")
                ),
                node,
            );
            return null;
        }
        let mut target = self.root;
        for key in &path {
            match target.get(key) {
                Some(next) => target = next,
                None => {
                    self.warn(
                        "reference-missing",
                        format!("`!reference [{}]`: `{key}` not found", path.join(", ")),
                        node,
                    );
                    return null;
                }
            }
        }
        let size = target.count();
        if self.exhausted || size > self.budget {
            if !self.exhausted {
                self.warn(
                    "reference-limit",
                    format!("`!reference` expansion exceeds {MAX_REFERENCE_NODES} nodes; the rest is not expanded"),
                    node,
                );
            }
            self.exhausted = true;
            return null;
        }
        self.budget -= size;
        let target = target.clone();
        self.walk(&target, depth + 1)
    }
}

fn clone_shell(node: &GNode) -> GNode {
    GNode {
        value: GValue::Null,
        line: node.line,
        file: node.file.clone(),
        tag: node.tag.clone(),
    }
}

/// The keys `default:` gives jobs: the legacy top-level globals, overridden by `default:`.
pub(crate) fn default_entries(root: &GNode) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for key in LEGACY_GLOBAL_KEYS {
        if let Some(entry) = root.entry(key) {
            out.push(entry.clone());
        }
    }
    if let Some(default) = root.get("default").and_then(GNode::as_map) {
        for entry in default {
            if !DEFAULT_KEYS.contains(&entry.key.as_str()) {
                continue;
            }
            out.retain(|e| e.key != entry.key);
            out.push(entry.clone());
        }
    }
    out
}

/// Give a job the default keys it does not set itself, as its `inherit:` allows.
pub(crate) fn apply_defaults(job: &mut GNode, defaults: &[Entry]) {
    let allowed: Option<Vec<String>> = match job.get("inherit").and_then(|i| i.get("default")) {
        None => None,
        Some(n) => match &n.value {
            GValue::Bool(true) => None,
            GValue::Bool(false) => Some(Vec::new()),
            _ => Some(n.string_list()),
        },
    };
    let GValue::Map(entries) = &mut job.value else {
        return;
    };
    for default in defaults {
        if allowed
            .as_ref()
            .is_some_and(|keys| !keys.contains(&default.key))
        {
            continue;
        }
        if !entries.iter().any(|e| e.key == default.key) {
            entries.push(default.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pipeline::yaml;

    fn load(text: &str) -> GNode {
        GNode::from_yaml(&yaml::parse(text).unwrap(), &Arc::from("ci.yml"), 0)
    }

    #[test]
    fn extends_multi_level_and_list() {
        let mut root = load(
            ".base:\n  image: a\n  variables: {X: '1'}\n  script: [base]\n.mid:\n  extends: .base\n  variables: {Y: '2'}\n.other:\n  tags: [gpu]\n  script: [other]\njob:\n  extends: [.mid, .other]\n  variables: {X: '9'}\n",
        );
        let mut diags = Vec::new();
        resolve_extends(&mut root, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let job = root.get("job").unwrap();
        assert!(job.get("extends").is_none());
        assert_eq!(job.get("image").unwrap().as_str(), Some("a"));
        // Later parents win over earlier ones; arrays are replaced.
        assert_eq!(job.get("script").unwrap().string_list(), vec!["other"]);
        let vars = job.get("variables").unwrap();
        assert_eq!(vars.get("X").unwrap().as_str(), Some("9"));
        assert_eq!(vars.get("Y").unwrap().as_str(), Some("2"));
        assert_eq!(job.get("tags").unwrap().string_list(), vec!["gpu"]);
    }

    #[test]
    fn extends_missing_and_cycles_warn() {
        let mut root =
            load("a:\n  extends: b\nb:\n  extends: a\nc:\n  extends: .nowhere\n  script: [x]\n");
        let mut diags = Vec::new();
        resolve_extends(&mut root, &mut diags);
        let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.contains(&"extends-cycle"), "{codes:?}");
        assert!(codes.contains(&"extends-missing"), "{codes:?}");
        assert_eq!(
            root.get("c").unwrap().get("script").unwrap().string_list(),
            vec!["x"]
        );
    }

    #[test]
    fn long_extends_chain_is_bounded() {
        let mut text = String::from("j0:\n  script: [x]\n");
        for i in 1..200 {
            text.push_str(&format!("j{i}:\n  extends: j{}\n", i - 1));
        }
        let mut root = load(&text);
        let mut diags = Vec::new();
        resolve_extends(&mut root, &mut diags);
        assert!(diags.iter().any(|d| d.code == "extends-depth"));
    }

    #[test]
    fn many_jobs_extending_a_huge_template_are_bounded() {
        let mut text = String::from(".big:\n  script:\n");
        for i in 0..2500 {
            text.push_str(&format!("    - echo {i}\n"));
        }
        for j in 0..1000 {
            text.push_str(&format!("job{j}:\n  extends: .big\n  stage: test\n"));
        }
        let mut root = load(&text);
        let mut diags = Vec::new();
        resolve_extends(&mut root, &mut diags);
        assert_eq!(
            diags.iter().filter(|d| d.code == "extends-limit").count(),
            1
        );
        assert!(root.count() < 2 * MAX_EXTENDS_NODES);
        // Early jobs were expanded, the last one keeps only its own keys.
        assert!(root.get("job0").unwrap().get("script").is_some());
        let last = root.get("job999").unwrap();
        assert!(last.get("script").is_none() && last.get("extends").is_none());
    }

    #[test]
    fn references_splice_in_sequences_and_nest() {
        let root = load(
            ".a:\n  script: [one, two]\n.b:\n  script:\n    - !reference [.a, script]\n    - three\njob:\n  script:\n    - !reference [.b, script]\n    - four\n  image: !reference [.c, image]\n.c:\n  image: img\n",
        );
        let mut diags = Vec::new();
        let out = resolve_references(&root, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let job = out.get("job").unwrap();
        assert_eq!(
            job.get("script").unwrap().string_list(),
            vec!["one", "two", "three", "four"]
        );
        assert_eq!(job.get("script").unwrap().as_seq().unwrap()[0].line, 2);
        assert_eq!(job.get("image").unwrap().as_str(), Some("img"));
    }

    #[test]
    fn self_reference_is_bounded() {
        let root =
            load(".a:\n  script:\n    - !reference [.a, script]\n    - !reference [.a, script]\n");
        let mut diags = Vec::new();
        let _ = resolve_references(&root, &mut diags);
        assert!(
            diags
                .iter()
                .any(|d| d.code == "reference-depth" || d.code == "reference-limit")
        );
    }

    #[test]
    fn defaults_respect_inherit() {
        let root =
            load("image: legacy\ndefault:\n  image: new\n  tags: [t]\n  before_script: [setup]\n");
        let defaults = default_entries(&root);
        let mut plain = load("script: [x]\n");
        apply_defaults(&mut plain, &defaults);
        assert_eq!(plain.get("image").unwrap().as_str(), Some("new"));
        assert_eq!(plain.get("tags").unwrap().string_list(), vec!["t"]);
        let mut none = load("script: [x]\ninherit:\n  default: false\n");
        apply_defaults(&mut none, &defaults);
        assert!(none.get("image").is_none());
        let mut some = load("script: [x]\nimage: own\ninherit:\n  default: [image, tags]\n");
        apply_defaults(&mut some, &defaults);
        assert_eq!(some.get("image").unwrap().as_str(), Some("own"));
        assert!(some.get("tags").is_some());
        assert!(some.get("before_script").is_none());
    }
}
