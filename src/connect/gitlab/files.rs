//! Project, head commit, tree and file texts.
//!
//! Files come from the recursive tree listing (keyset pagination, 100 entries a
//! page); only the texts [`content_wanted`] asks for are fetched: in GraphQL
//! batches of up to [`GRAPHQL_BATCH`] paths (`project.repository.blobs(paths:,
//! ref:)` → `rawTextBlob`), and by REST `GET /repository/blobs/:sha` (JSON with
//! base64 content, so bytes arrive intact for the binary and UTF-8 checks) for
//! what GraphQL did not give (binary or non-text blobs, GraphQL unavailable, a job
//! token). Texts are kept in the blob cache by sha: an unchanged file is never
//! fetched twice. GitLab's tree does not give sizes: files
//! that are not read are recorded with size 0, and the size limit is applied to
//! the bytes once fetched.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use serde_json::{Value, json};

use super::{GitlabError, encode_component};
use crate::connect::ConnectOptions;
use crate::connect::remote::cache::BlobEntry;
use crate::connect::remote::client::{Client, ClientError, Outcome};
use crate::connect::remote::files::{entry_from_bytes, record_from_entry, scan_stats, skipped};
use crate::evidence::{
    Diagnostic, FileSet, Location, RepoFile, ScanStats, SkipReason, content_wanted,
};

/// Tree pages read (100 entries each): 200,000 entries.
const MAX_TREE_PAGES: usize = 2000;
/// Paths per GraphQL blobs query (GitLab's default page size for connections).
pub(crate) const GRAPHQL_BATCH: usize = 100;

/// What the scan needs to know about the project.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub id: u64,
    /// `group/sub/project`.
    pub path: String,
    pub default_branch: Option<String>,
    /// `ff` (fast-forward only: linear history), `rebase_merge`, `merge`.
    pub merge_method: Option<String>,
    /// "Pipelines must succeed" before merging.
    pub pipeline_must_succeed: bool,
}

impl Project {
    /// `/projects/:id{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/projects/{}{rest}", self.id)
    }
}

/// The commit being scanned.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub sha: String,
    pub branch: Option<String>,
    pub date: Option<String>,
}

/// Map a client failure on a request the scan cannot do without.
pub(crate) fn essential(err: ClientError, endpoint: &str, max_requests: u32) -> GitlabError {
    match err {
        ClientError::Fatal(stop) => stop.into(),
        ClientError::Budget => GitlabError::BudgetExhausted {
            max_requests,
            endpoint: endpoint.to_string(),
        },
        ClientError::Network(m) => GitlabError::Network(m),
    }
}

fn parse_json(body: &str, endpoint: &str) -> Result<Value, GitlabError> {
    serde_json::from_str(body).map_err(|e| GitlabError::InvalidResponse {
        endpoint: endpoint.to_string(),
        message: format!("invalid JSON ({e})"),
    })
}

pub(crate) use crate::connect::remote::evidence::str_of;

