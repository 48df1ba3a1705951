//! List the repositories of a GitHub organisation (or user) or a GitLab group
//! (subgroups included) through the connectors' shared client: pagination,
//! rate-limit waits and retries are the client's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connect::github::{self, GithubOptions};
use crate::connect::gitlab::{self, GitlabOptions};
use crate::connect::remote::RequestStats;
use crate::connect::remote::client::{self as shared, Outcome};

/// Pages followed at most (100 repositories a page): a runaway `next` chain stops.
const MAX_PAGES: usize = 500;

/// One repository of the listing, as the filters and the scanner need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoEntry {
    /// `owner/repo` (GitHub) or `group/sub/project` (GitLab): the scan target without prefix.
    pub full_name: String,
    /// The last path segment.
    pub name: String,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub fork: bool,
    #[serde(default)]
    pub topics: Vec<String>,
    /// Main language (GitHub only; GitLab's project listing does not say).
    #[serde(default)]
    pub language: Option<String>,
}

/// Which organisation or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", content = "name", rename_all = "lowercase")]
pub enum OrgTarget {
    Github(String),
    Gitlab(String),
}

impl OrgTarget {
    /// `github:ORG` or `gitlab:GROUP[/SUB…]`.
    pub fn parse(text: &str) -> Result<OrgTarget, String> {
        let valid = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if let Some(org) = text.strip_prefix("github:") {
            let org = org.trim_end_matches('/');
            if valid(org) {
                return Ok(OrgTarget::Github(org.to_string()));
            }
        } else if let Some(group) = text.strip_prefix("gitlab:") {
            let group = group.trim_end_matches('/');
            if group.split('/').all(valid) {
                return Ok(OrgTarget::Gitlab(group.to_string()));
            }
        }
        Err(format!(
            "`{text}` is not an organisation (expected github:ORG or gitlab:GROUP[/SUBGROUP])"
        ))
    }

