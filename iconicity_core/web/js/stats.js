/* Spearman correlations of per-reference scores with the references' covariates, with seeded
 * percentile-bootstrap confidence intervals computed in pieces (so a page stays responsive) — the browser's
 * copy of iconicity_core/analysis/correlation.correlation_table (ρ equal to 1e-9; the CIs draw their own
 * resamples). DOM-free.
 */
import { referenceRows, remember } from './kernel.js';

/** Average ranks with ties (scipy.stats.rankdata), for values without NaN. */
export function ranks(x) {
  const n = x.length, sorted = Float64Array.from(x).sort(), r = new Float64Array(n);   // native numeric sort
  for (let i = 0; i < n; i++) {
    const v = x[i];
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] < v) lo = mid + 1; else hi = mid; }
    const first = lo;
    hi = n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] <= v) lo = mid + 1; else hi = mid; }
    r[i] = (first + lo + 1) / 2;               // positions first+1 .. lo, averaged
  }
  return r;
}

export function pearson(a, b) {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let j = 0; j < n; j++) { const da = a[j] - ma, db = b[j] - mb; sab += da * db; saa += da * da; sbb += db * db; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

function spread(x) { let lo = Infinity, hi = -Infinity; for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); } return hi - lo; }

function pairs(x, y) {
  const a = [], b = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== null && !isNaN(x[i]) && y[i] !== null && !isNaN(y[i])) { a.push(x[i]); b.push(y[i]); }
  }
  return [a, b];
}

/** Spearman ρ over the complete pairs (NaN with fewer than 3, or a constant side): {rho, n, a, b}. */
export function spearman(x, y) {
  const [a, b] = pairs(x, y);
  if (a.length < 3 || !(spread(a) > 0) || !(spread(b) > 0)) return {rho: NaN, n: a.length, a, b};
  return {rho: pearson(ranks(a), ranks(b)), n: a.length, a, b};
}

/** mulberry32: a small seeded generator (the CIs are reproducible). */
export function rng(seed) {
  return function () {
    seed |= 0; seed = seed + 0x6D2B79F5 | 0;
    let t = Math.imul(seed ^ seed >>> 15, 1 | seed);
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}

/** numpy's default (linear) percentile of a sorted array. */
export function percentile(sorted, q) {
  const h = (sorted.length - 1) * q, lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/** Percentile-bootstrap 95 % CI of Spearman ρ, resampled in pieces: call step(ms) until it returns [low, high]
 *  (``now`` is the clock, performance.now in a page). */
export function bootstrapper(a, b, n, seed, now) {
  const rand = rng(seed), thetas = [], m = a.length, ra = new Float64Array(m), rb = new Float64Array(m);
  const clock = now || (() => Date.now());
  return function step(ms) {
    const t0 = clock();
    while (thetas.length < n) {
      for (let i = 0; i < m; i++) { const k = Math.floor(rand() * m); ra[i] = a[k]; rb[i] = b[k]; }
      const rho = pearson(ranks(ra), ranks(rb));
      thetas.push(isNaN(rho) ? 0 : rho);       // a constant resample counts as no correlation (as in Python)
      if (clock() - t0 > ms) break;
    }
    if (thetas.length < n) return null;
    const sorted = Float64Array.from(thetas).sort();
    return [percentile(sorted, 0.025), percentile(sorted, 0.975)];
  };
}

function roundTo(x, d) { const f = Math.pow(10, d); return Math.round(x * f) / f; }   // numpy's round(x, d)

/** Per model and 'pooled' (each reference's mean over models): Spearman ρ of CRA, VR and CRT with every numeric
 *  covariate, over the references of one prompt variant. Rows: model, metric, covariate, rho, n (references),
 *  and the pairs (_a, _b) and a seed (_k) for the bootstrap. */
export function correlationRows(D, r, variant) {
  return remember(D, 'corr|' + r.key + '|' + variant, () => {
    const refs = referenceRows(D, r, D.meta.variants.indexOf(variant));
    const covs = D.meta.refs.covariate_names, groups = [['pooled', null]];
    for (const mo of D.meta.models) if (refs.some((x) => x.model === mo)) groups.push([mo, mo]);
    const out = [];
    for (const grp of groups) {
      let rows;
      if (grp[1] === null) {
        const by = new Map();
        for (const x of refs) {
          const acc = by.get(x._s) || {sum: {}, cnt: {}};
          by.set(x._s, acc);
          for (const k of ['cra', 'vr', 'crt']) if (!isNaN(x[k])) { acc.sum[k] = (acc.sum[k] || 0) + x[k]; acc.cnt[k] = (acc.cnt[k] || 0) + 1; }
        }
        rows = Array.from(by.keys()).sort((p, q) => p - q).map((s) => {
          const acc = by.get(s), o = {_s: s};
          for (const k of ['cra', 'vr', 'crt']) o[k] = acc.cnt[k] ? roundTo(acc.sum[k] / acc.cnt[k], D.meta.pooled_decimals) : NaN;
          return o;
        });
      } else rows = refs.filter((x) => x.model === grp[1]);
      for (const metric of ['cra', 'vr', 'crt']) {
        for (const cov of covs) {
          const x = rows.map((o) => { const v = D.meta.refs.covariates[cov][o._s]; return v === null || v === undefined ? NaN : v; });
          const y = rows.map((o) => o[metric]);
          const s = spearman(x, y);
          out.push({model: grp[0], metric, covariate: cov, rho: s.rho, n_refs: s.n, _a: s.a, _b: s.b, _k: out.length});
        }
      }
    }
    return out;
  });
}
