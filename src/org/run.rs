//! The org scan runner: list, filter, shard, then scan the selected repositories
//! on `concurrency` worker threads (each with its own single-threaded runtime, so
//! detection and assessment run in parallel too), recording every repository's
//! outcome in the manifest as it finishes so an interrupted run can resume.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::assess::Table;
use crate::connect::github::{self, GithubError, GithubOptions};
use crate::connect::gitlab::{self, GitlabError, GitlabOptions};
use crate::connect::remote::time::{format_rfc3339, now_unix};
use crate::detect::RuleSet;
use crate::evidence::Snapshot;

use super::{Filters, Manifest, OrgTarget, RUN_SCHEMA, RepoRun, Shard, Status, file_name};

/// Times one repository is scanned again after the rate limit stopped it.
const RATE_LIMIT_RETRIES: u32 = 3;

/// Everything `scan-org` needs.
#[derive(Debug, Clone)]
pub struct OrgOptions {
    pub target: OrgTarget,
    pub github: GithubOptions,
    pub gitlab: GitlabOptions,
    pub filters: Filters,
    pub concurrency: usize,
    pub shard: Option<Shard>,
    pub out: PathBuf,
    pub resume: bool,
    /// Scan at most this many repositories in this invocation (the rest stay
    /// `pending` for `--resume`).
    pub limit: Option<usize>,
    /// Print the progress line on stderr.
    pub progress: bool,
}

/// What a run did, for the caller's last line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    pub listed: usize,
    pub selected: usize,
    pub scanned: usize,
    pub skipped_resumed: usize,
    pub failed: usize,
    pub pending: usize,
    pub requests: u64,
    pub listing_requests: u32,
    pub rate_limit_pauses: u32,
    pub wall: Duration,
}

/// A pause all workers respect: when one scan is stopped by the rate limit, nobody
/// starts a new repository before the reset.
#[derive(Default)]
struct RateGate {
    until: Mutex<Option<Instant>>,
}

impl RateGate {
    fn wait(&self) {
        let until = self.until.lock().map(|u| *u).unwrap_or(None);
        if let Some(t) = until {
            let now = Instant::now();
            if t > now {
                std::thread::sleep(t - now);
            }
        }
    }
    fn pause_for(&self, wait: Duration) {
        if let Ok(mut u) = self.until.lock() {
            let t = Instant::now() + wait;
            if u.is_none_or(|old| old < t) {
                *u = Some(t);
            }
        }
    }
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}

/// Write a file through a temporary sibling, so a crash never leaves half a file.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, String> {
    let path = dir.join("run.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if m.schema != RUN_SCHEMA {
        return Err(format!(
            "{}: schema `{}`, expected `{RUN_SCHEMA}`",
            path.display(),
            m.schema
        ));
    }
    Ok(Some(m))
}

fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{:08x}",
        format_rfc3339(now_unix()).replace([':', '-'], ""),
        nanos ^ std::process::id()
    )
}

enum ScanFailure {
    /// Try again after this wait.
    RateLimited(Duration, String),
    Other(String),
}

