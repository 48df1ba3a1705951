//! Coded detectors over hand-built pipelines, job graphs and rule outputs (the
//! dialect parsers and the rule engine are developed separately).

use std::collections::BTreeMap;
use std::sync::Arc;

use mlops_maturity::detect::{
    Confidence, Detection, Evidence, JobPractices, Origin, PracticeFinding, RuleOutput, coded,
    qualifier,
};
use mlops_maturity::evidence::{FileSet, Location, RepoFile, Snapshot, Source};
use mlops_maturity::pipeline::{
    CiSystem, EnvironmentRef, Job, JobGraph, Pipeline, Step, Trigger, TriggerKind,
};

const CI: &str = ".github/workflows/ci.yml";
const CD: &str = ".github/workflows/cd.yml";
const GL: &str = ".gitlab-ci.yml";

fn step(file: &str, line: u32, run: &str) -> Step {
    Step {
        name: None,
        run: Some(run.to_string()),
        uses: None,
        with: BTreeMap::new(),
        condition: None,
        may_fail: false,
        via: None,
        location: Location::new(file, line),
    }
}

fn job(file: &str, line: u32, id: &str, needs: Option<&[&str]>) -> Job {
    Job {
        needs: needs.map(|n| n.iter().map(|s| s.to_string()).collect()),
        steps: vec![step(file, line + 2, &format!("echo {id}"))],
        ..Job::new(id, Location::new(file, line))
    }
}

fn staged(file: &str, line: u32, id: &str, stage: &str) -> Job {
    let mut j = job(file, line, id, None);
    j.stage = Some(stage.to_string());
    j
}

fn env(job: &mut Job, name: &str, dynamic: bool) {
    job.environment = Some(EnvironmentRef {
        name: name.to_string(),
        dynamic,
        url: None,
        action: None,
        tier: None,
        location: Location::new(job.location.path.clone(), job.location.line + 1),
    });
}

fn trigger(file: &str, kind: TriggerKind, branches: &[&str], detail: &[&str]) -> Trigger {
    Trigger {
        kind,
        branches: branches.iter().map(|s| s.to_string()).collect(),
        paths: vec![],
        detail: detail.iter().map(|s| s.to_string()).collect(),
        location: Location::new(file, 2),
    }
}

fn pipeline(file: &str, name: Option<&str>, triggers: Vec<Trigger>, jobs: Vec<Job>) -> Pipeline {
    Pipeline {
        id: file.to_string(),
        system: if file == GL {
            CiSystem::GitlabCi
        } else {
            CiSystem::GithubActions
        },
        name: name.map(str::to_string),
        file: file.to_string(),
        triggers,
        stages: vec![],
        jobs,
        includes: vec![],
        reusable: false,
        location: Location::new(file, 1),
    }
}

fn push(file: &str) -> Vec<Trigger> {
    vec![trigger(file, TriggerKind::Push, &[], &[])]
}

fn snapshot(pipelines: Vec<Pipeline>, files: &[(&str, &str)]) -> Snapshot {
    let files = FileSet::new(
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
    let mut snap = Snapshot::new(
        Source {
            kind: "local".into(),
            target: ".".into(),
            revision: None,
        },
        files,
    );
    snap.pipelines = pipelines;
    snap
}

/// Per-job practices: ((pipeline, job), practice, evidence location).
fn practices(entries: &[((usize, usize), &str, Location)]) -> JobPractices {
    let mut jobs = JobPractices::default();
    for (key, practice, loc) in entries {
        jobs.by_job
            .entry(*key)
            .or_default()
            .insert(practice.to_string(), loc.clone());
    }
    jobs
}

fn detect(snap: &Snapshot, jobs: JobPractices, findings: Vec<PracticeFinding>) -> Detection {
    let graph = JobGraph::build(&snap.pipelines);
    coded::run(
        snap,
        &graph,
        RuleOutput {
            findings,
            jobs,
            diagnostics: vec![],
        },
    )
}

fn excerpts(d: &Detection, practice: &str) -> Vec<String> {
    d.practice(practice)
        .map(|f| f.evidence.iter().map(|e| e.excerpt.clone()).collect())
        .unwrap_or_default()
}

fn loc(path: &str, line: u32) -> Location {
    Location::new(path, line)
}

fn file_evidence(rule: &str, location: Location, chain: Vec<Location>) -> Evidence {
    Evidence {
        rule: rule.to_string(),
        origin: Origin::File { location },
        excerpt: "x".into(),
        chain,
        qualifiers: Default::default(),
        confidence: Confidence::High,
    }
}

// ------------------------------------------------------------ gated_by_tests

#[test]
fn needs_chain_gates_deploy() {
    let jobs = vec![
        job(CI, 10, "test", None),
        job(CI, 20, "build", Some(&["test"])),
        job(CI, 30, "deploy", Some(&["build"])),
    ];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), jobs)], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(CI, 12)),
        ((0, 2), "deploy.automated", loc(CI, 32)),
    ]);
    let d = detect(&snap, jp, vec![]);
    let f = d.practice("deploy.gated_by_tests").expect("gated");
    assert_eq!(f.evidence.len(), 1);
    let e = &f.evidence[0];
    assert_eq!(e.excerpt, "deploy job deploy runs after test job test");
    assert_eq!(e.chain, vec![loc(CI, 10), loc(CI, 30)]);
    assert_eq!(
        e.origin,
        Origin::File {
            location: loc(CI, 30)
        }
    );
    assert_eq!(e.confidence, Confidence::High);
    assert!(
        e.has(qualifier::IN_PIPELINE) && e.has(qualifier::ON_CHANGE) && e.has(qualifier::AUTOMATIC)
    );
}

