#!/usr/bin/env python3
"""Render the bundled sample documents as PDFs.

Run by hand from the repository root (never by CI):

    /work/venv/bin/python scripts/make_sample_pdfs.py          # (re)write the PDFs
    /work/venv/bin/python scripts/make_sample_pdfs.py --check  # exit 1 if a committed PDF is stale

Inputs and outputs:

* ``sample-docs/the-keeper-of-tallow-point.txt`` -> ``sample-docs/the-keeper-of-tallow-point.pdf``
  (6 x 9 in book: title page, each chapter on a new page, "Page N of M" footers).
* ``scripts/sample_sources/cases/*.txt`` -> ``sample-docs/cases/<same stem>.pdf``
  (US Letter court papers). A form feed (``\\f``) in a source starts a new PDF page,
  so the PDF pages match the pages marked in the source.

Only the standard Type 1 fonts (Times, Courier) are used. They are not embedded, which
keeps every PDF small, and reportlab writes them with WinAnsi encoding, so text such as
"café", "§", "°" and "—" survives in the extracted text layer. ``rl_config.invariant``
makes the output byte-for-byte reproducible, which is what ``--check`` relies on.

Source conventions for the case files (plain UTF-8 text):

* blocks are separated by blank lines;
* a block of several lines (captions, signature blocks, deposition pages, tables) is
  kept line for line in Courier, because its layout carries meaning;
* a one-line block is a paragraph, wrapped and justified in Times; a slightly indented
  one is indented, one indented 8 or more spaces keeps its position in Courier, and a
  short all-capitals one is a centred bold heading.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config

rl_config.invariant = 1  # fixed dates and IDs: identical input gives identical bytes

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY  # noqa: E402
from reportlab.lib.pagesizes import LETTER  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import inch  # noqa: E402
from reportlab.pdfgen import canvas as rl_canvas  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    PageBreak,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
)

REPO = Path(__file__).resolve().parent.parent
BOOK_TXT = REPO / "sample-docs" / "the-keeper-of-tallow-point.txt"
BOOK_PDF = REPO / "sample-docs" / "the-keeper-of-tallow-point.pdf"
CASE_SOURCES = REPO / "scripts" / "sample_sources" / "cases"
CASE_PDF_DIR = REPO / "sample-docs" / "cases"

BOOK_PAGE_SIZE_PT = (6 * inch, 9 * inch)
CASE_NUMBER = "Case No. HCV-2023-04417"
AUTHOR = "rwkv-reader sample library (original fiction)"

# Widest Courier line that fits a Letter page at 9.5 pt inside 1 in margins: 468 pt / 5.7 pt.
MAX_COURIER_CHARS = 82


def numbered_canvas_class(footer_left: str, footer_on_first_page: bool):
    """Canvas that writes "Page N of M" footers once the total page count is known.

    Pages are buffered until save() so that M is available. N is always the physical
    page number (what a PDF reader and the extractor report), so a printed number never
    disagrees with the page an answer is cited on; the book's title page is counted as
    page 1 but left without a footer.
    """

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved_pages)
            for index, state in enumerate(self._saved_pages):
                self.__dict__.update(state)
                if index > 0 or footer_on_first_page:
                    self._draw_footer(index + 1, total)
                super().showPage()
            super().save()

        def _draw_footer(self, number: int, total: int) -> None:
            width, _height = self._pagesize
            self.setFont("Times-Roman", 9)
            self.drawString(0.75 * inch, 0.5 * inch, footer_left)
            self.drawRightString(width - 0.75 * inch, 0.5 * inch, f"Page {number} of {total}")

    return NumberedCanvas


# ---------------------------------------------------------------- the book


def book_title_case(title: str) -> str:
    """'THE KEEPER OF TALLOW POINT' -> 'The Keeper of Tallow Point'."""
    small = {"a", "an", "and", "at", "of", "on", "the", "to"}
    words = title.lower().split()
    return " ".join(w if i > 0 and w in small else w.capitalize() for i, w in enumerate(words))


def book_story(text: str) -> list:
    """Title page, then one chapter per page run; paragraphs are blank-line separated."""
    title_style = ParagraphStyle("title", fontName="Times-Bold", fontSize=24, leading=30, alignment=TA_CENTER)
    subtitle_style = ParagraphStyle("subtitle", fontName="Times-Italic", fontSize=14, leading=18, alignment=TA_CENTER)
    note_style = ParagraphStyle("note", fontName="Times-Roman", fontSize=10, leading=13, alignment=TA_CENTER)
    chapter_style = ParagraphStyle("chapter", fontName="Times-Bold", fontSize=15, leading=19, spaceAfter=18)
    body_style = ParagraphStyle(
        "body", fontName="Times-Roman", fontSize=11, leading=14.5, alignment=TA_JUSTIFY, firstLineIndent=14, spaceAfter=4
    )

    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    title, subtitle, *rest = blocks
    story: list = [
        Spacer(1, 2.2 * inch),
        Paragraph(escape(book_title_case(title)), title_style),
        Spacer(1, 0.25 * inch),
        Paragraph(escape(subtitle), subtitle_style),
        Spacer(1, 2.5 * inch),
        Paragraph("A work of fiction written for the rwkv-reader sample library.", note_style),
    ]
    for block in rest:
        paragraph = " ".join(block.split("\n"))
        if paragraph.startswith("Chapter "):
            story += [PageBreak(), Paragraph(escape(paragraph), chapter_style)]
        else:
            story.append(Paragraph(escape(paragraph), body_style))
    return story


def write_book(out_path: Path) -> None:
    text = BOOK_TXT.read_text(encoding="utf-8")
    doc = SimpleDocTemplate(
        str(out_path),
        pagesize=BOOK_PAGE_SIZE_PT,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.9 * inch,
        title="The Keeper of Tallow Point",
        author=AUTHOR,
        subject="A Port Ardley Mystery (original fiction)",
        pageCompression=1,
    )
    doc.build(book_story(text), canvasmaker=numbered_canvas_class("The Keeper of Tallow Point", footer_on_first_page=False))


# ---------------------------------------------------------------- the case files


def case_story(text: str, source_name: str) -> list:
    """Turn a case source into flowables; each form-feed-separated part starts a new page."""
    pre_style = ParagraphStyle("pre", fontName="Courier", fontSize=9.5, leading=11.5, spaceAfter=8)
    body_style = ParagraphStyle(
        "body", fontName="Times-Roman", fontSize=11, leading=14, alignment=TA_JUSTIFY, spaceAfter=7
    )
    indent_style = ParagraphStyle("indent", parent=body_style, leftIndent=28)
    heading_style = ParagraphStyle(
        "heading", fontName="Times-Bold", fontSize=11, leading=14, alignment=TA_CENTER, spaceBefore=4, spaceAfter=7
    )

    story: list = []
    for page_index, page in enumerate(text.split("\f")):
        if page_index > 0:
            story.append(PageBreak())
        for block in page.strip("\n").split("\n\n"):
            lines = block.rstrip().split("\n")
            if not block.strip():
                continue
            if len(lines) > 1:
                too_wide = [line for line in lines if len(line) > MAX_COURIER_CHARS]
                if too_wide:
                    raise SystemExit(f"{source_name}: line too wide for the page: {too_wide[0]!r}")
                story.append(Preformatted(block.rstrip(), pre_style))
                continue
            line = lines[0]
            stripped = line.strip()
            if len(line) - len(line.lstrip(" ")) >= 8:
                # deeply indented lone line (a transcript page number): keep its position
                story.append(Preformatted(line.rstrip(), pre_style))
            elif stripped.isupper() and len(stripped) <= 80:
                story.append(Paragraph(escape(stripped), heading_style))
            elif line.startswith(" "):
                story.append(Paragraph(escape(stripped), indent_style))
            else:
                story.append(Paragraph(escape(stripped), body_style))
    return story


# PDF metadata titles; a source not listed here gets a title made from its file name.
CASE_TITLES = {
    "exhibit-a-lease-excerpt": "Exhibit A to Complaint: Excerpt of Cold Storage Lease Agreement (March 1, 2019)",
    "motion-to-dismiss": "Defendant's Motion to Dismiss Counts II and III (October 16, 2023)",
    "deposition-excerpt-okafor": "Deposition of Raymond Okafor, Excerpt (April 18, 2024)",
    "opinion-and-order": "Opinion and Order on Cross-Motions for Summary Judgment (September 30, 2024)",
}


def document_title(stem: str) -> str:
    return CASE_TITLES.get(stem, stem.replace("-", " ").capitalize())


def write_case(source: Path, out_path: Path) -> None:
    text = source.read_text(encoding="utf-8")
    doc = SimpleDocTemplate(
        str(out_path),
        pagesize=LETTER,
        leftMargin=inch,
        rightMargin=inch,
        topMargin=0.9 * inch,
        bottomMargin=0.9 * inch,
        title=document_title(source.stem),
        author=AUTHOR,
        subject=f"Carrow Bay Fishermen's Cooperative, Inc. v. Meridian Cold Storage, LLC, {CASE_NUMBER} (fictional)",
        pageCompression=1,
    )
    footer = f"Carrow Bay Fishermen's Coop. v. Meridian Cold Storage — {CASE_NUMBER}"
    doc.build(case_story(text, source.name), canvasmaker=numbered_canvas_class(footer, footer_on_first_page=True))
    # A source page that overflows would shift every later page; the form feeds are meant
    # to be the page breaks, so insist on one PDF page per source page.
    source_pages = text.count("\f") + 1
    if doc.page != source_pages:
        raise SystemExit(f"{source.name}: {source_pages} pages marked but {doc.page} rendered; a page overflows")


# ---------------------------------------------------------------- driver


def targets() -> list[tuple[str, callable, Path]]:
    """(output name relative to the repo, writer taking an output path, committed path)."""
    jobs = [(str(BOOK_PDF.relative_to(REPO)), write_book, BOOK_PDF)]
    for source in sorted(CASE_SOURCES.glob("*.txt")):
        out = CASE_PDF_DIR / f"{source.stem}.pdf"
        jobs.append((str(out.relative_to(REPO)), lambda path, src=source: write_case(src, path), out))
    return jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed PDFs instead of writing")
    args = parser.parse_args()

    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, writer, committed in targets():
            if args.check:
                fresh = Path(scratch) / committed.name
                writer(fresh)
                if not committed.exists() or committed.read_bytes() != fresh.read_bytes():
                    stale.append(name)
            else:
                writer(committed)
                print(f"wrote {name} ({committed.stat().st_size // 1024} KiB)")
    if stale:
        print("stale PDFs (rerun without --check):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
