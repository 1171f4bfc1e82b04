/* Small DOM helpers of the views. Text from the data is only ever set with textContent — nothing here builds
 * HTML from data.
 */

/** An element with text (as text) and a class. */
export function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

/** The element with ``id`` under ``root`` (a document, an element or a shadow root). */
export function byId(root, id) {
  return root.getElementById ? root.getElementById(id) : root.querySelector('#' + id);
}

/** A colour swatch before a name. */
export function swatch(colour) {
  const sw = el('span', '', 'swatch');
  sw.style.background = colour || '#888';
  return sw;
}

/** Fill a <table> with ``rows``; ``columns``: [key, header, format?]; ``colours``: model -> colour.
 *  Rebuilt only when its text would change, so an unchanged table is not redrawn. */
export function table(tbl, columns, rows, colours, onClick) {
  const text = JSON.stringify([columns.map((c) => c[1]), rows.map((r) => columns.map((c) => (c[2] ? c[2](r[c[0]]) : r[c[0]])))]);
  if (tbl.__text === text && !onClick) return;
  tbl.__text = text;
  tbl.dataset.renders = String(Number(tbl.dataset.renders || 0) + 1);
  tbl.textContent = '';
  const head = el('thead'), tr = el('tr');
  for (const c of columns) tr.appendChild(el('th', c[1]));
  head.appendChild(tr); tbl.appendChild(head);
  const body = el('tbody');
  for (const row of rows) {
    const r = el('tr');
    for (const c of columns) {
      const v = row[c[0]], td = el('td', c[2] ? c[2](v) : v);
      if (typeof v === 'number') td.className = 'num';
      if (c[0] === 'model' && colours && colours[v]) td.insertBefore(swatch(colours[v]), td.firstChild);
      r.appendChild(td);
    }
    if (onClick) { r.className = 'clickable'; r.addEventListener('click', () => onClick(row)); }
    body.appendChild(r);
  }
  tbl.appendChild(body);
}

/** Fill a <select> with values (and labels), selecting ``current``. */
export function options(select, values, labels, current) {
  select.textContent = '';
  values.forEach((v, i) => {
    const o = el('option', labels ? labels[i] : v);
    o.value = v;
    if (v === current) o.selected = true;
    select.appendChild(o);
  });
}

/** A labelled control: <label>text <control></label>. */
export function labelled(text, control, cls) {
  const l = el('label', null, cls || 'field');
  l.appendChild(el('span', text, 'field-name'));
  l.appendChild(control);
  return l;
}

/** A canvas sized to its box at the screen's pixel ratio; returns its 2-D context in CSS pixels. */
export function sized(cv, w, h) {
  const dpr = (typeof window !== 'undefined' && window.devicePixelRatio) || 1;
  cv.style.width = w + 'px'; cv.style.height = h + 'px';
  cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
  const c = cv.getContext('2d');
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, w, h);
  return c;
}

/** Width available to a view (its container's), with a floor. */
export function widthOf(node, floor) {
  return Math.max(floor || 240, Math.floor((node && node.clientWidth) || 600));
}

/** A text download of ``text`` named ``name``. */
export function download(name, text, type) {
  const a = el('a');
  a.href = 'data:' + (type || 'text/csv') + ';charset=utf-8,' + encodeURIComponent(text);
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}
