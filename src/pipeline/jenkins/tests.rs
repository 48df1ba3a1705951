use super::*;
use crate::evidence::{RepoFile, Severity};
use crate::pipeline::{EdgeKind, JobGraph};

fn parse(src: &str) -> (Pipeline, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let p = parse_text("Jenkinsfile", src, &mut diags).expect("pipeline");
    (p, diags)
}

fn job<'a>(p: &'a Pipeline, id: &str) -> &'a Job {
    p.job(id)
        .unwrap_or_else(|| panic!("no job {id} in {:?}", ids(p)))
}

fn ids(p: &Pipeline) -> Vec<&str> {
    p.jobs.iter().map(|j| j.id.as_str()).collect()
}

fn uses(step: &Step) -> Option<&str> {
    step.uses.as_ref().map(|u| u.target.as_str())
}

const FULL: &str = r#"pipeline {
  agent { label 'linux' }
  parameters {
    string(name: 'TARGET', defaultValue: 'staging')
  }
  triggers {
    cron('H 2 * * 1')
    pollSCM('H/5 * * * *')
    upstream(upstreamProjects: 'lib-a, lib-b', threshold: hudson.model.Result.SUCCESS)
  }
  stages {
    stage('Build') {
      steps {
        sh 'make build'
      }
    }
    stage('Test') {
      parallel {
        stage('Unit') {
          steps {
            sh(script: 'pytest tests/unit', label: 'unit tests')
            junit 'reports/*.xml'
          }
        }
        stage('Lint') {
          agent { docker { image 'python:3.12' } }
          steps {
            sh """
              ruff check .
            """
          }
        }
      }
    }
    stage('Deploy') {
      when {
        beforeAgent true
        branch 'main'
      }
      input {
        message 'Ship it?'
        ok 'Yes'
      }
      steps {
        withCredentials([string(credentialsId: 'kube', variable: 'KUBECONFIG')]) {
          sh 'helm upgrade --install app chart/'
        }
        build job: 'smoke-tests', wait: false
      }
      post {
        failure {
          sh 'helm rollback app'
        }
      }
    }
  }
  post {
    failure {
      slackSend channel: '#ml', message: "Failed"
    }
    always {
      echo 'done'
    }
  }
}
"#;

#[test]
fn declarative_jobs_stages_and_lines() {
    let (p, diags) = parse(FULL);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(p.system, CiSystem::Jenkins);
    assert_eq!(p.location.line, 1);
    assert_eq!(p.stages, ["Build", "Test", "Deploy"]);
    assert_eq!(ids(&p), ["Build", "Unit", "Lint", "Deploy", "post"]);
    let build = job(&p, "Build");
    assert_eq!(build.location.line, 12);
    assert_eq!(build.stage.as_deref(), Some("Build"));
    assert_eq!(build.runs_on, ["linux"]);
    assert_eq!(build.steps[0].run.as_deref(), Some("make build"));
    assert_eq!(build.steps[0].location.line, 14);

    let unit = job(&p, "Unit");
    assert_eq!(unit.stage.as_deref(), Some("Test"));
    assert_eq!(unit.location.line, 19);
    assert_eq!(unit.steps[0].run.as_deref(), Some("pytest tests/unit"));
    assert_eq!(unit.steps[0].name.as_deref(), Some("unit tests"));
    assert_eq!(uses(&unit.steps[1]), Some("junit"));
    assert_eq!(
        unit.steps[1].with.get("testResults").map(String::as_str),
        Some("reports/*.xml")
    );
    assert_eq!(unit.steps[1].location.line, 22);
    assert_eq!(unit.artifact_reports, ["junit"]);

    let lint = job(&p, "Lint");
    assert_eq!(lint.image.as_deref(), Some("python:3.12"));
    assert_eq!(
        lint.steps[0].run.as_deref().map(str::trim),
        Some("ruff check .")
    );
    assert_eq!(lint.steps[0].location.line, 28);
}

