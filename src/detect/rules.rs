//! Detector rules: data in `detectors/`, embedded at build time, extensible by users.
//!
//! A rule file is TOML with `[[rule]]` tables (format in `docs/detectors.md`). Rules
//! are validated and compiled once: every glob of every rule goes into shared
//! [`GlobSet`]s, every content regex into one `RegexSet` per rule family, so that
//! the engine reads each file once whatever the number of rules.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use super::{Confidence, qualifier};

/// The rule files shipped in the binary: (name shown as source, text). One place.
const BUILTIN_FILES: &[(&str, &str)] = &[
    ("detectors/ci.toml", include_str!("../../detectors/ci.toml")),
    (
        "detectors/build.toml",
        include_str!("../../detectors/build.toml"),
    ),
    (
        "detectors/model.toml",
        include_str!("../../detectors/model.toml"),
    ),
    (
        "detectors/data.toml",
        include_str!("../../detectors/data.toml"),
    ),
    (
        "detectors/deploy.toml",
        include_str!("../../detectors/deploy.toml"),
    ),
    (
        "detectors/serving.toml",
        include_str!("../../detectors/serving.toml"),
    ),
    (
        "detectors/monitor.toml",
        include_str!("../../detectors/monitor.toml"),
    ),
    (
        "detectors/release.toml",
        include_str!("../../detectors/release.toml"),
    ),
    (
        "detectors/change.toml",
        include_str!("../../detectors/change.toml"),
    ),
    (
        "detectors/test.toml",
        include_str!("../../detectors/test.toml"),
    ),
    (
        "detectors/env.toml",
        include_str!("../../detectors/env.toml"),
    ),
    (
        "detectors/metrics.toml",
        include_str!("../../detectors/metrics.toml"),
    ),
    (
        "detectors/feedback.toml",
        include_str!("../../detectors/feedback.toml"),
    ),
];

/// Repo practices of the catalog (`shared/spec/practices.md`, "Observed in repository files").
pub const CATALOG_REPO_PRACTICES: &[&str] = &[
    "ci.pipeline",
    "ci.on_change",
    "ci.tests",
    "ci.static_checks",
    "build.container",
    "build.reproducible_env",
    "build.schedule",
    "build.cache",
    "model.training_pipeline",
    "model.conversion",
    "model.evaluation",
    "model.registry",
    "data.versioning",
    "data.validation",
    "deploy.automated",
    "deploy.environments",
    "deploy.approval_gate",
    "deploy.gated_by_tests",
    "deploy.progressive",
    "deploy.rollback",
    "deploy.iac",
    "serving.definition",
    "serving.inference_graph",
    "monitor.runtime",
    "monitor.model",
    "release.online_evaluation",
    "feedback.retraining",
    "feedback.report",
    "release.versioning",
    "release.retirement",
    "vcs.branch_policy",
    "change.review",
    "change.traceability",
    "deps.automation",
    "env.config",
    "test.layering",
    "test.coverage",
    "test.results",
    "metrics.defined",
];

/// Practices answered by coded detectors (graph and history questions), not by rules.
pub const CODED_PRACTICES: &[&str] = &[
    "ci.on_change",
    "build.schedule",
    "vcs.branch_policy",
    "deploy.gated_by_tests",
    "deploy.environments",
    "deploy.approval_gate",
];

/// Candidate practice ids from `level-signals.md` that rules may report.
pub const CANDIDATE_PRACTICES: &[&str] = &[
    "model.card",
    "model.lineage_tags",
    "model.conversion_validated",
    "serving.shadow",
    "monitor.alerting",
    "monitor.data_capture",
    "deploy.analysis_gate",
    "deploy.auto_rollback",
    "test.post_deploy",
    "test.nonfunctional",
    "data.test_set_versioned",
    "release.retention_policy",
    "env.ephemeral",
    "build.provenance",
];

/// Practices whose evidence is a check that must be able to fail: steps or jobs
/// that may fail (`continue-on-error`, `allow_failure`, `|| true`) do not count.
pub const TEST_LIKE_PRACTICES: &[&str] = &[
    "ci.tests",
    "ci.static_checks",
    "model.evaluation",
    "data.validation",
    "test.coverage",
    "test.post_deploy",
    "test.nonfunctional",
];

/// Whether a practice id is known (catalog or candidate).
pub fn is_known_practice(id: &str) -> bool {
    CATALOG_REPO_PRACTICES.contains(&id) || CANDIDATE_PRACTICES.contains(&id)
}

