//! Azure Pipelines (Azure DevOps YAML) into the normalised model.
//!
//! Azure DevOps reads a pipeline from whatever YAML path a project configures, so
//! files are found by path (`azure-pipelines*.yml` anywhere, `.azure-pipelines/`,
//! `.azuredevops/`, `.pipelines/`) and by shape: keys only Azure uses (`- stage:` items, `- job:` /
//! `- deployment:` items, `- task:`/`- bash:`/`- pwsh:` steps, `trigger: branches:
//! include:`). GitHub workflows, GitLab files and Kubernetes documents are refused
//! by their own keys (`on`, `apiVersion`/`kind`, GitLab's root keywords).
//!
//! Model:
//! - stages run one after the other unless `dependsOn` says otherwise
//!   (`dependsOn: []` starts at once); every job gets explicit `needs`, computed
//!   from job `dependsOn` and from its stage's dependencies (a stage dependency makes
//!   every job of the stage wait for every job of the depended-on stage), so the
//!   generic job graph needs no Azure knowledge;
//! - stage and job `condition:` are kept in `Job::conditions` (stage first), so
//!   `failed()` / `always()` are seen by the gating detectors;
//! - `task: Name@N` steps are `uses` with their `inputs` in `with`; tasks that wrap
//!   a command line (AzureCLI, Bash, PowerShell, CmdLine, Docker, HelmDeploy,
//!   Kubernetes, ARM and Terraform tasks) also get the equivalent shell text in
//!   `run` (see [`tasks`]) so command rules and script reach see them;
//! - `template:` references at stage, job and step level are expanded from local
//!   files (relative to the including file, `/`-rooted from the repository root),
//!   with `${{ parameters.x }}` replaced by scalar arguments or defaults, to a
//!   bounded depth and refusing cycles; `x.yml@repo` templates are recorded as
//!   unresolved includes. Files only ever included are not pipelines of their own;
//!   a template nothing includes is a `reusable` pipeline;
//! - `variables` (and variable templates) are ignored: no detector reads them.
//!
//! Cross-pipeline triggers: `resources: pipelines: - source: X trigger: …` gives an
//! `Upstream` trigger naming `X`. Azure DevOps names pipelines in its UI, not in the
//! YAML, so the job graph links it only to a pipeline whose `name:` (when it is not a
//! run-number format such as `$(Date:yyyyMMdd)$(Rev:r)`), file path, file name or
//! file stem is `X`; otherwise the trigger stays unlinked (never guessed).

mod tasks;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;

use crate::evidence::{Diagnostic, FileSet, Location};

use super::yaml::{self, Node, Value};
use super::{
    CiSystem, EnvironmentRef, ExternalRef, Include, Job, Matrix, Pipeline, Step, Trigger,
    TriggerKind,
};

/// Deepest template nesting we follow (Azure itself allows 100 files; real
/// pipelines use two or three levels).
const MAX_TEMPLATE_DEPTH: usize = 8;

/// Parse every Azure Pipelines file of the repository.
pub fn parse_pipelines(files: &FileSet, diagnostics: &mut Vec<Diagnostic>) -> Vec<Pipeline> {
    let mut candidates: Vec<(String, Node)> = Vec::new();
    for file in files.iter() {
        let path = file.path.as_str();
        if !is_yaml(path) || claimed_by_other_dialect(path) {
            continue;
        }
        let by_path = is_azure_path(path);
        let Some(text) = file.content.as_deref() else {
            if by_path {
                diagnostics.push(Diagnostic::info(
                    "pipeline-unread",
                    "Azure Pipelines file content was not read; its jobs are unknown",
                    Some(Location::file(path)),
                ));
            }
            continue;
        };
        // Cheap text screen before parsing every YAML of the repository.
        if !by_path && !AZURE_MARKERS.iter().any(|m| text.contains(m)) {
            continue;
        }
        let root = match yaml::parse(text) {
            Ok(root) => root,
            Err(e) => {
                // Only a file we know to be a pipeline deserves a syntax error.
                if by_path {
                    diagnostics.push(Diagnostic::error(
                        "yaml-syntax",
                        format!("Azure Pipelines file is not valid YAML: {}", e.message),
                        Some(Location::with_column(path, e.line.max(1), e.column)),
                    ));
                }
                continue;
            }
        };
        if looks_like_azure(&root, by_path) {
            candidates.push((path.to_string(), root));
        }
    }

    // A file another pipeline includes as a template is part of that pipeline.
    let mut included: BTreeSet<String> = BTreeSet::new();
    for (path, root) in &candidates {
        collect_template_refs(root, path, &mut included, 0);
    }

    let mut pipelines = Vec::new();
    let mut cache = TemplateCache::default();
    for (path, root) in &candidates {
        let has_run_keys = ["trigger", "pr", "schedules", "resources"]
            .iter()
            .any(|k| root.get(k).is_some());
        if included.contains(path) && !has_run_keys {
            continue;
        }
        let mut builder = Builder {
            files,
            diagnostics,
            cache: &mut cache,
            includes: Vec::new(),
            containers: HashMap::new(),
        };
        pipelines.push(builder.pipeline(path, root, has_run_keys));
    }
    pipelines
}

