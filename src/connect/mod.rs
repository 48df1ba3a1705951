//! Connectors: turn a target (a local checkout, a GitHub repository, a GitLab project) into a [`Snapshot`].

use crate::evidence::Snapshot;

pub mod git;
pub mod github;
pub mod gitlab;
pub mod local;
pub mod mlflow;
pub mod remote;

/// Options every connector understands.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Files larger than this are recorded by path and size only.
    pub max_file_size: u64,
    /// Extra paths to leave out (gitignore-style globs, from config or CLI).
    pub exclude: Vec<String>,
    /// Read git metadata (tags, branches, recent commits) when present.
    pub git_metadata: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_file_size: 1024 * 1024,
            exclude: Vec::new(),
            git_metadata: true,
        }
    }
}

/// Connector failures that stop a scan (a missing path). Everything recoverable
/// becomes a diagnostic in the snapshot instead.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: not a directory")]
    NotADirectory { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Build the snapshot of a local checkout and parse its pipelines.
pub fn scan_local(
    path: &std::path::Path,
    options: &ConnectOptions,
) -> Result<Snapshot, ConnectError> {
    let mut snapshot = local::collect(path, options)?;
    let mut diagnostics = std::mem::take(&mut snapshot.diagnostics);
    snapshot.pipelines = crate::pipeline::parse_all(&snapshot.files, &mut diagnostics);
    snapshot.diagnostics = diagnostics;
    Ok(snapshot)
}

/// Scan `github:OWNER/REPO` through the GitHub API (see [`github::scan`]); blocks on
/// a current-thread runtime. Returns the snapshot with parsed pipelines and the
/// request counters.
pub fn scan_github(
    target: &str,
    options: &github::GithubOptions,
) -> Result<(Snapshot, github::RequestStats), github::GithubError> {
    let (owner, repo) = github::parse_target(target)?;
    github::scan_blocking(&owner, &repo, options)
}

/// Scan `gitlab:GROUP/…/PROJECT` through the GitLab API (see [`gitlab::scan`]);
/// blocks on a current-thread runtime. Returns the snapshot with parsed pipelines
/// and the request counters.
pub fn scan_gitlab(
    target: &str,
    options: &gitlab::GitlabOptions,
) -> Result<(Snapshot, gitlab::RequestStats), gitlab::GitlabError> {
    let path = gitlab::parse_target(target)?;
    gitlab::scan_blocking(&path, options)
}
