//! A small shell-text splitter: enough of POSIX shell syntax to find the simple
//! commands of a CI script and the line each starts on. It never evaluates
//! anything; expansions (`$VAR`, `$(…)`, backticks) stay as text inside words.

/// One simple command of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Words with quotes removed; expansions kept as written.
    pub words: Vec<String>,
    /// 1-based line of the command's first word, relative to the text.
    pub line: u32,
}

/// Longest script text we split; longer texts are cut (work bound).
const MAX_TEXT: usize = 512 * 1024;

/// Split a script into simple commands. Command separators: newlines (outside
/// quotes, after line continuations), `;`, `&`, `&&`, `|`, `||`, and the
/// parentheses/braces of subshells and groups. Comments (`#` at a word start)
/// are dropped, so commented-out lines never count.
pub fn commands(text: &str) -> Vec<Command> {
    let text = match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    // A word in progress, even an empty quoted one (`""`).
    let mut in_word = false;
    let mut line: u32 = 1;
    let mut command_line: u32 = 1;
    let mut chars = text.chars().peekable();
    // Here-documents announced on the current line: (delimiter, strip leading tabs).
    let mut heredocs: Vec<(String, bool)> = Vec::new();

    fn end_word(words: &mut Vec<String>, word: &mut String, in_word: &mut bool) {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    }
    fn end_command(out: &mut Vec<Command>, words: &mut Vec<String>, line: u32) {
        if !words.is_empty() {
            out.push(Command {
                words: std::mem::take(words),
                line,
            });
        }
    }

    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => line += 1,
                Some(other) => {
                    if !in_word && words.is_empty() {
                        command_line = line;
                    }
                    word.push(other);
                    in_word = true;
                }
                None => {}
            },
            '\'' | '"' => {
                if !in_word && words.is_empty() {
                    command_line = line;
                }
                in_word = true;
                while let Some(q) = chars.next() {
                    if q == c {
                        break;
                    }
                    if q == '\n' {
                        line += 1;
                    }
                    if q == '\\' && c == '"' {
                        if let Some(&n) = chars.peek() {
                            if matches!(n, '"' | '\\' | '$' | '`') {
                                chars.next();
                                word.push(n);
                                continue;
                            }
                        }
                    }
                    word.push(q);
                }
            }
            '$' if chars.peek() == Some(&'(') || chars.peek() == Some(&'{') => {
                // Keep `$(…)` / `${…}` as one piece of text inside the word.
                if !in_word && words.is_empty() {
                    command_line = line;
                }
                in_word = true;
                word.push('$');
                let open = chars.next().unwrap_or('(');
                let close = if open == '(' { ')' } else { '}' };
                word.push(open);
                let mut depth = 1usize;
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                    }
                    word.push(n);
                    if n == open {
                        depth += 1;
                    } else if n == close {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                }
            }
            '`' => {
                if !in_word && words.is_empty() {
                    command_line = line;
                }
                in_word = true;
                word.push('`');
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                    }
                    word.push(n);
                    if n == '`' {
                        break;
                    }
                }
            }
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        end_command(&mut out, &mut words, command_line);
                        line += 1;
                        break;
                    }
                }
            }
            '\n' => {
                end_word(&mut words, &mut word, &mut in_word);
                end_command(&mut out, &mut words, command_line);
                line += 1;
                // A here-document's body is data (or another language), not commands.
                for (delimiter, strip_tabs) in std::mem::take(&mut heredocs) {
                    let mut body_line = String::new();
                    for n in chars.by_ref() {
                        if n != '\n' {
                            body_line.push(n);
                            continue;
                        }
                        line += 1;
                        let candidate = if strip_tabs {
                            body_line.trim_start_matches('\t')
                        } else {
                            body_line.as_str()
                        };
                        if candidate.trim_end() == delimiter {
                            break;
                        }
                        body_line.clear();
                    }
                }
            }
            '<' if chars.peek() == Some(&'<') => {
                chars.next();
                if chars.peek() == Some(&'<') {
                    // `<<<` here-string: the word that follows is plain data.
                    chars.next();
                    end_word(&mut words, &mut word, &mut in_word);
                    continue;
                }
                let strip_tabs = chars.peek() == Some(&'-');
                if strip_tabs {
                    chars.next();
                }
                while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                    chars.next();
                }
                let mut delimiter = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, ';' | '&' | '|' | ')' | '<' | '>') {
                        break;
                    }
                    chars.next();
                    if n != '\'' && n != '"' && n != '\\' {
                        delimiter.push(n);
                    }
                }
                end_word(&mut words, &mut word, &mut in_word);
                if !delimiter.is_empty() {
                    heredocs.push((delimiter, strip_tabs));
                }
            }
            ';' | '&' | '|' | '(' | ')' => {
                end_word(&mut words, &mut word, &mut in_word);
                end_command(&mut out, &mut words, command_line);
            }
            '{' | '}' if !in_word && chars.peek().is_none_or(|n| n.is_whitespace()) => {
                end_word(&mut words, &mut word, &mut in_word);
                end_command(&mut out, &mut words, command_line);
            }
            c if c.is_whitespace() => end_word(&mut words, &mut word, &mut in_word),
            c => {
                if !in_word && words.is_empty() {
                    command_line = line;
                }
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word);
    end_command(&mut out, &mut words, command_line);
    out
}

