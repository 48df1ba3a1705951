//! `include:` files that live outside the scanned repository, fetched through the
//! API before the pipelines are parsed (the parser is synchronous; the requests
//! are not). The parser asks an [`IncludeSource`]; a first parse records what it
//! asked for, those files are fetched, and the parse repeats until nothing new is
//! asked (nested includes) or the limits are reached.
//!
//! - `project:` → `GET /projects/:path/repository/files/:file/raw?ref=` of that
//!   project (the token must be able to read it);
//! - `template:` → `GET /templates/gitlab_ci_ymls/:name` (recorded unresolved when
//!   the instance does not serve it, e.g. templates under `Jobs/`);
//! - `remote:` → only a `/-/raw/` file URL of this same GitLab instance, read as a
//!   project file through the API; any other URL is recorded unresolved with the
//!   reason (the scan talks to the GitLab instance only, never to third hosts).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::GitlabError;
use super::encode_component;
use super::files::Project;
use crate::connect::remote::client::{Client, ClientError, Outcome};
use crate::evidence::{Diagnostic, FileSet};
use crate::pipeline::gitlab::{ExternalInclude, IncludeSource, IncludeText};

/// Rounds of fetching (one per nesting level of non-local includes).
const MAX_ROUNDS: usize = 8;
/// Non-local include files fetched for one scan (GitLab's own limit is 150 per pipeline).
const MAX_FETCHED: usize = 150;

/// Answers from the API, and what the parser asked for that is not answered yet.
pub(crate) struct Prefetched {
    answers: BTreeMap<ExternalInclude, IncludeText>,
    asked: RefCell<BTreeSet<ExternalInclude>>,
    diagnostics: Vec<Diagnostic>,
}

impl IncludeSource for Prefetched {
    fn fetch(&self, include: &ExternalInclude) -> IncludeText {
        match self.answers.get(include) {
            Some(answer) => answer.clone(),
            None => {
                self.asked.borrow_mut().insert(include.clone());
                IncludeText::Unresolved(format!(
                    "not fetched (more than {MAX_FETCHED} include files or {MAX_ROUNDS} nesting levels)"
                ))
            }
        }
    }
}

impl Prefetched {
    /// Diagnostics of the fetching itself (budget, network).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.diagnostics.clone()
    }
}

/// Fetch every non-local include the pipelines of `files` reach.
pub(crate) async fn prefetch(
    client: &mut Client,
    project: &Project,
    files: &FileSet,
) -> Result<Prefetched, GitlabError> {
    let mut source = Prefetched {
        answers: BTreeMap::new(),
        asked: RefCell::new(BTreeSet::new()),
        diagnostics: Vec::new(),
    };
    // Without a GitLab CI file there is nothing to resolve.
    if !files.contains(".gitlab-ci.yml") && !files.contains(".gitlab-ci.yaml") {
        return Ok(source);
    }
    for _ in 0..MAX_ROUNDS {
        let mut scratch = Vec::new();
        crate::pipeline::gitlab::parse_pipelines_with(files, Some(&source), &mut scratch);
        let asked: Vec<ExternalInclude> = std::mem::take(&mut *source.asked.borrow_mut())
            .into_iter()
            .collect();
        if asked.is_empty() {
            break;
        }
        for include in asked {
            if source.answers.len() >= MAX_FETCHED {
                return Ok(source);
            }
            let answer = fetch_one(client, project, &include, &mut source.diagnostics).await?;
            source.answers.insert(include, answer);
        }
    }
    Ok(source)
}

/// The instance's web root: the API URL without `/api/v4`.
fn web_root(api_url: &str) -> &str {
    api_url.strip_suffix("/api/v4").unwrap_or(api_url)
}

/// A `/-/raw/REF/FILE` URL of this instance as a project include.
fn raw_url_as_project(url: &str, api_url: &str) -> Option<ExternalInclude> {
    let rest = url.strip_prefix(web_root(api_url))?.strip_prefix('/')?;
    let rest = rest.split(['?', '#']).next()?;
    let (project, after) = rest.split_once("/-/raw/")?;
    let (git_ref, file) = after.split_once('/')?;
    (!project.is_empty() && !git_ref.is_empty() && !file.is_empty()).then(|| ExternalInclude {
        kind: "project".into(),
        project: Some(project.to_string()),
        file: file.to_string(),
        git_ref: Some(git_ref.to_string()),
    })
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    rest.split(['/', '?', '#']).next()
}

