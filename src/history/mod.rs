//! Deploy-history analytics: delivery metrics (DORA four keys and their proxies),
//! CI health, release cadence and rollbacks, computed over normalised [`Event`]s.
//!
//! Where the events come from does not matter: [`from_api`] converts what the
//! GitHub/GitLab connectors put in [`ApiEvidence`], [`from_git`] adds commit
//! times, and [`import_file`] reads the `--history FILE` JSON Lines / CSV format
//! (documented in `docs/history.md`). [`compute`] (or a streaming
//! [`Accumulator`]) turns events into [`Metrics`]; [`history_findings`] turns
//! metrics into `history.*` practice findings for the level table.
//!
//! Definitions follow `shared/spec/level-signals.md` §2: DevLake-style deployment
//! frequency on deploy-days of successful production deployments, fourkeys-style
//! lead time when only deployed SHAs and commit times are known, and clearly
//! labelled *deployment-failure proxies* for change failure rate and time to
//! restore (no incident data is available). Every metric names its window, the
//! number of events it rests on, and the band year of the DORA band it quotes; a
//! metric without enough history is `insufficient` with the reason.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::evidence::{ApiEvidence, ApiRecord, Diagnostic, GitMeta};

mod facts;
mod import;
mod metrics;
mod sketch;
pub mod time;

pub use facts::history_findings;
pub use import::{HistoryFormat, import_file, import_reader, metrics_from_file, read_events};
pub use metrics::{
    Accumulator, Band, CFR_LABEL, ChangeFailureRate, CiHealth, DataQuality, DeployFrequency,
    EnvironmentFrequency, LeadTime, LeadTimeDefinition, Metric, Metrics, Outcome, Rating,
    ReleaseCadence, Restore, Rollback, Rollbacks, TTR_LABEL, TimeToRestore, Window, compute,
};

/// Default production-environment pattern: `prod`/`production` as the first word
/// (`production`, `prod-eu`, `Prod`) or as a `-`/`_`/`/` suffix (`app-prod`,
/// `k8s/production`); not `preprod`, `product-catalog` or `staging`.
pub const DEFAULT_PRODUCTION_PATTERN: &str = r"(?i)^prod(uction)?\b|[-_/]prod(uction)?$";

/// Default analysis window in days (DORA's "last three months").
pub const DEFAULT_WINDOW_DAYS: u32 = 90;

/// How history is analysed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryConfig {
    /// Regex an environment name must match to count as production when its
    /// GitLab tier is unknown. A known tier always wins.
    pub production_pattern: String,
    /// Length of the window, ending at `now` (or the newest event).
    pub window_days: u32,
    /// End of the window, Unix seconds; `None` = the newest event seen.
    pub now: Option<i64>,
    /// Production deployments this many days before the window are kept as
    /// context (a rollback to a SHA deployed just before the window, a failure
    /// restored inside it) but never counted in a rate.
    pub context_days: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            production_pattern: DEFAULT_PRODUCTION_PATTERN.to_string(),
            window_days: DEFAULT_WINDOW_DAYS,
            now: None,
            context_days: 30,
        }
    }
}

/// One thing that happened, normalised from an API record or a history file line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Run(RunEvent),
    Deployment(DeploymentEvent),
    Release(ReleaseEvent),
    Commit(CommitEvent),
}

impl Event {
    /// The instant that places the event in a window (creation / commit time).
    pub fn time(&self) -> i64 {
        match self {
            Event::Run(r) => r.created,
            Event::Deployment(d) => d.created,
            Event::Release(r) => r.created,
            Event::Commit(c) => c.time,
        }
    }
    /// Where the event was read.
    pub fn source(&self) -> &ApiRecord {
        match self {
            Event::Run(r) => &r.source,
            Event::Deployment(d) => &d.source,
            Event::Release(r) => &r.source,
            Event::Commit(c) => &c.source,
        }
    }
}

