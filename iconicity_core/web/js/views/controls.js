/* The settings panel, the same in both hosts: range inputs #clip-tau, #clip-tau-dynamic, #patch-tau, selects
 * #pooling and #match, and the model / kind / prompt-variant filters. Moving a control sets the store at once
 * (every live view follows in the browser); releasing it calls onCommit(state) — the dashboard then tells
 * Python, which keeps the address and the other pages in step.
 */
import { el, labelled } from './dom.js';
import { SETTINGS } from '../store.js';

function slider(id, words) {
  const input = el('input');
  input.type = 'range'; input.id = id; input.min = '0'; input.max = '1'; input.step = '0.01';
  const out = el('output', '', 'value');
  out.id = id + '-out';
  const l = el('label', null, 'slider');
  const top = el('span', null, 'slider-head');
  top.append(el('span', words.label, 'field-name'), out);
  l.append(top, input);
  if (words.help) l.title = words.help;
  return {l, input, out};
}

function select(id, values, labels) {
  const s = el('select');
  s.id = id;
  values.forEach((v, i) => { const o = el('option', labels[i]); o.value = v; s.appendChild(o); });
  return s;
}

function checkboxes(id, legend, names, colours) {
  const box = el('fieldset', null, 'filter');
  box.id = id;
  box.appendChild(el('legend', legend));
  for (const name of names) {
    const l = el('label', null, 'check'), c = el('input');
    c.type = 'checkbox'; c.value = name; c.checked = true;
    l.appendChild(c);
    if (colours && colours[name]) { const sw = el('span', '', 'swatch'); sw.style.background = colours[name]; l.appendChild(sw); }
    l.appendChild(document.createTextNode(name));
    box.appendChild(l);
  }
  return box;
}

function checkedOf(box) {                        // all checked: no filter; none: nothing passes
  const all = box.querySelectorAll('input'), on = [];
  all.forEach((c) => { if (c.checked) on.push(c.value); });
  return on.length === all.length ? [] : (on.length ? on : ['(none)']);
}

/** Build the panel in ``box`` for data ``D``; ``store`` holds the settings; ``onCommit(state)`` on release;
 *  ``opts.filtersOpen``: show the filters unfolded (the shared file has the room). */
export function makeControls(box, D, store, onCommit, opts) {
  const W = D.meta.text.controls, sym = D.meta.text.symbol;
  const panel = el('section', null, 'controls');
  panel.id = 'controls';
  panel.setAttribute('aria-label', W.aria);
  const s1 = slider('clip-tau', W.clip_tau), s2 = slider('clip-tau-dynamic', W.clip_tau_dynamic), s3 = slider('patch-tau', W.patch_tau);
  const pooling = select('pooling', ['recognised', 'all'], W.pooling.options);
  const match = select('match', ['any', 'same-position'], W.match.options);
  if (!D.A.same) match.querySelector('option[value="same-position"]').disabled = true;
  const models = checkboxes('models', W.models, D.meta.models, D.meta.colours);
  const kinds = checkboxes('kinds', W.kinds, ['static', 'dynamic']);
  const variants = checkboxes('variants', W.variants, D.meta.variants);
  const filters = el('details', null, 'filters');
  filters.appendChild(el('summary', W.filters));
  filters.open = Boolean(opts && opts.filtersOpen);
  filters.append(models, kinds, variants);
  panel.append(s1.l, s2.l, s3.l, labelled(W.pooling.label, pooling), labelled(W.match.label, match), filters);
  box.appendChild(panel);

  const sliders = {clip_tau: s1, clip_tau_dynamic: s2, patch_tau: s3};
  function read() {
    return {clip_tau: Number(s1.input.value), clip_tau_dynamic: Number(s2.input.value), patch_tau: Number(s3.input.value),
            pooling: pooling.value, match: match.value, models: checkedOf(models), kinds: checkedOf(kinds), variants: checkedOf(variants)};
  }
  function show(state) {
    for (const [k, s] of Object.entries(sliders)) {
      const v = Number(state[k]).toFixed(2);
      if (s.input.value !== v && !s.dragging) s.input.value = v;     // not under the user's finger
      s.out.textContent = sym + ' ' + v;
    }
    pooling.value = state.pooling; match.value = state.match;
    for (const [name, fs] of [['models', models], ['kinds', kinds], ['variants', variants]]) {
      const chosen = state[name] || [];
      fs.querySelectorAll('input').forEach((c) => { c.checked = !chosen.length || chosen.indexOf(c.value) >= 0; });
    }
    const n = ['models', 'kinds', 'variants'].filter((k) => (state[k] || []).length).length;
    filters.querySelector('summary').textContent = W.filters + (n ? ' (' + n + ' on)' : '');
  }
  function commit() { if (onCommit) onCommit(store.get()); }
  for (const s of Object.values(sliders)) {
    s.input.addEventListener('pointerdown', () => { s.dragging = true; });
    for (const end of ['pointerup', 'pointercancel']) s.input.addEventListener(end, () => { s.dragging = false; });
    s.input.addEventListener('input', () => { store.set(read(), 'input'); });
    s.input.addEventListener('change', () => { s.dragging = false; store.set(read(), 'input'); commit(); });
  }
  for (const c of [pooling, match]) c.addEventListener('change', () => { store.set(read(), 'input'); commit(); });
  for (const fs of [models, kinds, variants]) {
    fs.addEventListener('change', (ev) => {
      if (!fs.querySelector('input:checked')) ev.target.checked = true;      // a filter keeps at least one name
      store.set(read(), 'input'); commit();
    });
  }
  const unsubscribe = store.subscribe((state, changed) => { if (changed.some((k) => SETTINGS.indexOf(k) >= 0)) show(state); });
  show(store.get());
  return {element: panel, show, unsubscribe};
}
