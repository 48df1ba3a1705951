//! End-to-end tests of the Azure Pipelines dialect: YAML text in, jobs, lines and
//! graph edges out.

use std::sync::Arc;

use super::*;
use crate::evidence::RepoFile;
use crate::pipeline::{EdgeKind, JobGraph};

fn fileset(files: &[(&str, &str)]) -> FileSet {
    FileSet::new(
        files
            .iter()
            .map(|(path, text)| RepoFile {
                path: path.to_string(),
                size: text.len() as u64,
                content: Some(Arc::from(*text)),
                skipped: None,
            })
            .collect(),
    )
}

fn parse_repo(files: &[(&str, &str)]) -> (Vec<Pipeline>, Vec<Diagnostic>) {
    let set = fileset(files);
    let mut diags = Vec::new();
    let pipelines = parse_pipelines(&set, &mut diags);
    (pipelines, diags)
}

fn parse_one(text: &str) -> Pipeline {
    let (mut ps, diags) = parse_repo(&[("azure-pipelines.yml", text)]);
    assert_eq!(ps.len(), 1, "pipelines: {ps:?} diags: {diags:?}");
    ps.remove(0)
}

fn job<'a>(p: &'a Pipeline, id: &str) -> &'a Job {
    p.job(id).unwrap_or_else(|| {
        panic!(
            "no job {id} in {:?}",
            p.jobs.iter().map(|j| &j.id).collect::<Vec<_>>()
        )
    })
}

fn needs(p: &Pipeline, id: &str) -> Vec<String> {
    job(p, id)
        .needs
        .clone()
        .expect("azure jobs always declare needs")
}

/// Graph edges as `from -> to` job ids (pipeline ids dropped).
fn edges(ps: &[Pipeline]) -> Vec<(String, String, EdgeKind)> {
    let g = JobGraph::build(ps);
    let short = |s: &str| s.rsplit('#').next().unwrap_or(s).to_string();
    g.edges(ps)
        .into_iter()
        .map(|e| (short(&e.from), short(&e.to), e.kind))
        .collect()
}

fn has_edge(ps: &[Pipeline], from: &str, to: &str) -> bool {
    edges(ps).iter().any(|(f, t, _)| f == from && t == to)
}

const STAGES: &str = "\
trigger:
  branches:
    include:
    - main
stages:
- stage: Build
  jobs:
  - job: Compile
    steps:
    - script: make build
  - job: Lint
    steps:
    - bash: flake8 .
- stage: Test
  jobs:
  - job: Unit
    steps:
    - script: pytest
- stage: Docs
  dependsOn: []
  jobs:
  - job: Site
    steps:
    - script: mkdocs build
- stage: Deploy
  dependsOn:
  - Test
  - Docs
  condition: and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))
  jobs:
  - job: Ship
    steps:
    - script: ./deploy.sh
";

#[test]
fn stages_are_sequential_unless_depends_on_says_otherwise() {
    let p = parse_one(STAGES);
    assert_eq!(p.system, CiSystem::AzurePipelines);
    assert_eq!(p.stages, vec!["Build", "Test", "Docs", "Deploy"]);
    assert!(needs(&p, "Compile").is_empty());
    // Test follows Build: waits for both of its jobs.
    assert_eq!(needs(&p, "Unit"), vec!["Compile", "Lint"]);
    // `dependsOn: []` starts at once.
    assert!(needs(&p, "Site").is_empty());
    assert_eq!(needs(&p, "Ship"), vec!["Unit", "Site"]);
    assert_eq!(job(&p, "Unit").stage.as_deref(), Some("Test"));
    assert_eq!(
        job(&p, "Ship").conditions,
        vec!["and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))"]
    );
    // Lines: job key lines and step lines.
    assert_eq!(job(&p, "Compile").location.line, 8);
    assert_eq!(job(&p, "Compile").steps[0].location.line, 10);
    assert_eq!(job(&p, "Lint").steps[0].run.as_deref(), Some("flake8 ."));
    assert_eq!(job(&p, "Ship").location.line, 31);

    let ps = vec![p];
    assert!(has_edge(&ps, "Compile", "Unit"));
    assert!(has_edge(&ps, "Lint", "Unit"));
    assert!(has_edge(&ps, "Unit", "Ship"));
    assert!(has_edge(&ps, "Site", "Ship"));
    assert!(
        !has_edge(&ps, "Unit", "Site"),
        "dependsOn: [] has no predecessor"
    );
    assert!(edges(&ps).iter().all(|(_, _, k)| *k == EdgeKind::Needs));
}

