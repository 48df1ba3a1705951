//! `scan-org` and `merge` against a generated organisation on the loopback replay
//! server: listing over pages, default filters, failing repositories recorded while
//! the run goes on, a rate-limit reset mid-run, an interrupted run resumed, shards
//! merged into the summary of one run, hostile names escaped in the dashboard.

mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use support::Replay;
use support::org::{self, OrgSim};

fn scan_org(replay: &Replay, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("mlops-maturity").unwrap();
    cmd.args(["scan-org", &format!("github:{}", org::ORG)])
        .args(["--github-url", &replay.base])
        .arg("--out")
        .arg(out)
        .args(["--no-cache", "--quiet"])
        .args(extra)
        .env("GITHUB_TOKEN", "org-test-token")
        .env_remove("GH_TOKEN");
    cmd.output().unwrap()
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

fn statuses(m: &Value) -> Vec<(String, String)> {
    m["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["full_name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn org_of_hundreds_with_failures_and_a_rate_limit_reset() {
    let replay = Replay::start_in_thread();
    let mut sim = OrgSim::new(260);
    sim.rate_limit_after = Some(400);
    sim.hostile = true;
    let selected = sim.selected();
    let counters = org::install(&replay, sim);
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = scan_org(&replay, dir.path(), &["--concurrency", "6"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Failures are recorded: exit 1, not 2.
    assert_eq!(out.status.code(), Some(1), "{stderr}");

    let m = manifest(dir.path());
    let s = statuses(&m);
    // Archived and forks skipped; the hostile name is listed, so selected + 1.
    assert_eq!(s.len(), selected.len() + 1, "{stderr}");
    assert!(
        !s.iter().any(|(n, _)| n == "octo-org/repo-005"),
        "archived repo-005 selected"
    );
    assert!(
        !s.iter().any(|(n, _)| n == "octo-org/repo-007"),
        "fork repo-007 selected"
    );
    let failed: Vec<&str> = s
        .iter()
        .filter(|(_, st)| st == "failed")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            format!("octo-org/{}", org::HOSTILE).as_str(),
            "octo-org/repo-013",
            "octo-org/repo-029"
        ],
        "{stderr}"
    );
    assert_eq!(
        s.iter().filter(|(_, st)| st == "done").count(),
        selected.len() - 2
    );
    // The limit ran out mid-run: requests were refused, the run waited for the
    // reset and went on (every other repository done).
    assert!(counters.limited.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));

    // One report/v1 per scanned repository, the same shape `scan --format json` writes.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("repos/octo-org__repo-002.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["schema"], "mlops-maturity/report/v1");
    assert_eq!(report["source"]["target"], "github:octo-org/repo-002");
    let repo_002 = m["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "octo-org/repo-002")
        .unwrap();
    assert!(repo_002["requests"].as_u64().unwrap() > 3, "{repo_002}");

    // Summary files, the failures in the CSV, hostile names escaped in the HTML.
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), s.len() + 1);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("octo-org/repo-029,failed"))
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    // Keep the dashboard for a look in a browser: MLOPS_ORG_KEEP=/tmp/x.html.
    if let Some(keep) = std::env::var_os("MLOPS_ORG_KEEP") {
        std::fs::write(keep, &html).unwrap();
    }
    assert!(!html.contains(org::HOSTILE), "hostile name not escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the dashboard's own script"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched"
    );
    assert!(html.contains("构建管理") && html.contains("Build management"));
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(!md.contains("<script>"));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["scanned"].as_u64(), Some(selected.len() as u64 - 2));
    assert!(summary["missing"].as_array().unwrap().len() >= 3);
    // Levels differ across the generated shapes.
    let overall: std::collections::BTreeSet<u64> = summary["repos"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["mean_score"].as_f64().map(|m| (m * 100.0) as u64))
        .collect();
    assert!(
        overall.len() >= 2,
        "all repositories scored alike: {overall:?}"
    );
}

#[test]
fn interrupted_run_resumes_without_rescanning() {
    let replay = Replay::start_in_thread();
    let sim = OrgSim::new(60);
    let selected = sim.selected();
    org::install(&replay, sim);
    let dir = tempfile::tempdir().unwrap();
    let first = scan_org(&replay, dir.path(), &["--max-repos", "20"]);
    assert!(first.status.code().is_some_and(|c| c <= 1));
    let m1 = manifest(dir.path());
    let run_id = m1["run_id"].as_str().unwrap().to_string();
    let done_first: Vec<String> = statuses(&m1)
        .into_iter()
        .filter(|(_, st)| st != "pending")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(done_first.len(), 20);
    assert_eq!(
        statuses(&m1)
            .iter()
            .filter(|(_, st)| st == "pending")
            .count(),
        selected.len() - 20
    );

    replay.clear_seen();
    let second = scan_org(&replay, dir.path(), &["--resume"]);
    assert_eq!(second.status.code(), Some(1), "repo-013 and repo-029 fail");
    let m2 = manifest(dir.path());
    assert_eq!(m2["run_id"].as_str(), Some(run_id.as_str()), "same run");
    assert!(statuses(&m2).iter().all(|(_, st)| st != "pending"));
    // Nothing scanned in the first part was asked for again (failures are retried).
    let seen = replay.seen();
    for name in &done_first {
        let failed = statuses(&m1)
            .iter()
            .any(|(n, st)| n == name && st == "failed");
        let asked = seen
            .iter()
            .filter(|s| s.path() == format!("/repos/{name}"))
            .count();
        if failed {
            assert!(asked >= 1, "{name} failed and was not retried");
        } else {
            assert_eq!(asked, 0, "{name} scanned again on --resume");
        }
    }

    // Without --resume a new run starts.
    let third = scan_org(&replay, dir.path(), &["--max-repos", "1"]);
    assert!(third.status.code().is_some());
    assert_ne!(
        manifest(dir.path())["run_id"].as_str(),
        Some(run_id.as_str())
    );
}

