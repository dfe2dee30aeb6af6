//! From a discovered file to one UTF-8 text with page spans: the form every later stage works on.

use crate::decode::{decode_text, TextEncoding};
use crate::discover::{DiscoveredFile, DocumentKind};
use crate::gutenberg::{gutenberg_body, gutenberg_title};
use crate::html::html_to_text;
use crate::hyphenation::join_broken_words;
use crate::pdf::{extract_pdf_reporting, remove_page_furniture, PageStatus, PdfError, PdfOptions};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// Where a page lies in the extracted text, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSpan {
    /// 1-based page number.
    pub number: u32,
    /// Start of the page's text (byte offset into the document text).
    pub byte_start: u64,
    /// End of the page's text (exclusive). Equal to `byte_start` for pages without usable text.
    pub byte_end: u64,
    /// Extraction status (always ok for text files).
    pub status: PageStatus,
}

/// A document's text as the library stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedDocument {
    /// The text, `\n` line ends, pages separated by a blank line.
    pub text: String,
    /// Pages in order. Text files have one page, or one per form feed (`\x0c`) if they have any.
    pub pages: Vec<PageSpan>,
    /// The detected encoding for text-like files; `None` for PDFs.
    pub encoding: Option<TextEncoding>,
    /// `<title>` of an HTML file.
    pub html_title: Option<String>,
    /// The work's title and author where the file's own header gives them (a Project
    /// Gutenberg book), for the reader.
    pub work_title: Option<String>,
    /// Problems that did not stop the document (pages without text, failed pages).
    pub warnings: Vec<String>,
}

/// Why a file yields no document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// A `.txt`/`.md`/`.html` file whose content is binary.
    #[error("{0}")]
    Binary(String),
    /// A PDF-level problem (encrypted, unreadable, no pages).
    #[error("{0}")]
    Pdf(#[from] PdfError),
    /// No usable text at all (empty file, or no page with a text layer).
    #[error("{0}")]
    NoText(String),
}

/// Extracts `file`'s text. PDFs go through a worker process configured by `pdf`, stopped early
/// (with [`PdfError::Cancelled`]) when `cancel` is set.
#[cfg(test)]
fn extract_document(
    file: &DiscoveredFile,
    pdf: &PdfOptions,
    cancel: &AtomicBool,
) -> Result<ExtractedDocument, ExtractError> {
    extract_document_reporting(file, pdf, cancel, &mut |_, _| {})
}

