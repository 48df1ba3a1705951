//! Is the model evaluation gated by a threshold that fails the run?

use regex::Regex;

use crate::detect::{Confidence, Evidence, Origin, qualifier};
use crate::evidence::Location;

use super::{Ctx, Findings, file_evidence};

/// Lines before and after a pipeline step's evidence that belong to that step.
const STEP_WINDOW: (u32, u32) = (2, 12);
/// Lines after a comparison in which a failure (`exit 1`, `raise`) must follow.
const FAIL_WINDOW: usize = 4;

struct Patterns {
    metric: Regex,
    comparison: Regex,
    fails: Regex,
    direct: Regex,
    dvc_check: Regex,
}

fn patterns() -> &'static Patterns {
    static P: std::sync::OnceLock<Patterns> = std::sync::OnceLock::new();
    P.get_or_init(|| Patterns {
        metric: Regex::new(
            r"(?i)(acc|auc|roc|f1|precision|recall|rmse|mse|mae|mape|loss|score|r2|metric|\bmap\b|bleu|rouge|wer|perplexity|threshold|baseline|champion|min_|max_)",
        )
        .expect("constant regex"),
        comparison: Regex::new(r"(<=|>=|[^-=<>]<[^<=]|[^-=<>]>[^>=]|\s-(lt|le|gt|ge)\s)")
            .expect("constant regex"),
        fails: Regex::new(
            r"(sys\.exit\(\s*[^0)\s]|\bexit\s*\(?\s*[1-9]|\braise\b|pytest\.fail|\bfail\(|\berror\(|::error)",
        )
        .expect("constant regex"),
        direct: Regex::new(
            r"(?i)(MetricThreshold\s*\(|validation_thresholds|validate_evaluation_results|--(min|max)[-_][a-z][\w-]*|--[\w-]*threshold[\w-]*)",
        )
        .expect("constant regex"),
        dvc_check: Regex::new(r"dvc\s+metrics\s+diff.*(\bjq\b|\bawk\b|\bbc\b|\s-(gt|lt|ge|le)\s|python)")
            .expect("constant regex"),
    })
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//")
}

/// Threshold checks in `text` between 1-based lines `from..=to`: the line of
/// each and its text.
pub(crate) fn threshold_lines(text: &str, from: u32, to: u32) -> Vec<(u32, String)> {
    let p = patterns();
    let lines: Vec<&str> = text.lines().collect();
    let mut hits = Vec::new();
    let start = from.saturating_sub(1) as usize;
    let end = (to as usize).min(lines.len());
    for idx in start..end {
        let Some(line) = lines.get(idx) else { break };
        if is_comment(line) || line.contains("fail-under") || line.contains("fail_under") {
            continue;
        }
        let t = line.trim();
        let compares_metric = p.metric.is_match(t) && p.comparison.is_match(t);
        let hit = p.direct.is_match(t)
            || p.dvc_check.is_match(t)
            || (compares_metric && t.starts_with("assert"))
            || (compares_metric
                && (t.starts_with("if ") || t.starts_with("if(") || t.starts_with("elif "))
                && (p.fails.is_match(t)
                    || lines
                        .iter()
                        .skip(idx + 1)
                        .take(FAIL_WINDOW)
                        .any(|l| !is_comment(l) && p.fails.is_match(l))));
        if hit {
            hits.push(((idx + 1) as u32, t.to_string()));
        }
    }
    hits
}

/// `model.evaluation` gated by a threshold — "a threshold gate is the stronger
/// evidence the level table asks for": the evaluation code compares a metric to
/// a threshold and fails (`assert metric >= x`, `sys.exit(1)` / `raise` under a
/// comparison, `--min-accuracy` / `--threshold` flags, MLflow `MetricThreshold`
/// / `validation_thresholds`, `dvc metrics diff` piped into a check). Scans the
/// files the evaluation evidence points at (for a pipeline file, the lines of
/// that step only); marks that evidence `threshold` and reports the check.
pub(crate) fn evaluation_threshold(ctx: &Ctx, findings: &mut Findings) {
    let mut added: Vec<Evidence> = Vec::new();
    if let Some(list) = findings.get_mut("model.evaluation") {
        for evidence in list.iter_mut() {
            let Origin::File { location } = &evidence.origin else {
                continue;
            };
            let Some(text) = ctx.snapshot.files.text(&location.path) else {
                continue;
            };
            let (from, to) = if ctx.is_pipeline_file(&location.path) && location.line > 0 {
                (
                    location.line.saturating_sub(STEP_WINDOW.0).max(1),
                    location.line.saturating_add(STEP_WINDOW.1),
                )
            } else {
                (1, u32::MAX)
            };
            let hits = threshold_lines(text, from, to);
            let Some((line, excerpt)) = hits.into_iter().next() else {
                continue;
            };
            evidence.qualifiers.insert(qualifier::THRESHOLD.to_string());
            let mut gate = file_evidence(
                "model.evaluation.threshold",
                Location::new(location.path.clone(), line),
                excerpt,
                evidence.chain.clone(),
                &[qualifier::THRESHOLD],
                Confidence::High,
            );
            gate.qualifiers.extend(evidence.qualifiers.iter().cloned());
            added.push(gate);
        }
    }
    for evidence in added {
        findings.add("model.evaluation", evidence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &str) -> Vec<u32> {
        threshold_lines(text, 1, u32::MAX)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }

    #[test]
    fn threshold_forms() {
        assert_eq!(
            hits("acc = evaluate()\nassert acc >= 0.9, 'too low'\n"),
            vec![2]
        );
        assert_eq!(
            hits("if metrics['f1'] < THRESHOLD:\n    print('bad')\n    sys.exit(1)\n"),
            vec![1]
        );
        assert_eq!(
            hits("if [ \"$AUC\" -lt 80 ]; then\n  exit 1\nfi\n"),
            vec![1]
        );
        assert_eq!(hits("python eval.py --min-accuracy 0.8\n"), vec![1]);
        assert_eq!(
            hits("thresholds = {'accuracy': MetricThreshold(threshold=0.8)}\n"),
            vec![1]
        );
        assert_eq!(
            hits("dvc metrics diff main --json | jq '.x.acc.diff' \n"),
            vec![1]
        );
    }

    #[test]
    fn no_threshold_forms() {
        // Printing, logging, comparisons that do not fail, coverage floors, comments.
        assert!(hits("print(f'accuracy: {acc}')\nmlflow.log_metric('acc', acc)\n").is_empty());
        assert!(hits("if acc > best:\n    best = acc\n    save(model)\n").is_empty());
        assert!(hits("pytest --cov --cov-fail-under=80\n").is_empty());
        assert!(hits("# assert acc >= 0.9\n").is_empty());
        assert!(hits("assert len(rows) > 0\n").is_empty());
        assert!(hits("dvc metrics diff > report.md\n").is_empty());
    }
}
