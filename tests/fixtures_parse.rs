//! The fixture repositories under `fixtures/repos/` parse into the pipelines,
//! jobs and job-graph edges they were written to show.

use std::path::Path;
use std::sync::Arc;

use mlops_maturity::evidence::{Diagnostic, FileSet, RepoFile, Severity, SkipReason};
use mlops_maturity::pipeline::{self, CiSystem, EdgeKind, JobGraph, Pipeline, TriggerKind};

/// Read a fixture folder into a FileSet (text files only; binaries are recorded by path).
fn fixture(name: &str) -> FileSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/repos")
        .join(name);
    let mut files = Vec::new();
    read_dir(&root, &root, &mut files);
    assert!(!files.is_empty(), "fixture {name} is empty or missing");
    FileSet::new(files)
}

fn read_dir(root: &Path, dir: &Path, out: &mut Vec<RepoFile>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_dir(root, &path, out);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&path).unwrap();
        let size = bytes.len() as u64;
        let text = String::from_utf8(bytes).ok().filter(|t| !t.contains('\0'));
        out.push(RepoFile {
            path: rel,
            size,
            skipped: text.is_none().then_some(SkipReason::Binary),
            content: text.map(Arc::from),
        });
    }
}

struct Parsed {
    pipelines: Vec<Pipeline>,
    edges: Vec<(String, String, EdgeKind)>,
    graph: JobGraph,
    diagnostics: Vec<Diagnostic>,
}

fn parse(name: &str) -> Parsed {
    let files = fixture(name);
    let mut diagnostics = Vec::new();
    let pipelines = pipeline::parse_all(&files, &mut diagnostics);
    let graph = JobGraph::build(&pipelines);
    let edges = graph
        .edges(&pipelines)
        .into_iter()
        .map(|e| (e.from, e.to, e.kind))
        .collect();
    Parsed {
        pipelines,
        edges,
        graph,
        diagnostics,
    }
}

