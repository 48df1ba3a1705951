//! The rule engine: runs data rules over files and pipeline facts.
//!
//! One pass over the files: path globs (one [`globset::GlobSet`]), then for the
//! files some content or manifest rule wants, one [`regex::RegexSet`] per rule
//! family over the whole text, and a line scan (comments skipped) only for the
//! patterns that hit. Pipeline steps are matched on their own text, and on the file
//! parts they reach ([`super::reach::follow_step`]): "reached counts as run".

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::evidence::{Diagnostic, Location, Snapshot};
use crate::pipeline::{CiSystem, Job, JobGraph, Pipeline, TriggerKind, yaml};

pub mod lines;

use super::rules::{Rule, Scope};
use super::{Confidence, Evidence, JobPractices, Origin, PracticeFinding, RuleOutput, RuleSet};
use super::{qualifier, reach};
use lines::{Lang, code_lines, excerpt, notebook_code_lines};

/// Most evidence pieces kept per practice (the strongest first).
pub const MAX_EVIDENCE_PER_PRACTICE: usize = 20;
/// Most evidence pieces one rule keeps from one file.
const MAX_LINES_PER_FILE_AND_RULE: usize = 2;
/// Most files a single path rule reports (a repository with 10 000 `.dvc` files
/// needs only a few as evidence).
const MAX_FILES_PER_PATH_RULE: usize = 5;
/// Most evidence pieces one rule collects before ranking.
const MAX_HITS_PER_RULE: usize = 200;
/// How deep steps are followed into Makefiles and scripts.
const REACH_DEPTH: usize = 3;