/// Scan one repository through its connector.
async fn scan_one(
    target: &OrgTarget,
    full_name: &str,
    gh: &GithubOptions,
    gl: &GitlabOptions,
) -> Result<(Snapshot, u32), (ScanFailure, u32)> {
    match target {
        OrgTarget::Github(_) => {
            let (owner, repo) = full_name.split_once('/').unwrap_or((full_name, ""));
            github::scan(owner, repo, gh)
                .await
                .map(|(s, st)| (s, st.total))
                .map_err(|e| {
                    let failure = match &e {
                        GithubError::RateLimited { wait_seconds, .. } => ScanFailure::RateLimited(
                            Duration::from_secs((*wait_seconds).clamp(1, 3600)),
                            e.to_string(),
                        ),
                        _ => ScanFailure::Other(e.to_string()),
                    };
                    (failure, 0)
                })
        }
        OrgTarget::Gitlab(_) => gitlab::scan(full_name, gl)
            .await
            .map(|(s, st)| (s, st.total))
            .map_err(|e| {
                let failure = match &e {
                    GitlabError::RateLimited { wait_seconds, .. } => ScanFailure::RateLimited(
                        Duration::from_secs((*wait_seconds).clamp(1, 3600)),
                        e.to_string(),
                    ),
                    _ => ScanFailure::Other(e.to_string()),
                };
                (failure, 0)
            }),
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The progress line: done/total, failures, rate, ETA.
struct Progress {
    enabled: bool,
    tty: bool,
    total: usize,
    started: Instant,
    last_plain: Mutex<Instant>,
}

impl Progress {
    fn update(&self, done: usize, failed: usize, current: &str) {
        if !self.enabled {
            return;
        }
        let elapsed = self.started.elapsed();
        let eta = if done > 0 {
            let per = elapsed.as_secs_f64() / done as f64;
            human(Duration::from_secs_f64(
                per * self.total.saturating_sub(done) as f64,
            ))
        } else {
            "?".into()
        };
        let line = format!(
            "[{done}/{}] {failed} failed · {} elapsed · ETA {eta} · {current}",
            self.total,
            human(elapsed)
        );
        if self.tty {
            eprint!("\r\x1b[2K{line}");
            if done == self.total {
                eprintln!();
            }
        } else if let Ok(mut last) = self.last_plain.lock() {
            // Not a terminal (CI logs): a line every 5 s and at the end.
            if last.elapsed() >= Duration::from_secs(5) || done == self.total {
                *last = Instant::now();
                eprintln!("{line}");
            }
        }
    }
}

/// Run `scan-org`. Errors are the run's (no listing, unwritable folder); each
/// repository's failure is recorded in the manifest instead.
pub fn scan_org(options: &OrgOptions) -> Result<(Manifest, RunStats), String> {
    let started = Instant::now();
    let out = &options.out;
    std::fs::create_dir_all(out.join("repos")).map_err(|e| io_err(out, e))?;
    let previous = if options.resume {
        read_manifest(out)?
    } else {
        None
    };
    let previous =
        previous.filter(|m| m.target == options.target.label() && m.shard == options.shard);
    if options.resume && previous.is_none() {
        eprintln!(
            "note: --resume: no run of {} in {} to resume: starting a new run",
            options.target.label(),
            out.display()
        );
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let (listed, listing_stats) = runtime.block_on(super::list::list(
        &options.target,
        &options.github,
        &options.gitlab,
    ))?;
    drop(runtime);
    let selected: Vec<_> = listed
        .iter()
        .filter(|r| options.filters.accepts(r))
        .filter(|r| options.shard.is_none_or(|s| s.owns(&r.full_name)))
        .collect();

    let run_id = previous
        .as_ref()
        .map(|m| m.run_id.clone())
        .unwrap_or_else(new_run_id);
    let repos: Vec<RepoRun> = selected
        .iter()
        .map(|r| {
            let file = file_name(&r.full_name);
            let earlier = previous.as_ref().and_then(|m| {
                m.repos
                    .iter()
                    .find(|p| p.full_name == r.full_name)
                    .filter(|p| {
                        p.status == Status::Done
                            && p.run_id.as_deref() == Some(run_id.as_str())
                            && out.join(&p.file).is_file()
                    })
            });
            match earlier {
                Some(p) => p.clone(),
                None => RepoRun {
                    target: format!("{}{}", options.target.prefix(), r.full_name),
                    full_name: r.full_name.clone(),
                    file,
                    status: Status::Pending,
                    error: None,
                    requests: 0,
                    run_id: None,
                },
            }
        })
        .collect();
    let manifest = Manifest {
        schema: RUN_SCHEMA.into(),
        run_id: run_id.clone(),
        target: options.target.label(),
        shard: options.shard,
        started_at: previous
            .as_ref()
            .map(|m| m.started_at.clone())
            .unwrap_or_else(|| format_rfc3339(now_unix())),
        finished_at: None,
        listed: listed.len(),
        listing_requests: listing_stats.total,
        repos,
    };
    let skipped = manifest
        .repos
        .iter()
        .filter(|r| r.status == Status::Done)
        .count();
    let mut todo: Vec<usize> = manifest
        .repos
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status != Status::Done)
        .map(|(i, _)| i)
        .collect();
    if let Some(limit) = options.limit {
        todo.truncate(limit);
    }
    let write_manifest = |m: &Manifest| -> Result<(), String> {
        let text = serde_json::to_string_pretty(m).map_err(|e| e.to_string())? + "\n";
        write_atomic(&out.join("run.json"), &text)
    };
    write_manifest(&manifest)?;

    let table = Table::builtin().map_err(|e| format!("interpretation table: {e}"))?;
    let rules = RuleSet::builtin().map_err(|e| format!("built-in rules: {e}"))?;
    let manifest = Mutex::new(manifest);
    let gate = RateGate::default();
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let pauses = AtomicUsize::new(0);
    let write_error: Mutex<Option<String>> = Mutex::new(None);
    let progress = Progress {
        enabled: options.progress,
        tty: std::io::stderr().is_terminal(),
        total: todo.len(),
        started: Instant::now(),
        last_plain: Mutex::new(Instant::now()),
    };
    let workers = options.concurrency.clamp(1, 64).min(todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                loop {
                    let slot = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&index) = todo.get(slot) else { break };
                    let (target_name, full_name, file) = match manifest.lock() {
                        Ok(m) => match m.repos.get(index) {
                            Some(r) => (r.target.clone(), r.full_name.clone(), r.file.clone()),
                            None => break,
                        },
                        Err(_) => break,
                    };
                    let mut attempt = 0;
                    let mut requests = 0u32;
                    let result = loop {
                        gate.wait();
                        match runtime.block_on(scan_one(
                            &options.target,
                            &full_name,
                            &options.github,
                            &options.gitlab,
                        )) {
                            Ok((snapshot, n)) => {
                                requests += n;
                                break Ok(snapshot);
                            }
                            Err((ScanFailure::RateLimited(wait, msg), n)) => {
                                requests += n;
                                attempt += 1;
                                if attempt > RATE_LIMIT_RETRIES {
                                    break Err(msg);
                                }
                                pauses.fetch_add(1, Ordering::SeqCst);
                                gate.pause_for(wait);
                            }
                            Err((ScanFailure::Other(msg), n)) => {
                                requests += n;
                                break Err(msg);
                            }
                        }
                    };
                    let outcome = result.and_then(|snapshot| {
                        let report = super::assess::report_of(&snapshot, &table, &rules);
                        write_atomic(&out.join(&file), &crate::report::json::render(&report))
                    });
                    if outcome.is_err() {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                    if let Ok(mut m) = manifest.lock() {
                        if let Some(r) = m.repos.get_mut(index) {
                            r.requests = requests;
                            r.run_id = Some(run_id.clone());
                            match outcome {
                                Ok(()) => {
                                    r.status = Status::Done;
                                    r.error = None;
                                }
                                Err(e) => {
                                    r.status = Status::Failed;
                                    r.error = Some(e);
                                }
                            }
                        }
                        if let Err(e) = write_manifest(&m)
                            && let Ok(mut w) = write_error.lock()
                        {
                            *w = Some(e);
                        }
                    }
                    let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                    progress.update(done, failed.load(Ordering::SeqCst), &target_name);
                }
            });
        }
    });
    if let Some(e) = write_error.into_inner().unwrap_or(None) {
        return Err(e);
    }
    let mut manifest = manifest
        .into_inner()
        .map_err(|_| "a worker panicked".to_string())?;
    manifest.finished_at = Some(format_rfc3339(now_unix()));
    write_manifest(&manifest)?;
    let count = |s: Status| manifest.repos.iter().filter(|r| r.status == s).count();
    let stats = RunStats {
        listed: listed.len(),
        selected: manifest.repos.len(),
        scanned: finished.load(Ordering::SeqCst),
        skipped_resumed: skipped,
        failed: count(Status::Failed),
        pending: count(Status::Pending),
        requests: manifest.repos.iter().map(|r| u64::from(r.requests)).sum(),
        listing_requests: listing_stats.total,
        rate_limit_pauses: u32::try_from(pauses.load(Ordering::SeqCst)).unwrap_or(u32::MAX),
        wall: started.elapsed(),
    };
    Ok((manifest, stats))
}