pub(crate) async fn project(client: &mut Client, path: &str) -> Result<Project, GitlabError> {
    let api_path = format!("/projects/{}", encode_component(path));
    let endpoint = format!("GET {api_path}");
    let max = client.max_requests();
    let outcome = client
        .get("project", &api_path, None)
        .await
        .map_err(|e| essential(e, &endpoint, max))?;
    let body = match outcome {
        Outcome::Ok { body, .. } => body,
        Outcome::Status {
            status, message, ..
        } => {
            return Err(match status {
                404 => GitlabError::NotFound {
                    target: path.to_string(),
                },
                401 => GitlabError::Unauthorized { message },
                403 => GitlabError::Forbidden { endpoint, message },
                _ => GitlabError::InvalidResponse {
                    endpoint,
                    message: format!("{status} {message}"),
                },
            });
        }
    };
    let v = parse_json(&body, &endpoint)?;
    let id = v
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| GitlabError::InvalidResponse {
            endpoint: endpoint.clone(),
            message: "no project id".into(),
        })?;
    Ok(Project {
        id,
        path: str_of(&v, "/path_with_namespace").unwrap_or_else(|| path.to_string()),
        default_branch: str_of(&v, "/default_branch"),
        merge_method: str_of(&v, "/merge_method"),
        pipeline_must_succeed: v
            .get("only_allow_merge_if_pipeline_succeeds")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The commit to scan, or `None` for a repository without commits.
pub(crate) async fn resolve_head(
    client: &mut Client,
    project: &Project,
    git_ref: Option<&str>,
) -> Result<Option<Head>, GitlabError> {
    let Some(wanted) = git_ref.or(project.default_branch.as_deref()) else {
        // No default branch: GitLab's answer for an empty repository.
        return Ok(None);
    };
    let path = project.path(&format!("/repository/commits/{}", encode_component(wanted)));
    let endpoint = format!("GET {}", project.path("/repository/commits/:ref"));
    let max = client.max_requests();
    let outcome = client
        .get("repository/commits", &path, None)
        .await
        .map_err(|e| essential(e, &endpoint, max))?;
    match outcome {
        Outcome::Ok { body, .. } => {
            let v = parse_json(&body, &endpoint)?;
            let sha = str_of(&v, "/id").ok_or_else(|| GitlabError::InvalidResponse {
                endpoint: endpoint.clone(),
                message: "no commit id".into(),
            })?;
            let is_branch = git_ref.is_none() || git_ref == project.default_branch.as_deref();
            Ok(Some(Head {
                sha,
                branch: is_branch.then(|| wanted.to_string()),
                date: str_of(&v, "/committed_date"),
            }))
        }
        // The default branch of an empty repository does not exist yet.
        Outcome::Status { status: 404, .. } if git_ref.is_none() => Ok(None),
        Outcome::Status { status: 404, .. } => Err(GitlabError::RefNotFound {
            target: project.path.clone(),
            git_ref: wanted.to_string(),
        }),
        Outcome::Status {
            status: 401,
            message,
            ..
        } => Err(GitlabError::Unauthorized { message }),
        Outcome::Status {
            status, message, ..
        } => Err(GitlabError::InvalidResponse {
            endpoint,
            message: format!("{status} {message}"),
        }),
    }
}

struct TreeBlob {
    path: String,
    sha: String,
}

/// The file records of the head commit, with the texts detectors read.
pub(crate) async fn collect(
    client: &mut Client,
    project: &Project,
    head: &Head,
    use_graphql: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(FileSet, ScanStats), GitlabError> {
    let max_file_size = ConnectOptions::default().max_file_size;
    let endpoint = format!("GET {}", project.path("/repository/tree"));
    let max = client.max_requests();
    let mut next: Option<String> = None;
    let mut entries: Vec<Value> = Vec::new();
    for page in 0..MAX_TREE_PAGES {
        let outcome = match (&next, page) {
            (None, 0) => {
                let path = project.path(&format!(
                    "/repository/tree?recursive=true&per_page=100&pagination=keyset&ref={}",
                    encode_component(&head.sha)
                ));
                client.get("repository/tree", &path, None).await
            }
            (Some(url), _) => {
                let url = url.clone();
                client.get_url("repository/tree", &url).await
            }
            (None, _) => break,
        }
        .map_err(|e| essential(e, &endpoint, max))?;
        let body = match outcome {
            Outcome::Ok { body, next: n } => {
                next = n;
                body
            }
            Outcome::Status { status: 404, .. } if page == 0 => {
                diagnostics.push(Diagnostic::info(
                    "empty-repository",
                    format!("{endpoint}: no tree: no files to scan"),
                    None,
                ));
                return Ok(Default::default());
            }
            Outcome::Status {
                status, message, ..
            } => {
                if page == 0 {
                    return Err(GitlabError::InvalidResponse {
                        endpoint,
                        message: format!("{status} {message}"),
                    });
                }
                diagnostics.push(Diagnostic::warning(
                    "tree-truncated",
                    format!("{endpoint}: page {} failed ({status} {message}): files past it are missing from the scan", page + 1),
                    None,
                ));
                break;
            }
        };
        match serde_json::from_str::<Value>(&body) {
            Ok(Value::Array(items)) => entries.extend(items),
            Ok(_) | Err(_) => {
                diagnostics.push(Diagnostic::error(
                    "gitlab-invalid-json",
                    format!(
                        "{endpoint}: page {} is not a JSON list: files past it are missing from the scan",
                        page + 1
                    ),
                    None,
                ));
                next = None;
                break;
            }
        }
        if next.is_none() {
            break;
        }
    }
    if next.is_some() {
        diagnostics.push(Diagnostic::warning(
            "tree-truncated",
            format!("{endpoint}: more than {MAX_TREE_PAGES} pages: files past them are missing from the scan"),
            None,
        ));
    }

    let mut records: Vec<RepoFile> = Vec::new();
    let mut wanted: Vec<TreeBlob> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for entry in &entries {
        let (Some(path), Some(kind)) = (str_of(entry, "/path"), str_of(entry, "/type")) else {
            continue;
        };
        // Submodules (`commit`) are other repositories; trees are folders.
        if kind != "blob" || !seen.insert(path.clone()) {
            continue;
        }
        if str_of(entry, "/mode").as_deref() == Some("120000") {
            diagnostics.push(Diagnostic::info(
                "symlink-not-followed",
                "symbolic link: not followed through the GitLab API",
                Some(Location::file(path)),
            ));
            continue;
        }
        if !content_wanted(&path) {
            records.push(skipped(path, 0, SkipReason::NotOfInterest));
            continue;
        }
        wanted.push(TreeBlob {
            path,
            sha: str_of(entry, "/id").unwrap_or_default(),
        });
    }

    let mut from_graphql: HashMap<String, (BlobEntry, u64)> = HashMap::new();
    if use_graphql {
        let missing: Vec<&TreeBlob> = wanted
            .iter()
            .filter(|b| client.cache().and_then(|c| c.get_blob(&b.sha)).is_none())
            .collect();
        for batch in missing.chunks(GRAPHQL_BATCH) {
            match graphql_batch(client, project, &head.sha, batch).await {
                Ok(Some(found)) => from_graphql.extend(found),
                // GraphQL is not usable here: REST for the rest.
                Ok(None) | Err(ClientError::Budget | ClientError::Network(_)) => break,
                Err(ClientError::Fatal(stop)) => return Err(stop.into()),
            }
        }
    }

    let mut budget_hit = false;
    for blob in wanted {
        let cached = match from_graphql.remove(&blob.path) {
            Some((entry, _)) => {
                if let Some(cache) = client.cache() {
                    cache.put_blob(&blob.sha, &entry);
                }
                Some(entry)
            }
            None => client
                .cache()
                .and_then(|c| c.get_blob(&blob.sha))
                .inspect(|_| {
                    client.stats.blobs_from_cache += 1;
                }),
        };
        let (entry, size) = match cached {
            Some(entry) => {
                let size = entry.text.as_ref().map(|t| t.len() as u64).unwrap_or(0);
                (Some(entry), size)
            }
            None if budget_hit => (None, 0),
            None => match fetch_blob(client, project, &blob, diagnostics).await {
                Ok(Some((entry, size))) => {
                    if let Some(cache) = client.cache() {
                        cache.put_blob(&blob.sha, &entry);
                    }
                    (Some(entry), size)
                }
                Ok(None) => (None, 0),
                Err(ClientError::Fatal(stop)) => return Err(stop.into()),
                Err(ClientError::Budget) => {
                    budget_hit = true;
                    diagnostics.push(Diagnostic::warning(
                        "gitlab-request-budget",
                        format!(
                            "request budget of {} exhausted: remaining file texts not read",
                            client.max_requests()
                        ),
                        None,
                    ));
                    (None, 0)
                }
                Err(ClientError::Network(m)) => {
                    diagnostics.push(Diagnostic::warning(
                        "unreadable-file",
                        format!("cannot fetch: {m}"),
                        Some(Location::file(blob.path.clone())),
                    ));
                    (None, 0)
                }
            },
        };
        records.push(match entry {
            Some(_) if size > max_file_size => {
                diagnostics.push(Diagnostic::info(
                    "file-too-large",
                    format!("{size} bytes, over the {max_file_size}-byte limit: not read"),
                    Some(Location::file(blob.path.clone())),
                ));
                skipped(blob.path, size, SkipReason::TooLarge)
            }
            Some(entry) => record_from_entry(blob.path, size, &entry, diagnostics),
            None => skipped(blob.path, size, SkipReason::Unreadable),
        });
    }
    records.sort_by(|a, b| a.path.cmp(&b.path));
    let stats = scan_stats(&records);
    Ok((FileSet::new(records), stats))
}

/// One GraphQL query for up to [`GRAPHQL_BATCH`] paths at `sha`: the text
/// blobs found, by path. `Ok(None)`: GraphQL is not usable (an error, no project).
async fn graphql_batch(
    client: &mut Client,
    project: &Project,
    sha: &str,
    batch: &[&TreeBlob],
) -> Result<Option<HashMap<String, (BlobEntry, u64)>>, ClientError> {
    let query = "query($path: ID!, $ref: String!, $paths: [String!]!) { project(fullPath: $path) { repository { blobs(ref: $ref, paths: $paths) { nodes { path rawSize rawTextBlob } } } } }";
    // Variables carry the paths, so no path can break out of the query text.
    let body = json!({
        "query": query,
        "variables": {
            "path": project.path,
            "ref": sha,
            "paths": batch.iter().map(|b| b.path.as_str()).collect::<Vec<_>>(),
        },
    });
    let Outcome::Ok { body, .. } = client.graphql(&body).await? else {
        return Ok(None);
    };
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        return Ok(None);
    };
    let Some(nodes) = v
        .pointer("/data/project/repository/blobs/nodes")
        .and_then(Value::as_array)
    else {
        return Ok(None);
    };
    let mut found = HashMap::new();
    for node in nodes {
        // No text (binary, too large for GraphQL): read by REST, which gives bytes.
        let (Some(path), Some(text)) = (str_of(node, "/path"), str_of(node, "/rawTextBlob")) else {
            continue;
        };
        let size = node
            .get("rawSize")
            .and_then(|s| {
                s.as_u64()
                    .or_else(|| s.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(text.len() as u64);
        found.insert(path, (entry_from_bytes(text.into_bytes()), size));
    }
    Ok(Some(found))
}

/// One blob by sha: its classified bytes and size. `Ok(None)`: not readable (a
/// diagnostic says why).
async fn fetch_blob(
    client: &mut Client,
    project: &Project,
    blob: &TreeBlob,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<(BlobEntry, u64)>, ClientError> {
    let location = Some(Location::file(blob.path.clone()));
    if blob.sha.is_empty() || !blob.sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        diagnostics.push(Diagnostic::warning(
            "unreadable-file",
            "the tree gave no blob id: not read",
            location,
        ));
        return Ok(None);
    }
    let path = project.path(&format!("/repository/blobs/{}", blob.sha));
    match client.get("repository/blobs", &path, None).await? {
        Outcome::Ok { body, .. } => {
            let v: Value = match serde_json::from_str(&body) {
                Ok(v) => v,
                Err(e) => {
                    diagnostics.push(Diagnostic::warning(
                        "unreadable-file",
                        format!("GET {path}: invalid JSON ({e})"),
                        location,
                    ));
                    return Ok(None);
                }
            };
            let content = str_of(&v, "/content").unwrap_or_default();
            let bytes = match str_of(&v, "/encoding").as_deref() {
                Some("base64") => {
                    let compact: String = content.split_whitespace().collect();
                    match base64::engine::general_purpose::STANDARD.decode(compact) {
                        Ok(b) => b,
                        Err(e) => {
                            diagnostics.push(Diagnostic::warning(
                                "unreadable-file",
                                format!("GET {path}: invalid base64 ({e})"),
                                location,
                            ));
                            return Ok(None);
                        }
                    }
                }
                _ => content.into_bytes(),
            };
            let size = v
                .get("size")
                .and_then(Value::as_u64)
                .unwrap_or(bytes.len() as u64);
            Ok(Some((entry_from_bytes(bytes), size)))
        }
        Outcome::Status {
            status, message, ..
        } => {
            diagnostics.push(Diagnostic::warning(
                "unreadable-file",
                format!("GET {path}: {status} {message}"),
                location,
            ));
            Ok(None)
        }
    }
}
