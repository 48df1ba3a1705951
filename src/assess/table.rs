//! The interpretation table: which practices justify which level of each sub-item.
//!
//! The table is data (`interpretation/levels.toml`, embedded at build time) so that an
//! assessor can read and dispute every line without reading Rust. Each requirement
//! is a small expression over practice ids:
//!
//! ```text
//! expr  := call | atom
//! call  := ("all" | "any") "(" expr ("," expr)* ")"
//! atom  := practice-id [ "[" qualifier ("," qualifier)* "]" ]
//! ```
//!
//! `model.evaluation[threshold]` holds when some evidence of `model.evaluation` carries
//! the `threshold` qualifier (see [`crate::detect::qualifier`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::detect::qualifier;
use crate::standard;

use super::practices;

/// The embedded table text.
pub const BUILTIN_TABLE: &str = include_str!("../../interpretation/levels.toml");

/// Text in both languages of the reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

/// A requirement expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A practice, optionally restricted to evidence carrying all these qualifiers.
    Practice {
        id: String,
        qualifiers: Vec<String>,
    },
    All(Vec<Expr>),
    Any(Vec<Expr>),
}

impl Expr {
    /// Every practice id the expression names.
    pub fn practices(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_practices(&mut out);
        out
    }
    fn collect_practices<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Practice { id, .. } => {
                if !out.contains(&id.as_str()) {
                    out.push(id);
                }
            }
            Expr::All(xs) | Expr::Any(xs) => xs.iter().for_each(|x| x.collect_practices(out)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Practice { id, qualifiers } if qualifiers.is_empty() => write!(f, "{id}"),
            Expr::Practice { id, qualifiers } => write!(f, "{id}[{}]", qualifiers.join(",")),
            Expr::All(xs) | Expr::Any(xs) => {
                let name = if matches!(self, Expr::All(_)) {
                    "all"
                } else {
                    "any"
                };
                write!(f, "{name}(")?;
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// Parse a requirement expression.
pub fn parse_expr(text: &str) -> Result<Expr, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
    };
    let e = p.expr(0)?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!(
            "unexpected text at column {}: `{}`",
            p.pos + 1,
            &text[p.pos..]
        ));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

/// Deeper nesting is refused: no real requirement needs it.
const MAX_DEPTH: usize = 8;

impl Parser<'_> {
    fn ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'_'
        }) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("expected a practice id at column {}", start + 1));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }
    fn expr(&mut self, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let name = self.ident()?;
        if name == "all" || name == "any" {
            if !self.eat(b'(') {
                return Err(format!("`{name}` needs a parenthesised list"));
            }
            let mut args = vec![self.expr(depth + 1)?];
            while self.eat(b',') {
                args.push(self.expr(depth + 1)?);
            }
            if !self.eat(b')') {
                return Err(format!("missing `)` after `{name}(` arguments"));
            }
            return Ok(if name == "all" {
                Expr::All(args)
            } else {
                Expr::Any(args)
            });
        }
        let mut qualifiers = Vec::new();
        if self.eat(b'[') {
            qualifiers.push(self.ident()?);
            while self.eat(b',') {
                qualifiers.push(self.ident()?);
            }
            if !self.eat(b']') {
                return Err(format!("missing `]` after qualifiers of `{name}`"));
            }
        }
        Ok(Expr::Practice {
            id: name,
            qualifiers,
        })
    }
}

/// One requirement of a level: an expression and what it means in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub expr: Expr,
    /// The criterion in plain words; reports use it as "what is missing".
    pub text: Text,
}

/// The requirements of levels 2–5 of one sub-item (level 1 needs nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubItemCriteria {
    pub id: String,
    /// `levels[0]` = level 2 … `levels[3]` = level 5; all requirements of a level must hold.
    pub levels: [Vec<Requirement>; 4],
}

