//! Every real workflow in the shared corpus parses without panicking, and every
//! file GitHub would accept gives jobs and no error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mlops_maturity::evidence::{FileSet, RepoFile, Severity};
use mlops_maturity::pipeline::github::parse_workflows;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
}

#[test]
fn corpus_workflows_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/github-actions");
    if !root.is_dir() {
        println!("skipped: no corpus at {}", root.display());
        return;
    }
    let mut paths = Vec::new();
    yaml_files(&root, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "corpus folder holds no workflow");

    let (mut accepted, mut refused, mut jobs, mut steps, mut triggers) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("corpus file is UTF-8");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let repo_path = format!(".github/workflows/{name}");
        let files = FileSet::new(vec![RepoFile {
            path: repo_path.clone(),
            size: text.len() as u64,
            content: Some(Arc::from(text.as_str())),
            skipped: None,
        }]);
        let mut diagnostics = Vec::new();
        let pipelines = parse_workflows(&files, &mut diagnostics);
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        // `workflow-invalid` is our reading of "GitHub would refuse this file".
        if diagnostics.iter().any(|d| d.code == "workflow-invalid") {
            refused += 1;
            for d in &diagnostics {
                println!("{shown}: {d}");
            }
            continue;
        }
        accepted += 1;
        let errors: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect();
        let job_count = pipelines.first().map_or(0, |p| p.jobs.len());
        if !errors.is_empty() || pipelines.len() != 1 || job_count == 0 {
            failures.push(format!("{shown}: {job_count} jobs, errors {errors:?}"));
            continue;
        }
        let pipeline = &pipelines[0];
        // Every job, step and trigger points into the workflow at a real line.
        let located = |line: u32, path: &str| line >= 1 && path == repo_path;
        for job in &pipeline.jobs {
            assert!(
                located(job.location.line, &job.location.path),
                "{shown}: job {}",
                job.id
            );
            for step in &job.steps {
                assert!(
                    located(step.location.line, &step.location.path),
                    "{shown}: step in {}",
                    job.id
                );
            }
        }
        for trigger in &pipeline.triggers {
            assert!(
                located(trigger.location.line, &trigger.location.path),
                "{shown}: trigger"
            );
        }
        jobs += pipeline.jobs.len();
        steps += pipeline.jobs.iter().map(|j| j.steps.len()).sum::<usize>();
        triggers += pipeline.triggers.len();
    }
    println!(
        "github corpus: {} files, {accepted} accepted, {refused} refused; {jobs} jobs, {steps} steps, {triggers} triggers",
        paths.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    // The corpus is real, working workflows: nearly all must be accepted.
    assert!(
        refused * 20 <= paths.len(),
        "{refused} of {} corpus workflows refused",
        paths.len()
    );
}
