//! A generated GitHub organisation on the replay server: `n` repositories listed
//! over `Link`-paginated pages, each with a default branch, a recursive tree and
//! file texts (GraphQL), in four shapes so levels differ; everything else of a
//! repository answers 404 as a feature switched off would. Some repositories are
//! archived or forks, some fail (404, 500), one has a hostile name, and the
//! primary rate limit can run out once mid-run for a short window.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{Replay, Reply, Seen};

pub const ORG: &str = "octo-org";
pub const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";
pub const HOSTILE: &str = "<script>alert(1)</script>";

/// How the organisation behaves.
#[derive(Clone, Debug)]
pub struct OrgSim {
    pub repos: usize,
    /// Repositories answering 404 to `GET /repos/{o}/{r}`.
    pub not_found: Vec<String>,
    /// Repositories answering 500 to everything.
    pub broken: Vec<String>,
    /// After this many requests, the limit is spent until `window` later.
    pub rate_limit_after: Option<usize>,
    pub window: Duration,
    /// List a repository with a name no GitHub repository can have.
    pub hostile: bool,
    /// Repository `i` gets the files of shape `i + shift` (a later week of the org).
    pub shift: usize,
}

impl OrgSim {
    pub fn new(repos: usize) -> Self {
        OrgSim {
            repos,
            not_found: vec!["repo-013".into()],
            broken: vec!["repo-029".into()],
            rate_limit_after: None,
            window: Duration::from_secs(2),
            hostile: false,
            shift: 0,
        }
    }

    pub fn name(i: usize) -> String {
        format!("repo-{i:03}")
    }

    /// Archived and forks are listed but skipped by default.
    pub fn archived(i: usize) -> bool {
        i % 37 == 5
    }
    pub fn fork(i: usize) -> bool {
        i % 41 == 7
    }

    /// Names a default `scan-org` selects (not archived, not a fork).
    pub fn selected(&self) -> Vec<String> {
        (0..self.repos)
            .filter(|&i| !Self::archived(i) && !Self::fork(i))
            .map(Self::name)
            .collect()
    }

    fn listing(&self) -> Vec<Value> {
        let mut items: Vec<Value> = (0..self.repos)
            .map(|i| {
                let name = Self::name(i);
                json!({
                    "id": 1000 + i, "name": name, "full_name": format!("{ORG}/{name}"),
                    "private": false, "archived": Self::archived(i), "disabled": false,
                    "fork": Self::fork(i), "default_branch": "main",
                    "topics": if i % 2 == 0 { json!(["ml", "serving"]) } else { json!(["web"]) },
                    "language": if i % 3 == 0 { json!("Go") } else { json!("Python") },
                })
            })
            .collect();
        if self.hostile {
            items.push(json!({
                "id": 999, "name": HOSTILE, "full_name": format!("{ORG}/{HOSTILE}"),
                "archived": false, "fork": false, "topics": [], "language": "Python",
            }));
        }
        items
    }
}

/// The files of repository `i`: four shapes, so the heatmap has colours.
pub fn files_of(i: usize) -> Vec<(String, String)> {
    let mut files = vec![("README.md".to_string(), format!("# repo {i}\n"))];
    let ci = "name: CI\non:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -r requirements.txt\n      - run: pytest tests/\n";
    let deploy = "name: Deploy\non:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker build -t ghcr.io/octo-org/model:${{ github.sha }} .\n      - run: docker push ghcr.io/octo-org/model:${{ github.sha }}\n  deploy:\n    needs: build\n    environment: production\n    runs-on: ubuntu-latest\n    steps:\n      - run: helm upgrade --install model ./chart --atomic\n";
    match i % 4 {
        0 => {}
        1 => {
            files.push((".github/workflows/ci.yml".into(), ci.into()));
            files.push((
                "requirements.txt".into(),
                "torch==2.3.1\nscikit-learn==1.5.0\n".into(),
            ));
        }
        2 => {
            files.push((".github/workflows/ci.yml".into(), ci.into()));
            files.push((".github/workflows/deploy.yml".into(), deploy.into()));
            files.push((
                "Dockerfile".into(),
                "FROM python:3.12-slim\nCOPY . /app\n".into(),
            ));
            files.push(("requirements.txt".into(), "torch==2.3.1\n".into()));
        }
        _ => {
            files.push((".github/workflows/deploy.yml".into(), deploy.into()));
            files.push(("dvc.yaml".into(), "stages:\n  train:\n    cmd: python train.py\n    deps: [data]\n    outs: [model.pkl]\n".into()));
            files.push((
                "train.py".into(),
                "import mlflow\nmlflow.log_metric('auc', 0.9)\n".into(),
            ));
        }
    }
    files
}