/// Strings at least one of which an Azure pipeline not found by path contains.
const AZURE_MARKERS: &[&str] = &[
    "- stage:",
    "- job:",
    "- deployment:",
    "- task:",
    "- script:",
    "- bash:",
    "- pwsh:",
    "- powershell:",
    "- template:",
    "include:",
];

fn is_yaml(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yml") || lower.ends_with(".yaml")
}

/// Paths other dialects own (or that are never pipelines).
fn claimed_by_other_dialect(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.starts_with(".github/")
        || name == ".gitlab-ci.yml"
        || name.ends_with(".gitlab-ci.yml")
        || path.starts_with(".gitlab/")
        || path.contains("node_modules/")
}

/// Where Azure DevOps pipelines conventionally live.
fn is_azure_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.starts_with("azure-pipelines")
        || path.starts_with(".azure-pipelines/")
        || path.contains("/.azure-pipelines/")
        || path.starts_with(".azuredevops/")
        || path.starts_with(".pipelines/")
        || path.contains("/.pipelines/")
}

/// Root keys that belong to other YAML dialects (GitHub, GitLab, Kubernetes,
/// compose, Cloud Build…): a root holding one is not an Azure pipeline.
const FOREIGN_ROOT_KEYS: &[&str] = &[
    "on",
    "apiVersion",
    "kind",
    "image",
    "before_script",
    "after_script",
    "workflow",
    "include",
    "default",
    "services",
    "version",
    "options",
    "substitutions",
];

fn looks_like_azure(root: &Node, by_path: bool) -> bool {
    let Some(entries) = root.as_map() else {
        return false;
    };
    if entries
        .iter()
        .any(|(k, _)| k.as_str().is_some_and(|k| FOREIGN_ROOT_KEYS.contains(&k)))
    {
        return false;
    }
    let has_body = ["stages", "jobs", "steps", "extends"]
        .iter()
        .any(|k| root.get(k).is_some());
    if by_path {
        return has_body;
    }
    let seq_has = |key: &str, item_keys: &[&str]| {
        root.get(key).and_then(Node::as_seq).is_some_and(|items| {
            items
                .iter()
                .any(|i| item_keys.iter().any(|k| i.get(k).is_some()))
        })
    };
    let stages = seq_has("stages", &["stage"]);
    let jobs = seq_has("jobs", &["job", "deployment"]);
    let steps = seq_has(
        "steps",
        &["task", "bash", "pwsh", "powershell", "checkout", "script"],
    ) && !root
        .get("steps")
        .and_then(Node::as_seq)
        .is_some_and(|items| {
            // Cloud Build / Drone / Tekton steps name an image.
            items.iter().any(|i| {
                ["image", "args", "entrypoint", "commands", "waitFor"]
                    .iter()
                    .any(|k| i.get(k).is_some())
            })
        });
    let templated_body = ["stages", "jobs", "steps"].iter().any(|k| {
        root.get(k)
            .and_then(Node::as_seq)
            .is_some_and(|items| items.iter().any(|i| i.get("template").is_some()))
    });
    let branch_filter = ["trigger", "pr"].iter().any(|k| {
        root.get(k)
            .and_then(|t| t.get("branches"))
            .is_some_and(|b| b.get("include").is_some() || b.get("exclude").is_some())
    });
    let extends = root
        .get("extends")
        .and_then(|e| e.get("template"))
        .is_some();
    stages || jobs || steps || extends || (templated_body && branch_filter)
}

