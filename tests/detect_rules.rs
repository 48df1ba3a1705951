//! The rule engine on small in-memory repositories: positives, and the negatives of
//! "Where the line falls" (shared/spec/practices.md).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use mlops_maturity::detect::{PracticeFinding, RuleOutput, RuleSet, engine, qualifier};
use mlops_maturity::evidence::{FileSet, Location, RepoFile, Snapshot, Source};
use mlops_maturity::pipeline::{
    CiSystem, EnvironmentRef, ExternalRef, Job, JobGraph, Pipeline, Step, Trigger, TriggerKind,
};

fn file(path: &str, text: &str) -> RepoFile {
    RepoFile {
        path: path.into(),
        size: text.len() as u64,
        content: Some(Arc::from(text)),
        skipped: None,
    }
}

fn snapshot(files: Vec<RepoFile>, pipelines: Vec<Pipeline>) -> Snapshot {
    let mut snap = Snapshot::new(
        Source {
            kind: "local".into(),
            target: "test".into(),
            revision: None,
        },
        FileSet::new(files),
    );
    snap.pipelines = pipelines;
    snap
}

fn run_step(path: &str, line: u32, run: &str) -> Step {
    Step {
        name: None,
        run: Some(run.into()),
        uses: None,
        with: BTreeMap::new(),
        condition: None,
        may_fail: false,
        via: None,
        location: Location::new(path, line),
    }
}

fn uses_step(path: &str, line: u32, action: &str, with: &[(&str, &str)]) -> Step {
    Step {
        name: None,
        run: None,
        uses: Some(ExternalRef {
            target: action.into(),
            local: false,
            resolved: false,
            path: None,
        }),
        with: with
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        condition: None,
        may_fail: false,
        via: None,
        location: Location::new(path, line),
    }
}

fn job(path: &str, id: &str, line: u32, steps: Vec<Step>) -> Job {
    Job {
        steps,
        ..Job::new(id, Location::new(path, line))
    }
}

fn trigger(path: &str, kind: TriggerKind) -> Trigger {
    Trigger {
        kind,
        branches: Vec::new(),
        paths: Vec::new(),
        detail: Vec::new(),
        location: Location::new(path, 2),
    }
}

fn workflow(path: &str, triggers: Vec<TriggerKind>, jobs: Vec<Job>) -> Pipeline {
    Pipeline {
        id: path.into(),
        system: CiSystem::GithubActions,
        name: None,
        file: path.into(),
        triggers: triggers.into_iter().map(|k| trigger(path, k)).collect(),
        stages: Vec::new(),
        jobs,
        includes: Vec::new(),
        reusable: false,
        location: Location::new(path, 1),
    }
}

fn detect(snap: &Snapshot) -> RuleOutput {
    let rules = RuleSet::builtin().expect("builtin rules");
    let graph = JobGraph::build(&snap.pipelines);
    engine::run(snap, &graph, &rules)
}

fn finding<'a>(out: &'a RuleOutput, practice: &str) -> Option<&'a PracticeFinding> {
    out.findings.iter().find(|f| f.practice == practice)
}

fn has(out: &RuleOutput, practice: &str) -> bool {
    finding(out, practice).is_some()
}

const WF: &str = ".github/workflows/ci.yml";

#[test]
fn pytest_step_is_ci_tests_with_trigger_qualifiers_and_job_record() {
    let snap = snapshot(
        vec![file(WF, "on: [push]\n")],
        vec![workflow(
            WF,
            vec![TriggerKind::Push, TriggerKind::PullRequest],
            vec![job(
                WF,
                "test",
                5,
                vec![
                    run_step(WF, 8, "pip install -r requirements.txt pytest"),
                    run_step(WF, 9, "python -m pytest -q tests/"),
                ],
            )],
        )],
    );
    let out = detect(&snap);
    let tests = finding(&out, "ci.tests").expect("ci.tests");
    let ev = &tests.evidence[0];
    assert!(ev.has(qualifier::IN_PIPELINE));
    assert!(ev.has(qualifier::ON_CHANGE));
    assert!(ev.has(qualifier::AUTOMATIC));
    assert!(!ev.has(qualifier::SCHEDULED));
    match &ev.origin {
        mlops_maturity::detect::Origin::File { location } => assert_eq!(location.line, 9),
        other => panic!("unexpected origin {other:?}"),
    }
    let job_practices = out.jobs.by_job.get(&(0, 0)).expect("job record");
    assert!(job_practices.contains_key("ci.tests"));
    assert!(has(&out, "ci.pipeline"));
}

#[test]
fn installing_or_echoing_a_test_tool_is_not_running_tests() {
    let snap = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(
                WF,
                "build",
                5,
                vec![
                    run_step(WF, 8, "pip install pytest ruff"),
                    run_step(WF, 9, "echo \"run pytest later\""),
                    run_step(WF, 10, "# pytest tests/"),
                    run_step(WF, 11, "tox -e lint"),
                ],
            )],
        )],
    );
    let out = detect(&snap);
    assert!(!has(&out, "ci.tests"), "{:?}", finding(&out, "ci.tests"));
    let checks = finding(&out, "ci.static_checks").expect("tox -e lint");
    assert_eq!(checks.evidence.len(), 1);
}

#[test]
fn failing_allowed_and_disabled_jobs_do_not_count_for_tests() {
    let mut allowed = job(WF, "test", 5, vec![run_step(WF, 8, "pytest")]);
    allowed.may_fail = true;
    let mut disabled = job(WF, "lint", 12, vec![run_step(WF, 14, "ruff check .")]);
    disabled.disabled = true;
    let or_true = job(
        WF,
        "more",
        20,
        vec![run_step(WF, 21, "pytest tests || true")],
    );
    let snap = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![allowed, disabled, or_true],
        )],
    );
    let out = detect(&snap);
    assert!(!has(&out, "ci.tests"));
    assert!(!has(&out, "ci.static_checks"));
}

#[test]
fn registry_call_in_code_counts_but_not_comments_prose_docstrings_or_unrun_notebooks() {
    let notebook =
        r#"{"cells": [{"cell_type": "code", "source": ["mlflow.register_model(uri, \"m\")\n"]}]}"#;
    let negatives = snapshot(
        vec![
            file(
                "src/register.py",
                "import mlflow\n# mlflow.register_model(uri, 'm')\ndef f():\n    \"\"\"\n    mlflow.register_model(uri, 'm')\n    \"\"\"\n",
            ),
            file(
                "README.md",
                "Call mlflow.register_model(uri, 'm') to register.\n",
            ),
            file("notebooks/explore.ipynb", notebook),
            file("fix.patch", "+mlflow.register_model(uri, 'm')\n"),
        ],
        vec![],
    );
    let out = detect(&negatives);
    assert!(
        !has(&out, "model.registry"),
        "{:?}",
        finding(&out, "model.registry")
    );

    let positive = snapshot(
        vec![file(
            "src/register.py",
            "import mlflow\n\nmlflow.register_model(uri, 'churn')\n",
        )],
        vec![],
    );
    let out = detect(&positive);
    let f = finding(&out, "model.registry").expect("model.registry");
    assert_eq!(f.evidence.len(), 1);
    let ev = &f.evidence[0];
    assert!(ev.has(qualifier::ML));
    assert!(!ev.has(qualifier::IN_PIPELINE));
    assert_eq!(
        ev.origin,
        mlops_maturity::detect::Origin::File {
            location: Location::new("src/register.py", 3)
        }
    );
}

