//! The GitLab connector: scan a project of gitlab.com or of a self-managed
//! instance through the REST API v4, with its history (pipelines, deployments,
//! environments and their approvals, protected branches, MR approval rules,
//! releases, tags, container and package registries, the model registry), into the
//! same [`Snapshot`] the local connector fills, so detectors and levels work
//! unchanged.
//!
//! Request plan for one scan (see docs/gitlab.md for the budget):
//! `GET /projects/:path` → the commit of the ref → the recursive tree (keyset
//! pagination) → the blobs [`content_wanted`](crate::evidence::content_wanted)
//! asks for (by sha, kept in the blob cache) → `include:` files of other projects
//! and templates → API evidence. Every GET is conditional against the persistent
//! ETag cache.
//!
//! Evidence that the API refuses (a feature of a higher tier, a missing role or
//! scope) is recorded as [`Observed::NotVisible`] with the reason, plus a diagnostic
//! naming the scope and role to grant: it is never read as an absent practice.
//!
//! [`Observed::NotVisible`]: crate::evidence::Observed::NotVisible

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::connect::remote::cache;
use crate::connect::remote::client::{self as shared, ClientConfig, Credential, Flavor};
use crate::evidence::{Diagnostic, Snapshot, Source};

mod api;
mod files;
mod includes;

pub use crate::connect::remote::RequestStats;
pub use api::mlflow_tracking_uri;

/// How GitLab speaks HTTP: `RateLimit-*` headers (reset as Unix seconds),
/// `Retry-After` on 429, `Link` (keyset and offset) and `x-next-page` pagination.
const GITLAB: Flavor = Flavor {
    accept: "application/json",
    extra_headers: &[],
    remaining_header: "ratelimit-remaining",
    reset_header: "ratelimit-reset",
    resource_header: None,
    permissions_header: None,
    // A 429 without Retry-After: GitLab's throttles reset within a minute.
    unnamed_limit_backoff: Duration::from_secs(60),
    next_page_header: true,
    rebase_links: true,
};

/// Which header carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Personal, project or group access token: `PRIVATE-TOKEN`.
    Private,
    /// `CI_JOB_TOKEN` inside a GitLab CI job: `JOB-TOKEN` (reaches fewer endpoints).
    Job,
}

/// A GitLab token. It never shows itself: `Debug` and `Display` print `***`, and
/// it is not serialisable, so it cannot end up in a snapshot, a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    secret: String,
    kind: TokenKind,
}

impl Token {
    pub fn new(secret: impl Into<String>) -> Self {
        Token {
            secret: secret.into().trim().to_string(),
            kind: TokenKind::Private,
        }
    }

