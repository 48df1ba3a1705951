//! Metrics over a window of events, computed with bounded memory.
//!
//! The [`Accumulator`] keeps only what the window (plus a short context before
//! it) needs: per-day aggregates for CI runs, releases and deploy-days per
//! environment, one compact record per *production* deployment (needed for the
//! sequence questions: rollbacks, time to restore, first deployment of a commit)
//! and commit times for a year before the window. Everything older is evicted as
//! the newest event moves the window forward, so a million-event history is
//! processed in the memory of its last few months.
//!
//! Window membership is by UTC day: the window is the last `window_days` days
//! ending with the day of `now` (or of the newest event); deployments are dated
//! by their creation time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::sketch::{Sketch, median};
use super::time::{DAY, day_of, format_rfc3339};
use super::{DeploymentEvent, Event, HistoryConfig, RunEvent, StatusEvent};
use crate::evidence::ApiRecord;

/// Commits this many days before the window stay known (a commit may wait long to ship).
const COMMIT_LOOKBACK_DAYS: i64 = 365;
/// Distinct environments tracked; more are counted in `data_quality` and ignored.
const MAX_ENVIRONMENTS: usize = 256;
/// Rollbacks and restores listed in full; the counts stay exact beyond it.
const MAX_LISTED: usize = 100;
/// Endpoints named per metric.
const MAX_ENDPOINTS: usize = 8;
/// Below these the metric is `insufficient` rather than an invented rate.
const MIN_PRODUCTION_DEPLOYMENTS: u64 = 3;
const MIN_COVERED_DAYS: i64 = 14;
const MIN_RUNS: u64 = 3;
const MIN_LEAD_SAMPLES: usize = 3;
/// Durations per half-window needed before a trend is stated.
const MIN_TREND_SAMPLES: u64 = 3;
const DAYS_PER_MONTH: f64 = 30.4375;

/// DORA performance rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Low,
    Medium,
    High,
    Elite,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Low => "low",
            Rating::Medium => "medium",
            Rating::High => "high",
            Rating::Elite => "elite",
        }
    }
}

/// A DORA band with the year of the band definitions it was read against
/// (bands move yearly, so every report names the year).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub rating: Rating,
    pub year: u16,
    /// Which published thresholds, e.g. `DORA 2021 (DevLake)`.
    pub thresholds: String,
}

impl Band {
    fn new(rating: Rating, year: u16, thresholds: &str) -> Self {
        Band {
            rating,
            year,
            thresholds: thresholds.to_string(),
        }
    }
}

/// A span of time, RFC 3339 UTC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: Option<String>,
    pub end: Option<String>,
    /// Whole UTC days covered.
    pub days: i64,
}

/// One metric: its value (or why there is none), the window it covers, the
/// number of events it rests on and where those events came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric<T> {
    pub window: Window,
    pub events: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    /// Set exactly when `value` is `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insufficient: Option<String>,
    /// The newest record the metric rests on (an API record or `FILE:line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApiRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
}

impl<T> Metric<T> {
    fn insufficient(window: Window, events: u64, reason: impl Into<String>) -> Self {
        Metric {
            window,
            events,
            value: None,
            band: None,
            insufficient: Some(reason.into()),
            source: None,
            endpoints: Vec::new(),
        }
    }
    fn measured(window: Window, events: u64, value: T, band: Option<Band>) -> Self {
        Metric {
            window,
            events,
            value: Some(value),
            band,
            insufficient: None,
            source: None,
            endpoints: Vec::new(),
        }
    }
    fn with_sources(mut self, source: Option<ApiRecord>, endpoints: &BTreeSet<String>) -> Self {
        self.source = source;
        self.endpoints = endpoints.iter().cloned().collect();
        self
    }
    fn strip_sources(&mut self) {
        self.source = None;
        self.endpoints.clear();
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployFrequency {
    /// Median over whole weeks of the number of days with ≥ 1 successful production deployment.
    pub deploy_days_per_week: f64,
    pub weeks: i64,
    pub deploy_days: u64,
    pub successful_deployments: u64,
    pub deployments: u64,
    pub environments: Vec<String>,
}

/// Deployment frequency of one environment (production or not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentFrequency {
    pub environment: String,
    pub production: bool,
    pub deployments: u64,
    pub successful_deployments: u64,
    pub deploy_days: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_days_per_week: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insufficient: Option<String>,
}

/// Which lead-time definition was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeadTimeDefinition {
    /// fourkeys-style: per SHA, its first successful production deployment − the
    /// deployed commit's time (only deployed SHAs have known commit times).
    DeployedCommit,
    /// Every known commit → the first successful production deployment whose
    /// deployed commit is not older than it (assumes a linear deployed branch).
    LinearHistory,
}

