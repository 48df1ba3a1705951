//! Task runners and job specs that name what runs: tox, nox, invoke, just,
//! npm scripts, DVC stages, Azure ML command jobs, Kubernetes Jobs.
//! Each reader turns a file into [`Part`]s (a line range plus the commands it runs).

use std::collections::BTreeSet;

use crate::evidence::{FileSet, Location};
use crate::pipeline::yaml;

/// What a part of a file runs, to be followed further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunText {
    /// Shell text; its command lines are offsets from [`Run::line`].
    Shell(String),
    /// Already split words (`session.run("pytest", "tests")`).
    Words(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// 1-based file line where the text starts.
    pub line: u32,
    pub text: RunText,
    /// Working directory for relative paths (repository-relative, "" = root).
    pub cwd: String,
}

/// A reached part of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub path: String,
    pub lines: Option<(u32, u32)>,
    /// Where the part begins (target header, section key, function, stage).
    pub entry: Location,
    pub runs: Vec<Run>,
}

pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

pub fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

// ---------------------------------------------------------------- INI (tox)

/// An INI section: name, header line, and keys with their (first, last) lines and value lines.
struct IniKey {
    name: String,
    first: u32,
    last: u32,
    /// (line, text) of each value line (first line's remainder and continuations).
    values: Vec<(u32, String)>,
}

struct IniSection {
    name: String,
    keys: Vec<IniKey>,
}

