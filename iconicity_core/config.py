"""One source of truth for defaults and the domain types every layer shares.

Thresholds and filters are plain frozen dataclasses (hashable, so they can key caches); the CLI,
the dashboard, the benches and the SQL all take them from here.

>>> Thresholds().clip_tau, Thresholds().patch_tau, Thresholds().pooling
(0.7, 0.6, 'recognised')
>>> Thresholds(0.7, None).dynamic_tau, Thresholds(0.7, 0.75).dynamic_tau
(0.7, 0.75)
"""
from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, cast, get_args

from .errors import InvalidArgument

#: Recognition threshold on the best CLIP similarity (docs/method.md).
CLIP_TAU = 0.70
#: Realization threshold on a cell's best DINOv3 similarity.
PATCH_TAU = 0.60
#: VI(c) is pooled over the recognised generations (default) or over all of them.
Pooling = Literal["recognised", "all"]          #: VI(c) over the recognised generations (the paper) or all
POOLINGS: tuple[Pooling, ...] = get_args(Pooling)
POOLING: Pooling = "recognised"
#: Dynamic references within this pHash Hamming distance are near-duplicates (the authors' rule).
PHASH_MAX = 18
#: Grid of cells for the patch-level scores.
GRID = "4x4"
#: Prompt variant of images found under generations/<model>/<slug>/.
DEFAULT_VARIANT = "title"
#: Reference kinds.
KINDS: tuple[str, ...] = ("static", "dynamic")
#: How a similarity is compared with its threshold: ``gt`` (``s > tau``, the paper), ``ge`` (``s >= tau``) or
#: ``authors`` (the released scripts, kind by kind: ``>=``, a static reference's CLIP similarity compared in
#: float32 as compute_CRA.py does; ``core/metrics.py``, *Rules*).
Rule = Literal["gt", "ge", "authors"]          #: s > τ (the paper), s >= τ, the released scripts' >= (kernel.cut)
RULES: tuple[Rule, ...] = get_args(Rule)
#: Which cell similarity decides reuse: ``any`` (best match anywhere in any reference image, the paper)
#: or ``same-position`` (the cell at the same grid position only).
Match = Literal["any", "same-position"]        #: a cell's best match anywhere (the paper) or at its own position
MATCHES: tuple[Match, ...] = get_args(Match)
MATCH: Match = "any"
#: Score presets: ``paper`` = the method as published (docs/method.md); ``authors`` = the released
#: scripts (docs/method.md, "Reproducing the released scripts").
PRESETS: dict[str, dict] = {
    "paper": {"clip_model": "ViT-B-32", "clip_pretrained": "openai", "clip_preprocess": "open_clip",
              "cell_preprocess": "squash", "cell_size": None, "threshold_rule": "gt", "clip_tau_dynamic": None,
              "k_gen": None, "decode": "careful"},
    "authors": {"clip_model": "ViT-B-16", "clip_pretrained": "openai", "clip_preprocess": "hf",
                "cell_preprocess": "center-crop", "cell_size": 256, "threshold_rule": "authors", "clip_tau_dynamic": 0.75,
                "k_gen": 50, "decode": "authors"},
}
#: Bootstrap resamples of every confidence interval unless a command or a page says otherwise.
N_RESAMPLES = 999
#: The paper's sensitivity check (`iconicity robustness`, the Thresholds page): recognition τ and patch τ each one
#: step below, at and above the operating point (the paper's 0.6/0.7/0.8 x 0.5/0.6/0.7 around 0.70 / 0.60).
ROBUSTNESS_STEP = 0.1
#: One colour per model, by the model's rank among the database's (Okabe & Ito's colour-blind-safe palette without
#: yellow, then Paul Tol's muted scheme), and one per quadrant of the plane (replicated, reinterpreted, reused
#: unrecognised, missed) — the same on every page, chart, export and in the shared file.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#332288", "#117733",
                            "#882255", "#999933", "#44AA99", "#AA4499", "#661100", "#6699CC", "#888888")
QUADRANT_COLOURS: tuple[str, ...] = ("#D55E00", "#009E73", "#CC79A7", "#999999")
#: Ground-truth labels a person (or the demo simulator) gives a generated image.
LABELS: tuple[str, ...] = ("replica", "partial", "reinterpretation", "miss")


