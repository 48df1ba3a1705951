//! Local references: `uses: ./path` actions and `./.github/workflows/x.yml`
//! reusable workflows, resolved against the repository's files.

use std::collections::HashMap;
use std::rc::Rc;

use crate::evidence::{Diagnostic, FileSet, Location};
use crate::pipeline::ExternalRef;
use crate::pipeline::yaml::Node;

/// Most composite actions expanded inside one another under one workflow step.
pub(super) const MAX_COMPOSITE_DEPTH: usize = 3;

/// Most composite steps expanded into one workflow. Depth alone does not bound
/// the work: three nested composites of a thousand steps each would otherwise
/// give a billion steps.
pub(super) const MAX_EXPANDED_STEPS: usize = 20_000;

/// What a local action file turned out to be.
#[derive(Clone)]
pub(super) enum ActionKind {
    /// `runs.using: composite`, with its parsed file.
    Composite(Rc<Node>),
    /// JavaScript or Docker action: recorded, never expanded.
    Other,
    /// Present but not readable or not valid YAML (already reported).
    Unreadable,
}

/// Looks local references up in the file set; parses each action file once.
pub(super) struct Resolver<'a> {
    pub(super) files: &'a FileSet,
    actions: HashMap<String, ActionKind>,
    /// Composite steps expanded so far in the current workflow.
    expanded_steps: usize,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(files: &'a FileSet) -> Self {
        Resolver {
            files,
            actions: HashMap::new(),
            expanded_steps: 0,
        }
    }

    /// Reset the per-workflow expansion budget.
    pub(super) fn start_workflow(&mut self) {
        self.expanded_steps = 0;
    }

    /// Count one more composite step (the `item` at `path`); false once the
    /// workflow's budget is spent, which is reported the first time only.
    pub(super) fn take_expansion_budget(
        &mut self,
        path: &str,
        item: &Node,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> bool {
        if self.expanded_steps == MAX_EXPANDED_STEPS {
            diagnostics.push(Diagnostic::info(
                "composite-expansion-limit",
                format!(
                    "more than {MAX_EXPANDED_STEPS} composite steps in this workflow; the rest are not expanded"
                ),
                Some(Location::new(path, item.line)),
            ));
        }
        if self.expanded_steps >= MAX_EXPANDED_STEPS {
            // Keep counting past the limit so the report above is made once.
            self.expanded_steps = MAX_EXPANDED_STEPS + 1;
            return false;
        }
        self.expanded_steps += 1;
        true
    }

    /// A step's `uses:` as an external reference. A local action resolves when
    /// its directory holds `action.yml` or `action.yaml`; `path` is that file.
    pub(super) fn step_ref(&self, target: &str) -> ExternalRef {
        let target = target.trim();
        if !is_local(target) {
            return remote(target);
        }
        let found = normalize_local(target).and_then(|dir| {
            ["action.yml", "action.yaml"]
                .iter()
                .map(|name| join(&dir, name))
                .find(|p| self.files.contains(p))
        });
        local(target, found)
    }

    /// A job's `uses:` (reusable workflow). A local one resolves when the file exists.
    pub(super) fn workflow_ref(&self, target: &str) -> ExternalRef {
        let target = target.trim();
        if !is_local(target) {
            return remote(target);
        }
        let found = normalize_local(target).filter(|p| self.files.contains(p));
        local(target, found)
    }

    /// What the action file at `path` is, parsing it on first use. Problems with
    /// the file are reported once per path (the caller dedups repeats).
    pub(super) fn action_kind(
        &mut self,
        path: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> ActionKind {
        if let Some(kind) = self.actions.get(path) {
            return kind.clone();
        }
        let kind = match self.files.text(path) {
            None => ActionKind::Unreadable,
            Some(text) => match super::parse_yaml(text) {
                Err(e) => {
                    diagnostics.push(Diagnostic::error(
                        "yaml-syntax",
                        format!("action file is not valid YAML: {}", e.message),
                        Some(Location::with_column(path, e.line.max(1), e.column)),
                    ));
                    ActionKind::Unreadable
                }
                Ok((root, _)) => {
                    let using = root
                        .get("runs")
                        .and_then(|r| r.get("using"))
                        .and_then(Node::as_str)
                        .map(|u| u.trim().to_ascii_lowercase());
                    if using.as_deref() == Some("composite") {
                        ActionKind::Composite(Rc::new(root))
                    } else {
                        ActionKind::Other
                    }
                }
            },
        };
        self.actions.insert(path.to_string(), kind.clone());
        kind
    }
}

/// GitHub treats only `./…` as this repository (relative to the workspace root,
/// also inside composite actions).
fn is_local(target: &str) -> bool {
    target.starts_with("./")
}

fn remote(target: &str) -> ExternalRef {
    ExternalRef {
        target: target.to_string(),
        local: false,
        resolved: false,
        path: None,
    }
}

fn local(target: &str, found: Option<String>) -> ExternalRef {
    ExternalRef {
        target: target.to_string(),
        local: true,
        resolved: found.is_some(),
        path: found,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `./a/./b/../c/` → `a/c`; `None` when it climbs above the repository root.
pub(super) fn normalize_local(target: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_local_paths() {
        assert_eq!(normalize_local("./a/./b/../c/").as_deref(), Some("a/c"));
        assert_eq!(normalize_local("./").as_deref(), Some(""));
        assert_eq!(normalize_local("./../x"), None);
    }
}
