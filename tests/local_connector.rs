//! The local connector against hostile and awkward inputs: every bad file yields a
//! diagnostic naming it, the scan goes on, and nothing is read that should not be.
//!
//! Only connector-level diagnostics are asserted here; YAML/Groovy-level ones come
//! from the dialect parsers and are tested beside them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlops_maturity::connect::{self, ConnectError, ConnectOptions};
use mlops_maturity::evidence::{Severity, SkipReason, Snapshot};

fn hostile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

/// Codes of the diagnostics located in `path`.
fn codes_for<'a>(snap: &'a Snapshot, path: &str) -> Vec<&'a str> {
    snap.diagnostics
        .iter()
        .filter(|d| d.location.as_ref().is_some_and(|l| l.path == path))
        .map(|d| d.code.as_str())
        .collect()
}

fn has_code(snap: &Snapshot, code: &str) -> bool {
    snap.diagnostics.iter().any(|d| d.code == code)
}

fn any_content_contains(snap: &Snapshot, needle: &str) -> bool {
    snap.files
        .iter()
        .any(|f| f.content.as_deref().is_some_and(|c| c.contains(needle)))
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn hostile_fixtures_are_reported_and_the_scan_goes_on() {
    let dir = hostile_dir();
    let snap = connect::scan_local(&dir, &ConnectOptions::default()).unwrap();

    // Hidden CI files are walked.
    for read in [
        ".gitlab-ci.yml",
        ".github/workflows/broken.yml",
        ".github/workflows/bomb.yml",
        ".github/workflows/deep.yml",
        ".github/workflows/tabs.yml",
        "Jenkinsfile",
    ] {
        let f = snap
            .files
            .get(read)
            .unwrap_or_else(|| panic!("{read} missing"));
        assert!(f.content.is_some(), "{read} should be read as text");
    }

    let nul = snap.files.get(".github/workflows/nul.yml").unwrap();
    assert_eq!(nul.skipped, Some(SkipReason::Binary));
    assert_eq!(nul.content, None);
    assert_eq!(
        codes_for(&snap, ".github/workflows/nul.yml"),
        ["binary-file", "workflow-unread"]
    );

    // Each broken pipeline file gets a diagnostic naming it; the others still parse.
    for broken in [
        ".github/workflows/broken.yml",
        ".github/workflows/bomb.yml",
        ".github/workflows/deep.yml",
        ".github/workflows/tabs.yml",
        ".gitlab-ci.yml",
    ] {
        assert_eq!(codes_for(&snap, broken), ["yaml-syntax"], "{broken}");
    }
    assert_eq!(codes_for(&snap, "Jenkinsfile"), ["jenkinsfile-syntax"]);

    let docker = snap.files.get("Dockerfile").unwrap();
    assert_eq!(docker.skipped, Some(SkipReason::NotUtf8));
    let text = docker.content.as_deref().unwrap();
    assert!(text.contains("FROM python:3.11-slim"), "{text}");
    assert!(text.contains('\u{fffd}'));
    assert!(codes_for(&snap, "Dockerfile").contains(&"not-utf8"));

    // This folder is inside the project's checkout but is not itself a repository root.
    assert!(has_code(&snap, "not-a-git-repository"));

    #[cfg(unix)]
    {
        // The symlinks only exist when git checked them out as links.
        let passwd = dir.join("config/passwd.yml");
        if fs::symlink_metadata(&passwd).is_ok_and(|m| m.file_type().is_symlink()) {
            assert_eq!(
                codes_for(&snap, "config/passwd.yml"),
                ["symlink-outside-repo"]
            );
            assert!(!snap.files.contains("config/passwd.yml"));
            assert!(!any_content_contains(&snap, "root:x:0:0"));
            assert_eq!(codes_for(&snap, "config/loop-a.yml"), ["symlink-loop"]);
            assert_eq!(codes_for(&snap, "config/loop-b.yml"), ["symlink-loop"]);
            let loop_diag = snap
                .diagnostics
                .iter()
                .find(|d| d.code == "symlink-loop")
                .unwrap();
            assert_eq!(loop_diag.severity, Severity::Warning);
        } else {
            eprintln!("fixtures/hostile symlinks not checked out as links: skipping their checks");
        }
    }
}

#[test]
fn hostile_fixtures_scan_in_bounded_time() {
    // The alias bombs and deep nesting must not stall the pipeline stage either.
    let start = std::time::Instant::now();
    let snap = connect::scan_local(&hostile_dir(), &ConnectOptions::default()).unwrap();
    assert!(!snap.files.is_empty());
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "scan took {:?}",
        start.elapsed()
    );
}

