//! Git metadata of a local checkout: HEAD, branches, tags and recent history.
//!
//! Refs are read straight from the `.git` directory (HEAD, loose refs, packed-refs),
//! so a scan works without git installed. Only dates, annotated-tag targets and the
//! commit history need the object database; for those the `git` binary is run with
//! a hardened command line (see [`run_git`]). When git is missing or fails, the
//! metadata is refs-only and an Info diagnostic says so.
//!
//! Every file under `.git` is treated as hostile: reads are size-bounded, only
//! regular files are opened (a FIFO named HEAD must not hang the scan), directory
//! walks neither follow symlinks nor go deeper or wider than a fixed bound, and ref
//! names that could escape the git directory are refused.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::evidence::{Commit, Diagnostic, GitMeta, GitRef};

/// How many commits of history the snapshot keeps (most recent first).
pub const RECENT_COMMITS: usize = 200;
/// Bound on refs read per namespace (branches, tags).
const MAX_REFS: usize = 10_000;
/// Loose refs and HEAD are one line; anything longer is not a ref.
const MAX_REF_FILE: u64 = 4 * 1024;
const MAX_PACKED_REFS: u64 = 64 * 1024 * 1024;
const MAX_REF_DEPTH: usize = 16;
const GIT_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_GIT_OUTPUT: u64 = 16 * 1024 * 1024;

/// Where a checkout keeps its git data. For a linked worktree (`.git` is a file
/// `gitdir: …`), HEAD lives in the worktree's own directory while branches, tags
/// and packed-refs live in the common directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitDirs {
    pub git_dir: PathBuf,
    pub common_dir: PathBuf,
}

/// The git directory of `root`, if `root` is the top of a checkout.
pub fn find_git_dir(root: &Path) -> Option<GitDirs> {
    let dot_git = root.join(".git");
    let meta = fs::metadata(&dot_git).ok()?;
    let git_dir = if meta.is_dir() {
        dot_git
    } else if meta.is_file() {
        let text = read_small(&dot_git, MAX_REF_FILE)?;
        let target = text.trim().strip_prefix("gitdir:")?.trim();
        let target = Path::new(target);
        let dir = if target.is_absolute() {
            target.to_path_buf()
        } else {
            root.join(target)
        };
        if !dir.is_dir() {
            return None;
        }
        dir
    } else {
        return None;
    };
    if !git_dir.join("HEAD").is_file() {
        return None;
    }
    let common_dir = match read_small(&git_dir.join("commondir"), MAX_REF_FILE) {
        Some(text) if !text.trim().is_empty() => {
            let c = Path::new(text.trim());
            let dir = if c.is_absolute() {
                c.to_path_buf()
            } else {
                git_dir.join(c)
            };
            if dir.is_dir() { dir } else { git_dir.clone() }
        }
        _ => git_dir.clone(),
    };
    Some(GitDirs {
        git_dir,
        common_dir,
    })
}

