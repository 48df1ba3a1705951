//! Assessment: turn practice findings into levels of the standard's sub-items,
//! following the interpretation table ([`table`], `interpretation/levels.toml`).
//!
//! The rules (documented in `docs/interpretation.md`):
//! - A sub-item's level is the highest N such that the requirements of every level
//!   2..=N hold (levels are cumulative); level 1 needs nothing.
//! - An item's level is the lowest of its sub-items, a sub-domain's the lowest of its
//!   items, the overall level the lowest sub-domain (the staged rule of maturity models).
//!   The mean of the 32 sub-item levels is reported beside it, labelled as such.
//! - Attested evidence (declared in `.mlops-maturity.toml`) counts, labelled, but a
//!   level above 3 counts only when at least one piece of the evidence it rests on was
//!   observed: attestations alone never lift a sub-item above level 3 (after the ML Test
//!   Score's half credit for manual, documented tests).
//!
//! [`assess`] is a pure function of the detection, the table and the configuration.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::Config;
use crate::detect::{Detection, Evidence};
use crate::evidence::Location;
use crate::standard::{self, Name};

pub mod practices;
pub mod table;

pub use table::{Expr, Requirement, SubItemCriteria, Table, TableError, Text};

/// Highest level attestations alone can justify.
pub const ATTESTED_CAP: u8 = 3;

/// How many pieces of evidence per practice a result keeps for display.
pub const EVIDENCE_SHOWN: usize = 5;

