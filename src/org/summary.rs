//! The org summary: one row per selected repository (overall level, mean score,
//! the 12 item levels, the 32 sub-item levels, errors), the distribution of levels
//! per sub-item and the most common missing practices (the reports' next steps),
//! rendered as JSON, Markdown, CSV and a self-contained HTML dashboard.
//!
//! The summary holds no time or run id, so merging shards gives byte-for-byte the
//! summary of one run over the same repositories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::standard::{ITEMS, SUB_ITEMS};

use super::run::{read_manifest, write_atomic};
use super::{RepoRun, Status};

/// Summary schema name.
pub const SUMMARY_SCHEMA: &str = "mlops-maturity/org-summary/v1";
/// Missing practices listed.
const TOP_MISSING: usize = 15;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoRow {
    pub full_name: String,
    pub target: String,
    pub status: Status,
    /// The scan failure, when the repository could not be scanned.
    pub error: Option<String>,
    pub overall: Option<u8>,
    pub mean_score: Option<f64>,
    /// Levels of the 12 items in the standard's order (lowest over the projects).
    pub items: Vec<u8>,
    /// Levels of the 32 sub-items in the standard's order.
    pub sub_items: Vec<u8>,
    /// Error diagnostics of the report.
    pub diagnostics_errors: usize,
    /// First next step (English) of every sub-item below level 5.
    #[serde(skip)]
    pub next_steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missing {
    pub step: String,
    pub repos: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub target: String,
    pub repos: Vec<RepoRow>,
    /// Per sub-item id: how many scanned repositories are at level 1..=5.
    pub distribution: BTreeMap<String, [usize; 5]>,
    /// The most common missing practices (next steps), most frequent first.
    pub missing: Vec<Missing>,
    pub scanned: usize,
    pub failed: usize,
    pub pending: usize,
}

fn level(v: &Value) -> u8 {
    v.get("level")
        .and_then(Value::as_u64)
        .and_then(|l| u8::try_from(l).ok())
        .unwrap_or(1)
}

/// The row of one repository from its manifest entry and report.
fn row(run: &RepoRun, report: Option<&Value>, load_error: Option<String>) -> RepoRow {
    let mut r = RepoRow {
        full_name: run.full_name.clone(),
        target: run.target.clone(),
        status: run.status,
        error: run.error.clone().or(load_error.clone()),
        overall: None,
        mean_score: None,
        items: Vec::new(),
        sub_items: Vec::new(),
        diagnostics_errors: 0,
        next_steps: Vec::new(),
    };
    if load_error.is_some() {
        r.status = Status::Failed;
    }
    let Some(report) = report else { return r };
    r.overall = report
        .get("overall")
        .and_then(Value::as_u64)
        .and_then(|l| u8::try_from(l).ok());
    r.mean_score = report.get("mean_score").and_then(Value::as_f64);
    r.diagnostics_errors = report
        .get("diagnostics")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter(|x| x.get("severity").and_then(Value::as_str) == Some("error"))
                .count()
        })
        .unwrap_or(0);
    let mut items: BTreeMap<String, u8> = BTreeMap::new();
    let mut subs: BTreeMap<String, u8> = BTreeMap::new();
    let mut steps = Vec::new();
    let projects = report.get("projects").and_then(Value::as_array);
    for project in projects.into_iter().flatten() {
        let domains = project.get("sub_domains").and_then(Value::as_array);
        for item in domains
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("items").and_then(Value::as_array))
            .flatten()
        {
            if let Some(id) = item.get("id").and_then(Value::as_str) {
                let l = level(item);
                items
                    .entry(id.to_string())
                    .and_modify(|x| *x = (*x).min(l))
                    .or_insert(l);
            }
            for sub in item
                .get("sub_items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = sub.get("id").and_then(Value::as_str) {
                    let l = level(sub);
                    subs.entry(id.to_string())
                        .and_modify(|x| *x = (*x).min(l))
                        .or_insert(l);
                }
                if let Some(text) = sub
                    .get("next_steps")
                    .and_then(Value::as_array)
                    .and_then(|n| n.first())
                    .and_then(|n| n.get("text"))
                    .and_then(|t| t.get("en"))
                    .and_then(Value::as_str)
                {
                    steps.push(text.to_string());
                }
            }
        }
    }
    r.items = ITEMS
        .iter()
        .map(|i| items.get(i.id).copied().unwrap_or(1))
        .collect();
    r.sub_items = SUB_ITEMS
        .iter()
        .map(|s| subs.get(s.id).copied().unwrap_or(1))
        .collect();
    steps.sort();
    steps.dedup();
    r.next_steps = steps;
    r
}