@dataclass(frozen=True)
class Thresholds:
    """Everything that turns raw similarities into metrics."""

    clip_tau: float = CLIP_TAU
    clip_tau_dynamic: float | None = None      # None: same as clip_tau
    patch_tau: float = PATCH_TAU
    pooling: Pooling = POOLING
    rule: Rule = "gt"                           # gt: s > tau (the paper); ge: s >= tau; authors: the scripts' >=
    match: Match = MATCH                         # any: best cell match anywhere (the paper); same-position

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise InvalidArgument(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        if self.rule not in RULES:
            raise InvalidArgument(f"threshold rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if self.match not in MATCHES:
            raise InvalidArgument(f"matching must be one of {', '.join(MATCHES)}, got {self.match!r}")
        for name in ("clip_tau", "clip_tau_dynamic", "patch_tau"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, numbers.Real):      # '0.7' and True are not thresholds
                raise InvalidArgument(f"{name} must be a number in [-1, 1], got {v!r}")
            if not (math.isfinite(v) and -1.0 <= float(v) <= 1.0):
                raise InvalidArgument(f"{name} must lie in [-1, 1], got {v}")

    @property
    def dynamic_tau(self) -> float:
        return self.clip_tau if self.clip_tau_dynamic is None else self.clip_tau_dynamic

    def as_dict(self) -> dict:
        """Plain values for JSON outputs (the dynamic threshold spelled out)."""
        return asdict(self) | {"clip_tau_dynamic": self.dynamic_tau}


@dataclass(frozen=True)
class Filters:
    """Optional restrictions (empty tuple = everything)."""

    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    slugs: tuple[str, ...] = ()


def run_thresholds(run_config: dict | None, clip_tau: float | None = None, clip_tau_dynamic: float | None = None,
                   patch_tau: float | None = None, pooling: Pooling | None = None, match: Match | None = None,
                   rule: Rule | None = None) -> Thresholds:
    """Thresholds for reading a score run: the values given, else the run's operating point (its
    embedders' defaults, recorded with the run), else the paper's; the run's threshold rule unless
    ``rule`` is given. The CLI, the notebook API and the dashboard all start here.

    >>> run_thresholds({"threshold_rule": "ge", "operating_point": {"clip_tau": 0.7, "clip_tau_dynamic": 0.75,
    ...                 "patch_tau": 0.6}}, clip_tau=0.5)
    Thresholds(clip_tau=0.5, clip_tau_dynamic=0.75, patch_tau=0.6, pooling='recognised', rule='ge', match='any')
    >>> run_thresholds({}).clip_tau, run_thresholds({}).dynamic_tau
    (0.7, 0.7)
    """
    cfg = run_config or {}
    op = cfg.get("operating_point") or {}
    rule = rule or cast(Rule, cfg.get("threshold_rule") or op.get("rule") or "gt")   # checked by Thresholds
    op_tau = op.get("clip_tau", CLIP_TAU)
    op_dyn = op.get("clip_tau_dynamic")
    if clip_tau_dynamic is None and op_dyn is not None and op_dyn != op_tau:
        clip_tau_dynamic = op_dyn              # a distinct dynamic default (the scripts' 0.75) stays
    return Thresholds(op_tau if clip_tau is None else clip_tau, clip_tau_dynamic,
                      op.get("patch_tau", PATCH_TAU) if patch_tau is None else patch_tau, pooling or POOLING, rule,
                      match or MATCH)


def checkout_root() -> Path | None:
    """The repository folder when the package runs from a checkout (an editable install), else None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / ".git").exists() and (root / "app.py").is_file() and (root / "pyproject.toml").is_file() else None


def data_dir() -> Path:
    """Where the demo and other user data live: ``$ICONICITY_DATA``; else, running from a checkout, its
    ``data/`` folder (the layout of docs/method.md); else the platform's user data folder
    (``~/.local/share/iconicity-explorer`` on Linux) — never inside an installed package."""
    env = os.environ.get("ICONICITY_DATA")
    if env:
        return Path(env).expanduser().resolve()
    root = checkout_root()
    if root is not None:
        return root / "data"
    from platformdirs import user_data_path

    return user_data_path("iconicity-explorer", appauthor=False)


def image_roots(roots: Sequence[str | Path] = (), environ: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """Folders images may be read from: ``roots`` (``--allow-root``) and ``$ICONICITY_IMAGE_ROOTS`` (separated
    by the path separator), resolved; None when neither is given — then a database's own dataset roots decide.

    >>> image_roots([], {}) is None, len(image_roots(["/data/a"], {"ICONICITY_IMAGE_ROOTS": "/b" + os.pathsep + "/c"}))
    (True, 3)
    """
    env = os.environ if environ is None else environ
    found = [*roots, *[p for p in env.get("ICONICITY_IMAGE_ROOTS", "").split(os.pathsep) if p]]
    return tuple(str(Path(r).expanduser().resolve()) for r in found) if found else None


def demo_db_path() -> Path:
    """The embedded demo database (built on first use)."""
    return data_dir() / "demo.duckdb"