#[test]
fn when_input_wrappers_build_and_stage_post() {
    let (p, _) = parse(FULL);
    let deploy = job(&p, "Deploy");
    assert_eq!(deploy.location.line, 35);
    // `beforeAgent` says when to evaluate, it is no condition.
    assert_eq!(deploy.conditions, ["branch 'main'"]);
    assert!(deploy.manual, "stage-level input is an approval");
    let input = &deploy.steps[0];
    assert_eq!(uses(input), Some("input"));
    assert_eq!(
        input.with.get("message").map(String::as_str),
        Some("Ship it?")
    );
    assert_eq!(input.location.line, 40);
    // `withCredentials` is a wrapper step; the sh inside it is read.
    let helm = deploy
        .steps
        .iter()
        .find(|s| s.run.as_deref() == Some("helm upgrade --install app chart/"))
        .expect("helm step");
    assert_eq!(helm.location.line, 46);
    let build = deploy
        .steps
        .iter()
        .find(|s| uses(s) == Some("build"))
        .unwrap();
    assert_eq!(
        build.with.get("job").map(String::as_str),
        Some("smoke-tests")
    );
    let trig = deploy.triggers.as_ref().expect("build job triggers");
    assert_eq!(trig.target, "smoke-tests");
    assert!(!trig.local);
    // Stage post steps belong to the stage, with their post condition.
    let rollback = deploy.steps.last().unwrap();
    assert_eq!(rollback.run.as_deref(), Some("helm rollback app"));
    assert_eq!(rollback.condition.as_deref(), Some("failure"));
    assert_eq!(rollback.location.line, 52);
}

#[test]
fn triggers_and_parameters() {
    let (p, _) = parse(FULL);
    let t: Vec<(&TriggerKind, &[String], u32)> = p
        .triggers
        .iter()
        .map(|t| (&t.kind, t.detail.as_slice(), t.location.line))
        .collect();
    assert_eq!(
        t,
        vec![
            (&TriggerKind::Push, &["scm".to_string()][..], 1),
            (&TriggerKind::Manual, &["TARGET".to_string()][..], 3),
            (&TriggerKind::Schedule, &["H 2 * * 1".to_string()][..], 7),
            (
                &TriggerKind::Push,
                &["pollSCM".to_string(), "H/5 * * * *".to_string()][..],
                8
            ),
            (
                &TriggerKind::Upstream,
                &["lib-a".to_string(), "lib-b".to_string()][..],
                9
            ),
        ]
    );
}

#[test]
fn pipeline_post_is_a_job_after_the_last_stage() {
    let (p, _) = parse(FULL);
    let post = job(&p, "post");
    assert_eq!(post.location.line, 57);
    assert_eq!(post.needs.as_deref(), Some(&["Deploy".to_string()][..]));
    assert_eq!(post.conditions, ["failure", "always"]);
    let slack = &post.steps[0];
    assert_eq!(uses(slack), Some("slackSend"));
    assert_eq!(slack.with.get("channel").map(String::as_str), Some("#ml"));
    assert_eq!(slack.condition.as_deref(), Some("failure"));
    assert_eq!(slack.location.line, 59);
    assert_eq!(uses(&post.steps[1]), Some("echo"));
}

#[test]
fn job_graph_sequential_parallel_and_post() {
    let (p, _) = parse(FULL);
    let ps = vec![p];
    let g = JobGraph::build(&ps);
    let edges: Vec<(String, String, EdgeKind)> = g
        .edges(&ps)
        .into_iter()
        .map(|e| (e.from, e.to, e.kind))
        .collect();
    let e = |a: &str, b: &str, k| (format!("Jenkinsfile#{a}"), format!("Jenkinsfile#{b}"), k);
    assert_eq!(
        edges,
        vec![
            e("Build", "Lint", EdgeKind::StageOrder),
            e("Build", "Unit", EdgeKind::StageOrder),
            e("Deploy", "post", EdgeKind::Needs),
            e("Lint", "Deploy", EdgeKind::StageOrder),
            e("Unit", "Deploy", EdgeKind::StageOrder),
        ]
    );
    // Deploy cannot be reached without passing both parallel branches of Test.
    let deploy = g.node(0, "Deploy").unwrap();
    let unit = g.node(0, "Unit").unwrap();
    let lint = g.node(0, "Lint").unwrap();
    assert!(!g.reachable_avoiding(deploy, |n| n == unit || n == lint));
    assert!(g.ancestors(deploy).contains(&unit));
}

