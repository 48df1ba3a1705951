use std::sync::Arc;

use super::*;
use crate::evidence::{RepoFile, Severity};
use crate::pipeline::{EdgeKind, JobGraph, TriggerKind};

fn repo_file(path: &str, text: &str) -> RepoFile {
    RepoFile {
        path: path.into(),
        size: text.len() as u64,
        content: Some(Arc::from(text)),
        skipped: None,
    }
}

fn parse(files: &[(&str, &str)]) -> (Vec<Pipeline>, Vec<Diagnostic>) {
    let set = FileSet::new(files.iter().map(|(p, t)| repo_file(p, t)).collect());
    let mut diagnostics = Vec::new();
    let pipelines = parse_workflows(&set, &mut diagnostics);
    (pipelines, diagnostics)
}

/// One workflow at `.github/workflows/ci.yml`; fails the test on any problem.
fn parse_one(text: &str) -> Pipeline {
    let (mut pipelines, diagnostics) = parse(&[(".github/workflows/ci.yml", text)]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(pipelines.len(), 1);
    pipelines.remove(0)
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn only_files_directly_in_the_workflows_dir_are_pipelines() {
    let job = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n";
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", job),
        (".github/workflows/cd.yaml", job),
        (".github/workflows/old/ci.yml", job),
        (".github/workflows/README.md", job),
        ("ci/.github/workflows/ci.yml", job),
        (".github/ci.yml", job),
    ]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let ids: Vec<&str> = pipelines.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [".github/workflows/cd.yaml", ".github/workflows/ci.yml"]
    );
    assert_eq!(pipelines[1].system, CiSystem::GithubActions);
    assert_eq!(pipelines[1].file, ".github/workflows/ci.yml");
}

#[test]
fn every_trigger_kind_with_filters_and_lines() {
    let p = parse_one(
        r#"name: All
on:
  push:
    branches: [main, 'release/**']
    branches-ignore: [wip]
    paths: ['src/**']
    tags: ['v*']
  pull_request:
    types: [opened]
    branches: main
  pull_request_target:
  schedule:
    - cron: '0 3 * * *'
    - cron: '30 1 * * 0'
  workflow_dispatch:
    inputs:
      env:
        type: string
  workflow_run:
    workflows: [CI, "Nightly"]
    types: [completed]
    branches: [main]
  workflow_call:
  repository_dispatch:
    types: [deploy]
  merge_group:
  release:
    types: [published]
  issues:
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
"#,
    );
    assert_eq!(p.name.as_deref(), Some("All"));
    assert!(!p.reusable);
    let kinds: Vec<&TriggerKind> = p.triggers.iter().map(|t| &t.kind).collect();
    assert_eq!(
        kinds,
        [
            &TriggerKind::Push,
            &TriggerKind::Tag,
            &TriggerKind::PullRequest,
            &TriggerKind::PullRequest,
            &TriggerKind::Schedule,
            &TriggerKind::Manual,
            &TriggerKind::Upstream,
            &TriggerKind::Call,
            &TriggerKind::Api,
            &TriggerKind::MergeQueue,
            &TriggerKind::Release,
            &TriggerKind::Other("issues".into()),
        ]
    );
    let push = &p.triggers[0];
    assert_eq!(push.branches, ["main", "release/**", "!wip"]);
    assert_eq!(push.paths, ["src/**"]);
    assert_eq!(push.location.line, 3);
    let tag = &p.triggers[1];
    assert_eq!(tag.branches, ["v*"]);
    assert!(tag.paths.is_empty(), "paths do not filter tag pushes");
    assert_eq!(tag.location.line, 3);
    assert_eq!(p.triggers[2].branches, ["main"]);
    assert_eq!(p.triggers[2].detail, ["opened"]);
    assert_eq!(p.triggers[2].location.line, 8);
    let schedule = &p.triggers[4];
    assert_eq!(schedule.detail, ["0 3 * * *", "30 1 * * 0"]);
    assert_eq!(schedule.location.line, 12);
    let upstream = &p.triggers[6];
    assert_eq!(upstream.detail, ["CI", "Nightly"]);
    assert_eq!(upstream.branches, ["main"]);
    assert_eq!(upstream.location.line, 19);
    assert_eq!(p.triggers[8].detail, ["deploy"]);
    assert_eq!(p.triggers[10].detail, ["published"]);
    assert_eq!(p.triggers[11].location.line, 29);
}