/// Paths no rule ever counts: vendored code, virtualenvs, documentation sites and
/// patch files ("Where the line falls": prose and `.patch` files are not definitions).
pub fn globally_excluded(path: &str) -> bool {
    const SEGMENTS: &[&str] = &[
        "node_modules",
        ".git",
        "site-packages",
        ".venv",
        "venv",
        "vendor",
        "__pycache__",
        ".tox",
        ".nox",
        "docs",
        ".ipynb_checkpoints",
        "third_party",
        "3rdparty",
    ];
    let mut parts = path.split('/');
    let name = parts.next_back().unwrap_or(path);
    if parts.any(|seg| SEGMENTS.contains(&seg)) {
        return true;
    }
    if path == "docs/CODEOWNERS" {
        // GitHub reads CODEOWNERS from docs/ too.
        return false;
    }
    if path.starts_with("doc/") || path.starts_with("website/") {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    [".patch", ".diff", ".orig", ".rej"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// The path inside a cookiecutter/copier project folder (first segment templated
/// with `{{ … }}`), e.g. `{{cookiecutter.slug}}/.github/workflows/ci.yml` →
/// `.github/workflows/ci.yml`.
pub fn template_relative(path: &str) -> Option<&str> {
    let (first, rest) = path.split_once('/')?;
    (first.contains("{{") && first.contains("}}") && !rest.is_empty()).then_some(rest)
}

/// One use of a reached file part: which step reaches it, how, and which lines.
#[derive(Debug, Clone)]
struct ReachUse {
    pipeline: usize,
    job: usize,
    step: usize,
    lines: Option<(u32, u32)>,
    chain: Vec<Location>,
}

impl ReachUse {
    fn covers(&self, line: u32) -> bool {
        match self.lines {
            None => true,
            Some((a, b)) => line >= a && line <= b,
        }
    }
}

/// Files whose text is "run" when reached (so `step_run` patterns apply to them).
fn is_shell_like(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if matches!(
        name.as_str(),
        "makefile" | "gnumakefile" | "justfile" | "taskfile" | "tox.ini" | "noxfile.py"
    ) {
        return true;
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    matches!(
        ext,
        "sh" | "bash"
            | "zsh"
            | "mk"
            | "make"
            | "ps1"
            | "bat"
            | "cmd"
            | "yml"
            | "yaml"
            | "toml"
            | "cfg"
            | "ini"
    )
}

/// CI definitions of systems whose dialect is not parsed into jobs (Cloud Build,
/// Azure Pipelines, CircleCI, CodeBuild, Bitbucket, Travis, Drone): their lines are
/// still what a pipeline runs, so `step_run` patterns apply to them (with
/// `in_pipeline`, without job records or trigger qualifiers). Returns the system.
pub fn unparsed_ci_system(path: &str, text: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    if !(name.ends_with(".yml") || name.ends_with(".yaml")) || globally_excluded(path) {
        return None;
    }
    let has_line = |prefix: &str| text.lines().any(|l| l.trim_end() == prefix);
    if lower.starts_with(".circleci/") {
        return Some("CircleCI");
    }
    if name.starts_with("azure-pipelines")
        || lower.starts_with(".azure-pipelines/")
        || lower.starts_with(".azuredevops/")
        || ((has_line("steps:") || has_line("stages:") || has_line("jobs:"))
            && (text.contains("- task: ") || text.contains("vmImage:")))
    {
        return Some("Azure Pipelines");
    }
    if name.starts_with("cloudbuild")
        || (has_line("steps:")
            && (text.contains("gcr.io/cloud-builders/") || text.contains("waitFor:")))
    {
        return Some("Google Cloud Build");
    }
    if name.starts_with("buildspec") || (has_line("phases:") && text.contains("version: 0.2")) {
        return Some("AWS CodeBuild");
    }
    if matches!(
        lower.as_str(),
        "bitbucket-pipelines.yml"
            | ".travis.yml"
            | ".drone.yml"
            | ".woodpecker.yml"
            | "appveyor.yml"
    ) || lower.starts_with(".buildkite/")
    {
        return Some("other CI");
    }
    None
}

/// YAML quoting and list punctuation blanked, so `entrypoint: 'pytest'` reads as a command.
fn unquote_yaml_line(line: &str) -> String {
    line.chars()
        .map(|c| {
            if matches!(c, '\'' | '"' | '[' | ']' | ',') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Qualifiers every piece of evidence from a job carries.
fn job_qualifiers(pipeline: &Pipeline, job: &Job) -> BTreeSet<String> {
    let mut q = BTreeSet::new();
    q.insert(qualifier::IN_PIPELINE.to_string());
    let mut on_change = false;
    let mut scheduled = false;
    let mut automatic = false;
    for t in &pipeline.triggers {
        match t.kind {
            TriggerKind::Push | TriggerKind::PullRequest | TriggerKind::MergeQueue => {
                on_change = true;
                automatic = true;
            }
            TriggerKind::Schedule => {
                scheduled = true;
                automatic = true;
            }
            TriggerKind::Tag | TriggerKind::Upstream | TriggerKind::Api => automatic = true,
            _ => {}
        }
    }
    // GitLab runs a pipeline on every push unless `workflow:rules` say otherwise;
    // a GitLab pipeline with no declared trigger is therefore push-triggered.
    if pipeline.triggers.is_empty() && pipeline.system == CiSystem::GitlabCi && !pipeline.reusable {
        on_change = true;
        automatic = true;
    }
    if on_change {
        q.insert(qualifier::ON_CHANGE.to_string());
    }
    if scheduled {
        q.insert(qualifier::SCHEDULED.to_string());
    }
    if automatic {
        q.insert(qualifier::AUTOMATIC.to_string());
    }
    if let Some(env) = &job.environment {
        let prod_tier = env.tier.as_deref() == Some("production");
        let prod_name = !env.dynamic && env.name.to_ascii_lowercase().contains("prod");
        if prod_tier || prod_name {
            q.insert(qualifier::PRODUCTION.to_string());
        }
    }
    q
}

fn trigger_name(kind: &TriggerKind) -> &'static str {
    match kind {
        TriggerKind::Push => "push",
        TriggerKind::Tag => "tag",
        TriggerKind::PullRequest => "pull_request",
        TriggerKind::Schedule => "schedule",
        TriggerKind::Manual => "manual",
        TriggerKind::Upstream => "upstream",
        TriggerKind::Call => "call",
        TriggerKind::Api => "api",
        TriggerKind::MergeQueue => "merge_queue",
        TriggerKind::Release => "release",
        TriggerKind::Other(_) => "other",
    }
}

/// Whether a line of shell text cannot fail its step (`cmd || true`).
fn line_may_fail(line: &str) -> bool {
    let compact: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    compact.contains("|| true")
        || compact.contains("|| exit 0")
        || compact.contains("|| :")
        || compact.contains("|| echo")
        // Linters told to succeed whatever they find.
        || compact.contains("--exit-zero")
        || compact.contains("--exit-code 0")
        || compact.contains("--exit-code=0")
}

/// Shell commands that install or print rather than run a tool: `pip install pytest`
/// or `echo "run pytest"` does not run tests.
fn is_inert_command(segment: &str) -> bool {
    static INERT: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^(sudo\s+)?((pip3?|python3?\s+-m\s+pip|uv\s+pip|pipx|conda|mamba|micromamba|apt(-get)?|yum|dnf|apk|brew|npm|yarn|pnpm|gem|cargo)\s+(install|add|i)\b|(uv|poetry|pdm)\s+add\b|echo\b|printf\b|cat\s*<<)",
        )
        .ok()
    });
    let t = segment
        .trim_start()
        .trim_start_matches(['@', '-', '+'])
        .trim_start();
    INERT.as_ref().is_some_and(|re| re.is_match(t))
}

/// The commands of a shell line that actually run something (split on `&&`, `||`, `;`).
fn runnable_segments(line: &str) -> Vec<&str> {
    line.split("&&")
        .flat_map(|s| s.split("||"))
        .flat_map(|s| s.split(';'))
        // Makefile recipe prefixes (`@` silent, `-` ignore errors, `+`) are not part of the command.
        .map(|s| {
            s.trim_start()
                .trim_start_matches(['@', '-', '+'])
                .trim_start()
        })
        .filter(|s| !s.is_empty() && !is_inert_command(s))
        .collect()
}

/// Whether a `step_run` pattern of a rule runs on a shell line.
fn step_line_matches(rule: &Rule, k: usize, line: &str) -> bool {
    let Some(re) = rule.step_run.get(k) else {
        return false;
    };
    runnable_segments(line).iter().any(|seg| re.is_match(seg))
        && !rule.exclude_lines.iter().any(|x| x.is_match(line))
}

/// Whether a content pattern of a rule matches a code line.
fn content_line_matches(rule: &Rule, k: usize, line: &str) -> bool {
    rule.content.get(k).is_some_and(|re| re.is_match(line))
        && !rule.exclude_lines.iter().any(|x| x.is_match(line))
}

struct Engine<'a> {
    snapshot: &'a Snapshot,
    rules: &'a [Rule],
    evidence: BTreeMap<String, Vec<Evidence>>,
    hits_per_rule: Vec<usize>,
    pipeline_hits_per_rule: Vec<usize>,
    files_per_path_rule: Vec<usize>,
    jobs: JobPractices,
    job_quals: HashMap<(usize, usize), BTreeSet<String>>,
    /// Evidence of derived rules, kept until the second pass decides.
    pending: Vec<(usize, usize, usize, Evidence)>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Engine<'a> {
    fn pipelines(&self) -> &'a [Pipeline] {
        &self.snapshot.pipelines
    }

    fn job(&self, p: usize, j: usize) -> Option<&'a Job> {
        self.snapshot.pipelines.get(p).and_then(|pl| pl.jobs.get(j))
    }

    fn rule_excludes(rule: &Rule, path: &str) -> bool {
        rule.exclude.as_ref().is_some_and(|g| g.is_match(path))
    }

    /// Job filters of a rule (`job_name`, `trigger`).
    fn job_passes(&self, rule: &Rule, p: usize, j: usize) -> bool {
        let (Some(pipeline), Some(job)) = (self.pipelines().get(p), self.job(p, j)) else {
            return false;
        };
        if job.disabled {
            return false;
        }
        if !rule.job_name.is_empty() {
            let names = [
                Some(job.id.as_str()),
                job.name.as_deref(),
                job.stage.as_deref(),
            ];
            let named = names
                .iter()
                .flatten()
                .any(|n| rule.job_name.iter().any(|re| re.is_match(n)));
            if !named {
                return false;
            }
        }
        if !rule.trigger.is_empty() {
            let own = pipeline
                .triggers
                .iter()
                .any(|t| rule.trigger.iter().any(|k| k == trigger_name(&t.kind)));
            // A called pipeline runs on its caller's triggers (inherited qualifiers).
            let quals = self.job_quals.get(&(p, j));
            let inherited = rule.trigger.iter().any(|k| {
                let q = match k.as_str() {
                    "schedule" => qualifier::SCHEDULED,
                    "push" | "pull_request" | "merge_queue" => qualifier::ON_CHANGE,
                    _ => return false,
                };
                quals.is_some_and(|set| set.contains(q))
            });
            if !own && !inherited {
                return false;
            }
        }
        true
    }

    fn add(&mut self, ri: usize, ev: Evidence) {
        let Some(rule) = self.rules.get(ri) else {
            return;
        };
        // Pipeline evidence has its own budget so that many plain hits (a large
        // codebase) never crowd out the few a pipeline reaches.
        let counter = if ev.has(qualifier::IN_PIPELINE) {
            &mut self.pipeline_hits_per_rule
        } else {
            &mut self.hits_per_rule
        };
        let Some(count) = counter.get_mut(ri) else {
            return;
        };
        if *count >= MAX_HITS_PER_RULE {
            return;
        }
        *count += 1;
        self.evidence
            .entry(rule.practice.clone())
            .or_default()
            .push(ev);
    }

    fn new_evidence(rule: &Rule, location: Location, excerpt_text: String) -> Evidence {
        Evidence {
            rule: rule.id.clone(),
            origin: Origin::File { location },
            excerpt: excerpt_text,
            chain: Vec::new(),
            qualifiers: rule.qualifiers.iter().cloned().collect(),
            confidence: rule.confidence,
        }
    }

    /// Evidence seen in job `(p, j)`: adds the job's qualifiers, records the job's
    /// practice, and holds derived rules back for the second pass.
    fn add_job_evidence(&mut self, ri: usize, p: usize, j: usize, mut ev: Evidence) {
        let Some(rule) = self.rules.get(ri) else {
            return;
        };
        if !self.job_passes(rule, p, j) {
            return;
        }
        if let Some(q) = self.job_quals.get(&(p, j)) {
            ev.qualifiers.extend(q.iter().cloned());
        }
        if rule.is_derived() {
            self.pending.push((ri, p, j, ev));
            return;
        }
        self.record_job(p, j, &rule.practice, &ev);
        self.add(ri, ev);
    }

    fn record_job(&mut self, p: usize, j: usize, practice: &str, ev: &Evidence) {
        let location = match &ev.origin {
            Origin::File { location } => location.clone(),
            _ => return,
        };
        self.jobs
            .by_job
            .entry((p, j))
            .or_default()
            .entry(practice.to_string())
            .or_insert(location);
    }

    fn step_may_fail(&self, p: usize, j: usize, s: usize) -> bool {
        self.job(p, j)
            .is_some_and(|job| job.may_fail || job.steps.get(s).is_some_and(|step| step.may_fail))
    }

    /// A content or `step_run` hit at `path:line`: pipeline evidence for every step
    /// reaching that line, else plain repository evidence when the rule allows it.
    #[allow(clippy::too_many_arguments)]
    fn content_hit(
        &mut self,
        ri: usize,
        path: &str,
        line: u32,
        text: &str,
        uses: &[ReachUse],
        repo_evidence_allowed: bool,
    ) {
        let Some(rule) = self.rules.get(ri) else {
            return;
        };
        let mut counted = false;
        let mut jobs_seen = HashSet::new();
        for u in uses.iter().filter(|u| u.covers(line)) {
            if !jobs_seen.insert((u.pipeline, u.job)) {
                continue;
            }
            if rule.is_test_like()
                && (self.step_may_fail(u.pipeline, u.job, u.step) || line_may_fail(text))
            {
                continue;
            }
            let mut ev = Self::new_evidence(rule, Location::new(path, line), excerpt(text));
            ev.chain = u.chain.clone();
            self.add_job_evidence(ri, u.pipeline, u.job, ev);
            counted = true;
        }
        if !counted && repo_evidence_allowed && rule.scope == Scope::Any && !rule.is_derived() {
            let ev = Self::new_evidence(rule, Location::new(path, line), excerpt(text));
            self.add(ri, ev);
        }
    }
}

