//! The assessment rules on hand-built detections: cumulative levels, the minimum rule,
//! the mean, the attestation cap, next steps and "no evidence".

use mlops_maturity::assess::{self, Assessment, NextStepReason, SubItemResult, Table};
use mlops_maturity::config::Config;
use mlops_maturity::detect::{Confidence, Detection, Evidence, Origin, PracticeFinding};
use mlops_maturity::evidence::Location;

fn observed(path: &str, line: u32, qualifiers: &[&str]) -> Evidence {
    Evidence {
        rule: "test".into(),
        origin: Origin::File {
            location: Location::new(path, line),
        },
        excerpt: String::new(),
        chain: Vec::new(),
        qualifiers: qualifiers.iter().map(|q| q.to_string()).collect(),
        confidence: Confidence::High,
    }
}

fn detection(findings: &[(&str, Vec<Evidence>)]) -> Detection {
    let mut findings: Vec<PracticeFinding> = findings
        .iter()
        .map(|(p, e)| PracticeFinding {
            practice: p.to_string(),
            evidence: e.clone(),
        })
        .collect();
    findings.sort_by(|a, b| a.practice.cmp(&b.practice));
    Detection {
        findings,
        diagnostics: Vec::new(),
    }
}

fn run(d: &Detection, config: &Config) -> Assessment {
    assess::assess(d, &Table::builtin().unwrap(), config)
}

fn sub<'a>(a: &'a Assessment, id: &str) -> &'a SubItemResult {
    assess::sub_items(a).find(|s| s.id == id).unwrap()
}

#[test]
fn levels_are_cumulative() {
    // 3.1.1: L2 model.evaluation, L3 model.evaluation[threshold],
    // L4 + in_pipeline and deploy.gated_by_tests. Give L4's extra practice without L3's
    // threshold: the level must stay 2.
    let d = detection(&[
        (
            "model.evaluation",
            vec![observed("eval.py", 3, &["in_pipeline"])],
        ),
        ("deploy.gated_by_tests", vec![observed("ci.yml", 9, &[])]),
    ]);
    let a = run(&d, &Config::default());
    let s = sub(&a, "3.1.1");
    assert_eq!(s.level, 2);
    assert_eq!(s.met.len(), 1);
    assert_eq!(s.next_steps[0].level, 3);

    let d = detection(&[
        (
            "model.evaluation",
            vec![observed("eval.py", 3, &["in_pipeline", "threshold"])],
        ),
        ("deploy.gated_by_tests", vec![observed("ci.yml", 9, &[])]),
    ]);
    let a = run(&d, &Config::default());
    let s = sub(&a, "3.1.1");
    assert_eq!(s.level, 4);
    assert_eq!(s.met.iter().map(|m| m.level).collect::<Vec<_>>(), [2, 3, 4]);
    let l4 = &s.met[2].requirements[0];
    assert_eq!(
        l4.evidence.len(),
        2,
        "both practices of the all() are listed"
    );
    assert_eq!(
        l4.evidence[0].shown[0].origin,
        Origin::File {
            location: Location::new("eval.py", 3)
        }
    );
}

#[test]
fn item_subdomain_and_overall_take_the_minimum_and_mean_is_reported() {
    // 1.1.1 → 2 (pipeline + container), 1.2.2 → 2 (on_change).
    let d = detection(&[
        ("ci.pipeline", vec![observed("ci.yml", 1, &[])]),
        ("build.container", vec![observed("ci.yml", 5, &[])]),
        ("ci.on_change", vec![observed("ci.yml", 2, &["on_change"])]),
    ]);
    let a = run(&d, &Config::default());
    assert_eq!(sub(&a, "1.1.1").level, 2);
    let item = &a.sub_domains[0].items[0];
    assert_eq!(item.id, "1.1");
    // 1.1.2 (container build declared) and 1.1.3 (runs on change) are at 2 as well.
    assert_eq!(item.level, 2);
    let ci = &a.sub_domains[0].items[1];
    assert_eq!(ci.id, "1.2");
    assert_eq!(sub(&a, "1.2.2").level, 2);
    assert_eq!(
        ci.level, 1,
        "1.2.1 (model conversion) has nothing: the item takes the minimum"
    );
    assert_eq!(
        a.sub_domains[0].level, 1,
        "the sub-domain takes the lowest item"
    );
    assert_eq!(a.overall, 1);
    let sum: u32 = assess::sub_items(&a).map(|s| u32::from(s.level)).sum();
    assert_eq!(
        a.mean_score,
        ((f64::from(sum) / 32.0) * 100.0).round() / 100.0
    );
    assert!(a.mean_score > 1.0);
}

#[test]
fn a_fully_met_item_gets_its_level() {
    // 4.1.2 L2 vcs.branch_policy, L3 api.branch_protection.
    let d = detection(&[
        ("vcs.branch_policy", vec![observed("ci.yml", 4, &[])]),
        (
            "api.branch_protection",
            vec![Evidence {
                origin: Origin::Api {
                    record: mlops_maturity::evidence::ApiRecord {
                        endpoint: "GET /repos/o/r/branches/main/protection".into(),
                        record: None,
                        url: None,
                    },
                },
                ..observed("x", 0, &[])
            }],
        ),
    ]);
    let a = run(&d, &Config::default());
    assert_eq!(sub(&a, "4.1.2").level, 3);
    assert_eq!(sub(&a, "4.1.2").next_steps[0].level, 4);
}

