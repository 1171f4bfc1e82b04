"""A finding card: one HTML file with a generated image, its heatmap, its references, scores, thresholds and the
embedders that produced them — a finding a collaborator can open without the tool.
"""
from __future__ import annotations

import html

from PIL import Image

from .overlays import fit, png_data_uri


def finding_card(gen: Image.Image, overlay: Image.Image, refs: list[Image.Image], row: dict, scores: dict,
                 thresholds: dict, provenance: dict, scale: Image.Image | None = None,
                 cells: list[dict] | None = None) -> str:
    """A standalone HTML file (images inlined, every text escaped) to share one finding: the generated
    image and its heatmap large, the references with the reused cells outlined, the scores, the matched
    cells, the thresholds and the embedders."""
    e = lambda v: html.escape(str(v))
    refs_html = "".join(f'<img src="{png_data_uri(r)}" style="width:440px;margin:4px">' for r in refs)
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in
                    {**{k: row.get(k) for k in ("title", "slug", "kind", "model", "variant", "prompt", "seed",
                                                 "relpath")}, **scores}.items())
    th = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in thresholds.items())
    pv = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in provenance.items())
    cell_rows = "".join(
        f"<tr{' class=reused' if c['reused'] else ''}><td>{e(c['cell'])}</td><td>{c['sim']:.3f}</td>"
        f"<td>{e(c['matched'])}</td><td>{c['same_pos_sim']:.3f}</td><td>{'yes' if c['reused'] else ''}</td></tr>"
        for c in cells or [])
    cells_html = ("<h2>Cells</h2><table class=cells><tr><th>cell</th><th>best similarity</th><th>matched "
                  "reference cell</th><th>same position</th><th>reused</th></tr>" + cell_rows + "</table>") if cells else ""
    scale_html = f'<br><img src="{png_data_uri(scale)}" style="width:440px;border:0">' if scale is not None else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Finding: {e(row.get('title'))}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}th{{text-align:left;padding-right:1em}}
img{{border:1px solid #ccc}} .pair{{display:flex;gap:12px;flex-wrap:wrap}} table.cells td{{padding:0 .8em}}
tr.reused td{{background:#fde7e7}}</style></head><body>
<h1>{e(row.get('title'))} — {e(row.get('model'))}</h1>
<h2>Generated image and its patch matches</h2>
<div class=pair><img src="{png_data_uri(fit(gen, 440))}" style="width:440px"><div><img src="{png_data_uri(overlay)}"
 style="width:440px">{scale_html}</div></div>
<h2>Reference image(s) — outlined: the cells the generated image reused</h2>{refs_html}
<h2>Scores</h2><table>{table}</table>{cells_html}<h2>Thresholds</h2><table>{th}</table>
<h2>Embedders (provenance)</h2><table>{pv}</table>
<p style="color:grey">Made with Iconicity Explorer. Red outlines: cells reused (best similarity passes patch τ);
in each cell: its index, its best similarity and the reference image (R#) and cell (c#) it matched; yellow
outlines on a reference: its cells that generated cells matched.</p></body></html>"""
