//! Graph questions about deployment: is a deploy gated by tests, is there a
//! promotion path through environments, does a person approve before production.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use petgraph::graph::NodeIndex;
use regex::Regex;

use crate::detect::Confidence;
use crate::detect::qualifier;
use crate::evidence::Location;
use crate::pipeline::{EdgeKind, Job, TriggerKind};

use super::{
    Ctx, DeployTarget, Findings, deploy_target, file_evidence, is_production_name,
    targets_production,
};

/// Practices that make a job a gate for deployment.
const GATE_PRACTICES: &[&str] = &["ci.tests", "model.evaluation"];

fn test_step_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?m)(^|[\s;&|(])(pytest|py\.test|tox|nox|python3?\s+-m\s+(pytest|unittest)|make\s+(test|check|eval\w*)|npm\s+(run\s+)?test|yarn\s+test|go\s+test|cargo\s+(test|nextest)|mvn\s+\S*\s*(test|verify)|gradlew?\s+\S*\s*test|dvc\s+metrics\s+diff|python3?\s+\S*eval\w*\.py)\b",
        )
        .expect("constant regex")
    })
}

/// The step of a job that a location points into: the last step of the same
/// file starting at or before the location's line.
fn step_index_at(job: &Job, location: &Location) -> Option<usize> {
    job.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.location.path == location.path && s.location.line <= location.line)
        .max_by_key(|(_, s)| s.location.line)
        .map(|(i, _)| i)
}

/// A job runs regardless of how its predecessors ended (`if: always()`,
/// `!cancelled()`, `failure()`, GitLab `when: always`): predecessors do not gate it.
fn ignores_predecessor_results(job: &Job) -> bool {
    job.conditions.iter().any(|c| {
        let c: String = c.chars().filter(|c| !c.is_whitespace()).collect();
        c.contains("always()")
            || c.contains("!cancelled()")
            || c.contains("failure()")
            || c.contains("when:always")
            || c == "always"
    })
}

/// `cmd || true`, `|| echo …`, `|| exit 0`, `|| :` — the step can never fail.
fn swallows_failure(run: &str) -> bool {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\|\|\s*(true\b|:\s*$|:\s*;|echo\b|exit\s+0\b|printf\b)")
            .expect("constant regex")
    })
    .is_match(run)
}

/// A step that cannot fail its job: `continue-on-error`, or a shell fallback.
fn step_cannot_fail(step: &crate::pipeline::Step) -> bool {
    step.may_fail || step.run.as_deref().is_some_and(swallows_failure)
}

/// The evidence location of a gate practice of a job, if the job gates:
/// it shows tests or evaluation, can fail the pipeline (not `may_fail`, nor the
/// step holding the evidence, nor a step ending in `|| true`) and runs by itself
/// (not manual, not disabled).
fn gate_practice(ctx: &Ctx, key: (usize, usize)) -> Option<Location> {
    let job = ctx.job(key)?;
    if job.may_fail || job.disabled || job.manual {
        return None;
    }
    let practices = ctx.practices_of(key)?;
    GATE_PRACTICES.iter().find_map(|p| {
        let loc = practices.get(*p)?;
        let step_may_fail = step_index_at(job, loc)
            .and_then(|i| job.steps.get(i))
            .is_some_and(step_cannot_fail);
        (!step_may_fail).then(|| loc.clone())
    })
}

/// Works out, per job, which gate job must succeed before it can start.
struct GateSolver<'c, 'a> {
    ctx: &'c Ctx<'a>,
    memo: HashMap<NodeIndex, Option<NodeIndex>>,
    in_progress: HashSet<NodeIndex>,
}

impl GateSolver<'_, '_> {
    fn key(&self, n: NodeIndex) -> Option<(usize, usize)> {
        self.ctx
            .graph
            .graph
            .node_weight(n)
            .map(|node| (node.pipeline, node.job))
    }

    fn is_gate(&self, n: NodeIndex) -> bool {
        self.key(n)
            .is_some_and(|k| gate_practice(self.ctx, k).is_some())
    }

    /// `m` itself when it gates, else the gate that `m` waits for.
    fn gate_through(&mut self, m: NodeIndex) -> Option<NodeIndex> {
        if self.is_gate(m) {
            Some(m)
        } else {
            self.gate_before(m)
        }
    }