    pub fn job(secret: impl Into<String>) -> Self {
        Token {
            secret: secret.into().trim().to_string(),
            kind: TokenKind::Job,
        }
    }

    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The token from the environment: the variable `name` when given (a private
    /// token), otherwise `GITLAB_TOKEN`, then `CI_JOB_TOKEN` (as a job token).
    /// Empty values count as unset.
    pub fn from_env(name: Option<&str>) -> Option<Token> {
        Self::from_lookup(name, |var| std::env::var(var).ok())
    }

    fn from_lookup(name: Option<&str>, lookup: impl Fn(&str) -> Option<String>) -> Option<Token> {
        let set = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        match name {
            Some(n) => set(n).map(Token::new),
            None => set("GITLAB_TOKEN")
                .map(Token::new)
                .or_else(|| set("CI_JOB_TOKEN").map(Token::job)),
        }
    }

    fn credential(&self) -> Credential {
        Credential {
            header: match self.kind {
                TokenKind::Private => "private-token",
                TokenKind::Job => "job-token",
            },
            value: self.secret.clone(),
            secret: self.secret.clone(),
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:?}, ***)", self.kind)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

pub const DEFAULT_API_URL: &str = "https://gitlab.com/api/v4";

/// The API URL of an instance: `https://example.com/gitlab` →
/// `https://example.com/gitlab/api/v4` (kept as is when it already ends so).
pub fn api_url_for(instance: &str) -> String {
    let base = instance.trim().trim_end_matches('/');
    if base.ends_with("/api/v4") {
        base.to_string()
    } else {
        format!("{base}/api/v4")
    }
}

/// How to reach GitLab and how much of it to use.
#[derive(Debug, Clone)]
pub struct GitlabOptions {
    /// `https://gitlab.com/api/v4`; self-managed: `https://HOST[/PREFIX]/api/v4`.
    pub api_url: String,
    pub token: Option<Token>,
    /// Branch, tag or commit to scan; the default branch when `None`.
    pub git_ref: Option<String>,
    /// Where ETags, bodies and blob texts are kept between scans. `None`: the user
    /// cache folder (`$XDG_CACHE_HOME/mlops-maturity/gitlab`); an empty path: no cache.
    pub cache_dir: Option<PathBuf>,
    /// How many days of pipelines and deployments to read.
    pub history_window_days: u32,
    /// Upper bound on HTTP requests for one scan (304s included).
    pub max_requests: u32,
    /// Longest rate-limit wait accepted before the scan stops with a message.
    pub max_wait: Duration,
}

impl Default for GitlabOptions {
    fn default() -> Self {
        GitlabOptions {
            api_url: DEFAULT_API_URL.to_string(),
            token: None,
            git_ref: None,
            cache_dir: None,
            history_window_days: 90,
            max_requests: 500,
            max_wait: Duration::from_secs(120),
        }
    }
}

/// What stops a GitLab scan. Everything recoverable is a diagnostic instead.
/// No variant ever carries the token.
#[derive(Debug, thiserror::Error)]
pub enum GitlabError {
    #[error("`{0}` is not a GitLab project path (expected GROUP[/SUBGROUP…]/PROJECT)")]
    InvalidTarget(String),
    #[error("invalid GitLab options: {0}")]
    InvalidOptions(String),
    #[error(
        "gitlab:{target}: project not found (it does not exist, or it is private and the token cannot see it: set GITLAB_TOKEN to a token with the `read_api` scope)"
    )]
    NotFound { target: String },
    #[error("gitlab:{target}: ref `{git_ref}` not found")]
    RefNotFound { target: String, git_ref: String },
    #[error("GitLab refused the token (401 {message}); check GITLAB_TOKEN (scope `read_api`)")]
    Unauthorized { message: String },
    #[error("{endpoint}: 403 {message} (the token needs the `read_api` scope)")]
    Forbidden { endpoint: String, message: String },
    #[error(
        "GitLab rate limit hit at {endpoint}; it resets at {resets_at} (wait {wait_seconds} s, longer than the allowed {max_wait_seconds} s): scan stopped. Scan again after the reset."
    )]
    RateLimited {
        endpoint: String,
        resets_at: String,
        wait_seconds: u64,
        max_wait_seconds: u64,
    },
    #[error("request budget of {max_requests} exhausted at {endpoint}: scan stopped")]
    BudgetExhausted { max_requests: u32, endpoint: String },
    #[error("GitLab unreachable: {0}")]
    Network(String),
    #[error("{endpoint}: unexpected response: {message}")]
    InvalidResponse { endpoint: String, message: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
}

impl From<shared::RateLimitStop> for GitlabError {
    fn from(stop: shared::RateLimitStop) -> Self {
        GitlabError::RateLimited {
            endpoint: stop.endpoint,
            resets_at: stop.resets_at,
            wait_seconds: stop.wait_seconds,
            max_wait_seconds: stop.max_wait_seconds,
        }
    }
}

