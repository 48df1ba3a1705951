//! The local connector: walk a checkout and read what detectors need.
//!
//! Respects .gitignore, never follows symlinks out of the repository, skips binary
//! and over-size files with a diagnostic, and reads git metadata where present.
//! Nothing from the repository is executed.
//!
//! The walk is parallel (the `ignore` crate's walker, one visitor per thread); each
//! visitor collects into its own vectors and hands them over once when it is dropped,
//! so the threads never contend on a lock per file. Results are sorted afterwards so
//! the snapshot does not depend on thread timing.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ignore::overrides::OverrideBuilder;
use ignore::{DirEntry, WalkBuilder, WalkState};

use crate::evidence::{
    Diagnostic, FileSet, Location, RepoFile, ScanStats, Severity, SkipReason, Snapshot, Source,
    content_wanted,
};

use super::{ConnectError, ConnectOptions};

/// Bytes inspected for NUL when deciding whether a file is binary (as git does).
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// Upper bound on the text kept in memory for one scan, whatever the number of
/// files: a repository of a million small configs must not exhaust memory. Files
/// past the budget are recorded as `TooLarge` with one warning.
const TOTAL_READ_BUDGET: u64 = 1024 * 1024 * 1024;

/// Scan a local directory into a [`Snapshot`] (files and git metadata; pipelines are
/// parsed by [`super::scan_local`]).
///
/// Fails only when `path` does not exist or is not a directory; everything else
/// (unreadable files, hostile symlinks, binary content) becomes a diagnostic.
pub fn collect(path: &Path, options: &ConnectOptions) -> Result<Snapshot, ConnectError> {
    let shown = path.display().to_string();
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConnectError::NotFound { path: shown });
        }
        Err(source) => {
            return Err(ConnectError::Io {
                path: shown,
                source,
            });
        }
    };
    if !meta.is_dir() {
        return Err(ConnectError::NotADirectory { path: shown });
    }
    // Walk the canonical root so that "does this symlink stay inside?" is a plain
    // prefix test on canonical paths.
    let root = fs::canonicalize(path).map_err(|source| ConnectError::Io {
        path: shown.clone(),
        source,
    })?;

    let mut diagnostics = Vec::new();
    let walked = walk(&root, options, &mut diagnostics);

    let mut stats = ScanStats::default();
    for f in &walked.files {
        stats.files_seen += 1;
        match (&f.content, &f.skipped) {
            (Some(text), _) => {
                stats.files_read += 1;
                stats.bytes_read += text.len() as u64;
            }
            (None, Some(SkipReason::NotOfInterest)) => {}
            (None, _) => stats.files_skipped += 1,
        }
    }
    diagnostics.extend(walked.diagnostics);

    if walked.files.is_empty() {
        diagnostics.push(Diagnostic::info(
            "empty-repository",
            format!("{shown}: no files to scan"),
            None,
        ));
    }

    let mut snapshot = Snapshot::new(
        Source {
            kind: "local".into(),
            target: shown.clone(),
            revision: None,
        },
        FileSet::new(walked.files),
    );

    if super::git::find_git_dir(&root).is_none() {
        diagnostics.push(Diagnostic::info(
            "not-a-git-repository",
            format!(
                "{shown} is not a git repository: git metadata (tags, branches, history) not read"
            ),
            None,
        ));
    } else if options.git_metadata {
        if let Some(meta) = super::git::read(&root, &mut diagnostics) {
            snapshot.source.revision = meta.head.clone();
            snapshot.git = Some(meta);
        }
    }

    sort_diagnostics(&mut diagnostics);
    snapshot.diagnostics = diagnostics;
    snapshot.stats = stats;
    Ok(snapshot)
}

/// Order diagnostics by file, then line, then code, so output is stable across runs.
fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.location.as_ref().map(|l| (l.path.clone(), l.line)),
                d.code.clone(),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
}

#[derive(Default)]
struct Walked {
    files: Vec<RepoFile>,
    diagnostics: Vec<Diagnostic>,
}

/// State shared by all walker threads.
struct Shared<'a> {
    root: &'a Path,
    max_file_size: u64,
    out: Mutex<Walked>,
    budget_used: AtomicU64,
    budget_warned: AtomicBool,
}

