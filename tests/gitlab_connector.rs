//! The GitLab connector against a loopback replay of GitLab's REST API v4 (no
//! test reaches gitlab.com): files equal to the local connector's, keyset and
//! offset pagination, the ETag and blob caches, `RateLimit-*` and `Retry-After`,
//! 5xx retries, refusals mapped to `NotVisible` with the scope to grant, a
//! self-managed instance under a path prefix, `include: project` across
//! projects, the request budget, and the token never showing up anywhere.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mlops_maturity::connect::gitlab::{self, GitlabError, GitlabOptions, RequestStats, Token};
use mlops_maturity::connect::{ConnectOptions, scan_local};
use mlops_maturity::evidence::{Observed, Snapshot};
use support::gitlab::{GitlabFixture, HEAD_SHA, PIPELINES, PROJECT, PROJECT_ENCODED};
use support::{Replay, Reply};

const SECRET: &str = "glpat-TESTSECRETvalue0123456789";

fn mature_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos/mature-gitlab")
}

fn options(api_url: String, cache: &Path) -> GitlabOptions {
    GitlabOptions {
        api_url,
        token: Some(Token::new(SECRET)),
        git_ref: None,
        cache_dir: Some(cache.to_path_buf()),
        history_window_days: 30,
        max_requests: 300,
        max_wait: Duration::from_secs(10),
    }
}

/// The mature fixture served by a self-managed instance under `/gitlab`.
async fn mature_replay() -> (Replay, GitlabFixture) {
    let replay = Replay::start_gitlab().await;
    let fixture = GitlabFixture::from_dir(&mature_dir()).with_prefix("/gitlab/api/v4");
    fixture.install(&replay);
    (replay, fixture)
}

async fn scan(opts: &GitlabOptions) -> Result<(Snapshot, RequestStats), GitlabError> {
    gitlab::scan(PROJECT, opts).await
}

fn codes(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .diagnostics
        .iter()
        .map(|d| d.code.clone())
        .collect()
}

