//! The collection itself: models → versions → runs → schemas, with matching to the
//! scanned repository in between.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use regex::Regex;
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;

use super::client::{Client, Outcome, millis_since, truncate};
use super::wire::{self, tag_map};
use super::{
    DatasetEvidence, EvidenceKind, MatchedBy, MlflowError, MlflowOptions, ModelEvidence,
    NotVisible, RegistryEvidence, RequestStats, RunEvidence, SchemaEvidence, VersionEvidence, uri,
};
use crate::evidence::{ApiRecord, Diagnostic};

/// Gap detection walks 1..=highest version; beyond this a "version number" is not
/// a registry's counter but noise, and no gaps are computed.
const MAX_VERSION_FOR_GAPS: u64 = 100_000;
/// The probing fallback (servers without `model-versions/search`) stops here.
const MAX_PROBED_VERSIONS: u64 = 1_000;

/// Items of one paginated listing and whether the listing is whole.
struct Listing<T> {
    items: Vec<T>,
    /// Every page was read.
    complete: bool,
    /// The endpoint answered at all (false: 401/403/404, nothing is known).
    visible: bool,
    /// The endpoint does not exist on this server (404 without an MLflow error body).
    no_endpoint: bool,
}

trait Page: DeserializeOwned {
    type Item;
    fn split(self) -> (Vec<Self::Item>, Option<String>);
}

impl Page for wire::SearchRegisteredModels {
    type Item = wire::RegisteredModel;
    fn split(self) -> (Vec<Self::Item>, Option<String>) {
        (self.registered_models, self.next_page_token)
    }
}

impl Page for wire::SearchModelVersions {
    type Item = wire::ModelVersion;
    fn split(self) -> (Vec<Self::Item>, Option<String>) {
        (self.model_versions, self.next_page_token)
    }
}

