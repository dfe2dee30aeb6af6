#!/usr/bin/env python3
"""Checks a retrieval question set (JSON Lines) against the documents it is about.

For every line it checks that:

* the line is a JSON object with the fields the benchmark reads (id, doc, question,
  keywords, passage, tags) and, for PDFs, a 1-based page; ids are unique;
* the document exists and its text can be read (PDFs through `pdftotext`, or pypdf when
  poppler is missing: the text layer must be there);
* `passage` occurs verbatim in the document's text once runs of whitespace are collapsed
  (line breaks, pleading-paper line numbers and ECF headers are part of the extracted text,
  so a passage copied from it keeps them);
* for a PDF, the passage starts on the page given (or runs over from it onto the next);
* every keyword occurs in the passage (ignoring case and curly against straight quotes,
  as the benchmark does);
* tags come from the agreed vocabulary.

It also counts the places in the document where all of a question's keywords occur within
WINDOW_CHARS of each other. One place means the keywords identify the answer; more means a
retrieved passage elsewhere could be counted as a hit. Those are reported, and with
--strict they fail the run.

Usage:
    python3 eval/retrieval/check_questions.py eval/retrieval/questions.jsonl
    python3 eval/retrieval/check_questions.py eval/retrieval/sample-questions.jsonl
    python3 eval/retrieval/check_questions.py FILE --docs DIR [--strict] [--verbose]

Without --docs, questions.jsonl is checked against eval/retrieval/docs/ and
sample-questions.jsonl against the repository's sample-docs/. Exits 1 if any line is
broken, 0 otherwise (a summary of tags and documents is printed either way).
"""

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

# How close (in characters of whitespace-collapsed text) all keywords must be to count as
# one place: about one retrieval passage.
WINDOW_CHARS = 1500

ALLOWED_TAGS = {
    "name", "number", "date", "list", "start", "middle", "end", "paraphrase",
    "boundary", "caption", "definition", "holding",
}
REQUIRED_FIELDS = ("id", "doc", "question", "keywords", "passage", "tags")

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent


def collapse_whitespace(text):
    """Runs of whitespace (spaces, tabs, line ends, form feeds) become one space."""
    return re.sub(r"\s+", " ", text).strip()


def fold_for_keywords(text):
    """Lower case with curly quotes made straight: how the benchmark compares keywords."""
    return (text.lower().replace("\u2018", "'").replace("\u2019", "'")
            .replace("\u201c", '"').replace("\u201d", '"'))


def decode_text_file(raw):
    """UTF-8, or Windows-1252 for legacy files (the sample case files include one)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def pdf_pages(path):
    """The text of each page of a PDF, in order."""
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            check=True, capture_output=True,
        ).stdout.decode("utf-8", errors="replace")
        pages = out.split("\f")
        if pages and not pages[-1].strip():
            pages.pop()
        return pages
    try:
        from pypdf import PdfReader
    except ImportError:
        sys.exit("check_questions: reading PDFs needs pdftotext (poppler-utils) or pypdf")
    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


class Document:
    """A document's whitespace-collapsed text, with the page boundaries of a PDF."""

    def __init__(self, path):
        self.path = path
        self.is_pdf = path.suffix.lower() == ".pdf"
        if self.is_pdf:
            self.pages = [collapse_whitespace(p) for p in pdf_pages(path)]
            self.text = " ".join(self.pages)
            self.page_starts = []
            at = 0
            for page in self.pages:
                self.page_starts.append(at)
                at += len(page) + 1
        else:
            self.pages = None
            self.text = collapse_whitespace(decode_text_file(path.read_bytes()))
        self.folded = fold_for_keywords(self.text)

    def page_of(self, offset):
        """1-based page holding character `offset` of the collapsed text."""
        page = 1
        for number, start in enumerate(self.page_starts, start=1):
            if start <= offset:
                page = number
        return page


def keyword_places(doc, keywords):
    """Positions where all keywords occur within WINDOW_CHARS, merged into places."""
    occurrences = [
        [m.start() for m in re.finditer(re.escape(fold_for_keywords(k)), doc.folded)]
        for k in keywords
    ]
    if any(not occ for occ in occurrences):
        return []
    rarest = min(occurrences, key=len)
    hits = []
    for pos in rarest:
        if all(any(abs(p - pos) <= WINDOW_CHARS for p in occ) for occ in occurrences):
            hits.append(pos)
    places = []
    for pos in hits:
        if places and pos - places[-1][-1] <= WINDOW_CHARS:
            places[-1].append(pos)
        else:
            places.append([pos])
    return [group[0] for group in places]


