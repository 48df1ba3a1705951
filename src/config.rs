//! `.mlops-maturity.toml`: the scanned repository's own settings.
//!
//! ```toml
//! exclude = ["vendor/**", "third_party/**"]      # more paths to leave out
//! detectors = ["tools/mlops-rules"]               # extra rule folders, relative to the repo
//! production_environments = ["prod*", "live"]     # which environment names are production
//!
//! [[project]]                                     # monorepo: assess each project separately
//! name = "ranker"
//! path = "services/ranker"
//!
//! [[attest]]                                      # a practice run elsewhere, declared by the owners
//! practice = "monitor.model"
//! url = "https://wiki.example.com/ranker/monitoring"
//! reason = "Drift monitoring runs in the platform team's Airflow"
//! sub_items = ["2.2.4"]                           # optional: only for these sub-items
//! ```
//!
//! Unknown keys are refused; every error names the file and line.

use std::collections::BTreeMap;
use std::path::Path;

use globset::Glob;
use serde::Deserialize;

use crate::assess::practices;
use crate::detect::{Confidence, Detection, Evidence, Origin, PracticeFinding};
use crate::evidence::{Location, Snapshot};
use crate::pipeline::Pipeline;
use crate::standard;

/// The file name looked for at the root of a scanned repository.
pub const FILE_NAME: &str = ".mlops-maturity.toml";

/// Rule id of evidence made from an attestation.
pub const ATTEST_RULE: &str = "attest";

/// The settings of one scan. `Default` = no configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The file the settings came from, as shown in reports; `None` = defaults.
    pub file: Option<String>,
    pub exclude: Vec<String>,
    pub projects: Vec<Project>,
    /// Extra detector rule folders, relative to the repository root.
    pub detectors: Vec<String>,
    pub attestations: Vec<Attestation>,
    /// Glob patterns of environment names that are production (e.g. `prod*`).
    pub production_environments: Vec<String>,
    /// `[mlflow]`: the model registry that belongs to this repository.
    pub mlflow: Option<MlflowConfig>,
}

/// `[mlflow]` in the configuration: which MLflow-compatible registry to read and
/// which of its registered models belong to the repository. Credentials never go
/// here: they come from `MLFLOW_TRACKING_TOKEN` / `MLFLOW_TRACKING_USERNAME` + `_PASSWORD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MlflowConfig {
    pub uri: Option<String>,
    pub models: Vec<String>,
    pub model_pattern: Option<String>,
}

/// One project of a monorepo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub name: String,
    /// Repository-relative directory, `/`-separated, no trailing slash.
    pub path: String,
}

/// A practice declared by the repository's owners, with a link to where it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub practice: String,
    pub url: String,
    pub reason: String,
    /// Limits the attestation to these sub-items; `None` = wherever the practice counts.
    pub sub_items: Option<Vec<String>>,
    /// Where the `[[attest]]` entry is written.
    pub location: Location,
}

/// A configuration that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", location)]
pub struct ConfigError {
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    exclude: Vec<toml::Spanned<String>>,
    #[serde(default)]
    project: Vec<toml::Spanned<RawProject>>,
    #[serde(default)]
    detectors: Vec<toml::Spanned<String>>,
    #[serde(default)]
    attest: Vec<toml::Spanned<RawAttest>>,
    #[serde(default)]
    production_environments: Vec<toml::Spanned<String>>,
    #[serde(default)]
    mlflow: Option<toml::Spanned<RawMlflow>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMlflow {
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    models: Vec<String>,
    #[serde(default)]
    model_pattern: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: String,
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttest {
    practice: String,
    url: String,
    reason: String,
    #[serde(default)]
    sub_items: Option<Vec<String>>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text
        .as_bytes()
        .get(..end)
        .map_or(0, |b| memchr::memchr_iter(b'\n', b).count());
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// A relative path inside the repository: no absolute path, no `..`.
fn clean_relative(path: &str) -> Option<String> {
    let p = path.trim().trim_end_matches('/').replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p).to_string();
    if p.is_empty() || p.starts_with('/') || p.contains(':') || p.split('/').any(|c| c == "..") {
        return None;
    }
    Some(p)
}

impl Config {
    /// Read and check a configuration file; `shown_as` names it in errors and reports.
    pub fn load(path: &Path, shown_as: &str) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            location: Location::file(shown_as),
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, shown_as)
    }