#[test]
fn deploy_without_needs_is_not_gated() {
    let jobs = vec![job(CI, 10, "test", None), job(CI, 30, "deploy", None)];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), jobs)], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(CI, 12)),
        ((0, 1), "deploy.automated", loc(CI, 32)),
    ]);
    let d = detect(&snap, jp, vec![]);
    assert!(d.practice("deploy.gated_by_tests").is_none());
}

#[test]
fn every_need_must_succeed_so_one_test_need_gates() {
    // `needs: [lint, test]`: lint starts at once, but deploy still waits for test.
    let jobs = vec![
        job(CI, 10, "lint", None),
        job(CI, 20, "test", None),
        job(CI, 30, "deploy", Some(&["lint", "test"])),
    ];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), jobs)], &[]);
    let jp = practices(&[
        ((0, 1), "ci.tests", loc(CI, 22)),
        ((0, 2), "deploy.automated", loc(CI, 32)),
    ]);
    let d = detect(&snap, jp, vec![]);
    assert_eq!(
        excerpts(&d, "deploy.gated_by_tests"),
        vec!["deploy job deploy runs after test job test"]
    );
}

fn gitlab(deploy_needs: Option<&[&str]>, test_may_fail: bool) -> Detection {
    let mut unit = staged(GL, 10, "unit", "test");
    unit.may_fail = test_may_fail;
    let mut deploy = staged(GL, 30, "deploy", "deploy");
    deploy.needs = deploy_needs.map(|n| n.iter().map(|s| s.to_string()).collect());
    let build = staged(GL, 5, "build", "build");
    let mut p = pipeline(GL, None, vec![], vec![build, unit, deploy]);
    p.stages = vec!["build".into(), "test".into(), "deploy".into()];
    let snap = snapshot(vec![p], &[]);
    let jp = practices(&[
        ((0, 1), "model.evaluation", loc(GL, 12)),
        ((0, 2), "deploy.automated", loc(GL, 32)),
    ]);
    detect(&snap, jp, vec![])
}

#[test]
fn gitlab_stage_order_gates_and_needs_empty_bypasses() {
    assert_eq!(
        excerpts(&gitlab(None, false), "deploy.gated_by_tests"),
        vec!["deploy job deploy runs after test job unit"]
    );
    // `needs: []` starts the deploy at once.
    assert!(
        gitlab(Some(&[]), false)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
    // `needs: [build]` skips the test stage.
    assert!(
        gitlab(Some(&["build"]), false)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
    // An allowed-to-fail test job gates nothing.
    assert!(
        gitlab(None, true)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
    // GitLab pipelines without rules run on push.
    assert!(gitlab(None, false).practice("ci.on_change").is_some());
}

#[test]
fn may_fail_test_step_does_not_gate() {
    let mut test = job(CI, 10, "test", None);
    test.steps[0].may_fail = true; // continue-on-error on the pytest step
    let jobs = vec![test, job(CI, 30, "deploy", Some(&["test"]))];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), jobs)], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(CI, 12)),
        ((0, 1), "deploy.automated", loc(CI, 32)),
    ]);
    assert!(
        detect(&snap, jp, vec![])
            .practice("deploy.gated_by_tests")
            .is_none()
    );
}

#[test]
fn test_step_with_shell_fallback_does_not_gate() {
    let mut test = job(CI, 10, "test", None);
    test.steps = vec![step(CI, 12, "python -m pytest tests || echo \"skipped\"")];
    let jobs = vec![test, job(CI, 30, "deploy", Some(&["test"]))];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), jobs)], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(CI, 12)),
        ((0, 1), "deploy.automated", loc(CI, 32)),
    ]);
    assert!(
        detect(&snap, jp, vec![])
            .practice("deploy.gated_by_tests")
            .is_none()
    );
}

