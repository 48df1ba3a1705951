//! Makefile reading: targets with their prerequisites and recipe lines.
//! Variables are kept as text, except that simple `NAME = value` definitions are
//! substituted into recipes so that `$(PYTHON) train.py` reads as a command.

use std::collections::HashMap;

/// One rule of a Makefile (a target may have several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub targets: Vec<String>,
    pub prerequisites: Vec<String>,
    /// 1-based line of the rule header.
    pub line: u32,
    /// Recipe lines: (first physical line, logical text with continuations joined).
    pub recipe: Vec<(u32, String)>,
    /// First and last physical line of the recipe.
    pub recipe_range: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct Makefile {
    pub rules: Vec<Rule>,
    pub vars: HashMap<String, String>,
    /// Literal paths of `include` directives, relative to the Makefile's directory.
    pub includes: Vec<String>,
}

impl Makefile {
    /// The first target not starting with `.`: what `make` alone builds.
    pub fn default_target(&self) -> Option<&str> {
        if let Some(goal) = self.vars.get(".DEFAULT_GOAL").map(|g| g.trim()) {
            if !goal.is_empty() && !goal.contains('$') {
                return Some(goal);
            }
        }
        self.rules
            .iter()
            .flat_map(|r| r.targets.iter())
            .find(|t| !t.starts_with('.') && !t.contains('%'))
            .map(String::as_str)
    }

    pub fn rules_for<'a>(&'a self, target: &'a str) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.targets.iter().any(|t| t == target))
    }

    /// Replace `$(NAME)` / `${NAME}` by simple variable values (a few passes),
    /// `$(MAKE)` by `make` and `$$` by `$`. Unknown variables stay as written.
    pub fn expand(&self, text: &str) -> String {
        let mut out = text.to_string();
        for _ in 0..4 {
            let mut changed = false;
            let mut next = String::with_capacity(out.len());
            let mut rest = out.as_str();
            while let Some(pos) = rest.find('$') {
                next.push_str(&rest[..pos]);
                let after = &rest[pos + 1..];
                let (open, close) = match after.chars().next() {
                    Some('(') => ('(', ')'),
                    Some('{') => ('{', '}'),
                    Some('$') => {
                        // `$$` is a literal `$` for the shell; keep it escaped
                        // until the last pass.
                        next.push_str("$$");
                        rest = &after[1..];
                        continue;
                    }
                    _ => {
                        next.push('$');
                        rest = after;
                        continue;
                    }
                };
                let _ = open;
                match after[1..].find(close) {
                    Some(end) => {
                        let name = &after[1..1 + end];
                        let replacement = if name == "MAKE" {
                            Some("make".to_string())
                        } else if is_var_name(name) {
                            self.vars.get(name).cloned()
                        } else {
                            None
                        };
                        match replacement {
                            Some(value) => {
                                next.push_str(&value);
                                changed = true;
                            }
                            None => next.push_str(&rest[pos..pos + 2 + end + 1]),
                        }
                        rest = &after[1 + end + 1..];
                    }
                    None => {
                        next.push_str(&rest[pos..]);
                        rest = "";
                    }
                }
            }
            next.push_str(rest);
            out = next;
            if !changed || out.len() > 16 * 1024 {
                break;
            }
        }
        out.replace("$$", "$")
    }
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Read a Makefile. Never fails: unknown lines are skipped.
pub fn parse(text: &str) -> Makefile {
    let mut mk = Makefile::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0usize;
    let mut current: Option<usize> = None; // index of the rule receiving recipe lines
    let mut in_define = false;
    while i < lines.len() {
        let start = i;
        let first = lines.get(i).copied().unwrap_or_default();
        // Join continuation lines.
        let mut logical = first.to_string();
        while logical.ends_with('\\') && i + 1 < lines.len() {
            logical.pop();
            i += 1;
            logical.push(' ');
            logical.push_str(lines.get(i).copied().unwrap_or_default().trim_start());
        }
        let end = i;
        i += 1;
        let line_no = (start + 1) as u32;

        if in_define {
            if first.trim_start().starts_with("endef") {
                in_define = false;
            }
            continue;
        }
        if let Some(recipe) = logical.strip_prefix('\t') {
            if let Some(ix) = current {
                if let Some(rule) = mk.rules.get_mut(ix) {
                    let trimmed = recipe.trim();
                    if !trimmed.is_empty() && !trimmed.starts_with('#') {
                        rule.recipe.push((line_no, trimmed.to_string()));
                        let last = (end + 1) as u32;
                        rule.recipe_range = Some(match rule.recipe_range {
                            Some((a, _)) => (a, last),
                            None => (line_no, last),
                        });
                    }
                }
            }
            continue;
        }
        let trimmed = logical.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let word = trimmed.split_whitespace().next().unwrap_or_default();
        match word {
            "define" => {
                in_define = true;
                current = None;
                continue;
            }
            "ifeq" | "ifneq" | "ifdef" | "ifndef" | "else" | "endif" | "unexport" | "vpath" => {
                continue;
            }
            "export" | "override" => {
                if let Some((name, value)) = assignment(trimmed[word.len()..].trim()) {
                    mk.vars.insert(name, value);
                }
                current = None;
                continue;
            }
            "include" | "-include" | "sinclude" => {
                mk.includes.extend(
                    trimmed[word.len()..]
                        .split_whitespace()
                        .filter(|p| !p.contains('$') && !p.contains('*'))
                        .map(str::to_string),
                );
                current = None;
                continue;
            }
            _ => {}
        }
        if let Some((name, value)) = assignment(trimmed) {
            mk.vars.entry(name).or_insert(value);
            current = None;
            continue;
        }
        if let Some((targets, rest)) = split_rule(trimmed) {
            let (prereqs, inline) = match rest.split_once(';') {
                Some((p, r)) => (p, Some(r.trim())),
                None => (rest, None),
            };
            let prerequisites = prereqs
                .split_whitespace()
                .filter(|p| *p != "|")
                .map(str::to_string)
                .collect();
            let mut rule = Rule {
                targets: targets.split_whitespace().map(str::to_string).collect(),
                prerequisites,
                line: line_no,
                recipe: Vec::new(),
                recipe_range: None,
            };
            if let Some(cmd) = inline.filter(|c| !c.is_empty()) {
                rule.recipe.push((line_no, cmd.to_string()));
                rule.recipe_range = Some((line_no, line_no));
            }
            mk.rules.push(rule);
            current = Some(mk.rules.len() - 1);
        }
    }
    mk
}