/// Run every rule over a snapshot.
pub fn run(snapshot: &Snapshot, graph: &JobGraph, rules: &RuleSet) -> RuleOutput {
    let rule_list = rules.rules();
    let compiled = rules.compiled();
    let mut engine = Engine {
        snapshot,
        rules: rule_list,
        evidence: BTreeMap::new(),
        hits_per_rule: vec![0; rule_list.len()],
        pipeline_hits_per_rule: vec![0; rule_list.len()],
        files_per_path_rule: vec![0; rule_list.len()],
        jobs: JobPractices::default(),
        job_quals: HashMap::new(),
        pending: Vec::new(),
        diagnostics: rules
            .notes()
            .iter()
            .map(|n| Diagnostic::info("detector-rule-replaced", n.clone(), None))
            .collect(),
    };

    // 1. What every step reaches, by path.
    let mut reached: HashMap<String, Vec<ReachUse>> = HashMap::new();
    for (p, pipeline) in snapshot.pipelines.iter().enumerate() {
        for (j, job) in pipeline.jobs.iter().enumerate() {
            engine
                .job_quals
                .insert((p, j), job_qualifiers(pipeline, job));
            if job.disabled {
                continue;
            }
            for (s, step) in job.steps.iter().enumerate() {
                for r in reach::follow_step(&snapshot.files, step, REACH_DEPTH) {
                    reached.entry(r.path).or_default().push(ReachUse {
                        pipeline: p,
                        job: j,
                        step: s,
                        lines: r.lines,
                        chain: r.chain,
                    });
                }
            }
        }
    }

    inherit_trigger_qualifiers(&mut engine, graph);

    // Azure Pipelines files (and the templates they expand) that the parser
    // modelled into jobs: their steps are matched per job above, with trigger
    // qualifiers, so their raw lines are not read again as an unparsed dialect.
    let parsed_azure_files: BTreeSet<&str> = snapshot
        .pipelines
        .iter()
        .filter(|p| p.system == CiSystem::AzurePipelines)
        .flat_map(|p| {
            std::iter::once(p.file.as_str()).chain(
                p.includes
                    .iter()
                    .filter(|i| i.target.resolved)
                    .filter_map(|i| i.target.path.as_deref()),
            )
        })
        .collect();

    // 2. One pass over the files. The content scan (the costly part) is pure and
    // runs on every core first; evidence is then added in path order.
    let files: Vec<&crate::evidence::RepoFile> = snapshot.files.iter().collect();
    let plans = plan_files(compiled, rule_list, &files, &reached);
    let mut glob_hits = Vec::new();
    let mut env_candidates: Vec<(usize, String)> = Vec::new();
    for (file, plan) in files.iter().zip(plans) {
        let path = file.path.as_str();
        if globally_excluded(path) {
            continue;
        }
        // Path rules: existence of a file.
        // Inside a cookiecutter/copier project folder (`{{cookiecutter.name}}/…`), the
        // template's files are judged as the generated project's ("a template
        // repository's product is its templates").
        let product_path = template_relative(path);
        compiled.path_globs.matches_into(path, &mut glob_hits);
        if let Some(alt) = product_path {
            let mut more = Vec::new();
            compiled.path_globs.matches_into(alt, &mut more);
            glob_hits.extend(more);
        }
        let mut seen_rules = BTreeSet::new();
        for &gi in &glob_hits {
            if let Some(&ri) = compiled.path_glob_rule.get(gi) {
                seen_rules.insert(ri);
            }
        }
        for ri in seen_rules {
            let Some(rule) = rule_list.get(ri) else {
                continue;
            };
            if Engine::rule_excludes(rule, path)
                || engine.files_per_path_rule[ri] >= MAX_FILES_PER_PATH_RULE
            {
                continue;
            }
            engine.files_per_path_rule[ri] += 1;
            let ev = Engine::new_evidence(rule, Location::file(path), path.to_string());
            engine.add(ri, ev);
        }

        let Some(text) = file.content.as_deref() else {
            continue;
        };
        let lang = Lang::of(path);
        if lang == Lang::Prose {
            continue;
        }
        let Some(FilePlan {
            applicable,
            content_hits,
        }) = plan
        else {
            continue;
        };
        for &ri in &applicable {
            if rule_list.get(ri).is_some_and(|r| r.env_variants) {
                env_candidates.push((ri, path.to_string()));
            }
        }
        let uses: &[ReachUse] = reached.get(path).map(Vec::as_slice).unwrap_or(&[]);
        if applicable.is_empty() && uses.is_empty() {
            continue;
        }
        let is_notebook = lang == Lang::Notebook;
        // Notebooks count only when a pipeline runs them (their code cells only).
        if is_notebook && uses.is_empty() {
            continue;
        }
        for (ri, line_no, code) in content_hits {
            engine.content_hit(ri, path, line_no, &code, uses, !is_notebook);
        }

        // `step_run` patterns in reached shell-like files (Makefile recipes, scripts, tox).
        if !uses.is_empty() && is_shell_like(path) && !is_notebook {
            if let Some(step_set) = &compiled.step_set {
                let matched: Vec<(usize, usize)> = step_set
                    .matches(text)
                    .iter()
                    .filter_map(|pi| step_set.owners.get(pi).copied())
                    .collect();
                if !matched.is_empty() {
                    let shell_lines = code_lines(text, Lang::Hash);
                    let mut hits: BTreeSet<(usize, u32)> = BTreeSet::new();
                    let mut found = Vec::new();
                    for (line_no, code) in &shell_lines {
                        for &(ri, k) in &matched {
                            let Some(rule) = rule_list.get(ri) else {
                                continue;
                            };
                            if step_line_matches(rule, k, code) && hits.insert((ri, *line_no)) {
                                found.push((ri, *line_no, code.clone()));
                            }
                        }
                    }
                    for (ri, line_no, code) in found {
                        engine.content_hit(ri, path, line_no, &code, uses, false);
                    }
                }
            }
        }

        // CI files of dialects we do not parse into jobs.
        let ci_system = unparsed_ci_system(path, text).or_else(|| {
            // A template's own workflows are not parsed (they are not at the root):
            // read their lines like an unparsed dialect.
            product_path.and_then(|alt| {
                if alt.starts_with(".github/workflows/") || alt == ".gitlab-ci.yml" {
                    Some("template")
                } else {
                    unparsed_ci_system(alt, text)
                }
            })
        });
        let ci_system = ci_system.filter(|_| !parsed_azure_files.contains(path));
        if let (Some(system), Some(step_set)) = (ci_system, &compiled.step_set) {
            unparsed_ci_file(&mut engine, step_set, path, text, system);
        }

        // Manifest rules.
        let manifest_rules: Vec<usize> = applicable
            .iter()
            .copied()
            .filter(|&ri| rule_list.get(ri).is_some_and(|r| r.manifest.is_some()))
            .collect();
        if !manifest_rules.is_empty() && !is_notebook {
            scan_manifests(&mut engine, path, text, &manifest_rules, uses);
        }
    }

    env_variant_pass(&mut engine, &env_candidates);

    // 3. Pipeline steps and jobs.
    pipeline_facts(&mut engine, compiled);

    // 4. Derived rules (job_has / pipeline_has).
    derived_pass(&mut engine);

    finish(engine)
}

