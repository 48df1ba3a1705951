//! The Azure Pipelines parser finds files by shape as well as by path, so it must
//! not claim the YAML of other systems. There is no Azure corpus in
//! `../shared/corpus`; the GitHub Actions and GitLab CI corpora (hundreds of real
//! files, many with `jobs:`/`steps:`/`stages:`) are the negative set: no pipeline,
//! no diagnostic, no panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mlops_maturity::evidence::{FileSet, RepoFile};
use mlops_maturity::pipeline::azure::parse_pipelines;

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
fn other_dialects_corpora_are_not_claimed_as_azure_pipelines() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        println!("skipping: {} not found", corpus.display());
        return;
    }
    let mut checked = 0usize;
    for dialect in ["github-actions", "gitlab-ci"] {
        let dir = corpus.join(dialect);
        let mut paths = Vec::new();
        yaml_files(&dir, &mut paths);
        paths.sort();
        // Paths relative to the dialect folder: not `.github/workflows/…`, so
        // the files are judged by their shape alone (the hard case).
        let files = FileSet::new(
            paths
                .iter()
                .filter_map(|p| {
                    let text = std::fs::read_to_string(p).ok()?;
                    let rel = p
                        .strip_prefix(&dir)
                        .ok()?
                        .to_string_lossy()
                        .replace('\\', "/");
                    Some(RepoFile {
                        path: rel,
                        size: text.len() as u64,
                        content: Some(Arc::from(text.as_str())),
                        skipped: None,
                    })
                })
                .collect(),
        );
        checked += files.len();
        let mut diags = Vec::new();
        let pipelines = parse_pipelines(&files, &mut diags);
        let claimed: Vec<&str> = pipelines.iter().map(|p| p.file.as_str()).collect();
        assert!(
            claimed.is_empty(),
            "{dialect} files claimed as Azure: {claimed:?}"
        );
        assert!(diags.is_empty(), "{dialect}: {diags:?}");
    }
    println!("checked {checked} non-Azure YAML files");
    assert!(checked > 0, "corpus has no YAML files");
}