    /// A gate job that must have succeeded before `n` starts, if every way of
    /// starting `n` passes one. `needs` and stage order are conjunctive (all
    /// must succeed, so one gate among them suffices); the ways a pipeline starts
    /// (its own triggers, callers, upstream pipelines) are alternatives, each of
    /// which must be gated. An upstream (`workflow_run`) edge gates only when the
    /// downstream job checks the upstream conclusion.
    fn gate_before(&mut self, n: NodeIndex) -> Option<NodeIndex> {
        if let Some(known) = self.memo.get(&n) {
            return *known;
        }
        if !self.in_progress.insert(n) {
            return None; // a cycle: nothing certain
        }
        let result = self.compute(n);
        self.in_progress.remove(&n);
        self.memo.insert(n, result);
        result
    }

    fn compute(&mut self, n: NodeIndex) -> Option<NodeIndex> {
        let key = self.key(n)?;
        let job = self.ctx.job(key)?;
        if ignores_predecessor_results(job) {
            return None;
        }
        let preds = self.ctx.graph.predecessors(n);
        let conjunctive: Vec<NodeIndex> = preds
            .iter()
            .filter(|(_, k)| matches!(k, EdgeKind::Needs | EdgeKind::StageOrder))
            .map(|(m, _)| *m)
            .collect();
        if !conjunctive.is_empty() {
            return conjunctive.into_iter().find_map(|m| self.gate_through(m));
        }
        let starters: Vec<(NodeIndex, EdgeKind)> = preds
            .into_iter()
            .filter(|(_, k)| !matches!(k, EdgeKind::Needs | EdgeKind::StageOrder))
            .collect();
        if starters.is_empty() || self.pipeline_starts_on_its_own(key.0) {
            return None;
        }
        // Calls/Triggers: the callee runs when the calling job runs.
        let mut gate = None;
        let mut upstream: BTreeMap<usize, Vec<(NodeIndex, bool)>> = BTreeMap::new();
        for (m, kind) in starters {
            match kind {
                EdgeKind::Upstream { success_only } => {
                    let q = self.key(m).map_or(usize::MAX, |k| k.0);
                    upstream.entry(q).or_default().push((m, success_only));
                }
                _ => match self.gate_before(m) {
                    Some(g) => gate = gate.or(Some(g)),
                    None => return None,
                },
            }
        }
        // An upstream pipeline succeeds only when all its jobs did: one gate among
        // its final jobs is enough, provided the conclusion is checked.
        for (_, sinks) in upstream {
            if sinks.iter().any(|(_, success_only)| !success_only) {
                return None;
            }
            match sinks.iter().find_map(|(m, _)| self.gate_through(*m)) {
                Some(g) => gate = gate.or(Some(g)),
                None => return None,
            }
        }
        gate
    }

    /// The pipeline also starts without any upstream or caller (push, tag, PR,
    /// schedule, API…). A person starting it by hand is left aside: that is an
    /// override, not the automated path.
    fn pipeline_starts_on_its_own(&self, p: usize) -> bool {
        let Some(pipeline) = self.ctx.pipelines.get(p) else {
            return false;
        };
        if pipeline.reusable {
            return false;
        }
        pipeline.triggers.iter().any(|t| {
            !matches!(
                t.kind,
                TriggerKind::Manual | TriggerKind::Upstream | TriggerKind::Call
            )
        })
    }
}

/// The step order inside one job: a test or evaluation step (not `may_fail`)
/// before the deploy step. Returns the test step's location.
fn tests_before_deploy_in_job(ctx: &Ctx, key: (usize, usize)) -> Option<Location> {
    let job = ctx.job(key)?;
    let practices = ctx.practices_of(key);
    let deploy_step = practices
        .and_then(|p| p.get("deploy.automated"))
        .and_then(|loc| step_index_at(job, loc))
        .or_else(|| {
            job.steps.iter().position(|s| {
                s.run.as_deref().is_some_and(|r| {
                    super::deploy_step_pattern().is_match(&super::without_prints(r))
                })
            })
        })?;
    let from_rules = practices.into_iter().flat_map(|p| {
        GATE_PRACTICES
            .iter()
            .filter_map(|g| p.get(*g))
            .filter_map(|loc| step_index_at(job, loc))
    });
    let by_text = job.steps.iter().enumerate().filter_map(|(i, s)| {
        s.run
            .as_deref()
            .is_some_and(|r| test_step_pattern().is_match(&super::without_prints(r)))
            .then_some(i)
    });
    from_rules
        .chain(by_text)
        .filter(|&i| i < deploy_step)
        .filter_map(|i| job.steps.get(i))
        .find(|s| !step_cannot_fail(s))
        .map(|s| s.location.clone())
}

