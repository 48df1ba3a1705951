//! Pipelines of every CI dialect, normalised into one model and one job graph.
//!
//! Each dialect module turns its files into [`Pipeline`]s; [`graph`] links their
//! jobs (needs, stage order, cross-pipeline triggers) into a petgraph graph.
//! Every pipeline, job, step and trigger keeps its file and line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evidence::{Diagnostic, FileSet, Location};

pub mod azure;
pub mod github;
pub mod gitlab;
pub mod graph;
pub mod jenkins;
pub mod yaml;

pub use graph::{EdgeKind, JobGraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiSystem {
    GithubActions,
    GitlabCi,
    Jenkins,
    AzurePipelines,
}

impl CiSystem {
    pub fn label(&self) -> &'static str {
        match self {
            CiSystem::GithubActions => "GitHub Actions",
            CiSystem::GitlabCi => "GitLab CI",
            CiSystem::Jenkins => "Jenkins",
            CiSystem::AzurePipelines => "Azure Pipelines",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// Push to a branch.
    Push,
    /// Push of a tag.
    Tag,
    /// Pull request / merge request.
    PullRequest,
    Schedule,
    /// Started by a person (`workflow_dispatch`, GitLab `web`, Jenkins "Build now" / parameters).
    Manual,
    /// Started by another pipeline (`workflow_run`, GitLab parent/multi-project trigger, Jenkins upstream).
    Upstream,
    /// Called as a reusable workflow / template (`workflow_call`).
    Call,
    /// External event or API (`repository_dispatch`, GitLab `api`/`trigger`).
    Api,
    /// Merge queue / merge train.
    MergeQueue,
    Release,
    /// Anything else, with the dialect's own event name.
    Other(String),
}

/// What starts a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub kind: TriggerKind,
    /// Branch (or tag) filters, as written. Negations keep their `!`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    /// Path filters, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Cron expression (Schedule), upstream workflow names (Upstream), event types…
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
    pub location: Location,
}

/// A deployment target a job declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRef {
    /// Name as written (may contain an expression such as `${{ inputs.env }}`).
    pub name: String,
    /// True when the name is computed at run time (expression/variable), so it names no fixed environment.
    pub dynamic: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// GitLab `action:` (start, stop, prepare, verify, access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// GitLab `deployment_tier:` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub location: Location,
}

/// A reference from a job or step to something outside its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalRef {
    /// As written: `actions/checkout@v4`, `./.github/workflows/deploy.yml`, `docker://…`,
    /// `project: group/x file: ci.yml`, `template: Jobs/Build.gitlab-ci.yml`.
    pub target: String,
    /// True when it lives in this repository.
    pub local: bool,
    /// True when it was found and expanded into this model.
    pub resolved: bool,
    /// For a local target: the repository path it resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One step of a job: a script line or block, an action, a Jenkins step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Shell text run by the step (GitHub `run:`, one GitLab `script:` entry, Jenkins `sh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Action or image used (GitHub `uses:`, Jenkins step name for non-shell steps such as `input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<ExternalRef>,
    /// Action inputs (`with:`), stringified.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, String>,
    /// Step condition (`if:`), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// `continue-on-error: true` or similar: the step cannot fail its job.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_fail: bool,
    /// Set when the step came from a local composite action or template:
    /// the path of that file (the step's `location` is inside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub location: Location,
}

/// A matrix (GitHub `strategy.matrix`, GitLab `parallel: matrix`, Jenkins `matrix`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Matrix {
    /// Dimension name → values (stringified). An expression-valued matrix has one
    /// dimension `"*"` holding the expression.
    pub dimensions: BTreeMap<String, Vec<String>>,
}

