//! GitHub Actions workflows (`.github/workflows/*.yml`) into the normalised model.
//!
//! Every workflow is read twice over the same located YAML tree:
//! - the typed models of `github-actions-models` check that the file is a
//!   workflow GitHub would accept; when they refuse it we say why (a warning) but
//!   carry on, because a half-valid file still tells us about the repository;
//! - the [`Node`] tree gives the normalised [`Pipeline`] with file:line for every
//!   trigger, job and step. Extraction never depends on the typed parse, so valid
//!   and invalid files go through one code path.
//!
//! Local composite actions are expanded in place, right after the step that
//! uses them (nested ones too, to a bounded depth); local reusable workflows are
//! pipelines of their own, linked through `Job::calls` in the job graph.

mod actions;
mod jobs;
mod triggers;

#[cfg(test)]
mod tests;

use github_actions_models::workflow::{self, job as typed_job};
use serde::de::DeserializeOwned;

use crate::evidence::{Diagnostic, FileSet, Location};

use super::yaml::{self, Node};
use super::{CiSystem, Pipeline};

use actions::Resolver;

/// The one directory GitHub reads workflows from (never its subdirectories).
const WORKFLOW_DIR: &str = ".github/workflows";

/// Parse every workflow under `.github/workflows/`, resolving local reusable
/// workflows and local composite actions.
pub fn parse_workflows(files: &FileSet, diagnostics: &mut Vec<Diagnostic>) -> Vec<Pipeline> {
    let first_new = diagnostics.len();
    let mut resolver = Resolver::new(files);
    let mut pipelines = Vec::new();
    for file in files.under(WORKFLOW_DIR) {
        if !is_workflow_path(&file.path) {
            continue;
        }
        let Some(text) = file.content.as_deref() else {
            // The connector reports why it skipped the content; say what it costs here.
            diagnostics.push(Diagnostic::info(
                "workflow-unread",
                "workflow file content was not read; its jobs are unknown",
                Some(Location::file(&file.path)),
            ));
            continue;
        };
        if let Some(pipeline) = parse_workflow(&mut resolver, &file.path, text, diagnostics) {
            pipelines.push(pipeline);
        }
    }
    // A composite action used by many steps would otherwise repeat its problems.
    dedup_tail(diagnostics, first_new);
    pipelines
}

