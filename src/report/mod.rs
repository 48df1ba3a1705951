//! Reports: terminal, JSON, Markdown, SARIF.
//!
//! A [`Report`] is built once from the assessments; each format is a pure function
//! `&Report → String` in its own module. The JSON form is the contract other tools
//! read (diff, the GitHub Action, org scans): `docs/report-schema.md` documents it and
//! [`SCHEMA`] names its version.

use serde::Serialize;

use crate::assess::{self, Assessment, SubDomainResult, SubItemResult, Text};
use crate::detect::Detection;
use crate::evidence::{Diagnostic, Snapshot, Source};
use crate::standard;

pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

/// Version of the JSON report shape. A new major shape gets a new name.
pub const SCHEMA: &str = "mlops-maturity/report/v1";

/// Language of the prose (labels, criteria, next steps). Names of the standard's
/// capabilities are always shown in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// Pick the text of this language.
    pub fn pick<'a>(&self, text: &'a Text) -> &'a str {
        match self {
            Lang::En => &text.en,
            Lang::Zh => &text.zh,
        }
    }
    /// A fixed label in this language.
    pub fn s<'a>(&self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    /// Version of the interpretation table (`interpretation/levels.toml`).
    pub table_version: String,
    pub source: Source,
    /// The configuration file used, if any.
    pub config: Option<String>,
    /// Lowest overall level of the projects (the repository's level when it is one project).
    pub overall: u8,
    /// Mean of the projects' mean scores (the repository's mean score when it is one
    /// project): a continuous score, not a level.
    pub mean_score: f64,
    /// One entry per assessed project; a repository without `[[project]]` is one project.
    pub projects: Vec<ProjectReport>,
    /// What the scan wants the user to know (unreadable files, YAML errors …).
    pub diagnostics: Vec<Diagnostic>,
    /// Delivery metrics from deploy/CI history (API scans, `--history FILE`), each with
    /// the window it covers. Absent when no history was collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::Metrics>,
}