#[test]
fn always_condition_ignores_failed_tests() {
    let mut deploy = job(CI, 30, "deploy", Some(&["test"]));
    deploy.conditions.push("${{ always() }}".into());
    let snap = snapshot(
        vec![pipeline(
            CI,
            None,
            push(CI),
            vec![job(CI, 10, "test", None), deploy],
        )],
        &[],
    );
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(CI, 12)),
        ((0, 1), "deploy.automated", loc(CI, 32)),
    ]);
    assert!(
        detect(&snap, jp, vec![])
            .practice("deploy.gated_by_tests")
            .is_none()
    );
}

fn workflow_run(success_check: bool, cd_also_on_push: bool) -> Detection {
    let ci = pipeline(CI, Some("CI"), push(CI), vec![job(CI, 10, "test", None)]);
    let mut deploy = job(CD, 10, "deploy", None);
    if success_check {
        deploy
            .conditions
            .push("${{ github.event.workflow_run.conclusion == 'success' }}".into());
    }
    let mut triggers = vec![trigger(CD, TriggerKind::Upstream, &[], &["CI"])];
    triggers.push(trigger(CD, TriggerKind::Manual, &[], &[]));
    if cd_also_on_push {
        triggers.push(trigger(CD, TriggerKind::Push, &["main"], &[]));
    }
    let cd = pipeline(CD, Some("CD"), triggers, vec![deploy]);
    let snap = snapshot(vec![ci, cd], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(CI, 12)),
        ((1, 0), "deploy.automated", loc(CD, 12)),
    ]);
    detect(&snap, jp, vec![])
}

#[test]
fn workflow_run_gates_only_with_success_check() {
    let d = workflow_run(true, false);
    let f = d
        .practice("deploy.gated_by_tests")
        .expect("gated across workflows");
    assert_eq!(
        f.evidence[0].excerpt,
        "deploy job deploy runs after test job test (CI)"
    );
    assert_eq!(f.evidence[0].chain, vec![loc(CI, 10), loc(CD, 10)]);
    // The CD workflow runs when CI (on push) completes: on change, automatic.
    assert!(f.evidence[0].has(qualifier::ON_CHANGE) && f.evidence[0].has(qualifier::AUTOMATIC));
    assert!(
        workflow_run(false, false)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
    // The CD workflow also deploys on push, without tests.
    assert!(
        workflow_run(true, true)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
}

#[test]
fn tests_then_deploy_in_one_job() {
    let build = |order_ok: bool| {
        let mut j = job(CI, 10, "release", None);
        let (t, s) = if order_ok { (12, 14) } else { (14, 12) };
        let test = step(CI, t, "pytest -q");
        let ship = step(CI, s, "kubectl apply -f k8s/");
        j.steps = if order_ok {
            vec![test, ship]
        } else {
            vec![ship, test]
        };
        let snap = snapshot(vec![pipeline(CI, None, push(CI), vec![j])], &[]);
        let jp = practices(&[
            ((0, 0), "ci.tests", loc(CI, t)),
            ((0, 0), "deploy.automated", loc(CI, s)),
        ]);
        detect(&snap, jp, vec![])
    };
    let d = build(true);
    let f = d.practice("deploy.gated_by_tests").expect("gated in-job");
    assert_eq!(
        f.evidence[0].excerpt,
        "deploy job release runs its tests before deploying"
    );
    assert_eq!(f.evidence[0].chain, vec![loc(CI, 12), loc(CI, 10)]);
    assert!(build(false).practice("deploy.gated_by_tests").is_none());
}

#[test]
fn fallback_deploy_jobs_without_rule_output() {
    let mut deploy = job(CI, 30, "ship", Some(&["test"]));
    deploy.steps = vec![step(CI, 32, "helm upgrade --install svc chart/")];
    env(&mut deploy, "production", false);
    let mut test = job(CI, 10, "test", None);
    test.steps = vec![step(CI, 12, "pytest")];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), vec![test, deploy])], &[]);
    // The engine saw the tests but no deploy.automated anywhere.
    let d = detect(
        &snap,
        practices(&[((0, 0), "ci.tests", loc(CI, 12))]),
        vec![],
    );
    let f = d
        .practice("deploy.gated_by_tests")
        .expect("fallback deploy job");
    assert_eq!(f.evidence[0].confidence, Confidence::Medium);
    assert!(f.evidence[0].has(qualifier::PRODUCTION));
}

// ------------------------------------------------------------ environments

