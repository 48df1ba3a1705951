//! The standard this tool measures against, as one table every other part reads.
//!
//! CAICT *Model/MLOps capability maturity model, part 2: model delivery*
//! (人工智能研发运营一体化（Model/MLOps）能力成熟度模型 第二部分：模型交付):
//! 5 sub-domains, 12 capability items, 32 sub-items, levels 1–5.
//! Ids follow the standard's own numbering (`2.2.1`) and are stable everywhere
//! (reports, JSON, config). Names are kept in Chinese and English; reports show both.

use serde::Serialize;

/// A name in both languages of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Name {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Name {
    /// "持续部署 (Continuous deployment)": how reports show a name.
    pub fn both(&self) -> String {
        format!("{} ({})", self.zh, self.en)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.zh, self.en)
    }
}

/// 能力子域 — one of the five sub-domains.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SubDomain {
    pub id: &'static str,
    pub name: Name,
}

/// 能力项 — one of the twelve capability items.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Item {
    pub id: &'static str,
    pub name: Name,
}

/// 能力子项 — one of the 32 sub-items, the unit that gets a level.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SubItem {
    pub id: &'static str,
    pub name: Name,
    /// True where the whole sub-item is ML-specific (no generic DevOps counterpart).
    pub ml_specific: bool,
}

impl SubItem {
    /// `2.2.1` → `2.2`.
    pub fn item_id(&self) -> &'static str {
        parent_id(self.id)
    }
    /// `2.2.1` → `2`.
    pub fn sub_domain_id(&self) -> &'static str {
        parent_id(self.item_id())
    }
}

fn parent_id(id: &'static str) -> &'static str {
    match id.rfind('.') {
        Some(i) => &id[..i],
        None => id,
    }
}

/// The lowest and highest levels of the standard.
pub const MIN_LEVEL: u8 = 1;
pub const MAX_LEVEL: u8 = 5;

/// What each level means, in the standard's words (paraphrased; the full text is not public).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LevelMeaning {
    pub level: u8,
    pub name: Name,
    pub meaning: Name,
}

pub const LEVELS: [LevelMeaning; 5] = [
    LevelMeaning {
        level: 1,
        name: Name {
            zh: "初始级",
            en: "Initial",
        },
        meaning: Name {
            zh: "工作主要依靠手工完成，处于初步尝试阶段",
            en: "work is done mostly by hand, as first attempts",
        },
    },
    LevelMeaning {
        level: 2,
        name: Name {
            zh: "基础级",
            en: "Basic",
        },
        meaning: Name {
            zh: "工作已规范化：部署、更新策略、监控、流量管理各有规定做法；制品有版本；已有初步的持续部署流水线",
            en: "the work is standardised: deployment, update strategy, monitoring and traffic management each follow a defined way; artifacts are versioned; a first CD pipeline exists",
        },
    },
    LevelMeaning {
        level: 3,
        name: Name {
            zh: "全面级",
            en: "Comprehensive",
        },
        meaning: Name {
            zh: "系统而完整；流水线部分自动化；更新策略的执行可追溯、可审计；流量管理可视化",
            en: "systematic and complete; the pipeline is partly automated; executing an update strategy is traceable and auditable; traffic management is visible",
        },
    },
    LevelMeaning {
        level: 4,
        name: Name {
            zh: "优秀级",
            en: "Excellent",
        },
        meaning: Name {
            zh: "持续优化；CI 与 CD 流水线无缝衔接；CD 流水线全自动运行；模型高频更新",
            en: "continuously optimised; CI and CD pipelines are chained seamlessly; the CD pipeline runs fully automatically; models are updated at high frequency",
        },
    },
    LevelMeaning {
        level: 5,
        name: Name {
            zh: "卓越级",
            en: "Outstanding",
        },
        meaning: Name {
            zh: "智能化：对部署、更新策略和流量进行自动分析，问题反馈与自我调优（如自动发现并处理模型退化、模型自我更新）",
            en: "intelligent: automatic analysis of deployment, update strategy and traffic, with problem feedback and self-tuning (degradation detected and handled, models updating themselves)",
        },
    },
];