#[test]
fn job_depends_on_within_a_stage_and_continue_on_error() {
    let p = parse_one(
        "\
jobs:
- job: A
  steps:
  - script: echo a
    continueOnError: true
- job: B
  dependsOn: A
  continueOnError: true
  condition: failed()
  steps:
  - script: echo b
- job: C
  dependsOn: [A, B]
  steps:
  - script: echo c
",
    );
    assert!(p.stages.is_empty());
    assert!(needs(&p, "A").is_empty());
    assert_eq!(needs(&p, "B"), vec!["A"]);
    assert_eq!(needs(&p, "C"), vec!["A", "B"]);
    assert!(job(&p, "A").steps[0].may_fail);
    assert!(job(&p, "B").may_fail);
    assert_eq!(job(&p, "B").conditions, vec!["failed()"]);
    // No `trigger:` key: Azure builds every push.
    assert_eq!(p.triggers.len(), 1);
    assert_eq!(p.triggers[0].kind, TriggerKind::Push);
    assert!(p.triggers[0].branches.is_empty());
}

#[test]
fn root_steps_make_one_implicit_job() {
    let p = parse_one(
        "\
pool:
  vmImage: ubuntu-latest
steps:
- checkout: self
- task: UsePythonVersion@0
  inputs:
    versionSpec: '3.10'
- script: pip install -r requirements.txt
- task: PublishTestResults@2
  inputs:
    testResultsFiles: '**/junit.xml'
- task: PublishCodeCoverageResults@1
- publish: dist
  artifact: wheel
- task: Cache@2
",
    );
    let j = job(&p, "Job");
    assert_eq!(j.runs_on, vec!["ubuntu-latest"]);
    assert_eq!(j.steps.len(), 7);
    assert_eq!(j.steps[0].uses.as_ref().unwrap().target, "checkout");
    let task = &j.steps[1];
    assert_eq!(task.uses.as_ref().unwrap().target, "UsePythonVersion@0");
    assert_eq!(
        task.with.get("versionSpec").map(String::as_str),
        Some("3.10")
    );
    assert_eq!(task.location.line, 5);
    assert_eq!(j.artifact_reports, vec!["junit", "coverage_report"]);
    assert_eq!(j.artifact_paths, vec!["dist"]);
    assert!(j.cache);
}

