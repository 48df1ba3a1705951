//! Deploy-history metrics on hand-made event sequences. Every expected number is
//! worked out by hand in the comments next to it.

use std::path::{Path, PathBuf};

use mlops_maturity::evidence::{ApiEvidence, ApiRecord, GitMeta};
use mlops_maturity::history::time::parse_rfc3339;
use mlops_maturity::history::{
    CommitEvent, DeploymentEvent, Event, HistoryConfig, LeadTimeDefinition, Metrics, ReleaseEvent,
    RunEvent, StatusEvent, compute, from_api, from_git, history_findings, import_file,
};

fn t(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

fn src(id: &str) -> ApiRecord {
    ApiRecord {
        endpoint: "test".into(),
        record: Some(id.into()),
        url: None,
    }
}

/// A deployment with one final status (`None` = no statuses at all).
fn dep(id: &str, env: &str, sha: &str, created: &str, status: Option<(&str, &str)>) -> Event {
    Event::Deployment(DeploymentEvent {
        id: id.into(),
        environment: env.into(),
        tier: None,
        sha: Some(sha.into()),
        git_ref: None,
        created: t(created),
        statuses: status
            .map(|(state, at)| {
                vec![StatusEvent {
                    state: state.into(),
                    at: Some(t(at)),
                }]
            })
            .unwrap_or_default(),
        source: src(id),
    })
}

fn run(
    id: &str,
    conclusion: Option<&str>,
    created: &str,
    duration: Option<f64>,
    finished: Option<&str>,
) -> Event {
    Event::Run(RunEvent {
        id: id.into(),
        workflow: "ci.yml".into(),
        trigger: "push".into(),
        conclusion: conclusion.map(Into::into),
        sha: None,
        branch: Some("main".into()),
        created: t(created),
        finished: finished.map(t),
        duration_seconds: duration,
        source: src(id),
    })
}

fn release(tag: &str, created: &str, prerelease: bool) -> Event {
    Event::Release(ReleaseEvent {
        tag: tag.into(),
        created: t(created),
        prerelease,
        source: src(tag),
    })
}

fn commit(sha: &str, time: &str) -> Event {
    Event::Commit(CommitEvent {
        sha: sha.into(),
        time: t(time),
        source: src(sha),
    })
}

fn config_now(now: &str) -> HistoryConfig {
    HistoryConfig {
        now: Some(t(now)),
        ..HistoryConfig::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// The main scenario. Window: 90 days ending 2026-03-31T23:00Z → days Jan 1 … Mar 31
/// (31 + 28 + 31 = 90). A run on Jan 1 makes the history cover the whole window.
fn scenario() -> Vec<Event> {
    let mut d4 = dep(
        "d4",
        "production",
        "C",
        "2026-03-16T10:00:00Z",
        Some(("success", "2026-03-16T10:10:00Z")),
    );
    // Clock skew: an in_progress status an hour before the deployment was created.
    if let Event::Deployment(d) = &mut d4 {
        d.statuses.insert(
            0,
            StatusEvent {
                state: "in_progress".into(),
                at: Some(t("2026-03-16T09:00:00Z")),
            },
        );
    }
    vec![
        // Production sequence (see the test for the worked metrics).
        dep(
            "d1",
            "production",
            "A",
            "2026-03-02T10:00:00Z",
            Some(("success", "2026-03-02T10:10:00Z")),
        ),
        dep(
            "d2",
            "production",
            "B",
            "2026-03-09T10:00:00Z",
            Some(("failure", "2026-03-09T10:05:00Z")),
        ),
        // Back to A right after B failed: a rollback replacing d2.
        dep(
            "d3",
            "production",
            "A",
            "2026-03-09T11:00:00Z",
            Some(("success", "2026-03-09T11:05:00Z")),
        ),
        d4,
        dep(
            "d5",
            "production",
            "D",
            "2026-03-23T10:00:00Z",
            Some(("failure", "2026-03-23T10:10:00Z")),
        ),
        // Same SHA as the deployment just before: a retry, not a rollback; the outage goes on.
        dep(
            "d6",
            "production",
            "D",
            "2026-03-23T12:00:00Z",
            Some(("failure", "2026-03-23T12:10:00Z")),
        ),
        dep(
            "d7",
            "production",
            "E",
            "2026-03-24T10:00:00Z",
            Some(("success", "2026-03-24T10:10:00Z")),
        ),
        // A failure with no recovery.
        dep(
            "d8",
            "production",
            "F",
            "2026-03-30T10:00:00Z",
            Some(("failure", "2026-03-30T10:30:00Z")),
        ),
        // No statuses at all: outcome unknown, excluded from rates, reported.
        dep("d9", "production", "G", "2026-03-31T09:00:00Z", None),
        // Staging: ignored by every production metric.
        dep(
            "s1",
            "staging",
            "X",
            "2026-03-03T10:00:00Z",
            Some(("failure", "2026-03-03T10:05:00Z")),
        ),
        dep(
            "s2",
            "staging",
            "A",
            "2026-03-04T10:00:00Z",
            Some(("success", "2026-03-04T10:05:00Z")),
        ),
        dep(
            "s3",
            "staging",
            "X",
            "2026-03-05T10:00:00Z",
            Some(("failure", "2026-03-05T10:05:00Z")),
        ),
        // CI runs. First half of the window = days before Feb 15 (Jan 1 + 90/2).
        run(
            "r1",
            Some("success"),
            "2026-01-01T12:00:00Z",
            Some(100.0),
            None,
        ),
        run(
            "r2",
            Some("success"),
            "2026-01-10T12:00:00Z",
            Some(120.0),
            None,
        ),
        run(
            "r3",
            Some("failure"),
            "2026-01-20T12:00:00Z",
            Some(110.0),
            None,
        ),
        run(
            "r4",
            Some("cancelled"),
            "2026-02-01T12:00:00Z",
            Some(5.0),
            None,
        ),
        run(
            "r5",
            Some("success"),
            "2026-03-01T12:00:00Z",
            Some(200.0),
            None,
        ),
        run(
            "r6",
            Some("success"),
            "2026-03-02T12:00:00Z",
            Some(220.0),
            None,
        ),
        // Duration from finished − created: 240 s.
        run(
            "r7",
            Some("failure"),
            "2026-03-03T12:00:00Z",
            None,
            Some("2026-03-03T12:04:00Z"),
        ),
        run("r8", None, "2026-03-04T12:00:00Z", None, None),
        // Finished before it was created: counted as a success, duration ignored.
        run(
            "r9",
            Some("success"),
            "2026-03-05T12:00:00Z",
            None,
            Some("2026-03-05T11:00:00Z"),
        ),
        release("v1.0", "2026-01-15T00:00:00Z", false),
        release("v1.1", "2026-02-15T00:00:00Z", false),
        release("v1.2-rc1", "2026-03-10T00:00:00Z", true),
        release("v1.2", "2026-03-15T00:00:00Z", false),
        // Commits of deployed SHAs only → fourkeys-style lead time.
        commit("A", "2026-03-02T08:10:00Z"),
        commit("B", "2026-03-09T09:05:00Z"),
        commit("C", "2026-03-16T09:10:00Z"),
        commit("E", "2026-03-24T06:10:00Z"),
    ]
}

#[test]
fn main_scenario_every_metric() {
    let m = compute(scenario(), &config_now("2026-03-31T23:00:00Z")).unwrap();
    assert_eq!(m.window.start.as_deref(), Some("2026-01-01T00:00:00Z"));
    assert_eq!(m.window.days, 90);
    assert_eq!(m.covered.days, 90);
    assert_eq!(m.production_environments, ["production"]);

    // Deployment frequency. The deployment history starts Mar 2 (d1), so deployment metrics
    // cover Mar 2 … Mar 31 = 30 days (the Jan 1 run does not make deployment weeks).
    // Successful production deploy-days: Mar 2, 9, 16, 24. 4 whole weeks back from Mar 31:
    // Mar 25–31 → 0 (d8 failed, d9 unknown), Mar 18–24 → 1, Mar 11–17 → 1, Mar 4–10 → 1.
    // Sorted 0, 1, 1, 1 → median 1 → high. Nine production deployments rest on it.
    let f = &m.deploy_frequency;
    let v = f.value.as_ref().unwrap();
    assert_eq!(f.window.days, 30);
    assert_eq!(f.window.start.as_deref(), Some("2026-03-02T00:00:00Z"));
    assert!(close(v.deploy_days_per_week, 1.0));
    assert_eq!(
        (v.weeks, v.deploy_days, v.successful_deployments),
        (4, 4, 4)
    );
    assert_eq!(v.environments, ["production"]);
    assert_eq!(f.events, 9);
    let band = f.band.as_ref().unwrap();
    assert_eq!((band.rating.as_str(), band.year), ("high", 2021));

    // Change failure rate (proxy): success d1 d3 d4 d7 = 4, failure d2 d5 d6 d8 = 4,
    // d9 unknown. The rollback d3 replaced d2, which already failed: nothing extra.
    // (4 + 0) / 8 = 0.5 → low (> 15 %, 2023 bands).
    let c = m.change_failure_rate.value.as_ref().unwrap();
    assert!(close(c.rate, 0.5));
    assert_eq!(
        (c.failed, c.rolled_back, c.deployments, c.unknown_status),
        (4, 0, 8, 1)
    );
    assert!(c.label.contains("proxy"));
    assert_eq!(
        m.change_failure_rate.band.as_ref().unwrap().rating.as_str(),
        "low"
    );

    // Time to restore: d2 failed 10:05 → d3 succeeded 11:05 = 3600 s; the d5/d6 streak
    // is one outage from d5 (Mar 23 10:10) to d7 (Mar 24 10:10) = 86400 s; d8 never
    // recovered. Median (3600 + 86400) / 2 = 45000 s = 12.5 h → high (< 1 day).
    let r = &m.time_to_restore;
    let rv = r.value.as_ref().unwrap();
    assert!(close(rv.median_seconds, 45_000.0));
    assert_eq!((rv.restored, rv.unrestored), (2, 1));
    assert_eq!(r.events, 4);
    assert_eq!(rv.restores[1].failed_deployment, "d5");
    assert_eq!(rv.restores[1].restored_by, "d7");
    assert_eq!(r.band.as_ref().unwrap().rating.as_str(), "high");

    // Rollbacks: only d3 (A again after B failed); d6 is a retry of the previous SHA.
    let rb = m.rollbacks.value.as_ref().unwrap();
    assert_eq!((rb.count, rb.after_failure), (1, 1));
    assert_eq!(rb.list[0].deployment, "d3");
    assert_eq!(rb.list[0].returns_to, "d1");
    assert_eq!(rb.list[0].replaced, ["d2"]);

    // Lead time, fourkeys-style (every commit is a deployed SHA): A 08:10 → d1 10:10 = 7200 s;
    // B never succeeded; C 09:10 → d4 10:10 = 3600 s; E 06:10 → d7 10:10 = 14400 s.
    // d3 redeploys A and does not count again. Median 7200 s → high (< 1 week).
    let l = m.lead_time.value.as_ref().unwrap();
    assert_eq!(l.definition, LeadTimeDefinition::DeployedCommit);
    assert!(close(l.median_seconds, 7200.0));
    assert_eq!(l.samples, 3);
    assert_eq!(m.lead_time.band.as_ref().unwrap().rating.as_str(), "high");

    // CI: success r1 r2 r5 r6 r9 = 5, failure r3 r7 = 2, cancelled r4, r8 unknown.
    // Rate 5/7. Durations first half [100, 120, 110] → 110; second [200, 220, 240] → 220;
    // change +100 % → slower. All six: (120 + 200) / 2 = 160.
    let ci = &m.ci_health;
    let cv = ci.value.as_ref().unwrap();
    assert!(close(cv.success_rate, 5.0 / 7.0));
    assert_eq!(
        (cv.succeeded, cv.failed, cv.excluded, cv.unknown),
        (5, 2, 1, 1)
    );
    assert_eq!(cv.first_half_median_seconds, Some(110.0));
    assert_eq!(cv.second_half_median_seconds, Some(220.0));
    assert_eq!(cv.median_duration_seconds, Some(160.0));
    assert_eq!(cv.trend.as_deref(), Some("slower"));
    assert!(close(cv.duration_change.unwrap(), 1.0));
    assert_eq!(cv.duration_precision, "exact");
    assert_eq!(ci.events, 9);

    // Releases: 4 in 90 days = 4 / (90 / 30.4375) = 1.3528 per month.
    let rc = m.release_cadence.value.as_ref().unwrap();
    assert_eq!((rc.releases, rc.prereleases), (4, 1));
    assert!((rc.per_month - 4.0 / (90.0 / 30.4375)).abs() < 1e-9);

    // Data quality: d4's early status, r9's negative duration, d9 without statuses.
    let dq = &m.data_quality;
    assert_eq!(dq.status_before_deployment, 1);
    assert_eq!(dq.negative_run_durations, 1);
    assert_eq!(dq.unknown_status_deployments, 1);
    assert_eq!(dq.events_outside_window, 0);
    assert!(dq.notes.iter().any(|n| n.contains("clock skew")));

    // Staging: 3 deployments, 1 deploy-day, not production, kept apart.
    let staging = m
        .environments
        .iter()
        .find(|e| e.environment == "staging")
        .unwrap();
    assert!(!staging.production);
    assert_eq!(
        (
            staging.deployments,
            staging.successful_deployments,
            staging.deploy_days
        ),
        (3, 1, 1)
    );
}

#[test]
fn findings_carry_value_band_and_source() {
    let m = compute(scenario(), &config_now("2026-03-31T23:00:00Z")).unwrap();
    let findings = history_findings(&m);
    let ids: Vec<&str> = findings.iter().map(|f| f.practice.as_str()).collect();
    assert_eq!(
        ids,
        [
            "history.change_failure_rate",
            "history.ci_health",
            "history.deploy_frequency",
            "history.lead_time",
            "history.release_cadence",
            "history.rollbacks",
            "history.time_to_restore",
        ]
    );
    let cfr = &findings[0].evidence[0];
    assert!(cfr.excerpt.contains("50.0 %"), "{}", cfr.excerpt);
    assert!(
        cfr.excerpt.contains("band low (DORA 2023 (DevLake))"),
        "{}",
        cfr.excerpt
    );
    assert!(cfr.has("production"));
    let rollback = &findings[5].evidence[0];
    match &rollback.origin {
        mlops_maturity::detect::Origin::Api { record } => {
            assert_eq!(record.record.as_deref(), Some("d3"))
        }
        other => panic!("{other:?}"),
    }
    // CI health is not about production.
    assert!(!findings[1].evidence[0].has("production"));
}

#[test]
fn weeks_without_deployments_count_once_deployment_history_covers_them() {
    // The main scenario plus a staging deployment on Jan 1: the deployment history now
    // covers all 90 days, so the weeks before March count as weeks without deployments.
    // 12 whole weeks back from Mar 31: Mar 25–31 → 0, Mar 18–24 → 1, Mar 11–17 → 1,
    // Mar 4–10 → 1, Feb 25–Mar 3 → 1 (Mar 2), seven earlier weeks → 0. Sorted: eight 0s,
    // four 1s; median of 12 = mean of the 6th and 7th = 0. 30-day buckets back from Mar 31:
    // 4, 0, 0 → median 0 → low.
    let mut events = scenario();
    events.push(dep(
        "s0",
        "staging",
        "W",
        "2026-01-01T10:00:00Z",
        Some(("success", "2026-01-01T10:05:00Z")),
    ));
    let m = compute(events, &config_now("2026-03-31T23:00:00Z")).unwrap();
    let v = m.deploy_frequency.value.as_ref().unwrap();
    assert_eq!(m.deploy_frequency.window.days, 90);
    assert_eq!(v.weeks, 12);
    assert!(close(v.deploy_days_per_week, 0.0));
    assert_eq!(
        m.deploy_frequency.band.as_ref().unwrap().rating.as_str(),
        "low"
    );
}

#[test]
fn rolled_back_successes_count_as_change_failures() {
    // A ok (Mar 2), B ok (Mar 9), C ok (Mar 16), A again (Mar 23): a rollback past B and C
    // without a failure. CFR = 2 rolled back / 4 deployments = 0.5. History starts Mar 2,
    // window ends Mar 31: 30 days covered.
    let events = vec![
        dep(
            "1",
            "production",
            "A",
            "2026-03-02T10:00:00Z",
            Some(("success", "2026-03-02T10:10:00Z")),
        ),
        dep(
            "2",
            "production",
            "B",
            "2026-03-09T10:00:00Z",
            Some(("success", "2026-03-09T10:10:00Z")),
        ),
        dep(
            "3",
            "production",
            "C",
            "2026-03-16T10:00:00Z",
            Some(("success", "2026-03-16T10:10:00Z")),
        ),
        dep(
            "4",
            "production",
            "A",
            "2026-03-23T10:00:00Z",
            Some(("success", "2026-03-23T10:10:00Z")),
        ),
    ];
    let m = compute(events, &config_now("2026-03-31T23:00:00Z")).unwrap();
    assert_eq!(m.covered.days, 30);
    let c = m.change_failure_rate.value.as_ref().unwrap();
    assert_eq!((c.failed, c.rolled_back, c.deployments), (0, 2, 4));
    assert!(close(c.rate, 0.5));
    let rb = m.rollbacks.value.as_ref().unwrap();
    assert_eq!((rb.count, rb.after_failure), (1, 0));
    assert_eq!(rb.list[0].replaced, ["2", "3"]);
    // No failures: time to restore has nothing to measure.
    assert!(
        m.time_to_restore
            .insufficient
            .as_deref()
            .unwrap()
            .contains("nothing to restore")
    );
    // 4 weeks back from Mar 31 (Mar 4–31): Mar 9, 16, 23 in three of them → [1,1,1,0] → 1 → high.
    let f = m.deploy_frequency.value.as_ref().unwrap();
    assert_eq!(f.weeks, 4);
    assert!(close(f.deploy_days_per_week, 1.0));
    assert_eq!(
        m.deploy_frequency.band.as_ref().unwrap().rating.as_str(),
        "high"
    );
}

#[test]
fn daily_deploys_are_elite() {
    // One successful production deployment every day of a 28-day window → 7 days/week.
    let mut events = Vec::new();
    for day in 1..=28 {
        let at = format!("2026-02-{day:02}T10:00:00Z");
        events.push(dep(
            &day.to_string(),
            "prod-eu",
            "s",
            &at,
            Some(("success", &at)),
        ));
    }
    let cfg = HistoryConfig {
        window_days: 28,
        ..config_now("2026-02-28T23:00:00Z")
    };
    let m = compute(events, &cfg).unwrap();
    let f = m.deploy_frequency.value.as_ref().unwrap();
    assert_eq!(f.weeks, 4);
    assert!(close(f.deploy_days_per_week, 7.0));
    assert_eq!(
        m.deploy_frequency.band.as_ref().unwrap().rating.as_str(),
        "elite"
    );
    // Same SHA every day is a redeploy of the previous SHA each time: no rollbacks.
    assert_eq!(m.rollbacks.value.as_ref().unwrap().count, 0);
}

#[test]
fn linear_history_lead_time_when_commits_are_not_all_deployed() {
    // Deployments: P1 ships c2 (Mar 10 12:00), P2 ships c4 (Mar 12 12:00), P3 ships c5 (Mar 20 00:00).
    // c1 (Mar 10 06:00) → P1: 6 h; c2 (10:00) → P1: 2 h; c3 (Mar 11 12:00) is first contained
    // in P2: 24 h; c4 (Mar 12 06:00) → P2: 6 h; c5 (Mar 19 00:00) → P3: 24 h.
    // Sorted 2, 6, 6, 24, 24 h → median 6 h = 21600 s → high.
    let events = vec![
        run(
            "anchor",
            Some("success"),
            "2026-03-01T00:00:00Z",
            Some(1.0),
            None,
        ),
        dep(
            "P1",
            "production",
            "c2",
            "2026-03-10T12:00:00Z",
            Some(("success", "2026-03-10T12:00:00Z")),
        ),
        dep(
            "P2",
            "production",
            "c4",
            "2026-03-12T12:00:00Z",
            Some(("success", "2026-03-12T12:00:00Z")),
        ),
        dep(
            "P3",
            "production",
            "c5",
            "2026-03-20T00:00:00Z",
            Some(("success", "2026-03-20T00:00:00Z")),
        ),
        commit("c1", "2026-03-10T06:00:00Z"),
        commit("c2", "2026-03-10T10:00:00Z"),
        commit("c3", "2026-03-11T12:00:00Z"),
        commit("c4", "2026-03-12T06:00:00Z"),
        commit("c5", "2026-03-19T00:00:00Z"),
    ];
    let m = compute(events, &config_now("2026-03-31T00:00:00Z")).unwrap();
    let l = m.lead_time.value.as_ref().unwrap();
    assert_eq!(l.definition, LeadTimeDefinition::LinearHistory);
    assert_eq!(l.samples, 5);
    assert!(close(l.median_seconds, 21_600.0));
    assert!(l.definition_text.contains("linear history"));
}

#[test]
fn empty_input_and_empty_window() {
    let m = compute(Vec::new(), &HistoryConfig::default()).unwrap();
    assert_eq!(m.window.end, None);
    for reason in [
        &m.deploy_frequency.insufficient,
        &m.lead_time.insufficient,
        &m.change_failure_rate.insufficient,
        &m.time_to_restore.insufficient,
        &m.rollbacks.insufficient,
        &m.ci_health.insufficient,
        &m.release_cadence.insufficient,
    ] {
        assert_eq!(reason.as_deref(), Some("no events in the window"));
    }
    assert!(history_findings(&m).is_empty());

    // Events a year before the window: nothing falls inside, nothing is invented.
    let events = scenario();
    let n = events.len() as u64;
    let m = compute(events, &config_now("2027-06-30T00:00:00Z")).unwrap();
    assert!(m.deploy_frequency.value.is_none());
    assert!(
        m.deploy_frequency
            .insufficient
            .as_deref()
            .unwrap()
            .contains("in the window")
    );
    assert!(m.ci_health.value.is_none());
    // Releases exist but none in the window: 0 per month is a measurement, not a guess.
    assert_eq!(m.release_cadence.value.as_ref().unwrap().releases, 0);
    assert_eq!(m.data_quality.events_outside_window, n);
    assert!(
        history_findings(&m)
            .iter()
            .all(|f| f.practice == "history.release_cadence")
    );
}

#[test]
fn too_little_history_is_insufficient() {
    // Two production deployments only.
    let events = vec![
        run(
            "anchor",
            Some("success"),
            "2026-01-01T00:00:00Z",
            Some(1.0),
            None,
        ),
        dep(
            "1",
            "production",
            "A",
            "2026-03-02T10:00:00Z",
            Some(("success", "2026-03-02T10:10:00Z")),
        ),
        dep(
            "2",
            "production",
            "B",
            "2026-03-09T10:00:00Z",
            Some(("failure", "2026-03-09T10:10:00Z")),
        ),
        dep("3", "production", "C", "2026-03-10T10:00:00Z", None),
    ];
    let m = compute(events, &config_now("2026-03-31T00:00:00Z")).unwrap();
    let reason = m.change_failure_rate.insufficient.as_deref().unwrap();
    assert!(
        reason.contains("only 2 production deployment(s)"),
        "{reason}"
    );
    assert!(reason.contains("1 without statuses"), "{reason}");
    assert!(m.deploy_frequency.value.is_none());
    assert!(m.rollbacks.value.is_none());

    // Five deployments within five days and nothing older: the history spans 5 days.
    let mut events = Vec::new();
    for day in 1..=5 {
        let at = format!("2026-03-{day:02}T10:00:00Z");
        events.push(dep(
            &day.to_string(),
            "production",
            &format!("s{day}"),
            &at,
            Some(("success", &at)),
        ));
    }
    let m = compute(events, &config_now("2026-03-05T23:00:00Z")).unwrap();
    let reason = m.deploy_frequency.insufficient.as_deref().unwrap();
    assert!(reason.contains("covers only 5 day(s)"), "{reason}");
}

#[test]
fn production_by_pattern_and_tier() {
    let mk = |env: &str, tier: Option<&str>, i: u32| {
        let at = format!("2026-03-{:02}T10:00:00Z", 2 + i * 7);
        let mut e = dep(
            &format!("{env}-{i}"),
            env,
            &format!("{env}{i}"),
            &at,
            Some(("success", &at)),
        );
        if let Event::Deployment(d) = &mut e {
            d.tier = tier.map(Into::into);
        }
        e
    };
    let mut events = vec![run(
        "anchor",
        Some("success"),
        "2026-01-01T00:00:00Z",
        Some(1.0),
        None,
    )];
    for i in 0..3 {
        events.push(mk("live", None, i));
        events.push(mk("main-site", Some("production"), i));
        events.push(mk("production", Some("staging"), i));
        events.push(mk("preprod", None, i));
        events.push(mk("app-prod", None, i));
    }
    let now = "2026-03-31T00:00:00Z";
    // Default: tier decides when known; else the pattern (`app-prod` yes, `preprod`, `live` no).
    let m = compute(events.clone(), &config_now(now)).unwrap();
    assert_eq!(m.production_environments, ["app-prod", "main-site"]);
    assert_eq!(m.deploy_frequency.value.as_ref().unwrap().deployments, 6);
    // Custom pattern: `live` is production; a known tier still wins.
    let cfg = HistoryConfig {
        production_pattern: "^live$".into(),
        ..config_now(now)
    };
    let m = compute(events, &cfg).unwrap();
    assert_eq!(m.production_environments, ["live", "main-site"]);
    // A bad pattern is an error, not a panic.
    let bad = HistoryConfig {
        production_pattern: "(".into(),
        ..HistoryConfig::default()
    };
    assert!(compute(Vec::new(), &bad).is_err());
}

#[test]
fn window_ends_at_newest_event_by_default() {
    // No `now`: the window ends at the newest event (d9, Mar 31 09:00); same answers.
    let with_now = compute(scenario(), &config_now("2026-03-31T23:00:00Z")).unwrap();
    let without = compute(scenario(), &HistoryConfig::default()).unwrap();
    assert_eq!(without.window.end.as_deref(), Some("2026-03-31T09:00:00Z"));
    assert_eq!(
        with_now.change_failure_rate.value,
        without.change_failure_rate.value
    );
    assert_eq!(
        with_now.deploy_frequency.value,
        without.deploy_frequency.value
    );
    // Events after `now` are ignored and counted.
    let m = compute(scenario(), &config_now("2026-03-30T00:00:00Z")).unwrap();
    assert_eq!(m.data_quality.events_after_now, 2); // d8, d9
    assert_eq!(m.time_to_restore.value.as_ref().unwrap().unrestored, 0);
}

// ---- imports and the API path, over fixtures/history ----

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/history")
}

fn fixture_metrics(path: &Path) -> Metrics {
    let (events, diags) = import_file(path).unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    compute(events, &HistoryConfig::default()).unwrap()
}

#[test]
fn fixture_metrics_by_hand() {
    let m = fixture_metrics(&fixtures().join("sample.jsonl"));
    // Newest event: deployment 110 at 2026-06-08T10:00Z; oldest: commit a1 May 4 → 36 days covered.
    assert_eq!(m.window.end.as_deref(), Some("2026-06-08T10:00:00Z"));
    assert_eq!(m.covered.days, 36);
    // Production: 101 ok, 103 fail, 104 ok (rollback to a1), 105 ok, 106 ok, 107 fail, 108 ok, 110 unknown.
    // Weeks back from Jun 8: [Jun 2 → 1, 107 failed → 0, May 25 → 1, May 18 → 1, May 11 → 1] → 1 → high.
    let f = m.deploy_frequency.value.as_ref().unwrap();
    assert_eq!((f.weeks, f.deploy_days, f.deployments), (5, 5, 8));
    assert!(close(f.deploy_days_per_week, 1.0));
    // CFR 2 / 7; restores 3600 s and 86400 s → 45000 s.
    assert!(close(
        m.change_failure_rate.value.as_ref().unwrap().rate,
        2.0 / 7.0
    ));
    assert!(close(
        m.time_to_restore.value.as_ref().unwrap().median_seconds,
        45_000.0
    ));
    assert_eq!(
        m.rollbacks.value.as_ref().unwrap().list[0].deployment,
        "104"
    );
    // Lead: a1 7800 s, a3 87300 s, a4 15300 s, a6 9000 s → (9000 + 15300) / 2 = 12150 s.
    let l = m.lead_time.value.as_ref().unwrap();
    assert_eq!(l.definition, LeadTimeDefinition::DeployedCommit);
    assert!(close(l.median_seconds, 12_150.0));
    // CI: 5 ok / 7; halves split at May 22: [600, 720, 660, 780] → 690, [1200, 1260, 1500] → 1260.
    let ci = m.ci_health.value.as_ref().unwrap();
    assert!(close(ci.success_rate, 5.0 / 7.0));
    assert_eq!(ci.first_half_median_seconds, Some(690.0));
    assert_eq!(ci.second_half_median_seconds, Some(1260.0));
    assert_eq!(ci.median_duration_seconds, Some(780.0));
    // Releases: 3 in 36 days.
    assert!(close(
        m.release_cadence.value.as_ref().unwrap().per_month,
        3.0 / (36.0 / 30.4375)
    ));
    // Sources name the file and line of the newest production deployment (line 11).
    let source = m.deploy_frequency.source.as_ref().unwrap();
    assert!(source.endpoint.starts_with("--history "));
    assert!(
        source
            .record
            .as_deref()
            .unwrap()
            .ends_with("sample.jsonl:11"),
        "{source:?}"
    );
}

#[test]
fn jsonl_and_csv_give_identical_metrics() {
    let jsonl = fixture_metrics(&fixtures().join("sample.jsonl"));
    let csv = fixture_metrics(&fixtures().join("sample.csv"));
    assert_eq!(jsonl.values_only(), csv.values_only());
    assert!(jsonl.deploy_frequency.value.is_some());
}

#[test]
fn api_evidence_gives_the_same_metrics_as_the_jsonl_file() {
    let api: ApiEvidence = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("api_evidence.json")).unwrap(),
    )
    .unwrap();
    let git: GitMeta =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("git_meta.json")).unwrap())
            .unwrap();
    let (mut events, diags) = from_api(&api);
    assert!(diags.is_empty());
    let (commits, diags) = from_git(&git);
    assert!(diags.is_empty());
    events.extend(commits);
    let from_api_metrics = compute(events, &HistoryConfig::default()).unwrap();
    let from_file = fixture_metrics(&fixtures().join("sample.jsonl"));
    assert_eq!(from_api_metrics.values_only(), from_file.values_only());
    // Provenance differs: the API names its endpoint and record.
    let source = from_api_metrics.deploy_frequency.source.unwrap();
    assert_eq!(source.endpoint, "GET /repos/acme/model/deployments");
    assert_eq!(source.record.as_deref(), Some("deployment 110"));
}