#[test]
fn base_image_must_be_tagged() {
    for (text, expected) in [
        ("FROM python\nRUN pip install torch\n", false),
        ("FROM python:latest\n", false),
        ("# FROM python:3.11\nFROM python\n", false),
        ("FROM ${BASE_IMAGE}\n", false),
        ("FROM python:3.11-slim AS build\n", true),
        (
            "FROM nvidia/cuda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef\n",
            true,
        ),
    ] {
        let snap = snapshot(vec![file("docker/Dockerfile", text)], vec![]);
        let out = detect(&snap);
        assert_eq!(
            has(&out, "build.reproducible_env"),
            expected,
            "Dockerfile {text:?}"
        );
    }
}

#[test]
fn pinned_framework_requirements_count_but_unpinned_do_not() {
    let unpinned = snapshot(
        vec![file(
            "requirements.txt",
            "torch>=2.0\npandas\nblack==24.1.0\n",
        )],
        vec![],
    );
    assert!(!has(&detect(&unpinned), "build.reproducible_env"));
    let pinned = snapshot(
        vec![file("requirements.txt", "torch==2.1.0\npandas~=2.0\n")],
        vec![],
    );
    assert!(has(&detect(&pinned), "build.reproducible_env"));
    let lock = snapshot(vec![file("poetry.lock", "")], vec![]);
    assert!(has(&detect(&lock), "build.reproducible_env"));
}

#[test]
fn stray_workflow_copies_are_not_pipelines() {
    let stray = snapshot(
        vec![
            file(".github/.workflows/ci.yml", "on: push\n"),
            file("docs/.github/workflows/ci.yml", "on: push\n"),
            file("templates/docs/ci.yml", "on: push\n"),
        ],
        vec![],
    );
    assert!(!has(&detect(&stray), "ci.pipeline"));
    let real = snapshot(vec![file(".github/workflows/ci.yml", "on: push\n")], vec![]);
    assert!(has(&detect(&real), "ci.pipeline"));
}

#[test]
fn plain_kubernetes_manifests_are_not_iac() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: api:1.0\n          readinessProbe:\n            httpGet:\n              path: /health\n";
    let kind_cfg = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
    let snap = snapshot(
        vec![
            file("k8s/deployment.yaml", deployment),
            file("kind-config.yaml", kind_cfg),
        ],
        vec![],
    );
    let out = detect(&snap);
    assert!(!has(&out, "deploy.iac"));
    // The probe is runtime monitoring, though.
    assert!(has(&out, "monitor.runtime"));

    let iac = snapshot(
        vec![
            file(
                "k8s/kustomization.yaml",
                "resources:\n  - deployment.yaml\n",
            ),
            file("infra/main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n"),
        ],
        vec![],
    );
    let out = detect(&iac);
    let f = finding(&out, "deploy.iac").expect("deploy.iac");
    assert!(f.evidence.len() >= 2);
}

#[test]
fn manifests_in_multi_document_yaml_are_matched_with_lines() {
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n---\napiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: sklearn\nspec:\n  predictor:\n    canaryTrafficPercent: 10\n    model:\n      modelFormat:\n        name: sklearn\n";
    let snap = snapshot(vec![file("deploy/isvc.yaml", text)], vec![]);
    let out = detect(&snap);
    let progressive = finding(&out, "deploy.progressive").expect("deploy.progressive");
    assert_eq!(
        progressive.evidence[0].origin,
        mlops_maturity::detect::Origin::File {
            location: Location::new("deploy/isvc.yaml", 12)
        }
    );
    let serving = finding(&out, "serving.definition").expect("serving.definition");
    assert_eq!(
        serving.evidence[0].origin,
        mlops_maturity::detect::Origin::File {
            location: Location::new("deploy/isvc.yaml", 7)
        }
    );
    // The same manifest under docs/ is documentation, not a definition.
    let docs = snapshot(vec![file("docs/examples/isvc.yaml", text)], vec![]);
    let out = detect(&docs);
    assert!(!has(&out, "deploy.progressive"));
    assert!(!has(&out, "serving.definition"));
}

#[test]
fn argo_rollout_canary_and_istio_split() {
    let rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: m\nspec:\n  strategy:\n    canary:\n      steps:\n        - setWeight: 20\n        - analysis:\n            templates:\n              - templateName: success-rate\n";
    let vs_full = "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nspec:\n  http:\n    - route:\n        - destination:\n            host: a\n          weight: 100\n";
    let snap = snapshot(
        vec![
            file("k8s/rollout.yaml", rollout),
            file("k8s/vs.yaml", vs_full),
        ],
        vec![],
    );
    let out = detect(&snap);
    let f = finding(&out, "deploy.progressive").expect("deploy.progressive");
    assert!(f.evidence.iter().any(|e| e.rule.contains("argo")));
    assert!(
        !f.evidence.iter().any(|e| e.rule.contains("istio")),
        "a single route with weight 100 is not a split"
    );
    assert!(has(&out, "deploy.analysis_gate"));

    let vs_split = "kind: VirtualService\nspec:\n  http:\n    - route:\n        - destination:\n            host: a\n          weight: 90\n        - destination:\n            host: b\n          weight: 10\n";
    let out = detect(&snapshot(vec![file("k8s/vs.yaml", vs_split)], vec![]));
    assert!(has(&out, "deploy.progressive"));
}

#[test]
fn helm_templates_fall_back_to_lines() {
    let tpl = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  predictor:\n    {{- if .Values.canary }}\n    canaryTrafficPercent: {{ .Values.canary }}\n    {{- end }}\n";
    let out = detect(&snapshot(
        vec![file("charts/model/templates/isvc.yaml", tpl)],
        vec![],
    ));
    assert!(has(&out, "serving.definition"));
    assert!(has(&out, "deploy.progressive"));
}

