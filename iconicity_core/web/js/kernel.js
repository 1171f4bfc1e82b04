/* The metric kernel of iconicity_core/core/metrics.py in the browser, step by step and DOM-free:
 * recognised / reused as one comparison per byte, the four sufficient statistics per (model, reference,
 * variant) group, finish, macro means — so modelRows(D, r) are the rows of `iconicity metrics --by model`.
 * tests/test_web_kernel.py runs it in Node against the Python kernel, rule by rule.
 *
 * A similarity's byte q passes grid threshold j exactly when q > j (data.js). Nothing here allocates per
 * image on a threshold move: the reused-cell counts live in buffers made once per data set.
 */

export const METRICS = ['cra', 'vr', 'vi', 'crt'];
export const KINDS = ['dynamic', 'static', 'all'];          // the order of `metrics --by model` within a variant

// -- parameters, resolved as config.run_thresholds does --------------------------------------------------------
export function tauIndex(D, t, name) {
  if (typeof t !== 'number' || !isFinite(t)) throw new TypeError(name + ' must be a number, got ' + t);
  const j = Math.round(t * 100);
  if (Math.abs(t * 100 - j) > 1e-6 || j < 0 || j >= D.meta.grid.n)
    throw new RangeError(name + ' = ' + t + ' is not on the threshold grid (0.00, 0.01, ..., 1.00)');
  return j;
}

function list(v) { return v === undefined || v === null ? [] : (typeof v === 'string' ? [v] : Array.from(v)); }
function given(v) { return v !== undefined && v !== null; }

/** Parameters with defaults (the run's operating point) and grid indices; throws on anything off the grid. */
export function resolve(D, p) {
  p = p || {};
  const op = D.meta.op, rule = D.meta.run.rule;
  if (given(p.rule) && p.rule !== rule) throw new RangeError('this data holds run ' + D.meta.run.id + ' under rule ' + rule + ' only');
  const clip = given(p.clip_tau) ? p.clip_tau : op.clip_tau;
  const dyn = given(p.clip_tau_dynamic) ? p.clip_tau_dynamic : (given(op.clip_tau_dynamic) ? op.clip_tau_dynamic : clip);
  const patch = given(p.patch_tau) ? p.patch_tau : op.patch_tau;
  const pooling = p.pooling || 'recognised', match = p.match || 'any';
  if (pooling !== 'recognised' && pooling !== 'all') throw new RangeError('pooling must be recognised or all');
  if (match !== 'any' && match !== 'same-position') throw new RangeError('match must be any or same-position');
  const r = {clip_tau: clip, clip_tau_dynamic: dyn, patch_tau: patch, pooling, match,
             kc: tauIndex(D, clip, 'clip_tau'), kd: tauIndex(D, dyn, 'clip_tau_dynamic'), kp: tauIndex(D, patch, 'patch_tau'),
             models: list(p.models), kinds: list(p.kinds), variants: list(p.variants), slugs: list(p.slugs)};
  r.filterKey = JSON.stringify([r.models, r.kinds, r.variants, r.slugs]);       // names may hold ','
  r.key = JSON.stringify([r.kc, r.kd, r.kp, pooling, match]) + r.filterKey;
  return r;
}

function allowed(names, wanted) {               // 1 = kept by the filter, per code
  const m = new Uint8Array(names.length);
  if (!wanted.length) { m.fill(1); return m; }
  names.forEach((n, c) => { if (wanted.indexOf(n) >= 0) m[c] = 1; });
  return m;
}

/** Per-code masks of the filters (kind: [static, dynamic]). */
export function masks(D, r) {
  return remember(D, 'masks|' + r.filterKey, () => {
    const kind = new Uint8Array(2);
    if (!r.kinds.length) kind.fill(1);
    else { kind[0] = r.kinds.indexOf('static') >= 0 ? 1 : 0; kind[1] = r.kinds.indexOf('dynamic') >= 0 ? 1 : 0; }
    return {model: allowed(D.meta.models, r.models), variant: allowed(D.meta.variants, r.variants),
            slug: allowed(D.meta.slugs, r.slugs), kind};
  });
}

