//! Pipeline qualifiers on evidence: what a pipeline-derived piece of evidence
//! inherits from the job and pipeline that run it.

use std::collections::HashMap;

use crate::detect::{Origin, qualifier};
use crate::evidence::Location;
use crate::pipeline::{Pipeline, TriggerKind};

use super::triggers::runs_on_push_implicitly;
use super::{Ctx, Findings, targets_production};

/// Jobs by the file they are written in: (job line, pipeline, job), sorted by line.
type JobIndex<'a> = HashMap<&'a str, Vec<(u32, usize, usize)>>;

fn index_jobs(pipelines: &[Pipeline]) -> JobIndex<'_> {
    let mut index: JobIndex = HashMap::new();
    for (p, pipeline) in pipelines.iter().enumerate() {
        for (j, job) in pipeline.jobs.iter().enumerate() {
            index
                .entry(job.location.path.as_str())
                .or_default()
                .push((job.location.line, p, j));
        }
    }
    for jobs in index.values_mut() {
        jobs.sort();
    }
    index
}

/// Steps by their exact location.
type StepIndex<'a> = HashMap<&'a Location, (usize, usize)>;

fn index_steps(pipelines: &[Pipeline]) -> StepIndex<'_> {
    let mut index = HashMap::new();
    for (p, pipeline) in pipelines.iter().enumerate() {
        for (j, job) in pipeline.jobs.iter().enumerate() {
            for step in &job.steps {
                index.entry(&step.location).or_insert((p, j));
            }
        }
    }
    index
}

/// The job a location lies in: a step written exactly there (composite
/// actions, templates), else the nearest job header above it in the same file.
fn job_at(steps: &StepIndex, jobs: &JobIndex, location: &Location) -> Option<(usize, usize)> {
    if let Some(&key) = steps.get(location) {
        return Some(key);
    }
    jobs.get(location.path.as_str())?
        .iter()
        .rev()
        .find(|(line, _, _)| *line <= location.line)
        .map(|&(_, p, j)| (p, j))
}

/// Qualifiers of a pipeline from its own triggers and from the pipelines that
/// start it, transitively (callers of a reusable workflow, parents of a child
/// pipeline, upstream workflows of a `workflow_run` chain): a deploy workflow at
/// the end of a CI → CD → staging chain runs on change too. Bounded to
/// [`MAX_STARTERS`] pipelines.
fn qualifiers_of(ctx: &Ctx, p: usize, out: &mut Vec<&'static str>) {
    let add = |q: &'static str, out: &mut Vec<&'static str>| {
        if !out.contains(&q) {
            out.push(q);
        }
    };
    add(qualifier::IN_PIPELINE, out);
    let mut seen = vec![p];
    let mut queue = vec![p];
    while let Some(current) = queue.pop() {
        let Some(pipeline) = ctx.pipelines.get(current) else {
            continue;
        };
        let implicit = runs_on_push_implicitly(pipeline);
        if implicit
            || pipeline.triggers.iter().any(|t| {
                matches!(
                    t.kind,
                    TriggerKind::Push | TriggerKind::PullRequest | TriggerKind::MergeQueue
                )
            })
        {
            add(qualifier::ON_CHANGE, out);
        }
        if pipeline.has_trigger(&TriggerKind::Schedule) {
            add(qualifier::SCHEDULED, out);
        }
        if implicit
            || pipeline
                .triggers
                .iter()
                .any(|t| !matches!(t.kind, TriggerKind::Manual | TriggerKind::Call))
        {
            add(qualifier::AUTOMATIC, out);
        }
        for q in starters_of(ctx, current) {
            if seen.len() < MAX_STARTERS && !seen.contains(&q) {
                seen.push(q);
                queue.push(q);
            }
        }
    }
}

/// At most this many pipelines are visited when inheriting qualifiers.
const MAX_STARTERS: usize = 20;

/// Pipelines that start pipeline `p`: callers and parents by local path,
/// upstream workflows named by its `workflow_run` triggers.
fn starters_of(ctx: &Ctx, p: usize) -> Vec<usize> {
    let Some(pipeline) = ctx.pipelines.get(p) else {
        return Vec::new();
    };
    let upstream_names: Vec<&str> = pipeline
        .triggers
        .iter()
        .filter(|t| t.kind == TriggerKind::Upstream)
        .flat_map(|t| t.detail.iter().map(String::as_str))
        .collect();
    ctx.pipelines
        .iter()
        .enumerate()
        .filter(|&(q, _)| q != p)
        .filter(|(_, other)| {
            let calls_it = other.jobs.iter().any(|j| {
                [&j.calls, &j.triggers]
                    .into_iter()
                    .flatten()
                    .any(|r| r.local && r.path.as_deref() == Some(pipeline.file.as_str()))
            });
            let named = upstream_names.iter().any(|name| {
                other.name.as_deref() == Some(*name)
                    || other.file == *name
                    || other.file.rsplit('/').next() == Some(*name)
            });
            calls_it || named
        })
        .map(|(q, _)| q)
        .take(10)
        .collect()
}

/// Attach `in_pipeline`, `on_change`, `scheduled`, `automatic` and `production`
/// to every piece of evidence a pipeline runs: evidence located in a pipeline
/// file, or reached from a pipeline step (its chain starts at the step).
/// `automatic` is dropped for manual jobs; `production` comes from the job's
/// environment.
pub(crate) fn pipeline_qualifiers(ctx: &Ctx, findings: &mut Findings) {
    let index = index_jobs(ctx.pipelines);
    let steps = index_steps(ctx.pipelines);
    // Per pipeline once: evidence is many, pipelines few.
    let per_pipeline: Vec<Vec<&'static str>> = (0..ctx.pipelines.len())
        .map(|p| {
            let mut q = Vec::new();
            qualifiers_of(ctx, p, &mut q);
            q
        })
        .collect();
    let pipeline_files: HashMap<&str, usize> = ctx
        .pipelines
        .iter()
        .enumerate()
        .rev()
        .map(|(p, pipeline)| (pipeline.file.as_str(), p))
        .collect();
    for evidence in findings.all_mut() {
        // Evidence written in a pipeline file is anchored where it is; evidence in
        // another file by the step that reaches it (the head of its chain).
        let anchor = match (&evidence.origin, evidence.chain.first()) {
            (Origin::File { location }, _)
                if pipeline_files.contains_key(location.path.as_str())
                    || index.contains_key(location.path.as_str()) =>
            {
                location.clone()
            }
            (_, Some(first)) => first.clone(),
            (Origin::File { location }, None) => location.clone(),
            _ => continue,
        };
        let mut qualifiers: Vec<&'static str> = Vec::new();
        if let Some((p, j)) = job_at(&steps, &index, &anchor) {
            let Some(job) = ctx.job((p, j)) else {
                continue;
            };
            qualifiers.extend(per_pipeline.get(p).into_iter().flatten().copied());
            if job.manual {
                qualifiers.retain(|q| *q != qualifier::AUTOMATIC);
            }
            if targets_production(job) {
                qualifiers.push(qualifier::PRODUCTION);
            }
        } else if let Some(&p) = pipeline_files.get(anchor.path.as_str()) {
            qualifiers.extend(per_pipeline.get(p).into_iter().flatten().copied());
        }
        evidence
            .qualifiers
            .extend(qualifiers.into_iter().map(str::to_string));
    }
}