pub const SUB_DOMAINS: [SubDomain; 5] = [
    SubDomain {
        id: "1",
        name: Name {
            zh: "构建集成",
            en: "Build & integration",
        },
    },
    SubDomain {
        id: "2",
        name: Name {
            zh: "部署发布",
            en: "Deployment & release",
        },
    },
    SubDomain {
        id: "3",
        name: Name {
            zh: "模型测试",
            en: "Model testing",
        },
    },
    SubDomain {
        id: "4",
        name: Name {
            zh: "配置管理",
            en: "Configuration management",
        },
    },
    SubDomain {
        id: "5",
        name: Name {
            zh: "度量反馈",
            en: "Measurement & feedback",
        },
    },
];

pub const ITEMS: [Item; 12] = [
    Item {
        id: "1.1",
        name: Name {
            zh: "构建管理",
            en: "Build management",
        },
    },
    Item {
        id: "1.2",
        name: Name {
            zh: "持续集成",
            en: "Continuous integration",
        },
    },
    Item {
        id: "2.1",
        name: Name {
            zh: "模型编排",
            en: "Model orchestration",
        },
    },
    Item {
        id: "2.2",
        name: Name {
            zh: "持续部署",
            en: "Continuous deployment",
        },
    },
    Item {
        id: "2.3",
        name: Name {
            zh: "发布管理",
            en: "Release management",
        },
    },
    Item {
        id: "3.1",
        name: Name {
            zh: "测试执行",
            en: "Test execution",
        },
    },
    Item {
        id: "3.2",
        name: Name {
            zh: "测试管理",
            en: "Test management",
        },
    },
    Item {
        id: "4.1",
        name: Name {
            zh: "版本管理",
            en: "Version management",
        },
    },
    Item {
        id: "4.2",
        name: Name {
            zh: "变更管理",
            en: "Change management",
        },
    },
    Item {
        id: "4.3",
        name: Name {
            zh: "环境管理",
            en: "Environment management",
        },
    },
    Item {
        id: "5.1",
        name: Name {
            zh: "度量指标",
            en: "Metrics",
        },
    },
    Item {
        id: "5.2",
        name: Name {
            zh: "质量驱动改进",
            en: "Quality-driven improvement",
        },
    },
];

macro_rules! sub {
    ($id:literal, $zh:literal, $en:literal) => {
        SubItem {
            id: $id,
            name: Name { zh: $zh, en: $en },
            ml_specific: false,
        }
    };
    ($id:literal, $zh:literal, $en:literal, ml) => {
        SubItem {
            id: $id,
            name: Name { zh: $zh, en: $en },
            ml_specific: true,
        }
    };
}