/// Trigger kinds a rule may name in `trigger = [...]`.
pub const TRIGGER_NAMES: &[&str] = &[
    "push",
    "tag",
    "pull_request",
    "schedule",
    "manual",
    "upstream",
    "call",
    "api",
    "merge_queue",
    "release",
];

/// A list key may also be written as a single string (`trigger = "schedule"`).
fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// One rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: String,
    practice: String,
    description: String,
    #[serde(default, deserialize_with = "one_or_many")]
    files: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    exclude_files: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    content: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    exclude_lines: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    file_requires: Vec<String>,
    #[serde(default)]
    env_variants: bool,
    #[serde(default, deserialize_with = "one_or_many")]
    step_run: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    step_uses: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    step_with: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    job_image: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    job_name: Vec<String>,
    #[serde(default)]
    job_environment: bool,
    #[serde(default)]
    job_manual: bool,
    #[serde(default)]
    job_cache: bool,
    #[serde(default, deserialize_with = "one_or_many")]
    job_artifact_reports: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    trigger: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    job_has: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pipeline_has: Vec<String>,
    #[serde(default)]
    manifest: Option<ManifestToml>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    qualifiers: Vec<String>,
    #[serde(default)]
    confidence: Option<Confidence>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestToml {
    kind: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFileToml {
    #[serde(default)]
    rule: Vec<RuleToml>,
}

/// Where a content rule may count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere in the repository files (with `in_pipeline` when a pipeline reaches it).
    Any,
    /// Only when a pipeline executes it (a step, or a file part reached from one).
    Pipeline,
}

/// A Kubernetes-style manifest matcher: `kind`, optional dotted field path and value.
#[derive(Debug, Clone)]
pub struct ManifestMatcher {
    /// Anchored regex over the document's `kind`.
    pub kind: Regex,
    /// Quick line filter: `^kind:\s*(kind)` (multi-line).
    pub kind_line: Regex,
    pub field: Vec<String>,
    pub value: Option<Regex>,
}

/// A validated, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub practice: String,
    pub description: String,
    /// Where the rule is defined (`detectors/ci.toml` or a user file path).
    pub source: String,
    /// Family (file stem), groups content regexes into one set.
    pub family: String,
    pub files: Vec<String>,
    pub exclude: Option<GlobSet>,
    pub content: Vec<Regex>,
    /// A matched line (content or step text) that also matches one of these is ignored.
    pub exclude_lines: Vec<Regex>,
    /// Content matches count only in a file where some code line also matches
    /// one of these (a schedule counts as retraining in a file that trains).
    pub file_requires: Vec<Regex>,
    /// Files matching `files` whose names (or folders) name environments, with
    /// at least two environments whose contents differ beyond the name.
    pub env_variants: bool,
    pub step_run: Vec<Regex>,
    pub step_uses: Vec<Regex>,
    pub step_with: Vec<Regex>,
    pub job_image: Vec<Regex>,
    pub job_name: Vec<Regex>,
    pub job_environment: bool,
    pub job_manual: bool,
    pub job_cache: bool,
    pub job_artifact_reports: Vec<Regex>,
    pub trigger: Vec<String>,
    pub job_has: Vec<String>,
    pub pipeline_has: Vec<String>,
    pub manifest: Option<ManifestMatcher>,
    pub scope: Scope,
    pub qualifiers: Vec<String>,
    pub confidence: Confidence,
}

impl Rule {
    /// Path existence only (no content, no manifest).
    pub fn is_path_rule(&self) -> bool {
        !self.files.is_empty()
            && self.content.is_empty()
            && self.manifest.is_none()
            && !self.env_variants
    }
    /// Matchers on pipeline jobs and steps.
    pub fn has_pipeline_matchers(&self) -> bool {
        !self.step_run.is_empty()
            || !self.step_uses.is_empty()
            || !self.step_with.is_empty()
            || !self.job_image.is_empty()
            || self.job_environment
            || self.job_manual
            || self.job_cache
            || !self.job_artifact_reports.is_empty()
    }
    /// A second-pass rule: depends on what other rules found per job/pipeline.
    pub fn is_derived(&self) -> bool {
        !self.job_has.is_empty() || !self.pipeline_has.is_empty()
    }
    pub fn is_test_like(&self) -> bool {
        TEST_LIKE_PRACTICES.contains(&self.practice.as_str())
    }
}

