//! Lines of code, without comments: what content rules may match.
//!
//! A practice in a commented-out line or in prose is not present (practice
//! catalog, "Where the line falls"), so each file's lines are reduced to their
//! code part according to the file's language before any rule looks at them.

/// How a file's comments look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `#` comments: shell, YAML, TOML, INI, Makefile, Dockerfile, requirements, R.
    Hash,
    /// Python: `#` comments and docstrings (examples in docstrings are prose).
    Python,
    /// `//` and `/* */`: Groovy/Jenkinsfile, JavaScript/TypeScript, Go, Java, Rust…
    Slash,
    /// Both `#` and `//`, `/* */`: Terraform/HCL.
    HashSlash,
    /// No comment syntax (JSON, SQL treated plainly).
    Plain,
    /// Jupyter notebook: only code cells count.
    Notebook,
    /// Prose and patches: never matched.
    Prose,
}

impl Lang {
    pub fn of(path: &str) -> Lang {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        if name.starts_with("jenkinsfile") {
            return Lang::Slash;
        }
        if name.starts_with("dockerfile")
            || name.starts_with("containerfile")
            || name.starts_with("makefile")
            || matches!(
                name.as_str(),
                "gnumakefile"
                    | "procfile"
                    | "mlproject"
                    | "justfile"
                    | "pipfile"
                    | ".gitattributes"
                    | ".gitignore"
                    | ".dvcignore"
                    | "codeowners"
                    | ".coveragerc"
            )
        {
            return Lang::Hash;
        }
        let ext = match name.rsplit_once('.') {
            Some((_, e)) => e,
            None => return Lang::Hash,
        };
        match ext {
            "md" | "markdown" | "rst" | "adoc" | "html" | "htm" | "tex" | "org" | "patch"
            | "diff" => Lang::Prose,
            "py" | "pyi" => Lang::Python,
            "ipynb" => Lang::Notebook,
            "groovy" | "gradle" | "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "go" | "java"
            | "kt" | "scala" | "rs" | "jsonc" | "cue" | "jsonnet" | "libsonnet" | "bicep"
            | "nf" | "c" | "cc" | "cpp" | "h" | "swift" | "cs" => Lang::Slash,
            "tf" | "tfvars" | "hcl" => Lang::HashSlash,
            "json" | "sql" | "xml" | "csv" => Lang::Plain,
            _ => Lang::Hash,
        }
    }
}

/// Cut a line at the first comment marker outside quotes.
fn cut_comment(line: &str, hash: bool, slash: bool) -> (&str, bool) {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'\'' || b == b'`' {
                    // An apostrophe inside a word (don't) opens no string.
                    let prev_alnum = i > 0 && bytes[i - 1].is_ascii_alphanumeric();
                    if !(b == b'\'' && prev_alnum) {
                        quote = Some(b);
                    }
                } else {
                    let hash_comment =
                        hash && b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace());
                    // `//` after `:` is a URL (`https://`), not a comment.
                    let slash_comment = slash
                        && b == b'/'
                        && bytes.get(i + 1) == Some(&b'/')
                        && (i == 0 || bytes[i - 1] != b':');
                    if hash_comment || slash_comment {
                        return (&line[..i], false);
                    }
                    if slash && b == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        // Block comment opens; code after its close on the same line is rare: drop it.
                        let rest = &line[i + 2..];
                        return (&line[..i], !rest.contains("*/"));
                    }
                }
            }
        }
        i += 1;
    }
    (line, false)
}

/// The code lines of a text: (1-based line number, code part), comments and
/// blank lines dropped.
pub fn code_lines(text: &str, lang: Lang) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    if lang == Lang::Prose {
        return out;
    }
    let mut in_block = false;
    let mut in_docstring: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim_start();
        let code: &str = match lang {
            Lang::Prose | Lang::Notebook | Lang::Plain => raw,
            Lang::Hash => {
                if trimmed.starts_with('#') {
                    continue;
                }
                cut_comment(raw, true, false).0
            }
            Lang::Python => {
                if let Some(delim) = in_docstring {
                    if raw.contains(delim) {
                        in_docstring = None;
                    }
                    continue;
                }
                if trimmed.starts_with('#') {
                    continue;
                }
                let mut opened = None;
                for delim in ["\"\"\"", "'''"] {
                    if raw.matches(delim).count() % 2 == 1 {
                        opened = Some(delim);
                        break;
                    }
                }
                let starts_string = ["\"\"\"", "'''", "r\"\"\"", "r'''"]
                    .iter()
                    .any(|d| trimmed.starts_with(d));
                if let Some(delim) = opened {
                    in_docstring = Some(delim);
                    if starts_string {
                        continue;
                    }
                    // Code before an opening triple quote still counts.
                    match raw.find(delim) {
                        Some(pos) => &raw[..pos],
                        None => raw,
                    }
                } else if starts_string {
                    // A one-line docstring or string statement.
                    continue;
                } else {
                    cut_comment(raw, true, false).0
                }
            }
            Lang::Slash | Lang::HashSlash => {
                let hash = lang == Lang::HashSlash;
                if in_block {
                    if let Some(pos) = raw.find("*/") {
                        {
                            let rest = &raw[pos + 2..];
                            let (code, opens) = cut_comment(rest, hash, true);
                            in_block = opens;
                            if code.trim().is_empty() {
                                continue;
                            }
                            out.push((n, code.trim_end().to_string()));
                        }
                    }
                    continue;
                }
                if trimmed.starts_with("//") || (hash && trimmed.starts_with('#')) {
                    continue;
                }
                let (code, opens) = cut_comment(raw, hash, true);
                in_block = opens;
                code
            }
        };
        if code.trim().is_empty() {
            continue;
        }
        out.push((n, code.trim_end().to_string()));
    }
    out
}