#[test]
fn deploy_job_records_practices_and_production_qualifier() {
    let mut deploy = job(
        WF,
        "deploy",
        20,
        vec![
            run_step(WF, 22, "docker build -t ghcr.io/o/m:${{ github.sha }} ."),
            run_step(WF, 23, "kubectl apply -f k8s/"),
        ],
    );
    deploy.environment = Some(EnvironmentRef {
        name: "production".into(),
        dynamic: false,
        url: None,
        action: None,
        tier: None,
        location: Location::new(WF, 21),
    });
    let dry = job(
        WF,
        "check",
        30,
        vec![run_step(WF, 31, "kubectl apply --dry-run=client -f k8s/")],
    );
    let snap = snapshot(
        vec![],
        vec![workflow(WF, vec![TriggerKind::Manual], vec![deploy, dry])],
    );
    let out = detect(&snap);
    let f = finding(&out, "deploy.automated").expect("deploy.automated");
    assert!(
        f.evidence.iter().all(|e| !e.excerpt.contains("dry-run")),
        "dry runs are not deployments"
    );
    let ev = f
        .evidence
        .iter()
        .find(|e| e.rule == "deploy.automated.cli")
        .expect("kubectl apply");
    assert!(ev.has(qualifier::PRODUCTION));
    assert!(
        !ev.has(qualifier::AUTOMATIC),
        "workflow_dispatch only is started by a person"
    );
    let record = out.jobs.by_job.get(&(0, 0)).expect("deploy job record");
    assert!(record.contains_key("deploy.automated"));
    assert!(record.contains_key("build.container"));
    assert!(record.contains_key("change.traceability"));
    assert!(!out.jobs.by_job.contains_key(&(0, 1)));
}

#[test]
fn scheduled_training_is_retraining_and_reports_need_a_model_pipeline() {
    let train_wf = ".github/workflows/train.yml";
    let ops_wf = ".github/workflows/ops.yml";
    let snap = snapshot(
        vec![],
        vec![
            workflow(
                train_wf,
                vec![TriggerKind::Schedule],
                vec![job(
                    train_wf,
                    "train",
                    6,
                    vec![
                        run_step(train_wf, 8, "python src/train.py --config conf.yaml"),
                        run_step(train_wf, 9, "cml comment create report.md"),
                    ],
                )],
            ),
            workflow(
                ops_wf,
                vec![TriggerKind::Push],
                vec![job(
                    ops_wf,
                    "notify",
                    6,
                    vec![uses_step(ops_wf, 8, "slackapi/slack-github-action@v1", &[])],
                )],
            ),
        ],
    );
    let out = detect(&snap);
    let training = finding(&out, "model.training_pipeline").expect("training");
    assert!(training.evidence[0].has(qualifier::SCHEDULED));
    assert!(has(&out, "feedback.retraining"));
    let report = finding(&out, "feedback.report").expect("feedback.report");
    assert_eq!(
        report.evidence.len(),
        1,
        "the ops notification does not count"
    );
    assert!(report.evidence[0].excerpt.contains("cml"));
}

#[test]
fn cache_and_coverage_from_actions() {
    let snap = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::PullRequest],
            vec![job(
                WF,
                "test",
                5,
                vec![
                    uses_step(WF, 7, "actions/setup-python@v5", &[("cache", "pip")]),
                    run_step(WF, 9, "pytest --cov=src --cov-fail-under=80"),
                    uses_step(WF, 10, "codecov/codecov-action@v4", &[]),
                ],
            )],
        )],
    );
    let out = detect(&snap);
    assert!(has(&out, "build.cache"));
    let cov = finding(&out, "test.coverage").expect("coverage");
    assert!(cov.evidence.iter().any(|e| e.has(qualifier::THRESHOLD)));
}

#[test]
fn env_config_needs_real_differences() {
    let same = snapshot(
        vec![
            file("config/dev.yaml", "name: dev\nreplicas: 1\n"),
            file("config/prod.yaml", "name: prod\nreplicas: 1\n"),
        ],
        vec![],
    );
    assert!(!has(&detect(&same), "env.config"));
    let differ = snapshot(
        vec![
            file("config/dev.yaml", "name: dev\nreplicas: 1\n"),
            file(
                "config/prod.yaml",
                "name: prod\nreplicas: 4\nendpoint: https://api\n",
            ),
        ],
        vec![],
    );
    assert!(has(&detect(&differ), "env.config"));
    let splits = snapshot(
        vec![
            file("corpus/train.json", "{\"a\": 1}"),
            file("corpus/dev.json", "{\"a\": 2}"),
            file("corpus/test.json", "{\"a\": 3}"),
        ],
        vec![],
    );
    assert!(!has(&detect(&splits), "env.config"), "dataset splits");
    let sweeps = snapshot(
        vec![
            file("conf/model/resnet.yaml", "depth: 50\n"),
            file("conf/model/vit.yaml", "patch: 16\n"),
        ],
        vec![],
    );
    assert!(!has(&detect(&sweeps), "env.config"));
}

#[test]
fn path_rules_review_versioning_dependencies_data() {
    let snap = snapshot(
        vec![
            file(".github/CODEOWNERS", "* @team\n"),
            file("CHANGELOG.md", "# Changes\n"),
            file(".github/dependabot.yml", "version: 2\n"),
            file("data/raw.csv.dvc", "outs:\n- md5: x\n"),
            file("tests/unit/test_a.py", "def test_a():\n    assert True\n"),
        ],
        vec![],
    );
    let out = detect(&snap);
    for p in [
        "change.review",
        "release.versioning",
        "deps.automation",
        "data.versioning",
        "test.layering",
    ] {
        assert!(has(&out, p), "{p}");
    }
    assert!(
        !has(&out, "ci.tests"),
        "a suite no pipeline runs is not ci.tests"
    );
}

#[test]
fn evidence_is_capped_and_sorted_by_practice() {
    let files: Vec<RepoFile> = (0..60)
        .map(|i| {
            file(
                &format!("src/m{i}.py"),
                "import mlflow\nmlflow.log_metric('a', 1)\nmlflow.log_metric('b', 2)\n",
            )
        })
        .collect();
    let out = detect(&snapshot(files, vec![]));
    let f = finding(&out, "metrics.defined").expect("metrics");
    assert!(f.evidence.len() <= 20);
    let practices: Vec<_> = out.findings.iter().map(|f| f.practice.clone()).collect();
    let mut sorted = practices.clone();
    sorted.sort();
    assert_eq!(practices, sorted);
}

#[test]
fn user_rule_folder_adds_a_practice_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("house.toml"),
        "[[rule]]\nid = \"ci.tests.house_runner\"\npractice = \"ci.tests\"\ndescription = \"our runner\"\nstep_run = ['\\bhouse-test\\b']\n",
    )
    .unwrap();
    let mut rules = RuleSet::builtin().unwrap();
    rules.load_dir(dir.path()).unwrap();
    let snap = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(WF, "t", 3, vec![run_step(WF, 4, "house-test --all")])],
        )],
    );
    let out = engine::run(&snap, &JobGraph::build(&snap.pipelines), &rules);
    let f = finding(&out, "ci.tests").expect("ci.tests");
    assert_eq!(f.evidence[0].rule, "ci.tests.house_runner");
}

