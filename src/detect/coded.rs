//! Coded detectors: questions rules cannot express (graph and history questions).
//!
//! [`run`] merges the rule engine's findings with the coded ones (one
//! [`PracticeFinding`] per practice, sorted by id, evidence de-duplicated) and
//! attaches the pipeline qualifiers (`in_pipeline`, `on_change`, `scheduled`,
//! `automatic`, `production`) to every piece of evidence that a pipeline runs.
//! Each detector is a named function in a submodule, documented with the
//! convention of `practices.md` ("Where the line falls") it implements.

mod api;
mod gating;
mod qualify;
mod threshold;
mod triggers;

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use crate::evidence::{Location, Snapshot};
use crate::pipeline::{Job, JobGraph, Pipeline};

use super::rules::RuleInfo;
use super::{Confidence, Detection, Evidence, JobPractices, Origin, PracticeFinding, RuleOutput};

/// Run every coded detector and merge with the rule findings.
pub fn run(snapshot: &Snapshot, graph: &JobGraph, output: RuleOutput) -> Detection {
    let ctx = Ctx::new(snapshot, graph, &output.jobs);
    let mut findings = Findings::default();
    for finding in output.findings {
        for evidence in finding.evidence {
            findings.add(&finding.practice, evidence);
        }
    }

    triggers::ci_pipeline(&ctx, &mut findings);
    triggers::ci_on_change(&ctx, &mut findings);
    triggers::build_schedule(&ctx, &mut findings);
    triggers::vcs_branch_policy(&ctx, &mut findings);
    gating::deploy_gated_by_tests(&ctx, &mut findings);
    gating::deploy_environments(&ctx, &mut findings);
    gating::deploy_approval_gate(&ctx, &mut findings);
    threshold::evaluation_threshold(&ctx, &mut findings);
    api::release_tags(&ctx, &mut findings);
    api::api_branch_protection(&ctx, &mut findings);
    api::api_environment_protection(&ctx, &mut findings);
    api::api_registry_versions(&ctx, &mut findings);
    qualify::pipeline_qualifiers(&ctx, &mut findings);

    Detection {
        findings: findings.into_findings(),
        diagnostics: output.diagnostics,
    }
}

/// The coded detectors, for `mlops-maturity detectors`.
pub fn infos() -> Vec<RuleInfo> {
    let info = |id: &str, practice: &str, description: &str| RuleInfo {
        id: id.to_string(),
        practice: practice.to_string(),
        description: description.to_string(),
        kind: "coded".to_string(),
        source: "src/detect/coded.rs".to_string(),
    };
    vec![
        info(
            "ci.pipeline",
            "ci.pipeline",
            "a parsed pipeline with at least one job, or another CI system's file",
        ),
        info(
            "ci.on_change",
            "ci.on_change",
            "a pipeline triggered by pushes, pull/merge requests or a merge queue",
        ),
        info(
            "build.schedule",
            "build.schedule",
            "a pipeline with a schedule trigger",
        ),
        info(
            "vcs.branch_policy",
            "vcs.branch_policy",
            "trigger branch filters or rules on the branch name",
        ),
        info(
            "deploy.gated_by_tests",
            "deploy.gated_by_tests",
            "a deploy job runs only after a test or evaluation job succeeded",
        ),
        info(
            "deploy.environments",
            "deploy.environments",
            "two static deployment environments with a path from one to the next",
        ),
        info(
            "deploy.approval_gate",
            "deploy.approval_gate",
            "a manual job on the path to a production deploy",
        ),
        info(
            "model.evaluation.threshold",
            "model.evaluation",
            "evaluation code fails on a metric threshold",
        ),
        info(
            "api.release_tags.git_tags",
            "api.release_tags",
            "semver-like git tags",
        ),
        info(
            "api.branch_protection",
            "api.branch_protection",
            "protected default branch (API)",
        ),
        info(
            "api.environment_protection",
            "api.environment_protection",
            "environments with reviewers or wait timers (API)",
        ),
        info(
            "api.registry_versions",
            "api.registry_versions",
            "versioned artifacts in a registry (API)",
        ),
    ]
}