fn envs(staging_before_prod: bool, prod_dynamic: bool) -> Detection {
    let mut staging = job(CD, 10, "staging", None);
    env(&mut staging, "staging", false);
    let needs: Option<&[&str]> = if staging_before_prod {
        Some(&["staging"])
    } else {
        None
    };
    let mut prod = job(CD, 30, "production", needs);
    if prod_dynamic {
        env(&mut prod, "${{ inputs.environment }}", true);
    } else {
        env(&mut prod, "production", false);
    }
    let snap = snapshot(vec![pipeline(CD, None, push(CD), vec![staging, prod])], &[]);
    let jp = practices(&[
        ((0, 0), "deploy.automated", loc(CD, 12)),
        ((0, 1), "deploy.automated", loc(CD, 32)),
    ]);
    detect(&snap, jp, vec![])
}

#[test]
fn environments_need_a_path_and_static_names() {
    let d = envs(true, false);
    let f = d
        .practice("deploy.environments")
        .expect("staging → production");
    assert_eq!(f.evidence.len(), 1);
    assert_eq!(
        f.evidence[0].excerpt,
        "deploys to staging (job staging) then production (job production)"
    );
    assert_eq!(f.evidence[0].chain, vec![loc(CD, 11), loc(CD, 31)]);
    assert!(f.evidence[0].has(qualifier::PRODUCTION));
    assert!(envs(false, false).practice("deploy.environments").is_none());
    assert!(envs(true, true).practice("deploy.environments").is_none());
}

#[test]
fn training_only_environments_do_not_count() {
    // Jobs with environments that only train: not deploy jobs.
    let mut a = job(CI, 10, "train-dev", None);
    env(&mut a, "dev", false);
    a.steps = vec![step(CI, 12, "python train.py")];
    let mut b = job(CI, 30, "train-prod", Some(&["train-dev"]));
    env(&mut b, "prod", false);
    b.steps = vec![step(CI, 32, "python train.py --full")];
    let snap = snapshot(vec![pipeline(CI, None, push(CI), vec![a, b])], &[]);
    let d = detect(&snap, JobPractices::default(), vec![]);
    assert!(d.practice("deploy.environments").is_none());
}

// ------------------------------------------------------------ approval gate

#[test]
fn manual_production_job_after_stages_is_a_gate() {
    let test = staged(GL, 10, "test", "test");
    let mut prod = staged(GL, 30, "deploy_prod", "deploy");
    prod.manual = true;
    env(&mut prod, "production", false);
    let mut p = pipeline(GL, None, vec![], vec![test, prod]);
    p.stages = vec!["test".into(), "deploy".into()];
    let snap = snapshot(vec![p], &[]);
    let jp = practices(&[((0, 1), "deploy.automated", loc(GL, 32))]);
    let d = detect(&snap, jp, vec![]);
    let f = d.practice("deploy.approval_gate").expect("manual gate");
    assert_eq!(
        f.evidence[0].excerpt,
        "deploy job deploy_prod waits for a person after earlier jobs"
    );
    assert!(f.evidence[0].has(qualifier::PRODUCTION));
    // The manual job's evidence elsewhere is not `automatic`.
    assert!(!f.evidence[0].has(qualifier::AUTOMATIC));
}

#[test]
fn workflow_dispatch_alone_is_not_a_gate() {
    let mut deploy = job(CD, 10, "deploy", None);
    env(&mut deploy, "production", false);
    let cd = pipeline(
        CD,
        None,
        vec![trigger(CD, TriggerKind::Manual, &[], &[])],
        vec![deploy],
    );
    let snap = snapshot(vec![cd], &[]);
    let jp = practices(&[((0, 0), "deploy.automated", loc(CD, 12))]);
    let d = detect(&snap, jp, vec![]);
    assert!(d.practice("deploy.approval_gate").is_none());
    // Nor is a manual job that starts the flow from scratch.
    let mut first = job(GL, 10, "deploy", None);
    first.manual = true;
    env(&mut first, "production", false);
    let snap = snapshot(vec![pipeline(GL, None, vec![], vec![first])], &[]);
    let jp = practices(&[((0, 0), "deploy.automated", loc(GL, 12))]);
    assert!(
        detect(&snap, jp, vec![])
            .practice("deploy.approval_gate")
            .is_none()
    );
}