#[test]
fn cloud_build_files_are_pipelines_whose_steps_count() {
    let cb = "steps:\n- name: 'gcr.io/cloud-builders/git'\n  args: ['clone', '$_REPO']\n- name: '$_IMAGE'\n  entrypoint: 'pytest'\n  args: ['src/tests/model_tests.py']\n# - name: 'gcr.io/cloud-builders/docker'\n#   args: ['build', '.']\n- name: 'gcr.io/cloud-builders/gcloud'\n  args: ['run', 'deploy', 'api']\n";
    let out = detect(&snapshot(
        vec![file("build/model-deployment.yaml", cb)],
        vec![],
    ));
    assert!(has(&out, "ci.pipeline"));
    let tests = finding(&out, "ci.tests").expect("ci.tests");
    assert!(tests.evidence[0].has(qualifier::IN_PIPELINE));
    assert!(!has(&out, "build.container"), "commented-out step");
    // `args: ['run', 'deploy', ...]` after `gcloud` builder: unquoted it reads `gcloud … run deploy`.
    let _ = finding(&out, "deploy.automated");
}

#[test]
fn called_workflows_inherit_their_callers_triggers() {
    let caller_path = ".github/workflows/main.yml";
    let called_path = ".github/workflows/deploy.yml";
    let mut caller = job(caller_path, "call-deploy", 5, vec![]);
    caller.calls = Some(ExternalRef {
        target: "./.github/workflows/deploy.yml".into(),
        local: true,
        resolved: true,
        path: Some(called_path.into()),
    });
    let mut called = workflow(
        called_path,
        vec![TriggerKind::Call],
        vec![
            job(
                called_path,
                "build",
                5,
                vec![run_step(called_path, 7, "make build")],
            ),
            job(
                called_path,
                "deploy",
                9,
                vec![run_step(
                    called_path,
                    11,
                    "helm upgrade --install api ./chart",
                )],
            ),
        ],
    );
    called.reusable = true;
    called.jobs[1].needs = Some(vec!["build".into()]);
    let snap = snapshot(
        vec![],
        vec![
            workflow(caller_path, vec![TriggerKind::Push], vec![caller]),
            called,
        ],
    );
    let out = detect(&snap);
    let f = finding(&out, "deploy.automated").expect("deploy.automated");
    assert!(f.evidence[0].has(qualifier::AUTOMATIC));
    assert!(f.evidence[0].has(qualifier::ON_CHANGE));
    assert!(
        out.jobs
            .by_job
            .get(&(1, 1))
            .is_some_and(|m| m.contains_key("deploy.automated"))
    );
}

#[test]
fn azure_pipeline_titles_are_not_commands() {
    let az = "trigger:\n- main\npool:\n  vmImage: ubuntu-latest\nsteps:\n- task: HelmDeploy@0\n  displayName: helm upgrade\n  inputs:\n    command: upgrade\n- script: echo done\n  displayName: Publish coverage report\n";
    let out = detect(&snapshot(vec![file(".pipelines/cd.yml", az)], vec![]));
    assert!(has(&out, "ci.pipeline"));
    let deploy = finding(&out, "deploy.automated").expect("HelmDeploy task");
    assert!(
        deploy
            .evidence
            .iter()
            .all(|e| !e.excerpt.contains("displayName"))
    );
    assert!(!has(&out, "test.coverage"));
}

#[test]
fn scheduled_caller_of_a_training_workflow_is_retraining() {
    let caller_path = ".github/workflows/nightly.yml";
    let called_path = ".github/workflows/train.yml";
    let mut caller = job(caller_path, "nightly", 5, vec![]);
    caller.calls = Some(ExternalRef {
        target: "./.github/workflows/train.yml".into(),
        local: true,
        resolved: true,
        path: Some(called_path.into()),
    });
    let mut called = workflow(
        called_path,
        vec![TriggerKind::Call],
        vec![job(
            called_path,
            "train",
            5,
            vec![run_step(called_path, 7, "dvc repro")],
        )],
    );
    called.reusable = true;
    let snap = snapshot(
        vec![],
        vec![
            workflow(caller_path, vec![TriggerKind::Schedule], vec![caller]),
            called,
        ],
    );
    let out = detect(&snap);
    let f = finding(&out, "feedback.retraining").expect("feedback.retraining");
    assert!(f.evidence[0].has(qualifier::SCHEDULED));
}

#[test]
fn cookiecutter_templates_are_the_product() {
    let wf = "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest tests\n";
    let out = detect(&snapshot(
        vec![
            file("{{cookiecutter.slug}}/.github/workflows/ci.yml", wf),
            file(
                "{{cookiecutter.slug}}/.pre-commit-config.yaml",
                "repos: []\n",
            ),
        ],
        vec![],
    ));
    assert!(has(&out, "ci.pipeline"));
    assert!(has(&out, "ci.static_checks"));
    let tests = finding(&out, "ci.tests").expect("template workflow runs pytest");
    assert!(tests.evidence[0].has(qualifier::IN_PIPELINE));
}

#[test]
fn pipeline_scoped_sdk_calls_need_a_pipeline() {
    let deploy_py = "import sagemaker\npredictor = model.deploy(initial_instance_count=1)\n";
    let alone = detect(&snapshot(
        vec![file("scripts/deploy.py", deploy_py)],
        vec![],
    ));
    assert!(
        !has(&alone, "deploy.automated"),
        "a deploy script only a person runs"
    );
    let inline = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(
                WF,
                "release",
                3,
                vec![run_step(
                    WF,
                    5,
                    "python -c \"from m import model; model.deploy(initial_instance_count=1)\"",
                )],
            )],
        )],
    );
    assert!(has(&detect(&inline), "deploy.automated"));
}

#[test]
fn deploying_docs_infra_or_training_pipelines_is_not_a_model_deployment() {
    let steps = vec![
        run_step(WF, 5, "make deploy-docs"),
        run_step(WF, 6, "mkdocs gh-deploy --force"),
        run_step(
            WF,
            7,
            "python src/deploy_training_pipeline.py -f config.yml",
        ),
        run_step(WF, 8, "helm install kubeflow ./charts/kubeflow"),
    ];
    let snap = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(WF, "docs", 3, steps)],
        )],
    );
    let out = detect(&snap);
    assert!(
        !has(&out, "deploy.automated"),
        "{:?}",
        finding(&out, "deploy.automated")
    );
    let positive = snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(
                WF,
                "cd",
                3,
                vec![run_step(WF, 5, "make deploy-model ENV=prod")],
            )],
        )],
    );
    assert!(has(&detect(&positive), "deploy.automated"));
}

