//! One GitLab job (after includes, `extends`, `!reference` and `default:` are
//! applied) into the normalised [`Job`].

use std::collections::BTreeMap;

use crate::evidence::{Diagnostic, FileSet, Location};
use crate::pipeline::{EnvironmentRef, ExternalRef, Job, Matrix, Step};

use super::include::{include_specs, local_paths};
use super::tree::{Entry, GNode, GValue, is_interpolated};

/// A job plus the local child-pipeline files its `trigger:` names.
pub(crate) struct BuiltJob {
    pub job: Job,
    pub child_files: Vec<String>,
}

fn at(node: &GNode) -> Location {
    Location::new(node.file.to_string(), node.line)
}

fn shape(diagnostics: &mut Vec<Diagnostic>, node: &GNode, message: String) {
    diagnostics.push(Diagnostic::warning("gitlab-shape", message, Some(at(node))));
}

pub(crate) fn build_job(
    entry: &Entry,
    files: &FileSet,
    diagnostics: &mut Vec<Diagnostic>,
) -> BuiltJob {
    let name = entry.key.as_str();
    let node = &entry.value;
    let location = Location::new(entry.key_file.to_string(), entry.key_line);
    let mut job = Job {
        stage: Some("test".into()),
        ..Job::new(name, location)
    };
    if let Some(stage) = node.get("stage") {
        match stage.scalar_text() {
            Some(s) => job.stage = Some(s),
            None if stage.is_null() => {}
            None => shape(
                diagnostics,
                stage,
                format!("`{name}`: `stage` should be a name"),
            ),
        }
    }
    if let Some(needs) = node.get("needs") {
        job.needs = Some(read_needs(name, needs, &mut job.conditions, diagnostics));
    }
    for section in ["before_script", "script", "after_script"] {
        if let Some(script) = node.get(section) {
            read_script(
                name,
                section,
                script,
                &entry.key_file,
                &mut job.steps,
                diagnostics,
            );
        }
    }
    if let Some(env) = node.entry("environment") {
        job.environment = read_environment(env);
    }
    read_when_and_rules(name, node, &mut job, diagnostics);
    // Kept as written: GitLab treats a manual job (`when: manual` outside rules)
    // as allow_failure: true by default, but detectors need to tell "a person
    // must approve this" (manual) from "its failure is tolerated" (may_fail), and
    // a manual deploy gate that blocks the pipeline is written `allow_failure: false`.
    if let Some(allow) = node.get("allow_failure") {
        job.may_fail = match &allow.value {
            GValue::Bool(b) => *b,
            GValue::Map(_) => allow.get("exit_codes").is_some(),
            GValue::Str(s) if is_interpolated(s) => false,
            _ => {
                shape(
                    diagnostics,
                    allow,
                    format!(
                        "`{name}`: `allow_failure` should be true, false or {{exit_codes: ...}}"
                    ),
                );
                false
            }
        };
    }
    if let Some(parallel) = node.get("parallel") {
        job.matrix = read_parallel(name, parallel, diagnostics);
    }
    if let Some(tags) = node.get("tags") {
        job.runs_on = tags.string_list();
    }
    if let Some(image) = node.get("image") {
        job.image = image
            .scalar_text()
            .or_else(|| image.get("name").and_then(GNode::scalar_text));
    }
    if let Some(services) = node.get("services") {
        let items: Vec<&GNode> = match services.as_seq() {
            Some(items) => items.iter().collect(),
            None => vec![services],
        };
        job.services = items
            .into_iter()
            .filter_map(|s| {
                s.scalar_text()
                    .or_else(|| s.get("name").and_then(GNode::scalar_text))
            })
            .collect();
    }
    let mut child_files = Vec::new();
    if let Some(trigger) = node.get("trigger") {
        job.triggers = read_trigger(name, trigger, files, &mut child_files, diagnostics);
    }
    if let Some(artifacts) = node.get("artifacts") {
        if let Some(reports) = artifacts.get("reports").and_then(GNode::as_map) {
            job.artifact_reports = reports.iter().map(|e| e.key.clone()).collect();
        }
        if let Some(paths) = artifacts.get("paths") {
            job.artifact_paths = paths.string_list();
        }
    }
    if let Some(cache) = node.get("cache") {
        job.cache = match &cache.value {
            GValue::Null => false,
            GValue::Seq(items) => !items.is_empty(),
            GValue::Map(entries) => !entries.is_empty(),
            _ => true,
        };
    }
    BuiltJob { job, child_files }
}

