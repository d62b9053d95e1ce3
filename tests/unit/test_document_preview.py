"""Preview drawing runs out of process and refuses what it should not draw."""

import io

import pytest
from PIL import Image

from patient_portal.domain.documents.preview import PreviewUnavailable, render_png
from tests.samples import one_page_pdf


def test_first_page_of_a_pdf_becomes_a_png():
    png = render_png(one_page_pdf("Potassium 4.1"), "pdf")
    with Image.open(io.BytesIO(png)) as page:
        assert page.format == "PNG" and page.width > page.height  # the sample page is landscape


def test_a_decompression_bomb_is_not_drawn():
    buffer = io.BytesIO()
    Image.new("1", (12000, 6000)).save(buffer, format="TIFF", compression="packbits")
    assert len(buffer.getvalue()) < 2_000_000  # small on disk, 72 million pixels when opened
    with pytest.raises(PreviewUnavailable):
        render_png(buffer.getvalue(), "tiff")


def test_only_drawn_kinds_are_accepted():
    with pytest.raises(ValueError):
        render_png(b"hello", "text")
