//! Evidence only the API gives: pipelines, deployments, environments with their
//! tier and required approvals, protected branches with MR approval rules,
//! releases, container registry tags, packages, the model registry, tags and recent
//! history.
//!
//! Each kind is fetched independently: a refusal (401/403 missing scope or role,
//! 404 feature off or of a higher tier) makes that slot `NotVisible` with the
//! reason and adds a diagnostic naming the scope and role to grant; the other
//! kinds are still collected.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::GitlabError;
use super::encode_component;
use super::files::{Head, Project, str_of};
use crate::connect::remote::client::{Client, ClientError, Outcome};
use crate::connect::remote::evidence::{Got, endpoint_of, record};
use crate::connect::remote::time::{format_rfc3339, now_unix, parse_rfc3339};
use crate::evidence::{
    ApiEvidence, BranchProtection, CiRun, Commit, Deployment, DeploymentStatus, Diagnostic,
    EnvironmentInfo, GitMeta, GitRef, Observed, RegistryVersion, Release,
};

/// Pages of pipelines read (100 a page).
const MAX_PIPELINE_PAGES: usize = 5;
/// Pages of deployments read (100 a page).
const MAX_DEPLOYMENT_PAGES: usize = 3;
/// Finished pipelines whose detail (`duration`, queue time excluded) is read; the
/// others' duration is `updated_at − created_at`.
pub(crate) const MAX_PIPELINE_DETAILS: usize = 10;

/// One kind of API evidence: what to call it and what access it needs.
#[derive(Clone, Copy)]
struct Kind {
    label: &'static str,
    /// Token scope and project role.
    needs: &'static str,
}

const PIPELINES: Kind = Kind {
    label: "pipelines",
    needs: "the `read_api` scope and the Reporter role (or public pipelines)",
};
const DEPLOYMENTS: Kind = Kind {
    label: "deployments",
    needs: "the `read_api` scope and the Reporter role",
};
const ENVIRONMENTS: Kind = Kind {
    label: "environments",
    needs: "the `read_api` scope and the Reporter role",
};
const PROTECTED_ENVIRONMENTS: Kind = Kind {
    label: "protected environments (deployment approvals)",
    needs: "the `read_api` scope and the Maintainer role (Premium tier)",
};
const PROTECTED_BRANCHES: Kind = Kind {
    label: "protected branches",
    needs: "the `read_api` scope and the Maintainer role",
};
const APPROVAL_RULES: Kind = Kind {
    label: "merge request approval rules",
    needs: "the `read_api` scope and the Developer role (Premium tier)",
};
const RELEASES: Kind = Kind {
    label: "releases",
    needs: "the `read_api` scope and the Reporter role (Guest on public projects)",
};
const REGISTRY: Kind = Kind {
    label: "container registry",
    needs: "the `read_api` scope (or `read_registry`) and the Reporter role; the registry must be enabled",
};
const PACKAGES: Kind = Kind {
    label: "package registry",
    needs: "the `read_api` scope and the Reporter role; packages must be enabled",
};
const MODELS: Kind = Kind {
    label: "model registry",
    needs: "the `read_api` scope and the Reporter role; the model registry must be available on the instance",
};
const TAGS: Kind = Kind {
    label: "tags",
    needs: "the `read_api` scope (or `read_repository`) and the Reporter role",
};
const COMMITS: Kind = Kind {
    label: "commit history",
    needs: "the `read_api` scope (or `read_repository`) and the Reporter role",
};