#[test]
fn deployment_jobs_environments_and_strategies() {
    let p = parse_one(
        "\
trigger: none
stages:
- stage: Staging
  jobs:
  - deployment: DeployStaging
    environment: staging
    strategy:
      runOnce:
        deploy:
          steps:
          - script: helm upgrade app chart
- stage: Prod
  jobs:
  - deployment: DeployProd
    environment:
      name: production
      resourceName: web
    strategy:
      canary:
        increments: [10, 20]
        deploy:
          steps:
          - script: kubectl apply -f k8s
        on:
          failure:
            steps:
            - script: helm rollback app
          success:
            steps:
            - script: echo done
- stage: Dyn
  jobs:
  - deployment: DeployDyn
    environment: $(envName)
    strategy:
      runOnce:
        deploy:
          steps:
          - script: echo
",
    );
    assert!(p.triggers.is_empty(), "trigger: none");
    let staging = job(&p, "DeployStaging");
    let env = staging.environment.as_ref().unwrap();
    assert_eq!(
        (env.name.as_str(), env.dynamic, env.location.line),
        ("staging", false, 6)
    );
    assert_eq!(
        staging.steps[0].run.as_deref(),
        Some("helm upgrade app chart")
    );
    assert_eq!(staging.steps[0].location.line, 11);

    let prod = job(&p, "DeployProd");
    let env = prod.environment.as_ref().unwrap();
    assert_eq!(env.name, "production");
    assert_eq!(env.tier.as_deref(), Some("web"));
    assert_eq!(needs(&p, "DeployProd"), vec!["DeployStaging"]);
    let targets: Vec<&str> = prod
        .steps
        .iter()
        .map(|s| s.uses.as_ref().map_or("run", |u| u.target.as_str()))
        .collect();
    assert_eq!(
        targets,
        vec![
            "azure-pipelines:strategy/canary",
            "run",
            "azure-pipelines:on/failure",
            "run",
            "run"
        ]
    );
    let canary = &prod.steps[0];
    assert_eq!(canary.location.line, 19);
    assert_eq!(
        canary.with.get("increments").map(String::as_str),
        Some("10,20")
    );
    let on_failure = &prod.steps[2];
    assert_eq!(on_failure.location.line, 25);
    let rollback = &prod.steps[3];
    assert_eq!(rollback.run.as_deref(), Some("helm rollback app"));
    assert_eq!(rollback.condition.as_deref(), Some("failed()"));
    assert_eq!(prod.steps[4].condition.as_deref(), Some("succeeded()"));

    assert!(job(&p, "DeployDyn").environment.as_ref().unwrap().dynamic);
}

#[test]
fn manual_validation_makes_an_approval_gate() {
    let p = parse_one(
        "\
stages:
- stage: Approve
  jobs:
  - job: WaitForReview
    pool: server
    steps:
    - task: ManualValidation@0
      inputs:
        notifyUsers: ops@example.com
- stage: Release
  jobs:
  - job: Release
    steps:
    - script: ./release.sh
",
    );
    let gate = job(&p, "WaitForReview");
    assert!(gate.manual);
    assert_eq!(gate.runs_on, vec!["server"]);
    assert!(!job(&p, "Release").manual);
    assert_eq!(needs(&p, "Release"), vec!["WaitForReview"]);
}