#[test]
fn input_step_script_blocks_and_embedded_calls() {
    let src = r#"pipeline {
  agent any
  stages {
    stage('Approve') {
      steps {
        input message: 'Deploy to production?', submitter: 'leads'
        script {
          def version = sh(script: 'git describe', returnStdout: true).trim()
          if (env.BRANCH_NAME == 'main') {
            sh "make deploy VERSION=${version}"
          } else {
            echo 'skip'
          }
          def img = docker.build("app:${version}")
          def approved = input message: 'Really?', ok: 'Yes'
        }
      }
    }
  }
}"#;
    let (p, _) = parse(src);
    let j = job(&p, "Approve");
    assert!(j.manual);
    assert_eq!(uses(&j.steps[0]), Some("input"));
    assert_eq!(
        j.steps[0].with.get("message").map(String::as_str),
        Some("Deploy to production?")
    );
    let runs: Vec<(&str, u32)> = j
        .steps
        .iter()
        .filter_map(|s| Some((s.run.as_deref()?, s.location.line)))
        .collect();
    assert_eq!(
        runs,
        vec![("git describe", 8), ("make deploy VERSION=${version}", 10)]
    );
    let docker = j.steps.iter().find(|s| uses(s) == Some("docker.build"));
    assert_eq!(docker.map(|s| s.location.line), Some(14));
    assert!(j.steps.iter().any(|s| uses(s) == Some("echo")));
    let second_input = j.steps.iter().filter(|s| uses(s) == Some("input")).nth(1);
    assert_eq!(second_input.map(|s| s.location.line), Some(15));
    assert_eq!(
        second_input
            .and_then(|s| s.with.get("ok"))
            .map(String::as_str),
        Some("Yes")
    );
}

#[test]
fn nested_sequential_stages_and_matrix() {
    let src = r#"pipeline {
  agent none
  stages {
    stage('Prepare') { steps { sh 'a' } }
    stage('Flow') {
      stages {
        stage('One') { steps { sh 'b' } }
        stage('Two') { steps { sh 'c' } }
      }
    }
    stage('Grid') {
      matrix {
        axes {
          axis {
            name 'PLATFORM'
            values 'linux', 'windows'
          }
          axis { name 'PY'; values '3.11', '3.12' }
        }
        stages {
          stage('Build') { steps { sh 'make' } }
        }
      }
    }
    stage('Build') { steps { sh 'again' } }
  }
}"#;
    let (p, _) = parse(src);
    assert_eq!(p.stages, ["Prepare", "Flow", "Grid", "Build"]);
    assert_eq!(ids(&p), ["Prepare", "One", "Two", "Build", "Build#2"]);
    assert_eq!(job(&p, "One").stage.as_deref(), Some("Flow"));
    assert_eq!(job(&p, "One").needs, None);
    assert_eq!(
        job(&p, "Two").needs.as_deref(),
        Some(&["One".to_string()][..])
    );
    let m = job(&p, "Build").matrix.as_ref().expect("matrix");
    assert_eq!(m.dimensions["PLATFORM"], ["linux", "windows"]);
    assert_eq!(m.dimensions["PY"], ["3.11", "3.12"]);
    assert_eq!(job(&p, "Build").stage.as_deref(), Some("Grid"));
    let dup = job(&p, "Build#2");
    assert_eq!(dup.name.as_deref(), Some("Build"));
    assert_eq!(dup.stage.as_deref(), Some("Build"));
    assert_eq!(dup.location.line, 25);
    let ps = vec![p];
    let g = JobGraph::build(&ps);
    let two = g.node(0, "Two").unwrap();
    let prepare = g.node(0, "Prepare").unwrap();
    assert!(g.ancestors(two).contains(&prepare));
}

#[test]
fn other_triggers() {
    let src = "pipeline {\n agent any\n triggers { githubPush() }\n stages { stage('x') { steps { sh 'y' } } }\n}";
    let (p, _) = parse(src);
    assert_eq!(p.triggers[1].kind, TriggerKind::Push);
    assert_eq!(p.triggers[1].detail, ["githubPush"]);
    assert_eq!(p.triggers[1].location.line, 3);
}

