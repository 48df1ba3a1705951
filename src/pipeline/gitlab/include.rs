//! `include:` — local files are read from the checkout and merged; everything
//! else (remote, project, template, component) is recorded as unresolved, since a
//! local scan fetches nothing. An API connector can hand in an [`IncludeSource`]
//! that answers `project`, `template` and `remote` includes; their files are then
//! merged like local ones (and local includes inside a project's file are read
//! from that project, as GitLab does).

use std::collections::HashSet;
use std::sync::Arc;

use crate::evidence::{Diagnostic, FileSet, Location};
use crate::pipeline::yaml;
use crate::pipeline::{ExternalRef, Include};

use super::tree::{GNode, GValue, deep_merge};

/// GitLab's own limits: 150 included files per pipeline, nesting 100 deep.
const MAX_INCLUDES: usize = 150;
const MAX_INCLUDE_DEPTH: usize = 100;

/// One entry of an `include:` (or `trigger: include:`) list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IncludeSpec {
    /// `local`, `remote`, `project`, `template`, `component`, `artifact`.
    pub kind: &'static str,
    /// As written (`project: group/x file: ci.yml` for project includes).
    pub target: String,
    pub line: u32,
    pub file: Arc<str>,
    /// What an [`IncludeSource`] would fetch (project, template and remote includes).
    pub external: Option<ExternalInclude>,
}

/// A non-local include, as a connector must fetch it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalInclude {
    /// `project`, `template` or `remote`.
    pub kind: String,
    /// The project path (`group/sub/project`) of a project include.
    pub project: Option<String>,
    /// The file in that project, the template name, or the URL.
    pub file: String,
    /// The `ref:` of a project include.
    pub git_ref: Option<String>,
}

/// What a source found for an [`ExternalInclude`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncludeText {
    /// The file's text, under the path its locations will carry
    /// (e.g. `group/ci-templates:ci/train.yml@main`).
    Found { path: String, text: String },
    /// Not fetched, and why (not visible to the token, another host, …).
    Unresolved(String),
}

/// Answers non-local includes for the GitLab CI parser (an API connector); the
/// local scan has none and records those includes as unresolved.
pub trait IncludeSource {
    fn fetch(&self, include: &ExternalInclude) -> IncludeText;
}

impl IncludeSpec {
    pub fn location(&self) -> Location {
        Location::new(self.file.to_string(), self.line)
    }
}

