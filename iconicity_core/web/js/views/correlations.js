/* Correlations, live: Spearman ρ of each reference's CRA, VR and CRT with every numeric covariate (per model
 * and pooled) — ρ at once, the 95 % bootstrap CIs filled in as they finish once the settings rest — and the
 * scatter of one covariate against one metric.
 */
import { referenceRows, resolve } from '../kernel.js';
import { bootstrapper, correlationRows } from '../stats.js';
import { params } from '../store.js';
import { fill, fmt } from '../text.js';
import { el, options, sized, swatch, table, widthOf } from './dom.js';

export function makeCorrelations(box, D, store) {
  const T = D.meta.text.correlations, C = D.meta.text.columns, names = D.meta.text.metric_names, root = el('div', null, 'correlations');
  const covs = D.meta.refs.covariate_names;
  const variant = el('select'), tools = el('div', null, 'tools'), lv = el('label', null, 'field');
  variant.id = 'corr-variant';
  options(variant, D.meta.variants, null, store.get().corr_variant);
  lv.append(el('span', T.variant_label, 'field-name'), variant);
  tools.appendChild(lv);
  const note = el('p', '', 'muted'), wrap = el('div', null, 'corr-wrap'), tbl = el('table');
  note.id = 'corr-note'; tbl.id = 'corr-table';
  tbl.dataset.progressive = '1';                  // its CIs fill in after it is drawn (cis: pending | done)
  wrap.appendChild(tbl);
  const pickCov = el('select'), pickMetric = el('select'), tools2 = el('div', null, 'tools');
  pickCov.id = 'corr-cov'; pickMetric.id = 'corr-metric';
  options(pickCov, covs, covs.map((c) => (D.meta.refs.covariate_labels || {})[c] || c), covs[0]);
  options(pickMetric, ['cra', 'vr', 'crt'], ['cra', 'vr', 'crt'].map((m) => names[m]), 'vr');
  const lc = el('label', null, 'field'), lm = el('label', null, 'field');
  lc.append(el('span', T.cov_label, 'field-name'), pickCov); lm.append(el('span', T.metric_label, 'field-name'), pickMetric);
  tools2.append(lc, lm);
  const scatterBox = el('div', null, 'chart'), head = el('div', '', 'plot-title'), cv = el('canvas'), legend = el('div', null, 'legend');
  cv.setAttribute('role', 'img');
  scatterBox.append(head, cv, legend);
  root.append(tools, note, wrap, tools2, scatterBox);
  box.appendChild(root);
  if (!covs.length) { root.textContent = ''; root.appendChild(el('p', T.none, 'muted')); return {element: root, unsubscribe() {}}; }

  const label = (c) => (D.meta.refs.covariate_labels || {})[c] || c;
  const cols = [['model', C.model], ['metric', C.metric, (v) => names[v]], ['covariate', C.covariate, label],
                ['rho', C.rho, (v) => fmt(v, 2)], ['ci', C.ci, (v) => v || '…'], ['n_refs', C.n_refs, (v) => v]];
  let timer = 0, rest = 0, rows = [];
  function render() {
    const s = store.get();
    let r;
    try { r = resolve(D, params(s)); } catch (e) { note.textContent = String(e.message || e); return; }
    if (variant.value !== s.corr_variant) variant.value = s.corr_variant;
    rows = correlationRows(D, r, s.corr_variant).map((x) => Object.assign({}, x, {ci: isNaN(x.rho) ? '–' : x.ci}));
    table(tbl, cols, rows, D.meta.colours);
    note.textContent = fill(T.note, {variant: s.corr_variant, n: D.meta.bootstrap});
    scatter(r);
    clearTimeout(rest); clearTimeout(timer);
    rest = setTimeout(() => cis(r.key, s.corr_variant), 150);          // once the settings rest
  }
  function cis(key, v) {
    const todo = rows.filter((x) => !isNaN(x.rho) && !x.ci);
    tbl.dataset.cis = todo.length ? 'pending' : 'done';
    let i = 0, boot = null;
    const now = () => performance.now();
    const step = () => {
      const t0 = now();
      while (i < todo.length && now() - t0 < 12) {
        const x = todo[i];
        boot = boot || bootstrapper(x._a, x._b, D.meta.bootstrap, 1 + x._k, now);   // its own seed: the same CI every time
        const ci = boot(12 - (now() - t0));
        if (ci) { x.ci = '[' + fmt(ci[0], 2) + ', ' + fmt(ci[1], 2) + ']'; boot = null; i++; }
      }
      const s = store.get();
      if (resolve(D, params(s)).key !== key || s.corr_variant !== v) return;
      if (i < todo.length) timer = setTimeout(step, 0);
      table(tbl, cols, rows, D.meta.colours);
      if (i >= todo.length) tbl.dataset.cis = 'done';
    };
    timer = setTimeout(step, 0);
  }
  function scatter(r) {
    const s = store.get(), cov = pickCov.value, metric = pickMetric.value;
    const pts = [];                               // one point per reference and model of the variant
    for (const x of referenceRows(D, r, D.meta.variants.indexOf(s.corr_variant))) {
      const c = D.meta.refs.covariates[cov][x._s];
      if (c === null || c === undefined || isNaN(x[metric])) continue;
      pts.push({x: c, y: x[metric], model: x.model});
    }
    head.textContent = fill(T.scatter_title, {metric: names[metric], covariate: label(cov)});
    const w = widthOf(scatterBox, 260), H = 300, c = sized(cv, w, H);
    cv.dataset.paints = String(Number(cv.dataset.paints || 0) + 1);
    const xs = pts.map((p) => p.x), pos = xs.length && xs.every((v) => v > 0), log = pos && Math.max(...xs) / Math.min(...xs) > 100;
    const tx = (v) => (log ? Math.log10(v) : v);
    let lo = Math.min(...xs.map(tx)), hi = Math.max(...xs.map(tx));
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const g = {left: 48, right: w - 12, top: 8, bottom: H - 42};
    const X = (v) => g.left + (tx(v) - lo) / (hi - lo) * (g.right - g.left), Y = (v) => g.bottom - v * (g.bottom - g.top);
    c.font = '11px system-ui, sans-serif'; c.strokeStyle = '#e6e9ed'; c.fillStyle = '#59636e';
    for (const t of [0, 0.25, 0.5, 0.75, 1]) { c.beginPath(); c.moveTo(g.left, Y(t)); c.lineTo(g.right, Y(t)); c.stroke(); c.textAlign = 'right'; c.fillText(t.toFixed(2), g.left - 6, Y(t) + 4); }
    for (let k = 0; k <= 4; k++) {
      const v = lo + (hi - lo) * k / 4, text = log ? Number(Math.pow(10, v).toPrecision(2)).toString() : Number(v.toPrecision(3)).toString();
      c.textAlign = 'center'; c.fillText(text, g.left + k / 4 * (g.right - g.left), g.bottom + 14);
    }
    c.fillStyle = '#1f2328'; c.font = '12px system-ui, sans-serif'; c.textAlign = 'center';
    c.fillText(label(cov) + (log ? ' ' + T.log_note : ''), (g.left + g.right) / 2, g.bottom + 32);
    c.save(); c.translate(13, (g.top + g.bottom) / 2); c.rotate(-Math.PI / 2); c.fillText(names[metric], 0, 0); c.restore();
    c.globalAlpha = 0.75;
    for (const p of pts) { c.fillStyle = D.meta.colours[p.model] || '#444'; c.beginPath(); c.arc(X(p.x), Y(p.y), 3.5, 0, 2 * Math.PI); c.fill(); }
    c.globalAlpha = 1;
    legend.textContent = '';
    for (const mo of D.meta.models) if (pts.some((p) => p.model === mo)) { const it = el('span', mo); it.insertBefore(swatch(D.meta.colours[mo]), it.firstChild); legend.appendChild(it); }
  }
  variant.addEventListener('change', () => store.set({corr_variant: variant.value}, 'input'));
  pickCov.addEventListener('change', render);
  pickMetric.addEventListener('change', render);
  let later = 0;                                  // once the settings rest, so the tables above paint first
  const unsubscribe = store.subscribe(() => { clearTimeout(later); later = setTimeout(render, 120); });
  render();
  return {element: root, unsubscribe};
}
