//! The terminal report: sub-domain → item → sub-item with level bars, the top next
//! steps and evidence counts; `verbose` lists the evidence and every next step.

use std::fmt::Write;

use super::{Lang, Report, level_bar, level_label};
use crate::assess::{NextStepReason, SubItemResult};
use crate::detect::Origin;

#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub lang: Lang,
    /// ANSI colours (only when stdout is a terminal and NO_COLOR is unset; decided by the caller).
    pub color: bool,
    pub verbose: bool,
}

/// Terminal columns a string takes: East Asian wide characters take two.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = u32::from(c);
            let wide = matches!(u,
                0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
                | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6);
            if wide { 2 } else { 1 }
        })
        .sum()
}

fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn level(&self, level: u8, s: &str) -> String {
        let code = match level {
            1 => "31",
            2 => "33",
            3 => "36",
            4 => "32",
            _ => "1;32",
        };
        self.wrap(code, s)
    }
}

/// Strip control characters from repository text before it reaches a terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Width of the name column: the longest "    id name" row plus a gap.
fn name_column(p: &super::ProjectReport) -> usize {
    let widest = p
        .sub_items()
        .map(|s| display_width(&format!("    {} {}", s.id, s.name)))
        .chain(
            p.sub_domains
                .iter()
                .map(|d| display_width(&format!("{} {}", d.id, d.name))),
        )
        .max()
        .unwrap_or(0);
    widest + 2
}

pub fn render(report: &Report, options: &TextOptions) -> String {
    let mut o = String::new();
    let _ = render_into(&mut o, report, options);
    o
}

fn render_into(o: &mut String, r: &Report, opt: &TextOptions) -> std::fmt::Result {
    let lang = opt.lang;
    let p = Paint { on: opt.color };
    writeln!(
        o,
        "{} {} — {}",
        p.bold("mlops-maturity"),
        r.tool.version,
        clean(&r.source.target)
    )?;
    writeln!(
        o,
        "{}",
        p.dim(&format!(
            "{} {} · {}",
            lang.s("interpretation table", "解读表"),
            r.table_version,
            lang.s(
                "CAICT Model/MLOps maturity model, part 2: model delivery",
                "人工智能研发运营一体化（Model/MLOps）能力成熟度模型 第二部分：模型交付"
            )
        ))
    )?;
    for proj in &r.projects {
        writeln!(o)?;
        let title = proj.title();
        if !title.is_empty() {
            writeln!(o, "{} {}", p.bold(lang.s("Project", "项目")), clean(&title))?;
        }
        writeln!(
            o,
            "{}  {}   {} {:.2} {}",
            p.bold(lang.s("Overall level", "总体等级")),
            p.level(proj.overall, &level_label(proj.overall)),
            lang.s("mean score", "平均分"),
            proj.mean_score,
            p.dim(lang.s(
                "(mean of the 32 sub-item levels, not a level)",
                "（32 个子项等级的平均值，不是等级）"
            ))
        )?;
        writeln!(o)?;
        let column = name_column(proj);
        for d in &proj.sub_domains {
            let head = pad(&format!("{} {}", d.id, d.name), column);
            writeln!(
                o,
                "{}{} {}",
                p.bold(&head),
                p.level(d.level, &level_bar(d.level)),
                d.level
            )?;
            for i in &d.items {
                let head = pad(&format!("  {} {}", i.id, i.name), column);
                writeln!(
                    o,
                    "{}{} {}",
                    head,
                    p.level(i.level, &level_bar(i.level)),
                    i.level
                )?;
                for s in &i.sub_items {
                    let head = pad(&format!("    {} {}", s.id, s.name), column);
                    writeln!(
                        o,
                        "{}{} {}  {}",
                        head,
                        p.level(s.level, &level_bar(s.level)),
                        s.level,
                        p.dim(&evidence_note(s, lang))
                    )?;
                    if opt.verbose {
                        verbose_lines(o, s, &p, lang)?;
                    }
                }
            }
        }
        let steps = proj.top_next_steps(5);
        if !steps.is_empty() {
            writeln!(o)?;
            writeln!(o, "{}", p.bold(lang.s("Top next steps", "优先改进项")))?;
            for (s, n) in steps {
                writeln!(
                    o,
                    "  {} {} → L{}: {}",
                    s.id,
                    s.name,
                    n.level,
                    lang.pick(&n.text)
                )?;
            }
        }
        writeln!(o)?;
        writeln!(
            o,
            "{}: {} {}, {} {}, {} {}",
            p.bold(lang.s("Evidence", "证据")),
            proj.evidence_counts.practices,
            lang.s("practices", "项实践"),
            proj.evidence_counts.observed,
            lang.s("observed", "条观测"),
            proj.evidence_counts.attested,
            lang.s("attested", "条声明")
        )?;
    }
    if let Some(history) = &r.history {
        writeln!(o)?;
        writeln!(o, "{}", p.bold(lang.s("Delivery history", "交付历史度量")))?;
        for (label, text) in crate::history::describe(history) {
            writeln!(o, "  {label}: {}", clean(&text))?;
        }
    }
    if !r.diagnostics.is_empty() {
        writeln!(
            o,
            "{}: {} {}",
            p.bold(lang.s("Diagnostics", "诊断信息")),
            r.diagnostics.len(),
            lang.s("(printed on stderr)", "（见标准错误输出）")
        )?;
    }
    if !opt.verbose {
        writeln!(o, "{}", p.dim(lang.s(
            "Run with --verbose to list the evidence; `mlops-maturity explain <id>` explains a sub-item.",
            "使用 --verbose 列出证据；`mlops-maturity explain <id>` 解释一个子项。"
        )))?;
    }
    Ok(())
}

