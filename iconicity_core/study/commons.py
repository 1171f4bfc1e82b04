"""`iconicity references fetch-images`: the canonical image of every static reference from Wikimedia
Commons (its Wikidata P18), as a thumbnail of the chosen width, with licence and author from the
Commons metadata. Resumable (existing images are kept), per-item results in ``fetch_log.csv``."""
from __future__ import annotations

import csv
import html
import io
import logging
import re
from pathlib import Path
from urllib.parse import quote, unquote

from PIL import Image

from ..io.atomic import atomic_write, write_csv
from ..io.http import HTTPError, NotFound, PoliteClient
from ..io.images import ImageLoadError, is_image_path, load_rgb

COMMONS = "https://commons.wikimedia.org"
log = logging.getLogger(__name__)
EXT = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}


def file_name(p18: str) -> str:
    """Commons file name from a Wikidata P18 value (a Special:FilePath URL or a bare name).

    >>> file_name("http://commons.wikimedia.org/wiki/Special:FilePath/Mona%20Lisa.jpg")
    'Mona Lisa.jpg'
    """
    return unquote(p18.rsplit("Special:FilePath/", 1)[-1]).replace("_", " ").strip()


def _strip_html(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or "")).strip()


def licence(client: PoliteClient, name: str, commons: str = COMMONS) -> tuple[str, str]:
    """(licence short name, author) from the Commons API, or ("", "") when unknown."""
    data = client.get_json(f"{commons}/w/api.php", params={
        "action": "query", "prop": "imageinfo", "iiprop": "extmetadata", "titles": f"File:{name}", "format": "json"})
    for p in ((data.get("query") or {}).get("pages") or {}).values():
        meta = ((p.get("imageinfo") or [{}])[0]).get("extmetadata") or {}
        return (_strip_html((meta.get("LicenseShortName") or {}).get("value", "")),
                _strip_html((meta.get("Artist") or {}).get("value", "")))
    return "", ""


def fetch_images(out_dir: str | Path, width: int = 1024, commons: str = COMMONS, client: PoliteClient | None = None) -> Path:
    out = Path(out_dir)
    refs_csv = out / "references.csv"
    if not refs_csv.is_file():
        raise FileNotFoundError(f"{refs_csv} is missing — run `iconicity references build {out}` first")
    client = client or PoliteClient(out / ".cache" / "commons")
    with open(refs_csv, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for extra in ("image_licence", "image_artist"):
        if extra not in fields:
            fields.append(extra)
    results = []
    for r in rows:
        if r.get("kind") != "static":
            continue
        slug, p18 = r["slug"], (r.get("image") or "").strip()
        if not p18:
            results.append((slug, "missing", "the Wikidata item has no image (P18): add one to references/"
                                              f"{slug}/ by hand"))
            continue
        name = file_name(p18)
        folder = out / "references" / slug
        have = [p for p in folder.glob("*") if p.is_file() and is_image_path(p)] if folder.is_dir() else []
        try:
            if have:
                status, detail = "exists", have[0].name
            else:
                data = client.get_bytes(f"{commons}/wiki/Special:FilePath/{quote(name)}", params={"width": width})
                load_rgb(data, name)                                  # refuse what is not an image
                fmt = Image.open(io.BytesIO(data)).format or "PNG"
                folder.mkdir(parents=True, exist_ok=True)
                dest = folder / f"{slug}{EXT.get(fmt, '.img')}"
                atomic_write(dest, data)
                status, detail = "downloaded", dest.name
            r["image_licence"], r["image_artist"] = licence(client, name, commons)
        except NotFound:
            status, detail = "not found", f"Commons has no file {name!r} (404)"
        except ImageLoadError as e:
            status, detail = "not an image", str(e)
        except HTTPError as e:
            status, detail = "error", str(e)
        results.append((slug, status, detail))
        log.info("%s: %s (%s)", slug, status, detail)
    write_csv(refs_csv, fields, rows, dicts=True)
    return write_csv(out / "fetch_log.csv", ["slug", "status", "detail"], results)