/// One GET for an evidence kind, mapping every failure but a fatal one to `Off`.
async fn fetch(
    client: &mut Client,
    kind: Kind,
    family: &str,
    path_or_url: &str,
    absolute: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Got, GitlabError> {
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
                    "gitlab-invalid-json",
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
            status, message, ..
        }) => {
            let reason = match status {
                401 if client.has_token() => format!("401 {message}: the token was refused"),
                401 => format!("401 {message}: needs a token with {}", kind.needs),
                403 => format!("403 {message}: needs {}", kind.needs),
                404 => format!(
                    "404 {message}: the feature is off or not in this tier, or the token cannot see it (needs {})",
                    kind.needs
                ),
                _ => format!("{status} {message}"),
            };
            diagnostics.push(Diagnostic::warning(
                "gitlab-not-visible",
                format!(
                    "{} not visible ({endpoint}: {reason}); grant the token {} to collect them (a CI_JOB_TOKEN reaches only some endpoints). Not read as an absent practice.",
                    kind.label, kind.needs
                ),
                None,
            ));
            reason
        }
        Err(ClientError::Fatal(stop)) => return Err(stop.into()),
        Err(ClientError::Budget) => {
            let reason = format!(
                "request budget of {} exhausted before {endpoint}",
                client.max_requests()
            );
            diagnostics.push(Diagnostic::warning(
                "gitlab-request-budget",
                format!("{}: {reason}", kind.label),
                None,
            ));
            reason
        }
        Err(ClientError::Network(m)) => {
            diagnostics.push(Diagnostic::warning(
                "gitlab-request-failed",
                format!("{}: {m}", kind.label),
                None,
            ));
            format!("request failed: {m}")
        }
    };
    Ok(Got::Off(reason))
}

