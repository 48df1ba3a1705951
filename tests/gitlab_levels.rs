//! A scan through the GitLab connector (against a loopback replay of GitLab's API)
//! gives the same practices and levels as the local scan of the same files, plus
//! the API-only facts. No test reaches gitlab.com.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mlops_maturity::connect::gitlab::{self, GitlabOptions, Token};
use mlops_maturity::connect::{ConnectOptions, scan_local};
use support::Replay;
use support::gitlab::{GitlabFixture, PROJECT};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos/mature-gitlab")
}

#[tokio::test]
async fn replayed_scan_gives_the_local_practices_and_levels_plus_api_facts() {
    let replay = Replay::start_gitlab().await;
    let fixture = GitlabFixture::from_dir(&fixture_dir());
    fixture.install(&replay);
    let cache = tempfile::tempdir().expect("tempdir");
    let options = GitlabOptions {
        api_url: fixture.api_url(&replay),
        token: Some(Token::new("glpat-levels-test-token")),
        cache_dir: Some(cache.path().to_path_buf()),
        max_wait: Duration::from_secs(10),
        ..Default::default()
    };
    let (remote, _) = gitlab::scan(PROJECT, &options)
        .await
        .expect("replayed scan");
    let local = scan_local(&fixture_dir(), &ConnectOptions::default()).expect("local scan");

    support::levels::assert_same_as_local_plus_api_facts(
        &remote,
        &local,
        &[
            "api.branch_protection",
            "api.environment_protection",
            "api.registry_versions",
        ],
    );
}
