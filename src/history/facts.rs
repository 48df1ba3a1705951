//! Metrics → `history.*` practice findings for the level table.
//!
//! A finding is emitted only for a metric with a value: an `insufficient` metric
//! says nothing about the practice (absence of history is not absence of the
//! practice). The value and band go in the excerpt; the origin names the newest
//! record the metric rests on (API endpoint, or `--history FILE` with `FILE:line`).

use std::collections::BTreeSet;

use super::metrics::{Band, Metric, Metrics};
use crate::detect::{Confidence, Evidence, Origin, PracticeFinding, qualifier};
use crate::evidence::ApiRecord;

/// Rule id recorded on every history evidence.
pub const RULE: &str = "history.metrics";

fn band_text(band: &Option<Band>) -> String {
    match band {
        Some(b) => format!("; band {} ({})", b.rating.as_str(), b.thresholds),
        None => String::new(),
    }
}

fn window_text<T>(metric: &Metric<T>) -> String {
    match (&metric.window.start, &metric.window.end) {
        (Some(s), Some(e)) => format!(
            "{}..{} ({} days, {} events)",
            s.get(..10).unwrap_or(s),
            e.get(..10).unwrap_or(e),
            metric.window.days,
            metric.events
        ),
        _ => format!("{} events", metric.events),
    }
}

fn origin_of<T>(metric: &Metric<T>) -> Origin {
    let record = match &metric.source {
        Some(src) => ApiRecord {
            endpoint: if metric.endpoints.len() > 1 {
                metric.endpoints.join(", ")
            } else {
                src.endpoint.clone()
            },
            record: src.record.clone(),
            url: src.url.clone(),
        },
        None => ApiRecord {
            endpoint: metric.endpoints.join(", "),
            record: None,
            url: None,
        },
    };
    Origin::Api { record }
}

fn evidence<T>(
    metric: &Metric<T>,
    excerpt: String,
    production: bool,
    confidence: Confidence,
) -> Evidence {
    let mut qualifiers = BTreeSet::new();
    if production {
        qualifiers.insert(qualifier::PRODUCTION.to_string());
    }
    Evidence {
        rule: RULE.to_string(),
        origin: origin_of(metric),
        excerpt,
        chain: Vec::new(),
        qualifiers,
        confidence,
    }
}

fn hours(seconds: f64) -> String {
    if seconds < 3600.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < 3.0 * 86_400.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} days", seconds / 86_400.0)
    }
}

/// One finding per measured metric (rollbacks only when there were any), sorted by practice id.
pub fn history_findings(metrics: &Metrics) -> Vec<PracticeFinding> {
    let mut findings = Vec::new();
    let mut add = |practice: &str, evidence: Vec<Evidence>| {
        if !evidence.is_empty() {
            findings.push(PracticeFinding {
                practice: practice.to_string(),
                evidence,
            });
        }
    };

    let m = &metrics.deploy_frequency;
    if let Some(v) = &m.value {
        add(
            "history.deploy_frequency",
            vec![evidence(
                m,
                format!(
                    "production deploy frequency: median {:.1} deploy-days/week over {} weeks ({} successful of {} deployments to {}), {}{}",
                    v.deploy_days_per_week,
                    v.weeks,
                    v.successful_deployments,
                    v.deployments,
                    v.environments.join(", "),
                    window_text(m),
                    band_text(&m.band)
                ),
                true,
                Confidence::High,
            )],
        );
    }

    let m = &metrics.lead_time;
    if let Some(v) = &m.value {
        add(
            "history.lead_time",
            vec![evidence(
                m,
                format!(
                    "lead time for changes: median {} over {} commits ({}), {}{}",
                    hours(v.median_seconds),
                    v.samples,
                    v.definition_text,
                    window_text(m),
                    band_text(&m.band)
                ),
                true,
                Confidence::Medium,
            )],
        );
    }

    let m = &metrics.change_failure_rate;
    if let Some(v) = &m.value {
        add(
            "history.change_failure_rate",
            vec![evidence(
                m,
                format!(
                    "change failure rate (deployment-failure proxy, no incidents): {:.1} % = ({} failed + {} rolled back) / {} production deployments, {}{}",
                    v.rate * 100.0,
                    v.failed,
                    v.rolled_back,
                    v.deployments,
                    window_text(m),
                    band_text(&m.band)
                ),
                true,
                Confidence::Medium,
            )],
        );
    }

    let m = &metrics.time_to_restore;
    if let Some(v) = &m.value {
        add(
            "history.time_to_restore",
            vec![evidence(
                m,
                format!(
                    "time to restore (deployment-failure proxy): median {} over {} restored failures ({} unrestored), {}{}",
                    hours(v.median_seconds),
                    v.restored,
                    v.unrestored,
                    window_text(m),
                    band_text(&m.band)
                ),
                true,
                Confidence::Medium,
            )],
        );
    }

    let m = &metrics.rollbacks;
    if let Some(v) = &m.value {
        // One evidence per listed rollback, naming that deployment's own record.
        let list: Vec<Evidence> = v
            .list
            .iter()
            .map(|r| {
                let mut e = evidence(
                    m,
                    format!(
                        "rollback in {}: deployment {} at {} went back to {} (deployed before as {}), replacing [{}]{}; rollbacks in the window: {}, {}",
                        r.environment,
                        r.deployment,
                        r.at,
                        r.sha.get(..12).unwrap_or(&r.sha),
                        r.returns_to,
                        r.replaced.join(", "),
                        if r.after_failure { " after a failed deployment" } else { "" },
                        v.count,
                        window_text(m)
                    ),
                    true,
                    Confidence::High,
                );
                if let Some(src) = &r.source {
                    e.origin = Origin::Api { record: src.clone() };
                }
                e
            })
            .collect();
        add("history.rollbacks", list);
    }

    let m = &metrics.ci_health;
    if let Some(v) = &m.value {
        let duration = match (v.median_duration_seconds, &v.trend, v.duration_change) {
            (Some(d), Some(t), Some(c)) => format!(
                "; median duration {} ({t}, {:+.0} % second half vs first)",
                hours(d),
                c * 100.0
            ),
            (Some(d), _, _) => format!("; median duration {}", hours(d)),
            _ => String::new(),
        };
        add(
            "history.ci_health",
            vec![evidence(
                m,
                format!(
                    "CI success rate {:.1} % ({} succeeded, {} failed, {} cancelled/skipped){duration}, {}",
                    v.success_rate * 100.0,
                    v.succeeded,
                    v.failed,
                    v.excluded,
                    window_text(m)
                ),
                false,
                Confidence::High,
            )],
        );
    }

    let m = &metrics.release_cadence;
    if let Some(v) = &m.value {
        add(
            "history.release_cadence",
            vec![evidence(
                m,
                format!(
                    "release cadence: {:.1} releases/month ({} releases, {} pre-releases), {}",
                    v.per_month,
                    v.releases,
                    v.prereleases,
                    window_text(m)
                ),
                false,
                Confidence::High,
            )],
        );
    }

    findings.sort_by(|a, b| a.practice.cmp(&b.practice));
    findings
}
