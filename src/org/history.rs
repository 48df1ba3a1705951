//! History of org scans in an embedded SQLite database: every run (or merge of
//! shards) is one row of `runs` plus one row per repository in `repo_results`, so
//! `trend` can show how each repository and the organisation moved. A resumed run
//! keeps its run id and replaces its rows instead of adding a run.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Status;
use super::summary::Summary;

const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    scanned INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    mean_overall REAL,
    mean_score REAL
);
CREATE TABLE IF NOT EXISTS repo_results (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    repo TEXT NOT NULL,
    status TEXT NOT NULL,
    overall INTEGER,
    mean_score REAL,
    items TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (run, repo)
);
CREATE INDEX IF NOT EXISTS repo_results_repo ON repo_results(repo);
";

fn open(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    conn.execute_batch(SCHEMA_SQL)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Record (or replace) the run `run_id` with the summary's repositories.
pub fn record(
    path: &Path,
    run_id: &str,
    recorded_at: &str,
    summary: &Summary,
) -> Result<(), String> {
    let mut conn = open(path)?;
    let err = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let tx = conn.transaction().map_err(err)?;
    let scanned: Vec<_> = summary
        .repos
        .iter()
        .filter(|r| r.overall.is_some())
        .collect();
    let mean_overall = mean(scanned.iter().filter_map(|r| r.overall.map(f64::from)));
    let mean_score = mean(scanned.iter().filter_map(|r| r.mean_score));
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM runs WHERE run_id = ?1",
            params![run_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    let id = match existing {
        Some(id) => {
            tx.execute("DELETE FROM repo_results WHERE run = ?1", params![id])
                .map_err(err)?;
            tx.execute(
                "UPDATE runs SET target = ?2, recorded_at = ?3, scanned = ?4, failed = ?5, mean_overall = ?6, mean_score = ?7 WHERE id = ?1",
                params![id, summary.target, recorded_at, summary.scanned as i64, summary.failed as i64, mean_overall, mean_score],
            )
            .map_err(err)?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO runs (run_id, target, recorded_at, scanned, failed, mean_overall, mean_score) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![run_id, summary.target, recorded_at, summary.scanned as i64, summary.failed as i64, mean_overall, mean_score],
            )
            .map_err(err)?;
            tx.last_insert_rowid()
        }
    };
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO repo_results (run, repo, status, overall, mean_score, items, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(err)?;
        for r in &summary.repos {
            let status = match r.status {
                Status::Done => "done",
                Status::Failed => "failed",
                Status::Pending => "pending",
            };
            let items = serde_json::to_string(&r.items).unwrap_or_else(|_| "[]".into());
            insert
                .execute(params![
                    id,
                    r.full_name,
                    status,
                    r.overall.map(i64::from),
                    r.mean_score,
                    items,
                    r.error
                ])
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgPoint {
    pub run_id: String,
    pub recorded_at: String,
    pub target: String,
    pub scanned: i64,
    pub failed: i64,
    pub mean_overall: Option<f64>,
    pub mean_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoPoint {
    pub run_id: String,
    pub status: String,
    pub overall: Option<u8>,
    pub mean_score: Option<f64>,
    pub items: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoTrend {
    pub repo: String,
    /// Oldest first.
    pub points: Vec<RepoPoint>,
    /// Overall level of the last scan minus that of the first scan.
    pub overall_change: Option<i32>,
    pub mean_score_change: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub schema: &'static str,
    /// Oldest first.
    pub runs: Vec<OrgPoint>,
    pub repos: Vec<RepoTrend>,
}

/// The history in `path`; only `repo` (full name, or its last segment) when given.
pub fn trend(path: &Path, repo: Option<&str>) -> Result<Trend, String> {
    if !path.is_file() {
        return Err(format!("{}: no history database", path.display()));
    }
    let conn = open(path)?;
    let err = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let mut stmt = conn
        .prepare("SELECT run_id, recorded_at, target, scanned, failed, mean_overall, mean_score FROM runs ORDER BY recorded_at, id")
        .map_err(err)?;
    let runs = stmt
        .query_map([], |r| {
            Ok(OrgPoint {
                run_id: r.get(0)?,
                recorded_at: r.get(1)?,
                target: r.get(2)?,
                scanned: r.get(3)?,
                failed: r.get(4)?,
                mean_overall: r.get(5)?,
                mean_score: r.get(6)?,
            })
        })
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let mut stmt = conn
        .prepare(
            "SELECT rr.repo, runs.run_id, rr.status, rr.overall, rr.mean_score, rr.items FROM repo_results rr JOIN runs ON runs.id = rr.run ORDER BY rr.repo, runs.recorded_at, runs.id",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            let items: String = r.get(5)?;
            let overall: Option<i64> = r.get(3)?;
            Ok((
                r.get::<_, String>(0)?,
                RepoPoint {
                    run_id: r.get(1)?,
                    status: r.get(2)?,
                    overall: overall.and_then(|o| u8::try_from(o).ok()),
                    mean_score: r.get(4)?,
                    items: serde_json::from_str(&items).unwrap_or_default(),
                },
            ))
        })
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let mut repos: Vec<RepoTrend> = Vec::new();
    for (name, point) in rows {
        let wanted = repo.is_none_or(|w| name == w || name.rsplit('/').next() == Some(w));
        if !wanted {
            continue;
        }
        match repos.last_mut() {
            Some(t) if t.repo == name => t.points.push(point),
            _ => repos.push(RepoTrend {
                repo: name,
                points: vec![point],
                overall_change: None,
                mean_score_change: None,
            }),
        }
    }
    for t in &mut repos {
        let scored: Vec<&RepoPoint> = t.points.iter().filter(|p| p.overall.is_some()).collect();
        if let (Some(first), Some(last)) = (scored.first(), scored.last()) {
            t.overall_change = first
                .overall
                .zip(last.overall)
                .map(|(a, b)| i32::from(b) - i32::from(a));
            t.mean_score_change = first.mean_score.zip(last.mean_score).map(|(a, b)| b - a);
        }
    }
    Ok(Trend {
        schema: "mlops-maturity/org-trend/v1",
        runs,
        repos,
    })
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
}

/// The text form: the organisation run by run, then each repository that moved
/// (every repository when `all`).
pub fn render_text(t: &Trend, all: bool) -> String {
    let mut o = String::from("Runs (oldest first)\n");
    for r in &t.runs {
        o.push_str(&format!(
            "  {}  {}  {} scanned, {} failed, mean overall {}, mean score {}\n",
            r.recorded_at,
            r.run_id,
            r.scanned,
            r.failed,
            opt(r.mean_overall),
            opt(r.mean_score)
        ));
    }
    if let (Some(first), Some(last)) = (t.runs.first(), t.runs.last())
        && t.runs.len() > 1
    {
        o.push_str(&format!(
            "  org: mean overall {} → {}, mean score {} → {}\n",
            opt(first.mean_overall),
            opt(last.mean_overall),
            opt(first.mean_score),
            opt(last.mean_score)
        ));
    }
    let moved: Vec<&RepoTrend> = t
        .repos
        .iter()
        .filter(|r| {
            all || r.overall_change.is_some_and(|c| c != 0)
                || r.mean_score_change.is_some_and(|c| c.abs() > 1e-9)
        })
        .collect();
    o.push_str(&format!(
        "\nRepositories{} ({})\n",
        if all { "" } else { " that moved" },
        moved.len()
    ));
    for r in moved {
        let levels: Vec<String> = r
            .points
            .iter()
            .map(|p| match p.overall {
                Some(l) => format!("L{l}"),
                None => p.status.clone(),
            })
            .collect();
        o.push_str(&format!(
            "  {:<40} {}  (overall {:+}, mean score {:+.2})\n",
            r.repo,
            levels.join(" → "),
            r.overall_change.unwrap_or(0),
            r.mean_score_change.unwrap_or(0.0)
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::summary::{RepoRow, summarise};

    fn row(name: &str, overall: u8, mean: f64) -> RepoRow {
        RepoRow {
            full_name: name.into(),
            target: format!("github:{name}"),
            status: Status::Done,
            error: None,
            overall: Some(overall),
            mean_score: Some(mean),
            items: vec![overall; 12],
            sub_items: vec![overall; 32],
            diagnostics_errors: 0,
            next_steps: vec![],
        }
    }

    #[test]
    fn records_runs_and_shows_movement() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("h.sqlite");
        let s1 = summarise(
            "github:o".into(),
            vec![row("o/a", 1, 1.2), row("o/b", 2, 2.0)],
        );
        record(&db, "run-1", "2026-11-01T00:00:00Z", &s1).unwrap();
        let s2 = summarise(
            "github:o".into(),
            vec![row("o/a", 2, 2.1), row("o/b", 2, 2.0)],
        );
        record(&db, "run-2", "2026-11-08T00:00:00Z", &s2).unwrap();
        // A resumed run replaces its rows.
        record(&db, "run-2", "2026-11-08T00:00:00Z", &s2).unwrap();
        let t = trend(&db, None).unwrap();
        assert_eq!(t.runs.len(), 2);
        assert_eq!(t.runs[1].mean_overall, Some(2.0));
        let a = &t.repos[0];
        assert_eq!(a.repo, "o/a");
        assert_eq!(a.points.len(), 2);
        assert_eq!(a.overall_change, Some(1));
        let text = render_text(&t, false);
        assert!(text.contains("o/a") && text.contains("L1 → L2"));
        assert!(!text.contains("o/b "), "{text}");
        let only_b = trend(&db, Some("b")).unwrap();
        assert_eq!(only_b.repos.len(), 1);
        assert!(trend(&dir.path().join("none.sqlite"), None).is_err());
    }
}
