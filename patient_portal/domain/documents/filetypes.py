"""What a file really is, judged by its bytes: the upload allowlist.

Pure and streaming: feed an ``Inspector`` the plaintext chunk by chunk; it decides the kind from the
first bytes (magic numbers, never the name), checks that the name's extension agrees, and keeps
checking what needs the whole file (an encrypted PDF's ``/Encrypt``, text that must stay valid
UTF-8 without NUL bytes). Every refusal is a ``FileRefused`` whose message is safe to show.
"""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass

from patient_portal.core.errors import Invalid

HEAD_BYTES = 262  # enough for "DICM" at 128 and "ustar" at 257


class FileRefused(Invalid):
    """The file may not be uploaded; the message says why in plain words (the file's field error)."""

    status = 415

    def __init__(self, message: str):
        super().__init__(message, {"file": message})


@dataclass(frozen=True)
class FileKind:
    """One allowed kind of file."""

    name: str
    label: str
    media_type: str
    extensions: frozenset[str]
    previewable: bool = False


def _kind(name: str, label: str, media_type: str, exts: str, previewable: bool = False) -> FileKind:
    return FileKind(name, label, media_type, frozenset(exts.split()), previewable)


PDF = _kind("pdf", "PDF document", "application/pdf", "pdf", True)
PNG = _kind("png", "PNG image", "image/png", "png", True)
JPEG = _kind("jpeg", "JPEG image", "image/jpeg", "jpg jpeg jpe jfif", True)
TIFF = _kind("tiff", "TIFF image", "image/tiff", "tif tiff", True)
HEIC = _kind("heic", "HEIC image", "image/heic", "heic heif", True)
DICOM = _kind("dicom", "DICOM image", "application/dicom", "dcm dicom", True)
TEXT = _kind("text", "plain text", "text/plain; charset=utf-8", "txt text", True)
CSV = _kind("csv", "CSV table", "text/csv; charset=utf-8", "csv", True)

KINDS: dict[str, FileKind] = {k.name: k for k in (PDF, PNG, JPEG, TIFF, HEIC, DICOM, TEXT, CSV)}
ALLOWED_TEXT = "PDF, PNG, JPEG, TIFF, HEIC, DICOM, plain text (.txt) and CSV"
ACCEPT_ATTRIBUTE = ",".join(sorted("." + ext for kind in KINDS.values() for ext in kind.extensions))

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"heif"}
_EXECUTABLE = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
               b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\x00asm", b"#!", b"\xef\xbb\xbf#!")
_ARCHIVE = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07",
            b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"MSCF")
_ENCRYPT = re.compile(rb"/Encrypt(?![A-Za-z0-9_])")
_ENCRYPT_OVERLAP = 16


def _has_encrypt(data: bytes) -> bool:
    """Does `data` hold the /Encrypt name (a cheap find first, the exact rule only on a hit)?"""
    return data.find(b"/Encrypt") >= 0 and _ENCRYPT.search(data) is not None


