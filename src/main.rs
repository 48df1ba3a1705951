//! The `mlops-maturity` command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use mlops_maturity::assess::{self, Table, practices};
use mlops_maturity::config::{self, Config};
use mlops_maturity::connect::{self, ConnectOptions};
use mlops_maturity::detect::{self, RuleSet};
use mlops_maturity::evidence::{Diagnostic, Severity, Snapshot};
use mlops_maturity::pipeline::JobGraph;
use mlops_maturity::report::{self, Lang, ProjectReport, Report};
use mlops_maturity::standard;

const EXAMPLES: &str = "\
Examples:
  mlops-maturity scan                          # scan the current checkout, terminal report
  mlops-maturity scan ../ranker --verbose      # list the evidence behind every level
  mlops-maturity scan . --format json -o report.json
  mlops-maturity scan . --format sarif -o mlops.sarif
  mlops-maturity scan . --fail-under 2         # exit 1 when the overall level is below 2
  mlops-maturity explain 2.2.3                 # what a sub-item needs, level by level
  mlops-maturity explain deploy.rollback       # a practice and where it counts
  mlops-maturity explain levels                # what levels 1-5 mean
  mlops-maturity detectors --format json       # the rules in use
  mlops-maturity diff base.json head.json --format markdown --fail-on-regression
  mlops-maturity comment --github-repo octo/ranker --pr 12 --body-file diff.md
  mlops-maturity scan-org github:octo-org --out org   # every repository, summary in org/index.html
  mlops-maturity scan-org github:octo-org --shard 1/4 --out s1   # then: merge s1 s2 s3 s4 --out org
  mlops-maturity trend --db org/history.sqlite        # how repositories moved since earlier runs";

/// Infer CAICT Model/MLOps (model delivery) maturity levels from the evidence in a repository.
///
/// Reads CI pipelines, serving manifests, ML code and git metadata of a local checkout,
/// and infers the level (1-5) of each of the 32 sub-items of the standard, naming the
/// evidence (file:line) behind every level and what is missing for the next.
#[derive(Debug, Parser)]
#[command(name = "mlops-maturity", version, about, long_about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan a repository and report its maturity levels.
    #[command(after_help = "\
Exit status: 0 success · 1 overall level below --fail-under · 2 usage or I/O error.
Diagnostics (unreadable files, YAML errors) go to stderr; the report goes to stdout or --output.
Configuration: PATH/.mlops-maturity.toml is read when present (see docs/config.md).")]
    Scan(Box<ScanArgs>),
    /// Print the evidence snapshot and the job graph (for debugging detectors).
    Evidence {
        /// Local checkout to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = EvidenceFormat::Json)]
        format: EvidenceFormat,
        /// Include file contents in the JSON snapshot (large).
        #[arg(long)]
        include_content: bool,
        /// Files larger than this many bytes are recorded by path and size only.
        #[arg(long, value_name = "BYTES")]
        max_file_size: Option<u64>,
    },
    /// Explain a sub-item (e.g. 2.2.3), an item or sub-domain (2.2, 2), a practice
    /// (e.g. deploy.rollback), or `levels`.
    Explain {
        /// A sub-item, item or sub-domain id, a practice id, or `levels`.
        id: String,
        /// Language of the prose (names are always shown in both).
        #[arg(long, value_enum, default_value_t = LangArg::En)]
        lang: LangArg,
    },
    /// Compare two JSON reports (`scan --format json`): which levels moved and why.
    #[command(after_help = "\
Exit status: 0 success · 1 a level went down and --fail-on-regression is set · 2 usage or I/O
error (unreadable file, not a report, schema mismatch).
JSON output: schema mlops-maturity/diff/v1 (docs/action.md).")]
    Diff(DiffArgs),
    /// Create or update one sticky comment on a GitHub pull request or GitLab merge request.
    #[command(after_help = "\
