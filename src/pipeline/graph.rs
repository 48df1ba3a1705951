//! The job graph: every job of every pipeline, linked by what makes one run after another.
//!
//! Edges come from explicit `needs`, from stage order (GitLab stages, Jenkins
//! sequential stages) for jobs without `needs`, from reusable-workflow calls, from
//! downstream/child pipeline triggers and from `workflow_run`-style upstream triggers.
//! An edge `a → b` means "b runs after (and usually only if) a".

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

use super::{Pipeline, TriggerKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// `needs:` / `dependencies` declared on the later job.
    Needs,
    /// The later job's stage comes after the earlier job's stage.
    StageOrder,
    /// The earlier job calls a reusable workflow whose entry job is the later one.
    Calls,
    /// The earlier job triggers a downstream/child pipeline whose entry job is the later one.
    Triggers,
    /// The later pipeline starts when the earlier one completes (`workflow_run`).
    /// `success_only` when the later job checks that the upstream run succeeded.
    Upstream { success_only: bool },
}

/// A job in the graph: indexes into the pipeline list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobNode {
    pub pipeline: usize,
    pub job: usize,
}

/// An edge for JSON output, jobs named `pipeline-id#job-id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeOut {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
}

#[derive(Debug, Clone, Default)]
pub struct JobGraph {
    pub graph: DiGraph<JobNode, EdgeKind>,
    by_key: HashMap<(usize, String), NodeIndex>,
}

impl JobGraph {
    pub fn build(pipelines: &[Pipeline]) -> Self {
        let mut g = JobGraph::default();
        for (p, pipeline) in pipelines.iter().enumerate() {
            for (j, job) in pipeline.jobs.iter().enumerate() {
                let ix = g.graph.add_node(JobNode {
                    pipeline: p,
                    job: j,
                });
                g.by_key.insert((p, job.id.clone()), ix);
            }
        }
        for (p, pipeline) in pipelines.iter().enumerate() {
            g.add_intra_pipeline_edges(p, pipeline);
        }
        g.add_cross_pipeline_edges(pipelines);
        g
    }

    fn add_intra_pipeline_edges(&mut self, p: usize, pipeline: &Pipeline) {
        let stage_rank: HashMap<&str, usize> = pipeline
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        for job in &pipeline.jobs {
            let Some(&to) = self.by_key.get(&(p, job.id.clone())) else {
                continue;
            };
            match &job.needs {
                Some(needs) => {
                    for need in needs {
                        if let Some(&from) = self.by_key.get(&(p, need.clone())) {
                            self.add_edge(from, to, EdgeKind::Needs);
                        }
                    }
                }
                None => {
                    // Stage order: wait for the jobs of the nearest earlier stage that has jobs.
                    let Some(rank) = job.stage.as_deref().and_then(|s| stage_rank.get(s)) else {
                        continue;
                    };
                    for earlier in (0..*rank).rev() {
                        let stage = pipeline.stages[earlier].as_str();
                        let prev: Vec<NodeIndex> = pipeline
                            .jobs
                            .iter()
                            .filter(|other| other.stage.as_deref() == Some(stage))
                            .filter_map(|other| self.by_key.get(&(p, other.id.clone())).copied())
                            .collect();
                        if !prev.is_empty() {
                            for from in prev {
                                self.add_edge(from, to, EdgeKind::StageOrder);
                            }
                            break;
                        }
                    }
                }
            }
        }
    }

    fn add_cross_pipeline_edges(&mut self, pipelines: &[Pipeline]) {
        for (p, pipeline) in pipelines.iter().enumerate() {
            // Reusable workflow calls and child/downstream pipelines in this repository.
            for job in &pipeline.jobs {
                let Some(from) = self.node(p, &job.id) else {
                    continue;
                };
                for (target, kind) in [
                    (&job.calls, EdgeKind::Calls),
                    (&job.triggers, EdgeKind::Triggers),
                ] {
                    let Some(path) = target
                        .as_ref()
                        .filter(|t| t.local)
                        .and_then(|t| t.path.as_deref())
                    else {
                        continue;
                    };
                    for (q, callee) in pipelines.iter().enumerate() {
                        if callee.file == path && q != p {
                            for root in self.roots_of(q, callee) {
                                self.add_edge(from, root, kind);
                            }
                        }
                    }
                }
            }
            // `workflow_run`: this pipeline starts after the named ones complete.
            for trigger in pipeline
                .triggers
                .iter()
                .filter(|t| t.kind == TriggerKind::Upstream)
            {
                for (q, upstream) in pipelines.iter().enumerate() {
                    if q == p
                        || !trigger
                            .detail
                            .iter()
                            .any(|name| names_pipeline(name, upstream))
                    {
                        continue;
                    }
                    let sinks = self.sinks_of(q, upstream);
                    for root in self.roots_of(p, pipeline) {
                        let job = &pipeline.jobs[self.graph[root].job];
                        let success_only =
                            job.conditions.iter().any(|c| checks_upstream_success(c));
                        for &sink in &sinks {
                            self.add_edge(sink, root, EdgeKind::Upstream { success_only });
                        }
                    }
                }
            }
        }
    }

