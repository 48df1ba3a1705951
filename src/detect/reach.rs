//! Following what a pipeline step invokes inside the repository (Makefile targets,
//! shell scripts, tox/nox sessions, job specs), with a bounded depth, so that a
//! practice found there counts as run by the pipeline.
//!
//! Nothing is ever executed: the step's `run` text is split into simple commands
//! ([`shell`]: `&&`, `;`, pipes, continuations, comments and here-documents
//! handled; `FOO=1`, `env`, `timeout`, `uv/poetry/pipenv/conda/hatch/pdm run`
//! prefixes stripped; `cd`/`pushd` followed), each command is matched against
//! the invocation forms we know, and the part of the file it names is reported
//! with the chain that leads there:
//!
//! - `make [-C dir] [-f file] target…` (recipes, prerequisites, `$(MAKE)`, includes),
//!   `just`, `invoke`, go-task `task`, npm/yarn/pnpm scripts, pyproject scripts
//!   (poe, taskipy, PDM, Hatch, `[project.scripts]`);
//! - `bash|sh|source|. x.sh`, `./x.sh`, `bash -c "…"` (scripts are followed further);
//! - `python x.py`, `python -m pkg.mod`, `coverage run`, `torchrun`/`accelerate`/`deepspeed`;
//! - `pytest [paths]` (test modules of the named folders, `testpaths`, or `tests/`),
//!   `tox [-e envs]`, `nox [-s sessions]`;
//! - `dvc repro [stage]` / `dvc exp run`, `mlflow run` (MLproject), `papermill`,
//!   `jupyter nbconvert --execute`;
//! - `az ml job create -f job.yml`, `kubectl apply -f` of a Job (their `command`) and
//!   `anyscale job submit job.yaml` (its `entrypoint`).
//!
//! Chains: the step's location, then for each hop the line of the command (or
//! make target header) that invoked the next part, then the entry of the reached
//! part itself (target header, tox `commands` key, nox function, DVC stage key,
//! or the whole file as `path` with line 0).

mod make;
mod runners;
mod shell;

use std::collections::HashSet;

use crate::evidence::{FileSet, Location, RepoFile};
use crate::pipeline::Step;

use runners::{Part, Run, RunText, dir_of, join, normalise};

/// A part of a repository file that a step reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    /// A repository file. (A test folder given to `pytest` is reported as the
    /// test modules under it, at most 25 per folder.)
    pub path: String,
    /// 1-based inclusive line range inside `path` (a Makefile recipe, a tox section);
    /// `None` = the whole file.
    pub lines: Option<(u32, u32)>,
    /// How it was reached: the step's location, then each file:line on the way.
    pub chain: Vec<Location>,
}

impl Reached {
    /// The repository files this part covers: the file itself (or, defensively,
    /// every file under the path if it names a folder).
    pub fn files<'a>(&'a self, files: &'a FileSet) -> Vec<&'a RepoFile> {
        match files.get(&self.path) {
            Some(file) => vec![file],
            None => files.under(&self.path).collect(),
        }
    }

    /// True when a 1-based line of `path` lies inside the reached part.
    pub fn covers(&self, line: u32) -> bool {
        self.lines.is_none_or(|(a, b)| line >= a && line <= b)
    }
}

/// At most this many parts per step (work bound; reports stay readable).
pub const MAX_REACHED: usize = 50;
/// At most this many test modules per folder given to a test runner.
const MAX_TEST_MODULES: usize = 25;
/// At most this many simple commands examined per step, across all hops.
const MAX_COMMANDS: usize = 5_000;

/// Everything a step reaches, up to `max_depth` hops.
pub fn follow_step(files: &FileSet, step: &Step, max_depth: usize) -> Vec<Reached> {
    let Some(run) = step.run.as_deref() else {
        return Vec::new();
    };
    let mut follower = Follower {
        files,
        max_depth,
        out: Vec::new(),
        seen: HashSet::new(),
        commands: 0,
    };
    let ctx = Context {
        prefix: vec![step.location.clone()],
        depth: 0,
        file: None,
    };
    follower.follow_text(run, 1, "", &ctx);
    follower.out
}

/// Where the commands being followed come from.
#[derive(Debug, Clone)]
struct Context {
    /// Chain so far (step location and the hops before the current part).
    prefix: Vec<Location>,
    /// Hops taken to get here (0 = the step's own text).
    depth: usize,
    /// The file the commands are in (`None` for the step itself).
    file: Option<String>,
}

struct Follower<'a> {
    files: &'a FileSet,
    max_depth: usize,
    out: Vec<Reached>,
    seen: HashSet<(String, Option<(u32, u32)>)>,
    commands: usize,
}

/// Tools that `python -m X` runs the same way as `X`.
const PYTHON_TOOLS: &[&str] = &[
    "pytest",
    "tox",
    "nox",
    "dvc",
    "papermill",
    "jupyter",
    "invoke",
    "coverage",
];