#[test]
fn scalar_and_list_triggers_and_tag_only_push() {
    let p = parse_one("on: push\njobs: {a: {runs-on: x, steps: [run: x]}}\n");
    assert_eq!(p.triggers.len(), 1);
    assert_eq!(p.triggers[0].kind, TriggerKind::Push);
    assert_eq!(p.triggers[0].location.line, 1);

    let p = parse_one(
        "on:\n  - pull_request\n  - workflow_dispatch\njobs: {a: {runs-on: x, steps: [run: x]}}\n",
    );
    let kinds: Vec<_> = p
        .triggers
        .iter()
        .map(|t| (t.kind.clone(), t.location.line))
        .collect();
    assert_eq!(
        kinds,
        [(TriggerKind::PullRequest, 2), (TriggerKind::Manual, 3)]
    );

    // Only tag filters: branch pushes do not start the workflow.
    let p = parse_one(
        "on:\n  push:\n    tags-ignore: ['*-rc*']\njobs: {a: {runs-on: x, steps: [run: x]}}\n",
    );
    assert_eq!(p.triggers.len(), 1);
    assert_eq!(p.triggers[0].kind, TriggerKind::Tag);
    assert_eq!(p.triggers[0].branches, ["!*-rc*"]);
}

#[test]
fn workflow_call_only_is_reusable() {
    let p = parse_one(
        "on:\n  workflow_call:\n    inputs:\n      env: {type: string, required: true}\njobs: {a: {runs-on: x, steps: [run: x]}}\n",
    );
    assert!(p.reusable);
    let p = parse_one(
        "on: [workflow_call, workflow_dispatch]\njobs: {a: {runs-on: x, steps: [run: x]}}\n",
    );
    assert!(!p.reusable);
}

#[test]
fn jobs_needs_conditions_and_lines() {
    let p = parse_one(
        r#"on: push
jobs:
  build:
    name: Build it
    runs-on: [self-hosted, gpu]
    container:
      image: python:3.12
    services:
      db: postgres:16
      cache:
        image: redis:7
    steps:
      - uses: actions/checkout@v4
      - name: Test
        run: pytest
        continue-on-error: true
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: report
          path: |
            out/report.xml
            dist/
          retention-days: 5
  lint:
    runs-on:
      group: big
      labels: linux
    container: node:20
    needs: build
    continue-on-error: true
    steps:
      - run: make lint
  deploy:
    needs: [build, lint]
    if: false
    runs-on: ubuntu-latest
    steps:
      - run: ./deploy.sh
"#,
    );
    let build = p.job("build").unwrap();
    assert_eq!(build.name.as_deref(), Some("Build it"));
    assert_eq!(build.display_name(), "Build it");
    assert_eq!(build.needs, Some(vec![]));
    assert_eq!(build.location.line, 3);
    assert_eq!(build.runs_on, ["self-hosted", "gpu"]);
    assert_eq!(build.image.as_deref(), Some("python:3.12"));
    assert_eq!(build.services, ["postgres:16", "redis:7"]);
    assert_eq!(build.steps.len(), 3);
    let lines: Vec<u32> = build.steps.iter().map(|s| s.location.line).collect();
    assert_eq!(lines, [13, 14, 17]);
    let checkout = build.steps[0].uses.as_ref().unwrap();
    assert_eq!(checkout.target, "actions/checkout@v4");
    assert!(!checkout.local && !checkout.resolved);
    assert_eq!(build.steps[1].name.as_deref(), Some("Test"));
    assert_eq!(build.steps[1].run.as_deref(), Some("pytest"));
    assert!(build.steps[1].may_fail);
    let upload = &build.steps[2];
    assert_eq!(upload.condition.as_deref(), Some("always()"));
    assert_eq!(
        upload.with.get("retention-days").map(String::as_str),
        Some("5")
    );
    assert_eq!(build.artifact_paths, ["out/report.xml", "dist/"]);
    assert!(!build.may_fail && !build.disabled);

    let lint = p.job("lint").unwrap();
    assert_eq!(lint.needs, Some(vec!["build".to_string()]));
    assert_eq!(lint.runs_on, ["big", "linux"]);
    assert_eq!(lint.image.as_deref(), Some("node:20"));
    assert!(lint.may_fail);

    let deploy = p.job("deploy").unwrap();
    assert_eq!(deploy.needs, Some(vec!["build".into(), "lint".into()]));
    assert!(deploy.disabled);
    assert_eq!(deploy.conditions, ["false"]);
    assert_eq!(deploy.location.line, 34);
    assert_eq!(deploy.steps[0].location.line, 39);
}