/// Parse INI text; `offset` is added to line numbers (for INI embedded in TOML).
fn parse_ini(text: &str, offset: u32) -> Vec<IniSection> {
    let mut sections: Vec<IniSection> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = offset + i as u32 + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[')
            && trimmed.ends_with(']')
            && !raw.starts_with(char::is_whitespace)
        {
            sections.push(IniSection {
                name: trimmed[1..trimmed.len() - 1].trim().to_string(),
                keys: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if trimmed.is_empty() {
            continue;
        }
        if raw.starts_with(char::is_whitespace) {
            if let Some(key) = section.keys.last_mut() {
                key.values.push((line, trimmed.to_string()));
                key.last = line;
            }
            continue;
        }
        if let Some((k, v)) = raw.split_once(['=', ':']) {
            let mut key = IniKey {
                name: k.trim().to_string(),
                first: line,
                last: line,
                values: Vec::new(),
            };
            if !v.trim().is_empty() {
                key.values.push((line, v.trim().to_string()));
            }
            section.keys.push(key);
        }
    }
    sections
}

/// Tox environments a `tox` command runs: their `commands` lines.
pub fn tox_parts(files: &FileSet, cwd: &str, envs: &[String]) -> Vec<Part> {
    let (path, sections) = match tox_config(files, cwd) {
        Some(found) => found,
        None => return tox_toml_parts(files, cwd, envs),
    };
    let section_named = |name: &str| sections.iter().find(|s| s.name == name);
    let mut wanted: Vec<String> = envs.to_vec();
    if wanted.is_empty() || wanted.iter().any(|e| e == "ALL" || e == "all") {
        wanted = sections
            .iter()
            .find(|s| s.name == "tox" || s.name == "tox:tox")
            .and_then(|s| {
                s.keys
                    .iter()
                    .find(|k| k.name == "envlist" || k.name == "env_list")
            })
            .map(|k| {
                k.values
                    .iter()
                    .flat_map(|(_, v)| v.split([',', ' ']))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if wanted.is_empty() {
            wanted.push(String::new());
        }
    }
    let mut seen = BTreeSet::new();
    let mut parts = Vec::new();
    for env in wanted {
        let section = section_named(&format!("testenv:{env}"))
            .filter(|_| !env.is_empty())
            .or_else(|| section_named("testenv"));
        let Some(section) = section else {
            continue;
        };
        if !seen.insert(section.name.clone()) {
            continue;
        }
        for key in section
            .keys
            .iter()
            .filter(|k| k.name == "commands" || k.name == "commands_pre")
        {
            let runs = key
                .values
                .iter()
                .map(|(line, text)| Run {
                    line: *line,
                    // `{posargs}` and other substitutions are tox's, not shell's.
                    text: RunText::Shell(strip_braces(text)),
                    cwd: dir_of(&path).to_string(),
                })
                .collect();
            parts.push(Part {
                path: path.clone(),
                lines: Some((key.first, key.last)),
                entry: Location::new(path.clone(), key.first),
                runs,
            });
        }
    }
    parts
}

fn strip_braces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// tox.ini, else `[tool.tox] legacy_tox_ini` in pyproject.toml, else setup.cfg `[tox:tox]`.
fn tox_config(files: &FileSet, cwd: &str) -> Option<(String, Vec<IniSection>)> {
    let tox_ini = join(cwd, "tox.ini");
    if let Some(text) = files.text(&tox_ini) {
        return Some((tox_ini, parse_ini(text, 0)));
    }
    let pyproject = join(cwd, "pyproject.toml");
    if let Some(text) = files.text(&pyproject) {
        if let Some(pos) = text.find("legacy_tox_ini") {
            let after = &text[pos..];
            if let Some(q) = after.find("\"\"\"").or_else(|| after.find("'''")) {
                let body_start = pos + q + 3;
                let body = &text[body_start..];
                let end = body
                    .find("\"\"\"")
                    .or_else(|| body.find("'''"))
                    .unwrap_or(body.len());
                let offset = text[..body_start].matches('\n').count() as u32;
                // The body begins right after the quotes: a leading newline is line 0 of it.
                return Some((pyproject, parse_ini(&body[..end], offset)));
            }
        }
    }
    let setup_cfg = join(cwd, "setup.cfg");
    if let Some(text) = files.text(&setup_cfg) {
        let sections = parse_ini(text, 0);
        if sections.iter().any(|s| s.name.starts_with("testenv")) {
            return Some((setup_cfg, sections));
        }
    }
    None
}

/// `testpaths` from pytest configuration in `cwd` (pytest.ini, pyproject, tox.ini, setup.cfg).
pub fn pytest_testpaths(files: &FileSet, cwd: &str) -> Vec<String> {
    for (name, section) in [
        ("pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ] {
        if let Some(text) = files.text(&join(cwd, name)) {
            let sections = parse_ini(text, 0);
            if let Some(key) = sections
                .iter()
                .filter(|s| s.name == section)
                .flat_map(|s| s.keys.iter())
                .find(|k| k.name == "testpaths")
            {
                return key
                    .values
                    .iter()
                    .flat_map(|(_, v)| v.split_whitespace())
                    .map(str::to_string)
                    .collect();
            }
        }
    }
    if let Some(text) = files.text(&join(cwd, "pyproject.toml")) {
        if let Ok(value) = text.parse::<toml::Table>() {
            if let Some(paths) = value
                .get("tool")
                .and_then(|t| t.get("pytest"))
                .and_then(|t| t.get("ini_options"))
                .and_then(|t| t.get("testpaths"))
            {
                return match paths {
                    toml::Value::Array(items) => items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    toml::Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
                    _ => Vec::new(),
                };
            }
        }
    }
    Vec::new()
}

// ------------------------------------------------------- Python decorators

/// A decorated Python function: (def line, body first line, body last line, name used to call it).
struct PyFunction {
    def_line: u32,
    body: (u32, u32),
    names: Vec<String>,
}

/// Functions decorated with something whose text satisfies `is_decorator`.
/// The callable name is `name="x"` in the decorator when present, else the function name.
fn decorated_functions(text: &str, is_decorator: impl Fn(&str) -> bool) -> Vec<PyFunction> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < lines.len() {
        let line = lines.get(i).copied().unwrap_or_default();
        let trimmed = line.trim_start();
        if !(trimmed.starts_with('@') && is_decorator(trimmed)) {
            i += 1;
            continue;
        }
        let mut explicit_name = decorator_name(trimmed);
        // Skip further decorators (and decorator continuation lines) to the `def`.
        let mut j = i + 1;
        while j < lines.len() && j < i + 20 {
            let t = lines.get(j).copied().unwrap_or_default().trim_start();
            if t.starts_with("def ") || t.starts_with("async def ") {
                break;
            }
            if explicit_name.is_none() {
                explicit_name = decorator_name(t);
            }
            j += 1;
        }
        let Some(def) = lines.get(j).copied() else {
            break;
        };
        let def_trim = def.trim_start();
        let Some(fname) = def_trim
            .trim_start_matches("async ")
            .strip_prefix("def ")
            .and_then(|r| r.split('(').next())
            .map(str::trim)
        else {
            i = j + 1;
            continue;
        };
        let indent = def.len() - def_trim.len();
        // The signature may span lines: the body starts after the line ending in `:`.
        let mut k = j;
        while k < lines.len()
            && !lines
                .get(k)
                .copied()
                .unwrap_or_default()
                .trim_end()
                .ends_with(':')
        {
            k += 1;
            if k > j + 30 {
                break;
            }
        }
        let body_start = k + 1;
        let mut last = body_start;
        let mut m = body_start;
        while m < lines.len() {
            let l = lines.get(m).copied().unwrap_or_default();
            if !l.trim().is_empty() {
                let ind = l.len() - l.trim_start().len();
                if ind <= indent {
                    break;
                }
                last = m;
            }
            m += 1;
        }
        if body_start < lines.len() {
            let mut names = vec![fname.to_string()];
            if let Some(n) = explicit_name {
                names = vec![n];
            }
            out.push(PyFunction {
                def_line: (j + 1) as u32,
                body: ((body_start + 1) as u32, (last + 1) as u32),
                names,
            });
        }
        i = m.max(i + 1);
    }
    out
}

fn decorator_name(line: &str) -> Option<String> {
    let pos = line.find("name=")?;
    let rest = line[pos + 5..].trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &rest[1..];
    inner.find(quote).map(|end| inner[..end].to_string())
}

/// String literals of the call starting at `start` (`session.run(` / `c.run(`),
/// following the call over at most 15 lines until its parentheses balance.
fn call_literals(lines: &[&str], start_line: usize, start_col: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut current = String::new();
    let mut started = false;
    for (n, line) in lines.iter().enumerate().skip(start_line).take(15) {
        let text = if n == start_line {
            line.get(start_col..).unwrap_or_default()
        } else {
            line
        };
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match quote {
                Some(q) => {
                    if c == '\\' {
                        if let Some(n) = chars.next() {
                            current.push(n);
                        }
                    } else if c == q {
                        out.push(std::mem::take(&mut current));
                        quote = None;
                    } else {
                        current.push(c);
                    }
                }
                None => match c {
                    '(' => {
                        depth += 1;
                        started = true;
                    }
                    ')' => {
                        depth -= 1;
                        if started && depth <= 0 {
                            return out;
                        }
                    }
                    '"' | '\'' if started && depth == 1 => quote = Some(c),
                    _ => {}
                },
            }
        }
    }
    out
}

/// Runs of `marker(` calls (e.g. `session.run(`) in a line range.
fn calls_in(text: &str, body: (u32, u32), markers: &[&str], cwd: &str, as_words: bool) -> Vec<Run> {
    let lines: Vec<&str> = text.lines().collect();
    let mut runs = Vec::new();
    for idx in body.0.saturating_sub(1) as usize..(body.1 as usize).min(lines.len()) {
        let line = lines.get(idx).copied().unwrap_or_default();
        if line.trim_start().starts_with('#') {
            continue;
        }
        for marker in markers {
            if let Some(col) = line.find(marker) {
                let literals = call_literals(&lines, idx, col);
                if literals.is_empty() {
                    continue;
                }
                let text = if as_words {
                    RunText::Words(literals)
                } else {
                    RunText::Shell(literals.into_iter().next().unwrap_or_default())
                };
                runs.push(Run {
                    line: (idx + 1) as u32,
                    text,
                    cwd: cwd.to_string(),
                });
            }
        }
    }
    runs
}

/// `nox -s a b`: the `@nox.session` functions' bodies; no sessions named = all.
pub fn nox_parts(
    files: &FileSet,
    cwd: &str,
    sessions: &[String],
    noxfile: Option<&str>,
) -> Vec<Part> {
    let path = noxfile.map_or_else(|| join(cwd, "noxfile.py"), |f| join(cwd, f));
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    let functions = decorated_functions(text, |d| {
        d.starts_with("@nox.session") || d.starts_with("@session")
    });
    functions
        .into_iter()
        .filter(|f| {
            sessions.is_empty()
                || sessions.iter().any(|s| {
                    // `tests-3.11` selects the parametrised session `tests`.
                    let base = s.split(['-', '(']).next().unwrap_or(s);
                    f.names.iter().any(|n| n == s || n == base)
                })
        })
        .map(|f| Part {
            path: path.clone(),
            lines: Some(f.body),
            entry: Location::new(path.clone(), f.def_line),
            runs: calls_in(
                text,
                f.body,
                &["session.run(", "session.run_always("],
                dir_of(&path),
                true,
            ),
        })
        .collect()
}

/// `invoke a b`: the `@task` functions in tasks.py; `c.run("…")` calls are followed.
pub fn invoke_parts(files: &FileSet, cwd: &str, tasks: &[String]) -> Vec<Part> {
    let path = join(cwd, "tasks.py");
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    decorated_functions(text, |d| {
        d.starts_with("@task") || d.starts_with("@invoke.task")
    })
    .into_iter()
    .filter(|f| {
        tasks.iter().any(|t| {
            let t = t.replace('-', "_");
            f.names.iter().any(|n| n.replace('-', "_") == t)
        })
    })
    .map(|f| Part {
        path: path.clone(),
        lines: Some(f.body),
        entry: Location::new(path.clone(), f.def_line),
        runs: calls_in(
            text,
            f.body,
            &["c.run(", "ctx.run(", "context.run(", "c.sudo("],
            "",
            false,
        ),
    })
    .collect()
}

// ------------------------------------------------------------------- just

/// `just a b`: justfile recipes (default = the first), with their dependencies.
pub fn just_parts(files: &FileSet, cwd: &str, recipes: &[String]) -> Vec<Part> {
    let path = ["justfile", "Justfile", ".justfile"]
        .iter()
        .map(|n| join(cwd, n))
        .find(|p| files.contains(p));
    let Some(path) = path else {
        return Vec::new();
    };
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    // name → (header line, deps, body range, body lines)
    struct Recipe {
        name: String,
        line: u32,
        deps: Vec<String>,
        body: Vec<(u32, String)>,
    }
    let mut all: Vec<Recipe> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        if raw.starts_with([' ', '\t']) {
            let t = raw.trim();
            if let Some(r) = all.last_mut() {
                if !t.is_empty() && !t.starts_with('#') {
                    r.body
                        .push((line, t.trim_start_matches(['@', '-']).to_string()));
                }
            }
            continue;
        }
        let t = raw.trim();
        if t.is_empty()
            || t.starts_with('#')
            || t.starts_with('[')
            || t.starts_with("set ")
            || t.starts_with("export ")
            || t.starts_with("import ")
            || t.starts_with("alias ")
            || t.contains(":=")
        {
            continue;
        }
        if let Some((head, deps)) = t.split_once(':') {
            let name = head
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches('@')
                .to_string();
            if name.is_empty() {
                continue;
            }
            all.push(Recipe {
                name,
                line,
                deps: deps
                    .split_whitespace()
                    .map(|d| d.trim_matches(['(', ')']).to_string())
                    .filter(|d| !d.is_empty() && !d.starts_with('"') && !d.starts_with('\''))
                    .collect(),
                body: Vec::new(),
            });
        }
    }
    let mut wanted: Vec<String> = if recipes.is_empty() {
        all.first().map(|r| r.name.clone()).into_iter().collect()
    } else {
        recipes.to_vec()
    };
    let mut seen = BTreeSet::new();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < wanted.len() && i < 50 {
        let name = wanted.get(i).cloned().unwrap_or_default();
        i += 1;
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(r) = all.iter().find(|r| r.name == name) else {
            continue;
        };
        wanted.extend(r.deps.iter().cloned());
        let (Some(first), Some(last)) = (r.body.first(), r.body.last()) else {
            continue;
        };
        parts.push(Part {
            path: path.clone(),
            lines: Some((first.0, last.0)),
            entry: Location::new(path.clone(), r.line),
            runs: r
                .body
                .iter()
                .map(|(l, t)| Run {
                    line: *l,
                    text: RunText::Shell(t.clone()),
                    cwd: dir_of(&path).to_string(),
                })
                .collect(),
        });
    }
    parts
}

// -------------------------------------------------------------------- npm

/// `npm run x` (and pre/post hooks): the script's line in package.json.
pub fn npm_parts(files: &FileSet, cwd: &str, script: &str) -> Vec<Part> {
    let path = join(cwd, "package.json");
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let Some(scripts) = json.get("scripts").and_then(|s| s.as_object()) else {
        return Vec::new();
    };
    let scripts_line = text
        .lines()
        .position(|l| l.contains("\"scripts\""))
        .unwrap_or(0);
    let mut parts = Vec::new();
    for name in [
        format!("pre{script}"),
        script.to_string(),
        format!("post{script}"),
    ] {
        let Some(cmd) = scripts.get(&name).and_then(|v| v.as_str()) else {
            continue;
        };
        let key = format!("\"{name}\"");
        let line = text
            .lines()
            .enumerate()
            .skip(scripts_line)
            .find(|(_, l)| l.trim_start().starts_with(&key))
            .map_or(scripts_line as u32 + 1, |(i, _)| i as u32 + 1);
        parts.push(Part {
            path: path.clone(),
            lines: Some((line, line)),
            entry: Location::new(path.clone(), line),
            runs: vec![Run {
                line,
                text: RunText::Shell(cmd.to_string()),
                cwd: cwd.to_string(),
            }],
        });
    }
    parts
}

// -------------------------------------------------------------------- dvc

/// Line range of a YAML scalar node: block scalars start on the line after the key.
fn scalar_range(node: &yaml::Node, text: &str) -> (u32, u32) {
    let lines = text.lines().count().max(1) as u32;
    (node.line, node.line + lines - 1)
}

/// `dvc repro [target]`: the stages' `cmd`. A named stage brings the stages
/// producing its dependencies (what `dvc repro` runs first); `single` = only it.
pub fn dvc_parts(files: &FileSet, cwd: &str, target: Option<&str>, single: bool) -> Vec<Part> {
    let (file, stage) = match target {
        Some(t) if t.ends_with("dvc.yaml") => (t.to_string(), None),
        Some(t) => match t.split_once(':') {
            Some((f, s)) if f.ends_with(".yaml") => (f.to_string(), Some(s.to_string())),
            _ => ("dvc.yaml".to_string(), Some(t.to_string())),
        },
        None => ("dvc.yaml".to_string(), None),
    };
    let path = join(cwd, &file);
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    let Ok(root) = yaml::parse(text) else {
        return Vec::new();
    };
    let Some(stages) = root.get("stages").and_then(yaml::Node::as_map) else {
        return Vec::new();
    };
    struct Stage<'a> {
        name: String,
        key_line: u32,
        node: &'a yaml::Node,
        deps: Vec<String>,
        outs: Vec<String>,
    }
    let paths_of = |n: Option<&yaml::Node>| -> Vec<String> {
        n.and_then(yaml::Node::as_seq)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        i.scalar_text().or_else(|| {
                            i.as_map()
                                .and_then(|m| m.first())
                                .and_then(|(k, _)| k.scalar_text())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let all: Vec<Stage> = stages
        .iter()
        .filter_map(|(k, v)| {
            let body = v.get("do").unwrap_or(v);
            Some(Stage {
                name: k.scalar_text()?,
                key_line: k.line,
                node: body,
                deps: paths_of(body.get("deps")),
                outs: paths_of(body.get("outs"))
                    .into_iter()
                    .chain(paths_of(body.get("metrics")))
                    .chain(paths_of(body.get("plots")))
                    .collect(),
            })
        })
        .collect();
    let mut selected: Vec<usize> = match &stage {
        None => (0..all.len()).collect(),
        Some(name) => all
            .iter()
            .position(|s| &s.name == name || s.name.split('@').next() == Some(name.as_str()))
            .into_iter()
            .collect(),
    };
    if stage.is_some() && !single {
        let mut i = 0;
        while i < selected.len() && i < 100 {
            let deps = selected
                .get(i)
                .and_then(|&s| all.get(s))
                .map(|s| s.deps.clone())
                .unwrap_or_default();
            for (ix, other) in all.iter().enumerate() {
                if !selected.contains(&ix) && other.outs.iter().any(|o| deps.contains(o)) {
                    selected.push(ix);
                }
            }
            i += 1;
        }
    }
    let mut parts = Vec::new();
    for s in selected.into_iter().filter_map(|i| all.get(i)) {
        let Some(cmd) = s.node.get("cmd") else {
            continue;
        };
        let wdir = s.node.get("wdir").and_then(yaml::Node::as_str).map_or_else(
            || dir_of(&path).to_string(),
            |w| normalise(&join(dir_of(&path), w)),
        );
        let pieces: Vec<&yaml::Node> = match cmd.as_seq() {
            Some(items) => items.iter().collect(),
            None => vec![cmd],
        };
        let mut runs = Vec::new();
        let mut range: Option<(u32, u32)> = None;
        for piece in pieces {
            let Some(t) = piece.as_str() else { continue };
            let (a, b) = scalar_range(piece, t);
            range = Some(range.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
            runs.push(Run {
                line: piece.line,
                text: RunText::Shell(t.to_string()),
                cwd: wdir.clone(),
            });
        }
        parts.push(Part {
            path: path.clone(),
            lines: range,
            entry: Location::new(path.clone(), s.key_line),
            runs,
        });
    }
    parts
}

// ----------------------------------------------------------------- MLflow

/// `mlflow run <dir> [-e entry]`: the entry point's `command` in `MLproject`
/// (default entry `main`).
pub fn mlproject_parts(files: &FileSet, dir: &str, entry: &str) -> Vec<Part> {
    let path = ["MLproject", "MLProject", "mlproject"]
        .iter()
        .map(|n| join(dir, n))
        .find(|p| files.contains(p));
    let Some(path) = path else {
        return Vec::new();
    };
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    let Ok(root) = yaml::parse(text) else {
        return Vec::new();
    };
    let Some((key, node)) = root.get("entry_points").and_then(|e| e.entry(entry)) else {
        return Vec::new();
    };
    let Some(cmd) = node.get("command") else {
        return Vec::new();
    };
    let Some(cmd_text) = cmd.as_str() else {
        return Vec::new();
    };
    vec![Part {
        path: path.clone(),
        lines: Some(scalar_range(cmd, cmd_text)),
        entry: Location::new(path.clone(), key.line),
        runs: vec![Run {
            line: cmd.line,
            text: RunText::Shell(strip_braces(cmd_text)),
            cwd: dir.to_string(),
        }],
    }]
}

// --------------------------------------------------------------- job specs

/// A job spec file that names an entrypoint: Azure ML `command:` jobs (also
/// the jobs of a pipeline job), Anyscale jobs (`entrypoint:`) and Kubernetes Jobs/CronJobs whose container
/// `command`/`args` run something. The whole file is reached.
pub fn job_spec_part(files: &FileSet, path: &str) -> Option<Part> {
    let text = files.text(path)?;
    let root = yaml::parse(text).ok()?;
    let mut runs = Vec::new();
    collect_entrypoints(&root, dir_of(path), &mut runs, 0);
    Some(Part {
        path: path.to_string(),
        lines: None,
        entry: Location::file(path),
        runs,
    })
}

fn collect_entrypoints(node: &yaml::Node, dir: &str, runs: &mut Vec<Run>, depth: usize) {
    if depth > 12 || runs.len() > 20 {
        return;
    }
    if let Some(entries) = node.as_map() {
        // Azure ML: `command:` with an optional `code:` folder.
        if let Some(cmd) = node.get("command") {
            let cwd = node
                .get("code")
                .and_then(yaml::Node::as_str)
                .filter(|c| !c.contains(':'))
                .map_or_else(|| dir.to_string(), |c| normalise(&join(dir, c)));
            match (cmd.as_str(), cmd.as_seq()) {
                (Some(text), _) => runs.push(Run {
                    line: cmd.line,
                    text: RunText::Shell(text.to_string()),
                    cwd,
                }),
                // Kubernetes: `command: [python, x.py]` + `args: [...]`.
                (None, Some(_)) => {
                    let mut words = cmd.string_list();
                    if let Some(args) = node.get("args") {
                        words.extend(args.string_list());
                    }
                    let shell_c = words.len() >= 3
                        && matches!(
                            words.first().map(String::as_str),
                            Some("sh" | "bash" | "/bin/sh" | "/bin/bash")
                        )
                        && words.get(1).is_some_and(|w| w == "-c");
                    let text = if shell_c {
                        RunText::Shell(words.get(2).cloned().unwrap_or_default())
                    } else {
                        RunText::Words(words)
                    };
                    runs.push(Run {
                        line: cmd.line,
                        text,
                        cwd: dir.to_string(),
                    });
                }
                _ => {}
            }
        }
        // Anyscale job: `entrypoint: bash x.sh`, run from `runtime_env.working_dir`
        // (the submitting directory when it is `.`; the root is also tried on resolve).
        if let Some(text) = node.get("entrypoint").and_then(yaml::Node::as_str) {
            if node.get("command").is_none() {
                let cwd = node
                    .get("runtime_env")
                    .and_then(|env| env.get("working_dir"))
                    .and_then(yaml::Node::as_str)
                    .filter(|w| !w.contains(':') && *w != ".")
                    .map_or_else(|| dir.to_string(), |w| normalise(&join(dir, w)));
                if let Some(line) = node.get("entrypoint").map(|n| n.line) {
                    runs.push(Run {
                        line,
                        text: RunText::Shell(text.to_string()),
                        cwd,
                    });
                }
            }
        }
        for (_, v) in entries {
            collect_entrypoints(v, dir, runs, depth + 1);
        }
    } else if let Some(items) = node.as_seq() {
        for item in items {
            collect_entrypoints(item, dir, runs, depth + 1);
        }
    }
}

/// Resolve `.` and `..` in a repository-relative path; `None`-free: an escape
/// above the root stays at the root.
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for piece in path.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

// ------------------------------------------------------ pyproject scripts

/// The 1-based line of `key =` (bare or quoted) inside the TOML table whose
/// header is `header` (`[tool.poe.tasks]`); a sub-table `[header.key]` counts too.
fn toml_key_line(text: &str, header: &str, key: &str) -> Option<u32> {
    let mut in_table = false;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            if name == format!("{header}.{key}") || name == format!("{header}.\"{key}\"") {
                return Some(i as u32 + 1);
            }
            in_table = name == header;
            continue;
        }
        if in_table {
            let k = t
                .split('=')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches(['"', '\'']);
            if k == key && t.contains('=') {
                return Some(i as u32 + 1);
            }
        }
    }
    None
}

/// Command texts of a task value: a string, a list of strings, or a table with
/// `cmd` / `shell` / `sequence` (poethepoet, taskipy).
fn task_commands(value: &toml::Value) -> Vec<String> {
    match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(items) => items.iter().flat_map(task_commands).collect(),
        toml::Value::Table(t) => ["cmd", "shell", "script", "sequence", "call"]
            .iter()
            .filter_map(|k| t.get(*k))
            .flat_map(task_commands)
            .collect(),
        _ => Vec::new(),
    }
}

/// Scripts named in pyproject.toml: poethepoet `[tool.poe.tasks]`, taskipy
/// `[tool.taskipy.tasks]`, PDM `[tool.pdm.scripts]`, Hatch
/// `[tool.hatch.envs.<env>.scripts]`, and `[project.scripts]` entry points
/// (`name = "pkg.cli:main"`, reached as the module file).
pub fn pyproject_script_parts(files: &FileSet, cwd: &str, name: &str) -> Vec<Part> {
    let path = join(cwd, "pyproject.toml");
    let Some(text) = files.text(&path) else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let tool = doc.get("tool");
    let at = |v: Option<&toml::Value>, keys: &[&str]| -> Option<toml::Value> {
        let mut cur = v?;
        for k in keys {
            cur = cur.get(k)?;
        }
        Some(cur.clone())
    };
    let mut owned: Vec<(String, toml::Value)> = Vec::new();
    for (header, keys) in [
        ("tool.poe.tasks", &["poe", "tasks"][..]),
        ("tool.taskipy.tasks", &["taskipy", "tasks"][..]),
        ("tool.pdm.scripts", &["pdm", "scripts"][..]),
    ] {
        if let Some(v) = at(tool, keys) {
            owned.push((header.to_string(), v));
        }
    }
    // `hatch run test` or `hatch run env:test`.
    let (env, script) = name.split_once(':').unwrap_or(("default", name));
    if let Some(v) = at(tool, &["hatch", "envs", env, "scripts"]) {
        owned.push((format!("tool.hatch.envs.{env}.scripts"), v));
    }
    let mut parts = Vec::new();
    for (header, table) in &owned {
        let Some(value) = table.get(script) else {
            continue;
        };
        let line = toml_key_line(text, header, script).unwrap_or(1);
        let runs = task_commands(value)
            .into_iter()
            .map(|cmd| Run {
                line,
                text: RunText::Shell(strip_braces(&cmd)),
                cwd: cwd.to_string(),
            })
            .collect();
        parts.push(Part {
            path: path.clone(),
            lines: Some((line, line)),
            entry: Location::new(path.clone(), line),
            runs,
        });
    }
    if parts.is_empty() {
        // An entry point: `train = "pkg.train:main"` runs the module `pkg/train.py`.
        if let Some(target) = doc
            .get("project")
            .and_then(|p| p.get("scripts"))
            .and_then(|s| s.get(name))
            .and_then(|v| v.as_str())
        {
            let module = target.split(':').next().unwrap_or(target).trim();
            let line = toml_key_line(text, "project.scripts", name).unwrap_or(1);
            parts.push(Part {
                path: path.clone(),
                lines: Some((line, line)),
                entry: Location::new(path.clone(), line),
                runs: vec![Run {
                    line,
                    text: RunText::Words(vec!["python".into(), "-m".into(), module.to_string()]),
                    cwd: cwd.to_string(),
                }],
            });
        }
    }
    parts
}

/// go-task `Taskfile.yml`: the task's `cmds` (strings or `{cmd: …}`), with its `deps`.
pub fn taskfile_parts(files: &FileSet, cwd: &str, tasks: &[String]) -> Vec<Part> {
    let path = [
        "Taskfile.yml",
        "Taskfile.yaml",
        "taskfile.yml",
        "taskfile.yaml",
    ]
    .iter()
    .map(|n| join(cwd, n))
    .find(|p| files.contains(p));
    let Some(path) = path else {
        return Vec::new();
    };
    let Some(root) = files.text(&path).and_then(|t| yaml::parse(t).ok()) else {
        return Vec::new();
    };
    let Some(all) = root.get("tasks") else {
        return Vec::new();
    };
    let mut wanted: Vec<String> = if tasks.is_empty() {
        vec!["default".to_string()]
    } else {
        tasks.to_vec()
    };
    let mut seen = BTreeSet::new();
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(name) = wanted.get(i).cloned() {
        i += 1;
        if i > 50 || !seen.insert(name.clone()) {
            continue;
        }
        let Some((key, task)) = all.entry(&name) else {
            continue;
        };
        if let Some(deps) = task.get("deps") {
            wanted.extend(deps.as_seq().unwrap_or_default().iter().filter_map(|d| {
                d.scalar_text()
                    .or_else(|| d.get("task").and_then(yaml::Node::scalar_text))
            }));
        }
        let cmds: Vec<&yaml::Node> = task
            .get("cmds")
            .and_then(yaml::Node::as_seq)
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        let mut runs = Vec::new();
        let mut range: Option<(u32, u32)> = None;
        for c in cmds {
            let node = c.get("cmd").unwrap_or(c);
            if let Some(sub) = c.get("task").and_then(yaml::Node::scalar_text) {
                wanted.push(sub);
                continue;
            }
            let Some(t) = node.as_str() else { continue };
            let (a, b) = scalar_range(node, t);
            range = Some(range.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
            runs.push(Run {
                line: node.line,
                text: RunText::Shell(t.to_string()),
                cwd: dir_of(&path).to_string(),
            });
        }
        if range.is_some() {
            parts.push(Part {
                path: path.clone(),
                lines: range,
                entry: Location::new(path.clone(), key.line),
                runs,
            });
        }
    }
    parts
}

/// tox 4 native TOML (`tox.toml`, or `[tool.tox]` in pyproject.toml without
/// `legacy_tox_ini`): `[env.<name>]` / `[env_run_base]` `commands = [["pytest", …], …]`.
fn tox_toml_parts(files: &FileSet, cwd: &str, envs: &[String]) -> Vec<Part> {
    let candidates = [
        (join(cwd, "tox.toml"), ""),
        (join(cwd, "pyproject.toml"), "tool.tox"),
    ];
    for (path, prefix) in candidates {
        let Some(text) = files.text(&path) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let root: Option<&toml::Value> = if prefix.is_empty() {
            None
        } else {
            doc.get("tool").and_then(|t| t.get("tox"))
        };
        let get = |key: &str| match root {
            Some(r) => r.get(key),
            None => doc.get(key),
        };
        if get("env_run_base").is_none() && get("env").is_none() {
            continue;
        }
        let header = |rest: &str| {
            if prefix.is_empty() {
                rest.to_string()
            } else {
                format!("{prefix}.{rest}")
            }
        };
        let mut wanted: Vec<String> = envs.to_vec();
        if wanted.is_empty() {
            wanted = get("env_list")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
        }
        if wanted.is_empty() {
            wanted.push(String::new());
        }
        let mut seen = BTreeSet::new();
        let mut parts = Vec::new();
        for env in wanted {
            let (table_header, table) = match get("env").and_then(|e| e.get(&env)) {
                Some(t) if t.get("commands").is_some() => (header(&format!("env.{env}")), t),
                _ => match get("env_run_base") {
                    Some(t) => (header("env_run_base"), t),
                    None => continue,
                },
            };
            if !seen.insert(table_header.clone()) {
                continue;
            }
            let Some(commands) = table.get("commands").and_then(|c| c.as_array()) else {
                continue;
            };
            let line = toml_key_line(text, &table_header, "commands").unwrap_or(1);
            let runs = commands
                .iter()
                .filter_map(|c| c.as_array())
                .map(|words| Run {
                    line,
                    text: RunText::Words(
                        words
                            .iter()
                            .filter_map(|w| w.as_str().map(strip_braces))
                            .filter(|w| !w.is_empty())
                            .collect(),
                    ),
                    cwd: cwd.to_string(),
                })
                .collect();
            parts.push(Part {
                path: path.clone(),
                lines: Some((line, line)),
                entry: Location::new(path.clone(), line),
                runs,
            });
        }
        return parts;
    }
    Vec::new()
}

// ------------------------------------------------------------ mise / pixi

/// The lines a TOML entry spans: from `first` (its key or `[table]` header) to
/// the end of its value. A sub-table runs until the next header (trailing blank
/// and comment lines dropped); a `key = value` ends where its multi-line string
/// or array closes.
fn toml_entry_span(text: &str, first: u32, is_table: bool) -> (u32, u32) {
    let lines: Vec<&str> = text.lines().collect();
    let start = first.saturating_sub(1) as usize;
    if is_table {
        let mut last = first;
        for (i, raw) in lines.iter().enumerate().skip(start + 1) {
            let t = raw.trim();
            if t.starts_with('[') && !t.starts_with("[[") && t.ends_with(']') && !t.contains('=') {
                break;
            }
            if !t.is_empty() && !t.starts_with('#') {
                last = i as u32 + 1;
            }
        }
        return (first, last);
    }
    let Some(line) = lines.get(start) else {
        return (first, first);
    };
    let value = line.split_once('=').map_or("", |(_, v)| v).trim();
    // A multi-line string closes at the next triple quote; an array or inline
    // table at the line where brackets balance.
    for quote in ["\"\"\"", "'''"] {
        if let Some(rest) = value.strip_prefix(quote) {
            if rest.contains(quote) {
                return (first, first);
            }
            for (i, raw) in lines.iter().enumerate().skip(start + 1) {
                if raw.contains(quote) {
                    return (first, i as u32 + 1);
                }
            }
            return (first, first);
        }
    }
    let mut depth: i32 = 0;
    for (i, raw) in lines.iter().enumerate().skip(start) {
        let part = if i == start { value } else { raw };
        let mut in_string: Option<char> = None;
        for c in part.chars() {
            match (in_string, c) {
                (None, '"' | '\'') => in_string = Some(c),
                (Some(q), _) if c == q => in_string = None,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth -= 1,
                (None, '#') => break,
                _ => {}
            }
        }
        if depth <= 0 {
            return (first, i as u32 + 1);
        }
    }
    (first, first)
}

/// Where each command of a task starts: a single-line command on the first line
/// of the span that holds its first line, a `"""` block on the line after the
/// opening quotes; the entry line when it cannot be found.
fn command_line(text: &str, span: (u32, u32), cmd: &str) -> u32 {
    let head = cmd
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if head.is_empty() {
        return span.0;
    }
    text.lines()
        .enumerate()
        .skip(span.0.saturating_sub(1) as usize)
        .take((span.1 - span.0.min(span.1) + 1) as usize)
        .find(|(_, l)| l.contains(head))
        .map_or(span.0, |(i, _)| i as u32 + 1)
        .saturating_sub(u32::from(cmd.starts_with('\n')))
}

/// A task table's commands and dependencies, for mise (`run`, `depends`) and
/// pixi (`cmd`, `depends-on` / `depends_on`). A string value is the command itself;
/// an array `cmd` of words is one command.
fn toml_task(value: &toml::Value) -> (Vec<String>, Vec<String>) {
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        match v {
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .or_else(|| x.get("task").and_then(|t| t.as_str()).map(str::to_string))
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    match value {
        toml::Value::String(s) => (vec![s.clone()], Vec::new()),
        toml::Value::Array(_) => (strings(Some(value)), Vec::new()),
        toml::Value::Table(t) => {
            let commands = if let Some(run) = t.get("run") {
                // mise: `run = "…"` or `run = ["…", "…"]`, each a command line.
                strings(Some(run))
            } else {
                match t.get("cmd") {
                    // pixi: `cmd = ["python", "train.py"]` is one command's words.
                    Some(toml::Value::Array(words)) => vec![
                        words
                            .iter()
                            .filter_map(|w| w.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ],
                    other => strings(other),
                }
            };
            let mut deps = strings(t.get("depends"));
            deps.extend(strings(t.get("depends-on")));
            deps.extend(strings(t.get("depends_on")));
            (commands, deps)
        }
        _ => (Vec::new(), Vec::new()),
    }
}

/// Tasks of a TOML task table (`tasks` at `keys` in the file at `path`), with
/// their dependencies first-come; `header` is the dotted table name as written.
fn toml_tasks_parts(
    files: &FileSet,
    path: &str,
    keys: &[&str],
    header: &str,
    names: &[String],
) -> Vec<Part> {
    let Some(text) = files.text(path) else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut table: Option<&toml::Value> = None;
    for (i, k) in keys.iter().enumerate() {
        table = if i == 0 {
            doc.get(*k)
        } else {
            table.and_then(|t| t.get(*k))
        };
    }
    let Some(table) = table else {
        return Vec::new();
    };
    let cwd = dir_of(path).to_string();
    let mut wanted: Vec<String> = names.to_vec();
    let mut seen = BTreeSet::new();
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(name) = wanted.get(i).cloned() {
        i += 1;
        if i > 50 || !seen.insert(name.clone()) {
            continue;
        }
        let Some(value) = table.get(&name) else {
            continue;
        };
        let (commands, deps) = toml_task(value);
        wanted.extend(deps);
        let sub_table = format!("{header}.{name}");
        let quoted = format!("{header}.\"{name}\"");
        let is_table = value.is_table()
            && text.lines().any(|l| {
                let n = l.trim().trim_matches(|c| c == '[' || c == ']').trim();
                l.trim().starts_with('[') && (n == sub_table || n == quoted)
            });
        let Some(first) = toml_key_line(text, header, &name) else {
            continue;
        };
        let span = toml_entry_span(text, first, is_table);
        let runs = commands
            .iter()
            .map(|cmd| Run {
                line: command_line(text, span, cmd),
                text: RunText::Shell(cmd.trim_start_matches('\n').to_string()),
                cwd: cwd.clone(),
            })
            .collect();
        parts.push(Part {
            path: path.to_string(),
            lines: Some(span),
            entry: Location::new(path.to_string(), first),
            runs,
        });
    }
    parts
}

/// `pixi run <task>`: `[tasks]` of pixi.toml, or `[tool.pixi.tasks]` of pyproject.toml.
pub fn pixi_parts(files: &FileSet, cwd: &str, task: &str) -> Vec<Part> {
    let names = [task.to_string()];
    let parts = toml_tasks_parts(files, &join(cwd, "pixi.toml"), &["tasks"], "tasks", &names);
    if !parts.is_empty() {
        return parts;
    }
    toml_tasks_parts(
        files,
        &join(cwd, "pyproject.toml"),
        &["tool", "pixi", "tasks"],
        "tool.pixi.tasks",
        &names,
    )
}

/// `mise run <task>`: `[tasks.<name>]` of mise.toml / .mise.toml (and their
/// `.config/` and `mise/` places), with `depends`.
pub fn mise_toml_parts(files: &FileSet, cwd: &str, tasks: &[String]) -> Vec<Part> {
    for name in [
        "mise.toml",
        ".mise.toml",
        "mise/config.toml",
        ".mise/config.toml",
        ".config/mise.toml",
        ".config/mise/config.toml",
    ] {
        let parts = toml_tasks_parts(files, &join(cwd, name), &["tasks"], "tasks", tasks);
        if !parts.is_empty() {
            return parts;
        }
    }
    Vec::new()
}

/// A mise file task: an executable under `.mise/tasks/`, `mise-tasks/`,
/// `mise/tasks/`, `.mise-tasks/` or `.config/mise/tasks/`; `a:b` is `a/b`.
pub fn mise_file_task(files: &FileSet, cwd: &str, task: &str) -> Option<String> {
    if task.contains("..") || task.is_empty() {
        return None;
    }
    let rel = task.replace(':', "/");
    [
        ".mise/tasks",
        "mise-tasks",
        ".mise-tasks",
        "mise/tasks",
        ".config/mise/tasks",
    ]
    .iter()
    .map(|d| join(cwd, &format!("{d}/{rel}")))
    .find(|p| files.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::RepoFile;

    fn files(list: &[(&str, &str)]) -> FileSet {
        FileSet::new(
            list.iter()
                .map(|(p, t)| RepoFile {
                    path: p.to_string(),
                    size: t.len() as u64,
                    content: Some(std::sync::Arc::from(*t)),
                    skipped: None,
                })
                .collect(),
        )
    }

    /// A part's line range and its runs' (line, shell text).
    type PartSummary<'a> = (Option<(u32, u32)>, Vec<(u32, &'a str)>);

    fn shell(run: &Run) -> (u32, &str) {
        match &run.text {
            RunText::Shell(s) => (run.line, s.as_str()),
            RunText::Words(_) => (run.line, ""),
        }
    }

    #[test]
    fn mise_tasks_with_runs_arrays_and_depends() {
        let fs = files(&[(
            "mise.toml",
            "[tools]\npython = \"3.11\"\n\n[tasks.prep]\nrun = \"python prep.py\"\n\n[tasks.train]\ndescription = \"fit\"\ndepends = [\"prep\"]\nrun = [\n  \"python train.py\",\n  \"python eval.py\",\n]\n\n# next\n[tasks.lint]\nrun = \"ruff check\"\n",
        )]);
        let parts = mise_toml_parts(&fs, "", &["train".to_string()]);
        let summary: Vec<PartSummary> = parts
            .iter()
            .map(|p| (p.lines, p.runs.iter().map(shell).collect()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    Some((7, 13)),
                    vec![(11, "python train.py"), (12, "python eval.py")]
                ),
                (Some((4, 5)), vec![(5, "python prep.py")]),
            ]
        );
        assert_eq!(parts[0].entry, Location::new("mise.toml", 7));
        // Unknown task, or no mise config: nothing.
        assert!(mise_toml_parts(&fs, "", &["deploy".to_string()]).is_empty());
        assert!(mise_toml_parts(&fs, "sub", &["train".to_string()]).is_empty());
    }

    #[test]
    fn mise_multiline_run_and_file_tasks() {
        let fs = files(&[
            (
                ".mise.toml",
                "[tasks.test]\nrun = \"\"\"\npytest tests\ncoverage report\n\"\"\"\n",
            ),
            (
                ".mise/tasks/train",
                "#!/usr/bin/env bash\npython train.py\n",
            ),
            ("mise-tasks/data/fetch", "#!/bin/sh\ndvc pull\n"),
        ]);
        let parts = mise_toml_parts(&fs, "", &["test".to_string()]);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].lines, Some((1, 5)));
        assert_eq!(
            shell(&parts[0].runs[0]),
            (3, "pytest tests\ncoverage report\n")
        );
        assert_eq!(
            mise_file_task(&fs, "", "train").as_deref(),
            Some(".mise/tasks/train")
        );
        assert_eq!(
            mise_file_task(&fs, "", "data:fetch").as_deref(),
            Some("mise-tasks/data/fetch")
        );
        assert_eq!(mise_file_task(&fs, "", "../etc"), None);
        assert_eq!(mise_file_task(&fs, "", "deploy"), None);
    }

    #[test]
    fn pixi_tasks_strings_tables_and_pyproject() {
        let fs = files(&[
            (
                "pixi.toml",
                "[project]\nname = \"x\"\n\n[tasks]\nprep = \"python prep.py\"\ntrain = { cmd = [\"python\", \"train.py\"], depends-on = [\"prep\"] }\nlint = \"ruff check\"\n",
            ),
            (
                "sub/pyproject.toml",
                "[project]\nname = \"y\"\n\n[tool.pixi.tasks]\ntest = \"pytest -q\"\n",
            ),
        ]);
        let parts = pixi_parts(&fs, "", "train");
        let summary: Vec<PartSummary> = parts
            .iter()
            .map(|p| (p.lines, p.runs.iter().map(shell).collect()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some((6, 6)), vec![(6, "python train.py")]),
                (Some((5, 5)), vec![(5, "python prep.py")]),
            ]
        );
        let sub = pixi_parts(&fs, "sub", "test");
        assert_eq!(sub.len(), 1);
        assert_eq!(sub[0].path, "sub/pyproject.toml");
        assert_eq!(sub[0].runs[0].cwd, "sub");
        assert!(pixi_parts(&fs, "", "deploy").is_empty());
    }
}
