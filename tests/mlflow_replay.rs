//! The MLflow connector against a loopback replay of what real registries do and a
//! local MLflow server won't: 401/403, 5xx then success, slow answers, many pages,
//! malformed JSON, GitLab's base path and a server without `model-versions/search`.

#[path = "mlflow/replay.rs"]
mod replay;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mlops_maturity::connect::mlflow::{
    self, Credentials, EvidenceKind, MlflowOptions, RetryPolicy, Secret, apply_to_snapshot,
    registry_findings,
};
use mlops_maturity::evidence::{FileSet, Observed, Snapshot, Source};
use replay::{Replay, Reply, Request};
use serde_json::{Value, json};

const API: &str = "/api/2.0/mlflow/";

/// An in-memory registry answering the MLflow REST API with `page_token` = offset.
#[derive(Default, Clone)]
struct Registry {
    models: Vec<Value>,
    versions: BTreeMap<String, Vec<Value>>,
    runs: BTreeMap<String, Value>,
    /// Serve `model-versions/search` (GitLab-style servers may not).
    no_version_search: bool,
}

impl Registry {
    fn with_model(
        mut self,
        name: &str,
        aliases: &[(&str, &str)],
        versions: &[(&str, &str, &str)],
    ) -> Self {
        let aliases: Vec<Value> = aliases
            .iter()
            .map(|(a, v)| json!({"alias": a, "version": v}))
            .collect();
        self.models
            .push(json!({"name": name, "creation_timestamp": 1, "aliases": aliases}));
        let vs = versions
            .iter()
            .map(|(v, stage, run)| {
                json!({"name": name, "version": v, "current_stage": stage, "run_id": run,
                       "source": format!("runs:/{run}/model"), "status": "READY",
                       "creation_timestamp": now_ms() - 86_400_000})
            })
            .collect();
        self.versions.insert(name.to_string(), vs);
        self
    }

    fn with_run(mut self, id: &str, commit: &str, repo: &str) -> Self {
        self.runs.insert(
            id.to_string(),
            json!({"run": {"info": {"run_id": id, "status": "FINISHED"},
                    "data": {"metrics": [{"key": "acc", "value": 0.9}],
                             "tags": [{"key": "mlflow.source.git.commit", "value": commit},
                                      {"key": "mlflow.source.git.repoURL", "value": repo}]}}}),
        );
        self
    }

