//! Requests per scan and wall time of the GitLab connector against the loopback
//! replay server (never gitlab.com): a cold scan (empty cache) and a warm re-scan
//! (same cache, unchanged project), for the mature GitLab fixture and a larger
//! synthetic project.
//!
//! Run: `cargo bench --bench gitlab_api` (add `-- --quick` for fewer rounds).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use mlops_maturity::connect::gitlab::{GitlabOptions, RequestStats, Token, scan_blocking};
use support::Replay;
use support::gitlab::{GitlabFixture, PROJECT};

fn options(api_url: String, cache: &Path) -> GitlabOptions {
    GitlabOptions {
        api_url,
        token: Some(Token::new("glpat-bench")),
        git_ref: None,
        cache_dir: Some(cache.to_path_buf()),
        history_window_days: 30,
        max_requests: 2000,
        max_wait: Duration::from_secs(5),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn families(stats: &RequestStats) -> String {
    stats
        .by_family
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn bench(name: &str, fixture: &GitlabFixture, rounds: usize) {
    let replay = Replay::start_gitlab_in_thread();
    // Many rounds of thousands of requests: more than GitLab's 2,000 a minute.
    replay.set_remaining(i64::MAX / 2);
    fixture.install(&replay);
    let api_url = fixture.api_url(&replay);
    let mut cold_times = Vec::new();
    let mut warm_times = Vec::new();
    let mut cold_stats = RequestStats::default();
    let mut warm_stats = RequestStats::default();
    let mut files = 0;
    for _ in 0..rounds {
        let cache = tempfile::tempdir().expect("temp dir");
        let opts = options(api_url.clone(), cache.path());
        let started = Instant::now();
        let (snap, stats) = scan_blocking(PROJECT, &opts).expect("cold scan");
        cold_times.push(started.elapsed());
        cold_stats = stats;
        files = snap.files.len();
        let started = Instant::now();
        let (_, stats) = scan_blocking(PROJECT, &opts).expect("warm scan");
        warm_times.push(started.elapsed());
        warm_stats = stats;
    }
    println!("{name}: {files} files, {rounds} rounds");
    println!(
        "  cold: {:>4} requests, median {:>7.1} ms   [{}]",
        cold_stats.total,
        median(cold_times).as_secs_f64() * 1e3,
        families(&cold_stats)
    );
    println!(
        "  warm: {:>4} requests ({} 304s, {} blobs from cache), median {:>7.1} ms   [{}]",
        warm_stats.total,
        warm_stats.not_modified,
        warm_stats.blobs_from_cache,
        median(warm_times).as_secs_f64() * 1e3,
        families(&warm_stats)
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 10 };
    let mature = GitlabFixture::from_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos/mature-gitlab"),
    );
    bench("mature-gitlab fixture", &mature, rounds);

    // A larger project: 400 files detectors read and 1,600 they do not (the tree
    // arrives in pages of 10 entries from the replay, so 200+ keyset pages).
    let mut files: Vec<(String, Vec<u8>)> = (0..400)
        .map(|i| {
            (
                format!("src/pkg{}/mod{i}.py", i % 20),
                format!("import os\n\nVALUE = {i}\n")
                    .repeat(20)
                    .into_bytes(),
            )
        })
        .collect();
    files.extend((0..1600).map(|i| (format!("data/part{i}.csv"), b"a,b\n1,2\n".to_vec())));
    files.push((
        ".gitlab-ci.yml".into(),
        b"test:\n  script: [make test]\n".to_vec(),
    ));
    bench(
        "synthetic 2,001 files",
        &GitlabFixture::from_files(files),
        rounds,
    );
}