fn read_needs(
    name: &str,
    needs: &GNode,
    conditions: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let items: Vec<&GNode> = match &needs.value {
        GValue::Seq(items) => items.iter().collect(),
        GValue::Null => Vec::new(),
        GValue::Str(_) => vec![needs],
        _ => {
            shape(
                diagnostics,
                needs,
                format!("`{name}`: `needs` should be a list"),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(job) = item.as_str() {
            out.push(job.to_string());
            continue;
        }
        let job = item.get("job").and_then(GNode::scalar_text);
        // Cross-pipeline needs download artifacts from another pipeline; they add
        // no edge inside this pipeline, so keep them as a condition.
        if let Some(pipeline) = item.get("pipeline").and_then(GNode::scalar_text) {
            conditions.push(format!(
                "needs: pipeline {pipeline} job {}",
                job.as_deref().unwrap_or("?")
            ));
            continue;
        }
        if let Some(project) = item.get("project").and_then(GNode::scalar_text) {
            conditions.push(format!(
                "needs: project {project} job {}",
                job.as_deref().unwrap_or("?")
            ));
            continue;
        }
        match job {
            Some(job) => out.push(job),
            None => shape(
                diagnostics,
                item,
                format!("`{name}`: a `needs` entry should name a job"),
            ),
        }
    }
    out
}

fn read_script(
    name: &str,
    section: &str,
    script: &GNode,
    job_file: &str,
    steps: &mut Vec<Step>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut lines = Vec::new();
    match &script.value {
        GValue::Str(_) => lines.push(script),
        GValue::Seq(_) => lines = script.flattened(),
        GValue::Null => {}
        _ => shape(
            diagnostics,
            script,
            format!("`{name}`: `{section}` should be a string or a list of strings"),
        ),
    }
    for line in lines {
        let Some(text) = line.scalar_text() else {
            if !line.is_null() {
                shape(
                    diagnostics,
                    line,
                    format!("`{name}`: a `{section}` entry should be a string"),
                );
            }
            continue;
        };
        let via = (*line.file != *job_file).then(|| line.file.to_string());
        steps.push(Step {
            name: Some(section.to_string()),
            run: Some(text),
            uses: None,
            with: BTreeMap::new(),
            condition: None,
            may_fail: false,
            via,
            location: at(line),
        });
    }
}

fn read_environment(entry: &Entry) -> Option<EnvironmentRef> {
    let env = &entry.value;
    let text = |key: &str| env.get(key).and_then(GNode::scalar_text);
    let name = env.scalar_text().or_else(|| text("name"))?;
    Some(EnvironmentRef {
        dynamic: name.contains('$'),
        name,
        url: text("url"),
        action: text("action"),
        tier: text("deployment_tier"),
        location: Location::new(entry.key_file.to_string(), entry.key_line),
    })
}

fn describe_rule(rule: &GNode) -> String {
    let mut parts = Vec::new();
    if let Some(expr) = rule.get("if").and_then(GNode::scalar_text) {
        parts.push(expr);
    }
    if let Some(changes) = rule.get("changes") {
        let paths = changes
            .get("paths")
            .map_or_else(|| changes.string_list(), GNode::string_list);
        parts.push(format!("changes: {}", paths.join(", ")));
    }
    if let Some(exists) = rule.get("exists") {
        let paths = exists
            .get("paths")
            .map_or_else(|| exists.string_list(), GNode::string_list);
        parts.push(format!("exists: {}", paths.join(", ")));
    }
    let mut text = if parts.is_empty() {
        "always".to_string()
    } else {
        parts.join(" && ")
    };
    if let Some(when) = rule
        .get("when")
        .and_then(GNode::as_str)
        .filter(|w| *w != "on_success")
    {
        text.push_str(&format!(" (when: {when})"));
    }
    text
}

fn describe_only(keyword: &str, spec: &GNode) -> Vec<String> {
    match &spec.value {
        GValue::Map(entries) => entries
            .iter()
            .map(|e| {
                let values = match e.value.get("paths") {
                    Some(p) => p.string_list(),
                    None => e.value.string_list(),
                };
                format!("{keyword} {}: {}", e.key, values.join(", "))
            })
            .collect(),
        _ => vec![format!("{keyword}: {}", spec.string_list().join(", "))],
    }
}

fn read_when_and_rules(name: &str, node: &GNode, job: &mut Job, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(rules) = node.get("rules") {
        match rules.as_seq().map(|_| rules.flattened()) {
            Some(list) => {
                for rule in &list {
                    if !rule.is_map() {
                        shape(
                            diagnostics,
                            rule,
                            format!("`{name}`: a rule should be a mapping"),
                        );
                        continue;
                    }
                    job.conditions.push(describe_rule(rule));
                    if rule.get("when").and_then(GNode::as_str) == Some("manual") {
                        job.manual = true;
                    }
                }
                let never = |r: &GNode| r.get("when").and_then(GNode::as_str) == Some("never");
                if !list.is_empty() && list.iter().all(|r| never(r)) {
                    job.disabled = true;
                }
            }
            None if rules.is_null() => {}
            None => shape(
                diagnostics,
                rules,
                format!("`{name}`: `rules` should be a list"),
            ),
        }
    }
    for keyword in ["only", "except"] {
        if let Some(spec) = node.get(keyword) {
            job.conditions.extend(describe_only(keyword, spec));
        }
    }
    if let Some(when) = node.get("when").and_then(GNode::as_str) {
        match when {
            "manual" => job.manual = true,
            "never" => job.disabled = true,
            "delayed" => {
                let start = node
                    .get("start_in")
                    .and_then(GNode::scalar_text)
                    .unwrap_or_default();
                job.conditions
                    .push(format!("when: delayed (start_in: {start})"));
            }
            "on_success" => {}
            other => job.conditions.push(format!("when: {other}")),
        }
    }
}

fn read_parallel(
    name: &str,
    parallel: &GNode,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Matrix> {
    let mut dimensions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match &parallel.value {
        GValue::Int(n) => {
            dimensions.insert("*".into(), vec![n.to_string()]);
        }
        GValue::Map(_) => {
            let Some(rows) = parallel.get("matrix").and_then(GNode::as_seq) else {
                shape(
                    diagnostics,
                    parallel,
                    format!("`{name}`: `parallel` should be a number or `matrix:` list"),
                );
                return None;
            };
            for row in rows {
                for e in row.as_map().unwrap_or_default() {
                    let values = dimensions.entry(e.key.clone()).or_default();
                    for v in e.value.string_list() {
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    }
                }
            }
        }
        _ => {
            // `parallel: $N` and similar: keep the expression as the one dimension.
            let text = parallel.scalar_text()?;
            dimensions.insert("*".into(), vec![text]);
        }
    }
    Some(Matrix { dimensions })
}

fn read_trigger(
    name: &str,
    trigger: &GNode,
    files: &FileSet,
    child_files: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ExternalRef> {
    if let Some(project) = trigger.as_str() {
        return Some(ExternalRef {
            target: project.to_string(),
            local: false,
            resolved: false,
            path: None,
        });
    }
    if let Some(project) = trigger.get("project").and_then(GNode::scalar_text) {
        let branch = trigger
            .get("branch")
            .and_then(GNode::scalar_text)
            .map(|b| format!(" branch: {b}"))
            .unwrap_or_default();
        return Some(ExternalRef {
            target: format!("project: {project}{branch}"),
            local: false,
            resolved: false,
            path: None,
        });
    }
    let Some(include) = trigger.get("include") else {
        shape(
            diagnostics,
            trigger,
            format!("`{name}`: `trigger` should name a project or `include:` a child pipeline"),
        );
        return None;
    };
    let specs = include_specs(include, diagnostics);
    let mut first: Option<ExternalRef> = None;
    for spec in &specs {
        if spec.kind != "local" {
            first.get_or_insert_with(|| ExternalRef {
                target: spec.target.clone(),
                local: false,
                resolved: false,
                path: None,
            });
            continue;
        }
        let paths = local_paths(&spec.target, files);
        let found: Vec<String> = paths
            .into_iter()
            .filter(|p| files.text(p).is_some())
            .collect();
        if found.is_empty() {
            diagnostics.push(Diagnostic::warning(
                "include-missing",
                format!(
                    "`{name}` triggers child pipeline `{}`, which is not in the repository",
                    spec.target
                ),
                Some(spec.location()),
            ));
        }
        let resolved = !found.is_empty();
        first.get_or_insert_with(|| ExternalRef {
            target: spec.target.clone(),
            local: true,
            resolved,
            path: Some(
                found
                    .first()
                    .cloned()
                    .unwrap_or_else(|| spec.target.trim().trim_start_matches('/').to_string()),
            ),
        });
        child_files.extend(found);
    }
    first
}
