//! The GitHub connector against a loopback replay of GitHub's API (no test reaches
//! github.com): files equal to the local connector's, pagination, the ETag cache,
//! rate limits, retries, refusals, empty repositories, GraphQL batching, and the
//! token never showing up anywhere.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mlops_maturity::connect::github::{self, GithubError, GithubOptions, RequestStats, Token};
use mlops_maturity::connect::{ConnectOptions, scan_local};
use mlops_maturity::evidence::{Observed, Snapshot};
use support::fixture::{HEAD_SHA, OWNER, REPO, RUNS, RepoFixture};
use support::{Replay, Reply};

const SECRET: &str = "ghp_TESTSECRETvalue0123456789abcdefABCDEF";

fn basic_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/basic")
}

fn options(replay: &Replay, cache: &Path) -> GithubOptions {
    GithubOptions {
        api_url: replay.base.clone(),
        token: Some(Token::new(SECRET)),
        git_ref: None,
        cache_dir: Some(cache.to_path_buf()),
        runs_window_days: 30,
        max_requests: 200,
        max_wait: Duration::from_secs(10),
    }
}

async fn basic_replay() -> (Replay, RepoFixture) {
    let replay = Replay::start().await;
    let fixture = RepoFixture::from_dir(&basic_dir());
    fixture.install(&replay);
    (replay, fixture)
}

async fn scan(opts: &GithubOptions) -> Result<(Snapshot, RequestStats), GithubError> {
    github::scan(OWNER, REPO, opts).await
}

fn codes(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .diagnostics
        .iter()
        .map(|d| d.code.clone())
        .collect()
}

#[tokio::test]
async fn scan_equals_the_local_connector_on_the_same_files() {
    let (replay, _fixture) = basic_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    let local = scan_local(&basic_dir(), &ConnectOptions::default()).unwrap();

    let remote_files: Vec<_> = snap.files.iter().cloned().collect();
    let local_files: Vec<_> = local.files.iter().cloned().collect();
    assert_eq!(remote_files, local_files);
    assert!(
        snap.files
            .text(".github/workflows/ci.yml")
            .unwrap()
            .contains("pytest")
    );
    assert!(snap.files.text(".github/CODEOWNERS").is_some());
    assert_eq!(snap.pipelines, local.pipelines);
    assert_eq!(snap.pipelines.len(), 2);
    assert_eq!(snap.stats, local.stats);

    assert_eq!(snap.source.kind, "github");
    assert_eq!(snap.source.target, format!("github:{OWNER}/{REPO}"));
    assert_eq!(snap.source.revision.as_deref(), Some(HEAD_SHA));

    // History, through the same model.
    let runs = snap.api.runs.items().unwrap();
    assert_eq!(
        runs.len(),
        RUNS,
        "three pages of runs followed through Link headers"
    );
    assert_eq!(runs[0].workflow, ".github/workflows/ci.yml");
    assert_eq!(runs[0].duration_seconds, Some(300.0));
    assert_eq!(
        runs[0].record.endpoint,
        format!("GET /repos/{OWNER}/{REPO}/actions/runs")
    );
    let deployments = snap.api.deployments.items().unwrap();
    assert_eq!(deployments.len(), 3);
    assert_eq!(deployments[0].environment, "production");
    let states: Vec<_> = deployments[0]
        .statuses
        .iter()
        .map(|s| s.state.as_str())
        .collect();
    assert_eq!(states, ["in_progress", "success"], "oldest status first");
    let envs = snap.api.environments.items().unwrap();
    let prod = envs.iter().find(|e| e.name == "production").unwrap();
    assert_eq!((prod.required_reviewers, prod.wait_timer_minutes), (2, 30));
    assert_eq!(prod.branch_policy.as_deref(), Some("custom"));
    let staging = envs.iter().find(|e| e.name == "staging").unwrap();
    assert_eq!(
        (staging.required_reviewers, staging.branch_policy.as_deref()),
        (0, None)
    );
    let protection = snap.api.branch_protection.items().unwrap();
    assert_eq!(protection.len(), 2, "classic protection and rulesets");
    assert_eq!(protection[0].required_checks, ["test", "build"]);
    assert_eq!(protection[0].required_reviews, 2);
    assert!(protection[0].code_owner_reviews && protection[0].linear_history);
    assert_eq!(protection[1].required_checks, ["model-eval"]);
    let releases = snap.api.releases.items().unwrap();
    assert_eq!(releases.len(), 2, "drafts are not releases");
    assert!(releases[1].prerelease);
    let versions = snap.api.registry_versions.items().unwrap();
    assert_eq!(
        versions.len(),
        2,
        "only the package linked to this repository"
    );
    assert_eq!(versions[0].version, "1.2.0,latest");
    let git = snap.git.as_ref().unwrap();
    assert_eq!(git.tags.len(), 2);
    assert_eq!(git.current_branch.as_deref(), Some("main"));
    assert_eq!(git.recent_commits[0].subject, "Train with new data");

    let runs_request = replay
        .seen()
        .into_iter()
        .find(|s| s.path().ends_with("/actions/runs"))
        .unwrap();
    assert!(
        runs_request.target.contains("created=%3E%3D20"),
        "window filter: {}",
        runs_request.target
    );

    // The request budget of a cold scan.
    assert!(
        (15..=30).contains(&stats.total),
        "cold scan used {} requests: {:?}",
        stats.total,
        stats.by_family
    );
    assert_eq!(
        stats.by_family["graphql"], 1,
        "all file texts in one GraphQL query"
    );
    assert_eq!(stats.by_family.get("git/blobs"), None);
    assert_eq!(stats.by_family["actions/runs"], 3);
    assert_eq!(stats.not_modified, 0);
    // Every request carried the API version and the bearer token.
    for seen in replay.seen() {
        assert_eq!(
            seen.headers.get("x-github-api-version").map(String::as_str),
            Some("2022-11-28")
        );
        assert_eq!(
            seen.headers.get("authorization"),
            Some(&format!("Bearer {SECRET}"))
        );
        assert!(
            seen.headers
                .get("user-agent")
                .is_some_and(|u| u.starts_with("mlops-maturity/"))
        );
    }
}