impl Parsed {
    fn pipeline(&self, file: &str) -> &Pipeline {
        self.pipelines
            .iter()
            .find(|p| p.file == file)
            .unwrap_or_else(|| panic!("no pipeline for {file}"))
    }
    fn job_ids(&self, file: &str) -> Vec<&str> {
        self.pipeline(file)
            .jobs
            .iter()
            .map(|j| j.id.as_str())
            .collect()
    }
    fn has_edge(&self, from: &str, to: &str, kind: EdgeKind) -> bool {
        self.edges
            .iter()
            .any(|(f, t, k)| f == from && t == to && *k == kind)
    }
    fn assert_edge(&self, from: &str, to: &str, kind: EdgeKind) {
        assert!(
            self.has_edge(from, to, kind),
            "missing edge {from} -> {to} ({kind:?}); edges: {:#?}",
            self.edges
        );
    }
    fn no_errors(&self) {
        let errors: Vec<_> = self
            .diagnostics
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn notebook_only_has_no_pipeline() {
    let parsed = parse("notebook-only");
    assert!(parsed.pipelines.is_empty());
    assert!(parsed.edges.is_empty());
}

#[test]
fn jenkins_enterprise() {
    let parsed = parse("jenkins-enterprise");
    parsed.no_errors();
    assert_eq!(parsed.pipelines.len(), 1);
    let p = parsed.pipeline("Jenkinsfile");
    assert_eq!(p.system, CiSystem::Jenkins);
    assert_eq!(p.location.line, 3);
    assert_eq!(
        p.stages,
        [
            "Build",
            "Test",
            "Evaluate",
            "Image",
            "Deploy Staging",
            "Approve Production",
            "Deploy Production"
        ]
    );
    assert_eq!(
        parsed.job_ids("Jenkinsfile"),
        [
            "Build",
            "Test",
            "Evaluate",
            "Build Image",
            "Security Scan",
            "Deploy Staging",
            "Approve Production",
            "Deploy Production",
            "post"
        ]
    );
    assert!(p.has_trigger(&TriggerKind::Push));

    // Sequential stages wait for the previous stage; parallel branches share "Image".
    let j = |id: &str| format!("Jenkinsfile#{id}");
    let expected = vec![
        (
            j("Approve Production"),
            j("Deploy Production"),
            EdgeKind::StageOrder,
        ),
        (j("Build"), j("Test"), EdgeKind::StageOrder),
        (j("Build Image"), j("Deploy Staging"), EdgeKind::StageOrder),
        (j("Deploy Production"), j("post"), EdgeKind::Needs),
        (
            j("Deploy Staging"),
            j("Approve Production"),
            EdgeKind::StageOrder,
        ),
        (j("Evaluate"), j("Build Image"), EdgeKind::StageOrder),
        (j("Evaluate"), j("Security Scan"), EdgeKind::StageOrder),
        (
            j("Security Scan"),
            j("Deploy Staging"),
            EdgeKind::StageOrder,
        ),
        (j("Test"), j("Evaluate"), EdgeKind::StageOrder),
    ];
    assert_eq!(parsed.edges, expected);

    let job = |id: &str| p.job(id).unwrap();
    let test = job("Test");
    assert_eq!(test.location.line, 25);
    assert_eq!(test.steps[0].run.as_deref(), Some("make test"));
    assert_eq!(test.steps[0].location.line, 27);
    let junit = &test.steps[1];
    assert_eq!(junit.uses.as_ref().unwrap().target, "junit");
    assert_eq!(junit.condition.as_deref(), Some("always"));
    assert_eq!(
        junit.with.get("testResults").map(String::as_str),
        Some("reports/junit.xml")
    );

    assert_eq!(test.artifact_reports, ["junit"]);
    assert_eq!(job("Evaluate").artifact_paths, ["metrics.json"]);

    let image = job("Build Image");
    assert_eq!(image.stage.as_deref(), Some("Image"));
    assert!(
        image.steps[0]
            .run
            .as_deref()
            .unwrap()
            .contains("docker build")
    );

    let approve = job("Approve Production");
    assert!(approve.manual);
    assert_eq!(approve.conditions, ["branch 'main'"]);
    assert_eq!(approve.steps[0].uses.as_ref().unwrap().target, "input");
    assert_eq!(approve.steps[0].location.line, 82);

    let prod = job("Deploy Production");
    assert!(!prod.manual);
    let helm = prod
        .steps
        .iter()
        .find(|s| s.run.as_deref().is_some_and(|r| r.contains("helm upgrade")))
        .expect("helm step inside withKubeConfig");
    assert!(
        helm.run
            .as_deref()
            .unwrap()
            .contains("values-production.yaml")
    );
    assert_eq!(helm.location.line, 92);

    let post = job("post");
    assert_eq!(post.conditions, ["failure", "always"]);
    let notified: Vec<(&str, Option<&str>)> = post
        .steps
        .iter()
        .map(|s| {
            (
                s.uses.as_ref().unwrap().target.as_str(),
                s.condition.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        notified,
        [
            ("mail", Some("failure")),
            ("slackSend", Some("failure")),
            ("cleanWs", Some("always"))
        ]
    );

    // Production cannot be reached without passing the tests.
    let prod_ix = parsed.graph.node(0, "Deploy Production").unwrap();
    let test_ix = parsed.graph.node(0, "Test").unwrap();
    assert!(!parsed.graph.reachable_avoiding(prod_ix, |n| n == test_ix));
}

#[test]
fn basic_gha() {
    let parsed = parse("basic-gha");
    parsed.no_errors();
    assert_eq!(parsed.pipelines.len(), 1);
    let ci = parsed.pipeline(".github/workflows/ci.yml");
    assert_eq!(ci.system, CiSystem::GithubActions);
    assert_eq!(ci.name.as_deref(), Some("CI"));
    assert!(ci.has_trigger(&TriggerKind::Push));
    assert!(ci.has_trigger(&TriggerKind::PullRequest));
    assert_eq!(parsed.job_ids(".github/workflows/ci.yml"), ["lint", "test"]);
    // Two independent jobs.
    assert!(parsed.edges.is_empty());
    let test = ci.job("test").unwrap();
    assert!(
        test.steps
            .iter()
            .any(|s| s.run.as_deref() == Some("pytest -q"))
    );
}

#[test]
fn mature_gha() {
    let parsed = parse("mature-gha");
    parsed.no_errors();
    let (ci, train, cd) = (
        ".github/workflows/ci.yml",
        ".github/workflows/train.yml",
        ".github/workflows/cd.yml",
    );
    // Only files under .github/workflows/ are pipelines (not dependabot.yml, not deploy/).
    assert_eq!(parsed.pipelines.len(), 3);
    assert_eq!(parsed.job_ids(ci), ["lint", "test"]);
    assert_eq!(parsed.job_ids(train), ["train"]);
    assert_eq!(
        parsed.job_ids(cd),
        ["build-image", "deploy-staging", "deploy-production"]
    );

    let ci_p = parsed.pipeline(ci);
    let push = ci_p
        .triggers
        .iter()
        .find(|t| t.kind == TriggerKind::Push)
        .unwrap();
    assert_eq!(push.branches, ["main", "release/**"]);
    assert!(ci_p.has_trigger(&TriggerKind::PullRequest));

    let train_p = parsed.pipeline(train);
    assert!(train_p.has_trigger(&TriggerKind::Schedule));
    assert!(train_p.has_trigger(&TriggerKind::Manual));
    let steps = &train_p.job("train").unwrap().steps;
    let runs: Vec<&str> = steps.iter().filter_map(|s| s.run.as_deref()).collect();
    assert!(runs.contains(&"make train"));
    assert!(runs.iter().any(|r| r.contains("--min-accuracy 0.85")));
    assert!(runs.iter().any(|r| r.contains("src/export.py")));
    assert!(runs.iter().any(|r| r.contains("cml comment create")));

    let cd_p = parsed.pipeline(cd);
    let upstream = cd_p
        .triggers
        .iter()
        .find(|t| t.kind == TriggerKind::Upstream)
        .unwrap();
    assert_eq!(upstream.detail, ["CI"]);
    let env = |id: &str| {
        cd_p.job(id)
            .unwrap()
            .environment
            .as_ref()
            .map(|e| e.name.clone())
    };
    assert_eq!(env("deploy-staging").as_deref(), Some("staging"));
    assert_eq!(env("deploy-production").as_deref(), Some("production"));
    let build = cd_p.job("build-image").unwrap();
    assert!(build.steps.iter().any(|s| {
        s.uses
            .as_ref()
            .is_some_and(|u| u.target.starts_with("docker/build-push-action"))
    }));

    parsed.assert_edge(
        &format!("{ci}#lint"),
        &format!("{ci}#test"),
        EdgeKind::Needs,
    );
    parsed.assert_edge(
        &format!("{cd}#build-image"),
        &format!("{cd}#deploy-staging"),
        EdgeKind::Needs,
    );
    parsed.assert_edge(
        &format!("{cd}#deploy-staging"),
        &format!("{cd}#deploy-production"),
        EdgeKind::Needs,
    );
    // CD starts when CI succeeded: its entry job checks the upstream conclusion.
    parsed.assert_edge(
        &format!("{ci}#test"),
        &format!("{cd}#build-image"),
        EdgeKind::Upstream { success_only: true },
    );
    // Nothing connects the training workflow to CD.
    assert!(
        !parsed
            .edges
            .iter()
            .any(|(f, t, _)| f.starts_with(train) || t.starts_with(train))
    );
    let g = &parsed.graph;
    let ci_ix = parsed.pipelines.iter().position(|p| p.file == ci).unwrap();
    let cd_ix = parsed.pipelines.iter().position(|p| p.file == cd).unwrap();
    let prod = g.node(cd_ix, "deploy-production").unwrap();
    let test = g.node(ci_ix, "test").unwrap();
    assert!(!g.reachable_avoiding(prod, |n| n == test));
}

#[test]
fn mature_gitlab() {
    let parsed = parse("mature-gitlab");
    parsed.no_errors();
    let root = ".gitlab-ci.yml";
    let p = parsed.pipeline(root);
    assert_eq!(p.system, CiSystem::GitlabCi);
    assert_eq!(
        p.stages,
        // GitLab always adds `.pre` and `.post` around the declared stages.
        [
            ".pre",
            "lint",
            "test",
            "train",
            "evaluate",
            "build",
            "staging",
            "production",
            ".post"
        ]
    );
    // Hidden template jobs (`.python-job`, `.helm-deploy`, …) are not jobs.
    assert_eq!(
        parsed.job_ids(root),
        [
            "lint",
            "unit-tests",
            "integration-tests",
            "train",
            "evaluate",
            "build-image",
            "deploy-staging",
            "deploy-production"
        ]
    );
    let include = p
        .includes
        .iter()
        .find(|i| i.kind == "local")
        .expect("local include");
    assert!(include.target.resolved);
    assert_eq!(include.target.path.as_deref(), Some("ci/templates.yml"));

    let job = |id: &str| p.job(id).unwrap();
    let unit = job("unit-tests");
    assert!(unit.artifact_reports.iter().any(|r| r == "junit"));
    assert!(unit.artifact_reports.iter().any(|r| r == "coverage_report"));
    assert!(
        unit.steps
            .iter()
            .any(|s| s.run.as_deref().is_some_and(|r| r.contains("--cov=src")))
    );
    // `extends: .python-job` brings the template's before_script; before_script
    // entries run ahead of script and are expected among the job's steps.
    assert!(
        unit.steps
            .iter()
            .any(|s| s.run.as_deref() == Some("pip install -r requirements-dev.txt"))
    );
    // `rules: - !reference [.code-change-rules, rules]` resolves to the template's rules.
    assert!(
        unit.conditions
            .iter()
            .any(|c| c.contains("merge_request_event"))
    );
    assert!(
        job("train")
            .conditions
            .iter()
            .any(|c| c.contains("schedule"))
    );
    assert!(job("evaluate").steps.iter().any(|s| {
        s.run
            .as_deref()
            .is_some_and(|r| r.contains("--min-auc 0.90"))
    }));
    // `!reference [.kube-context, before_script]` and `extends: .helm-deploy`.
    let staging = job("deploy-staging");
    assert_eq!(
        staging.environment.as_ref().map(|e| e.name.as_str()),
        Some("staging")
    );
    assert!(!staging.manual);
    assert!(
        staging
            .steps
            .iter()
            .any(|s| s.run.as_deref().is_some_and(|r| r.contains("helm upgrade")))
    );
    assert!(staging.steps.iter().any(|s| {
        s.run
            .as_deref()
            .is_some_and(|r| r.contains("kubectl config"))
    }));
    let prod = job("deploy-production");
    assert!(prod.manual, "rules when: manual");
    assert_eq!(
        prod.environment.as_ref().map(|e| e.name.as_str()),
        Some("production")
    );
    let trigger = job("build-image")
        .triggers
        .as_ref()
        .expect("child pipeline");
    assert!(trigger.local);
    assert_eq!(trigger.path.as_deref(), Some("ci/image.yml"));

    let child = parsed.pipeline("ci/image.yml");
    assert!(child.reusable);
    assert_eq!(parsed.job_ids("ci/image.yml"), ["build", "scan"]);
    // Template files are not pipelines of their own.
    assert!(
        !parsed
            .pipelines
            .iter()
            .any(|p| p.file == "ci/templates.yml")
    );

    let r = |id: &str| format!("{root}#{id}");
    parsed.assert_edge(&r("lint"), &r("unit-tests"), EdgeKind::StageOrder);
    parsed.assert_edge(&r("unit-tests"), &r("train"), EdgeKind::StageOrder);
    parsed.assert_edge(&r("train"), &r("evaluate"), EdgeKind::Needs);
    parsed.assert_edge(&r("evaluate"), &r("build-image"), EdgeKind::StageOrder);
    parsed.assert_edge(
        &r("build-image"),
        &r("deploy-staging"),
        EdgeKind::StageOrder,
    );
    parsed.assert_edge(
        &r("deploy-staging"),
        &r("deploy-production"),
        EdgeKind::Needs,
    );
    let child_id = &child.id;
    parsed.assert_edge(
        &r("build-image"),
        &format!("{child_id}#build"),
        EdgeKind::Triggers,
    );
    parsed.assert_edge(
        &format!("{child_id}#build"),
        &format!("{child_id}#scan"),
        EdgeKind::Needs,
    );
}

/// The fixtures are well-formed: every YAML file (Helm templates aside, they are
/// Go templates) loads with the located YAML loader and every JSON file parses,
/// so a parser failure on them is the parser's, not the fixture's.
#[test]
fn fixture_files_are_well_formed() {
    for name in [
        "notebook-only",
        "basic-gha",
        "mature-gha",
        "mature-gitlab",
        "jenkins-enterprise",
    ] {
        let files = fixture(name);
        assert!(
            files.iter().all(|f| f.content.is_some()),
            "{name}: fixtures are text only"
        );
        assert!(
            files.contains("README.md"),
            "{name}: every fixture says what it shows"
        );
        for f in files.iter() {
            let text = f.content.as_deref().unwrap();
            let is_template = f.path.contains("/templates/") && f.path.contains("chart");
            if (f.path.ends_with(".yml") || f.path.ends_with(".yaml")) && !is_template {
                if let Err(e) = mlops_maturity::pipeline::yaml::parse(text) {
                    panic!("{name}/{}: {e:?}", f.path);
                }
            }
            if f.path.ends_with(".json") || f.path.ends_with(".ipynb") {
                serde_json::from_str::<serde_json::Value>(text)
                    .unwrap_or_else(|e| panic!("{name}/{}: {e}", f.path));
            }
        }
    }
}