pub async fn run(opts: &MlflowOptions) -> Result<(RegistryEvidence, RequestStats), MlflowError> {
    let started = Instant::now();
    let databricks_host = std::env::var("DATABRICKS_HOST").ok();
    let tracking = uri::parse(&opts.tracking_uri, databricks_host.as_deref())?;
    let pattern = match opts.name_pattern.as_deref() {
        Some(p) => Some(
            regex::RegexBuilder::new(&format!("^(?:{p})$"))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| MlflowError::InvalidPattern {
                    pattern: p.to_string(),
                    reason: e.to_string(),
                })?,
        ),
        None => None,
    };
    let credentials = if opts.credentials.is_none() {
        tracking.embedded.clone()
    } else {
        opts.credentials.clone()
    };
    let client = Arc::new(Client::new(
        &tracking.base,
        &tracking.display,
        &credentials,
        opts.timeout,
        opts.max_requests,
        opts.retry.clone(),
    )?);
    let mut evidence = RegistryEvidence {
        tracking_uri: tracking.display.clone(),
        server: server_kind(&opts.tracking_uri, &tracking.base).into(),
        collected_at_ms: now_ms(),
        ..Default::default()
    };
    let page_size = opts.page_size.clamp(1, 10_000).to_string();

    // 1. The models: by name when only names are configured (works where search is
    // restricted), else one search over the registry.
    let names_only = !opts.model_names.is_empty() && pattern.is_none() && opts.repo_urls.is_empty();
    let mut listing = if names_only {
        Listing {
            items: Vec::new(),
            complete: true,
            visible: false,
            no_endpoint: false,
        }
    } else {
        paginate::<wire::SearchRegisteredModels>(
            &client,
            EvidenceKind::RegisteredModels,
            "registered-models/search",
            Vec::new(),
            &page_size,
        )
        .await
    };
    let listed: HashSet<String> = listing.items.iter().map(|m| m.name.clone()).collect();
    for name in &opts.model_names {
        if listed.contains(name) {
            continue;
        }
        match client
            .get(
                EvidenceKind::RegisteredModels,
                "registered-models/get",
                &[("name", name)],
            )
            .await
        {
            Outcome::Json(value) => {
                listing.visible = true;
                match serde_json::from_value::<wire::GetRegisteredModel>(value) {
                    Ok(wire::GetRegisteredModel {
                        registered_model: Some(model),
                    }) => listing.items.push(model),
                    _ => malformed(&client, "registered-models/get", "registered model", name),
                }
            }
            Outcome::Missing => {
                listing.visible = true;
                client.diagnose(Diagnostic::warning(
                    "mlflow-model-not-found",
                    format!(
                        "{}: registered model {name:?} (configured) does not exist in the registry",
                        tracking.display
                    ),
                    None,
                ));
            }
            _ => listing.complete = false,
        }
    }
    evidence.models_visible = listing.visible;

    // 2. Which models belong to the repository.
    let repo_urls: HashSet<String> = opts
        .repo_urls
        .iter()
        .map(|u| uri::normalise_repo_url(u))
        .filter(|u| !u.is_empty())
        .collect();
    let no_selector = opts.model_names.is_empty() && pattern.is_none();
    let mut selected: Vec<(wire::RegisteredModel, Option<MatchedBy>)> = Vec::new();
    for model in std::mem::take(&mut listing.items) {
        let matched = if opts.model_names.contains(&model.name) {
            Some(Some(MatchedBy::Name))
        } else if pattern
            .as_ref()
            .is_some_and(|p: &Regex| p.is_match(&model.name))
        {
            Some(Some(MatchedBy::Pattern {
                pattern: opts.name_pattern.clone().unwrap_or_default(),
            }))
        } else if !repo_urls.is_empty() {
            Some(None) // decided by the runs below
        } else if no_selector {
            Some(Some(MatchedBy::Unfiltered))
        } else {
            None
        };
        match matched {
            Some(by) => {
                if !selected.iter().any(|(m, _)| m.name == model.name) {
                    selected.push((model, by));
                }
            }
            None => evidence.unmatched_models += 1,
        }
    }

    // 3. Versions of every selected (or candidate) model.
    let mut version_tasks = JoinSet::new();
    let mut versions_by_model: HashMap<String, (Listing<wire::ModelVersion>, Vec<u64>)> =
        HashMap::new();
    for (model, _) in &selected {
        let client = Arc::clone(&client);
        let name = model.name.clone();
        let latest: Vec<u64> = model
            .latest_versions
            .iter()
            .filter_map(|v| v.version.trim().parse().ok())
            .collect();
        let page_size = page_size.clone();
        version_tasks.spawn(async move {
            let listing = versions_of(&client, &name, &page_size).await;
            if listing.no_endpoint {
                let (listing, deleted) = probe_versions(&client, &name, &latest).await;
                (name, listing, deleted)
            } else {
                (name, listing, Vec::new())
            }
        });
        while version_tasks.len() >= opts.concurrency.max(1) {
            if let Some(Ok((name, listing, deleted))) = version_tasks.join_next().await {
                versions_by_model.insert(name, (listing, deleted));
            }
        }
    }
    while let Some(joined) = version_tasks.join_next().await {
        if let Ok((name, listing, deleted)) = joined {
            versions_by_model.insert(name, (listing, deleted));
        }
    }

    // 4. The runs behind them, each once.
    let run_ids: BTreeSet<String> = versions_by_model
        .values()
        .flat_map(|(l, _)| l.items.iter())
        .filter_map(|v| v.run_id.clone())
        .filter(|id| !id.trim().is_empty())
        .collect();
    let mut run_tasks = JoinSet::new();
    for run_id in run_ids {
        let client = Arc::clone(&client);
        run_tasks.spawn(async move { fetch_run(&client, run_id).await });
        while run_tasks.len() >= opts.concurrency.max(1) {
            if let Some(Ok(run)) = run_tasks.join_next().await {
                evidence.runs.insert(run.run_id.clone(), run);
            }
        }
    }
    while let Some(joined) = run_tasks.join_next().await {
        if let Ok(run) = joined {
            evidence.runs.insert(run.run_id.clone(), run);
        }
    }

    // 5. Candidates stay only when a version's run names the repository.
    let mut kept_run_ids: HashSet<String> = HashSet::new();
    for (model, matched) in selected {
        let Some((listing, deleted)) = versions_by_model.remove(&model.name) else {
            continue;
        };
        let matched = match matched {
            Some(by) => by,
            None => match repo_match(&listing.items, &evidence.runs, &repo_urls) {
                Some(by) => by,
                None => {
                    evidence.unmatched_models += 1;
                    continue;
                }
            },
        };
        let model_evidence =
            assemble_model(&client, model, matched, listing, deleted, &evidence.runs);
        kept_run_ids.extend(
            model_evidence
                .versions
                .iter()
                .filter_map(|v| v.run_id.clone()),
        );
        evidence.models.push(model_evidence);
    }
    // Runs of models that are not the repository's stay out of the evidence.
    evidence.runs.retain(|id, _| kept_run_ids.contains(id));
    evidence.models.sort_by(|a, b| a.name.cmp(&b.name));

    // 6. Signatures and input examples (best effort).
    if opts.fetch_schemas {
        fill_schemas(&client, &mut evidence, opts.concurrency.max(1)).await;
    }

    let (mut stats, diagnostics, denied) = client.take();
    evidence.diagnostics.extend(diagnostics);
    evidence.not_visible = denied
        .into_iter()
        .map(|(kind, endpoint, http_status)| NotVisible {
            kind,
            endpoint,
            http_status,
        })
        .collect();
    evidence.partial = stats.budget_exhausted
        || stats.failed > 0
        || stats.malformed > 0
        || !listing.complete
        || evidence.models.iter().any(|m| !m.versions_complete);
    stats.elapsed_ms = millis_since(started);
    Ok((evidence, stats))
}