/// Everything compiled across rules for one-pass scanning.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// Globs of path rules; `path_glob_rule[i]` = rule index of glob `i`.
    pub path_globs: GlobSet,
    pub path_glob_rule: Vec<usize>,
    /// Globs of content and manifest rules.
    pub scan_globs: GlobSet,
    pub scan_glob_rule: Vec<usize>,
    /// One regex set per family over content patterns; `(rule, pattern index)` per entry.
    pub content_sets: Vec<PatternSet>,
    /// One set over every `step_run` pattern of every rule.
    pub step_set: Option<PatternSet>,
    /// One literal pre-filter over the content patterns of every family, so each
    /// file's text is read once whatever the number of families.
    pub content_prefilter: ContentPrefilter,
}

/// Literal pre-filter across all content sets: literal → (set, pattern).
#[derive(Debug, Clone, Default)]
pub struct ContentPrefilter {
    literals: Option<aho_corasick::AhoCorasick>,
    owner: Vec<(usize, usize)>,
    /// Patterns without a usable literal: always candidates.
    always: Vec<(usize, usize)>,
}

impl ContentPrefilter {
    fn new(sets: &[PatternSet]) -> Self {
        let mut literals = Vec::new();
        let mut owner = Vec::new();
        let mut always = Vec::new();
        for (si, set) in sets.iter().enumerate() {
            for (pi, re) in set.single.iter().enumerate() {
                match required_literals(re.as_str()) {
                    Some(lits) => {
                        for l in lits {
                            literals.push(l);
                            owner.push((si, pi));
                        }
                    }
                    None => always.push((si, pi)),
                }
            }
        }
        let ac = automaton(&literals);
        if ac.is_none() {
            always = sets
                .iter()
                .enumerate()
                .flat_map(|(si, set)| (0..set.single.len()).map(move |pi| (si, pi)))
                .collect();
            owner.clear();
        }
        ContentPrefilter {
            literals: ac,
            owner,
            always,
        }
    }
}

