//! GitLab CI (`.gitlab-ci.yml` and its local includes) into the normalised model.
//!
//! The order follows GitLab's own: load the root file, merge local includes
//! ([`include`]), resolve `extends`, then `!reference` tags, then give jobs the
//! `default:` keys ([`expand`]); only then are jobs read ([`job`]) and
//! pipeline triggers derived ([`triggers`]). Local child pipelines that a job
//! triggers become pipelines of their own, marked reusable, so the job graph can
//! link the trigger job to them.

use std::collections::HashSet;
use std::sync::Arc;

use crate::evidence::{Diagnostic, FileSet, Location};

use super::{CiSystem, Pipeline, Trigger, TriggerKind};

mod expand;
mod include;
mod job;
mod tree;
mod triggers;

pub use include::{ExternalInclude, IncludeSource, IncludeText};

use tree::{Entry, GNode, GValue};

/// Root file names GitLab looks for (the default CI config path).
const ROOT_FILES: &[&str] = &[".gitlab-ci.yml", ".gitlab-ci.yaml"];

/// Top-level keys that configure the pipeline rather than name a job.
const RESERVED_KEYS: &[&str] = &[
    "stages",
    "types",
    "variables",
    "workflow",
    "default",
    "include",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

const DEFAULT_STAGES: &[&str] = &["build", "test", "deploy"];

/// Child pipelines followed from one root (bounds work on triggers that fan out).
const MAX_CHILD_PIPELINES: usize = 50;

/// Parse the root `.gitlab-ci.yml` (and child pipeline files it triggers).
pub fn parse_pipelines(files: &FileSet, diagnostics: &mut Vec<Diagnostic>) -> Vec<Pipeline> {
    parse_pipelines_with(files, None, diagnostics)
}

/// [`parse_pipelines`], with non-local includes answered by `source` (API scans).
pub fn parse_pipelines_with(
    files: &FileSet,
    source: Option<&dyn IncludeSource>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Pipeline> {
    let Some((root_path, text)) = ROOT_FILES
        .iter()
        .find_map(|p| files.text(p).map(|t| (*p, t)))
    else {
        return Vec::new();
    };
    let mut pipelines = Vec::new();
    let Some(tree) = include::load_text(root_path, text, diagnostics) else {
        return pipelines;
    };
    let (root, mut pending) = build_pipeline(root_path, tree, files, source, false, diagnostics);
    pipelines.push(root);
    let mut seen: HashSet<String> = HashSet::from([root_path.to_string()]);
    let mut next = 0;
    while next < pending.len() {
        let child = pending[next].clone();
        next += 1;
        let Some(first) = child.files.first() else {
            continue;
        };
        if !seen.insert(first.clone()) {
            continue;
        }
        if seen.len() > MAX_CHILD_PIPELINES + 1 {
            diagnostics.push(Diagnostic::warning(
                "child-pipeline-limit",
                format!("more than {MAX_CHILD_PIPELINES} child pipelines; `{first}` and later ones not parsed"),
                Some(child.location.clone()),
            ));
            break;
        }
        let Some(tree) = child_tree(&child.files, files, diagnostics) else {
            continue;
        };
        let (mut pipeline, more) = build_pipeline(first, tree, files, source, true, diagnostics);
        pipeline.triggers.insert(
            0,
            Trigger {
                kind: TriggerKind::Upstream,
                branches: Vec::new(),
                paths: Vec::new(),
                detail: vec![format!("parent: {} job {}", child.parent_file, child.job)],
                location: child.location.clone(),
            },
        );
        pipelines.push(pipeline);
        pending.extend(more);
    }
    pipelines
}

/// Parse one GitLab CI file (with its local includes) into a pipeline. `None`
/// when the file is not valid YAML (a `yaml-syntax` diagnostic says why).
pub fn parse_file(
    path: &str,
    text: &str,
    files: &FileSet,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Pipeline> {
    let tree = include::load_text(path, text, diagnostics)?;
    Some(build_pipeline(path, tree, files, None, false, diagnostics).0)
}

/// A child pipeline a trigger job names.
#[derive(Debug, Clone)]
struct ChildRef {
    files: Vec<String>,
    parent_file: String,
    job: String,
    location: Location,
}

/// The tree of a child pipeline: its file, or — when the trigger includes
/// several files — a synthetic root that includes them all.
fn child_tree(
    paths: &[String],
    files: &FileSet,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<GNode> {
    let first = paths.first()?;
    if paths.len() == 1 {
        return include::load_text(first, files.text(first)?, diagnostics);
    }
    let file: Arc<str> = Arc::from(first.as_str());
    let items = paths
        .iter()
        .map(|p| GNode {
            value: GValue::Str(p.clone()),
            line: 1,
            file: file.clone(),
            tag: None,
        })
        .collect();
    let include = Entry {
        key: "include".into(),
        key_line: 1,
        key_file: file.clone(),
        value: GNode {
            value: GValue::Seq(items),
            line: 1,
            file: file.clone(),
            tag: None,
        },
    };
    Some(GNode::map(vec![include], &file, 1))
}

fn build_pipeline(
    path: &str,
    tree: GNode,
    files: &FileSet,
    source: Option<&dyn IncludeSource>,
    reusable: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Pipeline, Vec<ChildRef>) {
    let mut pipeline = Pipeline {
        id: path.to_string(),
        system: CiSystem::GitlabCi,
        name: None,
        file: path.to_string(),
        triggers: Vec::new(),
        stages: Vec::new(),
        jobs: Vec::new(),
        includes: Vec::new(),
        reusable,
        location: Location::new(path, 1),
    };
    if !tree.is_map() && !tree.is_null() {
        diagnostics.push(Diagnostic::warning(
            "gitlab-shape",
            "a GitLab CI file should be a mapping of keywords and jobs",
            Some(Location::new(path, tree.line)),
        ));
    }
    let mut resolver = include::IncludeResolver::new(files, path).with_source(source);
    let mut stack = vec![path.to_string()];
    let mut config = resolver.expand(tree, &mut stack, diagnostics);
    pipeline.includes = resolver.includes;
    expand::resolve_extends(&mut config, diagnostics);
    let config = expand::resolve_references(&config, diagnostics);
    let defaults = expand::default_entries(&config);

    pipeline.stages = read_stages(&config, diagnostics);
    pipeline.name = config
        .get("workflow")
        .and_then(|w| w.get("name"))
        .and_then(GNode::scalar_text);

    let mut children = Vec::new();
    for entry in config.as_map().unwrap_or_default() {
        if RESERVED_KEYS.contains(&entry.key.as_str()) || entry.key.starts_with('.') {
            continue;
        }
        if !entry.value.is_map() {
            diagnostics.push(Diagnostic::warning(
                "gitlab-shape",
                format!(
                    "`{}` is neither a keyword nor a job (a job is a mapping)",
                    entry.key
                ),
                Some(Location::new(entry.key_file.to_string(), entry.key_line)),
            ));
            continue;
        }
        let mut entry = entry.clone();
        expand::apply_defaults(&mut entry.value, &defaults);
        let built = job::build_job(&entry, files, diagnostics);
        if let Some(stage) = built.job.stage.as_deref() {
            // A stage from `$[[ inputs.stage ]]` is named by whoever includes the file.
            if !pipeline.stages.iter().any(|s| s == stage) && !tree::is_interpolated(stage) {
                diagnostics.push(Diagnostic::warning(
                    "stage-undefined",
                    format!(
                        "`{}` uses stage `{stage}`, which `stages:` does not list",
                        entry.key
                    ),
                    Some(built.job.location.clone()),
                ));
            }
        }
        if !built.child_files.is_empty() {
            children.push(ChildRef {
                files: built.child_files,
                parent_file: path.to_string(),
                job: entry.key.clone(),
                location: built.job.location.clone(),
            });
        }
        pipeline.jobs.push(built.job);
    }

    pipeline.triggers = pipeline_triggers(path, &config, reusable);
    (pipeline, children)
}

/// The effective stage order: `.pre`, the declared (or default) stages, `.post`.
fn read_stages(config: &GNode, diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
    let declared = config.get("stages").or_else(|| config.get("types"));
    let listed: Vec<String> = match declared {
        Some(node) => match &node.value {
            GValue::Seq(_) => node.string_list(),
            GValue::Null => Vec::new(),
            _ => {
                diagnostics.push(Diagnostic::warning(
                    "gitlab-shape",
                    "`stages` should be a list of stage names; using the default stages",
                    Some(Location::new(node.file.to_string(), node.line)),
                ));
                DEFAULT_STAGES.iter().map(|s| s.to_string()).collect()
            }
        },
        None => DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
    };
    let mut stages = vec![".pre".to_string()];
    for stage in listed {
        if stage != ".pre" && stage != ".post" && !stages.contains(&stage) {
            stages.push(stage);
        }
    }
    stages.push(".post".into());
    stages
}

/// Triggers of a pipeline: `workflow: rules` (or GitLab's default, every push),
/// plus sources that job `rules:`/`only:` single out.
fn pipeline_triggers(path: &str, config: &GNode, reusable: bool) -> Vec<Trigger> {
    let mut out = Vec::new();
    match config.get("workflow").and_then(|w| w.get("rules")) {
        Some(rules) => triggers::merge_into(&mut out, triggers::from_rules(rules, true)),
        // A child pipeline runs when its parent triggers it, not on push.
        None if reusable => {}
        None => out.push(Trigger {
            kind: TriggerKind::Push,
            branches: Vec::new(),
            paths: Vec::new(),
            detail: vec!["default: every push".into()],
            location: Location::new(path, 1),
        }),
    }
    for entry in config.as_map().unwrap_or_default() {
        if RESERVED_KEYS.contains(&entry.key.as_str()) || entry.key.starts_with('.') {
            continue;
        }
        if let Some(rules) = entry.value.get("rules") {
            triggers::merge_into(&mut out, triggers::from_rules(rules, false));
        }
        if let Some(only) = entry.value.get("only") {
            triggers::merge_into(&mut out, triggers::from_only(only));
        }
    }
    out
}

#[cfg(test)]
mod tests;
