//! A document's notes as Markdown: section summaries, then every question with its answer,
//! evidence (pages and highlighted snippets) and provenance. Text that came from the document
//! or the model is escaped, so it cannot turn into Markdown structure.

use super::error::QaError;
use super::notes::{load_notes, DocumentNotes};
use super::provenance::{marked_snippet, page_label, Answer, EvidenceRole, Mode, Provenance};
use crate::document::DocumentRecord;
use crate::Library;
use std::fmt::Write as _;

/// The Markdown export of document `id`'s notes.
pub fn export_markdown(library: &Library, id: &str) -> Result<String, QaError> {
    let record = library.document(id)?;
    let notes = load_notes(library, id)?;
    Ok(render_markdown(&record, &notes, super::now_unix_s()))
}

/// Renders notes as Markdown; `now_unix_s` is the export time shown in the header.
pub fn render_markdown(record: &DocumentRecord, notes: &DocumentNotes, now_unix_s: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", escape(&record.title));
    let _ = writeln!(
        out,
        "Notes exported by rwkv-reader on {}.  \nSource: `{}` · {} page{} · {} tokens\n",
        utc_date_time(now_unix_s),
        record.source_path.display().to_string().replace('`', "'"),
        record.pages.len(),
        if record.pages.len() == 1 { "" } else { "s" },
        record.token_count
    );

    let mut summaries: Vec<_> = notes
        .summaries
        .iter()
        .filter(|s| s.document_digest == record.digest)
        .collect();
    summaries.sort_by(|a, b| {
        (a.provenance.model.as_str(), a.section.byte_range.start)
            .cmp(&(b.provenance.model.as_str(), b.section.byte_range.start))
    });
    out.push_str("## Section summaries\n\n");
    if summaries.is_empty() {
        out.push_str("_None yet (`rwkv-reader summarize`)._\n\n");
    }
    for s in summaries {
        let _ = writeln!(
            out,
            "### {} ({})\n",
            escape(&s.section.title),
            page_label(s.section.pages)
        );
        let _ = writeln!(out, "{}\n", quoted(&s.text));
        let _ = writeln!(
            out,
            "_{} · written {}_\n",
            provenance_line(&s.provenance),
            utc_date_time(s.created_at_unix_s)
        );
    }

    out.push_str("## Questions and answers\n\n");
    if notes.answers.is_empty() {
        out.push_str("_None yet (`rwkv-reader ask`)._\n\n");
    }
    for (i, a) in notes.answers.iter().enumerate() {
        render_answer(&mut out, i + 1, a, &record.digest);
    }
    out
}

fn render_answer(out: &mut String, number: usize, a: &Answer, current_digest: &str) {
    let _ = writeln!(out, "### {number}. {}\n", escape(&a.question));
    let _ = writeln!(out, "{}\n", quoted(&a.text));
    let mut asked = format!("Asked {}", utc_date_time(a.asked_at_unix_s));
    if let Some(page) = a.provenance.as_of_page {
        let _ = write!(asked, " · as of page {page}");
    }
    if a.provenance.mode == Mode::Whole {
        asked.push_str(" · from the whole document's state");
    }
    if a.document.digest != current_digest {
        asked.push_str(" · about an earlier version of the document (pages may have moved)");
    }
    let _ = writeln!(out, "{asked}\n");
    if a.evidence.is_empty() {
        out.push_str("**Evidence:** no passage matched.\n\n");
    } else {
        out.push_str("**Evidence**\n\n");
        for (k, e) in a.evidence.iter().enumerate() {
            let role = match e.role {
                EvidenceRole::Read => "read by the model",
                EvidenceRole::AlsoMatched => "also matched",
            };
            let snippet = e
                .snippet
                .as_ref()
                .map(|s| format!(": “{}”", marked_snippet_md(s)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}. {}, {} ({role}){snippet}",
                k + 1,
                escape(&e.title),
                page_label(e.pages)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "_{}_\n", provenance_line(&a.provenance));
    for n in &a.notices {
        let _ = writeln!(out, "- {}", escape(n));
    }
    if !a.notices.is_empty() {
        out.push('\n');
    }
}

/// A snippet with its highlights in bold, everything else escaped.
fn marked_snippet_md(s: &crate::index::Snippet) -> String {
    // Mark with control characters first, escape, then turn the marks into `**`.
    marked_snippet(s, "\u{1}", "\u{2}")
        .chars()
        .filter(|c| !c.is_control() || *c == '\u{1}' || *c == '\u{2}')
        .collect::<String>()
        .split(['\u{1}', '\u{2}'])
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("**{}**", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

/// One line saying where the state came from and what it cost.
pub fn provenance_line(p: &Provenance) -> String {
    let start = match &p.checkpoint {
        Some(c) => format!(
            "started from checkpoint {} (chunk {}, token {}, p. {})",
            c.file, c.chunks_read, c.token_offset, c.page
        ),
        None => "started from a fresh state at the document's start".to_string(),
    };
    let reread_pages = if p.passages.is_empty() {
        p.material
            .as_ref()
            .or(p.lead_in.as_ref())
            .filter(|s| s.tokens > 0)
            .map(|s| format!(" ({})", page_label(s.pages)))
            .unwrap_or_default()
    } else {
        // Every passage read, in reading order, with the tokens re-read for it.
        let each: Vec<String> = p
            .passages
            .iter()
            .map(|r| format!("{}: {}", r.label, r.span.tokens))
            .collect();
        let n = p.passages.len();
        let noun = if n == 1 { "passage" } else { "passages" };
        format!(" ({n} {noun} read: {})", each.join(", "))
    };
    format!(
        "Model {} on {} · {start} · re-read {} tokens{reread_pages} · prompt {} tokens · generated {} tokens ({:?})",
        escape(&p.model),
        escape(&p.device),
        p.reread_tokens,
        p.prompt_tokens,
        p.generated_tokens,
        p.stop_reason
    )
}

/// Text as a Markdown blockquote, escaped; an empty answer says so.
fn quoted(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "> _(the model gave no text)_".to_string();
    }
    text.lines()
        .map(|l| format!("> {}", escape(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escapes Markdown's inline syntax and line-start markers; drops control characters (an ANSI
/// escape in a document must not reach a terminal that shows the export).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if c.is_control() && c != '\t' {
            continue;
        }
        let line_start_marker = i == 0 && matches!(c, '-' | '+' | '=');
        if line_start_marker || "\\`*_[]<>#|~!".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `2024-01-12 09:30 UTC` for seconds since 1970.
pub fn utc_date_time(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_escaping() {
        assert_eq!(utc_date_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date_time(1_705_051_800), "2024-01-12 09:30 UTC");
        assert_eq!(utc_date_time(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(
            escape("# a *b* [c](d)\x1b[31m"),
            "\\# a \\*b\\* \\[c\\](d)\\[31m"
        );
        assert_eq!(escape("- item"), "\\- item");
        assert_eq!(quoted("one\ntwo"), "> one\n> two");
    }

    #[test]
    fn snippet_highlights_become_bold() {
        let s = crate::index::Snippet {
            text: "the *keeper* kept".into(),
            byte_start: 0,
            highlights: std::iter::once(5..11).collect(),
        };
        assert_eq!(marked_snippet_md(&s), "the \\***keeper**\\* kept");
    }
}
