//! One sticky pull-request / merge-request comment (`mlops-maturity comment`).
//!
//! The comment is found again by a hidden marker ([`MARKER`]) among the comments
//! written by the token's own user, and updated in place; otherwise it is created.
//! GitHub: issue comments of the pull request. GitLab: notes of the merge request.
//!
//! The token is held in [`Token`], whose `Debug` is redacted, and it is only ever put
//! in a request header; pagination links are followed only on the API's own origin so
//! the token cannot be sent elsewhere.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

/// Hidden marker that identifies the sticky comment.
pub const MARKER: &str = "<!-- mlops-maturity:sticky -->";

/// GitHub rejects comments over 65,536 characters; stay below with room for the note.
pub const MAX_BODY_CHARS: usize = 65_000;

/// Pages of comments read at most (100 per page).
const MAX_PAGES: usize = 100;

/// Where the fork-PR recipe is documented (shown on 403).
pub const FORK_DOC: &str = "docs/action.md#pull-requests-from-forks-workflow_run";

/// A secret token. `Debug` never shows it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Self {
        Token(secret.into())
    }
    fn header(&self) -> Result<HeaderValue, CommentError> {
        let mut v = HeaderValue::from_str(&self.0)
            .map_err(|_| CommentError::Invalid("the token contains invalid characters".into()))?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// How the token is sent to GitLab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitLabAuth {
    /// `PRIVATE-TOKEN` (personal, project or group access token).
    Private,
    /// `JOB-TOKEN` (`$CI_JOB_TOKEN`).
    Job,
}

/// Where the comment goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    GitHub { repo: String, pr: u64 },
    GitLab { project: String, mr: u64 },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// API root: `https://api.github.com`, `https://gitlab.example/api/v4`.
    pub api_url: String,
    pub token: Token,
    pub gitlab_auth: GitLabAuth,
    /// Login whose comments may be updated; found from the token when `None`.
    pub author: Option<String>,
    /// Refuse to post unless the pull/merge request's head is this commit. Used by the
    /// `workflow_run` recipe, where the PR number comes from an untrusted artifact: the
    /// commit comes from the trusted event, so the comment can only land on that PR.
    pub expect_head_sha: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created { id: u64, url: Option<String> },
    Updated { id: u64, url: Option<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum CommentError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{what}: 401 Unauthorized: the token was rejected (missing, expired or revoked){detail}"
    )]
    Unauthorized { what: String, detail: String },
    #[error(
        "{what}: 403 Forbidden: the token cannot write comments here{detail}. On a pull request from a fork the GITHUB_TOKEN is read-only: keep this job for the job summary and post the comment from a `workflow_run` workflow (see {FORK_DOC}); for GitLab use a token with the `api` scope"
    )]
    Forbidden { what: String, detail: String },
    #[error(
        "{what}: 404 Not Found: check the repository/project and the pull/merge request number, and that the token can see them{detail}"
    )]
    NotFound { what: String, detail: String },
    #[error("{what}: HTTP {status}{detail}")]
    Status {
        what: String,
        status: u16,
        detail: String,
    },
    #[error("{what}: {message}")]
    Transport { what: String, message: String },
    #[error(
        "the pull/merge request's head is {actual}, not the expected {expected}: not commenting (the PR number may not belong to this run)"
    )]
    HeadMismatch { expected: String, actual: String },
}

impl CommentError {
    /// The token may not write (exit status 3 in the CLI, so CI can tell it apart).
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            CommentError::Unauthorized { .. } | CommentError::Forbidden { .. }
        )
    }
}

/// The body as posted: marker first, cut to [`MAX_BODY_CHARS`].
pub fn prepare_body(body: &str) -> String {
    let mut b = if body.contains(MARKER) {
        body.to_string()
    } else {
        format!("{MARKER}\n{body}")
    };
    if let Some((end, _)) = b.char_indices().nth(MAX_BODY_CHARS) {
        b.truncate(end);
        // Close a fold the cut left open, or the note below would be hidden in it.
        if b.matches("<details>").count() > b.matches("</details>").count() {
            b.push_str("\n\n</details>");
        }
        b.push_str("\n\n… (truncated: the full diff is in the job summary)\n");
    }
    b
}

