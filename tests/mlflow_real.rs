//! The MLflow connector against a REAL tracking server (mlflow==3.17.2 on 127.0.0.1),
//! seeded by tests/mlflow/seed.py. One server serves every assertion: starting one
//! takes ~10 s and seeding ~20 s. Skips (with the reason printed) when the venv from
//! scripts/mlflow-test-server.sh is not installed.

#[path = "mlflow/server.rs"]
mod server;

use std::time::Duration;

use mlops_maturity::connect::mlflow::{
    self, Credentials, EvidenceKind, MatchedBy, MlflowOptions, RegistryEvidence, apply_to_snapshot,
    registry_findings,
};
use mlops_maturity::evidence::{FileSet, Snapshot, Source};

fn options(uri: &str) -> MlflowOptions {
    let mut opts = MlflowOptions::new(uri);
    opts.credentials = Credentials::None;
    opts.timeout = Duration::from_secs(20);
    opts
}

fn versions(ev: &RegistryEvidence, model: &str) -> Vec<String> {
    ev.model(model)
        .unwrap_or_else(|| panic!("model {model} missing from {:?}", ev.models))
        .versions
        .iter()
        .map(|v| v.version.clone())
        .collect()
}

fn excerpt(
    findings: &[mlops_maturity::detect::PracticeFinding],
    practice: &str,
    model: &str,
) -> String {
    findings
        .iter()
        .find(|f| f.practice == practice)
        .unwrap_or_else(|| panic!("no {practice}"))
        .evidence
        .iter()
        .find(|e| e.excerpt.contains(&format!("model {model}")))
        .unwrap_or_else(|| panic!("no {practice} evidence for {model}"))
        .excerpt
        .clone()
}

