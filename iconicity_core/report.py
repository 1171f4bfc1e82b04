"""`iconicity analyze`: the correlation analysis as files for a paper (CSV, LaTeX, HTML figures)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import store
from .analysis import correlation_table, multivariable
from .queries import Filters, Thresholds, thresholds_dict
from .views import covariate_columns, references_table

EXCLUDE = ("n",)


def write_analysis(con, out: str | Path, t: Thresholds, covariates: list[str] | None = None,
                   correction: str = "holm", n_resamples: int = 999, run_id: str | None = None,
                   variant: str | None = "title") -> list[Path]:
    """Write the analysis files; one prompt ``variant`` at a time (one point per reference and model)."""
    run_id = run_id or store.latest_run(con)
    if run_id is None:
        raise LookupError("the database has no scoring run yet — run `iconicity score` first")
    available = covariate_columns(con)
    covs = covariates or [c for c in available if c not in EXCLUDE]
    missing = [c for c in covs if c not in available]
    if missing:
        raise ValueError(f"unknown covariate(s) {missing}; numeric columns are: {', '.join(available) or 'none'}")
    if not covs:
        raise ValueError("the references have no numeric covariates — add some with `iconicity covariates ...`")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    refs = references_table(con, run_id, t, Filters(), None)
    if variant is not None and variant in set(refs["variant"]):
        refs = refs[refs["variant"] == variant]
    elif refs["variant"].nunique() > 1:
        raise ValueError(f"several prompt variants ({', '.join(sorted(refs['variant'].unique()))}): choose one with --variant")
    tables = []
    for kind in ("all", "static", "dynamic"):
        sub = refs if kind == "all" else refs[refs["kind"] == kind]
        if sub["slug"].nunique() >= 4:
            tables.append(correlation_table(sub, covs, n_resamples=n_resamples, correction=correction).assign(kind=kind))
    corr = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    models = []
    for metric in ("cra", "vr", "crt"):
        for model, g in refs.groupby("model"):
            models.append(multivariable(g, covs, metric).assign(metric=metric, group=model))
    mv = pd.concat(models, ignore_index=True) if models else pd.DataFrame()
    written = []
    for name, df in (("correlations", corr), ("multivariable", mv)):
        df.to_csv(out / f"{name}.csv", index=False)
        (out / f"{name}.tex").write_text(df.to_latex(index=False, float_format="%.3f", na_rep="--"))
        written += [out / f"{name}.csv", out / f"{name}.tex"]
    if len(corr):
        import plotly.express as px

        d = corr[corr["kind"] == "all"].assign(err_hi=lambda x: x.ci_high - x.rho, err_lo=lambda x: x.rho - x.ci_low)
        fig = px.scatter(d, x="rho", y="covariate", color="model", facet_col="metric", error_x="err_hi",
                         error_x_minus="err_lo", range_x=[-1, 1], title="Spearman rho with bootstrap 95% CI")
        fig.add_vline(x=0, line_dash="dot")
        fig.write_html(out / "correlations.html", include_plotlyjs=True)
        written.append(out / "correlations.html")
    meta = {"run_id": run_id, "variant": variant, "thresholds": thresholds_dict(t), "covariates": covs, "correction": correction,
            "bootstrap_resamples": n_resamples,
            "covariate_sources": {r[0]: {"source": r[1], "details": json.loads(r[2])} for r in
                                  con.execute("SELECT name, source, details FROM covariate_sources").fetchall()}}
    (out / "analysis.meta.json").write_text(json.dumps(meta, indent=2, default=str))
    return written + [out / "analysis.meta.json"]