/// A CI run (GitHub workflow run, GitLab pipeline, Jenkins build). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    pub id: String,
    pub workflow: String,
    /// push, pull_request, schedule, … (GitHub `event`, GitLab `source`).
    pub trigger: String,
    /// success, failure, cancelled, … ; `None` while running or when unknown.
    pub conclusion: Option<String>,
    pub sha: Option<String>,
    pub branch: Option<String>,
    pub created: i64,
    pub finished: Option<i64>,
    /// Reported duration; when absent, `finished - created` is used.
    pub duration_seconds: Option<f64>,
    pub source: ApiRecord,
}

/// A deployment to an environment with its status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentEvent {
    pub id: String,
    pub environment: String,
    /// GitLab environment tier (`production`, `staging`, …) when known.
    pub tier: Option<String>,
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub created: i64,
    /// Oldest first. Empty = statuses unknown.
    pub statuses: Vec<StatusEvent>,
    pub source: ApiRecord,
}

/// One deployment status: `success`, `failure`, `error`, `inactive`, `in_progress`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub state: String,
    /// Unix seconds; `None` when the status carried no usable time.
    pub at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseEvent {
    pub tag: String,
    pub created: i64,
    pub prerelease: bool,
    pub source: ApiRecord,
}

/// A commit with its time, for lead time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitEvent {
    pub sha: String,
    pub time: i64,
    pub source: ApiRecord,
}

fn api_time(
    text: &str,
    what: &str,
    record: &ApiRecord,
    diags: &mut Vec<Diagnostic>,
) -> Option<i64> {
    let parsed = time::parse_rfc3339(text);
    if parsed.is_none() {
        diags.push(Diagnostic::warning(
            "history-bad-time",
            format!(
                "{} {}: {what} `{text}` is not an RFC 3339 time; record skipped",
                record.endpoint,
                record.record.as_deref().unwrap_or("")
            ),
            None,
        ));
    }
    parsed
}

/// Convert the runs, deployments and releases a connector collected into events.
/// Environment tiers come from `api.environments` when collected. Records with an
/// unreadable creation time are skipped with a diagnostic.
pub fn from_api(api: &ApiEvidence) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let mut diags = Vec::new();
    let tiers: HashMap<&str, &str> = api
        .environments
        .items()
        .map(|envs| {
            envs.iter()
                .filter_map(|e| e.tier.as_deref().map(|t| (e.name.as_str(), t)))
                .collect()
        })
        .unwrap_or_default();
    for run in api.runs.items().into_iter().flatten() {
        let Some(created) = api_time(&run.created_at, "created_at", &run.record, &mut diags) else {
            continue;
        };
        let finished = run.updated_at.as_deref().and_then(time::parse_rfc3339);
        events.push(Event::Run(RunEvent {
            id: run.id.clone(),
            workflow: run.workflow.clone(),
            trigger: run.event.clone(),
            conclusion: run.conclusion.clone(),
            sha: run.head_sha.clone(),
            branch: run.branch.clone(),
            created,
            finished,
            duration_seconds: run.duration_seconds,
            source: run.record.clone(),
        }));
    }
    for dep in api.deployments.items().into_iter().flatten() {
        let Some(created) = api_time(&dep.created_at, "created_at", &dep.record, &mut diags) else {
            continue;
        };
        let statuses = dep
            .statuses
            .iter()
            .map(|s| StatusEvent {
                state: s.state.clone(),
                at: time::parse_rfc3339(&s.created_at),
            })
            .collect();
        events.push(Event::Deployment(DeploymentEvent {
            id: dep.id.clone(),
            environment: dep.environment.clone(),
            tier: tiers.get(dep.environment.as_str()).map(|t| t.to_string()),
            sha: dep.sha.clone(),
            git_ref: dep.git_ref.clone(),
            created,
            statuses,
            source: dep.record.clone(),
        }));
    }
    for rel in api.releases.items().into_iter().flatten() {
        let Some(created) = api_time(&rel.created_at, "created_at", &rel.record, &mut diags) else {
            continue;
        };
        events.push(Event::Release(ReleaseEvent {
            tag: rel.tag.clone(),
            created,
            prerelease: rel.prerelease,
            source: rel.record.clone(),
        }));
    }
    (events, diags)
}

