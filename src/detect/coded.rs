//! Coded detectors: questions rules cannot express (graph and history questions).

use crate::evidence::Snapshot;
use crate::pipeline::JobGraph;

use super::{Detection, RuleOutput};

pub fn run(snapshot: &Snapshot, graph: &JobGraph, output: RuleOutput) -> Detection {
    let _ = (snapshot, graph);
    let mut findings = output.findings;
    findings.sort_by(|a, b| a.practice.cmp(&b.practice));
    Detection {
        findings,
        diagnostics: output.diagnostics,
    }
}