#[test]
fn scripted_pipeline_best_effort() {
    let src = r#"#!/usr/bin/env groovy
node('linux') {
  checkout scm
  stage('Build') {
    sh './gradlew build'
  }
  stage('Test') {
    try {
      sh './gradlew test'
    } finally {
      junit '**/build/test-results/**/*.xml'
    }
  }
}
"#;
    let (p, diags) = parse(src);
    assert!(diags.is_empty());
    assert_eq!(p.stages, ["Build", "Test"]);
    assert_eq!(ids(&p), ["Build", "Test"]);
    let test = job(&p, "Test");
    assert_eq!(test.location.line, 7);
    assert_eq!(test.steps[0].run.as_deref(), Some("./gradlew test"));
    assert_eq!(test.steps[0].location.line, 9);
    assert_eq!(uses(&test.steps[1]), Some("junit"));
    let ps = vec![p];
    let g = JobGraph::build(&ps);
    assert_eq!(g.edges(&ps).len(), 1);
}

#[test]
fn scripted_without_stages_is_one_job() {
    let (p, _) = parse("node {\n  sh 'make all'\n}\n");
    assert_eq!(ids(&p), ["pipeline"]);
    assert_eq!(p.jobs[0].location.line, 2);
}

#[test]
fn syntax_errors_are_warnings_naming_the_line() {
    for (src, line) in [
        ("pipeline {\n  stages {\n", 2),
        ("pipeline {\n  steps { sh 'oops }\n}\n", 2),
        ("pipeline {\n}\n}\n", 3),
    ] {
        let mut diags = Vec::new();
        assert!(parse_text("ci/Jenkinsfile", src, &mut diags).is_none());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "jenkinsfile-syntax");
        assert_eq!(diags[0].severity, Severity::Warning);
        assert_eq!(
            diags[0].location,
            Some(Location::new("ci/Jenkinsfile", line))
        );
        assert!(diags[0].message.contains(&format!("ci/Jenkinsfile:{line}")));
    }
}

#[test]
fn unknown_constructs_are_skipped_and_nothing_panics() {
    let (p, diags) =
        parse("pipeline {\n  frobnicate { x y z }\n  stages { stage('a') { steps { ; } } }\n}");
    assert!(diags.is_empty());
    assert_eq!(ids(&p), ["a"]);
    let deep = format!(
        "pipeline {{ stages {{ {} }} }}",
        "stage('x') { stages { ".repeat(80)
    );
    let mut diags = Vec::new();
    let _ = parse_text("Jenkinsfile", &deep, &mut diags);
    for src in [
        "",
        "}",
        "{",
        "pipeline",
        "pipeline {",
        "stage(",
        "'''",
        "pipeline { stages { stage { steps } } }",
        "node { stage() { sh } }",
    ] {
        let mut diags = Vec::new();
        let _ = parse_text("Jenkinsfile", src, &mut diags);
    }
    let balanced_deep = format!("pipeline {{ {}{} }}", "a { ".repeat(500), "} ".repeat(500));
    let mut diags = Vec::new();
    assert!(parse_text("Jenkinsfile", &balanced_deep, &mut diags).is_some());
    assert_eq!(diags[0].code, "jenkinsfile-too-deep");
}