#[test]
fn expression_false_disables_but_other_conditions_do_not() {
    let p = parse_one(
        "on: push\njobs:\n  a:\n    if: ${{ false }}\n    runs-on: x\n    steps: [run: x]\n  b:\n    if: github.ref == 'refs/heads/main'\n    continue-on-error: ${{ matrix.experimental }}\n    runs-on: x\n    steps: [run: x]\n",
    );
    assert!(p.job("a").unwrap().disabled);
    let b = p.job("b").unwrap();
    assert!(!b.disabled && !b.may_fail);
    assert_eq!(b.conditions, ["github.ref == 'refs/heads/main'"]);
}

#[test]
fn environments_static_and_dynamic() {
    let p = parse_one(
        r#"on: push
jobs:
  staging:
    runs-on: x
    environment: staging
    steps: [run: x]
  prod:
    runs-on: x
    environment:
      name: production
      url: https://example.com
    steps: [run: x]
  any:
    runs-on: x
    environment: ${{ inputs.target }}
    steps: [run: x]
"#,
    );
    let staging = p.job("staging").unwrap().environment.as_ref().unwrap();
    assert_eq!(staging.name, "staging");
    assert!(!staging.dynamic);
    assert_eq!(staging.location.line, 5);
    let prod = p.job("prod").unwrap().environment.as_ref().unwrap();
    assert_eq!(prod.name, "production");
    assert_eq!(prod.url.as_deref(), Some("https://example.com"));
    assert!(!prod.dynamic);
    let any = p.job("any").unwrap().environment.as_ref().unwrap();
    assert!(any.dynamic);
    assert_eq!(any.name, "${{ inputs.target }}");
}

#[test]
fn matrices_literal_include_and_expression() {
    let p = parse_one(
        r#"on: push
jobs:
  a:
    strategy:
      matrix:
        python: ["3.10", 3.11, 3.12]
        os: [ubuntu-latest]
        gpu: ${{ fromJSON(inputs.gpus) }}
        include:
          - python: "3.13"
            experimental: true
        exclude:
          - python: 3.11
    runs-on: ${{ matrix.os }}
    steps: [run: x]
  b:
    strategy:
      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
    runs-on: x
    steps: [run: x]
"#,
    );
    let a = p.job("a").unwrap().matrix.as_ref().unwrap();
    assert_eq!(a.dimensions["python"], ["3.10", "3.11", "3.12", "3.13"]);
    assert_eq!(a.dimensions["os"], ["ubuntu-latest"]);
    assert_eq!(a.dimensions["gpu"], ["${{ fromJSON(inputs.gpus) }}"]);
    assert_eq!(a.dimensions["experimental"], ["true"]);
    assert!(!a.dimensions.contains_key("exclude"));
    assert_eq!(p.job("a").unwrap().runs_on, ["${{ matrix.os }}"]);
    let b = p.job("b").unwrap().matrix.as_ref().unwrap();
    assert_eq!(
        b.dimensions["*"],
        ["${{ fromJSON(needs.plan.outputs.matrix) }}"]
    );
}