/// Environment names as they appear in file and folder names, with a canonical form.
fn env_name(token: &str) -> Option<&'static str> {
    match token.to_ascii_lowercase().as_str() {
        "dev" | "develop" | "development" => Some("dev"),
        "staging" | "stage" | "stg" => Some("staging"),
        "test" | "testing" | "qa" | "uat" | "int" | "integration" => Some("test"),
        "preprod" | "pre-prod" | "preproduction" => Some("preprod"),
        "prod" | "production" | "prd" | "live" => Some("prod"),
        "local" => Some("local"),
        "sandbox" => Some("sandbox"),
        _ => None,
    }
}

/// A path with its environment token replaced: (key shared by the variants, env).
fn env_key(path: &str) -> Option<(String, &'static str)> {
    let mut out = String::with_capacity(path.len());
    let mut found = None;
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String, found: &mut Option<&'static str>| {
        if found.is_none()
            && let Some(env) = env_name(token)
        {
            *found = Some(env);
            out.push_str("{env}");
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in path.chars() {
        if matches!(c, '.' | '_' | '/' | '-') {
            flush(&mut token, &mut out, &mut found);
            out.push(c);
        } else {
            token.push(c);
        }
    }
    flush(&mut token, &mut out, &mut found);
    found.map(|env| (out, env))
}

/// Text with every environment word blanked, to compare variants beyond their names.
fn without_env_words(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && env_name(w).is_none())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `env_variants` rules: at least two environments of the same file or folder
/// whose contents differ by more than the environment's name.
fn env_variant_pass(engine: &mut Engine<'_>, candidates: &[(usize, String)]) {
    let mut groups: BTreeMap<(usize, String), Vec<(&'static str, &str)>> = BTreeMap::new();
    for (ri, path) in candidates {
        if let Some((key, env)) = env_key(path) {
            groups
                .entry((*ri, key))
                .or_default()
                .push((env, path.as_str()));
        }
    }
    let all_paths: HashSet<&str> = candidates.iter().map(|(_, p)| p.as_str()).collect();
    let mut reported: Vec<usize> = Vec::new();
    for ((ri, key), members) in groups {
        // `dev`/`test` next to `train` are dataset splits, not environments.
        let is_split = ["train", "val", "valid", "validation"]
            .iter()
            .any(|split| all_paths.contains(key.replacen("{env}", split, 1).as_str()));
        if is_split {
            continue;
        }
        let envs: BTreeSet<&str> = members.iter().map(|(e, _)| *e).collect();
        if envs.len() < 2 || reported.len() >= MAX_FILES_PER_PATH_RULE {
            continue;
        }
        let texts: BTreeSet<String> = members
            .iter()
            .filter_map(|(_, p)| engine.snapshot.files.text(p))
            .map(without_env_words)
            .collect();
        if texts.len() < 2 {
            continue;
        }
        let Some(rule) = engine.rules.get(ri) else {
            continue;
        };
        let shown: Vec<&str> = members.iter().map(|(_, p)| *p).take(3).collect();
        let ev = Engine::new_evidence(
            rule,
            Location::file(members.first().map(|(_, p)| *p).unwrap_or_default()),
            format!("per-environment variants: {}", shown.join(", ")),
        );
        reported.push(ri);
        engine.add(ri, ev);
    }
}

fn unparsed_ci_file(
    engine: &mut Engine<'_>,
    step_set: &super::rules::PatternSet,
    path: &str,
    text: &str,
    system: &str,
) {
    let in_pipeline: BTreeSet<String> = [qualifier::IN_PIPELINE.to_string()].into();
    engine
        .evidence
        .entry("ci.pipeline".to_string())
        .or_default()
        .push(Evidence {
            rule: "ci.pipeline.unparsed".into(),
            origin: Origin::File {
                location: Location::file(path),
            },
            excerpt: format!("{system} pipeline {path}"),
            chain: Vec::new(),
            qualifiers: BTreeSet::new(),
            confidence: Confidence::High,
        });
    // Cloud Build steps spread a command over `name`/`entrypoint`/`args`: rebuild it.
    let commands: Vec<(u32, String)> = if system == "Google Cloud Build" {
        cloud_build_commands(text)
    } else {
        Vec::new()
    };
    let lines: Vec<(u32, String)> = if commands.is_empty() {
        join_continuations(
            code_lines(text, Lang::Hash)
                .into_iter()
                .map(|(n, l)| (n, unquote_yaml_line(&l)))
                .collect(),
        )
    } else {
        commands
    };
    let normalised: String = lines
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let matched: Vec<(usize, usize)> = step_set
        .matches(&normalised)
        .iter()
        .filter_map(|pi| step_set.owners.get(pi).copied())
        .collect();
    if matched.is_empty() {
        return;
    }
    let rules = engine.rules;
    let mut done = HashSet::new();
    for (line_no, plain) in lines {
        // A step's title is not its command (`displayName: helm upgrade`).
        let key = plain
            .trim_start()
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or("")
            .trim();
        if matches!(
            key,
            "displayName" | "name" | "description" | "title" | "id" | "stage" | "job" | "label"
        ) {
            continue;
        }
        let code = plain.clone();
        for &(ri, k) in &matched {
            let Some(rule) = rules.get(ri) else { continue };
            // Job filters and derived conditions need parsed jobs.
            if !rule.job_name.is_empty() || !rule.trigger.is_empty() || rule.is_derived() {
                continue;
            }
            if rule.is_test_like() && line_may_fail(&plain) {
                continue;
            }
            if !done.contains(&(ri, line_no)) && step_line_matches(rule, k, &plain) {
                done.insert((ri, line_no));
                let mut ev =
                    Engine::new_evidence(rule, Location::new(path, line_no), excerpt(&code));
                ev.qualifiers.extend(in_pipeline.iter().cloned());
                engine.add(ri, ev);
            }
        }
    }
}

/// Shell continuations (`cmd \` then `  --opt x`) read as one command, reported at
/// the line where the command starts (bounded: at most 50 lines are joined).
fn join_continuations(lines: Vec<(u32, String)>) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::with_capacity(lines.len());
    let mut joined = 0usize;
    for (line_no, text) in lines {
        if let Some((_, last)) = out.last_mut()
            && last.trim_end().ends_with('\\')
            && joined < 50
        {
            let trimmed = last
                .trim_end()
                .trim_end_matches('\\')
                .trim_end()
                .to_string();
            *last = format!("{trimmed} {}", text.trim());
            joined += 1;
            continue;
        }
        joined = 0;
        out.push((line_no, text));
    }
    out
}

/// The commands of a Cloud Build config: (step line, `builder args…` or the script).
fn cloud_build_commands(text: &str) -> Vec<(u32, String)> {
    let Ok(root) = yaml::parse(text) else {
        return Vec::new();
    };
    let Some(steps) = root.get("steps").and_then(yaml::Node::as_seq) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for step in steps {
        if let Some(script) = step.get("script").and_then(yaml::Node::as_str) {
            out.extend(script.lines().map(|l| (step.line, l.to_string())));
            continue;
        }
        let program = match step.get("entrypoint").and_then(yaml::Node::as_str) {
            Some(entry) => entry.to_string(),
            None => {
                let image = step.get("name").and_then(yaml::Node::as_str).unwrap_or("");
                let last = image.rsplit('/').next().unwrap_or(image);
                last.split(':').next().unwrap_or(last).to_string()
            }
        };
        let args = step
            .get("args")
            .map(yaml::Node::string_list)
            .unwrap_or_default();
        // `bash -c "…"`: the script is the last argument.
        if matches!(program.as_str(), "bash" | "sh") {
            if let Some(script) = args.last() {
                out.extend(script.lines().map(|l| (step.line, l.to_string())));
            }
            continue;
        }
        out.push((step.line, format!("{program} {}", args.join(" "))));
    }
    out
}

/// Dotted field lookup; sequences on the way are searched element by element.
fn find_field<'n>(node: &'n yaml::Node, path: &[String], out: &mut Vec<&'n yaml::Node>) {
    if out.len() > 20 {
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        out.push(node);
        return;
    };
    match &node.value {
        yaml::Value::Seq(items) => {
            for item in items {
                find_field(item, path, out);
            }
        }
        yaml::Value::Map(_) => {
            if let Some(child) = node.get(first) {
                find_field(child, rest, out);
            }
        }
        _ => {}
    }
}

