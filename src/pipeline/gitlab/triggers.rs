//! What starts a GitLab pipeline, read from `workflow: rules`, job `rules:` and
//! `only:`. GitLab has no `on:` block: a pipeline runs on every push unless
//! `workflow: rules` says otherwise, and jobs opt into other sources
//! (`$CI_PIPELINE_SOURCE == "schedule"`, `only: [tags]`, …).

use crate::evidence::Location;
use crate::pipeline::{Trigger, TriggerKind};

use super::tree::GNode;

/// `$CI_PIPELINE_SOURCE` values and `only:` keywords, with the trigger they mean.
fn source_kind(source: &str) -> Option<TriggerKind> {
    Some(match source {
        "push" | "pushes" => TriggerKind::Push,
        "web" => TriggerKind::Manual,
        "schedule" | "schedules" => TriggerKind::Schedule,
        "merge_request_event"
        | "merge_requests"
        | "external_pull_request_event"
        | "external_pull_requests" => TriggerKind::PullRequest,
        "pipeline" | "pipelines" | "parent_pipeline" => TriggerKind::Upstream,
        "api" | "trigger" | "triggers" => TriggerKind::Api,
        "tags" => TriggerKind::Tag,
        "branches" => TriggerKind::Push,
        "chat"
        | "webide"
        | "ondemand_dast_scan"
        | "ondemand_dast_validation"
        | "security_orchestration_policy" => TriggerKind::Other(source.to_string()),
        _ => return None,
    })
}

const PIPELINE_SOURCES: &[&str] = &[
    "push",
    "web",
    "schedule",
    "merge_request_event",
    "external_pull_request_event",
    "parent_pipeline",
    "pipeline",
    "api",
    "trigger",
    "chat",
    "webide",
    "ondemand_dast_scan",
    "ondemand_dast_validation",
    "security_orchestration_policy",
];

/// One comparison or variable test of a rules `if:` expression.
#[derive(Debug, PartialEq)]
struct Atom<'a> {
    variable: &'a str,
    /// `==`, `!=`, `=~`, `!~`, or empty for a bare presence test.
    op: &'a str,
    value: &'a str,
}

fn atoms(expr: &str) -> Vec<Atom<'_>> {
    let mut out = Vec::new();
    for part in expr.split("&&").flat_map(|p| p.split("||")) {
        let part = part.trim().trim_matches(|c| c == '(' || c == ')').trim();
        let Some(rest) = part.strip_prefix('$') else {
            continue;
        };
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '{' || c == '}'))
            .unwrap_or(rest.len());
        let variable = rest[..name_end].trim_matches(|c| c == '{' || c == '}');
        let tail = rest[name_end..].trim_start();
        let (op, value) = ["==", "!=", "=~", "!~"]
            .iter()
            .find_map(|op| tail.strip_prefix(op).map(|v| (*op, v.trim())))
            .unwrap_or(("", ""));
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        out.push(Atom {
            variable,
            op,
            value,
        });
    }
    out
}

/// Is this atom a positive test (the variable is set / equals / matches)?
fn positive(atom: &Atom<'_>) -> bool {
    match atom.op {
        "" => true,
        "==" | "=~" => atom.value != "null" && !atom.value.is_empty(),
        _ => false,
    }
}

