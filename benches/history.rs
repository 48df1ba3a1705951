//! Streams deterministically generated deploy histories through the history
//! accumulator and reports time and peak memory (VmHWM from /proc/self/status).
//!
//! The generator keeps a constant density (~900 events a day), so 200,000 events
//! span ~7 months and 1,000,000 events ~3 years. Bounded memory means the peak
//! after a million events stays close to the peak after 200,000: only the
//! 90-day window (+ context and a year of commit times) is ever held.
//!
//! Run: `cargo bench --bench history` (release profile).

use std::time::Instant;

use mlops_maturity::evidence::ApiRecord;
use mlops_maturity::history::{
    Accumulator, CommitEvent, DeploymentEvent, Event, HistoryConfig, ReleaseEvent, RunEvent,
    StatusEvent,
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Deterministic event stream of `count` events starting 2024-01-01.
struct Generator {
    rng: Rng,
    now: i64,
    emitted: u64,
    count: u64,
    commits: Vec<String>,
}

fn record(kind: &str, n: u64) -> ApiRecord {
    ApiRecord {
        endpoint: format!("GET /repos/bench/repo/{kind}"),
        record: Some(format!("{kind} {n}")),
        url: None,
    }
}

impl Iterator for Generator {
    type Item = Event;
    fn next(&mut self) -> Option<Event> {
        if self.emitted >= self.count {
            return None;
        }
        self.emitted += 1;
        let n = self.emitted;
        // Mean gap 96 s ≈ 900 events a day.
        self.now += self.rng.below(192) as i64;
        let now = self.now;
        let roll = self.rng.below(100);
        Some(match roll {
            0..=44 => {
                let conclusion = match self.rng.below(100) {
                    0..=79 => "success",
                    80..=94 => "failure",
                    _ => "cancelled",
                };
                Event::Run(RunEvent {
                    id: n.to_string(),
                    workflow: "ci.yml".into(),
                    trigger: "push".into(),
                    conclusion: Some(conclusion.into()),
                    sha: None,
                    branch: Some("main".into()),
                    created: now,
                    finished: None,
                    duration_seconds: Some(300.0 + self.rng.below(600) as f64),
                    source: record("actions/runs", n),
                })
            }
            45..=69 => {
                let sha = format!("{:040x}", self.rng.next());
                if self.commits.len() >= 64 {
                    self.commits.remove(0);
                }
                self.commits.push(sha.clone());
                Event::Commit(CommitEvent {
                    sha,
                    time: now - self.rng.below(7200) as i64,
                    source: record("commits", n),
                })
            }
            70..=97 => {
                let environment = match self.rng.below(10) {
                    0..=5 => "production",
                    6..=7 => "staging",
                    _ => "prod-eu",
                };
                // Mostly a recent commit; sometimes an older one (a rollback).
                let pick = if self.rng.below(20) == 0 {
                    self.rng.below(self.commits.len() as u64)
                } else {
                    (self.commits.len() as u64).saturating_sub(1)
                };
                let sha = self.commits.get(pick as usize).cloned();
                let statuses = match self.rng.below(100) {
                    0..=84 => vec![StatusEvent {
                        state: "success".into(),
                        at: Some(now + 300),
                    }],
                    85..=94 => vec![StatusEvent {
                        state: "failure".into(),
                        at: Some(now + 200),
                    }],
                    _ => Vec::new(),
                };
                Event::Deployment(DeploymentEvent {
                    id: n.to_string(),
                    environment: environment.into(),
                    tier: None,
                    sha,
                    git_ref: Some("main".into()),
                    created: now,
                    statuses,
                    source: record("deployments", n),
                })
            }
            _ => Event::Release(ReleaseEvent {
                tag: format!("v{n}"),
                created: now,
                prerelease: false,
                source: record("releases", n),
            }),
        })
    }
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run(count: u64) {
    let generator = Generator {
        rng: Rng(0x9E37_79B9_7F4A_7C15),
        now: 1_704_067_200, // 2024-01-01T00:00:00Z
        emitted: 0,
        count,
        commits: Vec::new(),
    };
    let started = Instant::now();
    let mut acc = match Accumulator::new(HistoryConfig::default()) {
        Ok(acc) => acc,
        Err(e) => {
            eprintln!("bad config: {e}");
            return;
        }
    };
    let mut held_max = (0, 0, 0, 0);
    for (i, event) in generator.enumerate() {
        acc.push(event);
        if i % 100_000 == 0 {
            let h = acc.held();
            held_max = (
                held_max.0.max(h.0),
                held_max.1.max(h.1),
                held_max.2.max(h.2),
                held_max.3.max(h.3),
            );
        }
    }
    let metrics = acc.finish();
    let elapsed = started.elapsed();
    println!(
        "{count:>9} events: {:>7.0} ms ({:.0} ns/event), peak RSS (VmHWM) {} KiB",
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1e9 / count as f64,
        vm_hwm_kib().map_or("?".to_string(), |k| k.to_string())
    );
    println!(
        "           held at most (sampled): {held_max:?} (production deployments, commit times, run days, environment days)"
    );
    println!(
        "           window {} .. {}; deploy-days/week {:?}; CFR {:?}; lead median {:?} s; CI median {:?} s ({}); rollbacks {:?}; events outside window {}",
        metrics.window.start.as_deref().unwrap_or("-"),
        metrics.window.end.as_deref().unwrap_or("-"),
        metrics
            .deploy_frequency
            .value
            .as_ref()
            .map(|v| v.deploy_days_per_week),
        metrics
            .change_failure_rate
            .value
            .as_ref()
            .map(|v| (v.rate * 1000.0).round() / 1000.0),
        metrics.lead_time.value.as_ref().map(|v| v.median_seconds),
        metrics
            .ci_health
            .value
            .as_ref()
            .and_then(|v| v.median_duration_seconds)
            .map(f64::round),
        metrics
            .ci_health
            .value
            .as_ref()
            .map_or("-", |v| v.duration_precision.as_str()),
        metrics.rollbacks.value.as_ref().map(|v| v.count),
        metrics.data_quality.events_outside_window,
    );
}

/// Each size runs in its own process (this binary re-executed with
/// `HISTORY_BENCH_EVENTS=N`), so every VmHWM is that run's own peak.
fn main() {
    if let Some(count) = std::env::var("HISTORY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        run(count);
        return;
    }
    println!("history accumulator, streaming generated events (constant density ~900/day)");
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find the benchmark binary");
        return;
    };
    // 1M is the target; 200k and 2M show the peak does not grow with history length.
    for count in [200_000u64, 1_000_000, 2_000_000, 4_000_000] {
        match std::process::Command::new(&exe)
            .env("HISTORY_BENCH_EVENTS", count.to_string())
            .output()
        {
            Ok(out) => print!("{}", String::from_utf8_lossy(&out.stdout)),
            Err(e) => eprintln!("cannot run {count}: {e}"),
        }
    }
}