#[tokio::test]
async fn self_managed_scan_reads_the_files_and_the_history() {
    let (replay, fixture) = mature_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    let local = scan_local(&mature_dir(), &ConnectOptions::default()).unwrap();

    // Every file of the tree (over several keyset pages), the texts equal to the
    // local connector's; GitLab's tree has no sizes, so unread files have none.
    let remote_paths: Vec<_> = snap.files.iter().map(|f| f.path.clone()).collect();
    let local_paths: Vec<_> = local.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(remote_paths, local_paths);
    for f in local.files.iter().filter(|f| f.content.is_some()) {
        assert_eq!(snap.files.get(&f.path), Some(f), "{}", f.path);
    }
    assert_eq!(snap.pipelines, local.pipelines);
    assert_eq!(snap.stats.files_read, local.stats.files_read);
    assert_eq!(snap.stats.bytes_read, local.stats.bytes_read);
    assert_eq!(snap.source.kind, "gitlab");
    assert_eq!(snap.source.target, format!("gitlab:{PROJECT}"));
    assert_eq!(snap.source.revision.as_deref(), Some(HEAD_SHA));
    assert!(
        stats.by_family["repository/tree"] >= 3,
        "keyset pages followed: {:?}",
        stats.by_family
    );
    assert_eq!(
        stats.by_family["graphql"], 1,
        "all texts in one GraphQL query"
    );
    assert_eq!(stats.by_family.get("repository/blobs"), None);
    assert_eq!(
        stats.by_family["graphql"], 1,
        "all texts in one GraphQL query"
    );
    assert_eq!(stats.by_family.get("repository/blobs"), None);

    // Pipelines over three offset pages (Link on the first, x-next-page after).
    let runs = snap.api.runs.items().unwrap();
    assert_eq!(runs.len(), PIPELINES);
    assert_eq!(stats.by_family["pipelines"], 3);
    assert_eq!(runs[0].event, "schedule");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failed"));
    assert_eq!(runs[1].duration_seconds, Some(600.0), "from the detail");
    let undetailed = runs
        .iter()
        .rev()
        .find(|r| r.conclusion.as_deref() == Some("success"))
        .unwrap();
    assert_eq!(
        undetailed.duration_seconds,
        Some(1200.0),
        "updated − created"
    );
    assert_eq!(
        stats.by_family["pipelines/detail"] as usize, 10,
        "details for the newest finished pipelines only"
    );
    let window = replay
        .seen()
        .into_iter()
        .find(|s| s.path().ends_with("/pipelines"))
        .unwrap();
    assert!(
        window.target.contains("updated_after=20"),
        "{}",
        window.target
    );

    let deployments = snap.api.deployments.items().unwrap();
    assert_eq!(deployments.len(), 3);
    assert_eq!(deployments[0].environment, "production");
    assert_eq!(deployments[2].statuses[0].state, "failed");
    let envs = snap.api.environments.items().unwrap();
    let prod = envs.iter().find(|e| e.name == "production").unwrap();
    assert_eq!(prod.tier.as_deref(), Some("production"));
    assert_eq!(prod.required_reviewers, 2, "from the approval rules");
    let staging = envs.iter().find(|e| e.name == "staging").unwrap();
    assert_eq!(staging.required_reviewers, 0);

    let protection = snap.api.branch_protection.items().unwrap();
    assert_eq!(protection.len(), 1);
    assert_eq!(protection[0].branch, "main");
    assert_eq!(protection[0].required_reviews, 2);
    assert!(protection[0].code_owner_reviews && protection[0].linear_history);
    assert_eq!(protection[0].required_checks, ["pipeline must succeed"]);

    assert_eq!(snap.api.releases.items().unwrap().len(), 2);
    let versions = snap.api.registry_versions.items().unwrap();
    let kinds: Vec<_> = versions
        .iter()
        .map(|v| (v.kind.as_str(), v.name.as_str(), v.version.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("container", PROJECT, "1.2.0"),
            ("container", PROJECT, "latest"),
            ("model", "fraud-detector", "3"),
            ("pypi", "fraud-features", "0.4.1"),
        ],
        "the ml_model package is the registered model, listed once"
    );
    let git = snap.git.as_ref().unwrap();
    assert_eq!(git.tags.len(), 2);
    assert_eq!(git.current_branch.as_deref(), Some("main"));
    assert_eq!(git.recent_commits[0].subject, "Train with new data");

    // Every request went under the prefix, with PRIVATE-TOKEN and no bearer.
    for seen in replay.seen() {
        assert!(
            seen.target.starts_with("/gitlab/api/v4/") || seen.target == "/gitlab/api/graphql",
            "{}",
            seen.target
        );
        assert_eq!(
            seen.headers.get("private-token").map(String::as_str),
            Some(SECRET)
        );
        assert!(!seen.headers.contains_key("authorization"));
    }
    assert!(
        (25..=40).contains(&stats.total),
        "cold scan used {} requests: {:?}",
        stats.total,
        stats.by_family
    );
    let json = serde_json::to_string(&snap).unwrap();
    assert!(!json.contains(SECRET));
}

#[tokio::test]
async fn rescan_answers_from_the_etag_and_blob_caches() {
    let (replay, fixture) = mature_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let opts = options(fixture.api_url(&replay), cache.path());
    let (cold, cold_stats) = scan(&opts).await.unwrap();
    replay.clear_seen();
    let (warm, warm_stats) = scan(&opts).await.unwrap();
    assert_eq!(warm.files, cold.files);
    assert_eq!(warm.api, cold.api);
    assert_eq!(warm.pipelines, cold.pipelines);
    assert_eq!(warm_stats.by_family.get("repository/blobs"), None);
    assert_eq!(warm_stats.blobs_from_cache as u64, cold.stats.files_read);
    // Every answer is a 304; on a loaded machine a slow attempt may be retried once,
    // and only the retried attempt is not a 304.
    assert_eq!(
        warm_stats.not_modified + warm_stats.retries,
        warm_stats.total,
        "{warm_stats:?}"
    );
    assert!(warm_stats.total < cold_stats.total);
    assert!(
        replay
            .seen()
            .iter()
            .all(|s| s.headers.contains_key("if-none-match"))
    );
}

