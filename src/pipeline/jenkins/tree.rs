//! Groovy tokens into a tree of statements: the shape every Jenkinsfile shares.
//!
//! A statement is a run of tokens up to the end of its line (or `;`), optionally
//! followed by a closure block `{ … }` of further statements. That one shape covers
//! the declarative DSL (`stage('Build') { steps { sh 'make' } }`) and the command
//! calls of scripted pipelines, without understanding Groovy expressions.

use super::lexer::{Tok, TokKind};

/// Blocks nested deeper than this are skipped (their statements are not read).
/// Real Jenkinsfiles stay far below it; the bound keeps recursion and work finite.
pub const MAX_DEPTH: usize = 64;

/// One statement: its head tokens and its trailing block, if any.
#[derive(Debug, Clone, Default)]
pub struct Stmt {
    pub head: Vec<Tok>,
    pub block: Option<Vec<Stmt>>,
    /// Closures passed inside the head's brackets (`parallel(a: { … }, b: { … })`),
    /// in order. In the head each stays as an empty `{` `}` pair.
    pub closures: Vec<Vec<Stmt>>,
    /// Line of the first token.
    pub line: u32,
    /// Byte span in the source, block included.
    pub start: usize,
    pub end: usize,
}

/// A string argument, or the source text of any other argument expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Expr(String),
}

impl Value {
    pub fn text(&self) -> &str {
        match self {
            Value::Str(s) | Value::Expr(s) => s,
        }
    }
}

/// The arguments of a call: positional values and `name: value` pairs, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    pub positional: Vec<Value>,
    pub named: Vec<(String, Value)>,
}

impl Args {
    pub fn named(&self, key: &str) -> Option<&Value> {
        self.named.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn first(&self) -> Option<&Value> {
        self.positional.first()
    }
}

impl Stmt {
    /// The leading identifier: the step or section name.
    pub fn name(&self) -> Option<&str> {
        match self.head.first().map(|t| &t.kind) {
            Some(TokKind::Ident(s)) => Some(s),
            _ => None,
        }
    }

    pub fn block(&self) -> &[Stmt] {
        self.block.as_deref().unwrap_or(&[])
    }

    /// The first statement of the block with this name.
    pub fn child(&self, name: &str) -> Option<&Stmt> {
        self.block().iter().find(|s| s.name() == Some(name))
    }

    /// Arguments after the name: `name(a, k: v)` or `name a, k: v`.
    pub fn args(&self, src: &str) -> Args {
        let rest = self.head.get(1..).unwrap_or(&[]);
        parse_args(rest, src)
    }