#[test]
fn templates_with_parameters_at_every_level() {
    let main = "\
trigger:
- main
stages:
- template: templates/stage.yml
  parameters:
    env: prod
- stage: Local
  jobs:
  - template: templates/job.yml
  - job: Uses
    steps:
    - template: ../steps/test.yml
      parameters:
        suite: unit
";
    let stage = "\
parameters:
- name: env
  default: dev
stages:
- stage: Deploy_${{ parameters.env }}
  jobs:
  - job: Deploy
    steps:
    - script: deploy --env ${{ parameters.env }}
";
    let job_t = "\
jobs:
- job: FromTemplate
  steps:
  - script: echo templated
";
    let steps = "\
parameters:
  suite: all
steps:
- script: pytest tests/${{ parameters.suite }} -k ${{ parameters.unknown }}
";
    let (ps, diags) = parse_repo(&[
        ("ci/azure-pipelines.yml", main),
        ("ci/templates/stage.yml", stage),
        ("ci/templates/job.yml", job_t),
        ("steps/test.yml", steps),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        ps.len(),
        1,
        "templates are not pipelines of their own: {ps:?}"
    );
    let p = &ps[0];
    assert_eq!(p.stages, vec!["Deploy_prod", "Local"]);
    let deploy = job(p, "Deploy");
    assert_eq!(deploy.steps[0].run.as_deref(), Some("deploy --env prod"));
    assert_eq!(deploy.steps[0].location.path, "ci/templates/stage.yml");
    assert_eq!(deploy.steps[0].location.line, 9);
    assert!(job(p, "FromTemplate").steps[0].via.is_none());
    assert_eq!(needs(p, "FromTemplate"), vec!["Deploy"]);
    let test = &job(p, "Uses").steps[0];
    assert_eq!(
        test.run.as_deref(),
        Some("pytest tests/unit -k ${{ parameters.unknown }}")
    );
    assert_eq!(test.via.as_deref(), Some("steps/test.yml"));
    assert_eq!(test.location.path, "steps/test.yml");
    assert_eq!(test.location.line, 4);
    assert_eq!(p.includes.len(), 3);
    assert!(p.includes.iter().all(|i| i.target.resolved));
}

#[test]
fn remote_missing_and_cyclic_templates_are_recorded_not_followed() {
    let main = "\
trigger: none
resources:
  repositories:
  - repository: tmpl
    type: git
    name: org/templates
steps:
- template: build.yml@tmpl
- template: missing.yml
- template: loop.yml
";
    let looping = "\
steps:
- script: echo once
- template: loop.yml
";
    let (ps, diags) = parse_repo(&[("azure-pipelines.yml", main), ("loop.yml", looping)]);
    assert_eq!(ps.len(), 1);
    let p = &ps[0];
    let runs: Vec<_> = p.jobs[0]
        .steps
        .iter()
        .filter_map(|s| s.run.clone())
        .collect();
    assert_eq!(runs, vec!["echo once"]);
    let reasons: Vec<(&str, Option<&str>)> = p
        .includes
        .iter()
        .map(|i| (i.target.target.as_str(), i.unresolved_reason.as_deref()))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|(t, r)| t.starts_with("tmpl:") && r.is_some())
    );
    assert!(
        reasons
            .iter()
            .any(|(t, r)| *t == "build.yml@tmpl" && r.is_some_and(|r| r.contains("@repo")))
    );
    assert!(
        reasons
            .iter()
            .any(|(t, r)| *t == "missing.yml" && r.is_some_and(|r| r.contains("not found")))
    );
    assert!(diags.iter().any(|d| d.code == "template-unexpanded"));
}

#[test]
fn unreferenced_parameterised_template_is_reusable() {
    let (ps, _) = parse_repo(&[(
        ".pipelines/deploy-template.yml",
        "parameters:\n- name: env\nsteps:\n- script: deploy ${{ parameters.env }}\n",
    )]);
    assert_eq!(ps.len(), 1);
    assert!(ps[0].reusable);
    assert!(ps[0].triggers.is_empty());
}

