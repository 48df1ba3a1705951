//! Model-registry connector for MLflow-compatible registries: MLflow OSS
//! (`/api/2.0/mlflow/...`), GitLab's model registry (the same API under
//! `/api/v4/projects/:id/ml/mlflow`), Databricks and Azure ML.
//!
//! [`collect`] reads registered models, their versions, the runs behind them and
//! (best effort) the logged model's signature into a serialisable
//! [`RegistryEvidence`]; [`registry_findings`] turns that into practice findings
//! with `Origin::Api` records. Nothing here fails a scan on a server's behaviour:
//! 401/403/404 make an evidence kind "not visible" (never "absent"), malformed
//! JSON and exhausted retries become diagnostics, and the collection goes on.
//! See docs/mlflow.md for the endpoints, the matching rules and the level-table rows.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::evidence::{ApiRecord, Diagnostic, Observed, RegistryVersion, Snapshot};

mod client;
mod collect;
pub mod credentials;
mod findings;
pub mod remotes;
pub mod uri;
mod wire;

pub use client::{RequestStats, RetryPolicy};
pub use credentials::{Credentials, Secret};
pub use findings::{PRODUCTION_ALIASES, production_version, registry_findings};
pub use remotes::remote_urls;

/// What to read from which registry. `Debug` shows the tracking URI stripped of
/// credentials and query, and the credentials redacted.
#[derive(Clone)]
pub struct MlflowOptions {
    /// `http(s)://host[:port][/base]`, `azureml://…` or `databricks`. May carry
    /// `user:pass@` (used as basic auth when `credentials` is empty, never shown).
    pub tracking_uri: String,
    /// Registered model names that belong to the scanned repository.
    pub model_names: Vec<String>,
    /// A regular expression matched against the whole model name.
    pub name_pattern: Option<String>,
    /// Remote URLs of the scanned repository; a model whose versions' runs carry one
    /// of them in `mlflow.source.git.repoURL` / `mlflow.gitRepoURL` is tied to it.
    pub repo_urls: Vec<String>,
    pub credentials: Credentials,
    /// Per request (connect and whole response).
    pub timeout: Duration,
    /// Upper bound on HTTP requests, retries included. Past it the evidence is partial.
    pub max_requests: u32,
    /// `max_results` asked for per page.
    pub page_size: u32,
    /// Requests in flight at once (runs and artifacts are fetched in parallel).
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Read each version's MLmodel (signature, input example): one request per version.
    pub fetch_schemas: bool,
}

impl std::fmt::Debug for MlflowOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlflowOptions")
            .field(
                "tracking_uri",
                &uri::display_without_secrets(&self.tracking_uri),
            )
            .field("model_names", &self.model_names)
            .field("name_pattern", &self.name_pattern)
            .field(
                "repo_urls",
                &self
                    .repo_urls
                    .iter()
                    .map(|u| uri::display_without_secrets(u))
                    .collect::<Vec<_>>(),
            )
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("max_requests", &self.max_requests)
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .field("fetch_schemas", &self.fetch_schemas)
            .finish()
    }
}

impl MlflowOptions {
    /// Defaults for a tracking URI, credentials from MLflow's environment variables.
    pub fn new(tracking_uri: impl Into<String>) -> Self {
        MlflowOptions {
            tracking_uri: tracking_uri.into(),
            model_names: Vec::new(),
            name_pattern: None,
            repo_urls: Vec::new(),
            credentials: Credentials::from_env(),
            timeout: Duration::from_secs(30),
            max_requests: 5_000,
            page_size: 1_000,
            concurrency: 4,
            retry: RetryPolicy::default(),
            fetch_schemas: true,
        }
    }
}

/// Failures that stop the collection before any request: everything a server does
/// is a diagnostic in the evidence instead.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error("tracking URI {uri}: {reason}")]
    InvalidUri { uri: String, reason: String },
    #[error("model name pattern {pattern:?}: {reason}")]
    InvalidPattern { pattern: String, reason: String },
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("async runtime: {0}")]
    Runtime(String),
}

