/* The shared file's "one reference" view: its scores per model and prompt, its images, and the embedded
 * evidence — each model's most and least reused recognised generation — with the cells reused at the current
 * patch τ outlined, the threshold decision and, where the database has one, the human label beside it.
 */
import { resolve, slugRows } from '../kernel.js';
import { params } from '../store.js';
import { fill, fmt, tauText } from '../text.js';
import { el, options, swatch, table } from './dom.js';

function evidenceCanvas(D, img, row, kp, match) {
  const cv = el('canvas', null, 'thumb'), cells = match === 'any' ? D.A.cells : (D.A.same || D.A.cells);
  const rows = D.meta.run.rows, cols = D.meta.run.cols, K = D.K, image = new Image();
  image.onload = () => {
    const w = image.naturalWidth, h = image.naturalHeight;
    cv.width = w; cv.height = h;
    const ctx = cv.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const cw = Math.max(1, Math.floor(w / cols)), ch = Math.max(1, Math.floor(h / rows));   // the authors' split
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const q = cells[row * K + r * cols + c];
      const x0 = c * cw, y0 = r * ch, x1 = c < cols - 1 ? (c + 1) * cw : w, y1 = r < rows - 1 ? (r + 1) * ch : h;
      if (q > kp) { ctx.strokeStyle = 'rgb(255,40,40)'; ctx.lineWidth = 3; ctx.strokeRect(x0 + 1.5, y0 + 1.5, x1 - x0 - 3, y1 - y0 - 3); }
      else { ctx.strokeStyle = 'rgba(255,255,255,0.7)'; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, y1 - y0 - 1); }
    }
  };
  image.src = img;
  return cv;
}

export function makeReference(box, D, store) {
  const T = D.meta.text.reference, C = D.meta.text.columns, root = el('section');
  root.id = 'reference';
  const pick = el('select'), body = el('div');
  pick.id = 'ref-select'; body.id = 'ref-body';
  pick.setAttribute('aria-label', T.pick);
  const titleOf = (s) => D.meta.refs.title[s] || D.meta.slugs[s];
  const order = D.meta.slugs.map((_, s) => s).sort((a, b) => titleOf(a).localeCompare(titleOf(b)));
  options(pick, order.map((s) => D.meta.slugs[s]), order.map(titleOf), store.get().ref || D.meta.slugs[order[0]]);
  root.append(el('h2', T.heading), pick, body);
  box.appendChild(root);
  pick.addEventListener('change', () => store.set({ref: pick.value}, 'input'));
  let drawn = null;

  function render() {
    const st = store.get();
    let r;
    try { r = resolve(D, params(st)); } catch { return; }
    const slug = st.ref || pick.value, key = r.key + '|' + slug;
    if (pick.value !== slug) pick.value = slug;
    if (key === drawn) return;
    drawn = key;
    body.textContent = '';
    const s = D.meta.slugs.indexOf(slug);
    if (s < 0) return;
    body.appendChild(el('h3', titleOf(s)));
    const facts = [D.meta.slugs[s], D.dynamic[s] ? T.dynamic : T.static];
    for (const c of D.meta.refs.covariate_names) {
      const v = D.meta.refs.covariates[c][s];
      if (v !== null && v !== undefined) facts.push(((D.meta.refs.covariate_labels || {})[c] || c) + ' ' + (Math.round(v * 1000) / 1000));
    }
    body.appendChild(el('p', facts.join(' · '), 'muted'));
    const t = el('table');
    t.id = 'reference-table';
    table(t, [['model', C.model], ['variant', C.variant], ['n', C.n, (v) => v], ['cra', C.cra, fmt], ['vr', C.vr, fmt],
              ['vi', C.vi, fmt], ['crt', C.crt, fmt]], slugRows(D, r, s), D.meta.colours);
    body.appendChild(t);
    const refImgs = (D.meta.ref_images || {})[s] || [];
    if (refImgs.length) {
      const gal = el('div', null, 'gallery');
      for (const k of refImgs) {
        const fig = el('figure'), im = new Image();
        im.src = D.meta.images[k]; im.className = 'thumb';
        fig.append(im, el('figcaption', T.reference_image));
        gal.appendChild(fig);
      }
      body.append(el('h4', T.reference_images), gal);
    }
    const ev = (D.meta.evidence || []).filter((e) => e.slug === s);
    if (!ev.length) { body.appendChild(el('p', D.meta.images_note || T.no_images, 'muted')); return; }
    body.appendChild(el('h4', fill(T.generated, {tau: tauText(r.kp), match: D.meta.text.controls.match.options[r.match === 'any' ? 0 : 1]})));
    const byModel = new Map();
    for (const e of ev) { if (!byModel.has(e.model)) byModel.set(e.model, []); byModel.get(e.model).push(e); }
    for (const mo of Array.from(byModel.keys()).sort((a, b) => a - b)) {
      const line = el('div', null, 'gallery'), head = el('div', D.meta.models[mo], 'model-name');
      head.insertBefore(swatch(D.meta.colours[D.meta.models[mo]]), head.firstChild);
      line.appendChild(head);
      for (const e of byModel.get(mo)) {
        const fig = el('figure'), row = e.row, dyn = D.dynamic[s];
        const rec = D.A.clip[row] > (dyn ? r.kd : r.kc), cells = r.match === 'any' ? D.A.cells : (D.A.same || D.A.cells);
        let c = 0;
        for (let j = 0; j < D.K; j++) if (cells[row * D.K + j] > r.kp) c++;
        const parts = [T.roles[e.role] || e.role, D.meta.variants[D.A.variant[row]], rec ? T.recognised : T.not_recognised,
                       'VR ' + (c / D.K).toFixed(2)];
        if (e.label) parts.push(fill(T.labelled, {label: e.label}));
        fig.append(evidenceCanvas(D, D.meta.images[e.img], row, r.kp, r.match), el('figcaption', parts.join(' · ')));
        line.appendChild(fig);
      }
      body.appendChild(line);
    }
  }
  let frame = 0;                                  // after the per-model table: in the next frame, at the latest settings
  const unsubscribe = store.subscribe(() => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); }); });
  render();
  return {element: root, unsubscribe};
}
