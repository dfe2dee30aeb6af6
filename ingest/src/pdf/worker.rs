//! The child side of PDF extraction: runs inside `rwkv-reader __extract-pdf FILE [--first-page N]`
//! and streams each page as soon as it is extracted. pdf-extract may panic (caught per page), hang
//! or abort (the parent's timeout and signal handling cover those).

use super::protocol::{write_frame, Frame};
use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::FromRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// Exit code when the command line is wrong.
const EXIT_USAGE: i32 = 2;
/// Exit code when the protocol stream could not be written (parent gone).
const EXIT_IO: i32 = 3;

/// Runs the extraction worker and exits the process if `args` (the whole command line) asks for
/// it (`BINARY __extract-pdf …`); returns otherwise. Every binary that ingests PDFs calls this
/// first thing in `main`: ingestion re-executes the binary for each PDF, and the worker owns
/// stdout (its protocol stream) before anything else may write there.
pub fn run_worker_if_asked(args: &[OsString]) {
    if args.get(1).is_some_and(|a| a == super::WORKER_SUBCOMMAND) {
        std::process::exit(worker_main(args.get(2..).unwrap_or_default()));
    }
}

/// Entry point of the hidden worker subcommand. `args` are the arguments after the subcommand
/// name: `FILE [--first-page N]`. Returns the process exit code (0 when all frames were sent, even
/// if pages failed: failures travel in the stream).
pub fn worker_main(args: &[OsString]) -> i32 {
    let Some((path, first_page)) = parse_args(args) else {
        eprintln!("usage: {} FILE [--first-page N]", super::WORKER_SUBCOMMAND);
        return EXIT_USAGE;
    };
    let out = match protocol_output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("pdf worker: cannot set up output: {e}");
            return EXIT_IO;
        }
    };
    // Panics are reported as frames; the default hook would only add noise to stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut out = io::BufWriter::new(out);
    match extract_all(&path, first_page, &mut out) {
        Ok(()) => 0,
        Err(_) => EXIT_IO,
    }
}

fn parse_args(args: &[OsString]) -> Option<(PathBuf, u32)> {
    let mut path = None;
    let mut first_page = 1u32;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--first-page" {
            first_page = it.next()?.to_str()?.parse().ok().filter(|&n| n >= 1)?;
        } else if path.is_none() {
            path = Some(PathBuf::from(arg));
        } else {
            return None;
        }
    }
    Some((path?, first_page))
}

/// Moves the real stdout to a private descriptor for the protocol and points fd 1 at stderr, so
/// that anything a library prints cannot corrupt the frame stream.
fn protocol_output() -> io::Result<std::fs::File> {
    // SAFETY: plain descriptor calls on descriptors this process owns; nothing has written to
    // stdout yet, so no buffered output is lost.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(std::fs::File::from_raw_fd(fd))
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// What a user is told about a PDF that cannot be opened without its password.
const NEEDS_PASSWORD: &str = "encrypted: needs a password (the empty password does not open it)";

/// Whether the loaded document is still encrypted: it has an /Encrypt entry the loader did not
/// remove (the loader removes it once it has decrypted every object).
fn still_encrypted(doc: &pdf_extract::Document) -> bool {
    doc.is_encrypted() || doc.trailer.get(b"Encrypt").is_ok()
}

fn is_password_error(err: &pdf_extract::Error) -> bool {
    matches!(err, pdf_extract::Error::Decryption(_))
        || err.to_string().to_lowercase().contains("password")
}

fn extract_all(path: &std::path::Path, first_page: u32, out: &mut dyn Write) -> io::Result<()> {
    let loaded = catch_unwind(|| pdf_extract::Document::load(path));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) if is_password_error(&e) => {
            return write_frame(out, &Frame::Encrypted(format!("{NEEDS_PASSWORD}: {e}")))
        }
        Ok(Err(e)) => {
            return write_frame(out, &Frame::Unreadable(format!("not a readable PDF: {e}")))
        }
        Err(p) => {
            let msg = panic_message(p.as_ref());
            return write_frame(
                out,
                &Frame::Unreadable(format!("PDF parser panicked: {msg}")),
            );
        }
    };
    if still_encrypted(&doc) {
        // Files with only an owner password open with the empty user password. The loader tries
        // it already; a document it could not open keeps its /Encrypt entry and no objects, so
        // without this check it would read as "a PDF with no pages".
        let decrypted = catch_unwind(AssertUnwindSafe(|| doc.decrypt("")));
        if !matches!(decrypted, Ok(Ok(()))) || still_encrypted(&doc) {
            return write_frame(out, &Frame::Encrypted(NEEDS_PASSWORD.into()));
        }
    }
    let pages = match catch_unwind(AssertUnwindSafe(|| doc.get_pages())) {
        Ok(pages) => pages,
        Err(p) => {
            let msg = panic_message(p.as_ref());
            return write_frame(
                out,
                &Frame::Unreadable(format!("page tree unreadable: {msg}")),
            );
        }
    };
    write_frame(out, &Frame::PageCount(pages.len() as u32))?;
    for (&number, &page_id) in pages.range(first_page..) {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut text = String::new();
            {
                let mut output = pdf_extract::PlainTextOutput::new(&mut text);
                pdf_extract::output_doc_page(&doc, &mut output, number)?;
            }
            Ok::<_, pdf_extract::OutputError>(text)
        }));
        let frame = match result {
            Ok(Ok(text)) => {
                let (has_images, missing_unicode_map) = page_resources(&doc, page_id);
                Frame::Page {
                    number,
                    has_images,
                    missing_unicode_map,
                    text,
                }
            }
            Ok(Err(e)) => Frame::PageFailed {
                number,
                reason: format!("extraction error: {e}"),
            },
            Err(p) => Frame::PageFailed {
                number,
                reason: format!("extractor panicked: {}", panic_message(p.as_ref())),
            },
        };
        write_frame(out, &frame)?;
    }
    write_frame(out, &Frame::Done)
}

/// (draws images, has a composite font without ToUnicode): hints for classifying an empty or odd
/// page as a scan or as garbage.
fn page_resources(doc: &pdf_extract::Document, page_id: pdf_extract::ObjectId) -> (bool, bool) {
    catch_unwind(AssertUnwindSafe(|| {
        let has_images = doc
            .get_page_images(page_id)
            .map(|images| !images.is_empty())
            .unwrap_or(false);
        let missing_map = doc.get_page_fonts(page_id).is_ok_and(|fonts| {
            fonts.values().any(|font| {
                let subtype = font.get(b"Subtype").and_then(|o| o.as_name()).ok();
                subtype == Some(b"Type0".as_slice()) && font.get(b"ToUnicode").is_err()
            })
        });
        (has_images, missing_map)
    }))
    .unwrap_or((false, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_and_first_page() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            parse_args(&a(&["x.pdf"])),
            Some((PathBuf::from("x.pdf"), 1))
        );
        assert_eq!(
            parse_args(&a(&["x.pdf", "--first-page", "7"])),
            Some((PathBuf::from("x.pdf"), 7))
        );
        assert_eq!(parse_args(&a(&["x.pdf", "--first-page", "0"])), None);
        assert_eq!(parse_args(&a(&[])), None);
        assert_eq!(parse_args(&a(&["a", "b"])), None);
    }
}
