//! Build a replayed GitLab project from files: the project, the head commit, the
//! recursive tree (keyset pagination through `Link`), blobs by sha, and API
//! history (pipelines over pages with `x-next-page`/`x-total-pages`/`Link`,
//! pipeline details, deployments, environments with tiers, protected environments
//! with approvals, protected branches, approval rules, releases, registry tags,
//! packages, the MLflow model registry, tags, commits), shaped like GitLab's REST
//! API v4 documentation.

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

use super::fixture::RepoFixture;
use super::{Replay, Reply};

pub const PROJECT: &str = "ml-group/platform/fraud-detector";
pub const PROJECT_ENCODED: &str = "ml-group%2Fplatform%2Ffraud-detector";
pub const PROJECT_ID: u64 = 4242;
pub const HEAD_SHA: &str = "b83d6e391c22777fca1ed3012fce84f633d7fed0";
/// Pipelines in the window: three pages of 100, 100 and 20.
pub const PIPELINES: usize = 220;
/// Tree entries per page (smaller than GitLab's 100, to exercise keyset pages).
pub const TREE_PAGE: usize = 10;

pub struct GitlabFixture {
    pub repo: RepoFixture,
    /// Where the API lives on the replay server: `/api/v4` (gitlab.com-like) or
    /// `/gitlab/api/v4` (self-managed under a path prefix).
    pub prefix: String,
}

impl GitlabFixture {
    pub fn from_dir(dir: &Path) -> Self {
        GitlabFixture {
            repo: RepoFixture::from_dir(dir),
            prefix: "/api/v4".into(),
        }
    }

    pub fn from_files(files: Vec<(String, Vec<u8>)>) -> Self {
        GitlabFixture {
            repo: RepoFixture::from_files(files),
            prefix: "/api/v4".into(),
        }
    }

    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// The API URL a client should use against `replay`.
    pub fn api_url(&self, replay: &Replay) -> String {
        format!("{}{}", replay.base, self.prefix)
    }

    /// `/api/graphql` under the same prefix as `/api/v4`.
    pub fn graphql_path(&self) -> String {
        format!("{}/graphql", self.prefix.trim_end_matches("/v4"))
    }

    /// `{prefix}/projects/{id}{rest}`.
    pub fn p(&self, rest: &str) -> String {
        format!("{}/projects/{PROJECT_ID}{rest}", self.prefix)
    }

    fn tree_entries(&self) -> Vec<Value> {
        let mut dirs = std::collections::BTreeSet::new();
        let mut entries = Vec::new();
        for f in &self.repo.files {
            let mut parts: Vec<&str> = f.path.split('/').collect();
            let name = parts.pop().unwrap_or_default().to_string();
            let mut acc = String::new();
            for part in parts {
                if !acc.is_empty() {
                    acc.push('/');
                }
                acc.push_str(part);
                dirs.insert(acc.clone());
            }
            entries.push(json!({
                "id": f.sha, "name": name, "type": "blob", "path": f.path,
                "mode": if f.symlink { "120000" } else { "100644" },
            }));
        }
        for d in dirs {
            let name = d.rsplit('/').next().unwrap_or_default().to_string();
            entries.push(json!({"id": "a1e8f8d745cc87e3a9248358d9352bb7f9a0aeba", "name": name, "type": "tree", "path": d, "mode": "040000"}));
        }
        entries
    }