/** How many results of each kind stay memoised: the large ones (a Float64Array per group, a row per group)
 *  only a few, so a long drag at ten times the paper's scale does not pile up memory. */
const KEEP = {stats: 4, refs: 4, corr: 4, models: 32, curves: 8, crtgrid: 64, masks: 16};

/** An LRU of results per data set and kind (the key's prefix, before '|'), keyed by their parameters. */
export function remember(D, key, fn) {
  if (D.memo.has(key)) return D.memo.get(key);
  const v = fn(), kind = key.slice(0, key.indexOf('|')), order = D.memoKeys[kind] || (D.memoKeys[kind] = []);
  D.memo.set(key, v); order.push(key);
  if (order.length > (KEEP[kind] || 8)) D.memo.delete(order.shift());
  return v;
}

function cellsOf(D, match) { return match === 'any' ? D.A.cells : (D.A.same || D.A.cells); }

/** Reused cells per image at patch threshold index kp: one pass over every cell, into one of two buffers
 *  made once (the last two patch thresholds stay ready while only the recognition thresholds move). */
export function reusedCounts(D, kp, match) {
  const s = D.scratch, key = kp + '|' + match;
  s.counts = s.counts || [];
  for (const c of s.counts) if (c.key === key) return c.out;
  let slot = s.counts.length < 2 ? {key: null, out: new Uint16Array(D.N)} : s.counts.shift();
  const cells = cellsOf(D, match), out = slot.out, N = D.N, K = D.K;
  for (let i = 0, b = 0; i < N; i++, b += K) {
    let c = 0;
    for (let j = 0; j < K; j++) if (cells[b + j] > kp) c++;
    out[i] = c;
  }
  slot.key = key;
  s.counts.push(slot);
  return out;
}

/** Sufficient statistics per (model, reference, variant): n, n_rec, the sum of VR_i, the sum over the recognised. */
export function groupStats(D, r) {
  return remember(D, 'stats|' + r.key, () => {
    const m = masks(D, r), counts = reusedCounts(D, r.kp, r.match), G = D.G, K = D.K;
    const n = new Float64Array(G), nrec = new Float64Array(G), vrs = new Float64Array(G), vrr = new Float64Array(G);
    const kc = r.kc, kd = r.kd, {clip, model, variant, slug} = D.A, dyn = D.dynamic, group = D.group;
    for (let i = 0, N = D.N; i < N; i++) {
      const s = slug[i];
      if (!m.model[model[i]] || !m.variant[variant[i]] || !m.slug[s] || !m.kind[dyn[s]]) continue;
      const g = group[i], v = counts[i] / K;
      n[g] += 1; vrs[g] += v;
      if (clip[i] > (dyn[s] ? kd : kc)) { nrec[g] += 1; vrr[g] += v; }
    }
    return {n, nrec, vrs, vrr};
  });
}

/** CRA, VR, VI and CRT of one group (core.metrics.finish). */
export function finish(st, g, pooling) {
  const n = st.n[g], cra = st.nrec[g] / n;
  let vr;
  if (pooling === 'all') vr = st.vrs[g] / n;
  else vr = st.nrec[g] > 0 ? st.vrr[g] / st.nrec[g] : NaN;
  const vi = 1 - vr, crt = cra > 0 ? cra * vi : (isNaN(cra) ? NaN : 0);
  return {cra, vr, vi, crt};
}

function refRow(D, st, g, r) {
  const NV = D.NV, NS = D.NS, v = g % NV, s = Math.floor(g / NV) % NS, mo = Math.floor(g / NV / NS);
  const f = finish(st, g, r.pooling);
  return {model: D.meta.models[mo], slug: D.meta.slugs[s], kind: D.dynamic[s] ? 'dynamic' : 'static',
          variant: D.meta.variants[v], n: st.n[g], cra: f.cra, vr: f.vr, vi: f.vi, crt: f.crt,
          pooling: r.pooling, match: r.match, _m: mo, _s: s, _v: v};
}

/** `iconicity metrics --by reference` (sorted by model, slug, variant); only prompt variant index ``variant``
 *  when given (-1, an unknown name, gives no rows). */
