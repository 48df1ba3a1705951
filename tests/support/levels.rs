//! The comparison both API connectors must pass: a replayed scan gives the same
//! practices (evidence included) and levels as the local scan of the same files, plus
//! API-only facts that can only raise levels.

use mlops_maturity::assess::{self, Table};
use mlops_maturity::config::Config;
use mlops_maturity::detect::{self, Detection, Origin, RuleSet};
use mlops_maturity::evidence::Snapshot;
use mlops_maturity::pipeline::JobGraph;

fn detect_all(snapshot: &Snapshot) -> Detection {
    let graph = JobGraph::build(&snapshot.pipelines);
    let rules = RuleSet::builtin().expect("built-in rules load");
    detect::detect(snapshot, &graph, &rules)
}

fn levels(detection: &Detection) -> Vec<(&'static str, u8)> {
    let table = Table::builtin().expect("table loads");
    let assessment = assess::assess(detection, &table, &Config::default());
    assessment
        .sub_domains
        .iter()
        .flat_map(|d| d.items.iter())
        .flat_map(|i| i.sub_items.iter())
        .map(|s| (s.id, s.level))
        .collect()
}

fn is_api_only(practice: &str) -> bool {
    practice.starts_with("api.") || practice.starts_with("history.")
}

/// The detection restricted to evidence seen in files (API records, such as git tags or
/// environment reviewers, can add evidence to repo practices too).
fn file_evidence_only(detection: &Detection) -> Detection {
    let mut d = detection.clone();
    for f in &mut d.findings {
        f.evidence
            .retain(|e| matches!(e.origin, Origin::File { .. }));
    }
    d.findings.retain(|f| !f.evidence.is_empty());
    d
}

/// Assert that `remote` (a replayed API scan) equals `local` (the local scan of the
/// same files) in practices and levels, and adds every one of `api_facts`.
pub fn assert_same_as_local_plus_api_facts(
    remote: &Snapshot,
    local: &Snapshot,
    api_facts: &[&str],
) {
    let remote_detection = detect_all(remote);
    let local_detection = detect_all(local);

    // Practices seen in the files are the same, evidence included.
    let remote_files = file_evidence_only(&remote_detection);
    assert_eq!(remote_files.findings, local_detection.findings);
    assert!(
        !local_detection.findings.is_empty(),
        "the fixture shows practices"
    );

    // The API adds facts files cannot show.
    let api_only: Vec<&str> = remote_detection
        .findings
        .iter()
        .map(|f| f.practice.as_str())
        .filter(|p| is_api_only(p))
        .collect();
    for fact in api_facts {
        assert!(api_only.contains(fact), "{fact} missing: {api_only:?}");
    }
    assert!(
        local_detection
            .findings
            .iter()
            .all(|f| !is_api_only(&f.practice))
    );

    // Without the API evidence the levels are the local ones; with it, never lower.
    assert_eq!(levels(&remote_files), levels(&local_detection));
    for ((id, with_api), (_, local_level)) in levels(&remote_detection)
        .into_iter()
        .zip(levels(&local_detection))
    {
        assert!(with_api >= local_level, "{id}: {with_api} < {local_level}");
    }
}