/// Every local template a file refers to (transitively through the files it
/// includes), as repository paths.
fn collect_template_refs(node: &Node, file: &str, out: &mut BTreeSet<String>, depth: usize) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                if k.as_str() == Some("variables") {
                    continue;
                }
                if k.as_str() == Some("template") {
                    if let Some(target) = v.as_str().and_then(|t| resolve_path(t, file).ok()) {
                        out.insert(target);
                    }
                }
                collect_template_refs(v, file, out, depth + 1);
            }
        }
        Value::Seq(items) if depth < 64 => {
            for item in items {
                collect_template_refs(item, file, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// A template reference as a repository path, or why it is not one.
fn resolve_path(target: &str, from_file: &str) -> Result<String, String> {
    let target = target.trim();
    if target.contains('@') {
        return Err("template in another repository (`@repo`); not in this checkout".into());
    }
    if target.contains("${{") || target.contains("$(") {
        return Err("template path is computed at run time".into());
    }
    let joined = if let Some(rooted) = target.strip_prefix('/') {
        rooted.to_string()
    } else {
        match from_file.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{target}"),
            None => target.to_string(),
        }
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("template path leaves the repository".into());
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

#[derive(Default)]
struct TemplateCache {
    parsed: HashMap<String, Option<Node>>,
}

/// A stage before dependencies are turned into job needs.
struct RawStage {
    name: String,
    depends_on: Option<Vec<String>>,
    condition: Option<String>,
    jobs: Vec<RawJob>,
}

struct RawJob {
    job: Job,
    depends_on: Option<Vec<String>>,
}

/// Parameters of the template being expanded (name → scalar text).
type Params = HashMap<String, String>;

struct Builder<'a> {
    files: &'a FileSet,
    diagnostics: &'a mut Vec<Diagnostic>,
    cache: &'a mut TemplateCache,
    includes: Vec<Include>,
    /// `resources: containers:` alias → image.
    containers: HashMap<String, String>,
}

impl Builder<'_> {
    fn pipeline(&mut self, path: &str, root: &Node, has_run_keys: bool) -> Pipeline {
        let params = template_params(root, None);
        let root = substitute(root, &params);
        self.read_resources(path, &root);
        let mut triggers = parse_triggers(path, &root);
        let is_template_only = !has_run_keys && root.get("parameters").is_some();
        if root.get("trigger").is_none() && !is_template_only {
            // No `trigger:` key: Azure runs the pipeline on every push to every branch.
            triggers.insert(
                0,
                Trigger {
                    kind: TriggerKind::Push,
                    branches: Vec::new(),
                    paths: Vec::new(),
                    detail: vec!["default (no trigger key)".into()],
                    location: Location::new(path, 1),
                },
            );
        }

        let mut stack = vec![path.to_string()];
        let body = self.resolve_extends(path, &root, &mut stack);
        if let Some((file, _)) = &body {
            // Templates the extended file includes must not include it back.
            stack.push(file.clone());
        }
        let (body_file, body_node) = match &body {
            Some((file, node)) => (file.as_str(), node),
            None => (path, &root),
        };
        let stages = self.body_stages(body_file, body_node, &mut stack);
        let (stage_names, jobs) = link_stages(stages);

        Pipeline {
            id: path.to_string(),
            system: CiSystem::AzurePipelines,
            name: Some(pipeline_name(path, &root)),
            file: path.to_string(),
            triggers,
            stages: stage_names,
            jobs,
            includes: std::mem::take(&mut self.includes),
            reusable: is_template_only,
            location: Location::new(path, root.line.max(1)),
        }
    }

    fn read_resources(&mut self, path: &str, root: &Node) {
        let Some(resources) = root.get("resources") else {
            return;
        };
        for c in resources
            .get("containers")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
        {
            if let (Some(alias), Some(image)) = (
                c.get("container").and_then(Node::scalar_text),
                c.get("image").and_then(Node::scalar_text),
            ) {
                self.containers.insert(alias, image);
            }
        }
        for r in resources
            .get("repositories")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
        {
            let alias = r
                .get("repository")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            let name = r
                .get("name")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            let kind = r
                .get("type")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            self.includes.push(Include {
                kind: "repository".into(),
                target: ExternalRef {
                    target: format!("{alias}: {kind} {name}").trim().to_string(),
                    local: false,
                    resolved: false,
                    path: None,
                },
                unresolved_reason: Some(
                    "repository resource: its files are not in this checkout".into(),
                ),
                location: Location::new(path, r.line.max(1)),
            });
        }
    }

    /// `extends: template: x.yml`: the pipeline's body is that template's.
    fn resolve_extends(
        &mut self,
        path: &str,
        root: &Node,
        stack: &mut [String],
    ) -> Option<(String, Node)> {
        let ext = root.get("extends")?;
        let target = ext.get("template")?;
        let (file, node) = self.load_template(path, target, ext.get("parameters"), stack)?;
        Some((file, node))
    }

    /// The stages of a pipeline body: explicit `stages`, or one implicit stage
    /// holding `jobs`, or one implicit job holding `steps`.
    fn body_stages(&mut self, file: &str, body: &Node, stack: &mut Vec<String>) -> Vec<RawStage> {
        if let Some(stages) = body.get("stages") {
            return self.stages_of(file, stages, stack);
        }
        let jobs = if let Some(jobs) = body.get("jobs") {
            self.jobs_of(file, jobs, stack)
        } else if let Some(steps) = body.get("steps") {
            let mut job = Job::new("Job", Location::new(file, steps.line.max(1)));
            job.runs_on = pool_labels(body.get("pool"));
            job.image = body.get("container").and_then(|c| self.container_image(c));
            job.steps = self.steps_of(file, steps, stack, None);
            finish_job(&mut job);
            vec![RawJob {
                job,
                depends_on: None,
            }]
        } else {
            Vec::new()
        };
        let pool = pool_labels(body.get("pool"));
        let mut jobs = jobs;
        for j in &mut jobs {
            if j.job.runs_on.is_empty() {
                j.job.runs_on = pool.clone();
            }
        }
        vec![RawStage {
            name: String::new(),
            depends_on: Some(Vec::new()),
            condition: None,
            jobs,
        }]
    }

    fn stages_of(&mut self, file: &str, list: &Node, stack: &mut Vec<String>) -> Vec<RawStage> {
        let mut out = Vec::new();
        for item in flatten_conditionals(list) {
            if let Some(target) = item.get("template") {
                if let Some((tfile, tnode)) =
                    self.load_template(file, target, item.get("parameters"), stack)
                {
                    if let Some(stages) = tnode.get("stages") {
                        stack.push(tfile.clone());
                        out.extend(self.stages_of(&tfile, stages, stack));
                        stack.pop();
                    }
                }
                continue;
            }
            let Some(name_node) = item.get("stage") else {
                continue;
            };
            let name = name_node
                .scalar_text()
                .unwrap_or_else(|| format!("stage{}", out.len() + 1));
            let jobs = item
                .get("jobs")
                .map(|j| self.jobs_of(file, j, stack))
                .unwrap_or_default();
            let mut jobs = jobs;
            let pool = pool_labels(item.get("pool"));
            for j in &mut jobs {
                if let Some(display) = item.get("displayName").and_then(Node::scalar_text) {
                    // Keep the stage's display name reachable for name-based rules.
                    if j.job.name.is_none() {
                        j.job.name = Some(format!("{display}: {}", j.job.id));
                    }
                }
                if j.job.runs_on.is_empty() {
                    j.job.runs_on = pool.clone();
                }
            }
            out.push(RawStage {
                name,
                depends_on: item.get("dependsOn").map(Node::string_list),
                condition: item.get("condition").and_then(Node::scalar_text),
                jobs,
            });
        }
        out
    }

    fn jobs_of(&mut self, file: &str, list: &Node, stack: &mut Vec<String>) -> Vec<RawJob> {
        let mut out = Vec::new();
        for item in flatten_conditionals(list) {
            if let Some(target) = item.get("template") {
                if let Some((tfile, tnode)) =
                    self.load_template(file, target, item.get("parameters"), stack)
                {
                    if let Some(jobs) = tnode.get("jobs") {
                        stack.push(tfile.clone());
                        out.extend(self.jobs_of(&tfile, jobs, stack));
                        stack.pop();
                    }
                }
                continue;
            }
            let (key_node, deployment) = match (item.entry("job"), item.entry("deployment")) {
                (Some((_, v)), _) => (v, false),
                (None, Some((_, v))) => (v, true),
                _ => continue,
            };
            let id = key_node
                .scalar_text()
                .unwrap_or_else(|| format!("job{}", out.len() + 1));
            let mut job = Job::new(&id, Location::new(file, item.line.max(1)));
            job.name = item.get("displayName").and_then(Node::scalar_text);
            if let Some(c) = item.get("condition").and_then(Node::scalar_text) {
                job.conditions.push(c);
            }
            job.may_fail = truthy(item.get("continueOnError"));
            job.runs_on = pool_labels(item.get("pool"));
            job.image = item.get("container").and_then(|c| self.container_image(c));
            if let Some(services) = item.get("services").and_then(Node::as_map) {
                job.services = services
                    .iter()
                    .filter_map(|(_, v)| v.scalar_text())
                    .map(|alias| self.containers.get(&alias).cloned().unwrap_or(alias))
                    .collect();
            }
            if let Some(steps) = item.get("steps") {
                job.steps = self.steps_of(file, steps, stack, None);
            }
            if deployment {
                job.environment = item.get("environment").and_then(|e| environment(file, e));
                if let Some(strategy) = item.get("strategy") {
                    self.deployment_strategy(file, strategy, &mut job, stack);
                }
            } else if let Some(matrix) = item.get("strategy").and_then(|s| s.get("matrix")) {
                job.matrix = Some(matrix_of(matrix));
            }
            finish_job(&mut job);
            out.push(RawJob {
                job,
                depends_on: item.get("dependsOn").map(Node::string_list),
            });
        }
        out
    }

    /// `strategy: runOnce|rolling|canary:` lifecycle hooks, in the order Azure runs them.
    fn deployment_strategy(
        &mut self,
        file: &str,
        strategy: &Node,
        job: &mut Job,
        stack: &mut Vec<String>,
    ) {
        for kind in ["runOnce", "rolling", "canary"] {
            let Some((key, body)) = strategy.entry(kind) else {
                continue;
            };
            if kind == "canary" {
                // A canary rollout in increments is progressive delivery by definition.
                let mut with = BTreeMap::new();
                if let Some(inc) = body.get("increments") {
                    with.insert("increments".into(), inc.string_list().join(","));
                }
                job.steps.push(marker_step(
                    "azure-pipelines:strategy/canary",
                    with,
                    Location::new(file, key.line.max(1)),
                ));
            }
            for hook in ["preDeploy", "deploy", "routeTraffic", "postRouteTraffic"] {
                if let Some(steps) = body.get(hook).and_then(|h| h.get("steps")) {
                    let steps = self.steps_of(file, steps, stack, None);
                    job.steps.extend(steps);
                }
            }
            let Some(on) = body.get("on") else {
                continue;
            };
            for (outcome, condition) in [("failure", "failed()"), ("success", "succeeded()")] {
                let Some((okey, hook)) = on.entry(outcome) else {
                    continue;
                };
                let Some(steps) = hook.get("steps") else {
                    continue;
                };
                let mut steps = self.steps_of(file, steps, stack, None);
                if steps.is_empty() {
                    continue;
                }
                if outcome == "failure" {
                    // Steps run only when the deployment failed: what a rollback hook is.
                    job.steps.push(marker_step(
                        "azure-pipelines:on/failure",
                        BTreeMap::new(),
                        Location::new(file, okey.line.max(1)),
                    ));
                }
                for s in &mut steps {
                    s.condition.get_or_insert_with(|| condition.to_string());
                }
                job.steps.extend(steps);
            }
        }
    }

    fn steps_of(
        &mut self,
        file: &str,
        list: &Node,
        stack: &mut Vec<String>,
        via: Option<&str>,
    ) -> Vec<Step> {
        let mut out = Vec::new();
        for item in flatten_conditionals(list) {
            if let Some(target) = item.get("template") {
                if let Some((tfile, tnode)) =
                    self.load_template(file, target, item.get("parameters"), stack)
                {
                    if let Some(steps) = tnode.get("steps") {
                        stack.push(tfile.clone());
                        let via_file = tfile.clone();
                        out.extend(self.steps_of(&tfile, steps, stack, Some(&via_file)));
                        stack.pop();
                    }
                }
                continue;
            }
            if let Some(mut step) = step_of(file, item) {
                step.via = via.map(str::to_string);
                out.push(step);
            }
        }
        out
    }

    /// Load, parameterise and return a local template, recording the include.
    fn load_template(
        &mut self,
        from_file: &str,
        target: &Node,
        args: Option<&Node>,
        stack: &mut [String],
    ) -> Option<(String, Node)> {
        let written = target.scalar_text()?;
        let location = Location::new(from_file, target.line.max(1));
        let mut include = Include {
            kind: "template".into(),
            target: ExternalRef {
                target: written.clone(),
                local: !written.contains('@'),
                resolved: false,
                path: None,
            },
            unresolved_reason: None,
            location: location.clone(),
        };
        let path = match resolve_path(&written, from_file) {
            Ok(p) => p,
            Err(reason) => {
                include.unresolved_reason = Some(reason);
                self.push_include(include);
                return None;
            }
        };
        include.target.path = Some(path.clone());
        if stack.len() > MAX_TEMPLATE_DEPTH || stack.iter().any(|p| p == &path) {
            let reason = if stack.iter().any(|p| p == &path) {
                "template includes itself (cycle); not expanded again"
            } else {
                "templates nested too deeply; not expanded"
            };
            self.diagnostics.push(Diagnostic::warning(
                "template-unexpanded",
                format!("template `{written}`: {reason}"),
                Some(location),
            ));
            include.unresolved_reason = Some(reason.into());
            self.push_include(include);
            return None;
        }
        let parsed = match self.cache.parsed.get(&path) {
            Some(p) => p.clone(),
            None => {
                let parsed = match self.files.text(&path) {
                    None => None,
                    Some(text) => match yaml::parse(text) {
                        Ok(node) => Some(node),
                        Err(e) => {
                            self.diagnostics.push(Diagnostic::error(
                                "yaml-syntax",
                                format!(
                                    "Azure Pipelines template is not valid YAML: {}",
                                    e.message
                                ),
                                Some(Location::with_column(&path, e.line.max(1), e.column)),
                            ));
                            None
                        }
                    },
                };
                self.cache.parsed.insert(path.clone(), parsed.clone());
                parsed
            }
        };
        let Some(node) = parsed else {
            include.unresolved_reason = Some(if self.files.contains(&path) {
                "template could not be read or parsed".into()
            } else {
                "template file not found in the checkout".into()
            });
            self.push_include(include);
            return None;
        };
        include.target.resolved = true;
        self.push_include(include);
        let params = template_params(&node, args);
        Some((path, substitute(&node, &params)))
    }

    /// One include per reference site (a template used by many jobs is listed once per use).
    fn push_include(&mut self, include: Include) {
        if !self.includes.contains(&include) {
            self.includes.push(include);
        }
    }

    fn container_image(&self, node: &Node) -> Option<String> {
        let alias = node
            .scalar_text()
            .or_else(|| node.get("image").and_then(Node::scalar_text))?;
        Some(self.containers.get(&alias).cloned().unwrap_or(alias))
    }
}

/// Items of a list, with `- ${{ if … }}:` / `${{ each }}` blocks flattened in
/// (we cannot evaluate the condition; both branches are possible).
fn flatten_conditionals(list: &Node) -> Vec<&Node> {
    fn walk<'n>(items: &'n [Node], out: &mut Vec<&'n Node>, depth: usize) {
        for item in items {
            let nested = item.as_map().and_then(|entries| match entries {
                [(k, v)]
                    if k.as_str()
                        .is_some_and(|k| k.trim_start().starts_with("${{")) =>
                {
                    v.as_seq()
                }
                _ => None,
            });
            match nested {
                Some(inner) if depth < 16 => walk(inner, out, depth + 1),
                Some(_) => {}
                None => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    if let Some(items) = list.as_seq() {
        walk(items, &mut out, 0);
    }
    out
}

/// A template's parameters: its declared defaults overridden by the caller's
/// scalar arguments. Both `parameters: [{name, default}]` and `parameters: {name: default}`.
fn template_params(template: &Node, args: Option<&Node>) -> Params {
    let mut params = Params::new();
    match template.get("parameters").map(|p| &p.value) {
        Some(Value::Seq(items)) => {
            for p in items {
                if let (Some(name), Some(default)) = (
                    p.get("name").and_then(Node::scalar_text),
                    p.get("default").and_then(Node::scalar_text),
                ) {
                    params.insert(name, default);
                }
            }
        }
        Some(Value::Map(entries)) => {
            for (k, v) in entries {
                if let (Some(name), Some(default)) = (k.scalar_text(), v.scalar_text()) {
                    params.insert(name, default);
                }
            }
        }
        _ => {}
    }
    for (k, v) in args.and_then(Node::as_map).unwrap_or(&[]) {
        if let (Some(name), Some(value)) = (k.scalar_text(), v.scalar_text()) {
            params.insert(name, value);
        }
    }
    params
}

fn param_regex() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\$\{\{\s*parameters\.([A-Za-z0-9_]+)\s*\}\}").expect("constant regex")
    })
}

/// A copy of the tree with `${{ parameters.x }}` replaced in string scalars
/// (lines and columns kept). Unknown parameters stay as written.
fn substitute(node: &Node, params: &Params) -> Node {
    if params.is_empty() {
        return node.clone();
    }
    fn walk(node: &Node, params: &Params, depth: usize) -> Node {
        let value = match &node.value {
            Value::Str(s) if s.contains("${{") => Value::Str(
                param_regex()
                    .replace_all(s, |c: &regex::Captures<'_>| {
                        let name = c.get(1).map_or("", |m| m.as_str());
                        params
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| c.get(0).map_or("", |m| m.as_str()).to_string())
                    })
                    .into_owned(),
            ),
            Value::Seq(items) if depth < 200 => {
                Value::Seq(items.iter().map(|i| walk(i, params, depth + 1)).collect())
            }
            Value::Map(entries) if depth < 200 => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), walk(v, params, depth + 1)))
                    .collect(),
            ),
            other => other.clone(),
        };
        Node {
            value,
            line: node.line,
            column: node.column,
            tag: node.tag.clone(),
        }
    }
    walk(node, params, 0)
}

