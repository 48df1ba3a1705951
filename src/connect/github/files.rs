//! Repository, head commit, tree and file texts.
//!
//! Files come from one recursive tree listing; only the texts
//! [`content_wanted`] asks for are fetched, in GraphQL batches of up to
//! [`GRAPHQL_BATCH`] blobs (REST blobs when GraphQL is not available, e.g. without a
//! token), and kept in the blob cache by sha. The file records are classified the
//! way the local connector does (size limit, NUL sniff, UTF-8), so both connectors
//! give the same [`FileSet`] for the same tree.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use serde_json::{Value, json};

use super::GithubError;
use super::client::{Client, ClientError, Outcome};
use crate::connect::ConnectOptions;
use crate::connect::remote::cache::BlobEntry;
use crate::connect::remote::files::{entry_from_bytes, record_from_entry, scan_stats, skipped};
use crate::evidence::{
    Diagnostic, FileSet, Location, RepoFile, ScanStats, SkipReason, content_wanted,
};

/// Blobs per GraphQL query (GitHub allows far more aliases, but a response must
/// stay small enough not to time out).
pub(crate) const GRAPHQL_BATCH: usize = 100;
/// Sum of blob sizes per GraphQL query.
const GRAPHQL_BATCH_BYTES: u64 = 8 * 1024 * 1024;

pub(crate) struct Target {
    pub owner: String,
    pub repo: String,
}

impl Target {
    pub fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{}", self.owner, self.repo, rest)
    }
}

pub(crate) struct RepoInfo {
    pub default_branch: String,
    pub owner_is_org: bool,
}

/// The commit being scanned.
pub(crate) struct Head {
    pub sha: String,
    /// The branch name when the scan is of a branch.
    pub branch: Option<String>,
    pub date: Option<String>,
    /// The branch API's protection summary (`protected`, required check contexts).
    pub protected: Option<bool>,
}

/// Percent-encode a ref or name for a URL path, keeping `/` (GitHub accepts
/// slashes in branch names in these endpoints).
pub(crate) fn encode_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Map a client failure on a request the scan cannot do without.
pub(crate) fn essential(err: ClientError, endpoint: &str, max_requests: u32) -> GithubError {
    match err {
        ClientError::Fatal(e) => e,
        ClientError::Budget => GithubError::BudgetExhausted {
            max_requests,
            endpoint: endpoint.to_string(),
        },
        ClientError::Network(m) => GithubError::Network(m),
    }
}

fn parse_json(body: &str, endpoint: &str) -> Result<Value, GithubError> {
    serde_json::from_str(body).map_err(|e| GithubError::InvalidResponse {
        endpoint: endpoint.to_string(),
        message: format!("invalid JSON ({e})"),
    })
}

pub(crate) use crate::connect::remote::evidence::str_of;

pub(crate) async fn repo_info(
    client: &mut Client,
    target: &Target,
) -> Result<RepoInfo, GithubError> {
    let path = target.path("");
    let endpoint = format!("GET {path}");
    let max = client.max_requests();
    let outcome = client
        .get("repo", &path, None)
        .await
        .map_err(|e| essential(e, &endpoint, max))?;
    let body = match outcome {
        Outcome::Ok { body, .. } => body,
        Outcome::Status {
            status, message, ..
        } => {
            return Err(match status {
                404 => GithubError::NotFound {
                    target: format!("{}/{}", target.owner, target.repo),
                },
                401 => GithubError::Unauthorized { message },
                403 => GithubError::Forbidden { endpoint, message },
                _ => GithubError::InvalidResponse {
                    endpoint,
                    message: format!("{status} {message}"),
                },
            });
        }
    };
    let v = parse_json(&body, &endpoint)?;
    let default_branch =
        str_of(&v, "/default_branch").ok_or_else(|| GithubError::InvalidResponse {
            endpoint: endpoint.clone(),
            message: "no default_branch".into(),
        })?;
    Ok(RepoInfo {
        default_branch,
        owner_is_org: str_of(&v, "/owner/type").as_deref() == Some("Organization"),
    })
}