    fn add_edge(&mut self, from: NodeIndex, to: NodeIndex, kind: EdgeKind) {
        if from != to
            && !self
                .graph
                .edges_connecting(from, to)
                .any(|e| *e.weight() == kind)
        {
            self.graph.add_edge(from, to, kind);
        }
    }

    /// Jobs of a pipeline with no predecessor inside that pipeline.
    fn roots_of(&self, p: usize, pipeline: &Pipeline) -> Vec<NodeIndex> {
        pipeline
            .jobs
            .iter()
            .filter_map(|job| self.by_key.get(&(p, job.id.clone())).copied())
            .filter(|&ix| {
                self.graph
                    .edges_directed(ix, Direction::Incoming)
                    .all(|e| self.graph[e.source()].pipeline != p)
            })
            .collect()
    }

    /// Jobs of a pipeline with no successor inside that pipeline.
    fn sinks_of(&self, p: usize, pipeline: &Pipeline) -> Vec<NodeIndex> {
        pipeline
            .jobs
            .iter()
            .filter_map(|job| self.by_key.get(&(p, job.id.clone())).copied())
            .filter(|&ix| {
                self.graph
                    .edges_directed(ix, Direction::Outgoing)
                    .all(|e| self.graph[e.target()].pipeline != p)
            })
            .collect()
    }

    /// The node of a job, by pipeline index and job id.
    pub fn node(&self, pipeline: usize, job_id: &str) -> Option<NodeIndex> {
        self.by_key.get(&(pipeline, job_id.to_string())).copied()
    }

    /// Direct predecessors of a job, with the edge kind.
    pub fn predecessors(&self, ix: NodeIndex) -> Vec<(NodeIndex, EdgeKind)> {
        self.graph
            .edges_directed(ix, Direction::Incoming)
            .map(|e| (e.source(), *e.weight()))
            .collect()
    }

    /// Every job that must (transitively) come before this one.
    pub fn ancestors(&self, ix: NodeIndex) -> Vec<NodeIndex> {
        let mut seen = vec![false; self.graph.node_count()];
        let mut stack = vec![ix];
        let mut out = Vec::new();
        while let Some(n) = stack.pop() {
            for pred in self.graph.neighbors_directed(n, Direction::Incoming) {
                if !seen[pred.index()] {
                    seen[pred.index()] = true;
                    out.push(pred);
                    stack.push(pred);
                }
            }
        }
        out
    }

    /// Jobs with no predecessor at all: where runs start.
    pub fn entry_points(&self) -> Vec<NodeIndex> {
        self.graph
            .node_indices()
            .filter(|&ix| {
                self.graph
                    .neighbors_directed(ix, Direction::Incoming)
                    .next()
                    .is_none()
            })
            .collect()
    }

    /// Is `target` reachable from some entry point without passing through a job
    /// for which `blocks` is true? (Used for "is deploy gated by tests".)
    pub fn reachable_avoiding(
        &self,
        target: NodeIndex,
        blocks: impl Fn(NodeIndex) -> bool,
    ) -> bool {
        let mut seen = vec![false; self.graph.node_count()];
        let mut stack: Vec<NodeIndex> = self
            .entry_points()
            .into_iter()
            .filter(|&n| !blocks(n) || n == target)
            .collect();
        while let Some(n) = stack.pop() {
            if n == target {
                return true;
            }
            if seen[n.index()] {
                continue;
            }
            seen[n.index()] = true;
            for next in self.graph.neighbors_directed(n, Direction::Outgoing) {
                if next == target || !blocks(next) {
                    stack.push(next);
                }
            }
        }
        false
    }

    /// All edges, with jobs named `pipeline-id#job-id`, in a stable order.
    pub fn edges(&self, pipelines: &[Pipeline]) -> Vec<EdgeOut> {
        let name = |ix: NodeIndex| {
            let n = self.graph[ix];
            format!(
                "{}#{}",
                pipelines[n.pipeline].id, pipelines[n.pipeline].jobs[n.job].id
            )
        };
        let mut out: Vec<EdgeOut> = self
            .graph
            .edge_references()
            .map(|e| EdgeOut {
                from: name(e.source()),
                to: name(e.target()),
                kind: *e.weight(),
            })
            .collect();
        out.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        out
    }
}