/// Read the entries of an `include:` value: a string, a mapping, or a list of either.
pub(crate) fn include_specs(node: &GNode, diagnostics: &mut Vec<Diagnostic>) -> Vec<IncludeSpec> {
    let mut out = Vec::new();
    let items: Vec<&GNode> = match &node.value {
        GValue::Seq(items) => items.iter().collect(),
        GValue::Null => Vec::new(),
        _ => vec![node],
    };
    for item in items {
        let spec = |kind: &'static str, target: String| IncludeSpec {
            kind,
            external: match kind {
                "remote" => Some(ExternalInclude {
                    kind: kind.into(),
                    project: None,
                    file: target.clone(),
                    git_ref: None,
                }),
                _ => None,
            },
            target,
            line: item.line,
            file: item.file.clone(),
        };
        if let Some(text) = item.as_str() {
            // The short form names a local file, or a remote one when it is a URL.
            let kind = if text.starts_with("http://") || text.starts_with("https://") {
                "remote"
            } else {
                "local"
            };
            out.push(spec(kind, text.to_string()));
            continue;
        }
        if !item.is_map() {
            diagnostics.push(Diagnostic::warning(
                "gitlab-shape",
                "an `include:` entry should be a path or a mapping",
                Some(Location::new(item.file.to_string(), item.line)),
            ));
            continue;
        }
        let text_of = |key: &str| item.get(key).and_then(GNode::scalar_text);
        if let Some(local) = text_of("local") {
            out.push(spec("local", local));
        } else if let Some(remote) = text_of("remote") {
            out.push(spec("remote", remote));
        } else if let Some(template) = text_of("template") {
            let mut s = spec("template", format!("template: {template}"));
            s.external = Some(ExternalInclude {
                kind: "template".into(),
                project: None,
                file: template,
                git_ref: None,
            });
            out.push(s);
        } else if let Some(component) = text_of("component") {
            out.push(spec("component", component));
        } else if let Some(project) = text_of("project") {
            let git_ref = text_of("ref");
            let reference = git_ref
                .as_ref()
                .map(|r| format!(" ref: {r}"))
                .unwrap_or_default();
            let files = item.get("file").map(GNode::string_list).unwrap_or_default();
            if files.is_empty() {
                out.push(spec("project", format!("project: {project}{reference}")));
            }
            for file in files {
                let mut s = spec(
                    "project",
                    format!("project: {project} file: {file}{reference}"),
                );
                s.external = Some(ExternalInclude {
                    kind: "project".into(),
                    project: Some(project.clone()),
                    file,
                    git_ref: git_ref.clone(),
                });
                out.push(s);
            }
        } else if let Some(artifact) = text_of("artifact") {
            let job = text_of("job")
                .map(|j| format!(" job: {j}"))
                .unwrap_or_default();
            out.push(spec("artifact", format!("artifact: {artifact}{job}")));
        } else {
            diagnostics.push(Diagnostic::warning(
                "gitlab-shape",
                "an `include:` entry names none of local, remote, project, template, component",
                Some(Location::new(item.file.to_string(), item.line)),
            ));
        }
    }
    out
}

/// Repository paths a local include names: leading `/` dropped, wildcards
/// (`*` within a directory, `**` across directories) matched against the checkout.
pub(crate) fn local_paths(written: &str, files: &FileSet) -> Vec<String> {
    let path = written.trim().trim_start_matches('/');
    if !path.contains('*') {
        return vec![path.to_string()];
    }
    files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|candidate| wildcard_match(path, candidate))
        .map(str::to_string)
        .collect()
}

