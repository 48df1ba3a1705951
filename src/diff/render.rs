//! Text, Markdown and JSON forms of a [`Diff`].
//!
//! Markdown goes into pull-request comments and job summaries, so everything that came
//! from the scanned repository (paths, excerpts, rule ids, targets, project names) goes
//! through [`crate::report::markdown::escape`] / [`crate::report::markdown::code`].
//! Names of the standard are escaped too: the reports are read from files.

use std::fmt::Write;

use super::{Diff, Direction, EvidenceChange, LevelChange, ProjectStatus, Side, SubItemChange};
use crate::detect::Origin;
use crate::report::Lang;
use crate::report::markdown::{code, escape, truncate};

/// The diff as pretty JSON (`mlops-maturity/diff/v1`).
pub fn json(diff: &Diff) -> String {
    serde_json::to_string_pretty(diff).unwrap_or_else(|e| {
        serde_json::json!({ "schema": super::SCHEMA, "error": e.to_string() }).to_string()
    }) + "\n"
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::Up => "▲",
        Direction::Down => "▼",
    }
}

fn pick(lang: Lang, p: &super::Prose) -> &str {
    match lang {
        Lang::En => &p.en,
        Lang::Zh => &p.zh,
    }
}

/// Where a piece of evidence is, as plain (unescaped) text: `path:line`, an API
/// endpoint or an attestation.
fn place(e: &EvidenceChange) -> String {
    match &e.evidence.origin {
        Origin::File { location } => location.to_string(),
        Origin::Api { record } => record.endpoint.clone(),
        Origin::Attested { location, .. } => location.to_string(),
    }
}

fn chain(e: &EvidenceChange) -> Option<String> {
    if e.evidence.chain.is_empty() {
        return None;
    }
    Some(
        e.evidence
            .chain
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(" → "),
    )
}

fn side_label(s: &Side) -> String {
    match &s.revision {
        Some(r) => format!("{} @ {}", s.target, r.chars().take(12).collect::<String>()),
        None => s.target.clone(),
    }
}

// ── Markdown ──────────────────────────────────────────────────────────────────────────

pub fn markdown(diff: &Diff, lang: Lang) -> String {
    let mut o = String::new();
    let _ = markdown_into(&mut o, diff, lang);
    o
}