#[test]
fn metrics_serialise_for_reports() {
    let m = compute(scenario(), &config_now("2026-03-31T23:00:00Z")).unwrap();
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["deploy_frequency"]["band"]["year"], 2021);
    assert_eq!(json["change_failure_rate"]["band"]["year"], 2023);
    assert!(json["lead_time"]["value"]["definition"] == "deployed-commit");
    let back: Metrics = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn documented_examples_import_cleanly() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/history.md");
    let doc = std::fs::read_to_string(doc_path).unwrap();
    for (fence, expected_events) in [("```jsonl\n", 5), ("```csv\n", 4)] {
        let start = doc.find(fence).unwrap() + fence.len();
        let block = &doc[start..start + doc[start..].find("```").unwrap()];
        let format = if fence.contains("csv") {
            mlops_maturity::history::HistoryFormat::Csv
        } else {
            mlops_maturity::history::HistoryFormat::JsonLines
        };
        let (events, diags) =
            mlops_maturity::history::import_reader(block.as_bytes(), "doc", Some(format));
        assert!(diags.is_empty(), "{fence}: {diags:?}");
        assert_eq!(events.len(), expected_events, "{fence}");
    }
}

#[test]
fn streaming_file_metrics_equal_collected_ones() {
    let path = fixtures().join("sample.jsonl");
    let (streamed, diags) =
        mlops_maturity::history::metrics_from_file(&path, &HistoryConfig::default()).unwrap();
    assert!(diags.is_empty());
    assert_eq!(streamed, fixture_metrics(&path));
    assert!(
        mlops_maturity::history::metrics_from_file(
            fixtures().join("missing.jsonl"),
            &HistoryConfig::default()
        )
        .is_err()
    );
}