Token: GITHUB_TOKEN (GitHub); GITLAB_TOKEN sent as PRIVATE-TOKEN, else CI_JOB_TOKEN sent as
JOB-TOKEN (GitLab). The token is never printed.
Exit status: 0 posted · 2 usage, network or API error · 3 the token may not write (401/403,
e.g. the read-only token of a pull request from a fork; see docs/action.md).")]
    Comment(CommentArgs),
    /// Scan every repository of a GitHub organisation or a GitLab group (subgroups
    /// included) and write one JSON report per repository plus an org summary.
    #[command(
        name = "scan-org",
        after_help = "\
Output folder: run.json (manifest), repos/<name>.json (report/v1 each), summary.json, summary.md,
summary.csv, index.html (self-contained dashboard). See docs/org.md.
Exit status: 0 every selected repository scanned · 1 some failed (recorded) · 2 usage, listing or I/O error."
    )]
    ScanOrg(Box<ScanOrgArgs>),
    /// Combine the output folders of `scan-org --shard i/n` runs into one summary.
    Merge {
        /// Output folders of the shards.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Where to write the merged summary (default: the first folder).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Record the merged run in this history database (default: OUT/history.sqlite).
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
        /// Do not record the run in a history database.
        #[arg(long, conflicts_with = "db")]
        no_history: bool,
    },
    /// Show how each repository and the organisation moved across recorded org scans.
    Trend {
        /// History database written by `scan-org` or `merge`.
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// Only this repository (full name, or its name).
        #[arg(long, value_name = "NAME")]
        repo: Option<String>,
        /// List every repository, not only those that moved.
        #[arg(long)]
        all: bool,
        #[arg(long, short = 'f', value_enum, default_value_t = EvidenceFormat::Text)]
        format: EvidenceFormat,
    },
    /// List the detectors (data rules and coded detectors) in use.
    Detectors {
        #[arg(long, value_enum, default_value_t = EvidenceFormat::Text)]
        format: EvidenceFormat,
        /// Also load the rules of these folders.
        #[arg(long = "detectors", value_name = "DIR")]
        detectors: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// Report of the base (e.g. the target branch), from `scan --format json`.
    base: PathBuf,
    /// Report of the head (e.g. the pull request).
    head: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Write the diff to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with status 1 when any level went down.
    #[arg(long)]
    fail_on_regression: bool,
    /// Language of the prose (names are always shown in both).
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    lang: LangArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("forge").required(true).args(["github_repo", "gitlab_project"]))]
struct CommentArgs {
    /// GitHub repository OWNER/REPO.
    #[arg(long, value_name = "OWNER/REPO", requires = "pr")]
    github_repo: Option<String>,
    /// Pull request number.
    #[arg(long, value_name = "N")]
    pr: Option<u64>,
    /// GitLab project id or path (`$CI_PROJECT_ID`).
    #[arg(
        long,
        value_name = "ID",
        requires = "mr",
        conflicts_with = "github_repo"
    )]
    gitlab_project: Option<String>,
    /// Merge request IID (`$CI_MERGE_REQUEST_IID`).
    #[arg(long, value_name = "IID")]
    mr: Option<u64>,
    /// The comment (Markdown), e.g. `diff --format markdown` output.
    #[arg(long, value_name = "FILE")]
    body_file: PathBuf,
    /// API root. Default: $GITHUB_API_URL or https://api.github.com; $CI_API_V4_URL or
    /// https://gitlab.com/api/v4.
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// Only update a marked comment written by this login (default: the token's user;
    /// github-actions[bot] when the token cannot tell).
    #[arg(long, value_name = "LOGIN")]
    author: Option<String>,
    /// Post only if the pull/merge request's head commit is SHA (for `workflow_run`, where
    /// the PR number comes from an artifact).
    #[arg(long, value_name = "SHA")]
    expect_head_sha: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// Local checkout to scan, `github:OWNER/REPO` to scan through the GitHub API, or
    /// `gitlab:GROUP/PROJECT` through the GitLab API.
    #[arg(
        default_value = ".",
        value_name = "PATH|github:OWNER/REPO|gitlab:GROUP/PROJECT"
    )]
    path: PathBuf,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Language of the prose (names are always shown in both).
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    lang: LangArg,
    /// Exit with status 1 when the overall level is below N (1-5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    fail_under: Option<u8>,
    /// Extra detector rule folder (repeatable).
    #[arg(long = "detectors", value_name = "DIR")]
    detectors: Vec<PathBuf>,
    /// Configuration file to use instead of PATH/.mlops-maturity.toml.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore any configuration file.
    #[arg(long)]
    no_config: bool,
    /// List the evidence behind every level and every next step.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Files larger than this many bytes are recorded by path and size only.
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Leave out paths matching this gitignore-style glob (repeatable; local scans).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Deployment and CI-run events to analyse (JSON Lines or CSV, see docs/history.md),
    /// for teams whose deployments live outside GitHub/GitLab.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Regex an environment name must match to count as production in history metrics.
    #[arg(long, value_name = "REGEX")]
    production_pattern: Option<String>,
    /// Branch, tag or commit to scan (github: and gitlab: targets; default: the default branch).
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    /// Read the API token from this environment variable instead of GITHUB_TOKEN / GH_TOKEN
    /// (GitLab: GITLAB_TOKEN, then CI_JOB_TOKEN).
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// GitHub Enterprise Server API URL, e.g. https://github.example.com/api/v3.
    #[arg(long, value_name = "URL")]
    github_url: Option<String>,
    /// Self-managed GitLab URL, e.g. https://gitlab.example.com or https://example.com/gitlab
    /// (default: https://gitlab.com).
    #[arg(long, value_name = "URL")]
    gitlab_url: Option<String>,
    /// Do not use or update the on-disk ETag cache of API responses.
    #[arg(long)]
    no_cache: bool,
    /// MLflow-compatible model registry to read (tracking URI; also `[mlflow] uri` in the
    /// config). Credentials come from MLFLOW_TRACKING_TOKEN or
    /// MLFLOW_TRACKING_USERNAME/_PASSWORD and are never printed.
    #[arg(long, value_name = "URL")]
    mlflow_uri: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ScanOrgArgs {
    /// `github:ORG` (or a user) or `gitlab:GROUP[/SUBGROUP]`.
    #[arg(value_name = "github:ORG|gitlab:GROUP")]
    target: String,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "mlops-org")]
    out: PathBuf,
    /// Repositories scanned at the same time.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Scan only shard I of N (a stable hash of the full name); combine with `merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Skip repositories already scanned by the run recorded in DIR/run.json.
    #[arg(long)]
    resume: bool,
    /// Scan at most N repositories now (the rest stay pending for --resume).
    #[arg(long, value_name = "N")]
    max_repos: Option<usize>,
    /// Include archived repositories.
    #[arg(long)]
    include_archived: bool,
    /// Include forks.
    #[arg(long)]
    include_forks: bool,
    /// Only repositories whose name matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Leave out repositories whose name matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Only repositories with this topic (repeatable: any of them).
    #[arg(long, value_name = "TOPIC")]
    topic: Vec<String>,
    /// Leave out repositories with this topic (repeatable).
    #[arg(long, value_name = "TOPIC")]
    exclude_topic: Vec<String>,
    /// Only repositories whose main language is this (repeatable; GitHub only).
    #[arg(long, value_name = "LANG")]
    language: Vec<String>,
    /// Read the API token from this environment variable (default: GITHUB_TOKEN / GH_TOKEN;
    /// GitLab: GITLAB_TOKEN, then CI_JOB_TOKEN).
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// GitHub Enterprise Server API URL, e.g. https://github.example.com/api/v3.
    #[arg(long, value_name = "URL")]
    github_url: Option<String>,
    /// Self-managed GitLab URL (default: https://gitlab.com).
    #[arg(long, value_name = "URL")]
    gitlab_url: Option<String>,
    /// Do not use or update the on-disk ETag cache.
    #[arg(long)]
    no_cache: bool,
    /// Longest rate-limit pause accepted, in seconds (the run waits for the reset).
    #[arg(long, value_name = "SECONDS", default_value_t = 3700)]
    max_wait: u64,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
    /// History database to record the run in (default: OUT/history.sqlite; shard runs
    /// are recorded by `merge` instead).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Do not record the run in a history database.
    #[arg(long, conflicts_with = "db")]
    no_history: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Markdown,
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EvidenceFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    En,
    Zh,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::En => Lang::En,
            LangArg::Zh => Lang::Zh,
        }
    }
}