/// `NAME = value`, `NAME := value`, `NAME ?= value`, `NAME += value`.
fn assignment(line: &str) -> Option<(String, String)> {
    let eq = line.find('=')?;
    let before = &line[..eq];
    let name = before.trim_end_matches([':', '?', '+', '!']).trim();
    // `a: b=c` is a target-specific variable, not a global one: skip it.
    if name.contains(':') || name.contains(char::is_whitespace) || !is_var_name(name) {
        return None;
    }
    Some((name.to_string(), line[eq + 1..].trim().to_string()))
}

/// `targets: prerequisites` or `targets:: prerequisites`.
fn split_rule(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let targets = &line[..colon];
    if targets.trim().is_empty() || targets.contains('=') {
        return None;
    }
    let rest = line[colon + 1..].trim_start_matches(':');
    if rest.starts_with('=') {
        return None;
    }
    Some((targets, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MK: &str = "PYTHON ?= python3\n.PHONY: test lint\n\nall: lint test\n\nlint:\n\t@ruff check .\n\ntest: lint\n\t$(PYTHON) -m pytest \\\n\t  tests/\n\t# comment\n\t-$(MAKE) report\n\nreport: ; echo done\n";

    #[test]
    fn targets_recipes_and_ranges() {
        let mk = parse(MK);
        assert_eq!(mk.default_target(), Some("all"));
        let test: Vec<&Rule> = mk.rules_for("test").collect();
        assert_eq!(test.len(), 1);
        assert_eq!(test[0].line, 9);
        assert_eq!(test[0].prerequisites, vec!["lint"]);
        assert_eq!(test[0].recipe_range, Some((10, 13)));
        assert_eq!(
            test[0].recipe,
            vec![
                (10, "$(PYTHON) -m pytest  tests/".to_string()),
                (13, "-$(MAKE) report".to_string())
            ]
        );
        let report: Vec<&Rule> = mk.rules_for("report").collect();
        assert_eq!(report[0].recipe_range, Some((15, 15)));
        assert_eq!(
            mk.expand("$(PYTHON) -m x $$HOME ${MAKE}"),
            "python3 -m x $HOME make"
        );
        assert_eq!(mk.expand("$(UNKNOWN) a"), "$(UNKNOWN) a");
    }

    #[test]
    fn assignments_are_not_rules() {
        let mk = parse("A := b\nC::=d\nx: y\n");
        assert_eq!(mk.vars.get("A").map(String::as_str), Some("b"));
        assert_eq!(mk.rules.len(), 1);
        assert_eq!(mk.default_target(), Some("x"));
        let mk = parse(".DEFAULT_GOAL := help\nbuild:\n\tcc\nhelp:\n\techo\n");
        assert_eq!(mk.default_target(), Some("help"));
    }
}
