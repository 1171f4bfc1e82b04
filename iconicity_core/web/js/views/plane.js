/* The recognition × realization plane on a canvas: one point per reference and model, quadrants shaded and
 * named, the cuts dotted, one colour per model, ● static ◆ dynamic. Thousands of points redraw in a few ms
 * (Plotly's WebGL plane cost the dashboard most of a second per move). Hover names a point (as text); a click
 * calls onPick(reference index).
 */
import { el, sized, swatch, widthOf } from './dom.js';

const HEIGHT = 400;
const PAD = {l: 52, r: 14, t: 12, b: 40};

function geometry(w, h) {
  return {w, h, x: (v) => PAD.l + (v + 0.03) / 1.06 * (w - PAD.l - PAD.r),
          y: (v) => h - PAD.b - (v + 0.03) / 1.06 * (h - PAD.t - PAD.b)};
}

/** A plane view in ``box``: returns {draw(points), element}. ``meta``: the run's (colours, quadrants, titles). */
export function makePlane(box, meta, onPick, words) {
  const W = words || {};
  const wrap = el('div', null, 'plane');
  wrap.id = 'scatter';
  const title = el('div', W.title || 'Recognition × realization  (● static, ◆ dynamic)', 'plot-title');
  const cv = el('canvas');
  cv.setAttribute('role', 'img');
  cv.setAttribute('aria-label', W.aria || 'recognition (CRA) against realization (VR), one point per reference and model');
  const tip = el('div', '', 'tip'), legend = el('div', null, 'legend');
  wrap.append(title, cv, tip, legend);
  box.appendChild(wrap);
  let points = [], w = 0;

  function nearest(ev) {
    let best = -1, bd = 64;                     // within 8 px
    for (let i = 0; i < points.length; i++) {
      const p = points[i], dx = p.px - ev.offsetX, dy = p.py - ev.offsetY, d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = i; }
    }
    return best;
  }
  cv.addEventListener('mousemove', (ev) => {
    const i = nearest(ev);
    if (i < 0) { tip.style.display = 'none'; cv.style.cursor = 'default'; return; }
    const p = points[i], title = meta.refs.title[p.s] || meta.slugs[p.s];
    tip.textContent = title + ' (' + p.kind + ') · ' + p.model + ' · CRA ' + p.cra.toFixed(2) + ' · VR ' +
      (isNaN(p.vr) ? '–' : p.vr.toFixed(2));
    tip.style.display = 'block';
    tip.style.left = Math.min(ev.offsetX + 12, w - 220) + 'px'; tip.style.top = (ev.offsetY + 26) + 'px';
    cv.style.cursor = onPick ? 'pointer' : 'default';
  });
  cv.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  cv.addEventListener('click', (ev) => { const i = nearest(ev); if (i >= 0 && onPick) onPick(points[i].s); });

  let paints = 0;
  function paint() {
    cv.dataset.paints = String(++paints);         // how often it drew (a rerun that changes nothing draws nothing)
    w = widthOf(wrap, 280);
    const g = geometry(w, HEIGHT), c = sized(cv, w, HEIGHT), Q = meta.quadrants, cut = Q.cut;
    const boxes = [[cut, 1.03, cut, 1.03], [cut, 1.03, -0.03, cut], [-0.03, cut, cut, 1.03], [-0.03, cut, -0.03, cut]];
    c.globalAlpha = 0.08;
    boxes.forEach((b, i) => { c.fillStyle = Q.colours[i]; c.fillRect(g.x(b[0]), g.y(b[3]), g.x(b[1]) - g.x(b[0]), g.y(b[2]) - g.y(b[3])); });
    c.globalAlpha = 1; c.font = '11px system-ui, sans-serif'; c.fillStyle = '#59636e'; c.strokeStyle = '#e6e9ed'; c.lineWidth = 1;
    for (let t = 0; t <= 1.0001; t += 0.2) {
      c.beginPath(); c.moveTo(g.x(t), g.y(-0.03)); c.lineTo(g.x(t), g.y(1.03)); c.moveTo(g.x(-0.03), g.y(t)); c.lineTo(g.x(1.03), g.y(t)); c.stroke();
      c.textAlign = 'center'; c.fillText(t.toFixed(1), g.x(t), HEIGHT - PAD.b + 14);
      c.textAlign = 'right'; c.fillText(t.toFixed(1), PAD.l - 6, g.y(t) + 4);
    }
    c.setLineDash([3, 3]); c.strokeStyle = '#888';
    c.beginPath(); c.moveTo(g.x(cut), g.y(-0.03)); c.lineTo(g.x(cut), g.y(1.03)); c.moveTo(g.x(-0.03), g.y(cut)); c.lineTo(g.x(1.03), g.y(cut)); c.stroke();
    c.setLineDash([]);
    c.fillStyle = '#1f2328'; c.font = '12px system-ui, sans-serif'; c.textAlign = 'center';
    c.fillText(W.x || 'recognition: CRA (share of generations recognised)', PAD.l + (w - PAD.l - PAD.r) / 2, HEIGHT - 6);
    c.save(); c.translate(14, PAD.t + (HEIGHT - PAD.t - PAD.b) / 2); c.rotate(-Math.PI / 2);
    c.fillText(W.y || 'realization: VR (share of cells reused)', 0, 0); c.restore();
    c.lineWidth = 0.6; c.strokeStyle = '#ffffff'; c.globalAlpha = 0.85;
    for (const p of points) {
      const x = g.x(p.cra), y = g.y(isNaN(p.vr) ? 0 : p.vr);
      p.px = x; p.py = y;
      c.fillStyle = meta.colours[p.model] || '#444'; c.beginPath();
      if (p.kind === 'dynamic') { c.moveTo(x, y - 5); c.lineTo(x + 5, y); c.lineTo(x, y + 5); c.lineTo(x - 5, y); c.closePath(); }
      else c.arc(x, y, 4, 0, 2 * Math.PI);
      c.fill(); c.stroke();
    }
    c.globalAlpha = 1;
    c.font = 'bold 12px system-ui, sans-serif';                // the quadrants' names, over the points, on a backing
    [[1.02, 1.02, 'right', 13], [1.02, -0.02, 'right', -5], [-0.02, 1.02, 'left', 13], [-0.02, -0.02, 'left', -5]].forEach((s, i) => {
      const text = Q.names[i], tw = c.measureText(text).width, x = g.x(s[0]), y = g.y(s[1]) + s[3];
      const x0 = s[2] === 'right' ? x - tw - 3 : x - 3;
      c.fillStyle = 'rgba(255,255,255,0.85)'; c.fillRect(x0, y - 12, tw + 6, 16);
      c.fillStyle = Q.colours[i]; c.textAlign = s[2]; c.fillText(text, x, y);
    });
  }
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => requestAnimationFrame(() => { if (widthOf(wrap, 280) !== w) paint(); })).observe(wrap);

  return {
    element: wrap,
    /** Draw reference rows (model, kind, cra, vr, _s). */
    draw(rows) {
      points = rows.map((x) => ({s: x._s, model: x.model, kind: x.kind, cra: x.cra, vr: x.vr}));
      const seen = new Set(rows.map((x) => x.model));
      legend.textContent = '';
      for (const mo of meta.models) {
        if (!seen.has(mo)) continue;
        const item = el('span', mo);
        item.insertBefore(swatch(meta.colours[mo]), item.firstChild);
        legend.appendChild(item);
      }
      paint();
    },
    /** Where each point is on the screen (client pixels), with its reference index and model: for automation. */
    clientPoints() {
      const box = cv.getBoundingClientRect();
      return points.map((p) => ({s: p.s, slug: meta.slugs[p.s], title: meta.refs.title[p.s] || meta.slugs[p.s], model: p.model,
                                 x: box.left + p.px, y: box.top + p.py}));
    },
  };
}
