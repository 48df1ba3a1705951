//! Evidence only the API gives: workflow runs, deployments and their statuses,
//! environments and their protection rules, default-branch protection and
//! rulesets, releases, container package versions, tags and recent history.
//!
//! Each kind is fetched independently: a refusal (404 feature off, 403 not
//! permitted) makes that slot `NotVisible` with the reason and adds a diagnostic
//! naming the permission to grant; the other kinds are still collected.

use serde_json::Value;

use super::GithubError;
use super::client::{Client, ClientError, Outcome};
use super::files::{Head, RepoInfo, Target, encode_path, str_of};
use super::time::{format_date, now_unix, parse_rfc3339};
use crate::connect::remote::evidence::{Got, endpoint_of, record};
use crate::evidence::{
    ApiEvidence, BranchProtection, CiRun, Commit, Deployment, DeploymentStatus, Diagnostic,
    EnvironmentInfo, GitMeta, GitRef, Observed, RegistryVersion, Release,
};

/// Pages of workflow runs read (100 runs a page).
const MAX_RUN_PAGES: usize = 5;
/// Deployment status lists read: the newest deployment of each environment first,
/// then the newest others, up to this many requests.
pub(crate) const MAX_DEPLOYMENT_STATUS_REQUESTS: usize = 20;
/// Container packages of the owner whose versions are read.
const MAX_PACKAGES: usize = 5;

/// One kind of API evidence: what to call it and what access it needs.
#[derive(Clone, Copy)]
struct Kind {
    label: &'static str,
    /// Fine-grained token / GitHub App permission.
    permission: &'static str,
    /// Classic personal access token scope.
    classic_scope: &'static str,
}

const RUNS: Kind = Kind {
    label: "workflow runs",
    permission: "actions: read",
    classic_scope: "repo (private repositories)",
};
const DEPLOYMENTS: Kind = Kind {
    label: "deployments",
    permission: "deployments: read",
    classic_scope: "repo_deployment or repo",
};
const ENVIRONMENTS: Kind = Kind {
    label: "environments",
    permission: "actions: read (environments: read for GitHub Apps)",
    classic_scope: "repo",
};
const PROTECTION: Kind = Kind {
    label: "branch protection",
    permission: "administration: read",
    classic_scope: "repo (admin on the repository)",
};
const RULES: Kind = Kind {
    label: "branch rulesets",
    permission: "metadata: read",
    classic_scope: "repo (private repositories)",
};
const RELEASES: Kind = Kind {
    label: "releases",
    permission: "contents: read",
    classic_scope: "repo (private repositories)",
};
const PACKAGES: Kind = Kind {
    label: "container packages",
    permission: "packages: read (classic tokens only: the Packages API does not accept fine-grained tokens)",
    classic_scope: "read:packages",
};
const TAGS: Kind = Kind {
    label: "tags",
    permission: "contents: read",
    classic_scope: "repo (private repositories)",
};
const COMMITS: Kind = Kind {
    label: "commit history",
    permission: "contents: read",
    classic_scope: "repo (private repositories)",
};