/// Extracts `file`'s text (see `extract_document`), telling `on_page` each PDF page as it is extracted (its number and
/// the page count).
pub fn extract_document_reporting(
    file: &DiscoveredFile,
    pdf: &PdfOptions,
    cancel: &AtomicBool,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<ExtractedDocument, ExtractError> {
    let doc = match file.kind {
        DocumentKind::Pdf => extract_pdf_document(file, pdf, cancel, on_page)?,
        DocumentKind::Text | DocumentKind::Markdown | DocumentKind::Html => {
            let bytes = std::fs::read(&file.path).map_err(|e| ExtractError::Io(e.to_string()))?;
            let decoded = decode_text(&bytes).map_err(|e| ExtractError::Binary(e.to_string()))?;
            let (mut text, title) = if file.kind == DocumentKind::Html {
                let html = html_to_text(&decoded.text);
                (html.text, html.title)
            } else {
                (decoded.text, None)
            };
            // A Project Gutenberg book without the header and licence around it.
            let mut work_title = None;
            if let Some(body) = gutenberg_body(&text) {
                work_title = gutenberg_title(&text[..body.start]);
                text = text[body].to_string();
            }
            join_broken_words(&mut [&mut text], &in_word_list);
            ExtractedDocument {
                pages: pages_by_form_feed(&text),
                text,
                encoding: Some(decoded.encoding),
                html_title: title,
                work_title,
                warnings: Vec::new(),
            }
        }
    };
    if doc.text.trim().is_empty() {
        return Err(ExtractError::NoText(no_text_reason(file, &doc)));
    }
    Ok(doc)
}

fn no_text_reason(file: &DiscoveredFile, doc: &ExtractedDocument) -> String {
    if file.kind != DocumentKind::Pdf {
        return if file.size_bytes == 0 {
            "empty file".into()
        } else {
            "no text in the file".into()
        };
    }
    let n = doc.pages.len();
    let scanned = doc
        .pages
        .iter()
        .filter(|p| p.status == PageStatus::NoTextLayer { has_images: true })
        .count();
    if scanned > 0
        && doc
            .pages
            .iter()
            .all(|p| matches!(p.status, PageStatus::NoTextLayer { .. }))
    {
        return format!("no text layer on any of its {n} pages: a scanned PDF (needs OCR)");
    }
    match doc.pages.iter().find(|p| !p.status.is_ok()) {
        Some(first) => format!(
            "no usable text on any of its {n} pages (page {}: {})",
            first.number,
            first.status.describe()
        ),
        None => format!("no text on any of its {n} pages"),
    }
}

/// Whether the bundled word list (the word pieces of the meaning table) holds `word` whole.
fn in_word_list(word: &str) -> bool {
    crate::semantic::bundled().is_ok_and(|table| table.id(word).is_some())
}

/// Splits at form feeds (`\x0c`), the page separator of `pdftotext` output and of many
/// court-record text dumps.
fn pages_by_form_feed(text: &str) -> Vec<PageSpan> {
    let mut pages = Vec::new();
    let mut start = 0usize;
    for (i, piece) in text.split('\x0c').enumerate() {
        let end = start + piece.len();
        pages.push(PageSpan {
            number: i as u32 + 1,
            byte_start: start as u64,
            byte_end: end as u64,
            status: PageStatus::Ok,
        });
        start = end + 1;
    }
    // A trailing form feed ends the last page; it does not start an empty one.
    if pages.len() > 1 && text.ends_with('\x0c') {
        pages.pop();
    }
    pages
}

fn extract_pdf_document(
    file: &DiscoveredFile,
    options: &PdfOptions,
    cancel: &AtomicBool,
    on_page: &mut dyn FnMut(u32, u32),
) -> Result<ExtractedDocument, ExtractError> {
    let mut pages = extract_pdf_reporting(&file.path, options, cancel, on_page)?;
    remove_page_furniture(&mut pages);
    // Joined within each page only: a word broken across a page turn stays broken, so that
    // every page keeps its own text.
    let mut texts: Vec<&mut String> = pages.iter_mut().map(|p| &mut p.text).collect();
    join_broken_words(&mut texts, &in_word_list);
    let mut text = String::new();
    let mut spans = Vec::with_capacity(pages.len());
    let mut warnings = Vec::new();
    for page in pages {
        let body = page.text.trim();
        let start = if body.is_empty() {
            text.len()
        } else {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            let start = text.len();
            text.push_str(body);
            start
        };
        if !page.status.is_ok() {
            warnings.push(format!("page {}: {}", page.number, page.status.describe()));
        }
        spans.push(PageSpan {
            number: page.number,
            byte_start: start as u64,
            byte_end: text.len() as u64,
            status: page.status,
        });
    }
    if !text.is_empty() {
        text.push('\n');
    }
    Ok(ExtractedDocument {
        text,
        pages: spans,
        encoding: None,
        html_title: None,
        work_title: None,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_feeds_make_pages_with_exact_byte_spans() {
        let text = "one\x0ctwo two\x0cthree\x0c";
        let pages = pages_by_form_feed(text);
        assert_eq!(pages.len(), 3);
        let spans: Vec<&str> = pages
            .iter()
            .map(|p| &text[p.byte_start as usize..p.byte_end as usize])
            .collect();
        assert_eq!(spans, ["one", "two two", "three"]);
        assert_eq!(pages_by_form_feed("no breaks").len(), 1);
    }

    #[test]
    fn text_file_in_latin1_is_extracted_as_one_page() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ruling.txt");
        std::fs::write(&path, b"Le juge a d\xe9cid\xe9.\r\n").unwrap();
        let file = DiscoveredFile {
            path,
            kind: DocumentKind::Text,
            size_bytes: 18,
        };
        let doc = extract_document(&file, &PdfOptions::default(), &AtomicBool::new(false)).unwrap();
        assert_eq!(doc.text, "Le juge a décidé.\n");
        assert_eq!(doc.encoding, Some(TextEncoding::Windows1252));
        assert_eq!(doc.pages.len(), 1);
    }

    #[test]
    fn a_project_gutenberg_book_is_extracted_without_header_and_licence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pg84.txt");
        let bytes = "The Project Gutenberg eBook of Frankenstein\r\n\r\n\
             Title: Frankenstein\r\n\r\nAuthor: Mary Wollstonecraft Shelley\r\n\r\n\
             *** START OF THE PROJECT GUTENBERG EBOOK FRANKENSTEIN ***\r\n\r\n\
             Letter 1\r\n\r\nYou will rejoice to hear.\r\n\r\n\
             *** END OF THE PROJECT GUTENBERG EBOOK FRANKENSTEIN ***\r\n\r\n\
             Section 1. General Terms of Use\r\n";
        std::fs::write(&path, bytes).unwrap();
        let file = DiscoveredFile {
            path,
            kind: DocumentKind::Text,
            size_bytes: bytes.len() as u64,
        };
        let doc = extract_document(&file, &PdfOptions::default(), &AtomicBool::new(false)).unwrap();
        assert_eq!(doc.text, "Letter 1\n\nYou will rejoice to hear.");
        assert_eq!(
            doc.work_title.as_deref(),
            Some("Frankenstein, by Mary Wollstonecraft Shelley")
        );
        assert_eq!(doc.pages.len(), 1);
        assert_eq!(doc.pages[0].byte_end, doc.text.len() as u64);
    }

    #[test]
    fn a_typeset_opinions_broken_words_are_joined_and_its_compounds_kept() {
        // A D.C. Circuit opinion as text, hyphenated at line ends like its printed copy.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../eval/retrieval/docs/dccir-ideal-electronic-v-ific-1997.txt");
        let file = DiscoveredFile {
            size_bytes: std::fs::metadata(&path).unwrap().len(),
            path,
            kind: DocumentKind::Text,
        };
        let doc = extract_document(&file, &PdfOptions::default(), &AtomicBool::new(false)).unwrap();
        let flat = doc.text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("appellee International Fidelity"),
            "a word written whole elsewhere"
        );
        assert!(flat.contains("the District of Columbia."));
        assert!(flat.contains("resolved by the fact- finder"), "a compound");
        assert!(flat.contains("in an attorney- client"), "a compound");
        assert!(!flat.contains("Interna- tional"));
    }

    #[test]
    fn empty_and_binary_text_files_fail_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, b"").unwrap();
        let file = DiscoveredFile {
            path: empty,
            kind: DocumentKind::Text,
            size_bytes: 0,
        };
        assert_eq!(
            extract_document(&file, &PdfOptions::default(), &AtomicBool::new(false)),
            Err(ExtractError::NoText("empty file".into()))
        );
        let bin = dir.path().join("bin.txt");
        std::fs::write(&bin, b"\x7fELF\x00\x00").unwrap();
        let file = DiscoveredFile {
            path: bin,
            kind: DocumentKind::Text,
            size_bytes: 6,
        };
        assert!(matches!(
            extract_document(&file, &PdfOptions::default(), &AtomicBool::new(false)),
            Err(ExtractError::Binary(_))
        ));
    }
}