async fn fetch_one(
    client: &mut Client,
    project: &Project,
    include: &ExternalInclude,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<IncludeText, GitlabError> {
    match include.kind.as_str() {
        "project" => fetch_project_file(client, project, include, diagnostics).await,
        "template" => fetch_template(client, include, diagnostics).await,
        "remote" => {
            let api_url = client.api_url().to_string();
            if let Some(as_project) = raw_url_as_project(&include.file, &api_url) {
                return Ok(
                    match fetch_project_file(client, project, &as_project, diagnostics).await? {
                        IncludeText::Found { text, .. } => IncludeText::Found {
                            path: include.file.clone(),
                            text,
                        },
                        unresolved => unresolved,
                    },
                );
            }
            Ok(IncludeText::Unresolved(
                if host_of(&include.file) == host_of(&api_url) {
                    "a remote include on this GitLab host that is not a `/-/raw/` file URL: not fetched".into()
                } else {
                    "remote include on another host: not fetched (the scan talks to the GitLab instance only)".into()
                },
            ))
        }
        other => Ok(IncludeText::Unresolved(format!(
            "{other} includes are not fetched"
        ))),
    }
}

/// What a failed include request means, or a fatal stop.
fn failed(
    client: &Client,
    err: ClientError,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<IncludeText, GitlabError> {
    match err {
        ClientError::Fatal(stop) => Err(stop.into()),
        ClientError::Budget => {
            let reason = format!(
                "request budget of {} exhausted before {what}",
                client.max_requests()
            );
            diagnostics.push(Diagnostic::warning(
                "gitlab-request-budget",
                reason.clone(),
                None,
            ));
            Ok(IncludeText::Unresolved(reason))
        }
        ClientError::Network(m) => Ok(IncludeText::Unresolved(format!("request failed: {m}"))),
    }
}

async fn fetch_project_file(
    client: &mut Client,
    scanned: &Project,
    include: &ExternalInclude,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<IncludeText, GitlabError> {
    let project = include
        .project
        .as_deref()
        .unwrap_or(&scanned.path)
        .trim()
        .trim_matches('/');
    if project.contains('$') || include.file.contains('$') {
        return Ok(IncludeText::Unresolved(
            "the include uses a CI/CD variable".into(),
        ));
    }
    let file = include.file.trim().trim_start_matches('/');
    let reference = include
        .git_ref
        .as_ref()
        .map(|r| format!("?ref={}", encode_component(r)))
        .unwrap_or_default();
    let path = format!(
        "/projects/{}/repository/files/{}/raw{reference}",
        encode_component(project),
        encode_component(file)
    );
    let label = match &include.git_ref {
        Some(r) => format!("{project}:{file}@{r}"),
        None => format!("{project}:{file}"),
    };
    match client.get("include/project", &path, None).await {
        Ok(Outcome::Ok { body, .. }) => Ok(IncludeText::Found {
            path: label,
            text: body,
        }),
        Ok(Outcome::Status {
            status, message, ..
        }) => Ok(IncludeText::Unresolved(match status {
            401 | 403 | 404 => format!(
                "{status} {message}: project `{project}` or its file is not visible to the token (needs `read_api` and the Reporter role on that project)"
            ),
            _ => format!("{status} {message}"),
        })),
        Err(e) => failed(client, e, &format!("`{label}`"), diagnostics),
    }
}

async fn fetch_template(
    client: &mut Client,
    include: &ExternalInclude,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<IncludeText, GitlabError> {
    let name = include.file.trim();
    let key = name.strip_suffix(".gitlab-ci.yml").unwrap_or(name);
    let path = format!("/templates/gitlab_ci_ymls/{}", encode_component(key));
    match client.get("include/template", &path, None).await {
        Ok(Outcome::Ok { body, .. }) => {
            let content = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("content").and_then(Value::as_str).map(str::to_string));
            Ok(match content {
                Some(text) => IncludeText::Found {
                    path: format!("template:{name}"),
                    text,
                },
                None => IncludeText::Unresolved(format!("GET {path}: no `content` in the answer")),
            })
        }
        Ok(Outcome::Status {
            status, message, ..
        }) => Ok(IncludeText::Unresolved(format!(
            "{status} {message}: the instance does not serve this template through /templates/gitlab_ci_ymls"
        ))),
        Err(e) => failed(client, e, &format!("template `{name}`"), diagnostics),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_urls_of_this_instance_become_project_includes() {
        let api = "https://example.com/gitlab/api/v4";
        let inc = raw_url_as_project(
            "https://example.com/gitlab/group/ci/-/raw/main/templates/train.yml",
            api,
        )
        .unwrap();
        assert_eq!(inc.project.as_deref(), Some("group/ci"));
        assert_eq!(inc.git_ref.as_deref(), Some("main"));
        assert_eq!(inc.file, "templates/train.yml");
        assert!(
            raw_url_as_project("https://other.example/group/ci/-/raw/main/x.yml", api).is_none()
        );
        assert!(raw_url_as_project("https://example.com/gitlab/group/ci/x.yml", api).is_none());
        assert_eq!(
            host_of("https://example.com:8443/x"),
            Some("example.com:8443")
        );
    }
}