impl Compiled {
    /// Content patterns, as (set index, pattern index), that match somewhere in
    /// `text`, among the sets `wanted` accepts. Exactly what running every such
    /// pattern would find; see [`PatternSet::matches`] for why it is done this way.
    pub fn content_matches(
        &self,
        text: &str,
        wanted: impl Fn(&PatternSet) -> bool,
    ) -> Vec<(usize, usize)> {
        let active: Vec<bool> = self.content_sets.iter().map(&wanted).collect();
        if !active.iter().any(|&a| a) {
            return Vec::new();
        }
        let bytes = text.as_bytes();
        let pf = &self.content_prefilter;
        let mut candidates: BTreeSet<(usize, usize)> = pf
            .always
            .iter()
            .copied()
            .filter(|&(si, _)| active[si])
            .collect();
        if let Some(ac) = &pf.literals {
            for m in ac.find_overlapping_iter(bytes) {
                if let Some(&(si, pi)) = pf.owner.get(m.pattern().as_usize())
                    && active[si]
                {
                    candidates.insert((si, pi));
                }
            }
        }
        candidates
            .into_iter()
            .filter(|&(si, pi)| {
                self.content_sets
                    .get(si)
                    .and_then(|set| set.single.get(pi))
                    .is_some_and(|re| re.is_match(bytes))
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct PatternSet {
    pub family: String,
    /// For each pattern of the set: (rule index, index into that rule's list).
    pub owners: Vec<(usize, usize)>,
    /// Rules that own at least one pattern of this set.
    pub rules: HashSet<usize>,
    /// Each pattern alone as an ASCII-mode byte regex (a fast pre-filter: the lazy
    /// DFA stays small without Unicode classes; the rule's own Unicode regex confirms
    /// each line), run on the candidates of the literal pre-filter only.
    single: Vec<regex::bytes::Regex>,
    prefilter: Prefilter,
}

impl PatternSet {
    /// Indexes of the patterns that match somewhere in the text.
    ///
    /// Most files match none of a family's patterns, and an overlapping regex-set
    /// search must read the whole text with a DFA that grows with the number of
    /// patterns. So one Aho-Corasick pass over the literals every match must begin
    /// (or end) with picks the candidate patterns first; only those (and patterns
    /// without such a literal) run their own regex, each with its own fast literal
    /// search. The result is exactly the set the regex set would report.
    pub fn matches(&self, text: &str) -> Matched {
        let bytes = text.as_bytes();
        let mut candidate = vec![false; self.single.len()];
        for &pi in &self.prefilter.always {
            candidate[pi] = true;
        }
        if let Some(ac) = &self.prefilter.literals {
            for m in ac.find_overlapping_iter(bytes) {
                if let Some(&pi) = self.prefilter.literal_owner.get(m.pattern().as_usize()) {
                    candidate[pi] = true;
                }
            }
        }
        Matched(
            candidate
                .iter()
                .enumerate()
                .filter(|&(pi, &c)| c && self.single[pi].is_match(bytes))
                .map(|(pi, _)| pi)
                .collect(),
        )
    }
}

/// The pattern indexes a [`PatternSet`] matched, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matched(pub Vec<usize>);

impl Matched {
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().copied()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Literal pre-filter of a [`PatternSet`].
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    /// Every literal some pattern's matches must start (or end) with.
    literals: Option<aho_corasick::AhoCorasick>,
    /// Literal index → pattern index.
    literal_owner: Vec<usize>,
    /// Patterns without a usable literal: always run.
    always: Vec<usize>,
}

/// Shortest literal worth pre-filtering on: shorter ones hit nearly every file.
/// (Also why a literal from an optional part never counts: it need not appear.)
const MIN_PREFILTER_LITERAL: usize = 3;

/// Literals one of which every match of `pattern` contains (compared without
/// regard to ASCII case); `None` when no such set of useful literals is found.
fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    // Case-insensitive groups would turn literals into classes; the pre-filter
    // compares case-insensitively anyway, which keeps it a superset.
    let case_sensitive = pattern.replace("(?i)", "");
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&case_sensitive)
        .ok()?;
    required_in(&hir)
}

fn required_in(hir: &regex_syntax::hir::Hir) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Literal(lit) => {
            (lit.0.len() >= MIN_PREFILTER_LITERAL).then(|| vec![lit.0.to_vec()])
        }
        HirKind::Capture(cap) => required_in(&cap.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => required_in(&rep.sub),
        HirKind::Alternation(alts) => {
            let mut all = Vec::new();
            for alt in alts {
                all.extend(required_in(alt)?);
            }
            Some(all)
        }
        HirKind::Concat(subs) => {
            // The longest literal among the mandatory parts, else any mandatory part
            // that has required literals of its own.
            let best = subs
                .iter()
                .filter_map(|sub| match sub.kind() {
                    HirKind::Literal(lit) if lit.0.len() >= MIN_PREFILTER_LITERAL => {
                        Some(lit.0.to_vec())
                    }
                    _ => None,
                })
                .max_by_key(Vec::len);
            best.map(|b| vec![b])
                .or_else(|| subs.iter().find_map(required_in))
        }
        _ => None,
    }
}

/// The pre-filter automaton: case-insensitive (literals come from patterns read
/// case-sensitively), a DFA because an overlapping search reads every byte.
fn automaton(literals: &[Vec<u8>]) -> Option<aho_corasick::AhoCorasick> {
    if literals.is_empty() {
        return None;
    }
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::Standard)
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(literals)
        .ok()
}

fn prefilter(patterns: &[String]) -> Prefilter {
    let mut literals: Vec<Vec<u8>> = Vec::new();
    let mut literal_owner = Vec::new();
    let mut always = Vec::new();
    for (pi, p) in patterns.iter().enumerate() {
        match required_literals(p) {
            Some(lits) => {
                for l in lits {
                    literals.push(l);
                    literal_owner.push(pi);
                }
            }
            None => always.push(pi),
        }
    }
    let ac = automaton(&literals);
    if ac.is_none() {
        // Without an automaton every pattern is a candidate.
        always = (0..patterns.len()).collect();
        literal_owner.clear();
    }
    Prefilter {
        literals: ac,
        literal_owner,
        always,
    }
}

/// A loaded, compiled set of rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    compiled: Compiled,
    /// Notes from loading (a user rule replacing a builtin one).
    notes: Vec<String>,
}

/// What `mlops-maturity detectors` lists about a rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub practice: String,
    pub description: String,
    /// `rule` (data, with its file) or `coded` (a named detector in Rust).
    pub kind: String,
    /// Where the rule is defined (`detectors/ci.toml`, a user folder, or `src/detect/coded.rs`).
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn invalid(path: &str, id: &str, message: impl std::fmt::Display) -> RuleError {
    RuleError::Invalid {
        path: path.to_string(),
        message: if id.is_empty() {
            message.to_string()
        } else {
            format!("rule `{id}`: {message}")
        },
    }
}

/// Glob with `*` not crossing `/` (so `.github/workflows/*.yml` means that folder only).
fn build_glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .case_insensitive(true)
        .backslash_escape(true)
        .build()
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).size_limit(1 << 22).build()
}

