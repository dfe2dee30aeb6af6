//! Page furniture: what a court paper prints on every page around its text — the ECF stamp
//! ("Case 5:17-cv-00072-BLF Document 660 Filed 06/05/20 Page 3 of 20"), the line numbers 1–28
//! down the margin of pleading paper — and the blank line a double-spaced filing's text
//! extraction puts after every line.
//!
//! Left in, it breaks sentences where a page turns (the stamp lands mid-sentence), makes every
//! line of a double-spaced filing a paragraph of its own (the ranking's sentences become single
//! lines), and costs the model tokens of noise on every page. It is told from the text by
//! repetition and position alone, never by a list of courts' formats:
//!
//! - a line at the top or bottom of a page ([`EDGE_LINES`]) that recurs there on at least half
//!   of the pages, differing from page to page only in its digits, is a stamp with a page
//!   counter — unless it is short: a page's own number ("Page 38" of a deposition transcript,
//!   "- 3 -") is how that page is cited, and stays. A running head, the same on every page
//!   ("GIFT SURPLUS, LLC V. STATE / Opinion of the Court"), stays too: taking it out made the
//!   parties' names rare in the text, and they then picked passages (measured in
//!   BENCHMARKS.md, retrieval);
//! - numbers 1, 2, 3, … of which at least [`LINE_NUMBER_RUN`] stand alone at the start of
//!   successive lines of a page are the margin's line numbers;
//! - a page whose lines are nearly all followed by a blank line is double-spaced: its blank
//!   lines are line spacing, not paragraph breaks. A page where many are (the body
//!   double-spaced, the caption and footnotes not) loses the blank lines that stand inside a
//!   sentence: after a line of at least half the page's width that does not end one.

use super::PdfPage;
use std::collections::{HashMap, HashSet};

/// Lines at each end of a page where furniture is looked for.
pub const EDGE_LINES: usize = 4;
/// Pages with text below which nothing is called furniture (too few to tell repetition).
const MIN_PAGES: usize = 3;
/// Successive line numbers that make a margin of pleading paper.
pub const LINE_NUMBER_RUN: u32 = 10;
/// Shortest line that differs from page to page (in its digits) and is still furniture: a
/// stamp, not a page number.
const MIN_STAMP_BYTES: usize = 16;
/// Share of a page's lines followed by a blank line that makes it double-spaced.
const DOUBLE_SPACED_SHARE: f32 = 0.8;
/// Share of a page's lines followed by a blank line that makes it partly double-spaced (a
/// double-spaced body with single-spaced caption, block quotes or footnotes).
const PARTLY_DOUBLE_SPACED_SHARE: f32 = 0.4;
/// Lines a page must have before it is judged double-spaced.
const DOUBLE_SPACED_MIN_LINES: usize = 8;

/// Removes the stamps, margin numbers and double spacing from `pages` (their text only; page
/// numbers and statuses stay). Returns how many non-blank lines were removed.
pub fn remove_page_furniture(pages: &mut [PdfPage]) -> usize {
    let mut lines: Vec<Vec<String>> = pages
        .iter()
        .map(|p| p.text.lines().map(str::to_string).collect())
        .collect();
    let before: usize = lines.iter().map(|l| non_blank(l)).sum();
    for page in &mut lines {
        let double_spaced = is_double_spaced(page);
        strip_line_numbers(page);
        if double_spaced {
            page.retain(|l| !l.trim().is_empty());
        } else if spaced_share(page) >= PARTLY_DOUBLE_SPACED_SHARE {
            drop_blanks_inside_sentences(page);
        }
    }
    remove_repeated_edges(&mut lines);
    let after: usize = lines.iter().map(|l| non_blank(l)).sum();
    for (page, kept) in pages.iter_mut().zip(lines) {
        if !page.text.is_empty() {
            let kept: Vec<&str> = kept.iter().map(|l| l.trim_end()).collect();
            page.text = kept.join("\n");
        }
    }
    before - after
}

fn non_blank(lines: &[String]) -> usize {
    lines.iter().filter(|l| !l.trim().is_empty()).count()
}