/// Read git metadata of the checkout at `root`. `None` when `root` has no git
/// directory; diagnostics explain anything that could not be read.
pub fn read(root: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<GitMeta> {
    read_with(root, diagnostics, "git")
}

/// [`read`] with the git program named (tests use a missing one).
fn read_with(root: &Path, diagnostics: &mut Vec<Diagnostic>, program: &str) -> Option<GitMeta> {
    let dirs = find_git_dir(root)?;
    let mut meta = read_refs(&dirs);
    match enrich_with_git(&dirs, &mut meta, program) {
        Ok(()) => {}
        Err(GitFailure::Missing) => diagnostics.push(Diagnostic::info(
            "git-unavailable",
            "the git binary was not found: branches and tags read from .git without dates, no commit history",
            None,
        )),
        Err(GitFailure::Failed(why)) => diagnostics.push(Diagnostic::info(
            "git-metadata-incomplete",
            format!("git could not read the history ({why}): refs only"),
            None,
        )),
    }
    Some(meta)
}

/// HEAD, branches and tags from the files under `.git`, without running git.
pub fn read_refs(dirs: &GitDirs) -> GitMeta {
    let packed = read_packed_refs(&dirs.common_dir);
    let mut meta = GitMeta::default();
    if let Some(head) = read_small(&dirs.git_dir.join("HEAD"), MAX_REF_FILE) {
        let head = head.trim();
        if let Some(target) = head.strip_prefix("ref:") {
            let target = target.trim();
            meta.current_branch = target.strip_prefix("refs/heads/").map(str::to_string);
            meta.head = resolve_ref(dirs, &packed, target, 0);
        } else if is_object_id(head) {
            meta.head = Some(head.to_string());
        }
    }
    meta.branches = list_refs(dirs, &packed, "refs/heads/");
    meta.tags = list_refs(dirs, &packed, "refs/tags/");
    meta
}

/// One entry of packed-refs: the object the ref names and, for an annotated tag,
/// the commit it peels to (`^` line).
#[derive(Debug, Clone, Default)]
struct PackedRef {
    object: String,
    peeled: Option<String>,
}

fn read_packed_refs(common_dir: &Path) -> BTreeMap<String, PackedRef> {
    let mut refs = BTreeMap::new();
    let Some(text) = read_small(&common_dir.join("packed-refs"), MAX_PACKED_REFS) else {
        return refs;
    };
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(peeled) = line.strip_prefix('^') {
            if let Some(entry) = last.as_ref().and_then(|name| refs.get_mut(name))
                && is_object_id(peeled.trim())
            {
                let entry: &mut PackedRef = entry;
                entry.peeled = Some(peeled.trim().to_string());
            }
            continue;
        }
        let Some((object, name)) = line.split_once(' ') else {
            continue;
        };
        if !is_object_id(object) || !is_safe_ref_name(name) {
            continue;
        }
        refs.insert(
            name.to_string(),
            PackedRef {
                object: object.to_string(),
                peeled: None,
            },
        );
        last = Some(name.to_string());
    }
    refs
}

/// The object id a ref points to, following symbolic refs a few levels.
fn resolve_ref(
    dirs: &GitDirs,
    packed: &BTreeMap<String, PackedRef>,
    name: &str,
    depth: usize,
) -> Option<String> {
    if depth > 5 || !is_safe_ref_name(name) {
        return None;
    }
    // Per-worktree refs (HEAD-like, refs/bisect) live in git_dir; shared ones in common_dir.
    for dir in [&dirs.git_dir, &dirs.common_dir] {
        if let Some(text) = read_small(&dir.join(name), MAX_REF_FILE) {
            let text = text.trim();
            if let Some(next) = text.strip_prefix("ref:") {
                return resolve_ref(dirs, packed, next.trim(), depth + 1);
            }
            if is_object_id(text) {
                return Some(text.to_string());
            }
        }
    }
    packed.get(name).map(|p| p.object.clone())
}

/// Loose and packed refs under `prefix` (`refs/heads/` or `refs/tags/`), sorted by
/// short name. A loose ref wins over a packed one of the same name (git's rule).
fn list_refs(dirs: &GitDirs, packed: &BTreeMap<String, PackedRef>, prefix: &str) -> Vec<GitRef> {
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for (name, p) in packed.range(prefix.to_string()..) {
        if !name.starts_with(prefix) || found.len() >= MAX_REFS {
            break;
        }
        // For annotated tags the commit is the peeled object.
        let commit = p.peeled.clone().unwrap_or_else(|| p.object.clone());
        found.insert(name.clone(), commit);
    }
    let mut loose = Vec::new();
    collect_loose(
        &dirs.common_dir.join(prefix.trim_end_matches('/')),
        prefix.trim_end_matches('/'),
        0,
        &mut loose,
    );
    for (name, object) in loose {
        found.insert(name, object);
    }
    found
        .into_iter()
        .take(MAX_REFS)
        .filter_map(|(name, commit)| {
            Some(GitRef {
                name: name.strip_prefix(prefix)?.to_string(),
                commit,
                date: None,
            })
        })
        .collect()
}