    /// Parse and check configuration text.
    pub fn parse(text: &str, shown_as: &str) -> Result<Config, ConfigError> {
        let at = |offset: usize, message: String| ConfigError {
            location: Location::new(shown_as, line_of(text, offset)),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim().to_string())
        })?;
        let mut config = Config {
            file: Some(shown_as.to_string()),
            ..Config::default()
        };
        for g in &raw.exclude {
            Glob::new(g.get_ref())
                .map_err(|e| at(g.span().start, format!("invalid exclude glob: {e}")))?;
            config.exclude.push(g.get_ref().clone());
        }
        for g in &raw.production_environments {
            Glob::new(g.get_ref()).map_err(|e| {
                at(
                    g.span().start,
                    format!("invalid production_environments pattern: {e}"),
                )
            })?;
            config.production_environments.push(g.get_ref().clone());
        }
        for d in &raw.detectors {
            let dir = clean_relative(d.get_ref()).ok_or_else(|| {
                at(
                    d.span().start,
                    format!(
                        "detectors: `{}` must be a folder inside the repository",
                        d.get_ref()
                    ),
                )
            })?;
            config.detectors.push(dir);
        }
        for p in &raw.project {
            let start = p.span().start;
            let inner = p.get_ref();
            let path = clean_relative(&inner.path).ok_or_else(|| {
                at(
                    start,
                    format!(
                        "project `{}`: path `{}` must be a folder inside the repository",
                        inner.name, inner.path
                    ),
                )
            })?;
            if inner.name.trim().is_empty() {
                return Err(at(start, "project: name must not be empty".into()));
            }
            if config.projects.iter().any(|q| q.name == inner.name) {
                return Err(at(
                    start,
                    format!("project `{}` is declared twice", inner.name),
                ));
            }
            config.projects.push(Project {
                name: inner.name.clone(),
                path,
            });
        }
        if let Some(m) = &raw.mlflow {
            let inner = m.get_ref();
            if let Some(pattern) = &inner.model_pattern {
                regex::Regex::new(pattern).map_err(|e| {
                    at(
                        m.span().start,
                        format!("mlflow.model_pattern: invalid regex: {e}"),
                    )
                })?;
            }
            if inner.uri.as_deref().is_some_and(|u| u.contains('@')) {
                return Err(at(
                    m.span().start,
                    "mlflow.uri: do not put credentials in the configuration; use MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/_PASSWORD".into(),
                ));
            }
            config.mlflow = Some(MlflowConfig {
                uri: inner.uri.clone(),
                models: inner.models.clone(),
                model_pattern: inner.model_pattern.clone(),
            });
        }
        for a in &raw.attest {
            let start = a.span().start;
            let inner = a.get_ref();
            if practices::practice(&inner.practice).is_none() {
                return Err(at(
                    start,
                    format!(
                        "attest: unknown practice `{}` (see `mlops-maturity explain <practice>`)",
                        inner.practice
                    ),
                ));
            }
            if inner.url.trim().is_empty() || inner.reason.trim().is_empty() {
                return Err(at(
                    start,
                    format!(
                        "attest `{}`: url and reason must not be empty",
                        inner.practice
                    ),
                ));
            }
            if let Some(bad) = inner
                .sub_items
                .iter()
                .flatten()
                .find(|s| standard::sub_item(s).is_none())
            {
                return Err(at(
                    start,
                    format!("attest `{}`: unknown sub-item `{bad}`", inner.practice),
                ));
            }
            config.attestations.push(Attestation {
                practice: inner.practice.clone(),
                url: inner.url.trim().to_string(),
                reason: inner.reason.trim().to_string(),
                sub_items: inner.sub_items.clone(),
                location: Location::new(shown_as, line_of(text, start)),
            });
        }
        Ok(config)
    }

    /// The attestations as findings, one per practice, for [`Config::add_attestations`].
    pub fn attestation_findings(&self) -> Vec<PracticeFinding> {
        let mut by_practice: BTreeMap<&str, Vec<Evidence>> = BTreeMap::new();
        for a in &self.attestations {
            by_practice.entry(&a.practice).or_default().push(Evidence {
                rule: ATTEST_RULE.to_string(),
                origin: Origin::Attested {
                    url: a.url.clone(),
                    reason: a.reason.clone(),
                    location: a.location.clone(),
                },
                excerpt: a.reason.clone(),
                chain: Vec::new(),
                qualifiers: Default::default(),
                confidence: Confidence::High,
            });
        }
        by_practice
            .into_iter()
            .map(|(practice, evidence)| PracticeFinding {
                practice: practice.to_string(),
                evidence,
            })
            .collect()
    }

    /// Merge the attestations into a detection, keeping findings sorted by practice.
    pub fn add_attestations(&self, detection: &mut Detection) {
        for finding in self.attestation_findings() {
            match detection
                .findings
                .iter_mut()
                .find(|f| f.practice == finding.practice)
            {
                Some(existing) => existing.evidence.extend(finding.evidence),
                None => detection.findings.push(finding),
            }
        }
        detection
            .findings
            .sort_by(|a, b| a.practice.cmp(&b.practice));
    }

    /// Is this environment name production by the configured patterns? `None` when no
    /// pattern is configured (detectors then use their own default).
    pub fn is_production_environment(&self, name: &str) -> Option<bool> {
        if self.production_environments.is_empty() {
            return None;
        }
        Some(
            self.production_environments
                .iter()
                .any(|p| Glob::new(p).is_ok_and(|g| g.compile_matcher().is_match(name))),
        )
    }
}