/// The margin's line numbers: lines that begin with 1, 2, 3, … in order (other lines may stand
/// between them), the number alone or followed by a space; when the run reaches
/// [`LINE_NUMBER_RUN`], those numbers are cut (and lines left empty dropped).
fn strip_line_numbers(page: &mut Vec<String>) {
    let mut found: Vec<(usize, usize)> = Vec::new(); // (line, bytes of its number)
    let mut alone = 0u32;
    let mut expected = 1u32;
    for (i, line) in page.iter().enumerate() {
        let trimmed = line.trim_start();
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 2 {
            continue;
        }
        let rest = &trimmed[digits..];
        // Deep in a run, the last number may be glued to the side bar after it ("28United
        // States District Court").
        let glued = expected > LINE_NUMBER_RUN && rest.starts_with(char::is_alphabetic);
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace) || glued) {
            continue;
        }
        if trimmed[..digits].parse::<u32>().ok() != Some(expected) {
            continue;
        }
        if rest.trim().is_empty() {
            alone += 1;
        }
        found.push((i, line.len() - trimmed.len() + digits));
        expected += 1;
    }
    // Most of them stand alone on their lines: a numbered list's items carry text.
    if found.len() < LINE_NUMBER_RUN as usize || alone < LINE_NUMBER_RUN {
        return;
    }
    let mut emptied = HashSet::new();
    for (i, cut) in found {
        let rest = page[i][cut..].trim().to_string();
        if rest.is_empty() {
            emptied.insert(i);
        }
        page[i] = rest;
    }
    drop_lines(page, &emptied);
}

/// Removes the lines of `page` at the indices in `drop`.
fn drop_lines(page: &mut Vec<String>, drop: &HashSet<usize>) {
    let mut i = 0;
    page.retain(|_| {
        i += 1;
        !drop.contains(&(i - 1))
    });
}

/// Whether nearly every non-blank line of the page is followed by a blank line.
fn is_double_spaced(page: &[String]) -> bool {
    spaced_share(page) >= DOUBLE_SPACED_SHARE
}

/// The share of the page's non-blank lines followed by a blank line (0 on a page of fewer than
/// [`DOUBLE_SPACED_MIN_LINES`]).
fn spaced_share(page: &[String]) -> f32 {
    let blank = |i: usize| page.get(i).is_none_or(|l| l.trim().is_empty());
    let texts: Vec<usize> = (0..page.len()).filter(|&i| !blank(i)).collect();
    if texts.len() < DOUBLE_SPACED_MIN_LINES {
        return 0.0;
    }
    let spaced = texts.iter().filter(|&&i| blank(i + 1)).count();
    spaced as f32 / texts.len() as f32
}

/// Drops each single blank line between two lines of text where the first runs at least half
/// the page's width and does not end a sentence: there it is line spacing (a paragraph ends
/// with its sentence; a caption's or heading's short lines keep their breaks). Runs of blank
/// lines stay.
fn drop_blanks_inside_sentences(page: &mut Vec<String>) {
    let blank = |l: &String| l.trim().is_empty();
    let width = page
        .iter()
        .map(|l| l.trim().chars().count())
        .max()
        .unwrap_or(0);
    let drop: HashSet<usize> = (1..page.len().saturating_sub(1))
        .filter(|&i| {
            blank(&page[i])
                && !blank(&page[i - 1])
                && !blank(&page[i + 1])
                && 2 * page[i - 1].trim().chars().count() >= width
                && !ends_sentence(&page[i - 1])
        })
        .collect();
    drop_lines(page, &drop);
}

/// Whether `line` ends with a sentence's (or a clause's) closing punctuation, closing quotes
/// and brackets aside.
fn ends_sentence(line: &str) -> bool {
    let end = line
        .trim_end()
        .trim_end_matches(['"', '\'', '”', '’', ')', ']', '*']);
    end.ends_with(['.', '?', '!', ':', ';'])
}

/// A line as compared across pages: without white space (extraction spaces the same line
/// differently on different pages), lowercased, every run of digits one `#` (page counters
/// differ from page to page).
fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in line.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Indices of the first and last [`EDGE_LINES`] non-blank lines of a page.
fn edge_lines(page: &[String]) -> Vec<usize> {
    let texts: Vec<usize> = (0..page.len())
        .filter(|&i| !page[i].trim().is_empty())
        .collect();
    let mut edges: Vec<usize> = texts.iter().take(EDGE_LINES).copied().collect();
    for &i in texts.iter().rev().take(EDGE_LINES) {
        if !edges.contains(&i) {
            edges.push(i);
        }
    }
    edges
}