/// Commit events from the git metadata of a checkout (its recent commits), for lead time.
pub fn from_git(git: &GitMeta) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let mut diags = Vec::new();
    for commit in &git.recent_commits {
        let record = ApiRecord {
            endpoint: "git log".to_string(),
            record: Some(format!("commit {}", commit.sha)),
            url: None,
        };
        if let Some(time) = api_time(&commit.date, "date", &record, &mut diags) {
            events.push(Event::Commit(CommitEvent {
                sha: commit.sha.clone(),
                time,
                source: record,
            }));
        }
    }
    (events, diags)
}

/// The history behind one scan: what the connector collected through an API
/// (runs, deployments, releases, with commit times from git metadata) plus an
/// imported `--history` file. `Ok(None)` when there is no history at all (a local
/// scan without `--history`): then no `history.*` fact is claimed, and the report
/// says history was not collected rather than inventing rates.
pub fn analyse(
    snapshot: &crate::evidence::Snapshot,
    file: Option<&std::path::Path>,
    config: &HistoryConfig,
) -> anyhow::Result<Option<(Metrics, Vec<Diagnostic>)>> {
    use anyhow::Context;
    let api = &snapshot.api;
    let api_collected = api.runs.items().is_some()
        || api.deployments.items().is_some()
        || api.releases.items().is_some();
    if !api_collected && file.is_none() {
        return Ok(None);
    }
    let mut acc = Accumulator::new(config.clone())
        .with_context(|| format!("bad production pattern `{}`", config.production_pattern))?;
    let mut diagnostics = Vec::new();
    if api_collected {
        let (events, diags) = from_api(api);
        diagnostics.extend(diags);
        events.into_iter().for_each(|e| acc.push(e));
    }
    if let Some(git) = &snapshot.git {
        let (events, diags) = from_git(git);
        diagnostics.extend(diags);
        events.into_iter().for_each(|e| acc.push(e));
    }
    if let Some(path) = file {
        let reader = std::io::BufReader::new(
            std::fs::File::open(path)
                .with_context(|| format!("cannot open history file {}", path.display()))?,
        );
        let name = path.to_string_lossy().replace('\\', "/");
        let format = HistoryFormat::from_path(path);
        diagnostics.extend(read_events(reader, &name, format, |e| acc.push(e)));
    }
    Ok(Some((acc.finish(), diagnostics)))
}

/// One line per metric for the text and Markdown reports: the measured value with
/// its window and band, or why there is none.
pub fn describe(metrics: &Metrics) -> Vec<(&'static str, String)> {
    let findings = history_findings(metrics);
    let measured = |practice: &str| {
        findings
            .iter()
            .find(|f| f.practice == practice)
            .and_then(|f| f.evidence.first())
            .map(|e| e.excerpt.clone())
    };
    let line = |practice: &'static str, label: &'static str, insufficient: &Option<String>| {
        let text = measured(practice).unwrap_or_else(|| match insufficient {
            Some(reason) => format!("not measured: {reason}"),
            None => "none in the window".to_string(),
        });
        (label, text)
    };
    vec![
        line(
            "history.deploy_frequency",
            "Deployment frequency",
            &metrics.deploy_frequency.insufficient,
        ),
        line(
            "history.lead_time",
            "Lead time for changes",
            &metrics.lead_time.insufficient,
        ),
        line(
            "history.change_failure_rate",
            "Change failure rate (proxy)",
            &metrics.change_failure_rate.insufficient,
        ),
        line(
            "history.time_to_restore",
            "Time to restore (proxy)",
            &metrics.time_to_restore.insufficient,
        ),
        line(
            "history.rollbacks",
            "Rollbacks",
            &metrics.rollbacks.insufficient,
        ),
        line(
            "history.ci_health",
            "CI health",
            &metrics.ci_health.insufficient,
        ),
        line(
            "history.release_cadence",
            "Release cadence",
            &metrics.release_cadence.insufficient,
        ),
    ]
}
