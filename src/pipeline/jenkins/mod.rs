//! Jenkins pipelines (`Jenkinsfile`) into the normalised model.
//!
//! Jenkins reads whatever script path a job is configured with; we read the
//! conventional names: `Jenkinsfile`, `Jenkinsfile.*` and `*.jenkinsfile`, anywhere
//! in the repository. A [`lexer`] tokenizes the Groovy, [`tree`] groups tokens into
//! statements with blocks, and this module reads the declarative structure
//! (`pipeline { stages { stage(…) { steps { … } } } }`) or, for scripted pipelines,
//! the `stage(…) { … }` blocks wherever they are.
//!
//! Model: every leaf stage (a stage with steps) is a [`Job`]. `Pipeline::stages` is
//! the top-level sequential stage order and `Job::stage` the top-level stage a job
//! belongs to, so the job graph's stage-order edges make each top-level stage wait
//! for the previous one while parallel branches share their parent's stage.
//! Jenkins has no deployment-environment object, so `Job::environment` stays empty;
//! steps keep their names (`input`, `junit`, `slackSend`, …) for the detectors.

mod lexer;
mod tree;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::evidence::{Diagnostic, FileSet, Location};

use super::{CiSystem, ExternalRef, Job, Matrix, Pipeline, Step, Trigger, TriggerKind};
use tree::{Args, Stmt};

/// Larger files are not read: no real Jenkinsfile comes near this, and the bound
/// keeps the work of a scan predictable.
const MAX_FILE_BYTES: usize = 1 << 20;

/// Is this path one of the conventional Jenkinsfile names? `Jenkinsfile.<ext>` is
/// a variant (`Jenkinsfile.release`, `Jenkinsfile.groovy`) unless the extension
/// says it is something else: notes, YAML for other plugins, images.
pub fn is_jenkinsfile(path: &str) -> bool {
    const NOT_GROOVY: &[&str] = &[
        "md", "txt", "rst", "adoc", "html", "json", "yml", "yaml", "xml", "png", "svg", "jpg",
        "pdf", "orig", "bak", "swp",
    ];
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name == "jenkinsfile" || name.ends_with(".jenkinsfile") {
        return true;
    }
    match name.strip_prefix("jenkinsfile.") {
        Some(rest) => {
            let ext = rest.rsplit('.').next().unwrap_or(rest);
            !rest.is_empty() && !NOT_GROOVY.contains(&ext)
        }
        None => false,
    }
}

/// Parse every Jenkinsfile of the repository.
pub fn parse_jenkinsfiles(files: &FileSet, diagnostics: &mut Vec<Diagnostic>) -> Vec<Pipeline> {
    files
        .iter()
        .filter(|f| is_jenkinsfile(&f.path))
        .filter_map(|f| {
            let text = f.content.as_deref()?;
            parse_text(&f.path, text, diagnostics)
        })
        .collect()
}