/// Findings being assembled: practice id → evidence, de-duplicated.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    by_practice: BTreeMap<String, Vec<Evidence>>,
}

impl Findings {
    /// Add evidence unless the same rule already gave the same origin and excerpt
    /// (then the qualifiers are merged).
    pub(crate) fn add(&mut self, practice: &str, evidence: Evidence) {
        let list = self.by_practice.entry(practice.to_string()).or_default();
        if let Some(existing) = list.iter_mut().find(|e| {
            e.rule == evidence.rule && e.origin == evidence.origin && e.excerpt == evidence.excerpt
        }) {
            existing.qualifiers.extend(evidence.qualifiers);
            existing.confidence = existing.confidence.max(evidence.confidence);
            if existing.chain.is_empty() {
                existing.chain = evidence.chain;
            }
            return;
        }
        list.push(evidence);
    }

    pub(crate) fn get_mut(&mut self, practice: &str) -> Option<&mut Vec<Evidence>> {
        self.by_practice.get_mut(practice)
    }

    pub(crate) fn all_mut(&mut self) -> impl Iterator<Item = &mut Evidence> {
        self.by_practice.values_mut().flatten()
    }

    fn into_findings(self) -> Vec<PracticeFinding> {
        self.by_practice
            .into_iter()
            .filter(|(_, evidence)| !evidence.is_empty())
            .map(|(practice, evidence)| PracticeFinding { practice, evidence })
            .collect()
    }
}

/// Evidence seen in a repository file.
pub(crate) fn file_evidence(
    rule: &str,
    location: Location,
    excerpt: impl Into<String>,
    chain: Vec<Location>,
    qualifiers: &[&str],
    confidence: Confidence,
) -> Evidence {
    Evidence {
        rule: rule.to_string(),
        origin: Origin::File { location },
        excerpt: shorten(&excerpt.into()),
        chain,
        qualifiers: qualifiers.iter().map(|q| q.to_string()).collect(),
        confidence,
    }
}

/// Report lines stay short.
pub(crate) fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// What every coded detector reads.
pub(crate) struct Ctx<'a> {
    pub snapshot: &'a Snapshot,
    pub pipelines: &'a [Pipeline],
    pub graph: &'a JobGraph,
    pub jobs: &'a JobPractices,
    /// Deploy jobs `(pipeline, job)` and whether they come from the rule engine
    /// (`deploy.automated`) rather than the fallback heuristic.
    pub deploy_jobs: BTreeSet<(usize, usize)>,
    pub deploy_from_rules: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot, graph: &'a JobGraph, jobs: &'a JobPractices) -> Self {
        let pipelines = snapshot.pipelines.as_slice();
        let from_rules: BTreeSet<(usize, usize)> = jobs
            .by_job
            .iter()
            .filter(|(_, practices)| practices.contains_key("deploy.automated"))
            .map(|(key, _)| *key)
            .filter(|(p, j)| pipelines.get(*p).and_then(|pl| pl.jobs.get(*j)).is_some())
            .collect();
        let deploy_from_rules = !from_rules.is_empty();
        let deploy_jobs = if deploy_from_rules {
            from_rules
        } else {
            fallback_deploy_jobs(pipelines)
        };
        Ctx {
            snapshot,
            pipelines,
            graph,
            jobs,
            deploy_jobs,
            deploy_from_rules,
        }
    }

    pub(crate) fn job(&self, key: (usize, usize)) -> Option<&'a Job> {
        self.pipelines.get(key.0).and_then(|p| p.jobs.get(key.1))
    }

    pub(crate) fn practices_of(
        &self,
        key: (usize, usize),
    ) -> Option<&'a BTreeMap<String, Location>> {
        self.jobs.by_job.get(&key)
    }

    pub(crate) fn is_pipeline_file(&self, path: &str) -> bool {
        self.pipelines.iter().any(|p| p.file == path)
    }
}