fn dispatch_patterns() -> &'static (Regex, Regex) {
    static RE: std::sync::OnceLock<(Regex, Regex)> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        (
            Regex::new(r#"gh\s+workflow\s+run\s+['"]?([^\s'"]+)"#).expect("constant regex"),
            Regex::new(r#"actions/workflows/([^/\s'"]+)/dispatches"#).expect("constant regex"),
        )
    })
}

/// Does a step start pipeline `target` by a workflow dispatch (`gh workflow run
/// deploy.yml`, the `…/actions/workflows/deploy.yml/dispatches` API) or a
/// repository dispatch (`peter-evans/repository-dispatch`, `…/dispatches`)
/// that `target` listens to?
fn step_dispatches(step: &crate::pipeline::Step, target: &crate::pipeline::Pipeline) -> bool {
    let file_name = target.file.rsplit('/').next().unwrap_or(&target.file);
    let names = |n: &str| {
        let n = n.trim_matches(['"', '\'']);
        n == file_name || n == target.file || target.name.as_deref() == Some(n)
    };
    let (gh_run, api) = dispatch_patterns();
    let by_workflow = step.run.as_deref().is_some_and(|run| {
        let text = super::without_prints(run);
        gh_run
            .captures_iter(&text)
            .chain(api.captures_iter(&text))
            .any(|c| c.get(1).is_some_and(|m| names(m.as_str())))
    });
    let listens_to_api = target.triggers.iter().any(|t| t.kind == TriggerKind::Api);
    let by_repository_dispatch = listens_to_api
        && (step
            .uses
            .as_ref()
            .is_some_and(|u| u.target.contains("repository-dispatch"))
            || step.run.as_deref().is_some_and(|r| {
                let text = super::without_prints(r);
                text.contains("/dispatches") && !api.is_match(&text)
            }));
    by_workflow || by_repository_dispatch
}

/// The ML path of `deploy.gated_by_tests`: "an evaluation threshold gates
/// registration and registration triggers deployment". When pipeline `p` does
/// not start on its own (only by hand or by dispatch), a job elsewhere that
/// dispatches it after a gate (its own evaluation/test step before the dispatch
/// step, or a gate job it needs) gates every deploy in `p`. Returns the gate,
/// the dispatch step's location and the dispatching job.
fn dispatched_after_gate<'a>(
    ctx: &Ctx<'a>,
    solver: &mut GateSolver<'_, 'a>,
    p: usize,
) -> Option<(NodeIndex, Location, &'a Job)> {
    let target = ctx.pipelines.get(p)?;
    if solver.pipeline_starts_on_its_own(p) {
        return None;
    }
    for (q, pipeline) in ctx.pipelines.iter().enumerate() {
        if q == p {
            continue;
        }
        for (j, job) in pipeline.jobs.iter().enumerate() {
            let Some(dispatch_ix) = job.steps.iter().position(|s| step_dispatches(s, target))
            else {
                continue;
            };
            let Some(node) = ctx.graph.node(q, &job.id) else {
                continue;
            };
            let Some(dispatch_step) = job.steps.get(dispatch_ix) else {
                continue;
            };
            let gate = match gate_practice(ctx, (q, j)) {
                // The job's own evaluation must come before its dispatch step.
                Some(loc) => step_index_at(job, &loc)
                    .is_none_or(|i| i < dispatch_ix)
                    .then_some(node),
                None => solver.gate_before(node),
            };
            if let Some(gate) = gate {
                return Some((gate, dispatch_step.location.clone(), job));
            }
        }
    }
    None
}