/// Shell keywords and wrappers that come before the command proper.
const PREFIX_WORDS: &[&str] = &[
    "then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec", "nohup", "command",
    "builtin", "sudo", "xvfb-run", "eval",
];

/// Runners that run their arguments as a command in a managed environment.
const RUN_WRAPPERS: &[&str] = &[
    "uv",
    "poetry",
    "pipenv",
    "hatch",
    "pdm",
    "rye",
    "pixi",
    "conda",
    "mamba",
    "micromamba",
];

/// Strip what comes before the real program: keywords, environment
/// assignments, `env`, `timeout N`, `uv run`, `poetry run`, `conda run -n env`, …
/// Returns the remaining words (possibly empty).
pub fn strip_prefixes(words: &[String]) -> &[String] {
    let mut rest = words;
    // Each pass removes one prefix; bounded by the word count.
    for _ in 0..words.len() {
        let Some(first) = rest.first() else {
            return rest;
        };
        let first = first.as_str();
        if PREFIX_WORDS.contains(&first) || is_assignment(first) {
            rest = &rest[1..];
        } else if first == "env" {
            rest = &rest[1..];
            while rest
                .first()
                .is_some_and(|w| w.starts_with('-') || is_assignment(w))
            {
                rest = &rest[1..];
            }
        } else if first == "timeout" {
            rest = &rest[1..];
            while rest.first().is_some_and(|w| w.starts_with('-')) {
                rest = &rest[1..];
            }
            if !rest.is_empty() {
                rest = &rest[1..]; // the duration
            }
        } else if first == "mise"
            && rest.get(1).is_some_and(|w| w == "exec" || w == "x")
            && rest.iter().any(|w| w == "--")
        {
            // `mise exec python@3.11 -- pytest`: tools come before `--`, the command after.
            // Without `--` mise only opens a shell with the tools: nothing runs.
            let at = rest.iter().position(|w| w == "--").unwrap_or(0);
            rest = rest.get(at + 1..).unwrap_or_default();
        } else if RUN_WRAPPERS.contains(&first)
            && rest.get(1).is_some_and(|w| w == "run" || w == "exec")
        {
            rest = &rest[2..];
            // Options of the runner: `-n env`, `--name env`, `-p prefix`, `--with x`, `--no-sync`.
            while let Some(w) = rest.first() {
                if !w.starts_with('-') {
                    break;
                }
                let takes_value = matches!(
                    w.as_str(),
                    "-n" | "--name"
                        | "-p"
                        | "--prefix"
                        | "--with"
                        | "--extra"
                        | "--group"
                        | "--python"
                        | "-e"
                        | "--environment"
                        | "--directory"
                        | "--project"
                        | "--package"
                        | "--env"
                );
                rest = &rest[1..];
                if takes_value && !rest.is_empty() {
                    rest = &rest[1..];
                }
            }
            if rest.first().is_some_and(|w| w == "--") {
                rest = &rest[1..];
            }
        } else {
            return rest;
        }
    }
    rest
}