#[test]
fn reusable_workflow_calls_resolved_and_unresolved() {
    let caller = r#"on: push
jobs:
  local:
    uses: ./.github/workflows/deploy.yml
    with:
      env: prod
  missing:
    uses: ./.github/workflows/gone.yml
  remote:
    uses: org/repo/.github/workflows/x.yml@v1
"#;
    let callee = "on: workflow_call\njobs:\n  ship:\n    runs-on: x\n    steps: [run: x]\n";
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", caller),
        (".github/workflows/deploy.yml", callee),
    ]);
    assert_eq!(pipelines.len(), 2);
    let ci = pipelines.iter().find(|p| p.id.ends_with("ci.yml")).unwrap();
    let local = ci.job("local").unwrap().calls.as_ref().unwrap();
    assert!(local.local && local.resolved);
    assert_eq!(local.path.as_deref(), Some(".github/workflows/deploy.yml"));
    let missing = ci.job("missing").unwrap().calls.as_ref().unwrap();
    assert!(missing.local && !missing.resolved && missing.path.is_none());
    let remote = ci.job("remote").unwrap().calls.as_ref().unwrap();
    assert!(!remote.local && !remote.resolved);
    assert_eq!(remote.target, "org/repo/.github/workflows/x.yml@v1");
    assert_eq!(codes(&diagnostics), ["reference-unresolved"]);
    assert_eq!(
        diagnostics[0].location,
        Some(Location::with_column(".github/workflows/ci.yml", 7, 3))
    );
    assert!(pipelines.iter().any(|p| p.reusable));

    // The job graph links the caller to the callee's jobs.
    let graph = JobGraph::build(&pipelines);
    let edges = graph.edges(&pipelines);
    assert!(edges.iter().any(|e| e.kind == EdgeKind::Calls
        && e.from == ".github/workflows/ci.yml#local"
        && e.to == ".github/workflows/deploy.yml#ship"));
}

#[test]
fn local_actions_composite_expansion_with_via_and_locations() {
    let workflow = r#"on: push
jobs:
  build:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/setup
        with:
          python: "3.12"
      - uses: ./tools/js-action
      - uses: ./missing
      - uses: docker://alpine:3.20
      - run: echo done
"#;
    let setup = r#"name: Setup
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
      with:
        python-version: ${{ inputs.python }}
    - run: pip install -r requirements.txt
      shell: bash
"#;
    let js = "name: JS\nruns:\n  using: node20\n  main: index.js\n";
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", workflow),
        (".github/actions/setup/action.yml", setup),
        ("tools/js-action/action.yaml", js),
    ]);
    let job = pipelines[0].job("build").unwrap();
    let described: Vec<(Option<&str>, &str, u32)> = job
        .steps
        .iter()
        .map(|s| (s.via.as_deref(), s.location.path.as_str(), s.location.line))
        .collect();
    let wf = ".github/workflows/ci.yml";
    let action = ".github/actions/setup/action.yml";
    assert_eq!(
        described,
        [
            (None, wf, 6),
            (None, wf, 7),
            (Some(action), action, 5),
            (Some(action), action, 8),
            (None, wf, 10),
            (None, wf, 11),
            (None, wf, 12),
            (None, wf, 13),
        ]
    );
    let setup_ref = job.steps[1].uses.as_ref().unwrap();
    assert!(setup_ref.local && setup_ref.resolved);
    assert_eq!(setup_ref.path.as_deref(), Some(action));
    assert_eq!(job.steps[1].with["python"], "3.12");
    assert_eq!(
        job.steps[3].run.as_deref(),
        Some("pip install -r requirements.txt")
    );
    let js_ref = job.steps[4].uses.as_ref().unwrap();
    assert!(js_ref.resolved);
    assert_eq!(js_ref.path.as_deref(), Some("tools/js-action/action.yaml"));
    assert!(!job.steps[5].uses.as_ref().unwrap().resolved);
    let docker = job.steps[6].uses.as_ref().unwrap();
    assert_eq!(docker.target, "docker://alpine:3.20");
    assert!(!docker.local);
    assert_eq!(codes(&diagnostics), ["reference-unresolved"]);
    assert_eq!(diagnostics[0].location.as_ref().unwrap().line, 11);
}

