//! The evidence model: what a connector saw, with where it saw it.
//!
//! Every connector (local checkout, GitHub, GitLab) fills the same [`Snapshot`];
//! detectors never know where evidence came from. The snapshot serialises to JSON
//! so it can be saved, replayed and diffed.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::pipeline::Pipeline;

/// Version of the snapshot JSON shape. Bump on any incompatible change.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// A place in a repository file. Lines and columns are 1-based; `line == 0` means
/// "the file as a whole".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Repository-relative path with `/` separators.
    pub path: String,
    pub line: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub column: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Location {
    pub fn new(path: impl Into<String>, line: u32) -> Self {
        Location {
            path: path.into(),
            line,
            column: 0,
        }
    }
    pub fn with_column(path: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            path: path.into(),
            line,
            column,
        }
    }
    /// The whole file.
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            line: 0,
            column: 0,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.path),
            (l, 0) => write!(f, "{}:{}", self.path, l),
            (l, c) => write!(f, "{}:{}:{}", self.path, l, c),
        }
    }
}

/// An API record behind a fact (GitHub/GitLab/registry), e.g.
/// `endpoint = "GET /repos/o/r/deployments"`, `record = "deployment 123"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ApiRecord {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something the scan wants the user to know: a file it could not read, a YAML it
/// could not parse, an include it could not resolve. The scan goes on after each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable kebab-case code, e.g. `yaml-syntax`, `file-too-large`, `symlink-outside-repo`.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: &str,
        message: impl Into<String>,
        location: Option<Location>,
    ) -> Self {
        Diagnostic {
            severity,
            code: code.to_string(),
            message: message.into(),
            location,
        }
    }
    pub fn warning(code: &str, message: impl Into<String>, location: Option<Location>) -> Self {
        Self::new(Severity::Warning, code, message, location)
    }
    pub fn info(code: &str, message: impl Into<String>, location: Option<Location>) -> Self {
        Self::new(Severity::Info, code, message, location)
    }
    pub fn error(code: &str, message: impl Into<String>, location: Option<Location>) -> Self {
        Self::new(Severity::Error, code, message, location)
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match &self.location {
            Some(loc) => write!(f, "{sev}[{}]: {loc}: {}", self.code, self.message),
            None => write!(f, "{sev}[{}]: {}", self.code, self.message),
        }
    }
}

/// Why a file's content was not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Larger than the size limit; the size is in [`RepoFile::size`].
    TooLarge,
    /// Looks binary (NUL bytes in the first block).
    Binary,
    /// Not valid UTF-8 (content was decoded lossily instead, if read at all).
    NotUtf8,
    /// Not a kind of file any detector reads; only its path is recorded.
    NotOfInterest,
    /// Reading failed (permissions, I/O error).
    Unreadable,
}

/// One file of the repository as the connector saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoFile {
    /// Repository-relative path with `/` separators.
    pub path: String,
    pub size: u64,
    /// The text, when it was read (see [`content_wanted`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReason>,
}

/// The files of a repository, sorted by path, with a path index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<RepoFile>", into = "Vec<RepoFile>")]
pub struct FileSet {
    files: Vec<RepoFile>,
    index: HashMap<String, usize>,
}

impl From<Vec<RepoFile>> for FileSet {
    fn from(mut files: Vec<RepoFile>) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        let index = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        FileSet { files, index }
    }
}

impl From<FileSet> for Vec<RepoFile> {
    fn from(set: FileSet) -> Self {
        set.files
    }
}

impl FileSet {
    pub fn new(files: Vec<RepoFile>) -> Self {
        files.into()
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, RepoFile> {
        self.files.iter()
    }
    pub fn get(&self, path: &str) -> Option<&RepoFile> {
        self.index.get(path).map(|&i| &self.files[i])
    }
    pub fn contains(&self, path: &str) -> bool {
        self.index.contains_key(path)
    }
    /// The text of a file, when it was read.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(|f| f.content.as_deref())
    }
    /// Files directly or indirectly under a directory (`dir` without trailing slash; "" = all).
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a RepoFile> + 'a {
        let start = self.files.partition_point(|f| f.path.as_str() < dir);
        self.files[start..]
            .iter()
            .take_while(move |f| f.path.starts_with(dir))
            .filter(move |f| dir.is_empty() || f.path.as_bytes().get(dir.len()) == Some(&b'/'))
    }
    /// Drop all file contents (for compact JSON output).
    pub fn strip_contents(&mut self) {
        for f in &mut self.files {
            f.content = None;
        }
    }
}

