//! Organisation-wide scans (`scan-org`, `merge`): list the repositories of a GitHub
//! organisation or a GitLab group, filter and shard them, scan each through the
//! existing connector with bounded concurrency, and write one `report/v1` per
//! repository plus an org summary (JSON, Markdown, CSV, HTML dashboard).
//!
//! Layout of an output folder:
//! - `run.json` — the manifest ([`Manifest`]): run id, target, shard, every
//!   selected repository with its status (`done`, `failed`, `pending`) and request count;
//! - `repos/<name>.json` — the report of each scanned repository;
//! - `summary.json`, `summary.md`, `summary.csv`, `index.html` — the org summary.
//!
//! `--resume` reuses the manifest's run id and skips repositories already `done`
//! whose report exists. `merge` reads several folders' manifests (shards) and
//! writes one summary; merging shards gives the same summary as one run.

pub mod assess;
pub mod history;
pub mod list;
pub mod run;
pub mod summary;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

pub use list::{OrgTarget, RepoEntry};

/// Manifest schema name.
pub const RUN_SCHEMA: &str = "mlops-maturity/org-run/v1";

/// Which repositories of the listing to scan.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub include_archived: bool,
    pub include_forks: bool,
    /// Name globs (matched against the short and the full name); empty: all.
    pub include: Vec<GlobMatcher>,
    pub exclude: Vec<GlobMatcher>,
    /// Topics of which a repository must carry at least one; empty: any.
    pub topics: Vec<String>,
    pub exclude_topics: Vec<String>,
    /// Languages (case-insensitive) of which one must be the main one; empty: any.
    pub languages: Vec<String>,
}

impl Filters {
    /// Compile name globs; an invalid glob is named in the error.
    pub fn globs(patterns: &[String]) -> Result<Vec<GlobMatcher>, String> {
        patterns
            .iter()
            .map(|p| {
                Glob::new(p)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("{p}: {e}"))
            })
            .collect()
    }

    pub fn accepts(&self, repo: &RepoEntry) -> bool {
        let named = |g: &GlobMatcher| g.is_match(&repo.name) || g.is_match(&repo.full_name);
        let has_topic = |t: &String| repo.topics.iter().any(|r| r.eq_ignore_ascii_case(t));
        (self.include_archived || !repo.archived)
            && (self.include_forks || !repo.fork)
            && (self.include.is_empty() || self.include.iter().any(named))
            && !self.exclude.iter().any(named)
            && (self.topics.is_empty() || self.topics.iter().any(has_topic))
            && !self.exclude_topics.iter().any(has_topic)
            && (self.languages.is_empty()
                || repo
                    .language
                    .as_ref()
                    .is_some_and(|l| self.languages.iter().any(|w| w.eq_ignore_ascii_case(l))))
    }
}

/// `--shard i/n`: 1-based index and count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard {text}: expected I/N, e.g. 2/4"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("--shard {text}: I is not a number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard {text}: N is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("--shard {text}: need 1 <= I <= N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard owns the repository: a stable hash (FNV-1a, 64 bits) of
    /// the full name, so the split does not depend on the listing order, the
    /// platform or the tool version.
    pub fn owns(&self, full_name: &str) -> bool {
        stable_hash(full_name) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// FNV-1a over the bytes.
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// State of one repository in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Done,
    Failed,
}

/// One selected repository in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoRun {
    /// The scan target (`github:o/r`).
    pub target: String,
    pub full_name: String,
    /// Report file relative to the output folder.
    pub file: String,
    pub status: Status,
    #[serde(default)]
    pub error: Option<String>,
    /// HTTP requests of its scan (retries and 304s included).
    #[serde(default)]
    pub requests: u32,
    /// Run id that wrote the report.
    #[serde(default)]
    pub run_id: Option<String>,
}

/// `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub run_id: String,
    pub target: String,
    #[serde(default)]
    pub shard: Option<Shard>,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Repositories listed before filtering.
    #[serde(default)]
    pub listed: usize,
    #[serde(default)]
    pub listing_requests: u32,
    pub repos: Vec<RepoRun>,
}

/// A file name for a repository's report: the full name with every character
/// outside `[A-Za-z0-9._-]` replaced, `/` as `__`, never `.`/`..` or hidden.
pub fn file_name(full_name: &str) -> String {
    let mut out = String::new();
    for ch in full_name.chars() {
        match ch {
            '/' => out.push_str("__"),
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => out.push(c),
            _ => out.push('_'),
        }
    }
    if out.starts_with('.') || out.is_empty() {
        out.insert(0, '_');
    }
    out.truncate(200);
    format!("repos/{out}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str) -> RepoEntry {
        RepoEntry {
            full_name: format!("o/{name}"),
            name: name.into(),
            archived: false,
            fork: false,
            topics: vec!["ml".into()],
            language: Some("Python".into()),
        }
    }

    #[test]
    fn filters_skip_archived_and_forks_by_default() {
        let f = Filters::default();
        let mut r = repo("a");
        assert!(f.accepts(&r));
        r.archived = true;
        assert!(!f.accepts(&r));
        let f = Filters {
            include_archived: true,
            ..Default::default()
        };
        assert!(f.accepts(&r));
        let mut r = repo("b");
        r.fork = true;
        assert!(!Filters::default().accepts(&r));
    }

    #[test]
    fn filters_by_glob_topic_language() {
        let f = Filters {
            include: Filters::globs(&["ml-*".into()]).unwrap(),
            exclude: Filters::globs(&["*-old".into()]).unwrap(),
            topics: vec!["ML".into()],
            languages: vec!["python".into()],
            ..Default::default()
        };
        assert!(f.accepts(&repo("ml-ranker")));
        assert!(!f.accepts(&repo("ml-ranker-old")));
        assert!(!f.accepts(&repo("web")));
        let mut r = repo("ml-x");
        r.language = Some("Go".into());
        assert!(!f.accepts(&r));
        assert!(Filters::globs(&["[".into()]).is_err());
    }

    #[test]
    fn shards_partition_the_list() {
        let names: Vec<String> = (0..300).map(|i| format!("o/repo-{i:03}")).collect();
        let n = 4;
        let mut owned = vec![0; n as usize];
        for name in &names {
            let owners: Vec<u32> = (1..=n)
                .filter(|&i| Shard { index: i, count: n }.owns(name))
                .collect();
            assert_eq!(owners.len(), 1, "{name} owned by {owners:?}");
            owned[(owners[0] - 1) as usize] += 1;
        }
        assert!(owned.iter().all(|&c| c > 40), "uneven split {owned:?}");
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("0/4").is_err());
        assert!(Shard::parse("5/4").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("o/r"), "repos/o__r.json");
        assert_eq!(file_name("g/s/p"), "repos/g__s__p.json");
        assert_eq!(file_name("../x"), "repos/_..__x.json");
        assert_eq!(file_name("<b>"), "repos/_b_.json");
    }
}