/// `.github/workflows/<name>.yml|yaml`, directly in the directory.
fn is_workflow_path(path: &str) -> bool {
    let Some(name) = path
        .strip_prefix(WORKFLOW_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return false;
    };
    !name.contains('/') && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

fn parse_workflow(
    resolver: &mut Resolver<'_>,
    path: &str,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Pipeline> {
    let root = match parse_yaml(text) {
        Ok((root, relaxed)) => {
            if let Some(line) = relaxed {
                diagnostics.push(Diagnostic::info(
                    "yaml-flow-indentation",
                    "a flow collection (`[…]`/`{…}`) continues at or left of its key's indentation; strict YAML refuses this, GitHub accepts it, and so do we",
                    Some(Location::new(path, line)),
                ));
            }
            root
        }
        Err(e) => {
            diagnostics.push(Diagnostic::error(
                "yaml-syntax",
                format!("workflow is not valid YAML: {}", e.message),
                Some(Location::with_column(path, e.line.max(1), e.column)),
            ));
            return None;
        }
    };
    if root.as_map().is_none() {
        diagnostics.push(Diagnostic::warning(
            "workflow-invalid",
            "workflow is not a YAML mapping; GitHub will not run it",
            Some(Location::new(path, root.line.max(1))),
        ));
        return None;
    }
    if let Some((message, at)) = typed_problem(&root) {
        let line = at.map_or(1, |n| n.line.max(1));
        diagnostics.push(Diagnostic::warning(
            "workflow-invalid",
            format!("GitHub would reject this workflow ({message}); reading what we can"),
            Some(Location::new(path, line)),
        ));
    }

    resolver.start_workflow();
    let (triggers, events) = triggers::parse_on(path, &root);
    // A workflow only reachable from other workflows: `workflow_call` alone.
    let reusable = !events.is_empty() && events.iter().all(|e| e == "workflow_call");
    let jobs = jobs::parse_jobs(resolver, path, &root, diagnostics);
    Some(Pipeline {
        id: path.to_string(),
        system: CiSystem::GithubActions,
        name: root.get("name").and_then(Node::scalar_text),
        file: path.to_string(),
        triggers,
        stages: Vec::new(),
        jobs,
        includes: Vec::new(),
        reusable,
        location: Location::new(path, 1),
    })
}

/// Most lines re-indented by [`parse_yaml`] before giving up.
const MAX_FLOW_FIXES: usize = 32;

/// [`yaml::parse`], tolerating one common looseness GitHub accepts: lines of a
/// multi-line flow collection (typically its closing `]`) indented no deeper
/// than the key that opens it, e.g.
///
/// ```yaml
///       matrix:
///         python: [
///           "3.11",
///         ]
/// ```
///
/// Strict YAML (and yaml-rust2) refuses this with "invalid indentation". We
/// indent only such lines (inside a flow collection, so the meaning cannot
/// change) and parse again; line numbers stay the same. Returns the first line
/// that was relaxed, if any.
fn parse_yaml(text: &str) -> Result<(Node, Option<u32>), yaml::YamlError> {
    let first_error = match yaml::parse(text) {
        Ok(root) => return Ok((root, None)),
        Err(e) => e,
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut error = first_error.clone();
    let mut first_fixed = None;
    for _ in 0..MAX_FLOW_FIXES {
        if error.message != "invalid indentation" {
            break;
        }
        let Some(fixed) = reindent_flow_line(&mut lines, error.line) else {
            break;
        };
        first_fixed.get_or_insert(fixed);
        match yaml::parse(&lines.join("\n")) {
            Ok(root) => return Ok((root, first_fixed)),
            Err(e) => error = e,
        }
    }
    Err(first_error)
}

/// Indent line `line` (1-based) past the line before it when it is inside a
/// flow collection: it starts with a closing bracket, or the previous
/// non-blank line ends with an opening bracket or a comma.
fn reindent_flow_line(lines: &mut [String], line: u32) -> Option<u32> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let indent = |s: &str| s.len() - s.trim_start_matches(' ').len();
    let previous = lines
        .get(..index)?
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())?;
    let previous_indent = indent(previous);
    let in_flow = previous.trim_end().ends_with(['[', '{', ',']);
    let current = lines.get_mut(index)?;
    let current_indent = indent(current);
    let closes = current.trim_start().starts_with([']', '}']);
    if !(in_flow || closes) {
        return None;
    }
    let wanted = (previous_indent + 2).max(current_indent + 1);
    current.insert_str(0, &" ".repeat(wanted - current_indent));
    Some(line)
}

/// Why the typed models refuse the workflow, and the node to point at.
///
/// The typed job and step types are untagged enums whose error is only "did not
/// match any variant", so on failure we retry the parts one by one with the
/// variant the keys select, to name the job or step and the real cause.
fn typed_problem(root: &Node) -> Option<(String, Option<&Node>)> {
    let whole = typed::<workflow::Workflow>(root).err()?;
    if let Some((key, on)) = root.entry("on") {
        if let Err(e) = typed::<workflow::Trigger>(on) {
            return Some((format!("`on`: {e}"), Some(key)));
        }
    }
    for (key, job) in root.get("jobs").and_then(Node::as_map).unwrap_or_default() {
        let id = key.scalar_text().unwrap_or_default();
        let result = if job.get("uses").is_some() {
            typed::<typed_job::ReusableWorkflowCallJob>(job).map(drop)
        } else {
            typed::<typed_job::NormalJob>(job).map(drop)
        };
        let Err(job_error) = result else {
            continue;
        };
        for step in job.get("steps").and_then(Node::as_seq).unwrap_or_default() {
            let step_result = if step.get("uses").is_some() {
                typed::<typed_job::UsesStep>(step).map(drop)
            } else if step.get("run").is_some() {
                typed::<typed_job::RunStep>(step).map(drop)
            } else {
                typed::<typed_job::Step>(step).map(drop)
            };
            if let Err(e) = step_result {
                return Some((format!("job `{id}`, step: {e}"), Some(step)));
            }
        }
        return Some((format!("job `{id}`: {job_error}"), Some(key)));
    }
    Some((whole.to_string(), None))
}

fn typed<T: DeserializeOwned>(node: &Node) -> Result<T, serde_json::Error> {
    serde_json::from_value(node.to_json())
}

/// Remove exact repeats among the diagnostics pushed since `start`.
fn dedup_tail(diagnostics: &mut Vec<Diagnostic>, start: usize) {
    if start >= diagnostics.len() {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    let tail = diagnostics.split_off(start);
    // Display covers severity, code, location and message.
    diagnostics.extend(tail.into_iter().filter(|d| seen.insert(d.to_string())));
}

/// A node's position in a file.
fn location(path: &str, node: &Node) -> Location {
    Location::with_column(path, node.line, node.column)
}

/// A value as text: scalars as written, null as empty, collections as compact JSON.
fn stringify(node: &Node) -> String {
    match node.scalar_text() {
        Some(text) => text,
        None if node.is_null() => String::new(),
        None => node.to_json().to_string(),
    }
}

/// The inside of a `${{ … }}` wrapper, when the whole text is one.
fn unwrap_expression(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("${{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .map_or(t, str::trim)
}

/// A literal boolean (`true`, `'true'`, `${{ true }}`, `1`) as GitHub reads it;
/// `None` for anything computed at run time.
fn literal_bool(node: &Node) -> Option<bool> {
    use yaml::Value;
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Int(i) => Some(*i != 0),
        Value::Float(f) => Some(*f != 0.0 && !f.is_nan()),
        Value::Str(s) => match unwrap_expression(s) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}