/// One walker thread's results; handed to [`Shared::out`] when the thread's visitor
/// is dropped at the end of the walk.
struct Batch<'s, 'a> {
    shared: &'s Shared<'a>,
    local: Walked,
}

impl Drop for Batch<'_, '_> {
    fn drop(&mut self) {
        let mut out = self
            .shared
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.files.append(&mut self.local.files);
        out.diagnostics.append(&mut self.local.diagnostics);
    }
}

fn walk(root: &Path, options: &ConnectOptions, diagnostics: &mut Vec<Diagnostic>) -> Walked {
    let mut builder = WalkBuilder::new(root);
    builder
        // Hidden files matter: .github/, .gitlab-ci.yml, .dvc/, .pre-commit-config.yaml.
        .hidden(false)
        // A plain folder (an unpacked archive, a CI workspace) still has .gitignore files
        // that say what is not source.
        .require_git(false)
        // The user's global excludes describe their machine, not the repository; leaving
        // them out keeps scans of the same checkout identical across machines.
        .git_global(false)
        // Ignore files above the scanned folder are not read: for a checkout root git
        // ignores them too, and the walker would otherwise honour every .gitignore up to
        // `/` (a dotfiles `*` in a home directory would hide the whole scan). A scanned
        // subfolder therefore uses only the ignore files inside it.
        .parents(false)
        .follow_links(false)
        .threads(0)
        .filter_entry(|entry| entry.file_name() != ".git");
    if !options.exclude.is_empty() {
        let mut overrides = OverrideBuilder::new(root);
        for glob in &options.exclude {
            // In an override set, a plain glob whitelists and a `!glob` ignores.
            let pattern = format!("!{}", glob.trim_start_matches('!'));
            if let Err(e) = overrides.add(&pattern) {
                diagnostics.push(Diagnostic::warning(
                    "invalid-exclude",
                    format!("exclude pattern `{glob}` ignored: {e}"),
                    None,
                ));
            }
        }
        match overrides.build() {
            Ok(set) => {
                builder.overrides(set);
            }
            Err(e) => diagnostics.push(Diagnostic::warning(
                "invalid-exclude",
                format!("exclude patterns ignored: {e}"),
                None,
            )),
        }
    }

    let shared = Shared {
        root,
        max_file_size: options.max_file_size,
        out: Mutex::new(Walked::default()),
        budget_used: AtomicU64::new(0),
        budget_warned: AtomicBool::new(false),
    };
    builder.build_parallel().run(|| {
        let mut batch = Batch {
            shared: &shared,
            local: Walked::default(),
        };
        Box::new(move |entry| {
            visit(&mut batch, entry);
            WalkState::Continue
        })
    });
    shared
        .out
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn visit(batch: &mut Batch<'_, '_>, entry: Result<DirEntry, ignore::Error>) {
    let shared = batch.shared;
    let out = &mut batch.local;
    let entry = match entry {
        Ok(e) => e,
        Err(err) => {
            out.diagnostics.push(walk_error(shared.root, &err));
            return;
        }
    };
    if entry.depth() == 0 {
        return;
    }
    let rel = relative_path(shared.root, entry.path());
    let Some(file_type) = entry.file_type() else {
        return;
    };
    if file_type.is_dir() {
        return;
    }
    if file_type.is_symlink() {
        visit_symlink(shared, out, entry.path(), rel);
        return;
    }
    if !file_type.is_file() {
        // FIFOs would block a read forever; devices and sockets are not source.
        out.diagnostics.push(Diagnostic::info(
            "special-file",
            "not a regular file (FIFO, socket or device): not read",
            Some(Location::file(rel)),
        ));
        return;
    }
    let size = match entry.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            out.diagnostics.push(Diagnostic::warning(
                "unreadable-file",
                format!("cannot stat: {e}"),
                Some(Location::file(rel.clone())),
            ));
            out.files.push(skipped(rel, 0, SkipReason::Unreadable));
            return;
        }
    };
    read_regular(shared, out, entry.path(), rel, size);
}