export function referenceRows(D, r, variant) {
  if (variant === -1) return [];
  const only = variant === undefined ? -1 : variant;
  return remember(D, 'refs|' + only + '|' + r.key, () => {
    const st = groupStats(D, r), out = [];
    for (let g = 0; g < D.G; g++) if (st.n[g] > 0 && (only < 0 || g % D.NV === only)) out.push(refRow(D, st, g, r));
    return out;
  });
}

/** One reference's rows (index ``s``), every model and variant. */
export function slugRows(D, r, s) {
  const st = groupStats(D, r), out = [];
  for (let mo = 0; mo < D.NM; mo++) for (let v = 0; v < D.NV; v++) {
    const g = (mo * D.NS + s) * D.NV + v;
    if (st.n[g] > 0) out.push(refRow(D, st, g, r));
  }
  return out;
}

/** `iconicity metrics --by model`: macro means over references per (model, kind, variant) and kind 'all'. */
export function modelRows(D, r) {
  return remember(D, 'models|' + r.key, () => {
    const st = groupStats(D, r), NM = D.NM, NV = D.NV, NS = D.NS, cells = NM * NV * 3;
    const nref = new Float64Array(cells), sum = new Float64Array(cells * 4), cnt = new Float64Array(cells * 4);
    for (let g = 0; g < D.G; g++) {
      if (!(st.n[g] > 0)) continue;
      const v = g % NV, s = Math.floor(g / NV) % NS, mo = Math.floor(g / NV / NS), f = finish(st, g, r.pooling);
      const vals = [f.cra, f.vr, f.vi, f.crt], own = (mo * NV + v) * 3;
      for (let t = 0; t < 2; t++) {
        const c = own + (t === 0 ? (D.dynamic[s] ? 0 : 1) : 2);
        nref[c] += 1;
        for (let k = 0; k < 4; k++) if (!isNaN(vals[k])) { sum[c * 4 + k] += vals[k]; cnt[c * 4 + k] += 1; }
      }
    }
    const out = [];
    for (let mo = 0; mo < NM; mo++) for (let v = 0; v < NV; v++) for (let ki = 0; ki < 3; ki++) {
      const c = (mo * NV + v) * 3 + ki;
      if (!nref[c]) continue;
      const row = {model: D.meta.models[mo], kind: KINDS[ki], variant: D.meta.variants[v], n_refs: nref[c]};
      for (let k = 0; k < 4; k++) row[METRICS[k]] = cnt[c * 4 + k] > 0 ? sum[c * 4 + k] / cnt[c * 4 + k] : NaN;
      row.pooling = r.pooling; row.match = r.match;
      out.push(row);
    }
    return out;
  });
}

/** Rows as the API returns them: private fields dropped, NaN as null. */
export function publicRows(rows) {
  return rows.map((row) => {
    const o = {};
    for (const k of Object.keys(row)) if (k.charAt(0) !== '_') o[k] = typeof row[k] === 'number' && isNaN(row[k]) ? null : row[k];
    return o;
  });
}

// -- threshold sensitivity: independent of the current thresholds ----------------------------------------------
function modelSlugHistograms(D, r, T) {
  /* Per (model, reference) group under the filters: images, and how many images / cells pass each count. */
  const m = masks(D, r), cells = cellsOf(D, r.match), {clip, model, variant, slug} = D.A, K = D.K;
  const GS = D.NM * D.NS, hc = new Float64Array(GS * T), hp = new Float64Array(GS * T), nimg = new Float64Array(GS);
  for (let i = 0; i < D.N; i++) {
    const s = slug[i];
    if (!m.model[model[i]] || !m.variant[variant[i]] || !m.slug[s] || !m.kind[D.dynamic[s]]) continue;
    const g = model[i] * D.NS + s;
    nimg[g] += 1; hc[g * T + clip[i]] += 1;
    for (let j = 0, b = i * K; j < K; j++) hp[g * T + cells[b + j]] += 1;
  }
  return {hc, hp, nimg};
}

/** CRA vs recognition τ and VR (all generations) vs patch τ per model on the grid: macro means over references,
 *  prompt variants pooled, one recognition τ for both kinds (Engine.sweeps). */