#[test]
fn manual_approval_job_before_deploy() {
    let mut approve = job(GL, 20, "approve", Some(&["test"]));
    approve.manual = true;
    let deploy = job(GL, 30, "deploy", Some(&["approve"]));
    let snap = snapshot(
        vec![pipeline(
            GL,
            None,
            vec![],
            vec![job(GL, 10, "test", None), approve, deploy],
        )],
        &[],
    );
    let jp = practices(&[((0, 2), "deploy.automated", loc(GL, 32))]);
    let d = detect(&snap, jp, vec![]);
    assert_eq!(
        excerpts(&d, "deploy.approval_gate"),
        vec!["manual job approve before deploy job deploy"]
    );
}

// ------------------------------------------------------------ triggers

#[test]
fn triggers_on_change_schedule_and_branch_policy() {
    let triggers = vec![
        trigger(CI, TriggerKind::Push, &["main", "release/*"], &[]),
        trigger(CI, TriggerKind::PullRequest, &[], &[]),
        trigger(CI, TriggerKind::Schedule, &[], &["0 3 * * 1"]),
    ];
    let snap = snapshot(
        vec![pipeline(
            CI,
            Some("CI"),
            triggers,
            vec![job(CI, 10, "test", None)],
        )],
        &[],
    );
    let d = detect(&snap, JobPractices::default(), vec![]);
    assert_eq!(
        excerpts(&d, "ci.on_change"),
        vec![
            "GitHub Actions CI (.github/workflows/ci.yml) on push (branches main, release/*)",
            "GitHub Actions CI (.github/workflows/ci.yml) on pull/merge request"
        ]
    );
    let schedule = d.practice("build.schedule").expect("schedule");
    assert!(schedule.evidence[0].excerpt.ends_with("cron 0 3 * * 1"));
    assert!(schedule.evidence[0].has(qualifier::SCHEDULED));
    assert_eq!(
        excerpts(&d, "vcs.branch_policy"),
        vec!["push branches: main, release/*"]
    );
    assert_eq!(
        excerpts(&d, "ci.pipeline"),
        vec!["GitHub Actions CI (.github/workflows/ci.yml): 1 job(s)"]
    );
}

#[test]
fn manual_only_pipeline_is_not_on_change_and_gitlab_rules_are_branch_policy() {
    let mut j = job(GL, 10, "deploy", None);
    j.conditions
        .push("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH".into());
    let gl = pipeline(
        GL,
        None,
        vec![trigger(GL, TriggerKind::Manual, &[], &[])],
        vec![j],
    );
    let d = detect(&snapshot(vec![gl], &[]), JobPractices::default(), vec![]);
    assert!(d.practice("ci.on_change").is_none());
    assert_eq!(
        excerpts(&d, "vcs.branch_policy"),
        vec!["job deploy runs on: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"]
    );
}

// ------------------------------------------------------------ threshold

#[test]
fn evaluation_threshold_qualifier() {
    let files = [
        (
            "src/evaluate.py",
            "acc = score(model)\nprint(acc)\nif acc < 0.85:\n    raise SystemExit(1)\n",
        ),
        ("src/report.py", "acc = score(model)\nprint(acc)\n"),
    ];
    let snap = snapshot(
        vec![pipeline(
            CI,
            None,
            push(CI),
            vec![job(CI, 10, "eval", None)],
        )],
        &files,
    );
    let rule = |path: &str| PracticeFinding {
        practice: "model.evaluation".into(),
        evidence: vec![file_evidence(
            "ml.evaluate",
            loc(path, 1),
            vec![loc(CI, 12), Location::file(path)],
        )],
    };
    let d = detect(
        &snap,
        JobPractices::default(),
        vec![rule("src/evaluate.py")],
    );
    let f = d.practice("model.evaluation").expect("evaluation");
    assert_eq!(f.evidence.len(), 2);
    assert!(f.evidence[0].has(qualifier::THRESHOLD));
    assert!(f.evidence[0].has(qualifier::IN_PIPELINE));
    assert_eq!(f.evidence[1].rule, "model.evaluation.threshold");
    assert_eq!(
        f.evidence[1].origin,
        Origin::File {
            location: loc("src/evaluate.py", 3)
        }
    );
    assert!(f.evidence[1].has(qualifier::THRESHOLD) && f.evidence[1].has(qualifier::ON_CHANGE));

    let d = detect(&snap, JobPractices::default(), vec![rule("src/report.py")]);
    let f = d.practice("model.evaluation").expect("evaluation");
    assert_eq!(f.evidence.len(), 1);
    assert!(!f.evidence[0].has(qualifier::THRESHOLD));
}

// ------------------------------------------------------------ merging

