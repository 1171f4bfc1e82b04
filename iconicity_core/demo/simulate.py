"""A documented simulator of fictional text-to-image "models" for the offline demo.

Each simulated generation is derived from the reference images by one behaviour, and that
behaviour is stored as its ground-truth ``label``:

* ``replica`` — a near-copy: random crop (85-100 % of each side), rescale, colour jitter,
  small rotation, JPEG re-encoding.
* ``partial`` — 4-10 of the 16 grid cells of a reference pasted (at random positions) into new
  content (a texture).
* ``reinterpretation`` — the same composition re-rendered: the coarse layout and colours kept (a
  pixelated or blurred, posterised under-painting, sometimes colour-shifted), the local detail
  replaced by a canvas texture — recognisable as the work, with no patch of it reused.
* ``miss`` — another subject (a different reference, transformed) or a plain texture.

Models differ only in how often they do what (:data:`MODELS`); the ``description`` prompt variant
shifts every model towards reinterpretation. Everything is seeded: the same call gives the same
pixels.
"""
from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from ..core.grid import cell_boxes

LABELS = ("replica", "partial", "reinterpretation", "miss")
OUT = 224          # generated image side

#: behaviour mix per model: probabilities of replica, partial, reinterpretation, miss
MODELS: dict[str, tuple[float, float, float, float]] = {
    "replicator-xl": (0.60, 0.20, 0.15, 0.05),
    "balanced-1.5": (0.30, 0.25, 0.30, 0.15),
    "painter-2": (0.10, 0.15, 0.60, 0.15),
    "noisy-mini": (0.10, 0.10, 0.30, 0.50),
}
VARIANT_SHIFT = {"title": 0.0, "description": 0.35}   # moves replica/partial mass to reinterpretation


def seed_for(*parts: object) -> int:
    """A stable seed from any labels (independent of Python's hash randomisation)."""
    return zlib.crc32("|".join(map(str, parts)).encode())


def mix(model: str, variant: str) -> np.ndarray:
    p = np.array(MODELS[model], float)
    shift = VARIANT_SHIFT[variant]
    moved = p[0] * shift + p[1] * shift
    p[0] *= 1 - shift
    p[1] *= 1 - shift
    p[2] += moved
    return p / p.sum()


def _square(im: Image.Image, rng: np.random.Generator, frac: tuple[float, float] = (0.85, 1.0)) -> Image.Image:
    w, h = im.size
    cw, ch = int(w * rng.uniform(*frac)), int(h * rng.uniform(*frac))
    l, t = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return im.crop((l, t, l + cw, t + ch)).resize((OUT, OUT), Image.Resampling.BICUBIC)


def _jpeg(im: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def replica(ref: Image.Image, rng: np.random.Generator) -> Image.Image:
    im = _square(ref, rng)
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.9, 1.1))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.9, 1.1))
    im = im.rotate(rng.uniform(-3, 3), resample=Image.Resampling.BILINEAR, fillcolor=(128, 128, 128))
    return _jpeg(im, int(rng.integers(60, 96)))


def partial(ref: Image.Image, background: Image.Image, rng: np.random.Generator) -> Image.Image:
    src = ref.resize((OUT, OUT), Image.Resampling.BICUBIC)
    out = _square(background, rng, (0.6, 1.0))
    boxes = cell_boxes(OUT, OUT, 4, 4)
    k = int(rng.integers(4, 11))
    take = rng.choice(16, size=k, replace=False)
    put = rng.choice(16, size=k, replace=False)
    for a, b in zip(take, put):
        out.paste(src.crop(boxes[a]), boxes[b][:2])
    return out


def reinterpretation(ref: Image.Image, rng: np.random.Generator, textures: list[Image.Image]) -> Image.Image:
    """The same composition re-rendered: the reference's coarse layout and colours kept (a pixelated or
    blurred, posterised under-painting), its local detail replaced by a canvas texture; one of three
    styles, the third with a colour shift."""
    im = _square(ref, rng, (0.8, 1.0))
    canvas = _square(textures[int(rng.integers(0, len(textures)))], rng, (0.6, 1.0)).convert("L")
    canvas = ImageOps.autocontrast(canvas).convert("RGB")
    style = int(rng.integers(0, 3))
    if style == 1:     # blurred, posterised under-painting
        base = ImageOps.posterize(im.filter(ImageFilter.GaussianBlur(6)), 3)
    else:              # coarse blocks of colour, smoothly blended
        n = int(rng.integers(7, 10))
        base = im.resize((n, n), Image.Resampling.BOX).resize((OUT, OUT), Image.Resampling.BICUBIC)
    if style == 2:     # colour shift
        hsv = np.asarray(base.convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(10, 30))) % 256
        base = Image.fromarray(hsv, "HSV").convert("RGB")
    return _jpeg(Image.blend(base, canvas, float(rng.uniform(0.3, 0.45))), 90)


def miss(other: Image.Image, rng: np.random.Generator) -> Image.Image:
    im = _square(other, rng, (0.5, 0.9))
    if rng.random() < 0.5:
        im = ImageOps.mirror(im)
    return _jpeg(ImageEnhance.Color(im).enhance(rng.uniform(0.6, 1.4)), 85)


def generate(label: str, refs: list[Image.Image], others: list[Image.Image], textures: list[Image.Image],
             rng: np.random.Generator) -> Image.Image:
    """One simulated generation of the given behaviour."""
    ref = refs[int(rng.integers(0, len(refs)))]
    if label == "replica":
        return replica(ref, rng)
    if label == "partial":
        return partial(ref, textures[int(rng.integers(0, len(textures)))], rng)
    if label == "reinterpretation":
        return reinterpretation(ref, rng, textures)
    pool = others + textures
    return miss(pool[int(rng.integers(0, len(pool)))], rng)