#[tokio::test]
async fn rescan_of_an_unchanged_repository_costs_nothing_against_the_limit() {
    let (replay, _fixture) = basic_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let opts = options(&replay, cache.path());
    let (cold, cold_stats) = scan(&opts).await.unwrap();
    let used_cold = 5000 - replay.remaining();
    assert_eq!(used_cold, i64::from(cold_stats.total));

    let (warm, warm_stats) = scan(&opts).await.unwrap();
    assert_eq!(warm_stats.counted_against_limit(), 0, "{warm_stats:?}");
    // Every answer is a 304; on a loaded machine a slow attempt may be retried once,
    // and only the retried attempt is not a 304.
    assert_eq!(
        warm_stats.not_modified + warm_stats.retries,
        warm_stats.total,
        "{warm_stats:?}"
    );
    assert_eq!(
        warm_stats.by_family.get("graphql"),
        None,
        "blob texts come from the cache"
    );
    assert_eq!(warm_stats.blobs_from_cache as u64, cold.stats.files_read);
    assert_eq!(5000 - replay.remaining(), used_cold, "304s are free");
    assert_eq!(warm.files, cold.files);
    assert_eq!(warm.api, cold.api);
    assert_eq!(warm.pipelines, cold.pipelines);
    let conditional = replay
        .seen()
        .iter()
        .filter(|s| s.headers.contains_key("if-none-match"))
        .count();
    assert_eq!(conditional as u32, warm_stats.total);

    // Another identity does not reuse the first one's answers.
    let mut other = opts.clone();
    other.token = Some(Token::new("ghp_othertoken"));
    let (_, other_stats) = scan(&other).await.unwrap();
    assert_eq!(other_stats.not_modified, 0);
}

