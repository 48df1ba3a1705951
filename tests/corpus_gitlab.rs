//! Runs the GitLab parser over real GitLab CI files (GitLab's own CI templates in
//! `../shared/corpus/gitlab-ci`). They are templates meant to be included, so a
//! missing `extends` target is only a warning; what must hold is: no panic, and
//! no Error-severity diagnostic on files GitLab itself accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mlops_maturity::evidence::{FileSet, RepoFile, Severity};
use mlops_maturity::pipeline::gitlab::parse_file;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn gitlab_corpus_parses_without_errors() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/gitlab-ci");
    if !corpus.is_dir() {
        println!("skipping: {} not found", corpus.display());
        return;
    }
    let mut paths = Vec::new();
    yaml_files(&corpus, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "corpus directory has no YAML files");

    // The corpus as a repository, so local includes between its files resolve.
    let mut repo_files = Vec::new();
    for path in &paths {
        let rel = path
            .strip_prefix(&corpus)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path).unwrap();
        repo_files.push(RepoFile {
            path: rel,
            size: text.len() as u64,
            content: Some(Arc::from(text.as_str())),
            skipped: None,
        });
    }
    let files = FileSet::new(repo_files.clone());

    let mut jobs = 0usize;
    let mut steps = 0usize;
    let mut parsed = 0usize;
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for file in &repo_files {
        let text = file.content.as_deref().unwrap_or_default();
        let mut diags = Vec::new();
        let pipeline = parse_file(&file.path, text, &files, &mut diags);
        if let Some(p) = pipeline {
            parsed += 1;
            jobs += p.jobs.len();
            steps += p.jobs.iter().map(|j| j.steps.len()).sum::<usize>();
            for job in &p.jobs {
                assert!(
                    files.contains(&job.location.path),
                    "{}: job {} located in unknown file {}",
                    file.path,
                    job.id,
                    job.location.path
                );
                assert!(
                    job.location.line >= 1,
                    "{}: job {} has no line",
                    file.path,
                    job.id
                );
            }
        }
        for d in diags {
            if std::env::var_os("CORPUS_VERBOSE").is_some() && d.severity != Severity::Info {
                println!("{d}");
            }
            *by_code.entry(d.code.clone()).or_default() += 1;
            if d.severity == Severity::Error {
                errors.push(d.to_string());
            }
        }
    }
    println!(
        "gitlab corpus: {} files, {parsed} parsed, {jobs} jobs, {steps} steps",
        repo_files.len()
    );
    for (code, n) in &by_code {
        println!("  {code}: {n}");
    }
    assert!(
        errors.is_empty(),
        "error diagnostics:\n{}",
        errors.join("\n")
    );
    assert_eq!(parsed, repo_files.len());
    assert!(jobs > 100, "only {jobs} jobs found in the corpus");
}

/// Other YAML (GitHub workflows) read as if it were GitLab CI: nonsense jobs and
/// warnings are fine, a panic or an endless loop is not.
#[test]
fn foreign_yaml_does_not_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/github-actions");
    if !corpus.is_dir() {
        println!("skipping: {} not found", corpus.display());
        return;
    }
    let mut paths = Vec::new();
    yaml_files(&corpus, &mut paths);
    let files = FileSet::default();
    let mut diagnostics = 0usize;
    for path in &paths {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let mut diags = Vec::new();
        let _ = parse_file(&path.to_string_lossy(), &text, &files, &mut diags);
        diagnostics += diags.len();
    }
    println!(
        "github-actions files read as GitLab: {} files, {diagnostics} diagnostics",
        paths.len()
    );
}
