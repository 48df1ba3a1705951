//! One repository's snapshot → the same `report/v1` a `scan --format json` gives
//! for a remote target (its own `.mlops-maturity.toml`, its `[[project]]`s, API
//! history), without the options an org scan does not take (extra rule folders
//! named by the repository, `--history FILE`, a model registry).

use crate::assess::{self, Table};
use crate::config::{self, Config};
use crate::detect::{self, RuleSet};
use crate::evidence::{Diagnostic, Location, Snapshot};
use crate::history::{self, HistoryConfig};
use crate::pipeline::JobGraph;
use crate::report::{self, ProjectReport, Report};

/// Assess a snapshot the way `scan` does for `github:`/`gitlab:` targets.
pub fn report_of(snapshot: &Snapshot, table: &Table, rules: &RuleSet) -> Report {
    let mut diagnostics = snapshot.diagnostics.clone();
    // A repository's broken configuration is its own problem: note it and go on
    // with the defaults, so one bad file does not stop an org scan.
    let config = match snapshot.files.text(config::FILE_NAME) {
        Some(text) => match Config::parse(text, config::FILE_NAME) {
            Ok(c) => c,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    "config-invalid",
                    format!("configuration ignored: {e}"),
                    Some(Location::file(config::FILE_NAME)),
                ));
                Config::default()
            }
        },
        None => Config::default(),
    };
    let history = match history::analyse(snapshot, None, &HistoryConfig::default()) {
        Ok(h) => h,
        Err(e) => {
            diagnostics.push(Diagnostic::warning(
                "history-unreadable",
                format!("{e:#}"),
                None,
            ));
            None
        }
    };
    let history_findings = match &history {
        Some((metrics, diags)) => {
            diagnostics.extend(diags.iter().cloned());
            history::history_findings(metrics)
        }
        None => Vec::new(),
    };
    let scopes: Vec<(Option<String>, String, Snapshot)> = if config.projects.is_empty() {
        vec![(None, String::new(), snapshot.clone())]
    } else {
        config
            .projects
            .iter()
            .map(|p| {
                (
                    Some(p.name.clone()),
                    p.path.clone(),
                    p.scope(snapshot, &config.projects),
                )
            })
            .collect()
    };
    let mut projects = Vec::new();
    for (name, path, scoped) in scopes {
        let graph = JobGraph::build(&scoped.pipelines);
        let mut detection = detect::detect(&scoped, &graph, rules);
        detection.findings.extend(history_findings.iter().cloned());
        detection
            .findings
            .sort_by(|a, b| a.practice.cmp(&b.practice));
        config.apply_production_environments(&mut detection, &scoped.pipelines);
        config.add_attestations(&mut detection);
        for d in detection.diagnostics.drain(..) {
            if !diagnostics.contains(&d) {
                diagnostics.push(d);
            }
        }
        let assessment = assess::assess(&detection, table, &config);
        let anchor = report::anchor_file(&scoped);
        projects.push(ProjectReport::new(
            name, path, assessment, &detection, anchor,
        ));
    }
    Report::new(
        snapshot.source.clone(),
        &table.version,
        config.file.clone(),
        projects,
        diagnostics,
    )
    .with_history(history.map(|(metrics, _)| metrics))
}