/// Largest report read (a report is a few hundred KiB at most).
const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

fn read_report(path: &Path) -> Result<Value, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_REPORT_BYTES {
        return Err(format!("{}: too large for a report", path.display()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    if v.get("schema").and_then(Value::as_str) != Some(crate::report::SCHEMA) {
        return Err(format!(
            "{}: not a {} report",
            path.display(),
            crate::report::SCHEMA
        ));
    }
    Ok(v)
}

/// The summary of one or more output folders (shards of one run, or one run).
/// A repository in several folders counts once, a `done` entry winning.
pub fn load(dirs: &[PathBuf]) -> Result<Summary, String> {
    let mut target = String::new();
    let mut runs: BTreeMap<String, (PathBuf, RepoRun)> = BTreeMap::new();
    for dir in dirs {
        let manifest = read_manifest(dir)?
            .ok_or_else(|| format!("{}: no run.json (not a scan-org output)", dir.display()))?;
        if target.is_empty() {
            target = manifest.target.clone();
        } else if target != manifest.target {
            return Err(format!(
                "{}: a run of {}, the others are of {target}",
                dir.display(),
                manifest.target
            ));
        }
        for r in manifest.repos {
            let replace = runs
                .get(&r.full_name)
                .is_none_or(|(_, old)| old.status != Status::Done && r.status == Status::Done);
            if replace {
                runs.insert(r.full_name.clone(), (dir.clone(), r));
            }
        }
    }
    let mut repos = Vec::new();
    for (dir, run) in runs.values() {
        if run.status == Status::Done {
            // A manifest names its own files: never leave the folder.
            let safe = run.file.starts_with("repos/")
                && !run.file.contains("..")
                && !run.file.contains('\\');
            let report = if safe {
                read_report(&dir.join(&run.file))
            } else {
                Err(format!("{}: unsafe report path", run.file))
            };
            match report {
                Ok(v) => repos.push(row(run, Some(&v), None)),
                Err(e) => repos.push(row(run, None, Some(e))),
            }
        } else {
            repos.push(row(run, None, None));
        }
    }
    Ok(summarise(target, repos))
}

pub fn summarise(target: String, repos: Vec<RepoRow>) -> Summary {
    let mut distribution: BTreeMap<String, [usize; 5]> = SUB_ITEMS
        .iter()
        .map(|s| (s.id.to_string(), [0; 5]))
        .collect();
    let mut missing: BTreeMap<&str, usize> = BTreeMap::new();
    for r in repos.iter().filter(|r| r.overall.is_some()) {
        for (s, l) in SUB_ITEMS.iter().zip(&r.sub_items) {
            if let Some(slot) = distribution
                .get_mut(s.id)
                .and_then(|d| d.get_mut(usize::from(l.saturating_sub(1)).min(4)))
            {
                *slot += 1;
            }
        }
        for step in &r.next_steps {
            *missing.entry(step).or_insert(0) += 1;
        }
    }
    let mut missing: Vec<Missing> = missing
        .into_iter()
        .map(|(step, repos)| Missing {
            step: step.to_string(),
            repos,
        })
        .collect();
    missing.sort_by(|a, b| b.repos.cmp(&a.repos).then_with(|| a.step.cmp(&b.step)));
    missing.truncate(TOP_MISSING);
    let count = |s: Status| repos.iter().filter(|r| r.status == s).count();
    Summary {
        schema: SUMMARY_SCHEMA,
        scanned: repos.iter().filter(|r| r.overall.is_some()).count(),
        failed: count(Status::Failed),
        pending: count(Status::Pending),
        target,
        repos,
        distribution,
        missing,
    }
}

/// Write `summary.json`, `summary.md`, `summary.csv` and `index.html` into `dir`.
pub fn write_all(dir: &Path, summary: &Summary) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())? + "\n";
    write_atomic(&dir.join("summary.json"), &json)?;
    write_atomic(&dir.join("summary.md"), &markdown(summary))?;
    write_atomic(&dir.join("summary.csv"), &csv(summary))?;
    write_atomic(&dir.join("index.html"), &html(summary))
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Done => "done",
        Status::Failed => "failed",
        Status::Pending => "pending",
    }
}