/// Whether a connector should read a file's text for the detectors.
///
/// Everything else is recorded by path only. The list is deliberately broad (any
/// kind of file a detector rule may read) but leaves out data, media and docs
/// prose: prose never counts as evidence (see the practice catalog).
pub fn content_wanted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    const NAMES: &[&str] = &[
        "makefile",
        "gnumakefile",
        "dockerfile",
        "containerfile",
        "jenkinsfile",
        "codeowners",
        "procfile",
        "mlproject",
        "dvc.lock",
        "pipfile",
        "pipfile.lock",
        "justfile",
        "taskfile",
        "tiltfile",
        "vagrantfile",
        "noxfile.py",
        "tox.ini",
        "setup.cfg",
        ".gitattributes",
        ".gitignore",
        ".dvcignore",
        ".coveragerc",
        ".env.example",
        ".env.sample",
        "changelog",
        "changelog.md",
        "changes.md",
        "history.md",
        "changelog.rst",
        "bentofile.yaml",
        "pull_request_template.md",
        "merge_request_template.md",
        ".releaserc",
    ];
    if NAMES.contains(&lower.as_str())
        || lower.starts_with("dockerfile")
        || lower.starts_with("jenkinsfile")
    {
        return true;
    }
    let ext = match lower.rsplit_once('.') {
        Some((_, e)) => e,
        None => return false,
    };
    const EXTS: &[&str] = &[
        "py",
        "pyi",
        "ipynb",
        "r",
        "jl",
        "scala",
        "java",
        "kt",
        "go",
        "rs",
        "js",
        "mjs",
        "cjs",
        "ts",
        "yml",
        "yaml",
        "json",
        "jsonc",
        "toml",
        "cfg",
        "ini",
        "conf",
        "properties",
        "txt",
        "in",
        "sh",
        "bash",
        "zsh",
        "ps1",
        "bat",
        "cmd",
        "mk",
        "make",
        "groovy",
        "gradle",
        "tf",
        "tfvars",
        "hcl",
        "bicep",
        "jsonnet",
        "libsonnet",
        "cue",
        "rego",
        "pbtxt",
        "dvc",
        "lock",
        "env",
        "sql",
        "nf",
        "smk",
        "wdl",
        "cwl",
        "tpl",
        "j2",
        "jinja",
        "dockerfile",
        "containerfile",
    ];
    EXTS.contains(&ext)
}

/// Where a snapshot came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `local`, `github` or `gitlab`.
    pub kind: String,
    /// What the user named: a path, `github:owner/repo`, …
    pub target: String,
    /// The commit or ref scanned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitRef {
    pub name: String,
    pub commit: String,
    /// Commit (or tag) time, RFC 3339, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    /// RFC 3339.
    pub date: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// What git says about the checkout, when git metadata is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_branch: Option<String>,
    #[serde(default)]
    pub branches: Vec<GitRef>,
    #[serde(default)]
    pub tags: Vec<GitRef>,
    /// Most recent first, bounded.
    #[serde(default)]
    pub recent_commits: Vec<Commit>,
}

/// A slot for evidence only an API can give. `NotCollected` (local scans) and
/// `NotVisible` (no permission, feature off) are never read as "practice absent".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Observed<T> {
    #[default]
    NotCollected,
    NotVisible {
        reason: String,
    },
    Collected {
        items: T,
    },
}

impl<T> Observed<T> {
    pub fn items(&self) -> Option<&T> {
        match self {
            Observed::Collected { items } => Some(items),
            _ => None,
        }
    }
}