/// The kinds of evidence, each visible or not on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    RegisteredModels,
    ModelVersions,
    Runs,
    Artifacts,
}

impl EvidenceKind {
    pub fn noun(self) -> &'static str {
        match self {
            EvidenceKind::RegisteredModels => "registered models",
            EvidenceKind::ModelVersions => "model versions",
            EvidenceKind::Runs => "runs",
            EvidenceKind::Artifacts => "model artifacts (signatures)",
        }
    }
    /// The permission that reads this kind, in the words of the usual servers.
    pub fn permission(self) -> &'static str {
        match self {
            EvidenceKind::RegisteredModels | EvidenceKind::ModelVersions => {
                "read access to the model registry (MLflow: READ on the registered model; Databricks/Unity Catalog: EXECUTE or CAN READ on the model; GitLab: Reporter on the project)"
            }
            EvidenceKind::Runs => {
                "read access to the experiments behind the versions (MLflow/Databricks: READ/CAN READ on the experiment; GitLab: Reporter on the project)"
            }
            EvidenceKind::Artifacts => {
                "read access to the experiments' artifacts (MLflow: READ on the experiment; artifact proxy enabled)"
            }
        }
    }
}

/// An evidence kind the credentials could not read through an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotVisible {
    pub kind: EvidenceKind,
    /// `GET <stripped tracking URI>/api/2.0/mlflow/...`.
    pub endpoint: String,
    pub http_status: u16,
}

/// How a model was tied to the scanned repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum MatchedBy {
    /// Listed in `model_names`.
    Name,
    /// Matched `name_pattern`.
    Pattern { pattern: String },
    /// A version's run carries the repository URL in its git tags.
    RepoUrl {
        url: String,
        version: String,
        run_id: String,
    },
    /// Nothing to match on was configured: every model the credentials can see.
    Unfiltered,
}

impl MatchedBy {
    pub fn describe(&self) -> String {
        match self {
            MatchedBy::Name => "by configured name".into(),
            MatchedBy::Pattern { pattern } => format!("by name pattern /{pattern}/"),
            MatchedBy::RepoUrl { url, version, .. } => {
                format!("by the run of v{version} tagged with repository {url}")
            }
            MatchedBy::Unfiltered => "all models visible (no name or repository filter)".into(),
        }
    }
}

/// The run a version was made from, as `runs/get` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvidence {
    pub run_id: String,
    /// `visible`, `not-visible` (401/403), `deleted` (404) or `failed`.
    pub visibility: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `active` or `deleted` (a run in the trash still answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// `mlflow.source.git.commit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// `mlflow.source.git.repoURL`, else `mlflow.gitRepoURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_repo_url: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Latest value per metric key (NaN/inf kept out: JSON cannot carry them).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    #[serde(default)]
    pub datasets: Vec<DatasetEvidence>,
    /// The `mlflow.log-model.history` tag, when present (MLflow 1.x/2.x clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_model_history: Option<String>,
    pub record: ApiRecord,
}

