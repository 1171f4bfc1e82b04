/* The settings every live view follows — thresholds, pooling, matching, filters — and the page's own choices
 * (which kind and prompt variant a table shows, which reference is open). One store per page; views subscribe
 * and redraw when it changes. DOM-free.
 */

/** The settings keys that define the numbers (the dashboard sends these back to Python). */
export const SETTINGS = ['clip_tau', 'clip_tau_dynamic', 'patch_tau', 'pooling', 'match', 'models', 'kinds', 'variants'];

/** A store: get(), set(partial, origin), subscribe(fn(state, changed, origin)) -> unsubscribe. */
export function makeStore(initial) {
  let state = Object.assign({}, initial);
  const subs = new Set();
  return {
    get: () => state,
    set(partial, origin) {
      const changed = [];
      for (const [k, v] of Object.entries(partial)) {
        if (JSON.stringify(state[k]) !== JSON.stringify(v)) changed.push(k);
      }
      if (!changed.length) return changed;
      state = Object.assign({}, state, partial);
      let failure = null;                       // one failing view must not leave the others behind
      for (const fn of Array.from(subs)) {
        try { fn(state, changed, origin); } catch (e) { failure = failure || e; }
      }
      if (failure) throw failure;
      return changed;
    },
    subscribe(fn) { subs.add(fn); return () => subs.delete(fn); },
  };
}

/** The numbers' parameters of a state (what the kernel's resolve() takes). */
export function params(state) {
  const p = {};
  for (const k of SETTINGS) p[k] = state[k];
  return p;
}

/** The run's starting settings: its operating point (dynamic τ as the static one when it has none), the paper's
 *  pooling and matching, no filter. */
export function startSettings(meta) {
  const op = meta.op;
  return {clip_tau: op.clip_tau, clip_tau_dynamic: op.clip_tau_dynamic === null || op.clip_tau_dynamic === undefined ? op.clip_tau : op.clip_tau_dynamic,
          patch_tau: op.patch_tau, pooling: 'recognised', match: 'any', models: [], kinds: [], variants: []};
}