/// The commit to scan, or `None` for a repository without commits.
pub(crate) async fn resolve_head(
    client: &mut Client,
    target: &Target,
    info: &RepoInfo,
    git_ref: Option<&str>,
) -> Result<Option<Head>, GithubError> {
    let max = client.max_requests();
    let on_default = git_ref.is_none_or(|r| r == info.default_branch);
    if on_default {
        // The branch endpoint gives the head commit and the protection summary in one request.
        let path = target.path(&format!("/branches/{}", encode_path(&info.default_branch)));
        let endpoint = format!("GET {path}");
        let outcome = client
            .get("branches", &path, None)
            .await
            .map_err(|e| essential(e, &endpoint, max))?;
        return match outcome {
            Outcome::Ok { body, .. } => {
                let v = parse_json(&body, &endpoint)?;
                let sha =
                    str_of(&v, "/commit/sha").ok_or_else(|| GithubError::InvalidResponse {
                        endpoint: endpoint.clone(),
                        message: "no commit.sha".into(),
                    })?;
                Ok(Some(Head {
                    sha,
                    branch: Some(info.default_branch.clone()),
                    date: str_of(&v, "/commit/commit/committer/date"),
                    protected: v.get("protected").and_then(Value::as_bool),
                }))
            }
            // The default branch of an empty repository does not exist yet.
            Outcome::Status {
                status: 404 | 409, ..
            } => Ok(None),
            Outcome::Status {
                status: 401,
                message,
                ..
            } => Err(GithubError::Unauthorized { message }),
            Outcome::Status {
                status, message, ..
            } => Err(GithubError::InvalidResponse {
                endpoint,
                message: format!("{status} {message}"),
            }),
        };
    }
    let git_ref = git_ref.unwrap_or_default();
    let path = target.path(&format!("/commits/{}", encode_path(git_ref)));
    let endpoint = format!("GET {path}");
    let outcome = client
        .get("commits", &path, None)
        .await
        .map_err(|e| essential(e, &endpoint, max))?;
    match outcome {
        Outcome::Ok { body, .. } => {
            let v = parse_json(&body, &endpoint)?;
            let sha = str_of(&v, "/sha").ok_or_else(|| GithubError::InvalidResponse {
                endpoint: endpoint.clone(),
                message: "no sha".into(),
            })?;
            Ok(Some(Head {
                sha,
                branch: None,
                date: str_of(&v, "/commit/committer/date"),
                protected: None,
            }))
        }
        Outcome::Status { status: 409, .. } => Ok(None),
        Outcome::Status {
            status: 404 | 422, ..
        } => Err(GithubError::RefNotFound {
            target: format!("{}/{}", target.owner, target.repo),
            git_ref: git_ref.to_string(),
        }),
        Outcome::Status {
            status: 401,
            message,
            ..
        } => Err(GithubError::Unauthorized { message }),
        Outcome::Status {
            status, message, ..
        } => Err(GithubError::InvalidResponse {
            endpoint,
            message: format!("{status} {message}"),
        }),
    }
}

struct TreeBlob {
    /// Where the file is recorded.
    path: String,
    /// Where its content lives in the tree: the path itself, or a symlink's target.
    fetch_path: String,
    sha: String,
    size: u64,
}

