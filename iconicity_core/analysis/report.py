"""`iconicity analyze`: the correlation analysis as files for a paper (CSV, LaTeX, HTML figures)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import db
from ..config import N_RESAMPLES, Filters, Thresholds
from ..errors import InvalidArgument
from ..io.csvfiles import to_csv
from ..io.outputs import fence_output, fenced_folder, write_output
from ..io.provenance import record_files
from .correlation import correlation_table, multivariable
from .tables import with_covariates

EXCLUDE = ("n",)


def write_analysis(con, out: str | Path, t: Thresholds, covariates: list[str] | None = None,
                   correction: str = "holm", n_resamples: int = N_RESAMPLES, run_id: str | None = None,
                   variant: str | None = "title") -> list[Path]:
    """Write the analysis files; one prompt ``variant`` at a time (one point per reference and model)."""
    run_id = db.runs.resolve(con, run_id)
    available = db.refs.numeric_covariates(con)
    covs = covariates or [c for c in available if c not in EXCLUDE]
    missing = [c for c in covs if c not in available]
    if missing:
        raise ValueError(f"unknown covariate(s) {missing}; numeric columns are: {', '.join(available) or 'none'}")
    if not covs:
        raise ValueError("the references have no numeric covariates — add some with `iconicity covariates ...`")
    out = fence_output(out, "folder")                # never a database, its maps folder, a file; created below
    if n_resamples < 1:
        raise InvalidArgument(f"n_resamples must be at least 1, got {n_resamples}")
    refs = with_covariates(db.metrics_sql.metrics_table(con, "reference", t, Filters(), run_id), db.refs.table(con))
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
    config = {"variant": variant, "thresholds": t.as_dict(), "covariates": covs, "correction": correction,
              "bootstrap_resamples": n_resamples, "out": str(out)}
    with db.runs.recorded(con, "analyze", config, {"covariate_sources": db.refs.sources_dict(con)},
                          parent_run=run_id) as rec:
        from .engine import Arrays, Engine
        from .robustness import sensitivity_grid

        engine = Engine(Arrays.from_columns(db.views.engine_arrays(con, run_id)))
        grid = sensitivity_grid(engine, t, variant=variant, n_resamples=n_resamples)
        files: dict[Path, str | bytes] = {}
        for name, df in (("correlations", corr), ("multivariable", mv), ("robustness", grid["table"]),
                         ("robustness_conclusions", grid["conclusions"])):
            files[out / f"{name}.csv"] = to_csv(df)
            files[out / f"{name}.tex"] = df.to_latex(index=False, float_format="%.3f", na_rep="--", escape=True)
        if len(corr):
            import plotly.express as px

            from ..display import esc, model_colours

            d = corr[corr["kind"] == "all"].assign(err_hi=lambda x: x.ci_high - x.rho, err_lo=lambda x: x.rho - x.ci_low)
            colours = {esc(m): c for m, c in model_colours(refs["model"].unique()).items()} | {"pooled": "#000000"}
            d = d.assign(model=d["model"].map(esc), covariate=d["covariate"].map(esc))
            fig = px.scatter(d, x="rho", y="covariate", color="model", color_discrete_map=colours, facet_col="metric", error_x="err_hi",
                             error_x_minus="err_lo", range_x=[-1, 1], title="Spearman rho with bootstrap 95% CI")
            fig.add_vline(x=0, line_dash="dot")
            files[out / "correlations.html"] = fig.to_html(include_plotlyjs=True)
        files[out / "analysis.meta.json"] = json.dumps({"run_id": run_id, "analyze_run": rec.run_id, **config,
                                                        "covariate_sources": db.refs.sources_dict(con)},
                                                       indent=2, default=str)
        fenced_folder(out)
        for path in files:                           # every file fenced before anything is written
            fence_output(path, "file")
        for path, data in files.items():
            write_output(path, data)
        rec.outputs.update(record_files(files, db.path_of(con)))
    return list(files)