#[tokio::test]
async fn primary_rate_limit_waits_until_the_reset() {
    let (replay, _fixture) = basic_replay().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    replay.route(
        "GET",
        &format!("/repos/{OWNER}/{REPO}/releases?per_page=100"),
        vec![
            Reply::status(403, "API rate limit exceeded for user ID 1.")
                .header("x-ratelimit-limit", "5000")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-used", "5000")
                .header("x-ratelimit-reset", reset.to_string())
                .header("x-ratelimit-resource", "core"),
            Reply::value(&serde_json::json!([{"id": 1, "tag_name": "v1", "name": "v1", "draft": false, "prerelease": false, "created_at": "2026-01-01T00:00:00Z"}])),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(stats.waited_seconds >= 1.0, "{stats:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(snap.api.releases.items().unwrap().len(), 1);
    assert_eq!(stats.by_family["releases"], 2);
}

#[tokio::test]
async fn primary_rate_limit_beyond_the_allowed_wait_stops_with_endpoint_and_reset() {
    let (replay, _fixture) = basic_replay().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/git/trees/{HEAD_SHA}?recursive=1"),
        Reply::status(403, "API rate limit exceeded for 127.0.0.1.")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string()),
    );
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = scan(&options(&replay, cache.path())).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "must not wait an hour"
    );
    let message = err.to_string();
    assert!(
        matches!(
            err,
            GithubError::RateLimited {
                secondary: false,
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.contains(&format!("GET /repos/{OWNER}/{REPO}/git/trees/{HEAD_SHA}")),
        "{message}"
    );
    assert!(message.contains("resets at 20"), "{message}");
    assert!(!message.contains(SECRET));
}

#[tokio::test]
async fn primary_limit_spent_on_a_success_waits_before_the_next_request() {
    let (replay, _fixture) = basic_replay().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let body = RepoFixture::from_dir(&basic_dir()).tree_json();
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/git/trees/{HEAD_SHA}?recursive=1"),
        Reply::value(&body)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string()),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(stats.waited_seconds >= 1.0, "{stats:?}");
    assert_eq!(stats.retries, 0);
    assert!(!snap.files.is_empty());
}

#[tokio::test]
async fn secondary_rate_limit_honours_retry_after() {
    let (replay, _fixture) = basic_replay().await;
    replay.route(
        "GET",
        &format!("/repos/{OWNER}/{REPO}/tags?per_page=100"),
        vec![
            Reply::status(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.").header("retry-after", "1"),
            Reply::value(&serde_json::json!([{"name": "v9", "commit": {"sha": HEAD_SHA}}])),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(stats.waited_seconds >= 1.0);
    assert_eq!(snap.git.unwrap().tags[0].name, "v9");

    // Without retry-after, the backoff starts at a minute: beyond max_wait it stops.
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/tags?per_page=100"),
        Reply::status(403, "You have exceeded a secondary rate limit."),
    );
    let err = scan(&options(&replay, cache.path())).await.unwrap_err();
    assert!(
        matches!(
            err,
            GithubError::RateLimited {
                secondary: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("secondary"));
    assert_eq!(
        replay.count("GET", &format!("/repos/{OWNER}/{REPO}/tags")),
        1,
        "never hammer"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let (replay, _fixture) = basic_replay().await;
    let envs = serde_json::json!({"total_count": 1, "environments": [{"id": 1, "name": "prod", "protection_rules": [], "deployment_branch_policy": null}]});
    replay.route(
        "GET",
        &format!("/repos/{OWNER}/{REPO}/environments?per_page=100"),
        vec![
            Reply::status(502, "Server Error"),
            Reply::status(503, "Unavailable"),
            Reply::value(&envs),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(stats.retries, 2);
    assert_eq!(stats.by_family["environments"], 3);
    assert_eq!(snap.api.environments.items().unwrap()[0].name, "prod");

    // A dropped connection is retried too.
    let (replay, _fixture) = basic_replay().await;
    replay.route(
        "GET",
        &format!("/repos/{OWNER}/{REPO}/environments?per_page=100"),
        vec![Reply::hang_up(), Reply::value(&envs)],
    );
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(stats.retries, 1);
    assert_eq!(snap.api.environments.items().unwrap().len(), 1);

    // A server that keeps failing: three retries, then the kind is not visible.
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/environments?per_page=100"),
        Reply::status(500, "Server Error"),
    );
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(stats.by_family["environments"], 4);
    assert!(matches!(snap.api.environments, Observed::NotVisible { .. }));
}

#[tokio::test]
async fn truncated_json_is_a_diagnostic_naming_the_endpoint() {
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/actions/runs?per_page=100"),
        Reply::json(r#"{"total_count": 3, "workflow_runs": [{"id": 1, "name": "CI", "#),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    let Observed::NotVisible { reason } = &snap.api.runs else {
        panic!("runs: {:?}", snap.api.runs)
    };
    assert!(reason.contains("invalid JSON"), "{reason}");
    let diag = snap
        .diagnostics
        .iter()
        .find(|d| d.code == "github-invalid-json")
        .unwrap();
    assert!(
        diag.message
            .contains(&format!("GET /repos/{OWNER}/{REPO}/actions/runs")),
        "{diag}"
    );
    // The scan went on.
    assert!(snap.api.deployments.items().is_some());
    assert!(!snap.files.is_empty());

    // A broken tree leaves the file list unknown, with an error naming the endpoint.
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/git/trees/{HEAD_SHA}?recursive=1"),
        Reply::json(r#"{"sha": "x", "tree": [{"path": "#),
    );
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(snap.files.is_empty());
    let diag = snap
        .diagnostics
        .iter()
        .find(|d| d.code == "github-invalid-json")
        .unwrap();
    assert!(diag.message.contains("git/trees"), "{diag}");
    assert!(snap.api.runs.items().is_some());
}

#[tokio::test]
async fn a_truncated_tree_is_reported() {
    let (replay, fixture) = basic_replay().await;
    let mut tree = fixture.tree_json();
    tree["truncated"] = serde_json::json!(true);
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/git/trees/{HEAD_SHA}?recursive=1"),
        Reply::value(&tree),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(codes(&snap).contains(&"tree-truncated".to_string()));
    assert_eq!(
        snap.files.len(),
        fixture.files.len(),
        "what was listed is still scanned"
    );
}

#[tokio::test]
async fn refusals_are_not_visible_with_the_permission_to_add() {
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/deployments?per_page=100"),
        Reply::status(403, "Resource not accessible by integration")
            .header("x-accepted-github-permissions", "deployments=read"),
    );
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/environments?per_page=100"),
        Reply::status(404, "Not Found"),
    );
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/branches/main/protection"),
        Reply::status(404, "Not Found"),
    );
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/rules/branches/main"),
        Reply::value(&serde_json::json!([])),
    );
    replay.get(
        &format!("/orgs/{OWNER}/packages?package_type=container&per_page=100"),
        Reply::status(
            403,
            "You need at least read:packages scope to list packages.",
        ),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();

    let Observed::NotVisible { reason } = &snap.api.deployments else {
        panic!("{:?}", snap.api.deployments)
    };
    assert_eq!(
        reason,
        "403 Resource not accessible by integration: needs `deployments=read` (GitHub says)"
    );
    let Observed::NotVisible { reason } = &snap.api.environments else {
        panic!()
    };
    assert!(
        reason.starts_with("404") && reason.contains("actions: read"),
        "{reason}"
    );
    assert!(
        matches!(snap.api.branch_protection, Observed::NotVisible { ref reason } if reason.contains("administration: read"))
    );
    assert!(
        matches!(snap.api.registry_versions, Observed::NotVisible { ref reason } if reason.contains("read:packages"))
    );
    let hints: Vec<_> = snap
        .diagnostics
        .iter()
        .filter(|d| d.code == "github-not-visible")
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(hints.len(), 4, "{hints:#?}");
    assert!(
        hints
            .iter()
            .any(|h| h.starts_with("deployments not visible") && h.contains("deployments=read"))
    );
    assert!(
        hints
            .iter()
            .all(|h| h.contains("Not read as an absent practice"))
    );
    // What was visible is still collected.
    assert!(snap.api.runs.items().is_some() && snap.api.releases.items().is_some());

    // "Branch not protected" is an observation, not a refusal.
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/branches/main/protection"),
        Reply::status(404, "Branch not protected"),
    );
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/rules/branches/main"),
        Reply::value(&serde_json::json!([])),
    );
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(snap.api.branch_protection.items().map(Vec::len), Some(0));
}

#[tokio::test]
async fn empty_repositories_scan_to_no_files() {
    // The default branch of a repository without commits does not exist yet.
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/branches/main"),
        Reply::status(404, "Branch not found"),
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(snap.files.is_empty() && snap.pipelines.is_empty());
    assert_eq!(snap.source.revision, None);
    assert!(codes(&snap).contains(&"empty-repository".to_string()));
    assert_eq!(
        replay.count("GET", &format!("/repos/{OWNER}/{REPO}/git/trees")),
        0
    );

    // A named ref in an empty repository: 409 "Git Repository is empty."
    let (replay, _fixture) = basic_replay().await;
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/git/trees/{HEAD_SHA}"),
        Reply::status(409, "Git Repository is empty."),
    );
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    assert!(snap.files.is_empty());
    let diag = snap
        .diagnostics
        .iter()
        .find(|d| d.code == "empty-repository")
        .unwrap();
    assert!(diag.message.contains("Git Repository is empty."));
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_resolve_like_the_local_connector() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    // The scanned repository is a subfolder, so a link can point at a real file outside it.
    std::fs::write(dir.path().join("outside.yml"), "secret: 1\n").unwrap();
    let root = &dir.path().join("repo");
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(root.join("shared")).unwrap();
    std::fs::write(
        root.join("shared/ci.yml"),
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    )
    .unwrap();
    std::fs::write(root.join("shared/params.yaml"), "lr: 0.1\n").unwrap();
    symlink("../../shared/ci.yml", root.join(".github/workflows/ci.yml")).unwrap();
    symlink("params.yaml", root.join("shared/alias.yaml")).unwrap();
    symlink("alias.yaml", root.join("shared/alias2.yaml")).unwrap();
    symlink("shared", root.join("shared-dir")).unwrap();
    symlink("../outside.yml", root.join("escape.yml")).unwrap();
    symlink("missing.yml", root.join("broken.yml")).unwrap();
    symlink("loop-b.yml", root.join("loop-a.yml")).unwrap();
    symlink("loop-a.yml", root.join("loop-b.yml")).unwrap();

    let replay = Replay::start().await;
    RepoFixture::from_dir(root).install(&replay);
    let cache = tempfile::tempdir().unwrap();
    let (snap, _) = scan(&options(&replay, cache.path())).await.unwrap();
    let local = scan_local(root, &ConnectOptions::default()).unwrap();
    assert_eq!(snap.files, local.files);
    assert_eq!(
        snap.files.text(".github/workflows/ci.yml"),
        snap.files.text("shared/ci.yml")
    );
    assert_eq!(snap.files.text("shared/alias2.yaml"), Some("lr: 0.1\n"));
    assert_eq!(snap.pipelines, local.pipelines);
    assert_eq!(snap.pipelines.len(), 1);
    let link_codes = |s: &Snapshot| {
        let mut v: Vec<_> = s
            .diagnostics
            .iter()
            .filter(|d| d.code.starts_with("symlink"))
            .map(|d| (d.code.clone(), d.location.clone()))
            .collect();
        v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        v
    };
    assert_eq!(link_codes(&snap), link_codes(&local));
}

#[tokio::test]
async fn file_texts_come_in_graphql_batches_of_one_hundred() {
    let replay = Replay::start().await;
    let files: Vec<(String, Vec<u8>)> = (0..250)
        .map(|i| {
            (
                format!("configs/c{i:03}.yaml"),
                format!("id: {i}\n").into_bytes(),
            )
        })
        .collect();
    let fixture = RepoFixture::from_files(files);
    fixture.install(&replay);
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(stats.by_family["graphql"], 3);
    assert_eq!(snap.files.len(), 250);
    assert_eq!(snap.files.text("configs/c249.yaml"), Some("id: 249\n"));
    let posts: Vec<_> = replay
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST")
        .collect();
    let aliases = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body).unwrap()["variables"]
            .as_object()
            .unwrap()
            .len()
            - 2
    };
    assert_eq!(
        posts.iter().map(|p| aliases(&p.body)).collect::<Vec<_>>(),
        [100, 100, 50]
    );
}

