//! Requests per scan and wall time of the GitHub connector against the loopback
//! replay server (never github.com): a cold scan (empty cache) and a warm re-scan
//! (same cache, unchanged repository), for the small fixture repository and a
//! larger synthetic one.
//!
//! Run: `cargo bench --bench github_api` (add `-- --quick` for fewer rounds).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use mlops_maturity::connect::github::{GithubOptions, RequestStats, Token, scan_blocking};
use support::Replay;
use support::fixture::{OWNER, REPO, RepoFixture};

fn options(replay: &Replay, cache: &Path) -> GithubOptions {
    GithubOptions {
        api_url: replay.base.clone(),
        token: Some(Token::new("ghp_bench")),
        git_ref: None,
        cache_dir: Some(cache.to_path_buf()),
        runs_window_days: 30,
        max_requests: 1000,
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

fn bench(name: &str, fixture: &RepoFixture, rounds: usize) {
    let replay = Replay::start_in_thread();
    fixture.install(&replay);
    let mut cold_times = Vec::new();
    let mut warm_times = Vec::new();
    let mut cold_stats = RequestStats::default();
    let mut warm_stats = RequestStats::default();
    let mut files = 0;
    for _ in 0..rounds {
        let cache = tempfile::tempdir().expect("temp dir");
        let opts = options(&replay, cache.path());
        let started = Instant::now();
        let (snap, stats) = scan_blocking(OWNER, REPO, &opts).expect("cold scan");
        cold_times.push(started.elapsed());
        cold_stats = stats;
        files = snap.files.len();
        let started = Instant::now();
        let (_, stats) = scan_blocking(OWNER, REPO, &opts).expect("warm scan");
        warm_times.push(started.elapsed());
        warm_stats = stats;
    }
    println!("{name}: {files} files, {rounds} rounds");
    println!(
        "  cold: {:>3} requests ({:>3} counted against the limit), median {:>7.1} ms   [{}]",
        cold_stats.total,
        cold_stats.counted_against_limit(),
        median(cold_times).as_secs_f64() * 1e3,
        families(&cold_stats)
    );
    println!(
        "  warm: {:>3} requests ({:>3} counted against the limit, {} 304s, {} blobs from cache), median {:>7.1} ms",
        warm_stats.total,
        warm_stats.counted_against_limit(),
        warm_stats.not_modified,
        warm_stats.blobs_from_cache,
        median(warm_times).as_secs_f64() * 1e3
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 10 };
    let basic = RepoFixture::from_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/basic"),
    );
    bench("basic fixture", &basic, rounds);

    // A larger repository: 400 files detectors read (4 GraphQL batches) and 1,600 they do not.
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
        ".github/workflows/ci.yml".into(),
        b"on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n"
            .to_vec(),
    ));
    bench(
        "synthetic 2,001 files",
        &RepoFixture::from_files(files),
        rounds,
    );
}