/// Does a `workflow_run.workflows` entry name this pipeline? GitHub matches the
/// workflow's `name:`; we also accept its file path or file name, which users write too.
fn names_pipeline(name: &str, pipeline: &Pipeline) -> bool {
    pipeline.name.as_deref() == Some(name)
        || pipeline.file == name
        || pipeline.file.rsplit('/').next() == Some(name)
}

fn checks_upstream_success(condition: &str) -> bool {
    let c: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
    c.contains("workflow_run.conclusion=='success'")
        || c.contains("workflow_run.conclusion==\"success\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Location;
    use crate::pipeline::{CiSystem, ExternalRef, Job, Trigger};

    fn job(id: &str, stage: Option<&str>, needs: Option<Vec<&str>>) -> Job {
        Job {
            stage: stage.map(str::to_string),
            needs: needs.map(|n| n.into_iter().map(str::to_string).collect()),
            ..Job::new(id, Location::new("x", 1))
        }
    }

    fn pipeline(file: &str, name: Option<&str>, stages: &[&str], jobs: Vec<Job>) -> Pipeline {
        Pipeline {
            id: file.into(),
            system: CiSystem::GitlabCi,
            name: name.map(str::to_string),
            file: file.into(),
            triggers: vec![],
            stages: stages.iter().map(|s| s.to_string()).collect(),
            jobs,
            includes: vec![],
            reusable: false,
            location: Location::new(file, 1),
        }
    }

    #[test]
    fn stage_order_and_needs() {
        let p = pipeline(
            ".gitlab-ci.yml",
            None,
            &["build", "test", "deploy"],
            vec![
                job("build", Some("build"), None),
                job("unit", Some("test"), None),
                job("lint", Some("test"), Some(vec![])),
                job("deploy", Some("deploy"), None),
                job("fast", Some("deploy"), Some(vec!["build"])),
            ],
        );
        let ps = vec![p];
        let g = JobGraph::build(&ps);
        let edges: Vec<(String, String, EdgeKind)> = g
            .edges(&ps)
            .into_iter()
            .map(|e| (e.from, e.to, e.kind))
            .collect();
        let f = |a: &str, b: &str, k| {
            (
                format!(".gitlab-ci.yml#{a}"),
                format!(".gitlab-ci.yml#{b}"),
                k,
            )
        };
        assert_eq!(
            edges,
            vec![
                f("build", "fast", EdgeKind::Needs),
                f("build", "unit", EdgeKind::StageOrder),
                f("lint", "deploy", EdgeKind::StageOrder),
                f("unit", "deploy", EdgeKind::StageOrder),
            ]
        );
        let deploy = g.node(0, "deploy").expect("deploy");
        let unit = g.node(0, "unit").expect("unit");
        let lint = g.node(0, "lint").expect("lint");
        // Every path to deploy passes through unit or lint...
        assert!(!g.reachable_avoiding(deploy, |n| n == unit || n == lint));
        // ...but not through unit alone (lint starts at once and leads to deploy).
        assert!(g.reachable_avoiding(deploy, |n| n == unit));
        assert_eq!(g.ancestors(deploy).len(), 3);
    }

    #[test]
    fn workflow_run_and_reusable_calls() {
        let mut ci = pipeline(
            ".github/workflows/ci.yml",
            Some("CI"),
            &[],
            vec![job("test", None, None)],
        );
        ci.system = CiSystem::GithubActions;
        let mut caller = job("release", None, Some(vec![]));
        caller.calls = Some(ExternalRef {
            target: "./.github/workflows/deploy.yml".into(),
            local: true,
            resolved: true,
            path: Some(".github/workflows/deploy.yml".into()),
        });
        let mut cd = pipeline(".github/workflows/cd.yml", Some("CD"), &[], vec![caller]);
        cd.triggers.push(Trigger {
            kind: TriggerKind::Upstream,
            branches: vec![],
            paths: vec![],
            detail: vec!["CI".into()],
            location: Location::new(".github/workflows/cd.yml", 3),
        });
        cd.jobs[0]
            .conditions
            .push("${{ github.event.workflow_run.conclusion == 'success' }}".into());
        let deploy = pipeline(
            ".github/workflows/deploy.yml",
            None,
            &[],
            vec![job("ship", None, None)],
        );
        let ps = vec![ci, cd, deploy];
        let g = JobGraph::build(&ps);
        let kinds: Vec<EdgeKind> = g.edges(&ps).into_iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&EdgeKind::Calls));
        assert!(kinds.contains(&EdgeKind::Upstream { success_only: true }));
        let ship = g.node(2, "ship").expect("ship");
        let test = g.node(0, "test").expect("test");
        assert!(!g.reachable_avoiding(ship, |n| n == test));
        assert!(g.ancestors(ship).contains(&test));
    }
}