#[test]
fn nested_composites_cycle_and_depth_bound() {
    let composite = |uses: &str| {
        format!(
            "runs:\n  using: composite\n  steps:\n    - run: echo step\n      shell: bash\n    - uses: {uses}\n"
        )
    };
    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./a\n";
    // a → b → a: a cycle.
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", workflow),
        ("a/action.yml", &composite("./b")),
        ("b/action.yml", &composite("./a")),
    ]);
    let vias: Vec<Option<&str>> = pipelines[0].jobs[0]
        .steps
        .iter()
        .map(|s| s.via.as_deref())
        .collect();
    assert_eq!(
        vias,
        [
            None,
            Some("a/action.yml"),
            Some("a/action.yml"),
            Some("b/action.yml"),
            Some("b/action.yml"),
        ]
    );
    assert_eq!(codes(&diagnostics), ["reference-cycle"]);
    assert_eq!(
        diagnostics[0]
            .location
            .as_ref()
            .map(|l| (l.path.as_str(), l.line)),
        Some(("b/action.yml", 6))
    );

    // a → b → c → d: d is past the depth bound of 3.
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", workflow),
        ("a/action.yml", &composite("./b")),
        ("b/action.yml", &composite("./c")),
        ("c/action.yml", &composite("./d")),
        ("d/action.yml", &composite("actions/checkout@v4")),
    ]);
    let steps = &pipelines[0].jobs[0].steps;
    assert_eq!(steps.len(), 7);
    assert!(
        steps
            .iter()
            .all(|s| s.via.as_deref() != Some("d/action.yml"))
    );
    assert_eq!(codes(&diagnostics), ["composite-depth-limit"]);
}

#[test]
fn broken_yaml_is_an_error_and_the_scan_goes_on() {
    let (pipelines, diagnostics) = parse(&[
        (
            ".github/workflows/bad.yml",
            "on: push\njobs:\n  a: [unclosed\n",
        ),
        (
            ".github/workflows/good.yml",
            "on: push\njobs: {a: {runs-on: x, steps: [run: x]}}\n",
        ),
    ]);
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].id, ".github/workflows/good.yml");
    assert_eq!(codes(&diagnostics), ["yaml-syntax"]);
    let d = &diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    let at = d.location.as_ref().unwrap();
    assert_eq!(at.path, ".github/workflows/bad.yml");
    assert!(at.line >= 3, "{at}");
}

#[test]
fn typed_parse_failure_falls_back_to_the_tree() {
    // `runs-on` is missing: GitHub refuses the file, but we still read it.
    let text = "on: push\njobs:\n  ok:\n    runs-on: x\n    steps: [run: x]\n  broken:\n    steps:\n      - run: make\n      - just a scalar\n";
    let (pipelines, diagnostics) = parse(&[(".github/workflows/ci.yml", text)]);
    assert_eq!(codes(&diagnostics), ["workflow-invalid"]);
    let d = &diagnostics[0];
    assert_eq!(d.severity, Severity::Warning);
    // The first bad part is named: the scalar step of job `broken`.
    assert!(d.message.contains("job `broken`, step"), "{}", d.message);
    assert_eq!(d.location.as_ref().unwrap().line, 9);
    let p = &pipelines[0];
    assert_eq!(p.jobs.len(), 2);
    let broken = p.job("broken").unwrap();
    assert_eq!(broken.steps.len(), 1);
    assert_eq!(broken.steps[0].run.as_deref(), Some("make"));

    // With valid steps, the job itself is named, at its key.
    let text = "on: push\njobs:\n  ok:\n    runs-on: x\n    steps: [run: x]\n  broken:\n    steps:\n      - run: make\n";
    let (pipelines, diagnostics) = parse(&[(".github/workflows/ci.yml", text)]);
    assert_eq!(codes(&diagnostics), ["workflow-invalid"]);
    assert!(
        diagnostics[0].message.contains("runs-on"),
        "{}",
        diagnostics[0].message
    );
    assert_eq!(diagnostics[0].location.as_ref().unwrap().line, 6);
    assert_eq!(pipelines[0].jobs.len(), 2);
}