#[test]
fn triggers_pr_schedules_and_tags() {
    let p = parse_one(
        "\
trigger:
  branches:
    include:
    - main
    - releases/*
    exclude:
    - releases/old*
  paths:
    include:
    - src
  tags:
    include:
    - v*
pr:
  branches:
    include:
    - main
schedules:
- cron: '0 3 * * *'
  displayName: nightly
  branches:
    include:
    - main
  always: true
steps:
- script: make
",
    );
    let kinds: Vec<&TriggerKind> = p.triggers.iter().map(|t| &t.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &TriggerKind::Push,
            &TriggerKind::Tag,
            &TriggerKind::PullRequest,
            &TriggerKind::Schedule
        ]
    );
    assert_eq!(
        p.triggers[0].branches,
        vec!["main", "releases/*", "!releases/old*"]
    );
    assert_eq!(p.triggers[0].paths, vec!["src"]);
    assert_eq!(p.triggers[0].location.line, 1);
    assert_eq!(p.triggers[1].branches, vec!["v*"]);
    assert_eq!(p.triggers[2].branches, vec!["main"]);
    assert_eq!(p.triggers[2].location.line, 14);
    assert_eq!(p.triggers[3].detail, vec!["0 3 * * *"]);
    assert_eq!(p.triggers[3].location.line, 19);

    let list = parse_one("trigger: [main, dev]\npr: none\nsteps:\n- script: make\n");
    assert_eq!(list.triggers.len(), 1);
    assert_eq!(list.triggers[0].branches, vec!["main", "dev"]);
}

#[test]
fn upstream_pipeline_resource_links_pipelines_by_name() {
    let train = "\
name: Model-Train
trigger:
- main
jobs:
- job: Train
  steps:
  - script: python train.py
- job: Evaluate
  dependsOn: Train
  steps:
  - script: python evaluate.py
";
    let deploy = "\
name: $(Date:yyyyMMdd)$(Rev:r)
trigger: none
resources:
  pipelines:
  - pipeline: model
    source: Model-Train
    trigger:
      branches:
        include:
        - main
  - pipeline: artifacts-only
    source: Other
jobs:
- job: Deploy
  steps:
  - script: ./deploy.sh
";
    let (ps, _) = parse_repo(&[
        (".pipelines/train.yml", train),
        (".pipelines/deploy.yml", deploy),
    ]);
    assert_eq!(ps.len(), 2);
    let dep = ps.iter().find(|p| p.file.ends_with("deploy.yml")).unwrap();
    // Run-number formats are not names: the file stem is.
    assert_eq!(dep.name.as_deref(), Some("deploy"));
    assert_eq!(
        dep.triggers.len(),
        1,
        "a resource without trigger does not start it"
    );
    assert_eq!(dep.triggers[0].kind, TriggerKind::Upstream);
    assert_eq!(dep.triggers[0].detail, vec!["Model-Train"]);
    assert_eq!(dep.triggers[0].branches, vec!["main"]);
    assert_eq!(dep.triggers[0].location.line, 5);
    let e = edges(&ps);
    assert!(
        e.iter().any(|(f, t, k)| f == "Evaluate"
            && t == "Deploy"
            && matches!(k, EdgeKind::Upstream { .. })),
        "{e:?}"
    );
    assert!(!e.iter().any(|(f, t, _)| f == "Train" && t == "Deploy"));
}

#[test]
fn tasks_get_run_text_and_inputs() {
    let p = parse_one(
        "\
steps:
- task: AzureCLI@2
  displayName: Deploy model
  inputs:
    azureSubscription: sub
    scriptType: bash
    scriptLocation: inlineScript
    inlineScript: |
      az ml online-deployment create -f deploy.yml
- task: Docker@2
  inputs:
    command: buildAndPush
    repository: acr/model
- task: HelmDeploy@0
  inputs:
    command: delete
    arguments: old-release
- displayName: key order does not matter
  bash: echo hi
",
    );
    let steps = &p.jobs[0].steps;
    assert_eq!(steps[0].name.as_deref(), Some("Deploy model"));
    assert_eq!(
        steps[0].run.as_deref(),
        Some("az ml online-deployment create -f deploy.yml")
    );
    assert_eq!(
        steps[0].with.get("azureSubscription").map(String::as_str),
        Some("sub")
    );
    assert!(
        steps[1]
            .run
            .as_deref()
            .unwrap()
            .contains("docker push acr/model")
    );
    assert_eq!(steps[2].run.as_deref(), Some("helm delete old-release"));
    assert_eq!(steps[3].run.as_deref(), Some("echo hi"));
    assert_eq!(steps[3].location.line, 18);
}

#[test]
fn duplicate_job_names_across_stages_get_unique_ids() {
    let p = parse_one(
        "\
stages:
- stage: Dev
  jobs:
  - deployment: Deploy
    environment: dev
- stage: Prod
  jobs:
  - deployment: Deploy
    environment: prod
",
    );
    let ids: Vec<&str> = p.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["Deploy", "Prod.Deploy"]);
    assert_eq!(needs(&p, "Prod.Deploy"), vec!["Deploy"]);
    assert_eq!(job(&p, "Prod.Deploy").name.as_deref(), Some("Deploy"));
}

#[test]
fn other_dialects_are_not_claimed() {
    let (ps, diags) = parse_repo(&[
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n    - run: make\n",
        ),
        (
            ".gitlab-ci.yml",
            "stages: [build]\nbuild:\n  script: make\n",
        ),
        (
            "k8s/pod.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    image: y\n",
        ),
        (
            "cloudbuild.yaml",
            "steps:\n- name: gcr.io/cloud-builders/docker\n  args: [build, .]\n  script: echo\n",
        ),
        ("conf/stages.yml", "stages:\n- build\n- test\n"),
        ("mkdocs.yml", "nav:\n- index.md\n"),
    ]);
    assert!(ps.is_empty(), "{ps:?}");
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn shape_alone_finds_pipelines_outside_conventional_paths() {
    let (ps, _) = parse_repo(&[(
        "mlops/devops-pipelines/train.yml",
        "trigger: none\nstages:\n- stage: Train\n  jobs:\n  - job: T\n    steps:\n    - task: AzureCLI@2\n      inputs:\n        inlineScript: az ml job create -f job.yml\n",
    )]);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].jobs[0].steps[0].location.line, 7);
}

#[test]
fn broken_and_hostile_yaml_never_panics() {
    let hostile = [
        "",
        "---\n",
        "[1, 2",
        "stages: 3",
        "stages:\n- stage:\n  jobs: 5\n",
        "stages:\n- stage: [a]\n  dependsOn: {x: 1}\n  jobs:\n  - job: {}\n    steps: hello\n",
        "jobs:\n- job: A\n  dependsOn: [A, A, missing]\n  strategy:\n    matrix: $[ variables.m ]\n  steps:\n  - task:\n  - script: [1]\n",
        "jobs:\n- deployment: D\n  environment: {}\n  strategy:\n    canary: 7\n    runOnce:\n      on: [1]\n",
        "steps:\n- template: ../../../../etc/passwd\n- template: ''\n- ${{ if true }}:\n  - script: nested\n",
        "trigger: {branches: 3, paths: [1]}\npr: {branches: {include: {a: b}}}\nschedules: [1, {cron: []}]\nresources: {pipelines: [{trigger: true}], repositories: 4}\nsteps: []\n",
        "a: &a [*a]\n",
    ];
    for text in hostile {
        let (ps, _) = parse_repo(&[("azure-pipelines.yml", text)]);
        let _ = JobGraph::build(&ps);
    }
    // Templates that include each other in a ring stop at the cycle.
    let (ps, diags) = parse_repo(&[
        (
            "azure-pipelines.yml",
            "trigger: none\nsteps:\n- template: a.yml\n",
        ),
        ("a.yml", "steps:\n- script: a\n- template: b.yml\n"),
        ("b.yml", "steps:\n- script: b\n- template: a.yml\n"),
    ]);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].jobs[0].steps.len(), 2);
    assert!(diags.iter().any(|d| d.code == "template-unexpanded"));
    // Broken YAML at a conventional path is a diagnostic naming the file.
    let (_, diags) = parse_repo(&[("azure-pipelines.yml", "steps:\n  - script: [\n")]);
    assert!(diags.iter().any(|d| {
        d.code == "yaml-syntax"
            && d.location
                .as_ref()
                .is_some_and(|l| l.path == "azure-pipelines.yml")
    }));
}

#[test]
fn extends_template_supplies_the_body() {
    let (ps, diags) = parse_repo(&[
        (
            "azure-pipelines.yml",
            "trigger:\n- main\nextends:\n  template: pipeline.yml\n  parameters:\n    target: prod\n",
        ),
        (
            "pipeline.yml",
            "parameters:\n- name: target\n  default: dev\nstages:\n- stage: Deploy\n  jobs:\n  - deployment: Ship\n    environment: ${{ parameters.target }}\n    strategy:\n      runOnce:\n        deploy:\n          steps:\n          - script: ./ship.sh\n",
        ),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ps.len(), 1, "{ps:?}");
    let ship = job(&ps[0], "Ship");
    let env = ship.environment.as_ref().unwrap();
    assert_eq!((env.name.as_str(), env.dynamic), ("prod", false));
    assert_eq!(env.location.path, "pipeline.yml");
    assert_eq!(env.location.line, 8);
    assert_eq!(ship.steps[0].location.line, 13);
}