fn compile_regexes(
    path: &str,
    id: &str,
    what: &str,
    list: &[String],
) -> Result<Vec<Regex>, RuleError> {
    list.iter()
        .map(|p| {
            build_regex(p).map_err(|e| invalid(path, id, format!("bad {what} regex `{p}`: {e}")))
        })
        .collect()
}

fn parse_rule(path: &str, family: &str, t: RuleToml) -> Result<Rule, RuleError> {
    let id = t.id.clone();
    if id.trim().is_empty() {
        return Err(invalid(path, "", "a rule has an empty id"));
    }
    if !is_known_practice(&t.practice) {
        return Err(invalid(
            path,
            &id,
            format!("unknown practice id `{}`", t.practice),
        ));
    }
    for q in &t.qualifiers {
        if !qualifier::ALL.contains(&q.as_str()) {
            return Err(invalid(path, &id, format!("unknown qualifier `{q}`")));
        }
    }
    for trig in &t.trigger {
        if !TRIGGER_NAMES.contains(&trig.as_str()) {
            return Err(invalid(path, &id, format!("unknown trigger kind `{trig}`")));
        }
    }
    for p in t.job_has.iter().chain(&t.pipeline_has) {
        if !is_known_practice(p) {
            return Err(invalid(
                path,
                &id,
                format!("unknown practice id `{p}` in job_has/pipeline_has"),
            ));
        }
    }
    for g in t.files.iter().chain(&t.exclude_files) {
        build_glob(g).map_err(|e| invalid(path, &id, format!("bad glob `{g}`: {e}")))?;
    }
    let exclude = if t.exclude_files.is_empty() {
        None
    } else {
        let mut b = GlobSetBuilder::new();
        for g in &t.exclude_files {
            b.add(build_glob(g).map_err(|e| invalid(path, &id, format!("bad glob `{g}`: {e}")))?);
        }
        Some(
            b.build()
                .map_err(|e| invalid(path, &id, format!("bad exclude globs: {e}")))?,
        )
    };
    let scope = match t.scope.as_deref() {
        None | Some("any") => Scope::Any,
        Some("pipeline") => Scope::Pipeline,
        Some(other) => {
            return Err(invalid(
                path,
                &id,
                format!("unknown scope `{other}` (any, pipeline)"),
            ));
        }
    };
    let manifest = match &t.manifest {
        None => None,
        Some(m) => {
            let kind = build_regex(&format!("^(?:{})$", m.kind))
                .map_err(|e| invalid(path, &id, format!("bad manifest kind `{}`: {e}", m.kind)))?;
            let kind_line = build_regex(&format!(r#"(?m)^kind:\s*["']?(?:{})["']?\s*$"#, m.kind))
                .map_err(|e| {
                invalid(path, &id, format!("bad manifest kind `{}`: {e}", m.kind))
            })?;
            let value =
                match &m.value {
                    Some(v) => Some(build_regex(v).map_err(|e| {
                        invalid(path, &id, format!("bad manifest value `{v}`: {e}"))
                    })?),
                    None => None,
                };
            let field = m
                .field
                .as_deref()
                .map(|f| {
                    f.split('.')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            Some(ManifestMatcher {
                kind,
                kind_line,
                field,
                value,
            })
        }
    };
    let rule = Rule {
        content: compile_regexes(path, &id, "content", &t.content)?,
        exclude_lines: compile_regexes(path, &id, "exclude_lines", &t.exclude_lines)?,
        file_requires: compile_regexes(path, &id, "file_requires", &t.file_requires)?,
        env_variants: t.env_variants,
        step_run: compile_regexes(path, &id, "step_run", &t.step_run)?,
        step_uses: compile_regexes(path, &id, "step_uses", &t.step_uses)?,
        step_with: compile_regexes(path, &id, "step_with", &t.step_with)?,
        job_image: compile_regexes(path, &id, "job_image", &t.job_image)?,
        job_name: compile_regexes(path, &id, "job_name", &t.job_name)?,
        job_artifact_reports: compile_regexes(
            path,
            &id,
            "job_artifact_reports",
            &t.job_artifact_reports,
        )?,
        id: t.id,
        practice: t.practice,
        description: t.description,
        source: path.to_string(),
        family: family.to_string(),
        files: t.files,
        exclude,
        job_environment: t.job_environment,
        job_manual: t.job_manual,
        job_cache: t.job_cache,
        trigger: t.trigger,
        job_has: t.job_has,
        pipeline_has: t.pipeline_has,
        manifest,
        scope,
        qualifiers: t.qualifiers,
        confidence: t.confidence.unwrap_or(Confidence::Medium),
    };
    if (!rule.content.is_empty() || rule.env_variants) && rule.files.is_empty() {
        return Err(invalid(
            path,
            &rule.id,
            "`content` needs `files` (globs of the files to read)",
        ));
    }
    if !rule.file_requires.is_empty() && rule.content.is_empty() {
        return Err(invalid(
            path,
            &rule.id,
            "`file_requires` applies to `content` matches; the rule has no `content`",
        ));
    }
    let matches_something = !rule.files.is_empty()
        || rule.manifest.is_some()
        || rule.has_pipeline_matchers()
        || rule.is_derived();
    if !matches_something {
        return Err(invalid(path, &rule.id, "the rule has no matcher"));
    }
    Ok(rule)
}

/// Parse one rule file's text.
fn parse_file(path: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    let file: RuleFileToml = toml::from_str(text).map_err(|e| invalid(path, "", e))?;
    let family = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("user")
        .to_string();
    let mut seen = HashSet::new();
    let mut rules = Vec::new();
    for t in file.rule {
        if !seen.insert(t.id.clone()) {
            return Err(invalid(path, &t.id, "duplicate rule id"));
        }
        rules.push(parse_rule(path, &family, t)?);
    }
    Ok(rules)
}

fn pattern_set(
    family: &str,
    patterns: Vec<(usize, usize, String)>,
) -> Result<PatternSet, RuleError> {
    let wrapped: Vec<String> = patterns
        .iter()
        .map(|(_, _, p)| format!("(?m:{p})"))
        .collect();
    let single = wrapped
        .iter()
        .map(|p| {
            regex::bytes::RegexBuilder::new(p)
                .unicode(false)
                .size_limit(1 << 24)
                .build()
                .map_err(|e| invalid(family, "", format!("cannot build regex {p}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PatternSet {
        family: family.to_string(),
        rules: patterns.iter().map(|(r, _, _)| *r).collect(),
        owners: patterns.iter().map(|(r, i, _)| (*r, *i)).collect(),
        prefilter: prefilter(&wrapped),
        single,
    })
}

fn compile(rules: &[Rule]) -> Result<Compiled, RuleError> {
    let mut path_b = GlobSetBuilder::new();
    let mut path_owner = Vec::new();
    let mut scan_b = GlobSetBuilder::new();
    let mut scan_owner = Vec::new();
    let mut families: BTreeMap<&str, Vec<(usize, usize, String)>> = BTreeMap::new();
    let mut steps = Vec::new();
    for (ri, r) in rules.iter().enumerate() {
        let scans = !r.content.is_empty() || r.manifest.is_some() || r.env_variants;
        let mut globs = r.files.clone();
        if r.manifest.is_some() && globs.is_empty() {
            globs = vec!["**/*.yaml".into(), "**/*.yml".into()];
        }
        for g in &globs {
            let glob = build_glob(g).map_err(|e| invalid(&r.source, &r.id, e))?;
            if scans {
                scan_b.add(glob);
                scan_owner.push(ri);
            } else {
                path_b.add(glob);
                path_owner.push(ri);
            }
        }
        for (pi, re) in r.content.iter().enumerate() {
            families
                .entry(r.family.as_str())
                .or_default()
                .push((ri, pi, re.as_str().to_string()));
        }
        for (pi, re) in r.step_run.iter().enumerate() {
            steps.push((ri, pi, re.as_str().to_string()));
        }
    }
    let mut content_sets = Vec::new();
    for (family, patterns) in families {
        content_sets.push(pattern_set(family, patterns)?);
    }
    let content_prefilter = ContentPrefilter::new(&content_sets);
    Ok(Compiled {
        content_prefilter,
        path_globs: path_b.build().map_err(|e| invalid("rules", "", e))?,
        path_glob_rule: path_owner,
        scan_globs: scan_b.build().map_err(|e| invalid("rules", "", e))?,
        scan_glob_rule: scan_owner,
        content_sets,
        step_set: if steps.is_empty() {
            None
        } else {
            Some(pattern_set("step_run", steps)?)
        },
    })
}

impl RuleSet {
    /// The rules shipped in the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut ids = HashSet::new();
        for (path, text) in BUILTIN_FILES {
            for rule in parse_file(path, text)? {
                if !ids.insert(rule.id.clone()) {
                    return Err(invalid(path, &rule.id, "duplicate rule id"));
                }
                rules.push(rule);
            }
        }
        Self::from_rules(rules, Vec::new())
    }

    /// Build from already validated rules (compiles the shared sets).
    fn from_rules(rules: Vec<Rule>, notes: Vec<String>) -> Result<RuleSet, RuleError> {
        let compiled = compile(&rules)?;
        Ok(RuleSet {
            rules,
            compiled,
            notes,
        })
    }

    /// Add the rules of a user folder (every `*.toml` in it, in name order). A
    /// user rule with the id of an existing rule replaces it (with a note).
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let shown = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|source| RuleError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml") && p.is_file())
            .collect();
        paths.sort();
        let mut rules = self.rules.clone();
        let mut notes = self.notes.clone();
        let mut user_ids = HashSet::new();
        for p in paths {
            let shown = p.display().to_string();
            let text = std::fs::read_to_string(&p).map_err(|source| RuleError::Io {
                path: shown.clone(),
                source,
            })?;
            for rule in parse_file(&shown, &text)? {
                if !user_ids.insert(rule.id.clone()) {
                    return Err(invalid(
                        &shown,
                        &rule.id,
                        "duplicate rule id in the user folder",
                    ));
                }
                if let Some(existing) = rules.iter_mut().find(|r| r.id == rule.id) {
                    notes.push(format!(
                        "rule `{}` from {} replaces the one from {}",
                        rule.id, shown, existing.source
                    ));
                    *existing = rule;
                } else {
                    rules.push(rule);
                }
            }
        }
        *self = Self::from_rules(rules, notes)?;
        Ok(())
    }

    pub fn infos(&self) -> Vec<RuleInfo> {
        self.rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.clone(),
                practice: r.practice.clone(),
                description: r.description.clone(),
                kind: "rule".into(),
                source: r.source.clone(),
            })
            .collect()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Notes from loading (replaced rules), for the user.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile_with_unique_ids() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rules().len() > 50, "only {} rules", set.rules().len());
        let mut ids = HashSet::new();
        for r in set.rules() {
            assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
            assert!(
                r.id.starts_with(&format!("{}.", r.practice)) || r.id == r.practice,
                "rule id {} should start with its practice {}",
                r.id,
                r.practice
            );
        }
    }

    #[test]
    fn every_repo_practice_not_coded_has_a_rule() {
        let set = RuleSet::builtin().unwrap();
        for p in CATALOG_REPO_PRACTICES {
            if CODED_PRACTICES.contains(p) {
                continue;
            }
            assert!(
                set.rules().iter().any(|r| r.practice == *p),
                "no rule for practice {p}"
            );
        }
    }

    fn err_of(text: &str) -> String {
        parse_file("user/x.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn validation_names_file_and_rule() {
        let e = err_of("[[rule]]\nid='a.b'\npractice='no.such'\ndescription='d'\nfiles=['x']\n");
        assert!(
            e.contains("user/x.toml") && e.contains("a.b") && e.contains("no.such"),
            "{e}"
        );
        let e = err_of(
            "[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['*.py']\ncontent=['(']\n",
        );
        assert!(e.contains("ci.x") && e.contains("bad content regex"), "{e}");
        let e =
            err_of("[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['a/[']\n");
        assert!(e.contains("bad glob"), "{e}");
        let e = err_of(
            "[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['a']\nqualifiers=['fast']\n",
        );
        assert!(e.contains("unknown qualifier `fast`"), "{e}");
        let e = err_of(
            "[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['a']\n[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['b']\n",
        );
        assert!(e.contains("duplicate rule id"), "{e}");
        let e = err_of("[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\n");
        assert!(e.contains("no matcher"), "{e}");
        let e = err_of(
            "[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['a']\nfile_requires=['b']\n",
        );
        assert!(e.contains("file_requires"), "{e}");
        let e = err_of(
            "[[rule]]\nid='ci.x'\npractice='ci.tests'\ndescription='d'\nfiles=['a']\ncolour='red'\n",
        );
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn user_folder_replaces_and_adds_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "[[rule]]\nid='change.review.codeowners'\npractice='change.review'\ndescription='mine'\nfiles=['OWNERS']\n\n[[rule]]\nid='ci.tests.bazel'\npractice='ci.tests'\ndescription='bazel test'\nstep_run=['bazel test']\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a rule file").unwrap();
        let mut set = RuleSet::builtin().unwrap();
        let before = set.rules().len();
        set.load_dir(dir.path()).unwrap();
        assert_eq!(set.rules().len(), before + 1);
        let replaced = set
            .rules()
            .iter()
            .find(|r| r.id == "change.review.codeowners")
            .unwrap();
        assert_eq!(replaced.description, "mine");
        assert_eq!(set.notes().len(), 1);
        assert!(set.notes()[0].contains("replaces"));
        assert!(set.infos().iter().any(|i| i.id == "ci.tests.bazel"));
    }

    #[test]
    fn single_strings_are_lists() {
        let rules = parse_file(
            "user/x.toml",
            "[[rule]]\nid='feedback.retraining.nightly'\npractice='feedback.retraining'\ndescription='d'\ntrigger='schedule'\nstep_run='train'\n",
        )
        .unwrap();
        assert_eq!(rules[0].trigger, ["schedule"]);
        assert_eq!(rules[0].step_run.len(), 1);
    }

    #[test]
    fn missing_user_folder_is_an_io_error() {
        let mut set = RuleSet::builtin().unwrap();
        let err = set.load_dir(Path::new("/no/such/dir/here")).unwrap_err();
        assert!(matches!(err, RuleError::Io { .. }));
    }
}

#[cfg(test)]
mod prefilter_tests {
    use super::*;

    /// Every text file under a folder (bounded), for comparing pre-filtered matching
    /// with plain matching.
    fn texts(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                texts(&path, out);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
    }

    #[test]
    fn prefilter_finds_exactly_what_the_patterns_find() {
        let rules = RuleSet::builtin().expect("builtin rules");
        let mut samples = Vec::new();
        texts(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
            &mut samples,
        );
        texts(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("detectors"),
            &mut samples,
        );
        // Case variants and patterns' own words, so literals are exercised both ways.
        samples.push("FROM PYTHON:3.11-SLIM\nTORCH==2.1.0\n  URL = s3://x\n".into());
        samples.push("if ACCURACY < MIN_ACCURACY:\n    sys.exit(1)\n".into());
        assert!(samples.len() > 50, "too few samples: {}", samples.len());
        let sets = rules
            .compiled()
            .content_sets
            .iter()
            .chain(rules.compiled().step_set.iter());
        let mut hits = 0;
        for set in sets {
            for text in &samples {
                let plain: Vec<usize> = (0..set.single.len())
                    .filter(|&pi| set.single[pi].is_match(text.as_bytes()))
                    .collect();
                hits += plain.len();
                assert_eq!(set.matches(text).0, plain, "family {}", set.family);
            }
        }
        assert!(hits > 0, "the samples should match some patterns");
        let compiled = rules.compiled();
        for text in &samples {
            let plain: Vec<(usize, usize)> = compiled
                .content_sets
                .iter()
                .enumerate()
                .flat_map(|(si, set)| {
                    (0..set.single.len())
                        .filter(|&pi| set.single[pi].is_match(text.as_bytes()))
                        .map(move |pi| (si, pi))
                })
                .collect();
            assert_eq!(compiled.content_matches(text, |_| true), plain);
        }
    }

    #[test]
    fn required_literals_cover_optional_and_case_insensitive_parts() {
        assert_eq!(
            required_literals(r"^\s*url\s*="),
            Some(vec![b"url".to_vec()])
        );
        assert_eq!(
            required_literals(r"(?i)\bfrom\s+(mlserver|ts\.torch)\b"),
            Some(vec![b"from".to_vec()])
        );
        assert_eq!(
            required_literals(r"\(\s*MLModel\s*\)"),
            Some(vec![b"MLModel".to_vec()])
        );
        // An optional part never yields a required literal.
        assert_eq!(required_literals(r"(abcdef)?x"), None);
        assert_eq!(required_literals(r"ab|cdef"), None);
    }
}

#[cfg(test)]
mod prefilter_stats {
    #[test]
    #[ignore = "diagnostic: prints which content patterns lack a pre-filter literal"]
    fn print_prefilter_coverage() {
        let rules = super::RuleSet::builtin().expect("builtin");
        for set in &rules.compiled().content_sets {
            println!(
                "{}: {} patterns, {} without literal",
                set.family,
                set.single.len(),
                set.prefilter.always.len()
            );
            for &pi in &set.prefilter.always {
                println!("    {}", set.single[pi].as_str());
            }
        }
        if let Some(set) = &rules.compiled().step_set {
            println!(
                "step_run: {} patterns, {} without literal",
                set.single.len(),
                set.prefilter.always.len()
            );
        }
    }
}
