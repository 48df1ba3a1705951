//! Registry evidence → practice findings, one piece of evidence per model, each an
//! `Origin::Api` record naming the registry (credentials stripped) and the model or
//! version, with the numbers in the excerpt. Ids and thresholds: docs/mlflow.md.

use std::collections::{BTreeMap, BTreeSet};

use super::collect::{plural, short_list};
use super::{EvidenceKind, ModelEvidence, RegistryEvidence, VersionEvidence};
use crate::detect::{Confidence, Evidence, Origin, PracticeFinding, qualifier};
use crate::evidence::ApiRecord;

/// Alias names read as "the version in production", in order of preference.
/// Without one of them, a version in the legacy `Production` stage is.
pub const PRODUCTION_ALIASES: &[&str] = &["champion", "production", "prod", "live", "current"];

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Cadence months are 30-day windows ending at the collection time.
const MONTH_MS: i64 = 30 * DAY_MS;
const CADENCE_MONTHS: usize = 6;

const RULE: &str = "mlflow.registry";

/// Practice findings from one registry's evidence. Nothing is reported from a kind
/// that was not visible: absence is only ever read from what was seen.
pub fn registry_findings(ev: &RegistryEvidence) -> Vec<PracticeFinding> {
    let mut by_practice: BTreeMap<&'static str, Vec<Evidence>> = BTreeMap::new();
    if !ev.models_visible {
        return Vec::new();
    }
    let runs_visible = ev.kind_visible(EvidenceKind::Runs);
    for model in &ev.models {
        if model.versions.is_empty() {
            continue;
        }
        let how = model
            .matched_by
            .as_ref()
            .map(|m| m.describe())
            .unwrap_or_default();
        let numbers = version_span(model);
        by_practice
            .entry("api.registry_versions")
            .or_default()
            .push(evidence(
                &model.record,
                format!(
                    "registry {}: model {} has {} ({numbers}){}; matched {how}",
                    ev.tracking_uri,
                    model.name,
                    plural(model.versions.len(), "version", "versions"),
                    if model.missing_versions.is_empty() {
                        String::new()
                    } else {
                        format!(", {} deleted", model.missing_versions.len())
                    }
                ),
                &[],
            ));
        by_practice
            .entry("model.registry")
            .or_default()
            .push(evidence(
                &model.record,
                format!(
                    "model {} observed in the registry {} with {} (not only registered in code)",
                    model.name,
                    ev.tracking_uri,
                    plural(model.versions.len(), "version", "versions")
                ),
                &[],
            ));
        if let Some(e) = cadence(ev, model) {
            by_practice.entry("api.model_cadence").or_default().push(e);
        }
        if runs_visible {
            if let Some(e) = lineage(ev, model) {
                by_practice.entry("api.model_lineage").or_default().push(e);
            }
        }
        if let Some(e) = promotion(model) {
            by_practice
                .entry("api.model_promotion")
                .or_default()
                .push(e);
        }
        if let Some(e) = retirement(model) {
            by_practice
                .entry("api.model_retirement")
                .or_default()
                .push(e);
        }
        if let Some(e) = schema(model) {
            by_practice.entry("api.model_schema").or_default().push(e);
        }
    }
    by_practice
        .into_iter()
        .map(|(practice, evidence)| PracticeFinding {
            practice: practice.to_string(),
            evidence,
        })
        .collect()
}

fn evidence(record: &ApiRecord, excerpt: String, extra_qualifiers: &[&str]) -> Evidence {
    let mut qualifiers: BTreeSet<String> = BTreeSet::from([qualifier::ML.to_string()]);
    qualifiers.extend(extra_qualifiers.iter().map(|q| q.to_string()));
    Evidence {
        rule: RULE.into(),
        origin: Origin::Api {
            record: record.clone(),
        },
        excerpt,
        chain: Vec::new(),
        qualifiers,
        confidence: Confidence::High,
    }
}

fn version_span(model: &ModelEvidence) -> String {
    let numbers: Vec<u64> = model
        .versions
        .iter()
        .filter_map(VersionEvidence::number)
        .collect();
    match (numbers.iter().min(), numbers.iter().max()) {
        (Some(lo), Some(hi)) if lo != hi => format!("v{lo}–v{hi}"),
        (Some(lo), _) => format!("v{lo}"),
        _ => "unnumbered".into(),
    }
}

/// The version serving production: a production alias first, else the newest
/// version in the legacy `Production` stage. Returns the version and how it was chosen.
pub fn production_version(model: &ModelEvidence) -> Option<(&VersionEvidence, String)> {
    for alias in PRODUCTION_ALIASES {
        if let Some(version) = model.aliases.get(*alias).and_then(|v| model.version(v)) {
            return Some((version, format!("alias {alias}")));
        }
    }
    model
        .versions
        .iter()
        .rev()
        .find(|v| {
            v.stage
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("production"))
        })
        .map(|v| (v, "stage Production".to_string()))
}

