/* The Overview, live: the per-model table #model-table for one kind of reference and one prompt variant, the
 * sentence that reads it, the recognition × realization plane (a click opens a reference), per-model bars and
 * quadrant counts — all recomputed in the browser when a setting moves. The table is redrawn at once; the
 * charts follow in the next frame, at the latest settings.
 */
import { METRICS, modelRows, publicRows, quadrantCounts, referenceRows, resolve } from '../kernel.js';
import { params } from '../store.js';
import { csvText, fill, fmt, reading, tauText } from '../text.js';
import { makeBars } from './charts.js';
import { download, el, options, table } from './dom.js';
import { makePlane } from './plane.js';

/** Build the Overview in ``box`` for data ``D`` following ``store``; ``onPick(slug)`` when a point is clicked;
 *  ``onPage(kind, variant)`` when the table's scope changes. */
export function makeOverview(box, D, store, onPick, onPage) {
  const T = D.meta.text, O = T.overview, C = T.columns, root = el('div', null, 'overview');
  const top = el('div', null, 'row'), left = el('div', null, 'col wide'), right = el('div', null, 'col');
  const kind = el('select'), variant = el('select');
  kind.id = 'scope-kind'; variant.id = 'scope-variant';
  options(kind, ['all', 'static', 'dynamic'], ['all', 'static', 'dynamic'].map((k) => O.kinds[k]), store.get().kind);
  options(variant, D.meta.variants, null, store.get().variant);
  const tools = el('div', null, 'tools');
  const l1 = el('label', null, 'field'), l2 = el('label', null, 'field');
  l1.append(el('span', O.kind_label, 'field-name'), kind); l2.append(el('span', O.variant_label, 'field-name'), variant);
  tools.append(l1, l2);
  const scope = el('p', '', 'scope'), tbl = el('table'), sentence = el('p', '', 'reading');
  scope.id = 'scope'; tbl.id = 'model-table'; sentence.id = 'reading';
  const csv = el('div', null, 'tools'), b1 = el('button', O.csv_models), b2 = el('button', O.csv_refs);
  b1.type = b2.type = 'button'; b1.id = 'csv-models'; b2.id = 'csv-refs';
  csv.append(b1, b2);
  const defs = el('details'), ul = el('ul');
  ul.id = 'definitions';
  defs.append(el('summary', O.definitions_title), ul);
  for (const d of T.definitions) ul.appendChild(el('li', d));
  right.append(el('h3', O.table_title), tools, scope, tbl, sentence, csv, defs);
  top.append(left, right);
  const bottom = el('div', null, 'row'), bl = el('div', null, 'col wide'), br = el('div', null, 'col');
  const qt = el('table');
  qt.id = 'quadrant-table';
  br.append(el('h3', O.quadrants_title), qt);
  bottom.append(bl, br);
  root.append(top, el('p', O.caption, 'muted'), bottom);
  box.appendChild(root);

  const plane = makePlane(left, D.meta, onPick, O.plane);
  const bars = makeBars(bl, {title: O.bars_title});

  function readScope() {
    store.set({kind: kind.value, variant: variant.value}, 'input');
    if (onPage) onPage(kind.value, variant.value);
  }
  kind.addEventListener('change', readScope);
  variant.addEventListener('change', readScope);
  b1.addEventListener('click', () => download('metrics_model.csv', csvText(publicRows(modelRows(D, resolve(D, params(store.get())))))));
  b2.addEventListener('click', () => download('metrics_reference.csv', csvText(publicRows(referenceRows(D, resolve(D, params(store.get())))))));

  let frame = 0, drawnKey = null;
  function render() {
    const s = store.get();
    let r;
    try { r = resolve(D, params(s)); } catch (e) { sentence.textContent = String(e.message || e); return; }
    if (kind.value !== s.kind) kind.value = s.kind;
    if (variant.value !== s.variant) variant.value = s.variant;
    const rows = modelRows(D, r).filter((x) => x.kind === s.kind && x.variant === s.variant);
    table(tbl, [['model', C.model], ['n_refs', C.n_refs, (v) => v], ['cra', C.cra, fmt], ['vr', C.vr, fmt], ['vi', C.vi, fmt],
                ['crt', C.crt, fmt]], rows, D.meta.colours);
    sentence.textContent = reading(T, rows, r.pooling);
    const n = rows.length ? Math.max(...rows.map((x) => x.n_refs)) : 0;
    scope.textContent = fill(O.scope, {variant: s.variant, kinds: O.kinds[s.kind], n, sym: T.symbol, clip: tauText(r.kc),
                                       dyn: r.kd !== r.kc ? fill(O.dyn, {tau: tauText(r.kd)}) : '', patch: tauText(r.kp)});
    const key = r.key + '|' + s.kind + '|' + s.variant;
    if (key === drawnKey) return;
    drawnKey = key;
    // the numbers paint first; the plane, bars and quadrants right after that frame, at the latest settings
    if (!frame) frame = requestAnimationFrame(() => setTimeout(() => { frame = 0; charts(); }, 0));
  }
  function charts() {
    const s = store.get(), r = resolve(D, params(s));
    const refs = referenceRows(D, r, D.meta.variants.indexOf(s.variant)).filter((x) => s.kind === 'all' || x.kind === s.kind);
    plane.draw(refs);
    const counts = quadrantCounts(D, refs);
    table(qt, [['q', O.quadrant_header[0]], ['n', O.quadrant_header[1], (v) => v]],
          D.meta.quadrants.names.map((q, i) => ({q, n: counts[i]})));
    const all = modelRows(D, r).filter((x) => x.kind === s.kind);
    bars.draw(D.meta.variants.filter((v) => all.some((x) => x.variant === v)).map((v) => {
      const rows = all.filter((x) => x.variant === v);
      return {name: fill(O.bars_facet, {variant: v}),
              groups: METRICS.map((m) => ({label: T.metric_names[m], bars: rows.map((x) => ({key: x.model, value: x[m]}))}))};
    }), D.meta.colours);
  }
  const unsubscribe = store.subscribe(render);
  render();
  return {element: root, render, unsubscribe, plane};
}