#[cfg(unix)]
#[test]
fn awkward_files_in_a_temp_dir() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("secret.yml"),
        "token: TOP-SECRET-VALUE\n",
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let w = |p: &str, bytes: &[u8]| {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    // An enormous single-line file (2 MiB, over the 1 MiB default limit).
    let huge = format!("{{\"k\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    w("data/huge.json", huge.as_bytes());
    w("src/model.py", b"import torch\x00\x01\x02");
    w(
        "src/train.py",
        b"import mlflow\nmlflow.log_metric('a', 1)\n",
    );
    w("real/config.yml", b"stage: prod\n");
    w(".gitignore", b"ignored/\n");
    w("ignored/x.py", b"print('ignored')\n");
    w(".ignore", b"scratch.yml\n");
    w("scratch.yml", b"a: 1\n");
    w("vendor/lib/dep.py", b"print('vendored')\n");
    w("weights.bin", &[0u8; 4096]);
    symlink(outside.path().join("secret.yml"), root.join("escape.yml"));
    symlink("real/config.yml", root.join("alias.yml"));
    symlink("real", root.join("linkdir"));
    symlink("does-not-exist.yml", root.join("dangling.yml"));

    let fifo_made = Command::new("mkfifo")
        .arg(root.join("pipe.yml"))
        .status()
        .is_ok_and(|s| s.success());
    if !fifo_made {
        eprintln!("mkfifo unavailable: skipping the FIFO case");
    }

    w("locked.yml", b"a: 1\n");
    let locked = root.join("locked.yml");
    fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    // Root reads everything; the permission case only means something for other users.
    let permission_denied = fs::File::open(&locked).is_err();

    let options = ConnectOptions {
        exclude: vec!["vendor/**".into()],
        ..ConnectOptions::default()
    };
    let snap = connect::scan_local(root, &options).unwrap();

    // Over-size: recorded with its size, never read.
    let huge_file = snap.files.get("data/huge.json").unwrap();
    assert_eq!(huge_file.skipped, Some(SkipReason::TooLarge));
    assert_eq!(huge_file.content, None);
    assert_eq!(huge_file.size, huge.len() as u64);
    let too_large = snap
        .diagnostics
        .iter()
        .find(|d| d.code == "file-too-large")
        .unwrap();
    assert_eq!(too_large.location.as_ref().unwrap().path, "data/huge.json");
    assert!(too_large.message.contains(&huge.len().to_string()));

    // Binary: not read.
    assert_eq!(
        snap.files.get("src/model.py").unwrap().skipped,
        Some(SkipReason::Binary)
    );
    assert_eq!(codes_for(&snap, "src/model.py"), ["binary-file"]);
    assert!(snap.files.text("src/train.py").unwrap().contains("mlflow"));

    // Not of interest: path and size only.
    let weights = snap.files.get("weights.bin").unwrap();
    assert_eq!(weights.skipped, Some(SkipReason::NotOfInterest));
    assert_eq!(weights.size, 4096);
    assert_eq!(weights.content, None);

    // Ignore files and the exclude glob.
    assert!(!snap.files.contains("ignored/x.py"));
    assert!(!snap.files.contains("scratch.yml"));
    assert!(!snap.files.contains("vendor/lib/dep.py"));
    assert!(snap.files.contains(".gitignore"), "hidden files are walked");

    // Symlinks.
    assert_eq!(codes_for(&snap, "escape.yml"), ["symlink-outside-repo"]);
    assert!(!snap.files.contains("escape.yml"));
    assert!(!any_content_contains(&snap, "TOP-SECRET-VALUE"));
    assert_eq!(snap.files.text("alias.yml"), Some("stage: prod\n"));
    assert!(codes_for(&snap, "alias.yml").is_empty());
    assert_eq!(codes_for(&snap, "linkdir"), ["symlink-dir-not-followed"]);
    assert!(!snap.files.contains("linkdir/config.yml"));
    assert_eq!(codes_for(&snap, "dangling.yml"), ["symlink-broken"]);

    if fifo_made {
        assert_eq!(codes_for(&snap, "pipe.yml"), ["special-file"]);
        assert!(!snap.files.contains("pipe.yml"));
    }
    if permission_denied {
        assert_eq!(codes_for(&snap, "locked.yml"), ["unreadable-file"]);
        assert_eq!(
            snap.files.get("locked.yml").unwrap().skipped,
            Some(SkipReason::Unreadable)
        );
    } else {
        eprintln!("running as root: skipping the permission-denied case");
    }

    // Stats count exactly the text that was kept: no byte of a skipped file.
    let kept: u64 = snap
        .files
        .iter()
        .filter_map(|f| f.content.as_ref())
        .map(|c| c.len() as u64)
        .sum();
    assert_eq!(snap.stats.bytes_read, kept);
    assert!(snap.stats.bytes_read < 1024, "{:?}", snap.stats);
    assert_eq!(snap.stats.files_seen, snap.files.len() as u64);
    assert!(snap.stats.files_skipped >= 2, "{:?}", snap.stats);
    assert!(has_code(&snap, "not-a-git-repository"));
    assert!(snap.git.is_none());
}

#[test]
fn limit_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.yml"), "x: 1234567890\n").unwrap();
    let options = ConnectOptions {
        max_file_size: 4,
        ..ConnectOptions::default()
    };
    let snap = connect::scan_local(dir.path(), &options).unwrap();
    assert_eq!(codes_for(&snap, "a.yml"), ["file-too-large"]);
    assert_eq!(snap.stats.bytes_read, 0);
}