#[test]
fn rule_findings_are_merged_sorted_and_deduplicated() {
    let snap = snapshot(vec![], &[("Makefile", "test:\n\tpytest\n")]);
    let e = file_evidence("py.pytest", loc("Makefile", 2), vec![]);
    let findings = vec![
        PracticeFinding {
            practice: "test.layering".into(),
            evidence: vec![e.clone()],
        },
        PracticeFinding {
            practice: "ci.tests".into(),
            evidence: vec![e.clone(), e.clone()],
        },
        PracticeFinding {
            practice: "ci.tests".into(),
            evidence: vec![e.clone()],
        },
    ];
    let d = detect(&snap, JobPractices::default(), findings);
    let ids: Vec<&str> = d.findings.iter().map(|f| f.practice.as_str()).collect();
    assert_eq!(ids, vec!["ci.tests", "test.layering"]);
    assert_eq!(d.practice("ci.tests").map(|f| f.evidence.len()), Some(1));
    // Not in a pipeline: no pipeline qualifiers.
    assert!(
        d.practice("ci.tests").unwrap().evidence[0]
            .qualifiers
            .is_empty()
    );
}

#[test]
fn reusable_workflow_inherits_caller_triggers() {
    const REUSE: &str = ".github/workflows/deploy.yml";
    let mut caller = job(CI, 10, "call-deploy", None);
    caller.calls = Some(mlops_maturity::pipeline::ExternalRef {
        target: "./.github/workflows/deploy.yml".into(),
        local: true,
        resolved: true,
        path: Some(REUSE.into()),
    });
    let nightly = pipeline(
        CI,
        None,
        vec![trigger(CI, TriggerKind::Schedule, &[], &["0 1 * * *"])],
        vec![caller],
    );
    let mut reusable = pipeline(
        REUSE,
        None,
        vec![trigger(REUSE, TriggerKind::Call, &[], &[])],
        vec![job(REUSE, 10, "ship", None)],
    );
    reusable.reusable = true;
    let snap = snapshot(vec![nightly, reusable], &[]);
    let rule = PracticeFinding {
        practice: "deploy.automated".into(),
        evidence: vec![file_evidence("k8s.apply", loc(REUSE, 12), vec![])],
    };
    let d = detect(&snap, JobPractices::default(), vec![rule]);
    let e = &d.practice("deploy.automated").expect("deploy").evidence[0];
    let got: Vec<&str> = e.qualifiers.iter().map(String::as_str).collect();
    assert_eq!(got, vec!["automatic", "in_pipeline", "scheduled"]);
}

#[test]
fn gitlab_child_pipeline_deploy_after_test_stage() {
    const CHILD: &str = "ci/deploy.gitlab-ci.yml";
    let unit = staged(GL, 10, "unit", "test");
    let mut trigger_job = staged(GL, 30, "deploy-child", "deploy");
    trigger_job.triggers = Some(mlops_maturity::pipeline::ExternalRef {
        target: CHILD.into(),
        local: true,
        resolved: true,
        path: Some(CHILD.into()),
    });
    let mut parent = pipeline(GL, None, vec![], vec![unit, trigger_job]);
    parent.stages = vec!["test".into(), "deploy".into()];
    let mut child = pipeline(CHILD, None, vec![], vec![job(CHILD, 5, "helm", None)]);
    child.system = CiSystem::GitlabCi;
    child.reusable = true;
    let snap = snapshot(vec![parent, child], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(GL, 12)),
        ((1, 0), "deploy.automated", loc(CHILD, 7)),
    ]);
    let d = detect(&snap, jp, vec![]);
    assert_eq!(
        excerpts(&d, "deploy.gated_by_tests"),
        vec!["deploy job helm runs after test job unit (.gitlab-ci.yml)"]
    );
    let e = &d.practice("deploy.gated_by_tests").unwrap().evidence[0];
    // The child pipeline runs when the parent runs: on every push.
    assert!(e.has(qualifier::ON_CHANGE));
}

#[test]
fn workflow_run_chain_of_four_gates_and_inherits_on_change() {
    // CI (push) → CD → staging → deploy, each on the previous one's success.
    let names = ["1 CI", "2 CD", "3 Staging", "4 Deploy"];
    let files = [
        ".github/workflows/1.yml",
        ".github/workflows/2.yml",
        ".github/workflows/3.yml",
        ".github/workflows/4.yml",
    ];
    let mut pipelines = Vec::new();
    for i in 0..4 {
        let mut j = job(files[i], 20, &format!("job{i}"), None);
        let triggers = if i == 0 {
            push(files[i])
        } else {
            j.conditions
                .push("${{ github.event.workflow_run.conclusion == 'success' }}".into());
            vec![
                trigger(files[i], TriggerKind::Upstream, &[], &[names[i - 1]]),
                trigger(files[i], TriggerKind::Manual, &[], &[]),
            ]
        };
        pipelines.push(pipeline(files[i], Some(names[i]), triggers, vec![j]));
    }
    let snap = snapshot(pipelines, &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(files[0], 22)),
        ((3, 0), "deploy.automated", loc(files[3], 22)),
    ]);
    let d = detect(&snap, jp, vec![]);
    let e = &d.practice("deploy.gated_by_tests").expect("gated").evidence[0];
    assert_eq!(e.excerpt, "deploy job job3 runs after test job job0 (1 CI)");
    let got: Vec<&str> = e.qualifiers.iter().map(String::as_str).collect();
    assert_eq!(got, vec!["automatic", "in_pipeline", "on_change"]);
}

