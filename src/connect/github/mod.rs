//! The GitHub connector: scan a repository through the REST and GraphQL APIs,
//! with its history (workflow runs, deployments, environments, branch rules,
//! releases, tags, packages), into the same [`Snapshot`] the local connector fills,
//! so detectors and levels work unchanged.
//!
//! Request plan for one scan (see docs/github.md for the budget):
//! `GET /repos/{o}/{r}` → the branch or commit → one recursive tree → file texts
//! (GraphQL, up to 100 blobs a query, or REST blobs without GraphQL) → API evidence.
//! Every GET is conditional against the persistent ETag cache, and blob texts are
//! cached by sha, so re-scanning an unchanged repository costs almost nothing
//! against the rate limit.
//!
//! Evidence that the API refuses (a feature switched off, a missing permission) is
//! recorded as [`Observed::NotVisible`] with the reason, plus a diagnostic naming
//! the permission to add: it is never read as the absence of a practice.
//!
//! [`Observed::NotVisible`]: crate::evidence::Observed::NotVisible

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::evidence::{Snapshot, Source};

mod api;
pub(crate) mod client;
mod files;

use crate::connect::remote::time;

pub use client::API_VERSION;

/// A GitHub token. It never shows itself: `Debug` and `Display` print `***`, and
/// it is not serialisable, so it cannot end up in a snapshot, a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Self {
        Token(secret.into().trim().to_string())
    }

    /// The token from the environment: the variable `name` when given, otherwise
    /// `GITHUB_TOKEN`, then `GH_TOKEN`. Empty values count as unset.
    pub fn from_env(name: Option<&str>) -> Option<Token> {
        Self::from_lookup(name, |var| std::env::var(var).ok())
    }

    /// [`Token::from_env`] over any variable lookup (tests cannot set the
    /// environment safely).
    fn from_lookup(name: Option<&str>, lookup: impl Fn(&str) -> Option<String>) -> Option<Token> {
        let names: &[&str] = match name {
            Some(n) => &[n][..],
            None => &["GITHUB_TOKEN", "GH_TOKEN"],
        };
        names
            .iter()
            .find_map(|n| lookup(n).map(Token::new).filter(|t| !t.0.is_empty()))
    }

    /// The secret itself, for the `Authorization` header and the cache identity only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to reach GitHub and how much of it to use.
#[derive(Debug, Clone)]
pub struct GithubOptions {
    /// `https://api.github.com`; for GitHub Enterprise Server `https://HOST/api/v3`.
    pub api_url: String,
    pub token: Option<Token>,
    /// Branch, tag or commit to scan; the default branch when `None`.
    pub git_ref: Option<String>,
    /// Where ETags, bodies and blob texts are kept between scans. `None`: the user
    /// cache folder (`$XDG_CACHE_HOME/mlops-maturity/github`); an empty path: no cache.
    pub cache_dir: Option<PathBuf>,
    /// How many days of workflow runs to read.
    pub runs_window_days: u32,
    /// Upper bound on HTTP requests for one scan (304s included).
    pub max_requests: u32,
    /// Longest rate-limit wait accepted before the scan stops with a message.
    pub max_wait: Duration,
}

pub const DEFAULT_API_URL: &str = "https://api.github.com";

impl Default for GithubOptions {
    fn default() -> Self {
        GithubOptions {
            api_url: DEFAULT_API_URL.to_string(),
            token: None,
            git_ref: None,
            cache_dir: None,
            runs_window_days: 90,
            max_requests: 500,
            max_wait: Duration::from_secs(120),
        }
    }
}

pub use crate::connect::remote::RequestStats;

/// What stops a GitHub scan. Everything recoverable is a diagnostic instead.
/// No variant ever carries the token.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("`{0}` is not a GitHub repository name (expected OWNER/REPO)")]
    InvalidTarget(String),
    #[error("invalid GitHub options: {0}")]
    InvalidOptions(String),
    #[error(
        "github:{target}: repository not found (it does not exist, or it is private and the token cannot see it; set GITHUB_TOKEN)"
    )]
    NotFound { target: String },
    #[error("github:{target}: ref `{git_ref}` not found")]
    RefNotFound { target: String, git_ref: String },
    #[error("GitHub refused the token (401 {message}); check GITHUB_TOKEN / GH_TOKEN")]
    Unauthorized { message: String },
    #[error("{endpoint}: 403 {message}")]
    Forbidden { endpoint: String, message: String },
    #[error(
        "GitHub {} rate limit hit at {endpoint}; it resets at {resets_at} (wait {wait_seconds} s, longer than the allowed {max_wait_seconds} s): scan stopped. Use a token, raise the maximum wait, or scan again after the reset.",
        if *secondary { "secondary" } else { "primary" }
    )]
    RateLimited {
        endpoint: String,
        resets_at: String,
        wait_seconds: u64,
        max_wait_seconds: u64,
        secondary: bool,
    },
    #[error("request budget of {max_requests} exhausted at {endpoint}: scan stopped")]
    BudgetExhausted { max_requests: u32, endpoint: String },
    #[error("GitHub unreachable: {0}")]
    Network(String),
    #[error("{endpoint}: unexpected response: {message}")]
    InvalidResponse { endpoint: String, message: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
}

