//! End-to-end tests of the GitLab dialect: YAML text in, jobs and graph edges out.

use std::sync::Arc;

use super::*;
use crate::evidence::{RepoFile, Severity};
use crate::pipeline::{EdgeKind, Job, JobGraph};

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

/// Parse a repository whose root config is the first file.
fn parse_repo(files: &[(&str, &str)]) -> (Vec<Pipeline>, Vec<Diagnostic>) {
    let set = fileset(files);
    let mut diags = Vec::new();
    let pipelines = parse_pipelines(&set, &mut diags);
    (pipelines, diags)
}

fn parse_one(text: &str) -> (Pipeline, Vec<Diagnostic>) {
    let (mut ps, diags) = parse_repo(&[(".gitlab-ci.yml", text)]);
    assert!(!ps.is_empty(), "no pipeline: {diags:?}");
    (ps.remove(0), diags)
}

fn job<'a>(p: &'a Pipeline, id: &str) -> &'a Job {
    p.job(id).unwrap_or_else(|| {
        panic!(
            "no job {id} in {:?}",
            p.jobs.iter().map(|j| &j.id).collect::<Vec<_>>()
        )
    })
}

fn runs(j: &Job) -> Vec<&str> {
    j.steps.iter().filter_map(|s| s.run.as_deref()).collect()
}

fn codes(diags: &[Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| d.code.as_str()).collect()
}

fn edges(ps: &[Pipeline]) -> Vec<(String, String, EdgeKind)> {
    JobGraph::build(ps)
        .edges(ps)
        .into_iter()
        .map(|e| (e.from, e.to, e.kind))
        .collect()
}

fn edge(from: &str, to: &str, kind: EdgeKind) -> (String, String, EdgeKind) {
    let name = |j: &str| {
        if j.contains('#') {
            j.to_string()
        } else {
            format!(".gitlab-ci.yml#{j}")
        }
    };
    (name(from), name(to), kind)
}

#[test]
fn no_root_file_means_no_pipeline() {
    let (ps, diags) = parse_repo(&[("ci/other.yml", "job: {script: [x]}")]);
    assert!(ps.is_empty());
    assert!(diags.is_empty());
}

#[test]
fn yaml_extension_is_accepted() {
    let (ps, _) = parse_repo(&[(".gitlab-ci.yaml", "job:\n  script: [make]\n")]);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].file, ".gitlab-ci.yaml");
    assert_eq!(ps[0].id, ".gitlab-ci.yaml");
}

#[test]
fn jobs_hidden_reserved_and_pages() {
    let (p, diags) = parse_one(
        "stages: [build, test, deploy]\nvariables:\n  X: '1'\nimage: python:3.11\n.template:\n  script: [t]\nbuild:\n  stage: build\n  script: [make]\npages:\n  stage: deploy\n  script: [mkdocs build]\nworkflow:\n  name: My pipeline\n",
    );
    assert!(diags.is_empty(), "{diags:?}");
    let ids: Vec<&str> = p.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["build", "pages"]);
    assert_eq!(p.name.as_deref(), Some("My pipeline"));
    assert_eq!(
        job(&p, "build").location,
        Location::new(".gitlab-ci.yml", 7)
    );
    assert_eq!(p.system, CiSystem::GitlabCi);
    assert!(!p.reusable);
}

#[test]
fn stages_defaults_and_pre_post() {
    let (p, _) = parse_one("a:\n  script: [x]\n");
    assert_eq!(p.stages, vec![".pre", "build", "test", "deploy", ".post"]);
    assert_eq!(job(&p, "a").stage.as_deref(), Some("test"));
    let (p, _) = parse_one(
        "stages: [.post, lint, .pre, ship]\na:\n  stage: ship\n  script: [x]\nfirst:\n  stage: .pre\n  script: [x]\nlast:\n  stage: .post\n  script: [x]\n",
    );
    assert_eq!(p.stages, vec![".pre", "lint", "ship", ".post"]);
    // `.pre` runs before everything and `.post` after, whatever order `stages:` says.
    let ps = vec![p];
    assert_eq!(
        edges(&ps),
        vec![
            edge("a", "last", EdgeKind::StageOrder),
            edge("first", "a", EdgeKind::StageOrder),
        ]
    );
    // Legacy `types:` is the old name of `stages:`.
    let (p, _) = parse_one("types: [one]\na:\n  stage: one\n  script: [x]\n");
    assert_eq!(p.stages, vec![".pre", "one", ".post"]);
}

