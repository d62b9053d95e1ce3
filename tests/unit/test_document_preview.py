"""Preview drawing runs out of process, always re-encodes, caps the size and refuses what it should not draw."""

import io
import subprocess

import pytest
from PIL import Image

from patient_portal.domain.documents import preview
from patient_portal.domain.documents.filetypes import declared_size, inspect_bytes
from patient_portal.domain.documents.preview import MAX_PIXELS, MAX_SIDE, PreviewUnavailable, render
from tests.document_samples import photo, png_declaring
from tests.samples import dicom_image, heic_photo, one_page_pdf


@pytest.fixture
def no_worker(monkeypatch):
    """Fail the test if the render process is started."""
    def started(*args, **kwargs):
        raise AssertionError("the render process was started")

    monkeypatch.setattr(preview.subprocess, "run", started)


def test_first_page_of_a_pdf_becomes_a_png():
    drawn = render(one_page_pdf("Potassium 4.1"), "pdf")
    assert drawn.media_type == "image/png"
    with Image.open(io.BytesIO(drawn.data)) as page:
        assert page.format == "PNG" and page.width > page.height  # the sample page is landscape


def test_a_png_declaring_60000_by_60000_is_refused_from_its_header_without_decoding(no_worker):
    bomb = png_declaring(60000, 60000)
    assert len(bomb) < 200 and inspect_bytes(bomb, "scan.png").name == "png"  # uploads fine: it's a PNG
    assert declared_size(bomb, "png") == (60000, 60000)
    with pytest.raises(PreviewUnavailable, match="can't be previewed"):
        render(bomb, "png")


def test_the_render_process_refuses_a_declared_bomb_too():
    """Defence in depth: the worker's own Pillow cap, for headers the parent doesn't read."""
    done = subprocess.run([preview.sys.executable, "-I", str(preview._WORKER), "png"],  # noqa: S603
                          input=png_declaring(60000, 60000), capture_output=True, timeout=20, check=False)
    assert done.returncode == 2 and done.stdout == b""


def test_a_large_png_is_re_encoded_within_the_cap():
    original = photo("PNG", (3000, 2000))
    drawn = render(original, "png")
    assert drawn.media_type == "image/png" and drawn.data != original and len(drawn.data) < len(original)
    with Image.open(io.BytesIO(drawn.data)) as image:
        assert image.format == "PNG" and image.width == MAX_SIDE and abs(image.height - MAX_SIDE * 2 / 3) < 1


def test_a_large_jpeg_photo_is_re_encoded_as_a_smaller_jpeg_upright_and_without_metadata():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view", as phones write it
    exif[0x010F] = "PhoneMaker"
    original = photo("JPEG", (4000, 3000), exif=exif.tobytes(), quality=95)
    drawn = render(original, "jpeg")
    assert drawn.media_type == "image/jpeg" and drawn.extension == "jpg" and drawn.data != original
    with Image.open(io.BytesIO(drawn.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (MAX_SIDE * 3 // 4, MAX_SIDE)  # upright: portrait, longest side at the cap
        assert not image.getexif()  # no camera (or GPS) details carried over
    assert len(drawn.data) < len(original)


def test_a_small_image_keeps_its_size_but_is_still_not_the_original_bytes():
    from PIL.PngImagePlugin import PngInfo

    notes = PngInfo()
    notes.add_text("Comment", "Maria Garcia, DOB 1980-05-17")
    original = photo("PNG", (48, 32), pnginfo=notes)
    drawn = render(original, "png")
    assert drawn.data != original and b"Maria" not in drawn.data  # drawn afresh: its text chunks are gone
    with Image.open(io.BytesIO(drawn.data)) as image:
        assert image.size == (48, 32) and not image.text


def test_a_sixteen_bit_grey_scan_keeps_its_brightness():
    scan = Image.new("I;16", (40, 20), 50000)
    buffer = io.BytesIO()
    scan.save(buffer, format="PNG")
    with Image.open(io.BytesIO(render(buffer.getvalue(), "png").data)) as image:
        assert abs(image.convert("L").getpixel((5, 5)) - 50000 // 257) <= 1


def test_a_decompression_bomb_is_not_drawn():
    buffer = io.BytesIO()
    Image.new("1", (12000, 6000)).save(buffer, format="TIFF", compression="packbits")
    assert len(buffer.getvalue()) < 2_000_000  # small on disk, 72 million pixels when opened
    assert declared_size(buffer.getvalue(), "tiff") == (12000, 6000)
    with pytest.raises(PreviewUnavailable):
        render(buffer.getvalue(), "tiff")


def test_an_image_just_under_the_cap_is_not_refused_by_its_header():
    assert 7000 * 8000 < MAX_PIXELS
    assert preview._within_cap((7000, 8000), pixels=MAX_PIXELS)
    assert not preview._within_cap((8000, 8000), pixels=MAX_PIXELS)
    assert not preview._within_cap((0, 10), pixels=MAX_PIXELS)


def test_only_drawn_kinds_are_accepted():
    with pytest.raises(ValueError):
        render(b"hello", "text")


def test_bytes_that_are_not_the_kind_claimed_are_not_drawn():
    with pytest.raises(PreviewUnavailable):
        render(photo("PNG", (40, 40)), "jpeg")  # the worker opens each kind with its own decoder only


def test_a_dicom_image_is_drawn_windowed_left_dark_to_right_bright():
    data = dicom_image()
    assert inspect_bytes(data, "scan.dcm").name == "dicom"
    with Image.open(io.BytesIO(render(data, "dicom").data)) as frame:
        assert frame.size == (96, 64)
        grey = frame.convert("L")
        assert grey.getpixel((0, 10)) < 20 and grey.getpixel((95, 10)) > 235


def test_a_heic_photo_is_drawn():
    data = heic_photo()
    assert inspect_bytes(data, "card.heic").name == "heic"
    drawn = render(data, "heic")
    assert drawn.media_type == "image/jpeg"
    with Image.open(io.BytesIO(drawn.data)) as photo:
        assert photo.size == (320, 200)
        red, green, blue = photo.convert("RGB").getpixel((160, 100))
        assert blue > 150 and red < 80  # the colour survived


def test_a_damaged_dicom_file_is_not_drawn():
    data = dicom_image()
    with pytest.raises(PreviewUnavailable):
        render(data[:400], "dicom")