fn collect_loose(dir: &Path, name: &str, depth: usize, out: &mut Vec<(String, String)>) {
    if depth > MAX_REF_DEPTH || out.len() >= MAX_REFS {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() >= MAX_REFS {
            return;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let child = format!("{name}/{file_name}");
        if file_type.is_dir() {
            collect_loose(&entry.path(), &child, depth + 1, out);
        } else if file_type.is_file()
            && let Some(text) = read_small(&entry.path(), MAX_REF_FILE)
            && is_object_id(text.trim())
            && is_safe_ref_name(&child)
        {
            out.push((child, text.trim().to_string()));
        }
    }
}

/// A hex object id (SHA-1 or SHA-256).
fn is_object_id(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Ref names that cannot address a file outside the git directory.
fn is_safe_ref_name(name: &str) -> bool {
    (name == "HEAD" || name.starts_with("refs/"))
        && !name.contains('\\')
        && !name.contains('\0')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Read a small regular file as text. Non-regular files (a FIFO would block) and
/// files over `cap` bytes are refused.
fn read_small(path: &Path, cap: u64) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > cap {
        return None;
    }
    let file = fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(cap).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Debug)]
enum GitFailure {
    /// No git binary on PATH.
    Missing,
    Failed(String),
}

/// Add dates, annotated-tag commits and the recent history, using git.
fn enrich_with_git(dirs: &GitDirs, meta: &mut GitMeta, program: &str) -> Result<(), GitFailure> {
    const SEP: char = '\u{1f}';
    let refs = run_git(
        program,
        &dirs.git_dir,
        &[
            "for-each-ref",
            "--format=%(refname)%1f%(objectname)%1f%(*objectname)%1f%(creatordate:iso-strict)",
            "refs/heads",
            "refs/tags",
        ],
    )?;
    let mut by_name: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
    for line in refs.lines() {
        let mut parts = line.split(SEP);
        if let (Some(name), Some(object), Some(peeled), Some(date)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            by_name.insert(name, (object, peeled, date));
        }
    }
    for (prefix, list) in [
        ("refs/heads/", &mut meta.branches),
        ("refs/tags/", &mut meta.tags),
    ] {
        for r in list.iter_mut() {
            if let Some((object, peeled, date)) =
                by_name.get(format!("{prefix}{}", r.name).as_str())
            {
                let commit = if peeled.is_empty() { object } else { peeled };
                if is_object_id(commit) {
                    r.commit = commit.to_string();
                }
                if !date.is_empty() {
                    r.date = Some(date.to_string());
                }
            }
        }
    }

    // An unborn branch (fresh `git init`) has no history to read.
    if meta.head.is_none() {
        return Ok(());
    }
    let count = format!("--max-count={RECENT_COMMITS}");
    let log = run_git(
        program,
        &dirs.git_dir,
        &[
            "log",
            &count,
            "--no-color",
            "--no-decorate",
            "-z",
            "--format=%H%x1f%cI%x1f%an%x1f%s",
            "HEAD",
            "--",
        ],
    )?;
    meta.recent_commits = parse_log(&log);
    Ok(())
}

/// Parse `git log -z --format=%H%x1f%cI%x1f%an%x1f%s` output.
fn parse_log(text: &str) -> Vec<Commit> {
    text.split('\0')
        .filter_map(|record| {
            let mut parts = record.trim_start_matches('\n').splitn(4, '\u{1f}');
            let sha = parts.next()?;
            let date = parts.next()?;
            let author = parts.next()?;
            let subject = parts.next().unwrap_or("");
            is_object_id(sha).then(|| Commit {
                sha: sha.to_string(),
                date: date.to_string(),
                subject: subject.to_string(),
                author: (!author.is_empty()).then(|| author.to_string()),
            })
        })
        .take(RECENT_COMMITS)
        .collect()
}

/// Run a read-only git command against `git_dir` and return its stdout.
///
/// Why this is safe on a hostile repository: `log` and `for-each-ref` only read
/// refs and objects. They run no hooks (hooks belong to commit, checkout, merge,
/// push…; `core.hooksPath=/dev/null` is belt and braces), never start an fsmonitor
/// (they do not read the index; `core.fsmonitor=false` anyway), never start a pager
/// (`--no-pager`) and never touch the network. The one repository setting that
/// could make `log` execute a program is `log.showSignature` (runs `gpg.program`),
/// so it is forced off on the command line, which beats repository config. No diff
/// is requested, so `diff.external` and textconv drivers are never used. System
/// config is skipped (GIT_CONFIG_NOSYSTEM), prompts are off (GIT_TERMINAL_PROMPT=0),
/// no lock files are written (GIT_OPTIONAL_LOCKS=0), and `safe.directory=*` lets us
/// read a checkout owned by another user, which is safe precisely because nothing is
/// executed. Output is capped and the process is killed after a timeout.
fn run_git(program: &str, git_dir: &Path, args: &[&str]) -> Result<String, GitFailure> {
    let mut command = Command::new(program);
    command
        .arg("--no-pager")
        .arg("--no-replace-objects")
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "safe.directory=*",
            "-c",
            "log.showSignature=false",
            "-c",
            "core.quotePath=false",
        ])
        .arg("--git-dir")
        .arg(git_dir)
        .args(args)
        .current_dir(git_dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_EXTERNAL_DIFF")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            GitFailure::Missing
        } else {
            GitFailure::Failed(format!("cannot start git: {e}"))
        }
    })?;
    // Drain both pipes on their own threads so a chatty git cannot block on a full
    // pipe; reading stops at the cap (git then gets SIGPIPE and exits).
    let stdout = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.take(MAX_GIT_OUTPUT + 1).read_to_end(&mut bytes);
            bytes
        })
    });
    let stderr = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = err.take(4096).read_to_end(&mut bytes);
            bytes
        })
    });
    let deadline = Instant::now() + GIT_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(GitFailure::Failed(format!(
                    "git {} timed out after {}s",
                    args.first().unwrap_or(&""),
                    GIT_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(GitFailure::Failed(format!("waiting for git: {e}"))),
        }
    };
    let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        let message = String::from_utf8_lossy(&err);
        return Err(GitFailure::Failed(format!(
            "git {} failed: {}",
            args.first().unwrap_or(&""),
            message.lines().next().unwrap_or("no message").trim()
        )));
    }
    if out.len() as u64 > MAX_GIT_OUTPUT {
        return Err(GitFailure::Failed(format!(
            "git {} output over {MAX_GIT_OUTPUT} bytes",
            args.first().unwrap_or(&"")
        )));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const C: &str = "3333333333333333333333333333333333333333";

    fn fake_git_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        fs::create_dir_all(git.join("refs/heads/feature")).unwrap();
        fs::create_dir_all(git.join("refs/tags")).unwrap();
        fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        fs::write(git.join("refs/heads/main"), format!("{A}\n")).unwrap();
        fs::write(git.join("refs/heads/feature/x"), format!("{B}\n")).unwrap();
        fs::write(git.join("refs/tags/junk"), "not a sha\n").unwrap();
        fs::write(
            git.join("packed-refs"),
            format!(
                "# pack-refs with: peeled fully-peeled sorted\n{C} refs/heads/main\n{B} refs/tags/v1.0\n^{A}\n{C} refs/tags/v0.9\n{A} ../../etc/passwd\n"
            ),
        )
        .unwrap();
        dir
    }

    #[test]
    fn refs_are_read_without_git() {
        let dir = fake_git_dir();
        let dirs = find_git_dir(dir.path()).unwrap();
        let meta = read_refs(&dirs);
        assert_eq!(meta.current_branch.as_deref(), Some("main"));
        // The loose ref wins over the stale packed one.
        assert_eq!(meta.head.as_deref(), Some(A));
        let branches: Vec<_> = meta
            .branches
            .iter()
            .map(|r| (r.name.as_str(), r.commit.as_str()))
            .collect();
        assert_eq!(branches, [("feature/x", B), ("main", A)]);
        let tags: Vec<_> = meta
            .tags
            .iter()
            .map(|r| (r.name.as_str(), r.commit.as_str()))
            .collect();
        // v1.0 is annotated: its commit is the peeled object.
        assert_eq!(tags, [("v0.9", C), ("v1.0", A)]);
    }

    #[test]
    fn detached_head_and_worktree_file() {
        let dir = fake_git_dir();
        let main_git = dir.path().join(".git");
        let wt_git = main_git.join("worktrees/wt");
        fs::create_dir_all(&wt_git).unwrap();
        fs::write(wt_git.join("HEAD"), format!("{B}\n")).unwrap();
        fs::write(wt_git.join("commondir"), "../..\n").unwrap();
        let checkout = dir.path().join("wt");
        fs::create_dir_all(&checkout).unwrap();
        fs::write(
            checkout.join(".git"),
            format!("gitdir: {}\n", wt_git.display()),
        )
        .unwrap();
        let dirs = find_git_dir(&checkout).unwrap();
        assert_eq!(dirs.git_dir, wt_git);
        let meta = read_refs(&dirs);
        assert_eq!(meta.head.as_deref(), Some(B));
        assert_eq!(meta.current_branch, None);
        assert_eq!(meta.branches.len(), 2, "branches come from the common dir");
    }

    #[test]
    fn hostile_ref_names_are_refused() {
        assert!(is_safe_ref_name("refs/heads/main"));
        assert!(!is_safe_ref_name("refs/../../etc/passwd"));
        assert!(!is_safe_ref_name("/etc/passwd"));
        assert!(!is_safe_ref_name("refs//x"));
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        fs::create_dir_all(&git).unwrap();
        fs::write(git.join("HEAD"), "ref: refs/../../../etc/hostname\n").unwrap();
        let meta = read_refs(&find_git_dir(dir.path()).unwrap());
        assert_eq!(meta.head, None);
    }

    #[test]
    fn log_output_is_parsed() {
        let text = format!(
            "{A}\u{1f}2024-05-01T10:00:00+02:00\u{1f}Ada\u{1f}Release v1\0\n{B}\u{1f}2024-04-01T10:00:00Z\u{1f}\u{1f}fix: a\u{1f}b\0"
        );
        let commits = parse_log(&text);
        assert_eq!(commits.len(), 2);
        assert_eq!(commits[0].subject, "Release v1");
        assert_eq!(commits[0].author.as_deref(), Some("Ada"));
        assert_eq!(commits[1].author, None);
        assert_eq!(commits[1].subject, "fix: a\u{1f}b");
        assert_eq!(commits[1].date, "2024-04-01T10:00:00Z");
    }

    #[test]
    fn missing_git_binary_gives_refs_only_and_a_note() {
        let dir = fake_git_dir();
        let mut diags = Vec::new();
        let meta = read_with(dir.path(), &mut diags, "no-such-git-binary-for-tests").unwrap();
        assert_eq!(meta.head.as_deref(), Some(A));
        assert_eq!(meta.tags.len(), 2);
        assert!(meta.tags.iter().all(|t| t.date.is_none()));
        assert!(meta.recent_commits.is_empty());
        let codes: Vec<_> = diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["git-unavailable"]);
    }

    #[test]
    fn git_failing_on_a_fake_repository_is_a_note() {
        if !git_available() {
            return;
        }
        // Refs point at objects that do not exist: git fails, refs are still reported.
        let dir = fake_git_dir();
        let mut diags = Vec::new();
        let meta = read(dir.path(), &mut diags).unwrap();
        assert_eq!(meta.branches.len(), 2);
        let codes: Vec<_> = diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["git-metadata-incomplete"], "{diags:?}");
    }

    fn git_available() -> bool {
        Command::new("git")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn real_repository_history_and_tag_dates() {
        if !git_available() {
            eprintln!("git not installed: skipping");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com"])
                .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
                .args(args)
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_COMMITTER_DATE", "2024-05-01T10:00:00Z")
                .env("GIT_AUTHOR_DATE", "2024-05-01T10:00:00Z")
                .output()
                .unwrap();
            assert!(out.status.success(), "{:?}", out);
        };
        git(&["init", "-q", "-b", "trunk"]);
        fs::write(dir.path().join("a.txt"), "a").unwrap();
        git(&["add", "a.txt"]);
        git(&["commit", "-q", "-m", "first commit"]);
        git(&["tag", "-a", "v1", "-m", "release one"]);
        git(&["commit", "-q", "--allow-empty", "-m", "second"]);
        let mut diags = Vec::new();
        let meta = read(dir.path(), &mut diags).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(meta.current_branch.as_deref(), Some("trunk"));
        let subjects: Vec<_> = meta
            .recent_commits
            .iter()
            .map(|c| c.subject.as_str())
            .collect();
        assert_eq!(subjects, ["second", "first commit"]);
        assert_eq!(
            meta.head.as_deref(),
            Some(meta.recent_commits[0].sha.as_str())
        );
        assert_eq!(meta.recent_commits[0].date, "2024-05-01T10:00:00Z");
        assert_eq!(meta.tags.len(), 1);
        // The annotated tag is peeled to the first commit and dated.
        assert_eq!(meta.tags[0].commit, meta.recent_commits[1].sha);
        assert_eq!(meta.tags[0].date.as_deref(), Some("2024-05-01T10:00:00Z"));
    }

    #[test]
    fn unborn_branch_has_no_history_and_no_error() {
        if !git_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("git")
            .args(["init", "-q", "-b", "main"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut diags = Vec::new();
        let meta = read(dir.path(), &mut diags).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(meta.current_branch.as_deref(), Some("main"));
        assert_eq!(meta.head, None);
        assert!(meta.recent_commits.is_empty());
    }
}