/// GitHub owner and repository names: letters, digits, `-`, `_`, `.`; never `.`/`..`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Scan `owner/repo` through the GitHub API into a snapshot with parsed pipelines.
pub async fn scan(
    owner: &str,
    repo: &str,
    opts: &GithubOptions,
) -> Result<(Snapshot, RequestStats), GithubError> {
    if !valid_name(owner) || !valid_name(repo) {
        return Err(GithubError::InvalidTarget(format!("{owner}/{repo}")));
    }
    let mut client = client::Client::new(opts)?;
    let mut diagnostics = Vec::new();
    let target = files::Target {
        owner: owner.to_string(),
        repo: repo.to_string(),
    };

    let info = files::repo_info(&mut client, &target).await?;
    let head = files::resolve_head(&mut client, &target, &info, opts.git_ref.as_deref()).await?;
    let (file_set, scan_stats) = match &head {
        Some(head) => files::collect(&mut client, &target, head, &mut diagnostics).await?,
        None => {
            diagnostics.push(crate::evidence::Diagnostic::info(
                "empty-repository",
                format!("github:{owner}/{repo}: the repository has no commits: no files to scan"),
                None,
            ));
            Default::default()
        }
    };

    let mut snapshot = Snapshot::new(
        Source {
            kind: "github".into(),
            target: format!("github:{owner}/{repo}"),
            revision: head.as_ref().map(|h| h.sha.clone()),
        },
        file_set,
    );
    snapshot.stats = scan_stats;
    snapshot.api = api::collect(
        &mut client,
        &target,
        &info,
        head.as_ref(),
        opts.runs_window_days,
        &mut diagnostics,
    )
    .await?;
    snapshot.git =
        Some(api::git_meta(&mut client, &target, head.as_ref(), &mut diagnostics).await?);

    snapshot.pipelines = crate::pipeline::parse_all(&snapshot.files, &mut diagnostics);
    for d in &mut diagnostics {
        d.message = client.redact(&d.message);
    }
    snapshot.diagnostics = diagnostics;
    Ok((snapshot, client.into_stats()))
}

/// [`scan`] on a current-thread tokio runtime, for synchronous callers (the CLI).
pub fn scan_blocking(
    owner: &str,
    repo: &str,
    opts: &GithubOptions,
) -> Result<(Snapshot, RequestStats), GithubError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GithubError::Runtime(e.to_string()))?;
    runtime.block_on(scan(owner, repo, opts))
}

/// Split `github:OWNER/REPO` (or `OWNER/REPO`, or a `https://github.com/OWNER/REPO` URL)
/// into owner and repository.
pub fn parse_target(target: &str) -> Result<(String, String), GithubError> {
    let rest = target.strip_prefix("github:").unwrap_or(target);
    let rest = rest
        .strip_prefix("https://github.com/")
        .or_else(|| rest.strip_prefix("http://github.com/"))
        .unwrap_or(rest);
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    match rest.split_once('/') {
        Some((o, r)) if valid_name(o) && valid_name(r) => Ok((o.to_string(), r.to_string())),
        _ => Err(GithubError::InvalidTarget(target.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints_itself() {
        let t = Token::new("ghp_supersecret123");
        assert_eq!(format!("{t}"), "***");
        assert_eq!(format!("{t:?}"), "Token(***)");
        let opts = GithubOptions {
            token: Some(t),
            ..Default::default()
        };
        assert!(!format!("{opts:?}").contains("supersecret"));
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
        let both = env(&[("GITHUB_TOKEN", "a"), ("GH_TOKEN", "b"), ("MINE", " c\n")]);
        assert_eq!(Token::from_lookup(None, both).unwrap().expose(), "a");
        assert_eq!(
            Token::from_lookup(Some("MINE"), both).unwrap().expose(),
            "c"
        );
        let gh_only = env(&[("GITHUB_TOKEN", ""), ("GH_TOKEN", "b")]);
        assert_eq!(Token::from_lookup(None, gh_only).unwrap().expose(), "b");
        assert!(Token::from_lookup(Some("NOPE"), env(&[("GITHUB_TOKEN", "a")])).is_none());
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("github:octo/hello.world").unwrap(),
            ("octo".into(), "hello.world".into())
        );
        assert_eq!(
            parse_target("https://github.com/a/b.git").unwrap(),
            ("a".into(), "b".into())
        );
        for bad in [
            "github:a",
            "github:a/b/c",
            "github:../x",
            "a/b?x=1",
            "github:a/..",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