export function curves(D, r) {
  return remember(D, 'curves|' + r.match + r.filterKey, () => {
    const GN = D.meta.grid.n, T = GN + 1, {hc, hp, nimg} = modelSlugHistograms(D, r, T), K = D.K;
    const out = {taus: D.meta.grid.taus, cra: {}, vr: {}};
    for (let mo = 0; mo < D.NM; mo++) {
      const cra = new Float64Array(GN), vr = new Float64Array(GN);
      let groups = 0;
      for (let s = 0; s < D.NS; s++) {
        const g = mo * D.NS + s;
        if (!(nimg[g] > 0)) continue;
        groups += 1;
        let above = 0, aboveP = 0;
        const fc = new Float64Array(GN), fp = new Float64Array(GN);
        for (let q = GN; q >= 1; q--) {          // values passing threshold j = values with q > j
          above += hc[g * T + q]; aboveP += hp[g * T + q];
          fc[q - 1] = above / nimg[g]; fp[q - 1] = aboveP / (nimg[g] * K);
        }
        for (let j = 0; j < GN; j++) { cra[j] += fc[j]; vr[j] += fp[j]; }
      }
      if (!groups) continue;
      for (let j = 0; j < GN; j++) { cra[j] /= groups; vr[j] /= groups; }
      out.cra[D.meta.models[mo]] = Array.from(cra); out.vr[D.meta.models[mo]] = Array.from(vr);
    }
    return out;
  });
}

/** Per-model CRT at every (recognition τ, patch τ) of a sub-grid (indices into the grid; one recognition τ for
 *  both kinds, groups = model × reference with variants pooled, as Engine.grid): {clip, patch, models, crt}
 *  where crt[model][i][j] is at clip[i], patch[j]. Per patch τ: one pass over the images, then a reverse
 *  cumulative sum over each group's bytes gives n_rec and the recognised VR sum at every recognition τ at once
 *  (core.sweeps.group_stats_at). */
export function crtGrid(D, r, clipIdx, patchIdx) {
  const key = 'crtgrid|' + r.pooling + r.match + r.filterKey + clipIdx.join(',') + '|' + patchIdx.join(',');
  return remember(D, key, () => {
    const m = masks(D, r), {clip, model, variant, slug} = D.A, K = D.K, GN = D.meta.grid.n, T = GN + 1;
    const GS = D.NM * D.NS, NC = clipIdx.length, gi = new Int32Array(D.N).fill(-1), n = new Float64Array(GS);
    for (let i = 0; i < D.N; i++) {
      const s = slug[i];
      if (!m.model[model[i]] || !m.variant[variant[i]] || !m.slug[s] || !m.kind[D.dynamic[s]]) continue;
      gi[i] = model[i] * D.NS + s; n[gi[i]] += 1;
    }
    const live = [], crt = {};
    for (let mo = 0; mo < D.NM; mo++) {
      for (let s = 0; s < D.NS; s++) if (n[mo * D.NS + s] > 0) { live.push(mo); break; }
    }
    for (const mo of live) crt[D.meta.models[mo]] = clipIdx.map(() => new Array(patchIdx.length).fill(NaN));
    const at = new Int32Array(T).fill(-1);            // byte threshold j -> its position in clipIdx
    clipIdx.forEach((j, ci) => { at[j] = ci; });
    const recHist = new Float64Array(GS * T), vrHist = new Float64Array(GS * T), vrs = new Float64Array(GS);
    const nrecAt = new Float64Array(NC * GS), vrrAt = new Float64Array(NC * GS);
    const st = {n, nrec: new Float64Array(GS), vrs, vrr: new Float64Array(GS)};
    patchIdx.forEach((kp, pj) => {
      const counts = reusedCounts(D, kp, r.match);
      recHist.fill(0); vrHist.fill(0); vrs.fill(0);
      for (let i = 0; i < D.N; i++) {
        const g = gi[i];
        if (g < 0) continue;
        const v = counts[i] / K;
        recHist[g * T + clip[i]] += 1; vrHist[g * T + clip[i]] += v; vrs[g] += v;
      }
      for (let g = 0; g < GS; g++) {
        if (!(n[g] > 0)) continue;
        let a = 0, b = 0;
        for (let q = GN; q >= 1; q--) {                // recognised at threshold j <=> byte > j
          a += recHist[g * T + q]; b += vrHist[g * T + q];
          const ci = at[q - 1];
          if (ci >= 0) { nrecAt[ci * GS + g] = a; vrrAt[ci * GS + g] = b; }
        }
      }
      for (let ci = 0; ci < NC; ci++) {
        for (const mo of live) {
          let sum = 0, cnt = 0;
          for (let s = 0; s < D.NS; s++) {
            const g = mo * D.NS + s;
            if (!(n[g] > 0)) continue;
            st.nrec[g] = nrecAt[ci * GS + g]; st.vrr[g] = vrrAt[ci * GS + g];
            const c = finish(st, g, r.pooling).crt;
            if (!isNaN(c)) { sum += c; cnt += 1; }
          }
          crt[D.meta.models[mo]][ci][pj] = cnt ? sum / cnt : NaN;
        }
      }
    });
    return {clip: clipIdx.map((j) => D.meta.grid.taus[j]), patch: patchIdx.map((j) => D.meta.grid.taus[j]),
            models: live.map((mo) => D.meta.models[mo]), crt};
  });
}

