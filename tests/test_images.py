"""The bad-file zoo: every awkward input either loads as sensible RGB or fails with a clear reason."""
import io

import numpy as np
import pytest
from PIL import Image

from iconicity_core.io.images import ImageLoadError, load_rgb


def _bytes(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def test_modes_become_rgb():
    rgb = Image.new("RGB", (16, 16), (10, 200, 30))
    cmyk = load_rgb(_bytes(rgb.convert("CMYK"), "JPEG"), "c.jpg")
    assert cmyk.mode == "RGB"
    assert np.abs(np.asarray(cmyk, int) - [10, 200, 30]).max() < 40
    a16 = (np.arange(256, dtype=np.uint16).reshape(16, 16) * 257)
    im16 = load_rgb(_bytes(Image.fromarray(a16), "PNG"), "d.png")
    assert im16.mode == "RGB"
    assert im16.getpixel((15, 15)) == (255, 255, 255)
    assert im16.getpixel((0, 0)) == (0, 0, 0)
    pal = Image.new("P", (16, 16), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.info["transparency"] = 1
    assert load_rgb(_bytes(pal, "PNG", transparency=1), "p.png").getpixel((0, 0)) == (255, 255, 255)
    la = Image.new("LA", (16, 16), (0, 128))
    assert load_rgb(_bytes(la, "PNG"), "la.png").getpixel((0, 0)) == (127, 127, 127)


def test_exif_orientation_is_applied():
    im = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6            # rotate 90° clockwise on display
    out = load_rgb(_bytes(im, "JPEG", exif=exif.tobytes()), "rot.jpg")
    assert out.size == (20, 40)


def test_animated_uses_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert load_rgb(buf.getvalue(), "anim.gif").getpixel((0, 0)) == (255, 0, 0)


def test_mislabelled_file_loads_by_content():
    png = _bytes(Image.new("RGB", (16, 16), "green"), "PNG")
    assert load_rgb(png, "actually_png.jpg").getpixel((0, 0)) == (0, 128, 0)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty file"),
    (b"this is not an image", "not a readable image"),
    (_bytes(Image.new("RGB", (64, 64), "red"), "JPEG")[:200], "truncated"),
])
def test_bad_files_raise_clear_errors(data, reason):
    with pytest.raises(ImageLoadError, match=reason) as e:
        load_rgb(data, "bad/file.jpg")
    assert "bad/file.jpg" in str(e.value)


def test_pixel_limit_refuses_bombs():
    big = _bytes(Image.new("RGB", (200, 200)), "PNG")
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        load_rgb(big, "bomb.png", max_pixels=10_000)
    assert load_rgb(big, "ok.png", max_pixels=40_000).size == (200, 200)