/// Without `deploy.automated` from the rules: jobs with a static environment and
/// a deploy-looking step (teardown jobs, `action: stop`, excluded).
fn fallback_deploy_jobs(pipelines: &[Pipeline]) -> BTreeSet<(usize, usize)> {
    let mut out = BTreeSet::new();
    for (p, pipeline) in pipelines.iter().enumerate() {
        for (j, job) in pipeline.jobs.iter().enumerate() {
            let static_env = job
                .environment
                .as_ref()
                .is_some_and(|e| !e.dynamic && e.action.as_deref().is_none_or(|a| a == "start"));
            if static_env && !job.disabled && job_looks_like_deploy(job) {
                out.insert((p, j));
            }
        }
    }
    out
}

fn deploy_step_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)\b(kubectl\s+(apply|set\s+image|rollout)|helm\s+(upgrade|install)|gcloud\s+(run|app|functions|ai)\s+\S*\s*deploy|gcloud\s+ai\s+endpoints\s+deploy-model|az\s+ml\s+online-(deployment|endpoint)|az\s+webapp|az\s+containerapp|aws\s+(ecs|sagemaker|lambda)\s|sam\s+deploy|cdk\s+deploy|serverless\s+deploy|sls\s+deploy|terraform\s+apply|kustomize|argocd\s+app|flyctl\s+deploy|fly\s+deploy|heroku|vercel|netlify\s+deploy|mlflow\s+deployments|sagemaker|deploy)",
        )
        .expect("constant regex")
    })
}

/// A job whose name or step commands say it deploys. Lines that only print
/// (`echo "Deploying…"`) say nothing about what the job does.
pub(crate) fn job_looks_like_deploy(job: &Job) -> bool {
    let re = deploy_step_pattern();
    re.is_match(&job.id)
        || job.name.as_deref().is_some_and(|n| re.is_match(n))
        || job.steps.iter().any(|s| {
            s.run
                .as_deref()
                .is_some_and(|r| re.is_match(&without_prints(r)))
                || s.uses.as_ref().is_some_and(|u| re.is_match(&u.target))
        })
}

/// Script text without comment and print-only lines.
pub(crate) fn without_prints(run: &str) -> String {
    run.lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with('#')
                || t.starts_with("echo ")
                || t.starts_with("printf ")
                || t.starts_with("Write-Host"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Production-like environment names.
pub(crate) fn is_production_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "prod" | "production" | "prd" | "live"))
}

/// Where a deploy job deploys to.
#[derive(Debug, Clone)]
pub(crate) struct DeployTarget {
    pub name: String,
    pub location: Location,
    /// Taken from the job's name (Jenkins stages, jobs without `environment:`).
    pub from_job_name: bool,
}

/// Environment words a job name may carry (`Deploy Staging`, `deploy-prod`).
const ENVIRONMENT_WORDS: &[&str] = &[
    "production",
    "prod",
    "prd",
    "live",
    "staging",
    "preprod",
    "uat",
    "qa",
    "dev",
    "development",
    "sandbox",
];

/// The environment a deploy job targets: its static `environment:`, else (when
/// it declares none) an environment word in its name. An expression-valued
/// environment names no fixed environment, and the job name does not replace it.
pub(crate) fn deploy_target(job: &Job) -> Option<DeployTarget> {
    match &job.environment {
        Some(env) => {
            let usable = !env.dynamic
                && !env.name.trim().is_empty()
                && env.action.as_deref().is_none_or(|a| a == "start");
            usable.then(|| DeployTarget {
                name: env.name.trim().to_string(),
                location: env.location.clone(),
                from_job_name: false,
            })
        }
        None => {
            let names = [Some(job.id.as_str()), job.name.as_deref()];
            names.into_iter().flatten().find_map(|n| {
                n.to_ascii_lowercase()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .find(|w| ENVIRONMENT_WORDS.contains(w))
                    .map(|w| DeployTarget {
                        name: w.to_string(),
                        location: job.location.clone(),
                        from_job_name: true,
                    })
            })
        }
    }
}

/// Does the job target production: a production-like static environment or
/// GitLab tier; for a job without `environment:`, a production-like name.
pub(crate) fn targets_production(job: &Job) -> bool {
    match &job.environment {
        Some(e) => {
            e.tier.as_deref() == Some("production") || (!e.dynamic && is_production_name(&e.name))
        }
        None => is_production_name(&job.id) || job.name.as_deref().is_some_and(is_production_name),
    }
}

#[cfg(test)]
mod tests;