/// Does the command go through a project runner (`hatch run x`, `pdm run x`,
/// `uv run x`, `poetry run x`)?
pub fn run_wrapped(words: &[String]) -> bool {
    words.windows(2).any(|pair| match pair {
        [runner, verb] => RUN_WRAPPERS.contains(&runner.as_str()) && verb == "run",
        _ => false,
    })
}

/// `NAME=value` (an environment assignment before a command).
pub fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(u32, Vec<String>)> {
        commands(text)
            .into_iter()
            .map(|c| (c.line, c.words))
            .collect()
    }

    fn w(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn separators_lines_and_continuations() {
        let text = "cd src && make test; echo ok\n# python skip.py\npython \\\n  train.py --x 'a b' | tee log\n";
        assert_eq!(
            words(text),
            vec![
                (1, w(&["cd", "src"])),
                (1, w(&["make", "test"])),
                (1, w(&["echo", "ok"])),
                (3, w(&["python", "train.py", "--x", "a b"])),
                (4, w(&["tee", "log"])),
            ]
        );
    }

    #[test]
    fn substitutions_stay_in_one_word() {
        let text = "VERSION=$(git describe --tags) ./build.sh \"${OUT}/x\"";
        assert_eq!(
            words(text),
            vec![(
                1,
                w(&["VERSION=$(git describe --tags)", "./build.sh", "${OUT}/x"])
            )]
        );
    }

    #[test]
    fn prefixes_are_stripped() {
        let cmd = w(&["FOO=1", "uv", "run", "--no-sync", "python", "-m", "pkg.mod"]);
        assert_eq!(strip_prefixes(&cmd), &w(&["python", "-m", "pkg.mod"])[..]);
        let cmd = w(&["conda", "run", "-n", "env", "pytest"]);
        assert_eq!(strip_prefixes(&cmd), &w(&["pytest"])[..]);
        let cmd = w(&["timeout", "60", "bash", "x.sh"]);
        assert_eq!(strip_prefixes(&cmd), &w(&["bash", "x.sh"])[..]);
        let cmd = w(&["if", "!", "pytest"]);
        assert_eq!(strip_prefixes(&cmd), &w(&["pytest"])[..]);
        let cmd = w(&["mise", "exec", "python@3.11", "--", "python", "train.py"]);
        assert_eq!(strip_prefixes(&cmd), &w(&["python", "train.py"])[..]);
        let cmd = w(&["mise", "x", "--", "pytest"]);
        assert_eq!(strip_prefixes(&cmd), &w(&["pytest"])[..]);
        // `mise x node` without `--` runs no command of its own; `mise run` is a task.
        let cmd = w(&["mise", "x", "node"]);
        assert_eq!(strip_prefixes(&cmd), &cmd[..]);
        let cmd = w(&["mise", "run", "test"]);
        assert_eq!(strip_prefixes(&cmd), &cmd[..]);
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let text = "cat > cfg.sh <<'EOF'\npython not_run.py\nEOF\npython run.py\ncat <<-END\n\tmake x\n\tEND\ngrep a <<< \"$X\"\n";
        assert_eq!(
            words(text),
            vec![
                (1, w(&["cat", ">", "cfg.sh"])),
                (4, w(&["python", "run.py"])),
                (5, w(&["cat"])),
                (8, w(&["grep", "a", "$X"])),
            ]
        );
    }

    #[test]
    fn unterminated_quotes_do_not_panic() {
        let _ = commands("echo 'abc");
        let _ = commands("echo $(abc");
        let _ = commands("\\");
    }
}