/// Pipeline sources named by a positive `$CI_PIPELINE_SOURCE` test.
fn sources_in(atom: &Atom<'_>) -> Vec<&'static str> {
    if atom.op == "==" {
        return PIPELINE_SOURCES
            .iter()
            .copied()
            .filter(|s| *s == atom.value)
            .collect();
    }
    // A regex: every source name written in it as a whole word.
    PIPELINE_SOURCES
        .iter()
        .copied()
        .filter(|s| {
            atom.value.match_indices(s).any(|(i, _)| {
                let before = atom.value[..i].chars().last();
                let after = atom.value[i + s.len()..].chars().next();
                let boundary =
                    |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                boundary(before) && boundary(after)
            })
        })
        .collect()
}

/// Triggers one rules `if:` expression admits.
pub(crate) fn from_expression(expr: &str, location: &Location) -> Vec<Trigger> {
    let mut kinds: Vec<TriggerKind> = Vec::new();
    let mut push_branches = Vec::new();
    let mut mr_branches = Vec::new();
    let mut tag_filters = Vec::new();
    let mut ref_filters = Vec::new();
    let add = |kinds: &mut Vec<TriggerKind>, kind: TriggerKind| {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    };
    for atom in atoms(expr) {
        if !positive(&atom) {
            continue;
        }
        let filter = || {
            if atom.op.is_empty() {
                None
            } else {
                Some(atom.value.to_string())
            }
        };
        match atom.variable {
            "CI_PIPELINE_SOURCE" => {
                for source in sources_in(&atom) {
                    if let Some(kind) = source_kind(source) {
                        add(&mut kinds, kind);
                    }
                }
            }
            "CI_COMMIT_BRANCH" => {
                add(&mut kinds, TriggerKind::Push);
                push_branches.extend(filter());
            }
            "CI_COMMIT_TAG" => {
                add(&mut kinds, TriggerKind::Tag);
                tag_filters.extend(filter());
            }
            "CI_COMMIT_REF_NAME" | "CI_COMMIT_REF_SLUG" => ref_filters.extend(filter()),
            "CI_MERGE_REQUEST_EVENT_TYPE" if atom.value == "merge_train" => {
                add(&mut kinds, TriggerKind::MergeQueue);
            }
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME" => {
                add(&mut kinds, TriggerKind::PullRequest);
                mr_branches.extend(filter());
            }
            v if v.starts_with("CI_MERGE_REQUEST_") => add(&mut kinds, TriggerKind::PullRequest),
            _ => {}
        }
    }
    if kinds.is_empty() && !ref_filters.is_empty() {
        kinds.push(TriggerKind::Push);
    }
    kinds
        .into_iter()
        .map(|kind| {
            let mut branches = match kind {
                TriggerKind::Push => push_branches.clone(),
                TriggerKind::PullRequest => mr_branches.clone(),
                TriggerKind::Tag => tag_filters.clone(),
                _ => Vec::new(),
            };
            if matches!(kind, TriggerKind::Push | TriggerKind::Tag) {
                branches.extend(ref_filters.iter().cloned());
            }
            Trigger {
                kind,
                branches,
                paths: Vec::new(),
                detail: vec![format!("if: {expr}")],
                location: location.clone(),
            }
        })
        .collect()
}

/// Triggers from a `rules:` list. Rules with `when: never` exclude rather than
/// admit, so they start nothing; a rule without `if:` admits every source.
pub(crate) fn from_rules(rules: &GNode, catch_all: bool) -> Vec<Trigger> {
    let mut out = Vec::new();
    if rules.as_seq().is_none() {
        return out;
    }
    for rule in rules.flattened() {
        if rule.get("when").and_then(GNode::as_str) == Some("never") {
            continue;
        }
        let location = Location::new(rule.file.to_string(), rule.line);
        let paths = rule
            .get("changes")
            .map(|c| match c.get("paths") {
                Some(p) => p.string_list(),
                None => c.string_list(),
            })
            .unwrap_or_default();
        match rule.get("if").and_then(GNode::scalar_text) {
            Some(expr) => {
                let mut found = from_expression(&expr, &location);
                for t in &mut found {
                    t.paths.clone_from(&paths);
                }
                out.extend(found);
            }
            None if catch_all => out.push(Trigger {
                kind: TriggerKind::Push,
                branches: Vec::new(),
                paths,
                detail: vec!["rule without `if:` admits every pipeline".into()],
                location,
            }),
            None => {}
        }
    }
    out
}