/// Detection must stay fast on large repositories: 50 000 files, a third of them
/// Python with some ML calls. Debug builds are slow; the bound is loose and the
/// time is printed for the report.
#[test]
fn fifty_thousand_files_scan_quickly() {
    let mut files = Vec::with_capacity(50_000);
    let py =
        "import numpy as np\n\ndef f(x):\n    return np.mean(x)\n\nclass A:\n    pass\n".repeat(20);
    for i in 0..50_000 {
        let path = match i % 3 {
            0 => format!("pkg{}/mod{}/file{i}.py", i % 50, i % 7),
            1 => format!("data/d{}/f{i}.csv", i % 30),
            _ => format!("assets/a{}/img{i}.png", i % 40),
        };
        let text = if i % 3 == 0 { py.as_str() } else { "" };
        files.push(if text.is_empty() {
            RepoFile {
                path,
                size: 10,
                content: None,
                skipped: None,
            }
        } else {
            file(&path, text)
        });
    }
    files.push(file("pkg0/train.py", "model.fit(X, y)\n"));
    let snap = snapshot(files, vec![]);
    let rules = RuleSet::builtin().unwrap();
    let graph = JobGraph::build(&snap.pipelines);
    let start = Instant::now();
    let out = engine::run(&snap, &graph, &rules);
    let elapsed = start.elapsed();
    println!("detection over 50 000 files took {elapsed:?}");
    assert!(has(&out, "model.training_pipeline"));
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

/// Manual check on a real checkout: `MLOPS_SCAN_DIR=/path cargo test --test detect_rules
/// scan_dir_from_env -- --ignored --nocapture` prints every finding.
#[test]
#[ignore]
fn scan_dir_from_env() {
    let Some(dir) = std::env::var_os("MLOPS_SCAN_DIR") else {
        println!("MLOPS_SCAN_DIR not set; nothing to scan");
        return;
    };
    // The connector lands on another branch: walk the folder here.
    let root = std::path::PathBuf::from(&dir);
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(&root)
        .hidden(false)
        .build()
        .flatten()
    {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with(".git/") {
            continue;
        }
        let text = if mlops_maturity::evidence::content_wanted(&rel) {
            std::fs::read_to_string(entry.path()).ok()
        } else {
            None
        };
        files.push(RepoFile {
            path: rel,
            size: 0,
            content: text.map(Arc::from),
            skipped: None,
        });
    }
    let fileset = FileSet::new(files.clone());
    let pipelines = rough_github_workflows(&fileset);
    println!("{} workflows (rough test-only reading)", pipelines.len());
    let snap = snapshot(files, pipelines);
    let start = Instant::now();
    let out = detect(&snap);
    println!("{} files, {:?}", snap.files.len(), start.elapsed());
    for ((p, j), practices) in &out.jobs.by_job {
        println!(
            "  job {}#{}: {:?}",
            snap.pipelines[*p].file,
            snap.pipelines[*p].jobs[*j].id,
            practices.keys().collect::<Vec<_>>()
        );
    }
    for f in &out.findings {
        println!("{}", f.practice);
        for e in &f.evidence {
            let at = match &e.origin {
                mlops_maturity::detect::Origin::File { location } => location.to_string(),
                _ => String::new(),
            };
            println!("    {at}  [{}] {}", e.rule, e.excerpt);
        }
    }
}

#[test]
#[ignore]
fn regex_set_timing() {
    let rules = RuleSet::builtin().unwrap();
    let py =
        "import numpy as np\n\ndef f(x):\n    return np.mean(x)\n\nclass A:\n    pass\n".repeat(20);
    let c = rules.compiled();
    for set in &c.content_sets {
        let start = Instant::now();
        let mut n = 0;
        for _ in 0..2000 {
            n += set.matches(&py).iter().count();
        }
        println!(
            "{} ({} patterns): {:?} for 2000 files, {n}",
            set.family,
            set.owners.len(),
            start.elapsed()
        );
    }
    // Real Python text, when the system has some.
    let mut real = Vec::new();
    for dir in [
        "/usr/lib/python3.12",
        "/usr/lib/python3.11",
        "/usr/lib/python3.10",
        "/usr/lib/python3",
    ] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if let Ok(t) = std::fs::read_to_string(e.path()) {
                    real.push(t);
                }
            }
            break;
        }
    }
    let bytes: usize = real.iter().map(String::len).sum();
    for set in &c.content_sets {
        let start = Instant::now();
        let mut n = 0;
        for t in &real {
            n += set.matches(t).iter().count();
        }
        println!(
            "{} on {} real files ({bytes} bytes): {:?}, {n} hits",
            set.family,
            real.len(),
            start.elapsed()
        );
    }
    let paths: Vec<String> = (0..50_000)
        .map(|i| format!("pkg{}/mod{}/file{i}.py", i % 50, i % 7))
        .collect();
    let start = Instant::now();
    let mut hits = Vec::new();
    let mut n = 0;
    for p in &paths {
        c.scan_globs.matches_into(p, &mut hits);
        n += hits.len();
        c.path_globs.matches_into(p, &mut hits);
        n += hits.len();
    }
    println!("globs: {:?} for 50000 paths, {n}", start.elapsed());
}

