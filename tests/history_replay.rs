//! Deploy history read through the GitHub connector (from the loopback replay of
//! GitHub's API) gives the same delivery metrics as the same events imported from a
//! `--history` JSON Lines file written in the documented format.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use mlops_maturity::connect::github::{self, GithubOptions, Token};
use mlops_maturity::evidence::Snapshot;
use mlops_maturity::history::{self, HistoryConfig};
use serde_json::json;
use support::Replay;
use support::fixture::{OWNER, REPO, RepoFixture};

/// The snapshot's API history, one documented JSON Lines record per event.
fn as_jsonl(snapshot: &Snapshot) -> String {
    let mut lines = Vec::new();
    for run in snapshot.api.runs.items().into_iter().flatten() {
        lines.push(json!({
            "type": "run", "id": run.id, "workflow": run.workflow, "event": run.event,
            "conclusion": run.conclusion, "sha": run.head_sha, "branch": run.branch,
            "created_at": run.created_at, "finished_at": run.updated_at,
            "duration_seconds": run.duration_seconds,
        }));
    }
    for d in snapshot.api.deployments.items().into_iter().flatten() {
        let statuses: Vec<_> = d
            .statuses
            .iter()
            .map(|s| json!({"state": s.state, "created_at": s.created_at}))
            .collect();
        lines.push(json!({
            "type": "deployment", "id": d.id, "environment": d.environment, "sha": d.sha,
            "ref": d.git_ref, "created_at": d.created_at, "statuses": statuses,
        }));
    }
    for r in snapshot.api.releases.items().into_iter().flatten() {
        lines.push(json!({
            "type": "release", "tag": r.tag, "created_at": r.created_at, "prerelease": r.prerelease,
        }));
    }
    for c in snapshot.git.iter().flat_map(|g| &g.recent_commits) {
        lines.push(json!({"type": "commit", "sha": c.sha, "created_at": c.date}));
    }
    lines
        .iter()
        .map(|l| {
            // Drop nulls: the file format leaves unknown fields out.
            let mut v = l.clone();
            if let Some(o) = v.as_object_mut() {
                o.retain(|_, x| !x.is_null());
            }
            v.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn replayed_api_history_equals_the_same_events_from_a_file() {
    let replay = Replay::start().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/basic");
    RepoFixture::from_dir(&dir).install(&replay);
    let cache = tempfile::tempdir().expect("tempdir");
    let options = GithubOptions {
        api_url: replay.base.clone(),
        token: Some(Token::new("ghp_history_test")),
        cache_dir: Some(cache.path().to_path_buf()),
        runs_window_days: 3650,
        max_wait: Duration::from_secs(10),
        ..Default::default()
    };
    let (snapshot, _) = github::scan(OWNER, REPO, &options)
        .await
        .expect("replayed scan");
    assert!(
        snapshot
            .api
            .deployments
            .items()
            .is_some_and(|d| !d.is_empty()),
        "the replay serves deployments"
    );

    let config = HistoryConfig::default();
    let (from_api, _) = history::analyse(&snapshot, None, &config)
        .expect("analyse")
        .expect("API history present");

    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .expect("tempfile");
    file.write_all(as_jsonl(&snapshot).as_bytes())
        .expect("write");
    // Same events, but only from the file: a snapshot with no API slots.
    let mut bare = snapshot.clone();
    bare.api = Default::default();
    bare.git = None;
    let (from_file, diags) = history::analyse(&bare, Some(file.path()), &config)
        .expect("analyse file")
        .expect("file history");
    assert!(diags.is_empty(), "{diags:?}");

    assert_eq!(from_api.values_only(), from_file.values_only());
    // The replayed history is rich enough to measure something.
    assert!(from_api.deploy_frequency.events > 0);
    assert!(
        from_api.ci_health.value.is_some(),
        "{:?}",
        from_api.ci_health
    );
}
