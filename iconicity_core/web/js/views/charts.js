/* Charts on a canvas, drawn by the views in both hosts: lines (CRA vs τ, VR vs patch τ), a heat map (CRT over
 * the threshold grid, ranking stability) and grouped bars (per-model means). No charting library: the
 * dashboard's component cannot load Plotly, and these redraw in a few milliseconds. Labels are drawn as text.
 */
import { el, sized, swatch, widthOf } from './dom.js';

const FONT = '11px system-ui, sans-serif';

function axes(c, g, xTitle, yTitle, xTicks, yTicks, xFmt, yFmt) {
  c.font = FONT; c.fillStyle = '#59636e'; c.strokeStyle = '#e6e9ed'; c.lineWidth = 1;
  for (const t of xTicks) {
    c.beginPath(); c.moveTo(g.x(t), g.top); c.lineTo(g.x(t), g.bottom); c.stroke();
    c.textAlign = 'center'; c.fillText(xFmt(t), g.x(t), g.bottom + 14);
  }
  for (const t of yTicks) {
    c.beginPath(); c.moveTo(g.left, g.y(t)); c.lineTo(g.right, g.y(t)); c.stroke();
    c.textAlign = 'right'; c.fillText(yFmt(t), g.left - 6, g.y(t) + 4);
  }
  c.fillStyle = '#1f2328'; c.font = '12px system-ui, sans-serif'; c.textAlign = 'center';
  c.fillText(xTitle, (g.left + g.right) / 2, g.bottom + 32);
  c.save(); c.translate(13, (g.top + g.bottom) / 2); c.rotate(-Math.PI / 2); c.fillText(yTitle, 0, 0); c.restore();
}

const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** A line chart with one line per model and a dotted mark at the current threshold; y from 0 to 1 (or to ``yMax``,
 *  with ticks as percentages, for shares that stay small). */
export function makeLines(box, colours, words) {
  const wrap = el('div', null, 'chart'), head = el('div', words.title, 'plot-title'), cv = el('canvas');
  const tip = el('div', '', 'tip'), legend = el('div', null, 'legend');
  cv.setAttribute('role', 'img'); cv.setAttribute('aria-label', words.title);
  wrap.append(head, cv, tip, legend);
  box.appendChild(wrap);
  let state = null, g = null, w = 0;
  const H = 260;
  cv.addEventListener('mousemove', (ev) => {
    if (!state || !g) return;
    const t = Math.min(1, Math.max(0, (ev.offsetX - g.left) / (g.right - g.left)));
    let j = 0;
    state.taus.forEach((x, k) => { if (Math.abs(x - t) < Math.abs(state.taus[j] - t)) j = k; });
    const parts = Object.keys(state.lines).map((m) => m + ' ' + (state.lines[m][j] === null || isNaN(state.lines[m][j]) ? '–' : state.yFmt(state.lines[m][j])));
    tip.textContent = words.x + ' ' + state.taus[j].toFixed(2) + ': ' + parts.join(' · ');
    tip.style.display = 'block'; tip.style.left = Math.min(ev.offsetX + 12, w - 260) + 'px'; tip.style.top = (ev.offsetY + 22) + 'px';
  });
  cv.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  function paint() {
    if (!state) return;
    cv.dataset.paints = String(Number(cv.dataset.paints || 0) + 1);
    w = widthOf(wrap, 240);
    const c = sized(cv, w, H), top = state.yMax;
    g = {left: 52, right: w - 12, top: 8, bottom: H - 42};
    g.x = (v) => g.left + v * (g.right - g.left); g.y = (v) => g.bottom - v / top * (g.bottom - g.top);
    const yTicks = [0, 1, 2, 3, 4, 5].map((k) => (top / 1.02) * k / 5);
    axes(c, g, words.x, words.y, TICKS, yTicks, (t) => t.toFixed(1), state.yFmt);
    c.lineWidth = 2;
    for (const [model, ys] of Object.entries(state.lines)) {
      c.strokeStyle = colours[model] || '#444'; c.beginPath();
      let on = false;
      ys.forEach((y, j) => {
        if (y === null || isNaN(y)) { on = false; return; }
        const X = g.x(state.taus[j]), Y = g.y(y);
        if (on) c.lineTo(X, Y); else { c.moveTo(X, Y); on = true; }
      });
      c.stroke();
    }
    c.setLineDash([3, 3]); c.strokeStyle = '#888'; c.lineWidth = 1;
    c.beginPath(); c.moveTo(g.x(state.at), g.top); c.lineTo(g.x(state.at), g.bottom); c.stroke(); c.setLineDash([]);
  }
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => requestAnimationFrame(() => { if (widthOf(wrap, 240) !== w) paint(); })).observe(wrap);
  return {
    element: wrap,
    /** Lines at x = taus[j]; the mark at ``at``; ``yMax``: the top of the y axis ('auto': the highest point). */
    draw(taus, lines, at, yMax) {
      const same = state && state.lines === lines;
      let top = 1.02, yFmt = (v) => v.toFixed(1);
      if (yMax === 'auto') {
        let hi = 0;
        for (const ys of Object.values(lines)) for (const y of ys) if (y > hi) hi = y;
        top = (hi || 1) * 1.05;
        yFmt = (v) => (v * 100).toFixed(top < 0.05 ? 1 : 0) + '%';
      }
      state = {taus, lines, at, yMax: top, yFmt};
      if (!same) {
        legend.textContent = '';
        for (const m of Object.keys(lines)) { const item = el('span', m); item.insertBefore(swatch(colours[m]), item.firstChild); legend.appendChild(item); }
      }
      paint();
    },
  };
}