#[test]
fn real_mlflow_server_end_to_end() {
    let Some(server) = server::start_or_skip("real_mlflow_server_end_to_end") else {
        return;
    };
    let seeded = server.seed();
    let commit_of = |key: &str| seeded["runs"][key]["commit"].as_str().map(str::to_string);

    // --- 1. configured names -------------------------------------------------------
    let mut opts = options(&server.uri);
    opts.model_names = vec![
        "churn-classifier".into(),
        "fraud-detector".into(),
        "ghost".into(),
    ];
    let started = std::time::Instant::now();
    let (ev, stats) = mlflow::collect_blocking(&opts).expect("collect");
    eprintln!(
        "names: {} requests, {} ms, {} bytes ({} ms wall)",
        stats.requests,
        stats.elapsed_ms,
        stats.bytes,
        started.elapsed().as_millis()
    );
    assert!(ev.models_visible);
    assert_eq!(ev.server, "mlflow");
    assert_eq!(ev.tracking_uri, server.uri);
    assert_eq!(ev.models.len(), 2, "{:#?}", ev.models);
    assert!(
        ev.diagnostics
            .iter()
            .any(|d| d.code == "mlflow-model-not-found" && d.message.contains("ghost"))
    );

    let churn = ev.model("churn-classifier").unwrap();
    assert_eq!(churn.matched_by, Some(MatchedBy::Name));
    assert_eq!(versions(&ev, "churn-classifier"), ["1", "2", "4", "5"]);
    assert!(churn.versions_complete);
    assert_eq!(churn.missing_versions, [3], "v3 was deleted");
    assert!(
        ev.diagnostics
            .iter()
            .any(|d| d.code == "mlflow-version-gap" && d.message.contains("v3"))
    );
    assert_eq!(churn.aliases.get("champion").map(String::as_str), Some("4"));
    assert_eq!(
        churn.aliases.get("challenger").map(String::as_str),
        Some("5")
    );
    assert_eq!(churn.version("4").unwrap().aliases, ["champion"]);
    assert_eq!(
        churn.version("1").unwrap().stage.as_deref(),
        Some("Archived")
    );
    assert_eq!(
        churn.version("2").unwrap().stage.as_deref(),
        Some("Production")
    );
    assert_eq!(
        churn.version("4").unwrap().stage,
        None,
        "stage None is dropped"
    );
    assert_eq!(churn.version("1").unwrap().status.as_deref(), Some("READY"));
    assert_eq!(churn.tags.get("team").map(String::as_str), Some("growth"));
    assert_eq!(churn.description.as_deref(), Some("Churn model"));
    // Lineage: the commit of each version's run, as seeded.
    for v in ["1", "2", "4", "5"] {
        let key = format!("churn-classifier/{v}");
        assert_eq!(
            churn.version(v).unwrap().git_commit,
            commit_of(&key),
            "commit of {key}"
        );
        assert_eq!(
            churn.version(v).unwrap().run_id.as_deref(),
            seeded["runs"][&key]["run"].as_str(),
            "run of {key}"
        );
    }
    let v4 = churn.version("4").unwrap();
    let run4 = ev.run_of(v4).expect("run of v4");
    assert_eq!(run4.metrics.get("accuracy"), Some(&0.83));
    assert_eq!(run4.metrics.get("f1"), Some(&0.79));
    assert_eq!(run4.params.get("max_depth").map(String::as_str), Some("7"));
    assert_eq!(
        run4.git_repo_url.as_deref(),
        Some("https://github.com/acme/churn.git")
    );
    assert_eq!(run4.datasets.len(), 1);
    assert_eq!(run4.datasets[0].name, "churn-train");
    assert_eq!(run4.datasets[0].context.as_deref(), Some("training"));
    // MLflow 3: v4's source is the logged model; its MLmodel carries the signature.
    assert_eq!(
        v4.model_id.as_deref(),
        seeded["runs"]["churn-classifier/4"]["model_id"].as_str()
    );
    assert_eq!(v4.schema.signature, Some(true));
    assert_eq!(v4.schema.input_example, Some(true));
    // Versions made from a bare run have no MLmodel: unknown, never "no signature".
    assert_eq!(churn.version("1").unwrap().schema.signature, None);
    let run5 = ev.run_of(churn.version("5").unwrap()).unwrap();
    assert!(run5.git_commit.is_none() && run5.metrics.is_empty());

    let fraud = ev.model("fraud-detector").unwrap();
    assert_eq!(versions(&ev, "fraud-detector"), ["1", "2"]);
    assert!(fraud.missing_versions.is_empty());
    assert_eq!(
        fraud.version("2").unwrap().stage.as_deref(),
        Some("Production")
    );
    assert_eq!(
        fraud.version("1").unwrap().git_commit,
        commit_of("fraud-detector/1")
    );
    assert!(!ev.partial, "{:?}", ev.diagnostics);
    assert!(
        ev.not_visible
            .iter()
            .all(|n| n.kind == EvidenceKind::Artifacts),
        "{:?}",
        ev.not_visible
    );
    // 3 names + 2 version searches + 6 runs + 6 MLmodel reads.
    assert!((11..=20).contains(&stats.requests), "{stats:?}");
    assert_eq!(stats.retries, 0);

    // --- findings --------------------------------------------------------------------
    let findings = registry_findings(&ev);
    let lineage = excerpt(&findings, "api.model_lineage", "churn-classifier");
    assert!(
        lineage.starts_with(
            "model churn-classifier: 3/4 versions (75%) trace to a commit and a run with metrics"
        ),
        "{lineage}"
    );
    assert!(
        lineage.contains("production v4 (alias champion) → commit c4000000"),
        "{lineage}"
    );
    assert!(lineage.contains("1 with dataset inputs"), "{lineage}");
    assert_eq!(
        excerpt(&findings, "api.model_retirement", "churn-classifier"),
        "model churn-classifier: 2 of 2 superseded versions retired; 1 archived (v1); 1 deleted (gaps in the version numbers: v3)"
    );
    assert_eq!(
        excerpt(&findings, "api.model_retirement", "fraud-detector"),
        "model fraud-detector: 1 of 1 superseded versions retired; 1 archived (v1)"
    );
    let promotion = excerpt(&findings, "api.model_promotion", "churn-classifier");
    assert!(
        promotion.contains("alias champion → v4") && promotion.contains("stage Production → v2"),
        "{promotion}"
    );
    assert!(
        excerpt(&findings, "api.model_promotion", "fraud-detector")
            .contains("production is v2 (stage Production)")
    );
    assert!(
        excerpt(&findings, "api.model_cadence", "churn-classifier")
            .contains("4 versions registered in the last 6 months")
    );
    assert!(
        excerpt(&findings, "api.model_schema", "churn-classifier").starts_with(
            "model churn-classifier: 1/4 versions record a signature (1 with an input example"
        )
    );
    assert!(
        excerpt(&findings, "api.registry_versions", "churn-classifier")
            .contains("has 4 versions (v1–v5), 1 deleted")
    );
    assert!(
        findings
            .iter()
            .any(|f| f.practice == "model.registry" && f.evidence.len() == 2)
    );

    // --- snapshot slot ---------------------------------------------------------------
    let mut snapshot = Snapshot::new(
        Source {
            kind: "local".into(),
            target: ".".into(),
            revision: None,
        },
        FileSet::default(),
    );
    apply_to_snapshot(&mut snapshot, ev.clone());
    let entries = snapshot.api.registry_versions.items().expect("collected");
    assert_eq!(entries.len(), 6);
    assert!(
        entries
            .iter()
            .all(|e| e.kind == "model" && e.created_at.is_some())
    );
    let json = serde_json::to_string(&snapshot).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back.api.registry.as_ref(), Some(&ev));

    // --- 2. matched by repository URL (ssh and https remotes of acme/churn) ----------
    let mut opts = options(&server.uri);
    opts.repo_urls = vec!["git@github.com:acme/churn.git".into()];
    let (ev, _) = mlflow::collect_blocking(&opts).expect("collect by repo");
    let names: Vec<&str> = ev.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["churn-classifier", "fraud-detector"]);
    assert_eq!(ev.unmatched_models, 1, "other-team-model is not ours");
    match &ev.model("churn-classifier").unwrap().matched_by {
        Some(MatchedBy::RepoUrl { url, version, .. }) => {
            assert_eq!(url, "https://github.com/acme/churn.git");
            assert_eq!(version, "1");
        }
        other => panic!("expected a repository match, got {other:?}"),
    }
    assert!(matches!(
        &ev.model("fraud-detector").unwrap().matched_by,
        Some(MatchedBy::RepoUrl { url, .. }) if url == "git@github.com:acme/churn.git"
    ));
    assert!(
        ev.runs
            .values()
            .all(|r| r.git_repo_url.as_deref() != Some("https://github.com/other/thing")),
        "the other team's run stays out of the evidence"
    );

    // --- 3. name pattern, and everything ----------------------------------------------
    let mut opts = options(&server.uri);
    opts.name_pattern = Some("fraud-.*".into());
    opts.fetch_schemas = false;
    let (ev, _) = mlflow::collect_blocking(&opts).expect("collect by pattern");
    assert_eq!(ev.models.len(), 1);
    assert_eq!(ev.unmatched_models, 2);
    assert!(matches!(
        ev.models[0].matched_by,
        Some(MatchedBy::Pattern { .. })
    ));
    let (ev, _) = mlflow::collect_blocking(&options(&server.uri)).expect("collect all");
    assert_eq!(ev.models.len(), 3);
    assert!(
        ev.models
            .iter()
            .all(|m| m.matched_by == Some(MatchedBy::Unfiltered))
    );

    // --- 4. a request budget too small: partial evidence, said so --------------------
    let mut opts = options(&server.uri);
    opts.max_requests = 3;
    let (ev, stats) = mlflow::collect_blocking(&opts).expect("collect with a budget");
    assert!(stats.budget_exhausted && ev.partial);
    assert_eq!(stats.requests, 3);
    assert!(
        ev.diagnostics
            .iter()
            .any(|d| d.code == "mlflow-request-budget")
    );
}