#[tokio::test]
async fn without_a_token_texts_come_from_rest_blobs_and_equal_graphql_ones() {
    let (replay, fixture) = basic_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(&replay, cache.path());
    opts.token = None;
    let (snap, stats) = scan(&opts).await.unwrap();
    assert_eq!(
        stats.by_family.get("graphql"),
        None,
        "GraphQL needs a token: not even tried"
    );
    let wanted = fixture
        .files
        .iter()
        .filter(|f| mlops_maturity::evidence::content_wanted(&f.path))
        .count();
    assert_eq!(stats.by_family["git/blobs"] as usize, wanted);
    assert!(
        replay
            .seen()
            .iter()
            .all(|s| !s.headers.contains_key("authorization"))
    );
    let local = scan_local(&basic_dir(), &ConnectOptions::default()).unwrap();
    assert_eq!(snap.files, local.files);
}

#[tokio::test]
async fn graphql_refused_falls_back_to_rest() {
    let (replay, _fixture) = basic_replay().await;
    replay.route(
        "POST",
        "/graphql",
        vec![Reply::status(403, "Resource not accessible by integration")],
    );
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(stats.by_family["graphql"], 1);
    assert!(stats.by_family["git/blobs"] > 0);
    assert!(codes(&snap).contains(&"graphql-unavailable".to_string()));
    let local = scan_local(&basic_dir(), &ConnectOptions::default()).unwrap();
    assert_eq!(snap.files, local.files);
}