async fn paginate<P: Page>(
    client: &Client,
    kind: EvidenceKind,
    endpoint: &str,
    base_query: Vec<(&str, String)>,
    page_size: &str,
) -> Listing<P::Item> {
    let mut listing = Listing {
        items: Vec::new(),
        complete: false,
        visible: false,
        no_endpoint: false,
    };
    let mut token: Option<String> = None;
    let mut seen_tokens: HashSet<String> = HashSet::new();
    loop {
        let mut query: Vec<(&str, &str)> =
            base_query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        query.push(("max_results", page_size));
        if let Some(t) = &token {
            query.push(("page_token", t));
        }
        match client.get(kind, endpoint, &query).await {
            Outcome::Json(value) => {
                listing.visible = true;
                let page: P = match serde_json::from_value(value) {
                    Ok(p) => p,
                    Err(e) => {
                        malformed(
                            client,
                            endpoint,
                            kind.noun(),
                            &truncate(&e.to_string(), 120),
                        );
                        return listing;
                    }
                };
                let (items, next) = page.split();
                listing.items.extend(items);
                match next.filter(|t| !t.is_empty()) {
                    None => {
                        listing.complete = true;
                        return listing;
                    }
                    Some(next) => {
                        if !seen_tokens.insert(next.clone()) {
                            client.diagnose(Diagnostic::warning(
                                "mlflow-pagination-loop",
                                format!(
                                    "{}: {endpoint} returned a page token it had returned before; stopped after {} {}",
                                    client.display,
                                    listing.items.len(),
                                    kind.noun()
                                ),
                                None,
                            ));
                            return listing;
                        }
                        client.count_page();
                        token = Some(next);
                    }
                }
            }
            Outcome::NoEndpoint => {
                listing.no_endpoint = true;
                return listing;
            }
            Outcome::Missing => {
                // A search answering "does not exist" means nothing matched.
                listing.visible = true;
                listing.complete = true;
                return listing;
            }
            Outcome::Denied | Outcome::Failed => return listing,
        }
    }
}

fn malformed(client: &Client, endpoint: &str, what: &str, detail: &str) {
    client.diagnose(Diagnostic::warning(
        "mlflow-malformed-json",
        format!(
            "GET {}/api/2.0/mlflow/{endpoint}: the JSON does not have the shape of {what} ({detail}); skipped",
            client.display
        ),
        None,
    ));
}

async fn versions_of(client: &Client, name: &str, page_size: &str) -> Listing<wire::ModelVersion> {
    // MLflow's filter grammar takes single- or double-quoted strings; pick the quote
    // the name does not contain.
    let filter = if name.contains('\'') {
        format!("name=\"{name}\"")
    } else {
        format!("name='{name}'")
    };
    let mut listing = paginate::<wire::SearchModelVersions>(
        client,
        EvidenceKind::ModelVersions,
        "model-versions/search",
        vec![("filter", filter)],
        page_size,
    )
    .await;
    // A server that ignores the filter must not mix other models' versions in.
    listing
        .items
        .retain(|v| v.name.is_empty() || v.name == name);
    listing
}

