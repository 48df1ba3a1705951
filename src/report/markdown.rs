//! The Markdown report (for PR comments and job summaries). Everything that comes
//! from the scanned repository is escaped: it must not break the tables, inject HTML,
//! run code spans or mention people.

use std::fmt::Write;

use super::{Lang, Report, level_bar, level_label};
use crate::detect::Origin;

/// Repository text longer than this many characters is cut (with `…`) before display,
/// so a hostile job name cannot push the rest of a comment out of sight.
pub const MAX_INLINE_CHARS: usize = 300;

/// Cut `text` to [`MAX_INLINE_CHARS`] characters, marking the cut with `…`.
pub fn truncate(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_INLINE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// Characters that reorder or hide text (bidirectional overrides, zero-width joiners
/// used to disguise content); they are dropped from repository text.
fn is_hidden_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{FEFF}')
}

fn ends_with_www(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[b.len() - 3..].eq_ignore_ascii_case(b"www")
}

/// Make repository text safe inside a Markdown table cell (or any inline position):
/// no HTML, links, images, autolinks, mentions, issue references, emphasis, code spans
/// or line breaks survive, and long text is truncated.
pub fn escape(text: &str) -> String {
    let text = truncate(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '\\' => out.push_str("\\\\"),
            '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '#' => {
                out.push_str("\\#");
                // `#123` / `owner/repo#123` would become cross-references on GitHub.
                if chars.peek().is_some_and(|n| n.is_alphanumeric()) {
                    out.push_str("&#8203;");
                }
            }
            // A zero-width space after `@` keeps GitHub/GitLab from notifying anyone.
            '@' => out.push_str("@&#8203;"),
            // `scheme://` and `www.` would be turned into links by GFM's autolinker.
            ':' if chars.peek() == Some(&'/') => out.push_str(":&#8203;"),
            '.' if ends_with_www(&out) => out.push_str("&#8203;."),
            '\r' => {}
            '\n' => out.push(' '),
            c if c.is_control() || is_hidden_format(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Repository text as an inline code span that cannot break out of it or of a table
/// (long text is truncated).
pub fn code(text: &str) -> String {
    let inner: String = truncate(text)
        .chars()
        .filter(|c| !is_hidden_format(*c))
        .map(|c| {
            if c == '`' {
                '\''
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("`{}`", inner.replace('|', "\\|"))
}

pub fn render(report: &Report, lang: Lang) -> String {
    let mut o = String::new();
    let _ = render_into(&mut o, report, lang);
    o
}

fn render_into(o: &mut String, r: &Report, lang: Lang) -> std::fmt::Result {
    writeln!(
        o,
        "# {}",
        lang.s("MLOps maturity report", "MLOps 能力成熟度报告")
    )?;
    writeln!(o)?;
    writeln!(
        o,
        "{}: {} · mlops-maturity {} · {} {} · {}",
        lang.s("Source", "来源"),
        code(&r.source.target),
        r.tool.version,
        lang.s("interpretation table", "解读表"),
        r.table_version,
        lang.s(
            "CAICT Model/MLOps maturity model, part 2: model delivery",
            "人工智能研发运营一体化（Model/MLOps）能力成熟度模型 第二部分：模型交付"
        )
    )?;
    for p in &r.projects {
        writeln!(o)?;
        let title = p.title();
        if !title.is_empty() {
            writeln!(o, "## {} {}", lang.s("Project", "项目"), escape(&title))?;
            writeln!(o)?;
        }
        writeln!(
            o,
            "**{}: {}** · {}: {:.2} ({})",
            lang.s("Overall level", "总体等级"),
            level_label(p.overall),
            lang.s("mean score", "平均分"),
            p.mean_score,
            lang.s(
                "mean of the 32 sub-item levels, not a level",
                "32 个能力子项等级的平均值，不是等级"
            )
        )?;
        writeln!(o)?;
        writeln!(
            o,
            "| {} | {} | {} | {} |",
            lang.s("Capability", "能力"),
            lang.s("Level", "等级"),
            lang.s("Evidence", "证据"),
            lang.s("Next step", "下一步")
        )?;
        writeln!(o, "|---|---|---|---|")?;
        for d in &p.sub_domains {
            writeln!(
                o,
                "| **{} {}** | **{}** {} | | |",
                d.id,
                d.name,
                d.level,
                level_bar(d.level)
            )?;
            for i in &d.items {
                writeln!(
                    o,
                    "| **{} {}** | **{}** {} | | |",
                    i.id,
                    i.name,
                    i.level,
                    level_bar(i.level)
                )?;
                for s in &i.sub_items {
                    let evidence = if s.no_evidence {
                        lang.s("no evidence", "无证据").to_string()
                    } else {
                        let n: usize = s
                            .met
                            .iter()
                            .flat_map(|m| &m.requirements)
                            .flat_map(|q| &q.evidence)
                            .map(|u| u.observed + u.attested)
                            .sum();
                        if n == 0 {
                            lang.s(
                                "related evidence, not enough for L2",
                                "有相关证据，但不足 2 级",
                            )
                            .to_string()
                        } else {
                            n.to_string()
                        }
                    };
                    let next = s
                        .next_steps
                        .iter()
                        .map(|n| format!("L{}: {}", n.level, escape(lang.pick(&n.text))))
                        .collect::<Vec<_>>()
                        .join("<br>");
                    writeln!(
                        o,
                        "| {} {} | {} {} | {} | {} |",
                        s.id,
                        s.name,
                        s.level,
                        level_bar(s.level),
                        evidence,
                        next
                    )?;
                }
            }
        }
        let steps = p.top_next_steps(5);
        if !steps.is_empty() {
            writeln!(o)?;
            writeln!(o, "### {}", lang.s("Top next steps", "优先改进项"))?;
            writeln!(o)?;
            for (s, n) in steps {
                writeln!(
                    o,
                    "- **{} {}** → L{}: {}",
                    s.id,
                    s.name,
                    n.level,
                    escape(lang.pick(&n.text))
                )?;
            }
        }
        writeln!(o)?;
        writeln!(o, "### {}", lang.s("Evidence", "证据"))?;
        writeln!(o)?;
        writeln!(
            o,
            "{}: {} · {}: {} · {}: {}",
            lang.s("practices", "实践"),
            p.evidence_counts.practices,
            lang.s("observed", "观测到"),
            p.evidence_counts.observed,
            lang.s("attested", "声明"),
            p.evidence_counts.attested
        )?;
        writeln!(o)?;
        let mut any = false;
        for s in p.sub_items() {
            // Each piece once per sub-item, at the lowest level it supports.
            let mut listed: Vec<(&str, &Origin)> = Vec::new();
            for m in &s.met {
                for q in &m.requirements {
                    for u in &q.evidence {
                        for e in &u.shown {
                            if listed.contains(&(u.practice.as_str(), &e.origin)) {
                                continue;
                            }
                            listed.push((u.practice.as_str(), &e.origin));
                            if !any {
                                writeln!(
                                    o,
                                    "| {} | L | {} | {} |",
                                    lang.s("Sub-item", "子项"),
                                    lang.s("Practice", "实践"),
                                    lang.s("Where", "位置")
                                )?;
                                writeln!(o, "|---|---|---|---|")?;
                                any = true;
                            }
                            let place = match &e.origin {
                                Origin::File { location } => code(&location.to_string()),
                                Origin::Api { record } => escape(&record.endpoint),
                                Origin::Attested {
                                    url,
                                    reason,
                                    location,
                                } => format!(
                                    "{} ({}) — {} {}",
                                    lang.s("attested", "声明"),
                                    escape(reason),
                                    escape(url),
                                    code(&location.to_string())
                                ),
                            };
                            writeln!(
                                o,
                                "| {} | {} | {} | {} |",
                                s.id,
                                m.level,
                                code(&u.practice),
                                place
                            )?;
                        }
                    }
                }
            }
        }
        if !any {
            writeln!(o, "{}", lang.s("No evidence found.", "未发现证据。"))?;
        }
    }
    if let Some(history) = &r.history {
        writeln!(o)?;
        writeln!(o, "### {}", lang.s("Delivery history", "交付历史度量"))?;
        writeln!(o)?;
        for (label, text) in crate::history::describe(history) {
            writeln!(o, "- **{label}**: {}", escape(&text))?;
        }
    }
    if !r.diagnostics.is_empty() {
        writeln!(o)?;
        writeln!(
            o,
            "### {} ({})",
            lang.s("Diagnostics", "诊断信息"),
            r.diagnostics.len()
        )?;
        writeln!(o)?;
        for d in &r.diagnostics {
            writeln!(o, "- {}", escape(&d.to_string()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn escapes_repository_text() {
        let e = escape("a|b <script> `x` @octocat\nnext [link](u) *b*");
        assert!(!e.contains("<script>"));
        assert!(!e.contains('\n'));
        assert!(e.contains("\\|"));
        assert!(e.contains("\\`"));
        assert!(e.contains("@&#8203;octocat"));
        assert!(e.contains("\\[link\\]"));
    }

    #[test]
    fn escape_defuses_links_comments_and_references() {
        let e =
            escape("<!-- x --> </details> ![i](http://evil/x.png) www.evil.com #12 \u{202E}rev");
        assert!(!e.contains('<') && !e.contains('>'));
        assert!(!e.contains("://"), "{e}");
        assert!(!e.to_ascii_lowercase().contains("www."), "{e}");
        assert!(e.contains("\\#&#8203;12"));
        assert!(!e.contains('\u{202E}'));
        assert!(e.contains("!\\[i\\]"), "{e}");
    }

    #[test]
    fn long_text_is_truncated() {
        let long = "a".repeat(5000);
        let e = escape(&long);
        assert_eq!(e.chars().count(), MAX_INLINE_CHARS + 1);
        assert!(e.ends_with('…'));
        assert!(code(&long).len() < 400);
        assert_eq!(escape("short"), "short");
    }

    #[test]
    fn markdown_snapshot() {
        let mut r = fixture::report();
        r.tool.version = "0.0.0-test";
        let out = render(&r, Lang::En);
        assert!(
            out.contains("Grafana \\| &lt;on-call&gt; team"),
            "attestation reason is escaped"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn chinese_prose() {
        let out = render(&fixture::report(), Lang::Zh);
        assert!(out.contains("总体等级"));
        assert!(
            out.contains("构建过程 (Build process)"),
            "names stay bilingual"
        );
    }
}