const ATTEST_ALL: &str = r#"
[[attest]]
practice = "model.evaluation"
url = "https://wiki/eval"
reason = "evaluation gate runs in the ML platform"

[[attest]]
practice = "deploy.gated_by_tests"
url = "https://wiki/deploy"
reason = "deploys wait for the platform's evaluation"
"#;

#[test]
fn attestations_count_but_cap_at_level_three() {
    let config = Config::parse(ATTEST_ALL, ".mlops-maturity.toml").unwrap();
    let mut d = Detection::default();
    config.add_attestations(&mut d);
    let a = run(&d, &config);
    let s = sub(&a, "3.1.1");
    // Attestations satisfy L2 and L3 (an attestation meets any qualifier), L4 would hold
    // only on attestations: capped.
    assert_eq!(s.level, 3);
    assert!(s.capped_by_attestation);
    assert!(!s.no_evidence);
    assert!(
        s.next_steps
            .iter()
            .all(|n| n.level == 4 && n.reason == NextStepReason::AttestedOnly)
    );
    let used = &s.met[0].requirements[0].evidence[0];
    assert_eq!(used.attested, 1);
    assert_eq!(used.observed, 0);
    assert!(matches!(
        &used.shown[0].origin,
        Origin::Attested { location, .. } if location.line == 2
    ));

    // One observed piece among the level-4 evidence lifts the cap.
    let mut d = detection(&[(
        "deploy.gated_by_tests",
        vec![observed(".gitlab-ci.yml", 30, &[])],
    )]);
    config.add_attestations(&mut d);
    let a = run(&d, &config);
    assert_eq!(sub(&a, "3.1.1").level, 4);
    assert!(!sub(&a, "3.1.1").capped_by_attestation);
}

#[test]
fn attestations_limited_to_sub_items() {
    let text = "[[attest]]\npractice = \"ci.tests\"\nurl = \"u\"\nreason = \"r\"\nsub_items = [\"3.1.3\"]\n";
    let config = Config::parse(text, "c.toml").unwrap();
    let mut d = Detection::default();
    config.add_attestations(&mut d);
    let a = run(&d, &config);
    assert_eq!(sub(&a, "3.1.3").level, 2);
    // 3.1.2 L2 is any(test.layering, ci.tests): the attestation is out of scope there.
    assert_eq!(sub(&a, "3.1.2").level, 1);
    assert!(sub(&a, "3.1.2").no_evidence);
}

#[test]
fn qualifiers_must_be_present_on_observed_evidence() {
    let d = detection(&[("model.evaluation", vec![observed("eval.py", 3, &["ml"])])]);
    let a = run(&d, &Config::default());
    let s = sub(&a, "3.1.1");
    assert_eq!(s.level, 2);
    assert_eq!(s.next_steps.len(), 1);
    assert_eq!(s.next_steps[0].when, "model.evaluation[threshold]");
    assert_eq!(s.next_steps[0].reason, NextStepReason::Missing);
    assert!(s.next_steps[0].text.en.contains("threshold"));
    assert!(!s.next_steps[0].text.zh.is_empty());
}

#[test]
fn no_evidence_versus_related_evidence() {
    // ci.tests is named by 1.1.2 only at level 4: related, but not level 2.
    let d = detection(&[("ci.tests", vec![observed("ci.yml", 8, &["on_change"])])]);
    let a = run(&d, &Config::default());
    let s = sub(&a, "1.1.2");
    assert_eq!(s.level, 1);
    assert!(!s.no_evidence);
    assert!(sub(&a, "2.2.1").no_evidence);
    assert_eq!(sub(&a, "2.2.1").next_steps[0].level, 2);
}

#[test]
fn level_five_has_no_next_steps() {
    // 4.3.2: L2 build.reproducible_env, L3 env.config, L4 deploy.iac[in_pipeline,on_change],
    // L5 deploy.iac[scheduled,automatic].
    let d = detection(&[
        (
            "build.reproducible_env",
            vec![observed("Dockerfile", 1, &[])],
        ),
        ("env.config", vec![observed("config/prod.yaml", 1, &[])]),
        (
            "deploy.iac",
            vec![
                observed("ci.yml", 20, &["in_pipeline", "on_change"]),
                observed("drift.yml", 4, &["scheduled", "automatic"]),
            ],
        ),
    ]);
    let a = run(&d, &Config::default());
    let s = sub(&a, "4.3.2");
    assert_eq!(s.level, 5);
    assert!(s.next_steps.is_empty());
    assert!(!s.capped_by_attestation);
}

#[test]
fn assessment_is_pure() {
    let d = detection(&[("ci.pipeline", vec![observed("ci.yml", 1, &[])])]);
    assert_eq!(run(&d, &Config::default()), run(&d, &Config::default()));
}

#[test]
fn shown_evidence_is_one_piece_per_place() {
    let mut second_rule = observed("eval.py", 3, &[]);
    second_rule.rule = "another-rule".into();
    let d = detection(&[(
        "model.evaluation",
        vec![
            observed("eval.py", 3, &[]),
            second_rule,
            observed("eval.py", 9, &[]),
        ],
    )]);
    let a = run(&d, &Config::default());
    let used = &sub(&a, "3.1.1").met[0].requirements[0].evidence[0];
    assert_eq!(used.observed, 3, "counts keep every piece");
    assert_eq!(used.shown.len(), 2, "display keeps one per place");
}
