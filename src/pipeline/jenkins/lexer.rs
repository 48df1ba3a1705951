//! A small, tolerant Groovy tokenizer: just enough of the language to read the
//! structure of a Jenkinsfile (blocks, calls, string arguments) with line numbers.
//!
//! It is not a Groovy implementation. Strings keep GString `${…}` parts as text
//! (we never evaluate anything), slashy strings are recognised only where a
//! division cannot stand, and any character it does not know becomes an operator
//! token. What it refuses is what makes the file's structure unreadable: an
//! unterminated string or comment, and (in [`check_balance`]) unbalanced brackets.

/// What a token is. Strings carry their decoded text; identifiers and numbers their spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokKind {
    Ident(String),
    Str(String),
    Num(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Semi,
    Dot,
    Newline,
    /// Any other character (`=`, `+`, `!`, `@`, …), one per token.
    Op(char),
}

/// A token with its 1-based line and its byte span in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub kind: TokKind,
    pub line: u32,
    pub start: usize,
    pub end: usize,
}

/// Why the text could not be tokenized, with the line where the problem starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub line: u32,
    pub message: String,
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    toks: Vec<Tok>,
}

/// Tokenize Groovy source. Work is linear in the length of the text.
pub fn tokenize(src: &str) -> Result<Vec<Tok>, LexError> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        toks: Vec::new(),
    };
    // A shebang line (`#!/usr/bin/env groovy`) is not Groovy syntax we need.
    if src.starts_with("#!") {
        while lx.pos < lx.bytes.len() && lx.bytes[lx.pos] != b'\n' {
            lx.pos += 1;
        }
    }
    lx.run()?;
    Ok(lx.toks)
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn push(&mut self, kind: TokKind, start: usize, line: u32) {
        self.toks.push(Tok {
            kind,
            line,
            start,
            end: self.pos,
        });
    }

    fn run(&mut self) -> Result<(), LexError> {
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            let line = self.line;
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.push(TokKind::Newline, start, line);
                    self.line += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0c => self.pos += 1,
                // A backslash before a newline continues the line.
                b'\\' if matches!(self.peek(1), Some(b'\n')) => {
                    self.pos += 2;
                    self.line += 1;
                }
                b'/' if self.peek(1) == Some(b'/') => {
                    while self.peek(0).is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment()?,
                b'/' if self.slashy_allowed() => {
                    if !self.slashy_string() {
                        self.pos += 1;
                        self.push(TokKind::Op('/'), start, line);
                    }
                }
                b'\'' | b'"' => self.string(c)?,
                b'{' => self.single(TokKind::LBrace),
                b'}' => self.single(TokKind::RBrace),
                b'(' => self.single(TokKind::LParen),
                b')' => self.single(TokKind::RParen),
                b'[' => self.single(TokKind::LBracket),
                b']' => self.single(TokKind::RBracket),
                b',' => self.single(TokKind::Comma),
                b':' => self.single(TokKind::Colon),
                b';' => self.single(TokKind::Semi),
                b'.' => self.single(TokKind::Dot),
                b'0'..=b'9' => {
                    while self
                        .peek(0)
                        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                        || (self.peek(0) == Some(b'.')
                            && self.peek(1).is_some_and(|b| b.is_ascii_digit()))
                    {
                        self.pos += 1;
                    }
                    let text = self.src[start..self.pos].to_string();
                    self.push(TokKind::Num(text), start, line);
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 => {
                    // Non-ASCII letters are allowed in Groovy identifiers; take whole
                    // UTF-8 sequences so the slice stays on char boundaries.
                    while self.peek(0).is_some_and(|b| {
                        b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
                    }) {
                        self.pos += 1;
                    }
                    let text = self.src[start..self.pos].to_string();
                    self.push(TokKind::Ident(text), start, line);
                }
                _ => {
                    // Any other character: advance by one whole char.
                    let ch = self.src[self.pos..].chars().next().unwrap_or('?');
                    self.pos += ch.len_utf8().max(1);
                    self.push(TokKind::Op(ch), start, line);
                }
            }
        }
        Ok(())
    }

    fn single(&mut self, kind: TokKind) {
        let start = self.pos;
        self.pos += 1;
        self.push(kind, start, self.line);
    }

    fn block_comment(&mut self) -> Result<(), LexError> {
        let line = self.line;
        self.pos += 2;
        loop {
            match self.peek(0) {
                None => {
                    return Err(LexError {
                        line,
                        message: "unterminated /* comment".into(),
                    });
                }
                Some(b'*') if self.peek(1) == Some(b'/') => {
                    self.pos += 2;
                    return Ok(());
                }
                Some(b'\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// A `/` starts a slashy string only where a value is expected: after an
    /// opening bracket, a comma, `=`, `~` (`==~ /re/`), `!`, `:` or at the start
    /// of a statement. Anywhere else it is division.
    fn slashy_allowed(&self) -> bool {
        match self.toks.last().map(|t| &t.kind) {
            None => true,
            Some(k) => matches!(
                k,
                TokKind::LParen
                    | TokKind::LBracket
                    | TokKind::Comma
                    | TokKind::Colon
                    | TokKind::Newline
                    | TokKind::Semi
                    | TokKind::LBrace
                    | TokKind::Op('=')
                    | TokKind::Op('~')
                    | TokKind::Op('!')
            ),
        }
    }

    /// Read `/…/` on one line. Returns false (consuming nothing) when no closing
    /// slash follows on the same line: then it was not a slashy string after all.
    fn slashy_string(&mut self) -> bool {
        let start = self.pos;
        let mut i = self.pos + 1;
        let mut text = String::new();
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'\n' => return false,
                b'\\' if self.bytes.get(i + 1) == Some(&b'/') => {
                    text.push('/');
                    i += 2;
                }
                b'/' => {
                    if i == start + 1 {
                        return false;
                    }
                    self.pos = i + 1;
                    let line = self.line;
                    self.push(TokKind::Str(text), start, line);
                    return true;
                }
                _ => {
                    let ch = self.src[i..].chars().next().unwrap_or('?');
                    text.push(ch);
                    i += ch.len_utf8().max(1);
                }
            }
        }
        false
    }

    /// Single, double and triple-quoted strings. Double-quoted ones may hold
    /// `${…}` expressions, themselves holding quotes and braces; they are kept as text.
    fn string(&mut self, quote: u8) -> Result<(), LexError> {
        let start = self.pos;
        let line = self.line;
        let triple = self.peek(1) == Some(quote) && self.peek(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        let mut text = String::new();
        loop {
            let Some(b) = self.peek(0) else {
                return Err(LexError {
                    line,
                    message: "unterminated string".into(),
                });
            };
            if b == quote {
                if !triple {
                    self.pos += 1;
                    break;
                }
                if self.peek(1) == Some(quote) && self.peek(2) == Some(quote) {
                    self.pos += 3;
                    // `""""` closes with the extra quote inside the string.
                    while self.peek(0) == Some(quote) {
                        text.push(quote as char);
                        self.pos += 1;
                    }
                    break;
                }
            }
            match b {
                b'\n' if !triple => {
                    return Err(LexError {
                        line,
                        message: "unterminated string".into(),
                    });
                }
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                    text.push('\n');
                }
                b'\\' => {
                    let next = self.peek(1);
                    self.pos += 2;
                    match next {
                        Some(b'n') => text.push('\n'),
                        Some(b't') => text.push('\t'),
                        Some(b'\\') => text.push('\\'),
                        Some(b'\'') => text.push('\''),
                        Some(b'"') => text.push('"'),
                        Some(b'$') => text.push('$'),
                        Some(b'\n') => self.line += 1,
                        Some(_) => {
                            // Unknown escape: keep it as written.
                            self.pos -= 1;
                            text.push('\\');
                        }
                        None => {
                            return Err(LexError {
                                line,
                                message: "unterminated string".into(),
                            });
                        }
                    }
                }
                b'$' if quote == b'"' && self.peek(1) == Some(b'{') => {
                    let from = self.pos;
                    self.gstring_expression()?;
                    text.push_str(&self.src[from..self.pos]);
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('?');
                    self.pos += ch.len_utf8().max(1);
                    text.push(ch);
                }
            }
        }
        self.push(TokKind::Str(text), start, line);
        Ok(())
    }

    /// Skip a `${…}` inside a GString: balanced braces, with nested strings skipped whole.
    fn gstring_expression(&mut self) -> Result<(), LexError> {
        let line = self.line;
        self.pos += 2;
        let mut depth = 1usize;
        while let Some(b) = self.peek(0) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                b'\n' => self.line += 1,
                b'\'' | b'"' => {
                    // A nested string: skip to its closing quote (escapes honoured).
                    self.pos += 1;
                    while let Some(c) = self.peek(0) {
                        if c == b'\\' {
                            self.pos += 1;
                        } else if c == b {
                            break;
                        } else if c == b'\n' {
                            self.line += 1;
                        }
                        self.pos += 1;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(LexError {
            line,
            message: "unterminated ${ in string".into(),
        })
    }
}

/// Check that braces, parentheses and brackets pair up. Returns the line of the
/// first unmatched one.
pub fn check_balance(toks: &[Tok]) -> Result<(), LexError> {
    let mut stack: Vec<(&TokKind, u32)> = Vec::new();
    for t in toks {
        match &t.kind {
            TokKind::LBrace | TokKind::LParen | TokKind::LBracket => stack.push((&t.kind, t.line)),
            TokKind::RBrace | TokKind::RParen | TokKind::RBracket => {
                let want = match t.kind {
                    TokKind::RBrace => TokKind::LBrace,
                    TokKind::RParen => TokKind::LParen,
                    _ => TokKind::LBracket,
                };
                match stack.pop() {
                    Some((open, _)) if *open == want => {}
                    Some((_, open_line)) => {
                        return Err(LexError {
                            line: t.line,
                            message: format!(
                                "closing bracket does not match the one opened on line {open_line}"
                            ),
                        });
                    }
                    None => {
                        return Err(LexError {
                            line: t.line,
                            message: "closing bracket without an opening one".into(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    match stack.last() {
        Some((_, line)) => Err(LexError {
            line: *line,
            message: "bracket opened here is never closed".into(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokKind> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    fn strings(src: &str) -> Vec<String> {
        kinds(src)
            .into_iter()
            .filter_map(|k| match k {
                TokKind::Str(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn quotes_of_every_kind() {
        assert_eq!(
            strings(
                r#"sh 'a \'b\'' ; sh "c ${x("}")} d" ; sh '''e"f''' ; sh """g
h"""  "#
            ),
            vec!["a 'b'", r#"c ${x("}")} d"#, "e\"f", "g\nh"]
        );
    }

    #[test]
    fn comments_are_dropped_and_lines_counted() {
        let toks = tokenize("a // x { \n/* {\n } */ b").unwrap();
        let idents: Vec<(String, u32)> = toks
            .iter()
            .filter_map(|t| match &t.kind {
                TokKind::Ident(s) => Some((s.clone(), t.line)),
                _ => None,
            })
            .collect();
        assert_eq!(idents, vec![("a".into(), 1), ("b".into(), 3)]);
    }

    #[test]
    fn slashy_strings_only_where_unambiguous() {
        assert_eq!(strings("x ==~ /ab+c/"), vec!["ab+c"]);
        assert!(strings("a = b / c / d").is_empty());
        // No closing slash on the line: a lone operator, not a string.
        assert_eq!(
            kinds("(/ x"),
            vec![
                TokKind::LParen,
                TokKind::Op('/'),
                TokKind::Ident("x".into())
            ]
        );
    }

    #[test]
    fn triple_string_lines_advance() {
        let toks = tokenize("sh '''a\nb\nc'''\nx").unwrap();
        let x = toks.iter().find(|t| t.kind == TokKind::Ident("x".into()));
        assert_eq!(x.map(|t| t.line), Some(4));
    }

    #[test]
    fn unterminated_things_are_errors_with_lines() {
        assert_eq!(tokenize("a\nsh 'abc\n").unwrap_err().line, 2);
        assert_eq!(tokenize("a\n\nsh \"\"\"abc").unwrap_err().line, 3);
        assert_eq!(tokenize("/* x").unwrap_err().line, 1);
        assert_eq!(tokenize("\"${ x").unwrap_err().line, 1);
    }

    #[test]
    fn balance() {
        assert!(check_balance(&tokenize("a { b(c[1]) }").unwrap()).is_ok());
        assert_eq!(
            check_balance(&tokenize("a {\n b(\n}").unwrap())
                .unwrap_err()
                .line,
            3
        );
        assert_eq!(
            check_balance(&tokenize("a {\n b {\n").unwrap())
                .unwrap_err()
                .line,
            2
        );
        assert_eq!(check_balance(&tokenize("}").unwrap()).unwrap_err().line, 1);
    }

    #[test]
    fn odd_input_never_panics() {
        for src in [
            "\\",
            "'\\",
            "\"${'",
            "/",
            "$/x/$",
            "é'ü'",
            "#!",
            "\u{feff}x",
            "0.5.x",
        ] {
            let _ = tokenize(src).map(|t| check_balance(&t));
        }
    }
}