#[tokio::test]
async fn texts_come_by_rest_when_graphql_is_refused() {
    let (replay, fixture) = mature_replay().await;
    replay.route(
        "POST",
        &fixture.graphql_path(),
        vec![Reply::gitlab_error(403, "403 Forbidden")],
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    let local = scan_local(&mature_dir(), &ConnectOptions::default()).unwrap();
    assert_eq!(stats.by_family["graphql"], 1, "tried once, then REST");
    assert_eq!(
        u64::from(stats.by_family["repository/blobs"]),
        local.stats.files_read
    );
    assert_eq!(snap.pipelines, local.pipelines);
    for f in local.files.iter().filter(|f| f.content.is_some()) {
        assert_eq!(snap.files.get(&f.path), Some(f), "{}", f.path);
    }
}

#[tokio::test]
async fn retry_after_429_is_waited_out_and_a_long_one_stops_the_scan() {
    let (replay, fixture) = mature_replay().await;
    let project = format!("{}/projects/{PROJECT_ENCODED}", fixture.prefix);
    let limited = Reply::gitlab_error(429, "Retry later")
        .header("retry-after", "1")
        .header("ratelimit-remaining", "0")
        .header("ratelimit-limit", "2000");
    replay.route(
        "GET",
        &project,
        vec![
            limited,
            Reply::value(&serde_json::json!({
                "id": support::gitlab::PROJECT_ID, "path_with_namespace": PROJECT, "default_branch": "main",
            })),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    assert!(stats.waited_seconds >= 1.0, "{stats:?}");
    assert_eq!(stats.by_family["project"], 2);
    assert!(snap.api.runs.items().is_some());

    replay.get(
        &project,
        Reply::gitlab_error(429, "Retry later").header("retry-after", "3600"),
    );
    let err = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GitlabError::RateLimited {
                wait_seconds: 3600,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn spent_ratelimit_remaining_waits_for_the_reset() {
    let (replay, fixture) = mature_replay().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    replay.get(
        &format!("{}/projects/{PROJECT_ENCODED}", fixture.prefix),
        Reply::value(&serde_json::json!({
            "id": support::gitlab::PROJECT_ID, "path_with_namespace": PROJECT, "default_branch": "main",
        }))
        .header("ratelimit-remaining", "0")
        .header("ratelimit-reset", reset.to_string()),
    );
    let cache = tempfile::tempdir().unwrap();
    let (_, stats) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    assert!(
        stats.waited_seconds >= 1.0,
        "waited before the next request: {stats:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (replay, fixture) = mature_replay().await;
    replay.route(
        "GET",
        &fixture.p("/releases?per_page=100"),
        vec![
            Reply::gitlab_error(502, "502 Bad Gateway"),
            Reply::gitlab_error(500, "500 Internal Server Error"),
            Reply::value(
                &serde_json::json!([{"tag_name": "v9", "created_at": "2026-11-01T00:00:00Z"}]),
            ),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    assert_eq!(stats.retries, 2);
    assert_eq!(snap.api.releases.items().unwrap()[0].tag, "v9");
}

#[tokio::test]
async fn refusals_are_not_visible_with_the_scope_and_role_to_grant() {
    let (replay, fixture) = mature_replay().await;
    replay.get(
        &fixture.p("/pipelines"),
        Reply::gitlab_error(403, "403 Forbidden"),
    );
    replay.get(
        &fixture.p("/protected_environments"),
        Reply::gitlab_error(403, "403 Forbidden"),
    );
    for path in [
        "/registry/repositories",
        "/packages",
        "/ml/mlflow/api/2.0/mlflow/registered-models/search",
    ] {
        replay.get(&fixture.p(path), Reply::gitlab_error(404, "404 Not found"));
    }
    replay.get(
        &fixture.p("/protected_branches"),
        Reply::gitlab_error(401, "401 Unauthorized"),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, _) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    match &snap.api.runs {
        Observed::NotVisible { reason } => {
            assert!(
                reason.contains("read_api") && reason.contains("Reporter"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        snap.api.registry_versions,
        Observed::NotVisible { .. }
    ));
    assert!(matches!(
        snap.api.branch_protection,
        Observed::NotVisible { .. }
    ));
    // Environments are still collected; their approvals are unknown (0) and said so.
    let envs = snap.api.environments.items().unwrap();
    assert!(envs.iter().all(|e| e.required_reviewers == 0));
    let not_visible: Vec<_> = snap
        .diagnostics
        .iter()
        .filter(|d| d.code == "gitlab-not-visible")
        .map(|d| d.message.clone())
        .collect();
    assert!(
        not_visible
            .iter()
            .any(|m| m.starts_with("protected environments") && m.contains("Maintainer")),
        "{not_visible:#?}"
    );
    assert!(
        not_visible
            .iter()
            .all(|m| m.contains("Not read as an absent practice"))
    );
    // Deployments stay visible.
    assert_eq!(snap.api.deployments.items().unwrap().len(), 3);
}

#[tokio::test]
async fn missing_project_and_refused_token_stop_the_scan_without_the_token() {
    let replay = Replay::start_gitlab().await;
    let cache = tempfile::tempdir().unwrap();
    let api = format!("{}/api/v4", replay.base);
    let err = scan(&options(api.clone(), cache.path())).await.unwrap_err();
    assert!(matches!(err, GitlabError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("read_api"));

    // A server that echoes the token back must not get it into the message.
    replay.get(
        &format!("/api/v4/projects/{PROJECT_ENCODED}"),
        Reply::gitlab_error(401, &format!("401 Unauthorized: bad token {SECRET}")),
    );
    let err = scan(&options(api, cache.path())).await.unwrap_err();
    assert!(matches!(err, GitlabError::Unauthorized { .. }));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("***"));
}

#[tokio::test]
async fn a_job_token_goes_in_job_token() {
    let replay = Replay::start_gitlab().await;
    let fixture = GitlabFixture::from_files(vec![("README.md".into(), b"# x\n".to_vec())]);
    fixture.install(&replay);
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(fixture.api_url(&replay), cache.path());
    opts.token = Some(Token::job("job-secret-123"));
    let (snap, stats) = scan(&opts).await.unwrap();
    assert_eq!(snap.files.len(), 1);
    assert_eq!(
        stats.by_family.get("graphql"),
        None,
        "GraphQL refuses job tokens"
    );
    for seen in replay.seen() {
        assert_eq!(
            seen.headers.get("job-token").map(String::as_str),
            Some("job-secret-123")
        );
        assert!(!seen.headers.contains_key("private-token"));
    }
}

#[tokio::test]
async fn project_includes_are_read_across_projects() {
    let replay = Replay::start_gitlab().await;
    let ci = "include:\n  - project: ml-group/ci-templates\n    ref: v2\n    file: /templates/train.yml\n  - template: Not-There.gitlab-ci.yml\n  - remote: https://elsewhere.example/ci.yml\n\nstages: [train, deploy]\n\ndeploy:\n  stage: deploy\n  script: [./deploy.sh]\n  environment: production\n";
    let fixture =
        GitlabFixture::from_files(vec![(".gitlab-ci.yml".into(), ci.as_bytes().to_vec())]);
    fixture.install(&replay);
    fixture.install_project_file(
        &replay,
        "ml-group%2Fci-templates",
        "templates%2Ftrain.yml",
        "v2",
        "include:\n  - local: /templates/common.yml\n\ntrain-model:\n  extends: .python\n  stage: train\n  script: [python train.py]\n",
    );
    fixture.install_project_file(
        &replay,
        "ml-group%2Fci-templates",
        "templates%2Fcommon.yml",
        "v2",
        ".python:\n  image: python:3.11\n",
    );
    replay.get(
        &format!("{}/templates/gitlab_ci_ymls/Not-There", fixture.prefix),
        Reply::gitlab_error(404, "404 Not Found"),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(fixture.api_url(&replay), cache.path()))
        .await
        .unwrap();
    let pipeline = snap.pipelines.first().unwrap();
    let jobs: Vec<_> = pipeline.jobs.iter().map(|j| j.id.as_str()).collect();
    assert!(
        jobs.contains(&"train-model") && jobs.contains(&"deploy"),
        "{jobs:?}"
    );
    let train = pipeline
        .jobs
        .iter()
        .find(|j| j.id == "train-model")
        .unwrap();
    assert_eq!(
        train.location.path,
        "ml-group/ci-templates:templates/train.yml@v2"
    );
    let includes: Vec<_> = pipeline
        .includes
        .iter()
        .map(|i| {
            (
                i.kind.as_str(),
                i.target.resolved,
                i.unresolved_reason.clone(),
            )
        })
        .collect();
    assert_eq!(includes.len(), 4, "{includes:#?}");
    assert_eq!(includes[0].0, "project");
    assert!(
        includes[0].1 && includes[1].1,
        "the project file and its local include"
    );
    assert_eq!(
        pipeline.includes[1].target.path.as_deref(),
        Some("ml-group/ci-templates:templates/common.yml@v2"),
        "a local include inside a project's file is read from that project"
    );
    assert!(!includes[2].1 && includes[2].2.as_deref().unwrap_or_default().contains("404"));
    assert!(
        !includes[3].1
            && includes[3]
                .2
                .as_deref()
                .unwrap_or_default()
                .contains("another host")
    );
    assert_eq!(stats.by_family["include/project"], 2);
    assert_eq!(stats.by_family["include/template"], 1);
    assert!(codes(&snap).contains(&"include-unresolved".to_string()));
}

#[tokio::test]
async fn the_request_budget_bounds_a_scan() {
    let (replay, fixture) = mature_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(fixture.api_url(&replay), cache.path());
    // Project, commit, four tree pages, one GraphQL query: then the budget is spent.
    opts.max_requests = 7;
    let (snap, stats) = scan(&opts).await.unwrap();
    assert_eq!(stats.total, 7);
    assert_eq!(replay.seen().len(), 7);
    assert!(codes(&snap).contains(&"gitlab-request-budget".to_string()));
    assert!(matches!(snap.api.runs, Observed::NotVisible { .. }));
    opts.max_requests = 1;
    let err = scan(&opts).await.unwrap_err();
    assert!(matches!(err, GitlabError::BudgetExhausted { .. }), "{err}");
}

#[test]
fn the_cli_scans_a_self_managed_project_without_printing_the_token() {
    let replay = Replay::start_gitlab_in_thread();
    let fixture = GitlabFixture::from_dir(&mature_dir()).with_prefix("/gitlab/api/v4");
    fixture.install(&replay);
    let output = assert_cmd::Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args([
            "scan",
            &format!("gitlab:{PROJECT}"),
            "--gitlab-url",
            &format!("{}/gitlab", replay.base),
            "--no-cache",
            "-f",
            "json",
        ])
        .env("GITLAB_TOKEN", SECRET)
        .env_remove("CI_JOB_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("gitlab: ") && stderr.contains(" requests"),
        "{stderr}"
    );
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    assert!(stdout.contains("gitlab:ml-group/platform/fraud-detector"));
    assert!(
        replay
            .seen()
            .iter()
            .all(|s| s.headers.get("private-token").map(String::as_str) == Some(SECRET))
    );

    // A token variable named but unset is a usage error, not an anonymous scan.
    let output = assert_cmd::Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args([
            "scan",
            &format!("gitlab:{PROJECT}"),
            "--gitlab-url",
            &format!("{}/gitlab", replay.base),
            "--token-env",
            "NO_SUCH_TOKEN_VAR",
        ])
        .env_remove("NO_SUCH_TOKEN_VAR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("NO_SUCH_TOKEN_VAR"));
}

#[tokio::test]
async fn an_empty_project_and_an_unknown_ref() {
    let replay = Replay::start_gitlab().await;
    replay.get(
        &format!("/api/v4/projects/{PROJECT_ENCODED}"),
        Reply::value(&serde_json::json!({
            "id": support::gitlab::PROJECT_ID, "path_with_namespace": PROJECT,
            "default_branch": null, "empty_repo": true,
        })),
    );
    let cache = tempfile::tempdir().unwrap();
    let api = format!("{}/api/v4", replay.base);
    let (snap, _) = scan(&options(api.clone(), cache.path())).await.unwrap();
    assert!(snap.files.is_empty() && snap.pipelines.is_empty());
    assert!(codes(&snap).contains(&"empty-repository".to_string()));
    assert_eq!(snap.source.revision, None);

    let mut opts = options(api, cache.path());
    opts.git_ref = Some("no/such-branch".into());
    let err = scan(&opts).await.unwrap_err();
    assert!(
        matches!(&err, GitlabError::RefNotFound { git_ref, .. } if git_ref == "no/such-branch"),
        "{err}"
    );
    let asked = replay
        .seen()
        .into_iter()
        .find(|s| s.path().contains("/repository/commits/"))
        .unwrap();
    assert!(
        asked
            .target
            .ends_with("/repository/commits/no%2Fsuch-branch"),
        "a ref is one encoded path segment: {}",
        asked.target
    );
}
