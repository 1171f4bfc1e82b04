/* The Thresholds page's live half: CRA vs recognition τ and VR vs patch τ per model, the CRT of one model over
 * the (recognition τ, patch τ) grid, and how stable the model ranking by CRT is across that grid against the
 * current thresholds. The curves and the grid do not depend on the thresholds (only their marks move): they are
 * computed again only when pooling, matching or a filter changes, the grid in one pass over the cells.
 */
import { crtGrid, curves, distributions, rankingStability, resolve } from '../kernel.js';
import { params } from '../store.js';
import { fill } from '../text.js';
import { makeHeatmap, makeLines } from './charts.js';
import { el, options } from './dom.js';

export function makeThresholds(box, D, store) {
  const T = D.meta.text.thresholds, root = el('div', null, 'thresholds');
  const row1 = el('div', null, 'row even'), c1 = el('div', null, 'col'), c2 = el('div', null, 'col');
  row1.append(c1, c2);
  const pick = el('select');
  pick.id = 'grid-model';
  const tools = el('div', null, 'tools'), l = el('label', null, 'field');
  l.append(el('span', T.model_label, 'field-name'), pick);
  tools.appendChild(l);
  const row2 = el('div', null, 'row even'), c3 = el('div', null, 'col'), c4 = el('div', null, 'col');
  row2.append(c3, c4);
  const row3 = el('div', null, 'row even'), c5 = el('div', null, 'col'), c6 = el('div', null, 'col');
  row3.append(c5, c6);
  root.append(row1, el('h3', T.grid_heading), tools, row2, el('p', T.undefined_note, 'muted'), el('h3', T.dist_heading), row3);
  box.appendChild(root);
  const cra = makeLines(c1, D.meta.colours, {title: T.cra_title, x: T.x_cra, y: T.y_cra});
  const vr = makeLines(c2, D.meta.colours, {title: T.vr_title, x: T.x_vr, y: T.y_vr});
  const heat = makeHeatmap(c3, {title: '', x: T.x_vr, y: T.x_cra, value: T.value_crt});
  const stab = makeHeatmap(c4, {title: T.stability_title, x: T.x_vr, y: T.x_cra, value: T.value_kendall});
  const spreadClip = makeLines(c5, D.meta.colours, {title: T.dist_clip_title, x: T.dist_clip_x, y: T.dist_clip_y});
  const spreadCells = makeLines(c6, D.meta.colours, {title: T.dist_cells_title, x: T.dist_cells_x, y: T.dist_cells_y});
  const taus = D.meta.grid.taus, GN = D.meta.grid.n;
  const centres = Array.from({length: GN + 1}, (_, q) => (q === 0 ? taus[0] : q === GN ? taus[GN - 1] : (taus[q - 1] + taus[q]) / 2));
  const idx = D.meta.grid.heatmap;
  let job = null, frame = 0;

  function render() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }
  function draw() {
    const s = store.get();
    let r;
    try { r = resolve(D, params(s)); } catch { return; }
    const cv = curves(D, r);
    cra.draw(cv.taus, cv.cra, s.clip_tau);
    vr.draw(cv.taus, cv.vr, s.patch_tau);
    const dist = distributions(D, r);
    spreadClip.draw(centres, dist.clip, s.clip_tau, 'auto');
    spreadCells.draw(centres, dist.cells, s.patch_tau, 'auto');
    const models = Object.keys(cv.cra);
    if (pick.__models !== models.join('\n')) {
      pick.__models = models.join('\n');
      options(pick, models, null, models.indexOf(s.grid_model) >= 0 ? s.grid_model : models[0]);
    }
    grid(r);
  }
  function grid(r) {                              // after the curves have painted: one pass for the whole grid
    const key = r.pooling + r.match + r.filterKey;
    if (job && job.key === key && job.grid) { paintGrid(); return; }
    if (job) clearTimeout(job.timer);
    job = {key, grid: null, timer: setTimeout(() => { job.grid = crtGrid(D, r, idx, idx); paintGrid(); }, 0)};
  }
  function paintGrid() {
    if (!job || !job.grid) return;
    const s = store.get(), g = job.grid, model = g.models.indexOf(pick.value) >= 0 ? pick.value : g.models[0];
    if (model !== undefined) heat.draw(g.patch, g.clip, g.crt[model], [0, 1], 'viridis', fill(T.crt_title, {model}));
    stab.draw(g.patch, g.clip, rankingStability(g, s.clip_tau, s.patch_tau), [-1, 1], 'rdbu');
  }
  pick.addEventListener('change', () => { store.set({grid_model: pick.value}, 'input'); paintGrid(); });
  const unsubscribe = store.subscribe(render);
  draw();
  return {element: root, unsubscribe};
}
