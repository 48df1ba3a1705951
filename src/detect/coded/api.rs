//! Facts only git metadata and the APIs give: tags, branch protection,
//! protected environments, registry versions. Local scans leave the API slots
//! `NotCollected`; then these detectors add nothing (never "absent").

use std::collections::BTreeMap;

use regex::Regex;

use crate::detect::{Confidence, Evidence, Origin, qualifier};
use crate::evidence::ApiRecord;

use super::{Ctx, Findings, is_production_name, shorten};

fn api_evidence(
    rule: &str,
    record: ApiRecord,
    excerpt: impl Into<String>,
    qualifiers: &[&str],
    confidence: Confidence,
) -> Evidence {
    Evidence {
        rule: rule.to_string(),
        origin: Origin::Api { record },
        excerpt: shorten(&excerpt.into()),
        chain: Vec::new(),
        qualifiers: qualifiers.iter().map(|q| q.to_string()).collect(),
        confidence,
    }
}

fn semver_tag() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:[A-Za-z0-9_.-]*[-/@])?[vV]?\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z.-]+)?$")
            .expect("constant regex")
    })
}

/// `api.release_tags` from git tags — "Git tags are `api`/git-metadata evidence,
/// reported separately" from the files-based `release.versioning`, so they get a
/// practice id of their own: semver-like tag names (`v1.2.3`, `1.4`, `model-v2.0.1`).
pub(crate) fn release_tags(ctx: &Ctx, findings: &mut Findings) {
    let Some(git) = &ctx.snapshot.git else {
        return;
    };
    let mut tags: Vec<&crate::evidence::GitRef> = git
        .tags
        .iter()
        .filter(|t| semver_tag().is_match(&t.name))
        .collect();
    if tags.is_empty() {
        return;
    }
    // Newest first when dates are known (RFC 3339 sorts as text), else by name.
    tags.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| b.name.cmp(&a.name)));
    let latest: Vec<&str> = tags.iter().take(3).map(|t| t.name.as_str()).collect();
    let confidence = if tags.len() >= 2 {
        Confidence::High
    } else {
        Confidence::Medium
    };
    findings.add(
        "api.release_tags",
        api_evidence(
            "api.release_tags.git_tags",
            ApiRecord {
                endpoint: "git refs/tags".to_string(),
                record: Some(latest.join(", ")),
                url: None,
            },
            format!(
                "{} semver-like tag(s), latest {}",
                tags.len(),
                latest.join(", ")
            ),
            &[],
            confidence,
        ),
    );
}

/// `api.branch_protection` — default branch protected: required status checks,
/// required reviews (also code-owner reviews, linear history).
pub(crate) fn api_branch_protection(ctx: &Ctx, findings: &mut Findings) {
    let Some(items) = ctx.snapshot.api.branch_protection.items() else {
        return;
    };
    for bp in items {
        if bp.required_checks.is_empty()
            && bp.required_reviews == 0
            && !bp.code_owner_reviews
            && !bp.linear_history
        {
            continue;
        }
        let mut parts = Vec::new();
        if !bp.required_checks.is_empty() {
            parts.push(format!("required checks {}", bp.required_checks.join(", ")));
        }
        if bp.required_reviews > 0 {
            parts.push(format!("{} required review(s)", bp.required_reviews));
        }
        if bp.code_owner_reviews {
            parts.push("code-owner reviews".to_string());
        }
        if bp.linear_history {
            parts.push("linear history".to_string());
        }
        findings.add(
            "api.branch_protection",
            api_evidence(
                "api.branch_protection",
                bp.record.clone(),
                format!("branch {} protected: {}", bp.branch, parts.join("; ")),
                &[],
                Confidence::High,
            ),
        );
    }
}

/// `api.environment_protection` — deployment environments with required
/// reviewers or wait timers. Required reviewers on a production environment are
/// also `deploy.approval_gate` ("protected environment with reviewers (api)").
pub(crate) fn api_environment_protection(ctx: &Ctx, findings: &mut Findings) {
    let Some(items) = ctx.snapshot.api.environments.items() else {
        return;
    };
    for env in items {
        if env.required_reviewers == 0 && env.wait_timer_minutes == 0 {
            continue;
        }
        let production = env.tier.as_deref() == Some("production") || is_production_name(&env.name);
        let qualifiers: &[&str] = if production {
            &[qualifier::PRODUCTION]
        } else {
            &[]
        };
        findings.add(
            "api.environment_protection",
            api_evidence(
                "api.environment_protection",
                env.record.clone(),
                format!(
                    "environment {}: {} required reviewer(s), wait timer {} min",
                    env.name, env.required_reviewers, env.wait_timer_minutes
                ),
                qualifiers,
                Confidence::High,
            ),
        );
        if production && env.required_reviewers > 0 {
            findings.add(
                "deploy.approval_gate",
                api_evidence(
                    "deploy.approval_gate.environment_reviewers",
                    env.record.clone(),
                    format!(
                        "production environment {} requires {} reviewer(s)",
                        env.name, env.required_reviewers
                    ),
                    qualifiers,
                    Confidence::High,
                ),
            );
        }
    }
}

/// `api.registry_versions` — versioned artifacts in a container, package or
/// model registry: one piece of evidence per artifact, with its version count.
pub(crate) fn api_registry_versions(ctx: &Ctx, findings: &mut Findings) {
    let Some(items) = ctx.snapshot.api.registry_versions.items() else {
        return;
    };
    let mut by_artifact: BTreeMap<(&str, &str), Vec<&crate::evidence::RegistryVersion>> =
        BTreeMap::new();
    for version in items {
        by_artifact
            .entry((version.kind.as_str(), version.name.as_str()))
            .or_default()
            .push(version);
    }
    for ((kind, name), versions) in by_artifact.into_iter().take(50) {
        let Some(first) = versions.first() else {
            continue;
        };
        let shown: Vec<&str> = versions
            .iter()
            .take(3)
            .map(|v| v.version.as_str())
            .collect();
        findings.add(
            "api.registry_versions",
            api_evidence(
                "api.registry_versions",
                first.record.clone(),
                format!(
                    "{kind} {name}: {} version(s) ({})",
                    versions.len(),
                    shown.join(", ")
                ),
                &[],
                Confidence::High,
            ),
        );
    }
}