function lerp(a, b, t) { return Math.round(a + (b - a) * t); }
function ramp(stops, t) {                        // colour at t in [0, 1] along stops ([r, g, b] ...)
  if (!(t >= 0)) t = 0; if (t > 1) t = 1;
  const x = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  return 'rgb(' + [0, 1, 2].map((k) => lerp(stops[i][k], stops[i + 1][k], f)).join(',') + ')';
}
/** Colour scales: viridis for 0..1, red-blue for -1..1. */
export const SCALES = {
  viridis: [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
  rdbu: [[178, 24, 43], [239, 138, 98], [247, 247, 247], [103, 169, 207], [33, 102, 172]],
};

/** A heat map: values[i][j] at (x = xs[j], y = ys[i]); a colour bar with its label beside (never over) its ticks. */
export function makeHeatmap(box, words) {
  const wrap = el('div', null, 'chart'), head = el('div', words.title, 'plot-title'), cv = el('canvas'), tip = el('div', '', 'tip');
  cv.setAttribute('role', 'img'); cv.setAttribute('aria-label', words.title);
  wrap.append(head, cv, tip);
  box.appendChild(wrap);
  let state = null, g = null, w = 0;
  const H = 300;
  cv.addEventListener('mousemove', (ev) => {
    if (!state || !g) return;
    const j = Math.floor((ev.offsetX - g.left) / g.cw), i = state.ys.length - 1 - Math.floor((ev.offsetY - g.top) / g.ch);
    if (j < 0 || i < 0 || j >= state.xs.length || i >= state.ys.length) { tip.style.display = 'none'; return; }
    const v = state.values[i][j];
    tip.textContent = words.y + ' ' + state.ys[i].toFixed(2) + ' · ' + words.x + ' ' + state.xs[j].toFixed(2) + ': ' +
      words.value + ' ' + (v === null || isNaN(v) ? 'undefined' : v.toFixed(3));
    tip.style.display = 'block'; tip.style.left = Math.min(ev.offsetX + 12, w - 240) + 'px'; tip.style.top = (ev.offsetY + 22) + 'px';
  });
  cv.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  function paint() {
    if (!state) return;
    cv.dataset.paints = String(Number(cv.dataset.paints || 0) + 1);
    w = widthOf(wrap, 260);
    const c = sized(cv, w, H), nx = state.xs.length, ny = state.ys.length;
    g = {left: 48, top: 8, right: w - 92, bottom: H - 42};
    g.cw = (g.right - g.left) / nx; g.ch = (g.bottom - g.top) / ny;
    const [lo, hi] = state.range;
    for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) {
      const v = state.values[i][j];
      c.fillStyle = v === null || isNaN(v) ? '#f3f4f6' : ramp(SCALES[state.scale], (v - lo) / (hi - lo));
      c.fillRect(g.left + j * g.cw, g.top + (ny - 1 - i) * g.ch, Math.ceil(g.cw), Math.ceil(g.ch));
    }
    c.font = FONT; c.fillStyle = '#59636e';
    const every = Math.max(1, Math.ceil(nx / 6));
    c.textAlign = 'center';
    state.xs.forEach((x, j) => { if (j % every === 0 || j === nx - 1) c.fillText(x.toFixed(2), g.left + (j + 0.5) * g.cw, g.bottom + 14); });
    c.textAlign = 'right';
    const everyY = Math.max(1, Math.ceil(ny / 6));
    state.ys.forEach((y, i) => { if (i % everyY === 0 || i === ny - 1) c.fillText(y.toFixed(2), g.left - 6, g.top + (ny - 0.5 - i) * g.ch + 4); });
    c.fillStyle = '#1f2328'; c.font = '12px system-ui, sans-serif'; c.textAlign = 'center';
    c.fillText(words.x, (g.left + g.right) / 2, g.bottom + 32);
    c.save(); c.translate(13, (g.top + g.bottom) / 2); c.rotate(-Math.PI / 2); c.fillText(words.y, 0, 0); c.restore();
    // the colour bar: ticks on its right, its label above it (never over a tick)
    const bx = g.right + 14, bw = 12;
    for (let k = 0; k < 100; k++) {
      c.fillStyle = ramp(SCALES[state.scale], 1 - k / 99);
      c.fillRect(bx, g.top + 14 + k * (g.bottom - g.top - 14) / 100, bw, Math.ceil((g.bottom - g.top - 14) / 100));
    }
    c.font = FONT; c.fillStyle = '#59636e'; c.textAlign = 'left';
    [0, 0.5, 1].forEach((f) => c.fillText((lo + (hi - lo) * (1 - f)).toFixed(1), bx + bw + 4, g.top + 14 + f * (g.bottom - g.top - 14) + 4));
    c.fillStyle = '#1f2328'; c.fillText(words.value, bx - 2, g.top + 6);
  }
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => requestAnimationFrame(() => { if (widthOf(wrap, 260) !== w) paint(); })).observe(wrap);
  return {
    element: wrap,
    /** ``values[i][j]`` at (xs[j], ys[i]); ``range`` [lo, hi]; ``scale`` 'viridis' or 'rdbu'. */
    draw(xs, ys, values, range, scale, title) {
      state = {xs, ys, values, range, scale};
      if (title) head.textContent = title;
      paint();
    },
  };
}

