//! `on:` — what starts a workflow.

use crate::evidence::Location;
use crate::pipeline::yaml::{Node, Value};
use crate::pipeline::{Trigger, TriggerKind};

use super::location;

/// The triggers of a workflow and the raw event names (for "reusable only").
///
/// `on:` comes in three shapes: one event name, a list of names, or a mapping of
/// names to filters. Each trigger is located at its event's key (or list item).
pub(super) fn parse_on(path: &str, root: &Node) -> (Vec<Trigger>, Vec<String>) {
    let mut triggers = Vec::new();
    let mut events = Vec::new();
    let Some(on) = root.get("on") else {
        return (triggers, events);
    };
    let mut add = |name: String, body: Option<&Node>, at: &Node| {
        triggers.extend(event_triggers(&name, body, location(path, at)));
        events.push(name);
    };
    match &on.value {
        Value::Map(entries) => {
            for (key, body) in entries {
                if let Some(name) = key.scalar_text() {
                    add(name, Some(body), key);
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                if let Some(name) = item.scalar_text() {
                    add(name, None, item);
                }
            }
        }
        _ => {
            if let Some(name) = on.scalar_text() {
                add(name, None, on);
            }
        }
    }
    (triggers, events)
}

/// One event into zero, one or two triggers (a push with tag filters is also a
/// tag trigger).
fn event_triggers(name: &str, body: Option<&Node>, location: Location) -> Vec<Trigger> {
    let trigger = |kind: TriggerKind| Trigger {
        kind,
        branches: Vec::new(),
        paths: Vec::new(),
        detail: Vec::new(),
        location: location.clone(),
    };
    let get = |key: &str| body.and_then(|b| b.get(key));
    let has = |key: &str| get(key).is_some();
    let filters = |include: &str, exclude: &str| filter_list(get(include), get(exclude));
    let types = || get("types").map(Node::string_list).unwrap_or_default();

    match name {
        "push" => {
            // GitHub: with only tag filters a push of a branch does not start
            // the workflow, and with only branch filters a tag push does not.
            let tag_filtered = has("tags") || has("tags-ignore");
            let branch_filtered = has("branches") || has("branches-ignore");
            let mut out = Vec::new();
            if branch_filtered || !tag_filtered {
                out.push(Trigger {
                    branches: filters("branches", "branches-ignore"),
                    paths: filters("paths", "paths-ignore"),
                    ..trigger(TriggerKind::Push)
                });
            }
            if tag_filtered {
                // Path filters are not evaluated for tag pushes.
                out.push(Trigger {
                    branches: filters("tags", "tags-ignore"),
                    ..trigger(TriggerKind::Tag)
                });
            }
            out
        }
        "pull_request" | "pull_request_target" => vec![Trigger {
            branches: filters("branches", "branches-ignore"),
            paths: filters("paths", "paths-ignore"),
            detail: types(),
            ..trigger(TriggerKind::PullRequest)
        }],
        "schedule" => {
            let crons = body
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|entry| entry.get("cron").and_then(Node::scalar_text))
                .collect();
            vec![Trigger {
                detail: crons,
                ..trigger(TriggerKind::Schedule)
            }]
        }
        "workflow_dispatch" => vec![trigger(TriggerKind::Manual)],
        "workflow_run" => vec![Trigger {
            branches: filters("branches", "branches-ignore"),
            detail: get("workflows").map(Node::string_list).unwrap_or_default(),
            ..trigger(TriggerKind::Upstream)
        }],
        "workflow_call" => vec![trigger(TriggerKind::Call)],
        "repository_dispatch" => vec![Trigger {
            detail: types(),
            ..trigger(TriggerKind::Api)
        }],
        "merge_group" => vec![Trigger {
            detail: types(),
            ..trigger(TriggerKind::MergeQueue)
        }],
        "release" => vec![Trigger {
            detail: types(),
            ..trigger(TriggerKind::Release)
        }],
        other => vec![Trigger {
            detail: types(),
            ..trigger(TriggerKind::Other(other.to_string()))
        }],
    }
}

/// Include filters as written, then exclude filters with a leading `!`.
fn filter_list(include: Option<&Node>, exclude: Option<&Node>) -> Vec<String> {
    let mut out = include.map(Node::string_list).unwrap_or_default();
    out.extend(
        exclude
            .map(Node::string_list)
            .unwrap_or_default()
            .into_iter()
            .map(|x| format!("!{x}")),
    );
    out
}