    /// The statement's source text (block included), whitespace collapsed, bounded.
    pub fn text(&self, src: &str) -> String {
        collapse(src.get(self.start..self.end).unwrap_or(""))
    }
}

/// Whitespace runs to one space, at most 300 characters: enough to show a condition.
pub fn collapse(s: &str) -> String {
    let mut out = String::new();
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > 300 {
            let cut = (0..=300)
                .rev()
                .find(|&i| out.is_char_boundary(i))
                .unwrap_or(0);
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

/// Parse call arguments from the tokens after a name. A single parenthesised group
/// spanning them all is unwrapped; then top-level commas split the arguments.
pub fn parse_args(toks: &[Tok], src: &str) -> Args {
    let inner = match toks.first().map(|t| &t.kind) {
        Some(TokKind::LParen) if matching_close(toks, 0) == Some(toks.len() - 1) => {
            toks.get(1..toks.len() - 1).unwrap_or(&[])
        }
        // `name(args).more()` or `name(args) + x`: only the first group is the call's.
        Some(TokKind::LParen) => match matching_close(toks, 0) {
            Some(close) => toks.get(1..close).unwrap_or(&[]),
            None => &[],
        },
        _ => toks,
    };
    let mut args = Args::default();
    for piece in split_top_level(inner) {
        let piece: Vec<&Tok> = piece
            .iter()
            .filter(|t| t.kind != TokKind::Newline)
            .collect();
        if piece.is_empty() {
            continue;
        }
        let key = match (
            piece.first().map(|t| &t.kind),
            piece.get(1).map(|t| &t.kind),
        ) {
            (Some(TokKind::Ident(k)), Some(TokKind::Colon))
            | (Some(TokKind::Str(k)), Some(TokKind::Colon)) => Some(k.clone()),
            _ => None,
        };
        let value_toks = if key.is_some() {
            piece.get(2..).unwrap_or(&[])
        } else {
            &piece[..]
        };
        let value = match value_toks {
            [t] => match &t.kind {
                TokKind::Str(s) => Value::Str(s.clone()),
                _ => Value::Expr(span_text(value_toks, src)),
            },
            _ => Value::Expr(span_text(value_toks, src)),
        };
        match key {
            Some(k) => args.named.push((k, value)),
            None => args.positional.push(value),
        }
    }
    args
}

fn span_text(toks: &[&Tok], src: &str) -> String {
    match (toks.first(), toks.last()) {
        (Some(a), Some(b)) => collapse(src.get(a.start..b.end).unwrap_or("")),
        _ => String::new(),
    }
}

/// Index of the bracket closing the one opened at `open`.
pub fn matching_close(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            TokKind::LParen | TokKind::LBracket | TokKind::LBrace => depth += 1,
            TokKind::RParen | TokKind::RBracket | TokKind::RBrace => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            TokKind::LParen | TokKind::LBracket | TokKind::LBrace => depth += 1,
            TokKind::RParen | TokKind::RBracket | TokKind::RBrace => {
                depth = depth.saturating_sub(1)
            }
            TokKind::Comma if depth == 0 => {
                out.push(&toks[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[from..]);
    out
}

/// Build the statement tree of balanced tokens (see [`super::lexer::check_balance`]).
/// Returns the statements and whether some block was too deep to read.
pub fn build(toks: &[Tok]) -> (Vec<Stmt>, bool) {
    let mut p = TreeParser {
        toks,
        pos: 0,
        too_deep: false,
    };
    let stmts = p.block(0);
    (stmts, p.too_deep)
}

struct TreeParser<'a> {
    toks: &'a [Tok],
    pos: usize,
    too_deep: bool,
}

impl TreeParser<'_> {
    fn kind(&self, at: usize) -> Option<&TokKind> {
        self.toks.get(at).map(|t| &t.kind)
    }

    /// Statements up to the `}` closing this block (consumed) or the end of input.
    fn block(&mut self, depth: usize) -> Vec<Stmt> {
        let mut out = Vec::new();
        loop {
            match self.kind(self.pos) {
                None => return out,
                Some(TokKind::Newline | TokKind::Semi) => self.pos += 1,
                Some(TokKind::RBrace) => {
                    self.pos += 1;
                    if depth > 0 {
                        return out;
                    }
                    // A stray `}` at the top: ignore it (balance was checked before).
                }
                Some(_) => {
                    let before = self.pos;
                    let stmt = self.statement(depth);
                    out.push(stmt);
                    if self.pos == before {
                        // Cannot happen with the arms above, but never loop forever.
                        self.pos += 1;
                    }
                }
            }
        }
    }

    fn statement(&mut self, depth: usize) -> Stmt {
        let first = self.toks.get(self.pos);
        let mut stmt = Stmt {
            line: first.map_or(0, |t| t.line),
            start: first.map_or(0, |t| t.start),
            ..Stmt::default()
        };
        let mut nesting = 0usize;
        while let Some(tok) = self.toks.get(self.pos) {
            match tok.kind {
                TokKind::LParen | TokKind::LBracket => nesting += 1,
                TokKind::RParen | TokKind::RBracket => nesting = nesting.saturating_sub(1),
                TokKind::LBrace if nesting > 0 => {
                    // A closure argument: read its statements as a nested block.
                    stmt.head.push(tok.clone());
                    self.pos += 1;
                    let inner = self.nested_block(depth);
                    stmt.closures.push(inner);
                    if let Some(close) = self.toks.get(self.pos.saturating_sub(1)) {
                        stmt.head.push(close.clone());
                    }
                    continue;
                }
                TokKind::LBrace => {
                    self.pos += 1;
                    stmt.block = Some(self.nested_block(depth));
                    stmt.end = self
                        .toks
                        .get(self.pos.saturating_sub(1))
                        .map_or(stmt.start, |t| t.end);
                    return stmt;
                }
                TokKind::RBrace => break,
                TokKind::Semi if nesting == 0 => break,
                TokKind::Newline if nesting == 0 => {
                    // Jump over the whole run of newlines at once (keeps the work linear).
                    match self.continuation(&stmt.head) {
                        Some(next) => {
                            self.pos = next;
                            continue;
                        }
                        None => break,
                    }
                }
                _ => {}
            }
            if tok.kind != TokKind::Newline {
                stmt.head.push(tok.clone());
            }
            self.pos += 1;
        }
        stmt.end = stmt.head.last().map_or(stmt.start, |t| t.end);
        stmt
    }

    /// The block whose `{` was just consumed, one level below `depth`; skipped
    /// (and flagged) when that is deeper than [`MAX_DEPTH`].
    fn nested_block(&mut self, depth: usize) -> Vec<Stmt> {
        if depth + 1 > MAX_DEPTH {
            self.too_deep = true;
            self.skip_block();
            Vec::new()
        } else {
            self.block(depth + 1)
        }
    }

    /// A statement goes on past a newline when its line ends in a comma or an
    /// operator, or the next line starts with `.` (method chaining) or an operator
    /// such as `+`/`&&`. Returns where the statement continues: the first token
    /// after the newlines.
    fn continuation(&self, head: &[Tok]) -> Option<usize> {
        let mut next = self.pos;
        while self.kind(next) == Some(&TokKind::Newline) {
            next += 1;
        }
        let trailing = matches!(
            head.last().map(|t| &t.kind),
            Some(TokKind::Comma | TokKind::Colon | TokKind::Dot | TokKind::Op(_))
        );
        let leading = matches!(
            self.kind(next),
            Some(TokKind::Dot | TokKind::Op('+' | '&' | '|' | '?'))
        );
        ((trailing || leading) && !head.is_empty()).then_some(next)
    }

    /// Skip to just past the `}` that closes the block whose `{` was just consumed.
    fn skip_block(&mut self) {
        let mut depth = 1usize;
        while let Some(tok) = self.toks.get(self.pos) {
            self.pos += 1;
            match tok.kind {
                TokKind::LBrace => depth += 1,
                TokKind::RBrace => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn tree(src: &str) -> Vec<Stmt> {
        build(&tokenize(src).unwrap()).0
    }

    #[test]
    fn statements_blocks_and_lines() {
        let src =
            "pipeline {\n  agent any\n  stages {\n    stage('A') { steps { sh 'x' } }\n  }\n}\n";
        let t = tree(src);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name(), Some("pipeline"));
        let stages = t[0].child("stages").unwrap();
        assert_eq!(stages.line, 3);
        let stage = &stages.block()[0];
        assert_eq!(stage.line, 4);
        assert_eq!(stage.args(src).first(), Some(&Value::Str("A".into())));
        let sh = &stage.child("steps").unwrap().block()[0];
        assert_eq!(sh.args(src).first(), Some(&Value::Str("x".into())));
    }

    #[test]
    fn continuation_lines_and_named_args() {
        let src = "mail to: 'a@b',\n  subject: \"s\",\n  body: x + y\nnext()";
        let t = tree(src);
        assert_eq!(t.len(), 2);
        let args = t[0].args(src);
        assert_eq!(args.named("to"), Some(&Value::Str("a@b".into())));
        assert_eq!(args.named("body"), Some(&Value::Expr("x + y".into())));
        assert_eq!(t[1].line, 4);
    }

    #[test]
    fn closures_inside_parens_are_nested_blocks() {
        let src = "parallel(a: { sh 'x' }, b: {\n sh 'y'\n})\nz";
        let t = tree(src);
        assert_eq!(t.len(), 2);
        assert!(t[0].block.is_none());
        assert_eq!(t[0].closures.len(), 2);
        assert_eq!(t[0].closures[1][0].line, 2);
        let args = t[0].args(src);
        assert_eq!(args.named.len(), 2);
        assert_eq!(t[1].name(), Some("z"));
        assert_eq!(t[1].line, 4);
    }

    #[test]
    fn depth_is_bounded() {
        let src = format!("{}{}", "a {".repeat(200), "}".repeat(200));
        let (stmts, too_deep) = build(&tokenize(&src).unwrap());
        assert!(too_deep);
        assert_eq!(stmts.len(), 1);
    }
}
