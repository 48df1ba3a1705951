//! Unit tests of the coded detectors that need no job graph: API facts, git
//! tags, CI files by path, qualifiers. Graph scenarios are in tests/detect_coded.rs.

use std::sync::Arc;

use super::*;
use crate::detect::qualifier;
use crate::evidence::{
    ApiRecord, BranchProtection, EnvironmentInfo, FileSet, GitMeta, GitRef, Observed,
    RegistryVersion, RepoFile, Source,
};
use crate::pipeline::{CiSystem, Step, Trigger, TriggerKind};

fn snapshot(paths: &[&str]) -> Snapshot {
    let files = FileSet::new(
        paths
            .iter()
            .map(|p| RepoFile {
                path: p.to_string(),
                size: 1,
                content: Some(Arc::from("x")),
                skipped: None,
            })
            .collect(),
    );
    Snapshot::new(
        Source {
            kind: "github".into(),
            target: "github:o/r".into(),
            revision: None,
        },
        files,
    )
}

fn record(endpoint: &str) -> ApiRecord {
    ApiRecord {
        endpoint: endpoint.into(),
        record: None,
        url: None,
    }
}

fn run_on(snap: &Snapshot) -> Detection {
    let graph = JobGraph::build(&snap.pipelines);
    run(snap, &graph, RuleOutput::default())
}

#[test]
fn api_facts_when_collected() {
    let mut snap = snapshot(&[]);
    snap.api.branch_protection = Observed::Collected {
        items: vec![
            BranchProtection {
                branch: "main".into(),
                required_checks: vec!["ci / test".into()],
                required_reviews: 1,
                code_owner_reviews: false,
                linear_history: false,
                record: record("GET /repos/o/r/branches/main/protection"),
            },
            BranchProtection {
                branch: "dev".into(),
                required_checks: vec![],
                required_reviews: 0,
                code_owner_reviews: false,
                linear_history: false,
                record: record("GET /repos/o/r/branches/dev/protection"),
            },
        ],
    };
    snap.api.environments = Observed::Collected {
        items: vec![
            EnvironmentInfo {
                name: "production".into(),
                tier: None,
                required_reviewers: 2,
                wait_timer_minutes: 0,
                branch_policy: None,
                record: record("GET /repos/o/r/environments"),
            },
            EnvironmentInfo {
                name: "preview".into(),
                tier: None,
                required_reviewers: 0,
                wait_timer_minutes: 0,
                branch_policy: None,
                record: record("GET /repos/o/r/environments"),
            },
        ],
    };
    snap.api.registry_versions = Observed::Collected {
        items: ["1.0.0", "1.1.0"]
            .iter()
            .map(|v| RegistryVersion {
                kind: "container".into(),
                name: "ghcr.io/o/model".into(),
                version: v.to_string(),
                created_at: None,
                record: record("GET /user/packages/container/model/versions"),
            })
            .collect(),
    };
    let d = run_on(&snap);
    let bp = d.practice("api.branch_protection").expect("protection");
    assert_eq!(bp.evidence.len(), 1);
    assert_eq!(
        bp.evidence[0].excerpt,
        "branch main protected: required checks ci / test; 1 required review(s)"
    );
    assert!(matches!(bp.evidence[0].origin, Origin::Api { .. }));
    let env = d.practice("api.environment_protection").expect("env");
    assert_eq!(env.evidence.len(), 1);
    assert!(env.evidence[0].has(qualifier::PRODUCTION));
    let gate = d.practice("deploy.approval_gate").expect("reviewers gate");
    assert_eq!(
        gate.evidence[0].excerpt,
        "production environment production requires 2 reviewer(s)"
    );
    assert_eq!(
        d.practice("api.registry_versions")
            .map(|f| f.evidence[0].excerpt.clone()),
        Some("container ghcr.io/o/model: 2 version(s) (1.0.0, 1.1.0)".to_string())
    );
}

#[test]
fn api_facts_not_collected_or_not_visible_add_nothing() {
    let mut snap = snapshot(&[]);
    snap.api.branch_protection = Observed::NotVisible {
        reason: "403".into(),
    };
    let d = run_on(&snap);
    assert!(d.findings.is_empty());
}