/// A rough GitHub workflow reader for the manual scan above only (the real dialect
/// parser lives on another branch): triggers, jobs, steps, environments.
fn rough_github_workflows(files: &FileSet) -> Vec<Pipeline> {
    use mlops_maturity::pipeline::yaml;
    let mut out = Vec::new();
    for f in files.iter() {
        let path = f.path.as_str();
        if !(path.starts_with(".github/workflows/")
            && (path.ends_with(".yml") || path.ends_with(".yaml")))
        {
            continue;
        }
        let Some(text) = f.content.as_deref() else {
            continue;
        };
        let Ok(root) = yaml::parse(text) else {
            continue;
        };
        let mut kinds = Vec::new();
        if let Some(on) = root.get("on") {
            let names: Vec<String> = match on.as_map() {
                Some(m) => m
                    .iter()
                    .filter_map(|(k, _)| k.as_str().map(String::from))
                    .collect(),
                None => on.string_list(),
            };
            for n in names {
                kinds.push(match n.as_str() {
                    "push" => TriggerKind::Push,
                    "pull_request" | "pull_request_target" => TriggerKind::PullRequest,
                    "schedule" => TriggerKind::Schedule,
                    "workflow_dispatch" => TriggerKind::Manual,
                    "workflow_call" => TriggerKind::Call,
                    "workflow_run" => TriggerKind::Upstream,
                    "repository_dispatch" => TriggerKind::Api,
                    "release" => TriggerKind::Release,
                    other => TriggerKind::Other(other.to_string()),
                });
            }
        }
        let mut jobs = Vec::new();
        if let Some(m) = root.get("jobs").and_then(|j| j.as_map()) {
            for (k, v) in m {
                let id = k.as_str().unwrap_or("").to_string();
                let mut steps = Vec::new();
                for st in v.get("steps").and_then(|s| s.as_seq()).unwrap_or(&[]) {
                    let mut step = match st.get("run").and_then(|r| r.as_str()) {
                        Some(run) => run_step(path, st.line, run),
                        None => uses_step(
                            path,
                            st.line,
                            st.get("uses").and_then(|u| u.as_str()).unwrap_or(""),
                            &[],
                        ),
                    };
                    if let Some(w) = st.get("with").and_then(|w| w.as_map()) {
                        for (wk, wv) in w {
                            if let (Some(wk), Some(wv)) = (wk.as_str(), wv.scalar_text()) {
                                step.with.insert(wk.to_string(), wv);
                            }
                        }
                    }
                    step.may_fail =
                        st.get("continue-on-error").and_then(|c| c.as_bool()) == Some(true);
                    steps.push(step);
                }
                let mut j = job(path, &id, k.line, steps);
                if let Some(env) = v.get("environment") {
                    let name = env
                        .as_str()
                        .map(String::from)
                        .or_else(|| env.get("name").and_then(|n| n.scalar_text()));
                    if let Some(name) = name {
                        j.environment = Some(EnvironmentRef {
                            dynamic: name.contains("${{"),
                            name,
                            url: None,
                            action: None,
                            tier: None,
                            location: Location::new(path, env.line),
                        });
                    }
                }
                j.may_fail = v.get("continue-on-error").and_then(|c| c.as_bool()) == Some(true);
                jobs.push(j);
            }
        }
        out.push(workflow(path, kinds, jobs));
    }
    out
}

