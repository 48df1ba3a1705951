//! `jobs:` and their steps, with local composite actions expanded in place.

use std::collections::BTreeMap;

use crate::evidence::{Diagnostic, Location};
use crate::pipeline::yaml::{Node, Value};
use crate::pipeline::{EnvironmentRef, ExternalRef, Job, Matrix, Step};

use super::actions::{ActionKind, MAX_COMPOSITE_DEPTH, Resolver};
use super::{literal_bool, location, stringify};

pub(super) fn parse_jobs(
    resolver: &mut Resolver<'_>,
    path: &str,
    root: &Node,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Job> {
    let Some(entries) = root.get("jobs").and_then(Node::as_map) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(key, body)| {
            let id = key.scalar_text()?;
            Some(parse_job(resolver, path, id, key, body, diagnostics))
        })
        .collect()
}

fn parse_job(
    resolver: &mut Resolver<'_>,
    path: &str,
    id: String,
    key: &Node,
    body: &Node,
    diagnostics: &mut Vec<Diagnostic>,
) -> Job {
    let get = |k: &str| body.get(k);
    let condition = get("if");
    let mut job = Job {
        name: get("name").and_then(Node::scalar_text),
        // GitHub has no stage order: a job without `needs` starts at once.
        needs: Some(get("needs").map(Node::string_list).unwrap_or_default()),
        environment: get("environment").and_then(|e| environment(path, e)),
        conditions: condition.and_then(Node::scalar_text).into_iter().collect(),
        may_fail: get("continue-on-error").and_then(literal_bool) == Some(true),
        disabled: condition.and_then(literal_bool) == Some(false),
        matrix: get("strategy")
            .and_then(|s| s.get("matrix"))
            .and_then(matrix),
        runs_on: get("runs-on").map(runs_on).unwrap_or_default(),
        image: get("container").and_then(image),
        services: get("services")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, service)| image(service))
            .collect(),
        ..Job::new(id, location(path, key))
    };
    if let Some(uses) = get("uses") {
        let reference = resolver.workflow_ref(&stringify(uses));
        report_unresolved(&reference, job.location.clone(), diagnostics);
        job.calls = Some(reference);
    }
    if let Some(steps) = get("steps") {
        let mut stack = Vec::new();
        expand_steps(
            resolver,
            path,
            None,
            steps,
            &mut stack,
            &mut job.steps,
            diagnostics,
        );
    }
    job.artifact_paths = uploaded_paths(&job.steps);
    job
}

/// Append the steps of a `steps:` list (of a workflow job or a composite action
/// at `via`) to `out`, expanding local composite actions right after the step
/// that uses them. `stack` holds the composites being expanded (cycle guard).
fn expand_steps(
    resolver: &mut Resolver<'_>,
    path: &str,
    via: Option<&str>,
    steps: &Node,
    stack: &mut Vec<String>,
    out: &mut Vec<Step>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Scalar or mapping `steps:` is invalid (reported by the typed check); skip it.
    for item in steps.as_seq().unwrap_or_default() {
        if item.as_map().is_none() {
            continue;
        }
        if via.is_some() && !resolver.take_expansion_budget(path, item, diagnostics) {
            return;
        }
        let step = parse_step(resolver, path, via, item);
        let action = step
            .uses
            .as_ref()
            .filter(|u| u.local)
            .map(|u| (u.path.clone(), u.target.clone()));
        let at = step.location.clone();
        out.push(step);
        let Some((found, target)) = action else {
            continue;
        };
        let Some(action_path) = found else {
            diagnostics.push(Diagnostic::warning(
                "reference-unresolved",
                format!("local action `{target}` has no action.yml/action.yaml in this repository"),
                Some(at),
            ));
            continue;
        };
        let ActionKind::Composite(action_root) = resolver.action_kind(&action_path, diagnostics)
        else {
            continue;
        };
        if stack.contains(&action_path) {
            diagnostics.push(Diagnostic::warning(
                "reference-cycle",
                format!("composite action `{action_path}` uses itself (directly or through others); not expanded again"),
                Some(at),
            ));
            continue;
        }
        if stack.len() >= MAX_COMPOSITE_DEPTH {
            diagnostics.push(Diagnostic::info(
                "composite-depth-limit",
                format!("composite action `{action_path}` nested deeper than {MAX_COMPOSITE_DEPTH} levels; not expanded"),
                Some(at),
            ));
            continue;
        }
        let Some(inner) = action_root.get("runs").and_then(|r| r.get("steps")) else {
            continue;
        };
        stack.push(action_path.clone());
        expand_steps(
            resolver,
            &action_path,
            Some(&action_path),
            inner,
            stack,
            out,
            diagnostics,
        );
        stack.pop();
    }
}