fn cadence(ev: &RegistryEvidence, model: &ModelEvidence) -> Option<Evidence> {
    let end = ev.collected_at_ms;
    let start = end.saturating_sub(MONTH_MS * CADENCE_MONTHS as i64);
    let mut per_month = [0u32; CADENCE_MONTHS];
    for created in model.versions.iter().filter_map(|v| v.created_at_ms) {
        if created <= start || created > end {
            continue;
        }
        // Oldest window first: index 0 is 6 months ago, the last one ends now.
        let index = ((created - start - 1) / MONTH_MS) as usize;
        if let Some(slot) = per_month.get_mut(index) {
            *slot += 1;
        }
    }
    let total: u32 = per_month.iter().sum();
    if total == 0 {
        return None;
    }
    let months: Vec<String> = per_month.iter().map(u32::to_string).collect();
    Some(evidence(
        &model.record,
        format!(
            "model {}: {} registered in the last 6 months ({:.1}/month; per 30-day month, oldest first: {})",
            model.name,
            plural(total as usize, "version", "versions"),
            f64::from(total) / CADENCE_MONTHS as f64,
            months.join(" ")
        ),
        &[],
    ))
}

fn lineage(ev: &RegistryEvidence, model: &ModelEvidence) -> Option<Evidence> {
    let total = model.versions.len();
    let traced: Vec<&VersionEvidence> = model
        .versions
        .iter()
        .filter(|v| ev.run_of(v).is_some_and(|r| r.has_lineage()))
        .collect();
    let checked = model
        .versions
        .iter()
        .filter(|v| ev.run_of(v).is_some_and(|r| r.visibility == "visible"))
        .count();
    if traced.is_empty() {
        return None;
    }
    let percent = traced.len() * 100 / total.max(1);
    let mut excerpt = format!(
        "model {}: {}/{total} versions ({percent}%) trace to a commit and a run with metrics",
        model.name,
        traced.len()
    );
    if checked < total {
        excerpt.push_str(&format!(" ({} runs not readable)", total - checked));
    }
    let mut qualifiers: Vec<&str> = Vec::new();
    if let Some((prod, how)) = production_version(model) {
        match ev.run_of(prod).filter(|r| r.has_lineage()) {
            Some(run) => {
                qualifiers.push(qualifier::PRODUCTION);
                excerpt.push_str(&format!(
                    "; production v{} ({how}) → commit {}, run {} with {}",
                    prod.version,
                    short(run.git_commit.as_deref().unwrap_or("")),
                    short(&run.run_id),
                    plural(run.metrics.len(), "metric", "metrics")
                ));
            }
            None => excerpt.push_str(&format!(
                "; production v{} ({how}) does not trace to a commit and metrics",
                prod.version
            )),
        }
    }
    let datasets = traced
        .iter()
        .filter(|v| ev.run_of(v).is_some_and(|r| !r.datasets.is_empty()))
        .count();
    if datasets > 0 {
        excerpt.push_str(&format!("; {datasets} with dataset inputs"));
    }
    Some(evidence(&model.record, excerpt, &qualifiers))
}