/// The rule ids behind a practice's evidence.
fn rule_ids(out: &RuleOutput, practice: &str) -> Vec<String> {
    finding(out, practice)
        .map(|f| f.evidence.iter().map(|e| e.rule.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn traceability_from_dvc_lock_run_tags_ci_ids_and_served_run_ids() {
    let out = detect(&snapshot(
        vec![
            file(
                "dvc.lock",
                "schema: '2.0'\nstages:\n  train:\n    outs:\n    - path: model.pkl\n      md5: d1f6\n",
            ),
            file(
                "register.py",
                "from azureml.core import Model\ntags = {\"area\": \"x\", \"BuildId\": build_id}\nmodel_tags[\"git_sha\"] = sha\n",
            ),
            file(
                "pipelines/train.yml",
                "steps:\n- script: az ml job create --set display_name=run_$(Build.BuildId)\n  displayName: train\n  env:\n    display_name: train_$(Build.BuildId)\n",
            ),
            file(
                "app/predict.py",
                "RUN_ID = os.getenv('RUN_ID')\ndef predict(x):\n    return {'duration': 1, 'model_version': RUN_ID}\n",
            ),
        ],
        vec![],
    ));
    let ids = rule_ids(&out, "change.traceability");
    for want in [
        "change.traceability.dvc_lock",
        "change.traceability.model_tags",
        "change.traceability.ci_ids_in_runs",
        "change.traceability.served_run_id",
    ] {
        assert!(ids.iter().any(|r| r == want), "{want} missing in {ids:?}");
    }
}

#[test]
fn traceability_negatives_comments_loading_by_run_id_and_artifact_names() {
    let out = detect(&snapshot(
        vec![
            // Loading a model by run id does not say which model answers.
            file(
                "serve.py",
                "model = mlflow.pyfunc.load_model(f\"runs:/{run_id}/model\")\n# 'model_version': run_id\n",
            ),
            // A tags dict without a build/commit/run key.
            file(
                "register.py",
                "tags = {\"area\": \"diabetes\", \"owner\": \"me\"}\n",
            ),
            // The build id in an artifact file name is not a run name or tag.
            file(
                "ci/pipe.yml",
                "steps:\n- script: cp model.pkl out/model_$(Build.BuildId).pkl\n",
            ),
        ],
        vec![],
    ));
    assert!(
        !has(&out, "change.traceability"),
        "{:?}",
        rule_ids(&out, "change.traceability")
    );
}

#[test]
fn layering_from_data_suites_markers_service_and_smoke_tests() {
    let out = detect(&snapshot(
        vec![
            file(
                "tests/data/test_dataset.py",
                "import great_expectations as ge\ndef test_x(df):\n    df.expect_column_values_to_not_be_null(column=\"tag\")\n",
            ),
            file(
                "tests/code/test_train.py",
                "import pytest\n@pytest.mark.training\ndef test_train():\n    pass\n",
            ),
            file(
                "integration-test/test_docker.py",
                "import requests\nurl = 'http://localhost:8080/invocations'\nrequests.post(url, json={})\n",
            ),
            file(
                "ml_service/util/smoke_test_scoring_service.py",
                "import requests\n",
            ),
        ],
        vec![],
    ));
    let ids = rule_ids(&out, "test.layering");
    for want in [
        "test.layering.data_suites",
        "test.layering.marker_decorators",
        "test.layering.service_tests",
        "test.layering.smoke_files",
    ] {
        assert!(ids.iter().any(|r| r == want), "{want} missing in {ids:?}");
    }
}

#[test]
fn layering_negatives_mirrored_folders_placeholders_parametrize_and_app_code() {
    let out = detect(&snapshot(
        vec![
            // A test folder named after a package module is not a layer.
            file(
                "tests/model/test_model_loader.py",
                "from src.model import loader\ndef test_load():\n    assert loader\n",
            ),
            // An empty placeholder folder holds no suite.
            file("tests/unit/.gitkeep", ""),
            // Built-in marks are not layer markers.
            file(
                "tests/test_utils.py",
                "import pytest\n@pytest.mark.parametrize('a', [1])\ndef test_a(a):\n    pass\n",
            ),
            // Application code calling localhost is not a test.
            file("app/client.py", "URL = 'http://localhost:8080/predict'\n"),
            // A URL string in a parser's unit test is not a running service.
            file(
                "tests/test_urls.py",
                "def test_parse():\n    assert parse(\"http://localhost:8080/a\").port == 8080\n",
            ),
            // A commented-out localstack endpoint.
            file(
                "tests/test_s3.py",
                "# endpoint = 'http://localhost:4566/'\ndef test_s3():\n    pass\n",
            ),
        ],
        vec![],
    ));
    assert!(
        !has(&out, "test.layering"),
        "{:?}",
        rule_ids(&out, "test.layering")
    );
}

#[test]
fn results_files_of_test_runs_count_but_plain_runs_do_not() {
    let wf = ".github/workflows/t.yml";
    let kept = detect(&snapshot(
        vec![],
        vec![workflow(
            wf,
            vec![TriggerKind::PullRequest],
            vec![job(
                wf,
                "t",
                5,
                vec![run_step(
                    wf,
                    7,
                    "pytest tests/code --verbose > results/test_code_results.txt",
                )],
            )],
        )],
    ));
    assert!(rule_ids(&kept, "test.results").contains(&"test.results.result_files".to_string()));
    let plain = detect(&snapshot(
        vec![],
        vec![workflow(
            wf,
            vec![TriggerKind::PullRequest],
            vec![job(
                wf,
                "t",
                5,
                vec![run_step(wf, 7, "pytest tests -q > /dev/null")],
            )],
        )],
    ));
    assert!(!has(&plain, "test.results"));
}

#[test]
fn codebuild_continuation_lines_read_as_one_test_command() {
    let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - |\n        python test/test.py \\\n          --build-config cfg.json \\\n          --test-results-output ${TEST_RESULTS}.json\n";
    let out = detect(&snapshot(
        vec![file("deploy/test/buildspec.yml", spec)],
        vec![],
    ));
    let results = finding(&out, "test.results").expect("test.results");
    assert_eq!(
        results.evidence[0].origin,
        mlops_maturity::detect::Origin::File {
            location: Location::new("deploy/test/buildspec.yml", 6)
        }
    );
    assert!(rule_ids(&out, "ci.tests").contains(&"ci.tests.test_scripts".to_string()));
}

#[test]
fn orchestrator_schedules_and_retraining_need_a_training_file() {
    let out = detect(&snapshot(
        vec![file(
            "flows/train_deploy.py",
            "from prefect.orion.schemas.schedules import IntervalSchedule\ndef train_best_model(x):\n    booster = xgb.train(params, x)\nDeployment.build_from_flow(flow=main, schedule=IntervalSchedule(interval=timedelta(minutes=5)))\n",
        )],
        vec![],
    ));
    assert!(has(&out, "build.schedule"));
    assert!(has(&out, "feedback.retraining"));
    // A scheduled scoring flow is a schedule, not retraining; a manual DAG is neither.
    let out = detect(&snapshot(
        vec![
            file(
                "flows/score_deploy.py",
                "Deployment.build_from_flow(flow=score, schedule=CronSchedule(cron=\"0 3 2 * *\"))\n",
            ),
            file(
                "dags/manual.py",
                "with DAG('etl', schedule_interval=None) as dag:\n    pass\n",
            ),
        ],
        vec![],
    ));
    assert_eq!(
        rule_ids(&out, "build.schedule"),
        vec!["build.schedule.orchestrator".to_string()]
    );
    assert!(!has(&out, "feedback.retraining"));
}

#[test]
fn ml_platform_rules_datasets_telemetry_endpoints_rollouts_run_log() {
    let out = detect(&snapshot(
        vec![
            file(
                "prep.py",
                "import wandb\nartifact = wandb.Artifact(\"taxi\", type=\"preprocessed_dataset\")\n",
            ),
            file(
                "scoring/deployment_config_aks.yml",
                "computeType: AKS\nappInsightsEnabled: True\n",
            ),
            file(
                "scoring/inference_config.yml",
                "entryScript: score.py\nruntime: python\n",
            ),
            file(
                "cfn/endpoint.yaml",
                "Resources:\n  Cfg:\n    Type: AWS::SageMaker::EndpointConfig\n",
            ),
            file(
                "deploy/services/serve.yaml",
                "name: svc\nrollout_strategy: ROLLOUT # ROLLOUT or IN_PLACE\n",
            ),
            file(
                "train_aml.py",
                "from azureml.core import Run\nrun = Run.get_context()\nrun.log('mse', 1.0)\n",
            ),
            file(
                "data/data_test.py",
                "import pandas as pd\ndef test_check_schema():\n    df = pd.read_csv('d.csv')\n    assert df.shape[1] == 10\n",
            ),
        ],
        vec![],
    ));
    for practice in [
        "data.versioning",
        "monitor.runtime",
        "serving.definition",
        "deploy.progressive",
        "metrics.defined",
        "data.validation",
    ] {
        assert!(has(&out, practice), "{practice}");
    }
}

#[test]
fn ml_platform_negatives_model_artifacts_in_place_rollouts_and_plain_loggers() {
    let out = detect(&snapshot(
        vec![
            // A model artifact is not a dataset.
            file(
                "log.py",
                "import wandb\nart = wandb.Artifact(\"clf\", type=\"model\")\n",
            ),
            file("deploy/services/serve.yaml", "rollout_strategy: IN_PLACE\n"),
            file(
                "scoring/deployment_config_aci.yml",
                "computeType: ACI\nappInsightsEnabled: False\n",
            ),
            // `run.log` in a module that imports no tracker.
            file(
                "job.py",
                "import logging\nrun = logging.getLogger('run')\nrun.log(20, 'x')\n",
            ),
            // An API schema test does not read data.
            file(
                "tests/test_api.py",
                "def test_response_schema(client):\n    assert client.get('/').json()\n",
            ),
            // `class X(Model)` without kserve is any base class.
            file("core/models.py", "class BaselineModel(Model):\n    pass\n"),
            // A .dvc file tracking only a model.
            file(
                "dvcfiles/trained_model.dvc",
                "outs:\n- md5: 1\n  path: model.onnx\n",
            ),
        ],
        vec![],
    ));
    for practice in [
        "data.versioning",
        "deploy.progressive",
        "monitor.runtime",
        "metrics.defined",
        "data.validation",
        "serving.definition",
    ] {
        assert!(
            !has(&out, practice),
            "{practice}: {:?}",
            rule_ids(&out, practice)
        );
    }
}

#[test]
fn codepipeline_sources_events_branches_and_approvals() {
    let cfn = "Resources:\n  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n      EventPattern:\n        detail-type:\n          - \"CodeCommit Repository State Change\"\n        detail:\n          referenceName:\n            - \"main\"\n      Targets:\n        - Arn: !Sub 'arn:aws:codepipeline:${AWS::Region}:x'\n  Pipeline:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Stages:\n        - Name: Source\n          Actions:\n            - Configuration:\n                BranchName: main\n        - Name: ApproveDeployment\n          Actions:\n            - ActionTypeId:\n                Category: Approval\n";
    let out = detect(&snapshot(vec![file("cfn/pipeline.yaml", cfn)], vec![]));
    for practice in ["ci.on_change", "vcs.branch_policy", "deploy.approval_gate"] {
        assert!(has(&out, practice), "{practice}");
    }
    // Without a pipeline in the file, an event rule or a branch name says nothing;
    // a templated branch (`!Ref`) is not a policy.
    let lone = "Resources:\n  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n      EventPattern:\n        detail-type:\n          - \"CodeCommit Repository State Change\"\n      Category: Approval\n";
    let templated = "Resources:\n  P:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Configuration:\n        BranchName: !Ref Branch\n        PollForSourceChanges: false\n";
    let out = detect(&snapshot(
        vec![
            file("cfn/rule.yaml", lone),
            file("cfn/p.yaml", templated),
            file("config/app.yaml", "BranchName: main\n"),
        ],
        vec![],
    ));
    for practice in ["ci.on_change", "vcs.branch_policy", "deploy.approval_gate"] {
        assert!(
            !has(&out, practice),
            "{practice}: {:?}",
            rule_ids(&out, practice)
        );
    }
}

#[test]
fn anyscale_job_submitted_by_a_workflow_runs_its_entrypoint_tests() {
    let wf = ".github/workflows/workloads.yaml";
    let snap = snapshot(
        vec![
            file(
                "deploy/jobs/workloads.yaml",
                "name: workloads\nruntime_env:\n  working_dir: .\nentrypoint: bash deploy/jobs/workloads.sh\n",
            ),
            file(
                "deploy/jobs/workloads.sh",
                "#!/bin/bash\npython -m pytest tests/code --verbose\n",
            ),
            file("tests/code/test_a.py", "def test_a():\n    assert 1\n"),
        ],
        vec![workflow(
            wf,
            vec![TriggerKind::PullRequest],
            vec![job(
                wf,
                "workloads",
                5,
                vec![run_step(
                    wf,
                    9,
                    "anyscale jobs submit deploy/jobs/workloads.yaml --wait",
                )],
            )],
        )],
    );
    let out = detect(&snap);
    let tests = finding(&out, "ci.tests").expect("ci.tests through the job entrypoint");
    assert!(tests.evidence.iter().any(|e| e.has(qualifier::IN_PIPELINE)));
}

#[test]
fn codepipeline_model_deploy_stages_and_promotion() {
    let cfn = "Resources:\n  Trigger:\n    Type: AWS::Events::Rule\n    Properties:\n      EventPattern:\n        detail-type:\n          - \"SageMaker Model Package State Change\"\n  Pipeline:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Stages:\n        - Name: DeployModelStaging\n          Actions:\n            - ActionTypeId:\n                Category: Deploy\n                Provider: CloudFormationStackSet\n        - Name: DeployModelProd\n          Actions:\n            - ActionTypeId:\n                Category: Deploy\n";
    let out = detect(&snapshot(vec![file("cfn/deploy.yaml", cfn)], vec![]));
    assert!(has(&out, "deploy.automated"));
    let envs = finding(&out, "deploy.environments").expect("staging then prod");
    assert_eq!(
        envs.evidence[0].origin,
        mlops_maturity::detect::Origin::File {
            location: Location::new("cfn/deploy.yaml", 17)
        }
    );
    // A pipeline deploying infrastructure (no model endpoint) to prod only.
    let infra = "Resources:\n  Pipeline:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n      Stages:\n        - Name: DeployNetworkProd\n          Actions:\n            - ActionTypeId:\n                Category: Deploy\n";
    let out = detect(&snapshot(vec![file("cfn/infra.yaml", infra)], vec![]));
    assert!(!has(&out, "deploy.automated"));
    assert!(!has(&out, "deploy.environments"));
}

#[test]
fn azure_ml_v1_actions_register_and_train() {
    let out = detect(&snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(
                WF,
                "train",
                5,
                vec![
                    uses_step(WF, 8, "Azure/aml-workspace@v1", &[]),
                    uses_step(WF, 10, "Azure/aml-run@v1", &[]),
                    uses_step(WF, 12, "Azure/aml-registermodel@v1", &[]),
                ],
            )],
        )],
    ));
    assert_eq!(
        rule_ids(&out, "model.registry"),
        vec!["model.registry.cli".to_string()]
    );
    let reg = finding(&out, "model.registry").unwrap();
    assert_eq!(
        reg.evidence[0].origin,
        mlops_maturity::detect::Origin::File {
            location: Location::new(WF, 12)
        }
    );
    assert!(
        rule_ids(&out, "model.training_pipeline")
            .iter()
            .any(|r| r == "model.training_pipeline.ci_job")
    );
}

