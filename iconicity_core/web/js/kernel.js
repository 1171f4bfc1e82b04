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
const KEEP = {stats: 4, refs: 4, corr: 4, models: 32, curves: 8, crtgrid: 64, masks: 16, dist: 8};

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
  const slot = s.counts.length < 2 ? {key: null, out: new Uint16Array(D.N)} : s.counts.shift();
  const cells = cellsOf(D, match), out = slot.out, N = D.N, K = D.K;
  if (K % 4 === 0 && cells.byteOffset % 4 === 0) {
    // four bytes at a time: a byte b (<= 101 < 128) passes when b > kp, i.e. (b | 0x80) - (kp + 1) keeps bit 7
    // (no borrow crosses bytes); the kept bits are then summed by one multiplication
    const words = new Uint32Array(cells.buffer, cells.byteOffset, cells.length / 4), W = K / 4, sub = (kp + 1) * 0x01010101;
    for (let i = 0, b = 0; i < N; i++, b += W) {
      let c = 0;
      for (let j = 0; j < W; j++) {
        const t = ((((words[b + j] | 0x80808080) >>> 0) - sub) & 0x80808080) >>> 7;
        c += Math.imul(t, 0x01010101) >>> 24;
      }
      out[i] = c;
    }
  } else {
    for (let i = 0, b = 0; i < N; i++, b += K) {
      let c = 0;
      for (let j = 0; j < K; j++) if (cells[b + j] > kp) c++;
      out[i] = c;
    }
  }
  slot.key = key;
  s.counts.push(slot);
  return out;
}

/** Which images pass the filters (one byte each; null when nothing is filtered), in one of two buffers made once
 *  (a filter move writes into the older one: no allocation per image). */
export function keepMask(D, r) {
  if (!r.models.length && !r.kinds.length && !r.variants.length && !r.slugs.length) return null;
  const s = D.scratch;
  s.keep = s.keep || [];
  for (const k of s.keep) if (k.key === r.filterKey) return k.out;
  const slot = s.keep.length < 2 ? {key: null, out: new Uint8Array(D.N)} : s.keep.shift();
  const m = masks(D, r), {model, variant, slug} = D.A, out = slot.out;
  for (let i = 0; i < D.N; i++) out[i] = m.model[model[i]] & m.variant[variant[i]] & m.slug[slug[i]] & m.kind[D.dynImage[i]];
  slot.key = r.filterKey;
  s.keep.push(slot);
  return out;
}

