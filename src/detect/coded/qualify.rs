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

/// The job a location lies in: a step written exactly there (composite
/// actions, templates), else the nearest job header above it in the same file.
fn job_at(ctx: &Ctx, index: &JobIndex, location: &Location) -> Option<(usize, usize)> {
    for (p, pipeline) in ctx.pipelines.iter().enumerate() {
        for (j, job) in pipeline.jobs.iter().enumerate() {
            if job.steps.iter().any(|s| &s.location == location) {
                return Some((p, j));
            }
        }
    }
    index
        .get(location.path.as_str())?
        .iter()
        .rev()
        .find(|(line, _, _)| *line <= location.line)
        .map(|&(_, p, j)| (p, j))
}

fn qualifiers_of(pipeline: &Pipeline, out: &mut Vec<&'static str>) {
    out.push(qualifier::IN_PIPELINE);
    let implicit = runs_on_push_implicitly(pipeline);
    if implicit
        || pipeline.triggers.iter().any(|t| {
            matches!(
                t.kind,
                TriggerKind::Push | TriggerKind::PullRequest | TriggerKind::MergeQueue
            )
        })
    {
        out.push(qualifier::ON_CHANGE);
    }
    if pipeline.has_trigger(&TriggerKind::Schedule) {
        out.push(qualifier::SCHEDULED);
    }
    if implicit
        || pipeline
            .triggers
            .iter()
            .any(|t| !matches!(t.kind, TriggerKind::Manual | TriggerKind::Call))
    {
        out.push(qualifier::AUTOMATIC);
    }
}

/// Attach `in_pipeline`, `on_change`, `scheduled`, `automatic` and `production`
/// to every piece of evidence a pipeline runs: evidence located in a pipeline
/// file, or reached from a pipeline step (its chain starts at the step).
/// `automatic` is dropped for manual jobs; `production` comes from the job's
/// environment.
pub(crate) fn pipeline_qualifiers(ctx: &Ctx, findings: &mut Findings) {
    let index = index_jobs(ctx.pipelines);
    let pipeline_files: HashMap<&str, usize> = ctx
        .pipelines
        .iter()
        .enumerate()
        .rev()
        .map(|(p, pipeline)| (pipeline.file.as_str(), p))
        .collect();
    for evidence in findings.all_mut() {
        let anchor = match (&evidence.origin, evidence.chain.first()) {
            (_, Some(first)) => first.clone(),
            (Origin::File { location }, None) => location.clone(),
            _ => continue,
        };
        let mut qualifiers: Vec<&'static str> = Vec::new();
        if let Some((p, j)) = job_at(ctx, &index, &anchor) {
            let (Some(pipeline), Some(job)) = (ctx.pipelines.get(p), ctx.job((p, j))) else {
                continue;
            };
            qualifiers_of(pipeline, &mut qualifiers);
            if job.manual {
                qualifiers.retain(|q| *q != qualifier::AUTOMATIC);
            }
            if targets_production(job) {
                qualifiers.push(qualifier::PRODUCTION);
            }
        } else if let Some(pipeline) = pipeline_files
            .get(anchor.path.as_str())
            .and_then(|&p| ctx.pipelines.get(p))
        {
            qualifiers_of(pipeline, &mut qualifiers);
        }
        evidence
            .qualifiers
            .extend(qualifiers.into_iter().map(str::to_string));
    }
}
