//! `--history FILE`: deployment, run, release and commit events from JSON Lines
//! or CSV (format in `docs/history.md`). Bad lines become diagnostics naming
//! `FILE:line`; reading goes on.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;

use super::time::parse_rfc3339;
use super::{
    Accumulator, CommitEvent, DeploymentEvent, Event, HistoryConfig, Metrics, ReleaseEvent,
    RunEvent, StatusEvent,
};
use crate::evidence::{ApiRecord, Diagnostic, Location};

/// Lines longer than this are refused (a history line is a few hundred bytes).
const MAX_LINE_BYTES: usize = 1 << 20;
/// Diagnostics listed per file; the rest are summed up in one last diagnostic.
const MAX_DIAGNOSTICS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFormat {
    JsonLines,
    Csv,
}

impl HistoryFormat {
    /// `.csv` → CSV; `.jsonl`/`.ndjson`/`.json` → JSON Lines; otherwise `None` (sniff the content).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(HistoryFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(HistoryFormat::JsonLines),
            _ => None,
        }
    }
}

/// Read every event of a history file. Fails only when the file cannot be opened;
/// bad lines are diagnostics.
pub fn import_file(path: impl AsRef<Path>) -> anyhow::Result<(Vec<Event>, Vec<Diagnostic>)> {
    let path = path.as_ref();
    let file =
        File::open(path).with_context(|| format!("cannot open history file {}", path.display()))?;
    let name = path.to_string_lossy().replace('\\', "/");
    Ok(import_reader(
        BufReader::new(file),
        &name,
        HistoryFormat::from_path(path),
    ))
}

/// [`import_file`] over any reader; `name` is used in records and diagnostics.
pub fn import_reader(
    reader: impl BufRead,
    name: &str,
    format: Option<HistoryFormat>,
) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let diags = read_events(reader, name, format, |e| events.push(e));
    (events, diags)
}

/// Stream events to `sink` one line at a time (for bounded memory with an
/// [`Accumulator`](super::Accumulator)). Returns the diagnostics.
pub fn read_events(
    mut reader: impl BufRead,
    name: &str,
    format: Option<HistoryFormat>,
    mut sink: impl FnMut(Event),
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut format = format;
    let mut header: Option<Vec<String>> = None;
    let mut buf = Vec::new();
    let mut line_no: u32 = 0;
    let mut suppressed = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                diags.push(Diagnostic::error(
                    "history-read",
                    format!("cannot read further: {e}"),
                    Some(Location::new(name, line_no.saturating_add(1))),
                ));
                break;
            }
        }
        line_no = line_no.saturating_add(1);
        let here = || Some(Location::new(name, line_no));
        if buf.len() > MAX_LINE_BYTES {
            diags.push(Diagnostic::warning(
                "history-bad-line",
                format!("line longer than {MAX_LINE_BYTES} bytes; skipped"),
                here(),
            ));
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            diags.push(Diagnostic::warning(
                "history-bad-line",
                "line is not UTF-8; skipped",
                here(),
            ));
            continue;
        };
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fmt = *format.get_or_insert(if text.starts_with('{') {
            HistoryFormat::JsonLines
        } else {
            HistoryFormat::Csv
        });
        let record = ApiRecord {
            endpoint: format!("--history {name}"),
            record: Some(format!("{name}:{line_no}")),
            url: None,
        };
        let mut line_diags = Vec::new();
        let event = match fmt {
            HistoryFormat::JsonLines => json_line(text, record, &mut line_diags),
            HistoryFormat::Csv => match &header {
                None => {
                    let cols: Vec<String> = match split_csv(text) {
                        Ok(c) => c
                            .into_iter()
                            .map(|c| c.trim().to_ascii_lowercase())
                            .collect(),
                        Err(e) => {
                            diags.push(Diagnostic::error(
                                "history-bad-line",
                                format!("bad CSV header: {e}"),
                                here(),
                            ));
                            return diags;
                        }
                    };
                    if !cols.iter().any(|c| c == "type") {
                        diags.push(Diagnostic::error(
                            "history-bad-line",
                            "CSV header has no `type` column; file skipped",
                            here(),
                        ));
                        return diags;
                    }
                    header = Some(cols);
                    None
                }
                Some(cols) => csv_line(text, cols, record, &mut line_diags),
            },
        };
        for (code, message) in line_diags {
            // A file of a million bad lines must not become a million diagnostics.
            if diags.len() < MAX_DIAGNOSTICS {
                diags.push(Diagnostic::warning(
                    code,
                    message,
                    Some(Location::new(name, line_no)),
                ));
            } else {
                suppressed += 1;
            }
        }
        if let Some(event) = event {
            sink(event);
        }
    }
    if suppressed > 0 {
        diags.push(Diagnostic::warning(
            "history-bad-line",
            format!("{suppressed} more problem(s) not listed"),
            Some(Location::file(name)),
        ));
    }
    diags
}