/** Sufficient statistics per (model, reference, variant): n, n_rec, the sum of VR_i, the sum over the recognised. */
export function groupStats(D, r) {
  return remember(D, 'stats|' + r.key, () => {
    const keep = keepMask(D, r), counts = reusedCounts(D, r.kp, r.match), G = D.G, K = D.K;
    const n = new Float64Array(G), nrec = new Float64Array(G), vrs = new Float64Array(G), vrr = new Float64Array(G);
    const kc = r.kc, kd = r.kd, clip = D.A.clip, dyn = D.dynImage, group = D.group;
    for (let i = 0, N = D.N; i < N; i++) {
      if (keep !== null && !keep[i]) continue;
      const g = group[i], v = counts[i] / K;
      n[g] += 1; vrs[g] += v;
      if (clip[i] > (dyn[i] ? kd : kc)) { nrec[g] += 1; vrr[g] += v; }
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
/** The images of each (model, reference) group, in image order: ``order`` lists image indices group by group and
 *  ``start[g] .. start[g + 1]`` are group g's (a counting sort, made once per data set). Sweeps then go group by
 *  group with small accumulators instead of a histogram per group and threshold. */
export function byModelSlug(D) {
  if (!D.scratch.byModelSlug) {
    const GS = D.NM * D.NS, start = new Int32Array(GS + 1), order = new Int32Array(D.N), NV = D.NV, group = D.group;
    for (let i = 0; i < D.N; i++) start[((group[i] / NV) | 0) + 1] += 1;
    for (let g = 0; g < GS; g++) start[g + 1] += start[g];
    const at = start.slice(0, GS);
    for (let i = 0; i < D.N; i++) order[at[(group[i] / NV) | 0]++] = i;
    D.scratch.byModelSlug = {start, order};
  }
  return D.scratch.byModelSlug;
}

/** CRA vs recognition τ and VR (all generations) vs patch τ per model on the grid: macro means over references,
 *  prompt variants pooled, one recognition τ for both kinds (Engine.sweeps). */
export function curves(D, r) {
  return remember(D, 'curves|' + r.match + r.filterKey, () => {
    const GN = D.meta.grid.n, T = GN + 1, K = D.K, keep = keepMask(D, r), cells = cellsOf(D, r.match), clip = D.A.clip;
    const {start, order} = byModelSlug(D), hc = new Float64Array(T), hp = new Float64Array(T);
    const out = {taus: D.meta.grid.taus, cra: {}, vr: {}};
    for (let mo = 0; mo < D.NM; mo++) {
      const cra = new Float64Array(GN), vr = new Float64Array(GN);
      let groups = 0;
      for (let s = 0; s < D.NS; s++) {
        const g = mo * D.NS + s;
        hc.fill(0); hp.fill(0);
        let n = 0;
        for (let o = start[g]; o < start[g + 1]; o++) {
          const i = order[o];
          if (keep !== null && !keep[i]) continue;
          n += 1; hc[clip[i]] += 1;
          for (let j = 0, b = i * K; j < K; j++) hp[cells[b + j]] += 1;
        }
        if (!n) continue;
        groups += 1;
        let above = 0, aboveP = 0;
        for (let q = GN; q >= 1; q--) {          // values passing threshold j = values with q > j
          above += hc[q]; aboveP += hp[q];
          cra[q - 1] += above / n; vr[q - 1] += aboveP / (n * K);
        }
      }
      if (!groups) continue;
      for (let j = 0; j < GN; j++) { cra[j] /= groups; vr[j] /= groups; }
      out.cra[D.meta.models[mo]] = Array.from(cra); out.vr[D.meta.models[mo]] = Array.from(vr);
    }
    return out;
  });
}

/** How each model's similarities spread on the grid: per model, the share of its generated images (recognition)
 *  and of its cells (realization) whose byte is q, for q = 0 .. n (q = j: above grid threshold j - 1, not above j). */
export function distributions(D, r) {
  return remember(D, 'dist|' + r.match + r.filterKey, () => {
    const T = D.meta.grid.n + 1, K = D.K, keep = keepMask(D, r), cells = cellsOf(D, r.match), {clip, model} = D.A;
    const hc = new Float64Array(D.NM * T), hp = new Float64Array(D.NM * T), n = new Float64Array(D.NM);
    for (let i = 0; i < D.N; i++) {
      if (keep !== null && !keep[i]) continue;
      const m = model[i];
      n[m] += 1; hc[m * T + clip[i]] += 1;
      for (let j = 0, b = i * K; j < K; j++) hp[m * T + cells[b + j]] += 1;
    }
    const out = {clip: {}, cells: {}};
    for (let m = 0; m < D.NM; m++) {
      if (!n[m]) continue;
      out.clip[D.meta.models[m]] = Array.from(hc.subarray(m * T, (m + 1) * T), (x) => x / n[m]);
      out.cells[D.meta.models[m]] = Array.from(hp.subarray(m * T, (m + 1) * T), (x) => x / (n[m] * K));
    }
    return out;
  });
}

/** Per-model CRT at every (recognition τ, patch τ) of a sub-grid (indices into the grid, ascending; one recognition
 *  τ for both kinds, groups = model × reference with variants pooled, as Engine.grid): {clip, patch, models, crt}
 *  where crt[model][i][j] is at clip[i], patch[j]. One pass over every cell for all the thresholds at once: per
 *  group, each image's reused-cell count at every patch τ, summed by how many recognition τ its similarity passes;
 *  cumulative sums then give n_rec and the reused cells of the recognised at every recognition τ
 *  (core.sweeps.group_stats_at). */
export function crtGrid(D, r, clipIdx, patchIdx) {
  const key = 'crtgrid|' + r.pooling + r.match + r.filterKey + clipIdx.join(',') + '|' + patchIdx.join(',');
  return remember(D, key, () => {
    const keep = keepMask(D, r), clip = D.A.clip, cells = cellsOf(D, r.match), K = D.K, GN = D.meta.grid.n;
    const NC = clipIdx.length, NP = patchIdx.length, CB = NC + 1, {start, order} = byModelSlug(D);
    const clipBin = new Int32Array(GN + 1), cellBin = new Int32Array(GN + 1);   // thresholds a byte passes (q > j)
    for (let q = 0; q <= GN; q++) {
      for (const j of clipIdx) if (q > j) clipBin[q] += 1;
      for (const j of patchIdx) if (q > j) cellBin[q] += 1;
    }
    const imgs = new Float64Array(CB), reused = new Float64Array(NP * CB), passing = new Int32Array(NP + 1);
    const sum = new Float64Array(D.NM * NC * NP), cnt = new Float64Array(D.NM * NC * NP);
    const live = [];
    for (let mo = 0; mo < D.NM; mo++) {
      let any = false;
      for (let s = 0; s < D.NS; s++) {
        const g = mo * D.NS + s;
        imgs.fill(0); reused.fill(0);
        let n = 0;
        for (let o = start[g]; o < start[g + 1]; o++) {
          const i = order[o];
          if (keep !== null && !keep[i]) continue;
          n += 1;
          const b = clipBin[clip[i]];
          imgs[b] += 1;
          passing.fill(0);
          for (let c = 0, base = i * K; c < K; c++) passing[cellBin[cells[base + c]]] += 1;
          let above = 0;                              // cells reused at patch index p: those passing more than p
          for (let p = NP - 1; p >= 0; p--) { above += passing[p + 1]; reused[p * CB + b] += above; }
        }
        if (!n) continue;
        any = true;
        for (let p = 0; p < NP; p++) {
          let all = 0;
          for (let b = 0; b < CB; b++) all += reused[p * CB + b];
          let nrec = 0, rr = 0;
          for (let ci = NC - 1; ci >= 0; ci--) {       // recognised at clipIdx[ci] <=> more than ci thresholds passed
            nrec += imgs[ci + 1]; rr += reused[p * CB + ci + 1];
            const cra = nrec / n, vr = r.pooling === 'all' ? all / (n * K) : (nrec > 0 ? rr / (nrec * K) : NaN);
            const crt = cra > 0 ? cra * (1 - vr) : 0, at = (mo * NC + ci) * NP + p;
            sum[at] += crt; cnt[at] += 1;
          }
        }
      }
      if (any) live.push(mo);
    }
    const crt = {};
    for (const mo of live) {
      crt[D.meta.models[mo]] = clipIdx.map((_, ci) => patchIdx.map((__, p) => {
        const at = (mo * NC + ci) * NP + p;
        return cnt[at] ? sum[at] / cnt[at] : NaN;
      }));
    }
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