/// For servers without `model-versions/search`: ask for each number up to the
/// highest latest version; a "does not exist" answer is a deleted version.
async fn probe_versions(
    client: &Client,
    name: &str,
    latest: &[u64],
) -> (Listing<wire::ModelVersion>, Vec<u64>) {
    let mut listing = Listing {
        items: Vec::new(),
        complete: true,
        visible: false,
        no_endpoint: false,
    };
    let mut deleted = Vec::new();
    let highest = latest.iter().copied().max().unwrap_or(0);
    if highest > MAX_PROBED_VERSIONS {
        listing.complete = false;
    }
    for number in 1..=highest.min(MAX_PROBED_VERSIONS) {
        let version = number.to_string();
        match client
            .get(
                EvidenceKind::ModelVersions,
                "model-versions/get",
                &[("name", name), ("version", &version)],
            )
            .await
        {
            Outcome::Json(value) => {
                listing.visible = true;
                match serde_json::from_value::<wire::GetModelVersion>(value) {
                    Ok(wire::GetModelVersion {
                        model_version: Some(v),
                    }) => listing.items.push(v),
                    _ => {
                        listing.complete = false;
                        malformed(client, "model-versions/get", "a model version", &version);
                    }
                }
            }
            Outcome::Missing => {
                listing.visible = true;
                deleted.push(number);
            }
            _ => {
                listing.complete = false;
                break;
            }
        }
    }
    (listing, deleted)
}

async fn fetch_run(client: &Client, run_id: String) -> RunEvidence {
    let record = ApiRecord {
        endpoint: format!("GET {}/api/2.0/mlflow/runs/get", client.display),
        record: Some(format!("run {run_id}")),
        url: Some(client.display.clone()),
    };
    match client
        .get(EvidenceKind::Runs, "runs/get", &[("run_id", &run_id)])
        .await
    {
        Outcome::Json(value) => match serde_json::from_value::<wire::GetRun>(value) {
            Ok(wire::GetRun { run: Some(run) }) => run_evidence(run_id, run, record),
            Ok(_) | Err(_) => {
                malformed(client, "runs/get", "a run", &run_id);
                RunEvidence::new(run_id, "failed", record)
            }
        },
        Outcome::Missing => RunEvidence::new(run_id, "deleted", record),
        Outcome::Denied | Outcome::NoEndpoint => RunEvidence::new(run_id, "not-visible", record),
        Outcome::Failed => RunEvidence::new(run_id, "failed", record),
    }
}

fn run_evidence(run_id: String, run: wire::Run, record: ApiRecord) -> RunEvidence {
    let tags = tag_map(&run.data.tags);
    let repo = tags
        .get("mlflow.source.git.repoURL")
        .or_else(|| tags.get("mlflow.gitRepoURL"))
        .filter(|u| !u.trim().is_empty())
        // A remote may embed a token (https://oauth2:TOKEN@host/...): never keep it.
        .map(|u| uri::display_without_secrets(u.trim()));
    let mut metrics = BTreeMap::new();
    for metric in run.data.metrics {
        if let Some(value) = metric.value.filter(|v| v.is_finite()) {
            metrics.insert(metric.key, value);
        }
    }
    let datasets = run
        .inputs
        .dataset_inputs
        .into_iter()
        .filter_map(|input| {
            let context = tag_map(&input.tags).remove("mlflow.data.context");
            input.dataset.map(|d| DatasetEvidence {
                name: d.name.unwrap_or_default(),
                digest: d.digest,
                source_type: d.source_type,
                context,
            })
        })
        .collect();
    RunEvidence {
        experiment_id: run.info.experiment_id,
        status: run.info.status,
        lifecycle_stage: run.info.lifecycle_stage,
        git_commit: tags
            .get("mlflow.source.git.commit")
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        git_repo_url: repo,
        params: tag_map(&run.data.params),
        metrics,
        datasets,
        log_model_history: tags.get("mlflow.log-model.history").cloned(),
        ..RunEvidence::new(run_id, "visible", record)
    }
}

fn repo_match(
    versions: &[wire::ModelVersion],
    runs: &BTreeMap<String, RunEvidence>,
    repo_urls: &HashSet<String>,
) -> Option<MatchedBy> {
    let mut sorted: Vec<&wire::ModelVersion> = versions.iter().collect();
    sorted.sort_by_key(|v| {
        (
            v.version.trim().parse::<u64>().unwrap_or(u64::MAX),
            v.version.clone(),
        )
    });
    sorted.into_iter().find_map(|v| {
        let run_id = v.run_id.as_ref()?;
        let url = runs.get(run_id)?.git_repo_url.as_ref()?;
        repo_urls
            .contains(&uri::normalise_repo_url(url))
            .then(|| MatchedBy::RepoUrl {
                url: url.clone(),
                version: v.version.clone(),
                run_id: run_id.clone(),
            })
    })
}