#[test]
fn file_names_and_fileset() {
    assert!(is_jenkinsfile("Jenkinsfile"));
    assert!(is_jenkinsfile("ci/Jenkinsfile.release"));
    assert!(is_jenkinsfile("jobs/nightly.jenkinsfile"));
    assert!(is_jenkinsfile("android/JenkinsFile"));
    assert!(!is_jenkinsfile("vars/build.groovy"));
    assert!(!is_jenkinsfile("Jenkinsfile-notes.md"));
    assert!(!is_jenkinsfile("docs/Jenkinsfile.md"));
    assert!(!is_jenkinsfile("Jenkinsfile.yaml"));
    assert!(is_jenkinsfile("Jenkinsfile.groovy"));
    assert!(!is_jenkinsfile("Jenkinsfile."));
    let files = FileSet::new(vec![
        RepoFile {
            path: "Jenkinsfile".into(),
            size: 10,
            content: Some("node { sh 'x' }".into()),
            skipped: None,
        },
        RepoFile {
            path: "big/Jenkinsfile".into(),
            size: 10,
            content: None,
            skipped: None,
        },
        RepoFile {
            path: "README.md".into(),
            size: 10,
            content: Some("pipeline {".into()),
            skipped: None,
        },
    ]);
    let mut diags = Vec::new();
    let ps = parse_jenkinsfiles(&files, &mut diags);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].id, "Jenkinsfile");
}

#[test]
fn deep_steps_and_scripted_nesting_stay_bounded() {
    let deep_script = format!(
        "pipeline {{ stages {{ stage('x') {{ steps {{ script {{ {} sh 'inner' {} }} }} }} }} }}",
        "if (a) { ".repeat(100),
        "} ".repeat(100)
    );
    let mut diags = Vec::new();
    let p = parse_text("Jenkinsfile", &deep_script, &mut diags).expect("parsed");
    assert_eq!(diags[0].code, "jenkinsfile-too-deep");
    assert_eq!(ids(&p), ["x"]);
    let deep_nodes = format!(
        "{}stage('s') {{ sh 'x' }}{}",
        "node {\n".repeat(100),
        "}\n".repeat(100)
    );
    let mut diags = Vec::new();
    assert!(parse_text("Jenkinsfile", &deep_nodes, &mut diags).is_some());
}

#[test]
fn pathological_inputs_stay_linear() {
    // Long runs of newlines before a chained call, many lone slashes, many GString parts.
    let blank_run = format!("sh 'a'{}.trim()\nx", "\n".repeat(200_000));
    let slashes = format!("x = ({}", "/ ".repeat(200_000));
    let dollars = format!("sh \"{}\"", "${a}".repeat(100_000));
    for src in [blank_run, slashes, dollars] {
        let started = std::time::Instant::now();
        let mut diags = Vec::new();
        let _ = parse_text("Jenkinsfile", &src, &mut diags);
        assert!(started.elapsed().as_secs() < 5, "too slow");
    }
}

/// A small deterministic generator of Groovy-ish noise: no input may panic.
#[test]
fn random_noise_never_panics() {
    const PIECES: &[&str] = &[
        "pipeline",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "stage('a')",
        "steps",
        "sh",
        "'x'",
        "\"y\"",
        "'''",
        "\"\"\"",
        "${",
        "/",
        "//",
        "/*",
        "*/",
        "\n",
        ",",
        ":",
        "parallel",
        "matrix",
        "post",
        "when",
        "input",
        "build job: 'j'",
        "script",
        "node",
        "\\",
        "é",
        "$/",
        ";",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let mut src = String::new();
        for _ in 0..40 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            src.push_str(PIECES[(state >> 33) as usize % PIECES.len()]);
            src.push(' ');
        }
        let mut diags = Vec::new();
        let _ = parse_text("Jenkinsfile", &src, &mut diags);
    }
}

#[test]
fn archived_artifacts_and_cache_are_job_facts() {
    let src = "pipeline {\n agent any\n stages {\n  stage('b') {\n   steps {\n    cache(maxCacheSize: 250, caches: [arbitraryFileCache(path: '.pip')]) {\n     sh 'pip install -r requirements.txt'\n    }\n    archiveArtifacts artifacts: 'dist/*.whl', fingerprint: true\n    recordCoverage(tools: [[parser: 'COBERTURA']])\n   }\n  }\n }\n}";
    let (p, _) = parse(src);
    let b = job(&p, "b");
    assert!(b.cache);
    assert_eq!(b.artifact_paths, ["dist/*.whl"]);
    assert_eq!(b.artifact_reports, ["coverage_report"]);
    assert_eq!(
        b.steps[1].run.as_deref(),
        Some("pip install -r requirements.txt")
    );
    assert_eq!(b.steps[1].location.line, 7);
}