/// One CI run (GitHub workflow run, GitLab pipeline, Jenkins build).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiRun {
    pub id: String,
    /// Workflow or pipeline name/path.
    pub workflow: String,
    /// push, pull_request, schedule, workflow_dispatch, merge_request_event, …
    pub event: String,
    /// success, failure, cancelled, skipped, …
    pub conclusion: Option<String>,
    pub head_sha: Option<String>,
    pub branch: Option<String>,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub duration_seconds: Option<f64>,
    pub record: ApiRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    /// success, failure, error, inactive, in_progress, queued, pending, canceled, blocked, …
    pub state: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub environment: String,
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub created_at: String,
    /// Oldest first.
    pub statuses: Vec<DeploymentStatus>,
    pub record: ApiRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentInfo {
    pub name: String,
    /// GitLab tier (production, staging, …) when known.
    pub tier: Option<String>,
    pub required_reviewers: u32,
    pub wait_timer_minutes: u32,
    pub branch_policy: Option<String>,
    pub record: ApiRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub tag: String,
    pub name: Option<String>,
    pub created_at: String,
    pub prerelease: bool,
    pub record: ApiRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchProtection {
    pub branch: String,
    pub required_checks: Vec<String>,
    pub required_reviews: u32,
    pub code_owner_reviews: bool,
    pub linear_history: bool,
    pub record: ApiRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryVersion {
    /// container, package or model.
    pub kind: String,
    pub name: String,
    pub version: String,
    pub created_at: Option<String>,
    pub record: ApiRecord,
}

/// Evidence only APIs and history give. Local scans leave every slot `NotCollected`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiEvidence {
    #[serde(default)]
    pub runs: Observed<Vec<CiRun>>,
    #[serde(default)]
    pub deployments: Observed<Vec<Deployment>>,
    #[serde(default)]
    pub environments: Observed<Vec<EnvironmentInfo>>,
    #[serde(default)]
    pub releases: Observed<Vec<Release>>,
    #[serde(default)]
    pub branch_protection: Observed<Vec<BranchProtection>>,
    #[serde(default)]
    pub registry_versions: Observed<Vec<RegistryVersion>>,
    /// What an MLflow-compatible model registry showed (`scan --mlflow-uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<crate::connect::mlflow::RegistryEvidence>,
}

/// Counters about the scan itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    pub files_seen: u64,
    pub files_read: u64,
    pub bytes_read: u64,
    pub files_skipped: u64,
}

/// Everything a connector saw of one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    pub source: Source,
    pub files: FileSet,
    #[serde(default)]
    pub pipelines: Vec<Pipeline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitMeta>,
    #[serde(default)]
    pub api: ApiEvidence,
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
    #[serde(default)]
    pub stats: ScanStats,
}

impl Snapshot {
    pub fn new(source: Source, files: FileSet) -> Self {
        Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            source,
            files,
            pipelines: Vec::new(),
            git: None,
            api: ApiEvidence::default(),
            diagnostics: Vec::new(),
            stats: ScanStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: Option<&str>) -> RepoFile {
        RepoFile {
            path: path.into(),
            size: text.map_or(0, |t| t.len() as u64),
            content: text.map(Arc::from),
            skipped: None,
        }
    }

    #[test]
    fn fileset_index_and_under() {
        let set = FileSet::new(vec![
            file("src/b.py", Some("b")),
            file("a.txt", None),
            file("src/a.py", Some("a")),
            file("srcx/c.py", None),
        ]);
        assert_eq!(set.len(), 4);
        assert_eq!(set.text("src/a.py"), Some("a"));
        assert_eq!(set.text("a.txt"), None);
        let under: Vec<_> = set.under("src").map(|f| f.path.as_str()).collect();
        assert_eq!(under, ["src/a.py", "src/b.py"]);
        assert_eq!(set.under("").count(), 4);
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let mut snap = Snapshot::new(
            Source {
                kind: "local".into(),
                target: ".".into(),
                revision: None,
            },
            FileSet::new(vec![file("x.yml", Some("a: 1"))]),
        );
        snap.diagnostics.push(Diagnostic::warning(
            "yaml-syntax",
            "bad",
            Some(Location::new("x.yml", 3)),
        ));
        let json = serde_json::to_string(&snap).expect("serialise");
        let back: Snapshot = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, snap);
        assert_eq!(back.files.text("x.yml"), Some("a: 1"));
    }

    #[test]
    fn content_policy() {
        assert!(content_wanted(".github/workflows/ci.yml"));
        assert!(content_wanted("Makefile"));
        assert!(content_wanted("docker/Dockerfile.gpu"));
        assert!(content_wanted("requirements-dev.txt"));
        assert!(!content_wanted("data/train.csv"));
        assert!(!content_wanted("img/logo.png"));
        assert!(!content_wanted("model.pt"));
    }

    #[test]
    fn location_display() {
        assert_eq!(Location::new("a.yml", 0).to_string(), "a.yml");
        assert_eq!(Location::new("a.yml", 3).to_string(), "a.yml:3");
        assert_eq!(
            Location::with_column("a.yml", 3, 5).to_string(),
            "a.yml:3:5"
        );
    }
}