/// Parse one Jenkinsfile's text. `None` (with a `jenkinsfile-syntax` warning) when
/// the file's structure cannot be read at all; unknown constructs are skipped.
pub fn parse_text(path: &str, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<Pipeline> {
    if text.len() > MAX_FILE_BYTES {
        diagnostics.push(Diagnostic::warning(
            "jenkinsfile-too-large",
            format!(
                "{path}: {} bytes, more than the {MAX_FILE_BYTES} read",
                text.len()
            ),
            Some(Location::file(path)),
        ));
        return None;
    }
    let toks = match lexer::tokenize(text).and_then(|t| lexer::check_balance(&t).map(|()| t)) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(Diagnostic::warning(
                "jenkinsfile-syntax",
                format!("{path}:{}: {}; the file was not read", e.line, e.message),
                Some(Location::new(path, e.line)),
            ));
            return None;
        }
    };
    let (stmts, too_deep) = tree::build(&toks);
    if too_deep {
        diagnostics.push(Diagnostic::warning(
            "jenkinsfile-too-deep",
            format!(
                "{path}: blocks nested deeper than {} were skipped",
                tree::MAX_DEPTH
            ),
            Some(Location::file(path)),
        ));
    }
    let mut reader = Reader {
        path,
        src: text,
        jobs: Vec::new(),
        stages: Vec::new(),
        used_ids: UniqueNames::default(),
        used_stages: UniqueNames::default(),
    };
    let mut pipeline = Pipeline {
        id: path.to_string(),
        system: CiSystem::Jenkins,
        name: None,
        file: path.to_string(),
        // Jenkinsfiles run on SCM changes: in multibranch and organisation-folder
        // jobs (the usual way a Jenkinsfile is wired) every push to a branch or
        // change request is built by branch indexing or a webhook, with no trigger
        // written in the file. So every Jenkinsfile gets a Push trigger.
        triggers: vec![Trigger {
            kind: TriggerKind::Push,
            branches: vec![],
            paths: vec![],
            detail: vec!["scm".into()],
            location: Location::new(path, 1),
        }],
        stages: vec![],
        jobs: vec![],
        includes: vec![],
        reusable: false,
        location: Location::new(path, 1),
    };
    match find_declarative(&stmts, 0) {
        Some(root) => {
            pipeline.location = Location::new(path, root.line);
            reader.declarative(root, &mut pipeline.triggers);
        }
        None => {
            reader.job_properties(&stmts, &mut pipeline.triggers, 0);
            reader.scripted(&stmts);
        }
    }
    pipeline.stages = reader.stages;
    pipeline.jobs = reader.jobs;
    for job in &mut pipeline.jobs {
        derive_job_facts(job);
    }
    Some(pipeline)
}

/// The `pipeline { … }` block, at the top or inside a wrapper such as a shared
/// library's `def call() { pipeline { … } }`.
fn find_declarative(stmts: &[Stmt], depth: usize) -> Option<&Stmt> {
    if depth > 3 {
        return None;
    }
    for s in stmts {
        if s.name() == Some("pipeline") && s.head.len() == 1 && s.block.is_some() {
            return Some(s);
        }
    }
    stmts
        .iter()
        .filter(|s| s.name() != Some("node") && s.name() != Some("stage"))
        .find_map(|s| find_declarative(s.block(), depth + 1))
}

/// What an enclosing stage passes down to the stages it contains.
#[derive(Clone, Default)]
struct Inherited {
    conditions: Vec<String>,
    manual: bool,
    runs_on: Vec<String>,
    image: Option<String>,
    matrix: Option<Matrix>,
    /// Step added to each leaf below an enclosing stage's `input` directive.
    input: Option<Step>,
}

struct Reader<'a> {
    path: &'a str,
    src: &'a str,
    jobs: Vec<Job>,
    stages: Vec<String>,
    used_ids: UniqueNames,
    used_stages: UniqueNames,
}

/// Hands out names that are unique within a pipeline: the first `X` stays `X`,
/// later ones become `X#2`, `X#3`, … skipping any already taken.
#[derive(Default)]
struct UniqueNames {
    taken: HashSet<String>,
    last_suffix: HashMap<String, usize>,
}