/// `deploy.gated_by_tests` — "in the job graph a deploy job runs only after a
/// test or evaluation job succeeded (`needs`, stage order, success
/// conditions), across linked pipelines too". A job that tests then deploys in
/// its own steps also counts. Jobs or steps allowed to fail do not gate.
/// An evaluation threshold that gates registration which triggers deployment is
/// covered as far as the graph links those jobs (an evaluation job is a gate).
pub(crate) fn deploy_gated_by_tests(ctx: &Ctx, findings: &mut Findings) {
    let mut solver = GateSolver {
        ctx,
        memo: HashMap::new(),
        in_progress: HashSet::new(),
    };
    let confidence = if ctx.deploy_from_rules {
        Confidence::High
    } else {
        Confidence::Medium
    };
    for &key in &ctx.deploy_jobs {
        let Some(deploy) = ctx.job(key) else { continue };
        let Some(pipeline) = ctx.pipelines.get(key.0) else {
            continue;
        };
        let Some(node) = ctx.graph.node(key.0, &deploy.id) else {
            continue;
        };
        let mut qualifiers = vec![qualifier::IN_PIPELINE];
        if targets_production(deploy) {
            qualifiers.push(qualifier::PRODUCTION);
        }
        if let Some(gate) = solver.gate_before(node) {
            let Some(test_job) = solver.key(gate).and_then(|k| ctx.job(k)) else {
                continue;
            };
            let gate_pipeline = solver
                .key(gate)
                .and_then(|k| ctx.pipelines.get(k.0))
                .filter(|q| q.file != pipeline.file)
                .map(|q| format!(" ({})", q.name.as_deref().unwrap_or(&q.file)))
                .unwrap_or_default();
            findings.add(
                "deploy.gated_by_tests",
                file_evidence(
                    "deploy.gated_by_tests",
                    deploy.location.clone(),
                    format!(
                        "deploy job {} runs after test job {}{}",
                        deploy.display_name(),
                        test_job.display_name(),
                        gate_pipeline
                    ),
                    vec![test_job.location.clone(), deploy.location.clone()],
                    &qualifiers,
                    confidence,
                ),
            );
        } else if let Some((gate, dispatch_step, dispatcher)) =
            dispatched_after_gate(ctx, &mut solver, key.0)
        {
            let Some(test_job) = solver.key(gate).and_then(|k| ctx.job(k)) else {
                continue;
            };
            findings.add(
                "deploy.gated_by_tests",
                file_evidence(
                    "deploy.gated_by_tests",
                    deploy.location.clone(),
                    format!(
                        "deploy job {} runs after test job {} (dispatched by job {})",
                        deploy.display_name(),
                        test_job.display_name(),
                        dispatcher.display_name()
                    ),
                    vec![
                        test_job.location.clone(),
                        dispatch_step,
                        deploy.location.clone(),
                    ],
                    &qualifiers,
                    Confidence::Medium,
                ),
            );
        } else if let Some(test_step) = tests_before_deploy_in_job(ctx, key) {
            findings.add(
                "deploy.gated_by_tests",
                file_evidence(
                    "deploy.gated_by_tests",
                    deploy.location.clone(),
                    format!(
                        "deploy job {} runs its tests before deploying",
                        deploy.display_name()
                    ),
                    vec![test_step, deploy.location.clone()],
                    &qualifiers,
                    confidence,
                ),
            );
        }
    }
}

/// `deploy.environments` — "at least two named environments that a model or
/// service is deployed to, with a path from one to the next. A single
/// expression-valued `environment:` does not count, nor stacks where only
/// training runs." Only deploy jobs' static environments are read.
pub(crate) fn deploy_environments(ctx: &Ctx, findings: &mut Findings) {
    let envs: Vec<(NodeIndex, &Job, DeployTarget)> = ctx
        .deploy_jobs
        .iter()
        .filter_map(|&key| {
            let job = ctx.job(key)?;
            let target = deploy_target(job)?;
            let node = ctx.graph.node(key.0, &job.id)?;
            Some((node, job, target))
        })
        .collect();
    let mut pairs_seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (later_node, later, to) in &envs {
        let ancestors: HashSet<NodeIndex> = ctx.graph.ancestors(*later_node).into_iter().collect();
        for (earlier_node, earlier, from) in &envs {
            let (from_key, to_key) = (from.name.to_ascii_lowercase(), to.name.to_ascii_lowercase());
            if from_key == to_key || !ancestors.contains(earlier_node) {
                continue;
            }
            if !pairs_seen.insert((from_key, to_key)) {
                continue;
            }
            let mut qualifiers = vec![qualifier::IN_PIPELINE];
            if is_production_name(&to.name) || targets_production(later) {
                qualifiers.push(qualifier::PRODUCTION);
            }
            // Names read from job names (Jenkins stages) are weaker than declared environments.
            let confidence = if from.from_job_name || to.from_job_name {
                Confidence::Medium
            } else {
                Confidence::High
            };
            findings.add(
                "deploy.environments",
                file_evidence(
                    "deploy.environments",
                    to.location.clone(),
                    format!(
                        "deploys to {} (job {}) then {} (job {})",
                        from.name,
                        earlier.display_name(),
                        to.name,
                        later.display_name()
                    ),
                    vec![from.location.clone(), to.location.clone()],
                    &qualifiers,
                    confidence,
                ),
            );
        }
    }
}