impl Follower<'_> {
    fn full(&self) -> bool {
        self.out.len() >= MAX_REACHED || self.commands >= MAX_COMMANDS
    }

    /// Follow every command of a shell text. `first_line` is the file line of
    /// the text's first line; `cwd` the working directory it starts in.
    fn follow_text(&mut self, text: &str, first_line: u32, cwd: &str, ctx: &Context) {
        let mut cwd = cwd.to_string();
        let mut dir_stack: Vec<String> = Vec::new();
        for command in shell::commands(text) {
            if self.full() {
                return;
            }
            self.commands += 1;
            let line = first_line.saturating_add(command.line.saturating_sub(1));
            let words = shell::strip_prefixes(&command.words);
            match words.first().map(String::as_str) {
                Some("cd") | Some("pushd") => {
                    let target = words.get(1).map(String::as_str).unwrap_or("");
                    let previous = cwd.clone();
                    cwd = self.change_dir(&cwd, target, ctx);
                    if words.first().is_some_and(|w| w == "pushd") {
                        dir_stack.push(previous);
                    }
                }
                Some("popd") => cwd = dir_stack.pop().unwrap_or_default(),
                _ => {
                    let wrapped = shell::run_wrapped(&command.words);
                    self.follow_words(words, line, &cwd, ctx, wrapped)
                }
            }
        }
    }

    fn change_dir(&self, cwd: &str, target: &str, ctx: &Context) -> String {
        let script_dir = ctx.file.as_deref().map(dir_of).unwrap_or("");
        if target.is_empty() || target == "~" {
            return String::new();
        }
        let target = strip_workspace(target);
        // `cd "$(dirname "$0")"` and friends: the script's own folder.
        let target = if target.contains("dirname") || target.contains("BASH_SOURCE") {
            let rest = target.rsplit_once([')', '}']).map_or("", |(_, r)| r);
            join(script_dir, rest.trim_start_matches('/'))
        } else if target.starts_with('/') || target.contains('$') {
            return cwd.to_string();
        } else {
            join(cwd, target)
        };
        normalise(&target)
    }

    /// The file a word names, relative to the working directory, then to the
    /// current file's folder, then to the repository root.
    fn resolve(&self, cwd: &str, word: &str, ctx: &Context, dirs_too: bool) -> Option<String> {
        let word = strip_workspace(word);
        if word.is_empty() || word.contains('$') || word.contains('*') || word.starts_with('/') {
            return None;
        }
        let script_dir = ctx.file.as_deref().map(dir_of).unwrap_or("");
        for base in [cwd, script_dir, ""] {
            let candidate = normalise(&join(base, word));
            if candidate.is_empty() {
                continue;
            }
            if self.files.contains(&candidate)
                || (dirs_too && self.files.under(&candidate).next().is_some())
            {
                return Some(candidate);
            }
        }
        None
    }

    /// Match one simple command against the invocation forms we know.
    /// `wrapped`: the command came after a project runner (`hatch run`, `pdm run`,
    /// `uv run`), so a bare name may be a script defined in pyproject.toml.
    fn follow_words(
        &mut self,
        words: &[String],
        line: u32,
        cwd: &str,
        ctx: &Context,
        wrapped: bool,
    ) {
        let Some(program) = words.first() else {
            return;
        };
        let args = words.get(1..).unwrap_or_default();
        let name = program.rsplit('/').next().unwrap_or(program);
        let invoked_at = ctx.file.as_ref().map(|f| Location::new(f.clone(), line));
        if matches!(name, "make" | "gmake") && !program.contains('/') {
            for (via, part) in self.make_parts(cwd, args, ctx) {
                self.add(part, invoked_at.clone(), via, ctx);
            }
            return;
        }
        let parts: Vec<Part> = match name {
            "bash" | "sh" | "zsh" | "dash" | "source" | "." => {
                let mut rest = args;
                while let Some(w) = rest.first() {
                    if w == "-c" {
                        // `bash -c "…"`: the text is followed as if written here.
                        if let Some(text) = rest.get(1) {
                            self.follow_text(text, line, cwd, ctx);
                        }
                        return;
                    }
                    if !w.starts_with('-') {
                        break;
                    }
                    rest = &rest[1..];
                }
                rest.first()
                    .and_then(|s| self.resolve(cwd, s, ctx, false))
                    .map(|p| self.file_part(&p))
                    .into_iter()
                    .collect()
            }
            n if is_python(n) => self.python_parts(cwd, args, line, ctx),
            "pytest" | "py.test" => self.pytest_parts(cwd, args, ctx),
            "coverage" => {
                // `coverage run [-m] pytest …` / `coverage run x.py`
                if args.first().is_some_and(|a| a == "run") {
                    let rest = skip_options(
                        args.get(1..).unwrap_or_default(),
                        &[
                            "--rcfile",
                            "--source",
                            "--omit",
                            "--include",
                            "--data-file",
                            "--concurrency",
                            "--context",
                        ],
                    );
                    self.python_parts(cwd, rest, line, ctx)
                } else {
                    Vec::new()
                }
            }
            "tox" => {
                let envs = option_values(args, &["-e", "--env", "-f"]);
                runners::tox_parts(self.files, cwd, &envs)
            }
            "nox" => {
                let mut sessions = option_values(args, &["-s", "--session", "--sessions", "-e"]);
                sessions.extend(option_values(args, &["-t", "--tags"]));
                let noxfile = option_values(args, &["-f", "--noxfile"]).into_iter().next();
                runners::nox_parts(self.files, cwd, &sessions, noxfile.as_deref())
            }
            "invoke" | "inv" => {
                let tasks: Vec<String> = args
                    .iter()
                    .filter(|a| !a.starts_with('-'))
                    .cloned()
                    .collect();
                runners::invoke_parts(self.files, cwd, &tasks)
            }
            "just" => {
                let recipes: Vec<String> = args
                    .iter()
                    .filter(|a| !a.starts_with('-') && !a.contains('='))
                    .cloned()
                    .collect();
                runners::just_parts(self.files, cwd, &recipes)
            }
            "npm" | "yarn" | "pnpm" | "bun" => match npm_script(name, args) {
                Some(script) => runners::npm_parts(self.files, cwd, &script),
                None => Vec::new(),
            },
            "dvc" => match args.first().map(String::as_str) {
                Some("repro") | Some("exp") => {
                    let rest: &[String] = if args.first().is_some_and(|a| a == "exp") {
                        if args.get(1).is_some_and(|a| a == "run") {
                            args.get(2..).unwrap_or_default()
                        } else {
                            return;
                        }
                    } else {
                        args.get(1..).unwrap_or_default()
                    };
                    let single = rest.iter().any(|a| a == "-s" || a == "--single-item");
                    let targets: Vec<&String> =
                        rest.iter().filter(|a| !a.starts_with('-')).collect();
                    if targets.is_empty() {
                        runners::dvc_parts(self.files, cwd, None, single)
                    } else {
                        targets
                            .into_iter()
                            .flat_map(|t| runners::dvc_parts(self.files, cwd, Some(t), single))
                            .collect()
                    }
                }
                _ => Vec::new(),
            },
            "papermill" => args
                .iter()
                .find(|a| !a.starts_with('-'))
                .and_then(|nb| self.resolve(cwd, nb, ctx, false))
                .map(|p| self.file_part(&p))
                .into_iter()
                .collect(),
            "jupyter" => {
                let executes = match args.first().map(String::as_str) {
                    Some("nbconvert") => args.iter().any(|a| a == "--execute"),
                    Some("execute") | Some("run") => true,
                    _ => false,
                };
                if executes {
                    args.iter()
                        .filter(|a| a.ends_with(".ipynb"))
                        .filter_map(|nb| self.resolve(cwd, nb, ctx, false))
                        .map(|p| self.file_part(&p))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            "az" if args.first().is_some_and(|a| a == "ml") => {
                let is_create = args.get(2).is_some_and(|a| a == "create" || a == "update")
                    && args.get(1).is_some_and(|a| a == "job" || a == "pipeline");
                if is_create {
                    option_values(args, &["-f", "--file"])
                        .iter()
                        .filter_map(|f| self.resolve(cwd, f, ctx, false))
                        .filter_map(|p| runners::job_spec_part(self.files, &p))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            // Anyscale: `anyscale job[s] submit [-f|--config-file] job.yaml` runs the
            // spec's `entrypoint` on a cluster; the run is part of the pipeline step.
            "anyscale"
                if args.first().is_some_and(|a| a == "job" || a == "jobs")
                    && args.get(1).is_some_and(|a| a == "submit") =>
            {
                let rest = args.get(2..).unwrap_or_default();
                let mut specs = option_values(rest, &["-f", "--config-file", "--config"]);
                specs.extend(
                    rest.iter()
                        .filter(|a| {
                            !a.starts_with('-') && (a.ends_with(".yaml") || a.ends_with(".yml"))
                        })
                        .cloned(),
                );
                specs.sort();
                specs.dedup();
                specs
                    .iter()
                    .filter_map(|f| self.resolve(cwd, f, ctx, false))
                    .filter_map(|p| runners::job_spec_part(self.files, &p))
                    .collect()
            }
            "kubectl" | "oc" if args.first().is_some_and(|a| a == "apply" || a == "create") => {
                option_values(args, &["-f", "--filename"])
                    .iter()
                    .filter_map(|f| self.resolve(cwd, f, ctx, false))
                    .filter(|p| self.is_k8s_job(p))
                    .filter_map(|p| runners::job_spec_part(self.files, &p))
                    .collect()
            }
            "mlflow" if args.first().is_some_and(|a| a == "run") => {
                let rest = args.get(1..).unwrap_or_default();
                let uri = first_positional(rest, &["--no-conda", "--build-image"]);
                let entry = option_values(rest, &["-e", "--entry-point"])
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "main".to_string());
                match uri {
                    Some(u) if !u.contains("://") && !u.contains('@') => {
                        let dir = normalise(&join(cwd, strip_workspace(u)));
                        runners::mlproject_parts(self.files, &dir, &entry)
                    }
                    _ => Vec::new(),
                }
            }
            // Launchers that run a Python script: distributed training, apps.
            "torchrun" | "accelerate" | "deepspeed" | "horovodrun" | "streamlit" | "kedro"
            | "lightning" | "fastapi" => args
                .iter()
                .find(|a| a.ends_with(".py"))
                .and_then(|f| self.resolve(cwd, f, ctx, false))
                .map(|p| self.file_part(&p))
                .into_iter()
                .collect(),
            "poe" => args
                .iter()
                .find(|a| !a.starts_with('-'))
                .map(|t| runners::pyproject_script_parts(self.files, cwd, t))
                .unwrap_or_default(),
            // `task x`: taskipy (pyproject) or go-task (Taskfile.yml).
            "task" => {
                let tasks: Vec<String> = args
                    .iter()
                    .filter(|a| !a.starts_with('-'))
                    .cloned()
                    .collect();
                let from_pyproject: Vec<Part> = tasks
                    .first()
                    .map(|t| runners::pyproject_script_parts(self.files, cwd, t))
                    .unwrap_or_default();
                if from_pyproject.is_empty() {
                    runners::taskfile_parts(self.files, cwd, &tasks)
                } else {
                    from_pyproject
                }
            }
            // `mise run a b`, `mise r a`, `mise a` (a task name as the verb): TOML
            // tasks, else file tasks. `mise exec`/`mise x`/`mise install` are not tasks.
            "mise" => {
                let tasks: Vec<String> = match args.first().map(String::as_str) {
                    Some("run" | "r") => args
                        .iter()
                        .skip(1)
                        .take_while(|a| a.as_str() != "--" && a.as_str() != ":::")
                        .filter(|a| !a.starts_with('-'))
                        .cloned()
                        .collect(),
                    // mise's own commands win over a task of the same name.
                    Some(
                        "exec" | "x" | "install" | "i" | "use" | "u" | "trust" | "activate"
                        | "settings" | "ls" | "tasks" | "env" | "set" | "upgrade" | "up" | "watch"
                        | "w" | "tool" | "where" | "which" | "self-update",
                    ) => Vec::new(),
                    Some(t) if !t.starts_with('-') => vec![t.to_string()],
                    _ => Vec::new(),
                };
                let from_toml = runners::mise_toml_parts(self.files, cwd, &tasks);
                if from_toml.is_empty() {
                    tasks
                        .iter()
                        .filter_map(|t| runners::mise_file_task(self.files, cwd, t))
                        .map(|p| self.file_part(&p))
                        .collect()
                } else {
                    from_toml
                }
            }
            "Rscript" | "julia" | "node" => args
                .iter()
                .find(|a| !a.starts_with('-'))
                .and_then(|f| self.resolve(cwd, f, ctx, false))
                .map(|p| self.file_part(&p))
                .into_iter()
                .collect(),
            _ => {
                // A script run by path: `./scripts/train.sh`, `bin/deploy`, `./train.py`.
                // Build-tool wrappers (`./gradlew`, `./mvnw`) are vendored launchers, not project scripts.
                let wrapper = matches!(name, "gradlew" | "mvnw" | "gradlew.bat" | "mvnw.cmd");
                let looks_like_path = !wrapper
                    && (program.contains('/')
                        || [".sh", ".bash", ".py"].iter().any(|e| program.ends_with(e)));
                if looks_like_path {
                    self.resolve(cwd, program, ctx, false)
                        .map(|p| self.file_part(&p))
                        .into_iter()
                        .collect()
                } else if wrapped {
                    // `hatch run test`, `pdm run lint`, `uv run train`: a project script;
                    // `pixi run train`: a pixi task.
                    let scripts = runners::pyproject_script_parts(self.files, cwd, program);
                    if scripts.is_empty() {
                        runners::pixi_parts(self.files, cwd, program)
                    } else {
                        scripts
                    }
                } else {
                    Vec::new()
                }
            }
        };
        for part in parts {
            self.add(part, invoked_at.clone(), Vec::new(), ctx);
        }
    }

    /// Record a reached part and follow what it runs, within the depth bound.
    /// `via`: locations passed between the invoking command and the part
    /// (the headers of the make targets that need a prerequisite).
    fn add(&mut self, part: Part, invoked_at: Option<Location>, via: Vec<Location>, ctx: &Context) {
        if self.full() {
            return;
        }
        if !self.seen.insert((part.path.clone(), part.lines)) {
            return; // already reached (cycle or repeated invocation)
        }
        let mut prefix = ctx.prefix.clone();
        prefix.extend(invoked_at);
        prefix.extend(via);
        let mut chain = prefix.clone();
        chain.push(part.entry.clone());
        self.out.push(Reached {
            path: part.path.clone(),
            lines: part.lines,
            chain,
        });
        let depth = ctx.depth + 1;
        if depth >= self.max_depth {
            return;
        }
        let inner = Context {
            prefix,
            depth,
            file: Some(part.path.clone()),
        };
        for Run { line, text, cwd } in part.runs {
            if self.full() {
                return;
            }
            match text {
                RunText::Shell(t) => self.follow_text(&t, line, &cwd, &inner),
                RunText::Words(words) => {
                    self.commands += 1;
                    let stripped = shell::strip_prefixes(&words);
                    self.follow_words(stripped, line, &cwd, &inner, shell::run_wrapped(&words));
                }
            }
        }
    }

    /// A whole file; shell scripts are followed further.
    fn file_part(&self, path: &str) -> Part {
        let runs = match self.files.text(path) {
            Some(text) if is_shell_script(path, text) => vec![Run {
                line: 1,
                text: RunText::Shell(text.to_string()),
                cwd: String::new(),
            }],
            _ => Vec::new(),
        };
        Part {
            path: path.to_string(),
            lines: None,
            entry: Location::file(path),
            runs,
        }
    }

    fn is_k8s_job(&self, path: &str) -> bool {
        self.files.text(path).is_some_and(|t| {
            t.lines()
                .any(|l| matches!(l.trim(), "kind: Job" | "kind: CronJob"))
        })
    }

    /// `python [opts] x.py`, `python -m pkg.mod`, `python -m pytest …`.
    fn python_parts(&mut self, cwd: &str, args: &[String], line: u32, ctx: &Context) -> Vec<Part> {
        let mut rest = args;
        while let Some(w) = rest.first() {
            match w.as_str() {
                "-c" => return Vec::new(),
                "-m" => {
                    let Some(module) = rest.get(1) else {
                        return Vec::new();
                    };
                    let tool = module.split('.').next().unwrap_or(module);
                    if PYTHON_TOOLS.contains(&tool) {
                        let mut words = vec![tool.to_string()];
                        words.extend(rest.get(2..).unwrap_or_default().iter().cloned());
                        self.follow_words(&words, line, cwd, ctx, false);
                        return Vec::new();
                    }
                    return self
                        .module_path(cwd, module, ctx)
                        .map(|p| self.file_part(&p))
                        .into_iter()
                        .collect();
                }
                "-W" | "-X" => rest = rest.get(2..).unwrap_or_default(),
                w if w.starts_with('-') => rest = &rest[1..],
                _ => break,
            }
        }
        rest.first()
            .and_then(|script| self.resolve(cwd, script, ctx, false))
            .map(|p| self.file_part(&p))
            .into_iter()
            .collect()
    }

    /// `pkg.mod` → `pkg/mod.py` or `pkg/mod/__main__.py`, in cwd or `src/`.
    fn module_path(&self, cwd: &str, module: &str, ctx: &Context) -> Option<String> {
        let rel = module.replace('.', "/");
        for base in [cwd.to_string(), join(cwd, "src")] {
            for candidate in [format!("{rel}.py"), format!("{rel}/__main__.py")] {
                if let Some(p) = self.resolve(&base, &candidate, ctx, false) {
                    return Some(p);
                }
            }
        }
        None
    }

    /// `pytest [paths]`: the named test files or folders, else `testpaths`, else `tests/`.
    fn pytest_parts(&self, cwd: &str, args: &[String], ctx: &Context) -> Vec<Part> {
        let mut named: Vec<String> = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .map(|a| a.split("::").next().unwrap_or(a).to_string())
            .filter_map(|a| self.resolve(cwd, &a, ctx, true))
            .collect();
        if named.is_empty() {
            named = runners::pytest_testpaths(self.files, cwd)
                .iter()
                .filter_map(|p| self.resolve(cwd, p, ctx, true))
                .collect();
        }
        if named.is_empty() {
            named = ["tests", "test"]
                .iter()
                .filter_map(|p| self.resolve(cwd, p, ctx, true))
                .take(1)
                .collect();
        }
        let notebooks = args.iter().any(|a| a == "--nbmake");
        let mut parts = Vec::new();
        for path in named {
            if self.files.contains(&path) {
                parts.push(path);
                continue;
            }
            // A folder: the test modules pytest collects there (test files first,
            // then conftest and helpers), bounded so one folder cannot use up the budget.
            let mut modules: Vec<&str> = self
                .files
                .under(&path)
                .map(|f| f.path.as_str())
                .filter(|p| p.ends_with(".py") || (notebooks && p.ends_with(".ipynb")))
                .collect();
            modules.sort_by_key(|p| {
                let name = p.rsplit('/').next().unwrap_or(p);
                let is_test = name.starts_with("test_") || name.ends_with("_test.py");
                (!is_test, name != "conftest.py", p.to_string())
            });
            parts.extend(
                modules
                    .into_iter()
                    .take(MAX_TEST_MODULES)
                    .map(str::to_string),
            );
        }
        parts
            .into_iter()
            .map(|path| Part {
                entry: Location::file(path.clone()),
                path,
                lines: None,
                runs: Vec::new(),
            })
            .collect()
    }

    /// `make [-C dir] [-f file] [VAR=x] target…`: each target's recipe, then its
    /// prerequisites' recipes (the chain passes through the target header).
    fn make_parts(&self, cwd: &str, args: &[String], ctx: &Context) -> Vec<(Vec<Location>, Part)> {
        let mut dir = cwd.to_string();
        let mut file: Option<String> = None;
        let mut targets: Vec<String> = Vec::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            i += 1;
            match a.as_str() {
                "-C" | "--directory" => {
                    if let Some(d) = args.get(i) {
                        dir = normalise(&join(&dir, strip_workspace(d)));
                        i += 1;
                    }
                }
                "-f" | "--file" | "--makefile" => {
                    file = args.get(i).cloned();
                    i += 1;
                }
                "-j" | "--jobs" | "-l" => {
                    if args
                        .get(i)
                        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
                    {
                        i += 1;
                    }
                }
                "-I" | "-o" | "-W" => i += 1,
                a if a.starts_with("-C") && a.len() > 2 => {
                    dir = normalise(&join(&dir, &a[2..]));
                }
                a if a.starts_with("--directory=") => {
                    dir = normalise(&join(&dir, &a["--directory=".len()..]));
                }
                a if a.starts_with("--file=") || a.starts_with("--makefile=") => {
                    file = a.split_once('=').map(|(_, f)| f.to_string());
                }
                a if a.starts_with('-') || shell::is_assignment(a) => {}
                a => targets.push(a.to_string()),
            }
        }
        let main_path = match &file {
            Some(f) => self.resolve(&dir, f, ctx, false),
            None => ["GNUmakefile", "makefile", "Makefile"]
                .iter()
                .map(|n| join(&dir, n))
                .find(|p| self.files.contains(p)),
        };
        let Some(main_path) = main_path else {
            return Vec::new();
        };
        let Some(text) = self.files.text(&main_path) else {
            return Vec::new();
        };
        let main = make::parse(text);
        let make_dir = dir_of(&main_path).to_string();
        // Included makefiles (literal paths, one level) contribute rules too.
        let mut books: Vec<(String, make::Makefile)> = Vec::new();
        let mut vars = main.vars.clone();
        for inc in main.includes.iter().take(10) {
            let p = normalise(&join(&make_dir, inc));
            if let Some(t) = self.files.text(&p) {
                let mk = make::parse(t);
                for (k, v) in &mk.vars {
                    vars.entry(k.clone()).or_insert_with(|| v.clone());
                }
                books.push((p, mk));
            }
        }
        let default = main.default_target().map(str::to_string);
        books.insert(0, (main_path.clone(), main));
        let expander = make::Makefile {
            vars,
            ..Default::default()
        };
        if targets.is_empty() {
            targets.extend(default);
        }
        // Breadth-first over targets and prerequisites; `via` = header lines on the way.
        let mut queue: Vec<(String, Vec<Location>)> =
            targets.into_iter().map(|t| (t, Vec::new())).collect();
        let mut visited: HashSet<String> = HashSet::new();
        let mut parts = Vec::new();
        let mut q = 0;
        while let Some((target, via)) = queue.get(q).cloned() {
            q += 1;
            if q > 200 || parts.len() >= MAX_REACHED {
                break;
            }
            if !visited.insert(target.clone()) {
                continue;
            }
            for (path, mk) in &books {
                for rule in mk.rules_for(&target) {
                    let header = Location::new(path.clone(), rule.line);
                    let mut next_via = via.clone();
                    next_via.push(header.clone());
                    for pre in &rule.prerequisites {
                        queue.push((expander.expand(pre), next_via.clone()));
                    }
                    let Some(range) = rule.recipe_range else {
                        continue;
                    };
                    let runs = rule
                        .recipe
                        .iter()
                        .map(|(l, t)| Run {
                            line: *l,
                            text: RunText::Shell(
                                expander.expand(t.trim_start_matches(['@', '-', '+'])),
                            ),
                            cwd: make_dir.clone(),
                        })
                        .collect();
                    parts.push((
                        via.clone(),
                        Part {
                            path: path.clone(),
                            lines: Some(range),
                            entry: header,
                            runs,
                        },
                    ));
                }
            }
        }
        parts
    }
}

/// `python`, `python3`, `python3.11`, `py`.
fn is_python(name: &str) -> bool {
    name == "py"
        || name
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// CI workspace variables mean the repository root.
fn strip_workspace(word: &str) -> &str {
    for prefix in [
        "${{ github.workspace }}/",
        "${{github.workspace}}/",
        "$GITHUB_WORKSPACE/",
        "${GITHUB_WORKSPACE}/",
        "$CI_PROJECT_DIR/",
        "${CI_PROJECT_DIR}/",
        "$WORKSPACE/",
        "${WORKSPACE}/",
        "$(pwd)/",
        "$PWD/",
        "${PWD}/",
    ] {
        if let Some(rest) = word.strip_prefix(prefix) {
            return rest;
        }
    }
    word
}

/// A shell script by extension, or by a shell shebang.
fn is_shell_script(path: &str, text: &str) -> bool {
    if path.ends_with(".sh") || path.ends_with(".bash") {
        return true;
    }
    if path.rsplit('/').next().is_some_and(|n| n.contains('.')) {
        return false;
    }
    let first = text.lines().next().unwrap_or_default();
    first.starts_with("#!") && (first.contains("sh") && !first.contains("python"))
}

/// Values of options such as `-e a,b`, `-e=a`, `--env a`, split on commas.
/// For nox-style options, every following non-option word is a value.
fn option_values(args: &[String], names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        i += 1;
        if let Some((k, v)) = a.split_once('=') {
            if names.contains(&k) {
                out.extend(v.split(',').map(str::to_string));
            }
            continue;
        }
        if names.contains(&a.as_str()) {
            while let Some(v) = args.get(i) {
                if v.starts_with('-') {
                    break;
                }
                out.extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string));
                i += 1;
            }
        }
    }
    out
}