    fn answer(&self, req: &Request, prefix: &str) -> Reply {
        let Some(endpoint) = req
            .path
            .strip_prefix(prefix)
            .and_then(|p| p.strip_prefix(API))
        else {
            return Reply::status(404, "<html>no such page</html>");
        };
        let page = |items: &[Value], key: &str| {
            let size: usize = req
                .q("max_results")
                .and_then(|m| m.parse().ok())
                .unwrap_or(100);
            let offset: usize = req
                .q("page_token")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let end = (offset + size).min(items.len());
            let mut body = json!({ key: items.get(offset..end).unwrap_or(&[]).to_vec() });
            if end < items.len() {
                body["next_page_token"] = json!(end.to_string());
            }
            Reply::json(body)
        };
        match endpoint {
            "registered-models/search" => page(&self.models, "registered_models"),
            "registered-models/get" => match self
                .models
                .iter()
                .find(|m| m["name"] == req.q("name").unwrap_or(""))
            {
                Some(m) => {
                    let mut m = m.clone();
                    let latest: Vec<Value> = self
                        .versions
                        .get(m["name"].as_str().unwrap_or(""))
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .rev()
                        .take(1)
                        .collect();
                    m["latest_versions"] = json!(latest);
                    Reply::json(json!({"registered_model": m}))
                }
                None => Reply::missing(),
            },
            "model-versions/search" if !self.no_version_search => {
                let filter = req.q("filter").unwrap_or("");
                let name = filter.trim_start_matches("name=").trim_matches(['\'', '"']);
                page(
                    self.versions.get(name).map(Vec::as_slice).unwrap_or(&[]),
                    "model_versions",
                )
            }
            "model-versions/get" => {
                let found = self
                    .versions
                    .get(req.q("name").unwrap_or(""))
                    .and_then(|vs| {
                        vs.iter()
                            .find(|v| v["version"] == req.q("version").unwrap_or(""))
                    });
                match found {
                    Some(v) => Reply::json(json!({"model_version": v})),
                    None => Reply::missing(),
                }
            }
            "runs/get" => match self.runs.get(req.q("run_id").unwrap_or("")) {
                Some(r) => Reply::json(r.clone()),
                None => Reply::missing(),
            },
            _ => Reply::status(404, "<html>no such endpoint</html>"),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Two models of acme/churn: aliases, stages, one deleted version (v2 of churn).
fn sample() -> Registry {
    Registry::default()
        .with_model(
            "churn",
            &[("champion", "3")],
            &[("1", "Archived", "r1"), ("3", "None", "r3")],
        )
        .with_model("fraud", &[], &[("1", "Production", "r4")])
        .with_run("r1", "aaaaaaaa1", "https://github.com/acme/churn")
        .with_run("r3", "cccccccc3", "https://github.com/acme/churn")
        .with_run("r4", "dddddddd4", "https://github.com/acme/churn")
}

fn options(base: &str) -> MlflowOptions {
    let mut opts = MlflowOptions::new(base);
    opts.credentials = Credentials::None;
    opts.timeout = Duration::from_secs(5);
    opts.retry = RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(10),
    };
    opts.fetch_schemas = false;
    opts
}

fn codes(ev: &mlflow::RegistryEvidence) -> Vec<&str> {
    ev.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_replay_collects_everything() {
    let registry = sample();
    let server = Replay::start(move |r| registry.answer(r, "")).await;
    let (ev, stats) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert_eq!(ev.models.len(), 2);
    let churn = ev.model("churn").unwrap();
    assert_eq!(churn.missing_versions, [2]);
    assert_eq!(churn.version("3").unwrap().aliases, ["champion"]);
    assert_eq!(
        churn.version("3").unwrap().git_commit.as_deref(),
        Some("cccccccc3")
    );
    assert!(!ev.partial, "{:?}", ev.diagnostics);
    // 1 search + 2 version searches + 3 runs.
    assert_eq!(stats.requests, 6, "{stats:?}");
    assert_eq!(server.count("runs/get"), 3);
    // The filter reached the server as MLflow's grammar wants it.
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.q("filter") == Some("name='churn'"))
    );
    let findings = registry_findings(&ev);
    assert!(findings.iter().any(|f| f.practice == "api.model_lineage"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_registry_is_not_visible_not_absent() {
    let server = Replay::start(|_| Reply::status(401, r#"{"error_code":"UNAUTHENTICATED"}"#)).await;
    let (ev, stats) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert!(!ev.models_visible);
    assert!(ev.models.is_empty());
    assert_eq!(stats.requests, 1, "401 is an answer, not retried");
    assert_eq!(ev.not_visible.len(), 1);
    assert_eq!(ev.not_visible[0].kind, EvidenceKind::RegisteredModels);
    assert_eq!(ev.not_visible[0].http_status, 401);
    let message = &ev.diagnostics[0].message;
    assert!(
        message.contains("registered-models/search") && message.contains("MLFLOW_TRACKING_TOKEN"),
        "{message}"
    );
    assert!(registry_findings(&ev).is_empty());
    let mut snapshot = Snapshot::new(
        Source {
            kind: "local".into(),
            target: ".".into(),
            revision: None,
        },
        FileSet::default(),
    );
    apply_to_snapshot(&mut snapshot, ev);
    assert!(matches!(
        snapshot.api.registry_versions,
        Observed::NotVisible { .. }
    ));
    assert!(
        snapshot
            .diagnostics
            .iter()
            .any(|d| d.code == "mlflow-not-visible")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_runs_hide_lineage_only() {
    let registry = sample();
    let server = Replay::start(move |r| {
        if r.path.ends_with("runs/get") {
            Reply::status(403, r#"{"error_code":"PERMISSION_DENIED","message":"no"}"#)
        } else {
            registry.answer(r, "")
        }
    })
    .await;
    let (ev, _) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert_eq!(ev.models.len(), 2);
    assert!(!ev.kind_visible(EvidenceKind::Runs));
    assert!(ev.kind_visible(EvidenceKind::RegisteredModels));
    assert!(ev.runs.values().all(|r| r.visibility == "not-visible"));
    let denied: Vec<_> = ev
        .diagnostics
        .iter()
        .filter(|d| d.code == "mlflow-not-visible")
        .collect();
    assert_eq!(denied.len(), 1, "said once per endpoint: {denied:?}");
    assert!(
        denied[0].message.contains("runs/get")
            && denied[0]
                .message
                .contains("READ/CAN READ on the experiment")
    );
    let findings = registry_findings(&ev);
    let ids: Vec<&str> = findings.iter().map(|f| f.practice.as_str()).collect();
    assert!(!ids.contains(&"api.model_lineage"), "{ids:?}");
    assert!(ids.contains(&"api.model_promotion") && ids.contains(&"api.model_retirement"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_succeed() {
    let registry = sample();
    let failures = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&failures);
    let server = Replay::start(move |r| {
        if r.path.ends_with("registered-models/search") && seen.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::status(503, "<html>busy</html>")
        } else {
            registry.answer(r, "")
        }
    })
    .await;
    let (ev, stats) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert_eq!(ev.models.len(), 2);
    assert_eq!(stats.retries, 2);
    assert_eq!(server.count("registered-models/search"), 3);
    assert!(!codes(&ev).contains(&"mlflow-unreachable"));
    assert!(!ev.partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_server_errors_give_up_with_a_diagnostic() {
    let server = Replay::start(|_| Reply::status(500, "<html>boom</html>")).await;
    let (ev, stats) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert_eq!(stats.requests, 3);
    assert_eq!(stats.failed, 1);
    assert!(ev.partial && !ev.models_visible);
    let d = ev
        .diagnostics
        .iter()
        .find(|d| d.code == "mlflow-unreachable")
        .expect("diagnostic");
    assert!(
        d.message.contains("HTTP 500 after 3 attempts"),
        "{}",
        d.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out_and_the_scan_goes_on() {
    let registry = sample();
    let server = Replay::start(move |r| {
        let reply = registry.answer(r, "");
        if r.path.ends_with("runs/get") && r.q("run_id") == Some("r3") {
            reply.after(Duration::from_secs(3))
        } else {
            reply
        }
    })
    .await;
    let mut opts = options(&server.base);
    opts.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (ev, stats) = mlflow::collect(&opts).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server.count("runs/get"),
        5,
        "r3 tried 3 times, r1 and r4 once"
    );
    assert_eq!(stats.retries, 2);
    let run3 = &ev.runs["r3"];
    assert_eq!(run3.visibility, "failed");
    assert!(
        ev.diagnostics
            .iter()
            .any(|d| d.code == "mlflow-unreachable" && d.message.contains("timed out"))
    );
    assert_eq!(ev.runs["r1"].visibility, "visible");
    assert!(ev.partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_over_many_pages() {
    let mut registry = Registry::default();
    for m in 0..120 {
        let versions: Vec<(String, String, String)> = if m == 7 {
            (1..=95)
                .map(|v| (v.to_string(), "None".to_string(), format!("run-{v}")))
                .collect()
        } else {
            vec![("1".into(), "None".into(), "run-1".into())]
        };
        let refs: Vec<(&str, &str, &str)> = versions
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        registry = registry.with_model(&format!("model-{m:03}"), &[], &refs);
    }
    for v in 1..=95 {
        registry = registry.with_run(&format!("run-{v}"), "abc", "https://github.com/acme/churn");
    }
    let server = Replay::start(move |r| registry.answer(r, "")).await;
    let mut opts = options(&server.base);
    opts.page_size = 5;
    opts.name_pattern = Some("model-00[0-9]".into());
    opts.concurrency = 8;
    let (ev, stats) = mlflow::collect(&opts).await.unwrap();
    assert_eq!(ev.models.len(), 10);
    assert_eq!(ev.unmatched_models, 110);
    let big = ev.model("model-007").unwrap();
    assert_eq!(big.versions.len(), 95);
    assert!(big.versions_complete && big.missing_versions.is_empty());
    // 120 models / 5 = 24 pages (23 followed); model-007: 19 pages (18 followed).
    assert_eq!(server.count("registered-models/search"), 24);
    assert_eq!(stats.pages, 23 + 18);
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/search"))
            .all(|r| r.q("max_results") == Some("5"))
    );
    assert!(!ev.partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_page_token_and_budget_stop_cleanly() {
    let server = Replay::start(|r| {
        if r.path.ends_with("registered-models/search") {
            Reply::json(json!({"registered_models": [{"name": "m"}], "next_page_token": "same"}))
        } else {
            Reply::json(json!({}))
        }
    })
    .await;
    let (ev, _) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert!(codes(&ev).contains(&"mlflow-pagination-loop"));
    assert_eq!(server.count("registered-models/search"), 2);

    let registry = sample();
    let server = Replay::start(move |r| registry.answer(r, "")).await;
    let mut opts = options(&server.base);
    opts.max_requests = 2;
    let (ev, stats) = mlflow::collect(&opts).await.unwrap();
    assert_eq!(stats.requests, 2);
    assert!(stats.budget_exhausted && ev.partial);
    assert_eq!(
        codes(&ev)
            .iter()
            .filter(|c| **c == "mlflow-request-budget")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_becomes_a_diagnostic() {
    let registry = sample();
    let server = Replay::start(move |r| {
        if r.path.ends_with("runs/get") && r.q("run_id") == Some("r1") {
            Reply::raw(r#"{"run": {"info": "#)
        } else if r.q("filter") == Some("name='fraud'") {
            Reply::raw(r#"{"model_versions": "not a list"}"#)
        } else {
            registry.answer(r, "")
        }
    })
    .await;
    let (ev, stats) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert_eq!(stats.malformed, 1, "the truncated body");
    let malformed: Vec<_> = ev
        .diagnostics
        .iter()
        .filter(|d| d.code == "mlflow-malformed-json")
        .collect();
    assert_eq!(malformed.len(), 2, "{malformed:?}");
    assert!(malformed.iter().any(|d| d.message.contains("runs/get")));
    assert!(
        malformed
            .iter()
            .any(|d| d.message.contains("model-versions/search"))
    );
    assert_eq!(ev.runs["r1"].visibility, "failed");
    assert_eq!(ev.runs["r3"].visibility, "visible");
    let fraud = ev.model("fraud").unwrap();
    assert!(fraud.versions.is_empty() && !fraud.versions_complete);
    assert!(ev.model("churn").unwrap().versions_complete);
    assert!(ev.partial);

    // A body that is not JSON at all on the first call: nothing visible, no panic.
    let server = Replay::start(|_| Reply::raw("<html>login page</html>")).await;
    let (ev, _) = mlflow::collect(&options(&server.base)).await.unwrap();
    assert!(ev.models.is_empty());
    assert!(codes(&ev).contains(&"mlflow-malformed-json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_base_path_with_token_and_probing_fallback() {
    const PREFIX: &str = "/api/v4/projects/42/ml/mlflow";
    let mut registry = sample();
    registry.no_version_search = true;
    let server = Replay::start(move |r| {
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer glpat-secret") {
            return Reply::status(401, r#"{"error_code":"UNAUTHENTICATED"}"#);
        }
        registry.answer(r, PREFIX)
    })
    .await;
    let mut opts = options(&format!(
        "{}{PREFIX}/?private_token=glpat-secret",
        server.base
    ));
    opts.credentials = Credentials::Token(Secret::new("glpat-secret"));
    opts.model_names = vec!["churn".into()];
    let (ev, _) = mlflow::collect(&opts).await.unwrap();
    assert_eq!(ev.server, "gitlab");
    assert_eq!(ev.tracking_uri, format!("{}{PREFIX}", server.base));
    assert!(server.requests().iter().all(|r| r.path.starts_with(PREFIX)));
    // No model-versions/search: probed v1..v3 with model-versions/get; v2 answered
    // "does not exist", so it is a deleted version.
    let churn = ev.model("churn").unwrap();
    assert_eq!(
        churn
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["1", "3"]
    );
    assert_eq!(churn.missing_versions, [2]);
    assert_eq!(server.count("model-versions/get"), 3);
    assert!(
        ev.not_visible
            .iter()
            .any(|n| n.kind == EvidenceKind::ModelVersions && n.http_status == 404)
    );
    // The token appears nowhere in the evidence.
    let json = serde_json::to_string(&ev).unwrap();
    assert!(!json.contains("glpat-secret"), "{json}");
    assert!(!format!("{opts:?}").contains("glpat-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_from_the_uri_is_sent_and_stripped() {
    let registry = sample();
    let server = Replay::start(move |r| {
        // alice:pw → YWxpY2U6cHc=
        if r.headers.get("authorization").map(String::as_str) != Some("Basic YWxpY2U6cHc=") {
            return Reply::status(403, r#"{"error_code":"PERMISSION_DENIED"}"#);
        }
        registry.answer(r, "")
    })
    .await;
    let uri = server.base.replace("http://", "http://alice:pw@");
    let (ev, _) = mlflow::collect(&options(&uri)).await.unwrap();
    assert_eq!(ev.models.len(), 2, "{:?}", ev.diagnostics);
    assert_eq!(ev.tracking_uri, server.base);
    let json = serde_json::to_string(&ev).unwrap();
    assert!(!json.contains("alice:pw") && !json.contains(":pw@"));
}

#[test]
fn blocking_entry_point_and_bad_input() {
    let mut opts = MlflowOptions::new("file:///tmp/mlruns");
    opts.credentials = Credentials::None;
    assert!(matches!(
        mlflow::collect_blocking(&opts),
        Err(mlflow::MlflowError::InvalidUri { .. })
    ));
    let mut opts = MlflowOptions::new("http://127.0.0.1:9");
    opts.name_pattern = Some("(".into());
    assert!(matches!(
        mlflow::collect_blocking(&opts),
        Err(mlflow::MlflowError::InvalidPattern { .. })
    ));
    // Nothing listens on port 9 (discard): connection refused, retried, diagnosed.
    let mut opts = options("http://127.0.0.1:9");
    opts.retry.attempts = 2;
    let (ev, stats) = mlflow::collect_blocking(&opts).unwrap();
    assert_eq!(stats.requests, 2);
    assert!(
        ev.diagnostics
            .iter()
            .any(|d| d.code == "mlflow-unreachable" && d.message.contains("connection failed"))
    );
}

/// Sub-item levels of a `scan --format json` report.
fn levels_of(report: &Value) -> BTreeMap<String, u64> {
    report["projects"][0]["sub_domains"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["items"].as_array().into_iter().flatten())
        .flat_map(|i| i["sub_items"].as_array().into_iter().flatten())
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_string(),
                s["level"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `scan` of the same fixture with and without `--mlflow-uri`: the registry facts move
/// exactly the sub-items the interpretation table names for them, and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_facts_move_the_levels_the_table_says() {
    let registry = sample();
    let server = Replay::start(move |r| registry.answer(r, "")).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mlops.toml");
    std::fs::write(&config, "[mlflow]\nmodels = [\"churn\", \"fraud\"]\n").unwrap();
    let fixture = format!("{}/fixtures/repos/basic-gha", env!("CARGO_MANIFEST_DIR"));
    let base = server.base.clone();
    let run = move |with_registry: bool| {
        let mut cmd = assert_cmd::Command::cargo_bin("mlops-maturity").unwrap();
        cmd.env_remove("MLFLOW_TRACKING_TOKEN")
            .args(["scan", &fixture, "--format", "json", "--config"])
            .arg(&config);
        if with_registry {
            cmd.args(["--mlflow-uri", &base]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let (without, with) = tokio::task::spawn_blocking(move || (run(false), run(true)))
        .await
        .unwrap();
    let (before, after) = (levels_of(&without), levels_of(&with));
    assert_eq!(before.len(), 32);
    let moved: BTreeMap<&str, (u64, u64)> = before
        .iter()
        .filter(|(id, l)| after.get(*id) != Some(l))
        .map(|(id, l)| (id.as_str(), (*l, after[id])))
        .collect();
    // 2.2.1: registered versions (L2), promotion by alias/stage + lineage (L3).
    // 2.3.3: archived/deleted superseded versions (L2 and L3).
    // 5.1.2: runs with metrics kept on a tracking server (L2).
    assert_eq!(moved.get("2.2.1"), Some(&(1, 3)), "{moved:?}");
    assert_eq!(moved.get("2.3.3"), Some(&(1, 3)), "{moved:?}");
    assert_eq!(moved.get("5.1.2"), Some(&(1, 2)), "{moved:?}");
    for (id, (from, to)) in &moved {
        assert!(to > from, "{id} went down: {from} → {to}");
    }
    // The report says why: registry evidence with the registry URL, never credentials.
    let text = with.to_string();
    assert!(text.contains("api.model_lineage"));
    assert!(text.contains(&server.base));
}
