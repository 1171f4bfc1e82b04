/* Host 2: the dashboard (a Streamlit Custom Component v2, mounted several times on a page). One module serves
 * every mount, by the role Python gives it:
 *
 *   payload       the run's data as bytes, sent once per (database version, run) and session; kept here
 *   controls      the settings panel in the sidebar: moving a control moves every live view in the browser at
 *                 once; on release the values go to Python (setStateValue 'view'), which keeps the address, the
 *                 session and the Python-drawn pages in step. Python's own changes arrive with a new ``rev``.
 *   overview, thresholds, correlations   the live views, following the same settings
 *
 * A rerun that only echoes the browser's values changes nothing on screen: mounts are kept per element, and
 * a view redraws only when its numbers change.
 */
import { makeApi } from './api.js';
import { fromContainer, load, peekMeta } from './data.js';
import { makeStore, SETTINGS, startSettings } from './store.js';
import { makeControls } from './views/controls.js';
import { makeCorrelations } from './views/correlations.js';
import { el } from './views/dom.js';
import { makeOverview } from './views/overview.js';
import { makeThresholds } from './views/thresholds.js';

const VIEWS = {overview: makeOverview, thresholds: makeThresholds, correlations: makeCorrelations};
const KEEP = 2;                                   // payloads kept (another run of the same page)

function host() {
  const g = globalThis;
  if (!g.__iconicityHost) {
    g.__iconicityHost = {data: new Map(), order: [], waiting: new Map(), mounts: new WeakMap(), store: null, pid: null, revs: {}, api: null};
  }
  return g.__iconicityHost;
}

function receive(bytes) {
  const H = host(), meta = peekMeta(bytes);
  if (H.data.has(meta.pid)) return;
  const c = fromContainer(bytes);
  H.data.set(meta.pid, load(c.meta, c.blob));
  H.order.push(meta.pid);
  while (H.order.length > KEEP) H.data.delete(H.order.shift());
  for (const fn of H.waiting.get(meta.pid) || []) fn(H.data.get(meta.pid));
  H.waiting.delete(meta.pid);
}

function when(pid, fn) {
  const H = host();
  if (H.data.has(pid)) { fn(H.data.get(pid)); return; }
  if (!H.waiting.has(pid)) H.waiting.set(pid, []);
  H.waiting.get(pid).push(fn);
}

function theStore(D) {
  const H = host();
  if (!H.store) H.store = makeStore(Object.assign(startSettings(D.meta), {kind: 'all', variant: D.meta.start.variant, corr_variant: D.meta.start.variant, grid_model: null}));
  return H.store;
}

function exposeApi() {
  const H = host();
  if (!H.api) {
    H.api = makeApi(() => H.data.get(H.pid));
    H.api.state = () => JSON.parse(JSON.stringify(H.store ? H.store.get() : {}));
    H.api.views = {};
    H.api.fromPython = () => H.fromPython || 0;
    if (typeof window !== 'undefined') window.iconicityExplorer = H.api;
  }
  return H.api;
}

/** Python's values, applied when Python changed them (a new rev), never when they only echo the browser's. */
function applyFromPython(D, data) {
  const H = host(), store = theStore(D), key = data.pid + '|' + data.rev;
  if (H.revs[data.role] === key) return;                // each mount takes Python's values once per rev
  H.revs[data.role] = key;
  const next = {};
  for (const k of SETTINGS) if (data.state && k in data.state) next[k] = data.state[k];
  Object.assign(next, data.page || {});
  store.set(next, 'python');
}

function mount(component) {
  const {data, parentElement, setStateValue, setTriggerValue} = component;
  const H = host();
  H.fromPython = (H.fromPython || 0) + 1;        // how often Python's reruns reached a mount (tests wait on it)
  let inst = H.mounts.get(parentElement);
  if (inst && (inst.role !== data.role || inst.pid !== data.pid)) { inst.destroy(); inst = null; }
  if (!inst) {
    inst = {role: data.role, pid: data.pid, parts: [], destroy() { for (const p of this.parts) p.unsubscribe && p.unsubscribe(); this.box.remove(); H.mounts.delete(parentElement); }};
    inst.box = el('div', null, 'ix-' + data.role);
    parentElement.appendChild(inst.box);
    inst.box.appendChild(el('p', data.waiting || '…', 'muted waiting'));
    H.mounts.set(parentElement, inst);
    when(data.pid, (D) => {
      if (H.mounts.get(parentElement) !== inst) return;
      inst.box.textContent = '';
      H.pid = data.pid;
      const api = exposeApi(), store = theStore(D);
      applyFromPython(D, data);
      if (data.role === 'controls') {
        inst.parts.push(makeControls(inst.box, D, store, (s) => {
          const v = {};
          for (const k of SETTINGS) v[k] = s[k];
          inst.set('view', v);
        }));
      } else {
        const make = VIEWS[data.role];
        const onPick = (s) => inst.trigger('open_ref', D.meta.slugs[s]);
        const onPage = (kind, variant) => inst.set('page', {kind, variant});
        const view = make(inst.box, D, store, onPick, onPage);
        inst.parts.push(view);
        if (view.plane) api.planePoints = () => view.plane.clientPoints();
        if (data.role === 'correlations') {
          inst.parts.push({unsubscribe: store.subscribe((st, changed) => {
            if (changed.indexOf('corr_variant') >= 0) inst.set('page', {corr_variant: st.corr_variant});
          })});
        }
        api.views[data.role] = true;
      }
      api.isReady = true;
      if (typeof document !== 'undefined') document.documentElement.setAttribute('data-ready', '1');
    });
  }
  inst.set = setStateValue;
  inst.trigger = setTriggerValue;
  if (H.data.has(data.pid)) applyFromPython(H.data.get(data.pid), data);
  return () => inst.destroy();
}

/** Streamlit calls this for every mount and every rerun that changes a mount's data. */
export default function iconicity(component) {
  const {data, setTriggerValue} = component;
  if (data instanceof Uint8Array) { receive(data); return undefined; }
  if (!data || typeof data !== 'object') return undefined;
  if (data.role === 'payload') {                  // Python believes the bytes were sent: ask again if they were not
    if (!host().data.has(data.pid)) setTriggerValue('missing', data.pid);
    return undefined;
  }
  return mount(component);
}