fn blob_sha(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Counters the tests read.
#[derive(Default)]
pub struct SimCounters {
    pub requests: AtomicUsize,
    pub limited: AtomicUsize,
}

/// Install the organisation on `replay` (as its fallback: explicit routes still win).
pub fn install(replay: &Replay, sim: OrgSim) -> Arc<SimCounters> {
    let counters = Arc::new(SimCounters::default());
    let c = counters.clone();
    let index: HashMap<String, usize> = (0..sim.repos).map(|i| (OrgSim::name(i), i)).collect();
    // Unix time until which the limit is spent, once set.
    let spent_until: Mutex<Option<u64>> = Mutex::new(None);
    replay.fallback(move |seen: &Seen| {
        let n = c.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(after) = sim.rate_limit_after {
            let mut spent = spent_until.lock().unwrap();
            if n == after && spent.is_none() {
                let reset = now() + sim.window.as_secs();
                *spent = Some(reset);
                c.limited.fetch_add(1, Ordering::SeqCst);
                return Reply::status(403, "API rate limit exceeded for installation.")
                    .header("x-ratelimit-remaining", "0")
                    .header("x-ratelimit-reset", reset.to_string());
            }
            if let Some(reset) = *spent
                && now() < reset
            {
                c.limited.fetch_add(1, Ordering::SeqCst);
                return Reply::status(403, "API rate limit exceeded for installation.")
                    .header("x-ratelimit-remaining", "0")
                    .header("x-ratelimit-reset", reset.to_string());
            }
        }
        answer(&sim, &index, seen)
    });
    counters
}

fn answer(sim: &OrgSim, index: &HashMap<String, usize>, seen: &Seen) -> Reply {
    let path = seen.path().to_string();
    let query = seen.target.split_once('?').map(|x| x.1).unwrap_or("");
    if path == format!("/orgs/{ORG}/repos") {
        let page: usize = query
            .split('&')
            .find_map(|p| p.strip_prefix("page="))
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let items = sim.listing();
        let pages = items.len().div_ceil(100).max(1);
        let chunk: Vec<Value> = items.into_iter().skip((page - 1) * 100).take(100).collect();
        let mut reply = Reply::value(&Value::Array(chunk));
        if page < pages {
            reply = reply.header(
                "link",
                format!(
                    "<{{BASE}}/orgs/{ORG}/repos?per_page=100&type=all&page={}>; rel=\"next\", <{{BASE}}/orgs/{ORG}/repos?per_page=100&type=all&page={pages}>; rel=\"last\"",
                    page + 1
                ),
            );
        }
        return reply;
    }
    if seen.method == "POST" && path == "/graphql" {
        let request: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
        let vars = request.get("variables").cloned().unwrap_or(Value::Null);
        let name = vars.get("name").and_then(Value::as_str).unwrap_or("");
        let files: HashMap<String, String> = index
            .get(name)
            .map(|&i| files_of(i + sim.shift).into_iter().collect())
            .unwrap_or_default();
        let mut repository = serde_json::Map::new();
        if let Some(vars) = vars.as_object() {
            for (k, v) in vars {
                let Some(i) = k.strip_prefix('e') else {
                    continue;
                };
                let path = v.as_str().and_then(|e| e.split_once(':')).map(|x| x.1);
                let object = match path.and_then(|p| files.get(p)) {
                    Some(text) => json!({"text": text, "byteSize": text.len(), "isBinary": false}),
                    None => Value::Null,
                };
                repository.insert(format!("f{i}"), object);
            }
        }
        return Reply {
            status: 200,
            headers: vec![],
            body: json!({"data": {"repository": repository}}).to_string(),
            etag: false,
        };
    }
    let Some(rest) = path.strip_prefix(&format!("/repos/{ORG}/")) else {
        return Reply::status(404, "Not Found");
    };
    let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if sim.broken.iter().any(|b| b == name) {
        return Reply::status(500, "Server Error");
    }
    let Some(&i) = index.get(name) else {
        return Reply::status(404, "Not Found");
    };
    if sim.not_found.iter().any(|b| b == name) {
        return Reply::status(404, "Not Found");
    }
    match tail {
        "" => Reply::value(&json!({
            "id": 1000 + i, "name": name, "full_name": format!("{ORG}/{name}"),
            "owner": {"login": ORG, "type": "Organization"}, "private": false,
            "default_branch": "main", "visibility": "public", "size": 10,
        })),
        "branches/main" => Reply::value(&json!({
            "name": "main",
            "commit": {"sha": HEAD, "commit": {"author": {"name": "Mona", "date": "2026-11-20T10:00:00Z"}, "committer": {"name": "Mona", "date": "2026-11-20T10:00:00Z"}, "message": "update"}},
            "protected": false,
        })),
        t if t == format!("git/trees/{HEAD}") => {
            let mut entries = Vec::new();
            let mut dirs = std::collections::BTreeSet::new();
            for (p, text) in files_of(i + sim.shift) {
                if let Some((d, _)) = p.rsplit_once('/') {
                    let mut acc = String::new();
                    for part in d.split('/') {
                        if !acc.is_empty() {
                            acc.push('/');
                        }
                        acc.push_str(part);
                        dirs.insert(acc.clone());
                    }
                }
                entries.push(json!({"path": p, "mode": "100644", "type": "blob", "sha": blob_sha(&text), "size": text.len(), "url": "{BASE}/b"}));
            }
            for d in dirs {
                entries.push(json!({"path": d, "mode": "040000", "type": "tree", "sha": blob_sha(&d), "url": "{BASE}/t"}));
            }
            Reply::value(
                &json!({"sha": HEAD, "url": "{BASE}/t", "tree": entries, "truncated": false}),
            )
        }
        _ => Reply::status(404, "Not Found"),
    }
}