/// Top-level `name:` unless it is a run-number format; else the file stem.
fn pipeline_name(path: &str, root: &Node) -> String {
    if let Some(name) = root.get("name").and_then(Node::scalar_text) {
        if !name.contains("$(") && !name.contains("${{") && !name.trim().is_empty() {
            return name;
        }
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    file.rsplit_once('.')
        .map_or(file, |(stem, _)| stem)
        .to_string()
}

/// `include`/`exclude` filters as one list, exclusions prefixed with `!`.
fn filter_list(node: Option<&Node>) -> Vec<String> {
    let Some(node) = node else {
        return Vec::new();
    };
    if node.as_seq().is_some() || node.as_str().is_some() {
        return node.string_list();
    }
    let mut out = node
        .get("include")
        .map(Node::string_list)
        .unwrap_or_default();
    out.extend(
        node.get("exclude")
            .map(Node::string_list)
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("!{e}")),
    );
    out
}

fn is_none(node: &Node) -> bool {
    node.as_str().is_some_and(|s| s.trim() == "none") || node.as_bool() == Some(false)
}

fn parse_triggers(path: &str, root: &Node) -> Vec<Trigger> {
    let mut out = Vec::new();
    let trigger_at = |kind: TriggerKind, node: &Node, branches, paths, detail| Trigger {
        kind,
        branches,
        paths,
        detail,
        location: Location::new(path, node.line.max(1)),
    };
    if let Some((key, t)) = root.entry("trigger") {
        if !is_none(t) {
            let has_tags = t.get("tags").is_some();
            let has_branches = t.get("branches").is_some();
            if t.as_map().is_none() || has_branches || !has_tags {
                let branches = if t.as_map().is_some() {
                    filter_list(t.get("branches"))
                } else {
                    t.string_list()
                };
                out.push(trigger_at(
                    TriggerKind::Push,
                    key,
                    branches,
                    filter_list(t.get("paths")),
                    Vec::new(),
                ));
            }
            if has_tags {
                out.push(trigger_at(
                    TriggerKind::Tag,
                    key,
                    filter_list(t.get("tags")),
                    Vec::new(),
                    Vec::new(),
                ));
            }
        }
    }
    if let Some((key, pr)) = root.entry("pr") {
        if !is_none(pr) {
            let branches = if pr.as_map().is_some() {
                filter_list(pr.get("branches"))
            } else {
                pr.string_list()
            };
            out.push(trigger_at(
                TriggerKind::PullRequest,
                key,
                branches,
                filter_list(pr.get("paths")),
                Vec::new(),
            ));
        }
    }
    for s in root.get("schedules").and_then(Node::as_seq).unwrap_or(&[]) {
        let cron = s
            .get("cron")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        out.push(trigger_at(
            TriggerKind::Schedule,
            s,
            filter_list(s.get("branches")),
            Vec::new(),
            vec![cron],
        ));
    }
    let upstreams = root
        .get("resources")
        .and_then(|r| r.get("pipelines"))
        .and_then(Node::as_seq)
        .unwrap_or(&[]);
    for p in upstreams {
        // A pipeline resource without `trigger:` only provides artifacts.
        let Some(t) = p.get("trigger") else {
            continue;
        };
        if is_none(t) {
            continue;
        }
        let Some(source) = p.get("source").and_then(Node::scalar_text) else {
            continue;
        };
        out.push(trigger_at(
            TriggerKind::Upstream,
            p,
            filter_list(t.get("branches")),
            Vec::new(),
            vec![source],
        ));
    }
    out
}