/// A CSV field: quoted when it holds a separator, a quote or a line break; a
/// leading `=`, `+`, `-`, `@` is defused so spreadsheets do not run it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub fn csv(summary: &Summary) -> String {
    let mut out = String::from("repository,status,overall,mean_score");
    for i in &ITEMS {
        out.push_str(&format!(",{}", i.id));
    }
    out.push_str(",errors\n");
    for r in &summary.repos {
        let levels: String = if r.items.is_empty() {
            ",".repeat(ITEMS.len())
        } else {
            r.items.iter().map(|l| format!(",{l}")).collect()
        };
        let errors = match &r.error {
            Some(e) => e.clone(),
            None if r.diagnostics_errors > 0 => {
                format!("{} error diagnostics", r.diagnostics_errors)
            }
            None => String::new(),
        };
        out.push_str(&format!(
            "{},{},{},{}{levels},{}\n",
            csv_field(&r.full_name),
            status_label(r.status),
            r.overall.map(|o| o.to_string()).unwrap_or_default(),
            r.mean_score.map(|m| format!("{m:.2}")).unwrap_or_default(),
            csv_field(&errors)
        ));
    }
    out
}

/// Markdown table cells: no line breaks, pipes escaped, HTML defused.
fn md_cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn markdown(summary: &Summary) -> String {
    let mut o = format!(
        "# MLOps maturity: {}\n\n{} repositories scanned, {} failed, {} pending.\n\n",
        md_cell(&summary.target),
        summary.scanned,
        summary.failed,
        summary.pending
    );
    o.push_str("| Repository | Overall | Mean |");
    for i in &ITEMS {
        o.push_str(&format!(" {} |", i.id));
    }
    o.push_str(" Errors |\n|---|---|---|");
    o.push_str(&"---|".repeat(ITEMS.len()));
    o.push_str("---|\n");
    for r in &summary.repos {
        o.push_str(&format!(
            "| {} | {} | {} |",
            md_cell(&r.full_name),
            r.overall
                .map(|l| l.to_string())
                .unwrap_or_else(|| "—".into()),
            r.mean_score
                .map(|m| format!("{m:.2}"))
                .unwrap_or_else(|| "—".into())
        ));
        for l in &r.items {
            o.push_str(&format!(" {l} |"));
        }
        if r.items.is_empty() {
            o.push_str(&" — |".repeat(ITEMS.len()));
        }
        o.push_str(&format!(
            " {} |\n",
            md_cell(r.error.as_deref().unwrap_or(""))
        ));
    }
    o.push_str("\nItems: ");
    let names: Vec<String> = ITEMS
        .iter()
        .map(|i| format!("{} {}", i.id, i.name.both()))
        .collect();
    o.push_str(&names.join(" · "));
    o.push_str("\n\n## Most common missing practices\n\n");
    for m in &summary.missing {
        o.push_str(&format!(
            "- {} ({} repositories)\n",
            md_cell(&m.step),
            m.repos
        ));
    }
    o
}