/// Post or update the sticky comment.
pub fn post_sticky(options: &Options, body: &str) -> Result<Outcome, CommentError> {
    let api = Api::new(options)?;
    if let Some(expected) = &options.expect_head_sha {
        let actual = api.head_sha()?;
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            return Err(CommentError::HeadMismatch {
                expected: expected.trim().to_string(),
                actual,
            });
        }
    }
    let body = prepare_body(body);
    let author = match &options.author {
        Some(a) => Some(a.clone()),
        None => api.token_user(),
    };
    let existing = api.find(author.as_deref())?;
    match existing {
        Some(id) => api.update(id, &body),
        None => api.create(&body),
    }
}

struct Api<'a> {
    client: Client,
    options: &'a Options,
    base: String,
}

impl<'a> Api<'a> {
    fn new(options: &'a Options) -> Result<Self, CommentError> {
        let base = options.api_url.trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(CommentError::Invalid(format!(
                "--api-url {base}: must start with https:// (or http:// for a local server)"
            )));
        }
        let mut headers = HeaderMap::new();
        match &options.target {
            Target::GitHub { .. } => {
                let mut auth = HeaderValue::from_str(&format!("Bearer {}", options.token.0))
                    .map_err(|_| {
                        CommentError::Invalid("the token contains invalid characters".into())
                    })?;
                auth.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, auth);
                headers.insert(
                    reqwest::header::ACCEPT,
                    HeaderValue::from_static("application/vnd.github+json"),
                );
                headers.insert(
                    "X-GitHub-Api-Version",
                    HeaderValue::from_static("2022-11-28"),
                );
            }
            Target::GitLab { .. } => {
                let name = match options.gitlab_auth {
                    GitLabAuth::Private => "PRIVATE-TOKEN",
                    GitLabAuth::Job => "JOB-TOKEN",
                };
                headers.insert(name, options.token.header()?);
            }
        }
        let client = Client::builder()
            .default_headers(headers)
            .user_agent(concat!("mlops-maturity/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            // Redirects could carry the token header to another host; the APIs don't need them.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CommentError::Transport {
                what: "HTTP client".into(),
                message: e.to_string(),
            })?;
        Ok(Api {
            client,
            options,
            base,
        })
    }

    fn send(&self, what: &str, req: RequestBuilder) -> Result<(HeaderMap, Value), CommentError> {
        let resp = req.send().map_err(|e| CommentError::Transport {
            what: what.to_string(),
            message: e.without_url().to_string(),
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok((headers, json));
        }
        let detail = json
            .get("message")
            .or_else(|| json.get("error"))
            .and_then(|m| m.as_str())
            .map(|m| format!(" ({})", m.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        let what = what.to_string();
        Err(match status {
            401 => CommentError::Unauthorized { what, detail },
            403 => CommentError::Forbidden { what, detail },
            404 => CommentError::NotFound { what, detail },
            _ => CommentError::Status {
                what,
                status,
                detail,
            },
        })
    }

    /// The login of the token's user, when the API tells (an Actions GITHUB_TOKEN
    /// cannot read `/user`; see [`Api::find`] for the fallback).
    fn token_user(&self) -> Option<String> {
        let url = format!("{}/user", self.base);
        let (_, v) = self.send("GET /user", self.client.get(url)).ok()?;
        let key = match self.options.target {
            Target::GitHub { .. } => "login",
            Target::GitLab { .. } => "username",
        };
        v.get(key)?.as_str().map(str::to_string)
    }

    /// The head commit of the pull/merge request.
    fn head_sha(&self) -> Result<String, CommentError> {
        let (url, pointer) = match &self.options.target {
            Target::GitHub { repo, pr } => (
                format!("{}/repos/{repo}/pulls/{pr}", self.base),
                "/head/sha",
            ),
            Target::GitLab { project, mr } => (
                format!(
                    "{}/projects/{}/merge_requests/{mr}",
                    self.base,
                    encode_project(project)
                ),
                "/sha",
            ),
        };
        let (_, v) = self.send("reading the pull request", self.client.get(url))?;
        Ok(v.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    fn comments_url(&self) -> String {
        match &self.options.target {
            Target::GitHub { repo, pr } => {
                format!("{}/repos/{repo}/issues/{pr}/comments", self.base)
            }
            Target::GitLab { project, mr } => format!(
                "{}/projects/{}/merge_requests/{mr}/notes",
                self.base,
                encode_project(project)
            ),
        }
    }

    /// The id of the first comment carrying the marker written by `author` (GitHub
    /// without a known author: `github-actions[bot]`, the GITHUB_TOKEN's user; GitLab
    /// without a known author: any non-system note that starts with the marker).
    fn find(&self, author: Option<&str>) -> Result<Option<u64>, CommentError> {
        let mut url = format!("{}?per_page=100", self.comments_url());
        for _ in 0..MAX_PAGES {
            let (headers, v) = self.send("listing comments", self.client.get(&url))?;
            for c in v.as_array().map(Vec::as_slice).unwrap_or_default() {
                let body = c.get("body").and_then(Value::as_str).unwrap_or_default();
                if !body.contains(MARKER) {
                    continue;
                }
                let mine = match &self.options.target {
                    Target::GitHub { .. } => {
                        let login = c
                            .pointer("/user/login")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        login == author.unwrap_or("github-actions[bot]")
                    }
                    Target::GitLab { .. } => {
                        let user = c
                            .pointer("/author/username")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let system = c.get("system").and_then(Value::as_bool).unwrap_or(false);
                        !system
                            && match author {
                                Some(a) => user == a,
                                None => body.starts_with(MARKER),
                            }
                    }
                };
                if mine && let Some(id) = c.get("id").and_then(Value::as_u64) {
                    return Ok(Some(id));
                }
            }
            match next_link(&headers, &self.base) {
                Some(next) => url = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    fn create(&self, body: &str) -> Result<Outcome, CommentError> {
        let req = self
            .client
            .post(self.comments_url())
            .json(&serde_json::json!({ "body": body }));
        let (_, v) = self.send("creating the comment", req)?;
        Ok(Outcome::Created {
            id: v.get("id").and_then(Value::as_u64).unwrap_or(0),
            url: v
                .get("html_url")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    fn update(&self, id: u64, body: &str) -> Result<Outcome, CommentError> {
        let payload = serde_json::json!({ "body": body });
        let req = match &self.options.target {
            Target::GitHub { repo, .. } => self
                .client
                .patch(format!("{}/repos/{repo}/issues/comments/{id}", self.base))
                .json(&payload),
            Target::GitLab { .. } => self
                .client
                .put(format!("{}/{id}", self.comments_url()))
                .json(&payload),
        };
        let (_, v) = self.send("updating the comment", req)?;
        Ok(Outcome::Updated {
            id,
            url: v
                .get("html_url")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

/// GitLab project ids may be paths (`group/project`): encode them as one segment.
fn encode_project(project: &str) -> String {
    project
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `rel="next"` URL of a `Link` header, only when it stays on the API's origin.
fn next_link(headers: &HeaderMap, base: &str) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    let origin = origin_of(base)?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        if !params.split(';').any(|p| p.trim() == "rel=\"next\"") {
            return None;
        }
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        (origin_of(url)? == origin).then(|| url.to_string())
    })
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let rest_start = url.find("://")? + 3;
    let end = url[rest_start..]
        .find('/')
        .map_or(url.len(), |i| rest_start + i);
    url.get(..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_debug_is_redacted() {
        let t = Token::new("ghs_supersecret");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        let o = Options {
            target: Target::GitHub {
                repo: "o/r".into(),
                pr: 1,
            },
            api_url: "https://api.github.com".into(),
            token: t,
            gitlab_auth: GitLabAuth::Private,
            author: None,
            expect_head_sha: None,
        };
        assert!(!format!("{o:?}").contains("supersecret"));
    }

    #[test]
    fn body_gets_the_marker_once_and_is_bounded() {
        let b = prepare_body("hello");
        assert!(b.starts_with(MARKER));
        assert_eq!(prepare_body(&b).matches(MARKER).count(), 1);
        let long = prepare_body(&"x".repeat(100_000));
        assert!(long.chars().count() < MAX_BODY_CHARS + 100);
        assert!(long.contains("truncated"));
        let folded = prepare_body(&format!("<details>\n\n{}", "y".repeat(100_000)));
        assert!(folded.contains("</details>\n\n… (truncated"));
    }

    #[test]
    fn pagination_stays_on_the_api_origin() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static(
                "<https://api.github.com/repos/o/r/issues/1/comments?page=2>; rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&h, "https://api.github.com").as_deref(),
            Some("https://api.github.com/repos/o/r/issues/1/comments?page=2")
        );
        assert_eq!(next_link(&h, "https://ghe.example/api/v3"), None);
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static("<https://evil.example/steal>; rel=\"next\""),
        );
        assert_eq!(next_link(&h, "https://api.github.com"), None);
    }

    #[test]
    fn gitlab_project_paths_are_one_segment() {
        assert_eq!(encode_project("group/sub/proj"), "group%2Fsub%2Fproj");
        assert_eq!(encode_project("42"), "42");
    }
}