impl LeadTimeDefinition {
    pub fn describe(self) -> &'static str {
        match self {
            LeadTimeDefinition::DeployedCommit => {
                "fourkeys-style: deployed commit time → its first successful production deployment"
            }
            LeadTimeDefinition::LinearHistory => {
                "commit → first successful production deployment containing it (linear history assumed)"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTime {
    pub median_seconds: f64,
    pub median_hours: f64,
    pub samples: u64,
    pub definition: LeadTimeDefinition,
    pub definition_text: String,
    /// Lead times ≤ 0 (automated or skewed commits), ignored as fourkeys does.
    pub ignored_non_positive: u64,
}

pub const CFR_LABEL: &str = "deployment-failure proxy (no incident data): failed or rolled-back production deployments ÷ production deployments with a known outcome";
pub const TTR_LABEL: &str = "deployment-failure proxy (no incident data): failed production deployment → next successful production deployment";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeFailureRate {
    pub rate: f64,
    pub failed: u64,
    /// Successful deployments later replaced by a rollback.
    pub rolled_back: u64,
    /// Production deployments with a known outcome (success or failure).
    pub deployments: u64,
    pub cancelled: u64,
    pub pending: u64,
    pub unknown_status: u64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restore {
    pub environment: String,
    pub failed_deployment: String,
    pub restored_by: String,
    pub seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeToRestore {
    pub median_seconds: f64,
    pub median_hours: f64,
    pub restored: u64,
    /// Failures in the window with no later successful deployment.
    pub unrestored: u64,
    pub restores: Vec<Restore>,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    pub environment: String,
    /// The deployment that went back to an earlier SHA.
    pub deployment: String,
    pub sha: String,
    pub at: String,
    pub outcome: Outcome,
    /// The earlier successful deployment of the same SHA.
    pub returns_to: String,
    /// Deployments between the two (the versions rolled back).
    pub replaced: Vec<String>,
    /// The deployment just before it had failed.
    pub after_failure: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApiRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollbacks {
    pub count: u64,
    pub after_failure: u64,
    /// At most 100, newest last.
    pub list: Vec<Rollback>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiHealth {
    pub success_rate: f64,
    pub succeeded: u64,
    pub failed: u64,
    /// cancelled, skipped, neutral, manual …: not in the rate.
    pub excluded: u64,
    /// No conclusion (running or unknown): not in the rate.
    pub unknown: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_duration_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_half_median_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_half_median_seconds: Option<f64>,
    /// `second / first − 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_change: Option<f64>,
    /// `slower` (> +10 %), `faster` (< −10 %) or `stable`; absent with a note when a half has < 3 runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_note: Option<String>,
    /// `exact`, or `±1 %` when a median came from the bounded histogram.
    pub duration_precision: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseCadence {
    pub releases: u64,
    pub prereleases: u64,
    pub per_month: f64,
    pub months: f64,
}

/// What was wrong with the data, counted rather than fatal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataQuality {
    /// Deployment statuses dated before their deployment (clamped to its creation).
    pub status_before_deployment: u64,
    /// Deployment statuses without a usable time (the deployment's creation used).
    pub status_without_time: u64,
    /// Runs whose duration came out negative (ignored for durations).
    pub negative_run_durations: u64,
    /// Restores dated before their failure (clamped to 0).
    pub negative_restore_times: u64,
    pub non_positive_lead_times: u64,
    /// Events dated after `now` (ignored).
    pub events_after_now: u64,
    /// Events read that fall before the window.
    pub events_outside_window: u64,
    pub environments_over_limit: u64,
    /// Production deployments in the window without any status (excluded from rates).
    pub unknown_status_deployments: u64,
    pub notes: Vec<String>,
}

/// Everything the history says, ready to serialise into a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The configured window.
    pub window: Window,
    /// The part of the window the history actually covers.
    pub covered: Window,
    pub production_pattern: String,
    pub production_environments: Vec<String>,
    pub environments: Vec<EnvironmentFrequency>,
    pub deploy_frequency: Metric<DeployFrequency>,
    pub lead_time: Metric<LeadTime>,
    pub change_failure_rate: Metric<ChangeFailureRate>,
    pub time_to_restore: Metric<TimeToRestore>,
    pub rollbacks: Metric<Rollbacks>,
    pub ci_health: Metric<CiHealth>,
    pub release_cadence: Metric<ReleaseCadence>,
    pub data_quality: DataQuality,
}

impl Metrics {
    /// The same metrics without provenance (sources, endpoints): two imports of the
    /// same events from different places compare equal.
    pub fn values_only(&self) -> Metrics {
        let mut m = self.clone();
        m.deploy_frequency.strip_sources();
        m.lead_time.strip_sources();
        m.change_failure_rate.strip_sources();
        m.time_to_restore.strip_sources();
        m.rollbacks.strip_sources();
        m.ci_health.strip_sources();
        m.release_cadence.strip_sources();
        if let Some(r) = &mut m.rollbacks.value {
            r.list.iter_mut().for_each(|r| r.source = None);
        }
        m
    }
}

/// The result of a deployment, from its statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    Cancelled,
    /// Statuses present but none final (queued, in_progress, inactive only, …).
    Pending,
    /// No statuses at all.
    Unknown,
}

fn status_kind(state: &str) -> Option<Outcome> {
    match state.to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "successful" => Some(Outcome::Success),
        "failure" | "failed" | "error" | "errored" => Some(Outcome::Failure),
        "canceled" | "cancelled" | "skipped" => Some(Outcome::Cancelled),
        _ => None,
    }
}

/// The decisive (last final) status and its time, clamped to the deployment's
/// creation when the clock says it came before it.
fn outcome_of(created: i64, statuses: &[StatusEvent], dq: &mut DataQuality) -> (Outcome, i64) {
    if statuses.is_empty() {
        return (Outcome::Unknown, created);
    }
    for status in statuses {
        match status.at {
            None => dq.status_without_time += 1,
            Some(at) if at < created => dq.status_before_deployment += 1,
            Some(_) => {}
        }
    }
    match statuses
        .iter()
        .rev()
        .find_map(|s| status_kind(&s.state).map(|o| (o, s.at)))
    {
        Some((outcome, at)) => (outcome, at.unwrap_or(created).max(created)),
        None => (Outcome::Pending, created),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunClass {
    Success,
    Failure,
    Excluded,
    Unknown,
}

fn run_class(conclusion: Option<&str>) -> RunClass {
    let Some(c) = conclusion else {
        return RunClass::Unknown;
    };
    match c.to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "passed" => RunClass::Success,
        "failure" | "failed" | "timed_out" | "startup_failure" | "error" => RunClass::Failure,
        "" | "in_progress" | "running" | "pending" | "queued" | "waiting" | "created"
        | "requested" => RunClass::Unknown,
        _ => RunClass::Excluded,
    }
}

#[derive(Debug, Clone)]
struct ProdDeployment {
    id: String,
    environment: String,
    sha: Option<String>,
    created: i64,
    outcome: Outcome,
    /// Time of the decisive status (creation when none).
    finished: i64,
    source: ApiRecord,
}

#[derive(Debug, Clone, Default)]
struct EnvDays {
    production: bool,
    /// day → (successful, all) deployments.
    days: BTreeMap<i64, (u64, u64)>,
}

#[derive(Debug, Clone, Default)]
struct RunDay {
    success: u64,
    failure: u64,
    excluded: u64,
    unknown: u64,
    durations: Sketch,
}

/// Streaming metrics: [`push`](Accumulator::push) events in any order, then
/// [`finish`](Accumulator::finish).
#[derive(Debug)]
pub struct Accumulator {
    config: HistoryConfig,
    production: Regex,
    newest: Option<i64>,
    oldest: Option<i64>,
    /// Oldest deployment / run read: a metric covers only the span its own data covers
    /// (a connector that fetched the last 100 deployments must not yield zero-filled weeks).
    oldest_deployment: Option<i64>,
    oldest_run: Option<i64>,
    evicted_through_day: Option<i64>,
    seq: u64,
    events_read: u64,
    environments: BTreeMap<String, EnvDays>,
    production_deployments: BTreeMap<(i64, u64), ProdDeployment>,
    runs: BTreeMap<i64, RunDay>,
    releases: BTreeMap<i64, (u64, u64)>,
    releases_seen: u64,
    /// hash(sha) → earliest commit time seen for it.
    commits: HashMap<u64, i64>,
    commits_pruned_day: Option<i64>,
    newest_run: Option<(i64, ApiRecord)>,
    newest_release: Option<(i64, ApiRecord)>,
    run_endpoints: BTreeSet<String>,
    release_endpoints: BTreeSet<String>,
    commit_endpoints: BTreeSet<String>,
    dq: DataQuality,
}

fn sha_key(sha: &str) -> u64 {
    let mut h = DefaultHasher::new();
    sha.trim().to_ascii_lowercase().hash(&mut h);
    h.finish()
}

fn note_endpoint(set: &mut BTreeSet<String>, record: &ApiRecord) {
    if set.len() < MAX_ENDPOINTS && !set.contains(&record.endpoint) {
        set.insert(record.endpoint.clone());
    }
}

fn newer(slot: &mut Option<(i64, ApiRecord)>, time: i64, record: &ApiRecord) {
    if slot.as_ref().is_none_or(|(t, _)| time >= *t) {
        *slot = Some((time, record.clone()));
    }
}

impl Accumulator {
    /// Fails only when the production pattern is not a valid (bounded) regex.
    pub fn new(config: HistoryConfig) -> Result<Self, regex::Error> {
        let production = RegexBuilder::new(&config.production_pattern)
            .size_limit(1 << 20)
            .build()?;
        Ok(Accumulator {
            config,
            production,
            newest: None,
            oldest: None,
            oldest_deployment: None,
            oldest_run: None,
            evicted_through_day: None,
            seq: 0,
            events_read: 0,
            environments: BTreeMap::new(),
            production_deployments: BTreeMap::new(),
            runs: BTreeMap::new(),
            releases: BTreeMap::new(),
            releases_seen: 0,
            commits: HashMap::new(),
            commits_pruned_day: None,
            newest_run: None,
            newest_release: None,
            run_endpoints: BTreeSet::new(),
            release_endpoints: BTreeSet::new(),
            commit_endpoints: BTreeSet::new(),
            dq: DataQuality::default(),
        })
    }

    /// How much the accumulator holds right now: (production deployment records,
    /// commit times, run days, environment days). Bounded by the window, not the history.
    pub fn held(&self) -> (usize, usize, usize, usize) {
        (
            self.production_deployments.len(),
            self.commits.len(),
            self.runs.len(),
            self.environments.values().map(|e| e.days.len()).sum(),
        )
    }

    /// Whether an environment counts as production: a known tier decides, else the pattern.
    pub fn is_production(&self, environment: &str, tier: Option<&str>) -> bool {
        match tier {
            Some(t) if !t.trim().is_empty() => t.trim().eq_ignore_ascii_case("production"),
            _ => self.production.is_match(environment),
        }
    }

    fn end_day(&self) -> Option<i64> {
        self.config.now.or(self.newest).map(day_of)
    }

    /// First day of the window as it stands now (it only moves forward).
    fn start_day(&self) -> Option<i64> {
        self.end_day()
            .map(|e| e - i64::from(self.config.window_days.max(1)) + 1)
    }

    fn context_start_day(&self) -> Option<i64> {
        self.start_day()
            .map(|s| s - i64::from(self.config.context_days))
    }

    fn commit_start_day(&self) -> Option<i64> {
        self.start_day().map(|s| s - COMMIT_LOOKBACK_DAYS)
    }

    pub fn push(&mut self, event: Event) {
        let t = event.time();
        if self.config.now.is_some_and(|now| t > now) {
            self.dq.events_after_now += 1;
            return;
        }
        self.events_read += 1;
        let older = |slot: Option<i64>| Some(slot.map_or(t, |o| o.min(t)));
        self.oldest = older(self.oldest);
        match &event {
            Event::Deployment(_) => self.oldest_deployment = older(self.oldest_deployment),
            Event::Run(_) => self.oldest_run = older(self.oldest_run),
            _ => {}
        }
        if self.newest.is_none_or(|n| t > n) {
            self.newest = Some(t);
            self.evict();
        }
        let day = day_of(t);
        // Releases before the window still show the project releases (cadence 0, not unknown).
        if matches!(event, Event::Release(_)) {
            self.releases_seen += 1;
        }
        let keep_from = match &event {
            Event::Commit(_) => self.commit_start_day(),
            Event::Deployment(_) => self.context_start_day(),
            _ => self.start_day(),
        };
        if keep_from.is_some_and(|k| day < k) {
            return;
        }
        match event {
            Event::Run(run) => self.push_run(run, day),
            Event::Deployment(dep) => self.push_deployment(dep, day),
            Event::Release(rel) => {
                let entry = self.releases.entry(day).or_default();
                entry.0 += 1;
                if rel.prerelease {
                    entry.1 += 1;
                }
                note_endpoint(&mut self.release_endpoints, &rel.source);
                newer(&mut self.newest_release, rel.created, &rel.source);
            }
            Event::Commit(commit) => {
                let key = sha_key(&commit.sha);
                let slot = self.commits.entry(key).or_insert(commit.time);
                *slot = (*slot).min(commit.time);
                note_endpoint(&mut self.commit_endpoints, &commit.source);
            }
        }
    }

    fn push_run(&mut self, run: RunEvent, day: i64) {
        let entry = self.runs.entry(day).or_default();
        let class = run_class(run.conclusion.as_deref());
        match class {
            RunClass::Success => entry.success += 1,
            RunClass::Failure => entry.failure += 1,
            RunClass::Excluded => entry.excluded += 1,
            RunClass::Unknown => entry.unknown += 1,
        }
        if matches!(class, RunClass::Success | RunClass::Failure) {
            let duration = run
                .duration_seconds
                .or_else(|| run.finished.map(|f| f.saturating_sub(run.created) as f64));
            match duration {
                Some(d) if d < 0.0 => self.dq.negative_run_durations += 1,
                Some(d) => entry.durations.add(d),
                None => {}
            }
        }
        note_endpoint(&mut self.run_endpoints, &run.source);
        newer(&mut self.newest_run, run.created, &run.source);
    }

    fn push_deployment(&mut self, dep: DeploymentEvent, day: i64) {
        let production = self.is_production(&dep.environment, dep.tier.as_deref());
        let (outcome, finished) = outcome_of(dep.created, &dep.statuses, &mut self.dq);
        if self.environments.contains_key(&dep.environment)
            || self.environments.len() < MAX_ENVIRONMENTS
        {
            let env = self
                .environments
                .entry(dep.environment.clone())
                .or_default();
            // A known tier can make a same-named environment production; once production, stays.
            env.production |= production;
            let counts = env.days.entry(day).or_default();
            counts.1 += 1;
            if outcome == Outcome::Success {
                counts.0 += 1;
            }
        } else {
            self.dq.environments_over_limit += 1;
        }
        if production {
            self.seq += 1;
            self.production_deployments.insert(
                (dep.created, self.seq),
                ProdDeployment {
                    id: dep.id,
                    environment: dep.environment,
                    sha: dep.sha.filter(|s| !s.trim().is_empty()),
                    created: dep.created,
                    outcome,
                    finished,
                    source: dep.source,
                },
            );
        }
    }

    /// Drop everything that can no longer fall in (or give context to) the window.
    fn evict(&mut self) {
        let (Some(start), Some(context)) = (self.start_day(), self.context_start_day()) else {
            return;
        };
        if self.evicted_through_day.is_some_and(|d| d >= start) {
            return;
        }
        self.evicted_through_day = Some(start);
        self.runs = self.runs.split_off(&start);
        self.releases = self.releases.split_off(&start);
        for env in self.environments.values_mut() {
            env.days = env.days.split_off(&context);
        }
        self.production_deployments = self.production_deployments.split_off(&(context * DAY, 0));
        // Commit times are pruned weekly: their table then never holds more than the
        // commits of the lookback year + window + a week (a fixed bound, no doubling).
        if self.commits_pruned_day.is_none_or(|d| start - d >= 7) {
            self.commits_pruned_day = Some(start);
            self.prune_commits();
        }
    }

    fn prune_commits(&mut self) {
        if let Some(commit_start) = self.commit_start_day() {
            let cutoff = commit_start * DAY;
            self.commits.retain(|_, t| *t >= cutoff);
        }
    }

    /// Compute every metric. Consumes the accumulator.
    pub fn finish(mut self) -> Metrics {
        let (Some(end_day), Some(start_day)) = (self.end_day(), self.start_day()) else {
            return empty_metrics(&self.config);
        };
        self.evict();
        self.prune_commits();
        let mut dq = std::mem::take(&mut self.dq);
        let end = self.config.now.or(self.newest).unwrap_or(end_day * DAY);
        let window = Window {
            start: Some(format_rfc3339(start_day * DAY)),
            end: Some(format_rfc3339(end)),
            days: end_day - start_day + 1,
        };
        let coverage = |oldest: Option<i64>, what: &str| {
            let start = oldest.map_or(end_day, day_of).max(start_day);
            let days = end_day - start + 1;
            Coverage {
                window: Window {
                    start: Some(format_rfc3339(start * DAY)),
                    end: Some(format_rfc3339(end)),
                    days,
                },
                start_day: start,
                days,
                short: (days < MIN_COVERED_DAYS).then(|| {
                    format!(
                        "{what} history covers only {days} day(s) of the window (< {MIN_COVERED_DAYS})"
                    )
                }),
            }
        };
        let overall = coverage(self.oldest, "the");
        let deploys = coverage(self.oldest_deployment, "deployment");
        let runs = coverage(self.oldest_run, "CI run");
        let covered = overall.window.clone();
        let in_window = |t: i64| day_of(t) >= start_day && t <= end;

        // ---- production deployments in the window ----
        let prod_in_window: Vec<&ProdDeployment> = self
            .production_deployments
            .values()
            .filter(|d| in_window(d.created))
            .collect();
        let count = |o: Outcome| prod_in_window.iter().filter(|d| d.outcome == o).count() as u64;
        let (succeeded, failed, cancelled, pending, unknown) = (
            count(Outcome::Success),
            count(Outcome::Failure),
            count(Outcome::Cancelled),
            count(Outcome::Pending),
            count(Outcome::Unknown),
        );
        dq.unknown_status_deployments = unknown;
        let known = succeeded + failed;
        let production_environments: Vec<String> = self
            .environments
            .iter()
            .filter(|(_, e)| e.production)
            .map(|(n, _)| n.clone())
            .collect();
        let mut deploy_endpoints: BTreeSet<String> = BTreeSet::new();
        for d in &prod_in_window {
            note_endpoint(&mut deploy_endpoints, &d.source);
        }
        let environments_in_window: Vec<String> = prod_in_window
            .iter()
            .map(|d| d.environment.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let newest_deploy_source = prod_in_window.last().map(|d| d.source.clone());
        let deploy_gate: Option<String> = if prod_in_window.is_empty() {
            Some(if self.environments.is_empty() {
                "no deployments in the window".to_string()
            } else {
                format!(
                    "no production deployments in the window (environments seen: {}; production = tier `production` or pattern `{}`)",
                    self.environments
                        .keys()
                        .take(10)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.config.production_pattern
                )
            })
        } else if known < MIN_PRODUCTION_DEPLOYMENTS {
            Some(format!(
                "only {known} production deployment(s) with a known outcome in the window (< {MIN_PRODUCTION_DEPLOYMENTS}){}",
                if unknown > 0 {
                    format!("; {unknown} without statuses")
                } else {
                    String::new()
                }
            ))
        } else {
            deploys.short.clone()
        };

        // ---- sequences per production environment: rollbacks and restores ----
        let mut by_env: BTreeMap<&str, Vec<&ProdDeployment>> = BTreeMap::new();
        for d in self.production_deployments.values() {
            by_env.entry(d.environment.as_str()).or_default().push(d);
        }
        let mut rollbacks: Vec<Rollback> = Vec::new();
        let mut rollback_count = 0u64;
        let mut rollback_after_failure = 0u64;
        let mut rolled_back: BTreeSet<(&str, &str, i64)> = BTreeSet::new();
        let mut restores: Vec<Restore> = Vec::new();
        let mut restore_seconds: Vec<f64> = Vec::new();
        let mut failures_in_window = 0u64;
        let mut unrestored = 0u64;
        for (env, seq) in &by_env {
            // sha → index of its latest successful deployment in `seq`.
            let mut last_success: HashMap<&str, usize> = HashMap::new();
            let mut open_failure: Option<(&ProdDeployment, bool)> = None;
            for (i, d) in seq.iter().enumerate() {
                let counted = in_window(d.created);
                let previous = i.checked_sub(1).and_then(|p| seq.get(p));
                if let Some(sha) = d.sha.as_deref() {
                    let redeploy_of_previous =
                        previous.is_some_and(|p| p.sha.as_deref() == Some(sha));
                    if let (false, Some(&target)) = (redeploy_of_previous, last_success.get(sha)) {
                        let replaced: Vec<&ProdDeployment> = seq
                            .get(target + 1..i)
                            .unwrap_or_default()
                            .iter()
                            .filter(|r| r.sha.as_deref() != Some(sha))
                            .copied()
                            .collect();
                        if counted {
                            for r in &replaced {
                                if r.outcome == Outcome::Success && in_window(r.created) {
                                    rolled_back.insert((env, r.id.as_str(), r.created));
                                }
                            }
                            let after_failure =
                                previous.is_some_and(|p| p.outcome == Outcome::Failure);
                            rollback_count += 1;
                            rollback_after_failure += u64::from(after_failure);
                            if rollbacks.len() < MAX_LISTED {
                                rollbacks.push(Rollback {
                                    environment: env.to_string(),
                                    deployment: d.id.clone(),
                                    sha: sha.to_string(),
                                    at: format_rfc3339(d.created),
                                    outcome: d.outcome,
                                    returns_to: seq
                                        .get(target)
                                        .map(|t| t.id.clone())
                                        .unwrap_or_default(),
                                    replaced: replaced.iter().map(|r| r.id.clone()).collect(),
                                    after_failure,
                                    source: Some(d.source.clone()),
                                });
                            }
                        }
                    }
                    if d.outcome == Outcome::Success {
                        last_success.insert(sha, i);
                    }
                }
                match d.outcome {
                    Outcome::Failure => {
                        failures_in_window += u64::from(counted);
                        // A streak of failures is one outage, measured from its first failure.
                        if open_failure.is_none() {
                            open_failure = Some((d, counted));
                        }
                    }
                    Outcome::Success => {
                        if let Some((failure, failure_counted)) = open_failure.take() {
                            let mut seconds = d.finished.saturating_sub(failure.finished);
                            if seconds < 0 {
                                dq.negative_restore_times += 1;
                                seconds = 0;
                            }
                            if failure_counted {
                                restore_seconds.push(seconds as f64);
                                if restores.len() < MAX_LISTED {
                                    restores.push(Restore {
                                        environment: env.to_string(),
                                        failed_deployment: failure.id.clone(),
                                        restored_by: d.id.clone(),
                                        seconds,
                                    });
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let Some((_, true)) = open_failure {
                unrestored += 1;
            }
        }

        // ---- deployment frequency ----
        let prod_success_days: BTreeSet<i64> = prod_in_window
            .iter()
            .filter(|d| d.outcome == Outcome::Success)
            .map(|d| day_of(d.created))
            .collect();
        let deploy_frequency = match &deploy_gate {
            Some(reason) => {
                Metric::insufficient(deploys.window.clone(), prod_in_window.len() as u64, reason)
            }
            None => {
                let (per_week, weeks, rating) =
                    frequency(&prod_success_days, deploys.start_day, end_day);
                Metric::measured(
                    deploys.window.clone(),
                    prod_in_window.len() as u64,
                    DeployFrequency {
                        deploy_days_per_week: per_week,
                        weeks,
                        deploy_days: prod_success_days.len() as u64,
                        successful_deployments: succeeded,
                        deployments: prod_in_window.len() as u64,
                        environments: environments_in_window,
                    },
                    Some(Band::new(rating, 2021, "DORA 2021 (DevLake)")),
                )
            }
        }
        .with_sources(newest_deploy_source.clone(), &deploy_endpoints);

        let environments = self
            .environments
            .iter()
            .map(|(name, env)| {
                let (mut all, mut ok) = (0u64, 0u64);
                let mut days = BTreeSet::new();
                for (&day, &(s, a)) in env.days.range(start_day..=end_day) {
                    all += a;
                    ok += s;
                    if s > 0 {
                        days.insert(day);
                    }
                }
                let insufficient = if all < MIN_PRODUCTION_DEPLOYMENTS {
                    Some(format!(
                        "only {all} deployment(s) in the window (< {MIN_PRODUCTION_DEPLOYMENTS})"
                    ))
                } else {
                    deploys.short.clone()
                };
                let (per_week, band) = if insufficient.is_none() {
                    let (p, _, r) = frequency(&days, deploys.start_day, end_day);
                    (Some(p), Some(Band::new(r, 2021, "DORA 2021 (DevLake)")))
                } else {
                    (None, None)
                };
                EnvironmentFrequency {
                    environment: name.clone(),
                    production: env.production,
                    deployments: all,
                    successful_deployments: ok,
                    deploy_days: days.len() as u64,
                    deploy_days_per_week: per_week,
                    band,
                    insufficient,
                }
            })
            .collect();

        // ---- lead time ----
        let (lead_time, non_positive) = self.lead_time(deploys.window.clone(), &in_window);
        dq.non_positive_lead_times += non_positive;
        let lead_time = lead_time.with_sources(newest_deploy_source.clone(), &{
            let mut e = deploy_endpoints.clone();
            e.extend(self.commit_endpoints.iter().cloned());
            e
        });

        // ---- change failure rate (proxy) ----
        let rolled_back_count = rolled_back.len() as u64;
        let change_failure_rate = match &deploy_gate {
            Some(reason) => Metric::insufficient(deploys.window.clone(), known, reason),
            None => {
                let rate = (failed + rolled_back_count) as f64 / known as f64;
                Metric::measured(
                    deploys.window.clone(),
                    known,
                    ChangeFailureRate {
                        rate,
                        failed,
                        rolled_back: rolled_back_count,
                        deployments: known,
                        cancelled,
                        pending,
                        unknown_status: unknown,
                        label: CFR_LABEL.to_string(),
                    },
                    Some(cfr_band(rate)),
                )
            }
        }
        .with_sources(newest_deploy_source.clone(), &deploy_endpoints);

        // ---- time to restore (proxy) ----
        let time_to_restore = match (&deploy_gate, median(&restore_seconds)) {
            (Some(reason), _) => Metric::insufficient(deploys.window.clone(), failures_in_window, reason),
            (None, _) if failures_in_window == 0 => Metric::insufficient(
                deploys.window.clone(),
                0,
                "no failed production deployments in the window: nothing to restore",
            ),
            (None, None) => Metric::insufficient(
                deploys.window.clone(),
                failures_in_window,
                format!(
                    "{failures_in_window} failed production deployment(s), none followed by a successful one yet"
                ),
            ),
            (None, Some(m)) => Metric::measured(
                deploys.window.clone(),
                failures_in_window,
                TimeToRestore {
                    median_seconds: m,
                    median_hours: m / 3600.0,
                    restored: restore_seconds.len() as u64,
                    unrestored,
                    restores,
                    label: TTR_LABEL.to_string(),
                },
                Some(restore_band(m)),
            ),
        }
        .with_sources(newest_deploy_source.clone(), &deploy_endpoints);

        // ---- rollbacks ----
        let rollbacks = match &deploy_gate {
            Some(reason) => {
                Metric::insufficient(deploys.window.clone(), prod_in_window.len() as u64, reason)
            }
            None => Metric::measured(
                deploys.window.clone(),
                prod_in_window.len() as u64,
                Rollbacks {
                    count: rollback_count,
                    after_failure: rollback_after_failure,
                    list: rollbacks,
                },
                None,
            ),
        }
        .with_sources(newest_deploy_source, &deploy_endpoints);

        // ---- CI health ----
        let ci_health = self
            .ci_health(runs.window.clone(), start_day, end_day, runs.start_day)
            .with_sources(
                self.newest_run.as_ref().map(|(_, r)| r.clone()),
                &self.run_endpoints,
            );

        // ---- release cadence ----
        let (releases, prereleases) = self
            .releases
            .range(start_day..=end_day)
            .fold((0u64, 0u64), |acc, (_, &(r, p))| (acc.0 + r, acc.1 + p));
        let release_cadence = if self.releases_seen == 0 {
            Metric::insufficient(covered.clone(), 0, "no releases recorded")
        } else if let Some(reason) = &overall.short {
            Metric::insufficient(covered.clone(), releases, reason)
        } else {
            let months = overall.days as f64 / DAYS_PER_MONTH;
            Metric::measured(
                covered.clone(),
                releases,
                ReleaseCadence {
                    releases,
                    prereleases,
                    per_month: releases as f64 / months,
                    months,
                },
                None,
            )
        }
        .with_sources(
            self.newest_release.as_ref().map(|(_, r)| r.clone()),
            &self.release_endpoints,
        );

        // ---- data quality ----
        let runs_in_window: u64 = self
            .runs
            .range(start_day..=end_day)
            .map(|(_, r)| r.success + r.failure + r.excluded + r.unknown)
            .sum();
        let deployments_in_window: u64 = self
            .environments
            .values()
            .flat_map(|e| e.days.range(start_day..=end_day))
            .map(|(_, &(_, all))| all)
            .sum();
        let commits_in_window = self.commits.values().filter(|&&t| in_window(t)).count() as u64;
        let in_window_total = runs_in_window + deployments_in_window + releases + commits_in_window;
        dq.events_outside_window = self
            .events_read
            .saturating_sub(in_window_total + dq.environments_over_limit);
        dq.notes = quality_notes(&dq);

        Metrics {
            window,
            covered,
            production_pattern: self.config.production_pattern.clone(),
            production_environments,
            environments,
            deploy_frequency,
            lead_time,
            change_failure_rate,
            time_to_restore,
            rollbacks,
            ci_health,
            release_cadence,
            data_quality: dq,
        }
    }

    fn lead_time(
        &self,
        covered: Window,
        in_window: &dyn Fn(i64) -> bool,
    ) -> (Metric<LeadTime>, u64) {
        if self.commits.is_empty() {
            return (
                Metric::insufficient(
                    covered,
                    0,
                    "no commit times known: lead time needs commit events (type `commit`) or git metadata",
                ),
                0,
            );
        }
        // Successful production deployments, in the order they finished.
        let mut successes: Vec<&ProdDeployment> = self
            .production_deployments
            .values()
            .filter(|d| d.outcome == Outcome::Success && d.sha.is_some())
            .collect();
        successes.sort_by_key(|d| (d.finished, d.created));
        // Any production deployment (failed ones too) makes its SHA "deployed".
        let deployed: BTreeSet<u64> = self
            .production_deployments
            .values()
            .filter_map(|d| d.sha.as_deref().map(sha_key))
            .collect();
        let definition = if self.commits.keys().all(|k| deployed.contains(k)) {
            LeadTimeDefinition::DeployedCommit
        } else {
            LeadTimeDefinition::LinearHistory
        };
        let mut samples: Vec<f64> = Vec::new();
        let mut non_positive = 0u64;
        let mut record = |lead: i64, samples: &mut Vec<f64>| {
            if lead <= 0 {
                non_positive += 1;
            } else {
                samples.push(lead as f64);
            }
        };
        match definition {
            LeadTimeDefinition::DeployedCommit => {
                let mut first_seen: BTreeSet<u64> = BTreeSet::new();
                for d in &successes {
                    let Some(key) = d.sha.as_deref().map(sha_key) else {
                        continue;
                    };
                    // Only the first successful deployment of a SHA delivers it.
                    if !first_seen.insert(key) || !in_window(d.created) {
                        continue;
                    }
                    if let Some(&commit_time) = self.commits.get(&key) {
                        record(d.finished.saturating_sub(commit_time), &mut samples);
                    }
                }
            }
            LeadTimeDefinition::LinearHistory => {
                // reach[k] = newest deployed-commit time among the first k+1 successes:
                // the first k with reach[k] ≥ t is the first deployment containing a commit at t.
                let mut reach: Vec<i64> = Vec::with_capacity(successes.len());
                let mut best = i64::MIN;
                for d in &successes {
                    if let Some(&t) = d.sha.as_deref().and_then(|s| self.commits.get(&sha_key(s))) {
                        best = best.max(t);
                    }
                    reach.push(best);
                }
                for &commit_time in self.commits.values() {
                    let k = reach.partition_point(|&r| r < commit_time);
                    if let Some(d) = successes.get(k)
                        && in_window(d.created)
                    {
                        record(d.finished.saturating_sub(commit_time), &mut samples);
                    }
                }
            }
        }
        let n = samples.len();
        let metric = match median(&samples) {
            Some(m) if n >= MIN_LEAD_SAMPLES => Metric::measured(
                covered,
                n as u64,
                LeadTime {
                    median_seconds: m,
                    median_hours: m / 3600.0,
                    samples: n as u64,
                    definition,
                    definition_text: definition.describe().to_string(),
                    ignored_non_positive: non_positive,
                },
                Some(lead_band(m)),
            ),
            _ => Metric::insufficient(
                covered,
                n as u64,
                format!(
                    "only {n} commit(s) with a known successful production deployment in the window (< {MIN_LEAD_SAMPLES})"
                ),
            ),
        };
        (metric, non_positive)
    }

    fn ci_health(
        &self,
        covered: Window,
        start_day: i64,
        end_day: i64,
        covered_start_day: i64,
    ) -> Metric<CiHealth> {
        let mid_day = covered_start_day + (end_day - covered_start_day + 1) / 2;
        let (mut ok, mut bad, mut excluded, mut unknown) = (0u64, 0u64, 0u64, 0u64);
        let (mut all, mut first, mut second) =
            (Sketch::default(), Sketch::default(), Sketch::default());
        for (&day, r) in self.runs.range(start_day..=end_day) {
            ok += r.success;
            bad += r.failure;
            excluded += r.excluded;
            unknown += r.unknown;
            all.merge(&r.durations);
            if day < mid_day {
                first.merge(&r.durations);
            } else {
                second.merge(&r.durations);
            }
        }
        let total = ok + bad + excluded + unknown;
        if ok + bad < MIN_RUNS {
            return Metric::insufficient(
                covered,
                total,
                format!(
                    "only {} finished CI run(s) in the window (< {MIN_RUNS})",
                    ok + bad
                ),
            );
        }
        let (first_m, second_m) = (first.median(), second.median());
        let (change, trend, trend_note) = match (first_m, second_m) {
            (Some(a), Some(b))
                if first.len() >= MIN_TREND_SAMPLES
                    && second.len() >= MIN_TREND_SAMPLES
                    && a > 0.0 =>
            {
                let change = b / a - 1.0;
                let trend = if change > 0.10 {
                    "slower"
                } else if change < -0.10 {
                    "faster"
                } else {
                    "stable"
                };
                (Some(change), Some(trend.to_string()), None)
            }
            _ => (
                None,
                None,
                Some(format!(
                    "no duration trend: {} run duration(s) in the first half, {} in the second (< {MIN_TREND_SAMPLES})",
                    first.len(),
                    second.len()
                )),
            ),
        };
        let precision = if all.is_exact() && first.is_exact() && second.is_exact() {
            "exact"
        } else {
            "±1 %"
        };
        Metric::measured(
            covered,
            total,
            CiHealth {
                success_rate: ok as f64 / (ok + bad) as f64,
                succeeded: ok,
                failed: bad,
                excluded,
                unknown,
                median_duration_seconds: all.median(),
                first_half_median_seconds: first_m,
                second_half_median_seconds: second_m,
                duration_change: change,
                trend,
                trend_note,
                duration_precision: precision.to_string(),
            },
            None,
        )
    }
}

/// The part of the window one kind of data covers.
struct Coverage {
    window: Window,
    start_day: i64,
    days: i64,
    short: Option<String>,
}

/// Median deploy-days per whole week (weeks counted back from `end_day`), and the
/// DevLake band: ≥ 3 days/week elite, ≥ 1 high, a median 30-day month with ≥ 1 medium, else low.
fn frequency(days: &BTreeSet<i64>, start_day: i64, end_day: i64) -> (f64, i64, Rating) {
    let span = end_day - start_day + 1;
    let buckets = |len: i64| -> Vec<f64> {
        let n = (span / len).max(1);
        (0..n)
            .map(|i| {
                let hi = end_day - i * len;
                days.range(hi - len + 1..=hi).count() as f64
            })
            .collect()
    };
    let weeks = buckets(7);
    let per_week = median(&weeks).unwrap_or(0.0);
    let rating = if per_week >= 3.0 {
        Rating::Elite
    } else if per_week >= 1.0 {
        Rating::High
    } else if median(&buckets(30)).unwrap_or(0.0) >= 1.0 {
        Rating::Medium
    } else {
        Rating::Low
    };
    (per_week, weeks.len() as i64, rating)
}

/// DevLake lead-time bands (DORA 2021): < 1 h elite, < 1 week high, < 6 months medium.
fn lead_band(seconds: f64) -> Band {
    let rating = if seconds < 3600.0 {
        Rating::Elite
    } else if seconds < 7.0 * 86_400.0 {
        Rating::High
    } else if seconds < 180.0 * 86_400.0 {
        Rating::Medium
    } else {
        Rating::Low
    };
    Band::new(rating, 2021, "DORA 2021 (DevLake)")
}

/// DevLake CFR bands (DORA 2023): ≤ 5 % elite, ≤ 10 % high, ≤ 15 % medium.
fn cfr_band(rate: f64) -> Band {
    let rating = if rate <= 0.05 {
        Rating::Elite
    } else if rate <= 0.10 {
        Rating::High
    } else if rate <= 0.15 {
        Rating::Medium
    } else {
        Rating::Low
    };
    Band::new(rating, 2023, "DORA 2023 (DevLake)")
}

/// DevLake recovery bands (DORA 2023): < 1 h elite, < 1 day high, < 1 week medium.
fn restore_band(seconds: f64) -> Band {
    let rating = if seconds < 3600.0 {
        Rating::Elite
    } else if seconds < 86_400.0 {
        Rating::High
    } else if seconds < 7.0 * 86_400.0 {
        Rating::Medium
    } else {
        Rating::Low
    };
    Band::new(rating, 2023, "DORA 2023 (DevLake)")
}

fn quality_notes(dq: &DataQuality) -> Vec<String> {
    let mut notes = Vec::new();
    let mut say = |n: u64, text: &str| {
        if n > 0 {
            notes.push(format!("{n} {text}"));
        }
    };
    say(
        dq.status_before_deployment,
        "deployment status(es) dated before their deployment (clock skew; clamped to the deployment time)",
    );
    say(
        dq.status_without_time,
        "deployment status(es) without a usable time (deployment time used)",
    );
    say(
        dq.negative_run_durations,
        "CI run(s) with a negative duration (clock skew; ignored for durations)",
    );
    say(
        dq.negative_restore_times,
        "restore(s) dated before their failure (clock skew; counted as 0)",
    );
    say(
        dq.non_positive_lead_times,
        "lead time(s) ≤ 0 (commit after its deployment; ignored)",
    );
    say(
        dq.events_after_now,
        "event(s) dated after the window end (ignored)",
    );
    say(
        dq.events_outside_window,
        "event(s) outside the window (not counted)",
    );
    say(
        dq.environments_over_limit,
        "deployment(s) to environments beyond the first 256 (ignored)",
    );
    say(
        dq.unknown_status_deployments,
        "production deployment(s) without statuses (outcome unknown; excluded from rates)",
    );
    notes
}

fn empty_metrics(config: &HistoryConfig) -> Metrics {
    let reason = "no events in the window";
    let w = Window::default();
    Metrics {
        window: w.clone(),
        covered: w.clone(),
        production_pattern: config.production_pattern.clone(),
        production_environments: Vec::new(),
        environments: Vec::new(),
        deploy_frequency: Metric::insufficient(w.clone(), 0, reason),
        lead_time: Metric::insufficient(w.clone(), 0, reason),
        change_failure_rate: Metric::insufficient(w.clone(), 0, reason),
        time_to_restore: Metric::insufficient(w.clone(), 0, reason),
        rollbacks: Metric::insufficient(w.clone(), 0, reason),
        ci_health: Metric::insufficient(w.clone(), 0, reason),
        release_cadence: Metric::insufficient(w, 0, reason),
        data_quality: DataQuality::default(),
    }
}

/// Compute metrics over events in one go (streams through an [`Accumulator`]).
pub fn compute(
    events: impl IntoIterator<Item = Event>,
    config: &HistoryConfig,
) -> Result<Metrics, regex::Error> {
    let mut acc = Accumulator::new(config.clone())?;
    for event in events {
        acc.push(event);
    }
    Ok(acc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, at: Option<i64>) -> StatusEvent {
        StatusEvent {
            state: state.into(),
            at,
        }
    }

    #[test]
    fn outcome_is_the_last_final_status() {
        let mut dq = DataQuality::default();
        // success then inactive (GitHub marks superseded deployments inactive): still success at 200.
        let s = [
            status("in_progress", Some(150)),
            status("success", Some(200)),
            status("inactive", Some(900)),
        ];
        assert_eq!(outcome_of(100, &s, &mut dq), (Outcome::Success, 200));
        // A failure after a success (post-deploy check failed) decides.
        let s = [status("success", Some(200)), status("error", Some(300))];
        assert_eq!(outcome_of(100, &s, &mut dq), (Outcome::Failure, 300));
        assert_eq!(
            outcome_of(100, &[status("inactive", Some(200))], &mut dq).0,
            Outcome::Pending
        );
        assert_eq!(outcome_of(100, &[], &mut dq).0, Outcome::Unknown);
        assert_eq!(dq, DataQuality::default());
        // Skewed: success dated before creation is clamped to creation and counted.
        assert_eq!(
            outcome_of(100, &[status("success", Some(50))], &mut dq),
            (Outcome::Success, 100)
        );
        assert_eq!(
            outcome_of(100, &[status("canceled", None)], &mut dq),
            (Outcome::Cancelled, 100)
        );
        assert_eq!(
            (dq.status_before_deployment, dq.status_without_time),
            (1, 1)
        );
    }

    #[test]
    fn run_classes() {
        assert_eq!(run_class(Some("success")), RunClass::Success);
        assert_eq!(run_class(Some("timed_out")), RunClass::Failure);
        assert_eq!(run_class(Some("FAILED")), RunClass::Failure);
        assert_eq!(run_class(Some("cancelled")), RunClass::Excluded);
        assert_eq!(run_class(Some("in_progress")), RunClass::Unknown);
        assert_eq!(run_class(None), RunClass::Unknown);
    }

    #[test]
    fn default_production_pattern() {
        let acc = Accumulator::new(HistoryConfig::default()).unwrap();
        for yes in [
            "production",
            "Production",
            "prod",
            "prod-eu",
            "app-prod",
            "k8s/production",
            "svc_prod",
        ] {
            assert!(acc.is_production(yes, None), "{yes}");
        }
        for no in [
            "preprod",
            "product-catalog",
            "staging",
            "live",
            "dev",
            "reproduction",
        ] {
            assert!(!acc.is_production(no, None), "{no}");
        }
        assert!(acc.is_production("anything", Some("Production")));
        assert!(!acc.is_production("production", Some("staging")));
        assert!(acc.is_production("production", Some("")));
    }

    #[test]
    fn frequency_bands() {
        // 28 days (4 weeks) ending day 27; deploy on days 0, 13, 20 → weeks back from 27:
        // [21–27]: 0, [14–20]: 1, [7–13]: 1, [0–6]: 1 → median 1 → high.
        let days: BTreeSet<i64> = [0, 13, 20].into_iter().collect();
        assert_eq!(frequency(&days, 0, 27), (1.0, 4, Rating::High));
        // One deploy-day in 60 days: weekly median 0; 30-day buckets [1, 0] → median 0.5 → low.
        let days: BTreeSet<i64> = [59].into_iter().collect();
        assert_eq!(frequency(&days, 0, 59).2, Rating::Low);
        // One per 30-day bucket → medium.
        let days: BTreeSet<i64> = [10, 40].into_iter().collect();
        assert_eq!(frequency(&days, 0, 59).2, Rating::Medium);
    }

    #[test]
    fn bands_at_their_edges() {
        assert_eq!(cfr_band(0.05).rating, Rating::Elite);
        assert_eq!(cfr_band(0.151).rating, Rating::Low);
        assert_eq!(lead_band(3599.0).rating, Rating::Elite);
        assert_eq!(lead_band(7.0 * 86_400.0).rating, Rating::Medium);
        assert_eq!(restore_band(86_399.0).rating, Rating::High);
        assert_eq!(restore_band(7.0 * 86_400.0).year, 2023);
    }
}