/// GitLab include wildcards: `**` matches anything (slashes too), `*` anything
/// but a slash. Dynamic programming keeps the work at pattern × path.
pub(crate) fn wildcard_match(pattern: &str, path: &str) -> bool {
    #[derive(Clone, Copy)]
    enum Tok {
        Byte(u8),
        Star,
        DoubleStar,
    }
    let pb = pattern.as_bytes();
    let mut toks = Vec::with_capacity(pb.len());
    let mut i = 0;
    while i < pb.len() {
        if pb[i] == b'*' {
            if pb.get(i + 1) == Some(&b'*') {
                toks.push(Tok::DoubleStar);
                i += 2;
            } else {
                toks.push(Tok::Star);
                i += 1;
            }
        } else {
            toks.push(Tok::Byte(pb[i]));
            i += 1;
        }
    }
    let s = path.as_bytes();
    // reach[j]: the tokens so far can match s[..j].
    let mut reach = vec![false; s.len() + 1];
    reach[0] = true;
    for tok in toks {
        let mut next = vec![false; s.len() + 1];
        match tok {
            Tok::Byte(b) => {
                for j in 0..s.len() {
                    if reach[j] && s[j] == b {
                        next[j + 1] = true;
                    }
                }
            }
            Tok::Star | Tok::DoubleStar => {
                let crosses = matches!(tok, Tok::DoubleStar);
                for j in 0..=s.len() {
                    if reach[j] || (j > 0 && next[j - 1] && (crosses || s[j - 1] != b'/')) {
                        next[j] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[s.len()]
}

/// Load a CI file's text into a tree. GitLab component/template files may start
/// with a `spec:` header document; the configuration is then the second document.
pub(crate) fn load_text(
    path: &str,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<GNode> {
    let file: Arc<str> = Arc::from(path);
    let root = match yaml::parse(text) {
        Ok(node) => node,
        Err(e) => {
            diagnostics.push(Diagnostic::error(
                "yaml-syntax",
                format!("invalid YAML: {}", e.message),
                Some(Location::with_column(path, e.line.max(1), e.column)),
            ));
            return None;
        }
    };
    let only_spec = root
        .as_map()
        .is_some_and(|m| m.len() == 1 && m[0].0.as_str() == Some("spec"));
    if only_spec {
        if let Some((offset, rest)) = after_header(text) {
            return match yaml::parse(rest) {
                Ok(node) => Some(GNode::from_yaml(&node, &file, offset)),
                Err(e) => {
                    diagnostics.push(Diagnostic::error(
                        "yaml-syntax",
                        format!("invalid YAML: {}", e.message),
                        Some(Location::with_column(
                            path,
                            e.line.saturating_add(offset).max(1),
                            e.column,
                        )),
                    ));
                    None
                }
            };
        }
    }
    Some(GNode::from_yaml(&root, &file, 0))
}

/// The text after the first document separator that follows some content, with
/// the number of lines before it.
fn after_header(text: &str) -> Option<(u32, &str)> {
    let mut seen_content = false;
    let mut offset = 0usize;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        offset += line.len();
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            if seen_content {
                let rest = text.get(offset..)?;
                return Some((u32::try_from(index + 1).unwrap_or(u32::MAX), rest));
            }
        } else if !trimmed.trim_start().is_empty() && !trimmed.trim_start().starts_with('#') {
            seen_content = true;
        }
    }
    None
}

/// Resolves includes for one pipeline, recording each in `includes`.
pub(crate) struct IncludeResolver<'a> {
    pub files: &'a FileSet,
    pub includes: Vec<Include>,
    merged_files: HashSet<String>,
    loaded: usize,
    /// Fetches non-local includes (API scans only).
    source: Option<&'a dyn IncludeSource>,
    /// Where the file being expanded came from: `None` for the repository itself,
    /// otherwise the fetched include (its local includes live in that project).
    origin: Vec<Option<ExternalInclude>>,
}

impl<'a> IncludeResolver<'a> {
    pub fn new(files: &'a FileSet, root_path: &str) -> Self {
        IncludeResolver {
            files,
            includes: Vec::new(),
            merged_files: HashSet::from([root_path.to_string()]),
            loaded: 0,
            source: None,
            origin: Vec::new(),
        }
    }

    pub fn with_source(mut self, source: Option<&'a dyn IncludeSource>) -> Self {
        self.source = source;
        self
    }

    /// A local include written inside a fetched file: GitLab reads it from the
    /// project that file came from; from a template or a URL it cannot be read.
    fn local_in_origin(&self, spec: &IncludeSpec) -> Option<Result<ExternalInclude, String>> {
        let origin = self.origin.last()?.as_ref()?;
        Some(match (origin.kind.as_str(), &origin.project) {
            ("project", Some(project)) if !spec.target.contains('*') => Ok(ExternalInclude {
                kind: "project".into(),
                project: Some(project.clone()),
                file: spec.target.trim().trim_start_matches('/').to_string(),
                git_ref: origin.git_ref.clone(),
            }),
            ("project", _) => Err("a wildcard local include inside another project's file".into()),
            (kind, _) => Err(format!("a local include inside a {kind} include")),
        })
    }

    /// The configuration of `node` (a file's tree) with its includes merged in:
    /// included files first, in order, then the including file on top.
    pub fn expand(
        &mut self,
        node: GNode,
        stack: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> GNode {
        let GNode {
            value,
            line,
            file,
            tag,
        } = node;
        let GValue::Map(mut entries) = value else {
            return GNode {
                value,
                line,
                file,
                tag,
            };
        };
        let Some(position) = entries.iter().position(|e| e.key == "include") else {
            return GNode {
                value: GValue::Map(entries),
                line,
                file,
                tag,
            };
        };
        let include_node = entries.remove(position).value;
        let own = GNode {
            value: GValue::Map(entries),
            line,
            file: file.clone(),
            tag,
        };
        let mut merged = GNode::map(Vec::new(), &file, line);
        for mut spec in include_specs(&include_node, diagnostics) {
            if spec.kind == "local" {
                match self.local_in_origin(&spec) {
                    Some(Ok(external)) => spec.external = Some(external),
                    Some(Err(reason)) => {
                        self.record_unresolved_because(&spec, &reason, diagnostics);
                        continue;
                    }
                    None => {}
                }
            }
            if spec.kind != "local" || spec.external.is_some() {
                match (self.source, spec.external.clone()) {
                    (Some(source), Some(external)) => {
                        if let Some(tree) =
                            self.load_external(&spec, source, external, stack, diagnostics)
                        {
                            merged = deep_merge(merged, tree);
                        }
                    }
                    _ => self.record_unresolved(&spec, diagnostics),
                }
                continue;
            }
            if spec.target.contains('$') {
                // GitLab expands some CI variables in include paths; their values
                // are only known in a running pipeline.
                self.record_unresolved_because(
                    &spec,
                    "the path uses a CI/CD variable",
                    diagnostics,
                );
                continue;
            }
            let paths = local_paths(&spec.target, self.files);
            if paths.is_empty() {
                self.record_missing(&spec, "no file matches the pattern", diagnostics);
                continue;
            }
            for path in paths {
                if let Some(tree) = self.load_local(&spec, &path, stack, diagnostics) {
                    merged = deep_merge(merged, tree);
                }
            }
        }
        deep_merge(merged, own)
    }

    /// Fetch a non-local include through the source and merge it like a local file.
    fn load_external(
        &mut self,
        spec: &IncludeSpec,
        source: &dyn IncludeSource,
        external: ExternalInclude,
        stack: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<GNode> {
        let (path, text) = match source.fetch(&external) {
            IncludeText::Found { path, text } => (path, text),
            IncludeText::Unresolved(reason) => {
                self.record_unresolved_because(spec, &reason, diagnostics);
                return None;
            }
        };
        if stack.contains(&path) {
            diagnostics.push(Diagnostic::warning(
                "include-cycle",
                format!(
                    "`{path}` includes itself (through {}); not merged again",
                    stack.join(" → ")
                ),
                Some(spec.location()),
            ));
            return None;
        }
        if !self.merged_files.insert(path.clone()) {
            return None;
        }
        if stack.len() > MAX_INCLUDE_DEPTH || self.loaded >= MAX_INCLUDES {
            diagnostics.push(Diagnostic::warning(
                "include-limit",
                format!(
                    "`{path}` not merged: more than {MAX_INCLUDES} includes or nesting deeper than {MAX_INCLUDE_DEPTH}"
                ),
                Some(spec.location()),
            ));
            return None;
        }
        self.loaded += 1;
        self.includes.push(Include {
            kind: external.kind.clone(),
            target: ExternalRef {
                target: spec.target.clone(),
                local: false,
                resolved: true,
                path: Some(path.clone()),
            },
            unresolved_reason: None,
            location: spec.location(),
        });
        let tree = load_text(&path, &text, diagnostics)?;
        stack.push(path);
        self.origin.push(Some(external));
        let expanded = self.expand(tree, stack, diagnostics);
        self.origin.pop();
        stack.pop();
        Some(expanded)
    }

    fn load_local(
        &mut self,
        spec: &IncludeSpec,
        path: &str,
        stack: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<GNode> {
        if stack.iter().any(|p| p == path) {
            diagnostics.push(Diagnostic::warning(
                "include-cycle",
                format!(
                    "`{path}` includes itself (through {}); not merged again",
                    stack.join(" → ")
                ),
                Some(spec.location()),
            ));
            return None;
        }
        if !self.merged_files.insert(path.to_string()) {
            // Already merged elsewhere in this pipeline: merging again changes nothing.
            return None;
        }
        // The stack holds the root file too, so it may grow to depth + 1.
        if stack.len() > MAX_INCLUDE_DEPTH || self.loaded >= MAX_INCLUDES {
            diagnostics.push(Diagnostic::warning(
                "include-limit",
                format!(
                    "`{path}` not merged: more than {MAX_INCLUDES} includes or nesting deeper than {MAX_INCLUDE_DEPTH}"
                ),
                Some(spec.location()),
            ));
            return None;
        }
        let Some(text) = self.files.text(path) else {
            let reason = if self.files.contains(path) {
                "the file was not read"
            } else {
                "no such file in the repository"
            };
            self.record_missing_path(spec, path, reason, diagnostics);
            return None;
        };
        self.loaded += 1;
        self.includes.push(Include {
            kind: "local".into(),
            target: ExternalRef {
                target: spec.target.clone(),
                local: true,
                resolved: true,
                path: Some(path.to_string()),
            },
            unresolved_reason: None,
            location: spec.location(),
        });
        let tree = load_text(path, text, diagnostics)?;
        stack.push(path.to_string());
        let expanded = self.expand(tree, stack, diagnostics);
        stack.pop();
        Some(expanded)
    }

    fn record_unresolved(&mut self, spec: &IncludeSpec, diagnostics: &mut Vec<Diagnostic>) {
        self.record_unresolved_because(spec, "not fetched in local mode", diagnostics);
    }

    fn record_unresolved_because(
        &mut self,
        spec: &IncludeSpec,
        reason: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let local = spec.kind == "local";
        diagnostics.push(Diagnostic::info(
            "include-unresolved",
            format!("{} include `{}` {reason}", spec.kind, spec.target),
            Some(spec.location()),
        ));
        self.includes.push(Include {
            kind: spec.kind.to_string(),
            target: ExternalRef {
                target: spec.target.clone(),
                local,
                resolved: false,
                path: None,
            },
            unresolved_reason: Some(reason.into()),
            location: spec.location(),
        });
    }

    fn record_missing(
        &mut self,
        spec: &IncludeSpec,
        reason: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let path = spec.target.trim().trim_start_matches('/').to_string();
        self.record_missing_path(spec, &path, reason, diagnostics);
    }

    fn record_missing_path(
        &mut self,
        spec: &IncludeSpec,
        path: &str,
        reason: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        diagnostics.push(Diagnostic::warning(
            "include-missing",
            format!("local include `{}`: {reason}", spec.target),
            Some(spec.location()),
        ));
        self.includes.push(Include {
            kind: "local".into(),
            target: ExternalRef {
                target: spec.target.clone(),
                local: true,
                resolved: false,
                path: Some(path.to_string()),
            },
            unresolved_reason: Some(reason.into()),
            location: spec.location(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_gitlab() {
        assert!(wildcard_match("configs/*.yml", "configs/a.yml"));
        assert!(!wildcard_match("configs/*.yml", "configs/sub/a.yml"));
        assert!(wildcard_match("configs/**.yml", "configs/sub/a.yml"));
        assert!(wildcard_match("configs/**/*.yml", "configs/sub/a.yml"));
        assert!(!wildcard_match("configs/**/*.yml", "configs/a.yml"));
        assert!(!wildcard_match("configs/*.yml", "configs/a.yaml"));
        assert!(wildcard_match("*", "x"));
    }

    #[test]
    fn include_shapes() {
        let mut diags = Vec::new();
        let text = "include:\n  - local: /a.yml\n  - 'b.yml'\n  - remote: https://x/y.yml\n  - project: g/p\n    ref: main\n    file: [one.yml, two.yml]\n  - template: Auto-DevOps.gitlab-ci.yml\n  - component: gitlab.com/c/d@1\n  - 42\n";
        let tree = load_text("ci.yml", text, &mut diags).unwrap();
        let specs = include_specs(tree.get("include").unwrap(), &mut diags);
        let kinds: Vec<_> = specs
            .iter()
            .map(|s| (s.kind, s.target.as_str(), s.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("local", "/a.yml", 2),
                ("local", "b.yml", 3),
                ("remote", "https://x/y.yml", 4),
                ("project", "project: g/p file: one.yml ref: main", 5),
                ("project", "project: g/p file: two.yml ref: main", 5),
                ("template", "template: Auto-DevOps.gitlab-ci.yml", 8),
                ("component", "gitlab.com/c/d@1", 9),
            ]
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "gitlab-shape");
    }

    #[test]
    fn spec_header_is_skipped_with_line_offset() {
        let mut diags = Vec::new();
        let text =
            "spec:\n  inputs:\n    stage:\n      default: test\n---\njob:\n  script: [echo]\n";
        let tree = load_text("c.yml", text, &mut diags).unwrap();
        assert!(diags.is_empty());
        assert_eq!(tree.entry("job").unwrap().key_line, 6);
    }

    #[test]
    fn broken_yaml_is_a_located_diagnostic() {
        let mut diags = Vec::new();
        assert!(load_text("bad.yml", "job:\n  script: [a\n", &mut diags).is_none());
        assert_eq!(diags[0].code, "yaml-syntax");
        assert_eq!(diags[0].location.as_ref().unwrap().path, "bad.yml");
        assert!(diags[0].location.as_ref().unwrap().line >= 2);
    }

    struct MapSource(Vec<(ExternalInclude, IncludeText)>);

    impl IncludeSource for MapSource {
        fn fetch(&self, include: &ExternalInclude) -> IncludeText {
            self.0
                .iter()
                .find(|(k, _)| k == include)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| IncludeText::Unresolved("not in the map".into()))
        }
    }

    #[test]
    fn a_source_answers_project_includes_and_their_local_ones() {
        let project = |file: &str| ExternalInclude {
            kind: "project".into(),
            project: Some("g/ci".into()),
            file: file.into(),
            git_ref: Some("v1".into()),
        };
        let source = MapSource(vec![
            (
                project("train.yml"),
                IncludeText::Found {
                    path: "g/ci:train.yml@v1".into(),
                    text: "include:\n  - local: /common.yml\ntrain:\n  script: [python train.py]\n"
                        .into(),
                },
            ),
            (
                project("common.yml"),
                IncludeText::Found {
                    path: "g/ci:common.yml@v1".into(),
                    text: "lint:\n  script: [ruff]\n".into(),
                },
            ),
        ]);
        let files = FileSet::new(Vec::new());
        let mut diags = Vec::new();
        let text = "include:\n  - project: g/ci\n    ref: v1\n    file: train.yml\n  - template: Nope.gitlab-ci.yml\n";
        let tree = load_text(".gitlab-ci.yml", text, &mut diags).unwrap();
        let mut resolver =
            IncludeResolver::new(&files, ".gitlab-ci.yml").with_source(Some(&source));
        let mut stack = vec![".gitlab-ci.yml".to_string()];
        let merged = resolver.expand(tree, &mut stack, &mut diags);
        assert!(merged.get("train").is_some() && merged.get("lint").is_some());
        let resolved: Vec<_> = resolver
            .includes
            .iter()
            .map(|i| (i.kind.as_str(), i.target.resolved, i.target.path.clone()))
            .collect();
        assert_eq!(
            resolved,
            vec![
                ("project", true, Some("g/ci:train.yml@v1".into())),
                ("project", true, Some("g/ci:common.yml@v1".into())),
                ("template", false, None),
            ]
        );
        assert_eq!(
            resolver.includes[2].unresolved_reason.as_deref(),
            Some("not in the map")
        );
        assert_eq!(
            merged.entry("train").unwrap().key_file.as_ref(),
            "g/ci:train.yml@v1"
        );
    }
}