/// The assessment of one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectReport {
    /// `None` for a whole repository.
    pub name: Option<String>,
    /// Repository-relative folder; `""` = the whole repository.
    pub path: String,
    pub overall: u8,
    /// Mean of the 32 sub-item levels: a continuous score, not a level of the standard.
    pub mean_score: f64,
    pub sub_domains: Vec<SubDomainResult>,
    /// Every practice found, with evidence counts.
    pub practices: Vec<PracticeSummary>,
    pub evidence_counts: EvidenceCounts,
    /// The file results point at when a sub-item has no evidence of its own
    /// (the first CI pipeline, else README.md).
    pub anchor_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PracticeSummary {
    pub id: String,
    pub observed: usize,
    pub attested: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceCounts {
    pub practices: usize,
    pub observed: usize,
    pub attested: usize,
}

impl ProjectReport {
    pub fn new(
        name: Option<String>,
        path: String,
        assessment: Assessment,
        detection: &Detection,
        anchor_file: Option<String>,
    ) -> Self {
        let practices: Vec<PracticeSummary> = detection
            .findings
            .iter()
            .filter(|f| !f.evidence.is_empty())
            .map(|f| {
                let attested = f.evidence.iter().filter(|e| e.is_attested()).count();
                PracticeSummary {
                    id: f.practice.clone(),
                    observed: f.evidence.len() - attested,
                    attested,
                }
            })
            .collect();
        let evidence_counts = EvidenceCounts {
            practices: practices.len(),
            observed: practices.iter().map(|p| p.observed).sum(),
            attested: practices.iter().map(|p| p.attested).sum(),
        };
        ProjectReport {
            name,
            path,
            overall: assessment.overall,
            mean_score: assessment.mean_score,
            sub_domains: assessment.sub_domains,
            practices,
            evidence_counts,
            anchor_file,
        }
    }

    /// Every sub-item result, in the standard's order.
    pub fn sub_items(&self) -> impl Iterator<Item = &SubItemResult> {
        self.sub_domains
            .iter()
            .flat_map(|d| &d.items)
            .flat_map(|i| &i.sub_items)
    }

    /// The most useful next steps: the lowest sub-items first, one step each.
    pub fn top_next_steps(&self, max: usize) -> Vec<(&SubItemResult, &assess::NextStep)> {
        let mut steps: Vec<_> = self
            .sub_items()
            .filter_map(|s| s.next_steps.first().map(|n| (s, n)))
            .collect();
        steps.sort_by_key(|(s, _)| s.level);
        steps.truncate(max);
        steps
    }

    /// The title to show: the project name, or "repository".
    pub fn title(&self) -> String {
        match &self.name {
            Some(n) if self.path.is_empty() => n.clone(),
            Some(n) => format!("{n} ({})", self.path),
            None => String::new(),
        }
    }
}

impl Report {
    pub fn new(
        source: Source,
        table_version: &str,
        config: Option<String>,
        projects: Vec<ProjectReport>,
        diagnostics: Vec<Diagnostic>,
    ) -> Self {
        let overall = projects
            .iter()
            .map(|p| p.overall)
            .min()
            .unwrap_or(standard::MIN_LEVEL);
        let mean_score = if projects.is_empty() {
            f64::from(standard::MIN_LEVEL)
        } else {
            let sum: f64 = projects.iter().map(|p| p.mean_score).sum();
            (sum / projects.len() as f64 * 100.0).round() / 100.0
        };
        Report {
            schema: SCHEMA,
            mean_score,
            tool: Tool::default(),
            table_version: table_version.to_string(),
            source,
            config,
            overall,
            projects,
            diagnostics,
            history: None,
        }
    }

    /// Attach the delivery metrics the `history.*` facts came from.
    pub fn with_history(mut self, history: Option<crate::history::Metrics>) -> Self {
        self.history = history;
        self
    }
}

/// The file SARIF results and reports point at by default: the first pipeline
/// definition, else a README at the root.
pub fn anchor_file(snapshot: &Snapshot) -> Option<String> {
    let mut pipeline_files: Vec<&str> =
        snapshot.pipelines.iter().map(|p| p.file.as_str()).collect();
    pipeline_files.sort_unstable();
    if let Some(first) = pipeline_files.first() {
        return Some((*first).to_string());
    }
    ["README.md", "README.rst", "README", "readme.md"]
        .into_iter()
        .find(|r| snapshot.files.contains(r))
        .map(str::to_string)
}

/// `■■□□□` for a level.
pub fn level_bar(level: u8) -> String {
    (1..=standard::MAX_LEVEL)
        .map(|i| if i <= level { '■' } else { '□' })
        .collect()
}

/// "2 基础级 (Basic)".
pub fn level_label(level: u8) -> String {
    match standard::level(level) {
        Some(l) => format!("{level} {}", l.name.both()),
        None => level.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A hand-built detection shared by the renderer tests.
    use super::*;
    use crate::config::Config;
    use crate::detect::{Confidence, Evidence, Origin, PracticeFinding};
    use crate::evidence::Location;

    pub fn evidence(path: &str, line: u32, qualifiers: &[&str]) -> Evidence {
        Evidence {
            rule: "test-rule".into(),
            origin: Origin::File {
                location: Location::new(path, line),
            },
            excerpt: "run: pytest | tee <out> `x` @team".into(),
            chain: Vec::new(),
            qualifiers: qualifiers.iter().map(|q| q.to_string()).collect(),
            confidence: Confidence::High,
        }
    }

    pub fn detection() -> Detection {
        let ci = ".github/workflows/ci.yml";
        let f = |p: &str, ev: Vec<Evidence>| PracticeFinding {
            practice: p.into(),
            evidence: ev,
        };
        let mut d = Detection {
            findings: vec![
                f("ci.on_change", vec![evidence(ci, 3, &["on_change"])]),
                f("ci.pipeline", vec![evidence(ci, 1, &[])]),
                f(
                    "ci.tests",
                    vec![evidence(ci, 12, &["in_pipeline", "on_change"])],
                ),
                f(
                    "model.evaluation",
                    vec![evidence("src/eval.py", 40, &["threshold", "ml"])],
                ),
                f(
                    "model.training_pipeline",
                    vec![evidence("dvc.yaml", 2, &["ml"])],
                ),
            ],
            diagnostics: Vec::new(),
        };
        let config = Config::parse(
            "[[attest]]\npractice = \"monitor.runtime\"\nurl = \"https://wiki.example/mon\"\nreason = \"Grafana | <on-call> team\"\n",
            ".mlops-maturity.toml",
        )
        .expect("fixture config");
        config.add_attestations(&mut d);
        d
    }

    pub fn report() -> Report {
        let d = detection();
        let table = crate::assess::Table::builtin().expect("table");
        let a = crate::assess::assess(&d, &table, &Config::default());
        let p = ProjectReport::new(
            None,
            String::new(),
            a,
            &d,
            Some(".github/workflows/ci.yml".into()),
        );
        Report::new(
            Source {
                kind: "local".into(),
                target: "demo-repo".into(),
                revision: Some("abc123".into()),
            },
            &table.version,
            Some(".mlops-maturity.toml".into()),
            vec![p],
            vec![Diagnostic::warning(
                "yaml-syntax",
                "bad indentation",
                Some(crate::evidence::Location::new("broken.yml", 4)),
            )],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_labels() {
        assert_eq!(level_bar(3), "■■■□□");
        assert_eq!(level_bar(1), "■□□□□");
        assert_eq!(level_label(2), "2 基础级 (Basic)");
    }

    #[test]
    fn report_counts_and_next_steps() {
        let r = fixture::report();
        let p = &r.projects[0];
        assert_eq!(p.evidence_counts.attested, 1);
        assert_eq!(p.evidence_counts.practices, 6);
        assert_eq!(r.overall, 1);
        let steps = p.top_next_steps(5);
        assert_eq!(steps.len(), 5);
        assert!(steps.iter().all(|(s, _)| s.level == 1));
    }
}
