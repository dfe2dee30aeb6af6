#!/usr/bin/env python3
"""Writes the hostile-document test folder: ingest/tests/fixtures/hostile/.

Run by hand (never by CI) from the repository root:  /work/venv/bin/python scripts/make_hostile_docs.py
Needs pypdf (only for the encrypted file). Every other PDF is written byte by byte here, so the
files are tiny and exactly what each test expects: good, truncated, bit-flipped, encrypted,
scanned (image only), a scan page inside a text document, empty, zero pages, a /Parent loop,
Latin-1 text in a PDF, a page hyphenated at line ends, plus binary content named .txt and a
Latin-1 .txt file.
"""

import io
import os
import random
import zlib

OUT = os.environ.get("HOSTILE_OUT") or os.path.join(
    os.path.dirname(__file__), "..", "ingest", "tests", "fixtures", "hostile"
)


def pdf(objects, root=1):
    """Serialise numbered objects (1..n, bytes bodies) into a PDF with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def stream(data, extra=b""):
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_content(lines):
    ops = [b"BT /F1 12 Tf 72 720 Td"]
    for i, line in enumerate(lines):
        if i:
            ops.append(b"0 -14 Td")
        ops.append(b"(" + line + b") Tj")
    ops.append(b"ET")
    return b"\n".join(ops)


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def text_pdf(pages):
    """pages: list of lists of byte lines (WinAnsi); an entry None is an image-only (scanned) page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None, FONT]
    kids = []
    for lines in pages:
        page_no = len(objects) + 1
        content_no = page_no + 1
        if lines is None:
            image_no = page_no + 2
            res = b"<< /XObject << /Im1 %d 0 R >> >>" % image_no
            content = b"q 200 0 0 200 72 500 cm /Im1 Do Q"
        else:
            res = b"<< /Font << /F1 3 0 R >> >>"
            content = text_content(lines)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>"
            % (res, content_no)
        )
        objects.append(stream(content))
        if lines is None:
            pixels = bytes((x * 7 + y * 13) % 256 for y in range(16) for x in range(16))
            objects.append(
                stream(
                    zlib.compress(pixels),
                    b"/Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceGray "
                    b"/BitsPerComponent 8 /Filter /FlateDecode ",
                )
            )
        kids.append(b"%d 0 R" % page_no)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    return pdf(objects)


GOOD_PAGES = [
    [b"IN THE DISTRICT COURT.", b"The plaintiff filed the complaint on 3 May 2021.", b"Exhibit 4 is the signed lease."],
    [b"The defendant answered on 9 June 2021.", b"Discovery closed in January."],
    [b"ORDER.", b"The motion for summary judgment is denied."],
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))

    def write(name, data):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)

    good = text_pdf(GOOD_PAGES)
    write("good.pdf", good)
    # Cut in the middle of page 2's objects: no xref, no trailer.
    write("truncated.pdf", good[: len(good) // 2])
    # Flip bits in the content streams and the xref table (fixed seed: same file every run).
    rng = random.Random(4)
    flipped = bytearray(good)
    for _ in range(40):
        pos = rng.randrange(64, len(flipped))
        flipped[pos] ^= 1 << rng.randrange(8)
    write("bitflipped.pdf", bytes(flipped))

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(good)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    write("encrypted.pdf", buf.getvalue())
    # The same pages encrypted the way most tools write it (the whole document cloned, so the
    # catalog and page tree are encrypted objects too): with a user password, the loader opens
    # nothing, which must read as "needs a password", not "no pages"; with only an owner password
    # the empty user password opens it and the text is read.
    for name, user_password in [("encrypted_cloned.pdf", "secret"), ("encrypted_empty_password.pdf", "")]:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good)))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
        buf = io.BytesIO()
        writer.write(buf)
        write(name, buf.getvalue())

    write("scanned.pdf", text_pdf([None, None]))
    write("partly_scanned.pdf", text_pdf([GOOD_PAGES[0], None, GOOD_PAGES[2]]))
    write("empty.pdf", b"")
    write(
        "zero_pages.pdf",
        pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
    )
    # The page inherits its MediaBox; the page tree node's /Parent points back at the page, so a
    # reader that walks /Parent for inherited attributes never stops.
    write(
        "parent_loop.pdf",
        pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 3 0 R >>",
                b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
                stream(text_content([b"A page with a loop in its tree."])),
                FONT,
            ]
        ),
    )
    write(
        "latin1.pdf",
        text_pdf([[b"Soci\\351t\\351 G\\351n\\351rale c. M\\374ller", b"Arr\\352t du 12 f\\351vrier."]]),
    )
    # A typeset page, hyphenated at line ends: a word broken that the page also writes whole,
    # and a compound broken at its hyphen that the page also writes with it.
    write(
        "hyphenated.pdf",
        text_pdf(
            [
                [
                    b"The officer made a war-",
                    b"rantless entry into the garage; a warrantless",
                    b"entry needs an exigency. The in-",
                    b"person hearing followed the in-person rule.",
                ]
            ]
        ),
    )
    write("binary.txt", bytes(range(256)) * 4)
    write("latin1.txt", "Société Générale c. Müller — arrêt du 12 février.\n".replace("—", "-").encode("latin-1"))
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