impl SubItemCriteria {
    /// Requirements of a level 2–5 (empty for anything else).
    pub fn level(&self, level: u8) -> &[Requirement] {
        match level {
            2..=5 => self
                .levels
                .get(usize::from(level - 2))
                .map_or(&[], |v| v.as_slice()),
            _ => &[],
        }
    }
    /// Every practice any level names.
    pub fn practices(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in self.levels.iter().flatten() {
            for p in r.expr.practices() {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// The whole interpretation table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub version: String,
    /// In the standard's order, one per sub-item.
    pub sub_items: Vec<SubItemCriteria>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    version: String,
    sub_item: BTreeMap<String, RawSubItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubItem {
    #[serde(rename = "2")]
    l2: Vec<RawRequirement>,
    #[serde(rename = "3")]
    l3: Vec<RawRequirement>,
    #[serde(rename = "4")]
    l4: Vec<RawRequirement>,
    #[serde(rename = "5")]
    l5: Vec<RawRequirement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    when: String,
    en: String,
    zh: String,
}

#[derive(Debug, thiserror::Error)]
#[error("interpretation table: {0}")]
pub struct TableError(String);

impl Table {
    /// The table shipped in the binary.
    pub fn builtin() -> Result<Table, TableError> {
        Table::parse(BUILTIN_TABLE)
    }

    /// Parse and check a table: every sub-item present once, every level non-empty,
    /// every practice id known, every qualifier in the closed vocabulary.
    pub fn parse(text: &str) -> Result<Table, TableError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| TableError(e.to_string()))?;
        let mut sub_items = Vec::new();
        for s in &standard::SUB_ITEMS {
            let Some(r) = raw.sub_item.get(s.id) else {
                return Err(TableError(format!("sub-item {} has no entry", s.id)));
            };
            let mut levels: [Vec<Requirement>; 4] = Default::default();
            for (slot, (level, reqs)) in
                levels
                    .iter_mut()
                    .zip([(2, &r.l2), (3, &r.l3), (4, &r.l4), (5, &r.l5)])
            {
                if reqs.is_empty() {
                    return Err(TableError(format!(
                        "{} level {level} has no requirement",
                        s.id
                    )));
                }
                for req in reqs {
                    let expr = parse_expr(&req.when).map_err(|e| {
                        TableError(format!("{} level {level}: `{}`: {e}", s.id, req.when))
                    })?;
                    check_expr(&expr)
                        .map_err(|e| TableError(format!("{} level {level}: {e}", s.id)))?;
                    slot.push(Requirement {
                        expr,
                        text: Text {
                            en: req.en.trim().to_string(),
                            zh: req.zh.trim().to_string(),
                        },
                    });
                }
            }
            sub_items.push(SubItemCriteria {
                id: s.id.to_string(),
                levels,
            });
        }
        if let Some(extra) = raw
            .sub_item
            .keys()
            .find(|k| standard::sub_item(k).is_none())
        {
            return Err(TableError(format!("unknown sub-item `{extra}`")));
        }
        Ok(Table {
            version: raw.version,
            sub_items,
        })
    }

    pub fn sub_item(&self, id: &str) -> Option<&SubItemCriteria> {
        self.sub_items.iter().find(|s| s.id == id)
    }
}

/// Markers around the generated part of `docs/interpretation.md`.
pub const DOC_BEGIN: &str =
    "<!-- BEGIN GENERATED TABLE (cargo test updates it with UPDATE_DOCS=1) -->";
pub const DOC_END: &str = "<!-- END GENERATED TABLE -->";

impl Table {
    /// The table as Markdown, one section per sub-item: what `docs/interpretation.md` shows.
    pub fn to_markdown(&self) -> String {
        let mut o = format!("Table version **{}**.\n", self.version);
        let mut last_domain = "";
        for c in &self.sub_items {
            let Some(s) = standard::sub_item(&c.id) else {
                continue;
            };
            if s.sub_domain_id() != last_domain {
                last_domain = s.sub_domain_id();
                if let Some(d) = standard::sub_domain(last_domain) {
                    o.push_str(&format!("\n### {} {}\n", d.id, d.name.both()));
                }
            }
            let ml = if s.ml_specific {
                " — ML-specific"
            } else {
                ""
            };
            o.push_str(&format!("\n#### {} {}{ml}\n\n", s.id, s.name.both()));
            o.push_str("| level | requirement | criterion | 判定条件 |\n|---|---|---|---|\n");
            for level in 2..=standard::MAX_LEVEL {
                for r in c.level(level) {
                    o.push_str(&format!(
                        "| {level} | `{}` | {} | {} |\n",
                        r.expr,
                        r.text.en.replace('|', "\\|"),
                        r.text.zh.replace('|', "\\|")
                    ));
                }
            }
        }
        o
    }
}

fn check_expr(expr: &Expr) -> Result<(), String> {
    match expr {
        Expr::Practice { id, qualifiers } => {
            if practices::practice(id).is_none() {
                return Err(format!("unknown practice `{id}`"));
            }
            if let Some(q) = qualifiers
                .iter()
                .find(|q| !qualifier::ALL.contains(&q.as_str()))
            {
                return Err(format!("unknown qualifier `{q}` on `{id}`"));
            }
            Ok(())
        }
        Expr::All(xs) | Expr::Any(xs) => xs.iter().try_for_each(check_expr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expressions() {
        let e = parse_expr("all(ci.tests[in_pipeline, on_change], any(a.b, c.d))").unwrap();
        assert_eq!(
            e.to_string(),
            "all(ci.tests[in_pipeline,on_change], any(a.b, c.d))"
        );
        assert_eq!(e.practices(), ["ci.tests", "a.b", "c.d"]);
        assert!(parse_expr("all(").is_err());
        assert!(parse_expr("ci.tests[").is_err());
        assert!(parse_expr("ci.tests extra").is_err());
        assert!(parse_expr("").is_err());
        let deep = format!("{}x.y{}", "all(".repeat(20), ")".repeat(20));
        assert!(parse_expr(&deep).is_err());
    }

    #[test]
    fn builtin_table_is_complete_and_valid() {
        let t = Table::builtin().unwrap();
        assert_eq!(t.version, "2026.11.2");
        assert_eq!(t.sub_items.len(), 32);
        for s in &t.sub_items {
            for level in 2..=5 {
                assert!(!s.level(level).is_empty(), "{} L{level}", s.id);
                for r in s.level(level) {
                    assert!(
                        !r.text.en.is_empty() && !r.text.zh.is_empty(),
                        "{} L{level}",
                        s.id
                    );
                }
            }
        }
    }

    /// The rule of level-signals.md: above level 3 a file scan alone rarely suffices.
    /// Every level-4 and level-5 line names an api/history fact or a candidate
    /// closed-loop practice, or at least a qualifier that the pipeline must show.
    #[test]
    fn high_levels_ask_for_more_than_a_file() {
        let t = Table::builtin().unwrap();
        for s in &t.sub_items {
            for level in 4..=5 {
                let strong = s.level(level).iter().any(|r| {
                    let text = r.expr.to_string();
                    text.contains("history.")
                        || text.contains("api.")
                        || text.contains('[')
                        || r.expr.practices().len() >= 2
                });
                assert!(strong, "{} L{level} rests on one plain file practice", s.id);
            }
        }
    }

    /// docs/interpretation.md shows the table as it is; `UPDATE_DOCS=1 cargo test` rewrites it.
    #[test]
    fn docs_show_the_current_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/interpretation.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let table = Table::builtin().unwrap();
        let (Some(b), Some(e)) = (doc.find(DOC_BEGIN), doc.find(DOC_END)) else {
            panic!("docs/interpretation.md lacks the generated-table markers");
        };
        let generated = format!("{DOC_BEGIN}\n{}{DOC_END}", table.to_markdown());
        let current = &doc[b..e + DOC_END.len()];
        if current != generated {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                let updated = format!("{}{generated}{}", &doc[..b], &doc[e + DOC_END.len()..]);
                std::fs::write(&path, updated).unwrap();
            } else {
                panic!(
                    "docs/interpretation.md is out of date: run `UPDATE_DOCS=1 cargo test --lib docs_show`"
                );
            }
        }
        for s in &standard::SUB_ITEMS {
            assert!(
                doc.contains(s.id),
                "docs/interpretation.md does not mention {}",
                s.id
            );
        }
        assert!(doc.contains(&table.version));
    }

    #[test]
    fn rejects_bad_tables() {
        let e = Table::parse("version = \"x\"\n[sub_item]\n").unwrap_err();
        assert!(e.to_string().contains("1.1.1"), "{e}");
        let bad = BUILTIN_TABLE.replacen("ci.pipeline", "ci.pipelin", 1);
        assert!(
            Table::parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("ci.pipelin")
        );
        let badq = BUILTIN_TABLE.replacen("[in_pipeline", "[in_pipe", 1);
        assert!(
            Table::parse(&badq)
                .unwrap_err()
                .to_string()
                .contains("in_pipe")
        );
    }
}