#[test]
fn ci_pipeline_is_not_repeated_when_a_rule_reported_the_file() {
    let snap = snapshot(
        vec![pipeline(
            CI,
            None,
            push(CI),
            vec![job(CI, 10, "test", None)],
        )],
        &[],
    );
    let rule = PracticeFinding {
        practice: "ci.pipeline".into(),
        evidence: vec![file_evidence(
            "ci.pipeline.github_actions",
            Location::file(CI),
            vec![],
        )],
    };
    let d = detect(&snap, JobPractices::default(), vec![rule]);
    let f = d.practice("ci.pipeline").expect("pipeline");
    assert_eq!(f.evidence.len(), 1);
    assert_eq!(f.evidence[0].rule, "ci.pipeline.github_actions");
    assert!(f.evidence[0].has(qualifier::ON_CHANGE));
}

#[test]
fn jenkins_stage_names_name_environments() {
    const JF: &str = "Jenkinsfile";
    let mut p = pipeline(
        JF,
        None,
        vec![],
        vec![
            staged(JF, 10, "Test", "Test"),
            staged(JF, 20, "Deploy Staging", "Deploy Staging"),
            staged(JF, 30, "Approve", "Approve"),
            staged(JF, 40, "Deploy Production", "Deploy Production"),
        ],
    );
    p.system = CiSystem::Jenkins;
    p.stages = p.jobs.iter().map(|j| j.id.clone()).collect();
    p.jobs[2].manual = true;
    let snap = snapshot(vec![p], &[]);
    let jp = practices(&[
        ((0, 0), "ci.tests", loc(JF, 12)),
        ((0, 1), "deploy.automated", loc(JF, 22)),
        ((0, 3), "deploy.automated", loc(JF, 42)),
    ]);
    let d = detect(&snap, jp, vec![]);
    let env = &d.practice("deploy.environments").expect("envs").evidence[0];
    assert_eq!(
        env.excerpt,
        "deploys to staging (job Deploy Staging) then production (job Deploy Production)"
    );
    assert_eq!(env.confidence, Confidence::Medium);
    assert_eq!(env.chain, vec![loc(JF, 20), loc(JF, 40)]);
    let gate = &d
        .practice("deploy.approval_gate")
        .expect("input gate")
        .evidence[0];
    assert_eq!(
        gate.excerpt,
        "manual job Approve before deploy job Deploy Production"
    );
    assert!(gate.has(qualifier::PRODUCTION));
    assert_eq!(excerpts(&d, "deploy.gated_by_tests").len(), 2);
}

#[test]
fn manual_deploy_chain_shows_the_job_before_it() {
    let mut prod = job(GL, 30, "deploy", Some(&["test"]));
    prod.manual = true;
    env(&mut prod, "production", false);
    let snap = snapshot(
        vec![pipeline(
            GL,
            None,
            vec![],
            vec![job(GL, 10, "test", None), prod],
        )],
        &[],
    );
    let jp = practices(&[((0, 1), "deploy.automated", loc(GL, 32))]);
    let d = detect(&snap, jp, vec![]);
    let e = &d.practice("deploy.approval_gate").expect("gate").evidence[0];
    assert_eq!(e.chain, vec![loc(GL, 10), loc(GL, 30)]);
}

#[test]
fn schedule_detail_that_is_not_cron_is_shown_as_written() {
    let rule = "if: $CI_PIPELINE_SOURCE == \"schedule\"";
    let gl = pipeline(
        GL,
        None,
        vec![trigger(GL, TriggerKind::Schedule, &[], &[rule])],
        vec![job(GL, 10, "train", None)],
    );
    let d = detect(&snapshot(vec![gl], &[]), JobPractices::default(), vec![]);
    assert_eq!(
        excerpts(&d, "build.schedule"),
        vec![format!("GitLab CI .gitlab-ci.yml on schedule ({rule})")]
    );
}

