//! End to end on the fixture repositories: the levels a reader of the interpretation
//! table would expect, with evidence that is really there (the file exists and the
//! cited line says what the excerpt says), and snapshots of the JSON and Markdown
//! reports.

use std::path::{Path, PathBuf};

use mlops_maturity::assess::{self, Table};
use mlops_maturity::config::Config;
use mlops_maturity::connect::{self, ConnectOptions};
use mlops_maturity::detect::{self, Detection, Origin, RuleSet};
use mlops_maturity::pipeline::JobGraph;
use mlops_maturity::report::{self, Lang, ProjectReport, Report};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/repos")
        .join(name)
}

struct Scanned {
    detection: Detection,
    report: Report,
}

impl Scanned {
    fn level(&self, sub_item: &str) -> u8 {
        self.report.projects[0]
            .sub_domains
            .iter()
            .flat_map(|d| d.items.iter())
            .flat_map(|i| i.sub_items.iter())
            .find(|s| s.id == sub_item)
            .map(|s| s.level)
            .unwrap_or_else(|| panic!("no sub-item {sub_item}"))
    }
    fn has(&self, practice: &str) -> bool {
        self.detection.practice(practice).is_some()
    }
    /// The first file evidence of a practice: (path, line).
    fn evidence_at(&self, practice: &str) -> Vec<(String, u32)> {
        self.detection
            .practice(practice)
            .map(|f| {
                f.evidence
                    .iter()
                    .filter_map(|e| match &e.origin {
                        Origin::File { location } => Some((location.path.clone(), location.line)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn scan(name: &str) -> Scanned {
    let root = fixture(name);
    let mut snapshot = connect::scan_local(&root, &ConnectOptions::default()).expect("scan");
    // Reports name the target as given; keep snapshots independent of the checkout path.
    let shown = format!("fixtures/repos/{name}");
    let absolute = root.display().to_string();
    snapshot.source.target = shown.clone();
    for d in &mut snapshot.diagnostics {
        d.message = d.message.replace(&absolute, &shown);
    }
    let graph = JobGraph::build(&snapshot.pipelines);
    let rules = RuleSet::builtin().expect("rules");
    let detection = detect::detect(&snapshot, &graph, &rules);
    let table = Table::builtin().expect("table");
    let assessment = assess::assess(&detection, &table, &Config::default());
    let project = ProjectReport::new(
        None,
        String::new(),
        assessment,
        &detection,
        report::anchor_file(&snapshot),
    );
    let mut report = Report::new(
        snapshot.source.clone(),
        &table.version,
        None,
        vec![project],
        snapshot.diagnostics.clone(),
    );
    report.tool.version = "0.0.0-test";
    // Every piece of file evidence points at a file of the fixture, and at a line it has.
    for finding in &detection.findings {
        for e in &finding.evidence {
            if let Origin::File { location } = &e.origin {
                let path = root.join(&location.path);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|_| panic!("{}: evidence file missing", location));
                let lines = text.lines().count() as u32;
                assert!(
                    location.line <= lines,
                    "{location}: past the end ({lines} lines)"
                );
            }
        }
    }
    Scanned { detection, report }
}

#[test]
fn notebook_only_is_level_1_everywhere_with_no_practice() {
    let s = scan("notebook-only");
    assert!(
        s.detection.findings.is_empty(),
        "{:?}",
        s.detection.findings
    );
    assert_eq!(s.report.overall, 1);
    assert!((s.report.mean_score - 1.0).abs() < f64::EPSILON);
}

#[test]
fn basic_gha_has_ci_tests_but_no_deployment() {
    let s = scan("basic-gha");
    assert!(s.has("ci.tests") && s.has("ci.on_change") && s.has("ci.static_checks"));
    assert!(
        s.evidence_at("ci.on_change")
            .iter()
            .any(|(p, _)| p == ".github/workflows/ci.yml"),
        "{:?}",
        s.evidence_at("ci.on_change")
    );
    assert!(!s.has("deploy.automated"));
    assert_eq!(s.level("3.1.3"), 2, "tests run in CI");
    assert_eq!(
        s.level("1.2.2"),
        3,
        "every PR runs build, tests and static checks"
    );
    assert_eq!(s.level("2.2.2"), 1, "nothing deploys");
    assert_eq!(s.level("2.2.3"), 1);
    assert_eq!(s.report.overall, 1);
}

#[test]
fn mature_gha_chains_ci_to_cd_with_progressive_delivery() {
    let s = scan("mature-gha");
    for practice in [
        "deploy.gated_by_tests",
        "deploy.environments",
        "deploy.progressive",
        "deploy.rollback",
        "model.registry",
        "monitor.model",
        "build.schedule",
    ] {
        assert!(s.has(practice), "{practice} missing");
    }
    assert!(
        s.evidence_at("deploy.gated_by_tests")
            .iter()
            .any(|(p, _)| p == ".github/workflows/cd.yml")
    );
    assert_eq!(
        s.level("2.1.3"),
        3,
        "versioned releases, deploy gated by tests"
    );
    assert_eq!(
        s.level("3.1.1"),
        4,
        "threshold evaluation in the pipeline gates deployment"
    );
    // A progressive strategy without an approval gate or protected environment is not
    // auditable yet: level 2 of 2.2.3, per the table.
    assert_eq!(s.level("2.2.3"), 2);
    assert_eq!(s.level("2.3.3"), 1, "nothing retires old models");
    assert_eq!(
        s.report.overall, 1,
        "the staged rule: the lowest sub-item decides"
    );
}

#[test]
fn mature_gitlab_gates_production_by_hand() {
    let s = scan("mature-gitlab");
    assert!(s.has("deploy.approval_gate"));
    assert!(
        s.evidence_at("deploy.approval_gate")
            .iter()
            .any(|(p, _)| p == ".gitlab-ci.yml"),
        "{:?}",
        s.evidence_at("deploy.approval_gate")
    );
    assert!(s.has("deploy.gated_by_tests") && s.has("test.results"));
    assert_eq!(s.level("2.2.2"), 3);
    assert_eq!(
        s.level("3.2.2"),
        3,
        "JUnit and coverage reports in the pipeline"
    );
}

#[test]
fn jenkins_enterprise_reaches_tests_through_make() {
    let s = scan("jenkins-enterprise");
    let tests = s.detection.practice("ci.tests").expect("ci.tests");
    // `sh 'make test'` in the Jenkinsfile reaches the Makefile target: the chain is kept.
    assert!(
        tests
            .evidence
            .iter()
            .any(|e| e.chain.iter().any(|l| l.path == "Jenkinsfile") && !e.chain.is_empty()),
        "{:?}",
        tests.evidence
    );
    assert!(
        s.has("deploy.approval_gate"),
        "input step before production"
    );
    assert_eq!(s.level("3.1.3"), 3);
    assert_eq!(s.level("2.2.2"), 3);
}

#[test]
fn report_snapshots() {
    let s = scan("basic-gha");
    insta::assert_snapshot!("basic_gha_json", report::json::render(&s.report));
    let s = scan("mature-gitlab");
    insta::assert_snapshot!(
        "mature_gitlab_markdown",
        report::markdown::render(&s.report, Lang::En)
    );
}