/// The code lines of a notebook's code cells, numbered by their line in the
/// notebook file (the JSON), Python comments dropped. Markdown cells never count.
pub fn notebook_code_lines(text: &str) -> Vec<(u32, String)> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let Some(cells) = value.get("cells").and_then(|c| c.as_array()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cursor = 0usize;
    for cell in cells {
        if cell.get("cell_type").and_then(|t| t.as_str()) != Some("code") {
            continue;
        }
        let pieces: Vec<String> = match cell.get("source") {
            Some(serde_json::Value::String(s)) => {
                s.split_inclusive('\n').map(String::from).collect()
            }
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        let source: String = pieces.concat();
        // Locate each source line in the JSON text to report a real line number.
        let mut numbered = Vec::new();
        for (raw_no, code) in code_lines(&source, Lang::Python) {
            let piece = source
                .lines()
                .nth(raw_no.saturating_sub(1) as usize)
                .unwrap_or("");
            let encoded = serde_json::to_string(piece).unwrap_or_default();
            let needle = encoded.trim_start_matches('"').trim_end_matches('"');
            let line = match text.get(cursor..).and_then(|rest| rest.find(needle)) {
                Some(pos) if !needle.is_empty() => {
                    cursor += pos + needle.len();
                    u32::try_from(text[..cursor].matches('\n').count() + 1).unwrap_or(0)
                }
                _ => 0,
            };
            numbered.push((line, code));
        }
        out.extend(numbered);
    }
    out
}

/// A matched line shortened for a report.
pub fn excerpt(line: &str) -> String {
    let t = line.trim();
    const MAX: usize = 160;
    if t.len() <= MAX {
        return t.to_string();
    }
    let mut end = MAX;
    while end > 0 && !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &t[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, lang: Lang) -> Vec<String> {
        code_lines(text, lang).into_iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn hash_comments_are_dropped() {
        let text = "# mlflow.register_model(x)\nrun: pytest # not ruff\necho '#not a comment'\n";
        assert_eq!(
            codes(text, Lang::Hash),
            ["run: pytest", "echo '#not a comment'"]
        );
    }

    #[test]
    fn python_docstrings_are_prose() {
        let text = "def f():\n    \"\"\"Example:\n    mlflow.register_model(m)\n    \"\"\"\n    x = 1  # mlflow.register_model\n    '''one line'''\n    return x\n";
        let lines = code_lines(text, Lang::Python);
        let joined: Vec<_> = lines.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(joined, ["def f():", "    x = 1", "    return x"]);
        assert_eq!(lines[1].0, 5);
    }

    #[test]
    fn slash_comments_and_blocks() {
        let text = "sh 'make test'\n// sh 'pytest'\n/* start\nsh 'kubectl apply'\n*/ sh 'ok'\nurl = \"http://x\"\n";
        assert_eq!(
            codes(text, Lang::Slash),
            ["sh 'make test'", " sh 'ok'", "url = \"http://x\""]
        );
    }

    #[test]
    fn languages() {
        assert_eq!(Lang::of("README.md"), Lang::Prose);
        assert_eq!(Lang::of("fix.patch"), Lang::Prose);
        assert_eq!(Lang::of("Jenkinsfile"), Lang::Slash);
        assert_eq!(Lang::of("docker/Dockerfile.gpu"), Lang::Hash);
        assert_eq!(Lang::of("main.tf"), Lang::HashSlash);
        assert_eq!(Lang::of("a/b.ipynb"), Lang::Notebook);
    }

    #[test]
    fn notebook_code_cells_only_with_json_lines() {
        let nb = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "source": ["mlflow.register_model(m)\n"]
  },
  {
   "cell_type": "code",
   "source": [
    "import mlflow\n",
    "# mlflow.log_metric('a', 1)\n",
    "mlflow.register_model(uri, 'm')\n"
   ]
  }
 ]
}"##;
        let lines = notebook_code_lines(nb);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], (10, "import mlflow".to_string()));
        assert_eq!(lines[1].0, 12);
        assert!(lines[1].1.contains("register_model"));
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "é".repeat(200);
        assert!(excerpt(&long).chars().count() <= 161);
    }
}