#[test]
fn wrong_shapes_are_warnings() {
    let (p, diags) = parse_one(
        "stages: build\njob:\n  script: 42\nlonely: 3\nother:\n  stage: nope\n  script: [ok]\n",
    );
    let c = codes(&diags);
    assert!(c.contains(&"gitlab-shape"), "{c:?}");
    assert!(c.contains(&"stage-undefined"), "{c:?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Warning));
    // Bad `stages:` falls back to the defaults; the bad script yields no steps.
    assert_eq!(p.stages, vec![".pre", "build", "test", "deploy", ".post"]);
    assert!(job(&p, "job").steps.is_empty());
    assert!(p.job("lonely").is_none());
    assert_eq!(runs(job(&p, "other")), vec!["ok"]);
}

#[test]
fn broken_yaml_gives_located_error() {
    let (ps, diags) = parse_repo(&[(".gitlab-ci.yml", "job:\n  script: [a\n  stage: b\n")]);
    assert!(ps.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "yaml-syntax");
    assert_eq!(diags[0].severity, Severity::Error);
    let loc = diags[0].location.as_ref().unwrap();
    assert_eq!(loc.path, ".gitlab-ci.yml");
    assert!(loc.line >= 2, "{loc}");
}

#[test]
fn non_mapping_root_is_a_warning() {
    let (p, diags) = parse_one("- a\n- b\n");
    assert!(p.jobs.is_empty());
    assert_eq!(codes(&diags), vec!["gitlab-shape"]);
}

#[test]
fn steps_keep_lines_and_block_scalars() {
    let (p, _) = parse_one(
        "job:\n  before_script:\n    - pip install -r requirements.txt\n  script:\n    - pytest\n    - |\n      python train.py\n      python eval.py\n  after_script: echo done\n",
    );
    let j = job(&p, "job");
    assert_eq!(
        runs(j),
        vec![
            "pip install -r requirements.txt",
            "pytest",
            "python train.py\npython eval.py\n",
            "echo done"
        ]
    );
    let lines: Vec<u32> = j.steps.iter().map(|s| s.location.line).collect();
    assert_eq!(lines[..2], [3, 5]);
    assert!(lines[2] == 6 || lines[2] == 7, "{lines:?}");
    assert_eq!(lines[3], 9);
    let sections: Vec<&str> = j.steps.iter().filter_map(|s| s.name.as_deref()).collect();
    assert_eq!(
        sections,
        vec!["before_script", "script", "script", "after_script"]
    );
    assert!(j.steps.iter().all(|s| s.via.is_none()));
}

#[test]
fn anchors_and_merge_keys() {
    let (p, diags) = parse_one(
        ".common: &common\n  image: python:3.11\n  tags: [gpu]\n  script: [base]\njob:\n  <<: *common\n  script: [own]\nsetup_steps: &setup\n  - pip install .\nother:\n  script:\n    - *setup\n    - pytest\n",
    );
    // `setup_steps` is a list, not a job: one warning, and the alias still works.
    assert_eq!(codes(&diags), vec!["gitlab-shape"]);
    let j = job(&p, "job");
    assert_eq!(j.image.as_deref(), Some("python:3.11"));
    assert_eq!(j.runs_on, vec!["gpu"]);
    assert_eq!(runs(j), vec!["own"]);
    // A sequence aliased into a script is flattened, as GitLab does.
    assert_eq!(runs(job(&p, "other")), vec!["pip install .", "pytest"]);
}

#[test]
fn local_includes_merge_with_root_winning() {
    let (ps, diags) = parse_repo(&[
        (
            ".gitlab-ci.yml",
            "include:\n  - local: /ci/build.yml\n  - 'ci/test.yml'\nbuild:\n  image: override\n",
        ),
        (
            "ci/build.yml",
            "stages: [build, test]\nbuild:\n  stage: build\n  image: base\n  script: [make]\n",
        ),
        ("ci/test.yml", "test:\n  stage: test\n  script: [pytest]\n"),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    let p = &ps[0];
    let build = job(p, "build");
    assert_eq!(build.image.as_deref(), Some("override"));
    assert_eq!(runs(build), vec!["make"]);
    // The step is written in the included file; the job key last in the root.
    assert_eq!(build.steps[0].location, Location::new("ci/build.yml", 5));
    assert_eq!(build.steps[0].via.as_deref(), Some("ci/build.yml"));
    assert_eq!(build.location, Location::new(".gitlab-ci.yml", 4));
    let test = job(p, "test");
    assert_eq!(test.location, Location::new("ci/test.yml", 1));
    assert!(test.steps[0].via.is_none());
    assert_eq!(p.stages, vec![".pre", "build", "test", ".post"]);
    let included: Vec<(&str, bool, Option<&str>)> = p
        .includes
        .iter()
        .map(|i| (i.kind.as_str(), i.target.resolved, i.target.path.as_deref()))
        .collect();
    assert_eq!(
        included,
        vec![
            ("local", true, Some("ci/build.yml")),
            ("local", true, Some("ci/test.yml"))
        ]
    );
    assert_eq!(
        edges(&ps),
        vec![edge("build", "test", EdgeKind::StageOrder)]
    );
}

#[test]
fn include_string_form_wildcards_and_nesting() {
    let (ps, diags) = parse_repo(&[
        (".gitlab-ci.yml", "include: 'configs/*.yml'\n"),
        (
            "configs/a.yml",
            "include:\n  local: nested/deep.yml\na:\n  script: [a]\n",
        ),
        ("configs/b.yml", "b:\n  script: [b]\n"),
        ("configs/sub/c.yml", "c:\n  script: [c]\n"),
        ("nested/deep.yml", "deep:\n  script: [d]\n"),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    let ids: Vec<&str> = ps[0].jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["deep", "a", "b"]);
    assert_eq!(
        job(&ps[0], "deep").location,
        Location::new("nested/deep.yml", 1)
    );
}

#[test]
fn include_cycles_and_missing_files() {
    let (ps, diags) = parse_repo(&[
        (
            ".gitlab-ci.yml",
            "include: [a.yml, missing.yml]\nroot:\n  script: [r]\n",
        ),
        ("a.yml", "include: b.yml\na:\n  script: [a]\n"),
        ("b.yml", "include: a.yml\nb:\n  script: [b]\n"),
    ]);
    let c = codes(&diags);
    assert!(c.contains(&"include-cycle"), "{c:?}");
    assert!(c.contains(&"include-missing"), "{c:?}");
    let missing = diags.iter().find(|d| d.code == "include-missing").unwrap();
    assert_eq!(missing.severity, Severity::Warning);
    assert_eq!(missing.location, Some(Location::new(".gitlab-ci.yml", 1)));
    let ids: Vec<&str> = ps[0].jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec!["b", "a", "root"]);
    let unresolved: Vec<&str> = ps[0]
        .includes
        .iter()
        .filter(|i| !i.target.resolved)
        .map(|i| i.target.target.as_str())
        .collect();
    assert_eq!(unresolved, vec!["missing.yml"]);
}

#[test]
fn include_with_variable_is_unresolved_not_missing() {
    let (p, diags) = parse_one("include:\n  - local: ci/$ENVIRONMENT.yml\nj:\n  script: [x]\n");
    assert_eq!(codes(&diags), vec!["include-unresolved"]);
    assert!(p.includes[0].target.local && !p.includes[0].target.resolved);
    assert_eq!(
        p.includes[0].unresolved_reason.as_deref(),
        Some("the path uses a CI/CD variable")
    );
}

#[test]
fn include_chains_are_bounded() {
    let texts: Vec<(String, String)> = (0..160)
        .map(|i| {
            let path = if i == 0 {
                ".gitlab-ci.yml".to_string()
            } else {
                format!("ci/{i}.yml")
            };
            (
                path,
                format!("include: ci/{}.yml\njob{i}:\n  script: [x]\n", i + 1),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (ps, diags) = parse_repo(&refs);
    assert_eq!(codes(&diags), vec!["include-limit"]);
    // The root plus 100 nested levels made it in.
    assert_eq!(ps[0].jobs.len(), 101);
    assert_eq!(ps[0].includes.len(), 100);
}

#[test]
fn include_self_is_a_cycle() {
    let (ps, diags) = parse_repo(&[(
        ".gitlab-ci.yml",
        "include: .gitlab-ci.yml\nj:\n  script: [x]\n",
    )]);
    assert_eq!(codes(&diags), vec!["include-cycle"]);
    assert_eq!(ps[0].jobs.len(), 1);
}

#[test]
fn remote_project_template_component_are_recorded_unresolved() {
    let (p, diags) = parse_one(
        "include:\n  - remote: https://example.com/ci.yml\n  - project: group/ci\n    file: /templates/build.yml\n  - template: Security/SAST.gitlab-ci.yml\n  - component: gitlab.com/org/comp/build@1.0\njob:\n  script: [x]\n",
    );
    let kinds: Vec<&str> = p.includes.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, vec!["remote", "project", "template", "component"]);
    for inc in &p.includes {
        assert!(!inc.target.resolved && !inc.target.local);
        assert_eq!(
            inc.unresolved_reason.as_deref(),
            Some("not fetched in local mode")
        );
    }
    assert_eq!(
        p.includes[1].target.target,
        "project: group/ci file: /templates/build.yml"
    );
    assert_eq!(p.includes[2].location, Location::new(".gitlab-ci.yml", 5));
    assert_eq!(codes(&diags), vec!["include-unresolved"; 4]);
    assert!(diags.iter().all(|d| d.severity == Severity::Info));
}

#[test]
fn extends_multi_level_with_locations_in_other_files() {
    let (ps, diags) = parse_repo(&[
        (
            ".gitlab-ci.yml",
            "include: templates.yml\ntrain:\n  extends: [.python, .gpu]\n  variables:\n    EPOCHS: '3'\n  script:\n    - python train.py\n",
        ),
        (
            "templates.yml",
            ".base:\n  before_script:\n    - pip install -r requirements.txt\n  variables:\n    EPOCHS: '1'\n    SEED: '42'\n.python:\n  extends: .base\n  image: python:3.11\n  script: [replaced]\n.gpu:\n  tags: [gpu]\n",
        ),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    let train = job(&ps[0], "train");
    assert_eq!(train.location, Location::new(".gitlab-ci.yml", 2));
    assert_eq!(train.image.as_deref(), Some("python:3.11"));
    assert_eq!(train.runs_on, vec!["gpu"]);
    // Arrays are replaced: the job's own script wins over `.python`'s.
    assert_eq!(
        runs(train),
        vec!["pip install -r requirements.txt", "python train.py"]
    );
    assert_eq!(train.steps[0].location, Location::new("templates.yml", 3));
    assert_eq!(train.steps[0].via.as_deref(), Some("templates.yml"));
    assert_eq!(train.steps[1].location, Location::new(".gitlab-ci.yml", 7));
    assert!(train.steps[1].via.is_none());
    assert_eq!(ps[0].jobs.len(), 1, "templates are not jobs");
}

#[test]
fn extends_missing_and_cycle_warn_but_keep_the_job() {
    let (p, diags) = parse_one(
        "job:\n  extends: .from-elsewhere\n  script: [x]\n.a:\n  extends: .b\n.b:\n  extends: .a\nc:\n  extends: .a\n  script: [c]\n",
    );
    let c = codes(&diags);
    assert!(c.contains(&"extends-missing"), "{c:?}");
    assert!(c.contains(&"extends-cycle"), "{c:?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!(runs(job(&p, "job")), vec!["x"]);
    assert_eq!(runs(job(&p, "c")), vec!["c"]);
    let missing = diags.iter().find(|d| d.code == "extends-missing").unwrap();
    assert_eq!(missing.location, Some(Location::new(".gitlab-ci.yml", 2)));
}

#[test]
fn references_across_files_flatten_and_nest() {
    let (ps, diags) = parse_repo(&[
        (
            ".gitlab-ci.yml",
            "include: shared.yml\ntest:\n  script:\n    - !reference [.setup, script]\n    - pytest\n  rules:\n    - !reference [.rules, rules]\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n",
        ),
        (
            "shared.yml",
            ".install:\n  script: [pip install .]\n.setup:\n  script:\n    - !reference [.install, script]\n    - export X=1\n.rules:\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n",
        ),
    ]);
    assert!(diags.is_empty(), "{diags:?}");
    let test = job(&ps[0], "test");
    assert_eq!(runs(test), vec!["pip install .", "export X=1", "pytest"]);
    assert_eq!(test.steps[0].location, Location::new("shared.yml", 2));
    assert_eq!(test.steps[0].via.as_deref(), Some("shared.yml"));
    assert_eq!(test.steps[2].location, Location::new(".gitlab-ci.yml", 5));
    assert_eq!(
        test.conditions,
        vec![
            "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
            "$CI_PIPELINE_SOURCE == \"merge_request_event\""
        ]
    );
}

#[test]
fn references_to_inherited_keys_and_missing_targets() {
    let (p, diags) = parse_one(
        ".base:\n  script: [from-base]\n.child:\n  extends: .base\njob:\n  script:\n    - !reference [.child, script]\n    - !reference [.nothing, script]\n",
    );
    assert_eq!(codes(&diags), vec!["reference-missing"]);
    assert_eq!(runs(job(&p, "job")), vec!["from-base"]);
}

#[test]
fn pathological_chains_are_bounded() {
    // A reference bomb: each level doubles the size.
    let mut text = String::from(".l0:\n  script: [x, y]\n");
    for i in 1..40 {
        text.push_str(&format!(
            ".l{i}:\n  script:\n    - !reference [.l{p}, script]\n    - !reference [.l{p}, script]\n",
            p = i - 1
        ));
    }
    text.push_str("job:\n  script:\n    - !reference [.l39, script]\n");
    // A long extends chain.
    for i in 0..300 {
        text.push_str(&format!(".e{}:\n  extends: .e{i}\n", i + 1));
    }
    text.push_str(".e0:\n  script: [e]\nchain:\n  extends: .e300\n");
    let started = std::time::Instant::now();
    let (p, diags) = parse_one(&text);
    assert!(started.elapsed().as_secs() < 20);
    let c = codes(&diags);
    assert!(
        c.contains(&"reference-depth") || c.contains(&"reference-limit"),
        "{c:?}"
    );
    // One warning per place, not one per expansion.
    assert!(c.len() < 100, "{} diagnostics", c.len());
    assert!(c.contains(&"extends-depth"), "{c:?}");
    assert!(p.job("job").is_some() && p.job("chain").is_some());
}

#[test]
fn default_and_legacy_globals_with_inherit() {
    let (p, diags) = parse_one(
        "image: legacy:1\nbefore_script: [legacy-setup]\ncache:\n  paths: [.pip]\ndefault:\n  image: python:3.11\n  services: [postgres:15, {name: redis:7}]\n  tags: [docker]\n  artifacts:\n    reports:\n      junit: report.xml\nplain:\n  script: [pytest]\nopt_out:\n  inherit:\n    default: false\n  script: [x]\npartial:\n  inherit:\n    default: [tags]\n  image: own\n  script: [y]\n",
    );
    assert!(diags.is_empty(), "{diags:?}");
    let plain = job(&p, "plain");
    assert_eq!(plain.image.as_deref(), Some("python:3.11"));
    assert_eq!(plain.services, vec!["postgres:15", "redis:7"]);
    assert_eq!(plain.runs_on, vec!["docker"]);
    assert_eq!(plain.artifact_reports, vec!["junit"]);
    assert!(plain.cache);
    assert_eq!(runs(plain), vec!["legacy-setup", "pytest"]);
    assert_eq!(plain.steps[0].location, Location::new(".gitlab-ci.yml", 2));
    let opt_out = job(&p, "opt_out");
    assert!(opt_out.image.is_none() && opt_out.runs_on.is_empty() && !opt_out.cache);
    assert_eq!(runs(opt_out), vec!["x"]);
    let partial = job(&p, "partial");
    assert_eq!(partial.image.as_deref(), Some("own"));
    assert_eq!(partial.runs_on, vec!["docker"]);
    assert!(partial.services.is_empty());
}

#[test]
fn default_steps_from_included_file_keep_their_file() {
    let (ps, _) = parse_repo(&[
        (
            ".gitlab-ci.yml",
            "include: defaults.yml\njob:\n  script: [run]\n",
        ),
        (
            "defaults.yml",
            "default:\n  before_script:\n    - source env.sh\n",
        ),
    ]);
    let j = job(&ps[0], "job");
    assert_eq!(j.steps[0].location, Location::new("defaults.yml", 3));
    assert_eq!(j.steps[0].via.as_deref(), Some("defaults.yml"));
}

#[test]
fn needs_shapes_and_graph_edges() {
    let (p, diags) = parse_one(
        "stages: [build, test, deploy]\nbuild:\n  stage: build\n  script: [make]\nlint:\n  stage: test\n  needs: []\n  script: [ruff]\nunit:\n  stage: test\n  needs:\n    - build\n    - job: lint\n      optional: true\n      artifacts: false\n    - pipeline: $PARENT_PIPELINE_ID\n      job: generate\ndeploy:\n  stage: deploy\n  script: [ship]\n",
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(job(&p, "build").needs, None);
    assert_eq!(job(&p, "lint").needs, Some(vec![]));
    let unit = job(&p, "unit");
    assert_eq!(
        unit.needs,
        Some(vec!["build".to_string(), "lint".to_string()])
    );
    assert_eq!(
        unit.conditions,
        vec!["needs: pipeline $PARENT_PIPELINE_ID job generate"]
    );
    let ps = vec![p];
    assert_eq!(
        edges(&ps),
        vec![
            edge("build", "unit", EdgeKind::Needs),
            edge("lint", "deploy", EdgeKind::StageOrder),
            edge("lint", "unit", EdgeKind::Needs),
            edge("unit", "deploy", EdgeKind::StageOrder),
        ]
    );
    let g = JobGraph::build(&ps);
    let deploy = g.node(0, "deploy").unwrap();
    let unit = g.node(0, "unit").unwrap();
    let lint = g.node(0, "lint").unwrap();
    assert!(g.reachable_avoiding(deploy, |n| n == unit));
    assert!(!g.reachable_avoiding(deploy, |n| n == unit || n == lint));
}

#[test]
fn rules_manual_disabled_and_conditions() {
    let (p, _) = parse_one(
        "deploy_prod:\n  stage: deploy\n  script: [ship]\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n      changes: [model/**]\n      when: manual\n    - exists: [Dockerfile]\n  allow_failure: false\noff:\n  script: [x]\n  rules:\n    - if: $A\n      when: never\n    - when: never\nsometimes_off:\n  script: [x]\n  rules:\n    - if: $A\n      when: never\n    - when: on_success\n",
    );
    let d = job(&p, "deploy_prod");
    assert!(d.manual);
    assert!(!d.may_fail);
    assert!(!d.disabled);
    assert_eq!(
        d.conditions,
        vec![
            "$CI_COMMIT_BRANCH == \"main\" && changes: model/** (when: manual)",
            "exists: Dockerfile"
        ]
    );
    assert!(job(&p, "off").disabled);
    assert!(!job(&p, "sometimes_off").disabled);
}

#[test]
fn only_except_when_and_allow_failure() {
    let (p, _) = parse_one(
        "a:\n  script: [x]\n  only:\n    refs: [main, tags]\n    variables: [$RELEASE == \"yes\"]\n    kubernetes: active\n  except: [schedules]\n  when: manual\nb:\n  script: [x]\n  when: delayed\n  start_in: 30 minutes\n  allow_failure:\n    exit_codes: [137]\nc:\n  script: [x]\n  allow_failure: true\n  when: always\n",
    );
    let a = job(&p, "a");
    assert!(a.manual);
    // Kept as written even though GitLab would default a manual job to allow_failure.
    assert!(!a.may_fail);
    assert_eq!(
        a.conditions,
        vec![
            "only refs: main, tags",
            "only variables: $RELEASE == \"yes\"",
            "only kubernetes: active",
            "except: schedules"
        ]
    );
    let b = job(&p, "b");
    assert!(b.may_fail && !b.manual);
    assert_eq!(b.conditions, vec!["when: delayed (start_in: 30 minutes)"]);
    let c = job(&p, "c");
    assert!(c.may_fail);
    assert_eq!(c.conditions, vec!["when: always"]);
}

#[test]
fn environments() {
    let (p, _) = parse_one(
        "staging:\n  script: [x]\n  environment: staging\nprod:\n  script: [x]\n  environment:\n    name: production\n    url: https://example.com\n    action: start\n    deployment_tier: production\n    auto_stop_in: 1 day\nreview:\n  script: [x]\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n    action: stop\n",
    );
    let s = job(&p, "staging").environment.as_ref().unwrap();
    assert_eq!((s.name.as_str(), s.dynamic), ("staging", false));
    assert_eq!(s.location, Location::new(".gitlab-ci.yml", 3));
    let prod = job(&p, "prod").environment.as_ref().unwrap();
    assert_eq!(prod.name, "production");
    assert_eq!(prod.url.as_deref(), Some("https://example.com"));
    assert_eq!(prod.action.as_deref(), Some("start"));
    assert_eq!(prod.tier.as_deref(), Some("production"));
    let review = job(&p, "review").environment.as_ref().unwrap();
    assert!(review.dynamic);
    assert_eq!(review.action.as_deref(), Some("stop"));
}

#[test]
fn parallel_matrix_and_count() {
    let (p, _) = parse_one(
        "m:\n  script: [x]\n  parallel:\n    matrix:\n      - PY: ['3.10', '3.11']\n        OS: linux\n      - PY: '3.12'\n        OS: [mac]\nn:\n  script: [x]\n  parallel: 4\n",
    );
    let m = job(&p, "m").matrix.as_ref().unwrap();
    assert_eq!(m.dimensions["PY"], vec!["3.10", "3.11", "3.12"]);
    assert_eq!(m.dimensions["OS"], vec!["linux", "mac"]);
    let n = job(&p, "n").matrix.as_ref().unwrap();
    assert_eq!(n.dimensions["*"], vec!["4"]);
}

#[test]
fn image_services_artifacts_cache() {
    let (p, _) = parse_one(
        "j:\n  image:\n    name: registry/x:1\n    entrypoint: ['']\n  services:\n    - name: docker:dind\n      alias: docker\n  tags: [gpu, large]\n  artifacts:\n    paths: [model/, metrics.json]\n    reports:\n      junit: junit.xml\n      coverage_report:\n        coverage_format: cobertura\n        path: coverage.xml\n      dotenv: build.env\n  cache:\n    key: pip\n    paths: [.cache/pip]\n  script: [x]\nk:\n  script: [x]\n  cache: []\n",
    );
    let j = job(&p, "j");
    assert_eq!(j.image.as_deref(), Some("registry/x:1"));
    assert_eq!(j.services, vec!["docker:dind"]);
    assert_eq!(j.runs_on, vec!["gpu", "large"]);
    assert_eq!(j.artifact_paths, vec!["model/", "metrics.json"]);
    assert_eq!(
        j.artifact_reports,
        vec!["junit", "coverage_report", "dotenv"]
    );
    assert!(j.cache);
    assert!(!job(&p, "k").cache);
}

#[test]
fn trigger_shapes() {
    let (p, _) = parse_one(
        "a:\n  trigger: group/downstream\nb:\n  trigger:\n    project: group/deploy\n    branch: main\n    strategy: depend\nc:\n  trigger:\n    include:\n      - artifact: generated.yml\n        job: gen\n",
    );
    let a = job(&p, "a").triggers.as_ref().unwrap();
    assert_eq!(
        (a.target.as_str(), a.local, a.resolved),
        ("group/downstream", false, false)
    );
    let b = job(&p, "b").triggers.as_ref().unwrap();
    assert_eq!(b.target, "project: group/deploy branch: main");
    let c = job(&p, "c").triggers.as_ref().unwrap();
    assert!(!c.local && c.target.starts_with("artifact: generated.yml"));
}

#[test]
fn child_pipelines_are_parsed_and_linked() {
    let (ps, diags) = parse_repo(&[
        (
            ".gitlab-ci.yml",
            "stages: [build, deploy]\nbuild:\n  stage: build\n  script: [make]\ntrigger_ml:\n  stage: deploy\n  trigger:\n    include: ml/.gitlab-ci.yml\n    strategy: depend\ntrigger_docs:\n  stage: deploy\n  trigger:\n    include:\n      - local: /docs/ci.yml\nmissing_child:\n  stage: deploy\n  trigger:\n    include: nope.yml\n",
        ),
        (
            "ml/.gitlab-ci.yml",
            "stages: [train, evaluate]\ntrain:\n  stage: train\n  script: [python train.py]\nevaluate:\n  stage: evaluate\n  script: [python eval.py]\n",
        ),
        (
            "docs/ci.yml",
            "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"parent_pipeline\"\npages:\n  script: [mkdocs build]\n",
        ),
    ]);
    assert_eq!(codes(&diags), vec!["include-missing"]);
    let ids: Vec<(&str, bool)> = ps.iter().map(|p| (p.id.as_str(), p.reusable)).collect();
    assert_eq!(
        ids,
        vec![
            (".gitlab-ci.yml", false),
            ("ml/.gitlab-ci.yml", true),
            ("docs/ci.yml", true)
        ]
    );
    let t = job(&ps[0], "trigger_ml").triggers.as_ref().unwrap();
    assert!(t.local && t.resolved);
    assert_eq!(t.path.as_deref(), Some("ml/.gitlab-ci.yml"));
    let missing = job(&ps[0], "missing_child").triggers.as_ref().unwrap();
    assert!(missing.local && !missing.resolved);
    // Child pipelines start from their parent, not on push.
    assert!(ps[1].has_trigger(&TriggerKind::Upstream));
    assert!(!ps[1].has_trigger(&TriggerKind::Push));
    assert_eq!(
        ps[1].triggers[0].location,
        Location::new(".gitlab-ci.yml", 5)
    );
    let all = edges(&ps);
    assert!(
        all.contains(&edge(
            "trigger_ml",
            "ml/.gitlab-ci.yml#train",
            EdgeKind::Triggers
        )),
        "{all:?}"
    );
    assert!(!all.contains(&edge(
        "trigger_ml",
        "ml/.gitlab-ci.yml#evaluate",
        EdgeKind::Triggers
    )));
    assert!(all.contains(&edge(
        "trigger_docs",
        "docs/ci.yml#pages",
        EdgeKind::Triggers
    )));
    assert!(all.contains(&edge(
        "ml/.gitlab-ci.yml#train",
        "ml/.gitlab-ci.yml#evaluate",
        EdgeKind::StageOrder
    )));
    let g = JobGraph::build(&ps);
    let evaluate = g.node(1, "evaluate").unwrap();
    let build = g.node(0, "build").unwrap();
    assert!(g.ancestors(evaluate).contains(&build));
}

#[test]
fn child_pipeline_cycles_terminate() {
    let (ps, _) = parse_repo(&[
        (".gitlab-ci.yml", "go:\n  trigger:\n    include: a.yml\n"),
        (
            "a.yml",
            "back:\n  trigger:\n    include: .gitlab-ci.yml\nnext:\n  trigger:\n    include: a.yml\n",
        ),
    ]);
    let ids: Vec<&str> = ps.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec![".gitlab-ci.yml", "a.yml"]);
}

#[test]
fn default_push_trigger_without_workflow_rules() {
    let (p, _) = parse_one("job:\n  script: [x]\n");
    assert_eq!(p.triggers.len(), 1);
    let t = &p.triggers[0];
    assert_eq!(t.kind, TriggerKind::Push);
    assert_eq!(t.detail, vec!["default: every push"]);
    assert_eq!(t.location, Location::new(".gitlab-ci.yml", 1));
}

#[test]
fn workflow_rules_and_job_rules_give_triggers() {
    let (p, _) = parse_one(
        "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS\n      when: never\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n    - if: $CI_COMMIT_TAG\n    - if: $CI_MERGE_REQUEST_EVENT_TYPE == \"merge_train\"\n    - if: $CI_PIPELINE_SOURCE == \"web\"\n    - if: $CI_PIPELINE_SOURCE == \"api\"\nretrain:\n  script: [python train.py]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\nrelease:\n  script: [x]\n  only: [tags, /^release-.*$/]\n",
    );
    let kinds: Vec<(TriggerKind, Vec<String>, u32)> = p
        .triggers
        .iter()
        .map(|t| (t.kind.clone(), t.branches.clone(), t.location.line))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (TriggerKind::PullRequest, vec![], 3),
            (TriggerKind::Push, vec!["$CI_DEFAULT_BRANCH".to_string()], 6),
            (TriggerKind::Tag, vec![], 7),
            (TriggerKind::MergeQueue, vec![], 8),
            (TriggerKind::Manual, vec![], 9),
            (TriggerKind::Api, vec![], 10),
            (TriggerKind::Schedule, vec![], 14),
            (TriggerKind::Push, vec!["/^release-.*$/".to_string()], 17),
        ]
    );
    // Workflow rules replace the default push trigger.
    assert!(
        !p.triggers
            .iter()
            .any(|t| t.detail == vec!["default: every push"])
    );
}

#[test]
fn parse_file_reads_templates_standalone() {
    let set = fileset(&[]);
    let mut diags = Vec::new();
    let p = parse_file(
        "templates/Python.gitlab-ci.yml",
        "spec:\n  inputs:\n    stage:\n      default: test\n---\ntest:\n  extends: .from-another-template\n  stage: $[[ inputs.stage ]]\n  script: [pytest]\n",
        &set,
        &mut diags,
    )
    .unwrap();
    assert_eq!(p.id, "templates/Python.gitlab-ci.yml");
    assert_eq!(job(&p, "test").location.line, 6);
    assert!(diags.iter().all(|d| d.severity != Severity::Error));
    assert!(codes(&diags).contains(&"extends-missing"));
}

#[test]
fn hostile_inputs_do_not_panic() {
    let cases = [
        "",
        "~",
        "[]",
        "42",
        "job:\n",
        "job: [1, 2]\n",
        "job:\n  script: {a: b}\n  needs: 5\n  rules: 7\n  parallel: {matrix: 3}\n  environment: {url: x}\n  trigger: 5\n  extends: {a: 1}\n",
        "include: 5\n",
        "include: [{local: null}, {}, [1]]\n",
        "job:\n  script:\n    - !reference 5\n    - !reference []\n",
        "default: 5\nstages: {a: 1}\nworkflow: [1]\n",
        "a: &a [*a]\n",
    ];
    for text in cases {
        let set = fileset(&[(".gitlab-ci.yml", text)]);
        let mut diags = Vec::new();
        let _ = parse_pipelines(&set, &mut diags);
    }
}