/// The assessment of one repository (or one project of a monorepo).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Lowest sub-domain level (staged rule).
    pub overall: u8,
    /// Mean of the 32 sub-item levels, two decimals: a continuous score, not a level.
    pub mean_score: f64,
    pub sub_domains: Vec<SubDomainResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubDomainResult {
    pub id: &'static str,
    pub name: Name,
    pub level: u8,
    pub items: Vec<ItemResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemResult {
    pub id: &'static str,
    pub name: Name,
    pub level: u8,
    pub sub_items: Vec<SubItemResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubItemResult {
    pub id: &'static str,
    pub name: Name,
    pub ml_specific: bool,
    pub level: u8,
    /// No practice the table names for this sub-item was observed or attested.
    pub no_evidence: bool,
    /// The next level's requirements hold, but only on attested evidence (see [`ATTESTED_CAP`]).
    pub capped_by_attestation: bool,
    /// Each level reached (2..=level), with the requirements and the evidence used.
    pub met: Vec<MetLevel>,
    /// What the next level needs that is missing; empty at level 5.
    pub next_steps: Vec<NextStep>,
}

impl SubItemResult {
    /// Every piece of evidence behind the level, in order.
    pub fn evidence(&self) -> impl Iterator<Item = (&EvidenceUse, &Evidence)> {
        self.met
            .iter()
            .flat_map(|m| &m.requirements)
            .flat_map(|r| &r.evidence)
            .flat_map(|u| u.shown.iter().map(move |e| (u, e)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetLevel {
    pub level: u8,
    pub requirements: Vec<MetRequirement>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetRequirement {
    /// The requirement expression as written in the table.
    pub when: String,
    pub text: Text,
    /// The practices that satisfied it, with their evidence.
    pub evidence: Vec<EvidenceUse>,
}

/// Evidence of one practice used for a requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceUse {
    pub practice: String,
    /// Qualifiers the requirement asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub qualifiers: Vec<String>,
    /// How many matching pieces were observed (files, API records).
    pub observed: usize,
    /// How many matching pieces were attested in the configuration.
    pub attested: usize,
    /// Up to [`EVIDENCE_SHOWN`] pieces at distinct places, observed first, then by confidence.
    pub shown: Vec<Evidence>,
}

/// Why a next step is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStepReason {
    /// The requirement does not hold.
    Missing,
    /// It holds only through attestations, which cannot justify this level.
    AttestedOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextStep {
    pub level: u8,
    pub when: String,
    pub text: Text,
    pub reason: NextStepReason,
}

/// Assess one detection against the table.
pub fn assess(detection: &Detection, table: &Table, config: &Config) -> Assessment {
    let scopes: HashMap<&Location, &[String]> = config
        .attestations
        .iter()
        .filter_map(|a| a.sub_items.as_deref().map(|s| (&a.location, s)))
        .collect();
    let mut sub_domains = Vec::new();
    let mut level_sum = 0u32;
    for d in &standard::SUB_DOMAINS {
        let mut items = Vec::new();
        for i in standard::items_of(d.id) {
            let sub_items: Vec<SubItemResult> = standard::sub_items_of(i.id)
                .map(|s| {
                    let ctx = Ctx {
                        detection,
                        scopes: &scopes,
                        sub_item: s.id,
                    };
                    assess_sub_item(s, table.sub_item(s.id), &ctx)
                })
                .collect();
            level_sum += sub_items.iter().map(|s| u32::from(s.level)).sum::<u32>();
            let level = lowest(sub_items.iter().map(|s| s.level));
            items.push(ItemResult {
                id: i.id,
                name: i.name,
                level,
                sub_items,
            });
        }
        let level = lowest(items.iter().map(|i| i.level));
        sub_domains.push(SubDomainResult {
            id: d.id,
            name: d.name,
            level,
            items,
        });
    }
    let overall = lowest(sub_domains.iter().map(|d| d.level));
    let mean = f64::from(level_sum) / standard::SUB_ITEMS.len() as f64;
    Assessment {
        overall,
        mean_score: (mean * 100.0).round() / 100.0,
        sub_domains,
    }
}

fn lowest(levels: impl Iterator<Item = u8>) -> u8 {
    levels.min().unwrap_or(standard::MIN_LEVEL)
}

struct Ctx<'a> {
    detection: &'a Detection,
    /// Attestation location → the sub-items it is limited to.
    scopes: &'a HashMap<&'a Location, &'a [String]>,
    sub_item: &'a str,
}

impl Ctx<'_> {
    /// Evidence of a practice that counts here: observed evidence carrying every asked
    /// qualifier, and attestations in scope for this sub-item. An attestation declares the
    /// practice in the form the table asks for, so it satisfies any qualifier.
    fn matching(&self, practice: &str, qualifiers: &[String]) -> Vec<&Evidence> {
        let Some(finding) = self.detection.practice(practice) else {
            return Vec::new();
        };
        finding
            .evidence
            .iter()
            .filter(|e| match &e.origin {
                crate::detect::Origin::Attested { location, .. } => self
                    .scopes
                    .get(location)
                    .is_none_or(|s| s.iter().any(|id| id == self.sub_item)),
                _ => qualifiers.iter().all(|q| e.has(q)),
            })
            .collect()
    }

    /// `Some(evidence used)` when the expression holds.
    fn eval(&self, expr: &Expr) -> Option<Vec<EvidenceUse>> {
        match expr {
            Expr::Practice { id, qualifiers } => {
                let mut found = self.matching(id, qualifiers);
                if found.is_empty() {
                    return None;
                }
                // Observed first, stronger first; one piece per place (several rules may
                // point at the same line).
                found.sort_by_key(|e| (e.is_attested(), std::cmp::Reverse(e.confidence)));
                let attested = found.iter().filter(|e| e.is_attested()).count();
                let mut shown: Vec<Evidence> = Vec::new();
                for e in &found {
                    if shown.len() == EVIDENCE_SHOWN {
                        break;
                    }
                    if !shown.iter().any(|s| s.origin == e.origin) {
                        shown.push((*e).clone());
                    }
                }
                Some(vec![EvidenceUse {
                    practice: id.clone(),
                    qualifiers: qualifiers.clone(),
                    observed: found.len() - attested,
                    attested,
                    shown,
                }])
            }
            Expr::All(xs) => {
                let mut used = Vec::new();
                for x in xs {
                    used.extend(self.eval(x)?);
                }
                Some(used)
            }
            Expr::Any(xs) => {
                let used: Vec<EvidenceUse> =
                    xs.iter().filter_map(|x| self.eval(x)).flatten().collect();
                (!used.is_empty()).then_some(used)
            }
        }
    }
}

fn assess_sub_item(
    s: &'static standard::SubItem,
    criteria: Option<&SubItemCriteria>,
    ctx: &Ctx<'_>,
) -> SubItemResult {
    let mut result = SubItemResult {
        id: s.id,
        name: s.name,
        ml_specific: s.ml_specific,
        level: standard::MIN_LEVEL,
        no_evidence: true,
        capped_by_attestation: false,
        met: Vec::new(),
        next_steps: Vec::new(),
    };
    // Table::parse guarantees an entry per sub-item; without one nothing can be claimed.
    let Some(criteria) = criteria else {
        return result;
    };
    result.no_evidence = criteria
        .practices()
        .iter()
        .all(|p| ctx.matching(p, &[]).is_empty());
    for level in 2..=standard::MAX_LEVEL {
        let reqs = criteria.level(level);
        let outcomes: Vec<Option<Vec<EvidenceUse>>> =
            reqs.iter().map(|r| ctx.eval(&r.expr)).collect();
        let all_hold = outcomes.iter().all(Option::is_some);
        let observed = outcomes.iter().flatten().flatten().any(|u| u.observed > 0);
        if all_hold && (level <= ATTESTED_CAP || observed) {
            result.level = level;
            result.met.push(MetLevel {
                level,
                requirements: reqs
                    .iter()
                    .zip(outcomes)
                    .map(|(r, used)| MetRequirement {
                        when: r.expr.to_string(),
                        text: r.text.clone(),
                        evidence: used.unwrap_or_default(),
                    })
                    .collect(),
            });
            continue;
        }
        result.capped_by_attestation = all_hold;
        result.next_steps = reqs
            .iter()
            .zip(&outcomes)
            .filter(|(_, used)| all_hold || used.is_none())
            .map(|(r, _)| NextStep {
                level,
                when: r.expr.to_string(),
                text: r.text.clone(),
                reason: if all_hold {
                    NextStepReason::AttestedOnly
                } else {
                    NextStepReason::Missing
                },
            })
            .collect();
        break;
    }
    result
}

/// Every sub-item result of an assessment, in the standard's order.
pub fn sub_items(a: &Assessment) -> impl Iterator<Item = &SubItemResult> {
    a.sub_domains
        .iter()
        .flat_map(|d| &d.items)
        .flat_map(|i| &i.sub_items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_detection_is_level_one_everywhere() {
        let table = Table::builtin().unwrap();
        let a = assess(&Detection::default(), &table, &Config::default());
        assert_eq!(a.overall, 1);
        assert_eq!(a.mean_score, 1.0);
        assert_eq!(sub_items(&a).count(), 32);
        for s in sub_items(&a) {
            assert!(s.no_evidence, "{}", s.id);
            assert!(s.met.is_empty());
            assert_eq!(s.next_steps.first().map(|n| n.level), Some(2), "{}", s.id);
        }
    }
}