fn markdown_into(o: &mut String, d: &Diff, lang: Lang) -> std::fmt::Result {
    writeln!(
        o,
        "### {}",
        lang.s("MLOps maturity changes", "MLOps 成熟度变化")
    )?;
    writeln!(o)?;
    writeln!(o, "{}", escape(pick(lang, &d.summary)))?;
    if d.table_versions_differ {
        writeln!(o)?;
        writeln!(
            o,
            "> {} {} → {}. {}",
            lang.s(
                "**Note:** the interpretation table changed between the reports:",
                "**注意：**两份报告使用的解读表版本不同："
            ),
            escape(&d.base.table_version),
            escape(&d.head.table_version),
            lang.s(
                "Some levels may have moved because the table changed, not the repository.",
                "部分等级变化可能来自解读表本身，而非仓库。"
            )
        )?;
    }
    for p in &d.projects {
        let title = p.title();
        let show_title = !title.is_empty() || d.projects.len() > 1;
        if show_title {
            writeln!(o)?;
            let title = if title.is_empty() {
                lang.s("repository", "仓库").to_string()
            } else {
                escape(&title)
            };
            writeln!(o, "#### {} {}", lang.s("Project", "项目"), title)?;
        }
        match p.status {
            ProjectStatus::Added => {
                writeln!(o)?;
                writeln!(
                    o,
                    "{} {}.",
                    lang.s(
                        "New project in the head, overall level",
                        "头部新增项目，总体等级"
                    ),
                    p.overall.head.unwrap_or(1)
                )?;
                continue;
            }
            ProjectStatus::Removed => {
                writeln!(o)?;
                writeln!(
                    o,
                    "{} {}).",
                    lang.s(
                        "Project no longer in the head (base overall level",
                        "头部中已无此项目（基线总体等级"
                    ),
                    p.overall.base.unwrap_or(1)
                )?;
                continue;
            }
            ProjectStatus::Compared => {}
        }
        let (ob, oh) = (p.overall.base.unwrap_or(1), p.overall.head.unwrap_or(1));
        let (mb, mh) = (
            p.mean_score.base.unwrap_or(1.0),
            p.mean_score.head.unwrap_or(1.0),
        );
        writeln!(o)?;
        let overall = if ob == oh {
            format!("{ob} ({})", lang.s("unchanged", "不变"))
        } else {
            format!("{ob} → **{oh}**")
        };
        writeln!(
            o,
            "**{}:** {overall} · {}: {mb:.2} → {mh:.2} ({:+.2})",
            lang.s("Overall level", "总体等级"),
            lang.s("mean score", "平均分"),
            mh - mb
        )?;
        if !p.sub_items.is_empty() {
            writeln!(o)?;
            writeln!(
                o,
                "| | {} | {} | {} |",
                lang.s("Sub-item", "能力子项"),
                lang.s("Base", "基线"),
                lang.s("Head", "头部")
            )?;
            writeln!(o, "|---|---|---|---|")?;
            for s in &p.sub_items {
                writeln!(
                    o,
                    "| {} | {} {} | {} | **{}** |",
                    arrow(s.direction),
                    escape(&s.id),
                    escape(&s.name.both()),
                    s.base,
                    s.head
                )?;
            }
        }
        let groups: Vec<&LevelChange> = p.sub_domains.iter().chain(&p.items).collect();
        if !groups.is_empty() {
            writeln!(o)?;
            let list = groups
                .iter()
                .map(|g| {
                    format!(
                        "{} {} {} {} → {}",
                        arrow(g.direction),
                        escape(&g.id),
                        escape(&g.name.both()),
                        g.base,
                        g.head
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ");
            writeln!(
                o,
                "**{}:** {list}",
                lang.s("Items and sub-domains", "能力项与能力子域")
            )?;
        }
        for s in &p.sub_items {
            markdown_sub_item(o, s, lang)?;
        }
        if !p.unchanged_sub_items.is_empty() {
            writeln!(o)?;
            writeln!(o, "<details>")?;
            writeln!(
                o,
                "<summary>{} {}</summary>",
                p.unchanged_sub_items.len(),
                lang.s("sub-items unchanged", "个能力子项无变化")
            )?;
            writeln!(o)?;
            writeln!(
                o,
                "| {} | {} |",
                lang.s("Sub-item", "能力子项"),
                lang.s("Level", "等级")
            )?;
            writeln!(o, "|---|---|")?;
            for u in &p.unchanged_sub_items {
                writeln!(
                    o,
                    "| {} {} | {} |",
                    escape(&u.id),
                    escape(&u.name.both()),
                    u.level
                )?;
            }
            writeln!(o)?;
            writeln!(o, "</details>")?;
        }
    }
    writeln!(o)?;
    writeln!(
        o,
        "<sub>{} {} → {} {} · mlops-maturity {} · {} {}</sub>",
        lang.s("base", "基线"),
        code(&side_label(&d.base)),
        lang.s("head", "头部"),
        code(&side_label(&d.head)),
        escape(&d.head.tool_version),
        lang.s("interpretation table", "解读表"),
        escape(&d.head.table_version)
    )?;
    Ok(())
}

fn markdown_sub_item(o: &mut String, s: &SubItemChange, lang: Lang) -> std::fmt::Result {
    writeln!(o)?;
    writeln!(
        o,
        "**{} {} {}: {} → {}**",
        arrow(s.direction),
        escape(&s.id),
        escape(&s.name.both()),
        s.base,
        s.head
    )?;
    if s.gained.is_empty() && s.lost.is_empty() {
        writeln!(o)?;
        writeln!(
            o,
            "{}",
            lang.s(
                "No shown evidence appeared or disappeared (the level follows from qualifiers, counts or the table).",
                "所列证据无增减（等级变化来自限定条件、数量或解读表）。"
            )
        )?;
    } else {
        writeln!(o)?;
        writeln!(
            o,
            "| | {} | {} | {} |",
            lang.s("Practice", "实践"),
            lang.s("Where", "位置"),
            lang.s("Excerpt", "摘录")
        )?;
        writeln!(o, "|---|---|---|---|")?;
        let rows = s
            .gained
            .iter()
            .map(|e| (lang.s("gained", "新增"), e))
            .chain(s.lost.iter().map(|e| (lang.s("lost", "失去"), e)));
        for (what, e) in rows {
            let qualifiers = if e.evidence.qualifiers.is_empty() {
                String::new()
            } else {
                format!(
                    " \\[{}\\]",
                    e.evidence
                        .qualifiers
                        .iter()
                        .map(|q| escape(q))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let via = match chain(e) {
                Some(c) => format!(" ({} {})", lang.s("via", "经由"), code(&c)),
                None => String::new(),
            };
            writeln!(
                o,
                "| {what} L{} | {}{qualifiers} | {}{via} | {} |",
                e.level,
                code(&e.practice),
                code(&place(e)),
                escape(&e.evidence.excerpt)
            )?;
        }
    }
    for n in &s.missing {
        writeln!(o)?;
        writeln!(
            o,
            "{} L{}: {}",
            lang.s("Now missing for", "现缺少"),
            n.level,
            escape(pick(lang, &n.text))
        )?;
    }
    Ok(())
}

// ── Text ──────────────────────────────────────────────────────────────────────────────

/// Repository text for a terminal: no control characters (escape sequences), bounded.
fn clean(s: &str) -> String {
    truncate(s)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub fn text(diff: &Diff, lang: Lang) -> String {
    let mut o = String::new();
    let _ = text_into(&mut o, diff, lang);
    o
}

fn text_into(o: &mut String, d: &Diff, lang: Lang) -> std::fmt::Result {
    writeln!(
        o,
        "{}: {} → {}",
        lang.s("mlops-maturity diff", "mlops-maturity 对比"),
        clean(&side_label(&d.base)),
        clean(&side_label(&d.head))
    )?;
    writeln!(o, "{}", pick(lang, &d.summary))?;
    if d.table_versions_differ {
        writeln!(
            o,
            "{} {} → {}",
            lang.s(
                "note: interpretation table versions differ:",
                "注意：解读表版本不同："
            ),
            clean(&d.base.table_version),
            clean(&d.head.table_version)
        )?;
    }
    for p in &d.projects {
        let title = p.title();
        if !title.is_empty() || d.projects.len() > 1 {
            writeln!(o)?;
            writeln!(
                o,
                "{} {}",
                lang.s("Project", "项目"),
                if title.is_empty() {
                    lang.s("repository", "仓库").to_string()
                } else {
                    clean(&title)
                }
            )?;
        }
        match p.status {
            ProjectStatus::Added => {
                writeln!(o, "  {}", lang.s("added in the head", "头部新增"))?;
                continue;
            }
            ProjectStatus::Removed => {
                writeln!(o, "  {}", lang.s("not in the head", "头部中已无"))?;
                continue;
            }
            ProjectStatus::Compared => {}
        }
        let (ob, oh) = (p.overall.base.unwrap_or(1), p.overall.head.unwrap_or(1));
        if ob == oh {
            writeln!(
                o,
                "{} {ob} ({})",
                lang.s("Overall level", "总体等级"),
                lang.s("unchanged", "不变")
            )?;
        } else {
            writeln!(o, "{} {ob} → {oh}", lang.s("Overall level", "总体等级"))?;
        }
        for g in p.sub_domains.iter().chain(&p.items) {
            writeln!(
                o,
                "  {} {} {} {} → {}",
                arrow(g.direction),
                clean(&g.id),
                clean(&g.name.both()),
                g.base,
                g.head
            )?;
        }
        for s in &p.sub_items {
            writeln!(
                o,
                "  {} {} {} {} → {}",
                arrow(s.direction),
                clean(&s.id),
                clean(&s.name.both()),
                s.base,
                s.head
            )?;
            for (sign, e) in s
                .gained
                .iter()
                .map(|e| ('+', e))
                .chain(s.lost.iter().map(|e| ('-', e)))
            {
                writeln!(
                    o,
                    "      {sign} L{} {} {}  {}",
                    e.level,
                    clean(&e.practice),
                    clean(&place(e)),
                    clean(&e.evidence.excerpt)
                )?;
                if let Some(c) = chain(e) {
                    writeln!(o, "          {} {}", lang.s("via", "经由"), clean(&c))?;
                }
            }
            for n in &s.missing {
                writeln!(
                    o,
                    "      {} L{}: {}",
                    lang.s("now missing for", "现缺少"),
                    n.level,
                    clean(pick(lang, &n.text))
                )?;
            }
        }
        if !p.unchanged_sub_items.is_empty() {
            writeln!(
                o,
                "  ({} {})",
                p.unchanged_sub_items.len(),
                lang.s("sub-items unchanged", "个能力子项无变化")
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Counts, DiffTool, Names, Pair, ProjectDiff, Prose, Unchanged};

    fn side(target: &str, table: &str) -> Side {
        Side {
            target: target.into(),
            revision: Some("0123456789abcdef0123".into()),
            tool_version: "0.0.0".into(),
            table_version: table.into(),
            overall: 1,
            mean_score: 1.0,
        }
    }

    fn project(name: &str, status: ProjectStatus) -> ProjectDiff {
        ProjectDiff {
            name: Some(name.into()),
            path: format!("models/{name}"),
            status,
            overall: Pair {
                base: Some(2),
                head: Some(3),
            },
            mean_score: Pair {
                base: Some(1.5),
                head: Some(1.6),
            },
            sub_domains: Vec::new(),
            items: Vec::new(),
            sub_items: Vec::new(),
            unchanged_sub_items: vec![Unchanged {
                id: "1.1.1".into(),
                name: Names {
                    zh: "构建过程".into(),
                    en: "Build process".into(),
                },
                level: 2,
            }],
        }
    }

    fn diff(projects: Vec<ProjectDiff>) -> Diff {
        Diff {
            schema: crate::diff::SCHEMA,
            tool: DiffTool {
                name: "mlops-maturity",
                version: "0.0.0",
            },
            base: side("main", "t1"),
            head: side("<b>pr</b>", "t2"),
            table_versions_differ: true,
            changed: true,
            regressed: false,
            counts: Counts::default(),
            summary: Prose {
                en: "Projects changed.".into(),
                zh: "项目有变化。".into(),
            },
            projects,
        }
    }

    #[test]
    fn projects_added_removed_and_compared() {
        let d = diff(vec![
            project("ranker", ProjectStatus::Compared),
            project("old_*model*", ProjectStatus::Removed),
            project("new", ProjectStatus::Added),
        ]);
        let md = markdown(&d, Lang::En);
        assert!(md.contains("#### Project ranker (models/ranker)"), "{md}");
        assert!(md.contains("**Overall level:** 2 → **3**"), "{md}");
        assert!(md.contains("#### Project old\\_\\*model\\* (models/old\\_\\*model\\*)"));
        assert!(md.contains("Project no longer in the head (base overall level 2)."));
        assert!(md.contains("New project in the head, overall level 3."));
        assert!(md.contains("interpretation table changed"));
        assert!(
            md.contains("`<b>pr</b> @ 0123456789ab`"),
            "targets are code: {md}"
        );
        let text = text(&d, Lang::En);
        assert!(text.contains("Project old_*model* (models/old_*model*)\n  not in the head"));
        assert!(text.contains("note: interpretation table versions differ: t1 → t2"));
    }

    #[test]
    fn chinese_labels_keep_bilingual_names() {
        let d = diff(vec![project("ranker", ProjectStatus::Compared)]);
        let md = markdown(&d, Lang::Zh);
        assert!(md.contains("项目有变化。"));
        assert!(md.contains("总体等级"));
        assert!(md.contains("1 个能力子项无变化"));
        assert!(md.contains("构建过程 (Build process)"));
        let text = text(&d, Lang::Zh);
        assert!(text.contains("注意：解读表版本不同"));
    }
}
