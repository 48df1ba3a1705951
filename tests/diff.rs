//! `mlops-maturity diff`: level changes between two reports, their rendering, exit
//! codes, schema checks and the escaping of repository text.
//!
//! Reports with a known level change are built in-process from hand-made detections
//! whose evidence points into fixtures/pr/{base,head} (the head adds a canary rollout
//! and drops the evaluation threshold gate), so the expected changes do not depend on
//! how far the detectors have come. The binary is also run end to end on the two
//! fixture folders.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use mlops_maturity::assess::{self, Table};
use mlops_maturity::config::Config;
use mlops_maturity::detect::{Confidence, Detection, Evidence, Origin, PracticeFinding};
use mlops_maturity::evidence::{Location, Source};
use mlops_maturity::report::{self, ProjectReport, Report};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pr")
}

fn ev(path: &str, line: u32, excerpt: &str, qualifiers: &[&str]) -> Evidence {
    Evidence {
        rule: "test-rule".into(),
        origin: Origin::File {
            location: Location::new(path, line),
        },
        excerpt: excerpt.into(),
        chain: Vec::new(),
        qualifiers: qualifiers.iter().map(|q| q.to_string()).collect(),
        confidence: Confidence::High,
    }
}

fn finding(practice: &str, evidence: Vec<Evidence>) -> PracticeFinding {
    PracticeFinding {
        practice: practice.into(),
        evidence,
    }
}

fn common() -> Vec<PracticeFinding> {
    vec![
        finding(
            "ci.pipeline",
            vec![ev(".github/workflows/ci.yml", 1, "name: ci", &[])],
        ),
        finding(
            "build.container",
            vec![ev("Dockerfile", 1, "FROM python:3.11-slim", &[])],
        ),
    ]
}

/// What the detectors find in fixtures/pr/base.
fn base_detection() -> Detection {
    let mut findings = common();
    findings.push(finding(
        "model.evaluation",
        vec![{
            let mut e = ev(
                "src/evaluate.py",
                16,
                "if auc < AUC_THRESHOLD:",
                &["threshold", "ml", "in_pipeline"],
            );
            e.chain = vec![
                Location::new(".github/workflows/ci.yml", 24),
                Location::new("src/evaluate.py", 16),
            ];
            e
        }],
    ));
    Detection {
        findings,
        diagnostics: Vec::new(),
    }
}

/// What the detectors find in fixtures/pr/head.
fn head_detection() -> Detection {
    let mut findings = common();
    findings.push(finding(
        "deploy.progressive",
        vec![ev("deploy/rollout.yaml", 11, "canary:", &[])],
    ));
    findings.push(finding(
        "model.evaluation",
        vec![ev(
            "src/evaluate.py",
            11,
            "auc = roc_auc_score(test[\"churned\"], …)",
            &["ml"],
        )],
    ));
    Detection {
        findings,
        diagnostics: Vec::new(),
    }
}

fn report_json(d: &Detection, target: &str, table_version: Option<&str>) -> String {
    let table = Table::builtin().unwrap();
    let a = assess::assess(d, &table, &Config::default());
    let p = ProjectReport::new(
        None,
        String::new(),
        a,
        d,
        Some(".github/workflows/ci.yml".into()),
    );
    let mut r = Report::new(
        Source {
            kind: "local".into(),
            target: target.into(),
            revision: None,
        },
        table_version.unwrap_or(&table.version),
        None,
        vec![p],
        Vec::new(),
    );
    r.tool.version = "0.0.0-test";
    report::json::render(&r)
}

struct Pair {
    _dir: tempfile::TempDir,
    base: PathBuf,
    head: PathBuf,
}

fn write_pair(base: &str, head: &str) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("base.json");
    let h = dir.path().join("head.json");
    std::fs::write(&b, base).unwrap();
    std::fs::write(&h, head).unwrap();
    Pair {
        _dir: dir,
        base: b,
        head: h,
    }
}

fn fixture_pair() -> Pair {
    write_pair(
        &report_json(&base_detection(), "base", None),
        &report_json(&head_detection(), "head", None),
    )
}