fn assemble_model(
    client: &Client,
    model: wire::RegisteredModel,
    matched: MatchedBy,
    listing: Listing<wire::ModelVersion>,
    probed_deleted: Vec<u64>,
    runs: &BTreeMap<String, RunEvidence>,
) -> ModelEvidence {
    let display = &client.display;
    let aliases: BTreeMap<String, String> = model
        .aliases
        .iter()
        .filter(|a| !a.alias.is_empty())
        .map(|a| (a.alias.clone(), a.version.clone()))
        .collect();
    let mut versions: Vec<VersionEvidence> = listing
        .items
        .into_iter()
        .map(|v| {
            let record = ApiRecord {
                endpoint: format!("GET {display}/api/2.0/mlflow/model-versions/search"),
                record: Some(format!("model {} version {}", model.name, v.version)),
                url: Some(display.clone()),
            };
            let mut version_aliases: BTreeSet<String> = v.aliases.iter().cloned().collect();
            version_aliases.extend(
                aliases
                    .iter()
                    .filter(|(_, version)| **version == v.version)
                    .map(|(alias, _)| alias.clone()),
            );
            let model_id = v.model_id.clone().filter(|m| !m.is_empty()).or_else(|| {
                v.source
                    .as_deref()
                    .and_then(|s| s.strip_prefix("models:/"))
                    .filter(|rest| rest.starts_with("m-") && !rest.contains('/'))
                    .map(str::to_string)
            });
            let run_id = v.run_id.clone().filter(|r| !r.trim().is_empty());
            let git_commit = run_id
                .as_ref()
                .and_then(|id| runs.get(id))
                .and_then(|r| r.git_commit.clone());
            VersionEvidence {
                status: v.status.filter(|s| !s.is_empty()),
                stage: v
                    .current_stage
                    .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none")),
                aliases: version_aliases.into_iter().collect(),
                tags: tag_map(&v.tags),
                description: v.description.filter(|d| !d.is_empty()),
                created_at_ms: v.creation_timestamp,
                updated_at_ms: v.last_updated_timestamp,
                source: v.source.map(|s| uri::display_without_secrets(&s)),
                run_id,
                model_id,
                git_commit,
                ..VersionEvidence::new(v.version, record)
            }
        })
        .collect();
    versions.sort_by(|a, b| {
        (a.number().unwrap_or(u64::MAX), &a.version)
            .cmp(&(b.number().unwrap_or(u64::MAX), &b.version))
    });
    versions.dedup_by(|a, b| a.version == b.version);

    let mut missing_versions = probed_deleted;
    if listing.complete && missing_versions.is_empty() {
        let present: BTreeSet<u64> = versions
            .iter()
            .filter_map(VersionEvidence::number)
            .collect();
        if let Some(&highest) = present.iter().next_back() {
            if highest <= MAX_VERSION_FOR_GAPS {
                missing_versions = (1..highest).filter(|n| !present.contains(n)).collect();
            }
        }
    }
    if !missing_versions.is_empty() {
        client.diagnose(Diagnostic::info(
            "mlflow-version-gap",
            format!(
                "{display}: model {:?} lists {} versions up to v{}; {} not listed ({}): deleted, or hidden from these credentials",
                model.name,
                versions.len(),
                versions.iter().filter_map(VersionEvidence::number).max().unwrap_or(0),
                plural(missing_versions.len(), "number is", "numbers are"),
                short_list(&missing_versions)
            ),
            None,
        ));
    }
    ModelEvidence {
        matched_by: Some(matched),
        description: model.description.filter(|d| !d.is_empty()),
        created_at_ms: model.creation_timestamp,
        updated_at_ms: model.last_updated_timestamp,
        tags: tag_map(&model.tags),
        aliases,
        versions,
        versions_complete: listing.complete,
        missing_versions,
        ..ModelEvidence::new(
            model.name.clone(),
            ApiRecord {
                endpoint: format!("GET {display}/api/2.0/mlflow/registered-models/search"),
                record: Some(format!("registered model {}", model.name)),
                url: Some(display.clone()),
            },
        )
    }
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(super) fn short_list(numbers: &[u64]) -> String {
    let shown: Vec<String> = numbers.iter().take(10).map(|n| format!("v{n}")).collect();
    if numbers.len() > 10 {
        format!("{}, … {} more", shown.join(", "), numbers.len() - 10)
    } else {
        shown.join(", ")
    }
}

/// Where a version's MLmodel can be read, or the schema already known from tags.
enum SchemaSource {
    Known(SchemaEvidence),
    LoggedModel(String),
    RunArtifact { run_id: String, path: String },
    Unknown,
}

fn schema_source(version: &VersionEvidence, run: Option<&RunEvidence>) -> SchemaSource {
    let run_path = version.source.as_deref().and_then(|s| {
        let rest = s.strip_prefix("runs:/")?;
        let (_, path) = rest.split_once('/')?;
        Some(path.trim_matches('/').to_string())
    });
    // MLflow 1.x/2.x clients record every log_model call in a run tag.
    if let Some(history) = run.and_then(|r| r.log_model_history.as_deref()) {
        if let Ok(entries) = serde_json::from_str::<Vec<wire::LoggedModelHistoryEntry>>(history) {
            let entry = entries.iter().find(|e| {
                let by_path = run_path.is_some()
                    && e.artifact_path.as_deref().map(|p| p.trim_matches('/'))
                        == run_path.as_deref();
                let by_id = version.model_id.is_some() && e.model_uuid == version.model_id;
                let by_suffix = version
                    .source
                    .as_deref()
                    .zip(e.artifact_path.as_deref())
                    .is_some_and(|(s, p)| {
                        !p.is_empty()
                            && s.trim_end_matches('/')
                                .ends_with(&format!("/{}", p.trim_matches('/')))
                    });
                by_path || by_id || by_suffix
            });
            if let Some(entry) = entry {
                return SchemaSource::Known(SchemaEvidence {
                    signature: Some(entry.signature.as_ref().is_some_and(|s| !s.is_null())),
                    input_example: Some(
                        entry
                            .saved_input_example_info
                            .as_ref()
                            .is_some_and(|s| !s.is_null()),
                    ),
                    from: Some("log-model-history".into()),
                });
            }
        }
    }
    if let Some(model_id) = &version.model_id {
        return SchemaSource::LoggedModel(model_id.clone());
    }
    match (version.run_id.as_ref(), run_path) {
        (Some(run_id), Some(path)) if !path.is_empty() => SchemaSource::RunArtifact {
            run_id: run_id.clone(),
            path,
        },
        _ => SchemaSource::Unknown,
    }
}

async fn fill_schemas(client: &Arc<Client>, evidence: &mut RegistryEvidence, concurrency: usize) {
    let mut tasks = JoinSet::new();
    let mut results: Vec<((usize, usize), SchemaEvidence)> = Vec::new();
    for (mi, model) in evidence.models.iter().enumerate() {
        for (vi, version) in model.versions.iter().enumerate() {
            match schema_source(version, evidence.run_of(version)) {
                SchemaSource::Known(schema) => results.push(((mi, vi), schema)),
                SchemaSource::Unknown => {}
                SchemaSource::LoggedModel(model_id) => {
                    let client = Arc::clone(client);
                    tasks.spawn(async move {
                        // The tracking server's UI route; MLflow 3 keeps the MLmodel
                        // with the logged model, not the run.
                        let path = format!(
                            "/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files"
                        );
                        let body = client
                            .get_bytes(
                                EvidenceKind::Artifacts,
                                &path,
                                &[("artifact_file_path", "MLmodel")],
                            )
                            .await;
                        (
                            (mi, vi),
                            body.ok()
                                .and_then(|b| read_mlmodel(&b, "mlmodel (logged model)")),
                        )
                    });
                }
                SchemaSource::RunArtifact { run_id, path } => {
                    let client = Arc::clone(client);
                    tasks.spawn(async move {
                        let file = format!("{path}/MLmodel");
                        let body = client
                            .get_bytes(
                                EvidenceKind::Artifacts,
                                "/get-artifact",
                                &[("path", &file), ("run_uuid", &run_id)],
                            )
                            .await;
                        (
                            (mi, vi),
                            body.ok()
                                .and_then(|b| read_mlmodel(&b, "mlmodel (run artifact)")),
                        )
                    });
                }
            }
            while tasks.len() >= concurrency {
                if let Some(Ok((at, Some(schema)))) = tasks.join_next().await {
                    results.push((at, schema));
                }
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((at, Some(schema))) = joined {
            results.push((at, schema));
        }
    }
    for ((mi, vi), schema) in results {
        if let Some(version) = evidence
            .models
            .get_mut(mi)
            .and_then(|m| m.versions.get_mut(vi))
        {
            version.schema = schema;
        }
    }
}

/// Read `signature` and `saved_input_example_info` from an MLmodel file (YAML,
/// parsed with the project's bounded parser). Not YAML → unknown.
fn read_mlmodel(body: &[u8], from: &str) -> Option<SchemaEvidence> {
    let text = std::str::from_utf8(body).ok()?;
    let root = crate::pipeline::yaml::parse(text).ok()?;
    root.as_map()?;
    let present = |key: &str| root.get(key).is_some_and(|n| !n.is_null());
    Some(SchemaEvidence {
        signature: Some(
            root.get("signature")
                .is_some_and(|s| s.get("inputs").is_some_and(|i| !i.is_null())),
        ),
        input_example: Some(present("saved_input_example_info")),
        from: Some(from.into()),
    })
}

fn server_kind(raw: &str, base: &str) -> &'static str {
    let lower = base.to_ascii_lowercase();
    if lower.contains("/api/v4/projects/") && lower.contains("/ml/mlflow") {
        "gitlab"
    } else if raw.trim().starts_with("databricks") || lower.contains("databricks") {
        "databricks"
    } else if raw.trim().starts_with("azureml://") || lower.contains(".api.azureml.ms") {
        "azureml"
    } else {
        "mlflow"
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlmodel_signature_detection() {
        let with = b"artifact_path: model\nsignature:\n  inputs: '[{\"type\": \"double\"}]'\n  outputs: null\nsaved_input_example_info:\n  artifact_path: input_example.json\n";
        let s = read_mlmodel(with, "x").unwrap();
        assert_eq!((s.signature, s.input_example), (Some(true), Some(true)));
        let without = b"artifact_path: model\nflavors:\n  python_function: {}\n";
        let s = read_mlmodel(without, "x").unwrap();
        assert_eq!((s.signature, s.input_example), (Some(false), Some(false)));
        assert!(read_mlmodel(b"<html>", "x").is_none());
        assert!(read_mlmodel(&[0xff, 0xfe], "x").is_none());
    }

    #[test]
    fn history_tag_gives_schema_without_a_request() {
        let record = ApiRecord {
            endpoint: "e".into(),
            record: None,
            url: None,
        };
        let version = VersionEvidence {
            source: Some("runs:/abc/model".into()),
            run_id: Some("abc".into()),
            ..VersionEvidence::new("1", record.clone())
        };
        let run = RunEvidence {
            log_model_history: Some(
                r#"[{"artifact_path":"other","signature":null},{"artifact_path":"model","signature":{"inputs":"[]"},"saved_input_example_info":null}]"#.into(),
            ),
            ..RunEvidence::new("abc", "visible", record)
        };
        match schema_source(&version, Some(&run)) {
            SchemaSource::Known(s) => {
                assert_eq!(s.signature, Some(true));
                assert_eq!(s.input_example, Some(false));
            }
            _ => panic!("expected the history tag to answer"),
        }
        // Without the tag the run artifact is read.
        match schema_source(&version, None) {
            SchemaSource::RunArtifact { run_id, path } => {
                assert_eq!((run_id.as_str(), path.as_str()), ("abc", "model"))
            }
            _ => panic!("expected a run artifact"),
        }
    }

    #[test]
    fn server_kinds() {
        assert_eq!(
            server_kind("x", "https://gitlab.com/api/v4/projects/42/ml/mlflow"),
            "gitlab"
        );
        assert_eq!(
            server_kind("databricks", "https://adb-1.azuredatabricks.net"),
            "databricks"
        );
        assert_eq!(
            server_kind("azureml://x.api.azureml.ms/m", "https://x.api.azureml.ms/m"),
            "azureml"
        );
        assert_eq!(
            server_kind("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            "mlflow"
        );
    }

    #[test]
    fn gap_lists_are_short() {
        assert_eq!(short_list(&[3]), "v3");
        let many: Vec<u64> = (1..=12).collect();
        assert!(short_list(&many).ends_with("… 2 more"));
    }
}
