/* The Thresholds page's live half: CRA vs recognition τ and VR vs patch τ per model, the CRT of one model over
 * the (recognition τ, patch τ) grid, and how stable the model ranking by CRT is across that grid against the
 * current thresholds. The curves and the grid do not depend on the thresholds (only their marks move); the grid
 * is computed a column at a time, so the page stays responsive at ten times the paper's scale.
 */
import { crtGrid, curves, rankingStability, resolve } from '../kernel.js';
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
  root.append(row1, el('h3', T.grid_heading), tools, row2, el('p', T.undefined_note, 'muted'));
  box.appendChild(root);
  const cra = makeLines(c1, D.meta.colours, {title: T.cra_title, x: T.x_cra, y: T.y_cra});
  const vr = makeLines(c2, D.meta.colours, {title: T.vr_title, x: T.x_vr, y: T.y_vr});
  const heat = makeHeatmap(c3, {title: '', x: T.x_vr, y: T.x_cra, value: T.value_crt});
  const stab = makeHeatmap(c4, {title: T.stability_title, x: T.x_vr, y: T.x_cra, value: T.value_kendall});
  const idx = D.meta.grid.heatmap;
  let job = null, frame = 0;

  function render() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }
  function draw() {
    const s = store.get();
    let r;
    try { r = resolve(D, params(s)); } catch (e) { return; }
    const cv = curves(D, r);
    cra.draw(cv.taus, cv.cra, s.clip_tau);
    vr.draw(cv.taus, cv.vr, s.patch_tau);
    const models = Object.keys(cv.cra);
    if (pick.__models !== models.join('\n')) {
      pick.__models = models.join('\n');
      options(pick, models, null, models.indexOf(s.grid_model) >= 0 ? s.grid_model : models[0]);
    }
    grid(r);
  }
  function grid(r) {                              // column by column, then both heat maps at once
    const key = r.pooling + r.match + r.filterKey;
    if (job && job.key === key) { paintGrid(); return; }
    if (job) clearTimeout(job.timer);
    job = {key, cols: [], j: 0, timer: 0};
    const step = () => {
      if (job.key !== key) return;
      job.cols.push(crtGrid(D, r, idx, [idx[job.j]]));
      job.j += 1;
      if (job.j < idx.length) job.timer = setTimeout(step, 0);
      else paintGrid();
    };
    job.timer = setTimeout(step, 0);
  }
  function paintGrid() {
    if (!job || job.j < idx.length) return;
    const s = store.get(), models = job.cols[0].models, model = models.indexOf(pick.value) >= 0 ? pick.value : models[0];
    const taus = idx.map((j) => D.meta.grid.taus[j]);
    const full = {clip: taus, patch: taus, models, crt: {}};
    for (const mo of models) full.crt[mo] = taus.map((_, i) => job.cols.map((col) => col.crt[mo][i][0]));
    if (model !== undefined) heat.draw(taus, taus, full.crt[model], [0, 1], 'viridis', fill(T.crt_title, {model}));
    stab.draw(taus, taus, rankingStability(full, s.clip_tau, s.patch_tau), [-1, 1], 'rdbu');
  }
  pick.addEventListener('change', () => { store.set({grid_model: pick.value}, 'input'); paintGrid(); });
  const unsubscribe = store.subscribe(render);
  draw();
  return {element: root, unsubscribe};
}