/// Stream a history file straight into metrics (bounded memory, whatever its length).
/// Fails when the file cannot be opened or the production pattern is invalid.
pub fn metrics_from_file(
    path: impl AsRef<Path>,
    config: &HistoryConfig,
) -> anyhow::Result<(Metrics, Vec<Diagnostic>)> {
    let path = path.as_ref();
    let file =
        File::open(path).with_context(|| format!("cannot open history file {}", path.display()))?;
    let name = path.to_string_lossy().replace('\\', "/");
    let mut acc = Accumulator::new(config.clone())
        .with_context(|| format!("bad production pattern `{}`", config.production_pattern))?;
    let diags = read_events(
        BufReader::new(file),
        &name,
        HistoryFormat::from_path(path),
        |e| acc.push(e),
    );
    Ok((acc.finish(), diags))
}

type LineDiags = Vec<(&'static str, String)>;

fn json_line(text: &str, record: ApiRecord, diags: &mut LineDiags) -> Option<Event> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            diags.push((
                "history-bad-line",
                format!("not a JSON object: {e}; skipped"),
            ));
            return None;
        }
    };
    let Some(object) = value.as_object() else {
        diags.push(("history-bad-line", "not a JSON object; skipped".to_string()));
        return None;
    };
    let mut fields = BTreeMap::new();
    for (key, v) in object {
        let scalar = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        fields.insert(key.to_ascii_lowercase(), scalar);
    }
    let statuses = match object.get("statuses") {
        Some(serde_json::Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let state = item.get("state").and_then(|s| s.as_str());
                let at = item.get("created_at").and_then(|s| s.as_str());
                match state {
                    Some(state) => {
                        let at = at.and_then(|t| {
                            let parsed = parse_rfc3339(t);
                            if parsed.is_none() {
                                diags.push((
                                    "history-bad-time",
                                    format!("status time `{t}` is not RFC 3339; ignored"),
                                ));
                            }
                            parsed
                        });
                        out.push(StatusEvent {
                            state: state.to_string(),
                            at,
                        });
                    }
                    None => diags.push((
                        "history-bad-line",
                        "a status without `state`; ignored".to_string(),
                    )),
                }
            }
            Some(out)
        }
        Some(serde_json::Value::Null) | None => None,
        Some(_) => {
            diags.push((
                "history-bad-line",
                "`statuses` is not an array; ignored".to_string(),
            ));
            None
        }
    };
    build_event(&fields, statuses, record, diags)
}

fn csv_line(
    text: &str,
    header: &[String],
    record: ApiRecord,
    diags: &mut LineDiags,
) -> Option<Event> {
    let cells = match split_csv(text) {
        Ok(c) => c,
        Err(e) => {
            diags.push(("history-bad-line", format!("bad CSV: {e}; skipped")));
            return None;
        }
    };
    if cells.len() != header.len() {
        diags.push((
            "history-bad-line",
            format!(
                "{} cells where the header has {}; skipped",
                cells.len(),
                header.len()
            ),
        ));
        return None;
    }
    let fields: BTreeMap<String, String> = header
        .iter()
        .cloned()
        .zip(cells)
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    build_event(&fields, None, record, diags)
}

/// Split one CSV record (RFC 4180 quoting: `"a, b"`, `""` for a quote). A record
/// spanning several lines is refused.
fn split_csv(line: &str) -> Result<Vec<String>, &'static str> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    cell.push('"');
                    chars.next();
                } else {
                    quoted = false;
                    // Only a separator may follow a closing quote.
                    if !matches!(chars.peek(), None | Some(',')) {
                        return Err("text after a closing quote");
                    }
                }
            }
            (false, ',') => {
                cells.push(std::mem::take(&mut cell));
                at_start = true;
            }
            (_, c) => {
                cell.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("unterminated quote (records spanning lines are not supported)");
    }
    cells.push(cell);
    Ok(cells)
}