#[test]
fn shards_merge_to_the_single_run_summary() {
    let replay = Replay::start_in_thread();
    org::install(&replay, OrgSim::new(90));
    let whole = tempfile::tempdir().unwrap();
    scan_org(&replay, whole.path(), &["--concurrency", "4"]);
    let shards = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    let mut total = 0;
    for i in 1..=3 {
        let d = shards.path().join(format!("shard-{i}"));
        scan_org(&replay, &d, &["--shard", &format!("{i}/3")]);
        let n = statuses(&manifest(&d)).len();
        assert!(n > 5, "shard {i} has {n} repositories");
        total += n;
        dirs.push(d);
    }
    assert_eq!(total, statuses(&manifest(whole.path())).len());
    let merged = shards.path().join("merged");
    let out = Command::cargo_bin("mlops-maturity")
        .unwrap()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["summary.json", "summary.csv", "summary.md", "index.html"] {
        let a = std::fs::read_to_string(whole.path().join(file)).unwrap();
        let b = std::fs::read_to_string(merged.join(file)).unwrap();
        assert!(a == b, "{file} differs between one run and merged shards");
    }
    // Merging folders of different organisations is refused.
    let bad = shards.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let mut m = manifest(&dirs[0]);
    m["target"] = "github:other".into();
    std::fs::write(bad.join("run.json"), m.to_string()).unwrap();
    let out = Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args(["merge"])
        .arg(&dirs[0])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn filters_by_topic_language_and_glob() {
    let replay = Replay::start_in_thread();
    org::install(&replay, OrgSim::new(40));
    let dir = tempfile::tempdir().unwrap();
    let out = scan_org(
        &replay,
        dir.path(),
        &[
            "--topic",
            "ml",
            "--language",
            "python",
            "--exclude",
            "repo-01*",
            "--include-forks",
        ],
    );
    assert!(out.status.code().is_some_and(|c| c <= 1));
    let names: Vec<String> = statuses(&manifest(dir.path()))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let expected: Vec<String> = (0..40)
        .filter(|i| i % 2 == 0 && i % 3 != 0 && !OrgSim::archived(*i))
        .map(|i| format!("octo-org/{}", OrgSim::name(i)))
        .filter(|n| !n.starts_with("octo-org/repo-01"))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let replay = Replay::start_in_thread();
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["--shard", "4/3"], vec!["--include", "["]] {
        let out = scan_org(&replay, dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // An organisation that does not exist (no route: 404 for org and user).
    let out = scan_org(&replay, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such organisation"));
}

#[test]
fn history_records_runs_and_trend_shows_movement() {
    let replay = Replay::start_in_thread();
    let sim = OrgSim::new(24);
    org::install(&replay, sim.clone());
    let dir = tempfile::tempdir().unwrap();
    scan_org(&replay, dir.path(), &[]);
    // A week later the repositories changed shape.
    let mut later = sim;
    later.shift = 1;
    org::install(&replay, later);
    scan_org(&replay, dir.path(), &[]);
    let db = dir.path().join("history.sqlite");
    assert!(db.is_file());
    let out = Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args(["trend", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    let moved = t["repos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["mean_score_change"]
                .as_f64()
                .is_some_and(|c| c.abs() > 0.0)
        })
        .count();
    assert!(moved >= 5, "{moved} repositories moved");
    let out = Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args(["trend", "--repo", "repo-002", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("octo-org/repo-002") && text.contains(" → "),
        "{text}"
    );
    assert!(!text.contains("repo-003"));
    // Shard runs are not recorded; their merge is.
    let shard = dir.path().join("shard");
    scan_org(&replay, &shard, &["--shard", "1/2"]);
    assert!(!shard.join("history.sqlite").exists());
}

#[test]
fn progress_line_with_eta_on_stderr() {
    let replay = Replay::start_in_thread();
    org::install(&replay, OrgSim::new(12));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args([
            "scan-org",
            "github:octo-org",
            "--github-url",
            &replay.base,
            "--no-cache",
        ])
        .arg("--out")
        .arg(dir.path())
        .env("GITHUB_TOKEN", "org-test-token")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Not a terminal: plain lines, the last one at the end of the run.
    let total = OrgSim::new(12).selected().len();
    assert!(
        stderr.contains(&format!("[{total}/{total}]")) && stderr.contains("ETA"),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'));
    assert!(!stderr.contains("org-test-token"));
    assert!(stderr.contains("scan-org: 12 listed"), "{stderr}");
}
