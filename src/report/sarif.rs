//! SARIF 2.1.0 output, for code-scanning dashboards. One rule per sub-item
//! (`mlops-maturity/2.2.3`); one result per sub-item below level 5, telling what the
//! next level misses, located at the sub-item's own evidence when it has some, else at
//! the project's anchor file (first CI pipeline, README).

use serde::Serialize;

use super::{Lang, Report};
use crate::assess::SubItemResult;
use crate::detect::Origin;
use crate::standard;

pub const SARIF_VERSION: &str = "2.1.0";
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Debug, Serialize)]
pub struct SarifLog {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub tool: ToolComponentWrapper,
    pub results: Vec<SarifResult>,
    pub properties: RunProperties,
}

#[derive(Debug, Serialize)]
pub struct RunProperties {
    pub schema: &'static str,
    #[serde(rename = "tableVersion")]
    pub table_version: String,
    pub overall: u8,
}

#[derive(Debug, Serialize)]
pub struct ToolComponentWrapper {
    pub driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Message,
    pub full_description: Message,
    pub help: Message,
}

#[derive(Debug, Serialize)]
pub struct Message {
    pub text: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<SarifLocation>,
    pub properties: ResultProperties,
}

#[derive(Debug, Serialize)]
pub struct ResultProperties {
    pub level: u8,
    #[serde(rename = "nextLevel")]
    pub next_level: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifLocation {
    pub physical_location: PhysicalLocation,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Debug, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u32,
}

pub fn rule_id(sub_item: &str) -> String {
    format!("mlops-maturity/{sub_item}")
}

/// Where a sub-item's result points: its first observed file evidence, else the anchor.
fn location_of(s: &SubItemResult, anchor: Option<&str>) -> Option<SarifLocation> {
    let own = s.evidence().find_map(|(_, e)| match &e.origin {
        Origin::File { location } => Some((location.path.clone(), location.line)),
        _ => None,
    });
    let (uri, line) = own.or_else(|| anchor.map(|a| (a.to_string(), 0)))?;
    Some(SarifLocation {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation { uri },
            region: (line > 0).then_some(Region { start_line: line }),
        },
    })
}

pub fn build(report: &Report, lang: Lang) -> SarifLog {
    let rules = standard::SUB_ITEMS
        .iter()
        .map(|s| Rule {
            id: rule_id(s.id),
            name: s.name.en.replace([' ', '&'], ""),
            short_description: Message {
                text: format!("{} {}", s.id, s.name.both()),
            },
            full_description: Message {
                text: format!(
                    "{} {} — {}",
                    s.id,
                    s.name.both(),
                    lang.s(
                        "sub-item of the CAICT Model/MLOps maturity model, part 2 (model delivery)",
                        "人工智能研发运营一体化（Model/MLOps）能力成熟度模型 第二部分：模型交付 的能力子项"
                    )
                ),
            },
            help: Message {
                text: format!("mlops-maturity explain {}", s.id),
            },
        })
        .collect();
    let mut results = Vec::new();
    for p in &report.projects {
        for s in p.sub_items() {
            let Some(first) = s.next_steps.first() else {
                continue;
            };
            let rule_index = standard::SUB_ITEMS
                .iter()
                .position(|x| x.id == s.id)
                .unwrap_or(0);
            let missing: Vec<&str> = s.next_steps.iter().map(|n| lang.pick(&n.text)).collect();
            let text = format!(
                "{} {}: {} {} → {} {}: {}",
                s.id,
                s.name.both(),
                lang.s("level", "等级"),
                s.level,
                lang.s("missing for level", "达到等级"),
                first.level,
                missing.join(" ")
            );
            results.push(SarifResult {
                rule_id: rule_id(s.id),
                rule_index,
                level: if s.level <= 1 { "warning" } else { "note" },
                message: Message { text },
                locations: location_of(s, p.anchor_file.as_deref())
                    .into_iter()
                    .collect(),
                properties: ResultProperties {
                    level: s.level,
                    next_level: first.level,
                    project: p.name.clone(),
                },
            });
        }
    }
    SarifLog {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: vec![Run {
            tool: ToolComponentWrapper {
                driver: Driver {
                    name: report.tool.name,
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    rules,
                },
            },
            results,
            properties: RunProperties {
                schema: super::SCHEMA,
                table_version: report.table_version.clone(),
                overall: report.overall,
            },
        }],
    }
}

pub fn render(report: &Report, lang: Lang) -> String {
    let log = build(report, lang);
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn sarif_structure() {
        let out = render(&fixture::report(), Lang::En);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "mlops-maturity");
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 32);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 32, "no sub-item is at level 5");
        let r111 = results
            .iter()
            .find(|r| r["ruleId"] == "mlops-maturity/1.1.1")
            .unwrap();
        assert_eq!(r111["level"], "note");
        let loc = &r111["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], ".github/workflows/ci.yml");
        assert_eq!(loc["region"]["startLine"], 1);
        let r121 = results
            .iter()
            .find(|r| r["ruleId"] == "mlops-maturity/1.2.1")
            .unwrap();
        assert_eq!(r121["level"], "warning");
        assert!(
            r121["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
        for r in results {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(run["tool"]["driver"]["rules"][idx]["id"], r["ruleId"]);
        }
    }
}
