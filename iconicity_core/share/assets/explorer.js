/* Iconicity Explorer — the shareable page.
 *
 * Everything is computed here, in the reader's browser, from the arrays embedded in this file: the
 * metric kernel of iconicity_core/core/metrics.py, step by step (recognised / reused as one comparison
 * per value, the four sufficient statistics per (model, reference, variant), finish, macro means), so
 * window.iconicityExplorer.modelTable(...) returns the rows of `iconicity metrics --by model`.
 *
 * Each similarity arrives as one byte q: how many thresholds of the grid 0.00, 0.01, ..., 1.00 it passes
 * under the run's rule. It passes grid threshold j exactly when q > j.
 *
 * Text from the database is only ever set with textContent or passed to Plotly escaped (plotlyText);
 * nothing here builds HTML from data.
 */
(function () {
  'use strict';

  var D = JSON.parse(document.getElementById('iconicity-data').textContent);
  var GRID_N = D.grid.n;                       // 101 thresholds
  var METRICS = ['cra', 'vr', 'vi', 'crt'];
  var NAMES = {cra: 'CRA', vr: 'VR', vi: 'VI', crt: 'CRT'};

  // -- the embedded arrays ------------------------------------------------------------------------------
  function decode(s, type) {
    var bin = atob(s), n = bin.length, u = new Uint8Array(n);
    for (var i = 0; i < n; i++) u[i] = bin.charCodeAt(i);
    if (type === 'u8') return u;
    if (type === 'u16') return new Uint16Array(u.buffer);
    return new Uint32Array(u.buffer);
  }
  var A = {};
  Object.keys(D.arrays).forEach(function (k) {
    var a = D.arrays[k];
    A[k] = a === null ? null : decode(a.data, a.type);
  });
  var N = D.n, K = D.k;
  var NM = D.models.length, NS = D.slugs.length, NV = D.variants.length;
  var G = NM * NS * NV;
  var DYN = new Uint8Array(NS);
  D.refs.dynamic.forEach(function (d, s) { DYN[s] = d ? 1 : 0; });
  var REF = new Int32Array(N);                 // (model, slug, variant) group of each image: sorts as Python does
  for (var i = 0; i < N; i++) REF[i] = (A.model[i] * NS + A.slug[i]) * NV + A.variant[i];

  // -- parameters, resolved as config.run_thresholds does -------------------------------------------------
  function tauIndex(t, name) {
    if (typeof t !== 'number' || !isFinite(t)) throw new TypeError(name + ' must be a number, got ' + t);
    var j = Math.round(t * 100);
    if (Math.abs(t * 100 - j) > 1e-6 || j < 0 || j >= GRID_N)
      throw new RangeError(name + ' = ' + t + ' is not on this page\'s grid (0.00, 0.01, ..., 1.00)');
    return j;
  }
  function list(v) { return v === undefined || v === null ? [] : (typeof v === 'string' ? [v] : Array.from(v)); }
  function resolve(p) {
    p = p || {};
    if (p.rule !== undefined && p.rule !== D.run.rule)
      throw new RangeError('this file holds run ' + D.run.id + ' under rule ' + D.run.rule + ' only');
    var clip = p.clip_tau !== undefined && p.clip_tau !== null ? p.clip_tau : D.op.clip_tau;
    var dyn = p.clip_tau_dynamic !== undefined && p.clip_tau_dynamic !== null ? p.clip_tau_dynamic
      : (D.op.clip_tau_dynamic !== null ? D.op.clip_tau_dynamic : clip);
    var patch = p.patch_tau !== undefined && p.patch_tau !== null ? p.patch_tau : D.op.patch_tau;
    var pooling = p.pooling || 'recognised', match = p.match || 'any';
    if (pooling !== 'recognised' && pooling !== 'all') throw new RangeError('pooling must be recognised or all');
    if (match !== 'any' && match !== 'same-position') throw new RangeError('match must be any or same-position');
    var r = {clip_tau: clip, clip_tau_dynamic: dyn, patch_tau: patch, pooling: pooling, match: match,
             kc: tauIndex(clip, 'clip_tau'), kd: tauIndex(dyn, 'clip_tau_dynamic'), kp: tauIndex(patch, 'patch_tau'),
             models: list(p.models), kinds: list(p.kinds), variants: list(p.variants), slugs: list(p.slugs)};
    r.key = JSON.stringify([r.kc, r.kd, r.kp, pooling, match, r.models, r.kinds, r.variants, r.slugs]);   // names may hold ','
    return r;
  }
  function allowed(names, wanted) {            // a Uint8Array over codes: 1 = kept by the filter
    var m = new Uint8Array(names.length);
    if (!wanted.length) { m.fill(1); return m; }
    names.forEach(function (n, c) { if (wanted.indexOf(n) >= 0) m[c] = 1; });
    return m;
  }
  function masks(r) {
    var kinds = new Uint8Array(2);             // [static, dynamic]
    if (!r.kinds.length) kinds.fill(1);
    else { kinds[0] = r.kinds.indexOf('static') >= 0 ? 1 : 0; kinds[1] = r.kinds.indexOf('dynamic') >= 0 ? 1 : 0; }
    return {model: allowed(D.models, r.models), variant: allowed(D.variants, r.variants),
            slug: allowed(D.slugs, r.slugs), kind: kinds};
  }

  // -- the kernel -----------------------------------------------------------------------------------------
  var memo = {};
  var memoKeys = [];
  function remember(key, fn) {
    if (Object.prototype.hasOwnProperty.call(memo, key)) return memo[key];
    var v = fn();
    memo[key] = v; memoKeys.push(key);
    if (memoKeys.length > 24) delete memo[memoKeys.shift()];
    return v;
  }

  /* Reused cells per image at one patch threshold (the slow pass: every cell), kept while only the
     recognition thresholds move. */
  var lastCounts = {key: null, counts: null};
  function reusedCounts(kp, match) {
    var key = kp + '|' + match;
    if (lastCounts.key !== key) {
      var cells = match === 'any' ? A.cells : (A.same || A.cells), out = new Uint16Array(N);   // grids up to 32x32
      for (var i = 0, b = 0; i < N; i++, b += K) {
        var c = 0;
        for (var j = 0; j < K; j++) if (cells[b + j] > kp) c++;
        out[i] = c;
      }
      lastCounts = {key: key, counts: out};
    }
    return lastCounts.counts;
  }

  /* Sufficient statistics per (model, slug, variant): n, n_rec, the sum of VR_i, the sum over the recognised. */
  function groupStats(r) {
    return remember('stats|' + r.key, function () {
      var m = masks(r), counts = reusedCounts(r.kp, r.match);
      var n = new Float64Array(G), nrec = new Float64Array(G), vrs = new Float64Array(G), vrr = new Float64Array(G);
      var kc = r.kc, kd = r.kd, clip = A.clip, model = A.model, variant = A.variant, slug = A.slug;
      for (var i = 0; i < N; i++) {
        var s = slug[i];
        if (!m.model[model[i]] || !m.variant[variant[i]] || !m.slug[s] || !m.kind[DYN[s]]) continue;
        var g = REF[i], rec = clip[i] > (DYN[s] ? kd : kc);
        var v = counts[i] / K;
        n[g] += 1; vrs[g] += v;
        if (rec) { nrec[g] += 1; vrr[g] += v; }
      }
      return {n: n, nrec: nrec, vrs: vrs, vrr: vrr};
    });
  }
  function finish(st, g, pooling) {
    var n = st.n[g], cra = st.nrec[g] / n, vr;
    if (pooling === 'all') vr = st.vrs[g] / n;
    else vr = st.nrec[g] > 0 ? st.vrr[g] / st.nrec[g] : NaN;
    var vi = 1 - vr, crt = cra > 0 ? cra * vi : (isNaN(cra) ? NaN : 0);
    return {cra: cra, vr: vr, vi: vi, crt: crt};
  }
  function nul(x) { return typeof x === 'number' && isNaN(x) ? null : x; }

  /* `iconicity metrics --by reference`: model, slug, kind, variant, n, cra, vr, vi, crt, pooling, match
     (in its order: model, slug, variant); only prompt variant ``variant`` (an index) when given. */
  function refRow(st, g, r) {
    var v = g % NV, s = Math.floor(g / NV) % NS, mo = Math.floor(g / NV / NS), f = finish(st, g, r.pooling);
    return {model: D.models[mo], slug: D.slugs[s], kind: DYN[s] ? 'dynamic' : 'static', variant: D.variants[v],
            n: st.n[g], cra: f.cra, vr: f.vr, vi: f.vi, crt: f.crt, pooling: r.pooling, match: r.match,
            _m: mo, _s: s, _v: v};
  }
  function referenceRows(r, variant) {          // variant: an index; -1 (an unknown name) gives no rows
    if (variant === -1) return [];
    var only = variant === undefined ? -1 : variant;
    return remember('refs|' + only + '|' + r.key, function () {
      var st = groupStats(r), out = [];
      for (var g = 0; g < G; g++) if (st.n[g] > 0 && (only < 0 || g % NV === only)) out.push(refRow(st, g, r));
      return out;
    });
  }
  function slugRows(r, s) {                    // one reference's rows, every model and variant
    var st = groupStats(r), out = [];
    for (var mo = 0; mo < NM; mo++) for (var v = 0; v < NV; v++) {
      var g = (mo * NS + s) * NV + v;
      if (st.n[g] > 0) out.push(refRow(st, g, r));
    }
    return out;
  }

  /* `iconicity metrics --by model`: macro means over references per (model, kind, variant) and kind 'all'. */
  var KINDS = ['dynamic', 'static', 'all'];
  function modelRows(r) {
    return remember('models|' + r.key, function () {
      var st = groupStats(r), cells = NM * NV * 3;
      var nref = new Float64Array(cells), sum = new Float64Array(cells * 4), cnt = new Float64Array(cells * 4);
      for (var g = 0; g < G; g++) {
        if (!(st.n[g] > 0)) continue;
        var v = g % NV, s = Math.floor(g / NV) % NS, mo = Math.floor(g / NV / NS), f = finish(st, g, r.pooling);
        var vals = [f.cra, f.vr, f.vi, f.crt], own = (mo * NV + v) * 3;
        for (var t = 0; t < 2; t++) {
          var c = own + (t === 0 ? (DYN[s] ? 0 : 1) : 2);
          nref[c] += 1;
          for (var k = 0; k < 4; k++) if (!isNaN(vals[k])) { sum[c * 4 + k] += vals[k]; cnt[c * 4 + k] += 1; }
        }
      }
      var out = [];
      for (var mo2 = 0; mo2 < NM; mo2++) for (var v2 = 0; v2 < NV; v2++) for (var ki = 0; ki < 3; ki++) {
        var c2 = (mo2 * NV + v2) * 3 + ki;
        if (!nref[c2]) continue;
        var row = {model: D.models[mo2], kind: KINDS[ki], variant: D.variants[v2], n_refs: nref[c2]};
        for (var k2 = 0; k2 < 4; k2++) row[METRICS[k2]] = cnt[c2 * 4 + k2] > 0 ? sum[c2 * 4 + k2] / cnt[c2 * 4 + k2] : NaN;
        row.pooling = r.pooling; row.match = r.match;
        out.push(row);
      }
      return out;
    });
  }
  function publicRows(rows) {
    return rows.map(function (row) {
      var o = {};
      Object.keys(row).forEach(function (k) { if (k.charAt(0) !== '_') o[k] = nul(row[k]); });
      return o;
    });
  }

  /* CRA vs recognition τ and VR (all generations) vs patch τ per model: macro means over references,
     prompt variants pooled, one recognition τ for both kinds (Engine.sweeps). */
  function curves(r) {
    return remember('curves|' + JSON.stringify([r.pooling, r.match, r.models, r.kinds, r.variants, r.slugs]), function () {
      var m = masks(r), cells = r.match === 'any' ? A.cells : (A.same || A.cells), T = GRID_N + 1;
      var GS = NM * NS, hc = new Float64Array(GS * T), hp = new Float64Array(GS * T), nimg = new Float64Array(GS);
      for (var i = 0; i < N; i++) {
        var s = A.slug[i];
        if (!m.model[A.model[i]] || !m.variant[A.variant[i]] || !m.slug[s] || !m.kind[DYN[s]]) continue;
        var g = A.model[i] * NS + s;
        nimg[g] += 1; hc[g * T + A.clip[i]] += 1;
        for (var j = 0, b = i * K; j < K; j++) hp[g * T + cells[b + j]] += 1;
      }
      var out = {taus: D.grid.taus, cra: {}, vr: {}};
      for (var mo = 0; mo < NM; mo++) {
        var cra = new Float64Array(GRID_N), vr = new Float64Array(GRID_N), groups = 0;
        for (var s2 = 0; s2 < NS; s2++) {
          var g2 = mo * NS + s2;
          if (!(nimg[g2] > 0)) continue;
          groups += 1;
          var above = 0, aboveP = 0;
          var fc = new Float64Array(GRID_N), fp = new Float64Array(GRID_N);
          for (var q = GRID_N; q >= 1; q--) {        // count of values passing threshold j = count with q > j
            above += hc[g2 * T + q]; aboveP += hp[g2 * T + q];
            fc[q - 1] = above / nimg[g2]; fp[q - 1] = aboveP / (nimg[g2] * K);
          }
          for (var j2 = 0; j2 < GRID_N; j2++) { cra[j2] += fc[j2]; vr[j2] += fp[j2]; }
        }
        if (!groups) continue;
        for (var j3 = 0; j3 < GRID_N; j3++) { cra[j3] /= groups; vr[j3] /= groups; }
        out.cra[D.models[mo]] = Array.from(cra); out.vr[D.models[mo]] = Array.from(vr);
      }
      return out;
    });
  }

  // -- Spearman correlations of per-reference scores with the covariates ----------------------------------
  function ranks(x) {                          // average ranks for ties (scipy.stats.rankdata), without NaN
    var n = x.length, sorted = Float64Array.from(x).sort(), r = new Float64Array(n);   // native numeric sort
    for (var i = 0; i < n; i++) {
      var v = x[i], lo = 0, hi = n;
      while (lo < hi) { var mid = (lo + hi) >>> 1; if (sorted[mid] < v) lo = mid + 1; else hi = mid; }
      var first = lo; hi = n;
      while (lo < hi) { var mid2 = (lo + hi) >>> 1; if (sorted[mid2] <= v) lo = mid2 + 1; else hi = mid2; }
      r[i] = (first + lo + 1) / 2;             // positions first+1 .. lo, averaged
    }
    return r;
  }
  function pearson(a, b) {
    var n = a.length, ma = 0, mb = 0;
    for (var i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= n; mb /= n;
    var sab = 0, saa = 0, sbb = 0;
    for (var j = 0; j < n; j++) { var da = a[j] - ma, db = b[j] - mb; sab += da * db; saa += da * da; sbb += db * db; }
    return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
  }
  function spread(x) { var lo = Infinity, hi = -Infinity; x.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); }); return hi - lo; }
  function pairs(x, y) {
    var a = [], b = [];
    for (var i = 0; i < x.length; i++) if (x[i] !== null && !isNaN(x[i]) && y[i] !== null && !isNaN(y[i])) { a.push(x[i]); b.push(y[i]); }
    return [a, b];
  }
  function spearman(x, y) {
    var p = pairs(x, y);
    if (p[0].length < 3 || !(spread(p[0]) > 0) || !(spread(p[1]) > 0)) return {rho: NaN, n: p[0].length, a: p[0], b: p[1]};
    return {rho: pearson(ranks(p[0]), ranks(p[1])), n: p[0].length, a: p[0], b: p[1]};
  }
  function rng(seed) {                         // mulberry32: a small seeded generator (the CIs are reproducible)
    return function () {
      seed |= 0; seed = seed + 0x6D2B79F5 | 0;
      var t = Math.imul(seed ^ seed >>> 15, 1 | seed);
      t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
      return ((t ^ t >>> 14) >>> 0) / 4294967296;
    };
  }
  function percentile(sorted, q) {             // numpy's default (linear) interpolation
    var h = (sorted.length - 1) * q, lo = Math.floor(h);
    return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
  }
  /* Percentile-bootstrap CI of Spearman ρ, resampled in pieces: call step(ms) until it returns the CI. */
  function bootstrapper(a, b, n, seed) {
    var rand = rng(seed), thetas = [], m = a.length, ra = new Float64Array(m), rb = new Float64Array(m);
    return function step(ms) {
      var t0 = performance.now();
      while (thetas.length < n) {
        for (var i = 0; i < m; i++) { var k = Math.floor(rand() * m); ra[i] = a[k]; rb[i] = b[k]; }
        var rho = pearson(ranks(ra), ranks(rb));
        thetas.push(isNaN(rho) ? 0 : rho);     // a constant resample counts as no correlation (as in Python)
        if (performance.now() - t0 > ms) break;
      }
      if (thetas.length < n) return null;
      var sorted = Float64Array.from(thetas).sort();
      return [percentile(sorted, 0.025), percentile(sorted, 0.975)];
    };
  }
  /* Per model and 'pooled' (each reference's mean over models): Spearman ρ of CRA, VR and CRT with every
     numeric covariate, over the references of one prompt variant (analysis/correlation.correlation_table). */
  function roundTo(x, d) { var f = Math.pow(10, d); return Math.round(x * f) / f; }   // numpy's round(x, d)
  function correlationRows(r, variant) {
    return remember('corr|' + r.key + '|' + variant, function () {
      var refs = referenceRows(r, D.variants.indexOf(variant));
      var covs = D.refs.covariate_names, groups = [['pooled', null]];
      D.models.forEach(function (mo) { if (refs.some(function (x) { return x.model === mo; })) groups.push([mo, mo]); });
      var out = [];
      groups.forEach(function (grp) {
        var rows;
        if (grp[1] === null) {
          var by = {};
          refs.forEach(function (x) {
            var a = by[x._s] || (by[x._s] = {_s: x._s, sum: {}, cnt: {}});
            ['cra', 'vr', 'crt'].forEach(function (k) { if (!isNaN(x[k])) { a.sum[k] = (a.sum[k] || 0) + x[k]; a.cnt[k] = (a.cnt[k] || 0) + 1; } });
          });
          rows = Object.keys(by).map(Number).sort(function (p, q) { return p - q; }).map(function (s) {
            var a = by[s], o = {_s: s};
            ['cra', 'vr', 'crt'].forEach(function (k) { o[k] = a.cnt[k] ? roundTo(a.sum[k] / a.cnt[k], D.pooled_decimals) : NaN; });
            return o;
          });
        } else rows = refs.filter(function (x) { return x.model === grp[1]; });
        ['cra', 'vr', 'crt'].forEach(function (metric) {
          covs.forEach(function (cov) {
            var x = rows.map(function (o) { var v = D.refs.covariates[cov][o._s]; return v === null ? NaN : v; });
            var y = rows.map(function (o) { return o[metric]; });
            var s = spearman(x, y);
            out.push({model: grp[0], metric: metric, covariate: cov, rho: s.rho, n: s.n, _a: s.a, _b: s.b, _k: out.length});
          });
        });
      });
      return out;
    });
  }

  // -- the page -------------------------------------------------------------------------------------------
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function plotlyText(s) {                     // Plotly reads a few HTML tags in its strings: escape them all
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }
  function fmt(x, d) { return x === null || x === undefined || isNaN(x) ? '–' : Number(x).toFixed(d === undefined ? 3 : d); }
  function tau(j) { return (j / 100).toFixed(2); }
  function titleOf(s) { return D.refs.title[s] || D.slugs[s]; }
  var SYM = D.run.rule === 'ge' ? '≥' : '>';

  var state = {};
  function startState() {
    var s = D.start;
    return {clip_tau: s.clip_tau, clip_tau_dynamic: s.clip_tau_dynamic, patch_tau: s.patch_tau, pooling: s.pooling,
            match: s.match, models: s.models.slice(), kinds: s.kinds.slice(), variants: s.variants.slice(),
            kind: s.kind, variant: s.variant, ref: s.ref, corr_variant: s.variant};
  }
  function params() {
    return {clip_tau: state.clip_tau, clip_tau_dynamic: state.clip_tau_dynamic, patch_tau: state.patch_tau,
            pooling: state.pooling, match: state.match, models: state.models, kinds: state.kinds, variants: state.variants};
  }

  // URL hash: the view a collaborator can send back
  var HASH_KEYS = ['clip_tau', 'clip_tau_dynamic', 'patch_tau', 'pooling', 'match', 'models', 'kinds', 'variants',
                   'kind', 'variant', 'ref', 'corr_variant'];
  var LISTS = {models: D.models, kinds: ['static', 'dynamic'], variants: D.variants};
  function toHash() {
    return '#' + HASH_KEYS.map(function (k) {
      var v = state[k];
      if (v === null || v === undefined) return null;
      if (Array.isArray(v)) return k + '=' + v.map(encodeURIComponent).join(',');   // a name may hold a comma
      if (typeof v === 'number') v = v.toFixed(2);
      return k + '=' + encodeURIComponent(v);
    }).filter(Boolean).join('&');
  }
  function dec(x) { try { return decodeURIComponent(x); } catch (e) { return null; } }
  function fromHash(hash) {
    var notes = [];
    (hash || '').replace(/^#/, '').split('&').forEach(function (part) {
      if (!part) return;
      var i = part.indexOf('='), k = dec(part.slice(0, i)), raw = part.slice(i + 1), v = dec(raw);
      if (k === null || v === null || i < 0) { notes.push('ignored a malformed part of the address'); return; }
      if (HASH_KEYS.indexOf(k) < 0) { notes.push('ignored unknown setting ' + k); return; }
      if (k === 'clip_tau' || k === 'clip_tau_dynamic' || k === 'patch_tau') {
        var x = v.trim() === '' ? NaN : Number(v);
        try { tauIndex(x, k); state[k] = Math.round(x * 100) / 100; } catch (e) { notes.push('ignored ' + k + '=' + v + ' (not a 0.00–1.00 step of 0.01)'); }
      } else if (LISTS[k] && v === '(none)') state[k] = ['(none)'];
      else if (LISTS[k]) {
        var vals = raw ? raw.split(',').map(dec).filter(function (x) { return x !== null; }) : [];
        var bad = vals.filter(function (x) { return LISTS[k].indexOf(x) < 0; });
        if (bad.length) notes.push('ignored unknown ' + k + ': ' + bad.join(', '));
        state[k] = vals.filter(function (x) { return LISTS[k].indexOf(x) >= 0; });
      } else if (k === 'pooling' && (v === 'recognised' || v === 'all')) state.pooling = v;
      else if (k === 'match' && (v === 'any' || v === 'same-position')) state.match = v;
      else if (k === 'kind' && ['all', 'static', 'dynamic'].indexOf(v) >= 0) state.kind = v;
      else if ((k === 'variant' || k === 'corr_variant') && D.variants.indexOf(v) >= 0) state[k] = v;
      else if (k === 'ref' && D.slugs.indexOf(v) >= 0) state.ref = v;
      else notes.push('ignored ' + k + '=' + v);
    });
    return notes;
  }

  function checkboxes(box, names, chosen, onChange, label) {
    box.textContent = '';
    box.appendChild(el('legend', label));
    names.forEach(function (name) {
      var l = el('label'), c = document.createElement('input');
      c.type = 'checkbox'; c.value = name; c.checked = !chosen.length || chosen.indexOf(name) >= 0;
      c.addEventListener('change', onChange);
      l.appendChild(c); l.appendChild(document.createTextNode(' ' + name));
      if (D.colours[name]) { var sw = el('span', '', 'swatch'); sw.style.background = D.colours[name]; l.insertBefore(sw, c); }
      box.appendChild(l);
    });
  }
  function checked(box) {
    var all = box.querySelectorAll('input'), on = [];
    all.forEach(function (c) { if (c.checked) on.push(c.value); });
    return on.length === all.length ? [] : (on.length ? on : ['(none)']);
  }
  function options(select, values, labels, current) {
    select.textContent = '';
    values.forEach(function (v, i) {
      var o = el('option', labels ? labels[i] : v); o.value = v; if (v === current) o.selected = true; select.appendChild(o);
    });
  }

  function table(tbl, columns, rows, onClick) {
    tbl.textContent = '';
    var head = el('thead'), tr = el('tr');
    columns.forEach(function (c) { tr.appendChild(el('th', c[1])); });
    head.appendChild(tr); tbl.appendChild(head);
    var body = el('tbody');
    rows.forEach(function (row) {
      var r = el('tr');
      columns.forEach(function (c) {
        var v = row[c[0]], td = el('td', c[2] ? c[2](v) : v);
        if (typeof v === 'number') td.className = 'num';
        if (c[0] === 'model' && D.colours[v]) { var sw = el('span', '', 'swatch'); sw.style.background = D.colours[v]; td.insertBefore(sw, td.firstChild); }
        r.appendChild(td);
      });
      if (onClick) { r.className = 'clickable'; r.addEventListener('click', function () { onClick(row); }); }
      body.appendChild(r);
    });
    tbl.appendChild(body);
  }

  function csvCell(v) {                        // spreadsheet-safe, as iconicity_core.io.csvfiles
    if (v === null || v === undefined || (typeof v === 'number' && isNaN(v))) return '';
    var s = String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function download(name, rows) {
    if (!rows.length) return;
    var cols = Object.keys(rows[0]);
    var text = [cols.join(',')].concat(rows.map(function (r) { return cols.map(function (c) { return csvCell(r[c]); }).join(','); })).join('\n') + '\n';
    var a = el('a'); a.href = 'data:text/csv;charset=utf-8,' + encodeURIComponent(text); a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
  }

  var hasPlotly = typeof window.Plotly !== 'undefined';
  var plotConfig = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ['sendDataToCloud']};

  /* The recognition x realization plane on a canvas (thousands of points redraw in a few ms; Plotly's SVG
     takes ~0.35 s at the paper's scale): quadrants, the 0.5 cuts, one colour per model, ● static ◆ dynamic;
     hover names the point (as text), a click opens its reference below. */
  var plane = {points: [], hover: -1};
  function planeGeometry(cv) {
    var w = cv.parentNode.clientWidth || 600, h = 400, m = {l: 52, r: 14, t: 24, b: 40};
    return {w: w, h: h, m: m, x: function (v) { return m.l + (v + 0.03) / 1.06 * (w - m.l - m.r); },
            y: function (v) { return h - m.b - (v + 0.03) / 1.06 * (h - m.t - m.b); }};
  }
  function drawScatter(refs) {
    var box = $('scatter'), cv = box.querySelector('canvas');
    if (!cv) {
      box.textContent = '';
      cv = document.createElement('canvas'); cv.setAttribute('role', 'img');
      cv.setAttribute('aria-label', 'recognition (CRA) against realization (VR), one point per reference and model');
      var tip = el('div', '', 'tip'), legend = el('div', null, 'legend');
      box.appendChild(el('div', 'Recognition × realization  (● static, ◆ dynamic)', 'plot-title'));
      box.appendChild(cv); box.appendChild(tip); box.appendChild(legend);
      cv.addEventListener('mousemove', function (ev) {
        var i = nearest(cv, ev); plane.hover = i;
        if (i < 0) { tip.style.display = 'none'; cv.style.cursor = 'default'; return; }
        var p = plane.points[i];
        tip.textContent = titleOf(p.s) + ' (' + p.kind + ') · ' + p.model + ' · CRA ' + p.cra.toFixed(2) + ' · VR ' +
          (isNaN(p.vr) ? '–' : p.vr.toFixed(2));
        tip.style.display = 'block'; tip.style.left = (ev.offsetX + 12) + 'px'; tip.style.top = (ev.offsetY + 26) + 'px';
        cv.style.cursor = 'pointer';
      });
      cv.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
      cv.addEventListener('click', function (ev) {
        var i = nearest(cv, ev);
        if (i < 0) return;
        state.ref = D.slugs[plane.points[i].s]; $('ref-select').value = state.ref; render();
        $('reference').scrollIntoView({behavior: 'smooth'});
      });
      window.addEventListener('resize', function () { paintPlane(cv); });
    }
    var legendBox = box.querySelector('.legend');
    legendBox.textContent = '';
    D.models.forEach(function (mo) {
      if (!refs.some(function (x) { return x.model === mo; })) return;
      var item = el('span', mo), sw = el('span', '', 'swatch'); sw.style.background = D.colours[mo];
      item.insertBefore(sw, item.firstChild); legendBox.appendChild(item);
    });
    plane.points = refs.map(function (x) { return {s: x._s, model: x.model, kind: x.kind, cra: x.cra, vr: x.vr}; });
    paintPlane(cv);
  }
  function paintPlane(cv) {
    var g = planeGeometry(cv), dpr = window.devicePixelRatio || 1;
    cv.style.width = g.w + 'px'; cv.style.height = g.h + 'px';
    cv.width = Math.round(g.w * dpr); cv.height = Math.round(g.h * dpr);
    var c = cv.getContext('2d'); c.setTransform(dpr, 0, 0, dpr, 0, 0); c.clearRect(0, 0, g.w, g.h);
    var Q = D.quadrants, cut = Q.cut;
    var boxes = [[cut, 1.03, cut, 1.03], [cut, 1.03, -0.03, cut], [-0.03, cut, cut, 1.03], [-0.03, cut, -0.03, cut]];
    c.globalAlpha = 0.08;
    boxes.forEach(function (b, i) { c.fillStyle = Q.colours[i]; c.fillRect(g.x(b[0]), g.y(b[3]), g.x(b[1]) - g.x(b[0]), g.y(b[2]) - g.y(b[3])); });
    c.globalAlpha = 1; c.font = '11px system-ui, sans-serif'; c.fillStyle = '#59636e'; c.strokeStyle = '#e6e9ed'; c.lineWidth = 1;
    for (var t = 0; t <= 1.0001; t += 0.2) {
      c.beginPath(); c.moveTo(g.x(t), g.y(-0.03)); c.lineTo(g.x(t), g.y(1.03)); c.moveTo(g.x(-0.03), g.y(t)); c.lineTo(g.x(1.03), g.y(t)); c.stroke();
      c.textAlign = 'center'; c.fillText(t.toFixed(1), g.x(t), g.h - g.m.b + 14);
      c.textAlign = 'right'; c.fillText(t.toFixed(1), g.m.l - 6, g.y(t) + 4);
    }
    c.setLineDash([3, 3]); c.strokeStyle = '#888';
    c.beginPath(); c.moveTo(g.x(cut), g.y(-0.03)); c.lineTo(g.x(cut), g.y(1.03)); c.moveTo(g.x(-0.03), g.y(cut)); c.lineTo(g.x(1.03), g.y(cut)); c.stroke();
    c.setLineDash([]);
    c.font = 'bold 12px system-ui, sans-serif';
    [[1.02, 1.02, 'right', 12], [1.02, -0.02, 'right', -4], [-0.02, 1.02, 'left', 12], [-0.02, -0.02, 'left', -4]].forEach(function (s, i) {
      c.fillStyle = Q.colours[i]; c.textAlign = s[2]; c.fillText(Q.names[i], g.x(s[0]), g.y(s[1]) + s[3]);
    });
    c.fillStyle = '#1f2328'; c.font = '12px system-ui, sans-serif'; c.textAlign = 'center';
    c.fillText('recognition: CRA', g.m.l + (g.w - g.m.l - g.m.r) / 2, g.h - 6);
    c.save(); c.translate(14, g.m.t + (g.h - g.m.t - g.m.b) / 2); c.rotate(-Math.PI / 2);
    c.fillText('realization: VR (reused cells)', 0, 0); c.restore();
    c.lineWidth = 0.6; c.strokeStyle = '#ffffff'; c.globalAlpha = 0.85;
    plane.points.forEach(function (p) {
      var x = g.x(p.cra), y = g.y(isNaN(p.vr) ? 0 : p.vr);
      p.px = x; p.py = y;
      c.fillStyle = D.colours[p.model] || '#444'; c.beginPath();
      if (p.kind === 'dynamic') { c.moveTo(x, y - 5); c.lineTo(x + 5, y); c.lineTo(x, y + 5); c.lineTo(x - 5, y); c.closePath(); }
      else c.arc(x, y, 4, 0, 2 * Math.PI);
      c.fill(); c.stroke();
    });
    c.globalAlpha = 1;
  }
  function nearest(cv, ev) {
    var best = -1, bd = 64;                   // within 8 px
    for (var i = 0; i < plane.points.length; i++) {
      var p = plane.points[i], dx = p.px - ev.offsetX, dy = p.py - ev.offsetY, d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = i; }
    }
    return best;
  }

  var drawnCurves = {};
  function drawCurves(cv) {
    if (!hasPlotly) return;
    [['curve-cra', 'cra', 'CRA vs recognition τ', 'recognition τ', state.clip_tau],
     ['curve-vr', 'vr', 'VR (all generations) vs patch τ', 'patch τ', state.patch_tau]].forEach(function (c) {
      var was = drawnCurves[c[0]];
      if (was && was.cv === cv) {                // same curves: only the dotted line at the threshold moves
        if (was.at !== c[4]) { Plotly.relayout(c[0], {'shapes[0].x0': c[4], 'shapes[0].x1': c[4]}); was.at = c[4]; }
        return;
      }
      drawnCurves[c[0]] = {cv: cv, at: c[4]};
      var traces = Object.keys(cv[c[1]]).map(function (model) {
        return {type: 'scatter', mode: 'lines', name: plotlyText(model), x: cv.taus, y: cv[c[1]][model],
                line: {color: D.colours[model], width: 2}, hovertemplate: 'τ %{x:.2f}: %{y:.3f}<extra>' + plotlyText(model).replace(/%/g, '%%') + '</extra>'};
      });
      Plotly.react(c[0], traces, {
        title: {text: c[2] + ' <sup>(variants pooled)</sup>', font: {size: 14}}, height: 280,
        margin: {l: 48, r: 10, t: 40, b: 40}, showlegend: false,
        xaxis: {title: {text: c[3]}, range: [0, 1]}, yaxis: {range: [0, 1.02]},
        shapes: [{type: 'line', x0: c[4], x1: c[4], yref: 'paper', y0: 0, y1: 1, line: {dash: 'dot', color: 'grey'}}]
      }, plotConfig);
    });
  }

  // evidence images with their cells drawn at the current patch τ
  function evidenceCanvas(img, row, kp, match) {
    var cv = document.createElement('canvas'), cells = match === 'any' ? A.cells : (A.same || A.cells);
    var rows = D.run.rows, cols = D.run.cols;
    var image = new Image();
    image.onload = function () {
      var w = image.naturalWidth, h = image.naturalHeight;
      cv.width = w; cv.height = h;
      var ctx = cv.getContext('2d');
      ctx.drawImage(image, 0, 0);
      var cw = Math.max(1, Math.floor(w / cols)), ch = Math.max(1, Math.floor(h / rows));
      for (var r = 0; r < rows; r++) for (var c = 0; c < cols; c++) {
        var k = r * cols + c, q = cells[row * K + k];
        var x0 = c * cw, y0 = r * ch, x1 = c < cols - 1 ? (c + 1) * cw : w, y1 = r < rows - 1 ? (r + 1) * ch : h;
        if (q > kp) { ctx.strokeStyle = 'rgb(255,40,40)'; ctx.lineWidth = 3; ctx.strokeRect(x0 + 1.5, y0 + 1.5, x1 - x0 - 3, y1 - y0 - 3); }
        else { ctx.strokeStyle = 'rgba(255,255,255,0.7)'; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, y1 - y0 - 1); }
      }
    };
    image.src = img;
    cv.className = 'thumb';
    return cv;
  }
  function drawReference(r) {
    var body = $('ref-body');
    body.textContent = '';
    var s = D.slugs.indexOf(state.ref);
    if (s < 0) return;
    body.appendChild(el('h3', titleOf(s)));
    var facts = [D.slugs[s], DYN[s] ? 'dynamic' : 'static'];
    D.refs.covariate_names.forEach(function (c) { var v = D.refs.covariates[c][s]; if (v !== null) facts.push(c + ' ' + (Math.round(v * 1000) / 1000)); });
    body.appendChild(el('p', facts.join(' · '), 'muted'));
    var rows = slugRows(r, s);
    var t = el('table'); t.id = 'reference-table';
    table(t, [['model', 'model'], ['variant', 'prompt'], ['n', 'generations', function (v) { return v; }],
              ['cra', 'CRA', fmt], ['vr', 'VR', fmt], ['vi', 'VI', fmt], ['crt', 'CRT', fmt]], rows);
    body.appendChild(t);
    var refImgs = (D.ref_images[s] || []);
    if (refImgs.length) {
      var box = el('div', null, 'gallery');
      refImgs.forEach(function (k) { var fig = el('figure'), im = new Image(); im.src = D.images[k]; im.className = 'thumb'; fig.appendChild(im); fig.appendChild(el('figcaption', 'reference image')); box.appendChild(fig); });
      body.appendChild(el('h4', 'Reference images'));
      body.appendChild(box);
    }
    var ev = D.evidence.filter(function (e) { return e.slug === s; });
    if (!ev.length) { body.appendChild(el('p', D.images_note || 'No generated image of this reference is embedded.', 'muted')); return; }
    body.appendChild(el('h4', 'Generated images — red outline: a reused cell at patch τ ' + tau(r.kp) + ' (' + r.match + ' matching)'));
    var byModel = {};
    ev.forEach(function (e) { (byModel[e.model] = byModel[e.model] || []).push(e); });
    Object.keys(byModel).map(Number).sort(function (a, b) { return a - b; }).forEach(function (mo) {
      var line = el('div', null, 'gallery');
      var head = el('div', D.models[mo], 'model-name'); var sw = el('span', '', 'swatch'); sw.style.background = D.colours[D.models[mo]]; head.insertBefore(sw, head.firstChild);
      line.appendChild(head);
      byModel[mo].forEach(function (e) {
        var fig = el('figure'), row = e.row, dyn = DYN[s];
        var rec = A.clip[row] > (dyn ? r.kd : r.kc), cells = r.match === 'any' ? A.cells : (A.same || A.cells), c = 0;
        for (var j = 0; j < K; j++) if (cells[row * K + j] > r.kp) c++;
        fig.appendChild(evidenceCanvas(D.images[e.img], row, r.kp, r.match));
        fig.appendChild(el('figcaption', e.role + ' · ' + D.variants[A.variant[row]] + ' · ' + (rec ? 'recognised' : 'not recognised') +
                                         ' · VR ' + (c / K).toFixed(2)));
        line.appendChild(fig);
      });
      body.appendChild(line);
    });
  }

  var corrTimer = null;
  function drawCorrelations(r) {
    var tbl = $('corr-table'), note = $('corr-note');
    if (!D.refs.covariate_names.length) { tbl.textContent = ''; note.textContent = 'The references have no numeric covariates.'; return; }
    var rows = correlationRows(r, state.corr_variant);
    rows.forEach(function (x) { if (isNaN(x.rho)) x.ci = '–'; });   // a constant column has no ρ and no CI
    var cols = [['model', 'model'], ['metric', 'metric', function (v) { return NAMES[v]; }], ['covariate', 'covariate'],
                ['rho', 'ρ', function (v) { return fmt(v, 2); }], ['ci', '95 % CI', function (v) { return v || '…'; }],
                ['n', 'references']];
    table(tbl, cols, rows);
    note.textContent = 'Spearman ρ over the references of the "' + state.corr_variant + '" prompt; 95 % CIs from ' +
      D.bootstrap + ' percentile-bootstrap resamples (computed after the sliders settle; the resamples differ from Python\'s, so CIs may differ in the second decimal).';
    clearTimeout(corrTimer);
    var todo = rows.filter(function (x) { return !isNaN(x.rho) && !x.ci; }), i = 0, key = r.key, boot = null;
    function step() {                           // a few resamples at a time, so the page stays responsive
      var t0 = performance.now();
      while (i < todo.length && performance.now() - t0 < 12) {
        var x = todo[i];
        boot = boot || bootstrapper(x._a, x._b, D.bootstrap, 1 + x._k);   // its own seed: the same CI every time
        var ci = boot(12 - (performance.now() - t0));
        if (ci) { x.ci = '[' + fmt(ci[0], 2) + ', ' + fmt(ci[1], 2) + ']'; boot = null; i++; }
      }
      if (resolve(params()).key !== key) return;
      if (i < todo.length) corrTimer = setTimeout(step, 0);
      else table(tbl, cols, rows);
    }
    corrTimer = setTimeout(step, 0);
  }

  function reading(models) {
    var s = models.filter(function (x) { return !isNaN(x.crt); });
    if (!s.length || s.every(function (x) { return !(x.cra > 0); })) return 'Nothing is recognised with these settings.';
    var top = s.reduce(function (a, b) { return b.crt > a.crt ? b : a; });
    var text = top.model + ' reinterprets most (CRT ' + top.crt.toFixed(2) + ')';
    var rep = s.filter(function (x) { return !isNaN(x.vr); });
    if (rep.length > 1) {
      var r = rep.reduce(function (a, b) { return b.vr > a.vr ? b : a; });
      if (r.model !== top.model) text += '; ' + r.model + ' replicates most (VR ' + r.vr.toFixed(2) + ' of what it recognises)';
    }
    return text + '.';
  }

  var corrDraw = null, pending = false, pendingR = null, pendingRefs = null;
  function render() {
    var r;
    try { r = resolve(params()); } catch (e) { $('notes').textContent = String(e.message || e); return; }
    ['clip-tau', 'clip-tau-dynamic', 'patch-tau'].forEach(function (id) {
      var k = id.replace(/-/g, '_'); $(id).value = state[k].toFixed(2); $(id + '-out').textContent = SYM + ' ' + state[k].toFixed(2);
    });
    $('pooling').value = state.pooling; $('match').value = state.match;
    var models = modelRows(r).filter(function (x) { return x.kind === state.kind && x.variant === state.variant; });
    table($('model-table'), [['model', 'model'], ['n_refs', 'references'], ['cra', 'CRA', fmt], ['vr', 'VR', fmt],
                             ['vi', 'VI', fmt], ['crt', 'CRT', fmt]], models);
    $('reading').textContent = models.length ? reading(models) : 'No generation passes the filters.';
    $('scope').textContent = state.variant + ' prompt, ' + (state.kind === 'all' ? 'static and dynamic' : state.kind) +
      ' references · means over references · recognised when similarity ' + SYM + ' ' + tau(r.kc) +
      (r.kd !== r.kc ? ' (dynamic ' + tau(r.kd) + ')' : '') + ', reused when cell similarity ' + SYM + ' ' + tau(r.kp);
    history.replaceState(null, '', toHash());
    var refs = referenceRows(r, D.variants.indexOf(state.variant)).filter(function (x) { return state.kind === 'all' || x.kind === state.kind; });
    pendingRefs = refs; pendingR = r;
    if (!pending) {                              // the table is up; the charts follow once per frame, at the latest state
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false; var r = pendingR, refs = pendingRefs;
        drawScatter(refs);
        drawCurves(curves(r));
        drawReference(r);
        clearTimeout(corrDraw);                  // below the fold and the slowest: once the sliders rest
        corrDraw = setTimeout(function () { drawCorrelations(r); }, 150);
      });
    }
  }

  function readControls() {
    state.clip_tau = Number($('clip-tau').value); state.clip_tau_dynamic = Number($('clip-tau-dynamic').value);
    state.patch_tau = Number($('patch-tau').value); state.pooling = $('pooling').value; state.match = $('match').value;
    state.models = checked($('models')); state.kinds = checked($('kinds')); state.variants = checked($('variants'));
    state.kind = $('scope-kind').value; state.variant = $('scope-variant').value;
    state.corr_variant = $('corr-variant').value; state.ref = $('ref-select').value;
  }

  function provenance() {
    var t = $('provenance');
    table(t, [['k', 'what'], ['v', 'value']], D.provenance.map(function (p) { return {k: p[0], v: p[1]}; }));
    var ul = $('definitions');
    D.definitions.forEach(function (d) { ul.appendChild(el('li', d)); });
  }

  function agree(a, b) {                       // the embedded Python table against this page's
    if (a.length !== b.length) return 'it has ' + b.length + ' rows, this page ' + a.length;
    for (var i = 0; i < a.length; i++) {
      for (var k in b[i]) {
        var x = a[i][k], y = b[i][k];
        if (typeof y === 'number' || typeof x === 'number') {
          if ((x === null) !== (y === null) || (x !== null && Math.abs(x - y) > 1e-9)) return b[i].model + ' ' + k + ': ' + y + ' vs ' + x;
        } else if (x !== y) return 'row ' + i + ' ' + k + ': ' + y + ' vs ' + x;
      }
    }
    return null;
  }

  function init() {
    state = startState();
    var notes = fromHash(location.hash);
    $('title').textContent = D.title;
    $('subtitle').textContent = D.subtitle;
    $('notes').textContent = notes.join(' · ');
    checkboxes($('models'), D.models, state.models, onInput, 'Models');
    checkboxes($('kinds'), ['static', 'dynamic'], state.kinds, onInput, 'Kinds');
    checkboxes($('variants'), D.variants, state.variants, onInput, 'Prompt variants');
    options($('scope-kind'), ['all', 'static', 'dynamic'], ['static and dynamic', 'static', 'dynamic'], state.kind);
    options($('scope-variant'), D.variants, null, state.variant);
    options($('corr-variant'), D.variants, null, state.corr_variant);
    var order = D.slugs.map(function (_, s) { return s; }).sort(function (a, b) { return titleOf(a).localeCompare(titleOf(b)); });
    options($('ref-select'), order.map(function (s) { return D.slugs[s]; }), order.map(titleOf), state.ref);
    if (!state.ref) state.ref = $('ref-select').value;
    render();
  }
  function setup() {                           // once per page: listeners, provenance, the self-check, the view
    if (!A.same) $('match').querySelector('option[value="same-position"]').disabled = true;
    ['clip-tau', 'clip-tau-dynamic', 'patch-tau'].forEach(function (id) { $(id).addEventListener('input', onInput); });
    ['pooling', 'match', 'scope-kind', 'scope-variant', 'corr-variant', 'ref-select'].forEach(function (id) { $(id).addEventListener('change', onInput); });
    $('reset').addEventListener('click', function () { history.replaceState(null, '', '#'); init(); });
    $('csv-models').addEventListener('click', function () { download('metrics_model.csv', api.modelTable(params())); });
    $('csv-refs').addEventListener('click', function () { download('metrics_reference.csv', api.referenceTable(params())); });
    provenance();
    var problem = agree(publicRows(modelRows(resolve(D.python.params))), D.python.rows);
    var badge = $('badge');
    badge.textContent = problem ? '⚠ differs from iconicity metrics: ' + problem : '✓ equal to iconicity metrics at the starting settings';
    badge.className = problem ? 'badge bad' : 'badge good';
    init();
  }
  function onInput() { readControls(); render(); }
  window.addEventListener('hashchange', function () {
    if (location.hash === toHash()) return;
    state = startState(); $('notes').textContent = fromHash(location.hash).join(' · '); syncControls(); render();
  });
  function syncControls() {
    [['models', D.models], ['kinds', ['static', 'dynamic']], ['variants', D.variants]].forEach(function (x) {
      $(x[0]).querySelectorAll('input').forEach(function (c) { c.checked = !state[x[0]].length || state[x[0]].indexOf(c.value) >= 0; });
    });
    $('scope-kind').value = state.kind; $('scope-variant').value = state.variant; $('corr-variant').value = state.corr_variant;
    if (state.ref) $('ref-select').value = state.ref;
  }

  var api = {
    /** `iconicity metrics --by model --format json` rows (thresholds default to the run's operating point). */
    modelTable: function (p) { return publicRows(modelRows(resolve(p))); },
    /** `iconicity metrics --by reference --format json` rows. */
    referenceTable: function (p) { return publicRows(referenceRows(resolve(p))); },
    /** Results.sweep(): CRA vs recognition τ and VR vs patch τ per model, on the grid. */
    curves: function (p) { return curves(resolve(p)); },
    /** Spearman ρ per (model or 'pooled', metric, covariate) for one prompt variant. */
    correlations: function (p, variant, withCI) {
      return correlationRows(resolve(p), variant || D.start.variant).map(function (x) {
        var o = {model: x.model, metric: x.metric, covariate: x.covariate, rho: nul(x.rho), n: x.n};
        if (withCI) {                          // the page's percentile-bootstrap CI, computed now
          var ci = isNaN(x.rho) ? [NaN, NaN] : bootstrapper(x._a, x._b, D.bootstrap, 1 + x._k)(Infinity);
          o.ci_low = nul(ci[0]); o.ci_high = nul(ci[1]);
        }
        return o;
      });
    },
    state: function () { return JSON.parse(JSON.stringify(state)); },
    run: D.run, grid: D.grid.taus, isReady: false
  };
  api.ready = new Promise(function (done) {
    function go() { setup(); api.readyMs = performance.now(); api.isReady = true; document.documentElement.setAttribute('data-ready', '1'); done(true); }
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go); else go();
  });
  window.iconicityExplorer = api;
})();
