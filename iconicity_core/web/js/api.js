/* The one contract both hosts expose as window.iconicityExplorer (the shared file and the dashboard), so the
 * same scripts and tests drive either: the rows of `iconicity metrics --format json` and of the notebook API,
 * computed here from the run's data. DOM-free.
 */
import { correlationRows, bootstrapper } from './stats.js';
import { heldBytes } from './data.js';
import { crtGrid, curves, modelRows, publicRows, referenceRows, resolve, tauIndex } from './kernel.js';

/** Where the embedded Python tables and this page's differ first (null when they agree to 1e-9). */
export function disagreement(page, python) {
  if (page.length !== python.length) return 'it has ' + python.length + ' rows, this page ' + page.length;
  for (let i = 0; i < page.length; i++) {
    for (const k of Object.keys(python[i])) {
      const x = page[i][k], y = python[i][k];
      if (typeof y === 'number' || typeof x === 'number') {
        if ((x === null) !== (y === null) || (x !== null && !(Math.abs(x - y) <= 1e-9))) return python[i].model + ' ' + k + ': ' + y + ' vs ' + x;
      } else if (x !== y) return 'row ' + i + ' ' + k + ': ' + y + ' vs ' + x;
    }
  }
  return null;
}

function nul(x) { return typeof x === 'number' && isNaN(x) ? null : x; }

/** The functions of the contract over the data that ``getData()`` returns (the current run's). */
export function makeApi(getData) {
  const D = () => {
    const d = getData();
    if (!d) throw new Error('the run\'s data has not arrived yet');
    return d;
  };
  return {
    /** `iconicity metrics --by model --format json` rows (thresholds default to the run's operating point). */
    modelTable: (p) => publicRows(modelRows(D(), resolve(D(), p))),
    /** `iconicity metrics --by reference --format json` rows. */
    referenceTable: (p) => publicRows(referenceRows(D(), resolve(D(), p))),
    /** Results.sweep(): CRA vs recognition τ and VR vs patch τ per model, on the grid. */
    curves: (p) => curves(D(), resolve(D(), p)),
    /** Per-model CRT over a (recognition τ, patch τ) grid of thresholds (Results.sweep()["grid"]). */
    crtGrid: (p, clipTaus, patchTaus) => {
      const d = D(), r = resolve(d, p);
      const g = crtGrid(d, r, clipTaus.map((t) => tauIndex(d, t, 'clip_tau')), patchTaus.map((t) => tauIndex(d, t, 'patch_tau')));
      const out = [];
      g.clip.forEach((c, i) => g.patch.forEach((pt, j) => g.models.forEach((mo) => {
        out.push({clip_tau: c, patch_tau: pt, model: mo, crt: nul(g.crt[mo][i][j])});
      })));
      return out;
    },
    /** Spearman ρ per (model or 'pooled', metric, covariate) for one prompt variant; with CIs when asked. */
    correlations: (p, variant, withCI) => {
      const d = D();
      return correlationRows(d, resolve(d, p), variant || d.meta.start.variant).map((x) => {
        const o = {model: x.model, metric: x.metric, covariate: x.covariate, rho: nul(x.rho), n_refs: x.n_refs};
        if (withCI) {
          const ci = isNaN(x.rho) ? [NaN, NaN] : bootstrapper(x._a, x._b, d.meta.bootstrap, 1 + x._k)(Infinity);
          o.ci_low = nul(ci[0]); o.ci_high = nul(ci[1]);
        }
        return o;
      });
    },
    /** Bytes of the run's data in typed arrays (payload, groups, counts). */
    heldBytes: () => heldBytes(D()),
    isReady: false,
  };
}