/// Triggers from `only:` (a list of refs/keywords or `{refs: [...]}`).
pub(crate) fn from_only(only: &GNode) -> Vec<Trigger> {
    let refs = match only.get("refs") {
        Some(refs) => refs,
        None if only.is_map() => return Vec::new(),
        None => only,
    };
    let location = Location::new(refs.file.to_string(), refs.line);
    let mut out: Vec<Trigger> = Vec::new();
    let mut branches = Vec::new();
    for item in refs.string_list() {
        match source_kind(&item) {
            Some(kind) => out.push(Trigger {
                kind,
                branches: Vec::new(),
                paths: Vec::new(),
                detail: vec![format!("only: {item}")],
                location: location.clone(),
            }),
            None => branches.push(item),
        }
    }
    if !branches.is_empty() {
        out.push(Trigger {
            kind: TriggerKind::Push,
            detail: vec![format!("only: {}", branches.join(", "))],
            branches,
            paths: Vec::new(),
            location,
        });
    }
    out
}

/// Add triggers, skipping ones already listed with the same kind and filters.
pub(crate) fn merge_into(list: &mut Vec<Trigger>, found: Vec<Trigger>) {
    for t in found {
        if !list
            .iter()
            .any(|e| e.kind == t.kind && e.branches == t.branches && e.paths == t.paths)
        {
            list.push(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Location {
        Location::new("ci.yml", 3)
    }

    fn kinds(ts: &[Trigger]) -> Vec<TriggerKind> {
        ts.iter().map(|t| t.kind.clone()).collect()
    }

    #[test]
    fn pipeline_sources() {
        let ts = from_expression(r#"$CI_PIPELINE_SOURCE == "merge_request_event""#, &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::PullRequest]);
        let ts = from_expression(r#"$CI_PIPELINE_SOURCE =~ /^(schedule|web)$/"#, &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::Manual, TriggerKind::Schedule]);
        let ts = from_expression(r#"$CI_PIPELINE_SOURCE == "parent_pipeline""#, &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::Upstream]);
        let ts = from_expression(
            r#"$CI_PIPELINE_SOURCE == "api" || $CI_PIPELINE_SOURCE == "trigger""#,
            &here(),
        );
        assert_eq!(kinds(&ts), vec![TriggerKind::Api]);
        // Negations admit nothing.
        assert!(from_expression(r#"$CI_PIPELINE_SOURCE != "schedule""#, &here()).is_empty());
    }

    #[test]
    fn branches_tags_and_trains() {
        let ts = from_expression(r#"$CI_COMMIT_BRANCH == "main""#, &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::Push]);
        assert_eq!(ts[0].branches, vec!["main"]);
        assert_eq!(ts[0].location, here());
        let ts = from_expression("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", &here());
        assert_eq!(ts[0].branches, vec!["$CI_DEFAULT_BRANCH"]);
        let ts = from_expression("$CI_COMMIT_TAG =~ /^v\\d+/", &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::Tag]);
        assert_eq!(ts[0].branches, vec!["/^v\\d+/"]);
        let ts = from_expression("$CI_COMMIT_TAG", &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::Tag]);
        assert!(from_expression("$CI_COMMIT_TAG == null", &here()).is_empty());
        let ts = from_expression(r#"$CI_MERGE_REQUEST_EVENT_TYPE == "merge_train""#, &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::MergeQueue]);
        let ts = from_expression("$CI_MERGE_REQUEST_IID", &here());
        assert_eq!(kinds(&ts), vec![TriggerKind::PullRequest]);
    }

    #[test]
    fn only_keywords_and_refs() {
        use crate::pipeline::yaml;
        use std::sync::Arc;
        let n =
            yaml::parse("only: [main, tags, merge_requests, schedules, web, /^release/]").unwrap();
        let g = GNode::from_yaml(&n, &Arc::from("ci.yml"), 0);
        let ts = from_only(g.get("only").unwrap());
        assert_eq!(
            kinds(&ts),
            vec![
                TriggerKind::Tag,
                TriggerKind::PullRequest,
                TriggerKind::Schedule,
                TriggerKind::Manual,
                TriggerKind::Push
            ]
        );
        assert_eq!(ts[4].branches, vec!["main", "/^release/"]);
    }
}