#[test]
fn scripted_parallel_closures() {
    let src = r#"node {
  stage('Checkout') { checkout scm }
  parallel(
    linux: {
      stage('Linux') { sh 'make linux' }
    },
    windows: {
      stage('Windows') { bat 'build.bat' }
    }
  )
}
"#;
    let (p, _) = parse(src);
    assert_eq!(ids(&p), ["Checkout", "Linux", "Windows"]);
    let win = job(&p, "Windows");
    assert_eq!(win.location.line, 8);
    assert_eq!(win.steps[0].run.as_deref(), Some("build.bat"));
    assert_eq!(win.steps[0].location.line, 8);
}

#[test]
fn closures_in_script_blocks_are_read_once() {
    let src = r#"pipeline {
  agent any
  stages {
    stage('Fan out') {
      steps {
        script {
          parallel(a: { sh 'one' }, b: {
            sh(script: 'two')
          })
        }
      }
    }
  }
}"#;
    let (p, _) = parse(src);
    let runs: Vec<(&str, u32)> = job(&p, "Fan out")
        .steps
        .iter()
        .filter_map(|s| Some((s.run.as_deref()?, s.location.line)))
        .collect();
    assert_eq!(runs, vec![("one", 7), ("two", 8)]);
}

#[test]
fn duplicate_names_never_collide() {
    let src = "pipeline {\n stages {\n  stage('A') { steps { sh 'a' } }\n  stage('A#2') { steps { sh 'b' } }\n  stage('A') { steps { sh 'c' } }\n  stage('post') { steps { sh 'd' } }\n }\n post { always { echo 'x' } }\n}";
    let (p, _) = parse(src);
    assert_eq!(ids(&p), ["A", "A#2", "A#3", "post", "post#2"]);
    assert_eq!(p.stages, ["A", "A#2", "A#3", "post"]);
    assert_eq!(job(&p, "A#3").name.as_deref(), Some("A"));
}

#[test]
fn scripted_job_properties_give_triggers() {
    let src = r#"properties([
  pipelineTriggers([cron('H 4 * * 1-5'), upstream(upstreamProjects: 'base-image')]),
  parameters([booleanParam(name: 'DEPLOY', defaultValue: false), string(name: 'TAG')])
])
node { stage('x') { sh 'y' } }
"#;
    let (p, _) = parse(src);
    let t: Vec<(&TriggerKind, Vec<&str>, u32)> = p
        .triggers
        .iter()
        .map(|t| {
            (
                &t.kind,
                t.detail.iter().map(String::as_str).collect(),
                t.location.line,
            )
        })
        .collect();
    assert_eq!(
        t,
        vec![
            (&TriggerKind::Push, vec!["scm"], 1),
            (&TriggerKind::Schedule, vec!["H 4 * * 1-5"], 2),
            (&TriggerKind::Upstream, vec!["base-image"], 2),
            (&TriggerKind::Manual, vec!["DEPLOY", "TAG"], 3),
        ]
    );
}

#[test]
fn kubernetes_agent_image_and_assigned_step_calls() {
    let src = r#"pipeline {
  agent {
    kubernetes {
      defaultContainer 'python'
      yaml """
spec:
  containers:
  - name: python
    image: "python:3.11-slim"
"""
    }
  }
  stages {
    stage('Gate') {
      steps {
        script {
          def metrics = readJSON file: 'metrics.json'
          if (metrics.accuracy < 0.9) {
            error("accuracy ${metrics.accuracy} below 0.9")
          }
        }
      }
    }
  }
}"#;
    let (p, _) = parse(src);
    let gate = job(&p, "Gate");
    assert_eq!(gate.runs_on, ["kubernetes"]);
    assert_eq!(gate.image.as_deref(), Some("python:3.11-slim"));
    let steps: Vec<(Option<&str>, u32)> = gate
        .steps
        .iter()
        .map(|s| (uses(s), s.location.line))
        .collect();
    assert_eq!(steps, vec![(Some("readJSON"), 17), (Some("error"), 19)]);
    assert_eq!(
        gate.steps[0].with.get("file").map(String::as_str),
        Some("metrics.json")
    );
}