#[tokio::test]
async fn enterprise_server_urls_are_used_as_given() {
    let replay = Replay::start().await;
    let mut fixture = RepoFixture::from_dir(&basic_dir());
    fixture.prefix = "/api/v3".into();
    fixture.install(&replay);
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(&replay, cache.path());
    opts.api_url = format!("{}/api/v3/", replay.base);
    let (snap, stats) = scan(&opts).await.unwrap();
    assert_eq!(stats.by_family["graphql"], 1);
    assert_eq!(replay.count("POST", "/api/graphql"), 1);
    assert_eq!(snap.api.runs.items().unwrap().len(), RUNS);
    assert!(replay.seen().iter().all(|s| s.target.starts_with("/api/")));
}

#[tokio::test]
async fn deployment_status_requests_are_bounded() {
    let (replay, _fixture) = basic_replay().await;
    let deployments: Vec<_> = (0..25u64)
        .map(|i| serde_json::json!({"id": 500 - i, "sha": HEAD_SHA, "ref": "main", "environment": if i == 24 { "canary" } else { "production" }, "created_at": "2026-11-20T11:00:00Z"}))
        .collect();
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/deployments?per_page=100"),
        Reply::value(&serde_json::Value::Array(deployments)),
    );
    for i in 0..25u64 {
        replay.get(
            &format!("/repos/{OWNER}/{REPO}/deployments/{}/statuses?per_page=100", 500 - i),
            Reply::value(&serde_json::json!([{"id": i, "state": "success", "created_at": "2026-11-20T11:02:00Z"}])),
        );
    }
    let cache = tempfile::tempdir().unwrap();
    let (snap, stats) = scan(&options(&replay, cache.path())).await.unwrap();
    assert_eq!(stats.by_family["deployments/statuses"], 20);
    assert!(codes(&snap).contains(&"github-statuses-capped".to_string()));
    let deployments = snap.api.deployments.items().unwrap();
    assert_eq!(deployments.len(), 25);
    // The oldest deployment is the only one of its environment: its statuses were read.
    let canary = deployments
        .iter()
        .find(|d| d.environment == "canary")
        .unwrap();
    assert_eq!(canary.statuses.len(), 1);
}

