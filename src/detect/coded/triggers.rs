//! Facts about pipelines as a whole: that they exist, what starts them, which
//! branches they are restricted to.

use regex::Regex;

use crate::detect::Confidence;
use crate::detect::qualifier;
use crate::evidence::Location;
use crate::pipeline::{CiSystem, Job, Pipeline, Trigger, TriggerKind};

use super::{Ctx, Findings, file_evidence};

/// A job that can run and does something (steps, a call or a downstream trigger).
pub(crate) fn is_real_job(job: &Job) -> bool {
    !job.disabled && (!job.steps.is_empty() || job.calls.is_some() || job.triggers.is_some())
}

fn has_real_job(pipeline: &Pipeline) -> bool {
    pipeline.jobs.iter().any(is_real_job)
}

/// GitLab CI and Jenkins pipelines without declared triggers run on every push.
/// Azure Pipelines are not: the parser writes the default push trigger itself
/// when `trigger:` is absent, so no trigger there means `trigger: none`.
pub(crate) fn runs_on_push_implicitly(pipeline: &Pipeline) -> bool {
    !matches!(
        pipeline.system,
        CiSystem::GithubActions | CiSystem::AzurePipelines
    ) && pipeline.triggers.is_empty()
        && !pipeline.reusable
}

fn is_change_trigger(t: &Trigger) -> bool {
    matches!(
        t.kind,
        TriggerKind::Push | TriggerKind::PullRequest | TriggerKind::MergeQueue
    )
}

fn trigger_label(kind: &TriggerKind) -> String {
    match kind {
        TriggerKind::Push => "push".into(),
        TriggerKind::Tag => "tag".into(),
        TriggerKind::PullRequest => "pull/merge request".into(),
        TriggerKind::Schedule => "schedule".into(),
        TriggerKind::Manual => "manual".into(),
        TriggerKind::Upstream => "upstream pipeline".into(),
        TriggerKind::Call => "call".into(),
        TriggerKind::Api => "api".into(),
        TriggerKind::MergeQueue => "merge queue".into(),
        TriggerKind::Release => "release".into(),
        TriggerKind::Other(name) => name.clone(),
    }
}

fn pipeline_label(pipeline: &Pipeline) -> String {
    match &pipeline.name {
        Some(name) => format!("{} {} ({})", pipeline.system.label(), name, pipeline.file),
        None => format!("{} {}", pipeline.system.label(), pipeline.file),
    }
}

