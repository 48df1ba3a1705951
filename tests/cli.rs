//! The command line on a tiny temporary repository.

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    Command::cargo_bin("mlops-maturity").unwrap()
}

fn tiny_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("ci.yml"),
        "name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "# tiny\n").unwrap();
    std::fs::write(dir.path().join("train.py"), "print('train')\n").unwrap();
    dir
}

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("valid JSON")
}

#[test]
fn help_works() {
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("scan").and(predicate::str::contains("Examples")));
    bin().args(["scan", "--help"]).assert().success().stdout(
        predicate::str::contains("--fail-under").and(predicate::str::contains("--no-config")),
    );
}

#[test]
fn scan_json_has_32_sub_items() {
    let repo = tiny_repo();
    let out = bin()
        .args(["scan", "--format", "json", "--no-config"])
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["schema"], "mlops-maturity/report/v1");
    let table = mlops_maturity::assess::Table::builtin().expect("table");
    assert_eq!(v["table_version"], table.version.as_str());
    assert!(v["overall"].as_u64().is_some());
    let project = &v["projects"][0];
    let subs: Vec<&serde_json::Value> = project["sub_domains"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["items"].as_array().unwrap())
        .flat_map(|i| i["sub_items"].as_array().unwrap())
        .collect();
    assert_eq!(subs.len(), 32);
    assert!(
        subs.iter()
            .all(|s| s["level"].as_u64().is_some_and(|l| (1..=5).contains(&l)))
    );
    assert!(project["mean_score"].as_f64().is_some());
}

#[test]
fn scan_markdown_and_output_file() {
    let repo = tiny_repo();
    let out_file = repo.path().join("report.md");
    bin()
        .args(["scan", "--format", "markdown", "--output"])
        .arg(&out_file)
        .arg(repo.path())
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let md = std::fs::read_to_string(&out_file).unwrap();
    assert!(md.starts_with("# MLOps maturity report"));
    assert!(md.contains("| 2.2.3 更新策略管理 (Update-strategy management) |"));
}

