//! Maturity changes between two JSON reports (`mlops-maturity diff BASE.json HEAD.json`).
//!
//! The diff reads reports through the documented contract (`mlops-maturity/report/v1`,
//! docs/report-schema.md) with its own lenient reader types rather than the report
//! structs: a report written by another version of the tool must still be readable,
//! and unknown fields are ignored as the schema asks. The result, [`Diff`], is
//! serialised as `mlops-maturity/diff/v1` (docs/action.md documents it) and rendered as
//! text or Markdown by [`render`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::detect::{Evidence, Origin};
use crate::report::SCHEMA as REPORT_SCHEMA;

pub mod render;

/// Version of the JSON diff shape. Fields are only added within `v1`.
pub const SCHEMA: &str = "mlops-maturity/diff/v1";

/// Reports larger than this are refused (a real report is a few hundred kilobytes).
pub const MAX_REPORT_BYTES: usize = 64 * 1024 * 1024;

/// Why two reports cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{label}: not valid JSON: {message}")]
    Json { label: String, message: String },
    #[error("{label}: not an mlops-maturity report (no `schema` field)")]
    NotAReport { label: String },
    #[error(
        "{label}: report schema `{found}` cannot be compared: this mlops-maturity reads `{expected}`"
    )]
    Schema {
        label: String,
        found: String,
        expected: &'static str,
    },
    #[error("schema mismatch: {base_label} is `{base}` but {head_label} is `{head}`")]
    Mismatch {
        base_label: String,
        base: String,
        head_label: String,
        head: String,
    },
    #[error("{label}: larger than {MAX_REPORT_BYTES} bytes")]
    TooLarge { label: String },
}

// ── Reader types: the parts of report/v1 the diff needs ─────────────────────────────

/// A name in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    #[serde(default)]
    pub zh: String,
    #[serde(default)]
    pub en: String,
}

impl Names {
    /// "持续部署 (Continuous deployment)", or whichever half is present.
    pub fn both(&self) -> String {
        match (self.zh.is_empty(), self.en.is_empty()) {
            (false, false) => format!("{} ({})", self.zh, self.en),
            (true, _) => self.en.clone(),
            (false, true) => self.zh.clone(),
        }
    }
}

/// Prose in both languages (`{en, zh}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prose {
    #[serde(default)]
    pub en: String,
    #[serde(default)]
    pub zh: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportTool {
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportSource {
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub revision: Option<String>,
}

/// A report as the diff reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportDoc {
    pub schema: String,
    #[serde(default)]
    pub tool: ReportTool,
    #[serde(default)]
    pub table_version: String,
    #[serde(default)]
    pub source: ReportSource,
    #[serde(default = "min_level")]
    pub overall: u8,
    #[serde(default)]
    pub mean_score: f64,
    #[serde(default)]
    pub projects: Vec<ProjectDoc>,
}