/// A file symlink is read as its target when the target stays inside the repository;
/// anything else is reported and not read.
fn visit_symlink(shared: &Shared<'_>, out: &mut Walked, link: &Path, rel: String) {
    let target = match fs::canonicalize(link) {
        Ok(t) => t,
        Err(e) => {
            let shown_target = fs::read_link(link)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            let (code, what) = if is_loop_error(&e) {
                ("symlink-loop", "symlink loop")
            } else if e.kind() == std::io::ErrorKind::NotFound {
                ("symlink-broken", "broken symlink")
            } else {
                ("symlink-broken", "unresolvable symlink")
            };
            out.diagnostics.push(Diagnostic::warning(
                code,
                format!("{what} -> {shown_target} ({e}): not read"),
                Some(Location::file(rel)),
            ));
            return;
        }
    };
    // `.git` is not repository content (its config may hold credentials in remote
    // URLs), so a link into it is treated like a link out of the repository.
    if !target.starts_with(shared.root) || target.starts_with(shared.root.join(".git")) {
        out.diagnostics.push(Diagnostic::warning(
            "symlink-outside-repo",
            format!(
                "symlink points outside the repository ({}): not read",
                target.display()
            ),
            Some(Location::file(rel)),
        ));
        return;
    }
    let meta = match fs::metadata(&target) {
        Ok(m) => m,
        Err(e) => {
            out.diagnostics.push(Diagnostic::warning(
                "symlink-broken",
                format!("symlink target cannot be read ({e}): not read"),
                Some(Location::file(rel)),
            ));
            return;
        }
    };
    if meta.is_dir() {
        out.diagnostics.push(Diagnostic::info(
            "symlink-dir-not-followed",
            "symlink to a directory: not followed",
            Some(Location::file(rel)),
        ));
    } else if meta.is_file() {
        read_regular(shared, out, &target, rel, meta.len());
    } else {
        out.diagnostics.push(Diagnostic::info(
            "special-file",
            "symlink to a FIFO, socket or device: not read",
            Some(Location::file(rel)),
        ));
    }
}

#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(all(unix, not(target_os = "linux")))]
const ELOOP: i32 = 62;

fn is_loop_error(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn skipped(path: String, size: u64, reason: SkipReason) -> RepoFile {
    RepoFile {
        path,
        size,
        content: None,
        skipped: Some(reason),
    }
}

/// Record one regular file: its text when a detector may read it and it is small
/// enough, otherwise its path and size only.
fn read_regular(shared: &Shared<'_>, out: &mut Walked, abs: &Path, rel: String, size: u64) {
    if !content_wanted(&rel) {
        out.files
            .push(skipped(rel, size, SkipReason::NotOfInterest));
        return;
    }
    let limit = shared.max_file_size;
    if size > limit {
        out.diagnostics.push(Diagnostic::info(
            "file-too-large",
            format!("{size} bytes, over the {limit}-byte limit: not read"),
            Some(Location::file(rel.clone())),
        ));
        out.files.push(skipped(rel, size, SkipReason::TooLarge));
        return;
    }
    let used = shared.budget_used.fetch_add(size, Ordering::Relaxed);
    if used.saturating_add(size) > TOTAL_READ_BUDGET {
        if !shared.budget_warned.swap(true, Ordering::Relaxed) {
            out.diagnostics.push(Diagnostic::warning(
                "read-budget-exhausted",
                format!(
                    "more than {TOTAL_READ_BUDGET} bytes of text in the repository: further files recorded without content"
                ),
                Some(Location::file(rel.clone())),
            ));
        }
        out.files.push(skipped(rel, size, SkipReason::TooLarge));
        return;
    }
    let bytes = match read_bounded(abs, size, limit) {
        Ok(b) => b,
        Err(e) => {
            out.diagnostics.push(Diagnostic::warning(
                "unreadable-file",
                format!("cannot read: {e}"),
                Some(Location::file(rel.clone())),
            ));
            out.files.push(skipped(rel, size, SkipReason::Unreadable));
            return;
        }
    };
    if bytes.len() as u64 > limit {
        // The file grew between stat and read.
        out.diagnostics.push(Diagnostic::info(
            "file-too-large",
            format!("over the {limit}-byte limit: not read"),
            Some(Location::file(rel.clone())),
        ));
        out.files.push(skipped(rel, size, SkipReason::TooLarge));
        return;
    }
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if memchr::memchr(0, sniff).is_some() {
        out.diagnostics.push(Diagnostic::info(
            "binary-file",
            "contains NUL bytes (binary): not read",
            Some(Location::file(rel.clone())),
        ));
        out.files.push(skipped(rel, size, SkipReason::Binary));
        return;
    }
    let (content, skip) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            out.diagnostics.push(Diagnostic::info(
                "not-utf8",
                format!(
                    "not valid UTF-8 (first bad byte at offset {}): decoded lossily",
                    e.utf8_error().valid_up_to()
                ),
                Some(Location::file(rel.clone())),
            ));
            (text, Some(SkipReason::NotUtf8))
        }
    };
    out.files.push(RepoFile {
        path: rel,
        size,
        content: Some(Arc::from(content)),
        skipped: skip,
    });
}