#[test]
fn large_inputs_stay_fast() {
    // 100 workflows × 20 jobs in needs chains, 5,000 rule evidence items.
    let mut pipelines = Vec::new();
    let mut entries = Vec::new();
    for p in 0..100 {
        let file = format!(".github/workflows/w{p}.yml");
        let mut jobs = Vec::new();
        for j in 0..20 {
            let id = format!("j{j}");
            let prev = format!("j{}", j.max(1) - 1);
            let prev_list = [prev.as_str()];
            let needs: Option<&[&str]> = if j == 0 { None } else { Some(&prev_list) };
            let mut jb = job(&file, 10 + j * 10, &id, needs);
            if j == 19 {
                env(
                    &mut jb,
                    if p % 2 == 0 { "staging" } else { "production" },
                    false,
                );
            }
            jobs.push(jb);
        }
        entries.push(((p as usize, 0usize), "ci.tests", loc(&file, 12)));
        entries.push(((p as usize, 19usize), "deploy.automated", loc(&file, 202)));
        pipelines.push(pipeline(&file, Some(&format!("W{p}")), push(&file), jobs));
    }
    let evidence: Vec<Evidence> = (0..5000)
        .map(|i| {
            let file = format!(".github/workflows/w{}.yml", i % 100);
            let mut e = file_evidence("r", loc(&file, 12 + (i as u32 % 190)), vec![]);
            e.excerpt = format!("e{i}");
            e
        })
        .collect();
    let findings = vec![PracticeFinding {
        practice: "ci.tests".into(),
        evidence,
    }];
    let snap = snapshot(pipelines, &[]);
    let owned: Vec<((usize, usize), &str, Location)> = entries;
    let started = std::time::Instant::now();
    let d = detect(&snap, practices(&owned), findings);
    let elapsed = started.elapsed();
    println!("coded detectors on 2,000 jobs and 5,000 evidence: {elapsed:?}");
    assert_eq!(
        d.practice("deploy.gated_by_tests")
            .map(|f| f.evidence.len()),
        Some(100)
    );
    assert!(elapsed.as_secs() < 20, "too slow: {elapsed:?}");
}

fn dispatch_case(eval_before_dispatch: bool, deploy_on_push: bool) -> Detection {
    const TRAIN: &str = ".github/workflows/train.yml";
    const DEPLOY: &str = ".github/workflows/deploy.yml";
    let mut train = job(TRAIN, 10, "train", None);
    // Steps in file order: evaluation then dispatch, or the other way round.
    let (e, r) = if eval_before_dispatch {
        (12, 14)
    } else {
        (14, 12)
    };
    let eval = step(TRAIN, e, "python evaluate.py --min-accuracy 0.9");
    let register = step(
        TRAIN,
        r,
        "python register.py\ngh workflow run deploy.yml -f version=$V",
    );
    train.steps = if eval_before_dispatch {
        vec![eval, register]
    } else {
        vec![register, eval]
    };
    let mut deploy_triggers = vec![trigger(DEPLOY, TriggerKind::Manual, &[], &[])];
    if deploy_on_push {
        deploy_triggers.push(trigger(DEPLOY, TriggerKind::Push, &[], &[]));
    }
    let snap = snapshot(
        vec![
            pipeline(
                TRAIN,
                Some("Train"),
                vec![trigger(TRAIN, TriggerKind::Schedule, &[], &["0 2 * * *"])],
                vec![train],
            ),
            pipeline(
                DEPLOY,
                Some("Deploy"),
                deploy_triggers,
                vec![job(DEPLOY, 10, "ship", None)],
            ),
        ],
        &[],
    );
    let jp = practices(&[
        ((0, 0), "model.evaluation", loc(TRAIN, e)),
        ((1, 0), "deploy.automated", loc(DEPLOY, 12)),
    ]);
    detect(&snap, jp, vec![])
}

#[test]
fn evaluation_then_dispatch_gates_the_deploy_workflow() {
    let d = dispatch_case(true, false);
    let e = &d
        .practice("deploy.gated_by_tests")
        .expect("ML path")
        .evidence[0];
    assert_eq!(
        e.excerpt,
        "deploy job ship runs after test job train (dispatched by job train)"
    );
    assert_eq!(
        e.chain,
        vec![
            loc(".github/workflows/train.yml", 10),
            loc(".github/workflows/train.yml", 14),
            loc(".github/workflows/deploy.yml", 10)
        ]
    );
    assert_eq!(e.confidence, Confidence::Medium);
    // Dispatch before the evaluation step: nothing gates the deploy.
    assert!(
        dispatch_case(false, false)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
    // The deploy workflow also runs on push: not gated.
    assert!(
        dispatch_case(true, true)
            .practice("deploy.gated_by_tests")
            .is_none()
    );
}
