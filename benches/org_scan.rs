//! `scan-org` over a generated organisation of 500 repositories on the loopback
//! replay server (never github.com): wall time, requests per repository and peak
//! memory (VmHWM from /proc/self/status) at a few concurrency settings. The
//! replay server runs in this process too, so its request log is in the peak.
//!
//! Run: `cargo bench --bench org_scan` (`-- --quick`: 100 repositories, one setting).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::Duration;

use mlops_maturity::connect::github::{GithubOptions, Token};
use mlops_maturity::connect::gitlab::GitlabOptions;
use mlops_maturity::org::run::{OrgOptions, scan_org};
use mlops_maturity::org::{Filters, OrgTarget, summary};
use support::Replay;
use support::org::{self, OrgSim};

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repos = if quick { 100 } else { 500 };
    let settings: &[usize] = if quick { &[4] } else { &[1, 4, 8] };
    let replay = Replay::start_in_thread();
    org::install(&replay, OrgSim::new(repos));
    println!("org_scan: {repos} generated repositories (archived/forks skipped, 2 failing)");
    for &concurrency in settings {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = OrgOptions {
            target: OrgTarget::Github(org::ORG.into()),
            github: GithubOptions {
                api_url: replay.base.clone(),
                token: Some(Token::new("ghp_bench")),
                cache_dir: Some(PathBuf::new()),
                max_wait: Duration::from_secs(30),
                ..Default::default()
            },
            gitlab: GitlabOptions::default(),
            filters: Filters::default(),
            concurrency,
            shard: None,
            out: dir.path().to_path_buf(),
            resume: false,
            limit: None,
            progress: false,
        };
        replay.clear_seen();
        // The replay's primary limit is GitHub's 5000 an hour; 500 repositories take
        // more: this bench measures scanning, not waiting an hour for a reset.
        replay.set_remaining(1_000_000);
        let (manifest, stats) = scan_org(&options).expect("scan-org");
        let s = summary::load(&[dir.path().to_path_buf()]).expect("summary");
        summary::write_all(dir.path(), &s).expect("write summary");
        let done = manifest.repos.len() - stats.failed;
        println!(
            "concurrency {concurrency:>2}: {:>6.2} s wall, {} scanned ({} failed), {:.1} requests/repository ({} in all, {} for the listing), {:.1} ms/repository, peak RSS {} KiB",
            stats.wall.as_secs_f64(),
            done,
            stats.failed,
            stats.requests as f64 / manifest.repos.len().max(1) as f64,
            stats.requests,
            stats.listing_requests,
            stats.wall.as_secs_f64() * 1000.0 / manifest.repos.len().max(1) as f64,
            peak_kib().unwrap_or(0)
        );
    }
}