/// Read at most `limit + 1` bytes, so a file that grew after `stat` is detected
/// without reading all of it.
fn read_bounded(abs: &Path, size_hint: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = File::open(abs)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint.min(limit)).unwrap_or(0) + 1);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Repository-relative path with `/` separators.
fn relative_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = rel.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn walk_error(root: &Path, err: &ignore::Error) -> Diagnostic {
    // ignore::Error wraps the path in WithPath; dig it out for the location.
    fn path_of(err: &ignore::Error) -> Option<&PathBuf> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    let location = path_of(err).map(|p| Location::file(relative_path(root, p)));
    let code = if err.io_error().is_some() {
        "unreadable-directory"
    } else {
        "walk-error"
    };
    Diagnostic::new(Severity::Warning, code, err.to_string(), location)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_for<'a>(snap: &'a Snapshot, path: &str) -> Vec<&'a str> {
        snap.diagnostics
            .iter()
            .filter(|d| d.location.as_ref().is_some_and(|l| l.path == path))
            .map(|d| d.code.as_str())
            .collect()
    }

    #[test]
    fn reads_wanted_text_and_records_the_rest_by_size() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        fs::write(dir.path().join(".github/workflows/ci.yml"), "on: push\n").unwrap();
        fs::write(dir.path().join("data.csv"), "a,b\n1,2\n").unwrap();
        let snap = collect(dir.path(), &ConnectOptions::default()).unwrap();
        assert_eq!(
            snap.files.text(".github/workflows/ci.yml"),
            Some("on: push\n")
        );
        let csv = snap.files.get("data.csv").unwrap();
        assert_eq!(csv.content, None);
        assert_eq!(csv.size, 8);
        assert_eq!(csv.skipped, Some(SkipReason::NotOfInterest));
        assert_eq!(snap.stats.files_seen, 2);
        assert_eq!(snap.stats.files_read, 1);
        assert_eq!(snap.stats.bytes_read, 9);
        assert_eq!(snap.stats.files_skipped, 0);
    }

    #[test]
    fn nul_byte_past_the_sniff_window_is_text() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = vec![b'a'; BINARY_SNIFF_BYTES + 10];
        bytes.push(0);
        fs::write(dir.path().join("late.txt"), &bytes).unwrap();
        fs::write(dir.path().join("early.txt"), b"a\0b").unwrap();
        let snap = collect(dir.path(), &ConnectOptions::default()).unwrap();
        assert!(snap.files.text("late.txt").is_some());
        assert_eq!(
            snap.files.get("early.txt").unwrap().skipped,
            Some(SkipReason::Binary)
        );
        assert_eq!(codes_for(&snap, "early.txt"), ["binary-file"]);
    }

    #[test]
    fn invalid_utf8_is_kept_lossily() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Dockerfile"), b"FROM caf\xe9\n").unwrap();
        let snap = collect(dir.path(), &ConnectOptions::default()).unwrap();
        let f = snap.files.get("Dockerfile").unwrap();
        assert_eq!(f.content.as_deref(), Some("FROM caf\u{fffd}\n"));
        assert_eq!(f.skipped, Some(SkipReason::NotUtf8));
        assert_eq!(codes_for(&snap, "Dockerfile"), ["not-utf8"]);
    }

    #[test]
    fn diagnostics_are_sorted_by_file() {
        let mut d = vec![
            Diagnostic::info("b", "", Some(Location::file("z"))),
            Diagnostic::info("a", "", None),
            Diagnostic::info("c", "", Some(Location::file("a"))),
        ];
        sort_diagnostics(&mut d);
        let codes: Vec<_> = d.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["a", "c", "b"]);
    }
}