#[test]
fn semver_tags_are_release_tags_not_release_versioning() {
    let mut snap = snapshot(&[]);
    let tag = |name: &str, date: &str| GitRef {
        name: name.into(),
        commit: "abc".into(),
        date: Some(date.into()),
    };
    snap.git = Some(GitMeta {
        tags: vec![
            tag("v1.2.0", "2024-03-01T00:00:00Z"),
            tag("nightly", "2024-03-05T00:00:00Z"),
            tag("model-v1.3.0", "2024-04-01T00:00:00Z"),
        ],
        ..GitMeta::default()
    });
    let d = run_on(&snap);
    assert!(d.practice("release.versioning").is_none());
    let f = d.practice("api.release_tags").expect("tags");
    assert_eq!(
        f.evidence[0].excerpt,
        "2 semver-like tag(s), latest model-v1.3.0, v1.2.0"
    );
    match &f.evidence[0].origin {
        Origin::Api { record } => assert_eq!(record.endpoint, "git refs/tags"),
        other => panic!("unexpected origin {other:?}"),
    }
    snap.git = Some(GitMeta {
        tags: vec![tag("latest", "2024-01-01T00:00:00Z")],
        ..GitMeta::default()
    });
    assert!(run_on(&snap).practice("api.release_tags").is_none());
}

#[test]
fn other_ci_systems_by_path() {
    let snap = snapshot(&[
        "azure-pipelines.yml",
        ".circleci/config.yml",
        "infra/buildspec.yml",
        "cloudbuild.yaml",
        "docs/examples/.travis.yml",
        "README.md",
    ]);
    let d = run_on(&snap);
    let f = d.practice("ci.pipeline").expect("ci files");
    let paths: Vec<String> = f
        .evidence
        .iter()
        .map(|e| match &e.origin {
            Origin::File { location } => location.path.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            ".circleci/config.yml",
            "azure-pipelines.yml",
            "cloudbuild.yaml",
            "infra/buildspec.yml"
        ]
    );
}

#[test]
fn reached_evidence_inherits_job_qualifiers() {
    let file = ".github/workflows/retrain.yml";
    let mut snap = snapshot(&[]);
    let step = Step {
        name: None,
        run: Some("make train".into()),
        uses: None,
        with: Default::default(),
        condition: None,
        may_fail: false,
        via: None,
        location: Location::new(file, 12),
    };
    let job = Job {
        steps: vec![step],
        ..Job::new("train", Location::new(file, 8))
    };
    snap.pipelines.push(Pipeline {
        id: file.into(),
        system: CiSystem::GithubActions,
        name: None,
        file: file.into(),
        triggers: vec![Trigger {
            kind: TriggerKind::Schedule,
            branches: vec![],
            paths: vec![],
            detail: vec!["0 0 * * 0".into()],
            location: Location::new(file, 3),
        }],
        stages: vec![],
        jobs: vec![job],
        includes: vec![],
        reusable: false,
        location: Location::new(file, 1),
    });
    let graph = JobGraph::build(&snap.pipelines);
    let evidence = file_evidence(
        "ml.train",
        Location::new("src/train.py", 4),
        "model.fit(x, y)",
        vec![Location::new(file, 12), Location::new("Makefile", 3)],
        &[],
        Confidence::High,
    );
    let output = RuleOutput {
        findings: vec![PracticeFinding {
            practice: "model.training_pipeline".into(),
            evidence: vec![evidence],
        }],
        ..RuleOutput::default()
    };
    let d = run(&snap, &graph, output);
    let e = &d
        .practice("model.training_pipeline")
        .expect("training")
        .evidence[0];
    let got: Vec<&str> = e.qualifiers.iter().map(String::as_str).collect();
    assert_eq!(got, vec!["automatic", "in_pipeline", "scheduled"]);
}

#[test]
fn excerpts_are_shortened() {
    let long = "x".repeat(400);
    let short = shorten(&long);
    assert_eq!(short.chars().count(), 161);
}

#[test]
fn printing_is_not_deploying() {
    assert_eq!(
        without_prints("echo \"Deploying to dev\"\n# kubectl apply\nls"),
        "ls"
    );
    let mut job = Job::new("canary", Location::new("w.yml", 1));
    job.steps.push(Step {
        name: None,
        run: Some("echo \"Deploying to production\"\nsleep 5".into()),
        uses: None,
        with: Default::default(),
        condition: None,
        may_fail: false,
        via: None,
        location: Location::new("w.yml", 3),
    });
    assert!(!job_looks_like_deploy(&job));
    if let Some(step) = job.steps.first_mut() {
        step.run = Some("helm upgrade --install api chart/".into());
    }
    assert!(job_looks_like_deploy(&job));
}