/// One job (GitHub job, GitLab job, Jenkins stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Key in its pipeline (GitHub job id, GitLab job name, Jenkins stage name).
    pub id: String,
    /// Display name when different from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// GitLab / Jenkins stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Explicit dependencies. `None` = not declared (stage order applies);
    /// `Some(vec![])` = declared empty (GitLab `needs: []`: starts at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentRef>,
    /// A person must start or approve this job (GitLab `when: manual`, Jenkins `input`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// Condition(s) under which the job runs (`if:`, `rules:`, `only/except`, Jenkins `when`), as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The job's failure does not fail the pipeline (`continue-on-error`, `allow_failure`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_fail: bool,
    /// The job can never run (`if: false`, `when: never` only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Matrix>,
    /// Runner label(s) / agent (`runs-on`, GitLab `tags`, Jenkins `agent`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs_on: Vec<String>,
    /// Container image the job runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// The job calls a reusable workflow (GitHub `jobs.<id>.uses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<ExternalRef>,
    /// The job triggers a downstream pipeline (GitLab `trigger:`, Jenkins `build job:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<ExternalRef>,
    /// GitLab `artifacts:reports:` kinds (junit, coverage_report, dotenv, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifact_reports: Vec<String>,
    /// Paths the job keeps as artifacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifact_paths: Vec<String>,
    /// The job uses a cache (GitLab `cache:`, Jenkins/GitHub handled as steps).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cache: bool,
    /// Where the job is defined (its key).
    pub location: Location,
}

impl Job {
    /// A job with nothing declared but its id and place: no stage, no needs, no
    /// steps. Parsers start from it and fill in what the file says.
    pub fn new(id: impl Into<String>, location: Location) -> Job {
        Job {
            id: id.into(),
            name: None,
            stage: None,
            needs: None,
            steps: Vec::new(),
            environment: None,
            manual: false,
            conditions: Vec::new(),
            may_fail: false,
            disabled: false,
            matrix: None,
            runs_on: Vec::new(),
            image: None,
            services: Vec::new(),
            calls: None,
            triggers: None,
            artifact_reports: Vec::new(),
            artifact_paths: Vec::new(),
            cache: false,
            location,
        }
    }

    /// Name to show: display name, else id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// A file that a pipeline includes (GitLab `include:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Include {
    /// `local`, `project`, `remote`, `template`, `component`.
    pub kind: String,
    pub target: ExternalRef,
    /// Why it was not resolved, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolved_reason: Option<String>,
    pub location: Location,
}

/// One pipeline definition (a GitHub workflow file, a `.gitlab-ci.yml` with its
/// includes, a Jenkinsfile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Stable id: the defining file's path (plus `#name` when one file defines several).
    pub id: String,
    pub system: CiSystem,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The defining file.
    pub file: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Stage order (GitLab `stages`, Jenkins stage sequence). Empty when jobs are unordered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<Include>,
    /// Only reachable when called by another pipeline (GitHub `workflow_call`-only,
    /// a GitLab child pipeline file).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reusable: bool,
    pub location: Location,
}

impl Pipeline {
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }
    pub fn has_trigger(&self, kind: &TriggerKind) -> bool {
        self.triggers.iter().any(|t| &t.kind == kind)
    }
}

/// Parse every pipeline the repository defines, in every dialect we know.
/// Problems become diagnostics naming the file; parsing goes on with the rest.
pub fn parse_all(files: &FileSet, diagnostics: &mut Vec<Diagnostic>) -> Vec<Pipeline> {
    let mut pipelines = Vec::new();
    pipelines.extend(github::parse_workflows(files, diagnostics));
    pipelines.extend(gitlab::parse_pipelines(files, diagnostics));
    pipelines.extend(jenkins::parse_jenkinsfiles(files, diagnostics));
    pipelines.extend(azure::parse_pipelines(files, diagnostics));
    pipelines
}

/// [`parse_all`], with GitLab CI's non-local includes answered by `source` (the
/// GitLab API connector); without one they are recorded as unresolved.
pub fn parse_all_with_includes(
    files: &FileSet,
    source: &dyn gitlab::IncludeSource,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Pipeline> {
    let mut pipelines = Vec::new();
    pipelines.extend(github::parse_workflows(files, diagnostics));
    pipelines.extend(gitlab::parse_pipelines_with(
        files,
        Some(source),
        diagnostics,
    ));
    pipelines.extend(jenkins::parse_jenkinsfiles(files, diagnostics));
    pipelines
}