/// One GET for an evidence kind, mapping every failure but a fatal one to `Off`.
async fn fetch(
    client: &mut Client,
    kind: Kind,
    family: &str,
    path_or_url: &str,
    absolute: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Got, GithubError> {
    let endpoint = if absolute {
        client.endpoint(path_or_url, false)
    } else {
        endpoint_of(path_or_url)
    };
    let outcome = if absolute {
        client.get_url(family, path_or_url).await
    } else {
        client.get(family, path_or_url, None).await
    };
    let reason = match outcome {
        Ok(Outcome::Ok { body, next }) => match serde_json::from_str::<Value>(&body) {
            Ok(v) => return Ok(Got::Json(v, next)),
            Err(e) => {
                diagnostics.push(Diagnostic::warning(
                    "github-invalid-json",
                    format!(
                        "{endpoint}: invalid or truncated JSON ({e}): {} not collected",
                        kind.label
                    ),
                    None,
                ));
                format!("invalid JSON from {endpoint}")
            }
        },
        Ok(Outcome::Status {
            status,
            message,
            accepted_permissions,
        }) => {
            let needs = accepted_permissions
                .filter(|p| !p.trim().is_empty())
                .map(|p| format!("`{}` (GitHub says)", p.trim()))
                .unwrap_or_else(|| format!("`{}`", kind.permission));
            let reason = match status {
                401 if client.has_token() => format!("401 {message}: the token was refused"),
                401 => format!("401 {message}: needs a token with {needs}"),
                403 => format!("403 {message}: needs {needs}"),
                404 => format!(
                    "404 {message}: the feature is off, or the token cannot see it (needs {needs})"
                ),
                _ => format!("{status} {message}"),
            };
            diagnostics.push(Diagnostic::warning(
                "github-not-visible",
                format!(
                    "{} not visible ({endpoint}: {reason}); grant the token {needs} (classic token: `{}`) to collect them. Not read as an absent practice.",
                    kind.label, kind.classic_scope
                ),
                None,
            ));
            reason
        }
        Err(ClientError::Fatal(e)) => return Err(e),
        Err(ClientError::Budget) => {
            let reason = format!(
                "request budget of {} exhausted before {endpoint}",
                client.max_requests()
            );
            diagnostics.push(Diagnostic::warning(
                "github-request-budget",
                format!("{}: {reason}", kind.label),
                None,
            ));
            reason
        }
        Err(ClientError::Network(m)) => {
            diagnostics.push(Diagnostic::warning(
                "github-request-failed",
                format!("{}: {m}", kind.label),
                None,
            ));
            format!("request failed: {m}")
        }
    };
    Ok(Got::Off(reason))
}

/// Follow `Link: rel="next"` up to `max_pages`, gathering the array at `items_key`
/// (or the body itself when it is an array).
async fn fetch_pages(
    client: &mut Client,
    kind: Kind,
    family: &str,
    first: &str,
    items_key: Option<&str>,
    max_pages: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<Value>, String>, GithubError> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for page in 0..max_pages {
        let got = match (&next, page) {
            (None, 0) => fetch(client, kind, family, first, false, diagnostics).await?,
            (Some(url), _) => {
                let url = url.clone();
                fetch(client, kind, family, &url, true, diagnostics).await?
            }
            (None, _) => break,
        };
        match got {
            Got::Json(v, link) => {
                let array = match items_key {
                    Some(key) => v.get(key).and_then(Value::as_array).cloned(),
                    None => v.as_array().cloned(),
                };
                match array {
                    Some(a) => items.extend(a),
                    None => {
                        diagnostics.push(Diagnostic::warning(
                            "github-invalid-json",
                            format!(
                                "{}: unexpected response shape: {} not collected",
                                endpoint_of(first),
                                kind.label
                            ),
                            None,
                        ));
                        if page == 0 {
                            return Ok(Err(format!(
                                "unexpected response shape from {}",
                                endpoint_of(first)
                            )));
                        }
                    }
                }
                next = link;
                if next.is_none() {
                    return Ok(Ok(items));
                }
            }
            Got::Off(reason) if page == 0 => return Ok(Err(reason)),
            Got::Off(_) => {
                diagnostics.push(Diagnostic::warning(
                    "github-partial",
                    format!(
                        "{}: page {} failed: only the first {} collected",
                        kind.label,
                        page + 1,
                        items.len()
                    ),
                    None,
                ));
                return Ok(Ok(items));
            }
        }
    }
    if next.is_some() {
        diagnostics.push(Diagnostic::info(
            "github-pages-capped",
            format!(
                "{}: only the first {max_pages} pages read ({} items)",
                kind.label,
                items.len()
            ),
            None,
        ));
    }
    Ok(Ok(items))
}

fn observed<T>(r: Result<Vec<T>, String>) -> Observed<Vec<T>> {
    match r {
        Ok(items) => Observed::Collected { items },
        Err(reason) => Observed::NotVisible { reason },
    }
}

pub(crate) async fn collect(
    client: &mut Client,
    target: &Target,
    info: &RepoInfo,
    head: Option<&Head>,
    runs_window_days: u32,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<ApiEvidence, GithubError> {
    let mut api = ApiEvidence {
        runs: observed(runs(client, target, runs_window_days, diagnostics).await?),
        ..Default::default()
    };
    api.deployments = observed(deployments(client, target, diagnostics).await?);
    api.environments = observed(environments(client, target, diagnostics).await?);
    api.branch_protection = branch_protection(client, target, info, head, diagnostics).await?;
    api.releases = observed(releases(client, target, diagnostics).await?);
    api.registry_versions = observed(packages(client, target, info, diagnostics).await?);
    Ok(api)
}

async fn runs(
    client: &mut Client,
    target: &Target,
    days: u32,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<CiRun>, String>, GithubError> {
    let since = format_date(now_unix() - i64::from(days) * 86_400);
    let path = target.path(&format!("/actions/runs?created=%3E%3D{since}&per_page=100"));
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(
        client,
        RUNS,
        "actions/runs",
        &path,
        Some("workflow_runs"),
        MAX_RUN_PAGES,
        diagnostics,
    )
    .await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    Ok(Ok(items
        .iter()
        .filter_map(|run| {
            let id = run.get("id").map(|v| v.to_string())?;
            let created_at = str_of(run, "/created_at")?;
            let updated_at = str_of(run, "/updated_at");
            let started = str_of(run, "/run_started_at").unwrap_or_else(|| created_at.clone());
            // Only a finished run has a meaningful duration.
            let duration_seconds = match (str_of(run, "/status").as_deref(), &updated_at) {
                (Some("completed"), Some(end)) => {
                    match (parse_rfc3339(&started), parse_rfc3339(end)) {
                        (Some(a), Some(b)) if b >= a => Some((b - a) as f64),
                        _ => None,
                    }
                }
                _ => None,
            };
            Some(CiRun {
                workflow: str_of(run, "/path")
                    .or_else(|| str_of(run, "/name"))
                    .unwrap_or_default(),
                event: str_of(run, "/event").unwrap_or_default(),
                conclusion: str_of(run, "/conclusion"),
                head_sha: str_of(run, "/head_sha"),
                branch: str_of(run, "/head_branch"),
                created_at,
                updated_at,
                duration_seconds,
                record: record(&endpoint, format!("run {id}"), str_of(run, "/html_url")),
                id,
            })
        })
        .collect()))
}

async fn deployments(
    client: &mut Client,
    target: &Target,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<Deployment>, String>, GithubError> {
    let path = target.path("/deployments?per_page=100");
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(
        client,
        DEPLOYMENTS,
        "deployments",
        &path,
        None,
        1,
        diagnostics,
    )
    .await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    let mut deployments: Vec<Deployment> = items
        .iter()
        .filter_map(|d| {
            let id = d.get("id").map(|v| v.to_string())?;
            Some(Deployment {
                environment: str_of(d, "/environment").unwrap_or_default(),
                sha: str_of(d, "/sha"),
                git_ref: str_of(d, "/ref"),
                created_at: str_of(d, "/created_at").unwrap_or_default(),
                statuses: Vec::new(),
                record: record(&endpoint, format!("deployment {id}"), None),
                id,
            })
        })
        .collect();
    // GitHub lists newest first. Pick which status lists to read: the newest
    // deployment of every environment, then the newest of the rest.
    let mut chosen: Vec<usize> = Vec::new();
    let mut seen_envs = std::collections::HashSet::new();
    for (i, d) in deployments.iter().enumerate() {
        if seen_envs.insert(d.environment.clone()) {
            chosen.push(i);
        }
    }
    for i in 0..deployments.len() {
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    if chosen.len() > MAX_DEPLOYMENT_STATUS_REQUESTS {
        diagnostics.push(Diagnostic::info(
            "github-statuses-capped",
            format!(
                "deployment statuses read for {MAX_DEPLOYMENT_STATUS_REQUESTS} of {} deployments (the newest of each environment first); the others have no statuses in the snapshot",
                deployments.len()
            ),
            None,
        ));
        chosen.truncate(MAX_DEPLOYMENT_STATUS_REQUESTS);
    }
    for i in chosen {
        let Some(d) = deployments.get(i) else {
            continue;
        };
        let path = target.path(&format!(
            "/deployments/{}/statuses?per_page=100",
            encode_path(&d.id)
        ));
        match fetch(
            client,
            DEPLOYMENTS,
            "deployments/statuses",
            &path,
            false,
            diagnostics,
        )
        .await?
        {
            Got::Json(v, _) => {
                let mut statuses: Vec<DeploymentStatus> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| {
                                Some(DeploymentStatus {
                                    state: str_of(s, "/state")?,
                                    created_at: str_of(s, "/created_at").unwrap_or_default(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                // The API lists newest first; the model keeps oldest first.
                statuses.reverse();
                if let Some(d) = deployments.get_mut(i) {
                    d.statuses = statuses;
                }
            }
            Got::Off(_) => break,
        }
    }
    Ok(Ok(deployments))
}

async fn environments(
    client: &mut Client,
    target: &Target,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<EnvironmentInfo>, String>, GithubError> {
    let path = target.path("/environments?per_page=100");
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(
        client,
        ENVIRONMENTS,
        "environments",
        &path,
        Some("environments"),
        3,
        diagnostics,
    )
    .await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    Ok(Ok(items
        .iter()
        .filter_map(|e| {
            let name = str_of(e, "/name")?;
            let rules = e
                .get("protection_rules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut required_reviewers = 0u32;
            let mut wait_timer_minutes = 0u32;
            for rule in &rules {
                match str_of(rule, "/type").as_deref() {
                    Some("required_reviewers") => {
                        let n = rule
                            .get("reviewers")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len);
                        required_reviewers += u32::try_from(n.max(1)).unwrap_or(u32::MAX);
                    }
                    Some("wait_timer") => {
                        wait_timer_minutes = rule
                            .get("wait_timer")
                            .and_then(Value::as_u64)
                            .and_then(|w| u32::try_from(w).ok())
                            .unwrap_or(0);
                    }
                    _ => {}
                }
            }
            let policy = e.get("deployment_branch_policy").filter(|p| p.is_object());
            let branch_policy = policy.map(|p| {
                if p.get("protected_branches").and_then(Value::as_bool) == Some(true) {
                    "protected-branches".to_string()
                } else if p.get("custom_branch_policies").and_then(Value::as_bool) == Some(true) {
                    "custom".to_string()
                } else {
                    "any".to_string()
                }
            });
            Some(EnvironmentInfo {
                tier: None,
                required_reviewers,
                wait_timer_minutes,
                branch_policy,
                record: record(
                    &endpoint,
                    format!("environment {name}"),
                    str_of(e, "/html_url"),
                ),
                name,
            })
        })
        .collect()))
}

/// Classic protection (needs admin read) and rulesets (readable by anyone who can
/// read the repository) of the default branch.
async fn branch_protection(
    client: &mut Client,
    target: &Target,
    info: &RepoInfo,
    head: Option<&Head>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Observed<Vec<BranchProtection>>, GithubError> {
    let branch = &info.default_branch;
    let mut entries = Vec::new();
    // The branch summary says "not protected" for free; only ask for the details
    // when it is (or when the scan was of another ref and we do not know).
    let protected = head
        .filter(|h| h.branch.as_deref() == Some(branch.as_str()))
        .and_then(|h| h.protected);
    let mut classic_hidden: Option<String> = None;
    if protected != Some(false) {
        let path = target.path(&format!("/branches/{}/protection", encode_path(branch)));
        let endpoint = endpoint_of(&path);
        match client.get("branches/protection", &path, None).await {
            Ok(Outcome::Ok { body, .. }) => match serde_json::from_str::<Value>(&body) {
                Ok(p) => {
                    let mut checks: Vec<String> = p
                        .pointer("/required_status_checks/contexts")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(more) = p
                        .pointer("/required_status_checks/checks")
                        .and_then(Value::as_array)
                    {
                        for c in more.iter().filter_map(|c| str_of(c, "/context")) {
                            if !checks.contains(&c) {
                                checks.push(c);
                            }
                        }
                    }
                    let reviews = p
                        .pointer("/required_pull_request_reviews")
                        .filter(|r| r.is_object());
                    entries.push(BranchProtection {
                        branch: branch.clone(),
                        required_checks: checks,
                        // A review requirement with no count still requires one approval.
                        required_reviews: reviews
                            .map(|r| {
                                r.get("required_approving_review_count")
                                    .and_then(Value::as_u64)
                                    .and_then(|n| u32::try_from(n).ok())
                                    .unwrap_or(1)
                            })
                            .unwrap_or(0),
                        code_owner_reviews: reviews
                            .and_then(|r| r.get("require_code_owner_reviews"))
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        linear_history: p
                            .pointer("/required_linear_history/enabled")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        record: record(&endpoint, format!("branch {branch}"), None),
                    });
                }
                Err(e) => {
                    diagnostics.push(Diagnostic::warning(
                        "github-invalid-json",
                        format!("{endpoint}: invalid JSON ({e})"),
                        None,
                    ));
                    classic_hidden = Some(format!("invalid JSON from {endpoint}"));
                }
            },
            // "Branch not protected": a real observation, not a refusal.
            Ok(Outcome::Status {
                status: 404,
                message,
                ..
            }) if message.to_ascii_lowercase().contains("not protected") => {}
            Ok(Outcome::Status {
                status, message, ..
            }) => {
                let reason = format!("{status} {message}: needs `{}`", PROTECTION.permission);
                diagnostics.push(Diagnostic::warning(
                    "github-not-visible",
                    format!(
                        "branch protection of `{branch}` not visible ({endpoint}: {reason}); grant the token `{}` (classic token: `{}`) to collect it. Not read as an absent practice.",
                        PROTECTION.permission, PROTECTION.classic_scope
                    ),
                    None,
                ));
                classic_hidden = Some(reason);
            }
            Err(ClientError::Fatal(e)) => return Err(e),
            Err(ClientError::Budget) => {
                classic_hidden = Some(format!(
                    "request budget of {} exhausted before {endpoint}",
                    client.max_requests()
                ))
            }
            Err(ClientError::Network(m)) => classic_hidden = Some(format!("request failed: {m}")),
        }
    }

    let path = target.path(&format!("/rules/branches/{}", encode_path(branch)));
    let endpoint = endpoint_of(&path);
    match fetch(client, RULES, "rules/branches", &path, false, diagnostics).await? {
        Got::Json(v, _) => {
            let rules = v.as_array().cloned().unwrap_or_default();
            if !rules.is_empty() {
                let mut entry = BranchProtection {
                    branch: branch.clone(),
                    required_checks: Vec::new(),
                    required_reviews: 0,
                    code_owner_reviews: false,
                    linear_history: false,
                    record: record(&endpoint, format!("rules for branch {branch}"), None),
                };
                for rule in &rules {
                    match str_of(rule, "/type").as_deref() {
                        Some("pull_request") => {
                            let n = rule
                                .pointer("/parameters/required_approving_review_count")
                                .and_then(Value::as_u64)
                                .and_then(|n| u32::try_from(n).ok())
                                .unwrap_or(0);
                            entry.required_reviews = entry.required_reviews.max(n);
                            entry.code_owner_reviews |= rule
                                .pointer("/parameters/require_code_owner_review")
                                .and_then(Value::as_bool)
                                .unwrap_or(false);
                        }
                        Some("required_linear_history") => entry.linear_history = true,
                        Some("required_status_checks") => {
                            for c in rule
                                .pointer("/parameters/required_status_checks")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                            {
                                if let Some(ctx) = str_of(c, "/context")
                                    && !entry.required_checks.contains(&ctx)
                                {
                                    entry.required_checks.push(ctx);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                entries.push(entry);
            }
        }
        Got::Off(_) => {}
    }
    // Without the classic settings the picture is partial: an empty list would read
    // as "no protection", so say it is not visible unless rulesets showed something.
    Ok(match classic_hidden {
        Some(reason) if entries.is_empty() => Observed::NotVisible { reason },
        _ => Observed::Collected { items: entries },
    })
}

async fn releases(
    client: &mut Client,
    target: &Target,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<Release>, String>, GithubError> {
    let path = target.path("/releases?per_page=100");
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(client, RELEASES, "releases", &path, None, 1, diagnostics).await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    Ok(Ok(items
        .iter()
        // Drafts are not released (and only visible to writers).
        .filter(|r| r.get("draft").and_then(Value::as_bool) != Some(true))
        .filter_map(|r| {
            let tag = str_of(r, "/tag_name")?;
            Some(Release {
                name: str_of(r, "/name").filter(|n| !n.is_empty()),
                created_at: str_of(r, "/published_at")
                    .or_else(|| str_of(r, "/created_at"))
                    .unwrap_or_default(),
                prerelease: r
                    .get("prerelease")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                record: record(&endpoint, format!("release {tag}"), str_of(r, "/html_url")),
                tag,
            })
        })
        .collect()))
}

/// Container packages of the owner that belong to this repository, and their versions.
async fn packages(
    client: &mut Client,
    target: &Target,
    info: &RepoInfo,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<RegistryVersion>, String>, GithubError> {
    let scope = if info.owner_is_org { "orgs" } else { "users" };
    let list = format!(
        "/{scope}/{}/packages?package_type=container&per_page=100",
        target.owner
    );
    let items = match fetch_pages(client, PACKAGES, "packages", &list, None, 1, diagnostics).await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    let full_name = format!("{}/{}", target.owner, target.repo).to_ascii_lowercase();
    let ours: Vec<String> = items
        .iter()
        .filter(|p| {
            str_of(p, "/repository/full_name").map(|n| n.to_ascii_lowercase())
                == Some(full_name.clone())
        })
        .filter_map(|p| str_of(p, "/name"))
        .take(MAX_PACKAGES)
        .collect();
    let mut versions = Vec::new();
    for name in ours {
        // Package names may contain `/`, which must be encoded in this path.
        let encoded = encode_path(&name).replace('/', "%2F");
        let path = format!(
            "/{scope}/{}/packages/container/{encoded}/versions?per_page=30",
            target.owner
        );
        let endpoint = endpoint_of(&path);
        match fetch(
            client,
            PACKAGES,
            "packages/versions",
            &path,
            false,
            diagnostics,
        )
        .await?
        {
            Got::Json(v, _) => {
                for version in v.as_array().into_iter().flatten() {
                    let tags: Vec<String> = version
                        .pointer("/metadata/container/tags")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    let digest = str_of(version, "/name").unwrap_or_default();
                    let id = version.get("id").map(|v| v.to_string()).unwrap_or_default();
                    versions.push(RegistryVersion {
                        kind: "container".into(),
                        name: name.clone(),
                        version: if tags.is_empty() {
                            digest
                        } else {
                            tags.join(",")
                        },
                        created_at: str_of(version, "/created_at"),
                        record: record(
                            &endpoint,
                            format!("package version {id}"),
                            str_of(version, "/html_url"),
                        ),
                    });
                }
            }
            Got::Off(_) => {}
        }
    }
    Ok(Ok(versions))
}

/// Tags, the scanned branch and recent commits, as the local connector reads them from `.git`.
pub(crate) async fn git_meta(
    client: &mut Client,
    target: &Target,
    head: Option<&Head>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<GitMeta, GithubError> {
    let mut meta = GitMeta::default();
    let Some(head) = head else {
        return Ok(meta);
    };
    meta.head = Some(head.sha.clone());
    meta.current_branch = head.branch.clone();
    if let Some(branch) = &head.branch {
        meta.branches.push(GitRef {
            name: branch.clone(),
            commit: head.sha.clone(),
            date: head.date.clone(),
        });
    }
    let path = target.path("/tags?per_page=100");
    if let Ok(items) = fetch_pages(client, TAGS, "tags", &path, None, 1, diagnostics).await? {
        meta.tags = items
            .iter()
            .filter_map(|t| {
                Some(GitRef {
                    name: str_of(t, "/name")?,
                    commit: str_of(t, "/commit/sha").unwrap_or_default(),
                    date: None,
                })
            })
            .collect();
    }
    let path = target.path(&format!("/commits?sha={}&per_page=100", head.sha));
    if let Ok(items) = fetch_pages(client, COMMITS, "commits", &path, None, 1, diagnostics).await? {
        meta.recent_commits = items
            .iter()
            .filter_map(|c| {
                Some(Commit {
                    sha: str_of(c, "/sha")?,
                    date: str_of(c, "/commit/committer/date")
                        .or_else(|| str_of(c, "/commit/author/date"))
                        .unwrap_or_default(),
                    subject: str_of(c, "/commit/message")
                        .unwrap_or_default()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    author: str_of(c, "/commit/author/name"),
                })
            })
            .collect();
    }
    Ok(meta)
}
