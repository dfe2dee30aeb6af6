//! Page furniture on real court papers (`eval/retrieval/docs/` and `eval/retrieval/heldout/docs/`,
//! public domain): a federal district court order on pleading paper with an ECF stamp on every
//! page, a federal appellate opinion with a stamp and a page number on every page, and one
//! double-spaced but for its caption and footnotes. Stamps, margin numbers and double spacing
//! go; their text, their pages, page numbers and running heads stay.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test, with its location

mod common;

use ingest::{extract_pdf, remove_page_furniture, PdfPage};
use std::path::PathBuf;

fn court_paper(name: &str) -> (Vec<PdfPage>, Vec<PdfPage>) {
    paper_in("eval/retrieval/docs", name)
}

fn paper_in(folder: &str, name: &str) -> (Vec<PdfPage>, Vec<PdfPage>) {
    let path: PathBuf = common::repo_root().join(folder).join(name);
    let raw = extract_pdf(&path, &common::test_options().pdf).unwrap();
    let mut clean = raw.clone();
    remove_page_furniture(&mut clean);
    (raw, clean)
}

fn all_text(pages: &[PdfPage]) -> String {
    pages
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[test]
fn a_pleading_paper_order_loses_its_stamps_line_numbers_and_double_spacing() {
    let (raw, clean) = court_paper("ndcal-finjan-v-cisco-motions-in-limine-2020.pdf");
    assert_eq!(clean.len(), 20);
    assert_eq!(
        raw.iter()
            .filter(|p| p.text.contains("Document 660"))
            .count(),
        20
    );
    let text = all_text(&clean);
    assert!(!text.contains("Document 660"), "an ECF stamp is left");
    // The side bar of every page, the same on each, is a running head: it stays, cut from the
    // margin's last number ("28United States District Court…" on some pages).
    let side_bar = text
        .lines()
        .filter(|l| {
            l.replace(' ', "")
                .starts_with("UnitedStatesDistrictCourtNorthern")
        })
        .count();
    assert_eq!(side_bar, 20);
    for page in &clean {
        // No margin numbers: no two successive lines hold only n and n + 1 (the page's own
        // number and a footnote mark may stand alone).
        let numbers: Vec<Option<u32>> = page.text.lines().map(|l| l.trim().parse().ok()).collect();
        let counting = numbers
            .windows(2)
            .any(|w| matches!(w, [Some(a), Some(b)] if *b == a + 1));
        assert!(!counting, "page {} keeps margin numbers", page.number);
        assert!(
            !page.text.contains("\n\n"),
            "page {} is still double-spaced",
            page.number
        );
    }
    // A sentence over two lines is one paragraph again; the answers' words are all there.
    assert!(text.contains("lawsuit against Defendant\nCisco Systems"));
    for words in [
        "perceive Finjan negatively",
        "no final decision",
        "8,677,494",
    ] {
        assert!(text.contains(words), "{words:?} lost");
    }
}

#[test]
fn an_appellate_opinion_loses_its_stamps_and_keeps_its_page_numbers() {
    let (raw, clean) = court_paper("ca1-calvary-chapel-v-mills-2020.pdf");
    assert_eq!(clean.len(), raw.len());
    assert!(raw.iter().all(|p| p.text.contains("Date Filed")));
    let text = all_text(&clean);
    assert!(!text.contains("Date Filed"), "an ECF stamp is left");
    assert!(
        clean[2].text.starts_with("- 3 -"),
        "{}",
        &clean[2].text[..40]
    );
    for words in ["Nancy Torresen", "Liberty Counsel", "bear their own costs"] {
        assert!(text.contains(words), "{words:?} lost");
    }
}

#[test]
fn a_double_spaced_opinion_with_single_spaced_footnotes_keeps_its_sentences_whole() {
    let (raw, clean) = paper_in(
        "eval/retrieval/heldout/docs",
        "ca5-st-pierre-v-standard-insurance-2022.pdf",
    );
    assert_eq!(clean.len(), raw.len());
    // Page 1: the caption and a footnote single-spaced, the body double-spaced.
    let trimmed = |t: &str| t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    assert!(trimmed(&raw[0].text).contains("acquired a dependent\n\nlife insurance policy"));
    let first = &clean[0].text;
    assert!(
        first.contains(
            "acquired a dependent\nlife insurance policy on behalf of her deceased husband."
        ),
        "{first}"
    );
    // A paragraph's end and the caption's short lines keep their breaks.
    assert!(
        first.contains("life insurance policy.\n\nAppellant"),
        "{first}"
    );
    assert!(first.contains("No. 21-50498\n\n"), "{first}");
}
