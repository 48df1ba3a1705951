//! CLI: evidence sources beyond the checkout — `--history FILE` and `github:` targets.

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("mlops-maturity").expect("binary builds");
    cmd.env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env("NO_COLOR", "1");
    cmd
}

fn fixture(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn history_file_adds_metrics_and_history_facts() {
    let out = bin()
        .args([
            "scan",
            &fixture("fixtures/repos/basic-gha"),
            "--format",
            "json",
        ])
        .args(["--history", &fixture("fixtures/history/sample.jsonl")])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let history = &report["history"];
    assert!(
        history["deploy_frequency"]["value"].is_object(),
        "{history}"
    );
    assert!(
        history["deploy_frequency"]["window"]["days"]
            .as_i64()
            .unwrap_or(0)
            > 0
    );
    let practices: Vec<&str> = report["projects"][0]["practices"]
        .as_array()
        .expect("practices")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(
        practices.contains(&"history.deploy_frequency"),
        "{practices:?}"
    );
    assert!(practices.contains(&"history.rollbacks"), "{practices:?}");

    // Without --history a local scan claims no history fact and has no metrics.
    let out = bin()
        .args([
            "scan",
            &fixture("fixtures/repos/basic-gha"),
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report.get("history").is_none());
}

#[test]
fn history_text_report_names_the_window() {
    bin()
        .args(["scan", &fixture("fixtures/repos/basic-gha")])
        .args(["--history", &fixture("fixtures/history/sample.csv")])
        .assert()
        .success()
        .stdout(predicate::str::contains("Delivery history"))
        .stdout(predicate::str::contains("Deployment frequency"))
        .stdout(predicate::str::contains("2026-05-04..2026-06-08"));
}

#[test]
fn missing_history_file_is_a_usage_error() {
    bin()
        .args([
            "scan",
            &fixture("fixtures/repos/basic-gha"),
            "--history",
            "/nonexistent/h.jsonl",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/h.jsonl"));
}

#[test]
fn bad_github_target_is_a_usage_error() {
    bin()
        .args(["scan", "github:only-owner"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("OWNER/REPO"));
}

#[test]
fn unreachable_github_url_fails_cleanly_without_printing_the_token() {
    // Port 9 on loopback (discard) is closed here: the connection is refused at once.
    let out = bin()
        .env("MM_TEST_TOKEN", "ghp_supersecretvalue")
        .args([
            "scan",
            "github:octo/repo",
            "--github-url",
            "http://127.0.0.1:9",
            "--no-cache",
        ])
        .args(["--token-env", "MM_TEST_TOKEN"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("supersecret"), "{all}");
    assert!(all.contains("help:"), "{all}");
}

#[test]
fn evidence_json_gives_jobs_edges_and_locations_of_a_fixture() {
    let out = bin()
        .args([
            "evidence",
            &fixture("fixtures/repos/mature-gitlab"),
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let edges: Vec<(String, String, String)> = v["graph"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap_or_default().to_string(),
                e["to"].as_str().unwrap_or_default().to_string(),
                e["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has = |from: &str, to: &str, kind: &str| {
        edges
            .iter()
            .any(|(f, t, k)| f == from && t == to && k == kind)
    };
    // `needs:` chains production after staging; stage order puts tests before training;
    // `trigger: include:` links the child pipeline.
    assert!(
        has(
            ".gitlab-ci.yml#deploy-staging",
            ".gitlab-ci.yml#deploy-production",
            "needs"
        ),
        "{edges:?}"
    );
    assert!(
        has(
            ".gitlab-ci.yml#lint",
            ".gitlab-ci.yml#unit-tests",
            "stage_order"
        ),
        "{edges:?}"
    );
    assert!(
        has(
            ".gitlab-ci.yml#build-image",
            "ci/image.yml#build",
            "triggers"
        ),
        "{edges:?}"
    );
    let root = v["snapshot"]["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .find(|p| p["file"] == ".gitlab-ci.yml")
        .expect("root pipeline");
    let train = root["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["id"] == "train")
        .expect("train job");
    assert_eq!(train["location"]["path"], ".gitlab-ci.yml");
    assert!(train["location"]["line"].as_u64().unwrap_or(0) > 1);
    // Contents stay out of the JSON unless asked for.
    assert!(v["snapshot"]["files"][0].get("content").is_none());
}