#[tokio::test]
async fn the_request_budget_is_respected() {
    let (replay, _fixture) = basic_replay().await;
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(&replay, cache.path());
    opts.max_requests = 8;
    let (snap, stats) = scan(&opts).await.unwrap();
    assert_eq!(stats.total, 8);
    assert_eq!(replay.seen().len(), 8);
    assert!(codes(&snap).contains(&"github-request-budget".to_string()));
    assert!(
        matches!(snap.api.releases, Observed::NotVisible { ref reason } if reason.contains("budget"))
    );
}

#[tokio::test]
async fn unknown_repository_is_an_error() {
    let replay = Replay::start().await;
    let cache = tempfile::tempdir().unwrap();
    let err = scan(&options(&replay, cache.path())).await.unwrap_err();
    assert!(matches!(err, GithubError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains(&format!("{OWNER}/{REPO}")));
}

#[tokio::test]
async fn the_token_never_appears_in_output() {
    let (replay, _fixture) = basic_replay().await;
    // Make the server echo the token in messages, the worst case.
    let echo = format!("Bad credentials for Bearer {SECRET}");
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/deployments?per_page=100"),
        Reply::status(403, &echo),
    );
    replay.get(
        &format!("/repos/{OWNER}/{REPO}/environments?per_page=100"),
        Reply::json(format!("{{\"broken\": \"{SECRET}")),
    );
    let cache = tempfile::tempdir().unwrap();
    let opts = options(&replay, cache.path());
    let (snap, stats) = scan(&opts).await.unwrap();
    assert!(
        replay.seen().iter().any(|s| s
            .headers
            .get("authorization")
            .is_some_and(|a| a.contains(SECRET))),
        "the token was sent"
    );

    let json = serde_json::to_string(&snap).unwrap();
    assert!(!json.contains(SECRET));
    assert!(json.contains("***"), "the echoed token was redacted");
    for d in &snap.diagnostics {
        assert!(!d.to_string().contains(SECRET));
    }
    assert!(!format!("{stats:?}").contains(SECRET));
    assert!(!format!("{opts:?}").contains(SECRET));
    // Nor in the cache.
    for entry in walk(cache.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{}",
            entry.display()
        );
    }
    // Nor in errors.
    let replay = Replay::start().await;
    replay.get(&format!("/repos/{OWNER}/{REPO}"), Reply::status(401, &echo));
    let err = scan(&options(&replay, cache.path())).await.unwrap_err();
    assert!(
        !err.to_string().contains(SECRET) && !format!("{err:?}").contains(SECRET),
        "{err:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn blocking_wrapper_scans_like_the_async_one() {
    let replay = Replay::start_in_thread();
    RepoFixture::from_dir(&basic_dir()).install(&replay);
    let cache = tempfile::tempdir().unwrap();
    let opts = GithubOptions {
        api_url: replay.base.clone(),
        token: None,
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let (snap, _) =
        mlops_maturity::connect::scan_github(&format!("github:{OWNER}/{REPO}"), &opts).unwrap();
    assert_eq!(snap.pipelines.len(), 2);
    assert!(Token::from_env(Some("MLOPS_MATURITY_TEST_UNSET_TOKEN_VAR")).is_none());
}