/// A failure that is the user's to fix (bad path, bad config): exit 2 with a hint.
#[derive(Debug)]
struct UsageError {
    message: String,
    help: String,
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>, help: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError {
        message: message.into(),
        help: help.into(),
    })
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("mlops-maturity: internal error: {info}");
        eprintln!("this is a bug, please report it with the command line you ran");
    }));
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<UsageError>() {
                Some(u) => eprintln!("help: {}", u.help),
                None => eprintln!("help: run `mlops-maturity --help` for usage"),
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan(*args),
        Command::Evidence {
            path,
            format,
            include_content,
            max_file_size,
        } => evidence(&path, format, include_content, max_file_size),
        Command::Explain { id, lang } => {
            let table = Table::builtin()?;
            let text = explain(&id, &table, lang.into())?;
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(args) => diff(args),
        Command::Comment(args) => comment(args),
        Command::ScanOrg(args) => scan_org(*args),
        Command::Merge {
            dirs,
            out,
            db,
            no_history,
        } => merge(&dirs, out.as_deref(), db, no_history),
        Command::Trend {
            db,
            repo,
            all,
            format,
        } => {
            use mlops_maturity::org::history;
            let t = history::trend(&db, repo.as_deref()).map_err(|e| {
                usage(
                    e,
                    "give the --db written by `scan-org` (default OUT/history.sqlite)",
                )
            })?;
            let text = match format {
                EvidenceFormat::Text => history::render_text(&t, all || repo.is_some()),
                EvidenceFormat::Json => serde_json::to_string_pretty(&t)? + "\n",
            };
            print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Detectors { format, detectors } => {
            let mut rules = RuleSet::builtin().context("loading the built-in rules")?;
            for dir in &detectors {
                rules.load_dir(dir).map_err(|e| {
                    usage(
                        format!("{e}"),
                        "check the --detectors folder and its *.toml rules",
                    )
                })?;
            }
            print_out(&render_detectors(&rules, format))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Write to stdout; a closed pipe (`| head`) is not an error worth a message.
fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

fn check_path(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Err(usage(
            format!("{}: no such file or directory", path.display()),
            "give the path of a local checkout, e.g. `mlops-maturity scan .`",
        ));
    }
    if !path.is_dir() {
        return Err(usage(
            format!("{}: not a directory", path.display()),
            "give the root folder of a repository checkout, not a file",
        ));
    }
    Ok(())
}

fn load_config(args: &ScanArgs) -> anyhow::Result<Config> {
    if args.no_config {
        return Ok(Config::default());
    }
    let (file, shown) = match &args.config {
        Some(f) => (f.clone(), f.display().to_string()),
        None => {
            let f = args.path.join(config::FILE_NAME);
            if !f.is_file() {
                return Ok(Config::default());
            }
            (f, config::FILE_NAME.to_string())
        }
    };
    Config::load(&file, &shown).map_err(|e| {
        usage(
            format!("configuration: {e}"),
            "fix the file (see docs/config.md), or run with --no-config",
        )
    })
}

/// Scan a `github:OWNER/REPO` target through the API.
fn scan_github(args: &ScanArgs, target: &str) -> anyhow::Result<Snapshot> {
    let mut options = connect::github::GithubOptions {
        token: connect::github::Token::from_env(args.token_env.as_deref()),
        git_ref: args.git_ref.clone(),
        ..Default::default()
    };
    if let Some(url) = &args.github_url {
        options.api_url = url.trim_end_matches('/').to_string();
    }
    if args.no_cache {
        options.cache_dir = Some(PathBuf::new());
    }
    if options.token.is_none() {
        match &args.token_env {
            Some(var) => {
                return Err(usage(
                    format!("--token-env {var}: the variable is not set or empty"),
                    "export the token in that variable, or drop --token-env to use GITHUB_TOKEN",
                ));
            }
            None => eprintln!(
                "note: no GITHUB_TOKEN / GH_TOKEN: scanning anonymously (60 requests/hour, no private data)"
            ),
        }
    }
    let (snapshot, stats) = connect::scan_github(target, &options).map_err(|e| {
        let help = match e {
            connect::github::GithubError::InvalidTarget(_) => "write the target as github:OWNER/REPO",
            connect::github::GithubError::Unauthorized { .. } => {
                "set a valid token in GITHUB_TOKEN or GH_TOKEN (or name the variable with --token-env)"
            }
            connect::github::GithubError::RateLimited { .. } => {
                "use a token, or scan again after the reset time"
            }
            _ => "see docs/github.md for the permissions each kind of evidence needs",
        };
        usage(e.to_string(), help)
    })?;
    eprintln!(
        "github: {} requests ({} counted against the rate limit, {} answered 304 from the cache)",
        stats.total,
        stats.counted_against_limit(),
        stats.total - stats.counted_against_limit()
    );
    Ok(snapshot)
}

/// Read the MLflow-compatible registry named by `--mlflow-uri` or `[mlflow] uri`, put
/// its evidence into the snapshot and return its findings (none without a URI).
fn read_model_registry(
    args: &ScanArgs,
    config: &Config,
    target: &str,
    remote: bool,
    snapshot: &mut Snapshot,
) -> anyhow::Result<Vec<detect::PracticeFinding>> {
    use mlops_maturity::connect::mlflow;
    let section = config.mlflow.clone().unwrap_or_default();
    let Some(uri) = args.mlflow_uri.clone().or(section.uri) else {
        return Ok(Vec::new());
    };
    let mut options = mlflow::MlflowOptions::new(uri);
    options.model_names = section.models;
    options.name_pattern = section.model_pattern;
    options.repo_urls = if remote {
        let web = |prefix: &str, host: &str| {
            target
                .strip_prefix(prefix)
                .map(|r| format!("{}/{r}", host.trim_end_matches('/')))
        };
        let gitlab_host = args.gitlab_url.as_deref().unwrap_or("https://gitlab.com");
        web("github:", "https://github.com")
            .or_else(|| web("gitlab:", gitlab_host))
            .into_iter()
            .collect()
    } else {
        mlflow::remote_urls(&args.path)
    };
    let (evidence, stats) = mlflow::collect_blocking(&options).map_err(|e| {
        usage(
            format!("model registry: {e}"),
            "give an http(s) tracking URI, e.g. --mlflow-uri http://127.0.0.1:5000",
        )
    })?;
    eprintln!(
        "mlflow: {} requests ({} retries) to {}",
        stats.requests,
        stats.retries,
        mlflow::uri::display_without_secrets(&options.tracking_uri)
    );
    let findings = mlflow::registry_findings(&evidence);
    mlflow::apply_to_snapshot(snapshot, evidence);
    Ok(findings)
}

/// Add findings from another source (a registry, history), merging the evidence of
/// practices the detectors already reported, and keep findings sorted by practice.
fn merge_findings(detection: &mut detect::Detection, extra: &[detect::PracticeFinding]) {
    for finding in extra {
        match detection
            .findings
            .iter_mut()
            .find(|f| f.practice == finding.practice)
        {
            Some(existing) => {
                for e in &finding.evidence {
                    if !existing.evidence.contains(e) {
                        existing.evidence.push(e.clone());
                    }
                }
            }
            None => detection.findings.push(finding.clone()),
        }
    }
    detection
        .findings
        .sort_by(|a, b| a.practice.cmp(&b.practice));
}

/// Scan a `gitlab:GROUP/PROJECT` target through the API.
fn scan_gitlab(args: &ScanArgs, target: &str) -> anyhow::Result<Snapshot> {
    use connect::gitlab;
    let mut options = gitlab::GitlabOptions {
        token: gitlab::Token::from_env(args.token_env.as_deref()),
        git_ref: args.git_ref.clone(),
        ..Default::default()
    };
    if let Some(url) = &args.gitlab_url {
        options.api_url = gitlab::api_url_for(url);
    }
    if args.no_cache {
        options.cache_dir = Some(PathBuf::new());
    }
    if options.token.is_none() {
        match &args.token_env {
            Some(var) => {
                return Err(usage(
                    format!("--token-env {var}: the variable is not set or empty"),
                    "export the token in that variable, or drop --token-env to use GITLAB_TOKEN",
                ));
            }
            None => eprintln!(
                "note: no GITLAB_TOKEN / CI_JOB_TOKEN: scanning anonymously (public data only)"
            ),
        }
    }
    let (snapshot, stats) = connect::scan_gitlab(target, &options).map_err(|e| {
        let help = match e {
            gitlab::GitlabError::InvalidTarget(_) => "write the target as gitlab:GROUP/PROJECT",
            gitlab::GitlabError::Unauthorized { .. } => {
                "set a valid token with the read_api scope in GITLAB_TOKEN (or name the variable with --token-env)"
            }
            gitlab::GitlabError::RateLimited { .. } => "scan again after the reset time",
            _ => "see docs/gitlab.md for the scopes and roles each kind of evidence needs",
        };
        usage(e.to_string(), help)
    })?;
    eprintln!(
        "gitlab: {} requests ({} answered 304 from the cache)",
        stats.total, stats.not_modified
    );
    Ok(snapshot)
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let target = args.path.to_string_lossy().to_string();
    let remote = target.starts_with("github:") || target.starts_with("gitlab:");
    if !remote {
        check_path(&args.path)?;
    }
    let config = load_config(&args)?;
    let table = Table::builtin()?;
    let mut options = ConnectOptions::default();
    if let Some(max) = args.max_file_size {
        options.max_file_size = max;
    }
    options.exclude = config
        .exclude
        .iter()
        .chain(&args.exclude)
        .cloned()
        .collect();
    for g in &options.exclude {
        globset::Glob::new(g).map_err(|e| {
            usage(
                format!("--exclude {g}: {e}"),
                "use a gitignore-style glob such as `vendor/**`",
            )
        })?;
    }
    let snapshot = if target.starts_with("gitlab:") {
        scan_gitlab(&args, &target)?
    } else if remote {
        scan_github(&args, &target)?
    } else {
        connect::scan_local(&args.path, &options)
            .with_context(|| format!("scanning {}", args.path.display()))?
    };
    // A remote repository's own configuration comes with its files.
    let config = match (remote, args.no_config || args.config.is_some()) {
        (true, false) => match snapshot.files.text(config::FILE_NAME) {
            Some(text) => Config::parse(text, config::FILE_NAME).map_err(|e| {
                usage(
                    format!("configuration: {e}"),
                    "fix the file (see docs/config.md), or run with --no-config",
                )
            })?,
            None => config,
        },
        _ => config,
    };

    let mut snapshot = snapshot;
    let registry_findings = read_model_registry(&args, &config, &target, remote, &mut snapshot)?;

    let mut history_config = mlops_maturity::history::HistoryConfig::default();
    if let Some(pattern) = &args.production_pattern {
        history_config.production_pattern = pattern.clone();
    }
    let history =
        mlops_maturity::history::analyse(&snapshot, args.history.as_deref(), &history_config)
            .map_err(|e| {
                usage(
                    format!("{e:#}"),
                    "check --history FILE and --production-pattern",
                )
            })?;

    let mut rules = RuleSet::builtin().context("loading the built-in rules")?;
    // Rule folders named in a remote repository's config are not fetched.
    let config_dirs: Vec<PathBuf> = if remote {
        Vec::new()
    } else {
        config.detectors.iter().map(|d| args.path.join(d)).collect()
    };
    let rule_dirs = config_dirs
        .into_iter()
        .chain(args.detectors.iter().cloned());
    for dir in rule_dirs {
        rules.load_dir(&dir).map_err(|e| {
            usage(
                format!("detector rules: {e}"),
                "check the folder given by --detectors or `detectors` in the configuration",
            )
        })?;
    }

    let mut diagnostics = snapshot.diagnostics.clone();
    let history_findings = match &history {
        Some((metrics, diags)) => {
            diagnostics.extend(diags.iter().cloned());
            mlops_maturity::history::history_findings(metrics)
        }
        None => Vec::new(),
    };
    let mut projects = Vec::new();
    let scopes: Vec<(Option<String>, String, mlops_maturity::evidence::Snapshot)> =
        if config.projects.is_empty() {
            vec![(None, String::new(), snapshot.clone())]
        } else {
            config
                .projects
                .iter()
                .map(|p| {
                    (
                        Some(p.name.clone()),
                        p.path.clone(),
                        p.scope(&snapshot, &config.projects),
                    )
                })
                .collect()
        };
    for (name, path, scoped) in scopes {
        if !path.is_empty() && scoped.files.under(&path).next().is_none() {
            diagnostics.push(Diagnostic::warning(
                "project-empty",
                format!(
                    "project `{}`: no files under `{path}`",
                    name.as_deref().unwrap_or("")
                ),
                config
                    .file
                    .as_ref()
                    .map(|f| mlops_maturity::evidence::Location::file(f.clone())),
            ));
        }
        let graph = JobGraph::build(&scoped.pipelines);
        let mut detection = detect::detect(&scoped, &graph, &rules);
        // History and the model registry are about the repository as a whole: every
        // project gets them.
        detection.findings.extend(history_findings.iter().cloned());
        merge_findings(&mut detection, &registry_findings);
        detection
            .findings
            .sort_by(|a, b| a.practice.cmp(&b.practice));
        config.apply_production_environments(&mut detection, &scoped.pipelines);
        config.add_attestations(&mut detection);
        for d in detection.diagnostics.drain(..) {
            if !diagnostics.contains(&d) {
                diagnostics.push(d);
            }
        }
        let assessment = assess::assess(&detection, &table, &config);
        let anchor = report::anchor_file(&scoped);
        projects.push(ProjectReport::new(
            name, path, assessment, &detection, anchor,
        ));
    }
    let report = Report::new(
        snapshot.source.clone(),
        &table.version,
        config.file.clone(),
        projects,
        diagnostics,
    )
    .with_history(history.map(|(metrics, _)| metrics));

    print_diagnostics(&report.diagnostics);
    let lang: Lang = args.lang.into();
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match args.format {
        ReportFormat::Text => report::text::render(
            &report,
            &report::text::TextOptions {
                lang,
                color,
                verbose: args.verbose,
            },
        ),
        ReportFormat::Json => report::json::render(&report),
        ReportFormat::Markdown => report::markdown::render(&report, lang),
        ReportFormat::Sarif => report::sarif::render(&report, lang),
    };
    match &args.output {
        Some(file) => std::fs::write(file, text).map_err(|e| {
            usage(
                format!("{}: cannot write the report: {e}", file.display()),
                "check that the folder exists and is writable",
            )
        })?,
        None => print_out(&text)?,
    }
    if let Some(min) = args.fail_under
        && report.overall < min
    {
        eprintln!(
            "mlops-maturity: overall level {} is below --fail-under {min}",
            report.overall
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_report(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        usage(
            format!("{}: {e}", path.display()),
            "give two reports written by `mlops-maturity scan --format json -o FILE`",
        )
    })?;
    if meta.len() > mlops_maturity::diff::MAX_REPORT_BYTES as u64 {
        return Err(usage(
            format!("{}: larger than a report can be", path.display()),
            "give two reports written by `mlops-maturity scan --format json -o FILE`",
        ));
    }
    std::fs::read_to_string(path).map_err(|e| {
        usage(
            format!("{}: {e}", path.display()),
            "give two reports written by `mlops-maturity scan --format json -o FILE`",
        )
    })
}

fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    use mlops_maturity::diff as d;
    let base_label = args.base.display().to_string();
    let head_label = args.head.display().to_string();
    let (base, head) = d::parse_pair(
        &read_report(&args.base)?,
        &base_label,
        &read_report(&args.head)?,
        &head_label,
    )
    .map_err(|e| {
        usage(
            e.to_string(),
            "write both reports with the same mlops-maturity version: `mlops-maturity scan PATH --format json -o FILE`",
        )
    })?;
    let result = d::diff(&base, &head);
    if result.table_versions_differ {
        eprintln!(
            "note: the reports use different interpretation tables ({} and {}): levels may differ because the table changed",
            result.base.table_version, result.head.table_version
        );
    }
    let lang: Lang = args.lang.into();
    let text = match args.format {
        DiffFormat::Text => d::render::text(&result, lang),
        DiffFormat::Json => d::render::json(&result),
        DiffFormat::Markdown => d::render::markdown(&result, lang),
    };
    match &args.output {
        Some(file) => std::fs::write(file, text).map_err(|e| {
            usage(
                format!("{}: cannot write the diff: {e}", file.display()),
                "check that the folder exists and is writable",
            )
        })?,
        None => print_out(&text)?,
    }
    if args.fail_on_regression && result.regressed {
        eprintln!("mlops-maturity: a maturity level went down (--fail-on-regression)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// A non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn comment(args: CommentArgs) -> anyhow::Result<ExitCode> {
    use mlops_maturity::comment::{self as c, GitLabAuth, Options, Outcome, Target, Token};
    let body = std::fs::read_to_string(&args.body_file).map_err(|e| {
        usage(
            format!("{}: {e}", args.body_file.display()),
            "give the Markdown to post, e.g. the output of `mlops-maturity diff --format markdown`",
        )
    })?;
    let (target, api_url, token, gitlab_auth) = match (&args.github_repo, &args.gitlab_project) {
        (Some(repo), _) => {
            let valid = repo.split('/').count() == 2
                && repo
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_./".contains(ch))
                && !repo.contains("..");
            if !valid {
                return Err(usage(
                    format!("--github-repo {repo}: expected OWNER/REPO"),
                    "e.g. --github-repo octo-org/ranker",
                ));
            }
            let token = env_var("GITHUB_TOKEN").ok_or_else(|| {
                usage(
                    "GITHUB_TOKEN is not set",
                    "in a workflow: env: GITHUB_TOKEN: ${{ github.token }} (with permissions: pull-requests: write)",
                )
            })?;
            let api = args
                .api_url
                .clone()
                .or_else(|| env_var("GITHUB_API_URL"))
                .unwrap_or_else(|| "https://api.github.com".into());
            (
                Target::GitHub {
                    repo: repo.clone(),
                    pr: args.pr.unwrap_or(0),
                },
                api,
                token,
                GitLabAuth::Private,
            )
        }
        (None, Some(project)) => {
            let (token, auth) = match (env_var("GITLAB_TOKEN"), env_var("CI_JOB_TOKEN")) {
                (Some(t), _) => (t, GitLabAuth::Private),
                (None, Some(t)) => (t, GitLabAuth::Job),
                (None, None) => {
                    return Err(usage(
                        "neither GITLAB_TOKEN nor CI_JOB_TOKEN is set",
                        "set GITLAB_TOKEN to a project access token with the `api` scope (masked CI/CD variable)",
                    ));
                }
            };
            let api = args
                .api_url
                .clone()
                .or_else(|| env_var("CI_API_V4_URL"))
                .unwrap_or_else(|| "https://gitlab.com/api/v4".into());
            (
                Target::GitLab {
                    project: project.clone(),
                    mr: args.mr.unwrap_or(0),
                },
                api,
                token,
                auth,
            )
        }
        (None, None) => {
            return Err(usage(
                "no target",
                "give --github-repo OWNER/REPO --pr N, or --gitlab-project ID --mr IID",
            ));
        }
    };
    let options = Options {
        target,
        api_url,
        token: Token::new(token),
        gitlab_auth,
        author: args.author.clone(),
        expect_head_sha: args.expect_head_sha.clone(),
    };
    match c::post_sticky(&options, &body) {
        Ok(Outcome::Created { id, url }) => {
            println!(
                "created comment {id}{}",
                url.map(|u| format!(" {u}")).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Updated { id, url }) => {
            println!(
                "updated comment {id}{}",
                url.map(|u| format!(" {u}")).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_permission() => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(3))
        }
        Err(e) => Err(anyhow::Error::new(e)),
    }
}

fn scan_org(args: ScanOrgArgs) -> anyhow::Result<ExitCode> {
    use mlops_maturity::org::{self, Filters, OrgTarget, Shard, run::OrgOptions};
    let target = OrgTarget::parse(&args.target).map_err(|e| {
        usage(
            e,
            "e.g. `mlops-maturity scan-org github:octo-org --out org`",
        )
    })?;
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| {
            usage(
                e,
                "e.g. --shard 1/4 … --shard 4/4, then `mlops-maturity merge`",
            )
        })?;
    let glob_help = "use a glob such as `ml-*`";
    let filters = Filters {
        include_archived: args.include_archived,
        include_forks: args.include_forks,
        include: Filters::globs(&args.include)
            .map_err(|e| usage(format!("--include {e}"), glob_help))?,
        exclude: Filters::globs(&args.exclude)
            .map_err(|e| usage(format!("--exclude {e}"), glob_help))?,
        topics: args.topic.clone(),
        exclude_topics: args.exclude_topic.clone(),
        languages: args.language.clone(),
    };
    let max_wait = std::time::Duration::from_secs(args.max_wait);
    let mut github = connect::github::GithubOptions {
        token: connect::github::Token::from_env(args.token_env.as_deref()),
        max_wait,
        ..Default::default()
    };
    if let Some(url) = &args.github_url {
        github.api_url = url.trim_end_matches('/').to_string();
    }
    let mut gitlab = connect::gitlab::GitlabOptions {
        token: connect::gitlab::Token::from_env(args.token_env.as_deref()),
        max_wait,
        ..Default::default()
    };
    if let Some(url) = &args.gitlab_url {
        gitlab.api_url = connect::gitlab::api_url_for(url);
    }
    if args.no_cache {
        github.cache_dir = Some(PathBuf::new());
        gitlab.cache_dir = Some(PathBuf::new());
    }
    let has_token = match target {
        OrgTarget::Github(_) => github.token.is_some(),
        OrgTarget::Gitlab(_) => gitlab.token.is_some(),
    };
    if !has_token {
        if let Some(var) = &args.token_env {
            return Err(usage(
                format!("--token-env {var}: the variable is not set or empty"),
                "export the token in that variable",
            ));
        }
        eprintln!(
            "note: no API token: scanning anonymously (public repositories, low rate limits)"
        );
    }
    let options = OrgOptions {
        target,
        github,
        gitlab,
        filters,
        concurrency: usize::from(args.concurrency),
        shard,
        out: args.out.clone(),
        resume: args.resume,
        limit: args.max_repos,
        progress: !args.quiet,
    };
    let (manifest, stats) = org::run::scan_org(&options).map_err(|e| {
        usage(
            e,
            "check the organisation name, the token (it must list the organisation's repositories) and --out",
        )
    })?;
    let summary = org::summary::load(std::slice::from_ref(&args.out))
        .and_then(|s| org::summary::write_all(&args.out, &s).map(|()| s))
        .map_err(|e| usage(e, "check that --out is writable"))?;
    let db = args
        .db
        .clone()
        .or_else(|| (shard.is_none() && !args.no_history).then(|| args.out.join("history.sqlite")));
    if let Some(db) = db {
        let at = manifest.finished_at.clone().unwrap_or_default();
        org::history::record(&db, &manifest.run_id, &at, &summary)
            .map_err(|e| usage(e, "check --db (a writable SQLite file)"))?;
    }
    eprintln!(
        "scan-org: {} listed, {} selected, {} scanned now, {} resumed, {} failed, {} pending; {} requests ({} for the listing), {} rate-limit pauses, {:.1} s",
        stats.listed,
        stats.selected,
        stats.scanned,
        stats.skipped_resumed,
        stats.failed,
        stats.pending,
        stats.requests,
        stats.listing_requests,
        stats.rate_limit_pauses,
        stats.wall.as_secs_f64()
    );
    eprintln!(
        "summary: {}/index.html ({} repositories with a report)",
        args.out.display(),
        summary.scanned
    );
    Ok(if stats.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn merge(
    dirs: &[PathBuf],
    out: Option<&Path>,
    db: Option<PathBuf>,
    no_history: bool,
) -> anyhow::Result<ExitCode> {
    use mlops_maturity::org::{history, run::read_manifest, summary};
    let out = out
        .map(Path::to_path_buf)
        .or_else(|| dirs.first().cloned())
        .unwrap_or_else(|| PathBuf::from("."));
    let s = summary::load(dirs).map_err(|e| {
        usage(
            e,
            "give the --out folders of `scan-org --shard i/n` runs of one organisation",
        )
    })?;
    summary::write_all(&out, &s).map_err(|e| usage(e, "check that --out is writable"))?;
    let db = db.or_else(|| (!no_history).then(|| out.join("history.sqlite")));
    if let Some(db) = db {
        // The shards of one scheduled run share no run id: name the merged run
        // after the latest shard's finish, so re-merging the same shards replaces it.
        let manifests: Vec<_> = dirs
            .iter()
            .filter_map(|d| read_manifest(d).ok().flatten())
            .collect();
        let at = manifests
            .iter()
            .filter_map(|m| m.finished_at.clone())
            .max()
            .unwrap_or_default();
        let mut ids: Vec<&str> = manifests.iter().map(|m| m.run_id.as_str()).collect();
        ids.sort_unstable();
        let run_id = format!("merge:{}", ids.join("+"));
        history::record(&db, &run_id, &at, &s)
            .map_err(|e| usage(e, "check --db (a writable SQLite file)"))?;
    }
    eprintln!(
        "merge: {} repositories ({} scanned, {} failed, {} pending) → {}",
        s.repos.len(),
        s.scanned,
        s.failed,
        s.pending,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Concise diagnostics on stderr: the first few, then a count.
fn print_diagnostics(diagnostics: &[Diagnostic]) {
    const SHOWN: usize = 10;
    for d in diagnostics.iter().take(SHOWN) {
        eprintln!("{d}");
    }
    if diagnostics.len() > SHOWN {
        eprintln!(
            "… and {} more (see the JSON report)",
            diagnostics.len() - SHOWN
        );
    }
    if !diagnostics.is_empty() {
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let warnings = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        eprintln!(
            "{} diagnostics ({errors} errors, {warnings} warnings)",
            diagnostics.len()
        );
    }
}

fn evidence(
    path: &Path,
    format: EvidenceFormat,
    include_content: bool,
    max_file_size: Option<u64>,
) -> anyhow::Result<ExitCode> {
    check_path(path)?;
    let mut options = ConnectOptions::default();
    if let Some(max) = max_file_size {
        options.max_file_size = max;
    }
    let snapshot = connect::scan_local(path, &options)
        .with_context(|| format!("scanning {}", path.display()))?;
    print_diagnostics(&snapshot.diagnostics);
    let graph = JobGraph::build(&snapshot.pipelines);
    let text = match format {
        EvidenceFormat::Json => {
            let mut snap = snapshot.clone();
            if !include_content {
                snap.files.strip_contents();
            }
            let out = serde_json::json!({
                "snapshot": snap,
                "graph": { "edges": graph.edges(&snapshot.pipelines) },
            });
            serde_json::to_string_pretty(&out)? + "\n"
        }
        EvidenceFormat::Text => {
            let mut t = format!(
                "{}: {} files, {} pipelines, {} job-graph edges\n",
                snapshot.source.target,
                snapshot.files.len(),
                snapshot.pipelines.len(),
                graph.graph.edge_count()
            );
            for p in &snapshot.pipelines {
                t.push_str(&format!(
                    "  {} ({}): {} jobs\n",
                    p.file,
                    p.system.label(),
                    p.jobs.len()
                ));
            }
            for e in graph.edges(&snapshot.pipelines) {
                t.push_str(&format!("  {} → {} ({:?})\n", e.from, e.to, e.kind));
            }
            t
        }
    };
    print_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Rule infos plus the coded detectors (graph and API questions rules cannot express).
fn all_detectors(rules: &RuleSet) -> Vec<detect::RuleInfo> {
    let mut infos = rules.infos();
    infos.extend(detect::coded::infos());
    infos
}

fn render_detectors(rules: &RuleSet, format: EvidenceFormat) -> String {
    let infos = all_detectors(rules);
    match format {
        EvidenceFormat::Json => serde_json::to_string_pretty(&infos).unwrap_or_default() + "\n",
        EvidenceFormat::Text => {
            if infos.is_empty() {
                return "no detectors loaded\n".to_string();
            }
            let mut t = String::new();
            for i in &infos {
                t.push_str(&format!(
                    "{:<40} {:<26} {:<6} {}\n    {}\n",
                    i.id, i.practice, i.kind, i.source, i.description
                ));
            }
            t.push_str(&format!("{} detectors\n", infos.len()));
            t
        }
    }
}

/// The text of `explain ID`.
fn explain(id: &str, table: &Table, lang: Lang) -> anyhow::Result<String> {
    let mut o = String::new();
    let id = id.trim();
    if id.eq_ignore_ascii_case("levels") {
        o.push_str(lang.s(
            "Levels of the standard (cumulative: level N needs every level below it)\n\n",
            "标准的等级（逐级累积：N 级须满足其下所有等级）\n\n",
        ));
        for l in &standard::LEVELS {
            o.push_str(&format!(
                "{} {}\n    {}\n",
                l.level,
                l.name.both(),
                lang.s(l.meaning.en, l.meaning.zh)
            ));
        }
        return Ok(o);
    }
    if let Some(s) = standard::sub_item(id) {
        let item = standard::item(s.item_id());
        let domain = standard::sub_domain(s.sub_domain_id());
        o.push_str(&format!("{} {}\n", s.id, s.name.both()));
        if let (Some(i), Some(d)) = (item, domain) {
            o.push_str(&format!(
                "  {}: {} {}\n  {}: {} {}\n",
                lang.s("item", "能力项"),
                i.id,
                i.name.both(),
                lang.s("sub-domain", "能力子域"),
                d.id,
                d.name.both()
            ));
        }
        if s.ml_specific {
            o.push_str(&format!(
                "  {}\n",
                lang.s("ML-specific sub-item", "机器学习特有的能力子项")
            ));
        }
        for (what, def_id) in [
            (lang.s("definition", "定义"), s.id),
            (lang.s("item definition", "能力项定义"), s.item_id()),
        ] {
            if let Some((en, zh)) = practices::definition(def_id) {
                o.push_str(&format!("  {what}: {}\n", lang.s(en, zh)));
            }
        }
        o.push_str(&format!(
            "\n{} ({} {})\n",
            lang.s("Criteria per level", "各等级判定条件"),
            lang.s("interpretation table", "解读表"),
            table.version
        ));
        o.push_str(&format!(
            "  L1 {}\n",
            lang.s("nothing observed (default)", "未观测到任何证据（默认）")
        ));
        if let Some(c) = table.sub_item(s.id) {
            for level in 2..=standard::MAX_LEVEL {
                for r in c.level(level) {
                    o.push_str(&format!(
                        "  L{level} {}\n     {}\n",
                        lang.pick(&r.text),
                        r.expr
                    ));
                }
            }
            o.push_str(&format!(
                "\n{}\n",
                lang.s("Practices that count", "计入的实践")
            ));
            for p in c.practices() {
                if let Some(pr) = practices::practice(p) {
                    let candidate = if pr.candidate {
                        lang.s(", candidate id", "，候选 ID")
                    } else {
                        ""
                    };
                    o.push_str(&format!(
                        "  {:<28} {} [{}{candidate}]\n",
                        pr.id,
                        lang.s(pr.en, pr.zh),
                        pr.source.label()
                    ));
                }
            }
        }
        o.push_str(&format!(
            "\n{}\n",
            lang.s(
                "Attested practices (from .mlops-maturity.toml) count, but cannot lift a sub-item above level 3 on their own.",
                "声明的实践（.mlops-maturity.toml）计入，但仅凭声明不能使子项超过 3 级。"
            )
        ));
        return Ok(o);
    }
    if let Some(i) = standard::item(id) {
        o.push_str(&format!("{} {}\n", i.id, i.name.both()));
        if let Some((en, zh)) = practices::definition(i.id) {
            o.push_str(&format!(
                "  {}: {}\n",
                lang.s("definition", "定义"),
                lang.s(en, zh)
            ));
        }
        for s in standard::sub_items_of(i.id) {
            o.push_str(&format!("  {} {}\n", s.id, s.name.both()));
        }
        o.push_str(&format!(
            "{}\n",
            lang.s(
                "Run `mlops-maturity explain <sub-item>` for the criteria.",
                "运行 `mlops-maturity explain <子项>` 查看判定条件。"
            )
        ));
        return Ok(o);
    }
    if let Some(d) = standard::sub_domain(id) {
        o.push_str(&format!("{} {}\n", d.id, d.name.both()));
        if let Some((en, zh)) = practices::definition(d.id) {
            o.push_str(&format!(
                "  {}: {}\n",
                lang.s("definition", "定义"),
                lang.s(en, zh)
            ));
        }
        for i in standard::items_of(d.id) {
            o.push_str(&format!("  {} {}\n", i.id, i.name.both()));
            for s in standard::sub_items_of(i.id) {
                o.push_str(&format!("    {} {}\n", s.id, s.name.both()));
            }
        }
        return Ok(o);
    }
    if let Some(p) = practices::practice(id) {
        o.push_str(&format!(
            "{}\n  {}\n  {}: {}\n",
            p.id,
            lang.s(p.en, p.zh),
            lang.s("source", "来源"),
            p.source.label()
        ));
        if p.candidate {
            o.push_str(&format!(
                "  {}\n",
                lang.s(
                    "candidate id (not yet in the published practice catalog)",
                    "候选 ID（尚未收入实践目录）"
                )
            ));
        }
        o.push_str(&format!("\n{}\n", lang.s("Counts for", "计入")));
        let mut any = false;
        for c in &table.sub_items {
            for level in 2..=standard::MAX_LEVEL {
                for r in c.level(level) {
                    if r.expr.practices().contains(&p.id) {
                        let name = standard::sub_item(&c.id)
                            .map(|s| s.name.both())
                            .unwrap_or_default();
                        o.push_str(&format!("  {} {} L{level}: {}\n", c.id, name, r.expr));
                        any = true;
                    }
                }
            }
        }
        if !any {
            o.push_str(&format!(
                "  {}\n",
                lang.s("no level requirement names it", "没有等级条件引用它")
            ));
        }
        return Ok(o);
    }
    bail!(UsageError {
        message: format!("`{id}` is not a sub-item, item, sub-domain or practice id"),
        help: "try `mlops-maturity explain 2.2.3`, `mlops-maturity explain ci.tests` or `mlops-maturity explain levels`".into(),
    })
}