fn bin() -> Command {
    Command::cargo_bin("mlops-maturity").unwrap()
}

fn run_diff(p: &Pair, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .arg("diff")
        .arg(&p.base)
        .arg(&p.head)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_evidence_points_at_real_fixture_lines() {
    // Keep the hand-made detections honest: the lines they cite exist.
    let line = |rev: &str, path: &str, n: usize| -> String {
        std::fs::read_to_string(fixtures().join(rev).join(path))
            .unwrap()
            .lines()
            .nth(n - 1)
            .unwrap()
            .to_string()
    };
    assert!(line("base", "src/evaluate.py", 16).contains("AUC_THRESHOLD"));
    assert!(line("head", "deploy/rollout.yaml", 11).contains("canary:"));
    assert!(line("head", "src/evaluate.py", 11).contains("roc_auc_score"));
    assert!(line("base", ".github/workflows/ci.yml", 24).contains("evaluate.py"));
    assert!(!fixtures().join("base/deploy/rollout.yaml").exists());
}

#[test]
fn one_sub_item_up_one_down() {
    let p = fixture_pair();
    let (code, out, _) = run_diff(&p, &["--format", "json"]);
    assert_eq!(code, 0, "no --fail-on-regression: success");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "mlops-maturity/diff/v1");
    assert_eq!(v["regressed"], true);
    let subs = v["projects"][0]["sub_items"].as_array().unwrap();
    let find = |id: &str| subs.iter().find(|s| s["id"] == id).unwrap();
    let canary = find("2.2.3");
    assert_eq!(
        (canary["base"].as_u64(), canary["head"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(canary["direction"], "up");
    assert_eq!(canary["name"]["zh"], "更新策略管理");
    assert_eq!(canary["gained"][0]["practice"], "deploy.progressive");
    assert_eq!(
        canary["gained"][0]["origin"]["location"]["path"],
        "deploy/rollout.yaml"
    );
    let eval = find("3.1.1");
    assert_eq!(
        (eval["base"].as_u64(), eval["head"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(eval["direction"], "down");
    assert_eq!(eval["lost"][0]["level"], 3);
    assert_eq!(
        eval["lost"][0]["chain"][0]["path"],
        ".github/workflows/ci.yml"
    );
    assert!(
        eval["missing"][0]["text"]["en"]
            .as_str()
            .unwrap()
            .contains("threshold"),
        "the regression says what is missing now"
    );
    let unchanged = v["projects"][0]["unchanged_sub_items"].as_array().unwrap();
    assert_eq!(unchanged.len() + subs.len(), 32);
}

/// Stable snapshots: the tool version is not part of what is tested.
fn stable(s: &str) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

#[test]
fn markdown_snapshot() {
    let p = fixture_pair();
    let (code, out, _) = run_diff(&p, &["--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(out.contains("更新策略管理 (Update-strategy management)"));
    assert!(out.contains("<summary>"));
    assert_eq!(out.matches("<details>").count(), 1);
    insta::assert_snapshot!(stable(&out));
}

#[test]
fn text_snapshot_and_chinese() {
    let p = fixture_pair();
    let (_, out, _) = run_diff(&p, &[]);
    assert!(out.contains("▼ 3.1.1 模型评估 (Model evaluation) 3 → 2"));
    insta::assert_snapshot!(stable(&out));
    let (_, zh, _) = run_diff(&p, &["--lang", "zh", "--format", "markdown"]);
    assert!(zh.contains("MLOps 成熟度变化"));
    assert!(
        zh.contains("模型评估 (Model evaluation)"),
        "names stay bilingual"
    );
}

#[test]
fn fail_on_regression_exit_code() {
    let p = fixture_pair();
    let (code, _, err) = run_diff(&p, &["--fail-on-regression"]);
    assert_eq!(code, 1);
    assert!(err.contains("went down"));
    // Head → base the other way round: 3.1.1 goes up, 2.2.3 goes down: still a regression.
    let swapped = write_pair(
        &std::fs::read_to_string(&p.head).unwrap(),
        &std::fs::read_to_string(&p.base).unwrap(),
    );
    assert_eq!(run_diff(&swapped, &["--fail-on-regression"]).0, 1);
    // Only gains: success.
    let gains = write_pair(
        &report_json(&base_detection(), "base", None),
        &report_json(
            &{
                let mut d = base_detection();
                d.findings.push(finding(
                    "deploy.progressive",
                    vec![ev("deploy/rollout.yaml", 11, "canary:", &[])],
                ));
                d
            },
            "head",
            None,
        ),
    );
    let (code, out, _) = run_diff(&gains, &["--fail-on-regression"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn nothing_changed_is_said_calmly() {
    let r = report_json(&base_detection(), "same", None);
    let p = write_pair(&r, &r);
    let (code, md, _) = run_diff(&p, &["--format", "markdown", "--fail-on-regression"]);
    assert_eq!(code, 0);
    assert!(md.contains("No maturity change."));
    assert!(md.contains("<summary>32 sub-items unchanged</summary>"));
    let (_, text, _) = run_diff(&p, &[]);
    assert!(text.contains("No maturity change."));
}

#[test]
fn schema_mismatch_is_refused() {
    let base = report_json(&base_detection(), "base", None);
    let head = base.replace("mlops-maturity/report/v1", "mlops-maturity/report/v2");
    let p = write_pair(&base, &head);
    let (code, out, err) = run_diff(&p, &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("schema mismatch"), "{err}");
    assert!(err.contains("mlops-maturity/report/v2"), "{err}");
    assert!(err.contains("help:"), "{err}");

    let p = write_pair("{\"hello\": 1}", &base);
    let (code, _, err) = run_diff(&p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not an mlops-maturity report"), "{err}");
}

#[test]
fn table_version_change_is_noted() {
    let p = write_pair(
        &report_json(&base_detection(), "base", Some("2025.1.0")),
        &report_json(&head_detection(), "head", None),
    );
    let (code, md, err) = run_diff(&p, &["--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(err.contains("different interpretation tables"), "{err}");
    assert!(md.contains("interpretation table changed"), "{md}");
    let (_, json, _) = run_diff(&p, &["--format", "json"]);
    assert!(json.contains("\"table_versions_differ\": true"));
}

const HOSTILE: &[&str] = &[
    "<img src=x onerror=alert(1)>",
    "@org/team please look",
    "</details><!-- hide",
    "-->",
    "[click](http://evil.example/x)",
    "``` code fence `tick`",
    "a | b | c",
    "line one\nline two\r\n## heading",
    "<https://evil.example>",
    "www.evil.example",
    "#1 fixes owner/repo#2",
];

fn hostile_detection() -> Detection {
    let mut d = head_detection();
    let pieces = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut e = ev(&format!("deploy/{h}.yaml"), i as u32 + 1, h, &[]);
            e.rule = (*h).to_string();
            e.chain = vec![Location::new(format!(".github/workflows/{h}.yml"), 3)];
            e
        })
        .chain(std::iter::once(ev(
            &"long/".repeat(400),
            1,
            &"x".repeat(10_000),
            &[],
        )))
        .collect::<Vec<_>>();
    // Each piece is its own place, so all are shown (up to 5 per practice and requirement):
    // spread them over practices that 2.2.3 and 2.3.1 accept.
    for (i, chunk) in pieces.chunks(4).enumerate() {
        let practice = [
            "deploy.progressive",
            "deploy.rollback",
            "deploy.progressive",
        ][i % 3];
        match d.findings.iter_mut().find(|f| f.practice == practice) {
            Some(f) => f.evidence.extend(chunk.iter().cloned()),
            None => d.findings.push(finding(practice, chunk.to_vec())),
        }
    }
    d
}

/// Split a Markdown line into (outside code spans, inside code spans), failing on an
/// unbalanced span. Escaped backticks (\`) are literal text.
fn split_code_spans(line: &str) -> (String, String) {
    let cleaned = line.replace("\\`", "");
    let parts: Vec<&str> = cleaned.split('`').collect();
    assert!(parts.len() % 2 == 1, "unbalanced code span in: {line}");
    let (mut outside, mut inside) = (String::new(), String::new());
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 0 {
            outside.push_str(p);
        } else {
            inside.push_str(p);
        }
    }
    (outside, inside)
}

fn unescaped_pipes(s: &str) -> usize {
    let b = s.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

#[test]
fn repository_text_comes_out_inert() {
    let p = write_pair(
        &report_json(&base_detection(), "base <b>@base</b>", None),
        &report_json(&hostile_detection(), "head](http://evil)", None),
    );
    let (code, md, _) = run_diff(&p, &["--format", "markdown"]);
    assert_eq!(code, 0);
    // The hostile evidence made it into the comment (otherwise this test proves nothing).
    assert!(md.contains("org/team"), "{md}");
    assert!(md.contains("evil.example"), "{md}");
    assert!(md.contains('…'), "long strings are truncated");
    assert!(md.len() < 40_000, "bounded output: {} bytes", md.len());

    let mut header_pipes = None;
    for line in md.lines() {
        if matches!(line, "<details>" | "</details>")
            || (line.starts_with("<summary>") && line.ends_with("</summary>"))
        {
            continue;
        }
        let (outside, _inside) = split_code_spans(line);
        let line_for_html = outside
            .replace("<sub>", "")
            .replace("</sub>", "")
            .replace("<summary>", "")
            .replace("</summary>", "");
        assert!(!line_for_html.contains('<'), "raw HTML: {line}");
        assert!(!outside.contains("-->"), "comment close: {line}");
        assert!(!outside.contains("@org"), "mention: {line}");
        assert!(!outside.contains("@base"), "mention: {line}");
        assert!(!outside.replace("\\]", "").contains("]("), "link: {line}");
        assert!(!outside.contains("://"), "autolink: {line}");
        assert!(!outside.to_lowercase().contains("www."), "autolink: {line}");
        assert!(
            !outside.contains("#1 ") && !outside.contains("#2"),
            "reference: {line}"
        );
        assert!(!line.starts_with("## heading"), "injected heading: {line}");
        // Table rows keep their shape: as many cells as their header.
        if line.starts_with('|') {
            let n = unescaped_pipes(line);
            if line.starts_with("|---") || header_pipes.is_none() {
                header_pipes = Some(n);
            }
            assert_eq!(Some(n), header_pipes, "table row broken: {line}");
        } else {
            header_pipes = None;
        }
    }
    // Outside code spans (where CommonMark shows text literally) our own fold is the only one.
    let outside_code: String = md.lines().map(|l| split_code_spans(l).0 + "\n").collect();
    assert_eq!(outside_code.matches("<details>").count(), 1);
    assert_eq!(outside_code.matches("</details>").count(), 1);

    // Text output: no control characters from the repository.
    let (_, text, _) = run_diff(&p, &[]);
    assert!(!text.contains('\r'));
    assert!(!text.contains("line one\nline two"));
}

#[test]
fn scans_of_the_fixture_revisions_diff_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for rev in ["base", "head"] {
        let out = dir.path().join(format!("{rev}.json"));
        bin()
            .args(["scan", "--no-config", "--format", "json", "-o"])
            .arg(&out)
            .arg(fixtures().join(rev))
            .assert()
            .success();
        paths.push(out);
    }
    let out = bin()
        .arg("diff")
        .args(&paths)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "mlops-maturity/diff/v1");
    let p = &v["projects"][0];
    let moved = p["sub_items"].as_array().unwrap().len();
    assert_eq!(
        moved + p["unchanged_sub_items"].as_array().unwrap().len(),
        32
    );
    // The rollout only adds and the threshold only removes: whatever the detectors see,
    // 2.2.3 cannot go down and 3.1.1 cannot go up.
    for s in p["sub_items"].as_array().unwrap() {
        match s["id"].as_str().unwrap() {
            "2.2.3" => assert_eq!(s["direction"], "up"),
            "3.1.1" => assert_eq!(s["direction"], "down"),
            _ => {}
        }
    }
    let regressed = v["regressed"].as_bool().unwrap();
    let code = bin()
        .arg("diff")
        .args(&paths)
        .arg("--fail-on-regression")
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(if regressed { 1 } else { 0 }));
}
