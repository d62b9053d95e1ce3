"""The upload allowlist judges files by their bytes, not their names."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from patient_portal.domain.documents.filetypes import (
    FileRefused,
    Inspector,
    declared_size,
    extension_of,
    inspect_bytes,
)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"x" * 400 + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 300
TIFF_LE = b"II*\x00" + b"\x00" * 300
TIFF_BE = b"MM\x00*" + b"\x00" * 300
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 300
DICOM = b"\x00" * 128 + b"DICM" + b"\x00" * 300
TEXT = "Blood pressure 120/80, Überweisung OK ✓\n".encode() * 20
CSV = b"date,test,value\n2026-01-02,HbA1c,5.6\n"


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (PDF, "lab.pdf", "pdf"), (PDF, "LAB.PDF", "pdf"), (PNG, "scan.png", "png"), (JPEG, "card.jpg", "jpeg"),
        (JPEG, "card.jpeg", "jpeg"), (TIFF_LE, "fax.tif", "tiff"), (TIFF_BE, "fax.tiff", "tiff"),
        (HEIC, "photo.heic", "heic"), (DICOM, "ct.dcm", "dicom"), (DICOM, "IM000001", "dicom"),
        (TEXT, "note.txt", "text"), (CSV, "values.csv", "csv"), (b"ok", "short.txt", "text"),
    ],
)
def test_allowed_kinds_are_recognised_by_content(data, name, kind):
    assert inspect_bytes(data, name).name == kind


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"MZ\x90\x00" + b"\x00" * 300, "results.pdf", "program"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "results.pdf", "program"),
        (b"\xcf\xfa\xed\xfe" + b"\x00" * 300, "scan.png", "program"),
        (b"#!/bin/sh\nrm -rf /\n", "note.txt", "program"),
        (b"PK\x03\x04" + b"\x00" * 300, "report.pdf", "archive"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 300, "values.csv", "archive"),
        (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 300, "a.pdf", "archive"),
        (b"Rar!\x1a\x07\x00" + b"\x00" * 300, "a.pdf", "archive"),
        (b"name.txt" + b"\x00" * 249 + b"ustar\x0000" + b"\x00" * 100, "a.txt", "archive"),
        (PNG, "lab.pdf", "PNG image but its name ends in .pdf"),
        (PDF, "lab.png", "PDF document but its name ends in .png"),
        (PDF, "lab", "has no extension"),
        (TEXT, "lab.pdf", "plain text but its name ends in .pdf"),
        (b"", "empty.pdf", "empty"),
        (b"\x00\x01\x02\x03" * 100, "blob.bin", "can't be uploaded"),
    ],
)
def test_refused_files_say_why(data, name, words):
    with pytest.raises(FileRefused, match=words.replace(".", r"\.")):
        inspect_bytes(data, name)


def test_encrypted_pdf_is_refused_even_when_encrypt_is_in_the_trailer_across_chunks():
    body = b"%PDF-1.4\n" + b"0" * 5000 + b"\ntrailer\n<< /Size 9 /Root 1 0 R /Encrypt 8 0 R >>\n%%EOF"
    for chunk in (7, 64, 4096):
        with pytest.raises(FileRefused, match="password-protected"):
            inspect_bytes(body, "locked.pdf", chunk=chunk)


def test_pdf_mentioning_encryptmetadata_name_only_is_still_a_pdf():
    assert inspect_bytes(b"%PDF-1.4\n/EncryptMetadataX true\n", "ok.pdf").name == "pdf"


def test_text_with_a_nul_or_bad_utf8_later_in_the_file_is_refused():
    with pytest.raises(FileRefused, match="not plain text"):
        inspect_bytes(b"a,b\n" * 1000 + b"\x00", "values.csv")
    with pytest.raises(FileRefused, match="not plain text"):
        inspect_bytes(b"a,b\n" * 1000 + b"\xff\xfe", "values.csv")
    with pytest.raises(FileRefused, match="not plain text"):
        inspect_bytes(b"a,b\n" * 1000 + "é".encode()[:1], "values.csv")


def test_utf8_sequence_split_between_chunks_is_fine():
    data = ("ü" * 500).encode()
    assert inspect_bytes(data, "note.txt", chunk=3).name == "text"
    assert inspect_bytes(data, "note.txt", chunk=1).name == "text"


def test_inspector_refuses_before_the_whole_file_is_read():
    inspector = Inspector("x.pdf")
    with pytest.raises(FileRefused):
        inspector.feed(b"MZ" + b"\x00" * 1000)


def test_extension_of():
    assert extension_of("a/b/Report.Final.PDF") == "pdf"
    assert extension_of(".bashrc") == ""
    assert extension_of("noext") == ""


# ---------------------------------------------------------------- declared image size (read, not decoded)


def _saved(fmt: str, size=(321, 123), mode="RGB", **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(("fmt", "kind", "options"), [
    ("PNG", "png", {}), ("JPEG", "jpeg", {}), ("JPEG", "jpeg", {"progressive": True}),
    ("JPEG", "jpeg", {"exif": Image.Exif().tobytes()}), ("TIFF", "tiff", {}), ("TIFF", "tiff", {"compression": "tiff_lzw"}),
])
def test_declared_size_reads_the_header(fmt, kind, options):
    assert declared_size(_saved(fmt, **options), kind) == (321, 123)
    assert declared_size(_saved(fmt, mode="L", **options), kind) == (321, 123)


def test_declared_size_of_crafted_headers_claiming_60000_by_60000():
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4
    assert declared_size(png, "png") == (60000, 60000)
    # JPEG: an APP0 segment, then a baseline frame header (length, precision, height, width, ...)
    jpeg = b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 9 + b"\xff\xc0\x00\x11\x08" \
        + struct.pack(">HH", 60000, 60000) + b"\x03" + b"\x00" * 9
    assert declared_size(jpeg, "jpeg") == (60000, 60000)
    # big-endian TIFF: one IFD with ImageWidth (LONG) and ImageLength (SHORT)
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 2) \
        + struct.pack(">HHI", 256, 4, 1) + struct.pack(">I", 60000) \
        + struct.pack(">HHI", 257, 3, 1) + struct.pack(">HH", 60000, 0)
    assert declared_size(tiff, "tiff") == (60000, 60000)


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"\xff\xd8\xff\xda\x00\x02", "jpeg"),
    (b"II*\x00\xff\xff\xff\x7f", "tiff"), (b"%PDF-1.4", "pdf"), (b"hello", "text"), (b"", "png"),
])
def test_declared_size_is_none_when_it_cannot_be_read(data, kind):
    assert declared_size(data, kind) is None