fn evidence_note(s: &SubItemResult, lang: Lang) -> String {
    if s.no_evidence {
        return lang.s("no evidence", "无证据").to_string();
    }
    let (mut observed, mut attested) = (0, 0);
    for m in &s.met {
        for q in &m.requirements {
            for u in &q.evidence {
                observed += u.observed;
                attested += u.attested;
            }
        }
    }
    let mut note = match (observed, attested) {
        (0, 0) => lang
            .s(
                "related evidence, not enough for L2",
                "有相关证据，但不足 2 级",
            )
            .to_string(),
        (n, 0) => format!("{n} {}", lang.s("evidence", "条证据")),
        (n, a) => format!(
            "{n} {} + {a} {}",
            lang.s("evidence", "条证据"),
            lang.s("attested", "条声明")
        ),
    };
    if s.capped_by_attestation {
        note.push_str(lang.s(" · capped: attested only", " · 受限：仅有声明"));
    }
    note
}

fn verbose_lines(o: &mut String, s: &SubItemResult, p: &Paint, lang: Lang) -> std::fmt::Result {
    let indent = "             ";
    // Higher levels often rest on the same evidence as lower ones: list each piece once.
    let mut listed: Vec<(&str, &Origin)> = Vec::new();
    for m in &s.met {
        for q in &m.requirements {
            writeln!(o, "{indent}L{} {}", m.level, p.dim(&q.when))?;
            for u in &q.evidence {
                let fresh: Vec<_> = u
                    .shown
                    .iter()
                    .filter(|e| !listed.contains(&(u.practice.as_str(), &e.origin)))
                    .collect();
                if fresh.is_empty() {
                    writeln!(
                        o,
                        "{indent}  {:<26} {}",
                        u.practice,
                        p.dim(lang.s("(as above)", "（同上）"))
                    )?;
                    continue;
                }
                for e in fresh {
                    listed.push((u.practice.as_str(), &e.origin));
                    let (place, kind) = match &e.origin {
                        Origin::File { location } => {
                            (location.to_string(), lang.s("observed", "观测"))
                        }
                        Origin::Api { record } => (
                            record.endpoint.clone(),
                            lang.s("observed (api)", "观测（API）"),
                        ),
                        Origin::Attested { url, location, .. } => {
                            (format!("{location} → {url}"), lang.s("attested", "声明"))
                        }
                    };
                    writeln!(o, "{indent}  {:<26} {} [{kind}]", u.practice, clean(&place))?;
                    if !e.chain.is_empty() {
                        let chain: Vec<String> =
                            e.chain.iter().map(|c| clean(&c.to_string())).collect();
                        writeln!(
                            o,
                            "{indent}    {} {}",
                            lang.s("via", "经由"),
                            chain.join(" → ")
                        )?;
                    }
                    if !e.excerpt.is_empty() {
                        let excerpt: String = clean(&e.excerpt).chars().take(100).collect();
                        writeln!(o, "{indent}    {}", p.dim(&excerpt))?;
                    }
                }
                // Fewer than the maximum shown means the rest repeat a place already shown.
                let more = (u.observed + u.attested).saturating_sub(u.shown.len());
                if more > 0 && u.shown.len() == crate::assess::EVIDENCE_SHOWN {
                    writeln!(o, "{indent}  … {more} {}", lang.s("more", "条更多"))?;
                }
            }
        }
    }
    for n in &s.next_steps {
        let why = match n.reason {
            NextStepReason::Missing => "",
            NextStepReason::AttestedOnly => lang.s(
                " (only attested; needs observed evidence)",
                "（仅有声明，需要观测到的证据）",
            ),
        };
        writeln!(o, "{indent}→ L{}: {}{why}", n.level, lang.pick(&n.text))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn widths() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("构建"), 4);
        assert_eq!(display_width("■□"), 2);
    }

    #[test]
    fn plain_text_has_no_escape_codes_and_lists_everything() {
        let r = fixture::report();
        let out = render(&r, &TextOptions::default());
        assert!(!out.contains('\x1b'));
        assert!(out.contains("    1.1.1 构建过程 (Build process)"));
        assert!(out.contains("■■□□□ 2"));
        assert!(out.contains("Top next steps"));
        assert!(out.matches("no evidence").count() >= 10);
        let verbose = render(
            &r,
            &TextOptions {
                verbose: true,
                ..Default::default()
            },
        );
        assert!(verbose.contains(".github/workflows/ci.yml:1"));
        assert!(verbose.contains("[attested]"));
        let color = render(
            &r,
            &TextOptions {
                color: true,
                ..Default::default()
            },
        );
        assert!(color.contains("\x1b[31m"));
        let zh = render(
            &r,
            &TextOptions {
                lang: Lang::Zh,
                ..Default::default()
            },
        );
        assert!(zh.contains("总体等级") && zh.contains("构建过程 (Build process)"));
    }
}