/// Removes the stamps: lines that recur at the edges of at least half of the pages, differ
/// from page to page in their digits only, and are longer than a page number.
fn remove_repeated_edges(pages: &mut [Vec<String>]) {
    let with_text = pages.iter().filter(|p| non_blank(p) > 0).count();
    if with_text < MIN_PAGES {
        return;
    }
    let needed = MIN_PAGES.max(with_text.div_ceil(2));
    // Each page's edge lines with their shapes, found once.
    let edges: Vec<Vec<(usize, String)>> = pages
        .iter()
        .map(|page| {
            edge_lines(page)
                .into_iter()
                .map(|i| (i, shape(page[i].trim())))
                .collect()
        })
        .collect();
    // For each shape: the pages it stands at an edge of, and the exact lines it was seen as.
    let mut seen: HashMap<&str, (Vec<usize>, HashSet<String>)> = HashMap::new();
    for (p, (page, page_edges)) in pages.iter().zip(&edges).enumerate() {
        for (i, line_shape) in page_edges {
            let entry = seen.entry(line_shape.as_str()).or_default();
            if entry.0.last() != Some(&p) {
                entry.0.push(p);
            }
            entry
                .1
                .insert(page[*i].chars().filter(|c| !c.is_whitespace()).collect());
        }
    }
    let stamps: HashSet<&str> = seen
        .into_iter()
        .filter(|(s, (on, exact))| {
            on.len() >= needed && exact.len() > 1 && s.len() >= MIN_STAMP_BYTES
        })
        .map(|(s, _)| s)
        .collect();
    for (page, page_edges) in pages.iter_mut().zip(&edges) {
        let drop: HashSet<usize> = page_edges
            .iter()
            .filter(|(_, line_shape)| stamps.contains(line_shape.as_str()))
            .map(|(i, _)| *i)
            .collect();
        drop_lines(page, &drop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::PageStatus;

    fn pages(texts: &[String]) -> Vec<PdfPage> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| PdfPage {
                number: i as u32 + 1,
                text: t.clone(),
                status: PageStatus::Ok,
            })
            .collect()
    }

    /// A page of text unlike the other pages' (the words differ, not only the digits).
    fn body(page: usize) -> String {
        let topic = ["motion", "appeal", "remedy", "contract", "statute"][page - 1];
        format!(
            "The court considered the {topic} first, and the parties argued it at\nlength before the hearing on the {topic} ended.\nWhy the {topic} fails is said next."
        )
    }

    #[test]
    fn stamps_go_running_heads_and_page_numbers_stay() {
        let texts: Vec<String> = (1..=5)
            .map(|p| {
                format!(
                    "- {p} -\nGIFT SURPLUS, LLC V. STATE\nOpinion of the Court\n{}\nCase: 20-1507  Document: 00117684624  Page: {p}  Date Filed: 12/22/2020",
                    body(p)
                )
            })
            .collect();
        let mut pages = pages(&texts);
        let removed = remove_page_furniture(&mut pages);
        assert_eq!(removed, 5);
        for (i, page) in pages.iter().enumerate() {
            let head = format!(
                "- {} -\nGIFT SURPLUS, LLC V. STATE\nOpinion of the Court",
                i + 1
            );
            assert_eq!(page.text, format!("{head}\n{}", body(i + 1)));
        }
        assert!(pages.iter().all(|p| !p.text.contains("Case: 20-1507")));
    }

    #[test]
    fn pleading_line_numbers_and_double_spacing_are_removed() {
        let mut text = String::new();
        for n in 1..=27 {
            text.push_str(&format!("{n} \n\n"));
        }
        text.push_str("28 United States District Court Northern District of California\n");
        let lines = [
            "Plaintiff Finjan, Inc. brings this patent infringement lawsuit against",
            "Cisco Systems, Inc., alleging infringement of five patents directed to",
            "computer and network security. In preparation for trial, the parties",
            "submitted eight motions in limine. The Court held a final pretrial",
            "conference on April 30, 2020, and rules as follows.",
            "In its first motion, Finjan seeks to exclude discussion of all pending",
            "proceedings involving Finjan in other courts or before the Patent and",
            "Trademark Office, and of lawsuits involving patents not asserted here.",
        ];
        for l in lines {
            text.push_str(l);
            text.push_str(" \n\n");
        }
        let mut pages = pages(&[text]);
        remove_page_furniture(&mut pages);
        let got = &pages[0].text;
        assert!(!got.contains("\n\n"), "{got}");
        assert!(got.starts_with("United States District Court"), "{got}");
        assert!(got.contains("against\nCisco Systems"), "{got}");
        assert!(
            !got.lines().any(|l| l.trim().parse::<u32>().is_ok()),
            "{got}"
        );
    }

    #[test]
    fn a_double_spaced_body_with_single_spaced_footnotes_keeps_its_sentences_whole() {
        // The body double-spaced, a caption and a footnote single-spaced: under the share of
        // a double-spaced page, over that of a partly double-spaced one.
        let text = "United States Court of Appeals\nfor the Fifth Circuit\nNo. 21-50498\n\n\
             This case arises from a dispute involving a life insurance policy.\n\n\
             Appellant Vanessa St. Pierre claims that she properly acquired a dependent\n\n\
             life insurance policy on behalf of her deceased husband. Standard Insurance\n\n\
             Company (“Standard”) and Dearborn disagreed and moved to dismiss.\n\n\
             The district court dismissed her claims.\n\n\
             * Pursuant to 5th Circuit Rule 47.5, the court has determined that this\n\
             opinion should not be published and is not precedent except under the\n\
             limited circumstances set forth in 5th Circuit Rule 47.5.4.";
        let mut got = pages(&[text.into()]);
        remove_page_furniture(&mut got);
        let got = &got[0].text;
        assert!(
            got.contains(
                "acquired a dependent\nlife insurance policy on behalf of her deceased \
                 husband. Standard Insurance\nCompany (“Standard”)"
            ),
            "{got}"
        );
        // Blank lines after a sentence's end or a short line stay, single-spaced lines are
        // untouched.
        assert!(got.contains("insurance policy.\n\nAppellant"), "{got}");
        assert!(got.contains("No. 21-50498\n\nThis case"), "{got}");
        assert!(got.contains("determined that this\nopinion"), "{got}");
    }

    #[test]
    fn numbered_lists_paragraph_breaks_and_short_documents_are_left_alone() {
        let list: String = (1..=12)
            .map(|n| format!("{n} item number {n} of the schedule\n"))
            .collect();
        let prose =
            "First paragraph ends here.\n\nSecond paragraph, one line.\nAnd its second line.\n";
        let texts = vec![
            format!("Page one\n{list}{prose}"),
            "Page one\nMore text.".into(),
        ];
        let mut got = pages(&texts);
        assert_eq!(remove_page_furniture(&mut got), 0);
        assert_eq!(got[0].text, texts[0].trim_end_matches('\n'));
        assert_eq!(got[1].text, texts[1]);
    }

    #[test]
    fn a_citation_repeated_inside_the_pages_is_text() {
        // Like a stamp (on every page, only its digits differ), but in the middle of the page.
        let texts: Vec<String> = (1..=4)
            .map(|p| {
                let page = ["first", "second", "third", "fourth"][p - 1];
                let line = |k: usize| {
                    format!(
                        "The {page} page, line {}.",
                        ["one", "two", "three", "four"][k]
                    )
                };
                let edge: Vec<String> = (0..4).map(line).collect();
                format!(
                    "{}\nSee Hest, 366 N.C. at {p}.\n{}",
                    edge.join("\n"),
                    edge.join("\n")
                )
            })
            .collect();
        let mut got = pages(&texts);
        assert_eq!(remove_page_furniture(&mut got), 0);
        for (i, page) in got.iter().enumerate() {
            assert!(page
                .text
                .contains(&format!("\nSee Hest, 366 N.C. at {}.\n", i + 1)));
        }
    }
}
