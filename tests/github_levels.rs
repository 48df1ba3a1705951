//! A scan through the GitHub connector (against a loopback replay of GitHub's API)
//! gives the same practices and levels as the local scan of the same files, plus
//! the API-only facts. No test reaches github.com.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mlops_maturity::connect::github::{self, GithubOptions, Token};
use mlops_maturity::connect::{ConnectOptions, scan_local};
use support::Replay;
use support::fixture::{OWNER, REPO, RepoFixture};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos/mature-gha")
}

#[tokio::test]
async fn replayed_scan_gives_the_local_practices_and_levels_plus_api_facts() {
    let replay = Replay::start().await;
    RepoFixture::from_dir(&fixture_dir()).install(&replay);
    let cache = tempfile::tempdir().expect("tempdir");
    let options = GithubOptions {
        api_url: replay.base.clone(),
        token: Some(Token::new("ghp_levels_test_token")),
        cache_dir: Some(cache.path().to_path_buf()),
        max_wait: Duration::from_secs(10),
        ..Default::default()
    };
    let (remote, _) = github::scan(OWNER, REPO, &options)
        .await
        .expect("replayed scan");
    let local = scan_local(&fixture_dir(), &ConnectOptions::default()).expect("local scan");

    support::levels::assert_same_as_local_plus_api_facts(
        &remote,
        &local,
        &["api.branch_protection"],
    );
}