/** Grouped bars: one panel per facet, one group of bars per short label (a metric), one bar per series (a model,
 *  in its colour; the legend names them), values in 0..1. Labels are short, so nothing needs cutting. */
export function makeBars(box, words) {
  const wrap = el('div', null, 'chart'), head = el('div', words.title, 'plot-title'), cv = el('canvas'), legend = el('div', null, 'legend');
  cv.setAttribute('role', 'img'); cv.setAttribute('aria-label', words.title);
  wrap.append(head, cv, legend);
  box.appendChild(wrap);
  let state = null, w = 0, legendKey = null;
  const H = 250;
  function paint() {
    if (!state) return;
    cv.dataset.paints = String(Number(cv.dataset.paints || 0) + 1);
    w = widthOf(wrap, 260);
    const c = sized(cv, w, H), facets = state.facets, nf = Math.max(1, facets.length), gap = 18;
    const left = 36, top = 22, bottom = H - 24, pw = (w - left - 8 - gap * (nf - 1)) / nf;
    const y = (v) => bottom - v * (bottom - top);
    c.font = FONT; c.fillStyle = '#59636e'; c.strokeStyle = '#e6e9ed'; c.textAlign = 'right';
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      c.beginPath(); c.moveTo(left, y(t)); c.lineTo(w - 8, y(t)); c.stroke();
      c.fillText(t.toFixed(2), left - 4, y(t) + 4);
    }
    facets.forEach((f, fi) => {
      const x0 = left + fi * (pw + gap), ng = Math.max(1, f.groups.length), gw = pw / ng;
      c.fillStyle = '#1f2328'; c.textAlign = 'center'; c.font = '12px system-ui, sans-serif';
      c.fillText(fitText(c, f.name, pw), x0 + pw / 2, 12);
      c.font = FONT;
      f.groups.forEach((g, gi) => {
        const nb = Math.max(1, g.bars.length), bw = Math.max(1.5, (gw - 6) / nb);
        g.bars.forEach((b, bi) => {
          if (b.value === null || isNaN(b.value)) return;
          c.fillStyle = state.colours[b.key] || '#888';
          c.fillRect(x0 + gi * gw + 3 + bi * bw, y(b.value), Math.max(1, bw - 1), bottom - y(b.value));
        });
        c.fillStyle = '#59636e'; c.textAlign = 'center';
        c.fillText(g.label, x0 + (gi + 0.5) * gw, bottom + 14);
      });
    });
  }
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => requestAnimationFrame(() => { if (widthOf(wrap, 260) !== w) paint(); })).observe(wrap);
  return {
    element: wrap,
    /** ``facets``: [{name, groups: [{label, bars: [{key, value}]}]}]; ``colours``: key -> colour (the legend). */
    draw(facets, colours) {
      state = {facets, colours};
      const keys = [];
      for (const f of facets) for (const g of f.groups) for (const b of g.bars) if (keys.indexOf(b.key) < 0) keys.push(b.key);
      if (keys.join('\n') !== legendKey) {
        legendKey = keys.join('\n');
        legend.textContent = '';
        for (const k of keys) { const item = el('span', k); item.insertBefore(swatch(colours[k]), item.firstChild); legend.appendChild(item); }
      }
      paint();
    },
  };
}

/** ``text`` shortened with an ellipsis to fit ``width`` pixels in the context's font. */
export function fitText(c, text, width) {
  let s = String(text);
  if (c.measureText(s).width <= width) return s;
  while (s.length > 1 && c.measureText(s + '…').width > width) s = s.slice(0, -1);
  return s + '…';
}