#[test]
fn azure_ml_workspace_and_compute_setup_are_not_training_or_registry() {
    let out = detect(&snapshot(
        vec![],
        vec![workflow(
            WF,
            vec![TriggerKind::Push],
            vec![job(
                WF,
                "setup",
                5,
                vec![
                    uses_step(WF, 8, "Azure/aml-workspace@v1", &[]),
                    uses_step(WF, 10, "Azure/aml-compute@v1", &[]),
                ],
            )],
        )],
    ));
    assert!(!has(&out, "model.training_pipeline"));
    assert!(!has(&out, "model.registry"));
}

#[test]
fn watson_and_clearml_model_registration() {
    let out = detect(&snapshot(
        vec![
            file(
                "pipeline/store.py",
                "from ibm_watson_machine_learning import APIClient\nclient = APIClient(creds)\nmodel_details = client.repository.store_model(model=pipe, meta_props=props)\n",
            ),
            file(
                "train.py",
                "from clearml import Task, OutputModel\ntask = Task.init(project_name='p')\nout = OutputModel(task=task, name='churn', framework='sklearn')\nout.update_weights('model.pkl')\n",
            ),
        ],
        vec![],
    ));
    let reg = finding(&out, "model.registry").unwrap();
    let at: Vec<String> = reg
        .evidence
        .iter()
        .filter_map(|e| match &e.origin {
            mlops_maturity::detect::Origin::File { location } => Some(location.to_string()),
            _ => None,
        })
        .collect();
    assert!(at.contains(&"pipeline/store.py:3".to_string()), "{at:?}");
    assert!(at.contains(&"train.py:3".to_string()), "{at:?}");
}

#[test]
fn clearml_tracking_and_update_weights_alone_are_not_registration() {
    let out = detect(&snapshot(
        vec![
            file(
                "train.py",
                "from clearml import Task\ntask = Task.init(project_name='p')\n# OutputModel(task) later\nself.update_weights(grads)\n",
            ),
            // Storing a pipeline run's assets in a repository object is not Watson's.
            file("store.py", "repository.store(model)\nrepo.store_model(x)\n"),
        ],
        vec![],
    ));
    assert!(
        !has(&out, "model.registry"),
        "{:?}",
        rule_ids(&out, "model.registry")
    );
}