impl UniqueNames {
    fn unique(&mut self, name: &str) -> String {
        if self.taken.insert(name.to_string()) {
            return name.to_string();
        }
        let n = self.last_suffix.entry(name.to_string()).or_insert(1);
        // Terminates: the taken set is finite and the suffix only grows.
        loop {
            *n += 1;
            let candidate = format!("{name}#{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// Steps and facts gathered while reading a `steps` block.
#[derive(Default)]
struct StepSink {
    steps: Vec<Step>,
    manual: bool,
    triggers: Option<ExternalRef>,
}

/// Steps that run a shell script.
const SHELL_STEPS: &[&str] = &["sh", "bat", "powershell", "pwsh"];

/// Groovy words that start statements which are not step calls.
const GROOVY_KEYWORDS: &[&str] = &[
    "def", "if", "else", "for", "while", "do", "return", "try", "catch", "finally", "switch",
    "case", "default", "new", "throw", "import", "package", "class", "break", "continue", "assert",
    "String", "int", "boolean", "long", "double", "float", "List", "Map", "var", "final", "static",
    "void", "this", "true", "false", "null", "in",
];

/// Which argument a step takes when given one bare value (`junit 'x.xml'`).
fn default_param(step: &str) -> &'static str {
    match step {
        "junit" => "testResults",
        "archiveArtifacts" | "archive" => "artifacts",
        "stash" | "unstash" => "name",
        "echo" | "input" | "error" | "slackSend" | "unstable" => "message",
        "build" => "job",
        "git" => "url",
        "checkout" => "scm",
        "sleep" | "timeout" => "time",
        "retry" => "count",
        "dir" => "path",
        "container" => "name",
        "publishHTML" => "target",
        "load" => "path",
        _ => "",
    }
}

impl<'a> Reader<'a> {
    fn loc(&self, line: u32) -> Location {
        Location::new(self.path, line)
    }

    // ---- declarative ------------------------------------------------------------

    fn declarative(&mut self, root: &Stmt, triggers: &mut Vec<Trigger>) {
        let mut base = Inherited::default();
        if let Some(agent) = root.child("agent") {
            self.agent(agent, &mut base);
        }
        for section in root.block() {
            match section.name() {
                Some("parameters") => {
                    // Parameters make Jenkins offer "Build with parameters": a person starts runs.
                    let names: Vec<String> = section
                        .block()
                        .iter()
                        .filter_map(|p| {
                            p.args(self.src).named("name").map(|v| v.text().to_string())
                        })
                        .collect();
                    triggers.push(Trigger {
                        kind: TriggerKind::Manual,
                        branches: vec![],
                        paths: vec![],
                        detail: names,
                        location: self.loc(section.line),
                    });
                }
                Some("triggers") => {
                    for t in section.block() {
                        if let Some(trigger) = self.trigger(t) {
                            triggers.push(trigger);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(stages) = root.child("stages") {
            for stage in stages.block().iter().filter(|s| s.name() == Some("stage")) {
                let name = self.stage_name(stage);
                let top = self.used_stages.unique(&name);
                self.stages.push(top.clone());
                self.stage(stage, &top, &base, None);
            }
        }
        if let Some(post) = root.child("post") {
            self.pipeline_post(post);
        }
    }

    fn trigger(&self, t: &Stmt) -> Option<Trigger> {
        let name = t.name()?;
        Some(self.trigger_call(name, &t.args(self.src), t.line))
    }

    /// A trigger from its call: `cron('H 2 * * *')`, `upstream(upstreamProjects: 'a,b')`, …
    fn trigger_call(&self, name: &str, args: &Args, line: u32) -> Trigger {
        let first = args.first().map(|v| v.text().to_string());
        let (kind, detail) = match name {
            "cron" | "parameterizedCron" => (TriggerKind::Schedule, first.into_iter().collect()),
            "pollSCM" => (
                TriggerKind::Push,
                std::iter::once("pollSCM".to_string())
                    .chain(first)
                    .collect(),
            ),
            "upstream" => {
                let projects = args
                    .named("upstreamProjects")
                    .or(args.first())
                    .map(|v| v.text().to_string())
                    .unwrap_or_default();
                (
                    TriggerKind::Upstream,
                    projects
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            }
            "githubPush" | "gitlab" | "bitbucketPush" | "GenericTrigger" => {
                (TriggerKind::Push, vec![name.to_string()])
            }
            other => (TriggerKind::Other(other.to_string()), vec![]),
        };
        Trigger {
            kind,
            branches: vec![],
            paths: vec![],
            detail,
            location: self.loc(line),
        }
    }

    /// Scripted pipelines declare triggers and parameters as job properties:
    /// `properties([pipelineTriggers([cron('H 4 * * *')]), parameters([string(name: 'X')])])`.
    fn job_properties(&self, stmts: &[Stmt], triggers: &mut Vec<Trigger>, depth: usize) {
        use lexer::TokKind;
        if depth > tree::MAX_DEPTH {
            return;
        }
        for stmt in stmts {
            if stmt.name() == Some("properties") {
                let toks = &stmt.head;
                let mut i = 0;
                while i < toks.len() {
                    let (TokKind::Ident(name), Some(TokKind::LParen)) =
                        (&toks[i].kind, toks.get(i + 1).map(|t| &t.kind))
                    else {
                        i += 1;
                        continue;
                    };
                    let close = tree::matching_close(toks, i + 1).unwrap_or(toks.len() - 1);
                    let inner = toks.get(i + 1..=close).unwrap_or(&[]);
                    match name.as_str() {
                        "cron" | "parameterizedCron" | "pollSCM" | "upstream" | "githubPush"
                        | "gitlab" | "bitbucketPush" | "GenericTrigger" => {
                            let args = tree::parse_args(inner, self.src);
                            triggers.push(self.trigger_call(name, &args, toks[i].line));
                            i = close + 1;
                        }
                        "parameters" => {
                            // Parameter names: every `name: '…'` inside the list.
                            let names = inner
                                .windows(3)
                                .filter_map(|w| match (&w[0].kind, &w[1].kind, &w[2].kind) {
                                    (TokKind::Ident(k), TokKind::Colon, TokKind::Str(v))
                                        if k == "name" =>
                                    {
                                        Some(v.clone())
                                    }
                                    _ => None,
                                })
                                .collect();
                            triggers.push(Trigger {
                                kind: TriggerKind::Manual,
                                branches: vec![],
                                paths: vec![],
                                detail: names,
                                location: self.loc(toks[i].line),
                            });
                            i = close + 1;
                        }
                        // `pipelineTriggers([…])` and other wrappers: look inside.
                        _ => i += 2,
                    }
                }
            }
            self.job_properties(stmt.block(), triggers, depth + 1);
        }
    }

    fn stage_name(&self, stage: &Stmt) -> String {
        let args = stage.args(self.src);
        args.first()
            .or(args.named("name"))
            .map(|v| v.text().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("stage@{}", stage.line))
    }

    fn agent(&self, agent: &Stmt, into: &mut Inherited) {
        let args = agent.args(self.src);
        if let Some(kind) = args.first() {
            // `agent any`, `agent none`, `agent label 'x'` (old form).
            match kind.text() {
                "none" => {
                    into.runs_on.clear();
                    into.image = None;
                }
                other => into.runs_on = vec![other.to_string()],
            }
            return;
        }
        for spec in agent.block() {
            let value = |s: &Stmt| s.args(self.src).first().map(|v| v.text().to_string());
            match spec.name() {
                Some("label") => into.runs_on = value(spec).into_iter().collect(),
                Some("node") => {
                    into.runs_on = spec
                        .child("label")
                        .and_then(value)
                        .or_else(|| value(spec))
                        .into_iter()
                        .collect();
                }
                Some("docker") => {
                    into.image = spec.child("image").and_then(value).or_else(|| value(spec));
                    if let Some(label) = spec.child("label").and_then(value) {
                        into.runs_on = vec![label];
                    }
                }
                Some("dockerfile") => into.runs_on = vec!["dockerfile".to_string()],
                Some("kubernetes") => {
                    into.runs_on = vec!["kubernetes".to_string()];
                    // The pod spec is inline YAML: its first `image:` is the build image.
                    into.image = spec
                        .child("yaml")
                        .and_then(value)
                        .and_then(|pod| first_yaml_image(&pod))
                        .or(into.image.take());
                }
                _ => {}
            }
        }
    }

    /// Read one stage: a leaf becomes a job; `parallel`, `stages` and `matrix`
    /// stages recurse with the same top-level stage. `after` is the previous
    /// sibling's jobs inside a sequential `stages` block. Returns the ids of the
    /// jobs it made.
    fn stage(
        &mut self,
        stage: &Stmt,
        top: &str,
        outer: &Inherited,
        after: Option<Vec<String>>,
    ) -> Vec<String> {
        let name = self.stage_name(stage);
        let mut inh = outer.clone();
        if let Some(agent) = stage.child("agent") {
            self.agent(agent, &mut inh);
        }
        if let Some(when) = stage.child("when") {
            for cond in when.block() {
                // These only say when the condition is evaluated.
                if matches!(
                    cond.name(),
                    Some("beforeAgent" | "beforeInput" | "beforeOptions")
                ) {
                    continue;
                }
                inh.conditions.push(cond.text(self.src));
            }
        }
        if let Some(input) = stage.child("input") {
            // A stage-level `input` pauses for a person before the stage runs.
            inh.manual = true;
            let mut with = BTreeMap::new();
            for field in input.block() {
                if let (Some(key), Some(v)) = (field.name(), field.args(self.src).first()) {
                    with.insert(key.to_string(), v.text().to_string());
                }
            }
            inh.input = Some(self.external_step("input", with, input.line));
        }
        let mut made = Vec::new();
        if let Some(steps) = stage.child("steps") {
            let mut sink = StepSink::default();
            if let Some(input) = inh.input.take() {
                sink.steps.push(input);
            }
            self.steps(steps.block(), &mut sink, false, false);
            let id = self.used_ids.unique(&name);
            let job = Job {
                name: (id != name).then(|| name.clone()),
                stage: Some(top.to_string()),
                needs: after,
                steps: sink.steps,
                manual: inh.manual || sink.manual,
                conditions: inh.conditions.clone(),
                matrix: inh.matrix.clone(),
                runs_on: inh.runs_on.clone(),
                image: inh.image.clone(),
                triggers: sink.triggers,
                ..Job::new(id.clone(), self.loc(stage.line))
            };
            self.jobs.push(job);
            made.push(id);
        } else if let Some(parallel) = stage.child("parallel") {
            for child in parallel
                .block()
                .iter()
                .filter(|s| s.name() == Some("stage"))
            {
                made.extend(self.stage(child, top, &inh, after.clone()));
            }
        } else if let Some(stages) = stage.child("stages") {
            made = self.sequential(stages, top, &inh, after);
        } else if let Some(matrix) = stage.child("matrix") {
            let mut m_inh = inh.clone();
            let mut dims = BTreeMap::new();
            if let Some(axes) = matrix.child("axes") {
                for axis in axes.block().iter().filter(|a| a.name() == Some("axis")) {
                    let name = axis
                        .child("name")
                        .and_then(|n| n.args(self.src).first().map(|v| v.text().to_string()));
                    let values: Vec<String> = axis
                        .child("values")
                        .map(|v| {
                            v.args(self.src)
                                .positional
                                .iter()
                                .map(|x| x.text().to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(name) = name {
                        dims.insert(name, values);
                    }
                }
            }
            m_inh.matrix = Some(Matrix { dimensions: dims });
            if let Some(agent) = matrix.child("agent") {
                self.agent(agent, &mut m_inh);
            }
            if let Some(when) = matrix.child("when") {
                m_inh
                    .conditions
                    .extend(when.block().iter().map(|c| c.text(self.src)));
            }
            if let Some(stages) = matrix.child("stages") {
                made = self.sequential(stages, top, &m_inh, after);
            }
        }
        // Stage-level `post` steps run as part of the stage: give them to its last job.
        if let Some(post) = stage.child("post") {
            let mut sink = StepSink::default();
            self.post_steps(post, &mut sink);
            if let Some(job) = made
                .last()
                .and_then(|id| self.jobs.iter_mut().rev().find(|j| &j.id == id))
            {
                job.steps.extend(sink.steps);
                job.manual |= sink.manual;
                if job.triggers.is_none() {
                    job.triggers = sink.triggers;
                }
            }
        }
        made
    }

    /// Nested sequential `stages { … }`: each child waits for the one before.
    fn sequential(
        &mut self,
        stages: &Stmt,
        top: &str,
        inh: &Inherited,
        mut after: Option<Vec<String>>,
    ) -> Vec<String> {
        let mut last = Vec::new();
        for child in stages.block().iter().filter(|s| s.name() == Some("stage")) {
            let made = self.stage(child, top, inh, after.clone());
            if !made.is_empty() {
                after = Some(made.clone());
                last = made;
            }
        }
        last
    }

    fn post_steps(&mut self, post: &Stmt, sink: &mut StepSink) -> Vec<String> {
        let mut conditions = Vec::new();
        for cond in post.block() {
            let Some(name) = cond.name() else { continue };
            conditions.push(name.to_string());
            let from = sink.steps.len();
            self.steps(cond.block(), sink, false, false);
            for step in &mut sink.steps[from..] {
                step.condition = Some(name.to_string());
            }
        }
        conditions
    }

    /// The pipeline-level `post` section as a job after the last stage.
    fn pipeline_post(&mut self, post: &Stmt) {
        let mut sink = StepSink::default();
        let conditions = self.post_steps(post, &mut sink);
        let last_stage = self
            .stages
            .iter()
            .rev()
            .find(|s| self.jobs.iter().any(|j| j.stage.as_ref() == Some(*s)));
        let needs: Vec<String> = match last_stage {
            Some(stage) => self
                .jobs
                .iter()
                .filter(|j| j.stage.as_ref() == Some(stage))
                .map(|j| j.id.clone())
                .collect(),
            None => vec![],
        };
        let id = self.used_ids.unique("post");
        self.jobs.push(Job {
            needs: Some(needs),
            steps: sink.steps,
            manual: sink.manual,
            conditions,
            triggers: sink.triggers,
            ..Job::new(id, self.loc(post.line))
        });
    }

    // ---- steps ------------------------------------------------------------------

    fn external_step(&self, name: &str, with: BTreeMap<String, String>, line: u32) -> Step {
        Step {
            name: None,
            run: None,
            uses: Some(ExternalRef {
                target: name.to_string(),
                local: false,
                resolved: false,
                path: None,
            }),
            with,
            condition: None,
            may_fail: false,
            via: None,
            location: self.loc(line),
        }
    }

    /// Read the statements of a `steps` (or `script`, wrapper, post-condition) block.
    /// `script` is true inside `script { }` and scripted pipelines, where any Groovy
    /// may stand and step calls are also looked for inside expressions.
    fn steps(&mut self, stmts: &[Stmt], sink: &mut StepSink, script: bool, may_fail: bool) {
        for stmt in stmts {
            self.step(stmt, sink, script, may_fail);
        }
    }

    fn step(&mut self, stmt: &Stmt, sink: &mut StepSink, script: bool, may_fail: bool) {
        self.step_call(stmt, sink, script, may_fail);
        // Closures given as arguments (`parallel(a: { … })`, `retry(3, { … })`) run steps too.
        for closure in &stmt.closures {
            self.steps(closure, sink, script, may_fail);
        }
    }

    fn step_call(&mut self, stmt: &Stmt, sink: &mut StepSink, script: bool, may_fail: bool) {
        let name = stmt.name().filter(|_| is_step_call(stmt));
        match name {
            Some("script") => self.steps(stmt.block(), sink, true, may_fail),
            // A failure inside these marks the build but does not stop it.
            Some("catchError" | "warnError") => self.steps(stmt.block(), sink, script, true),
            // A bare wrapper without arguments (`timestamps { }`, `node { }`): only its content counts.
            Some(_) if stmt.block.is_some() && stmt.head.len() == 1 => {
                self.steps(stmt.block(), sink, script, may_fail);
            }
            Some(name) => {
                let args = stmt.args(self.src);
                self.call(name, &args, stmt.line, sink, may_fail);
                // Wrappers (`withCredentials`, `dir`, `timeout`, `container`, …) hold steps.
                self.steps(stmt.block(), sink, script, may_fail);
                if script {
                    // `sh(...)` used in a chain: `sh(...).trim()` was taken above;
                    // look further along the head for more calls.
                    self.embedded_calls(stmt.head.get(1..).unwrap_or(&[]), sink, may_fail);
                }
            }
            None => {
                if script {
                    // `def out = sh(script: '…', returnStdout: true)`, `if (input(…))`.
                    self.embedded_calls(&stmt.head, sink, may_fail);
                }
                self.steps(stmt.block(), sink, script, may_fail);
            }
        }
    }

    /// Step calls inside an expression: a shell/input/build name followed by `(`
    /// or a string, not preceded by `.`.
    fn embedded_calls(&mut self, toks: &[lexer::Tok], sink: &mut StepSink, may_fail: bool) {
        use lexer::TokKind;
        let mut i = 0;
        while i < toks.len() {
            let after_dot = i > 0 && toks[i - 1].kind == TokKind::Dot;
            // (step name, index of its opening parenthesis)
            let call = match (
                &toks[i].kind,
                toks.get(i + 1).map(|t| &t.kind),
                toks.get(i + 2).map(|t| &t.kind),
                toks.get(i + 3).map(|t| &t.kind),
            ) {
                (TokKind::Ident(n), Some(TokKind::LParen), _, _)
                    if !after_dot
                        && (SHELL_STEPS.contains(&n.as_str()) || n == "input" || n == "build") =>
                {
                    Some((n.clone(), i + 1))
                }
                // Command syntax after an assignment: `def ok = input message: '…'`,
                // `x = sh 'cmd'`, `def m = readJSON file: 'metrics.json'`. Only
                // step calls can be written so; the arguments run to the end.
                (TokKind::Ident(n), Some(TokKind::Str(_) | TokKind::Ident(_)), third, _)
                    if i > 0
                        && toks[i - 1].kind == TokKind::Op('=')
                        && !GROOVY_KEYWORDS.contains(&n.as_str())
                        && (matches!(toks[i + 1].kind, TokKind::Str(_))
                            || third == Some(&TokKind::Colon)) =>
                {
                    let args = tree::parse_args(toks.get(i + 1..).unwrap_or(&[]), self.src);
                    let name = n.clone();
                    self.call(&name, &args, toks[i].line, sink, may_fail);
                    return;
                }
                // The Docker Pipeline plugin's global: `docker.build(…)`, `docker.image(…)`.
                (
                    TokKind::Ident(n),
                    Some(TokKind::Dot),
                    Some(TokKind::Ident(m)),
                    Some(TokKind::LParen),
                ) if !after_dot && n == "docker" => Some((format!("docker.{m}"), i + 3)),
                _ => None,
            };
            let Some((name, open)) = call else {
                i += 1;
                continue;
            };
            let close = tree::matching_close(toks, open).unwrap_or(toks.len() - 1);
            let args = tree::parse_args(toks.get(open..=close).unwrap_or(&[]), self.src);
            self.call(&name, &args, toks[i].line, sink, may_fail);
            i = close.max(i) + 1;
        }
    }

    /// Record one step call.
    fn call(&mut self, name: &str, args: &Args, line: u32, sink: &mut StepSink, may_fail: bool) {
        let mut step = if SHELL_STEPS.contains(&name) {
            let script = args.named("script").or(args.first());
            let mut s = self.external_step(name, BTreeMap::new(), line);
            s.uses = None;
            s.run = script.map(|v| v.text().to_string());
            s.name = args.named("label").map(|v| v.text().to_string());
            s
        } else {
            let mut with = BTreeMap::new();
            let key = default_param(name);
            for (i, v) in args.positional.iter().enumerate() {
                let k = match (i, key) {
                    (0, k) if !k.is_empty() => k.to_string(),
                    _ => format!("arg{i}"),
                };
                with.insert(k, v.text().to_string());
            }
            for (k, v) in &args.named {
                with.insert(k.clone(), v.text().to_string());
            }
            self.external_step(name, with, line)
        };
        step.may_fail = may_fail
            || args
                .named("returnStatus")
                .is_some_and(|v| v.text() == "true");
        match name {
            "input" => sink.manual = true,
            "build" => {
                let job = args
                    .named("job")
                    .or(args.first())
                    .map(|v| v.text().to_string());
                if let (Some(job), None) = (job, &sink.triggers) {
                    sink.triggers = Some(ExternalRef {
                        target: job,
                        local: false,
                        resolved: false,
                        path: None,
                    });
                }
            }
            _ => {}
        }
        sink.steps.push(step);
    }

    // ---- scripted ---------------------------------------------------------------

    /// Scripted pipelines: each `stage('x') { … }` becomes a job, in document order.
    fn scripted(&mut self, stmts: &[Stmt]) {
        let mut loose = StepSink::default();
        self.scripted_walk(stmts, &mut loose, 0);
        if self.jobs.is_empty() && loose.steps.iter().any(|s| s.run.is_some()) {
            // Steps but no stages (`node { sh 'make' }`): one job holds them.
            let line = loose.steps.first().map_or(1, |s| s.location.line);
            let id = self.used_ids.unique("pipeline");
            self.stages.push(id.clone());
            self.jobs.push(scripted_job(
                id.clone(),
                id,
                loose,
                self.loc(line),
                &Inherited::default(),
            ));
        }
    }

    fn scripted_walk(&mut self, stmts: &[Stmt], loose: &mut StepSink, depth: usize) {
        if depth > tree::MAX_DEPTH {
            return;
        }
        for stmt in stmts {
            if stmt.name() == Some("stage") && stmt.block.is_some() {
                let name = self.stage_name(stmt);
                let top = self.used_stages.unique(&name);
                self.stages.push(top.clone());
                let mut sink = StepSink::default();
                self.steps(stmt.block(), &mut sink, true, false);
                let id = self.used_ids.unique(&name);
                let mut job = scripted_job(
                    id.clone(),
                    top,
                    sink,
                    self.loc(stmt.line),
                    &Inherited::default(),
                );
                job.name = (id != name).then_some(name);
                self.jobs.push(job);
            } else if !contains_stage(std::slice::from_ref(stmt), 0) {
                // A block without stages (`node { checkout scm; sh 'x' }`): loose steps.
                if stmt.block.is_some() || !stmt.closures.is_empty() {
                    self.step(stmt, loose, true, false);
                }
            } else {
                // Stages further in: in the block, or in closures such as
                // `parallel(linux: { stage('L') { … } }, …)`.
                self.scripted_walk(stmt.block(), loose, depth + 1);
                for closure in &stmt.closures {
                    self.scripted_walk(closure, loose, depth + 1);
                }
            }
        }
    }
}

fn scripted_job(
    id: String,
    stage: String,
    sink: StepSink,
    location: Location,
    inh: &Inherited,
) -> Job {
    Job {
        stage: Some(stage),
        steps: sink.steps,
        manual: sink.manual,
        conditions: inh.conditions.clone(),
        triggers: sink.triggers,
        ..Job::new(id, location)
    }
}

/// The first `image:` value of an inline pod spec, quotes removed.
fn first_yaml_image(pod: &str) -> Option<String> {
    pod.lines().find_map(|line| {
        let rest = line
            .trim_start()
            .trim_start_matches("- ")
            .strip_prefix("image:")?;
        let image = rest.trim().trim_matches(|c| c == '"' || c == '\'');
        (!image.is_empty()).then(|| image.to_string())
    })
}

/// Fill the dialect-neutral job fields that other dialects declare outright
/// (GitLab `artifacts:reports`, `artifacts:paths`, `cache`) from the Jenkins steps
/// that do the same, so detectors can read one field for every CI system.
fn derive_job_facts(job: &mut Job) {
    let mut reports: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut cache = false;
    for step in &job.steps {
        let Some(target) = step.uses.as_ref().map(|u| u.target.as_str()) else {
            continue;
        };
        let report = match target {
            "junit" | "xunit" => Some("junit"),
            "recordCoverage" | "publishCoverage" | "cobertura" | "jacoco" => {
                Some("coverage_report")
            }
            _ => None,
        };
        if let Some(r) = report.filter(|r| !reports.iter().any(|x| x == r)) {
            reports.push(r.to_string());
        }
        if target == "archiveArtifacts" || target == "archive" {
            paths.extend(step.with.get("artifacts").cloned());
        }
        // The Job Cacher plugin's `cache(…) { }` wrapper.
        cache |= target == "cache";
    }
    job.artifact_reports = reports;
    job.artifact_paths = paths;
    job.cache = cache;
}

fn contains_stage(stmts: &[Stmt], depth: usize) -> bool {
    depth <= tree::MAX_DEPTH
        && stmts.iter().any(|s| {
            (s.name() == Some("stage") && s.block.is_some())
                || contains_stage(s.block(), depth + 1)
                || s.closures.iter().any(|c| contains_stage(c, depth + 1))
        })
}

/// Does this statement call a step (`name args`, `name(args)`, `name { }`) rather
/// than assign, declare or use a Groovy keyword?
fn is_step_call(stmt: &Stmt) -> bool {
    use lexer::TokKind;
    let Some(name) = stmt.name() else {
        return false;
    };
    if GROOVY_KEYWORDS.contains(&name) {
        return false;
    }
    match stmt.head.get(1).map(|t| &t.kind) {
        None => true,
        Some(TokKind::Str(_) | TokKind::LParen | TokKind::LBracket | TokKind::Num(_)) => true,
        // `mail to: …` (named arguments) or `agent any`; not `String x = …`.
        Some(TokKind::Ident(_)) => {
            !matches!(stmt.head.get(2).map(|t| &t.kind), Some(TokKind::Op('=')))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