/// Follow `Link: rel="next"` (keyset or offset) or `x-next-page` up to
/// `max_pages`, gathering the JSON array of every page.
async fn fetch_pages(
    client: &mut Client,
    kind: Kind,
    family: &str,
    first: &str,
    max_pages: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<Value>, String>, GitlabError> {
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
            Got::Json(Value::Array(a), link) => {
                items.extend(a);
                next = link;
                if next.is_none() {
                    return Ok(Ok(items));
                }
            }
            Got::Json(_, _) => {
                diagnostics.push(Diagnostic::warning(
                    "gitlab-invalid-json",
                    format!(
                        "{}: unexpected response shape (not a list): {} not collected",
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
                return Ok(Ok(items));
            }
            Got::Off(reason) if page == 0 => return Ok(Err(reason)),
            Got::Off(_) => {
                diagnostics.push(Diagnostic::warning(
                    "gitlab-partial",
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
            "gitlab-pages-capped",
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

fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

pub(crate) async fn collect(
    client: &mut Client,
    project: &Project,
    window_days: u32,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<ApiEvidence, GitlabError> {
    // The window starts at midnight UTC, not at this second: the `updated_after` value is
    // part of the URL the ETag cache is keyed by, so a second-precise start would make
    // every re-scan miss the cache (GitHub's runs query uses a date for the same reason).
    let start = now_unix().saturating_sub(i64::from(window_days) * 86_400);
    let since = format_rfc3339(start - start.rem_euclid(86_400));
    let mut api = ApiEvidence {
        runs: observed(pipelines(client, project, &since, diagnostics).await?),
        ..Default::default()
    };
    api.deployments = observed(deployments(client, project, &since, diagnostics).await?);
    api.environments = observed(environments(client, project, diagnostics).await?);
    api.branch_protection = observed(branch_protection(client, project, diagnostics).await?);
    api.releases = observed(releases(client, project, diagnostics).await?);
    api.registry_versions = registries(client, project, diagnostics).await?;
    Ok(api)
}

async fn pipelines(
    client: &mut Client,
    project: &Project,
    since: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<CiRun>, String>, GitlabError> {
    let path = project.path(&format!(
        "/pipelines?updated_after={}&order_by=updated_at&sort=desc&per_page=100",
        encode_component(since)
    ));
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(
        client,
        PIPELINES,
        "pipelines",
        &path,
        MAX_PIPELINE_PAGES,
        diagnostics,
    )
    .await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    let mut runs: Vec<CiRun> = items
        .iter()
        .filter_map(|p| {
            let id = id_of(p)?;
            let created_at = str_of(p, "/created_at")?;
            let updated_at = str_of(p, "/updated_at");
            let status = str_of(p, "/status");
            let finished = matches!(
                status.as_deref(),
                Some("success" | "failed" | "canceled" | "skipped")
            );
            let duration_seconds = match (finished, &updated_at) {
                (true, Some(end)) => match (parse_rfc3339(&created_at), parse_rfc3339(end)) {
                    (Some(a), Some(b)) if b >= a => Some((b - a) as f64),
                    _ => None,
                },
                _ => None,
            };
            Some(CiRun {
                workflow: ".gitlab-ci.yml".into(),
                event: str_of(p, "/source").unwrap_or_default(),
                // GitLab's own words (success, failed, canceled, running, manual, …).
                conclusion: status,
                head_sha: str_of(p, "/sha"),
                branch: str_of(p, "/ref"),
                created_at,
                updated_at,
                duration_seconds,
                record: record(&endpoint, format!("pipeline {id}"), str_of(p, "/web_url")),
                id,
            })
        })
        .collect();
    // The list has no duration: read it (run time without queueing) for the newest
    // finished pipelines.
    let mut details = 0;
    for run in runs.iter_mut() {
        if details >= MAX_PIPELINE_DETAILS {
            break;
        }
        if run.duration_seconds.is_none() || !run.id.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        details += 1;
        let path = project.path(&format!("/pipelines/{}", run.id));
        if let Got::Json(v, _) = fetch(
            client,
            PIPELINES,
            "pipelines/detail",
            &path,
            false,
            diagnostics,
        )
        .await?
            && let Some(d) = v.get("duration").and_then(Value::as_f64)
        {
            run.duration_seconds = Some(d);
        }
    }
    Ok(Ok(runs))
}

async fn deployments(
    client: &mut Client,
    project: &Project,
    since: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<Deployment>, String>, GitlabError> {
    // `updated_after` requires ordering by `updated_at`.
    let path = project.path(&format!(
        "/deployments?updated_after={}&order_by=updated_at&sort=desc&per_page=100",
        encode_component(since)
    ));
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(
        client,
        DEPLOYMENTS,
        "deployments",
        &path,
        MAX_DEPLOYMENT_PAGES,
        diagnostics,
    )
    .await?
    {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    Ok(Ok(items
        .iter()
        .filter_map(|d| {
            let id = id_of(d)?;
            let created_at = str_of(d, "/created_at").unwrap_or_default();
            let status = str_of(d, "/status");
            // One status: GitLab's (success, failed, canceled, running, created,
            // blocked), at the time the deployment finished or last changed.
            let at = str_of(d, "/deployable/finished_at")
                .or_else(|| str_of(d, "/finished_at"))
                .or_else(|| str_of(d, "/updated_at"))
                .unwrap_or_else(|| created_at.clone());
            Some(Deployment {
                environment: str_of(d, "/environment/name").unwrap_or_default(),
                sha: str_of(d, "/sha"),
                git_ref: str_of(d, "/ref"),
                statuses: status
                    .map(|state| {
                        vec![DeploymentStatus {
                            state,
                            created_at: at,
                        }]
                    })
                    .unwrap_or_default(),
                created_at,
                record: record(&endpoint, format!("deployment {id}"), None),
                id,
            })
        })
        .collect()))
}

/// Environments with their tier; required approvals come from protected
/// environments (Premium), which stay 0 when not visible (a diagnostic says so).
async fn environments(
    client: &mut Client,
    project: &Project,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<EnvironmentInfo>, String>, GitlabError> {
    let path = project.path("/environments?per_page=100");
    let endpoint = endpoint_of(&path);
    let items =
        match fetch_pages(client, ENVIRONMENTS, "environments", &path, 3, diagnostics).await? {
            Ok(i) => i,
            Err(r) => return Ok(Err(r)),
        };
    let protected_path = project.path("/protected_environments?per_page=100");
    let mut approvals: HashMap<String, u32> = HashMap::new();
    if let Ok(list) = fetch_pages(
        client,
        PROTECTED_ENVIRONMENTS,
        "protected_environments",
        &protected_path,
        1,
        diagnostics,
    )
    .await?
    {
        for p in &list {
            let Some(name) = str_of(p, "/name") else {
                continue;
            };
            let count = p
                .get("required_approval_count")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            // Multiple approval rules: each needs its own approvals.
            let by_rules: u64 = p
                .get("approval_rules")
                .and_then(Value::as_array)
                .map(|rules| {
                    rules
                        .iter()
                        .filter_map(|r| r.get("required_approvals").and_then(Value::as_u64))
                        .sum()
                })
                .unwrap_or(0);
            approvals.insert(name, u32::try_from(count.max(by_rules)).unwrap_or(u32::MAX));
        }
    }
    Ok(Ok(items
        .iter()
        .filter_map(|e| {
            let name = str_of(e, "/name")?;
            Some(EnvironmentInfo {
                tier: str_of(e, "/tier"),
                required_reviewers: approvals.get(&name).copied().unwrap_or(0),
                wait_timer_minutes: 0,
                branch_policy: None,
                record: record(
                    &endpoint,
                    format!("environment {name}"),
                    str_of(e, "/external_url"),
                ),
                name,
            })
        })
        .collect()))
}

/// GitLab protected-branch wildcards: `*` matches any run of characters.
fn branch_matches(pattern: &str, branch: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == branch,
        Some((head, tail)) => {
            branch.len() >= head.len()
                && branch.starts_with(head)
                && branch.get(head.len()..).is_some_and(|rest| {
                    (0..=rest.len()).any(|i| rest.get(i..).is_some_and(|r| branch_matches(tail, r)))
                })
        }
    }
}

/// The default branch's protection, approvals from MR approval rules, "pipelines
/// must succeed" as a required check, fast-forward merges as linear history.
async fn branch_protection(
    client: &mut Client,
    project: &Project,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<BranchProtection>, String>, GitlabError> {
    let Some(branch) = project.default_branch.clone() else {
        return Ok(Ok(Vec::new()));
    };
    let path = project.path("/protected_branches?per_page=100");
    let endpoint = endpoint_of(&path);
    let protected = match fetch_pages(
        client,
        PROTECTED_BRANCHES,
        "protected_branches",
        &path,
        2,
        diagnostics,
    )
    .await?
    {
        Ok(list) => list,
        Err(r) => return Ok(Err(r)),
    };
    let rule = protected
        .iter()
        .find(|p| str_of(p, "/name").is_some_and(|pattern| branch_matches(&pattern, &branch)));
    let rules_path = project.path("/approval_rules?per_page=100");
    let rules_endpoint = endpoint_of(&rules_path);
    let approvals = match fetch_pages(
        client,
        APPROVAL_RULES,
        "approval_rules",
        &rules_path,
        1,
        diagnostics,
    )
    .await?
    {
        Ok(rules) => rules
            .iter()
            .filter(|r| {
                // A rule limited to some protected branches applies only to them.
                r.get("protected_branches")
                    .and_then(Value::as_array)
                    .is_none_or(|bs| {
                        bs.is_empty()
                            || bs.iter().any(|b| {
                                str_of(b, "/name").is_some_and(|p| branch_matches(&p, &branch))
                            })
                    })
            })
            .filter_map(|r| r.get("approvals_required").and_then(Value::as_u64))
            .max()
            .unwrap_or(0),
        Err(_) => 0,
    };
    if rule.is_none() && approvals == 0 {
        return Ok(Ok(Vec::new()));
    }
    let (record_endpoint, what) = match rule {
        Some(_) => (endpoint, format!("protected branch {branch}")),
        None => (rules_endpoint, format!("approval rules for {branch}")),
    };
    Ok(Ok(vec![BranchProtection {
        required_checks: if project.pipeline_must_succeed {
            vec!["pipeline must succeed".to_string()]
        } else {
            Vec::new()
        },
        required_reviews: u32::try_from(approvals).unwrap_or(u32::MAX),
        code_owner_reviews: rule
            .and_then(|r| r.get("code_owner_approval_required"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        linear_history: project.merge_method.as_deref() == Some("ff"),
        record: record(&record_endpoint, what, None),
        branch,
    }]))
}

async fn releases(
    client: &mut Client,
    project: &Project,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Result<Vec<Release>, String>, GitlabError> {
    let path = project.path("/releases?per_page=100");
    let endpoint = endpoint_of(&path);
    let items = match fetch_pages(client, RELEASES, "releases", &path, 1, diagnostics).await? {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    Ok(Ok(items
        .iter()
        .filter_map(|r| {
            let tag = str_of(r, "/tag_name")?;
            Some(Release {
                name: str_of(r, "/name").filter(|n| !n.is_empty()),
                created_at: str_of(r, "/released_at")
                    .or_else(|| str_of(r, "/created_at"))
                    .unwrap_or_default(),
                // A release dated in the future is announced, not out yet.
                prerelease: r
                    .get("upcoming_release")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                record: record(
                    &endpoint,
                    format!("release {tag}"),
                    str_of(r, "/_links/self"),
                ),
                tag,
            })
        })
        .collect()))
}

/// The MLflow-compatible API of this project's model registry: the tracking URI
/// an MLflow client (src/connect/mlflow) can be pointed at, with the same token.
pub fn mlflow_tracking_uri(api_url: &str, project_id: u64) -> String {
    format!(
        "{}/projects/{project_id}/ml/mlflow",
        api_url.trim_end_matches('/')
    )
}

/// Container registry tags, packages and registered models, as registry
/// versions. Collected when any of the three is visible; the hidden ones have
/// their own diagnostic.
async fn registries(
    client: &mut Client,
    project: &Project,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Observed<Vec<RegistryVersion>>, GitlabError> {
    let mut versions = Vec::new();
    let mut hidden = Vec::new();

    let path = project.path("/registry/repositories?tags=true&per_page=100");
    let endpoint = endpoint_of(&path);
    match fetch_pages(client, REGISTRY, "registry", &path, 1, diagnostics).await? {
        Ok(repos) => {
            for repo in &repos {
                let name = str_of(repo, "/path")
                    .or_else(|| str_of(repo, "/location"))
                    .unwrap_or_default();
                let repo_id = id_of(repo).unwrap_or_default();
                for tag in repo
                    .get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(tag_name) = str_of(tag, "/name") else {
                        continue;
                    };
                    versions.push(RegistryVersion {
                        kind: "container".into(),
                        name: name.clone(),
                        version: tag_name.clone(),
                        created_at: str_of(tag, "/created_at"),
                        record: record(
                            &endpoint,
                            format!("registry repository {repo_id} tag {tag_name}"),
                            str_of(tag, "/location"),
                        ),
                    });
                }
            }
        }
        Err(reason) => hidden.push(format!("container registry: {reason}")),
    }

    let mut models_seen: BTreeSet<(String, String)> = BTreeSet::new();
    let path = project.path("/ml/mlflow/api/2.0/mlflow/registered-models/search?max_results=100");
    let endpoint = endpoint_of(&path);
    match fetch(client, MODELS, "ml/mlflow", &path, false, diagnostics).await? {
        Got::Json(v, _) => {
            for model in v
                .get("registered_models")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = str_of(model, "/name") else {
                    continue;
                };
                let latest = model
                    .get("latest_versions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for version in &latest {
                    let number = match version.get("version") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => n.to_string(),
                        _ => continue,
                    };
                    models_seen.insert((name.clone(), number.clone()));
                    versions.push(RegistryVersion {
                        kind: "model".into(),
                        name: name.clone(),
                        created_at: version
                            .get("creation_timestamp")
                            .and_then(Value::as_i64)
                            .map(|ms| format_rfc3339(ms / 1000)),
                        record: record(&endpoint, format!("model {name} version {number}"), None),
                        version: number,
                    });
                }
            }
        }
        Got::Off(reason) => hidden.push(format!("model registry: {reason}")),
    }

    let path = project.path("/packages?per_page=100&order_by=created_at&sort=desc");
    let endpoint = endpoint_of(&path);
    match fetch_pages(client, PACKAGES, "packages", &path, 1, diagnostics).await? {
        Ok(packages) => {
            for p in &packages {
                let (Some(name), Some(version)) = (str_of(p, "/name"), str_of(p, "/version"))
                else {
                    continue;
                };
                let package_type = str_of(p, "/package_type").unwrap_or_default();
                // Model registry versions are stored as `ml_model` packages.
                let kind = if package_type == "ml_model" {
                    if models_seen.contains(&(name.clone(), version.clone())) {
                        continue;
                    }
                    "model".to_string()
                } else {
                    package_type
                };
                let id = id_of(p).unwrap_or_default();
                versions.push(RegistryVersion {
                    kind,
                    created_at: str_of(p, "/created_at"),
                    record: record(
                        &endpoint,
                        format!("package {id}"),
                        str_of(p, "/_links/web_path"),
                    ),
                    name,
                    version,
                });
            }
        }
        Err(reason) => hidden.push(format!("package registry: {reason}")),
    }

    Ok(if hidden.len() == 3 {
        Observed::NotVisible {
            reason: hidden.join("; "),
        }
    } else {
        Observed::Collected { items: versions }
    })
}

/// Tags, the scanned branch and recent commits, as the local connector reads them
/// from `.git`.
pub(crate) async fn git_meta(
    client: &mut Client,
    project: &Project,
    head: Option<&Head>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<GitMeta, GitlabError> {
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
    let path = project.path("/repository/tags?per_page=100");
    if let Ok(items) = fetch_pages(client, TAGS, "repository/tags", &path, 1, diagnostics).await? {
        meta.tags = items
            .iter()
            .filter_map(|t| {
                Some(GitRef {
                    name: str_of(t, "/name")?,
                    commit: str_of(t, "/commit/id").unwrap_or_default(),
                    date: str_of(t, "/commit/committed_date"),
                })
            })
            .collect();
    }
    let path = project.path(&format!(
        "/repository/commits?ref_name={}&per_page=100",
        encode_component(&head.sha)
    ));
    if let Ok(items) =
        fetch_pages(client, COMMITS, "repository/commits", &path, 1, diagnostics).await?
    {
        meta.recent_commits = items
            .iter()
            .filter_map(|c| {
                Some(Commit {
                    sha: str_of(c, "/id")?,
                    date: str_of(c, "/committed_date")
                        .or_else(|| str_of(c, "/authored_date"))
                        .unwrap_or_default(),
                    subject: str_of(c, "/title").unwrap_or_default(),
                    author: str_of(c, "/author_name"),
                })
            })
            .collect();
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_branch_wildcards() {
        assert!(branch_matches("main", "main"));
        assert!(!branch_matches("main", "mainline"));
        assert!(branch_matches("release/*", "release/1.0"));
        assert!(branch_matches("*", "anything"));
        assert!(branch_matches("*-stable", "1-0-stable"));
        assert!(!branch_matches("*-stable", "stable"));
    }

    #[test]
    fn mlflow_uri_keeps_the_path_prefix() {
        assert_eq!(
            mlflow_tracking_uri("https://example.com/gitlab/api/v4/", 42),
            "https://example.com/gitlab/api/v4/projects/42/ml/mlflow"
        );
    }
}