    pub fn install_files(&self, replay: &Replay) {
        replay.get(
            &format!("{}/projects/{PROJECT_ENCODED}", self.prefix),
            Reply::value(&json!({
                "id": PROJECT_ID, "name": "fraud-detector", "path": "fraud-detector",
                "path_with_namespace": PROJECT, "default_branch": "main", "visibility": "private",
                "web_url": format!("{{BASE}}/{PROJECT}"), "empty_repo": false, "archived": false,
                "merge_method": "ff", "only_allow_merge_if_pipeline_succeeds": true,
                "ci_config_path": "", "namespace": {"id": 7, "full_path": "ml-group/platform", "kind": "group"},
            })),
        );
        replay.get(
            &self.p("/repository/commits/main"),
            Reply::value(&json!({
                "id": HEAD_SHA, "short_id": &HEAD_SHA[..8], "title": "Train with new data",
                "author_name": "Alex", "authored_date": "2026-11-20T10:00:00.000+01:00",
                "committed_date": "2026-11-20T10:00:00.000+01:00", "parent_ids": [], "web_url": "{BASE}/c",
            })),
        );
        // Keyset pagination: each page links the next with an opaque `page_token`.
        let entries = self.tree_entries();
        let pages: Vec<Vec<Value>> = entries.chunks(TREE_PAGE).map(|c| c.to_vec()).collect();
        let tree_path = self.p("/repository/tree");
        for (i, page) in pages.iter().enumerate() {
            let mut reply = Reply::value(&Value::Array(page.clone()));
            if i + 1 < pages.len() {
                // GitLab builds links from its external URL: behind a proxy that
                // may be another scheme and host than the one the client uses.
                let origin = if i == 0 {
                    "https://gitlab.internal.example"
                } else {
                    "{BASE}"
                };
                reply = reply.header(
                    "link",
                    format!(
                        "<{origin}{tree_path}?id={PROJECT_ID}&pagination=keyset&per_page=100&recursive=true&ref={HEAD_SHA}&page_token=tok{}>; rel=\"next\"",
                        i + 1
                    ),
                );
            }
            let target = if i == 0 {
                format!("{tree_path}?recursive=true&pagination=keyset&ref={HEAD_SHA}")
            } else {
                format!("{tree_path}?pagination=keyset&page_token=tok{i}")
            };
            replay.get(&target, reply);
        }
        let by_path: std::collections::HashMap<String, Vec<u8>> = self
            .repo
            .files
            .iter()
            .map(|f| (f.path.clone(), f.bytes.clone()))
            .collect();
        replay.handler("POST", &self.graphql_path(), move |seen| {
            let request: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
            let paths = request
                .pointer("/variables/paths")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let nodes: Vec<Value> = paths
                .iter()
                .filter_map(|p| p.as_str())
                .filter_map(|p| {
                    let bytes = by_path.get(p)?;
                    // GitLab gives no text for binary blobs.
                    let text = match (bytes.contains(&0), std::str::from_utf8(bytes)) {
                        (false, Ok(t)) => json!(t),
                        _ => Value::Null,
                    };
                    Some(
                        json!({"path": p, "rawSize": bytes.len().to_string(), "rawTextBlob": text}),
                    )
                })
                .collect();
            Reply {
                status: 200,
                headers: vec![],
                body: json!({"data": {"project": {"repository": {"blobs": {"nodes": nodes}}}}})
                    .to_string(),
                etag: false,
            }
        });
        for f in &self.repo.files {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&f.bytes);
            replay.get(
                &self.p(&format!("/repository/blobs/{}", f.sha)),
                Reply::value(&json!({
                    "size": f.bytes.len(), "encoding": "base64", "content": encoded, "sha": f.sha,
                })),
            );
        }
    }

    /// Pipelines over three offset pages, with GitLab's pagination headers.
    fn install_pipelines(&self, replay: &Replay) {
        let path = self.p("/pipelines");
        let all: Vec<Value> = (0..PIPELINES)
            .map(|i| {
                let id = 900_000 + (PIPELINES - i) as u64;
                let status = match i % 10 {
                    0 => "failed",
                    7 => "canceled",
                    9 => "manual",
                    _ => "success",
                };
                let source = if i % 5 == 0 { "schedule" } else if i % 3 == 0 { "merge_request_event" } else { "push" };
                json!({
                    "id": id, "iid": id - 899_000, "project_id": PROJECT_ID, "sha": HEAD_SHA,
                    "ref": if source == "merge_request_event" { "refs/merge-requests/12/head" } else { "main" },
                    "status": status, "source": source,
                    "created_at": "2026-11-20T09:00:00.000Z", "updated_at": "2026-11-20T09:20:00.000Z",
                    "web_url": format!("https://gitlab.example/{PROJECT}/-/pipelines/{id}"),
                })
            })
            .collect();
        let per_page = 100;
        let total_pages = PIPELINES.div_ceil(per_page);
        for page in 1..=total_pages {
            let items: Vec<Value> = all
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .cloned()
                .collect();
            let next = if page < total_pages {
                (page + 1).to_string()
            } else {
                String::new()
            };
            let mut reply = Reply::value(&Value::Array(items))
                .header("x-page", page.to_string())
                .header("x-per-page", per_page.to_string())
                .header("x-total", PIPELINES.to_string())
                .header("x-total-pages", total_pages.to_string())
                .header("x-next-page", next.clone())
                .header(
                    "x-prev-page",
                    if page > 1 {
                        (page - 1).to_string()
                    } else {
                        String::new()
                    },
                );
            // GitLab also sends `Link`; page 2 leaves it out so `x-next-page` carries on.
            if page == 1 {
                reply = reply.header(
                    "link",
                    format!("<{{BASE}}{path}?order_by=updated_at&page=2&per_page=100&sort=desc>; rel=\"next\", <{{BASE}}{path}?order_by=updated_at&page=1&per_page=100&sort=desc>; rel=\"first\", <{{BASE}}{path}?order_by=updated_at&page={total_pages}&per_page=100&sort=desc>; rel=\"last\""),
                );
            }
            let target = if page == 1 {
                format!("{path}?order_by=updated_at&per_page=100")
            } else {
                format!("{path}?page={page}")
            };
            replay.get(&target, reply);
        }
        for p in all.iter() {
            let id = p["id"].as_u64().unwrap();
            let mut detail = p.clone();
            detail["duration"] = json!(600);
            detail["queued_duration"] = json!(30);
            detail["started_at"] = json!("2026-11-20T09:00:30.000Z");
            detail["finished_at"] = json!("2026-11-20T09:10:30.000Z");
            replay.get(&self.p(&format!("/pipelines/{id}")), Reply::value(&detail));
        }
    }

    /// Everything but the files.
    pub fn install_history(&self, replay: &Replay) {
        self.install_pipelines(replay);
        let deployment = |id: u64, env: &str, status: &str, at: &str| {
            json!({
                "id": id, "iid": id - 40, "ref": "main", "sha": HEAD_SHA, "status": status,
                "created_at": at, "updated_at": at,
                "environment": {"id": if env == "production" { 2 } else { 1 }, "name": env, "external_url": format!("https://{env}.example")},
                "deployable": {"id": id + 1000, "status": status, "stage": env, "name": format!("deploy-{env}"), "finished_at": at},
                "user": {"username": "alex"},
            })
        };
        replay.get(
            &self.p("/deployments?order_by=updated_at&per_page=100"),
            Reply::value(&json!([
                deployment(53, "production", "success", "2026-11-20T11:00:00.000Z"),
                deployment(52, "staging", "success", "2026-11-20T10:30:00.000Z"),
                deployment(51, "production", "failed", "2026-11-19T11:00:00.000Z"),
            ]))
            .header("x-page", "1")
            .header("x-per-page", "100")
            .header("x-total", "3")
            .header("x-total-pages", "1")
            .header("x-next-page", ""),
        );
        replay.get(
            &self.p("/environments?per_page=100"),
            Reply::value(&json!([
                {"id": 1, "name": "staging", "slug": "staging", "external_url": "https://staging.example", "state": "available", "tier": "staging"},
                {"id": 2, "name": "production", "slug": "production", "external_url": "https://production.example", "state": "available", "tier": "production"},
            ])),
        );
        replay.get(
            &self.p("/protected_environments?per_page=100"),
            Reply::value(&json!([
                {"name": "production", "deploy_access_levels": [{"id": 12, "access_level": 40, "access_level_description": "Maintainers", "user_id": null, "group_id": null, "group_inheritance_type": 0}],
                 "required_approval_count": 0,
                 "approval_rules": [{"id": 1, "user_id": null, "group_id": 10, "access_level": null, "access_level_description": "qa-group", "required_approvals": 2, "group_inheritance_type": 0}]}
            ])),
        );
        replay.get(
            &self.p("/protected_branches?per_page=100"),
            Reply::value(&json!([
                {"id": 1, "name": "main", "push_access_levels": [{"id": 1, "access_level": 40, "access_level_description": "Maintainers"}],
                 "merge_access_levels": [{"id": 1, "access_level": 30, "access_level_description": "Developers + Maintainers"}],
                 "allow_force_push": false, "code_owner_approval_required": true},
                {"id": 2, "name": "release/*", "push_access_levels": [], "merge_access_levels": [], "allow_force_push": false, "code_owner_approval_required": false}
            ])),
        );
        replay.get(
            &self.p("/approval_rules?per_page=100"),
            Reply::value(&json!([
                {"id": 1, "name": "All Members", "rule_type": "any_approver", "approvals_required": 1, "protected_branches": [], "contains_hidden_groups": false},
                {"id": 2, "name": "ML leads", "rule_type": "regular", "approvals_required": 2,
                 "protected_branches": [{"id": 1, "name": "main"}], "contains_hidden_groups": false}
            ])),
        );
        replay.get(
            &self.p("/releases?per_page=100"),
            Reply::value(&json!([
                {"tag_name": "v1.2.0", "name": "v1.2.0", "description": "Model v1.2", "created_at": "2026-11-10T00:00:00.000Z", "released_at": "2026-11-10T00:00:00.000Z", "upcoming_release": false,
                 "_links": {"self": format!("https://gitlab.example/{PROJECT}/-/releases/v1.2.0")}},
                {"tag_name": "v1.1.0", "name": "v1.1.0", "description": "", "created_at": "2026-11-01T00:00:00.000Z", "released_at": "2026-11-01T00:00:00.000Z", "upcoming_release": false,
                 "_links": {"self": format!("https://gitlab.example/{PROJECT}/-/releases/v1.1.0")}}
            ])),
        );
        replay.get(
            &self.p("/registry/repositories?tags=true&per_page=100"),
            Reply::value(&json!([
                {"id": 5, "name": "", "path": PROJECT, "project_id": PROJECT_ID, "location": format!("registry.gitlab.example/{PROJECT}"), "created_at": "2026-01-01T00:00:00.000Z",
                 "tags": [{"name": "1.2.0", "path": format!("{PROJECT}:1.2.0"), "location": format!("registry.gitlab.example/{PROJECT}:1.2.0")},
                          {"name": "latest", "path": format!("{PROJECT}:latest"), "location": format!("registry.gitlab.example/{PROJECT}:latest")}]}
            ])),
        );
        replay.get(
            &self.p("/ml/mlflow/api/2.0/mlflow/registered-models/search?max_results=100"),
            Reply::value(&json!({"registered_models": [
                {"name": "fraud-detector", "creation_timestamp": 1_763_000_000_000_i64, "last_updated_timestamp": 1_763_600_000_000_i64,
                 "latest_versions": [{"name": "fraud-detector", "version": "3", "creation_timestamp": 1_763_600_000_000_i64, "current_stage": "None", "status": "READY"}]}
            ]})),
        );
        replay.get(
            &self.p("/packages?per_page=100"),
            Reply::value(&json!([
                {"id": 81, "name": "fraud-features", "version": "0.4.1", "package_type": "pypi", "created_at": "2026-11-02T00:00:00.000Z", "_links": {"web_path": format!("/{PROJECT}/-/packages/81")}},
                {"id": 82, "name": "fraud-detector", "version": "3", "package_type": "ml_model", "created_at": "2026-11-19T00:00:00.000Z", "_links": {"web_path": format!("/{PROJECT}/-/packages/82")}}
            ])),
        );
        replay.get(
            &self.p("/repository/tags?per_page=100"),
            Reply::value(&json!([
                {"name": "v1.2.0", "message": "", "target": HEAD_SHA, "commit": {"id": HEAD_SHA, "committed_date": "2026-11-10T00:00:00.000Z"}, "protected": true},
                {"name": "v1.1.0", "message": "", "target": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "commit": {"id": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "committed_date": "2026-11-01T00:00:00.000Z"}, "protected": true}
            ])),
        );
        replay.get(
            &self.p(&format!("/repository/commits?ref_name={HEAD_SHA}&per_page=100")),
            Reply::value(&json!([
                {"id": HEAD_SHA, "title": "Train with new data", "author_name": "Alex", "committed_date": "2026-11-20T10:00:00.000+01:00", "authored_date": "2026-11-20T10:00:00.000+01:00"},
                {"id": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "title": "Release 1.1", "author_name": "Sam", "committed_date": "2026-11-01T00:00:00.000Z", "authored_date": "2026-11-01T00:00:00.000Z"}
            ])),
        );
    }

    pub fn install(&self, replay: &Replay) {
        self.install_files(replay);
        self.install_history(replay);
    }

    /// A file of another project, for `include: project:`.
    pub fn install_project_file(
        &self,
        replay: &Replay,
        project_encoded: &str,
        file_encoded: &str,
        git_ref: &str,
        text: &str,
    ) {
        replay.get(
            &format!(
                "{}/projects/{project_encoded}/repository/files/{file_encoded}/raw?ref={git_ref}",
                self.prefix
            ),
            Reply {
                status: 200,
                headers: Vec::new(),
                body: text.to_string(),
                etag: true,
            },
        );
    }
}
