//! Detectors: map what the snapshot shows onto the practices of the catalog
//! (`docs/practices.md`, from the shared practice catalog), each with evidence.
//!
//! Rules are data in `detectors/` (embedded at build time, extensible with
//! `--detectors DIR`); questions rules cannot express are coded detectors with
//! clear names (e.g. `deploy.gated_by_tests`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::evidence::{ApiRecord, Diagnostic, Location};

/// Qualifiers refine a piece of evidence; the level table can ask for them
/// (`model.evaluation[threshold]`). The vocabulary is closed: only these.
pub mod qualifier {
    /// The evidence is executed by a CI pipeline (directly in a step, or reached
    /// from one through a Makefile target, script, tox/nox session or job spec).
    pub const IN_PIPELINE: &str = "in_pipeline";
    /// A threshold or comparison fails the job (evaluation gate, coverage floor).
    pub const THRESHOLD: &str = "threshold";
    /// Runs on pushes or pull/merge requests.
    pub const ON_CHANGE: &str = "on_change";
    /// Runs on a schedule.
    pub const SCHEDULED: &str = "scheduled";
    /// Targets a production environment.
    pub const PRODUCTION: &str = "production";
    /// Runs without a person starting it (not only `workflow_dispatch` / `when: manual`).
    pub const AUTOMATIC: &str = "automatic";
    /// ML-specific evidence (about models or data rather than generic software).
    pub const ML: &str = "ml";

    pub const ALL: &[&str] = &[
        IN_PIPELINE,
        THRESHOLD,
        ON_CHANGE,
        SCHEDULED,
        PRODUCTION,
        AUTOMATIC,
        ML,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Seen in a repository file.
    File { location: Location },
    /// Seen in an API record.
    Api { record: ApiRecord },
    /// Declared by the repository's owners in `.mlops-maturity.toml`; not observed.
    Attested {
        url: String,
        reason: String,
        /// Where the attestation is written (the config file and line).
        location: Location,
    },
}

/// One piece of evidence for a practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Id of the rule (or coded detector) that produced it.
    pub rule: String,
    pub origin: Origin,
    /// The matched text, job or record, short enough for a report line.
    pub excerpt: String,
    /// How a pipeline reaches it: workflow step → file → line (empty when direct).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Location>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub qualifiers: BTreeSet<String>,
    pub confidence: Confidence,
}

impl Evidence {
    pub fn is_attested(&self) -> bool {
        matches!(self.origin, Origin::Attested { .. })
    }
    pub fn has(&self, qualifier: &str) -> bool {
        self.qualifiers.contains(qualifier)
    }
}

/// A practice of the catalog observed (or attested), with all its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeFinding {
    /// Practice id from the catalog, e.g. `ci.tests`.
    pub practice: String,
    /// Never empty.
    pub evidence: Vec<Evidence>,
}

impl PracticeFinding {
    /// Evidence that carries every one of the given qualifiers.
    pub fn evidence_with<'a>(
        &'a self,
        qualifiers: &'a [&'a str],
    ) -> impl Iterator<Item = &'a Evidence> + 'a {
        self.evidence
            .iter()
            .filter(move |e| qualifiers.iter().all(|q| e.has(q)))
    }
}

/// Everything the detectors found in one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// Sorted by practice id; one entry per practice.
    pub findings: Vec<PracticeFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
}

impl Detection {
    pub fn practice(&self, id: &str) -> Option<&PracticeFinding> {
        self.findings.iter().find(|f| f.practice == id)
    }
}

pub mod coded;
pub mod engine;
pub mod reach;
pub mod rules;

pub use rules::{RuleInfo, RuleSet};

use crate::evidence::Snapshot;
use crate::pipeline::JobGraph;

/// What the rule engine saw per job: which practices each pipeline job shows
/// (directly in its steps or reached from them). Coded detectors use this to
/// tell test/evaluation jobs and deploy jobs apart in the job graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobPractices {
    /// `(pipeline index, job index)` → practice ids, with the evidence location.
    pub by_job:
        std::collections::BTreeMap<(usize, usize), std::collections::BTreeMap<String, Location>>,
}

/// Output of the rule engine, input of the coded detectors.
#[derive(Debug, Clone, Default)]
pub struct RuleOutput {
    pub findings: Vec<PracticeFinding>,
    pub jobs: JobPractices,
    pub diagnostics: Vec<Diagnostic>,
}

/// Run every rule and coded detector over a snapshot.
pub fn detect(snapshot: &Snapshot, graph: &JobGraph, rules: &RuleSet) -> Detection {
    let output = engine::run(snapshot, graph, rules);
    coded::run(snapshot, graph, output)
}