impl RunEvidence {
    pub fn new(run_id: impl Into<String>, visibility: &str, record: ApiRecord) -> Self {
        RunEvidence {
            run_id: run_id.into(),
            visibility: visibility.into(),
            experiment_id: None,
            status: None,
            lifecycle_stage: None,
            git_commit: None,
            git_repo_url: None,
            params: BTreeMap::new(),
            metrics: BTreeMap::new(),
            datasets: Vec::new(),
            log_model_history: None,
            record,
        }
    }
    /// A commit and at least one metric: the run explains where the version came from
    /// and how good it was.
    pub fn has_lineage(&self) -> bool {
        self.git_commit
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
            && !self.metrics.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetEvidence {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// `mlflow.data.context` (training, eval, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// What is known about a version's signature and input example. `None` = unknown
/// (not fetched, not visible, no MLmodel found), never "absent".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaEvidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_example: Option<bool>,
    /// `log-model-history` tag, `mlmodel` artifact (logged model or run artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionEvidence {
    pub version: String,
    /// READY, PENDING_REGISTRATION, FAILED_REGISTRATION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Legacy stage: Staging, Production, Archived (`None` from the server is dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Aliases pointing at this version (from the registered model's `aliases`).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// MLflow 3 logged model id (`m-…`), from the field or a `models:/m-…` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Commit of the run behind the version, copied from [`RunEvidence`] for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    #[serde(default)]
    pub schema: SchemaEvidence,
    pub record: ApiRecord,
}

impl VersionEvidence {
    pub fn new(version: impl Into<String>, record: ApiRecord) -> Self {
        VersionEvidence {
            version: version.into(),
            status: None,
            stage: None,
            aliases: Vec::new(),
            tags: BTreeMap::new(),
            description: None,
            created_at_ms: None,
            updated_at_ms: None,
            source: None,
            run_id: None,
            model_id: None,
            git_commit: None,
            schema: SchemaEvidence::default(),
            record,
        }
    }
    pub fn number(&self) -> Option<u64> {
        self.version.trim().parse().ok()
    }
    pub fn is_archived(&self) -> bool {
        self.stage
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("archived"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEvidence {
    pub name: String,
    pub matched_by: Option<MatchedBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at_ms: Option<i64>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// alias → version.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Sorted by version number.
    pub versions: Vec<VersionEvidence>,
    /// Whether `versions` is every version the server lists (no failure, no budget stop).
    pub versions_complete: bool,
    /// Numbers below the highest version that the registry no longer lists: deleted
    /// (MLflow hides deleted versions from search). Only computed when complete.
    #[serde(default)]
    pub missing_versions: Vec<u64>,
    pub record: ApiRecord,
}

impl ModelEvidence {
    pub fn new(name: impl Into<String>, record: ApiRecord) -> Self {
        ModelEvidence {
            name: name.into(),
            matched_by: None,
            description: None,
            created_at_ms: None,
            updated_at_ms: None,
            tags: BTreeMap::new(),
            aliases: BTreeMap::new(),
            versions: Vec::new(),
            versions_complete: false,
            missing_versions: Vec::new(),
            record,
        }
    }
    pub fn version(&self, version: &str) -> Option<&VersionEvidence> {
        self.versions.iter().find(|v| v.version == version)
    }
}

/// Everything the connector saw in one registry, serialisable into the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryEvidence {
    /// Tracking URI without credentials, query or fragment.
    pub tracking_uri: String,
    /// `mlflow`, `gitlab`, `databricks` or `azureml` (guessed from the URI).
    pub server: String,
    /// Unix milliseconds when the collection started (cadence windows end here).
    pub collected_at_ms: i64,
    /// Models tied to the scanned repository.
    pub models: Vec<ModelEvidence>,
    /// Runs behind the versions, by run id.
    #[serde(default)]
    pub runs: BTreeMap<String, RunEvidence>,
    /// Models the credentials can see that were not tied to the repository (names
    /// left out of the evidence on purpose).
    pub unmatched_models: u32,
    /// Whether the model list itself was read (false: nothing here means "absent").
    pub models_visible: bool,
    #[serde(default)]
    pub not_visible: Vec<NotVisible>,
    /// True when the budget ran out or requests failed for good.
    pub partial: bool,
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
}

impl RegistryEvidence {
    pub fn model(&self, name: &str) -> Option<&ModelEvidence> {
        self.models.iter().find(|m| m.name == name)
    }
    pub fn run_of(&self, version: &VersionEvidence) -> Option<&RunEvidence> {
        version.run_id.as_ref().and_then(|id| self.runs.get(id))
    }
    pub fn kind_visible(&self, kind: EvidenceKind) -> bool {
        !self.not_visible.iter().any(|n| n.kind == kind)
    }

    /// One `kind = "model"` entry per version, for `ApiEvidence.registry_versions`.
    pub fn registry_versions(&self) -> Vec<RegistryVersion> {
        self.models
            .iter()
            .flat_map(|m| {
                m.versions.iter().map(move |v| RegistryVersion {
                    kind: "model".into(),
                    name: m.name.clone(),
                    version: v.version.clone(),
                    created_at: v.created_at_ms.and_then(findings::rfc3339_from_millis),
                    record: v.record.clone(),
                })
            })
            .collect()
    }
}

/// Put registry evidence into a snapshot: the `api.registry` slot, `kind = "model"`
/// entries in `api.registry_versions` (kept beside other kinds already there), and
/// the connector's diagnostics.
pub fn apply_to_snapshot(snapshot: &mut Snapshot, evidence: RegistryEvidence) {
    snapshot
        .diagnostics
        .extend(evidence.diagnostics.iter().cloned());
    if evidence.models_visible {
        let mut entries = match std::mem::take(&mut snapshot.api.registry_versions) {
            Observed::Collected { items } => {
                items.into_iter().filter(|v| v.kind != "model").collect()
            }
            _ => Vec::new(),
        };
        entries.extend(evidence.registry_versions());
        snapshot.api.registry_versions = Observed::Collected { items: entries };
    } else if matches!(snapshot.api.registry_versions, Observed::NotCollected) {
        snapshot.api.registry_versions = Observed::NotVisible {
            reason: format!(
                "the model registry at {} is not visible with the given credentials",
                evidence.tracking_uri
            ),
        };
    }
    snapshot.api.registry = Some(evidence);
}

/// Collect registry evidence. Errors only for a bad URI or pattern; all server
/// behaviour ends up as diagnostics inside the evidence.
pub async fn collect(
    opts: &MlflowOptions,
) -> Result<(RegistryEvidence, RequestStats), MlflowError> {
    collect::run(opts).await
}

/// [`collect`] on a private current-thread runtime, for callers without one.
pub fn collect_blocking(
    opts: &MlflowOptions,
) -> Result<(RegistryEvidence, RequestStats), MlflowError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| MlflowError::Runtime(e.to_string()))?;
    runtime.block_on(collect(opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{FileSet, Source};

    #[test]
    fn options_debug_never_shows_secrets() {
        let mut opts = MlflowOptions::new("https://bob:pw-in-uri@mlflow.example.com");
        opts.credentials = Credentials::Token(Secret::new("tok-secret"));
        let shown = format!("{opts:?}");
        assert!(
            !shown.contains("tok-secret") && !shown.contains("pw-in-uri"),
            "{shown}"
        );
        assert!(shown.contains("https://mlflow.example.com"), "{shown}");
        // The raw URI is the user's input; reports use RegistryEvidence::tracking_uri.
        let t = uri::parse(&opts.tracking_uri, None).unwrap();
        assert!(!t.display.contains("pw-in-uri"));
    }

    #[test]
    fn apply_keeps_other_registry_kinds() {
        let mut snapshot = Snapshot::new(
            Source {
                kind: "local".into(),
                target: ".".into(),
                revision: None,
            },
            FileSet::default(),
        );
        let container = RegistryVersion {
            kind: "container".into(),
            name: "img".into(),
            version: "1.0".into(),
            created_at: None,
            record: ApiRecord {
                endpoint: "GET /x".into(),
                record: None,
                url: None,
            },
        };
        snapshot.api.registry_versions = Observed::Collected {
            items: vec![container.clone()],
        };
        let evidence = RegistryEvidence {
            tracking_uri: "http://h".into(),
            models_visible: true,
            models: vec![ModelEvidence {
                versions: vec![VersionEvidence {
                    created_at_ms: Some(0),
                    ..VersionEvidence::new("1", container.record.clone())
                }],
                ..ModelEvidence::new("m", container.record.clone())
            }],
            ..Default::default()
        };
        apply_to_snapshot(&mut snapshot, evidence);
        let items = snapshot.api.registry_versions.items().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], container);
        assert_eq!(items[1].kind, "model");
        assert_eq!(items[1].created_at.as_deref(), Some("1970-01-01T00:00:00Z"));
        assert!(snapshot.api.registry.is_some());
        // The slot survives a JSON round trip.
        let json = serde_json::to_string(&snapshot).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back.api.registry, snapshot.api.registry);
    }
}
