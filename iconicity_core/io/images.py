"""Safe image loading: any file in, an RGB ``PIL.Image`` out, or a clear :class:`ImageLoadError`.

Handles EXIF orientation, CMYK, 16-bit and float images, palette and alpha (composited over white),
animated images (first frame), decompression bombs (pixel limit), and truncated / empty / non-image
files, each with a reason that says what to do.

>>> import io
>>> from PIL import Image
>>> buf = io.BytesIO(); Image.new("RGBA", (4, 4), (255, 0, 0, 0)).save(buf, "PNG")
>>> load_rgb(buf.getvalue(), "x.png").getpixel((0, 0))   # fully transparent -> white
(255, 255, 255)
"""
from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: File extensions picked up when scanning folders (case-insensitive).
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".jfif"}
)
#: Default pixel limit: larger images are refused as possible decompression bombs.
DEFAULT_MAX_PIXELS = 64_000_000
#: How images are decoded: ``careful`` (EXIF orientation, alpha over white, 16-bit scaled, every format) or
#: ``authors`` (as the released scripts: ``Image.open(path).convert("RGB")`` — no EXIF rotation, alpha
#: dropped, 16-bit clipped by Pillow).
DECODES = ("careful", "authors")
#: The released scripts' image extensions (``EXTS`` of compute_CRA.py / compute_VR.py): a file is theirs when its
#: lower-case suffix is one of these — ``.tiff`` is, ``.tif``, ``.gif`` and ``.jfif`` are not.
AUTHORS_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tiff"})


class ImageLoadError(Exception):
    """An image could not be used; ``str(err)`` names the file and says what to do."""


def content_hash(data: bytes) -> str:
    """Identity of an image file: SHA-256 of its bytes (hex). Same bytes, same image."""
    return hashlib.sha256(data).hexdigest()


def is_image_path(path: Path) -> bool:
    """True for files whose extension is a supported image extension."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def load_rgb(
    data: bytes, name: str = "<image>", max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = 4,
    decode: str = "careful",
) -> Image.Image:
    """Decode ``data`` into an 8-bit RGB image, or raise :class:`ImageLoadError`.

    ``name`` is only used in messages. Images with fewer than ``max_pixels`` pixels are accepted.
    ``decode="authors"`` converts as the released scripts do (:data:`DECODES`); damaged files and
    decompression bombs are refused either way.

    >>> buf = io.BytesIO(); Image.new("RGBA", (4, 4), (255, 0, 0, 0)).save(buf, "PNG")
    >>> load_rgb(buf.getvalue(), "x.png", decode="authors").getpixel((0, 0))   # alpha dropped, colour kept
    (255, 0, 0)
    """
    if decode not in DECODES:
        raise ValueError(f"decode must be one of {', '.join(DECODES)}, got {decode!r}")
    if not data:
        raise ImageLoadError(f"{name}: empty file (0 bytes) — re-create or delete it")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im: Image.Image = Image.open(io.BytesIO(data))
            if im.width * im.height > max_pixels:
                raise ImageLoadError(
                    f"{name}: {im.width}x{im.height} pixels is over the limit of {max_pixels:,} "
                    "(possible decompression bomb) — resize it or raise --max-pixels"
                )
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            im.load()
        except ImageLoadError:
            raise
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{name}: not a readable image (unknown format) — check the file or remove it"
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageLoadError(f"{name}: refused as a possible decompression bomb ({e})") from None
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise ImageLoadError(
                f"{name}: damaged or truncated image ({e}) — re-download or re-create it"
            ) from None
    if decode == "authors":
        rgb = im.convert("RGB")
    else:
        try:
            im = ImageOps.exif_transpose(im) or im
        except Exception:  # a broken EXIF block is not a reason to lose the image
            pass
        rgb = to_rgb(im)
    if min(rgb.size) < min_side:
        raise ImageLoadError(
            f"{name}: {rgb.width}x{rgb.height} pixels is too small (at least {min_side} per side)"
        )
    return rgb


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparency is composited over white."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and a.max(initial=0) > 255):
            a = a / 257.0 if a.max(initial=0) <= 65535 else a * 255.0 / max(a.max(), 1.0)
        elif mode == "F":
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode == "I;16" or mode.startswith("I;"):
        return im.convert("I").convert("RGB")
    return im.convert("RGB")


def read_and_load(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[str, Image.Image]:
    """Read a file, returning ``(content_hash, rgb_image)``; raises :class:`ImageLoadError`."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageLoadError(f"{path}: cannot read file ({e.strerror})") from None
    return content_hash(data), load_rgb(data, str(path), max_pixels)
