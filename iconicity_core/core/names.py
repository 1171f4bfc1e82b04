"""Names users write by hand, normalised: reference slugs and covariate column names."""
from __future__ import annotations

import re

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def norm_slug(text: str) -> str:
    """Normalise a slug as the authors do: ``strip().replace(" ", "_").lower()``.

    >>> norm_slug("  The Starry Night ")
    'the_starry_night'
    """
    return str(text).strip().replace(" ", "_").lower()


def safe_column(name: str) -> str:
    """Turn a CSV header into a safe SQL identifier (lowercase letters, digits, underscores).

    >>> safe_column("Page views (2024)")
    'page_views_2024'
    >>> safe_column("2024 views")
    'c_2024_views'
    """
    s = re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_") or "col"
    if s[0].isdigit():
        s = "c_" + s
    s = s[:63]
    if not _IDENT.match(s):
        raise ValueError(f"cannot make a column name from {name!r}")
    return s
