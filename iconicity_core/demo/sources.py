"""Reference images for the offline demo: real, freely licensed photos that installed packages ship.

Nothing is downloaded: scikit-image's ``data`` module and matplotlib's sample data carry them.
Titles are honest descriptions of what the images are; covariates in the demo are *demo values*
(columns prefixed ``demo_``), not facts.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 256   # references are stored with this longest side (keeps the demo small and fast)


@dataclass(frozen=True)
class Source:
    slug: str
    title: str
    kind: str                         # static | dynamic
    description: str                  # literal visual description (the "description" prompt variant)
    credit: str                       # source and licence
    images: Callable[[], list[Image.Image]]


def _sk(name: str) -> np.ndarray:
    import skimage.data

    return getattr(skimage.data, name)()


def _pil(a: np.ndarray) -> Image.Image:
    im = Image.fromarray(a)
    return im.convert("RGB")


def _fit(im: Image.Image, side: int = SIDE) -> Image.Image:
    w, h = im.size
    s = side / max(w, h)
    return im.resize((max(8, round(w * s)), max(8, round(h * s))), Image.Resampling.LANCZOS)


def _square(im: Image.Image) -> Image.Image:
    s = min(im.size)
    l, t = (im.width - s) // 2, (im.height - s) // 2
    return im.crop((l, t, l + s, t + s))


def _crops(im: Image.Image, boxes: list[tuple[float, float, float, float]]) -> list[Image.Image]:
    w, h = im.size
    return [_fit(im.crop((int(a * w), int(b * h), int(c * w), int(d * h)))) for a, b, c, d in boxes]


def _grace() -> Image.Image:
    import matplotlib.cbook

    with open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), "rb") as f:
        return Image.open(f).convert("RGB")


SOURCES: tuple[Source, ...] = (
    Source("astronaut", "Eileen Collins, NASA astronaut portrait", "static",
           "a smiling astronaut in an orange flight suit in front of a flag",
           "NASA Great Images (public domain), via scikit-image data.astronaut",
           lambda: [_fit(_square(_pil(_sk("astronaut"))))]),
    Source("chelsea", "Chelsea the cat", "static", "a tabby cat looking to the side, close-up",
           "Stefan van der Walt (CC0), via scikit-image data.chelsea",
           lambda: [_fit(_pil(_sk("chelsea")))]),
    Source("coffee", "Coffee cup at Pikolo Espresso Bar", "static",
           "a white cup of espresso with latte art on a wooden table",
           "Rachel Michetti, courtesy of Pikolo Espresso Bar (CC0), via scikit-image data.coffee",
           lambda: [_fit(_pil(_sk("coffee")))]),
    Source("rocket", "DSCOVR launch on a Falcon 9 rocket", "static",
           "a rocket lifting off from a launch pad with a column of smoke",
           "SpaceX (public domain), via scikit-image data.rocket",
           lambda: [_fit(_pil(_sk("rocket")))]),
    Source("camera", "The cameraman (scikit-image test photo)", "static",
           "a black-and-white photo of a person with a camera on a tripod",
           "Lav Varshney (CC0), via scikit-image data.camera",
           lambda: [_fit(_pil(_sk("camera")))]),
    Source("grace_hopper", "Rear Admiral Grace Hopper, official portrait", "static",
           "a portrait of a woman in a dark naval uniform with medals",
           "U.S. Navy (public domain), via matplotlib sample_data grace_hopper.jpg",
           lambda: [_fit(_grace())]),
    Source("retina", "Fundus photograph of a normal left eye", "static",
           "an orange circular photograph of the back of an eye with blood vessels",
           "Wikimedia Commons (CC0), via scikit-image data.retina",
           lambda: [_fit(_pil(_sk("retina")))]),
    Source("motorcycle", "Middlebury 'Motorcycle' stereo scene", "dynamic",
           "a red motorcycle parked in a workshop",
           "Middlebury 2014 stereo benchmark (Scharstein et al.; research use), via scikit-image "
           "data.stereo_motorcycle — the left and right views are near-duplicates (pHash drops one)",
           lambda: [_fit(_pil(_sk("stereo_motorcycle")[0])), _fit(_pil(_sk("stereo_motorcycle")[1])),
                    *_crops(_pil(_sk("stereo_motorcycle")[0]), [(0.0, 0.2, 0.55, 1.0), (0.45, 0.0, 1.0, 0.7)])]),
    Source("hubble_xdf", "Hubble eXtreme Deep Field", "dynamic",
           "thousands of small galaxies scattered on a black background",
           "NASA/ESA (public domain), via scikit-image data.hubble_deep_field — crops of the full field",
           lambda: _crops(_pil(_sk("hubble_deep_field")),
                          [(0.0, 0.0, 0.5, 0.5), (0.5, 0.0, 1.0, 0.5), (0.0, 0.5, 0.5, 1.0), (0.5, 0.5, 1.0, 1.0)])),
    Source("pompeii_coins", "Greek coins from Pompeii", "dynamic",
           "rows of ancient bronze coins on a grey background",
           "Brooklyn Museum (no known copyright restrictions), via scikit-image data.coins — crops",
           lambda: _crops(_pil(_sk("coins")), [(0.0, 0.0, 0.6, 0.6), (0.4, 0.0, 1.0, 0.6), (0.2, 0.4, 0.8, 1.0)])),
)

#: Textures used for "miss" generations and as new content around pasted cells.
def textures() -> list[Image.Image]:
    return [_fit(_pil(_sk(n))) for n in ("brick", "grass", "gravel")]
