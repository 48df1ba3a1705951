//! Azure Pipelines through the whole detection: YAML text → parsed pipelines →
//! rules and coded detectors. Positives for the Azure-specific mappings and the
//! negatives that keep precision (no trigger means `trigger: none` was written,
//! weights of 0/100 only route, a rollback name without a deploy is not a rollback).

use std::sync::Arc;

use mlops_maturity::detect::{Detection, Origin, RuleSet, detect};
use mlops_maturity::evidence::{FileSet, RepoFile, Snapshot, Source};
use mlops_maturity::pipeline::{JobGraph, parse_all};

fn scan(files: &[(&str, &str)]) -> Detection {
    let set = FileSet::new(
        files
            .iter()
            .map(|(path, text)| RepoFile {
                path: path.to_string(),
                size: text.len() as u64,
                content: Some(Arc::from(*text)),
                skipped: None,
            })
            .collect(),
    );
    let mut diags = Vec::new();
    let pipelines = parse_all(&set, &mut diags);
    let mut snap = Snapshot::new(
        Source {
            kind: "local".into(),
            target: "test".into(),
            revision: None,
        },
        set,
    );
    snap.pipelines = pipelines;
    let graph = JobGraph::build(&snap.pipelines);
    detect(&snap, &graph, &RuleSet::builtin().unwrap())
}

/// `path:line` of every piece of evidence of a practice, from the given rule prefix.
fn evidence(d: &Detection, practice: &str, rule_prefix: &str) -> Vec<String> {
    d.practice(practice)
        .map(|f| {
            f.evidence
                .iter()
                .filter(|e| e.rule.starts_with(rule_prefix))
                .filter_map(|e| match &e.origin {
                    Origin::File { location } => Some(location.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

const CANARY: &str = "\
trigger:
  branches:
    include:
    - main
stages:
- stage: Deploy
  jobs:
  - deployment: Rollout
    environment: production
    strategy:
      canary:
        increments: [10, 50]
        deploy:
          steps:
          - script: kubectl apply -f k8s/
        on:
          failure:
            steps:
            - script: kubectl rollout undo deployment/model
";

#[test]
fn canary_strategy_and_failure_hook() {
    let d = scan(&[("azure-pipelines.yml", CANARY)]);
    assert_eq!(
        evidence(&d, "deploy.progressive", "deploy.progressive.azure_canary"),
        vec!["azure-pipelines.yml:11"]
    );
    assert_eq!(
        evidence(&d, "deploy.rollback", "deploy.rollback.on_failure_hook"),
        vec!["azure-pipelines.yml:17"]
    );
    assert!(d.practice("ci.on_change").is_some());
    assert!(d.practice("vcs.branch_policy").is_some());
}

const BLUE_GREEN: &str = "\
trigger: none
stages:
- stage: Blue_50
  jobs:
  - job: Split
    steps:
    - task: HelmDeploy@0
      inputs:
        command: upgrade
        chartPath: charts/istio
        releaseName: istio
        overrideValues: 'weight.blue=50,weight.green=50'
- stage: Rollback
  dependsOn: Blue_50
  condition: failed()
  jobs:
  - job: Roll_Back
    steps:
    - task: HelmDeploy@0
      inputs:
        command: upgrade
        chartPath: charts/istio
        releaseName: istio
        overrideValues: 'weight.blue=0,weight.green=100'
- stage: Disable_blue
  jobs:
  - job: Remove
    steps:
    - task: HelmDeploy@0
      inputs:
        command: delete
        arguments: model-blue
";

#[test]
fn helm_tasks_map_to_progressive_rollback_and_retirement() {
    let d = scan(&[("azure-pipelines.yml", BLUE_GREEN)]);
    assert_eq!(
        evidence(&d, "deploy.progressive", "deploy.progressive.helm_weights"),
        vec!["azure-pipelines.yml:7"],
        "only the 50/50 split, not the 0/100 switch back"
    );
    assert!(!evidence(&d, "deploy.rollback", "deploy.rollback.rollback_job").is_empty());
    assert_eq!(
        evidence(
            &d,
            "release.retirement",
            "release.retirement.helm_uninstall"
        ),
        vec!["azure-pipelines.yml:29"]
    );
    // `trigger: none`, no `pr:`: nothing runs on change.
    assert!(d.practice("ci.on_change").is_none());
}

#[test]
fn rollback_name_without_a_deploy_and_uninstall_without_deploys_do_not_count() {
    let d = scan(&[(
        "azure-pipelines.yml",
        "\
stages:
- stage: Rollback
  jobs:
  - job: Notify_rollback
    steps:
    - script: echo rollback needed
- stage: Cleanup
  jobs:
  - job: Clean
    steps:
    - script: helm uninstall test-release
",
    )]);
    assert!(d.practice("deploy.rollback").is_none());
    assert!(d.practice("release.retirement").is_none());
}

#[test]
fn docker_task_is_a_container_build_and_publish_tasks_are_reports() {
    let d = scan(&[(
        "build/azure-pipelines.yml",
        "\
pr:
  branches:
    include: [main]
steps:
- script: python -m pytest --junitxml=junit.xml
- task: PublishTestResults@2
  inputs:
    testResultsFiles: junit.xml
- task: Docker@2
  inputs:
    command: buildAndPush
    repository: model
",
    )]);
    assert_eq!(
        evidence(&d, "build.container", "build.container"),
        vec!["build/azure-pipelines.yml:9"]
    );
    assert!(d.practice("test.results").is_some());
    assert!(d.practice("ci.on_change").is_some());
}