def extension_of(filename: str) -> str:
    """The lower-case extension without the dot ("" when there is none)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff(head: bytes) -> FileKind:
    """The allowed kind of a file from its first bytes (up to HEAD_BYTES), or FileRefused."""
    if not head:
        raise FileRefused("The file is empty.")
    if head.startswith(_EXECUTABLE):
        raise FileRefused("This file is a program or script, which can't be uploaded for safety reasons.")
    if head.startswith(_ARCHIVE) or head[257:262] == b"ustar":
        raise FileRefused("This file is a compressed archive (zip, gzip, 7z, rar or tar). "
                          "Please upload the documents inside it one by one.")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return HEIC
    if head[128:132] == b"DICM":
        return DICOM
    if _looks_like_text(head):
        return TEXT
    raise FileRefused(f"This type of file can't be uploaded. Allowed are {ALLOWED_TEXT} files.")


def match_extension(kind: FileKind, filename: str) -> FileKind:
    """The kind the name and content agree on, or FileRefused on a mismatch."""
    ext = extension_of(filename)
    if kind in (TEXT, CSV) and ext == "csv":
        return CSV
    if ext in kind.extensions or (kind is DICOM and ext == ""):
        return kind
    named = f"ends in .{ext}" if ext else "has no extension"
    raise FileRefused(f"The file's content is a {kind.label} but its name {named}. "
                      f"Rename it to match its content (for example .{sorted(kind.extensions)[0]}) "
                      "or choose the right file.")


class Inspector:
    """Streaming type check of one upload: ``feed`` every chunk, then ``finish``."""

    def __init__(self, filename: str):
        self.filename = filename
        self.kind: FileKind | None = None
        self._head = bytearray()
        self._tail = b""
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    @property
    def decided(self) -> bool:
        return self.kind is not None

    def feed(self, chunk: bytes) -> None:
        """Inspect the next piece; raises FileRefused as soon as the file is known to be refused."""
        if self.kind is None:
            self._head += chunk
            if len(self._head) < HEAD_BYTES:
                return
            self._decide()
            chunk, self._head = bytes(self._head), bytearray()
        self._check_body(chunk)

    def finish(self) -> FileKind:
        """The file's kind once all bytes were fed; raises FileRefused."""
        if self.kind is None:
            self._decide()
            self._check_body(bytes(self._head))
            self._head = bytearray()
        if self.kind in (TEXT, CSV):
            try:
                self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                raise self._not_text() from None
        return self.kind

    def _decide(self) -> None:
        self.kind = match_extension(sniff(bytes(self._head[:HEAD_BYTES])), self.filename)

    def _not_text(self) -> FileRefused:
        return FileRefused("This file is not plain text (it is not valid UTF-8 or contains binary data), "
                           "so it can't be uploaded as a .txt or .csv file.")

    def _check_body(self, chunk: bytes) -> None:
        if self.kind is PDF:
            seam = self._tail + chunk[:_ENCRYPT_OVERLAP]
            if _has_encrypt(seam) or _has_encrypt(chunk):
                raise FileRefused("This PDF is password-protected or encrypted. Please upload a copy "
                                  "without a password so the care team can open it.")
            self._tail = (self._tail + chunk)[-_ENCRYPT_OVERLAP:] if len(chunk) < _ENCRYPT_OVERLAP \
                else chunk[-_ENCRYPT_OVERLAP:]
        elif self.kind in (TEXT, CSV):
            if b"\x00" in chunk:
                raise self._not_text()
            try:
                self._utf8.decode(chunk, final=False)
            except UnicodeDecodeError:
                raise self._not_text() from None


def inspect_bytes(data: bytes, filename: str, chunk: int = 64 * 1024) -> FileKind:
    """Inspect a whole file held in memory (tests, small files)."""
    inspector = Inspector(filename)
    for start in range(0, len(data), chunk):
        inspector.feed(data[start:start + chunk])
    return inspector.finish()


# ---------------------------------------------------------------- declared image size


def declared_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(width, height) an image's header declares, read without decoding a pixel; None when the kind
    has no header read here (PDF, HEIC, DICOM, text) or the header can't be read (the render process
    then decides). PNG: IHDR; JPEG: the first SOF segment; TIFF: the first IFD.

    Previews use this to refuse a decode bomb — a few kilobytes declaring 60000×60000 pixels — before
    any decoder sees it.
    """
    try:
        if kind == "png":
            return _png_size(data)
        if kind == "jpeg":
            return _jpeg_size(data)
        if kind == "tiff":
            return _tiff_size(data)
    except (struct.error, IndexError):
        return None
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers (not DHT, JPG, DAC)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):  # no length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header came first
            return None
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        return None
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    found: dict[int, int] = {}
    for i in range(min(count, 4096)):
        tag, kind, _n, raw = struct.unpack(order + "HHI4s", data[ifd + 2 + 12 * i:ifd + 14 + 12 * i])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
            found[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), raw[:2 if kind == 3 else 4])[0]
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None
