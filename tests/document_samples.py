"""Crafted and photo-like images for the document preview tests (unit and over HTTP)."""

from __future__ import annotations

import io
import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose IHDR declares `width`×`height` (its pixel data is a few bytes):
    a decode bomb in miniature, without making a huge file."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def photo(fmt: str, size: tuple[int, int], **save) -> bytes:
    """A photo-like image (a gradient with a red corner, so it doesn't compress to nothing)."""
    from PIL import Image

    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((200, 30, 30), (0, 0, width // 4, height // 4))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()