fn build_event(
    fields: &BTreeMap<String, String>,
    statuses: Option<Vec<StatusEvent>>,
    source: ApiRecord,
    diags: &mut LineDiags,
) -> Option<Event> {
    let get = |k: &str| fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let owned = |k: &str| get(k).map(str::to_string);
    let fallback_id = source.record.clone().unwrap_or_default();
    let required_time = |k: &str, diags: &mut LineDiags| -> Option<i64> {
        match get(k) {
            None => {
                diags.push(("history-missing-field", format!("no `{k}`; skipped")));
                None
            }
            Some(t) => {
                let parsed = parse_rfc3339(t);
                if parsed.is_none() {
                    diags.push((
                        "history-bad-time",
                        format!("`{k}` `{t}` is not RFC 3339; skipped"),
                    ));
                }
                parsed
            }
        }
    };
    let optional_time = |k: &str, diags: &mut LineDiags| -> Option<i64> {
        let t = get(k)?;
        let parsed = parse_rfc3339(t);
        if parsed.is_none() {
            diags.push((
                "history-bad-time",
                format!("`{k}` `{t}` is not RFC 3339; ignored"),
            ));
        }
        parsed
    };
    let Some(kind) = get("type") else {
        diags.push(("history-missing-field", "no `type`; skipped".to_string()));
        return None;
    };
    match kind.to_ascii_lowercase().as_str() {
        "deployment" | "deploy" => {
            let Some(environment) = owned("environment") else {
                diags.push((
                    "history-missing-field",
                    "deployment without `environment`; skipped".to_string(),
                ));
                return None;
            };
            let created = required_time("created_at", diags)?;
            let finished = optional_time("finished_at", diags);
            // A non-empty `statuses` array wins; else the compact `status` + `finished_at`.
            let statuses = statuses.filter(|s| !s.is_empty()).unwrap_or_else(|| {
                owned("status")
                    .map(|state| {
                        vec![StatusEvent {
                            state,
                            at: finished,
                        }]
                    })
                    .unwrap_or_default()
            });
            Some(Event::Deployment(DeploymentEvent {
                id: owned("id").unwrap_or(fallback_id),
                environment,
                tier: owned("tier"),
                sha: owned("sha"),
                git_ref: owned("ref"),
                created,
                statuses,
                source,
            }))
        }
        "run" | "pipeline" => {
            let created = required_time("created_at", diags)?;
            let finished = optional_time("finished_at", diags);
            let duration_seconds = match get("duration_seconds") {
                None => None,
                Some(d) => match d.parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(v),
                    _ => {
                        diags.push((
                            "history-bad-line",
                            format!("`duration_seconds` `{d}` is not a number; ignored"),
                        ));
                        None
                    }
                },
            };
            Some(Event::Run(RunEvent {
                id: owned("id").unwrap_or(fallback_id),
                workflow: owned("workflow").unwrap_or_default(),
                trigger: owned("event").unwrap_or_default(),
                conclusion: owned("conclusion"),
                sha: owned("sha"),
                branch: owned("branch"),
                created,
                finished,
                duration_seconds,
                source,
            }))
        }
        "release" => {
            let Some(tag) = owned("tag") else {
                diags.push((
                    "history-missing-field",
                    "release without `tag`; skipped".to_string(),
                ));
                return None;
            };
            let created = required_time("created_at", diags)?;
            let prerelease = get("prerelease")
                .is_some_and(|p| matches!(p.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
            Some(Event::Release(ReleaseEvent {
                tag,
                created,
                prerelease,
                source,
            }))
        }
        "commit" => {
            let Some(sha) = owned("sha") else {
                diags.push((
                    "history-missing-field",
                    "commit without `sha`; skipped".to_string(),
                ));
                return None;
            };
            let field = if get("created_at").is_some() {
                "created_at"
            } else {
                "committed_at"
            };
            let time = required_time(field, diags)?;
            Some(Event::Commit(CommitEvent { sha, time, source }))
        }
        other => {
            diags.push((
                "history-unknown-type",
                format!("unknown `type` `{other}` (deployment, run, release, commit); skipped"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(
            split_csv("a,\"b, c\",\"d \"\"e\"\"\",").unwrap(),
            ["a", "b, c", "d \"e\"", ""]
        );
        assert!(split_csv("\"open").is_err());
        assert!(split_csv("\"a\"b,c").is_err());
    }

    #[test]
    fn bad_lines_are_diagnostics_and_reading_goes_on() {
        let text = "\
{\"type\":\"deployment\",\"id\":\"1\",\"environment\":\"production\",\"sha\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\",\"status\":\"success\"}
not json
{\"type\":\"deployment\",\"environment\":\"production\",\"created_at\":\"yesterday\"}
{\"type\":\"spaceship\",\"created_at\":\"2026-01-01T00:00:00Z\"}
[1,2]

# a comment
{\"type\":\"release\",\"tag\":\"v1\",\"created_at\":\"2026-01-02T00:00:00Z\",\"prerelease\":true}
{\"type\":\"run\",\"id\":7,\"created_at\":\"2026-01-02T00:00:00Z\",\"duration_seconds\":\"x\"}
";
        let (events, diags) = import_reader(text.as_bytes(), "h.jsonl", None);
        assert_eq!(events.len(), 3);
        let lines: Vec<(u32, &str)> = diags
            .iter()
            .map(|d| (d.location.as_ref().unwrap().line, d.code.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (2, "history-bad-line"),
                (3, "history-bad-time"),
                (4, "history-unknown-type"),
                (5, "history-bad-line"),
                (9, "history-bad-line"),
            ]
        );
        match &events[2] {
            Event::Run(r) => {
                assert_eq!(r.id, "7");
                assert_eq!(r.source.record.as_deref(), Some("h.jsonl:9"));
            }
            other => panic!("{other:?}"),
        }
        match &events[1] {
            Event::Release(r) => assert!(r.prerelease),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_without_type_column_is_refused() {
        let (events, diags) = import_reader(
            "id,sha\n1,a\n".as_bytes(),
            "h.csv",
            Some(HistoryFormat::Csv),
        );
        assert!(events.is_empty());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].location, Some(Location::new("h.csv", 1)));
    }

    #[test]
    fn csv_cell_count_mismatch() {
        let text = "type,id,environment,created_at,status\ndeployment,1,prod,2026-01-01T00:00:00Z,success\ndeployment,2,prod\n";
        let (events, diags) = import_reader(text.as_bytes(), "h.csv", None);
        assert_eq!(events.len(), 1);
        assert_eq!(diags[0].location, Some(Location::new("h.csv", 3)));
    }
}