fn truthy(node: Option<&Node>) -> bool {
    node.is_some_and(|n| {
        n.as_bool() == Some(true) || n.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
    })
}

fn pool_labels(pool: Option<&Node>) -> Vec<String> {
    let Some(pool) = pool else {
        return Vec::new();
    };
    if let Some(s) = pool.scalar_text() {
        return vec![s];
    }
    let mut out: Vec<String> = ["vmImage", "name"]
        .iter()
        .filter_map(|k| pool.get(k).and_then(Node::scalar_text))
        .collect();
    out.extend(
        pool.get("demands")
            .map(Node::string_list)
            .unwrap_or_default(),
    );
    out
}

fn environment(file: &str, node: &Node) -> Option<EnvironmentRef> {
    let name = node
        .scalar_text()
        .or_else(|| node.get("name").and_then(Node::scalar_text))?;
    // `environment: name.resource` names an environment and one of its resources.
    let dynamic = name.contains("$(") || name.contains("${{") || name.contains("$[");
    Some(EnvironmentRef {
        name,
        dynamic,
        url: None,
        action: None,
        tier: node.get("resourceName").and_then(Node::scalar_text),
        location: Location::new(file, node.line.max(1)),
    })
}

fn matrix_of(node: &Node) -> Matrix {
    let mut dimensions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match node.as_map() {
        Some(entries) => {
            for (_, leg) in entries {
                for (k, v) in leg.as_map().unwrap_or(&[]) {
                    if let (Some(k), Some(v)) = (k.scalar_text(), v.scalar_text()) {
                        let values = dimensions.entry(k).or_default();
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    }
                }
            }
        }
        None => {
            if let Some(expr) = node.scalar_text() {
                dimensions.insert("*".into(), vec![expr]);
            }
        }
    }
    Matrix { dimensions }
}

