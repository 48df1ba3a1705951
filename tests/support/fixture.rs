//! Build a replayed GitHub repository from files: the repository, its default
//! branch, the recursive tree, blobs (GraphQL and REST), and API history (runs over
//! three pages, deployments and statuses, environments, protection, rulesets,
//! releases, tags, commits, container packages), all shaped like the REST docs.

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

use super::{Replay, Reply};

pub const OWNER: &str = "octo-org";
pub const REPO: &str = "ml-service";
pub const HEAD_SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
pub const REPO_ID: u64 = 1296269;
pub const RUNS: usize = 250;

pub struct FixtureFile {
    pub path: String,
    /// The content; for a symlink, its target path (as git stores it).
    pub bytes: Vec<u8>,
    pub sha: String,
    pub symlink: bool,
}

pub struct RepoFixture {
    pub files: Vec<FixtureFile>,
    /// Route prefix: "" for api.github.com, "/api/v3" for GitHub Enterprise Server.
    pub prefix: String,
}

fn blob_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    h.finalize()
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl RepoFixture {
    pub fn from_files(files: Vec<(String, Vec<u8>)>) -> Self {
        Self::from_entries(files.into_iter().map(|(p, b)| (p, b, false)).collect())
    }

    /// Files and symlinks (`true`: the bytes are the link's target path).
    pub fn from_entries(files: Vec<(String, Vec<u8>, bool)>) -> Self {
        let mut files: Vec<FixtureFile> = files
            .into_iter()
            .map(|(path, bytes, symlink)| FixtureFile {
                sha: blob_sha(&bytes),
                path,
                bytes,
                symlink,
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        RepoFixture {
            files,
            prefix: String::new(),
        }
    }

    /// Every file and symlink under `dir` (no `.git`), with `/` paths; symlinks are
    /// not followed, as git stores them.
    pub fn from_dir(dir: &Path) -> Self {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>, bool)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                if entry.file_name() == ".git" {
                    continue;
                }
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).unwrap();
                    out.push((
                        rel,
                        target.to_string_lossy().into_owned().into_bytes(),
                        true,
                    ));
                } else if meta.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push((rel, std::fs::read(&path).unwrap(), false));
                }
            }
        }
        let mut files = Vec::new();
        walk(dir, dir, &mut files);
        Self::from_entries(files)
    }

    fn p(&self, rest: &str) -> String {
        format!("{}/repos/{OWNER}/{REPO}{rest}", self.prefix)
    }

    pub fn graphql_path(&self) -> String {
        if self.prefix.is_empty() {
            "/graphql".into()
        } else {
            "/api/graphql".into()
        }
    }

    /// The tree JSON (`GET /repos/{o}/{r}/git/trees/{sha}?recursive=1`).
    pub fn tree_json(&self) -> Value {
        let mut dirs = std::collections::BTreeSet::new();
        let mut entries = Vec::new();
        for f in &self.files {
            let mut parts: Vec<&str> = f.path.split('/').collect();
            parts.pop();
            let mut acc = String::new();
            for part in parts {
                if !acc.is_empty() {
                    acc.push('/');
                }
                acc.push_str(part);
                dirs.insert(acc.clone());
            }
            entries.push(json!({
                "path": f.path, "mode": if f.symlink { "120000" } else { "100644" }, "type": "blob", "sha": f.sha,
                "size": f.bytes.len(), "url": format!("{{BASE}}/repos/{OWNER}/{REPO}/git/blobs/{}", f.sha),
            }));
        }
        for d in dirs {
            entries.push(json!({"path": d, "mode": "040000", "type": "tree", "sha": blob_sha(d.as_bytes()), "url": "{BASE}/x"}));
        }
        json!({"sha": "9fb037999f264ba9a7fc6274d15fa3ae2ab98312", "url": "{BASE}/tree", "tree": entries, "truncated": false})
    }

    /// Install the files part: repository, branch, tree, GraphQL and REST blobs.
    pub fn install_files(&self, replay: &Replay) {
        replay.get(
            &format!("{}/repos/{OWNER}/{REPO}", self.prefix),
            Reply::value(&json!({
                "id": REPO_ID, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": REPO,
                "full_name": format!("{OWNER}/{REPO}"),
                "owner": {"login": OWNER, "id": 1, "type": "Organization"},
                "private": false, "html_url": format!("https://github.com/{OWNER}/{REPO}"),
                "default_branch": "main", "visibility": "public", "size": 108,
            })),
        );
        replay.get(
            &self.p("/branches/main"),
            Reply::value(&json!({
                "name": "main",
                "commit": {"sha": HEAD_SHA, "commit": {"author": {"name": "Mona", "date": "2026-11-20T10:00:00Z"}, "committer": {"name": "Mona", "date": "2026-11-20T10:00:00Z"}, "message": "Train with new data"}},
                "protected": true,
                "protection": {"enabled": true, "required_status_checks": {"enforcement_level": "non_admins", "contexts": ["test"]}},
                "protection_url": format!("{{BASE}}/repos/{OWNER}/{REPO}/branches/main/protection"),
            })),
        );
        replay.get(
            &self.p(&format!("/git/trees/{HEAD_SHA}?recursive=1")),
            Reply::value(&self.tree_json()),
        );
        let by_expr: std::collections::HashMap<String, Vec<u8>> = self
            .files
            .iter()
            .map(|f| (format!("{HEAD_SHA}:{}", f.path), f.bytes.clone()))
            .collect();
        replay.handler("POST", &self.graphql_path(), move |seen| {
            let request: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
            let mut repository = serde_json::Map::new();
            if let Some(vars) = request.get("variables").and_then(Value::as_object) {
                for (k, v) in vars {
                    let Some(i) = k.strip_prefix('e') else { continue };
                    let object = match v.as_str().and_then(|e| by_expr.get(e)) {
                        Some(bytes) => {
                            let binary = bytes.contains(&0);
                            json!({
                                "text": if binary { Value::Null } else { json!(String::from_utf8_lossy(bytes)) },
                                "byteSize": bytes.len(), "isBinary": binary,
                            })
                        }
                        None => Value::Null,
                    };
                    repository.insert(format!("f{i}"), object);
                }
            }
            Reply {
                status: 200,
                headers: vec![],
                body: json!({"data": {"repository": repository}}).to_string(),
                etag: false,
            }
        });
        for f in &self.files {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&f.bytes);
            // GitHub wraps base64 content at 60 columns.
            let wrapped: Vec<String> = encoded
                .as_bytes()
                .chunks(60)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            replay.get(
                &self.p(&format!("/git/blobs/{}", f.sha)),
                Reply::value(&json!({
                    "sha": f.sha, "node_id": "B", "size": f.bytes.len(),
                    "url": "{BASE}/blob", "content": wrapped.join("\n") + "\n", "encoding": "base64",
                })),
            );
        }
    }

    /// Install the history part (runs over three pages, deployments, environments,
    /// protection, rulesets, releases, tags, commits, packages).
    pub fn install_history(&self, replay: &Replay) {
        let run = |i: usize| {
            json!({
                "id": 30433642 + i, "name": "CI", "node_id": "WFR", "head_branch": "main",
                "head_sha": HEAD_SHA, "path": ".github/workflows/ci.yml", "run_number": 500 - i,
                "event": if i % 5 == 0 { "pull_request" } else { "push" },
                "status": "completed", "conclusion": if i % 10 == 3 { "failure" } else { "success" },
                "workflow_id": 159038,
                "html_url": format!("https://github.com/{OWNER}/{REPO}/actions/runs/{}", 30433642 + i),
                "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:05:30Z",
                "run_started_at": "2026-11-20T10:00:30Z", "run_attempt": 1,
            })
        };
        let page = |range: std::ops::Range<usize>| json!({"total_count": RUNS, "workflow_runs": range.map(run).collect::<Vec<_>>()});
        let link = |next: usize| {
            format!(
                "<{{BASE}}{}/repositories/{REPO_ID}/actions/runs?per_page=100&page={next}>; rel=\"next\", <{{BASE}}{}/repositories/{REPO_ID}/actions/runs?per_page=100&page=3>; rel=\"last\"",
                self.prefix, self.prefix
            )
        };
        replay.get(
            &self.p("/actions/runs?per_page=100"),
            Reply::value(&page(0..100)).header("link", link(2)),
        );
        replay.get(
            &format!("{}/repositories/{REPO_ID}/actions/runs?page=2", self.prefix),
            Reply::value(&page(100..200)).header("link", link(3)),
        );
        replay.get(
            &format!("{}/repositories/{REPO_ID}/actions/runs?page=3", self.prefix),
            Reply::value(&page(200..RUNS)).header(
                "link",
                format!("<{{BASE}}{}/repositories/{REPO_ID}/actions/runs?per_page=100&page=2>; rel=\"prev\", <{{BASE}}{}/repositories/{REPO_ID}/actions/runs?per_page=100&page=1>; rel=\"first\"", self.prefix, self.prefix),
            ),
        );

        let deployment = |id: u64, env: &str, created: &str| {
            json!({"url": "{BASE}/d", "id": id, "node_id": "D", "sha": HEAD_SHA, "ref": "main", "task": "deploy",
                   "payload": {}, "original_environment": env, "environment": env, "description": null,
                   "creator": {"login": "github-actions[bot]"}, "created_at": created, "updated_at": created,
                   "statuses_url": "{BASE}/s", "repository_url": "{BASE}/r", "transient_environment": false,
                   "production_environment": env == "production"})
        };
        replay.get(
            &self.p("/deployments?per_page=100"),
            Reply::value(&json!([
                deployment(103, "production", "2026-11-20T11:00:00Z"),
                deployment(102, "staging", "2026-11-20T10:30:00Z"),
                deployment(101, "production", "2026-11-19T11:00:00Z"),
            ])),
        );
        for id in [101, 102, 103] {
            let state = if id == 101 { "failure" } else { "success" };
            replay.get(
                &self.p(&format!("/deployments/{id}/statuses?per_page=100")),
                Reply::value(&json!([
                    {"id": id * 10 + 2, "state": state, "created_at": "2026-11-20T11:02:00Z", "environment": "x"},
                    {"id": id * 10 + 1, "state": "in_progress", "created_at": "2026-11-20T11:00:10Z", "environment": "x"},
                ])),
            );
        }
        replay.get(
            &self.p("/environments?per_page=100"),
            Reply::value(&json!({"total_count": 2, "environments": [
                {"id": 161088068, "node_id": "E", "name": "production", "url": "{BASE}/e", "html_url": format!("https://github.com/{OWNER}/{REPO}/deployments/activity_log?environments_filter=production"),
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                 "protection_rules": [
                    {"id": 3736, "node_id": "G", "type": "wait_timer", "wait_timer": 30},
                    {"id": 3755, "node_id": "H", "prevent_self_review": false, "type": "required_reviewers",
                     "reviewers": [{"type": "User", "reviewer": {"login": "octocat"}}, {"type": "Team", "reviewer": {"slug": "ml-leads"}}]},
                    {"id": 3756, "node_id": "I", "type": "branch_policy"}],
                 "deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}},
                {"id": 161088069, "node_id": "E2", "name": "staging", "url": "{BASE}/e2", "html_url": "https://github.com/x",
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                 "protection_rules": [], "deployment_branch_policy": null}
            ]})),
        );
        replay.get(
            &self.p("/branches/main/protection"),
            Reply::value(&json!({
                "url": "{BASE}/p",
                "required_status_checks": {"url": "{BASE}/c", "strict": true, "contexts": ["test"], "checks": [{"context": "test", "app_id": null}, {"context": "build", "app_id": 15368}]},
                "enforce_admins": {"url": "{BASE}/a", "enabled": true},
                "required_pull_request_reviews": {"dismiss_stale_reviews": true, "require_code_owner_reviews": true, "required_approving_review_count": 2},
                "required_linear_history": {"enabled": true},
                "allow_force_pushes": {"enabled": false}, "allow_deletions": {"enabled": false},
            })),
        );
        replay.get(
            &self.p("/rules/branches/main"),
            Reply::value(&json!([
                {"type": "pull_request", "ruleset_source_type": "Organization", "ruleset_source": OWNER, "ruleset_id": 42,
                 "parameters": {"dismiss_stale_reviews_on_push": false, "require_code_owner_review": false, "require_last_push_approval": false,
                                "required_approving_review_count": 1, "required_review_thread_resolution": false}},
                {"type": "required_status_checks", "ruleset_source_type": "Repository", "ruleset_source": format!("{OWNER}/{REPO}"), "ruleset_id": 43,
                 "parameters": {"strict_required_status_checks_policy": false, "required_status_checks": [{"context": "model-eval", "integration_id": 15368}]}},
                {"type": "deletion", "ruleset_source_type": "Repository", "ruleset_source": format!("{OWNER}/{REPO}"), "ruleset_id": 43}
            ])),
        );
        replay.get(
            &self.p("/releases?per_page=100"),
            Reply::value(&json!([
                {"id": 2, "tag_name": "v1.1.0", "name": "v1.1.0", "draft": false, "prerelease": false, "created_at": "2026-11-01T00:00:00Z", "published_at": "2026-11-01T00:00:00Z", "html_url": "https://github.com/r/v1.1.0"},
                {"id": 3, "tag_name": "v1.2.0-rc1", "name": "", "draft": false, "prerelease": true, "created_at": "2026-11-10T00:00:00Z", "published_at": "2026-11-10T00:00:00Z", "html_url": "https://github.com/r/v1.2.0-rc1"},
                {"id": 4, "tag_name": "v2.0.0", "name": "draft", "draft": true, "prerelease": false, "created_at": "2026-11-11T00:00:00Z", "published_at": null, "html_url": "https://github.com/r/v2"}
            ])),
        );
        replay.get(
            &self.p("/tags?per_page=100"),
            Reply::value(&json!([
                {"name": "v1.2.0-rc1", "commit": {"sha": HEAD_SHA, "url": "{BASE}/c"}, "zipball_url": "{BASE}/z", "tarball_url": "{BASE}/t", "node_id": "T"},
                {"name": "v1.1.0", "commit": {"sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "url": "{BASE}/c"}, "zipball_url": "{BASE}/z", "tarball_url": "{BASE}/t", "node_id": "T2"}
            ])),
        );
        replay.get(
            &self.p(&format!("/commits?sha={HEAD_SHA}&per_page=100")),
            Reply::value(&json!([
                {"sha": HEAD_SHA, "commit": {"author": {"name": "Mona", "date": "2026-11-20T10:00:00Z"}, "committer": {"name": "Mona", "date": "2026-11-20T10:00:00Z"}, "message": "Train with new data\n\nDetails."}},
                {"sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "commit": {"author": {"name": "Hubot", "date": "2026-11-01T00:00:00Z"}, "committer": {"name": "Hubot", "date": "2026-11-01T00:00:00Z"}, "message": "Release 1.1"}}
            ])),
        );
        replay.get(
            &format!("{}/orgs/{OWNER}/packages?package_type=container&per_page=100", self.prefix),
            Reply::value(&json!([
                {"id": 197, "name": "ml-service/api", "package_type": "container", "visibility": "public", "url": "{BASE}/p",
                 "repository": {"id": REPO_ID, "name": REPO, "full_name": format!("{OWNER}/{REPO}")}, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
                {"id": 198, "name": "other-image", "package_type": "container", "visibility": "public", "url": "{BASE}/p",
                 "repository": {"id": 7, "name": "other", "full_name": format!("{OWNER}/other")}, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
            ])),
        );
        replay.get(
            &format!("{}/orgs/{OWNER}/packages/container/ml-service%2Fapi/versions?per_page=30", self.prefix),
            Reply::value(&json!([
                {"id": 245301, "name": "sha256:2d8ab1e8", "url": "{BASE}/v", "package_html_url": "https://github.com/p", "created_at": "2026-11-20T11:00:00Z", "updated_at": "2026-11-20T11:00:00Z", "html_url": "https://github.com/v/245301", "metadata": {"package_type": "container", "container": {"tags": ["1.2.0", "latest"]}}},
                {"id": 245300, "name": "sha256:99aa0001", "url": "{BASE}/v", "package_html_url": "https://github.com/p", "created_at": "2026-11-01T11:00:00Z", "updated_at": "2026-11-01T11:00:00Z", "html_url": "https://github.com/v/245300", "metadata": {"package_type": "container", "container": {"tags": []}}}
            ])),
        );
    }

    pub fn install(&self, replay: &Replay) {
        self.install_files(replay);
        self.install_history(replay);
    }
}
