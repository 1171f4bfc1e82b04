/* Host 1: the shared HTML file (`iconicity share`). Everything is computed here, offline, from the data block
 * the file carries; the address bar holds the view. The page checks itself against the Python tables it
 * carries and says so in a badge; anything it cannot read or compute shows as "this file is damaged".
 */
import { disagreement, makeApi } from './api.js';
import { fromBase64, load } from './data.js';
import { toHash, fromHash } from './hash.js';
import { modelRows, publicRows, resolve } from './kernel.js';
import { makeStore, startSettings } from './store.js';
import { makeControls } from './views/controls.js';
import { makeCorrelations } from './views/correlations.js';
import { byId, el, table } from './views/dom.js';
import { makeOverview } from './views/overview.js';
import { makeReference } from './views/reference.js';
import { makeThresholds } from './views/thresholds.js';

function damaged(err) {
  const box = byId(document, 'damaged');
  if (box) {
    box.hidden = false;
    box.textContent = (box.dataset.text || 'This file is damaged: ') + String((err && err.message) || err);
  }
  const badge = byId(document, 'badge');
  if (badge) { badge.textContent = '⚠ damaged'; badge.className = 'badge bad'; }
  document.documentElement.setAttribute('data-damaged', '1');
}

function start() {
  let D = null;
  const api = makeApi(() => D);
  window.iconicityExplorer = api;
  window.addEventListener('error', (e) => {         // a resize notification deferred by the browser is not damage
    if (!e.error && /ResizeObserver loop/.test(String(e.message))) return;
    damaged(e.error || e.message);
  });
  window.addEventListener('unhandledrejection', (e) => damaged(e.reason));
  api.ready = new Promise((done) => {
    const go = () => {
      try {
        const meta = JSON.parse(byId(document, 'iconicity-data').textContent);
        D = load(meta, fromBase64(meta.blob));
        setup(D, api);
        api.readyMs = performance.now(); api.isReady = true;
        document.documentElement.setAttribute('data-ready', '1');
        done(true);
      } catch (e) { damaged(e); done(false); }
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go); else go();
  });
}

function setup(D, api) {
  const meta = D.meta, s = meta.start;
  const first = Object.assign(startSettings(meta), {clip_tau: s.clip_tau, clip_tau_dynamic: s.clip_tau_dynamic, patch_tau: s.patch_tau,
    pooling: s.pooling, match: s.match, models: s.models.slice(), kinds: s.kinds.slice(), variants: s.variants.slice(),
    kind: s.kind, variant: s.variant, ref: s.ref || null, corr_variant: s.variant, grid_model: null});
  byId(document, 'title').textContent = meta.title;
  byId(document, 'subtitle').textContent = meta.subtitle;
  const notes = byId(document, 'notes'), parsed = fromHash(D, location.hash, first);
  notes.textContent = parsed.notes.join(' · ');
  const store = makeStore(parsed.state);
  api.state = () => JSON.parse(JSON.stringify(store.get()));
  api.run = meta.run; api.grid = meta.grid.taus;
  // the self-check: every table the file carries (every model at the starting thresholds, and the starting view)
  let problem = null;
  for (const check of meta.python.checks) {
    problem = problem || disagreement(publicRows(modelRows(D, resolve(D, check.params))), check.rows);
  }
  const badge = byId(document, 'badge');
  badge.textContent = problem ? meta.text.share.badge_bad + problem : meta.text.share.badge_good;
  badge.className = problem ? 'badge bad' : 'badge good';

  makeControls(byId(document, 'controls-box'), D, store, null, {filtersOpen: true});
  const tools = el('div', null, 'tools'), reset = el('button', meta.text.share.reset);
  reset.type = 'button'; reset.id = 'reset';
  tools.append(reset, el('span', meta.text.share.address, 'muted'));
  byId(document, 'controls-box').appendChild(tools);
  reset.addEventListener('click', () => { history.replaceState(null, '', '#'); notes.textContent = ''; store.set(first, 'reset'); });
  const main = byId(document, 'app');
  const overview = makeOverview(main, D, store, (slugIndex) => {
    store.set({ref: meta.slugs[slugIndex]}, 'input');
    const ref = byId(document, 'reference');
    if (ref && ref.scrollIntoView) ref.scrollIntoView({behavior: 'smooth'});
  });
  api.planePoints = () => overview.plane.clientPoints();
  main.appendChild(el('h2', meta.text.share.thresholds_heading));
  makeThresholds(main, D, store);
  main.appendChild(el('h2', meta.text.share.correlations_heading));
  makeCorrelations(main, D, store);
  makeReference(main, D, store);
  const prov = el('details'), pt = el('table');
  pt.id = 'provenance';
  prov.append(el('summary', meta.text.share.provenance), pt);
  table(pt, [['k', meta.text.share.what], ['v', meta.text.share.value]], meta.provenance.map((p) => ({k: p[0], v: p[1]})));
  main.appendChild(prov);
  // the address follows the view a moment after it settles: browsers limit how often a page may change it
  // (Safari: 100 times in 30 s, then an error), and a drag fires dozens of moves
  let hashLater = 0;
  const writeHash = () => {
    const h = toHash(store.get());
    if (location.hash !== h) try { history.replaceState(null, '', h); } catch { /* limited: the next change writes it */ }
  };
  store.subscribe(() => { clearTimeout(hashLater); hashLater = setTimeout(writeHash, 250); });
  window.addEventListener('hashchange', () => {
    if (location.hash === toHash(store.get())) return;
    const next = fromHash(D, location.hash, first);
    notes.textContent = next.notes.join(' · ');
    store.set(next.state, 'hash');
  });
  history.replaceState(null, '', toHash(store.get()));
}

start();