/// A person must start or approve the job (GitLab `when: manual`, Jenkins `input`).
fn waits_for_a_person(job: &Job) -> bool {
    job.manual
        || job.steps.iter().any(|s| {
            s.uses
                .as_ref()
                .is_some_and(|u| u.target == "input" || u.target.starts_with("input "))
        })
}

/// `deploy.approval_gate` — "the delivery flow pauses for a human decision
/// before production: GitLab `when: manual` on a deploy job after earlier
/// stages, Jenkins `input` … A deployment that only runs when a person starts it
/// from scratch (`workflow_dispatch` alone) is manual, not gated." So the manual
/// job must have predecessors, and lie on the path to a production deploy (a
/// production-named environment, or the last deploy job when none is named so).
pub(crate) fn deploy_approval_gate(ctx: &Ctx, findings: &mut Findings) {
    let deploy_nodes: Vec<(NodeIndex, (usize, usize))> = ctx
        .deploy_jobs
        .iter()
        .filter_map(|&key| {
            let job = ctx.job(key)?;
            Some((ctx.graph.node(key.0, &job.id)?, key))
        })
        .collect();
    let any_production = deploy_nodes
        .iter()
        .filter_map(|&(_, k)| ctx.job(k))
        .any(targets_production);
    for &(node, key) in &deploy_nodes {
        let Some(deploy) = ctx.job(key) else { continue };
        let production = targets_production(deploy);
        let is_last_deploy = !deploy_nodes
            .iter()
            .any(|&(other, _)| other != node && ctx.graph.ancestors(other).contains(&node));
        if !(production || (!any_production && is_last_deploy)) {
            continue;
        }
        let mut candidates = vec![node];
        candidates.extend(ctx.graph.ancestors(node));
        for m in candidates {
            let Some(weight) = ctx.graph.graph.node_weight(m) else {
                continue;
            };
            let Some(manual_job) = ctx.job((weight.pipeline, weight.job)) else {
                continue;
            };
            if !waits_for_a_person(manual_job) || ctx.graph.predecessors(m).is_empty() {
                continue;
            }
            let mut qualifiers = vec![qualifier::IN_PIPELINE];
            if production {
                qualifiers.push(qualifier::PRODUCTION);
            }
            let excerpt = if m == node {
                format!(
                    "deploy job {} waits for a person after earlier jobs",
                    deploy.display_name()
                )
            } else {
                format!(
                    "manual job {} before deploy job {}",
                    manual_job.display_name(),
                    deploy.display_name()
                )
            };
            // The chain shows what comes before the pause, then the deploy.
            let before = if m == node {
                ctx.graph
                    .predecessors(m)
                    .first()
                    .and_then(|(p, _)| ctx.graph.graph.node_weight(*p))
                    .and_then(|w| ctx.job((w.pipeline, w.job)))
                    .map_or_else(|| manual_job.location.clone(), |j| j.location.clone())
            } else {
                manual_job.location.clone()
            };
            findings.add(
                "deploy.approval_gate",
                file_evidence(
                    "deploy.approval_gate",
                    manual_job.location.clone(),
                    excerpt,
                    vec![before, deploy.location.clone()],
                    &qualifiers,
                    Confidence::High,
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::swallows_failure;

    #[test]
    fn failure_swallowing_fallbacks() {
        assert!(swallows_failure("pytest tests || true"));
        assert!(swallows_failure("python -m pytest || echo \"skipped\""));
        assert!(swallows_failure("pytest || exit 0"));
        assert!(swallows_failure("pytest || :"));
        assert!(!swallows_failure("pytest tests"));
        assert!(!swallows_failure("pytest || exit 1"));
        assert!(!swallows_failure("test -f x || make x"));
    }
}
