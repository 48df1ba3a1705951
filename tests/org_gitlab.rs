//! `scan-org gitlab:GROUP`: the group listing with subgroups over `x-next-page`
//! pages, archived projects and forks skipped, every selected project scanned
//! through the GitLab connector (here they answer 404: recorded, the run goes on).

mod support;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::{Replay, Reply};

fn project(i: usize) -> Value {
    let sub = if i % 2 == 0 {
        "ml/platform"
    } else {
        "ml/platform/serving"
    };
    json!({
        "id": 500 + i, "path": format!("p{i:02}"), "path_with_namespace": format!("{sub}/p{i:02}"),
        "archived": i == 3, "topics": ["ml"],
        "forked_from_project": if i == 4 { json!({"id": 1}) } else { Value::Null },
    })
}

#[test]
fn group_listing_with_subgroups_and_pages() {
    let replay = Replay::start_gitlab_in_thread();
    let page1: Vec<Value> = (0..100).map(project).collect();
    let page2: Vec<Value> = (100..130).map(project).collect();
    replay.get(
        "/api/v4/groups/ml%2Fplatform/projects?include_subgroups=true",
        Reply::value(&Value::Array(page1)).header("x-next-page", "2"),
    );
    replay.get(
        "/api/v4/groups/ml%2Fplatform/projects?include_subgroups=true&page=2",
        Reply::value(&Value::Array(page2)).header("x-next-page", ""),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args([
            "scan-org",
            "gitlab:ml/platform",
            "--gitlab-url",
            &replay.base,
        ])
        .arg("--out")
        .arg(dir.path())
        .args(["--no-cache", "--quiet", "--concurrency", "8"])
        .env("GITLAB_TOKEN", "glpat-org-test")
        .env_remove("CI_JOB_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    assert_eq!(m["listed"], 130);
    let repos = m["repos"].as_array().unwrap();
    assert_eq!(repos.len(), 128, "archived p03 and fork p04 skipped");
    assert!(
        repos
            .iter()
            .any(|r| r["full_name"] == "ml/platform/serving/p01")
    );
    assert!(repos.iter().all(|r| {
        r["target"]
            .as_str()
            .unwrap()
            .starts_with("gitlab:ml/platform/")
    }));
    assert!(repos.iter().all(|r| r["status"] == "failed"));
    assert!(
        repos
            .iter()
            .any(|r| r["file"] == "repos/ml__platform__serving__p01.json"),
        "subgroup path in the file name"
    );
    // The token never reaches the outputs.
    for f in ["run.json", "summary.csv", "index.html"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(!text.contains("glpat-org-test"), "{f}");
    }
}