impl Config {
    /// Apply `production_environments` to a detection: evidence located in a pipeline job
    /// (directly, or through the first link of its chain) that deploys to a named
    /// environment gets the `production` qualifier when the name matches a pattern and
    /// loses it otherwise. Without patterns the detectors' own judgement stands.
    pub fn apply_production_environments(&self, detection: &mut Detection, pipelines: &[Pipeline]) {
        if self.production_environments.is_empty() {
            return;
        }
        // (file, first line) of every job, with its fixed environment name when it has one.
        let mut jobs: Vec<(&str, u32, Option<&str>)> = pipelines
            .iter()
            .flat_map(|p| &p.jobs)
            .map(|j| {
                let env = j
                    .environment
                    .as_ref()
                    .filter(|e| !e.dynamic)
                    .map(|e| e.name.as_str());
                (j.location.path.as_str(), j.location.line, env)
            })
            .collect();
        jobs.sort_unstable();
        let job_env = |loc: &Location| -> Option<&str> {
            jobs.iter()
                .rfind(|(path, line, _)| *path == loc.path && *line <= loc.line)
                .and_then(|(_, _, env)| *env)
        };
        for finding in &mut detection.findings {
            for ev in &mut finding.evidence {
                let Origin::File { location } = &ev.origin else {
                    continue;
                };
                let env = job_env(location).or_else(|| ev.chain.first().and_then(&job_env));
                let Some(env) = env else { continue };
                if self.is_production_environment(env) == Some(true) {
                    ev.qualifiers
                        .insert(crate::detect::qualifier::PRODUCTION.to_string());
                } else {
                    ev.qualifiers.remove(crate::detect::qualifier::PRODUCTION);
                }
            }
        }
    }
}