/// `ci.pipeline` — "Pipeline files count where their system reads them": every
/// parsed pipeline with at least one job, located at its file; and, by path,
/// the files of CI systems we do not parse (Azure Pipelines, CircleCI,
/// CodeBuild, Cloud Build, Bitbucket, Travis).
pub(crate) fn ci_pipeline(ctx: &Ctx, findings: &mut Findings) {
    // Files a rule already reported as pipelines are not reported twice.
    let known: std::collections::BTreeSet<String> = findings
        .get_mut("ci.pipeline")
        .map(|list| {
            list.iter()
                .filter_map(|e| match &e.origin {
                    crate::detect::Origin::File { location } => Some(location.path.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for pipeline in ctx.pipelines {
        if pipeline.jobs.is_empty() || known.contains(&pipeline.file) {
            continue;
        }
        findings.add(
            "ci.pipeline",
            file_evidence(
                "ci.pipeline",
                pipeline.location.clone(),
                format!(
                    "{}: {} job(s)",
                    pipeline_label(pipeline),
                    pipeline.jobs.len()
                ),
                Vec::new(),
                &[qualifier::IN_PIPELINE],
                Confidence::High,
            ),
        );
    }
    for file in ctx.snapshot.files.iter() {
        if known.contains(&file.path) {
            continue;
        }
        if let Some(system) = other_ci_system(&file.path) {
            findings.add(
                "ci.pipeline",
                file_evidence(
                    "ci.pipeline",
                    Location::file(file.path.clone()),
                    format!("{system} definition {}", file.path),
                    Vec::new(),
                    &[qualifier::IN_PIPELINE],
                    Confidence::Medium,
                ),
            );
        }
    }
}

/// CI systems recognised by their file path only.
fn other_ci_system(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let in_docs = path.split('/').any(|d| {
        matches!(
            d,
            "docs" | "doc" | "test" | "tests" | "testdata" | "fixtures"
        )
    });
    if in_docs {
        return None;
    }
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    match path {
        ".circleci/config.yml" | ".circleci/config.yaml" => Some("CircleCI"),
        "bitbucket-pipelines.yml" => Some("Bitbucket Pipelines"),
        ".travis.yml" => Some("Travis CI"),
        _ if yaml && name.starts_with("azure-pipelines") => Some("Azure Pipelines"),
        _ if yaml && path.starts_with(".azure-pipelines/") => Some("Azure Pipelines"),
        _ if yaml && name.starts_with("buildspec") => Some("AWS CodeBuild"),
        _ if yaml && name.starts_with("cloudbuild") => Some("Google Cloud Build"),
        _ => None,
    }
}

/// `ci.on_change` — CI runs on pull/merge requests or pushes: a pipeline with a
/// push, pull/merge-request or merge-queue trigger (GitLab/Jenkins pipelines
/// without declared triggers run on push) and at least one real job.
pub(crate) fn ci_on_change(ctx: &Ctx, findings: &mut Findings) {
    for pipeline in ctx.pipelines.iter().filter(|p| has_real_job(p)) {
        let mut found = false;
        for trigger in pipeline.triggers.iter().filter(|t| is_change_trigger(t)) {
            found = true;
            let mut excerpt = format!(
                "{} on {}",
                pipeline_label(pipeline),
                trigger_label(&trigger.kind)
            );
            if !trigger.branches.is_empty() {
                excerpt.push_str(&format!(" (branches {})", trigger.branches.join(", ")));
            }
            findings.add(
                "ci.on_change",
                file_evidence(
                    "ci.on_change",
                    trigger.location.clone(),
                    excerpt,
                    Vec::new(),
                    &[
                        qualifier::IN_PIPELINE,
                        qualifier::ON_CHANGE,
                        qualifier::AUTOMATIC,
                    ],
                    Confidence::High,
                ),
            );
        }
        if !found && runs_on_push_implicitly(pipeline) {
            findings.add(
                "ci.on_change",
                file_evidence(
                    "ci.on_change",
                    pipeline.location.clone(),
                    format!(
                        "{} runs on every push (no trigger rules)",
                        pipeline_label(pipeline)
                    ),
                    Vec::new(),
                    &[
                        qualifier::IN_PIPELINE,
                        qualifier::ON_CHANGE,
                        qualifier::AUTOMATIC,
                    ],
                    Confidence::Medium,
                ),
            );
        }
    }
}

/// `build.schedule` — "pipelines run on a schedule": schedule triggers of a
/// pipeline with a real job, the cron expression in the excerpt.
pub(crate) fn build_schedule(ctx: &Ctx, findings: &mut Findings) {
    for pipeline in ctx.pipelines.iter().filter(|p| has_real_job(p)) {
        for trigger in pipeline
            .triggers
            .iter()
            .filter(|t| t.kind == TriggerKind::Schedule)
        {
            // Cron expressions are named as such; other details (a GitLab rule
            // on `$CI_PIPELINE_SOURCE`, a Jenkins trigger) are shown as written.
            let cron = if trigger.detail.is_empty() {
                String::new()
            } else if trigger.detail.iter().all(|d| looks_like_cron(d)) {
                format!(" cron {}", trigger.detail.join(" | "))
            } else {
                format!(" ({})", trigger.detail.join(" | "))
            };
            findings.add(
                "build.schedule",
                file_evidence(
                    "build.schedule",
                    trigger.location.clone(),
                    format!("{} on schedule{cron}", pipeline_label(pipeline)),
                    Vec::new(),
                    &[
                        qualifier::IN_PIPELINE,
                        qualifier::SCHEDULED,
                        qualifier::AUTOMATIC,
                    ],
                    Confidence::High,
                ),
            );
        }
    }
}

/// Five or six cron fields (`0 3 * * 1`, `H H(0-3) * * *`, `@daily`).
fn looks_like_cron(text: &str) -> bool {
    let t = text.trim();
    if t.starts_with('@') {
        return true;
    }
    let fields: Vec<&str> = t.split_whitespace().collect();
    (5..=6).contains(&fields.len())
        && fields.iter().all(|f| {
            f.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '*' | '/' | ',' | '-' | '?' | '#' | '(' | ')')
            })
        })
}

fn branch_condition_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(\$\{?CI_COMMIT_BRANCH\}?|\$\{?CI_COMMIT_REF_NAME\}?)\s*(==|!=|=~|!~)|github\.ref\s*(==|!=)\s*['"]refs/heads/|github\.ref_name\s*(==|!=)|startsWith\(\s*github\.ref\s*,\s*['"]refs/heads/|^(only|except)\b.*\b(main|master|develop|release|prod\w*|staging)\b|\bbranch\s+['"]?[\w/*.-]+"#,
        )
        .expect("constant regex")
    })
}

/// At most this many job-condition evidence items per pipeline.
const MAX_BRANCH_JOB_EVIDENCE: usize = 3;

/// `vcs.branch_policy` — "trigger branch filters (`branches: [main]`,
/// `release/*`), GitLab `rules`/`only` on branches": push/PR triggers with
/// branch filters naming branches (not only `*`), and job conditions on the
/// branch (`$CI_COMMIT_BRANCH == …`, `github.ref == 'refs/heads/…'`, Jenkins `branch`).
pub(crate) fn vcs_branch_policy(ctx: &Ctx, findings: &mut Findings) {
    for pipeline in ctx.pipelines {
        for trigger in pipeline.triggers.iter().filter(|t| is_change_trigger(t)) {
            let named: Vec<&str> = trigger
                .branches
                .iter()
                .map(|b| b.as_str())
                .filter(|b| !matches!(b.trim_start_matches('!'), "*" | "**" | ""))
                .collect();
            if named.is_empty() {
                continue;
            }
            findings.add(
                "vcs.branch_policy",
                file_evidence(
                    "vcs.branch_policy",
                    trigger.location.clone(),
                    format!(
                        "{} branches: {}",
                        trigger_label(&trigger.kind),
                        named.join(", ")
                    ),
                    Vec::new(),
                    &[qualifier::IN_PIPELINE],
                    Confidence::High,
                ),
            );
        }
        // A few jobs show the policy; listing every job repeats it.
        let mut shown = 0;
        for job in &pipeline.jobs {
            if shown >= MAX_BRANCH_JOB_EVIDENCE {
                break;
            }
            if let Some(condition) = job
                .conditions
                .iter()
                .find(|c| branch_condition_pattern().is_match(c.trim()))
            {
                findings.add(
                    "vcs.branch_policy",
                    file_evidence(
                        "vcs.branch_policy",
                        job.location.clone(),
                        format!("job {} runs on: {}", job.display_name(), condition.trim()),
                        Vec::new(),
                        &[qualifier::IN_PIPELINE],
                        Confidence::Medium,
                    ),
                );
                shown += 1;
            }
        }
    }
}
