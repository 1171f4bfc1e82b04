/* The shared file's address bar holds its view (`#clip_tau=0.55&models=a,b&ref=...`), so a collaborator can
 * send a view back. Every value is checked against the file's own names and the threshold grid; anything
 * else is ignored with a note (shown as text). DOM-free.
 */
import { tauIndex } from './kernel.js';

export const HASH_KEYS = ['clip_tau', 'clip_tau_dynamic', 'patch_tau', 'pooling', 'match', 'models', 'kinds', 'variants',
                          'kind', 'variant', 'ref', 'corr_variant'];

/** The address-bar form of a state. */
export function toHash(state) {
  return '#' + HASH_KEYS.map((k) => {
    let v = state[k];
    if (v === null || v === undefined) return null;
    if (Array.isArray(v)) return k + '=' + v.map(encodeURIComponent).join(',');   // a name may hold a comma
    if (typeof v === 'number') v = v.toFixed(2);
    return k + '=' + encodeURIComponent(v);
  }).filter(Boolean).join('&');
}

function dec(x) { try { return decodeURIComponent(x); } catch { return null; } }

/** Read an address's hash into ``state`` (a copy is returned) for data ``D``: {state, notes}. */
export function fromHash(D, hash, start) {
  const state = Object.assign({}, start), notes = [];
  const lists = {models: D.meta.models, kinds: ['static', 'dynamic'], variants: D.meta.variants};
  (hash || '').replace(/^#/, '').split('&').forEach((part) => {
    if (!part) return;
    const i = part.indexOf('='), k = dec(part.slice(0, i)), raw = part.slice(i + 1), v = dec(raw);
    if (k === null || v === null || i < 0) { notes.push('ignored a malformed part of the address'); return; }
    if (HASH_KEYS.indexOf(k) < 0) { notes.push('ignored unknown setting ' + k); return; }
    if (k === 'clip_tau' || k === 'clip_tau_dynamic' || k === 'patch_tau') {
      const x = v.trim() === '' ? NaN : Number(v);
      try { tauIndex(D, x, k); state[k] = Math.round(x * 100) / 100; } catch { notes.push('ignored ' + k + '=' + v + ' (not a 0.00–1.00 step of 0.01)'); }
    } else if (lists[k] && v === '(none)') state[k] = ['(none)'];
    else if (lists[k]) {
      const vals = raw ? raw.split(',').map(dec).filter((x) => x !== null) : [];
      const bad = vals.filter((x) => lists[k].indexOf(x) < 0);
      if (bad.length) notes.push('ignored unknown ' + k + ': ' + bad.join(', '));
      state[k] = vals.filter((x) => lists[k].indexOf(x) >= 0);
    } else if (k === 'pooling' && (v === 'recognised' || v === 'all')) state.pooling = v;
    else if (k === 'match' && (v === 'any' || v === 'same-position')) state.match = v;
    else if (k === 'kind' && ['all', 'static', 'dynamic'].indexOf(v) >= 0) state.kind = v;
    else if ((k === 'variant' || k === 'corr_variant') && D.meta.variants.indexOf(v) >= 0) state[k] = v;
    else if (k === 'ref' && D.meta.slugs.indexOf(v) >= 0) state.ref = v;
    else notes.push('ignored ' + k + '=' + v);
  });
  return {state, notes};
}