impl Project {
    /// The part of a snapshot this project is assessed on: files under its folder plus
    /// shared files outside every declared project (root CI, Makefile, dependabot …);
    /// pipelines defined under its folder plus pipelines defined outside every project
    /// (a root `.github/workflows` applies to all projects).
    pub fn scope(&self, snapshot: &Snapshot, all: &[Project]) -> Snapshot {
        let in_dir = |path: &str, dir: &str| {
            path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
        };
        let belongs =
            |path: &str| in_dir(path, &self.path) || !all.iter().any(|p| in_dir(path, &p.path));
        let files: Vec<_> = snapshot
            .files
            .iter()
            .filter(|f| belongs(&f.path))
            .cloned()
            .collect();
        let mut scoped = Snapshot::new(snapshot.source.clone(), files.into());
        scoped.pipelines = snapshot
            .pipelines
            .iter()
            .filter(|p| belongs(&p.file))
            .cloned()
            .collect();
        scoped.git = snapshot.git.clone();
        scoped.api = snapshot.api.clone();
        scoped.stats = snapshot.stats.clone();
        scoped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{FileSet, RepoFile, Source};

    const FULL: &str = r#"
exclude = ["vendor/**"]
detectors = ["./rules"]
production_environments = ["prod*"]

[[project]]
name = "a"
path = "svc/a/"

[[project]]
name = "b"
path = "svc/b"

[[attest]]
practice = "monitor.model"
url = "https://wiki/x"
reason = "runs in Airflow"
sub_items = ["2.2.4"]
"#;

    #[test]
    fn parses_every_key() {
        let c = Config::parse(FULL, ".mlops-maturity.toml").unwrap();
        assert_eq!(c.exclude, ["vendor/**"]);
        assert_eq!(c.detectors, ["rules"]);
        assert_eq!(c.projects[0].path, "svc/a");
        assert_eq!(c.projects.len(), 2);
        let a = &c.attestations[0];
        assert_eq!(a.location, Location::new(".mlops-maturity.toml", 14));
        assert_eq!(a.sub_items.as_deref(), Some(&["2.2.4".to_string()][..]));
        assert_eq!(c.is_production_environment("production"), Some(true));
        assert_eq!(c.is_production_environment("staging"), Some(false));
        assert_eq!(Config::default().is_production_environment("prod"), None);
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Config::parse("exclude = []\nbogus = 1\n", "cfg.toml").unwrap_err();
        assert_eq!(e.location, Location::new("cfg.toml", 2));
        assert!(e.to_string().starts_with("cfg.toml:2: "), "{e}");
        assert!(e.message.contains("bogus"), "{e}");

        let e = Config::parse(
            "\n[[attest]]\npractice = \"no.such\"\nurl = \"u\"\nreason = \"r\"\n",
            "c",
        )
        .unwrap_err();
        assert_eq!(e.location.line, 2);
        assert!(e.message.contains("no.such"));

        let e = Config::parse("[[project]]\nname = \"x\"\npath = \"../up\"\n", "c").unwrap_err();
        assert!(e.message.contains("inside the repository"), "{e}");

        let e = Config::parse("[[attest]]\npractice = \"ci.tests\"\nurl = \"u\"\nreason = \"r\"\nsub_items = [\"9.9\"]\n", "c")
            .unwrap_err();
        assert!(e.message.contains("9.9"));
        assert!(Config::parse("exclude = [\"[\"]", "c").is_err());
        assert!(Config::parse("exclude = \"x\"", "c").is_err());
    }

    #[test]
    fn attestations_merge_into_a_detection() {
        let c = Config::parse(FULL, "cfg").unwrap();
        let mut d = Detection::default();
        d.findings.push(PracticeFinding {
            practice: "monitor.model".into(),
            evidence: vec![],
        });
        d.findings.push(PracticeFinding {
            practice: "ci.tests".into(),
            evidence: vec![],
        });
        c.add_attestations(&mut d);
        assert_eq!(d.findings.len(), 2);
        assert_eq!(d.findings[0].practice, "ci.tests");
        let ev = &d.findings[1].evidence[0];
        assert!(ev.is_attested());
        assert_eq!(ev.rule, ATTEST_RULE);
    }

    #[test]
    fn production_environments_set_the_qualifier() {
        use crate::pipeline::{CiSystem, EnvironmentRef, Job};
        let job = |id: &str, line: u32, env: &str| Job {
            environment: Some(EnvironmentRef {
                name: env.into(),
                dynamic: false,
                url: None,
                action: None,
                tier: None,
                location: Location::new("ci.yml", line + 1),
            }),
            ..Job::new(id, Location::new("ci.yml", line))
        };
        let pipeline = Pipeline {
            id: "ci.yml".into(),
            system: CiSystem::GithubActions,
            name: None,
            file: "ci.yml".into(),
            triggers: vec![],
            stages: vec![],
            jobs: vec![job("stage", 10, "staging"), job("ship", 20, "live-eu")],
            includes: vec![],
            reusable: false,
            location: Location::new("ci.yml", 1),
        };
        let ev = |line: u32, q: &[&str]| Evidence {
            rule: "r".into(),
            origin: Origin::File {
                location: Location::new("ci.yml", line),
            },
            excerpt: String::new(),
            chain: vec![],
            qualifiers: q.iter().map(|s| s.to_string()).collect(),
            confidence: Confidence::High,
        };
        let mut d = Detection {
            findings: vec![PracticeFinding {
                practice: "deploy.automated".into(),
                evidence: vec![ev(14, &["production"]), ev(25, &[]), ev(3, &[])],
            }],
            diagnostics: vec![],
        };
        let c = Config::parse("production_environments = [\"live*\"]", "c").unwrap();
        c.apply_production_environments(&mut d, std::slice::from_ref(&pipeline));
        let e = &d.findings[0].evidence;
        assert!(
            !e[0].has("production"),
            "staging is not production by the config"
        );
        assert!(e[1].has("production"), "live-eu matches live*");
        assert!(!e[2].has("production"), "outside any job: unchanged");
        let mut d2 = d.clone();
        Config::default().apply_production_environments(&mut d2, &[pipeline]);
        assert_eq!(d2, d, "no patterns, no change");
    }

    #[test]
    fn project_scope_keeps_own_and_shared_files() {
        let file = |p: &str| RepoFile {
            path: p.into(),
            size: 0,
            content: None,
            skipped: None,
        };
        let snap = Snapshot::new(
            Source {
                kind: "local".into(),
                target: ".".into(),
                revision: None,
            },
            FileSet::new(vec![
                file(".github/workflows/ci.yml"),
                file("svc/a/train.py"),
                file("svc/ab/x.py"),
                file("svc/b/serve.py"),
            ]),
        );
        let c = Config::parse(FULL, "cfg").unwrap();
        let a = c.projects[0].scope(&snap, &c.projects);
        let paths: Vec<_> = a.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [".github/workflows/ci.yml", "svc/a/train.py", "svc/ab/x.py"]
        );
    }
}