fn marker_step(target: &str, with: BTreeMap<String, String>, location: Location) -> Step {
    Step {
        name: None,
        run: None,
        uses: Some(ExternalRef {
            target: target.into(),
            local: false,
            resolved: false,
            path: None,
        }),
        with,
        condition: None,
        may_fail: false,
        via: None,
        location,
    }
}

/// One step item (`script`, `bash`, `pwsh`, `powershell`, `task`, `checkout`,
/// `download`, `publish`, …).
fn step_of(file: &str, item: &Node) -> Option<Step> {
    let entries = item.as_map()?;
    let mut step = Step {
        name: item
            .get("displayName")
            .or_else(|| item.get("name"))
            .and_then(Node::scalar_text),
        run: None,
        uses: None,
        with: BTreeMap::new(),
        condition: item.get("condition").and_then(Node::scalar_text),
        may_fail: truthy(item.get("continueOnError")),
        via: None,
        location: Location::new(file, item.line.max(1)),
    };
    let external = |target: String| ExternalRef {
        target,
        local: false,
        resolved: false,
        path: None,
    };
    let (key, value) = entries.first()?;
    let key = key.as_str()?;
    match key {
        "script" | "bash" | "pwsh" | "powershell" => step.run = value.scalar_text(),
        "task" => {
            let name = value.scalar_text()?;
            for (k, v) in item.get("inputs").and_then(Node::as_map).unwrap_or(&[]) {
                if let (Some(k), Some(v)) = (k.scalar_text(), v.scalar_text()) {
                    step.with.insert(k, v);
                }
            }
            step.run = tasks::run_text(&name, &step.with);
            step.uses = Some(external(name));
        }
        "checkout" | "download" | "publish" | "getPackage" | "reviewApp" | "restoreCache"
        | "saveCache" => {
            let value = value.scalar_text().unwrap_or_default();
            step.with.insert("path".into(), value);
            for extra in ["artifact", "path", "key"] {
                if let Some(v) = item.get(extra).and_then(Node::scalar_text) {
                    step.with.insert(extra.into(), v);
                }
            }
            step.uses = Some(external(key.to_string()));
        }
        _ => {
            // `displayName` first or an unknown step kind: find the step key anywhere.
            let known = [
                "script",
                "bash",
                "pwsh",
                "powershell",
                "task",
                "checkout",
                "publish",
                "download",
            ];
            let (k, _) = entries
                .iter()
                .find(|(k, _)| k.as_str().is_some_and(|k| known.contains(&k)))?;
            let k = k.as_str()?;
            // Re-read with the step key first so the match above applies.
            let mut reordered: Vec<(Node, Node)> = entries
                .iter()
                .filter(|(kk, _)| kk.as_str() == Some(k))
                .cloned()
                .collect();
            reordered.extend(
                entries
                    .iter()
                    .filter(|(kk, _)| kk.as_str() != Some(k))
                    .cloned(),
            );
            let node = Node {
                value: Value::Map(reordered),
                line: item.line,
                column: item.column,
                tag: None,
            };
            return step_of(file, &node);
        }
    }
    Some(step)
}