#[test]
fn hostile_shapes_never_panic() {
    let texts = [
        "",
        "just a string",
        "- a\n- b\n",
        "on:\njobs:\n",
        "on: 5\njobs: [a, b]\n",
        "on: {push: 3, schedule: cron}\njobs:\n  a: null\n  b: 7\n  c:\n    steps: run\n    needs: {x: 1}\n    environment: {url: x}\n    strategy: {matrix: [1, 2]}\n    runs-on: {}\n    services: [a]\n    container: {}\n",
        "on: push\njobs:\n  a:\n    uses: [1]\n    steps:\n      - uses: {a: b}\n        with: [1, 2]\n      - uses: ./../../etc\n",
        "x: &a [*a]\n",
        "on: push\nbase: &b\n  runs-on: x\n  steps: [run: x]\njobs:\n  a:\n    <<: *b\n    name: A\n",
    ];
    for text in texts {
        let (pipelines, _) = parse(&[(".github/workflows/x.yml", text)]);
        assert!(pipelines.len() <= 1);
    }
    // Anchors and merge keys: GitHub accepts them, and so do we.
    let p = parse_one(
        "on: push\nbase: &b\n  runs-on: x\n  steps: [run: x]\njobs:\n  a:\n    <<: *b\n    name: A\n",
    );
    assert_eq!(p.job("a").unwrap().runs_on, ["x"]);
}

#[test]
fn ci_then_cd_by_workflow_run_gives_a_success_only_upstream_edge() {
    let ci = r#"name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest
"#;
    let cd = r#"name: CD
on:
  workflow_run:
    workflows: [CI]
    types: [completed]
    branches: [main]
jobs:
  deploy:
    if: ${{ github.event.workflow_run.conclusion == 'success' }}
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: ./deploy.sh
"#;
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", ci),
        (".github/workflows/cd.yml", cd),
    ]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let graph = JobGraph::build(&pipelines);
    let edges = graph.edges(&pipelines);
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].from, ".github/workflows/ci.yml#test");
    assert_eq!(edges[0].to, ".github/workflows/cd.yml#deploy");
    assert_eq!(edges[0].kind, EdgeKind::Upstream { success_only: true });
}

#[test]
fn unread_workflow_is_noted() {
    let set = FileSet::new(vec![RepoFile {
        path: ".github/workflows/huge.yml".into(),
        size: 1 << 30,
        content: None,
        skipped: Some(crate::evidence::SkipReason::TooLarge),
    }]);
    let mut diagnostics = Vec::new();
    assert!(parse_workflows(&set, &mut diagnostics).is_empty());
    assert_eq!(codes(&diagnostics), ["workflow-unread"]);
}

#[test]
fn composite_expansion_is_bounded_in_breadth() {
    // 300 steps using a 300-step composite: 90,300 steps unbounded.
    let many = |uses: &str| {
        let mut text = String::from("runs:\n  using: composite\n  steps:\n");
        for _ in 0..300 {
            text.push_str(&format!("    - uses: {uses}\n"));
        }
        text
    };
    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./a\n";
    let (pipelines, diagnostics) = parse(&[
        (".github/workflows/ci.yml", workflow),
        ("a/action.yml", &many("./b")),
        ("b/action.yml", &many("actions/checkout@v4")),
    ]);
    let steps = pipelines[0].jobs[0].steps.len();
    assert!(steps <= actions::MAX_EXPANDED_STEPS + 1, "{steps}");
    assert!(steps > 10_000, "{steps}");
    assert_eq!(codes(&diagnostics), ["composite-expansion-limit"]);
}

#[test]
fn flow_collection_closed_at_key_indentation_is_accepted() {
    // As in huggingface/accelerate: strict YAML refuses the `]` line, GitHub runs it.
    let text = "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        devices: [\n          \"0\",\n          \"0,1\"\n        ]\n        python: [\n        \"3.12\"]\n    steps:\n      - run: echo\n";
    let (pipelines, diagnostics) = parse(&[(".github/workflows/ci.yml", text)]);
    assert_eq!(codes(&diagnostics), ["yaml-flow-indentation"]);
    assert_eq!(diagnostics[0].severity, Severity::Info);
    let job = &pipelines[0].jobs[0];
    let matrix = job.matrix.as_ref().unwrap();
    assert_eq!(matrix.dimensions["devices"], ["0", "0,1"]);
    assert_eq!(matrix.dimensions["python"], ["3.12"]);
    assert_eq!(job.steps[0].location.line, 14);

    // Bad indentation outside a flow collection is still an error.
    let (pipelines, diagnostics) = parse(&[(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n   steps: []\n",
    )]);
    assert!(pipelines.is_empty());
    assert_eq!(codes(&diagnostics), ["yaml-syntax"]);
}