    /// The scan target prefix of its repositories.
    pub fn prefix(&self) -> &'static str {
        match self {
            OrgTarget::Github(_) => "github:",
            OrgTarget::Gitlab(_) => "gitlab:",
        }
    }

    pub fn label(&self) -> String {
        match self {
            OrgTarget::Github(o) => format!("github:{o}"),
            OrgTarget::Gitlab(g) => format!("gitlab:{g}"),
        }
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn topics_of(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A GitHub `/orgs/{org}/repos` item.
fn github_entry(v: &Value) -> Option<RepoEntry> {
    let full_name = str_field(v, "full_name")?;
    let name = str_field(v, "name")
        .unwrap_or_else(|| full_name.rsplit('/').next().unwrap_or_default().to_string());
    Some(RepoEntry {
        full_name,
        name,
        archived: v.get("archived").and_then(Value::as_bool).unwrap_or(false)
            || v.get("disabled").and_then(Value::as_bool).unwrap_or(false),
        fork: v.get("fork").and_then(Value::as_bool).unwrap_or(false),
        topics: topics_of(v, "topics"),
        language: str_field(v, "language"),
    })
}

/// A GitLab `/groups/:id/projects` item.
fn gitlab_entry(v: &Value) -> Option<RepoEntry> {
    let full_name = str_field(v, "path_with_namespace")?;
    let name = str_field(v, "path")
        .unwrap_or_else(|| full_name.rsplit('/').next().unwrap_or_default().to_string());
    let mut topics = topics_of(v, "topics");
    if topics.is_empty() {
        topics = topics_of(v, "tag_list");
    }
    Some(RepoEntry {
        full_name,
        name,
        archived: v.get("archived").and_then(Value::as_bool).unwrap_or(false),
        fork: v.get("forked_from_project").is_some_and(|f| !f.is_null()),
        topics,
        language: None,
    })
}

/// Follow `next` links from `first`, turning every item into an entry.
async fn paginate(
    client: &mut shared::Client,
    first: &str,
    entry: fn(&Value) -> Option<RepoEntry>,
) -> Result<Option<Vec<RepoEntry>>, String> {
    let mut out = Vec::new();
    let mut url = format!("{}{first}", client.api_url());
    for _ in 0..MAX_PAGES {
        let outcome = client.get_url("list", &url).await.map_err(|e| match e {
            shared::ClientError::Fatal(stop) => format!(
                "rate limit at {} (resets at {}): listing stopped",
                stop.endpoint, stop.resets_at
            ),
            shared::ClientError::Budget => "request budget exhausted while listing".into(),
            shared::ClientError::Network(m) => format!("unreachable: {m}"),
        })?;
        match outcome {
            Outcome::Ok { body, next } => {
                let page: Value = serde_json::from_str(&body)
                    .map_err(|e| format!("{}: not JSON: {e}", client.endpoint(&url, false)))?;
                let items = page
                    .as_array()
                    .ok_or_else(|| format!("{}: expected a list", client.endpoint(&url, false)))?;
                out.extend(items.iter().filter_map(entry));
                match next {
                    Some(n) => url = n,
                    None => return Ok(Some(out)),
                }
            }
            Outcome::Status { status: 404, .. } if out.is_empty() => return Ok(None),
            Outcome::Status {
                status, message, ..
            } => {
                return Err(format!(
                    "{}: {status} {message}",
                    client.endpoint(&url, false)
                ));
            }
        }
    }
    Err(format!("listing stopped after {MAX_PAGES} pages"))
}

/// Every repository of the organisation or group, sorted by full name, with the
/// requests the listing took.
pub async fn list(
    target: &OrgTarget,
    github_options: &GithubOptions,
    gitlab_options: &GitlabOptions,
) -> Result<(Vec<RepoEntry>, RequestStats), String> {
    let (entries, stats) = match target {
        OrgTarget::Github(org) => {
            let mut client = github::client::Client::new(github_options)
                .map_err(|e| e.to_string())?
                .into_shared();
            let first = format!("/orgs/{org}/repos?per_page=100&type=all");
            let entries = match paginate(&mut client, &first, github_entry).await? {
                Some(e) => e,
                // Not an organisation: a user's repositories.
                None => paginate(
                    &mut client,
                    &format!("/users/{org}/repos?per_page=100&type=owner"),
                    github_entry,
                )
                .await?
                .ok_or_else(|| format!("github:{org}: no such organisation or user"))?,
            };
            (entries, client.stats)
        }
        OrgTarget::Gitlab(group) => {
            let mut client = gitlab::new_client(gitlab_options).map_err(|e| e.to_string())?;
            let first = format!(
                "/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc",
                gitlab::encode_component(group)
            );
            let entries = paginate(&mut client, &first, gitlab_entry)
                .await?
                .ok_or_else(|| format!("gitlab:{group}: no such group"))?;
            (entries, client.stats)
        }
    };
    let mut entries = entries;
    entries.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    entries.dedup_by(|a, b| a.full_name == b.full_name);
    Ok((entries, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            OrgTarget::parse("github:octo-org"),
            Ok(OrgTarget::Github("octo-org".into()))
        );
        assert_eq!(
            OrgTarget::parse("gitlab:ml/platform"),
            Ok(OrgTarget::Gitlab("ml/platform".into()))
        );
        assert!(OrgTarget::parse("github:a/b").is_err());
        assert!(OrgTarget::parse("gitlab:a/../b").is_err());
        assert!(OrgTarget::parse("octo-org").is_err());
    }

    #[test]
    fn entries_from_both_providers() {
        let gh = serde_json::json!({"name": "r", "full_name": "o/r", "archived": true, "fork": false, "topics": ["ml"], "language": "Python"});
        let e = github_entry(&gh).unwrap();
        assert!(e.archived && !e.fork);
        assert_eq!(e.language.as_deref(), Some("Python"));
        let gl = serde_json::json!({"path": "p", "path_with_namespace": "g/s/p", "archived": false, "forked_from_project": {"id": 1}, "topics": []});
        let e = gitlab_entry(&gl).unwrap();
        assert!(e.fork);
        assert_eq!(e.name, "p");
        assert!(github_entry(&serde_json::json!({"name": 3})).is_none());
    }
}
