//! A compact, static copy of the practice catalog (`shared/spec/practices.md`) plus the
//! candidate ids the interpretation table uses, so that `explain` can describe every
//! practice and the table can be checked against known ids.

use serde::Serialize;

/// Where a practice can be observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PracticeSource {
    /// Files of a checkout.
    Repo,
    /// GitHub/GitLab API settings.
    Api,
    /// Runs, deployments and releases over time.
    History,
}

impl PracticeSource {
    pub fn label(&self) -> &'static str {
        match self {
            PracticeSource::Repo => "repo",
            PracticeSource::Api => "api",
            PracticeSource::History => "history",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Practice {
    pub id: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    pub source: PracticeSource,
    /// Not in the published catalog yet (a candidate id of level-signals.md §3).
    pub candidate: bool,
}

macro_rules! p {
    ($id:literal, $src:ident, $en:literal, $zh:literal) => {
        Practice {
            id: $id,
            en: $en,
            zh: $zh,
            source: PracticeSource::$src,
            candidate: false,
        }
    };
    ($id:literal, $src:ident, $en:literal, $zh:literal, candidate) => {
        Practice {
            id: $id,
            en: $en,
            zh: $zh,
            source: PracticeSource::$src,
            candidate: true,
        }
    };
}

pub const PRACTICES: &[Practice] = &[
    p!(
        "ci.pipeline",
        Repo,
        "a CI pipeline is defined",
        "定义了 CI 流水线"
    ),
    p!(
        "ci.on_change",
        Repo,
        "CI runs on pull/merge requests or pushes",
        "CI 在拉取/合并请求或推送时运行"
    ),
    p!(
        "ci.tests",
        Repo,
        "automated tests run in CI",
        "CI 中运行自动化测试"
    ),
    p!(
        "ci.static_checks",
        Repo,
        "lint, type, format or security checks in CI or pre-commit",
        "CI 或 pre-commit 中的代码规范、类型、格式或安全检查"
    ),
    p!(
        "build.container",
        Repo,
        "a container image is built (and pushed) by the pipeline",
        "流水线构建（并推送）容器镜像"
    ),
    p!(
        "build.reproducible_env",
        Repo,
        "the build environment is declared and pinned",
        "构建环境已声明并锁定版本"
    ),
    p!(
        "build.schedule",
        Repo,
        "pipelines run on a schedule",
        "流水线按计划定时运行"
    ),
    p!(
        "build.cache",
        Repo,
        "build or dependency caching in CI",
        "CI 中使用构建或依赖缓存"
    ),
    p!(
        "model.training_pipeline",
        Repo,
        "a training step or ML pipeline is defined",
        "定义了训练步骤或机器学习流水线"
    ),
    p!(
        "model.conversion",
        Repo,
        "model conversion or optimisation",
        "模型转换或优化"
    ),
    p!(
        "model.evaluation",
        Repo,
        "a model evaluation step, ideally gated by a threshold or a comparison",
        "模型评估步骤（最好有阈值或对比门禁）"
    ),
    p!(
        "model.registry",
        Repo,
        "models are registered and versioned in a registry",
        "模型在仓库中注册并有版本"
    ),
    p!(
        "data.versioning",
        Repo,
        "data is versioned",
        "数据有版本管理"
    ),
    p!(
        "data.validation",
        Repo,
        "data validation or schema checks",
        "数据校验或模式检查"
    ),
    p!(
        "deploy.automated",
        Repo,
        "the pipeline performs a deployment",
        "流水线执行部署"
    ),
    p!(
        "deploy.environments",
        Repo,
        "several deployment environments with promotion",
        "多个部署环境并逐级晋级"
    ),
    p!(
        "deploy.approval_gate",
        Repo,
        "a manual approval before production",
        "上生产前的人工审批"
    ),
    p!(
        "deploy.gated_by_tests",
        Repo,
        "deployment depends on tests/evaluation succeeding (CI chained to CD)",
        "部署依赖测试/评估成功（CI 与 CD 衔接）"
    ),
    p!(
        "deploy.progressive",
        Repo,
        "canary, blue-green, shadow, A/B or weighted traffic",
        "金丝雀、蓝绿、影子、A/B 或按权重分流"
    ),
    p!(
        "deploy.rollback",
        Repo,
        "a rollback mechanism, scripted or automatic",
        "回滚机制（脚本或自动）"
    ),
    p!(
        "deploy.iac",
        Repo,
        "infrastructure as code",
        "基础设施即代码"
    ),
    p!(
        "serving.definition",
        Repo,
        "a model serving definition",
        "模型服务定义"
    ),
    p!(
        "serving.inference_graph",
        Repo,
        "several models composed for a scenario",
        "多个模型组合成一个场景"
    ),
    p!(
        "monitor.runtime",
        Repo,
        "runtime / service monitoring",
        "运行时/服务监控"
    ),
    p!(
        "monitor.model",
        Repo,
        "model or data drift / quality monitoring in production",
        "生产环境中的模型或数据漂移/质量监控"
    ),
    p!(
        "release.online_evaluation",
        Repo,
        "online effect evaluation of a new model (A/B, canary or shadow analysis)",
        "新模型的线上效果评估（A/B、金丝雀或影子分析）"
    ),
    p!(
        "feedback.retraining",
        Repo,
        "automatic retraining (schedule or drift trigger)",
        "自动重训练（定时或漂移触发）"
    ),
    p!(
        "feedback.report",
        Repo,
        "automatic feedback to developers on model changes",
        "模型变更时自动向开发者反馈"
    ),
    p!(
        "release.versioning",
        Repo,
        "versioned releases",
        "有版本的发布"
    ),
    p!(
        "release.retirement",
        Repo,
        "old model versions or deployments are retired",
        "旧模型版本或部署被下线"
    ),
    p!(
        "vcs.branch_policy",
        Repo,
        "a branch strategy is encoded",
        "分支策略已编码"
    ),
    p!(
        "change.review",
        Repo,
        "code review and ownership rules",
        "代码评审与归属规则"
    ),
    p!(
        "change.traceability",
        Repo,
        "changes trace to commits, runs and issues",
        "变更可追溯到提交、运行与问题单"
    ),
    p!(
        "deps.automation",
        Repo,
        "dependency updates are automated",
        "依赖更新自动化"
    ),
    p!(
        "env.config",
        Repo,
        "environment-specific configuration is separated",
        "按环境分离的配置"
    ),
    p!(
        "test.layering",
        Repo,
        "test suites are layered",
        "测试套件分层"
    ),
    p!(
        "test.coverage",
        Repo,
        "coverage is measured or reported",
        "度量或报告测试覆盖率"
    ),
    p!(
        "test.results",
        Repo,
        "test results are kept as reports",
        "测试结果以报告形式保存"
    ),
    p!(
        "metrics.defined",
        Repo,
        "model / pipeline metrics are defined and recorded",
        "模型/流水线指标已定义并记录"
    ),
    p!(
        "api.branch_protection",
        Api,
        "default branch protected: required status checks, required reviews",
        "默认分支受保护：必需的状态检查与评审"
    ),
    p!(
        "api.environment_protection",
        Api,
        "deployment environments with required reviewers or wait timers",
        "部署环境设有必需审批人或等待时间"
    ),
    p!(
        "api.release_tags",
        Api,
        "semver-like release tags in git metadata or the API (reported apart from release files)",
        "git 元数据或 API 中的语义化版本标签（与发布文件分开报告）"
    ),
    p!(
        "api.model_cadence",
        Api,
        "model versions registered per month in the model registry (last 6 months)",
        "模型仓库中每月注册的模型版本数（近 6 个月）"
    ),
    p!(
        "api.model_lineage",
        Api,
        "registered model versions trace to a commit and a run with metrics",
        "已注册模型版本可追溯到提交与带指标的运行"
    ),
    p!(
        "api.model_promotion",
        Api,
        "explicit promotion in the model registry (aliases or stages)",
        "模型仓库中的显式晋级（别名或阶段）"
    ),
    p!(
        "api.model_retirement",
        Api,
        "superseded model versions archived or deleted in the registry",
        "模型仓库中被取代的版本已归档或删除"
    ),
    p!(
        "api.model_schema",
        Api,
        "model signature or input example recorded with registered versions",
        "已注册版本记录了模型签名或输入示例"
    ),
    p!(
        "api.registry_versions",
        Api,
        "versioned artifacts in a container, package or model registry",
        "容器、包或模型仓库中的版本化制品"
    ),
    p!(
        "history.ci_health",
        History,
        "CI success rate and duration over recent runs",
        "近期运行的 CI 成功率与时长"
    ),
    p!(
        "history.deploy_frequency",
        History,
        "deployments per week to production",
        "每周生产部署次数"
    ),
    p!(
        "history.lead_time",
        History,
        "commit-to-production lead time",
        "从提交到生产的前置时间"
    ),
    p!(
        "history.change_failure_rate",
        History,
        "share of deployments that failed or were rolled back",
        "失败或回滚的部署占比"
    ),
    p!(
        "history.time_to_restore",
        History,
        "time from a failed deployment to the next good one",
        "从失败部署到下一次成功部署的时间"
    ),
    p!(
        "history.rollbacks",
        History,
        "redeployments of an earlier version after a failure",
        "失败后重新部署早先版本"
    ),
    p!(
        "history.release_cadence",
        History,
        "releases per month",
        "每月发布次数"
    ),
    p!(
        "model.card",
        Repo,
        "a model card documents the model (intended use, metrics, limits)",
        "模型卡记录模型（用途、指标、局限）",
        candidate
    ),
    p!(
        "model.lineage_tags",
        Repo,
        "model versions are tagged with lineage (git SHA, run id, data hash)",
        "模型版本带有血缘标签（git SHA、运行 ID、数据哈希）",
        candidate
    ),
    p!(
        "model.conversion_validated",
        Repo,
        "converted models are checked against the source model (parity or accuracy check)",
        "转换后的模型与源模型进行一致性或精度校验",
        candidate
    ),
    p!(
        "serving.shadow",
        Repo,
        "shadow or mirrored traffic to a candidate model",
        "向候选模型发送影子/镜像流量",
        candidate
    ),
    p!(
        "monitor.alerting",
        Repo,
        "alert rules on service or model metrics, routed to people",
        "针对服务或模型指标的告警规则并通知到人",
        candidate
    ),
    p!(
        "monitor.data_capture",
        Repo,
        "production inputs/predictions are captured for analysis",
        "采集生产环境输入/预测用于分析",
        candidate
    ),
    p!(
        "deploy.analysis_gate",
        Repo,
        "promotion gated by automated analysis of metrics (AnalysisTemplate, Flagger)",
        "由指标自动分析决定是否晋级（AnalysisTemplate、Flagger）",
        candidate
    ),
    p!(
        "deploy.auto_rollback",
        Repo,
        "automatic rollback on failed checks or alarms",
        "检查失败或告警时自动回滚",
        candidate
    ),
    p!(
        "test.post_deploy",
        Repo,
        "automated tests against a deployed endpoint",
        "针对已部署端点的自动化测试",
        candidate
    ),
    p!(
        "test.nonfunctional",
        Repo,
        "load, latency or security tests",
        "负载、时延或安全测试",
        candidate
    ),
    p!(
        "build.provenance",
        Repo,
        "build provenance or signatures (SLSA attestations, cosign, signed models)",
        "构建来源证明或签名（SLSA 证明、cosign、模型签名）",
        candidate
    ),
    p!(
        "release.retention_policy",
        Repo,
        "retention / cleanup policies for old artifacts and environments",
        "旧制品与环境的保留/清理策略",
        candidate
    ),
    p!(
        "env.ephemeral",
        Repo,
        "ephemeral per-change environments (review apps) that stop automatically",
        "按变更创建、自动停止的临时环境（review app）",
        candidate
    ),
    p!(
        "data.test_set_versioned",
        Repo,
        "the evaluation/test data set is versioned and pinned",
        "评估/测试数据集有版本并被固定",
        candidate
    ),
];

pub fn practice(id: &str) -> Option<&'static Practice> {
    PRACTICES.iter().find(|p| p.id == id)
}

/// The definitions the standard itself gives (paraphrased in `shared/spec/standard.md`),
/// by sub-domain, item or sub-item id. Most capabilities have none in the public text.
pub fn definition(id: &str) -> Option<(&'static str, &'static str)> {
    let d = match id {
        "2" => (
            "deploying and releasing the model and its service code; items model orchestration, continuous deployment, release management",
            "部署和发布模型及其服务代码；包括模型编排、持续部署、发布管理",
        ),
        "2.2" => (
            "deploying the model package to its runtime environment and rolling new versions out continuously through update strategies, while watching the running model's quality",
            "将模型包部署到运行环境，并通过更新策略持续发布新版本，同时监控运行中模型的质量",
        ),
        "2.2.1" => (
            "unified storage, versioning and access control of the models about to be released, so model assets accumulate and are shared",
            "对待发布模型进行统一存储、版本管理与访问控制，使模型资产得以沉淀和共享",
        ),
        "2.2.2" => (
            "putting the model into its runtime environment to serve inference; runtimes include cloud servers, edge devices and end devices",
            "将模型部署到运行环境提供推理服务；运行环境包括云端服务器、边缘设备与端侧设备",
        ),
        "2.2.3" => (
            "setting an update strategy for new model versions, so that a new version triggers a redeployment",
            "为新模型版本设定更新策略，使新版本触发重新部署",
        ),
        _ => return None,
    };
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for p in PRACTICES {
            assert!(seen.insert(p.id), "duplicate practice {}", p.id);
            assert!(p.id.contains('.'), "{} has no family prefix", p.id);
            assert!(
                !p.en.is_empty() && !p.zh.is_empty(),
                "{} lacks a text",
                p.id
            );
        }
        assert_eq!(
            practice("ci.tests").map(|p| p.source),
            Some(PracticeSource::Repo)
        );
        assert_eq!(
            practice("history.lead_time").map(|p| p.source),
            Some(PracticeSource::History)
        );
        assert!(practice("model.card").is_some_and(|p| p.candidate));
        assert!(practice("nope.nope").is_none());
    }

    /// Every repo/api/history id of the shared catalog is here (when the shared folder exists).
    #[test]
    fn covers_the_shared_catalog() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/practices.md");
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("skipped: {} not found", path.display());
            return;
        };
        let mut count = 0;
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("| ") else {
                continue;
            };
            let id = rest.split(' ').next().unwrap_or("");
            if id.contains('.')
                && !id.contains(' ')
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
            {
                count += 1;
                assert!(
                    practice(id).is_some(),
                    "catalog id {id} missing from practices.rs"
                );
            }
        }
        assert!(count >= 40, "parsed only {count} catalog ids");
    }
}
