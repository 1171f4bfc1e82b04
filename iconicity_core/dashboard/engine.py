"""The dashboard's in-memory metrics engine: every table the pages show, from compact arrays loaded once
per (database file version, score run), with vectorised numpy (``np.bincount`` group-bys).

It computes exactly what :mod:`iconicity_core.db.metrics` computes in SQL (the reference
implementation; ``tests/test_engine.py`` checks every table against it on the demo and on random
databases), but a slider move costs a few milliseconds instead of a query over every cell row.
Results are memoised per (thresholds, filters) inside the engine, so a rerun whose inputs did not
change computes nothing. Pure: no Streamlit, no SQL.

Memory (``Engine.nbytes``): per image a file id (16 bytes), codes (13 bytes), the CLIP similarity
(8) and K float32 cell similarities (64 for 4x4): about 101 bytes per image — 19 MB at the paper's
scale (191,750 images), 185 MB at 10x.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Filters, Thresholds
from ..core.metrics import float32_cut
from ..core.sweeps import exceed_fraction, ranking_stability

REF_COLUMNS = ["model", "slug", "kind", "variant", "n", "cra", "vr", "vi", "crt"]
MODEL_COLUMNS = ["model", "kind", "variant", "n_refs", "cra", "vr", "vi", "crt"]
IMAGE_COLUMNS = ["model", "slug", "kind", "variant", "file_id", "clip_sim", "recognised", "vr", "vi", "label"]


@dataclass(frozen=True)
class Arrays:
    """Compact per-image arrays (codes index the name lists, which are sorted)."""

    file_id: np.ndarray          # (N,) bytes S16, sorted
    model: np.ndarray            # (N,) int16 -> models
    slug: np.ndarray             # (N,) int32 -> slugs
    variant: np.ndarray          # (N,) int16 -> variants
    label: np.ndarray            # (N,) int8 -> labels, -1 = none
    clip: np.ndarray             # (N,) float64
    cells: np.ndarray            # (N, K) float32
    dynamic: np.ndarray          # (n_slugs,) bool
    models: list[str]
    slugs: list[str]
    variants: list[str]
    labels: list[str]

    @classmethod
    def from_columns(cls, d: dict) -> "Arrays":
        """From :func:`iconicity_core.db.views.engine_arrays`."""
        n = len(d["file_id"])
        k = len(d["cells"]) // n if n else 16
        if len(d["cells"]) != n * k:
            raise ValueError("some generated images do not have every cell scored — run `iconicity score` again")

        def codes(values, dtype):
            vals = np.asarray(values, dtype=object)
            names = sorted({v for v in vals if isinstance(v, str)})
            lut = {v: i for i, v in enumerate(names)}
            return np.fromiter((lut.get(v, -1) for v in vals), dtype, n), names

        model, models = codes(d["model"], np.int16)
        variant, variants = codes(d["variant"], np.int16)
        label, labels = codes(d["label"], np.int8)
        slugs = sorted(d["kinds"])
        lut = {s: i for i, s in enumerate(slugs)}
        slug = np.fromiter((lut[s] for s in d["slug"]), np.int32, n)
        return cls(np.asarray(d["file_id"], dtype="S16"), model, slug, variant, label,
                   np.asarray(d["clip"] if "clip" in d else d["sim"], np.float64),
                   np.asarray(d["cells"], np.float32).reshape(n, k),
                   np.array([d["kinds"][s] == "dynamic" for s in slugs], bool), models, slugs, variants, labels)


class Engine:
    """Tables for the pages at any thresholds and filters (memoised per inputs)."""

    MEMO = 48

    def __init__(self, arrays: Arrays) -> None:
        a = self.a = arrays
        self.n, self.k = a.cells.shape
        ns, nv = len(a.slugs), max(1, len(a.variants))
        key = (a.model.astype(np.int64) * ns + a.slug) * nv + a.variant       # sorts like (model, slug, variant)
        self._ref_keys, ref = np.unique(key, return_inverse=True)
        self._ref = ref.astype(np.int32)
        self._ref_model = (self._ref_keys // nv // ns).astype(np.int64)
        self._ref_slug = (self._ref_keys // nv % ns).astype(np.int64)
        self._ref_variant = (self._ref_keys % nv).astype(np.int64)
        self._memo: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        a = self.a
        return sum(x.nbytes for x in (a.file_id, a.model, a.slug, a.variant, a.label, a.clip, a.cells,
                                      self._ref, self._ref_keys))

    def memo(self, key, fn):
        """``fn()`` memoised under ``key`` (an LRU of the last :attr:`MEMO` results) — for tables derived
        from this engine's outputs, so a rerun with unchanged inputs recomputes nothing."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = fn()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > self.MEMO:
                self._memo.popitem(last=False)
        return value

    def rows_of(self, file_ids) -> np.ndarray:
        """Row index of each file id (-1 for ids the run did not score)."""
        ids = np.asarray(list(file_ids), dtype="S16")
        pos = np.searchsorted(self.a.file_id, ids)
        pos = np.minimum(pos, max(0, self.n - 1))
        return np.where((self.n > 0) & (self.a.file_id[pos] == ids), pos, -1)

    # -- building blocks -----------------------------------------------------------------------
    def mask(self, f: Filters) -> np.ndarray:
        """Images that pass the filters."""
        def build():
            a, m = self.a, np.ones(self.n, bool)
            for codes, names, wanted in ((a.model, a.models, f.models), (a.variant, a.variants, f.variants),
                                         (a.slug, a.slugs, f.slugs)):
                if wanted:
                    m &= np.isin(codes, [i for i, name in enumerate(names) if name in set(wanted)])
            if f.kinds:
                m &= np.isin(np.where(a.dynamic, 1, 0)[a.slug], [int(k == "dynamic") for k in f.kinds])
            return m
        return self.memo(("mask", f), build)

    def recognised(self, t: Thresholds) -> np.ndarray:
        """``s_i > tau`` with the dynamic threshold for dynamic references (float64, as in SQL)."""
        def build():
            tau = np.where(self.a.dynamic, np.float64(t.dynamic_tau), np.float64(t.clip_tau))[self.a.slug]
            return self.a.clip >= tau if t.rule == "ge" else self.a.clip > tau
        return self.memo(("rec", t.clip_tau, t.dynamic_tau, t.rule), build)

    def vr(self, patch_tau: float, rule: str = "gt") -> np.ndarray:
        """Fraction of reused cells per image (``sim > tau`` with the float64 answer, as in SQL)."""
        return self.memo(("vr", patch_tau, rule), lambda: _vr(self.a.cells, patch_tau, rule))

    # -- tables (the same rows and values as `iconicity metrics --by ...`) ------------------------
    def reference_arrays(self, t: Thresholds, f: Filters) -> dict[str, np.ndarray]:
        """Per (model, slug, variant) group present under the filters: codes and n, cra, vr, vi, crt."""
        return self.memo(("refarr", t, f), lambda: self._groups(t, self.mask(f)))

    def subset_means(self, t: Thresholds, m: np.ndarray) -> dict[str, float]:
        """CRA / VR / VI / CRT of a subset of the images (a map selection): per (model, reference,
        variant) group of the subset, then macro means over the groups."""
        r = self._groups(t, m)
        with np.errstate(invalid="ignore"):
            out = {k: float(np.nanmean(r[k])) if len(r[k]) and not np.isnan(r[k]).all() else float("nan")
                   for k in ("cra", "vr", "vi", "crt")}
        return out | {"images": int(m.sum()), "groups": int(len(r["n"]))}

    def _groups(self, t: Thresholds, m: np.ndarray) -> dict[str, np.ndarray]:
        """Per (model, slug, variant) group among the images of ``m``: codes, n, cra, vr, vi, crt."""
        g = self._ref[m]
        n_groups = len(self._ref_keys)
        n = np.bincount(g, minlength=n_groups)
        rec = self.recognised(t)[m]
        vr = self.vr(t.patch_tau, t.rule)[m]
        n_rec = np.bincount(g, weights=rec, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            cra = n_rec / n
            if t.pooling == "all":
                vr_ref = np.bincount(g, weights=vr, minlength=n_groups) / n
            else:
                vr_ref = np.where(n_rec > 0, np.bincount(g, weights=vr * rec, minlength=n_groups) / n_rec, np.nan)
        keep = n > 0
        cra, vr_ref, n = cra[keep], vr_ref[keep], n[keep]
        vi = 1.0 - vr_ref
        crt = np.where(cra > 0, cra * (1.0 - vr_ref), 0.0)
        return {"model": self._ref_model[keep], "slug": self._ref_slug[keep], "variant": self._ref_variant[keep],
                "n": n, "cra": cra, "vr": vr_ref, "vi": vi, "crt": crt}

    def reference_table(self, t: Thresholds, f: Filters = Filters()) -> pd.DataFrame:
        """``metrics --by reference``: model, slug, kind, variant, n, cra, vr, vi, crt, pooling."""
        def build():
            r, a = self.reference_arrays(t, f), self.a
            df = pd.DataFrame({"model": np.array(a.models, object)[r["model"]],
                               "slug": np.array(a.slugs, object)[r["slug"]],
                               "kind": np.where(a.dynamic[r["slug"]], "dynamic", "static"),
                               "variant": np.array(a.variants, object)[r["variant"]],
                               "n": r["n"], **{c: r[c] for c in ("cra", "vr", "vi", "crt")}})
            df["pooling"] = t.pooling
            return df
        return self.memo(("reftable", t, f), build)

    def model_table(self, t: Thresholds, f: Filters = Filters()) -> pd.DataFrame:
        """``metrics --by model``: macro means over references per (model, kind, variant) and with
        ``kind = 'all'``; rows ordered as the SQL orders them."""
        def build():
            r = self.reference_arrays(t, f)
            a = self.a
            dyn = a.dynamic[r["slug"]].astype(np.int64)
            nv = max(1, len(a.variants))
            parts = []
            for kind_code, kind_name in ((dyn, None), (np.full_like(dyn, 2), "all")):
                key = (r["model"] * nv + r["variant"]) * 3 + kind_code
                keys, g = np.unique(key, return_inverse=True)
                cnt = np.bincount(g)
                row = {"model_c": keys // 3 // nv, "variant_c": keys // 3 % nv, "kind_c": keys % 3, "n_refs": cnt}
                for c in ("cra", "vr", "vi", "crt"):
                    v = r[c]
                    ok = ~np.isnan(v)
                    num = np.bincount(g, weights=np.where(ok, v, 0.0), minlength=len(keys))
                    den = np.bincount(g, weights=ok, minlength=len(keys))
                    with np.errstate(invalid="ignore", divide="ignore"):
                        row[c] = np.where(den > 0, num / den, np.nan)
                parts.append(pd.DataFrame(row))
            df = pd.concat(parts, ignore_index=True)
            kinds = np.array(["static", "dynamic", "all"], object)
            out = pd.DataFrame({"model": np.array(a.models, object)[df.model_c], "kind": kinds[df.kind_c],
                                "variant": np.array(a.variants, object)[df.variant_c], "n_refs": df.n_refs,
                                **{c: df[c] for c in ("cra", "vr", "vi", "crt")}})
            order = np.lexsort((out["kind"].to_numpy(), out["kind"].to_numpy() == "all",
                                out["variant"].to_numpy(), out["model"].to_numpy()))
            out = out.iloc[order].reset_index(drop=True)
            out["pooling"] = t.pooling
            return out
        return self.memo(("modeltable", t, f), build)

    def image_table(self, t: Thresholds, f: Filters = Filters()) -> pd.DataFrame:
        """``metrics --by image`` without the relative path and seed (the dashboard looks them up for the
        images it shows): model, slug, kind, variant, file_id, clip_sim, recognised, vr, vi, label."""
        def build():
            return self._image_frame(t, np.flatnonzero(self.mask(f)))
        return self.memo(("imagetable", t, f), build)

    def labelled_table(self, t: Thresholds, f: Filters, also: frozenset[str] = frozenset()) -> pd.DataFrame:
        """:meth:`image_table` of the images with a label in the database, and of the files ``also``
        (labelled elsewhere): calibration needs these few, not every image."""
        return self.memo(("labelledtable", t, f, also),
                         lambda: self._image_frame(t, np.flatnonzero(self.labelled(f, also))))

    def labelled(self, f: Filters, also: frozenset[str] = frozenset()) -> np.ndarray:
        """Images that pass the filters and have a label in the database or are among the files ``also``."""
        m = self.mask(f) & (self.a.label >= 0)
        extra = self.rows_of(sorted(also))
        m[extra[(extra >= 0) & self.mask(f)[np.maximum(extra, 0)]]] = True
        return m

    def _image_frame(self, t: Thresholds, idx: np.ndarray) -> pd.DataFrame:
        a = self.a
        vr = self.vr(t.patch_tau, t.rule)[idx]
        slug = a.slug[idx]
        labels = np.array([*a.labels, None], object)
        return pd.DataFrame({"model": np.array(a.models, object)[a.model[idx]],
                             "slug": np.array(a.slugs, object)[slug],
                             "kind": np.where(a.dynamic[slug], "dynamic", "static"),
                             "variant": np.array(a.variants, object)[a.variant[idx]],
                             "file_id": a.file_id[idx].astype(str), "clip_sim": a.clip[idx],
                             "recognised": self.recognised(t)[idx], "vr": vr, "vi": 1.0 - vr,
                             "label": labels[a.label[idx]]})

    # -- threshold sensitivity (independent of the current thresholds) ---------------------------
    def sweeps(self, f: Filters, pooling: str, taus: np.ndarray, grid_taus: np.ndarray,
               rule: str = "gt") -> dict[str, pd.DataFrame]:
        """CRA vs CLIP tau and VR vs patch tau per model (macro over references, prompt variants
        pooled; VR over all generations), and per-model CRT over the (CLIP tau, patch tau) grid."""
        def build():
            a, m = self.a, self.mask(f)
            ns = len(a.slugs)
            keys, g = np.unique(a.model[m].astype(np.int64) * ns + a.slug[m], return_inverse=True)
            model_of_group = keys // ns
            models = np.unique(model_of_group)
            clip, cells = a.clip[m], a.cells[m]
            curves = {}
            for name, frac in (("cra", exceed_fraction(g, clip, taus, rule)),
                               ("vr", exceed_fraction(g, cells, taus, rule))):
                per_model = np.stack([frac[model_of_group == mc].mean(axis=0) for mc in models])
                names = np.array(a.models, object)[models]
                curves[name] = pd.DataFrame({"tau": np.tile(taus, len(names)), "model": np.repeat(names, len(taus)),
                                             name: per_model.ravel()})
            curves["grid"] = self._crt_grid(g, model_of_group, models, clip, cells, grid_taus, pooling, rule)
            return curves
        return self.memo(("sweeps", f, pooling, tuple(taus), tuple(grid_taus), rule), build)

    def _crt_grid(self, g, model_of_group, models, clip, cells, taus, pooling: str, rule: str) -> pd.DataFrame:
        """Per-model CRT at every (CLIP tau, patch tau) of ``taus`` x ``taus`` (groups ``g``: model x slug)."""
        n_groups = len(model_of_group)
        n = np.bincount(g, minlength=n_groups)
        rows = []
        vrs = {pt: _vr(cells, pt, rule) for pt in taus}
        for ct in taus:
            rec = clip >= np.float64(ct) if rule == "ge" else clip > np.float64(ct)
            n_rec = np.bincount(g, weights=rec, minlength=n_groups)
            cra = n_rec / n
            for pt in taus:
                vr = vrs[pt]
                with np.errstate(invalid="ignore", divide="ignore"):
                    pooled = (np.bincount(g, weights=vr, minlength=n_groups) / n if pooling == "all" else
                              np.where(n_rec > 0, np.bincount(g, weights=vr * rec, minlength=n_groups) / n_rec, np.nan))
                crt = np.where(cra > 0, cra * (1 - pooled), 0.0)
                rows += [(ct, pt, self.a.models[mc], float(crt[model_of_group == mc].mean())) for mc in models]
        return pd.DataFrame(rows, columns=["clip_tau", "patch_tau", "model", "crt"])

    def ranking_stability(self, grid: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
        return ranking_stability(grid, t.clip_tau, t.patch_tau)

    def histograms(self, f: Filters, bins: int = 60) -> dict[str, pd.DataFrame]:
        """Per-model histograms (bin centre, count) of the best CLIP similarity and of the per-cell
        best similarities — counts, so a chart of 30 M cell values stays small."""
        def build():
            a, m = self.a, self.mask(f)
            out = {}
            for name, values in (("clip_sim", a.clip[m]), ("cell_sim", a.cells[m])):
                lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
                edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
                parts = []
                for mc in np.unique(a.model[m]):
                    sel = a.model[m] == mc
                    counts, _ = np.histogram(values[sel], edges)
                    parts.append(pd.DataFrame({"model": a.models[mc], "value": (edges[:-1] + edges[1:]) / 2,
                                               "count": counts}))
                out[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model", "value", "count"])
            return out
        return self.memo(("hist", f, bins), build)


def _vr(cells: np.ndarray, tau: float, rule: str) -> np.ndarray:
    """Fraction of each row's cells above ``tau`` (compared in float32 with the float64 answer)."""
    return (cells > float32_cut(tau, rule)).sum(axis=1, dtype=np.int16) / np.float64(cells.shape[1])
