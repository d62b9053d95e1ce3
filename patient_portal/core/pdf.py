"""The one PDF writer: text in Helvetica on US-letter pages, no library needed.

``pdf(lines)`` draws (size, text) lines top to bottom — a tuple of texts is a table row, its cells at
``columns`` — and starts a new page when one is full (a page number at the foot of each page when
there are several). ``assemble_pdf(objects)`` numbers the objects and writes the cross-reference
table. Used by the demo documents, the prescription PDF and the immunization record. Text is
latin-1; anything else prints as '?'.
"""

from __future__ import annotations

COLUMNS = (56, 256, 366, 466)  # x of each cell when a line is a tuple of cells (a table row)
TOP, BOTTOM = 740, 60  # the first line's baseline; no line is drawn below BOTTOM


def _pdf_text(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pages(lines: list[tuple[int, str | tuple[str, ...]]], bold_first: int,
           columns: tuple[int, ...]) -> list[bytearray]:
    """Each page's content stream."""
    pages, y, stream = [], TOP, bytearray()
    for n, (size, text) in enumerate(lines):
        step = int(size * 1.55) if text else 10
        if y - step < BOTTOM and stream:
            pages.append(stream)
            y, stream = TOP, bytearray()
        font = b"F2" if n < bold_first else b"F1"
        cells = text if isinstance(text, tuple) else (text,)
        for x, cell in zip(columns, cells, strict=False):
            if cell:
                stream += b"BT /%s %d Tf %d %d Td (%s) Tj ET\n" % (font, size, x, y, _pdf_text(cell))
        y -= step
    pages.append(stream)
    if len(pages) > 1:
        for number, page in enumerate(pages, start=1):
            page += b"BT /F1 9 Tf %d %d Td (%s) Tj ET\n" % (columns[0], BOTTOM - 24,
                                                             _pdf_text(f"Page {number} of {len(pages)}"))
    return pages


def pdf(lines: list[tuple[int, str | tuple[str, ...]]], *, bold_first: int = 1,
        columns: tuple[int, ...] = COLUMNS) -> bytes:
    """A valid PDF of these (size, text) lines in Helvetica (the first `bold_first` bold), on as
    many pages as they need; a tuple of texts is a table row, its cells at `columns`."""
    streams = _pages(lines, bold_first, columns)
    count = len(streams)
    kids = b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"]
    for i, stream in enumerate(streams):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (6 + 2 * i))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + bytes(stream) + b"endstream")
    return assemble_pdf(objects)


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 = catalog), with its cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