#[test]
fn scan_sarif_is_structurally_valid() {
    let repo = tiny_repo();
    let out = bin()
        .args(["scan", "--format", "sarif"])
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "mlops-maturity");
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 32);
    for r in v["runs"][0]["results"].as_array().unwrap() {
        assert!(r["ruleId"].as_str().unwrap().starts_with("mlops-maturity/"));
        assert!(["note", "warning"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        // Located at the sub-item's evidence or the first pipeline/README once the
        // connector has read them; every uri is repository-relative.
        if let Some(uri) = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str()
        {
            assert!(!uri.starts_with('/'), "relative uri: {uri}");
        }
    }
}

#[test]
fn explain_shows_both_names() {
    bin().args(["explain", "2.2.3"]).assert().success().stdout(
        predicate::str::contains("更新策略管理")
            .and(predicate::str::contains("Update-strategy management"))
            .and(predicate::str::contains("L4")),
    );
    bin()
        .args(["explain", "deploy.rollback"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2.2.3"));
    bin()
        .args(["explain", "levels"])
        .assert()
        .success()
        .stdout(predicate::str::contains("卓越级 (Outstanding)"));
    bin()
        .args(["explain", "9.9.9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("help:"));
}

#[test]
fn fail_under_exits_1_on_an_empty_repo() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["scan", "--fail-under", "2"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("below --fail-under 2"));
    bin()
        .args(["scan", "--fail-under", "1"])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn nonexistent_path_exits_2_with_a_clear_message() {
    bin()
        .args(["scan", "/definitely/not/here"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("/definitely/not/here: no such file or directory")
                .and(predicate::str::contains("help:")),
        );
    bin().args(["scan", "--format", "yaml"]).assert().code(2);
}

#[test]
fn lang_zh_changes_prose_not_names() {
    let repo = tiny_repo();
    let en = bin()
        .arg("scan")
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let zh = bin()
        .args(["scan", "--lang", "zh"])
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let (en, zh) = (
        String::from_utf8(en).unwrap(),
        String::from_utf8(zh).unwrap(),
    );
    assert!(en.contains("Overall level") && !zh.contains("Overall level"));
    assert!(zh.contains("总体等级"));
    for s in [&en, &zh] {
        assert!(s.contains("构建过程 (Build process)"));
    }
    assert!(
        !en.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn config_attestations_and_errors() {
    let repo = tiny_repo();
    std::fs::write(
        repo.path().join(".mlops-maturity.toml"),
        "[[attest]]\npractice = \"model.registry\"\nurl = \"https://wiki/registry\"\nreason = \"models live in the platform registry\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["scan", "--format", "json"])
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["config"], ".mlops-maturity.toml");
    let sub = v["projects"][0]["sub_domains"][1]["items"][1]["sub_items"][0].clone();
    assert_eq!(sub["id"], "2.2.1");
    assert_eq!(sub["level"], 2);
    let ev = &sub["met"][0]["requirements"][0]["evidence"][0]["shown"][0];
    assert_eq!(ev["origin"]["kind"], "attested");
    assert_eq!(ev["origin"]["location"]["line"], 1);

    // --no-config ignores it.
    let out = bin()
        .args(["scan", "--format", "json", "--no-config"])
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["config"], serde_json::Value::Null);

    // A bad key: exit 2 naming file and line.
    let bad = repo.path().join("bad.toml");
    std::fs::write(&bad, "exclude = []\nunknown_key = 1\n").unwrap();
    bin()
        .args(["scan", "--config"])
        .arg(&bad)
        .arg(repo.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bad.toml:2").and(predicate::str::contains("unknown_key")),
        );
}

#[test]
fn monorepo_projects_are_assessed_separately() {
    let repo = tiny_repo();
    std::fs::create_dir_all(repo.path().join("svc/a")).unwrap();
    std::fs::write(repo.path().join("svc/a/serve.py"), "x = 1\n").unwrap();
    std::fs::write(
        repo.path().join(".mlops-maturity.toml"),
        "[[project]]\nname = \"a\"\npath = \"svc/a\"\n\n[[project]]\nname = \"b\"\npath = \"svc/b\"\n",
    )
    .unwrap();
    let assert = bin()
        .args(["scan", "--format", "json"])
        .arg(repo.path())
        .assert()
        .success();
    let v = json_of(&assert.get_output().stdout);
    let projects = v["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[0]["name"], "a");
    assert_eq!(projects[1]["path"], "svc/b");
    // svc/b has no files: a diagnostic says so.
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "project-empty")
    );
}

#[test]
fn detectors_and_evidence_commands() {
    bin().arg("detectors").assert().success();
    let out = bin()
        .args(["detectors", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let list = json_of(&out);
    let coded = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "coded")
        .count();
    assert!(coded >= 1, "coded detectors are listed");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["practice"] == "deploy.gated_by_tests")
    );
    let repo = tiny_repo();
    let out = bin()
        .arg("evidence")
        .arg(repo.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert!(v["snapshot"].is_object());
    assert!(v["graph"]["edges"].is_array());
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    let repo = tiny_repo();
    bin()
        .args(["scan", "--exclude", "[oops"])
        .arg(repo.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--exclude").and(predicate::str::contains("help:")));
    bin()
        .args(["scan", "--output", "/nonexistent-dir/x/report.json"])
        .arg(repo.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write the report"));
    bin()
        .args(["scan", "--config", "x.toml", "--no-config"])
        .arg(repo.path())
        .assert()
        .code(2);
    bin()
        .args(["scan", "--fail-under", "7"])
        .arg(repo.path())
        .assert()
        .code(2);
    let file = repo.path().join("README.md");
    bin()
        .arg("scan")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a directory"));
}

#[test]
fn explain_items_and_practices() {
    bin()
        .args(["explain", "2.2", "--lang", "zh"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("持续部署 (Continuous deployment)")
                .and(predicate::str::contains("2.2.4")),
        );
    bin()
        .args(["explain", "history.deploy_frequency"])
        .assert()
        .success()
        .stdout(predicate::str::contains("history").and(predicate::str::contains("2.2.2")));
}