/// The file records of the head commit, with the texts detectors read.
pub(crate) async fn collect(
    client: &mut Client,
    target: &Target,
    head: &Head,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(FileSet, ScanStats), GithubError> {
    let max_file_size = ConnectOptions::default().max_file_size;
    let path = target.path(&format!("/git/trees/{}?recursive=1", head.sha));
    let endpoint = format!("GET {}", target.path(&format!("/git/trees/{}", head.sha)));
    let max = client.max_requests();
    let outcome = client
        .get("git/trees", &path, None)
        .await
        .map_err(|e| essential(e, &endpoint, max))?;
    let body = match outcome {
        Outcome::Ok { body, .. } => body,
        Outcome::Status {
            status: 409 | 404,
            message,
            ..
        } => {
            diagnostics.push(Diagnostic::info(
                "empty-repository",
                format!("{endpoint}: {message}: no files to scan"),
                None,
            ));
            return Ok(Default::default());
        }
        Outcome::Status {
            status, message, ..
        } => {
            return Err(GithubError::InvalidResponse {
                endpoint,
                message: format!("{status} {message}"),
            });
        }
    };
    let tree = match serde_json::from_str::<Value>(&body) {
        Ok(v) => v,
        Err(e) => {
            diagnostics.push(Diagnostic::error(
                "github-invalid-json",
                format!(
                    "{endpoint}: invalid JSON ({e}): the file list is unknown, no files scanned"
                ),
                None,
            ));
            return Ok(Default::default());
        }
    };
    if tree.get("truncated").and_then(Value::as_bool) == Some(true) {
        diagnostics.push(Diagnostic::warning(
            "tree-truncated",
            format!("{endpoint}: GitHub truncated the recursive tree (over 100,000 entries or 7 MB): files past the cut are missing from the scan"),
            None,
        ));
    }

    let mut records: Vec<RepoFile> = Vec::new();
    let mut blobs: Vec<TreeBlob> = Vec::new();
    let mut links: Vec<TreeBlob> = Vec::new();
    let mut dirs: HashSet<String> = HashSet::new();
    let entries = tree
        .get("tree")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in &entries {
        let (Some(path), Some(kind)) = (str_of(entry, "/path"), str_of(entry, "/type")) else {
            continue;
        };
        match kind.as_str() {
            "blob" => {}
            "tree" => {
                dirs.insert(path);
                continue;
            }
            // Submodules (`commit`) are other repositories.
            _ => continue,
        }
        let blob = TreeBlob {
            sha: str_of(entry, "/sha").unwrap_or_default(),
            size: entry.get("size").and_then(Value::as_u64).unwrap_or(0),
            fetch_path: path.clone(),
            path,
        };
        if str_of(entry, "/mode").as_deref() == Some("120000") {
            links.push(blob);
        } else {
            blobs.push(blob);
        }
    }

    let mut state = FetchState {
        graphql_ok: client.has_token(),
        budget_hit: false,
    };
    blobs.extend(
        resolve_links(
            client,
            target,
            &head.sha,
            links,
            &blobs,
            &dirs,
            &mut state,
            diagnostics,
        )
        .await?,
    );

    let mut wanted: Vec<TreeBlob> = Vec::new();
    for blob in blobs {
        if !content_wanted(&blob.path) {
            records.push(skipped(blob.path, blob.size, SkipReason::NotOfInterest));
        } else if blob.size > max_file_size {
            diagnostics.push(Diagnostic::info(
                "file-too-large",
                format!(
                    "{} bytes, over the {max_file_size}-byte limit: not read",
                    blob.size
                ),
                Some(Location::file(blob.path.clone())),
            ));
            records.push(skipped(blob.path, blob.size, SkipReason::TooLarge));
        } else {
            wanted.push(blob);
        }
    }
    for (blob, entry) in
        fetch_texts(client, target, &head.sha, wanted, &mut state, diagnostics).await?
    {
        records.push(match entry {
            Some(entry) => record_from_entry(blob.path, blob.size, &entry, diagnostics),
            None => skipped(blob.path, blob.size, SkipReason::Unreadable),
        });
    }

    let stats = scan_stats(&records);
    Ok((FileSet::new(records), stats))
}

/// How text fetching is going across calls: GraphQL may turn out unusable, and the
/// request budget may run out.
struct FetchState {
    graphql_ok: bool,
    budget_hit: bool,
}

/// Texts of these blobs: from the blob cache, then GraphQL batches, then REST blobs.
/// `None` means not readable (a diagnostic says why).
async fn fetch_texts(
    client: &mut Client,
    target: &Target,
    sha: &str,
    blobs: Vec<TreeBlob>,
    state: &mut FetchState,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<(TreeBlob, Option<BlobEntry>)>, GithubError> {
    let mut done = Vec::with_capacity(blobs.len());
    // Texts already in the blob cache cost nothing.
    let mut to_fetch = Vec::new();
    for blob in blobs {
        match client.cache().and_then(|c| c.get_blob(&blob.sha)) {
            Some(entry) => {
                client.stats_mut().blobs_from_cache += 1;
                done.push((blob, Some(entry)));
            }
            None => to_fetch.push(blob),
        }
    }

    let mut batches: Vec<Vec<TreeBlob>> = Vec::new();
    let mut current: Vec<TreeBlob> = Vec::new();
    let mut current_bytes = 0u64;
    for blob in to_fetch {
        if !current.is_empty()
            && (current.len() >= GRAPHQL_BATCH || current_bytes + blob.size > GRAPHQL_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += blob.size;
        current.push(blob);
    }
    if !current.is_empty() {
        batches.push(current);
    }

    let mut rest: Vec<TreeBlob> = Vec::new();
    for batch in batches {
        if !state.graphql_ok || state.budget_hit {
            rest.extend(batch);
            continue;
        }
        match graphql_batch(client, target, sha, &batch, diagnostics).await? {
            Some(results) => {
                for (blob, result) in batch.into_iter().zip(results) {
                    match result {
                        Some(entry) => {
                            if let Some(cache) = client.cache() {
                                cache.put_blob(&blob.sha, &entry);
                            }
                            done.push((blob, Some(entry)));
                        }
                        None => rest.push(blob),
                    }
                }
            }
            None => {
                state.graphql_ok = false;
                rest.extend(batch);
            }
        }
    }

    for blob in rest {
        if state.budget_hit {
            done.push((blob, None));
            continue;
        }
        match rest_blob(client, target, &blob, diagnostics).await {
            Ok(Some(entry)) => {
                if let Some(cache) = client.cache() {
                    cache.put_blob(&blob.sha, &entry);
                }
                done.push((blob, Some(entry)));
            }
            Ok(None) => done.push((blob, None)),
            Err(ClientError::Fatal(e)) => return Err(e),
            Err(ClientError::Budget) => {
                state.budget_hit = true;
                diagnostics.push(Diagnostic::warning(
                    "github-request-budget",
                    format!(
                        "request budget of {} exhausted: remaining file texts not read",
                        client.max_requests()
                    ),
                    None,
                ));
                done.push((blob, None));
            }
            Err(ClientError::Network(m)) => {
                diagnostics.push(Diagnostic::warning(
                    "unreadable-file",
                    format!("cannot fetch: {m}"),
                    Some(Location::file(blob.path.clone())),
                ));
                done.push((blob, None));
            }
        }
    }
    Ok(done)
}

/// Links followed before giving up as a loop.
const MAX_LINK_HOPS: usize = 16;

/// Where a symlink's target text points, relative to the repository root; `None`
/// when it leaves the repository.
fn link_target(link_path: &str, text: &str) -> Option<String> {
    if text.starts_with('/') || text.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = link_path.split('/').collect();
    parts.pop();
    for component in text.trim_end_matches('\n').split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Resolve symlinks inside the tree the way the local connector resolves them on
/// disk: a link to a file of the repository is read as that file (under the link's
/// path); links out of it or into `.git`, to directories, broken or looping links
/// are reported and not recorded.
#[allow(clippy::too_many_arguments)]
async fn resolve_links(
    client: &mut Client,
    target: &Target,
    sha: &str,
    links: Vec<TreeBlob>,
    blobs: &[TreeBlob],
    dirs: &HashSet<String>,
    state: &mut FetchState,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<TreeBlob>, GithubError> {
    if links.is_empty() {
        return Ok(Vec::new());
    }
    // A link's blob is its target path: one small fetch for all of them.
    let texts: HashMap<String, Option<String>> =
        fetch_texts(client, target, sha, links, state, diagnostics)
            .await?
            .into_iter()
            .map(|(blob, entry)| (blob.path, entry.and_then(|e| e.text)))
            .collect();
    let files: HashMap<&str, &TreeBlob> = blobs.iter().map(|b| (b.path.as_str(), b)).collect();
    let mut resolved = Vec::new();
    let mut link_paths: Vec<&String> = texts.keys().collect();
    link_paths.sort();
    for link in link_paths {
        let location = Some(Location::file(link.clone()));
        let mut current = link.clone();
        let mut outcome: Result<&TreeBlob, Diagnostic> = Err(Diagnostic::warning(
            "symlink-loop",
            "symlink loop: not read",
            location.clone(),
        ));
        for _ in 0..MAX_LINK_HOPS {
            let Some(Some(text)) = texts.get(&current) else {
                outcome = Err(Diagnostic::warning(
                    "symlink-broken",
                    "symlink target unreadable: not read",
                    location.clone(),
                ));
                break;
            };
            let Some(next) =
                link_target(&current, text).filter(|t| t != ".git" && !t.starts_with(".git/"))
            else {
                outcome = Err(Diagnostic::warning(
                    "symlink-outside-repo",
                    format!("symlink points outside the repository ({text}): not read"),
                    location.clone(),
                ));
                break;
            };
            if let Some(blob) = files.get(next.as_str()) {
                outcome = Ok(blob);
                break;
            }
            if next.is_empty() || dirs.contains(&next) {
                outcome = Err(Diagnostic::info(
                    "symlink-dir-not-followed",
                    "symlink to a directory: not followed",
                    location.clone(),
                ));
                break;
            }
            if !texts.contains_key(&next) {
                outcome = Err(Diagnostic::warning(
                    "symlink-broken",
                    format!("broken symlink -> {text}: not read"),
                    location.clone(),
                ));
                break;
            }
            current = next;
        }
        match outcome {
            Ok(blob) => resolved.push(TreeBlob {
                path: link.clone(),
                fetch_path: blob.fetch_path.clone(),
                sha: blob.sha.clone(),
                size: blob.size,
            }),
            Err(d) => diagnostics.push(d),
        }
    }
    Ok(resolved)
}

/// One GraphQL query for a batch of blobs. `Ok(None)`: GraphQL is not usable here
/// (switch to REST); otherwise one result per blob (`None` = fetch by REST).
async fn graphql_batch(
    client: &mut Client,
    target: &Target,
    sha: &str,
    batch: &[TreeBlob],
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<Vec<Option<BlobEntry>>>, GithubError> {
    let mut decl = String::from("$owner: String!, $name: String!");
    let mut fields = String::new();
    let mut variables = serde_json::Map::new();
    variables.insert("owner".into(), json!(target.owner));
    variables.insert("name".into(), json!(target.repo));
    for (i, blob) in batch.iter().enumerate() {
        decl.push_str(&format!(", $e{i}: String!"));
        fields.push_str(&format!(
            " f{i}: object(expression: $e{i}) {{ ... on Blob {{ text byteSize isBinary isTruncated }} }}"
        ));
        // Variables carry the paths, so no path can break out of the query text.
        variables.insert(format!("e{i}"), json!(format!("{sha}:{}", blob.fetch_path)));
    }
    let query = format!("query({decl}) {{ repository(owner: $owner, name: $name) {{{fields} }} }}");
    let body = json!({ "query": query, "variables": variables });
    let outcome = match client.graphql(&body).await {
        Ok(o) => o,
        Err(ClientError::Fatal(e)) => return Err(e),
        Err(ClientError::Budget) => return Ok(None),
        Err(ClientError::Network(m)) => {
            diagnostics.push(Diagnostic::warning(
                "graphql-unavailable",
                format!("{m}: file texts fetched by REST instead"),
                None,
            ));
            return Ok(None);
        }
    };
    let text = match outcome {
        Outcome::Ok { body, .. } => body,
        Outcome::Status {
            status, message, ..
        } => {
            diagnostics.push(Diagnostic::info(
                "graphql-unavailable",
                format!("POST /graphql: {status} {message}: file texts fetched by REST instead"),
                None,
            ));
            return Ok(None);
        }
    };
    let v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            diagnostics.push(Diagnostic::warning(
                "github-invalid-json",
                format!("POST /graphql: invalid JSON ({e}): this batch of {} file texts fetched by REST instead", batch.len()),
                None,
            ));
            return Ok(Some(batch.iter().map(|_| None).collect()));
        }
    };
    let Some(repository) = v.pointer("/data/repository").filter(|r| r.is_object()) else {
        let why = v
            .pointer("/errors/0/message")
            .and_then(Value::as_str)
            .unwrap_or("no data");
        diagnostics.push(Diagnostic::info(
            "graphql-unavailable",
            format!("POST /graphql: {why}: file texts fetched by REST instead"),
            None,
        ));
        return Ok(None);
    };
    Ok(Some(
        (0..batch.len())
            .map(|i| {
                let object = repository.get(format!("f{i}"))?;
                if object.get("isBinary").and_then(Value::as_bool) == Some(true) {
                    return Some(BlobEntry {
                        binary: true,
                        text: None,
                        not_utf8: false,
                    });
                }
                // A text GitHub cut short is fetched whole by REST.
                if object.get("isTruncated").and_then(Value::as_bool) == Some(true) {
                    return None;
                }
                // GitHub decodes the text for us; apply the same NUL sniff as locally.
                let text = object.get("text").and_then(Value::as_str)?;
                Some(entry_from_bytes(text.as_bytes().to_vec()))
            })
            .collect(),
    ))
}

/// `GET /repos/{o}/{r}/git/blobs/{sha}`: base64 content of any blob up to 100 MB.
async fn rest_blob(
    client: &mut Client,
    target: &Target,
    blob: &TreeBlob,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<BlobEntry>, ClientError> {
    if !blob.sha.bytes().all(|b| b.is_ascii_hexdigit()) || blob.sha.is_empty() {
        diagnostics.push(Diagnostic::warning(
            "unreadable-file",
            "tree entry without a valid blob sha",
            Some(Location::file(blob.path.clone())),
        ));
        return Ok(None);
    }
    let path = target.path(&format!("/git/blobs/{}", blob.sha));
    let location = Some(Location::file(blob.path.clone()));
    match client.get("git/blobs", &path, None).await? {
        Outcome::Ok { body, .. } => {
            let v: Value = match serde_json::from_str(&body) {
                Ok(v) => v,
                Err(e) => {
                    diagnostics.push(Diagnostic::warning(
                        "github-invalid-json",
                        format!("GET {path}: invalid JSON ({e})"),
                        location,
                    ));
                    return Ok(None);
                }
            };
            let content = str_of(&v, "/content").unwrap_or_default();
            let bytes = match str_of(&v, "/encoding").as_deref() {
                Some("utf-8") => content.into_bytes(),
                _ => {
                    let compact: String = content
                        .chars()
                        .filter(|c| !c.is_ascii_whitespace())
                        .collect();
                    match base64::engine::general_purpose::STANDARD.decode(compact) {
                        Ok(b) => b,
                        Err(e) => {
                            diagnostics.push(Diagnostic::warning(
                                "unreadable-file",
                                format!("GET {path}: bad base64 ({e})"),
                                location,
                            ));
                            return Ok(None);
                        }
                    }
                }
            };
            Ok(Some(entry_from_bytes(bytes)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_stay_inside() {
        assert_eq!(
            link_target("a/b/link", "../c.yml").as_deref(),
            Some("a/c.yml")
        );
        assert_eq!(link_target("link", "./x/y").as_deref(), Some("x/y"));
        assert_eq!(link_target("a/link", "../../etc/passwd"), None);
        assert_eq!(link_target("link", "/etc/passwd"), None);
        assert_eq!(link_target("a/link", "..").as_deref(), Some(""));
    }

    #[test]
    fn paths_are_encoded_but_keep_slashes() {
        assert_eq!(encode_path("feature/a b#c"), "feature/a%20b%23c");
        assert_eq!(encode_path("v1.0"), "v1.0");
    }

    #[test]
    fn bytes_are_classified_like_the_local_connector() {
        assert!(entry_from_bytes(b"a\0b".to_vec()).binary);
        let lossy = entry_from_bytes(vec![b'a', 0xff]);
        assert!(lossy.not_utf8 && !lossy.binary);
        assert_eq!(
            entry_from_bytes(b"x: 1".to_vec()).text.as_deref(),
            Some("x: 1")
        );
    }
}