/// Job-level facts that Azure expresses as steps.
fn finish_job(job: &mut Job) {
    for step in &job.steps {
        let Some(target) = step.uses.as_ref().map(|u| u.target.as_str()) else {
            continue;
        };
        let task = target.split('@').next().unwrap_or(target);
        match task {
            "ManualValidation" => job.manual = true,
            "PublishTestResults" => push_unique(&mut job.artifact_reports, "junit"),
            "PublishCodeCoverageResults" => {
                push_unique(&mut job.artifact_reports, "coverage_report")
            }
            "Cache" | "CacheBeta" | "restoreCache" => job.cache = true,
            "publish" => {
                if let Some(p) = step.with.get("path").filter(|p| !p.is_empty()) {
                    push_unique(&mut job.artifact_paths, p);
                }
            }
            "PublishPipelineArtifact" | "PublishBuildArtifacts" => {
                for key in ["targetPath", "path", "PathtoPublish", "pathToPublish"] {
                    if let Some(p) = step.with.get(key) {
                        push_unique(&mut job.artifact_paths, p);
                    }
                }
            }
            _ => {}
        }
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

/// Turn stages into jobs with explicit needs, and give jobs unique ids (Azure job
/// names are unique per stage only; a repeated name becomes `stage.job`).
fn link_stages(stages: Vec<RawStage>) -> (Vec<String>, Vec<Job>) {
    let names: Vec<String> = stages.iter().map(|s| s.name.clone()).collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    // Per stage: job name → unique id.
    let mut ids: Vec<HashMap<String, String>> = Vec::new();
    for stage in &stages {
        let mut map = HashMap::new();
        for raw in &stage.jobs {
            let mut id = raw.job.id.clone();
            if used.contains(&id) {
                id = format!("{}.{}", stage.name, raw.job.id);
                let mut n = 2;
                while used.contains(&id) {
                    id = format!("{}.{}#{n}", stage.name, raw.job.id);
                    n += 1;
                }
            }
            used.insert(id.clone());
            map.entry(raw.job.id.clone()).or_insert_with(|| id.clone());
        }
        ids.push(map);
    }
    let mut jobs = Vec::new();
    for (i, stage) in stages.into_iter().enumerate() {
        let stage_deps: Vec<usize> = match &stage.depends_on {
            None => i.checked_sub(1).into_iter().collect(),
            Some(list) => list
                .iter()
                .filter_map(|d| names.iter().position(|n| n == d))
                .filter(|&j| j != i)
                .collect(),
        };
        let mut upstream_ids: Vec<String> = Vec::new();
        for d in stage_deps {
            if let Some(map) = ids.get(d) {
                let mut v: Vec<&String> = map.values().collect();
                v.sort();
                upstream_ids.extend(v.into_iter().cloned());
            }
        }
        let empty = HashMap::new();
        let stage_ids = ids.get(i).unwrap_or(&empty);
        let mut seen_in_stage: BTreeSet<String> = BTreeSet::new();
        for raw in stage.jobs {
            let mut job = raw.job;
            let original = job.id.clone();
            // A repeated job name inside one stage: keep the first, number the rest.
            let mut id = stage_ids
                .get(&original)
                .cloned()
                .unwrap_or(original.clone());
            if !seen_in_stage.insert(original.clone()) {
                id = format!("{id}#{}", jobs.len() + 1);
            }
            if id != original && job.name.is_none() {
                job.name = Some(original.clone());
            }
            job.id = id;
            let mut needs = upstream_ids.clone();
            for d in raw.depends_on.unwrap_or_default() {
                if let Some(dep) = stage_ids.get(&d) {
                    push_unique(&mut needs, dep);
                }
            }
            job.needs = Some(needs);
            if !stage.name.is_empty() {
                job.stage = Some(stage.name.clone());
            }
            if let Some(c) = &stage.condition {
                job.conditions.insert(0, c.clone());
            }
            jobs.push(job);
        }
    }
    let names = names.into_iter().filter(|n| !n.is_empty()).collect();
    (names, jobs)
}