/// Split a multi-document YAML text on `---` lines: (first line number, text).
fn yaml_documents(text: &str) -> Vec<(u32, String)> {
    let mut docs = Vec::new();
    let mut start = 1u32;
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.starts_with("---") && line[3..].trim().is_empty() {
            docs.push((start, std::mem::take(&mut current)));
            start = n + 1;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    docs.push((start, current));
    docs.retain(|(_, d)| d.contains("kind"));
    docs
}

fn scan_manifests(
    engine: &mut Engine<'_>,
    path: &str,
    text: &str,
    rule_ids: &[usize],
    uses: &[ReachUse],
) {
    let candidates: Vec<usize> = rule_ids
        .iter()
        .copied()
        .filter(|&ri| {
            engine
                .rules
                .get(ri)
                .and_then(|r| r.manifest.as_ref())
                .is_some_and(|m| m.kind_line.is_match(text))
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    for (first_line, doc) in yaml_documents(text) {
        let offset = first_line.saturating_sub(1);
        let parsed = yaml::parse(&doc).ok();
        for &ri in &candidates {
            let Some(rule) = engine.rules.get(ri) else {
                continue;
            };
            let Some(m) = rule.manifest.as_ref() else {
                continue;
            };
            let mut hits: Vec<(u32, String)> = Vec::new();
            match &parsed {
                Some(root) => {
                    let kind_ok = root
                        .get("kind")
                        .and_then(yaml::Node::as_str)
                        .is_some_and(|k| m.kind.is_match(k));
                    if !kind_ok {
                        continue;
                    }
                    let mut found = Vec::new();
                    find_field(root, &m.field, &mut found);
                    for node in found {
                        let value_ok = match &m.value {
                            None => true,
                            Some(re) => node.scalar_text().is_some_and(|v| re.is_match(&v)),
                        };
                        if value_ok {
                            let line = if m.field.is_empty() {
                                root.get("kind").map_or(node.line, |k| k.line)
                            } else {
                                node.line
                            };
                            let line_no = line + offset;
                            let shown = doc
                                .lines()
                                .nth(line.saturating_sub(1) as usize)
                                .unwrap_or("")
                                .to_string();
                            hits.push((line_no, shown));
                            break;
                        }
                    }
                }
                None => {
                    // Templated YAML (Helm `{{ }}`) does not parse: fall back to lines.
                    let Some(kind_idx) = doc.lines().position(|l| m.kind_line.is_match(l)) else {
                        continue;
                    };
                    match m.field.last() {
                        None => hits.push((
                            offset + kind_idx as u32 + 1,
                            doc.lines().nth(kind_idx).unwrap_or("").to_string(),
                        )),
                        Some(last) => {
                            let key = format!("{last}:");
                            for (i, l) in doc.lines().enumerate() {
                                let t = l.trim_start().trim_start_matches("- ");
                                if let Some(rest) = t.strip_prefix(key.as_str()) {
                                    let value_ok =
                                        m.value.as_ref().is_none_or(|re| re.is_match(rest.trim()));
                                    if value_ok {
                                        hits.push((offset + i as u32 + 1, l.to_string()));
                                        break;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for (line_no, shown) in hits {
                engine.content_hit(ri, path, line_no, &shown, uses, true);
            }
        }
    }
}

fn pipeline_facts(engine: &mut Engine<'_>, compiled: &super::rules::Compiled) {
    let rules = engine.rules;
    let pipelines = engine.pipelines();
    // Every parsed pipeline is a pipeline defined where its CI system reads it.
    for pipeline in pipelines {
        let practice = "ci.pipeline";
        let mut quals: BTreeSet<String> = job_qualifiers(pipeline, &dummy_job(pipeline))
            .into_iter()
            .collect();
        quals.remove(qualifier::PRODUCTION);
        engine
            .evidence
            .entry(practice.to_string())
            .or_default()
            .push(Evidence {
                rule: "ci.pipeline.parsed".into(),
                origin: Origin::File {
                    location: pipeline.location.clone(),
                },
                excerpt: format!("{} pipeline {}", pipeline.system.label(), pipeline.id),
                chain: Vec::new(),
                qualifiers: quals,
                confidence: Confidence::High,
            });
    }
    let pipeline_rules: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.has_pipeline_matchers())
        .map(|(i, _)| i)
        .collect();
    // Pipeline-scoped content rules also read the step's own text (`python -c "…"`).
    let scoped_content_rules: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.scope == Scope::Pipeline && !r.content.is_empty())
        .map(|(i, _)| i)
        .collect();
    for (p, pipeline) in pipelines.iter().enumerate() {
        for (j, job) in pipeline.jobs.iter().enumerate() {
            if job.disabled {
                continue;
            }
            for step in &job.steps {
                // The step's own shell text.
                if let (Some(run), Some(step_set)) = (&step.run, &compiled.step_set) {
                    let matched: Vec<(usize, usize)> = step_set
                        .matches(run)
                        .iter()
                        .filter_map(|pi| step_set.owners.get(pi).copied())
                        .collect();
                    if !matched.is_empty() {
                        let mut done = HashSet::new();
                        for (_, code) in code_lines(run, Lang::Hash) {
                            for &(ri, k) in &matched {
                                let Some(rule) = rules.get(ri) else { continue };
                                if done.contains(&ri) || !step_line_matches(rule, k, &code) {
                                    continue;
                                }
                                if rule.is_test_like()
                                    && (job.may_fail || step.may_fail || line_may_fail(&code))
                                {
                                    continue;
                                }
                                done.insert(ri);
                                let ev = Engine::new_evidence(
                                    rule,
                                    step.location.clone(),
                                    excerpt(&code),
                                );
                                engine.add_job_evidence(ri, p, j, ev);
                            }
                        }
                    }
                }
                if let Some(run) = &step.run {
                    for &ri in &scoped_content_rules {
                        let Some(rule) = rules.get(ri) else { continue };
                        let hit = code_lines(run, Lang::Hash).into_iter().find(|(_, code)| {
                            (0..rule.content.len()).any(|k| content_line_matches(rule, k, code))
                        });
                        if let Some((_, code)) = hit {
                            let ev =
                                Engine::new_evidence(rule, step.location.clone(), excerpt(&code));
                            engine.add_job_evidence(ri, p, j, ev);
                        }
                    }
                }
                for &ri in &pipeline_rules {
                    let Some(rule) = rules.get(ri) else { continue };
                    if rule.is_test_like() && (job.may_fail || step.may_fail) {
                        continue;
                    }
                    let mut shown: Option<String> = None;
                    if let Some(u) = &step.uses
                        && rule.step_uses.iter().any(|re| re.is_match(&u.target))
                    {
                        shown = Some(u.target.clone());
                    }
                    if shown.is_none() && !rule.step_with.is_empty() {
                        for (k, v) in &step.with {
                            let kv = format!("{k}={v}");
                            if rule.step_with.iter().any(|re| re.is_match(&kv)) {
                                shown = Some(excerpt(&kv));
                                break;
                            }
                        }
                    }
                    if let Some(text) = shown {
                        let ev = Engine::new_evidence(rule, step.location.clone(), text);
                        engine.add_job_evidence(ri, p, j, ev);
                    }
                }
            }
            // Job-level facts.
            for &ri in &pipeline_rules {
                let Some(rule) = rules.get(ri) else { continue };
                if rule.is_test_like() && job.may_fail {
                    continue;
                }
                let mut facts: Vec<(Location, String)> = Vec::new();
                if !rule.job_image.is_empty() {
                    for image in job.image.iter().chain(&job.services) {
                        if rule.job_image.iter().any(|re| re.is_match(image)) {
                            facts.push((job.location.clone(), format!("image {image}")));
                            break;
                        }
                    }
                }
                if rule.job_environment
                    && let Some(env) = &job.environment
                {
                    facts.push((env.location.clone(), format!("environment: {}", env.name)));
                }
                if rule.job_manual && job.manual {
                    facts.push((
                        job.location.clone(),
                        format!("manual job {}", job.display_name()),
                    ));
                }
                if rule.job_cache && job.cache {
                    facts.push((
                        job.location.clone(),
                        format!("cache in job {}", job.display_name()),
                    ));
                }
                if let Some(kind) = job
                    .artifact_reports
                    .iter()
                    .find(|k| rule.job_artifact_reports.iter().any(|re| re.is_match(k)))
                {
                    facts.push((job.location.clone(), format!("artifacts: reports: {kind}")));
                }
                if let Some((location, text)) = facts.into_iter().next() {
                    let ev = Engine::new_evidence(rule, location, text);
                    engine.add_job_evidence(ri, p, j, ev);
                }
            }
        }
    }
}

/// A reusable workflow or child pipeline runs when its caller runs: its jobs take
/// the caller's trigger qualifiers (`on_change`, `scheduled`, `automatic`).
fn inherit_trigger_qualifiers(engine: &mut Engine<'_>, graph: &JobGraph) {
    const INHERITED: &[&str] = &[
        qualifier::ON_CHANGE,
        qualifier::SCHEDULED,
        qualifier::AUTOMATIC,
    ];
    // Two rounds cover a caller that is itself called.
    for _ in 0..2 {
        // Per called pipeline: qualifiers of its callers (a call edge reaches only the
        // called pipeline's entry jobs, but the whole pipeline runs).
        let mut additions: Vec<(usize, String)> = Vec::new();
        for (p, pipeline) in engine.pipelines().iter().enumerate() {
            for job in &pipeline.jobs {
                let Some(ix) = graph.node(p, &job.id) else {
                    continue;
                };
                for (pred, kind) in graph.predecessors(ix) {
                    if !matches!(
                        kind,
                        crate::pipeline::EdgeKind::Calls | crate::pipeline::EdgeKind::Triggers
                    ) {
                        continue;
                    }
                    let Some(caller) = graph.graph.node_weight(pred) else {
                        continue;
                    };
                    if caller.pipeline == p {
                        continue;
                    }
                    if let Some(quals) = engine.job_quals.get(&(caller.pipeline, caller.job)) {
                        for q in quals.iter().filter(|q| INHERITED.contains(&q.as_str())) {
                            additions.push((p, q.clone()));
                        }
                    }
                }
            }
        }
        for (p, q) in additions {
            let jobs = engine.pipelines().get(p).map_or(0, |pl| pl.jobs.len());
            for j in 0..jobs {
                engine
                    .job_quals
                    .entry((p, j))
                    .or_default()
                    .insert(q.clone());
            }
        }
    }
}

/// What the parallel pre-pass found in one file.
struct FilePlan {
    /// Content, manifest and env-variant rules whose globs take the file.
    applicable: BTreeSet<usize>,
    /// Content-rule hits: (rule, line, code line).
    content_hits: Vec<(usize, u32, String)>,
}

/// Content, manifest and env-variant rules whose globs match the file (also as a
/// template product path), minus the rules that exclude it.
fn applicable_rules(
    compiled: &super::rules::Compiled,
    rules: &[Rule],
    path: &str,
) -> BTreeSet<usize> {
    let mut hits = compiled.scan_globs.matches(path);
    if let Some(alt) = template_relative(path) {
        hits.extend(compiled.scan_globs.matches(alt));
    }
    hits.iter()
        .filter_map(|&gi| compiled.scan_glob_rule.get(gi).copied())
        .filter(|&ri| {
            rules
                .get(ri)
                .is_some_and(|r| !Engine::rule_excludes(r, path))
        })
        .collect()
}

/// The content-rule hits of one file: the family pre-filter sets over the whole
/// text, then the rules' own regexes on the code lines, for the patterns that hit.
fn scan_content(
    compiled: &super::rules::Compiled,
    rules: &[Rule],
    text: &str,
    lang: Lang,
    applicable: &BTreeSet<usize>,
) -> Vec<(usize, u32, String)> {
    let is_notebook = lang == Lang::Notebook;
    let notebook_lines = is_notebook.then(|| notebook_code_lines(text));
    let notebook_text;
    let scan_text: &str = match &notebook_lines {
        Some(lines) => {
            notebook_text = lines
                .iter()
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            &notebook_text
        }
        None => text,
    };
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    let sets_wanted =
        |set: &super::rules::PatternSet| set.rules.iter().any(|r| applicable.contains(r));
    for (si, pi) in compiled.content_matches(scan_text, sets_wanted) {
        if let Some(&(ri, k)) = compiled
            .content_sets
            .get(si)
            .and_then(|set| set.owners.get(pi))
            && applicable.contains(&ri)
        {
            wanted.push((ri, k));
        }
    }
    let mut found: Vec<(usize, u32, String)> = Vec::new();
    if wanted.is_empty() {
        return found;
    }
    let lines = match notebook_lines {
        Some(lines) => lines,
        None => code_lines(text, lang),
    };
    let mut hits: BTreeSet<(usize, u32)> = BTreeSet::new();
    for (line_no, code) in &lines {
        for &(ri, k) in &wanted {
            let Some(rule) = rules.get(ri) else {
                continue;
            };
            if content_line_matches(rule, k, code) && hits.insert((ri, *line_no)) {
                found.push((ri, *line_no, code.clone()));
            }
        }
    }
    // `file_requires`: the hit counts only when the same file also shows the
    // companion pattern on a code line (checked once per rule that hit).
    let mut companion: HashMap<usize, bool> = HashMap::new();
    found.retain(|(ri, _, _)| {
        *companion.entry(*ri).or_insert_with(|| {
            rules.get(*ri).is_none_or(|rule| {
                rule.file_requires.is_empty()
                    || lines
                        .iter()
                        .any(|(_, code)| rule.file_requires.iter().any(|re| re.is_match(code)))
            })
        })
    });
    found
}

/// The pre-pass over every file, split across the available cores. `None` for a
/// file no content-reading rule looks at (excluded, unread, prose, or a notebook
/// no pipeline runs).
fn plan_files(
    compiled: &super::rules::Compiled,
    rules: &[Rule],
    files: &[&crate::evidence::RepoFile],
    reached: &HashMap<String, Vec<ReachUse>>,
) -> Vec<Option<FilePlan>> {
    let plan_one = |file: &&crate::evidence::RepoFile| -> Option<FilePlan> {
        let path = file.path.as_str();
        if globally_excluded(path) {
            return None;
        }
        let text = file.content.as_deref()?;
        let lang = Lang::of(path);
        if lang == Lang::Prose || (lang == Lang::Notebook && !reached.contains_key(path)) {
            return None;
        }
        let applicable = applicable_rules(compiled, rules, path);
        let content_hits = scan_content(compiled, rules, text, lang, &applicable);
        Some(FilePlan {
            applicable,
            content_hits,
        })
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    if threads == 1 || files.len() < 256 {
        return files.iter().map(plan_one).collect();
    }
    let chunk = files.len().div_ceil(threads);
    let mut out: Vec<Option<FilePlan>> = Vec::with_capacity(files.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(plan_one).collect::<Vec<_>>()))
            .collect();
        for (handle, part) in handles.into_iter().zip(files.chunks(chunk)) {
            match handle.join() {
                Ok(plans) => out.extend(plans),
                // A panicking worker is a bug; scan its files again on this thread.
                Err(_) => out.extend(part.iter().map(plan_one)),
            }
        }
    });
    out
}

/// A stand-in job to compute pipeline-wide qualifiers.
fn dummy_job(pipeline: &Pipeline) -> Job {
    Job::new(String::new(), pipeline.location.clone())
}

fn derived_pass(engine: &mut Engine<'_>) {
    let rules = engine.rules;
    let job_has = |engine: &Engine<'_>, p: usize, j: usize, list: &[String]| {
        engine
            .jobs
            .by_job
            .get(&(p, j))
            .is_some_and(|m| list.iter().any(|x| m.contains_key(x)))
    };
    let pipeline_has = |engine: &Engine<'_>, p: usize, list: &[String]| {
        engine
            .jobs
            .by_job
            .iter()
            .any(|((pp, _), m)| *pp == p && list.iter().any(|x| m.contains_key(x)))
    };
    let condition = |engine: &Engine<'_>, rule: &Rule, p: usize, j: usize| {
        (rule.job_has.is_empty() || job_has(engine, p, j, &rule.job_has))
            && (rule.pipeline_has.is_empty() || pipeline_has(engine, p, &rule.pipeline_has))
    };
    // Held-back evidence of derived rules with their own matchers.
    let pending = std::mem::take(&mut engine.pending);
    for (ri, p, j, ev) in pending {
        let Some(rule) = rules.get(ri) else { continue };
        if condition(engine, rule, p, j) {
            engine.record_job(p, j, &rule.practice, &ev);
            engine.add(ri, ev);
        }
    }
    // Derived rules without matchers: the job itself is the evidence.
    for (ri, rule) in rules.iter().enumerate() {
        if !rule.is_derived()
            || rule.has_pipeline_matchers()
            || !rule.files.is_empty()
            || rule.manifest.is_some()
        {
            continue;
        }
        for (p, pipeline) in engine.pipelines().iter().enumerate() {
            for (j, job) in pipeline.jobs.iter().enumerate() {
                if !engine.job_passes(rule, p, j) || !condition(engine, rule, p, j) {
                    continue;
                }
                let basis = rule.job_has.iter().chain(&rule.pipeline_has).find_map(|x| {
                    engine
                        .jobs
                        .by_job
                        .get(&(p, j))
                        .and_then(|m| m.get(x))
                        .map(|loc| (x.clone(), loc.clone()))
                });
                let (location, text) = match basis {
                    Some((practice, loc)) => {
                        (loc, format!("job {} ({practice})", job.display_name()))
                    }
                    None => (job.location.clone(), format!("job {}", job.display_name())),
                };
                let mut ev = Engine::new_evidence(rule, location, text);
                if let Some(q) = engine.job_quals.get(&(p, j)) {
                    ev.qualifiers.extend(q.iter().cloned());
                }
                engine.record_job(p, j, &rule.practice, &ev);
                engine.add(ri, ev);
            }
        }
    }
}

fn location_of(ev: &Evidence) -> Option<&Location> {
    match &ev.origin {
        Origin::File { location } => Some(location),
        Origin::Attested { location, .. } => Some(location),
        Origin::Api { .. } => None,
    }
}

/// De-duplicate, rank (pipeline and qualified evidence first, then confidence,
/// then place) and cap each practice's evidence.
fn finish(engine: Engine<'_>) -> RuleOutput {
    let mut findings = Vec::new();
    for (practice, list) in engine.evidence {
        let mut merged: Vec<Evidence> = Vec::new();
        let mut index: HashMap<(String, Option<Location>, Vec<Location>), usize> = HashMap::new();
        for ev in list {
            let key = (ev.rule.clone(), location_of(&ev).cloned(), ev.chain.clone());
            match index.get(&key) {
                Some(&i) => {
                    if let Some(existing) = merged.get_mut(i) {
                        existing.qualifiers.extend(ev.qualifiers);
                    }
                }
                None => {
                    index.insert(key, merged.len());
                    merged.push(ev);
                }
            }
        }
        // Same place, reached by several steps: keep one piece per (rule, place)
        // unless the chains add qualifiers.
        merged.sort_by(|a, b| {
            b.qualifiers
                .len()
                .cmp(&a.qualifiers.len())
                .then(b.confidence.cmp(&a.confidence))
                .then_with(|| location_of(a).cmp(&location_of(b)))
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.chain.cmp(&b.chain))
        });
        let mut seen_places = HashSet::new();
        merged.retain(|ev| {
            seen_places.insert((
                ev.rule.clone(),
                location_of(ev).cloned(),
                ev.qualifiers.clone(),
            ))
        });
        // Variety over repetition: at most a few lines of one file per rule (five
        // imports of one module say no more than one).
        let mut per_file: HashMap<(String, String), usize> = HashMap::new();
        merged.retain(|ev| {
            let path = location_of(ev).map(|l| l.path.clone()).unwrap_or_default();
            let n = per_file.entry((ev.rule.clone(), path)).or_insert(0);
            *n += 1;
            *n <= MAX_LINES_PER_FILE_AND_RULE
        });
        merged.truncate(MAX_EVIDENCE_PER_PRACTICE);
        if !merged.is_empty() {
            findings.push(PracticeFinding {
                practice,
                evidence: merged,
            });
        }
    }
    findings.sort_by(|a, b| a.practice.cmp(&b.practice));
    RuleOutput {
        findings,
        jobs: engine.jobs,
        diagnostics: engine.diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_exclusions() {
        assert!(globally_excluded("docs/ci/workflow.yml"));
        assert!(globally_excluded("site/docs/x.yaml"));
        assert!(globally_excluded("fix.patch"));
        assert!(globally_excluded("a/node_modules/b.js"));
        assert!(!globally_excluded(".github/workflows/ci.yml"));
        assert!(!globally_excluded("src/docsgen/x.py"));
    }

    #[test]
    fn unparsed_ci_dialects() {
        let gha =
            "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n";
        assert_eq!(unparsed_ci_system(".github/workflows/ci.yml", gha), None);
        let k8s = "apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n";
        assert_eq!(unparsed_ci_system("k8s/pod.yaml", k8s), None);
        let cb = "steps:\n- name: gcr.io/cloud-builders/docker\n  args: [build, .]\n";
        assert_eq!(
            unparsed_ci_system("build/ci.yaml", cb),
            Some("Google Cloud Build")
        );
        let az = "trigger:\n- main\npool:\n  vmImage: ubuntu-latest\nsteps:\n- script: pytest\n";
        assert_eq!(
            unparsed_ci_system("ci/pipeline.yml", az),
            Some("Azure Pipelines")
        );
        assert_eq!(unparsed_ci_system("docs/cloudbuild.yaml", cb), None);
        let commands = cloud_build_commands(cb);
        assert_eq!(commands, [(2, "docker build .".to_string())]);
    }

    #[test]
    fn template_folders() {
        assert_eq!(
            template_relative("{{cookiecutter.slug}}/.github/workflows/ci.yml"),
            Some(".github/workflows/ci.yml")
        );
        assert_eq!(template_relative("src/{{x}}/a.py"), None);
        assert_eq!(template_relative("a.py"), None);
    }

    #[test]
    fn yaml_documents_split_and_number() {
        let docs = yaml_documents("kind: A\n---\nkind: B\nx: 1\n--- \nfoo: 1\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].0, 1);
        assert_eq!(docs[1].0, 3);
    }

    #[test]
    fn continuations_join_into_one_command() {
        let got = join_continuations(vec![
            (3, "python test/test.py \\".into()),
            (4, "  --results-output r.json".into()),
            (5, "cat r.json".into()),
        ]);
        assert_eq!(
            got,
            vec![
                (3, "python test/test.py --results-output r.json".to_string()),
                (5, "cat r.json".to_string())
            ]
        );
    }

    #[test]
    fn may_fail_lines() {
        assert!(line_may_fail("pytest tests ||  true"));
        assert!(!line_may_fail("pytest tests"));
        assert!(line_may_fail("flake8 src --exit-zero"));
    }

    #[test]
    fn inert_commands_do_not_run_tools() {
        assert!(runnable_segments("pip install pytest ruff").is_empty());
        assert!(runnable_segments("echo 'pytest'").is_empty());
        assert_eq!(
            runnable_segments("pip install -e . && pytest -q"),
            ["pytest -q"]
        );
        assert_eq!(runnable_segments("\t@pytest tests"), ["pytest tests"]);
        assert_eq!(
            runnable_segments("poetry run pytest"),
            ["poetry run pytest"]
        );
    }

    #[test]
    fn env_keys() {
        assert_eq!(
            env_key("config/prod.yaml"),
            Some(("config/{env}.yaml".to_string(), "prod"))
        );
        assert_eq!(
            env_key("deploy/overlays/staging/kustomization.yaml"),
            Some((
                "deploy/overlays/{env}/kustomization.yaml".to_string(),
                "staging"
            ))
        );
        assert_eq!(env_key("tests/test_x.yaml").map(|(_, e)| e), Some("test"));
        assert_eq!(env_key("conf/model/resnet.yaml"), None);
        assert_eq!(
            without_env_words("url: prod.example.com"),
            without_env_words("url: dev.example.com")
        );
    }
}