#[test]
fn a_file_of_bad_lines_gives_bounded_diagnostics() {
    let text = "not json\n".repeat(1000);
    let (events, diags) = mlops_maturity::history::import_reader(
        text.as_bytes(),
        "bad.jsonl",
        Some(mlops_maturity::history::HistoryFormat::JsonLines),
    );
    assert!(events.is_empty());
    // 200 listed (the first names line 1) + one summary of the other 800.
    assert_eq!(diags.len(), 201);
    assert_eq!(diags[0].location.as_ref().unwrap().line, 1);
    assert!(diags[200].message.starts_with("800 more"));
}

#[test]
fn odd_input_never_panics() {
    let text = concat!(
        "{\"type\":\"deployment\",\"environment\":\"production\",\"created_at\":\"0000-01-01T00:00:00Z\",\"status\":\"success\"}\n",
        "{\"type\":\"deployment\",\"environment\":\"production\",\"created_at\":\"9999-12-31T23:59:59Z\",\"status\":\"failure\",\"finished_at\":\"0001-01-01T00:00:00Z\"}\n",
        "{\"type\":\"deployment\",\"environment\":\"prod\",\"sha\":\"\",\"created_at\":\"2026-01-01T00:00:00+23:59\",\"statuses\":[{\"state\":null},{\"state\":\"success\",\"created_at\":7}]}\n",
        "{\"type\":\"run\",\"created_at\":\"2026-01-01T00:00:00Z\",\"duration_seconds\":1e308,\"conclusion\":\"success\"}\n",
        "{\"type\":\"run\",\"created_at\":\"2026-01-01T00:00:00Z\",\"duration_seconds\":-5,\"conclusion\":\"failure\"}\n",
        "{\"type\":\"commit\",\"sha\":\"é\u{200b}\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n",
        "{\"type\":\"release\",\"tag\":\"\",\"created_at\":\"2026-01-01\"}\n",
        "{}\n",
        "\"just a string\"\n",
        "{\"type\":\"deployment\",\"environment\":\"production\",\"created_at\":\"2026-02-30T00:00:00Z\"}\n",
    );
    let (events, diags) =
        mlops_maturity::history::import_reader(text.as_bytes(), "odd.jsonl", None);
    assert!(!diags.is_empty());
    for window_days in [0, 1, 90, 3650] {
        let cfg = HistoryConfig {
            window_days,
            ..HistoryConfig::default()
        };
        let m = compute(events.clone(), &cfg).unwrap();
        let _ = history_findings(&m);
        serde_json::to_string(&m).unwrap();
    }
}
