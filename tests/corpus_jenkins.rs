//! Every Jenkinsfile and Groovy file of the shared corpus goes through the Jenkins
//! reader without panicking; declarative examples must yield jobs and no errors.

use std::path::{Path, PathBuf};

use mlops_maturity::evidence::Severity;
use mlops_maturity::pipeline::jenkins;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            if jenkins::is_jenkinsfile(&name) || name.ends_with(".groovy") {
                out.push(path);
            }
        }
    }
}

#[test]
fn corpus_jenkinsfiles_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/jenkins");
    if !root.is_dir() {
        println!("skipping: {} not present", root.display());
        return;
    }
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no Jenkins files under {}",
        root.display()
    );
    let (mut parsed, mut declarative, mut jobs, mut steps, mut warnings) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &paths {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut diags = Vec::new();
        let pipeline = jenkins::parse_text(&rel, &text, &mut diags);
        warnings += diags.len();
        for d in &diags {
            println!("  {d}");
        }
        if let Some(p) = &pipeline {
            parsed += 1;
            jobs += p.jobs.len();
            steps += p.jobs.iter().map(|j| j.steps.len()).sum::<usize>();
        }
        // Every prefix cut at a line end must also go through without a panic.
        for (cut, _) in text.match_indices('\n') {
            let _ = jenkins::parse_text(&rel, &text[..cut], &mut Vec::new());
        }
        if text.contains("pipeline {") {
            declarative += 1;
            let n_jobs = pipeline.as_ref().map_or(0, |p| p.jobs.len());
            let errors = diags.iter().any(|d| d.severity == Severity::Error);
            if n_jobs == 0 || errors {
                failures.push(format!("{rel}: {n_jobs} jobs, diagnostics {diags:?}"));
            }
        }
    }
    println!(
        "jenkins corpus: {} files, {parsed} parsed, {declarative} declarative, {jobs} jobs, {steps} steps, {warnings} diagnostics",
        paths.len()
    );
    assert!(
        failures.is_empty(),
        "declarative examples failed:\n{}",
        failures.join("\n")
    );
}