fn promotion(model: &ModelEvidence) -> Option<Evidence> {
    let mut parts: Vec<String> = model
        .aliases
        .iter()
        .map(|(alias, version)| format!("alias {alias} → v{version}"))
        .collect();
    for version in &model.versions {
        if let Some(stage) = version.stage.as_deref() {
            if stage.eq_ignore_ascii_case("production") || stage.eq_ignore_ascii_case("staging") {
                parts.push(format!("stage {stage} → v{}", version.version));
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    let production = production_version(model);
    let qualifiers: &[&str] = if production.is_some() {
        &[qualifier::PRODUCTION]
    } else {
        &[]
    };
    Some(evidence(
        &model.record,
        format!(
            "model {}: explicit promotion: {}{}",
            model.name,
            parts.join(", "),
            production
                .map(|(v, how)| format!("; production is v{} ({how})", v.version))
                .unwrap_or_default()
        ),
        qualifiers,
    ))
}

fn is_live(version: &VersionEvidence) -> bool {
    !version.aliases.is_empty()
        || version.stage.as_deref().is_some_and(|s| {
            s.eq_ignore_ascii_case("production") || s.eq_ignore_ascii_case("staging")
        })
}

/// Superseded = below the newest live version (alias or Production/Staging stage;
/// the newest version when none is live) and not live itself; deleted numbers count
/// as superseded and retired.
pub fn superseded_and_retired(model: &ModelEvidence) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
    let reference = model
        .versions
        .iter()
        .filter(|v| is_live(v))
        .filter_map(VersionEvidence::number)
        .max()
        .or_else(|| {
            model
                .versions
                .iter()
                .filter_map(VersionEvidence::number)
                .max()
        })
        .unwrap_or(0);
    let mut superseded: Vec<u64> = model
        .versions
        .iter()
        .filter(|v| !is_live(v))
        .filter_map(VersionEvidence::number)
        .filter(|n| *n < reference)
        .collect();
    let archived: Vec<u64> = model
        .versions
        .iter()
        .filter(|v| v.is_archived())
        .filter_map(VersionEvidence::number)
        .filter(|n| *n < reference)
        .collect();
    superseded.extend(model.missing_versions.iter().copied());
    superseded.sort_unstable();
    superseded.dedup();
    (superseded, archived, model.missing_versions.clone())
}

fn retirement(model: &ModelEvidence) -> Option<Evidence> {
    let (superseded, archived, deleted) = superseded_and_retired(model);
    let retired = archived.len() + deleted.len();
    if retired == 0 {
        return None;
    }
    let mut excerpt = format!(
        "model {}: {retired} of {} superseded versions retired",
        model.name,
        superseded.len()
    );
    if !archived.is_empty() {
        excerpt.push_str(&format!(
            "; {} archived ({})",
            archived.len(),
            short_list(&archived)
        ));
    }
    if !deleted.is_empty() {
        excerpt.push_str(&format!(
            "; {} deleted (gaps in the version numbers: {})",
            deleted.len(),
            short_list(&deleted)
        ));
    }
    let lingering = superseded.len().saturating_sub(retired);
    if lingering > 0 {
        excerpt.push_str(&format!("; {lingering} superseded still active"));
    }
    Some(evidence(&model.record, excerpt, &[]))
}

fn schema(model: &ModelEvidence) -> Option<Evidence> {
    let with_signature = model
        .versions
        .iter()
        .filter(|v| v.schema.signature == Some(true))
        .count();
    if with_signature == 0 {
        return None;
    }
    let with_example = model
        .versions
        .iter()
        .filter(|v| v.schema.input_example == Some(true))
        .count();
    let checked = model
        .versions
        .iter()
        .filter(|v| v.schema.signature.is_some())
        .count();
    let latest_signed = model
        .versions
        .iter()
        .rev()
        .find(|v| v.schema.signature == Some(true))
        .map(|v| v.version.as_str())
        .unwrap_or("");
    Some(evidence(
        &model.record,
        format!(
            "model {}: {with_signature}/{} versions record a signature ({with_example} with an input example; {checked} of {} MLmodel files read; latest signed v{latest_signed})",
            model.name,
            model.versions.len(),
            model.versions.len()
        ),
        &[],
    ))
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Unix milliseconds → `YYYY-MM-DDTHH:MM:SSZ` (UTC), for `RegistryVersion::created_at`.
pub fn rfc3339_from_millis(ms: i64) -> Option<String> {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::mlflow::{MatchedBy, RunEvidence, SchemaEvidence};

    fn record(what: &str) -> ApiRecord {
        ApiRecord {
            endpoint: "GET http://registry/api/2.0/mlflow/model-versions/search".into(),
            record: Some(what.into()),
            url: Some("http://registry".into()),
        }
    }

    fn version(n: u64, created: i64, stage: Option<&str>, run: Option<&str>) -> VersionEvidence {
        VersionEvidence {
            stage: stage.map(str::to_string),
            created_at_ms: Some(created),
            run_id: run.map(str::to_string),
            ..VersionEvidence::new(n.to_string(), record(&format!("model m version {n}")))
        }
    }

    fn sample() -> RegistryEvidence {
        let now = 1_800_000_000_000;
        let mut model = ModelEvidence {
            matched_by: Some(MatchedBy::Name),
            versions: vec![
                version(1, now - 200 * DAY_MS, Some("Archived"), Some("r1")),
                version(2, now - 40 * DAY_MS, Some("Production"), Some("r2")),
                version(4, now - 5 * DAY_MS, None, Some("r4")),
                version(5, now - DAY_MS, None, None),
            ],
            versions_complete: true,
            missing_versions: vec![3],
            ..ModelEvidence::new("m", record("registered model m"))
        };
        model.aliases.insert("champion".into(), "4".into());
        model.versions[2].aliases = vec!["champion".into()];
        model.versions[2].schema = SchemaEvidence {
            signature: Some(true),
            input_example: Some(true),
            from: Some("mlmodel".into()),
        };
        let mut runs = BTreeMap::new();
        for (id, commit, metric) in [
            ("r1", Some("a1"), true),
            ("r2", Some("b2"), true),
            ("r4", Some("c4c4c4c4c4"), true),
        ] {
            let mut run = RunEvidence::new(id, "visible", record(id));
            run.git_commit = commit.map(str::to_string);
            if metric {
                run.metrics.insert("accuracy".into(), 0.9);
            }
            runs.insert(id.to_string(), run);
        }
        RegistryEvidence {
            tracking_uri: "http://registry".into(),
            server: "mlflow".into(),
            collected_at_ms: now,
            models: vec![model],
            runs,
            models_visible: true,
            ..Default::default()
        }
    }

    fn excerpt(findings: &[PracticeFinding], id: &str) -> String {
        findings
            .iter()
            .find(|f| f.practice == id)
            .unwrap_or_else(|| panic!("no {id} in {findings:#?}"))
            .evidence[0]
            .excerpt
            .clone()
    }

    #[test]
    fn every_practice_with_numbers() {
        let findings = registry_findings(&sample());
        let ids: Vec<&str> = findings.iter().map(|f| f.practice.as_str()).collect();
        assert_eq!(
            ids,
            [
                "api.model_cadence",
                "api.model_lineage",
                "api.model_promotion",
                "api.model_retirement",
                "api.model_schema",
                "api.registry_versions",
                "model.registry"
            ]
        );
        assert_eq!(
            excerpt(&findings, "api.registry_versions"),
            "registry http://registry: model m has 4 versions (v1–v5), 1 deleted; matched by configured name"
        );
        // v1 is 200 days old: outside 6 × 30 days. v2 in window 5 (31–60 days ago).
        assert!(excerpt(&findings, "api.model_cadence").contains("3 versions registered in the last 6 months (0.5/month; per 30-day month, oldest first: 0 0 0 0 1 2)"));
        let lineage = excerpt(&findings, "api.model_lineage");
        assert!(
            lineage.starts_with("model m: 3/4 versions (75%)"),
            "{lineage}"
        );
        assert!(
            lineage
                .contains("production v4 (alias champion) → commit c4c4c4c4, run r4 with 1 metric"),
            "{lineage}"
        );
        let promotion = excerpt(&findings, "api.model_promotion");
        assert!(
            promotion.contains("alias champion → v4")
                && promotion.contains("stage Production → v2"),
            "{promotion}"
        );
        assert_eq!(
            excerpt(&findings, "api.model_retirement"),
            "model m: 2 of 2 superseded versions retired; 1 archived (v1); 1 deleted (gaps in the version numbers: v3)"
        );
        assert!(
            excerpt(&findings, "api.model_schema")
                .starts_with("model m: 1/4 versions record a signature (1 with an input example")
        );
        let lineage_evidence = &findings
            .iter()
            .find(|f| f.practice == "api.model_lineage")
            .unwrap()
            .evidence[0];
        assert!(lineage_evidence.has(qualifier::PRODUCTION) && lineage_evidence.has(qualifier::ML));
        assert!(matches!(lineage_evidence.origin, Origin::Api { .. }));
    }

    #[test]
    fn nothing_when_models_not_visible_or_runs_hidden() {
        let mut ev = sample();
        ev.models_visible = false;
        assert!(registry_findings(&ev).is_empty());
        let mut ev = sample();
        ev.not_visible.push(crate::connect::mlflow::NotVisible {
            kind: EvidenceKind::Runs,
            endpoint: "GET x/runs/get".into(),
            http_status: 403,
        });
        let findings = registry_findings(&ev);
        assert!(findings.iter().all(|f| f.practice != "api.model_lineage"));
        assert!(findings.iter().any(|f| f.practice == "api.model_promotion"));
    }

    #[test]
    fn stage_production_is_the_fallback() {
        let mut ev = sample();
        ev.models[0].aliases.clear();
        ev.models[0].versions[2].aliases.clear();
        let (v, how) = production_version(&ev.models[0]).unwrap();
        assert_eq!(
            (v.version.as_str(), how.as_str()),
            ("2", "stage Production")
        );
        // With v2 the newest live version, v4 and v5 are newer, not superseded.
        let (superseded, archived, deleted) = superseded_and_retired(&ev.models[0]);
        // Deleted numbers always count as superseded.
        assert_eq!(
            (superseded, archived, deleted),
            (vec![1, 3], vec![1], vec![3])
        );
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            rfc3339_from_millis(0).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            rfc3339_from_millis(1_795_682_427_326).as_deref(),
            Some("2026-11-26T08:40:27Z")
        );
        assert_eq!(
            rfc3339_from_millis(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(rfc3339_from_millis(i64::MAX), None);
    }
}