/** Kendall's tau-b of two equally long arrays (scipy.stats.kendalltau's default); NaN when undefined. */
export function kendallTau(x, y) {
  const n = x.length;
  let conc = 0, disc = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    const a = Math.sign(x[i] - x[j]), b = Math.sign(y[i] - y[j]);
    if (isNaN(a) || isNaN(b)) return NaN;
    if (a === 0 && b === 0) continue;
    if (a === 0) { tx += 1; continue; }
    if (b === 0) { ty += 1; continue; }
    if (a === b) conc += 1; else disc += 1;
  }
  const den = Math.sqrt((conc + disc + tx) * (conc + disc + ty));
  return den > 0 ? (conc - disc) / den : NaN;
}

/** Kendall τ between the model ranking by CRT at every point of a CRT grid and at the point nearest to the
 *  current thresholds (core.sweeps.ranking_stability): stability[i][j]. */
export function rankingStability(grid, clipTau, patchTau) {
  let best = [0, 0], bd = Infinity;
  grid.clip.forEach((c, i) => grid.patch.forEach((p, j) => {
    const d = Math.abs(c - clipTau) + Math.abs(p - patchTau);
    if (d < bd) { bd = d; best = [i, j]; }
  }));
  const ref = grid.models.map((mo) => grid.crt[mo][best[0]][best[1]]);
  return grid.clip.map((_, i) => grid.patch.map((__, j) => grid.models.length > 1
    ? kendallTau(ref, grid.models.map((mo) => grid.crt[mo][i][j])) : NaN));
}

// -- the plane and its reading --------------------------------------------------------------------------------
/** Quadrant of a point (core.metrics.quadrants): 0 replicated, 1 reinterpreted, 2 reused unrecognised, 3 missed. */
export function quadrant(D, cra, vr) {
  const cut = D.meta.quadrants.cut, rec = cra > cut, reuse = (isNaN(vr) ? 0 : vr) > cut;
  return rec ? (reuse ? 0 : 1) : (reuse ? 2 : 3);
}

/** How many points of ``rows`` (reference rows) fall in each quadrant. */
export function quadrantCounts(D, rows) {
  const out = [0, 0, 0, 0];
  for (const x of rows) out[quadrant(D, x.cra, x.vr)] += 1;
  return out;
}

/** What the per-model rows (one kind, one variant) say, as facts for a sentence: nothing recognised; one model
 *  recognised; every recognised model reusing the same share; or which model reinterprets most (recognised, and
 *  the least reused) and which replicates most (the most reused) — ties to the first in table order. */
export function readingFacts(rows) {
  const rec = rows.filter((x) => x.cra > 0 && !isNaN(x.vr));
  if (!rec.length) return {case: 'none'};
  if (rec.length === 1) return {case: 'one', model: rec[0]};
  let least = rec[0], most = rec[0];
  for (const x of rec) { if (x.vr < least.vr) least = x; if (x.vr > most.vr) most = x; }
  if (least.vr === most.vr) return {case: 'tie', n: rec.length, model: least};
  return {case: 'two', reinterprets: least, replicates: most};
}