pub const SUB_ITEMS: [SubItem; 32] = [
    sub!("1.1.1", "构建过程", "Build process"),
    sub!("1.1.2", "构建配置", "Build configuration"),
    sub!("1.1.3", "构建计划", "Build plan"),
    sub!(
        "1.2.1",
        "模型转换与优化",
        "Model conversion & optimization",
        ml
    ),
    sub!("1.2.2", "集成过程", "Integration process"),
    sub!("1.2.3", "集成反馈", "Integration feedback"),
    sub!("2.1.1", "场景构建", "Scenario construction", ml),
    sub!("2.1.2", "模型配置", "Model configuration", ml),
    sub!("2.1.3", "集成发布", "Integrated release"),
    sub!("2.2.1", "模型管理", "Model management", ml),
    sub!("2.2.2", "模型部署", "Model deployment"),
    sub!("2.2.3", "更新策略管理", "Update-strategy management"),
    sub!("2.2.4", "运行监控", "Runtime monitoring"),
    sub!("2.3.1", "流量管理", "Traffic management"),
    sub!("2.3.2", "效果评估", "Effect evaluation", ml),
    sub!("2.3.3", "模型下线", "Model retirement"),
    sub!("3.1.1", "模型评估", "Model evaluation", ml),
    sub!("3.1.2", "测试分层与设计", "Test layering & design"),
    sub!("3.1.3", "自动化测试", "Automated testing"),
    sub!("3.2.1", "测试数据管理", "Test data management", ml),
    sub!("3.2.2", "测试结果管理", "Test result management"),
    sub!("4.1.1", "版本控制", "Version control"),
    sub!("4.1.2", "分支管理", "Branch management"),
    sub!("4.1.3", "依赖与模型管理", "Dependency & model management"),
    sub!("4.2.1", "变更过程", "Change process"),
    sub!("4.2.2", "变更追溯", "Change traceability"),
    sub!(
        "4.3.1",
        "环境类型与资源管理",
        "Environment types & resources"
    ),
    sub!(
        "4.3.2",
        "环境依赖与配置",
        "Environment dependencies & configuration"
    ),
    sub!("5.1.1", "度量指标定义", "Metric definition"),
    sub!("5.1.2", "度量数据管理", "Metric data management"),
    sub!("5.2.1", "度量分析", "Metric analysis"),
    sub!("5.2.2", "反馈改进", "Feedback-driven improvement"),
];

pub fn sub_domain(id: &str) -> Option<&'static SubDomain> {
    SUB_DOMAINS.iter().find(|d| d.id == id)
}

pub fn item(id: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.id == id)
}

pub fn sub_item(id: &str) -> Option<&'static SubItem> {
    SUB_ITEMS.iter().find(|s| s.id == id)
}

/// The items of a sub-domain, in order.
pub fn items_of(sub_domain_id: &str) -> impl Iterator<Item = &'static Item> + '_ {
    ITEMS
        .iter()
        .filter(move |i| parent_id(i.id) == sub_domain_id)
}

/// The sub-items of an item, in order.
pub fn sub_items_of(item_id: &str) -> impl Iterator<Item = &'static SubItem> + '_ {
    SUB_ITEMS.iter().filter(move |s| s.item_id() == item_id)
}

pub fn level(level: u8) -> Option<&'static LevelMeaning> {
    LEVELS.iter().find(|l| l.level == level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn shape_is_5_12_32() {
        assert_eq!(SUB_DOMAINS.len(), 5);
        assert_eq!(ITEMS.len(), 12);
        assert_eq!(SUB_ITEMS.len(), 32);
        let total: usize = ITEMS.iter().map(|i| sub_items_of(i.id).count()).sum();
        assert_eq!(total, 32);
        for d in &SUB_DOMAINS {
            assert!(
                items_of(d.id).count() >= 2,
                "sub-domain {} has too few items",
                d.id
            );
        }
    }

    #[test]
    fn ids_are_unique_and_parents_exist() {
        let mut seen = HashSet::new();
        for s in &SUB_ITEMS {
            assert!(seen.insert(s.id), "duplicate id {}", s.id);
            assert!(item(s.item_id()).is_some(), "{} has no item", s.id);
            assert!(
                sub_domain(s.sub_domain_id()).is_some(),
                "{} has no sub-domain",
                s.id
            );
        }
    }

    #[test]
    fn lookups_and_names() {
        let s = sub_item("2.2.1").expect("2.2.1 exists");
        assert_eq!(s.name.both(), "模型管理 (Model management)");
        assert_eq!(s.item_id(), "2.2");
        assert_eq!(
            item("2.2").map(|i| i.name.en),
            Some("Continuous deployment")
        );
        assert_eq!(sub_item("9.9.9").map(|s| s.id), None);
        assert_eq!(level(3).map(|l| l.name.en), Some("Comprehensive"));
    }
}
