"""Preview drawing runs out of process and refuses what it should not draw."""

import io

import pytest
from PIL import Image

from patient_portal.domain.documents.filetypes import inspect_bytes
from patient_portal.domain.documents.preview import PreviewUnavailable, render_png
from tests.samples import dicom_image, heic_photo, one_page_pdf


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


def test_a_dicom_image_is_drawn_windowed_left_dark_to_right_bright():
    data = dicom_image()
    assert inspect_bytes(data, "scan.dcm").name == "dicom"
    with Image.open(io.BytesIO(render_png(data, "dicom"))) as frame:
        assert frame.size == (96, 64)
        grey = frame.convert("L")
        assert grey.getpixel((0, 10)) < 20 and grey.getpixel((95, 10)) > 235


def test_a_heic_photo_is_drawn():
    data = heic_photo()
    assert inspect_bytes(data, "card.heic").name == "heic"
    with Image.open(io.BytesIO(render_png(data, "heic"))) as photo:
        assert photo.size == (320, 200)
        red, green, blue = photo.convert("RGB").getpixel((160, 100))
        assert blue > 150 and red < 80  # the colour survived


def test_a_damaged_dicom_file_is_not_drawn():
    data = dicom_image()
    with pytest.raises(PreviewUnavailable):
        render_png(data[:400], "dicom")