def check_line(number, line, docs_dir, cache, seen_ids):
    """Returns (record or None, errors, warnings) for one line of the file."""
    errors, warnings = [], []
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return None, [f"not JSON: {err}"], warnings
    if not isinstance(record, dict):
        return None, ["not a JSON object"], warnings
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        return None, [f"missing field(s): {', '.join(missing)}"], warnings
    qid = record["id"]
    if qid in seen_ids:
        errors.append(f"duplicate id {qid!r} (first on line {seen_ids[qid]})")
    seen_ids.setdefault(qid, number)
    for field in ("id", "doc", "question", "passage"):
        if not isinstance(record[field], str) or not record[field].strip():
            errors.append(f"{field} must be a non-empty string")
    keywords = record["keywords"]
    if (not isinstance(keywords, list) or not 1 <= len(keywords) <= 3
            or not all(isinstance(k, str) and k.strip() for k in keywords)):
        errors.append("keywords must be a list of 1-3 non-empty strings")
        keywords = []
    tags = record["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append("tags must be a list of strings")
        tags = []
    unknown = sorted(set(tags) - ALLOWED_TAGS)
    if unknown:
        errors.append(f"unknown tag(s): {', '.join(unknown)}")
    if errors:
        return record, errors, warnings

    path = docs_dir / record["doc"]
    if not path.is_file():
        return record, [f"no such document: {path}"], warnings
    if path not in cache:
        cache[path] = Document(path)
    doc = cache[path]

    passage = collapse_whitespace(record["passage"])
    found_at = doc.text.find(passage)
    if found_at < 0:
        errors.append("passage not found verbatim in the document's text")
    passage_folded = fold_for_keywords(passage)
    for keyword in keywords:
        if fold_for_keywords(keyword) not in passage_folded:
            errors.append(f"keyword {keyword!r} not in the passage")

    page = record.get("page")
    if doc.is_pdf:
        if not isinstance(page, int) or page < 1:
            errors.append("a PDF question needs a 1-based integer page")
        elif page > len(doc.pages):
            errors.append(f"page {page} but the PDF has {len(doc.pages)} pages")
        elif found_at >= 0 and doc.page_of(found_at) != page:
            errors.append(f"passage starts on page {doc.page_of(found_at)}, not {page}")
    elif page is not None:
        errors.append("page is only for PDFs")

    if not errors:
        places = keyword_places(doc, keywords)
        record["_places"] = len(places)
        if len(places) > 1:
            warnings.append(
                f"keywords {keywords} co-occur in {len(places)} places (within "
                f"{WINDOW_CHARS} chars); the answer's is one of them"
            )
    return record, errors, warnings


def default_docs_dir(questions_path):
    if questions_path.name.startswith("sample"):
        return REPO_ROOT / "sample-docs"
    return questions_path.resolve().parent / "docs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path, help="JSON Lines file of questions")
    parser.add_argument("--docs", type=Path, help="folder the `doc` fields are relative to")
    parser.add_argument("--strict", action="store_true",
                        help="also fail when keywords co-occur in more than one place")
    parser.add_argument("--verbose", action="store_true", help="print every warning")
    args = parser.parse_args()
    docs_dir = args.docs or default_docs_dir(args.questions)

    cache, seen_ids = {}, {}
    broken = ambiguous = 0
    records = []
    with args.questions.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record, errors, warnings = check_line(number, line, docs_dir, cache, seen_ids)
            label = f"{args.questions.name}:{number}"
            if record is not None and isinstance(record.get("id"), str):
                label += f" ({record['id']})"
            for err in errors:
                print(f"ERROR {label}: {err}")
            if errors:
                broken += 1
            if warnings:
                ambiguous += 1
                if args.verbose or args.strict:
                    for warn in warnings:
                        print(f"WARN  {label}: {warn}")
            if record is not None:
                records.append(record)

    by_doc = collections.Counter(r["doc"] for r in records)
    by_tag = collections.Counter(t for r in records for t in r.get("tags", []))
    print(f"{len(records)} questions over {len(by_doc)} documents ({docs_dir})")
    for doc_name, count in sorted(by_doc.items()):
        print(f"  {count:4d}  {doc_name}")
    print("tags: " + ", ".join(f"{t} {c}" for t, c in sorted(by_tag.items())))
    unique = sum(1 for r in records if r.get("_places") == 1)
    print(f"keywords in exactly one place: {unique}; in more than one: {ambiguous}; "
          f"broken lines: {broken}")
    if broken or (args.strict and ambiguous):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