/// The first positional argument: options are skipped with their value
/// (`-P a=1`), except `--opt=value` forms and the named value-less flags.
fn first_positional<'a>(args: &'a [String], flags: &[&str]) -> Option<&'a str> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.starts_with('-') {
            return Some(a);
        }
        i += if a.contains('=') || flags.contains(&a.as_str()) {
            1
        } else {
            2
        };
    }
    None
}

/// Drop leading options (and the values of the named ones) from a word list.
fn skip_options<'a>(args: &'a [String], with_value: &[&str]) -> &'a [String] {
    let mut rest = args;
    while let Some(w) = rest.first() {
        if !w.starts_with('-') {
            break;
        }
        if with_value.contains(&w.as_str()) {
            rest = rest.get(2..).unwrap_or_default();
        } else {
            rest = &rest[1..];
        }
    }
    rest
}

/// The package.json script an npm/yarn/pnpm/bun command runs.
fn npm_script(tool: &str, args: &[String]) -> Option<String> {
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let first = positional.first()?.as_str();
    match first {
        "run" | "run-script" => positional.get(1).map(|s| s.to_string()),
        "test" | "t" | "tst" => Some("test".into()),
        "start" => Some("start".into()),
        "install" | "ci" | "i" | "add" | "exec" | "dlx" | "x" | "publish" | "build"
            if tool == "npm" && first == "build" =>
        {
            None
        }
        "install" | "ci" | "i" | "add" | "exec" | "dlx" | "x" | "publish" | "audit" | "pack"
        | "version" | "config" | "cache" | "link" | "remove" | "uninstall" | "init" | "create"
        | "global" | "upgrade" | "update" | "outdated" | "why" | "workspace" => None,
        // `yarn build`, `pnpm lint`, `bun test` run the script of that name.
        name if tool != "npm" => Some(name.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn files(entries: &[(&str, &str)]) -> FileSet {
        FileSet::new(
            entries
                .iter()
                .map(|(path, text)| RepoFile {
                    path: path.to_string(),
                    size: text.len() as u64,
                    content: Some(Arc::from(*text)),
                    skipped: None,
                })
                .collect(),
        )
    }

    fn step(run: &str) -> Step {
        Step {
            name: None,
            run: Some(run.to_string()),
            uses: None,
            with: Default::default(),
            condition: None,
            may_fail: false,
            via: None,
            location: Location::new(".github/workflows/ci.yml", 20),
        }
    }

    fn loc(path: &str, line: u32) -> Location {
        Location::new(path, line)
    }

    const STEP: (&str, u32) = (".github/workflows/ci.yml", 20);

    type Summary = (String, Option<(u32, u32)>, Vec<String>);

    fn summary(reached: &[Reached]) -> Vec<Summary> {
        reached
            .iter()
            .map(|r| {
                (
                    r.path.clone(),
                    r.lines,
                    r.chain.iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn make_target_prerequisites_and_scripts() {
        let fs = files(&[
            (
                "Makefile",
                "PY = python\n.PHONY: test lint\nlint:\n\truff check .\n\ntest: lint\n\t$(PY) -m pytest tests\n\tbash scripts/check.sh\n",
            ),
            (
                "scripts/check.sh",
                "#!/bin/bash\nset -e\npython src/check.py\n",
            ),
            ("src/check.py", "print(1)\n"),
            ("tests/test_a.py", "def test_a(): pass\n"),
        ]);
        let got = follow_step(&fs, &step("pip install -e .\nmake test"), 5);
        let s = STEP.0;
        assert_eq!(
            summary(&got),
            vec![
                (
                    "Makefile".into(),
                    Some((7, 8)),
                    vec![format!("{s}:20"), "Makefile:6".into()]
                ),
                (
                    "tests/test_a.py".into(),
                    None,
                    vec![
                        format!("{s}:20"),
                        "Makefile:7".into(),
                        "tests/test_a.py".into()
                    ]
                ),
                (
                    "scripts/check.sh".into(),
                    None,
                    vec![
                        format!("{s}:20"),
                        "Makefile:8".into(),
                        "scripts/check.sh".into()
                    ]
                ),
                (
                    "src/check.py".into(),
                    None,
                    vec![
                        format!("{s}:20"),
                        "Makefile:8".into(),
                        "scripts/check.sh:3".into(),
                        "src/check.py".into()
                    ]
                ),
                (
                    "Makefile".into(),
                    Some((4, 4)),
                    vec![format!("{s}:20"), "Makefile:6".into(), "Makefile:3".into()]
                ),
            ]
        );
        let tests = got.iter().find(|r| r.path == "tests/test_a.py").unwrap();
        assert_eq!(tests.files(&fs).len(), 1);
    }

    #[test]
    fn make_with_directory_file_and_recursive_make() {
        let fs = files(&[
            (
                "ml/build.mk",
                "all: train\ntrain:\n\t$(MAKE) -f build.mk eval\neval:\n\tpython eval.py\n",
            ),
            ("ml/eval.py", "x = 1\n"),
        ]);
        let got = follow_step(&fs, &step("make -C ml -f build.mk train"), 5);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "ml/build.mk".into(),
                    Some((3, 3)),
                    vec![format!("{}:20", STEP.0), "ml/build.mk:2".into()]
                ),
                (
                    "ml/build.mk".into(),
                    Some((5, 5)),
                    vec![
                        format!("{}:20", STEP.0),
                        "ml/build.mk:3".into(),
                        "ml/build.mk:4".into()
                    ]
                ),
                (
                    "ml/eval.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "ml/build.mk:3".into(),
                        "ml/build.mk:5".into(),
                        "ml/eval.py".into()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn default_target_and_cycles_terminate() {
        let fs = files(&[("Makefile", "a: b\n\techo a\nb: a\n\t$(MAKE) a\n")]);
        let got = follow_step(&fs, &step("make"), 10);
        let ranges: Vec<_> = got.iter().map(|r| r.lines).collect();
        assert_eq!(ranges, vec![Some((2, 2)), Some((4, 4))]);
    }

    #[test]
    fn depth_bound_stops_following() {
        let fs = files(&[
            ("a.sh", "bash b.sh\n"),
            ("b.sh", "bash c.sh\n"),
            ("c.sh", "echo c\n"),
        ]);
        let paths = |d| -> Vec<String> {
            follow_step(&fs, &step("./a.sh"), d)
                .into_iter()
                .map(|r| r.path)
                .collect()
        };
        assert_eq!(paths(1), vec!["a.sh"]);
        assert_eq!(paths(2), vec!["a.sh", "b.sh"]);
        assert_eq!(paths(5), vec!["a.sh", "b.sh", "c.sh"]);
    }

    #[test]
    fn python_forms_wrappers_and_cd() {
        let fs = files(&[
            ("src/pkg/train.py", ""),
            ("pkg2/serve/__main__.py", ""),
            ("ml/eval.py", ""),
            ("notebooks/report.ipynb", "{}"),
            ("notebooks/explore.ipynb", "{}"),
        ]);
        let text = "export X=1\nuv run python -m pkg.train --epochs 1\npoetry run python -m pkg2.serve\ncd ml && CUDA=0 python3 -u eval.py\ncd ..\npapermill notebooks/report.ipynb out.ipynb\n# python ml/eval.py\njupyter nbconvert --to html notebooks/explore.ipynb\n";
        let got: Vec<String> = follow_step(&fs, &step(text), 3)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(
            got,
            vec![
                "src/pkg/train.py",
                "pkg2/serve/__main__.py",
                "ml/eval.py",
                "notebooks/report.ipynb"
            ]
        );
        // Executed notebooks count; rendering without --execute does not.
        let got = follow_step(
            &fs,
            &step("jupyter nbconvert --to notebook --execute notebooks/explore.ipynb"),
            3,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].chain,
            vec![
                loc(STEP.0, STEP.1),
                Location::file("notebooks/explore.ipynb")
            ]
        );
    }

    #[test]
    fn pytest_paths_testpaths_and_default() {
        let fs = files(&[
            ("tests/unit/test_a.py", ""),
            ("tests/integration/test_b.py", ""),
            (
                "pyproject.toml",
                "[tool.pytest.ini_options]\ntestpaths = [\"tests/unit\"]\n",
            ),
        ]);
        let paths = |run: &str| -> Vec<String> {
            follow_step(&fs, &step(run), 3)
                .into_iter()
                .map(|r| r.path)
                .collect()
        };
        assert_eq!(
            paths("pytest -k slow tests/integration/test_b.py::test_b"),
            vec!["tests/integration/test_b.py"]
        );
        assert_eq!(paths("python -m pytest -q"), vec!["tests/unit/test_a.py"]);
        let no_config = files(&[("tests/test_x.py", "")]);
        let got = follow_step(&no_config, &step("pytest --cov=src"), 3);
        assert_eq!(got[0].path, "tests/test_x.py");
    }

    #[test]
    fn test_folder_expands_to_test_modules_first_and_bounded() {
        let owned: Vec<(String, String)> = (0..30)
            .map(|i| (format!("tests/test_{i:02}.py"), String::new()))
            .chain([
                ("tests/conftest.py".to_string(), String::new()),
                ("tests/helpers.py".to_string(), String::new()),
                ("tests/data.csv".to_string(), String::new()),
            ])
            .collect();
        let entries: Vec<(&str, &str)> = owned
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let fs = files(&entries);
        let got: Vec<String> = follow_step(&fs, &step("pytest tests"), 3)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(got.len(), MAX_TEST_MODULES);
        assert_eq!(got[0], "tests/test_00.py");
        assert!(got.iter().all(|p| p.starts_with("tests/test_")));
        let small = files(&[
            ("tests/conftest.py", ""),
            ("tests/test_a.py", ""),
            ("tests/util.py", ""),
        ]);
        let got: Vec<String> = follow_step(&small, &step("pytest"), 3)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(
            got,
            vec!["tests/test_a.py", "tests/conftest.py", "tests/util.py"]
        );
    }

    #[test]
    fn tox_sections_and_commands() {
        let fs = files(&[
            (
                "tox.ini",
                "[tox]\nenvlist = py311, lint\n\n[testenv]\ndeps = pytest\ncommands =\n    pytest {posargs} tests\n    python scripts/smoke.py\n\n[testenv:lint]\ncommands = ruff check .\n",
            ),
            ("tests/test_a.py", ""),
            ("scripts/smoke.py", ""),
        ]);
        let got = follow_step(&fs, &step("tox -e lint"), 3);
        assert_eq!(
            summary(&got),
            vec![(
                "tox.ini".into(),
                Some((11, 11)),
                vec![format!("{}:20", STEP.0), "tox.ini:11".into()]
            )]
        );
        let got = follow_step(&fs, &step("tox"), 3);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "tox.ini".into(),
                    Some((6, 8)),
                    vec![format!("{}:20", STEP.0), "tox.ini:6".into()]
                ),
                (
                    "tests/test_a.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "tox.ini:7".into(),
                        "tests/test_a.py".into()
                    ]
                ),
                (
                    "scripts/smoke.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "tox.ini:8".into(),
                        "scripts/smoke.py".into()
                    ]
                ),
                (
                    "tox.ini".into(),
                    Some((11, 11)),
                    vec![format!("{}:20", STEP.0), "tox.ini:11".into()]
                ),
            ]
        );
    }

    #[test]
    fn tox_in_pyproject_legacy_ini() {
        let fs = files(&[(
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.tox]\nlegacy_tox_ini = \"\"\"\n[testenv]\ncommands = pytest\n\"\"\"\n",
        )]);
        let got = follow_step(&fs, &step("tox -e py"), 3);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].lines, Some((7, 7)));
    }

    #[test]
    fn tox_native_toml() {
        let fs = files(&[
            (
                "tox.toml",
                "env_list = [\"3.12\", \"lint\"]\n\n[env_run_base]\ncommands = [[\"pytest\", \"tests\"]]\n\n[env.lint]\ncommands = [[\"ruff\", \"check\"]]\n",
            ),
            ("tests/test_a.py", ""),
        ]);
        let s = format!("{}:20", STEP.0);
        assert_eq!(
            summary(&follow_step(&fs, &step("tox"), 3)),
            vec![
                (
                    "tox.toml".into(),
                    Some((4, 4)),
                    vec![s.clone(), "tox.toml:4".into()]
                ),
                (
                    "tests/test_a.py".into(),
                    None,
                    vec![s.clone(), "tox.toml:4".into(), "tests/test_a.py".into()]
                ),
                (
                    "tox.toml".into(),
                    Some((7, 7)),
                    vec![s.clone(), "tox.toml:7".into()]
                ),
            ]
        );
    }

    #[test]
    fn nox_sessions() {
        let fs = files(&[
            (
                "noxfile.py",
                "import nox\n\n@nox.session(python=[\"3.11\"])\ndef tests(session):\n    session.install(\".\")\n    session.run(\"pytest\", \"tests/unit\")\n\n\n@nox.session(name=\"lint\")\ndef run_lint(session):\n    session.run(\"ruff\", \"check\")\n",
            ),
            ("tests/unit/test_a.py", ""),
        ]);
        let got = follow_step(&fs, &step("nox -s tests-3.11"), 3);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "noxfile.py".into(),
                    Some((5, 6)),
                    vec![format!("{}:20", STEP.0), "noxfile.py:4".into()]
                ),
                (
                    "tests/unit/test_a.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "noxfile.py:6".into(),
                        "tests/unit/test_a.py".into()
                    ]
                ),
            ]
        );
        let got = follow_step(&fs, &step("nox --session lint"), 3);
        assert_eq!(got[0].lines, Some((11, 11)));
        assert_eq!(follow_step(&fs, &step("nox"), 1).len(), 2);
    }

    #[test]
    fn dvc_repro_stages_and_upstream() {
        let fs = files(&[
            (
                "dvc.yaml",
                "stages:\n  prepare:\n    cmd: python src/prepare.py\n    outs:\n      - data/prepared\n  train:\n    cmd:\n      - python src/train.py\n      - python src/export.py\n    deps:\n      - data/prepared\n    outs:\n      - model.pkl\n  evaluate:\n    cmd: python src/evaluate.py\n    deps:\n      - model.pkl\n",
            ),
            ("src/prepare.py", ""),
            ("src/train.py", ""),
            ("src/export.py", ""),
            ("src/evaluate.py", ""),
        ]);
        let got = follow_step(&fs, &step("dvc repro train"), 3);
        let s = format!("{}:20", STEP.0);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "dvc.yaml".into(),
                    Some((8, 9)),
                    vec![s.clone(), "dvc.yaml:6".into()]
                ),
                (
                    "src/train.py".into(),
                    None,
                    vec![s.clone(), "dvc.yaml:8".into(), "src/train.py".into()]
                ),
                (
                    "src/export.py".into(),
                    None,
                    vec![s.clone(), "dvc.yaml:9".into(), "src/export.py".into()]
                ),
                (
                    "dvc.yaml".into(),
                    Some((3, 3)),
                    vec![s.clone(), "dvc.yaml:2".into()]
                ),
                (
                    "src/prepare.py".into(),
                    None,
                    vec![s.clone(), "dvc.yaml:3".into(), "src/prepare.py".into()]
                ),
            ]
        );
        let all = follow_step(&fs, &step("dvc repro"), 1);
        assert_eq!(all.len(), 3);
        let single = follow_step(&fs, &step("dvc repro -s train"), 1);
        assert_eq!(single.len(), 1);
    }

    #[test]
    fn npm_just_invoke() {
        let fs = files(&[
            (
                "package.json",
                "{\n  \"name\": \"x\",\n  \"scripts\": {\n    \"pretest\": \"node lint.js\",\n    \"test\": \"jest\"\n  }\n}\n",
            ),
            ("lint.js", ""),
            (
                "justfile",
                "default: test\n\ntest: build\n    pytest\nbuild:\n    @bash build.sh\n",
            ),
            ("build.sh", "echo build\n"),
            (
                "tasks.py",
                "from invoke import task\n\n@task\ndef train_model(c):\n    c.run(\"python train.py\")\n",
            ),
            ("train.py", ""),
        ]);
        let got = follow_step(&fs, &step("npm test"), 3);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "package.json".into(),
                    Some((4, 4)),
                    vec![format!("{}:20", STEP.0), "package.json:4".into()]
                ),
                (
                    "lint.js".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "package.json:4".into(),
                        "lint.js".into()
                    ]
                ),
                (
                    "package.json".into(),
                    Some((5, 5)),
                    vec![format!("{}:20", STEP.0), "package.json:5".into()]
                ),
            ]
        );
        let got: Vec<_> = follow_step(&fs, &step("just"), 3)
            .into_iter()
            .map(|r| (r.path, r.lines))
            .collect();
        assert_eq!(
            got,
            vec![
                ("justfile".to_string(), Some((4, 4))),
                ("justfile".to_string(), Some((6, 6))),
                ("build.sh".to_string(), None)
            ]
        );
        let got = follow_step(&fs, &step("invoke train-model"), 3);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "tasks.py".into(),
                    Some((5, 5)),
                    vec![format!("{}:20", STEP.0), "tasks.py:4".into()]
                ),
                (
                    "train.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "tasks.py:5".into(),
                        "train.py".into()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn anyscale_job_submit_reaches_the_entrypoint_script() {
        let fs = files(&[
            (
                "deploy/jobs/workloads.yaml",
                "name: workloads\nruntime_env:\n  working_dir: .\nentrypoint: bash deploy/jobs/workloads.sh\n",
            ),
            ("deploy/jobs/workloads.sh", "pytest tests/code\n"),
            ("tests/code/test_a.py", ""),
        ]);
        let got: Vec<String> = follow_step(
            &fs,
            &step("anyscale jobs submit deploy/jobs/workloads.yaml --wait"),
            3,
        )
        .into_iter()
        .map(|r| r.path)
        .collect();
        assert_eq!(
            got,
            vec![
                "deploy/jobs/workloads.yaml",
                "deploy/jobs/workloads.sh",
                "tests/code/test_a.py"
            ]
        );
        // Other anyscale commands (service rollout, cluster start) reach no job spec.
        assert!(
            follow_step(
                &fs,
                &step("anyscale service rollout -f deploy/jobs/workloads.yaml"),
                3
            )
            .is_empty()
        );
    }

    #[test]
    fn job_specs_azure_ml_and_kubernetes() {
        let fs = files(&[
            (
                "ml/jobs/train.yml",
                "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncode: ../src\ncommand: >-\n  python train.py --data ${{inputs.data}}\nenvironment: azureml:env@latest\n",
            ),
            ("ml/src/train.py", ""),
            (
                "k8s/job.yaml",
                "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: t\n          command: [\"python\", \"scripts/batch.py\"]\n",
            ),
            ("scripts/batch.py", ""),
        ]);
        let got = follow_step(&fs, &step("az ml job create -f ml/jobs/train.yml --web"), 3);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "ml/jobs/train.yml".into(),
                    None,
                    vec![format!("{}:20", STEP.0), "ml/jobs/train.yml".into()]
                ),
                (
                    "ml/src/train.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "ml/jobs/train.yml:4".into(),
                        "ml/src/train.py".into()
                    ]
                ),
            ]
        );
        let got: Vec<String> = follow_step(&fs, &step("kubectl apply -f k8s/job.yaml"), 3)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(got, vec!["k8s/job.yaml", "scripts/batch.py"]);
    }

    #[test]
    fn workspace_variables_bash_c_and_missing_files() {
        let fs = files(&[
            (
                "ci/run.sh",
                "#!/usr/bin/env bash\ncd \"$(dirname \"$0\")\"\n./inner.sh\n",
            ),
            ("ci/inner.sh", "true\n"),
        ]);
        let got: Vec<String> = follow_step(
            &fs,
            &step("bash -c \"bash $GITHUB_WORKSPACE/ci/run.sh\"\n./missing.sh\nmake"),
            3,
        )
        .into_iter()
        .map(|r| r.path)
        .collect();
        assert_eq!(got, vec!["ci/run.sh", "ci/inner.sh"]);
    }

    #[test]
    fn steps_without_run_and_budget() {
        let mut s = step("x");
        s.run = None;
        assert!(follow_step(&FileSet::default(), &s, 3).is_empty());
        // 80 distinct scripts: capped at MAX_REACHED.
        let owned: Vec<(String, String)> = (0..80)
            .map(|i| (format!("s{i}.sh"), "true\n".to_string()))
            .collect();
        let entries: Vec<(&str, &str)> = owned
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let fs = files(&entries);
        let run: String = (0..80).map(|i| format!("bash s{i}.sh\n")).collect();
        assert_eq!(follow_step(&fs, &step(&run), 3).len(), MAX_REACHED);
    }

    #[test]
    fn mlflow_projects_and_launchers() {
        let fs = files(&[
            (
                "MLproject",
                "name: demo\nentry_points:\n  main:\n    parameters:\n      alpha: float\n    command: \"python train.py --alpha {alpha}\"\n  evaluate:\n    command: python eval.py\n",
            ),
            ("train.py", ""),
            ("eval.py", ""),
            ("ddp/train.py", ""),
        ]);
        let got = follow_step(&fs, &step("mlflow run . -P alpha=0.5"), 3);
        assert_eq!(
            summary(&got),
            vec![
                (
                    "MLproject".into(),
                    Some((6, 6)),
                    vec![format!("{}:20", STEP.0), "MLproject:3".into()]
                ),
                (
                    "train.py".into(),
                    None,
                    vec![
                        format!("{}:20", STEP.0),
                        "MLproject:6".into(),
                        "train.py".into()
                    ]
                ),
            ]
        );
        let got = follow_step(&fs, &step("mlflow run -e evaluate ."), 3);
        assert_eq!(got[0].lines, Some((8, 8)));
        let got = follow_step(
            &fs,
            &step("torchrun --nproc_per_node 2 ddp/train.py --epochs 1"),
            3,
        );
        assert_eq!(got[0].path, "ddp/train.py");
        let got = follow_step(
            &fs,
            &step("accelerate launch --config_file a.yaml ddp/train.py"),
            3,
        );
        assert_eq!(got[0].path, "ddp/train.py");
    }

    #[test]
    fn pyproject_scripts_and_taskfiles() {
        let fs = files(&[
            (
                "pyproject.toml",
                "[project]\nname = \"x\"\n\n[project.scripts]\ntrain = \"pkg.train:main\"\n\n[tool.poe.tasks]\ntest = \"pytest tests\"\nlint = { cmd = \"ruff check .\" }\n\n[tool.hatch.envs.default.scripts]\ncov = [\"pytest --cov\", \"coverage report\"]\n\n[tool.pdm.scripts]\nevaluate = \"python eval.py\"\n",
            ),
            ("src/pkg/train.py", ""),
            ("tests/test_a.py", ""),
            ("eval.py", ""),
            (
                "Taskfile.yml",
                "version: '3'\ntasks:\n  default:\n    deps: [build]\n    cmds:\n      - python eval.py\n  build:\n    cmds:\n      - cmd: bash build.sh\n",
            ),
            ("build.sh", "true\n"),
        ]);
        let s = format!("{}:20", STEP.0);
        assert_eq!(
            summary(&follow_step(&fs, &step("poe test"), 3)),
            vec![
                (
                    "pyproject.toml".into(),
                    Some((8, 8)),
                    vec![s.clone(), "pyproject.toml:8".into()]
                ),
                (
                    "tests/test_a.py".into(),
                    None,
                    vec![
                        s.clone(),
                        "pyproject.toml:8".into(),
                        "tests/test_a.py".into()
                    ]
                ),
            ]
        );
        assert_eq!(
            follow_step(&fs, &step("hatch run cov"), 3)[0].lines,
            Some((12, 12))
        );
        assert_eq!(
            summary(&follow_step(&fs, &step("uv run train --epochs 2"), 3)),
            vec![
                (
                    "pyproject.toml".into(),
                    Some((5, 5)),
                    vec![s.clone(), "pyproject.toml:5".into()]
                ),
                (
                    "src/pkg/train.py".into(),
                    None,
                    vec![
                        s.clone(),
                        "pyproject.toml:5".into(),
                        "src/pkg/train.py".into()
                    ]
                ),
            ]
        );
        let pdm: Vec<String> = follow_step(&fs, &step("pdm run evaluate"), 3)
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(pdm, vec!["pyproject.toml", "eval.py"]);
        // A bare word without a runner is not looked up.
        assert!(follow_step(&fs, &step("train"), 3).is_empty());
        let task: Vec<(String, Option<(u32, u32)>)> = follow_step(&fs, &step("task"), 3)
            .into_iter()
            .map(|r| (r.path, r.lines))
            .collect();
        assert_eq!(
            task,
            vec![
                ("Taskfile.yml".to_string(), Some((6, 6))),
                ("eval.py".to_string(), None),
                ("Taskfile.yml".to_string(), Some((9, 9))),
                ("build.sh".to_string(), None),
            ]
        );
    }

    #[test]
    fn mise_and_pixi_tasks_reach_their_scripts() {
        let fs = files(&[
            (
                "mise.toml",
                "[tasks.prep]\nrun = \"python prep.py\"\n\n[tasks.train]\ndepends = [\"prep\"]\nrun = \"python train.py --epochs 2\"\n",
            ),
            (
                ".mise/tasks/evaluate",
                "#!/usr/bin/env bash\npython eval.py\n",
            ),
            (
                "pixi.toml",
                "[tasks]\nfit = { cmd = \"python train.py\", depends-on = [\"prep\"] }\nprep = \"python prep.py\"\n",
            ),
            ("prep.py", "print(1)\n"),
            ("train.py", "print(2)\n"),
            ("eval.py", "print(3)\n"),
        ]);
        let s = ".github/workflows/ci.yml:20".to_string();
        assert_eq!(
            summary(&follow_step(&fs, &step("mise run train"), 3)),
            vec![
                (
                    "mise.toml".into(),
                    Some((4, 6)),
                    vec![s.clone(), "mise.toml:4".into()]
                ),
                (
                    "train.py".into(),
                    None,
                    vec![s.clone(), "mise.toml:6".into(), "train.py".into()]
                ),
                (
                    "mise.toml".into(),
                    Some((1, 2)),
                    vec![s.clone(), "mise.toml:1".into()]
                ),
                (
                    "prep.py".into(),
                    None,
                    vec![s.clone(), "mise.toml:2".into(), "prep.py".into()]
                ),
            ]
        );
        // `mise <task>` and a file task.
        let paths = |cmd: &str| -> Vec<String> {
            follow_step(&fs, &step(cmd), 3)
                .into_iter()
                .map(|r| r.path)
                .collect()
        };
        assert_eq!(paths("mise prep"), vec!["mise.toml", "prep.py"]);
        assert_eq!(
            paths("mise run evaluate"),
            vec![".mise/tasks/evaluate", "eval.py"]
        );
        // `mise install` / `mise exec` name no task.
        assert!(paths("mise install").is_empty());
        assert_eq!(
            paths("pixi run fit"),
            vec!["pixi.toml", "train.py", "pixi.toml", "prep.py"]
        );
        assert!(paths("pixi run deploy").is_empty());
    }

    /// Every `run:` / `script:` text of the shared CI corpus goes through the
    /// follower without panicking and within the bounds (the corpus files
    /// themselves form the repository, so scripts and Makefiles they name resolve
    /// only when present).
    #[test]
    fn shared_corpus_scripts_do_not_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        if !root.is_dir() {
            println!("skipped: {} not present", root.display());
            return;
        }
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    texts.push((rel, text));
                }
            }
        }
        let entries: Vec<(&str, &str)> = texts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let fs = files(&entries);
        fn scripts(node: &crate::pipeline::yaml::Node, out: &mut Vec<(u32, String)>) {
            if let Some(map) = node.as_map() {
                for (k, v) in map {
                    let key = k.as_str().unwrap_or_default();
                    if matches!(key, "run" | "script" | "before_script" | "after_script") {
                        for item in v
                            .as_seq()
                            .map(|s| s.to_vec())
                            .unwrap_or_else(|| vec![v.clone()])
                        {
                            if let Some(t) = item.as_str() {
                                out.push((item.line, t.to_string()));
                            }
                        }
                    }
                    scripts(v, out);
                }
            } else if let Some(items) = node.as_seq() {
                for item in items {
                    scripts(item, out);
                }
            }
        }
        let mut steps = 0usize;
        let mut reached = 0usize;
        let started = std::time::Instant::now();
        for (path, text) in &texts {
            let mut found = Vec::new();
            if path.ends_with(".yml") || path.ends_with(".yaml") {
                if let Ok(root) = crate::pipeline::yaml::parse(text) {
                    scripts(&root, &mut found);
                }
            } else {
                // Groovy/Jenkinsfiles and text: feed the whole text as a script.
                found.push((1, text.clone()));
            }
            for (line, run) in found {
                let mut s = step(&run);
                s.location = Location::new(path.clone(), line);
                let got = follow_step(&fs, &s, 4);
                assert!(got.len() <= MAX_REACHED);
                for r in &got {
                    assert_eq!(r.chain.first(), Some(&s.location));
                    assert!(fs.contains(&r.path) || fs.under(&r.path).next().is_some());
                }
                steps += 1;
                reached += got.len();
            }
        }
        println!(
            "{steps} scripts, {reached} parts reached, {:?}",
            started.elapsed()
        );
        assert!(steps > 100);
    }

    /// Manual check on a real checkout: `REACH_REPO=/path cargo test --lib
    /// reach::tests::real_checkout -- --ignored --nocapture` prints what each
    /// CI script reaches.
    #[test]
    #[ignore]
    fn real_checkout() {
        let Ok(root) = std::env::var("REACH_REPO") else {
            println!("skipped: REACH_REPO not set");
            return;
        };
        let root = std::path::PathBuf::from(root);
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if !path.ends_with(".git") {
                        stack.push(path);
                    }
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .to_string();
                    texts.push((rel, text));
                }
            }
        }
        let entries: Vec<(&str, &str)> = texts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let fs = files(&entries);
        for (path, text) in &texts {
            let is_ci = path.starts_with(".github/workflows/")
                || path.ends_with(".gitlab-ci.yml")
                || path.contains("pipelines");
            if !is_ci || !(path.ends_with(".yml") || path.ends_with(".yaml")) {
                continue;
            }
            let Ok(node) = crate::pipeline::yaml::parse(text) else {
                continue;
            };
            let mut found = Vec::new();
            collect_runs(&node, &mut found);
            for (line, run) in found {
                let mut s = step(&run);
                s.location = Location::new(path.clone(), line);
                for r in follow_step(&fs, &s, 4) {
                    let chain: Vec<String> = r.chain.iter().map(ToString::to_string).collect();
                    println!("{} {:?}  <- {}", r.path, r.lines, chain.join(" -> "));
                }
            }
        }
    }

    fn collect_runs(node: &crate::pipeline::yaml::Node, out: &mut Vec<(u32, String)>) {
        if let Some(map) = node.as_map() {
            for (k, v) in map {
                let key = k.as_str().unwrap_or_default();
                if matches!(key, "run" | "script" | "inlineScript" | "bash") {
                    let items = v
                        .as_seq()
                        .map(|s| s.to_vec())
                        .unwrap_or_else(|| vec![v.clone()]);
                    for item in items {
                        if let Some(t) = item.as_str() {
                            out.push((item.line, t.to_string()));
                        }
                    }
                }
                collect_runs(v, out);
            }
        } else if let Some(items) = node.as_seq() {
            for item in items {
                collect_runs(item, out);
            }
        }
    }
}