fn min_level() -> u8 {
    1
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectDoc {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub path: String,
    #[serde(default = "min_level")]
    pub overall: u8,
    #[serde(default)]
    pub mean_score: f64,
    #[serde(default)]
    pub sub_domains: Vec<GroupDoc>,
}

/// A sub-domain (with `items`) or an item (with `sub_items`).
#[derive(Debug, Clone, Deserialize)]
pub struct GroupDoc {
    pub id: String,
    #[serde(default)]
    pub name: Names,
    #[serde(default = "min_level")]
    pub level: u8,
    #[serde(default)]
    pub items: Vec<GroupDoc>,
    #[serde(default)]
    pub sub_items: Vec<SubItemDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubItemDoc {
    pub id: String,
    #[serde(default)]
    pub name: Names,
    #[serde(default = "min_level")]
    pub level: u8,
    #[serde(default)]
    pub met: Vec<MetDoc>,
    #[serde(default)]
    pub next_steps: Vec<NextStepDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetDoc {
    pub level: u8,
    #[serde(default)]
    pub requirements: Vec<RequirementDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RequirementDoc {
    #[serde(default)]
    pub evidence: Vec<EvidenceUseDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EvidenceUseDoc {
    pub practice: String,
    #[serde(default, deserialize_with = "known_evidence")]
    pub shown: Vec<Evidence>,
}

/// Evidence pieces this version understands; a piece of a kind added later (a new
/// origin, say) is skipped rather than making the whole report unreadable.
fn known_evidence<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Evidence>, D::Error> {
    let raw: Vec<serde_json::Value> = Vec::deserialize(d)?;
    Ok(raw
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextStepDoc {
    pub level: u8,
    #[serde(default)]
    pub text: Prose,
}

impl ProjectDoc {
    fn sub_items(&self) -> impl Iterator<Item = &SubItemDoc> {
        self.sub_domains
            .iter()
            .flat_map(|d| &d.items)
            .flat_map(|i| &i.sub_items)
    }
    fn items(&self) -> impl Iterator<Item = &GroupDoc> {
        self.sub_domains.iter().flat_map(|d| &d.items)
    }
    /// How a project is matched between base and head.
    fn key(&self) -> (Option<&str>, &str) {
        (self.name.as_deref(), self.path.as_str())
    }
}

/// Parse one report, refusing anything that is not `mlops-maturity/report/v1`.
/// `label` names the file in messages.
pub fn parse_report(text: &str, label: &str) -> Result<ReportDoc, DiffError> {
    if text.len() > MAX_REPORT_BYTES {
        return Err(DiffError::TooLarge {
            label: label.to_string(),
        });
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DiffError::Json {
        label: label.to_string(),
        message: e.to_string(),
    })?;
    let Some(schema) = value.get("schema").and_then(|s| s.as_str()) else {
        return Err(DiffError::NotAReport {
            label: label.to_string(),
        });
    };
    if schema != REPORT_SCHEMA {
        return Err(DiffError::Schema {
            label: label.to_string(),
            found: schema.to_string(),
            expected: REPORT_SCHEMA,
        });
    }
    serde_json::from_value(value).map_err(|e| DiffError::Json {
        label: label.to_string(),
        message: e.to_string(),
    })
}

/// Parse both reports and check they share a schema; the mismatch message names both.
pub fn parse_pair(
    base: &str,
    base_label: &str,
    head: &str,
    head_label: &str,
) -> Result<(ReportDoc, ReportDoc), DiffError> {
    let schema_of = |text: &str| -> Option<String> {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()?
            .get("schema")?
            .as_str()
            .map(str::to_string)
    };
    if let (Some(b), Some(h)) = (schema_of(base), schema_of(head))
        && b != h
    {
        return Err(DiffError::Mismatch {
            base_label: base_label.to_string(),
            base: b,
            head_label: head_label.to_string(),
            head: h,
        });
    }
    Ok((
        parse_report(base, base_label)?,
        parse_report(head, head_label)?,
    ))
}

// ── The diff ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffTool {
    pub name: &'static str,
    pub version: &'static str,
}

/// One side of the comparison, as the report describes itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    pub tool_version: String,
    pub table_version: String,
    pub overall: u8,
    pub mean_score: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    fn of(base: u8, head: u8) -> Option<Direction> {
        match head.cmp(&base) {
            std::cmp::Ordering::Greater => Some(Direction::Up),
            std::cmp::Ordering::Less => Some(Direction::Down),
            std::cmp::Ordering::Equal => None,
        }
    }
}

/// A sub-domain or item whose level moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelChange {
    pub id: String,
    pub name: Names,
    pub base: u8,
    pub head: u8,
    pub direction: Direction,
}

/// A piece of evidence that appeared or disappeared, with the practice it is evidence
/// of and the highest level of the sub-item it supported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceChange {
    pub practice: String,
    pub level: u8,
    #[serde(flatten)]
    pub evidence: Evidence,
}

/// A sub-item whose level moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubItemChange {
    pub id: String,
    pub name: Names,
    pub base: u8,
    pub head: u8,
    pub direction: Direction,
    /// Evidence behind the head's levels that the base did not have.
    pub gained: Vec<EvidenceChange>,
    /// Evidence behind the base's levels that the head no longer has.
    pub lost: Vec<EvidenceChange>,
    /// For a level that went down: what the head now misses for the next level.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<NextStepDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unchanged {
    pub id: String,
    pub name: Names,
    pub level: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectStatus {
    /// In both reports.
    Compared,
    /// Only in the head report.
    Added,
    /// Only in the base report.
    Removed,
}

/// A value on both sides; `None` where the project is absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pair<T> {
    pub base: Option<T>,
    pub head: Option<T>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectDiff {
    pub name: Option<String>,
    pub path: String,
    pub status: ProjectStatus,
    pub overall: Pair<u8>,
    pub mean_score: Pair<f64>,
    pub sub_domains: Vec<LevelChange>,
    pub items: Vec<LevelChange>,
    pub sub_items: Vec<SubItemChange>,
    pub unchanged_sub_items: Vec<Unchanged>,
}

impl ProjectDiff {
    /// The title to show: the project name, or nothing for a whole repository.
    pub fn title(&self) -> String {
        match &self.name {
            Some(n) if self.path.is_empty() => n.clone(),
            Some(n) => format!("{n} ({})", self.path),
            None => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub up: usize,
    pub down: usize,
    pub unchanged: usize,
}

/// Everything `mlops-maturity diff` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub tool: DiffTool,
    pub base: Side,
    pub head: Side,
    /// Levels of different table versions are not comparable one to one.
    pub table_versions_differ: bool,
    /// Any level (sub-item, item, sub-domain, project or overall) moved.
    pub changed: bool,
    /// Any level went down.
    pub regressed: bool,
    /// Sub-item moves over all compared projects.
    pub counts: Counts,
    /// One calm sentence in both languages.
    pub summary: Prose,
    pub projects: Vec<ProjectDiff>,
}

/// Compare two reports.
pub fn diff(base: &ReportDoc, head: &ReportDoc) -> Diff {
    let mut projects = Vec::new();
    for b in &base.projects {
        match head.projects.iter().find(|h| h.key() == b.key()) {
            Some(h) => projects.push(compare_project(b, h)),
            None => projects.push(lone_project(b, ProjectStatus::Removed)),
        }
    }
    for h in &head.projects {
        if !base.projects.iter().any(|b| b.key() == h.key()) {
            projects.push(lone_project(h, ProjectStatus::Added));
        }
    }
    let mut counts = Counts::default();
    let mut regressed = base.overall > head.overall;
    let mut changed = base.overall != head.overall;
    for p in &projects {
        counts.up += p
            .sub_items
            .iter()
            .filter(|s| s.direction == Direction::Up)
            .count();
        counts.down += p
            .sub_items
            .iter()
            .filter(|s| s.direction == Direction::Down)
            .count();
        counts.unchanged += p.unchanged_sub_items.len();
        let project_down = matches!((p.overall.base, p.overall.head), (Some(b), Some(h)) if h < b);
        regressed |= project_down
            || p.sub_items.iter().any(|s| s.direction == Direction::Down)
            || p.items
                .iter()
                .chain(&p.sub_domains)
                .any(|c| c.direction == Direction::Down);
        changed |= p.status != ProjectStatus::Compared
            || p.overall.base != p.overall.head
            || !p.sub_items.is_empty()
            || !p.items.is_empty()
            || !p.sub_domains.is_empty();
    }
    let summary = summary(changed, counts, base.overall, head.overall);
    Diff {
        schema: SCHEMA,
        tool: DiffTool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        base: side(base),
        head: side(head),
        table_versions_differ: base.table_version != head.table_version,
        changed,
        regressed,
        counts,
        summary,
        projects,
    }
}

fn side(r: &ReportDoc) -> Side {
    Side {
        target: r.source.target.clone(),
        revision: r.source.revision.clone(),
        tool_version: r.tool.version.clone(),
        table_version: r.table_version.clone(),
        overall: r.overall,
        mean_score: r.mean_score,
    }
}

fn summary(changed: bool, c: Counts, base_overall: u8, head_overall: u8) -> Prose {
    if !changed {
        return Prose {
            en: "No maturity change.".into(),
            zh: "成熟度无变化。".into(),
        };
    }
    let moved = c.up + c.down;
    let (mut en, mut zh) = if moved == 0 {
        (
            "No sub-item level changed.".to_string(),
            "能力子项等级无变化。".to_string(),
        )
    } else {
        let noun = if moved == 1 { "sub-item" } else { "sub-items" };
        (
            format!("{moved} {noun} changed: {} up, {} down.", c.up, c.down),
            format!(
                "{moved} 个能力子项等级变化：{} 个上升，{} 个下降。",
                c.up, c.down
            ),
        )
    };
    if base_overall == head_overall {
        en.push_str(&format!(" Overall level unchanged at {head_overall}."));
        zh.push_str(&format!("总体等级不变，仍为 {head_overall} 级。"));
    } else {
        en.push_str(&format!(" Overall level {base_overall} → {head_overall}."));
        zh.push_str(&format!("总体等级 {base_overall} → {head_overall}。"));
    }
    Prose { en, zh }
}

fn lone_project(p: &ProjectDoc, status: ProjectStatus) -> ProjectDiff {
    let (overall, mean_score) = match status {
        ProjectStatus::Removed => (
            Pair {
                base: Some(p.overall),
                head: None,
            },
            Pair {
                base: Some(p.mean_score),
                head: None,
            },
        ),
        _ => (
            Pair {
                base: None,
                head: Some(p.overall),
            },
            Pair {
                base: None,
                head: Some(p.mean_score),
            },
        ),
    };
    ProjectDiff {
        name: p.name.clone(),
        path: p.path.clone(),
        status,
        overall,
        mean_score,
        sub_domains: Vec::new(),
        items: Vec::new(),
        sub_items: Vec::new(),
        unchanged_sub_items: Vec::new(),
    }
}

fn compare_project(b: &ProjectDoc, h: &ProjectDoc) -> ProjectDiff {
    let group_changes = |base: Vec<&GroupDoc>, head: Vec<&GroupDoc>| -> Vec<LevelChange> {
        head.iter()
            .filter_map(|hg| {
                let bg = base.iter().find(|bg| bg.id == hg.id)?;
                Some(LevelChange {
                    id: hg.id.clone(),
                    name: hg.name.clone(),
                    base: bg.level,
                    head: hg.level,
                    direction: Direction::of(bg.level, hg.level)?,
                })
            })
            .collect()
    };
    let sub_domains = group_changes(
        b.sub_domains.iter().collect(),
        h.sub_domains.iter().collect(),
    );
    let items = group_changes(b.items().collect(), h.items().collect());
    let mut sub_items = Vec::new();
    let mut unchanged_sub_items = Vec::new();
    for hs in h.sub_items() {
        let Some(bs) = b.sub_items().find(|bs| bs.id == hs.id) else {
            continue;
        };
        match Direction::of(bs.level, hs.level) {
            None => unchanged_sub_items.push(Unchanged {
                id: hs.id.clone(),
                name: hs.name.clone(),
                level: hs.level,
            }),
            Some(direction) => sub_items.push(SubItemChange {
                id: hs.id.clone(),
                name: hs.name.clone(),
                base: bs.level,
                head: hs.level,
                direction,
                gained: evidence_only_in(hs, bs),
                lost: evidence_only_in(bs, hs),
                missing: if direction == Direction::Down {
                    hs.next_steps.clone()
                } else {
                    Vec::new()
                },
            }),
        }
    }
    ProjectDiff {
        name: h.name.clone(),
        path: h.path.clone(),
        status: ProjectStatus::Compared,
        overall: Pair {
            base: Some(b.overall),
            head: Some(h.overall),
        },
        mean_score: Pair {
            base: Some(b.mean_score),
            head: Some(h.mean_score),
        },
        sub_domains,
        items,
        sub_items,
        unchanged_sub_items,
    }
}

/// What identifies a piece of evidence across two revisions. The line is left out on
/// purpose: a workflow that only moved down by a few lines has not gained or lost
/// anything, and listing it would be noise on every pull request.
type EvidenceKey = (String, String, String, String, Vec<String>);

fn evidence_key(practice: &str, e: &Evidence) -> EvidenceKey {
    let place = match &e.origin {
        Origin::File { location } => format!("file:{}", location.path),
        Origin::Api { record } => format!("api:{}", record.endpoint),
        Origin::Attested { url, location, .. } => format!("attested:{}:{url}", location.path),
    };
    (
        practice.to_string(),
        e.rule.clone(),
        place,
        e.excerpt.clone(),
        e.qualifiers.iter().cloned().collect(),
    )
}

/// Evidence behind `this` sub-item's levels that `other` does not have, each piece once,
/// at the highest level it supported (the level it matters for), highest levels first.
fn evidence_only_in(this: &SubItemDoc, other: &SubItemDoc) -> Vec<EvidenceChange> {
    let other_keys: BTreeSet<EvidenceKey> = other
        .met
        .iter()
        .flat_map(|m| &m.requirements)
        .flat_map(|r| &r.evidence)
        .flat_map(|u| u.shown.iter().map(|e| evidence_key(&u.practice, e)))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut met: Vec<&MetDoc> = this.met.iter().collect();
    met.sort_by_key(|m| std::cmp::Reverse(m.level));
    for m in met {
        for u in m.requirements.iter().flat_map(|r| &r.evidence) {
            for e in &u.shown {
                let key = evidence_key(&u.practice, e);
                if other_keys.contains(&key) || !seen.insert(key) {
                    continue;
                }
                out.push(EvidenceChange {
                    practice: u.practice.clone(),
                    level: m.level,
                    evidence: e.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(level_223: u8, overall: u8, table: &str) -> String {
        let evidence = if level_223 >= 2 {
            r#"[{"level": 2, "requirements": [{"when": "deploy.progressive", "text": {"en": "e", "zh": "z"},
                "evidence": [{"practice": "deploy.progressive", "observed": 1, "attested": 0, "shown": [
                  {"rule": "k8s-rollout", "origin": {"kind": "file", "location": {"path": "deploy/rollout.yaml", "line": 3}},
                   "excerpt": "kind: Rollout", "confidence": "high"}]}]}]}]"#
        } else {
            "[]"
        };
        format!(
            r#"{{"schema": "mlops-maturity/report/v1", "tool": {{"name": "mlops-maturity", "version": "0.1.0"}},
               "table_version": "{table}", "source": {{"kind": "local", "target": "."}}, "config": null,
               "overall": {overall}, "mean_score": 1.0, "unknown_future_field": [1, 2],
               "projects": [{{"name": null, "path": "", "overall": {overall}, "mean_score": 1.0,
                 "sub_domains": [{{"id": "2", "name": {{"zh": "部署发布", "en": "Deployment & release"}}, "level": {overall},
                   "items": [{{"id": "2.2", "name": {{"zh": "持续部署", "en": "Continuous deployment"}}, "level": {level_223},
                     "sub_items": [{{"id": "2.2.3", "name": {{"zh": "更新策略管理", "en": "Update-strategy management"}},
                        "ml_specific": false, "level": {level_223}, "no_evidence": false, "capped_by_attestation": false,
                        "met": {evidence},
                        "next_steps": [{{"level": {next}, "when": "x", "text": {{"en": "Do more.", "zh": "多做。"}}, "reason": "missing"}}]}}]}}]}}],
                 "practices": [], "evidence_counts": {{"practices": 0, "observed": 0, "attested": 0}}, "anchor_file": null}}],
               "diagnostics": []}}"#,
            next = level_223 + 1
        )
    }

    #[test]
    fn level_up_lists_gained_evidence_and_levels_above() {
        let b = parse_report(&report(1, 1, "t1"), "base.json").unwrap();
        let h = parse_report(&report(2, 1, "t1"), "head.json").unwrap();
        let d = diff(&b, &h);
        assert!(d.changed);
        assert!(!d.regressed);
        assert_eq!(
            d.counts,
            Counts {
                up: 1,
                down: 0,
                unchanged: 0
            }
        );
        let s = &d.projects[0].sub_items[0];
        assert_eq!((s.base, s.head, s.direction), (1, 2, Direction::Up));
        assert_eq!(s.gained.len(), 1);
        assert!(s.lost.is_empty());
        assert_eq!(d.projects[0].items.len(), 1, "item 2.2 moved too");
        assert!(
            d.summary
                .en
                .starts_with("1 sub-item changed: 1 up, 0 down.")
        );
    }

    #[test]
    fn level_down_is_a_regression_with_what_is_missing() {
        let b = parse_report(&report(2, 1, "t1"), "base.json").unwrap();
        let h = parse_report(&report(1, 1, "t2"), "head.json").unwrap();
        let d = diff(&b, &h);
        assert!(d.regressed);
        assert!(d.table_versions_differ);
        let s = &d.projects[0].sub_items[0];
        assert_eq!(s.lost.len(), 1);
        assert_eq!(s.lost[0].level, 2, "the only level it supported");
        assert_eq!(s.missing[0].text.en, "Do more.");
    }

    #[test]
    fn identical_reports_say_no_change() {
        let b = parse_report(&report(2, 2, "t1"), "base.json").unwrap();
        let d = diff(&b, &b);
        assert!(!d.changed && !d.regressed);
        assert_eq!(d.summary.en, "No maturity change.");
        assert_eq!(d.projects[0].unchanged_sub_items.len(), 1);
    }

    #[test]
    fn moved_evidence_is_not_gained_or_lost() {
        let b = parse_report(&report(2, 1, "t1"), "b").unwrap();
        let moved = report(2, 1, "t1").replace("\"line\": 3", "\"line\": 9");
        let h = parse_report(&moved, "h").unwrap();
        let d = diff(&b, &h);
        assert!(!d.changed);
    }

    #[test]
    fn unknown_evidence_kinds_are_skipped() {
        let future = report(2, 1, "t1").replace("\"kind\": \"file\"", "\"kind\": \"telemetry\"");
        let h = parse_report(&future, "future.json").unwrap();
        let b = parse_report(&report(1, 1, "t1"), "b").unwrap();
        let d = diff(&b, &h);
        assert_eq!(d.projects[0].sub_items[0].head, 2);
        assert!(d.projects[0].sub_items[0].gained.is_empty());
    }

    #[test]
    fn schemas_are_checked() {
        let v2 = report(1, 1, "t").replace("report/v1", "report/v2");
        let e = parse_report(&v2, "old.json").unwrap_err().to_string();
        assert!(e.contains("old.json") && e.contains("report/v2"), "{e}");
        let e = parse_pair(&report(1, 1, "t"), "base.json", &v2, "head.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("base.json") && e.contains("head.json"), "{e}");
        assert!(matches!(
            parse_report("{\"overall\": 1}", "x.json"),
            Err(DiffError::NotAReport { .. })
        ));
        assert!(matches!(
            parse_report("not json", "x.json"),
            Err(DiffError::Json { .. })
        ));
    }

    #[test]
    fn projects_are_matched_by_name_and_path() {
        let b = parse_report(&report(1, 1, "t"), "b").unwrap();
        let mut h = b.clone();
        h.projects[0].name = Some("ranker".into());
        let d = diff(&b, &h);
        let statuses: Vec<_> = d.projects.iter().map(|p| p.status).collect();
        assert_eq!(statuses, [ProjectStatus::Removed, ProjectStatus::Added]);
        assert!(d.changed);
    }
}
