//! Cold collection from a registry of 1,000 model versions across 50 models.
//!
//!     cargo bench --bench mlflow_registry
//!
//! Uses a real MLflow server (the venv of scripts/mlflow-test-server.sh) seeded
//! through its REST API from here (bounded: one run + metrics + version per model
//! version, 8 requests in flight), else an in-process loopback replay of the same
//! registry. Prints requests and wall time of a cold `collect`, with and without the
//! per-version MLmodel reads. Sizes: MLFLOW_BENCH_MODELS (50), MLFLOW_BENCH_VERSIONS
//! (20 per model).

#[path = "../tests/mlflow/replay.rs"]
mod replay;
#[path = "../tests/mlflow/server.rs"]
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlops_maturity::connect::mlflow::{self, Credentials, MlflowOptions};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const IN_FLIGHT: usize = 8;

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn post(http: &reqwest::Client, base: &str, endpoint: &str, body: Value) -> Value {
    let url = format!("{base}/api/2.0/mlflow/{endpoint}");
    for attempt in 0..3 {
        match http.post(&url).json(&body).send().await {
            Ok(r) if r.status().is_success() => return r.json().await.unwrap_or(Value::Null),
            Ok(r) if attempt == 2 => panic!("{endpoint}: HTTP {}", r.status()),
            Err(e) if attempt == 2 => panic!("{endpoint}: {e}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    Value::Null
}

/// Seed `models × versions` through the REST API; returns the requests sent.
async fn seed_real(base: &str, models: usize, versions: usize) -> usize {
    let http = reqwest::Client::new();
    let base: Arc<str> = Arc::from(base);
    let mut sent = 0;
    for m in 0..models {
        post(
            &http,
            &base,
            "registered-models/create",
            json!({"name": format!("bench-{m:02}")}),
        )
        .await;
        sent += 1;
    }
    let mut tasks = JoinSet::new();
    for m in 0..models {
        let http = http.clone();
        let base = Arc::clone(&base);
        tasks.spawn(async move {
            let name = format!("bench-{m:02}");
            let mut sent = 0;
            for v in 1..=versions {
                let run = post(
                    &http,
                    &base,
                    "runs/create",
                    json!({"experiment_id": "0", "start_time": 0, "tags": [
                        {"key": "mlflow.source.git.commit", "value": format!("{m:02}{v:038}")},
                        {"key": "mlflow.source.git.repoURL", "value": "https://github.com/acme/bench"}]}),
                )
                .await;
                let run_id = run["run"]["info"]["run_id"].as_str().unwrap_or_default().to_string();
                post(&http, &base, "runs/log-batch", json!({"run_id": run_id, "metrics": [
                    {"key": "accuracy", "value": 0.5 + v as f64 / 100.0, "timestamp": 0, "step": 0}]}))
                .await;
                post(&http, &base, "model-versions/create", json!({
                    "name": name, "source": format!("runs:/{run_id}/model"), "run_id": run_id}))
                .await;
                sent += 3;
            }
            post(&http, &base, "model-versions/transition-stage", json!({
                "name": name, "version": "1", "stage": "Archived", "archive_existing_versions": false}))
            .await;
            post(&http, &base, "model-versions/transition-stage", json!({
                "name": name, "version": (versions.saturating_sub(1)).max(1).to_string(),
                "stage": "Production", "archive_existing_versions": false}))
            .await;
            post(&http, &base, "registered-models/alias", json!({
                "name": name, "alias": "champion", "version": versions.to_string()}))
            .await;
            sent + 3
        });
        while tasks.len() >= IN_FLIGHT {
            sent += tasks.join_next().await.and_then(Result::ok).unwrap_or(0);
        }
    }
    while let Some(done) = tasks.join_next().await {
        sent += done.unwrap_or(0);
    }
    sent
}

/// The same registry as an in-process loopback replay (no MLflow needed).
fn replay_handler(
    models: usize,
    versions: usize,
) -> impl Fn(&replay::Request) -> replay::Reply + Send + Sync {
    move |r| {
        let endpoint = r.path.trim_start_matches("/api/2.0/mlflow/");
        let page = |total: usize, make: &dyn Fn(usize) -> Value, key: &str| {
            let size: usize = r
                .q("max_results")
                .and_then(|m| m.parse().ok())
                .unwrap_or(100);
            let offset: usize = r.q("page_token").and_then(|t| t.parse().ok()).unwrap_or(0);
            let end = (offset + size).min(total);
            let items: Vec<Value> = (offset..end).map(make).collect();
            let mut body = json!({ key: items });
            if end < total {
                body["next_page_token"] = json!(end.to_string());
            }
            replay::Reply::json(body)
        };
        match endpoint {
            "registered-models/search" => page(
                models,
                &|m| json!({"name": format!("bench-{m:02}"), "aliases": [{"alias": "champion", "version": versions.to_string()}]}),
                "registered_models",
            ),
            "model-versions/search" => {
                let name = r
                    .q("filter")
                    .unwrap_or("")
                    .trim_start_matches("name='")
                    .trim_end_matches('\'')
                    .to_string();
                page(
                    versions,
                    &|i| {
                        json!({"name": name, "version": (i + 1).to_string(), "run_id": format!("{name}-{}", i + 1),
                                "source": format!("runs:/{name}-{}/model", i + 1), "status": "READY",
                                "current_stage": if i == 0 { "Archived" } else { "None" }})
                    },
                    "model_versions",
                )
            }
            "runs/get" => replay::Reply::json(json!({"run": {"info": {"run_id": r.q("run_id")},
                "data": {"metrics": [{"key": "accuracy", "value": 0.9}],
                         "tags": [{"key": "mlflow.source.git.commit", "value": "abc"}]}}})),
            _ => replay::Reply::missing(),
        }
    }
}

async fn cold_collect(base: &str, fetch_schemas: bool, label: &str, expect_versions: usize) {
    let mut opts = MlflowOptions::new(base);
    opts.credentials = Credentials::None;
    opts.fetch_schemas = fetch_schemas;
    opts.max_requests = 10_000;
    let started = Instant::now();
    let (ev, stats) = mlflow::collect(&opts).await.expect("collect");
    let wall = started.elapsed();
    let versions: usize = ev.models.iter().map(|m| m.versions.len()).sum();
    assert_eq!(versions, expect_versions, "{:?}", ev.diagnostics.first());
    let findings = mlflow::registry_findings(&ev);
    println!(
        "{label:<44} models {:>3}  versions {:>5}  requests {:>5}  pages {:>3}  retries {}  bytes {:>8}  wall {:>7.2} s  ({:.1} ms/request, {} practices)",
        ev.models.len(),
        versions,
        stats.requests,
        stats.pages,
        stats.retries,
        stats.bytes,
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1000.0 / f64::from(stats.requests.max(1)),
        findings.len()
    );
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent: stay quick then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("mlflow_registry: run with `cargo bench --bench mlflow_registry`");
        return;
    }
    let models = env_usize("MLFLOW_BENCH_MODELS", 50);
    let versions = env_usize("MLFLOW_BENCH_VERSIONS", 20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match server::MlflowServer::start() {
        Ok(server) => runtime.block_on(async {
            let started = Instant::now();
            let sent = seed_real(&server.uri, models, versions).await;
            println!(
                "seeded real MLflow {}: {models} models × {versions} versions with {sent} REST requests in {:.1} s",
                server.uri,
                started.elapsed().as_secs_f64()
            );
            cold_collect(&server.uri, false, "real server, cold collect (no MLmodel reads)", models * versions).await;
            cold_collect(&server.uri, true, "real server, cold collect (with MLmodel reads)", models * versions).await;
        }),
        Err(reason) => {
            println!("real MLflow server not available ({reason}); `.ci/run` installs it with scripts/mlflow-test-server.sh. Using the loopback replay.");
        }
    }
    runtime.block_on(async {
        let replay = replay::Replay::start(replay_handler(models, versions)).await;
        cold_collect(
            &replay.base,
            false,
            "loopback replay, cold collect",
            models * versions,
        )
        .await;
    });
}