fn parse_step(resolver: &Resolver<'_>, path: &str, via: Option<&str>, item: &Node) -> Step {
    let get = |k: &str| item.get(k);
    Step {
        name: get("name").and_then(Node::scalar_text),
        run: get("run").and_then(Node::scalar_text),
        uses: get("uses").map(|u| resolver.step_ref(&stringify(u))),
        with: get("with")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, v)| Some((k.scalar_text()?, stringify(v))))
            .collect::<BTreeMap<_, _>>(),
        condition: get("if").and_then(Node::scalar_text),
        may_fail: get("continue-on-error").and_then(literal_bool) == Some(true),
        via: via.map(str::to_string),
        location: location(path, item),
    }
}

fn report_unresolved(reference: &ExternalRef, at: Location, diagnostics: &mut Vec<Diagnostic>) {
    if reference.local && !reference.resolved {
        diagnostics.push(Diagnostic::warning(
            "reference-unresolved",
            format!(
                "local reusable workflow `{}` is not in this repository",
                reference.target
            ),
            Some(at),
        ));
    }
}

/// `environment: name` or `environment: {name, url}`.
fn environment(path: &str, node: &Node) -> Option<EnvironmentRef> {
    let (name, url) = match &node.value {
        Value::Map(_) => (
            node.get("name").and_then(Node::scalar_text)?,
            node.get("url").and_then(Node::scalar_text),
        ),
        _ => (node.scalar_text()?, None),
    };
    Some(EnvironmentRef {
        dynamic: name.contains("${{"),
        name,
        url,
        action: None,
        tier: None,
        location: location(path, node),
    })
}

/// `strategy.matrix`: dimension → values. `include` entries add their keys'
/// values (they can add combinations); `exclude` only removes, so it is ignored.
fn matrix(node: &Node) -> Option<Matrix> {
    let mut dimensions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                let Some(name) = key.scalar_text() else {
                    continue;
                };
                match name.as_str() {
                    "exclude" => {}
                    "include" => {
                        for combo in value.as_seq().unwrap_or_default() {
                            for (k, v) in combo.as_map().unwrap_or_default() {
                                let Some(dim) = k.scalar_text() else {
                                    continue;
                                };
                                let values = dimensions.entry(dim).or_default();
                                let text = stringify(v);
                                if !values.contains(&text) {
                                    values.push(text);
                                }
                            }
                        }
                        // `include: ${{ fromJSON(...) }}`: combinations known only at run time.
                        if let Some(expr) = value.as_str() {
                            dimensions.entry("*".into()).or_default().push(expr.into());
                        }
                    }
                    _ => {
                        let values = match value.as_seq() {
                            Some(items) => items.iter().map(stringify).collect(),
                            None => vec![stringify(value)],
                        };
                        let entry = dimensions.entry(name).or_default();
                        for v in values {
                            if !entry.contains(&v) {
                                entry.push(v);
                            }
                        }
                    }
                }
            }
        }
        Value::Null => return None,
        // `matrix: ${{ fromJSON(...) }}`: the whole matrix is computed at run time.
        _ => {
            dimensions.insert("*".into(), vec![stringify(node)]);
        }
    }
    Some(Matrix { dimensions })
}

/// `runs-on`: a label, a list of labels, or `{group, labels}`.
fn runs_on(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Map(_) => {
            let mut out: Vec<String> = node
                .get("group")
                .and_then(Node::scalar_text)
                .into_iter()
                .collect();
            out.extend(
                node.get("labels")
                    .map(Node::string_list)
                    .unwrap_or_default(),
            );
            out
        }
        _ => node.string_list(),
    }
}

/// `container:` / a service: an image name or `{image: …}`.
fn image(node: &Node) -> Option<String> {
    match &node.value {
        Value::Map(_) => node.get("image").and_then(Node::scalar_text),
        _ => node.scalar_text(),
    }
    .filter(|s| !s.trim().is_empty())
}

/// Paths kept by `actions/upload-artifact` steps (one per line of `with.path`).
fn uploaded_paths(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .filter(|s| {
            s.uses
                .as_ref()
                .is_some_and(|u| u.target.starts_with("actions/upload-artifact@"))
        })
        .filter_map(|s| s.with.get("path"))
        .flat_map(|p| p.lines())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}