/// Escape text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const COLORS: [&str; 5] = ["#f4cccc", "#fce5cd", "#fff2cc", "#d9ead3", "#93c47d"];

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:center}\
th{background:#f6f6f6;cursor:pointer;vertical-align:bottom}th.item{min-width:64px;font-weight:normal}\
td.name{text-align:left;white-space:nowrap;max-width:320px;overflow:hidden;text-overflow:ellipsis}\
td.failed{background:#eee;color:#900;text-align:left}.l1{background:#f4cccc}.l2{background:#fce5cd}\
.l3{background:#fff2cc}.l4{background:#d9ead3}.l5{background:#93c47d}\
.bar{display:flex;width:300px;height:14px}.bar span{display:block;height:14px}\
.legend span{display:inline-block;padding:2px 8px;margin-right:4px}.muted{color:#777}";

const SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th,i){\
th.addEventListener('click',function(){var t=th.closest('table'),b=t.tBodies[0],r=[].slice.call(b.rows);\
var d=th.dataset.dir==='asc'?-1:1;th.dataset.dir=d===1?'asc':'desc';r.sort(function(x,y){\
var a=x.cells[i].dataset.v||x.cells[i].textContent,c=y.cells[i].dataset.v||y.cells[i].textContent;\
var na=parseFloat(a),nc=parseFloat(c);if(!isNaN(na)&&!isNaN(nc))return (na-nc)*d;return a.localeCompare(c)*d;});\
r.forEach(function(x){b.appendChild(x);});});});";

/// The dashboard: one HTML file, inline CSS and JS, nothing fetched.
pub fn html(summary: &Summary) -> String {
    let e = escape_html;
    let mut o = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">");
    o.push_str(&format!(
        "<title>MLOps maturity · {}</title><style>{STYLE}</style></head><body>",
        e(&summary.target)
    ));
    o.push_str(&format!(
        "<h1>MLOps maturity · {}</h1><p>{} repositories scanned · {} failed · {} pending</p>",
        e(&summary.target),
        summary.scanned,
        summary.failed,
        summary.pending
    ));
    o.push_str("<p class=\"legend\">");
    for (i, c) in COLORS.iter().enumerate() {
        o.push_str(&format!("<span style=\"background:{c}\">L{}</span>", i + 1));
    }
    o.push_str("</p><h2>Repositories × capability items 仓库 × 能力项</h2>");
    o.push_str("<table class=\"sortable\"><thead><tr><th>Repository 仓库</th><th>Overall 总体</th><th>Mean 均分</th>");
    for i in &ITEMS {
        o.push_str(&format!(
            "<th class=\"item\" title=\"{} {}\">{}<br>{}<br><span class=\"muted\">{}</span></th>",
            e(i.id),
            e(&i.name.both()),
            e(i.id),
            e(i.name.zh),
            e(i.name.en)
        ));
    }
    o.push_str("</tr></thead><tbody>");
    for r in &summary.repos {
        o.push_str(&format!(
            "<tr><td class=\"name\" title=\"{0}\">{0}</td>",
            e(&r.full_name)
        ));
        match r.overall {
            Some(overall) => {
                o.push_str(&format!(
                    "<td class=\"l{overall}\">{overall}</td><td>{:.2}</td>",
                    r.mean_score.unwrap_or(0.0)
                ));
                for l in &r.items {
                    o.push_str(&format!("<td class=\"l{l}\">{l}</td>"));
                }
            }
            None => {
                o.push_str(&format!(
                    "<td data-v=\"0\">—</td><td data-v=\"0\">—</td><td class=\"failed\" colspan=\"{}\">{}: {}</td>",
                    ITEMS.len(),
                    status_label(r.status),
                    e(r.error.as_deref().unwrap_or(""))
                ));
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>");

    o.push_str("<h2>Levels per sub-item 各能力子项等级分布</h2><table><thead><tr><th>Sub-item 能力子项</th><th>L1</th><th>L2</th><th>L3</th><th>L4</th><th>L5</th><th>Distribution</th></tr></thead><tbody>");
    for s in &SUB_ITEMS {
        let counts = summary.distribution.get(s.id).copied().unwrap_or([0; 5]);
        let total: usize = counts.iter().sum();
        o.push_str(&format!(
            "<tr><td class=\"name\">{} {} <span class=\"muted\">{}</span></td>",
            e(s.id),
            e(s.name.zh),
            e(s.name.en)
        ));
        for c in counts {
            o.push_str(&format!("<td>{c}</td>"));
        }
        o.push_str("<td><div class=\"bar\">");
        for (i, c) in counts.iter().enumerate() {
            if *c > 0 && total > 0 {
                o.push_str(&format!(
                    "<span style=\"width:{:.1}%;background:{}\" title=\"L{}: {c}\"></span>",
                    *c as f64 * 100.0 / total as f64,
                    COLORS.get(i).unwrap_or(&"#ccc"),
                    i + 1
                ));
            }
        }
        o.push_str("</div></td></tr>");
    }
    o.push_str("</tbody></table>");

    o.push_str("<h2>Most common missing practices 最常缺失的实践</h2><table><thead><tr><th>Next step 下一步</th><th>Repositories 仓库数</th></tr></thead><tbody>");
    for m in &summary.missing {
        o.push_str(&format!(
            "<tr><td class=\"name\" style=\"white-space:normal;max-width:900px\">{}</td><td>{}</td></tr>",
            e(&m.step),
            m.repos
        ));
    }
    o.push_str("</tbody></table>");
    o.push_str("<p class=\"muted\">generated by mlops-maturity scan-org; levels 1-5 of the CAICT model delivery standard</p>");
    o.push_str(&format!("<script>{SCRIPT}</script></body></html>\n"));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hostile_row() -> RepoRow {
        RepoRow {
            full_name: "o/<script>alert(1)</script>\"'&".into(),
            target: "github:o/x".into(),
            status: Status::Failed,
            error: Some("<img src=x onerror=alert(2)>".into()),
            overall: None,
            mean_score: None,
            items: vec![],
            sub_items: vec![],
            diagnostics_errors: 0,
            next_steps: vec![],
        }
    }

    #[test]
    fn html_escapes_everything_from_repositories() {
        let s = summarise("github:<o>".into(), vec![hostile_row()]);
        let page = html(&s);
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        assert!(page.contains("github:&lt;o&gt;"));
        // Exactly one script: ours.
        assert_eq!(page.matches("<script>").count(), 1);
        assert!(!page.contains("src=\"http"));
    }

    #[test]
    fn csv_quotes_and_defuses() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        let s = summarise("t".into(), vec![hostile_row()]);
        let text = csv(&s);
        assert_eq!(text.lines().count(), 2);
        assert_eq!(text.lines().next().unwrap().split(',').count(), 4 + 12 + 1);
    }

    #[test]
    fn rows_read_reports() {
        let report = serde_json::json!({
            "schema": crate::report::SCHEMA, "overall": 2, "mean_score": 2.5, "diagnostics": [{"severity": "error"}],
            "projects": [{"sub_domains": [{"items": [{"id": "1.1", "level": 3, "sub_items": [
                {"id": "1.1.1", "level": 3, "next_steps": [{"text": {"en": "Pin the environment", "zh": "x"}}]}
            ]}]}]}]
        });
        let run = RepoRun {
            target: "github:o/r".into(),
            full_name: "o/r".into(),
            file: "repos/o__r.json".into(),
            status: Status::Done,
            error: None,
            requests: 3,
            run_id: None,
        };
        let r = row(&run, Some(&report), None);
        assert_eq!(r.items.len(), 12);
        assert_eq!(r.items[0], 3);
        assert_eq!(r.items[1], 1);
        assert_eq!(r.sub_items[0], 3);
        assert_eq!(r.diagnostics_errors, 1);
        let s = summarise("t".into(), vec![r.clone(), r]);
        assert_eq!(s.missing[0].repos, 2);
        assert_eq!(s.distribution["1.1.1"], [0, 0, 2, 0, 0]);
    }
}