/// A project path segment: letters, digits, `-`, `_`, `.`; never `.`/`..`, not
/// starting with `-`.
fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 255
        && segment != "."
        && segment != ".."
        && !segment.starts_with('-')
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `gitlab:GROUP/SUBGROUP/PROJECT` (or the path alone, or a project URL on
/// gitlab.com) into the project path.
pub fn parse_target(target: &str) -> Result<String, GitlabError> {
    let rest = target.strip_prefix("gitlab:").unwrap_or(target);
    let rest = rest
        .strip_prefix("https://gitlab.com/")
        .or_else(|| rest.strip_prefix("http://gitlab.com/"))
        .unwrap_or(rest);
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() >= 2 && segments.len() <= 21 && segments.iter().all(|s| valid_segment(s)) {
        Ok(rest.to_string())
    } else {
        Err(GitlabError::InvalidTarget(target.to_string()))
    }
}

/// Percent-encode a whole value for one URL path segment or query value (`/` too,
/// as GitLab wants for project paths and file paths).
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `https://host/prefix/api/v4` → `https://host/prefix/api/graphql`.
pub(crate) fn graphql_url(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    match api.strip_suffix("/v4") {
        Some(base) => format!("{base}/graphql"),
        None => format!("{api}/graphql"),
    }
}

pub(crate) fn new_client(opts: &GitlabOptions) -> Result<shared::Client, GitlabError> {
    let cache_dir = match &opts.cache_dir {
        Some(dir) if dir.as_os_str().is_empty() => None,
        Some(dir) => Some(dir.clone()),
        None => cache::default_dir("gitlab"),
    };
    shared::Client::new(ClientConfig {
        api_url: opts.api_url.trim_end_matches('/').to_string(),
        graphql_url: Some(graphql_url(&opts.api_url)),
        credential: opts.token.as_ref().map(Token::credential),
        cache_dir,
        max_requests: opts.max_requests,
        max_wait: opts.max_wait,
        flavor: GITLAB,
    })
    .map_err(GitlabError::InvalidOptions)
}

/// Scan the project `path` (`group/sub/project`) through the GitLab API into a
/// snapshot with parsed pipelines.
pub async fn scan(
    path: &str,
    opts: &GitlabOptions,
) -> Result<(Snapshot, RequestStats), GitlabError> {
    let path = parse_target(path)?;
    let mut client = new_client(opts)?;
    let mut diagnostics = Vec::new();

    let project = files::project(&mut client, &path).await?;
    let head = files::resolve_head(&mut client, &project, opts.git_ref.as_deref()).await?;
    let (file_set, scan_stats) = match &head {
        Some(head) => {
            // GitLab's GraphQL API does not accept job tokens.
            let graphql = opts
                .token
                .as_ref()
                .is_none_or(|t| t.kind() == TokenKind::Private);
            files::collect(&mut client, &project, head, graphql, &mut diagnostics).await?
        }
        None => {
            diagnostics.push(Diagnostic::info(
                "empty-repository",
                format!("gitlab:{path}: the repository has no commits: no files to scan"),
                None,
            ));
            Default::default()
        }
    };

    let mut snapshot = Snapshot::new(
        Source {
            kind: "gitlab".into(),
            target: format!("gitlab:{path}"),
            revision: head.as_ref().map(|h| h.sha.clone()),
        },
        file_set,
    );
    snapshot.stats = scan_stats;
    snapshot.api = api::collect(
        &mut client,
        &project,
        opts.history_window_days,
        &mut diagnostics,
    )
    .await?;
    snapshot.git =
        Some(api::git_meta(&mut client, &project, head.as_ref(), &mut diagnostics).await?);

    let source = includes::prefetch(&mut client, &project, &snapshot.files).await?;
    snapshot.pipelines =
        crate::pipeline::parse_all_with_includes(&snapshot.files, &source, &mut diagnostics);
    diagnostics.extend(source.diagnostics());
    for d in &mut diagnostics {
        d.message = client.redact(&d.message);
    }
    snapshot.diagnostics = diagnostics;
    Ok((snapshot, client.stats))
}

/// [`scan`] on a current-thread tokio runtime, for synchronous callers (the CLI).
pub fn scan_blocking(
    path: &str,
    opts: &GitlabOptions,
) -> Result<(Snapshot, RequestStats), GitlabError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GitlabError::Runtime(e.to_string()))?;
    runtime.block_on(scan(path, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints_itself() {
        let t = Token::new("glpat-supersecret123");
        assert_eq!(format!("{t}"), "***");
        assert_eq!(format!("{t:?}"), "Token(Private, ***)");
        let opts = GitlabOptions {
            token: Some(t),
            ..Default::default()
        };
        assert!(!format!("{opts:?}").contains("supersecret"));
        assert!(!format!("{:?}", opts.token.unwrap().credential()).contains("supersecret"));
    }

    #[test]
    fn token_sources_in_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |var: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == var)
                    .map(|(_, v)| v.to_string())
            }
        };
        let both = env(&[
            ("GITLAB_TOKEN", "a"),
            ("CI_JOB_TOKEN", "b"),
            ("MINE", " c\n"),
        ]);
        let t = Token::from_lookup(None, both).unwrap();
        assert_eq!((t.secret.as_str(), t.kind()), ("a", TokenKind::Private));
        assert_eq!(Token::from_lookup(Some("MINE"), both).unwrap().secret, "c");
        let job_only = env(&[("GITLAB_TOKEN", " "), ("CI_JOB_TOKEN", "b")]);
        let t = Token::from_lookup(None, job_only).unwrap();
        assert_eq!((t.secret.as_str(), t.kind()), ("b", TokenKind::Job));
        assert_eq!(t.credential().header, "job-token");
        assert!(Token::from_lookup(Some("NOPE"), env(&[("GITLAB_TOKEN", "a")])).is_none());
    }

    #[test]
    fn targets_and_urls() {
        assert_eq!(
            parse_target("gitlab:group/sub/ml.project").unwrap(),
            "group/sub/ml.project"
        );
        assert_eq!(parse_target("https://gitlab.com/a/b.git").unwrap(), "a/b");
        for bad in [
            "gitlab:a",
            "gitlab:a/../b",
            "a/b?x=1",
            "gitlab:a//b",
            "gitlab:-a/b",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        assert_eq!(
            api_url_for("https://example.com/gitlab/"),
            "https://example.com/gitlab/api/v4"
        );
        assert_eq!(
            api_url_for("https://example.com/api/v4"),
            "https://example.com/api/v4"
        );
        assert_eq!(encode_component("g/sub/p"), "g%2Fsub%2Fp");
        assert_eq!(
            graphql_url("https://example.com/gitlab/api/v4/"),
            "https://example.com/gitlab/api/graphql"
        );
        assert_eq!(encode_component("a b.yml"), "a%20b.yml");
    }
}