#[test]
fn empty_directory_is_an_empty_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = connect::scan_local(dir.path(), &ConnectOptions::default()).unwrap();
    assert!(snap.files.is_empty());
    assert!(has_code(&snap, "empty-repository"));
    assert_eq!(snap.stats.files_seen, 0);
}

#[test]
fn missing_path_and_file_path_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = connect::scan_local(&missing, &ConnectOptions::default()).unwrap_err();
    assert!(matches!(err, ConnectError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");

    let file = dir.path().join("a-file.txt");
    fs::write(&file, "x").unwrap();
    let err = connect::scan_local(&file, &ConnectOptions::default()).unwrap_err();
    assert!(matches!(err, ConnectError::NotADirectory { .. }), "{err:?}");
    assert!(err.to_string().contains("a-file.txt"), "{err}");
}

#[test]
fn invalid_exclude_glob_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.yml"), "x: 1\n").unwrap();
    let options = ConnectOptions {
        exclude: vec!["a[".into()],
        ..ConnectOptions::default()
    };
    let snap = connect::scan_local(dir.path(), &options).unwrap();
    assert!(has_code(&snap, "invalid-exclude"));
    assert!(snap.files.contains("a.yml"));
}

#[cfg(unix)]
#[test]
fn git_checkout_gets_metadata_and_revision_and_no_dot_git_files() {
    let git_ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !git_ok {
        eprintln!("git not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    fs::write(dir.path().join(".github/workflows/ci.yml"), "on: push\n").unwrap();
    // .git/info/exclude is honoured.
    fs::write(dir.path().join(".git/info/exclude"), "local-only.yml\n").unwrap();
    fs::write(dir.path().join("local-only.yml"), "a: 1\n").unwrap();
    symlink(".git/config", dir.path().join("git-config.yml"));
    git(&["add", ".github"]);
    git(&["commit", "-q", "-m", "add ci"]);
    git(&["tag", "v0.1.0"]);

    let snap = connect::scan_local(dir.path(), &ConnectOptions::default()).unwrap();
    assert!(snap.files.iter().all(|f| !f.path.starts_with(".git/")));
    assert!(snap.files.contains(".github/workflows/ci.yml"));
    assert!(!snap.files.contains("local-only.yml"));
    assert_eq!(codes_for(&snap, "git-config.yml"), ["symlink-outside-repo"]);
    assert!(!snap.files.contains("git-config.yml"));
    assert!(!has_code(&snap, "not-a-git-repository"));
    let meta = snap.git.as_ref().unwrap();
    assert_eq!(meta.current_branch.as_deref(), Some("main"));
    assert_eq!(snap.source.revision, meta.head);
    assert_eq!(meta.recent_commits.len(), 1);
    assert_eq!(meta.recent_commits[0].subject, "add ci");
    assert_eq!(meta.tags[0].name, "v0.1.0");
    assert!(meta.tags[0].date.is_some());

    let no_git = ConnectOptions {
        git_metadata: false,
        ..ConnectOptions::default()
    };
    let snap = connect::scan_local(dir.path(), &no_git).unwrap();
    assert!(snap.git.is_none());
    assert_eq!(snap.source.revision, None);
}

#[test]
fn cli_evidence_on_hostile_fixtures_exits_zero_with_json() {
    let out = assert_cmd::Command::cargo_bin("mlops-maturity")
        .unwrap()
        .args(["evidence"])
        .arg(hostile_dir())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert!(
        json["snapshot"]["files"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    for named in [".github/workflows/nul.yml", "Dockerfile"] {
        assert!(
            stderr.contains(named),
            "stderr should name {named}:\n{stderr}"
        );
    }
    #[cfg(unix)]
    if fs::symlink_metadata(hostile_dir().join("config/passwd.yml"))
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        for named in ["config/passwd.yml", "config/loop-a.yml"] {
            assert!(
                stderr.contains(named),
                "stderr should name {named}:\n{stderr}"
            );
        }
    }
}

#[test]
fn ignore_files_above_the_scanned_folder_do_not_apply() {
    // A dotfiles-style `*` in an enclosing folder must not hide the scanned tree.
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join(".gitignore"), "*\n").unwrap();
    let inner = outer.path().join("project");
    fs::create_dir_all(&inner).unwrap();
    fs::write(inner.join("ci.yml"), "a: 1\n").unwrap();
    let snap = connect::scan_local(&inner, &ConnectOptions::default()).unwrap();
    assert!(snap.files.contains("ci.yml"), "{:?}", snap.diagnostics);
}

#[test]
fn hostile_yaml_fixtures_are_refused_by_the_yaml_loader_without_crashing() {
    // What the connector hands on must be safe for the shared YAML loader: each of
    // these returns an error quickly instead of expanding, recursing or panicking.
    use mlops_maturity::pipeline::yaml;
    let snap = connect::scan_local(&hostile_dir(), &ConnectOptions::default()).unwrap();
    for path in [
        ".gitlab-ci.yml",
        ".github/workflows/bomb.yml",
        ".github/workflows/deep.yml",
        ".github/workflows/broken.yml",
        ".github/workflows/tabs.yml",
    ] {
        let text = snap.files.text(path).unwrap();
        let start = std::time::Instant::now();
        let result = yaml::parse(text);
        assert!(result.is_err(), "{path} should be refused");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{path} took {:?}",
            start.elapsed()
        );
    }
}
