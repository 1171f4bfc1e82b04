"""How text from the data and models look in charts (pure): the one escaping helper for Plotly text and
the one palette, so every page, chart and export escapes and colours alike.

Plotly renders a subset of HTML in trace names, hover text, titles and annotations (``<a href>``, ``<b>``,
``<br>``) and fills ``%{...}`` in hover templates: every string from a dataset goes through :func:`esc`.
"""
from __future__ import annotations

import html

#: Okabe & Ito's colour-blind-safe palette (without yellow, weak on white), then Paul Tol's muted scheme.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#332288", "#117733", "#882255",
           "#999933", "#44AA99", "#AA4499", "#661100", "#6699CC", "#888888")


def esc(text) -> str:
    """Dataset text made literal for Plotly: HTML escaped, ``%`` as an entity (no hover-template fields).

    >>> esc('<a href="x">m</a> %{x}')
    '&lt;a href=&quot;x&quot;&gt;m&lt;/a&gt; &#37;{x}'
    """
    return html.escape(str(text), quote=True).replace("%", "&#37;")


def model_colours(models) -> dict[str, str]:
    """A fixed colour per model name: by position in the sorted list of *all* models of the database, so
    the same model has the same colour on every page and in every export.

    >>> model_colours(["b", "a"])
    {'a': '#0072B2', 'b': '#E69F00'}
    """
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(set(map(str, models))))}
