"""A documented simulator of fictional text-to-image "models" for the offline demo.

Each simulated generation is derived from the reference images by one behaviour, and that
behaviour is stored as its ground-truth ``label``:

* ``replica`` — a near-copy: random crop (85-100 % of each side), rescale, colour jitter,
  small rotation, JPEG re-encoding.
* ``partial`` — 4-10 of the 16 grid cells of a reference pasted (at random positions) into new
  content (a texture).
* ``reinterpretation`` — the subject kept, restyled: either painted into a new setting (a painterly
  version of the work, framed on a new background) or made into a poster (a few flat colours, black
  edge lines, a changed palette) — recognisable as the work at a glance, with little of its local
  material reused.
* ``miss`` — another subject (a different reference, transformed) or a plain texture.

Models differ in how often they do what (:data:`MODELS`); the ``description`` prompt variant shifts
every model towards reinterpretation; and every reference has a fictional *fame* (:func:`fame`) that makes
every model replicate famous works more often — the paper's popularity effect, so the demo's Correlations
page has a relation to find (its ``demo_sitelinks`` covariate is that fame, in fictional sitelinks).
Everything is seeded: the same call gives the same pixels.
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


def fame(slug: str) -> float:
    """A reference's fictional fame in [0, 1] (seeded by its slug)."""
    return float(np.random.default_rng(seed_for("fame", slug)).uniform(0, 1))


def mix(model: str, variant: str, fame_: float = 0.5) -> np.ndarray:
    """Probabilities of replica, partial, reinterpretation, miss for a model, prompt variant and fame."""
    p = np.array(MODELS[model], float)
    p[0] *= 0.4 + 1.2 * fame_                    # famous works are replicated more, obscure ones less
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
    for a, b in zip(take, put, strict=True):
        out.paste(src.crop(boxes[a]), boxes[b][:2])
    return out


def _hue(im: Image.Image, shift: int) -> Image.Image:
    hsv = np.asarray(im.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + shift) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def _poster(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A few flat colours (a palette chosen on a thumbnail, to stay fast) with black edge lines and a shifted
    palette."""
    smooth = im.filter(ImageFilter.GaussianBlur(2))
    flat = (smooth.resize((80, 80), Image.Resampling.BILINEAR)
            .quantize(colors=int(rng.integers(4, 7)), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            .convert("RGB").resize(im.size, Image.Resampling.BILINEAR))
    lines = (smooth.convert("L").filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 10 else 0)
             .filter(ImageFilter.MaxFilter(3)))
    return _hue(Image.composite(Image.new("RGB", flat.size, (20, 20, 20)), flat, lines), int(rng.integers(15, 40)))


def reinterpretation(ref: Image.Image, rng: np.random.Generator, textures: list[Image.Image]) -> Image.Image:
    """The subject kept, restyled: painted into a new setting (a painterly version of the work, 70-85 % of
    the frame, on a new, recoloured background) or made into a poster (:func:`_poster`)."""
    im = _square(ref, rng, (0.85, 1.0))
    if rng.random() < 0.5:                                   # a new setting
        bg = _square(textures[int(rng.integers(0, len(textures)))], rng, (0.6, 1.0)).convert("L")
        dark = tuple(int(v) for v in rng.integers(20, 80, 3))
        light = tuple(int(v) for v in rng.integers(170, 240, 3))
        out = ImageOps.colorize(bg, dark, light)
        side = int(OUT * rng.uniform(0.7, 0.85))
        subject = ImageOps.posterize(im.resize((side, side), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1.5)), 3)
        left, top = (int(rng.integers(0, OUT - side + 1)) for _ in range(2))
        out.paste(subject, (left, top))
    else:                                                    # a poster of it
        out = _poster(im, rng)
    return _jpeg(out, 90)


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
